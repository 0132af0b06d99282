"""Lesson ``collapse``: without a nonlinearity, depth adds nothing.

On the real Fashion-MNIST, through the data layer (:mod:`actviz.bench.data`) and the
training engine (:mod:`actviz.bench.train`), with the same optimiser, epochs and
seeds for all:

* **softmax regression** (``depth=0``: one 784×10 layer);
* an MLP of ``depth`` hidden layers with the **identity** activation;
* the same MLP with each nonlinear activation asked for (default ReLU).

The identity MLP's layers are multiplied out in float64 — ``W = W₁W₂…W_out`` and
the bias pushed through — and the single matrix is checked against the layered
network on the whole test set (largest logit difference, same predictions).  The
accuracy differences are paired by seed and given with a 95% Student-t interval.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from actviz.core.registry import params_json
from actviz.lessons.result import LessonResult, check_seeds, colors, mean_interval, new_figure, resolve_activations

NAME = "collapse"


def _collapse(weights: list[Any], biases: list[Any]) -> tuple[Any, Any]:
    """The one affine map (W, b) of a stack of affine layers (each W (in, out)), in float64."""
    w = weights[0].double()
    b = biases[0].double()
    for wi, bi in zip(weights[1:], biases[1:]):
        w = w @ wi.double()
        b = b @ wi.double() + bi.double()
    return w, b


def _layered_logits(x: Any, weights: list[Any], biases: list[Any]) -> Any:
    h = x
    for wi, bi in zip(weights, biases):
        h = h @ wi.double() + bi.double()
    return h


def run(*, activations: Sequence[Any] | None = None, seeds: int | None = None, epochs: int = 5, depth: int = 3,
        hidden: int = 128, lr: float = 0.001, optimizer: str = "adam", init: str = "torch",
        data_dir: str | None = None, data: Any = None) -> LessonResult:
    """Measure the collapse lesson (``seeds`` training seeds, default 3).

    ``data`` (an :class:`~actviz.bench.data.FashionMNIST`, or anything with its four
    tensors) replaces loading the data set, e.g. a subset in tests.
    """
    from actviz.bench import data as data_layer
    from actviz.core import registry

    t0 = time.perf_counter()
    n = check_seeds(seeds, lesson=NAME)
    nonlinear = [a for a in resolve_activations(activations, ("relu",)) if a.name != "identity"]
    identity = registry.get("identity")
    acts = [identity, *nonlinear]
    ds = data if data is not None else data_layer.load(data_dir)
    seed_list = list(range(n))
    base = dict(epochs=epochs, hidden=hidden, lr=lr, optimizer=optimizer, init=init)
    softmax, mlps = _train_models(acts, ds, base, depth, seed_list)
    models = _models(softmax.runs, mlps.runs, acts, hidden, depth)
    id_runs = [r for r in mlps.runs if r["activation"] == "identity"]
    extras = {"identity_matrix": _collapse(id_runs[0]["weights"], id_runs[0]["biases"])[0].float().numpy(),
              "softmax_matrix": softmax.runs[0]["weights"][0].numpy()}
    data = {
        "models": models,
        "product": _product(ds, id_runs),
        "config": {**base, "depth": depth, "seeds": seed_list, "train": int(ds.train_labels.shape[0]),
                   "test": int(ds.test_labels.shape[0])},
        "seconds_training": softmax.seconds + mlps.seconds,
    }
    return LessonResult(
        name=NAME,
        title=f"collapse — Fashion-MNIST, {epochs} epochs, {optimizer} lr {lr:g}, {n} seed{'s' * (n > 1)}",
        options={"activations": [a.label for a in nonlinear], "seeds": n, **base, "depth": depth},
        columns=["model", "layers", "test acc % [95%]", "Δ vs softmax [95%]"],
        rows=_rows(models, n),
        notes=_notes(data, n),
        data=data,
        seconds=time.perf_counter() - t0,
        caption="test accuracy after the last epoch, mean over seeds with the 95% Student-t interval; Δ: in "
        "percentage points, paired by seed",
        extras=extras,
    )


def _train_models(acts: list[Any], ds: Any, base: dict[str, Any], depth: int,
                  seed_list: list[int]) -> tuple[Any, Any]:
    """Softmax regression and the MLPs of every activation, same settings and seeds, weights kept.

    A run that did not complete (diverged) is an :class:`~actviz.core.errors.ActvizError`; a signal
    during training stops the lesson (:class:`~actviz.core.signals.Interrupted`, its exit code).
    """
    from actviz.bench.train import TrainConfig, train_runs

    from actviz.core import signals

    identity = acts[0]
    softmax = train_runs([identity], ds, TrainConfig(depth=0, **base), seeds=seed_list, keep_weights=True)
    if softmax.interrupted:  # Ctrl-C or a signal: the lesson is interrupted, nothing is written
        raise signals.stopped()
    mlps = train_runs(acts, ds, TrainConfig(depth=depth, **base), seeds=seed_list, keep_weights=True)
    if mlps.interrupted:
        raise signals.stopped()
    for run in [*softmax.runs, *mlps.runs]:
        if run["status"] != "completed":
            from actviz.core.errors import ActvizError

            raise ActvizError(f"collapse: the {run['label']} run of seed {run['seed']} {run['status']} "
                              f"(epoch {run['diverged_epoch']}); try a smaller lr")
    return softmax, mlps


def _final(run: dict[str, Any]) -> float:
    """A run's test accuracy after the last epoch."""
    return float(run["history"][-1]["test_acc"])


def _curve(run: dict[str, Any]) -> list[float]:
    """A run's test accuracy per epoch."""
    return [float(h["test_acc"]) for h in run["history"]]


def _models(softmax: list[dict[str, Any]], mlps: list[dict[str, Any]], acts: list[Any], hidden: int,
            depth: int) -> list[dict[str, Any]]:
    """One entry per model (softmax regression first): accuracies, curves, and the difference to softmax."""
    models: list[dict[str, Any]] = [{
        "model": "softmax regression", "activation": None, "layers": "784-10",
        "test_acc": [_final(r) for r in softmax], "curves": [_curve(r) for r in softmax],
    }]
    for act in acts:
        runs = [r for r in mlps if r["activation"] == act.name and r["params"] == params_json(act)]
        models.append({
            "model": f"{act.label} MLP", "activation": act.label, "name": act.name, "params": params_json(act),
            "layers": f"784-{hidden}×{depth}-10" if depth > 1 else f"784-{hidden}-10",
            "test_acc": [_final(r) for r in runs], "curves": [_curve(r) for r in runs],
        })
    soft = models[0]["test_acc"]
    for m in models:
        m["mean"], m["low"], m["high"] = mean_interval(m["test_acc"])
        diffs = [a - b for a, b in zip(m["test_acc"], soft)]  # paired by seed
        m["vs_softmax"] = dict(zip(("mean", "low", "high"), mean_interval(diffs)))
    return models


def _product(ds: Any, id_runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The identity MLP's layers multiply to one matrix: per run, that matrix checked on the test set."""
    import torch

    x = ds.test_images.reshape(ds.test_images.shape[0], -1).double() / 255
    y = ds.test_labels
    product: list[dict[str, Any]] = []
    for r in id_runs:
        w, b = _collapse(r["weights"], r["biases"])
        layered = _layered_logits(x, r["weights"], r["biases"])
        single = x @ w + b
        product.append({
            "seed": r["seed"],
            "shape": list(w.shape),
            "rank": int(torch.linalg.matrix_rank(w)),
            "max_logit_difference": float((layered - single).abs().max()),
            "max_logit": float(layered.abs().max()),
            "same_predictions": float((layered.argmax(1) == single.argmax(1)).double().mean()),
            "accuracy_single_matrix": float((single.argmax(1) == y).double().mean()),
            "accuracy_engine": _final(r),
        })
    return product


def _rows(models: list[dict[str, Any]], n: int) -> list[list[str]]:
    """The table rows: model, layers, accuracy, difference to softmax regression (intervals when n > 1)."""
    rows = []
    for m in models:
        vs = m["vs_softmax"]
        acc = f"{100 * m['mean']:.2f}" + (f" [{100 * m['low']:.2f}–{100 * m['high']:.2f}]" if n > 1 else "")
        if m is models[0]:
            delta = "—"
        else:
            delta = f"{100 * vs['mean']:+.2f}" + (f" [{100 * vs['low']:+.2f},{100 * vs['high']:+.2f}]" if n > 1 else "")
        rows.append([m["model"], m["layers"], acc, delta])
    return rows


def _notes(d: dict[str, Any], n: int) -> list[str]:
    models = d["models"]
    soft, ident = models[0], models[1]
    diff = ident["vs_softmax"]
    gap = 100 * diff["mean"]
    notes = []
    within = abs(gap) <= 1.0
    notes.append(
        f"The identity MLP ({ident['layers']}) reaches {100 * ident['mean']:.2f}% against softmax regression's "
        f"{100 * soft['mean']:.2f}% ({gap:+.2f} points): "
        + ("within a point, as the argument says — its depth adds nothing a single linear layer cannot do."
           if within else
           "more than a point apart, which the argument does not predict: both are linear classifiers, so the "
           "gap comes from training, not from what the models can represent — a product of matrices trains at a "
           f"different speed than the one matrix it equals (in {d['config']['epochs']} epochs; deep linear networks "
           "can even train faster, Arora, Cohen & Hazan 2018)."))
    p = d["product"]
    worst = max(q["max_logit_difference"] for q in p)
    agree = min(q["same_predictions"] for q in p)
    notes.append(
        f"Its {d['config']['depth'] + 1} weight matrices multiply to one {p[0]['shape'][0]}×"
        f"{p[0]['shape'][1]} matrix (rank {p[0]['rank']}): on the {d['config']['test']} test images the single "
        f"matrix's logits differ from the layered network's by at most {worst:.1e} (float64; logits up to "
        f"{max(q['max_logit'] for q in p):.0f}) and give the same class for {100 * agree:.2f}% of them — "
        + ("it is softmax regression with another parametrisation." if worst < 1e-6 and agree == 1.0 else
           "more than rounding: the product should equal the network; look for a numerical fault."))
    for m in models[2:]:
        vs = m["vs_softmax"]
        lo, hi = 100 * vs["low"], 100 * vs["high"]
        interval = f" (95% interval over {n} seeds [{lo:+.2f}, {hi:+.2f}])" if n > 1 else " (one seed: no interval)"
        shown = round(100 * vs["mean"], 2)  # the verdict reads the number as printed
        if n > 1 and lo > 0:
            verdict = "clearly better — the nonlinearity lets depth build features a linear model cannot"
        elif shown > 0:
            verdict = ("better on average, but the interval does not exclude no difference at these settings"
                       if n > 1 else "better in this one seed; one seed cannot say whether the gap is more than noise")
        elif n > 1 and hi < 0:
            verdict = ("worse at these settings, the interval excluding no difference — against the textbook; with "
                       "this little training the nonlinear network has likely not yet used its extra capacity")
        else:
            verdict = ("not better at these settings, against the textbook; with this little training the "
                       "nonlinear network has likely not yet used its extra capacity")
        notes.append(f"The {m['activation']} MLP reaches {100 * m['mean']:.2f}%, {100 * vs['mean']:+.2f} points "
                     f"over softmax regression{interval}: {verdict}.")
    return notes


def figures(result: LessonResult) -> dict[str, Any]:
    """``accuracy.png``: test accuracy per epoch of every model; the identity MLP's product as 10 templates."""
    import numpy as np

    d = result.data
    fig = new_figure(10.5, 4.6)
    ax = fig.add_axes((0.07, 0.12, 0.42, 0.70))
    pal = colors()
    for i, m in enumerate(d["models"]):
        curves = np.array(m["curves"]) * 100
        ep = np.arange(1, curves.shape[1] + 1)
        style = "--" if m["activation"] is None else "-"
        ax.plot(ep, curves.mean(0), style, color=pal[i], label=f"{m['model']} ({m['mean'] * 100:.1f}%)", marker="o",
                markersize=4)
        if curves.shape[0] > 1:
            ax.fill_between(ep, curves.min(0), curves.max(0), color=pal[i], alpha=0.15, linewidth=0)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.set_xticks(np.arange(1, len(d["models"][0]["curves"][0]) + 1))
    ax.legend(loc="lower right")
    ax.set_title("test accuracy (band: min–max over seeds)")
    w = result.extras.get("identity_matrix")
    soft = result.extras.get("softmax_matrix")
    if w is not None and soft is not None:
        from actviz.bench.data import CLASS_NAMES

        fig.text(0.545, 0.80, "the weights as 28×28 templates (red +, blue −), seed 0", fontsize=10.5)
        classes = (0, 1, 5, 7, 9)
        for r, (mat, label) in enumerate(((w, "identity MLP:\nW₁W₂⋯W_out"), (soft, "softmax\nregression: W"))):
            lim = float(np.percentile(np.abs(mat), 99))
            fig.text(0.545, 0.60 - r * 0.36, label, fontsize=9, ha="left", va="center")
            for k, c in enumerate(classes):
                a = fig.add_axes((0.655 + k * 0.067, 0.45 - r * 0.36, 0.064, 0.30))
                a.imshow(mat[:, c].reshape(28, 28), cmap="RdBu_r", vmin=-lim, vmax=lim)
                a.set_xticks([])
                a.set_yticks([])
                a.grid(False)
                if r == 0:
                    a.set_title(CLASS_NAMES[c], fontsize=8)
    fig.suptitle("collapse: without a nonlinearity an MLP is softmax regression", fontsize=12, y=0.98)
    return {"accuracy.png": fig}
