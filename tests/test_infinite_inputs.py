"""Every activation's f and f′ at ±inf are their limits, in float32 and float64.

The limit is read from the function far out (|x| = 1e30, finite in float32): a value beyond
1e20 in size grows without bound (the limit is ±inf), any other is the limit itself.  NaN at
±inf, as inf·0 gives in x·σ(x), is never a limit here: every built-in function has one.
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


def _limit(value: float) -> float:
    return math.copysign(math.inf, value) if abs(value) > 1e20 else value


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name, params", CASES, ids=[f"{n}{p or ''}" for n, p in CASES])
def test_forward_and_derivative_at_infinity_are_the_limits(name, params, dtype):
    act = actviz.get(name, **params)
    at_inf = torch.tensor([-math.inf, math.inf], dtype=dtype)
    far = torch.tensor([-1e30, 1e30], dtype=dtype)
    for what, fn in (("f", act.forward), ("f′", act.derivative)):
        got, expected = fn(at_inf).tolist(), [_limit(v) for v in fn(far).tolist()]
        for side, g, e in zip(("−inf", "+inf"), got, expected):
            assert not math.isnan(e), (what, side, "no limit far out")
            assert g == pytest.approx(e, rel=1e-6, abs=1e-12), f"{act.label}: {what}({side}) = {g}, limit {e}"


def test_the_limits_named_in_the_report_of_the_hostile_sweep():
    inf = torch.tensor([-math.inf, math.inf], dtype=torch.float64)
    assert actviz.get("softsign").forward(inf).tolist() == [-1.0, 1.0]
    assert actviz.get("maxout").derivative(inf).tolist() == [-0.5, 1.0]
    for name in ("gelu", "mish", "swish", "hard_swish"):
        assert actviz.get(name).forward(inf).tolist() == [0.0, math.inf], name
        assert actviz.get(name).derivative(inf).tolist() == [0.0, 1.0], name
