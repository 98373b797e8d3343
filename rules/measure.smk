# Measurement (and the timer check, which times this machine too): every cell runs in
# PROCESSES fresh processes, each its own job that imports one framework and asks for
# every core, so two never share the machine.
# Rules whose files are kept in the repository declare a stamp under build/ and
# write their files in place: Snakemake deletes a job's declared outputs before
# it runs and after it fails, and a stored file must survive both.
# Priorities run the processes in rounds (process 0 of every cell, then process 1,
# ...), so drift of the machine over time hits all frameworks alike; within a round
# the cells a claim compares run back to back, in reverse order every other round
# (pipeline/core/schedule.py), so claims' ratios can be paired round by round.

PROCESSES = pipeline_config.processes(config)
PRIORITY = pipeline_schedule.priorities(
    pipeline_schedule.order([(c.workload, c.framework, c.mode) for c in CELLS],
                            pipeline_schedule.predicates(f"{DATA}/claims.yaml")),
    PROCESSES,
)


# one id for this DAG run, inherited by every job (recorded in each process's result);
# set when the run starts, so planning (a dry-run, --lint) changes nothing
onstart:
    pipeline_provenance.ensure_run_id()


rule detect:
    output:
        touch(f"build/stamps/detect-{MACHINE}.done"),
    params:
        out=f"{DATA}/machines/{MACHINE}.json",
    log:
        f"logs/detect-{MACHINE}.log",
    threads: whole_machine()
    shell:
        "{PY} -m pipeline detect --out {params.out} > {log} 2>&1"


rule timer_check:
    input:
        code=["pipeline/measure/timing.py", "pipeline/measure/timer_check.py"],
    output:
        touch(f"build/stamps/timer-check-{MACHINE}.done"),
    params:
        out=f"{DATA}/timer_check/{MACHINE}.json",
    log:
        f"logs/timer-check-{MACHINE}.log",
    threads: whole_machine()
    shell:
        "{PY} -m pipeline timer-check --out {params.out} > {log} 2>&1"


rule process:
    input:
        unpack(cell_sources),
        machine=rules.detect.output,
    output:
        temp(f"build/processes/{MACHINE}/{{workload}}/{{framework}}-{{mode}}/{{index}}.json"),
    params:
        profile=config["profile"],
        device=config["device"],
        seed=config["seed"],
        timeout=config["timeout_s"],
        memory=config["memory_limit_mb"],
        reruns=config.get("reruns", pipeline_quiet.RERUNS),
        threads=THREADS,
        options=lambda wildcards: json.dumps(pipeline_config.workload_options(config, wildcards.workload)),
        # shared by the cell's processes: the first empties it and measures the cold start, later
        # ones start warm (their first step is a metric of its own)
        cache=f"build/compile-cache/{MACHINE}/{{workload}}/{{framework}}-{{mode}}{SUFFIX}",
    log:
        "logs/{workload}/{framework}-{mode}-{index}.log",
    priority: process_priority
    threads: whole_machine()
    wildcard_constraints:
        **SELECTED,
        index=r"\d+",
    shell:
        # exec: the harness's parent is Snakemake itself, so it stops when Snakemake does
        "exec {PY} -m pipeline run --workload {wildcards.workload} --framework {wildcards.framework}"
        " --mode {wildcards.mode} --profile {params.profile} --device {params.device}"
        " --threads {params.threads} --seed {params.seed} --timeout {params.timeout}"
        " --memory-limit-mb {params.memory} --reruns {params.reruns} --process-index {wildcards.index} --options {params.options:q}"
        " --compile-cache {params.cache}"
        " --out {output} > {log} 2>&1"


# The cell's result file is written by `pipeline merge` atomically, in place: a
# stored result survives a failed or interrupted re-measurement, a full disk included.
# Only cells whose stored result is not current (rules/common.smk) match this rule.
rule cell:
    input:
        processes=lambda wildcards: expand(
            f"build/processes/{MACHINE}/{wildcards.workload}/{wildcards.framework}-{wildcards.mode}/{{index}}.json",
            index=range(PROCESSES),
        ),
    output:
        touch(f"build/cells/{MACHINE}/{{workload}}/{{framework}}-{{mode}}{SUFFIX}.{{key}}.done"),
    params:
        result=lambda wildcards: pipeline_results.result_path(
            DATA, MACHINE, wildcards.workload, wildcards.framework, wildcards.mode, config["profile"]),
    log:
        "logs/{workload}/{framework}-{mode}.{key}.log",
    wildcard_constraints:
        **SELECTED,
        key=one_of(TO_MEASURE),
    shell:
        "{PY} -m pipeline merge --out {params.result} {input.processes} > {log} 2>&1"

