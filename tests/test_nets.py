"""The network stacks (LeNet, the CNN, the MLP with norm/residual) against plain single-model torch.nn references."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from actviz.bench.config import ConfigError, TrainConfig
from actviz.bench.nets import MLP_NORM, NETWORKS, family_for
from actviz.bench.nets.cnn import CHANNELS
from actviz.core import registry

ACT_MODULES = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def _lenet(c: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Sigmoid(),
        nn.AvgPool2d(2), nn.Flatten(), nn.Linear(16 * 25, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10))


def _cnn(c: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for o in CHANNELS:
        layers += [nn.Conv2d(c, o, 3, padding=1), nn.BatchNorm2d(o), nn.Sigmoid(), nn.MaxPool2d(2)]
        c = o
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(CHANNELS[-1] * 9, 10))


class _Mlp(nn.Module):
    def __init__(self, act: type, depth: int, hidden: int, norm: str, residual: bool):
        super().__init__()
        widths = [784] + [hidden] * depth
        self.lin = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))
        make = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm}.get(norm)
        self.norms = nn.ModuleList(make(hidden) if make else nn.Identity() for _ in self.lin)
        self.act, self.residual = act(), residual
        self.out = nn.Linear(widths[-1], 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.flatten(1)
        for i, (lin, norm) in enumerate(zip(self.lin, self.norms)):
            a = self.act(norm(lin(h)))
            h = h + a if self.residual and i > 0 else a
        return self.out(h)


def _reference(model: str, act: str, config: TrainConfig) -> nn.Module:
    if model == "mlp":
        return _Mlp(ACT_MODULES[act], config.depth, config.hidden, config.norm, config.residual)
    net = _lenet(1) if model == "lenet" else _cnn(1)
    for i, m in enumerate(net):
        if isinstance(m, nn.Sigmoid):
            net[i] = ACT_MODULES[act]()
    return net


def _load(ref: nn.Module, stack, i: int) -> None:
    """Copy model i's initial parameters into the reference (dense weights are stored (in, out))."""
    weights, biases = stack.parameters_of(i)
    layers = [m for m in ref.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    assert len(layers) == len(weights)
    with torch.no_grad():
        for m, w, b in zip(layers, weights, biases):
            m.weight.copy_(w.t() if isinstance(m, nn.Linear) else w)
            m.bias.copy_(b)


def _batches(steps: int, b: int, dtype: torch.dtype, seed: int = 3) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    return [(torch.rand(b, 1, 28, 28, generator=g, dtype=dtype), torch.randint(0, 10, (b,), generator=g))
            for _ in range(steps)]


CASES = [
    ("lenet", "sigmoid", {"init": "xavier", "lr": 0.9}),
    ("lenet", "relu", {"init": "xavier", "lr": 0.1, "optimizer": "adam"}),
    ("cnn", "relu", {"init": "kaiming", "lr": 0.05}),
    ("mlp", "sigmoid", {"depth": 3, "hidden": 32, "norm": "batch", "lr": 0.5}),
    ("mlp", "tanh", {"depth": 3, "hidden": 32, "norm": "layer", "residual": True, "lr": 0.2}),
]


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
@pytest.mark.parametrize("model,act,opts", CASES)
def test_a_stacked_model_trains_like_its_torch_nn_reference(model, act, opts, dtype, tol):
    config = TrainConfig(model=model, batch_size=16, **opts).validate()
    if dtype == torch.float32 and config.optimizer == "adam":
        tol = 1e-3  # Adam divides tiny gradients by their own root mean square: float32 rounding is amplified
    elif dtype == torch.float32 and model == "cnn":
        tol = 1e-3  # batch norm over 16 examples divides by a small spread: float32 rounding is amplified
    acts = [registry.get("relu"), registry.get(act), registry.get("tanh")]
    stack = family_for(config).build(acts, [5, 7, 9], [0.05, config.lr, 0.1], [0, 1, 0], config, (28, 28), 10,
                                     torch.device("cpu"), dtype=dtype)
    ref = _reference(model, act, config).to(dtype)
    _load(ref, stack, 1)
    opt = (torch.optim.Adam if config.optimizer == "adam" else torch.optim.SGD)(ref.parameters(), lr=config.lr)
    other = _batches(3, 16, dtype, seed=11)
    for (x, y), (x0, y0) in zip(_batches(3, 16, dtype), other):
        stack.step(torch.stack([x0, x]), torch.stack([y0, y]))
        opt.zero_grad()
        nn.functional.cross_entropy(ref(x), y).backward()
        opt.step()
    ref.eval()
    weights, _ = stack.parameters_of(1)
    ref_weights = [m.weight for m in ref.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    for w, r in zip(weights, ref_weights):
        r = r.detach().t() if r.dim() == 2 else r.detach()
        assert torch.allclose(w, r, rtol=tol, atol=tol * r.abs().max().item()), (w - r).abs().max()
    x, y = _batches(1, 40, dtype, seed=99)[0]
    acc, loss = stack.evaluate(x, y)[1]
    with torch.no_grad():
        logits = ref(x)
    assert loss == pytest.approx(nn.functional.cross_entropy(logits, y).item(), rel=tol * 10)
    assert acc == pytest.approx((logits.argmax(1) == y).double().mean().item())


@pytest.mark.parametrize("model,opts", [("lenet", {"init": "xavier"}), ("cnn", {"init": "kaiming"}),
                                        ("mlp", {"depth": 2, "hidden": 16, "norm": "batch", "residual": True})])
def test_a_model_trained_alone_equals_the_same_model_trained_in_a_stack(model, opts):
    config = TrainConfig(model=model, lr=0.1, **opts).validate()
    fam, cpu = family_for(config), torch.device("cpu")
    sig, relu = registry.get("sigmoid"), registry.get("relu")
    alone = fam.build([sig], [4], [0.1], [0], config, (28, 28), 10, cpu, dtype=torch.float64)
    stacked = fam.build([relu, sig, sig], [4, 4, 6], [0.3, 0.1, 0.1], [1, 0, 1], config, (28, 28), 10, cpu,
                        dtype=torch.float64)
    for (x, y), (x1, y1) in zip(_batches(3, 8, torch.float64), _batches(3, 8, torch.float64, seed=8)):
        alone.step(x.unsqueeze(0), y.unsqueeze(0))
        stacked.step(torch.stack([x, x1]), torch.stack([y, y1]))
    for a, b in zip(alone.parameters_of(0)[0], stacked.parameters_of(1)[0]):
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-14)
    assert alone.epoch_stats()[0] == pytest.approx(stacked.epoch_stats()[1], rel=1e-12)
    x, y = _batches(1, 30, torch.float64, seed=5)[0]
    da, ds = alone.diagnostics(x, y)[0], stacked.diagnostics(x, y)[1]
    assert da["grad_norm"] == pytest.approx(ds["grad_norm"], rel=1e-9)
    assert da["dead"] == ds["dead"] and da["saturated"] == ds["saturated"]


def test_conv_diagnostics_count_channels_as_units():
    config = TrainConfig(model="lenet", init="xavier").validate()
    stack = NETWORKS["lenet"].build([registry.get("relu")], [0], [0.1], [0], config, (28, 28), 10,
                                    torch.device("cpu"))
    with torch.no_grad():  # channel 0 of the first convolution can never pass a gradient: dead
        stack.c1.bias[0, 0] = -1e6
    x, y = _batches(1, 20, torch.float32)[0]
    d = stack.diagnostics(x, y)[0]
    assert len(d["dead"]) == 4 and len(d["grad_norm"]) == 5
    assert d["dead"][0] == pytest.approx(1 / 6) and d["saturated"][0] >= 1 / 6


def test_a_deactivated_model_stops_changing_while_the_others_train():
    config = TrainConfig(model="lenet", init="xavier").validate()
    stack = NETWORKS["lenet"].build([registry.get("relu")] * 2, [0, 1], [0.1, 0.1], [0, 0], config, (28, 28), 10,
                                    torch.device("cpu"))
    stack.deactivate(0)
    before = [w.clone() for w in stack.parameters_of(0)[0]] + [w.clone() for w in stack.parameters_of(1)[0]]
    x, y = _batches(1, 8, torch.float32)[0]
    stack.step(x.unsqueeze(0), y.unsqueeze(0))
    after0, after1 = stack.parameters_of(0)[0], stack.parameters_of(1)[0]
    assert all(torch.equal(a, b) for a, b in zip(before[:5], after0))
    assert not torch.equal(before[5], after1[0])


def test_family_for_picks_the_network_the_configuration_names():
    assert family_for(TrainConfig(model="lenet")) is NETWORKS["lenet"]
    assert family_for(TrainConfig(norm="batch")) is MLP_NORM
    assert family_for(TrainConfig(residual=True)) is MLP_NORM
    assert family_for(TrainConfig()).name == "mlp"


def test_norm_and_residual_apply_to_the_mlp_only():
    with pytest.raises(ConfigError, match="norm applies to model mlp only"):
        TrainConfig(model="cnn", norm="batch").validate()
    with pytest.raises(ConfigError, match="model must be one of mlp, lenet, cnn"):
        TrainConfig(model="resnet").validate()
    with pytest.raises(ConfigError, match="norm must be one of"):
        TrainConfig(norm="group").validate()


@pytest.mark.parametrize("model", ["lenet", "cnn"])
def test_colour_images_train_like_the_torch_nn_reference(model):
    """3×32×32 inputs (CIFAR-10's shape): each model's convolutions take three channels, float64 within 1e-10."""
    config = TrainConfig(model=model, batch_size=8, init="xavier", lr=0.1).validate()
    acts = [registry.get("tanh"), registry.get("relu")]
    stack = family_for(config).build(acts, [3, 5], [0.1, 0.1], [0, 1], config, (3, 32, 32), 10,
                                     torch.device("cpu"), dtype=torch.float64)
    if model == "lenet":
        ref = nn.Sequential(nn.Conv2d(3, 6, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                            nn.AvgPool2d(2), nn.Flatten(), nn.Linear(16 * 36, 120), nn.ReLU(), nn.Linear(120, 84),
                            nn.ReLU(), nn.Linear(84, 10))
    else:
        blocks: list[nn.Module] = []
        for c, o in zip((3, *CHANNELS), CHANNELS):
            blocks += [nn.Conv2d(c, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2)]
        ref = nn.Sequential(*blocks, nn.Flatten(), nn.Linear(CHANNELS[-1] * 16, 10))
    ref = ref.double()
    _load(ref, stack, 1)
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(2)
    for _ in range(2):
        xs = torch.rand(2, 8, 3, 32, 32, generator=g, dtype=torch.float64)
        ys = torch.randint(0, 10, (2, 8), generator=g)
        stack.step(xs, ys)
        opt.zero_grad()
        nn.functional.cross_entropy(ref(xs[1]), ys[1]).backward()
        opt.step()
    ref_weights = [m.weight for m in ref.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    for w, r in zip(stack.parameters_of(1)[0], ref_weights):
        r = r.detach().t() if r.dim() == 2 else r.detach()
        torch.testing.assert_close(w, r, rtol=1e-10, atol=1e-12)


class _LearnedAct(nn.Module):
    """A registry activation whose named parameters are nn.Parameters (per layer, or per unit along ``dim``)."""

    def __init__(self, act, names: dict[str, str], units: int, conv: bool):
        super().__init__()
        self.act, self.fixed = act, {k: v for k, v in act.params.items() if k not in names}
        for name, gran in names.items():
            v = torch.as_tensor(act.params[name], dtype=torch.float64)
            if gran == "unit":
                shape = (*v.shape, units, *((1, 1) if conv else ()))
                v = v.reshape(*v.shape, *[1] * (len(shape) - v.dim())).expand(shape)
            self.register_parameter(name, nn.Parameter(v.clone()))
        self.names = list(names)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.act.spec.forward(z, **self.fixed, **{n: getattr(self, n) for n in self.names})


@pytest.mark.parametrize("name,learn", [("swish", "swish.beta:unit"), ("rational", ""), ("elu", "elu.alpha:layer"),
                                        ("rational", "rational.numerator:unit")])
def test_learnable_activations_train_in_a_lenet_stack_like_the_torch_nn_reference(name, learn):
    """--learn (and rational's coefficients, learnable by default) in the conv stacks: per layer, per unit
    (a channel in a convolution), vector parameters; weights and parameters equal the reference's, float64."""
    config = TrainConfig(model="lenet", batch_size=8, init="xavier", lr=0.1, learn=learn, learn_lr=0.05).validate()
    act = registry.get(name)
    stack = family_for(config).build([registry.get("relu"), act], [3, 5], [0.1, 0.1], [0, 1], config, (1, 28, 28),
                                     10, torch.device("cpu"), dtype=torch.float64)
    gran = stack.granularity[1]
    assert gran, "something learns"
    acts = [_LearnedAct(act, gran, u, conv) for u, conv in ((6, True), (16, True), (120, False), (84, False))]
    ref = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), acts[0], nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), acts[1],
                        nn.AvgPool2d(2), nn.Flatten(), nn.Linear(400, 120), acts[2], nn.Linear(120, 84), acts[3],
                        nn.Linear(84, 10)).double()
    _load(ref, stack, 1)
    act_params = [p for a in acts for p in a.parameters()]
    weights = [p for m in ref if isinstance(m, (nn.Conv2d, nn.Linear)) for p in m.parameters()]
    opt = torch.optim.SGD([{"params": weights, "lr": 0.1}, {"params": act_params, "lr": 0.05}])
    for (x, y), (x0, y0) in zip(_batches(2, 8, torch.float64), _batches(2, 8, torch.float64, seed=4)):
        stack.step(torch.stack([x0, x]), torch.stack([y0, y]))
        opt.zero_grad()
        nn.functional.cross_entropy(ref(x), y).backward()
        opt.step()
    ref_weights = [m.weight for m in ref if isinstance(m, (nn.Conv2d, nn.Linear))]
    for w, r in zip(stack.parameters_of(1)[0], ref_weights):
        torch.testing.assert_close(w, r.detach().t() if r.dim() == 2 else r.detach(), rtol=1e-10, atol=1e-12)
    for layer, a in enumerate(acts):
        for n in a.names:
            got = stack._act_params[layer][1][n]
            torch.testing.assert_close(got.detach(), getattr(a, n).detach(), rtol=1e-10, atol=1e-12)
            start = torch.as_tensor(act.params[n], dtype=torch.float64)
            start = start.reshape(tuple(start.shape) + (1,) * (got.dim() - start.dim()))
            assert float((got.detach() - start).abs().max()) > 0, "it moved"
    learned = stack.learned(1)
    assert all(len(v) == 4 for v in learned.values())
    assert ("numerator[0]" in learned) == (name == "rational")


@pytest.mark.parametrize("model", ["lenet", "cnn", "mlp"])
def test_bf16_rounds_every_product_of_the_stacks_and_trains_close_to_fp32(model):
    """--precision bf16 in the autograd stacks: each layer's product takes bfloat16 operands (its result
    equals the float32 product of the rounded operands), and a few steps stay close to fp32."""
    opts = {"norm": "batch", "depth": 2, "hidden": 16} if model == "mlp" else {}
    stacks = {}
    for precision in ("fp32", "bf16"):
        config = TrainConfig(model=model, batch_size=8, init="kaiming", lr=0.05, precision=precision, **opts).validate()
        stacks[precision] = family_for(config).build([registry.get("relu"), registry.get("tanh")], [3, 3], [0.05] * 2,
                                                     [0, 0], config, (28, 28), 10, torch.device("cpu"))
        for x, y in _batches(3, 8, torch.float32):
            stacks[precision].step(x.unsqueeze(0), y.unsqueeze(0))
    dense = stacks["bf16"].d3 if model == "lenet" else stacks["bf16"].out  # the output layer
    h, w = torch.rand(2, 5, dense.weight.shape[1]), dense.weight.detach()
    want = torch.bmm(h.bfloat16(), w.bfloat16()).float() + dense.bias.detach().unsqueeze(1)
    got = dense(h).detach()
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    assert not torch.allclose(got, torch.bmm(h, w) + dense.bias.detach().unsqueeze(1), rtol=1e-5, atol=1e-6)
    a, b = stacks["fp32"].epoch_stats(), stacks["bf16"].epoch_stats()
    assert a != b  # bf16 did round
    for (la, _), (lb, _) in zip(a, b):
        assert lb == pytest.approx(la, rel=0.05)


def test_a_conv_stack_reports_what_its_activations_learned_as_the_mlp_does():
    """learning(): per layer the units' statistics (a channel is a unit), the per-unit values, the
    pre-activation histograms on the probe batch; what learned.png draws from."""
    config = TrainConfig(model="lenet", batch_size=8, init="xavier", lr=0.1, learn="swish.beta:unit").validate()
    stack = family_for(config).build([registry.get("relu"), registry.get("swish")], [3, 5], [0.1] * 2, [0, 1], config,
                                     (28, 28), 10, torch.device("cpu"))
    for (x, y), (x0, y0) in zip(_batches(2, 8, torch.float32), _batches(2, 8, torch.float32, seed=4)):
        stack.step(torch.stack([x0, x]), torch.stack([y0, y]))
    x, y = _batches(1, 16, torch.float32, seed=9)[0]
    stack.diagnostics(x, y)
    assert stack.learning(0) is None
    got = stack.learning(1)
    assert got["run"]["learning"] == {"beta": "unit"}
    assert [len(u) for u in got["run"]["learned_units"]["beta"]] == [6, 16, 120, 84]
    assert len(got["run"]["preact_range"]) == len(got["epoch"]["preact_hist"]) == 4
    assert all(sum(h["counts"]) + h["below"] + h["above"] == n for h, n in
               zip(got["epoch"]["preact_hist"], (16 * 6 * 28 * 28, 16 * 16 * 10 * 10, 16 * 120, 16 * 84)))
    stats = got["epoch"]["learned"]["beta"]
    assert len(stats) == 4 and all(s["q05"] <= s["q50"] <= s["q95"] for s in stats)
    assert stack.learned(1)["beta"] == pytest.approx([s["mean"] for s in stats])
