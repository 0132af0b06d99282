"""The statistics of a comparison: per configuration, per activation, over seeds.

Computed afresh from the runs every time a store is shown (``compare``, ``results``,
``report --results``): a summary stored in ``results.json`` is a convenience for other
tools, never read back.  Only completed runs count towards the statistics; interrupted
runs are kept in the store and listed apart, diverged runs are counted as such.  The
tests and intervals are :mod:`actviz.bench.stats`'s.

A configuration whose every run ends at chance (an accuracy that guessing one of 10
classes reaches on Fashion-MNIST's 10,000 test images 99% of the time, 9.23%–10.78%:
:func:`actviz.bench.stats.chance_range`) is reported as not learning, with what its
diagnostics suggest, and never named the highest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from actviz.bench import stats
from actviz.results import by_config, by_label, completed, mean_of
from actviz.results.labels import varying

__all__ = ["DEFAULT_TARGET", "stored_target", "summarize", "summarize_configs", "sweep"]

#: the "epochs to reach" column: the first epoch whose test accuracy is at least this
DEFAULT_TARGET = 0.80

Run = Mapping[str, Any]


def stored_target(doc: Mapping[str, Any]) -> float:
    """The target accuracy a store was compared with, when it is an accuracy in (0, 1]; else the default."""
    t = (doc.get("config") or {}).get("target_accuracy")
    ok = isinstance(t, (int, float)) and not isinstance(t, bool) and 0 < t <= 1
    return float(t) if ok else DEFAULT_TARGET


def _layer_mean(values: Sequence[float | None] | None) -> float | None:
    return mean_of(values or [])


def _total(values: Sequence[float | None]) -> float | None:
    """The sum, or None when a value is missing (plain sum: an overflow gives inf, not OverflowError)."""
    return None if any(v is None for v in values) else sum(values)  # type: ignore[arg-type]


def _clip(ci: list[float] | None) -> list[float] | None:
    """An accuracy's interval cut to [0, 1] (the t interval of a few seeds can reach past them)."""
    return None if ci is None else [max(0.0, ci[0]), min(1.0, ci[1])]


def _clipped(ci: list[float] | None) -> bool:
    return ci is not None and (ci[0] < 0.0 or ci[1] > 1.0)


def _number(v: Any) -> float | None:
    """A stored number, or None (older stores have none; a hand-edited one may hold anything)."""
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _mean_learned(items: Sequence[Mapping[str, list[float]]]) -> dict[str, list[float]]:
    items = [i for i in items if i]
    if not items:
        return {}
    return {k: [sum(i[k][j] for i in items) / len(items) for j in range(len(items[0][k]))] for k in items[0]}


def _epochs_to(done: Sequence[Run], target: float) -> list[int]:
    """Per run that reached ``target``, the first epoch whose test accuracy is at least it."""
    reach = []
    for r in done:
        hit = next((h["epoch"] for h in r["history"] if h["test_acc"] >= target), None)
        if hit is not None:
            reach.append(hit)
    return reach


def _row(label: str, group: Sequence[Run], target: float) -> dict[str, Any]:
    done = sorted(completed(group), key=lambda r: r["seed"])
    finals = [r["history"][-1] for r in done]
    acc = stats.describe([h["test_acc"] for h in finals])
    loss = stats.describe([h.get("train_loss") for h in finals])
    reach = _epochs_to(done, target)
    diags = [h.get("diagnostics") or {} for h in finals]  # absent in hand-made or damaged stores
    grad = [d.get("grad_norm") or [] for d in diags]
    depth_plus = max((len(g) for g in grad), default=0)
    return {
        "label": label,
        "activation": group[0]["activation"],
        "params": group[0].get("params", {}),
        "definition": group[0].get("definition"),  # the formula of an activation defined by one
        "n": acc["n"],
        "seeds": [r["seed"] for r in done],
        "runs": len(group),
        "completed": sum(r["status"] == "completed" for r in group),
        "diverged": sum(r["status"] == "diverged" for r in group),
        "interrupted": sum(r["status"] == "interrupted" for r in group),
        "epochs": max((len(r["history"]) for r in done), default=0),
        "test_acc_mean": acc["mean"],
        "test_acc_std": acc["std"],
        "test_acc_ci": _clip(acc["ci"]),
        "test_acc_ci_clipped": _clipped(acc["ci"]),
        "test_acc_by_seed": [h["test_acc"] for h in finals],
        "at_chance": sum(_at_chance(h["test_acc"]) for h in finals),
        "train_loss_mean": loss["mean"],
        "train_loss_std": loss["std"],
        "train_loss_ci": loss["ci"],
        "target": target,
        "epochs_to_target": sum(reach) / len(reach) if reach else None,
        "reached_target": len(reach),
        "time_mean": mean_of([_total([h.get("time") for h in r["history"]]) for r in done]),
        "act_seconds": mean_of([_number(r.get("act_seconds")) for r in done]),
        "dead": mean_of([_layer_mean(d.get("dead")) for d in diags]),
        "saturated": mean_of([_layer_mean(d.get("saturated")) for d in diags]),
        "grad_norm": [mean_of([g[i] for g in grad if len(g) > i]) for i in range(depth_plus)],
        "learned": _mean_learned([r.get("learned") or {} for r in done]),
    }


def _at_chance(acc: float) -> bool:
    low, high = stats.chance_range()
    return low <= acc <= high


def _sort_key(row: Mapping[str, Any]) -> tuple[bool, float, str]:
    m = row.get("test_acc_mean")
    return (m is None, -(m or 0.0), row["label"])


def summarize(runs: Sequence[Run], target: float = DEFAULT_TARGET) -> list[dict[str, Any]]:
    """One row per activation (label) of ONE configuration, over its completed runs.

    ``n`` counts completed runs; interrupted and diverged runs are counted apart
    (``interrupted``, ``diverged``).  ``test_acc_*`` and ``train_loss_*`` are the mean,
    sample standard deviation and 95% Student-t interval over seeds (std and CI ``None``
    with one seed; the accuracy's interval cut to [0, 1]).  ``epochs_to_target`` is the
    mean, over the runs that reached it, of the first epoch whose test accuracy is ≥
    ``target`` (``reached_target`` says how many did).  ``time_mean`` is a run's wall time
    (its share of its seed's: the activations of a seed train together).
    ``act_seconds`` is the activation's own forward and backward per training step, the
    mean over seeds of each run's timed probe (:func:`actviz.bench.train.activation_cost`),
    ``None`` for runs stored before it was measured.  ``dead``, ``saturated`` and
    ``grad_norm`` are the last epoch's diagnostics, averaged over layers and seeds
    (``grad_norm``: per layer).  ``test_acc_ci_clipped`` says the interval was cut;
    ``test_acc_by_seed`` is the final accuracy of each of ``seeds``; ``at_chance`` counts
    the runs whose final accuracy guessing reaches (:func:`actviz.bench.stats.chance_range`).
    Rows are sorted by mean test accuracy, highest first, equal means by label.
    """
    return sorted((_row(label, group, target) for label, group in by_label(runs).items()), key=_sort_key)


def _hint(row: Mapping[str, Any]) -> str:
    """What the diagnostics say about a configuration that did not learn."""
    g = [x for x in row.get("grad_norm") or [] if x is not None]
    hints = []
    if len(g) > 1 and g[-1] > 0 and g[0] < 1e-3 * g[-1]:
        hints.append(f"vanishing gradients (‖∇W‖ {g[0]:.1e} at the input layer, {g[-1]:.1e} at the output)")
    if (row.get("dead") or 0) >= 0.5:
        hints.append(f"dead units ({row['dead']:.0%} of hidden units never active)")
    if (row.get("saturated") or 0) >= 0.5:
        hints.append(f"saturated units ({row['saturated']:.0%})")
    loss = row.get("train_loss_mean")
    if loss is not None and loss > 2.5:
        hints.append(f"divergence (training loss {loss:.3g}, above guessing's ln 10 = 2.30)")
    if not hints and loss is not None and abs(loss - math.log(10)) < 0.01:
        hints.append(f"training loss {loss:.4f} ≈ ln 10, guessing's: the output ignores the input")
    if not hints and g and max(g) < 1e-6:
        hints.append(f"no gradient (‖∇W‖ ≤ {max(g):.1e})")
    return "; ".join(hints) if hints else "the diagnostics show no single cause"


def _not_learning(row: Mapping[str, Any]) -> str:
    low, high = stats.chance_range()
    n = row["n"]
    every = "in every seed" if n > 1 else "with its one seed"
    return (f"{row['label']}: not learning: at chance {every} ({row['test_acc_mean'] * 100:.2f}%, inside "
            f"guessing's {low * 100:.2f}–{high * 100:.2f}%); hint: {_hint(row)}")


def _chance_note(row: Mapping[str, Any]) -> str:
    return f" ({row['at_chance']} of {row['n']} seeds at chance)" if 0 < row["at_chance"] < row["n"] else ""


def _not_compared(row: Mapping[str, Any]) -> dict[str, str]:
    why = "interrupted" if row["interrupted"] else "diverged" if row["diverged"] else "not trained"
    return {"label": row["label"], "text": f"{row['label']}: no completed run ({why}); not compared"}


def summarize_configs(runs: Sequence[Run], target: float = DEFAULT_TARGET) -> list[dict[str, Any]]:
    """The statistics of every configuration in ``runs`` (in order of appearance).

    Each entry: ``config_label``, ``config``, ``activations`` (the rows of :func:`summarize`),
    ``best``, ``pairs`` (paired differences of final test accuracy by seed, with 95% CI,
    ``p`` and ``p_holm``), ``verdicts`` (``label``, ``text``), ``wins`` (win/tie/loss per
    activation, three or more activations), ``adjusted`` (Holm used), and
    ``interrupted_runs`` / ``diverged_runs`` (label, seed, epochs) listed apart.
    """
    out = []
    for label, group in by_config(runs).items():
        rows = summarize(group, target)
        finals: dict[str, dict[int, float]] = {row["label"]: {} for row in rows}
        for r in completed(group):
            finals[r["label"]][r["seed"]] = r["history"][-1]["test_acc"]
        failed = {row["label"]: _not_learning(row) for row in rows if row["n"] and row["at_chance"] == row["n"]}
        cmp = stats.compare_groups(finals, failed)
        notes = {row["label"]: _chance_note(row) for row in rows if row["n"]}
        for v in cmp["verdicts"]:
            v["text"] += notes.get(v["label"], "")
        cmp["verdicts"].extend(_not_compared(row) for row in rows if row["n"] == 0)
        out.append(
            {
                "config_label": label,
                "config": dict(group[0].get("config", {})),
                "activations": rows,
                "best": cmp["best"],
                "tied": cmp["tied"],
                "pairs": cmp["pairs"],
                "verdicts": cmp["verdicts"],
                "wins": cmp["wins"],
                "adjusted": cmp["adjusted"],
                "interrupted_runs": [{"label": r["label"], "seed": r["seed"], "epochs": r["epochs_completed"]}
                                     for r in group if r["status"] == "interrupted"],
                "diverged_runs": [{"label": r["label"], "seed": r["seed"], "epoch": r.get("diverged_epoch")}
                                  for r in group if r["status"] == "diverged"],
            }
        )
    return out


# --------------------------------------------------------------------------- sweeps


def _cell(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"mean": row.get("test_acc_mean"), "ci": row.get("test_acc_ci"), "n": row.get("n", 0)}


def _finals(row: Mapping[str, Any]) -> dict[int, float]:
    return dict(zip(row.get("seeds") or [], row.get("test_acc_by_seed") or []))


def _standing(cmp: Mapping[str, Any], name: Callable[[str], str], failed: Collection[str] = ()) -> str:
    """Against the best of ``cmp``: which candidates the paired tests tell apart from it, in words."""
    best = cmp["best"]
    if best is None:
        return "none learned (every run at chance)"
    same, apart, untested = list(cmp["tied"][1:]), [], []
    for p in cmp["pairs"]:
        if best not in (p["a"], p["b"]):
            continue
        other = p["b"] if p["a"] == best else p["a"]
        if other in same:
            continue
        q = p["p_holm"]
        (untested if q is None else apart if q < stats.ALPHA else same).append(other)
    parts = []
    if same:
        parts.append("not distinguishable from " + ", ".join(name(x) for x in same))
    if apart:
        parts.append("above " + ", ".join(name(x) + (" (at chance)" if x in failed else "") for x in apart)
                     + " (paired by seed, 5%"
                     + (", Holm)" if cmp["adjusted"] else ")"))
    if untested:
        parts.append("no test against " + ", ".join(name(x) for x in untested) + " (one seed in common or fewer)")
    return "; ".join(parts) if parts else "nothing else to compare it with"


def _at(key: str) -> str:
    label, cfg = key.split("\x1f", 1)
    return f"{label} at [{cfg}]"


def sweep(summary: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The configurations of a sweep side by side, and the best of them; ``None`` with one configuration.

    Returns ``configurations`` (labels, in the summary's order), ``activations`` (labels,
    by their best mean, highest first), ``cells`` (``{activation: {configuration: {"mean",
    "ci", "n"}}}``), ``per_activation`` (per activation: ``label``, ``best`` configuration,
    ``tied``, ``mean``, ``text``) and ``overall`` (``label``, ``configuration``, ``mean``,
    ``text``).  An activation's configurations are compared as a configuration's
    activations are (:func:`actviz.bench.stats.compare_groups`: paired by seed where the
    seeds match, Holm-adjusted, runs at chance not crowned); the overall best is the
    best of each activation's best configuration, compared the same way.
    """
    if len(summary) < 2:
        return None
    configs, common = _varying(summary)
    cells: dict[str, dict[str, dict[str, Any]]] = {}
    finals: dict[str, dict[str, dict[int, float]]] = {}
    failed: dict[str, dict[str, str]] = {}
    for entry, cfg in zip(summary, configs):
        for row in entry.get("activations", []):
            cells.setdefault(row["label"], {})[cfg] = _cell(row)
            if row.get("n"):
                finals.setdefault(row["label"], {})[cfg] = _finals(row)
                if row.get("at_chance") == row["n"]:
                    failed.setdefault(row["label"], {})[cfg] = f"{cfg}: at chance"
    per: list[dict[str, Any]] = []
    for label, by_cfg in finals.items():
        cmp = stats.compare_groups(by_cfg, failed.get(label))
        best = cmp["best"]
        per.append({"label": label, "best": best, "tied": cmp["tied"],
                    "mean": cells[label][best]["mean"] if best else None,
                    "text": f"{label}: " + (f"best at [{best}] ({cells[label][best]['mean'] * 100:.2f}%); " if best else "")
                    + _standing(cmp, lambda c: f"[{c}]", failed.get(label, {}))})
    per.sort(key=lambda p: (p["mean"] is None, -(p["mean"] or 0.0), p["label"]))
    candidates = {f"{p['label']}\x1f{p['best']}": finals[p["label"]][p["best"]] for p in per if p["best"]}
    cmp = stats.compare_groups(candidates)
    overall: dict[str, Any] = {"label": None, "configuration": None, "mean": None,
                               "text": "overall: no configuration learned (every run at chance)"}
    if cmp["best"]:
        label, cfg = cmp["best"].split("\x1f", 1)
        overall = {"label": label, "configuration": cfg, "mean": cells[label][cfg]["mean"],
                   "text": f"overall: {label} at [{cfg}] ({cells[label][cfg]['mean'] * 100:.2f}%); "
                   + _standing(cmp, _at)}
    order = [p["label"] for p in per] + sorted(set(cells) - set(finals))
    return {"configurations": configs, "common": common, "activations": order, "cells": cells,
            "per_activation": per, "overall": overall}


def _varying(summary: Sequence[Mapping[str, Any]]) -> tuple[list[str], str]:
    """The configurations of ``summary`` named by :func:`varying`; hand-made ones keep their labels."""
    labels = [e.get("config_label", "defaults") for e in summary]
    names, common = varying([e.get("config") or {} for e in summary])
    return (names, common) if len(set(names)) == len(names) and all(names) else (labels, "")
