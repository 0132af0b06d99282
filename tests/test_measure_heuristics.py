"""The measurement's heuristics on functions that oscillate for ever (sine, snake).

Each case below was measured wrongly by a rule tuned on monotone tails: an Aitken
limit extrapolated from an oscillating tail (sin out of [−1, 1]), saturation read
from f′ at the doubling points alone (snake with α = 12), and an attained maximum
taken for an open end because a tail point came closer to it than the grid.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import actviz
from actviz.core.properties import Interval
from actviz.core.registry import Activation, ActivationSpec
from actviz.facts.measure import _limit, measure


def test_an_oscillating_tail_has_no_limit_to_extrapolate():
    x = 24.0 * 2.0 ** np.arange(10)
    tail = np.sin(x)
    assert _limit(tail) == tail[-1]
    # a converging tail is still extrapolated: 1 − 1/(1 + x) tends to 1
    assert _limit(1 - 1 / (1 + x)) == pytest.approx(1.0, rel=1e-6)


def test_sine_range_is_closed_minus_one_to_one():
    for w0 in (1.0, 0.5, 30.0):
        assert measure(actviz.get("sine", w0=w0)).range == Interval.closed(-1, 1)
    assert measure(actviz.get("sine", w0=1.7)).derivative_range.low == pytest.approx(-1.7, rel=1e-9)


def test_snake_does_not_saturate_whatever_its_frequency():
    for alpha in (1.0, 10.33, 12.0, 18.678):
        assert measure(actviz.get("snake", alpha=alpha)).saturation == "none"


def test_decaying_derivatives_still_saturate():
    assert measure(actviz.get("softsign")).saturation == "both"
    assert measure(actviz.get("log_sigmoid")).saturation == "right"
    assert measure(actviz.get("geglu")).saturation == "left"


def test_a_maximum_between_grid_points_is_attained_even_when_a_tail_point_is_closer():
    # sin(x + c) with c chosen so that the tail point x = 24 hits the maximum 1 almost exactly,
    # while the nearest grid point to a maximum inside [−12, 12] misses it by 7e-8
    c = math.pi / 2 - 24.0
    spec = ActivationSpec(name="shifted_sine", formula="sin(x + c)",
                          forward=lambda x: torch.sin(x + c), derivative=lambda x: torch.cos(x + c))
    assert measure(Activation(spec)).range == Interval.closed(-1, 1)
