"""Result files: one JSON per cell, written atomically, read back validated.

A corrupt or foreign file is refused with its path and the offending field, and
never takes the other results down with it.
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import cache
from pathlib import Path

import jsonschema

SCHEMA_PATH = Path(__file__).parent / "schemas" / "result.schema.json"


class ResultError(ValueError):
    """A result file that cannot be used; the message names the file and field."""


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def result_path(data_dir: Path, machine_id: str, workload: str, framework: str, mode: str) -> Path:
    return Path(data_dir) / "results" / machine_id / workload / f"{framework}-{mode}.json"


def validate(result: dict, source: str) -> None:
    errors = sorted(_validator().iter_errors(result), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        field = ".".join(str(p) for p in e.absolute_path) or "(top level)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ResultError(f"{source}: field {field}: {e.message}{more}")


def write_atomic(path: Path, payload: dict) -> None:
    """Write JSON so that a reader never sees half a file, and a crash mid-write
    leaves the previous result in place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(payload, handle, indent=1, allow_nan=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path, check_place: bool = True) -> dict:
    """Read and validate one result; under ``results/`` its place must match its content."""
    path = Path(path)
    try:
        result = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ResultError(f"{path}: not a readable JSON result: {err}") from None
    if not isinstance(result, dict):
        raise ResultError(f"{path}: field (top level): expected an object")
    validate(result, str(path))
    if not check_place:
        return result
    expected = (path.parent.parent.name, path.parent.name, path.stem)
    found = (result["machine_id"], result["workload"], f"{result['framework']}-{result['mode']}")
    if expected != found:
        raise ResultError(
            f"{path}: field machine_id/workload/framework/mode: the file says "
            f"{'/'.join(found)} but sits at {'/'.join(expected)}"
        )
    return result


def load_all(data_dir: Path) -> tuple[list[dict], list[str]]:
    """Every valid result under ``data_dir/results``, and one error line per refused file."""
    good, refused = [], []
    for path in sorted((Path(data_dir) / "results").glob("*/*/*.json")):
        try:
            good.append(load(path))
        except ResultError as err:
            refused.append(str(err))
    return good, refused


def failed(path: Path) -> bool:
    """True when ``path`` holds a readable result whose cell did not succeed
    (a crash, timeout, NaN or memory exhaustion, not an unsupported mode)."""
    try:
        status = json.loads(Path(path).read_text()).get("status")
    except (OSError, ValueError, AttributeError):
        return False
    return status not in (None, "ok", "unsupported")
