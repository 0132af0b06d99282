"""Parameter values as text: one formatter, with explicit options for each use.

Used for activation labels (``elu(alpha=2)``), for the parameters shown in
tables, the gallery and the report, and for configuration labels.  Pure Python.
"""

from __future__ import annotations

from typing import Any

#: the typographic minus sign (U+2212), for text that is typeset rather than read back
MINUS = "\u2212"


def format_param(value: Any, *, round_trip: bool = False, unicode_minus: bool = False,
                 parens: bool = False) -> str:
    """A parameter value as short text.

    A float prints as ``%g`` (``0.01``, ``1e-05``, ``-2``).  With ``round_trip`` it prints
    as the shortest ``repr`` that reads back as the same float wherever ``%g`` loses
    digits (α = 1.0000001 is ``1.0000001``, not ``1``): labels and ``NAME.KEY=VALUE``
    take values back from this text.  With ``unicode_minus`` a float's ``-`` is the
    typographic minus ``−`` (pages and pictures).

    A tuple or list is its items formatted alike, joined by commas (``1,0.5,-2``, the
    form a ``floats`` parameter parses; one number alone needs no trailing comma), or
    with ``parens`` as ``(1, 0.5, -2)``.  Anything else is ``str(value)``.
    """
    if isinstance(value, float):
        text = f"{value:g}"
        if round_trip and float(text) != value:
            text = repr(value)
        return text.replace("-", MINUS) if unicode_minus else text
    if isinstance(value, (tuple, list)):
        items = [format_param(v, round_trip=round_trip, unicode_minus=unicode_minus, parens=parens)
                 for v in value]
        return "(" + ", ".join(items) + ")" if parens else ",".join(items)
    return str(value)


__all__ = ["MINUS", "format_param"]


#: the characters that end a line for str.splitlines (and so for Markdown, LaTeX and line-based tools)
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_ESCAPED_BREAKS = {ord(c): c.encode("unicode_escape").decode("ascii") for c in _LINE_BREAKS}


def single_line(text: str) -> str:
    """``text`` on one line: each line break written as its escape (``a\\nb`` for a newline).

    A table row, a CSV record or a LaTeX ``%`` comment must not be split by a label that
    holds a line break (a plugin's name may).
    """
    return str(text).translate(_ESCAPED_BREAKS)
