"""``actviz compare``: train the reference MLP per activation, configuration and seed; report.

:func:`run_compare` resolves the grid (activation variants × training configurations ×
seeds), opens the results store in ``out`` (:mod:`actviz.bench.store`), reuses every
finished run it is asked for again, loads Fashion-MNIST through
:func:`actviz.bench.data.load` only when something is left to train, trains the rest
with :func:`actviz.bench.train.train_runs` (one call per configuration, only the missing
runs), and rewrites ``results.json`` atomically after every finished epoch.  At the end:

* ``results.json``: ``schema``, ``command``, ``config`` (this invocation's), ``environment``,
  ``runs`` (every run in the store, each with its ``config``, ``config_label``, ``key`` and
  per-epoch ``history``) and ``summary`` — one entry per configuration with per-activation
  statistics over seeds, paired differences, verdicts and win/tie/loss
  (:func:`summarize_configs`, :mod:`actviz.bench.stats`);
* ``curves.png``: training loss and accuracies per epoch, one row of panels per
  configuration, one line per activation with a band of ± one standard deviation over seeds;
* ``diagnostics.png``: per configuration, gradient norm per layer, input-layer gradient
  norm per epoch, dead and saturated fractions per epoch.

Statistics count only completed runs: interrupted runs are kept in the store and listed
apart, diverged runs are counted as such.  The diagnostics are defined in
:mod:`actviz.bench.train`.
"""

from __future__ import annotations

import errno
import itertools
import math
import os
import platform
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from actviz.bench import stats
from actviz.bench.store import (FINISHED, PLOTS, RESULTS, SCHEMA_VERSION, Store, by_config, config_label, now,
                                remove_plots, run_key, training_config)
from actviz.core.errors import ActvizError, UsageError
from actviz.core.files import not_regular, write_atomic
from actviz.core.registry import Activation, get, params_json

__all__ = [
    "DEFAULT_OUT",
    "DEFAULT_SEEDS",
    "DEFAULT_TARGET",
    "MAX_SEEDS",
    "check_memory",
    "environment",
    "plot_curves",
    "plot_diagnostics",
    "prepare_out",
    "redraw",
    "run_compare",
    "summarize",
    "summarize_configs",
    "write_atomic",
]

DEFAULT_OUT = "actviz-results"
#: the default number of seeds: the least that gives an interval and a paired test
DEFAULT_SEEDS = 3
MAX_SEEDS = 1000
#: the "epochs to reach" column: the first epoch whose test accuracy is at least this
DEFAULT_TARGET = 0.80


# --------------------------------------------------------------------------- files


def prepare_out(out: str | os.PathLike[str]) -> Path:
    """Create the output directory and check that it is writable (just before training)."""
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".actviz-write-test.", dir=path)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno == errno.EEXIST:  # something else of that name: say what
            try:
                reason = f"it is {not_regular(os.stat(path).st_mode) or 'a regular file'}, not a directory"
            except OSError:
                pass
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

    from actviz._version import __version__

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


def _layer_mean(values: Sequence[float | None] | None) -> float | None:
    vals = [v for v in (values or []) if v is not None]
    return stats.mean(vals) if vals else None


def _total(values: Sequence[float | None]) -> float | None:
    """The sum, or None when a value is missing (plain sum: an overflow gives inf, not OverflowError)."""
    return None if any(v is None for v in values) else sum(values)  # type: ignore[arg-type]


def _mean(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return stats.mean(vals) if vals else None


def summarize(runs: Sequence[Mapping[str, Any]], target: float = DEFAULT_TARGET) -> list[dict[str, Any]]:
    """One row per activation (label) of ONE configuration, over its completed runs.

    Only completed runs count towards the statistics (``n``): an interrupted run stopped
    at another epoch and would mix epochs, a diverged one has no final accuracy; both are
    counted apart (``interrupted``, ``diverged``).  ``test_acc_*`` and ``train_loss_*`` are
    the mean, sample standard deviation and 95% Student-t interval over seeds (std and
    CI ``None`` with one seed).  ``epochs_to_target`` is the mean, over the runs that
    reached it, of the first epoch whose test accuracy is ≥ ``target`` (``reached_target``
    says how many did).
    """
    order: dict[str, list[Mapping[str, Any]]] = {}
    for run in runs:
        order.setdefault(run["label"], []).append(run)
    rows = []
    for label, group in order.items():
        done = sorted((r for r in group if r["status"] == "completed" and r["history"]), key=lambda r: r["seed"])
        finals = [r["history"][-1] for r in done]
        acc = stats.describe([h["test_acc"] for h in finals])
        loss = stats.describe([h.get("train_loss") for h in finals])
        reach = []
        for r in done:
            hit = next((h["epoch"] for h in r["history"] if h["test_acc"] >= target), None)
            if hit is not None:
                reach.append(hit)
        diags = [h.get("diagnostics") or {} for h in finals]  # absent in hand-made or damaged stores
        grad = [d.get("grad_norm") or [] for d in diags]
        depth_plus = max((len(g) for g in grad), default=0)
        grad_mean = [_mean([g[i] for g in grad if len(g) > i]) for i in range(depth_plus)]
        rows.append(
            {
                "label": label,
                "activation": group[0]["activation"],
                "params": group[0].get("params", {}),
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
                "train_loss_mean": loss["mean"],
                "train_loss_std": loss["std"],
                "train_loss_ci": loss["ci"],
                "target": target,
                "epochs_to_target": sum(reach) / len(reach) if reach else None,
                "reached_target": len(reach),
                "time_mean": _mean([_total([h.get("time") for h in r["history"]]) for r in done]),
                "dead": _mean([_layer_mean(d.get("dead")) for d in diags]),
                "saturated": _mean([_layer_mean(d.get("saturated")) for d in diags]),
                "grad_norm": grad_mean,
                "learned": _mean_learned([r.get("learned") or {} for r in done]),
            }
        )
    return rows


def _clip(ci: list[float] | None) -> list[float] | None:
    """An accuracy's interval cut to [0, 1] (the t interval of a few seeds can reach past them)."""
    return None if ci is None else [max(0.0, ci[0]), min(1.0, ci[1])]


def _mean_learned(items: Sequence[dict[str, list[float]]]) -> dict[str, list[float]]:
    items = [i for i in items if i]
    if not items:
        return {}
    return {k: [sum(i[k][j] for i in items) / len(items) for j in range(len(items[0][k]))] for k in items[0]}


def summarize_configs(runs: Sequence[Mapping[str, Any]], target: float = DEFAULT_TARGET) -> list[dict[str, Any]]:
    """The statistics of section 6 of the spec, one entry per configuration (in order of appearance).

    Each entry: ``config_label``, ``config``, ``activations`` (the rows of :func:`summarize`),
    ``best``, ``pairs`` (paired differences of final test accuracy by seed, with 95% CI,
    ``p`` and ``p_holm``), ``verdicts`` (``label``, ``text``), ``wins`` (win/tie/loss per
    activation, three or more activations), ``adjusted`` (Holm used), and
    ``interrupted_runs`` / ``diverged_runs`` (label, seed, epochs) listed apart.
    """
    out = []
    for label, group in by_config(runs).items():
        rows = summarize(group, target)
        finals = {row["label"]: {} for row in rows}
        for r in group:
            if r["status"] == "completed" and r["history"]:
                finals[r["label"]][r["seed"]] = r["history"][-1]["test_acc"]
        cmp = stats.compare_groups(finals)
        for row in rows:
            if row["n"] == 0:
                why = "interrupted" if row["interrupted"] else "diverged" if row["diverged"] else "not trained"
                cmp["verdicts"].append({"label": row["label"],
                                        "text": f"{row['label']}: no completed run ({why}); not compared"})
        out.append(
            {
                "config_label": label,
                "config": dict(group[0].get("config", {})),
                "activations": rows,
                "best": cmp["best"],
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


# --------------------------------------------------------------------------- memory


def _available_memory(device: str) -> int | None:
    """Bytes the models may use: the GPU's total memory, or the machine's physical memory."""
    try:
        if device.startswith("cuda"):
            import torch

            return int(torch.cuda.get_device_properties(0).total_memory)
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError, RuntimeError):
        return None


def check_memory(acts: Sequence[Activation], config: Any, device: str = "cpu") -> int:
    """Estimated bytes of one seed's models and work buffers; UsageError if beyond the machine.

    Counts float32 weights (with gradients and Adam's two moments when used), the
    per-batch buffers and the 10,000-row evaluation buffers.
    """
    h, depth, bs = int(config.hidden), int(config.depth), int(config.batch_size)
    cols = 0
    weights = 0
    for a in acts:
        k = len(a.params["weights"]) if a.spec.kind == "maxout" else 1
        cols += h * k
        weights += 785 * h * k + (depth - 1) * (h * h * k + h * k) + h * 10 + 10
    copies = 4 if config.optimizer == "adam" else 1
    rows = min(bs, 60000) + 10000 + min(int(config.probe_size), 60000)
    need = 4 * (weights * copies + rows * cols * (2 * depth + 2))
    have = _available_memory(device)
    if have is not None and need > have:
        raise UsageError(
            f"--hidden {h} --depth {depth} with {len(acts)} activation(s) would need about {_gib(need)} of memory "
            f"for one seed's models ({'GPU' if device.startswith('cuda') else 'this machine'} has {_gib(have)}); "
            "use fewer or smaller layers")
    return need


def _gib(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB" if n < 2**50 else f"{n / 2**30:.2g} GiB"


# --------------------------------------------------------------------------- plots


def _series(runs: Sequence[Mapping[str, Any]], key: Callable[[dict[str, Any]], float | None]) -> dict[str, Any]:
    """label → (epochs, mean, std) over the seeds (completed runs) that have each epoch."""
    import numpy as np

    out: dict[str, Any] = {}
    by_label: dict[str, list[Mapping[str, Any]]] = {}
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


def _line_band(ax: Any, series: dict[str, Any], colors: Mapping[str, str], style: str = "-",
               labels: bool = True) -> None:
    for label, (x, m, s) in series.items():
        if not len(x):
            continue
        color = colors[label]
        ax.plot(x, m, style, color=color, marker="o", ms=3, label=label if labels else None)
        if s.any():
            ax.fill_between(x, m - s, m + s, color=color, alpha=0.2, lw=0)


def _completed(runs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in runs if r["status"] == "completed" and r["history"]]


def _colors(runs: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """One colour per activation label, the same in every panel."""
    labels = list(dict.fromkeys(r["label"] for r in runs))
    return {label: f"C{i % 10}" for i, label in enumerate(labels)}


def _net(cfg: Mapping[str, Any]) -> str:
    return (f"784-{'-'.join([str(cfg.get('hidden', '?'))] * int(cfg.get('depth', 1)))}-10, "
            f"{cfg.get('optimizer', '?')} lr {cfg.get('lr', float('nan')):g}, batch {cfg.get('batch_size', '?')}, "
            f"init {cfg.get('init', '?')}, {cfg.get('epochs', '?')} epochs")


def _panel_title(label: str, cfg: Mapping[str, Any], n_configs: int) -> str:
    """A row's title: the configuration's label in a sweep (what differs from d2l's defaults), else the net."""
    return f"configuration: {label}" if n_configs > 1 else _net(cfg)


def plot_curves(results: Mapping[str, Any]) -> Any:
    """A matplotlib Figure: per configuration (one row), training loss and test/training accuracy.

    Lines are means over the completed runs' seeds, bands ± one standard deviation.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    runs = _completed(results["runs"])
    groups = by_config(runs) or {"(no completed run)": []}
    colors = _colors(runs)
    n = len(groups)
    height = 1.1 + 3.9 * n
    fig = Figure(figsize=(11, height))
    # fixed margins: constrained layout costs about 0.2 s a figure, on the benchmark's clock
    fig.subplots_adjust(left=0.07, right=0.985, bottom=0.55 / height, top=1 - 1.1 / height, wspace=0.2,
                        hspace=0.75 if n > 1 else 0.2)
    axes = fig.subplots(n, 2, squeeze=False)
    seeds = set()
    for (label, group), (ax1, ax2) in zip(groups.items(), axes):
        seeds |= {r["seed"] for r in group}
        _line_band(ax1, _series(group, lambda h: h["train_loss"]), colors)
        ax1.set(xlabel="epoch", ylabel="training loss")
        _line_band(ax2, _series(group, lambda h: h["test_acc"]), colors)
        _line_band(ax2, _series(group, lambda h: h["train_acc"]), colors, style="--", labels=False)
        ax2.set(xlabel="epoch", ylabel="accuracy")
        cfg = group[0].get("config", {}) if group else {}
        _row_title(fig, ax1, _panel_title(label, cfg, n), height)
        ax1.set_title("training loss", fontsize="medium")
        ax2.set_title("test accuracy (solid), training accuracy (dashed)", fontsize="medium")
        for ax in (ax1, ax2):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize="small")
    fig.suptitle("Fashion-MNIST" + (", one row per configuration" if n > 1 else "")
                 + (f": mean ± std over seeds (completed runs, {len(seeds)} seeds)" if len(seeds) > 1 else ""),
                 y=1 - 0.2 / height)
    return fig


def _row_title(fig: Any, ax: Any, text: str, height: float) -> None:
    """A configuration's name above its row of panels (left-aligned, above the panel titles)."""
    pos = ax.get_position()
    fig.text(pos.x0, pos.y1 + 0.42 / height, text, ha="left", va="bottom", fontsize="medium", weight="bold")


def plot_diagnostics(results: Mapping[str, Any]) -> Any:
    """A matplotlib Figure: per configuration (one row), gradient norm per layer (last epoch),
    input-layer gradient norm per epoch, dead and saturated units per epoch."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    runs = _completed(results["runs"])
    groups = by_config(runs) or {"(no completed run)": []}
    colors = _colors(runs)
    n = len(groups)
    height = 1.1 + 3.9 * n
    fig = Figure(figsize=(16, height))
    fig.subplots_adjust(left=0.055, right=0.99, bottom=0.7 / height, top=1 - 1.1 / height, wspace=0.3,
                        hspace=0.8 if n > 1 else 0.2)
    axes = fig.subplots(n, 4, squeeze=False)
    probe = None
    for (label, group), (a, b, c, d) in zip(groups.items(), axes):
        cfg = group[0].get("config", {}) if group else {}
        probe = cfg.get("probe_size", probe)
        for row in summarize(group):
            g = row["grad_norm"]
            if g:
                a.semilogy(range(1, len(g) + 1), g, "-o", color=colors[row["label"]], label=row["label"])
        n_layers = int(cfg.get("depth", 1)) + 1
        a.set_xticks(range(1, n_layers + 1),
                     [f"{i}" if i < n_layers else f"{i}\n(out)" for i in range(1, n_layers + 1)])
        a.set(xlabel="layer (1 = input layer)", ylabel="‖∂loss/∂W‖")
        a.set_title("gradient norm per layer, last epoch", fontsize="medium")
        _row_title(fig, a, _panel_title(label, cfg, n), height)
        _line_band(b, _series(group, lambda h: h["diagnostics"]["grad_norm"][0]), colors)
        b.set_yscale("log")
        b.set(xlabel="epoch", ylabel="‖∂loss/∂W₁‖")
        b.set_title("input-layer gradient norm", fontsize="medium")
        _line_band(c, _series(group, lambda h: _layer_mean(h["diagnostics"]["dead"])), colors)
        c.set(xlabel="epoch", ylabel="fraction of hidden units")
        c.set_title("dead units (f′ = 0 on all probes)", fontsize="medium")
        _line_band(d, _series(group, lambda h: _layer_mean(h["diagnostics"]["saturated"])), colors)
        d.set(xlabel="epoch", ylabel="fraction of hidden units")
        d.set_title("saturated units (|f′| ≤ 1% sup|f′|)", fontsize="medium")
        for ax in (a, b, c, d):
            ax.grid(alpha=0.3)
        if a.get_legend_handles_labels()[0]:
            a.legend(fontsize="small")
        for ax in (c, d):
            ax.set_ylim(-0.02, 1.02)
        for ax in (b, c, d):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle("Diagnostics" + (f" on a probe batch of {probe} training images" if probe else "")
                 + (", one row per configuration" if n > 1 else "") + "; bands ± std over seeds",
                 y=1 - 0.2 / height)
    return fig


def _save_figure(fig: Any, path: Path) -> Path:
    fmt = path.suffix.lstrip(".") or "png"
    return write_atomic(path, lambda f: fig.savefig(f, format=fmt, dpi=110))


def redraw(results: Mapping[str, Any], out: str | os.PathLike[str]) -> tuple[dict[str, Path], list[str]]:
    """Draw curves.png and diagnostics.png of ``results`` into ``out``: (paths written, errors).

    A picture that fails is named in the errors (the other is still drawn).
    """
    out = Path(out)
    paths: dict[str, Path] = {}
    errors: list[str] = []
    for name, draw in zip(PLOTS, (plot_curves, plot_diagnostics)):
        try:
            paths[name.split(".")[0]] = _save_figure(draw(results), out / name)
        except ActvizError as exc:
            errors.append(f"could not draw {name}: {exc}")
        except Exception as exc:  # matplotlib: report it, keep results.json
            errors.append(f"could not draw {str(out / name)!r}: {type(exc).__name__}: {exc}")
    return paths, errors


# --------------------------------------------------------------------------- the whole command


def _grid_configs(config: Any, configs: Sequence[Any] | None) -> list[Any]:
    from actviz.bench.train import TrainConfig

    items = list(configs) if configs else [config or TrainConfig()]
    out: list[Any] = []
    for c in items:
        c = c.validate()
        if c not in out:
            out.append(c)
    devices = {c.device for c in out}
    if len(devices) > 1:  # pragma: no cover - the CLI sets one device
        raise UsageError("all configurations must use the same --device")
    return out


def run_compare(
    activations: Sequence[str | Activation],
    config: Any = None,
    *,
    configs: Sequence[Any] | None = None,
    seeds: Sequence[int] = (0, 1, 2),
    data: Any = None,
    data_dir: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = DEFAULT_OUT,
    target: float = DEFAULT_TARGET,
    plots: bool = True,
    fresh: bool = False,
    callback: Callable[[dict[str, Any]], None] | None = None,
    data_progress: Any = None,
) -> dict[str, Any]:
    """Train what is missing and report; return the results (see the module's docstring).

    ``activations`` are the variants (an :class:`Activation` each, or a name); ``configs``
    the training configurations of the grid (``config`` when there is one).  Every
    (variant × configuration × seed) is a run; with ``out`` a folder, finished runs
    stored there are reused unless ``fresh``.

    Returns the document written to ``results.json`` (``runs`` and ``summary`` cover the
    whole store) plus ``invocation``: ``summary`` (the statistics of the runs asked for
    now, per configuration), ``reused``, ``trained``, ``interrupted``, ``files`` and
    ``errors`` (failed writes, each naming its path: the caller reports them after the
    summary).  When training is interrupted (Ctrl-C, or a signal turned into
    KeyboardInterrupt), the epochs completed are kept and ``interrupted`` is true; the
    caller decides the exit code.
    """
    t0 = time.perf_counter()
    from actviz.bench.train import resolve_device, train_runs

    cfgs = _grid_configs(config, configs)
    if not 0 < target <= 1:
        raise UsageError(f"--target must be in (0, 1], got {target}")
    acts = [a if isinstance(a, Activation) else get(a) for a in activations]
    if not acts:
        raise UsageError("name at least one activation (see 'actviz list')")
    labels = [a.label for a in acts]
    if len(set(labels)) != len(labels):
        raise UsageError(f"an activation is named twice: {', '.join(labels)}")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise UsageError("need at least one seed")
    if out is not None and str(out).strip() == "":
        raise UsageError("--out is empty: name the folder for the results (default actviz-results)")
    device = str(resolve_device(cfgs[0].device))
    for c in cfgs:
        check_memory(acts, c, device)

    store = Store.open(out) if out is not None else Store(None)
    # the plan: every (configuration, seed, activation); finished stored runs are reused
    plan: list[tuple[Any, dict[str, Any], str, list[tuple[str, int]]]] = []
    asked: list[str] = []
    reused = 0
    for c in cfgs:
        tc = training_config(c)
        label = config_label(tc)
        todo = []
        for seed, act in itertools.product(seeds, acts):
            key = run_key(act.name, params_json(act), tc, seed)
            asked.append(key)
            if not fresh and store.finished(key) is not None:
                reused += 1
            else:
                todo.append((act.label, seed))
        plan.append((c, tc, label, todo))
    to_train = sum(len(p[3]) for p in plan)

    source = None
    n_train = None
    if to_train:
        if data is None:
            from actviz.bench import data as data_mod

            data = data_mod.load(data_dir, progress=data_progress)
        source = getattr(data, "source", None)
        n_train = int(data.train_images.shape[0])
        for c, *_ in plan:
            if c.probe_size > n_train:
                raise UsageError(f"--probe-size {c.probe_size} is more than the {n_train:,} training images")
            if c.batch_size > n_train:
                raise UsageError(f"--batch-size {c.batch_size} is more than the {n_train:,} training images")
    out_path = prepare_out(out) if out is not None and to_train else (Path(out) if out is not None else None)

    def emit(event: dict[str, Any]) -> None:
        if callback is not None:
            callback(event)

    n_batches = None if n_train is None else [
        -(-n_train // min(c.batch_size, n_train)) for c, *_ in plan]
    emit({"event": "plan", "reused": reused, "training": to_train, "configurations": len(plan),
          "total_steps": sum(len({s for _, s in todo}) * c.epochs * nb
                             for (c, _, _, todo), nb in zip(plan, n_batches or [0] * len(plan)))})

    write_error: list[str | None] = [None]
    env: dict[str, Any] = dict(store.previous.get("environment") or {})
    top_config = {
        **training_config(cfgs[0]), "device": cfgs[0].device, "threads": cfgs[0].threads,
        "configurations": [p[1] for p in plan],
        "config_labels": [p[2] for p in plan],
        "activations": [{"name": a.name, "label": a.label, "params": params_json(a)} for a in acts],
        "seeds": seeds,
        "target_accuracy": target,
        "data_source": str(source) if source is not None else (store.previous.get("config") or {}).get("data_source"),
        "fresh": fresh,
    }
    interrupted = False
    changed = False

    cache: dict[str, Any] = {}

    def summary_of(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # the statistics change only when a run's status does (runs in progress are not in them):
        # recomputed then, not after every epoch
        sig = [(r["key"], r["status"], None if r["status"] == "running" else r["epochs_completed"]) for r in runs]
        if cache.get("sig") != sig:
            cache["sig"], cache["summary"] = sig, summarize_configs(runs, target)
        return cache["summary"]

    def document() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        runs = store.runs()
        doc = {
            "schema": SCHEMA_VERSION,
            "command": "compare",
            "created": store.previous.get("created") or now(),
            "updated": now(),
            "interrupted": interrupted,
            "config": top_config,
            "environment": env,
            "summary": summary_of(runs),
            "wall_seconds": time.perf_counter() - t0,
        }
        return doc, runs

    def save(doc: dict[str, Any] | None = None, runs: list[dict[str, Any]] | None = None) -> None:
        if out_path is None:
            return
        if doc is None or runs is None:
            doc, runs = document()
        try:
            store.write(doc, runs)
            write_error[0] = None
        except ActvizError as exc:  # the disk may come back: training goes on, the end reports it
            write_error[0] = str(exc)

    def _train_config(c: Any, tc: dict[str, Any], label: str, todo: list[tuple[str, int]]) -> bool:
        """Train the missing runs of one configuration; True when interrupted."""
        nonlocal env, changed

        def on_event(event: dict[str, Any], _tc: dict[str, Any] = tc, _label: str = label) -> None:
            nonlocal changed
            kind = event["event"]
            if kind == "start":
                store.add_live(event["run_list"], _tc, _label)
                event = {k: v for k, v in event.items() if k != "run_list"}
            elif kind in ("epoch_end", "diverged"):
                changed = True
                save()
            emit({**event, "config_label": _label})

        trained = train_runs(acts, data, c, seeds=sorted({s for _, s in todo}), callback=on_event,
                             only=set(todo))
        env = environment(trained.device, trained.threads, trained.flush_denormal)
        changed = changed or any(r["history"] or r["status"] in FINISHED for r in trained.runs)
        return bool(trained.interrupted)

    try:
        for c, tc, label, todo in plan:
            if todo and not interrupted:
                interrupted = _train_config(c, tc, label, todo)
    except KeyboardInterrupt:  # between two configurations' training: what finished is saved below
        interrupted = True

    from actviz.core import signals

    with signals.shielded(raise_after=False):  # a signal now waits: the results are saved and returned
        return _finish(document, save, write_error, store, out_path, changed, interrupted, plots, asked,
                       reused, to_train, target)


def _finish(document: Callable[[], tuple[dict[str, Any], list[dict[str, Any]]]], save: Callable[..., None],
            write_error: list[str | None], store: Store, out_path: Path | None, changed: bool, interrupted: bool,
            plots: bool, asked: list[str], reused: int, to_train: int, target: float) -> dict[str, Any]:
    errors: list[str] = []
    results, runs = document()
    if out_path is not None and changed:  # an invocation that added nothing leaves the store as it was
        save(results, runs)
        if write_error[0] is not None:
            errors.append(write_error[0])
    files: dict[str, str] = {}
    if out_path is not None and write_error[0] is None and changed:
        files["results"] = str(out_path / RESULTS)
        if plots:
            drawn, plot_errors = redraw({**results, "runs": runs}, out_path)
            files.update({k: str(v) for k, v in drawn.items()})
            errors.extend(plot_errors)
        else:
            try:
                removed = remove_plots(out_path)
            except ActvizError as exc:
                errors.append(str(exc))
                removed = []
            files.update({f"removed {p.name}": str(p) for p in removed})
    results["runs"] = runs
    by_key = {r["key"]: r for r in runs}
    mine = [by_key[k] for k in asked if k in by_key]
    results["invocation"] = {
        "summary": summarize_configs(mine, target),
        "runs": mine,
        "reused": reused,
        "trained": to_train,
        "interrupted": interrupted,
        "files": files,
        "errors": errors,
        "out": str(out_path) if out_path is not None else None,
    }
    return results
