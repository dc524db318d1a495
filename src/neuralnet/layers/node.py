"""The pieces of a model under construction: symbolic tensors and the nodes that connect them.

`Input(shape=(784,))` returns a `SymbolicTensor`; calling a layer on it records a `Node` (this layer,
these input tensors, these output tensors) and returns new symbolic tensors. `Model(inputs, outputs)`
then walks the nodes back from the outputs to get the graph it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from neuralnet.layers.layer import Layer

Shape = tuple[int | None, ...]


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
        raise TypeError(
            f"{self!r} is a placeholder in a model being defined; it holds no values. Build a "
            "Model(inputs, outputs) and call predict() to compute values."
        )


class Node:
    """One call of a layer in a graph: the tensors that went in and the tensors that came out."""

    def __init__(
        self, layer: Layer, inputs: list[SymbolicTensor], outputs: list[SymbolicTensor]
    ) -> None:
        self.layer = layer
        self.inputs = inputs
        self.outputs = outputs
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
