"""The activation registry: one record per activation, one lookup function.

A record (:class:`ActivationSpec`) holds everything about an activation: its
canonical name and aliases, its parameters with defaults, its formula (plain
text and LaTeX), the forward function, the analytic derivative written by hand,
the points where it is not differentiable together with the value used there,
and its declared properties as a function of the parameters.

:func:`get` binds a record to parameter values and returns an
:class:`Activation`, the object users work with.

This module imports neither torch nor numpy: ``actviz list`` stays fast.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from actviz.core.errors import ActvizError, UnknownActivationError, UsageError
from actviz.core.formatting import format_param
from actviz.core.properties import Properties, jsonable
from actviz.core.suggest import closest, did_you_mean

Params = Mapping[str, Any]


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Param:
    """A parameter of an activation.

    ``kind`` is ``"float"`` (a finite real number), ``"choice"`` (one of
    ``choices``) or ``"floats"`` (a non-empty tuple of finite reals).
    ``check`` returns an error message for an invalid value, or ``None``.
    ``learnable`` parameters become trainable in ``actviz compare`` (PReLU's slope).
    """

    name: str
    default: Any
    doc: str = ""
    kind: str = "float"
    choices: tuple[str, ...] = ()
    check: Callable[[Any], str | None] | None = None
    learnable: bool = False
    symbol: str = ""

    def parse(self, text: str) -> Any:
        """Turn the text of ``KEY=VALUE`` into a value of this parameter (validated)."""
        text = text.strip()
        if self.kind == "choice":
            value: Any = text.lower()
        elif self.kind == "floats":
            parts = [p for p in text.replace(" ", "").strip("()[]").split(",") if p]
            try:
                value = tuple(float(p) for p in parts)
            except ValueError:
                raise UsageError(
                    f"{self.name} takes comma-separated numbers such as 1,0.5,-2, got {text!r}"
                ) from None
        else:
            try:
                value = float(text)
            except ValueError:
                raise UsageError(f"{self.name} takes a number, got {text!r}") from None
        return self.validate(value)

    def validate(self, value: Any) -> Any:
        """Return ``value`` normalised, or raise :class:`UsageError`."""
        if self.kind == "choice":
            value = str(value).lower()
            if value not in self.choices:
                raise UsageError(f"{self.name} must be one of {', '.join(self.choices)}; got {value!r}")
        elif self.kind == "floats":
            try:
                value = tuple(float(v) for v in value)
            except (TypeError, ValueError):
                raise UsageError(f"{self.name} takes a sequence of numbers, got {value!r}") from None
            if not value or not all(math.isfinite(v) for v in value):
                raise UsageError(f"{self.name} takes a non-empty sequence of finite numbers, got {value!r}")
        else:
            if _is_tensor(value):  # a learnable parameter during training
                return value
            if isinstance(value, bool):
                raise UsageError(f"{self.name} takes a number, got {value!r}")
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise UsageError(f"{self.name} takes a number, got {value!r}") from None
            if not math.isfinite(value):
                raise UsageError(f"{self.name} must be a finite number, got {value!r}")
        if self.check is not None:
            problem = self.check(value)
            if problem:
                raise UsageError(f"{self.name} {problem}, got {value!r}")
        return value


def _is_tensor(value: Any) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "dtype")


def positive(value: float) -> str | None:
    return None if value > 0 else "must be > 0"


def non_negative(value: float) -> str | None:
    return None if value >= 0 else "must be >= 0"


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Kink:
    """A point where f is not differentiable and the value f′ takes there by convention."""

    x: float
    derivative: float


@dataclass(frozen=True)
class ActivationSpec:
    """One registry record.  ``forward``/``derivative`` take ``(x, **params)``."""

    name: str
    forward: Callable[..., Any]
    derivative: Callable[..., Any]
    #: plain-text formulas: a string, or a function of the parameters returning one
    formula: str | Callable[[Params], str]
    latex: str = ""
    derivative_formula: str | Callable[[Params], str] = ""
    aliases: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    kinks: Callable[[Params], Sequence[Kink]] | Sequence[Kink] = ()
    properties: Callable[[Params], Properties] | Properties | None = None
    summary: str = ""
    reference: str = ""
    #: "elementwise"; "maxout" for a unit that is a layer in a network; "gated" for a unit over two
    #: halves of its input (a·gate(b)), described by its 1-D view x·gate(x)
    kind: str = "elementwise"
    #: the characteristic width of f's features (1/β for softplus and swish); measurements scale with it
    xscale: Callable[[Params], float] | float = 1.0
    #: a check across parameters: an error message, or None
    check: Callable[[Params], str | None] | None = None
    #: f in the formula grammar of :mod:`actviz.core.expr` (parameters by name; Piecewise as
    #: ``where``/``piecewise``): what the symbolic card and the agreement tests compute with
    symbolic: str | Callable[[Params], str] = ""
    #: ∂f/∂key for numeric parameters, written by hand: key -> function of ``(x, **params)``
    param_derivatives: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    #: optional, for training: the backward through f and its learnable parameters in one pass,
    #: ``vjp(x, dh, reduce, names, **params) -> (dh·f′(x), {name: reduce(name, dh·∂f/∂name)})``,
    #: a vector parameter's reduced gradients stacked along a new first dimension; equal to
    #: ``derivative`` and ``param_derivatives`` (a test checks), cheaper where they share work
    vjp: Callable[..., Any] | None = None
    #: the ``--define`` text this record was made from ("" for a record written in Python)
    definition: str = ""

    def __post_init__(self) -> None:
        if not self.name or normalize(self.name) != self.name:
            raise ValueError(
                f"activation name {self.name!r} must be lower case with '_' (e.g. {normalize(self.name)!r})"
            )

    def param(self, key: str) -> Param:
        """The parameter called ``key``, or a :class:`UsageError` naming the ones this record has."""
        for p in self.params:
            if p.name == key:
                return p
        if not self.params:
            raise UsageError(f"{self.name} has no parameters (got {key!r})")
        raise UsageError(
            f"{self.name} has no parameter {key!r}; its parameters are {', '.join(p.name for p in self.params)}"
        )


def normalize(name: str) -> str:
    """The lookup key of a name: case-insensitive, ``-`` and ``_`` alike, spaces ignored."""
    return name.strip().lower().replace("-", "_").replace(" ", "_")


# --------------------------------------------------------------------------- bound activation


class Activation:
    """A registry record bound to parameter values: what :func:`get` returns.

    ``forward(x)`` and ``derivative(x)`` take a float32 or float64
    ``torch.Tensor`` of any shape and return a tensor of the same shape and dtype.
    """

    __slots__ = ("spec", "params")

    def __init__(self, spec: ActivationSpec, params: Mapping[str, Any] | None = None):
        values: dict[str, Any] = {p.name: p.default for p in spec.params}
        for key, value in (params or {}).items():
            values[key] = spec.param(key).validate(value)
        if spec.check is not None:
            problem = spec.check(values)
            if problem:
                raise UsageError(f"{spec.name}: {problem}")
        self.spec = spec
        self.params: Mapping[str, Any] = MappingProxyType(values)

    # -- identity
    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def label(self) -> str:
        """The name with non-default parameters, e.g. ``elu(alpha=2)``."""
        changed = {
            p.name: self.params[p.name]
            for p in self.spec.params
            if not _same(self.params[p.name], p.default)
        }
        if not changed:
            return self.name
        inner = ", ".join(f"{k}={format_param(v, round_trip=True)}" for k, v in changed.items())
        return f"{self.name}({inner})"

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={format_param(v, round_trip=True)}" for k, v in self.params.items())
        return f"<Activation {self.name}({inner})>"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Activation)
            and other.spec is self.spec
            and all(_same(other.params[k], v) for k, v in self.params.items())
        )

    def __hash__(self) -> int:
        values = tuple(format_param(v, round_trip=True) for v in self.params.values())
        return hash((self.spec.name, values))

    def with_params(self, **params: Any) -> Activation:
        """A copy with some parameters changed."""
        return Activation(self.spec, {**self.params, **params})

    # -- the function
    def forward(self, x: Any) -> Any:
        """f(x), element-wise (maxout: its 1-D unit)."""
        return self.spec.forward(x, **self.params)

    __call__ = forward

    def derivative(self, x: Any) -> Any:
        """The analytic f′(x), written by hand; kinks use :attr:`kinks`' values."""
        return self.spec.derivative(x, **self.params)

    def param_derivative(self, x: Any, key: str) -> Any:
        """∂f/∂key at x (element-wise), written by hand; a :class:`UsageError` where the record has none."""
        fn = self.spec.param_derivatives.get(key)
        if fn is None:
            self.spec.param(key)  # an unknown parameter is named as such
            raise UsageError(f"{self.name} has no derivative with respect to {key!r}")
        return fn(x, **self.params)

    @property
    def symbolic(self) -> str:
        """f in the formula grammar at these parameters' names ("" when the record gives none)."""
        s = self.spec.symbolic
        return s(self.params) if callable(s) else s

    @property
    def kinks(self) -> tuple[Kink, ...]:
        """Points where f is not differentiable, with the value f′ takes there."""
        k = self.spec.kinks
        return tuple(k(self.params) if callable(k) else k)

    @property
    def properties(self) -> Properties | None:
        """The declared properties at these parameters; None when the record declares none.

        ``actviz.facts.audit.properties_of`` gives the declared or else the measured ones.
        """
        p = self.spec.properties
        if p is None:
            return None
        return p(self.params) if callable(p) else p

    @property
    def declares_properties(self) -> bool:
        return self.spec.properties is not None

    @property
    def xscale(self) -> float:
        s = self.spec.xscale
        return float(s(self.params) if callable(s) else s)

    @property
    def formula(self) -> str:
        """f in plain text, at these parameters."""
        f = self.spec.formula
        return f(self.params) if callable(f) else f

    @property
    def derivative_formula(self) -> str:
        """f′ in plain text, at these parameters."""
        f = self.spec.derivative_formula
        return f(self.params) if callable(f) else f


def params_json(act: Activation) -> dict[str, Any]:
    """``act``'s parameter values as JSON data."""
    return {k: jsonable(v) for k, v in act.params.items()}


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # tensors
        return False


# --------------------------------------------------------------------------- the registry

_REGISTRY: dict[str, ActivationSpec] = {}
_LOOKUP: dict[str, str] = {}  # normalised name or alias -> canonical name
_plugins_loaded = False
#: the plugin being imported (an ``ACTVIZ_PLUGINS`` entry or an entry point), while it is
_importing: list[str] = []
#: modules whose import registers entries, imported on the first lookup.  The registry
#: imports none of its users: the package root (``actviz/__init__.py``) names the
#: built-in entries here.
_SOURCES: list[str] = []


def add_source(module: str) -> None:
    """Have the module named ``module`` imported (registering its entries) before the first lookup."""
    if module not in _SOURCES:
        _SOURCES.append(module)


def _ensure_loaded() -> None:
    import importlib

    while _SOURCES:
        importlib.import_module(_SOURCES.pop(0))


def register(spec: ActivationSpec | None = None, /, *, replace: bool = False, **fields: Any) -> ActivationSpec:
    """Add an activation to the registry and return its record.

    Either pass an :class:`ActivationSpec`, or its fields as keywords::

        import torch, actviz
        actviz.register(
            name="absolute",
            forward=torch.abs,
            derivative=lambda x: torch.where(x.isnan(), x, torch.sign(x)),
            formula="|x|",
            kinks=[actviz.Kink(0.0, 0.0)],
        )

    Every command (``show``, ``table``, ``check``, ``plot``, ``compare``) then
    works on it.  Without ``properties`` the record declares none, and reports
    show the measured ones.  A name or alias already taken is an error unless
    ``replace=True``.
    """
    _ensure_loaded()
    if spec is None:
        spec = ActivationSpec(**fields)
    elif fields:
        raise TypeError("pass either an ActivationSpec or its fields, not both")
    keys = [spec.name, *map(normalize, spec.aliases)]
    taken = [(k, _LOOKUP[k]) for k in keys if k in _LOOKUP]
    if taken and not replace:
        key, owner = taken[0]
        raise ValueError(f"{key!r} is already registered (as {owner!r}); pass replace=True")
    for _, owner in taken:
        if owner in _REGISTRY:
            unregister(owner)
    if _importing:  # an ACTVIZ_PLUGINS module or an entry point: its functions may not end the program
        spec = _guarded(spec, _importing[-1])
    _REGISTRY[spec.name] = spec
    for key in keys:
        _LOOKUP[key] = spec.name
    return spec


def unregister(name: str) -> None:
    """Remove an activation (by any of its names) from the registry."""
    spec = get_spec(name)
    del _REGISTRY[spec.name]
    for key in [k for k, v in _LOOKUP.items() if v == spec.name]:
        del _LOOKUP[key]


def _load_plugins() -> None:
    """Import modules named in ``ACTVIZ_PLUGINS`` and the ``actviz.activations`` entry points."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    import os
    import sys

    items = [s.strip() for s in os.environ.get("ACTVIZ_PLUGINS", "").split(",") if s.strip()]
    if items and "" not in sys.path and os.getcwd() not in sys.path:
        # `python -m actviz` finds modules in the current directory; the `actviz` script must too.
        # Appended, so that a file in the current directory never shadows an installed module.
        sys.path.append(os.getcwd())
    for item in items:
        _importing.append(item)
        try:
            _import_plugin(item)
        except (Exception, SystemExit) as exc:  # a broken plugin is the user's error, told in one line
            why = f"it {_exit_text(exc)}" if isinstance(exc, SystemExit) else (str(exc) or type(exc).__name__)
            raise ActvizError(f"could not load plugin {item!r} from ACTVIZ_PLUGINS: {why}") from None
        finally:
            _importing.pop()
    try:
        from importlib.metadata import entry_points

        for ep in entry_points(group="actviz.activations"):
            _importing.append(f"entry point {ep.name}")
            try:
                ep.load()
            finally:
                _importing.pop()
    except (Exception, SystemExit):  # pragma: no cover - a broken third-party package must not break actviz
        pass


def _exit_text(exc: SystemExit) -> str:
    """``called exit(7)``: what a plugin that raised SystemExit did."""
    return "called exit()" if exc.code is None else f"called exit({exc.code!r})"


class PluginExit(ActvizError):
    """A plugin's function raised SystemExit (``exit(3)`` in its forward): one error naming it, exit 1.

    ``problem`` says what it did without the activation's name (``forward called exit(3) (plugin 'p.py')``).
    """

    def __init__(self, name: str, problem: str):
        super().__init__(f"activation {name!r} is broken: {problem}")
        self.problem = problem


#: the fields of a record that hold the plugin's own functions
_CALLABLE_FIELDS = ("forward", "derivative", "formula", "derivative_formula", "kinks", "properties",
                    "xscale", "check", "symbolic")


def _guarded(spec: ActivationSpec, plugin: str) -> ActivationSpec:
    """``spec`` with each of its functions turning SystemExit into :class:`PluginExit`."""
    import dataclasses
    import functools

    def guard(fn: Callable[..., Any], what: str) -> Callable[..., Any]:
        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except SystemExit as exc:
                raise PluginExit(spec.name, f"{what} {_exit_text(exc)} (plugin {plugin!r})") from None

        return call

    changes = {f: guard(getattr(spec, f), f) for f in _CALLABLE_FIELDS if callable(getattr(spec, f))}
    return dataclasses.replace(spec, **changes)


def _import_plugin(item: str) -> None:
    """Import one ``ACTVIZ_PLUGINS`` entry: a ``.py`` file or a module name; special files are refused.

    A file is read with :func:`~actviz.core.files.read_regular` (a FIFO, device or socket is refused,
    never waited on); a module found on the path is checked the same way before it is imported.
    """
    import importlib
    import importlib.util
    import os

    from actviz.core.files import not_regular, read_regular

    if item.endswith(".py"):
        mod_name = "actviz_plugin_" + os.path.splitext(os.path.basename(item))[0]
        source = read_regular(item)  # ActvizError: "cannot read 'x.py': it is a FIFO (named pipe), ..."
        spec = importlib.util.spec_from_file_location(mod_name, item)
        if spec is None:
            raise ImportError(f"cannot load {item}")
        module = importlib.util.module_from_spec(spec)
        exec(compile(source, item, "exec"), module.__dict__)
        return
    if os.sep in item or (os.altsep and os.altsep in item):
        raise ImportError("a path names a plugin file only if it ends in .py; otherwise give a module name")
    found = importlib.util.find_spec(item)
    origin = getattr(found, "origin", None)
    if found is not None and origin and getattr(found, "has_location", False):
        try:
            kind = not_regular(os.stat(origin).st_mode)
        except OSError:
            kind = None
        if kind is not None:
            raise ImportError(f"{origin!r} is {kind}, not a regular file")
    importlib.import_module(item)


def load_plugins() -> None:
    """Register user activations named by ``ACTVIZ_PLUGINS`` (modules or .py files, comma-separated)."""
    _ensure_loaded()
    _load_plugins()


def names() -> list[str]:
    """The canonical names of all registered activations, sorted."""
    _ensure_loaded()
    return sorted(_REGISTRY)


def specs() -> list[ActivationSpec]:
    """All records, sorted by name."""
    _ensure_loaded()
    return [_REGISTRY[n] for n in sorted(_REGISTRY)]


def suggest(name: str, n: int = 3) -> list[str]:
    """Registered names (canonical or aliases) closest to ``name``."""
    _ensure_loaded()
    return closest(normalize(name), _LOOKUP, n=n, cutoff=0.5)


def get_spec(name: str) -> ActivationSpec:
    """The record of ``name`` (aliases and spelling variants accepted)."""
    _ensure_loaded()
    if not isinstance(name, str):
        raise UsageError(f"an activation name must be a string, got {name!r}")
    canonical = _LOOKUP.get(normalize(name))
    if canonical is None:
        raise UnknownActivationError(
            f"unknown activation {name!r}{did_you_mean(suggest(name))} ('actviz list' shows them all)"
        )
    return _REGISTRY[canonical]


def get(name: str | Activation, /, **params: Any) -> Activation:
    """Look up an activation and bind it to parameters.

    >>> act = get("GELU", approximate="tanh")
    >>> act.name, act.params["approximate"]
    ('gelu', 'tanh')
    """
    if isinstance(name, Activation):
        return name.with_params(**params) if params else name
    return Activation(get_spec(name), params)


def parse_assignments(items: Iterable[str], *, qualified: bool) -> dict[str, dict[str, str]]:
    """Parse ``KEY=VALUE`` (or, with ``qualified``, ``NAME.KEY=VALUE``) strings.

    Returns ``{name: {key: text}}`` (name ``""`` when not qualified); values are
    validated later, by :class:`Activation`.
    """
    out: dict[str, dict[str, str]] = {}
    example = "NAME.KEY=VALUE, e.g. leaky_relu.negative_slope=0.2" if qualified else "KEY=VALUE, e.g. alpha=2"
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key or not value.strip():
            raise UsageError(f"malformed --param {item!r}: expected {example}")
        owner = ""
        if qualified:
            owner, dot, key = key.rpartition(".")
            if not dot or not owner or not key:
                raise UsageError(f"malformed --param {item!r}: expected {example}")
            owner = get_spec(owner).name
        out.setdefault(owner, {})[key] = value.strip()
    return out


def bind_all(names: Iterable[str], params: Iterable[str] = (), *, role: str = "asked for") -> list[Activation]:
    """Each named activation once, in order, with ``NAME.KEY=VALUE`` overrides applied.

    Every check comes first: an unknown name, a malformed or unknown parameter, or a
    parameter for an activation that is not among ``names`` (``role`` says what they are
    for in the message, e.g. "being plotted") is a :class:`UsageError`.
    """
    chosen = list(dict.fromkeys(get_spec(n).name for n in names))
    overrides = parse_assignments(params, qualified=True)
    for owner, texts in overrides.items():
        if owner not in chosen:
            raise UsageError(
                f"--param {owner}.{next(iter(texts))}=...: {owner} is not {role} ({', '.join(chosen)})"
            )
    return [bind(n, overrides.get(n, {})) for n in chosen]


def bind(name: str, texts: Mapping[str, str]) -> Activation:
    """``get(name)`` with parameters given as text (from the command line)."""
    spec = get_spec(name)
    values: dict[str, Any] = {}
    for key, text in texts.items():
        param = spec.param(key)
        try:
            values[key] = param.parse(text)
        except UsageError as exc:
            raise UsageError(f"{spec.name}: {exc}") from None
    return Activation(spec, values)


__all__ = [
    "Activation",
    "ActivationSpec",
    "Kink",
    "Param",
    "bind",
    "bind_all",
    "get",
    "get_spec",
    "load_plugins",
    "names",
    "normalize",
    "parse_assignments",
    "register",
    "specs",
    "suggest",
    "unregister",
]
