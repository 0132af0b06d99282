"""The store's pictures say what the store holds: seeds per configuration, chance, honest y-ranges, a cap."""

from __future__ import annotations

import copy

import pytest

from report_stores import make_store

from actviz.bench.summary import summarize_configs
from actviz.render.training import MAX_ROWS, plot_curves, plot_diagnostics
from actviz.results import config_label


def _doc(runs):
    return {"runs": runs, "summary": summarize_configs(runs)}


def _at_chance():
    runs = [copy.deepcopy(r) for r in make_store("configs")["runs"] if r["config"]["depth"] == 1]
    for k, r in enumerate(runs):
        for h in r["history"]:
            h["test_acc"] = h["train_acc"] = 0.098 + 0.001 * (k % 3)
            h["train_loss"] = 2.3026
            h["diagnostics"]["dead"] = [0.007 * (k % 2)]
    return runs


def _sweep(n_configs: int):
    runs = []
    for k in range(n_configs):
        for r in make_store("configs")["runs"]:
            if r["config"]["depth"] != 1 or (k % 2 and r["seed"] == 2):
                continue
            r = copy.deepcopy(r)
            r["config"] = {**r["config"], "lr": 0.01 * (k + 1)}
            r["config_label"] = config_label(r["config"])
            runs.append(r)
    return runs


def test_accuracy_panels_draw_chance_and_do_not_magnify_noise():
    fig = plot_curves(_doc(_at_chance()))
    acc = fig.axes[1]
    chance = [line for line in acc.get_lines() if line.get_label() == "chance (1/10)"]
    assert chance and set(chance[0].get_ydata()) == {0.1}
    low, high = acc.get_ylim()
    assert low <= 0.1 <= high and high - low >= 0.1  # 0.098-0.100 is not spread over the whole panel
    loss = fig.axes[0]
    assert loss.get_ylim()[1] - loss.get_ylim()[0] >= 0.1
    assert any(line.get_label() == "guessing (ln 10)" for line in loss.get_lines())


def test_far_above_chance_the_legend_says_where_chance_is():
    fig = plot_curves(_doc([r for r in make_store("configs")["runs"] if r["config"]["depth"] == 1]))
    labels = fig.axes[1].get_legend_handles_labels()[1]
    assert "chance (1/10): 0.1, below the axis" in labels
    assert fig.axes[1].get_ylim()[0] > 0.5


def test_dead_units_axis_is_chosen_from_the_data():
    fig = plot_diagnostics(_doc(_at_chance()))
    dead = fig.axes[2]
    assert dead.get_ylim()[1] < 0.02  # values up to 0.7%: not a 0-100% axis
    widths = sorted({line.get_linewidth() for line in dead.get_lines()}, reverse=True)
    assert len(widths) >= 2  # coinciding lines: the one below is wider and shows


@pytest.mark.slow
def test_each_configuration_says_how_many_seeds_it_has_and_rows_are_capped():
    n = MAX_ROWS + 2
    fig = plot_curves(_doc(_sweep(n)))
    assert len(fig.axes) == 2 * MAX_ROWS
    texts = [t.get_text() for t in fig.texts]
    suptitle = fig._suptitle.get_text()
    assert f"the first {MAX_ROWS} of {n} configurations; 2 left out" in suptitle
    assert "seeds (" not in suptitle and " 3 seeds" not in suptitle
    assert sum(t.endswith("— 3 seeds") for t in texts) == MAX_ROWS // 2
    assert sum(t.endswith("— 2 seeds") for t in texts) == MAX_ROWS // 2
    fig = plot_diagnostics(_doc(_sweep(n)))
    assert len(fig.axes) == 4 * MAX_ROWS and "2 left out" in fig._suptitle.get_text()


def test_one_epoch_gets_whole_number_epoch_ticks():
    runs = [copy.deepcopy(r) for r in make_store("configs")["runs"] if r["config"]["depth"] == 1]
    for r in runs:
        r["history"] = r["history"][:1]
    for fig in (plot_curves(_doc(runs)), plot_diagnostics(_doc(runs))):
        fig.canvas.draw() if hasattr(fig.canvas, "draw") else None
        for ax in fig.axes:
            if ax.get_xlabel() == "epoch":
                ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
                assert ticks and all(float(t).is_integer() for t in ticks), ticks
