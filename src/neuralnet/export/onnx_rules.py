"""The ONNX form of each activation and layer, at inference (dropout and noise are identities,
batch normalization uses its moving statistics).

A rule takes the builder, the layer (or activation) and the names of its inputs, adds nodes and
returns the name of its output (a list for several). Activations whose formula ONNX has no single
operator for (gelu, silu, a ReLU with a threshold) are written from ONNX operators, following the
NumPy code of `neuralnet.activations` step by step.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neuralnet import activations as A
from neuralnet.export.onnx_graph import OnnxBuilder, ONNXExportError

ACTIVATION_RULES: dict[type, Any] = {}
LAYER_RULES: dict[type, Any] = {}


def activation_rule(*classes: type):
    def register(function):
        for cls in classes:
            ACTIVATION_RULES[cls] = function
        return function

    return register


def layer_rule(*classes: type):
    def register(function):
        for cls in classes:
            LAYER_RULES[cls] = function
        return function

    return register


def apply_activation(b: OnnxBuilder, activation: Any, x: str, hint: str) -> str:
    """The nodes of `activation` on `x` (nothing for `linear`)."""
    rule = next(
        (ACTIVATION_RULES[cls] for cls in type(activation).__mro__ if cls in ACTIVATION_RULES),
        None,
    )
    if rule is None:
        raise ONNXExportError(
            f"The activation {activation!r} has no ONNX export rule. Give it one with "
            "neuralnet.export.register_onnx_rule(ItsClass, rule)."
        )
    return rule(b, activation, x, hint)


# -- activations -------------------------------------------------------------------------------------


@activation_rule(A.Linear)
def _linear(b, act, x, hint):
    return x


@activation_rule(A.Sigmoid)
def _sigmoid(b, act, x, hint):
    return b.op("Sigmoid", [x], hint)


@activation_rule(A.Tanh)
def _tanh(b, act, x, hint):
    return b.op("Tanh", [x], hint)


@activation_rule(A.ReLU)
def _relu(b, act, x, hint):
    if act.plain:
        return b.op("Relu", [x], hint)
    # where(x > t, x, 0), clipped to max_value, minus slope · max(t − x, 0): Keras's relu
    threshold = b.const(act.threshold, f"{hint}/threshold")
    zero = b.const(0.0, f"{hint}/zero")
    y = b.op("Where", [b.op("Greater", [x, threshold], hint), x, zero], hint)
    if act.max_value is not None:
        y = b.op("Clip", [y, zero, b.const(act.max_value, f"{hint}/max_value")], hint)
    if act.negative_slope:
        below = b.op("Relu", [b.op("Sub", [threshold, x], hint)], hint)
        slope = b.const(act.negative_slope, f"{hint}/negative_slope")
        y = b.op("Sub", [y, b.op("Mul", [slope, below], hint)], hint)
    return y


@activation_rule(A.LeakyReLU)
def _leaky_relu(b, act, x, hint):
    return b.op("LeakyRelu", [x], hint, alpha=act.negative_slope)


@activation_rule(A.ReLU6)
def _relu6(b, act, x, hint):
    return b.op("Clip", [x, b.const(0.0, f"{hint}/zero"), b.const(6.0, f"{hint}/six")], hint)


@activation_rule(A.ELU)
def _elu(b, act, x, hint):
    return b.op("Elu", [x], hint, alpha=act.alpha)


@activation_rule(A.SELU)
def _selu(b, act, x, hint):
    return b.op("Selu", [x], hint, alpha=A.SELU_ALPHA, gamma=A.SELU_SCALE)


@activation_rule(A.Softplus)
def _softplus(b, act, x, hint):
    # log(1 + e^x) as max(x, 0) + log(1 + e^−|x|): no overflow for large x (NumPy's logaddexp)
    positive = b.op("Relu", [x], hint)
    tail = b.op("Exp", [b.op("Neg", [b.op("Abs", [x], hint)], hint)], hint)
    return b.op("Add", [positive, b.op("Log", [b.op("Add", [tail, b.const(1.0, f"{hint}/one")],
                                                    hint)], hint)], hint)  # fmt: skip


@activation_rule(A.Softsign)
def _softsign(b, act, x, hint):
    return b.op("Softsign", [x], hint)


@activation_rule(A.HardSigmoid)
def _hard_sigmoid(b, act, x, hint):
    return b.op("HardSigmoid", [x], hint, alpha=1.0 / 6.0, beta=0.5)  # clip(x/6 + 1/2, 0, 1)


@activation_rule(A.HardSigmoidKeras2)
def _hard_sigmoid_keras2(b, act, x, hint):
    return b.op("HardSigmoid", [x], hint, alpha=0.2, beta=0.5)


@activation_rule(A.Exponential)
def _exponential(b, act, x, hint):
    return b.op("Exp", [x], hint)


@activation_rule(A.Softmax)
def _softmax(b, act, x, hint):
    return b.op("Softmax", [x], hint, axis=act.axis)


@activation_rule(A.LogSoftmax)
def _log_softmax(b, act, x, hint):
    return b.op("LogSoftmax", [x], hint, axis=act.axis)


@activation_rule(A.SiLU)
def _silu(b, act, x, hint):
    return b.op("Mul", [x, b.op("Sigmoid", [x], hint)], hint)


@activation_rule(A.GELU)
def _gelu(b, act, x, hint):
    half, one = b.const(0.5, f"{hint}/half"), b.const(1.0, f"{hint}/one")
    if act.approximate:  # 0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))
        cube = b.op("Mul", [b.op("Mul", [x, x], hint), x], hint)
        inner = b.op("Add", [x, b.op("Mul", [b.const(0.044715, f"{hint}/c"), cube], hint)], hint)
        scaled = b.op("Mul", [b.const(math.sqrt(2.0 / math.pi), f"{hint}/k"), inner], hint)
        core = b.op("Add", [one, b.op("Tanh", [scaled], hint)], hint)
    else:  # 0.5 x (1 + erf(x / √2))
        scaled = b.op("Div", [x, b.const(math.sqrt(2.0), f"{hint}/sqrt2")], hint)
        core = b.op("Add", [one, b.op("Erf", [scaled], hint)], hint)
    return b.op("Mul", [b.op("Mul", [half, x], hint), core], hint)


@activation_rule(A.Threshold)
def _threshold(b, act, x, hint):
    above = b.op("Greater", [x, b.const(act.threshold, f"{hint}/threshold")], hint)
    return b.op("Where", [above, x, b.const(act.default_value, f"{hint}/default")], hint)


@activation_rule(A.Step)
def _step(b, act, x, hint):
    above = b.op("Greater", [x, b.const(0.0, f"{hint}/zero")], hint)
    return b.op("Cast", [above], hint, to=b.onnx_type)


# -- layers ------------------------------------------------------------------------------------------


def _identity(b, layer, inputs):
    return inputs[0]


def _register_layers() -> None:
    """The layer rules, registered once the layer modules are imported."""
    from neuralnet.layers import (
        activation_layers,
        batch_normalization,
        dense,
        dropout,
        merging,
        noise,
        reshaping,
        spatial_dropout,
    )

    for cls in (dropout.Dropout, noise.GaussianNoise, noise.GaussianDropout,
                spatial_dropout.SpatialDropout1D, spatial_dropout.SpatialDropout2D):  # fmt: skip
        LAYER_RULES[cls] = _identity

    @layer_rule(dense.Dense)
    def _dense(b, layer, inputs):
        hint = layer.name
        y = b.op("MatMul", [inputs[0], b.const(layer.params["kernel"], f"{hint}/kernel")], hint)
        if layer.use_bias:
            y = b.op("Add", [y, b.const(layer.params["bias"], f"{hint}/bias")], hint)
        return apply_activation(b, layer.activation, y, hint)

    @layer_rule(activation_layers._ActivationLayer)
    def _activation_layer(b, layer, inputs):
        return apply_activation(b, layer.activation, inputs[0], layer.name)

    @layer_rule(activation_layers.PReLU)
    def _prelu(b, layer, inputs):
        return b.op("PRelu", [inputs[0], b.const(layer.params["alpha"], f"{layer.name}/alpha")],
                    layer.name)  # fmt: skip

    @layer_rule(batch_normalization.BatchNormalization)
    def _batch_normalization(b, layer, inputs):
        # y = γ (x − μ) / sqrt(σ² + ε) + β with the moving statistics: x · scale + shift
        mean, variance = layer.state["moving_mean"], layer.state["moving_variance"]
        inv_std = 1.0 / np.sqrt(variance.astype(np.float64) + layer.epsilon)
        gamma = layer.params["gamma"] if layer.scale else 1.0
        beta = layer.params["beta"] if layer.center else 0.0
        scale = gamma * inv_std
        shift = beta - mean * scale
        shape = layer._broadcast[1:]  # (features) or (C, 1, 1) for channels-first
        hint = layer.name
        y = b.op("Mul", [inputs[0], b.const(np.reshape(scale, shape), f"{hint}/scale")], hint)
        return b.op("Add", [y, b.const(np.reshape(shift, shape), f"{hint}/shift")], hint)

    @layer_rule(reshaping.Flatten)
    def _flatten(b, layer, inputs):
        return b.op("Flatten", [inputs[0]], layer.name, axis=1)

    @layer_rule(reshaping.Reshape)
    def _reshape(b, layer, inputs):
        shape = b.ints([0, *layer.target_shape], f"{layer.name}/shape")  # 0: keep the batch
        return b.op("Reshape", [inputs[0], shape], layer.name)

    merges = {merging.Add: "Sum", merging.Average: "Mean", merging.Maximum: "Max",
              merging.Minimum: "Min"}  # fmt: skip
    for cls, op_type in merges.items():
        LAYER_RULES[cls] = lambda b, layer, inputs, op_type=op_type: b.op(op_type, inputs,
                                                                             layer.name)  # fmt: skip

    @layer_rule(merging.Subtract)
    def _subtract(b, layer, inputs):
        return b.op("Sub", inputs, layer.name)

    @layer_rule(merging.Multiply)
    def _multiply(b, layer, inputs):
        y = inputs[0]
        for other in inputs[1:]:
            y = b.op("Mul", [y, other], layer.name)
        return y

    @layer_rule(merging.Concatenate)
    def _concatenate(b, layer, inputs):
        return b.op("Concat", inputs, layer.name, axis=layer.axis)

    @layer_rule(merging.Dot)
    def _dot(b, layer, inputs):
        hint = layer.name
        ranks = tuple(len(shape) for shape in b.input_shapes)
        a, c = layer._resolved_axes(*ranks)
        xs = list(inputs)
        if layer.normalize:  # x / sqrt(max(Σx², 1e-12)) along the product's axis
            for i, axis in enumerate((a, c)):
                square = b.op("Mul", [xs[i], xs[i]], hint)
                total = b.op("ReduceSum", [square, b.ints([axis], f"{hint}/axis")], hint,
                             keepdims=1)  # fmt: skip
                norm = b.op("Sqrt", [b.op("Max", [total, b.const(1e-12, f"{hint}/eps")], hint)],
                            hint)  # fmt: skip
                xs[i] = b.op("Div", [xs[i], norm], hint)
        sa, sb, so = layer._subscripts(*ranks)
        y = b.op("Einsum", xs, hint, equation=f"{sa},{sb}->{so}")
        if len(so) == 1:  # a vector per sample pair: (batch,) → (batch, 1), as Keras
            y = b.op("Unsqueeze", [y, b.ints([1], f"{hint}/axis1")], hint)
        return y


_registered = False


def layer_rule_for(layer: Any) -> Any:
    """The export rule of `layer`'s class (or of its nearest base class that has one)."""
    global _registered
    if not _registered:
        _register_layers()
        _register_preprocessing()
        _register_spatial()
        _registered = True
    return next((LAYER_RULES[cls] for cls in type(layer).__mro__ if cls in LAYER_RULES), None)


# -- convolution, pooling, resizing ------------------------------------------------------------------
#
# ONNX's Conv, ConvTranspose, MaxPool, AveragePool and Resize work on (batch, channels, spatial...)
# tensors: a channels-last layer is a Transpose in, the operator, and a Transpose back (runtimes
# fuse consecutive transposes away).


def _spatial_rank(b: OnnxBuilder) -> int:
    return len(b.input_shapes[0]) - 2


def _spatial_sizes(b: OnnxBuilder, data_format: str) -> tuple[Any, ...]:
    shape = b.input_shapes[0]
    return tuple(shape[2:]) if data_format == "channels_first" else tuple(shape[1:-1])


def _to_channels_first(b, x, rank, data_format, hint):
    if data_format == "channels_first":
        return x
    return b.op("Transpose", [x], hint, perm=[0, rank + 1, *range(1, rank + 1)])


def _to_layout(b, y, rank, data_format, hint):
    if data_format == "channels_first":
        return y
    return b.op("Transpose", [y], hint, perm=[0, *range(2, rank + 2), 1])


def _window_pads(sizes, kernel, strides, dilation, padding, hint, layer) -> dict[str, Any]:
    """Conv/pool padding attributes: explicit pads where the sizes are known, else SAME_UPPER
    (TensorFlow's and Keras's rule: the odd zero after)."""
    from neuralnet.layers import conv_utils

    if padding == "valid":
        return {"pads": [0] * (2 * len(kernel))}
    if any(size is None for size in sizes):
        if padding == "causal":
            raise ONNXExportError(
                f"{type(layer).__name__} {layer.name!r}: causal padding of inputs of unknown length "
                "has no ONNX form; give the Input a fixed length."
            )
        return {"auto_pad": "SAME_UPPER"}
    pairs = [conv_utils.conv_padding(n, k, s, d, padding)
             for n, k, s, d in zip(sizes, kernel, strides, dilation)]  # fmt: skip
    return {"pads": [p[0] for p in pairs] + [p[1] for p in pairs]}


def _conv_node(b, x, kernel, bias, layer, group, hint, padding=None, strides=None, dilation=None):
    rank = _spatial_rank(b)
    kernel_shape = list(kernel.shape[2:])
    strides = list(layer.strides if strides is None else strides)
    dilation = list(layer.dilation_rate if dilation is None else dilation)
    pads = _window_pads(_spatial_sizes(b, layer.data_format), kernel_shape, strides, dilation,
                        layer.padding if padding is None else padding, hint, layer)  # fmt: skip
    inputs = [x, b.const(kernel, f"{hint}/kernel")]
    if bias is not None:
        inputs.append(b.const(bias, f"{hint}/bias"))
    assert rank == len(kernel_shape)
    return b.op("Conv", inputs, hint, kernel_shape=kernel_shape, strides=strides,
                dilations=dilation, group=group, **pads)  # fmt: skip


def _register_preprocessing() -> None:
    from neuralnet import backend
    from neuralnet.layers import preprocessing

    @layer_rule(preprocessing.Rescaling)
    def _rescaling(b, layer, inputs):
        scale, offset = layer._constants(b.dtype)  # y = x · scale + offset
        y = b.op("Mul", [inputs[0], b.const(scale, f"{layer.name}/scale")], layer.name)
        return b.op("Add", [y, b.const(offset, f"{layer.name}/offset")], layer.name)

    @layer_rule(preprocessing.Normalization)
    def _normalization(b, layer, inputs):
        mean, variance = layer._statistics()
        std = np.maximum(np.sqrt(variance.astype(b.dtype)), b.dtype.type(backend.epsilon()))
        mean = b.const(mean, f"{layer.name}/mean")
        if layer.invert:  # y = μ + x · σ
            y = b.op("Mul", [inputs[0], b.const(std, f"{layer.name}/std")], layer.name)
            return b.op("Add", [y, mean], layer.name)
        centered = b.op("Sub", [inputs[0], mean], layer.name)  # y = (x − μ) / σ
        return b.op("Div", [centered, b.const(std, f"{layer.name}/std")], layer.name)


def _register_spatial() -> None:
    from neuralnet.layers import convolution, pooling, resizing

    @layer_rule(convolution.Conv)
    def _conv(b, layer, inputs):
        rank, hint = _spatial_rank(b), layer.name
        # (k…, C/g, F) → ONNX's (F, C/g, k…)
        kernel = np.transpose(layer.params["kernel"], (rank + 1, rank, *range(rank)))
        x = _to_channels_first(b, inputs[0], rank, layer.data_format, hint)
        y = _conv_node(b, x, kernel, layer.params.get("bias"), layer, layer.groups, hint)
        y = _to_layout(b, y, rank, layer.data_format, hint)
        return apply_activation(b, layer.activation, y, hint)

    def _depthwise_kernel(layer, kernel):
        rank = kernel.ndim - 2
        channels, multiplier = kernel.shape[-2:]
        # (k…, C, M) → (C·M, 1, k…): output channel c·M + m filters input channel c
        flat = kernel.reshape(*kernel.shape[:rank], channels * multiplier)
        return np.transpose(flat, (rank, *range(rank)))[:, None]

    @layer_rule(convolution.DepthwiseConv)
    def _depthwise(b, layer, inputs):
        rank, hint = _spatial_rank(b), layer.name
        kernel = layer.params["kernel"]
        x = _to_channels_first(b, inputs[0], rank, layer.data_format, hint)
        y = _conv_node(b, x, _depthwise_kernel(layer, kernel), layer.params.get("bias"), layer,
                       kernel.shape[-2], hint)  # fmt: skip
        y = _to_layout(b, y, rank, layer.data_format, hint)
        return apply_activation(b, layer.activation, y, hint)

    @layer_rule(convolution.SeparableConv)
    def _separable(b, layer, inputs):
        rank, hint = _spatial_rank(b), layer.name
        depthwise = layer.params["depthwise_kernel"]
        x = _to_channels_first(b, inputs[0], rank, layer.data_format, hint)
        d = _conv_node(b, x, _depthwise_kernel(layer, depthwise), None, layer,
                       depthwise.shape[-2], f"{hint}/depthwise")  # fmt: skip
        pointwise = layer.params["pointwise_kernel"]  # (1…, C·M, F) → (F, C·M, 1…)
        pointwise = np.transpose(pointwise, (rank + 1, rank, *range(rank)))
        ones = (1,) * rank
        inputs_pw = [d, b.const(pointwise, f"{hint}/pointwise_kernel")]
        if layer.use_bias:
            inputs_pw.append(b.const(layer.params["bias"], f"{hint}/bias"))
        y = b.op("Conv", inputs_pw, f"{hint}/pointwise", kernel_shape=list(ones),
                 strides=list(ones), pads=[0] * (2 * rank))  # fmt: skip
        y = _to_layout(b, y, rank, layer.data_format, hint)
        return apply_activation(b, layer.activation, y, hint)

    @layer_rule(convolution.ConvTranspose)
    def _conv_transpose(b, layer, inputs):
        rank, hint = _spatial_rank(b), layer.name
        sizes = _spatial_sizes(b, layer.data_format)
        if any(size is None for size in sizes):
            raise ONNXExportError(
                f"{type(layer).__name__} {hint!r}: inputs of unknown spatial size have no ONNX "
                "form here (the padding depends on the size); give the Input a fixed size."
            )
        # The layer's own geometry: output position i·s + a·d − p of input i, output length L.
        windows = layer._transpose_windows(layer._pair(sizes))
        begins, ends, extras = [], [], []
        for axis in range(2 - rank, 2):
            n, s, span = windows.output[axis], windows.strides[axis], windows.span[axis]
            p, length = windows.pads[axis][0], windows.size[axis]
            # ONNX: out = s·(n − 1) + output_padding + span − pad_begin − pad_end
            end = s * (n - 1) + span - p - length
            begins.append(p)
            ends.append(max(end, 0))
            extras.append(max(-end, 0))
        kernel = np.transpose(layer.params["kernel"], (rank + 1, rank, *range(rank)))  # (C, F, k…)
        x = _to_channels_first(b, inputs[0], rank, layer.data_format, hint)
        node_inputs = [x, b.const(kernel, f"{hint}/kernel")]
        if layer.use_bias:
            node_inputs.append(b.const(layer.params["bias"], f"{hint}/bias"))
        y = b.op("ConvTranspose", node_inputs, hint, kernel_shape=list(layer.kernel_size),
                 strides=list(layer.strides), dilations=list(layer.dilation_rate),
                 pads=begins + ends, output_padding=extras)  # fmt: skip
        y = _to_layout(b, y, rank, layer.data_format, hint)
        return apply_activation(b, layer.activation, y, hint)

    @layer_rule(pooling._MaxPooling, pooling._AveragePooling)
    def _pooling(b, layer, inputs):
        rank, hint = _spatial_rank(b), layer.name
        x = _to_channels_first(b, inputs[0], rank, layer.data_format, hint)
        pads = _window_pads(_spatial_sizes(b, layer.data_format), layer.pool_size, layer.strides,
                            (1,) * rank, layer.padding, hint, layer)  # fmt: skip
        if isinstance(layer, pooling._MaxPooling):
            y = b.op("MaxPool", [x], hint, kernel_shape=list(layer.pool_size),
                     strides=list(layer.strides), **pads)  # fmt: skip
        else:  # the mean over the window's inputs, not its padding (Keras's count)
            y = b.op("AveragePool", [x], hint, kernel_shape=list(layer.pool_size),
                     strides=list(layer.strides), count_include_pad=0, **pads)  # fmt: skip
        return _to_layout(b, y, rank, layer.data_format, hint)

    @layer_rule(pooling._GlobalPooling)
    def _global_pooling(b, layer, inputs):
        rank = _spatial_rank(b)
        first = 2 if layer.data_format == "channels_first" else 1
        axes = list(range(first, first + rank))
        op_type = "ReduceMax" if "Max" in type(layer).__name__ else "ReduceMean"
        keepdims = int(layer.keepdims)
        if b.opset >= 18:
            return b.op(op_type, [inputs[0], b.ints(axes, f"{layer.name}/axes")], layer.name,
                        keepdims=keepdims)  # fmt: skip
        return b.op(op_type, [inputs[0]], layer.name, axes=axes, keepdims=keepdims)

    @layer_rule(resizing.UpSampling1D, resizing.UpSampling2D)
    def _upsampling(b, layer, inputs):
        rank, hint = _spatial_rank(b), layer.name
        data_format = getattr(layer, "data_format", "channels_last")
        size = (layer.size,) if rank == 1 else tuple(layer.size)
        x = _to_channels_first(b, inputs[0], rank, data_format, hint)
        scales = b.const([1.0, 1.0, *size], f"{hint}/scales", dtype=np.float32)
        roi = b.const([], f"{hint}/roi", dtype=np.float32)
        if getattr(layer, "interpolation", "nearest") == "bilinear":  # JAX's half-pixel rule
            y = b.op("Resize", [x, roi, scales], hint, mode="linear",
                     coordinate_transformation_mode="half_pixel")  # fmt: skip
        else:  # y[i] = x[floor(i / size)]: each value repeated
            y = b.op("Resize", [x, roi, scales], hint, mode="nearest",
                     coordinate_transformation_mode="asymmetric", nearest_mode="floor")  # fmt: skip
        return _to_layout(b, y, rank, data_format, hint)

    def _spatial_axes(layer, rank):
        first = 2 if getattr(layer, "data_format", "channels_last") == "channels_first" else 1
        return list(range(first, first + rank))

    @layer_rule(resizing.ZeroPadding1D, resizing.ZeroPadding2D)
    def _zero_padding(b, layer, inputs):
        rank = _spatial_rank(b)
        pairs = [tuple(layer.padding)] if rank == 1 else [tuple(p) for p in layer.padding]
        begins, ends = [0] * (rank + 2), [0] * (rank + 2)
        for axis, (before, after) in zip(_spatial_axes(layer, rank), pairs):
            begins[axis], ends[axis] = before, after
        pads = b.ints(begins + ends, f"{layer.name}/pads")
        return b.op("Pad", [inputs[0], pads], layer.name, mode="constant")

    @layer_rule(resizing.Cropping1D, resizing.Cropping2D)
    def _cropping(b, layer, inputs):
        rank = _spatial_rank(b)
        pairs = [tuple(layer.cropping)] if rank == 1 else [tuple(p) for p in layer.cropping]
        axes = _spatial_axes(layer, rank)
        starts = [before for before, _ in pairs]
        ends = [-after if after else np.iinfo(np.int64).max for _, after in pairs]
        hint = layer.name
        return b.op("Slice", [inputs[0], b.ints(starts, f"{hint}/starts"),
                              b.ints(ends, f"{hint}/ends"), b.ints(axes, f"{hint}/axes")], hint)  # fmt: skip
