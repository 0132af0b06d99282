"""A declared kink must be a real one, and a plugin without declarations is shown as such.

The README's plugin example is checked as written: its kink is real, so ``check`` passes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

import actviz
from actviz.cli.app import app
from actviz.facts.audit import audit
from actviz.facts.measure import smooth_kinks

from helpers import runner


@pytest.fixture
def squared_relu_with_a_false_kink():
    spec = actviz.register(
        name="plugin_relu_sq",
        forward=lambda x: torch.relu(x) ** 2,
        derivative=lambda x: 2 * torch.relu(x),
        formula="max(0, x)²",
        kinks=[actviz.Kink(0.0, 0.0)],
    )
    yield spec
    actviz.unregister(spec.name)


def test_a_kink_where_f_is_differentiable_is_a_disagreement(squared_relu_with_a_false_kink):
    act = actviz.get("plugin_relu_sq")
    assert smooth_kinks(act) == [(0.0, 0.0, 0.0)]
    findings = [f for f in audit(act).findings if f.key == "kinks"]
    assert len(findings) == 1 and "differentiable there" in findings[0].message
    result = runner.invoke(app, ["check", "plugin_relu_sq"])
    assert result.exit_code == 1 and "declared a kink at x = 0" in result.stdout


@pytest.mark.parametrize("case", [
    ("relu", {}), ("step", {}), ("hard_swish", {}), ("elu", {"alpha": 1.0000001}),
    ("maxout", {"weights": (0.0, 1e-9), "biases": (0.0, 0.0)}), ("hardshrink", {}), ("softshrink", {}),
])
def test_real_kinks_are_not_reported(case):
    """Jumps in f (step), in f′ of any size (ELU with α = 1 + 1e-7, a slope of 1e-9) are kinks."""
    act = actviz.get(case[0], **case[1])
    assert act.kinks and smooth_kinks(act) == []


def test_show_says_when_no_properties_are_declared(squared_relu_with_a_false_kink):
    out = runner.invoke(app, ["show", "plugin_relu_sq"], env={"COLUMNS": "100"}).stdout
    rows = [line for line in out.splitlines() if line.lstrip().startswith("monotonic")]
    assert rows and "not declared" in rows[0] and "✓" not in rows[0]
    declared = runner.invoke(app, ["show", "relu"], env={"COLUMNS": "100"}).stdout
    assert "not declared" not in declared and "✓" in declared


def test_the_readme_plugin_example_passes_check(tmp_path, monkeypatch):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"### Your own activation\s+```python\n(.*?)```", readme, re.S).group(1)
    name = re.search(r'name="(\w+)"', block).group(1)
    exec(compile(block, "README example", "exec"), {})
    try:
        act = actviz.get(name)
        assert act.kinks and smooth_kinks(act) == []
        assert runner.invoke(app, ["check", name]).exit_code == 0
    finally:
        actviz.unregister(name)
