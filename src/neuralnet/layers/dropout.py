"""Dropout: during training, switch off a random fraction of the units (inverted dropout)."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralnet import _accelerate
from neuralnet._validation import check_number
from neuralnet.layers.layer import Layer, register_layer, shape_str


@register_layer("Dropout")
class Dropout(Layer):
    """Sets each input to 0 with probability `rate` during training and scales the others by
    `1 / (1 − rate)`, so the expected output equals the input; at inference it is the identity.

    Args:
        rate: Fraction of the units to drop, in [0, 1]. Required, as in Keras.
        noise_shape: Shape of the mask, broadcast against the input (`None` entries take the
            input's size), e.g. `(batch_size, 1, features)` to drop the same features at every step.
        seed: Seed of the masks; from the global seed source when `None`.
    """

    def __init__(
        self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(seed=seed, **kwargs)
        self.rate = check_number(rate, "rate", self, low=0.0, high=1.0)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self._mask = None

    def build(self, input_shape):
        if self.noise_shape is not None:
            fits = len(self.noise_shape) == len(input_shape) and all(
                n is None or n == 1 or s is None or n == s
                for n, s in zip(self.noise_shape, input_shape)
            )
            if not fits:
                raise ValueError(
                    f"Dropout layer {self.name!r}: noise_shape={self.noise_shape} does not "
                    f"broadcast to inputs of shape {shape_str(tuple(input_shape))}; it needs one "
                    "entry per axis, each None, 1 or the input's size."
                )
        self.built = True

    def _mask_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        if self.noise_shape is None:
            return shape
        return tuple(s if n is None else n for n, s in zip(self.noise_shape, shape))

    def forward(self, x, *, training=False):
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        if self.rate == 1.0:
            self._mask = np.zeros(self._mask_shape(x.shape), dtype=x.dtype)
            return x * self._mask
        keep = 1.0 - self.rate
        uniform = self.rng.random(
            self._mask_shape(x.shape), dtype=np.float64 if x.dtype == np.float64 else np.float32
        )
        fused = _accelerate.kernel("dropout") if uniform.shape == x.shape else None
        if fused is not None and x.dtype == uniform.dtype and x.flags.c_contiguous:
            # The arithmetic below in one pass: the draws become the mask, y = x · mask.
            scalar = x.dtype.type
            y = np.empty_like(x)
            fused(uniform.reshape(-1), x.reshape(-1), y.reshape(-1),
                  scalar(keep), scalar(1.0 / keep), scalar(0))  # fmt: skip
            self._mask = uniform
            return y
        # The mask holds 0 or 1/keep, so y = x · mask and dJ/dx = dJ/dy · mask.
        mask = (uniform < keep).astype(x.dtype)
        mask *= 1.0 / keep
        self._mask = mask
        return x * mask

    def backward(self, grad_y):
        return grad_y if self._mask is None else grad_y * self._mask

    def get_config(self):
        config = {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape}
        return config
