"""Functional models: a graph of layers from `Input` tensors to output tensors, Keras's `Model(inputs,
outputs)`. The graph itself (order, forward, backward, shared layers) is `neuralnet.layers.graph`."""

from __future__ import annotations

from typing import Any

from neuralnet._naming import unique_name
from neuralnet.layers.graph import CallGraph, Graph, flatten
from neuralnet.layers.layer import Layer
from neuralnet.models.model import Model


class Functional(Model):
    """A model defined by calling layers on tensors, from `Input`s to outputs.

    Args:
        inputs: A tensor from `Input(...)`, or a list/dict of them.
        outputs: The tensor(s) computed from the inputs by calling layers.
        name: The model's name; `functional`, `functional_1`, ... when `None`.

    A layer (or a model) called on several tensors shares its weights between the calls, as in Keras:
    each call's forward values are kept apart, and the gradients of all calls are summed.
    """

    def __init__(
        self, inputs: Any, outputs: Any, name: str | None = None, trainable: bool = True
    ) -> None:
        super().__init__(name=name or unique_name("functional"), trainable=trainable)
        who = f"Model {self.name!r}"
        in_tensors, self._input_structure, input_keys = flatten(inputs, "inputs", who)
        out_tensors, structure, output_keys = flatten(outputs, "outputs", who)
        spec = CallGraph(Graph(in_tensors, out_tensors, self.name), input_keys, structure,
                         output_keys)  # fmt: skip
        self._set_graphs({True: spec, False: spec})

    @property
    def layers(self) -> list[Layer]:
        """Every layer, InputLayers included, in Keras's order (that of `get_weights()`)."""
        return list(self.call_graph().graph.layers)

    def format_inputs(self, inputs: list[Any]) -> Any:
        """`inputs` (one per input, in order) in the structure the model was built with: one, a
        list, or a dict by name (as `format_outputs` does for the outputs)."""
        spec = self.call_graph()
        if spec.input_keys is not None:
            return dict(zip(spec.input_keys, inputs, strict=True))
        if self._input_structure == "single":
            return inputs[0]
        return list(inputs)

    def get_config(self) -> dict[str, Any]:
        """Keras 3's functional config: the layers, the calls connecting them, the inputs and
        outputs (what `config.json` holds)."""
        from neuralnet.saving.keras_config import _functional_config

        return _functional_config(self)

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> Functional:
        """A new model (new weights) from `get_config()`, or from a Keras 3 functional config."""
        from neuralnet.saving.keras_config import Context, _functional_from_keras

        return _functional_from_keras(config, Context(custom_objects, "Functional.from_config"))
