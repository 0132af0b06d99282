"""The runs of a store as the statistics and the pictures read them: grouped, filtered, per epoch.

Pure functions of checked runs (:func:`actviz.results.schema.check_run`), shared by the
benchmark's statistics and by every rendering, so that a configuration, an activation
and a curve are cut from the runs the same way everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

__all__ = ["by_config", "by_label", "completed", "epoch_series", "mean_of", "sample_std"]

Run = Mapping[str, Any]


def by_config(runs: Iterable[Run]) -> dict[str, list[Run]]:
    """Runs grouped by configuration label, in order of first appearance."""
    out: dict[str, list[Run]] = {}
    for r in runs:
        out.setdefault(r.get("config_label") or "defaults", []).append(r)
    return out


def by_label(runs: Iterable[Run]) -> dict[str, list[Run]]:
    """Runs grouped by activation label (activation with parameters), in order of first appearance."""
    out: dict[str, list[Run]] = {}
    for r in runs:
        out.setdefault(r["label"], []).append(r)
    return out


def completed(runs: Iterable[Run]) -> list[Run]:
    """The runs that finished every epoch (the only ones the statistics count)."""
    return [r for r in runs if r["status"] == "completed" and r["history"]]


def mean_of(values: Iterable[float | None]) -> float | None:
    """The mean of the values that are present and finite; None if there are none.

    ``math.fsum`` over the values: exact, and no overflow where the mean itself is a float.
    """
    vals = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return None
    try:
        return math.fsum(vals) / len(vals)
    except OverflowError:
        return math.fsum(v / len(vals) for v in vals)


def sample_std(vals: Sequence[float], centre: float) -> float:
    """The sample standard deviation of ``vals`` around ``centre`` (0 for fewer than two values).

    Scaled by the largest deviation first, so that squaring cannot overflow.
    """
    if len(vals) < 2:
        return 0.0
    scale = max(abs(v - centre) for v in vals)
    if scale == 0.0 or not math.isfinite(scale):
        return scale if math.isfinite(scale) else math.inf
    return scale * math.sqrt(math.fsum(((v - centre) / scale) ** 2 for v in vals) / (len(vals) - 1))


def epoch_series(runs: Sequence[Run], value: Callable[[Mapping[str, Any]], float | None]) -> dict[str, dict[str, Any]]:
    """Per activation label, ``value(epoch record)`` over seeds at each epoch.

    Returns ``{label: {"epochs", "mean", "std", "low", "high", "seeds"}}``: an epoch is
    listed where at least one seed has a value (a missing or non-finite value is left
    out); ``std`` is the sample standard deviation (0 with one seed); ``seeds`` the number
    of runs with any epoch.
    """
    out: dict[str, dict[str, Any]] = {}
    for label, group in by_label(runs).items():
        usable = [r for r in group if r.get("history")]
        s: dict[str, Any] = {"epochs": [], "mean": [], "std": [], "low": [], "high": [], "seeds": len(usable)}
        for e in range(max((len(r["history"]) for r in usable), default=0)):
            vals = [_get(value, r["history"][e]) for r in usable if len(r["history"]) > e]
            vals = [v for v in vals if v is not None]
            if not vals:
                continue
            m = mean_of(vals)
            s["epochs"].append(e + 1)
            s["mean"].append(m)
            s["std"].append(sample_std(vals, m))
            s["low"].append(min(vals))
            s["high"].append(max(vals))
        out[label] = s
    return out


def _get(value: Callable[[Mapping[str, Any]], float | None], record: Mapping[str, Any]) -> float | None:
    try:
        v = value(record)
    except (KeyError, IndexError, TypeError):  # an epoch without that diagnostic
        return None
    return float(v) if v is not None and math.isfinite(v) else None
