"""Benchmark of ``actviz compare``'s training against the machine and two reference loops.

Measures, in one run on this machine:

* sgemm throughput at the reference layer's shapes (forward (256×784)@(784×256), weight
  gradient (784×256)@(256×256), and the 10-unit output layer's); the best is the "peak";
* a plain single-model PyTorch loop: 784-256-10 ReLU MLP, autograd, torch.optim.SGD, batch
  256, the data set in memory as float tensors (its best epoch of three);
* a d2l-style loop: d2l's ``train_ch3`` over ``load_data_fashion_mnist``'s DataLoaders
  (batch 256, shuffled, 4 workers, each sample a PIL image turned into a tensor by ToTensor),
  one epoch with its test-accuracy pass;
* actviz's library call ``train_runs([relu, tanh, sigmoid], data, TrainConfig(epochs=3))`` (3 epochs,
  evaluation and diagnostics included) per model-epoch;
* the whole process ``python -m actviz compare relu tanh sigmoid --seeds 5 --out TMP``
  (start-up, torch and scipy imports, data loading, statistics, a results.json rewritten
  after every epoch, plots included) per model-epoch (150 of them), and its max RSS;
* resuming that finished store: the same command again (every run reused, nothing
  trained), against the start-up of ``python -c "import actviz.cli.app, torch, scipy.stats"``.

With ``--store`` (one round, several minutes): ``--seeds 3`` then ``--seeds 5`` into one
store (the second trains 6 runs) against a fresh ``--seeds 5``, and the sweep
``compare relu leaky_relu -p leaky_relu.negative_slope=0.01,0.3 --depth 1,2 --epochs 2``.

FLOPs per model-epoch count the matmuls of forward and backward (no input gradient):
see :func:`actviz.bench.train.flops_per_epoch`.

With ``--many`` (the batched engine): for M = 3, 15, 60, 300 models (relu, tanh, sigmoid ×
seeds, one stack) seconds per model-epoch of the engine's step against the plain loop and
against the *batched limit* (the same stack's matrix products alone, measured in the same
run, called as the engine calls them); the bf16/fp32 throughput of the step (``--precision bf16`` on
a CPU with bf16 units) next to that of the products alone, and the ceiling the two give: only the
products run faster in bf16, so the step's gain is at most 1 / (1 − p + p / g) for a share p of the
fp32 step in those products and their own gain g.
With ``--device cuda`` the plain loop, the library call and the many-model section run on
the GPU (the process figures stay on the CPU unless ``--device cuda`` is passed through).

Usage: python benchmarks/bench_train.py [--rounds N] [--epochs N] [--skip-process] [--store]
       [--many] [--models 3,15,60,300] [--device cpu|cuda] [--baseline PATH]

``--baseline PATH`` (a checkout of an earlier actviz, e.g. a ``git worktree`` of main) also
times that checkout's library call and whole process in the same rounds: the ratio new/old.

The VM this project runs on drifts in speed by up to 1.5x within minutes, so every quantity
is measured in each of several interleaved rounds and the best of each is kept.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def sgemm(m: int, k: int, n: int, seconds: float = 0.6, device: str = "cpu") -> float:
    """GFLOP/s of (m×k)@(k×n) in float32, the best of several timed blocks."""
    import torch

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    a, b, c = torch.rand(m, k, device=device), torch.rand(k, n, device=device), torch.empty(m, n, device=device)
    for _ in range(10):
        torch.mm(a, b, out=c)
    reps = max(5, int(seconds / 8 / max(2 * m * k * n / 150e9, 1e-6)))
    best = float("inf")
    for _ in range(8):
        sync()
        t = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b, out=c)
        sync()
        best = min(best, (time.perf_counter() - t) / reps)
    return 2 * m * k * n / best / 1e9


def plain_loop(x, y, epochs: int = 3, device: str = "cpu") -> list[float]:
    import torch
    from torch import nn

    torch.manual_seed(0)
    x, y = x.to(device), y.to(device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)).to(device)
    for layer in net:
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, std=0.01)
            nn.init.zeros_(layer.bias)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    n = x.shape[0]
    for _ in range(epochs):
        sync()
        t = time.perf_counter()
        perm = torch.randperm(n, device=device)
        for i in range(0, n, 256):
            idx = perm[i : i + 256]
            loss = loss_fn(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sync()
        times.append(time.perf_counter() - t)
    return times


def many_models(data, models: list[int], device: str, plain_epoch: float, rounds: int) -> None:
    """Seconds per model-epoch of one stack of M models (the engine's step), against the plain loop and the
    batched limit (the stack's forward and weight-gradient products alone), and bf16 against fp32."""
    import torch

    import actviz
    from actviz.bench.engine import products
    from actviz.bench.engine.graphs import StepRunner
    from actviz.bench.engine.memory import keep_freed_memory
    from actviz.bench.engine.mlp import MLP
    from actviz.bench.train import TrainConfig

    dev = torch.device(device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    n = int(data.train_images.shape[0])
    steps = 24  # timed steps per measurement; an epoch is n / 256 of them
    names = ("relu", "tanh", "sigmoid")
    was = torch.set_flush_denormal(True) if dev.type == "cpu" else False
    keep_freed_memory()  # as training does
    print(f"\nmany models at once ({device}; relu, tanh, sigmoid x seeds, one stack; "
          f"s/model-epoch from {steps} steps, best of {rounds})")
    for M in models:
        S = max(1, M // len(names))
        acts = [actviz.get(names[j % len(names)]) for j in range(len(names)) for _ in range(S)][:M]
        M = len(acts)
        S = M // len(names) if M % len(names) == 0 else M
        slot = [i % S for i in range(M)]
        xs = torch.rand(S, 256, 784, device=dev)
        ys = torch.randint(0, 10, (S, 256), device=dev)
        runners = {}
        for precision in ("fp32", "bf16") + (("tf32",) if dev.type == "cuda" else ()):
            config = TrainConfig(device=device, precision=precision)
            runners[precision] = StepRunner(MLP.build(acts, slot, [0.1] * M, slot, config, (784,), 10, dev), dev)
            for _ in range(4):
                runners[precision](xs, ys)
        res = {p: float("inf") for p in runners}
        for _ in range(rounds):  # the precisions interleaved: the VM's drift hits them alike
            for precision, run in runners.items():
                sync()
                t = time.perf_counter()
                for _ in range(steps):
                    run(xs, ys)
                sync()
                res[precision] = min(res[precision], (time.perf_counter() - t) / steps * (n / 256) / M)
        del runners
        limit = {p: float("inf") for p in ("fp32", "bf16")}
        for _ in range(rounds):  # the batched limit: forward and weight gradient of the first layer
            for precision, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
                x = xs.to(dtype)
                w1 = torch.rand(S, 784, M // S * 256, device=dev, dtype=dtype)
                b1 = torch.zeros(S, 1, M // S * 256, device=dev, dtype=dtype)
                dz = torch.rand(S, 256, M // S * 256, device=dev, dtype=dtype).mul_(1e-6)
                sync()
                t = time.perf_counter()
                for _ in range(steps):  # the products as the engine calls them
                    if precision == "fp32":  # balanced over the CPU's threads
                        products.baddbmm(b1, x, w1)
                        products.baddbmm_(w1, x.transpose(1, 2), dz, -0.1)
                    else:  # oneDNN's batched bf16 products, balanced already
                        torch.bmm(x, w1)
                        torch.bmm(x.transpose(1, 2), dz)
                sync()
                limit[precision] = min(limit[precision], (time.perf_counter() - t) / steps * (n / 256) / M)
        gemm = limit["fp32"] / limit["bf16"]
        share = limit["fp32"] / res["fp32"]  # of an fp32 step: its first layer's products
        ceiling = 1 / (1 - share + share / gemm)  # Amdahl: only those products run faster in bf16
        extra = f", tf32 {res['tf32']:.4f}" if "tf32" in res else ""
        print(f"  M={M:4d}: fp32 {res['fp32']:.4f} s/model-epoch = {res['fp32'] / plain_epoch:5.2f} x plain loop, "
              f"{res['fp32'] / limit['fp32']:5.2f} x batched limit ({limit['fp32']:.4f}); bf16 {res['bf16']:.4f} "
              f"(bf16 throughput / fp32 {res['fp32'] / res['bf16']:.2f}; the products alone {gemm:.2f}, "
              f"so at most {ceiling:.2f} with the rest of the step in float32){extra}")
    if dev.type == "cpu" and not was:
        torch.set_flush_denormal(False)


class _D2LFashionMNIST:
    """What d2l's ``load_data_fashion_mnist`` iterates: torchvision's FashionMNIST with ToTensor.

    torchvision is not a dependency, so this re-creates its per-sample path: the uint8 image
    becomes a PIL image (as ``FashionMNIST.__getitem__`` does), then ``ToTensor`` turns it into
    a (1, 28, 28) float tensor in [0, 1] (the same numpy/view/permute/div steps).
    """

    def __init__(self, images, labels):
        self.images, self.labels = images.numpy(), labels.numpy()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        import numpy as np
        import torch
        from PIL import Image

        pic = Image.fromarray(self.images[i], mode="L")
        img = torch.from_numpy(np.array(pic, np.uint8, copy=True))
        img = img.view(pic.size[1], pic.size[0], 1).permute((2, 0, 1)).contiguous()
        return img.to(dtype=torch.get_default_dtype()).div(255), int(self.labels[i])


def d2l_loop(data) -> float:
    """One epoch as d2l's ``train_ch3`` runs it: DataLoader (4 workers) + training + test accuracy."""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader

    train_iter = DataLoader(_D2LFashionMNIST(data.train_images, data.train_labels), batch_size=256,
                            shuffle=True, num_workers=4)
    test_iter = DataLoader(_D2LFashionMNIST(data.test_images, data.test_labels), batch_size=256,
                           shuffle=False, num_workers=4)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    for layer in net:
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, std=0.01)
            nn.init.zeros_(layer.bias)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss(reduction="none")
    t = time.perf_counter()
    for xb, yb in train_iter:
        loss = loss_fn(net(xb), yb)
        opt.zero_grad()
        loss.mean().backward()
        opt.step()
    correct = 0
    with torch.no_grad():
        for xb, yb in test_iter:
            correct += int((net(xb).argmax(1) == yb).sum())
    return time.perf_counter() - t


# Runs `actviz compare` in a fresh interpreter that reports its own peak RSS at exit.  (The
# children's ru_maxrss seen from here would count this process's pages, copied at fork.)
_CHILD = """
import atexit, resource, sys
atexit.register(lambda: print("MAXRSS_KIB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr))
sys.argv = ["actviz", "compare", *sys.argv[1:]]
from actviz.cli.app import main
main()
"""

#: the whole-process measurement: 3 activations x 5 seeds x 10 epochs = 150 model-epochs
PROCESS_ARGS = ["relu", "tanh", "sigmoid", "--seeds", "5"]
PROCESS_MODEL_EPOCHS = 150


def compare_process(args: list[str], out: str, root: Path = ROOT) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stderr of ``python -m actviz compare ARGS --out OUT`` (actviz from ``root``)."""
    t = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.run([sys.executable, "-c", _CHILD, *args, "--out", out], cwd=root, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, env=env)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"actviz compare failed with exit code {proc.returncode}: {proc.stderr[-300:]}")
    kib = next(int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("MAXRSS_KIB"))
    return wall, kib / 1024, proc.stderr


def whole_process(extra: list[str], root: Path = ROOT) -> tuple[float, float, float]:
    """Wall seconds and peak RSS (MiB) of the whole compare, and the wall seconds of resuming it."""
    with tempfile.TemporaryDirectory() as tmp:
        wall, rss, _ = compare_process(PROCESS_ARGS + extra, tmp, root)
        resume, _, err = compare_process(PROCESS_ARGS + extra, tmp, root)
        if "training 0" not in err:
            raise SystemExit(f"resuming a finished store trained something: {err[-300:]}")
    return wall, rss, resume


def startup() -> float:
    """Wall seconds of importing what any compare needs (the CLI, torch, scipy.stats)."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import actviz.cli.app, torch, scipy.stats"], cwd=ROOT, check=True)
    return time.perf_counter() - t


def store_timings() -> None:
    """--seeds 3 then --seeds 5 into one store vs a fresh --seeds 5; the depth × slope sweep."""
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b, \
            tempfile.TemporaryDirectory() as c:
        fresh5, _, _ = compare_process(PROCESS_ARGS, a)
        three, _, _ = compare_process(["relu", "tanh", "sigmoid", "--seeds", "3"], b)
        then5, _, err = compare_process(PROCESS_ARGS, b)
        reused = next((line for line in err.splitlines() if line.startswith("reused")), "?")
        sweep_args = ["relu", "leaky_relu", "-p", "leaky_relu.negative_slope=0.01,0.3", "--depth", "1,2",
                      "--epochs", "2"]
        sweep, _, err = compare_process(sweep_args, c)
        planned = next((line for line in err.splitlines() if line.startswith("reused")), "?")
        import json

        res = json.loads((Path(c) / "results.json").read_text())
    print("\nthe results store")
    print(f"  fresh --seeds 5:                          {fresh5:7.2f} s")
    print(f"  --seeds 3, then --seeds 5 into its store: {three:7.2f} s + {then5:7.2f} s  ({reused})")
    print(f"  second / fresh --seeds 5:                 {then5 / fresh5:7.2f}   (about 2/5 expected: 6 of 15 runs)")
    print(f"  sweep `compare {' '.join(sweep_args)}`: {sweep:.2f} s ({planned}); "
          f"{len(res['summary'])} configurations x {len(res['summary'][0]['activations'])} variants x "
          f"{max(r['n'] for r in res['summary'][0]['activations'])} seeds")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3,
                    help="interleaved rounds of every measurement; the best of each is kept (default 3)")
    ap.add_argument("--epochs", type=int, default=3, help="epochs of each library call (default 3)")
    ap.add_argument("--skip-process", action="store_true", help="do not time the whole process")
    ap.add_argument("--store", action="store_true", help="also time the store's reuse and a sweep (one round)")
    ap.add_argument("--many", action="store_true", help="also time one stack of many models (and bf16)")
    ap.add_argument("--models", default="3,15,60,300", help="the model counts of --many (default 3,15,60,300)")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="where to train (default cpu)")
    ap.add_argument("--baseline", type=Path, default=None,
                    help="an earlier actviz checkout whose whole process is timed in the same rounds")
    args = ap.parse_args()
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise SystemExit("bench_train.py: --device cuda: no CUDA device is available")

    import torch

    import actviz
    from actviz.bench import data as data_mod
    from actviz.bench.train import TrainConfig, flops_per_epoch, train_runs

    data = data_mod.load()
    n = data.train_images.shape[0]
    flops = flops_per_epoch(n)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, cpu count {os.cpu_count()}, "
          f"device {args.device}" + (f" ({torch.cuda.get_device_name()})" if args.device == "cuda" else ""))
    extra = ["--device", args.device]
    print(f"FLOPs per model-epoch (784-256-10, {n} images, forward+backward matmuls): {flops / 1e9:.2f} GFLOP")
    print(f"{args.rounds} interleaved rounds (this VM's speed drifts; each figure is the best of its rounds)")

    shapes = {"fwd (256x784)@(784x256)": (256, 784, 256), "dW1 (784x256)@(256x256)": (784, 256, 256),
              "out (256x256)@(256x10)": (256, 256, 10)}
    x = data.train_images.reshape(n, -1).float().div_(255)
    y = data.train_labels
    acts = [actviz.get(a) for a in ("relu", "tanh", "sigmoid")]
    rates: dict[str, float] = {}
    plain_epoch = lib_me = proc_wall = resume_wall = start_wall = base_wall = float("inf")
    rss = 0.0
    finals = ""
    for r in range(args.rounds):
        for name, shape in shapes.items():
            rates[name] = max(rates.get(name, 0.0), sgemm(*shape, device=args.device))
        plain_epoch = min(plain_epoch, *plain_loop(x, y, epochs=2, device=args.device))
        t = time.perf_counter()
        res = train_runs(acts, data, TrainConfig(epochs=args.epochs, device=args.device), seeds=[0])
        lib_me = min(lib_me, (time.perf_counter() - t) / (len(acts) * args.epochs))
        finals = ", ".join(f"{run['label']} {run['history'][-1]['test_acc']:.4f}" for run in res.runs)
        if not args.skip_process:
            wall, peak_rss, resume = whole_process(extra)
            if args.baseline is not None:
                with tempfile.TemporaryDirectory() as tmp:
                    base_wall = min(base_wall, compare_process(PROCESS_ARGS + extra, tmp, args.baseline.resolve())[0])
            proc_wall = min(proc_wall, wall)
            resume_wall = min(resume_wall, resume)
            start_wall = min(start_wall, startup())
            rss = max(rss, peak_rss)
        print(f"  round {r + 1}: plain {plain_epoch:.3f}, library {lib_me:.3f}, process "
              f"{proc_wall / PROCESS_MODEL_EPOCHS:.3f} s/model-epoch (best so far)")
    del x

    for name, rate in rates.items():
        print(f"sgemm {name:28s} {rate:7.1f} GFLOP/s")
    peak = max(rates.values())
    print(f"sgemm peak at the layer's shapes: {peak:.1f} GFLOP/s")
    print(f"plain loop: best {plain_epoch:.3f} s/epoch = {flops / plain_epoch / 1e9:.1f} GFLOP/s "
          f"= {flops / plain_epoch / 1e9 / peak:.0%} of peak")
    d2l_epoch = d2l_loop(data)
    print(f"d2l-style loop (per-sample PIL + ToTensor, DataLoader with 4 workers, test accuracy): "
          f"{d2l_epoch:.3f} s/epoch")
    lib_rate = flops / lib_me / 1e9
    print(f"actviz library call ({args.epochs} epochs, evaluation and diagnostics included): {lib_me:.3f} "
          f"s/model-epoch = {lib_rate:.1f} GFLOP/s; test acc after {args.epochs} epochs {finals}")
    proc_me = None
    if not args.skip_process:
        proc_me = proc_wall / PROCESS_MODEL_EPOCHS
        print(f"whole process `python -m actviz compare {' '.join(PROCESS_ARGS)}` (10 epochs, "
              f"{PROCESS_MODEL_EPOCHS} model-epochs): {proc_wall:.2f} s = {proc_me:.3f} s/model-epoch; "
              f"max RSS {rss:.0f} MiB")
        print(f"resuming it (the same command again, every run reused): {resume_wall:.2f} s; "
              f"start-up (import actviz.cli.app, torch, scipy.stats): {start_wall:.2f} s")

    print("\nratios")
    print(f"  actviz throughput / sgemm peak:        {lib_rate / peak:6.2f}   (target >= 0.75)")
    print(f"  plain loop throughput / sgemm peak:    {flops / plain_epoch / 1e9 / peak:6.2f}")
    print(f"  library s/model-epoch / plain s/epoch: {lib_me / plain_epoch:6.2f}")
    if proc_me is not None:
        print(f"  process s/model-epoch / plain s/epoch: {proc_me / plain_epoch:6.2f}   (target <= 0.6)")
        print(f"  resume - start-up:                     {resume_wall - start_wall:6.2f} s (target < 1)")
        print(f"  d2l s/epoch / process s/model-epoch:   {d2l_epoch / proc_me:6.2f}   (target >= 6)")
        print(f"  max RSS of the process:                {rss:6.0f} MiB (target < 1024)")
        if args.baseline is not None:
            print(f"  process / the baseline's process:      {proc_wall / base_wall:6.2f}   "
                  f"(baseline {args.baseline}: {base_wall:.2f} s)")
    if args.many:
        many_models(data, [int(m) for m in args.models.split(",")], args.device, plain_epoch, args.rounds)
    if args.store:
        store_timings()
    busy = _others_busy()
    if busy is not None:
        print(f"\nnote: other processes used {busy:.0%} of the CPU time during a 1 s sample after the run")


def _others_busy() -> float | None:
    """Fraction of the machine's CPU busy while this process sleeps (noise in the timings)."""
    try:
        def read() -> list[int]:
            with open("/proc/stat") as f:
                return [int(v) for v in f.readline().split()[1:]]

        a = read()
        time.sleep(1.0)
        b = read()
        d = [j - i for i, j in zip(a, b)]
        total = sum(d)
        idle = d[3] + d[4]
        return (total - idle) / total if total else None
    except OSError:
        return None


if __name__ == "__main__":
    main()
