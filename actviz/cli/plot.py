"""``actviz plot`` and ``actviz gallery``.

Importing this module is cheap: matplotlib and torch are imported inside the
commands, after the arguments have been checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer



def default_output(names: list[str], derivative: bool) -> Path:
    """``gelu.png``, ``gelu_derivative.png``, ``relu-tanh.png``."""
    stem = "-".join(names)
    if len(stem) > 120:
        stem = stem[:120].rstrip("-") + "-etc"
    return Path(stem + ("_derivative" if derivative else "") + ".png")


def _plot_terminal(acts: list, *, derivative: bool, xmin: float, xmax: float) -> None:
    """Print the curves as text, sized to the terminal (COLUMNS and LINES are honoured)."""
    import os
    import shutil
    import sys

    from actviz.render.terminal import terminal_plot

    columns = shutil.get_terminal_size(fallback=(80, 24)).columns
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    typer.echo(terminal_plot(acts, derivative=derivative, xmin=xmin, xmax=xmax, width=columns, color=color),
               nl=False)


def register(app: typer.Typer) -> None:
    """Add ``plot`` and ``gallery`` to the ``actviz`` app."""

    @app.command("plot")
    def plot_cmd(
        names: List[str] = typer.Argument(..., metavar="NAME...", help="Activations to draw, in one figure."),
        derivative: bool = typer.Option(
            False, "--derivative", "-d",
            help="Add a panel with the analytic f′ (line) and the autograd f′ (crosses), kinks marked.",
        ),
        xmin: float = typer.Option(-6.0, "--xmin", help="Left end of the x range."),
        xmax: float = typer.Option(6.0, "--xmax", help="Right end of the x range."),
        param: List[str] = typer.Option(
            [], "--param", "-p", metavar="NAME.KEY=VALUE",
            help="A parameter of one of the activations, e.g. leaky_relu.negative_slope=0.2 (repeatable).",
        ),
        output: Optional[str] = typer.Option(
            None, "--output", "-o", metavar="FILE",
            help="Output file; the type follows the extension (.png, .svg, .pdf). "
            "Default: NAME[-NAME...][_derivative].png in the current directory.",
        ),
        terminal: bool = typer.Option(
            False, "--terminal", "-t",
            help="Draw the curves in the terminal with text characters, as wide as the terminal "
            "(COLUMNS); writes no file.",
        ),
    ) -> None:
        """Plot f (and with --derivative f′) of one or more activations into a file, or the terminal."""
        from actviz.core.errors import UsageError
        from actviz.render import plotting
        from actviz.core import registry

        from actviz.facts.audit import check_contract

        if terminal and output is not None:
            raise UsageError("--terminal draws in the terminal and writes no file; leave out -o/--output "
                             "(or --terminal to write FILE)")
        acts = registry.bind_all(names, param, role="being plotted")
        xmin, xmax = plotting._check_range(xmin, xmax)
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

    @app.command("gallery")
    def gallery_cmd(
        out: Path = typer.Option(Path("gallery"), "--out", "-o", metavar="DIR",
                                 help="Directory to write into (created if missing)."),
    ) -> None:
        """Write a picture of every activation, an overview grid and index.md into DIR."""
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from actviz.render.gallery import build_gallery

        console = Console(stderr=True)
        bar = Progress(
            TextColumn("[bold]gallery[/]"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.description}"), TimeElapsedColumn(),
            console=console, transient=True,
        )
        task: list = []

        def report(done: int, total: int, what: str) -> None:
            if not task:  # started with the first picture: an early error is one line, no blank one
                bar.start()
                task.append(bar.add_task("starting", total=None))
            bar.update(task[0], completed=done, total=total, description=what)

        try:
            written = build_gallery(out, progress=report)
        finally:
            if task:
                bar.stop()
        # written: one picture per activation, then the overview grid, then index.md
        typer.echo(f"wrote {len(written) - 2} pictures, {written[-2].name} and {written[-1].name} to {out}")
        typer.echo(str(written[-1]))


__all__ = ["register", "default_output"]
