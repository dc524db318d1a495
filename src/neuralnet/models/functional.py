"""Functional models: a graph of layers from `Input` tensors to output tensors.

`Model(inputs, outputs)` walks back from the outputs through the nodes that layer calls recorded,
sorts them topologically and keeps a flat plan: for each node, its layer and the slots its inputs
come from and its outputs go to. The forward pass runs the plan in order; the backward pass runs it in
reverse, adding up the gradients of a tensor that feeds several layers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralnet._naming import unique_name
from neuralnet.layers.input_layer import InputLayer
from neuralnet.layers.layer import Layer, shape_str
from neuralnet.layers.node import Node, SymbolicTensor, is_symbolic
from neuralnet.models.model import Model


class _Step:
    """One node of the plan: `layer` reads `inputs` slots and writes `outputs` slots."""

    __slots__ = ("activity_regularizer", "inputs", "layer", "node", "outputs", "shared", "snapshot")

    def __init__(
        self, layer: Layer, inputs: tuple[int, ...], outputs: tuple[int, ...], node: Node
    ) -> None:
        self.layer = layer
        self.inputs = inputs
        self.outputs = outputs
        self.activity_regularizer = layer.activity_regularizer
        self.node = node
        self.shared = False  # the layer is called at several nodes of this graph
        self.snapshot: Any = None  # for a shared layer, what its forward kept at this node


def _snapshot(layer: Layer) -> Any:
    """What `layer` (and, for a model, every layer inside it) kept from its last forward pass."""
    if isinstance(layer, Functional):
        return (
            dict(vars(layer)),
            list(layer._values),
            [_snapshot(step.layer) for step in layer._plan],
        )
    return dict(vars(layer))


def _restore(layer: Layer, snapshot: Any) -> None:
    """Put back what `_snapshot` saved, so that `backward` sees this node's forward values."""
    if isinstance(layer, Functional):
        own, values, inner = snapshot
        vars(layer).update(own)
        layer._values[:] = values
        for step, saved in zip(layer._plan, inner):
            _restore(step.layer, saved)
        return
    vars(layer).update(snapshot)


def _leaf_layers(layer: Layer) -> list[Layer]:
    """`layer` itself, or every layer (not model) inside it, each once."""
    if not isinstance(layer, Model):
        return [layer]
    found: dict[int, Layer] = {}
    for sub in layer._unique_layers():
        for leaf in _leaf_layers(sub):
            found.setdefault(id(leaf), leaf)
    return list(found.values())


def _leaf_grads(layer: Layer) -> list[np.ndarray]:
    """Every gradient array of `layer`, or of the layers inside it for a model."""
    return [g for leaf in _leaf_layers(layer) for g in leaf.grads.values()]


def _flatten_structure(value: Any, what: str) -> tuple[list[SymbolicTensor], str, list[str] | None]:
    if isinstance(value, SymbolicTensor):
        return [value], "single", None
    if isinstance(value, dict):
        tensors = list(value.values())
        structure, keys = "dict", list(value.keys())
    elif isinstance(value, (list, tuple)):
        tensors, structure, keys = list(value), "list", None
    else:
        raise TypeError(
            f"Model: `{what}` must be a tensor from Input(...) or a layer call, received {value!r}."
        )
    for tensor in tensors:
        if not isinstance(tensor, SymbolicTensor):
            raise TypeError(
                f"Model: every entry of `{what}` must be a symbolic tensor (from Input(...) or a layer "
                f"call), received {tensor!r}."
            )
    if not tensors:
        raise ValueError(f"Model: `{what}` is empty.")
    return tensors, structure, keys


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
        self._init_graph(inputs, outputs)

    def _init_graph(self, inputs: Any, outputs: Any) -> None:
        in_tensors, _, self._input_keys = _flatten_structure(inputs, "inputs")
        out_tensors, self._output_structure, self._output_keys = _flatten_structure(
            outputs, "outputs"
        )
        for tensor in in_tensors:
            if tensor.node is None or not isinstance(tensor.node.layer, InputLayer):
                producer = tensor.layer.name if tensor.layer is not None else "nothing"
                raise ValueError(
                    f"Model {self.name!r}: inputs must be tensors returned by Input(...); received a "
                    f"tensor produced by layer {producer!r}."
                )
        input_ids = {id(t): i for i, t in enumerate(in_tensors)}
        if len(input_ids) != len(in_tensors):
            raise ValueError(f"Model {self.name!r}: the same Input is listed twice in `inputs`.")

        all_nodes, visit_index = self._topological_nodes(out_tensors, input_ids)
        nodes = [node for node in all_nodes if not isinstance(node.layer, InputLayer)]
        used_inputs = {id(t) for node in nodes for t in node.inputs} | {id(t) for t in out_tensors}
        unused = [t for t in in_tensors if id(t) not in used_inputs]
        if unused:
            names = ", ".join(repr(t.layer.name) for t in unused)
            raise ValueError(
                f"Model {self.name!r}: input {names} is not used to compute any output. Remove it from "
                "`inputs` or connect it to the outputs."
            )

        slots: dict[int, int] = {}

        def slot_of(tensor: SymbolicTensor) -> int:
            return slots.setdefault(id(tensor), len(slots))

        self._input_slots = [slot_of(t) for t in in_tensors]
        plan: list[_Step] = []
        calls: dict[int, int] = {}
        for node in nodes:
            if node.layer is self:
                raise ValueError(f"Model {self.name!r} cannot contain itself.")
            calls[id(node.layer)] = calls.get(id(node.layer), 0) + 1
            plan.append(
                _Step(
                    node.layer,
                    tuple(slot_of(t) for t in node.inputs),
                    tuple(slot_of(t) for t in node.outputs),
                    node,
                )
            )
        # A layer is shared when this graph reaches it more than once, directly or inside nested
        # models: each such call keeps its own forward values and the gradients are summed.
        uses: dict[int, int] = {}
        for step in plan:
            for leaf in _leaf_layers(step.layer):
                uses[id(leaf)] = uses.get(id(leaf), 0) + 1
        for step in plan:
            step.shared = calls[id(step.layer)] > 1 or any(
                uses[id(leaf)] > 1 for leaf in _leaf_layers(step.layer)
            )
        self._output_slots = [slot_of(t) for t in out_tensors]
        self._plan = plan
        self._num_slots = len(slots)
        self._values: list[Any] = [None] * self._num_slots
        self._in_tensors = in_tensors
        self._out_tensors = out_tensors

        self._layers: list[Layer] = self._keras_layer_order(all_nodes, visit_index)
        names: dict[str, Layer] = {}
        for layer in self._layers:
            if layer.name in names and names[layer.name] is not layer:
                raise ValueError(
                    f"Model {self.name!r}: two layers are named {layer.name!r}; layer names must be "
                    "unique within a model."
                )
            names[layer.name] = layer

        # Which tensors feed other layers (an output that also feeds a layer cannot be fused).
        consumers: dict[int, int] = {}
        for step in plan:
            for slot in step.inputs:
                consumers[slot] = consumers.get(slot, 0) + 1
        producer = {slot: step for step in plan for slot in step.outputs}
        self._fusable: list[Any] = []
        self._fused_steps: list[_Step | None] = []
        for slot in self._output_slots:
            step = producer.get(slot)
            ok = (
                step is not None
                and len(step.outputs) == 1
                and consumers.get(slot, 0) == 0
                and self._output_slots.count(slot) == 1
                and step.activity_regularizer is None
                and hasattr(step.layer, "backward_from_preactivation")
                and getattr(step.layer, "activation", None) is not None
            )
            self._fusable.append(step.layer.activation if ok else None)
            self._fused_steps.append(step if ok else None)

        self.multi_input = len(in_tensors) > 1
        self._build_input_shape = (
            in_tensors[0].shape if len(in_tensors) == 1 else [t.shape for t in in_tensors]
        )
        self.built = True
        self.configure_input_gradients(needed=False)

    @staticmethod
    def _topological_nodes(
        out_tensors: list[SymbolicTensor], input_ids: dict[int, int]
    ) -> tuple[list[Node], dict[int, int]]:
        """The nodes needed for the outputs, each after the nodes it reads from (Keras's depth-first
        walk from the outputs), and each layer's first-visit index (for Keras's layer order)."""
        order: list[Node] = []
        visit_index: dict[int, int] = {}
        finished: set[int] = set()
        in_progress: set[int] = set()

        def visit(tensor: SymbolicTensor) -> None:
            node = tensor.node
            if node is None or id(node) in finished:
                return
            if id(node) in in_progress:
                raise ValueError(f"The graph has a cycle through layer {node.layer.name!r}.")
            visit_index.setdefault(id(node.layer), len(visit_index))
            if isinstance(node.layer, InputLayer):
                if id(node.outputs[0]) not in input_ids:
                    raise ValueError(
                        f"An output depends on the input {node.layer.name!r}, which is not among the "
                        "model's `inputs`: the output cannot be computed from the inputs given. Add "
                        "that Input to `inputs`."
                    )
                finished.add(id(node))
                order.append(node)
                return
            in_progress.add(id(node))
            for parent in node.inputs:
                visit(parent)
            in_progress.discard(id(node))
            finished.add(id(node))
            order.append(node)

        for tensor in out_tensors:
            visit(tensor)
        return order, visit_index

    @staticmethod
    def _keras_layer_order(order: list[Node], visit_index: dict[int, int]) -> list[Layer]:
        """Layers sorted as Keras sorts them (deepest first, then by first visit), which fixes the
        order of `layers` and of `get_weights()`."""
        in_graph = {id(node) for node in order}
        node_depth: dict[int, int] = {}
        layer_depth: dict[int, int] = {}
        layers: dict[int, Layer] = {}
        for node in reversed(order):
            depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
            layer_depth[id(node.layer)] = depth
            layers[id(node.layer)] = node.layer
            node_depth[id(node)] = depth
            for parent in node.parents:
                if id(parent) in in_graph:
                    node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
        return sorted(layers.values(), key=lambda l: (-layer_depth[id(l)], visit_index[id(l)]))

    # -- what Model needs ------------------------------------------------------------------------

    @property
    def layers(self) -> list[Layer]:
        """Every layer, InputLayers included, in Keras's order (that of `get_weights()`)."""
        return list(self._layers)

    def _unique_layers(self) -> list[Layer]:
        return self._layers

    @property
    def inputs(self) -> list[SymbolicTensor]:
        return list(self._in_tensors)

    @property
    def outputs(self) -> list[SymbolicTensor]:
        return list(self._out_tensors)

    @property
    def input_names(self) -> list[str]:
        """The keys of the inputs dict the model was built with, else the Input layers' names."""
        if self._input_keys is not None:
            return [str(k) for k in self._input_keys]
        return [t.node.layer.name for t in self._in_tensors]

    @property
    def output_names(self) -> list[str]:
        if self._output_keys is not None:
            return [str(k) for k in self._output_keys]
        return [t.layer.name for t in self._out_tensors]

    def _input_shapes(self) -> list[tuple]:
        return [t.shape for t in self._in_tensors]

    def _output_shapes(self) -> list[tuple]:
        return [t.shape for t in self._out_tensors]

    def _input_consumers(self) -> list[Layer | None]:
        consumers: list[Layer | None] = []
        for slot in self._input_slots:
            consumer = next((s.layer for s in self._plan if slot in s.inputs), None)
            consumers.append(consumer)
        return consumers

    def __call__(self, inputs: Any, training: bool | None = None) -> Any:
        if isinstance(inputs, dict):
            inputs = self._inputs_from_dict(inputs, f"Model {self.name!r}")
            if len(inputs) == 1:
                inputs = inputs[0]
        result = super().__call__(inputs, training)
        if is_symbolic(inputs):
            return result
        return self.format_outputs(result if isinstance(result, list) else [result])

    def format_outputs(self, outputs: list[Any]) -> Any:
        """Outputs in the structure the model was built with: one array, a list, or a dict."""
        if self._output_structure == "dict":
            return dict(zip(self._output_keys, outputs, strict=True))
        if self._output_structure == "single":
            return outputs[0]
        return list(outputs)

    def fusable_activations(self) -> list[Any]:
        return self._fusable

    def configure_input_gradients(self, needed: bool) -> None:
        """Tell the layers fed only by model inputs whether dJ/dx is needed there (it is not at the
        top level, so the first Dense skips its largest matrix product; it is inside a nested model)."""
        input_slots = set(self._input_slots)
        self._skip_input_gradient = not needed
        layer_needed: dict[int, bool] = {}
        for step in self._plan:
            fed_by_inputs_only = all(slot in input_slots for slot in step.inputs)
            key = id(step.layer)
            layer_needed[key] = layer_needed.get(key, False) or needed or not fed_by_inputs_only
        for step in self._plan:
            if isinstance(step.layer, Functional):
                step.layer.configure_input_gradients(layer_needed[id(step.layer)])
            else:
                step.layer._skip_input_gradient = not layer_needed[id(step.layer)]

    # -- running the graph -----------------------------------------------------------------------

    def run_forward(self, inputs: list[np.ndarray], training: bool) -> list[np.ndarray]:
        if len(inputs) != len(self._input_slots):
            raise ValueError(
                f"Model {self.name!r} expects {len(self._input_slots)} inputs "
                f"({', '.join(self.input_names)}), received {len(inputs)}."
            )
        values = self._values
        for slot, x in zip(self._input_slots, inputs):
            values[slot] = x
        activity = 0.0
        for step in self._plan:
            layer = step.layer
            if layer.multi_input:
                y = layer.forward([values[i] for i in step.inputs], training=training)
            else:
                y = layer.forward(values[step.inputs[0]], training=training)
            if len(step.outputs) == 1:
                values[step.outputs[0]] = y
            else:
                for slot, value in zip(step.outputs, y):
                    values[slot] = value
            if step.shared:
                step.snapshot = _snapshot(layer)
            if step.activity_regularizer is not None:
                activity += step.activity_regularizer(y) / max(len(y), 1)
            if isinstance(layer, Functional):
                activity += layer._activity_penalty()
        self._last_activity_penalty = activity
        return [values[slot] for slot in self._output_slots]

    def layer_outputs(self) -> dict[str, np.ndarray]:
        """Each layer's output in the last forward pass, by layer name (for monitoring)."""
        return {
            step.layer.name: self._values[step.outputs[0]]
            for step in self._plan
            if len(step.outputs) == 1
        }

    def _activity_penalty(self) -> float:
        return getattr(self, "_last_activity_penalty", 0.0)

    def run_backward(
        self, output_grads: list[np.ndarray | None], fused: list[bool] | None = None
    ) -> list[np.ndarray | None]:
        values = self._values
        grads: list[Any] = [None] * self._num_slots
        fused_steps: set[int] = set()
        for k, (slot, grad) in enumerate(zip(self._output_slots, output_grads)):
            if grad is None:
                continue
            if fused is not None and fused[k]:
                fused_steps.add(id(self._fused_steps[k]))
            grads[slot] = grad if grads[slot] is None else grads[slot] + grad

        shared_sums: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}
        for step in reversed(self._plan):
            layer = step.layer
            if step.shared:
                for g in _leaf_grads(layer):
                    shared_sums.setdefault(id(g), (g, None))
            if len(step.outputs) == 1:
                grad_y = grads[step.outputs[0]]
                if grad_y is None:
                    if not step.shared:
                        _zero_grads(layer)
                    continue
                if step.activity_regularizer is not None:
                    y = values[step.outputs[0]]
                    grad_y = grad_y + step.activity_regularizer.gradient(y) / max(len(y), 1)
            else:
                pending = [grads[slot] for slot in step.outputs]
                if all(g is None for g in pending):
                    if not step.shared:
                        _zero_grads(layer)
                    continue
                grad_y = [
                    np.zeros_like(values[slot]) if g is None else g
                    for slot, g in zip(step.outputs, pending)
                ]
            if step.shared:
                _restore(layer, step.snapshot)
            if id(step) in fused_steps:
                grad_x = layer.backward_from_preactivation(grad_y)
            else:
                grad_x = layer.backward(grad_y)
            if step.shared:
                # Each call of a shared layer overwrites its grads: sum them over the calls.
                for g in _leaf_grads(layer):
                    target, total = shared_sums[id(g)]
                    if total is None:
                        shared_sums[id(g)] = (target, g.copy())
                    else:
                        total += g
            if grad_x is None:
                continue
            if layer.multi_input:
                for slot, g in zip(step.inputs, grad_x):
                    if g is not None:
                        grads[slot] = g if grads[slot] is None else grads[slot] + g
            else:
                slot = step.inputs[0]
                grads[slot] = grad_x if grads[slot] is None else grads[slot] + grad_x
        for target, total in shared_sums.values():
            if total is None:
                target.fill(0.0)
            else:
                np.copyto(target, total)
        return [grads[slot] for slot in self._input_slots]

    # -- calling ---------------------------------------------------------------------------------

    def compute_output_shape(self, input_shape):
        shapes = [t.shape for t in self._out_tensors]
        return shapes[0] if len(shapes) == 1 else shapes

    def check_input_shape(self, shape) -> None:
        expected = self._in_tensors[0].shape
        if len(shape) != len(expected) or any(
            e is not None and s is not None and e != s for e, s in zip(expected[1:], shape[1:])
        ):
            raise ValueError(
                f"Model {self.name!r} expected inputs of shape {shape_str(expected)}, received shape "
                f"{shape_str(tuple(shape))}."
            )

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "trainable": self.trainable}


def _zero_grads(layer: Layer) -> None:
    """A layer that no loss depends on gets zero gradients (not last step's)."""
    for grad in _leaf_grads(layer):
        grad.fill(0.0)
