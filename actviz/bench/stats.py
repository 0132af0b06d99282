"""Statistics over seeds for ``actviz compare``: intervals, paired tests, Holm, verdicts.

Every distribution comes from :mod:`scipy.stats` (Student's t for the intervals,
``ttest_rel`` for the paired tests); only Holm's step-down adjustment, a few lines
of arithmetic on the p-values, is written here.

* :func:`describe` — n, mean, sample standard deviation and the 95% Student-t
  confidence interval of the mean (``None`` with fewer than two values).
* :func:`paired` — the paired difference ``a − b`` by seed: its mean, 95% CI and the
  two-sided p-value of the paired t-test.
* :func:`holm` — Holm-Bonferroni adjusted p-values.
* :func:`compare_groups` — all of it for one configuration: the pairs (Holm-adjusted
  when more than two activations are compared), win/tie/loss counts and a verdict
  sentence per activation against the best one.

scipy is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ALPHA", "CONFIDENCE", "compare_groups", "describe", "holm", "mean", "paired", "verdict_text"]

#: the confidence level of every interval
CONFIDENCE = 0.95
#: the significance level of the verdicts and win/tie/loss counts
ALPHA = 0.05


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
    n = len(values)
    try:
        return math.fsum(values) / n
    except OverflowError:  # an intermediate sum past 1.8e308: the terms divided first stay finite
        return math.fsum(v / n for v in values)


def _std(vals: Sequence[float], centre: float) -> float:
    """The sample standard deviation around ``centre``, scaled so that squaring cannot overflow."""
    scale = max(abs(v - centre) for v in vals)
    if scale == 0.0 or not math.isfinite(scale):
        return scale if math.isfinite(scale) else math.inf
    return scale * math.sqrt(math.fsum(((v - centre) / scale) ** 2 for v in vals) / (len(vals) - 1))


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
    std = _std(vals, centre)
    return {"n": n, "mean": centre, "std": std, "ci": _t_interval(centre, std / math.sqrt(n), n - 1)}


def paired(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """The paired difference ``a[i] − b[i]``: ``{"n", "diff_mean", "ci", "p"}``.

    ``p`` is the two-sided p-value of ``scipy.stats.ttest_rel(a, b)`` and ``ci`` the
    95% Student-t interval of the mean difference; both ``None`` with fewer than two
    pairs.  When every difference is the same (no spread) the interval is that
    value and ``p`` is 1 if it is 0, else 0 (the test's limit; scipy returns NaN or
    a meaningless value from rounding).
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
    if max(diffs) - min(diffs) <= 1e-12:  # no spread (up to rounding): the t statistic is 0/0 or ±inf
        return {"n": n, "diff_mean": mean, "ci": [mean, mean], "p": 1.0 if abs(mean) <= 1e-12 else 0.0}
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
    """An accuracy difference in percentage points, e.g. 0.0071 → '0.7'."""
    return f"{abs(x) * 100:.1f}" if abs(x) * 100 >= 0.05 else "0.0"


def _p_text(p: float) -> str:
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.2g}" if p < 0.1 else f"p = {p:.2f}"


def verdict_text(label: str, best: str, pair: Mapping[str, Any] | None, n_seeds: int, *, adjusted: bool) -> str:
    """The sentence for ``label`` against ``best``; ``pair`` is ``paired(best, label)`` with ``p_holm``."""
    if pair is None or pair.get("diff_mean") is None:
        return f"{label}: no seed in common with {best}; cannot compare"
    d = pair["diff_mean"]  # best − label, in accuracy
    n = pair["n"]
    seeds = f"{n} seed{'s' if n != 1 else ''}"
    direction = "below" if d > 0 else "above" if d < 0 else "level with"
    gap = f"{_pts(d)} points {direction} {best}" if d != 0 else f"level with {best}"
    if pair.get("ci") is None or pair.get("p") is None:
        return (f"{label}: {gap} with {seeds}; one seed gives no interval and no test "
                "(run --seeds 3 or more to tell them apart)")
    p = pair["p_holm"] if adjusted and pair.get("p_holm") is not None else pair["p"]
    lo, hi = pair["ci"]
    ci = f"95% CI [{lo * 100:.1f}, {hi * 100:.1f}]"
    ptxt = _p_text(p) + (" (Holm)" if adjusted else "")
    if p < ALPHA and d != 0:
        return f"{label}: {gap}, {ci}, {ptxt}"
    return f"{label}: not distinguishable from {best} with {seeds}: {gap}, {ci}, {ptxt}"


def compare_groups(finals: Mapping[str, Mapping[int, float]]) -> dict[str, Any]:
    """Pairs, Holm adjustment, win/tie/loss and verdicts for one configuration.

    ``finals`` maps each activation label (in display order) to ``{seed: final test
    accuracy}`` of its completed runs.  Pairs are formed over the seeds both have (the
    runs are paired by seed: the same initial weights and mini-batches).  Returns
    ``{"best", "pairs", "verdicts", "wins", "adjusted"}``: ``pairs`` has one entry per
    unordered pair, ``a`` the one listed first, with ``diff_mean`` = a − b, ``ci``,
    ``p``, ``p_holm`` (= ``p`` when only two activations are compared) and ``n``;
    ``wins`` maps each label to ``{"win", "tie", "loss"}`` (a win is a difference
    significant at 5% after the adjustment) and is empty with fewer than three
    activations; ``verdicts`` has ``label`` and ``text`` per activation.
    """
    labels = [k for k, v in finals.items() if v]
    adjusted = len(labels) > 2
    pairs: list[dict[str, Any]] = []
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            common = sorted(set(finals[a]) & set(finals[b]))
            res = paired([finals[a][s] for s in common], [finals[b][s] for s in common])
            pairs.append({"a": a, "b": b, **res})
    adj = holm([p["p"] for p in pairs]) if adjusted else [p["p"] for p in pairs]
    for p, h in zip(pairs, adj):
        p["p_holm"] = h

    def mean(label: str) -> float:
        vals = list(finals[label].values())
        return math.fsum(vals) / len(vals)

    best = max(labels, key=mean) if labels else None
    wins: dict[str, dict[str, int]] = {}
    if len(labels) >= 3:
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
    verdicts: list[dict[str, Any]] = []
    for label in labels:
        if label == best:
            text = f"{label}: the highest mean test accuracy ({mean(label) * 100:.1f}%)"
            if len(labels) == 1:
                text += "; nothing to compare it with"
            verdicts.append({"label": label, "text": text})
            continue
        pair = _oriented(pairs, best, label)  # type: ignore[arg-type]
        n = len(finals[label])
        verdicts.append({"label": label, "text": verdict_text(label, best, pair, n, adjusted=adjusted)})  # type: ignore[arg-type]
    return {"best": best, "pairs": pairs, "verdicts": verdicts, "wins": wins, "adjusted": adjusted}


def _oriented(pairs: Sequence[Mapping[str, Any]], a: str, b: str) -> dict[str, Any] | None:
    """The pair (a, b) with ``diff_mean`` and ``ci`` as a − b, whichever way it was stored."""
    for p in pairs:
        if p["a"] == a and p["b"] == b:
            return dict(p)
        if p["a"] == b and p["b"] == a:
            q = dict(p, a=a, b=b)
            if q["diff_mean"] is not None:
                q["diff_mean"] = -q["diff_mean"]
            if q["ci"] is not None:
                q["ci"] = [-q["ci"][1], -q["ci"][0]]
            return q
    return None
