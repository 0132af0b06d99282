"""Plots drawn with text characters, for a terminal (``actviz plot --terminal``).

>>> from actviz.core.registry import get
>>> from actviz.render.terminal import terminal_plot
>>> print(terminal_plot([get("relu"), get("tanh")], derivative=True, width=80))   # doctest: +SKIP

The curves are drawn by plotille (braille characters, two dots per column): f of
every activation on one set of axes, and with ``derivative=True`` a second panel
with the registry's analytic f′.  Lines are broken where the function jumps (the
step function), and a line under the panels lists each kink with the value f′
takes there.  Without colour (a pipe, ``NO_COLOR``) the second and later
activations are drawn with marker characters so that they stay apart; a terminal
with 256 or 24-bit colour gets the pictures' ten hues, others the six basic ones
(:func:`color_mode`).

Each row of a panel is labelled with the value at its centre, and the rows are
placed so that y = 0, when in range, is the centre of a row labelled 0.

Every line of the result is at most ``width`` characters wide, and at most
:data:`MAX_WIDTH`: a huge terminal width gives a plot of sane size.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from actviz.core.registry import Activation

#: plotille's colour names (8-colour terminals), one per activation in turn
COLORS = ("blue", "red", "green", "yellow", "magenta", "cyan")
#: the pictures' palette (actviz.render.plotting.PALETTE), for terminals with 256 or 24-bit colour
RGB_COLORS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C",
              "#CCB974", "#64B5CD")
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


def color_mode(stream: Any = None, environ: Mapping[str, str] | None = None) -> str | None:
    """How many colours ``stream`` (default stdout) shows: None (not a terminal, ``NO_COLOR``, TERM=dumb),
    ``"rgb"`` (COLORTERM truecolor/24bit, or a TERM with 256 colours) or ``"names"`` (the basic eight)."""
    import os

    env = os.environ if environ is None else environ
    stream = sys.stdout if stream is None else stream
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        tty = False
    if not tty or env.get("NO_COLOR") or env.get("TERM", "") == "dumb":
        return None
    if env.get("COLORTERM", "").lower() in ("truecolor", "24bit") or "256color" in env.get("TERM", ""):
        return "rgb"
    return "names"


def _mode(color: bool | str | None) -> str | None:
    """``color`` as a plotille colour mode: None, "names" or "rgb" (True means "names")."""
    if color is True:
        return "names"
    if not color:
        return None
    if color not in ("names", "rgb"):
        raise ValueError(f"color must be a bool, 'names' or 'rgb', got {color!r}")
    return str(color)


def _rows(lo: float, hi: float, height: int) -> tuple[float, float, int]:
    """(ymin, ymax, rows): rows of a round height d whose centres are whole multiples of d.

    plotille puts y in row floor((y − ymin) / d); with ymin = (k − ½)·d the row of y = k·d has
    k·d at its centre, and that is the label it gets (:func:`_row_label`): y = 0 sits in the
    middle of the row labelled 0.  The finest round d (1, 2, 2.5 or 5 times a power of ten) whose
    rows from lo's to hi's number at most ``height`` (a quarter more for a round step); stays finite
    at any magnitude (softplus with β = 1e-300 sits near 7e299).
    """
    big = sys.float_info.max
    span = hi - lo
    if not span > 1e-9 * max(abs(lo), abs(hi), 1e-300):  # flat (or one point): a band around it
        span = max(abs(lo), abs(hi), 1.0) * 0.5
    limit = height + height // 4  # a quarter more rows for a round step
    raw = span / max(1, limit - 1)
    exp = math.floor(math.log10(raw))
    for e in (exp, exp + 1):
        for m in (1.0, 2.0, 2.5, 5.0):  # labels that are round numbers: 1 is a row's centre whenever 0.5 is
            d = m * 10.0 ** e
            k_lo, k_hi = math.floor(lo / d + 0.5), math.floor(hi / d + 0.5)  # the rows holding lo and hi
            if k_hi - k_lo < 2:  # a flat curve: a row above and below it
                k_lo, k_hi = k_lo - 1, k_hi + 1
            if k_hi - k_lo + 1 <= limit and d >= raw * 0.999:
                rows = k_hi - k_lo + 1
                ymin = (k_lo - 0.5) * d
                return max(ymin, -big), min(ymin + rows * d, big), rows
    return max(lo - 0.05 * span, -big), min(hi + 0.05 * span, big), height  # not reached in practice


def _row_label(v: float, nxt: float, ymax: float) -> str:
    """The label of the row [v, nxt): its centre, rounded to the row height; blank for the arrow row."""
    if v >= ymax - 1e-9 * abs(nxt - v):
        return ""
    centre = (v + nxt) / 2
    d = abs(nxt - v)
    if abs(centre) < 0.25 * d:
        return "0"
    digits = max(0, -math.floor(math.log10(d)) + 2) if d > 0 else 3
    return _fmt(round(centre, digits))


def _panel(acts: Sequence[Activation], *, derivative: bool, xmin: float, xmax: float, width: int,
           height: int, color: bool | str | None) -> str:
    import plotille

    mode = _mode(color)
    fig = plotille.Figure()
    fig.width = width
    fig.color_mode = mode or "names"
    fig.with_colors = mode is not None
    fig.x_label = "x"
    fig.y_label = f"f{_PRIME}(x)" if derivative else "f(x)"
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
    ymin, ymax, rows = _rows(lo, hi, height)
    fig.height = rows
    fig.set_y_limits(ymin, ymax)
    fig.y_ticks_fkt = lambda v, nxt: _row_label(float(v), float(nxt), ymax)
    for i, (act, segs) in enumerate(zip(acts, series)):
        lc, marker = _style(i, mode)
        for xs, ys in segs:
            if marker is None:
                fig.plot(xs, ys, lc=lc)
            else:  # no colour: points marked with a character, one per column
                step = max(1, len(xs) // width)
                fig.scatter(xs[::step], ys[::step], lc=lc, marker=marker)
    return fig.show(legend=False)


def _style(i: int, mode: str | None) -> tuple[Any, str | None]:
    """(plotille colour, marker character) of the i-th activation."""
    if mode == "rgb":
        h = RGB_COLORS[i % len(RGB_COLORS)]
        return tuple(int(h[j:j + 2], 16) for j in (1, 3, 5)), None  # type: ignore[return-value]
    if mode:
        return COLORS[i % len(COLORS)], None
    return None, (MARKERS[i % len(MARKERS)] or None) if i else None


def _legend(acts: Sequence[Activation], color: bool | str | None) -> str:
    import plotille

    mode = _mode(color)
    items = []
    for i, act in enumerate(acts):
        lc, marker = _style(i, mode)
        sample = f"{marker}{marker}{marker}" if marker else "\u28c0\u28c0\u28c0"
        if lc:
            sample = plotille.color(sample, fg=lc, mode=mode)
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
    xmin: float | None = None,
    xmax: float | None = None,
    width: int = 80,
    height: int | None = None,
    color: bool | str | None = False,
) -> str:
    """f (and with ``derivative`` the analytic f′) of ``acts`` as text at most ``width`` columns wide.

    ``color``: False/None (markers tell the curves apart), True or ``"names"`` (six basic hues),
    ``"rgb"`` (the pictures' ten hues); :func:`color_mode` says which a stream shows.
    ``width`` is taken within [MIN_WIDTH, MAX_WIDTH]; each panel is at most 24 lines high.
    """
    from actviz.render.sampling import resolve_range

    xmin, xmax = resolve_range(acts, xmin, xmax)  # by default every kink inside, with a margin
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


__all__ = ["color_mode", "terminal_plot"]
