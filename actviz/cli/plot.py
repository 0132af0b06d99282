"""``actviz plot`` and ``actviz gallery``.

Importing this module is cheap: matplotlib and torch are imported inside the
commands, after the arguments have been checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from actviz.cli.options import DefineOpt, param_option


def default_output(names: list[str], derivative: bool) -> Path:
    """``gelu.png``, ``gelu_derivative.png``, ``relu-tanh.png``."""
    stem = "-".join(names)
    if len(stem) > 120:
        stem = stem[:120].rstrip("-") + "-etc"
    return Path(stem + ("_derivative" if derivative else "") + ".png")


def _plot_terminal(acts: list, *, derivative: bool, xmin: float, xmax: float) -> None:
    """Print the curves as text, sized to the terminal (COLUMNS and LINES are honoured)."""
    import shutil

    from actviz.render.terminal import MAX_WIDTH, color_mode, terminal_plot

    columns = shutil.get_terminal_size(fallback=(80, 24)).columns
    if columns > MAX_WIDTH:
        typer.echo(f"warning: the terminal is {columns} columns wide; the plot is drawn {MAX_WIDTH} wide", err=True)
    color = color_mode()  # None on a pipe or with NO_COLOR; the pictures' hues where the terminal has them
    typer.echo(terminal_plot(acts, derivative=derivative, xmin=xmin, xmax=xmax, width=columns, color=color),
               nl=False)


def plot_cmd(
    names: Annotated[List[str], typer.Argument(metavar="NAME...",
                                               help="Activations to draw, in one figure.")],
    derivative: Annotated[bool, typer.Option(
        "--derivative", "-d",
        help="Add a panel with the analytic f′ (line) and the autograd f′ (crosses), kinks marked.",
    )] = False,
    xmin: Annotated[Optional[float], typer.Option(
        "--xmin", help="Left end of the x range [default: -6, or lower to show every kink].")] = None,
    xmax: Annotated[Optional[float], typer.Option(
        "--xmax", help="Right end of the x range [default: 6, or higher to show every kink].")] = None,
    param: Annotated[List[str], param_option(
        "A parameter of one of the activations, e.g. leaky_relu.negative_slope=0.2 (repeatable).")] = [],
    output: Annotated[Optional[str], typer.Option(
        "--output", "-o", metavar="FILE",
        help="Output file; the type follows the extension (.png, .svg, .pdf). "
        "Default: NAME[-NAME...][_derivative].png in the current directory.",
    )] = None,
    terminal: Annotated[bool, typer.Option(
        "--terminal", "-t",
        help="Draw the curves in the terminal with text characters, as wide as the terminal "
        "(COLUMNS); writes no file.",
    )] = False,
    define: DefineOpt = None,  # noqa: ARG001 - registered by its callback
) -> None:
    """Plot f (and with --derivative f′) of one or more activations into a file, or the terminal."""
    from actviz.core import registry
    from actviz.core.errors import UsageError
    from actviz.facts.audit import check_contract
    from actviz.render import plotting

    if terminal and output is not None:
        raise UsageError("--terminal draws in the terminal and writes no file; leave out -o/--output "
                         "(or --terminal to write FILE)")
    acts = registry.bind_all(names, param, role="being plotted")
    xmin, xmax = plotting.resolve_range(acts, xmin, xmax)
    for act in acts:  # a broken plugin is named in one line
        check_contract(act)
    if terminal:
        _plot_terminal(acts, derivative=derivative, xmin=xmin, xmax=xmax)
        return
    # kept as text: Path("dir.png/") would drop the '/' that makes it a directory
    path = output if output is not None else default_output([a.name for a in acts], derivative)
    plotting.check_output_path(path)
    fig = plotting.plot_activations(acts, derivative=derivative, xmin=xmin, xmax=xmax)
    written = plotting.save_figure(fig, path)
    typer.echo(str(written))


def gallery_cmd(
    out: Annotated[Path, typer.Option(
        "--out", "-o", metavar="DIR", help="Directory to write into (created if missing).")] = Path("gallery"),
    define: DefineOpt = None,  # noqa: ARG001 - registered by its callback
) -> None:
    """Write a picture of every activation, an overview grid and index.md into DIR."""
    from actviz.render.gallery import build_gallery

    with _gallery_progress() as report:
        written = build_gallery(out, progress=report)
    # written: one picture per activation, then the overview grid, then index.md
    typer.echo(f"wrote {len(written) - 2} pictures, {written[-2].name} and {written[-1].name} to {out}")
    typer.echo(str(written[-1]))


@contextmanager
def _gallery_progress() -> Iterator[Callable[[int, int, str], None]]:
    """A progress bar on stderr, started with the first picture (an early error stays one line)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("[bold]gallery[/]"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.description}"), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    )
    task: list = []

    def report(done: int, total: int, what: str) -> None:
        if not task:
            bar.start()
            task.append(bar.add_task("starting", total=None))
        bar.update(task[0], completed=done, total=total, description=what)

    try:
        yield report
    finally:
        if task:
            bar.stop()


__all__ = ["default_output", "gallery_cmd", "plot_cmd"]
