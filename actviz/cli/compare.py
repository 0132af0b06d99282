"""The ``actviz compare`` command: options, a Rich progress display, the summary table.

torch and matplotlib are imported inside the command only, so ``actviz --help``
stays fast.
"""

from __future__ import annotations

import enum
import sys
from typing import Any, List, Optional

import typer

from actviz.core.errors import UsageError


class Optimizer(str, enum.Enum):
    sgd = "sgd"
    adam = "adam"


class Device(str, enum.Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class Init(str, enum.Enum):
    normal = "normal"
    xavier = "xavier"
    xavier_normal = "xavier_normal"
    kaiming = "kaiming"
    kaiming_uniform = "kaiming_uniform"
    torch = "torch"


def _fmt(v: Any, spec: str = ".4f") -> str:
    return "—" if v is None else format(v, spec)


def summary_table(results: dict[str, Any]) -> Any:
    """A Rich table of ``results["summary"]``."""
    from rich import box
    from rich.table import Table

    rows = results["summary"]
    n_seeds = len(results["config"]["seeds"])
    target = results["config"]["target_accuracy"]
    title = "actviz compare — Fashion-MNIST" + (" (interrupted)" if results.get("interrupted") else "")
    # compact: one space between columns, so the table fits an 80-column terminal
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=0, pad_edge=False,
                  caption=f"test acc after the last epoch{' (mean ± std over seeds)' if n_seeds > 1 else ''}; "
                  f"loss: training loss; ep→{target:g}: epochs to test acc {target:g}; dead/sat: hidden units; "
                  "‖∇W‖: gradient norm of the first and last layer",
                  caption_justify="left")
    table.add_column("activation", no_wrap=True)
    table.add_column("test acc", justify="right", no_wrap=True)
    table.add_column("loss", justify="right")
    table.add_column(f"ep→{target:g}", justify="right")
    table.add_column("time s", justify="right")
    table.add_column("dead", justify="right")
    table.add_column("sat", justify="right")
    table.add_column("‖∇W‖ in→out", justify="right", no_wrap=True)
    table.add_column("status")
    for r in rows:
        acc = _fmt(r["test_acc_mean"])
        if n_seeds > 1 and r["test_acc_std"] is not None:
            acc += f"±{r['test_acc_std']:.4f}"
        reach = _fmt(r["epochs_to_target"], ".3g")
        if r["epochs_to_target"] is not None and r["reached_target"] < r["runs"]:
            reach += f" ({r['reached_target']}/{r['runs']})"
        g = r["grad_norm"]  # input layer first; all layers are in results.json and diagnostics.png
        grads = f"{g[0]:.2g}→{g[-1]:.2g}" if g else "—"
        status = []
        if r["completed"]:
            status.append(f"{r['completed']} ok")
        if r["diverged"]:
            status.append(f"[red]{r['diverged']} diverged[/red]")
        if r["interrupted"]:
            status.append(f"[yellow]{r['interrupted']} interrupted[/yellow]")
        label = r["label"]
        if r["learned"]:
            label += " (" + ", ".join(f"{k}→{', '.join(f'{x:.3g}' for x in v)}" for k, v in r["learned"].items()) + ")"
        table.add_row(label, acc, _fmt(r["train_loss_mean"]), reach, _fmt(r["time_mean"], ".1f"),
                      _fmt(r["dead"], ".1%"), _fmt(r["saturated"], ".1%"), grads, ", ".join(status))
    return table


def register(app: typer.Typer) -> None:
    @app.command("compare")
    def compare(
        names: List[str] = typer.Argument(..., help="Activations to compare (see 'actviz list').", show_default=False),
        epochs: int = typer.Option(10, "--epochs", "-e", help="Training epochs."),
        seeds: int = typer.Option(1, "--seeds", help="Seeds per activation (mean ± std over them)."),
        seed: int = typer.Option(0, "--seed", help="The first seed (seeds are SEED, SEED+1, ...)."),
        hidden: int = typer.Option(256, "--hidden", help="Units per hidden layer."),
        depth: int = typer.Option(1, "--depth", help="Hidden layers (vanishing gradients show from about 3)."),
        lr: float = typer.Option(0.1, "--lr", help="Learning rate."),
        batch_size: int = typer.Option(256, "--batch-size", "-b", help="Mini-batch size."),
        optimizer: Optimizer = typer.Option(Optimizer.sgd, "--optimizer", help="sgd or adam."),
        init: Init = typer.Option(Init.normal, "--init",
                                  help="Weights: normal = N(0, 0.01²) with zero biases (d2l), xavier (uniform), "
                                  "xavier_normal, kaiming (normal, fan-in), kaiming_uniform, torch (nn.Linear's)."),
        device: Device = typer.Option(Device.auto, "--device", help="auto, cpu or cuda."),
        param: Optional[List[str]] = typer.Option(None, "--param", "-p", metavar="NAME.KEY=VALUE",
                                                  help="An activation parameter, e.g. leaky_relu.negative_slope=0.1 "
                                                  "(repeatable)."),
        target: float = typer.Option(0.80, "--target", help="Test accuracy for the 'epochs to' column."),
        probe_size: int = typer.Option(1024, "--probe-size", help="Training images in the diagnostics probe batch."),
        threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads (default: PyTorch's)."),
        data_dir: Optional[str] = typer.Option(None, "--data-dir", help="Where Fashion-MNIST is (or goes)."),
        out: str = typer.Option("actviz-results", "--out", "-o", help="Output directory."),
        plots: bool = typer.Option(True, "--plots/--no-plots", help="Write curves.png and diagnostics.png."),
    ) -> None:
        """Train the d2l MLP on Fashion-MNIST once per activation and seed, and compare.

        Defaults are d2l's "Multilayer Perceptrons": inputs in [0, 1], 784-256-10,
        weights N(0, 0.01²), zero biases, SGD lr 0.1, batch 256, 10 epochs.  Writes
        results.json, curves.png and diagnostics.png to --out.
        """
        from actviz.core.registry import bind_all

        if seeds < 1:
            raise UsageError(f"--seeds must be >= 1, got {seeds}")
        acts = bind_all(names, param or [], role="being compared")
        from actviz.facts.audit import check_contract  # issue 11 item 13: a broken plugin named in one line

        for act in acts:
            check_contract(act)

        from actviz.bench.train import TrainConfig

        config = TrainConfig(
            epochs=epochs, hidden=hidden, depth=depth, lr=lr, batch_size=batch_size,
            optimizer=optimizer.value, init=init.value, device=device.value,
            probe_size=probe_size, threads=threads,
        ).validate()

        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        from actviz.bench import compare as cmp

        err = Console(stderr=True)
        progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
            console=err, transient=False,
        )
        task = {"id": None}

        def on_event(event: dict[str, Any]) -> None:
            kind = event["event"]
            if kind == "start":  # the display starts with training, so an early error stays one line
                progress.start()
                task["id"] = progress.add_task("training", total=event["total_steps"], info="")
            elif kind == "steps":
                progress.advance(task["id"], event["n"])
            elif kind == "epoch":
                rec = event["record"]
                progress.update(task["id"], info=f"{event['activation']} seed {event['seed']} epoch {event['epoch']}: "
                                f"test acc {rec['test_acc']:.3f}")
            elif kind == "diverged":
                progress.console.print(f"[red]{event['activation']} (seed {event['seed']}) diverged in epoch "
                                       f"{event['epoch']}[/red]; the others go on")

        try:
            results = cmp.run_compare(
                acts, config, seeds=list(range(seed, seed + seeds)), data_dir=data_dir, out=out,
                target=target, plots=plots, callback=on_event,
            )
        finally:
            if task["id"] is not None:
                progress.stop()
        console = Console()
        console.print(summary_table(results))
        files = results.get("files", {})
        if files:
            console.print("wrote " + ", ".join(files.values()))
        if results["interrupted"]:
            typer.echo("interrupted: results.json holds the epochs completed", err=True)
            raise typer.Exit(130)


__all__ = ["register", "summary_table"]
