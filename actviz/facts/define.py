"""Activations defined by a formula: ``--define 'NAME=EXPR[; PARAM=DEFAULT ...]'`` and ``ACTVIZ_DEFINE``.

:func:`define` parses the text with the whitelist grammar of :mod:`actviz.core.expr` (nothing is
evaluated), generates the forward for torch (:mod:`actviz.facts.codegen`), and registers a record
like any other: the derivative is sympy's, simplified, turned back into a formula and generated
the same way; ∂f/∂PARAM likewise for each parameter; kinks are the real zeros of the arguments of
abs, sign, max/min and of the piecewise conditions where f′ (or f) really jumps, with the value
the generated derivative takes there.  The record declares no properties: every command shows
the measured ones (``actviz check`` audits it like a built-in).

The derivatives and kinks are cached on disk (:mod:`actviz.facts.symcache`), so that a definition
seen before costs neither sympy's import nor its algebra; the forward never needs sympy.

Several definitions in ``ACTVIZ_DEFINE`` are separated by ``|`` (a character the grammar does not
use), e.g. ``ACTVIZ_DEFINE='sq=max(0,x)**2 | sw=x*sigmoid(b*x); b=1.5'``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from actviz.core import registry
from actviz.core.errors import ActvizError, UsageError
from actviz.core.expr import Definition, Node, parse_definition, parse_expr, to_text
from actviz.core.registry import ActivationSpec, Kink, Param
from actviz.facts import symcache
from actviz.facts.codegen import compile_tree
from actviz.facts.kernels import LazyModule

torch: Any = LazyModule("torch", globals(), "torch")

#: the separator of several definitions in ``ACTVIZ_DEFINE``
ENV_SEPARATOR = "|"


class _Derived:
    """What a definition's record computes on first use: derivatives (text and code) and kinks."""

    def __init__(self, d: Definition):
        self.d = d
        self.names = tuple(k for k, _ in d.params)
        self.key = f"{to_text(d.tree)}|{','.join(self.names)}"
        self._code: dict[str, Callable[..., Any]] = {}
        self._kinks: dict[tuple[float, ...], tuple[Kink, ...]] = {}

    def _sympy(self, values: dict[str, float] | None = None) -> Any:
        from actviz.facts import symbolic

        params = {**symbolic.symbols(self.names), **(values or {})}
        return symbolic.to_sympy(self.d.tree, params)

    def text(self, var: str) -> str:
        """∂f/∂var (var "x" or a parameter) in the formula grammar, from the cache or sympy."""
        key = f"d{var}:{self.key}"
        cached = symcache.get(key)
        if isinstance(cached, str):
            return cached
        from actviz.facts import symbolic

        var_symbol = symbolic.X if var == "x" else symbolic.symbols([var])[var]
        try:
            text = to_text(symbolic.from_sympy(symbolic.derivative(self._sympy(), var_symbol)))
        except symbolic.Untranslatable as exc:
            raise ActvizError(f"--define {self.d.name}: cannot generate ∂f/∂{var}: {exc}") from None
        symcache.put({key: text})
        return text

    def code(self, var: str) -> Callable[..., Any]:
        if var not in self._code:
            tree = parse_expr(self.text(var), set(self.names), context=f"the derivative of {self.d.name}")
            self._code[var] = compile_tree(tree)
        return self._code[var]

    def kinks(self, params: Any) -> tuple[Kink, ...]:
        values = tuple(float(params[n]) for n in self.names)
        if values not in self._kinks:
            self._kinks[values] = tuple(self._find_kinks(dict(zip(self.names, values))))
        return self._kinks[values]

    def _find_kinks(self, values: dict[str, float]) -> list[Kink]:
        key = f"k:{self.key}|{','.join(repr(v) for v in values.values())}"
        points = symcache.get(key)
        if not isinstance(points, list):
            from actviz.facts import symbolic

            candidates = sorted({z for e in symbolic.breakpoints(self._sympy(values))
                                 for z in symbolic.real_zeros(e)})
            points = [c for c in candidates if self._jumps(c, values)]
            symcache.put({key: points})
        d = self.code("x")
        out = []
        for c in points:
            with torch.no_grad():
                value = float(d(torch.tensor([float(c)], dtype=torch.float64), **values)[0])
            out.append(Kink(float(c), value))
        return out

    def _jumps(self, c: float, values: dict[str, float]) -> bool:
        """Whether f or f′ differs across c (a breakpoint where f is smooth is no kink)."""
        h = 1e-7 * max(1.0, abs(c))
        x = torch.tensor([c - h, c + h], dtype=torch.float64)
        with torch.no_grad():
            f = compile_tree(self.d.tree)(x, **values)
            d = self.code("x")(x, **values)
        tol = 1e-5 * (1 + float(abs(d).max()))
        return bool(abs(float(d[1] - d[0])) > tol or abs(float(f[1] - f[0])) > 1e3 * h * (1 + abs(float(d[0]))))


def _param(name: str, default: float) -> Param:
    return Param(name, default, f"parameter of the formula (default {default:g})")


def spec_of(text: str) -> ActivationSpec:
    """The registry record of a definition (not registered)."""
    d = parse_definition(text)
    derived = _Derived(d)
    forward = compile_tree(d.tree)
    params_part = "".join(f"; {k}={v:g}" for k, v in d.params)
    return ActivationSpec(
        name=d.name,
        forward=forward,
        derivative=lambda x, **p: derived.code("x")(x, **p),
        formula=f"{d.name}(x) = {d.expr}{params_part}",
        derivative_formula=lambda p: f"{d.name}′(x) = {derived.text('x')}",
        params=tuple(_param(k, v) for k, v in d.params),
        kinks=derived.kinks,
        properties=None,
        summary=f"Defined by a formula: {d.text}",
        symbolic=d.expr,
        param_derivatives={k: _param_derivative(derived, k) for k in derived.names},
        definition=d.text,
    )


def _param_derivative(derived: _Derived, key: str) -> Callable[..., Any]:
    return lambda x, **p: derived.code(key)(x, **p)


def define(text: str) -> ActivationSpec:
    """Parse, generate and register one definition; the same text again is a no-op.

    A name already taken by an activation that is not a definition is a :class:`UsageError`;
    a new definition of a defined name replaces it.
    """
    spec = spec_of(text)
    try:
        old = registry.get_spec(spec.name)
    except UsageError:
        old = None
    if old is not None and old.name == spec.name and old.definition == spec.definition:
        return old
    if old is not None and not old.definition:
        raise UsageError(f"--define {text.strip()!r}: {spec.name!r} is already an activation "
                         f"({old.name}); choose another name")
    return registry.register(spec, replace=True)


def define_all(texts: Iterable[str]) -> list[ActivationSpec]:
    """:func:`define` each text, in order."""
    return [define(t) for t in texts]


def env_definitions() -> list[str]:
    """The definitions of ``ACTVIZ_DEFINE`` (``|``-separated; empty parts ignored)."""
    return [t for t in (s.strip() for s in os.environ.get("ACTVIZ_DEFINE", "").split(ENV_SEPARATOR)) if t]


__all__ = ["ENV_SEPARATOR", "define", "define_all", "env_definitions", "spec_of"]
