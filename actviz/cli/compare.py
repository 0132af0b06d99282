"""The ``actviz compare`` command: options (comma lists make a grid), progress, the summary.

The values are judged once, by the library (:mod:`actviz.bench.config`): its complaint
names a :class:`TrainConfig` field (``batch_size must be >= 1, got 0``) and is reported
here under the option that set it (``--batch-size must be >= 1, got 0``).  This module
only parses the text (whole numbers, numbers, comma lists) and keeps the command's own
limits: at least one hidden layer, the initialisations of :data:`COMPARE_INITS`.

torch, matplotlib and scipy are imported inside the command only, so ``actviz --help``
stays fast.
"""

from __future__ import annotations

import itertools
import sys
from typing import Annotated, Any, List, Optional

import typer

from actviz.bench.config import (DATA, DEVICES, INITS, MAX_SEED, MODELS, NORMS, OPTIMIZERS, PRECISIONS, TOY_DATA,
                                 ConfigError, TrainConfig, check_field)
from actviz.cli.options import DefineOpt, param_option
from actviz.core.errors import UsageError

#: the initialisations ``compare`` offers: all but ``constant`` (every hidden unit the same for ever;
#: the symmetry lesson shows it)
COMPARE_INITS = tuple(i for i in INITS if i != "constant")


def flag(field: str) -> str:
    """The option that sets a :class:`TrainConfig` field: ``batch_size`` → ``--batch-size``."""
    return "--" + field.replace("_", "-")


def _as_option(exc: ConfigError, given: str | None = None) -> UsageError:
    """The library's complaint about a field, said of the option that set it (and of the text ``given``)."""
    problem = exc.problem
    if given is not None and problem.endswith(f"got {exc.value}"):
        problem = problem[: len(problem) - len(str(exc.value))] + given
    return UsageError(f"{flag(exc.field)} {problem}")


def _checked(field: str, value: Any, choices: tuple[str, ...] | None = None, given: str | None = None) -> Any:
    try:
        return check_field(field, value, choices=choices)
    except ConfigError as exc:
        raise _as_option(exc, given) from None


def _items(option: str, text: str) -> list[str]:
    items = [t.strip() for t in str(text).split(",")]
    if not items or any(not t for t in items):
        raise UsageError(f"{option} takes a value or a comma-separated list, got {text!r}")
    return list(dict.fromkeys(items))


def _int_list(field: str, text: str) -> list[int]:
    option = flag(field)
    out = []
    for t in _items(option, text):
        try:
            v = int(t)
        except ValueError:
            raise UsageError(f"{option} takes whole numbers, got {t!r}") from None
        if field == "depth" and v < 1:  # 0 (softmax regression) is the library's, not a comparison of activations
            raise UsageError(f"{option} must be >= 1, got {v}")
        out.append(_checked(field, v))
    return out


def _float_list(field: str, text: str) -> list[float]:
    option = flag(field)
    out = []
    for t in _items(option, text):
        try:
            v = float(t)
        except ValueError:
            raise UsageError(f"{option} takes numbers, got {t!r}") from None
        out.append(_checked(field, v, given=t))
    return out


def _choice(field: str, text: str, choices: tuple[str, ...]) -> str:
    """A choice, case-insensitively; an error names the value as given."""
    try:
        return check_field(field, text.lower(), choices=choices)
    except ConfigError:
        _checked(field, text, choices)
        raise


def _choice_list(field: str, text: str, choices: tuple[str, ...]) -> list[str]:
    return [_choice(field, t, choices) for t in _items(flag(field), text)]


def variants(names: List[str], params: List[str]) -> list[Any]:
    """The activation variants: each name once, a comma list of parameter values making a grid.

    ``leaky_relu.negative_slope=0.01,0.3`` gives two variants of leaky_relu; several keys of
    one activation multiply.  A parameter that is itself a list of numbers (maxout's
    ``weights``) keeps its commas; separate its alternatives with ``;``.
    """
    from actviz.core.registry import bind, bind_all, get_spec, parse_assignments

    chosen = [a.name for a in bind_all(names, [], role="being compared")]
    lists: dict[str, dict[str, list[str]]] = {}
    for item in params:
        parsed = parse_assignments([item], qualified=True)  # the checks and messages of every command
        (owner, texts), = parsed.items()
        if owner not in chosen:
            raise UsageError(f"--param {item}: {owner} is not being compared ({', '.join(chosen)})")
        (key, text), = texts.items()
        spec = get_spec(owner)
        sep = ";" if spec.param(key).kind == "floats" else ","
        values = [v.strip() for v in text.split(sep)]
        if any(not v for v in values):
            raise UsageError(f"malformed --param {item!r}: an empty value in the list")
        lists.setdefault(owner, {})[key] = list(dict.fromkeys(values))
    out: list[Any] = []
    for name in chosen:
        keys = lists.get(name, {})
        for combo in itertools.product(*keys.values()):
            act = bind(name, dict(zip(keys, combo)))
            if all(a.label != act.label for a in out):
                out.append(act)
    return out


def compare_cmd(
    ctx: typer.Context,
    names: Annotated[List[str], typer.Argument(help="Activations to compare (see 'actviz list').",
                                               show_default=False)],
    epochs: Annotated[int, typer.Option("--epochs", "-e", help="Training epochs.")] = 10,
    seeds: Annotated[int, typer.Option(
        "--seeds", help="Seeds per activation and configuration (paired by seed).")] = 3,
    seed: Annotated[int, typer.Option("--seed", help="The first seed (seeds are SEED, SEED+1, ...).")] = 0,
    hidden: Annotated[str, typer.Option("--hidden", metavar="N[,N...]", help="Units per hidden layer.")] = "256",
    depth: Annotated[str, typer.Option("--depth", metavar="N[,N...]",
                                       help="Hidden layers (vanishing gradients show from about 3).")] = "1",
    lr: Annotated[str, typer.Option("--lr", metavar="F[,F...]", help="Learning rate.")] = "0.1",
    batch_size: Annotated[str, typer.Option("--batch-size", "-b", metavar="N[,N...]",
                                            help="Mini-batch size.")] = "256",
    optimizer: Annotated[str, typer.Option("--optimizer", metavar="sgd|adam[,...]", help="sgd or adam.")] = "sgd",
    init: Annotated[str, typer.Option(
        "--init", metavar="NAME[,NAME...]",
        help="Weights: normal = N(0, 0.01²) with zero biases (d2l), xavier (uniform), "
        "xavier_normal, kaiming (normal, fan-in), kaiming_uniform, torch (nn.Linear's).")] = "normal",
    device: Annotated[str, typer.Option("--device", help="auto, cpu or cuda.")] = "auto",
    precision: Annotated[str, typer.Option(
        "--precision", metavar="fp32|tf32|bf16[,...]",
        help="Matrix products: fp32 (exact), tf32 (CUDA's TensorFloat-32; no effect on a CPU) or bf16 "
        "(bfloat16 operands, float32 sums and weights).")] = "fp32",
    model: Annotated[str, typer.Option(
        "--model", metavar="mlp|lenet|cnn[,...]",
        help="The network: mlp (d2l's MLP), lenet (d2l's LeNet-5; d2l trains it with --lr 0.9 --init xavier), "
        "cnn (3 conv blocks with batch norm).")] = "mlp",
    norm: Annotated[str, typer.Option(
        "--norm", metavar="none|batch|layer[,...]",
        help="Normalise each hidden layer of the mlp before its activation.")] = "none",
    residual: Annotated[bool, typer.Option(
        "--residual", help="Skip connections between the mlp's equal-width hidden layers (2..depth).")] = False,
    learn: Annotated[Optional[str], typer.Option(
        "--learn", metavar="NAME.KEY[:layer|:unit][,...]",
        help="Train these activation parameters too (e.g. swish.beta:unit,elu.alpha): one value per hidden "
        "layer (:layer, the default) or per hidden unit (:unit). PReLU's slope and rational's coefficients "
        "learn per layer without being named.")] = None,
    learn_lr: Annotated[Optional[float], typer.Option(
        "--learn-lr", metavar="F",
        help="The learning rate of the learned activation parameters (default: the weights' --lr).")] = None,
    param: Annotated[Optional[List[str]], param_option(
        "An activation parameter, e.g. leaky_relu.negative_slope=0.1; "
        "a comma list gives one variant per value (repeatable).", metavar="NAME.KEY=V[,V...]")] = None,
    target: Annotated[float, typer.Option("--target", help="Test accuracy for the 'epochs to' column.")] = 0.80,
    probe_size: Annotated[int, typer.Option(
        "--probe-size", help="Training images in the diagnostics probe batch.")] = 1024,
    threads: Annotated[Optional[int], typer.Option("--threads", help="CPU threads (default: PyTorch's).")] = None,
    data_dir: Annotated[Optional[str], typer.Option("--data-dir", help="Where the data set is (or goes).")] = None,
    data: Annotated[str, typer.Option(
        "--data", metavar="NAME",
        help="Data set: fashion-mnist (offline via Debian), mnist, kmnist, cifar10 (downloaded on first use; "
        "see 'actviz data status --data NAME'), or a 2-D toy set (spirals, moons, circles, xor, blobs), which "
        "brings its own training defaults for the options not given and draws decision boundaries.")] = "fashion-mnist",
    noise: Annotated[Optional[float], typer.Option(
        "--noise", help="2-D toy sets: the standard deviation of the points' jitter (default: the set's).")] = None,
    samples: Annotated[Optional[int], typer.Option(
        "--samples", help="2-D toy sets: training points (as many test points; default: the set's).")] = None,
    out: Annotated[str, typer.Option(
        "--out", "-o", help="The results store: finished runs found there are reused.")] = "actviz-results",
    fresh: Annotated[bool, typer.Option("--fresh", help="Retrain every run asked for, ignoring stored ones "
                                        "(they stay until the new ones finish).")] = False,
    plots: Annotated[bool, typer.Option(
        "--plots/--no-plots", help="Draw curves.png and diagnostics.png (--no-plots removes stale ones).")] = True,
    no_wait: Annotated[bool, typer.Option(
        "--no-wait", help="If another compare is writing to --out, fail at once instead of waiting for it.")] = False,
    yes: Annotated[bool, typer.Option(
        "--yes", "-y", help="Start a grid estimated to train for more than an hour without asking "
        "(asked only when standard input is a terminal).")] = False,
    executor: Annotated[str, typer.Option(
        "--executor", metavar="local|ray", help="Where the runs train: local (this process) or ray (as Ray tasks, "
        "one per seed and data set; needs pip install 'actviz[ray]').")] = "local",
    ray_address: Annotated[Optional[str], typer.Option(
        "--ray-address", metavar="ADDRESS", help="With --executor ray: the cluster (HEAD:6379); default auto: "
        "the running cluster, else a local Ray started and stopped here.")] = None,
    define: DefineOpt = None,  # noqa: ARG001 - registered by its callback
) -> None:
    """Train the d2l MLP on Fashion-MNIST (or --data NAME) per activation, configuration and seed; compare.

    Defaults are d2l's "Multilayer Perceptrons": inputs in [0, 1], 784-256-10,
    weights N(0, 0.01²), zero biases, SGD lr 0.1, batch 256, 10 epochs, 3 seeds.
    Comma lists (--depth 1,3 --lr 0.1,0.05, -p leaky_relu.negative_slope=0.01,0.3)
    make a grid.  --out is a store: runs already there are reused.  Prints mean, 95%
    CI and a verdict against the best per configuration; writes results.json,
    curves.png and diagnostics.png.  --data spirals (moons, circles, xor, blobs)
    trains on a 2-D toy set with a small net (its defaults: 2-32-32-2, Xavier, SGD lr
    0.5, batch 25, 40 epochs, one thread, for every option not given) and also draws each run's
    decision boundary into boundaries.png.
    """
    _check_seeds(seeds, seed)
    data = _choice("data", data, DATA)
    given = _data_defaults(ctx, data, dict(epochs=epochs, hidden=hidden, depth=depth, lr=lr, batch_size=batch_size,
                                           optimizer=optimizer, init=init, probe_size=probe_size, noise=noise,
                                           samples=samples, threads=threads))
    epochs, hidden, depth, lr, batch_size = (given[k] for k in ("epochs", "hidden", "depth", "lr", "batch_size"))
    optimizer, init, probe_size, noise, samples, threads = (
        given[k] for k in ("optimizer", "init", "probe_size", "noise", "samples", "threads"))
    runner = _executor(executor, ray_address)
    _checked("epochs", epochs)
    device = _choice("device", device, DEVICES)
    _checked("probe_size", probe_size)
    if not out.strip():
        raise UsageError("--out is empty: name the folder for the results (default actviz-results)")
    acts = variants(names, param or [])
    from actviz.facts.audit import check_contract  # a broken plugin is named in one line

    for act in acts:
        check_contract(act)
    learn_text = _learn_setting(learn, learn_lr, acts)
    grid = itertools.product(_int_list("hidden", hidden), _int_list("depth", depth), _float_list("lr", lr),
                             _int_list("batch_size", batch_size), _choice_list("optimizer", optimizer, OPTIMIZERS),
                             _choice_list("init", init, COMPARE_INITS),
                             _choice_list("precision", precision, PRECISIONS), _choice_list("model", model, MODELS),
                             _choice_list("norm", norm, NORMS))
    try:
        configs = [TrainConfig(epochs=epochs, hidden=h, depth=d, lr=r, batch_size=b, optimizer=o, init=i,
                               device=device, probe_size=probe_size, threads=threads, precision=p,
                               data=data, noise=noise, samples=samples, model=mo, norm=no,
                               residual=residual, learn=learn_text, learn_lr=learn_lr).validate()
                   for h, d, r, b, o, i, p, mo, no in grid]
    except ConfigError as exc:
        raise _as_option(exc) from None
    _run(acts, configs, seeds=list(range(seed, seed + seeds)), data_dir=data_dir, out=out, target=target,
         plots=plots, fresh=fresh, wait=not no_wait, yes=yes, executor=runner)


def _executor(name: str, address: str | None) -> Any:
    """The executor of ``--executor`` (None: local); Ray absent is one line naming the extra."""
    from actviz.bench.units import EXECUTORS

    name = name.strip().lower()
    if name not in EXECUTORS:
        raise UsageError(f"--executor must be one of {', '.join(EXECUTORS)}, got {name!r}")
    if name == "local":
        if address is not None:
            raise UsageError("--ray-address is for --executor ray")
        return None
    if address is not None and not address.strip():
        raise UsageError("--ray-address is empty: name the cluster (HEAD:6379), or leave it out for auto")
    from actviz.bench.ray_executor import RayExecutor

    return RayExecutor((address or "auto").strip())


def _data_defaults(ctx: typer.Context, data: str, values: dict[str, Any]) -> dict[str, Any]:
    """The option values: for a 2-D toy set, its training defaults stand for the options the user did not give."""
    if data not in TOY_DATA:
        return values
    from actviz.bench.data.toy import TOY

    out = dict(values)
    for k, v in TOY[data].training_defaults().items():
        source = ctx.get_parameter_source(k)  # an enum of typer's own click: compared by name
        if k in out and (source is None or source.name == "DEFAULT"):
            out[k] = str(v) if isinstance(out[k], str) else v
    return out


def _learn_setting(learn: str | None, learn_lr: float | None, acts: list[Any]) -> str:
    """The canonical ``--learn`` text, every entry checked against the activations compared."""
    from actviz.bench.learn import canonical, check_against, parse

    _checked("learn_lr", learn_lr)
    if learn is None:
        return ""
    entries = parse(learn)
    if not entries:
        raise UsageError("--learn takes NAME.KEY[:layer|:unit] entries, e.g. swish.beta:unit; got nothing")
    return canonical(check_against(entries, acts))


def _check_seeds(seeds: int, seed: int) -> None:
    """--seeds between 1 and the benchmark's maximum, and every seed in signed 64 bits."""
    from actviz.bench.compare import MAX_SEEDS

    if seeds < 1:
        raise UsageError(f"--seeds must be >= 1, got {seeds}")
    if seeds > MAX_SEEDS:
        raise UsageError(f"--seeds must be at most {MAX_SEEDS}, got {seeds}")
    if not 0 <= seed <= MAX_SEED - seeds + 1:
        raise UsageError(f"--seed must be between 0 and {MAX_SEED - seeds + 1} (the last seed must fit in "
                         f"64 bits), got {seed}")


#: above this estimated training time (seconds), `compare` run from a terminal asks for --yes
ASK_ABOVE_S = 3600.0


def _estimate_seconds(configs: list[Any], runs: int) -> float:
    """Roughly how long ``runs`` runs of ``configs`` train here: their matmul FLOPs over a measured speed.

    The speed is that of a 256×784×256 matmul in float32 on the configurations' device,
    measured for about 50 ms; training reaches about a third of it (elementwise work,
    evaluation, diagnostics).  Runs are spread evenly over the configurations.
    """
    import time

    import torch

    from actviz.bench.train import flops_per_epoch, resolve_device

    device = resolve_device(configs[0].device)
    a, b = torch.full((256, 784), 0.5, device=device), torch.full((784, 256), 0.5, device=device)  # no RNG drawn
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    a @ b
    sync()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 0.05:
        a @ b
        n += 1
    sync()
    speed = n * 2 * 256 * 784 * 256 / (time.perf_counter() - t0) / 3
    from math import prod

    from actviz.bench.data.registry import dataset

    per_run = sum(c.epochs * (flops_per_epoch(4 * (c.samples or 500), c.hidden, c.depth, inputs=2) if c.data in TOY_DATA
                              else flops_per_epoch(63_000, c.hidden, c.depth, inputs=prod(dataset(c.data).image_shape)))
                  for c in configs) / len(configs)
    return runs * per_run / speed


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False


#: the progress bar's cells: it keeps them whatever the labels (the information column is cut instead)
BAR_CELLS = 20


def _progress(err: Any, configs: list[Any]) -> tuple[Any, Any]:
    """The progress display (bar, percentage, elapsed, eta, where training is) and the text of "where".

    The bar keeps :data:`BAR_CELLS` cells and the times their width at any terminal
    width from 80 up: only the last column, where training is, is cut (with …).  A seed's
    activations train together, so "where" names the seed, the epoch and, in a sweep,
    the configuration (by the settings that differ), not an activation.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from rich.table import Column

    from actviz.results.labels import config_label, training_config, varying

    fixed = BAR_CELLS + len(" 100% 0:00:00 eta 0:00:00 ")
    room = max(12, err.width - fixed - 1)
    progress = Progress(
        BarColumn(bar_width=BAR_CELLS),
        TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
        TextColumn("{task.fields[info]}", table_column=Column(no_wrap=True, overflow="ellipsis", max_width=room)),
        console=err, transient=False,
    )
    labels = [config_label(training_config(c)) for c in configs]
    names, _ = varying([training_config(c) for c in configs])
    epochs = {label: c.epochs for label, c in zip(labels, configs)}

    def where(event: dict[str, Any]) -> str:
        label = event.get("config_label", "")
        text = f"seed {event['seed']} epoch {event['epoch']}/{epochs.get(label, '?')}"
        if len(configs) > 1 and label in labels:
            i = labels.index(label)
            text += f" · {i + 1}/{len(configs)} {names[i]}"
        return _cut(text, room)

    return progress, where


def _cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters (at least 1), its end replaced by … when cut."""
    width = max(1, width)
    return text if len(text) <= width else text[: width - 1] + "…"


def _bf16_note(configs: list[Any]) -> str | None:
    """A note when ``--precision bf16`` trains on a CPU without bfloat16 matrix units (emulated: slower than fp32)."""
    devices = {c.device for c in configs if c.precision == "bf16"}
    if not devices:
        return None
    import torch

    from actviz.bench.engine.precision import BF16_UNITS, cpu_bf16_units

    on_cpu = "cpu" in devices or ("auto" in devices and not torch.cuda.is_available())
    if not on_cpu or cpu_bf16_units() != []:  # None: the flags cannot be read, say nothing
        return None
    return (f"note: this CPU has no bfloat16 matrix units ({', '.join(BF16_UNITS)}): --precision bf16 is "
            "emulated here, slower than fp32")


def _run(acts: list[Any], configs: list[Any], wait: bool = True, *, yes: bool = False, **kw: Any) -> None:
    import contextlib

    from rich.console import Console
    from rich.markup import escape

    from actviz.bench import compare as cmp
    from actviz.bench.summary import sweep
    from actviz.core import signals
    from actviz.render.summary import rich_blocks

    err = Console(stderr=True)
    progress, where = _progress(err, configs)
    task: dict[str, Any] = {"id": None}
    multi = len(configs) > 1

    def on_event(event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "plan":
            n_runs, reused = event["training"], event["reused"]
            estimate = _estimate_seconds(configs, n_runs) if n_runs else 0.0
            if estimate > ASK_ABOVE_S and not yes and _stdin_is_terminal():
                raise UsageError(f"this grid trains {n_runs} runs, about {_duration(estimate)} here (estimated); "
                                 "add --yes to start it, or make the grid smaller")
            err.print(f"reused {reused} run{'s' if reused != 1 else ''}, training {n_runs}"
                      + (f" ({event['configurations']} configurations)" if multi else "")
                      + (f", about {_duration(estimate)} (estimated)" if n_runs else ""))
            note = _bf16_note(configs) if n_runs else None
            if note:
                err.print(note, markup=False, highlight=False)
            if n_runs:  # the display starts with training, so an early error stays one line
                progress.start()
                task["id"] = progress.add_task("", total=event["total_steps"] or None, info="")
        elif kind == "start" and task["id"] is not None:  # the engine's own count (runs of a seed may train apart)
            progress.update(task["id"], total=event["total_steps"] or None)
        elif kind == "steps" and task["id"] is not None:
            progress.advance(task["id"], event["n"])
        elif kind == "epoch" and task["id"] is not None:
            progress.update(task["id"], info=where(event))
        elif kind == "diverged":
            progress.console.print(f"[red]{event['activation']} (seed {event['seed']}) diverged in epoch "
                                   f"{event['epoch']}[/red]; the others go on")
        elif kind == "failed":
            progress.console.print(f"[red]{', '.join(event['labels'])} (seed {', '.join(map(str, event['seeds']))}) "
                                   f"failed: {escape(event['error'])}[/red]; the others go on")

    from actviz.results.store import locked

    with signals.interruptible(), contextlib.ExitStack() as store_lock:  # one writer per store, to the last picture
        try:
            store_lock.enter_context(locked(kw["out"], wait=wait, on_wait=lambda line: typer.echo(line, err=True)))
            results = cmp.run_compare(acts, configs=configs, callback=on_event, **kw)
        except signals.Interrupted as exc:  # before training started (loading the data): nothing to keep
            typer.echo("interrupted before training: nothing was written", err=True)
            raise typer.Exit(signals.exit_code(exc.signum)) from None
        finally:
            if task["id"] is not None:
                progress.stop()
        inv = results["invocation"]
        if kw.get("plots", True) and "results" in inv["files"]:
            from actviz.render.training import redraw

            with signals.shielded(raise_after=False):  # the pictures of what was written, then a signal
                drawn, errors = redraw(results, inv["out"])
            inv["files"].update({k: str(v) for k, v in drawn.items()})
            inv["errors"].extend(errors)
        late = signals.received()
    console = Console()
    from actviz.bench.data import title as data_title

    title = f"actviz compare — {data_title(configs[0].data)}"
    for block in rich_blocks(inv["summary"], title=title, width=console.width, sweep=sweep(inv["summary"])):
        console.print(block)
    files = inv["files"]
    written = [v for k, v in files.items() if not k.startswith("removed")]
    removed = [v for k, v in files.items() if k.startswith("removed")]
    if written:
        console.print("wrote " + ", ".join(written))
    if removed:
        console.print("removed the stale pictures " + ", ".join(removed) + " (--no-plots; 'actviz results "
                      f"{inv['out']} --plots' redraws them)")
    if not inv["trained"] and not inv["interrupted"]:
        err.print(f"nothing to train: every run was in {inv['out']} (--fresh retrains)")
    for e in inv["errors"]:
        typer.echo(f"error: {e}", err=True)
    if inv["interrupted"] or late is not None:
        typer.echo("interrupted: finished epochs are kept in results.json; runs in progress are marked "
                   "interrupted and left out of the statistics", err=True)
        raise typer.Exit(signals.exit_code(late))
    if inv["errors"]:
        raise typer.Exit(1)


__all__ = ["compare_cmd", "variants"]
