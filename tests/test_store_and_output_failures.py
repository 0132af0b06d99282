"""How report, results, lesson, plot --terminal and compare's stores fail on hostile input.

Special files (FIFOs, sockets) as outputs are refused and left as they are, and as inputs
are one error, not a hang; a damaged store is one line naming what is wrong; a broken plugin
is left out and named; a signal after the last epoch keeps the runs completed; extreme values
and long names are no internal error.  Anything that could hang on a broken build (FIFOs)
runs in a subprocess with a timeout.  No test here touches /dev/full itself (an output path
naming a device must never replace the device node with a regular file), so FIFOs and
sockets stand in for special files.
"""

from __future__ import annotations

import copy
import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import actviz
from actviz.cli.app import app
from actviz.core.errors import ActvizError

from helpers import ENV, one_line, runner

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX FIFOs and sockets")


def invoke(*args: str):
    return runner.invoke(app, list(args))


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "actviz", *args], capture_output=True, text=True,
                          env=ENV, timeout=timeout)


# --------------------------------------------------------------------------- a store like compare writes


def _run(label: str, seed: int, acc: float) -> dict:
    cfg = {"epochs": 2, "hidden": 16, "depth": 1, "lr": 0.1, "batch_size": 256, "optimizer": "sgd",
           "init": "normal", "probe_size": 1024}
    history = [{"epoch": e, "train_loss": 1.0 / e, "train_acc": acc - 0.01, "test_acc": acc + 0.01 * e,
                "test_loss": 0.9 / e, "time": 0.2,
                "diagnostics": {"probe_loss": 0.8, "dead": [0.05], "saturated": [0.2], "grad_norm": [1.2, 1.7]}}
               for e in (1, 2)]
    return {"activation": label, "label": label, "params": {}, "seed": seed, "status": "completed",
            "epochs_completed": 2, "history": history, "learned": {}, "config": cfg,
            "config_label": "epochs=2, hidden=16"}


STORE = {"schema": 2, "command": "compare", "config": {"epochs": 2, "target_accuracy": 0.8}, "environment": {},
         "summary": [], "runs": [_run(a, s, 0.7 + 0.01 * s + 0.02 * (a == "tanh"))
                                 for a in ("relu", "tanh") for s in (0, 1, 2)]}


def write_store(folder: Path, doc=None, text: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(text if text is not None else json.dumps(doc or STORE))
    return folder


def damaged(change) -> dict:
    doc = copy.deepcopy(STORE)
    change(doc)
    return doc


# --------------------------------------------------------------------------- special files as outputs


@posix_only
def test_write_atomic_never_replaces_a_fifo_or_socket(tmp_path):
    from actviz.core.files import check_output_file, write_atomic

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    sock_path = tmp_path / "s"
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(sock_path))
        for path, kind in ((fifo, "a FIFO (named pipe)"), (sock_path, "a socket")):
            with pytest.raises(ActvizError, match=f"it is {kind.replace('(', '.').replace(')', '.')}, not a regular file"):
                write_atomic(path, b"data")
            with pytest.raises(ActvizError, match="not a regular file"):
                check_output_file(path)
        assert stat.S_ISFIFO(os.stat(fifo).st_mode) and stat.S_ISSOCK(os.stat(sock_path).st_mode)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe", "s"]  # no temporary file left
    finally:
        sock.close()


@posix_only
@pytest.mark.parametrize("command", [["report", "relu", "-o"], ["plot", "relu", "-o"]])
def test_an_output_that_is_a_fifo_is_one_error_and_stays_a_fifo(tmp_path, command):
    fifo = tmp_path / "out.png"
    os.mkfifo(fifo)
    result = invoke(*command, str(fifo))
    assert result.exit_code == 1, result.output
    assert one_line(result.stderr) == f"error: cannot write {str(fifo)!r}: it is a FIFO (named pipe), not a regular file"
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@pytest.mark.parametrize("name, words", [
    ("", "name a file"),
    ("sub/", "a trailing '/' names a directory"),
    ("x" * 300 + ".html", "File name too long"),
    ("afile/page.html", "Not a directory"),
])
def test_report_output_paths_are_checked_first(tmp_path, monkeypatch, name, words):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    result = invoke("report", "relu", "-o", name)
    assert result.exit_code == 1, result.output
    assert words in one_line(result.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]  # not 'sub' written as a file


# --------------------------------------------------------------------------- FIFOs as inputs: no hang


@posix_only
@pytest.mark.parametrize("command", [["results", "{store}"], ["report", "relu", "--results", "{store}", "-o", "{out}"],
                                     ["compare", "relu", "--epochs", "1", "--out", "{store}"]])
@pytest.mark.slow
def test_a_fifo_results_json_is_one_error_not_a_hang(tmp_path, command):
    store = tmp_path / "store"
    store.mkdir()
    os.mkfifo(store / "results.json")
    args = [a.format(store=store, out=tmp_path / "r.html") for a in command]
    proc = cli(*args, timeout=60)  # a blocking open would wait for a writer forever
    assert proc.returncode == 1, proc.stderr
    line = one_line(proc.stderr)
    assert "results.json" in line and "FIFO" in line


def test_read_regular_refuses_a_directory(tmp_path):
    from actviz.core.files import read_regular

    with pytest.raises(ActvizError, match="it is a directory, not a regular file"):
        read_regular(tmp_path)


# --------------------------------------------------------------------------- damaged stores


def _set_history(value):
    def change(doc):
        doc["runs"][0]["history"] = value
    return change


def _set_epoch(key, value):
    def change(doc):
        doc["runs"][0]["history"][0][key] = value
    return change


def _set_run(key, value):
    def change(doc):
        doc["runs"][1][key] = value
    return change


def _set_config(value):
    def change(doc):
        doc["config"] = value
    return change


DAMAGED = {
    "accuracy is text": (_set_epoch("test_acc", "high"), "'test_acc' is not a number"),
    "accuracy above 1": (_set_epoch("test_acc", 7.0), "not an accuracy between 0 and 1"),
    "history is text": (_set_history("x"), "no list 'history'"),
    "epochs are nulls": (_set_history([None, 1]), "epoch 1: is not an object"),
    "seed is text": (_set_run("seed", "zero"), "the seed is not a whole number"),
    "params is a list": (_set_run("params", [1]), "'params' is not an object"),
    "config is text": (_set_run("config", "x"), "'config' is not an object"),
    "depth 1e30": (_set_run("config", {"depth": 10**30}), "config 'depth' is not a whole number"),
    "lr is a list": (_set_run("config", {"lr": [1, 2]}), "config 'lr' is not a positive number: [1, 2]"),
    "hidden is text": (_set_run("config", {"hidden": "wide"}), "config 'hidden' is not a whole number"),
    "status is a number": (_set_run("status", 5), "the status 5 is not one of"),
    "status unknown": (_set_run("status", "done"), "the status 'done' is not one of"),
    "diagnostics junk": (_set_epoch("diagnostics", {"dead": "x"}), "diagnostics 'dead' is not a list of numbers"),
    "top config a list": (_set_config([1]), "'config' is not an object"),
}


@pytest.mark.parametrize("command", ["results", "report"])
@pytest.mark.parametrize("case", list(DAMAGED))
def test_results_and_report_name_what_is_wrong_with_a_damaged_store(tmp_path, case, command):
    """One reader and one validator: a store that `results` rejects, `report --results` rejects alike."""
    change, words = DAMAGED[case]
    store = write_store(tmp_path / "s", damaged(change))
    if command == "results":
        result = invoke("results", str(store))
    else:
        result = invoke("report", "relu", "--results", str(store), "-o", str(tmp_path / "r.html"))
        assert not (tmp_path / "r.html").exists()
    assert result.exit_code == 1, result.output
    line = one_line(result.stderr)
    assert line.startswith(f"error: cannot read the results store {str(store / 'results.json')!r}: run ") or \
        "'config' is not an object" in line, line
    assert words in line


def test_results_with_nan_in_a_completed_run_says_so(tmp_path):
    text = json.dumps(STORE).replace('"test_acc": 0.71', '"test_acc": NaN', 1)
    assert "NaN" in text
    result = invoke("results", str(write_store(tmp_path / "s", text=text)))
    assert result.exit_code == 1
    assert "'test_acc' is missing, NaN or infinite" in one_line(result.stderr)


@pytest.mark.parametrize("command", [["results"], ["report", "relu", "--results"]])
def test_deeply_nested_json_is_one_error(tmp_path, command):
    store = write_store(tmp_path / "s", text='{"runs": ' + "[" * 100_000 + "]" * 100_000 + "}")
    args = [*command, str(store)] + (["-o", str(tmp_path / "r.html")] if command[0] == "report" else [])
    result = invoke(*args)
    assert result.exit_code == 1, result.output
    assert "nested too deeply" in one_line(result.stderr)


def test_results_survive_the_largest_floats(tmp_path):
    def huge(doc):
        for run in doc["runs"]:
            for h in run["history"]:
                h["train_loss"], h["time"] = 1e308, 1.7e308
                h["diagnostics"]["grad_norm"] = [1e308, 1e308]

    store = write_store(tmp_path / "s", damaged(huge))
    for fmt in ("rich", "json", "csv", "markdown", "latex"):
        result = invoke("results", str(store), "--format", fmt)
        assert result.exit_code == 0, (fmt, result.output)
    rows = json.loads(invoke("results", str(store), "--format", "json").stdout)["configurations"][0]["activations"]
    assert rows[0]["train_loss_mean"] == pytest.approx(1e308) and rows[0]["time_mean"] is None  # inf -> null


def test_results_ignores_a_stored_target_that_is_not_an_accuracy(tmp_path):
    store = write_store(tmp_path / "s", damaged(lambda d: d["config"].update(target_accuracy="x")))
    result = invoke("results", str(store), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["configurations"][0]["activations"][0]["target"] == 0.8


@posix_only
def test_results_plots_in_the_way_is_one_line(tmp_path):
    store = write_store(tmp_path / "s")
    (store / "curves.png").mkdir()
    os.mkfifo(store / "diagnostics.png")
    result = invoke("results", str(store), "--plots", "--format", "csv")
    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert "curves.png" in line and "it is a directory" in line and "diagnostics.png" in line and "FIFO" in line
    assert stat.S_ISFIFO(os.stat(store / "diagnostics.png").st_mode)


# --------------------------------------------------------------------------- broken plugins


def _raises(x):
    raise ValueError("forward boom")


@pytest.fixture
def boom():
    actviz.register(name="raises_boom", forward=_raises, derivative=lambda x: torch.ones_like(x), formula="boom")
    yield "error: activation 'raises_boom' is broken: forward raised ValueError: forward boom"
    actviz.unregister("raises_boom")


def test_report_leaves_out_a_broken_plugin_and_names_it(boom, tmp_path):
    out = tmp_path / "r.html"
    result = invoke("report", "relu", "raises_boom", "-o", str(out))
    assert result.exit_code == 1, result.output
    assert one_line(result.stderr) == boom + " (left out of the page)"
    assert result.stdout.strip() == str(out)
    page = out.read_text()
    assert 'data-activation="relu"' in page and 'data-activation="raises_boom"' not in page
    only = invoke("report", "raises_boom", "-o", str(tmp_path / "none.html"))
    assert only.exit_code == 1 and one_line(only.stderr) == boom
    assert not (tmp_path / "none.html").exists()


def test_lesson_leaves_out_a_broken_plugin_and_names_it(boom, tmp_path):
    result = invoke("lesson", "derivatives", "--activations", "relu,raises_boom", "--out", str(tmp_path),
                    "--format", "json")
    assert result.exit_code == 1, result.output
    assert one_line(result.stderr) == boom + " (left out of the lesson)"
    assert "relu" in result.stdout and "raises_boom" not in result.stdout
    assert (tmp_path / "derivatives" / "lesson.json").is_file()


# --------------------------------------------------------------------------- a signal after the last epoch


def test_a_signal_after_the_last_epoch_keeps_the_runs_completed():
    from test_train import synthetic

    from actviz.bench.train import TrainConfig, train_runs

    def cb(event):
        if event["event"] == "epoch_end" and event["epoch"] == 2:  # e.g. SIGTERM while the last epoch is saved
            raise KeyboardInterrupt

    result = train_runs([actviz.get("relu")], synthetic(n_train=300, n_test=100),
                        TrainConfig(epochs=2, hidden=8, batch_size=100), seeds=[0], callback=cb)
    assert result.interrupted
    assert [(r["status"], r["epochs_completed"]) for r in result.runs] == [("completed", 2)]


# --------------------------------------------------------------------------- extreme values, long names


def test_terminal_plot_of_a_curve_far_from_zero():
    # softplus with beta = 1e-300 is ln 2 / beta ≈ 6.9e299: a margin of 0.5 rounded away (min == max)
    result = invoke("plot", "softplus", "-p", "softplus.beta=1e-300", "--terminal")
    assert result.exit_code == 0, result.output
    assert "e+299" in result.stdout and result.stderr == ""


def test_a_store_folder_name_too_long_is_no_internal_error(tmp_path, monkeypatch):
    from actviz.results import Store

    monkeypatch.chdir(tmp_path)
    long = "c" * 300
    assert Store.open(long).stored == {}  # nothing there: compare's --out check then names the problem
    result = invoke("results", long)
    assert result.exit_code == 2
    assert "is not a folder" in one_line(result.stderr)


@posix_only
def test_compare_out_that_is_a_fifo_says_what_it_is(tmp_path):
    from actviz.bench.compare import prepare_out

    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(ActvizError, match=r"'.*pipe': it is a FIFO \(named pipe\), not a directory"):
        prepare_out(tmp_path / "pipe")  # was: "File exists"


def test_lesson_out_empty_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("lesson", "derivatives", "--out", "")
    assert result.exit_code == 2
    assert "--out is empty" in one_line(result.stderr)
    assert list(tmp_path.iterdir()) == []  # was: derivatives/ written into the current directory


def test_results_reads_runs_without_label_or_params(tmp_path):
    def strip(doc):
        for run in doc["runs"]:
            del run["label"], run["params"]

    store = write_store(tmp_path / "s", damaged(strip))
    result = invoke("results", str(store), "--format", "json")
    assert result.exit_code == 0, result.output  # was: internal error: KeyError: 'label'
    assert {r["label"] for r in json.loads(result.stdout)["configurations"][0]["activations"]} == {"relu", "tanh"}
