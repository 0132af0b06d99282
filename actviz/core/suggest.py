"""Closest-name suggestions ("did you mean …?") for names the user mistyped.

One rule for every kind of name (activations, lessons).  Pure Python.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence


def closest(key: str, candidates: Iterable[str], *, n: int = 3, cutoff: float = 0.5) -> list[str]:
    """Up to ``n`` of ``candidates`` closest to ``key``, best first, without repeats.

    First difflib's close matches (similarity ratio ≥ ``cutoff``, best first), then,
    in the candidates' own order, those that start with ``key`` or that ``key`` starts
    with (``gelu2`` suggests ``gelu``, ``hard`` suggests ``hard_tanh``).  ``key`` is
    compared as given: normalise it as the candidates are (case, ``-`` and ``_``) first.
    """
    pool = list(candidates)
    close = difflib.get_close_matches(key, pool, n=n, cutoff=cutoff)
    prefixed = [c for c in pool if c.startswith(key) or key.startswith(c)] if key else []
    return list(dict.fromkeys([*close, *prefixed]))[:n]


def did_you_mean(suggestions: Sequence[str]) -> str:
    """``"; did you mean 'a' or 'b'?"`` to append to an error message, or ``""`` for none."""
    if not suggestions:
        return ""
    return f"; did you mean {' or '.join(repr(s) for s in suggestions)}?"


__all__ = ["closest", "did_you_mean"]
