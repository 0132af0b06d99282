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

from actviz.facts.audit import autograd_derivative
from actviz.core.errors import UsageError
from actviz.core.files import check_output_file, write_atomic

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from actviz.core.registry import Activation

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
#: a side whose variation is below this fraction of the panel's data range gets a zoom inset
INSET_THRESHOLD = 0.03
_PRIME = "\u2032"
_MINUS = "\u2212"


# --------------------------------------------------------------------------- small helpers


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    return f"{v:.4g}".replace("-", _MINUS)


def _close(a: float, b: float) -> bool:
    if not (math.isfinite(a) and math.isfinite(b)):
        return a == b or (math.isnan(a) and math.isnan(b))
    return abs(a - b) <= 1e-6 * (1.0 + abs(a) + abs(b))


def _resolve(act: Any) -> Activation:
    from actviz.core.registry import Activation, get

    return act if isinstance(act, Activation) else get(act)


#: the largest |x| a plot range may reach (matplotlib computes margins and tick steps beyond it)
MAX_ABS_X = 1e300


def _check_range(xmin: float, xmax: float) -> tuple[float, float]:
    try:
        xmin, xmax = float(xmin), float(xmax)
    except (TypeError, ValueError):
        raise UsageError(f"--xmin and --xmax take numbers, got {xmin!r} and {xmax!r}") from None
    if not math.isfinite(xmin):
        raise UsageError(f"--xmin must be a finite number, got {xmin:g}")
    if not math.isfinite(xmax):
        raise UsageError(f"--xmax must be a finite number, got {xmax:g}")
    if not xmin < xmax:
        raise UsageError(f"--xmin ({xmin:g}) must be below --xmax ({xmax:g})")
    for flag, v in (("--xmin", xmin), ("--xmax", xmax)):
        if abs(v) > MAX_ABS_X:  # matplotlib's margins and ticks overflow near the float maximum
            raise UsageError(f"{flag} {v:g} is too large to plot: the range must lie within "
                             f"-{MAX_ABS_X:g} to {MAX_ABS_X:g}")
    return xmin, xmax


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


def _eval(fn: Any, xs: Any) -> Any:
    """``fn`` (forward or derivative) on a float64 numpy array; returns numpy float64."""
    import numpy as np
    import torch

    with torch.no_grad():
        out = fn(torch.from_numpy(np.ascontiguousarray(xs, dtype=np.float64)))
    return np.asarray(out.detach().to(torch.float64).cpu().numpy(), dtype=np.float64).reshape(np.shape(xs))


def _kinks_in(act: Activation, xmin: float, xmax: float) -> list[Any]:
    return sorted((k for k in act.kinks if xmin <= k.x <= xmax), key=lambda k: k.x)


def _delta(c: float, xmin: float, xmax: float) -> float:
    return max(1e-9 * max(1.0, abs(c)), 1e-12 * (xmax - xmin))


class _Curve:
    """A curve split at the points where it jumps, plus what happens at each kink."""

    def __init__(self, xs: Any, ys: Any, points: list[dict[str, Any]]):
        self.xs, self.ys, self.points = xs, ys, points


def _curve(act: Activation, derivative: bool, xmin: float, xmax: float, n: int) -> _Curve:
    """Sample f or the analytic f′ on ``[xmin, xmax]``, broken (NaN) at jumps.

    ``points`` holds, for each kink in range: ``x``, ``value`` (f(c), or the
    f′ value the registry uses at c), ``left``/``right`` (one-sided limits)
    and ``jump``.
    """
    import numpy as np

    fn = act.derivative if derivative else act.forward
    base = np.linspace(xmin, xmax, n)
    kinks = _kinks_in(act, xmin, xmax)
    points: list[dict[str, Any]] = []
    for k in kinks:
        c = float(k.x)
        d = _delta(c, xmin, xmax)
        probe = np.array([c - d, c, c + d])
        left, at, right = (float(v) for v in _eval(fn, probe))
        if c <= xmin:
            left = at
        if c >= xmax:
            right = at
        value = float(k.derivative) if derivative else at
        points.append({"x": c, "value": value, "at": at, "left": left, "right": right, "delta": d,
                       "jump": not _close(left, right), "kink": k})
    xs: list[float] = []
    breaks: list[int] = []  # index in xs before which a NaN goes
    interior = [p for p in points if xmin < p["x"] < xmax]
    bounds = [xmin, *[p["x"] for p in interior], xmax]
    for j in range(len(bounds) - 1):
        a, b = bounds[j], bounds[j + 1]
        if j == 0:  # a kink right at an end: the line starts at the limit from inside
            xs.append(a + next((p["delta"] for p in points if p["x"] == a), 0.0))
        else:
            p = interior[j - 1]
            if p["jump"]:
                xs.append(a + p["delta"])
        xs.extend(base[(base > a) & (base < b)].tolist())
        if j == len(bounds) - 2:
            xs.append(b - next((p["delta"] for p in points if p["x"] == b), 0.0))
        else:
            p = interior[j]
            if p["jump"]:
                xs.append(b - p["delta"])
                breaks.append(len(xs))
            else:
                xs.append(b)
    x_arr = np.asarray(xs, dtype=np.float64)
    y_arr = _eval(fn, x_arr)
    y_arr = np.where(np.isfinite(y_arr) & (np.abs(y_arr) <= MAX_ABS_X), y_arr, np.nan)  # unplottable: a gap
    if breaks:
        x_arr = np.insert(x_arr, breaks, np.nan)
        y_arr = np.insert(y_arr, breaks, np.nan)
    return _Curve(x_arr, y_arr, points)


def _maxout_pieces(act: Activation) -> list[tuple[float, float]]:
    if act.spec.kind != "maxout":
        return []
    w, b = act.params.get("weights"), act.params.get("biases")
    if w is None or b is None:
        return []
    return [(float(wi), float(bi)) for wi, bi in zip(w, b)]


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
    xmin: float = -6.0,
    xmax: float = 6.0,
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
    Returns the Axes.
    """
    import matplotlib

    act = _resolve(act)
    xmin, xmax = _check_range(xmin, xmax)
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


def _next_color(ax: Axes) -> str:
    used = {ln.get_gid().split(":", 1)[1] for ln in ax.lines
            if (ln.get_gid() or "").startswith(("f:", "df:"))}
    return PALETTE[len(used) % len(PALETTE)]


def _draw(ax: Axes, act: Activation, *, derivative: bool, autograd: bool, xmin: float, xmax: float,
          n: int, n_autograd: int, kinks: bool, label: str | None, color: str | None,
          annotate: bool) -> None:
    import numpy as np

    label = label or act.label
    color = color or _next_color(ax)
    curve = _curve(act, derivative, xmin, xmax, n)
    kind = "df" if derivative else "f"
    ax.plot(curve.xs, curve.ys, color=color, lw=2.0, label=label, gid=f"{kind}:{label}", zorder=3)
    meta = ax.__dict__.setdefault("_actviz", {"acts": [], "errors": []})
    meta["acts"].append(act)

    if not derivative:
        for i, (w, b) in enumerate(_maxout_pieces(act)):
            ax.plot([xmin, xmax], [w * xmin + b, w * xmax + b], color=color, lw=0.9, ls=(0, (4, 3)),
                    alpha=0.75, label=f"piece {i + 1}: {_piece_label(w, b)}", gid=f"piece:{label}:{i}",
                    zorder=2)
    # annotations name the activation when several share the panel
    multi = len(meta["acts"]) > 1 or bool(meta.get("several"))
    if kinks and curve.points:
        kx = [p["x"] for p in curve.points]
        ky = [p["value"] for p in curve.points]
        size = 7 if derivative else 5.5
        ax.plot(kx, ky, ls="none", marker="o", ms=size, mfc=color, mec="#222222", mew=1.0,
                gid=f"kink:{label}", zorder=5)
        lx, ly = [], []
        for p in curve.points:
            for lim in (p["left"], p["right"]):
                if not _close(lim, p["value"]) and not any(
                    _close(lim, y) and x == p["x"] for x, y in zip(lx, ly)
                ):
                    lx.append(p["x"])
                    ly.append(lim)
        if lx:
            ax.plot(lx, ly, ls="none", marker="o", ms=size, mfc="white", mec=color, mew=1.6,
                    gid=f"limit:{label}", zorder=5)
        if derivative and annotate:
            name = "f" if not multi else act.name
            for p in curve.points:
                other = p["right"] if not _close(p["right"], p["value"]) else p["left"]
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
    if derivative and autograd:
        grid = np.linspace(xmin, xmax, max(2, n_autograd))
        extra = [p["x"] for p in curve.points]
        xa = np.unique(np.concatenate([grid, np.asarray(extra, dtype=np.float64)]))
        ya = autograd_derivative(act, xa)
        analytic = _eval(act.derivative, xa)
        for p in curve.points:  # at a kink the registry's value is the analytic f′
            analytic[xa == p["x"]] = p["value"]
        diff = np.abs(ya - analytic)
        err = float(np.nanmax(diff)) if diff.size else 0.0
        meta["errors"].append(err)
        ax.plot(xa, np.where(np.isfinite(ya) & (np.abs(ya) <= MAX_ABS_X), ya, np.nan), ls="none", marker="x", ms=5.5, mew=1.3,
                color=_darker(color), gid=f"autograd:{label}", zorder=4,
                label=f"autograd f{_PRIME} ({label})")


def _darker(color: str) -> str:
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    return "#%02x%02x%02x" % tuple(int(255 * 0.6 * c) for c in (r, g, b))


def _curve_lines(ax: Axes) -> list[Any]:
    return [ln for ln in ax.lines if (ln.get_gid() or "").startswith(("f:", "df:"))]


def _limit_lines(ax: Axes) -> list[Any]:
    return [ln for ln in ax.lines if (ln.get_gid() or "").startswith(("f:", "df:", "kink:", "limit:"))]


def _finish(ax: Axes, *, derivative: bool, xmin: float, xmax: float) -> None:
    """Limits, zero lines, labels, legend and the zoom inset of one panel (idempotent)."""
    import numpy as np
    from matplotlib.lines import Line2D

    meta = ax.__dict__.setdefault("_actviz", {"acts": [], "errors": []})
    for old in meta.pop("insets", []):
        old.remove()
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
    if not any(ln.get_gid() == "zero" for ln in ax.lines):
        ax.axhline(0, color="#8C8C8C", lw=0.9, zorder=1, gid="zero")
        if xmin < 0 < xmax:
            ax.axvline(0, color="#8C8C8C", lw=0.9, zorder=1, gid="zero")
    ax.set_xlabel("x")
    ax.set_ylabel(f"f{_PRIME}(x)" if derivative else "f(x)")

    # legend: curves (and maxout pieces), plus one proxy each for the markers
    handles = [ln for ln in ax.lines if (ln.get_gid() or "").startswith(("f:", "df:", "piece:"))]
    multi = len(_curve_lines(ax)) > 1
    if not multi and derivative and handles:
        handles[0].set_label(f"analytic f{_PRIME}")
    if multi or not derivative:
        acts = meta["acts"]
        for ln, act in zip(_curve_lines(ax), acts):
            base = ln.get_gid().split(":", 1)[1]
            if not derivative:
                rhs = _rhs(act.formula)
                ln.set_label(f"{base}: {rhs}" if multi and len(rhs) <= 40 else base)
            else:
                ln.set_label(base)
    gids = [ln.get_gid() or "" for ln in ax.lines]
    if any(g.startswith("autograd:") for g in gids):
        err = max(meta["errors"]) if meta["errors"] else 0.0
        handles.append(Line2D([], [], ls="none", marker="x", ms=5.5, mew=1.3, color="#333333",
                              label=f"autograd f{_PRIME} (max |Δ| = {_fmt_err(err)})"))
    if any(g.startswith("kink:") for g in gids):
        handles.append(Line2D([], [], ls="none", marker="o", ms=6, mfc="#777777", mec="#222222",
                              label="kink: value used" if derivative else "kink"))
    if any(g.startswith("limit:") for g in gids):
        handles.append(Line2D([], [], ls="none", marker="o", ms=6, mfc="white", mec="#555555", mew=1.4,
                              label="one-sided limit"))

    inset_side = _inset_side(ax, lo, hi, xmin, xmax)
    corners = _corner_scores(ax)
    legend_loc = "best"
    if inset_side is not None:
        order = sorted(corners, key=lambda c: corners[c])
        inset_corner = order[0]
        meta["insets"] = _add_inset(ax, inset_side, inset_corner, xmin, xmax)
        legend_loc = {"ul": "upper left", "ur": "upper right", "ll": "lower left", "lr": "lower right"}[
            order[1]]
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    if handles:
        ax.legend(handles=handles, loc=legend_loc)


def _fmt_err(err: float) -> str:
    if err == 0:
        return "0"
    if not math.isfinite(err):
        return str(err)
    return f"{err:.1e}"


def _axes_points(ax: Axes) -> Any:
    """The curves' points in axes coordinates (0..1), for placing the legend and inset."""
    import numpy as np

    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    pts = []
    for ln in ax.lines:
        gid = ln.get_gid() or ""
        if gid.startswith(("f:", "df:", "kink:", "limit:", "autograd:")):
            x = np.asarray(ln.get_xdata(), dtype=float)
            y = np.asarray(ln.get_ydata(), dtype=float)
            if len(x) == 2 and gid.startswith(("f:", "df:")):
                x = np.linspace(x[0], x[1], 50)
                y = np.linspace(y[0], y[1], 50)
            pts.append(np.column_stack([(x - x0) / (x1 - x0), (y - y0) / (y1 - y0)]))
    if not pts:
        return np.zeros((0, 2))
    p = np.concatenate(pts)
    return p[np.isfinite(p).all(axis=1)]


_CORNERS = {"ul": (0.0, 0.5), "ur": (0.5, 0.5), "ll": (0.0, 0.0), "lr": (0.5, 0.0)}


def _corner_scores(ax: Axes) -> dict[str, float]:
    """How crowded each quarter of the panel is (points near its outer corner weigh most)."""
    import numpy as np

    p = _axes_points(ax)
    scores = {}
    for name, (cx, cy) in _CORNERS.items():
        inside = (p[:, 0] >= cx) & (p[:, 0] <= cx + 0.5) & (p[:, 1] >= cy) & (p[:, 1] <= cy + 0.5)
        ox, oy = (0.0 if cx == 0 else 1.0), (0.0 if cy == 0 else 1.0)
        dist = np.hypot(p[inside, 0] - ox, p[inside, 1] - oy)
        scores[name] = float(np.sum(1.0 / (0.05 + dist)))
    return scores


def _inset_side(ax: Axes, lo: float, hi: float, xmin: float, xmax: float) -> str | None:
    """'left' or 'right' when a curve varies, but by < INSET_THRESHOLD of the panel, on that side of 0."""
    import numpy as np

    if not xmin < 0 < xmax:
        return None
    full = hi - lo
    if not (math.isfinite(full) and full > 0):
        return None
    best: tuple[float, str] | None = None
    for side in ("left", "right"):
        for ln in _curve_lines(ax):
            x = np.asarray(ln.get_xdata(), dtype=float)
            y = np.asarray(ln.get_ydata(), dtype=float)
            sel = (x <= 0) if side == "left" else (x >= 0)
            yy = y[sel & np.isfinite(y)]
            if yy.size < 3:
                continue
            v = float(yy.max() - yy.min())
            ratio = v / full
            if 1e-6 < ratio < INSET_THRESHOLD and (best is None or ratio < best[0]):
                best = (ratio, side)
    return None if best is None else best[1]


def _add_inset(ax: Axes, side: str, corner: str, xmin: float, xmax: float) -> list[Any]:
    import numpy as np

    x_lo, x_hi = (xmin, 0.0) if side == "left" else (0.0, xmax)
    cx, cy = _CORNERS[corner]
    box = [0.14 if cx == 0 else 0.58, 0.1 if cy == 0 else 0.54, 0.36, 0.35]
    inset = ax.inset_axes(box)
    inset.set_facecolor("white")
    ys_all = []
    full = ax.get_ylim()[1] - ax.get_ylim()[0]
    for ln in _curve_lines(ax):
        x = np.asarray(ln.get_xdata(), dtype=float)
        y = np.asarray(ln.get_ydata(), dtype=float)
        sel = ((x >= x_lo) & (x <= x_hi)) | np.isnan(x)
        inset.plot(x[sel], y[sel], color=ln.get_color(), lw=1.6, gid=ln.get_gid())
        yy = y[sel & np.isfinite(y)]
        if yy.size and float(yy.max() - yy.min()) < INSET_THRESHOLD * full:
            ys_all.append(yy)
    ys = np.concatenate(ys_all) if ys_all else np.array([0.0, 1.0])
    lo, hi = float(ys.min()), float(ys.max())
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    pad = 0.15 * (hi - lo)
    inset.set_xlim(x_lo, x_hi)
    inset.set_ylim(lo - pad, hi + pad)
    inset.axhline(0, color="#8C8C8C", lw=0.8, zorder=1, gid="zero")
    inset.tick_params(labelsize=7)
    inset.grid(True, color="#EEEEEE")
    inset.set_title(f"zoom on x {'≤' if side == 'left' else '≥'} 0 "
                    f"(y ×{full / (hi - lo + 2 * pad):.0f})", fontsize=7.5, pad=3)
    for s in inset.spines.values():
        s.set_visible(True)
        s.set_edgecolor("#999999")
    indicator = ax.indicate_inset_zoom(inset, edgecolor="#777777", alpha=0.6)
    return [inset, indicator]


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
    xmin: float = -6.0,
    xmax: float = 6.0,
    n: int = 1001,
    n_autograd: int = 49,
    kinks: bool = True,
    title: str | None = None,
    fig: Figure | None = None,
) -> Figure:
    """One figure: a panel for f of every activation, and with ``derivative`` a panel for f′.

    ``acts`` are :class:`~actviz.core.registry.Activation` objects or names.  Pass
    ``fig`` to draw into an existing (cleared) figure, e.g. to reuse one in a loop.
    """
    import matplotlib

    acts = [_resolve(a) for a in acts]
    if not acts:
        raise UsageError("nothing to plot: give at least one activation")
    xmin, xmax = _check_range(xmin, xmax)
    with matplotlib.rc_context(STYLE):
        panels = 2 if derivative else 1
        if fig is None:
            fig = _new_figure(panels)
        else:
            fig.clear()
            fig.subplots(1, panels, squeeze=False)
        axes = fig.axes
        for ax in axes:
            ax.__dict__.setdefault("_actviz", {"acts": [], "errors": []})["several"] = len(acts) > 1
        for act in acts:
            _draw(axes[0], act, derivative=False, autograd=False, xmin=xmin, xmax=xmax, n=n,
                  n_autograd=n_autograd, kinks=kinks, label=None, color=None, annotate=False)
            if derivative:
                _draw(axes[1], act, derivative=True, autograd=autograd, xmin=xmin, xmax=xmax, n=n,
                      n_autograd=n_autograd, kinks=kinks, label=None, color=None, annotate=len(acts) <= 3)
        _finish(axes[0], derivative=False, xmin=xmin, xmax=xmax)
        if derivative:
            _finish(axes[1], derivative=True, xmin=xmin, xmax=xmax)
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
        _layout(fig, _lines(fig.get_suptitle()), max(_lines(a.get_title()) for a in axes))
    return fig


def plot_overview(acts: Sequence[Any], *, xmin: float = -6.0, xmax: float = 6.0, n: int = 401,
                  columns: int = 4) -> Figure:
    """Small multiples: one small panel per activation with f (solid) and f′ (dashed)."""
    import matplotlib
    import numpy as np
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    acts = [_resolve(a) for a in acts]
    if not acts:
        raise UsageError("nothing to plot: give at least one activation")
    xmin, xmax = _check_range(xmin, xmax)
    columns = max(1, min(columns, len(acts)))
    rows = math.ceil(len(acts) / columns)
    with matplotlib.rc_context(STYLE):
        width, height = 3.1 * columns, 2.45 * rows + 0.55
        fig = Figure(figsize=(width, height), dpi=90)
        grid = fig.subplots(rows, columns, squeeze=False)
        fig.subplots_adjust(left=0.45 / width, right=1 - 0.12 / width, bottom=0.3 / height,
                            top=1 - 0.6 / height, wspace=0.22, hspace=0.42)
        for i, act in enumerate(acts):
            ax = grid[i // columns][i % columns]
            f = _curve(act, False, xmin, xmax, n)
            d = _curve(act, True, xmin, xmax, n)
            ax.plot(f.xs, f.ys, color=PALETTE[0], lw=1.8, zorder=3, gid=f"f:{act.label}")  # f on top where f′ coincides (step)
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
    "FORMATS",
    "autograd_derivative",
    "check_output_path",
    "plot_activation",
    "plot_activations",
    "plot_overview",
    "save_figure",
]
