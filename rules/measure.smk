# Measurement: one job per cell, each a fresh process that imports one framework.
# A cell asks for every core, so two cells never share the machine.


rule detect:
    output:
        f"{DATA}/machines/{MACHINE}.json",
    log:
        f"logs/detect-{MACHINE}.log",
    threads: workflow.cores
    shell:
        "{PY} -m pipeline detect --out {output} > {log} 2>&1"


rule cell:
    input:
        unpack(cell_sources),
        machine=rules.detect.output,
    output:
        f"{DATA}/results/{MACHINE}/{{workload}}/{{framework}}-{{mode}}.json",
    params:
        profile=config["profile"],
        device=config["device"],
        seed=config["seed"],
        timeout=config["timeout_s"],
        threads=THREADS,
    log:
        "logs/{workload}/{framework}-{mode}.log",
    threads: workflow.cores
    wildcard_constraints:
        framework="torch|tensorflow|jax",
    shell:
        "{PY} -m pipeline run --workload {wildcards.workload} --framework {wildcards.framework}"
        " --mode {wildcards.mode} --profile {params.profile} --device {params.device}"
        " --threads {params.threads} --seed {params.seed} --timeout {params.timeout}"
        " --out {output} > {log} 2>&1"
