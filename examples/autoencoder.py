"""The lecture's last topic: autoencoders, networks that learn a compressed code of their input.

An encoder maps each image to a short code and a decoder maps the code back to an image; trained to
reproduce their input, they learn "an efficient representation of the data". This example trains, on
scikit-learn's 8×8 digits (or the MNIST test images, with `--mnist FOLDER`):

- a linear autoencoder, whose best solution spans the same subspace as PCA (so it should come within
  a few percent of PCA's reconstruction error at the same code size);
- a nonlinear autoencoder with a 2-unit code, which can do better than PCA with 2 components;
- a denoising autoencoder, trained on inputs corrupted by GaussianNoise to reproduce clean images.

The encoder and decoder are models of their own, called inside the autoencoder: after training they
hold the trained weights and can be used alone (`encoder.predict(x)` gives the codes).

Run it:  python examples/autoencoder.py --out out [--mnist ../shared/data/mnist]
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import neuralnet as nn
from neuralnet import Input, Model, layers, plotting


def pca_reconstruction_error(x: np.ndarray, components: int) -> float:
    """Mean squared error of reconstructing `x` from its first principal components."""
    mean = x.mean(axis=0)
    centered = (x - mean).astype(np.float64)
    _, _, vt = np.linalg.svd(centered, full_matrices=False)
    basis = vt[:components]
    reconstruction = centered @ basis.T @ basis + mean
    return float(np.mean((x - reconstruction) ** 2))


def build_autoencoder(
    input_dim: int,
    code_size: int,
    hidden: tuple[int, ...] = (),
    activation: str | None = "relu",
    output_activation: str | None = "sigmoid",
    noise: float = 0.0,
) -> tuple[Model, Model, Model]:
    """Encoder, decoder and the autoencoder that chains them (sharing their weights).

    With `hidden=()` and no activations the autoencoder is linear.
    """
    inputs = Input(shape=(input_dim,), name="image")
    h = inputs
    for units in hidden:
        h = layers.Dense(units, activation=activation)(h)
    code = layers.Dense(code_size, name="code")(h)
    encoder = Model(inputs, code, name="encoder")

    code_input = Input(shape=(code_size,), name="code_input")
    h = code_input
    for units in reversed(hidden):
        h = layers.Dense(units, activation=activation)(h)
    reconstruction = layers.Dense(input_dim, activation=output_activation, name="reconstruction")(h)
    decoder = Model(code_input, reconstruction, name="decoder")

    x = Input(shape=(input_dim,), name="input")
    corrupted = layers.GaussianNoise(noise)(x) if noise else x
    autoencoder = Model(x, decoder(encoder(corrupted)), name="autoencoder")
    return encoder, decoder, autoencoder


def train(
    autoencoder: Model,
    x: np.ndarray,
    epochs: int,
    learning_rate: float = 1e-2,
    batch_size: int = 64,
) -> float:
    """Train to reproduce `x`; the final mean squared reconstruction error (no noise)."""
    autoencoder.compile(optimizer=nn.optimizers.Adam(learning_rate), loss="mse")
    autoencoder.fit(x, x, batch_size=batch_size, epochs=epochs, verbose=0)
    return float(np.mean((autoencoder.predict(x, verbose=0) - x) ** 2))


def load(mnist: str | None) -> tuple[np.ndarray, np.ndarray, int]:
    if mnist:
        x, y = nn.datasets.load_mnist(mnist, split="test", normalize=True, flatten=True)
        return x, y, 28
    x, y = nn.datasets.load_digits()
    return x, y, 8


def run(mnist: str | None = None, epochs: int = 150, seed: int = 0) -> dict:
    """Train the three autoencoders and compare them with PCA."""
    x, y, side = load(mnist)
    nn.utils.set_random_seed(seed)
    results = {"x": x, "y": y, "side": side}

    _, _, linear = build_autoencoder(x.shape[1], 8, activation=None, output_activation=None)
    results["linear_error"] = train(linear, x, epochs)
    results["pca8_error"] = pca_reconstruction_error(x, 8)

    encoder, decoder, deep = build_autoencoder(x.shape[1], 2, hidden=(64, 32))
    results["code2_error"] = train(deep, x, epochs, learning_rate=3e-3)
    results["pca2_error"] = pca_reconstruction_error(x, 2)
    results["encoder"], results["decoder"], results["autoencoder"] = encoder, decoder, deep

    _, _, denoising = build_autoencoder(x.shape[1], 16, hidden=(64,), noise=0.2)
    results["denoising_error"] = train(denoising, x, epochs, learning_rate=3e-3)
    results["denoising"] = denoising
    return results


def _image_grid(figure, rows: list[tuple[str, np.ndarray]], side: int) -> None:
    axes = figure.subplots(len(rows), rows[0][1].shape[0], squeeze=False)
    for r, (label, images) in enumerate(rows):
        for c, image in enumerate(images):
            ax = axes[r][c]
            ax.imshow(image.reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(label, fontsize=8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out")
    parser.add_argument(
        "--mnist", default=None, help="folder with MNIST IDX files (uses the test images)"
    )
    parser.add_argument("--epochs", type=int, default=150)
    args = parser.parse_args(argv)
    results = run(args.mnist, args.epochs)
    x, y, side = results["x"], results["y"], results["side"]
    print(f"data: {len(x)} images of {side}x{side}")
    print(f"{'model':<34} {'reconstruction MSE':>18}")
    print(f"{'PCA, 8 components':<34} {results['pca8_error']:>18.5f}")
    print(f"{'linear autoencoder, 8-unit code':<34} {results['linear_error']:>18.5f}")
    print(f"{'PCA, 2 components':<34} {results['pca2_error']:>18.5f}")
    print(f"{'nonlinear autoencoder, 2-unit code':<34} {results['code2_error']:>18.5f}")
    print(f"{'denoising autoencoder, 16-unit code':<34} {results['denoising_error']:>18.5f}")

    os.makedirs(args.out, exist_ok=True)
    sample = x[:10]
    rng = np.random.default_rng(1)
    noisy = np.clip(sample + rng.normal(0, 0.2, sample.shape).astype(np.float32), 0, 1)
    figure = plotting.new_figure((10, 4.4))
    _image_grid(figure, [
        ("original", sample),
        ("2-unit code", results["autoencoder"].predict(sample, verbose=0)),
        ("noisy input", noisy),
        ("denoised", results["denoising"].predict(noisy, verbose=0)),
    ], side)  # fmt: skip
    reconstructions = os.path.join(args.out, "autoencoder_reconstructions.png")
    plotting.save_figure(figure, reconstructions)

    codes = results["encoder"].predict(x, verbose=0)
    figure = plotting.new_figure((5.5, 4.8))
    ax = figure.subplots()
    points = ax.scatter(codes[:, 0], codes[:, 1], c=y, cmap="tab10", s=6)
    figure.colorbar(points, ax=ax, label="digit")
    ax.set_title("the 2-D code of each image, by digit")
    codes_path = os.path.join(args.out, "autoencoder_codes.png")
    plotting.save_figure(figure, codes_path)
    print(f"Wrote {reconstructions} and {codes_path}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
