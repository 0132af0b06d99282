"""What a lesson returns, and the helpers every lesson shares.

A lesson is a function ``run(*, activations=None, seeds=None, ...) -> LessonResult``:
it measures, and returns the measurements (``data``), a table of them
(``columns`` and ``rows``, display text) and an explanation whose numbers are the
ones just measured (``notes``).  Its module's ``figures(result)`` draws the
pictures from ``data`` alone (matplotlib, Agg).  :func:`write_lesson` writes the
pictures and ``lesson.json``, atomically.

Nothing here imports torch or matplotlib at import time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actviz.core.errors import UsageError
from actviz.core.files import write_atomic
from actviz.core.jsonsafe import json_data

#: the default activations of the lessons that compare activations
DEFAULT_ACTIVATIONS = ("relu", "tanh", "sigmoid")


@dataclass
class LessonResult:
    """One lesson's outcome: JSON-ready (``to_json``), rendered by the CLI."""

    name: str
    title: str
    options: dict[str, Any]
    columns: list[str]
    rows: list[list[str]]
    notes: list[str]
    data: dict[str, Any]
    seconds: float = 0.0
    pictures: list[str] = field(default_factory=list)
    caption: str = ""
    #: what the pictures need beyond ``data`` (arrays too big for lesson.json); not serialised
    extras: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "lesson": self.name,
            "title": self.title,
            "options": self.options,
            "table": {"columns": self.columns, "rows": self.rows, "caption": self.caption},
            "explanation": self.notes,
            "data": self.data,
            "pictures": self.pictures,
            "seconds": self.seconds,
        }

    def json_text(self) -> str:
        return json.dumps(jsonable(self.to_json()), indent=2, allow_nan=False) + "\n"


def jsonable(value: Any) -> Any:
    """Plain JSON data: tuples → lists, non-finite floats → their names as strings (``json_data``'s "name" policy)."""
    return json_data(value, nonfinite="name", other=str)


def resolve_activations(activations: Sequence[Any] | None, default: Sequence[str] = DEFAULT_ACTIVATIONS) -> list[Any]:
    """Bound activations for names (or :class:`Activation` objects), each once, in order."""
    from actviz.core import registry

    out: list[Any] = []
    for a in (default if activations is None else activations):
        act = a if isinstance(a, registry.Activation) else registry.get(a)
        if act not in out:
            out.append(act)
    if not out:
        raise UsageError("name at least one activation")
    return out


def rebind(entry: dict[str, Any]) -> Any:
    """The activation of a data entry holding ``name`` and ``params`` (JSON values)."""
    from actviz.core import registry

    params = {k: (tuple(v) if isinstance(v, list) else v) for k, v in entry.get("params", {}).items()}
    return registry.get(entry["name"], **params)


def check_seeds(seeds: Any, *, lesson: str) -> int:
    """``seeds`` (None → the lesson's default) as an int in 1..max, else a one-line UsageError."""
    from actviz.lessons import LESSONS

    entry = LESSONS[lesson]
    default, most, what = entry.default_seeds, entry.max_seeds, entry.seeds
    if most is None or default is None:
        if seeds is not None:
            raise UsageError(f"--seeds: {lesson} is deterministic and takes no seeds")
        return 0
    if seeds is None:
        return default
    if isinstance(seeds, bool) or not isinstance(seeds, int):
        raise UsageError(f"--seeds must be a whole number, got {seeds!r}")
    if not 1 <= seeds <= most:
        raise UsageError(f"--seeds must be between 1 and {most} for {lesson} ({what}), got {seeds}")
    return seeds


def g(v: float | None, spec: str = ".3g") -> str:
    """A number for a table cell; — for None or NaN."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return format(v, spec)


def pct(v: float | None, digits: int = 0) -> str:
    return "—" if v is None else f"{100 * v:.{digits}f}%"


def mean_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): the mean and its Student-t interval (the mean itself for one value)."""
    n = len(values)
    m = sum(values) / n
    if n < 2:
        return m, m, m
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1))
    half = _t_quantile(n - 1, level) * sd / math.sqrt(n)
    return m, m - half, m + half


def _t_quantile(df: int, level: float) -> float:
    """The two-sided 95% Student-t quantile for ``df`` degrees of freedom (tabulated to 3 decimals).

    Between tabulated values the next larger df's quantile is used (slightly too small an
    interval only past df = 20); beyond 120, the normal 1.960.
    """
    table = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
             10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110,
             18: 2.101, 19: 2.093, 20: 2.086, 25: 2.060, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}
    if level != 0.95:
        raise ValueError("only the 95% interval is tabulated")
    for k in sorted(table):
        if df <= k:
            return table[k]
    return 1.960


class one_thread:
    """Run torch on one thread inside the block (tiny tensors: threads only add waiting), then restore."""

    def __enter__(self) -> "one_thread":
        import torch

        self.before = torch.get_num_threads()
        torch.set_num_threads(1)
        return self

    def __exit__(self, *exc: Any) -> None:
        import torch

        torch.set_num_threads(self.before)


def new_figure(width: float, height: float) -> Any:
    """An Agg Figure (no pyplot) in the plotting module's style."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


def style() -> Any:
    """A context manager applying actviz's plot style."""
    import matplotlib

    from actviz.render.plotting import STYLE

    return matplotlib.rc_context(STYLE)


def colors() -> tuple[str, ...]:
    from actviz.render.plotting import PALETTE

    return PALETTE


def make_directory(out: str | Path) -> Path:
    """``out`` created (with its parents) if missing; an ActvizError naming it when that fails."""
    directory = Path(out)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from actviz.core.errors import ActvizError
        from actviz.core.files import os_reason

        raise ActvizError(f"cannot create the output directory {str(directory)!r}: {os_reason(directory, exc)}") from None
    return directory


def write_lesson(result: LessonResult, figures: Callable[[LessonResult], dict[str, Any]], out: str | Path) -> list[Path]:
    """Write the pictures and ``lesson.json`` of ``result`` into ``out`` (created); atomic files."""
    from actviz.render.plotting import save_figure

    directory = make_directory(out)
    written: list[Path] = []
    with style():
        figs = figures(result)
    for filename, fig in figs.items():
        written.append(save_figure(fig, directory / filename))
    result.pictures = [p.name for p in written]
    written.append(write_atomic(directory / "lesson.json", result.json_text().encode()))
    return written


__all__ = [
    "DEFAULT_ACTIVATIONS",
    "LessonResult",
    "check_seeds",
    "jsonable",
    "mean_interval",
    "resolve_activations",
    "write_lesson",
]
