"""Every built-in keeps a sympy formula beside its hand-written forward: they agree, and so do their derivatives."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
import torch

import actviz
from actviz.core import registry
from actviz.facts.card import expression
from actviz.facts.symbolic import X, sigmoid, softplus


def _mp(e):
    """An mpmath function of x (50 digits) for a sympy expression."""
    mods = [{"sigmoid": lambda u: 1 / (1 + mpmath.exp(-u)), "softplus": lambda u: mpmath.log1p(mpmath.exp(u)),
             "Heaviside": lambda u, h=0.5: 1 if u > 0 else 0 if u < 0 else h,
             "DiracDelta": lambda u: 0}, "mpmath"]
    return sp.lambdify(X, e, modules=mods)


def _points(act):
    r = 8.0 * max(act.xscale, 1.0)
    kinks = [k.x for k in act.kinks]
    near = [k + d for k in kinks for d in (-1e-6, -1e-3, 1e-3, 1e-6)]
    tails = [s * t for s in (-1, 1) for t in (20.0, 35.0, 60.0, 100.0)]
    return np.unique(np.concatenate([np.linspace(-r, r, 1001), kinks, near, tails, [0.0]])), kinks


def _agree(got, want, what, x):
    for xi, g, w in zip(x, got, want):
        w = float(w)
        assert math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-12), f"{what} at x = {xi}: registry {g}, sympy {w}"


@pytest.mark.parametrize("name", registry.names())
def test_the_sympy_formula_agrees_with_the_forward_and_derivative(name):
    act = actviz.get(name)
    if not act.symbolic:  # a plugin may give none; every built-in does
        pytest.skip("no symbolic form")
    f = expression(act)
    x, kinks = _points(act)
    assert len(x) >= 1000
    with mpmath.workdps(50):
        fm = _mp(f)
        want = [fm(mpmath.mpf(float(v))) for v in x]
    with torch.no_grad():
        got = act(torch.tensor(x, dtype=torch.float64)).numpy()
    _agree(got, want, "f", x)
    d = sp.diff(f, X)
    smooth = np.array([all(abs(v - k) > 1e-9 for k in kinks) for v in x])
    with mpmath.workdps(50):
        dm = _mp(d)
        dwant = [dm(mpmath.mpf(float(v))) for v in x[smooth]]
    with torch.no_grad():
        dgot = act.derivative(torch.tensor(x[smooth], dtype=torch.float64)).numpy()
    _agree(dgot, dwant, "f′", x[smooth])


@pytest.mark.parametrize(("name", "other"), [("softplus", sp.log(1 + sp.exp(X))), ("glu", X / (1 + sp.exp(-X))),
                                              ("log_sigmoid", -sp.log(1 + sp.exp(-X)))])
def test_the_formula_equals_the_textbook_form_symbolically(name, other):
    f = expression(actviz.get(name)).replace(sigmoid, lambda u: 1 / (1 + sp.exp(-u)))
    f = f.replace(softplus, lambda u: sp.log(1 + sp.exp(u)))
    assert sp.simplify(f - other) == 0


def test_gated_views_equal_their_gate_times_x_symbolically():
    assert sp.simplify(expression(actviz.get("swiglu")) - X * expression(actviz.get("swish"))) == 0
    assert sp.simplify(expression(actviz.get("geglu")) - X * expression(actviz.get("gelu"))) == 0
