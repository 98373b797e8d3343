"""matmul in TensorFlow: ``tf.linalg.matmul``, eager, tf.function, or
tf.function(jit_compile=True) (XLA).

bf16 cases cast the inputs with ``tf.cast`` once, when the case is prepared; the
product is then a bf16 ``tf.linalg.matmul`` (oneDNN on CPUs with bf16
instructions, cuBLAS on GPUs) whose output stays bf16.
"""

from __future__ import annotations

import tensorflow as tf

DTYPES = {"fp32": tf.float32, "bf16": tf.bfloat16}


def matmul(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    return tf.linalg.matmul(a, b)


class Bench:
    def __init__(self, problem, mode: str, device: str):
        self.problem = problem
        self.device = device
        # kept in a dict attribute so the harness can count their traces; each
        # case has its own shape and dtype, hence its own trace (and XLA compile)
        if mode == "eager":
            self.fns = {"matmul": matmul}
        elif mode == "function":
            self.fns = {"matmul": tf.function(matmul)}
        elif mode == "xla":
            self.fns = {"matmul": tf.function(matmul, jit_compile=True)}
        else:
            raise NotImplementedError(f"tensorflow has no mode {mode!r}")

    def operation(self, case: str):
        spec = self.problem.cases[case]
        n = self.problem.hyper["sizes"][case]
        dtype = DTYPES[spec.precision]
        with tf.device(self.device):
            # tf.constant stays in host memory; tf.identity copies it to the device
            a = tf.cast(tf.identity(tf.constant(self.problem.data[f"a{n}"])), dtype)
            b = tf.cast(tf.identity(tf.constant(self.problem.data[f"b{n}"])), dtype)
        tf.test.experimental.sync_devices()  # the copies and casts stay untimed
        fn = self.fns["matmul"]
        # no tf.device scope around the call: eager TF runs it on the first GPU if
        # there is one, else on the CPU, which is the device the harness picks
        return lambda: fn(a, b)


def build(problem, mode: str, device: str) -> Bench:
    return Bench(problem, mode, device)
