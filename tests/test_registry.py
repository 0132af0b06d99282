"""The registry's declarations, checked against measurement, autograd and finite differences.

The checks are generated from the registry: every entry (at its defaults and at
the parameter values in ``VARIANTS``) × every property key is one test case, so
a new entry is tested without new test code (scikit-learn's
``parametrize_with_checks`` pattern).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import actviz
from actviz.facts.audit import audit, autograd_derivative, autograd_max_error, compare
from actviz.facts.measure import intervals_agree, measure
from actviz.core.properties import KEYS, Interval, Properties

#: non-default parameters worth checking: the properties are functions of these
VARIANTS: list[tuple[str, dict]] = [
    ("leaky_relu", {"negative_slope": 0.2}),
    ("leaky_relu", {"negative_slope": 0.0}),
    ("leaky_relu", {"negative_slope": -0.3}),
    ("leaky_relu", {"negative_slope": -1.0}),
    ("leaky_relu", {"negative_slope": 2.0}),
    ("leaky_relu", {"negative_slope": 1.0}),
    ("prelu", {"a": 0.5}),
    ("elu", {"alpha": 2.0}),
    ("elu", {"alpha": 0.5}),
    ("elu", {"alpha": 0.0}),
    ("elu", {"alpha": -0.5}),
    ("softplus", {"beta": 5.0}),
    ("softplus", {"beta": 0.2}),
    ("swish", {"beta": 2.0}),
    ("swish", {"beta": 0.25}),
    ("swish", {"beta": 0.0}),
    ("gelu", {"approximate": "tanh"}),
    ("maxout", {"weights": (-1.0, 1.0), "biases": (0.0, 0.0)}),
    ("maxout", {"weights": (0.0, 1.0), "biases": (0.0, 0.0)}),
    ("maxout", {"weights": (0.5, 2.0), "biases": (0.0, -1.5)}),
    ("maxout", {"weights": (-2.0, 0.0, 3.0, 1.0), "biases": (1.0, -1.0, -4.0, 0.0)}),
    ("maxout", {"weights": (1.0,), "biases": (0.0,)}),
    ("celu", {"alpha": 2.0}),
    ("celu", {"alpha": 0.5}),
    ("snake", {"alpha": 0.5}),
    ("snake", {"alpha": 3.0}),
    ("snake", {"alpha": 12.0}),  # f′ falls along the tail's doubling points, not over its stretches
    ("sine", {"w0": 30.0}),
    ("sine", {"w0": 0.5}),
    ("softshrink", {"lambd": 2.0}),
    ("hardshrink", {"lambd": 0.1}),
    ("hardshrink", {"lambd": 7.0}),
    ("celu", {"alpha": 0.001}),  # f′ moves by 1e-3 over 1e-6 near 0, continuous all the same
    ("snake", {"alpha": 1000.0}),
    ("sine", {"w0": 1e-6}),  # f′ never exceeds 1e-6, and does not tend to 0
    ("softshrink", {"lambd": 1e4}),  # kinks beyond the default tail ladder
]

CASES = [(name, {}) for name in actviz.names()] + VARIANTS


def _id(case: tuple[str, dict]) -> str:
    return actviz.get(case[0], **case[1]).label


_MEASURED: dict[str, Properties] = {}


def measured(act: actviz.Activation) -> Properties:
    if act.label not in _MEASURED:
        _MEASURED[act.label] = measure(act)
    return _MEASURED[act.label]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("case", CASES, ids=_id)
def test_declared_property_matches_measurement(case, key):
    act = actviz.get(case[0], **case[1])
    declared, found = getattr(act.properties, key), getattr(measured(act), key)
    if isinstance(declared, Interval):
        assert intervals_agree(declared, found), f"{act.label}.{key}: declared {declared}, measured {found!r}"
    else:
        assert declared == found, f"{act.label}.{key}: declared {declared!r}, measured {found!r}"


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_analytic_derivative_matches_autograd(case):
    act = actviz.get(case[0], **case[1])
    assert autograd_max_error(act) <= 1e-12


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_analytic_derivative_matches_finite_differences(case):
    """An independent check: central differences in float64, away from the kinks."""
    act = actviz.get(case[0], **case[1])
    x = np.linspace(-8, 8, 3001) * act.xscale
    kinks = np.array([k.x for k in act.kinks])
    if kinks.size:
        x = x[np.min(np.abs(x[:, None] - kinks[None, :]), axis=1) > 1e-3]
    h = 1e-6 * act.xscale
    t = torch.as_tensor(x, dtype=torch.float64)
    with torch.no_grad():
        fd = (act.forward(t + h) - act.forward(t - h)) / (2 * h)
        d = act.derivative(t)
    np.testing.assert_allclose(d.numpy(), fd.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_kink_values_follow_autograd(case):
    act = actviz.get(case[0], **case[1])
    for kink in act.kinks:
        x = torch.tensor([kink.x], dtype=torch.float64)
        assert act.derivative(x).item() == pytest.approx(kink.derivative, abs=1e-12)
        assert autograd_derivative(act, [kink.x])[0] == pytest.approx(kink.derivative, abs=1e-12)
        # and f really is not differentiable there: the one-sided slopes differ (or f jumps)
        left = (act.forward(x) - act.forward(x - 1e-7)).item() / 1e-7
        right = (act.forward(x + 1e-7) - act.forward(x)).item() / 1e-7
        assert abs(left - right) > 1e-3, f"{act.label}: declared kink at {kink.x} but f is smooth there"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=_id)
def test_contract_shapes_dtypes_extremes_and_nan(case, dtype):
    act = actviz.get(case[0], **case[1])
    x = torch.tensor([[-1e4, -1e3, -88.0, -1.0], [0.0, 1.0, 88.0, 1e4]], dtype=dtype)
    for fn in (act.forward, act.derivative):
        y = fn(x)
        assert y.shape == x.shape and y.dtype == dtype
        assert torch.isfinite(y).all(), f"{act.label}: non-finite output at |x| = 1e4 ({dtype})"
        nan = fn(torch.tensor([math.nan, 1.0], dtype=dtype))
        assert torch.isnan(nan[0]) and not torch.isnan(nan[1])


def test_audit_finds_nothing_on_the_shipped_registry():
    for name in actviz.names():
        result = audit(actviz.get(name))
        assert result.ok, [f.message for f in result.findings]


# --------------------------------------------------------------------- textbook facts and kink conventions


def test_parameter_dependent_properties_and_kink_conventions():
    assert actviz.get("elu", alpha=2).properties.range == Interval(-2, math.inf, False, False)
    assert actviz.get("elu").properties.continuity == 1
    assert actviz.get("elu", alpha=2).properties.continuity == 0
    assert actviz.get("relu").properties.continuity == 0
    assert actviz.get("tanh").properties.continuity == "inf"
    assert actviz.get("leaky_relu").properties.monotonic is True
    assert actviz.get("leaky_relu", negative_slope=-0.1).properties.monotonic is False
    relu = actviz.get("relu")
    assert relu.derivative(torch.tensor([0.0])).item() == 0.0
    assert actviz.get("leaky_relu").derivative(torch.tensor([0.0])).item() == pytest.approx(0.01)
    assert actviz.get("prelu").derivative(torch.tensor([0.0])).item() == 0.25
    for name, points in (("hard_sigmoid", (-3, 3)), ("hard_tanh", (-1, 1)), ("hard_logistic", (-2, 2))):
        d = actviz.get(name).derivative(torch.tensor(points, dtype=torch.float64))
        assert d.tolist() == [0.0, 0.0]


def test_facts_published_tables_get_wrong():
    # swish, GELU and mish overshoot: their derivative exceeds 1, so they can amplify gradients
    for name in ("swish", "gelu", "mish"):
        p = actviz.get(name).properties
        assert p.derivative_range.high > 1.05 and p.exploding_gradient
        assert p.monotonic is False and p.range.low_closed
    # the sigmoid's derivative never exceeds 1/4
    assert actviz.get("sigmoid").properties.derivative_range == Interval(0, 0.25, False, True)
    # hard swish's derivative jumps at ±3, so its derivative range is open at both ends
    assert actviz.get("hard_swish").properties.derivative_range == Interval(-0.5, 1.5, False, False)
    # softplus is positive everywhere and never reaches 0
    assert actviz.get("softplus").properties.range == Interval(0, math.inf, False, False)


def test_required_entries_and_aliases():
    required = {"sigmoid", "tanh", "hard_sigmoid", "hard_logistic", "hard_tanh", "relu", "leaky_relu",
                "prelu", "elu", "softplus", "swish", "gelu", "maxout"}
    extra = {"identity", "step", "selu", "mish", "softsign", "relu6", "hard_swish"}
    assert required | extra <= set(actviz.names())
    assert actviz.names() == sorted(actviz.names())
    for alias, name in (("logistic", "sigmoid"), ("hardsigmoid", "hard_sigmoid"), ("hardtanh", "hard_tanh"),
                        ("silu", "swish"), ("Hard-Tanh", "hard_tanh"), ("LEAKY-RELU", "leaky_relu"),
                        (" GELU ", "gelu")):
        assert actviz.get(alias).name == name
    assert actviz.get("swish").properties == actviz.get("silu").properties


def test_defaults():
    assert actviz.get("leaky_relu").params["negative_slope"] == 0.01
    assert actviz.get("prelu").params["a"] == 0.25
    assert actviz.get("elu").params["alpha"] == 1.0
    assert actviz.get("softplus").params["beta"] == 1.0
    assert actviz.get("swish").params["beta"] == 1.0
    assert actviz.get("gelu").params["approximate"] == "none"
    x = torch.linspace(-5, 5, 101, dtype=torch.float64)
    torch.testing.assert_close(actviz.get("gelu").forward(x), torch.nn.functional.gelu(x))
    torch.testing.assert_close(actviz.get("gelu", approximate="tanh").forward(x),
                               torch.nn.functional.gelu(x, approximate="tanh"))
    torch.testing.assert_close(actviz.get("hard_sigmoid").forward(x), torch.nn.functional.hardsigmoid(x))
    torch.testing.assert_close(actviz.get("hard_logistic").forward(x), torch.clamp(x / 4 + 0.5, 0, 1))
    torch.testing.assert_close(actviz.get("softplus", beta=2).forward(x),
                               torch.nn.functional.softplus(x, beta=2))


def test_unknown_name_suggests_close_names():
    with pytest.raises(actviz.UnknownActivationError, match="did you mean 'gelu'"):
        actviz.get("gelu2")
    with pytest.raises(actviz.UsageError, match="no parameter 'beta'"):
        actviz.get("elu", beta=1)
    with pytest.raises(actviz.UsageError, match="must be > 0"):
        actviz.get("softplus", beta=0)
    with pytest.raises(actviz.UsageError, match="finite"):
        actviz.get("elu", alpha=math.inf)
    for name, key, bad in (("sine", "w0", 0.0), ("snake", "alpha", 1e300), ("celu", "alpha", 1e-300),
                           ("softshrink", "lambd", 0.0), ("hardshrink", "lambd", 1e300)):
        with pytest.raises(actviz.UsageError, match=f"{key} must be"):
            actviz.get(name, **{key: bad})
    with pytest.raises(actviz.UsageError, match="same length"):
        actviz.get("maxout", weights=(1.0, 2.0))


def test_a_broken_declaration_is_caught():
    good = actviz.get_spec("relu")
    wrong = Properties(**{**good.properties.as_dict(), "monotonic": False,
                          "range": Interval(-1, math.inf, True, False)})
    findings = compare(wrong, measure(actviz.get("relu")), "relu")
    assert {f.key for f in findings} == {"monotonic", "range"}
