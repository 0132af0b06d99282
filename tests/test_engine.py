"""The batched engine (actviz.bench.engine): a stack of models is many exact copies of the plain model."""

from __future__ import annotations

import pytest
import torch
from test_train import DATA, cfg, strip_time

import actviz
from actviz.bench.engine.mlp import MLP
from actviz.bench.engine.params import draw_layers, layer_shapes, maxout_k
from actviz.bench.train import TrainConfig, train_grid, train_runs

INPUTS = 12


def _reference_steps(act, config, seed, lr, batches, dtype):
    """A plain single model trained by autograd (torch.optim) on ``batches``: its parameters after them."""
    k = maxout_k(act) if config.depth else 1
    shapes = layer_shapes(INPUTS, config.hidden, config.depth, k, 10)
    layers = draw_layers(seed, shapes, config.init)
    ws = [w.to(dtype).requires_grad_() for w, _ in layers]
    bs = [b.to(dtype).requires_grad_() for _, b in layers]
    learnable = [p.name for p in act.spec.params if p.learnable]
    fixed = {n: v for n, v in act.params.items() if n not in learnable}
    ps = [{n: torch.tensor(float(act.params[n]), dtype=dtype, requires_grad=True) for n in learnable}
          for _ in range(config.depth)]
    params = ws + bs + [p for d in ps for p in d.values()]
    opt = (torch.optim.SGD(params, lr=lr) if config.optimizer == "sgd"
           else torch.optim.Adam(params, lr=lr, foreach=False))
    for x, y in batches:
        h = x.reshape(x.shape[0], -1).to(dtype)
        for layer in range(config.depth):
            z = h @ ws[layer] + bs[layer]
            if act.spec.kind == "maxout":
                h = z.reshape(z.shape[0], config.hidden, k).max(2).values
            else:
                h = act.spec.forward(z, **fixed, **ps[layer])
        loss = torch.nn.functional.cross_entropy(h @ ws[-1] + bs[-1], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return [w.detach() for w in ws], [b.detach() for b in bs], {n: [float(p[n].detach()) for p in ps] for n in learnable}


def _batches(seeds, steps, batch=16):
    g = torch.Generator().manual_seed(123)
    per_seed = {s: [(torch.rand(batch, 3, 4, generator=g), torch.randint(0, 10, (batch,), generator=g))
                    for _ in range(steps)] for s in seeds}
    return per_seed


def _check_stack_against_reference(names, depth, optimizer, dtype, rtol, atol):
    config = TrainConfig(hidden=8, depth=depth, optimizer=optimizer, init="kaiming", device="cpu")
    seeds, lrs_by_pos = [3, 7, 11], [0.1, 0.03, 0.2, 0.05][: len(names)]
    S, m = len(seeds), len(names)
    acts = [actviz.get(names[j]) for j in range(m) for _ in seeds]
    lrs = [lrs_by_pos[j] * (0.01 if optimizer == "adam" else 1) for j in range(m) for _ in seeds]
    stack = MLP.build(acts, [seeds[i % S] for i in range(m * S)], lrs, [i % S for i in range(m * S)], config,
                      (3, 4), 10, torch.device("cpu"), dtype=dtype)
    data = _batches(seeds, steps=4)
    for b in range(4):
        stack.step(torch.stack([data[s][b][0] for s in seeds]).to(dtype), torch.stack([data[s][b][1] for s in seeds]))
    for i, act in enumerate(acts):
        ws, bs, learned = _reference_steps(act, config, seeds[i % S], lrs[i], data[seeds[i % S]], dtype)
        got_w, got_b = stack.parameters_of(i)
        for got, want in zip(got_w + got_b, ws + bs, strict=True):
            torch.testing.assert_close(got, want, rtol=rtol, atol=atol)
        for n, vals in learned.items():
            assert stack.learned(i)[n] == pytest.approx(vals, rel=rtol, abs=atol)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("depth,names", [(0, ["relu"]), (1, ["relu", "tanh", "prelu"]),
                                         (2, ["sigmoid", "elu", "prelu", "gelu"]), (2, ["maxout"])])
def test_stack_equals_plain_autograd_models_in_float64(optimizer, depth, names):
    """Different activations, seeds and learning rates in one stack: each model is the plain model, to 1e-10."""
    _check_stack_against_reference(names, depth, optimizer, torch.float64, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_stack_equals_plain_autograd_models_in_float32(optimizer):
    _check_stack_against_reference(["relu", "tanh", "prelu"], 2, optimizer, torch.float32, rtol=1e-5, atol=1e-6)


def test_a_run_alone_equals_the_same_run_in_a_big_stack():
    acts = [actviz.get(n) for n in ("relu", "tanh", "sigmoid", "elu")]
    alone = train_runs([actviz.get("tanh")], DATA, cfg(), seeds=[2])
    many = train_runs(acts, DATA, cfg(), seeds=[0, 1, 2, 3])
    (twin,) = [r for r in many.runs if (r["label"], r["seed"]) == ("tanh", 2)]
    for a, b in zip(alone.runs[0]["history"], twin["history"], strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)
        assert a["test_acc"] == pytest.approx(b["test_acc"], abs=1 / 500)
        assert a["diagnostics"]["grad_norm"] == pytest.approx(b["diagnostics"]["grad_norm"], rel=1e-4)


@pytest.fixture
def exploding():
    spec = actviz.register(name="test_engine_exploding", forward=lambda x: torch.exp(x.clamp(max=80)) * 1e30,
                           derivative=lambda x: torch.exp(x.clamp(max=80)) * 1e30, formula="1e30·e^x",
                           replace=True)
    yield spec
    actviz.unregister("test_engine_exploding")


def test_a_diverging_model_leaves_the_others_untouched(exploding):
    alone = train_runs([actviz.get("relu")], DATA, cfg(), seeds=[0, 1], keep_weights=True)
    mixed = train_runs([actviz.get("test_engine_exploding"), actviz.get("relu")], DATA, cfg(), seeds=[0, 1],
                       keep_weights=True)
    assert [r["status"] for r in mixed.runs] == ["diverged", "completed"] * 2
    for a, b in zip(alone.runs, [r for r in mixed.runs if r["label"] == "relu"], strict=True):
        for wa, wb in zip(a["weights"] + a["biases"], b["weights"] + b["biases"], strict=True):
            torch.testing.assert_close(wa, wb, rtol=1e-5, atol=1e-6)


def test_a_grid_trains_every_configuration_in_one_call_like_one_call_each():
    acts = [actviz.get("relu"), actviz.get("tanh")]
    configs = [cfg(epochs=1), cfg(epochs=1, lr=0.05), cfg(epochs=1, depth=2)]
    events = []
    train_grid(acts, DATA, configs, seeds=[0, 1], callback=events.append)
    assert [len(rl) for rl in events[0]["run_lists"]] == [4, 4, 4]
    assert {e["config"] for e in events if e["event"] == "epoch"} == {0, 1, 2}
    steps = sum(e["n"] for e in events if e["event"] == "steps")
    assert steps == events[0]["total_steps"] == 3 * 2 * 32
    for c, config in enumerate(configs):
        alone = train_runs(acts, DATA, config, seeds=[0, 1])
        got = events[0]["run_lists"][c]
        assert [(r["label"], r["seed"]) for r in got] == [(r["label"], r["seed"]) for r in alone.runs]
        for a, b in zip(strip_time(alone.runs), strip_time(got), strict=True):
            assert a[0]["train_loss"] == pytest.approx(b[0]["train_loss"], rel=1e-5)


def test_grid_only_trains_the_runs_asked_for():
    acts = [actviz.get("relu"), actviz.get("tanh")]
    res = train_grid(acts, DATA, [cfg(epochs=1), cfg(epochs=1, lr=0.05)], seeds=[0, 1],
                     only={(0, "tanh", 1), (1, "relu", 0), (1, "tanh", 0)})
    assert [(r["label"], r["seed"]) for r in res.runs] == [("tanh", 1), ("relu", 0), ("tanh", 0)]
    assert all(r["status"] == "completed" for r in res.runs)


def test_bf16_precision_trains_close_to_fp32():
    acts = [actviz.get("relu"), actviz.get("tanh")]
    fp32 = train_runs(acts, DATA, cfg(), seeds=[0])
    bf16 = train_runs(acts, DATA, cfg(precision="bf16"), seeds=[0])
    for a, b in zip(fp32.runs, bf16.runs, strict=True):
        assert b["status"] == "completed"
        assert a["history"][-1]["test_acc"] == pytest.approx(b["history"][-1]["test_acc"], abs=0.05)
        assert a["history"][-1]["train_loss"] != b["history"][-1]["train_loss"]  # it did use bf16


def test_stacks_split_when_memory_is_short(monkeypatch):
    from actviz.bench import train

    monkeypatch.setattr(train, "max_models", lambda *a, **k: 2)
    events = []
    res = train_runs([actviz.get("relu")], DATA, cfg(epochs=1), seeds=[0, 1, 2], callback=events.append)
    assert [e["seeds"] for e in events if e["event"] == "epoch_end"] == [[0, 1], [2]]
    whole = train_runs([actviz.get("relu")], DATA, cfg(epochs=1), seeds=[0, 1, 2])
    for a, b in zip(strip_time(res.runs), strip_time(whole.runs), strict=True):
        assert a[0]["train_loss"] == pytest.approx(b[0]["train_loss"], rel=1e-5)
