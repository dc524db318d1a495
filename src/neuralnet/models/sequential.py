"""`Sequential`: a stack of layers, each feeding the next."""

from __future__ import annotations

from typing import Any

from neuralnet._naming import unique_name
from neuralnet.layers.graph import CallGraph, Graph
from neuralnet.layers.input_layer import InputLayer
from neuralnet.layers.layer import Layer
from neuralnet.layers.node import SymbolicTensor
from neuralnet.models.model import Model


class Sequential(Model):
    """A linear stack of layers: `Sequential([Dense(32, activation='relu', input_dim=100), Dense(1)])`.

    The model is built as soon as its input shape is known: from an `Input`/`InputLayer` added first,
    from `input_shape`/`input_dim` on the first layer, from a built model added first, from
    `build(input_shape)`, or from the first data given to `fit`, `predict` or a call. Adding or
    removing a layer rebuilds the graph; the next training step trains the new one.

    Args:
        layers: Layers to add, in order.
        name: The model's name; `sequential`, `sequential_1`, ... when `None`.
    """

    def __init__(
        self, layers: list[Any] | None = None, trainable: bool = True, name: str | None = None
    ) -> None:
        super().__init__(name=name or unique_name("sequential"), trainable=trainable)
        self._stack: list[Layer] = []
        self._input_layer: InputLayer | None = None
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Append a layer (or an `Input` tensor, as the first entry)."""
        if isinstance(layer, SymbolicTensor):
            if layer.node is None or not isinstance(layer.node.layer, InputLayer):
                raise ValueError(
                    f"Sequential {self.name!r}: only a tensor from Input(...) can be added, received {layer!r}."
                )
            layer = layer.node.layer
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential {self.name!r} can only add layers, received {layer!r} of type {type(layer).__name__}."
            )
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError(
                    f"Sequential {self.name!r}: an InputLayer can only be the first layer of the model."
                )
            self._input_layer = layer
        else:
            if any(existing is layer for existing in self._stack):
                raise ValueError(
                    f"Sequential {self.name!r}: layer {layer.name!r} was already added."
                )
            if not self._stack and self._input_layer is None:
                shape = _known_input_shape(layer)
                if shape is not None:
                    self._input_layer = InputLayer(batch_shape=shape)
            self._stack.append(layer)
        if rebuild and self._input_layer is not None:
            self._rebuild()
        else:
            self._forget_graph()
            self._set_graphs({})

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer."""
        if not self._stack:
            raise TypeError(f"Sequential {self.name!r} has no layers to pop.")
        layer = self._stack.pop()
        if self._input_layer is not None and self._stack and rebuild:
            self._rebuild()
        else:
            self._forget_graph()
            self._set_graphs({})
        return layer

    def build(self, input_shape: Any = None) -> None:
        """Build every layer for inputs of `input_shape` (batch axis first, e.g. `(None, 784)`)."""
        if self._input_layer is None:
            if input_shape is None:
                raise ValueError(
                    f"Sequential {self.name!r} does not know its input shape. Give the first layer "
                    "input_shape=(...) (or input_dim), start with Input(shape=(...)), or call "
                    "build((None, n_features))."
                )
            self._input_layer = InputLayer(batch_shape=(None,) + tuple(input_shape)[1:])
        self._rebuild()

    def build_for(self, inputs: Any) -> None:
        if not self._graphs:
            if isinstance(inputs, (list, tuple, dict)):
                raise ValueError(
                    f"Sequential {self.name!r} takes one input array, received a "
                    f"{type(inputs).__name__} of {len(inputs)}."
                )
            self.build(inputs.shape)

    def _rebuild(self) -> None:
        self._forget_graph()
        if not self._stack:
            self._set_graphs({})
            return
        x = self._input_layer.output
        for layer in self._stack:
            x = layer(x)
        spec = CallGraph(Graph([self._input_layer.output], [x], self.name), None, "single", None)
        self._set_graphs({True: spec, False: spec})

    def _forget_graph(self) -> None:
        """Drop the nodes of the graph being replaced, so layer.input/output describe the new one."""
        if self._graphs:
            self._graphs[False].graph.forget_nodes()

    @property
    def layers(self) -> list[Layer]:
        """The layers added, without the InputLayer (as Keras 3)."""
        return list(self._stack)

    def get_config(self) -> dict[str, Any]:
        """Keras 3's Sequential config: its layers in Keras's form, InputLayer first when the
        input shape is known."""
        from neuralnet.saving.keras_config import _sequential_config

        return _sequential_config(self)

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> Sequential:
        """A new model (new weights) from `get_config()`, or from a Keras 3 Sequential config."""
        from neuralnet.saving.keras_config import Context, _sequential_from_keras

        return _sequential_from_keras(
            cls, config, Context(custom_objects, "Sequential.from_config")
        )


def _known_input_shape(layer: Layer) -> tuple | None:
    """The batch shape a first layer fixes: its `input_shape=`, or a built model's input shape."""
    if layer._batch_input_shape is not None:
        return layer._batch_input_shape
    if isinstance(layer, Model) and layer.built and not layer.multi_input:
        return (None, *layer.call_graph().graph.input_shapes[0][1:])
    return None
