"""The data of the interactive report: every number the page shows, computed here.

>>> import actviz
>>> from actviz.render.report_data import build_report
>>> data = build_report([actviz.get("elu")])        # doctest: +SKIP

The page computes nothing: its JavaScript only picks among arrays computed here,
by the registry and the audit, at a grid of parameter values (:func:`param_grid`).
For each activation and each combination of its parameter values the data hold

* the curves on ``[XMIN, XMAX]``, widened per activation until its kinks lie inside with a
  margin (:func:`actviz.render.sampling.default_range`; relu6: [−8, 8]): f (the registry's forward), f′ (the registry's
  analytic derivative) and f″ (**autograd of the analytic f′**, in float64; it is
  left out, drawn as a gap, at the kinks and wherever its one-sided limits differ
  — ELU with α = 1 and softsign at 0 — where it does not exist);
* the kinks with the value f′ takes there by convention;
* the regions where a unit is dead (f′ exactly 0) or saturated (|f′| < ``SATURATED``
  on a side where the registry says f′ → 0, reaching the end of the plotted range);
* the formulas at those parameters, and the property row: the twelve declared
  properties (:data:`actviz.core.properties.KEYS`, each defined in
  :data:`~actviz.core.properties.DEFINITIONS`), whether the numerical measurement
  agrees with each, and the largest |analytic f′ − autograd f′|
  (:func:`actviz.facts.audit.audit`).

Numbers are rounded to a few significant digits (:func:`json_float`), NaN and ±inf
become ``None`` (a gap in a line).  torch and numpy are imported inside the functions.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from actviz.core.errors import UsageError
from actviz.core.formatting import format_param
from actviz.core.properties import DEFINITIONS, KEYS, Interval, format_value, jsonable
from actviz.core.registry import Activation, Param, params_json
from actviz.render.sampling import default_range

#: the plotted range of x (widened per activation to hold its kinks) and the number of grid points (kinks added)
XMIN, XMAX, POINTS = -6.0, 6.0, 481
#: |f′| below this on a saturating side counts as saturated (the gradient passed back is under 5 %)
SATURATED = 0.05
#: at most this many combinations of parameter values per activation
MAX_COMBINATIONS = 64

#: the grids of parameter values the page offers, by ``name.key``; the default and the
#: value asked for with ``-p`` are always added.  A parameter of a choice kind offers
#: every choice; any other parameter (maxout's pieces, a user's parameter) offers its
#: value only.
GRIDS: dict[str, tuple[float, ...]] = {
    "elu.alpha": tuple(round(0.1 * i, 1) for i in range(1, 31)),  # 0.1 … 3
    "leaky_relu.negative_slope": tuple(round(0.05 * i, 2) for i in range(-10, 11)),  # −0.5 … 0.5
    "prelu.a": tuple(round(0.1 * i, 1) for i in range(-5, 16)),  # −0.5 … 1.5
    "softplus.beta": (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0),
    "swish.beta": tuple(0.25 * i for i in range(0, 21)),  # 0 … 5
}


# --------------------------------------------------------------------------- parameter grids


def param_grid(act: Activation) -> list[tuple[Param, list[Any]]]:
    """For each parameter of ``act``: the values the page offers (``act``'s own included)."""
    out = []
    for p in act.spec.params:
        current = act.params[p.name]
        if p.kind == "choice":
            values: list[Any] = list(p.choices)
        elif p.kind == "float":
            values = []
            for v in (*GRIDS.get(f"{act.name}.{p.name}", ()), p.default, current):
                try:
                    v = p.validate(v)
                except UsageError:
                    continue
                if v not in values:
                    values.append(v)
            values.sort()
        else:
            values = [current]
        out.append((p, values))
    # keep the number of combinations bounded: thin the longest grid, keeping default and current
    while math.prod(len(v) for _, v in out) > MAX_COMBINATIONS:
        i = max(range(len(out)), key=lambda j: len(out[j][1]))
        p, values = out[i]
        keep = {_key(p.default), _key(act.params[p.name])}
        thinned = [v for j, v in enumerate(values) if j % 2 == 0 or _key(v) in keep]
        if len(thinned) == len(values):
            break
        out[i] = (p, thinned)
    return out


def _key(v: Any) -> str:
    return json.dumps(jsonable(v))


# --------------------------------------------------------------------------- numbers


def json_float(v: float, digits: int = 6) -> float | None:
    """A float for JSON with ``digits`` significant digits; None for NaN and ±inf (a gap)."""
    if not math.isfinite(v):
        return None
    return float(f"{v:.{digits}g}")


def _nums(values: Iterable[float], digits: int = 6) -> list[float | None]:
    return [json_float(float(v), digits) for v in values]


def value_label(v: Any) -> str:
    """A parameter value as the page shows it: shortest float form, Unicode minus, tuples in parentheses."""
    return format_param(v, unicode_minus=True, parens=True)


# --------------------------------------------------------------------------- curves


def _regions(x: Any, mask: Any) -> list[list[float]]:
    """The runs of ``mask`` (at least two points) as ``[x_first, x_last]`` intervals."""
    out = []
    start = None
    for i, m in enumerate(list(mask) + [False]):
        if m and start is None:
            start = i
        elif not m and start is not None:
            if i - start >= 2:
                out.append([float(x[start]), float(x[i - 1])])
            start = None
    return out


def _tail(mask: Any, from_left: bool) -> Any:
    """``mask`` restricted to its run touching the left (or right) end of the range."""
    import numpy as np

    m = np.asarray(mask, dtype=bool)
    out = np.zeros_like(m)
    idx = range(len(m)) if from_left else range(len(m) - 1, -1, -1)
    for i in idx:
        if not m[i]:
            break
        out[i] = True
    return out


def _derivatives(act: Activation, x: Any) -> tuple[Any, Any]:
    """The analytic f′ at ``x`` (a float64 numpy array) and f″, autograd of it (0 where f′ is constant)."""
    import numpy as np
    import torch

    xt = torch.as_tensor(x, dtype=torch.float64).clone().requires_grad_(True)
    with torch.enable_grad():
        d = act.derivative(xt)
        if d.requires_grad:
            (g,) = torch.autograd.grad(d.sum(), xt, allow_unused=True)
        else:  # f′ does not depend on x through a differentiable path: f″ = 0
            g = None
    f2 = np.zeros_like(x) if g is None else g.detach().numpy().astype(float)
    return d.detach().numpy().astype(float), f2


def _jumps(act: Activation, x: Any) -> Any:
    """Where the one-sided limits of f″ differ (a mask over ``x``): f″ does not exist there.

    f″ is taken 1e-9·max(1, |x|) to each side of every grid point; the two agree to about
    1e-8 wherever f″ is continuous, and differ by the jump where it is not.
    """
    import numpy as np

    eps = 1e-9 * np.maximum(1.0, np.abs(x))
    _, left = _derivatives(act, x - eps)
    _, right = _derivatives(act, x + eps)
    with np.errstate(invalid="ignore"):
        return ~np.isclose(left, right, rtol=1e-5, atol=1e-5) & np.isfinite(left) & np.isfinite(right)


def curves(act: Activation, *, saturation: str, xmin: float = XMIN, xmax: float = XMAX,
           points: int = POINTS) -> dict[str, Any]:
    """f, the analytic f′ and f″ (autograd of the analytic f′) on a grid with the kinks added.

    Lines are broken (None) where they jump: at a kink where the one-sided limits of f
    (or f′) differ, and at every kink for f″.  ``kinks`` gives, per kink in range, x,
    f(x) and the value f′ takes there by convention.
    """
    import numpy as np
    import torch

    kinks = sorted((k for k in act.kinks if xmin <= k.x <= xmax), key=lambda k: k.x)
    x = np.unique(np.concatenate([np.linspace(xmin, xmax, points), [k.x for k in kinks]]))
    d, f2 = _derivatives(act, x)
    with torch.no_grad():
        f = act.forward(torch.as_tensor(x, dtype=torch.float64)).numpy().astype(float)
    d_np = d

    kink_points = []
    f_line, d_line, f2_line = f.copy(), d_np.copy(), f2.copy()
    for k in kinks:
        i = int(np.searchsorted(x, k.x))
        eps = 1e-9 * max(1.0, abs(k.x))
        with torch.no_grad():
            around = torch.tensor([k.x - eps, k.x + eps], dtype=torch.float64)
            fl, fr = (float(v) for v in act.forward(around))
            dl, dr = (float(v) for v in act.derivative(around))
        if not math.isclose(fl, fr, rel_tol=1e-6, abs_tol=1e-6):
            f_line[i] = np.nan
        if not math.isclose(dl, dr, rel_tol=1e-6, abs_tol=1e-6):
            d_line[i] = np.nan
        f2_line[i] = np.nan
        kink_points.append({"x": json_float(float(k.x)), "f": json_float(float(f[i])),
                            "df": json_float(float(k.derivative))})

    f2_line[_jumps(act, x)] = np.nan  # where f″ jumps (ELU α = 1 at 0, softsign at 0) it does not exist
    dead = d_np == 0.0
    small = (np.abs(d_np) < SATURATED) & ~dead
    sat = np.zeros_like(small)
    if saturation in ("left", "both"):  # the run reaching the left end, on the negative side
        sat |= _tail(small | dead, True) & small & (x < 0)
    if saturation in ("right", "both"):
        sat |= _tail(small | dead, False) & small & (x > 0)
    return {
        "x": _nums(x, 7),
        "f": _nums(f_line),
        "df": _nums(d_line),
        "d2f": _nums(f2_line),
        "kinks": kink_points,
        "dead": _regions(x, dead),
        "saturated": _regions(x, sat),
    }


# --------------------------------------------------------------------------- property rows


def _sort_key(v: Any) -> Any:
    """A value the page's table sorts by: numbers for intervals, booleans and C^k."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, Interval):
        return [json_float(v.low) if math.isfinite(v.low) else ("-inf" if v.low < 0 else "inf"),
                json_float(v.high) if math.isfinite(v.high) else ("-inf" if v.high < 0 else "inf")]
    if v == "inf":
        return "inf"
    return v


def property_row(act: Activation) -> dict[str, Any]:
    """The table row of ``act``: the declared properties, agreement with measurement, autograd error."""
    from actviz.facts.audit import audit

    a = audit(act)
    disagree = [f.key for f in a.findings if f.key in KEYS]
    other = [f.message for f in a.findings if f.key not in KEYS]
    props = a.declared.as_dict()
    cells: dict[str, Any] = {}
    for key in KEYS:
        cells[key] = {"text": format_value(props[key]), "sort": _sort_key(props[key]),
                      "json": jsonable(props[key]), "agrees": key not in disagree}
    return {
        "label": act.label,
        "params": params_json(act),
        "params_text": ", ".join(f"{k}={value_label(v)}" for k, v in act.params.items()),
        "cells": cells,
        "declared": act.declares_properties,
        "disagree": disagree,
        "problems": other,
        "autograd_max_error": json_float(a.autograd_max_error, 3),
        "ok": a.ok,
    }


# --------------------------------------------------------------------------- the report's data


def activation_data(act: Activation, *, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Everything the page shows of one activation, at every combination of its grid."""
    from actviz.core.registry import Activation as _Activation

    grid = param_grid(act)
    combos: dict[str, Any] = {}
    xs: list[list[Any]] = []
    bounds = []
    for indices in itertools.product(*(range(len(v)) for _, v in grid)):
        params = {p.name: offered[i] for (p, offered), i in zip(grid, indices)}
        try:
            bounds.append((indices, _Activation(act.spec, params)))
        except UsageError:  # a combination the record's cross-check rejects
            continue
    # one x range per activation: [XMIN, XMAX], widened until the kinks of every combination lie inside
    xmin, xmax = default_range([b for _, b in bounds], half_width=XMAX) if bounds else (XMIN, XMAX)
    for indices, bound in bounds:
        if progress is not None:
            progress(bound.label)
        row = property_row(bound)
        c = curves(bound, saturation=row["cells"]["saturation"]["json"], xmin=xmin, xmax=xmax)
        x = c.pop("x")
        try:  # identical x grids are stored once
            c["xi"] = xs.index(x)
        except ValueError:
            xs.append(x)
            c["xi"] = len(xs) - 1
        key = "|".join(map(str, indices))  # the page's controls hold these indices
        combos[key] = {
            "label": bound.label,
            "formula": bound.formula,
            "derivative_formula": bound.derivative_formula,
            "row": row,
            "curves": c,
        }
    controls = []
    for p, offered in grid:
        keys = [_key(v) for v in offered]
        controls.append({
            "key": p.name, "kind": p.kind, "doc": p.doc, "symbol": p.symbol,
            "values": [jsonable(v) for v in offered], "labels": [value_label(v) for v in offered],
            "default": keys.index(_key(p.default)) if _key(p.default) in keys else None,
            "initial": keys.index(_key(act.params[p.name])),  # the value asked for (-p), else the default
        })
    spec = act.spec
    return {
        "card": symbolic_card(act),
        "name": act.name,
        "aliases": list(spec.aliases),
        "summary": spec.summary,
        "reference": spec.reference,
        "latex": spec.latex,
        "kind": spec.kind,
        "params": controls,
        "initial": "|".join(str(c["initial"]) for c in controls),
        "range": [xmin, xmax],
        "x": xs,
        "combos": combos,
    }


def symbolic_card(act: Activation) -> dict[str, Any] | None:
    """The parts of :func:`actviz.facts.card.card` a panel shows (MathML of f, f′, f″ and the facts), or None.

    None where the record gives no symbolic form or sympy fails on it: the panel then has no card.
    """
    if not act.symbolic:
        return None
    try:
        from actviz.facts.card import card
        from actviz.render.cards import facts

        c = card(act)
    except Exception:  # sympy's failure on one formula must not cost the page
        return None
    return {"mathml": {k: c[k]["mathml"] for k in ("f", "f′", "f″")}, "facts": facts(c)}


def build_report(
    acts: Sequence[Activation],
    *,
    stores: Sequence[Mapping[str, Any]] = (),
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, Any]:
    """The data of the page: every activation at its grid, and the training ``stores``.

    ``stores`` come from :func:`actviz.render.report_training.training_data`.  An activation that
    breaks its contract (a broken plugin) is left out and named under ``broken``.
    """
    from actviz._version import __version__

    from actviz.facts.audit import BrokenActivation, check_contract

    broken: list[dict[str, str]] = []
    usable = []
    for act in acts:  # a broken plugin is left out and named; the others are still reported
        try:
            check_contract(act)
            usable.append(act)
        except BrokenActivation as exc:
            broken.append({"label": act.label, "problem": str(exc)})
    acts = usable
    grids = [param_grid(a) for a in acts]
    total = sum(math.prod(len(v) for _, v in g) for g in grids)
    done = 0
    out = []
    for act in acts:
        def step(label: str) -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done, total, label)

        try:
            out.append(activation_data(act, progress=step))
        except BrokenActivation as exc:  # at a parameter value of the grid
            broken.append({"label": act.label, "problem": str(exc)})
    return {
        "version": __version__,
        # the overlay's range: every activation's own range inside it
        "range": [min([XMIN] + [a["range"][0] for a in out]), max([XMAX] + [a["range"][1] for a in out])],
        "saturated_below": SATURATED,
        "keys": list(KEYS),
        "definitions": dict(DEFINITIONS),
        "activations": out,
        "training": list(stores),
        "broken": broken,
    }


__all__ = [
    "GRIDS",
    "MAX_COMBINATIONS",
    "POINTS",
    "SATURATED",
    "XMAX",
    "XMIN",
    "activation_data",
    "build_report",
    "curves",
    "json_float",
    "param_grid",
    "value_label",
    "property_row",
]
