"""Discover workloads by scanning ``workloads/`` and validate each one up front.

Nothing here imports a framework: a broken workload is reported with its file and
field before any cell runs, and a machine without one framework still lists the rest.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import yaml

from pipeline import REPO_ROOT, SCHEMAS
from pipeline.contract import DECLARATION_FILE, IMPL_FILES, NEUTRAL_FILE, REPLICAS, TRAINING, Problem, Used
from pipeline.core import equivalence, facts, validation

WORKLOADS_DIR = REPO_ROOT / "workloads"
SCHEMA_PATH = SCHEMAS / "workload.schema.json"


class WorkloadError(validation.InputError):
    """A workload folder that breaks the contract; the message names file and field."""


@dataclass(frozen=True)
class Workload:
    name: str
    folder: Path
    spec: dict

    @property
    def title(self) -> str:
        return self.spec["title"]

    def profile(self, profile: str) -> dict:
        return self.spec["profiles"][profile]

    @property
    def task(self) -> str:
        return self.spec["task"]

    @property
    def is_training(self) -> bool:
        return self.spec["task"] == TRAINING

    @property
    def tolerance(self) -> dict:
        """Equivalence tolerances: the defaults of :mod:`pipeline.core.equivalence`, as declared."""
        return equivalence.tolerance(self.spec)

    def impl_path(self, framework: str) -> Path:
        return self.folder / IMPL_FILES[framework]

    def implements(self, framework: str) -> bool:
        """A framework without its implementation file is shown as not implemented."""
        return self.impl_path(framework).is_file()

    @property
    def frameworks(self) -> list[str]:
        return [f for f in IMPL_FILES if self.implements(f)]

    def source_files(self, framework: str) -> list[Path]:
        """The files whose content decides a cell's result (hashed into provenance),
        with those of the workloads it ``uses`` (inference_latency serves cnn_cifar's model)."""
        own = [self.folder / DECLARATION_FILE, self.folder / NEUTRAL_FILE, self.impl_path(framework)]
        used = [self.folder.parent / name / f for name in self.spec.get("uses", [])
                for f in (NEUTRAL_FILE, IMPL_FILES[framework])]
        return own + used

    def replicas(self, profile: str) -> int:
        """Devices a data-parallel workload trains over at ``profile``'s size; 1 for every other."""
        return int(self.profile(profile)["size"].get(REPLICAS, 1))

    @property
    def single_device(self) -> str | None:
        """The workload whose implementations are this one's single-device versions."""
        return self.spec.get("single_device")

    def used(self) -> dict[str, Used]:
        """The workloads this one ``uses``, as the contract hands them over."""
        out = {}
        for name in self.spec.get("uses", []):
            other = load_workload(self.folder.parent / name)
            out[name] = Used(make_problem=other.make_problem, implementation=other.implementation)
        return out

    def make_problem(self, seed: int, **size) -> Problem:
        """``make_problem`` of ``workload.py``, handed the used workloads where the
        workload declares some, with ``neutral`` set for the implementations."""
        neutral = self.neutral()
        used = self.used()
        problem = neutral.make_problem(seed, **size, **({"used": used} if used else {}))
        problem.neutral = neutral
        return problem

    def neutral(self) -> ModuleType:
        return _load_module(self.name, "workload", self.folder / NEUTRAL_FILE)

    def implementation(self, framework: str) -> ModuleType:
        return _load_module(self.name, f"{framework}_impl", self.impl_path(framework))


def _load_module(workload: str, stem: str, path: Path) -> ModuleType:
    name = f"workloads.{workload}.{stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_workload(folder: Path) -> Workload:
    """Validate one workload folder; raise WorkloadError naming the file and field."""
    decl = folder / DECLARATION_FILE
    if not decl.is_file():
        raise WorkloadError(f"{decl}: missing (every workload folder needs one)")
    try:
        spec = yaml.safe_load(decl.read_text())
    except yaml.YAMLError as err:
        raise WorkloadError(f"{decl}: not valid YAML: {err}") from None
    if not isinstance(spec, dict):
        raise WorkloadError(f"{decl}: (top level): expected a mapping, got {type(spec).__name__}")
    validation.check(spec, SCHEMA_PATH, decl, WorkloadError)
    hand_typed = facts.problems(spec.get("reference", ""))
    if hand_typed:
        raise WorkloadError(f"{decl}: field {validation.field(['reference'])}: {hand_typed[0]}")
    neutral = folder / NEUTRAL_FILE
    if not neutral.is_file():
        raise WorkloadError(f"{neutral}: missing (see the contract in pipeline/contract.py)")
    impls = [folder / f for f in IMPL_FILES.values() if (folder / f).is_file()]
    if not impls:
        raise WorkloadError(f"{folder}: no implementation file; expected at least one of "
                            f"{', '.join(IMPL_FILES.values())}")
    for path in [neutral, *impls]:
        text = path.read_text()
        try:
            tree = ast.parse(text, filename=str(path))
        except SyntaxError as err:
            raise WorkloadError(f"{path}: line {err.lineno}: does not parse: {err.msg}") from None
        _only_the_contract(path, tree)
        wanted = "make_problem" if path.name == NEUTRAL_FILE else "build"
        if not any(isinstance(node, ast.FunctionDef) and node.name == wanted for node in tree.body):
            raise WorkloadError(f"{path}: defines no {wanted}()")
    for name in spec.get("uses", []):
        if not (folder.parent / name / DECLARATION_FILE).is_file():
            raise WorkloadError(f"{decl}: field uses: no workload folder named {name!r} beside {folder.name}")
    _check_replicas(spec, decl)
    return Workload(name=folder.name, folder=folder, spec=spec)


def _check_replicas(spec: dict, decl: Path) -> None:
    """A data-parallel workload names its single-device version among the workloads it
    uses, and every profile says how many replicas; nothing else declares replicas."""
    single = spec.get("single_device")
    sizes = {profile: body["size"] for profile, body in spec["profiles"].items()}
    if single is None:
        declared = next((p for p, size in sizes.items() if REPLICAS in size), None)
        if declared:
            raise WorkloadError(f"{decl}: field profiles.{declared}.size.{REPLICAS}: only a workload that "
                                f"names its single_device version trains over replicas")
        return
    if single not in spec.get("uses", []):
        raise WorkloadError(f"{decl}: field single_device: {single!r} is not among the workloads it uses")
    if spec["task"] != TRAINING:
        raise WorkloadError(f"{decl}: field single_device: only a training workload has one")
    for profile, size in sizes.items():
        if not isinstance(size.get(REPLICAS), int) or isinstance(size.get(REPLICAS), bool) or size[REPLICAS] < 1:
            raise WorkloadError(f"{decl}: field profiles.{profile}.size.{REPLICAS}: a data-parallel workload "
                                f"needs a whole number of replicas, at least 1, in every profile")


def _only_the_contract(path: Path, tree: ast.Module) -> None:
    """A workload imports nothing of the pipeline but the contract: what it needs
    (placement, its own neutral module, the workloads it uses) is handed over."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module] if node.module != "pipeline" else [f"pipeline.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] == "pipeline" and name != "pipeline.contract":
                raise WorkloadError(f"{path}: line {node.lineno}: imports {name}; a workload imports nothing "
                                    f"of the pipeline but pipeline.contract, which hands over what it needs")


def check_deeply(workload: Workload, options: dict | None = None) -> list[str]:
    """What only importing the neutral module shows, before any cell runs: that it
    imports, that every profile's ``size`` (with the config's extra options) binds to
    ``make_problem``'s signature, that a looser tolerance says why, and that the
    smoke problem's initial weights cannot hide a missing or swapped parameter
    (:mod:`pipeline.core.equivalence`). One message per problem, naming file and
    field. Imports no framework."""
    decl, neutral = workload.folder / DECLARATION_FILE, workload.folder / NEUTRAL_FILE
    try:
        make_problem = workload.neutral().make_problem
    except Exception as err:  # noqa: BLE001 - any import failure is the contributor's to see
        sys.modules.pop(f"workloads.{workload.name}.workload", None)
        return [f"{neutral}: fails to import: {type(err).__name__}: {err}"]
    problems = []
    for profile, spec in workload.spec["profiles"].items():
        try:
            used = {"used": {}} if workload.spec.get("uses") else {}
            inspect.signature(make_problem).bind(0, **{**spec["size"], **(options or {})}, **used)
        except TypeError as err:
            problems.append(f"{decl}: field profiles.{profile}.size: make_problem() does not take it: {err}")
    problems += equivalence.looser_without_reason(workload.spec, decl)
    if problems:
        return problems
    try:
        weights = workload.make_problem(0, **{**workload.profile("smoke")["size"], **(options or {})}).init_weights
    except Exception as err:  # noqa: BLE001 - the contributor's code, reported with its file
        return [f"{neutral}: make_problem() at the smoke size fails: {type(err).__name__}: {err}"]
    exceptions = workload.spec.get("init_exceptions") or {}
    return (equivalence.init_findings(weights, exceptions, neutral)
            + equivalence.unused_exceptions(weights, exceptions, decl))


def discover(root: Path = WORKLOADS_DIR) -> dict[str, Workload]:
    """Every folder under ``root`` whose name is a Python identifier is a workload."""
    found = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if folder.name.isidentifier() and not folder.name.startswith("_"):
            found[folder.name] = load_workload(folder)
    return found

