"""Batch normalization: normalize each feature over the batch, then scale and shift (γ, β)."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralnet import _accelerate
from neuralnet import initializers as initializers_module
from neuralnet import regularizers as regularizers_module
from neuralnet._validation import check_number
from neuralnet.layers.layer import Layer, register_layer


@register_layer("BatchNormalization")
class BatchNormalization(Layer):
    """`y = γ (x − μ) / sqrt(σ² + ε) + β`, with Keras's defaults (momentum 0.99, ε = 1e-3).

    In training, μ and σ² are the batch's mean and biased variance over every axis except `axis`, and
    the moving statistics are updated: `moving ← momentum · moving + (1 − momentum) · batch`. At
    inference the moving statistics are used. A layer with `trainable=False` always runs in
    inference mode, as in Keras. (The lecture's slide writes sqrt(σ² − ε): that is a typo for +ε.)

    Weights, in Keras's order: gamma, beta (trained), moving_mean, moving_variance (state).
    """

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.momentum = check_number(momentum, "momentum", self, low=0.0, high=1.0)
        self.epsilon = check_number(epsilon, "epsilon", self, low=0.0, low_inclusive=False)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers_module.get(beta_initializer)
        self.gamma_initializer = initializers_module.get(gamma_initializer)
        self.moving_mean_initializer = initializers_module.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers_module.get(moving_variance_initializer)
        self.beta_regularizer = regularizers_module.get(beta_regularizer)
        self.gamma_regularizer = regularizers_module.get(gamma_regularizer)

    def build(self, input_shape):
        rank = len(input_shape)
        axis = self.axis % rank if -rank <= self.axis < rank else 0  # out of range: rejected below
        if rank < 2 or axis == 0 or input_shape[axis] is None:
            raise ValueError(
                f"BatchNormalization layer {self.name!r} needs inputs of rank >= 2 with a known size "
                f"on axis {self.axis}, received input shape {tuple(input_shape)}."
            )
        self._axis = axis
        self._reduce_axes = tuple(i for i in range(rank) if i != axis)
        self._broadcast = tuple(input_shape[axis] if i == axis else 1 for i in range(rank))
        n = (input_shape[axis],)
        if self.scale:
            self.add_weight("gamma", n, self.gamma_initializer, self.gamma_regularizer)
        if self.center:
            self.add_weight("beta", n, self.beta_initializer, self.beta_regularizer)
        self.add_weight("moving_mean", n, self.moving_mean_initializer, trainable=False)
        self.add_weight("moving_variance", n, self.moving_variance_initializer, trainable=False)
        self.built = True

    def _shaped(self, v: np.ndarray) -> np.ndarray:
        return v if self._axis == len(self._broadcast) - 1 else v.reshape(self._broadcast)

    def _compiled(self, x: np.ndarray) -> bool:
        """Whether the compiled kernels apply: (batch, features) C-ordered arrays of the
        parameters' float type, with γ and β, and an accelerator in use."""
        return (
            x.ndim == 2
            and self._axis == 1
            and self.scale
            and self.center
            and x.dtype == self.params["gamma"].dtype
            and x.dtype in _accelerate.DTYPES
            and x.flags.c_contiguous
            and _accelerate.kernel("column_sums") is not None
        )

    def forward(self, x, *, training=False):
        use_batch = training and self.trainable
        compiled = use_batch and self._compiled(x)
        if compiled:
            # The same arithmetic as below in three passes: Σx; x − μ and Σ(x − μ)²; x̂ and y.
            n = np.intp(x.shape[0])  # np.mean divides by an intp: the same rounding
            mean = np.empty(x.shape[1], dtype=x.dtype)
            _accelerate.kernel("column_sums")(x, mean)
            np.true_divide(mean, n, out=mean, casting="unsafe")
            centered = np.empty_like(x)
            variance = np.empty_like(mean)
            _accelerate.kernel("center_and_square_sums")(x, mean, centered, variance)
            np.true_divide(variance, n, out=variance, casting="unsafe")
        elif use_batch:
            mean = np.mean(x, axis=self._reduce_axes)
            centered = x - self._shaped(mean)
            variance = np.mean(np.square(centered), axis=self._reduce_axes)  # biased, as Keras
        if use_batch:
            decay = 1.0 - self.momentum
            self.state["moving_mean"] += decay * (mean - self.state["moving_mean"])
            self.state["moving_variance"] += decay * (variance - self.state["moving_variance"])
        else:
            variance = self.state["moving_variance"]
            centered = x - self._shaped(self.state["moving_mean"])
        inv_std = 1.0 / np.sqrt(variance + self.epsilon)
        if compiled:
            y = np.empty_like(x)
            _accelerate.kernel("normalize_scale_shift")(
                centered, inv_std, self.params["gamma"], self.params["beta"], y
            )
            self._x_hat, self._inv_std, self._used_batch = centered, inv_std, use_batch
            return y
        x_hat = centered * self._shaped(inv_std)
        y = x_hat * self._shaped(self.params["gamma"]) if self.scale else x_hat.copy()
        if self.center:
            y += self._shaped(self.params["beta"])
        self._x_hat, self._inv_std, self._used_batch = x_hat, inv_std, use_batch
        return y

    def backward(self, grad_y):
        axes = self._reduce_axes
        x_hat = self._x_hat
        compiled = (
            self._used_batch
            and self._compiled(grad_y)
            and x_hat.flags.c_contiguous
            and x_hat.dtype == grad_y.dtype
        )
        if compiled:
            sum_dy, sum_dy_xhat = np.empty_like(self._inv_std), np.empty_like(self._inv_std)
            _accelerate.kernel("batch_norm_grad_sums")(grad_y, x_hat, sum_dy, sum_dy_xhat)
        else:
            sum_dy = np.sum(grad_y, axis=axes)
            sum_dy_xhat = np.sum(grad_y * x_hat, axis=axes)
        if self.center:
            self.grads["beta"][...] = sum_dy  # dβ = Σ dy
        if self.scale:
            self.grads["gamma"][...] = sum_dy_xhat  # dγ = Σ dy·x̂
        gamma = self.params["gamma"] if self.scale else 1.0
        scale = self._shaped(gamma * self._inv_std)
        if not self._used_batch:
            return grad_y * scale  # the statistics are constants
        n = grad_y.size // x_hat.shape[self._axis]
        # dx = γ/(N·sqrt(σ²+ε)) · (N·dy − Σdy − x̂·Σ(dy·x̂)), the batch statistics depend on x
        mean_dy = self._shaped(sum_dy / n)
        mean_dy_xhat = self._shaped(sum_dy_xhat / n)
        if compiled:
            grad_x = np.empty_like(grad_y)
            _accelerate.kernel("batch_norm_input_grad")(
                grad_y, x_hat, scale, mean_dy, mean_dy_xhat, grad_x
            )
            return grad_x
        return scale * (grad_y - mean_dy - x_hat * mean_dy_xhat)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers_module.serialize(self.beta_initializer),
            "gamma_initializer": initializers_module.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers_module.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers_module.serialize(
                self.moving_variance_initializer
            ),
            "beta_regularizer": regularizers_module.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers_module.serialize(self.gamma_regularizer),
        }
