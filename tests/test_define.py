"""Activations from a formula: the grammar refuses what it should, the generated code agrees with sympy and
autograd, and every command takes --define (and ACTVIZ_DEFINE)."""

from __future__ import annotations

import math

import pytest
import torch
from helpers import error_line, runner

import actviz
from actviz.cli.app import app
from actviz.core import registry
from actviz.core.errors import UsageError
from actviz.core.expr import parse_definition, parse_expr, to_text
from actviz.facts import symcache
from actviz.facts.audit import audit
from actviz.facts.define import define, env_definitions


@pytest.fixture(autouse=True)
def _clean(tmp_path, monkeypatch):
    """A cache of its own per test, and no definition left in the registry afterwards."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    symcache.clear_memory()
    yield
    for spec in registry.specs():
        if spec.definition:
            registry.unregister(spec.name)
    symcache.clear_memory()


@pytest.mark.parametrize(("text", "where", "why"), [
    ('a=__import__("os").system("true")', 3, "'__import__' is not allowed"),
    ("a=x.real", 4, "attribute access"),
    ("a=lambda: 1", 3, "'lambda' is not allowed"),
    ("a='s'", 3, "strings are not allowed"),
    ("a=foo(x)", 3, "unknown function 'foo'"),
    ("a=x+y", 5, "unknown name 'y'"),
    ("a=x[0]", 4, "subscripts"),
    ("a=where(x, 1, 2)", 3, "must be a comparison"),
    ("a=x > 0", 5, "unexpected '>'"),
    ("a=(x", 5, "expected ')'"),
])
def test_the_grammar_refuses_code_naming_the_token_and_column(text, where, why):
    with pytest.raises(UsageError) as exc:
        parse_definition(text)
    message = str(exc.value)
    assert why in message and message.endswith(f"column {where}"), message


def test_printing_a_tree_reads_back_to_the_same_tree():
    for text in ["-x**2 + 2**3**2", "x - (x - 1)", "x/(2*x)", "piecewise(x < -1, -1, x <= 1, x, 1)",
                 "max(0, x, 1e-3*x)**2", "(-x)**0.5", "-(1 + x)", "2**(-x)"]:
        tree = parse_expr(text)
        assert parse_expr(to_text(tree)) == tree, text


def test_parameters_get_their_defaults_and_are_bound_like_any_other():
    define("pswish=x*sigmoid(b*x); b=1.5")
    act = actviz.get("pswish")
    assert act.params["b"] == 1.5
    x = torch.linspace(-5, 5, 11, dtype=torch.float64)
    assert torch.allclose(act(x), x * torch.sigmoid(1.5 * x))
    assert torch.allclose(act.with_params(b=1.0)(x), actviz.get("swish")(x))


@pytest.mark.parametrize("text", [
    "sq=max(0,x)**2", "bent=(sqrt(x**2+1)-1)/2+x", "spl=log(1+exp(x))", "lk=where(x>0, x, 0.1*x)",
    "el=where(x>0, x, exp(x)-1)", "ab=abs(x)", "cl=piecewise(x<-1, -1, x<1, x, 1)", "ge=x/2*(1+erf(x/sqrt(2)))",
    "tx=x*tanh(x)", "sw=x*sigmoid(b*x); b=1.5",
])
def test_a_defined_activation_passes_the_same_audit_as_the_built_ins(text):
    act = actviz.get(define(text).name)
    result = audit(act)
    assert result.ok, [f.message for f in result.findings]
    assert result.autograd_max_error < 1e-9


def test_kinks_are_found_where_the_derivative_jumps_and_only_there():
    assert [(k.x, k.derivative) for k in actviz.get(define("lk=where(x>0, x, 0.1*x)").name).kinks] == [(0.0, 0.1)]
    assert [k.x for k in actviz.get(define("cl=piecewise(x<-1, -1, x<1, x, 1)").name).kinks] == [-1.0, 1.0]
    assert actviz.get(define("sq=max(0,x)**2").name).kinks == ()  # f′ = 2·max(0, x) is continuous
    assert [k.x for k in actviz.get(define("sh=abs(x-b); b=2").name).kinks] == [2.0]


def test_log_of_one_plus_exp_runs_as_softplus_and_stays_finite():
    act = actviz.get(define("spl=log(1+exp(x))").name)
    x = torch.tensor([-1e4, 0.0, 1e4], dtype=torch.float32)
    assert torch.isfinite(act(x)).all() and act(x)[2] == 1e4
    assert "sigmoid(x)" in act.derivative_formula


def test_the_derivative_with_respect_to_a_parameter_agrees_with_autograd():
    act = actviz.get(define("sw=x*sigmoid(b*x); b=1.5").name)
    x = torch.linspace(-6, 6, 101, dtype=torch.float64)
    b = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(act.spec.forward(x, b=b).sum(), b)
    assert math.isclose(float(act.param_derivative(x, "b").sum()), float(g), rel_tol=1e-10)


def test_a_second_run_reads_the_derivative_from_the_cache(monkeypatch):
    define("tx=x*tanh(x)")
    actviz.get("tx").derivative(torch.zeros(1))
    registry.unregister("tx")
    symcache.clear_memory()  # read back from disk
    from actviz.facts import symbolic

    monkeypatch.setattr(symbolic, "derivative", lambda *a, **k: pytest.fail("sympy asked again"))
    assert float(actviz.get(define("tx=x*tanh(x)").name).derivative(torch.ones(1))[0]) == pytest.approx(
        math.tanh(1) + 1 - math.tanh(1) ** 2)


def test_a_built_in_name_cannot_be_redefined():
    with pytest.raises(UsageError, match="already an activation"):
        define("relu=x")


def test_env_definitions_are_separated_by_a_bar(monkeypatch):
    monkeypatch.setenv("ACTVIZ_DEFINE", "a=x*sigmoid(x) | b=max(0,x)**2; c=1 |")
    assert env_definitions() == ["a=x*sigmoid(x)", "b=max(0,x)**2; c=1"]


@pytest.mark.slow
def test_every_command_takes_define():
    for args in (["list"], ["show", "sq"], ["table", "sq"], ["check", "sq"]):
        result = runner.invoke(app, [args[0], "--define", "sq=max(0,x)**2", *args[1:]])
        assert result.exit_code == 0, (args, result.output)
        assert "sq" in result.stdout
    for command in ("plot", "gallery", "compare", "results", "lesson", "report"):
        result = runner.invoke(app, [command, "--help"])
        assert "--define" in result.stdout, command


def test_a_definition_from_the_environment_works_in_check(monkeypatch):
    monkeypatch.setenv("ACTVIZ_DEFINE", "tx=x*tanh(x)")
    result = runner.invoke(app, ["check", "tx"])
    assert result.exit_code == 0, result.output


def test_a_bad_definition_is_one_error_line_and_a_usage_exit_code():
    result = runner.invoke(app, ["show", "--define", "a=x.__class__", "a"])
    assert result.exit_code == 2
    assert "attribute access is not allowed at column 4" in error_line(result)


def test_a_store_shows_the_formula_of_a_defined_activation_without_the_definition():
    from actviz.bench.summary import summarize_configs
    from actviz.render.summary import to_markdown
    from actviz.results.schema import check_run, upgrade

    def run(name, seed, definition=None):
        r = {"activation": name, "label": name, "params": {}, "seed": seed, "status": "completed",
             "config": {"epochs": 1}, "epochs_completed": 1,
             "history": [{"epoch": 1, "test_acc": 0.5 + seed / 100, "train_loss": 1.0}]}
        if definition:
            r["definition"] = definition
        check_run(r, 0)
        return upgrade(r, {})

    runs = [run("pswish", s, "pswish=x*sigmoid(1.5*x)") for s in (0, 1)] + [run("relu", s) for s in (0, 1)]
    text = to_markdown(summarize_configs(runs, 0.8))
    assert "pswish is defined as pswish=x\\*sigmoid(1.5\\*x)" in text or "pswish is defined as pswish=x*sigmoid(1.5*x)" in text
    assert "relu is defined" not in text
    with pytest.raises(ValueError, match="definition"):
        check_run({**runs[0], "definition": 3}, 0)
    from actviz.render.report_training import training_data

    page = training_data({"runs": runs, "config": {}}, summarize_configs(runs, 0.8), None)
    rows = {r["label"]: r for cfg in page["configurations"] for r in cfg["rows"]}
    assert rows["pswish"]["definition"] == "pswish=x*sigmoid(1.5*x)" and rows["relu"]["definition"] is None


def test_list_with_a_definition_imports_neither_torch_nor_sympy(tmp_path):
    import os
    import subprocess
    import sys
    import textwrap

    from helpers import ENV

    code = textwrap.dedent("""
        import sys
        sys.argv = ["actviz", "list", "--define", "b=where(x > 0, x, max(0.1*x, sigmoid(x)*softplus(x))); c=2"]
        from actviz.cli.app import main
        try:
            main()
        except SystemExit as exc:
            assert exc.code in (0, None), exc.code
        heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'matplotlib', 'sympy'))
        assert not heavy, heavy[:5]
    """)
    env = {**ENV, "XDG_CACHE_HOME": str(tmp_path), "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "b(x) = where(x > 0" in proc.stdout
