"""The pieces of a model under construction: symbolic tensors and the nodes that connect them.

`Input(shape=(784,))` returns a `SymbolicTensor`; calling a layer on it records a `Node` (this layer,
these input tensors, these output tensors, and the `training` flag given at that call, if any) and
returns new symbolic tensors. `Model(inputs, outputs)` then walks the nodes back from the outputs to
get the graph it runs.

A symbolic tensor holds no values: NumPy math on it, or Python branching on its values, cannot become
part of a graph whose backward pass is written out layer by layer, and raises `TracingError` with the
way out (a `Layer` with its own `forward` and `backward`).

`graph_version()` is the one invalidation rule of every cached plan: it changes whenever any model's
graph is made or changed or any layer is frozen or unfrozen, and whatever was computed from a graph
(the parameters a training step updates, the resolved losses) is recomputed when it has changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from neuralnet.layers.layer import Layer

Shape = tuple[int | None, ...]

_GRAPH_VERSION = 0


def graph_version() -> int:
    """A number that changes whenever a graph is made or changed, or a layer is (un)frozen."""
    return _GRAPH_VERSION


def note_graph_change() -> None:
    """Record that a graph or a layer's trainability changed: every cached plan is now stale."""
    global _GRAPH_VERSION
    _GRAPH_VERSION += 1


class TracingError(TypeError):
    """An operation on a symbolic tensor that cannot become part of a graph of layers."""


_HOW_TO = (
    "neuralnet has no automatic differentiation: every step of a model is a layer with a "
    "written-out backward pass. Write this computation as a Layer subclass with forward() and "
    "backward() (see 'Your own layers' in docs/guide.md) and call that layer instead."
)


class SymbolicTensor:
    """A placeholder for an array in a model being defined: its shape (batch axis first, `None` when
    unknown) and dtype, and the node that will compute it."""

    def __init__(
        self,
        shape: Shape,
        dtype: Any = "float32",
        name: str | None = None,
        node: Node | None = None,
        index: int = 0,
    ) -> None:
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype).name
        self.name = name
        self.node = node
        self.index = index

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def layer(self) -> Layer | None:
        """The layer whose call produced this tensor."""
        return None if self.node is None else self.node.layer

    def __repr__(self) -> str:
        shape = "(" + ", ".join("None" if d is None else str(d) for d in self.shape)
        shape += ",)" if len(self.shape) == 1 else ")"
        return f"<SymbolicTensor shape={shape}, dtype={self.dtype}, name={self.name}>"

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise TracingError(
            f"{self!r} is a placeholder in a model being defined; it holds no values. Build a "
            "Model(inputs, outputs) and call predict() to compute values. If this happened inside "
            f"a model's call(): {_HOW_TO}"
        )

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        raise TracingError(
            f"NumPy's {ufunc.__name__} was applied to {self!r}, a symbolic tensor of a model being "
            f"defined (or traced from call()). {_HOW_TO}"
        )

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        raise TracingError(
            f"NumPy's {func.__name__} was applied to {self!r}, a symbolic tensor of a model being "
            f"defined (or traced from call()). {_HOW_TO}"
        )

    def __bool__(self) -> bool:
        raise TracingError(
            f"The truth value of {self!r} was asked for (Python branching on a tensor's values): "
            "a symbolic tensor holds no values while the model's graph is traced. Branch on "
            f"Python values (such as `training`) only. {_HOW_TO}"
        )

    def __float__(self) -> float:
        raise TracingError(f"{self!r} holds no values to convert to a float. {_HOW_TO}")

    def __len__(self) -> int:
        raise TracingError(
            f"{self!r} is symbolic; use `.shape` for its size (the batch size is None). {_HOW_TO}"
        )

    def __iter__(self) -> Any:
        raise TracingError(f"{self!r} is symbolic and cannot be iterated over. {_HOW_TO}")

    def __getitem__(self, key: Any) -> Any:
        raise TracingError(f"{self!r} is symbolic and cannot be indexed or sliced. {_HOW_TO}")

    def _merge(self, other: Any, layer_name: str, symbol: str) -> Any:
        if not isinstance(other, SymbolicTensor):
            raise TracingError(
                f"`{symbol}` between {self!r} and {other!r}: only two symbolic tensors can be "
                f"combined with `{symbol}` (it becomes a {layer_name} layer). For arithmetic with "
                f"numbers or arrays, {_HOW_TO[0].lower()}{_HOW_TO[1:]}"
            )
        from neuralnet.layers import merging

        return getattr(merging, layer_name)()([self, other])

    def __add__(self, other: Any) -> Any:
        return self._merge(other, "Add", "+")

    def __sub__(self, other: Any) -> Any:
        return self._merge(other, "Subtract", "-")

    def __mul__(self, other: Any) -> Any:
        return self._merge(other, "Multiply", "*")

    def __radd__(self, other: Any) -> Any:
        return self._merge(other, "Add", "+")

    def __rmul__(self, other: Any) -> Any:
        return self._merge(other, "Multiply", "*")

    def _unsupported(self, *args: Any) -> Any:
        raise TracingError(
            f"An arithmetic or comparison operator was applied to {self!r}, a symbolic tensor. "
            f"Only `a + b`, `a - b` and `a * b` between two symbolic tensors become layers. {_HOW_TO}"
        )

    __rsub__ = __truediv__ = __rtruediv__ = __pow__ = __rpow__ = __matmul__ = __rmatmul__ = (
        __neg__
    ) = __abs__ = __lt__ = __le__ = __gt__ = __ge__ = __floordiv__ = __mod__ = _unsupported
    __hash__ = object.__hash__


class Node:
    """One call of a layer in a graph: the tensors that went in and the tensors that came out.

    `training` is what the call was given: `None` follows the model (training in `fit`, inference
    in `predict`); `True` or `False` fixes the mode of that call, as Keras's
    `base_model(x, training=False)` keeps a pretrained model in inference mode while fine-tuning.
    """

    def __init__(
        self,
        layer: Layer,
        inputs: list[SymbolicTensor],
        outputs: list[SymbolicTensor],
        training: bool | None = None,
    ) -> None:
        self.layer = layer
        self.inputs = inputs
        self.outputs = outputs
        self.training = None if training is None else bool(training)
        for index, tensor in enumerate(outputs):
            tensor.node = self
            tensor.index = index

    @property
    def parents(self) -> list[Node]:
        """The nodes that produced this node's inputs."""
        return [t.node for t in self.inputs if t.node is not None]

    def __repr__(self) -> str:
        return f"<Node {self.layer.name}: {len(self.inputs)} in, {len(self.outputs)} out>"


def is_symbolic(x: Any) -> bool:
    """Whether `x` is a symbolic tensor or a list/tuple holding one."""
    if isinstance(x, SymbolicTensor):
        return True
    if isinstance(x, (list, tuple)):
        return any(is_symbolic(item) for item in x)
    return False
