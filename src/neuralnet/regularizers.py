"""Weight penalties added to the cost (the lecture's J = mean L + λ Σ‖W‖²), with Keras 3's formulas.

A regularizer returns its penalty for a weight array (`__call__`) and that penalty's gradient
(`gradient`). The model adds the penalties to the loss once per batch, unscaled by the batch size, and
adds the gradients to the weights' gradients after backpropagation, exactly as Keras does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralnet._registry import Registry
from neuralnet._validation import check_number

REGULARIZERS = Registry("regularizer")


class Regularizer:
    """Base class: `__call__(w)` is the penalty, `gradient(w)` its derivative with respect to `w`."""

    def __call__(self, w: np.ndarray) -> float:
        raise NotImplementedError

    def gradient(self, w: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def add_gradient(self, w: np.ndarray, grad: np.ndarray) -> None:
        """`grad += gradient(w)`, in place (grad is the layer's own gradient array)."""
        grad += self.gradient(w)

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


@REGULARIZERS.register("l1")
class L1(Regularizer):
    """`l1 · Σ|w|`; gradient `l1 · sign(w)`."""

    def __init__(self, l1: float = 0.01) -> None:
        self.l1 = check_number(l1, "l1", "L1", low=0.0)

    def __call__(self, w):
        return self.l1 * float(np.sum(np.abs(w)))

    def gradient(self, w):
        return self.l1 * np.sign(w)

    def get_config(self):
        return {"l1": self.l1}


@REGULARIZERS.register("l2")
class L2(Regularizer):
    """`l2 · Σw²` (no ½, as Keras); gradient `2 · l2 · w`."""

    def __init__(self, l2: float = 0.01) -> None:
        self.l2 = check_number(l2, "l2", "L2", low=0.0)

    def __call__(self, w):
        return self.l2 * float(np.sum(np.square(w)))

    def gradient(self, w):
        return (2.0 * self.l2) * w

    def add_gradient(self, w, grad):
        grad += (2.0 * self.l2) * w

    def get_config(self):
        return {"l2": self.l2}


@REGULARIZERS.register("l1_l2", "l1l2")  # Keras 3 spells the name l1l2
class L1L2(Regularizer):
    """`l1 · Σ|w| + l2 · Σw²`; both default to 0 (Keras 3's class defaults)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = check_number(l1, "l1", "L1L2", low=0.0)
        self.l2 = check_number(l2, "l2", "L1L2", low=0.0)

    def __call__(self, w):
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(np.sum(np.abs(w)))
        if self.l2:
            penalty += self.l2 * float(np.sum(np.square(w)))
        return penalty

    def gradient(self, w):
        return self.l1 * np.sign(w) + (2.0 * self.l2) * w

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


# Keras 3 exports the classes under these lower-case names too (`l1_l2()` is L1L2(0, 0)).
l1 = L1
l2 = L2
l1_l2 = L1L2


def get(identifier: Any) -> Regularizer | None:
    """A `Regularizer` from a name (`'l2'` is L2(0.01)), a config dict, an instance, or `None`."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        return REGULARIZERS.lookup(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise TypeError(
        f"Cannot interpret {identifier!r} as a regularizer: expected 'l1', 'l2', 'l1_l2', a config "
        "dict or a Regularizer such as neuralnet.regularizers.L2(1e-4)."
    )


def serialize(regularizer: Regularizer | None) -> dict[str, Any] | None:
    """`{'class_name': name, 'config': {...}}`, or `None`."""
    if regularizer is None:
        return None
    name = REGULARIZERS.name_of(regularizer)
    if name is None:
        # An unregistered class of yours: by its own name and module (loading needs
        # `custom_objects`, as in Keras).
        cls = type(regularizer)
        return {"class_name": cls.__name__, "config": regularizer.get_config(),
                "module": cls.__module__}  # fmt: skip
    return {"class_name": name, "config": regularizer.get_config()}


def deserialize(config: dict[str, Any]) -> Regularizer:
    """The inverse of `serialize`."""
    if "class_name" not in config:
        raise ValueError(f"A regularizer config needs a 'class_name' key, received {config!r}.")
    return REGULARIZERS.lookup(config["class_name"]).from_config(config.get("config", {}))
