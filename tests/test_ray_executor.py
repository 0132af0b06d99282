"""``compare --executor ray`` on a real local Ray instance (slow: Ray starts worker processes).

The same sweep through Ray and through the local path gives the same store, run for run
(same seeds and threads → same numbers); a task that raises or whose worker dies has its runs
marked ``failed`` while the others finish, and a resume retrains only those; SIGTERM to a real
``actviz compare --executor ray`` keeps the finished epochs.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

import actviz.bench.train  # noqa: E402
from actviz.bench.compare import Comparison  # noqa: E402
from actviz.bench.ray_executor import RayExecutor  # noqa: E402
from actviz.bench.train import TrainConfig  # noqa: E402
from actviz.bench.units import train_unit  # noqa: E402
from actviz.cli.app import app  # noqa: E402

from helpers import ENV, runner, stored, without_time  # noqa: E402
from test_train import synthetic  # noqa: E402

pytestmark = pytest.mark.slow

DATA = synthetic(n_train=1000, n_test=200)
FAST = {"epochs": 2, "hidden": 16, "batch_size": 100, "probe_size": 64, "device": "cpu", "threads": 1}
REAL = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=128 * 2**20,
             logging_level="error")
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the failing work functions below
    yield
    ray.shutdown()


def test_a_sweep_through_ray_equals_the_local_one_run_for_run(tmp_path, local_ray):
    grid = [TrainConfig(**FAST, lr=lr) for lr in (0.1, 0.3)]
    Comparison(["relu", "tanh"], grid, seeds=[0, 1], data=DATA, out=tmp_path / "local").run(plots=False)
    through = Comparison(["relu", "tanh"], grid, seeds=[0, 1], data=DATA, out=tmp_path / "ray",
                         executor=RayExecutor()).run(plots=False)
    assert through["invocation"]["errors"] == []
    assert len(through["runs"]) == 8 and {r["status"] for r in through["runs"]} == {"completed"}
    assert without_time(stored(tmp_path / "ray")["runs"]) == without_time(stored(tmp_path / "local")["runs"])
    assert ray.is_initialized()  # a Ray this process started before is left running


def failing(unit, data, send):
    """Seed 1's task raises after its first epoch; seed 2's worker dies then; the others train."""
    def forward(msg):
        send(msg)
        if msg["event"] == "epoch_end" and msg["epoch"] == 1 and unit.seeds[0] in (1, 2):
            if unit.seeds[0] == 2:
                os._exit(1)
            raise RuntimeError("lost the GPU")

    return train_unit(unit, data, forward)


def test_failed_and_killed_tasks_are_marked_failed_and_a_resume_retrains_only_them(tmp_path, local_ray,
                                                                                    monkeypatch):
    res = Comparison(["relu", "tanh"], [TrainConfig(**FAST)], seeds=[0, 1, 2, 3], data=DATA, out=tmp_path,
                     executor=RayExecutor(work=failing)).run(plots=False)
    status = {(r["label"], r["seed"]): (r["status"], r["epochs_completed"]) for r in stored(tmp_path)["runs"]}
    for label in ("relu", "tanh"):
        assert status[(label, 0)] == status[(label, 3)] == ("completed", 2)
        assert status[(label, 1)] == ("failed", 1)  # the epoch that came before the failure is kept
        assert status[(label, 2)][0] == "failed"
    errors = res["invocation"]["errors"]
    assert len(errors) == 2 and any("RuntimeError: lost the GPU" in e for e in errors)

    trained = []
    real = actviz.bench.train.train_grid
    monkeypatch.setattr(actviz.bench.train, "train_grid", lambda *a, only=None, **kw: trained.extend(
        sorted((label, seed) for _, label, seed in only)) or real(*a, only=only, **kw))
    Comparison(["relu", "tanh"], [TrainConfig(**FAST)], seeds=[0, 1, 2, 3], data=DATA, out=tmp_path).run(plots=False)
    assert sorted(trained) == [("relu", 1), ("relu", 2), ("tanh", 1), ("tanh", 2)]
    assert {r["status"] for r in stored(tmp_path)["runs"]} == {"completed"}


@pytest.mark.skipif(not (REAL / "train-images-idx3-ubyte.gz").exists(), reason="no Fashion-MNIST package")
def test_workers_load_the_data_set_and_the_command_line_store_equals_the_local_one(tmp_path, local_ray,
                                                                                    monkeypatch):
    monkeypatch.delenv("ACTVIZ_DATA_DIR", raising=False)
    args = ["compare", "relu", "tanh", "--epochs", "1", "--seeds", "2", "--hidden", "16", "--threads", "1",
            "--data-dir", str(REAL), "--device", "cpu", "--no-plots"]
    for executor in ("local", "ray"):
        r = runner.invoke(app, [*args, "--out", str(tmp_path / executor), "--executor", executor])
        assert r.exit_code == 0, r.output
    assert without_time(stored(tmp_path / "ray")["runs"]) == without_time(stored(tmp_path / "local")["runs"])


@pytest.mark.skipif(not (REAL / "train-images-idx3-ubyte.gz").exists(), reason="no Fashion-MNIST package")
def test_sigterm_to_a_real_ray_compare_keeps_the_finished_epochs(tmp_path):
    from readiness import Watched

    argv = [sys.executable, "-m", "actviz", "compare", "relu", "--seeds", "2", "--epochs", "100000", "--hidden", "16",
            "--threads", "1", "--data-dir", str(REAL), "--device", "cpu", "--no-plots", "--out", str(tmp_path),
            "--executor", "ray"]
    env = {**ENV, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]), ENV.get("PYTHONPATH", "")])}
    env.pop("RAY_ADDRESS", None)  # a Ray instance of its own
    watched = Watched(argv, env=env)
    try:
        watched.wait_ready()
        watched.wait_for(lambda: (tmp_path / "results.json").exists(), "an epoch back from a worker and saved", 180)
        watched.send(signal.SIGTERM)
    finally:
        code, lines = watched.finish(timeout=120)
    assert code == 143, lines[-20:]
    assert not any("Traceback" in line or line.startswith("error") for line in lines), lines
    runs = stored(tmp_path)["runs"]
    assert runs and all(r["status"] == "interrupted" and r["epochs_completed"] >= 1 for r in runs)
    assert len(runs) <= 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
