"""The convolution layers give Keras 3's numbers, shapes, errors and summaries.

The reference values are Keras 3.15 (JAX backend, float32), written by
`keras_values/make_convolution_values.py` into `keras_values/convolution.npz` (one case per
combination of a grid of arguments for `Conv1D`, `Conv2D`, `Conv2DTranspose`, `DepthwiseConv2D`
and `SeparableConv2D`, with the input, the weights, Keras's output and output shape, and every
combination Keras rejects) and `keras_values/summaries.json` (`model.summary()` of three small
models). Keras is not needed to run these tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import neuralnet
from neuralnet import layers

VALUES = Path(__file__).resolve().parent / "keras_values"


def _load():
    with np.load(VALUES / "convolution.npz", allow_pickle=False) as data:
        cases = json.loads(str(data["cases"]))
        rejected = json.loads(str(data["rejected"]))
        arrays = {key: data[key] for key in data.files if key.startswith("case_")}
    return cases, rejected, arrays


CASES, REJECTED, ARRAYS = _load()
SUMMARIES = json.loads((VALUES / "summaries.json").read_text(encoding="utf-8"))["models"]


def _kwargs(config: str | dict) -> dict:
    """The constructor arguments, tuples for lists (as one writes them in Python)."""
    if isinstance(config, str):
        config = json.loads(config)
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}


def test_the_fixture_covers_every_layer():
    names = {case["layer"] for case in CASES}
    assert names == {"Conv1D", "Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D"}
    assert len(CASES) > 250 and len(REJECTED) > 100


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_forward_matches_keras(case):
    key = case["key"]
    x = ARRAYS[f"{key}_x"]
    expected = ARRAYS[f"{key}_y"]
    weights = [ARRAYS[f"{key}_w{i}"] for i in range(case["n_weights"])]
    layer = getattr(layers, case["layer"])(**_kwargs(case["config"]))
    layer(x)  # builds it
    assert [w.shape for w in layer.get_weights()] == [w.shape for w in weights]
    layer.set_weights(weights)
    y = np.asarray(layer(x))
    assert y.shape == expected.shape
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, expected, rtol=2e-5, atol=2e-6)
    output_shape = tuple(case["output_shape"])
    assert tuple(layer.compute_output_shape(x.shape)) == output_shape
    assert tuple(layer.compute_output_shape((None,) + x.shape[1:])) == (None,) + output_shape[1:]


@pytest.mark.parametrize("case", REJECTED, ids=[case["id"] for case in REJECTED])
def test_rejects_what_keras_rejects(case):
    x = np.zeros(case["input_shape"], dtype="float32")
    with pytest.raises(ValueError):
        layer = getattr(layers, case["layer"])(**_kwargs(case["config"]))
        layer(x)


# --------------------------------------------------------------------------------------------
# model.summary() and count_params() of three convolutional models
# --------------------------------------------------------------------------------------------


def _convnet():
    return neuralnet.Sequential(
        [
            neuralnet.Input((28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(128, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )


def _autoencoder():
    return neuralnet.Sequential(
        [
            neuralnet.Input((28, 28, 1)),
            layers.Conv2D(16, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(2, padding="same"),
            layers.Conv2D(8, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(2, padding="same"),
            layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same"),
            layers.Conv2DTranspose(16, 3, strides=2, activation="relu", padding="same"),
            layers.Conv2D(1, 3, activation="sigmoid", padding="same"),
        ]
    )


def _depthwise_separable():
    return neuralnet.Sequential(
        [
            neuralnet.Input((10, 10, 3)),
            layers.DepthwiseConv2D(3, depth_multiplier=2),
            layers.SeparableConv2D(8, 3),
        ]
    )


MODELS = {
    "convnet": _convnet,
    "autoencoder": _autoencoder,
    "depthwise_separable": _depthwise_separable,
}

_ROWS = "│|"  # a table row (unicode or ASCII box)
_RULES = "┏┡├└┗+"  # a horizontal rule


def _table(text: str) -> tuple[list[str], list[list[str]], list[str]]:
    """(header cells, body rows [layer (type), output shape, param #], lines after the table)
    from a summary, whichever box characters it is drawn with; wrapped cells are joined."""
    lines = text.splitlines()
    top = next(i for i, line in enumerate(lines) if "Layer (type)" in line)
    header = [c.strip() for c in lines[top][1:-1].split(lines[top][0])]
    rows: list[list[str]] = []
    fresh = True  # the next row line starts a new table row
    end = len(lines)
    for i in range(top + 1, len(lines)):
        line = lines[i]
        if not line or line[0] not in _ROWS + _RULES:
            end = i
            break
        if line[0] in _RULES:
            fresh = True
            continue
        cells = [c.strip() for c in line[1:-1].split(line[0])]
        if fresh:
            rows.append(cells)
            fresh = False
        else:
            rows[-1] = [(a + " " + b).strip() for a, b in zip(rows[-1], cells)]
    return header, rows, [line.strip() for line in lines[end:] if line.strip()]


@pytest.mark.parametrize("key", list(MODELS))
def test_summary_matches_keras(key):
    keras_model = SUMMARIES[key]
    neuralnet.utils.clear_session()
    model = MODELS[key]()
    assert len(model.layers) == len(keras_model["layers"])
    for layer, expected in zip(model.layers, keras_model["layers"]):
        assert type(layer).__name__ == expected["type"]
        assert layer.name == expected["name"]
        assert tuple(layer.output_shape) == tuple(expected["output_shape"]), layer.name
        assert layer.count_params() == expected["count_params"], layer.name
    assert model.count_params() == keras_model["total_params"]

    lines: list[str] = []
    model.summary(print_fn=lines.append)
    ours = "\n".join(lines)
    header, rows, after = _table(ours)
    k_header, k_rows, k_after = _table(keras_model["summary"])
    assert ours.splitlines()[0] == keras_model["summary"].splitlines()[0]  # Model: "sequential"
    assert header == k_header
    assert rows == keras_model["rows"] == k_rows
    assert after == k_after  # Total / Trainable / Non-trainable params, with sizes
