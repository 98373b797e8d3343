"""Result files: one JSON per cell, written atomically, read back validated.

A corrupt, foreign or tampered file (a value out of its unit's range, a summary
that its samples do not give) is refused with its path and the offending field,
and never takes the other results down with it.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

from pipeline import SCHEMAS
from pipeline.core import validation
from pipeline.core.statistics import summarize

SCHEMA_PATH = SCHEMAS / "result.schema.json"


class ResultError(validation.InputError):
    """A result file that cannot be used; the message names the file and field."""


#: the profile whose results are named plainly; a result of any other profile
#: carries it in its name (``torch-eager@smoke.json``), so a smoke or GPU run is
#: stored beside the main job's results and never replaces them
MAIN_PROFILE = "default"


def stem(framework: str, mode: str, profile: str = MAIN_PROFILE) -> str:
    return f"{framework}-{mode}" + ("" if profile == MAIN_PROFILE else f"@{profile}")


def result_path(data_dir: Path, machine_id: str, workload: str, framework: str, mode: str,
                profile: str = MAIN_PROFILE) -> Path:
    return Path(data_dir) / "results" / machine_id / workload / f"{stem(framework, mode, profile)}.json"


def published(found: list[dict], publish: list[str]) -> tuple[list[dict], list[dict]]:
    """(shown, kept aside): per machine, the results of the first profile in
    ``publish`` it has any result for; the rest stay stored but off the site."""
    chosen = {}
    for machine in {r["machine_id"] for r in found}:
        mine = {r["profile"] for r in found if r["machine_id"] == machine}
        chosen[machine] = next((p for p in publish if p in mine), None)
    shown = [r for r in found if r["profile"] == chosen[r["machine_id"]]]
    return shown, [r for r in found if r["profile"] != chosen[r["machine_id"]]]


def validate(result: dict, source: str) -> None:
    validation.check(result, SCHEMA_PATH, source, ResultError)


#: what a metric's unit allows: (lowest, highest, lowest allowed itself). A rate
#: (a unit ending in "/s") is positive and below 1e18 per second; nothing measured
#: on one machine comes near that.
UNIT_RANGES = {
    "s": (0.0, 1e6, False),
    "fraction": (0.0, 1.0, True),
    "count": (0.0, 1e9, True),
    "bytes": (0.0, 1e15, True),
    "nats": (0.0, 1e4, True),
    "relative": (0.0, 1e6, True),
    "logit": (0.0, 1e9, True),
}
RATE_RANGE = (0.0, 1e18, False)
#: summary fields re-derived from the samples (``statistics.summarize``)
DERIVED = ("n", "median", "q1", "q3", "min", "max", "ci_low", "ci_high", "cv")


def _refuse(source: str, field: str, message: str) -> ResultError:
    return ResultError(f"{source}: field {field}: {message}")


def _check_number(value, unit: str, source: str, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _refuse(source, field, f"{value!r} is not a finite number")
    low, high, low_ok = RATE_RANGE if unit.endswith("/s") else UNIT_RANGES.get(unit, (-math.inf, math.inf, True))
    if value > high or value < low or (value == low and not low_ok):
        bounds = f"{'[' if low_ok else '('}{low:g}, {high:g}]"
        raise _refuse(source, field, f"{value!r} {unit} is outside {bounds}, the range of a {unit} value")


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def check_values(result: dict, source: str) -> None:
    """What a schema cannot say: every metric value finite and in its unit's
    range, every summary the one its samples (grouped by process) give."""
    for name, metric in result.get("metrics", {}).items():
        unit, where = metric["unit"], f"metrics.{name}"
        values = metric.get("samples")
        per_process = values is None
        if per_process:
            values = [v for v in metric["per_process"] if v is not None]
        for i, v in enumerate(values):
            _check_number(v, unit, source, f"{where}.{'per_process' if per_process else 'samples'}.{i}")
        if metric["value"] is not None:
            _check_number(metric["value"], unit, source, f"{where}.value")
        elif not per_process:
            raise _refuse(source, f"{where}.value", "a sampled metric needs its median")
        groups = None if per_process else metric.get("groups")
        if groups is not None and sum(groups) != len(values):
            raise _refuse(source, f"{where}.groups", f"{groups!r} add up to {sum(groups)}, not to the "
                                                     f"{len(values)} samples")
        owners = metric.get("processes")
        taken = len(metric["per_process"]) if per_process else len(groups or [1])
        if owners is not None and len(owners) != taken:
            raise _refuse(source, f"{where}.processes", f"{len(owners)} process indices for {taken} "
                                                        f"{'values' if per_process else 'groups of samples'}")
        summary = metric.get("summary")
        if summary is None or not values:
            continue
        expected = summarize(values, groups)
        for key in DERIVED:
            got, want = summary.get(key), expected[key]
            if want is None and got is None:  # cv of a zero mean
                continue
            if isinstance(got, bool) or not isinstance(got, int | float) or want is None or not _same(got, want):
                raise _refuse(source, f"{where}.summary.{key}",
                              f"{got!r} does not match its {len(values)} sample(s), which give {want!r}")
        if not per_process and not _same(metric["value"], expected["median"]):
            raise _refuse(source, f"{where}.value", f"{metric['value']!r} is not the median of its samples "
                                                    f"({expected['median']!r})")


def check_reasons(result: dict, source: str) -> None:
    """Graph-break reasons belong to a graph-break count the result records."""
    metrics = result.get("metrics") or {}
    for name in result.get("graph_break_reasons") or {}:
        if name not in metrics:
            raise _refuse(source, f"graph_break_reasons.{name}", "gives reasons for a graph-break count the result "
                                                                 "does not record")


def write_atomic(path: Path, payload: dict) -> None:
    """Write JSON so that a reader never sees half a file, and a crash mid-write
    leaves the previous result in place."""
    replace_file(path, json.dumps(payload, indent=1, allow_nan=False) + "\n")


def run_of(result: dict) -> str:
    """The DAG run a result belongs to: its newest process's run id, or, for results
    stored before runs were recorded, ``unrecorded-`` and the date it was recorded."""
    ids = [p.get("run_id") for p in result.get("processes") or [] if p.get("run_id")]
    if ids:
        return max(ids)
    return f"unrecorded-{str((result.get('provenance') or {}).get('recorded_at') or 'unknown')[:10]}"


def history_path(data_dir: Path, machine_id: str, run: str, workload: str, file_stem: str) -> Path:
    """Where a result replaced by a later run is kept: ``history/<machine>/<run>/<workload>/<stem>.json``."""
    return Path(data_dir) / "history" / machine_id / run / workload / f"{file_stem}.json"


def store(path: Path, result: dict) -> Path | None:
    """Write a cell's result in place. A stored result of another run is first kept under
    ``history/`` (the run's reproduction record), so measuring again adds a run rather than
    erasing one. Returns where the earlier result went, if anywhere."""
    path = Path(path)
    kept = None
    if path.is_file() and path.parent.parent.parent.name == "results":
        try:
            old = json.loads(path.read_text())
            old_run = run_of(old) if isinstance(old, dict) else None
        except (OSError, ValueError):
            old_run = None  # unreadable: nothing worth keeping
        if old_run and old_run != run_of(result):
            kept = history_path(path.parents[3], path.parent.parent.name, old_run, path.parent.name, path.stem)
            replace_file(kept, path.read_text())
    write_atomic(path, result)
    return kept


def load_run(data_dir: Path, run: str, current: list[dict] | None = None) -> tuple[list[dict], list[str]]:
    """Every result of one run, whether still current (``results/``) or replaced
    since (``history/``), and one error line per refused file. ``current``: the
    results under ``results/`` when the caller has already loaded them."""
    data_dir = Path(data_dir)
    if current is None:
        current, refused = load_all(data_dir)
    else:
        refused = []
    kept, refused_kept = load_history(data_dir, run)
    return [r for r in current + kept if run_of(r) == run], refused + refused_kept


def load_history(data_dir: Path, run: str | None = None) -> tuple[list[dict], list[str]]:
    """Every valid result kept under ``data_dir/history`` (of one run's folder, or of
    all), and one error line per refused file."""
    folder = glob_escape(run) if run else "*"
    return _load_each(sorted((Path(data_dir) / "history").glob(f"*/{folder}/*/*.json")), check_place=False)


def _load_each(paths: list[Path], check_place: bool = True) -> tuple[list[dict], list[str]]:
    good, refused = [], []
    for path in paths:
        try:
            good.append(load(path, check_place))
        except ResultError as err:
            refused.append(str(err))
    return good, refused


def glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def replace_file(path: Path, text: str) -> None:
    """Write a file beside its old version and swap it in only when complete: a
    failure (a full disk, an interrupt) leaves the old file as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path, check_place: bool = True) -> dict:
    """Read and validate one result; its place must match its content: under ``results/``,
    ``<machine>/<workload>/<stem>.json``; under ``history/``, ``<machine>/<run>/<workload>/<stem>.json``."""
    path = Path(path)
    try:
        result = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ResultError(f"{path}: not a readable JSON result: {err}") from None
    if not isinstance(result, dict):
        raise ResultError(f"{path}: field (top level): expected an object")
    validate(result, str(path))
    check_values(result, str(path))
    check_reasons(result, str(path))
    if not check_place:
        return result
    kept = len(path.parents) > 3 and path.parents[3].name == "history"
    expected = (path.parents[2 if kept else 1].name, path.parent.name, path.stem)
    found = (result["machine_id"], result["workload"], stem(result["framework"], result["mode"], result["profile"]))
    if kept and path.parents[1].name != run_of(result):
        raise ResultError(f"{path}: field processes.run_id: the result belongs to run {run_of(result)} "
                          f"but sits in the folder of run {path.parents[1].name}")
    if expected != found:
        raise ResultError(
            f"{path}: field machine_id/workload/framework/mode: the file says "
            f"{'/'.join(found)} but sits at {'/'.join(expected)}"
        )
    return result


def load_all(data_dir: Path) -> tuple[list[dict], list[str]]:
    """Every valid result under ``data_dir/results``, and one error line per refused file."""
    return _load_each(sorted((Path(data_dir) / "results").glob("*/*/*.json")))


def failed(path: Path) -> bool:
    """True when ``path`` holds a readable result whose cell did not succeed
    (a crash, timeout, NaN or memory exhaustion, not an unsupported mode)."""
    try:
        status = json.loads(Path(path).read_text()).get("status")
    except (OSError, ValueError, AttributeError):
        return False
    return status not in (None, "ok", "unsupported")
