"""``compare`` says before training how many runs it will train and roughly how long that takes.

Above an hour (estimated from this machine's measured matmul speed), a ``compare`` run from a
terminal asks for ``--yes`` and trains nothing; without a terminal it goes on, having said so.
"""

from __future__ import annotations

import pytest

import actviz.bench.data
import actviz.cli.compare
from actviz.cli.app import app

from helpers import error_line, runner
from test_train import synthetic

DATA = synthetic(n_train=600, n_test=200)
FAST = ["--hidden", "16", "--batch-size", "64", "--probe-size", "64", "--device", "cpu", "--no-plots"]
#: three activations at a hundred learning rates: hours of training
HUGE = ["relu", "tanh", "sigmoid", "--lr", ",".join(f"{0.001 * i:g}" for i in range(1, 101))]


@pytest.fixture
def fake_data(monkeypatch):
    monkeypatch.setattr(actviz.bench.data, "load", lambda data_dir=None, **kw: DATA)


@pytest.fixture
def trained(monkeypatch):
    calls = []
    monkeypatch.setattr(actviz.bench.train, "train_grid", lambda *a, **k: calls.append(a) or pytest.fail("trained"))
    return calls


def test_the_plan_line_says_how_many_runs_and_roughly_how_long(fake_data, tmp_path):
    result = runner.invoke(app, ["compare", "relu", "tanh", "--epochs", "1", "--seeds", "2", *FAST,
                                 "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    plan = [line for line in result.stderr.splitlines() if line.startswith("reused")]
    assert len(plan) == 1 and plan[0].startswith("reused 0 runs, training 4, about ") and "(estimated)" in plan[0]


def test_a_grid_of_hours_from_a_terminal_asks_for_yes_and_trains_nothing(fake_data, trained, monkeypatch, tmp_path):
    import actviz.bench.train  # noqa: F401

    monkeypatch.setattr(actviz.cli.compare, "_stdin_is_terminal", lambda: True)
    result = runner.invoke(app, ["compare", *HUGE, "--epochs", "10", "--probe-size", "64", "--out", str(tmp_path / "s")])
    assert result.exit_code == 2, result.output
    line = error_line(result)
    assert "trains 900 runs, about " in line and "--yes" in line, line
    assert not trained and not (tmp_path / "s" / "results.json").exists()


def test_a_grid_of_hours_without_a_terminal_goes_on_and_says_so(fake_data, monkeypatch, tmp_path):
    import actviz.bench.train

    started = []

    def stop(*args, **kw):
        started.append(True)
        raise KeyboardInterrupt

    monkeypatch.setattr(actviz.bench.train, "train_grid", stop)
    monkeypatch.setattr(actviz.cli.compare, "_stdin_is_terminal", lambda: False)
    result = runner.invoke(app, ["compare", *HUGE, "--epochs", "10", "--probe-size", "64", "--out", str(tmp_path / "s")])
    assert started, result.output
    assert any(line.startswith("reused 0 runs, training 900 (100 configurations), about ") for line in result.stderr.splitlines())
