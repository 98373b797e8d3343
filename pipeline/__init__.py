"""Measure workloads in PyTorch, TensorFlow and JAX and publish the comparison."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMA_VERSION = 2
