"""Running a graph of layer calls: the forward pass in topological order, the backward pass in reverse.

A `Graph` is made from symbolic tensors: a model's `Input`s and the outputs computed from them by
calling layers. It walks back from the outputs through the recorded nodes, sorts them topologically and
keeps a flat plan of steps. A step is one call of a layer and owns every fact of that call:

- the slots its inputs come from and its outputs go to;
- `training`, when the call fixed it (`base_model(x, training=False)`);
- whether anything reads dJ/dx of that call: a layer fed only by the graph's inputs may skip it (the
  first Dense of a model skips its largest matrix product), but only in this graph, and only when the
  caller of the graph does not want dJ/d(inputs) either;
- for a layer called at several steps (shared weights), that call's own forward context.

Facts of one graph or one call never live on the layer object, which other graphs may share: a model
built later cannot change how an earlier model trains.

Each call's forward context (what `forward` kept for `backward`) is captured and restored per call
for shared layers: see `neuralnet.layers.call_context`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from neuralnet.layers.call_context import capture, restore
from neuralnet.layers.node import Node, SymbolicTensor, graph_version, note_graph_change

if TYPE_CHECKING:
    from neuralnet.layers.layer import Layer


class Step:
    """One call of a layer in a graph: `layer` reads the values in `inputs` slots and writes `outputs`."""

    __slots__ = (
        "composite",
        "context",
        "inputs",
        "layer",
        "leaf_grads",
        "node",
        "outputs",
        "reads_only_graph_inputs",
        "shared",
        "training",
    )

    def __init__(self, node: Node, inputs: tuple[int, ...], outputs: tuple[int, ...]) -> None:
        self.node = node
        self.layer: Layer = node.layer
        self.inputs = inputs
        self.outputs = outputs
        self.training = node.training
        self.composite = False  # a model, or a layer made of layers
        self.reads_only_graph_inputs = False
        self.shared = False  # the layer is reached at several steps of this graph
        self.leaf_grads: list[np.ndarray] = []  # for a shared layer: the gradients to sum
        self.context: Any = None  # a shared layer's forward values at this call


class Graph:
    """The computation from symbolic `inputs` to `outputs`, as a list of steps.

    Args:
        inputs: Tensors returned by `Input(...)`.
        outputs: Tensors computed from them by calling layers.
        owner: The name of the model (or layer) the graph belongs to, for error messages.
    """

    def __init__(
        self,
        inputs: list[SymbolicTensor],
        outputs: list[SymbolicTensor],
        owner: str,
        allow_unused_inputs: bool = False,
    ) -> None:
        from neuralnet.layers.input_layer import InputLayer

        self.owner = owner
        for tensor in inputs:
            if tensor.node is None or not isinstance(tensor.node.layer, InputLayer):
                producer = tensor.layer.name if tensor.layer is not None else "nothing"
                raise ValueError(
                    f"Model {owner!r}: inputs must be tensors returned by Input(...); received a "
                    f"tensor produced by layer {producer!r}."
                )
        input_ids = {id(t): i for i, t in enumerate(inputs)}
        if len(input_ids) != len(inputs):
            raise ValueError(f"Model {owner!r}: the same Input is listed twice in `inputs`.")

        all_nodes, visit_index = _topological_nodes(out_tensors=outputs, input_ids=input_ids)
        nodes = [node for node in all_nodes if not isinstance(node.layer, InputLayer)]
        used = {id(t) for node in nodes for t in node.inputs} | {id(t) for t in outputs}
        unused = [t for t in inputs if id(t) not in used]
        if unused and not allow_unused_inputs:
            names = ", ".join(repr(t.layer.name) for t in unused)
            raise ValueError(
                f"Model {owner!r}: input {names} is not used to compute any output. Remove it from "
                "`inputs` or connect it to the outputs."
            )

        slots: dict[int, int] = {}

        def slot_of(tensor: SymbolicTensor) -> int:
            return slots.setdefault(id(tensor), len(slots))

        self.input_tensors = list(inputs)
        self.output_tensors = list(outputs)
        self.input_slots = [slot_of(t) for t in inputs]
        self.steps = [
            Step(
                node,
                tuple(slot_of(t) for t in node.inputs),
                tuple(slot_of(t) for t in node.outputs),
            )
            for node in nodes
        ]
        self.output_slots = [slot_of(t) for t in outputs]
        self.num_slots = len(slots)
        self.values: list[Any] = [None] * self.num_slots
        self.activity_penalty = 0.0
        self.layers = _keras_layer_order(all_nodes, visit_index)
        names: dict[str, Layer] = {}
        for layer in self.layers:
            if layer.name in names and names[layer.name] is not layer:
                raise ValueError(
                    f"Model {owner!r}: two layers are named {layer.name!r}; layer names must be "
                    "unique within a model."
                )
            names[layer.name] = layer

        self._analysed_version = -1
        note_graph_change()
        self._analyse()

    def _analyse(self) -> None:
        """The facts of each step that depend on the layers inside other layers and models, found
        again whenever any graph changed (`graph_version`): which layers are shared, which steps
        read only the graph's inputs, which outputs may fuse their gradient with the loss."""
        graph_inputs = set(self.input_slots)
        # A layer is shared when this graph reaches it more than once, directly or inside the
        # layers it is made of: each such call keeps its own forward context.
        calls: dict[int, int] = {}
        uses: dict[int, int] = {}
        leaves = {}
        for step in self.steps:
            step.reads_only_graph_inputs = all(slot in graph_inputs for slot in step.inputs)
            step.composite = bool(step.layer._graphs)
            calls[id(step.layer)] = calls.get(id(step.layer), 0) + 1
            leaves[id(step)] = leaf_layers(step.layer)
            for leaf in leaves[id(step)]:
                uses[id(leaf)] = uses.get(id(leaf), 0) + 1
        for step in self.steps:
            step.shared = calls[id(step.layer)] > 1 or any(
                uses[id(leaf)] > 1 for leaf in leaves[id(step)]
            )
            step.leaf_grads = [g for leaf in leaves[id(step)] for g in leaf.grads.values()]
        self.fusable, self._fused_steps = self._find_fusable_outputs()
        self._analysed_version = graph_version()

    def fusable_now(self) -> list[Any]:
        """`fusable`, checked against each output layer's activation as it is now (one identity
        check per output): an activation replaced since is not fused."""
        for step, activation in zip(self._fused_steps, self.fusable):
            if step is not None and step.layer.activation is not activation:
                self.fusable, self._fused_steps = self._find_fusable_outputs()
                break
        return self.fusable

    # -- structure -------------------------------------------------------------------------------

    @property
    def input_shapes(self) -> list[tuple]:
        return [t.shape for t in self.input_tensors]

    @property
    def output_shapes(self) -> list[tuple]:
        return [t.shape for t in self.output_tensors]

    def consumer_of_input(self, index: int) -> Layer | None:
        """The first layer that reads input `index` (named in shape errors)."""
        slot = self.input_slots[index]
        return next((step.layer for step in self.steps if slot in step.inputs), None)

    def _find_fusable_outputs(self) -> tuple[list[Any], list[Step | None]]:
        """For each output, the activation whose gradient a loss may fuse with its own (softmax and
        cross-entropy: dJ/dz = p − y), or None. Only a library layer with a library activation whose
        output feeds nothing else qualifies: a layer's own `backward` is never bypassed."""
        consumers: dict[int, int] = {}
        for step in self.steps:
            for slot in step.inputs:
                consumers[slot] = consumers.get(slot, 0) + 1
        producer = {slot: step for step in self.steps for slot in step.outputs}
        fusable: list[Any] = []
        fused_steps: list[Step | None] = []
        for slot in self.output_slots:
            step = producer.get(slot)
            ok = (
                step is not None
                and len(step.outputs) == 1
                and consumers.get(slot, 0) == 0
                and self.output_slots.count(slot) == 1
                and step.layer.activity_regularizer is None
                and is_library_code(
                    step.layer, "forward", "backward", "backward_from_preactivation"
                )
                and getattr(step.layer, "activation", None) is not None
                and is_library_code(step.layer.activation, "forward", "backward")
            )
            fusable.append(step.layer.activation if ok else None)
            fused_steps.append(step if ok else None)
        return fusable, fused_steps

    # -- running ---------------------------------------------------------------------------------

    def forward(self, inputs: list[np.ndarray], training: bool) -> list[np.ndarray]:
        """Every step's forward pass; the outputs, in order."""
        if len(inputs) != len(self.input_slots):
            raise ValueError(
                f"Model {self.owner!r} expects {len(self.input_slots)} inputs, received {len(inputs)}."
            )
        if self._analysed_version != graph_version():
            self._analyse()
        values = self.values
        for slot, x in zip(self.input_slots, inputs):
            values[slot] = x
        activity = 0.0
        for step in self.steps:
            layer = step.layer
            mode = training if step.training is None else step.training
            if layer.multi_input:
                y = layer.forward([values[i] for i in step.inputs], training=mode)
            else:
                y = layer.forward(values[step.inputs[0]], training=mode)
            if len(step.outputs) == 1:
                values[step.outputs[0]] = y
            else:
                for slot, value in zip(step.outputs, y):
                    values[slot] = value
            if step.shared:
                step.context = capture(layer)
            regularizer = layer.activity_regularizer
            if regularizer is not None:
                activity += regularizer(y) / max(len(y), 1)
            if step.composite:
                activity += layer.graph_in_use().activity_penalty
        self.activity_penalty = activity
        return [values[slot] for slot in self.output_slots]

    def backward(
        self,
        output_grads: list[np.ndarray | None],
        fused: list[bool] | None = None,
        input_gradients: bool = True,
    ) -> list[np.ndarray | None]:
        """Every step's backward pass, in reverse order; dJ/d(input) for each input of the graph
        (`None` where nothing depends on it, or everywhere when `input_gradients` is False).

        `fused[k]` says that `output_grads[k]` is dJ/dz before the output layer's activation (see
        `fusable`). The gradients of a layer's parameters are summed over its calls.
        """
        values = self.values
        grads: list[Any] = [None] * self.num_slots
        fused_steps: set[int] = set()
        for k, (slot, grad) in enumerate(zip(self.output_slots, output_grads)):
            if grad is None:
                continue
            if fused is not None and fused[k]:
                fused_steps.add(id(self._fused_steps[k]))
            grads[slot] = grad if grads[slot] is None else grads[slot] + grad

        shared_sums: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}
        for step in reversed(self.steps):
            layer = step.layer
            if step.shared:
                for g in step.leaf_grads:
                    shared_sums.setdefault(id(g), (g, None))
            if len(step.outputs) == 1:
                grad_y = grads[step.outputs[0]]
                if grad_y is None:
                    if not step.shared:
                        _zero(step.leaf_grads)  # no loss depends on it: zero, not last step's
                    continue
                regularizer = layer.activity_regularizer
                if regularizer is not None:
                    y = values[step.outputs[0]]
                    grad_y = grad_y + regularizer.gradient(y) / max(len(y), 1)
            else:
                pending = [grads[slot] for slot in step.outputs]
                if all(g is None for g in pending):
                    if not step.shared:
                        _zero(step.leaf_grads)  # no loss depends on it: zero, not last step's
                    continue
                grad_y = [
                    np.zeros_like(values[slot]) if g is None else g
                    for slot, g in zip(step.outputs, pending)
                ]
            if step.shared:
                restore(layer, step.context)
            skip_input_gradient = step.reads_only_graph_inputs and not input_gradients
            if skip_input_gradient:
                layer.needs_input_gradient = False  # a fact of this call, set for it alone
            try:
                if id(step) in fused_steps:
                    grad_x = layer.backward_from_preactivation(grad_y)
                else:
                    grad_x = layer.backward(grad_y)
            finally:
                if skip_input_gradient:
                    del layer.needs_input_gradient
            if step.shared:
                # Each call of a shared layer overwrites its grads: sum them over the calls.
                for g in step.leaf_grads:
                    target, total = shared_sums[id(g)]
                    if total is None:
                        shared_sums[id(g)] = (target, g.copy())
                    else:
                        total += g
            if grad_x is None or skip_input_gradient:
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
        if not input_gradients:
            return [None] * len(self.input_slots)
        return [grads[slot] for slot in self.input_slots]

    def layer_outputs(self) -> dict[str, np.ndarray]:
        """Each layer's output in the last forward pass, by layer name."""
        return {
            step.layer.name: self.values[step.outputs[0]]
            for step in self.steps
            if len(step.outputs) == 1
        }

    # -- forward contexts ------------------------------------------------------------------------

    def capture(self) -> Any:
        """Everything the last forward pass kept for the backward pass, inside this graph."""
        return (
            list(self.values),
            self.activity_penalty,
            [(capture(step.layer), step.context) for step in self.steps],
        )

    def restore(self, context: Any) -> None:
        values, self.activity_penalty, contexts = context
        self.values[:] = values
        for step, (saved, step_context) in zip(self.steps, contexts):
            restore(step.layer, saved)
            step.context = step_context

    def forget_nodes(self) -> None:
        """Remove this graph's nodes from its layers (when a Sequential is rebuilt), so that
        `layer.input` and `layer.output` describe the graph that replaces it."""
        for step in self.steps:
            if step.node in step.layer._inbound_nodes:
                step.layer._inbound_nodes.remove(step.node)


def flatten(value: Any, what: str, owner: str) -> tuple[list[SymbolicTensor], str, list | None]:
    """The tensors of a structure (one tensor, a list or a dict), its kind and its keys."""
    if isinstance(value, SymbolicTensor):
        return [value], "single", None
    if isinstance(value, dict):
        tensors, structure, keys = list(value.values()), "dict", list(value.keys())
    elif isinstance(value, (list, tuple)):
        tensors, structure, keys = list(value), "list", None
    else:
        raise TypeError(
            f"{owner}: `{what}` must be a tensor from Input(...) or a layer call (or a list or dict "
            f"of them), received {value!r}."
        )
    for tensor in tensors:
        if not isinstance(tensor, SymbolicTensor):
            raise TypeError(
                f"{owner}: every entry of `{what}` must be a symbolic tensor (from Input(...) or a "
                f"layer call), received {tensor!r}."
            )
    if not tensors:
        raise ValueError(f"{owner}: `{what}` is empty.")
    return tensors, structure, keys


class CallGraph:
    """A graph and the structure of what it takes and returns: input keys (for a dict of inputs),
    and the outputs as one tensor, a list or a dict (with its keys)."""

    def __init__(self, graph: Graph, input_keys: list | None, output_structure: str,
                 output_keys: list | None) -> None:  # fmt: skip
        self.graph = graph
        self.input_keys = input_keys
        self.output_structure = output_structure
        self.output_keys = output_keys


# -- the graph's order -----------------------------------------------------------------------------


def _topological_nodes(
    out_tensors: list[SymbolicTensor], input_ids: dict[int, int]
) -> tuple[list[Node], dict[int, int]]:
    """The nodes needed for the outputs, each after the nodes it reads from (Keras's depth-first walk
    from the outputs), and each layer's first-visit index (for Keras's layer order)."""
    from neuralnet.layers.input_layer import InputLayer

    order: list[Node] = []
    visit_index: dict[int, int] = {}
    finished: set[int] = set()
    in_progress: set[int] = set()

    def start(tensor: SymbolicTensor) -> Node | None:
        """Enter the node behind `tensor`; the node when its inputs must be visited next."""
        node = tensor.node
        if node is None or id(node) in finished:
            return None
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
            return None
        in_progress.add(id(node))
        return node

    # Depth first with an explicit stack (a chain of thousands of layers is no recursion limit):
    # each entry is a node and how many of its inputs were visited.
    for tensor in out_tensors:
        first = start(tensor)
        stack = [] if first is None else [(first, 0)]
        while stack:
            node, visited = stack[-1]
            if visited < len(node.inputs):
                stack[-1] = (node, visited + 1)
                child = start(node.inputs[visited])
                if child is not None:
                    stack.append((child, 0))
            else:
                stack.pop()
                in_progress.discard(id(node))
                finished.add(id(node))
                order.append(node)
    return order, visit_index


def _keras_layer_order(order: list[Node], visit_index: dict[int, int]) -> list[Layer]:
    """Layers sorted as Keras sorts them (deepest first, then by first visit), which fixes the order
    of `layers` and of `get_weights()`."""
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


# -- layers made of layers -------------------------------------------------------------------------


def leaf_layers(layer: Layer) -> list[Layer]:
    """`layer` itself, or every layer with weights of its own that runs inside it, each once: for
    a layer or model with a graph, the layers its graphs run (whatever its attributes hold)."""
    found: dict[int, Layer] = {}
    pending = [layer]
    walked: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in walked:
            continue
        walked.add(id(current))
        inner = running_layers(current)
        if not inner or current.params or current.state:
            found.setdefault(id(current), current)
        pending.extend(reversed(inner))
    return list(found.values())


def running_layers(layer: Layer) -> list[Layer]:
    """The layers `layer`'s graphs run (both training modes), in order; the layers it is made of
    when it has no graph yet; empty for a layer with its own forward and backward."""
    if not layer._graphs:
        return layer.inner_layers()
    found: dict[int, Layer] = {}
    for spec in layer._graphs.values():
        for step in spec.graph.steps:
            found.setdefault(id(step.layer), step.layer)
    return list(found.values())


def _zero(grads: list[np.ndarray]) -> None:
    for grad in grads:
        grad.fill(0.0)


def is_library_code(obj: Any, *names: str) -> bool:
    """Whether each method `names` of `obj`'s class is neuralnet's own, not a user's override."""
    for name in names:
        method = getattr(type(obj), name, None)
        if method is None:
            return False
        module = getattr(getattr(method, "__func__", method), "__module__", None) or ""
        if not module.startswith("neuralnet."):
            return False
    return True
