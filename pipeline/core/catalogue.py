"""Every measured metric the site names, once: its title, its unit and which way is
better. Claims, the decision guide, charts and pages read them from here, as the
ecosystem figures are read from :mod:`pipeline.core.ecosystem`.

Units: ``s`` (a duration), ``bytes``, ``fraction`` (0..1), ``count``, ``FLOP/s``,
``nats`` (a loss), ``logit``, ``relative`` (an error) and ``rate`` (per second of
what the workload counts: samples, tokens, examples, a matrix product's FLOPs;
the result records which).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str
    title: str
    unit: str
    #: "higher", "lower", or None where neither is better
    better: str | None
    #: a case metric's column in cases.csv (None: a cells.csv column of the same name)
    column: str | None = None
    #: a duration's unit on every page, table, chart, guide and FAQ alike: "ms" for per-step
    #: and per-call times, seconds for everything that happens once (first step, export...)
    shown_in: str = "s"
    #: timed in samples within each process: its between-process noise is the workload's pooled one
    #: (pipeline/core/noise.py); a value measured once per process (a first step, a count) is not
    sampled: bool = False


_TRAINING = (
    Metric("train_throughput", "Training throughput", "rate", "higher", sampled=True),
    Metric("train_step_time", "Training step time", "s", "lower", shown_in="ms", sampled=True),
    Metric("time_to_first_step", "Time to first step", "s", "lower"),
    Metric("time_to_first_step_warm_cache", "Time to first step with a warm compile cache", "s", "lower"),
    Metric("final_loss", "Final training loss", "nats", "lower"),
    Metric("accuracy", "Held-out accuracy", "fraction", "higher"),
    Metric("inference_throughput", "Inference throughput", "rate", "higher", sampled=True),
    Metric("peak_host_memory", "Peak host memory", "bytes", "lower"),
    Metric("peak_host_memory_setup", "Peak host memory after setup", "bytes", "lower"),
    Metric("peak_host_memory_first_step", "Peak host memory after the first step", "bytes", "lower"),
    Metric("device_peak_memory", "Peak device memory", "bytes", "lower"),
    Metric("compilations_first_step", "Compilations in the first step", "count", "lower"),
    Metric("recompilations_steady_state", "Recompilations after the first step", "count", "lower"),
    # what compiling left out; absent for an eager mode (nothing to report), never zero there
    Metric("graph_breaks", "Graph breaks in training (torch.compile ran those parts eagerly)", "count", "lower"),
    Metric("retracings", "tf.function retracings in training (traces beyond each function's first)", "count",
           "lower"),
    Metric("achieved_flops", "Achieved FLOP/s in training", "FLOP/s", "higher"),
    Metric("utilisation", "Utilisation of the measured fp32 ceiling", "fraction", "higher"),
    Metric("setup_time", "Setup time", "s", "lower"),
    Metric("checkpoint_save_time", "Checkpoint save time", "s", "lower"),
    Metric("checkpoint_restore_time", "Checkpoint restore time", "s", "lower"),
    Metric("checkpoint_size", "Checkpoint size", "bytes", "lower"),
    Metric("checkpoint_max_difference", "Largest logit difference after restoring a checkpoint", "logit", "lower"),
    Metric("train_throughput_bf16", "Training throughput in bf16 mixed precision", "rate", "higher", sampled=True),
    Metric("train_step_time_bf16", "Training step time in bf16", "s", "lower", shown_in="ms", sampled=True),
    Metric("time_to_first_step_bf16", "Time to first step in bf16", "s", "lower"),
    Metric("time_to_first_step_bf16_warm_cache", "Time to first step in bf16 with a warm compile cache", "s",
           "lower"),
    Metric("final_loss_bf16", "Final training loss in bf16", "nats", "lower"),
    Metric("compilations_first_step_bf16", "Compilations in the first bf16 step", "count", "lower"),
    Metric("recompilations_steady_state_bf16", "Recompilations after the first bf16 step", "count", "lower"),
    Metric("graph_breaks_bf16", "Graph breaks in bf16 training", "count", "lower"),
    Metric("retracings_bf16", "tf.function retracings in bf16 training", "count", "lower"),
    Metric("achieved_flops_bf16", "Achieved FLOP/s in bf16 training", "FLOP/s", "higher"),
    Metric("utilisation_bf16", "Utilisation of the measured bf16 ceiling", "fraction", "higher"),
)

_CASE = (
    Metric("throughput", "Throughput", "rate", "higher", "throughput.median", sampled=True),
    Metric("time", "Time per call (median)", "s", "lower", "time.median", shown_in="ms", sampled=True),
    Metric("time_p90", "Time per call, 90th percentile", "s", "lower", "time.p90", shown_in="ms"),
    Metric("time_p99", "Time per call, 99th percentile", "s", "lower", "time.p99", shown_in="ms"),
    Metric("first_call", "First call", "s", "lower", "first_call"),
    Metric("first_call_warm_cache", "First call with a warm compile cache", "s", "lower", "first_call_warm_cache"),
    Metric("compilations", "Compilations in the first call", "count", "lower", "compilations"),
    Metric("recompilations", "Recompilations after the first call", "count", "lower", "recompilations"),
    Metric("graph_breaks", "Graph breaks (torch.compile ran those parts eagerly)", "count", "lower", "graph_breaks"),
    Metric("retracings", "tf.function retracings (traces beyond each function's first)", "count", "lower",
           "retracings"),
    Metric("error", "Error against the reference", "relative", "lower", "error"),
    Metric("export_time", "Export time", "s", "lower", "export_time"),
    Metric("export_size", "Exported artefact size", "bytes", "lower", "export_size"),
    Metric("load_time", "Load time of the exported artefact", "s", "lower", "load_time"),
)

#: training workloads: cells.csv columns
TRAINING: dict[str, Metric] = {m.name: m for m in _TRAINING}
#: operations workloads: one value per case, in cases.csv
CASE: dict[str, Metric] = {m.name: m for m in _CASE}


def find(name: str) -> Metric | None:
    return TRAINING.get(name) or CASE.get(name)
