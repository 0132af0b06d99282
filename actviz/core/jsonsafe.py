"""Values as strict JSON data: one sanitiser, with an explicit policy for non-finite floats.

JSON has no NaN or infinity.  actviz writes two kinds of documents and so needs two
policies, both spelled out at the call site:

* ``nonfinite="null"`` — measured numbers (a results store, a summary, a page's data):
  a NaN or an infinity there means "no value" (a diverged run's loss, an overflowing
  mean of hand-edited numbers), and readers treat ``null`` as missing.
* ``nonfinite="name"`` — mathematical facts (a property's range ``(-inf, inf)``, a
  lesson's measured limit): the value is meaningful and is written as the string
  ``"inf"``, ``"-inf"`` or ``"nan"``.

Everything else becomes plain JSON data: tuples → lists, mappings → objects with string
keys, numpy and torch scalars → Python numbers, objects with a ``to_json()`` method → its
result, paths → strings.  Anything else is an error unless ``other=str``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from os import PathLike
from typing import Any, Literal

__all__ = ["json_data"]

Policy = Literal["null", "name"]


def _nonfinite(v: float, policy: Policy) -> Any:
    if policy == "null":
        return None
    return "nan" if math.isnan(v) else "inf" if v > 0 else "-inf"


def json_data(value: Any, *, nonfinite: Policy, other: Callable[[Any], Any] | None = None) -> Any:
    """``value`` as strict JSON data, non-finite floats handled by ``nonfinite`` (see the module)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _nonfinite(value, nonfinite)
    if isinstance(value, Mapping):
        return {str(k): json_data(v, nonfinite=nonfinite, other=other) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_data(v, nonfinite=nonfinite, other=other) for v in value]
    if hasattr(value, "to_json"):
        return json_data(value.to_json(), nonfinite=nonfinite, other=other)
    if isinstance(value, PathLike):
        return str(value)
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return json_data(value.item(), nonfinite=nonfinite, other=other)
    if other is not None:
        return other(value)
    raise TypeError(f"not JSON data: {type(value).__name__}")
