"""Layers that change the shape of each sample: Flatten and Reshape."""

from __future__ import annotations

import math
from typing import Any

from neuralnet.layers.layer import Layer, register_layer, shape_str


@register_layer("Flatten")
class Flatten(Layer):
    """Flattens each sample to one axis: (batch, d1, d2, ...) -> (batch, d1·d2·...)."""

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], size)

    def forward(self, x, *, training=False):
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_y):
        return grad_y.reshape(self._shape)


@register_layer("Reshape")
class Reshape(Layer):
    """Reshapes each sample to `target_shape` (the batch axis is kept); one entry may be -1."""

    def __init__(self, target_shape: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        target = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in target) > 1 or any(d == 0 or d < -1 for d in target):
            raise ValueError(
                f"Reshape: `target_shape` must hold positive sizes and at most one -1, received "
                f"target_shape={tuple(target_shape)}."
            )
        self.target_shape = target

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # a ValueError now, not NumPy's at the first forward
        self.built = True

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if -1 not in self.target_shape:
            size = math.prod(self.target_shape)
            if all(d is not None for d in rest) and math.prod(rest) != size:
                raise ValueError(self._mismatch(input_shape))
            return (input_shape[0],) + self.target_shape
        if any(d is None for d in rest):
            return (input_shape[0],) + tuple(None if d == -1 else d for d in self.target_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        total = math.prod(rest)
        if total % known:
            raise ValueError(self._mismatch(input_shape))
        return (input_shape[0],) + tuple(
            total // known if d == -1 else d for d in self.target_shape
        )

    def _mismatch(self, input_shape) -> str:
        return (
            f"Reshape layer {self.name!r} cannot reshape inputs of shape {shape_str(tuple(input_shape))} "
            f"to {shape_str((None,) + self.target_shape)}: the number of values differs."
        )

    def forward(self, x, *, training=False):
        self._shape = x.shape
        return x.reshape((x.shape[0],) + self.target_shape)

    def backward(self, grad_y):
        return grad_y.reshape(self._shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}
