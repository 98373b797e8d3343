"""Summaries of raw timing samples: median with a distribution-free interval,
IQR, coefficient of variation and pyperf's stability checks."""

from __future__ import annotations

from math import comb

import numpy as np

CI_LEVEL = 0.95
CI_METHOD = "order statistics (binomial, distribution-free)"


def _half_binomial_cdf(k: int, n: int) -> float:
    """P(Binomial(n, 1/2) <= k), exactly. Not scipy.stats.binom: this module is
    imported by every measured process's parent, and scipy.stats costs a second there."""
    return sum(comb(n, i) for i in range(k + 1)) / 2**n


def median_ci(values: np.ndarray, level: float = CI_LEVEL) -> tuple[float, float, float]:
    """Interval ``[x(r), x(n+1-r)]`` around the median, with its exact coverage.

    The coverage of order statistics around the median does not depend on the
    distribution of the samples: ``1 - 2 * P(Binomial(n, 1/2) <= r - 1)``. The
    widest ``r`` whose coverage still reaches ``level`` is chosen; with too few
    samples the whole range is returned and the lower coverage reported.
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if n == 0:
        raise ValueError("no samples")
    alpha = 1.0 - level
    r = 1
    for candidate in range(1, n // 2 + 1):
        if _half_binomial_cdf(candidate - 1, n) <= alpha / 2:
            r = candidate
        else:
            break
    coverage = 1.0 - 2.0 * _half_binomial_cdf(r - 1, n)
    return float(x[r - 1]), float(x[n - r]), float(coverage)


def stability(values: np.ndarray) -> list[str]:
    """pyperf's checks: std >= 10% of the mean, min or max >= 50% away from it."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return ["fewer than 2 samples"]
    mean, std = float(x.mean()), float(x.std(ddof=1))
    reasons = []
    if mean > 0 and std >= 0.10 * mean:
        reasons.append(f"standard deviation is {100 * std / mean:.0f}% of the mean")
    if mean > 0 and x.min() <= 0.5 * mean:
        reasons.append(f"minimum is {100 * (1 - x.min() / mean):.0f}% below the mean")
    if mean > 0 and x.max() >= 1.5 * mean:
        reasons.append(f"maximum is {100 * (x.max() / mean - 1):.0f}% above the mean")
    return reasons


def summarize(values) -> dict:
    """Everything the site shows about one metric; the raw samples stay beside it."""
    x = np.asarray(values, dtype=float)
    if len(x) == 0 or not np.all(np.isfinite(x)):
        raise ValueError("samples must be a non-empty list of finite numbers")
    q1, median, q3, p90, p99 = (float(v) for v in np.percentile(x, [25, 50, 75, 90, 99]))
    low, high, coverage = median_ci(x)
    mean = float(x.mean())
    std = float(x.std(ddof=1)) if len(x) > 1 else 0.0
    reasons = stability(x)
    return {
        "n": int(len(x)),
        "median": median,
        "q1": q1,
        "q3": q3,
        "iqr": q3 - q1,
        # tail percentiles: per-request latency for latency cases
        "p90": p90,
        "p99": p99,
        "mean": mean,
        "std": std,
        # undefined for a zero mean; JSON has no NaN
        "cv": std / mean if mean else (0.0 if std == 0 else None),
        "min": float(x.min()),
        "max": float(x.max()),
        "ci_low": low,
        "ci_high": high,
        "ci_coverage": coverage,
        "unstable": bool(reasons),
        "unstable_reasons": reasons,
    }


BOOTSTRAP_RESAMPLES = 2000


def ratio_interval(a, b, level: float = CI_LEVEL, seed: int = 0) -> tuple[float, float, float]:
    """Ratio of medians ``median(a) / median(b)`` with a percentile bootstrap interval
    (each group resampled independently; a fixed seed makes pages reproducible)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    rng = np.random.default_rng(seed)
    ra = np.median(rng.choice(a, (BOOTSTRAP_RESAMPLES, len(a))), axis=1)
    rb = np.median(rng.choice(b, (BOOTSTRAP_RESAMPLES, len(b))), axis=1)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(ra / rb, [tail, 100 - tail])
    return float(np.median(a) / np.median(b)), float(low), float(high)


def compare(a, b, threshold: float = 1.1, alpha: float = 0.05) -> dict:
    """Is ``a`` larger than ``b`` (say, throughput)? A difference is claimed only when
    the ratio of medians is beyond ``threshold`` either way *and* the two-sided
    Mann-Whitney U test rejects equal distributions at ``alpha``."""
    from scipy.stats import mannwhitneyu

    ratio, low, high = ratio_interval(a, b)
    p_value = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
    large = ratio >= threshold or ratio <= 1 / threshold
    verdict = ("higher" if ratio > 1 else "lower") if large and p_value < alpha else "no measurable difference"
    return {"ratio": ratio, "ci_low": low, "ci_high": high, "p_value": p_value, "verdict": verdict,
            "threshold": threshold, "alpha": alpha}
