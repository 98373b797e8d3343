"""data_parallel in PyTorch: mlp_digits' nn.Sequential wrapped in DistributedDataParallel,
one process per replica (gloo on the CPU, nccl on CUDA); eager or torch.compile.

The harness hands rank 0 the global batch, as it hands every framework its batches;
rank 0 scatters the other ranks' shards and averages the loss over the ranks.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

STEP, STOP = 1, 0


def make_mlp(hidden: int, n_features: int, n_classes: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(n_features, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, n_classes),
    )


def rank_device(device: torch.device, rank: int) -> torch.device:
    return torch.device("cuda", rank) if device.type == "cuda" else device


class Model:
    def __init__(self, problem, mode: str, device: torch.device, rank: int = 0, store: str | None = None,
                 threads: int | None = None):
        hp = problem.hyper
        threads = threads or torch.get_num_threads()
        self.replicas, self.rank = hp["replicas"], rank
        if device.type == "cuda" and torch.cuda.device_count() < self.replicas:
            raise NotImplementedError(f"{self.replicas} replicas need {self.replicas} CUDA devices; "
                                      f"this machine has {torch.cuda.device_count()}")
        self.device = rank_device(device, rank)
        if device.type == "cpu":
            # emulated replicas share the cores: the ranks split the process's threads
            torch.set_num_threads(max(1, threads // self.replicas))
        if rank == 0:
            _close_open_models()
            store = os.path.join(tempfile.mkdtemp(prefix="ddp-"), "store")
            self.ranks = [_start_rank(r, problem, mode, device, store, threads) for r in range(1, self.replicas)]
            _OPEN.append(self)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", init_method=f"file://{store}",
                                rank=rank, world_size=self.replicas)
        self.net = make_mlp(hp["hidden"], hp["n_features"], hp["n_classes"]).to(self.device)
        self.dense = [m for m in self.net if isinstance(m, nn.Linear)]
        if rank == 0:
            self.load_weights(problem.init_weights)
        # DistributedDataParallel broadcasts rank 0's weights to the other ranks here
        self.ddp = DistributedDataParallel(self.net, device_ids=[self.device] if device.type == "cuda" else None)
        self.optimizer = torch.optim.Adam(self.ddp.parameters(), lr=hp["lr"])
        if mode == "eager":
            self.loss_fn = self._loss
            self.forward = self.net
        elif mode == "compile":
            self.loss_fn = torch.compile(self._loss)
            self.forward = torch.compile(self.net)
        else:
            raise NotImplementedError(f"torch has no mode {mode!r}")

    def _loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(self.ddp(x), y)

    def _step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss_fn(x, y)
        loss.backward()  # DistributedDataParallel averages the gradients over the ranks
        self.optimizer.step()
        loss = loss.detach()
        dist.all_reduce(loss)
        return loss / self.replicas

    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        dist.broadcast(torch.tensor([STEP], device=self.device), src=0)
        xs, ys = list(x.chunk(self.replicas)), list(y.chunk(self.replicas))
        x0, y0 = torch.empty_like(xs[0]), torch.empty_like(ys[0])
        dist.scatter(x0, xs, src=0)
        dist.scatter(y0, ys, src=0)
        return self._step(x0, y0)

    def serve(self, per_replica: int, n_features: int) -> None:
        """Ranks above 0: take a shard and step with the others until rank 0 stops."""
        command = torch.empty(1, dtype=torch.int64, device=self.device)
        x = torch.empty(per_replica, n_features, device=self.device)
        y = torch.empty(per_replica, dtype=torch.int64, device=self.device)
        while True:
            dist.broadcast(command, src=0)
            if command.item() != STEP:
                break
            dist.scatter(x, src=0)
            dist.scatter(y, src=0)
            self._step(x, y)
        dist.destroy_process_group()

    def close(self) -> None:
        if self.rank == 0 and dist.is_initialized():
            dist.broadcast(torch.tensor([STOP], device=self.device), src=0)
            dist.destroy_process_group()
            for proc in self.ranks:
                proc.wait(timeout=60)

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward(x)

    def load_weights(self, weights: dict[str, np.ndarray]) -> None:
        with torch.no_grad():
            for i, layer in enumerate(self.dense):
                # torch keeps kernels as (out, in)
                layer.weight.copy_(torch.from_numpy(weights[f"w{i}"].T.copy()))
                layer.bias.copy_(torch.from_numpy(weights[f"b{i}"]))

    def weights(self) -> dict[str, np.ndarray]:
        out = {}
        for i, layer in enumerate(self.dense):
            out[f"w{i}"] = layer.weight.detach().cpu().numpy().T.copy()
            out[f"b{i}"] = layer.bias.detach().cpu().numpy().copy()
        return out


#: rank 0's models whose other ranks still run: stopped at exit, or when the next is built
_OPEN: list[Model] = []


def _close_open_models() -> None:
    while _OPEN:
        _OPEN.pop().close()


atexit.register(_close_open_models)


def _start_rank(rank: int, problem, mode: str, device: torch.device, store: str, threads: int) -> subprocess.Popen:
    """Rank ``rank`` as a child process running this file; it inherits the environment and
    the process group, so whatever stops rank 0's group stops it too."""
    spec = {"hyper": problem.hyper, "batch": problem.batch_size, "mode": mode, "device": device.type,
            "rank": rank, "store": store, "threads": threads, "parent": os.getpid()}
    return subprocess.Popen([sys.executable, __file__, json.dumps(spec)])


def _exit_with(parent: int) -> None:
    """A rank above 0 blocks in a collective while rank 0 is gone: leave with it."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _serve(spec: dict) -> None:
    threading.Thread(target=_exit_with, args=(spec["parent"],), daemon=True).start()
    hp = spec["hyper"]

    class Shapes:  # what Model reads of a problem on ranks above 0: no weights, no data
        hyper = hp

    model = Model(Shapes, spec["mode"], torch.device(spec["device"]), spec["rank"], spec["store"], spec["threads"])
    model.serve(spec["batch"] // hp["replicas"], hp["n_features"])


def build(problem, mode: str, device: torch.device) -> Model:
    return Model(problem, mode, device)


if __name__ == "__main__":
    _serve(json.loads(sys.argv[1]))
