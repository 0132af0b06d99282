"""Lesson ``signal``: does the signal survive 20 layers at initialisation?

For each activation × initialisation (d2l's N(0, 0.01²), Xavier/Glorot uniform,
Kaiming/He normal — the training engine's own ``normal``, ``xavier`` and ``kaiming``,
biases 0) a random network of ``depth`` layers of ``width`` units is built, a batch
of N(0, 1) inputs is sent through it in float64, and measured:

* **forward**: the variance of every layer's activations f(z_l) (all entries: over
  units and inputs, the textbooks' Var[h]), against the input's (1); and the part of
  it that depends on the input (per unit across the batch, averaged over units) —
  the two differ where every input gives nearly the same vector (sigmoid's ≈ 0.5,
  or deep ReLU nets, whose activations for different inputs grow alike);
* **backward**: the variance of the gradient reaching every layer's activations,
  for the loss Σ r·h_L with r ~ N(0, 1) (a random direction at the top, variance 1).

Averaged over ``seeds`` random networks.  The ratio of the last layer's variance to
the input's (forward) and of the first layer's gradient variance to the top's
(backward) gives a verdict: explodes (≥ 10), kept (0.1–10), decays (10⁻³–0.1),
vanishes (< 10⁻³).  The activations' declared (or measured) ``zero_centered`` and
``vanishing_gradient`` properties come from :func:`actviz.facts.audit.properties_of`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from actviz.core.registry import params_json
from actviz.lessons.result import LessonResult, check_seeds, colors, new_figure, resolve_activations

NAME = "signal"
INITS = ("normal", "xavier", "kaiming")
INIT_LABELS = {"normal": "N(0,.01²)", "xavier": "Xavier", "kaiming": "Kaiming"}


def verdict(ratio: float) -> str:
    if not math.isfinite(ratio) or ratio >= 10:
        return "explodes"
    if ratio >= 0.1:
        return "kept"
    if ratio >= 1e-3:
        return "decays"
    return "vanishes"


def _propagate(act: Any, init: str, depth: int, width: int, batch: int, seed: int) -> tuple[list[float], ...]:
    import torch

    from actviz.bench.train import init_weight

    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, width, generator=gen, dtype=torch.float64).requires_grad_(True)
    hs = []
    h = x
    with torch.enable_grad():
        for _ in range(depth):
            w, b = init_weight((width, width), init, gen)
            h = act.forward(h @ w.double() + b.double())
            h.retain_grad()
            hs.append(h)
        r = torch.randn(batch, width, generator=gen, dtype=torch.float64)
        (h * r).sum().backward()
    # the variance of all entries (over units and inputs: the textbooks' Var[h]), layer 0 = the input,
    # and the part that depends on the input: per unit across the batch, averaged over the units
    fwd = [float(x.detach().var())] + [float(t.detach().var()) for t in hs]
    bwd = [float(t.grad.var()) if t.grad is not None else 0.0 for t in hs]
    fwd_in = [float(x.detach().var(0).mean())] + [float(t.detach().var(0).mean()) for t in hs]
    return fwd, bwd, fwd_in


def _mean(rows: list[list[float]]) -> list[float]:
    return [sum(col) / len(col) for col in zip(*rows)]


def run(*, activations: Sequence[Any] | None = None, seeds: int | None = None, depth: int = 20, width: int = 256,
        batch: int = 256, inits: Sequence[str] = INITS) -> LessonResult:
    """Measure the signal-propagation lesson (``seeds`` random networks per combination, default 3)."""
    from actviz.core.errors import UsageError
    from actviz.facts.audit import properties_of

    t0 = time.perf_counter()
    n = check_seeds(seeds, lesson=NAME)
    acts = resolve_activations(activations)
    for init in inits:
        if init not in INITS:
            raise UsageError(f"init must be one of {', '.join(INITS)}, got {init!r}")
    if depth < 2 or width < 1 or batch < 2:
        raise UsageError("signal needs depth >= 2, width >= 1 and batch >= 2")
    combos = []
    for act in acts:
        try:
            props = properties_of(act)
            zc, vg = bool(props.zero_centered), bool(props.vanishing_gradient)
        except Exception:  # a user activation whose properties cannot be measured
            zc = vg = None
        for init in inits:
            runs = [_propagate(act, init, depth, width, batch, seed) for seed in range(n)]
            fwd, bwd, fwd_in = (_mean([r[i] for r in runs]) for i in range(3))
            # against the input's variance (1), and the top gradient's (r ~ N(0, 1): 1)
            f_ratio = fwd[-1] / fwd[0] if fwd[0] > 0 else math.nan
            b_ratio = bwd[0] / bwd[-1] if bwd[-1] > 0 else math.nan  # the gradient travels from layer L down to 1
            in_ratio = fwd_in[-1] / fwd_in[0] if fwd_in[0] > 0 else math.nan
            combos.append({
                "activation": act.label, "name": act.name, "params": params_json(act), "init": init,
                "zero_centered": zc, "vanishing_gradient": vg,
                "forward_var": fwd, "backward_var": bwd, "input_dependent_var": fwd_in,
                "forward_ratio": f_ratio, "backward_ratio": b_ratio, "input_dependent_ratio": in_ratio,
                "forward": verdict(f_ratio) if fwd[0] > 0 else "vanishes",
                "backward": verdict(b_ratio) if bwd[-1] > 0 else "vanishes",
            })
    data = {"depth": depth, "width": width, "batch": batch, "seeds": n, "inits": list(inits), "combos": combos}
    rows = []
    for c in combos:
        rows.append([c["activation"], INIT_LABELS[c["init"]], f"×{c['forward_ratio']:.1e}", c["forward"],
                     f"×{c['backward_ratio']:.1e}", c["backward"], _yn(c["zero_centered"]),
                     _yn(c["vanishing_gradient"])])
    return LessonResult(
        name=NAME,
        title=f"signal — {depth} layers of {width} units at initialisation, inputs N(0, 1), {n} networks each",
        options={"activations": [a.label for a in acts], "seeds": n, "depth": depth, "width": width,
                 "batch": batch, "inits": list(inits)},
        columns=["activation", "init", "forward", "", "backward", "", "0-c", "vg"],
        rows=rows,
        notes=_notes(data),
        data=data,
        seconds=time.perf_counter() - t0,
        caption=f"forward: variance of layer {depth}'s activations / the input's; backward: of the gradient reaching "
        f"layer 1 / the gradient at layer {depth}. Verdicts: explodes ≥ 10, kept 0.1–10, decays "
        "10⁻³–0.1, vanishes < 10⁻³. 0-c: zero_centered, vg: vanishing_gradient (the registry's properties)",
    )


def _yn(v: bool | None) -> str:
    return "?" if v is None else ("✓" if v else "·")


def _notes(d: dict[str, Any]) -> list[str]:
    combos = d["combos"]
    by = {(c["activation"], c["init"]): c for c in combos}
    labels = list(dict.fromkeys(c["activation"] for c in combos))
    L = d["depth"]
    notes = []
    if "normal" in d["inits"]:
        normal = [by[(a, "normal")] for a in labels]
        lost = [c for c in normal if c["forward"] == "vanishes"]
        text = (f"N(0, 0.01²) (d2l's): after {L} layers the variance is "
                + ", ".join(f"{c['forward_ratio']:.0e} ({c['activation']})" for c in normal)
                + " of the input's")
        if len(lost) == len(normal):
            text += (" — it vanishes for every activation: each layer scales the signal's standard deviation by "
                     f"about 0.01·√{d['width']} = {0.01 * math.sqrt(d['width']):.2f} times the slope of f.")
        else:
            kept = ", ".join(c["activation"] for c in normal if c not in lost)
            text += f" — it vanishes for all but {kept}, against expectation; see the table."
        for c in normal:
            tail = c["forward_var"][-5:]
            plateau = len(tail) == 5 and min(tail) > 0 and max(tail) / min(tail) < 2  # within ×2 over 5 layers
            if c["input_dependent_ratio"] < 1e-3 and plateau and c["input_dependent_ratio"] < 1e-3 * c["forward_ratio"]:
                text += (f" The variance of {c['activation']} stops falling (the last five layers within ×2, "
                         f"{c['forward_var'][-1]:.0e} at layer {L})"
                         + (" — its outputs sit near σ(0) = 0.5 and random weights spread that constant —"
                            if c["name"] == "sigmoid" else "")
                         + f" while the part that depends on the input falls to ×{c['input_dependent_ratio']:.0e}: "
                         "the signal is gone either way.")
        notes.append(text)
    if "kaiming" in d["inits"]:
        for a in labels:
            c = by[(a, "kaiming")]
            if c["name"] in ("relu", "leaky_relu", "prelu"):
                text = (f"Kaiming (variance 2/fan-in, made for ReLU's halving of the signal): {a}'s forward "
                        f"variance is {c['forward']} (×{c['forward_ratio']:.2g} after {L} layers), its gradient "
                        f"{c['backward']} (×{c['backward_ratio']:.2g}).")
                if c["input_dependent_ratio"] < min(0.5 * c["forward_ratio"], 1.0):
                    text += (f" But the part that depends on the input falls to ×{c['input_dependent_ratio']:.2g}: "
                             "the activations of different inputs grow alike with depth (their correlation tends "
                             "to 1), which the variance alone does not show.")
                notes.append(text)
    if "xavier" in d["inits"]:
        for a in labels:
            c = by[(a, "xavier")]
            if c["name"] == "tanh":
                per_layer = c["forward_ratio"] ** (1 / L) if c["forward_ratio"] > 0 else 0.0
                notes.append(
                    f"Xavier with tanh, measured: the forward variance {c['forward']} (×{c['forward_ratio']:.2g} "
                    f"after {L} layers, ×{per_layer:.3f} per layer) and the gradient {c['backward']} "
                    f"(×{c['backward_ratio']:.2g}). Xavier assumes f′ = 1 (the linear regime at 0); tanh′ < 1 "
                    "away from 0, so " + _xavier_tanh_reading(c["forward"], per_layer))
    hidden_loss = [c for c in combos if c["forward"] in ("kept", "decays") and c["input_dependent_ratio"] < 1e-3
                   and c["input_dependent_ratio"] < 1e-3 * c["forward_ratio"]]
    if hidden_loss:
        notes.append("Where the variance stays far above the signal: "
                     + ", ".join(f"{c['activation']} with {INIT_LABELS[c['init']]} (variance ×{c['forward_ratio']:.2g}, "
                                 f"{'kept' if c['forward'] == 'kept' else 'it decays'}; input-dependent part "
                                 f"×{c['input_dependent_ratio']:.0e})" for c in hidden_loss)
                     + ". What remains is a nearly constant vector, the same for every input"
                     + (" — for a function that is not zero-centred, its offset (sigmoid's 0.5) spread by the random "
                        "weights." if any(c["zero_centered"] is False for c in hidden_loss) else "."))
    for a in labels:
        cs = [by[(a, i)] for i in d["inits"]]
        c0 = cs[0]
        kept = [INIT_LABELS[c["init"]] for c in cs if c["forward"] == "kept" and c["backward"] == "kept"]
        props = (f"zero_centered={'?' if c0['zero_centered'] is None else c0['zero_centered']}, "
                 f"vanishing_gradient={'?' if c0['vanishing_gradient'] is None else c0['vanishing_gradient']}")
        notes.append(f"{a} ({props}): forward and backward both kept with "
                     + (", ".join(kept) if kept else "none of these initialisations") + "; gradient "
                     + ", ".join(f"{c['backward']} with {INIT_LABELS[c['init']]}" for c in cs) + "."
                     + (" Its f′ < 1 (vanishing_gradient) shrinks the gradient at every layer unless the weights "
                        "make up for it." if c0["vanishing_gradient"] and not kept
                        and all(c["backward"] in ("decays", "vanishes") for c in cs) else ""))
    return notes


def _xavier_tanh_reading(verdict_: str, per_layer: float) -> str:
    """What tanh's Xavier variance does, in the verdict's own words."""
    if verdict_ == "kept":
        return (f"the variance changes by ×{per_layer:.3f} per layer and stays within the kept band (0.1–10) "
                "over these layers.")
    if verdict_ == "explodes":
        return f"the variance grows by ×{per_layer:.3f} per layer here: it explodes over these layers."
    return (f"the variance shrinks by ×{per_layer:.3f} every layer instead of holding: it {verdict_} over these "
            "layers.")


def figures(result: LessonResult) -> dict[str, Any]:
    """``variance.png``: forward (top) and backward (bottom) variance per layer, one column per init."""
    import numpy as np

    d = result.data
    inits = d["inits"]
    labels = list(dict.fromkeys(c["activation"] for c in d["combos"]))
    by = {(c["activation"], c["init"]): c for c in d["combos"]}
    pal = colors()
    fig = new_figure(3.6 * len(inits) + 0.6, 6.9)
    for col, init in enumerate(inits):
        for row, key in enumerate(("forward_var", "backward_var")):
            ax = fig.add_subplot(2, len(inits), row * len(inits) + col + 1)
            for i, a in enumerate(labels):
                v = np.maximum(np.array(by[(a, init)][key]), 1e-300)
                layers = np.arange(len(v)) if row == 0 else np.arange(1, len(v) + 1)
                ax.semilogy(layers, v, color=pal[i % len(pal)], marker="o", markersize=2.5, label=a)
                if row == 0:
                    vi = np.maximum(np.array(by[(a, init)]["input_dependent_var"]), 1e-300)
                    ax.semilogy(layers, vi, color=pal[i % len(pal)], linestyle=":", linewidth=1.3,
                                label=f"{a}, input-dependent part")
            ax.axhspan(0.1, 10, color="#55A868", alpha=0.13, linewidth=0)
            ax.set_xticks([0, 5, 10, 15, 20] if d["depth"] == 20 else np.arange(0, d["depth"] + 1, max(1, d["depth"] // 4)))
            if row == 0:
                ax.set_title(INIT_LABELS[init])
            else:
                ax.set_xlabel("layer")
            if col == 0:
                ax.set_ylabel("variance of activations" if row == 0 else "variance of gradients")
    # one legend for all panels, below them, where it covers no curve
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=pal[i % len(pal)], marker="o", markersize=3, label=a) for i, a in enumerate(labels)]
    handles.append(Line2D([], [], color="#555555", linestyle=":", linewidth=1.3,
                          label="dotted: the part that depends on the input"))
    fig.legend(handles=handles, loc="lower center", ncols=min(len(handles), 6), fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(f"signal: variance through {d['depth']} layers at initialisation (forward: top; backward, "
                 "gradient from the top layer: bottom)\nlayer 0 is the input; dotted: the part that depends on the input; "
                 "green band: within ×10 of the start", fontsize=11)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.15, wspace=0.28, hspace=0.22)
    return {"variance.png": fig}
