"""``actviz report`` without a browser: the page's data, the page's structure, the CLI's errors.

The browser tests are in test_report_browser.py.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

import actviz
import actviz.bench.data
from actviz.cli.app import app
from actviz.core import registry
from actviz.render import report

from helpers import error_line, runner
from report_stores import write_store


def invoke(*args):
    result = runner.invoke(app, ["report", *args])
    assert "Traceback" not in result.output
    return result


def page_data(html: str) -> dict:
    m = re.search(r'<script id="actviz-data" type="application/json">(.*?)</script>', html, re.S)
    assert m, "no data block"
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def elu_relu():
    return report.build_report(registry.bind_all(["elu", "relu", "sigmoid", "leaky_relu", "hard_tanh"]))


def _act(data, name):
    return next(a for a in data["activations"] if a["name"] == name)


# --------------------------------------------------------------------------- the data


@pytest.mark.slow
def test_grid_holds_default_and_every_combination(elu_relu):
    elu = _act(elu_relu, "elu")
    (alpha,) = elu["params"]
    assert alpha["key"] == "alpha" and alpha["values"][alpha["default"]] == 1.0
    assert alpha["values"] == sorted(alpha["values"]) and len(alpha["values"]) >= 10
    assert set(elu["combos"]) == {str(i) for i in range(len(alpha["values"]))}
    assert elu["initial"] == str(alpha["default"])
    assert _act(elu_relu, "relu")["params"] == [] and list(_act(elu_relu, "relu")["combos"]) == [""]


def test_property_rows_follow_the_registry_at_each_value(elu_relu):
    elu = _act(elu_relu, "elu")
    values = elu["params"][0]["values"]
    for i, alpha in enumerate(values):
        row = elu["combos"][str(i)]["row"]
        declared = registry.get("elu", alpha=alpha).properties
        assert row["cells"]["range"]["json"] == declared.range.to_json()
        assert row["cells"]["range"]["json"][0] == pytest.approx(-alpha)
        assert row["cells"]["continuity"]["json"] == declared.continuity
        assert row["disagree"] == [] and row["ok"]
        assert row["autograd_max_error"] <= 1e-9
    assert elu["combos"][str(values.index(2.0))]["row"]["cells"]["range"]["text"] == "(−2, ∞)"
    assert elu["combos"][str(values.index(2.0))]["label"] == "elu(alpha=2)"


def test_curves_are_the_registry_functions(elu_relu):
    elu = _act(elu_relu, "elu")
    i = elu["params"][0]["values"].index(2.0)
    c = elu["combos"][str(i)]["curves"]
    x = np.array(elu["x"][c["xi"]], dtype=float)
    act = registry.get("elu", alpha=2.0)
    with torch.no_grad():
        f = act.forward(torch.as_tensor(x, dtype=torch.float64)).numpy()
        d = act.derivative(torch.as_tensor(x, dtype=torch.float64)).numpy()
    got_f = np.array([np.nan if v is None else v for v in c["f"]])
    got_d = np.array([np.nan if v is None else v for v in c["df"]])
    ok = ~np.isnan(got_f)
    assert ok.sum() > 400 and np.allclose(got_f[ok], f[ok], rtol=1e-5, atol=1e-6)
    ok = ~np.isnan(got_d)
    assert np.allclose(got_d[ok], d[ok], rtol=1e-5, atol=1e-6)
    # f″ (autograd of the analytic f′) agrees with central differences of f′ away from the kink
    h = 1e-5
    for x0 in (-3.0, -1.0, -0.5, 0.7, 2.5):
        j = int(np.argmin(np.abs(x - x0)))
        xt = torch.tensor([x[j] - h, x[j] + h], dtype=torch.float64)
        fd = float((act.derivative(xt)[1] - act.derivative(xt)[0]) / (2 * h))
        assert c["d2f"][j] == pytest.approx(fd, rel=1e-4, abs=1e-6)


def test_kinks_dead_and_saturated_regions(elu_relu):
    relu = _act(elu_relu, "relu")["combos"][""]["curves"]
    assert relu["kinks"] == [{"x": 0.0, "f": 0.0, "df": 0.0}]
    (dead,) = relu["dead"]
    assert dead[0] == -6.0 and -0.05 < dead[1] <= 0 and relu["saturated"] == []
    x = _act(elu_relu, "relu")["x"][relu["xi"]]
    assert relu["df"][x.index(0.0)] is None  # f′ jumps at 0: the line breaks, the marker shows 0
    sig = _act(elu_relu, "sigmoid")["combos"][""]["curves"]
    assert sig["dead"] == [] and len(sig["saturated"]) == 2
    (left, right) = sig["saturated"]
    assert left[0] == -6.0 and right[1] == 6.0 and -4 < left[1] < -2 < 2 < right[0] < 4
    ht = _act(elu_relu, "hard_tanh")["combos"][""]["curves"]
    assert [r[0] for r in ht["dead"]] == [-6.0, pytest.approx(1.0, abs=0.03)]
    leaky = _act(elu_relu, "leaky_relu")
    default = leaky["combos"][leaky["initial"]]["curves"]
    assert default["dead"] == [] and default["saturated"] == []  # slope 0.01 is small but not saturating
    zero = leaky["combos"][str(leaky["params"][0]["values"].index(0.0))]["curves"]
    assert zero["dead"] and zero["dead"][0][0] == -6.0


def test_param_override_is_the_initial_value_and_joins_the_grid():
    data = report.build_report(registry.bind_all(["elu"], ["elu.alpha=1.37"]))
    elu = data["activations"][0]
    values = elu["params"][0]["values"]
    assert 1.37 in values and 1.0 in values
    assert elu["initial"] == str(values.index(1.37))
    assert elu["combos"][elu["initial"]]["row"]["cells"]["range"]["json"][0] == pytest.approx(-1.37)


def test_choice_parameter_offers_every_choice():
    gelu = report.build_report(registry.bind_all(["gelu"]))["activations"][0]
    assert gelu["params"][0]["values"] == ["none", "tanh"]
    assert gelu["combos"]["0"]["formula"] != gelu["combos"]["1"]["formula"]


def test_user_activation_without_a_grid_gets_its_defaults(tmp_path):
    actviz.register(
        name="scaled_tanh_report",
        forward=lambda x, scale=2.0: scale * torch.tanh(x),
        derivative=lambda x, scale=2.0: scale * (1 - torch.tanh(x) ** 2),
        formula="scale·tanh(x)",
        params=(actviz.Param("scale", 2.0),),
    )
    try:
        data = report.build_report(registry.bind_all(["scaled_tanh_report", "relu"]))
        act = data["activations"][0]
        assert act["params"][0]["values"] == [2.0] and list(act["combos"]) == ["0"]
        row = act["combos"]["0"]["row"]
        assert row["declared"] is False and row["cells"]["range"]["text"] == "(−2, 2)"
        html = report.report_html(data)
        assert 'data-activation="scaled_tanh_report"' in html
        assert "(fixed in this report)" in html
    finally:
        actviz.unregister("scaled_tanh_report")


# --------------------------------------------------------------------------- the page


@pytest.mark.slow
def test_page_is_self_contained_with_the_spec_hooks(tmp_path):
    result = invoke("elu", "relu", "gelu", "maxout", "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text()
    assert re.findall(r'<tr data-activation="([^"]+)"', html) == ["elu", "relu", "gelu", "maxout"]
    assert re.findall(r'data-param="([^"]+)"', html) == ["elu.alpha", "gelu.approximate"]
    assert '<table id="properties">' in html and 'id="training"' not in html
    # plotly.js once, nothing fetched: no external script, stylesheet, image or font
    assert html.count(report.plotly_js()[:200]) == 1
    assert not re.search(r'<(script|img|iframe)[^>]*\ssrc=', html)
    assert not re.search(r'<link[^>]*href=', html)
    assert "@import" not in html and "url(http" not in html
    data = page_data(html)
    assert [a["name"] for a in data["activations"]] == ["elu", "relu", "gelu", "maxout"]


@pytest.mark.slow
def test_all_activations_under_10_mb(tmp_path):
    out = tmp_path / "all.html"
    result = invoke("-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.stat().st_size < 10_000_000
    html = out.read_text()
    assert len(re.findall(r"<tr data-activation=", html)) == len(registry.names())
    assert "MB" in result.stderr


def test_default_output_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke("relu").exit_code == 0
    assert (tmp_path / "actviz-report.html").is_file()


# --------------------------------------------------------------------------- training stores


@pytest.mark.parametrize("shape,n_configs", [("configs", 2), ("flat", 1)])
def test_training_section_from_both_store_layouts(tmp_path, shape, n_configs):
    store = write_store(tmp_path / "store", shape)
    result = invoke("relu", "tanh", "--results", str(store), "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 0, result.output
    html = (tmp_path / "r.html").read_text()
    assert '<section id="training">' in html
    (training,) = page_data(html)["training"]
    configs = training["configurations"]
    assert len(configs) == n_configs
    if shape == "configs":
        assert [c["label"] for c in configs] == ["depth=1, lr=0.1", "depth=2, lr=0.1"]
        assert configs[0]["rows"][0]["test_acc_ci"] is not None and configs[0]["pairs"] and configs[0]["verdicts"]
    else:
        assert configs[0]["label"] == "epochs=3, hidden=64"  # the store's label: what differs from the defaults
    for cfg in configs:
        assert [r["label"] for r in cfg["rows"]] == ["tanh", "relu"]  # sorted by mean; the activations named, not the store's third
        curve = cfg["curves"]["tanh"]
        assert curve["epochs"] == [1, 2, 3] and curve["seeds"] == 3
        acc = curve["test_acc"]
        assert all(lo <= m <= hi for lo, m, hi in zip(acc["low"], acc["mean"], acc["high"]))
        assert acc["low"][-1] < acc["high"][-1]  # the seeds differ: a band, not a line
        assert len(cfg["diagnostics"]["relu"]["grad_norm"]) == cfg["config"]["depth"] + 1


@pytest.mark.slow
def test_named_activations_are_the_only_ones_in_the_training_section(tmp_path):
    store = write_store(tmp_path / "store", "configs")  # relu, tanh and leaky_relu(negative_slope=0.1)
    assert invoke("relu", "tanh", "--results", str(store), "-o", str(tmp_path / "r.html")).exit_code == 0
    (training,) = page_data((tmp_path / "r.html").read_text())["training"]
    for cfg in training["configurations"]:
        assert [r["label"] for r in cfg["rows"]] == ["tanh", "relu"]
        assert set(cfg["curves"]) == set(cfg["diagnostics"]) == set(cfg["statuses"]) == {"relu", "tanh"}
        assert all({p["a"], p["b"]} == {"relu", "tanh"} for p in cfg["pairs"])
    assert training["sweep"]["activations"] == ["tanh", "relu"]
    # with no names, every activation of the store
    assert invoke("--results", str(store), "-o", str(tmp_path / "all.html")).exit_code == 0
    (every,) = page_data((tmp_path / "all.html").read_text())["training"]
    assert len(every["configurations"][0]["rows"]) == 3


def test_naming_activations_a_store_lacks_is_a_usage_error(tmp_path):
    store = write_store(tmp_path / "store", "configs")
    result = invoke("gelu", "--results", str(store), "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 2
    assert "no runs of gelu" in error_line(result) and "leaky_relu, relu, tanh" in error_line(result)


def test_the_sweep_stars_the_best_the_statistics_name_and_none_at_chance(tmp_path):
    """The page's best configuration is the sweep summary's (the CLI's rule), not a second one of its own."""
    store = write_store(tmp_path / "store", "configs")
    doc = json.loads((store / "results.json").read_text())
    for run in doc["runs"]:
        if run["activation"] == "tanh":  # tanh learns nothing in either configuration
            for h in run["history"]:
                h["test_acc"] = 0.1
    (store / "results.json").write_text(json.dumps(doc))
    assert invoke("relu", "tanh", "--results", str(store), "-o", str(tmp_path / "r.html")).exit_code == 0
    (training,) = page_data((tmp_path / "r.html").read_text())["training"]
    sweep = training["sweep"]
    best = dict(zip(sweep["activations"], sweep["best"]))
    assert best["tanh"] is None and best["relu"] == 0


def test_a_sweep_is_one_grid_of_mean_accuracy_in_percent(tmp_path):
    store = write_store(tmp_path / "store", "configs")
    assert invoke("relu", "tanh", "--results", str(store), "-o", str(tmp_path / "r.html")).exit_code == 0
    (training,) = page_data((tmp_path / "r.html").read_text())["training"]
    sweep = training["sweep"]
    assert sweep["configs"] == [c["label"] for c in training["configurations"]]
    for i, cfg in enumerate(training["configurations"]):
        for j, row in enumerate(cfg["rows"]):
            assert sweep["acc_pct"][i][j] == pytest.approx(100 * row["test_acc_mean"], abs=0.01)
            assert sweep["n"][i][j] == 3
    assert sweep["best"] == [0, 0]  # depth 1 beats depth 2 for both (the stores' histories say so)
    flat = write_store(tmp_path / "flat", "flat")
    assert invoke("relu", "--results", str(flat), "-o", str(tmp_path / "f.html")).exit_code == 0
    assert page_data((tmp_path / "f.html").read_text())["training"][0]["sweep"] is None  # one configuration


def test_statistics_are_recomputed_from_the_runs_never_copied_from_the_stored_summary(tmp_path):
    store = write_store(tmp_path / "store", "configs")
    doc = json.loads((store / "results.json").read_text())
    honest = json.loads(json.dumps(doc))
    for entry in doc["summary"]:  # a hand-edited summary: every mean 99.9 %
        for row in entry["activations"]:
            row["test_acc_mean"] = 0.999
    (store / "results.json").write_text(json.dumps(doc))
    assert invoke("relu", "--results", str(store), "-o", str(tmp_path / "r.html")).exit_code == 0
    (training,) = page_data((tmp_path / "r.html").read_text())["training"]
    shown = [row["test_acc_mean"] for cfg in training["configurations"] for row in cfg["rows"]]
    assert 0.999 not in shown
    (store / "results.json").write_text(json.dumps(honest))
    assert invoke("relu", "--results", str(store), "-o", str(tmp_path / "s.html")).exit_code == 0
    (again,) = page_data((tmp_path / "s.html").read_text())["training"]
    assert again["configurations"] == training["configurations"]


def test_several_stores(tmp_path):
    a, b = write_store(tmp_path / "a", "configs"), write_store(tmp_path / "b", "flat")
    result = invoke("relu", "--results", str(a), "--results", str(b / "results.json"), "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 0, result.output
    assert [len(s["configurations"]) for s in page_data((tmp_path / "r.html").read_text())["training"]] == [2, 1]


@pytest.mark.slow
def test_reads_what_compare_writes(tmp_path, monkeypatch):
    """The store of today's `actviz compare` (tiny synthetic data), whatever its layout."""
    from test_train import synthetic

    data = synthetic(n_train=600, n_test=200)
    monkeypatch.setattr(actviz.bench.data, "load", lambda data_dir=None, **kw: data)
    out = tmp_path / "cmp"
    r = runner.invoke(app, ["compare", "relu", "tanh", "--epochs", "2", "--seeds", "2", "--hidden", "16",
                            "--batch-size", "64", "--probe-size", "64", "--device", "cpu", "--no-plots",
                            "--out", str(out)])
    assert r.exit_code == 0, r.output
    from actviz.cli.report import _training

    stores = _training(out)
    (cfg,) = stores["configurations"]
    assert {row["label"] for row in cfg["rows"]} == {"relu", "tanh"}
    assert cfg["curves"]["relu"]["seeds"] == 2 and cfg["curves"]["relu"]["epochs"] == [1, 2]
    result = invoke("relu", "--results", str(out), "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 0, result.output


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("args,expected", [
    (["relux"], "unknown activation 'relux'"),
    (["elu", "-p", "elu.alpha"], "malformed --param"),
    (["elu", "-p", "elu.beta=2"], "no parameter 'beta'"),
    (["elu", "-p", "elu.alpha=abc"], "takes a number"),
    (["relu", "-p", "elu.alpha=2"], "elu is not in the report"),
    (["relu", "--results", "/nonexistent/store"], "does not exist"),
])
def test_wrong_invocation_exits_2(tmp_path, args, expected):
    result = invoke(*args, "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 2, result.output
    assert expected in error_line(result)
    assert not (tmp_path / "r.html").exists()


def test_results_dir_without_results_json(tmp_path):
    (tmp_path / "empty").mkdir()
    result = invoke("relu", "--results", str(tmp_path / "empty"), "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 2 and "no results.json" in error_line(result)


def test_corrupt_results_json_exits_1(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "results.json").write_text('{"runs": [')
    result = invoke("relu", "--results", str(tmp_path / "bad"), "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 1 and "cannot read" in error_line(result)


def test_unwritable_output_exits_1_and_keeps_the_old_file(tmp_path):
    result = invoke("relu", "-o", str(tmp_path / "missing" / "r.html"))
    assert result.exit_code == 1 and "does not exist" in error_line(result)
    result = invoke("relu", "-o", str(tmp_path))
    assert result.exit_code == 1 and "is a directory" in error_line(result)
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "r.html").write_text("old")
    locked.chmod(0o500)
    try:
        result = invoke("relu", "-o", str(locked / "r.html"))
        if result.exit_code == 0:  # running as root: permissions do not apply
            pytest.skip("running as root")
        assert result.exit_code == 1 and "not writable" in error_line(result)
        assert (locked / "r.html").read_text() == "old"
    finally:
        locked.chmod(0o700)


def test_help_does_not_import_torch_or_plotly():
    import subprocess
    import sys

    code = ("import sys; from typer.testing import CliRunner; from actviz.cli.app import app; "
            "r = CliRunner().invoke(app, ['report', '--help']); assert r.exit_code == 0, r.output; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'plotly', 'matplotlib'))) ")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
