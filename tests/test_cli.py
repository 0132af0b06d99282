"""The registry commands through Typer's CliRunner: exit codes, output, error lines."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap

import pytest
import torch

import actviz
from actviz.cli.app import app
from actviz.core.properties import KEYS, Interval, Properties

from helpers import error_line, runner


def invoke(*args: str, **kw):
    return runner.invoke(app, list(args), **kw)


@pytest.fixture
def custom():
    """A user activation registered for one test."""
    spec = actviz.register(
        name="user_relu2",
        aliases=("urelu2",),
        forward=lambda x: torch.relu(x) ** 2,
        derivative=lambda x: 2 * torch.relu(x),
        formula="max(0, x)²",
    )
    yield spec
    actviz.unregister("user_relu2")


def test_list_shows_every_entry_with_aliases():
    result = invoke("list")
    assert result.exit_code == 0
    for name in actviz.names():
        assert name in result.stdout
    assert "logistic" in result.stdout and "silu" in result.stdout
    data = json.loads(invoke("list", "--format", "json").stdout)
    assert [d["name"] for d in data] == actviz.names()


def test_table_json_has_the_spec_shape():
    result = invoke("table", "--format", "json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == actviz.names()
    for row in rows:
        assert {"name", "aliases", "params", "autograd_max_error", *KEYS} <= set(row)
        assert row["autograd_max_error"] < 1e-12
        low, high, lc, hc = row["range"]
        assert isinstance(lc, bool) and isinstance(hc, bool)
    relu = next(r for r in rows if r["name"] == "relu")
    assert relu["range"] == [0.0, "inf", True, False]
    assert relu["continuity"] == 0 and relu["saturation"] == "left" and relu["dead_neurons"] is True
    tanh = next(r for r in rows if r["name"] == "tanh")
    assert tanh["continuity"] == "inf" and tanh["symmetry"] == "odd"


def test_table_formats_and_selection():
    md = invoke("table", "relu", "Hard-Tanh", "--format", "markdown").stdout
    assert md.startswith("| activation |") and "`hard_tanh`" in md and md.count("\n") == 4
    csv_text = invoke("table", "relu", "gelu", "--format", "csv").stdout.splitlines()
    assert csv_text[0].startswith("name,params,range,derivative_range")
    assert csv_text[1].startswith('relu,,"[0.0, inf)"')
    rich = invoke("table", "elu", "--param", "elu.alpha=2")
    assert rich.exit_code == 0 and "elu(alpha=2)" in rich.stdout and "(−2, ∞)" in rich.stdout


def _table_layout(text: str) -> tuple[list[list[str]], list[list[str]], list[str]]:
    """The terminal table read back: each part's headers, each part's rows (first words), the legend's names."""
    from actviz.render.tables import LEGEND

    lines = text.splitlines()
    known = sorted(LEGEND, key=len, reverse=True)
    parts, rows = [], []
    for i, line in enumerate(lines):
        if set(line.strip()) == {"─"}:
            head, found = lines[i - 1].split(None, 1)[1], []
            while head.strip():
                head = head.strip()
                name = next(k for k in known if head.startswith(k + " ") or head == k)
                found.append(name)
                head = head[len(name):]
            parts.append(found)
            rows.append([])
        elif parts and line.startswith(" ") and line.strip() and not set(lines[i + 1].strip()) == {"─"}:
            rows[-1].append(line.split()[0])
    legend = [e.split(": ", 1)[0] for line in lines if not line.startswith(" ") for e in line.split("  ")
              if ": " in e and not e.startswith("'")]
    return parts, rows, legend


@pytest.mark.parametrize("width, args, parts", [
    (80, ["hard_logistic", "gelu", "mish", "leaky_relu"], 2),
    (120, ["hard_logistic", "gelu", "mish", "leaky_relu"], 1),
    (200, ["hard_logistic", "gelu", "mish", "leaky_relu"], 1),
    (80, ["gelu", "leaky_relu", "-p", "leaky_relu.negative_slope=0.123"], 3),  # a long label: more parts, no wrap
])
def test_table_fits_the_terminal_with_every_property_and_a_legend_of_its_columns(width, args, parts):
    from rich.cells import cell_len

    result = invoke("table", *args, env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    assert all(cell_len(line.rstrip()) <= width for line in result.stdout.splitlines())
    shown_parts, rows, legend = _table_layout(result.stdout)
    shown = [h for part in shown_parts for h in part]
    assert len(shown) == len(KEYS) + 1 and len(set(shown)) == len(shown)  # every property once, and the error
    assert sorted(legend) == sorted(shown)  # the legend names exactly the columns shown
    labels = [a if a != "leaky_relu" or "-p" not in args else "leaky_relu(negative_slope=0.123)"
              for a in args if not a.startswith(("-", "leaky_relu."))]
    assert rows == [labels] * len(shown_parts)  # one line per activation: no cell wrapped
    assert len(shown_parts) == parts
    if parts == 2:
        assert [len(p) for p in shown_parts] == [6, 7]  # six properties each, then the autograd error


def test_show_reports_formula_kinks_properties_and_autograd():
    result = invoke("show", "leaky-relu", "--param", "negative_slope=-0.5")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "leaky_relu(negative_slope=-0.5)" in out
    assert "f′(0) = -0.5" in out and "autograd check" in out and "agrees" in out
    data = json.loads(invoke("show", "elu", "-p", "alpha=2", "--format", "json").stdout)
    assert data["properties"]["range"] == [-2.0, "inf", False, False]
    assert data["measured"]["range"] == [-2.0, "inf", False, False]
    assert data["kinks"] == [{"x": 0.0, "derivative": 2.0}]
    assert data["findings"] == [] and data["autograd_max_error"] < 1e-12


def test_check_passes_on_the_shipped_registry():
    result = invoke("check")
    assert result.exit_code == 0, result.output
    assert f"all {len(actviz.names())} activations agree" in result.stdout


def test_check_exits_1_naming_the_broken_key():
    relu = actviz.get_spec("relu")
    wrong = Properties(**{**relu.properties.as_dict(), "saturation": "both"})
    actviz.register(name="broken_relu", forward=relu.forward, derivative=relu.derivative,
                    formula="max(0, x)", kinks=relu.kinks, properties=wrong)
    try:
        result = invoke("check", "broken_relu", "relu")
        assert result.exit_code == 1
        assert "saturation: declared 'both', measured 'left'" in result.stdout
        doc = json.loads(invoke("check", "broken_relu", "--format", "json").stdout)
        assert doc["ok"] is False and [d["key"] for d in doc["disagreements"]] == ["saturation"]
    finally:
        actviz.unregister("broken_relu")


def test_check_catches_a_wrong_derivative():
    actviz.register(name="bad_tanh", forward=torch.tanh, derivative=lambda x: 1 - torch.tanh(x),
                    formula="tanh(x)", properties=actviz.get("tanh").properties)
    try:
        result = invoke("check", "bad_tanh")
        assert result.exit_code == 1
        assert "analytic f′ differs from autograd" in result.stdout
    finally:
        actviz.unregister("bad_tanh")


def test_every_command_works_on_a_user_activation(custom):
    assert "user_relu2" in invoke("list").stdout
    shown = invoke("show", "urelu2")
    assert shown.exit_code == 0 and "none declared: measured" in shown.stdout
    rows = json.loads(invoke("table", "user_relu2", "--format", "json").stdout)
    assert rows[0]["range"] == [0.0, "inf", True, False] and rows[0]["continuity"] == 1
    assert invoke("check", "user_relu2").exit_code == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["show", "gelu2"], "did you mean 'gelu'"),
        (["show", "elu", "--param", "beta=2"], "elu has no parameter 'beta'; its parameters are alpha"),
        (["show", "elu", "--param", "alpha=abc"], "alpha takes a number, got 'abc'"),
        (["show", "elu", "--param", "alpha"], "malformed --param 'alpha'"),
        (["show", "softplus", "--param", "beta=-1"], "beta must be > 0"),
        (["show", "elu", "--param", "alpha=nan"], "alpha must be a finite number"),
        (["show", "gelu", "-p", "approximate=fast"], "approximate must be one of none, tanh"),
        (["table", "relu", "--param", "gelu.approximate=tanh"], "not among the activations asked for"),
        (["table", "relu", "--param", "approximate=tanh"], "malformed --param"),
        (["table", "--format", "xml"], "'xml' is not one of"),
        (["check", "nosuch"], "unknown activation 'nosuch'"),
        (["frobnicate"], "No such command 'frobnicate'"),
        (["show"], "Missing argument"),
    ],
)
def test_wrong_input_is_one_line_and_exit_2(args, expected):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    line = error_line(result)
    assert line.startswith("error: ") and expected in line


def _run(code: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=env, timeout=120)


def test_help_and_list_do_not_import_torch_or_matplotlib():
    for argv in (["actviz", "--help"], ["actviz", "list"], ["actviz", "plot", "--help"],
                 ["actviz", "compare", "--help"]):
        proc = _run(f"""
            import sys
            sys.argv = {argv!r}
            from actviz.cli.app import main
            try:
                main()
            except SystemExit as exc:
                assert exc.code in (0, None), exc.code
            heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'matplotlib'))
            assert not heavy, heavy[:5]
        """)
        assert proc.returncode == 0, (argv, proc.stderr)


@pytest.mark.slow
def test_python_dash_m_and_plugins(tmp_path):
    plugin = tmp_path / "my_acts.py"
    plugin.write_text(textwrap.dedent("""
        import torch, actviz
        actviz.register(name="bent_identity", formula="(sqrt(x² + 1) − 1)/2 + x",
                        forward=lambda x: (torch.sqrt(x * x + 1) - 1) / 2 + x,
                        derivative=lambda x: x / (2 * torch.sqrt(x * x + 1)) + 1)
    """))
    import os

    env = {**os.environ, "ACTVIZ_PLUGINS": str(plugin)}
    proc = subprocess.run([sys.executable, "-m", "actviz", "table", "bent_identity", "--format", "json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)[0]
    assert row["name"] == "bent_identity" and row["monotonic"] is True and row["range"][:2] == ["-inf", "inf"]
    bad = subprocess.run([sys.executable, "-m", "actviz", "list"], capture_output=True, text=True,
                         env={**os.environ, "ACTVIZ_PLUGINS": str(tmp_path / "missing.py")}, timeout=120)
    assert bad.returncode == 1 and bad.stderr.startswith("error: could not load plugin")
    assert "Traceback" not in bad.stderr


def test_interval_json_round_trip():
    for iv in (Interval(0, math.inf, True, False), Interval(-1, 1), Interval.closed(-0.5, 2)):
        assert Interval.from_json(iv.to_json()) == iv
    assert Interval(0, math.inf, True, False).to_json() == [0.0, "inf", True, False]


def test_one_exit_code_map_for_signals():
    import signal

    from actviz.core import signals

    assert [signals.exit_code(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)] == [130, 143, 129]
    assert signals.exit_code(KeyboardInterrupt()) == 130 and signals.exit_code(None) == 130
    assert signals.exit_code(signals.Terminated()) == 143 and signals.message(signals.Terminated()) == "terminated"
    assert signals.message(KeyboardInterrupt()) == "aborted"
    assert isinstance(signals.Terminated(), signals.Interrupted)


def test_shielded_holds_a_signal_back_until_the_block_ends():
    import os
    import signal

    from actviz.core import signals

    with signals.interruptible():
        with pytest.raises(signals.Terminated):
            with signals.shielded():
                os.kill(os.getpid(), signal.SIGTERM)
                finished = True  # the signal waited for the end of the block
        assert finished
        with signals.shielded(raise_after=False):
            os.kill(os.getpid(), signal.SIGHUP)
        assert signals.received() == signal.SIGHUP


def test_readiness_line_only_when_asked(monkeypatch, capsys):
    from actviz.core import signals

    monkeypatch.delenv(signals.READY_ENV, raising=False)
    signals.ready()
    assert capsys.readouterr().err == ""
    monkeypatch.setenv(signals.READY_ENV, "1")
    signals.ready()
    assert capsys.readouterr().err == "actviz: ready (signal handlers installed)\n"


def test_commands_are_module_level_functions():
    from actviz.cli import activations, compare, lesson, plot, report, results
    from actviz.cli.app import app

    registered = {c.name: c.callback for c in app.registered_commands}
    assert registered["plot"] is plot.plot_cmd and registered["gallery"] is plot.gallery_cmd
    assert registered["compare"] is compare.compare_cmd and registered["lesson"] is lesson.lesson_cmd
    assert registered["report"] is report.report_cmd and registered["results"] is results.results_cmd
    assert registered["list"] is activations.list_cmd


def test_training_settings_are_judged_once_in_the_library_words():
    from actviz.bench.config import ConfigError, TrainConfig

    with pytest.raises(ConfigError, match="^batch_size must be >= 1, got 0$") as info:
        TrainConfig(batch_size=0).validate()
    assert info.value.field == "batch_size"
    result = runner.invoke(app, ["compare", "relu", "--batch-size", "0"])
    assert result.exit_code == 2 and error_line(result) == "error: --batch-size must be >= 1, got 0"
