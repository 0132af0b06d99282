"""The training section of the HTML report: a compare store as the page's data.

:func:`training_data` takes a store's document, read and checked by
:func:`actviz.results.load`, and its statistics, computed afresh from the runs by
:func:`actviz.bench.summary.summarize_configs` (the command line does both and hands the
plain data here), and returns, per configuration: the statistics rows, the paired
differences and verdicts, the training curves (mean over seeds with a band from the
lowest to the highest seed), the diagnostics of the last epoch and the runs' statuses;
for a sweep (two or more configurations) the ``sweep``: mean test accuracy in percent
per configuration and activation, and each activation's best configuration as the
sweep's statistics name it (:func:`actviz.bench.summary.sweep`: the same rule as the
command line's, so no best where every run is at chance).
Accuracies are fractions in the data, as the store holds them; the page shows them in
percent, as the command line does.  Numbers are rounded to the digits the page shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from actviz.render.report_data import json_float
from actviz.results import by_config, by_label, epoch_series, mean_of

__all__ = ["training_data"]

Run = Mapping[str, Any]
_METRICS = ("test_acc", "train_loss", "train_acc", "test_loss")


def _sig(v: Any, digits: int = 5) -> float | None:
    """A number for the page with ``digits`` significant digits; None for a missing or non-finite one."""
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return None
    return json_float(float(v), digits)


def _ci(v: Any) -> list[float | None] | None:
    return [_sig(v[0]), _sig(v[1])] if isinstance(v, (list, tuple)) and len(v) == 2 else None


def _stat_row(r: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "label": r["label"], "activation": r["activation"], "n": r["n"], "runs": r["runs"], "diverged": r["diverged"],
        "test_acc_mean": _sig(r["test_acc_mean"]), "test_acc_std": _sig(r["test_acc_std"], 3),
        "test_acc_ci": _ci(r["test_acc_ci"]),
        "train_loss_mean": _sig(r["train_loss_mean"]), "train_loss_std": _sig(r["train_loss_std"], 3),
        "train_loss_ci": _ci(r["train_loss_ci"]),
        "epochs_to_target": _sig(r["epochs_to_target"], 3), "reached_target": r["reached_target"],
        "dead": _sig(r["dead"], 3), "saturated": _sig(r["saturated"], 3),
        "definition": r.get("definition"),
    }


def _pair_row(p: Mapping[str, Any]) -> dict[str, Any]:
    return {"a": p["a"], "b": p["b"], "diff_mean": _sig(p.get("diff_mean"), 4), "ci": _ci(p.get("ci")),
            "p": _sig(p.get("p"), 3), "p_holm": _sig(p.get("p_holm"), 3)}


def _curves(runs: Sequence[Run]) -> dict[str, Any]:
    """Per label and metric: epochs, the mean over seeds, and the lowest and highest seed."""
    out: dict[str, Any] = {}
    per_metric = {m: epoch_series(runs, lambda h, m=m: h.get(m)) for m in _METRICS}
    for label, group in by_label(runs).items():
        n_epochs = max((len(r["history"]) for r in group), default=0)
        series: dict[str, Any] = {"epochs": list(range(1, n_epochs + 1)),
                                  "seeds": sum(1 for r in group if r["history"])}
        for metric, by in per_metric.items():
            s = by[label]
            at = dict(zip(s["epochs"], zip(s["mean"], s["low"], s["high"])))
            cols = [at.get(e, (None, None, None)) for e in series["epochs"]]
            series[metric] = {k: [_sig(c[i]) for c in cols] for i, k in enumerate(("mean", "low", "high"))}
        out[label] = series
    return out


def _diagnostics(runs: Sequence[Run]) -> dict[str, Any]:
    """Per label: dead and saturated fractions per hidden layer, gradient norm per layer (last epoch, mean over seeds)."""
    out: dict[str, Any] = {}
    for label, group in by_label(runs).items():
        finals = [r["history"][-1].get("diagnostics") or {} for r in group
                  if r["history"] and r["status"] != "diverged"]
        out[label] = {}
        for key in ("dead", "saturated", "grad_norm"):
            rows = [d.get(key) or [] for d in finals]
            depth = max((len(row) for row in rows), default=0)
            out[label][key] = [_sig(mean_of([row[i] for row in rows if len(row) > i]), 4) for i in range(depth)]
    return out


def _learned(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Per activation that learned: its function per epoch over its inputs (layers 1 and 2, the first
    completed seed) and its parameters' trajectories (:mod:`actviz.render.learned`), rounded for the page."""
    from actviz.render.learned import function_frames, learning_runs, trajectories

    def rounded(v: Any) -> Any:
        return [rounded(x) for x in v] if isinstance(v, list) else _sig(v, 4) if isinstance(v, float) else v

    out = []
    for label, group in learning_runs(runs).items():
        try:
            frames = [function_frames(group[0], layer) for layer in range(min(2, len(group[0]["preact_range"])))]
            series = trajectories(group)
        except Exception:  # noqa: BLE001 - an activation this process cannot rebuild (a plugin gone): no pictures
            continue
        out.append({"label": label, "frames": [{k: rounded(v) for k, v in f.items()} for f in frames],
                    "trajectories": [{k: rounded(v) for k, v in t.items()} for t in series]})
    return out


def _statuses(runs: Sequence[Run]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in runs:
        s = out.setdefault(r["label"], {})
        s[r["status"]] = s.get(r["status"], 0) + 1
    return out


def _sweep(configs: Sequence[Mapping[str, Any]], sweep: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Configurations × activations: mean test accuracy in percent, n, and each activation's best configuration.

    ``sweep`` is the sweep's statistics (its ``configurations`` are in the summary's order,
    as ``configs`` are); its ``per_activation`` names each best.
    """
    if len(configs) < 2 or sweep is None:
        return None
    labels: list[str] = []
    for cfg in configs:
        labels += [r["label"] for r in cfg["rows"] if r["label"] not in labels]
    acc, n = [], []
    for cfg in configs:
        rows = {r["label"]: r for r in cfg["rows"]}
        acc.append([_sig(100 * rows[lab]["test_acc_mean"], 4) if rows.get(lab, {}).get("test_acc_mean") is not None
                    else None for lab in labels])
        n.append([rows[lab]["n"] if lab in rows else 0 for lab in labels])
    named = {p["label"]: p["best"] for p in sweep["per_activation"]}
    best = [sweep["configurations"].index(named[lab]) if named.get(lab) else None for lab in labels]
    return {"configs": [c["label"] for c in configs], "activations": labels, "acc_pct": acc, "n": n, "best": best}


def boundaries_png(runs: Sequence[Run]) -> str | None:
    """The decision boundaries of a configuration's runs as an inline PNG (a ``data:`` URL); None without any."""
    import base64
    import io

    from actviz.render.boundaries import has_boundaries, plot_boundaries

    if not has_boundaries({"runs": runs}):
        return None
    buf = io.BytesIO()
    plot_boundaries({"runs": runs}).savefig(buf, format="png", dpi=80)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def training_data(doc: Mapping[str, Any], summary: Sequence[Mapping[str, Any]],
                  sweep: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The page's data of one store: ``doc`` from :func:`actviz.results.load`, ``summary`` its statistics,
    ``sweep`` the statistics of its configurations side by side (None with one configuration)."""
    groups = by_config(doc["runs"])
    top = doc.get("config") or {}
    out = []
    for i, entry in enumerate(summary):
        mine = groups.get(entry["config_label"], [])
        out.append({
            "id": f"cfg{i}",
            "label": entry["config_label"],
            "config": {k: v for k, v in (entry.get("config") or {}).items() if not isinstance(v, (list, dict))},
            "rows": [_stat_row(r) for r in entry["activations"]],
            "pairs": [_pair_row(p) for p in entry["pairs"]],
            "verdicts": [v["text"] for v in entry["verdicts"]],
            "curves": _curves(mine),
            "diagnostics": _diagnostics(mine),
            "statuses": _statuses(mine),
            "boundaries": boundaries_png(mine),
            "learned": _learned(mine),
        })
    target = top.get("target_accuracy")
    return {
        "source": doc.get("source", ""),
        "created": doc.get("created"),
        "environment": {k: v for k, v in (doc.get("environment") or {}).items()
                        if isinstance(v, (str, int, float)) and not isinstance(v, bool)},
        "target": target if isinstance(target, (int, float)) and not isinstance(target, bool) else None,
        "configurations": out,
        "sweep": _sweep(out, sweep),
    }
