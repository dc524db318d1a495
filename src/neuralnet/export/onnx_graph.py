"""Building an ONNX graph from a model's graph of layer calls (the `[onnx]` extra).

`OnnxBuilder` collects nodes and constant tensors; each layer class has an export rule (in
`onnx_rules.py`, or registered by a user with `neuralnet.export.register_onnx_rule`) that adds the
ONNX nodes computing its inference-mode output from the names of its inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

#: The ONNX opset written unless asked otherwise: 17 is read by ONNX Runtime 1.13 (2022) and newer,
#: TensorRT 8.5+, OpenVINO and onnxruntime-web, and has every operator these layers need (GELU is
#: composed from Erf; opset 20's Gelu operator would shut out older runtimes for nothing).
DEFAULT_OPSET = 17


class ONNXExportError(ValueError):
    """A model, layer or setting that has no ONNX form; the message says which and why."""


class OnnxBuilder:
    """The nodes and constants of one ONNX graph, in the model's float type."""

    def __init__(self, dtype: np.dtype, opset: int) -> None:
        from onnx import TensorProto, helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.dtype = np.dtype(dtype)
        self.onnx_type = TensorProto.DOUBLE if self.dtype == np.float64 else TensorProto.FLOAT
        self.opset = opset
        self.nodes: list[Any] = []
        #: The shapes (batch axis None) of the inputs of the layer whose rule is running.
        self.input_shapes: list[tuple[Any, ...]] = []
        self.initializers: list[Any] = []
        self._used: set[str] = set()

    def name(self, hint: str) -> str:
        """A name not used yet in this graph, from `hint`."""
        base = "".join(c if c.isalnum() or c in "_./" else "_" for c in hint) or "t"
        name, count = base, 1
        while name in self._used:
            count += 1
            name = f"{base}_{count}"
        self._used.add(name)
        return name

    def const(self, value: Any, hint: str, dtype: Any = None) -> str:
        """A constant tensor (in the model's float type unless `dtype` is given)."""
        array = np.asarray(value, dtype=dtype or self.dtype)
        name = self.name(hint)
        self.initializers.append(self.numpy_helper.from_array(array, name))
        return name

    def ints(self, values: Any, hint: str) -> str:
        """A constant int64 tensor (shapes, axes, pads)."""
        return self.const(np.asarray(values, dtype=np.int64), hint, dtype=np.int64)

    def op(self, op_type: str, inputs: list[str], hint: str, outputs: int = 1,
           **attributes: Any) -> Any:  # fmt: skip
        """Add a node; its output name (or list of names for `outputs` > 1)."""
        names = [self.name(f"{hint}/{op_type}" if outputs == 1 else f"{hint}/{op_type}_{i}")
                 for i in range(outputs)]  # fmt: skip
        node = self.helper.make_node(op_type, inputs, names, name=self.name(f"{hint}/{op_type}_node"),
                                     **attributes)  # fmt: skip
        self.nodes.append(node)
        return names[0] if outputs == 1 else names


Rule = Callable[[OnnxBuilder, Any, list[str]], Any]
