"""``actviz lesson``: the textbooks' arguments for activation functions, run as experiments.

Importing this module is cheap: the lessons (and torch, matplotlib) are imported
when one runs.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Optional

import typer

from actviz.cli.options import DefineOpt, FormatOpt, ShowFormat
from actviz.core.errors import ActvizError, UsageError

#: the lesson's output formats (rich or json), as every command's
LessonFormat = ShowFormat


def print_index(fmt: str) -> None:
    """One line per lesson (or a JSON list)."""
    from actviz.lessons import LESSONS

    if fmt == "json":
        print(json.dumps([{"name": l.name, "summary": l.summary, "seeds": l.seeds,
                           "default_seeds": l.default_seeds} for l in LESSONS.values()], indent=2))
        return
    width = max(len(n) for n in LESSONS)
    for lesson in LESSONS.values():
        typer.echo(f"{lesson.name:<{width}}  {lesson.summary}")
    typer.echo("\n--seeds counts: " + "; ".join(
        f"{l.name}: {l.seeds}" + (f" ({l.default_seeds})" if l.default_seeds else "") for l in LESSONS.values()))
    typer.echo("actviz lesson NAME runs one (--help for the options).")


def render(result: Any) -> None:
    """The lesson's table and explanation on the terminal."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=result.title, title_justify="left", box=box.SIMPLE_HEAD, caption=result.caption or None,
                  caption_justify="left", padding=(0, 1), pad_edge=False)
    for i, col in enumerate(result.columns):
        table.add_column(col, justify="left" if i == 0 else "right", no_wrap=i == 0)
    for row in result.rows:
        table.add_row(*row)
    console.print(table)
    for note in result.notes:
        console.print("• " + note, highlight=False, markup=False)


def lesson_cmd(
    name: Annotated[Optional[str], typer.Argument(
        metavar="NAME", help="The lesson to run; without one, the lessons are listed.")] = None,
    activations: Annotated[Optional[str], typer.Option(
        "--activations", "-a", metavar="NAME,...",
        help="Activations to study, comma-separated (any registered one; default: the lesson's own)."),
    ] = None,
    seeds: Annotated[Optional[str], typer.Option(
        "--seeds", metavar="N", help="Repetitions (what they are depends on the lesson; the listing says)."),
    ] = None,
    out: Annotated[str, typer.Option(
        "--out", "-o", metavar="DIR",
        help="Directory for the pictures and lesson.json (a sub-folder per lesson).")] = "actviz-lessons",
    format: FormatOpt = ShowFormat.rich,
    define: DefineOpt = None,  # noqa: ARG001 - registered by its callback
) -> None:
    """Run a lesson: an experiment that shows why activation functions matter (or list them)."""
    from pathlib import Path

    from actviz import lessons

    if name is None:
        print_index(format.value)
        return
    lesson = lessons.get_lesson(name)
    if out == "":  # like compare's --out: not silently the current directory
        raise UsageError("--out is empty: name the folder for the lesson's files (default actviz-lessons)")
    n_seeds = _parse_seeds(seeds, lesson)
    acts, broken = _chosen(activations)
    result = lessons.run_lesson(lesson.name, activations=acts, seeds=n_seeds, out=Path(out) / lesson.name)
    if format is ShowFormat.json:
        print(result.json_text(), end="")
    else:
        render(result)
        files = ", ".join(str(Path(out) / lesson.name / p) for p in [*result.pictures, "lesson.json"])
        typer.echo(f"wrote {files} ({result.seconds:.1f} s)")
    if broken:  # the lesson ran with the others; the exit code and one line name the broken ones
        raise ActvizError("; ".join(broken) + " (left out of the lesson)")


def _chosen(activations: Optional[str]) -> tuple[Optional[list], list[str]]:
    """The activations of --activations (None: the lesson's own) and the problems of broken ones."""
    if activations is None:
        return None, []
    from actviz.core.registry import bind_all

    names = [a.strip() for a in activations.split(",") if a.strip()]
    if not names:
        raise UsageError("--activations: name at least one activation, e.g. --activations relu,tanh")
    return _usable(bind_all(names, [], role="studied"))


def _usable(acts: list) -> tuple[list, list[str]]:
    """The activations that keep the contract, and the problems of the others; error if none is left."""
    from actviz.facts.audit import BrokenActivation, check_contract

    usable, broken = [], []
    for act in acts:
        try:
            check_contract(act)
            usable.append(act)
        except BrokenActivation as exc:
            broken.append(str(exc))
    if not usable:
        raise ActvizError("; ".join(broken))
    return usable, broken


def _parse_seeds(text: Optional[str], lesson: Any) -> Optional[int]:
    if text is None:
        return None
    if lesson.max_seeds is None:
        raise UsageError(f"--seeds: the {lesson.name} lesson is deterministic and takes no seeds")
    try:
        n = int(text.strip())
    except ValueError:
        raise UsageError(f"--seeds must be a whole number between 1 and {lesson.max_seeds}, got {text!r}") from None
    if not 1 <= n <= lesson.max_seeds:
        raise UsageError(f"--seeds must be between 1 and {lesson.max_seeds} for {lesson.name} "
                         f"({lesson.seeds}), got {n}")
    return n


__all__ = ["lesson_cmd", "print_index", "render"]
