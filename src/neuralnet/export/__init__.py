"""Export to ONNX (the `[onnx]` extra), so that a trained model runs where neuralnet is not
installed: ONNX Runtime in a pipeline, C++, a web page, a GPU server.

    model.export("model.onnx", format="onnx")          # Keras 3's method
    neuralnet.export.to_onnx(model, "model.onnx", opset=17)

The file computes `model.predict` (inference mode: dropout and noise are identities, batch
normalization uses its moving statistics) in the model's float type, with a dynamic batch axis and
the model's input and output names. Nothing of onnx is imported by `import neuralnet`.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from neuralnet.export.onnx_graph import DEFAULT_OPSET, OnnxBuilder, ONNXExportError

__all__ = ["DEFAULT_OPSET", "ONNXExportError", "register_onnx_rule", "to_onnx"]


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "Export to ONNX needs the optional package onnx, which is not installed. Install it "
            "with: pip install 'neuralnet[onnx]'"
        ) from None
    return onnx


def register_onnx_rule(layer_class: type, rule: Any) -> None:
    """Teach the exporter a layer (or activation) class of your own.

    `rule(builder, layer, inputs) -> output` adds ONNX nodes with `builder.op(op_type, inputs,
    hint, **attributes)` and constants with `builder.const(array, hint)`, and returns the name of
    the layer's output (a list for several); `inputs` are the names of the layer's inputs. For an
    activation class the rule is `rule(builder, activation, x, hint) -> y`.
    """
    from neuralnet.activations import Activation
    from neuralnet.export import onnx_rules

    if isinstance(layer_class, type) and issubclass(layer_class, Activation):
        onnx_rules.ACTIVATION_RULES[layer_class] = rule
    else:
        onnx_rules.layer_rule_for(None)  # the library's rules first, so that this one wins
        onnx_rules.LAYER_RULES[layer_class] = rule


def to_onnx(model: Any, path: str | os.PathLike, opset: int = DEFAULT_OPSET) -> Any:
    """Write `model` as an ONNX file at `path` (atomically) and return the `onnx.ModelProto`.

    Args:
        model: A built model (Sequential, functional or subclassed).
        path: The file to write (`.onnx`).
        opset: The ONNX operator set version; `DEFAULT_OPSET` (17) unless a runtime needs another
            (13 at least: Softmax along one axis and ReduceSum's axes need it).

    Raises:
        ONNXExportError: A layer or activation without an export rule (named), or a model that is
            not built.
    """
    onnx = _import_onnx()
    from neuralnet.export import onnx_rules

    if opset < 13:
        raise ONNXExportError(f"to_onnx: opset {opset} is too old; 13 or newer is needed.")
    if not model.built:
        raise ONNXExportError(
            f"to_onnx: model {model.name!r} is not built; call it on data or give it an Input."
        )
    graph = model.call_graph(False).graph
    dtype = np.dtype(model.dtype)
    builder = OnnxBuilder(dtype, opset)
    input_names = [builder.name(name) for name in model.input_names]
    outputs = _export_graph(builder, graph, input_names, onnx_rules)
    output_names = [builder.name(name) for name in model.output_names]
    for source, name in zip(outputs, output_names):
        builder.nodes.append(builder.helper.make_node("Identity", [source], [name],
                                                      name=builder.name(f"{name}/Identity")))  # fmt: skip
    helper = builder.helper

    def value_info(name: str, shape: tuple[Any, ...]) -> Any:
        dims = ["batch" if i == 0 else (f"{name}_dim{i}" if d is None else int(d))
                for i, d in enumerate(shape)]  # fmt: skip
        return helper.make_tensor_value_info(name, builder.onnx_type, dims)

    onnx_graph = helper.make_graph(
        builder.nodes, model.name,
        [value_info(n, s) for n, s in zip(input_names, graph.input_shapes)],
        [value_info(n, s) for n, s in zip(output_names, graph.output_shapes)],
        initializer=builder.initializers,
    )  # fmt: skip
    from neuralnet import __version__

    proto = helper.make_model(onnx_graph, producer_name="neuralnet", producer_version=__version__,
                              opset_imports=[helper.make_opsetid("", opset)])  # fmt: skip
    proto.ir_version = min(proto.ir_version, 8 if opset <= 17 else proto.ir_version)
    onnx.checker.check_model(proto, full_check=True)
    from neuralnet.saving.atomic import atomic_write_bytes

    atomic_write_bytes(os.fspath(path), proto.SerializeToString())
    return proto


def _export_graph(
    builder: OnnxBuilder, graph: Any, input_names: list[str], rules: Any
) -> list[str]:
    """The nodes of every step of `graph` (nested models and layers made of layers included);
    the names of its outputs."""
    names = dict(zip(graph.input_slots, input_names))
    for step in graph.steps:
        layer = step.layer
        inputs = [names[slot] for slot in step.inputs]
        if step.composite:
            inner = layer.call_graph(False).graph if hasattr(layer, "call_graph") else (
                layer._graphs[False].graph)  # fmt: skip
            outputs = _export_graph(builder, inner, inputs, rules)
        else:
            rule = rules.layer_rule_for(layer)
            if rule is None:
                raise ONNXExportError(
                    f"Layer {layer.name!r} ({type(layer).__name__}) has no ONNX export rule. "
                    "Register one with neuralnet.export.register_onnx_rule"
                    f"({type(layer).__name__}, rule) (see the guide's 'Export to ONNX')."
                )
            builder.input_shapes = [tuple(t.shape) for t in step.node.inputs]
            result = rule(builder, layer, inputs)
            outputs = list(result) if isinstance(result, (list, tuple)) else [result]
        for slot, name in zip(step.outputs, outputs):
            names[slot] = name
    return [names[slot] for slot in graph.output_slots]
