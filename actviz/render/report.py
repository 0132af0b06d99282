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

With stores of ``actviz compare`` (``--results DIR``) the data also hold the
training section of each store (:mod:`actviz.render.report_training`): its
statistics, training curves with seed bands and diagnostics, per configuration.

The plots are drawn by plotly.js (its official "cartesian" bundle, a package file:
:data:`PLOTLY_BUNDLE`), inlined once into the page; the page makes no network
request.  torch is imported inside the functions.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping
from pathlib import Path
from string import Template
from typing import Any

from actviz.core.errors import ActvizError
from actviz.core.files import check_output_file, write_atomic
from actviz.core.properties import DEFINITIONS, KEYS
from actviz.render.report_data import (
    GRIDS,
    SATURATED,
    XMAX,
    XMIN,
    build_report,
    curves,
    param_grid,
    property_row,
    value_label,
)

_PRIME = "\u2032"


# --------------------------------------------------------------------------- the page


#: plotly.js's official "cartesian" distribution (the traces scatter, bar, heatmap and a few more;
#: about a third of the full bundle), vendored from the npm package plotly.js-cartesian-dist-min
#: with its licence (``page/plotly-LICENSE.txt``)
PLOTLY_BUNDLE = "plotly-cartesian.min.js"
#: the plotly.js trace types the page draws: each must be in :data:`PLOTLY_BUNDLE`
PLOTLY_TRACES = ("scatter", "bar", "heatmap")


def plotly_js() -> str:
    """plotly.js, minified, from the package's page folder (no network)."""
    try:
        return _page_file(PLOTLY_BUNDLE)
    except FileNotFoundError as exc:  # pragma: no cover - a broken install
        raise ActvizError(f"plotly.js not found ({exc}); reinstall actviz") from None


def _page_file(name: str) -> str:
    """A file of the page shipped in the package: ``report.html`` (the template), ``report.css``, ``report.js``."""
    from importlib.resources import files

    return (files("actviz.render") / "page" / name).read_text(encoding="utf-8")


def _json_script(data: Any) -> str:
    """``data`` as JSON text that can stand inside ``<script>`` and parses back to the same strings.

    ``<``, ``>`` and ``&`` become ``\\u003c`` ``\\u003e`` ``\\u0026`` (so no ``</script>`` or
    ``<!--`` can appear), and U+2028/U+2029 ``\\u2028`` ``\\u2029``: every one a valid JSON escape.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_SCRIPT_SAFE)


_SCRIPT_SAFE = {ord(c): f"\\u{ord(c):04x}" for c in "<>&\u2028\u2029"}


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
        f'<div class="plot" id="plot-{_e(name)}"></div>{_card_html(act.get("card"))}{ref}</article>'
    )


_MATHML = '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">'


def _card_html(card: Mapping[str, Any] | None) -> str:
    """The symbolic card: f, f′, f″ as MathML (rendered by the browser, offline) and the facts sympy found."""
    if not card:
        return ""
    math = "".join(f'<div class="card-eq"><span>{_e(k)}(x) =</span>{_MATHML}{v}</math></div>'
                   for k, v in card["mathml"].items())  # sympy's presentation MathML of a vetted formula
    facts = "".join(f"<li>{_e(f)}</li>" for f in card["facts"])
    return (f'<details class="card"><summary>symbolic card (sympy, at the default parameters)</summary>'
            f"{math}<ul>{facts}</ul></details>")


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
                    "of the last epoch, mean over seeds; where activation parameters learned, the function of each epoch "
                    "over the histogram of its inputs and the parameters' trajectories.</p><div id=\"training-body\"></div></section>")
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
        sat=value_label(SATURATED),
        xmin=value_label(XMIN),
        xmax=value_label(XMAX),
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
    "param_grid",
    "property_row",
    "report_html",
    "write_report",
]
