"""Plots drawn with text characters, for a terminal (``actviz plot --terminal``).

>>> from actviz.core.registry import get
>>> from actviz.render.terminal import terminal_plot
>>> print(terminal_plot([get("relu"), get("tanh")], derivative=True, width=80))   # doctest: +SKIP

The curves are drawn by plotille (braille characters, two dots per column): f of
every activation on one set of axes, and with ``derivative=True`` a second panel
with the registry's analytic f′.  Lines are broken where the function jumps (the
step function), and a line under the panels lists each kink with the value f′
takes there.  Without colour (a pipe, ``NO_COLOR``) the second and later
activations are drawn with marker characters so that they stay apart.

Every line of the result is at most ``width`` characters wide, and at most
:data:`MAX_WIDTH`: a huge terminal width gives a plot of sane size.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence

from actviz.core.registry import Activation

#: plotille's colour names, one per activation in turn
COLORS = ("blue", "red", "green", "yellow", "magenta", "cyan")
#: marker characters for the second and later activations when there is no colour
MARKERS = ("", "o", "x", "+", "*", "#", "%", "@")
#: columns plotille adds around the plotting area (y labels, axis, the "-> (X)" arrow)
_LEFT, _RIGHT = 13, 7
MIN_WIDTH = 40
#: the widest plot drawn: a wider terminal (``COLUMNS=100000``) gets a plot this wide
MAX_WIDTH = 240
_PRIME = "\u2032"


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    text = f"{v:.3g}"
    return text


def _segments(act: Activation, derivative: bool, xmin: float, xmax: float, n: int) -> list[tuple[list[float], list[float]]]:
    """(x, y) pieces of f or the analytic f′, split where the function jumps at a kink."""
    import numpy as np
    import torch

    fn = act.derivative if derivative else act.forward
    kinks = sorted(k.x for k in act.kinks if xmin < k.x < xmax)
    cuts: list[float] = []
    for c in kinks:
        eps = 1e-9 * max(1.0, abs(c))
        with torch.no_grad():
            left, right = (float(v) for v in fn(torch.tensor([c - eps, c + eps], dtype=torch.float64)))
        if not math.isclose(left, right, rel_tol=1e-6, abs_tol=1e-6):
            cuts.append(c)
    bounds = [xmin, *cuts, xmax]
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        xs = np.linspace(xmin, xmax, n)
        xs = xs[(xs > a) & (xs < b)]
        lo = a if a == xmin else a + 1e-9 * max(1.0, abs(a))
        hi = b if b == xmax else b - 1e-9 * max(1.0, abs(b))
        inner = [k for k in kinks if a < k < b]
        xs = np.unique(np.concatenate([[lo], xs, inner, [hi]]))
        with torch.no_grad():
            ys = fn(torch.as_tensor(xs, dtype=torch.float64)).numpy()
        ok = np.isfinite(ys)
        out.append((xs[ok].tolist(), ys[ok].tolist()))
    return out


def _panel(acts: Sequence[Activation], *, derivative: bool, xmin: float, xmax: float, width: int,
           height: int, color: bool) -> str:
    import plotille

    fig = plotille.Figure()
    fig.width = width
    fig.height = height
    fig.color_mode = "names"
    fig.with_colors = color
    fig.x_label = "x"
    fig.y_label = f"f{_PRIME}(x)" if derivative else "f(x)"
    fig.y_ticks_fkt = lambda v, _next: _fmt(float(v))
    fig.x_ticks_fkt = lambda v, _next: _fmt(float(v))
    fig.set_x_limits(min_=xmin, max_=xmax)
    lows, highs = [], []
    series = []
    for i, act in enumerate(acts):
        segs = _segments(act, derivative, xmin, xmax, 2 * width + 1)
        series.append(segs)
        for _, ys in segs:
            if ys:
                lows.append(min(ys))
                highs.append(max(ys))
    lo, hi = (min(lows), max(highs)) if lows else (-1.0, 1.0)
    fig.set_y_limits(*_y_limits(lo, hi))
    for i, (act, segs) in enumerate(zip(acts, series)):
        lc, marker = _style(i, color)
        for xs, ys in segs:
            if marker is None:
                fig.plot(xs, ys, lc=lc)
            else:  # no colour: points marked with a character, one per column
                step = max(1, len(xs) // width)
                fig.scatter(xs[::step], ys[::step], lc=lc, marker=marker)
    return fig.show(legend=False)


def _y_limits(lo: float, hi: float) -> tuple[float, float]:
    """A margin around [lo, hi] that stays visible in float64 at any magnitude and never overflows.

    (softplus with β = 1e-300 sits near 7e299, where a margin of 0.5 rounds away.)
    """
    big = sys.float_info.max
    pad = 0.05 * (hi - lo) if hi > lo else 0.5
    pad = max(pad, 1e-6 * max(abs(lo), abs(hi)))
    return max(lo - pad, -big), min(hi + pad, big)


def _style(i: int, color: bool) -> tuple[str | None, str | None]:
    """(plotille colour, marker character) of the i-th activation."""
    if color:
        return COLORS[i % len(COLORS)], None
    return None, (MARKERS[i % len(MARKERS)] or None) if i else None


def _legend(acts: Sequence[Activation], color: bool) -> str:
    import plotille

    items = []
    for i, act in enumerate(acts):
        lc, marker = _style(i, color)
        sample = f"{marker}{marker}{marker}" if marker else "\u28c0\u28c0\u28c0"
        if lc:
            sample = plotille.color(sample, fg=lc, mode="names")
        items.append(f"{sample} {act.label}")
    return "   ".join(items)


#: tick steps that read well (times a power of ten)
_NICE = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5)


def _plot_width(available: int, span: float) -> int:
    """The widest plotting area, a multiple of 10 columns (plotille's tick spacing), whose
    ticks fall on round numbers, giving up at most a quarter of the room; else all of it."""
    for w in range(available - available % 10, max(int(available * 0.75), 10) - 1, -10):
        step = span / (w // 10)
        mantissa = step / 10 ** math.floor(math.log10(step))
        if any(math.isclose(mantissa, n, rel_tol=1e-9) for n in _NICE):
            return w
    return available


def terminal_plot(
    acts: Sequence[Activation],
    *,
    derivative: bool = False,
    xmin: float = -6.0,
    xmax: float = 6.0,
    width: int = 80,
    height: int | None = None,
    color: bool = False,
) -> str:
    """f (and with ``derivative`` the analytic f′) of ``acts`` as text at most ``width`` columns wide.

    ``width`` is taken within [MIN_WIDTH, MAX_WIDTH]; each panel is at most 24 lines high.
    """
    width = min(max(int(width), MIN_WIDTH), MAX_WIDTH)
    plot_width = _plot_width(width - _LEFT - _RIGHT, xmax - xmin)
    if height is None:
        height = max(8, min(24, plot_width // 4)) if not derivative else max(8, min(18, plot_width // 5))
    parts = [_panel(acts, derivative=False, xmin=xmin, xmax=xmax, width=plot_width, height=height,
                    color=color)]
    if derivative:
        parts += ["", _panel(acts, derivative=True, xmin=xmin, xmax=xmax, width=plot_width, height=height,
                             color=color)]
    parts += ["", _legend(acts, color)]
    if derivative:
        kinks = [f"{a.label}: f{_PRIME}({_fmt(k.x)}) = {_fmt(k.derivative)}" for a in acts for k in a.kinks
                 if xmin <= k.x <= xmax]
        note = f"f{_PRIME}: the registry's analytic derivative"
        parts += [note + ("; at the kinks it takes " + "; ".join(kinks) if kinks else "")]
    return "\n".join(_wrap(line, width) for part in parts for line in part.split("\n")).rstrip() + "\n"


def _wrap(line: str, width: int) -> str:
    """Plot lines fit by construction; prose lines (kinks, legend) are wrapped to the width."""
    import re
    import textwrap

    visible = re.sub(r"\x1b\[[0-9;]*m", "", line)
    if len(visible) <= width or "\x1b" in line:
        return line
    return "\n".join(textwrap.wrap(line, width, subsequent_indent="  ")) or line


__all__ = ["terminal_plot"]
