"""Write preprocessing.npz: Keras 3's Normalization and Rescaling (adapted statistics, outputs,
configs and weights), for tests/layers/test_preprocessing.py.

Run with Keras 3 on the JAX backend (the numbers were made with keras 3.15.1):

    KERAS_BACKEND=jax python tests/layers/keras_values/make_preprocessing_values.py [MODEL.keras]

The file holds, for case i: `x_i` (the float32 input), `y_i` (Keras's output), `adapt_i` (the
data adapted on, for adapted cases), `w<j>_i` (Keras's get_weights()), and in `cases` a JSON list
of {"layer", "args", "adapt" (how: null, "array" or "array"; Keras 3.15.1 adapts on batches only with
TensorFlow installed), "keras_config"
(get_config without name, trainable and dtype), "weights" ([path, shape, dtype] per weight, in
Keras's order)}.

With a MODEL.keras path (written by neuralnet, with `MODEL.x.npy` and `MODEL.y.npy` beside it:
inputs and neuralnet's predictions), the script also loads the model in Keras and compares.
"""

import json
import os
import sys
from pathlib import Path

import numpy as np

if os.environ.get("KERAS_BACKEND") != "jax":
    raise SystemExit("Set KERAS_BACKEND=jax: the expected numbers are those of the JAX backend.")

import keras


def cases(rng):
    x2 = rng.normal(3.0, 2.0, (20, 3)).astype("float32")
    x4 = rng.normal(-1.0, 0.5, (8, 3, 4, 2)).astype("float32")
    x3 = rng.normal(0.0, 3.0, (6, 5, 4)).astype("float32")
    yield "Normalization", {}, ("array", x2), x2[:5]
    yield "Normalization", {"axis": [1, 2]}, ("array", x4), x4[:3]
    yield "Normalization", {"axis": -1, "invert": True}, ("array", x2), x2[:5]
    yield "Normalization", {"axis": None}, ("array", x3), x3[:2]
    yield "Normalization", {"axis": [0, 2]}, ("array", x3[:, :, :]), x3
    yield "Normalization", {"axis": 1}, ("array", x3), x3[:2]
    yield "Normalization", {"mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 0.0]}, None, x2[:5]
    yield (
        "Normalization",
        {"mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 9.0], "invert": True},
        None,
        x2[:5],
    )
    yield "Normalization", {"axis": None, "mean": 3.0, "variance": 2.0}, None, x3[:2]
    yield (
        "Normalization",
        {"axis": [1, 2], "mean": [1.0, -1.0, 0.5, 2.0], "variance": [2.0, 0.5, 1.0, 3.0]},
        None,
        x4[:2],
    )
    yield "Rescaling", {"scale": 1 / 255}, None, (x2 * 40).round()
    yield "Rescaling", {"scale": 1 / 127.5, "offset": -1.0}, None, (x4 * 40).round()
    yield "Rescaling", {"scale": [0.5, 2.0], "offset": [1.0, -1.0]}, None, x4[:2]


def main():
    rng = np.random.default_rng(20261206)
    arrays, described = {}, []
    for i, (layer_name, args, adapt, x) in enumerate(cases(rng)):
        layer = getattr(keras.layers, layer_name)(**args)
        how = None
        if adapt is not None:
            how, data = adapt[0], adapt[1]
            arrays[f"adapt_{i}"] = data
            if how == "array":
                layer.adapt(data)
            else:
                # Keras 3.15.1 tests `isinstance(data, tf.data.Dataset)` before anything but
                # arrays, so adapting on batches needs TensorFlow installed: not used here.
                raise NotImplementedError(how)
        y = np.asarray(layer(x))
        arrays[f"x_{i}"], arrays[f"y_{i}"] = x, y
        for j, w in enumerate(layer.get_weights()):
            arrays[f"w{j}_{i}"] = np.asarray(w)
        config = layer.get_config()
        for key in ("name", "trainable", "dtype"):
            config.pop(key)
        config = json.loads(json.dumps(config))  # tuples as lists, as in a .keras file
        described.append(
            {
                "layer": layer_name,
                "args": args,
                "adapt": how
                if how is None
                else {"how": how, "batch": adapt[2] if how == "batches" else None},
                "keras_config": config,
                "weights": [
                    [w.path.split("/")[-1], list(w.shape), str(w.dtype)] for w in layer.weights
                ],
            }
        )
    out = Path(__file__).with_name("preprocessing.npz")
    np.savez_compressed(out, cases=json.dumps(described), **arrays)
    print(f"wrote {out} ({len(described)} cases)")

    if len(sys.argv) > 1:
        path = sys.argv[1]
        model = keras.models.load_model(path)
        x = np.load(path + ".x.npy")
        expected = np.load(path + ".y.npy")
        got = model.predict(x, verbose=0)
        print(
            f"{path} loads in Keras {keras.__version__}: predictions differ by at most "
            f"{np.abs(got - expected).max():.3g}; weights "
            f"{[(w.path, w.dtype) for w in model.layers[0].weights]}"
        )


if __name__ == "__main__":
    main()
