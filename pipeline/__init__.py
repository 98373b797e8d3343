"""Measure workloads in PyTorch, TensorFlow and JAX and publish the comparison.

Three packages, one rule: only ``pipeline.measure`` may import a framework, and only
inside the measured process. ``pipeline.core`` is what both halves share (the
workload registry, config, result records, statistics, metric catalogue,
schemas); ``pipeline.publish`` turns stored results into tables, charts and pages
and runs where no framework is installed. ``pipeline.contract`` is the one module
a workload imports.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = Path(__file__).resolve().parent / "core" / "schemas"
#: 3: results carry equivalence evidence (``evidence``) for `python -m pipeline verify`
SCHEMA_VERSION = 3
