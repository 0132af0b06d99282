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
|x| > 1, so that x⁵ never overflows on the way to a finite value.  Both forms are computed
everywhere on clamped inputs and blended by a 0/1 mask, with no ``where``.  Q′ has sign(x) in it: at 0,
where |b₁x| has a kink, f′ takes autograd's value a₁ (sign(0) = 0).

``param_derivatives`` give ∂f/∂numerator (∂f/∂aⱼ = xʲ/Q) and ∂f/∂denominator
(∂f/∂bₖ = −P·sign(bₖ)·|x|ᵏ/Q²), each stacked along a new first dimension (one slice per
coefficient).
"""

from __future__ import annotations

from typing import Any

from actviz.core.properties import INF, Interval, Properties
from actviz.core.registry import ActivationSpec, Kink, Param, Params
from actviz.facts.kernels import LazyModule

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


def _forms(x: Any) -> tuple[Any, ...]:
    """The pieces of both forms, without a branch: (|x|, m, 1 − m, u, |u|, xs, t, |t|).

    m is 1.0 where |x| > 1 (the far form) and 0.0 elsewhere; u = x clamped to [−1, 1] is the
    near form's x, xs = ±max(|x|, 1) the far form's (sign kept, 0 → 1) and t = 1/xs.  Every
    piece is finite wherever x is, so the form not taken is multiplied away by 0 without a
    trace (a CPU's ``torch.where`` on a mask this irregular costs twenty additions).
    """
    ax = x.abs()
    m = (ax - 1).clamp_(0, 1).ceil_()  # 1 where |x| > 1, NaN kept
    u = x.clamp(-1, 1)
    xs = torch.copysign(ax.clamp_min(1), x)
    t = torch.reciprocal(xs)
    return ax, m, 1 - m, u, u.abs(), xs, t, t.abs()


def _blend(near: Any, far: Any, m: Any, n: Any) -> Any:
    """``near`` where m = 0, ``far`` where m = 1, exactly (x·1 + y·0)."""
    return torch.addcmul(near * n, far, m)


def _horner(x: Any, coeffs: Any) -> Any:
    """c₀ + x·(c₁ + x·(c₂ + …)) for ``coeffs`` = (c₀, c₁, …), on one buffer (few large temporaries)."""
    h = x * coeffs[-1]
    for j in range(len(coeffs) - 2, -1, -1):
        h.add_(coeffs[j])
        if j:
            h.mul_(x)
    return h


def _values(x: Any, a: Any, b: Any) -> dict[str, Any]:
    """P and Q of both forms (far out divided by x⁴, polynomials in t = 1/x) and the pieces, by name."""
    ab = [abs(bk) for bk in b]
    ax, m, n, u, au, xs, t, at = _forms(x)
    inner = _horner(t, (a[4], a[3], a[2], a[1], a[0]))
    return {"ax": ax, "m": m, "n": n, "u": u, "au": au, "t": t, "at": at, "ab": ab, "inner": inner,
            "p_near": _horner(u, a),
            "q_near": _horner(au, (1, *ab)),
            "p_far": inner + xs * a[5],  # P/x⁴ = a₅x + a₄ + a₃t + a₂t² + a₁t³ + a₀t⁴
            "q_far": _horner(at, (ab[3], ab[2], ab[1], ab[0], 1))}


def _f(v: dict[str, Any]) -> Any:
    return _blend(v["p_near"] / v["q_near"], v["p_far"] / v["q_far"], v["m"], v["n"])


def _slope(v: dict[str, Any], a: Any) -> Any:
    """f′ = (P′Q − PQ′)/Q² in both forms; far out P′, Q′ are divided by x⁴ too, which cancels.

    Far out Q′/x⁴ = t·R (R below) and P/x⁴·t = P̃ = a₅ + t·(a₄ + a₃t + …), so P·Q′ is P̃·R:
    finite at x = ±inf, where f′ is its limit a₅/|b₄|.
    """
    u, au, t, at, ab = v["u"], v["au"], v["t"], v["at"], v["ab"]
    dp_near = _horner(u, (a[1], 2 * a[2], 3 * a[3], 4 * a[4], 5 * a[5]))
    dq_near = _horner(au, (ab[0], 2 * ab[1], 3 * ab[2], 4 * ab[3])).mul_(torch.sign(u))
    dp_far = _horner(t, (5 * a[5], 4 * a[4], 3 * a[3], 2 * a[2], a[1]))
    r = _horner(at, (4 * ab[3], 3 * ab[2], 2 * ab[1], ab[0]))
    qn, qf = v["q_near"], v["q_far"]
    near = dp_near.mul_(qn).sub_(dq_near.mul_(v["p_near"])).div_(qn * qn)
    far = dp_far.mul_(qf).sub_(r.mul_(torch.mul(t, v["inner"]).add_(a[5]))).div_(qf * qf)
    return _blend(near, far, v["m"], v["n"])


def _rational(x: Any, numerator: Any, denominator: Any) -> Any:
    """P/Q, near 0 as written and for |x| > 1 both divided by x⁴ (so that x⁵ never overflows)."""
    return _f(_values(x, numerator, denominator))


def _rational_d(x: Any, numerator: Any, denominator: Any) -> Any:
    return _slope(_values(x, numerator, denominator), numerator)


def _q(ax: Any, denominator: Any) -> Any:
    """Q = 1 + |b₁|·|x| + … + |b₄|·|x|⁴ from ``ax`` = |x| (Horner)."""
    b = [abs(bk) for bk in denominator]
    return 1 + ax * (b[0] + ax * (b[1] + ax * (b[2] + ax * b[3])))


def _coefficient_grads(x: Any, ax: Any, w: Any, f: Any, reduce: Any, names: Any, denominator: Any) -> dict[str, Any]:
    """For each coefficient vector in ``names``, ``reduce(name, ·)`` of w·Q·∂f/∂c, one coefficient at a time,
    stacked along a new first dimension: w·xʲ for aⱼ (j = 0…5), −w·f·|x|ᵏ·sign(bₖ) for bₖ (k = 1…4).

    With w = dh/Q these are dh·∂f/∂c (∂f/∂aⱼ = xʲ/Q, ∂f/∂bₖ = −(f/Q)·|x|ᵏ·sign(bₖ)); ``f`` is needed
    for the denominator only.
    """
    grads: dict[str, Any] = {}
    if "numerator" in names:
        out, t = [], w.clone()
        for j in range(6):
            out.append(reduce("numerator", t))
            if j < 5:
                t.mul_(x)
        grads["numerator"] = torch.stack(out)
    if "denominator" in names:
        out, t = [], w * f
        for bk in denominator:
            t.mul_(ax)
            g = reduce("denominator", t)
            sign = torch.sign(torch.as_tensor(bk, dtype=g.dtype, device=g.device))
            out.append(g * -(sign.reshape(g.shape) if sign.numel() == g.numel() else sign))
        grads["denominator"] = torch.stack(out)
    return grads


def _keep(name: str, t: Any) -> Any:
    """No reduction: the element-wise values themselves (a copy: the caller's buffer changes next)."""
    return t.clone()


def _d_numerator(x: Any, numerator: Any, denominator: Any) -> Any:
    """∂f/∂aⱼ = xʲ/Q for j = 0…5, stacked: shape (6, *x.shape)."""
    ax = x.abs()
    return _coefficient_grads(x, ax, 1 / _q(ax, denominator), None, _keep, ("numerator",), denominator)["numerator"]


def _d_denominator(x: Any, numerator: Any, denominator: Any) -> Any:
    """∂f/∂bₖ = −P·sign(bₖ)·|x|ᵏ/Q² = −(f/Q)·|x|ᵏ·sign(bₖ) for k = 1…4, stacked: shape (4, *x.shape)."""
    ax = x.abs()
    return _coefficient_grads(x, ax, 1 / _q(ax, denominator), _rational(x, numerator, denominator), _keep,
                              ("denominator",), denominator)["denominator"]


def _vjp(x: Any, dh: Any, reduce: Any, names: Any, numerator: Any, denominator: Any) -> tuple[Any, dict[str, Any]]:
    """dh·f′ and, for each coefficient vector in ``names``, its gradients reduced by ``reduce(name, ·)``, in one pass.

    Shares P, Q and |x| between f′ and ∂f/∂coefficient, and reduces each ∂f/∂aⱼ·dh =
    (dh/Q)·xʲ and ∂f/∂bₖ·dh = −(dh·f/Q)·|x|ᵏ·sign(bₖ) as it forms it (one power at a time),
    never the stack of all ten: the numbers of :func:`_rational_d` and the
    ``param_derivatives``, at a fraction of their separate cost.  Returns (dz, {name: the
    reduced gradients stacked along a new first dimension, one per coefficient}).
    """
    v = _values(x, numerator, denominator)
    dz = dh * _slope(v, numerator)
    if not names:
        return dz, {}
    return dz, _coefficient_grads(x, v["ax"], dh / _q(v["ax"], denominator), _f(v) if "denominator" in names else None,
                                  reduce, names, denominator)


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
    vjp=_vjp,
    reference="Molina, Schramowski & Kersting (2020), Padé Activation Units: End-to-end Learning of "
    "Flexible Activation Functions in Deep Networks",
)
