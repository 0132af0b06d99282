"""Lesson ``derivatives``: three (four) ways to get f′ — by hand, numerically, automatically, symbolically.

For each activation, in float64, at points of [−3, 3] at least 0.05 away from
every kink:

* the **analytic** f′ written in the registry (the reference);
* **autograd** (PyTorch's reverse mode) — its largest difference from the analytic f′;
* **finite differences** against the step h = 10⁻¹⁶ … 10⁻¹: forward
  (f(x + h) − f(x))/h and central (f(x + h) − f(x − h))/(2h).  Their error is
  truncation (∝ h for forward, h² for central) plus rounding (∝ ε/h): a U-shaped
  curve whose bottom is near √ε ≈ 1.5·10⁻⁸ (forward) and ∛ε ≈ 6·10⁻⁶ (central);
* **sympy**: a symbolic expression of f (kept here, :data:`SYMPY`, keyed by the
  registry's name) differentiated by sympy and evaluated with mpmath — compared
  with the analytic f′.  Entries without an expression are skipped, and said so.

At each kink: the forward, backward and central quotients at h = 10⁻⁶ against
the registry's f′ there (PyTorch's convention) and autograd's value.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from actviz.core.registry import params_json
from actviz.lessons.result import LessonResult, check_seeds, one_thread, colors, new_figure, resolve_activations

NAME = "derivatives"
DEFAULT_ACTIVATIONS = ("sigmoid", "tanh", "gelu", "softplus", "relu")
EPS = 2.0 ** -52
HS = tuple(10.0 ** (-16 + 0.25 * i) for i in range(61))  # 1e-16 … 1e-1, four per decade
KINK_H = 1e-6


def _sympy_table() -> dict[str, Callable[[Any, Any, dict[str, Any]], Any]]:
    """name → (sympy, x, params) → a sympy expression of f.  Piecewise forms, so sympy's f′ is plain."""

    def pw(sp: Any, x: Any, neg: Any, pos: Any) -> Any:
        return sp.Piecewise((neg, x < 0), (pos, True))

    def clip(sp: Any, x: Any, e: Any, lo: Any, hi: Any, a: float, b: float) -> Any:
        return sp.Piecewise((lo, x < a), (hi, x > b), (e, True))

    lam = 1.0507009873554804934193349852946  # SELU's constants, as in the registry
    alpha = 1.6732632423543772848170429916717
    return {
        "identity": lambda sp, x, p: x,
        "sigmoid": lambda sp, x, p: 1 / (1 + sp.exp(-x)),
        "tanh": lambda sp, x, p: sp.tanh(x),
        "relu": lambda sp, x, p: pw(sp, x, 0, x),
        "leaky_relu": lambda sp, x, p: pw(sp, x, sp.Float(p["negative_slope"]) * x, x),
        "prelu": lambda sp, x, p: pw(sp, x, sp.Float(p["a"]) * x, x),
        "elu": lambda sp, x, p: pw(sp, x, sp.Float(p["alpha"]) * (sp.exp(x) - 1), x),
        "selu": lambda sp, x, p: pw(sp, x, sp.Float(lam) * sp.Float(alpha) * (sp.exp(x) - 1), sp.Float(lam) * x),
        "softplus": lambda sp, x, p: sp.log(1 + sp.exp(sp.Float(p["beta"]) * x)) / sp.Float(p["beta"]),
        "swish": lambda sp, x, p: x / (1 + sp.exp(-sp.Float(p["beta"]) * x)),
        "gelu": lambda sp, x, p: (x / 2 * (1 + sp.erf(x / sp.sqrt(2))) if p["approximate"] == "none" else
                                  x / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (x + sp.Float(0.044715) * x ** 3)))),
        "mish": lambda sp, x, p: x * sp.tanh(sp.log(1 + sp.exp(x))),
        "softsign": lambda sp, x, p: x / (1 + sp.Abs(x)),
        "hard_tanh": lambda sp, x, p: clip(sp, x, x, -1, 1, -1, 1),
        "hard_sigmoid": lambda sp, x, p: clip(sp, x, x / 6 + sp.Rational(1, 2), 0, 1, -3, 3),
        "hard_logistic": lambda sp, x, p: clip(sp, x, x / 4 + sp.Rational(1, 2), 0, 1, -2, 2),
        "relu6": lambda sp, x, p: clip(sp, x, x, 0, 6, 0, 6),
        "hard_swish": lambda sp, x, p: clip(sp, x, x * (x + 3) / 6, 0, x, -3, 3),
        "step": lambda sp, x, p: pw(sp, x, 0, 1),
    }


#: the activations with a sympy expression of f (maxout and user-registered ones have none)
SYMPY_NAMES = tuple(sorted(_sympy_table()))


def sympy_derivative(act: Any) -> tuple[str, str, Callable[[float], float]] | None:
    """(f as text, f′ as text, f′ as a function of a float) from sympy, or None without an expression."""
    table = _sympy_table()
    if act.name not in table:
        return None
    import mpmath
    import sympy as sp

    x = sp.Symbol("x", real=True)
    f = table[act.name](sp, x, dict(act.params))
    df = sp.simplify(sp.diff(f, x)) if act.name not in ("gelu", "mish", "swish") else sp.diff(f, x)
    fn = sp.lambdify(x, df, modules="mpmath")
    mpmath.mp.dps = 30

    def value(v: float) -> float:
        return float(fn(mpmath.mpf(v)))

    return str(f), str(df), value


def _points(act: Any) -> list[float]:
    kinks = [float(k.x) for k in act.kinks]
    xs = [-3 + 6 * (i + 0.5) / 24 + 0.013 for i in range(24)]  # off the round numbers kinks sit on
    return [x for x in xs if all(abs(x - k) >= 0.05 for k in kinks)]


def _measure(act: Any) -> dict[str, Any]:
    import torch

    from actviz.facts.audit import autograd_derivative

    xs = _points(act)
    x = torch.tensor(xs, dtype=torch.float64)
    with torch.no_grad():
        d = act.derivative(x)
        f0 = act.forward(x)
    ad = torch.as_tensor(autograd_derivative(act, x))
    scale = d.abs().clamp_min(1.0)
    fwd_err, cen_err, fwd_max, cen_max = [], [], [], []
    with torch.no_grad():
        for h in HS:
            fp, fm = act.forward(x + h), act.forward(x - h)
            ef = ((fp - f0) / h - d).abs() / scale
            ec = ((fp - fm) / (2 * h) - d).abs() / scale
            fwd_err.append(float(ef.mean()))
            cen_err.append(float(ec.mean()))
            fwd_max.append(float(ef.max()))
            cen_max.append(float(ec.max()))
    best_f = min(range(len(HS)), key=lambda i: fwd_err[i])
    best_c = min(range(len(HS)), key=lambda i: cen_err[i])
    out: dict[str, Any] = {
        "activation": act.label, "name": act.name, "params": params_json(act),
        "points": len(xs), "h": list(HS),
        "forward_error": fwd_err, "central_error": cen_err, "forward_error_max": fwd_max, "central_error_max": cen_max,
        "best_h_forward": HS[best_f], "best_error_forward": fwd_err[best_f],
        "best_h_central": HS[best_c], "best_error_central": cen_err[best_c],
        "autograd_max_error": float((ad - d).abs().max()),
    }
    sym = sympy_derivative(act)
    if sym is None:
        out["sympy"] = None
    else:
        ftext, dftext, value = sym
        diffs = [abs(value(v) - float(dv)) for v, dv in zip(xs, d.tolist())]
        out["sympy"] = {"f": ftext, "derivative": dftext, "max_difference": max(diffs)}
    kinks = []
    for k in act.kinks:
        x0 = torch.tensor([float(k.x)], dtype=torch.float64)
        with torch.no_grad():
            f_0 = float(act.forward(x0))
            fp = float(act.forward(x0 + KINK_H))
            fm = float(act.forward(x0 - KINK_H))
            analytic = float(act.derivative(x0))
        kinks.append({
            "x": float(k.x), "registry": analytic, "autograd": float(autograd_derivative(act, x0)[0]),
            "forward": (fp - f_0) / KINK_H, "backward": (f_0 - fm) / KINK_H, "central": (fp - fm) / (2 * KINK_H),
            "h": KINK_H,
            # the quotients at the kink against h, for the picture
            "series": {name: [q(act, float(k.x), h) for h in HS[20:]] for name, q in _QUOTIENTS.items()},
            "series_h": list(HS[20:]),
        })
    out["kinks"] = kinks
    return out


def _q(act: Any, x: float, a: float, b: float, h: float) -> float:
    import torch

    t = torch.tensor([x + a * h, x + b * h], dtype=torch.float64)
    with torch.no_grad():
        v = act.forward(t)
    return float((v[0] - v[1]) / ((a - b) * h))


_QUOTIENTS = {
    "forward": lambda act, x, h: _q(act, x, 1, 0, h),
    "backward": lambda act, x, h: _q(act, x, 0, -1, h),
    "central": lambda act, x, h: _q(act, x, 1, -1, h),
}


def run(*, activations: Sequence[Any] | None = None, seeds: int | None = None) -> LessonResult:
    """Measure the derivatives lesson (deterministic: ``seeds`` must be None)."""
    t0 = time.perf_counter()
    check_seeds(seeds, lesson=NAME)
    acts = resolve_activations(activations, DEFAULT_ACTIVATIONS)
    with one_thread():  # tiny tensors: threads only add waiting
        per = [_measure(a) for a in acts]
    data = {"eps": EPS, "sqrt_eps": math.sqrt(EPS), "cbrt_eps": EPS ** (1 / 3), "activations": per,
            "interval": [-3, 3], "kink_h": KINK_H}
    rows = []
    for e in per:
        rows.append([e["activation"], f"{e['best_h_forward']:.0e}", f"{e['best_error_forward']:.1e}",
                     f"{e['best_h_central']:.0e}", f"{e['best_error_central']:.1e}", f"{e['autograd_max_error']:.0e}",
                     "—" if e["sympy"] is None else f"{e['sympy']['max_difference']:.0e}"])
    return LessonResult(
        name=NAME,
        title="derivatives — analytic f′ against autograd, finite differences and sympy (float64)",
        options={"activations": [a.label for a in acts]},
        columns=["activation", "forward: best h", "error", "central: best h", "error", "autograd", "sympy"],
        rows=rows,
        notes=_notes(data),
        data=data,
        seconds=time.perf_counter() - t0,
        caption="error: mean over the points of |quotient − f′| / max(1, |f′|) at the best h; autograd, sympy: "
        "largest |difference from the analytic f′| at the points (away from kinks). √ε = "
        f"{math.sqrt(EPS):.1e}, ∛ε = {EPS ** (1 / 3):.1e}",
    )


def _notes(d: dict[str, Any]) -> list[str]:
    per = d["activations"]
    notes = []
    # piecewise linear (or constant) between kinks: the quotients have no truncation error, the best h is the
    # largest one or the error is at rounding level anyway
    flat = [e for e in per if e["best_h_central"] >= 1e-3 or e["best_error_central"] < 1e-13]
    smooth = [e for e in per if e not in flat]
    if smooth:
        wins = [e for e in smooth if e["best_error_central"] < e["best_error_forward"]]
        notes.append(
            f"Central differences beat forward ones for {len(wins)} of {len(smooth)} smooth activations (at its best "
            "h each): " + ", ".join(f"{e['activation']} {e['best_error_central']:.0e} vs {e['best_error_forward']:.0e}"
                                     for e in smooth)
            + ". Truncation error falls as h² for central and h for forward differences, rounding error grows as "
            "ε/h: the U-shaped curves in the picture.")
        central = ", ".join(format(e["best_h_central"], ".0e") for e in smooth)
        forward = ", ".join(format(e["best_h_forward"], ".0e") for e in smooth)
        notes.append(
            f"Best steps: central {central} against ∛ε = {d['cbrt_eps']:.1e}; forward {forward} against √ε = "
            f"{d['sqrt_eps']:.1e}"
            + (" — as the theory says (within the grid of four steps per decade and the functions' own scale)."
               if all(abs(math.log10(e["best_h_central"] / d["cbrt_eps"])) <= 1.0 for e in smooth) else
               " — some are more than a decade from ∛ε: the best h also depends on |f‴|/|f| at the points."))
    for e in flat:
        if e["best_error_central"] == 0:
            notes.append(f"{e['activation']}: the central quotients are exact at every step h away from its kinks and "
                         "jumps (error 0) — f is constant or linear there, so there is neither truncation nor rounding "
                         "error to trade.")
            continue
        notes.append(f"{e['activation']}: best central h {e['best_h_central']:.0e} (error {e['best_error_central']:.0e})"
                     + (" — f is piecewise linear between its kinks, so differences have no truncation error there; "
                        "only rounding, which shrinks as h grows (until h reaches a kink)."
                        if e["best_error_central"] < 1e-9 else
                        " — large steps win: its higher derivatives are small at these points, so truncation error "
                        "stays below rounding until h is large."))
    worst_ad = max(per, key=lambda e: e["autograd_max_error"])
    ad = worst_ad["autograd_max_error"]
    notes.append(f"Autograd agrees with the analytic f′ to {ad:.0e} or better at every point: it applies the chain "
                 "rule exactly, with no step to choose." if ad < 1e-10 else
                 f"Autograd differs from the analytic f′ by up to {ad:.1e} ({worst_ad['activation']}): the chain rule "
                 "is exact, so the hand-written f′ and the forward disagree there.")
    with_sym = [e for e in per if e["sympy"] is not None]
    without = [e["activation"] for e in per if e["sympy"] is None]
    if with_sym:
        worst = max(with_sym, key=lambda e: e["sympy"]["max_difference"])
        notes.append(f"sympy's f′ agrees with the analytic one to {worst['sympy']['max_difference']:.0e} at worst "
                     f"({worst['activation']}; e.g. {with_sym[0]['activation']}: f′ = {with_sym[0]['sympy']['derivative']}).")
    if without:
        notes.append(f"No sympy expression for {', '.join(without)}: skipped (expressions exist for "
                     f"{', '.join(SYMPY_NAMES)}).")
    slopes, jumps, agree, jump_autograd = [], [], [], []
    for e in per:
        for k in e["kinks"]:
            text = (f"{e['activation']} at {k['x']:g}: {k['forward']:.4g} / {k['backward']:.4g} / {k['central']:.4g} "
                    f"against {k['registry']:.4g} (autograd {k['autograd']:.4g})")
            gap = abs(k["forward"] - k["backward"])
            (agree if gap < 1e-4 else slopes if gap < 1e-3 / k["h"] else jumps).append(text)
            if not gap < 1e-3 / k["h"]:
                jump_autograd.append(k["autograd"])
    if agree:
        notes.append("Kinks where the quotients agree: " + "; ".join(agree) + " — f′ is continuous there (the "
                     "kink is in a higher derivative), so differences work as anywhere else.")
    if slopes:
        notes.append(f"At the kinks, forward / backward / central quotients (h = {d['kink_h']:g}) against the "
                     "registry's f′ (PyTorch's convention): " + "; ".join(slopes) + ". The one-sided quotients are "
                     "the one-sided slopes and the central one their average, which is neither: where f has no "
                     "derivative no h finds one, and autograd returns the convention.")
    if jumps:
        notes.append("Where f jumps: " + "; ".join(jumps) + ". The quotients across the jump grow like 1/h without "
                     "limit, while autograd's f′ "
                     + ("is 0 — it sees only the flat pieces." if all(v == 0 for v in jump_autograd) else
                        "stays finite — it sees only the pieces on either side."))
    return notes


def figures(result: LessonResult) -> dict[str, Any]:
    """``finite-differences.png``: error against h (forward, central) and the quotients at a kink."""
    import numpy as np

    d = result.data
    pal = colors()
    per = d["activations"]
    kinked = [(e, k) for e in per for k in e["kinks"] if abs(k["forward"] - k["backward"]) < 1e3]
    fig = new_figure(11.5 if kinked else 7.5, 4.6)
    ax = fig.add_axes((0.07, 0.12, 0.52 if kinked else 0.85, 0.74))
    for i, e in enumerate(per):
        h = np.array(e["h"])
        c = pal[i % len(pal)]
        ax.loglog(h, np.maximum(e["central_error"], 1e-18), color=c, label=f"{e['activation']} central")
        ax.loglog(h, np.maximum(e["forward_error"], 1e-18), color=c, linestyle="--", linewidth=1.3,
                  label=f"{e['activation']} forward")
    ax.axvline(d["cbrt_eps"], color="#444444", linewidth=0.9, linestyle=":")
    ax.axvline(d["sqrt_eps"], color="#444444", linewidth=0.9, linestyle=":")
    ax.text(d["cbrt_eps"] * 1.3, 0.98, "∛ε", transform=ax.get_xaxis_transform(), va="top", fontsize=10)
    ax.text(d["sqrt_eps"] * 1.3, 0.98, "√ε", transform=ax.get_xaxis_transform(), va="top", fontsize=10)
    ax.set_xlabel("step h")
    ax.set_ylabel("mean |quotient − f′| / max(1, |f′|)")
    ax.set_ylim(1e-13, 1e1)
    ax.set_title("finite differences: error against h (solid central, dashed forward)")
    ax.legend(fontsize=7, ncols=2, loc="lower left")
    if kinked:
        e, k = kinked[0]
        ax2 = fig.add_axes((0.67, 0.12, 0.31, 0.74))
        hs = np.array(k["series_h"])
        for j, name in enumerate(("forward", "backward", "central")):
            ys = k["series"][name]
            ax2.semilogx(hs, ys, color=pal[j + 3], linewidth=2.2 if name == "backward" else 1.6,
                         linestyle="-" if name != "backward" else (0, (5, 3)))
            # each label above its own line, at its own x, on a white patch: never on a line
            at = len(hs) * (j + 1) // 4
            ax2.annotate(f"{name}: {ys[-1]:.3g}", (hs[at], ys[at]), textcoords="offset points", xytext=(0, 5),
                         ha="center", va="bottom", fontsize=9, color=pal[j + 3],
                         bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"})
        ax2.axhline(k["registry"], color="black", linewidth=1, linestyle=":")
        ax2.annotate(f"registry f′ = {k['registry']:g}, autograd {k['autograd']:g}", (hs[0], k["registry"]),
                     textcoords="offset points", xytext=(2, -5), va="top", fontsize=8.5,
                     bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"})
        ax2.set_xlabel("step h")
        ax2.set_ylabel("quotient")
        lo = min(min(v) for v in k["series"].values())
        hi = max(max(v) for v in k["series"].values())
        pad = 0.15 * max(hi - lo, 0.5)
        ax2.set_ylim(lo - pad, hi + pad)
        ax2.set_title(f"at {e['activation']}'s kink x = {k['x']:g}")
    fig.suptitle("derivatives: finite differences against the analytic f′ (float64)", fontsize=12)
    return {"finite-differences.png": fig}
