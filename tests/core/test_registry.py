"""Unit tier: workload discovery and validation, config checks. No framework imported."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from helpers import ROOT, WORKLOADS, copy_ledger, copy_workloads, edit_yaml

from pipeline.core import config as config_mod
from pipeline.core.registry import WORKLOADS_DIR, WorkloadError, discover, load_workload

GOOD = WORKLOADS_DIR / "mlp_digits"


def test_discover_finds_mlp_digits():
    found = discover()
    assert "mlp_digits" in found
    assert found["mlp_digits"].spec["task"] == "training"


def test_discover_skips_non_identifier_folders(tmp_path, workload_copy):
    (tmp_path / "not-a-workload").mkdir()
    (tmp_path / "_private").mkdir()
    assert list(discover(tmp_path)) == ["mlp_copy"]


def test_missing_field_names_file_and_field(workload_copy):
    edit_yaml(workload_copy, lambda s: s.pop("metrics"))
    with pytest.raises(WorkloadError, match=r"mlp_copy/workload.yaml: field \(top level\): 'metrics'"):
        load_workload(workload_copy)


def test_wrong_type_names_nested_field(workload_copy):
    edit_yaml(workload_copy, lambda s: s["profiles"]["smoke"]["timing"].update(samples="many"))
    with pytest.raises(WorkloadError, match=r"field profiles.smoke.timing.samples: 'many' is not of type"):
        load_workload(workload_copy)


def test_unknown_metric_is_refused(workload_copy):
    edit_yaml(workload_copy, lambda s: s["metrics"].append("vibes"))
    with pytest.raises(WorkloadError, match=r"field metrics.4"):
        load_workload(workload_copy)


def test_invalid_yaml_is_refused(workload_copy):
    (workload_copy / "workload.yaml").write_text("title: [unclosed\n")
    with pytest.raises(WorkloadError, match="not valid YAML"):
        load_workload(workload_copy)


def test_missing_neutral_file_is_named(workload_copy):
    (workload_copy / "workload.py").unlink()
    with pytest.raises(WorkloadError, match=r"mlp_copy/workload.py: missing"):
        load_workload(workload_copy)


def test_missing_implementation_is_not_implemented_not_an_error(workload_copy):
    (workload_copy / "jax_impl.py").unlink()
    workload = load_workload(workload_copy)
    assert not workload.implements("jax") and workload.implements("torch")
    assert "jax" not in workload.frameworks


def test_workload_without_any_implementation_is_refused(workload_copy):
    for path in workload_copy.glob("*_impl.py"):
        path.unlink()
    with pytest.raises(WorkloadError, match="no implementation file"):
        load_workload(workload_copy)


def test_cells_skip_frameworks_without_implementation(workload_copy, monkeypatch):
    from pipeline.core import config as config_mod

    (workload_copy / "jax_impl.py").unlink()
    monkeypatch.setattr(config_mod, "selected_workloads",
                        lambda config, source="": {"mlp_copy": load_workload(workload_copy)})
    cells = config_mod.check(base_config(workload_options={}))
    assert {c.framework for c in cells} == {"torch", "tensorflow", "keras"} - (
        set() if (workload_copy / "keras_impl.py").exists() else {"keras"})


def test_implementation_without_build_is_refused(workload_copy):
    (workload_copy / "jax_impl.py").write_text("def train():\n    pass\n")
    with pytest.raises(WorkloadError, match=r"jax_impl.py: defines no build\(\)"):
        load_workload(workload_copy)


def base_config(**overrides) -> dict:
    cfg = yaml.safe_load(config_mod.CONFIG_PATH.read_text())
    cfg.update(overrides)
    return cfg


def test_default_config_selects_six_cells():
    cells = config_mod.check(base_config())
    assert {(c.framework, c.mode) for c in cells if c.workload == "mlp_digits"} == {
        ("torch", "eager"), ("torch", "compile"),
        ("tensorflow", "eager"), ("tensorflow", "function"), ("tensorflow", "xla"),
        ("jax", "jit"),
        ("keras", "tensorflow"), ("keras", "jax"), ("keras", "torch"),
    }


def test_unknown_framework_names_the_field():
    with pytest.raises(config_mod.ConfigError, match=r"config.yaml: field frameworks.1: 'mxnet' is not one of"):
        config_mod.check(base_config(frameworks=["torch", "mxnet"]))


def test_unknown_mode_names_the_field():
    with pytest.raises(config_mod.ConfigError, match=r"field modes.jax.0: 'eager' is not one of"):
        config_mod.check(base_config(modes={"jax": ["eager"]}))


def test_unknown_workload_names_the_field():
    with pytest.raises(config_mod.ConfigError, match=r"field workloads: no workload folder named nope"):
        config_mod.check(base_config(workloads=["nope"]))


def test_missing_framework_package_is_reported(monkeypatch):
    from pipeline.core.frameworks import FRAMEWORKS

    monkeypatch.setattr(type(FRAMEWORKS["jax"]), "installed", lambda self: self.name != "jax")
    with pytest.raises(config_mod.ConfigError, match=r"field frameworks: 'jax' is selected but the package"):
        config_mod.check(base_config())
    # Keras on JAX needs JAX as well
    with pytest.raises(config_mod.ConfigError, match=r"field modes.keras: mode 'jax' needs 'jax'"):
        config_mod.check(base_config(frameworks=["keras"]))
    # building the site from stored results needs no framework at all
    assert config_mod.check(base_config(measure=False))


def test_threads_never_exceed_the_affinity_mask():
    import os

    available = len(os.sched_getaffinity(0))
    assert config_mod.threads({"threads": "all"}) == available
    assert config_mod.threads({"threads": 10_000}) == available
    assert config_mod.threads({"threads": 1}) == 1


# -- what `python -m pipeline check` catches before any run --------------------------


def test_an_implementation_that_does_not_parse_is_named_with_its_line(workload_copy):
    impl = workload_copy / "jax_impl.py"
    impl.write_text(impl.read_text() + "\ndef broken(:\n")
    with pytest.raises(WorkloadError, match=r"mlp_copy/jax_impl.py: line \d+: does not parse"):
        load_workload(workload_copy)


@pytest.mark.parametrize("line", ["from pipeline.measure.backends.torch_backend import put",
                                  "import pipeline.core.registry", "from pipeline import results"])
def test_a_workload_that_imports_more_than_the_contract_is_refused(workload_copy, line):
    impl = workload_copy / "torch_impl.py"
    impl.write_text(f"{line}\n" + impl.read_text())
    with pytest.raises(WorkloadError, match=r"mlp_copy/torch_impl.py: line 1: imports pipeline\.\S+; a workload "
                                            r"imports nothing of the pipeline but pipeline.contract"):
        load_workload(workload_copy)


def test_every_workload_imports_only_the_contract_of_the_pipeline():
    """The committed workloads, file by file (load_workload refuses any other import)."""
    import ast

    for path in sorted(WORKLOADS_DIR.glob("*/*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pipeline"):
                assert node.module == "pipeline.contract", f"{path}:{node.lineno}"
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("pipeline") for a in node.names), f"{path}:{node.lineno}"


def test_a_workload_py_that_raises_on_import_is_named(workload_copy):
    from pipeline.core.registry import check_deeply

    neutral = workload_copy / "workload.py"
    neutral.write_text(neutral.read_text() + "\nraise RuntimeError('boom at import')\n")
    (problem,) = check_deeply(load_workload(workload_copy))
    assert "mlp_copy/workload.py: fails to import: RuntimeError: boom at import" in problem


def test_a_size_key_make_problem_does_not_take_is_named_per_profile(workload_copy):
    from pipeline.core.registry import check_deeply

    edit_yaml(workload_copy, lambda s: s["profiles"]["full"]["size"].update(hiddn=3))
    (problem,) = check_deeply(load_workload(workload_copy))
    assert "mlp_copy/workload.yaml: field profiles.full.size: make_problem() does not take it" in problem
    assert "hiddn" in problem
    assert check_deeply(discover()["mlp_digits"]) == []


def test_an_unsatisfiable_predicate_and_a_twice_used_scenario_id_are_refused(tmp_path):
    from pipeline.publish import claims, guide

    data = ROOT / "site_data"
    ledger = yaml.safe_load((data / "claims.yaml").read_text())
    claim = next(c for c in ledger["claims"] if "predicate" in c)
    claim["predicate"].update(at_least=5, at_most=0.5)
    copy_ledger(tmp_path, ())
    (tmp_path / "claims.yaml").write_text(yaml.safe_dump(ledger))
    with pytest.raises(claims.ClaimError, match=rf"claim {claim['id']}: field predicate.at_most: 0.5 is below "
                                                r"at_least 5"):
        claims.load(tmp_path / "claims.yaml", WORKLOADS)
    scenarios = yaml.safe_load((data / "scenarios.yaml").read_text())
    scenarios["scenarios"].append(dict(scenarios["scenarios"][0]))
    (tmp_path / "scenarios.yaml").write_text(yaml.safe_dump(scenarios))
    with pytest.raises(claims.ClaimError, match=rf"scenario {scenarios['scenarios'][0]['id']}: field id: used twice"):
        guide.load(tmp_path / "scenarios.yaml", WORKLOADS)


def test_check_exits_non_zero_when_it_refuses_a_result(tmp_path, capsys):
    from pipeline.cli import main

    copy_ledger(tmp_path, ("claims.yaml", "scenarios.yaml"))
    bad = tmp_path / "results" / "some-machine-2c" / "mlp_digits" / "jax-jit.json"
    bad.parent.mkdir(parents=True)
    bad.write_text("{ truncated")
    assert main(["check", "--set", f"data_dir={tmp_path}"]) == 2
    err = capsys.readouterr().err
    assert "refused result" in err and "some-machine-2c/mlp_digits/jax-jit.json" in err
    bad.unlink()
    assert main(["check", "--set", f"data_dir={tmp_path}"]) == 0


def test_a_zero_initialised_bias_without_a_reason_fails_check(workload_copy, monkeypatch):
    from pipeline.core.registry import check_deeply

    # modules load once per name: another test's copy must not stand in for this one
    monkeypatch.delitem(sys.modules, "workloads.mlp_copy.workload", raising=False)
    neutral = workload_copy / "workload.py"
    text = neutral.read_text()
    old = 'weights[f"b{i}"] = bias_rng.uniform(-0.05, 0.05, fan_out).astype(np.float32)'
    assert old in text
    neutral.write_text(text.replace(old, 'weights[f"b{i}"] = np.zeros(fan_out, np.float32)'))
    problems = check_deeply(load_workload(workload_copy))
    assert any("mlp_copy/workload.py: make_problem().init_weights['b0']: every value is zero" in p
               for p in problems), problems
    # declared with its reason, it passes; a declaration that matches nothing is named
    edit_yaml(workload_copy, lambda s: s.update(init_exceptions={"b*": "biases start at zero, as in the "
                                                                        "frameworks' own initialisers"}))
    assert check_deeply(load_workload(workload_copy)) == []
    edit_yaml(workload_copy, lambda s: s["init_exceptions"].update({"bias_typo": "a reason long enough"}))
    (problem,) = check_deeply(load_workload(workload_copy))
    assert "field init_exceptions.bias_typo: matches no parameter" in problem


def test_a_looser_tolerance_needs_its_reason(workload_copy):
    from pipeline.core.registry import check_deeply

    edit_yaml(workload_copy, lambda s: s["tolerance"].pop("reason"))
    problems = check_deeply(load_workload(workload_copy))
    assert [p.split(": ")[1] for p in problems] == ["field tolerance.loss_rtol", "field tolerance.weights_rtol"]
    assert "mlp_copy/workload.yaml: field tolerance.loss_rtol: 0.0001 is looser than the default" in problems[0]
    edit_yaml(workload_copy, lambda s: s["tolerance"].update(reason="Adam amplifies float32 rounding here"))
    assert check_deeply(load_workload(workload_copy)) == []


@pytest.fixture
def data_parallel_copy(tmp_path) -> Path:
    """data_parallel and the mlp_digits it uses, side by side in a folder of their own."""
    copy_workloads(tmp_path, "mlp_digits", "data_parallel")
    return tmp_path / "data_parallel"


def test_replicas_without_a_single_device_version_are_refused(workload_copy):
    edit_yaml(workload_copy, lambda s: s["profiles"]["default"]["size"].update(replicas=2))
    with pytest.raises(WorkloadError, match=r"mlp_copy/workload.yaml: field profiles.default.size.replicas: only a "
                                            r"workload that names its single_device version"):
        load_workload(workload_copy)


def test_a_single_device_version_it_does_not_use_is_refused(data_parallel_copy):
    edit_yaml(data_parallel_copy, lambda s: s.update(uses=[]))
    with pytest.raises(WorkloadError, match=r"data_parallel/workload.yaml: field single_device: 'mlp_digits' is not "
                                            r"among the workloads it uses"):
        load_workload(data_parallel_copy)


@pytest.mark.parametrize("replicas", [0, "two", None])
def test_every_profile_of_a_data_parallel_workload_says_how_many_replicas(data_parallel_copy, replicas):
    edit_yaml(data_parallel_copy, lambda s: s["profiles"]["full"]["size"].update(replicas=replicas))
    with pytest.raises(WorkloadError, match=r"field profiles.full.size.replicas: a data-parallel workload needs"):
        load_workload(data_parallel_copy)


def test_a_data_parallel_workload_reads_its_replicas_per_profile(data_parallel_copy):
    workload = load_workload(data_parallel_copy)
    assert workload.single_device == "mlp_digits"
    assert workload.replicas("smoke") == 2 and load_workload(GOOD).replicas("smoke") == 1
    problem = workload.make_problem(0, **workload.profile("smoke")["size"])
    reference = load_workload(GOOD).make_problem(0, **load_workload(GOOD).profile("smoke")["size"])
    # the same data and weights as its single-device version: only the split differs
    assert problem.hyper["replicas"] == 2 and problem.batch_size == reference.batch_size
    for name, value in reference.init_weights.items():
        assert (problem.init_weights[name] == value).all(), name


def test_a_cell_depends_on_the_files_of_the_workloads_it_uses(data_parallel_copy):
    """An edit to mlp_digits' TensorFlow code measures data_parallel's TensorFlow cells again
    (the DAG's cell inputs and the recorded digests both come from source_files), not its PyTorch ones."""
    from pipeline.core.freshness import source_digests

    workload = load_workload(data_parallel_copy)
    used = data_parallel_copy.parent / "mlp_digits"
    assert {used / "workload.py", used / "tensorflow_impl.py"} <= set(workload.source_files("tensorflow"))
    assert used / "tensorflow_impl.py" not in workload.source_files("torch")
    before = {fw: source_digests(workload.source_files(fw), "smoke") for fw in ("tensorflow", "torch")}
    impl = used / "tensorflow_impl.py"
    impl.write_text(impl.read_text() + "\n# an edit\n")
    after = {fw: source_digests(workload.source_files(fw), "smoke") for fw in ("tensorflow", "torch")}
    assert after["tensorflow"] != before["tensorflow"] and after["torch"] == before["torch"]
