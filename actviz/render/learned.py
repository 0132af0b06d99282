"""Pictures of activations that learned (``compare --learn``, PReLU, rational): computed apart from drawn.

Computing (plain data, JSON-able; the report's page draws the same data):

* :func:`function_frames` — one run, one hidden layer: the learned function at every epoch
  (epoch 0: the initial parameters; a per-unit parameter at its median over the units) on
  the range of that layer's pre-activation histogram, and the histogram of every epoch;
* :func:`trajectories` — per activation label and learned parameter (a vector parameter
  per coefficient): its per-layer value per epoch (the median over the units), the mean
  over the completed runs' seeds and the lowest and highest seed.

Drawing (seaborn style: ``ax=None`` draws on a new figure's axes; the Axes are returned):

* :func:`draw_function_frames` — the function of each epoch, coloured from early (dark) to
  late (light), over the pre-activations' histogram of each epoch (grey, on its own scale),
  as the rational_activations project draws its PAUs;
* :func:`draw_trajectory` — the parameter's trajectory with its band over seeds;
* :func:`plot_learned` — one row per learning activation of the first configuration that has
  any: the function of layer 1 (and 2), then each parameter's trajectory; ``learned.png``.

torch and matplotlib are imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from actviz.results import by_config, by_label, completed, network_label

__all__ = ["LEARNED_PLOT", "MAX_ROWS", "draw_function_frames", "draw_trajectory", "function_frames",
           "learning_runs", "plot_learned", "trajectories"]

Run = Mapping[str, Any]

#: the picture's file name beside curves.png and diagnostics.png
LEARNED_PLOT = "learned.png"
#: the most activations (rows) one picture draws
MAX_ROWS = 4
#: points of each learned function
POINTS = 241


def learning_runs(runs: Sequence[Run]) -> dict[str, list[Run]]:
    """The completed runs that learned a parameter and recorded it per epoch, by activation label."""
    return by_label(r for r in completed(runs)
                    if r.get("learning") and r.get("preact_range") and r["history"][0].get("learned"))


def _activation(run: Run) -> Any:
    from actviz.core.registry import get

    return get(run["activation"], **(run.get("params") or {}))


def _value(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def function_frames(run: Run, layer: int = 0, points: int = POINTS) -> dict[str, Any]:
    """The learned function of hidden layer ``layer`` at every epoch over its inputs' histogram (one run)."""
    import torch

    act = _activation(run)
    lo, hi, bins = run["preact_range"][layer]
    x = torch.linspace(lo, hi, points, dtype=torch.float64)
    epochs, fs = [0], [act.forward(x).tolist()]
    for h in run["history"]:
        params = {n: _value(rows[layer]["q50"]) for n, rows in h["learned"].items()}
        epochs.append(h["epoch"])
        fs.append(act.with_params(**params).forward(x).tolist())
    hists = [h["preact_hist"][layer]["counts"] for h in run["history"]]
    return {"label": run["label"], "seed": run["seed"], "layer": layer + 1, "x": x.tolist(), "epochs": epochs,
            "f": fs, "edges": [lo + (hi - lo) * i / bins for i in range(bins + 1)], "hist": hists,
            "learning": dict(run["learning"])}


def _stat(h: Mapping[str, Any], name: str, layer: int, c: int | None, stat: str) -> float:
    """One epoch's statistic of a learned parameter at a layer (coefficient ``c`` of a vector one)."""
    v = h["learned"][name][layer][stat]
    return float(v if c is None else v[c])


def trajectories(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Per learned parameter (``name`` or ``name[c]``) and hidden layer of runs of one label: its value per epoch.

    ``mean``, ``lo`` and ``hi`` over the runs (seeds) at each epoch of ``epochs`` (0: the
    initial value); the value of a run is the median over the units.
    """
    first = runs[0]
    init = _activation(first).params
    n_layers = len(first["history"][0]["learned"][next(iter(first["learning"]))])
    epochs = [0] + [h["epoch"] for h in first["history"]]
    out = []
    for name in first["learning"]:
        size = len(init[name]) if isinstance(init[name], (tuple, list)) else 0
        for c in range(size) if size else [None]:
            for layer in range(n_layers):
                start = float(init[name] if c is None else init[name][c])
                kept = [r for r in runs if len(r["history"]) >= len(epochs) - 1]
                cols = list(zip(*[[start] + [_stat(h, name, layer, c, "q50") for h in r["history"][: len(epochs) - 1]] for r in kept]))
                entry = {"label": first["label"], "param": name if c is None else f"{name}[{c}]",
                         "layer": layer + 1, "granularity": first["learning"][name], "epochs": epochs,
                         "mean": [sum(v) / len(v) for v in cols], "lo": [min(v) for v in cols],
                         "hi": [max(v) for v in cols], "seeds": len(kept)}
                if entry["granularity"] == "unit":  # the units' spread: 5% and 95% quantiles, mean over seeds
                    for q in ("q05", "q95"):
                        qs = list(zip(*[[start] + [_stat(h, name, layer, c, q) for h in r["history"][: len(epochs) - 1]] for r in kept]))
                        entry[q] = [sum(v) / len(v) for v in qs]
                out.append(entry)
    return out


def draw_function_frames(frames: Mapping[str, Any], ax: Any = None) -> Any:
    """The learned function of each epoch (dark → light) over the pre-activations' histograms (grey)."""
    import matplotlib.pyplot as plt
    import numpy as np

    if ax is None:
        ax = plt.figure(figsize=(5, 3.6)).add_subplot()
    edges = np.asarray(frames["edges"])
    back = ax.twinx()
    n = len(frames["hist"])
    for i, counts in enumerate(frames["hist"]):
        back.stairs(counts, edges, fill=i == n - 1, color="0.55", alpha=0.25 if i == n - 1 else 0.12 + 0.3 * i / max(1, n))
    back.set_yticks([])
    back.set_ylim(0, max(max(c) for c in frames["hist"]) * 1.05 or 1)
    ax.set_zorder(back.get_zorder() + 1)
    ax.patch.set_visible(False)
    cmap = plt.get_cmap("viridis")
    last = max(1, len(frames["epochs"]) - 1)
    for e, f in zip(frames["epochs"], frames["f"]):
        ax.plot(frames["x"], f, color=cmap(0.9 * e / last), lw=2.2 if e in (0, last) else 1.1,
                ls="--" if e == 0 else "-", label=f"epoch {e}" if e in (0, last) else None)
    learn = ", ".join(f"{k} per {g}" for k, g in frames["learning"].items())
    ax.set_title(f"{frames['label']}, layer {frames['layer']} (seed {frames['seed']})\n{learn}", fontsize="medium")
    ax.set(xlabel="pre-activation x", ylabel="f(x)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    return ax


def draw_trajectory(series: Sequence[Mapping[str, Any]], ax: Any = None) -> Any:
    """Each series' mean over seeds per epoch, with a band from the lowest to the highest seed."""
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.figure(figsize=(5, 3.6)).add_subplot()
    for i, s in enumerate(series):
        color = plt.get_cmap("tab10")(i % 10)
        label = s["param"] + (f" (layer {s['layer']})" if len({t["layer"] for t in series}) > 1 else "")
        ax.plot(s["epochs"], s["mean"], color=color, marker="o", ms=3, label=label)
        ax.fill_between(s["epochs"], s["lo"], s["hi"], color=color, alpha=0.2, lw=0)
        for q in ("q05", "q95"):
            if q in s:
                ax.plot(s["epochs"], s[q], color=color, ls=":", lw=1, label="units' 5–95%" if q == "q05" else None)
    if series:
        s = series[0]
        per = "median over units, " if s["granularity"] == "unit" else ""
        ax.set_title(f"{s['label']}: {per}band over {s['seeds']} seed"
                     f"{'s' if s['seeds'] != 1 else ''})", fontsize="medium")
    from matplotlib.ticker import MaxNLocator

    ax.set(xlabel="epoch", ylabel="value")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    if len(series) <= 6:
        ax.legend(fontsize="x-small", ncol=2 if len(series) > 4 else 1)
    elif len(series) <= 24:  # several layers of a vector parameter: below the plot, in two columns
        ax.legend(fontsize="xx-small", ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    return ax


def plot_learned(results: Mapping[str, Any]) -> Any:
    """A matplotlib Figure, one row per (configuration, activation) that learned; None when none did."""
    from matplotlib.figure import Figure

    found = [(cfg_label, label, group) for cfg_label, runs in by_config(completed(results["runs"])).items()
             for label, group in learning_runs(runs).items()]
    if not found:
        return None
    rows = found[:MAX_ROWS]
    layers = min(2, max(len(g[0]["preact_range"]) for _, _, g in rows))
    params = max(len(g[0]["learning"]) for _, _, g in rows)
    cols = layers + params
    fig = Figure(figsize=(5.2 * cols, 4.4 * len(rows) + 0.6))
    axes = fig.subplots(len(rows), cols, squeeze=False)
    for (cfg_label, label, group), row in zip(rows, axes):
        for layer in range(layers):
            if layer < len(group[0]["preact_range"]):
                draw_function_frames(function_frames(group[0], layer), row[layer])
            else:
                row[layer].set_visible(False)
        series = trajectories(group)
        names = list(group[0]["learning"])
        for k in range(params):
            if k < len(names):
                draw_trajectory([s for s in series if s["param"].split("[")[0] == names[k]], row[layers + k])
            else:
                row[layers + k].set_visible(False)
        row[0].annotate(f"{label} — {cfg_label}", (0, 1), xycoords="axes fraction", xytext=(0, 34),
                        textcoords="offset points", fontsize="medium", weight="bold", va="bottom")
    left = f" ({len(found) - MAX_ROWS} more left out)" if len(found) > MAX_ROWS else ""
    fig.suptitle(f"Learned activations: {network_label(rows[0][2][0].get('config') or {})}{left}")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig
