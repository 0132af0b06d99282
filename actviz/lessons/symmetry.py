"""Lesson ``symmetry``: all-equal initial weights keep every hidden unit identical.

Trained on the real Fashion-MNIST through the training engine: a one-hidden-layer
MLP per activation, once from **constant** initial weights (every weight
:data:`~actviz.bench.train.CONSTANT_INIT`, biases 0) and once from d2l's random
N(0, 0.01²).  Every hidden unit of the constant start computes the same function,
receives the same gradient and so gets the same update: after training, the units'
incoming weight vectors (the columns of W₁) and outgoing ones (the rows of
W_out) are measured for how far apart they are — the largest difference between
any unit's weights and unit 0's, relative to the largest weight — and the number
of distinct units is counted.  A layer of identical units is one unit copied, and
the accuracy shows what that costs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from actviz.core.registry import params_json
from actviz.lessons.result import LessonResult, check_seeds, colors, g, new_figure, resolve_activations

NAME = "symmetry"
INITS = ("constant", "normal")
#: units closer than this (relative to the largest weight) count as the same unit
SAME_UNIT = 1e-6


def _spread(w: Any) -> tuple[float, float]:
    """(max |unit j − unit 0| / max |w|, max |w|) over the units = columns of ``w``."""
    big = float(w.abs().max())
    diff = float((w - w[:, :1]).abs().max())
    return (diff / big if big > 0 else 0.0), big


def _distinct(w: Any, tol: float) -> int:
    """How many units (columns) differ by more than ``tol`` × max|w| from every earlier one."""
    big = float(w.abs().max()) or 1.0
    reps: list[Any] = []
    for j in range(w.shape[1]):
        col = w[:, j]
        if not any(float((col - r).abs().max()) <= tol * big for r in reps):
            reps.append(col)
    return len(reps)


def run(*, activations: Sequence[Any] | None = None, seeds: int | None = None, epochs: int = 3, hidden: int = 64,
        lr: float = 0.1, data_dir: str | None = None, data: Any = None) -> LessonResult:
    """Measure the symmetry lesson (``seeds`` training seeds, default 1)."""
    from actviz.bench import data as data_layer
    from actviz.bench.train import CONSTANT_INIT, TrainConfig, train_runs

    t0 = time.perf_counter()
    n = check_seeds(seeds, lesson=NAME)
    acts = resolve_activations(activations)
    ds = data if data is not None else data_layer.load(data_dir)
    rows_data: list[dict[str, Any]] = []
    units: dict[str, Any] = {}
    for init in INITS:
        res = train_runs(acts, ds, TrainConfig(epochs=epochs, hidden=hidden, depth=1, lr=lr, init=init),
                         seeds=list(range(n)), keep_weights=True)
        if res.interrupted:  # Ctrl-C or a signal: the lesson is interrupted, nothing is written
            from actviz.core import signals

            raise signals.stopped()
        for act in acts:
            runs = [r for r in res.runs if r["activation"] == act.name and r["params"] == params_json(act)]
            entry: dict[str, Any] = {"activation": act.label, "init": init, "seeds": [], "name": act.name,
                                     "params": params_json(act)}
            for r in runs:
                if r["status"] != "completed" or "weights" not in r:
                    entry["seeds"].append({"seed": r["seed"], "status": r["status"]})
                    continue
                w1, w_out = r["weights"][0], r["weights"][1]
                s_in, big_in = _spread(w1)
                s_out, _ = _spread(w_out.t())
                entry["seeds"].append({
                    "seed": r["seed"], "status": r["status"], "test_acc": float(r["history"][-1]["test_acc"]),
                    "spread_in": s_in, "spread_out": s_out, "max_weight": big_in,
                    "distinct_units": _distinct(w1, SAME_UNIT),
                    "bias_spread": float((r["biases"][0] - r["biases"][0][0]).abs().max()),
                })
                if r["seed"] == 0:
                    units[f"{act.label}/{init}"] = w1[:, :8].t().reshape(-1, 28, 28).numpy()
            ok = [s for s in entry["seeds"] if "test_acc" in s]
            entry["test_acc"] = sum(s["test_acc"] for s in ok) / len(ok) if ok else None
            entry["spread_in"] = max((s["spread_in"] for s in ok), default=None)
            entry["spread_out"] = max((s["spread_out"] for s in ok), default=None)
            entry["distinct_units"] = max((s["distinct_units"] for s in ok), default=None)
            rows_data.append(entry)
    data = {"runs": rows_data, "hidden": hidden, "epochs": epochs, "lr": lr, "constant": CONSTANT_INIT,
            "same_unit_tolerance": SAME_UNIT, "seeds": list(range(n))}
    rows = [[e["activation"], e["init"] if e["init"] == "constant" else "N(0, 0.01²)",
             g(e["test_acc"], ".4f"), g(e["spread_in"], ".1e"), g(e["spread_out"], ".1e"),
             f"{e['distinct_units']}/{hidden}" if e["distinct_units"] is not None else "—"] for e in rows_data]
    order = {a.label: i for i, a in enumerate(acts)}
    rows_sorted = [r for _, r in sorted(zip(rows_data, rows), key=lambda p: (order[p[0]["activation"]],
                                                                             INITS.index(p[0]["init"])))]
    return LessonResult(
        name=NAME,
        title=f"symmetry — Fashion-MNIST 784-{hidden}-10, {epochs} epochs, SGD lr {lr:g}",
        options={"activations": [a.label for a in acts], "seeds": n, "epochs": epochs, "hidden": hidden, "lr": lr},
        columns=["activation", "init", "test acc", "W₁ spread", "W_out spread", "distinct units"],
        rows=rows_sorted,
        notes=_notes(data),
        data=data,
        seconds=time.perf_counter() - t0,
        caption=f"constant: every weight {CONSTANT_INIT:g}, biases 0; spread: the largest difference between any "
        "hidden unit's weights and unit 0's, relative to the largest weight, after training; distinct units: "
        f"units more than {SAME_UNIT:g} apart",
        extras={"units": units},
    )


def _notes(d: dict[str, Any]) -> list[str]:
    notes = []
    by = {(e["activation"], e["init"]): e for e in d["runs"]}
    labels = list(dict.fromkeys(e["activation"] for e in d["runs"]))
    h = d["hidden"]
    for label in labels:
        c, r = by[(label, "constant")], by[(label, "normal")]
        if c["test_acc"] is None or r["test_acc"] is None:
            notes.append(f"{label}: a run did not complete ({c['seeds']} / {r['seeds']}).")
            continue
        same = c["distinct_units"] == 1
        text = (f"{label}: from the constant start the {h} hidden units' weights are still "
                + (f"identical after training (largest relative difference {c['spread_in']:.1e}, "
                   f"{'exactly 0' if c['spread_in'] == 0 else 'rounding only'}): the layer is one unit copied {h} times"
                   if same else
                   f"{c['distinct_units']} distinct units (relative spread {c['spread_in']:.1e}) — the symmetry broke, "
                   "against the argument; only rounding differences in the matrix products can do that")
                + f", and it reaches {100 * c['test_acc']:.1f}% against {100 * r['test_acc']:.1f}% from the random "
                "start, whose units "
                + ("differ" if r["distinct_units"] > 1 else "are identical too, which a random start should not give")
                + f" (relative spread {r['spread_in']:.2g}, {r['distinct_units']} distinct).")
        notes.append(text)
    return notes


def figures(result: LessonResult) -> dict[str, Any]:
    """``units.png``: accuracy per activation and initialisation, and the first hidden units' weights."""
    import numpy as np

    d = result.data
    labels = list(dict.fromkeys(e["activation"] for e in d["runs"]))
    by = {(e["activation"], e["init"]): e for e in d["runs"]}
    units = result.extras.get("units", {})
    fig = new_figure(11, 4.4)
    ax = fig.add_axes((0.06, 0.14, 0.28, 0.68))
    x = np.arange(len(labels))
    pal = colors()
    for k, (init, text) in enumerate((("constant", "constant"), ("normal", "N(0, 0.01²)"))):
        vals = [100 * (by[(lab, init)]["test_acc"] or 0) for lab in labels]
        bars = ax.bar(x + (k - 0.5) * 0.38, vals, 0.36, color=pal[k], label=text)
        for b_, v in zip(bars, vals):
            ax.text(b_.get_x() + b_.get_width() / 2, v + 1, f"{v:.0f}", ha="center", fontsize=8)
    ax.set_xticks(x, labels)
    ax.set_ylim(0, 100)
    ax.set_ylabel("test accuracy (%)")
    ax.legend(loc="upper center", ncols=2, bbox_to_anchor=(0.5, -0.09), frameon=False)
    ax.set_title("accuracy by initial weights")
    first = labels[0]
    for row, init in enumerate(("constant", "normal")):
        imgs = units.get(f"{first}/{init}")
        e = by[(first, init)]
        fig.text(0.40, 0.78 - row * 0.40,
                 f"{first}, {'constant' if init == 'constant' else 'random N(0, 0.01²)'} start: W₁ of hidden units "
                 f"1–8 after training ({e['distinct_units']} distinct of {d['hidden']})", fontsize=9.5)
        if imgs is None:
            continue
        lim = float(np.percentile(np.abs(imgs), 99)) or 1.0
        for j in range(min(8, imgs.shape[0])):
            a = fig.add_axes((0.40 + j * 0.074, 0.44 - row * 0.40, 0.068, 0.32))
            a.imshow(imgs[j], cmap="RdBu_r", vmin=-lim, vmax=lim)
            a.set_xticks([])
            a.set_yticks([])
            a.grid(False)
    fig.suptitle("symmetry: equal initial weights stay equal — the hidden layer acts as one unit", fontsize=12, y=0.97)
    return {"units.png": fig}
