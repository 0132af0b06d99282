"""Which activation parameters learn in training: the ``--learn`` setting, parsed and checked.

``--learn NAME.KEY[:layer|:unit][,NAME.KEY…]`` names numeric parameters of activations that
become trainable: ``layer`` (the default) keeps one value per hidden layer, ``unit`` one value
per hidden unit.  Parameters the registry marks ``learnable`` (PReLU's slope) learn per layer
without being named.  The setting is part of the training configuration
(:attr:`~actviz.bench.config.TrainConfig.learn`) as its canonical text, e.g.
``elu.alpha:layer,swish.beta:unit``: sorted, every entry with its granularity, so equal
settings give equal run keys.

Importing this module is cheap (no torch); :func:`check_against` looks names up in the registry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from actviz.core.errors import UsageError

__all__ = ["GRANULARITIES", "LearnEntry", "canonical", "check_against", "learnable_params", "parse"]

#: ``layer``: one value per hidden layer; ``unit``: one value per hidden unit of each layer
GRANULARITIES = ("layer", "unit")

#: (activation name, parameter key, granularity)
LearnEntry = tuple[str, str, str]


def parse(text: str) -> list[LearnEntry]:
    """The entries of a ``--learn`` text (syntax only); a :class:`UsageError` names the bad entry."""
    from actviz.core.registry import normalize
    from actviz.core.suggest import closest, did_you_mean

    out: dict[tuple[str, str], str] = {}
    for item in (t.strip() for t in str(text).split(",")):
        if not item:
            if str(text).strip():
                raise UsageError(f"--learn takes NAME.KEY[:layer|:unit] entries separated by commas, got {text!r}")
            continue
        target, _, gran = item.partition(":")
        gran = gran.strip().lower() or "layer"
        if gran not in GRANULARITIES:
            raise UsageError(f"--learn {item!r}: the granularity must be layer or unit, got {gran!r}"
                             f"{did_you_mean(closest(gran, GRANULARITIES))}")
        name, dot, key = target.strip().partition(".")
        if not dot or not name.strip() or not key.strip():
            raise UsageError(f"--learn {item!r}: name a parameter as NAME.KEY, e.g. swish.beta or elu.alpha:unit")
        out[(normalize(name.strip()), key.strip())] = gran
    return [(n, k, g) for (n, k), g in out.items()]


def canonical(entries: Iterable[LearnEntry]) -> str:
    """The setting's one text: entries sorted, each with its granularity (``""`` for none)."""
    return ",".join(f"{n}.{k}:{g}" for n, k, g in sorted(set(entries)))


def check_against(entries: Sequence[LearnEntry], acts: Sequence[Any]) -> list[LearnEntry]:
    """The entries with canonical activation names, each checked against the activations compared.

    An unknown activation, one not in the comparison, an unknown key, a key that is not a
    number (or a list of numbers) or that has no hand-written ∂f/∂key: one :class:`UsageError`.
    """
    from actviz.core.registry import get_spec
    from actviz.core.suggest import closest, did_you_mean

    out = []
    compared = {a.name: a for a in acts}
    for name, key, gran in entries:
        try:
            spec = get_spec(name)
        except UsageError as exc:  # an unknown activation, with suggestions
            raise UsageError(f"--learn {name}.{key}: {exc}") from None
        if spec.name not in compared:
            raise UsageError(f"--learn {name}.{key}: {spec.name} is not among the activations compared "
                             f"({', '.join(compared)}); name it too")
        keys = [p.name for p in spec.params]
        if key not in keys:
            hint = did_you_mean(closest(key, keys)) or (f"; its parameters are {', '.join(keys)}" if keys
                                                        else f"; {spec.name} has no parameters")
            raise UsageError(f"--learn {name}.{key}: {spec.name} has no parameter {key!r}{hint}")
        param = spec.param(key)
        if param.kind not in ("float", "floats") or spec.kind != "elementwise":
            raise UsageError(f"--learn {name}.{key}: {key} is not a number that can learn "
                             f"({'a choice' if param.kind == 'choice' else spec.kind + ' unit'})")
        if key not in spec.param_derivatives:
            raise UsageError(f"--learn {name}.{key}: {spec.name} gives no ∂f/∂{key}, so {key} cannot learn")
        out.append((spec.name, key, gran))
    return out


def learnable_params(spec: Any, learn: str) -> dict[str, str]:
    """Parameter key → granularity of the parameters of ``spec`` that learn under the setting ``learn``.

    The registry's ``learnable`` parameters learn per layer unless the setting says otherwise.
    """
    if spec.kind != "elementwise":
        return {}
    out = {p.name: "layer" for p in spec.params if p.learnable}
    for name, key, gran in (parse(learn) if learn else []):
        if name == spec.name:
            out[key] = gran
    return out
