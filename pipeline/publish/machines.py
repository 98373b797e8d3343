"""Machines side by side, with their noise: for every pair of machines, each figure both
measured (by instruments of one method) as the ratio of their medians with a 95% interval,
judged "a real difference" or "within the noise of these runs"; then the claims whose verdict
differs and the guide answers that differ, judged the same way.

The interval is the repeat interval's construction (``statistics.repeat_interval``) with a
machine on each side: the log of a median of ``k`` processes varies with variance
``s^2 * median_variance(k)``, ``s`` the workload's between-process noise pooled on that
machine (``noise.csv``); the two variances add, and Student's t takes the Welch-Satterthwaite
degrees of freedom. On one machine the same interval held 91-97% of a second run's medians
(Methodology, repeat interval). At 95%, about one figure in twenty is called a real difference
by chance when none is: a single figure outside the band says little; many do."""

from __future__ import annotations

import itertools
import math

import pandas as pd

from pipeline.core import instruments, noise, statistics

REAL, WITHIN = "a real difference", "within the noise of these runs"
#: the judgements in a few words, where a line has no room (the home page's answer table)
SHORT = {REAL: "a real difference", WITHIN: "within the noise"}
APART = "not compared: measured by instruments of different methods"
COLUMNS = ["machine_a", "machine_b", "workload", "framework", "mode", "cell", "order", "figure", "unit",
           "median_a", "median_b", "processes_a", "processes_b", "ratio", "ratio_low", "ratio_high", "judgement"]
#: a z-score's two-sided 95% point, for intervals given only as bounds (claims' ratios)
Z95 = 1.959963984540054


def figures(cells: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """One row per machine, cell and throughput figure measured ok: training throughput and
    each operations case's, with the processes behind it and the cell's instrument."""
    if cells.empty:
        return pd.DataFrame()
    keys = ["machine_id", "workload", "framework", "mode"]
    ok = cells[cells["status"] == "ok"]
    rows = []
    if "train_throughput.median" in ok:
        trained = ok[ok["train_throughput.median"].notna()]
        rows.append(pd.DataFrame({**{k: trained[k] for k in [*keys, "cell", "order", "unit"]},
                                  "figure": "training throughput", "median": trained["train_throughput.median"]}))
    if not cases.empty and "throughput.median" in cases:
        done = cases[(cases["status"] == "ok") & cases["throughput.median"].notna()]
        rows.append(pd.DataFrame({**{k: done[k] for k in [*keys, "cell", "order"]}, "unit": done["throughput.unit"],
                                  "figure": done["case"], "median": done["throughput.median"]}))
    if not rows:
        return pd.DataFrame()
    out = pd.concat(rows, ignore_index=True)
    return out.merge(ok[[*keys, "processes_ok", "instrument"]], on=keys, how="inner")


def ratio_interval(median_a: float, k_a: int, noise_a: noise.Noise, median_b: float, k_b: int,
                   noise_b: noise.Noise, level: float = statistics.CI_LEVEL) -> tuple[float, float, float]:
    """(ratio b/a, low, high): where the ratio of the two machines' medians lies, given each
    machine's noise and processes."""
    from scipy.stats import t  # publishing side only

    var_a = noise_a.variance * statistics.median_variance(int(k_a))
    var_b = noise_b.variance * statistics.median_variance(int(k_b))
    df = (var_a + var_b) ** 2 / (var_a ** 2 / noise_a.df + var_b ** 2 / noise_b.df)
    half = float(t.ppf(0.5 + level / 2, df)) * math.sqrt(var_a + var_b)
    ratio = median_b / median_a
    return ratio, ratio * math.exp(-half), ratio * math.exp(half)


def _method(version) -> int | None:
    found = instruments.BY_VERSION.get(int(version)) if pd.notna(version) else None
    return found.method if found else None


def pairs(cells: pd.DataFrame, cases: pd.DataFrame, noise_table: pd.DataFrame | None) -> pd.DataFrame:
    """``machine_pairs.csv``: every figure two machines share, per pair of machines."""
    found = figures(cells, cases)
    pooled = noise.by_workload(noise_table)
    rows = []
    if found.empty:
        return pd.DataFrame(columns=COLUMNS)
    for a, b in itertools.combinations(sorted(found["machine_id"].unique()), 2):
        mine = found[found["machine_id"] == a].merge(found[found["machine_id"] == b],
                                                     on=["workload", "framework", "mode", "figure"],
                                                     suffixes=("_a", "_b"))
        for r in mine.to_dict("records"):
            row = {"machine_a": a, "machine_b": b, "workload": r["workload"], "framework": r["framework"],
                   "mode": r["mode"], "cell": r["cell_a"], "order": r["order_a"], "figure": r["figure"],
                   "unit": r["unit_a"], "median_a": r["median_a"], "median_b": r["median_b"],
                   "processes_a": r["processes_ok_a"], "processes_b": r["processes_ok_b"],
                   "ratio": r["median_b"] / r["median_a"], "ratio_low": None, "ratio_high": None}
            noise_a, noise_b = pooled.get((a, r["workload"])), pooled.get((b, r["workload"]))
            if _method(r["instrument_a"]) != _method(r["instrument_b"]):
                row.update(ratio=None, judgement=APART)
            elif noise_a is None or noise_b is None or min(r["processes_ok_a"], r["processes_ok_b"]) < 1:
                row["judgement"] = "not judged: no pooled noise for this workload on both machines"
            else:
                _, low, high = ratio_interval(r["median_a"], r["processes_ok_a"], noise_a, r["median_b"],
                                              r["processes_ok_b"], noise_b)
                row.update(ratio_low=low, ratio_high=high, judgement=WITHIN if low <= 1 <= high else REAL)
            rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS).sort_values(["machine_a", "machine_b", "workload", "order", "figure"],
                                                            kind="stable").reset_index(drop=True)


def _log_se(row: dict) -> float | None:
    """A claim ratio's standard error in logs, read from its 95% interval (None without one)."""
    low, high = row.get("ratio_low"), row.get("ratio_high")
    if low is None or high is None or pd.isna(low) or pd.isna(high) or low <= 0 or high <= low:
        return None
    return (math.log(high) - math.log(low)) / (2 * Z95)


def claim_differences(verdicts: pd.DataFrame, a: str, b: str) -> list[dict]:
    """The claims judged on both machines whose verdicts differ, each with both ratios and
    whether the ratios themselves differ beyond their intervals."""
    if verdicts.empty:
        return []
    by = {m: verdicts[verdicts["machine_id"] == m].set_index("claim") for m in (a, b)}
    out = []
    for claim in sorted(set(by[a].index) & set(by[b].index)):
        ra, rb = by[a].loc[claim].to_dict(), by[b].loc[claim].to_dict()
        if ra["verdict"] == rb["verdict"]:
            continue
        se_a, se_b = _log_se(ra), _log_se(rb)
        if se_a is None or se_b is None or not (ra.get("ratio") or 0) > 0 or not (rb.get("ratio") or 0) > 0:
            judgement = "not judged: no ratio with an interval on both machines"
        else:
            z = abs(math.log(rb["ratio"]) - math.log(ra["ratio"])) / math.hypot(se_a, se_b)
            judgement = REAL if z > Z95 else WITHIN
        out.append({"claim": claim, "verdict_a": ra["verdict"], "verdict_b": rb["verdict"],
                    **{f"{k}_{side}": _number(r.get(k)) for side, r in (("a", ra), ("b", rb))
                       for k in ("ratio", "ratio_low", "ratio_high")},
                    "judgement": judgement})
    return out


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def answer_differences(guide: list[dict], a: str, b: str) -> list[dict]:
    """The decision-guide scenarios answered on both machines with different answers: a real
    difference only when neither machine's answer is a tie."""
    out = []
    for scenario in guide:
        answers = {m["machine_id"]: m["answer"] for m in scenario.get("machines") or []}
        if a not in answers or b not in answers:
            continue
        ans_a, ans_b = answers[a], answers[b]
        if ans_a.get("status") != "answered" or ans_b.get("status") != "answered":
            continue
        if ans_a["framework"] == ans_b["framework"]:
            continue
        judgement = WITHIN if ans_a.get("tie") or ans_b.get("tie") else REAL
        out.append({"id": scenario["id"], "title": scenario["title"], "answer_a": ans_a["label"],
                    "tie_a": bool(ans_a.get("tie")), "answer_b": ans_b["label"], "tie_b": bool(ans_b.get("tie")),
                    "judgement": judgement, "short": SHORT[judgement]})
    return out


def differences(pair_table: pd.DataFrame, verdicts: pd.DataFrame, guide: list[dict]) -> list[dict]:
    """``machine_differences.json``: per pair of machines, how their shared figures compare
    and which claims and answers differ, each judged."""
    out = []
    if pair_table.empty:
        return out
    for (a, b), mine in pair_table.groupby(["machine_a", "machine_b"], sort=True):
        judged = mine[mine["judgement"].isin([REAL, WITHIN])]
        real = judged[judged["judgement"] == REAL]
        ratios = judged["ratio"].astype(float)
        out.append({
            "machine_a": a, "machine_b": b, "figures": len(mine), "judged": len(judged),
            "real": len(real), "within": int((judged["judgement"] == WITHIN).sum()),
            "faster_on_b": int((real["ratio"] > 1).sum()), "faster_on_a": int((real["ratio"] < 1).sum()),
            "apart": int((mine["judgement"] == APART).sum()),
            "ratio_median": _number(ratios.median()) if len(ratios) else None,
            "ratio_q1": _number(ratios.quantile(0.25)) if len(ratios) else None,
            "ratio_q3": _number(ratios.quantile(0.75)) if len(ratios) else None,
            "claims": claim_differences(verdicts, a, b), "answers": answer_differences(guide, a, b),
        })
    return out
