"""The ``actviz compare`` command: options (comma lists make a grid), progress, the summary.

torch, matplotlib and scipy are imported inside the command only, so ``actviz --help``
stays fast.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Callable, List, Optional

import typer

from actviz.core.errors import UsageError

INITS = ("normal", "xavier", "xavier_normal", "kaiming", "kaiming_uniform", "torch")
OPTIMIZERS = ("sgd", "adam")
DEVICES = ("auto", "cpu", "cuda")
#: torch.manual_seed takes seeds up to 2**64 - 1; keep them signed-64-bit
MAX_SEED = 2**63 - 1


def _items(option: str, text: str) -> list[str]:
    items = [t.strip() for t in str(text).split(",")]
    if not items or any(not t for t in items):
        raise UsageError(f"{option} takes a value or a comma-separated list, got {text!r}")
    return list(dict.fromkeys(items))


def _int_list(option: str, text: str, minimum: int = 1) -> list[int]:
    out = []
    for t in _items(option, text):
        try:
            v = int(t)
        except ValueError:
            raise UsageError(f"{option} takes whole numbers, got {t!r}") from None
        if v < minimum:
            raise UsageError(f"{option} must be >= {minimum}, got {v}")
        out.append(v)
    return out


def _float_list(option: str, text: str) -> list[float]:
    out = []
    for t in _items(option, text):
        try:
            v = float(t)
        except ValueError:
            raise UsageError(f"{option} takes numbers, got {t!r}") from None
        if not (math.isfinite(v) and v > 0):
            raise UsageError(f"{option} must be a positive number, got {t}")
        out.append(v)
    return out


def _choice_list(option: str, text: str, choices: tuple[str, ...]) -> list[str]:
    out = []
    for t in _items(option, text):
        if t.lower() not in choices:
            raise UsageError(f"{option} must be one of {', '.join(choices)}, got {t!r}")
        out.append(t.lower())
    return out


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


def register(app: typer.Typer) -> None:
    @app.command("compare")
    def compare(
        names: List[str] = typer.Argument(..., help="Activations to compare (see 'actviz list').", show_default=False),
        epochs: int = typer.Option(10, "--epochs", "-e", help="Training epochs."),
        seeds: int = typer.Option(3, "--seeds", help="Seeds per activation and configuration (paired by seed)."),
        seed: int = typer.Option(0, "--seed", help="The first seed (seeds are SEED, SEED+1, ...)."),
        hidden: str = typer.Option("256", "--hidden", metavar="N[,N...]", help="Units per hidden layer."),
        depth: str = typer.Option("1", "--depth", metavar="N[,N...]",
                                  help="Hidden layers (vanishing gradients show from about 3)."),
        lr: str = typer.Option("0.1", "--lr", metavar="F[,F...]", help="Learning rate."),
        batch_size: str = typer.Option("256", "--batch-size", "-b", metavar="N[,N...]", help="Mini-batch size."),
        optimizer: str = typer.Option("sgd", "--optimizer", metavar="sgd|adam[,...]", help="sgd or adam."),
        init: str = typer.Option("normal", "--init", metavar="NAME[,NAME...]",
                                 help="Weights: normal = N(0, 0.01²) with zero biases (d2l), xavier (uniform), "
                                 "xavier_normal, kaiming (normal, fan-in), kaiming_uniform, torch (nn.Linear's)."),
        device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
        param: Optional[List[str]] = typer.Option(None, "--param", "-p", metavar="NAME.KEY=V[,V...]",
                                                  help="An activation parameter, e.g. leaky_relu.negative_slope=0.1; "
                                                  "a comma list gives one variant per value (repeatable)."),
        target: float = typer.Option(0.80, "--target", help="Test accuracy for the 'epochs to' column."),
        probe_size: int = typer.Option(1024, "--probe-size", help="Training images in the diagnostics probe batch."),
        threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads (default: PyTorch's)."),
        data_dir: Optional[str] = typer.Option(None, "--data-dir", help="Where Fashion-MNIST is (or goes)."),
        out: str = typer.Option("actviz-results", "--out", "-o",
                                help="The results store: finished runs found there are reused."),
        fresh: bool = typer.Option(False, "--fresh", help="Retrain every run asked for, ignoring stored ones "
                                   "(they stay until the new ones finish)."),
        plots: bool = typer.Option(True, "--plots/--no-plots",
                                   help="Draw curves.png and diagnostics.png (--no-plots removes stale ones)."),
    ) -> None:
        """Train the d2l MLP on Fashion-MNIST per activation, configuration and seed; compare with statistics.

        Defaults are d2l's "Multilayer Perceptrons": inputs in [0, 1], 784-256-10,
        weights N(0, 0.01²), zero biases, SGD lr 0.1, batch 256, 10 epochs, 3 seeds.
        Comma lists (--depth 1,3 --lr 0.1,0.05, -p leaky_relu.negative_slope=0.01,0.3)
        make a grid.  --out is a store: runs already there are reused.  Prints mean, 95%
        CI and a verdict against the best per configuration; writes results.json,
        curves.png and diagnostics.png.
        """
        from actviz.bench.compare import MAX_SEEDS

        if seeds < 1:
            raise UsageError(f"--seeds must be >= 1, got {seeds}")
        if seeds > MAX_SEEDS:
            raise UsageError(f"--seeds must be at most {MAX_SEEDS}, got {seeds}")
        if not 0 <= seed <= MAX_SEED - seeds + 1:
            raise UsageError(f"--seed must be between 0 and {MAX_SEED - seeds + 1} (the last seed must fit in "
                             f"64 bits), got {seed}")
        if epochs < 1:
            raise UsageError(f"--epochs must be >= 1, got {epochs}")
        if device.lower() not in DEVICES:
            raise UsageError(f"--device must be auto, cpu or cuda, got {device!r}")
        if probe_size < 1:
            raise UsageError(f"--probe-size must be >= 1, got {probe_size}")
        if not out.strip():
            raise UsageError("--out is empty: name the folder for the results (default actviz-results)")
        acts = variants(names, param or [])
        from actviz.facts.audit import check_contract  # a broken plugin is named in one line

        for act in acts:
            check_contract(act)

        from actviz.bench.train import TrainConfig

        grid = itertools.product(_int_list("--hidden", hidden), _int_list("--depth", depth), _float_list("--lr", lr),
                                 _int_list("--batch-size", batch_size), _choice_list("--optimizer", optimizer, OPTIMIZERS),
                                 _choice_list("--init", init, INITS))
        configs = [TrainConfig(epochs=epochs, hidden=h, depth=d, lr=r, batch_size=b, optimizer=o, init=i,
                               device=device.lower(), probe_size=probe_size, threads=threads).validate()
                   for h, d, r, b, o, i in grid]
        _run(acts, configs, seeds=list(range(seed, seed + seeds)), data_dir=data_dir, out=out, target=target,
             plots=plots, fresh=fresh)


def _run(acts: list[Any], configs: list[Any], **kw: Any) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from actviz.bench import compare as cmp
    from actviz.bench import signals
    from actviz.render.summary import rich_blocks

    err = Console(stderr=True)
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
        console=err, transient=False,
    )
    task: dict[str, Any] = {"id": None}
    multi = len(configs) > 1

    def on_event(event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "plan":
            n_runs, reused = event["training"], event["reused"]
            err.print(f"reused {reused} run{'s' if reused != 1 else ''}, training {n_runs}"
                      + (f" ({event['configurations']} configurations)" if multi else ""))
            if n_runs:  # the display starts with training, so an early error stays one line
                progress.start()
                task["id"] = progress.add_task("training", total=event["total_steps"] or None, info="")
        elif kind == "steps" and task["id"] is not None:
            progress.advance(task["id"], event["n"])
        elif kind == "epoch" and task["id"] is not None:
            rec = event["record"]
            where = f"[{event['config_label']}] " if multi else ""
            progress.update(task["id"], info=f"{where}{event['activation']} seed {event['seed']} epoch "
                            f"{event['epoch']}: test acc {rec['test_acc']:.3f}")
        elif kind == "diverged":
            progress.console.print(f"[red]{event['activation']} (seed {event['seed']}) diverged in epoch "
                                   f"{event['epoch']}[/red]; the others go on")

    with signals.interruptible():
        try:
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
    for block in rich_blocks(inv["summary"]):
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


__all__ = ["register", "variants"]
