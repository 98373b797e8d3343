# The DAG: detect the hardware, measure every cell, aggregate, chart, write pages,
# build the site. `snakemake --cores all` re-runs only what changed; pick a profile
# with --config profile=smoke|default|full. Every rule calls `python -m pipeline ...`,
# which also runs on its own.
import sys

from snakemake.utils import min_version

min_version("9.0")
sys.path.insert(0, workflow.basedir)  # this checkout's pipeline package, not another install


# validated against config/config.schema.yaml in rules/common.smk, with errors
# that name the field
configfile: "config/config.yaml"


include: "rules/common.smk"


# with measure=false the stored results are plain inputs, never re-measured
if config["measure"]:

    include: "rules/measure.smk"
    include: "rules/ecosystem.smk"


include: "rules/publish.smk"


rule all:
    default_target: True
    input:
        rules.site.output,
