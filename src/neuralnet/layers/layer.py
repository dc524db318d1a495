"""The Layer contract: `forward` maps x to y, `backward` maps dJ/dy to dJ/dx and fills the gradients.

Every layer of neuralnet, and every layer a user writes, is a subclass of `Layer`:

- `build(input_shape)` creates the parameters (with `add_weight`) once the input shape is known;
- `forward(x, training=False)` returns y and keeps what `backward` needs;
- `backward(grad_y)` writes dJ/dparam into `self.grads` and returns dJ/dx, using only what
  `forward` kept: it never recomputes the forward pass and never writes into an array it received.

Gradients are of the cost J, the batch mean of the loss, so they already include the 1/N. The model,
not the layer, adds regularization penalties and their gradients, so that each `backward` is exactly
its layer's own chain rule.

A layer may be called several times in a graph (shared weights). Each call keeps its own forward
values: the graph captures what `forward` kept on the layer (attributes, and the dicts and lists they
hold) after each call and puts it back before that call's `backward`, and sums the gradients of the
calls. Facts that belong to one model or one call (is dJ/dx needed? which `training` mode?) are set
by the graph for that call; they never stay on the layer.

A layer may instead be written with `call(inputs)` composing other layers, as in Keras: it is traced
into a graph of those layers when first built, and its forward and backward are theirs.
"""

from __future__ import annotations

import contextlib
import inspect
import math
from collections.abc import Iterator
from typing import Any, Self

import numpy as np

from neuralnet import backend
from neuralnet import initializers as initializers_module
from neuralnet import regularizers as regularizers_module
from neuralnet._naming import to_snake_case, unique_name
from neuralnet._registry import Registry
from neuralnet._validation import normalize_shape
from neuralnet.layers.node import Node, Shape, SymbolicTensor, is_symbolic, note_graph_change
from neuralnet.variable import Variable

LAYERS = Registry("layer")


def shape_str(shape: Any) -> str:
    """`(None, 784)` for a shape tuple, with `None` for unknown sizes."""
    if isinstance(shape, list):
        return "[" + ", ".join(shape_str(s) for s in shape) + "]"
    dims = ["None" if d is None else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


# JSON-safe values that a user's layer or model may take in __init__ and get back from get_config
# without writing get_config (Keras 3's automatic config).
_CONFIG_TYPES = (str, int, float, bool, type(None))


def _json_safe(value: Any) -> bool:
    if isinstance(value, _CONFIG_TYPES):
        return True
    if isinstance(value, (list, tuple)):
        return all(_json_safe(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_safe(v) for k, v in value.items())
    return False


def _is_library_class(cls: type) -> bool:
    return cls.__module__.startswith("neuralnet.")


class Layer:
    """A step of the network: `forward` maps x to y, `backward` maps dJ/dy to dJ/dx.

    Args:
        name: A name unique in the model; `dense`, `dense_1`, ... when `None`, as Keras.
        trainable: Whether the optimizer updates this layer's parameters.
        dtype: The float type of the parameters; `neuralnet.config.floatx()` when `None`.
        seed: Seed of this layer's random numbers (initial weights, dropout masks). When `None`
            the layer draws a seed from the global source that `neuralnet.utils.set_random_seed`
            sets, so a seeded script is repeatable either way.
        input_shape: The shape of one sample, on the first layer of a `Sequential` (Keras 2 style).
        batch_size: The batch size, with `input_shape`.

    Attributes:
        params: The trained arrays by name (`kernel`, `bias`, ...), updated in place by the optimizer.
        grads: dJ/dparam for each entry of `params`, written by `backward`.
        state: Arrays saved with the model but not trained (BatchNormalization's moving statistics).
        needs_input_gradient: Whether the caller reads the dJ/dx that `backward` returns. The graph
            sets it to False for the length of one `backward` call when nothing reads dJ/dx of that
            call (a layer fed only by the model's inputs); `backward` may then return `None` and
            skip that work. It is True at every other time.
    """

    #: True for layers whose `forward` takes a list of arrays (Add, Concatenate, ...).
    multi_input = False
    needs_input_gradient = True

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        instance = super().__new__(cls)
        instance._auto_config = None
        if not _is_library_class(_defining_class(cls, "__init__")):
            instance._auto_config = _constructor_arguments(cls, args, kwargs)
        return instance

    def __init__(
        self,
        *,
        name: str | None = None,
        trainable: bool = True,
        dtype: Any = None,
        seed: int | None = None,
        input_shape: Any = None,
        batch_size: int | None = None,
        batch_input_shape: Any = None,
        input_dim: int | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}() got unexpected keyword argument(s): "
                f"{', '.join(sorted(kwargs))}."
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: `name` must be a string, received {name!r}.")
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self._dtype = None if dtype is None else np.dtype(dtype).name
        self.seed = seed
        self.built = False
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.state: dict[str, np.ndarray] = {}
        self.regularizers: dict[str, regularizers_module.Regularizer] = {}
        self.activity_regularizer: regularizers_module.Regularizer | None = None
        self._inbound_nodes: list[Node] = []
        self._rng: np.random.Generator | None = None
        self._build_input_shape: Any = None
        self._build_dtype: str | None = None  # floatx() when built, for a layer without `dtype`
        # For a layer made of layers: its graphs by training mode, and the one last run.
        self._graphs: dict[bool, Any] = {}
        self._graph_used: Any = None
        self._variable_views: dict[str, Variable] = {}  # model.weights, by path

        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            self._batch_input_shape: Shape | None = normalize_shape(
                tuple(batch_input_shape)[1:], "batch_input_shape", self
            )
            self._batch_input_shape = (batch_input_shape[0],) + self._batch_input_shape
        elif input_shape is not None:
            self._batch_input_shape = (batch_size,) + normalize_shape(
                input_shape, "input_shape", self
            )
        else:
            self._batch_input_shape = None

    # -- what subclasses write ------------------------------------------------------------------

    def build(self, input_shape: Any) -> None:
        """Create the parameters for inputs of `input_shape` (batch axis first, may be `None`)."""
        self.built = True

    def forward(self, x: Any, *, training: bool = False) -> Any:
        """Compute y from x (a list of arrays for multi-input layers) and keep what backward needs.

        A layer written with `call()` runs the graph traced from it."""
        graph = self._graphs.get(bool(training)) if self._graphs else None
        if graph is None:
            raise NotImplementedError(
                f"{type(self).__name__} does not implement forward() (nor call(), composing other "
                "layers)."
            )
        self._graph_used = graph.graph
        outputs = graph.graph.forward(list(x) if self.multi_input else [x], training)
        return outputs[0] if len(outputs) == 1 else list(outputs)

    def backward(self, grad_y: np.ndarray) -> Any:
        """From dJ/dy, fill `self.grads` and return dJ/dx (a list for multi-input layers)."""
        graph = self._graph_used
        if graph is None:
            raise NotImplementedError(f"{type(self).__name__} does not implement backward().")
        grads = list(grad_y) if isinstance(grad_y, (list, tuple)) else [grad_y]
        input_grads = graph.backward(grads, input_gradients=self.needs_input_gradient)
        if not self.needs_input_gradient:
            return None
        return input_grads if self.multi_input else input_grads[0]

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The output shape for inputs of `input_shape`; the same shape unless overridden."""
        if self._graphs:
            shapes = self._graphs[False].graph.output_shapes
            return shapes[0] if len(shapes) == 1 else shapes
        return input_shape

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments, JSON-safe, so that `from_config` rebuilds the layer.

        A user's subclass that does not write `get_config` gets the arguments its `__init__` was
        called with, when they are plain values (numbers, strings, lists and dicts of them)."""
        # The dtype always, as Keras: a layer built under float64 is rebuilt in float64.
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable,
                                  "dtype": self.dtype}  # fmt: skip
        if self.seed is not None:
            config["seed"] = self.seed
        if self._batch_input_shape is not None and not self._inbound_nodes:
            config["batch_input_shape"] = list(self._batch_input_shape)
        cls = type(self)
        config_class = _defining_class(cls, "get_config")
        if not _is_library_class(config_class) or _is_library_class(
            _defining_class(cls, "__init__")
        ):
            return config
        if self._auto_config is None:
            if config_class.__name__ not in ("Layer", "Model"):
                return config  # a library layer's own get_config (Dense's, ...) says the rest
            raise NotImplementedError(
                f"{cls.__name__} {self.name!r} was created with __init__ arguments that are not "
                "plain values (numbers, strings, lists or dicts of them), so its config cannot be "
                f"made automatically. Write {cls.__name__}.get_config() returning the arguments "
                "that rebuild it (and from_config() if they need converting)."
            )
        return _merge_auto_config(cls, config, self._auto_config)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Self:
        return cls(**config)

    # -- layers made of layers ------------------------------------------------------------------

    def inner_layers(self) -> list[Layer]:
        """The layers this layer is made of, each once (a model's layers, or those a layer
        written with `call()` composes); empty for a layer with its own forward and backward."""
        if self._graphs or (not self.built and _defines_call(self)):
            from neuralnet.layers.tracing import tracked_layers

            return tracked_layers(self)
        return []

    def graph_in_use(self) -> Any:
        """The graph this layer's last forward pass ran, for a layer made of layers; else None."""
        return self._graph_used

    # -- building -------------------------------------------------------------------------------

    @property
    def rng(self) -> np.random.Generator:
        """This layer's random source: from `seed` when given, else from the global seed source."""
        if self._rng is None:
            self._rng = backend.make_rng(self.seed)
        return self._rng

    @property
    def existing_rng(self) -> np.random.Generator | None:
        """`rng` if it was made already, else None: reading `rng` would make one (drawing a seed
        from the global source), which a backup of the random state must not do."""
        return self._rng

    @rng.setter
    def rng(self, value: np.random.Generator) -> None:
        self._rng = value

    @property
    def dtype(self) -> str:
        """The float type of this layer's weights (Keras's `layer.dtype`): `dtype` when given, else
        `floatx()` as it was when the layer was built (or is now, before that)."""
        return self._dtype or self._build_dtype or backend.floatx()

    @property
    def compute_dtype(self) -> str:
        """The float type of this layer's outputs; its inputs are cast to it. The same as `dtype`
        (neuralnet has no mixed precision)."""
        return self.dtype

    @property
    def variable_dtype(self) -> str:
        """The float type of this layer's weights: the same as `dtype`."""
        return self.dtype

    def add_weight(
        self,
        name: str,
        shape: tuple[int, ...],
        initializer: Any = "glorot_uniform",
        regularizer: Any = None,
        trainable: bool = True,
        dtype: Any = None,
    ) -> np.ndarray:
        """Create a parameter (trainable) or a state array (not trained) and return it.

        Args:
            name: Its key in `params` or `state`, e.g. `"kernel"`.
            shape: Its shape.
            initializer: Name or `Initializer` of its initial values.
            regularizer: Name or `Regularizer` whose penalty the model adds to the cost.
            trainable: False for saved, untrained arrays such as moving statistics.
        """
        _charge_weight_budget(self, name, shape)
        init = initializers_module.get(initializer)
        value = init(tuple(shape), dtype or self.compute_dtype, rng=self.rng)
        if trainable:
            self.params[name] = value
            self.grads[name] = np.zeros_like(value)
            reg = regularizers_module.get(regularizer)
            if reg is not None:
                self.regularizers[name] = reg
        else:
            self.state[name] = value
        return value

    def ensure_built(self, input_shape: Any) -> None:
        """Build the layer for `input_shape` if it is not built yet (tracing `call()` for a layer
        written with it)."""
        if not self.built:
            self._build_dtype = self.compute_dtype
            if _defines_call(self):
                self.multi_input = isinstance(input_shape, list)
            self.build(input_shape)
            self.built = True
            self._build_input_shape = input_shape
            if _defines_call(self):
                from neuralnet.layers.tracing import trace

                try:
                    self._graphs = trace(self, input_shape)
                except BaseException:
                    self.built = False  # a failed trace leaves the layer unbuilt, not half-made
                    raise

    # -- calling --------------------------------------------------------------------------------

    def __call__(self, inputs: Any, training: bool | None = None, **kwargs: Any) -> Any:
        """On symbolic tensors, add this layer to the graph being defined (a `training` given here
        is kept by that call); on arrays, compute the output (in inference mode unless
        `training=True`)."""
        if kwargs:
            raise TypeError(
                f"{type(self).__name__} {self.name!r} was called with unexpected keyword "
                f"argument(s) {', '.join(sorted(kwargs))}; a layer takes inputs and `training`."
            )
        if not self.built and _defines_call(self):
            self.multi_input = isinstance(inputs, (list, tuple))
        if is_symbolic(inputs):
            return self._call_symbolic(inputs, training)
        if self.multi_input:
            arrays = [self._as_array(x) for x in inputs]
            self.ensure_built([a.shape for a in arrays])
        else:
            arrays = self._as_array(inputs)
            self.ensure_built(arrays.shape)
            self.check_input_shape(arrays.shape)
        return self.forward(arrays, training=bool(training))

    def _as_array(self, x: Any) -> np.ndarray:
        array = np.asarray(x)
        if array.dtype != self.compute_dtype and array.dtype.kind in "biuf":
            array = array.astype(self.compute_dtype)
        return array

    def _call_symbolic(self, inputs: Any, training: bool | None = None) -> Any:
        if self.multi_input:
            if not isinstance(inputs, (list, tuple)) or not all(
                isinstance(t, SymbolicTensor) for t in inputs
            ):
                raise TypeError(
                    f"{type(self).__name__} {self.name!r} takes a list of tensors, received {inputs!r}."
                )
            tensors = list(inputs)
            shape: Any = [t.shape for t in tensors]
        else:
            if not isinstance(inputs, SymbolicTensor):
                raise TypeError(
                    f"{type(self).__name__} {self.name!r} takes one tensor, received {inputs!r}."
                )
            tensors = [inputs]
            shape = inputs.shape
        self.ensure_built(shape)
        if not self.multi_input:
            self.check_input_shape(shape)
        output_shape = self.compute_output_shape(shape)
        many = isinstance(output_shape, list)
        shapes = output_shape if many else [output_shape]
        outputs = [
            SymbolicTensor(
                s, self.compute_dtype, name=f"{self.name}" if not many else f"{self.name}_{i}"
            )
            for i, s in enumerate(shapes)
        ]
        node = Node(self, tensors, outputs, training=training)
        self._inbound_nodes.append(node)
        return outputs if many else outputs[0]

    def check_input_shape(self, shape: Shape) -> None:
        """Raise a ValueError when inputs of `shape` do not fit the shape this layer was built for."""
        expected = self._build_input_shape
        if expected is None or isinstance(expected, list):
            return
        if len(shape) != len(expected) or any(
            e is not None and s is not None and e != s for e, s in zip(expected[1:], shape[1:])
        ):
            # The batch size is never checked, so it is shown as None rather than the first call's.
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} expected inputs of shape "
                f"{shape_str((None, *expected[1:]))}, received shape {shape_str(tuple(shape))}."
            )

    # -- weights --------------------------------------------------------------------------------

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        # As in Keras, freezing a layer freezes what it is made of.
        for layer in walk_layers(self):
            layer._trainable = bool(value)
        note_graph_change()

    def weight_entries(self) -> list[WeightEntry]:
        """Every weight of this layer and of the layers it is made of, each array once, in Keras's
        order: (path, array, trainable, owning layer, key)."""
        entries: list[WeightEntry] = []
        _collect_weights(self, "", False, set(), entries, top=True)
        return entries

    def _variables(self, which: bool | None = None) -> list[Variable]:
        """The weights as Variables: the same object for the same array and path from one call to
        the next, as Keras returns the same variables."""
        views = self._variable_views
        found = []
        for entry in self.weight_entries():
            if which is not None and entry.trainable != which:
                continue
            path = f"{self.name}/{entry.path}"
            view = views.get(path)
            if view is None or view._array is not entry.array:
                view = views[path] = Variable(entry.array, path, entry.trainable)
            view.trainable = entry.trainable
            found.append(view)
        return found

    @property
    def weights(self) -> list[Variable]:
        """Every weight, Keras's order: parameters, then state (then those of inner layers), as
        `Variable`s: views of the arrays with Keras's `name`, `path` and `numpy()`."""
        return self._variables()

    @property
    def weight_names(self) -> list[str]:
        """`layer_name/weight_name` for each array of `weights`, in the same order."""
        return [f"{self.name}/{entry.path}" for entry in self.weight_entries()]

    @property
    def trainable_weights(self) -> list[Variable]:
        return self._variables(True)

    @property
    def non_trainable_weights(self) -> list[Variable]:
        return self._variables(False)

    def get_weights(self) -> list[np.ndarray]:
        """Copies of `weights`, as plain arrays."""
        return [np.array(entry.array, copy=True) for entry in self.weight_entries()]

    def set_weights(self, weights: list[Any]) -> None:
        """Copy `weights` (in the order of `get_weights`) into this layer's arrays, in place."""
        entries = self.weight_entries()
        weights = list(weights)
        if len(weights) != len(entries):
            names = ", ".join(f"{self.name}/{e.path}" for e in entries) or "none"
            raise ValueError(
                f"{type(self).__name__} {self.name!r} has {len(entries)} weight arrays ({names}), "
                f"but set_weights received {len(weights)}."
            )
        arrays = [np.asarray(w) for w in weights]
        for entry, value in zip(entries, arrays):
            if entry.array.shape != value.shape:
                raise ValueError(
                    f"Weight {self._weight_label(entry.path)!r} has shape {entry.array.shape}, but "
                    f"set_weights received an array of shape {value.shape}."
                )
        for entry, value in zip(entries, arrays):
            np.copyto(entry.array, value, casting="unsafe")

    def _weight_label(self, path: str) -> str:
        """How an error names one of this layer's weights."""
        return f"{self.name}/{path}"

    def count_params(self) -> int:
        """The number of scalars in all weight arrays (trainable or not)."""
        return sum(int(math.prod(entry.array.shape)) for entry in self.weight_entries())

    # -- regularization -------------------------------------------------------------------------

    @property
    def losses(self) -> list[float]:
        """The regularization penalties of this layer's trained parameters (Keras's `layer.losses`;
        a frozen layer's parameters are not trained, so they add no penalty)."""
        return [
            entry.owner.regularizers[entry.key](entry.array)
            for entry in self.weight_entries()
            if entry.trainable
            and entry.key in entry.owner.regularizers
            and entry.array is entry.owner.params.get(entry.key)
        ]

    def regularization_penalty(self) -> float:
        """Σ of `losses`: the penalties of this layer's trained parameters."""
        return float(sum(self.losses))

    def add_regularization_gradients(self) -> None:
        """Add each trained parameter's penalty gradient to its gradient, in place (what a
        training step does for every layer of the model)."""
        if self.trainable:
            for name, regularizer in self.regularizers.items():
                regularizer.add_gradient(self.params[name], self.grads[name])

    # -- the graph ------------------------------------------------------------------------------

    @property
    def input(self) -> SymbolicTensor | list[SymbolicTensor]:
        """The symbolic input of this layer's first call in a graph."""
        node = self._first_node("input")
        return node.inputs if self.multi_input else node.inputs[0]

    @property
    def output(self) -> SymbolicTensor | list[SymbolicTensor]:
        """The symbolic output of this layer's first call in a graph."""
        node = self._first_node("output")
        return node.outputs[0] if len(node.outputs) == 1 else node.outputs

    def _first_node(self, what: str) -> Node:
        if not self._inbound_nodes:
            raise AttributeError(
                f"Layer {self.name!r} has no {what} yet: it has not been called on a tensor of a model."
            )
        return self._inbound_nodes[0]

    @property
    def input_shape(self) -> Any:
        """The shape the layer was built for (batch axis first)."""
        if self._build_input_shape is None:
            raise AttributeError(f"Layer {self.name!r} is not built yet, so it has no input shape.")
        return self._build_input_shape

    @property
    def output_shape(self) -> Any:
        """The shape of this layer's output (batch axis first)."""
        return self.compute_output_shape(self.input_shape)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}, built={self.built}>"


class WeightEntry:
    """One weight array of a layer: its path (`dense_1/kernel`), whether it is trained, and the
    layer and key it belongs to (`owner.params[key]` or `owner.state[key]`)."""

    __slots__ = ("array", "key", "owner", "path", "trainable")

    def __init__(self, path: str, array: np.ndarray, trainable: bool, owner: Layer, key: str):
        self.path = path
        self.array = array
        self.trainable = trainable
        self.owner = owner
        self.key = key


def _collect_weights(layer: Layer, prefix: str, frozen: bool, seen: set[int],
                     entries: list[WeightEntry], top: bool = False) -> None:  # fmt: skip
    """Keras's order: a layer's own parameters, then its state, then its inner layers' weights."""
    frozen = frozen or not layer.trainable
    own_prefix = prefix if top else f"{prefix}{layer.name}/"
    if id(layer) not in seen:
        seen.add(id(layer))
        for key, array in layer.params.items():
            entries.append(WeightEntry(f"{own_prefix}{key}", array, not frozen, layer, key))
        for key, array in layer.state.items():
            entries.append(WeightEntry(f"{own_prefix}{key}", array, False, layer, key))
    for inner in layer.inner_layers():
        if id(inner) not in seen:  # a layer met before was walked then (and cycles end here)
            _collect_weights(inner, own_prefix, frozen, seen, entries)


def walk_layers(layer: Layer) -> list[Layer]:
    """`layer` and every layer it is made of, at any depth, each once (cycles end)."""
    found: dict[int, Layer] = {}
    pending = [layer]
    while pending:
        current = pending.pop()
        if id(current) in found:
            continue
        found[id(current)] = current
        pending.extend(reversed(current.inner_layers()))
    return list(found.values())


def _defines_call(layer: Layer) -> bool:
    cls = type(layer)
    return getattr(cls, "call", None) is not None and cls.forward is Layer.forward


def _defining_class(cls: type, name: str) -> type:
    for klass in cls.__mro__:
        if name in vars(klass):
            return klass
    return object


def _constructor_arguments(cls: type, args: tuple, kwargs: dict) -> dict[str, Any] | None:
    """The arguments `cls(*args, **kwargs)` was called with, by name, when all are plain values."""
    try:
        bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
    except (TypeError, ValueError):
        return None
    bound.apply_defaults()
    arguments: dict[str, Any] = {}
    for index, (name, value) in enumerate(bound.arguments.items()):
        if index == 0:
            continue  # self
        parameter = bound.signature.parameters[name]
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            arguments.update(value)
        elif parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                return None
        else:
            arguments[name] = value
    return arguments if _json_safe(arguments) else None


def _merge_auto_config(
    cls: type, base: dict[str, Any], arguments: dict[str, Any]
) -> dict[str, Any]:
    """The base config and the constructor's arguments; base keys that `__init__` cannot take
    (it has no **kwargs) are left out, so that `from_config` can pass the config back."""
    config = {**arguments, **base}
    parameters = inspect.signature(cls.__init__).parameters
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    if not takes_kwargs:
        for key in set(base) - set(parameters):
            config.pop(key, None)
    return config


# While a model file is loaded: how many more weight values its layers may allocate (the number the
# file holds), so that a config asking for absurd sizes fails before it takes memory.
_weight_budget: list[int] = []


@contextlib.contextmanager
def weight_budget(values: int) -> Iterator[None]:
    """Within the block, `add_weight` refuses to allocate more than `values` values in all."""
    _weight_budget.append(int(values))
    try:
        yield
    finally:
        _weight_budget.pop()


def _charge_weight_budget(layer: Layer, name: str, shape: Any) -> None:
    if not _weight_budget:
        return
    try:
        size = math.prod(int(d) for d in shape)
    except (TypeError, ValueError):
        size = -1
    if size < 0 or size > _weight_budget[-1]:
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r} asks for a weight {name!r} of shape "
            f"{tuple(shape)}, larger than the weights the file holds."
        )
    _weight_budget[-1] -= size


def register_layer(*names: str):
    """Decorator registering a Layer subclass under `names` (and its class name), so that models
    using it can be saved and loaded."""
    return LAYERS.register(*names)
