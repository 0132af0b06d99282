"""actviz.bench.stats against scipy.stats on known numbers, Holm by hand, the verdict sentences."""

from __future__ import annotations

import json
import math

import pytest
from scipy import stats as sps

from actviz.bench import stats
from actviz.bench.summary import summarize_configs
from actviz.core.jsonsafe import json_data

ACC = [0.8323, 0.8412, 0.8460, 0.8391, 0.8368]


def test_describe_matches_scipy_t_interval():
    d = stats.describe(ACC)
    n = len(ACC)
    mean = sum(ACC) / n
    sd = math.sqrt(sum((a - mean) ** 2 for a in ACC) / (n - 1))
    lo, hi = sps.t.interval(0.95, n - 1, loc=mean, scale=sd / math.sqrt(n))
    assert d["n"] == 5
    assert d["mean"] == pytest.approx(mean, abs=1e-15)
    assert d["std"] == pytest.approx(sd, rel=1e-12)
    assert d["ci"] == pytest.approx([lo, hi], rel=1e-12)
    # the textbook value: t(0.975, 4) = 2.7764451
    assert (hi - mean) / (sd / math.sqrt(n)) == pytest.approx(2.7764451, rel=1e-6)


def test_describe_one_seed_has_no_interval():
    assert stats.describe([0.83]) == {"n": 1, "mean": 0.83, "std": None, "ci": None}
    assert stats.describe([]) == {"n": 0, "mean": None, "std": None, "ci": None}
    assert stats.describe([0.5, float("nan"), 0.7])["n"] == 2


def test_paired_matches_ttest_rel():
    a = [0.8323, 0.8412, 0.8460]
    b = [0.8185, 0.8301, 0.8433]
    res = stats.paired(a, b)
    ref = sps.ttest_rel(a, b)
    ci = ref.confidence_interval(0.95)
    assert res["n"] == 3
    assert res["diff_mean"] == pytest.approx(sum(x - y for x, y in zip(a, b)) / 3)
    assert res["p"] == pytest.approx(ref.pvalue, rel=1e-12)
    assert res["ci"] == pytest.approx([ci.low, ci.high], rel=1e-12)
    # by hand: d = (0.0138, 0.0111, 0.0027), mean 0.0092, sd 0.005787, t = 2.7536, df 2
    assert ref.statistic == pytest.approx(2.7536, rel=1e-3)
    assert res["p"] == pytest.approx(2 * sps.t.sf(2.7536, 2), rel=1e-3)


def test_paired_degenerate_cases():
    assert stats.paired([0.8], [0.7])["ci"] is None and stats.paired([0.8], [0.7])["p"] is None
    same = stats.paired([0.8, 0.9], [0.7, 0.8])  # every difference 0.1: no spread
    assert same["ci"] == pytest.approx([0.1, 0.1]) and same["p"] == 0.0
    identical = stats.paired([0.8, 0.9], [0.8, 0.9])
    assert identical["p"] is None and identical["identical"] is True  # no test possible, not p = 1
    with pytest.raises(ValueError):
        stats.paired([1, 2], [1])


def test_holm_step_down():
    # sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → monotone 0.06
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([0.5, None, 0.6]) == [pytest.approx(1.0), None, pytest.approx(1.0)]
    assert stats.holm([]) == []
    assert stats.holm([0.02]) == [0.02]


def test_holm_is_never_below_raw_nor_above_bonferroni():
    ps = [0.001, 0.2, 0.03, 0.049, 0.7]
    for p, h in zip(ps, stats.holm(ps)):
        assert p <= h <= min(1.0, p * len(ps))


def test_compare_groups_verdicts_and_wins():
    finals = {
        "relu": {0: 0.840, 1: 0.846, 2: 0.843},
        "tanh": {0: 0.833, 1: 0.838, 2: 0.836},
        "sigmoid": {0: 0.800, 1: 0.806, 2: 0.801},
    }
    res = stats.compare_groups(finals)
    assert res["best"] == "relu" and res["adjusted"] is True
    assert len(res["pairs"]) == 3
    raw = [p["p"] for p in res["pairs"]]
    assert [p["p_holm"] for p in res["pairs"]] == pytest.approx(stats.holm(raw))
    rt = next(p for p in res["pairs"] if (p["a"], p["b"]) == ("relu", "tanh"))
    assert rt["p"] == pytest.approx(sps.ttest_rel([0.840, 0.846, 0.843], [0.833, 0.838, 0.836]).pvalue)
    texts = {v["label"]: v["text"] for v in res["verdicts"]}
    assert texts["relu"].startswith("relu: the highest mean test accuracy (84.3%)")
    assert texts["sigmoid"].startswith("sigmoid: 4.1 points below relu, 98.3% CI [")  # Bonferroni for the smallest p
    assert "p = " in texts["sigmoid"] or "p < 0.001" in texts["sigmoid"]
    assert res["wins"]["sigmoid"]["loss"] == 2 and res["wins"]["relu"]["loss"] == 0
    assert sum(w["win"] for w in res["wins"].values()) == sum(w["loss"] for w in res["wins"].values())


def test_verdict_not_distinguishable_and_one_seed():
    noisy = {"relu": {0: 0.832, 1: 0.846, 2: 0.839}, "tanh": {0: 0.819, 1: 0.843, 2: 0.841}}
    res = stats.compare_groups(noisy)
    text = next(v["text"] for v in res["verdicts"] if v["label"] == "tanh")
    assert text.startswith("tanh: not distinguishable from relu with 3 seeds")
    assert "95% CI [" in text and "(Holm)" not in text  # two activations: no adjustment
    assert res["wins"] == {}
    one = stats.compare_groups({"relu": {0: 0.8323}, "tanh": {0: 0.8185}})
    text = next(v["text"] for v in one["verdicts"] if v["label"] == "tanh")
    assert "1.4 points below relu with 1 seed" in text and "no interval" in text


# --------------------------------------------------------------------------- verdicts that say what the data say


def _run(label: str, seed: int, acc: float, *, config_label: str = "defaults", grad=(1.0, 1.0), dead=0.0,
         loss=0.4) -> dict:
    diag = {"dead": [dead], "saturated": [0.0], "grad_norm": list(grad)}
    return {"activation": label.split("(")[0], "label": label, "params": {}, "seed": seed, "status": "completed",
            "epochs_completed": 1, "config_label": config_label, "config": {"depth": 1},
            "history": [{"epoch": 1, "test_acc": acc, "train_acc": acc, "train_loss": loss, "time": 1.0,
                         "diagnostics": diag}]}


def _verdicts(entry: dict) -> dict[str, str]:
    return {v["label"]: v["text"] for v in entry["verdicts"]}


@pytest.mark.parametrize("order", [("sigmoid", "relu"), ("relu", "sigmoid")])
def test_no_highest_when_every_model_is_at_chance(order):
    runs = [_run(label, seed, 0.1, grad=(1e-9, 0.05), loss=2.3026) for label in order for seed in range(3)]
    entry = summarize_configs(runs)[0]
    assert entry["best"] is None and entry["wins"] == {} and entry["adjusted"] is False
    texts = _verdicts(entry)
    assert "highest" not in " ".join(texts.values())
    for label in order:
        assert texts[label].startswith(f"{label}: not learning: at chance in every seed (10.00%")
        assert "vanishing gradients" in texts[label] and "inside guessing's 9.23–10.78%" in texts[label]
    assert [v["label"] for v in entry["verdicts"]] == ["relu", "sigmoid"]  # by label, whatever the order given


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_bit_identical_runs_are_a_tie_and_no_test(order):
    labels = ["relu", "leaky_relu(negative_slope=0)"]
    accs = [0.84, 0.85, 0.83]
    runs = [_run(labels[i], s, a) for i in order for s, a in enumerate(accs)]
    entry = summarize_configs(runs)[0]
    texts = _verdicts(entry)
    assert entry["best"] == "leaky_relu(negative_slope=0)" and entry["tied"] == sorted(labels)
    assert texts["relu"] == "relu: tied for the highest mean test accuracy (84.0%) with leaky_relu(negative_slope=0)"
    (pair,) = entry["pairs"]
    assert pair["p"] is None and pair["p_holm"] is None and pair["identical"] is True
    assert "p = 1" not in json.dumps(entry) and '"p": null' in json.dumps(json_data(entry, nonfinite="null"))


def test_identical_runs_say_no_test_possible():
    res = stats.compare_groups({"c": {0: 0.9, 1: 0.95}, "a": {0: 0.84, 1: 0.85}, "b": {0: 0.84, 1: 0.85}})
    ab = next(p for p in res["pairs"] if (p["a"], p["b"]) == ("a", "b"))
    assert ab["p"] is None and ab["p_holm"] is None and ab["identical"]
    assert _verdicts(res)["b"].startswith("b: not distinguishable from c") or "below c" in _verdicts(res)["b"]
    pair = {"n": 2, "diff_mean": 0.0, "ci": [0.0, 0.0], "p": None, "p_holm": None, "identical": True}
    text = stats.verdict_text("b", "a", pair, 2, adjusted=True)
    assert text == "b: identical to a in every one of 2 seeds (no test possible: every difference is 0)"


def test_a_model_at_chance_is_not_learning_and_the_other_is_not_crowned_by_default():
    runs = [_run("relu", s, 0.1, dead=1.0, grad=(0.0, 0.0), loss=2.3026) for s in range(3)]
    runs += [_run("tanh", s, a, loss=2.31) for s, a in enumerate([0.1, 0.1, 0.2])]
    entry = summarize_configs(runs)[0]
    texts = _verdicts(entry)
    assert entry["best"] == "tanh"
    assert texts["tanh"] == "tanh: the highest mean test accuracy (13.3%) (2 of 3 seeds at chance)"
    assert texts["relu"].startswith("relu: not learning: at chance in every seed")
    assert "dead units (100% of hidden units never active)" in texts["relu"]


def test_rows_are_sorted_by_mean_accuracy_then_label():
    runs = [_run(label, s, acc + s / 1000) for label, acc in [("tanh", 0.8), ("relu", 0.84), ("gelu", 0.84),
                                                             ("sigmoid", 0.82)] for s in range(2)]
    entry = summarize_configs(runs)[0]
    assert [r["label"] for r in entry["activations"]] == ["gelu", "relu", "sigmoid", "tanh"]
    assert [v["label"] for v in entry["verdicts"]] == ["gelu", "relu", "sigmoid", "tanh"]


def test_adjusted_intervals_agree_with_the_holm_p_values():
    import random

    rng = random.Random(7)
    for _ in range(60):
        finals = {name: {s: 0.8 + shift + rng.gauss(0, 0.01) for s in range(4)}
                  for name, shift in zip("abcd", [rng.uniform(0, 0.03) for _ in range(4)])}
        res = stats.compare_groups(finals)
        for p in res["pairs"]:
            low, high = p["ci_adj"]
            assert (low > 0 or high < 0) == (p["p_holm"] < stats.ALPHA), p
            assert p["ci_level"] >= stats.CONFIDENCE
            assert low <= p["ci"][0] and high >= p["ci"][1]  # wider than the raw interval, never narrower


def test_an_interval_end_that_excludes_zero_is_never_printed_as_zero():
    pair = {"n": 3, "diff_mean": 0.004, "ci": [0.0003, 0.0077], "p": 0.03, "p_holm": 0.03, "identical": False}
    text = stats.verdict_text("tanh", "relu", pair, 3, adjusted=False)
    assert "95% CI [0.03, 0.8]" in text and "[0.0," not in text


def test_one_seed_has_no_win_tie_loss_and_no_holm():
    res = stats.compare_groups({"a": {0: 0.8}, "b": {0: 0.7}, "c": {0: 0.75}})
    assert res["wins"] == {} and res["adjusted"] is False
    assert all(p["p"] is None for p in res["pairs"])


def test_chance_range_is_the_binomial_99_percent_interval():
    low, high = stats.chance_range()
    assert (low, high) == (0.0923, 0.1078)
    inside = sps.binom.cdf(1078, 10_000, 0.1) - sps.binom.cdf(922, 10_000, 0.1)
    assert 0.99 <= inside < 0.995


# --------------------------------------------------------------------------- sweeps


def test_a_sweep_names_each_activations_best_configuration_and_the_best_overall():
    from report_stores import make_store

    from actviz.bench.summary import sweep

    summary = summarize_configs(make_store("configs")["runs"])
    res = sweep(summary)
    assert res["configurations"] == ["depth=1", "depth=2"] and res["common"] == "epochs=3, hidden=64"
    assert res["activations"][0] == "leaky_relu(negative_slope=0.1)"
    per = {p["label"]: p for p in res["per_activation"]}
    assert per["relu"]["best"] == "depth=1"
    assert per["relu"]["text"].startswith("relu: best at [depth=1] (81.30%); above [depth=2] (paired by seed, 5%)")
    assert res["overall"]["label"] == "leaky_relu(negative_slope=0.1)" and res["overall"]["configuration"] == "depth=1"
    cell = res["cells"]["tanh"]["depth=2"]
    row = next(r for r in summary[1]["activations"] if r["label"] == "tanh")
    assert cell == {"mean": row["test_acc_mean"], "ci": row["test_acc_ci"], "n": 3}
    assert sweep(summary[:1]) is None


def test_a_sweep_where_nothing_learned_names_no_best():
    from actviz.bench.summary import sweep

    runs = [_run(label, s, 0.1, config_label=cfg, loss=2.3026) for cfg in ("a", "b") for label in ("relu", "tanh")
            for s in range(3)]
    res = sweep(summarize_configs(runs))
    assert res["overall"]["label"] is None and "no configuration learned" in res["overall"]["text"]
    assert all(p["best"] is None for p in res["per_activation"])


def test_a_sweep_between_indistinguishable_configurations_says_so():
    from actviz.bench.summary import sweep

    runs = [_run("relu", s, a, config_label=cfg) for cfg, accs in (("a", [0.80, 0.84, 0.82]), ("b", [0.83, 0.80, 0.82]))
            for s, a in enumerate(accs)]
    for r in runs:
        r["config"] = {"depth": 1 if r["config_label"] == "a" else 2}
    (per,) = sweep(summarize_configs(runs))["per_activation"]
    assert "not distinguishable from [depth=" in per["text"]


def _rendered(summary) -> str:
    import io

    from rich.console import Console

    from actviz.render.summary import rich_blocks

    console = Console(width=80, file=io.StringIO())
    for block in rich_blocks(summary, width=80):
        console.print(block)
    return " ".join(console.file.getvalue().split())


def test_no_completed_run_says_so_instead_of_zero_seeds():
    run = _run("relu", 0, 0.8)
    run["status"] = "interrupted"
    text = _rendered(summarize_configs([run]))
    assert "no completed run: no statistics" in text and "0 seeds" not in text and "one seed" not in text
    assert "relu: no completed run (interrupted); not compared" in text


def test_a_clipped_interval_says_it_is_cut():
    runs = [_run(label, s, a) for label, accs in (("relu", [0.999, 0.97, 0.999]), ("tanh", [0.8, 0.81, 0.79]))
            for s, a in enumerate(accs)]
    summary = summarize_configs(runs)
    relu = next(r for r in summary[0]["activations"] if r["label"] == "relu")
    assert relu["test_acc_ci"][1] == 1.0 and relu["test_acc_ci_clipped"] is True
    assert "Student t over seeds, cut at 0 or 100% (relu)" in _rendered(summary)
