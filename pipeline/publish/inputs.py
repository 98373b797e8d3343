"""Everything ``python -m pipeline check`` validates besides the config itself: the
selected workloads (listed in the site's nav, deep checks), the claims ledger, the
scenarios, the ecosystem snapshot and every stored result; nothing is timed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.core import config as config_mod
from pipeline.core import results, snapshot
from pipeline.core.registry import Workload, WorkloadError, check_deeply
from pipeline.publish import claims, guide
from pipeline.publish.pages import missing_nav_entries


@dataclass(frozen=True)
class Checked:
    """What the inputs hold, once they passed."""

    #: the claims ledger and the scenarios, as loaded
    ledger: dict
    scenarios: dict
    #: result files refused, one line each (path and field)
    refused: list[str]


def check(cfg: dict, selected: dict[str, Workload], workloads: dict[str, Workload]) -> Checked:
    """Check the inputs of a run: the ``selected`` workloads against mkdocs.yml's nav and
    deeply, then the data folder's ledger and scenarios against ``workloads``, its
    snapshot, and every stored result. Raises the first input's error (WorkloadError,
    ClaimError, SnapshotError, naming file and field); refused results are returned
    with the rest, so all of them are reported at once."""
    missing = missing_nav_entries(selected)
    if missing:
        raise WorkloadError("mkdocs.yml: field nav: no entry for " + ", ".join(missing))
    problems = [p for name, w in selected.items() for p in check_deeply(w, config_mod.workload_options(cfg, name))]
    if problems:
        raise WorkloadError("\n".join(problems))
    data_dir = Path(cfg["data_dir"])
    ledger = claims.load(data_dir / "claims.yaml", workloads)
    scenarios = guide.load(data_dir / "scenarios.yaml", workloads, sources={s["id"] for s in ledger["sources"]},
                           claim_ids={c["id"] for c in ledger["claims"]})
    snap = data_dir / "ecosystem" / "snapshot.json"
    if snap.is_file():
        snapshot.load(snap)
    # after the inputs: a refused result is reported with the rest of what check found
    _, refused = results.load_all(data_dir)
    return Checked(ledger, scenarios, refused)
