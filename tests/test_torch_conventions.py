"""The registry's kink conventions are the installed PyTorch's, and the torch floor is honest.

At the points where an activation is not differentiable, the registry's f′
is the value PyTorch's autograd gives for PyTorch's own function.  PyTorch changed
hardswish's gradient at ±3 (pytorch/pytorch#147801: −0.5 and 1.5 before, 0 and 1
after; fixed by #148049, merged in March 2025 after the 2.7 release branch was cut
on 12 March 2025), so the first release with the registry's convention is 2.8, and
``pyproject.toml`` must not allow an older torch.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import actviz

#: the first torch release whose hardswish gradient at ±3 is 0 and 1
HARDSWISH_FIX = (2, 8)

#: built-in entries with a PyTorch counterpart: (name, params, torch function)
COUNTERPARTS = [
    ("hard_swish", {}, F.hardswish),
    ("hard_sigmoid", {}, F.hardsigmoid),
    ("hard_tanh", {}, F.hardtanh),
    ("relu", {}, torch.relu),
    ("relu6", {}, F.relu6),
    ("leaky_relu", {"negative_slope": 0.01}, lambda x: F.leaky_relu(x, 0.01)),
    ("leaky_relu", {"negative_slope": 0.2}, lambda x: F.leaky_relu(x, 0.2)),
    ("elu", {"alpha": 0.5}, lambda x: F.elu(x, 0.5)),
    ("elu", {"alpha": 2.0}, lambda x: F.elu(x, 2.0)),
    ("selu", {}, F.selu),
    ("softshrink", {}, lambda x: F.softshrink(x, 0.5)),
    ("softshrink", {"lambd": 2.0}, lambda x: F.softshrink(x, 2.0)),
    ("hardshrink", {}, lambda x: F.hardshrink(x, 0.5)),
    ("hardshrink", {"lambd": 2.0}, lambda x: F.hardshrink(x, 2.0)),
]

#: smooth entries with a PyTorch counterpart: the same function, the same gradient
SMOOTH_COUNTERPARTS = [
    ("celu", {}, F.celu),
    ("celu", {"alpha": 2.0}, lambda x: F.celu(x, 2.0)),
    ("log_sigmoid", {}, F.logsigmoid),
    ("tanhshrink", {}, F.tanhshrink),
    ("glu", {}, lambda x: F.glu(torch.cat([x, x], -1))),
    ("swiglu", {}, lambda x: x * F.silu(x)),
    ("geglu", {}, lambda x: x * F.gelu(x)),
    ("reglu", {}, lambda x: x * torch.relu(x)),
    ("squared_relu", {}, lambda x: torch.relu(x) ** 2),
]


def _torch_grad(fn, x: float, dtype) -> float:
    t = torch.tensor([x], dtype=dtype, requires_grad=True)
    (g,) = torch.autograd.grad(fn(t).sum(), t)
    return g.item()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", COUNTERPARTS, ids=lambda c: actviz.get(c[0], **c[1]).label)
def test_kink_values_are_the_installed_torchs_autograd(case, dtype):
    name, params, fn = case
    act = actviz.get(name, **params)
    assert act.kinks, f"{act.label} declares no kinks"
    for kink in act.kinks:
        expected = _torch_grad(fn, kink.x, dtype)
        assert kink.derivative == pytest.approx(expected, rel=1e-6), (
            f"{act.label}: registry f′({kink.x}) = {kink.derivative}, torch {torch.__version__} "
            f"autograd gives {expected}"
        )
        # and the entry's own forward, under autograd, agrees with both
        assert _torch_grad(act.forward, kink.x, dtype) == pytest.approx(expected, rel=1e-6)


def test_hard_swish_kinks_are_0_and_1():
    assert [(k.x, k.derivative) for k in actviz.get("hard_swish").kinks] == [(-3.0, 0.0), (3.0, 1.0)]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:2])


def test_installed_torch_has_the_hardswish_fix():
    assert _version(torch.__version__) >= HARDSWISH_FIX


def test_pyproject_torch_floor_has_the_hardswish_fix():
    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    floors = re.findall(r'"torch\s*>=\s*([0-9][0-9.]*)', text)
    assert floors, "pyproject.toml names no torch floor"
    assert all(_version(f) >= HARDSWISH_FIX for f in floors), (
        f"pyproject.toml allows torch>={floors[0]}, but the registry's hardswish convention at ±3 "
        f"needs torch>={'.'.join(map(str, HARDSWISH_FIX))}"
    )


@pytest.mark.parametrize("case", SMOOTH_COUNTERPARTS, ids=lambda c: actviz.get(c[0], **c[1]).label)
def test_entries_match_torch_and_its_gradient(case):
    name, params, fn = case
    act = actviz.get(name, **params)
    x = torch.linspace(-12, 12, 2001, dtype=torch.float64)
    torch.testing.assert_close(act.forward(x), fn(x), rtol=1e-12, atol=1e-14)
    t = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(fn(t).sum(), t)
    torch.testing.assert_close(act.derivative(x), g, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["glu", "reglu", "geglu", "swiglu"])
def test_gated_units_act_on_two_halves_and_their_1d_view_is_the_diagonal(name):
    from actviz.facts.gated import gated_unit

    z = torch.randn(5, 8, dtype=torch.float64)
    a, b = z[:, :4], z[:, 4:]
    gate = {"glu": torch.sigmoid, "reglu": torch.relu, "geglu": F.gelu, "swiglu": F.silu}[name]
    torch.testing.assert_close(gated_unit(z, name), a * gate(b))
    if name == "glu":
        torch.testing.assert_close(gated_unit(z, name), F.glu(z))
    x = torch.linspace(-6, 6, 101, dtype=torch.float64)
    torch.testing.assert_close(actviz.get(name).forward(x), gated_unit(torch.cat([x, x]), name, dim=0))
