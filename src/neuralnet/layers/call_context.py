"""The forward context of one call of a layer: what its `forward` kept for its `backward`.

A layer keeps its forward values on itself (`self._x = x`, or `self.cache["x"] = x` in a dict made
in `__init__`). When the same layer is called again before the backward pass (shared weights), that
second call overwrites the first one's values. So after the forward pass of every call of a shared
layer the graph captures the layer's instance attributes (containers such as dicts, lists, tuples
and sets copied, their subclasses too; arrays kept by reference; layers composed inside it by hand
captured in turn) and restores them just before that call's backward pass. A model, or a layer made
of layers, is captured as the values of the graph it ran.
"""

from __future__ import annotations

import copy
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neuralnet.layers.layer import Layer

_GRAPH = object()  # marks the context of a layer that ran a graph


# What a layer keeps across calls, never per call: its weights and the graph's own bookkeeping.
_NOT_PER_CALL = frozenset(
    {
        "params",
        "grads",
        "state",
        "regularizers",
        "_inbound_nodes",
        "_graphs",
        "_rng",
        "_auto_config",
        "_variable_views",
    }
)


_NOT_PER_CALL_LIST = tuple(_NOT_PER_CALL)


def capture(layer: Layer) -> Any:
    """The forward context of `layer`'s last call: what `restore` puts back before its backward."""
    graph = layer.graph_in_use()
    if graph is not None:
        return (_GRAPH, (graph, graph.capture()))
    captured_types = _captured_types()
    own = dict(vars(layer))
    for key in _NOT_PER_CALL_LIST:
        own.pop(key, None)
    containers = [key for key, value in own.items() if isinstance(value, captured_types)]
    memo: dict[int, Any] = {}
    inner: list[tuple[Layer, Any]] = []
    for key in containers:
        own[key] = _copy_containers(own[key], memo, inner)
    return (own, inner)


def restore(layer: Layer, context: Any) -> None:
    """Put back the forward context that `capture` took (each context is restored once, just
    before its call's backward pass)."""
    first, second = context
    if first is _GRAPH:
        graph, saved_graph = second
        layer._graph_used = graph
        graph.restore(saved_graph)
        return
    vars(layer).update(first)
    for sub, saved in second:
        restore(sub, saved)


_CONTAINERS = (dict, list, tuple, set, types.SimpleNamespace)


_TYPES: list[Any] = []


def _layer_class() -> type:
    """`Layer` (imported on first use: layer.py imports this module)."""
    if not _TYPES:
        from neuralnet.layers.layer import Layer

        _TYPES.extend([Layer, (*_CONTAINERS, Layer)])
    return _TYPES[0]


def _captured_types() -> tuple[type, ...]:
    """The types `capture` looks into: the containers and layers."""
    _layer_class()
    return _TYPES[1]


def _copy_containers(value: Any, memo: dict[int, Any], inner: list) -> Any:
    """`value` with its dicts, lists, tuples and sets (subclasses too) copied, recursively; arrays
    and other objects by reference; layers kept by reference and captured into `inner` (for layers
    that a user's layer composes by hand)."""
    if not isinstance(value, _CONTAINERS):
        if isinstance(value, _layer_class()) and id(value) not in memo:
            memo[id(value)] = value
            inner.append((value, capture(value)))
        return value
    if type(value) is tuple and not any(isinstance(item, _captured_types()) for item in value):
        return value  # a shape, say: nothing in it can change
    if id(value) in memo:
        return memo[id(value)]
    if isinstance(value, dict):
        copied: Any = copy.copy(value)
        memo[id(value)] = copied
        for key, item in value.items():
            copied[key] = _copy_containers(item, memo, inner)
    elif isinstance(value, list):
        copied = copy.copy(value)
        memo[id(value)] = copied
        copied[:] = [_copy_containers(item, memo, inner) for item in value]
    elif isinstance(value, types.SimpleNamespace):
        copied = copy.copy(value)
        memo[id(value)] = copied
        for key, item in vars(value).items():
            setattr(copied, key, _copy_containers(item, memo, inner))
    else:
        items = [_copy_containers(item, memo, inner) for item in value]
        if all(a is b for a, b in zip(items, value)) and isinstance(value, tuple):
            copied = value  # a tuple of values that are not containers cannot change
        elif hasattr(value, "_make"):  # a namedtuple
            copied = value._make(items)
        else:
            copied = type(value)(items)
        memo[id(value)] = copied
    return copied
