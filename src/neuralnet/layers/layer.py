"""The Layer contract: `forward` maps x to y, `backward` maps dJ/dy to dJ/dx and fills the gradients.

Every layer of neuralnet, and every layer a user writes, is a subclass of `Layer`:

- `build(input_shape)` creates the parameters (with `add_weight`) once the input shape is known;
- `forward(x, training=False)` returns y and keeps what `backward` needs;
- `backward(grad_y)` writes dJ/dparam into `self.grads` and returns dJ/dx, using only what
  `forward` kept: it never recomputes the forward pass and never writes into an array it received.

Gradients are of the cost J, the batch mean of the loss, so they already include the 1/N. The model,
not the layer, adds regularization penalties and their gradients, so that each `backward` is exactly
its layer's own chain rule.
"""

from __future__ import annotations

import math
from typing import Any, Self

import numpy as np

from neuralnet import backend
from neuralnet import initializers as initializers_module
from neuralnet import regularizers as regularizers_module
from neuralnet._naming import to_snake_case, unique_name
from neuralnet._registry import Registry
from neuralnet._validation import normalize_shape
from neuralnet.layers.node import Node, Shape, SymbolicTensor, is_symbolic

LAYERS = Registry("layer")


def shape_str(shape: Any) -> str:
    """`(None, 784)` for a shape tuple, with `None` for unknown sizes."""
    if isinstance(shape, list):
        return "[" + ", ".join(shape_str(s) for s in shape) + "]"
    dims = ["None" if d is None else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


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
    """

    #: True for layers whose `forward` takes a list of arrays (Add, Concatenate, ...).
    multi_input = False

    # Bumped whenever any layer's `trainable` changes, so that models rebuild their list of
    # trained parameters before the next step (a cheap integer comparison per step).
    _trainable_version = 0

    @classmethod
    def _bump_trainable_version(cls) -> None:
        Layer._trainable_version += 1

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
        self.dtype = None if dtype is None else np.dtype(dtype).name
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
        # Set by the model for layers fed only by model inputs: their dJ/dx is never used.
        self._skip_input_gradient = False

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
        """Compute y from x (a list of arrays for multi-input layers) and keep what backward needs."""
        raise NotImplementedError(f"{type(self).__name__} does not implement forward().")

    def backward(self, grad_y: np.ndarray) -> Any:
        """From dJ/dy, fill `self.grads` and return dJ/dx (a list for multi-input layers)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement backward().")

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The output shape for inputs of `input_shape`; the same shape unless overridden."""
        return input_shape

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments, JSON-safe, so that `from_config` rebuilds the layer."""
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        if self.dtype is not None:
            config["dtype"] = self.dtype
        if self.seed is not None:
            config["seed"] = self.seed
        if self._batch_input_shape is not None and not self._inbound_nodes:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Self:
        return cls(**config)

    # -- building -------------------------------------------------------------------------------

    @property
    def rng(self) -> np.random.Generator:
        """This layer's random source: from `seed` when given, else from the global seed source."""
        if self._rng is None:
            self._rng = backend.make_rng(self.seed)
        return self._rng

    @rng.setter
    def rng(self, value: np.random.Generator) -> None:
        self._rng = value

    @property
    def compute_dtype(self) -> str:
        """The float type of this layer's parameters and outputs: `dtype`, else `floatx()` as it
        was when the layer was built (so that its inputs are cast to its weights' type)."""
        return self.dtype or self._build_dtype or backend.floatx()

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
        """Build the layer for `input_shape` if it is not built yet."""
        if not self.built:
            self._build_dtype = self.compute_dtype
            self.build(input_shape)
            self.built = True
            self._build_input_shape = input_shape

    # -- calling --------------------------------------------------------------------------------

    def __call__(self, inputs: Any, training: bool | None = None) -> Any:
        """On symbolic tensors, add this layer to the graph being defined; on arrays, compute the
        output (in inference mode unless `training=True`)."""
        if is_symbolic(inputs):
            return self._call_symbolic(inputs)
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

    def _call_symbolic(self, inputs: Any) -> Any:
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
        node = Node(self, tensors, outputs)
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
        self._trainable = bool(value)
        Layer._bump_trainable_version()

    @property
    def weights(self) -> list[np.ndarray]:
        """All arrays, Keras's order: parameters, then state."""
        return list(self.params.values()) + list(self.state.values())

    @property
    def weight_names(self) -> list[str]:
        """`layer_name/weight_name` for each array of `weights`, in the same order."""
        return [f"{self.name}/{key}" for key in list(self.params) + list(self.state)]

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        return list(self.params.values()) if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        frozen = [] if self.trainable else list(self.params.values())
        return frozen + list(self.state.values())

    def get_weights(self) -> list[np.ndarray]:
        """Copies of `weights`."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights: list[Any]) -> None:
        """Copy `weights` (in the order of `get_weights`) into this layer's arrays, in place."""
        own = self.weights
        names = self.weight_names
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(
                f"Layer {self.name!r} has {len(own)} weight arrays ({', '.join(names) or 'none'}), "
                f"but set_weights received {len(weights)}."
            )
        arrays = [np.asarray(w) for w in weights]
        for name, target, value in zip(names, own, arrays):
            if target.shape != value.shape:
                raise ValueError(
                    f"Weight {name!r} has shape {target.shape}, but set_weights received an array "
                    f"of shape {value.shape}."
                )
        for target, value in zip(own, arrays):
            np.copyto(target, value, casting="unsafe")

    def count_params(self) -> int:
        """The number of scalars in all weight arrays (trainable or not)."""
        return sum(int(math.prod(w.shape)) for w in self.weights)

    # -- regularization -------------------------------------------------------------------------

    @property
    def losses(self) -> list[float]:
        """The regularization penalties of this layer's parameters (Keras's `layer.losses`)."""
        return [reg(self.params[name]) for name, reg in self.regularizers.items()]

    def regularization_penalty(self) -> float:
        """Σ of the penalties of this layer's regularized parameters."""
        return float(sum(reg(self.params[name]) for name, reg in self.regularizers.items()))

    def add_regularization_gradients(self) -> None:
        """Add each penalty's gradient to its parameter's gradient, in place."""
        for name, reg in self.regularizers.items():
            reg.add_gradient(self.params[name], self.grads[name])

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


def register_layer(*names: str):
    """Decorator registering a Layer subclass under `names` (and its class name), so that models
    using it can be saved and loaded."""
    return LAYERS.register(*names)
