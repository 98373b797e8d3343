"""inference_latency, framework-neutral part: the two served networks, their
requests and the cases, in NumPy.

The networks are not redefined here: they are the models of the ``cnn_cifar`` and
``transformer_lm`` workloads, reached only through the workload contract
(``make_problem``, ``build``, ``train_step``, ``predict``, ``weights``), so this
workload serves exactly what those workloads train and follows their changes.

``make_problem`` builds both sub-problems (``problem.hyper["nets"]``, NumPy only)
and the requests (``problem.data``): the first ``batch`` held-out examples of each,
``cnn_b1``/``cnn_b<batch>`` float32 NHWC images and ``lm_b1``/``lm_b<batch>`` int32
``(B, seq_len)`` token ids. Every request is answered with the network's logits:
``(B, 10)`` for the CNN, ``(B, seq_len, vocab)`` (every position) for the LM.

Before serving, each framework trains its model ``train_steps`` steps on the first
training batches of the sub-problem, in the same order (:func:`served_model`); the
served weights therefore agree across frameworks up to the rounding of those few
steps, which ``output_rtol`` covers. Training runs in the framework's first mode
(eager where there is one: no compile cost spent on training); a compiled mode then
builds its model from the trained weights in the canonical layout, exactly like a
framework loading a checkpoint into its serving process.

Cases, in page order (``problem.hyper["cases"]`` says which network, batch and kind):

    cnn_b1, lm_b1                 latency: one request per call, synced after each
    cnn_b<batch>, lm_b<batch>     throughput: batches of ``batch`` requests
    cnn_export_b1, lm_export_b1   latency of batch-1 requests to the framework's own
                                  exported artefact, after saving it to disk and
                                  loading it back; extras export_time, export_size
                                  (bytes on disk) and load_time
    cnn_litert_b1                 the CNN converted to a LiteRT (TFLite) flat buffer
                                  and run by the TFLite interpreter (TensorFlow only)

Exports are made for batch 1 with static shapes in every framework (torch.export
would specialise a batch of 1 anyway), from the served, trained weights.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from pipeline.contract import Case, Problem, Used

#: The served networks: short name -> the workload that defines and trains it.
NETS = {"cnn": "cnn_cifar", "lm": "transformer_lm"}
EXPORT = "export"
LITERT = "litert"
SERVE = "serve"


def case_table(batch: int) -> dict[str, dict]:
    """Case name -> {net, batch, kind}, in page order."""
    table = {}
    for net in NETS:
        table[f"{net}_b1"] = {"net": net, "batch": 1, "kind": SERVE}
        table[f"{net}_b{batch}"] = {"net": net, "batch": batch, "kind": SERVE}
    for net in NETS:
        table[f"{net}_export_b1"] = {"net": net, "batch": 1, "kind": EXPORT}
    table["cnn_litert_b1"] = {"net": "cnn", "batch": 1, "kind": LITERT}
    return table


def _description(spec: dict, sub: Problem) -> str:
    what = {"cnn": "32x32x3 image(s) -> 10 logits",
            "lm": f"sequence(s) of {sub.units_per_example} tokens -> logits at every position"}[spec["net"]]
    b = spec["batch"]
    head = {SERVE: f"batch {b}: {b} {what}",
            EXPORT: f"batch 1 from the framework's exported artefact (saved, loaded back): {what}",
            LITERT: f"batch 1 from a LiteRT/TFLite flat buffer in the TFLite interpreter: {what}"}
    return head[spec["kind"]]


def make_problem(seed: int, cnn: dict, lm: dict, train_steps: int, batch: int, used: dict[str, Used],
                 batch_repeat: int = 1) -> Problem:
    """``cnn``/``lm``: keyword arguments of cnn_cifar's and transformer_lm's
    make_problem; ``train_steps``: training steps before serving; ``batch``: the
    served batch of the throughput cases, timed ``batch_repeat`` calls per sample;
    ``used``: those two workloads, handed over by the harness (``uses:``)."""
    subs = {net: used[NETS[net]].make_problem(seed, **size) for net, size in (("cnn", cnn), ("lm", lm))}
    for net, sub in subs.items():
        if len(sub.eval_x) < batch:
            raise ValueError(f"{net}: {len(sub.eval_x)} held-out examples, fewer than the served batch {batch}")
    data = {f"{net}_b{b}": np.ascontiguousarray(sub.eval_x[:b]) for net, sub in subs.items() for b in (1, batch)}

    table = case_table(batch)
    cases = {}
    for name, spec in table.items():
        throughput = spec["batch"] > 1
        cases[name] = Case(
            work=float(spec["batch"]),
            unit="examples",
            latency=not throughput,
            repeat=batch_repeat if throughput else 1,
            flops=spec["batch"] * subs[spec["net"]].flops_per_example_forward,
            description=_description(spec, subs[spec["net"]]),
        )

    facts = {"train_steps_before_serving": train_steps, "served_batch": batch}
    for net, sub in subs.items():
        facts[f"{net}_network"] = f"the {NETS[net]} workload's model"
        facts[f"{net}_parameters"] = sub.facts["parameters"]
        facts[f"{net}_forward_flops_per_example"] = sub.flops_per_example_forward
        facts[f"{net}_request_shape"] = list(sub.eval_x.shape[1:])
    return Problem(
        data=data,
        cases=cases,
        reference=None,  # cross-framework agreement only (the tests compare with torch eager)
        hyper={"nets": subs, "cases": table, "train_steps": train_steps, "batch": batch},
        facts=facts,
        used=used,
    )


def served_model(problem: Problem, net: str, framework: str, train_mode: str, mode: str, device):
    """The ``net`` model of ``framework`` in ``mode``, trained ``train_steps`` steps.

    Framework-neutral: it calls the other workload's implementation, as the contract
    hands it over, and places batches with the contract's ``problem.place``, as the
    harness places training batches. Training happens in ``train_mode`` (the
    framework's cheapest); another serving mode gets a model built from the trained
    weights in the canonical layout."""
    sub = problem.hyper["nets"][net]
    impl = problem.used[NETS[net]].implementation(framework)
    model = impl.build(sub, train_mode, device)
    for i in range(problem.hyper["train_steps"]):
        batch = sub.train_batches[i % len(sub.train_batches)]
        model.train_step(*(problem.place(a) for a in batch))
    if mode != train_mode:
        trained = dataclasses.replace(sub, init_weights=model.weights())
        model = impl.build(trained, mode, device)
    return model
