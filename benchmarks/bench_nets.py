"""LeNet through the network stacks against a plain single-model PyTorch LeNet loop, per model-epoch.

In one run on this machine, on Fashion-MNIST (or its first ``--n`` training images):

* **plain**: one ``nn.Sequential`` LeNet per model, trained one after the other by the
  usual loop (``index_select`` batches, ``F.cross_entropy``, ``torch.optim.SGD``), with
  a test evaluation every epoch and no diagnostics; measured twice: first as a script
  would run it (the C library's allocator as it comes), then after training has set the
  allocator to keep freed memory (:mod:`actviz.bench.engine.memory`), as the stacks ran;
* **stacks**: ``actviz.bench.train.train_runs`` (the batched engine) training d2l's LeNet-5 for
  ``--acts`` (default sigmoid, relu, tanh) × ``--seeds`` seeds, all in one stack, each
  model on its seed's batches, with the test evaluation and the diagnostics every epoch;
* with ``--process E``: the whole process ``python -m actviz compare ACTS --model lenet --lr 0.9
  --init xavier --seeds S --epochs E --no-plots`` (start-up, data loading, the store
  rewritten every epoch), per model-epoch.

It prints seconds per model-epoch of each and the ratios to the plain loop (target ≤ 1.0,
against the plain loop with the same allocator).  d2l's settings: lr 0.9, Xavier init, batch 256.

Usage: python benchmarks/bench_nets.py [--n 60000] [--epochs 1] [--seeds 3] [--threads N] [--process E]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def plain_lenet(act: str, seed: int, data: SimpleNamespace, epochs: int, lr: float, bs: int) -> float:
    """Seconds of the plain loop: one model, ``epochs`` epochs and a test evaluation per epoch."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    a = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}[act]
    net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), a(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), a(),
                        nn.AvgPool2d(2), nn.Flatten(), nn.Linear(400, 120), a(), nn.Linear(120, 84), a(),
                        nn.Linear(84, 10))
    for m in net:
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    x = data.train_images.float().div(255).unsqueeze(1)
    xt = data.test_images.float().div(255).unsqueeze(1)
    gen = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    for _ in range(epochs):
        net.train()
        perm = torch.randperm(x.shape[0], generator=gen)
        for s in range(0, x.shape[0], bs):
            idx = perm[s:s + bs]
            loss = nn.functional.cross_entropy(net(x[idx]), data.train_labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            sum(int((net(xt[s:s + 1000]).argmax(1) == data.test_labels[s:s + 1000]).sum())
                for s in range(0, xt.shape[0], 1000))
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60000, help="training images (the first N)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--acts", default="sigmoid,relu,tanh")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--process", type=int, default=0, metavar="E",
                        help="also time the whole `compare` process for E epochs (10: the issue's figure)")
    args = parser.parse_args()

    import torch

    from actviz.bench.config import TrainConfig
    from actviz.bench.data import load
    from actviz.bench.train import train_runs
    from actviz.core import registry

    if args.threads:
        torch.set_num_threads(args.threads)
    full = load()
    data = SimpleNamespace(train_images=full.train_images[: args.n], train_labels=full.train_labels[: args.n].long(),
                           test_images=full.test_images, test_labels=full.test_labels.long())
    names = args.acts.split(",")
    models = len(names) * args.seeds

    def plain() -> float:
        total = sum(plain_lenet(a, s, data, args.epochs, 0.9, 256) for a in names for s in range(args.seeds))
        return total / (models * args.epochs)

    plain_default = plain()
    cfg = TrainConfig(model="lenet", lr=0.9, init="xavier", epochs=args.epochs)
    t0 = time.perf_counter()
    train_runs([registry.get(a) for a in names], data, cfg, seeds=list(range(args.seeds)))
    stacked = (time.perf_counter() - t0) / (models * args.epochs)
    plain_kept = plain()
    print(f"LeNet, {args.n} training images, {models} models × {args.epochs} epochs, "
          f"{torch.get_num_threads()} threads")
    print(f"  plain:  {plain_default:.2f} s per model-epoch (one nn.Sequential at a time, evaluation only; "
          f"the allocator as it comes)")
    print(f"  plain:  {plain_kept:.2f} s per model-epoch (the same, freed memory kept as training keeps it)")
    print(f"  stacks: {stacked:.2f} s per model-epoch (with evaluation and diagnostics)")
    print(f"  ratio stacks/plain: {stacked / plain_kept:.2f} (target <= 1.0); "
          f"against the plain loop as it comes: {stacked / plain_default:.2f}")
    if args.process:
        process = whole_process(names, args)
        print(f"  whole process, {models} models × {args.process} epochs: {process:.2f} s per model-epoch; "
              f"ratio to plain {process / plain_kept:.2f} (target <= 1.0), to plain as it comes "
              f"{process / plain_default:.2f}")


def whole_process(names: list[str], args: argparse.Namespace) -> float:
    """Seconds per model-epoch of ``python -m actviz compare … --model lenet`` (the full training set)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "actviz", "compare", *names, "--model", "lenet", "--lr", "0.9", "--init",
               "xavier", "--seeds", str(args.seeds), "--epochs", str(args.process), "--no-plots", "--out", out]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
        return (time.perf_counter() - t0) / (len(names) * args.seeds * args.process)


if __name__ == "__main__":
    main()
