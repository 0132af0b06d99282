"""The lessons: the textbooks' arguments for activation functions, as experiments.

Each lesson is a module with ``run(*, activations=None, seeds=None, ...)`` returning
a :class:`~actviz.lessons.result.LessonResult` (measurements, a table, an
explanation built from the numbers) and ``figures(result)`` drawing its pictures.

>>> from actviz.lessons import LESSONS, run_lesson
>>> [lesson.name for lesson in LESSONS.values()]
['xor', 'collapse', 'approx', 'symmetry', 'signal', 'derivatives']
>>> result = run_lesson("derivatives", activations=["tanh"])   # doctest: +SKIP

The index imports nothing heavy: a lesson's module (and torch) is imported when it runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actviz.core.errors import UsageError
from actviz.core.suggest import closest, did_you_mean


@dataclass(frozen=True)
class Lesson:
    """An entry of the index: the lesson's name, one line on what it shows, and its module."""

    name: str
    summary: str
    module: str
    seeds: str  # what --seeds counts in this lesson
    default_seeds: int | None
    max_seeds: int | None

    def load(self) -> Any:
        return importlib.import_module(self.module)

    @property
    def function(self) -> Any:
        """The lesson's ``run`` function."""
        return self.load().run


def _entry(name: str, summary: str, seeds: str, default: int | None, most: int | None) -> Lesson:
    return Lesson(name, summary, f"actviz.lessons.{name}", seeds, default, most)


#: the lessons, in teaching order (summaries and seed limits mirror each module's constants)
LESSONS: dict[str, Lesson] = {
    lesson.name: lesson
    for lesson in (
        _entry("xor", "one threshold unit gets at most 3 of 4 XOR points; a 2-2-1 MLP learns XOR "
               "(success rate per activation)", "random initialisations per activation", 100, 10000),
        _entry("collapse", "without a nonlinearity a deep MLP is softmax regression (one matrix); "
               "ReLU does better (Fashion-MNIST)", "training seeds", 3, 10),
        _entry("approx", "one hidden layer of k units approximates sin(3x), |x| and a step better "
               "as k grows (k = 1 … 64)", "random restarts per fit (the best is kept)", 1, 10),
        _entry("symmetry", "all-equal initial weights keep every hidden unit identical through "
               "training; random ones break the tie (Fashion-MNIST)", "training seeds", 1, 10),
        _entry("signal", "variance of activations and gradients through 20 layers per "
               "activation × initialisation: which keep the signal", "random networks per combination", 3, 100),
        _entry("derivatives", "analytic f′ vs autograd vs finite differences (U-shaped error in h) "
               "vs sympy, and what differences do at a kink", "none: deterministic", None, None),
    )
}


def suggest(name: str, n: int = 3) -> list[str]:
    """Lesson names closest to ``name``."""
    return closest(name.strip().lower(), LESSONS, n=n, cutoff=0.4)


def get_lesson(name: str) -> Lesson:
    """The lesson called ``name`` (case-insensitive), else a UsageError suggesting the closest."""
    lesson = LESSONS.get(name.strip().lower())
    if lesson is None:
        hint = did_you_mean(suggest(name))
        raise UsageError(f"unknown lesson {name!r}{hint} (the lessons: {', '.join(LESSONS)})")
    return lesson


def run_lesson(name: str, *, activations: Sequence[Any] | None = None, seeds: int | None = None,
               out: str | Path | None = None, **options: Any) -> Any:
    """Run a lesson; with ``out``, write its pictures and ``lesson.json`` into ``out``."""
    from actviz.lessons.result import make_directory, write_lesson

    lesson = get_lesson(name)
    if activations is not None:  # a broken plugin: BrokenActivation naming it, not its own exception mid-lesson
        from actviz.facts.audit import check_contract

        for act in activations:
            if not isinstance(act, str):
                check_contract(act)
    if out is not None:  # before the work: a bad --out fails at once
        make_directory(out)
    module = lesson.load()
    kwargs: dict[str, Any] = dict(options)
    if activations is not None:
        kwargs["activations"] = activations
    if seeds is not None:
        if lesson.max_seeds is None:
            raise UsageError(f"--seeds: {lesson.name} is deterministic and takes no seeds")
        kwargs["seeds"] = seeds
    result = module.run(**kwargs)
    if out is not None:
        write_lesson(result, module.figures, out)
    return result


__all__ = ["LESSONS", "Lesson", "get_lesson", "run_lesson", "suggest"]
