"""Layers and models written with `call()`: Keras's third way to build a network, made a graph.

A subclassed model (or a layer made of other layers) creates its layers in `__init__` and composes them
in `call(inputs, training=None)`. neuralnet has no automatic differentiation, so it runs `call` once on
symbolic inputs of the data's shape: every layer call inside records a node, and the nodes become a
`Graph` whose forward and backward passes are the layers' own, written out. When `call` takes a
`training` argument it is traced twice, once with `training=True` (for `fit`) and once with
`training=False` (for `predict` and `evaluate`), so that Python branches on `training` take effect.

What cannot become a graph of layers (NumPy math on a tensor, branching on a tensor's values) raises
a `TracingError` that says how to write it as a layer with its own backward pass.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from neuralnet.layers.graph import CallGraph, Graph, flatten, leaf_layers
from neuralnet.layers.node import TracingError

if TYPE_CHECKING:
    from neuralnet.layers.layer import Layer


def call_takes_training(layer: Layer) -> bool:
    """Whether `layer.call` accepts a `training` argument (then it is traced once per mode)."""
    try:
        parameters = inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return False
    return "training" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def tracked_layers(owner: Any) -> list[Layer]:
    """The layers held by `owner`'s attributes (directly, or in lists, tuples and dicts), in the
    order the attributes were set: Keras's tracking, found when needed instead of on every set."""
    from neuralnet.layers.layer import Layer

    found: dict[int, Layer] = {}

    def collect(value: Any, depth: int) -> None:
        if isinstance(value, Layer):
            if value is not owner:
                found.setdefault(id(value), value)
        elif depth < 3 and isinstance(value, (list, tuple)):
            for item in value:
                collect(item, depth + 1)
        elif depth < 3 and isinstance(value, dict):
            for item in value.values():
                collect(item, depth + 1)

    for value in vars(owner).values():
        collect(value, 0)
    return list(found.values())


def symbolic_inputs(structure: Any, prefix: str) -> Any:
    """Inputs shaped like `structure`: a shape tuple, a list of them, or a dict of them by name."""
    from neuralnet.layers.input_layer import Input

    if isinstance(structure, dict):
        return {key: Input(batch_shape=(None, *shape[1:]), name=str(key))
                for key, shape in structure.items()}  # fmt: skip
    if isinstance(structure, list):
        return [
            Input(batch_shape=(None, *shape[1:]), name=f"{prefix}_input_{i}")
            for i, shape in enumerate(structure)
        ]
    return Input(batch_shape=(None, *tuple(structure)[1:]), name=f"{prefix}_input")


def trace(owner: Layer, structure: Any) -> dict[bool, CallGraph]:
    """Run `owner.call` on symbolic inputs shaped like `structure`; one trace per training mode."""
    who = f"{type(owner).__name__} {owner.name!r}"
    # Inference first: `layer.output` (a layer's first node) and `model.inputs` then both come from
    # the inference graph, as for a functional model.
    modes = (False, True) if call_takes_training(owner) else (None,)
    traces: dict[bool, CallGraph] = {}
    for mode in modes:
        inputs = symbolic_inputs(structure, owner.name)
        try:
            outputs = owner.call(inputs) if mode is None else owner.call(inputs, training=mode)
        except TracingError as error:
            raise TracingError(
                f"{who}: call() cannot be traced into a graph of layers. {error}"
            ) from error
        if outputs is None:
            raise TypeError(f"{who}: call() returned None; it must return the output tensor(s).")
        in_tensors, _, input_keys = flatten(inputs, "inputs", who)
        out_tensors, output_structure, output_keys = flatten(outputs, "the outputs of call()", who)
        graph = Graph(in_tensors, out_tensors, owner.name, allow_unused_inputs=True)
        _check_layers_are_tracked(owner, graph, who)
        made = CallGraph(graph, input_keys, output_structure, output_keys)
        for key in (True, False) if mode is None else (mode,):
            traces[key] = made
    return traces


def _check_layers_are_tracked(owner: Layer, graph: Graph, who: str) -> None:
    """A layer with weights that call() created anew would get new weights at every trace and be
    saved nowhere: layers with weights must be attributes, made in `__init__` (or `build`)."""
    known: set[int] = set()
    for layer in tracked_layers(owner):
        known.add(id(layer))
        known.update(id(leaf) for leaf in leaf_layers(layer))
        known.update(id(inner) for inner in _all_inner(layer))
    for step in graph.steps:
        layer = step.layer
        if id(layer) in known:
            continue
        if any(leaf.params or leaf.state for leaf in leaf_layers(layer)):
            raise ValueError(
                f"{who}: call() uses layer {layer.name!r} ({type(layer).__name__}), which has weights "
                "but is not held by an attribute of the model (nor by a list or dict attribute): if "
                "it was created inside call(), every trace would make new weights. Create it in "
                "__init__ (self.dense = layers.Dense(...)) and call it in call()."
            )


def _all_inner(layer: Layer) -> list[Layer]:
    from neuralnet.layers.layer import walk_layers

    return walk_layers(layer)[1:]
