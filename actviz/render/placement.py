"""Where the legend and the zoom inset go on a panel of :mod:`actviz.render.plotting`.

A side of 0 on which a curve varies, but by less than :data:`INSET_THRESHOLD` of the
panel's height (leaky ReLU's 0.01 slope, GELU's dip), gets a zoomed inset so that it
does not look flat.  The inset takes the emptiest quarter of the panel, the legend the
next emptiest; without an inset matplotlib's ``"best"`` places the legend.  A quarter's
crowding is the sum of ``1 / (0.05 + d)`` over the plotted points in it, ``d`` their
distance (in axes coordinates) from the quarter's outer corner.

The panel's lines are found by their ``gid`` (see :mod:`actviz.render.plotting`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

#: a side whose variation is below this fraction of the panel's data range gets a zoom inset
INSET_THRESHOLD = 0.03

#: the lower-left corner, in axes coordinates, of each quarter of a panel
_CORNERS = {"ul": (0.0, 0.5), "ur": (0.5, 0.5), "ll": (0.0, 0.0), "lr": (0.5, 0.0)}
_LEGEND_LOC = {"ul": "upper left", "ur": "upper right", "ll": "lower left", "lr": "lower right"}


def curve_lines(ax: Axes) -> list[Any]:
    """The curves of a panel: its f and f′ lines (gid ``f:<label>`` or ``df:<label>``)."""
    return [ln for ln in ax.lines if (ln.get_gid() or "").startswith(("f:", "df:"))]


def place_legend_and_inset(ax: Axes, handles: list[Any], lo: float, hi: float, xmin: float,
                           xmax: float) -> list[Any]:
    """Add the zoom inset (if a side is nearly flat) and the legend of ``handles``.

    ``lo``..``hi`` is the span of the data drawn.  Any legend already on ``ax`` is replaced.
    Returns the artists of the inset (the inset Axes and its zoom indicator; empty without one),
    for the caller to remove before drawing the panel again.
    """
    inset_side = _inset_side(ax, lo, hi, xmin, xmax)
    legend_loc = "best"
    insets: list[Any] = []
    if inset_side is not None:
        corners = _corner_scores(ax)
        order = sorted(corners, key=lambda c: corners[c])
        insets = _add_inset(ax, inset_side, order[0], xmin, xmax)
        legend_loc = _LEGEND_LOC[order[1]]
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    if handles:
        ax.legend(handles=handles, loc=legend_loc)
    return insets


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
        for ln in curve_lines(ax):
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
    """A zoom on ``side`` of 0 in quarter ``corner``, scaled to the nearly flat curves there."""
    import numpy as np

    x_lo, x_hi = (xmin, 0.0) if side == "left" else (0.0, xmax)
    cx, cy = _CORNERS[corner]
    box = [0.14 if cx == 0 else 0.58, 0.1 if cy == 0 else 0.54, 0.36, 0.35]
    inset = ax.inset_axes(box)
    inset.set_facecolor("white")
    ys_all = []
    full = ax.get_ylim()[1] - ax.get_ylim()[0]
    for ln in curve_lines(ax):
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


__all__ = ["INSET_THRESHOLD", "curve_lines", "place_legend_and_inset"]
