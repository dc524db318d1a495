"""The MNIST-shaped network trained by several MPI ranks from a memory-mapped file.

    mpiexec -n 2 python examples/distributed_mnist.py --out out      # or: srun python ...

The one line that makes this script distributed is `neuralnet.distributed.initialize()`; the rest
is the script one process would run. Rank 0 writes the MNIST test images (from
../shared/data/mnist, or random digits-shaped data where they are missing) to `--out` as a uint8
.npy file once; every rank then maps it (`np.load(..., mmap_mode="r")`) and reads only its rows of
each batch, converted to float32 batch by batch. Each rank prints nothing but rank 0, which shows
the progress, the held-out accuracy, and saves the model. The first layer, BatchNormalization,
scales the raw 0-255 pixels (with each rank's own batch statistics; the moving statistics are
averaged over the ranks at every epoch's end).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import neuralnet as nn
import neuralnet.distributed
from neuralnet import layers

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, "..", "..", "shared", "data", "mnist")


def write_data(data: str, out: str) -> tuple[str, str]:
    """The images (uint8, 784 per row) and labels as .npy files in `out` (written once)."""
    images, labels = os.path.join(out, "mnist_x.npy"), os.path.join(out, "mnist_y.npy")
    if not os.path.exists(images):
        try:
            x, y = nn.datasets.load_mnist(data, split="test", flatten=True)
        except (FileNotFoundError, ValueError):
            rng = np.random.default_rng(0)
            y = rng.integers(0, 10, 10_000)
            x = (rng.random((10_000, 784)) * 40 + y[:, None] * 20).astype(np.uint8)
        np.save(labels, y.astype(np.int64))
        np.save(images, x.astype(np.uint8))
    return images, labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out")
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256, help="the global batch")
    args = parser.parse_args(argv)

    comm = neuralnet.distributed.initialize()  # the one line that makes it distributed
    if comm.is_chief:
        os.makedirs(args.out, exist_ok=True)
        write_data(args.data, args.out)
    comm.barrier()  # the files exist before the other ranks map them
    images, labels = write_data(args.data, args.out)
    x = np.load(images, mmap_mode="r")  # uint8 on disk; float32 one batch at a time
    y = np.load(labels)
    held_out = len(x) // 10

    nn.utils.set_random_seed(0)
    model = nn.Sequential([
        nn.Input((784,)),
        layers.BatchNormalization(),  # pixels 0-255 to zero mean, unit variance, per batch
        layers.Dense(256, activation="relu"),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])  # fmt: skip
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x[:-held_out], y[:-held_out], batch_size=args.batch_size, epochs=args.epochs,
              validation_split=0.1, verbose=2)  # fmt: skip
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x[-held_out:], y[-held_out:], batch_size=1024, verbose=0)
    model.save(os.path.join(args.out, "distributed_mnist.keras"))  # rank 0 writes it
    if comm.is_chief:
        print(f"{comm.size} ranks, {seconds:.1f} s; held-out loss {loss:.4f}, "
              f"accuracy {accuracy:.4f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
