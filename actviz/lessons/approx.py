"""Lesson ``approx``: one hidden layer approximates a function better as units are added.

Targets on [−π, π]: sin(3x) (smooth), |x| (a kink) and a step [x ≥ 0] (a jump).
For each activation f and each k in ``ks`` (1, 2, 4, …, 64) the network
``ŷ(x) = Σⱼ aⱼ f(wⱼx + bⱼ) + c`` is fitted to 256 points.  The unit counts are fitted
in increasing order, twice: once starting from the best fit of the previous count (its
units and output layer; the new units random, their output weights 0) and once from
all-random units; the better counts.  Each fit is full-batch Adam on the
mean squared error (learning rate decaying from 0.01 to 0.0001), after which the
output layer (a, c) is also solved exactly by least squares on the hidden units; the
better of the start, Adam's output layer and the least-squares one on the test points
counts.  A network of k units holds every network of fewer (their output weights 0),
so the error never rises with k.  The error is the root-mean-square error on 2001
points of the interval; with ``seeds`` > 1 the best of the restarts (each its own chain
of warm starts) is kept.

What is measured is the best fit the optimiser found: an upper bound on the least
error k units can reach, not that least error (one very steep tanh unit is a step up
to the grid's resolution; the fit does not get that steep).  The slope of log(error)
against log(k) says how fast the error falls.
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


def _hidden(act: Any, w: Any, b: Any, xs: Any) -> Any:
    """The hidden units f(w·x + b) of every fit at the points ``xs``: (fits, points, units)."""
    return act.forward(w[:, None, :] * xs[None, :, None] + b[:, None, :])


def _output_layer(act: Any, net: dict[str, Any], pts: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """Test error, prediction and output layer (a, c): the net's own, or least squares on its units."""
    import torch

    w, b, a, c = net["w"], net["b"], net["a"], net["c"]
    x, y, xt, yt = pts["x"], pts["y"], pts["xt"], pts["yt"]
    n, k = w.shape
    dt = w.dtype
    with torch.no_grad():
        feats = torch.cat([_hidden(act, w, b, x), torch.ones(n, x.shape[0], 1, dtype=dt)], 2)  # (n, 256, k + 1)
        # the ridge 1e-10 keeps the normal equations well posed
        gram = feats.transpose(1, 2) @ feats + 1e-10 * torch.eye(k + 1, dtype=dt)
        sol = torch.linalg.solve(gram, feats.transpose(1, 2) @ y[:, :, None])[:, :, 0]
        ht = _hidden(act, w, b, xt)
        pred_ls = torch.einsum("npk,nk->np", ht, sol[:, :k]) + sol[:, k, None]
        pred_now = torch.einsum("npk,nk->np", ht, a) + c[:, None]
        err_ls = ((pred_ls - yt) ** 2).mean(1).sqrt().nan_to_num(math.inf)
        err_now = ((pred_now - yt) ** 2).mean(1).sqrt().nan_to_num(math.inf)
        use_ls = err_ls < err_now
        return (torch.where(use_ls, err_ls, err_now), torch.where(use_ls[:, None], pred_ls, pred_now),
                torch.where(use_ls[:, None], sol[:, :k], a.detach()), torch.where(use_ls, sol[:, k], c.detach()))


def _pick(mask: Any, new: Any, old: Any) -> Any:
    """``new`` where ``mask`` (one flag per fit), else ``old``."""
    import torch

    return torch.where(mask.view(-1, *[1] * (new.dim() - 1)), new, old)


def _start(prev: dict[str, Any], k: int, y: Any, gen: Any) -> dict[str, Any]:
    """Two starts per chain for k units: warm (the previous best, plus random units whose output
    weights are 0) in the first half, cold (all units random) in the second."""
    import torch

    m, old = prev["w"].shape
    n, dt = 2 * m, y.dtype
    w = torch.randn(n, k, generator=gen, dtype=dt) * 2
    centre = (torch.rand(n, k, generator=gen, dtype=dt) * 2 - 1) * math.pi
    b = -w * centre
    a = torch.zeros(n, k, dtype=dt)
    w[:m, :old], b[:m, :old], a[:m, :old] = prev["w"], prev["b"], prev["a"]
    return {"w": w, "b": b, "a": a, "c": torch.cat([prev["c"], y[m:].mean(1)])}


def _train(act: Any, net: dict[str, Any], pts: dict[str, Any], steps: int, lr: float) -> dict[str, Any]:
    """Full-batch Adam on the mean squared error of every fit, the learning rate decaying ×0.01."""
    import torch

    params = {key: v.clone().requires_grad_(True) for key, v in net.items()}
    opt = torch.optim.Adam(list(params.values()), lr=lr)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.01 ** (1 / max(1, steps)))
    x, y = pts["x"], pts["y"]
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        pred = torch.einsum("npk,nk->np", _hidden(act, params["w"], params["b"], x), params["a"]) + params["c"][:, None]
        ((pred - y) ** 2).mean(1).sum().backward()
        opt.step()
        sched.step()
    return {key: v.detach() for key, v in params.items()}


def _fit(act: Any, ks: Sequence[int], restarts: int, steps: int, seed: int, lr: float = 0.01) -> dict[str, Any]:
    """RMS test error[target][k] (best restart) and the fitted curves, for one activation.

    The unit counts are fitted in increasing order, two fits per count: a warm one starting from the
    previous count's best (its units and output layer, the new units' output weights 0: the start has
    the previous error) and a cold one (all units random); the better counts.  A network of k units holds
    every network of fewer units (their output weights 0), so the error is non-increasing in k.
    """
    import torch

    dt = torch.float64
    x = torch.linspace(-math.pi, math.pi, 256, dtype=dt)
    xt = torch.linspace(-math.pi, math.pi, 2001, dtype=dt)
    chains = [(t, r) for t in range(len(TARGETS)) for r in range(restarts)]
    m = len(chains)
    pts = {"x": x, "xt": xt,
           "y": torch.stack([target_values(TARGETS[t], x) for t, _ in chains] * 2),  # (2m, 256): warm, cold
           "yt": torch.stack([target_values(TARGETS[t], xt) for t, _ in chains] * 2)}
    gen = torch.Generator().manual_seed(seed)
    # the previous count's best network per chain, its test error and prediction
    best = {"w": torch.zeros(m, 0, dtype=dt), "b": torch.zeros(m, 0, dtype=dt), "a": torch.zeros(m, 0, dtype=dt),
            "c": pts["y"][:m].mean(1)}
    err_prev = torch.full((m,), math.inf, dtype=dt)
    pred_prev = torch.zeros(m, xt.shape[0], dtype=dt)
    errors: dict[str, dict[int, float]] = {t: {} for t in TARGETS}
    curves: dict[str, dict[int, list[float]]] = {t: {} for t in TARGETS}
    improved = 0
    for k in ks:
        start = _start(best, k, pts["y"], gen)
        # the start with its best output layer counts too: training that makes a fit worse does not
        err0, pred0, start["a"], start["c"] = _output_layer(act, start, pts)
        end = _train(act, start, pts, steps, lr)
        err1, pred1, end["a"], end["c"] = _output_layer(act, end, pts)
        better = err1 < err0
        improved += int(better.sum())
        err, pred = _pick(better, err1, err0), _pick(better, pred1, pred0)
        net = {key: _pick(better, end[key], start[key]) for key in start}
        cold = err[m:] < err[:m]  # the better of each chain's warm and cold fit
        err, pred = _pick(cold, err[m:], err[:m]), _pick(cold, pred[m:], pred[:m])
        best = {key: _pick(cold, v[m:], v[:m]) for key, v in net.items()}
        # a network of k units holds the previous one (new output weights 0): never worse than it
        worse = ~(err <= err_prev)
        err_prev, pred_prev = _pick(worse, err_prev, err), _pick(worse, pred_prev, pred)
        for i, (t, _) in enumerate(chains):
            name = TARGETS[t]
            e = float(err_prev[i])
            e = e if math.isfinite(e) else float("nan")
            if k not in errors[name] or (math.isfinite(e) and not e >= errors[name][k]):
                errors[name][k] = e
                if k in (1, 4, 16, 64) or k == max(ks):  # the fits drawn (lesson.json stays small)
                    curves[name][k] = [round(v, 5) for v in pred_prev[i, ::8].tolist()]
    return {"errors": errors, "curves": curves, "x": xt[::8].tolist(),
            "trained_better": improved, "fits": 2 * m * len(ks)}


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
        title=f"approx — one hidden layer of k units on [−π, π], RMS error of the best fit found ({steps} Adam steps "
        "per k from the previous k's fit, + least squares)",
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
            parts.append(f"{t} {errs[0]:.2g} → {errs[-1]:.2g}"
                         + (f" (×{errs[-1] / errs[0]:.2g})" if errs[0] > 0 else ""))
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
        if 2 in ks and "|x|" in d["targets"] and e["errors"]["|x|"][2] < 1e-3:
            why = ("|x| = relu(x) + relu(−x) is in its span" if e["name"] == "relu" else
                   "two of its units make the kink")
            notes.append(f"{e['activation']} fits |x| almost exactly with k = 2 (error {e['errors']['|x|'][2]:.1e}): "
                         f"{why}.")
    if "step" in d["targets"] and len(ks) > 1:
        notes.append(_step_note(d))
    notes.append("Each error is the best fit found (Adam from the previous k's fit, then least squares for the "
                 "output layer): an upper bound on what k units can reach, never rising with k because k units "
                 "hold every smaller network.")
    return notes


def _step_note(d: dict[str, Any]) -> str:
    """The step's slopes, said to be the slowest only where they are, per activation."""
    ks = d["ks"]
    best_step = min(d["fits"], key=lambda e: e["errors"]["step"][ks[-1]])
    slopes = [e["slopes"]["step"] for e in d["fits"] if e["slopes"]["step"] is not None]
    slowest = [e for e in d["fits"] if e["slopes"]["step"] is not None
               and all(e["slopes"][t] is not None and e["slopes"]["step"] >= e["slopes"][t] for t in d["targets"])]
    if not slopes:
        text = "The step: no slope (the errors are 0 or not finite)"
    elif len(slowest) == len(d["fits"]):
        text = (f"The step falls slowest for every activation (slopes {min(slopes):+.2f} to {max(slopes):+.2f})")
    else:
        text = (f"The step's slopes are {min(slopes):+.2f} to {max(slopes):+.2f}"
                + (f"; it falls slowest for {', '.join(e['activation'] for e in slowest)}" if slowest else ""))
    text += (": a continuous network cannot jump, so the error is set by how steep the units get at the jump, and "
             f"the fits ring next to it; best at k = {ks[-1]}: {best_step['activation']} "
             f"({best_step['errors']['step'][ks[-1]]:.2g}).")
    one = [e for e in d["fits"] if e["errors"]["step"][ks[0]] < 2 * e["errors"]["step"][ks[-1]]]
    if one:
        text += (" " + ", ".join(e["activation"] for e in one) + f" already reach{'es' * (len(one) == 1)} "
                 + ", ".join(f"{e['errors']['step'][ks[0]]:.2g}" for e in one) + f" with k = {ks[0]}, within "
                 f"×2 of k = {ks[-1]}: one steep S-shaped unit is nearly a step by itself, so more units add little.")
    return text


def label_log_axis(ax: Any) -> None:
    """Enough labelled ticks on a log y axis: decades, or 1-2-5 steps where it spans less than two decades."""
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullLocator

    lo, hi = ax.get_ylim()
    if hi / lo >= 100:
        return
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0) if hi / lo >= 8 else (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)))
    ax.yaxis.set_major_formatter(FormatStrFormatter("%.2g"))
    ax.yaxis.set_minor_locator(NullLocator())


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
        label_log_axis(ax)
        ax.set_xlabel("hidden units k")
        ax.set_title(f"target {t}")
        ax.legend(fontsize=8, loc="best")
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
