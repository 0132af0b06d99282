"""The symbolic card: exact facts where sympy finds them, 'undecided' where it cannot, in four formats."""

from __future__ import annotations

import json
import math

import pytest
from helpers import error_line, runner

import actviz
from actviz.cli.app import app
from actviz.facts import symcache
from actviz.facts.card import card


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "card-cache"))
    symcache.clear_memory()
    yield
    symcache.clear_memory()


def test_gelu_derivative_peaks_at_sqrt_2_with_the_exact_value():
    c = card(actviz.get("gelu"))
    peak = next(e for e in c["derivative_extrema"] if e["kind"] == "maximum")
    assert peak["x"] == "sqrt(2)"
    phi = math.exp(-1) / math.sqrt(2 * math.pi)
    big_phi = 0.5 * (1 + math.erf(1))
    assert peak["f′_value"] == pytest.approx(big_phi + math.sqrt(2) * phi, rel=1e-14)
    assert peak["f′_value"] == pytest.approx(1.1289, abs=1e-4)
    assert c["properties"]["derivative_range"]["verdict"] == "confirmed"


def test_softplus_tends_to_x_and_its_taylor_series_starts_at_log_2():
    c = card(actviz.get("softplus"))
    assert c["tails"][1]["asymptote"] == "x" and c["tails"][0]["limit"] == "0"
    assert c["taylor"].endswith("log(2)") and "x/2" in c["taylor"]
    assert c["f′"]["text"] == "sigmoid(x)"


def test_relu_has_no_taylor_series_and_properties_never_guessed():
    c = card(actviz.get("relu"))
    assert c["taylor"] is None
    verdicts = {k: v["verdict"] for k, v in c["properties"].items()}
    assert set(verdicts.values()) <= {"confirmed", "refuted", "undecided"}
    assert "refuted" not in verdicts.values()
    assert len(verdicts) == 12


@pytest.mark.slow
def test_a_wrong_declaration_is_refuted():
    import dataclasses

    from actviz.core.registry import Activation

    spec = actviz.get("sigmoid").spec
    bad = dataclasses.replace(spec.properties, saturation="left")
    c = card(Activation(dataclasses.replace(spec, properties=bad)))
    assert c["properties"]["saturation"]["verdict"] == "refuted"


def test_the_card_is_read_from_the_cache_the_second_time(monkeypatch):
    card(actviz.get("tanh"))
    symcache.clear_memory()
    import actviz.facts.cardcalc as card_module

    monkeypatch.setattr(card_module, "compute", lambda act: pytest.fail("computed again"))
    assert card(actviz.get("tanh"))["f"]["text"] == "tanh(x)"


@pytest.mark.parametrize("fmt", ["rich", "markdown", "latex", "json"])
def test_show_symbolic_in_every_format(fmt):
    result = runner.invoke(app, ["show", "gelu", "--symbolic", "-f", fmt])
    assert result.exit_code == 0, result.output
    if fmt == "json":
        assert json.loads(result.stdout)["derivative_extrema"][0]["x"] in ("sqrt(2)", "-sqrt(2)")
    elif fmt == "latex":
        assert r"\begin{align*}" in result.stdout and r"\operatorname{erf}" in result.stdout
    elif fmt == "markdown":
        assert result.stdout.startswith("### gelu") and "$$" in result.stdout
    else:
        assert "√2" in result.stdout and "sqrt(2)" in result.stdout


def test_markdown_without_symbolic_is_a_usage_error():
    result = runner.invoke(app, ["show", "relu", "-f", "latex"])
    assert result.exit_code == 2
    assert "needs --symbolic" in error_line(result)


def test_a_defined_activation_has_a_card():
    result = runner.invoke(app, ["show", "--define", "sq2=max(0,x)**2", "sq2", "--symbolic", "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["properties"] == {}  # nothing declared: nothing to confirm
    from actviz.core import registry

    registry.unregister("sq2")


def test_the_report_panel_shows_the_card_in_mathml():
    from actviz.render.report import report_html
    from actviz.render.report_data import build_report

    html = report_html(build_report([actviz.get("softplus")]))
    assert '<details class="card">' in html and "<math xmlns" in html and "symbolic card" in html


def test_every_built_in_has_its_card_shipped_with_actviz():
    from actviz.facts.activations import BUILTINS
    from actviz.facts.card import card_key

    shipped = symcache.packaged()
    missing = [s.name for s in BUILTINS if card_key(actviz.get(s.name)) not in shipped]
    assert not missing, f"run scripts/refresh_cards.py: no shipped card for {missing}"
