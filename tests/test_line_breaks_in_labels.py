"""A label holding a line break (a plugin's name may) stays on its row in every rendered format.

Markdown and LaTeX rows, CSV records and LaTeX ``%`` comments are one line each: a line break
inside a label is written as its escape (``\\n``), never as a new line.
"""

from __future__ import annotations

import csv
import io

import pytest
import torch

from actviz.core import registry
from actviz.render import summary as render_summary
from actviz.render.tables import property_rows, render_table

from report_stores import make_store

NAME = "two\nlines\u2028more"


def _summary():
    from actviz.bench.summary import summarize_configs

    runs = make_store("configs")["runs"]
    for run in runs:
        if run["label"] == "tanh":
            run["label"] = NAME
    return summarize_configs(runs, 0.8)


@pytest.mark.parametrize("fmt", ["markdown", "latex", "csv"])
def test_a_line_break_in_a_run_label_stays_on_its_row(fmt):
    summary = _summary()
    assert any(r["label"] == NAME for entry in summary for r in entry["activations"])
    text = render_summary.render(summary, fmt)
    assert "\u2028" not in text and "two\\nlines\\u2028more".replace("\\", "\\textbackslash{}" if fmt == "latex"
                                                                     else "\\") in text.replace("\\_", "_")
    lines = text.splitlines()
    if fmt == "markdown":
        rows = [line for line in lines if line.startswith("|")]
        assert all(line.endswith("|") for line in rows), rows
        assert not any(line.startswith("lines") for line in lines)
    elif fmt == "latex":
        body = [line for line in lines if not line.startswith("%") and not line.startswith("\\")]
        assert all(line.endswith("\\\\") for line in body), body
    else:
        assert len(lines) == len(list(csv.reader(io.StringIO(text))))


@pytest.mark.parametrize("fmt", ["markdown", "csv"])
def test_a_line_break_in_an_activation_name_stays_on_its_row_of_the_property_table(fmt):
    registry.register(name=NAME, formula="x", forward=lambda x: x * 1.0, derivative=torch.ones_like)
    try:
        text = render_table(property_rows([registry.get(NAME), registry.get("relu")]), fmt)
    finally:
        registry.unregister(NAME)
    lines = text.splitlines()
    assert len(lines) == (4 if fmt == "markdown" else 3), text
    assert "two\\nlines\\u2028more" in text
