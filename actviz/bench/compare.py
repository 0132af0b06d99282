"""``actviz compare``: train the reference MLP per activation and seed, and report.

:func:`run_compare` resolves the activations, loads Fashion-MNIST through
:func:`actviz.bench.data.load`, trains with :func:`actviz.bench.train.train_runs`, and returns
the results dictionary that it also writes (atomically) to ``out``:

* ``results.json``: ``config``, ``environment``, ``runs`` (each with its per-epoch
  ``history``), ``summary``, ``interrupted``;
* ``curves.png``: training loss and accuracies per epoch, one line per activation,
  a band of ± one standard deviation over seeds;
* ``diagnostics.png``: gradient norm per layer, first-layer gradient norm per epoch,
  dead and saturated fractions per epoch.

The diagnostics are defined in :mod:`actviz.bench.train`.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from actviz.core.errors import ActvizError, UsageError
from actviz.core.files import write_atomic
from actviz.core.registry import Activation, get
from actviz.core.registry import params_json

__all__ = [
    "DEFAULT_OUT",
    "DEFAULT_TARGET",
    "environment",
    "plot_curves",
    "plot_diagnostics",
    "prepare_out",
    "results_dict",
    "run_compare",
    "summarize",
    "write_atomic",
    "write_outputs",
]

DEFAULT_OUT = "actviz-results"
#: the "epochs to reach" column: the first epoch whose test accuracy is at least this
DEFAULT_TARGET = 0.80
SCHEMA_VERSION = 1


# --------------------------------------------------------------------------- files


def prepare_out(out: str | os.PathLike[str]) -> Path:
    """Create the output directory and check that it is writable (before any training)."""
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".actviz-write-test.", dir=path)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ActvizError(f"cannot write to the output directory {str(path)!r}: {reason} (choose another with --out)") from None
    return path


# --------------------------------------------------------------------------- environment


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(device: str = "cpu", threads: int | None = None, flush_denormal: bool | None = None) -> dict[str, Any]:
    """Versions, device, threads and CPU: what a timing depends on."""
    import numpy
    import torch

    from actviz import __version__

    env: dict[str, Any] = {
        "actviz": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "device": device,
        "threads": torch.get_num_threads() if threads is None else threads,
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "flush_denormal": flush_denormal,
    }
    if device.startswith("cuda"):
        env["cuda"] = torch.version.cuda
        env["gpu"] = torch.cuda.get_device_name(0)
    return env


# --------------------------------------------------------------------------- summary


def _mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    var = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(var)


def _layer_mean(values: Sequence[float | None] | None) -> float | None:
    vals = [v for v in (values or []) if v is not None]
    return sum(vals) / len(vals) if vals else None


def summarize(runs: Sequence[dict[str, Any]], target: float = DEFAULT_TARGET) -> list[dict[str, Any]]:
    """One row per activation (label), over its seeds: means, standard deviations, diagnostics.

    Only runs with at least one epoch count towards the means; diverged runs are
    counted in ``diverged``.  ``epochs_to_target`` is the mean, over the runs that
    reached it, of the first epoch whose test accuracy is ≥ ``target`` (``reached``
    says how many did).  Standard deviations are the sample ones (n − 1), 0 for one seed.
    """
    order: list[str] = []
    by_label: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        if run["label"] not in by_label:
            order.append(run["label"])
            by_label[run["label"]] = []
        by_label[run["label"]].append(run)
    rows = []
    for label in order:
        group = by_label[label]
        done = [r for r in group if r["history"] and r["status"] != "diverged"]
        finals = [r["history"][-1] for r in done]
        acc_mean, acc_std = _mean_std([h["test_acc"] for h in finals])
        loss_mean, loss_std = _mean_std([h["train_loss"] for h in finals])
        reach = []
        for r in done:
            hit = next((h["epoch"] for h in r["history"] if h["test_acc"] >= target), None)
            if hit is not None:
                reach.append(hit)
        grad = [h["diagnostics"]["grad_norm"] for h in finals]
        depth_plus = max((len(g) for g in grad), default=0)
        grad_mean = [sum(g[i] for g in grad) / len(grad) for i in range(depth_plus)] if grad else []
        rows.append(
            {
                "label": label,
                "activation": group[0]["activation"],
                "runs": len(group),
                "completed": sum(r["status"] == "completed" for r in group),
                "diverged": sum(r["status"] == "diverged" for r in group),
                "interrupted": sum(r["status"] == "interrupted" for r in group),
                "epochs": max((len(r["history"]) for r in done), default=0),
                "test_acc_mean": acc_mean,
                "test_acc_std": acc_std,
                "train_loss_mean": loss_mean,
                "train_loss_std": loss_std,
                "target": target,
                "epochs_to_target": sum(reach) / len(reach) if reach else None,
                "reached_target": len(reach),
                "time_mean": _mean_std([sum(h["time"] for h in r["history"]) for r in done])[0],
                "dead": _mean_std([_layer_mean(h["diagnostics"]["dead"]) for h in finals
                                   if _layer_mean(h["diagnostics"]["dead"]) is not None])[0],
                "saturated": _mean_std([_layer_mean(h["diagnostics"]["saturated"]) for h in finals
                                        if _layer_mean(h["diagnostics"]["saturated"]) is not None])[0],
                "grad_norm": grad_mean,
                "learned": _mean_learned([r["learned"] for r in done]),
            }
        )
    return rows


def _mean_learned(items: Sequence[dict[str, list[float]]]) -> dict[str, list[float]]:
    items = [i for i in items if i]
    if not items:
        return {}
    return {k: [sum(i[k][j] for i in items) / len(items) for j in range(len(items[0][k]))] for k in items[0]}


def results_dict(
    acts: Sequence[Activation],
    config: Any,
    trained: Any,
    *,
    seeds: Sequence[int],
    target: float,
    data_source: str | None,
    wall: float,
) -> dict[str, Any]:
    """The contents of ``results.json``."""
    return {
        "schema": SCHEMA_VERSION,
        "command": "compare",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "interrupted": bool(trained.interrupted),
        "config": {
            **config.to_json(),
            "activations": [
                {"name": a.name, "label": a.label,
                 "params": params_json(a)}
                for a in acts
            ],
            "seeds": list(seeds),
            "target_accuracy": target,
            "data_source": data_source,
        },
        "environment": environment(trained.device, trained.threads, trained.flush_denormal),
        "runs": trained.runs,
        "summary": summarize(trained.runs, target),
        "training_seconds": trained.seconds,
        "wall_seconds": wall,
    }


# --------------------------------------------------------------------------- plots


def _series(runs: Sequence[dict[str, Any]], key: Callable[[dict[str, Any]], float | None]) -> dict[str, Any]:
    """label → (epochs, mean, std) over the seeds that have each epoch."""
    import numpy as np

    out: dict[str, Any] = {}
    by_label: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        by_label.setdefault(r["label"], []).append(r)
    for label, group in by_label.items():
        epochs: list[int] = []
        means: list[float] = []
        stds: list[float] = []
        n_epochs = max((len(r["history"]) for r in group), default=0)
        for e in range(n_epochs):
            vals = [key(r["history"][e]) for r in group if len(r["history"]) > e]
            vals = [v for v in vals if v is not None]
            if not vals:
                continue
            epochs.append(e + 1)
            means.append(float(np.mean(vals)))
            stds.append(float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0)
        out[label] = (np.array(epochs), np.array(means), np.array(stds))
    return out


def _line_band(ax: Any, series: dict[str, Any], style: str = "-", labels: bool = True) -> None:
    for i, (label, (x, m, s)) in enumerate(series.items()):
        if not len(x):
            continue
        color = f"C{i % 10}"
        ax.plot(x, m, style, color=color, marker="o", ms=3, label=label if labels else None)
        if s.any():
            ax.fill_between(x, m - s, m + s, color=color, alpha=0.2, lw=0)


def plot_curves(results: dict[str, Any]) -> Any:
    """A matplotlib Figure: training loss, and test (solid) / training (dashed) accuracy."""
    from matplotlib.figure import Figure

    runs = results["runs"]
    cfg = results["config"]
    fig = Figure(figsize=(11, 4.2))
    # fixed margins: constrained layout costs about 0.2 s a figure, on the benchmark's clock
    fig.subplots_adjust(left=0.07, right=0.985, bottom=0.12, top=0.85, wspace=0.2)
    ax1, ax2 = fig.subplots(1, 2)
    _line_band(ax1, _series(runs, lambda h: h["train_loss"]))
    ax1.set(xlabel="epoch", ylabel="training loss (mean cross-entropy)", title="Training loss")
    _line_band(ax2, _series(runs, lambda h: h["test_acc"]))
    _line_band(ax2, _series(runs, lambda h: h["train_acc"]), style="--", labels=False)
    ax2.set(xlabel="epoch", ylabel="accuracy", title="Test accuracy (solid), training accuracy (dashed)")
    from matplotlib.ticker import MaxNLocator

    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    n_seeds = len(cfg["seeds"])
    fig.suptitle(
        f"Fashion-MNIST, 784-{'-'.join([str(cfg['hidden'])] * cfg['depth'])}-10, {cfg['optimizer']} lr {cfg['lr']:g}, "
        f"batch {cfg['batch_size']}, init {cfg['init']}"
        + (f" — mean ± std over {n_seeds} seeds" if n_seeds > 1 else "")
    )
    return fig


def plot_diagnostics(results: dict[str, Any]) -> Any:
    """A matplotlib Figure: gradient norm per layer, first-layer gradient norm, dead and saturated units."""
    from matplotlib.figure import Figure

    runs = [r for r in results["runs"] if r["history"]]
    cfg = results["config"]
    fig = Figure(figsize=(11, 8))
    fig.subplots_adjust(left=0.08, right=0.985, bottom=0.07, top=0.92, wspace=0.22, hspace=0.38)
    (a, b), (c, d) = fig.subplots(2, 2)
    # gradient norm per layer at the last epoch, input layer first
    for i, row in enumerate(results["summary"]):
        g = row["grad_norm"]
        if g:
            a.semilogy(range(1, len(g) + 1), g, "-o", color=f"C{i % 10}", label=row["label"])
    n_layers = cfg["depth"] + 1
    a.set_xticks(range(1, n_layers + 1), [f"{i}" if i < n_layers else f"{i}\n(output)" for i in range(1, n_layers + 1)])
    a.set(xlabel="layer (1 = input layer)", ylabel="‖∂loss/∂W‖ on the probe batch",
          title="Gradient norm per layer (last epoch)")
    _line_band(b, _series(runs, lambda h: h["diagnostics"]["grad_norm"][0]))
    b.set_yscale("log")
    b.set(xlabel="epoch", ylabel="‖∂loss/∂W₁‖", title="Input-layer gradient norm")
    _line_band(c, _series(runs, lambda h: _layer_mean(h["diagnostics"]["dead"])))
    c.set(xlabel="epoch", ylabel="fraction of hidden units", title="Dead units (f′ = 0 on every probe example)")
    _line_band(d, _series(runs, lambda h: _layer_mean(h["diagnostics"]["saturated"])))
    d.set(xlabel="epoch", ylabel="fraction of hidden units",
          title="Saturated units (|f′| ≤ 1% sup|f′|, most examples)")
    for ax in (a, b, c, d):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    for ax in (c, d):
        ax.set_ylim(-0.02, 1.02)
    from matplotlib.ticker import MaxNLocator

    for ax in (b, c, d):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(f"Diagnostics on a probe batch of {cfg['probe_size']} training images")
    return fig


def _save_figure(fig: Any, path: Path) -> Path:
    fmt = path.suffix.lstrip(".") or "png"
    return write_atomic(path, lambda f: fig.savefig(f, format=fmt, dpi=110))


def write_outputs(results: dict[str, Any], out: Path, *, plots: bool = True) -> dict[str, Path]:
    """Write results.json (first: it is what matters) and the two plots, each atomically."""
    out = Path(out)
    paths: dict[str, Path] = {}
    text = json.dumps(results, indent=1, allow_nan=False, default=_json_default)
    paths["results"] = write_atomic(out / "results.json", text.encode() + b"\n")
    if plots:
        paths["curves"] = _save_figure(plot_curves(results), out / "curves.png")
        paths["diagnostics"] = _save_figure(plot_diagnostics(results), out / "diagnostics.png")
    return paths


def _json_default(v: Any) -> Any:
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, tuple):
        return list(v)
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


# --------------------------------------------------------------------------- the whole command


def run_compare(
    activations: Sequence[str | Activation],
    config: Any = None,
    *,
    seeds: Sequence[int] = (0,),
    data: Any = None,
    data_dir: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = DEFAULT_OUT,
    target: float = DEFAULT_TARGET,
    plots: bool = True,
    callback: Callable[[dict[str, Any]], None] | None = None,
    data_progress: Any = None,
) -> dict[str, Any]:
    """Train and report; return the results dict (also written to ``out`` unless it is None).

    ``data`` may be passed in (any object with the :class:`actviz.bench.data.FashionMNIST`
    tensors); otherwise :func:`actviz.bench.data.load` finds it (``DataError`` if it cannot).
    When training is interrupted (Ctrl-C), the results of the epochs completed are
    written with ``"interrupted": true`` and returned; the caller decides the exit code.
    """
    t0 = time.perf_counter()
    from actviz.bench.train import TrainConfig, train_runs

    config = (config or TrainConfig()).validate()
    if not 0 < target <= 1:
        raise UsageError(f"--target must be in (0, 1], got {target}")
    acts = [a if isinstance(a, Activation) else get(a) for a in activations]
    if not acts:
        raise UsageError("name at least one activation (see 'actviz list')")
    labels = [a.label for a in acts]
    if len(set(labels)) != len(labels):
        raise UsageError(f"an activation is named twice: {', '.join(labels)}")
    out_path = prepare_out(out) if out is not None else None
    if data is None:
        from actviz.bench import data as data_mod

        data = data_mod.load(data_dir, progress=data_progress)
    source = getattr(data, "source", None)
    trained = train_runs(acts, data, config, seeds=seeds, callback=callback)
    results = results_dict(acts, config, trained, seeds=seeds, target=target,
                           data_source=str(source) if source is not None else None,
                           wall=time.perf_counter() - t0)
    if out_path is not None:
        results["files"] = {k: str(v) for k, v in write_outputs(results, out_path, plots=plots).items()}
    return results
