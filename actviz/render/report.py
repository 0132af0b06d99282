"""The interactive report (``actviz report``): one self-contained HTML page.

>>> from actviz.render.report import build_report, report_html
>>> data = build_report(["elu", "relu"])            # doctest: +SKIP
>>> html = report_html(data)                       # doctest: +SKIP

:func:`build_report` (:mod:`actviz.render.report_data`) returns plain data: the
curves, property rows and parameter grids of every activation, computed there;
:func:`report_html` turns it into a page.  The page computes nothing: its
JavaScript only picks among those precomputed arrays.

The page's HTML template, style sheet and script are package files in
``actviz/render/page/`` (``report.html``, ``report.css``, ``report.js``), read with
:mod:`importlib.resources`; the template's ``${name}`` placeholders are filled by
:func:`report_html`.  The data go into the page as one JSON document
(``<script id="actviz-data">``).

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
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from string import Template
from typing import Any

from actviz.core.errors import ActvizError, UsageError
from actviz.core.files import check_output_file, read_regular, write_atomic
from actviz.core.properties import DEFINITIONS, KEYS
from actviz.render.report_data import (
    GRIDS,
    SATURATED,
    XMAX,
    XMIN,
    _fmt,
    build_report,
    curves,
    param_grid,
    property_row,
)
from actviz.render.report_data import json_float as _num  # the name the store reading below uses

_PRIME = "\u2032"


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


def _page_file(name: str) -> str:
    """A file of the page shipped in the package: ``report.html`` (the template), ``report.css``, ``report.js``."""
    from importlib.resources import files

    return (files("actviz.render") / "page" / name).read_text(encoding="utf-8")


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
    page = Template(_page_file("report.html"))
    return page.substitute(
        version=_e(data["version"]),
        plotly=plotly_js().replace("</script", "<\\/script"),
        data=_json_script(data),
        style=_page_file("report.css"),
        script=_page_file("report.js"),
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
