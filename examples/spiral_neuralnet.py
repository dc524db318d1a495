"""The lecture's Tutorial 1 again, with neuralnet: the same two models in a few lines each.

The cs231n regularization `0.5 · reg · Σ W²` is Keras's `L2(reg / 2)` (Keras's L2 has no ½), full-batch
gradient descent is `SGD(learning_rate=1.0)` with `batch_size` equal to the data size, and an
"iteration" is an epoch of one batch.

Run it:  python examples/spiral_neuralnet.py
"""

from __future__ import annotations

import numpy as np

import neuralnet as nn
from neuralnet import Input, Sequential, layers, optimizers, regularizers
from neuralnet.initializers import RandomNormal


def page_dense(units: int, activation: str, reg: float) -> layers.Dense:
    """A Dense layer as the cs231n page sets it up: weights 0.01 · randn, penalty 0.5 · reg · ΣW²."""
    return layers.Dense(
        units,
        activation=activation,
        kernel_initializer=RandomNormal(stddev=0.01),
        kernel_regularizer=regularizers.L2(reg / 2),
    )


def full_batch_gradient_descent(stack: list) -> Sequential:
    """The model of `stack`, trained as on the page: SGD with step size 1, softmax cross-entropy."""
    model = Sequential([Input(shape=(2,)), *stack])
    model.compile(
        optimizer=optimizers.SGD(learning_rate=1.0),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def linear_classifier(reg: float = 1e-3) -> Sequential:
    """Softmax regression: one Dense layer from the 2 coordinates to the 3 class scores."""
    return full_batch_gradient_descent([page_dense(3, "softmax", reg)])


def two_layer_network(reg: float = 1e-3, hidden: int = 100) -> Sequential:
    """100 ReLU units, then the softmax output."""
    return full_batch_gradient_descent(
        [page_dense(hidden, "relu", reg), page_dense(3, "softmax", reg)]
    )


def page_initial_weights(seed: int = 0, hidden: int = 100) -> dict[str, list[np.ndarray]]:
    """The initial weights the cs231n page draws (0.01 · randn, biases 0), in its order: after the
    300 normals of the data come the linear W, then the two-layer W and W2. Loading them makes
    neuralnet print the page's losses."""
    rng = np.random.RandomState(seed)
    for _ in range(3):
        rng.randn(100)  # the noise of the three spiral arms
    linear = [0.01 * rng.randn(2, 3), np.zeros(3)]
    two_layer = [
        0.01 * rng.randn(2, hidden),
        np.zeros(hidden),
        0.01 * rng.randn(hidden, 3),
        np.zeros(3),
    ]
    return {"linear": linear, "two_layer": two_layer}


def train(model: Sequential, x: np.ndarray, y: np.ndarray, iterations: int) -> dict:
    """Full-batch gradient descent for `iterations` steps; the final training accuracy and losses."""
    history = model.fit(x, y, batch_size=len(x), epochs=iterations, shuffle=False, verbose=0)
    loss, accuracy = model.evaluate(x, y, batch_size=len(x), verbose=0)
    return {"losses": history.history["loss"], "loss": loss, "accuracy": accuracy, "model": model}


def run(seed: int = 0, reg: float = 1e-3, page_weights: bool = True) -> dict:
    """Both models on the spiral of `make_spiral(seed=seed)`.

    With `page_weights`, the models start from the cs231n page's initial weights (so the run
    reproduces its numbers); otherwise from neuralnet's seeded initializers.
    """
    nn.utils.set_random_seed(seed)
    x, y = nn.datasets.make_spiral(n_per_class=100, n_classes=3, seed=seed)
    linear, two_layer = linear_classifier(reg), two_layer_network(reg)
    if page_weights:
        weights = page_initial_weights(seed)
        linear.set_weights(weights["linear"])
        two_layer.set_weights(weights["two_layer"])
    return {
        "x": x,
        "y": y,
        "linear": train(linear, x, y, iterations=200),
        "two_layer": train(two_layer, x, y, iterations=10000),
    }


if __name__ == "__main__":
    results = run()
    print(f"linear classifier training accuracy: {results['linear']['accuracy']:.3f}")
    print(f"two-layer network training accuracy: {results['two_layer']['accuracy']:.3f}")
