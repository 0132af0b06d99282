"""The results store (actviz.results.store): keys, labels, what a write keeps, reading old files."""

from __future__ import annotations

import json
import os

import pytest

import actviz.results as store
from actviz.bench.train import TrainConfig
from actviz.core.errors import ActvizError, UsageError


def run(label="relu", seed=0, status="completed", epochs=2, cfg=None):
    cfg = cfg or store.training_config(TrainConfig(epochs=2))
    return {"activation": label, "label": label, "params": {}, "seed": seed, "status": status,
            "epochs_completed": epochs, "history": [{"epoch": e + 1, "test_acc": 0.8} for e in range(epochs)],
            "learned": {}, "config": cfg, "config_label": store.config_label(cfg),
            "key": store.run_key(label, {}, cfg, seed)}


def test_training_config_leaves_out_where_it_ran():
    tc = store.training_config(TrainConfig(device="cpu", threads=2))
    assert "device" not in tc and "threads" not in tc and tc["epochs"] == 10


def test_config_label_names_what_differs_from_the_defaults():
    assert store.config_label(store.training_config(TrainConfig())) == "defaults"
    assert store.config_label(store.training_config(TrainConfig(depth=2, lr=0.05))) == "depth=2, lr=0.05"


def test_run_key_is_unique_and_stable():
    cfg = store.training_config(TrainConfig())
    k = store.run_key("leaky_relu", {"negative_slope": 0.1}, cfg, 0)
    assert k == store.run_key("leaky_relu", {"negative_slope": 0.1}, dict(reversed(list(cfg.items()))), 0)
    assert k != store.run_key("leaky_relu", {"negative_slope": 0.3}, cfg, 0)
    assert k != store.run_key("leaky_relu", {"negative_slope": 0.1}, cfg, 1)
    assert k != store.run_key("leaky_relu", {"negative_slope": 0.1}, {**cfg, "depth": 2}, 0)


def test_a_partial_run_never_replaces_a_finished_one(tmp_path):
    s = store.Store(tmp_path)
    old = run(status="completed", epochs=2)
    s.stored[old["key"]] = old
    live = run(status="running", epochs=1)  # --fresh, or a new invocation: in progress
    s.live[live["key"]] = live
    assert s.runs() == [old]
    live["status"], live["epochs_completed"] = "completed", 2
    assert s.runs() == [live]


def test_an_interrupted_run_is_replaced_once_the_new_one_is_as_far():
    s = store.Store(None)
    old = run(status="interrupted", epochs=2, seed=1)
    s.stored[old["key"]] = old
    live = run(status="running", epochs=1, seed=1)
    s.live[live["key"]] = live
    assert s.runs() == [old]
    live["epochs_completed"] = 2
    assert s.runs() == [live]


def test_new_runs_without_an_epoch_are_not_written():
    s = store.Store(None)
    fresh = run(status="running", epochs=0)
    s.live[fresh["key"]] = fresh
    assert s.runs() == []
    diverged = run(label="tanh", status="diverged", epochs=0)
    s.live[diverged["key"]] = diverged
    assert s.runs() == [diverged]  # a run that diverged in its first epoch is a result


def test_write_and_open_round_trip(tmp_path):
    s = store.Store(tmp_path)
    runs = [run(seed=0), run(seed=1, status="running", epochs=1)]
    s.write({"schema": 2, "summary": [], "config": {}}, runs)
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["schema"] == 2 and len(doc["runs"]) == 2
    back = store.Store.open(tmp_path)
    assert [r["status"] for r in back.stored.values()] == ["completed", "interrupted"]  # a killed process
    assert back.finished(runs[0]["key"]) is not None and back.finished(runs[1]["key"]) is None
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_write_caches_finished_runs_but_rewrites_live_ones(tmp_path):
    s = store.Store(tmp_path)
    done = run(seed=0)
    s.stored[done["key"]] = done
    live = run(seed=1, status="running", epochs=1)
    s.live[live["key"]] = live
    s.write({"summary": []}, s.runs())
    live["history"].append({"epoch": 2, "test_acc": 0.9})
    live["epochs_completed"] = 2
    s.write({"summary": []}, s.runs())
    doc = json.loads((tmp_path / "results.json").read_text())
    assert [len(r["history"]) for r in doc["runs"]] == [2, 2]


def test_nan_becomes_null(tmp_path):
    s = store.Store(tmp_path)
    r = run()
    r["history"][0]["train_loss"] = float("nan")
    s.write({"summary": []}, [r])
    assert json.loads((tmp_path / "results.json").read_text())["runs"][0]["history"][0]["train_loss"] is None


def test_unreadable_or_foreign_files_are_errors(tmp_path):
    (tmp_path / "results.json").write_text("[1, 2]")
    with pytest.raises(ActvizError, match="results.json"):
        store.Store.open(tmp_path)
    with pytest.raises(UsageError):
        store.load("")
    with pytest.raises(ActvizError, match="not a compare store"):
        store.load(tmp_path / "empty") if (tmp_path / "empty").mkdir() is None else None


def test_the_labels_defaults_are_the_training_defaults():
    assert store.DEFAULTS == store.training_config(TrainConfig())


def test_two_writers_of_one_store_keep_each_others_runs(tmp_path):
    """Each write merges what another process wrote since: for every key, the run further along."""
    first, second = store.Store.open(tmp_path), store.Store.open(tmp_path)  # both read the empty store
    a = run(label="relu", seed=0, status="running", epochs=1)
    first.live[a["key"]] = a
    first.write({"summary": []}, first.runs())
    b = run(label="tanh", seed=0)
    second.live[b["key"]] = b
    second.write({"summary": []}, second.runs())  # does not know of relu: merges it
    a["status"], a["epochs_completed"] = "completed", 2
    a["history"].append({"epoch": 2, "test_acc": 0.8})
    first.write({"summary": []}, first.runs())  # does not know of tanh: merges it
    stale = run(label="relu", seed=0, status="running", epochs=1)  # a slower writer of the same key
    second.live[stale["key"]] = stale
    second.write({"summary": []}, second.runs())
    doc = json.loads((tmp_path / "results.json").read_text())
    got = {(r["label"], r["status"], r["epochs_completed"]) for r in doc["runs"]}
    assert got == {("relu", "completed", 2), ("tanh", "completed", 2)}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_store_made_unreadable_by_another_writer_is_not_overwritten(tmp_path):
    s = store.Store.open(tmp_path)
    s.write({"summary": []}, [run(seed=0)])
    (tmp_path / "results.json").write_text("{ not json")
    with pytest.raises(ActvizError, match="cannot update the results store"):
        s.write({"summary": []}, [run(seed=1)])
    assert (tmp_path / "results.json").read_text() == "{ not json"


def test_the_store_lock_is_exclusive_and_leaves_nothing_behind(tmp_path):
    from actviz.results.store import LOCK, StoreBusy, locked

    folder = tmp_path / "a" / "b"
    lines: list[str] = []
    with locked(folder):
        assert (folder / LOCK).read_text().strip() == str(os.getpid())
        with pytest.raises(StoreBusy, match=f"another actviz \\(pid {os.getpid()}\\)"):
            with locked(folder, wait=False, on_wait=lines.append):
                pass
    assert lines == []
    assert not (tmp_path / "a").exists()  # created for the lock, empty: removed again
    folder.mkdir(parents=True)
    with locked(folder):
        (folder / "results.json").write_text("{}")
    assert [p.name for p in folder.iterdir()] == ["results.json"]


def test_fields_added_later_keep_the_keys_of_old_runs():
    from actviz.results.labels import LATER, config_label, run_key, training_config

    old = {k: v for k, v in store.training_config(TrainConfig()).items() if k not in LATER}
    assert training_config(old) == store.training_config(TrainConfig())
    assert run_key("relu", {}, old, 0) == run_key("relu", {}, TrainConfig(), 0)
    assert run_key("relu", {}, TrainConfig(precision="bf16"), 0) != run_key("relu", {}, old, 0)
    assert config_label(training_config(TrainConfig(precision="bf16"))) == "precision=bf16"
