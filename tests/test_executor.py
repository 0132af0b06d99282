"""``compare --executor``: the options, Ray absent, the units of work, and the driver's recording of a worker's events.

The recording is checked with an executor that trains each unit in this process and passes every
message through pickle, as Ray would: the store must hold what the local path writes, a unit
that raises has its runs marked ``failed`` while the others finish, and a resume retrains only
those.  Real Ray tasks are in ``test_ray_executor.py`` (slow).
"""

from __future__ import annotations

import pickle

import pytest

import actviz.bench.data
import actviz.bench.train
from actviz.bench.compare import Comparison
from actviz.bench.train import TrainConfig
from actviz.bench.units import Recorder, plan_units, train_unit
from actviz.cli.app import app
from actviz.results import Store
from actviz.results.schema import STATUSES, check_run

from helpers import error_line, one_line, runner, stored, without_time
from test_missing_dependency import run_without
from test_train import synthetic

DATA = synthetic(n_train=600, n_test=200)
FAST = dict(epochs=2, hidden=16, batch_size=100, probe_size=64, device="cpu", threads=1)


class InProcess:
    """An executor that trains each unit here, its messages pickled on the way; ``fail``: seeds whose unit raises."""

    def __init__(self, fail: tuple[int, ...] = (), after_epochs: int = 1):
        self.fail, self.after = fail, after_epochs
        self.units: list = []

    def train(self, comparison, units) -> bool:
        self.units.extend(units)
        rec = Recorder(comparison, units)
        for unit in units:
            def send(msg, unit=unit):
                rec.message(pickle.loads(pickle.dumps(msg)))
                if unit.seeds[0] in self.fail and msg["event"] == "epoch_end" and msg["epoch"] == self.after:
                    raise RuntimeError("worker lost")

            try:
                result = train_unit(unit, comparison.data_for(unit.config), send)
            except RuntimeError as exc:
                rec.failed(unit.index, f"{type(exc).__name__}: {exc}")
            else:
                rec.finished(pickle.loads(pickle.dumps(result)))
        comparison.failures.extend(rec.failures)
        return False


def configs():
    return [TrainConfig(**FAST, lr=lr) for lr in (0.1, 0.3)]


def test_units_are_one_per_seed_with_every_configuration_and_only_the_runs_left(tmp_path):
    c = Comparison(["relu", "tanh", "elu"], configs(), seeds=[0, 1], data=DATA, out=None)
    c.plan()
    c.plans[0].todo.remove(("tanh", 1))  # as if stored
    c.plans[1].todo = [t for t in c.plans[1].todo if t[1] == 1]
    units = plan_units(c.plans, c.acts)
    assert [(u.index, u.seeds, u.runs) for u in units] == [
        (0, (0,), ((0, "relu", 0), (0, "tanh", 0), (0, "elu", 0))),
        (1, (1,), ((0, "relu", 1), (0, "elu", 1), (1, "relu", 1), (1, "tanh", 1), (1, "elu", 1))),
    ]
    assert units[1].acts == (("relu", {}), ("tanh", {}), ("elu", {"alpha": 1.0}))  # registry names, JSON parameters
    assert all(u.labels == (c.plans[0].label, c.plans[1].label) for u in units)
    assert all(u.configs == (c.plans[0].config, c.plans[1].config) for u in units)


def test_an_executor_writes_the_same_store_as_the_local_path(tmp_path):
    events: list[str] = []
    local = Comparison(["relu", "tanh"], configs(), seeds=[0, 1], data=DATA, out=tmp_path / "local").run(plots=False)
    remote = Comparison(["relu", "tanh"], configs(), seeds=[0, 1], data=DATA, out=tmp_path / "remote",
                        executor=InProcess(), callback=lambda e: events.append(e["event"])).run(plots=False)
    assert without_time(remote["runs"]) == without_time(local["runs"])
    assert without_time(stored(tmp_path / "remote")["runs"]) == without_time(stored(tmp_path / "local")["runs"])
    assert remote["invocation"]["errors"] == [] and remote["invocation"]["trained"] == 8
    assert events.count("epoch") == 16 and events.count("epoch_end") == 4  # a unit per seed: one stack and "steps" in events


def test_every_finished_epoch_is_written_as_it_arrives(tmp_path, monkeypatch):
    seen = []
    real = Store.write

    def watching(self, doc, runs):
        seen.append(sum(len(r["history"]) for r in runs))
        return real(self, doc, runs)

    monkeypatch.setattr(Store, "write", watching)
    Comparison(["relu", "tanh"], [TrainConfig(**FAST)], seeds=[0], data=DATA, out=tmp_path,
               executor=InProcess()).run(plots=False)
    assert seen[:2] == [2, 4]  # after each epoch of the seed's two runs


def test_a_failed_unit_is_marked_failed_the_rest_finishes_and_a_resume_retrains_only_it(tmp_path, monkeypatch):
    res = Comparison(["relu", "tanh"], [TrainConfig(**FAST)], seeds=[0, 1, 2], data=DATA, out=tmp_path,
                     executor=InProcess(fail=(1,))).run(plots=False)
    status = {(r["label"], r["seed"]): (r["status"], r["epochs_completed"]) for r in stored(tmp_path)["runs"]}
    assert status == {("relu", 0): ("completed", 2), ("tanh", 0): ("completed", 2), ("relu", 1): ("failed", 1),
                      ("tanh", 1): ("failed", 1), ("relu", 2): ("completed", 2), ("tanh", 2): ("completed", 2)}
    (err,) = res["invocation"]["errors"]
    assert "seed 1 (relu, tanh) failed: RuntimeError: worker lost" in err and "train again" in err
    (row,) = [r for r in res["invocation"]["summary"][0]["activations"] if r["label"] == "relu"]
    assert (row["n"], row["interrupted"], row["seeds"]) == (2, 1, [0, 2])  # left out like an interrupted run
    assert {(r["seed"], r["status"]) for r in res["invocation"]["summary"][0]["interrupted_runs"]} == {(1, "failed")}

    trained = []
    real = actviz.bench.train.train_grid
    monkeypatch.setattr(actviz.bench.train, "train_grid", lambda *a, only=None, **kw: trained.extend(
        sorted((label, seed) for _, label, seed in only)) or real(*a, only=only, **kw))
    again = Comparison(["relu", "tanh"], [TrainConfig(**FAST)], seeds=[0, 1, 2], data=DATA, out=tmp_path).run(plots=False)
    assert trained == [("relu", 1), ("tanh", 1)] and again["invocation"]["reused"] == 4
    assert {r["status"] for r in stored(tmp_path)["runs"]} == {"completed"}


def test_a_unit_that_fails_before_its_first_epoch_is_written_as_failed(tmp_path):
    class Broken(InProcess):
        def train(self, comparison, units):
            rec = Recorder(comparison, units)
            for unit in units:
                rec.failed(unit.index, "WorkerCrashedError: the worker died")
            comparison.failures.extend(rec.failures)
            return False

    Comparison(["relu"], [TrainConfig(**FAST)], seeds=[3], data=DATA, out=tmp_path, executor=Broken()).run(plots=False)
    (run,) = stored(tmp_path)["runs"]
    assert (run["status"], run["epochs_completed"], run["history"], run["seed"]) == ("failed", 0, [], 3)
    check_run(run, 0)
    assert "failed" in STATUSES


@pytest.fixture
def fake_load(monkeypatch):
    monkeypatch.setattr(actviz.bench.data, "load", lambda data_dir=None, **kw: DATA)


def compare(*args):
    return runner.invoke(app, ["compare", "relu", "--hidden", "16", "--epochs", "1", "--seeds", "1", "--probe-size",
                               "64", "--device", "cpu", "--no-plots", *args])


@pytest.mark.parametrize("args, words", [
    (["--executor", "dask"], "--executor must be one of local, ray, got 'dask'"),
    (["--ray-address", "head:6379"], "--ray-address is for --executor ray"),
    (["--executor", "ray", "--ray-address", " "], "--ray-address is empty"),
])
def test_wrong_executor_options_are_one_line_exit_2(tmp_path, fake_load, args, words):
    res = compare("--out", str(tmp_path / "o"), *args)
    assert res.exit_code == 2 and words in error_line(res)
    assert not (tmp_path / "o").exists()


def test_an_address_where_no_cluster_answers_is_one_line_before_training(tmp_path, fake_load):
    pytest.importorskip("ray")
    res = compare("--out", str(tmp_path / "o"), "--executor", "ray", "--ray-address", "127.0.0.1:1")
    assert res.exit_code == 1
    assert error_line(res).startswith("error: --ray-address 127.0.0.1:1: no Ray cluster answers there (")
    assert not (tmp_path / "o").exists()


def test_the_executor_is_named_case_insensitively(tmp_path, fake_load):
    res = compare("--out", str(tmp_path), "--executor", "LOCAL")
    assert res.exit_code == 0, res.output
    assert stored(tmp_path)["runs"][0]["status"] == "completed"


def test_without_ray_the_executor_is_one_line_naming_the_extra(tmp_path):
    res = run_without(tmp_path, "ray", "compare", "relu", "--executor", "ray", "--out", str(tmp_path / "o"))
    assert res.returncode == 1
    assert one_line(res.stderr) == ("error: actviz needs Ray for --executor ray (the module 'ray' is not installed): "
                                    "pip install 'actviz[ray]'")
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_the_local_path_never_imports_ray(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from helpers import ENV

    script = (
        "import sys; sys.path.insert(0, %r)\n"
        "from test_train import synthetic\n"
        "import actviz.bench.data\n"
        "actviz.bench.data.load = lambda data_dir=None, **kw: synthetic(n_train=300, n_test=100)\n"
        "from actviz.cli.compare import _run\n"
        "from actviz.cli.app import main\n"
        "import atexit; atexit.register(lambda: print('ray imported:', 'ray' in sys.modules))\n"
        "sys.argv = ['actviz', 'compare', 'relu', '--seeds', '1', '--epochs', '1', '--hidden', '8', '--probe-size',\n"
        "            '32', '--device', 'cpu', '--no-plots', '--out', %r]\n"
        "main()\n" % (str(Path(__file__).parent), str(tmp_path))
    )
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=ENV, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "ray imported: False" in res.stdout


def test_a_unit_carries_the_definitions_a_worker_needs_to_rebuild_its_activations():
    from actviz.bench.units import Unit, train_unit
    from actviz.core.registry import get, unregister
    from actviz.facts.define import define

    spec = define("sqrelu_unit=max(0,x)**2")
    try:
        act = get("sqrelu_unit")
        cfg = TrainConfig(epochs=1, hidden=4, batch_size=8, probe_size=8, device="cpu")
        unit = Unit(0, (cfg,), ({},), ("defaults",), (0,), (("sqrelu_unit", {}),), ("sqrelu_unit",),
                    ((0, "sqrelu_unit", 0),), (spec.definition,))
        unregister("sqrelu_unit")  # as on a fresh worker
        out = train_unit(unit, DATA, lambda m: None)
        assert [r["activation"] for r in out["runs"]] == ["sqrelu_unit"]
        assert out["runs"][0]["definition"] == spec.definition
        assert act.name == "sqrelu_unit"
    finally:
        unregister("sqrelu_unit")


@pytest.mark.slow
def test_an_executor_draws_the_same_decision_boundaries_as_the_local_path(tmp_path):
    """On a 2-D set the workers keep each run's boundary (the local path draws it from the trained model too)."""
    from actviz.bench.data.toy import TOY, generate

    data = generate("moons", None, 300)
    cfg = [TrainConfig(**{**TOY["moons"].training_defaults(), "epochs": 3, "device": "cpu", "threads": 1,
                          "data": "moons", "noise": None, "samples": None})]
    local = Comparison(["relu", "tanh"], cfg, seeds=[0, 1], data=data, out=tmp_path / "local").run(plots=False)
    remote = Comparison(["relu", "tanh"], cfg, seeds=[0, 1], data=data, out=tmp_path / "remote",
                        executor=InProcess()).run(plots=False)
    assert all("boundary" in r for r in remote["runs"]) and len(remote["runs"]) == 4
    assert without_time(remote["runs"]) == without_time(local["runs"])
