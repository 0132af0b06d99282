"""Activation parameters that learn (``--learn``): the engine's hand-written gradients, the records, the CLI."""

from __future__ import annotations

import pytest
import torch
from helpers import runner
from test_train import DATA, cfg

import actviz
from actviz.bench.engine.mlp import HIST_BINS, MLP
from actviz.bench.engine.params import draw_layers, layer_shapes
from actviz.bench.learn import canonical, check_against, learnable_params, parse
from actviz.bench.train import TrainConfig, train_runs
from actviz.cli.app import app
from actviz.core.errors import UsageError
from actviz.core.registry import specs
from actviz.results.labels import config_label, run_key

INPUTS = 12


def _reference(act, config, seed, batches, dtype):
    """One plain model trained by autograd (torch.optim), its learnable parameters as leaves."""
    gran = learnable_params(act.spec, config.learn)
    shapes = layer_shapes(INPUTS, config.hidden, config.depth, 1, 10)
    layers = draw_layers(seed, shapes, config.init)
    ws = [w.to(dtype).requires_grad_() for w, _ in layers]
    bs = [b.to(dtype).requires_grad_() for _, b in layers]
    fixed = {n: v for n, v in act.params.items() if n not in gran}

    def leaf(n):
        v = torch.as_tensor(act.params[n], dtype=dtype)
        if gran[n] == "unit":
            v = v.unsqueeze(-1).expand(*v.shape, config.hidden)
        return v.clone().requires_grad_()

    ps = [{n: leaf(n) for n in gran} for _ in range(config.depth)]
    groups = [{"params": ws + bs, "lr": config.lr},
              {"params": [p for d in ps for p in d.values()], "lr": config.learn_lr or config.lr}]
    opt = torch.optim.SGD(groups) if config.optimizer == "sgd" else torch.optim.Adam(groups, foreach=False)
    for x, y in batches:
        h = x.reshape(x.shape[0], -1).to(dtype)
        for layer in range(config.depth):
            h = act.spec.forward(h @ ws[layer] + bs[layer], **fixed, **ps[layer])
        loss = torch.nn.functional.cross_entropy(h @ ws[-1] + bs[-1], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return [w.detach() for w in ws], ps


def _check(names, learn, optimizer="sgd", learn_lr=None, depth=2):
    dtype = torch.float64
    config = TrainConfig(hidden=6, depth=depth, optimizer=optimizer, init="kaiming", device="cpu",
                         lr=0.1 if optimizer == "sgd" else 0.003, learn=canonical(parse(learn)), learn_lr=learn_lr)
    seeds = [3, 7]
    acts = [actviz.get(n) for n in names for _ in seeds]
    S = len(seeds)
    stack = MLP.build(acts, [seeds[i % S] for i in range(len(acts))], [config.lr] * len(acts),
                      [i % S for i in range(len(acts))], config, (3, 4), 10, torch.device("cpu"), dtype=dtype)
    g = torch.Generator().manual_seed(5)
    data = {s: [(torch.rand(16, 3, 4, generator=g), torch.randint(0, 10, (16,), generator=g)) for _ in range(4)]
            for s in seeds}
    for b in range(4):
        stack.step(torch.stack([data[s][b][0] for s in seeds]).to(dtype), torch.stack([data[s][b][1] for s in seeds]))
    moved = 0.0
    for i, act in enumerate(acts):
        ws, ps = _reference(act, config, seeds[i % S], data[seeds[i % S]], dtype)
        nl = stack.nonlinearity_of(i)
        got_w, _ = stack.parameters_of(i)
        torch.testing.assert_close(got_w[0], ws[0], rtol=1e-10, atol=1e-12)
        assert ps[0], "something learns"
        for layer, want in enumerate(ps):
            for n, p in want.items():
                got = nl.leaves[layer][n][i - nl.sl.start]
                torch.testing.assert_close(got, p.detach(), rtol=1e-10, atol=1e-12)
                start = torch.as_tensor(act.params[n], dtype=dtype)
                start = start.unsqueeze(-1) if p.dim() > start.dim() else start  # per unit: units last
                moved = max(moved, float((p.detach() - start).abs().max()))
    assert moved > 1e-6, "the parameters moved"
    return stack


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("names,learn", [(["swish", "elu"], "swish.beta,elu.alpha"),
                                         (["swish", "softplus"], "swish.beta:unit,softplus.beta:unit"),
                                         (["leaky_relu", "prelu"], "leaky_relu.negative_slope:unit,prelu.a:unit")])
def test_learned_parameters_follow_autograd_per_layer_and_per_unit(optimizer, names, learn):
    """Several activations and seeds in one stack: every learned value is autograd's, to 1e-10 in float64."""
    _check(names, learn, optimizer)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_rational_coefficients_learn_by_default_and_per_unit(optimizer):
    _check(["rational"], "", optimizer, depth=1)
    _check(["rational"], "rational.numerator:unit", optimizer, depth=1)
    _check(["rational"], "rational.denominator:unit", optimizer, depth=2)


@pytest.mark.parametrize("spec", [s for s in specs() if s.vjp is not None], ids=lambda s: s.name)
@pytest.mark.parametrize("unit", [False, True])
def test_a_one_pass_backward_equals_the_derivative_and_the_parameter_derivatives(spec, unit):
    """A record's ``vjp`` gives dh·f′ and the reduced dh·∂f/∂param of its separate functions, to rounding."""
    act = actviz.get(spec.name)
    g = torch.Generator().manual_seed(1)
    x = (torch.randn(2, 50, 5, generator=g, dtype=torch.float64) * 3).index_fill_(1, torch.tensor([0]), 0.0)
    x[0, 1, :] = torch.tensor([1.0, -1.0, 40.0, -1e6, 1e-7], dtype=torch.float64)
    dh = torch.randn(2, 50, 5, generator=g, dtype=torch.float64)
    reduce = (lambda name, t: t.sum(-2)) if unit else (lambda name, t: t.sum((-2, -1)))
    names = list(spec.param_derivatives)
    dz, grads = spec.vjp(x, dh, reduce, names, **act.params)
    torch.testing.assert_close(dz, dh * act.derivative(x), rtol=1e-12, atol=1e-12)
    assert set(grads) == set(names)
    for name in names:
        want = act.param_derivative(x, name) * dh
        want = want.sum(-2) if unit else want.sum((-2, -1))
        torch.testing.assert_close(grads[name], want, rtol=1e-12, atol=1e-12)


def test_learn_lr_is_the_parameters_own_learning_rate():
    _check(["swish"], "swish.beta", learn_lr=0.5, depth=1)


def test_parameters_that_do_not_learn_stay_put():
    config = TrainConfig(hidden=6, depth=1, device="cpu", learn="swish.beta:layer")
    stack = MLP.build([actviz.get("elu"), actviz.get("swish")], [0, 0], [0.1, 0.1], [0, 1], config, (12,), 10,
                      torch.device("cpu"))
    assert stack.nonlinearity_of(0).learnable == [] and stack.nonlinearity_of(1).learnable == ["beta"]


def test_a_learn_run_records_trajectories_units_and_histograms_and_keeps_the_rest():
    plain = train_runs([actviz.get("swish")], DATA, cfg(epochs=2), seeds=[0]).runs[0]
    learn = cfg(epochs=2, learn="swish.beta:unit", learn_lr=0.05)
    run = train_runs([actviz.get("swish")], DATA, learn, seeds=[0]).runs[0]
    assert run["status"] == "completed"
    assert set(run) - set(plain) == {"learning", "learned_units", "preact_range"}
    assert run["learning"] == {"beta": "unit"}
    assert len(run["learned_units"]["beta"]) == 1 and len(run["learned_units"]["beta"][0]) == 32
    (lo, hi, bins), = run["preact_range"]
    assert lo < 0 < hi and bins == HIST_BINS
    for h, p in zip(run["history"], plain["history"], strict=True):
        assert set(h) - set(p) == {"learned", "preact_hist"}
        (stats,) = h["learned"]["beta"]
        assert stats["q05"] <= stats["q50"] <= stats["q95"] and stats["sd"] >= 0
        (hist,) = h["preact_hist"]
        assert hist["below"] + sum(hist["counts"]) + hist["above"] == 256 * 32
    assert run["learned"]["beta"][0] == pytest.approx(run["history"][-1]["learned"]["beta"][0]["mean"])
    assert run["history"][-1]["learned"]["beta"][0]["sd"] > 0  # the units went their own ways


def test_the_learn_setting_is_part_of_the_run_key_and_label():
    base, learned = TrainConfig().to_json(), TrainConfig(learn="swish.beta:unit", learn_lr=0.01).to_json()
    assert run_key("swish", {}, base, 0) != run_key("swish", {}, learned, 0)
    old = {k: v for k, v in base.items() if k not in ("learn", "learn_lr")}
    assert run_key("swish", {}, base, 0) == run_key("swish", {}, old, 0)
    assert config_label(learned) == "learn=swish.beta:unit, learn_lr=0.01"


def test_learn_entries_are_parsed_to_one_canonical_text():
    assert canonical(parse("swish.beta:unit, ELU.alpha")) == "elu.alpha:layer,swish.beta:unit"
    for bad, words in [("swish", "NAME.KEY"), ("swish.beta:units", "did you mean 'unit'"), ("a.b,", "commas")]:
        with pytest.raises(UsageError, match=words):
            parse(bad)


@pytest.mark.parametrize("learn,words", [
    ("swsh.beta", "unknown activation 'swsh'.*did you mean 'swish'"),
    ("elu.alpha", "elu is not among the activations compared"),
    ("swish.bta", "no parameter 'bta'; did you mean 'beta'"),
    ("gelu.approximate", "not a number that can learn"),
    ("relu.x", "relu has no parameters"),
])
def test_learn_names_each_wrong_entry(learn, words):
    with pytest.raises(UsageError, match=words):
        check_against(parse(learn), [actviz.get("swish"), actviz.get("gelu"), actviz.get("relu")])


@pytest.mark.parametrize("args,words", [
    (["swish", "--learn", "swish.bta"], "did you mean 'beta'"),
    (["swish", "--learn", "swsh.beta"], "--learn swsh.beta: unknown activation 'swsh'; did you mean 'swish'"),
    (["swish", "--learn", "elu.alpha"], "not among the activations compared"),
    (["swish", "--learn", "swish.beta:row"], "granularity must be layer or unit"),
    (["swish", "--learn", "swish.beta", "--learn-lr", "0"], "--learn-lr must be a positive number"),
])
def test_compare_learn_errors_are_one_line(args, words, tmp_path):
    result = runner.invoke(app, ["compare", *args, "--out", str(tmp_path / "r"), "--epochs", "1"])
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output


@pytest.fixture(scope="module")
def learned_store(tmp_path_factory):
    """A store written by ``compare swish rational --learn swish.beta:unit`` on small synthetic data (once)."""
    from test_compare_cli import DATA as SMALL
    from test_compare_cli import FAST

    import actviz.bench.data

    out = tmp_path_factory.mktemp("learn") / "res"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(actviz.bench.data, "load", lambda data_dir=None, **kw: SMALL)
        result = runner.invoke(app, ["compare", "swish", "rational", "--learn", "swish.beta:unit", "--learn-lr",
                                     "0.5", "--epochs", "2", "--seeds", "2", "--depth", "2", *FAST, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.slow
def test_compare_learn_writes_a_valid_store_and_learned_png(learned_store):
    import json

    from actviz.results.schema import check_document

    doc = json.loads((learned_store / "results.json").read_text())
    check_document(doc)
    learning = {r["label"]: r["learning"] for r in doc["runs"]}
    assert learning == {"swish": {"beta": "unit"}, "rational": {"numerator": "layer", "denominator": "layer"}}
    assert all(r["config"]["learn"] == "swish.beta:unit" and r["config"]["learn_lr"] == 0.5 for r in doc["runs"])
    assert (learned_store / "learned.png").stat().st_size > 10_000


def test_the_schema_names_a_damaged_learning_record(learned_store):
    import copy
    import json

    from actviz.results.schema import check_run

    run = json.loads((learned_store / "results.json").read_text())["runs"][0]
    for damage, words in [
        (lambda r: r["history"][0]["preact_hist"][0]["counts"].pop(), "preact_hist' of layer 1"),
        (lambda r: r["history"][1]["learned"]["beta"][0].pop("q50"), "learned 'beta'"),
        (lambda r: r.update(learning={"beta": "row"}), "'learning'"),
        (lambda r: r["preact_range"][0].__setitem__(0, 99.0), "preact_range"),
        (lambda r: r.update(learned_units={"beta": [["x"]]}), "learned_units 'beta'"),
    ]:
        bad = copy.deepcopy(run)
        damage(bad)
        with pytest.raises(ValueError, match=words):
            check_run(bad, 0)


def test_learned_pictures_compute_apart_from_drawing(learned_store):
    import json

    import matplotlib

    matplotlib.use("Agg")
    from actviz.render.learned import (
        draw_function_frames,
        draw_trajectory,
        function_frames,
        learning_runs,
        trajectories,
    )

    runs = json.loads((learned_store / "results.json").read_text())["runs"]
    groups = learning_runs(runs)
    frames = function_frames(groups["rational"][0], layer=1)
    assert frames["epochs"] == [0, 1, 2] and len(frames["hist"]) == 2 and len(frames["edges"]) == HIST_BINS + 1
    x = torch.tensor(frames["x"], dtype=torch.float64)
    assert frames["f"][0] == pytest.approx(actviz.get("rational").forward(x).tolist())
    assert frames["f"][-1] != pytest.approx(frames["f"][0])  # the coefficients learned
    series = trajectories(groups["swish"])
    assert [(s["param"], s["layer"], s["seeds"]) for s in series] == [("beta", 1, 2), ("beta", 2, 2)]
    for s in series:
        assert s["mean"][0] == 1.0 and all(lo <= m <= hi for lo, m, hi in zip(s["lo"], s["mean"], s["hi"]))
        assert all(a <= b for a, b in zip(s["q05"], s["q95"]))
    assert len(trajectories(groups["rational"])) == 2 * (6 + 4)
    assert draw_function_frames(frames).get_title().startswith("rational, layer 2")
    assert draw_trajectory(series).get_xlabel() == "epoch"


def test_report_results_shows_the_learned_functions(learned_store):
    from actviz.cli.report import _training

    data = _training(learned_store)
    (cfg,) = data["configurations"]
    assert [e["label"] for e in cfg["learned"]] == ["swish", "rational"]
    assert [len(e["frames"]) for e in cfg["learned"]] == [2, 2]


def test_a_defined_activation_learns_its_parameter_with_the_derived_derivative(monkeypatch, tmp_path):
    from actviz.core import registry
    from actviz.facts.define import define

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    spec = define("tlearn=x*sigmoid(b*x); b=1.5")
    try:
        _check(["tlearn"], "tlearn.b:unit", depth=1)
    finally:
        registry.unregister(spec.name)


@pytest.mark.slow
def test_the_report_page_draws_the_learned_figures_in_chromium(learned_store, tmp_path):
    """report --results: one figure per learned function (2 layers × 2 activations) and per parameter (1 + 2)."""
    import os

    pytest.importorskip("playwright")
    if not os.access("/usr/bin/chromium", os.X_OK):
        pytest.skip("no Chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    page_path = tmp_path / "page.html"
    r = runner.invoke(app, ["report", "swish", "rational", "--results", str(learned_store), "-o", str(page_path)])
    assert r.exit_code == 0, r.output
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = b.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.goto(page_path.as_uri())
        page.wait_for_selector("body[data-ready='1']", timeout=60000)
        assert page.locator(".learned-plot .main-svg").count() >= 7
        titles = page.locator(".learned-plot .gtitle").all_text_contents()
        b.close()
    assert not errors
    assert any(t.startswith("rational, layer 2") for t in titles) and any("band over 2 seeds" in t for t in titles)
