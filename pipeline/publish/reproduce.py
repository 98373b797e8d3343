"""Did a second run reproduce the first? Per cell and headline metric: the ratio
of the two medians, whether each median falls inside the other run's repeat
interval (where another run should land; also whether it falls inside the
interval of the median, which a noisy second figure misses more often), and
what the two runs recorded about the cell's own processes that explains a miss in
size and direction (steal during the timed samples, the machine's speed as the cell's
canary readings saw it).

Runs are read from the stored results: the current ones under ``results/`` and
those replaced since under ``history/`` (:func:`pipeline.core.results.store`).
``python -m pipeline reproduce-report RUN_A RUN_B`` prints the table and can
write it as CSV.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core import instruments, noise, quiet, results, statistics
from pipeline.publish import claims
from pipeline.publish.compare import derived_tables
from pipeline.publish.tables import Declared, build_tables
from pipeline.publish.verdicts import judge

COLUMNS = ["machine_id", "workload", "framework", "mode", "profile", "metric", "median_a", "median_b", "ratio",
           "b_in_a", "a_in_b", "b_in_a_ci", "repeat_width", "outcome", "cause"]


def expected(metric: dict, pooled: noise.Noise | None = None) -> tuple[float, float]:
    """Where the other run's median should land: this run's repeat interval
    (``statistics.repeat_interval``, with the workload's ``pooled`` noise in that run);
    with one process, which cannot say how processes differ, the interval of its median."""
    span = statistics.repeat_interval(metric["samples"], metric.get("groups"), noise=pooled)
    return span or (metric["summary"]["ci_low"], metric["summary"]["ci_high"])


def _key(result: dict) -> tuple:
    """A cell of one machine and profile."""
    return tuple(result[k] for k in COLUMNS[:5])


def headline(result: dict) -> dict[str, dict]:
    """The sampled metrics a reader compares: training throughput, each case's throughput."""
    return {name: m for name, m in result["metrics"].items()
            if "summary" in m and "samples" in m and (name == "train_throughput" or name.endswith("/throughput"))}


def _speed(rs: list[dict]) -> dict[str, float] | None:
    return quiet.tally([p for r in rs for p in r.get("processes") or []])["speed"]


def _steal(result: dict) -> float:
    """The mean steal share over the timed samples of a cell's processes (0 unrecorded)."""
    shares = [(p.get("interference") or {}).get("steal_share") or 0.0 for p in result.get("processes") or []
              if p.get("status") == "ok"]
    return sum(shares) / len(shares) if shares else 0.0


def _machine_factor(a: dict, b: dict) -> float | None:
    """How much slower the machine ran for cell ``b``'s processes than for ``a``'s, from
    their own canary readings (geometric mean of the parts' ratios; None unrecorded)."""
    sa, sb = _speed([a]), _speed([b])
    if not sa or not sb:
        return None
    ratios = [sb[part] / sa[part] for part, _ in quiet.CANARY_PARTS if sa[part] > 0 and sb[part] > 0]
    return float(np.exp(np.mean(np.log(ratios)))) if ratios else None


def causes(a: dict, b: dict, median_b: float, span_a: tuple[float, float]) -> list[str]:
    """What the two runs recorded about this cell's own processes that explains B's median
    landing outside A's repeat interval ``span_a``, in size and direction: steal during
    the timed samples (a process that lost a share of its CPU ran that much slower), and
    the machine's speed as the cell's own canary readings saw it. A cause is kept only when
    undoing it puts B's median back inside A's interval; contended processes are already
    left out of the figures, and a run-wide move explains nothing about one cell."""
    low, high = span_a
    found = []
    steal_a, steal_b = _steal(a), _steal(b)
    if max(steal_a, steal_b) > 0.01:
        # a throughput: B's figure is depressed by its steal and A's interval by A's
        corrected = median_b / (1 - min(steal_b, 0.9)) * (1 - min(steal_a, 0.9))
        if low <= corrected <= high:
            found.append(f"steal during the timed samples ({100 * steal_a:.0f}% in run A, "
                         f"{100 * steal_b:.0f}% in run B)")
    factor = _machine_factor(a, b)
    if factor and abs(np.log(factor)) > np.log(1.05) and low <= median_b * factor <= high:
        found.append(f"the machine ran {factor:.2f}x as slow for this cell's processes in run B "
                     f"(their canary readings)")
    return found


def compare_runs(a: list[dict], b: list[dict]) -> tuple[pd.DataFrame, dict]:
    """One row per cell and headline metric measured ok in both runs; and the two speed indices."""
    first = {_key(r): r for r in a}
    noise_a, noise_b = noise.of_results(a), noise.of_results(b)
    speeds = {"a": _speed(a), "b": _speed(b)}
    rows = []
    for rb in b:
        ra = first.get(_key(rb))
        if ra is None or ra["status"] != "ok" or rb["status"] != "ok":
            continue
        metrics_a = headline(ra)
        for name, mb in headline(rb).items():
            ma = metrics_a.get(name)
            if ma is None:
                continue
            sa, sb = ma["summary"], mb["summary"]
            (low_a, high_a) = expected(ma, noise_a.get(noise.key(ra)))
            (low_b, high_b) = expected(mb, noise_b.get(noise.key(rb)))
            b_in_a, a_in_b = low_a <= sb["median"] <= high_a, low_b <= sa["median"] <= high_b
            why = [] if b_in_a else causes(ra, rb, sb["median"], (low_a, high_a))
            recorded = any(p.get("interference") for p in rb.get("processes") or [])
            outcome = ("reproduced" if b_in_a else "explained miss" if why
                       else "unexplained miss" if recorded else "miss, run B kept no records")
            rows.append({**dict(zip(COLUMNS[:5], _key(rb), strict=True)), "metric": name,
                         "median_a": sa["median"], "median_b": sb["median"], "ratio": sb["median"] / sa["median"],
                         "b_in_a": b_in_a, "a_in_b": a_in_b,
                         "b_in_a_ci": sa["ci_low"] <= sb["median"] <= sa["ci_high"],
                         "repeat_width": high_a / low_a if low_a > 0 else None,
                         "outcome": outcome, "cause": "; ".join(why)})
    frame = pd.DataFrame(rows, columns=COLUMNS).sort_values(COLUMNS[:6], kind="stable").reset_index(drop=True)
    return frame, speeds


#: A claim's measured ratio moving by more than this factor between runs is reported as moved.
CLAIM_MOVE = 1.2
CLAIM_COLUMNS = ["claim", "machine_id", "verdict_a", "verdict_b", "ratio_a", "ratio_b", "moved"]


def claim_verdicts(rs: list[dict], doc: dict, comparison: dict, declared: Declared) -> pd.DataFrame:
    """The verdicts of the ledger's result claims on one run's results alone."""
    tables = build_tables(rs, declared)
    tables.update(derived_tables(tables["cells"], tables["samples"], comparison["threshold"], comparison["alpha"],
                                 tables["noise"]))
    measured = [c for c in doc["claims"] if "predicate" in c and "ecosystem" not in c["predicate"]]
    return judge({**doc, "claims": measured}, tables, {})


def claims_moved(a: list[dict], b: list[dict], doc: dict, comparison: dict, declared: Declared) -> pd.DataFrame:
    """Per claim and machine judged on both runs: both verdicts and ratios, and whether
    the verdict changed or the ratio moved by more than ``CLAIM_MOVE``."""
    va, vb = claim_verdicts(a, doc, comparison, declared), claim_verdicts(b, doc, comparison, declared)
    both = va.merge(vb, on=["claim", "machine_id"], suffixes=("_a", "_b"))
    rows = []
    for r in both.to_dict("records"):
        ra, rb = r["ratio_a"], r["ratio_b"]
        ratio_moved = bool(pd.notna(ra) and pd.notna(rb) and ra > 0 and rb > 0
                           and max(ra / rb, rb / ra) > CLAIM_MOVE)
        rows.append({"claim": r["claim"], "machine_id": r["machine_id"], "verdict_a": r["verdict_a"],
                     "verdict_b": r["verdict_b"], "ratio_a": ra, "ratio_b": rb,
                     "moved": r["verdict_a"] != r["verdict_b"] or ratio_moved})
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


def _moved(data_dir: Path, a: list[dict], b: list[dict], comparison: dict, declared: Declared,
           workloads: dict) -> pd.DataFrame:
    """``claims_moved`` with the ledger beside the results, checked against ``workloads``
    (none there: no claim to judge)."""
    ledger = Path(data_dir) / "claims.yaml"
    if not ledger.is_file():
        return pd.DataFrame(columns=CLAIM_COLUMNS)
    return claims_moved(a, b, claims.load(ledger, workloads), comparison, declared)


def report(data_dir: Path, run_a: str, run_b: str, comparison: dict, declared: Declared, workloads: dict
           ) -> tuple[pd.DataFrame, dict, list[str], pd.DataFrame]:
    """Load both runs and compare them: cells, speed indices, refused files, claims (the
    ledger checked against ``workloads``). Raises ValueError when a run has no result."""
    a, refused_a = results.load_run(data_dir, run_a)
    b, refused_b = results.load_run(data_dir, run_b)
    for run, found in ((run_a, a), (run_b, b)):
        if not found:
            raise ValueError(f"run {run!r}: no result under {Path(data_dir) / 'results'} or "
                             f"{Path(data_dir) / 'history'} belongs to it")
    frame, speeds = compare_runs(a, b)
    return frame, speeds, refused_a + refused_b, _moved(data_dir, a, b, comparison, declared, workloads)


#: The bands a repeat run's median is judged by: within 5% and within 10% of the first run's.
BANDS = (0.05, 0.10)


def precision(frame: pd.DataFrame) -> dict:
    """How precise one run's figures were, judged by another run: the share of medians
    the second run kept within each band (``BANDS``), the median width (high over low)
    of the first run's published repeat intervals, and their coverage (the share of
    the second run's medians inside them). Empty frame: no figure compared."""
    if frame.empty:
        return {"figures": 0}
    change = (frame["ratio"].astype(float) - 1).abs()
    widths = frame["repeat_width"].dropna().astype(float)
    return {"figures": len(frame),
            **{f"within_{round(100 * band)}": float((change <= band).mean()) for band in BANDS},
            "median_change": float(change.median()),
            "median_width": float(widths.median()) if len(widths) else None,
            "coverage": float(frame["b_in_a"].astype(bool).mean())}


def precision_line(p: dict) -> str:
    """``precision`` in one sentence, for the report and the pages alike."""
    if not p.get("figures"):
        return "no figure measured ok in both runs"
    bands = ", ".join(f"{100 * p[f'within_{round(100 * b)}']:.0f}% within ±{100 * b:.0f}%" for b in BANDS)
    width = (f"published repeat ranges a median {p['median_width']:.2f}x wide (high/low), holding "
             f"{100 * p['coverage']:.0f}% of the second run's medians") if p.get("median_width") else \
        "no repeat range (one process a cell)"
    return f"precision over {p['figures']} medians: {bands}; median change {100 * p['median_change']:.1f}%; {width}"


def table(frame: pd.DataFrame, speeds: dict, run_a: str, run_b: str, claims: pd.DataFrame | None = None) -> str:
    """The report as a plain-text table with a summary line, then the claims that moved."""
    lines = [f"run A {run_a}, run B {run_b}"]
    for side in ("a", "b"):
        s = speeds[side]
        lines.append(f"speed index {side.upper()}: " + (f"matrix product {1000 * s['blas_s']:.2f} ms, Python loop "
                                                        f"{1000 * s['python_s']:.1f} ms" if s else "not recorded"))
    lines.append(f"{'cell':<46} {'metric':<28} {'median A':>12} {'median B':>12} {'B/A':>6}  B in A  A in B  outcome")
    for r in frame.itertuples():
        cell = f"{r.workload} {r.framework} {r.mode}"
        lines.append(f"{cell:<46} {r.metric:<28} {r.median_a:>12,.1f} {r.median_b:>12,.1f} {r.ratio:>6.2f}  "
                     f"{'yes' if r.b_in_a else 'no':<6}  {'yes' if r.a_in_b else 'no':<6}  {r.outcome}"
                     + (f" ({r.cause})" if r.cause else ""))
    n = len(frame)
    inside = int(frame["b_in_a"].sum()) if n else 0
    unexplained = int(frame["outcome"].isin(["unexplained miss", "miss, run B kept no records"]).sum()) if n else 0
    median_ratio = float(frame["ratio"].median()) if n else float("nan")
    in_ci = int(frame["b_in_a_ci"].sum()) if n else 0
    lines.append(f"{inside} of {n} medians of run B inside run A's repeat interval ({100 * inside / n:.0f}%; "
                 f"inside the interval of A's median: {in_ci}); {unexplained} miss(es) without a recorded cause; "
                 f"median ratio B/A {median_ratio:.2f}"
                 if n else "no cell was measured ok in both runs")
    lines.append(precision_line(precision(frame)))
    if claims is not None and len(claims):
        moved = claims[claims["moved"]]
        lines.append(f"claims judged on both runs: {len(claims)}; moved (verdict changed, or ratio by more than "
                     f"{CLAIM_MOVE:g}x): {len(moved)}")
        for r in moved.itertuples():
            ratios = (f"ratio {r.ratio_a:.2f} -> {r.ratio_b:.2f}" if pd.notna(r.ratio_a) and pd.notna(r.ratio_b)
                      else "ratio not comparable")
            lines.append(f"  {r.claim} on {r.machine_id}: {r.verdict_a} -> {r.verdict_b}, {ratios}")
    return "\n".join(lines)


def _started(rs: list[dict]) -> str:
    return min((p.get("started_at") or r["provenance"]["recorded_at"] for r in rs for p in r["processes"]),
               default="")


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows for JSON, which has no NaN: a missing value becomes null."""
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


def previous(history: list[dict], current: list[dict]) -> list[dict]:
    """For each current result, the measurement of its cell before it: the newest
    result of that cell in ``history`` that started earlier. Cell by cell, because a
    run may measure some cells only (the others stay current from the run before),
    and then no single earlier run holds every cell's predecessor."""
    now = {_key(r): (_started([r]), results.run_of(r), r) for r in current}
    best: dict[tuple, tuple[str, dict]] = {}
    for result in history:
        key, started = _key(result), _started([result])
        if (key in now and results.run_of(result) != now[key][1] and started < now[key][0]
                and started > best.get(key, ("", None))[0] and instruments.comparable(result, now[key][2])):
            best[key] = (started, result)
    return [result for _, result in best.values()]


RECORD_COLUMNS = ["machine_id", "workload", "framework", "mode", "profile", "metric", "median", "repeat_low",
                  "repeat_high", "earlier_runs", "agreeing", "runs_agreeing"]


def reproduced_by(history: list[dict], current: list[dict]) -> pd.DataFrame:
    """Per current figure: how many earlier runs of its cell measured it, and how many of
    their medians fall inside its repeat interval (the runs that reproduced it)."""
    pooled = noise.of_results(current)
    earlier: dict[tuple, list[dict]] = {}
    for result in history:
        if result["status"] == "ok":
            earlier.setdefault(_key(result), []).append(result)
    rows = []
    for r in current:
        runs = [o for o in earlier.get(_key(r), [])
                if results.run_of(o) != results.run_of(r) and instruments.comparable(o, r)]
        if r["status"] != "ok" or not runs:
            continue
        theirs = {results.run_of(o): headline(o) for o in runs}
        for name, metric in headline(r).items():
            low, high = expected(metric, pooled.get(noise.key(r)))
            medians = {run: m[name]["summary"]["median"] for run, m in theirs.items() if name in m}
            if not medians:
                continue
            agreeing = sorted(run for run, median in medians.items() if low <= median <= high)
            rows.append({**dict(zip(COLUMNS[:5], _key(r), strict=True)), "metric": name,
                         "median": metric["summary"]["median"], "repeat_low": low, "repeat_high": high,
                         "earlier_runs": len(medians), "agreeing": len(agreeing), "runs_agreeing": " ".join(agreeing)})
    return pd.DataFrame(rows, columns=RECORD_COLUMNS).sort_values(RECORD_COLUMNS[:6], kind="stable")


def _record_summary(record: pd.DataFrame) -> dict:
    """How many figures every earlier run reproduced, some did, or none did."""
    if record.empty:
        return {"figures": 0}
    every = record["agreeing"] == record["earlier_runs"]
    return {"figures": len(record), "earlier_runs_max": int(record["earlier_runs"].max()),
            "by_all": int(every.sum()), "by_some": int((~every & (record["agreeing"] > 0)).sum()),
            "by_none": int((record["agreeing"] == 0).sum())}


def _main_run(rs: list[dict]) -> str:
    """The run most of ``rs`` came from (the one to name in a reproduce-report command)."""
    runs = pd.Series([results.run_of(r) for r in rs])
    return str(runs.value_counts().sort_index(ascending=False).idxmax())


def latest(data_dir: Path, current: list[dict], comparison: dict, declared: Declared, workloads: dict,
           kept: tuple[list[dict], list[str]] | None = None
           ) -> tuple[pd.DataFrame, list[dict], pd.DataFrame, list[str]]:
    """Per machine, its current results against each cell's measurement before them
    (``previous``): the report's rows and one summary per machine for the pages; then
    per current figure the runs that reproduced it (``reproduced_by``), and the history
    files refused. ``workloads``: what the claims ledger is checked against;
    ``kept``: ``results.load_history(data_dir)`` where the caller has it."""
    frames, summaries = [], []
    history, refused = kept if kept is not None else results.load_history(data_dir)
    earlier_all = previous(history, current)
    record = reproduced_by(history, current)
    for machine in sorted({r["machine_id"] for r in current}):
        a = [r for r in earlier_all if r["machine_id"] == machine]
        before = {_key(r) for r in a}
        b = [r for r in current if r["machine_id"] == machine and _key(r) in before]
        if not a:
            continue
        frame, speeds = compare_runs(a, b)
        if frame.empty:  # no cell measured ok in both (another profile, say): nothing reproduced or missed
            continue
        run_a, run_b = _main_run(a), _main_run(b)
        frames.append(frame.assign(run_a=run_a, run_b=run_b))
        misses = frame[~frame["b_in_a"].astype(bool)]
        moved = _moved(data_dir, a, b, comparison, declared, workloads)
        summaries.append({
            "machine_id": machine, "run_a": run_a, "run_b": run_b,
            "runs_a": sorted({results.run_of(r) for r in a}), "runs_b": sorted({results.run_of(r) for r in b}),
            "figures": len(frame), "inside": int(frame["b_in_a"].sum()), "inside_ci": int(frame["b_in_a_ci"].sum()),
            "unexplained": int((misses["outcome"] != "explained miss").sum()),
            "median_ratio": float(frame["ratio"].median()) if len(frame) else None,
            "speed_a": speeds["a"], "speed_b": speeds["b"],
            "misses": misses[["workload", "framework", "mode", "metric", "ratio", "outcome", "cause"]]
            .to_dict("records"),
            "claims": len(moved), "claims_moved": _records(moved[moved["moved"]]), "claim_move": CLAIM_MOVE,
            "record": _record_summary(record[record["machine_id"] == machine]),
            "precision": precision(frame), "precision_line": precision_line(precision(frame)),
        })
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*COLUMNS, "run_a", "run_b"])
    return frame, summaries, record.reset_index(drop=True), refused
