"""The fully connected layer of the lecture: `y = activation(x · W + b)`."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralnet import _accelerate
from neuralnet import activations as activations_module
from neuralnet import initializers as initializers_module
from neuralnet import regularizers as regularizers_module
from neuralnet._validation import check_positive_int
from neuralnet.layers.layer import Layer, register_layer, shape_str


def compiled_relu_kernel(layer: Any, z: np.ndarray, name: str, load: bool = True) -> Any:
    """The compiled kernel `name` ("bias_relu" or "relu_backward_bias_grad") when `layer` (Dense,
    a convolution) is a plain ReLU with a bias on 2-D arrays and an accelerator is in use (see
    `neuralnet._accelerate`), else `None`."""
    activation = layer.activation
    if (
        type(activation) is activations_module.ReLU
        and activation.plain
        and layer.use_bias
        and z.ndim == 2
        and z.dtype == layer.params["bias"].dtype
        and z.dtype in _accelerate.DTYPES
    ):
        return _accelerate.kernel(name, load)
    return None


def compiled_relu_backward(layer: Any, grad_y: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """dJ/dz = dJ/dy · (y > 0) and dJ/db = Σ_batch dJ/dz (into `layer.grads["bias"]`) in one
    compiled pass, into a buffer of the layer's (`_grad_z`) that only this call uses; `None`
    when the compiled kernel does not apply."""
    fused = compiled_relu_kernel(layer, grad_y, "relu_backward_bias_grad")
    if fused is None or not grad_y.flags.c_contiguous or grad_y.dtype != y.dtype:
        return None
    grad_z = layer._grad_z
    if grad_z is None or grad_z.shape != grad_y.shape or grad_z.dtype != grad_y.dtype:
        grad_z = layer._grad_z = np.empty_like(grad_y)
    one = grad_y.dtype.type(1)
    fused(grad_y, y, grad_z, layer.grads["bias"], one, one - one)
    return grad_z


@register_layer("Dense")
class Dense(Layer):
    """Fully connected layer: `y = activation(x · kernel + bias)`, kernel of shape (input_dim, units).

    Args:
        units: Size of the output, a positive integer.
        activation: Name or `Activation` applied to the output; `None` means linear.
        use_bias: Whether to add a bias vector.
        kernel_initializer, bias_initializer: Names or `Initializer`s.
        kernel_regularizer, bias_regularizer: Penalties on the weights, added to the cost.
        activity_regularizer: Penalty on the layer's output, divided by the batch size (Keras 3).
        input_dim / input_shape: The shape of one sample, on the first layer of a Sequential.

    Input: array of shape (batch_size, ..., input_dim). Output: (batch_size, ..., units).
    """

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = check_positive_int(units, "units", where=type(self).__name__)
        self.activation = activations_module.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.kernel_regularizer = regularizers_module.get(kernel_regularizer)
        self.bias_regularizer = regularizers_module.get(bias_regularizer)
        self.activity_regularizer = regularizers_module.get(activity_regularizer)
        self._x = self._z = self._y = None
        self._grad_z: np.ndarray | None = None  # reused from step to step by the compiled ReLU path

    def build(self, input_shape):
        input_dim = input_shape[-1] if len(input_shape) >= 2 else None
        if input_dim is None:
            raise ValueError(
                f"Dense layer {self.name!r} needs inputs of rank >= 2 with a known last dimension, "
                f"received input shape {shape_str(tuple(input_shape))}."
            )
        self.add_weight(
            "kernel", (input_dim, self.units), self.kernel_initializer, self.kernel_regularizer
        )
        if self.use_bias:
            self.add_weight("bias", (self.units,), self.bias_initializer, self.bias_regularizer)
        self.built = True

    def check_input_shape(self, shape):
        """Keras's input spec for Dense: rank >= 2 and the last dimension it was built for; the
        other axes may change from call to call."""
        kernel = self.params.get("kernel")
        if kernel is None:
            return
        input_dim = kernel.shape[0]
        if len(shape) < 2 or (shape[-1] is not None and shape[-1] != input_dim):
            raise ValueError(
                f"Dense layer {self.name!r} expected inputs of rank >= 2 with last dimension "
                f"{input_dim}, received shape {shape_str(tuple(shape))}."
            )

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, x, *, training=False):
        z = x @ self.params["kernel"]
        fused = compiled_relu_kernel(self, z, "bias_relu", load=training)
        if fused is not None:
            fused(z, self.params["bias"])  # z ← max(z + b, 0) in one pass
            self._x, self._z, self._y = x, None, z
            return z
        if self.use_bias:
            z += self.params["bias"]  # z is ours: in place is safe
        if self.activation.output_only:
            y = self.activation.forward_inplace(z)  # backward needs only y, so z may be overwritten
            self._z = None
        else:
            y = self.activation.forward(z)
            self._z = z
        self._x, self._y = x, y
        return y

    def backward(self, grad_y):
        grad_z = compiled_relu_backward(self, grad_y, self._y)
        if grad_z is not None:
            return self._backward_matmuls(self._x, grad_z)
        return self.backward_from_preactivation(self.activation.backward(grad_y, self._z, self._y))

    def backward_from_preactivation(self, grad_z: np.ndarray) -> np.ndarray | None:
        """The chain rule from dJ/dz, where z = x · W + b is the value before the activation."""
        x = self._x
        if x.ndim > 2:  # Dense on (batch, ..., input_dim): the leading axes are all "batch"
            x = x.reshape(-1, x.shape[-1])
            grad_z2 = grad_z.reshape(-1, grad_z.shape[-1])
        else:
            grad_z2 = grad_z
        # z = x·W + b  =>  dJ/dW = xᵀ·dJ/dz,  dJ/db = Σ_batch dJ/dz,  dJ/dx = dJ/dz·Wᵀ
        if self.use_bias:
            np.add.reduce(grad_z2, axis=0, out=self.grads["bias"])
        return self._backward_matmuls(x, grad_z2, grad_z)

    def _backward_matmuls(self, x2, grad_z2, grad_z=None):
        """dJ/dW = xᵀ·dJ/dz into `grads`, and dJ/dx = dJ/dz·Wᵀ unless no one needs it."""
        np.matmul(x2.T, grad_z2, out=self.grads["kernel"])
        if not self.needs_input_gradient:
            return None
        return (grad_z2 if grad_z is None else grad_z) @ self.params["kernel"].T

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations_module.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers_module.serialize(self.kernel_initializer),
            "bias_initializer": initializers_module.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers_module.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers_module.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers_module.serialize(self.activity_regularizer),
        }
