"""Unit tier: the statistics the site prints."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from pipeline.core.statistics import CI_METHOD, compare, median_ci, ratio_interval, stability, summarize


def test_median_ci_brackets_the_median_with_at_least_the_level():
    rng = np.random.default_rng(0)
    for n in (6, 10, 30, 101):
        x = rng.lognormal(size=n)
        low, high, coverage = median_ci(x)
        assert low <= np.median(x) <= high
        assert coverage >= 0.95
        # and it is the narrowest order-statistic interval that reaches the level
        r = int(np.searchsorted(np.sort(x), low)) + 1
        if r + 1 <= n // 2:
            assert 1 - 2 * binom.cdf(r, n, 0.5) < 0.95


def test_median_ci_covers_the_true_median_about_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    true_median = np.exp(0.0)  # lognormal(0, 1)
    hits = sum(low <= true_median <= high for low, high, _ in (median_ci(rng.lognormal(size=30)) for _ in range(2000)))
    assert 0.93 <= hits / 2000 <= 0.99


def test_median_ci_with_too_few_samples_reports_lower_coverage():
    low, high, coverage = median_ci([3.0, 1.0, 2.0])
    assert (low, high) == (1.0, 3.0)
    assert coverage == pytest.approx(0.75)


def test_stability_follows_pyperf_rules():
    assert stability([100, 101, 99, 100]) == []
    assert any("standard deviation" in r for r in stability([100, 130, 70, 100]))
    assert any("maximum" in r for r in stability([100] * 9 + [400]))
    assert any("minimum" in r for r in stability([100] * 3 + [10]))


def test_summarize_fields():
    s = summarize([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
    assert s["median"] == 5.0 and s["q1"] == 3.0 and s["q3"] == 7.0 and s["iqr"] == 4.0
    assert s["n"] == 9
    assert s["ci_low"] <= 5.0 <= s["ci_high"]
    assert s["cv"] == pytest.approx(np.std(range(1, 10), ddof=1) / 5.0)


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")], [float("inf")]])
def test_summarize_refuses_empty_or_non_finite(bad):
    with pytest.raises(ValueError):
        summarize(bad)


def _sides(a_medians, b_medians, n=20, spread=0.05, seed=2):
    rng = np.random.default_rng(seed)
    a = np.concatenate([rng.normal(m, spread * m, n) for m in a_medians])
    b = np.concatenate([rng.normal(m, spread * m, n) for m in b_medians])
    return a, b, [n] * len(a_medians), [n] * len(b_medians)


def test_compare_says_no_difference_for_the_same_distribution():
    a, b, ga, gb = _sides([100, 101, 99], [100, 99, 101])
    result = compare(a, b, groups_a=ga, groups_b=gb)
    assert result["verdict"] == "no measurable difference"
    assert 0.95 < result["ratio"] < 1.05


def test_compare_reports_a_large_significant_difference():
    a, b, ga, gb = _sides([150, 152, 149], [100, 101, 99], seed=3)
    result = compare(a, b, groups_a=ga, groups_b=gb)
    assert result["verdict"] == "higher"
    assert result["ci_low"] < result["ratio"] < result["ci_high"]
    assert 1.4 < result["ratio"] < 1.6 and result["p_value"] < 1e-3
    assert compare(b, a, groups_a=gb, groups_b=ga)["verdict"] == "lower"


def test_compare_ignores_significant_but_small_differences():
    a, b, ga, gb = _sides([105, 105.1, 104.9], [100, 100.1, 99.9], spread=0.01, seed=4)
    result = compare(a, b, threshold=1.1, groups_a=ga, groups_b=gb)
    assert result["p_value"] < 1e-3
    assert result["verdict"] == "no measurable difference"


def test_compare_tests_processes_not_samples():
    """Sixty samples a side 1.3x apart look overwhelming pooled (a rank test on them gives
    p < 1e-12); three processes a side that disagree by 20% cannot carry the claim."""
    from scipy.stats import mannwhitneyu

    a, b, ga, gb = _sides([160, 130, 100], [100, 125, 95], spread=0.01, seed=5)
    assert mannwhitneyu(a, b).pvalue < 1e-6
    result = compare(a, b, groups_a=ga, groups_b=gb)
    assert result["p_value"] > 0.05 and result["verdict"] == "no measurable difference"
    # one process a side: nothing to test between processes, so no difference is claimed
    alone = compare(a[:20], b[:20], groups_a=[20], groups_b=[20])
    assert alone["p_value"] is None and alone["verdict"] == "no measurable difference"
    assert compare(a, b)["p_value"] is None  # samples without their processes: the same


def test_process_test_with_pooled_noise_rejects_equal_cells_about_alpha_of_the_time():
    """Under no difference, the test with a workload's pooled variance (many degrees of
    freedom) rejects at 0.05 about 5% of the time: it is valid, not only conservative."""
    from pipeline.core.noise import pool
    from pipeline.core.statistics import process_test

    rng = np.random.default_rng(11)
    rejected, trials = 0, 400
    for _ in range(trials):
        cells = [_run(rng, between=0.15) for _ in range(10)]
        noise = pool(cells)
        (a, ga), (b, gb) = cells[0], cells[1]
        rejected += process_test(a, b, ga, gb, noise) < 0.05
    assert 0.03 <= rejected / trials <= 0.08


def test_ratio_interval_is_reproducible_and_its_seed_is_the_only_randomness():
    rng = np.random.default_rng(7)
    a, b = rng.lognormal(0.0, 0.3, 15), rng.lognormal(0.2, 0.3, 15)
    first = ratio_interval(a, b)
    assert ratio_interval(a, b) == first  # the same pages from the same results
    assert ratio_interval(a, b, seed=1) != first  # the seed is used, not a constant answer
    ratio, low, high = first
    assert ratio == pytest.approx(np.median(a) / np.median(b))
    assert low < ratio < high  # a bootstrap interval of skewed samples has width and holds its estimate
    # percentile bootstrap: the interval is made of medians of resamples
    assert min(a) / max(b) <= low and high <= max(a) / min(b)


def _processes(medians, n=20, spread=0.01, seed=0):
    rng = np.random.default_rng(seed)
    parts = [rng.normal(m, spread * m, n) for m in medians]
    return np.concatenate(parts), [n] * len(medians)


def test_intervals_resample_processes_when_they_disagree():
    """Three processes at 100, 100 and 150: the pooled-sample interval is narrow and
    misses 150, the hierarchical one spans the processes and says which part varied."""
    values, groups = _processes([100, 100, 150], spread=0.0)
    pooled = summarize(values)
    by_process = summarize(values, groups)
    assert pooled["ci_high"] < 110
    assert by_process["ci_high"] > 140 and by_process["ci_method"].startswith("hierarchical")
    assert by_process["unstable"] and by_process["unstable_part"] == "between processes"
    assert by_process["unstable_reasons"][0].startswith("between processes: the largest median is 50% above")
    assert [round(m) for m in by_process["process_medians"]] == [100, 100, 150]


def test_processes_that_agree_are_stable_whatever_pyperf_says_within_one():
    values, groups = _processes([100, 101, 100])
    values[5] = 300.0  # one slow sample in process 1: noted, not the verdict
    summary = summarize(values, groups)
    assert not summary["unstable"] and summary["unstable_part"] is None
    assert any(note.startswith("within process 1:") for note in summary["within_notes"])
    assert summary["ci_low"] < 100.5 < summary["ci_high"]


def test_one_process_keeps_the_order_statistics_interval():
    values, groups = _processes([100])
    summary = summarize(values, groups)
    assert summary["ci_method"] == CI_METHOD and summary["processes"] == 1
    plain = summarize(values)
    assert (summary["ci_low"], summary["ci_high"]) == (plain["ci_low"], plain["ci_high"])
    assert all(reason.startswith("within the process: ") for reason in summary["unstable_reasons"])


def test_compare_claims_no_difference_when_processes_overlap_the_ratio():
    """1.3x on pooled samples; with one process of each side far off the others, the
    interval resampled by process includes 1 and the claim is withheld."""
    a, groups = _processes([130, 130, 90], seed=1)
    b, _ = _processes([100, 100, 100], seed=2)
    held = compare(a, b, groups_a=groups, groups_b=groups)
    assert held["ci_low"] < 1 < held["ci_high"] and held["verdict"] == "no measurable difference"


def _drifting(ratio, speeds, n=8, noise=0.02, seed=3):
    """Side a is ``ratio`` times side b in every round; the machine's speed changes
    from round to round (the drift a 2-core VM shows between processes)."""
    rng = np.random.default_rng(seed)
    a = [ratio * s * 1000 * (1 + rng.normal(0, noise, n)) for s in speeds]
    b = [s * 1000 * (1 + rng.normal(0, noise, n)) for s in speeds]
    return a, b


def test_paired_ratio_cancels_drift_that_tilts_the_unpaired_interval():
    from pipeline.core.statistics import paired_ratio

    a, b = _drifting(1.15, speeds=[1.0, 0.55, 1.6])
    groups = [len(p) for p in a]
    _, low, high = ratio_interval(np.concatenate(a), np.concatenate(b), groups_a=groups, groups_b=groups)
    assert low < 1 < high  # unpaired: the drift hides a 15% difference
    ratio, p_low, p_high = paired_ratio(list(zip(a, b, strict=True)))
    assert ratio == pytest.approx(1.15, rel=0.03)
    assert 1.05 < p_low < 1.15 < p_high < 1.25
    assert paired_ratio(list(zip(a, b, strict=True))) == (ratio, p_low, p_high)  # seeded


def test_paired_ratio_keeps_the_rounds_disagreement():
    """When the ratio itself differs between rounds, the interval spans the rounds."""
    from pipeline.core.statistics import paired_ratio

    a, b = _drifting(1.0, speeds=[1.0, 1.0, 1.0])
    a[2] = a[2] * 1.5
    _, low, high = paired_ratio(list(zip(a, b, strict=True)))
    assert low < 1.02 and high > 1.4
    with pytest.raises(ValueError, match="two or more rounds"):
        paired_ratio(list(zip(a, b, strict=True))[:1])


def _run(rng, processes=3, samples=20, between=0.10, within=0.03):
    """One simulated run: each process draws its own speed (the replication unit), then
    noisy samples around it."""
    speeds = 1000.0 * np.exp(rng.normal(0.0, between, processes))
    values = np.concatenate([s * np.exp(rng.normal(0.0, within, samples)) for s in speeds])
    return values, [samples] * processes


def test_repeat_interval_holds_another_runs_median_about_95_percent_of_the_time():
    """The interval of the median is about the true median, so a second run's noisy median
    falls outside it far more than 5% of the time; the repeat interval is built for it."""
    from pipeline.core.statistics import hierarchical_ci, repeat_interval, split

    rng = np.random.default_rng(7)
    in_repeat = in_ci = 0
    trials = 300
    for _ in range(trials):
        (a, groups), (b, _) = _run(rng), _run(rng)
        low, high = repeat_interval(a, groups)
        second = np.median(b)
        in_repeat += low <= second <= high
        ci_low, ci_high = hierarchical_ci(split(a, groups))
        in_ci += ci_low <= second <= ci_high
    assert 0.91 <= in_repeat / trials <= 0.99
    assert in_ci / trials < 0.80


def test_repeat_interval_needs_two_processes_and_treats_time_and_speed_alike():
    from pipeline.core.statistics import repeat_interval

    assert repeat_interval([1.0, 2.0, 3.0], [3]) is None
    assert repeat_interval([1.0, 2.0, 3.0], None) is None
    values = np.array([100.0, 101.0, 99.0, 120.0, 121.0, 119.0, 90.0, 91.0, 89.0])
    low, high = repeat_interval(values, [3, 3, 3])
    assert low < np.median(values) < high
    # the interval of a time per step is the reciprocal of the throughput's
    t_low, t_high = repeat_interval(1 / values, [3, 3, 3])
    assert t_low == pytest.approx(1 / high) and t_high == pytest.approx(1 / low)
    # processes that disagree more widen it
    wider = repeat_interval(np.concatenate([values[:3], values[3:6] * 1.2, values[6:] * 0.8]), [3, 3, 3])
    assert wider[1] / wider[0] > high / low


def test_repeat_interval_with_pooled_noise_covers_95_percent_and_is_narrower():
    """A workload's cells share the between-process variance; pooled over its ten cells,
    the interval keeps its coverage of another run's median (93-97%) at about half the
    width of one cell's three processes alone (t on 2 degrees of freedom is 4.30)."""
    from pipeline.core.noise import pool
    from pipeline.core.statistics import repeat_interval

    rng = np.random.default_rng(8)
    inside = own_inside = 0
    widths, own_widths = [], []
    trials = 1500
    for _ in range(trials // 10):
        first = [_run(rng, between=0.15) for _ in range(10)]
        second = [_run(rng, between=0.15) for _ in range(10)]
        noise = pool(first)
        for (a, groups), (b, _) in zip(first, second, strict=True):
            low, high = repeat_interval(a, groups, noise=noise)
            inside += low <= np.median(b) <= high
            widths.append(high / low)
            own_low, own_high = repeat_interval(a, groups)
            own_inside += own_low <= np.median(b) <= own_high
            own_widths.append(own_high / own_low)
    assert 0.93 <= inside / trials <= 0.97
    assert np.log(np.median(widths)) < 0.6 * np.log(np.median(own_widths))


def test_paired_ratio_with_pooled_noise_covers_the_true_ratio_about_95_percent():
    """Three rounds: the bootstrap over rounds ends near the extreme rounds and misses the
    true ratio far more than 5% of the time; Student's interval on the workload's pooled
    noise holds it about 95% of the time."""
    from pipeline.core.noise import pool
    from pipeline.core.statistics import paired_ratio

    rng = np.random.default_rng(12)
    pooled_in = boot_in = 0
    trials = 400
    for _ in range(trials):
        cells = [_run(rng, between=0.15) for _ in range(10)]
        noise = pool(cells)
        a, b = (np.split(v * f, np.cumsum(g)[:-1]) for (v, g), f in ((cells[0], 1.2), (cells[1], 1.0)))
        pairs = list(zip(a, b, strict=True))
        _, low, high = paired_ratio(pairs, noise=noise)
        pooled_in += low <= 1.2 <= high
        _, low, high = paired_ratio(pairs)
        boot_in += low <= 1.2 <= high
    assert 0.92 <= pooled_in / trials <= 0.98
    assert boot_in / trials < 0.85
