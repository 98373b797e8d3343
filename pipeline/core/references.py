"""Figures read from elsewhere (references), for arithmetic about hardware we do not have.

Two tables under ``site_data/``, each figure with the page it was read from and the
date it was read, refused otherwise:

* ``accelerators.yaml``: published peak rates of accelerators (dense FLOP/s per
  precision, memory bandwidth). The GPU profile's budget (``pipeline budget``) and
  the physical bounds of claims (``pipeline/publish/bounds.py``) read it.
* ``model_costs.yaml``: the work per sample of models the articles name but no
  workload here runs (ResNet-50 at 224×224, BERT-base), and the rule that turns a
  forward pass into a training step.

Nothing here imports a framework; both halves of the pipeline may read it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from pipeline import REPO_ROOT, SCHEMAS
from pipeline.core import validation

ACCELERATORS_PATH = REPO_ROOT / "site_data" / "accelerators.yaml"
MODEL_COSTS_PATH = REPO_ROOT / "site_data" / "model_costs.yaml"
ACCELERATORS_SCHEMA = SCHEMAS / "accelerators.schema.json"
MODEL_COSTS_SCHEMA = SCHEMAS / "model_costs.schema.json"
#: precision name -> how pages write it
PRECISIONS = {"fp32": "FP32", "tf32": "TF32 (tensor cores)", "bf16": "BF16", "fp16": "FP16"}


class AcceleratorError(validation.InputError):
    """An accelerator table that cannot be used; the message names file and field."""


class ModelCostError(validation.InputError):
    """A model-costs table that cannot be used; the message names file and field."""


def _read(path: Path, error: type[ValueError]) -> dict:
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise error(f"{path}: missing") from None
    except (OSError, yaml.YAMLError) as err:
        raise error(f"{path}: not readable YAML: {err}") from None
    _dates_as_text(doc)
    return doc


def _dates_as_text(node) -> None:
    """YAML reads 2026-12-01 as a date; the schemas check the text form."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in list(items):
        if isinstance(value, dt.date):
            node[key] = value.isoformat()
        else:
            _dates_as_text(value)


def load_accelerators(path: Path = ACCELERATORS_PATH) -> dict:
    """The peaks table, validated: every figure has a value, a unit, an http(s)
    source and the date it was read."""
    doc = _read(path, AcceleratorError)
    validation.check(doc, ACCELERATORS_SCHEMA, path, AcceleratorError)
    return doc["accelerators"]


def peaks(accelerator: dict) -> dict[str, float]:
    """FLOP/s per precision name ("fp32", "bf16")."""
    return {name.removesuffix("_flops"): fig["value"] for name, fig in accelerator["figures"].items()
            if name.endswith("_flops")}


def load_model_costs(path: Path = MODEL_COSTS_PATH) -> dict:
    """The model-costs table, validated the same way."""
    doc = _read(path, ModelCostError)
    validation.check(doc, MODEL_COSTS_SCHEMA, path, ModelCostError)
    return doc


def forward_flops(model: dict) -> tuple[float, str]:
    """FLOPs of one sample's forward pass, and the arithmetic in words: a published
    count (multiply-adds count two FLOPs each), or two FLOPs per parameter per token,
    the forward half of the training rule, which leaves out attention over the
    context and so errs low."""
    if "forward" in model:
        fig = model["forward"]
        if fig["unit"] == "multiply-adds":
            return 2 * fig["value"], f"{fig['value'] / 1e9:.3g} G multiply-adds × 2"
        return fig["value"], f"{fig['value'] / 1e9:.3g} GFLOP"
    params, tokens = model["parameters"]["value"], model["tokens"]["value"]
    return 2 * params * tokens, f"2 × {params / 1e6:.3g} M parameters × {tokens:,.0f} tokens"
