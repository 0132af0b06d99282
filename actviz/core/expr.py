"""Activation formulas as text: a whitelist grammar, its tokenizer and recursive-descent parser.

A definition (``actviz --define``) is ``NAME=EXPR`` followed by optional parameter defaults,
separated by ``;``: ``sw=x*sigmoid(b*x); b=1.5``.  The grammar of ``EXPR``::

    expr    := term (('+' | '-') term)*
    term    := unary (('*' | '/') unary)*
    unary   := ('-' | '+') unary | power
    power   := atom (('**' | '^') unary)?          right-associative: -x**2 is -(x**2)
    atom    := NUMBER | 'x' | 'pi' | PARAM | FUNC '(' arg (',' arg)* ')' | '(' expr ')'
    arg     := expr (('<' | '<=' | '>' | '>=') expr)?   comparisons only as a condition of where/piecewise

with the functions of :data:`FUNCTIONS`.  ``where(c, a, b)`` is ``a`` where ``c`` holds, else
``b``; ``piecewise(c1, v1, c2, v2, ..., default)`` is the first ``v`` whose condition holds.
Nothing else is accepted: no attribute access, strings, lambdas, subscripts or other names.
Parsing never evaluates anything; it builds a small tree of tuples (:data:`Node`):

``("num", value)``, ``("x",)``, ``("pi",)``, ``("par", name)``, ``("neg", a)``,
``(op, a, b)`` for op in ``+ - * / **``, ``("call", fname, (args...))`` and
``("cmp", op, a, b)``.

This module is pure Python (no sympy, no torch): ``actviz list --define ...`` stays fast.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from actviz.core.errors import UsageError

Node = tuple[Any, ...]

#: function name -> (least, most) number of arguments (most None: any)
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "exp": (1, 1), "log": (1, 1), "log1p": (1, 1), "sqrt": (1, 1), "abs": (1, 1), "sign": (1, 1),
    "max": (2, None), "min": (2, None), "sigmoid": (1, 1), "tanh": (1, 1), "erf": (1, 1),
    "softplus": (1, 1), "where": (3, 3), "piecewise": (3, None), "sin": (1, 1), "cos": (1, 1),
}
#: names the grammar refuses with a reason of their own
_FORBIDDEN = ("lambda", "import", "def", "class", "for", "while", "if", "else", "not", "and", "or", "in",
              "is", "exec", "eval", "open", "getattr", "globals", "locals", "print")
_COMPARE = ("<", "<=", ">", ">=")
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<num>(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|<=|>=|==|!=|[-+*/^(),<>])
""", re.VERBOSE)
_WHY = {".": "attribute access is not allowed", "'": "strings are not allowed", '"': "strings are not allowed",
        "[": "subscripts are not allowed", "{": "braces are not allowed", ":": "':' is not allowed",
        "=": "'=' is not allowed inside an expression", "@": "'@' is not allowed"}


@dataclass(frozen=True)
class Definition:
    """A parsed ``NAME=EXPR; p=1.5`` definition: the name, the tree, parameter defaults, the text."""

    name: str
    tree: Node
    params: tuple[tuple[str, float], ...]
    expr: str
    text: str


def _error(col: int, message: str, context: str) -> UsageError:
    return UsageError(f"{context}: {message} at column {col + 1}")


def tokenize(text: str, offset: int = 0) -> list[tuple[str, str, int]]:
    """``(kind, text, column)`` tokens of an expression; ``offset`` is its column in the definition.

    A character outside the grammar ends the list with a ``("bad", reason, column)`` token, which
    the parser raises when it gets there (so that ``__import__("os")`` is refused for its name).
    """
    out: list[tuple[str, str, int]] = []
    i = 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if m is None or m.group("op") in ("==", "!="):
            ch = text[i]
            why = _WHY.get(ch, f"unexpected character {ch!r}")
            if m is not None:
                why = f"{m.group('op')!r} is not allowed (use where(x > 0, a, b))"
            out.append(("bad", why, offset + i))  # raised when the parser reaches it
            return out
        kind = m.lastgroup or ""
        if kind == "num" and m.end() < len(text) and (text[m.end()].isalpha() or text[m.end()] in "_."):
            out.append(("bad", f"unexpected {text[m.end()]!r} after a number", offset + m.end()))
            return out
        if kind != "space":
            out.append((kind, m.group(), offset + i))
        i = m.end()
    out.append(("end", "", offset + len(text)))
    return out


class _Parser:
    def __init__(self, text: str, params: set[str], offset: int, context: str):
        self.text, self.params, self.context = text, params, context
        self.offset = offset
        self.tokens = tokenize(text, offset)
        self.i = 0

    # -- helpers
    def peek(self) -> tuple[str, str, int]:
        tok = self.tokens[self.i]
        if tok[0] == "bad":
            raise _error(tok[2], tok[1], self.context)
        return tok

    def take(self) -> tuple[str, str, int]:
        tok = self.peek()
        self.i += 1
        return tok

    def fail(self, tok: tuple[str, str, int], message: str) -> UsageError:
        return _error(tok[2], message, self.context)

    def expect(self, op: str) -> None:
        tok = self.take()
        if tok[1] != op or tok[0] == "name":
            got = "the end" if tok[0] == "end" else repr(tok[1])
            raise self.fail(tok, f"expected {op!r}, got {got}")

    # -- grammar
    def parse(self) -> Node:
        node = self.expr()
        tok = self.peek()
        if tok[0] != "end":
            raise self.fail(tok, f"unexpected {tok[1]!r}")
        return node

    def expr(self) -> Node:
        node = self.term()
        while self.peek()[1] in ("+", "-") and self.peek()[0] == "op":
            op = self.take()[1]
            node = (op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek()[1] in ("*", "/") and self.peek()[0] == "op":
            op = self.take()[1]
            node = (op, node, self.unary())
        return node

    def unary(self) -> Node:
        tok = self.peek()
        if tok[0] == "op" and tok[1] in ("-", "+"):
            self.take()
            inner = self.unary()
            return ("neg", inner) if tok[1] == "-" else inner
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        if self.peek()[0] == "op" and self.peek()[1] in ("**", "^"):
            self.take()
            return ("**", base, self.unary())
        return base

    def atom(self) -> Node:
        tok = self.take()
        kind, text = tok[0], tok[1]
        if kind == "num":
            value = float(text)
            if not math.isfinite(value):
                raise self.fail(tok, f"the number {text} is too large")
            return ("num", value)
        if kind == "op" and text == "(":
            node = self.expr()
            self.expect(")")
            return node
        if kind == "name":
            if text.startswith("_") or text in _FORBIDDEN:
                raise self.fail(tok, f"{text!r} is not allowed")
            if self.peek()[1] == "(" and self.peek()[0] == "op":
                return self.call(tok)
            if text == "x":
                return ("x",)
            if text == "pi":
                return ("pi",)
            if text in self.params:
                return ("par", text)
            raise self.fail(tok, self._unknown(text))
        if kind == "end":
            raise self.fail(tok, "the expression ends too early")
        raise self.fail(tok, f"unexpected {text!r}")

    def _unknown(self, name: str) -> str:
        if name.startswith("_") or name in _FORBIDDEN:
            return f"{name!r} is not allowed"
        if name in FUNCTIONS:
            return f"the function {name!r} needs its arguments in parentheses"
        return f"unknown name {name!r} (the variable is x; a parameter needs a default, e.g. '; {name}=1')"

    def call(self, tok: tuple[str, str, int]) -> Node:
        name = tok[1]
        if name not in FUNCTIONS:
            if name.startswith("_") or name in _FORBIDDEN:
                raise self.fail(tok, f"{name!r} is not allowed")
            raise self.fail(tok, f"unknown function {name!r} (known: {', '.join(sorted(FUNCTIONS))})")
        self.expect("(")
        args = [self.arg()]
        while self.peek()[1] == "," and self.peek()[0] == "op":
            self.take()
            args.append(self.arg())
        self.expect(")")
        least, most = FUNCTIONS[name]
        if len(args) < least or (most is not None and len(args) > most):
            count = str(least) if least == most else f"at least {least}"
            raise self.fail(tok, f"{name}() takes {count} argument{'s' if least != 1 else ''}, got {len(args)}")
        if name == "piecewise" and len(args) % 2 == 0:
            raise self.fail(tok, "piecewise() takes condition, value pairs and a default value")
        conditions = {0} if name == "where" else set(range(0, len(args) - 1, 2)) if name == "piecewise" else set()
        for k, a in enumerate(args):
            if (a[0] == "cmp") != (k in conditions):
                what = "a comparison such as x > 0" if k in conditions else "a value, not a comparison"
                raise self.fail(tok, f"argument {k + 1} of {name}() must be {what}")
        return ("call", name, tuple(args))

    def arg(self) -> Node:
        left = self.expr()
        tok = self.peek()
        if tok[0] == "op" and tok[1] in _COMPARE:
            self.take()
            return ("cmp", tok[1], left, self.expr())
        return left


def parse_expr(text: str, params: set[str] | frozenset[str] = frozenset(), *, offset: int = 0,
               context: str = "cannot parse the formula") -> Node:
    """The tree of one expression in ``x`` and the named parameters; a :class:`UsageError` names the token."""
    return _Parser(text, set(params), offset, context).parse()


_NAME = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*)\s*$")


def parse_definition(text: str) -> Definition:
    """Parse ``NAME=EXPR[; PARAM=NUMBER ...]``; errors are one :class:`UsageError` naming the column."""
    context = f"--define {text.strip()!r}"
    parts = text.split(";")
    head, sep, expr = parts[0].partition("=")
    if not sep or _NAME.match(head) is None:
        raise UsageError(f"{context}: expected NAME=EXPR, e.g. 'sqrelu=max(0,x)**2'")
    name = head.strip().lower().replace("-", "_")
    params: dict[str, float] = {}
    column = len(parts[0]) + 1
    for part in parts[1:]:
        key, psep, value = part.partition("=")
        m = _NAME.match(key)
        if not part.strip():
            column += len(part) + 1
            continue
        if not psep or m is None:
            raise UsageError(f"{context}: expected PARAM=NUMBER after ';' at column {column + 1}")
        key = m.group(1)
        if key in ("x", "pi") or key in FUNCTIONS or key in _FORBIDDEN:
            raise UsageError(f"{context}: {key!r} cannot be a parameter name (column {column + 1})")
        try:
            number = float(value)
        except ValueError:
            raise UsageError(f"{context}: the default of {key} must be a number, got {value.strip()!r}") from None
        if not math.isfinite(number):
            raise UsageError(f"{context}: the default of {key} must be finite, got {value.strip()!r}")
        params[key] = number
        column += len(part) + 1
    if not expr.strip():
        raise UsageError(f"{context}: the expression after '=' is empty")
    tree = parse_expr(expr, set(params), offset=len(head) + 1, context=context)
    return Definition(name, tree, tuple(params.items()), expr.strip(), text.strip())


# --------------------------------------------------------------------------- printing


_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "**": 4}


def to_text(node: Node) -> str:
    """The tree as text that :func:`parse_expr` reads back to the same tree (numbers round-trip)."""
    return _text(node, 0)


def _text(node: Node, outer: int) -> str:
    kind = node[0]
    if kind == "num":
        v = node[1]
        s = repr(float(v)) if v != int(v) or abs(v) >= 1e16 else str(int(v))
        return f"({s})" if v < 0 or outer >= 4 and "e" in s else s
    if kind == "x":
        return "x"
    if kind == "pi":
        return "pi"
    if kind == "par":
        return node[1]
    if kind == "call":
        return f"{node[1]}({', '.join(_text(a, 0) for a in node[2])})"
    if kind == "cmp":
        return f"{_text(node[2], 0)} {node[1]} {_text(node[3], 0)}"
    if kind == "neg":
        s = "-" + _text(node[1], 3)
    else:
        p = _PREC[kind]
        # left-associative + - * /: the right operand needs parentheses at equal precedence;
        # ** is right-associative: the left operand does
        left = _text(node[1], p + 1 if kind == "**" else p)
        right = _text(node[2], p if kind == "**" else p + 1)
        s = f"{left} {kind} {right}" if p == 1 else f"{left}{kind}{right}"
    return f"({s})" if _PREC[kind] < outer else s


__all__ = ["FUNCTIONS", "Definition", "Node", "parse_definition", "parse_expr", "to_text", "tokenize"]
