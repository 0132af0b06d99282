"""The rational activation: a Padé activation unit (PAU) of degree (5, 4).

Molina, Schramowski & Kersting (2020), "Padé Activation Units: End-to-end Learning of Flexible
Activation Functions in Deep Networks" (ICLR 2020).  The "safe" PAU keeps the denominator ≥ 1
with absolute values::

    f(x) = P(x) / Q(x),   P(x) = a₀ + a₁x + … + a₅x⁵,   Q(x) = 1 + |b₁x| + |b₂x²| + |b₃x³| + |b₄x⁴|

(the paper's safe form; the ``rational_activations`` package calls it version A).  The
coefficients start at the leaky-ReLU (slope 0.01) approximation that package publishes for
version A, degrees (5, 4), fitted on [−3, 3] (``rationals_config.json``, "Rational_version_A5/4",
"leaky_relu"); they are taken as published, not refitted here.

Far out, P/Q grows like (a₅/|b₄|)·x; the forward and derivative divide P and Q by x⁴ for
|x| > 1, so that x⁵ never overflows on the way to a finite value.  Q′ has sign(x) in it: at 0,
where |b₁x| has a kink, f′ takes autograd's value a₁ (sign(0) = 0).

``param_derivatives`` give ∂f/∂numerator (∂f/∂aⱼ = xʲ/Q) and ∂f/∂denominator
(∂f/∂bₖ = −P·sign(bₖ)·|x|ᵏ/Q²), each stacked along a new first dimension (one slice per
coefficient).
"""

from __future__ import annotations

from typing import Any

from actviz.core.properties import INF, Interval, Properties
from actviz.core.registry import ActivationSpec, Kink, Param, Params
from actviz.facts.kernels import LazyModule, at_infinity

torch: Any = LazyModule("torch", globals(), "torch")

#: the published leaky-ReLU initialisation (version A, degrees (5, 4)): a₀ … a₅ and b₁ … b₄
NUMERATOR = (0.029792778657264946, 0.6183735264987601, 2.323309062531321, 3.051936237265109,
             1.4854203263828845, 0.2510244961111299)
DENOMINATOR = (-1.1419548357285474, 4.393159974992486, 0.8714712309957245, 0.34719662339598834)


def _check(p: Params) -> str | None:
    if len(p["numerator"]) != 6 or len(p["denominator"]) != 4:
        return (f"a rational of degree (5, 4) takes 6 numerator and 4 denominator coefficients "
                f"(got {len(p['numerator'])} and {len(p['denominator'])})")
    if float(abs(p["denominator"][3])) == 0.0 and float(abs(p["numerator"][5])) != 0.0:
        return "b₄ = 0 with a₅ ≠ 0 makes f grow like x⁵; give b₄ ≠ 0"
    return None


def _split(x: Any) -> tuple[Any, Any, Any, Any]:
    """(far, near, x for the near form, t = 1/x for the far form): |x| > 1 is far."""
    far = x.abs() > 1
    near_x = torch.where(far, torch.zeros_like(x), x)
    t = 1 / torch.where(far, x, torch.ones_like(x))
    return far, ~far, near_x, t


def _parts(x: Any, a: Any, b: Any) -> tuple[Any, Any, Any, Any]:
    """(P, Q, P′, Q′), each divided by x⁴ where |x| > 1 (as polynomials in t = 1/x there)."""
    far, _, u, t = _split(x)
    ab = [abs(bk) for bk in b]
    au, at = u.abs(), t.abs()
    p_near = a[0] + u * (a[1] + u * (a[2] + u * (a[3] + u * (a[4] + u * a[5]))))
    q_near = 1 + au * (ab[0] + au * (ab[1] + au * (ab[2] + au * ab[3])))
    dp_near = a[1] + u * (2 * a[2] + u * (3 * a[3] + u * (4 * a[4] + u * 5 * a[5])))
    dq_near = torch.sign(u) * (ab[0] + au * (2 * ab[1] + au * (3 * ab[2] + au * 4 * ab[3])))
    xs = torch.where(far, x, torch.ones_like(x))  # P/x⁴ = a₅x + a₄ + a₃t + a₂t² + a₁t³ + a₀t⁴
    p_far = a[5] * xs + (a[4] + t * (a[3] + t * (a[2] + t * (a[1] + t * a[0]))))
    q_far = ab[3] + at * (ab[2] + at * (ab[1] + at * (ab[0] + at)))
    dp_far = 5 * a[5] + t * (4 * a[4] + t * (3 * a[3] + t * (2 * a[2] + t * a[1])))
    dq_far = torch.sign(t) * at * (4 * ab[3] + at * (3 * ab[2] + at * (2 * ab[1] + at * ab[0])))
    pick = lambda near, farv: torch.where(far, farv, near)
    return pick(p_near, p_far), pick(q_near, q_far), pick(dp_near, dp_far), pick(dq_near, dq_far)


def _rational(x: Any, numerator: Any, denominator: Any) -> Any:
    """P/Q, near 0 as written and for |x| > 1 both divided by x⁴ (the value half of :func:`_parts`)."""
    a, ab = numerator, [abs(bk) for bk in denominator]
    far, _, u, t = _split(x)
    au, at = u.abs(), t.abs()
    p_near = a[0] + u * (a[1] + u * (a[2] + u * (a[3] + u * (a[4] + u * a[5]))))
    q_near = 1 + au * (ab[0] + au * (ab[1] + au * (ab[2] + au * ab[3])))
    xs = torch.where(far, x, torch.ones_like(x))
    p_far = a[5] * xs + (a[4] + t * (a[3] + t * (a[2] + t * (a[1] + t * a[0]))))
    q_far = ab[3] + at * (ab[2] + at * (ab[1] + at * (ab[0] + at)))
    return torch.where(far, p_far / q_far, p_near / q_near)


def _rational_d(x: Any, numerator: Any, denominator: Any) -> Any:
    # f′ = (P′Q − PQ′)/Q²; far out all four are divided by x⁴, which cancels: (P′/x⁴·Q/x⁴ − …)/(Q/x⁴)²
    p, q, dp, dq = _parts(x, numerator, denominator)
    slope = numerator[5] / abs(denominator[3])  # f′ → a₅/|b₄| at ±inf (P/x⁴ is inf there); tensors while learning
    slope = float(slope) if not torch.is_tensor(slope) else slope
    return at_infinity(x, (dp * q - p * dq) / (q * q), minus=slope, plus=slope)


def _q(ax: Any, denominator: Any) -> Any:
    """Q = 1 + |b₁|·|x| + … + |b₄|·|x|⁴ from ``ax`` = |x| (Horner)."""
    b = [abs(bk) for bk in denominator]
    return 1 + ax * (b[0] + ax * (b[1] + ax * (b[2] + ax * b[3])))


def _value(x: Any, a: Any, b: Any) -> Any:
    """P/Q as :func:`_rational` computes it, with one ``where`` (several cost a millisecond each on a CPU):
    the branch not taken may be inf or NaN (at x = 0, t = 1/x is inf), so autograd must not pass through it."""
    ab = [abs(bk) for bk in b]
    u = x.clamp(-1.0, 1.0)
    t = 1 / x
    au, at = u.abs(), t.abs()
    p_near = a[0] + u * (a[1] + u * (a[2] + u * (a[3] + u * (a[4] + u * a[5]))))
    q_near = 1 + au * (ab[0] + au * (ab[1] + au * (ab[2] + au * ab[3])))
    p_far = a[5] * x + (a[4] + t * (a[3] + t * (a[2] + t * (a[1] + t * a[0]))))
    q_far = ab[3] + at * (ab[2] + at * (ab[1] + at * (ab[0] + at)))
    return torch.where(x.abs() > 1, p_far / q_far, p_near / q_near)


def _d_numerator(x: Any, numerator: Any, denominator: Any) -> Any:
    """∂f/∂aⱼ = xʲ/Q for j = 0…5, stacked: shape (6, *x.shape); each the one before times x."""
    out = torch.empty((6, *x.shape), dtype=x.dtype, device=x.device)
    torch.reciprocal(_q(x.abs(), denominator), out=out[0])
    for j in range(1, 6):
        torch.mul(out[j - 1], x, out=out[j])
    return out


def _d_denominator(x: Any, numerator: Any, denominator: Any) -> Any:
    """∂f/∂bₖ = −P·sign(bₖ)·|x|ᵏ/Q² = −(f/Q)·|x|ᵏ·sign(bₖ) for k = 1…4, stacked: shape (4, *x.shape)."""
    ax = x.abs()
    w = -_value(x, numerator, denominator) / _q(ax, denominator)
    out = torch.empty((4, *x.shape), dtype=x.dtype, device=x.device)
    for k, bk in enumerate(denominator):
        torch.mul(w if k == 0 else out[k - 1], ax, out=out[k])
    signs = torch.stack([torch.sign(torch.as_tensor(bk, dtype=x.dtype, device=x.device)) for bk in denominator])
    return out.mul_(signs.view(4, *signs.shape[1:], *[1] * (x.dim() - signs.dim() + 1)))


def _kinks(p: Params) -> list[Kink]:
    a, b = p["numerator"], p["denominator"]
    if float(b[0]) == 0.0 or float(a[0]) == 0.0:  # |b₁x| has no effect on f′ at 0 then
        return []
    return [Kink(0.0, float(a[1]))]


def _symbolic(p: Params) -> str:
    a, b = p["numerator"], p["denominator"]
    num = " + ".join(f"({float(c)!r})*x**{j}" if j else f"({float(c)!r})" for j, c in enumerate(a))
    den = " + ".join(f"abs(({float(c)!r})*x**{k + 1})" for k, c in enumerate(b))
    return f"({num})/(1 + {den})"


def _props(p: Params) -> Properties | None:
    """Declared at the published initialisation only; other coefficients get the measured properties.

    At the initialisation f is unbounded both ways (f ~ (a₅/|b₄|)·x), not monotonic (a dip near
    x = −1.6, where f′ < 0), continuous but with a kink at 0 (C⁰), and f′ > 1 near x = 0.5.
    """
    if tuple(map(float, p["numerator"])) != NUMERATOR or tuple(map(float, p["denominator"])) != DENOMINATOR:
        return None
    return _INIT_PROPERTIES


_INIT_PROPERTIES = Properties(
    range=Interval(-INF, INF),
    # the extremes of f′ at the published coefficients, located numerically (f″ = 0 has no closed form)
    derivative_range=Interval.closed(-0.08077007403352576, 1.0351266780027175),
    monotonic=False,
    continuity=0,
    derivative_monotonic=False,
    identity_at_origin=False,
    symmetry="none",
    zero_centered=True,
    saturation="none",
    vanishing_gradient=False,
    exploding_gradient=True,
    dead_neurons=False,
)

RATIONAL = ActivationSpec(
    name="rational",
    aliases=("pau",),
    summary="A Padé activation unit: a rational function P/Q of degree (5, 4), initialised to leaky ReLU.",
    formula="rational(x) = (a₀ + a₁x + … + a₅x⁵) / (1 + |b₁x| + |b₂x²| + |b₃x³| + |b₄x⁴|)",
    latex=r"\frac{\sum_{j=0}^{5} a_j x^j}{1 + \sum_{k=1}^{4} |b_k x^k|}",
    derivative_formula="(P′Q − PQ′)/Q², Q′ = Σ k·|b_k|·|x|^(k−1)·sign(x)",
    symbolic=_symbolic,
    forward=_rational,
    derivative=_rational_d,
    params=(
        Param("numerator", NUMERATOR, "a₀ … a₅ (default: the published leaky-ReLU fit)", kind="floats",
              learnable=True),
        Param("denominator", DENOMINATOR, "b₁ … b₄ (default: the published leaky-ReLU fit)", kind="floats",
              learnable=True),
    ),
    kinks=_kinks,
    properties=_props,
    check=_check,
    param_derivatives={"numerator": _d_numerator, "denominator": _d_denominator},
    reference="Molina, Schramowski & Kersting (2020), Padé Activation Units: End-to-end Learning of "
    "Flexible Activation Functions in Deep Networks",
)
