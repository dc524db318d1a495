"""Write resizing.npz: Keras 3's outputs of the resizing layers (UpSampling, ZeroPadding, Cropping
in 1D and 2D) over a grid of configurations, for tests/layers/test_resizing.py.

Run with Keras 3 on the JAX backend (the numbers were made with keras 3.15.1, jax 0.10.2):

    KERAS_BACKEND=jax python tests/layers/keras_values/make_resizing_values.py

The file holds, for case i: `x_i` (the float32 input), `y_i` (Keras's output), and in `cases` a
JSON list of {"layer", "args" (the constructor's arguments), "keras_config" (Keras's get_config
without name, trainable and dtype), "output_shape" (Keras's compute_output_shape of the input shape
with the batch unknown), "unknown_output_shape" (the same with the spatial sizes unknown too)}.
"""

import itertools
import json
import os
from pathlib import Path

import numpy as np

if os.environ.get("KERAS_BACKEND") != "jax":
    raise SystemExit("Set KERAS_BACKEND=jax: the expected numbers are those of the JAX backend.")

import keras

FORMATS = ("channels_last", "channels_first")


def cases():
    for size in (1, 2, 3):
        yield "UpSampling1D", {"size": size}, (2, 4, 3)
    sizes = (2, [1, 3], [3, 2])
    for size, interpolation, data_format in itertools.product(
        sizes, ("nearest", "bilinear"), FORMATS
    ):
        shape = (2, 4, 5, 3) if data_format == "channels_last" else (2, 3, 4, 5)
        yield "UpSampling2D", {"size": size, "interpolation": interpolation,
                               "data_format": data_format}, shape  # fmt: skip
    # An axis of one pixel, and a factor of 1 on one axis, bilinear.
    yield "UpSampling2D", {"size": [2, 1], "interpolation": "bilinear"}, (1, 1, 3, 2)
    yield "UpSampling2D", {"size": [4, 4], "interpolation": "BILINEAR"}, (1, 2, 3, 1)
    for padding, data_format in itertools.product((1, [0, 2], [2, 1], 0), FORMATS):
        yield "ZeroPadding1D", {"padding": padding, "data_format": data_format}, (2, 4, 3)
    paddings = (1, [2, 0], [[1, 2], [0, 3]], [1, [2, 3]], 0)
    for padding, data_format in itertools.product(paddings, FORMATS):
        shape = (2, 4, 5, 3) if data_format == "channels_last" else (2, 3, 4, 5)
        yield "ZeroPadding2D", {"padding": padding, "data_format": data_format}, shape
    for cropping in (1, [0, 2], [2, 1], 0, [3, 2]):
        yield "Cropping1D", {"cropping": cropping}, (2, 6, 3)
    croppings = (1, [2, 0], [[1, 2], [0, 3]], [[0, 0], [0, 0]], [[3, 0], [1, 1]])
    for cropping, data_format in itertools.product(croppings, FORMATS):
        shape = (2, 5, 6, 3) if data_format == "channels_last" else (2, 3, 5, 6)
        yield "Cropping2D", {"cropping": cropping, "data_format": data_format}, shape


def spatial_unknown(shape, data_format):
    if data_format == "channels_first":
        return (None, shape[1]) + (None,) * (len(shape) - 2)
    return (None,) + (None,) * (len(shape) - 2) + (shape[-1],)


def as_json(value):
    return json.loads(json.dumps(value))


def main():
    rng = np.random.default_rng(20261206)
    arrays, described = {}, []
    for i, (name, args, shape) in enumerate(cases()):
        layer = getattr(keras.layers, name)(**args)
        x = rng.standard_normal(shape).astype(np.float32)
        y = np.asarray(layer(x))
        data_format = getattr(layer, "data_format", "channels_last")
        config = {k: v for k, v in layer.get_config().items()
                  if k not in ("name", "trainable", "dtype")}  # fmt: skip
        arrays[f"x_{i}"], arrays[f"y_{i}"] = x, y
        described.append({
            "layer": name,
            "args": args,
            "keras_config": as_json(config),
            "output_shape": list(layer.compute_output_shape((None, *shape[1:]))),
            "unknown_output_shape": list(
                layer.compute_output_shape(spatial_unknown(shape, data_format))
            ),
        })  # fmt: skip
        assert tuple(y.shape[1:]) == tuple(described[-1]["output_shape"][1:])
    target = Path(__file__).with_name("resizing.npz")
    np.savez_compressed(target, cases=np.array(json.dumps(described)), **arrays)
    print(f"{len(described)} cases written to {target} ({target.stat().st_size} bytes), "
          f"keras {keras.__version__}")  # fmt: skip


if __name__ == "__main__":
    main()
