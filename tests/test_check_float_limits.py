"""`actviz check` reports wrong declarations, not floating-point limits.

Each case below is declared correctly; the old measurement reported a
disagreement for it (float rounding at σ(βx) ≈ 1, a jump of 1e-7 in f′ taken for
smoothness, a tiny slope taken for a bounded range, a kink that is not a float).
The counter-tests make sure the same sensitivity still catches declarations that
are wrong by as little.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import actviz
from actviz.cli.app import app
from actviz.core.properties import INF, Interval
from actviz.facts.audit import audit, compare
from actviz.facts.measure import measure

from helpers import runner

RIGHT = [
    ("softplus", {"beta": 20.0}),
    ("softplus", {"beta": 50.0}),
    ("softplus", {"beta": 100.0}),
    ("elu", {"alpha": 1.0000001}),
    ("elu", {"alpha": 0.9999999}),
    ("leaky_relu", {"negative_slope": 1e-12}),
    ("leaky_relu", {"negative_slope": 1.000001}),
    ("maxout", {"weights": (0.0, 1.0), "biases": (0.0, -1e6)}),
    ("maxout", {"weights": (-1.5, 1.0), "biases": (0.0, 1.5)}),  # kink −0.6 is not a float
    ("maxout", {"weights": (-1.0, 2.0), "biases": (1.0, -2.0)}),
    ("maxout", {"weights": (2.7, -2.69, -0.72, -2.76), "biases": (-0.8, 1.8, 1.1, 0.4)}),  # kink −20 off by 5e-14
    ("maxout", {"weights": (0.0,), "biases": (1.5,)}),
    ("maxout", {"weights": (1.0,), "biases": (1e6,)}),  # positive out to x = −2e4, yet unbounded below
    ("maxout", {"weights": (0.0, 1e-9), "biases": (0.0, 0.0)}),  # f′ jumps from 0 to 1e-9
    ("elu", {"alpha": 1e-12}),  # −α is approached, never reached, however small α
    ("elu", {"alpha": 1e-6}),
    ("swish", {"beta": 1e4}),
    ("softplus", {"beta": 1e6}),
    ("softplus", {"beta": 1e-3}),
    ("softplus", {"beta": 1e-300}),  # 6.9e299 at 0: inf in float32 is the right answer there
]


def _label(case) -> str:
    return actviz.get(case[0], **case[1]).label


@pytest.mark.parametrize("case", RIGHT, ids=_label)
def test_no_disagreement_from_float_limits(case):
    result = audit(actviz.get(case[0], **case[1]))
    assert not result.findings, [f.message for f in result.findings]


def _random_maxouts(seed: int, n: int):
    """Random maxout units: 1–5 pieces, slopes and intercepts in (−3, 3), some rounded to 0–2 decimals."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        k = int(rng.integers(1, 6))

        def draw():
            v = rng.uniform(-3, 3, k)
            return tuple(float(t) for t in (v if rng.random() < 0.3 else np.round(v, int(rng.integers(0, 3)))))

        yield draw(), draw()


#: how many of the random maxouts run by default; all of them run with the slow tests
RANDOM_MAXOUTS_FAST = 30
RANDOM_MAXOUTS = [
    pytest.param(w, b, id=f"maxout{i}", marks=[pytest.mark.slow] if i >= RANDOM_MAXOUTS_FAST else [])
    for i, (w, b) in enumerate(_random_maxouts(seed=11, n=300))
]


@pytest.mark.parametrize("weights, biases", RANDOM_MAXOUTS)
def test_random_maxouts_pass_check(weights, biases):
    result = audit(actviz.get("maxout", weights=weights, biases=biases))
    assert not result.findings, (result.act.label, [f.message for f in result.findings])


def test_maxout_kink_lists_the_slope_the_float_derivative_gives():
    import torch

    act = actviz.get("maxout", weights=(-1.5, 1.0), biases=(0.0, 1.5))
    (kink,) = act.kinks
    assert kink.x == -0.6
    at = act.derivative(torch.tensor([kink.x], dtype=torch.float64)).item()
    assert kink.derivative == at == 1.0  # at float(−0.6) > −0.6 the piece x + 1.5 is the larger


# ------------------------------------------------------------ and wrong declarations are still caught


def _wrong(act, **changes):
    return compare(dataclasses.replace(act.properties, **changes), measure(act), act.label)


@pytest.mark.parametrize(
    "case, changes",
    [
        # f′ jumps by 1e-7 at 0: C⁰, not C¹
        (("elu", {"alpha": 1.0000001}), {"continuity": 1}),
        (("leaky_relu", {"negative_slope": 1.000001}), {"continuity": "inf"}),
        # a slope of 1e-12 is still unbounded below, and f′ = 1e-12 does not tend to 0
        (("leaky_relu", {"negative_slope": 1e-12}), {"range": Interval(-1e-8, INF)}),
        (("leaky_relu", {"negative_slope": 1e-12}), {"saturation": "left"}),
        # σ(βx) < 1 everywhere, however large β: the ends stay open
        (("softplus", {"beta": 100.0}), {"derivative_range": Interval(0, 1, False, True)}),
        (("softplus", {"beta": 100.0}), {"range": Interval(0, INF, True, False)}),
        # the maxout with a kink at 1e6 really has a kink
        (("maxout", {"weights": (0.0, 1.0), "biases": (0.0, -1e6)}), {"continuity": "inf"}),
        (("maxout", {"weights": (0.0, 1.0), "biases": (0.0, -1e6)}), {"continuity": -1}),
        (("maxout", {"weights": (0.0, 1e-9), "biases": (0.0, 0.0)}), {"continuity": "inf"}),
        (("maxout", {"weights": (1.0,), "biases": (1e6,)}), {"range": Interval(0, INF)}),
        (("elu", {"alpha": 1e-12}), {"range": Interval(-1e-12, INF, True, False)}),
    ],
    ids=lambda v: _label(v) if isinstance(v, tuple) else ",".join(v),
)
def test_a_declaration_wrong_by_as_little_is_still_caught(case, changes):
    act = actviz.get(case[0], **case[1])
    assert [f.key for f in _wrong(act, **changes)] == list(changes)


def test_elu_alpha_one_is_still_c1():
    assert measure(actviz.get("elu")).continuity == 1
    assert measure(actviz.get("elu", alpha=1.0000001)).continuity == 0


@pytest.mark.parametrize(
    "args",
    [
        ["softplus", "-p", "softplus.beta=20", "softplus", "-p", "softplus.beta=100"],
        ["elu", "-p", "elu.alpha=1.0000001"],
        ["leaky_relu", "-p", "leaky_relu.negative_slope=1e-12"],
        ["maxout", "-p", "maxout.weights=-1.5,1", "-p", "maxout.biases=0,1.5"],
    ],
)
def test_check_cli_exits_0_on_right_declarations(args):
    result = runner.invoke(app, ["check", *args])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "name, params, label",
    [
        ("elu", {"alpha": 1.0000001}, "elu(alpha=1.0000001)"),
        ("elu", {"alpha": 0.9999999}, "elu(alpha=0.9999999)"),
        ("elu", {"alpha": 2.0}, "elu(alpha=2)"),
        ("leaky_relu", {"negative_slope": 0.1 + 0.2}, "leaky_relu(negative_slope=0.30000000000000004)"),
        ("maxout", {"weights": (0.0,), "biases": (1.5,)}, "maxout(weights=0, biases=1.5)"),
        ("maxout", {"weights": (0.0, 1.0), "biases": (0.0, -1e6)}, "maxout(weights=0,1, biases=0,-1e+06)"),
    ],
)
def test_labels_say_which_parameters(name, params, label):
    act = actviz.get(name, **params)
    assert act.label == label
    # and a label's values read back (as NAME.KEY=VALUE does) as the same activation
    from actviz.core.registry import bind

    inner = label[len(name) + 1 : -1].split(", ")
    assert bind(name, dict(i.split("=", 1) for i in inner)) == act


def test_a_needless_float32_overflow_is_still_caught():
    import torch

    actviz.register(
        name="test_overflow32",
        forward=lambda x: x * 1e35 / 1e35,  # inf in float32 from |x| ≈ 3.4e3, though the value is x
        derivative=lambda x: torch.ones_like(x),
        formula="x",
        replace=True,
    )
    try:
        messages = [f.message for f in audit(actviz.get("test_overflow32")).findings]
    finally:
        actviz.unregister("test_overflow32")
    assert any("forward is not finite" in m and "float32" in m for m in messages), messages


def test_equal_infinities_do_not_hide_a_wrong_derivative_elsewhere():
    """f = eˣ is inf far out in f′ both ways (inf − inf is NaN); a derivative wrong by 1 at x = 0 is still found."""
    import torch

    from actviz.core.registry import Activation, ActivationSpec
    from actviz.facts.audit import autograd_max_error

    spec = ActivationSpec(name="expo", forward=torch.exp, formula="exp(x)",
                          derivative=lambda x: torch.exp(x) + (x == 0).to(x.dtype))
    assert autograd_max_error(Activation(spec)) == 1.0


def test_softplus_beta_derivative_holds_where_beta_squared_underflows():
    """At β = 1e-300 neither e^(−βx) nor β² is a float64, but ∂f/∂β = g(βx)/β² often is: it agrees with
    the 50+ digit referee (autograd's cancelling terms give 0 or ±inf there)."""
    import torch

    import actviz
    from actviz.facts.audit import _high_precision_param_derivative

    act = actviz.get("softplus", beta=1e-300)
    xs = [-1e304, 2e301, 4e302, 1e303, 0.0, 1.0]
    got = act.param_derivative(torch.tensor(xs, dtype=torch.float64), "beta").numpy()
    want = _high_precision_param_derivative(act, "beta", np.array(xs))
    assert want[3] == pytest.approx(-5.081034856447e168, rel=1e-12)
    assert got == pytest.approx(want, rel=1e-12)
