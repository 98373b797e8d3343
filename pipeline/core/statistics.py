"""Summaries of raw timing samples: median with an interval, IQR, coefficient of
variation and stability checks.

Samples come from several fresh processes, and processes differ more than the
samples within one (the machine's state, the compiler's choices, the memory
layout). So the process is the unit of replication: with two or more, the
interval is a hierarchical bootstrap (resample processes, then samples within
each), and the stability flag is driven by the spread between process medians.
One process alone gets the distribution-free interval of its samples and
pyperf's checks. Beside the interval of the median, ``repeat_interval`` says where
another run's median should land (what a reader repeating the run can check), and
``process_test`` tests a difference with one value per process; both, and the paired
ratio of a claim, take the workload's pooled between-process noise where there is one
(:mod:`pipeline.core.noise`)."""

from __future__ import annotations

from functools import lru_cache
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


BOOTSTRAP_RESAMPLES = 2000
#: The largest process median more than this far above the smallest makes a metric unstable.
BETWEEN_LIMIT = 0.10
HIERARCHICAL_METHOD = "hierarchical bootstrap (processes, then samples within each)"


def split(values, groups: list[int] | None) -> list[np.ndarray]:
    """Pooled samples -> one array per process (``groups``: samples per process, in order)."""
    x = np.asarray(values, dtype=float)
    if not groups or sum(groups) != len(x):
        return [x]
    return np.split(x, np.cumsum(groups)[:-1])


def process_logs(values, groups: list[int] | None) -> np.ndarray | None:
    """The log of each process's median; None with fewer than two processes or a median
    that is not positive."""
    parts = [p for p in split(values, groups) if len(p)]
    if len(parts) < 2:
        return None
    medians = np.array([np.median(p) for p in parts])
    return None if np.any(medians <= 0) else np.log(medians)


def _hierarchical_medians(parts: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Bootstrap medians: each replicate draws processes with replacement, then
    samples with replacement within each drawn process, and pools them."""
    k, width = len(parts), max(len(p) for p in parts)
    # every process resampled once per replicate, padded to one width with NaN
    drawn = np.full((k, BOOTSTRAP_RESAMPLES, width), np.nan)
    for i, p in enumerate(parts):
        drawn[i, :, :len(p)] = p[rng.integers(0, len(p), (BOOTSTRAP_RESAMPLES, len(p)))]
    picks = rng.integers(0, k, (BOOTSTRAP_RESAMPLES, k))
    pooled = drawn[picks, np.arange(BOOTSTRAP_RESAMPLES)[:, None]].reshape(BOOTSTRAP_RESAMPLES, -1)
    return np.nanmedian(pooled, axis=1)


def hierarchical_ci(parts: list[np.ndarray], level: float = CI_LEVEL, seed: int = 0) -> tuple[float, float]:
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(_hierarchical_medians(parts, np.random.default_rng(seed)), [tail, 100 - tail])
    return float(low), float(high)


def between(parts: list[np.ndarray]) -> tuple[list[float], float, list[str]]:
    """Process medians, their spread (the largest over the smallest, less one) and why
    that is unstable."""
    medians = [float(np.median(p)) for p in parts]
    low, high = min(medians), max(medians)
    spread = high / low - 1 if low > 0 else (0.0 if high == low else float("inf"))
    reasons = []
    if spread > BETWEEN_LIMIT:
        reasons.append(f"between processes: the largest median is {100 * spread:.0f}% above the smallest "
                       f"(limit {100 * BETWEEN_LIMIT:.0f}%)")
    return medians, spread, reasons


@lru_cache
def median_variance(k: int) -> float:
    """The variance of the median of ``k`` standard normal draws (0.449 for three, against
    the mean's 0.333), by simulation with a fixed seed: exact formulas exist for odd ``k``
    only, and 200,000 draws fix it to a few parts in a thousand."""
    z = np.random.default_rng(0).standard_normal((200_000, k))
    return float(np.median(z, axis=1).var())


def repeat_interval(values, groups: list[int] | None, level: float = CI_LEVEL,
                    noise=None) -> tuple[float, float] | None:
    """Where the median of another run on the same machine, with as many processes,
    should land: a ``level`` prediction interval, or None with fewer than two processes
    (or a median that is not positive).

    A confidence interval bounds the machine's true median; a second run's median is
    an estimate with its own noise, so even an exact 95% interval holds it only about
    83% of the time. The processes are the unit of replication: with ``k`` processes
    whose log medians have standard deviation ``s``, each run's figure carries an
    error of variance ``s^2 * median_variance(k)``, the difference of two runs twice
    that, and Student's t pays for estimating ``s``. ``noise`` (a
    :class:`pipeline.core.noise.Noise`: ``sd`` and ``df``) is that standard deviation
    pooled over the workload's cells, with the whole workload's degrees of freedom;
    without it the cell's own ``k`` processes give ``s`` on ``k - 1`` degrees of
    freedom (t = 4.30 for three). Logs, because speed varies by factors (and then
    the interval of a throughput and of its time per step are the same). Centred on
    the published median (of the pooled samples), which for few processes is close to
    the middle process's median: noisier than their mean (``1/k``)."""
    from scipy.stats import t  # publishing side only; see _half_binomial_cdf

    parts = [p for p in split(values, groups) if len(p)]
    medians = np.array([np.median(p) for p in parts])
    centre = float(np.median(np.asarray(values, dtype=float)))
    if len(parts) < 2 or np.any(medians <= 0) or centre <= 0:
        return None
    k = len(parts)
    sd, df = (noise.sd, noise.df) if noise is not None else (float(np.log(medians).std(ddof=1)), k - 1)
    half = float(t.ppf(0.5 + level / 2, df)) * sd * np.sqrt(2 * median_variance(k))
    return float(np.exp(np.log(centre) - half)), float(np.exp(np.log(centre) + half))


def summarize(values, groups: list[int] | None = None) -> dict:
    """Everything the site shows about one metric; the raw samples stay beside it.
    ``groups``: how many of ``values`` (in order) each process took; None for values
    that are not timing samples of processes (say, one value per process)."""
    x = np.asarray(values, dtype=float)
    if len(x) == 0 or not np.all(np.isfinite(x)):
        raise ValueError("samples must be a non-empty list of finite numbers")
    q1, median, q3, p90, p99 = (float(v) for v in np.percentile(x, [25, 50, 75, 90, 99]))
    mean = float(x.mean())
    std = float(x.std(ddof=1)) if len(x) > 1 else 0.0
    parts = [p for p in split(x, groups) if len(p)]
    extra: dict = {}
    if len(parts) >= 2:
        low, high = hierarchical_ci(parts)
        coverage, method = CI_LEVEL, HIERARCHICAL_METHOD
        medians, spread, reasons = between(parts)
        within = [f"within process {i + 1}: {r}" for i, p in enumerate(parts) for r in stability(p)]
        extra = {"processes": len(parts), "process_medians": medians, "between_spread": spread,
                 "within_notes": within, "unstable_part": "between processes" if reasons else None}
    else:
        low, high, coverage = median_ci(x)
        method = CI_METHOD
        reasons = stability(x)
        if groups:  # one process: its samples are all there is
            reasons = [f"within the process: {r}" for r in reasons]
            extra = {"processes": 1, "unstable_part": "within the process" if reasons else None}
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
        "ci_method": method,
        "unstable": bool(reasons),
        "unstable_reasons": reasons,
        **extra,
    }


def ratio_interval(a, b, level: float = CI_LEVEL, seed: int = 0, groups_a: list[int] | None = None,
                   groups_b: list[int] | None = None) -> tuple[float, float, float]:
    """Ratio of medians ``median(a) / median(b)`` with a percentile bootstrap interval
    (each side resampled independently, hierarchically when its samples come from two
    or more processes; a fixed seed makes pages reproducible)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    rng = np.random.default_rng(seed)
    parts_a, parts_b = split(a, groups_a), split(b, groups_b)
    ra = (_hierarchical_medians(parts_a, rng) if len(parts_a) >= 2
          else np.median(rng.choice(a, (BOOTSTRAP_RESAMPLES, len(a))), axis=1))
    rb = (_hierarchical_medians(parts_b, rng) if len(parts_b) >= 2
          else np.median(rng.choice(b, (BOOTSTRAP_RESAMPLES, len(b))), axis=1))
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(ra / rb, [tail, 100 - tail])
    return float(np.median(a) / np.median(b)), float(low), float(high)


PAIRED_METHOD = "paired by round: bootstrap over rounds, then samples within each process"


def paired_ratio(pairs: list[tuple[np.ndarray, np.ndarray]], level: float = CI_LEVEL,
                 seed: int = 0, noise=None) -> tuple[float, float, float]:
    """The ratio of two cells measured side by side, round by round (pipeline/core/
    schedule.py): ``pairs`` holds, per round, side a's and side b's samples from the
    processes of that round. Each round gives one ratio of medians, in which the
    machine's speed during the round cancels; the estimate is the median of these
    ratios.

    With ``noise`` (the workload's pooled between-process variance of log process
    medians, :mod:`pipeline.core.noise`) the interval is Student's on its degrees of
    freedom: a round's log ratio carries both processes' variance (``2 s^2``; pairing
    can only cancel some of it, so the interval errs wide), and the median of ``k``
    rounds ``median_variance(k)`` of that. Without, it resamples rounds with
    replacement, then samples within each process of a drawn round: with three rounds
    that interval ends near the extreme rounds and holds the true ratio far less
    often than 95%."""
    if len(pairs) < 2:
        raise ValueError("a paired ratio needs two or more rounds")
    estimate = float(np.median([np.median(a) / np.median(b) for a, b in pairs]))
    if noise is not None:
        from scipy.stats import t  # publishing side only; see _half_binomial_cdf

        half = float(t.ppf(0.5 + level / 2, noise.df)) * np.sqrt(2 * noise.variance * median_variance(len(pairs)))
        return estimate, float(estimate * np.exp(-half)), float(estimate * np.exp(half))
    rng = np.random.default_rng(seed)
    k = len(pairs)
    per_round = np.empty((BOOTSTRAP_RESAMPLES, k))
    for i, (a, b) in enumerate(pairs):
        a, b = np.asarray(a, float), np.asarray(b, float)
        ra = np.median(a[rng.integers(0, len(a), (BOOTSTRAP_RESAMPLES, len(a)))], axis=1)
        rb = np.median(b[rng.integers(0, len(b), (BOOTSTRAP_RESAMPLES, len(b)))], axis=1)
        per_round[:, i] = ra / rb
    picks = rng.integers(0, k, (BOOTSTRAP_RESAMPLES, k))
    replicates = np.median(np.take_along_axis(per_round, picks, axis=1), axis=1)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(replicates, [tail, 100 - tail])
    return estimate, float(low), float(high)


PROCESS_TEST = "t test on the logs of the process medians"


def process_test(a, b, groups_a: list[int] | None, groups_b: list[int] | None, noise=None) -> float | None:
    """Two-sided p-value that ``a`` and ``b`` have the same typical speed, at the level
    that is replicated: each process gives one value (the log of its median), never
    its samples, which are not independent of each other. With ``noise`` (the
    workload's pooled between-process variance, :mod:`pipeline.core.noise`) the test
    uses it and its degrees of freedom; without, each side needs two processes and the
    test is Welch's. None when neither is possible (one process a side)."""
    from scipy.stats import t, ttest_ind

    la, lb = process_logs(a, groups_a), process_logs(b, groups_b)
    if la is None or lb is None:
        return None
    if noise is None:
        return float(ttest_ind(la, lb, equal_var=False).pvalue)
    if noise.variance <= 0:
        return 0.0 if la.mean() != lb.mean() else 1.0
    stat = (la.mean() - lb.mean()) / np.sqrt(noise.variance * (1 / len(la) + 1 / len(lb)))
    return float(2 * t.sf(abs(stat), noise.df))


def compare(a, b, threshold: float = 1.1, alpha: float = 0.05, groups_a: list[int] | None = None,
            groups_b: list[int] | None = None, noise=None) -> dict:
    """Is ``a`` larger than ``b`` (say, throughput)? A difference is claimed only when
    the ratio of medians is beyond ``threshold`` either way, its interval excludes 1,
    *and* the test over processes (``process_test``) rejects equality at ``alpha``;
    with one process a side there is no such test, and no difference is claimed."""
    ratio, low, high = ratio_interval(a, b, groups_a=groups_a, groups_b=groups_b)
    p_value = process_test(a, b, groups_a, groups_b, noise)
    large = ratio >= threshold or ratio <= 1 / threshold
    clear = low > 1 or high < 1
    verdict = "no measurable difference"
    if large and clear and p_value is not None and p_value < alpha:
        verdict = "higher" if ratio > 1 else "lower"
    return {"ratio": ratio, "ci_low": low, "ci_high": high, "p_value": p_value, "verdict": verdict,
            "threshold": threshold, "alpha": alpha}
