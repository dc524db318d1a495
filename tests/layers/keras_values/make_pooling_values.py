"""Store Keras 3's pooling outputs, output shapes and a few gradients in pooling.npz.

Run from the repository root with Keras 3 and JAX installed (the JAX backend: its pooling is
`lax.reduce_window`, and its gradients route ties the way the tests pin):

    KERAS_BACKEND=jax python tests/layers/keras_values/make_pooling_values.py

The file holds the inputs (`x/<name>`), one JSON string `configs` (a list of dicts: the layer's
class name, its keyword arguments, the input's name and Keras's `compute_output_shape` for a
few input shapes) and each config's output `y/<i>`; configs with `"grad": true` also store an
upstream gradient `w/<i>` and Keras's dJ/dx `g/<i>` for J = Σ y·w.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import keras

OUT = Path(__file__).with_name("pooling.npz")
rng = np.random.default_rng(20261206)

# Odd sizes, so that "valid" drops the last rows and "same" pads unevenly.
inputs = {
    "x2d_cl": rng.standard_normal((2, 7, 5, 3)).astype(np.float32),
    "x2d_cf": rng.standard_normal((2, 3, 7, 5)).astype(np.float32),
    "x1d_cl": rng.standard_normal((2, 9, 3)).astype(np.float32),
    "x1d_cf": rng.standard_normal((2, 3, 9)).astype(np.float32),
    # Small integers: many ties, to pin where the gradient of a maximum goes.
    "ties2d": rng.integers(0, 3, (2, 6, 5, 2)).astype(np.float32),
    "ties1d": rng.integers(0, 2, (2, 7, 2)).astype(np.float32),
}
short = {"channels_last": "cl", "channels_first": "cf"}

configs: list[dict] = []


def add(cls_name: str, kwargs: dict, input_name: str, grad: bool = False) -> None:
    configs.append({"class": cls_name, "kwargs": kwargs, "input": input_name, "grad": grad})


for cls_name, pools, dims in [
    ("MaxPooling2D", [2, 3, [2, 3]], "2d"),
    ("AveragePooling2D", [2, 3, [2, 3]], "2d"),
    ("MaxPooling1D", [2, 3], "1d"),
    ("AveragePooling1D", [2, 3], "1d"),
]:
    for pool, strides, padding, data_format in itertools.product(
        pools, [None, 1, 2], ["valid", "same"], ["channels_last", "channels_first"]
    ):
        kwargs = {"pool_size": pool, "strides": strides, "padding": padding,
                  "data_format": data_format}  # fmt: skip
        add(cls_name, kwargs, f"x{dims}_{short[data_format]}")
# Strides that differ per axis or exceed the pool (gaps between windows).
for cls_name in ("MaxPooling2D", "AveragePooling2D"):
    for pool, strides, padding in [
        ([3, 2], [2, 1], "same"),
        ([2, 2], [3, 3], "valid"),
        ([2, 2], [3, 3], "same"),
        ([3, 1], [1, 3], "same"),
        ([1, 1], [1, 1], "valid"),
    ]:
        add(cls_name, {"pool_size": pool, "strides": strides, "padding": padding}, "x2d_cl")
for cls_name, dims in itertools.product(["GlobalMaxPooling", "GlobalAveragePooling"], ["1D", "2D"]):
    for keepdims, data_format in itertools.product(
        [False, True], ["channels_last", "channels_first"]
    ):
        add(
            cls_name + dims,
            {"data_format": data_format, "keepdims": keepdims},
            f"x{dims[0]}d_{short[data_format]}",
        )
# Gradients where maxima tie: windowed max pooling (overlapping, padded) and global max pooling.
add("MaxPooling2D", {"pool_size": 2, "strides": 1, "padding": "same"}, "ties2d", grad=True)
add(
    "MaxPooling2D",
    {"pool_size": [3, 2], "strides": [2, 1], "padding": "valid"},
    "ties2d",
    grad=True,
)
add("MaxPooling1D", {"pool_size": 3, "strides": 1, "padding": "same"}, "ties1d", grad=True)
add("GlobalMaxPooling2D", {}, "ties2d", grad=True)
add("GlobalMaxPooling1D", {"keepdims": True}, "ties1d", grad=True)
add("AveragePooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, "x2d_cl", grad=True)

arrays: dict[str, np.ndarray] = {f"x/{k}": v for k, v in inputs.items()}
for i, config in enumerate(configs):
    layer = getattr(keras.layers, config["class"])(**config["kwargs"])
    x = inputs[config["input"]]
    y = np.asarray(layer(x))
    arrays[f"y/{i}"] = y
    # compute_output_shape on the batch shape with an unknown batch, and with this input's sizes.
    probes = [(None, *x.shape[1:]), x.shape]
    config["output_shapes"] = [
        [list(p), list(layer.compute_output_shape(tuple(p)))] for p in probes
    ]
    assert tuple(config["output_shapes"][1][1]) == y.shape, config
    if config["grad"]:
        w = rng.standard_normal(y.shape).astype(np.float32)

        def cost(x, w=w, layer=layer):
            return (layer(x) * w).sum()

        arrays[f"w/{i}"] = w
        arrays[f"g/{i}"] = np.asarray(jax.grad(cost)(x))

arrays["configs"] = np.array(json.dumps(configs))
arrays["keras_version"] = np.array(keras.__version__)
np.savez_compressed(OUT, **arrays)
print(f"{len(configs)} configs, {OUT.stat().st_size} bytes -> {OUT}")
