"""Measure workloads in PyTorch, TensorFlow and JAX and publish the comparison."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
#: 3: results carry equivalence evidence (``evidence``) for `python -m pipeline verify`
SCHEMA_VERSION = 3
