"""measure one cell in a child process and write its result"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.contract import PROFILES
from pipeline.core import config as config_mod
from pipeline.core import quiet
from pipeline.core.frameworks import FRAMEWORKS
from pipeline.core.registry import WORKLOADS_DIR, load_workload
from pipeline.measure import harness, lifetime, provenance

#: the exit codes of `run`, said in its --help (the Contributing page says the same)
RUN_EXIT_CODES = (
    "Exit code 0 means the result was written, whatever the cell's status: a cell that crashed, timed out, "
    "ran out of memory, produced NaN or is unsupported still exits 0, its status and reason recorded in the "
    "result file and printed. A non-zero code means no result was written: 2 for input that was refused "
    "(a malformed workload, config or option), 1 for an unknown framework or mode, or an error of the "
    "harness itself, printed with its traceback."
)


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Measure one cell in fresh child processes and write its result to --out."
    parser.epilog = RUN_EXIT_CODES
    parser.add_argument("--workload", required=True)
    parser.add_argument("--framework", required=True)
    parser.add_argument("--mode", required=True)
    parser.add_argument("--profile", default="default", choices=PROFILES)
    parser.add_argument("--out", required=True)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "tpu"])
    parser.add_argument("--threads", default="all", type=lambda v: v if v == "all" else int(v))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=1200)
    parser.add_argument("--processes", type=int, default=1, help="fresh processes to run, one after another")
    parser.add_argument("--process-index", type=int, default=0,
                        help="index of the first process (0 also empties --compile-cache)")
    parser.add_argument("--compile-cache", default=None,
                        help="a compile cache folder the cell's processes share (default: a fresh one per process)")
    parser.add_argument("--memory-limit-mb", default="auto", help="kill a process above this resident memory")
    parser.add_argument("--reruns", type=int, default=quiet.RERUNS,
                        help="times a process that ran beside other work is started again before it is recorded "
                             "as contended")
    parser.add_argument("--options", default="{}", type=json.loads,
                        help="extra make_problem() keywords as JSON, e.g. a local data set's folder")
    parser.add_argument("--workloads-dir", default=None, help=argparse.SUPPRESS)


def main(ns: argparse.Namespace) -> int:
    lifetime.stop_with_parent()
    provenance.ensure_run_id()  # one id for this command's processes, unless a DAG run set it

    if ns.framework not in FRAMEWORKS:
        raise SystemExit(f"--framework: unknown framework {ns.framework!r}; known: {', '.join(FRAMEWORKS)}")
    if ns.mode not in FRAMEWORKS[ns.framework].modes:
        raise SystemExit(f"--mode: {ns.framework} has no mode {ns.mode!r}; "
                         f"known: {', '.join(FRAMEWORKS[ns.framework].modes)}")
    workload = load_workload(Path(ns.workloads_dir or WORKLOADS_DIR) / ns.workload)
    cache = Path(ns.compile_cache) if ns.compile_cache else None
    result = harness.run_cell(
        workload, ns.framework, ns.mode, ns.profile, Path(ns.out), processes=ns.processes,
        first_index=ns.process_index, device=ns.device, threads=config_mod.threads({"threads": ns.threads}),
        seed=ns.seed, timeout_s=ns.timeout, memory_limit_mb=config_mod.memory_limit_mb(ns.memory_limit_mb),
        options=ns.options, compile_cache=str(cache) if cache else None, reruns=ns.reruns,
    )
    print(harness.describe(result))
    return 0
