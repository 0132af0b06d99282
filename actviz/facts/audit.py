"""The audit: analytic derivatives against autograd, declarations against measurement.

:func:`audit` returns an :class:`Audit` per activation: every disagreement as a
:class:`Finding` (the property key, the declared and the measured value), and
the largest |analytic f′ − autograd f′| in float64 over thousands of points,
kinks and |x| = 1e4 included.  It also checks the contract every forward and
derivative keeps: float32 and float64 in, same shape and dtype out, finite for
finite input wherever the true value is finite, NaN for NaN; and the declared
value of f′ at each kink.  docs/properties.md describes every check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from actviz.core.errors import ActvizError
from actviz.core.properties import KEYS, Interval, Properties
from actviz.core.registry import Activation, PluginExit

#: tolerance of the autograd comparison: |analytic − autograd| ≤ AUTOGRAD_TOL · (1 + |autograd|)
AUTOGRAD_TOL = 1e-9


@dataclass(frozen=True)
class Finding:
    """One disagreement found by the audit."""

    name: str
    key: str
    declared: Any
    measured: Any
    message: str

    def to_json(self) -> dict[str, Any]:
        def plain(v: Any) -> Any:
            return v.to_json() if isinstance(v, Interval) else v

        return {"name": self.name, "key": self.key, "declared": plain(self.declared),
                "measured": plain(self.measured), "message": self.message}


@dataclass
class Audit:
    """The result of auditing one activation.

    ``broken`` is the problem of an activation that could not be audited at all (see
    :func:`check_contract`); its ``declared`` and ``measured`` are then None, its
    ``autograd_max_error`` NaN, and its one finding says what is wrong.
    """

    act: Activation
    declared: Properties | None
    measured: Properties | None
    autograd_max_error: float
    findings: list[Finding] = field(default_factory=list)
    broken: str | None = None

    @property
    def ok(self) -> bool:
        return not self.findings


class BrokenActivation(ActvizError):
    """An activation's forward or derivative breaks the contract on ordinary input (exit code 1).

    The message names the activation and what is wrong; ``label`` and ``problem`` hold them apart.
    """

    def __init__(self, label: str, problem: str):
        super().__init__(f"activation {label!r} is broken: {problem}")
        self.label = label
        self.problem = problem


#: the probe of :func:`check_contract`: ordinary inputs, as a 2-D tensor (shape handling is checked too)
_PROBE = ((-10.0, -3.0, -1.0, -0.5, -1e-3, 0.0), (1e-3, 0.5, 1.0, 2.5, 3.0, 10.0))


def _type_name(value: Any) -> str:
    cls = type(value)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _contract_problem(act: Activation) -> str | None:
    import torch

    for dtype in (torch.float64, torch.float32):  # float64 first: its message is the clearer
        x = torch.tensor(_PROBE, dtype=dtype)
        for what, fn in (("forward", act.forward), ("derivative", act.derivative)):
            try:
                with torch.no_grad():
                    y = fn(x.clone())
            except PluginExit as exc:  # exit() in a plugin's function
                return exc.problem
            except Exception as exc:  # the user's function failed: name it, not our caller
                return f"{what} raised {type(exc).__name__}: {exc}".rstrip(": ")
            where = f"{what}({str(dtype)[6:]} tensor of shape {tuple(x.shape)})"
            if not isinstance(y, torch.Tensor):
                return f"{where} returned a {_type_name(y)}, not a torch.Tensor"
            if y.shape != x.shape:
                return f"{where} returned shape {tuple(y.shape)}; it must keep the input's shape"
            if y.dtype != dtype:
                return f"{where} returned {str(y.dtype)[6:]}; it must keep the input's dtype"
            # NaN at ordinary float64 input is a bug; ±inf may be a true overflow (huge parameters),
            # and float32 trouble with parameters beyond its range is the audit's finding
            bad = torch.isnan(y)
            if dtype == torch.float64 and bool(bad.any()):
                i = int(bad.reshape(-1).nonzero()[0])
                return f"{where} gave NaN at x = {float(x.reshape(-1)[i]):g}"
    try:
        grad = autograd_derivative(act, torch.tensor(_PROBE, dtype=torch.float64))
    except PluginExit as exc:
        return exc.problem
    except Exception as exc:
        return f"autograd through forward failed: {type(exc).__name__}: {exc}".rstrip(": ")
    if grad.shape != (len(_PROBE), len(_PROBE[0])):
        return "autograd through forward does not give one derivative per input"
    return None


def check_contract(act: Activation) -> None:
    """Raise :class:`BrokenActivation` if ``act`` cannot be measured, plotted or trained with.

    ``forward`` and ``derivative`` are called on ordinary float64 and float32 inputs
    (|x| ≤ 10, a 2-D tensor): each must return a ``torch.Tensor`` of the input's shape
    and dtype without raising, with no NaN in float64; autograd must go through
    ``forward``.  The finer contract (extreme inputs, NaN in, the kinks) is the
    audit's, reported as findings.  Cheap: a dozen points.
    """
    problem = _contract_problem(act)
    if problem is not None:
        raise BrokenActivation(act.label, problem)


def derivative_points(act: Activation) -> Any:
    """Thousands of float64 points: a dense grid, random points, kinks (and near them), far out."""
    import numpy as np

    from actviz.facts.measure import core_radius

    r = core_radius(act)
    rng = np.random.default_rng(0)
    kinks = np.array([k.x for k in act.kinks], dtype=float)
    near = (kinks[:, None] + np.array([-1e-3, -1e-6, 1e-6, 1e-3])).reshape(-1) if kinks.size else kinks
    far = np.array([1e2, 1e3, 1e4, 20.0, 40.0, 80.0]) * max(act.xscale, 1.0)
    pts = np.concatenate([
        np.linspace(-r, r, 4001),
        rng.normal(0.0, r / 3, 2000),
        kinks,
        near,
        far,
        -far,
        [0.0],
    ])
    return np.unique(pts)


def autograd_derivative(act: Activation, x: Any) -> Any:
    """f′ by autograd through ``act.forward`` (float64); 0 where f has no gradient path."""
    import torch

    xt = torch.as_tensor(x, dtype=torch.float64).clone().requires_grad_(True)
    with torch.enable_grad():
        y = act.forward(xt)
        if not y.requires_grad:  # a constant function of x
            return torch.zeros_like(xt).detach().numpy()
        (g,) = torch.autograd.grad(y.sum(), xt, allow_unused=True)
    return (torch.zeros_like(xt) if g is None else g).detach().numpy()


def autograd_errors(act: Activation) -> tuple[Any, Any, Any, Any]:
    """(x, analytic f′, autograd f′, |difference|) at :func:`derivative_points`."""
    import torch

    x = derivative_points(act)
    with torch.no_grad():
        analytic = act.derivative(torch.as_tensor(x, dtype=torch.float64)).numpy()
    auto = autograd_derivative(act, x)
    return x, analytic, auto, _gap(analytic, auto, relative=False)


def autograd_max_error(act: Activation) -> float:
    """The largest |analytic f′ − autograd f′| in float64 (see :func:`derivative_points`)."""
    return float(autograd_errors(act)[3].max())


def _check_autograd(act: Activation) -> tuple[float, list[Finding]]:
    import numpy as np

    x, analytic, auto, diff = autograd_errors(act)
    bad = diff > AUTOGRAD_TOL * (1 + np.abs(np.nan_to_num(auto)))
    findings = []
    if bad.any():
        i = int(np.argmax(np.where(bad, diff, -1)))
        findings.append(Finding(
            act.label, "derivative", float(analytic[i]), float(auto[i]),
            f"analytic f′ differs from autograd at {int(bad.sum())} of {len(x)} points; "
            f"worst at x = {x[i]:.6g}: analytic {analytic[i]:.10g}, autograd {auto[i]:.10g}",
        ))
    return float(diff.max()), findings


#: the relative tolerance against forward-mode autograd for ∂f/∂parameter: autograd's own form can
#: cancel (softplus's ∂/∂β = x·σ(βx)/β − softplus(βx)/β² at β = 1e-3, x = 2e4 loses ~1e-9)
PARAM_AUTOGRAD_TOL = 1e-8
#: the relative tolerance of a central difference (used where forward-mode autograd cannot pass a parameter)
PARAM_FD_TOL = 1e-5


def _param_tangents(act: Activation, key: str, x: Any) -> tuple[Any, str]:
    """∂f/∂key at x by forward-mode autograd, one slice per coefficient of a sequence parameter
    (shape like the record's ``param_derivatives``); a central difference where the forward
    takes no tensor for it (``F.elu``'s α), extrapolated (Richardson) from steps 1e-4 and 5e-5 relative.  Returns (values, "autograd" or "central difference")."""
    import torch
    import torch.autograd.forward_ad as fwad

    value = act.params[key]
    many = isinstance(value, tuple)
    base = torch.tensor(value, dtype=torch.float64)
    directions = torch.eye(base.numel(), dtype=torch.float64).reshape(-1, *base.shape)
    out = []
    try:
        for v in directions:
            with fwad.dual_level():
                y = act.spec.forward(x, **{**act.params, key: fwad.make_dual(base, v)})
                tangent = fwad.unpack_dual(y).tangent
            if tangent is None:  # the forward took the parameter as a number: no derivative came through
                raise TypeError(f"no tangent for {key}")
            out.append(tangent)
        method = "autograd"
    except (TypeError, RuntimeError, ValueError, NotImplementedError):
        out = []
        for v in directions:
            scale = float((base * v).abs().sum())
            h = 1e-4 * scale if scale > 0 else 1e-4

            def at(p: Any) -> Any:
                q = tuple(p.tolist()) if many else float(p)
                return act.spec.forward(x, **{**act.params, key: q})

            def central(step: float) -> Any:
                return (at(base + step * v) - at(base - step * v)) / (2 * step)

            out.append((4 * central(h / 2) - central(h)) / 3)  # Richardson: error O(h⁴)
        method = "central difference"
    return (torch.stack(out) if many else out[0]), method


def param_derivative_errors(act: Activation) -> dict[str, tuple[float, float, str]]:
    """Per parameter with a hand-written ∂f/∂key: (largest |Δ|/(1 + |reference|), x there, method)."""
    import numpy as np
    import torch

    x = torch.as_tensor(derivative_points(act), dtype=torch.float64)
    out = {}
    for key, fn in act.spec.param_derivatives.items():
        if _is_tensor_value(act.params.get(key)):
            continue
        with torch.no_grad():
            analytic = fn(x, **act.params).numpy()
        ref, method = _param_tangents(act, key, x)
        ref = ref.detach().numpy()
        if method != "autograd":  # a difference step fits only the core: far out it spans whole features
            keep = np.abs(x.numpy()) <= 20 * max(act.xscale, 1.0)
            analytic, ref, x_used = analytic[..., keep], ref[..., keep], x[keep]
        else:
            x_used = x
        diff = _gap(analytic, ref)
        disputed = diff > (PARAM_AUTOGRAD_TOL if method == "autograd" else PARAM_FD_TOL)
        if disputed.any():  # far out the reference's own terms cancel or overflow: a 50+ digit referee decides
            exact = _high_precision_param_derivative(act, key, x_used.numpy()[disputed.nonzero()[-1]])
            if exact is not None:
                method += " (high-precision referee where they differ)"
                diff[disputed] = _gap(analytic[disputed], exact.reshape(analytic[disputed].shape))
        worst = np.unravel_index(int(np.argmax(diff)), diff.shape)
        out[key] = (float(diff.max()), float(x_used.numpy()[worst[-1]]), method)
    return out


def _gap(a: Any, ref: Any, relative: bool = True) -> Any:
    """|a − ref|, divided by 1 + |ref| when ``relative``, element-wise: 0 where both are NaN or equal
    (equal infinities too: a NaN from inf − inf would hide every other difference in a maximum), inf
    where one alone is NaN."""
    import numpy as np

    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.abs(a - ref)
        if relative:
            gap = gap / (1 + np.abs(np.nan_to_num(ref)))
    gap[np.isnan(a) != np.isnan(ref)] = np.inf
    gap[(np.isnan(a) & np.isnan(ref)) | (a == ref)] = 0.0
    return gap


#: the precisions (decimal digits) the referee tries in turn
_REFEREE_DIGITS = (50, 500, 5000)


def _high_precision_param_derivative(act: Activation, key: str, xs: Any) -> Any:
    """∂f/∂key at the points ``xs`` from the record's symbolic f: differentiated by sympy, evaluated
    by mpmath with 50 digits, then rounded to float64 (±inf beyond it); None for a record without
    a formula or a vector parameter.
    """
    import mpmath
    import numpy as np
    import sympy

    from actviz.core.expr import parse_expr
    from actviz.facts.symbolic import X, to_sympy

    text = act.symbolic
    value = act.params.get(key)
    if not text or not isinstance(value, (int, float)):
        return None
    k = sympy.Symbol(key, real=True)
    others = {n: v for n, v in act.params.items() if n != key and isinstance(v, (int, float))}
    try:
        f = to_sympy(parse_expr(text, set(act.params)), {**{n: sympy.Float(v, 30) for n, v in others.items()}, key: k})
        fn = sympy.lambdify((X, k), sympy.diff(f, k).rewrite(sympy.exp), modules="mpmath")
    except (TypeError, ValueError, AttributeError, NameError):
        return None

    def at(x: float) -> float:
        last = None
        for digits in _REFEREE_DIGITS:  # until two precisions agree: far out the terms cancel to many digits
            with mpmath.workdps(digits):
                now = float(fn(mpmath.mpf(x), mpmath.mpf(float(value))))
            if last is not None and (now == last or abs(now - last) <= 1e-12 * abs(now)):
                break
            last = now
        return now

    try:
        return np.array([at(float(x)) for x in np.ravel(xs)])
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def _is_tensor_value(v: Any) -> bool:
    return type(v).__module__.startswith("torch")


def _check_param_derivatives(act: Activation) -> list[Finding]:
    findings = []
    for key, (err, at, method) in param_derivative_errors(act).items():
        tol = PARAM_AUTOGRAD_TOL if method.startswith("autograd") else PARAM_FD_TOL
        if err > tol:
            findings.append(Finding(act.label, f"∂f/∂{key}", "agrees", f"{err:.3g}",
                                    f"the hand-written ∂f/∂{key} differs from {method} by {err:.3g} "
                                    f"(relative) at x = {at:.6g}"))
    return findings


def _check_kinks(act: Activation) -> list[Finding]:
    import torch

    findings = []
    for k in act.kinks:
        x = torch.tensor([k.x], dtype=torch.float64)
        with torch.no_grad():
            value = float(act.derivative(x)[0])
        auto = float(autograd_derivative(act, [k.x])[0])
        if not (math.isclose(value, k.derivative, rel_tol=1e-9, abs_tol=1e-12)
                and math.isclose(auto, k.derivative, rel_tol=1e-9, abs_tol=1e-12)):
            findings.append(Finding(
                act.label, "kinks", k.derivative, value,
                f"declared f′({k.x:g}) = {k.derivative:g}, but the derivative gives {value:g} "
                f"and autograd {auto:g}",
            ))
    return findings


def _check_kinks_are_kinks(act: Activation) -> list[Finding]:
    """A declared kink where f′ is continuous (f is differentiable there) is a wrong declaration."""
    from actviz.facts.measure import smooth_kinks

    return [
        Finding(act.label, "kinks", "not differentiable", "differentiable",
                f"declared a kink at x = {c:g}, but f is differentiable there: f′ tends to "
                f"{left:.6g} from the left and {right:.6g} from the right")
        for c, left, right in smooth_kinks(act)
    ]


def _check_contract(act: Activation) -> list[Finding]:
    """The numerical contract: dtype and shape kept, finite for finite input (|x| = 1e4 too), NaN for NaN.

    In float32, finite is required only where the float64 value at the same input fits float32.
    """
    import torch

    findings = []
    for dtype in (torch.float32, torch.float64):
        x = torch.tensor([[-1e4, -50.0, -1.0, 0.0], [1.0, 50.0, 1e4, math.nan]], dtype=dtype)
        for what, fn in (("forward", act.forward), ("derivative", act.derivative)):
            with torch.no_grad():
                try:
                    y = fn(x)
                except Exception as exc:  # a broken user function is a finding, not a crash
                    findings.append(Finding(act.label, what, "works", repr(exc), f"{what} raised {exc!r}"))
                    continue
            problems = []
            if y.shape != x.shape or y.dtype != dtype:
                problems.append(f"returns {tuple(y.shape)} {y.dtype} for {tuple(x.shape)} {dtype}")
            else:
                # finite where the true value is: in float32, where the float64 value at the same
                # inputs fits float32 (softplus with β = 1e-300 is 6.9e299 at 0: inf in float32)
                expect = ~torch.isnan(x)
                if dtype != torch.float64:
                    with torch.no_grad():
                        y64 = fn(x.double())
                    if y64.shape == x.shape:
                        expect &= y64.abs() <= torch.finfo(dtype).max
                finite = torch.isfinite(y[expect])
                if not bool(finite.all()):
                    problems.append("is not finite at some finite input (|x| up to 1e4)")
                if not bool(torch.isnan(y[torch.isnan(x)]).all()):
                    problems.append("does not return NaN for NaN")
            for p in problems:
                findings.append(Finding(act.label, what, "", "", f"{what} {p} ({str(dtype)[6:]})"))
    return findings


def compare(declared: Properties, measured: Properties, name: str) -> list[Finding]:
    """Every key on which a declaration and a measurement disagree."""
    from actviz.facts.measure import intervals_agree

    out = []
    for key in KEYS:
        d, m = getattr(declared, key), getattr(measured, key)
        same = intervals_agree(d, m) if isinstance(d, Interval) else d == m
        if not same:
            out.append(Finding(name, key, d, m, f"{key}: declared {_show(d)}, measured {_show(m)}"))
    return out


def _show(v: Any) -> str:
    return v.as_text(lambda x: f"{x:.10g}") if isinstance(v, Interval) else repr(v)


def properties_of(act: Activation) -> Properties:
    """The declared properties of ``act``, or the measured ones where its record declares none."""
    declared = act.properties
    if declared is not None:
        return declared
    from actviz.facts.measure import measure

    return measure(act)


def audit(act: Activation) -> Audit:
    """Measure ``act``, compare with its declaration, and check its derivative and contract.

    Raises :class:`BrokenActivation` when ``act`` breaks the contract on ordinary input
    (see :func:`check_contract`).
    """
    from actviz.facts.measure import measure

    check_contract(act)
    measured = measure(act)
    declared = act.properties or measured
    err, findings = _check_autograd(act)
    findings = [*compare(declared, measured, act.label), *findings, *_check_kinks(act),
                *_check_kinks_are_kinks(act), *_check_contract(act), *_check_param_derivatives(act)]
    return Audit(act, declared, measured, err, findings)


def audit_all(acts: Any) -> list[Audit]:
    """:func:`audit` of each activation; a broken one is an :class:`Audit` with ``broken`` set.

    One broken (plugin) activation does not stop the others from being audited.
    """
    audits = []
    for act in acts:
        try:
            audits.append(audit(act))
        except BrokenActivation as exc:
            finding = Finding(act.label, "contract", "a working activation", exc.problem, exc.problem)
            audits.append(Audit(act, None, None, math.nan, [finding], broken=exc.problem))
    return audits
