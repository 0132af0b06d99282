"""``actviz compare`` through the CLI: outputs, schema, errors, Ctrl-C; one slow test on the real data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import actviz.bench.data
import actviz.bench.train
from actviz.cli.app import app

from test_train import synthetic

runner = CliRunner()
DATA = synthetic(n_train=1500, n_test=300)
FAST = ["--hidden", "32", "--batch-size", "64", "--probe-size", "128", "--device", "cpu"]


@pytest.fixture
def fake_data(monkeypatch):
    monkeypatch.setattr(actviz.bench.data, "load", lambda data_dir=None, **kw: DATA)
    return DATA


def invoke(*args):
    return runner.invoke(app, ["compare", *args])


def error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_results_json_schema_and_plots(fake_data, tmp_path):
    out = tmp_path / "res"
    r = invoke("relu", "tanh", "--epochs", "2", "--seeds", "2", *FAST, "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "relu" in r.stdout and "tanh" in r.stdout
    res = json.loads((out / "results.json").read_text())
    assert res["interrupted"] is False
    cfg = res["config"]
    assert cfg["epochs"] == 2 and cfg["hidden"] == 32 and cfg["lr"] == 0.1 and cfg["optimizer"] == "sgd"
    assert cfg["init"] == "normal" and cfg["seeds"] == [0, 1]
    assert [a["name"] for a in cfg["activations"]] == ["relu", "tanh"]
    env = res["environment"]
    for key in ("torch", "python", "numpy", "device", "threads", "cpu"):
        assert key in env
    assert len(res["runs"]) == 4
    for run in res["runs"]:
        assert run["status"] == "completed" and len(run["history"]) == 2
        for h in run["history"]:
            for key in ("train_loss", "train_acc", "test_acc", "time", "diagnostics"):
                assert key in h
            assert set(h["diagnostics"]) >= {"dead", "saturated", "grad_norm"}
    summary = {row["label"]: row for row in res["summary"]}
    assert set(summary) == {"relu", "tanh"}
    assert summary["relu"]["runs"] == 2 and summary["relu"]["test_acc_std"] is not None
    assert (out / "curves.png").stat().st_size > 1000 and (out / "diagnostics.png").stat().st_size > 1000
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_param_and_maxout(fake_data, tmp_path):
    r = invoke("leaky_relu", "maxout", "--param", "leaky_relu.negative_slope=0.2", "--epochs", "1", *FAST,
               "--no-plots", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["runs"][0]["label"] == "leaky_relu(negative_slope=0.2)"
    assert not (tmp_path / "curves.png").exists()


def test_interrupt_writes_results_and_exits_130(fake_data, tmp_path, monkeypatch):
    real = actviz.bench.train.train_runs

    def interrupted(*args, callback=None, **kw):
        def cb(event):
            callback(event)
            if event["event"] == "epoch" and event["epoch"] == 2:
                raise KeyboardInterrupt

        return real(*args, callback=cb, **kw)

    monkeypatch.setattr(actviz.bench.train, "train_runs", interrupted)
    r = invoke("relu", "--epochs", "5", *FAST, "--out", str(tmp_path))
    assert r.exit_code == 130
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["interrupted"] is True
    assert res["runs"][0]["status"] == "interrupted" and len(res["runs"][0]["history"]) == 2


def test_unknown_activation_exits_2(fake_data, tmp_path):
    r = invoke("relux", "--out", str(tmp_path))
    assert r.exit_code == 2
    assert "relu" in error_line(r)


@pytest.mark.parametrize("args", [["--epochs", "0"], ["--seeds", "0"], ["--lr", "-1"], ["--optimizer", "rms"],
                                  ["--param", "relu.x=1"], ["--param", "elu.alpha=2"], ["--hidden", "0"]])
def test_bad_options_exit_2(fake_data, tmp_path, args):
    r = invoke("relu", *args, "--out", str(tmp_path))
    assert r.exit_code == 2, r.output
    assert error_line(r).startswith("error:")


def test_missing_data_exits_1_with_the_data_layer_message(tmp_path, monkeypatch):
    monkeypatch.setenv("ACTVIZ_MIRRORS", (tmp_path / "no-mirror").as_uri() + "/")
    r = invoke("relu", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert r.exit_code == 1
    line = error_line(r)
    assert "error:" in line and "nowhere" in line
    assert not (tmp_path / "out" / "results.json").exists()


def test_unwritable_out_exits_1_before_training(fake_data, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = invoke("relu", "--out", str(blocker / "sub"))
    assert r.exit_code == 1
    assert "--out" in error_line(r)


def test_help_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys; from actviz.cli.app import app\ntry:\n app(['--help'])\nexcept SystemExit: pass\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"


REAL = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.slow
@pytest.mark.skipif(not (REAL / "train-images-idx3-ubyte.gz").exists(), reason="no Fashion-MNIST package")
def test_real_fashion_mnist_one_epoch(tmp_path, monkeypatch):
    monkeypatch.delenv("ACTVIZ_DATA_DIR", raising=False)
    r = invoke("relu", "sigmoid", "--epochs", "1", "--data-dir", str(REAL), "--out", str(tmp_path), "--no-plots")
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / "results.json").read_text())
    acc = {run["activation"]: run["history"][-1]["test_acc"] for run in res["runs"]}
    assert 0.70 < acc["relu"] < 0.85  # d2l: about 0.75-0.80 after one epoch
    assert 0.35 < acc["sigmoid"] < acc["relu"]
