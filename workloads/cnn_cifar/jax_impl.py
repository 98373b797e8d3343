"""cnn_cifar in JAX: a Flax NNX ResNet, Optax SGD with momentum, augmentation as
a vmapped dynamic_slice inside one jax.jit-compiled step; bf16 through the
modules' ``dtype`` (parameters stay fp32); checkpoints with Orbax.
See workload.py for the architecture and the canonical layout."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp
from flax import nnx

PAD3 = ((1, 1), (1, 1))  # explicit, symmetric: "SAME" with stride 2 would pad (0, 1)


class Block(nnx.Module):
    def __init__(self, cin: int, cout: int, stride: int, dtype, rngs: nnx.Rngs):
        conv = partial(nnx.Conv, dtype=dtype, param_dtype=jnp.float32, rngs=rngs)
        self.conv1 = conv(cin, cout, (3, 3), stride, padding=PAD3)
        self.conv2 = conv(cout, cout, (3, 3), 1, padding=PAD3)
        self.proj = (conv(cin, cout, (1, 1), stride, padding="VALID")
                     if stride != 1 or cin != cout else None)

    def __call__(self, x: jax.Array) -> jax.Array:
        h = self.conv2(nnx.relu(self.conv1(x)))
        shortcut = x if self.proj is None else self.proj(x)
        return nnx.relu(h + shortcut)


class ResNet(nnx.Module):
    def __init__(self, widths: list[int], n_classes: int, dtype, rngs: nnx.Rngs):
        self.stem = nnx.Conv(3, widths[0], (3, 3), padding=PAD3, dtype=dtype, rngs=rngs)
        blocks, cin = [], widths[0]
        for s, width in enumerate(widths):
            blocks.append(Block(cin, width, 1 if s == 0 else 2, dtype, rngs))
            cin = width
        self.blocks = nnx.List(blocks)
        self.head = nnx.Linear(cin, n_classes, dtype=dtype, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:  # x: NHWC, XLA's native layout
        x = nnx.relu(self.stem(x))
        for block in self.blocks:
            x = block(x)
        return self.head(x.mean(axis=(1, 2))).astype(jnp.float32)  # pool, then fp32 logits

    def named(self) -> dict[str, nnx.Module]:
        """The weighted layers by canonical name."""
        out = {"stem": self.stem, "head": self.head}
        for s, block in enumerate(self.blocks):
            out[f"block{s}.conv1"], out[f"block{s}.conv2"] = block.conv1, block.conv2
            if block.proj is not None:
                out[f"block{s}.proj"] = block.proj
        return out


def augment_one(image: jax.Array, crop: jax.Array, flip: jax.Array, pad: int) -> jax.Array:
    """Zero-pad one image, take the window at (dy, dx), mirror it if flip == 1."""
    h, w, c = image.shape
    padded = jnp.pad(image, ((pad, pad), (pad, pad), (0, 0)))
    window = jax.lax.dynamic_slice(padded, (crop[0], crop[1], 0), (h, w, c))
    return jnp.where(flip == 1, window[:, ::-1], window)


def loss_fn(model: ResNet, x: jax.Array, y: jax.Array) -> jax.Array:
    logits = model(x)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def train_step(graphdef, pad, state, x, y, crop, flip):
    model, optimizer = nnx.merge(graphdef, state)
    x = jax.vmap(partial(augment_one, pad=pad))(x, crop, flip)
    loss, grads = nnx.value_and_grad(loss_fn)(model, x, y)
    optimizer.update(model, grads)
    return nnx.state((model, optimizer)), loss


def predict(graphdef, state, x):
    model, _ = nnx.merge(graphdef, state)
    return model(x)


class Model:
    def __init__(self, problem, mode: str, device: jax.Device):
        if mode != "jit":
            raise NotImplementedError(f"jax has no mode {mode!r}")
        hp = problem.hyper
        self.device, self.pad = device, hp["pad"]
        self.names = list(problem.init_weights)
        dtype = jnp.bfloat16 if hp.get("precision", "fp32") == "bf16" else jnp.float32
        with jax.default_device(device):
            model = ResNet(hp["widths"], hp["n_classes"], dtype, rngs=nnx.Rngs(0))
            named = model.named()
            for name, value in problem.init_weights.items():
                layer, kind = name.rsplit(".", 1)
                # Flax kernels are (kh, kw, in, out) and (in, out) already
                getattr(named[layer], kind).value = jnp.asarray(value)
            # optax's trace: v = g + mu * v; p -= lr * v, as torch's SGD
            tx = optax.sgd(hp["lr"], momentum=hp["momentum"])
            optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)
        self.graphdef, state = nnx.split((model, optimizer))
        # committed to the device like the input batches (no recompilation later)
        self.state = jax.device_put(state, device)
        # the old state buffers are donated: updated in place, as torch and TF do
        self._train_step = jax.jit(train_step, static_argnums=(0, 1), donate_argnums=2)
        self._predict = jax.jit(predict, static_argnums=0)

    def train_step(self, x, y, crop, flip) -> jax.Array:
        self.state, loss = self._train_step(self.graphdef, self.pad, self.state, x, y, crop, flip)
        return loss

    def predict(self, x: jax.Array) -> jax.Array:
        return self._predict(self.graphdef, self.state, x)

    def weights(self) -> dict[str, np.ndarray]:
        model, _ = nnx.merge(self.graphdef, self.state)
        named = model.named()
        out = {}
        for name in self.names:
            layer, kind = name.rsplit(".", 1)
            out[name] = np.asarray(getattr(named[layer], kind).value)
        return out

    def save(self, directory: str) -> None:
        with ocp.StandardCheckpointer() as checkpointer:
            checkpointer.save(Path(directory).resolve() / "state", self.state)

    def restore(self, directory: str) -> None:
        # the current state's shapes, dtypes and device placement are the template
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, self.state)
        with ocp.StandardCheckpointer() as checkpointer:
            self.state = checkpointer.restore(Path(directory).resolve() / "state", abstract)


def build(problem, mode: str, device: jax.Device) -> Model:
    return Model(problem, mode, device)
