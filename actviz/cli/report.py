"""``actviz report``: the interactive HTML page of the registry (and of ``compare`` stores).

Importing this module is cheap: torch and plotly are imported inside the command,
after the arguments have been checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from actviz.cli.options import DefineOpt


def report_cmd(
    names: Optional[List[str]] = typer.Argument(None, metavar="NAME",
                                                help="Activations to include (default: all)."),
    param: List[str] = typer.Option(
        [], "--param", "-p", metavar="NAME.KEY=VALUE",
        help="The value a parameter starts at in the page, e.g. elu.alpha=2 (repeatable); "
        "the page's slider also offers a grid of other values.",
    ),
    results: List[Path] = typer.Option(
        [], "--results", "-r", metavar="DIR",
        help="A results store of 'actviz compare --out DIR': adds its statistics, training curves "
        "and diagnostics (repeatable).",
    ),
    # kept as text: Path("dir/") would drop the '/' that makes it a directory
    output: str = typer.Option("actviz-report.html", "--output", "-o", metavar="FILE",
                                help="The page to write."),
    define: DefineOpt = None,  # noqa: ARG001 - registered by its callback
) -> None:
    """Write one self-contained, interactive HTML page: property table, curves, sliders, overlay."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from actviz.core import registry
    from actviz.core.errors import ActvizError
    from actviz.render import report

    acts = registry.bind_all(names or registry.names(), param, role="in the report")
    report.check_output_path(output)
    only = {a.name for a in acts} if names else None  # named activations: only theirs in the training section
    stores = [_training(r, only) for r in results]  # a bad store fails before any work
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]report[/]"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.description}"), TimeElapsedColumn(),
        console=console, transient=True,
        disable=not console.is_terminal,  # elsewhere it would leave a blank line (before an error too)
    ) as bar:
        task = bar.add_task("starting", total=None)

        def progress(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=what)

        data = report.build_report(acts, stores=stores, progress=progress)
        if not data["activations"]:  # every one asked for is broken
            raise ActvizError("; ".join(b["problem"] for b in data["broken"]))
        written = report.write_report(data, output)
    typer.echo(str(written))
    if data["broken"]:  # the page has the others; the exit code and one line name the broken ones
        raise ActvizError("; ".join(b["problem"] for b in data["broken"]) + " (left out of the page)")
    size = written.stat().st_size
    combos = sum(len(a["combos"]) for a in data["activations"])
    typer.echo(f"{len(data['activations'])} activations, {combos} parameter settings, {size / 1e6:.1f} MB",
               err=True)


def _training(path: Path, only: Optional[set] = None) -> dict:
    """One ``--results`` store as the page's data: read and checked once, its statistics recomputed.

    With ``only`` (registry names), the runs of other activations are left out before the
    statistics are computed: the paired tests compare the activations shown.
    """
    from actviz import results as store
    from actviz.bench.summary import stored_target, summarize_configs, sweep
    from actviz.core.errors import UsageError
    from actviz.render.report_training import training_data

    doc = store.load(path, option="--results")
    if only is not None:
        held = sorted({r["activation"] for r in doc["runs"]})
        doc = {**doc, "runs": [r for r in doc["runs"] if r["activation"] in only]}
        if not doc["runs"]:
            raise UsageError(f"--results {path}: no runs of {', '.join(sorted(only))} "
                             f"(the store holds {', '.join(held) or 'no runs'})")
    summary = summarize_configs(doc["runs"], stored_target(doc))
    return training_data(doc, summary, sweep(summary))


__all__ = ["report_cmd"]
