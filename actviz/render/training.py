"""Pictures of a compare store: training curves and diagnostics, one row of panels per configuration.

* :func:`plot_curves` — training loss, and test (solid) and training (dashed) accuracy per
  epoch: one line per activation, the mean over the completed runs' seeds, with a band
  of ± one standard deviation;
* :func:`plot_diagnostics` — gradient norm per layer at the last epoch, the input layer's
  gradient norm per epoch, and the fractions of dead and saturated hidden units per epoch
  (the diagnostics are defined in :mod:`actviz.bench.train`);
* :func:`redraw` — both, written atomically as ``curves.png`` and ``diagnostics.png``, and
  ``boundaries.png`` (:mod:`actviz.render.boundaries`) when the runs hold decision boundaries.

The input is a store's document (:func:`actviz.results.load`, or what ``compare``
returns): ``runs``, and ``summary`` (the statistics, per configuration) for the
per-layer gradient norms.  matplotlib is imported inside the functions.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from actviz.core.errors import ActvizError
from actviz.core.files import write_atomic
from actviz.results import PLOTS, by_config, by_label, completed, epoch_series, mean_of, network_label

__all__ = ["CLASSES", "MAX_ROWS", "plot_curves", "plot_diagnostics", "redraw"]

Run = Mapping[str, Any]


#: the most configurations one picture draws (a row each); the others are named as left out
MAX_ROWS = 6
#: the classes of Fashion-MNIST: guessing scores 1/CLASSES
CLASSES = 10
_MARKERS = "os^Dv<>PX*"


def _line_band(ax: Any, runs: Sequence[Run], value: Callable[[Mapping[str, Any]], float | None],
               colors: Mapping[str, str], style: str = "-", labels: bool = True) -> list[float]:
    """Per activation, the mean of ``value`` over seeds at each epoch, with a band of ± one std.

    Lines that coincide stay visible: each activation has its own marker, and the lines
    drawn first are wider and lie below the later ones.  Returns the values drawn
    (band included), for the caller's y-range.
    """
    import numpy as np

    drawn: list[float] = []
    for label, s in epoch_series(runs, value).items():
        if not s["epochs"]:
            continue
        x, m, sd = (np.array(s[k], dtype=float) for k in ("epochs", "mean", "std"))
        color, i = colors[label]
        ax.plot(x, m, style, color=color, marker=_MARKERS[i % len(_MARKERS)], ms=(9, 7, 5)[i] if i < 3 else 4, lw=_width(i),
                zorder=2 + i, label=label if labels else None, markerfacecolor="none" if i % 2 else color)
        if sd.any():
            ax.fill_between(x, m - sd, m + sd, color=color, alpha=0.15, lw=0, zorder=1)
        drawn += [*(m - sd), *(m + sd)]
    return [v for v in drawn if np.isfinite(v)]


def _width(i: int) -> float:
    """The line width of the i-th activation: the first drawn widest, so that a later line on top leaves it visible."""
    return (4.2, 2.8, 1.6)[i] if i < 3 else 1.0


def _colors(runs: Sequence[Run]) -> dict[str, tuple[str, int]]:
    """One colour and an index (for the marker and the drawing order) per activation label, the same in every panel."""
    labels = list(dict.fromkeys(r["label"] for r in runs))
    return {label: (f"C{i % 10}", i) for i, label in enumerate(labels)}


def _seed_counts(group: Sequence[Run]) -> str:
    """How many seeds each activation of a configuration has: ``3 seeds`` or ``relu 3, tanh 2 seeds``."""
    counts = {label: len({r["seed"] for r in runs}) for label, runs in by_label(group).items()}
    values = set(counts.values())
    if len(values) == 1:
        (n,) = values
        return f"{n} seed{'s' if n != 1 else ''}"
    return ", ".join(f"{label} {n}" for label, n in counts.items()) + " seeds"


def _accuracy_range(ax: Any, values: Sequence[float], classes: int = CLASSES) -> None:
    """The chance level (1/classes), and a y-range of at least 10 points: noise near chance stays noise.

    The range reaches down to chance where the curves come within 25 points of it;
    above that the chance line would squash the curves, so the legend says where it is.
    """
    chance = 1.0 / classes
    lo, hi = (min(values), max(values)) if values else (chance, chance)
    near = lo - chance < 0.25
    if near:
        lo, hi = min(lo, chance), max(hi, chance)
        ax.axhline(chance, color="0.35", ls=":", lw=1.2, zorder=1.5, label=f"chance (1/{classes})")
    else:
        ax.plot([], [], color="0.35", ls=":", lw=1.2, label=f"chance (1/{classes}): {chance:g}, below the axis")
    _span(ax, lo, hi, 0.1, -0.01, 1.01)


def _loss_range(ax: Any, values: Sequence[float], classes: int = CLASSES) -> None:
    """The loss of guessing (ln classes) where the curves come near it, and a y-range that does not magnify noise."""
    import math

    guess = math.log(classes)
    lo, hi = (min(values), max(values)) if values else (guess, guess)
    if abs(lo - guess) < 0.5 or abs(hi - guess) < 0.5:
        ax.axhline(guess, color="0.35", ls=":", lw=1.2, zorder=1.5, label=f"guessing (ln {classes})")
        lo, hi = min(lo, guess), max(hi, guess)
    _span(ax, lo, hi, max(0.1, 0.1 * abs(hi)), None, None)


def _span(ax: Any, lo: float, hi: float, least: float, floor: float | None, ceiling: float | None) -> None:
    """Set the y-range to [lo, hi] with a margin, at least ``least`` wide, within [floor, ceiling]."""
    import math

    if not (math.isfinite(lo) and math.isfinite(hi)):
        return
    pad = max(0.02 * least, 0.05 * (hi - lo))
    lo, hi = lo - pad, hi + pad
    if hi - lo < least:
        mid = (hi + lo) / 2
        lo, hi = mid - least / 2, mid + least / 2
    ax.set_ylim(lo if floor is None else max(floor, lo), hi if ceiling is None else min(ceiling, hi))


def _fraction_range(ax: Any, values: Sequence[float]) -> None:
    """A fraction's y-range from the data (0 to a little above the largest), in percent."""
    from matplotlib.ticker import PercentFormatter

    top = max([0.0, *values])
    top = min(1.02, max(0.01, top * 1.25))
    ax.set_ylim(-0.03 * top, top)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))


def _shown(groups: dict[str, list[Run]]) -> tuple[dict[str, list[Run]], str]:
    """At most :data:`MAX_ROWS` configurations, and a note naming how many are left out."""
    if len(groups) <= MAX_ROWS:
        return groups, ""
    kept = dict(list(groups.items())[:MAX_ROWS])
    return kept, (f"\nthe first {MAX_ROWS} of {len(groups)} configurations; {len(groups) - MAX_ROWS} left out "
                  "('actviz results' lists them all)")


def _panel_title(label: str, cfg: Mapping[str, Any], n_configs: int, results: Mapping[str, Any]) -> str:
    """A row's title: the configuration's label in a sweep (what differs from d2l's defaults), else the net."""
    if n_configs > 1:
        return f"configuration: {label}"
    entry = next((e for e in results.get("summary") or [] if isinstance(e, Mapping)
                  and e.get("config_label") == label), {})
    return network_label(cfg, entry.get("inputs"))


def _row_title(fig: Any, ax: Any, text: str, height: float) -> None:
    """A configuration's name above its row of panels (left-aligned, above the panel titles)."""
    pos = ax.get_position()
    fig.text(pos.x0, pos.y1 + 0.42 / height, text, ha="left", va="bottom", fontsize="medium", weight="bold")


def _figure(n_rows: int, n_cols: int, width: float, **margins: float) -> tuple[Any, Any, float]:
    """A figure of ``n_rows`` rows of ``n_cols`` panels with fixed margins (in inches at the top and bottom).

    Fixed margins: constrained layout costs about 0.2 s a figure, on the benchmark's clock.
    """
    from matplotlib.figure import Figure

    top = margins.get("top", 1.1)
    height = top + 3.9 * n_rows
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=margins["left"], right=margins["right"], bottom=margins["bottom"] / height,
                        top=1 - top / height, wspace=margins["wspace"],
                        hspace=margins["hspace"] if n_rows > 1 else 0.2)
    return fig, fig.subplots(n_rows, n_cols, squeeze=False), height


def _finish_axes(axes: Sequence[Any], legend: Sequence[Any] = (), integer: Sequence[Any] | None = None) -> None:
    """A grid on ``axes``, whole-number epoch ticks on ``integer`` (default: all), legends where there are lines."""
    from matplotlib.ticker import MaxNLocator

    for ax in axes:
        ax.grid(alpha=0.3)
    for ax in axes if integer is None else integer:
        lo, hi = ax.get_xlim()
        if hi - lo < 1:  # one epoch: a range without two whole numbers would get fractional ticks
            ax.set_xlim(min(lo, round((lo + hi) / 2) - 0.5), max(hi, round((lo + hi) / 2) + 0.5))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    for ax in legend:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")


def plot_curves(results: Mapping[str, Any]) -> Any:
    """A matplotlib Figure: per configuration (one row), training loss and test/training accuracy."""
    runs = completed(results["runs"])
    groups, left_out = _shown(by_config(runs) or {"(no completed run)": []})
    colors = _colors(runs)
    n = len(groups)
    many = n > 1 or bool(left_out)
    fig, axes, height = _figure(n, 2, 11, left=0.07, right=0.985, bottom=0.55, wspace=0.2, hspace=0.75,
                                top=1.35 if left_out else 1.1)
    for (label, group), (ax1, ax2) in zip(groups.items(), axes):
        _loss_range(ax1, _line_band(ax1, group, lambda h: h["train_loss"], colors))
        ax1.set(xlabel="epoch", ylabel="training loss")
        acc = _line_band(ax2, group, lambda h: h["test_acc"], colors)
        acc += _line_band(ax2, group, lambda h: h["train_acc"], colors, style="--", labels=False)
        _accuracy_range(ax2, acc)
        ax2.set(xlabel="epoch", ylabel="accuracy")
        title = _panel_title(label, group[0].get("config", {}) if group else {}, 2 if many else 1, results)
        _row_title(fig, ax1, title + (f" — {_seed_counts(group)}" if group else ""), height)
        ax1.set_title("training loss", fontsize="medium")
        ax2.set_title("test accuracy (solid), training accuracy (dashed)", fontsize="medium")
        _finish_axes((ax1, ax2), legend=(ax1, ax2))
    sets = sorted({str(r.get("config", {}).get("data", "fashion-mnist")) for r in runs}) or ["fashion-mnist"]
    fig.suptitle(("Fashion-MNIST" if sets == ["fashion-mnist"] else ", ".join(sets))
                 + (", one row per configuration" if many else "")
                 + ": mean ± std over each configuration's completed runs" + left_out, y=1 - 0.2 / height)
    return fig


def _grad_rows(results: Mapping[str, Any], config_label: str) -> list[Mapping[str, Any]]:
    """The summary's activation rows of one configuration (their ``grad_norm`` per layer)."""
    for entry in results.get("summary") or []:
        if isinstance(entry, Mapping) and entry.get("config_label") == config_label:
            return list(entry.get("activations") or [])
    return []


def _grad_per_layer(ax: Any, rows: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any],
                    colors: Mapping[str, tuple[str, int]]) -> None:
    for row in rows:
        g = row.get("grad_norm")
        if g and row.get("label") in colors:
            color, i = colors[row["label"]]
            ax.semilogy(range(1, len(g) + 1), g, "-", marker=_MARKERS[i % len(_MARKERS)], color=color,
                        lw=_width(i), zorder=2 + i, label=row["label"])
    n_layers = int(cfg.get("depth", 1)) + 1
    ax.set_xticks(range(1, n_layers + 1), [f"{i}" if i < n_layers else f"{i}\n(out)" for i in range(1, n_layers + 1)])
    ax.set(xlabel="layer (1 = input layer)", ylabel="‖∂loss/∂W‖")
    ax.set_title("gradient norm per layer, last epoch", fontsize="medium")


def plot_diagnostics(results: Mapping[str, Any]) -> Any:
    """A matplotlib Figure: per configuration (one row), gradient norm per layer (last epoch),
    input-layer gradient norm per epoch, dead and saturated units per epoch."""
    runs = completed(results["runs"])
    groups, left_out = _shown(by_config(runs) or {"(no completed run)": []})
    colors = _colors(runs)
    n = len(groups)
    many = n > 1 or bool(left_out)
    fig, axes, height = _figure(n, 4, 16, left=0.055, right=0.99, bottom=0.7, wspace=0.3, hspace=0.8,
                                top=1.35 if left_out else 1.1)
    probe = None
    for (label, group), (a, b, c, d) in zip(groups.items(), axes):
        cfg = group[0].get("config", {}) if group else {}
        probe = cfg.get("probe_size", probe)
        _grad_per_layer(a, _grad_rows(results, label), cfg, colors)
        _row_title(fig, a, _panel_title(label, cfg, 2 if many else 1, results) + (f" — {_seed_counts(group)}" if group else ""),
                   height)
        _line_band(b, group, lambda h: h["diagnostics"]["grad_norm"][0], colors)
        b.set_yscale("log")
        b.set(xlabel="epoch", ylabel="‖∂loss/∂W₁‖")
        b.set_title("input-layer gradient norm", fontsize="medium")
        _fraction_range(c, _line_band(c, group, lambda h: mean_of(h["diagnostics"]["dead"]), colors))
        c.set(xlabel="epoch", ylabel="hidden units")
        c.set_title("dead units (f′ = 0 on all probes)", fontsize="medium")
        _fraction_range(d, _line_band(d, group, lambda h: mean_of(h["diagnostics"]["saturated"]), colors))
        d.set(xlabel="epoch", ylabel="hidden units")
        d.set_title("saturated units (|f′| ≤ 1% sup|f′|)", fontsize="medium")
        _finish_axes((a, b, c, d), legend=(a, c), integer=(b, c, d))
    fig.suptitle("Diagnostics" + (f" on a probe batch of {probe} training images" if probe else "")
                 + (", one row per configuration" if many else "") + "; bands ± std over seeds" + left_out,
                 y=1 - 0.2 / height)
    return fig


def _save_figure(fig: Any, path: Path) -> Path:
    fmt = path.suffix.lstrip(".") or "png"
    return write_atomic(path, lambda f: fig.savefig(f, format=fmt, dpi=110))


def redraw(results: Mapping[str, Any], out: str | os.PathLike[str]) -> tuple[dict[str, Path], list[str]]:
    """Draw curves.png and diagnostics.png of ``results`` into ``out``, and boundaries.png when its runs
    hold decision boundaries (2-D toy sets): (paths written, errors).

    Where activation parameters learned, also learned.png (:mod:`actviz.render.learned`); a stale
    learned.png of a store without them is removed.  A picture that fails is named in the errors
    (the others are still drawn).
    """
    from actviz.render.learned import plot_learned

    out = Path(out)
    paths: dict[str, Path] = {}
    errors: list[str] = []
    from actviz.render.boundaries import has_boundaries, plot_boundaries

    def boundaries(res: dict[str, Any]) -> Any:
        return plot_boundaries(res) if has_boundaries(res) else None

    drawers = {"curves.png": plot_curves, "diagnostics.png": plot_diagnostics, "boundaries.png": boundaries,
               "learned.png": plot_learned}
    for name in PLOTS:
        draw = drawers[name]
        try:
            fig = draw(results)
            if fig is None:  # nothing learned: no picture, and none left from an earlier store
                (out / name).unlink(missing_ok=True)
                continue
            paths[name.split(".")[0]] = _save_figure(fig, out / name)
        except ActvizError as exc:
            errors.append(f"could not draw {name}: {exc}")
        except Exception as exc:  # matplotlib: report it, keep results.json
            errors.append(f"could not draw {str(out / name)!r}: {type(exc).__name__}: {exc}")
    return paths, errors
