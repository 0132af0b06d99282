"""The report page's own files (template, style sheet, script): found in the package, shipped in the wheel."""

from __future__ import annotations

import fnmatch
import re
from importlib.resources import files
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parent.parent
PAGE = files("actviz.render") / "page"


def test_every_page_file_is_package_data():
    """A file added to actviz/render/page/ must be listed in pyproject's package-data, or a wheel lacks it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["actviz.render"]
    names = sorted(p.name for p in PAGE.iterdir() if p.is_file())
    assert {"report.html", "report.css", "report.js"} <= set(names)
    for name in names:
        assert any(fnmatch.fnmatch(f"page/{name}", g) for g in globs), f"{name} is not in package-data"


def test_the_template_asks_for_what_the_page_fills():
    from actviz.render import report

    template = (PAGE / "report.html").read_text(encoding="utf-8")
    wanted = set(re.findall(r"\$\{(\w+)\}", template))
    assert wanted == {"version", "count", "style", "plotly", "nav_training", "table", "overlay", "sat",
                      "xmin", "xmax", "panels", "training", "data", "script"}
    assert "$" not in re.sub(r"\$\{\w+\}", "", template)  # no stray placeholder syntax
    page = report.report_html({"version": "0", "activations": [], "training": [], "broken": [],
                               "range": [-6.0, 6.0], "keys": [], "definitions": {}})
    assert "${" not in page.split("<script>", 1)[0]
    assert (PAGE / "report.css").read_text(encoding="utf-8") in page
    assert (PAGE / "report.js").read_text(encoding="utf-8") in page


def test_the_inlined_plotly_bundle_has_every_trace_the_page_draws():
    """The page inlines a partial plotly.js bundle: every trace type report.js asks for must be in it."""
    from actviz.render import report

    bundle = report.plotly_js()
    registered = set(re.findall(r'moduleType:"trace",name:"(\w+)"', bundle))
    script = (PAGE / "report.js").read_text(encoding="utf-8")
    used = set(re.findall(r'\btype: *"(\w+)"', script)) - {"rect", "log", "linear", "category"}
    assert used <= set(report.PLOTLY_TRACES) <= registered, (used, registered)
    assert "scatter" in registered and "heatmap" in registered
    assert len(bundle) < 2_000_000  # the partial bundle, not the 4.8 MB full one
    licence = (PAGE / "plotly-LICENSE.txt").read_text(encoding="utf-8")
    assert "MIT License" in licence and "Plotly" in licence
