"""neuralnet: neural networks in NumPy, with backpropagation written out layer by layer and Keras's API.

from neuralnet import Sequential, layers
model = Sequential([layers.Dense(32, activation="relu", input_dim=100),
                    layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=10, batch_size=32)
"""

import importlib
from typing import Any

from neuralnet import (
    activations,
    backend,
    callbacks,
    config,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    schedules,
)
from neuralnet.layers import Input
from neuralnet.models import Model, Sequential
from neuralnet.variable import Variable

# Imported on first use, to keep `import neuralnet` fast.
_LAZY = ("datasets", "plotting", "saving", "testing", "utils")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f"neuralnet.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'neuralnet' has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "Input",
    "Model",
    "Sequential",
    "Variable",
    "activations",
    "backend",
    "callbacks",
    "config",
    "datasets",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "plotting",
    "regularizers",
    "saving",
    "schedules",
    "testing",
    "utils",
]
