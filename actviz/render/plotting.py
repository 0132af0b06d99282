"""Pictures of activation functions and their derivatives (matplotlib, Agg, no pyplot).

>>> import actviz
>>> from actviz.render.plotting import plot_activations, save_figure
>>> fig = plot_activations(["relu", "gelu"], derivative=True)
>>> save_figure(fig, "relu-gelu.png")          # doctest: +SKIP

:func:`plot_activation` draws one activation on one Axes (f, or with
``derivative=True`` the analytic f′ as a line with the autograd f′ overlaid
as markers); :func:`plot_activations` builds a figure with an f panel and,
optionally, an f′ panel.  Kinks are marked at ``(x, value used)``, the
value is written next to the marker, and where f′ (or f) jumps the one-sided
limits are drawn as open circles.  A part of a curve whose variation is a tiny
fraction of the panel's height (leaky ReLU's 0.01 slope, GELU's dip) gets a
zoomed inset so that it does not look flat.

The curves are sampled by :mod:`actviz.render.sampling`; the legend and the inset
are placed by :mod:`actviz.render.placement`.

Every curve is a ``Line2D`` whose ``gid`` says what it is, so that tests and
notebooks can find the data: ``f:<label>``, ``df:<label>``,
``autograd:<label>``, ``kink:<label>``, ``limit:<label>``,
``piece:<label>:<i>`` (maxout's affine pieces) and ``zero`` (the axes lines).

matplotlib and torch are imported inside the functions: importing this module
is cheap, and :func:`check_output_path` can reject a bad ``-o`` before any
heavy import.
"""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actviz.core.errors import UsageError
from actviz.core.files import check_output_file, write_atomic
from actviz.facts.audit import autograd_derivative
from actviz.render.placement import INSET_THRESHOLD, curve_lines, place_legend_and_inset
from actviz.render.sampling import (
    MAX_ABS_X,
    check_range,
    close,
    evaluate,
    maxout_pieces,
    plottable,
    resolve_activation,
    resolve_range,
    sample_curve,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from actviz.core.registry import Activation

#: the name actviz.cli.plot uses for :func:`check_range`
_check_range = check_range

#: File types :func:`save_figure` writes, by extension.
FORMATS: dict[str, str] = {".png": "png", ".svg": "svg", ".pdf": "pdf"}

#: seaborn's "deep" palette.
PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3",
           "#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD")

#: seaborn "whitegrid"-like settings, applied with rc_context while a figure is built.
STYLE: dict[str, Any] = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.edgecolor": "#CCCCCC",
    "axes.linewidth": 1.0,
    "axes.grid": True,
    "axes.axisbelow": True,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10,
    "axes.labelcolor": "#262626",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "grid.color": "#E6E6E6",
    "grid.linewidth": 0.8,
    "xtick.color": "#4D4D4D",
    "ytick.color": "#4D4D4D",
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "xtick.major.size": 0,
    "ytick.major.size": 0,
    "legend.fontsize": 8.5,
    "legend.frameon": True,
    "legend.framealpha": 0.9,
    "legend.edgecolor": "#DDDDDD",
    "font.size": 10,
    "lines.linewidth": 2.0,
    "svg.hashsalt": "actviz",
    "path.simplify": True,
}

DPI = 110
_PRIME = "\u2032"
_MINUS = "\u2212"


# --------------------------------------------------------------------------- labels


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    return f"{v:.4g}".replace("-", _MINUS)


def _fmt_err(err: float) -> str:
    if err == 0:
        return "0"
    if not math.isfinite(err):
        return str(err)
    return f"{err:.1e}"


def _rhs(formula: str) -> str:
    """``relu(x) = max(0, x)`` → ``max(0, x)``."""
    left, sep, right = formula.partition(" = ")
    return right.strip() if sep and "(x)" in left and len(left) < 30 else formula


def _title_for(act: Activation) -> str:
    title = act.formula
    changed = act.label[len(act.name):]
    if changed:  # non-default parameters
        title = f"{act.label}:  {_rhs(title)}"
    return "\n".join(textwrap.wrap(title, 95)) or act.label


def _piece_label(w: float, b: float) -> str:
    slope = "x" if w == 1 else ("−x" if w == -1 else ("" if w == 0 else f"{_fmt(w)}x"))
    if w == 0:
        return _fmt(b)
    if b == 0:
        return slope
    return f"{slope} {'+' if b > 0 else _MINUS} {_fmt(abs(b))}"


# --------------------------------------------------------------------------- drawing


def plot_activation(
    act: Any,
    *,
    ax: Axes | None = None,
    derivative: bool = False,
    autograd: bool = True,
    xmin: float | None = None,
    xmax: float | None = None,
    n: int = 1001,
    n_autograd: int = 49,
    kinks: bool = True,
    label: str | None = None,
    color: str | None = None,
    annotate: bool = True,
) -> Axes:
    """Draw f (or, with ``derivative``, the analytic f′ and the autograd f′) of one activation.

    ``act`` is an :class:`~actviz.core.registry.Activation` or a name.  Without
    ``ax`` a new one-panel figure is made.  Drawing several activations on the
    same ``ax`` works: the limits, legend and zoom inset are recomputed each time.
    The range defaults to [−6, 6], widened until every kink lies inside with a margin
    (:func:`~actviz.render.sampling.default_range`).  Returns the Axes.
    """
    import matplotlib

    act = resolve_activation(act)
    xmin, xmax = resolve_range([act], xmin, xmax)
    if int(n) < 2:
        raise UsageError(f"n must be at least 2, got {n}")
    with matplotlib.rc_context(STYLE):
        if ax is None:
            fig = _new_figure(1, single=True)
            ax = fig.axes[0]
            if derivative:
                ax.set_title(_title_for(act) + f"\nf{_PRIME}(x): " + (act.derivative_formula or ""),
                             fontsize=9.5)
            else:
                ax.set_title(_title_for(act), fontsize=9.5)
            _layout(fig, 0, _lines(ax.get_title()))
        _draw(ax, act, derivative=derivative, autograd=autograd, xmin=xmin, xmax=xmax, n=int(n),
              n_autograd=int(n_autograd), kinks=kinks, label=label, color=color, annotate=annotate)
        _finish(ax, derivative=derivative, xmin=xmin, xmax=xmax)
    return ax


def _meta(ax: Axes) -> dict[str, Any]:
    """What the drawing functions remember on a panel: the activations, autograd errors, the inset."""
    return ax.__dict__.setdefault("_actviz", {"acts": [], "errors": []})


def _next_color(ax: Axes) -> str:
    used = {ln.get_gid().split(":", 1)[1] for ln in curve_lines(ax)}
    return PALETTE[len(used) % len(PALETTE)]


def _darker(color: str) -> str:
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    return "#%02x%02x%02x" % tuple(int(255 * 0.6 * c) for c in (r, g, b))


def _draw(ax: Axes, act: Activation, *, derivative: bool, autograd: bool, xmin: float, xmax: float,
          n: int, n_autograd: int, kinks: bool, label: str | None, color: str | None,
          annotate: bool) -> None:
    """One activation on ``ax``: its curve, maxout's pieces, the kinks, the autograd f′."""
    label = label or act.label
    color = color or _next_color(ax)
    curve = sample_curve(act, derivative, xmin, xmax, n)
    kind = "df" if derivative else "f"
    ax.plot(curve.xs, curve.ys, color=color, lw=2.0, label=label, gid=f"{kind}:{label}", zorder=3)
    meta = _meta(ax)
    meta["acts"].append(act)
    if not derivative:
        _draw_pieces(ax, act, label, color, xmin, xmax)
    if kinks and curve.points:
        _draw_kinks(ax, curve.points, label, color, derivative)
        if derivative and annotate:
            several = len(meta["acts"]) > 1 or bool(meta.get("several"))  # then a note names the activation
            _annotate_kinks(ax, curve.points, act.name if several else "f", label, xmin, xmax)
    if derivative and autograd:
        meta["errors"].append(_draw_autograd(ax, act, curve.points, label, color, xmin, xmax, n_autograd))


#: the dash of each of maxout's pieces, in turn (each piece also gets its own colour)
PIECE_DASHES = ((0, (4, 3)), (0, (1, 2)), (0, (7, 2, 1, 2)), (0, (2, 2)), (0, (7, 3)), (0, (3, 2, 1, 2, 1, 2)))


def _draw_pieces(ax: Axes, act: Activation, label: str, color: str, xmin: float, xmax: float) -> None:
    """Maxout's affine pieces as thin lines, each its own colour (never the curve's) and dash."""
    others = [c for c in PALETTE if c != color]
    for i, (w, b) in enumerate(maxout_pieces(act)):
        ax.plot([xmin, xmax], [w * xmin + b, w * xmax + b], color=others[i % len(others)], lw=1.1,
                ls=PIECE_DASHES[i % len(PIECE_DASHES)], alpha=0.9, label=f"piece {i + 1}: {_piece_label(w, b)}",
                gid=f"piece:{label}:{i}", zorder=2)


def _draw_kinks(ax: Axes, points: list[dict[str, Any]], label: str, color: str, derivative: bool) -> None:
    """A filled circle at each kink's value used, an open one at each one-sided limit that differs."""
    size = 7 if derivative else 5.5
    ax.plot([p["x"] for p in points], [p["value"] for p in points], ls="none", marker="o", ms=size,
            mfc=color, mec="#222222", mew=1.0, gid=f"kink:{label}", zorder=5)
    lx, ly = [], []
    for p in points:
        for lim in (p["left"], p["right"]):
            if not close(lim, p["value"]) and not any(close(lim, y) and x == p["x"] for x, y in zip(lx, ly)):
                lx.append(p["x"])
                ly.append(lim)
    if lx:
        ax.plot(lx, ly, ls="none", marker="o", ms=size, mfc="white", mec=color, mew=1.6,
                gid=f"limit:{label}", zorder=5)


def _annotate_kinks(ax: Axes, points: list[dict[str, Any]], name: str, label: str, xmin: float,
                    xmax: float) -> None:
    """Write ``name′(c) = value`` next to each kink, on the side away from the jump and the edge."""
    for p in points:
        other = p["right"] if not close(p["right"], p["value"]) else p["left"]
        below = other > p["value"]
        pos = (p["x"] - xmin) / (xmax - xmin)
        dx = -7 if pos > 0.85 else (7 if pos < 0.15 else (7 if p["x"] >= 0 else -7))
        ax.annotate(
            f"{name}{_PRIME}({_fmt(p['x'])}) = {_fmt(p['value'])}",
            (p["x"], p["value"]), xytext=(dx, -13 if below else 8), textcoords="offset points",
            ha="left" if dx > 0 else "right", va="center", fontsize=8, color="#222222",
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8},
            gid=f"note:{label}", zorder=6,
        )


def _draw_autograd(ax: Axes, act: Activation, points: list[dict[str, Any]], label: str, color: str,
                   xmin: float, xmax: float, n_autograd: int) -> float:
    """The autograd f′ as crosses on an even grid plus the kinks; returns max |autograd − analytic|."""
    import numpy as np

    grid = np.linspace(xmin, xmax, max(2, n_autograd))
    extra = [p["x"] for p in points]
    xa = np.unique(np.concatenate([grid, np.asarray(extra, dtype=np.float64)]))
    ya = autograd_derivative(act, xa)
    analytic = evaluate(act.derivative, xa)
    for p in points:  # at a kink the registry's value is the analytic f′
        analytic[xa == p["x"]] = p["value"]
    diff = np.abs(ya - analytic)
    err = float(np.nanmax(diff)) if diff.size else 0.0
    ax.plot(xa, plottable(ya), ls="none", marker="x", ms=5.5, mew=1.3, color=_darker(color),
            gid=f"autograd:{label}", zorder=4, label=f"autograd f{_PRIME} ({label})")
    return err


def _limit_lines(ax: Axes) -> list[Any]:
    return [ln for ln in ax.lines if (ln.get_gid() or "").startswith(("f:", "df:", "kink:", "limit:"))]


def _finish(ax: Axes, *, derivative: bool, xmin: float, xmax: float) -> None:
    """Limits, zero lines, labels, legend and the zoom inset of one panel (idempotent)."""
    meta = _meta(ax)
    for old in meta.pop("insets", []):
        old.remove()
    lo, hi = _set_limits(ax, derivative=derivative, xmin=xmin, xmax=xmax)
    if not any(ln.get_gid() == "zero" for ln in ax.lines):
        ax.axhline(0, color="#8C8C8C", lw=0.9, zorder=1, gid="zero")
        if xmin < 0 < xmax:
            ax.axvline(0, color="#8C8C8C", lw=0.9, zorder=1, gid="zero")
    ax.set_xlabel("x")
    ax.set_ylabel(f"f{_PRIME}(x)" if derivative else "f(x)")
    _label_curves(ax, derivative=derivative, acts=meta["acts"])
    handles = _legend_handles(ax, derivative=derivative, errors=meta["errors"])
    meta["insets"] = place_legend_and_inset(ax, handles, lo, hi, xmin, xmax)


def _set_limits(ax: Axes, *, derivative: bool, xmin: float, xmax: float) -> tuple[float, float]:
    """Fit the y limits to the curves and kinks, keeping y = 0 in view when it is near; the data's span."""
    import numpy as np

    ys = [np.asarray(ln.get_ydata(), dtype=float) for ln in _limit_lines(ax)]
    ys = np.concatenate(ys) if ys else np.array([0.0])
    ys = ys[np.isfinite(ys) & (np.abs(ys) <= MAX_ABS_X)]  # beyond, matplotlib's limits overflow
    lo, hi = (float(ys.min()), float(ys.max())) if ys.size else (0.0, 1.0)
    span = hi - lo
    if span < 1e-9 * max(1.0, abs(lo), abs(hi)):
        pad = max(0.5, 1e-3 * max(abs(lo), abs(hi)))  # relative: lo ± 0.5 is lo itself near 1e300
        lo, hi = lo - pad, hi + pad
        span = hi - lo
    # keep y = 0 in view when it is not far from the data: the zero line is a reference
    if lo > 0 and lo < span:
        lo = 0.0
    if hi < 0 and -hi < span:
        hi = 0.0
    span = hi - lo
    top_pad = 0.16 if derivative else 0.08
    ax.set_ylim(lo - 0.08 * span, hi + top_pad * span)
    ax.set_xlim(xmin, xmax)
    return lo, hi


def _label_curves(ax: Axes, *, derivative: bool, acts: list[Activation]) -> None:
    """The legend labels of the curves: the label, with the formula when several share an f panel."""
    curves = curve_lines(ax)
    multi = len(curves) > 1
    if not multi and derivative and curves:
        curves[0].set_label(f"analytic f{_PRIME}")
    if multi or not derivative:
        for ln, act in zip(curves, acts):
            base = ln.get_gid().split(":", 1)[1]
            if not derivative:
                rhs = _rhs(act.formula)
                ln.set_label(f"{base}: {rhs}" if multi and len(rhs) <= 40 else base)
            else:
                ln.set_label(base)


def _legend_handles(ax: Axes, *, derivative: bool, errors: list[float]) -> list[Any]:
    """The curves (and maxout pieces), plus one proxy each for the autograd, kink and limit markers."""
    from matplotlib.lines import Line2D

    handles = [ln for ln in ax.lines if (ln.get_gid() or "").startswith(("f:", "df:", "piece:"))]
    gids = [ln.get_gid() or "" for ln in ax.lines]
    if any(g.startswith("autograd:") for g in gids):
        err = max(errors) if errors else 0.0
        handles.append(Line2D([], [], ls="none", marker="x", ms=5.5, mew=1.3, color="#333333",
                              label=f"autograd f{_PRIME} (max |Δ| = {_fmt_err(err)})"))
    if any(g.startswith("kink:") for g in gids):
        handles.append(Line2D([], [], ls="none", marker="o", ms=6, mfc="#777777", mec="#222222",
                              label="kink: value used" if derivative else "kink"))
    if any(g.startswith("limit:") for g in gids):
        handles.append(Line2D([], [], ls="none", marker="o", ms=6, mfc="white", mec="#555555", mew=1.4,
                              label="one-sided limit"))
    return handles


# --------------------------------------------------------------------------- figures


def _new_figure(panels: int, *, single: bool = False, rows: int = 1) -> Figure:
    from matplotlib.figure import Figure

    width = 6.4 if panels == 1 else 11.5
    height = 4.6 if rows == 1 else 3.2 * rows
    fig = Figure(figsize=(width, height), dpi=DPI)
    fig.subplots(rows, panels, squeeze=False)
    _layout(fig, 0, 1)
    return fig


def _lines(text: str | None) -> int:
    return text.count("\n") + 1 if text else 0


def _layout(fig: Figure, suptitle_lines: int, title_lines: int) -> None:
    """Fixed margins in inches (constrained layout costs a second draw)."""
    w, h = fig.get_size_inches()
    top = 0.12 + 0.24 * suptitle_lines + 0.19 * title_lines + (0.06 if title_lines else 0)
    left, right, gap = 0.72, 0.18, 0.8  # inches: y tick labels + ylabel, right edge, between panels
    panels = max(1, len(fig.axes))
    axis_width = (w - left - right - gap * (panels - 1)) / panels
    fig.subplots_adjust(left=left / w, right=1 - right / w, bottom=0.55 / h, top=1 - top / h,
                        wspace=gap / axis_width)


def plot_activations(
    acts: Iterable[Any],
    *,
    derivative: bool = False,
    autograd: bool = True,
    xmin: float | None = None,
    xmax: float | None = None,
    n: int = 1001,
    n_autograd: int = 49,
    kinks: bool = True,
    title: str | None = None,
    fig: Figure | None = None,
) -> Figure:
    """One figure: a panel for f of every activation, and with ``derivative`` a panel for f′.

    ``acts`` are :class:`~actviz.core.registry.Activation` objects or names.  Pass
    ``fig`` to draw into an existing (cleared) figure, e.g. to reuse one in a loop.
    The range defaults to [−6, 6], widened until every kink of every activation lies inside.
    """
    import matplotlib

    acts = [resolve_activation(a) for a in acts]
    if not acts:
        raise UsageError("nothing to plot: give at least one activation")
    xmin, xmax = resolve_range(acts, xmin, xmax)
    with matplotlib.rc_context(STYLE):
        panels = 2 if derivative else 1
        if fig is None:
            fig = _new_figure(panels)
        else:
            fig.clear()
            fig.subplots(1, panels, squeeze=False)
        axes = fig.axes
        for ax in axes:
            _meta(ax)["several"] = len(acts) > 1
        for act in acts:
            _draw(axes[0], act, derivative=False, autograd=False, xmin=xmin, xmax=xmax, n=n,
                  n_autograd=n_autograd, kinks=kinks, label=None, color=None, annotate=False)
            if derivative:
                _draw(axes[1], act, derivative=True, autograd=autograd, xmin=xmin, xmax=xmax, n=n,
                      n_autograd=n_autograd, kinks=kinks, label=None, color=None, annotate=len(acts) <= 3)
        _finish(axes[0], derivative=False, xmin=xmin, xmax=xmax)
        if derivative:
            _finish(axes[1], derivative=True, xmin=xmin, xmax=xmax)
        _titles(fig, acts, title=title, derivative=derivative)
        _layout(fig, _lines(fig.get_suptitle()), max(_lines(a.get_title()) for a in axes))
    return fig


def _titles(fig: Figure, acts: list[Activation], *, title: str | None, derivative: bool) -> None:
    """The figure's title (``title``, else the formula or the names) and each panel's."""
    axes = fig.axes
    if len(acts) == 1:
        act = acts[0]
        fig.suptitle(title or _title_for(act), fontsize=11)
        axes[0].set_title(f"{act.label}: f(x)")
        if derivative:
            axes[1].set_title("\n".join(textwrap.wrap(
                f"f{_PRIME}(x) = {act.derivative_formula}" if act.derivative_formula
                else f"{act.label}: f{_PRIME}(x)", 62)))
    else:
        names = ", ".join(a.label for a in acts)
        fig.suptitle(title or "\n".join(textwrap.wrap(names, 100)), fontsize=11)
        axes[0].set_title("f(x)")
        if derivative:
            axes[1].set_title(f"f{_PRIME}(x): analytic (lines), autograd (×)")


def plot_overview(acts: Sequence[Any], *, xmin: float | None = None, xmax: float | None = None, n: int = 401,
                  columns: int = 4) -> Figure:
    """Small multiples: one small panel per activation with f (solid) and f′ (dashed).

    Without ``xmin``/``xmax`` each panel has its activation's default range (its kinks inside).
    """
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    acts = [resolve_activation(a) for a in acts]
    if not acts:
        raise UsageError("nothing to plot: give at least one activation")
    columns = max(1, min(columns, len(acts)))
    rows = math.ceil(len(acts) / columns)
    with matplotlib.rc_context(STYLE):
        width, height = 3.1 * columns, 2.45 * rows + 0.55
        fig = Figure(figsize=(width, height), dpi=90)
        grid = fig.subplots(rows, columns, squeeze=False)
        fig.subplots_adjust(left=0.45 / width, right=1 - 0.12 / width, bottom=0.3 / height,
                            top=1 - 0.6 / height, wspace=0.22, hspace=0.42)
        for i, act in enumerate(acts):
            lo, hi = resolve_range([act], xmin, xmax)
            _overview_panel(grid[i // columns][i % columns], act, xmin=lo, xmax=hi, n=n)
        for j in range(len(acts), rows * columns):
            grid[j // columns][j % columns].set_visible(False)
        fig.legend(
            handles=[Line2D([], [], color=PALETTE[0], lw=1.8, label="f(x)"),
                     Line2D([], [], color=PALETTE[1], lw=1.4, ls=(0, (4, 2)), label=f"f{_PRIME}(x)"),
                     Line2D([], [], ls="none", marker="o", ms=4, color=PALETTE[1], mec="#222222",
                            label=f"f{_PRIME} at a kink (value used)")],
            loc="upper center", ncols=3, frameon=False, fontsize=10, bbox_to_anchor=(0.5, 1.0),
        )
    return fig


def _overview_panel(ax: Axes, act: Activation, *, xmin: float, xmax: float, n: int) -> None:
    """One small panel: f (solid, on top), f′ (dashed), f′ at the kinks, y limits fitting both."""
    import numpy as np

    f = sample_curve(act, False, xmin, xmax, n)
    d = sample_curve(act, True, xmin, xmax, n)
    # f on top where f′ coincides (step)
    ax.plot(f.xs, f.ys, color=PALETTE[0], lw=1.8, zorder=3, gid=f"f:{act.label}")
    ax.plot(d.xs, d.ys, color=PALETTE[1], lw=1.4, ls=(0, (4, 2)), gid=f"df:{act.label}")
    if d.points:
        ax.plot([p["x"] for p in d.points], [p["value"] for p in d.points], ls="none",
                marker="o", ms=3.5, color=PALETTE[1], mec="#222222", mew=0.6,
                gid=f"kink:{act.label}")
    ys = np.concatenate([f.ys, d.ys])
    ys = ys[np.isfinite(ys)]
    lo, hi = float(ys.min()), float(ys.max())
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    span = max(hi - lo, 1e-9)
    ax.set_ylim(lo - 0.08 * span, hi + 0.08 * span)
    ax.set_xlim(xmin, xmax)
    ax.axhline(0, color="#8C8C8C", lw=0.7, zorder=1, gid="zero")
    ax.axvline(0, color="#8C8C8C", lw=0.7, zorder=1, gid="zero")
    ax.set_title(act.label, fontsize=10, fontweight="bold")
    ax.tick_params(labelsize=7.5)


# --------------------------------------------------------------------------- files


def check_output_path(path: str | os.PathLike[str]) -> tuple[Path, str]:
    """Validate an output path before any work: ``(path, format)``.

    An unknown extension is a :class:`UsageError` (exit 2); a directory that
    does not exist or cannot be written is an :class:`ActvizError` (exit 1).
    """
    text = os.fspath(path)
    if text.endswith(("/", os.sep)) or (os.altsep and text.endswith(os.altsep)):
        raise UsageError(f"cannot write {text!r}: a trailing '/' names a directory; give a file name "
                         f"such as {text.rstrip('/' + os.sep)}/plot.png")
    p = Path(path)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(FORMATS))
        got = f"{p.suffix!r}" if p.suffix else "no extension"
        raise UsageError(f"cannot tell the file type of {str(p)!r} ({got}); use one of {known}")
    check_output_file(p)  # a directory, a special file, a name too long, a missing or read-only parent
    return p, fmt


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: float | None = None) -> Path:
    """Write ``fig`` to ``path``; the type follows the extension (png, svg, pdf).

    The file is written to a temporary file in the same directory and renamed
    over ``path``, so a failure leaves neither a half-written file nor a
    temporary one.  Metadata that changes between runs (software version,
    dates) is left out, so the same figure gives the same bytes.
    """
    p, fmt = check_output_path(path)
    metadata: dict[str, Any] = {
        "png": {"Software": None},
        "svg": {"Date": None, "Creator": None},
        "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
    }[fmt]
    import matplotlib

    def draw(fh: Any) -> None:
        with matplotlib.rc_context({"svg.hashsalt": "actviz"}):
            fig.savefig(fh, format=fmt, dpi=dpi or fig.dpi, metadata=metadata, facecolor="white")

    write_atomic(p, draw)
    return p


__all__ = [
    "DPI",
    "FORMATS",
    "INSET_THRESHOLD",
    "MAX_ABS_X",
    "PALETTE",
    "STYLE",
    "autograd_derivative",
    "check_output_path",
    "check_range",
    "plot_activation",
    "plot_activations",
    "plot_overview",
    "save_figure",
]
