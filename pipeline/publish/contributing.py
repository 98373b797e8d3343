"""The workload-contract facts the Contributing page includes, taken from where they
live in code so that the page cannot drift from them:

``docs/generated/metrics.md``  the names ``workload.yaml`` may list under ``metrics:``
                               (its schema's enum), what each stands for, and the
                               whole metric catalogue (:mod:`pipeline.core.catalogue`)
``docs/generated/batches.md``  what each framework's backend does to the NumPy arrays
                               it places on the device (the docstring of its ``put``)
``docs/generated/tolerances.md`` the equivalence tolerances' defaults and what each bounds
                               (:mod:`pipeline.core.equivalence`), and the parts of
                               ``workload.yaml`` whose edit re-measures (:mod:`pipeline.core.freshness`)

Publishing never imports a framework, so the backends are read as source, not imported.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from pipeline.core import catalogue, equivalence, freshness
from pipeline.core.frameworks import FRAMEWORKS

ROOT = Path(__file__).resolve().parent.parent
WORKLOAD_SCHEMA = ROOT / "core" / "schemas" / "workload.schema.json"
BACKENDS = ROOT / "measure" / "backends"

#: each name the workload schema accepts under ``metrics:``, with the catalogued metrics it
#: stands for (training metrics, then operations metrics). The list is a label: nothing but
#: the "Metrics" row of the workload's page reads it (see the generated page's text).
DECLARED: dict[str, tuple[str, ...]] = {
    "train_throughput": ("train_throughput", "train_step_time"),
    "time_to_first_step": ("time_to_first_step", "time_to_first_step_warm_cache"),
    "accuracy": ("accuracy",),
    "final_loss": ("final_loss",),
    "inference_throughput": ("inference_throughput",),
    "checkpoint": ("checkpoint_save_time", "checkpoint_restore_time", "checkpoint_size",
                   "checkpoint_max_difference"),
    "achieved_flops": ("achieved_flops",),
    "utilisation": ("utilisation",),
    "peak_memory": ("peak_host_memory", "peak_host_memory_setup", "peak_host_memory_first_step",
                    "device_peak_memory"),
    "latency": ("time", "time_p90", "time_p99"),
    "throughput": ("throughput",),
    "compilations": ("compilations_first_step", "recompilations_steady_state", "compilations", "recompilations"),
    "error": ("error",),
    "export": ("export_time", "export_size", "load_time"),
}


def accepted_metric_names(schema: Path = WORKLOAD_SCHEMA) -> list[str]:
    """The names ``metrics:`` accepts, in the schema's order."""
    return list(json.loads(Path(schema).read_text())["properties"]["metrics"]["items"]["enum"])


def _metric(m: catalogue.Metric, table: str) -> dict:
    return {"name": m.name, "title": m.title, "unit": m.unit, "shown_in": m.shown_in, "better": m.better,
            "table": table}


def metrics_context() -> dict:
    declared = []
    for name in accepted_metric_names():
        found = [catalogue.TRAINING.get(n) or catalogue.CASE.get(n) for n in DECLARED.get(name, ())]
        declared.append({"name": name, "metrics": [m.title for m in found if m is not None]})
    return {
        "declared": declared,
        "training": [_metric(m, "cells.csv") for m in catalogue.TRAINING.values()],
        "case": [_metric(m, "cases.csv") for m in catalogue.CASE.values()],
    }


def put_description(path: Path) -> str | None:
    """The docstring of ``put`` in a backend's source file, on one line."""
    for node in ast.parse(Path(path).read_text()).body:
        if isinstance(node, ast.FunctionDef) and node.name == "put":
            doc = ast.get_docstring(node)
            return " ".join(doc.split()) if doc else None
    return None


def batches_context() -> dict:
    return {"backends": [{"label": f.label, "name": name, "file": f"pipeline/measure/backends/{name}_backend.py",
                          "put": put_description(BACKENDS / f"{name}_backend.py")}
                         for name, f in FRAMEWORKS.items()]}


def tolerances_context() -> dict:
    return {
        "tolerances": [{"key": k, "default": f"{v:g}", "meaning": equivalence.MEANING[k]}
                       for k, v in equivalence.DEFAULT_TOLERANCE.items()],
        "measured_fields": list(freshness.MEASURED_FIELDS),
        "measured_tolerances": list(freshness.MEASURED_TOLERANCES),
    }
