"""The ``actviz results`` command: re-render a compare store's statistics without training."""

from __future__ import annotations

import enum

import typer

from actviz.cli.options import DefineOpt


class ResultsFormat(str, enum.Enum):
    rich = "rich"
    markdown = "markdown"
    latex = "latex"
    csv = "csv"
    json = "json"


def results_cmd(
    folder: str = typer.Argument("actviz-results", help="The --out folder of an 'actviz compare'."),
    format: ResultsFormat = typer.Option(ResultsFormat.rich, "--format", "-f",
                                         help="rich, markdown, latex (booktabs tabular), csv or json."),
    plots: bool = typer.Option(False, "--plots", help="Redraw curves.png and diagnostics.png in FOLDER."),
    target: float = typer.Option(None, "--target", help="Test accuracy for the 'epochs to' column "
                                 "(default: the one of the last compare).", show_default=False),
    define: DefineOpt = None,  # noqa: ARG001 - registered by its callback
) -> None:
    """Re-render the summary and statistics of a compare store (every configuration in it), without training.

    The statistics are computed afresh from the stored runs (older stores get them
    too): mean, std and 95% CI over seeds, paired differences with Holm-adjusted
    p-values, a verdict per activation and win/tie/loss.
    """
    from actviz import results as store
    from actviz.bench.summary import stored_target, summarize_configs, sweep
    from actviz.core.errors import ActvizError, UsageError
    from actviz.render import summary as render

    doc = store.load(folder)
    if target is None:
        target = stored_target(doc)
    elif not 0 < target <= 1:
        raise UsageError(f"--target must be in (0, 1], got {target}")
    summary = summarize_configs(doc["runs"], target)
    if format is ResultsFormat.rich:
        from rich.console import Console

        console = Console()
        if not summary:
            console.print(f"{folder}: the store holds no runs")
        for block in render.rich_blocks(summary, title="actviz results", width=console.width, sweep=sweep(summary)):
            console.print(block)
    else:
        typer.echo(render.render(summary, format.value, sweep=sweep(summary)), nl=False)
    if plots:
        from actviz.render.training import redraw

        paths, errors = redraw({**doc, "summary": summary}, doc["folder"])
        for p in paths.values():
            typer.echo(f"wrote {p}", err=True)
        if errors:  # one line for all of them
            raise ActvizError("; ".join(errors))


__all__ = ["results_cmd"]
