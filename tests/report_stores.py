"""Realistic ``actviz compare`` results stores for the report's tests (no training needed).

``write_store(dir, shape="configs")`` writes the layout with ``config_label`` and a
summary per configuration (two configurations); ``shape="flat"`` writes the older
layout with one configuration and ``summary`` as a list of activation rows, as
``actviz compare`` wrote it before configurations existed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

CONFIGS = [
    {"epochs": 3, "hidden": 64, "depth": 1, "lr": 0.1, "batch_size": 256, "optimizer": "sgd", "init": "normal"},
    {"epochs": 3, "hidden": 64, "depth": 2, "lr": 0.1, "batch_size": 256, "optimizer": "sgd", "init": "normal"},
]
LABELS = [("relu", "relu", {}), ("tanh", "tanh", {}),
          ("leaky_relu(negative_slope=0.1)", "leaky_relu", {"negative_slope": 0.1})]
SEEDS = [0, 1, 2]


def _history(base: float, seed: int, depth: int, epochs: int) -> list[dict[str, Any]]:
    out = []
    for e in range(1, epochs + 1):
        acc = base + 0.03 * math.log(e) + 0.004 * (seed - 1) - 0.01 * (depth - 1)
        loss = 0.95 / e ** 0.5 + 0.01 * seed
        out.append({
            "epoch": e, "train_loss": loss, "train_acc": acc - 0.01, "test_acc": acc, "test_loss": loss + 0.05,
            "time": 0.4,
            "diagnostics": {"dead": [0.02 * depth * (base < 0.8)] * depth, "saturated": [0.1 + 0.05 * seed] * depth,
                            "grad_norm": [1.2 / e - 0.1 * i for i in range(depth + 1)]},
        })
    return out


def _mean_std(v: list[float]) -> tuple[float, float]:
    m = sum(v) / len(v)
    return m, math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1))


def _label(cfg: dict[str, Any]) -> str:
    return f"depth={cfg['depth']}, lr={cfg['lr']}"


def make_store(shape: str = "configs") -> dict[str, Any]:
    configs = CONFIGS if shape == "configs" else CONFIGS[:1]
    runs, summary = [], []
    for cfg in configs:
        rows = []
        for k, (label, name, params) in enumerate(LABELS):
            finals = []
            for seed in SEEDS:
                hist = _history(0.78 + 0.01 * k, seed, cfg["depth"], cfg["epochs"])
                run = {"activation": name, "label": label, "params": params, "seed": seed, "status": "completed",
                       "epochs_completed": cfg["epochs"], "history": hist, "learned": {}}
                if shape == "configs":
                    run.update(config=dict(cfg), config_label=_label(cfg), key=f"{label}|{_label(cfg)}|{seed}")
                runs.append(run)
                finals.append(hist[-1])
            acc_m, acc_s = _mean_std([h["test_acc"] for h in finals])
            loss_m, loss_s = _mean_std([h["train_loss"] for h in finals])
            row = {"label": label, "activation": name, "runs": 3, "completed": 3, "diverged": 0, "interrupted": 0,
                   "epochs": cfg["epochs"], "test_acc_mean": acc_m, "test_acc_std": acc_s,
                   "train_loss_mean": loss_m, "train_loss_std": loss_s, "target": 0.8,
                   "epochs_to_target": 2.0 if acc_m > 0.8 else None, "reached_target": 3 if acc_m > 0.8 else 0,
                   "dead": 0.01, "saturated": 0.15, "grad_norm": [0.4, 0.3], "learned": {}}
            if shape == "configs":
                row.update(n=3, test_acc_ci=[acc_m - 2.5 * acc_s, acc_m + 2.5 * acc_s],
                           train_loss_ci=[loss_m - 2.5 * loss_s, loss_m + 2.5 * loss_s])
            rows.append(row)
        if shape == "configs":
            summary.append({
                "config_label": _label(cfg), "config": dict(cfg), "activations": rows,
                "pairs": [{"a": "tanh", "b": "relu", "diff_mean": 0.01, "ci": [0.004, 0.016], "p": 0.01,
                           "p_holm": 0.02}],
                "verdicts": [{"label": "tanh", "text": f"tanh beats relu at {_label(cfg)} (p = 0.02, Holm)"}],
                "wins": {"tanh": 1},
            })
        else:
            summary = rows
    top = {**configs[0], "activations": [{"name": n, "label": lab, "params": p} for lab, n, p in LABELS],
           "seeds": SEEDS, "target_accuracy": 0.8, "data_source": "/usr/share/datasets/fashion-mnist"}
    return {"schema": 2 if shape == "configs" else 1, "command": "compare", "created": "2026-11-24T07:00:00+0000",
            "config": top, "environment": {"torch": "2.13.0", "device": "cpu", "threads": 1},
            "runs": runs, "summary": summary}


def write_store(directory: Path, shape: str = "configs") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "results.json").write_text(json.dumps(make_store(shape), indent=1))
    return directory
