"""What a change alters beyond its own files, said before it lands.

``python -m pipeline ripple [--base REF]`` regenerates every published table and
page from the stored results (into a scratch copy; nothing in the tree is written)
and compares them with the committed ones, at ``REF`` where given: which tables
changed and by how many rows, which claim verdicts and decision-guide scores
moved, which pages differ. A new workload, for one, moves the ergonomics medians
and the guide's scores of scenarios that never name it. With the cells
``cells --plan`` would measure, a reviewer sees the whole ripple of a pull request.

Charts are left out: they are drawn from the tables, so a changed table is a
changed chart.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from pipeline import REPO_ROOT
from pipeline.publish import bounds, claims, ergonomics, guide
from pipeline.publish.aggregate import aggregate
from pipeline.publish.pages import write_pages
from pipeline.publish.tables import Declared, read_tables
from pipeline.publish.verdicts import judge, load_ecosystem

#: A guide score moving by less than this is rounding, not a ripple.
SCORE_EPSILON = 1e-9


def regenerate(data_dir: Path, docs_dir: Path, comparison: dict, publish: list[str], declared: Declared,
               workloads: dict) -> None:
    """The publishing half of the DAG, in order, on ``data_dir`` and ``docs_dir``."""
    tables = data_dir / "tables"
    aggregate(data_dir, tables, publish, comparison, declared, workloads)
    references = bounds.load_references(data_dir)
    doc = claims.load(data_dir / "claims.yaml", workloads, references=references)
    judge(doc, read_tables(tables), load_ecosystem(data_dir), references).to_csv(tables / "verdicts.csv", index=False)
    ergonomics.write(tables / "ergonomics.csv", workloads)
    guide.write(data_dir, tables / "guide.json", workloads)
    write_pages(data_dir, docs_dir, workloads)


def baseline_reader(base: str | None) -> Callable[[Path], bytes | None]:
    """The committed content of a repository file: in the working tree, or at ``base``."""
    def from_tree(path: Path) -> bytes | None:
        return path.read_bytes() if path.is_file() else None

    def from_git(path: Path) -> bytes | None:
        rel = path.resolve().relative_to(REPO_ROOT)
        done = subprocess.run(["git", "show", f"{base}:{rel.as_posix()}"], cwd=REPO_ROOT, capture_output=True,
                              timeout=60)
        return done.stdout if done.returncode == 0 else None

    return from_git if base else from_tree


def _rows(content: bytes | None) -> set[tuple]:
    if not content:
        return set()
    from io import BytesIO

    frame = pd.read_csv(BytesIO(content), dtype=str, keep_default_na=False)
    return {tuple(r) for r in frame.itertuples(index=False)}


def table_changes(before: Callable[[Path], bytes | None], committed: Path, fresh: Path) -> list[dict]:
    """Per table whose content differs: rows only before, rows only after."""
    out = []
    for path in sorted(fresh.glob("*")):
        old, new = before(committed / path.name), path.read_bytes()
        if old == new:
            continue
        entry = {"table": path.name, "new": old is None}
        if path.suffix == ".csv":
            a, b = _rows(old), _rows(new)
            entry.update(removed=len(a - b), added=len(b - a))
        out.append(entry)
    return out


def verdict_changes(old: bytes | None, new: Path) -> list[dict]:
    """Claims whose verdict on a machine is another after the change."""
    from io import BytesIO

    if not old:
        return []
    key = ["claim", "machine_id"]
    a = pd.read_csv(BytesIO(old))[[*key, "verdict"]]
    b = pd.read_csv(new)[[*key, "verdict"]]
    both = a.merge(b, on=key, how="outer", suffixes=("_before", "_after"))
    moved = both[both["verdict_before"].fillna("") != both["verdict_after"].fillna("")]
    return [{k: (None if pd.isna(v) else v) for k, v in r.items()} for r in moved.to_dict("records")]


def _scores(doc: list[dict]) -> dict[tuple, float]:
    return {(s["id"], m["machine_id"], r["framework"]): r["score"]
            for s in doc for m in s.get("machines", []) for r in m.get("ranking", []) if r.get("score") is not None}


def guide_changes(old: bytes | None, new: Path) -> list[dict]:
    """Per scenario, machine and framework: the overall score before and after, where it moved."""
    a = _scores(json.loads(old)) if old else {}
    b = _scores(json.loads(new.read_text()))
    return [{"scenario": k[0], "machine_id": k[1], "framework": k[2], "before": a.get(k), "after": b.get(k)}
            for k in sorted(set(a) | set(b))
            if a.get(k) is None or b.get(k) is None or abs(a[k] - b[k]) > SCORE_EPSILON]


def page_changes(before: Callable[[Path], bytes | None], committed: Path, fresh: Path) -> list[str]:
    """Generated pages (Markdown under docs/) whose content differs, relative to docs/."""
    return sorted(str(p.relative_to(fresh)) for p in fresh.rglob("*.md")
                  if before(committed / p.relative_to(fresh)) != p.read_bytes())


def ripple(data_dir: Path, docs_dir: Path, comparison: dict, publish: list[str], declared: Declared,
           workloads: dict, base: str | None = None) -> dict:
    """Everything the publishing half would write differently from what is committed."""
    before = baseline_reader(base)
    data_dir, docs_dir = Path(data_dir).resolve(), Path(docs_dir).resolve()
    with tempfile.TemporaryDirectory(prefix="ripple-") as tmp:
        data, docs = Path(tmp) / "site_data", Path(tmp) / "docs"
        shutil.copytree(data_dir, data)
        shutil.copytree(docs_dir, docs)
        regenerate(data, docs, comparison, publish, declared, workloads)
        tables = data / "tables"
        return {
            "base": base or "the working tree",
            "tables": table_changes(before, data_dir / "tables", tables),
            "verdicts": verdict_changes(before(data_dir / "tables" / "verdicts.csv"), tables / "verdicts.csv"),
            "guide": guide_changes(before(data_dir / "tables" / "guide.json"), tables / "guide.json"),
            "pages": page_changes(before, docs_dir, docs),
        }


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def report(found: dict, to_measure: list[str]) -> str:
    """The ripple as plain text, one finding per line."""
    lines = [f"compared with {found['base']}"]
    lines.append(f"cells the DAG would measure on this machine: {len(to_measure)}")
    lines += [f"  {line}" for line in to_measure]
    lines.append(f"tables that change: {len(found['tables'])}")
    for t in found["tables"]:
        rows = f" ({t['removed']} row(s) out, {t['added']} in)" if "added" in t else ""
        lines.append(f"  {t['table']}{' (new)' if t['new'] else ''}{rows}")
    lines.append(f"claim verdicts that change: {len(found['verdicts'])}")
    lines += [f"  {v['claim']} on {v['machine_id']}: {v['verdict_before']} -> {v['verdict_after']}"
              for v in found["verdicts"]]
    lines.append(f"guide scores that move: {len(found['guide'])}")
    lines += [f"  {g['scenario']} on {g['machine_id']}, {g['framework']}: {_score(g['before'])} -> "
              f"{_score(g['after'])}" for g in found["guide"]]
    lines.append(f"pages that change: {len(found['pages'])}")
    lines += [f"  docs/{p}" for p in found["pages"]]
    return "\n".join(lines)
