"""The interactive report (``actviz report``): one self-contained HTML page.

>>> from actviz.render.report import build_report, report_html
>>> data = build_report(["elu", "relu"])            # doctest: +SKIP
>>> html = report_html(data)                       # doctest: +SKIP

:func:`build_report` returns plain data; :func:`report_html` turns it into a
page.  The page computes nothing: every number in it was computed here, by the
registry and the audit, at a grid of parameter values (:func:`param_grid`), and
the page's JavaScript only picks among those precomputed arrays.  For each
activation and each combination of its parameter values the data hold

* the curves on ``[XMIN, XMAX]``: f (the registry's forward), f′ (the registry's
  analytic derivative) and f″ (**autograd of the analytic f′**, in float64; it is
  left out, drawn as a gap, at the kinks, where it does not exist);
* the kinks with the value f′ takes there by convention;
* the regions where a unit is dead (f′ exactly 0) or saturated (|f′| < ``SATURATED``
  on a side where the registry says f′ → 0, reaching the end of the plotted range);
* the formulas at those parameters, and the property row: the twelve declared
  properties of SPEC §2, whether the measurement agrees with each, and the
  largest |analytic f′ − autograd f′| (:func:`actviz.facts.audit.audit`).

With stores of ``actviz compare`` (``--results DIR``) the data also hold, per
configuration, the statistics of the store's summary, the training curves
(mean over seeds with a band from the lowest to the highest seed) and the
diagnostics of the last epoch.  Both the store layout with one configuration
per file (``summary`` a list of activation rows) and the one with
``config_label`` and a list of configurations are read.

The plots are drawn by plotly.js, inlined once into the page; the page makes
no network request.  plotly and torch are imported inside the functions.
"""

from __future__ import annotations

import html
import itertools
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from actviz.core.errors import ActvizError, UsageError
from actviz.core.files import check_output_file, read_regular, write_atomic
from actviz.core.formatting import format_param
from actviz.core.properties import DEFINITIONS, KEYS, Interval, format_value, jsonable
from actviz.core.registry import Activation, Param, params_json

#: the plotted range of x and the number of grid points (kinks are added)
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

_PRIME = "\u2032"


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


def _num(v: float, digits: int = 6) -> float | None:
    """A float for JSON with ``digits`` significant digits; None for NaN and ±inf (a gap)."""
    if not math.isfinite(v):
        return None
    return float(f"{v:.{digits}g}")


def _nums(values: Iterable[float], digits: int = 6) -> list[float | None]:
    return [_num(float(v), digits) for v in values]


def _fmt(v: Any) -> str:
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
    xt = torch.as_tensor(x, dtype=torch.float64).clone().requires_grad_(True)
    with torch.enable_grad():
        d = act.derivative(xt)
        if d.requires_grad:
            (g,) = torch.autograd.grad(d.sum(), xt, allow_unused=True)
        else:  # f′ does not depend on x through a differentiable path: f″ = 0
            g = None
    with torch.no_grad():
        f = act.forward(torch.as_tensor(x, dtype=torch.float64)).numpy().astype(float)
    d_np = d.detach().numpy().astype(float)
    f2 = np.zeros_like(x) if g is None else g.detach().numpy().astype(float)

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
        kink_points.append({"x": _num(float(k.x)), "f": _num(float(f[i])), "df": _num(float(k.derivative))})

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
        return [_num(v.low) if math.isfinite(v.low) else ("-inf" if v.low < 0 else "inf"),
                _num(v.high) if math.isfinite(v.high) else ("-inf" if v.high < 0 else "inf")]
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
        "params_text": ", ".join(f"{k}={_fmt(v)}" for k, v in act.params.items()),
        "cells": cells,
        "declared": act.declares_properties,
        "disagree": disagree,
        "problems": other,
        "autograd_max_error": _num(a.autograd_max_error, 3),
        "ok": a.ok,
    }


# --------------------------------------------------------------------------- the report's data


def activation_data(act: Activation, *, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Everything the page shows of one activation, at every combination of its grid."""
    from actviz.core.registry import Activation as _Activation

    grid = param_grid(act)
    combos: dict[str, Any] = {}
    xs: list[list[Any]] = []
    for indices in itertools.product(*(range(len(v)) for _, v in grid)):
        params = {p.name: offered[i] for (p, offered), i in zip(grid, indices)}
        try:
            bound = _Activation(act.spec, params)
        except UsageError:  # a combination the record's cross-check rejects
            continue
        if progress is not None:
            progress(bound.label)
        row = property_row(bound)
        c = curves(bound, saturation=row["cells"]["saturation"]["json"])
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
            "values": [jsonable(v) for v in offered], "labels": [_fmt(v) for v in offered],
            "default": keys.index(_key(p.default)) if _key(p.default) in keys else None,
            "initial": keys.index(_key(act.params[p.name])),  # the value asked for (-p), else the default
        })
    spec = act.spec
    return {
        "name": act.name,
        "aliases": list(spec.aliases),
        "summary": spec.summary,
        "reference": spec.reference,
        "latex": spec.latex,
        "kind": spec.kind,
        "params": controls,
        "initial": "|".join(str(c["initial"]) for c in controls),
        "x": xs,
        "combos": combos,
    }


def build_report(
    acts: Sequence[Activation],
    *,
    stores: Sequence[Mapping[str, Any]] = (),
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, Any]:
    """The data of the page: every activation at its grid, and the training stores (from :func:`load_results`)."""
    from actviz import __version__

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
        "range": [XMIN, XMAX],
        "saturated_below": SATURATED,
        "keys": list(KEYS),
        "definitions": dict(DEFINITIONS),
        "activations": out,
        "training": list(stores),
        "broken": broken,
    }


# --------------------------------------------------------------------------- compare stores


def load_results(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A ``compare`` store (a directory with results.json, or the file itself), ready for the page."""
    p = Path(path)
    f = p / "results.json" if os.path.isdir(p) else p
    if not os.path.lexists(p):
        raise UsageError(f"--results {str(p)!r}: no such directory (give the --out DIR of 'actviz compare')")
    if not os.path.lexists(f):
        raise UsageError(f"--results {str(p)!r}: no results.json in it (is it the --out DIR of 'actviz compare'?)")
    raw = read_regular(f)  # a FIFO or device is refused, never waited on
    try:
        store = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ActvizError(f"cannot read {str(f)!r}: {reason}") from None
    if not isinstance(store, dict) or not isinstance(store.get("runs"), list):
        raise ActvizError(f"{str(f)!r} is not a results.json of 'actviz compare' (no list of runs)")
    try:
        return training_data(store, source=str(p))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
        raise ActvizError(f"{str(f)!r}: unexpected content ({type(exc).__name__}: {exc})") from None


_CONFIG_KEYS = ("epochs", "hidden", "depth", "lr", "batch_size", "optimizer", "init")


def _config_label(config: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={config[k]}" for k in _CONFIG_KEYS if k in config and config[k] is not None)


def training_data(store: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    """Per configuration of a ``compare`` store: statistics, curves with seed bands, diagnostics."""
    runs = list(store["runs"])
    summary = store.get("summary") or []
    top = store.get("config") or {}
    if summary and isinstance(summary, list) and isinstance(summary[0], dict) and "activations" in summary[0]:
        configs = [dict(c) for c in summary]
    else:  # one configuration per file: summary is the list of activation rows
        configs = [{"config_label": _config_label(top), "config": top, "activations": list(summary),
                    "pairs": [], "verdicts": [], "wins": {}}]
    single = len(configs) == 1
    out = []
    for i, cfg in enumerate(configs):
        label = cfg.get("config_label") or _config_label(cfg.get("config") or top) or f"configuration {i + 1}"
        if single:
            mine = runs
        else:
            mine = [r for r in runs if r.get("config_label") == cfg.get("config_label")]
        out.append({
            "id": f"cfg{i}",
            "label": label,
            "config": {k: v for k, v in (cfg.get("config") or top).items() if not isinstance(v, (list, dict))},
            "rows": [_stat_row(r) for r in cfg.get("activations", [])],
            "pairs": [_pair_row(p) for p in cfg.get("pairs", []) or []],
            "verdicts": [v.get("text", "") if isinstance(v, dict) else str(v) for v in cfg.get("verdicts", []) or []],
            "curves": _training_curves(mine),
            "diagnostics": _diagnostics(mine),
            "statuses": _statuses(mine),
        })
    return {
        "source": source,
        "created": store.get("created"),
        "environment": {k: v for k, v in (store.get("environment") or {}).items()
                        if isinstance(v, (str, int, float)) and not isinstance(v, bool)},
        "target": top.get("target_accuracy"),
        "configurations": out,
    }


def _ci(v: Any) -> list[float] | None:
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(t, (int, float)) for t in v):
        return [_num(float(v[0]), 5), _num(float(v[1]), 5)]
    return None


def _opt(v: Any, digits: int = 5) -> float | None:
    return _num(float(v), digits) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _stat_row(r: Mapping[str, Any]) -> dict[str, Any]:
    n = r.get("n", r.get("completed"))
    return {
        "label": r.get("label", "?"),
        "activation": r.get("activation", ""),
        "n": n,
        "runs": r.get("runs"),
        "diverged": r.get("diverged"),
        "test_acc_mean": _opt(r.get("test_acc_mean")),
        "test_acc_std": _opt(r.get("test_acc_std"), 3),
        "test_acc_ci": _ci(r.get("test_acc_ci")),
        "train_loss_mean": _opt(r.get("train_loss_mean")),
        "train_loss_std": _opt(r.get("train_loss_std"), 3),
        "train_loss_ci": _ci(r.get("train_loss_ci")),
        "epochs_to_target": _opt(r.get("epochs_to_target"), 3),
        "reached_target": r.get("reached_target"),
        "dead": _opt(r.get("dead"), 3),
        "saturated": _opt(r.get("saturated"), 3),
    }


def _pair_row(p: Mapping[str, Any]) -> dict[str, Any]:
    return {"a": p.get("a"), "b": p.get("b"), "diff_mean": _opt(p.get("diff_mean"), 4),
            "ci": _ci(p.get("ci")), "p": _opt(p.get("p"), 3), "p_holm": _opt(p.get("p_holm"), 3)}


def _by_label(runs: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = {}
    for r in runs:
        out.setdefault(r["label"], []).append(r)
    return out


def _training_curves(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per label and metric: epochs, the mean over seeds, and the lowest and highest seed."""
    out: dict[str, Any] = {}
    for label, group in _by_label(runs).items():
        usable = [r for r in group if r.get("history")]
        n_epochs = max((len(r["history"]) for r in usable), default=0)
        series: dict[str, Any] = {"epochs": [], "seeds": len(usable)}
        for metric in ("test_acc", "train_loss", "train_acc", "test_loss"):
            mean, lo, hi = [], [], []
            for e in range(n_epochs):
                vals = [r["history"][e].get(metric) for r in usable if len(r["history"]) > e]
                vals = [float(v) for v in vals if isinstance(v, (int, float)) and math.isfinite(v)]
                mean.append(_num(sum(vals) / len(vals), 5) if vals else None)
                lo.append(_num(min(vals), 5) if vals else None)
                hi.append(_num(max(vals), 5) if vals else None)
            series[metric] = {"mean": mean, "low": lo, "high": hi}
        series["epochs"] = list(range(1, n_epochs + 1))
        out[label] = series
    return out


def _layer_means(rows: Sequence[Sequence[Any]]) -> list[float | None]:
    depth = max((len(r) for r in rows), default=0)
    out = []
    for i in range(depth):
        vals = [float(r[i]) for r in rows if len(r) > i and isinstance(r[i], (int, float))]
        out.append(_num(sum(vals) / len(vals), 4) if vals else None)
    return out


def _diagnostics(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per label: dead and saturated fractions per hidden layer, gradient norm per layer (last epoch, mean over seeds)."""
    out: dict[str, Any] = {}
    for label, group in _by_label(runs).items():
        finals = [r["history"][-1].get("diagnostics") or {} for r in group
                  if r.get("history") and r.get("status") != "diverged"]
        out[label] = {key: _layer_means([d.get(key) or [] for d in finals])
                      for key in ("dead", "saturated", "grad_norm")}
    return out


def _statuses(runs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in runs:
        s = out.setdefault(r["label"], {})
        s[r.get("status", "?")] = s.get(r.get("status", "?"), 0) + 1
    return out


# --------------------------------------------------------------------------- the page


def plotly_js() -> str:
    """plotly.js, minified, as shipped inside the plotly package (no network)."""
    from importlib.resources import files

    try:
        return (files("plotly") / "package_data" / "plotly.min.js").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:  # pragma: no cover - a broken install
        raise ActvizError(f"plotly.js not found ({exc}); reinstall actviz's dependencies (scripts/setup)") from None


def _json_script(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # a JSON text inside <script> must not close it or open a comment
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


_SHY = "\u00ad"  # a soft hyphen: narrow columns may break the header there
_SHORT = {
    "range": "range", "derivative_range": "f′ range", "monotonic": f"mono{_SHY}tonic", "continuity": "Cᵏ",
    "derivative_monotonic": f"f′ mono{_SHY}tonic", "identity_at_origin": "identity at 0",
    "symmetry": f"sym{_SHY}metry", "zero_centered": "zero-centred", "saturation": f"satu{_SHY}ration",
    "vanishing_gradient": f"vanish{_SHY}ing ∇", "exploding_gradient": f"explod{_SHY}ing ∇", "dead_neurons": "dead units",
}


def _table_html(data: Mapping[str, Any]) -> str:
    head = ['<th data-col="activation" data-type="text" title="canonical name">activation</th>',
            '<th data-col="params" data-type="text" title="parameter values of this row">parameters</th>']
    for key in KEYS:
        head.append(f'<th data-col="{key}" data-type="{_col_type(key)}" title="{_e(key)}: '
                    f'{_e(DEFINITIONS[key])}">{_e(_SHORT[key])}</th>')
    head.append('<th data-col="agreement" data-type="text" title="does the numerical measurement agree '
                'with every declared property? (measured only: the entry declares none)">declared = measured</th>')
    head.append('<th data-col="autograd" data-type="number" title="largest |analytic f′ − autograd f′| '
                'in float64 over thousands of points, kinks included">autograd error</th>')
    rows = []
    for act in data["activations"]:
        combo = act["combos"][act["initial"]]
        rows.append(f'<tr data-activation="{_e(act["name"])}">' + _row_cells(act["name"], combo["row"]) + "</tr>")
    return ('<table id="properties"><thead><tr>' + "".join(head) + "</tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def _col_type(key: str) -> str:
    return "interval" if key in ("range", "derivative_range") else "number" if key == "continuity" else "text"


def _row_cells(name: str, row: Mapping[str, Any]) -> str:
    """The cells of a property row as the page first shows it (the JavaScript redraws the same)."""
    cells = [f'<td data-col="activation" data-sort="{_e(name)}"><a href="#act-{_e(name)}">{_e(name)}</a></td>',
             f'<td data-col="params" data-sort="{_e(row["params_text"])}">{_e(row["params_text"]) or "—"}</td>']
    for key in KEYS:
        c = row["cells"][key]
        cls = "" if c["agrees"] else ' class="disagree"'
        cells.append(f'<td data-col="{key}"{cls} data-sort="{_e(json.dumps(c["sort"]))}">{_e(c["text"])}</td>')
    agree = "✓ agree" if not row["disagree"] else "✗ " + ", ".join(row["disagree"])
    if not row["declared"]:
        agree = "measured only"
    cells.append(f'<td data-col="agreement" data-sort="{_e(agree)}">{_e(agree)}</td>')
    err = row["autograd_max_error"]
    cells.append(f'<td data-col="autograd" data-sort="{err}">{_e(_err_text(err))}</td>')
    return "".join(cells)


def _err_text(err: float | None) -> str:
    if err is None:
        return "∞"
    return "0" if err == 0 else f"{err:.1e}"


def _panel_html(act: Mapping[str, Any]) -> str:
    name = act["name"]
    combo = act["combos"][act["initial"]]
    controls = []
    for i, p in enumerate(act["params"]):
        pid = f"ctl-{name}-{p['key']}"
        label = f'{_e(p["key"])}{" (" + _e(p["symbol"]) + ")" if p["symbol"] else ""}'
        title = f' title="{_e(p["doc"])}"' if p["doc"] else ""
        if len(p["values"]) < 2:
            controls.append(f'<div class="control fixed"{title}><label>{label}</label> '
                            f'<span class="value">{_e(p["labels"][0])}</span> '
                            f'<span class="note">(fixed in this report)</span></div>')
        elif p["kind"] == "choice":
            opts = "".join(f'<option value="{j}"{" selected" if j == p["initial"] else ""}>{_e(v)}</option>'
                           for j, v in enumerate(p["labels"]))
            controls.append(f'<div class="control"{title}><label for="{_e(pid)}">{label}</label> '
                            f'<select id="{_e(pid)}" data-param="{_e(name)}.{_e(p["key"])}" data-index="{i}">'
                            f"{opts}</select></div>")
        else:
            controls.append(f'<div class="control"{title}><label for="{_e(pid)}">{label}</label> '
                            f'<input type="range" id="{_e(pid)}" data-param="{_e(name)}.{_e(p["key"])}" '
                            f'data-index="{i}" min="0" max="{len(p["values"]) - 1}" step="1" '
                            f'value="{p["initial"]}"> <output for="{_e(pid)}">{_e(p["labels"][p["initial"]])}'
                            f"</output></div>")
    aliases = f' <span class="aliases">alias {", ".join(_e(a) for a in act["aliases"])}</span>' if act["aliases"] else ""
    ref = f'<p class="ref">Reference: {_e(act["reference"])}</p>' if act["reference"] else ""
    summary = f'<p class="summary">{_e(act["summary"])}</p>' if act["summary"] else ""
    return (
        f'<article class="panel" id="act-{_e(name)}" data-panel="{_e(name)}">'
        f"<h3>{_e(name)}{aliases}</h3>{summary}"
        f'<p class="formula"><span>f:</span> <code class="js-formula">{_e(combo["formula"])}</code></p>'
        f'<p class="formula"{"" if combo["derivative_formula"] else " hidden"}><span>f{_PRIME}:</span> '
        f'<code class="js-dformula">{_e(combo["derivative_formula"])}</code></p>'
        f'<div class="controls">{"".join(controls)}</div>'
        f'<div class="plot" id="plot-{_e(name)}"></div>{ref}</article>'
    )


def report_html(data: Mapping[str, Any]) -> str:
    """The page: plotly.js once, the data as JSON, the table and panels, the page's own script."""
    acts = data["activations"]
    names = [a["name"] for a in acts]
    picks = [n for n in ("relu", "gelu", "sigmoid", "tanh") if n in names][:3] or names[:3]
    overlay = "".join(
        f'<label><input type="checkbox" data-overlay="{_e(n)}"{" checked" if n in picks else ""}> {_e(n)}</label>'
        for n in names
    )
    training = ""
    if data["training"]:
        training = ('<section id="training"><h2>Training</h2><p class="note">From <code>actviz compare</code> '
                    "stores: mean over seeds, the band runs from the lowest to the highest seed; diagnostics "
                    "of the last epoch, mean over seeds.</p><div id=\"training-body\"></div></section>")
        nav_training = '<a href="#training">training</a>'
    else:
        nav_training = ""
    return _PAGE.format(
        version=_e(data["version"]),
        plotly=plotly_js().replace("</script", "<\\/script"),
        data=_json_script(data),
        style=_STYLE,
        script=_SCRIPT,
        count=len(acts),
        table=_table_html(data) + "".join(f'<p class="note broken">Left out: {_e(b["problem"])}</p>'
                                          for b in data.get("broken", ())),
        panels="".join(_panel_html(a) for a in acts),
        overlay=overlay,
        training=training,
        nav_training=nav_training,
        sat=_fmt(SATURATED),
        xmin=_fmt(XMIN),
        xmax=_fmt(XMAX),
    )


def check_output_path(path: str | os.PathLike[str]) -> Path:
    """Reject an output path that cannot be written, before any work (see :func:`check_output_file`)."""
    return check_output_file(path)


def write_report(data: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write the page atomically; returns the path."""
    return write_atomic(check_output_path(path), report_html(data).encode("utf-8"))


_STYLE = """
:root{--fg:#222;--muted:#666;--line:#ddd;--accent:#4C72B0;--bad:#C44E52}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0;background:#fafafa}
header{background:#fff;border-bottom:1px solid var(--line);padding:.8rem 1.2rem}
header h1{font-size:1.25rem;margin:0 0 .2rem}
header nav a{margin-right:1rem;color:var(--accent);text-decoration:none}
main{padding:0 1.2rem 2rem;max-width:1600px;margin:0 auto}
h2{font-size:1.15rem;margin:1.6rem 0 .5rem}
h3{font-size:1.05rem;margin:0 0 .3rem}
.note,.aliases,.ref,.summary{color:var(--muted);font-size:.88rem}
.aliases{font-weight:normal;margin-left:.4rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem;background:#f1f1f1;padding:0 .25rem;border-radius:3px;word-break:break-word}
.tablewrap{overflow-x:auto;background:#fff;border:1px solid var(--line);border-radius:6px}
#properties{border-collapse:collapse;font-size:.8rem;width:100%}
#properties th,#properties td{padding:.28rem .35rem;border-bottom:1px solid #eee;text-align:left;white-space:nowrap}
#properties th{cursor:pointer;user-select:none;background:#f4f6fa;position:sticky;top:0;white-space:normal;vertical-align:bottom;min-width:2.4rem;max-width:6rem;line-height:1.2}
#properties th[aria-sort=ascending]::after{content:" ▲"}
#properties th[aria-sort=descending]::after{content:" ▼"}
#properties td.disagree{color:var(--bad);font-weight:bold}
#properties tr:hover td{background:#f6f9ff}
#properties td[data-col=activation]{position:sticky;left:0;background:#fff;font-weight:600}
#properties td[data-col=params]{white-space:normal;min-width:7rem;max-width:12rem}
#properties td a{color:var(--accent);text-decoration:none}
.filterbar{display:flex;flex-wrap:wrap;gap:.6rem;align-items:center;margin:.4rem 0}
#filter{flex:1 1 16rem;max-width:34rem;padding:.35rem .5rem;font-size:.95rem;border:1px solid #bbb;border-radius:4px}
.panels{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,560px),1fr));gap:1rem}
.panel{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.8rem;min-width:0}
.formula{margin:.15rem 0;font-size:.9rem}
.formula span{display:inline-block;min-width:1.6rem;color:var(--muted)}
.controls{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;margin:.4rem 0}
.control label{font-weight:600;margin-right:.3rem}
.control input[type=range]{vertical-align:middle;width:10rem}
.control output,.control .value{font-family:ui-monospace,monospace}
.plot{height:460px;width:100%}
.legend{display:flex;flex-wrap:wrap;gap:.3rem 1rem;font-size:.85rem;color:var(--muted)}
.sw{display:inline-block;width:.9rem;height:.9rem;border-radius:2px;vertical-align:-2px;margin-right:.25rem}
#overlay .picks{display:flex;flex-wrap:wrap;gap:.2rem .9rem;margin:.4rem 0;font-size:.9rem}
#overlay-plot{height:440px;background:#fff;border:1px solid var(--line);border-radius:6px}
.stats{border-collapse:collapse;font-size:.85rem;background:#fff;margin:.4rem 0}
.stats th,.stats td{padding:.25rem .5rem;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
.stats th:first-child,.stats td:first-child{text-align:left}
.config{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.8rem;margin:.8rem 0}
.config .plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,480px),1fr));gap:.6rem}
.config .plots>div{height:340px}
.verdicts li{margin:.2rem 0}
.scrollx{overflow-x:auto;max-width:100%}
@media (max-width:600px){main{padding:0 .5rem 2rem}.plot{height:520px}.control input[type=range]{width:8rem}}
"""

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="actviz {version}">
<title>actviz report: {count} activation functions</title>
<style>{style}</style>
<script>{plotly}</script>
</head><body>
<header><h1>actviz: activation functions, verified</h1>
<nav><a href="#table">properties</a><a href="#overlay">overlay</a><a href="#activations">activations</a>{nav_training}</nav></header>
<main>
<section id="table"><h2>Properties</h2>
<p class="note">The twelve properties of each activation at the parameters shown, as the registry declares them;
a red cell is one where the numerical measurement disagrees. Click a column to sort it; type to filter
(words match anywhere in a row, <code>column=value</code> one column, e.g. <code>saturation=both</code>,
<code>dead=yes</code>).</p>
<div class="filterbar"><input id="filter" type="search" placeholder="filter, e.g. relu  or  monotonic=no" aria-label="filter the table">
<span id="shown" class="note"></span></div>
<div class="tablewrap">{table}</div>
</section>
<section id="overlay"><h2>Overlay</h2>
<p class="note">Pick activations to draw on one set of axes (each at the parameters chosen in its panel).</p>
<div class="picks">{overlay}</div>
<div class="picks"><label><input type="radio" name="overlay-what" value="f" checked> f</label>
<label><input type="radio" name="overlay-what" value="df"> f′</label>
<label><input type="radio" name="overlay-what" value="d2f"> f″</label></div>
<div id="overlay-plot"></div>
</section>
<section id="activations"><h2>Activations</h2>
<div class="legend"><span><span class="sw" style="background:#4C72B0"></span>f</span>
<span><span class="sw" style="background:#DD8452"></span>f′ (analytic, from the registry)</span>
<span><span class="sw" style="background:#55A868"></span>f″ (autograd of the analytic f′)</span>
<span><span class="sw" style="background:rgba(196,78,82,.28)"></span>dead: f′ = 0</span>
<span><span class="sw" style="background:rgba(221,170,51,.3)"></span>saturated: |f′| &lt; {sat} on a side where f′ → 0</span>
<span>◆ kink, labelled with the value f′ takes there</span></div>
<p class="note">Curves on [{xmin}, {xmax}]; drag to zoom, double-click to reset; a slider swaps in the curves and
the property row computed for that value (the page computes nothing itself).</p>
<div class="panels">{panels}</div>
</section>
{training}
<footer><p class="note">Generated by actviz {version}. Plots: plotly.js, inlined; the page makes no network request.</p></footer>
</main>
<script id="actviz-data" type="application/json">{data}</script>
<script>{script}</script>
</body></html>
"""

_SCRIPT = r"""
(function(){
"use strict";
const DATA = JSON.parse(document.getElementById("actviz-data").textContent);
const ACTS = {}; DATA.activations.forEach(a => { ACTS[a.name] = a; });
const STATE = {};   // name -> key of the chosen combination ("i|j|...")
const DRAWN = {};   // name -> the panel has been drawn
const COLORS = ["#4C72B0","#DD8452","#55A868","#C44E52","#8172B3","#937860","#DA8BC3","#8C8C8C","#CCB974","#64B5CD"];
const CONFIG = {responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d","lasso2d"]};
const PRIME = "\u2032", DPRIME = "\u2033";
window.actvizReport = {data: DATA, state: STATE, firstPlot: null};

function combo(name){ const a = ACTS[name]; return a.combos[STATE[name]]; }
function fmt(v){ if (v === null || v === undefined) return "—"; return String(v).replace("-", "\u2212"); }

// ------------------------------------------------------------------ panels
function panelFigure(name){
  const a = ACTS[name], c = combo(name);
  if (!c) return null;
  const v = c.curves, x = a.x[v.xi];
  const traces = [
    {x: x, y: v.f, name: "f", mode: "lines", line: {color: "#4C72B0", width: 2, simplify: false}, xaxis: "x", yaxis: "y",
     hovertemplate: "f(%{x:.4g}) = %{y:.6g}<extra></extra>"},
    {x: x, y: v.df, name: "f" + PRIME, mode: "lines", line: {color: "#DD8452", width: 2, simplify: false}, xaxis: "x", yaxis: "y2",
     hovertemplate: "f" + PRIME + "(%{x:.4g}) = %{y:.6g}<extra></extra>"},
    {x: x, y: v.d2f, name: "f" + DPRIME, mode: "lines", line: {color: "#55A868", width: 2, simplify: false}, xaxis: "x", yaxis: "y3",
     hovertemplate: "f" + DPRIME + "(%{x:.4g}) = %{y:.6g}<extra></extra>"}
  ];
  if (v.kinks.length){
    traces.push({x: v.kinks.map(k => k.x), y: v.kinks.map(k => k.f), name: "kink", mode: "markers",
      marker: {symbol: "diamond", size: 9, color: "#4C72B0", line: {color: "#fff", width: 1}}, xaxis: "x", yaxis: "y",
      hovertemplate: "kink at x = %{x:.4g}: f = %{y:.6g}<extra></extra>", showlegend: false});
    traces.push({x: v.kinks.map(k => k.x), y: v.kinks.map(k => k.df), name: "f" + PRIME + " used at kink",
      mode: "markers+text", text: v.kinks.map(k => "f" + PRIME + "(" + fmt(k.x) + ") = " + fmt(k.df)),
      textposition: "top right", textfont: {size: 11, color: "#a0522d"}, cliponaxis: false,
      marker: {symbol: "diamond", size: 9, color: "#DD8452", line: {color: "#fff", width: 1}}, xaxis: "x", yaxis: "y2",
      hovertemplate: "value used at the kink: f" + PRIME + "(%{x:.4g}) = %{y:.6g}<extra></extra>", showlegend: false});
  }
  const shapes = [];
  v.dead.forEach(r => shapes.push({type: "rect", xref: "x", yref: "paper", x0: r[0], x1: r[1], y0: 0, y1: 1,
    fillcolor: "rgba(196,78,82,0.16)", line: {width: 0}, layer: "below"}));
  v.saturated.forEach(r => shapes.push({type: "rect", xref: "x", yref: "paper", x0: r[0], x1: r[1], y0: 0, y1: 1,
    fillcolor: "rgba(221,170,51,0.2)", line: {width: 0}, layer: "below"}));
  const axis = {zeroline: true, zerolinecolor: "#bbb", gridcolor: "#eee"};
  const layout = {
    margin: {l: 48, r: 12, t: 8, b: 36}, showlegend: false, hovermode: "x", hoversubplots: "axis",
    paper_bgcolor: "#fff", plot_bgcolor: "#fff", font: {size: 12},
    xaxis: Object.assign({anchor: "y3", range: DATA.range.slice()}, axis),
    yaxis: Object.assign({domain: [0.5, 1], title: {text: "f"}}, axis),
    yaxis2: Object.assign({domain: [0.26, 0.46], title: {text: "f" + PRIME}}, axis),
    yaxis3: Object.assign({domain: [0, 0.22], title: {text: "f" + DPRIME}}, axis),
    shapes: shapes
  };
  return {traces: traces, layout: layout};
}

function drawPanel(name){
  const fig = panelFigure(name);
  const el = document.getElementById("plot-" + name);
  if (!fig || !el) return;
  const first = !DRAWN[name];
  DRAWN[name] = true;
  const p = Plotly.react(el, fig.traces, fig.layout, CONFIG);
  if (first && window.actvizReport.firstPlot === null){
    p.then(() => { if (window.actvizReport.firstPlot === null) window.actvizReport.firstPlot = performance.now(); });
  }
}

// ------------------------------------------------------------------ the property table
function rowCells(name, row){
  const cells = {};
  cells.activation = null;  // the name and its link do not change
  cells.params = {text: row.params_text || "—", sort: row.params_text};
  DATA.keys.forEach(k => { const c = row.cells[k]; cells[k] = {text: c.text, sort: JSON.stringify(c.sort), bad: !c.agrees}; });
  let agree = row.disagree.length ? "\u2717 " + row.disagree.join(", ") : "\u2713 agree";
  if (!row.declared) agree = "measured only";
  cells.agreement = {text: agree, sort: agree};
  const e = row.autograd_max_error;
  cells.autograd = {text: e === null ? "\u221e" : (e === 0 ? "0" : e.toExponential(1)), sort: String(e)};
  return cells;
}

function updateRow(name){
  const tr = document.querySelector('#properties tr[data-activation="' + name + '"]');
  const c = combo(name);
  if (!tr || !c) return;
  const cells = rowCells(name, c.row);
  tr.querySelectorAll("td").forEach(td => {
    const col = td.dataset.col, v = cells[col];
    if (!v) return;
    td.textContent = v.text;
    td.dataset.sort = v.sort;
    td.classList.toggle("disagree", !!v.bad);
  });
}

function sortValue(td, type){
  const s = td.dataset.sort;
  if (type === "text") return s.toLowerCase();
  let v;
  try { v = JSON.parse(s); } catch (err) { v = s; }
  const num = t => t === "inf" ? Infinity : t === "-inf" ? -Infinity : (t === null ? Infinity : Number(t));
  if (Array.isArray(v)) return v.map(num);
  if (typeof v === "number" || v === "inf" || v === "-inf" || v === null) return [num(v)];
  if (typeof v === "boolean") return [v ? 1 : 0];
  return String(v).toLowerCase();
}

function cmp(a, b){
  if (Array.isArray(a) && Array.isArray(b)){
    for (let i = 0; i < Math.min(a.length, b.length); i++){ if (a[i] < b[i]) return -1; if (a[i] > b[i]) return 1; }
    return a.length - b.length;
  }
  if (Array.isArray(a)) return -1; if (Array.isArray(b)) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function setupTable(){
  const table = document.getElementById("properties");
  const ths = Array.from(table.querySelectorAll("thead th"));
  ths.forEach((th, i) => th.addEventListener("click", () => {
    const asc = th.getAttribute("aria-sort") !== "ascending";
    ths.forEach(t => t.removeAttribute("aria-sort"));
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    const key = r => sortValue(r.cells[i], th.dataset.type);
    rows.sort((r1, r2) => { const d = cmp(key(r1), key(r2)); return asc ? d : -d; });
    rows.forEach(r => body.appendChild(r));
  }));
  const input = document.getElementById("filter");
  const names = ths.map(th => th.dataset.col);
  const labels = ths.map(th => th.textContent.replace(/\u00ad/g, "").toLowerCase());
  function colIndex(word){
    word = word.toLowerCase().replace(/ /g, "_");
    let i = names.indexOf(word);
    if (i < 0) i = labels.indexOf(word.replace(/_/g, " "));
    if (i < 0) i = names.findIndex(n => n.startsWith(word));
    return i;
  }
  function apply(){
    const terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    Array.from(table.tBodies[0].rows).forEach(tr => {
      const ok = terms.every(t => {
        const eq = t.indexOf("=");
        if (eq > 0){
          const i = colIndex(t.slice(0, eq)), want = t.slice(eq + 1);
          if (i >= 0) return tr.cells[i].textContent.toLowerCase().indexOf(want) >= 0;
        }
        return tr.textContent.toLowerCase().indexOf(t) >= 0;
      });
      tr.hidden = !ok;
      if (ok) shown++;
    });
    document.getElementById("shown").textContent = shown + " of " + table.tBodies[0].rows.length + " shown";
  }
  input.addEventListener("input", apply);
  apply();
}

// ------------------------------------------------------------------ controls
function setupControls(){
  document.querySelectorAll("[data-param]").forEach(el => {
    const dot = el.dataset.param.lastIndexOf(".");
    const name = el.dataset.param.slice(0, dot);
    const i = Number(el.dataset.index);
    const handler = () => {
      const parts = STATE[name].split("|");
      parts[i] = String(el.value);
      const key = parts.join("|");
      const out = el.parentNode.querySelector("output");
      if (out) out.textContent = ACTS[name].params[i].labels[Number(el.value)];
      const panel = document.getElementById("act-" + name);
      if (!ACTS[name].combos[key]){ panel.classList.add("missing"); return; }
      panel.classList.remove("missing");
      STATE[name] = key;
      const c = combo(name);
      panel.querySelector(".js-formula").textContent = c.formula;
      panel.querySelector(".js-dformula").textContent = c.derivative_formula;
      panel.querySelector(".js-dformula").parentNode.hidden = !c.derivative_formula;
      drawPanel(name);
      updateRow(name);
      if (overlayChosen().indexOf(name) >= 0) drawOverlay();
    };
    el.addEventListener("input", handler);
    el.addEventListener("change", handler);
  });
}

// ------------------------------------------------------------------ overlay
function overlayChosen(){
  return Array.from(document.querySelectorAll("[data-overlay]")).filter(b => b.checked).map(b => b.dataset.overlay);
}
function drawOverlay(){
  const what = document.querySelector('input[name="overlay-what"]:checked').value;
  const sym = {f: "f", df: "f" + PRIME, d2f: "f" + DPRIME}[what];
  const traces = overlayChosen().map((name, idx) => {
    const a = ACTS[name], c = combo(name);
    return {x: a.x[c.curves.xi], y: c.curves[what], name: c.label, mode: "lines",
      line: {color: COLORS[idx % COLORS.length], width: 2, simplify: false,
        dash: ["solid","dash","dot","dashdot"][Math.floor(idx / COLORS.length) % 4]},
      hovertemplate: c.label + ": " + sym + "(%{x:.4g}) = %{y:.6g}<extra></extra>"};
  });
  const layout = {margin: {l: 48, r: 12, t: 10, b: 36}, hovermode: "x", legend: {orientation: "h", y: -0.12},
    xaxis: {range: DATA.range.slice(), zerolinecolor: "#bbb", gridcolor: "#eee"},
    yaxis: {title: {text: sym}, zerolinecolor: "#bbb", gridcolor: "#eee"}, paper_bgcolor: "#fff", plot_bgcolor: "#fff"};
  Plotly.react(document.getElementById("overlay-plot"), traces, layout, CONFIG);
}

// ------------------------------------------------------------------ training
function el(tag, attrs, text){
  const e = document.createElement(tag);
  Object.keys(attrs || {}).forEach(k => e.setAttribute(k, attrs[k]));
  if (text !== undefined) e.textContent = text;
  return e;
}
function pct(v){ return v === null || v === undefined ? "—" : (100 * v).toFixed(1) + "%"; }
function num(v, d){ return v === null || v === undefined ? "—" : Number(v).toFixed(d); }
function ci(v, d){ return v ? "[" + num(v[0], d) + ", " + num(v[1], d) + "]" : "—"; }

function statsTable(cfg){
  const t = el("table", {class: "stats"});
  const head = ["activation", "n", "test acc", "± sd", "95% CI", "train loss", "± sd", "95% CI", "epochs to target", "dead", "saturated"];
  const tr = el("tr"); head.forEach(h => tr.appendChild(el("th", {}, h))); t.appendChild(el("thead")).appendChild(tr);
  const body = t.appendChild(el("tbody"));
  cfg.rows.forEach(r => {
    const row = el("tr", {"data-label": r.label});
    [r.label, r.n === null || r.n === undefined ? "—" : String(r.n), num(r.test_acc_mean, 4), num(r.test_acc_std, 4),
     ci(r.test_acc_ci, 4), num(r.train_loss_mean, 4), num(r.train_loss_std, 4), ci(r.train_loss_ci, 4),
     r.epochs_to_target === null ? "—" : num(r.epochs_to_target, 1), pct(r.dead), pct(r.saturated)
    ].forEach(v => row.appendChild(el("td", {}, v)));
    body.appendChild(row);
  });
  return t;
}

function pairsTable(cfg){
  const t = el("table", {class: "stats"});
  const tr = el("tr"); ["a", "b", "mean difference (a − b)", "95% CI", "p", "p (Holm)"].forEach(h => tr.appendChild(el("th", {}, h)));
  t.appendChild(el("thead")).appendChild(tr);
  const body = t.appendChild(el("tbody"));
  cfg.pairs.forEach(p => {
    const row = el("tr");
    [p.a, p.b, num(p.diff_mean, 4), ci(p.ci, 4), num(p.p, 3), num(p.p_holm, 3)].forEach(v => row.appendChild(el("td", {}, v)));
    body.appendChild(row);
  });
  return t;
}

function curveFigure(cfg, metric, title){
  const traces = [];
  Object.keys(cfg.curves).forEach((label, i) => {
    const s = cfg.curves[label], m = s[metric], color = COLORS[i % COLORS.length];
    if (!s.epochs.length) return;
    if (s.seeds > 1){
      traces.push({x: s.epochs.concat(s.epochs.slice().reverse()), y: m.high.concat(m.low.slice().reverse()),
        mode: "lines", fill: "toself", fillcolor: color + "33", line: {width: 0}, hoverinfo: "skip", showlegend: false, name: label + " band"});
    }
    traces.push({x: s.epochs, y: m.mean, name: label + (s.seeds > 1 ? " (" + s.seeds + " seeds)" : ""), mode: "lines+markers",
      line: {color: color, width: 2}, marker: {size: 5}});
  });
  return {traces: traces, layout: {title: {text: title, font: {size: 13}}, margin: {l: 50, r: 10, t: 34, b: 40},
    xaxis: {title: {text: "epoch"}, dtick: 1, gridcolor: "#eee"}, yaxis: {gridcolor: "#eee"}, hovermode: "x",
    legend: {orientation: "h", y: -0.25}, paper_bgcolor: "#fff", plot_bgcolor: "#fff"}};
}

function diagFigure(cfg, key, title, logy){
  const traces = [];
  Object.keys(cfg.diagnostics).forEach((label, i) => {
    const v = cfg.diagnostics[label][key];
    if (!v || !v.length) return;
    const x = v.map((_, j) => key === "grad_norm" ?
      "W" + (j + 1) + (j === 0 ? " (input)" : j === v.length - 1 ? " (output)" : "") : "hidden layer " + (j + 1));
    const color = COLORS[i % COLORS.length];
    traces.push(logy ? {type: "scatter", mode: "lines+markers", x: x, y: v, name: label, line: {color: color, width: 2}}
                     : {type: "bar", x: x, y: v, name: label, marker: {color: color}});
  });
  return {traces: traces, layout: {title: {text: title, font: {size: 13}}, barmode: "group", margin: {l: 50, r: 10, t: 34, b: 40},
    yaxis: {type: logy ? "log" : "linear", gridcolor: "#eee", tickformat: logy ? "" : ".1~%", rangemode: "tozero"},
    legend: {orientation: "h", y: -0.25}, paper_bgcolor: "#fff", plot_bgcolor: "#fff"}};
}

function setupTraining(){
  const root = document.getElementById("training-body");
  if (!root) return;
  DATA.training.forEach((store, si) => {
    store.configurations.forEach((cfg, ci_) => {
      const box = el("div", {class: "config", "data-config": cfg.label});
      box.appendChild(el("h3", {}, cfg.label));
      box.appendChild(el("p", {class: "note"}, "store " + store.source + (store.created ? ", " + store.created : "") +
        (store.target !== null && store.target !== undefined ? "; target test accuracy " + store.target : "")));
      const scroll = t => { const w = el("div", {class: "scrollx"}); w.appendChild(t); return w; };
      box.appendChild(scroll(statsTable(cfg)));
      if (cfg.pairs.length) box.appendChild(scroll(pairsTable(cfg)));
      if (cfg.verdicts.length){
        const ul = el("ul", {class: "verdicts"}); cfg.verdicts.forEach(v => ul.appendChild(el("li", {}, v))); box.appendChild(ul);
      }
      const plots = el("div", {class: "plots"});
      const figs = [curveFigure(cfg, "test_acc", "test accuracy"), curveFigure(cfg, "train_loss", "training loss"),
        diagFigure(cfg, "dead", "dead units (last epoch)", false), diagFigure(cfg, "saturated", "saturated units (last epoch)", false),
        diagFigure(cfg, "grad_norm", "gradient norm per layer (last epoch)", true)];
      figs.forEach((f, j) => {
        const d = el("div", {id: "train-" + si + "-" + ci_ + "-" + j, class: "train-plot"});
        plots.appendChild(d);
      });
      box.appendChild(plots);
      root.appendChild(box);
      figs.forEach((f, j) => Plotly.newPlot("train-" + si + "-" + ci_ + "-" + j, f.traces, f.layout, CONFIG));
    });
  });
}

// ------------------------------------------------------------------ start
DATA.activations.forEach(a => { STATE[a.name] = a.initial; });
setupTable();
setupControls();
document.querySelectorAll("[data-overlay], input[name=overlay-what]").forEach(b => b.addEventListener("change", drawOverlay));
const order = DATA.activations.map(a => a.name);
if (order.length) drawPanel(order[0]);
let next = 1;
function drawRest(){
  while (next < order.length && DRAWN[order[next]]) next++;
  if (next < order.length){ drawPanel(order[next++]); setTimeout(drawRest, 0); }
  else { drawOverlay(); setupTraining(); document.body.dataset.ready = "1"; }
}
setTimeout(drawRest, 0);
})();
"""


__all__ = [
    "GRIDS",
    "build_report",
    "check_output_path",
    "curves",
    "load_results",
    "param_grid",
    "property_row",
    "report_html",
    "training_data",
    "write_report",
]
