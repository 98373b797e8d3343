"""matmul in PyTorch: ``a @ b`` (torch.mm), eager or torch.compile.

bf16 cases cast the inputs with ``.to(torch.bfloat16)`` once, when the case is
prepared; the product is then a plain bf16 ``a @ b`` (oneDNN on CPUs with bf16
instructions, cuBLAS with fp32 accumulation on GPUs), and the output stays bf16.
"""

from __future__ import annotations

import torch
import torch._dynamo

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


def matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a @ b


class Bench:
    def __init__(self, problem, mode: str, device: torch.device):
        self.problem = problem
        self.device = device
        if mode == "eager":
            self.matmul = matmul
        elif mode == "compile":
            # one static graph per (size, dtype), like XLA's per-shape compilation;
            # every case is a new shape of the same function, so let Dynamo keep
            # a graph for each instead of falling back to eager after the default 8
            limit = max(torch._dynamo.config.recompile_limit, len(problem.cases))
            torch._dynamo.config.recompile_limit = limit
            self.matmul = torch.compile(matmul, dynamic=False)
        else:
            raise NotImplementedError(f"torch has no mode {mode!r}")

    def _put(self, name: str, dtype: torch.dtype) -> torch.Tensor:
        return torch.from_numpy(self.problem.data[name]).to(self.device).to(dtype)

    def operation(self, case: str):
        spec = self.problem.cases[case]
        n = self.problem.hyper["sizes"][case]
        dtype = DTYPES[spec.precision]
        a, b = self._put(f"a{n}", dtype), self._put(f"b{n}", dtype)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)  # the copies and casts stay untimed
        fn = self.matmul
        return lambda: fn(a, b)


def build(problem, mode: str, device: torch.device) -> Bench:
    return Bench(problem, mode, device)
