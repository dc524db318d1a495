"""Noise layers for regularization and denoising autoencoders: GaussianNoise and GaussianDropout.

Both act only in training and are the identity at inference, like Dropout.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neuralnet._validation import check_number
from neuralnet.layers.layer import Layer, register_layer


@register_layer("GaussianNoise")
class GaussianNoise(Layer):
    """Adds zero-mean Gaussian noise of standard deviation `stddev` in training: `y = x + ε`.

    dJ/dx = dJ/dy (the noise does not depend on x).
    """

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.stddev = check_number(stddev, "stddev", self, low=0.0)

    def forward(self, x, *, training=False):
        if not training or self.stddev == 0.0:
            return x
        noise = self.rng.standard_normal(
            x.shape, dtype=np.float64 if x.dtype == np.float64 else np.float32
        )
        noise *= self.stddev
        return x + noise

    def backward(self, grad_y):
        return grad_y

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


@register_layer("GaussianDropout")
class GaussianDropout(Layer):
    """Multiplies by Gaussian noise of mean 1 and standard deviation sqrt(rate / (1 − rate)) in
    training: `y = x · ε`, so dJ/dx = dJ/dy · ε."""

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.rate = check_number(rate, "rate", self, low=0.0, high=1.0, high_inclusive=False)
        self._noise = None

    def forward(self, x, *, training=False):
        if not training or self.rate == 0.0:
            self._noise = None
            return x
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = self.rng.standard_normal(
            x.shape, dtype=np.float64 if x.dtype == np.float64 else np.float32
        )
        noise *= stddev
        noise += 1.0
        self._noise = noise
        return x * noise

    def backward(self, grad_y):
        return grad_y if self._noise is None else grad_y * self._noise

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}
