"""Lesson ``approx``: one hidden layer approximates a function better as units are added.

Targets on [−π, π]: sin(3x) (smooth), |x| (a kink) and a step [x ≥ 0] (a jump).
For each activation f and each k in ``ks`` (1, 2, 4, …, 64) the network
``ŷ(x) = Σⱼ aⱼ f(wⱼx + bⱼ) + c`` is fitted to 256 points by full-batch Adam on
the mean squared error (learning rate decaying from 0.01 to 0.0001), after which
the output layer (a, c) is also solved exactly by least squares on the fitted
hidden units; the better output layer on the test points counts, and so does the
random start with its least-squares output layer (random features) when training
made a fit worse.  All fits of one activation — every target, k and restart — train
together as one batched problem (units beyond k masked off).  The error is the
root-mean-square error on 2001 points of the interval; with ``seeds`` > 1 the
best of the restarts is kept.  The slope of log(error) against log(k) says how
fast the error falls.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from actviz.core.registry import params_json
from actviz.lessons.result import LessonResult, check_seeds, one_thread, colors, g, new_figure, resolve_activations

NAME = "approx"
TARGETS = ("sin(3x)", "|x|", "step")
KS = (1, 2, 4, 8, 16, 32, 64)


def target_values(name: str, x: Any) -> Any:
    import torch

    if name == "sin(3x)":
        return torch.sin(3 * x)
    if name == "|x|":
        return x.abs()
    if name == "step":
        return (x >= 0).to(x.dtype)
    raise ValueError(f"unknown target {name!r}")


def _fit(act: Any, ks: Sequence[int], restarts: int, steps: int, seed: int, lr: float = 0.01) -> dict[str, Any]:
    """RMS test error[target][k] (best restart) and the fitted curves, for one activation."""
    import torch

    dt = torch.float64
    x = torch.linspace(-math.pi, math.pi, 256, dtype=dt)
    xt = torch.linspace(-math.pi, math.pi, 2001, dtype=dt)
    kmax = max(ks)
    combos = [(t, k, r) for t in range(len(TARGETS)) for k in ks for r in range(restarts)]
    n = len(combos)
    y = torch.stack([target_values(TARGETS[t], x) for t, _, _ in combos])  # (n, 256)
    mask = torch.zeros(n, kmax, dtype=dt)
    for i, (_, k, _) in enumerate(combos):
        mask[i, :k] = 1
    gen = torch.Generator().manual_seed(seed)
    w = (torch.randn(n, kmax, generator=gen, dtype=dt) * 2).requires_grad_(True)
    centre = (torch.rand(n, kmax, generator=gen, dtype=dt) * 2 - 1) * math.pi
    b = (-w.detach() * centre).requires_grad_(True)
    a = torch.zeros(n, kmax, dtype=dt, requires_grad=True)
    c = y.mean(1).clone().requires_grad_(True)
    opt = torch.optim.Adam([w, b, a, c], lr=lr)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=(0.01) ** (1 / max(1, steps)))

    def hidden(xs: Any) -> Any:
        return act.forward(w[:, None, :] * xs[None, :, None] + b[:, None, :]) * mask[:, None, :]

    yt = torch.stack([target_values(TARGETS[t], xt) for t, _, _ in combos])

    @torch.no_grad()
    def evaluate() -> tuple[Any, Any]:
        """Test RMS error and prediction with the better output layer: Adam's, or least squares on the units."""
        feats = torch.cat([hidden(x), torch.ones(n, x.shape[0], 1, dtype=dt)], 2)  # (n, 256, kmax + 1)
        # masked units are 0; the ridge 1e-10 keeps the normal equations well posed
        gram = feats.transpose(1, 2) @ feats + 1e-10 * torch.eye(kmax + 1, dtype=dt)
        sol = torch.linalg.solve(gram, feats.transpose(1, 2) @ y[:, :, None])[:, :, 0]
        ht = hidden(xt)
        pred_ls = torch.einsum("npk,nk->np", ht, sol[:, :kmax] * mask) + sol[:, kmax, None]
        pred_adam = torch.einsum("npk,nk->np", ht, a) + c[:, None]
        err_ls = ((pred_ls - yt) ** 2).mean(1).sqrt().nan_to_num(math.inf)
        err_adam = ((pred_adam - yt) ** 2).mean(1).sqrt().nan_to_num(math.inf)
        use_ls = err_ls <= err_adam
        return torch.where(use_ls, err_ls, err_adam), torch.where(use_ls[:, None], pred_ls, pred_adam)

    # the random start with its best output layer is a candidate too (random features + least squares):
    # a fit that Adam makes worse (ReLU units pushed off the interval) does not count against k
    err0, pred0 = evaluate()
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        pred = torch.einsum("npk,nk->np", hidden(x), a) + c[:, None]
        loss = ((pred - y) ** 2).mean(1).sum()
        loss.backward()
        opt.step()
        sched.step()
    err1, pred1 = evaluate()
    trained = err1 <= err0
    err = torch.where(trained, err1, err0)
    pred_best = torch.where(trained[:, None], pred1, pred0)
    errors: dict[str, dict[int, float]] = {t: {} for t in TARGETS}
    curves: dict[str, dict[int, list[float]]] = {t: {} for t in TARGETS}
    for i, (t, k, _) in enumerate(combos):
        name = TARGETS[t]
        e = float(err[i])
        if not math.isfinite(e):
            e = float("nan")
        if k not in errors[name] or (math.isfinite(e) and not e >= errors[name][k]):
            errors[name][k] = e
            if k in (1, 4, 16, 64) or k == max(ks):  # the fits drawn (lesson.json stays small)
                curves[name][k] = [round(v, 5) for v in pred_best[i, ::8].tolist()]
    return {"errors": errors, "curves": curves, "x": xt[::8].tolist(),
            "trained_better": int(trained.sum()), "fits": n}


def _slope(ks: Sequence[int], errs: Sequence[float]) -> float | None:
    pts = [(math.log(k), math.log(e)) for k, e in zip(ks, errs) if e > 0 and math.isfinite(e)]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx else None


def run(*, activations: Sequence[Any] | None = None, seeds: int | None = None, ks: Sequence[int] = KS,
        steps: int = 1000) -> LessonResult:
    """Measure the approximation lesson (``seeds`` random restarts per fit, the best kept; default 1)."""
    import torch  # noqa: F401  (fail early if missing)

    from actviz.core.errors import UsageError

    t0 = time.perf_counter()
    n = check_seeds(seeds, lesson=NAME)
    ks = sorted(set(int(k) for k in ks))
    if not ks or ks[0] < 1 or ks[-1] > 1024:
        raise UsageError(f"ks must be unit counts between 1 and 1024, got {ks}")
    acts = resolve_activations(activations)
    per_act = []
    for i, act in enumerate(acts):
        with one_thread():  # mid-size element-wise work: a second thread gains little, and on a busy
            fit = _fit(act, ks, n, steps, seed=i)  # machine it waits for a descheduled core (×15 slower seen)
        entry = {"activation": act.label, "name": act.name, "params": params_json(act), **fit,
                 "slopes": {t: _slope(ks, [fit["errors"][t][k] for k in ks]) for t in TARGETS}}
        per_act.append(entry)
    data = {"targets": list(TARGETS), "ks": ks, "interval": [-math.pi, math.pi], "steps": steps, "restarts": n,
            "fits": per_act}
    show = [k for k in (1, 4, 16, 64) if k in ks] or ks
    rows = []
    for e in per_act:
        for t in TARGETS:
            rows.append([e["activation"], t, *[g(e["errors"][t][k], ".2e") for k in show],
                         g(e["slopes"][t], "+.2f")])
    return LessonResult(
        name=NAME,
        title=f"approx — one hidden layer of k units on [−π, π], RMS error ({steps} Adam steps + least squares)",
        options={"activations": [a.label for a in acts], "seeds": n, "ks": ks, "steps": steps},
        columns=["activation", "target", *[f"k={k}" for k in show], "slope"],
        rows=rows,
        notes=_notes(data),
        data=data,
        seconds=time.perf_counter() - t0,
        caption="RMS error on 2001 points of [−π, π]; slope: of log(error) against log(k) over all k (−1: error "
        "halves when k doubles)",
    )


def _notes(d: dict[str, Any]) -> list[str]:
    ks = d["ks"]
    notes = []
    for e in d["fits"]:
        parts = []
        for t in d["targets"]:
            errs = [e["errors"][t][k] for k in ks]
            rises = sum(1 for a, b in zip(errs, errs[1:]) if b > a * 1.05)
            ratio = errs[0] / errs[-1] if errs[-1] > 0 else math.inf
            parts.append(f"{t} {errs[0]:.2g} → {errs[-1]:.2g} (×{1 / ratio:.2g}"
                         + (f", rose {rises}× on the way" if rises else "") + ")")
        falls = [e["errors"][t][ks[-1]] < 0.5 * e["errors"][t][ks[0]] for t in d["targets"]]
        head = (f"{e['activation']}: from k = {ks[0]} to {ks[-1]} the error goes " + "; ".join(parts) + ".")
        if not any(falls):
            head += (" It does not fall: a sum of units that are all linear is linear, so no number of them "
                     "approximates a nonlinear target." if e["name"] == "identity" else
                     " It does not fall, against the theorem's promise for non-polynomial activations; the fit "
                     "(not the model) is the likely limit here.")
        notes.append(head)
    # notable facts, measured
    for e in d["fits"]:
        if len(ks) > 1 and ks[1] == 2 and e["errors"]["|x|"][2] < 1e-3:
            notes.append(f"{e['activation']} fits |x| almost exactly with k = 2 (error {e['errors']['|x|'][2]:.1e}): "
                         "|x| = relu(x) + relu(−x) is in its span.")
    best_step = min(d["fits"], key=lambda e: e["errors"]["step"][ks[-1]])
    slopes = [e["slopes"]["step"] for e in d["fits"] if e["slopes"]["step"] is not None]
    if slopes and len(d["targets"]) and "step" in d["targets"]:
        text = (f"The step falls slowest (slopes {min(slopes):+.2f} to {max(slopes):+.2f}): a continuous network "
                "cannot jump, so the error is set by how steep the units get at the jump, and the fits ring next to "
                f"it; best at k = {ks[-1]}: {best_step['activation']} ({best_step['errors']['step'][ks[-1]]:.2g}).")
        one = [e for e in d["fits"] if e["errors"]["step"][ks[0]] < 2 * e["errors"]["step"][ks[-1]]]
        if one:
            text += (" " + ", ".join(e["activation"] for e in one) + f" already reach{'es' * (len(one) == 1)} "
                     + ", ".join(f"{e['errors']['step'][ks[0]]:.2g}" for e in one) + f" with k = {ks[0]}: one "
                     "steep S-shaped unit is nearly a step by itself, so more units add little.")
        notes.append(text)
    return notes


def figures(result: LessonResult) -> dict[str, Any]:
    """``error-vs-k.png`` (log–log) and ``fits.png`` (targets × activations, a few k)."""
    import numpy as np

    d = result.data
    pal = colors()
    ks = d["ks"]
    fig = new_figure(11, 3.8)
    axes = [fig.add_subplot(1, len(d["targets"]), i + 1) for i in range(len(d["targets"]))]
    for ax, t in zip(axes, d["targets"]):
        for i, e in enumerate(d["fits"]):
            errs = [max(e["errors"][t][k], 1e-12) for k in ks]
            ax.loglog(ks, errs, marker="o", markersize=4, color=pal[i % len(pal)],
                      label=f"{e['activation']} (slope {e['slopes'][t]:+.2f})" if e["slopes"][t] is not None
                      else e["activation"])
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.minorticks_off()
        ax.set_xlabel("hidden units k")
        ax.set_title(f"target {t}")
        ax.legend(fontsize=8, loc="lower left")
    axes[0].set_ylabel("RMS error")
    fig.suptitle("approx: error against the number of hidden units (log–log)", fontsize=12)
    fig.subplots_adjust(left=0.07, right=0.98, top=0.84, bottom=0.14, wspace=0.25)

    shown = [k for k in (1, 4, 64) if k in ks] or ks[-1:]
    n_act = len(d["fits"])
    fits = new_figure(3.2 * n_act + 0.6, 2.5 * len(d["targets"]) + 0.7)
    x = np.array(d["fits"][0]["x"])
    import torch

    for r, t in enumerate(d["targets"]):
        y = target_values(t, torch.tensor(x)).numpy()
        for c_, e in enumerate(d["fits"]):
            ax = fits.add_subplot(len(d["targets"]), n_act, r * n_act + c_ + 1)
            for j, k in enumerate(shown):
                ax.plot(x, e["curves"][t][k], color=pal[j], linewidth=1.6, label=f"k = {k}")
            ax.plot(x, y, color="black", linewidth=1.1, linestyle=(0, (4, 3)), label="target", zorder=5)
            if r == 0:
                ax.set_title(e["activation"])
            if c_ == 0:
                ax.set_ylabel(t)
            ax.set_xticks([-3, 0, 3])
            if r == 0 and c_ == 0:
                handles, labels = ax.get_legend_handles_labels()
    fits.legend(handles, labels, loc="upper right", ncols=len(labels), fontsize=9, frameon=False)
    fits.suptitle("approx: the fits", fontsize=12, x=0.08, ha="left")
    fits.subplots_adjust(left=0.08, right=0.98, top=1 - 0.6 / (2.5 * len(d["targets"]) + 0.7), bottom=0.05,
                         hspace=0.3, wspace=0.22)
    return {"error-vs-k.png": fig, "fits.png": fits}
