"""``actviz compare --model/--norm/--residual`` end to end on a small synthetic set, and the labels naming them."""

from __future__ import annotations

import json

import pytest

import actviz.bench.data
from actviz.cli.app import app
from actviz.results.labels import config_label, network_label, run_key

from helpers import error_line, runner
from test_train import synthetic

DATA = synthetic(n_train=600, n_test=200)
FAST = ["--batch-size", "64", "--probe-size", "64", "--device", "cpu", "--epochs", "1", "--seeds", "1",
        "--no-plots"]


@pytest.fixture
def fake_data(monkeypatch):
    monkeypatch.setattr(actviz.bench.data, "load", lambda data_dir=None, **kw: DATA)
    return DATA


def _runs(out):
    return json.loads((out / "results.json").read_text())["runs"]


@pytest.mark.slow
def test_compare_trains_lenet_and_records_channel_diagnostics(fake_data, tmp_path):
    r = runner.invoke(app, ["compare", "sigmoid", "relu", "--model", "lenet", "--lr", "0.5", "--init", "xavier",
                            *FAST, "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "LeNet-5" in r.output or "model=lenet" in r.output
    runs = _runs(tmp_path)
    assert {run["config"]["model"] for run in runs} == {"lenet"}
    diags = runs[0]["history"][0]["diagnostics"]
    assert len(diags["dead"]) == 4 and len(diags["grad_norm"]) == 5
    assert all("model=lenet" in run["config_label"] for run in runs)


def test_a_norm_sweep_is_two_configurations_named_by_their_norm(fake_data, tmp_path):
    r = runner.invoke(app, ["compare", "sigmoid", "--depth", "3", "--hidden", "16", "--norm", "none,batch",
                            *FAST, "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "norm=none" in r.output and "norm=batch" in r.output
    assert sorted(run["config"]["norm"] for run in _runs(tmp_path)) == ["batch", "none"]


def test_residual_is_a_flag_of_the_mlp(fake_data, tmp_path):
    r = runner.invoke(app, ["compare", "tanh", "--depth", "2", "--hidden", "16", "--residual", *FAST,
                            "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert _runs(tmp_path)[0]["config"]["residual"] is True


@pytest.mark.parametrize("args,message", [
    (["--model", "resnet"], "--model must be one of mlp, lenet, cnn, got 'resnet'"),
    (["--norm", "group"], "--norm must be one of none, batch, layer, got 'group'"),
    (["--model", "cnn", "--norm", "batch"], "--norm applies to model mlp only"),
])
def test_a_wrong_network_option_is_one_usage_line(fake_data, tmp_path, args, message):
    r = runner.invoke(app, ["compare", "relu", *args, *FAST, "--out", str(tmp_path)])
    assert r.exit_code == 2
    assert message in error_line(r)


def test_old_store_keys_and_labels_stay_what_they_were():
    old = {"epochs": 10, "hidden": 256, "depth": 1, "lr": 0.1, "batch_size": 256, "optimizer": "sgd",
           "init": "normal", "probe_size": 1024}
    new = {**old, "model": "mlp", "norm": "none", "residual": False}
    assert run_key("relu", {}, old, 0) == run_key("relu", {}, new, 0)
    assert '"model"' not in run_key("relu", {}, new, 0)
    assert '"model":"lenet"' in run_key("relu", {}, {**new, "model": "lenet"}, 0)
    assert config_label(new) == "defaults"
    assert config_label({**new, "norm": "batch", "depth": 5}) == "depth=5, norm=batch"


def test_network_label_names_the_network():
    base = {"epochs": 10, "hidden": 256, "depth": 2, "lr": 0.1, "batch_size": 256, "optimizer": "sgd",
            "init": "normal"}
    assert network_label(base).startswith("784-256-256-10, sgd lr 0.1")
    assert network_label({**base, "norm": "batch", "residual": True}).startswith("784-256-256-10 batch-norm residual")
    assert network_label({**base, "model": "lenet", "lr": 0.9}).startswith("LeNet-5, sgd lr 0.9")
    assert network_label({**base, "model": "cnn"}).startswith("CNN 8-16-32")


@pytest.mark.slow
def test_the_engine_gives_a_lenet_run_the_same_numbers_whatever_else_trains_beside_it():
    from actviz.bench.config import TrainConfig
    from actviz.bench.train import train_runs
    from actviz.core import registry

    cfg = TrainConfig(model="lenet", lr=0.3, init="xavier", epochs=1, batch_size=64, probe_size=32, device="cpu")
    sig = registry.get("sigmoid")
    alone = train_runs([sig], DATA, cfg, seeds=[1]).runs
    both = train_runs([registry.get("relu"), sig], DATA, cfg, seeds=[0, 1]).runs
    (mine,) = [r for r in both if r["label"] == "sigmoid" and r["seed"] == 1]
    a, b = alone[0]["history"][0], mine["history"][0]
    assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)
    assert a["test_acc"] == pytest.approx(b["test_acc"], abs=1 / 200)
    assert [r["status"] for r in both] == ["completed"] * 4
