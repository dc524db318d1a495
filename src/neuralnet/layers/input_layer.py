"""The entry point of a model: `Input(shape)` gives the symbolic tensor a functional model starts from;
`InputLayer` is the layer behind it (and the first entry of a Sequential built with a known shape)."""

from __future__ import annotations

from typing import Any

from neuralnet import backend
from neuralnet._validation import normalize_shape
from neuralnet.layers.layer import Layer, register_layer
from neuralnet.layers.node import Node, SymbolicTensor


@register_layer("InputLayer")
class InputLayer(Layer):
    """Holds the shape and dtype of a model's input; it does nothing to the data.

    Args:
        shape: The shape of one sample, without the batch axis, e.g. `(784,)`.
        batch_size: A fixed batch size, or `None`.
        dtype: The input's dtype; `floatx()` when `None`.
    """

    def __init__(
        self,
        shape: Any = None,
        batch_size: int | None = None,
        dtype: Any = None,
        batch_shape: Any = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if "input_shape" in kwargs and shape is None:
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs and batch_shape is None:
            batch_shape = kwargs.pop("batch_input_shape")
        super().__init__(name=name, dtype=dtype, **kwargs)
        if batch_shape is not None:
            batch_shape = tuple(batch_shape)
            self.batch_shape = (batch_shape[0],) + normalize_shape(
                batch_shape[1:], "batch_shape", self
            )
        elif shape is not None:
            self.batch_shape = (batch_size,) + normalize_shape(shape, "shape", self)
        else:
            raise ValueError(
                "InputLayer needs `shape` (the shape of one sample), e.g. shape=(784,)."
            )
        self.built = True
        self._build_input_shape = self.batch_shape
        self._build_dtype = backend.floatx()  # fixed now, as for a built layer
        tensor = SymbolicTensor(self.batch_shape, self.compute_dtype, name=self.name)
        self._inbound_nodes.append(Node(self, [], [tensor]))

    def compute_output_shape(self, input_shape):
        return self.batch_shape

    def forward(self, x, *, training=False):
        return x

    def backward(self, grad_y):
        return grad_y

    def get_config(self):
        return {
            "name": self.name,
            "batch_shape": list(self.batch_shape),
            "dtype": self.compute_dtype,
        }


def Input(
    shape: Any = None,
    batch_size: int | None = None,
    dtype: Any = None,
    name: str | None = None,
    batch_shape: Any = None,
) -> SymbolicTensor:
    """A symbolic input for a functional model: `inputs = Input(shape=(784,))`.

    Args:
        shape: The shape of one sample, without the batch axis.
        batch_size: A fixed batch size, or `None`.
        dtype: The input's dtype; `floatx()` when `None`.
        name: The name of the input (and of its `InputLayer`).
    """
    layer = InputLayer(
        shape=shape, batch_size=batch_size, dtype=dtype, name=name, batch_shape=batch_shape
    )
    return layer.output
