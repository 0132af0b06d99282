"""The numerically careful building blocks of the built-in activations.

The contract every forward and derivative keeps: it is finite for every finite
float32 and float64 input wherever the true value is finite, returns NaN for NaN,
gives the limit at ±inf (f(−inf) = lim f(x) as x → −inf, the same for f′; see
:func:`finite_below` and :func:`at_infinity` for forms such as x·σ(x) that would
give inf·0 there),
and is accurate in the tails (relative error ≤ 1e-6 in float64 wherever the true
value is a normal float).  Hence none of these forms appear: 1 − σ(x),
1 − tanh²(x) or 1 + erf(x) (each cancels to 0 in a tail where the true value is
tiny but normal), and no product that overflows on the way to a finite result.

The kernels are built from PyTorch's fused kernels wherever those are accurate,
so that ``actviz compare`` (which trains with these functions) stays fast.

torch is imported lazily, on the first call of a kernel: ``actviz list`` does
not pay for it.  The entries' modules use :class:`LazyModule` for the same reason.
"""

from __future__ import annotations

import importlib
import math
from typing import Any


class LazyModule:
    """A module imported on first attribute access, which then takes its own place.

    ``torch = LazyModule("torch", globals(), "torch")`` binds a stand-in; the first
    ``torch.something`` imports torch and rebinds ``namespace[name]`` to the real
    module, so later calls go straight to it.
    """

    def __init__(self, module: str, namespace: dict[str, Any], name: str):
        self._module, self._namespace, self._name = module, namespace, name

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self._module)
        self._namespace[self._name] = module
        return getattr(module, attr)


torch: Any = LazyModule("torch", globals(), "torch")
F: Any = LazyModule("torch.nn.functional", globals(), "F")


# --------------------------------------------------------------------------- masks and NaN


def keep_nan(x: Any, out: Any) -> Any:
    """``out`` with NaN wherever ``x`` is NaN.

    A piecewise derivative built from comparisons (``x > 0`` is False for NaN)
    would otherwise turn a NaN input into a number.
    """
    return torch.where(torch.isnan(x), x, out)


def at_infinity(x: Any, out: Any, minus: float | None = None, plus: float | None = None) -> Any:
    """``out`` with the limit ``minus`` where x = −inf and ``plus`` where x = +inf (None: left as is).

    For forms whose value at an infinite input is inf·0 or inf − inf (x·σ(x) at −inf,
    Φ(x) + x·φ(x) at ±inf) although the limit exists.
    """
    if minus is not None:
        out = torch.where(x == -math.inf, minus, out)
    if plus is not None:
        out = torch.where(x == math.inf, plus, out)
    return out


def finite_below(x: Any) -> Any:
    """``x`` with −inf replaced by the most negative float of its dtype (NaN and +inf kept).

    One fused pass, cheap enough for the forwards that train: x·σ(βx) at −inf is inf·0 (NaN),
    at the most negative float it is −0, the limit.
    """
    return F.hardtanh(x, -torch.finfo(x.dtype).max, math.inf)


def finite(x: Any) -> Any:
    """``x`` with ±inf replaced by the largest floats of its dtype (NaN kept): x/(1 + |x|) → ±1."""
    big = torch.finfo(x.dtype).max
    return F.hardtanh(x, -big, big)


def indicator(cond: Any, x: Any) -> Any:
    """1 where the boolean tensor ``cond`` holds, else 0, in ``x``'s dtype."""
    return cond.to(x.dtype)


def abs_unit_grad(x: Any) -> Any:
    """|x| whose autograd derivative at 0 is 1 (``torch.abs`` gives 0 there).

    For an even function written as g(|x|), this keeps every higher derivative
    that autograd computes at 0 equal to g's own, so the continuity class
    measured from the analytic derivative stays honest.
    """
    return torch.where(x < 0, -x, x)


def clip_unit(z: Any) -> Any:
    """clip(z, 0, 1), whose autograd derivative is 0 at both ends.

    ``F.hardtanh`` passes the gradient only strictly inside (0, 1), which is
    PyTorch's convention at the kinks of Hardsigmoid and Hardswish.
    """
    return F.hardtanh(z, 0.0, 1.0)


# --------------------------------------------------------------------------- sigmoid and tanh


def sig(z: Any) -> Any:
    """σ(z) computed as e^(log σ(z)), for products such as x·σ(z).

    ``torch.sigmoid`` is 0 once e^(−z) overflows (z < −709.8 in float64, −88.7 in
    float32), where σ(z) is still a subnormal that x·σ(x) lifts back to a normal
    float (swish(−710) ≈ −3.2e−306); ``F.logsigmoid`` does not overflow.
    """
    return torch.exp(F.logsigmoid(z))


def sigmoid_prime(z: Any) -> Any:
    """σ′(z) = σ(z)·σ(−z).

    Both factors are accurate, so the tails are too (σ′(40) ≈ 4.25e−18), where
    σ(z)·(1 − σ(z)) would be 0.  ``torch.sigmoid`` underflows only where σ′ itself
    is subnormal.
    """
    return torch.sigmoid(z) * torch.sigmoid(-z)


def sech2(x: Any) -> Any:
    """tanh′(x) = sech²(x) = (1/cosh x)².

    No 1 − tanh² cancellation (tanh′(20) ≈ 1.70e−17), and squaring 1/cosh rather
    than dividing by cosh² keeps cosh² from overflowing while sech² is still normal.
    """
    r = 1 / torch.cosh(x)
    return r * r


# --------------------------------------------------------------------------- softplus


def softplus_small_beta(z: Any, beta: float) -> Any:
    """log(1 + e^(βz))/β for β < 1e-15, as max(z, 0) + log1p(e^(−β|z|))/β.

    There e^(βz) underflows while e^(βz)/β is still a normal float, so the far left
    tail (β|z| > 40, where log1p(e^(−a)) = e^(−a) to full precision) is computed as
    one exponential, e^(−β|z| − log β).  Its autograd derivative is σ(βz)
    everywhere, 0 included.
    """
    u = z * beta
    a = torch.where(u > 0, u, -u)  # |βz|; at 0 its autograd derivative is −β, giving σ(0) = 1/2
    far = a > 40
    a_far = torch.where(far, a, torch.full_like(a, 40.0))
    tail = torch.where(far, torch.exp(-a_far - math.log(beta)), torch.log1p(torch.exp(-a)) / beta)
    return torch.where(z > 0, z, torch.zeros_like(z)) + tail


def softplus(z: Any, beta: float = 1.0) -> Any:
    """log(1 + e^(βz))/β, finite wherever the true value is, accurate in both tails.

    ``F.softplus`` with its threshold raised from 20 to 40: beyond βz = 40 it returns
    z, off by e^(−40)/40 relative (its default 20 leaves 1e-10), and it tests βz > 40
    before it exponentiates, so βz = inf (β = 5 at z = 1e38 in float32) gives z,
    where logaddexp(βz, 0)/β overflows.  Its autograd derivative is σ(βz).  Tiny β
    goes to :func:`softplus_small_beta`.
    """
    if beta < 1e-15:
        return softplus_small_beta(z, beta)
    return F.softplus(z, beta=beta, threshold=40.0)


__all__ = [
    "LazyModule",
    "abs_unit_grad",
    "at_infinity",
    "clip_unit",
    "finite",
    "finite_below",
    "indicator",
    "keep_nan",
    "sech2",
    "sig",
    "sigmoid_prime",
    "softplus",
    "softplus_small_beta",
]
