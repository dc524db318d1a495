"""Layers that apply an activation: `Activation(name)`, and the "advanced activations" ReLU,
LeakyReLU, PReLU (with a trained slope), ELU and Softmax."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralnet import activations as activations_module
from neuralnet import initializers as initializers_module
from neuralnet import regularizers as regularizers_module
from neuralnet._validation import check_number
from neuralnet.layers.layer import Layer, register_layer


class _ActivationLayer(Layer):
    """A layer that applies `self.activation` element-wise; no parameters."""

    activation: activations_module.Activation

    def forward(self, x, *, training=False):
        y = self.activation.forward(x)
        self._x, self._y = x, y
        return y

    def backward(self, grad_y):
        return self.activation.backward(grad_y, self._x, self._y)

    def backward_from_preactivation(self, grad_z: np.ndarray) -> np.ndarray:
        """dJ/dx when dJ/d(input of the activation) is already known: the input is x itself."""
        return grad_z


@register_layer("Activation")
class Activation(_ActivationLayer):
    """Applies an activation function: `Activation('relu')`.

    Args:
        activation: Name or `neuralnet.activations.Activation`.
    """

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations_module.get(activation)

    def get_config(self):
        return {**super().get_config(), "activation": activations_module.serialize(self.activation)}


@register_layer("ReLU")
class ReLU(_ActivationLayer):
    """`ReLU(max_value=None, negative_slope=0.0, threshold=0.0)`, Keras's rectified linear layer."""

    def __init__(
        self,
        max_value: float | None = None,
        negative_slope: float = 0.0,
        threshold: float = 0.0,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if max_value is not None:
            check_number(max_value, "max_value", self, low=0.0)
        check_number(negative_slope, "negative_slope", self, low=0.0)
        check_number(threshold, "threshold", self, low=0.0)  # Keras rejects a negative threshold
        self.max_value = max_value
        self.negative_slope = float(negative_slope)
        self.threshold = float(threshold)
        self.activation = activations_module.ReLU(negative_slope, max_value, threshold)

    def get_config(self):
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


@register_layer("LeakyReLU")
class LeakyReLU(_ActivationLayer):
    """`x if x > 0 else negative_slope · x`. The layer's default slope is 0.3 (the function's is 0.2).

    `alpha=` is accepted as the deprecated Keras 2 name of `negative_slope`.
    """

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = check_number(negative_slope, "negative_slope", self, low=0.0)
        self.activation = activations_module.LeakyReLU(self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


@register_layer("ELU")
class ELU(_ActivationLayer):
    """`x if x >= 0 else alpha · (e^x − 1)`."""

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = float(alpha)
        self.activation = activations_module.ELU(self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


@register_layer("Softmax")
class Softmax(_ActivationLayer):
    """Softmax along `axis`."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.activation = activations_module.Softmax(self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


@register_layer("PReLU")
class PReLU(Layer):
    """Parametric ReLU: `y = x if x > 0 else alpha · x`, with `alpha` learned per unit.

    Args:
        alpha_initializer: Initial slopes; Keras's default `'zeros'` starts as a plain ReLU.
        alpha_regularizer: Penalty on the slopes.
        shared_axes: Axes (1-based, excluding the batch axis) along which one slope is shared.
    """

    def __init__(
        self,
        alpha_initializer: Any = "zeros",
        alpha_regularizer: Any = None,
        shared_axes: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.alpha_initializer = initializers_module.get(alpha_initializer)
        self.alpha_regularizer = regularizers_module.get(alpha_regularizer)
        if shared_axes is None:
            self.shared_axes = None
        else:
            axes = [shared_axes] if isinstance(shared_axes, int) else list(shared_axes)
            self.shared_axes = [int(a) for a in axes]

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if not 1 <= axis <= len(shape):
                raise ValueError(
                    f"PReLU layer {self.name!r}: shared_axes must be between 1 and {len(shape)} "
                    f"for inputs of rank {len(input_shape)}, received {self.shared_axes}."
                )
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(
                f"PReLU layer {self.name!r} needs known sizes on the non-shared axes, received input "
                f"shape {tuple(input_shape)}."
            )
        self.add_weight("alpha", tuple(shape), self.alpha_initializer, self.alpha_regularizer)
        self.built = True

    def forward(self, x, *, training=False):
        alpha = self.params["alpha"]
        negative = np.minimum(x, 0.0)
        y = np.maximum(x, 0.0) + alpha * negative  # relu(x) − α·relu(−x)
        self._x, self._negative = x, negative
        return y

    def backward(self, grad_y):
        alpha = self.params["alpha"]
        # dJ/dα = Σ over the batch (and shared axes) of dJ/dy · min(x, 0)
        grad_alpha = grad_y * self._negative
        sum_axes = (0,) + tuple(
            i + 1 for i, n in enumerate(alpha.shape) if n == 1 and grad_y.shape[i + 1] != 1
        )
        self.grads["alpha"][...] = np.sum(grad_alpha, axis=sum_axes, keepdims=True)[0]
        # dJ/dx = dJ/dy · (1 for x > 0, α for x < 0, 0 at x = 0: the kink, as Keras with JAX)
        slope = np.where(self._x > 0, 1.0, np.where(self._x < 0, alpha, 0.0))
        return grad_y * slope.astype(grad_y.dtype, copy=False)

    def get_config(self):
        return {
            **super().get_config(),
            "alpha_initializer": initializers_module.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers_module.serialize(self.alpha_regularizer),
            "shared_axes": self.shared_axes,
        }
