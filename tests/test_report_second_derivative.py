"""The report's f″: accurate in the tails, and a gap wherever it does not exist.

f″ is autograd of the analytic f′; where that would cancel (autograd of σ computes
σ·(1 − σ)), f′ is written so that it does not: softplus's f″ = β·σ(βx)·σ(−βx) to full
precision for βx up to 60 on the page.  Where the one-sided limits of f″ differ (ELU with
α = 1 at 0: 1 and 0; softsign at 0: +2 and −2) the page draws a gap.
"""

from __future__ import annotations

import math

import pytest

import actviz
from actviz.render.report_data import GRIDS, curves


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


@pytest.mark.parametrize("beta", GRIDS["softplus.beta"])
def test_softplus_second_derivative_is_accurate_in_the_tails(beta):
    c = curves(actviz.get("softplus", beta=beta), saturation="left")
    for x, got in zip(c["x"], c["d2f"]):
        true = beta * _sigmoid(beta * x) * _sigmoid(-beta * x)
        assert got is not None and math.isclose(got, true, rel_tol=1e-5), (x, got, true)
    assert c["d2f"][-1] > 0  # βx = 60 at β = 10: 8.76e-26, not 0


@pytest.mark.parametrize("name, params, left, right", [("elu", {"alpha": 1.0}, 1.0, 0.0),
                                                       ("softsign", {}, 2.0, -2.0)])
def test_a_jump_in_the_second_derivative_is_a_gap(name, params, left, right):
    c = curves(actviz.get(name, **params), saturation="none")
    i = c["x"].index(0.0)
    assert c["d2f"][i] is None
    assert c["d2f"][i - 1] == pytest.approx(left, rel=0.1) and c["d2f"][i + 1] == pytest.approx(right, rel=0.1, abs=1e-9)
    assert sum(v is None for v in c["d2f"]) == 1


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "gelu", "swish", "mish", "softplus"])
def test_smooth_second_derivatives_have_no_gap(name):
    assert None not in curves(actviz.get(name), saturation="none")["d2f"]
