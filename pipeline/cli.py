"""``python -m pipeline <command>``: every step of the DAG runs on its own too."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

import yaml

from pipeline.contract import PROFILES
from pipeline.core import config as config_mod
from pipeline.core import quiet, results
from pipeline.core.frameworks import FRAMEWORKS
from pipeline.core.registry import WorkloadError, discover
from pipeline.measure import hardware, lifetime, provenance


def _overrides(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--set expects KEY=VALUE, got {pair!r}")
        out[key] = yaml.safe_load(value)
    return out


def cmd_check(ns) -> int:
    """Validate the config, every workload and every stored result; time nothing."""
    cfg = config_mod.load(Path(ns.config), _overrides(ns.set))
    cells = config_mod.check(cfg, source=ns.config)
    from pipeline.publish.pages import missing_nav_entries

    selected = config_mod.selected_workloads(cfg)
    missing = missing_nav_entries(selected)
    if missing:
        raise WorkloadError("mkdocs.yml: field nav: no entry for " + ", ".join(missing))
    from pipeline.core.registry import check_deeply

    problems = [p for name, w in selected.items() for p in check_deeply(w, config_mod.workload_options(cfg, name))]
    if problems:
        raise WorkloadError("\n".join(problems))
    from pipeline.core import snapshot
    from pipeline.publish import claims, guide

    ledger = claims.load(Path(cfg["data_dir"]) / "claims.yaml")
    scenarios = guide.load(Path(cfg["data_dir"]) / "scenarios.yaml", sources={s["id"] for s in ledger["sources"]},
                           claim_ids={c["id"] for c in ledger["claims"]})
    snap = Path(cfg["data_dir"]) / "ecosystem" / "snapshot.json"
    if snap.is_file():
        snapshot.load(snap)
    # after the inputs: a refused result is reported with the rest of what check found
    _, refused = results.load_all(Path(cfg["data_dir"]))
    for line in refused:
        print(f"error: refused result: {line}", file=sys.stderr)
    if refused:
        print(f"error: {len(refused)} result file(s) refused; fix or remove them", file=sys.stderr)
        return 2
    workloads = sorted({c.workload for c in cells})
    print(f"ok: config {ns.config} (profile {cfg['profile']}), {len(workloads)} workload(s) "
          f"[{', '.join(workloads)}], {len(cells)} cell(s), machine {hardware.machine_id()}; "
          f"{len(ledger['claims'])} claim(s), {len(scenarios['scenarios'])} scenario(s)")
    return 0


def cmd_cells(ns) -> int:
    """List the cells the config selects; with --plan, whether each is measured by
    the next run (its stored result is not current) and why, and its DAG stamp."""
    from pipeline.core import freshness

    cfg = config_mod.load(Path(ns.config), _overrides(ns.set))
    cells = config_mod.check(cfg, source=ns.config)
    if not ns.plan:
        for cell in cells:
            print(f"{cell.workload} {cell.framework} {cell.mode}")
        return 0
    planned = freshness.plan(cfg, cells, config_mod.selected_workloads(cfg, ns.config), hardware.machine_id())
    for cell, p in planned.items():
        verdict = "current" if p.state.current else "measure"
        print(f"{cell.workload}\t{cell.framework}\t{cell.mode}\t{verdict}\t{p.stamp}\t{p.state.reason}")
    return 0


def cmd_ripple(ns) -> int:
    """What a change alters beyond its own files: cells to measure, tables, verdicts, guide scores, pages."""
    from pipeline.core import freshness
    from pipeline.publish import ripple

    cfg = config_mod.load(Path(ns.config), _overrides(ns.set))
    cells = config_mod.check(cfg, source=ns.config)
    planned = freshness.plan(cfg, cells, config_mod.selected_workloads(cfg, ns.config), hardware.machine_id())
    to_measure = [f"{c.workload} {c.framework} {c.mode}: {p.state.reason}" for c, p in planned.items()
                  if not p.state.current]
    found = ripple.ripple(Path(cfg["data_dir"]), Path(ns.docs_dir), cfg["comparison"], cfg["publish"],
                          _declared(cfg), ns.base)
    print(ripple.report(found, to_measure))
    return 0


def cmd_detect(ns) -> int:
    """Describe this machine and ask each installed framework what devices it sees."""
    from pipeline.measure.harness import DetectionError, detect

    try:
        info = detect()
    except DetectionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    results.write_atomic(Path(ns.out), info)
    print(json.dumps(info, indent=1))
    return 0


def _stop_with_parent() -> None:
    """A measuring command stops (and stops its worker) when its parent goes or
    when it is told to terminate, so nothing of a run outlives it."""
    lifetime.exit_on_terminate()
    lifetime.die_with_parent(signal.SIGTERM)


#: the exit codes of `run`, said in its --help (the Contributing page says the same)
RUN_EXIT_CODES = (
    "Exit code 0 means the result was written, whatever the cell's status: a cell that crashed, timed out, "
    "ran out of memory, produced NaN or is unsupported still exits 0, its status and reason recorded in the "
    "result file and printed. A non-zero code means no result was written: 2 for input that was refused "
    "(a malformed workload, config or option), 1 for an unknown framework or mode, or an error of the "
    "harness itself, printed with its traceback."
)


def cmd_run(ns) -> int:
    from pipeline.core.registry import WORKLOADS_DIR, load_workload
    from pipeline.measure.harness import run_cell

    _stop_with_parent()
    provenance.ensure_run_id()  # one id for this command's processes, unless a DAG run set it

    if ns.framework not in FRAMEWORKS:
        raise SystemExit(f"--framework: unknown framework {ns.framework!r}; known: {', '.join(FRAMEWORKS)}")
    if ns.mode not in FRAMEWORKS[ns.framework].modes:
        raise SystemExit(f"--mode: {ns.framework} has no mode {ns.mode!r}; "
                         f"known: {', '.join(FRAMEWORKS[ns.framework].modes)}")
    workload = load_workload(Path(ns.workloads_dir or WORKLOADS_DIR) / ns.workload)
    cache = Path(ns.compile_cache) if ns.compile_cache else None
    result = run_cell(
        workload, ns.framework, ns.mode, ns.profile, Path(ns.out), processes=ns.processes,
        first_index=ns.process_index, device=ns.device, threads=config_mod.threads({"threads": ns.threads}),
        seed=ns.seed, timeout_s=ns.timeout, memory_limit_mb=config_mod.memory_limit_mb(ns.memory_limit_mb),
        options=ns.options, compile_cache=str(cache) if cache else None, reruns=ns.reruns,
    )
    print(describe(result))
    return 0


def describe(result: dict) -> str:
    line = f"{result['workload']} {result['framework']} {result['mode']}: {result['status']}"
    metrics = result["metrics"]
    if result["status"] == "ok" and "train_throughput" in metrics:
        thr = metrics["train_throughput"]["summary"]
        line += (f", train {thr['median']:,.0f} {metrics['train_throughput']['unit']} [{thr['ci_low']:,.0f},"
                 f" {thr['ci_high']:,.0f}] over {len(result['processes'])} process(es),"
                 f" first step {(metrics.get('time_to_first_step') or {}).get('value') or 0:.2f} s (cold),"
                 f" accuracy {metrics['accuracy']['value']:.3f}")
    elif result["status"] == "ok":
        line += f" over {len(result['processes'])} process(es)"
    for name, case in (result.get("cases") or {}).items():
        shown = f"{name}/throughput"
        if shown in metrics:
            line += f"\n  {name}: {metrics[shown]['value']:,.4g} {metrics[shown]['unit']}"
        if case["status"] != "ok":
            line += f"\n  {name}: {case['status']} ({case['reason']})"
    if result["status"] != "ok":
        line += f" ({result['reason']})\n--- stderr tail ---\n{result['stderr_tail'][-1500:]}"
    return line


def cmd_budget(ns) -> int:
    """The 5 ms rule and the compute (and, from a run's log, overhead) estimate of a profile."""
    from pipeline.core import reference_figures
    from pipeline.measure import budget

    cfg = config_mod.load(Path(ns.config), {"profile": ns.profile, "measure": False,
                                            "frameworks": ns.frameworks.split(","), **_overrides(ns.set)})
    accelerators = reference_figures.load_accelerators(Path(ns.accelerators))
    if ns.accelerator not in accelerators:
        raise reference_figures.AcceleratorError(f"{ns.accelerators}: field accelerators: no entry "
                                                 f"{ns.accelerator!r} (known: {', '.join(accelerators)})")
    lacking = {"fp32", "bf16"} - set(reference_figures.peaks(accelerators[ns.accelerator]))
    if lacking:
        # the profile times FP32 and BF16 steps; a peak we could not source is not guessed
        raise reference_figures.AcceleratorError(
            f"{ns.accelerators}: field accelerators.{ns.accelerator}.figures: no "
            f"{' or '.join(sorted(f'{p}_flops' for p in lacking))}, which the budget needs")
    log = json.loads(Path(ns.log).read_text()) if ns.log else None
    cells = [c for c in config_mod.check(cfg, source=ns.config)
             if set(FRAMEWORKS[c.framework].needs(c.mode)) <= set(cfg["frameworks"])]
    rows = budget.plan(config_mod.selected_workloads(cfg), cells, ns.profile,
                       config_mod.processes(cfg), accelerators[ns.accelerator], log)
    print(budget.table(rows, accelerators[ns.accelerator], ns.budget_s))
    return 0 if all(r["meets_5ms"] for r in rows) else 1


def cmd_run_suite(ns) -> int:
    """Every cell of a profile, processes in rounds, without Snakemake (a lent GPU machine)."""
    from pipeline.measure.suite import Suite, summary

    _stop_with_parent()
    overrides = {"profile": ns.profile, **_overrides(ns.set)}
    if ns.timeout is not None:
        overrides["timeout_s"] = ns.timeout
    if ns.processes is not None:
        overrides["processes"] = {**config_mod.load(Path(ns.config))["processes"], ns.profile: ns.processes}
    cfg = config_mod.load(Path(ns.config), overrides)
    suite = Suite(cfg, Path(ns.out), source=ns.config, budget_s=ns.budget_s, warm_cache=not ns.cold_cache,
                  timer_check=not ns.no_timer_check, echo=lambda line: print(line, flush=True))
    log = suite.run()
    print(summary(log))
    print(f"results under {Path(ns.out) / 'results' / suite.machine}; log {suite.log_path}")
    return 0


def cmd_verify(ns) -> int:
    """Check result files as a maintainer checks a pull request: values, profile,
    provenance against the recorded commit, equivalence with the machine's reference
    cell, FLOP/s against its ceiling. Exit code 1 with one finding per line."""
    from pipeline.publish.verify import main as verify_main

    cfg = config_mod.load(Path(ns.config), _overrides(ns.set))
    return verify_main(ns.paths, Path(ns.data_dir), discover(), _declared(cfg))


def cmd_reproduce_report(ns) -> int:
    """Compare two runs of a machine: per cell, the ratio of medians, whether each falls inside
    the other run's interval, and what the later run recorded that could explain a miss."""
    from pipeline.publish.reproduce import report, table

    cfg = config_mod.load(Path(ns.config), _overrides(ns.set))
    try:
        frame, speeds, refused, claims = report(Path(ns.data_dir), ns.run_a, ns.run_b, cfg["comparison"],
                                                _declared(cfg))
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for line in refused:
        print(f"refused: {line}", file=sys.stderr)
    print(table(frame, speeds, ns.run_a, ns.run_b, claims))
    if ns.out:
        results.replace_file(Path(ns.out), frame.to_csv(index=False))
    return 0


def cmd_variance(ns) -> int:
    """Where the variance of the figures lives (samples, processes, runs), per machine and
    workload, from every stored run, with what each level costs in time."""
    from pipeline.publish import variance

    current, refused = results.load_all(Path(ns.data_dir))
    history, refused_history = results.load_history(Path(ns.data_dir))
    for line in refused + refused_history:
        print(f"refused: {line}", file=sys.stderr)
    frame = variance.table(variance.published(current, history, ns.profile.split(",")))
    print(variance.text(frame))
    if ns.out:
        results.replace_file(Path(ns.out), frame.to_csv(index=False))
    return 0


def cmd_merge(ns) -> int:
    """Combine one-process results written by separate jobs into the cell's result file."""
    from pipeline.measure.harness import merge_files

    print(describe(merge_files([Path(p) for p in ns.inputs], Path(ns.out))))
    return 0


def cmd_timer_check(ns) -> int:
    """Time one function with the harness's clock and with independent timers; print both."""
    from pipeline.measure.timer_check import run, table

    report = run(ns.rounds)
    if ns.out:
        results.write_atomic(Path(ns.out), report)
    print(table(report))
    return 0


def _declared(cfg: dict):
    """What the repository declares now, for the tables: the config's and the workloads' counts."""
    from pipeline.publish.tables import declared

    return declared(cfg, discover())


def cmd_aggregate(ns) -> int:
    from pipeline.publish.aggregate import aggregate

    cfg = config_mod.load(Path(ns.config), _overrides(ns.set))
    comparison = {"threshold": ns.threshold or cfg["comparison"]["threshold"],
                  "alpha": ns.alpha or cfg["comparison"]["alpha"]}
    publish = ns.publish.split(",") if ns.publish else cfg["publish"]
    cells, refused = aggregate(Path(ns.data_dir), Path(ns.out_dir), publish, comparison, _declared(cfg))
    for line in refused:
        print(f"refused: {line}", file=sys.stderr)
    print(f"{len(cells)} cell(s) aggregated, {len(refused)} file(s) refused -> {ns.out_dir}")
    return 0


def cmd_charts(ns) -> int:
    from pipeline.publish.charts import draw_all
    from pipeline.publish.tables import read_tables

    tables = read_tables(Path(ns.tables))
    written = draw_all(tables, Path(ns.out_dir))
    Path(ns.stamp).write_text("\n".join(written) + "\n")
    print(f"{len(written)} chart(s) -> {ns.out_dir}")
    return 0


def cmd_ecosystem(ns) -> int:
    """Measure each installed framework's footprint, dependencies and cold import time."""
    from pipeline.measure import ecosystem_live as live

    doc = live.measure(ns.runs)
    live.write(Path(ns.out), doc)
    for name, entry in doc["frameworks"].items():
        figures = {k: v.get("value") for k, v in entry.get("figures", {}).items()}
        print(f"{name}: " + (", ".join(f"{k} {v}" for k, v in figures.items()) if entry["installed"]
                             else "not installed"))
    return 0


def cmd_refresh(ns) -> int:
    """Update the public-source snapshot where the network allows; keep stored figures otherwise."""
    from pipeline.measure import ecosystem_refresh as refresh

    report = refresh.refresh(Path(ns.snapshot))
    print(json.dumps(report, indent=1, default=str))
    return 0


def cmd_verdicts(ns) -> int:
    """Judge every claim of the ledger on every machine's results."""
    from pipeline.publish import bounds, claims
    from pipeline.publish.tables import read_tables
    from pipeline.publish.verdicts import judge, load_ecosystem, summary

    references = bounds.load_references(Path(ns.data_dir))
    doc = claims.load(Path(ns.claims), references=references)
    table = judge(doc, read_tables(Path(ns.data_dir) / "tables"), load_ecosystem(Path(ns.data_dir)), references)
    results.replace_file(Path(ns.out), table.to_csv(index=False))
    print(f"{len(doc['claims'])} claim(s), {len(table)} verdict(s) -> {ns.out}: {summary(table)}")
    return 0


def cmd_guide(ns) -> int:
    """Score every decision-guide scenario on every machine (a table the guide page renders)."""
    from pipeline.publish import guide

    evaluated = guide.write(Path(ns.data_dir), Path(ns.out))
    print(f"{len(evaluated)} scenario(s) scored -> {ns.out}")
    return 0


def cmd_ergonomics(ns) -> int:
    """Lines of code and distinct framework APIs per workload and framework, and the lines
    that change from a single-device implementation to its data-parallel one (tables)."""
    from pipeline.publish import ergonomics, scale_out

    table = ergonomics.write(Path(ns.out)) if ns.out else ergonomics.table()
    print(table.drop(columns=["apis"]).to_string(index=False))
    changes = scale_out.write(Path(ns.out).with_name("scale_out.json")) if ns.out else scale_out.table()
    print(changes.drop(columns=["diff", "single_file", "file"]).to_string(index=False))
    return 0


def cmd_pages(ns) -> int:
    from pipeline.publish.pages import write_pages

    written = write_pages(Path(ns.data_dir), Path(ns.docs_dir))
    print(f"{len(written)} page(s) written: {', '.join(str(p) for p in written)}")
    return 0


def _built_site(folder: str) -> Path | None:
    """The built site's folder, or None (said on stderr) when nothing was built there."""
    site = Path(folder)
    if (site / "index.html").is_file():
        return site
    print(f"error: {site}: no built site here (snakemake, or mkdocs build, writes it)", file=sys.stderr)
    return None


def cmd_page_weight(ns) -> int:
    """Every page of the built site loaded cold in headless Chromium: requests and bytes against the targets."""
    from pipeline.publish import browse

    site = _built_site(ns.site)
    if site is None:
        return 2
    rows = browse.measure(site)
    print(browse.table(rows))
    return 1 if any(r["over"] for r in rows) else 0


def cmd_screenshots(ns) -> int:
    """Every page of the built site at 1280 and 390 px wide, as PNGs in one folder."""
    from pipeline.publish import browse

    site = _built_site(ns.site)
    if site is None:
        return 2
    written = browse.screenshots(site, Path(ns.out))
    print(f"{len(written)} screenshot(s) in {ns.out}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    def with_config(sp):
        sp.add_argument("--config", default="config/config.yaml")
        sp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, as snakemake --config does")
        return sp

    with_config(sub.add_parser("check", help=cmd_check.__doc__))
    sp = with_config(sub.add_parser("cells", help=cmd_cells.__doc__))
    sp.add_argument("--plan", action="store_true", help="also: measured next or current, why, and the stamp")
    sp = with_config(sub.add_parser("ripple", help=cmd_ripple.__doc__))
    sp.add_argument("--base", default=None, metavar="REF",
                    help="compare with the committed files at this git ref (default: the working tree's)")
    sp.add_argument("--docs-dir", default="docs")
    sp = sub.add_parser("detect", help=cmd_detect.__doc__)
    sp.add_argument("--out", required=True)

    sp = sub.add_parser("run", help="measure one cell in a child process and write its result",
                        description="Measure one cell in fresh child processes and write its result to --out.",
                        epilog=RUN_EXIT_CODES)
    sp.add_argument("--workload", required=True)
    sp.add_argument("--framework", required=True)
    sp.add_argument("--mode", required=True)
    sp.add_argument("--profile", default="default", choices=PROFILES)
    sp.add_argument("--out", required=True)
    sp.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "tpu"])
    sp.add_argument("--threads", default="all", type=lambda v: v if v == "all" else int(v))
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--timeout", type=float, default=1200)
    sp.add_argument("--processes", type=int, default=1, help="fresh processes to run, one after another")
    sp.add_argument("--process-index", type=int, default=0,
                    help="index of the first process (0 also empties --compile-cache)")
    sp.add_argument("--compile-cache", default=None,
                    help="a compile cache folder the cell's processes share (default: a fresh one per process)")
    sp.add_argument("--memory-limit-mb", default="auto", help="kill a process above this resident memory")
    sp.add_argument("--reruns", type=int, default=quiet.RERUNS,
                    help="times a process that ran beside other work is started again before it is recorded as "
                         "contended")
    sp.add_argument("--options", default="{}", type=json.loads,
                    help="extra make_problem() keywords as JSON, e.g. a local data set's folder")
    sp.add_argument("--workloads-dir", default=None, help=argparse.SUPPRESS)

    sp = sub.add_parser("run-suite", help=cmd_run_suite.__doc__)
    with_config(sp)
    sp.add_argument("--profile", default="gpu", choices=PROFILES)
    sp.add_argument("--out", required=True, help="a data folder: results/, machines/, timer_check/, runs/")
    sp.add_argument("--budget-s", type=float, default=None, help="start no process after this many seconds")
    sp.add_argument("--timeout", type=float, default=None, help="per-process timeout (default: the config's)")
    sp.add_argument("--processes", type=int, default=None, help="processes per cell (default: the config's)")
    sp.add_argument("--cold-cache", action="store_true",
                    help="a fresh compile cache for every process (default: later processes reuse the first's)")
    sp.add_argument("--no-timer-check", action="store_true", help="skip the timer check")

    sp = sub.add_parser("budget", help=cmd_budget.__doc__)
    with_config(sp)
    sp.add_argument("--profile", default="gpu", choices=PROFILES)
    sp.add_argument("--accelerator", default="nvidia-h200", help="an entry of the accelerators table")
    sp.add_argument("--accelerators", default="site_data/accelerators.yaml")
    sp.add_argument("--frameworks", default="torch,jax,keras",
                    help="the frameworks the accelerator machine has (the H200 image has no TensorFlow)")
    sp.add_argument("--log", default=None, help="a run-suite log: its per-process durations as overheads")
    sp.add_argument("--budget-s", type=float, default=None, help="the budget to set the estimate against")

    sp = with_config(sub.add_parser("verify", help=cmd_verify.__doc__))
    sp.add_argument("--data-dir", default="site_data", help="the results the files are set against")
    sp.add_argument("paths", nargs="*", help="result files (default: every one under the data folder)")

    sp = with_config(sub.add_parser("reproduce-report", help=cmd_reproduce_report.__doc__))
    sp.add_argument("run_a", help="the earlier run's id (see the Environment page)")
    sp.add_argument("run_b", help="the later run's id")
    sp.add_argument("--data-dir", default="site_data")
    sp.add_argument("--out", default=None, help="also write the rows as CSV")

    sp = sub.add_parser("variance", help=cmd_variance.__doc__)
    sp.add_argument("--data-dir", default="site_data")
    sp.add_argument("--profile", default="default", help="the profiles read, comma-separated")
    sp.add_argument("--out", default=None, help="also write the table as CSV")

    sp = sub.add_parser("merge", help=cmd_merge.__doc__)
    sp.add_argument("--out", required=True)
    sp.add_argument("inputs", nargs="+")

    sp = sub.add_parser("timer-check", help=cmd_timer_check.__doc__)
    sp.add_argument("--rounds", type=int, default=5)
    sp.add_argument("--out", default=None, help="also write the report as JSON")

    sp = with_config(sub.add_parser("aggregate", help="result files -> pandas tables"))
    sp.add_argument("--data-dir", default="site_data")
    sp.add_argument("--publish", default=None, help="profiles to publish, in order of preference per machine "
                                                     "(default: the config's publish)")
    sp.add_argument("--out-dir", default="site_data/tables")
    sp.add_argument("--threshold", type=float, default=None,
                    help="smallest ratio worded as a difference (default: the config's comparison.threshold)")
    sp.add_argument("--alpha", type=float, default=None,
                    help="significance level of the process test (default: the config's comparison.alpha)")

    sp = sub.add_parser("charts", help="tables -> Altair charts (Vega-Lite JSON + SVG)")
    sp.add_argument("--tables", default="site_data/tables")
    sp.add_argument("--out-dir", default="docs/assets/charts")
    sp.add_argument("--stamp", default="docs/assets/charts/index.txt")

    sp = sub.add_parser("pages", help="tables, charts and results -> Markdown pages")
    sp.add_argument("--data-dir", default="site_data")
    sp.add_argument("--docs-dir", default="docs")
    sp = sub.add_parser("ecosystem", help=cmd_ecosystem.__doc__)
    sp.add_argument("--out", required=True)
    sp.add_argument("--runs", type=int, default=7, help="fresh processes timing each import")

    sp = sub.add_parser("refresh", help=cmd_refresh.__doc__)
    sp.add_argument("--snapshot", default="site_data/ecosystem/snapshot.json")

    sp = sub.add_parser("verdicts", help=cmd_verdicts.__doc__)
    sp.add_argument("--data-dir", default="site_data")
    sp.add_argument("--claims", default="site_data/claims.yaml")
    sp.add_argument("--out", default="site_data/tables/verdicts.csv")

    sp = sub.add_parser("guide", help=cmd_guide.__doc__)
    sp.add_argument("--data-dir", default="site_data")
    sp.add_argument("--out", default="site_data/tables/guide.json")

    sp = sub.add_parser("ergonomics", help=cmd_ergonomics.__doc__)
    sp.add_argument("--out", default=None, help="also write the table as CSV, and scale_out.json beside it")

    sp = sub.add_parser("page-weight", help=cmd_page_weight.__doc__)
    sp.add_argument("--site", default="site")

    sp = sub.add_parser("screenshots", help=cmd_screenshots.__doc__)
    sp.add_argument("--site", default="site")
    sp.add_argument("--out", default="build/screenshots")
    return p


COMMANDS = {
    "check": cmd_check, "cells": cmd_cells, "ripple": cmd_ripple, "detect": cmd_detect, "run": cmd_run,
    "merge": cmd_merge,
    "timer-check": cmd_timer_check, "run-suite": cmd_run_suite, "budget": cmd_budget, "verify": cmd_verify,
    "aggregate": cmd_aggregate, "charts": cmd_charts, "pages": cmd_pages,
    "ecosystem": cmd_ecosystem, "refresh": cmd_refresh, "verdicts": cmd_verdicts, "guide": cmd_guide,
    "ergonomics": cmd_ergonomics, "page-weight": cmd_page_weight,
    "screenshots": cmd_screenshots, "reproduce-report": cmd_reproduce_report, "variance": cmd_variance,
}


def main(argv: list[str] | None = None) -> int:
    ns = parser().parse_args(argv)
    try:
        return COMMANDS[ns.command](ns)
    except Exception as err:
        if not isinstance(err, _input_errors()):
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2


def _input_errors() -> tuple[type[Exception], ...]:
    """Bad input (named file and field), as opposed to a bug, which keeps its traceback."""
    from pipeline.core.reference_figures import AcceleratorError, ModelCostError
    from pipeline.core.snapshot import SnapshotError
    from pipeline.publish.claims import ClaimError

    return (config_mod.ConfigError, WorkloadError, results.ResultError, ClaimError, SnapshotError,
            AcceleratorError, ModelCostError)
