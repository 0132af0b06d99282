"""The symbolic card of an activation: what sympy can say about f in closed form.

:func:`card` takes a bound activation whose record gives ``symbolic`` (every built-in does;
``--define`` records too) and returns JSON data:

* ``f``, ``f′``, ``f″`` in closed form (each as text, Unicode pretty-print, LaTeX and MathML);
* the Taylor series at 0 to order 5 where f is analytic there (no piece meets at 0);
* the limits at ±∞ and, where f grows linearly, the asymptote y = a·x + b;
* the fixed points (f(x) = x) where sympy finds them;
* the extrema of f′ (where f″ = 0), located exactly where sympy solves f″ = 0;
* per declared property whether sympy confirms it (``confirmed``), contradicts it
  (``refuted``) or cannot decide (``undecided``) — never a guess.

Each step runs under a time limit (:data:`STEP_SECONDS`, on the main thread); a step that
runs out, or that sympy cannot do, says ``undecided`` / gives nothing.  Cards are cached on
disk per actviz version (:mod:`actviz.facts.symcache`).
"""

from __future__ import annotations

import json
import math
import signal
import threading
from collections.abc import Callable
from typing import Any

import sympy as sp

from actviz.core.expr import parse_expr
from actviz.core.properties import KEYS, Interval
from actviz.core.registry import Activation
from actviz.facts import symcache
from actviz.facts.symbolic import X, breakpoints, real_zeros, sigmoid, softplus, to_sympy

#: the time one step (a limit, a series, a solve) may take, in seconds
STEP_SECONDS = 2.0
_BIG = sp.Integer(10) ** 40


class _Timeout(Exception):
    pass


def _within(fn: Callable[[], Any], seconds: float = STEP_SECONDS) -> Any:
    """``fn()``, or None when it raises or runs longer than ``seconds`` (limit on the main thread only)."""
    main = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    if main:
        def expire(signum: int, frame: Any) -> None:
            raise _Timeout

        old = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    except (_Timeout, Exception):  # sympy could not: nothing is claimed
        return None
    finally:
        if main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)


def expression(act: Activation) -> Any:
    """f of ``act`` as a sympy expression at its parameter values."""
    text = act.symbolic
    if not text:
        raise ValueError(f"{act.name} has no symbolic form")
    numeric = {k: v for k, v in act.params.items() if isinstance(v, (int, float))}
    return to_sympy(parse_expr(text, set(act.params)), {k: sp.nsimplify(v, rational=True) if v == round(v, 12)
                                                        else sp.Float(v, 17) for k, v in numeric.items()})


def _exp_form(e: Any) -> Any:
    return e.replace(sigmoid, lambda u: 1 / (1 + sp.exp(-u))).replace(softplus, lambda u: sp.log(1 + sp.exp(u)))


def _branch(e: Any, side: int) -> Any:
    """``e`` with every abs/max/min/sign/piece replaced by the branch that holds far out on ``side``."""
    e = e.rewrite(sp.Piecewise)
    e = sp.piecewise_fold(e)

    def pick(pw: Any) -> Any:
        for value, cond in pw.args:
            if cond is sp.true or bool(cond.subs(X, side * _BIG)):
                return value
        return sp.nan

    return e.replace(lambda a: isinstance(a, sp.Piecewise), pick)


def _limit(e: Any, side: int) -> Any:
    return sp.limit(_exp_form(_branch(e, side)), X, sp.oo if side > 0 else -sp.oo)


def _oo(text: str) -> str:
    return text.replace("-oo", "−∞").replace("oo", "∞")


def _text(e: Any) -> dict[str, str]:
    return {"text": sp.sstr(e), "pretty": sp.pretty(e, use_unicode=True), "latex": sp.latex(e),
            "mathml": sp.mathml(e, printer="presentation")}


def _num(e: Any) -> float | None:
    try:
        v = complex(sp.N(e, 20))
    except (TypeError, ValueError):
        return None
    return v.real if abs(v.imag) < 1e-30 else None


def _tails(f: Any, side: int) -> dict[str, Any]:
    lim = _within(lambda: _limit(f, side))
    out: dict[str, Any] = {"side": "+∞" if side > 0 else "−∞", "limit": None if lim is None else _oo(sp.sstr(lim))}
    if lim is not None and lim in (sp.oo, -sp.oo):
        a = _within(lambda: _limit(f / X, side))
        if a is not None and a.is_finite:
            b = _within(lambda: _limit(f - a * X, side))
            if b is not None and b.is_finite:
                out["asymptote"] = sp.sstr(sp.expand(a * X + b))
    return out


def _taylor(f: Any, kinks: list[float]) -> str | None:
    if any(abs(k) < 1e-15 for k in kinks):
        return None
    g = _exp_form(f)
    s = _within(lambda: sp.series(g, X, 0, 6).removeO())
    return None if s is None else sp.sstr(sp.nsimplify(s) if not s.has(sp.Float) else s)


def _solve_real(e: Any) -> list[Any] | None:
    """Exact real solutions of e = 0 (a finite set), or None when sympy does not find a finite set."""
    sols = _within(lambda: sp.solveset(_exp_form(e), X, domain=sp.S.Reals))
    if sols is None or not isinstance(sols, sp.FiniteSet) and sols != sp.S.EmptySet:
        return None
    return list(sols)


def _fixed_points(f: Any) -> Any:
    sols = _within(lambda: sp.solveset(_exp_form(f - X), X, domain=sp.S.Reals))
    if sols is None or sols.has(sp.ConditionSet):
        return None
    if sols == sp.S.Reals:
        return "every x"
    if isinstance(sols, sp.FiniteSet) or sols == sp.S.EmptySet:
        return [{"x": sp.sstr(s), "value": _num(s)} for s in sols]
    return sp.sstr(sols)


def _extrema(d1: Any, d2: Any) -> list[dict[str, Any]] | None:
    crit = _solve_real(d2)
    if crit is None:
        return None
    out = []
    for c in crit:
        v = _within(lambda c=c: sp.simplify(d1.subs(X, c)))
        if v is None:
            continue
        d3 = _num(sp.diff(d2, X).subs(X, c))
        kind = "maximum" if d3 is not None and d3 < 0 else "minimum" if d3 is not None and d3 > 0 else "stationary"
        out.append({"x": sp.sstr(c), "x_value": _num(c), "f′": sp.sstr(v), "f′_value": _num(v), "kind": kind})
    return out


# --------------------------------------------------------------------------- properties


def _verdict(ok: bool | None, why: str) -> dict[str, str]:
    return {"verdict": "undecided" if ok is None else "confirmed" if ok else "refuted", "why": why}


def _show(v: Any) -> str:
    return v.as_text(lambda x: f"{x:.10g}") if isinstance(v, Interval) else str(v)


def _close(a: float, b: float) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-9 * (1 + abs(b))


def _bounds(g: Any, dg: Any, points: list[float], tails: tuple[Any, Any]) -> Interval | None:
    """inf and sup of g over ℝ from its stationary points (dg = 0), the given points and its limits."""
    crit = _solve_real(dg)
    if crit is None or any(t is None or isinstance(t, sp.AccumBounds) for t in tails):
        return None
    attained = [v for v in (_num(g.subs(X, c)) for c in [*crit, *points]) if v is not None]
    limits = [math.inf if t == sp.oo else -math.inf if t == -sp.oo else _num(t) for t in tails]
    if any(v is None for v in limits):
        return None
    low, high = min(attained + limits), max(attained + limits)  # type: ignore[operator]
    return Interval(low, high, any(_close(v, low) for v in attained), any(_close(v, high) for v in attained))


def _interval_verdict(declared: Interval, found: Interval | None) -> dict[str, str]:
    if found is None:
        return _verdict(None, "sympy found no finite set of stationary points or no limit at ±∞")
    same = (_close(found.low, declared.low) and _close(found.high, declared.high)
            and (math.isinf(found.low) or found.low_closed == declared.low_closed)
            and (math.isinf(found.high) or found.high_closed == declared.high_closed))
    return _verdict(same, f"sympy: {found.as_text(lambda v: f'{v:.10g}')}")


def _symmetry(f: Any) -> str | None:
    """odd/even/point/none where sympy decides f(x) ± f(−x) (exactly, at a few points for 'not')."""
    f0 = _within(lambda: _num(f.subs(X, 0)))
    fm = f.subs(X, -X)
    tests = {"odd": f + fm, "even": f - fm, "point": f + fm - 2 * f.subs(X, 0)}
    for name, g in tests.items():
        if name == "point" and (f0 is None or abs(f0) < 1e-300):
            continue
        if name == "odd" and (f0 is None or f0 != 0):
            continue
        if _within(lambda g=g: sp.simplify(_exp_form(g.rewrite(sp.Piecewise))) == 0):
            return name
        values = [_within(lambda g=g, p=p: _num(g.subs(X, p))) for p in (sp.Rational(1, 2), 1, 3)]
        if not any(v is not None and abs(v) > 1e-12 for v in values):
            return None  # not shown to differ: undecided
    return "none"


def _properties(act: Activation, f: Any, d1: Any, d2: Any, kinks: list[float], lim: dict[str, Any],
                dlim: dict[str, Any]) -> dict[str, dict[str, str]]:
    declared = act.properties
    if declared is None:
        return {}
    out: dict[str, dict[str, str]] = {}
    rng = _bounds(f, d1, kinks, (lim[-1], lim[1]))
    drng = _bounds(d1, d2, [], (dlim[-1], dlim[1])) if not kinks else None
    out["range"] = _interval_verdict(declared.range, rng)
    out["derivative_range"] = _interval_verdict(declared.derivative_range, drng)
    if drng is not None:
        mono = drng.low >= 0 or drng.high <= 0
        out["monotonic"] = _verdict(mono == declared.monotonic, f"inf f′ = {drng.low:.6g}, sup f′ = {drng.high:.6g}")
        sup = max(abs(drng.low), abs(drng.high))
        out["exploding_gradient"] = _verdict((sup > 1 + 1e-9) == declared.exploding_gradient,
                                             f"sup |f′| = {sup:.10g}")
    if rng is not None:
        out["zero_centered"] = _verdict((rng.low < 0 < rng.high) == declared.zero_centered,
                                        f"inf f = {rng.low:.6g}, sup f = {rng.high:.6g}")
    sym = _symmetry(f)
    out["symmetry"] = _verdict(None if sym is None else sym == declared.symmetry,
                               "sympy could not decide" if sym is None else f"sympy: {sym}")
    sides = [dlim[s] for s in (-1, 1)]
    if all(s is not None for s in sides):
        sat = {(True, True): "both", (True, False): "left", (False, True): "right", (False, False): "none"}[
            (sides[0] == 0, sides[1] == 0)]
        out["saturation"] = _verdict(sat == declared.saturation, f"f′ → {sp.sstr(sides[0])} at −∞, "
                                                                 f"{sp.sstr(sides[1])} at +∞")
    if all(abs(k) > 1e-15 for k in kinks):
        at0 = [_within(lambda e=e: _num(e.subs(X, 0))) for e in (f, d1)]
        if all(v is not None for v in at0):
            ident = abs(at0[0]) < 1e-15 and abs(at0[1] - 1) < 1e-15  # type: ignore[operator]
            out["identity_at_origin"] = _verdict(ident == declared.identity_at_origin,
                                                 f"f(0) = {at0[0]:.6g}, f′(0) = {at0[1]:.6g}")
    ordered = {}
    for key in KEYS:
        v = out.get(key) or _verdict(None, "not checked symbolically")
        ordered[key] = {"declared": _show(getattr(declared, key)), **v}
    return ordered


# --------------------------------------------------------------------------- the card


def _compute(act: Activation) -> dict[str, Any]:
    f = expression(act)
    d1 = _within(lambda: sp.simplify(sp.diff(f, X)), 4 * STEP_SECONDS) or sp.diff(f, X)
    d1 = d1.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.Integer(0))
    d2 = sp.diff(d1, X).replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.Integer(0))
    d2 = _within(lambda: sp.simplify(d2)) or d2
    kinks = [k.x for k in act.kinks] or sorted({z for e in breakpoints(f) for z in real_zeros(e)})
    lim = {s: _within(lambda s=s: _limit(f, s)) for s in (-1, 1)}
    dlim = {s: _within(lambda s=s: _limit(d1, s)) for s in (-1, 1)}
    return {
        "name": act.name, "label": act.label, "symbolic": act.symbolic,
        "f": _text(f), "f′": _text(d1), "f″": _text(d2),
        "taylor": _taylor(f, kinks),
        "tails": [_tails(f, -1), _tails(f, 1)],
        "derivative_tails": [None if dlim[s] is None else _oo(sp.sstr(dlim[s])) for s in (-1, 1)],
        "fixed_points": _fixed_points(f),
        "derivative_extrema": _extrema(d1, d2),
        "properties": _properties(act, f, d1, d2, kinks, lim, dlim),
    }


def card(act: Activation) -> dict[str, Any]:
    """The symbolic card of ``act`` as JSON data (cached on disk per actviz version)."""
    declared = act.properties
    key = "card:" + json.dumps([act.name, act.symbolic, None if declared is None else declared.to_json()],
                               sort_keys=True, default=str)
    cached = symcache.get(key)
    if isinstance(cached, dict):
        return cached
    data = _compute(act)
    symcache.put({key: data})
    return data


def cards(acts: list[Activation]) -> list[dict[str, Any]]:
    """:func:`card` of each, written to the cache once at the end."""
    return [card(a) for a in acts]


__all__ = ["STEP_SECONDS", "card", "cards", "expression"]
