"""The symbolic card of an activation, from the cache when it is there (no sympy import then).

:func:`card` returns the JSON data of :func:`actviz.facts.cardcalc.compute` (f, f′, f″ in
closed form, Taylor series, limits, fixed points, extrema of f′, the declared properties as
sympy sees them), cached on disk per actviz version (:mod:`actviz.facts.symcache`); the cards of
the built-ins at their defaults ship with actviz.
"""

from __future__ import annotations

import json
from typing import Any

from actviz.core.registry import Activation
from actviz.facts import symcache


def card_key(act: Activation) -> str:
    """The cache key of a card: the name, the formula and the declared properties."""
    declared = act.properties
    return "card:" + json.dumps([act.name, act.symbolic, None if declared is None else declared.to_json()],
                                sort_keys=True, default=str)


def card(act: Activation) -> dict[str, Any]:
    """The symbolic card of ``act`` as JSON data (cached on disk per actviz version)."""
    key = card_key(act)
    cached = symcache.get(key)
    if isinstance(cached, dict):
        return cached
    from actviz.facts.cardcalc import compute

    data = compute(act)
    symcache.put({key: data})
    return data


__all__ = ["card", "card_key"]
