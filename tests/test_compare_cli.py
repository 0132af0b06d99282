"""``actviz compare`` through the CLI: outputs, schema, the store, sweeps; one slow test on real data.

Also what happens when things go wrong: Ctrl-C and signals keep the finished epochs, a store
or a picture that cannot be written is one error line after the summary, a learning rate that
overflows is a diverged run, wrong or huge values are one usage line, and the summary fits 80
columns.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

import actviz.bench.compare
import actviz.bench.data
import actviz.render.training
import actviz.results.store
import actviz.bench.train
from actviz.cli.app import app

from helpers import error_line, runner
from test_train import synthetic

DATA = synthetic(n_train=1500, n_test=300)
FAST = ["--hidden", "32", "--batch-size", "64", "--probe-size", "128", "--device", "cpu"]


@pytest.fixture
def fake_data(monkeypatch):
    monkeypatch.setattr(actviz.bench.data, "load", lambda data_dir=None, **kw: DATA)
    return DATA


@pytest.fixture
def count_trained(monkeypatch):
    """Counts the runs that train_grid is asked to train."""
    real = actviz.bench.train.train_grid
    trained: list[tuple[str, int]] = []

    def counting(*args, only=None, **kw):
        res = real(*args, only=only, **kw)
        trained.extend((r["label"], r["seed"]) for r in res.runs)
        return res

    monkeypatch.setattr(actviz.bench.train, "train_grid", counting)
    return trained


def invoke(*args):
    return runner.invoke(app, ["compare", *args])


def interrupt_at(monkeypatch, *, seed: int, epoch: int, exc: BaseException | None = None, signum: int | None = None):
    """Make training stop (Ctrl-C, or a real signal to this process) at the end of that seed's epoch."""
    real = actviz.bench.train.train_grid

    def interrupted(*args, callback=None, **kw):
        def cb(event):
            callback(event)
            if event["event"] == "epoch" and event["seed"] == seed and event["epoch"] == epoch:
                if signum is not None:
                    os.kill(os.getpid(), signum)
                else:
                    raise exc or KeyboardInterrupt

        return real(*args, callback=cb, **kw)

    monkeypatch.setattr(actviz.bench.train, "train_grid", interrupted)


def load(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())


@pytest.mark.slow
def test_results_json_schema_and_plots(fake_data, tmp_path):
    out = tmp_path / "res"
    r = invoke("relu", "tanh", "--epochs", "2", "--seeds", "2", *FAST, "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "relu" in r.stdout and "tanh" in r.stdout
    res = load(out)
    assert res["interrupted"] is False and res["schema"] == 2
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
        assert run["config"]["epochs"] == 2 and run["config_label"] == res["runs"][0]["config_label"]
        assert "device" not in run["config"]
        for h in run["history"]:
            for key in ("train_loss", "train_acc", "test_acc", "test_loss", "time", "diagnostics"):
                assert key in h
            assert set(h["diagnostics"]) >= {"dead", "saturated", "grad_norm"}
    assert len({run["key"] for run in res["runs"]}) == 4
    (entry,) = res["summary"]
    assert set(entry) >= {"config_label", "config", "activations", "pairs", "verdicts", "wins"}
    rows = {row["label"]: row for row in entry["activations"]}
    assert set(rows) == {"relu", "tanh"}
    for row in rows.values():
        assert row["n"] == 2 and row["test_acc_std"] is not None and len(row["test_acc_ci"]) == 2
        assert row["test_acc_ci"][0] <= row["test_acc_mean"] <= row["test_acc_ci"][1]
        assert len(row["train_loss_ci"]) == 2
    (pair,) = entry["pairs"]
    assert {pair["a"], pair["b"]} == {"relu", "tanh"} and pair["p"] == pair["p_holm"] and len(pair["ci"]) == 2
    assert {v["label"] for v in entry["verdicts"]} == {"relu", "tanh"}
    assert "Verdict" in r.stdout
    assert (out / "curves.png").stat().st_size > 1000 and (out / "diagnostics.png").stat().st_size > 1000
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_default_is_three_seeds_with_verdict(fake_data, tmp_path):
    r = invoke("relu", "tanh", "sigmoid", "--epochs", "1", *FAST, "--no-plots", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    res = load(tmp_path)
    assert res["config"]["seeds"] == [0, 1, 2] and len(res["runs"]) == 9
    entry = res["summary"][0]
    assert entry["adjusted"] is True and set(entry["wins"]) == {"relu", "tanh", "sigmoid"}
    assert len(entry["pairs"]) == 3
    assert "W/T/L" in r.stdout and "Holm" in r.stdout
    best = entry["best"]
    assert f"{best}: the highest mean test accuracy" in r.stdout


def test_one_seed_says_there_is_no_interval(fake_data, tmp_path):
    r = invoke("relu", "tanh", "--epochs", "1", "--seeds", "1", *FAST, "--no-plots", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    text = " ".join(r.stdout.split())
    assert "1 seed: no interval and no test" in text and "0 seeds" not in text
    assert "W/T/L" not in text and "Holm" not in text  # no test: nothing to adjust, no wins to count
    row = load(tmp_path)["summary"][0]["activations"][0]
    assert row["test_acc_ci"] is None and row["test_acc_std"] is None


def test_param_and_maxout(fake_data, tmp_path):
    r = invoke("leaky_relu", "maxout", "--param", "leaky_relu.negative_slope=0.2", "--epochs", "1", "--seeds", "1",
               *FAST, "--no-plots", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    res = load(tmp_path)
    assert res["runs"][0]["label"] == "leaky_relu(negative_slope=0.2)"
    assert not (tmp_path / "curves.png").exists()


@pytest.mark.slow
def test_sweep_two_configurations_three_variants_three_seeds(fake_data, tmp_path, count_trained):
    r = invoke("relu", "leaky_relu", "-p", "leaky_relu.negative_slope=0.01,0.3", "--depth", "1,2", "--epochs", "1",
               *FAST, "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    res = load(tmp_path)
    assert len(res["runs"]) == 18 and len(count_trained) == 18
    assert [s["config_label"] for s in res["summary"]] == [
        "epochs=1, hidden=32, batch_size=64, probe_size=128", "epochs=1, hidden=32, depth=2, batch_size=64, probe_size=128"]
    for entry in res["summary"]:
        rows = entry["activations"]
        assert {row["label"] for row in rows} == {"relu", "leaky_relu", "leaky_relu(negative_slope=0.3)"}
        assert all(row["n"] == 3 for row in rows)
        assert [(-row["test_acc_mean"], row["label"]) for row in rows] == sorted((-row["test_acc_mean"], row["label"])
                                                                                for row in rows)
        assert len(entry["pairs"]) == 3
    assert r.stdout.count("Verdict") == 2
    text = " ".join(r.stdout.split())
    assert "The sweep: test accuracy % (95% CI) per configuration" in text
    assert "depth=1" in text and "depth=2" in text and "overall: " in text


@pytest.mark.slow
def test_comma_lists_in_every_training_option(fake_data, tmp_path):
    r = invoke("relu", "--epochs", "1", "--seeds", "1", "--hidden", "16,32", "--lr", "0.1,0.05", "--optimizer",
               "sgd,adam", "--init", "normal,xavier", "--batch-size", "64,128", "--device", "cpu",
               "--probe-size", "64", "--no-plots", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    res = load(tmp_path)
    assert len(res["summary"]) == 32 and len({run["config_label"] for run in res["runs"]}) == 32


@pytest.mark.slow
def test_store_reuses_runs_and_fresh_retrains(fake_data, tmp_path, count_trained):
    args = ["relu", "tanh", "sigmoid", "--epochs", "1", *FAST, "--no-plots", "--out", str(tmp_path)]
    assert invoke(*args, "--seeds", "3").exit_code == 0
    assert len(count_trained) == 9
    count_trained.clear()
    r = invoke(*args, "--seeds", "5")
    assert r.exit_code == 0, r.output
    assert "reused 9 runs, training 6" in r.stderr
    assert sorted({s for _, s in count_trained}) == [3, 4] and len(count_trained) == 6
    assert all(row["n"] == 5 for row in load(tmp_path)["summary"][0]["activations"])
    count_trained.clear()
    r = invoke(*args, "--seeds", "5")
    assert r.exit_code == 0 and count_trained == [] and "reused 15 runs, training 0" in r.stderr
    assert "n" in r.stdout and "Verdict" in r.stdout  # the summary is printed from the store
    count_trained.clear()
    r = invoke("relu", "--epochs", "1", "--seeds", "2", *FAST, "--no-plots", "--fresh", "--out", str(tmp_path))
    assert r.exit_code == 0 and len(count_trained) == 2
    assert len(load(tmp_path)["runs"]) == 15


def test_store_keeps_other_configurations(fake_data, tmp_path):
    assert invoke("relu", "--epochs", "1", "--seeds", "1", *FAST, "--no-plots", "--out", str(tmp_path)).exit_code == 0
    assert invoke("relu", "--epochs", "2", "--seeds", "1", *FAST, "--no-plots", "--out", str(tmp_path)).exit_code == 0
    res = load(tmp_path)
    assert sorted(run["config"]["epochs"] for run in res["runs"]) == [1, 2]
    assert len(res["summary"]) == 2


def test_reads_a_schema_1_store(fake_data, tmp_path, count_trained):
    assert invoke("relu", "--epochs", "1", "--seeds", "1", *FAST, "--no-plots", "--out", str(tmp_path)).exit_code == 0
    res = load(tmp_path)
    old = {"schema": 1, "command": "compare", "config": {**res["runs"][0]["config"], "device": "cpu", "threads": None,
                                                         "seeds": [0], "target_accuracy": 0.8},
           "runs": [{k: v for k, v in run.items() if k not in ("config", "config_label", "key")} for run in res["runs"]],
           "summary": [{"label": "relu"}]}
    (tmp_path / "results.json").write_text(json.dumps(old))
    count_trained.clear()
    r = invoke("relu", "--epochs", "1", "--seeds", "1", *FAST, "--no-plots", "--out", str(tmp_path))
    assert r.exit_code == 0 and count_trained == [], r.output
    r = runner.invoke(app, ["results", str(tmp_path), "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["configurations"][0]["activations"][0]["n"] == 1


@pytest.mark.slow
def test_unreadable_store_is_an_error(fake_data, tmp_path):
    (tmp_path / "results.json").write_text("{not json")
    r = invoke("relu", "--epochs", "1", *FAST, "--out", str(tmp_path))
    assert r.exit_code == 1 and "results.json" in error_line(r)
    assert (tmp_path / "results.json").read_text() == "{not json"


# --------------------------------------------------------------------------- interruptions, failures, wrong values


@pytest.mark.slow
def test_interrupt_before_the_first_epoch_keeps_the_earlier_results(fake_data, tmp_path, monkeypatch):
    assert invoke("relu", "--epochs", "2", "--seeds", "1", *FAST, "--out", str(tmp_path)).exit_code == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(before) == {"results.json", "curves.png", "diagnostics.png"}
    real = actviz.bench.train.train_grid

    def ctrl_c_in_first_epoch(*args, callback=None, **kw):
        def cb(event):
            callback(event)
            if event["event"] == "steps":
                raise KeyboardInterrupt

        return real(*args, callback=cb, **kw)

    monkeypatch.setattr(actviz.bench.train, "train_grid", ctrl_c_in_first_epoch)
    r = invoke("relu", "tanh", "sigmoid", "--epochs", "3", *FAST, "--out", str(tmp_path))
    assert r.exit_code == 130
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before


@pytest.mark.slow
@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)])
def test_sigterm_and_sighup_are_handled_like_ctrl_c(fake_data, tmp_path, monkeypatch, signum, code):
    interrupt_at(monkeypatch, seed=0, epoch=2, signum=signum)
    r = invoke("relu", "tanh", "--epochs", "4", "--seeds", "1", *FAST, "--out", str(tmp_path))
    assert r.exit_code == code, r.output
    res = load(tmp_path)
    assert res["interrupted"] is True
    assert {run["status"] for run in res["runs"]} == {"interrupted"}
    assert all(run["epochs_completed"] >= 1 for run in res["runs"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert "interrupted" in r.stderr


@pytest.mark.slow
def test_sigterm_to_a_real_process_keeps_the_finished_epochs(tmp_path):
    """A real `timeout`-style SIGTERM: exit 143, results.json with the finished epochs, no temporary files."""
    import sys

    from readiness import Watched

    script = (
        "import sys; sys.path.insert(0, %r)\n"
        "from test_train import synthetic\n"
        "import actviz.bench.data\n"
        "D = synthetic(n_train=3000, n_test=300)\n"
        "actviz.bench.data.load = lambda data_dir=None, **kw: D\n"
        "from actviz.cli.app import main\n"
        "sys.argv = ['actviz', 'compare', 'relu', '--seeds', '1', '--epochs', '100000', '--hidden', '32',\n"
        "            '--batch-size', '64', '--probe-size', '64', '--device', 'cpu', '--no-plots', '--out', %r]\n"
        "main()\n" % (str(Path(__file__).parent), str(tmp_path))
    )
    watched = Watched([sys.executable, "-c", script], env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        watched.wait_ready()  # training's handlers are installed
        watched.wait_for(lambda: (tmp_path / "results.json").exists(), "the first epoch saved")
        watched.send(signal.SIGTERM)
    finally:
        code, lines = watched.finish(timeout=60)
    assert code == 143, lines[-20:]
    assert lines[-1] == ("interrupted: finished epochs are kept in results.json; runs in progress are marked "
                         "interrupted and left out of the statistics"), lines[-20:]
    assert not any("Traceback" in line or line.startswith("error") for line in lines), lines
    res = load(tmp_path)
    assert res["interrupted"] is True and res["runs"][0]["status"] == "interrupted"
    assert res["runs"][0]["epochs_completed"] >= 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_summary_printed_when_results_json_cannot_be_written(fake_data, tmp_path, monkeypatch):
    real = actviz.results.store.write_atomic

    def full_disk(path, data):
        if Path(path).name == "results.json":
            raise actviz.results.store.ActvizError(f"cannot write {str(path)!r}: No space left on device")
        return real(path, data)

    monkeypatch.setattr(actviz.results.store, "write_atomic", full_disk)
    r = invoke("relu", "tanh", "--epochs", "1", "--seeds", "2", *FAST, "--out", str(tmp_path))
    assert r.exit_code == 1
    assert "Verdict" in r.stdout and "relu" in r.stdout  # the summary is there
    line = [x for x in r.stderr.splitlines() if "error:" in x]
    assert len(line) == 1 and str(tmp_path / "results.json") in line[0] and "No space left" in line[0]
    assert "Traceback" not in r.output


@pytest.mark.slow
def test_a_failed_plot_is_reported(fake_data, tmp_path, monkeypatch):
    def broken(results):
        raise RuntimeError("no font")

    monkeypatch.setattr(actviz.render.training, "plot_curves", broken)
    r = invoke("relu", "--epochs", "1", "--seeds", "1", *FAST, "--out", str(tmp_path))
    assert r.exit_code == 1
    errors = [x for x in r.stderr.splitlines() if x.startswith("error:")]
    assert len(errors) == 1 and "curves.png" in errors[0] and "no font" in errors[0]
    assert (tmp_path / "results.json").exists() and (tmp_path / "diagnostics.png").exists()


def test_interrupted_runs_stay_out_of_the_statistics(fake_data, tmp_path, monkeypatch):
    # the seeds train together: stopped after seed 1's last epoch, seed 2's last epoch is missing
    interrupt_at(monkeypatch, seed=1, epoch=3)
    r = invoke("relu", "--epochs", "3", "--seeds", "3", *FAST, "--no-plots", "--out", str(tmp_path))
    assert r.exit_code == 130
    res = load(tmp_path)
    runs = {run["seed"]: run for run in res["runs"]}
    assert [runs[s]["status"] for s in range(3)] == ["completed", "completed", "interrupted"]
    assert runs[2]["epochs_completed"] == 2
    entry = res["summary"][0]
    row = entry["activations"][0]
    assert row["n"] == 2 and row["interrupted"] == 1
    assert row["test_acc_mean"] == pytest.approx((runs[0]["history"][-1]["test_acc"]
                                                  + runs[1]["history"][-1]["test_acc"]) / 2)
    assert entry["interrupted_runs"] == [{"label": "relu", "seed": 2, "epochs": 2, "status": "interrupted"}]
    assert "Not in the statistics: relu seed 2 interrupted after 2 epochs" in r.stdout


@pytest.mark.slow
def test_resuming_trains_the_interrupted_runs(fake_data, tmp_path, monkeypatch, count_trained):
    interrupt_at(monkeypatch, seed=1, epoch=2)  # seeds 0 and 1 finished, seed 2 after one epoch
    assert invoke("relu", "--epochs", "2", "--seeds", "3", *FAST, "--no-plots", "--out", str(tmp_path)).exit_code == 130
    monkeypatch.undo()
    fake_data_again = DATA
    monkeypatch.setattr(actviz.bench.data, "load", lambda data_dir=None, **kw: fake_data_again)
    r = invoke("relu", "--epochs", "2", "--seeds", "3", *FAST, "--no-plots", "--out", str(tmp_path))
    assert r.exit_code == 0 and "reused 2 runs, training 1" in r.stderr
    assert {run["status"] for run in load(tmp_path)["runs"]} == {"completed"}


@pytest.mark.slow
def test_huge_learning_rate_is_a_diverged_run(fake_data, tmp_path):
    r = invoke("relu", "tanh", "--lr", "1e300", "--epochs", "2", "--seeds", "1", *FAST, "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    assert "internal error" not in r.output and "diverged" in r.output
    res = load(tmp_path)
    assert {run["status"] for run in res["runs"]} == {"diverged"}
    assert res["summary"][0]["diverged_runs"]


@pytest.mark.parametrize("args, words", [
    (["--seed", "100000000000000000000000"], "--seed"),
    (["--hidden", "100000000"], "memory"),
    (["--depth", "100000000"], "memory"),
    (["--seeds", "100000000"], "--seeds"),
    (["--probe-size", "100000000"], "--probe-size"),
    (["--batch-size", "100000000"], "--batch-size"),
    (["--out", ""], "--out"),
    (["--lr", "0.1,abc"], "--lr"),
    (["--depth", "1,,2"], "--depth"),
    (["--param", "leaky_relu.negative_slope=0.1,x"], "negative_slope"),
])
def test_huge_or_wrong_values_are_one_line_exit_2(fake_data, tmp_path, monkeypatch, args, words):
    monkeypatch.chdir(tmp_path)
    out = ["--out", str(tmp_path / "out")] if "--out" not in args else []
    r = invoke("relu", "leaky_relu", *FAST[:-2], *args, "--epochs", "1", *out)
    assert r.exit_code == 2, r.output
    line = error_line(r)
    assert line.startswith("error:") and words in line
    assert list(tmp_path.iterdir()) == []  # nothing created, not even --out


@pytest.mark.slow
def test_no_plots_removes_stale_plots(fake_data, tmp_path):
    assert invoke("relu", "--epochs", "1", "--seeds", "1", *FAST, "--out", str(tmp_path)).exit_code == 0
    assert (tmp_path / "curves.png").exists()
    r = invoke("relu", "--epochs", "1", "--seeds", "2", *FAST, "--no-plots", "--out", str(tmp_path))
    assert r.exit_code == 0
    assert not (tmp_path / "curves.png").exists() and not (tmp_path / "diagnostics.png").exists()
    assert "removed the stale pictures" in r.stdout
    r = runner.invoke(app, ["results", str(tmp_path), "--plots"])
    assert r.exit_code == 0 and (tmp_path / "curves.png").exists()


def test_out_is_not_created_before_a_failure(tmp_path, monkeypatch):
    monkeypatch.setenv("ACTVIZ_MIRRORS", (tmp_path / "no-mirror").as_uri() + "/")
    r = invoke("relu", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert r.exit_code == 1
    line = error_line(r)
    assert "error:" in line and "nowhere" in line
    assert not (tmp_path / "out").exists()
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    r = invoke("relu", "--device", "cuda", "--out", str(tmp_path / "out2"))
    assert r.exit_code == 2 and "cuda" in error_line(r)
    assert not (tmp_path / "out2").exists()


def test_summary_fits_80_columns_without_truncation(fake_data, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(actviz.bench.train, "train_grid", _with_interrupted_last(actviz.bench.train.train_grid))
    r = invoke("prelu", "maxout", "leaky_relu", "-p", "leaky_relu.negative_slope=0.1", "--epochs", "1", *FAST,
               "--no-plots", "--out", str(tmp_path))
    assert r.exit_code == 130, r.output
    lines = r.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in r.stdout
    res = load(tmp_path)
    row = res["summary"][0]["activations"][0]
    # every number of the table is printed in full
    assert f"{row['test_acc_mean'] * 100:.2f}" in r.stdout
    assert f"{row['train_loss_mean']:.4f}" in r.stdout
    headers = [line for line in lines if line.startswith(" activation ")]
    assert len(headers) == 2
    assert headers[0].split() == ["activation", "acc", "%", "95%", "CI", "sd", "n", "loss", "ep→0.8", "W/T/L"]
    assert headers[1].split()[:5] == ["activation", "dead", "sat", "‖∇W‖", "in→out"]


def _with_interrupted_last(real):
    def run(*args, callback=None, **kw):
        def cb(event):
            callback(event)
            # the last run to record its epoch (maxout trains in a stack of its own, after the others)
            if event["event"] == "epoch" and (event["activation"], event["seed"]) == ("maxout", 2):
                raise KeyboardInterrupt
        return real(*args, callback=cb, **kw)
    return run


def test_unknown_activation_exits_2(fake_data, tmp_path):
    r = invoke("relux", "--out", str(tmp_path))
    assert r.exit_code == 2
    assert "relu" in error_line(r)


@pytest.mark.parametrize("args", [["--epochs", "0"], ["--seeds", "0"], ["--lr", "-1"], ["--optimizer", "rms"],
                                  ["--param", "relu.x=1"], ["--param", "elu.alpha=2"], ["--hidden", "0"],
                                  ["--init", "normal,zeros"], ["--seed", "-1"], ["--device", "tpu"],
                                  ["--precision", "fp16"]])
def test_bad_options_exit_2(fake_data, tmp_path, args):
    r = invoke("relu", *args, "--out", str(tmp_path))
    assert r.exit_code == 2, r.output
    assert error_line(r).startswith("error:")


def test_unwritable_out_exits_1_before_training(fake_data, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = invoke("relu", "--out", str(blocker / "sub"))
    assert r.exit_code == 1
    assert "--out" in error_line(r)


@pytest.mark.slow
def test_results_command_formats(fake_data, tmp_path):
    assert invoke("relu", "tanh", "sigmoid", "--epochs", "1", *FAST, "--no-plots", "--out", str(tmp_path)).exit_code == 0
    r = runner.invoke(app, ["results", str(tmp_path)])
    assert r.exit_code == 0 and "Verdict" in r.stdout and "W/T/L" in r.stdout
    tex = runner.invoke(app, ["results", str(tmp_path), "--format", "latex"]).stdout
    assert "\\begin{tabular}" in tex and "\\toprule" in tex and "\\midrule" in tex and "\\bottomrule" in tex
    assert tex.count("\\\\") == 4  # header + three rows
    md = runner.invoke(app, ["results", str(tmp_path), "--format", "markdown"]).stdout
    assert "| relu |" in md and "95% CI" in md
    csv_text = runner.invoke(app, ["results", str(tmp_path), "--format", "csv"]).stdout
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(csv_text)))
    means = [float(row["test_acc_mean"]) for row in rows]
    assert {row["label"] for row in rows} == {"relu", "tanh", "sigmoid"} and rows[0]["n"] == "3"
    assert means == sorted(means, reverse=True)  # rows by mean accuracy, highest first
    out = json.loads(runner.invoke(app, ["results", str(tmp_path), "--format", "json"]).stdout)
    assert out["configurations"] == load(tmp_path)["summary"] and out["sweep"] is None
    r = runner.invoke(app, ["results", str(tmp_path / "missing")])
    assert r.exit_code == 2 and "not a folder" in error_line(r)


def test_help_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys; from actviz.cli.app import app\ntry:\n app(['--help'])\nexcept SystemExit: pass\nprint('torch' in sys.modules, 'scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False False"


REAL = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.slow
@pytest.mark.skipif(not (REAL / "train-images-idx3-ubyte.gz").exists(), reason="no Fashion-MNIST package")
def test_real_fashion_mnist_one_epoch(tmp_path, monkeypatch):
    monkeypatch.delenv("ACTVIZ_DATA_DIR", raising=False)
    r = invoke("relu", "sigmoid", "--epochs", "1", "--seeds", "1", "--data-dir", str(REAL), "--out", str(tmp_path),
               "--no-plots")
    assert r.exit_code == 0, r.output
    res = load(tmp_path)
    acc = {run["activation"]: run["history"][-1]["test_acc"] for run in res["runs"]}
    assert 0.70 < acc["relu"] < 0.85  # d2l: about 0.75-0.80 after one epoch
    assert 0.35 < acc["sigmoid"] < acc["relu"]


@pytest.mark.slow
def test_progress_at_80_columns_keeps_the_bar_and_eta_whatever_the_labels(fake_data, tmp_path, monkeypatch):
    import re

    monkeypatch.setenv("COLUMNS", "80")
    r = invoke("relu", "leaky_relu", "-p", "leaky_relu.negative_slope=0.0123456789,0.3", "--lr", "0.1,0.0512345",
               "--init", "normal,kaiming_uniform", "--epochs", "1", "--seeds", "1", *FAST, "--no-plots",
               "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    (line,) = [x for x in r.stderr.splitlines() if "━" in x]
    assert len(line) <= 80 and line.count("━") >= 20
    assert re.search(r"\d+% \d:\d\d:\d\d eta \d:\d\d:\d\d seed 0 epoch 1/1 · 4/4 lr=0\.05", line), line


def test_long_labels_do_not_wrap_inside_table_cells_at_80_columns(fake_data, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    r = invoke("relu", "leaky_relu", "-p", "leaky_relu.negative_slope=0.0123456789", "--epochs", "1", "--seeds", "3",
               *FAST, "--no-plots", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    rows = [line for line in lines if line.split()[:1] == ["leaky_relu(0.0123456789)"]]
    assert len(rows) == 2 and all("%" in row or "." in row.split()[1] for row in rows)  # a row of each table
    assert not any(line.split()[:1] == ["=0.0123456789)"] or line.startswith(" leaky_relu(negative") for line in lines)
    assert "Labels shortened in the tables: leaky_relu(0.0123456789) = leaky_relu(negative_slope=0.0123456789)" in \
        " ".join(r.stdout.split())


def test_the_legend_explains_every_notation_and_the_order(fake_data, tmp_path):
    r = invoke("relu", "tanh", "sigmoid", "--epochs", "2", "--seeds", "3", "--target", "0.3", *FAST, "--no-plots",
               "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    text = " ".join(r.stdout.split())
    assert "rows by mean (highest first)" in text
    assert "ep→0.3: mean epochs to reach test acc 0.3 over the runs that did (— none did" in text
    assert "f+f′ µs: the activation's own forward and backward" in text and "W/T/L: paired wins/ties/losses (Holm, 5%)" in text


def test_a_sweep_summary_in_every_results_format(tmp_path):
    import csv
    import io

    from report_stores import write_store

    folder = write_store(tmp_path)
    md = runner.invoke(app, ["results", str(folder), "--format", "markdown"]).stdout
    assert "### The sweep" in md and "| configuration | leaky_relu(negative_slope=0.1) |" in md
    assert "- relu: best at [depth=1]" in md and "**overall: leaky_relu(negative_slope=0.1) at [depth=1]" in md
    tex = runner.invoke(app, ["results", str(folder), "--format", "latex"]).stdout
    assert tex.count(r"\begin{tabular}") == 2 and "% overall: leaky_relu(negative_slope=0.1) at [depth=1]" in tex
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, ["results", str(folder), "--format", "csv"]).stdout)))
    best = [(r["config"], r["label"]) for r in rows if r["sweep_best_overall"] == "1"]
    assert len(best) == 1 and best[0][1] == "leaky_relu(negative_slope=0.1)"
    assert sum(r["sweep_best_for_activation"] == "1" for r in rows) == 3
    doc = json.loads(runner.invoke(app, ["results", str(folder), "--format", "json"]).stdout)
    assert doc["sweep"]["overall"]["configuration"] == "depth=1" and len(doc["configurations"]) == 2
    text = " ".join(runner.invoke(app, ["results", str(folder)]).stdout.split())
    assert "The sweep: test accuracy % (95% CI) per configuration" in text and "overall: leaky_relu" in text


def test_each_activation_reports_its_own_measured_cost(fake_data, tmp_path):
    import csv
    import io

    assert invoke("relu", "gelu", "--epochs", "1", "--seeds", "2", *FAST, "--no-plots",
                  "--out", str(tmp_path)).exit_code == 0
    runs = load(tmp_path)["runs"]
    assert all(isinstance(r["act_seconds"], float) and 0 < r["act_seconds"] < 1 for r in runs)
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, ["results", str(tmp_path), "--format", "csv"]).stdout)))
    for row in rows:
        mine = [r["act_seconds"] for r in runs if r["label"] == row["label"]]
        assert float(row["act_seconds"]) == pytest.approx(sum(mine) / len(mine))
    text = " ".join(runner.invoke(app, ["results", str(tmp_path)]).stdout.split())
    assert "f+f′ µs" in text and "time s" not in text


def test_precision_is_recorded_and_named_in_the_label(fake_data, tmp_path):
    r = invoke("relu", "--precision", "bf16", "--epochs", "1", "--seeds", "1", *FAST, "--no-plots",
               "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    run = load(tmp_path)["runs"][0]
    assert run["config"]["precision"] == "bf16" and "precision=bf16" in run["config_label"]


@pytest.mark.slow
def test_bf16_on_a_cpu_without_bf16_units_says_it_is_emulated(fake_data, tmp_path, monkeypatch):
    from actviz.bench.engine import precision

    monkeypatch.setattr(precision, "cpu_bf16_units", lambda cpuinfo="/proc/cpuinfo": [])
    r = invoke("relu", "--precision", "bf16", "--epochs", "1", "--seeds", "1", *FAST, "--no-plots",
               "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    assert "note: this CPU has no bfloat16 matrix units (avx512_bf16, amx_bf16)" in " ".join(r.stderr.split())
    monkeypatch.setattr(precision, "cpu_bf16_units", lambda cpuinfo="/proc/cpuinfo": ["avx512_bf16"])
    r = invoke("relu", "--precision", "bf16", "--epochs", "1", "--seeds", "1", *FAST, "--no-plots",
               "--out", str(tmp_path / "b"))
    assert r.exit_code == 0 and "bfloat16 matrix units" not in r.stderr
    assert load(tmp_path / "b")["environment"]["bf16_units"] == ["avx512_bf16"]
