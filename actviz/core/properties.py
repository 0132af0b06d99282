"""The twelve properties of an activation function, declared as data.

Every property is of f over all of ℝ at the activation's parameters.  An entry
of the registry declares them (the mathematical truth); :mod:`actviz.facts.measure`
re-derives them numerically so that a wrong declaration is caught.
docs/properties.md defines each property and how it is measured;
:data:`DEFINITIONS` gives each in one line.

This module is pure Python: no torch, no numpy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Literal, Union

INF = math.inf

Continuity = Union[int, Literal["inf"]]
Symmetry = Literal["odd", "even", "point", "none"]
Saturation = Literal["both", "left", "right", "none"]

#: The property keys (the fields of :class:`Properties`), in the order reports show them.
KEYS: tuple[str, ...] = (
    "range",
    "derivative_range",
    "monotonic",
    "continuity",
    "derivative_monotonic",
    "identity_at_origin",
    "symmetry",
    "zero_centered",
    "saturation",
    "vanishing_gradient",
    "exploding_gradient",
    "dead_neurons",
)

#: One-line definitions, shown by ``actviz show`` and in the gallery index.
DEFINITIONS: dict[str, str] = {
    "range": "inf f and sup f over ℝ; a bracket means the end is attained",
    "derivative_range": "inf f′ and sup f′ over ℝ (the registry's f′, kink conventions included)",
    "monotonic": "f is non-decreasing or non-increasing on ℝ",
    "continuity": "largest k with f ∈ C^k(ℝ); -1 means f itself jumps",
    "derivative_monotonic": "f′ is non-decreasing or non-increasing on ℝ",
    "identity_at_origin": "f(0) = 0, f′(0) = 1 and f′ continuous at 0",
    "symmetry": "odd f(−x) = −f(x); even f(−x) = f(x); point f(−x) + f(x) = 2f(0) ≠ 0",
    "zero_centered": "f takes both signs: inf f < 0 < sup f",
    "saturation": "the sides where f′(x) → 0 as x → ±∞",
    "vanishing_gradient": "saturation is 'both', or sup |f′| < 1",
    "exploding_gradient": "sup |f′| > 1: a unit can amplify a gradient",
    "dead_neurons": "f′ is exactly 0 on a whole half-line",
}


def _fmt_number(v: float) -> str:
    if v == INF:
        return "∞"
    if v == -INF:
        return "−∞"
    if v == 0:
        return "0"
    text = f"{v:.4f}".rstrip("0").rstrip(".") if 1e-3 <= abs(v) < 1e4 else f"{v:.4g}"
    return text.replace("-", "−")


@dataclass(frozen=True)
class Interval:
    """An interval of the extended real line; ``*_closed`` says the end is attained."""

    low: float
    high: float
    low_closed: bool = False
    high_closed: bool = False

    def __post_init__(self) -> None:
        if math.isnan(self.low) or math.isnan(self.high):
            raise ValueError("interval ends must not be NaN")
        if self.low > self.high:
            raise ValueError(f"empty interval: {self.low} > {self.high}")
        if math.isinf(self.low) and self.low_closed or math.isinf(self.high) and self.high_closed:
            raise ValueError("an unbounded end cannot be closed")

    @classmethod
    def closed(cls, low: float, high: float) -> Interval:
        return cls(low, high, not math.isinf(low), not math.isinf(high))

    @classmethod
    def open(cls, low: float, high: float) -> Interval:
        return cls(low, high, False, False)

    @property
    def sup_abs(self) -> float:
        """sup |v| over the interval."""
        return max(abs(self.low), abs(self.high))

    def to_json(self) -> list[Any]:
        """``[low, high, low_closed, high_closed]`` with ``"-inf"``/``"inf"`` for unbounded ends."""

        def end(v: float) -> Any:
            if v == INF:
                return "inf"
            if v == -INF:
                return "-inf"
            return float(v)

        return [end(self.low), end(self.high), self.low_closed, self.high_closed]

    @classmethod
    def from_json(cls, data: list[Any]) -> Interval:
        low, high, lc, hc = data
        return cls(float(low), float(high), bool(lc), bool(hc))

    def as_text(self, number: Callable[[float], str] = repr) -> str:
        """ASCII interval notation, e.g. ``[0.0, inf)``; finite ends formatted by ``number``."""

        def end(v: float) -> str:
            return "inf" if v == INF else "-inf" if v == -INF else number(float(v))

        return f"{'[' if self.low_closed else '('}{end(self.low)}, {end(self.high)}{']' if self.high_closed else ')'}"

    def __str__(self) -> str:
        left = "[" if self.low_closed else "("
        right = "]" if self.high_closed else ")"
        return f"{left}{_fmt_number(self.low)}, {_fmt_number(self.high)}{right}"


@dataclass(frozen=True)
class Properties:
    """The twelve properties of one activation at given parameters, each of f over all of ℝ.

    See :data:`DEFINITIONS` and docs/properties.md: ``range`` and ``derivative_range``
    (inf and sup of f and f′, ends closed where attained), ``monotonic``, ``continuity``
    (largest k with f ∈ C^k, −1 for a jump, ``"inf"``), ``derivative_monotonic``,
    ``identity_at_origin``, ``symmetry``, ``zero_centered``, ``saturation``,
    ``vanishing_gradient``, ``exploding_gradient`` and ``dead_neurons``.
    """

    range: Interval
    derivative_range: Interval
    monotonic: bool
    continuity: Continuity
    derivative_monotonic: bool
    identity_at_origin: bool
    symmetry: Symmetry
    zero_centered: bool
    saturation: Saturation
    vanishing_gradient: bool
    exploding_gradient: bool
    dead_neurons: bool

    def __post_init__(self) -> None:
        if self.symmetry not in ("odd", "even", "point", "none"):
            raise ValueError(f"symmetry must be odd, even, point or none, not {self.symmetry!r}")
        if self.saturation not in ("both", "left", "right", "none"):
            raise ValueError(f"saturation must be both, left, right or none, not {self.saturation!r}")
        if not (self.continuity == "inf" or (isinstance(self.continuity, int) and self.continuity >= -1)):
            raise ValueError(f"continuity must be an int >= -1 or 'inf', not {self.continuity!r}")

    def as_dict(self) -> dict[str, Any]:
        """Plain values (Intervals stay Intervals), keyed as in :data:`KEYS`."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_json(self) -> dict[str, Any]:
        """JSON-ready values: intervals as ``[low, high, low_closed, high_closed]``."""
        return {k: (v.to_json() if isinstance(v, Interval) else v) for k, v in self.as_dict().items()}


def format_value(value: Any) -> str:
    """A property value as a short human string (for tables)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Interval):
        return str(value)
    if value == "inf":
        return "∞"
    return str(value)


def jsonable(v: Any) -> Any:
    """``v`` as JSON data: intervals as ``[low, high, low_closed, high_closed]``, ±inf and nan as strings.

    The facts' policy of :func:`actviz.core.jsonsafe.json_data` (``nonfinite="name"``).
    """
    from actviz.core.jsonsafe import json_data

    return json_data(v, nonfinite="name", other=str)