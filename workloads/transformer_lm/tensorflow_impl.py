"""transformer_lm in TensorFlow: Keras layers (MultiHeadAttention with a causal
mask), a GradientTape loop, Keras AdamW; eager, tf.function, or
tf.function(jit_compile=True) (XLA); fp32 or a mixed_bfloat16 dtype policy."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

layers = tf.keras.layers


class AdamW(tf.keras.optimizers.AdamW):
    """Keras AdamW with epsilon where torch.optim.AdamW and optax.adamw put it.

    Keras adds epsilon to sqrt(v) *before* the bias correction (Kingma & Ba's
    "epsilon hat"), which at step t acts like epsilon / sqrt(1 - beta_2^t) in the
    other two: 30x larger at step 1. At init the gradients of the q/k kernels are
    ~1e-6 (attention logits start near zero), so that alone moves their first
    updates by several percent. Here: theta -= lr * m_hat / (sqrt(v_hat) + eps).
    Decoupled weight decay (theta -= lr * wd * theta, before this) is Keras' own."""

    def update_step(self, gradient, variable, learning_rate):
        lr = tf.cast(learning_rate, variable.dtype)
        gradient = tf.cast(gradient, variable.dtype)
        step = tf.cast(self.iterations + 1, variable.dtype)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign_add(m, (gradient - m) * (1 - self.beta_1))
        self.assign_add(v, (tf.square(gradient) - v) * (1 - self.beta_2))
        m_hat = m / (1 - tf.pow(tf.cast(self.beta_1, variable.dtype), step))
        v_hat = v / (1 - tf.pow(tf.cast(self.beta_2, variable.dtype), step))
        self.assign_sub(variable, lr * m_hat / (tf.sqrt(v_hat) + self.epsilon))


class Block(layers.Layer):
    def __init__(self, d_model: int, n_heads: int, eps: float, dtype=None, **kwargs):
        super().__init__(dtype=dtype, **kwargs)
        # Keras defaults to epsilon 1e-3; the shared value is 1e-5
        self.ln1 = layers.LayerNormalization(epsilon=eps, dtype=dtype)
        self.attn = layers.MultiHeadAttention(n_heads, d_model // n_heads, dtype=dtype)
        self.ln2 = layers.LayerNormalization(epsilon=eps, dtype=dtype)
        # "gelu" is keras.activations.gelu with approximate=False: the exact erf form
        self.fc = layers.Dense(4 * d_model, activation="gelu", dtype=dtype)
        self.proj = layers.Dense(d_model, dtype=dtype)

    def call(self, x: tf.Tensor) -> tf.Tensor:
        h = self.ln1(x)
        x = x + self.attn(h, h, use_causal_mask=True)
        return x + self.proj(self.fc(self.ln2(x)))


class GPT(tf.keras.Model):
    def __init__(self, vocab: int, d_model: int, n_heads: int, n_layers: int, seq_len: int, eps: float,
                 dtype=None):
        super().__init__(dtype=dtype)
        self.tok_emb = layers.Embedding(vocab, d_model, dtype=dtype)
        self.pos_emb = layers.Embedding(seq_len, d_model, dtype=dtype)
        self.blocks = [Block(d_model, n_heads, eps, dtype=dtype) for _ in range(n_layers)]
        self.ln_f = layers.LayerNormalization(epsilon=eps, dtype=dtype)
        self.head = layers.Dense(vocab, dtype=dtype)

    def call(self, idx: tf.Tensor) -> tf.Tensor:
        x = self.tok_emb(idx) + self.pos_emb(tf.range(tf.shape(idx)[1]))
        for block in self.blocks:
            x = block(x)
        # logits in fp32 whatever the compute dtype: the loss and argmax read them
        return tf.cast(self.head(self.ln_f(x)), tf.float32)


def _canonical_variables(net: GPT) -> dict[str, tf.Variable]:
    """Canonical name -> Keras variable.

    Keras MultiHeadAttention keeps per-head kernels: q/k/v (d, heads, head_dim) with
    (heads, head_dim) biases, output (heads, head_dim, d); a row-major reshape maps
    the canonical (d, d) kernels onto them (heads split features contiguously)."""
    out = {"tok_emb": net.tok_emb.embeddings, "pos_emb": net.pos_emb.embeddings}

    def dense(name, layer):
        out[name + ".kernel"], out[name + ".bias"] = layer.kernel, layer.bias

    def norm(name, layer):
        out[name + ".scale"], out[name + ".bias"] = layer.gamma, layer.beta

    for i, block in enumerate(net.blocks):
        p = f"block{i}."
        attn = block.attn
        norm(p + "ln1", block.ln1)
        for n, proj in zip("qkvo", (attn.query_dense, attn.key_dense, attn.value_dense, attn.output_dense),
                           strict=True):
            dense(p + f"attn.{n}", proj)
        norm(p + "ln2", block.ln2)
        dense(p + "mlp.fc", block.fc)
        dense(p + "mlp.proj", block.proj)
    norm("ln_f", net.ln_f)
    dense("head", net.head)
    return out


class Model:
    def __init__(self, problem, mode: str, device: str):
        hp = problem.hyper
        precision = hp.get("precision", "fp32")
        # a per-model policy rather than the global one: fp32 variables, bf16 compute
        policy = {"fp32": "float32", "bf16": "mixed_bfloat16"}.get(precision)
        if policy is None:
            raise NotImplementedError(f"precision {precision!r}")
        with tf.device(device):
            self.net = GPT(hp["vocab"], hp["d_model"], hp["n_heads"], hp["n_layers"], hp["seq_len"],
                           hp["ln_epsilon"], dtype=policy)
            self.net(tf.zeros((1, hp["seq_len"]), tf.int32))  # build the variables
            self.canonical = _canonical_variables(self.net)
            self.shapes = {name: w.shape for name, w in problem.init_weights.items()}
            self.load_weights(problem.init_weights)
            # AdamW decays every variable unless excluded, as torch and optax do; Keras'
            # epsilon defaults to 1e-7. Created and built up front, not inside a trace.
            self.optimizer = AdamW(
                learning_rate=hp["lr"], weight_decay=hp["weight_decay"], beta_1=hp["betas"][0],
                beta_2=hp["betas"][1], epsilon=hp["adam_epsilon"])
            self.optimizer.build(self.net.trainable_variables)
        if mode == "eager":
            self.train_step, self.predict = self._train_step, self._predict
        elif mode == "function":
            self.train_step = tf.function(self._train_step)
            self.predict = tf.function(self._predict)
        elif mode == "xla":
            self.train_step = tf.function(self._train_step, jit_compile=True)
            self.predict = tf.function(self._predict, jit_compile=True)
        else:
            raise NotImplementedError(f"tensorflow has no mode {mode!r}")

    def _train_step(self, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            logits = self.net(x, training=True)
            # mean over all B*T tokens
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        variables = self.net.trainable_variables
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables, strict=True))
        return loss

    def _predict(self, x: tf.Tensor) -> tf.Tensor:
        return self.net(x, training=False)

    def load_weights(self, weights: dict[str, np.ndarray]) -> None:
        for name, var in self.canonical.items():
            var.assign(weights[name].reshape(var.shape))

    def weights(self) -> dict[str, np.ndarray]:
        return {name: np.array(var.numpy()).reshape(self.shapes[name]) for name, var in self.canonical.items()}


def build(problem, mode: str, device: str) -> Model:
    return Model(problem, mode, device)
