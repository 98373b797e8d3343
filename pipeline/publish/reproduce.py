"""Did a second run reproduce the first? Per cell and headline metric: the ratio
of the two medians, whether each median falls inside the other run's interval,
and what the later run recorded that could explain a miss (contended processes,
canary drift, flagged steal, a speed index that moved).

Runs are read from the stored results: the current ones under ``results/`` and
those replaced since under ``history/`` (:func:`pipeline.core.results.store`).
``python -m pipeline reproduce-report RUN_A RUN_B`` prints the table and can
write it as CSV.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.core import quiet, results

COLUMNS = ["machine_id", "workload", "framework", "mode", "profile", "metric", "median_a", "median_b", "ratio",
           "b_in_a", "a_in_b", "outcome", "cause"]


def headline(result: dict) -> dict[str, dict]:
    """The sampled metrics a reader compares: training throughput, each case's throughput."""
    return {name: m for name, m in result["metrics"].items()
            if "summary" in m and "samples" in m and (name == "train_throughput" or name.endswith("/throughput"))}


def _speed(rs: list[dict]) -> dict[str, float] | None:
    return quiet.tally([p for r in rs for p in r.get("processes") or []])["speed"]


def _cause(result: dict) -> list[str]:
    """What the run recorded about a cell that could explain a figure that moved."""
    counts = quiet.tally(result.get("processes") or [])
    causes = []
    if counts["contended"]:
        causes.append(f"{counts['contended']} contended process(es)")
    if counts["reruns"]:
        causes.append(f"{counts['reruns']} re-run(s) for other work")
    if counts["canary_drift"]:
        causes.append(f"canary drifted in {counts['canary_drift']} process(es)")
    if counts["steal_flagged"]:
        causes.append(f"steal above {100 * quiet.STEAL_SHARE_LIMIT:g}% in {counts['steal_flagged']} process(es)")
    return causes


def compare_runs(a: list[dict], b: list[dict]) -> tuple[pd.DataFrame, dict]:
    """One row per cell and headline metric measured ok in both runs; and the two speed indices."""
    key = lambda r: (r["machine_id"], r["workload"], r["framework"], r["mode"], r["profile"])  # noqa: E731
    first = {key(r): r for r in a}
    speeds = {"a": _speed(a), "b": _speed(b)}
    apart = quiet.speed_apart(speeds["a"], speeds["b"])
    moved = [apart] if apart else []
    rows = []
    for rb in b:
        ra = first.get(key(rb))
        if ra is None or ra["status"] != "ok" or rb["status"] != "ok":
            continue
        metrics_a = headline(ra)
        for name, mb in headline(rb).items():
            ma = metrics_a.get(name)
            if ma is None:
                continue
            sa, sb = ma["summary"], mb["summary"]
            b_in_a = sa["ci_low"] <= sb["median"] <= sa["ci_high"]
            a_in_b = sb["ci_low"] <= sa["median"] <= sb["ci_high"]
            causes = _cause(rb) + moved
            recorded = any(p.get("interference") for p in rb.get("processes") or [])
            outcome = ("reproduced" if b_in_a else "explained miss" if causes
                       else "unexplained miss" if recorded else "miss, run B kept no records")
            rows.append({**dict(zip(COLUMNS[:5], key(rb), strict=True)), "metric": name,
                         "median_a": sa["median"], "median_b": sb["median"], "ratio": sb["median"] / sa["median"],
                         "b_in_a": b_in_a, "a_in_b": a_in_b, "outcome": outcome, "cause": "; ".join(causes)})
    frame = pd.DataFrame(rows, columns=COLUMNS).sort_values(COLUMNS[:6], kind="stable").reset_index(drop=True)
    return frame, speeds


#: A claim's measured ratio moving by more than this factor between runs is reported as moved.
CLAIM_MOVE = 1.2
CLAIM_COLUMNS = ["claim", "machine_id", "verdict_a", "verdict_b", "ratio_a", "ratio_b", "moved"]


def claim_verdicts(rs: list[dict], doc: dict, comparison: dict) -> pd.DataFrame:
    """The verdicts of the ledger's result claims on one run's results alone."""
    from pipeline.publish.aggregate import build_tables
    from pipeline.publish.compare import derived_tables
    from pipeline.publish.verdicts import judge

    tables = build_tables(rs)
    tables.update(derived_tables(tables["cells"], tables["samples"], comparison["threshold"], comparison["alpha"]))
    measured = [c for c in doc["claims"] if "predicate" in c and "ecosystem" not in c["predicate"]]
    return judge({**doc, "claims": measured}, tables, {})


def claims_moved(a: list[dict], b: list[dict], doc: dict, comparison: dict) -> pd.DataFrame:
    """Per claim and machine judged on both runs: both verdicts and ratios, and whether
    the verdict changed or the ratio moved by more than ``CLAIM_MOVE``."""
    va, vb = claim_verdicts(a, doc, comparison), claim_verdicts(b, doc, comparison)
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


def _moved(data_dir: Path, a: list[dict], b: list[dict]) -> pd.DataFrame:
    """``claims_moved`` with the config's comparison and the ledger beside the results
    (none there: no claim to judge)."""
    from pipeline.core.config import load
    from pipeline.publish import claims

    ledger = Path(data_dir) / "claims.yaml"
    if not ledger.is_file():
        return pd.DataFrame(columns=CLAIM_COLUMNS)
    return claims_moved(a, b, claims.load(ledger), load()["comparison"])


def report(data_dir: Path, run_a: str, run_b: str) -> tuple[pd.DataFrame, dict, list[str], pd.DataFrame]:
    """Load both runs and compare them: cells, speed indices, refused files, claims.
    Raises ValueError when a run has no result."""
    a, refused_a = results.load_run(data_dir, run_a)
    b, refused_b = results.load_run(data_dir, run_b)
    for run, found in ((run_a, a), (run_b, b)):
        if not found:
            raise ValueError(f"run {run!r}: no result under {Path(data_dir) / 'results'} or "
                             f"{Path(data_dir) / 'history'} belongs to it")
    frame, speeds = compare_runs(a, b)
    return frame, speeds, refused_a + refused_b, _moved(data_dir, a, b)


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
    lines.append(f"{inside} of {n} medians of run B inside run A's interval ({100 * inside / n:.0f}%); "
                 f"{unexplained} miss(es) without a recorded cause; median ratio B/A {median_ratio:.2f}"
                 if n else "no cell was measured ok in both runs")
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


def latest(data_dir: Path, current: list[dict]) -> tuple[pd.DataFrame, list[dict]]:
    """Per machine, the run behind its current results against the run before it (kept
    under ``history/``): the report's rows, and one summary per machine for the pages."""
    frames, summaries = [], []
    for machine in sorted({r["machine_id"] for r in current}):
        newest = max((r for r in current if r["machine_id"] == machine),
                     key=lambda r: r["provenance"]["recorded_at"])
        run_b = results.run_of(newest)
        earlier = []
        for folder in sorted((Path(data_dir) / "history" / machine).glob("*")):
            if folder.is_dir() and folder.name != run_b:
                found = [r for r in results.load_run(data_dir, folder.name, current)[0]
                         if r["machine_id"] == machine]
                if found:
                    earlier.append((_started(found), folder.name, found))
        if not earlier:
            continue
        _, run_a, a = max(earlier, key=lambda e: e[0])
        b = [r for r in results.load_run(data_dir, run_b, current)[0] if r["machine_id"] == machine]
        frame, speeds = compare_runs(a, b)
        if frame.empty:  # no cell measured ok in both (another profile, say): nothing reproduced or missed
            continue
        frames.append(frame.assign(run_a=run_a, run_b=run_b))
        misses = frame[~frame["b_in_a"].astype(bool)]
        moved = _moved(data_dir, a, b)
        summaries.append({
            "machine_id": machine, "run_a": run_a, "run_b": run_b, "figures": len(frame),
            "inside": int(frame["b_in_a"].sum()), "unexplained": int((misses["outcome"] != "explained miss").sum()),
            "median_ratio": float(frame["ratio"].median()) if len(frame) else None,
            "speed_a": speeds["a"], "speed_b": speeds["b"],
            "misses": misses[["workload", "framework", "mode", "metric", "ratio", "outcome", "cause"]]
            .to_dict("records"),
            "claims": len(moved), "claims_moved": _records(moved[moved["moved"]]), "claim_move": CLAIM_MOVE,
        })
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*COLUMNS, "run_a", "run_b"])
    return frame, summaries
