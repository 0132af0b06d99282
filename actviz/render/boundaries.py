"""Decision boundaries of a 2-D comparison, drawn like TensorFlow Playground's output panel.

* :func:`draw_boundary` — one run's boundary on one Axes (made when ``ax`` is None; returned):
  two classes are a diverging map of the probability of class 1 (orange for class 0,
  white where the model is undecided, blue for class 1); more classes are each class's
  colour with the model's confidence as its strength.  The training points lie on top in
  their class's colour, with a white edge.
* :func:`plot_boundaries` — a Figure of panels: one row per activation, one column per
  seed (and configuration), each panel titled with its seed and test accuracy.
* :func:`has_boundaries` — whether a store's document holds any to draw.

The boundaries are those stored in each run (:mod:`actviz.results.boundary`), so drawing
never retrains.  matplotlib is imported inside the functions.
"""

from __future__ import annotations

import textwrap

from collections.abc import Mapping, Sequence
from typing import Any

from actviz.results.boundary import decode
from actviz.results.labels import varying

__all__ = ["MAX_COLUMNS", "MAX_ROWS", "boundary_runs", "draw_boundary", "has_boundaries", "plot_boundaries"]

#: TensorFlow Playground's two colours: class 0 (orange) and class 1 (blue)
ORANGE, BLUE = "#f59322", "#0877bd"
#: the colours of classes beyond two
_CLASS_COLOURS = (ORANGE, BLUE, "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
                  "#17becf")
#: the most rows (activations) and columns (seeds × configurations) one picture draws
MAX_ROWS, MAX_COLUMNS = 12, 8


def _colour(c: int) -> str:
    return _CLASS_COLOURS[c % len(_CLASS_COLOURS)]


def _image(probs: Any) -> Any:
    """An RGB image (n, n, 3) of class probabilities (k, n, n)."""
    import numpy as np
    from matplotlib.colors import LinearSegmentedColormap, to_rgb

    k = probs.shape[0]
    if k == 2:
        cmap = LinearSegmentedColormap.from_list("playground", [ORANGE, "#ffffff", BLUE])
        return cmap(probs[1])[..., :3]
    colours = np.array([to_rgb(_colour(c)) for c in range(k)])
    top = probs.argmax(0)
    conf = (probs.max(0) - 1 / k) / (1 - 1 / k)  # 0 where undecided, 1 where certain
    alpha = 0.85 * np.clip(conf, 0, 1)[..., None]
    return (1 - alpha) + alpha * colours[top]


def draw_boundary(boundary: Mapping[str, Any], ax: Any = None, *, title: str | None = None,
                  point_size: float = 9.0) -> Any:
    """Draw one stored ``boundary`` with its training points on ``ax`` (a new Axes when None); return the Axes."""
    import numpy as np

    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.figure(figsize=(3, 3)).add_subplot()
    x0, x1, y0, y1 = boundary["extent"]
    ax.imshow(_image(decode(dict(boundary))), origin="lower", extent=(x0, x1, y0, y1), interpolation="bilinear",
              aspect="auto")
    pts = np.asarray(boundary["points"], dtype=float).reshape(-1, 2)
    labels = np.asarray(boundary["labels"], dtype=int)
    ax.scatter(pts[:, 0], pts[:, 1], c=[_colour(c) for c in labels], s=point_size, edgecolors="white",
               linewidths=0.4)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize="small")
    return ax


def boundary_runs(results: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The runs of ``results`` that hold a boundary."""
    return [r for r in results.get("runs") or () if r.get("boundary")]


def has_boundaries(results: Mapping[str, Any]) -> bool:
    return bool(boundary_runs(results))


def _accuracy(run: Mapping[str, Any]) -> str:
    hist = run.get("history") or []
    acc = hist[-1].get("test_acc") if hist else None
    return f"test {100 * acc:.1f}%" if acc is not None else "test ?"


def _grid(runs: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[tuple[str, int]], dict[str, str]]:
    """Rows (activation labels), columns ((configuration label, seed)) and each configuration's short name."""
    rows = list(dict.fromkeys(r["label"] for r in runs))
    cfgs = {r["config_label"]: r.get("config") or {} for r in runs}
    names, _ = varying(list(cfgs.values()))
    short = dict(zip(cfgs, names)) if len(cfgs) > 1 else {label: "" for label in cfgs}
    cols = sorted({(r["config_label"], int(r["seed"])) for r in runs},
                  key=lambda c: (list(cfgs).index(c[0]), c[1]))
    return rows, cols, short


def plot_boundaries(results: Mapping[str, Any]) -> Any:
    """A matplotlib Figure: one panel per run with a boundary (rows: activations; columns: seeds, configurations)."""
    from matplotlib.figure import Figure

    runs = boundary_runs(results)
    if not runs:
        raise ValueError("no run holds a decision boundary (only 2-D toy sets have them)")
    rows, cols, short = _grid(runs)
    left_out = len(rows) > MAX_ROWS or len(cols) > MAX_COLUMNS
    rows, cols = rows[:MAX_ROWS], cols[:MAX_COLUMNS]
    cell = 2.1
    width = 1.3 + cell * len(cols)
    data = (runs[0].get("config") or {}).get("data", "")
    title = textwrap.wrap(f"Decision boundaries on {data}: one row per activation, training points on top"
                          + (" (some runs left out)" if left_out else ""), int(width * 13))  # ~13 characters an inch
    more_lines = 0.2 * (len(title) - 1)  # inches the title's extra lines take
    fig = Figure(figsize=(width, 0.9 + more_lines + cell * len(rows)))
    fig.subplots_adjust(left=1.2 / fig.get_figwidth(), right=1 - 0.1 / fig.get_figwidth(),
                        bottom=0.1 / fig.get_figheight(), top=1 - (0.75 + more_lines) / fig.get_figheight(),
                        wspace=0.08, hspace=0.25)
    axes = fig.subplots(len(rows), len(cols), squeeze=False)
    by_cell = {(r["label"], r["config_label"], int(r["seed"])): r for r in runs}
    for i, label in enumerate(rows):
        for j, (cfg, seed) in enumerate(cols):
            ax = axes[i][j]
            run = by_cell.get((label, cfg, seed))
            if run is None:
                ax.set_axis_off()
                continue
            name = f"{short[cfg]}\n" if short[cfg] else ""
            draw_boundary(run["boundary"], ax, title=f"{name}seed {seed} · {_accuracy(run)}")
        axes[i][0].set_ylabel(label, fontsize="medium", weight="bold")
    fig.suptitle("\n".join(title), fontsize="medium")
    return fig
