# Publication: results -> pandas tables -> Altair charts -> Markdown pages -> site/.
# Each rule whose files are kept in the repository declares a stamp under build/
# and writes its files in place (atomically), so a failed job deletes none of them.


rule aggregate:
    input:
        code=PUBLISH_CODE,
        results=measured_results(),
        timer_checks=timer_checks(),
    output:
        touch("build/stamps/aggregate.done"),
    params:
        publish=",".join(config["publish"]),
        threshold=config["comparison"]["threshold"],
        alpha=config["comparison"]["alpha"],
    log:
        "logs/aggregate.log",
    shell:
        "{PY} -m pipeline aggregate --data-dir {DATA} --out-dir {DATA}/tables --publish {params.publish}"
        " --threshold {params.threshold} --alpha {params.alpha} > {log} 2>&1"


rule charts:
    input:
        code=PUBLISH_CODE,
        tables=rules.aggregate.output,
    output:
        touch("build/stamps/charts.done"),
    log:
        "logs/charts.log",
    shell:
        "{PY} -m pipeline charts --tables {DATA}/tables --out-dir docs/assets/charts"
        " --stamp docs/assets/charts/index.txt > {log} 2>&1"


rule ergonomics:
    input:
        code=PUBLISH_CODE,
        implementations=WORKLOAD_CODE,
        # single_device, which pairs a data-parallel workload with its single-device version
        workloads=ALL_WORKLOADS,
    output:
        touch("build/stamps/ergonomics.done"),
    log:
        "logs/ergonomics.log",
    shell:
        "{PY} -m pipeline ergonomics --out {DATA}/tables/ergonomics.csv > {log} 2>&1"


rule verdicts:
    input:
        code=PUBLISH_CODE,
        tables=rules.aggregate.output,
        # scale_out.json, which claims about scaling out read
        ergonomics=rules.ergonomics.output,
        ecosystem=ecosystem_files(),
        bounds=[f"{DATA}/accelerators.yaml", f"{DATA}/model_costs.yaml"],
        claims=f"{DATA}/claims.yaml",
    output:
        touch("build/stamps/verdicts.done"),
    log:
        "logs/verdicts.log",
    shell:
        "{PY} -m pipeline verdicts --data-dir {DATA} --claims {input.claims} --out {DATA}/tables/verdicts.csv"
        " > {log} 2>&1"


rule guide:
    input:
        code=PUBLISH_CODE,
        tables=rules.aggregate.output,
        ergonomics=rules.ergonomics.output,
        ecosystem=ecosystem_files(),
        ledgers=[f"{DATA}/claims.yaml", f"{DATA}/scenarios.yaml"],
    output:
        touch("build/stamps/guide.done"),
    log:
        "logs/guide.log",
    shell:
        "{PY} -m pipeline guide --data-dir {DATA} --out {DATA}/tables/guide.json > {log} 2>&1"


rule compare_machines:
    input:
        code=PUBLISH_CODE,
        tables=rules.aggregate.output,
        verdicts=rules.verdicts.output,
        guide=rules.guide.output,
    output:
        touch("build/stamps/compare_machines.done"),
    log:
        "logs/compare_machines.log",
    shell:
        "{PY} -m pipeline compare-machines --tables {DATA}/tables --out {DATA}/tables/machine_differences.json"
        " > {log} 2>&1"


rule pages:
    input:
        code=PUBLISH_CODE,
        tables=rules.aggregate.output,
        charts=rules.charts.output,
        verdicts=rules.verdicts.output,
        ergonomics=rules.ergonomics.output,
        guide=rules.guide.output,
        machines=rules.compare_machines.output,
        ecosystem=ecosystem_files(),
        workloads=ALL_WORKLOADS,
        ledgers=[f"{DATA}/claims.yaml", f"{DATA}/scenarios.yaml"],
        templates=TEMPLATES,
        # the concept map shows code of the implementation files and backends
        implementations=WORKLOAD_CODE,
        backends=BACKEND_CODE,
        notebooks=NOTEBOOKS,
    output:
        touch("build/stamps/pages.done"),
    log:
        "logs/pages.log",
    shell:
        "{PY} -m pipeline pages --data-dir {DATA} --docs-dir docs > {log} 2>&1"


rule site:
    input:
        code=PUBLISH_CODE,
        pages=rules.pages.output,
        tables=rules.aggregate.output,
        sources=SITE_SOURCES,
        notebooks=NOTEBOOKS,
        # the code tabs and the concept map include these files verbatim
        implementations=WORKLOAD_CODE,
        backends=BACKEND_CODE,
    output:
        directory("site"),
    log:
        "logs/site.log",
    shell:
        # site_hooks.py serves the stored result files of this data folder
        "SITE_DATA_DIR={DATA} {PY} -m mkdocs build --strict --site-dir {output} > {log} 2>&1"
