"""The training engine (actviz.bench.train) on small synthetic data sets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

import actviz
from actviz.bench import train
from actviz.bench.engine.mlp import MLP
from actviz.core.errors import UsageError
from actviz.bench.train import TrainConfig, train_runs


@dataclass
class Synthetic:
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    source: Path = Path("synthetic")


def synthetic(n_train: int = 2000, n_test: int = 500, seed: int = 0) -> Synthetic:
    """Ten noisy class templates: learnable in an epoch or two, like a tiny Fashion-MNIST."""
    g = torch.Generator().manual_seed(seed)
    templates = torch.rand(10, 28, 28, generator=g) * 255

    def make(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.randint(0, 10, (n,), generator=g)
        x = templates[y] * 0.6 + torch.rand(n, 28, 28, generator=g) * 100
        return x.clamp(0, 255).to(torch.uint8), y

    xtr, ytr = make(n_train)
    xte, yte = make(n_test)
    return Synthetic(xtr, ytr, xte, yte)


DATA = synthetic()


def cfg(**kw) -> TrainConfig:
    base = dict(epochs=2, hidden=32, batch_size=64, probe_size=256, device="cpu")
    base.update(kw)
    return TrainConfig(**base)


def strip_time(runs):
    return [[{k: v for k, v in h.items() if k != "time"} for h in r["history"]] for r in runs]


def _stack(names, config, inputs=784, seeds=(0,)):
    acts = [actviz.get(n) if isinstance(n, str) else n for n in names]
    return MLP.build(acts, list(seeds), [config.lr] * len(acts), [0] * len(acts), config, (inputs,), 10,
                     torch.device("cpu"))


def test_init_defaults_and_shapes():
    config = TrainConfig(device="cpu")
    w, b = _stack(["relu"], config).parameters_of(0)
    assert [tuple(x.shape) for x in w] == [(784, 256), (256, 10)]
    for x in w:
        assert abs(float(x.mean())) < 1e-3
        assert float(x.std()) == pytest.approx(0.01, rel=0.05)
    assert all(float(x.abs().max()) == 0 for x in b)


def test_depth_and_maxout_shapes():
    config = TrainConfig(device="cpu", depth=3, hidden=16)
    stack = _stack(["maxout"], config)
    assert stack.k == 3
    assert [tuple(x.shape) for x in stack.parameters_of(0)[0]] == [(784, 48), (16, 48), (16, 48), (16, 10)]
    m5 = _stack([actviz.get("maxout", weights=(1, 2, 3, 4, 5), biases=(0, 0, 0, 0, 0))], config)
    assert m5.k == 5 and tuple(m5.parameters_of(0)[0][0].shape) == (784, 80)
    h, idx = stack.nonlin[0].forward(0, torch.randn(1, 7, 48))
    assert tuple(h.shape) == (1, 7, 16) and tuple(idx.shape) == (1, 7, 16)


@pytest.mark.parametrize("init", train.INITS)
def test_inits_train(init):
    res = train_runs([actviz.get("relu")], DATA, cfg(init=init, epochs=1), seeds=[0])
    assert res.runs[0]["status"] == "completed"


def test_learns_and_records_history():
    res = train_runs([actviz.get("relu"), actviz.get("tanh")], DATA, cfg(epochs=3), seeds=[0])
    assert not res.interrupted
    for run in res.runs:
        assert run["status"] == "completed" and run["epochs_completed"] == 3
        h = run["history"]
        assert [e["epoch"] for e in h] == [1, 2, 3]
        assert h[-1]["test_acc"] > 0.5  # chance is 0.1
        assert h[-1]["train_loss"] < h[0]["train_loss"]
        for e in h:
            assert 0 <= e["train_acc"] <= 1 and e["time"] > 0
            d = e["diagnostics"]
            assert len(d["dead"]) == len(d["saturated"]) == 1 and len(d["grad_norm"]) == 2
            assert all(0 <= v <= 1 for v in d["dead"] + d["saturated"])


def test_same_seed_same_numbers_and_different_seed_differs():
    acts = [actviz.get("relu"), actviz.get("sigmoid")]
    a = train_runs(acts, DATA, cfg(), seeds=[3])
    b = train_runs(acts, DATA, cfg(), seeds=[3])
    c = train_runs(acts, DATA, cfg(), seeds=[4])
    assert strip_time(a.runs) == strip_time(b.runs)
    assert strip_time(a.runs) != strip_time(c.runs)


def test_batches_shared_and_independent_of_the_company():
    """A run's numbers depend on its seed only: the same batches whether trained alone or together."""
    alone = train_runs([actviz.get("tanh")], DATA, cfg(), seeds=[1])
    together = train_runs([actviz.get("relu"), actviz.get("tanh"), actviz.get("elu")], DATA, cfg(), seeds=[1])
    h1, h2 = alone.runs[0]["history"], together.runs[1]["history"]
    for e1, e2 in zip(h1, h2):
        assert e1["train_loss"] == pytest.approx(e2["train_loss"], rel=1e-4)
        assert e1["test_acc"] == pytest.approx(e2["test_acc"], abs=2 / 500)
    assert together.runs[1]["trained_with"] == ["relu", "tanh", "elu"]


def test_several_seeds_give_one_run_each():
    res = train_runs([actviz.get("relu")], DATA, cfg(epochs=1), seeds=[0, 1, 2])
    assert [r["seed"] for r in res.runs] == [0, 1, 2]
    accs = {r["history"][0]["train_loss"] for r in res.runs}
    assert len(accs) == 3


def test_prelu_slope_is_learned():
    res = train_runs([actviz.get("prelu")], DATA, cfg(epochs=2, lr=0.05, init="kaiming"), seeds=[0])
    run = res.runs[0]
    assert run["status"] == "completed"
    (a,) = run["learned"]["a"]
    assert a != pytest.approx(0.25, abs=1e-6)
    res2 = train_runs([actviz.get("prelu", a=0.1)], DATA, cfg(epochs=1, optimizer="adam", lr=0.01), seeds=[0])
    assert res2.runs[0]["learned"]["a"][0] != pytest.approx(0.1, abs=1e-6)


def test_maxout_trains():
    res = train_runs([actviz.get("maxout")], DATA, cfg(epochs=2, depth=2, init="xavier", lr=0.05), seeds=[0])
    run = res.runs[0]
    assert run["status"] == "completed" and run["history"][-1]["test_acc"] > 0.5
    assert run["history"][-1]["diagnostics"]["dead"] == [None, None]


@pytest.mark.parametrize("name", actviz.names())
def test_every_registered_activation_runs(name):
    res = train_runs([actviz.get(name)], DATA, cfg(epochs=1, hidden=8), seeds=[0])
    assert res.runs[0]["status"] in ("completed", "diverged")


def test_fast_paths_match_the_registry_derivative():
    z = torch.randn(64, 32) * 4
    z[0, :4] = 0.0
    dh = torch.randn(64, 32)
    for name in ("relu", "sigmoid", "tanh"):
        act = actviz.get(name)
        fwd, back = train.fast_path(act)
        h = fwd(z)
        assert torch.equal(h, act.forward(z))
        out = back(dh, h, torch.empty_like(dh))
        # the fused kernels take f′ from the float32 output (σ(1 − σ), 1 − tanh²), which loses up
        # to an ulp of 1 (6e-8) in the tails, where the registry's f′ is accurate: atol ∝ |dh|
        torch.testing.assert_close(out, dh * act.derivative(z), rtol=1e-5, atol=2.4e-7 * float(dh.abs().max()))
    assert train.fast_path(actviz.get("elu")) is None


@pytest.fixture
def exploding():
    spec = actviz.register(
        name="test_exploding",
        forward=lambda x: torch.exp(x.clamp(max=80)) * 1e30,
        derivative=lambda x: torch.exp(x.clamp(max=80)) * 1e30,
        formula="1e30·e^x",
        replace=True,
    )
    yield spec
    actviz.unregister("test_exploding")


def test_diverged_run_is_reported_and_the_others_go_on(exploding):
    res = train_runs([actviz.get("test_exploding"), actviz.get("relu")], DATA, cfg(epochs=2), seeds=[0])
    bad, good = res.runs
    assert bad["status"] == "diverged" and bad["diverged_epoch"] == 1 and bad["history"] == []
    assert good["status"] == "completed" and good["epochs_completed"] == 2


def test_huge_lr_diverges():
    res = train_runs([actviz.get("relu")], DATA, cfg(epochs=2, lr=1e12), seeds=[0])
    assert res.runs[0]["status"] == "diverged"


def test_keyboard_interrupt_keeps_completed_epochs():
    def cb(event):
        if event["event"] == "epoch" and event["epoch"] == 2:
            raise KeyboardInterrupt

    res = train_runs([actviz.get("relu")], DATA, cfg(epochs=5), seeds=[0, 1], callback=cb)
    assert res.interrupted
    first, second = res.runs  # trained together: the second's first epoch was recorded before
    assert first["status"] == "interrupted" and first["epochs_completed"] == 2
    assert second["status"] == "interrupted" and second["epochs_completed"] == 1


def test_depth5_sigmoid_gradients_vanish_towards_the_input():
    res = train_runs([actviz.get("sigmoid"), actviz.get("relu")], DATA,
                     cfg(epochs=1, depth=5, hidden=64), seeds=[0])
    g = res.runs[0]["history"][-1]["diagnostics"]["grad_norm"]
    assert len(g) == 6
    hidden = g[:5]
    assert all(a < b for a, b in zip(hidden, hidden[1:])), g
    assert g[0] < 1e-3 * g[4]


def test_callback_events():
    events = []
    train_runs([actviz.get("relu")], DATA, cfg(epochs=2), seeds=[0], callback=events.append)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start"
    steps = sum(e["n"] for e in events if e["event"] == "steps")
    assert steps == events[0]["total_steps"] == 2 * math.ceil(2000 / 64)
    assert [e["epoch"] for e in events if e["event"] == "epoch"] == [1, 2]


def test_config_validation():
    for bad in (dict(epochs=0), dict(hidden=0), dict(lr=-1.0), dict(lr=float("nan")), dict(optimizer="rmsprop"),
                dict(init="zeros"), dict(batch_size=0), dict(device="tpu")):
        with pytest.raises(UsageError):
            TrainConfig(**bad).validate()
    with pytest.raises(UsageError):
        train_runs([], DATA, cfg())


def test_flops_per_epoch():
    # 784-256-10: forward 784·256 + 256·10, backward the same weight products plus 256·10 for dH
    assert train.flops_per_epoch(1) == 2 * (2 * (784 * 256 + 2560) + 2560)


def test_global_torch_state_is_restored():
    assert not train._flushing_denormals()
    threads = torch.get_num_threads()
    train_runs([actviz.get("sigmoid")], DATA, cfg(epochs=1, threads=1), seeds=[0])
    assert not train._flushing_denormals()
    assert torch.get_num_threads() == threads


# --------------------------------------------------------------------------- what the store needs


def test_only_trains_the_runs_asked_for_with_the_same_numbers():
    acts = [actviz.get("relu"), actviz.get("tanh")]
    full = train_runs(acts, DATA, cfg(epochs=1), seeds=[0, 1])
    part = train_runs(acts, DATA, cfg(epochs=1), seeds=[0, 1], only={("tanh", 0), ("relu", 1)})
    assert [(r["label"], r["seed"]) for r in part.runs] == [("tanh", 0), ("relu", 1)]
    ref = {(r["label"], r["seed"]): r for r in full.runs}
    for r in part.runs:  # a run's numbers do not depend on which runs train beside it
        got, want = r["history"][0], ref[(r["label"], r["seed"])]["history"][0]
        assert got["test_acc"] == pytest.approx(want["test_acc"], abs=0.01)
        assert got["train_loss"] == pytest.approx(want["train_loss"], rel=1e-3)


def test_events_carry_the_live_runs_and_epoch_end():
    events = []
    res = train_runs([actviz.get("relu")], DATA, cfg(epochs=2), seeds=[0, 1], callback=events.append)
    start = events[0]
    assert start["event"] == "start" and start["run_list"] is res.runs
    ends = [(e["seeds"], e["epoch"]) for e in events if e["event"] == "epoch_end"]
    assert ends == [([0, 1], 1), ([0, 1], 2)]  # every seed trains together


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_overflowing_learning_rate_is_diverged(optimizer):
    res = train_runs([actviz.get("relu"), actviz.get("tanh")], DATA, cfg(lr=1e300, optimizer=optimizer), seeds=[0])
    assert [r["status"] for r in res.runs] == ["diverged", "diverged"]
    assert all(r["diverged_epoch"] == 1 for r in res.runs)
