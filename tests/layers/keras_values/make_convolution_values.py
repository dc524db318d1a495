"""Write `convolution.npz` and `summaries.json`: Keras 3's forward numbers for the convolution layers.

Run with Keras 3 on the JAX backend (float32), from the repository root:

    KERAS_BACKEND=jax python tests/layers/keras_values/make_convolution_values.py

`tests/layers/test_convolution_keras.py` reads the two files; Keras is not needed to run the tests.

`convolution.npz` (plain arrays and strings only, loads with `allow_pickle=False`) holds

- `cases`: a JSON list, one object per case: `key` (`case_NNN`), `id` (the test id, e.g.
  `Conv2D-k3-s2-same-d1-cl-g1`), `layer` (the Keras class name), `config` (the constructor keyword
  arguments as a JSON string, tuples as lists), `output_shape` (Keras's
  `layer.compute_output_shape(x.shape)`) and `n_weights`;
- `case_NNN_x`: the input (float32, batch 2);
- `case_NNN_w0`, `case_NNN_w1`, ...: the weights given to `set_weights` (normal · 0.5, float32),
  in Keras's order and shapes;
- `case_NNN_y`: Keras's output `layer(x)`;

and `rejected`: a JSON list of `{"id", "layer", "config", "input_shape", "stage", "type", "message"}`
for every combination Keras refuses (`stage` is "init" for the constructor, "call" for the first
call on the input).

Every grid is an `itertools.product` over the arguments; the combinations Keras rejects go to
`rejected`, the others become cases. Each Keras output is checked here against a naive NumPy
convolution written independently below, so the stored numbers can be trusted.

`summaries.json` holds, for three small models, Keras's `model.summary()` text, its rows
(layer (type), output shape, param #), each layer's output shape and `count_params()`, and the
total.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from pathlib import Path

if os.environ.get("KERAS_BACKEND") != "jax":
    raise SystemExit("Run with KERAS_BACKEND=jax (the reference numbers are Keras 3 on JAX).")

import keras
import numpy as np

HERE = Path(__file__).resolve().parent
BATCH = 2


# --------------------------------------------------------------------------------------------
# The grids
# --------------------------------------------------------------------------------------------


def _tup(value, rank):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * rank


def _short(value):
    """`3` or `2x3` for an int or a tuple in a test id."""
    if isinstance(value, (tuple, list)):
        return "x".join(str(v) for v in value)
    return str(value)


def _df(data_format):
    return {"channels_last": "cl", "channels_first": "cf"}[data_format]


def _input_shape(spatial, channels, data_format):
    if data_format == "channels_first":
        return (BATCH, channels) + spatial
    return (BATCH,) + spatial + (channels,)


DATA_FORMATS = ("channels_last", "channels_first")


def conv1d_grid():
    """Conv1D: strides × padding × dilation × data format × groups."""
    for strides, padding, dilation, data_format, groups in itertools.product(
        (1, 2), ("valid", "same", "causal"), (1, 2), DATA_FORMATS, (1, 2)
    ):
        config = {
            "filters": 6,
            "kernel_size": 3,
            "strides": strides,
            "padding": padding,
            "dilation_rate": dilation,
            "data_format": data_format,
            "groups": groups,
        }
        case_id = f"Conv1D-s{strides}-{padding}-d{dilation}-{_df(data_format)}-g{groups}"
        yield case_id, "Conv1D", config, _input_shape((9,), 4, data_format)


def conv2d_grid():
    """Conv2D: kernel × strides × padding × dilation × data format × groups."""
    for kernel, strides, padding, dilation, data_format, groups in itertools.product(
        (3, (2, 3)), (1, 2, (1, 2)), ("valid", "same"), (1, 2), DATA_FORMATS, (1, 2)
    ):
        config = {
            "filters": 6,
            "kernel_size": kernel,
            "strides": strides,
            "padding": padding,
            "dilation_rate": dilation,
            "data_format": data_format,
            "groups": groups,
        }
        case_id = (
            f"Conv2D-k{_short(kernel)}-s{_short(strides)}-{padding}-d{dilation}"
            f"-{_df(data_format)}-g{groups}"
        )
        yield case_id, "Conv2D", config, _input_shape((7, 6), 4, data_format)


def conv2d_transpose_grid():
    """Conv2DTranspose: kernel × strides × padding × output_padding × dilation × data format.

    output_padding: None, "ok" (strides − 1 on each axis, the largest Keras accepts) or "big"
    (equal to strides, which Keras rejects).
    """
    for kernel, strides, padding, out_pad, dilation, data_format in itertools.product(
        (3, (2, 3)), (1, 2, 3), ("valid", "same"), ("none", "ok", "big"), (1, 2), DATA_FORMATS
    ):
        output_padding = {"none": None, "ok": strides - 1, "big": strides}[out_pad]
        config = {
            "filters": 4,
            "kernel_size": kernel,
            "strides": strides,
            "padding": padding,
            "output_padding": output_padding,
            "dilation_rate": dilation,
            "data_format": data_format,
        }
        op = "None" if output_padding is None else str(output_padding)
        case_id = (
            f"Conv2DTranspose-k{_short(kernel)}-s{strides}-{padding}-op{op}-d{dilation}"
            f"-{_df(data_format)}"
        )
        yield case_id, "Conv2DTranspose", config, _input_shape((5, 3), 3, data_format)


def depthwise_grid():
    """DepthwiseConv2D: kernel × depth multiplier × strides × padding × dilation × data format."""
    for kernel, multiplier, strides, padding, dilation, data_format in itertools.product(
        (3, (2, 3)), (1, 2), (1, 2), ("valid", "same"), (1, 2), DATA_FORMATS
    ):
        config = {
            "kernel_size": kernel,
            "depth_multiplier": multiplier,
            "strides": strides,
            "padding": padding,
            "dilation_rate": dilation,
            "data_format": data_format,
        }
        case_id = (
            f"DepthwiseConv2D-k{_short(kernel)}-dm{multiplier}-s{strides}-{padding}-d{dilation}"
            f"-{_df(data_format)}"
        )
        yield case_id, "DepthwiseConv2D", config, _input_shape((7, 6), 3, data_format)


def separable_grid():
    """SeparableConv2D: kernel × depth multiplier × strides × padding × dilation × data format."""
    for kernel, multiplier, strides, padding, dilation, data_format in itertools.product(
        (3, (2, 3)), (1, 2), (1, 2), ("valid", "same"), (1, 2), DATA_FORMATS
    ):
        config = {
            "filters": 5,
            "kernel_size": kernel,
            "depth_multiplier": multiplier,
            "strides": strides,
            "padding": padding,
            "dilation_rate": dilation,
            "data_format": data_format,
        }
        case_id = (
            f"SeparableConv2D-k{_short(kernel)}-dm{multiplier}-s{strides}-{padding}-d{dilation}"
            f"-{_df(data_format)}"
        )
        yield case_id, "SeparableConv2D", config, _input_shape((7, 6), 3, data_format)


#: One middling configuration per layer, crossed with activation × use_bias below.
BASES = {
    "Conv1D": ({"filters": 6, "kernel_size": 3, "strides": 2, "padding": "same"}, (9,), 4),
    "Conv2D": ({"filters": 6, "kernel_size": 3, "strides": 2, "padding": "same"}, (7, 6), 4),
    "Conv2DTranspose": (
        {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
        (5, 3),
        3,
    ),
    "DepthwiseConv2D": ({"kernel_size": 3, "depth_multiplier": 2, "padding": "same"}, (7, 6), 3),
    "SeparableConv2D": (
        {"filters": 5, "kernel_size": 3, "strides": 2, "padding": "valid"},
        (7, 6),
        3,
    ),
}


def activation_bias_grid():
    """Each layer × activation (None, "relu") × use_bias (True, False), but not (None, True)."""
    for name, (activation, use_bias) in itertools.product(
        BASES, (("relu", True), (None, False), ("relu", False))
    ):
        base, spatial, channels = BASES[name]
        config = dict(base, activation=activation, use_bias=use_bias)
        case_id = f"{name}-act{activation or 'None'}-bias{use_bias}"
        yield case_id, name, config, _input_shape(spatial, channels, "channels_last")


#: Arguments Keras should refuse, tried on each layer that takes them (for the error cases).
BAD_ARGUMENTS = [
    ("filters0", {"filters": 0}),
    ("filters-1", {"filters": -1}),
    ("kernel0", {"kernel_size": 0}),
    ("strides0", {"strides": 0}),
    ("dilation0", {"dilation_rate": 0}),
    ("padding-causal", {"padding": "causal"}),
    ("padding-full", {"padding": "full"}),
    ("format-bad", {"data_format": "channels_middle"}),
    ("groups0", {"groups": 0}),
    ("groups4-filters6", {"groups": 4}),  # 6 filters not divisible by 4
    ("groups3-channels4", {"groups": 3}),  # 6 filters divisible, 4 input channels not
    ("depth-multiplier0", {"depth_multiplier": 0}),
    ("kernel-too-big", {"kernel_size": 10}),  # bigger than the input with padding="valid"
    ("kernel-wrong-rank", {"kernel_size": (3, 3, 3)}),
]

#: Which keyword arguments each constructor takes (a probe is skipped where it does not apply).
ACCEPTS = {
    "Conv1D": {"filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
               "groups"},
    "Conv2D": {"filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
               "groups"},
    "Conv2DTranspose": {"filters", "kernel_size", "strides", "padding", "data_format",
                        "dilation_rate", "output_padding"},
    "DepthwiseConv2D": {"kernel_size", "strides", "padding", "data_format", "dilation_rate",
                        "depth_multiplier"},
    "SeparableConv2D": {"filters", "kernel_size", "strides", "padding", "data_format",
                        "dilation_rate", "depth_multiplier"},
}  # fmt: skip


def bad_arguments_grid():
    """Each layer × each bad argument it takes, on top of the layer's base configuration."""
    for name, (label, bad) in itertools.product(BASES, BAD_ARGUMENTS):
        if not set(bad) <= ACCEPTS[name]:
            continue
        base, spatial, channels = BASES[name]
        config = {**base, "padding": "valid", **bad}
        if name == "Conv2DTranspose" and label == "kernel-too-big":
            continue  # a transposed convolution grows its input: any kernel size is fine
        if name == "Conv1D" and label == "padding-causal":
            continue  # Conv1D's own padding
        yield f"{name}-bad-{label}", name, config, _input_shape(spatial, channels, "channels_last")


GRIDS = [
    conv1d_grid,
    conv2d_grid,
    conv2d_transpose_grid,
    depthwise_grid,
    separable_grid,
    activation_bias_grid,
    bad_arguments_grid,
]


# --------------------------------------------------------------------------------------------
# An independent naive NumPy convolution (channels last), to check Keras's numbers
# --------------------------------------------------------------------------------------------


def _to_last(x, data_format):
    return np.moveaxis(x, 1, -1) if data_format == "channels_first" else x


def _to_first(y, data_format):
    return np.moveaxis(y, -1, 1) if data_format == "channels_first" else y


def _pads(length, kernel, stride, dilation, padding):
    """(left, right) padding and the output length of a forward convolution."""
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        return 0, 0, (length - span) // stride + 1
    if padding == "causal":
        return span - 1, 0, (length - 1) // stride + 1
    out = -(-length // stride)  # "same": ceil(length / stride), the odd pixel on the right
    total = max((out - 1) * stride + span - length, 0)
    return total // 2, total - total // 2, out


def naive_conv(x, kernel, strides, dilation, padding, groups=1):
    """x (batch, *spatial, cin), kernel (*k, cin/groups, filters) -> (batch, *out, filters)."""
    rank = x.ndim - 2
    ks = kernel.shape[:rank]
    pads, outs = [], []
    for axis in range(rank):
        left, right, out = _pads(
            x.shape[1 + axis], ks[axis], strides[axis], dilation[axis], padding
        )
        pads.append((left, right))
        outs.append(out)
    xp = np.pad(x.astype(np.float64), [(0, 0)] + pads + [(0, 0)])
    cin, filters = x.shape[-1], kernel.shape[-1]
    cg, fg = cin // groups, filters // groups
    y = np.zeros((x.shape[0], *outs, filters))
    for offset in np.ndindex(*ks):
        index = tuple(
            slice(o * d, o * d + (n - 1) * s + 1, s)
            for o, d, n, s in zip(offset, dilation, outs, strides)
        )
        window = xp[(slice(None),) + index]
        w = kernel[offset].astype(np.float64)
        for g in range(groups):
            y[..., g * fg : (g + 1) * fg] += (
                window[..., g * cg : (g + 1) * cg] @ w[:, g * fg : (g + 1) * fg]
            )
    return y


def naive_conv_transpose(x, kernel, strides, dilation, padding, out_shape):
    """The adjoint of `naive_conv` from an input of spatial size `out_shape`: each input pixel o
    adds x[o] · w[k] to the output pixel o·s + k·d − left, where `left` is the forward
    convolution's left padding. kernel (*k, filters, cin) as Keras stores it (no flip)."""
    rank = x.ndim - 2
    ks = kernel.shape[:rank]
    lefts = []
    for axis in range(rank):
        n_in, length = x.shape[1 + axis], out_shape[axis]
        span = (ks[axis] - 1) * dilation[axis] + 1
        if padding == "valid":
            lefts.append(0)
        else:  # TensorFlow's rule: the padding of the forward "same" convolution of `length`
            lefts.append(max((n_in - 1) * strides[axis] + span - length, 0) // 2)
    full = [
        max(left + length, (n - 1) * s + (k - 1) * d + 1)
        for left, length, n, s, k, d in zip(lefts, out_shape, x.shape[1:-1], strides, ks, dilation)
    ]
    buffer = np.zeros((x.shape[0], *full, kernel.shape[-2]))
    x64 = x.astype(np.float64)
    for offset in np.ndindex(*ks):
        index = tuple(
            slice(o * d, o * d + (n - 1) * s + 1, s)
            for o, d, n, s in zip(offset, dilation, x.shape[1:-1], strides)
        )
        buffer[(slice(None),) + index] += x64 @ kernel[offset].astype(np.float64).T
    crop = tuple(slice(left, left + length) for left, length in zip(lefts, out_shape))
    return buffer[(slice(None),) + crop]


def naive_depthwise(x, kernel, strides, dilation, padding):
    """kernel (*k, cin, multiplier) -> output channel c·multiplier + m."""
    rank = x.ndim - 2
    cin, multiplier = kernel.shape[-2:]
    # As a grouped convolution with one group per input channel.
    grouped = kernel.reshape(kernel.shape[:rank] + (1, cin * multiplier))
    return naive_conv(x, grouped, strides, dilation, padding, groups=cin)


def naive_output(name, config, x, weights, out_spatial):
    rank = x.ndim - 2
    data_format = config.get("data_format", "channels_last")
    strides = _tup(config.get("strides", 1), rank)
    dilation = _tup(config.get("dilation_rate", 1), rank)
    padding = config.get("padding", "valid")
    use_bias = config.get("use_bias", True)
    xl = _to_last(x, data_format)
    if name in ("Conv1D", "Conv2D"):
        y = naive_conv(xl, weights[0], strides, dilation, padding, config.get("groups", 1))
    elif name == "Conv2DTranspose":
        y = naive_conv_transpose(xl, weights[0], strides, dilation, padding, out_spatial)
    elif name == "DepthwiseConv2D":
        y = naive_depthwise(xl, weights[0], strides, dilation, padding)
    elif name == "SeparableConv2D":
        y = naive_depthwise(xl, weights[0], strides, dilation, padding)
        y = y @ weights[1][0, 0].astype(np.float64)
    else:
        raise ValueError(name)
    if use_bias:
        y = y + weights[-1].astype(np.float64)
    if config.get("activation") == "relu":
        y = np.maximum(y, 0.0)
    return _to_first(y, data_format)


# --------------------------------------------------------------------------------------------
# Running Keras
# --------------------------------------------------------------------------------------------


def run_case(index, case_id, name, config, input_shape, rng):
    """Keras's numbers for one case, or the exception it raises (and at which stage)."""
    x = rng.standard_normal(input_shape).astype("float32")
    keras.utils.set_random_seed(index)
    try:
        layer = getattr(keras.layers, name)(**config)
    except Exception as error:  # noqa: BLE001 - every refusal is recorded
        return None, ("init", error)
    try:
        layer(x)  # builds it
    except Exception as error:  # noqa: BLE001 - every refusal is recorded
        return None, ("call", error)
    weights = [(rng.standard_normal(w.shape) * 0.5).astype("float32") for w in layer.get_weights()]
    layer.set_weights(weights)
    y = np.asarray(layer(x))
    shape = tuple(layer.compute_output_shape(x.shape))
    assert shape == y.shape, (case_id, shape, y.shape)
    assert y.dtype == np.float32, (case_id, y.dtype)
    arrays = {"x": x, "y": y, "shape": np.asarray(shape, dtype="int64")}
    for i, w in enumerate(weights):
        arrays[f"w{i}"] = w
    return arrays, None


def _jsonable(config):
    return {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}


def make_convolution_values():
    rng = np.random.default_rng(20261206)
    arrays = {}
    rejected = []
    cases = []
    counts = {}
    checked = 0
    index = 0
    for grid in GRIDS:
        for case_id, name, config, input_shape in grid():
            result, refusal = run_case(index, case_id, name, config, input_shape, rng)
            if refusal is not None:
                stage, error = refusal
                rejected.append(
                    {
                        "id": case_id,
                        "layer": name,
                        "config": _jsonable(config),
                        "input_shape": list(input_shape),
                        "stage": stage,
                        "type": type(error).__name__,
                        "message": str(error),
                    }
                )
                continue
            if grid is bad_arguments_grid:
                print(f"  note: Keras accepts {case_id}: {config}")
            key = f"case_{index:03d}"
            cases.append(
                {
                    "key": key,
                    "id": case_id,
                    "layer": name,
                    "config": json.dumps(_jsonable(config), sort_keys=True),
                    "output_shape": [int(n) for n in result.pop("shape")],
                    "n_weights": len(result) - 2,
                }
            )
            for k, v in result.items():
                arrays[f"{key}_{k}"] = v
            # The independent check, on every case.
            weights = [result[f"w{i}"] for i in range(len(result) - 2)]
            data_format = config.get("data_format", "channels_last")
            y = result["y"]
            out_spatial = y.shape[2:] if data_format == "channels_first" else y.shape[1:-1]
            expected = naive_output(name, config, result["x"], weights, out_spatial)
            assert expected.shape == y.shape, (case_id, expected.shape, y.shape)
            np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5, err_msg=case_id)
            checked += 1
            counts[name] = counts.get(name, 0) + 1
            index += 1
    ids = [c["id"] for c in cases] + [r["id"] for r in rejected]
    assert len(ids) == len(set(ids)), "test ids must be unique"
    arrays["cases"] = np.asarray(json.dumps(cases, indent=0))
    arrays["rejected"] = np.asarray(json.dumps(rejected, indent=1, sort_keys=True))
    arrays["keras_version"] = np.asarray(keras.__version__)
    path = HERE / "convolution.npz"
    np.savez_compressed(path, **arrays)

    # Re-load and check again (what the tests will read).
    with np.load(path, allow_pickle=False) as data:
        stored = json.loads(str(data["cases"]))
        assert len(stored) == index
        assert len(json.loads(str(data["rejected"]))) == len(rejected)
        for case in stored[:: max(len(stored) // 12, 1)]:
            key, name, config = case["key"], case["layer"], json.loads(case["config"])
            weights = [data[f"{key}_w{i}"] for i in range(case["n_weights"])]
            y = data[f"{key}_y"]
            assert list(y.shape) == case["output_shape"]
            df = config.get("data_format", "channels_last")
            out_spatial = y.shape[2:] if df == "channels_first" else y.shape[1:-1]
            expected = naive_output(name, config, data[f"{key}_x"], weights, out_spatial)
            np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    size = path.stat().st_size
    assert size < 1_000_000, size
    print(f"convolution.npz: {index} cases {counts}, {len(rejected)} rejected, {size:,} bytes")
    print(f"  checked against the naive NumPy convolution: {checked}")
    by_message = {}
    for r in rejected:
        by_message.setdefault(
            (r["stage"], r["type"], r["message"].split("Received")[0]), []
        ).append(r["id"])
    for (stage, kind, message), which in by_message.items():
        print(f"  [{stage}] {kind}: {message.strip()[:110]!r} x{len(which)} e.g. {which[0]}")


# --------------------------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------------------------


def _models():
    L = keras.layers
    yield (
        "convnet",
        lambda: keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                L.Conv2D(32, 3, activation="relu"),
                L.MaxPooling2D(2),
                L.Conv2D(64, 3, activation="relu"),
                L.MaxPooling2D(2),
                L.Conv2D(128, 3, activation="relu"),
                L.Flatten(),
                L.Dense(10, activation="softmax"),
            ]
        ),
    )
    yield (
        "autoencoder",
        lambda: keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                L.Conv2D(16, 3, activation="relu", padding="same"),
                L.MaxPooling2D(2, padding="same"),
                L.Conv2D(8, 3, activation="relu", padding="same"),
                L.MaxPooling2D(2, padding="same"),
                L.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same"),
                L.Conv2DTranspose(16, 3, strides=2, activation="relu", padding="same"),
                L.Conv2D(1, 3, activation="sigmoid", padding="same"),
            ]
        ),
    )
    yield (
        "depthwise_separable",
        lambda: keras.Sequential(
            [
                keras.Input((10, 10, 3)),
                L.DepthwiseConv2D(3, depth_multiplier=2),
                L.SeparableConv2D(8, 3),
            ]
        ),
    )


_ROW = re.compile(r"^│(.*)│(.*)│(.*)│$")


def _rows(text):
    """The table's body rows as [layer (type), output shape, param #], wrapped cells joined."""
    rows = []
    in_body = False
    for line in text.splitlines():
        if line.startswith("┡"):
            in_body = True
            continue
        if not in_body:
            continue
        if line.startswith("└"):
            break
        if line.startswith("├"):
            continue
        match = _ROW.match(line)
        if match:
            cells = [c.strip() for c in match.groups()]
            if rows and not cells[2]:  # a continuation line of a wrapped cell
                rows[-1] = [(a + " " + b).strip() if b else a for a, b in zip(rows[-1], cells)]
            else:
                rows.append(cells)
    return rows


def make_summaries():
    summaries = {"keras_version": keras.__version__, "models": {}}
    for key, build in _models():
        keras.backend.clear_session()
        model = build()
        pieces = []
        # (Keras's own print_fn gets the whole table at once; line_length would cut it at 80 columns)
        model.summary(print_fn=lambda text, line_break=False, pieces=pieces: pieces.append(text))
        text = "".join(pieces)
        rows = _rows(text)
        layers = [
            {
                "name": layer.name,
                "type": type(layer).__name__,
                "output_shape": list(layer.output.shape),
                "count_params": layer.count_params(),
            }
            for layer in model.layers
        ]
        assert len(rows) == len(layers), (key, rows)
        for row, layer in zip(rows, layers):
            assert row[0] == f"{layer['name']} ({layer['type']})", (row, layer)
            assert row[2] == f"{layer['count_params']:,}", (row, layer)
        totals = re.findall(r"Total params: ([\d,]+)", text)
        assert totals and int(totals[0].replace(",", "")) == model.count_params()
        summaries["models"][key] = {
            "model_name": model.name,
            "summary": text,
            "rows": rows,
            "layers": layers,
            "total_params": model.count_params(),
        }
    path = HERE / "summaries.json"
    path.write_text(json.dumps(summaries, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"summaries.json: {path.stat().st_size:,} bytes")
    for key, value in summaries["models"].items():
        print(f"  {key}: total {value['total_params']:,}")
        for row in value["rows"]:
            print("   ", row)


if __name__ == "__main__":
    make_convolution_values()
    make_summaries()
