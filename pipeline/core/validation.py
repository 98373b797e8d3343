"""One way to check a document against its JSON schema and to say what is wrong:
``<file>: field <dotted.path>: <message>``, one line per problem, in the order
of the document. Every input (config, workload, result, ledger, scenarios,
ecosystem figures, accelerator peaks) is checked through here."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

import jsonschema
import yaml

from pipeline import SCHEMAS


class InputError(ValueError):
    """Bad input, named by its file and field (a config, workload, result, ledger, snapshot or
    reference table): the commands print it without a traceback and exit 2. Each input has its
    own subclass."""


@cache
def _validator(schema_path: Path) -> jsonschema.Draft202012Validator:
    text = schema_path.read_text()
    schema = yaml.safe_load(text) if schema_path.suffix in (".yaml", ".yml") else json.loads(text)
    return jsonschema.Draft202012Validator(schema)


def field(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def problems(document, schema: str | Path, source, where: Callable | None = None) -> list[str]:
    """Every schema violation of ``document`` as a message naming ``source`` and the
    field; ``schema`` is a file name under ``pipeline/core/schemas/`` or a path.
    ``where(path)`` may name the place better than a dotted path (a claim by id)."""
    schema_path = schema if isinstance(schema, Path) else SCHEMAS / schema
    errors = sorted(_validator(schema_path).iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    name = where or (lambda path: f"field {field(path)}")
    return [f"{source}: {name(e.absolute_path)}: {e.message}" for e in errors]


def check(document, schema: str | Path, source, error: type[Exception], limit: int = 10) -> None:
    """Raise ``error`` with the first ``limit`` problems, one per line."""
    found = problems(document, schema, source)
    if found:
        more = [f"... and {len(found) - limit} more"] if len(found) > limit else []
        raise error("\n".join(found[:limit] + more))
