"""Helpers with Keras's names: seeding, one-hot encoding, resetting automatic names
(`clear_session`, the same function as `neuralnet.backend.clear_session`), and `PyDataset`, the
base class of data read one batch at a time."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralnet import backend
from neuralnet.training.batch_sources import PyDataset, unpack_batch

clear_session = backend.clear_session
unpack_x_y_sample_weight = unpack_batch
__all__ = ["PyDataset", "clear_session", "register_keras_serializable", "set_random_seed",
           "to_categorical", "unpack_x_y_sample_weight"]  # fmt: skip


def set_random_seed(seed: int) -> None:
    """Seed everything random in neuralnet (and Python's and NumPy's global generators, as Keras).

    After this call, the same script builds the same weights, draws the same dropout masks and
    shuffles the same batches, bit for bit on one machine.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(
            f"set_random_seed: `seed` must be a non-negative integer, received {seed!r}."
        )
    import random  # here, not at the top: `import random` pulls in hashlib

    backend.set_global_seed(int(seed))
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)


def to_categorical(x: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode integer class labels: `to_categorical([0, 2], 3)` -> [[1,0,0],[0,0,1]].

    A trailing axis of size 1 is dropped first, as in Keras.
    """
    labels = np.asarray(x)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.dtype.kind == "f" and np.any(labels != np.round(labels)):
        raise ValueError("to_categorical: class labels must be whole numbers.")
    if labels.size and labels.min() < 0:
        raise ValueError(f"to_categorical: class labels must be >= 0, received {labels.min()}.")
    labels = labels.astype(np.int64)
    n = int(labels.max()) + 1 if num_classes is None else int(num_classes)
    if labels.size and labels.max() >= n:
        raise ValueError(
            f"to_categorical: label {labels.max()} is out of range for num_classes={n}."
        )
    out = np.zeros(labels.shape + (n,), dtype=backend.floatx())
    np.put_along_axis(out, labels[..., None], 1.0, axis=-1)
    return out


def _is_library(obj: Any) -> bool:
    return (getattr(obj, "__module__", None) or "").startswith("neuralnet.")


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Decorator: register a class of your own (a layer, loss, metric, activation, optimizer,
    initializer, regularizer, schedule or callback) under `'package>name'`, Keras's spelling, and
    under its plain name, so that `get('name')` and saved model configs find it.

        @register_keras_serializable()
        class Swish2(neuralnet.activations.Activation): ...
    """
    from neuralnet import (
        activations,
        callbacks,
        initializers,
        losses,
        metrics,
        optimizers,
        regularizers,
        schedules,
    )
    from neuralnet.layers.layer import LAYERS, Layer

    families = [
        (Layer, LAYERS), (losses.Loss, losses.LOSSES), (metrics.Metric, metrics.METRICS),
        (activations.Activation, activations.ACTIVATIONS), (optimizers.Optimizer, optimizers.OPTIMIZERS),
        (initializers.Initializer, initializers.INITIALIZERS),
        (regularizers.Regularizer, regularizers.REGULARIZERS),
        (schedules.LearningRateSchedule, schedules.SCHEDULES), (callbacks.Callback, callbacks.CALLBACKS),
    ]  # fmt: skip

    def decorator(cls: type) -> type:
        for base, registry in families:
            if isinstance(cls, type) and issubclass(cls, base):
                plain = name or cls.__name__
                taken = plain in registry and _is_library(registry.lookup(plain))
                # The plain name too, unless it is one of the library's own (`Dense`): the user's
                # class must not shadow it; it is found by 'package>name' then.
                names = [f"{package}>{plain}"] + ([] if taken else [plain])
                registry.add(cls, *names)
                return cls
        raise TypeError(
            f"register_keras_serializable: {cls!r} is not a subclass of a neuralnet base class "
            "(Layer, Loss, Metric, Activation, Optimizer, Initializer, Regularizer, "
            "LearningRateSchedule or Callback)."
        )

    return decorator
