"""Lesson ``xor``: a single linear threshold unit cannot classify XOR; a 2-2-1 MLP can.

Two measurements:

* **One linear threshold unit** ``[w·x + b ≥ 0]``: an exhaustive search over
  directions (every 0.25°) and every threshold that separates the projected
  points differently finds the most XOR points any line gets right (3 of 4), and
  the same search over all 16 labelings of the four corners counts the linearly
  separable ones (14: all but XOR and XNOR).  The perceptron rule, run on XOR,
  never converges.
* **The 2-2-1 MLP** ``σ(W₂ f(W₁x + b₁) + b₂)`` trained with full-batch Adam on the
  binary cross-entropy from ``seeds`` random initialisations (weights and biases
  N(0, 1), the same starts for every activation).  A run succeeds when all four
  points are right after training (the predicted probability on the point's side
  of ½ by at least 0.01, so that a network stuck at ½ does not count by the sign
  of a rounding error); its epochs are the first epoch from which it
  stays right.  With ``step`` autograd's gradient through the hidden layer is 0,
  so the hidden weights never move; only the output unit learns, and a run can
  succeed only when its *random* hidden features already make XOR separable — the
  lesson counts those starts and checks that every success is among them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from actviz.core.registry import params_json
from actviz.lessons.result import LessonResult, check_seeds, one_thread, colors, g, new_figure, rebind, resolve_activations

NAME = "xor"
DEFAULT_ACTIVATIONS = ("identity", "step", "relu", "tanh", "sigmoid")

X = ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))
Y = (0, 1, 1, 0)
HALF_LN2 = math.log(2) / 2
#: a point is right when its predicted probability is on its side of ½ by at least 0.01: a network
#: stuck at p = ½ everywhere (the linear network's optimum) must not count by the sign of a rounding error
MARGIN = math.log(0.51 / 0.49)


# --------------------------------------------------------------------------- one threshold unit


def best_threshold_unit(points: Sequence[Sequence[float]], labels: Sequence[int], *, directions: int = 1440) -> dict[str, Any]:
    """The most points one unit ``[w·x + b ≥ 0]`` (2-D) classifies right, by exhaustive search.

    Every direction on a grid of ``directions`` angles, every threshold between (and
    beyond) the sorted projections, both orientations.  Returns the best count and a
    unit (w, b) attaining it.
    """
    best = (-1, -1.0, (1.0, 0.0), 0.0)  # (right, margin, w, b): the widest margin among the best
    n = len(points)
    for i in range(directions):
        t = 2 * math.pi * i / directions
        w = (math.cos(t), math.sin(t))
        proj = [w[0] * p[0] + w[1] * p[1] for p in points]
        cuts = sorted(set(proj))
        thresholds = [cuts[0] - 1.0] + [(a + b) / 2 for a, b in zip(cuts, cuts[1:])] + [cuts[-1] + 1.0]
        for c in thresholds:
            right = sum(int((p >= c) == bool(y)) for p, y in zip(proj, labels))
            margin = min(abs(p - c) for p in proj)
            if (right, margin) > best[:2]:
                best = (right, margin, w, -c)
    return {"correct": best[0], "of": n, "w": list(best[2]), "b": best[3], "margin": best[1]}


def separable_labelings(points: Sequence[Sequence[float]] = X) -> list[tuple[int, ...]]:
    """The labelings of ``points`` that one threshold unit classifies perfectly."""
    out = []
    for code in range(2 ** len(points)):
        labels = tuple((code >> (len(points) - 1 - i)) & 1 for i in range(len(points)))
        if best_threshold_unit(points, labels, directions=360)["correct"] == len(points):
            out.append(labels)
    return out


def perceptron(points: Sequence[Sequence[float]] = X, labels: Sequence[int] = Y, *, epochs: int = 100) -> dict[str, Any]:
    """Rosenblatt's rule on the points; whether an epoch without mistakes came, and the best count."""
    w, b = [0.0, 0.0], 0.0
    best = 0
    for epoch in range(1, epochs + 1):
        mistakes = 0
        for p, y in zip(points, labels):
            pred = int(w[0] * p[0] + w[1] * p[1] + b >= 0)
            if pred != y:
                mistakes += 1
                s = 1 if y else -1
                w = [w[0] + s * p[0], w[1] + s * p[1]]
                b += s
        right = sum(int(int(w[0] * p[0] + w[1] * p[1] + b >= 0) == y) for p, y in zip(points, labels))
        best = max(best, right)
        if mistakes == 0:
            return {"converged": True, "epochs": epoch, "best_correct": right}
    return {"converged": False, "epochs": epochs, "best_correct": best}


# --------------------------------------------------------------------------- the MLP


def _train(act: Any, starts: dict[str, Any], epochs: int, lr: float) -> dict[str, Any]:
    import torch

    x = torch.tensor(X, dtype=torch.float64)
    y = torch.tensor(Y, dtype=torch.float64)
    params = {k: v.clone().requires_grad_(True) for k, v in starts.items()}
    w1, b1, w2, b2 = params["w1"], params["b1"], params["w2"], params["b2"]
    opt = torch.optim.Adam(params.values(), lr=lr)
    n = w1.shape[0]
    last_wrong = torch.full((n,), 0, dtype=torch.int64)  # the last epoch ending with a wrong point (0: none)

    def logits() -> Any:
        h = act.forward(torch.einsum("pi,sij->spj", x, w1) + b1[:, None, :])  # (S, 4, hidden)
        return torch.einsum("spj,sj->sp", h, w2) + b2[:, None]

    for epoch in range(1, epochs + 1):
        opt.zero_grad(set_to_none=True)
        z = logits()
        with torch.no_grad():  # the state after epoch - 1
            last_wrong[~_right(z, y).all(1)] = epoch - 1
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y.expand_as(z), reduction="none")
        loss.mean(1).sum().backward()
        opt.step()
    with torch.no_grad():
        z = logits()
        right = _right(z, y)
        last_wrong[~right.all(1)] = epochs
        correct = right.sum(1)
        final_loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y.expand_as(z), reduction="none").mean(1)
        pre = torch.einsum("pi,sij->spj", x, w1) + b1[:, None, :]
        dead = (act.derivative(pre) == 0).all(1).any(1)  # a hidden unit with f′ = 0 on all four points
    success = correct == 4
    moved = float((w1.detach() - starts["w1"]).abs().max().item())
    return {
        "success": success.tolist(),
        "correct": correct.to(torch.int64).tolist(),
        "loss": final_loss.tolist(),
        "epochs": [int(e) + 1 if s else None for e, s in zip(last_wrong.tolist(), success.tolist())],
        "hidden_moved": moved,
        "dead_unit": dead.tolist(),
        "final": {k: v.detach() for k, v in params.items()},
    }


def _right(z: Any, y: Any) -> Any:
    """Which points are right with the margin: z ≥ MARGIN for label 1, z ≤ −MARGIN for label 0."""
    return ((z >= MARGIN) & (y == 1)) | ((z <= -MARGIN) & (y == 0))


def _hidden_features_separable(act: Any, starts: dict[str, Any], directions: int = 1440) -> list[bool]:
    """Per start: whether the random hidden features f(W₁x + b₁) make XOR linearly separable.

    Two hidden units give 2-D features; the four feature points are separable when, along
    some direction, every class-0 projection lies below every class-1 one (all directions
    of the circle, so both orientations; the same grid as :func:`best_threshold_unit`).
    Features of more units are projected on random directions instead (a lower bound).
    """
    import torch

    x = torch.tensor(X, dtype=torch.float64)
    y = torch.tensor(Y)
    with torch.no_grad():
        h = act.forward(torch.einsum("pi,sij->spj", x, starts["w1"]) + starts["b1"][:, None, :])  # (S, 4, H)
    if h.shape[2] == 2:
        t = torch.arange(directions, dtype=torch.float64) * (2 * math.pi / directions)
        dirs = torch.stack([t.cos(), t.sin()], 1)  # (D, 2)
    else:
        dirs = torch.randn(directions, h.shape[2], generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    proj = torch.einsum("sph,dh->sdp", h, dirs)  # (S, D, 4)
    low = proj[:, :, y == 0].amax(2)
    high = proj[:, :, y == 1].amin(2)
    return (low < high).any(1).tolist()


def run(*, activations: Sequence[Any] | None = None, seeds: int | None = None, epochs: int = 2000,
        lr: float = 0.05, hidden: int = 2) -> LessonResult:
    """Measure the XOR lesson; ``seeds`` random initialisations per activation (default 100)."""
    import torch

    t0 = time.perf_counter()
    n = check_seeds(seeds, lesson=NAME)
    acts = resolve_activations(activations, DEFAULT_ACTIVATIONS)
    unit = best_threshold_unit(X, Y)
    labelings = separable_labelings(X)
    perc = perceptron(X, Y)
    gen = torch.Generator().manual_seed(0)
    starts = {
        "w1": torch.randn(n, 2, hidden, generator=gen, dtype=torch.float64),
        "b1": torch.randn(n, hidden, generator=gen, dtype=torch.float64),
        "w2": torch.randn(n, hidden, generator=gen, dtype=torch.float64),
        "b2": torch.randn(n, generator=gen, dtype=torch.float64),
    }
    per_act: list[dict[str, Any]] = []
    for act in acts:
        with one_thread():  # tiny tensors: threads only add waiting on a busy machine
            r = _train(act, starts, epochs, lr)
        sep = _hidden_features_separable(act, starts)
        succ = r["success"]
        eps = sorted(e for e in r["epochs"] if e is not None)
        # the run shown in the picture: the first success, else the one with most points right
        shown = succ.index(True) if any(succ) else max(range(n), key=lambda i: (r["correct"][i], -r["loss"][i]))
        per_act.append({
            "activation": act.label,
            "name": act.name,
            "params": params_json(act),
            "successes": sum(succ),
            "runs": n,
            "success_rate": sum(succ) / n,
            "epochs_median": eps[len(eps) // 2] if eps else None,
            "epochs_min": eps[0] if eps else None,
            "epochs_max": eps[-1] if eps else None,
            "best_correct": max(r["correct"]),
            "loss_median": sorted(r["loss"])[n // 2],
            "hidden_weights_moved": r["hidden_moved"],
            "separable_at_start": sum(sep),
            "successes_separable_at_start": sum(1 for s, p in zip(succ, sep) if s and p),
            # failures stuck at the loss ln2/2: two points fitted, two left at p = 1/2
            "failures_with_dead_unit": sum(1 for s, d_ in zip(succ, r["dead_unit"]) if not s and d_),
            "failures_at_half_ln2": sum(1 for s, l_ in zip(succ, r["loss"]) if not s and abs(l_ - HALF_LN2) < 0.01),
            "shown_run": shown,
            "shown_params": {k: v[shown].tolist() for k, v in r["final"].items()},
            "per_run": {"success": succ, "correct": r["correct"], "epochs": r["epochs"]},
        })
    data = {
        "points": [list(p) for p in X],
        "labels": list(Y),
        "threshold_unit": unit,
        "separable_labelings": len(labelings),
        "perceptron": perc,
        "mlp": per_act,
        "epochs": epochs,
        "lr": lr,
        "hidden": hidden,
    }
    rows = []
    for a in per_act:
        ep = "—" if a["epochs_median"] is None else f"{a['epochs_median']} ({a['epochs_min']}–{a['epochs_max']})"
        rows.append([a["activation"], f"{a['successes']}/{a['runs']}", f"{100 * a['success_rate']:.0f}%", ep,
                     f"{a['best_correct']}/4", g(a["hidden_weights_moved"], ".2g"), f"{a['separable_at_start']}/{n}"])
    return LessonResult(
        name=NAME,
        title=f"xor — 2-{hidden}-1 MLP from {n} random starts per activation",
        options={"activations": [a.label for a in acts], "seeds": n, "epochs": epochs, "lr": lr, "hidden": hidden},
        columns=["activation", "success", "rate", "epochs median (range)", "best", "|ΔW₁| max", "separable at start"],
        rows=rows,
        notes=_notes(data),
        data=data,
        seconds=time.perf_counter() - t0,
        caption=f"success: all 4 points right (p on the right side of ½ by ≥ 0.01) after {epochs} epochs of full-batch Adam (lr {lr:g}); epochs: first "
        "epoch from which the run stays right; |ΔW₁|: how far the hidden weights moved; separable at start: the "
        "random hidden features already separate XOR",
    )


def _notes(d: dict[str, Any]) -> list[str]:
    unit, perc = d["threshold_unit"], d["perceptron"]
    notes = [
        f"One linear threshold unit: the best line gets {unit['correct']} of the 4 XOR points right "
        f"(exhaustive search over directions and thresholds); {d['separable_labelings']} of the 16 labelings of "
        "the four corners are linearly separable"
        + (", XOR and XNOR are the two that are not. " if d["separable_labelings"] == 14 else ". ")
        + ("The perceptron rule " + (f"converged in {perc['epochs']} epochs — unexpected." if perc["converged"]
           else f"never converges on XOR ({perc['epochs']} epochs, at best {perc['best_correct']}/4)."))
    ]
    for a in d["mlp"]:
        name, k, n = a["activation"], a["successes"], a["runs"]
        rate = f"{name}: {k}/{n} random starts learn XOR"
        if name == "identity":
            if k == 0:
                loss = a.get("loss_median")
                at_half = loss is not None and abs(loss - math.log(2)) < 0.01
                notes.append(f"{rate} — a stack of linear maps is one linear map, so it can do no better than the "
                             "single unit (3/4 at most); trained on the cross-entropy it "
                             + (f"goes to the linear model's optimum for XOR, p = ½ at every point (median final "
                                f"loss {loss:.3f}, ln 2 = {math.log(2):.3f})" if at_half else
                                "ends" + ("" if loss is None else f" at a median final loss of {loss:.3f}"))
                             + f", with at best {a['best_correct']}/4 right.")
            else:
                notes.append(f"{rate} — this contradicts the argument that a linear network is one linear unit; "
                             "look for a numerical fault.")
        elif a["hidden_weights_moved"] == 0.0:
            inside = a["successes_separable_at_start"]
            notes.append(
                f"{rate}. Its gradient is 0, so the hidden weights never moved (max |ΔW₁| = 0); only the output "
                f"unit learned. {a['separable_at_start']}/{n} random starts already had hidden features that "
                f"separate XOR, and " + (f"{inside} of the {k} successes are among them" if k else "no start succeeded")
                + (" — it learns nothing, it only keeps what the random start gave it." if inside == k
                   else " — a success outside them contradicts the zero gradient; look for a fault."))
        else:
            ep = "" if a["epochs_median"] is None else f", in a median of {a['epochs_median']} epochs"
            why = ""
            stuck = a["failures_at_half_ln2"]
            if k < n and stuck:
                why = (f" {stuck} of the {n - k} failures stopped at the loss ln2/2 = {HALF_LN2:.3f}: two points "
                       "fitted and two left at p = ½, the plateau where one of the only two hidden units does "
                       "nothing useful — 2-2-1 is the smallest network that can solve XOR and has no spare unit.")
            dead = a["failures_with_dead_unit"]
            if k < n and dead:
                why += (f" {dead} of the {n - k} failures end with a dead hidden unit (f′ = 0 on all four points): "
                        "no gradient reaches it again, and one unit cannot separate XOR.")
            notes.append(f"{rate} ({100 * a['success_rate']:.0f}%{ep}).{why}")
    return notes


def figures(result: LessonResult) -> dict[str, Any]:
    """``decision-regions.png``: the best single unit and one trained MLP per activation."""
    import numpy as np
    from matplotlib.colors import ListedColormap

    d = result.data
    panels = 1 + len(d["mlp"])
    cols = min(3, panels)
    rows = math.ceil(panels / cols)
    fig = new_figure(3.1 * cols, 3.1 * rows + 0.5)
    gs = np.linspace(-0.5, 1.5, 201)
    xx, yy = np.meshgrid(gs, gs)
    grid = np.stack([xx.ravel(), yy.ravel()], 1)
    cmap = ListedColormap(["#DCE6F2", "#F6DCC9"])
    pts = np.array(d["points"])
    lab = np.array(d["labels"])

    def draw(ax: Any, positive: Any, title: str) -> None:
        ax.contourf(xx, yy, positive.reshape(xx.shape).astype(float), levels=[-0.5, 0.5, 1.5], cmap=cmap)
        ax.contour(xx, yy, positive.reshape(xx.shape).astype(float), levels=[0.5], colors="#555555", linewidths=1)
        for cls, marker, color in ((0, "o", colors()[0]), (1, "s", colors()[1])):
            sel = lab == cls
            ax.scatter(pts[sel, 0], pts[sel, 1], marker=marker, s=90, c=color, edgecolors="black", zorder=3,
                       label=f"class {cls}")
        ax.set_xlim(-0.5, 1.5)
        ax.set_ylim(-0.5, 1.5)
        ax.set_aspect("equal")
        ax.set_xticks([0, 1])
        ax.set_yticks([0, 1])
        ax.grid(False)
        ax.set_title(title, fontsize=10)

    import torch

    unit = d["threshold_unit"]
    ax = fig.add_subplot(rows, cols, 1)
    draw(ax, grid @ np.array(unit["w"]) + unit["b"] >= 0, f"one threshold unit: best {unit['correct']}/4")
    ax.legend(loc="upper center", fontsize=7.5, ncols=2, bbox_to_anchor=(0.5, -0.08), frameon=False)
    for i, a in enumerate(d["mlp"]):
        act = rebind(a)
        p = {k: torch.tensor(v, dtype=torch.float64) for k, v in a["shown_params"].items()}
        with torch.no_grad():
            h = act.forward(torch.tensor(grid) @ p["w1"] + p["b1"])
            z = (h @ p["w2"] + p["b2"]).numpy()
        ok = "learned" if a["successes"] and a["per_run"]["success"][a["shown_run"]] else f"best {a['best_correct']}/4"
        draw(fig.add_subplot(rows, cols, i + 2), z >= 0,
             f"{a['activation']}: {a['successes']}/{a['runs']} learn XOR\n(start #{a['shown_run']}: {ok})")
    fig.suptitle("XOR: decision regions (orange: predicted 1)", fontsize=11)
    fig.subplots_adjust(left=0.06, right=0.97, top=1 - 0.75 / (3.1 * rows + 0.5), bottom=0.07, wspace=0.25, hspace=0.45)
    return {"decision-regions.png": fig}

