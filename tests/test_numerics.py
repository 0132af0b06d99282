"""Property-based tests of forward and derivative over wide input ranges (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import actviz
from actviz.facts.audit import autograd_derivative

NAMES = actviz.names()
wide = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
moderate = st.floats(min_value=-60, max_value=60, allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(x=arrays(np.float64, st.integers(1, 40), elements=wide))
def test_finite_for_every_finite_input(name, x):
    act = actviz.get(name)
    for dtype in (torch.float32, torch.float64):
        t = torch.as_tensor(x, dtype=dtype)
        for fn in (act.forward, act.derivative):
            y = fn(t)
            assert y.shape == t.shape and y.dtype == dtype
            assert torch.isfinite(y).all()


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(x=arrays(np.float64, st.integers(1, 40), elements=moderate))
def test_derivative_equals_autograd_anywhere(name, x):
    act = actviz.get(name)
    with torch.no_grad():
        d = act.derivative(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(d, autograd_derivative(act, x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=30, deadline=None)
@given(x=arrays(np.float64, st.integers(1, 20), elements=moderate))
def test_float32_agrees_with_float64(name, x):
    act = actviz.get(name)
    for fn in (act.forward, act.derivative):
        y64 = fn(torch.as_tensor(x)).numpy()
        y32 = fn(torch.as_tensor(x, dtype=torch.float32)).double().numpy()
        x32 = torch.as_tensor(x, dtype=torch.float32).double().numpy()
        # compare at the float32-rounded inputs, so kinks and jumps are not straddled
        ref = fn(torch.as_tensor(x32)).numpy()
        np.testing.assert_allclose(y32, ref, rtol=1e-5, atol=1e-5 * (1 + np.abs(y64).max()))


@settings(max_examples=40, deadline=None)
@given(alpha=st.floats(0.05, 5), x=arrays(np.float64, 8, elements=moderate))
def test_elu_range_follows_alpha(alpha, x):
    act = actviz.get("elu", alpha=alpha)
    y = act.forward(torch.as_tensor(x))
    assert (y >= -alpha).all()  # -alpha is approached (reached only by rounding)
    assert act.properties.range.low == -alpha
