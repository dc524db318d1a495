"""A convolutional autoencoder against the dense one of examples/autoencoder.py, on MNIST digits.

The convolutional encoder keeps the picture's layout: two 3x3 convolutions, each followed by 2x2
max pooling, map a 28x28 image to a 7x7x8 code; two strided transposed convolutions and a last 3x3
convolution with a sigmoid map it back to 28x28. Each filter is a few weights shared across the whole
image, so the network needs only a few thousand parameters. The dense autoencoder of
examples/autoencoder.py (`build_autoencoder`) sees each image as a vector of 784 unrelated numbers
and needs hundreds of thousands of weights.

Both are trained on the same 8,000 of the MNIST test images (the split of examples/mnist_convnet.py)
for the same number of epochs with the same batch size (Adam, learning rate 1e-3), and both are
measured by the mean squared error of their reconstructions of the 1,000 held-out images. The script
writes one picture: held-out originals, the dense autoencoder's reconstructions and the
convolutional one's.

Measured (20 epochs, 2 CPU cores): the convolutional autoencoder (3,217 parameters) reaches a
held-out MSE of about 0.0052, the dense 784-128-32 one (209,968 parameters) about 0.012. Mind the
codes, though: 7x7x8 = 392 numbers against 32, so the convolutional one compresses far less. A dense
autoencoder with a 392-unit code (`--dense-code 392 --dense-hidden`, 615,832 parameters) reaches
about 0.0023, better than the convolutional one, with 190 times its parameters.

Run it:  python examples/conv_autoencoder.py --out out [--data ../shared/data/mnist] [--epochs 20]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time

import numpy as np

import neuralnet as nn
from neuralnet import Model, layers, plotting

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, "..", "..", "shared", "data", "mnist")
DEFAULT_EPOCHS = 20


def _sibling(name: str):
    """`examples/<name>.py` as a module (its `main` is not run)."""
    spec = importlib.util.spec_from_file_location(
        f"_example_{name}", os.path.join(HERE, f"{name}.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dense_autoencoder = _sibling("autoencoder")  # build_autoencoder, train, _image_grid
mnist_convnet = _sibling("mnist_convnet")  # load_split (the stratified 80/10/10 split)


def build_conv_autoencoder() -> tuple[Model, Model, Model]:
    """Encoder (28x28x1 → 7x7x8), decoder (7x7x8 → 28x28x1) and the autoencoder chaining them."""
    image = nn.Input(shape=(28, 28, 1), name="image")
    h = layers.Conv2D(16, (3, 3), activation="relu", padding="same")(image)
    h = layers.MaxPooling2D((2, 2), padding="same")(h)
    h = layers.Conv2D(8, (3, 3), activation="relu", padding="same")(h)
    code = layers.MaxPooling2D((2, 2), padding="same", name="code")(h)
    encoder = Model(image, code, name="conv_encoder")

    code_input = nn.Input(shape=(7, 7, 8), name="code_input")
    h = layers.Conv2DTranspose(8, (3, 3), strides=2, activation="relu", padding="same")(code_input)
    h = layers.Conv2DTranspose(16, (3, 3), strides=2, activation="relu", padding="same")(h)
    reconstruction = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(h)
    decoder = Model(code_input, reconstruction, name="conv_decoder")

    x = nn.Input(shape=(28, 28, 1), name="input")
    autoencoder = Model(x, decoder(encoder(x)), name="conv_autoencoder")
    return encoder, decoder, autoencoder


def held_out_mse(autoencoder: Model, x: np.ndarray) -> float:
    """Mean squared error of the reconstructions of `x` (pixels in [0, 1])."""
    return float(np.mean((autoencoder.predict(x, batch_size=500, verbose=0) - x) ** 2))


def run(
    data: str = DEFAULT_DATA,
    epochs: int = DEFAULT_EPOCHS,
    batch_size: int = 128,
    samples: int | None = None,
    dense_code: int = 32,
    dense_hidden: tuple[int, ...] = (128,),
    seed: int = 0,
) -> dict:
    """Train both autoencoders on the training part of the split; measure them on the held-out one.

    Returns a dict with, for `"dense"` and `"conv"`, a dict of `model`, `mse` (held-out),
    `train_mse`, `parameters`, `code_size` and `seconds` (training time); and `x_test`.
    """
    split = mnist_convnet.load_split(data, samples, seed)
    x_train, x_test = split["train"][0], split["test"][0]
    results: dict = {"x_test": x_test, "train_samples": len(x_train)}

    nn.utils.set_random_seed(seed)
    _, _, dense = dense_autoencoder.build_autoencoder(784, dense_code, hidden=dense_hidden)
    flat_train, flat_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    start = time.perf_counter()
    train_mse = dense_autoencoder.train(
        dense, flat_train, epochs, learning_rate=1e-3, batch_size=batch_size
    )
    results["dense"] = {
        "model": dense,
        "seconds": time.perf_counter() - start,
        "train_mse": train_mse,
        "mse": held_out_mse(dense, flat_test),
        "parameters": dense.count_params(),
        "code_size": dense_code,
    }

    nn.utils.set_random_seed(seed)
    encoder, _, conv = build_conv_autoencoder()
    conv.compile(optimizer=nn.optimizers.Adam(1e-3), loss="binary_crossentropy")
    start = time.perf_counter()
    conv.fit(x_train, x_train, batch_size=batch_size, epochs=epochs, verbose=0)
    results["conv"] = {
        "model": conv,
        "seconds": time.perf_counter() - start,
        "train_mse": held_out_mse(conv, x_train),
        "mse": held_out_mse(conv, x_test),
        "parameters": conv.count_params(),
        "code_size": int(np.prod(encoder.output_shape[1:])),
    }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--out", default="out")
    parser.add_argument(
        "--data", default=DEFAULT_DATA, help="folder with the MNIST IDX files (the t10k ones)"
    )
    parser.add_argument(
        "--samples", type=int, default=None, help="use only this many images (quick runs)"
    )
    parser.add_argument("--dense-code", type=int, default=32, help="the dense autoencoder's code")
    parser.add_argument(
        "--dense-hidden", type=int, nargs="*", default=[128], help="its hidden layers' widths"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    results = run(
        args.data,
        args.epochs,
        args.batch_size,
        args.samples,
        args.dense_code,
        tuple(args.dense_hidden),
        args.seed,
    )
    dense, conv = results["dense"], results["conv"]
    hidden = "-".join(str(units) for units in args.dense_hidden)
    names = {
        "dense": f"dense 784-{hidden + '-' if hidden else ''}{args.dense_code} (MSE loss)",
        "conv": "convolutional, 7x7x8 code (BCE loss)",
    }
    x_test = results["x_test"]
    print(
        f"data: {results['train_samples']} training images, {len(x_test)} held out; "
        f"{args.epochs} epochs, batch {args.batch_size}"
    )
    header = (
        f"{'autoencoder':<38} {'parameters':>10} {'code':>5} {'held-out MSE':>12} {'train s':>8}"
    )
    print(header)
    for key, r in (("dense", dense), ("conv", conv)):
        print(
            f"{names[key]:<38} {r['parameters']:>10,} {r['code_size']:>5} {r['mse']:>12.5f} "
            f"{r['seconds']:>8.1f}"
        )
    print(
        f"held-out MSE dense / conv = {dense['mse'] / conv['mse']:.2f}; "
        f"parameters dense / conv = {dense['parameters'] / conv['parameters']:.1f}"
    )

    os.makedirs(args.out, exist_ok=True)
    sample = x_test[:10]
    figure = plotting.new_figure((10, 3.4))
    dense_autoencoder._image_grid(figure, [
        ("original", sample.reshape(len(sample), -1)),
        ("dense AE", dense["model"].predict(sample.reshape(len(sample), -1), verbose=0)),
        ("conv AE", conv["model"].predict(sample, verbose=0)),
    ], 28)  # fmt: skip
    figure.suptitle(
        f"held-out digits: dense AE (MSE {dense['mse']:.4f}, {dense['parameters']:,} parameters) "
        f"vs conv AE (MSE {conv['mse']:.4f}, {conv['parameters']:,} parameters)",
        fontsize=9,
    )
    path = os.path.join(args.out, "conv_autoencoder_reconstructions.png")
    plotting.save_figure(figure, path)
    print(f"Wrote {path}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
