"""Train the lecture's spiral classifier, export it to ONNX, and classify with ONNX Runtime alone.

The second half (`classify_with_onnxruntime`) imports onnxruntime and NumPy only: it is what a
pipeline, a web service or a C++ program (with ONNX Runtime's C++ API) does with the file, on a
machine where neuralnet is not installed. The script checks that both give the same classes.

Run it:  python examples/spiral_onnx.py --out out
"""

from __future__ import annotations

import argparse
import os


def train_and_export(path: str, epochs: int = 300):
    """The lecture's two-layer network (100 ReLU units) on the spiral, written to `path`."""
    import neuralnet as nn
    from neuralnet import layers

    x, y = nn.datasets.make_spiral(seed=0)
    nn.utils.set_random_seed(0)
    model = nn.Sequential([
        nn.Input((2,), name="point"),
        layers.Dense(100, activation="relu"),
        layers.Dense(3, activation="softmax", name="class_probabilities"),
    ])  # fmt: skip
    model.compile(nn.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=64, epochs=epochs, verbose=0)
    model.export(path, format="onnx")
    return model, x, y


def classify_with_onnxruntime(path: str, points):
    """The class of each point, from the ONNX file alone (no neuralnet here)."""
    import numpy as np
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    (probabilities,) = session.run(None, {"point": np.asarray(points, dtype=np.float32)})
    return probabilities.argmax(axis=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out")
    parser.add_argument("--epochs", type=int, default=300)
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "spiral.onnx")
    model, x, y = train_and_export(path, args.epochs)
    ours = model.predict(x, verbose=0).argmax(axis=1)
    theirs = classify_with_onnxruntime(path, x)
    print(f"training accuracy: {(ours == y).mean():.3f}")
    print(f"ONNX Runtime and neuralnet agree on {(ours == theirs).sum()} of {len(x)} points")
    print(f"Wrote {path} ({os.path.getsize(path):,} bytes).")
    return 0 if (ours == theirs).all() else 1


if __name__ == "__main__":
    raise SystemExit(main())
