"""2-D toy data sets, their decision boundaries (computed, stored, drawn) and compare --data on them."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from actviz.bench.boundary import GRID, extent
from actviz.bench.config import TOY_DATA, ConfigError, TrainConfig
from actviz.bench.data import load
from actviz.bench.data.toy import BLOB_CLASSES, TOY, generate, points
from actviz.cli.app import app
from actviz.core.errors import UsageError
from actviz.core.registry import get
from actviz.results.boundary import decode, encode, problem
from actviz.results.labels import run_key, training_config
from actviz.results.schema import check_run

from helpers import error_line, runner


@pytest.mark.parametrize("name", TOY_DATA)
def test_every_toy_set_is_float_points_with_balanced_classes(name):
    d = load(data=name, samples=101)
    k = BLOB_CLASSES if name == "blobs" else 2
    assert d.n_classes == k and d.name == name
    assert d.train_images.dtype == torch.float32 and d.train_images.shape == (101, 2)
    assert d.test_images.shape == (101, 2) and d.train_labels.dtype == torch.int64
    counts = torch.bincount(d.train_labels, minlength=k)
    assert counts.max() - counts.min() <= 1 and counts.sum() == 101
    assert d.train_images.abs().max() < 3  # about [-1, 1]², used as they are


@pytest.mark.parametrize("name", TOY_DATA)
def test_the_points_are_the_same_every_call_and_the_test_set_differs(name):
    a, b = generate(name), generate(name)
    assert torch.equal(a.train_images, b.train_images) and torch.equal(a.train_labels, b.train_labels)
    assert not torch.equal(a.train_images, a.test_images)


def test_noise_moves_the_points_away_from_their_noise_free_place():
    clean, _ = points("circles", noise=0.0, samples=400)
    noisy, _ = points("circles", noise=0.3, samples=400)
    r_clean = np.linalg.norm(clean, axis=1)
    # noise free: a disc of radius 0.5 and a ring from 0.7 to 1, nothing between or beyond
    assert not ((r_clean > 0.5001) & (r_clean < 0.6999)).any() and r_clean.max() <= 1.0001
    assert np.linalg.norm(noisy, axis=1).max() > 1.3


def test_xor_labels_follow_the_quadrants_without_noise():
    x, y = points("xor", noise=0.0, samples=200)
    assert np.array_equal(y, (x[:, 0] * x[:, 1] < 0).astype(np.int64))


def test_bad_toy_settings_are_one_clear_error():
    with pytest.raises(UsageError, match="noise must be a number from 0 to 10"):
        generate("moons", noise=-1.0)
    with pytest.raises(UsageError, match="samples must be a whole number from 8"):
        generate("moons", samples=3)
    with pytest.raises(ConfigError, match="noise applies only to the 2-D toy sets"):
        TrainConfig(noise=0.1).validate()
    with pytest.raises(ConfigError, match="data must be one of"):
        TrainConfig(data="nope").validate()


def test_the_toy_defaults_are_valid_training_configurations():
    for name, toy in TOY.items():
        TrainConfig(data=name, **toy.training_defaults()).validate()


def test_old_run_keys_do_not_change_and_new_fields_are_filled_in():
    old = {"epochs": 10, "hidden": 256, "depth": 1, "lr": 0.1, "batch_size": 256, "optimizer": "sgd",
           "init": "normal", "probe_size": 1024}
    expected = json.dumps(["relu", {}, old, 0], sort_keys=True, separators=(",", ":"))
    assert run_key("relu", {}, TrainConfig(), 0) == expected == run_key("relu", {}, old, 0)
    assert training_config(old)["data"] == "fashion-mnist"
    assert run_key("relu", {}, TrainConfig(data="spirals"), 0) != expected


def _boundary_accuracy(run, data) -> float:
    """The accuracy on the test points of the run's stored boundary picture (each point: its grid cell's class)."""
    probs, (x0, x1, y0, y1) = run["boundary_probs"], run["boundary_extent"]
    n = probs.shape[-1]
    x, y = data.test_images[:, 0].double(), data.test_images[:, 1].double()
    col = ((x - x0) / (x1 - x0) * n).long().clamp(0, n - 1)
    row = ((y - y0) / (y1 - y0) * n).long().clamp(0, n - 1)
    return float((probs[:, row, col].argmax(0) == data.test_labels).double().mean())


@pytest.mark.parametrize("name, opts", [("relu", {}), ("prelu", {}), ("rational", {}),
                                        ("swish", {"learn": "swish.beta:unit"}),
                                        ("relu", {"norm": "batch", "depth": 2}),
                                        ("tanh", {"norm": "layer", "depth": 3, "residual": True})])
def test_a_boundary_is_the_trained_models_own_forward(name, opts):
    """The picture classifies the test points as the model does: learned activation parameters, batch norm
    on its running statistics, skip connections included (a plain MLP forward from the weights drew a
    batch-normalised net's boundary as a straight line at 99.6% test accuracy)."""
    from actviz.bench.train import train_runs

    data = generate("moons", None, 400)
    config = TrainConfig(**{**TOY["moons"].training_defaults(), "epochs": 4, "device": "cpu", "noise": None,
                            "samples": None, **opts})
    (run,) = train_runs([get(name)], data, config, seeds=[0], keep_weights=True).runs
    probs = run["boundary_probs"]
    assert probs.shape == (2, GRID, GRID) and torch.allclose(probs.sum(0), torch.ones(GRID, GRID), atol=1e-5)
    assert _boundary_accuracy(run, data) == pytest.approx(run["history"][-1]["test_acc"], abs=0.03)


def test_extent_adds_a_margin_around_the_points():
    x0, x1, y0, y1 = extent(torch.tensor([[0.0, 0.0], [1.0, 2.0]]), margin=0.1)
    assert (x0, x1) == pytest.approx((-0.1, 1.1)) and (y0, y1) == pytest.approx((-0.2, 2.2))


def _stored(k=2, n=6):
    probs = np.full((k, n, n), 1 / k)
    probs[:, 0, 0] = 0
    probs[0, 0, 0] = 1
    return encode(probs, (-1, 1, -1, 1), [[0.0, 0.5], [0.25, -0.5]], [0, k - 1])


def test_a_stored_boundary_round_trips_and_is_checked():
    b = json.loads(json.dumps(_stored()))
    assert problem(b) is None
    p = decode(b)
    assert p.shape == (2, 6, 6) and p[0, 0, 0] == 1 and abs(p[1, 3, 3] - 0.5) < 0.01
    assert "bytes" in problem({**b, "size": 7})
    assert "extent" in problem({**b, "extent": [1, 0, 0, 1]})
    assert "labels" in problem({**b, "labels": [0, 5]})
    assert "base64" in problem({**b, "probs": "**"})


def test_the_schema_rejects_a_damaged_boundary():
    run = {"activation": "relu", "seed": 0, "status": "completed", "history": [], "boundary": _stored()}
    check_run(run, 0)
    with pytest.raises(ValueError, match="boundary 'points'"):
        check_run({**run, "boundary": {**_stored(), "points": "x"}}, 0)


def _doc(k=2):
    runs = []
    for label in ("relu", "tanh"):
        for seed in (0, 1):
            runs.append({"label": label, "activation": label, "seed": seed, "config_label": "c",
                         "config": {"data": "blobs" if k > 2 else "moons"}, "status": "completed",
                         "history": [{"epoch": 1, "test_acc": 0.9}], "boundary": _stored(k)})
    return {"runs": runs}


@pytest.mark.parametrize("k", [2, 3])
def test_boundaries_picture_has_one_panel_per_run(k):
    from actviz.render.boundaries import draw_boundary, plot_boundaries

    fig = plot_boundaries(_doc(k))
    axes = [ax for ax in fig.axes if ax.images]
    assert len(axes) == 4
    assert {ax.get_ylabel() for ax in axes} >= {"relu", "tanh"}
    assert all("test 90.0%" in ax.get_title() for ax in axes)
    ax = draw_boundary(_stored(k), title="one")
    assert ax.get_title() == "one" and ax.images and ax.collections
    rgb = ax.images[0].get_array()
    assert rgb.shape == (6, 6, 3) and 0 <= rgb.min() and rgb.max() <= 1


def test_noise_without_a_toy_set_is_a_usage_error():
    r = runner.invoke(app, ["compare", "relu", "--noise", "0.1", "--out", "unused"])
    assert r.exit_code == 2
    assert "--noise applies only to the 2-D toy sets" in error_line(r)


def test_an_unknown_data_set_is_a_usage_error():
    r = runner.invoke(app, ["compare", "relu", "--data", "nope", "--out", "unused"])
    assert r.exit_code == 2 and "--data must be one of" in error_line(r)


@pytest.mark.slow
def test_a_toy_comparison_stores_draws_and_reports_its_boundaries(tmp_path):
    out = tmp_path / "store"
    r = runner.invoke(app, ["compare", "relu", "tanh", "--data", "moons", "--epochs", "3", "--seeds", "2",
                            "--device", "cpu", "--out", str(out)])
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "results.json").read_text())
    assert len(doc["runs"]) == 4
    for run in doc["runs"]:
        assert run["config"]["data"] == "moons" and run["config"]["hidden"] == 32  # the toy defaults
        assert problem(run["boundary"]) is None and run["boundary"]["size"] == 96
    assert (out / "boundaries.png").stat().st_size > 10_000
    page = tmp_path / "report.html"
    r = runner.invoke(app, ["report", "relu", "tanh", "--results", str(out), "--output", str(page)])
    assert r.exit_code == 0, r.output
    html = page.read_text()
    assert html.count("data:image/png;base64,") >= 1 and "Decision boundaries" in html
