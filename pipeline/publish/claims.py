"""The claims ledger: load ``site_data/claims.yaml`` and check every predicate against
the workloads, metrics and modes that exist; the words a verdict can take; how a
predicate reads (its cells, its metric's direction, a sentence describing it).
Judging the claims on the tables is :mod:`pipeline.publish.verdicts`' job.

A predicate reads one value per side: the best over the cells it lists (highest
throughput, lowest time...). With a side ``b`` it tests the raw ratio a/b, without
one the value of ``a`` itself, against ``at_least``/``at_most``. A verdict is
``holds``, ``does not hold`` or ``not measurable`` (with the reason), and always
names the cells and values it used and links to the page that shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from pipeline import SCHEMAS
from pipeline.core import catalogue, validation
from pipeline.core.ecosystem import FIGURES
from pipeline.core.frameworks import FRAMEWORKS
from pipeline.core.registry import load_workload
from pipeline.publish import bounds
from pipeline.publish.scale_out import MEASURES as SCALE_OUT

SCHEMA_PATH = SCHEMAS / "claims.schema.json"
HOLDS, FAILS, UNMEASURABLE = "holds", "does not hold", "not measurable"
#: a claim about a public figure (stars, downloads, paper shares) that could not be read yet
AWAITING = "awaiting public data"
#: the ratio's 95% interval reaches both sides of a threshold: the figures cannot say which side it is on
UNSETTLED = "not settled at this precision"
#: snapshot figures are not tied to a machine
PUBLIC = "public sources"
#: counts read from the implementation files are the same on every machine (pipeline/publish/scale_out.py)
SOURCE_FILES = "source files"
#: a throughput on hardware we lack, held against the chip's published peak
IMPOSSIBLE, POSSIBLE = bounds.IMPOSSIBLE, bounds.POSSIBLE

#: Training metrics (cells.csv columns) and which way is better, from the catalogue.
TRAINING_METRICS = {m.name: m.better for m in catalogue.TRAINING.values()}
#: Operations metrics: cases.csv column, and which way is better.
CASE_METRICS = {m.name: (m.column, m.better) for m in catalogue.CASE.values()}


class ClaimError(validation.InputError):
    """A claims file that cannot be used; the message names the file, the claim and the field."""


@dataclass(frozen=True)
class Side:
    """One side of a predicate as measured on one machine."""
    value: float | str | None
    cell: str | None = None
    low: float | None = None
    high: float | None = None
    reason: str | None = None
    #: missing because a public source could not be read, not because it cannot be measured
    awaiting: bool = False
    #: (framework, mode) of the cell, to find its samples for a paired ratio
    key: tuple[str, str] | None = None
    #: the DAG run that measured it: only processes of one run share rounds
    run: str | None = None


def load(path: Path, workloads: dict, references: dict | None = None) -> dict:
    """Read and check the ledger: schema, sources, unique ids, every predicate
    against ``workloads`` and every bound against the peaks and model costs
    (``bounds.load_references`` of the ledger's folder when not given)."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ClaimError(f"{path}: missing") from None
    except yaml.YAMLError as err:
        raise ClaimError(f"{path}: not valid YAML: {err}") from None
    found = validation.problems(doc, SCHEMA_PATH, path, where=lambda at: _where(doc, at))
    if found:
        raise ClaimError("\n".join(found[:10]))
    sources = {s["id"] for s in doc["sources"]}
    seen: set[str] = set()
    problems = []
    for claim in doc["claims"]:
        cid = claim["id"]
        if cid in seen:
            problems.append(f"claim {cid}: field id: used twice")
        seen.add(cid)
        if claim["source"] not in sources:
            problems.append(f"claim {cid}: field source: no source with id {claim['source']!r}")
        if "predicate" in claim:
            problems += [f"claim {cid}: field predicate.{msg}" for msg in check_predicate(claim["predicate"],
                                                                                         workloads)]
        if "bound" in claim:
            # the tables a bound reads sit beside the ledger
            references = references or bounds.load_references(path.parent)
            problems += [f"claim {cid}: field bound.{msg}" for msg in bounds.check(claim["bound"], references)]
    if problems:
        raise ClaimError("\n".join(f"{path}: {p}" for p in problems))
    return doc


def _where(doc, path) -> str:
    parts = list(path)
    if len(parts) >= 2 and parts[0] == "claims" and isinstance(parts[1], int):
        claim = doc["claims"][parts[1]]
        cid = claim.get("id", f"#{parts[1]}") if isinstance(claim, dict) else f"#{parts[1]}"
        rest = ".".join(str(p) for p in parts[2:])
        return f"claim {cid}: field {rest or '(the claim)'}"
    return f"field {validation.field(parts)}"


def parse_cells(items: list[str]) -> list[tuple[str, str | None]]:
    out = []
    for item in items:
        framework, _, mode = item.partition(":")
        out.append((framework, mode or None))
    return out


def check_predicate(pred: dict, workloads: dict) -> list[str]:
    """What is wrong with one predicate, as 'field: message' strings (empty when fine)."""
    problems = []
    low, high = pred.get("at_least"), pred.get("at_most")
    if low is not None and high is not None and low > high:
        problems.append(f"at_most: {high:g} is below at_least {low:g}, so no measurement can satisfy it")
    sides = [("a", pred["a"])] + ([("b", pred["b"])] if "b" in pred else [])
    if "scale_out" in pred:
        return problems + _check_scale_out(pred, sides, workloads)
    if "ecosystem" in pred:
        if pred["ecosystem"] not in FIGURES:
            return [f"ecosystem: unknown figure {pred['ecosystem']!r}; known: {', '.join(FIGURES)}"]
        for name, items in sides:
            for framework, mode in parse_cells(items):
                if framework not in FRAMEWORKS:
                    problems.append(f"{name}: unknown framework {framework!r}")
                elif mode:
                    problems.append(f"{name}: an ecosystem figure is per framework, not per mode ({framework}:{mode})")
        if FIGURES[pred["ecosystem"]].better is None and any(len(pred[k]) > 1 for k, _ in sides):
            problems.append(f"ecosystem: {pred['ecosystem']} has no better direction, so a side must name "
                            f"one framework")
        if not FIGURES[pred["ecosystem"]].numeric:
            problems.append(f"ecosystem: {pred['ecosystem']} is not a number; a predicate needs one")
        return problems
    workload = workloads.get(pred["workload"])
    if workload is None:
        return [f"workload: no workload named {pred['workload']!r}; known: {', '.join(sorted(workloads))}"]
    for metric_field, case_field in (("metric", "case"), ("b_metric", "b_case")):
        metric = pred.get(metric_field, pred["metric"])
        case = pred.get(case_field, pred.get("case"))
        if workload.is_training:
            if metric not in TRAINING_METRICS:
                problems.append(f"{metric_field}: {workload.name} is a training workload with no metric {metric!r}; "
                                f"known: {', '.join(TRAINING_METRICS)}")
            if case is not None:
                problems.append(f"{case_field}: {workload.name} is a training workload and has no cases")
        else:
            if metric not in CASE_METRICS:
                problems.append(f"{metric_field}: {workload.name} measures cases with no metric {metric!r}; "
                                f"known: {', '.join(CASE_METRICS)}")
            if case is None:
                problems.append(f"{case_field}: {workload.name} measures cases: name one")
            elif case not in known_cases(workload, case):
                problems.append(f"{case_field}: {workload.name} has no case {case!r}; "
                                f"known: {', '.join(sorted(known_cases(workload, case)))}")
    for name, items in sides:
        for framework, mode in parse_cells(items):
            fw = FRAMEWORKS.get(framework)
            if fw is None:
                problems.append(f"{name}: unknown framework {framework!r}; known: {', '.join(FRAMEWORKS)}")
            elif mode is not None and mode not in fw.modes:
                problems.append(f"{name}: {fw.label} has no mode {mode!r}; known: {', '.join(fw.modes)}")
            elif not workload.implements(framework):
                problems.append(f"{name}: {workload.name} has no {fw.label} implementation")
    return problems


def _check_scale_out(pred: dict, sides: list, workloads: dict) -> list[str]:
    workload = workloads.get(pred["scale_out"])
    if workload is None:
        return [f"scale_out: no workload named {pred['scale_out']!r}; known: {', '.join(sorted(workloads))}"]
    single = workloads.get(workload.single_device) if workload.single_device else None
    if single is None:
        return [f"scale_out: {workload.name} names no single_device version to count the changes from"]
    problems = []
    for name, items in sides:
        for framework, mode in parse_cells(items):
            fw = FRAMEWORKS.get(framework)
            if fw is None:
                problems.append(f"{name}: unknown framework {framework!r}; known: {', '.join(FRAMEWORKS)}")
            elif mode:
                problems.append(f"{name}: a count from the files is per framework, not per mode ({framework}:{mode})")
            elif not (workload.implements(framework) and single.implements(framework)):
                problems.append(f"{name}: {workload.name} and {single.name} do not both have a {fw.label} "
                                f"implementation")
    return problems


def known_cases(workload, wanted: str | None = None) -> set[str]:
    """Case names the workload's NumPy problem declares; the full profile (slow to
    build for big matrices) is consulted only when a name is not found in the others."""
    names = _cases(workload.folder, ("smoke", "default"))
    if wanted is not None and wanted not in names and "full" in workload.spec["profiles"]:
        names = names | _cases(workload.folder, ("full",))
    return names


@cache
def _cases(folder: Path, profiles: tuple[str, ...]) -> set[str]:
    workload = load_workload(folder)
    names: set[str] = set()
    for profile in profiles:
        if profile in workload.spec["profiles"]:
            names |= set(workload.make_problem(0, **workload.profile(profile)["size"]).cases)
    return names


def direction(pred: dict, metric: str | None = None) -> str | None:
    if "scale_out" in pred:
        return SCALE_OUT[pred["measure"]][1]
    if "ecosystem" in pred:
        return FIGURES[pred["ecosystem"]].better
    metric = metric or pred["metric"]
    return TRAINING_METRICS.get(metric) or CASE_METRICS[metric][1]


def _side_words(items: list[str]) -> str:
    words = []
    for framework, mode in parse_cells(items):
        fw = FRAMEWORKS.get(framework)
        label = fw.label if fw else framework
        words.append(f"{label} {fw.mode_labels.get(mode, mode)}" if fw and mode else label)
    return " / ".join(words)


def describe(pred: dict) -> str:
    """The predicate in words, for the page: what is compared with what, and the bar."""
    bounds = " and ".join(f"{'≥' if k == 'at_least' else '≤'} {pred[k]:g}" for k in ("at_least", "at_most")
                          if k in pred)
    if "scale_out" in pred:
        a_what = b_what = f"{pred['scale_out']}: {SCALE_OUT[pred['measure']][0]}"
    elif "ecosystem" in pred:
        figure = FIGURES[pred["ecosystem"]]
        what = f"{figure.title}"
        a_what = b_what = what
    else:
        a_what = f"{pred['workload']} {pred.get('case') + ' ' if pred.get('case') else ''}{pred['metric']}"
        b_what = (f"{pred['workload']} {pred.get('b_case', pred.get('case')) or ''} "
                  f"{pred.get('b_metric', pred['metric'])}").replace("  ", " ")
    # a side naming a framework, not a cell, is the best of its modes; a count from the
    # files has one value per framework, so only several frameworks make a best
    per_framework = "scale_out" in pred

    def best_of(side: list[str]) -> str:
        return "best of " if len(side) > 1 or (not per_framework and any(":" not in c for c in side)) else ""

    best = best_of(pred["a"])
    text = f"{a_what} of {best}{_side_words(pred['a'])}"
    if "b" in pred:
        best_b = best_of(pred["b"])
        text = f"({text}) / ({b_what} of {best_b}{_side_words(pred['b'])}) {bounds}"
    else:
        text += f" {bounds}"
    if pred.get("hardware"):
        text += f", on {', '.join(pred['hardware'])}"
    return text
