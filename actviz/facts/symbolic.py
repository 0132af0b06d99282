"""Formula trees (:mod:`actviz.core.expr`) to sympy and back: derivatives and kinks, found symbolically.

:func:`to_sympy` builds a sympy expression from a vetted tree (sympy never parses text here),
with numerically careful forms where the tree spells out a naive one: ``log(1 + exp(u))``
becomes softplus(u), ``1/(1 + exp(-u))`` becomes σ(u), ``log(1 + u)`` becomes log1p(u).
σ and softplus are sympy functions of their own (:data:`sigmoid`, :data:`softplus`) whose
derivatives stay in σ (σ′ = σ·σ(−u), softplus′ = σ), so that generated derivatives keep
the stable kernels.  :func:`from_sympy` turns a sympy expression back into a tree (for the
torch code generator and the on-disk cache); ``Heaviside(u)`` becomes ``where`` with the
value 1/2 at u = 0, which is autograd's convention for max and min at a tie.

Importing this module imports sympy (a few hundred milliseconds): only the commands that
compute with a formula do.
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.codegen.cfunctions import log1p

from actviz.core.expr import Node

X = sp.Symbol("x", real=True)


class sigmoid(sp.Function):  # noqa: N801 - the name sympy prints
    """The logistic function σ(u) = 1/(1 + e^(−u))."""

    def fdiff(self, argindex: int = 1) -> Any:
        u = self.args[0]
        return sigmoid(u) * sigmoid(-u)

    @classmethod
    def eval(cls, u: Any) -> Any:
        if u.is_zero:
            return sp.Rational(1, 2)
        if u is sp.oo:
            return sp.Integer(1)
        if u is sp.S.NegativeInfinity:
            return sp.Integer(0)
        return None

    def _eval_rewrite_as_exp(self, u: Any, **kwargs: Any) -> Any:
        return 1 / (1 + sp.exp(-u))

    def _eval_is_real(self) -> Any:
        return self.args[0].is_real

    def _eval_is_positive(self) -> Any:
        return self.args[0].is_real

    def _latex(self, printer: Any) -> str:
        return rf"\sigma\left({printer._print(self.args[0])}\right)"


class softplus(sp.Function):  # noqa: N801
    """softplus(u) = log(1 + e^u)."""

    def fdiff(self, argindex: int = 1) -> Any:
        return sigmoid(self.args[0])

    @classmethod
    def eval(cls, u: Any) -> Any:
        if u.is_zero:
            return sp.log(2)
        return None

    def _eval_rewrite_as_exp(self, u: Any, **kwargs: Any) -> Any:
        return sp.log(1 + sp.exp(u))

    def _eval_is_real(self) -> Any:
        return self.args[0].is_real

    def _eval_is_positive(self) -> Any:
        return self.args[0].is_real

    def _latex(self, printer: Any) -> str:
        return rf"\operatorname{{softplus}}\left({printer._print(self.args[0])}\right)"


_FUNCS: dict[str, Any] = {
    "exp": sp.exp, "log": sp.log, "log1p": log1p, "sqrt": sp.sqrt, "abs": sp.Abs, "sign": sp.sign,
    "max": sp.Max, "min": sp.Min, "sigmoid": sigmoid, "tanh": sp.tanh, "erf": sp.erf, "softplus": softplus,
    "sin": sp.sin, "cos": sp.cos,
}
_REL = {"<": sp.StrictLessThan, "<=": sp.LessThan, ">": sp.StrictGreaterThan, ">=": sp.GreaterThan}


def symbols(names: Any) -> dict[str, Any]:
    """A real sympy symbol per parameter name."""
    return {n: sp.Symbol(n, real=True) for n in names}


def _number(v: float) -> Any:
    if v == int(v) and abs(v) < 1e15:
        return sp.Integer(int(v))
    return sp.nsimplify(v, rational=True) if len(repr(v)) <= 8 else sp.Float(v, 17)


def to_sympy(node: Node, params: dict[str, Any] | None = None) -> Any:
    """The sympy expression of a tree; ``params`` maps parameter names to symbols or numbers."""
    params = params or {}
    kind = node[0]
    if kind == "num":
        return _number(node[1])
    if kind == "x":
        return X
    if kind == "pi":
        return sp.pi
    if kind == "par":
        return params.get(node[1], sp.Symbol(node[1], real=True))
    if kind == "neg":
        return -to_sympy(node[1], params)
    if kind == "cmp":
        return _REL[node[1]](to_sympy(node[2], params), to_sympy(node[3], params))
    if kind == "call":
        return _call(node[1], node[2], params)
    a, b = to_sympy(node[1], params), to_sympy(node[2], params)
    if kind == "/" and a == 1 and _one_plus_exp(b) is not None:  # 1/(1 + e^(−u)) = σ(u)
        return sigmoid(-_one_plus_exp(b))
    return {"+": sp.Add, "-": lambda p, q: p - q, "*": sp.Mul, "/": lambda p, q: p / q, "**": sp.Pow}[kind](a, b)


def _one_plus_exp(e: Any) -> Any:
    """u where ``e`` is 1 + exp(u), else None."""
    if isinstance(e, sp.Add) and len(e.args) == 2 and sp.Integer(1) in e.args:
        other = e.args[0] if e.args[1] == 1 else e.args[1]
        if isinstance(other, sp.exp):
            return other.args[0]
    return None


def _call(name: str, args: tuple[Node, ...], params: dict[str, Any]) -> Any:
    vals = [to_sympy(a, params) for a in args]
    if name == "where":
        return sp.Piecewise((vals[1], vals[0]), (vals[2], True))
    if name == "piecewise":
        pairs = [(vals[i + 1], vals[i]) for i in range(0, len(vals) - 1, 2)]
        return sp.Piecewise(*pairs, (vals[-1], True))
    if name == "log":
        u = _one_plus_exp(vals[0])
        if u is not None:
            return softplus(u)
        if isinstance(vals[0], sp.Add) and sp.Integer(1) in vals[0].args:
            return log1p(vals[0] - 1)
    return _FUNCS[name](*vals)


# --------------------------------------------------------------------------- back to a tree


class Untranslatable(ValueError):
    """A sympy expression with a function the formula grammar lacks."""


def from_sympy(e: Any) -> Node:
    """A tree of the grammar for a sympy expression built from its functions (and Heaviside)."""
    if e is sp.pi:
        return ("pi",)
    if e is sp.E:
        return ("call", "exp", (("num", 1.0),))
    if isinstance(e, sp.Symbol):
        return ("x",) if e.name == "x" else ("par", e.name)
    if e.is_Number:
        if e.is_Rational and not e.is_Integer:
            return _div(("num", float(e.p)), ("num", float(e.q)))
        return _signed(float(e))
    if isinstance(e, sp.Add):
        terms = [from_sympy(a) for a in e.args]
        out = terms[0]
        for t in terms[1:]:
            out = ("-", out, t[1]) if t[0] == "neg" else ("+", out, t)
        return out
    if isinstance(e, sp.Mul):
        return _mul(e)
    if isinstance(e, sp.Pow):
        base, ex = e.args
        if ex == sp.Rational(1, 2):
            return ("call", "sqrt", (from_sympy(base),))
        if ex == -1:
            return ("/", ("num", 1.0), from_sympy(base))
        return ("**", from_sympy(base), from_sympy(ex))
    return _function(e)


def _signed(v: float) -> Node:
    return ("neg", ("num", -v)) if v < 0 else ("num", v)


def _div(a: Node, b: Node) -> Node:
    return ("neg", ("/", a[1], b)) if a[0] == "neg" else ("/", a, b)


def _mul(e: Any) -> Node:
    num, den = sp.fraction(e, exact=True)
    if den != 1:
        return _div(from_sympy(num), from_sympy(den))
    coeff, rest = e.as_coeff_Mul()
    if coeff == -1:
        return ("neg", from_sympy(rest))
    factors = [from_sympy(a) for a in e.args]
    out = factors[0]
    for f in factors[1:]:
        out = ("*", out, f)
    return out


_BACK = {sp.exp: "exp", sp.log: "log", log1p: "log1p", sp.Abs: "abs", sp.sign: "sign", sp.Max: "max",
         sp.Min: "min", sigmoid: "sigmoid", sp.tanh: "tanh", sp.erf: "erf", softplus: "softplus", sp.sin: "sin",
         sp.cos: "cos"}
_BACK_REL = {sp.StrictLessThan: "<", sp.LessThan: "<=", sp.StrictGreaterThan: ">", sp.GreaterThan: ">="}


def _function(e: Any) -> Node:
    head = type(e)
    if head in _BACK:
        return ("call", _BACK[head], tuple(from_sympy(a) for a in e.args))
    if isinstance(e, sp.Heaviside):  # 1 above 0, 0 below, 1/2 at 0
        u = from_sympy(e.args[0])
        zero = ("num", 0.0)
        return ("call", "where", (("cmp", ">", u, zero), ("num", 1.0),
                                  ("call", "where", (("cmp", "<", u, zero), zero, ("num", 0.5)))))
    if isinstance(e, sp.DiracDelta):  # the derivative of sign/where steps: 0 except at a point
        return ("num", 0.0)
    if isinstance(e, sp.Piecewise):
        return _piecewise(list(e.args))
    raise Untranslatable(f"no formula for {head.__name__}")


def _piecewise(pieces: list[Any]) -> Node:
    value, cond = pieces[0]
    if cond is sp.true or len(pieces) == 1:
        return from_sympy(value)
    rest = _piecewise(pieces[1:])
    return _condition(cond, from_sympy(value), rest)


def _condition(cond: Any, then: Node, other: Node) -> Node:
    if isinstance(cond, sp.And):
        out = then
        for c in reversed(cond.args):
            out = _condition(c, out, other)
        return out
    if isinstance(cond, sp.Or):
        out = other
        for c in reversed(cond.args):
            out = _condition(c, then, out)
        return out
    if isinstance(cond, sp.Not):
        return _condition(cond.args[0], other, then)
    if type(cond) in _BACK_REL:
        return ("call", "where", (("cmp", _BACK_REL[type(cond)], from_sympy(cond.lhs), from_sympy(cond.rhs)),
                                  then, other))
    if cond is sp.false:
        return other
    raise Untranslatable(f"no formula for the condition {cond}")


# --------------------------------------------------------------------------- derivative, kinks


def derivative(f: Any, var: Any = X, *, simplify: bool = True) -> Any:
    """df/dvar, simplified where that makes it shorter (σ and softplus kept)."""
    d = sp.diff(f, var)
    d = d.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.Integer(0))
    if simplify and sp.count_ops(d) < 60:
        s = sp.simplify(d)
        # shorter, and with no function the unsimplified form lacks (1 − tanh² must not become 1/cosh²)
        if sp.count_ops(s) <= sp.count_ops(d) and _heads(s) <= _heads(d):
            d = s
    return d


def _heads(e: Any) -> set[type]:
    return {type(a) for a in sp.preorder_traversal(e) if isinstance(a, sp.Function)}


def breakpoints(f: Any) -> list[Any]:
    """Expressions in x whose zeros are where f may not be differentiable (abs, sign, max, min, pieces)."""
    out: list[Any] = []
    for e in sp.preorder_traversal(f):
        if isinstance(e, (sp.Abs, sp.sign, sp.Heaviside)):
            out.append(e.args[0])
        elif isinstance(e, (sp.Max, sp.Min)):
            args = list(e.args)
            out.extend(a - b for i, a in enumerate(args) for b in args[i + 1:])
        elif isinstance(e, sp.Piecewise):
            for _, cond in e.args:
                for rel in sp.preorder_traversal(cond):
                    if type(rel) in _BACK_REL:
                        out.append(rel.lhs - rel.rhs)
    return [a for a in out if a.has(X)]


def real_zeros(e: Any, limit: int = 16) -> list[float]:
    """The real zeros of ``e`` in x, when sympy finds a finite set of them (else none)."""
    try:
        sols = sp.solveset(e, X, domain=sp.S.Reals)
    except Exception:  # sympy cannot: no kink found there
        return []
    if not isinstance(sols, sp.FiniteSet) or len(sols) > limit:
        return []
    out = []
    for s in sols:
        try:
            out.append(float(s))
        except (TypeError, ValueError):
            pass
    return sorted(set(out))


__all__ = ["X", "Untranslatable", "breakpoints", "derivative", "from_sympy", "real_zeros", "sigmoid", "softplus",
           "symbols", "to_sympy"]
