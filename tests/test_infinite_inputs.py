"""Every activation's f and f′ at ±inf are their limits, in float32 and float64.

The limit is read from the function far out (|x| = 1e30, finite in float32): a value beyond
1e20 in size grows without bound (the limit is ±inf), any other is the limit itself.  Where the
function still oscillates far out (sine; snake's f′ = 1 + sin 2αx) there is no limit, and the
value at ±inf must be NaN; everywhere else NaN at ±inf (as inf·0 gives in x·σ(x)) is a bug.
"""

from __future__ import annotations

import math

import pytest
import torch

import actviz
from actviz.core import registry

#: the entries at their defaults, and the parameter values whose forms differ at ±inf
CASES = [(name, {}) for name in registry.names()] + [
    ("gelu", {"approximate": "tanh"}), ("swish", {"beta": 0.0}), ("softplus", {"beta": 1e-20}),
    ("maxout", {"weights": (0.0, 1.0), "biases": (2.0, 0.0)}),
    ("maxout", {"weights": (-1.0, 0.0, 0.0), "biases": (0.0, 3.0, 1.0)}),
]


def _limit(values: list[float]) -> float:
    """The limit of a side's values far out (1e28, 1e29, 1e30 in size), NaN where they do not settle."""
    value = values[-1]
    if all(abs(v) > 1e20 and math.copysign(1, v) == math.copysign(1, value) for v in values):
        return math.copysign(math.inf, value)
    if all(v == pytest.approx(value, rel=1e-6, abs=1e-12) for v in values):
        return value
    return math.nan


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name, params", CASES, ids=[f"{n}{p or ''}" for n, p in CASES])
def test_forward_and_derivative_at_infinity_are_the_limits(name, params, dtype):
    act = actviz.get(name, **params)
    at_inf = torch.tensor([-math.inf, math.inf], dtype=dtype)
    far = torch.tensor([[-1e28, -1e29, -1e30], [1e28, 1e29, 1e30]], dtype=dtype)
    for what, fn in (("f", act.forward), ("f′", act.derivative)):
        got, expected = fn(at_inf).tolist(), [_limit(row) for row in fn(far).tolist()]
        for side, g, e in zip(("−inf", "+inf"), got, expected):
            if math.isnan(e):  # no limit: NaN says so
                assert math.isnan(g), f"{act.label}: {what}({side}) = {g}, but {what} has no limit there"
            else:
                assert g == pytest.approx(e, rel=1e-6, abs=1e-12), f"{act.label}: {what}({side}) = {g}, limit {e}"


def test_only_oscillating_functions_have_no_limit_at_infinity():
    no_limit = set()
    for name in registry.names():
        act = actviz.get(name)
        far = torch.tensor([[-1e28, -1e29, -1e30], [1e28, 1e29, 1e30]], dtype=torch.float64)
        for fn in (act.forward, act.derivative):
            if any(math.isnan(_limit(row)) for row in fn(far).tolist()):
                no_limit.add(name)
    assert no_limit == {"sine", "snake"}


def test_the_limits_named_in_the_report_of_the_hostile_sweep():
    inf = torch.tensor([-math.inf, math.inf], dtype=torch.float64)
    assert actviz.get("softsign").forward(inf).tolist() == [-1.0, 1.0]
    assert actviz.get("maxout").derivative(inf).tolist() == [-0.5, 1.0]
    for name in ("gelu", "mish", "swish", "hard_swish"):
        assert actviz.get(name).forward(inf).tolist() == [0.0, math.inf], name
        assert actviz.get(name).derivative(inf).tolist() == [0.0, 1.0], name
