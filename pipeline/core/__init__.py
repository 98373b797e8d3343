"""What measuring and publishing share, framework-free: the workload registry and
config, result records and their checks, statistics, the metric catalogue, the
frameworks' names and modes, and the JSON schemas every input is checked against."""
