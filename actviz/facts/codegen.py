"""Torch functions from formula trees (:mod:`actviz.core.expr`), without sympy and without eval.

:func:`compile_tree` turns a vetted tree into a Python closure over torch operations.  The
forms are the numerically careful ones: ``log(1 + exp(u))`` runs as softplus, ``log(1 + u)``
as log1p, σ as torch.sigmoid, max/min as torch.maximum/minimum (NaN propagates), ``x**2`` as
``x*x``.  A formula that does not depend on x still returns a tensor shaped like x.

torch is imported on the first call of a generated function.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from actviz.core.expr import Node
from actviz.facts.kernels import LazyModule, keep_nan, sig, softplus

torch: Any = LazyModule("torch", globals(), "torch")

Fn = Callable[[Any, dict[str, Any]], Any]


def compile_tree(tree: Node) -> Callable[..., Any]:
    """``f(x, **params)`` computing the tree for a tensor ``x``; a tensor of x's shape and dtype."""
    body = _compile(tree)
    # a comparison is False for NaN, and a constant ignores x: NaN in must stay NaN out
    guard = _has(tree, {"where", "piecewise", "sign"}) or not _has(tree, {"x"})

    def f(x: Any, **params: Any) -> Any:
        y = body(x, params)
        if not (hasattr(y, "shape") and y.shape == x.shape):
            y = torch.zeros_like(x) + y
        if y.dtype != x.dtype:
            y = y.to(x.dtype)
        return keep_nan(x, y) if guard else y

    return f


def _has(node: Node, names: set[str]) -> bool:
    """Whether the tree has the variable (``"x"`` in names) or a call of one of ``names``."""
    if node[0] == "x":
        return "x" in names
    if node[0] == "call":
        return node[1] in names or any(_has(a, names) for a in node[2])
    return any(_has(a, names) for a in node[1:] if isinstance(a, tuple))


def _one_plus(node: Node) -> Node | None:
    """u where ``node`` is 1 + u or u + 1, else None."""
    if node[0] == "+":
        if node[1] == ("num", 1.0):
            return node[2]
        if node[2] == ("num", 1.0):
            return node[1]
    return None


def _compile(node: Node) -> Fn:
    kind = node[0]
    if kind == "num":
        v = float(node[1])
        return lambda x, p: v
    if kind == "pi":
        return lambda x, p: math.pi
    if kind == "x":
        return lambda x, p: x
    if kind == "par":
        name = node[1]
        return lambda x, p: p[name]
    if kind == "neg":
        a = _compile(node[1])
        return lambda x, p: -a(x, p)
    if kind == "call":
        return _call(node[1], node[2])
    if kind == "cmp":
        a, b = _compile(node[2]), _compile(node[3])
        op = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge"}[node[1]]
        return lambda x, p: getattr(torch, op)(_t(a(x, p), x), b(x, p))
    if kind == "**" and node[2] == ("num", 2.0):
        a = _compile(node[1])
        return lambda x, p: _square(a(x, p))
    a, b = _compile(node[1]), _compile(node[2])
    if kind == "+":
        return lambda x, p: a(x, p) + b(x, p)
    if kind == "-":
        return lambda x, p: a(x, p) - b(x, p)
    if kind == "*":
        return lambda x, p: a(x, p) * b(x, p)
    if kind == "/":
        return lambda x, p: a(x, p) / b(x, p)
    return lambda x, p: _pow(a(x, p), b(x, p), x)


def _t(v: Any, x: Any) -> Any:
    """``v`` as a tensor like x (a number becomes a 0-d tensor of x's dtype)."""
    return v if hasattr(v, "dtype") else torch.tensor(v, dtype=x.dtype, device=x.device)


def _square(v: Any) -> Any:
    return v * v


def _pow(a: Any, b: Any, x: Any) -> Any:
    if not hasattr(a, "dtype") and not hasattr(b, "dtype"):
        return float(a) ** float(b) if a >= 0 or float(b).is_integer() else math.nan
    return torch.pow(_t(a, x), b)


_UNARY = {"exp": "exp", "log": "log", "log1p": "log1p", "sqrt": "sqrt", "abs": "abs", "sign": "sign",
          "tanh": "tanh", "erf": "erf", "sin": "sin", "cos": "cos"}


def _call(name: str, args: tuple[Node, ...]) -> Fn:
    if name == "log" and _one_plus(args[0]) is not None:
        inner = _one_plus(args[0])
        if inner is not None and inner[0] == "call" and inner[1] == "exp":
            return _call("softplus", inner[2])
        return _call("log1p", (inner,))  # type: ignore[arg-type]
    fs = [_compile(a) for a in args]
    if name in _UNARY:
        op, a = _UNARY[name], fs[0]
        return lambda x, p: getattr(torch, op)(_t(a(x, p), x))
    if name == "softplus":
        a = fs[0]
        return lambda x, p: softplus(_t(a(x, p), x))
    if name == "sigmoid":  # e^(log σ): accurate where σ is subnormal and x·σ(x) is not
        a = fs[0]
        return lambda x, p: sig(_t(a(x, p), x))
    if name in ("max", "min"):
        op = torch.maximum if name == "max" else torch.minimum

        def extreme(x: Any, p: dict[str, Any]) -> Any:
            out = _t(fs[0](x, p), x)
            for g in fs[1:]:
                out = op(out, _t(g(x, p), x))
            return out

        return extreme
    # where / piecewise: (cond, value) pairs and a default.  Each value is computed at x where
    # its case applies and at 0 elsewhere: an unselected branch that overflows (exp(x) for large x)
    # would otherwise give autograd 0·inf = NaN through torch.where
    pairs = [(fs[i], fs[i + 1]) for i in range(0, len(fs) - 1, 2)]
    default = fs[-1]

    def select(x: Any, p: dict[str, Any]) -> Any:
        conds = [cond(x, p) for cond, _ in pairs]
        anyc = conds[0]
        for c in conds[1:]:
            anyc = anyc | c
        out = _t(default(torch.where(anyc, torch.zeros_like(x), x), p), x)
        for c, (_, value) in zip(reversed(conds), reversed(pairs)):
            out = torch.where(c, _t(value(torch.where(c, x, torch.zeros_like(x)), p), x), out)
        return out

    return select


__all__ = ["compile_tree"]
