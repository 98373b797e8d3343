"""What "the same work" means numerically, in one place: the default tolerances, the
rule that a looser one states its reason, the initial weights a wrong model cannot
hide behind, and how trained weights are compared across frameworks.

A model that lacks a parameter can still match another framework's losses to a
fraction of a percent when that parameter starts at zero (a missing recurrent bias
did). So ``check`` refuses initial weights that are zero, constant, or equal to
another parameter's, unless ``workload.yaml`` names them under ``init_exceptions``
with the reason; and the equivalence tier compares every trained parameter, by
name, after the same steps. NumPy only: ``check`` and the tests import this, never
a framework.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

import numpy as np

#: As tight as the frameworks allow: in float32 on one thread (as the equivalence tier
#: runs), at the smoke size, the template workloads' largest differences from PyTorch
#: eager were 3.6e-7 in logits, 1.5e-6 relative in losses after 5 steps and 1.1e-5 in
#: trained weights (2026-12-02); each default leaves about 5-10x room. ``weights_rtol``
#: bounds, per parameter, the distance between two frameworks' trained values as a
#: share of how far training moved it (the reference's L2 norms).
#: ``replicas_rtol``: a data-parallel workload's N replicas against its single-device
#: version in the same framework and mode; measured 2026-12-03 at the smoke size, 2
#: emulated replicas: losses 1.1e-7 relative, trained weights 2.2e-6 (TensorFlow).
DEFAULT_TOLERANCE = {"logits_atol": 2e-6, "loss_rtol": 1e-5, "weights_rtol": 1e-4, "output_rtol": 1e-5,
                     "replicas_rtol": 1e-5, "equivalence_steps": 5}
#: What each tolerance bounds, for the Contributing page.
MEANING = {
    "logits_atol": "training: the largest difference of the untrained model's logits from PyTorch eager's",
    "loss_rtol": "training: each loss over the identical steps, relative",
    "weights_rtol": "training: after those steps, per parameter, the distance of its trained value from "
                    "PyTorch eager's as a share of how far training moved it there (L2 norms)",
    "output_rtol": "operations: each case's output, relative to the largest expected value "
                   "(a Case may set its own rtol)",
    "replicas_rtol": "data-parallel: each loss over the identical steps and, per parameter as for "
                     "weights_rtol, each trained weight of the N replicas against the single-device version "
                     "in the same framework and mode",
    "equivalence_steps": "training: the identical steps the tests and each measured process's evidence take",
}
#: Tolerance keys that loosen the comparison as they grow (``equivalence_steps`` does not).
BOUNDS = ("logits_atol", "loss_rtol", "weights_rtol", "output_rtol", "replicas_rtol")


def tolerance(spec: dict) -> dict:
    """A workload's tolerances: the defaults, overridden by its ``tolerance`` block."""
    return {**DEFAULT_TOLERANCE, **(spec.get("tolerance") or {})}


def looser_without_reason(spec: dict, source) -> list[str]:
    """A tolerance looser than the default needs ``tolerance.reason``, shown on the page."""
    declared = spec.get("tolerance") or {}
    if str(declared.get("reason", "")).strip():
        return []
    return [f"{source}: field tolerance.{key}: {declared[key]:g} is looser than the default "
            f"{DEFAULT_TOLERANCE[key]:g}; say why in tolerance.reason (it is shown on the workload page)"
            for key in BOUNDS if key in declared and declared[key] > DEFAULT_TOLERANCE[key]]


def _excepted(name: str, exceptions: dict[str, str]) -> bool:
    return any(fnmatchcase(name, pattern) for pattern in exceptions)


def init_findings(weights: dict[str, np.ndarray], exceptions: dict[str, str], source) -> list[str]:
    """Initial weights that would let a missing or swapped parameter pass unseen: all
    zero, one value repeated, or equal to another parameter. ``exceptions`` maps a
    name or glob (``*.bias``) to the reason it may be so."""
    found, seen = [], {}
    for name, value in weights.items():
        x = np.asarray(value)
        where = f"{source}: make_problem().init_weights[{name!r}]"
        if not np.all(np.isfinite(x)):
            found.append(f"{where}: holds a non-finite value")
            continue
        same = seen.setdefault((x.shape, x.dtype.str, x.tobytes()), name)
        if _excepted(name, exceptions):
            continue
        hint = "; give it small random values, or name it under init_exceptions in workload.yaml with the reason"
        if x.size and not np.any(x):
            found.append(f"{where}: every value is zero{hint}")
        elif x.size > 1 and np.all(x == x.flat[0]):
            found.append(f"{where}: every value is {x.flat[0]:g}{hint}")
        elif same != name:
            found.append(f"{where}: equals init_weights[{same!r}]{hint}")
    return found


def unused_exceptions(weights: dict[str, np.ndarray], exceptions: dict[str, str], source) -> list[str]:
    """An ``init_exceptions`` entry that matches no parameter is a typo or a leftover."""
    return [f"{source}: field init_exceptions.{pattern}: matches no parameter of init_weights"
            for pattern in exceptions if not any(fnmatchcase(name, pattern) for name in weights)]


def weight_differences(initial: dict[str, np.ndarray], reference: dict[str, np.ndarray],
                       other: dict[str, np.ndarray]) -> dict[str, float]:
    """Per parameter, ``|other - reference|`` over ``|reference - initial|`` (L2 norms):
    0 where the two trained alike, about 1 where ``other`` never moved the parameter
    or moved it elsewhere. A parameter ``other`` lacks is infinitely different."""
    out = {}
    for name, w0 in initial.items():
        if name not in other:
            out[name] = float("inf")
            continue
        ref = np.asarray(reference[name], dtype=np.float64)
        diff = float(np.linalg.norm(np.asarray(other[name], dtype=np.float64) - ref))
        moved = float(np.linalg.norm(ref - np.asarray(w0, dtype=np.float64)))
        # a parameter the steps did not move (a frozen table, say) is compared as is
        out[name] = diff / moved if moved > 0 else (0.0 if diff == 0 else float("inf"))
    return out


def weight_findings(initial: dict[str, np.ndarray], reference: dict[str, np.ndarray],
                    other: dict[str, np.ndarray], rtol: float, who: str) -> list[str]:
    """Parameters ``other`` trained differently from ``reference`` beyond ``rtol``, each
    named; first those it never moved (held but unused, or not held at all)."""
    differences = weight_differences(initial, reference, other)
    found = []
    for name, d in sorted(differences.items(), key=lambda item: -item[1]):
        if d <= rtol:
            continue
        if name not in other:
            found.append(f"{who}: parameter {name!r} is missing from weights()")
        elif np.array_equal(other[name], initial[name]) and not np.array_equal(reference[name], initial[name]):
            found.insert(0, f"{who}: parameter {name!r} never moved from its initial value while the reference "
                            f"trained it: the model holds it but does not use it, or does not have it")
        else:
            found.append(f"{who}: parameter {name!r} trained differently: off by {d:.3g} of its update "
                         f"(tolerance {rtol:g})")
    return found
