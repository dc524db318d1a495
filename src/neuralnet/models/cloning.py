"""`clone_model`: the same architecture with new layers (and so new weights), as Keras 3's.

Each layer is cloned once with `clone_function` (by default `type(layer).from_config(layer.get_config())`),
so a layer shared by several calls stays shared in the clone. A Sequential is rebuilt from its
cloned layers, a functional model by calling the cloned layers on new `Input`s in the original
order; a subclassed model is rebuilt from its config.
"""

from __future__ import annotations

import inspect
from typing import Any

from neuralnet.layers.input_layer import Input, InputLayer
from neuralnet.layers.layer import Layer
from neuralnet.models.functional import Functional
from neuralnet.models.model import Model
from neuralnet.models.sequential import Sequential


def _default_clone(layer: Layer) -> Layer:
    config = layer.get_config()
    if "dtype" not in config and layer.built and _takes_dtype(type(layer)):
        # A layer built without its own dtype took floatx() as it was then; Keras's config always
        # says the dtype, so the clone has the same float type whatever floatx() is now.
        config["dtype"] = layer.dtype
    return type(layer).from_config(config)


def _takes_dtype(cls: type) -> bool:
    try:
        parameters = inspect.signature(cls.__init__).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "dtype" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def clone_model(model: Model, input_tensors: Any = None, clone_function: Any = None,
                call_function: Any = None, recursive: bool = False, **kwargs: Any) -> Model:  # fmt: skip
    """A new model with `model`'s structure and freshly initialised weights.

    Args:
        model: A Sequential, functional or subclassed model.
        input_tensors: `Input` tensors to build the clone on, instead of new ones.
        clone_function: `layer -> new layer`, called once per layer (default: from its config).
        call_function: `(layer, *args, **kwargs) -> outputs`, to call the cloned layers differently.
        recursive: Clone models nested inside `model` layer by layer, with `clone_function`.
    """
    if kwargs:
        raise TypeError(f"clone_model() got unexpected keyword argument(s): {', '.join(kwargs)}.")
    function = clone_function or _default_clone
    if not callable(function):
        raise TypeError(f"clone_model: `clone_function` must be callable, received {function!r}.")
    cloned: dict[int, Layer] = {}

    def clone(layer: Layer) -> Layer:
        if id(layer) not in cloned:
            if recursive and isinstance(layer, (Sequential, Functional)):
                new = clone_model(layer, clone_function=clone_function,
                                  call_function=call_function, recursive=True)  # fmt: skip
            else:
                new = function(layer)
            if not isinstance(new, Layer):
                raise TypeError(
                    f"clone_model: `clone_function` must return a layer, returned {new!r} for "
                    f"layer {layer.name!r}."
                )
            cloned[id(layer)] = new
        return cloned[id(layer)]

    if isinstance(model, Sequential) and type(model).get_config is Sequential.get_config:
        return _clone_sequential(model, input_tensors, clone)
    if isinstance(model, Functional) and type(model).get_config is Functional.get_config:
        return _clone_functional(model, input_tensors, clone, call_function)
    if clone_function is not None or input_tensors is not None:
        raise ValueError(
            "clone_model: `clone_function` and `input_tensors` are only supported for Sequential "
            f"and functional models; {type(model).__name__} {model.name!r} is subclassed."
        )
    return type(model).from_config(model.get_config())


def _new_input(layer: InputLayer) -> Any:
    return Input(batch_shape=layer.batch_shape, dtype=layer.compute_dtype, name=layer.name)


def _clone_sequential(model: Sequential, input_tensors: Any, clone: Any) -> Sequential:
    new = Sequential(name=model.name, trainable=model.trainable)
    if input_tensors is not None:
        tensors = input_tensors if isinstance(input_tensors, (list, tuple)) else [input_tensors]
        if len(tensors) != 1:
            raise ValueError(
                f"clone_model: a Sequential takes one input tensor, received {len(tensors)}."
            )
        new.add(tensors[0], rebuild=False)
    elif model._input_layer is not None:
        new.add(_new_input(model._input_layer), rebuild=False)
    for layer in model.layers:
        new.add(clone(layer), rebuild=False)
    if new._input_layer is not None and new.layers:
        new.build()
    return new


def _clone_functional(model: Functional, input_tensors: Any, clone: Any,
                      call_function: Any) -> Functional:  # fmt: skip
    graph = model.call_graph().graph
    originals = graph.input_tensors
    if input_tensors is None:
        new_inputs = [_new_input(t.node.layer) for t in originals]
    else:
        new_inputs = (
            list(input_tensors.values()) if isinstance(input_tensors, dict)
            else list(input_tensors) if isinstance(input_tensors, (list, tuple))
            else [input_tensors]
        )  # fmt: skip
        if len(new_inputs) != len(originals):
            raise ValueError(
                f"clone_model: model {model.name!r} has {len(originals)} inputs, received "
                f"{len(new_inputs)} input tensors."
            )
    mapped = {id(old): new for old, new in zip(originals, new_inputs)}
    for step in graph.steps:
        layer = clone(step.layer)
        arguments = [mapped[id(t)] for t in step.node.inputs]
        argument = arguments if step.layer.multi_input else arguments[0]
        call_kwargs = {} if step.training is None else {"training": step.training}
        if call_function is not None:
            outputs = call_function(layer, argument, **call_kwargs)
        else:
            outputs = layer(argument, **call_kwargs)
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        for old, new in zip(step.node.outputs, outputs):
            mapped[id(old)] = new
    new_outputs = [mapped[id(t)] for t in graph.output_tensors]
    return Functional(model.format_inputs(new_inputs), model.format_outputs(new_outputs),
                      name=model.name, trainable=model.trainable)  # fmt: skip
