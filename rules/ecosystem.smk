# The live ecosystem figures of this machine: installed footprint, dependencies,
# cold import time, versions, licences. Re-run when an installed framework's
# version changes (the params), not on every run.

rule ecosystem:
    input:
        code=["pipeline/core/ecosystem.py", "pipeline/measure/ecosystem_live.py"],
    output:
        touch(f"build/stamps/ecosystem-{MACHINE}.done"),
    params:
        out=f"{DATA}/ecosystem/live/{MACHINE}.json",
        versions=installed_versions(),
        runs=pipeline_config.import_runs(config),
    log:
        f"logs/ecosystem-{MACHINE}.log",
    # alone on the machine: the import timings must not compete with a cell
    threads: whole_machine()
    shell:
        "{PY} -m pipeline ecosystem --runs {params.runs} --out {params.out} > {log} 2>&1"
