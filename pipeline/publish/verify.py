"""``python -m pipeline verify PATH...``: the check a maintainer runs on a pull
request of results, before believing them.

For each result file, in order, every finding names the file and the field:

1. **schema and values**: what ``results.load`` refuses (shape, place, a value out
   of its unit's range, a summary that its samples do not give: a tampered sample
   shows up here);
2. **profile**: as many processes and samples as the repository declares for the
   result's profile;
3. **provenance**: each hashed source file is the file at the recorded commit of
   this repository (else which file differs, or that the commit is unknown);
4. **equivalence**: the first training losses, or each case's first output, agree
   with the same machine's reference cell (the first framework and mode with a
   result there) within the workload's tolerance;
5. **plausibility**: training FLOP/s at most the machine's measured ceiling (its
   best matrix product);
6. **privacy**: no stored stderr tail names a user's home directory (the harness
   writes ``<checkout>/`` and ``~/`` in place of local paths);
7. **instrument**: the instrument version it records is one this repository knows
   (``pipeline/core/instruments.py``).

A machine description (``machines/<id>.json``) is checked too: it must name the
machine its file is named after, and record for every installed framework the
devices it sees, never the error of a detection that failed.

Results recorded before results carried equivalence evidence (schema version 2)
are noted as such, not failed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
from pathlib import Path

import pandas as pd

from pipeline import REPO_ROOT
from pipeline.core import freshness, instruments, privacy, results
from pipeline.core.frameworks import FRAMEWORKS
from pipeline.publish.tables import Declared, case_rows, ceilings, cell_row, completeness, over_ceiling_message


# results of one run share their commit and files: each is read from git once
@functools.cache
def _git_file(sha: str, path: str) -> bytes | None:
    try:
        return subprocess.run(["git", "show", f"{sha}:{path}"], cwd=REPO_ROOT, capture_output=True,
                              check=True, timeout=30).stdout
    except (subprocess.SubprocessError, OSError):
        return None


@functools.cache
def _commit_known(sha: str) -> bool:
    try:
        subprocess.run(["git", "cat-file", "-e", f"{sha}^{{commit}}"], cwd=REPO_ROOT, capture_output=True,
                       check=True, timeout=30)
        return True
    except (subprocess.SubprocessError, OSError):
        return False


def provenance_findings(result: dict, source: str) -> list[str]:
    git = result["provenance"]["git"]
    hashes = result["provenance"]["source_sha256"]
    if not git.get("sha"):
        return [f"{source}: field provenance.git.sha: no commit recorded, so the code cannot be checked"]
    if not _commit_known(git["sha"]):
        return [f"{source}: field provenance.git.sha: commit {git['sha'][:12]} is not in this repository"]
    out = []
    for path, digest in sorted(hashes.items()):
        content = _git_file(git["sha"], path)
        if content is None:
            out.append(f"{source}: field provenance.source_sha256.{path}: no such file at commit {git['sha'][:12]}")
        # results recorded before workload.yaml was digested by its measured fields hold its bytes' digest
        elif digest not in (freshness.file_digest(path, content, result["profile"]),
                            hashlib.sha256(content).hexdigest()):
            dirty = " (recorded as measured from a modified tree)" if git.get("dirty") else ""
            out.append(f"{source}: field provenance.source_sha256.{path}: differs from the file at commit "
                       f"{git['sha'][:12]}{dirty}")
    return out


def privacy_findings(result: dict, source: str) -> list[str]:
    """A stored text that still names a user's home directory (the harness strips them)."""
    texts = [("stderr_tail", result.get("stderr_tail"))]
    texts += [(f"processes.{i}.stderr_tail", p.get("stderr_tail")) for i, p in enumerate(result.get("processes") or [])]
    return [f"{source}: field {field}: holds a local path naming a user ({', '.join(found)}); "
            f"replace it (the harness writes <checkout>/ and ~/ instead)"
            for field, text in texts if (found := privacy.leaks(text))]


def instrument_findings(result: dict, source: str) -> list[str]:
    stored = instruments.recorded(result)
    if stored and stored["version"] not in instruments.BY_VERSION:
        return [f"{source}: field provenance.instrument.version: instrument {stored['version']} is not one this "
                f"repository knows (1 to {instruments.CURRENT.version}); measure from a commit of this repository"]
    return []


def machine_findings(path: Path) -> tuple[list[str], list[str]]:
    """(findings, notes) for a machine description: one that names another machine, or
    stores a failed detection (or nothing) where a framework's devices belong, is a finding;
    devices marked ``not_recorded`` with the reason are a note."""
    again = f"run `python -m pipeline detect --out {path}` again on the machine"
    try:
        info = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return [f"{path}: not a readable machine description: {err}"], []
    if not isinstance(info, dict) or not isinstance(info.get("frameworks"), dict):
        return [f"{path}: field frameworks: missing; {again}"], []
    out = [] if info.get("machine_id") == Path(path).stem else [
        f"{path}: field machine_id: {info.get('machine_id')!r}, but the file is named for {Path(path).stem!r}"]
    notes = []
    for name, entry in sorted(info["frameworks"].items()):
        if not isinstance(entry, dict):
            out.append(f"{path}: field frameworks.{name}: expected an object")
        elif "error" in entry:
            out.append(f"{path}: field frameworks.{name}.error: a failed detection stored as data; {again}")
        elif entry.get("installed") and entry.get("accelerators") is None and entry.get("not_recorded"):
            notes.append(f"{path}: frameworks.{name}: devices not recorded: {entry['not_recorded']}")
        elif entry.get("installed") and not isinstance(entry.get("accelerators"), list):
            out.append(f"{path}: field frameworks.{name}.accelerators: missing for an installed framework; {again}")
    return out, notes


def profile_findings(result: dict, source: str, declared: Declared) -> list[str]:
    """A result with fewer processes or samples than its profile declares."""
    if result["status"] != "ok" or (result["workload"], result["profile"]) not in declared.counts:
        return []
    verdict = completeness(cell_row(result), declared.counts)
    return [] if verdict["complete"] else [f"{source}: field processes: {verdict['incomplete_reason']}"]


def _cell(result: dict, framework: str | None = None, mode: str | None = None, run: str | None = None) -> tuple:
    """A result's place among the results it is checked against: its machine, profile, run
    (None: the current results) and cell."""
    return (result["machine_id"], result["profile"], run, result["workload"],
            framework or result["framework"], mode or result["mode"])


def _reference(result: dict, by_cell: dict) -> dict | None:
    """The first cell (framework, then mode order) of the same machine, workload and profile:
    of the same run where that run measured one, else (a run of a few cells) the current one."""
    for run in (results.run_of(result), None):
        for name, fw in FRAMEWORKS.items():
            for mode in fw.modes:
                ref = by_cell.get(_cell(result, name, mode, run))
                if ref is not None and ref["status"] == "ok" and ref.get("evidence"):
                    return ref
    return None


def equivalence_findings(result: dict, source: str, by_cell: dict, workloads: dict) -> list[str]:
    if result["status"] != "ok":
        return []
    evidence = result.get("evidence")
    if not evidence:
        return [] if result["schema_version"] < 3 else [
            f"{source}: field evidence: missing; a version-3 result must carry its first losses or outputs"]
    ref = _reference(result, by_cell)
    if ref is None or ref is result:
        return []
    tolerance = workloads[result["workload"]].tolerance
    label = f"{ref['framework']}-{ref['mode']}"
    out = []
    if "losses" in evidence and "losses" in ref["evidence"]:
        rtol = tolerance["loss_rtol"]
        for i, (a, b) in enumerate(zip(evidence["losses"], ref["evidence"]["losses"], strict=False)):
            if abs(a - b) > rtol * max(abs(b), 1e-12):
                out.append(f"{source}: field evidence.losses.{i}: {a:.6g} differs from {label}'s {b:.6g} by more "
                           f"than the workload's loss_rtol {rtol:g}")
                break
    plan = (result.get("timing") or {}).get("cases") or {}
    for name, sample in (evidence.get("cases") or {}).items():
        theirs = (ref["evidence"].get("cases") or {}).get(name)
        if theirs is None or theirs["indices"] != sample["indices"]:
            continue
        scale = theirs["scale"] or 1.0
        worst = max((abs(a - b) for a, b in zip(sample["values"], theirs["values"], strict=True)), default=0.0)
        # a case may declare its own tolerance (bf16 products), kept in the result's plan
        case_rtol = (plan.get(name) or {}).get("rtol") or tolerance.get("output_rtol", 1e-5)
        if worst / scale > case_rtol:
            out.append(f"{source}: field evidence.cases.{name}: differs from {label}'s output by {worst / scale:.3g} "
                       f"(relative), over the tolerance {case_rtol:g}")
    return out


def ceiling_findings(result: dict, source: str, ceilings: dict) -> list[str]:
    out = []
    for suffix, precision in (("", "fp32"), ("_bf16", "bf16")):
        metric = result["metrics"].get(f"achieved_flops{suffix}")
        top = ceilings.get((result["machine_id"], precision))
        if metric and metric.get("value") and top and metric["value"] > top:
            out.append(over_ceiling_message(source, suffix, metric["value"], top))
    return out


def _ceilings(found: list[dict], workloads: dict) -> dict:
    """(machine, precision) -> FLOP/s: the same ceilings ``aggregate`` tables."""
    table = ceilings(pd.DataFrame([row for r in found for row in case_rows(r)]),
                     [name for name, w in workloads.items() if w.spec.get("ceiling")])
    return {(r["machine_id"], r["precision"]): r["flops"] for r in table.to_dict("records")}


def verify(paths: list[Path], data_dir: Path, workloads: dict, declared: Declared) -> tuple[list[str], list[str]]:
    """(findings, notes) over ``paths``, set against every result under ``data_dir``, the
    ``workloads`` of this checkout and what it ``declared``."""
    everything, _ = results.load_all(data_dir)
    loaded, findings, notes = [], [], []
    for path in paths:
        if Path(path).parent.name == "machines":
            found, noted = machine_findings(path)
            findings, notes = findings + found, notes + noted
            continue
        try:
            loaded.append((str(path), results.load(path)))
        except results.ResultError as err:
            findings.append(str(err))
    # each result under its run (a kept result's reference is its own run's, from the same
    # code), and the current ones, those under results/ and the files checked, also without
    by_cell = {_cell(r, run=results.run_of(r)): r for r in everything + [r for _, r in loaded]}
    by_cell.update({_cell(r): r for r in everything})
    by_cell.update({_cell(r): r for source, r in loaded if "/history/" not in Path(source).as_posix()})
    ceilings = _ceilings(list({id(r): r for r in by_cell.values()}.values()), workloads)
    for source, result in loaded:
        if result["workload"] not in workloads:
            findings.append(f"{source}: field workload: no workload {result['workload']!r} in this repository")
            continue
        findings += profile_findings(result, source, declared)
        findings += provenance_findings(result, source)
        findings += equivalence_findings(result, source, by_cell, workloads)
        findings += ceiling_findings(result, source, ceilings)
        findings += privacy_findings(result, source)
        findings += instrument_findings(result, source)
        if result["status"] == "ok" and not result.get("evidence"):
            notes.append(f"{source}: recorded before results carried equivalence evidence; not compared")
    return findings, notes


def main(paths: list[str], data_dir: Path, workloads: dict, declared: Declared) -> int:
    data_dir = Path(data_dir)
    files = [Path(p) for p in paths] or [*sorted((data_dir / "results").glob("*/*/*.json")),
                                         *sorted((data_dir / "history").glob("*/*/*/*.json")),
                                         *sorted((data_dir / "machines").glob("*.json"))]
    findings, notes = verify(files, Path(data_dir), workloads, declared)
    for line in notes:
        print(f"note: {line}")
    for line in findings:
        print(line)
    print(json.dumps({"files": len(files), "findings": len(findings), "notes": len(notes)}))
    return 1 if findings else 0
