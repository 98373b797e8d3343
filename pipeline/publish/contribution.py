"""Results from another machine, both ways: ``bundle`` gathers what one machine measured into
the files a results pull request carries; ``accept`` checks such a folder as ``verify`` does
and places its files into ``site_data/`` without losing any stored run.

A bundle holds, under ``site_data/``, only a machine's own files: its current results
(``results/<machine>/``), its earlier runs (``history/<machine>/``), its description
(``machines/``), its timer check (``timer_check/``) and its live ecosystem figures
(``ecosystem/live/``). ``accept`` refuses anything else, anything ``verify`` finds, and a
file that would replace a stored one of the same run with other content, before it writes
anything. A result older than the stored one of its cell joins that cell's history; a newer
one becomes current and the stored one moves to history (``results.store``)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipeline.core import instruments, results
from pipeline.publish import verify
from pipeline.publish.tables import Declared

#: the per-machine files a bundle may carry besides results, folder -> what they are
MACHINE_FILES = {"machines": "description", "timer_check": "timer check", "ecosystem/live": "live ecosystem figures"}


@dataclass(frozen=True)
class Move:
    source: Path
    dest: Path
    action: str  # "current", "history", "machine file", "same", "kept"
    note: str = ""


def _root(folder: Path) -> Path:
    return folder / "site_data" if (folder / "site_data").is_dir() else folder


def _machine_file_patterns() -> list[str]:
    return [f"{where}/*.json" for where in MACHINE_FILES]


def bundle(data_dir: Path, machine: str, out: Path) -> list[Path]:
    """Copy ``machine``'s files from ``data_dir`` into ``out/site_data/`` (the layout of the
    repository) and return them; ``out`` must not exist, so nothing else travels with them."""
    data_dir, out = Path(data_dir), Path(out)
    if out.exists():
        raise FileExistsError(f"{out}: exists; a bundle is written into a new folder")
    if not any((data_dir / "results" / machine).glob("*/*.json")):
        raise FileNotFoundError(f"{data_dir / 'results' / machine}: no results of machine {machine!r}")
    found = [*sorted((data_dir / "results" / machine).glob("*/*.json")),
             *sorted((data_dir / "history" / machine).glob("*/*/*.json")),
             *[data_dir / where / f"{machine}.json" for where in MACHINE_FILES
               if (data_dir / where / f"{machine}.json").is_file()]]
    written = []
    for path in found:
        dest = out / "site_data" / path.relative_to(data_dir)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
        written.append(dest)
    return written


def summary(found: list[dict], machine: str, findings: list[str]) -> str:
    """The text to paste into the pull request: the machine, its runs, the instrument and
    what ``verify`` found."""
    hardware = (found[0]["provenance"].get("hardware") or {}) if found else {}
    versions = sorted({v for r in found if (v := instruments.version_of(r)) is not None})
    runs: dict[str, list[dict]] = {}
    for r in found:
        runs.setdefault(results.run_of(r), []).append(r)
    lines = [f"# Results of {machine}", "",
             f"- Machine: {hardware.get('cpu_model', 'unknown CPU')}, {hardware.get('cpu_cores_logical', '?')} "
             f"logical cores, {round((hardware.get('memory_total_bytes') or 0) / 2**30)} GiB",
             f"- Instrument: version {', '.join(map(str, versions)) or 'unknown'}"
             f" (this repository's current is {instruments.CURRENT.version})",
             "- Runs (cells ok / cells):"]
    for run, rs in sorted(runs.items()):
        commits = sorted({(r["provenance"]["git"].get("sha") or "unknown")[:10] for r in rs})
        lines.append(f"  - `{run}`: {sum(r['status'] == 'ok' for r in rs)} / {len(rs)}, "
                     f"profile {', '.join(sorted({r['profile'] for r in rs}))}, commit {', '.join(commits)}")
    lines.append(f"- `python -m pipeline verify`: {len(findings)} finding{'s' if len(findings) != 1 else ''}")
    lines += [f"  - {f}" for f in findings]
    return "\n".join(lines) + "\n"


def _read(path: Path) -> dict | None:
    try:
        found = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return found if isinstance(found, dict) else None


def _same(a: Path, b: Path) -> bool:
    return _read(a) == _read(b)


def _machines(root: Path) -> set[str]:
    """The machines a bundle's files belong to, by their folders and names."""
    found = {p.name for where in ("results", "history") for p in (root / where).glob("*") if p.is_dir()}
    return found | {p.stem for pattern in _machine_file_patterns() for p in root.glob(pattern)}


def plan(folder: Path, data_dir: Path) -> tuple[list[Move], list[str]]:
    """(moves, findings): where each file of the bundle in ``folder`` goes in ``data_dir``,
    and every file it may not carry or that clashes with a stored one."""
    root, data_dir = _root(Path(folder)), Path(data_dir)
    carried = {p for p in root.rglob("*") if p.is_file()}
    moves, findings = [], []
    # one machine a bundle: a pull request of results never reaches into another machine's folders
    if len(_machines(root)) > 1:
        findings.append(f"{root}: holds the files of {len(_machines(root))} machines "
                        f"({', '.join(sorted(_machines(root)))}); a bundle carries one machine's")
    for path in sorted(root.glob("results/*/*/*.json")):
        carried.discard(path)
        result = _read(path)
        here = data_dir / path.relative_to(root)
        if result is None:
            findings.append(f"{path}: not a readable JSON result")
            continue
        if not here.is_file():
            moves.append(Move(path, here, "current"))
            continue
        theirs, ours = results.run_of(result), results.run_of(_read(here) or {})
        if theirs == ours and _same(path, here):
            moves.append(Move(path, here, "same"))
        elif theirs == ours:
            findings.append(f"{path}: field processes.run_id: run {theirs} is stored at {here} with other content")
        elif theirs > ours:
            moves.append(Move(path, here, "current", f"replaces run {ours}, which moves to history"))
        else:
            kept = results.history_path(data_dir, result["machine_id"], theirs, result["workload"], path.stem)
            moves.append(_kept(path, kept, findings, f"older than the stored run {ours}"))
    for path in sorted(root.glob("history/*/*/*/*.json")):
        carried.discard(path)
        if _read(path) is None:
            findings.append(f"{path}: not a readable JSON result")
            continue
        moves.append(_kept(path, data_dir / path.relative_to(root), findings, "an earlier run"))
    for pattern in _machine_file_patterns():
        for path in sorted(root.glob(pattern)):
            carried.discard(path)
            here = data_dir / path.relative_to(root)
            if here.is_file():
                moves.append(Move(path, here, "kept", "the stored file stays"))
            elif _read(path) is None:
                findings.append(f"{path}: not a readable JSON object")
            else:
                moves.append(Move(path, here, "machine file"))
    findings += [f"{p}: not a file a results pull request carries (results/, history/, "
                 f"{', '.join(f'{w}/' for w in MACHINE_FILES)} of one machine)" for p in sorted(carried)]
    return [m for m in moves if m is not None], findings


def _kept(path: Path, dest: Path, findings: list[str], why: str) -> Move | None:
    if dest.is_file():
        if _same(path, dest):
            return Move(path, dest, "same")
        findings.append(f"{path}: stored at {dest} with other content")
        return None
    return Move(path, dest, "history", why)


def accept(folder: Path, data_dir: Path, workloads: dict, declared: Declared
           ) -> tuple[list[Move], list[str], list[str]]:
    """(moves, findings, notes). Checks every file of the bundle (``verify`` on its results and
    on each machine description it would add) and, only when nothing is found, places them."""
    moves, findings = plan(folder, data_dir)
    checked = [m.source for m in moves if m.action in ("current", "history", "same")]
    checked += [m.source for m in moves if m.action == "machine file" and m.source.parent.name == "machines"]
    found, notes = verify.verify(checked, Path(data_dir), workloads, declared)
    findings += found
    if findings:
        return moves, findings, notes
    for move in moves:
        if move.action == "current":
            results.store(move.dest, json.loads(move.source.read_text()))
        elif move.action in ("history", "machine file"):
            results.replace_file(move.dest, move.source.read_text())
    older: dict[int, int] = {}
    for move in moves:
        if move.action in ("current", "history"):
            version = instruments.version_of(json.loads(move.source.read_text()))
            if version is not None and version != instruments.CURRENT.version:
                older[version] = older.get(version, 0) + 1
    notes += [f"{n} result(s) measured by instrument {v} (this repository's is {instruments.CURRENT.version}); "
              f"compared only with results of the same method" for v, n in sorted(older.items())]
    return moves, findings, notes
