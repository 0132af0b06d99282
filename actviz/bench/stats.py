"""Statistics over seeds for ``actviz compare``: intervals, paired tests, Holm, verdicts.

Every distribution comes from :mod:`scipy.stats` (Student's t for the intervals,
``ttest_rel`` for the paired tests); only Holm's step-down adjustment, a few lines
of arithmetic on the p-values, is written here.

* :func:`describe` — n, mean, sample standard deviation and the 95% Student-t
  confidence interval of the mean (``None`` with fewer than two values).
* :func:`paired` — the paired difference ``a − b`` by seed: its mean, 95% CI and the
  two-sided p-value of the paired t-test.
* :func:`holm` — Holm-Bonferroni adjusted p-values.
* :func:`chance_range` — the accuracies guessing reaches (binomial, 99%): a run inside
  did not learn.
* :func:`compare_groups` — all of it for one configuration: the pairs (Holm-adjusted
  when more than two activations are compared, with intervals that agree with the
  adjusted p-values), win/tie/loss counts and a verdict sentence per activation against
  the best one that learned; equal means are ties, ordered by label, never by argument
  order.

scipy is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from actviz.results.views import mean_of, sample_std

__all__ = ["ALPHA", "CHANCE_LEVEL", "CONFIDENCE", "adjusted_interval", "chance_range", "compare_groups", "describe",
           "holm", "mean", "paired", "verdict_text"]

#: the confidence level of every interval
CONFIDENCE = 0.95
#: the significance level of the verdicts and win/tie/loss counts
ALPHA = 0.05
#: the probability of the range of accuracies that guessing reaches (:func:`chance_range`)
CHANCE_LEVEL = 0.99


def chance_range(classes: int = 10, n_test: int = 10_000) -> tuple[float, float]:
    """The accuracies a model that guesses reaches on ``n_test`` test images, 99% of the time.

    A classifier no better than chance is right on each image with probability
    1/``classes``; its test accuracy is then Binomial(n_test, 1/classes)/n_test, and this
    is that distribution's central 99% interval (Fashion-MNIST: 10 classes, 10,000 test
    images → 9.23%–10.77%).  A run whose final accuracy lies inside did not learn.
    """
    from scipy import stats

    low, high = stats.binom.interval(CHANCE_LEVEL, n_test, 1.0 / classes)
    return float(low) / n_test, float(high) / n_test


def _finite(values: Sequence[float]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def _t_interval(mean: float, sem: float, df: int) -> list[float]:
    from scipy import stats

    if sem == 0.0:
        return [mean, mean]
    low, high = stats.t.interval(CONFIDENCE, df, loc=mean, scale=sem)
    return [float(low), float(high)]


def mean(values: Sequence[float]) -> float:
    """The mean of finite ``values`` (at least one), without overflow even near the largest float."""
    m = mean_of(values)
    if m is None:
        raise ValueError("the mean of no finite values")
    return m


def describe(values: Sequence[float]) -> dict[str, Any]:
    """``{"n", "mean", "std", "ci"}`` of ``values`` (the finite ones).

    ``std`` is the sample standard deviation (n − 1); ``ci`` the 95% Student-t
    interval of the mean, ``[low, high]``, or ``None`` with fewer than two values
    (``std`` is then ``None`` too: one value has no spread to estimate).
    """
    vals = _finite(values)
    n = len(vals)
    if n == 0:
        return {"n": 0, "mean": None, "std": None, "ci": None}
    centre = mean(vals)
    if n < 2:
        return {"n": 1, "mean": centre, "std": None, "ci": None}
    std = sample_std(vals, centre)
    return {"n": n, "mean": centre, "std": std, "ci": _t_interval(centre, std / math.sqrt(n), n - 1)}


def paired(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """The paired difference ``a[i] − b[i]``: ``{"n", "diff_mean", "ci", "p"}``.

    ``p`` is the two-sided p-value of ``scipy.stats.ttest_rel(a, b)`` and ``ci`` the
    95% Student-t interval of the mean difference; both ``None`` with fewer than two
    pairs.  When every difference is the same nonzero value (no spread) the interval
    is that value and ``p`` is 0 (the test's limit).  When every difference is 0 the
    runs are identical and no test is possible: ``p`` is ``None`` (scipy gives NaN)
    and ``identical`` is true.
    """
    if len(a) != len(b):
        raise ValueError("paired samples must have the same length")
    diffs = [float(x) - float(y) for x, y in zip(a, b)]
    n = len(diffs)
    if n == 0:
        return {"n": 0, "diff_mean": None, "ci": None, "p": None}
    mean = math.fsum(diffs) / n
    if n < 2:
        return {"n": 1, "diff_mean": mean, "ci": None, "p": None}
    if max(abs(d) for d in diffs) == 0.0:  # identical runs: t = 0/0, no test possible
        return {"n": n, "diff_mean": 0.0, "ci": [0.0, 0.0], "p": None, "identical": True}
    if max(diffs) - min(diffs) <= 1e-12:  # no spread (up to rounding): the t statistic is ±inf, p its limit 0
        return {"n": n, "diff_mean": mean, "ci": [mean, mean], "p": 0.0 if abs(mean) > 1e-12 else None,
                "identical": abs(mean) <= 1e-12}
    from scipy import stats

    res = stats.ttest_rel(a, b)
    ci = res.confidence_interval(CONFIDENCE)
    return {"n": n, "diff_mean": mean, "ci": [float(ci.low), float(ci.high)], "p": float(res.pvalue)}


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment of a family of p-values (``None`` entries stay ``None``).

    Sorted ascending, p₍ᵢ₎ becomes max over j ≤ i of min(1, (m − j + 1)·p₍ⱼ₎), m the
    number of (non-None) p-values; each is returned in its original position.
    """
    idx = [i for i, p in enumerate(pvalues) if p is not None]
    m = len(idx)
    out: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(sorted(idx, key=lambda i: pvalues[i])):  # type: ignore[arg-type,return-value]
        adj = min(1.0, (m - rank) * float(pvalues[i]))  # type: ignore[arg-type]
        running = max(running, adj)
        out[i] = running
    return out


def _pts(x: float) -> str:
    """An accuracy difference in percentage points, e.g. 0.0071 → '0.7' (never '0.0' for a nonzero one)."""
    return _end(abs(x))


def _end(x: float) -> str:
    """An accuracy (difference) in percentage points to one decimal, with more digits where that reads as 0."""
    text = f"{x * 100:.1f}"
    if x != 0 and float(text) == 0.0:
        text = f"{x * 100:.2g}"
    return text


def _p_text(p: float) -> str:
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.2g}" if p < 0.1 else f"p = {p:.2f}"


def _level_text(level: float) -> str:
    text = f"{level * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def adjusted_interval(pair: Mapping[str, Any], a: Sequence[float], b: Sequence[float]) -> tuple[list[float], float]:
    """The interval of ``pair``'s mean difference that agrees with its Holm-adjusted p-value.

    At level 1 − α·p/p_Holm the interval excludes 0 exactly when ``p_holm`` < α (α = 5%):
    Bonferroni's 1 − α/m for the smallest p-value, 95% where the adjustment left p as it
    was.  Returns ``(ci, level)``.
    """
    p, q = pair.get("p"), pair.get("p_holm")
    if p is None or q is None or pair.get("ci") is None:
        return pair.get("ci"), CONFIDENCE  # type: ignore[return-value]
    ratio = p / q if q > 0 else 1.0 / max(1, int(pair.get("m", 1)))
    level = 1.0 - ALPHA * min(1.0, ratio)
    if level <= CONFIDENCE or pair["ci"][0] == pair["ci"][1]:
        return list(pair["ci"]), max(level, CONFIDENCE)
    from scipy import stats

    ci = stats.ttest_rel(a, b).confidence_interval(level)
    return [float(ci.low), float(ci.high)], level


def verdict_text(label: str, best: str, pair: Mapping[str, Any] | None, n_seeds: int, *, adjusted: bool) -> str:
    """The sentence for ``label`` against ``best``; ``pair`` is ``paired(best, label)`` with ``p_holm``.

    With ``adjusted`` the interval is ``ci_adj`` (at ``ci_level``, see :func:`adjusted_interval`)
    and the p-value Holm's; otherwise the 95% interval and the raw p-value.
    """
    if pair is None or pair.get("diff_mean") is None:
        return f"{label}: no seed in common with {best}; cannot compare"
    d = pair["diff_mean"]  # best − label, in accuracy
    n = pair["n"]
    seeds = f"{n} seed{'s' if n != 1 else ''}"
    if pair.get("identical"):
        return f"{label}: identical to {best} in every one of {seeds} (no test possible: every difference is 0)"
    direction = "below" if d > 0 else "above" if d < 0 else "level with"
    gap = f"{_pts(d)} points {direction} {best}" if d != 0 else f"level with {best}"
    if pair.get("ci") is None or pair.get("p") is None:
        return (f"{label}: {gap} with {seeds}; one seed gives no interval and no test "
                "(run --seeds 3 or more to tell them apart)")
    p = pair["p_holm"] if adjusted and pair.get("p_holm") is not None else pair["p"]
    lo, hi = pair["ci_adj"] if adjusted and pair.get("ci_adj") else pair["ci"]
    level = pair.get("ci_level", CONFIDENCE) if adjusted else CONFIDENCE
    ci = f"{_level_text(level)} CI [{_signed(lo)}, {_signed(hi)}]" + (" (Holm)" if adjusted else "")
    ptxt = _p_text(p) + (" (Holm)" if adjusted else "")
    if p < ALPHA and d != 0:
        return f"{label}: {gap}, {ci}, {ptxt}"
    return f"{label}: not distinguishable from {best} with {seeds}: {gap}, {ci}, {ptxt}"


def _signed(x: float) -> str:
    return ("-" if x < 0 else "") + _end(abs(x))


def _order(finals: Mapping[str, Mapping[int, float]], labels: Sequence[str]) -> list[str]:
    """Labels by mean final accuracy, highest first; equal means by label (never by argument order)."""
    return sorted(labels, key=lambda k: (-mean(list(finals[k].values())), k))


def compare_groups(finals: Mapping[str, Mapping[int, float]],
                   failed: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Pairs, Holm adjustment, win/tie/loss and verdicts for one configuration.

    ``finals`` maps each activation label to ``{seed: final test accuracy}`` of its
    completed runs; ``failed`` maps the labels that did not learn (at chance) to the
    sentence that says so.  Pairs are formed over the seeds both have (the runs are
    paired by seed: the same initial weights and mini-batches).  Returns ``{"best",
    "tied", "pairs", "verdicts", "wins", "adjusted"}``:

    * ``best`` — the highest mean among the labels that learned (equal means: the first
      by label), ``None`` when none learned; ``tied`` — every label with exactly that mean;
    * ``pairs`` — one per unordered pair, ``a`` − ``b`` (``a`` first in label order):
      ``diff_mean``, ``ci`` (95%), ``p`` (``None`` when no test is possible), ``p_holm``
      (= ``p`` with two activations), ``ci_adj`` and ``ci_level`` (the interval that
      agrees with ``p_holm``), ``identical``, ``n``;
    * ``wins`` — win/tie/loss per label (a win: significant at 5% after the adjustment),
      only with three or more activations and at least one test possible;
    * ``adjusted`` — whether Holm's adjustment was applied (more than one test);
    * ``verdicts`` — ``label`` and ``text`` per activation, best first.
    """
    failed = dict(failed or {})
    labels = sorted(k for k, v in finals.items() if v)
    pairs: list[dict[str, Any]] = []
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            common = sorted(set(finals[a]) & set(finals[b]))
            res = paired([finals[a][s] for s in common], [finals[b][s] for s in common])
            pairs.append({"a": a, "b": b, "identical": False, **res, "seeds": common})
    tested = [p["p"] for p in pairs if p["p"] is not None]
    adjusted = len(labels) > 2 and len(tested) > 1
    adj = holm([p["p"] for p in pairs]) if adjusted else [p["p"] for p in pairs]
    for p, h in zip(pairs, adj):
        p["p_holm"] = h
        p["m"] = len(tested)
        p["ci_adj"], p["ci_level"] = adjusted_interval(p, [finals[p["a"]][s] for s in p["seeds"]],
                                                        [finals[p["b"]][s] for s in p["seeds"]])
        del p["m"], p["seeds"]
    learning = _order(finals, [k for k in labels if k not in failed])
    best = learning[0] if learning else None
    top = mean(list(finals[best].values())) if best else None
    tied = [k for k in learning if mean(list(finals[k].values())) == top]
    wins = _wins(labels, pairs) if len(labels) >= 3 and tested else {}
    verdicts: list[dict[str, Any]] = []
    for label in learning:
        if label in tied:
            verdicts.append({"label": label, "text": _top_text(label, tied, top, len(labels))})  # type: ignore[arg-type]
            continue
        pair = _oriented(pairs, best, label)  # type: ignore[arg-type]
        verdicts.append({"label": label, "text": verdict_text(label, best, pair, len(finals[label]),  # type: ignore[arg-type]
                                                              adjusted=adjusted)})
    for label in _order(finals, [k for k in labels if k in failed]):
        verdicts.append({"label": label, "text": failed[label]})
    return {"best": best, "tied": tied, "pairs": pairs, "verdicts": verdicts, "wins": wins, "adjusted": adjusted}


def _top_text(label: str, tied: Sequence[str], top: float, n_labels: int) -> str:
    if len(tied) > 1:
        others = ", ".join(t for t in tied if t != label)
        return f"{label}: tied for the highest mean test accuracy ({_end(top)}%) with {others}"
    text = f"{label}: the highest mean test accuracy ({_end(top)}%)"
    return text + ("; nothing to compare it with" if n_labels == 1 else "")


def _wins(labels: Sequence[str], pairs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    wins = {label: {"win": 0, "tie": 0, "loss": 0} for label in labels}
    for p in pairs:
        q = p["p_holm"]
        if q is not None and q < ALPHA and p["diff_mean"]:
            winner, loser = (p["a"], p["b"]) if p["diff_mean"] > 0 else (p["b"], p["a"])
            wins[winner]["win"] += 1
            wins[loser]["loss"] += 1
        else:
            wins[p["a"]]["tie"] += 1
            wins[p["b"]]["tie"] += 1
    return wins


def _oriented(pairs: Sequence[Mapping[str, Any]], a: str, b: str) -> dict[str, Any] | None:
    """The pair (a, b) with ``diff_mean`` and the intervals as a − b, whichever way it was stored."""
    for p in pairs:
        if p["a"] == a and p["b"] == b:
            return dict(p)
        if p["a"] == b and p["b"] == a:
            q = dict(p, a=a, b=b)
            if q["diff_mean"] is not None:
                q["diff_mean"] = -q["diff_mean"]
            for key in ("ci", "ci_adj"):
                if q.get(key) is not None:
                    q[key] = [-q[key][1], -q[key][0]]
            return q
    return None
