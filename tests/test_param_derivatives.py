"""Hand-written derivatives with respect to parameters, and the rational (Padé) activation."""

from __future__ import annotations

import pytest
import torch

import actviz
from actviz.core.errors import UsageError
from actviz.facts.audit import audit, param_derivative_errors
from actviz.facts.rational import DENOMINATOR, NUMERATOR

CASES = [("leaky_relu", {}), ("prelu", {}), ("elu", {}), ("elu", {"alpha": 2.5}), ("celu", {"alpha": 0.3}),
         ("softplus", {}), ("softplus", {"beta": 3.0}), ("swish", {}), ("swish", {"beta": 0.0}),
         ("sine", {"w0": 2.0}), ("snake", {"alpha": 0.5}), ("rational", {})]


@pytest.mark.parametrize(("name", "params"), CASES)
def test_each_parameter_derivative_agrees_with_autograd(name, params):
    act = actviz.get(name, **params)
    errors = param_derivative_errors(act)
    assert errors, "no parameter derivative checked"
    for key, (err, at, method) in errors.items():
        assert method.startswith("autograd"), (key, method)
        assert err < 1e-8, f"∂f/∂{key} off by {err} at x = {at}"


@pytest.mark.slow
def test_the_check_reports_a_wrong_parameter_derivative():
    import dataclasses

    from actviz.core.registry import Activation

    spec = actviz.get("swish").spec
    wrong = dataclasses.replace(spec, param_derivatives={"beta": lambda x, beta: x * x})
    findings = [f for f in audit(Activation(wrong)).findings if f.key == "∂f/∂beta"]
    assert findings and "differs from autograd" in findings[0].message


def test_a_parameter_without_a_derivative_is_named():
    with pytest.raises(UsageError, match="no derivative with respect to 'approximate'"):
        actviz.get("gelu").param_derivative(torch.zeros(1), "approximate")
    with pytest.raises(UsageError, match="no parameter 'nope'"):
        actviz.get("gelu").param_derivative(torch.zeros(1), "nope")


def test_rational_starts_close_to_leaky_relu_on_minus_3_to_3():
    act = actviz.get("rational")
    assert act.params["numerator"] == NUMERATOR and act.params["denominator"] == DENOMINATOR
    x = torch.linspace(-3, 3, 601, dtype=torch.float64)
    leaky = torch.where(x > 0, x, 0.01 * x)
    assert float((act(x) - leaky).abs().max()) < 0.05


def test_rational_passes_the_audit_and_stays_finite_far_out():
    act = actviz.get("rational")
    assert audit(act).ok
    x = torch.tensor([-3e38, -1e30, 1e30, 3e38], dtype=torch.float32)
    assert torch.isfinite(act(x)).all() and torch.isfinite(act.derivative(x)).all()


def test_rational_with_other_coefficients_is_measured_not_declared():
    act = actviz.get("rational", numerator=(0, 1, 0, 0, 0, 0.5), denominator=(0, 0, 0, 1))
    assert act.properties is None and act.kinks == ()
    assert audit(act).ok
    with pytest.raises(UsageError, match="6 numerator and 4 denominator"):
        actviz.get("rational", numerator=(1, 2))
