"""actviz.bench.stats against scipy.stats on known numbers, Holm by hand, the verdict sentences."""

from __future__ import annotations

import math

import pytest
from scipy import stats as sps

from actviz.bench import stats

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
    assert stats.paired([0.8, 0.9], [0.8, 0.9])["p"] == 1.0
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
    assert texts["sigmoid"].startswith("sigmoid: 4.1 points below relu, 95% CI [")
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
