"""Forward and derivative against independent 40-digit references (mpmath): accurate in the tails.

Every built-in entry, at its defaults and at non-default parameters, is evaluated
on a systematic ladder of points (±m·10^k from 1e−30 out to 1.7e308, the tails out
to where the values underflow, and the extremes 1e4, 1e30, 3.4e38, 1.7e308) in
float64 and float32, and compared with a reference computed by mpmath at 40
significant digits *at the same (exactly representable) input*:

* float64: relative error ≤ 1e−6 wherever the true value is a normal float
  (an absolute floor of the smallest normal where it is subnormal);
* float32: relative error ≤ max(1e−5, 16·u·(1 + κ)), u = 2^−24 and κ = |x·g′(x)/g(x)|
  the condition number of the function g being checked (the float32 pipeline
  rounds its intermediate arguments, which no formula can avoid), with the
  smallest normal float32 as the absolute floor;
* finite wherever the true value is finite in that dtype, NaN for NaN.
"""

from __future__ import annotations

import functools
import math

import mpmath as mp
import numpy as np
import pytest
import torch

import actviz

mp.mp.dps = 40

_SELU_L = mp.mpf("1.0507009873554804934193349852946")
_SELU_A = mp.mpf("1.6732632423543772848170429916717")


def _sig(z):
    return 1 / (1 + mp.exp(-z))


def _sig_d(z):  # σ(z)σ(−z), exact in mpmath
    return _sig(z) * _sig(-z)


def _gelu_tanh(x):
    k = mp.sqrt(2 / mp.pi)
    u = k * (x + mp.mpf("0.044715") * x**3)
    return x * _sig(2 * u)


def _gelu_tanh_d(x):
    k = mp.sqrt(2 / mp.pi)
    v = 2 * k * (x + mp.mpf("0.044715") * x**3)
    dv = 2 * k * (1 + 3 * mp.mpf("0.044715") * x**2)
    return _sig(v) + x * _sig_d(v) * dv


def _phi(x):
    """Φ(x); far out (mpmath's erfc overflows near 1e300) by the asymptotic series of Mills' ratio."""
    if abs(x) <= 50:
        return mp.erfc(-x / mp.sqrt(2)) / 2
    # Φ(−|x|) = φ(x)/|x|·Σ (−1)^n (2n−1)!!/x^(2n); 12 terms leave a relative error < 1e−25 at |x| > 50
    a = abs(x)
    series = mp.fsum((-1) ** n * mp.fac2(2 * n - 1) / a ** (2 * n) for n in range(12))
    tail = mp.npdf(a) / a * series
    return tail if x < 0 else 1 - tail


def _softplus(x, b):
    z = b * x
    return (z + mp.log1p(mp.exp(-z))) / b if z > 0 else mp.log1p(mp.exp(z)) / b


def _mish(x):
    return x * mp.tanh(_softplus(x, 1))


def _mish_d(x):
    sp = _softplus(x, 1)
    return mp.tanh(sp) + x * mp.sech(sp) ** 2 * _sig(x)


def _clip(v, lo, hi):
    return min(max(v, lo), hi)


# name, params, reference f, reference f′ (at kinks, the value PyTorch's autograd gives there)
def _references():
    s = mp.mpf
    refs = [
        ("sigmoid", {}, _sig, _sig_d),
        ("tanh", {}, mp.tanh, lambda x: mp.sech(x) ** 2),
        ("hard_sigmoid", {}, lambda x: _clip((x + 3) / 6, 0, 1), lambda x: s(1) / 6 if -3 < x < 3 else s(0)),
        ("hard_logistic", {}, lambda x: _clip((x + 2) / 4, 0, 1), lambda x: s(1) / 4 if -2 < x < 2 else s(0)),
        ("hard_tanh", {}, lambda x: _clip(x, -1, 1), lambda x: s(1) if -1 < x < 1 else s(0)),
        ("relu", {}, lambda x: max(x, 0), lambda x: s(1) if x > 0 else s(0)),
        ("relu6", {}, lambda x: _clip(x, 0, 6), lambda x: s(1) if 0 < x < 6 else s(0)),
        ("identity", {}, lambda x: x, lambda x: s(1)),
        ("step", {}, lambda x: s(1) if x >= 0 else s(0), lambda x: s(0)),
        ("selu", {}, lambda x: _SELU_L * x if x > 0 else _SELU_L * _SELU_A * mp.expm1(x),
         lambda x: _SELU_L if x > 0 else _SELU_L * _SELU_A * mp.exp(x)),
        ("softsign", {}, lambda x: x / (1 + abs(x)), lambda x: 1 / (1 + abs(x)) ** 2),
        ("hard_swish", {}, lambda x: x * _clip((x + 3) / 6, 0, 1),
         lambda x: s(0) if x <= -3 else ((2 * x + 3) / 6 if x < 3 else s(1))),
        ("mish", {}, _mish, _mish_d),
        ("gelu", {}, lambda x: x * _phi(x), lambda x: _phi(x) + x * mp.npdf(x)),
        ("gelu", {"approximate": "tanh"}, _gelu_tanh, _gelu_tanh_d),
    ]
    for g in (0.01, 0.2, -0.3, 2.0, 1e-12, 1.000001):
        refs.append(("leaky_relu", {"negative_slope": g}, lambda x, g=g: x if x > 0 else g * x,
                     lambda x, g=g: s(1) if x > 0 else s(g)))
    refs.append(("prelu", {}, lambda x: x if x > 0 else s(0.25) * x, lambda x: s(1) if x > 0 else s(0.25)))
    for a in (1.0, 0.5, 2.0, 1.0000001):
        refs.append(("elu", {"alpha": a}, lambda x, a=a: x if x > 0 else a * mp.expm1(x),
                     lambda x, a=a: s(1) if x > 0 else a * mp.exp(x)))
    for b in (1.0, 0.01, 5.0, 20.0, 100.0):
        refs.append(("softplus", {"beta": b}, lambda x, b=b: _softplus(x, b), lambda x, b=b: _sig(b * x)))
    for b in (1.0, 0.5, 2.0, 10.0, 0.0):
        refs.append(("swish", {"beta": b}, lambda x, b=b: x * _sig(b * x),
                     lambda x, b=b: _sig(b * x) + b * x * _sig_d(b * x)))
    for w, bb in (((-0.5, 0.25, 1.0), (-0.75, 0.0, -0.75)), ((-1.5, 1.0), (0.0, 1.5)), ((0.0, 1.0), (0.0, -1e6))):
        refs.append(("maxout", {"weights": w, "biases": bb}, functools.partial(_maxout, w, bb),
                     functools.partial(_maxout_d, w, bb)))
    refs += _new_references()
    return refs


def _tanhshrink(x):
    # x − tanh x by its series where the difference cancels at 40 digits too (|x| < 1e-3)
    if abs(x) < mp.mpf("1e-3"):
        return x**3 / 3 - 2 * x**5 / 15 + 17 * x**7 / 315 - 62 * x**9 / 2835
    return x - mp.tanh(x)


def _new_references():
    s = mp.mpf
    refs = [
        ("glu", {}, lambda x: x * _sig(x), lambda x: _sig(x) + x * _sig_d(x)),
        ("reglu", {}, lambda x: x * max(x, 0), lambda x: 2 * max(x, 0)),
        ("squared_relu", {}, lambda x: max(x, 0) ** 2, lambda x: 2 * max(x, 0)),
        ("geglu", {}, lambda x: x * x * _phi(x), lambda x: 2 * x * _phi(x) + x * x * mp.npdf(x)),
        ("swiglu", {}, lambda x: x * x * _sig(x), lambda x: 2 * x * _sig(x) + x * x * _sig_d(x)),
        ("log_sigmoid", {}, lambda x: -_softplus(-x, 1), lambda x: _sig(-x)),
        ("tanhshrink", {}, _tanhshrink, lambda x: mp.tanh(x) ** 2),
        # ω₀ = 1 only: for another ω₀ the product ω₀·x rounds, and sin of a huge argument off by an
        # ulp is another number (no formula can avoid it; the contract tests cover finiteness)
        ("sine", {}, mp.sin, mp.cos),
    ]
    for a in (1.0, 0.5, 2.0):
        refs.append(("celu", {"alpha": a}, lambda x, a=a: x if x > 0 else a * mp.expm1(x / a),
                     lambda x, a=a: s(1) if x > 0 else mp.exp(x / a)))
    # α a power of 2: α·x is exact, so the reference and the float pipeline see the same argument
    for a in (1.0, 0.5):
        refs.append(("snake", {"alpha": a}, lambda x, a=a: x + mp.sin(a * x) ** 2 / a,
                     lambda x, a=a: 1 + mp.sin(2 * a * x)))
    refs.append(("rational", {}, _rational, _rational_d))
    for lam in (0.5, 2.0):
        refs.append(("softshrink", {"lambd": lam},
                     lambda x, lam=lam: x - lam if x > lam else (x + lam if x < -lam else s(0)),
                     lambda x, lam=lam: s(1) if abs(x) > lam else s(0)))
        refs.append(("hardshrink", {"lambd": lam}, lambda x, lam=lam: x if abs(x) > lam else s(0),
                     lambda x, lam=lam: s(1) if abs(x) > lam else s(0)))
    return refs


def _rational_parts(x):
    from actviz.facts.rational import DENOMINATOR, NUMERATOR

    a, b = [mp.mpf(c) for c in NUMERATOR], [mp.mpf(c) for c in DENOMINATOR]
    p = sum(c * x**j for j, c in enumerate(a))
    q = 1 + sum(abs(c * x ** (k + 1)) for k, c in enumerate(b))
    dp = sum(j * c * x ** (j - 1) for j, c in enumerate(a) if j)
    dq = mp.sign(x) * sum((k + 1) * abs(c) * abs(x) ** k for k, c in enumerate(b))
    return p, q, dp, dq


def _rational(x):
    p, q, _, _ = _rational_parts(x)
    return p / q


def _rational_d(x):
    p, q, dp, dq = _rational_parts(x)
    return (dp * q - p * dq) / q**2


def _maxout(w, b, x):
    return max(s * x + c for s, c in zip(map(mp.mpf, w), map(mp.mpf, b)))


def _maxout_d(w, b, x):
    vals = [mp.mpf(s) * x + mp.mpf(c) for s, c in zip(w, b)]
    # the first piece attaining the max; at an exact float tie in mpmath (a float kink) the
    # registry's convention is also the first piece, as torch.argmax
    return mp.mpf(w[vals.index(max(vals))])


REFS = _references()


def _ladder() -> np.ndarray:
    mags = [m * 10.0**k for k in range(-30, 309) for m in (1.0, 3.0)]
    mags += [0.5, 1.5, 2.0, 2.5, 2.9999, 3.0, 3.0001, 4.0, 6.0, 7.0, 8.0, 12.0, 15.0, 20.0, 25.0, 35.0, 40.0,
             50.0, 88.0, 100.0, 700.0, 710.0, 745.0, 1e4, 1e30, 3.4e38, 1.7e38, 5e19, 1.7e308,
             # where σ of the inner argument is subnormal but f or f′ is not (float64, float32)
             21.2, 10.08, 37.5, 88.9, 89.5, 709.9, 720.0, 740.0, 13.0, 26.0]
    mags = [m for m in mags if math.isfinite(m) and m <= 1.7976931348623157e308]
    pts = np.array(sorted({0.0, *mags, *(-m for m in mags)}))
    return pts


POINTS = _ladder()
_TINY = {torch.float64: np.finfo(np.float64).tiny, torch.float32: float(np.finfo(np.float32).tiny)}
_U32 = 2.0**-24


def _label(case) -> str:
    return actviz.get(case[0], **case[1]).label


@functools.lru_cache(maxsize=None)
def _reference(index: int, which: int, x: float, with_cond: bool) -> tuple[float, float]:
    """(g(x), condition number of g at x) in 40 digits; g = f (which = 2) or f′ (which = 3)."""
    fn = REFS[index][which]
    xm = mp.mpf(x)
    val = fn(xm)
    cond = 0.0
    if with_cond and val != 0 and x != 0:
        h = abs(xm) * mp.mpf(10) ** -15
        lo, hi = fn(xm - h), fn(xm + h)
        slope = (hi - lo) / (2 * h)
        cond = float(abs(xm * slope / val))
    return float(val), cond  # float() rounds to nearest: inf where the true value overflows


def _check(index: int, which: int, dtype) -> list[str]:
    name, params = REFS[index][:2]
    act = actviz.get(name, **params)
    fn = act.forward if which == 2 else act.derivative
    limit = 3.4028234663852886e38 if dtype == torch.float32 else math.inf
    xs = POINTS[np.abs(POINTS) <= limit]
    t = torch.as_tensor(xs, dtype=dtype)
    xs = t.double().numpy()  # the exact inputs (float32-rounded in float32)
    with torch.no_grad():
        got = fn(t).double().numpy()
    tiny = _TINY[dtype]
    big = float(torch.finfo(dtype).max)
    bad = []
    for x, y in zip(xs, got):
        ref, cond = _reference(index, which, float(x), dtype == torch.float32)
        if abs(ref) > big:  # the true value overflows this dtype: nothing to promise
            continue
        if not math.isfinite(y):
            bad.append(f"x={x!r}: got {y!r}, true {ref!r}")
            continue
        rel = 1e-6 if dtype == torch.float64 else max(1e-5, 16 * _U32 * (1 + cond))
        floor = tiny  # a subnormal true value: only its magnitude is promised
        if abs(y - ref) > rel * abs(ref) + floor:
            bad.append(f"x={x!r}: got {y!r}, true {ref!r} (relative error {abs(y - ref) / max(abs(ref), tiny):.3g})")
    return bad


CASES = [(i, which) for i in range(len(REFS)) for which in (2, 3)]


def _case_id(case) -> str:
    i, which = case
    return f"{_label(REFS[i])}-{'f' if which == 2 else 'df'}"


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_accurate_against_40_digit_reference(case, dtype):
    bad = _check(*case, dtype)
    assert not bad, f"{len(bad)} point(s) off, e.g.:\n" + "\n".join(bad[:8])


def test_every_entry_has_a_reference():
    assert {r[0] for r in REFS} == set(actviz.names())


@pytest.mark.parametrize(
    "name, params, x, dtype, which, expected",
    [
        # huge |x| in float32 (no inf·0, no overflow before a finite result), and the tails in float64
        ("gelu", {"approximate": "tanh"}, 1e30, torch.float32, "d", 1.0),
        ("gelu", {"approximate": "tanh"}, -1e30, torch.float32, "d", 0.0),
        ("swish", {"beta": 2.0}, 3.4e38, torch.float32, "d", 1.0),
        ("swish", {"beta": 10.0}, -3.4e38, torch.float32, "d", 0.0),
        ("hard_swish", {}, 1e38, torch.float32, "f", 1e38),
        ("gelu", {}, 3.4e38, torch.float32, "f", 3.4e38),
        ("softplus", {"beta": 5.0}, 1e38, torch.float32, "f", 1e38),
        ("hard_swish", {}, 1.7e308, torch.float64, "f", 1.7e308),
        ("sigmoid", {}, 40.0, torch.float64, "d", 4.248354255291589e-18),
        ("tanh", {}, 20.0, torch.float64, "d", 1.6993417021166355e-17),
        ("gelu", {}, -10.0, torch.float64, "f", -7.619853024160527e-23),
    ],
)
def test_extreme_inputs_and_tails(name, params, x, dtype, which, expected):
    act = actviz.get(name, **params)
    t = torch.tensor([x], dtype=dtype)
    y = (act.forward if which == "f" else act.derivative)(t).double().item()
    exact = float(torch.tensor([expected], dtype=dtype).double().item())
    assert math.isfinite(y)
    assert y == pytest.approx(exact, rel=1e-6 if dtype == torch.float64 else 1e-5, abs=1e-300)


@pytest.mark.parametrize("case", REFS, ids=_label)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_finite_at_the_extremes_and_nan_for_nan(case, dtype):
    act = actviz.get(case[0], **case[1])
    big = float(torch.finfo(dtype).max)
    x = torch.tensor([-big, -big / 2, -1e30, -1e19, 1e19, 1e30, big / 2, big, math.nan], dtype=dtype)
    with torch.no_grad():
        for fn, ref in ((act.forward, case[2]), (act.derivative, case[3])):
            y = fn(x)
            assert torch.isnan(y[-1])
            for xi, yi in zip(x[:-1].double().tolist(), y[:-1].double().tolist()):
                if abs(float(ref(mp.mpf(xi)))) <= big:  # the true value is finite in this dtype
                    assert math.isfinite(yi), f"{act.label}: {fn.__name__}({xi!r}) = {yi!r} ({dtype})"
