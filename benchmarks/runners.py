"""One trainer per framework for the same MLP workload: `epoch()` trains one pass over the data in
shuffled mini-batches with Adam (lr 1e-3) on softmax cross-entropy; `predict(x)` runs inference.

Every framework gets the same data, the same architecture and the same thread count. A framework that
is not installed is skipped by the caller (`available()` says which are).
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hand_numpy import HandMLP


@dataclass
class Trainer:
    name: str
    epoch: Callable[[], float]
    predict: Callable[[np.ndarray], np.ndarray]
    # Times of `k` epochs run in one training call, for frameworks whose training call has a
    # per-call cost (neuralnet's fit validates the data once per call, as Keras's does its own set-up).
    timed_epochs: Callable[[int], list[float]] | None = None


def available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


# -- neuralnet ---------------------------------------------------------------------------------------


def neuralnet_trainer(
    x, y, sizes, batch_size, batch_norm_dropout=None, seed=0, accelerator="auto"
) -> Trainer:
    """neuralnet's fit for one epoch; `accelerator=None` forces the pure NumPy path."""
    import neuralnet as nn

    nn.utils.set_random_seed(seed)
    stack = [nn.Input((sizes[0],))]
    for units in sizes[1:-1]:
        stack.append(nn.layers.Dense(units, activation="relu"))
        if batch_norm_dropout is not None:
            stack += [nn.layers.BatchNormalization(), nn.layers.Dropout(batch_norm_dropout)]
    stack.append(nn.layers.Dense(sizes[-1], activation="softmax"))
    model = nn.Sequential(stack)
    model.compile(optimizer=nn.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")

    def epoch() -> float:
        nn.config.set_accelerator(accelerator)
        try:
            return model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0).history["loss"][-1]
        finally:
            nn.config.set_accelerator("auto")

    def timed_epochs(count: int) -> list[float]:
        times: list[float] = []
        timer = nn.callbacks.LambdaCallback(
            on_epoch_begin=lambda epoch, logs: times.append(-time.perf_counter()),
            on_epoch_end=lambda epoch, logs: times.__setitem__(-1, times[-1] + time.perf_counter()),
        )
        nn.config.set_accelerator(accelerator)
        try:
            model.fit(x, y, batch_size=batch_size, epochs=count, verbose=0, callbacks=[timer])
        finally:
            nn.config.set_accelerator("auto")
        return times

    name = "neuralnet" if accelerator == "auto" else "neuralnet, NumPy only"
    predict = lambda data: model.predict(data, batch_size=1024, verbose=0)
    return Trainer(name, epoch, predict, timed_epochs)


# -- the hand-written NumPy loop ---------------------------------------------------------------------


def numpy_trainer(x, y, sizes, batch_size, batch_norm_dropout=None, seed=0) -> Trainer:
    model = HandMLP(sizes, seed=seed, batch_norm_dropout=batch_norm_dropout)
    rng = np.random.default_rng(seed)
    return Trainer("NumPy by hand", lambda: model.epoch(x, y, batch_size, rng), model.predict)


# -- PyTorch -----------------------------------------------------------------------------------------


def torch_trainer(
    x, y, sizes, batch_size, batch_norm_dropout=None, seed=0, fused=False, threads=2
) -> Trainer:
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    modules: list = []
    for a, b in itertools.pairwise(sizes[:-1]):  # the hidden layers; the output layer follows
        modules += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        if batch_norm_dropout is not None:
            # Keras's BatchNormalization(momentum=0.99, epsilon=1e-3) in PyTorch's terms
            modules += [
                torch.nn.BatchNorm1d(b, momentum=0.01, eps=1e-3),
                torch.nn.Dropout(batch_norm_dropout),
            ]
    modules.append(torch.nn.Linear(sizes[-2], sizes[-1]))
    model = torch.nn.Sequential(*modules)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused)
    criterion = torch.nn.CrossEntropyLoss()
    features, labels = torch.from_numpy(x), torch.from_numpy(y)
    n = len(x)

    def epoch() -> float:
        model.train()
        order = torch.randperm(n)
        total = 0.0
        for start in range(0, n, batch_size):
            index = order[start : start + batch_size]
            xb, yb = features[index], labels[index]
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(index)
        return total / n

    def predict(data: np.ndarray) -> np.ndarray:
        model.eval()
        out = []
        with torch.inference_mode():
            tensor = torch.from_numpy(data)
            for start in range(0, len(data), 1024):
                out.append(model(tensor[start : start + 1024]))
        return torch.cat(out).numpy()

    return Trainer("PyTorch, fused Adam" if fused else "PyTorch", epoch, predict)


# -- scikit-learn -------------------------------------------------------------------------------------


def sklearn_trainer(x, y, sizes, batch_size, seed=0) -> Trainer:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(
        hidden_layer_sizes=tuple(sizes[1:-1]), activation="relu", solver="adam", alpha=0.0,
        batch_size=batch_size, learning_rate_init=1e-3, max_iter=1, shuffle=True, random_state=seed,
    )  # fmt: skip
    classes = np.arange(sizes[-1])

    def epoch() -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.partial_fit(x, y, classes=classes)
        return float(model.loss_)

    return Trainer("scikit-learn", epoch, model.predict_proba)


# -- JAX ------------------------------------------------------------------------------------------------


def configure_jax_threads(threads: int) -> None:
    """XLA reads its thread count when JAX is first imported."""
    flags = os.environ.get("XLA_FLAGS", "")
    if "intra_op_parallelism_threads" not in flags:
        os.environ["XLA_FLAGS"] = (
            f"{flags} --xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={threads}".strip()
        )


def jax_trainer(x, y, sizes, batch_size, seed=0) -> Trainer:
    import jax
    import jax.numpy as jnp

    key = jax.random.PRNGKey(seed)
    params = []
    for a, b in itertools.pairwise(sizes):
        key, sub = jax.random.split(key)
        limit = np.sqrt(6.0 / (a + b))
        params.append(
            (jax.random.uniform(sub, (a, b), jnp.float32, -limit, limit), jnp.zeros(b, jnp.float32))
        )
    moments = jax.tree_util.tree_map(jnp.zeros_like, params)
    velocities = jax.tree_util.tree_map(jnp.zeros_like, params)

    def loss_fn(params, xb, yb):
        h = xb
        for w, b in params[:-1]:
            h = jax.nn.relu(h @ w + b)
        w, b = params[-1]
        logits = h @ w + b
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), yb[:, None], axis=1))

    @jax.jit
    def step(params, moments, velocities, t, xb, yb):
        loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
        alpha = 1e-3 * jnp.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        moments = jax.tree_util.tree_map(lambda m, g: m + 0.1 * (g - m), moments, grads)
        velocities = jax.tree_util.tree_map(lambda v, g: v + 0.001 * (g * g - v), velocities, grads)
        params = jax.tree_util.tree_map(
            lambda p, m, v: p - alpha * m / (jnp.sqrt(v) + 1e-7), params, moments, velocities
        )
        return params, moments, velocities, loss

    @jax.jit
    def forward(params, xb):
        h = xb
        for w, b in params[:-1]:
            h = jax.nn.relu(h @ w + b)
        w, b = params[-1]
        return h @ w + b

    state = {"params": params, "moments": moments, "velocities": velocities, "t": 0}
    rng = np.random.default_rng(seed)
    n = len(x)

    def epoch() -> float:
        order = rng.permutation(n)
        total = 0.0
        p, m, v, t = state["params"], state["moments"], state["velocities"], state["t"]
        losses = []
        for start in range(0, n, batch_size):
            index = order[start : start + batch_size]
            t += 1
            p, m, v, loss = step(p, m, v, float(t), x[index], y[index])
            losses.append((loss, len(index)))
        total = sum(float(loss) * size for loss, size in losses)
        state.update(params=p, moments=m, velocities=v, t=t)
        return total / n

    def predict(data: np.ndarray) -> np.ndarray:
        out = [
            np.asarray(forward(state["params"], data[s : s + 1024]))
            for s in range(0, len(data), 1024)
        ]
        return np.concatenate(out)

    return Trainer("JAX (jit)", epoch, predict)
