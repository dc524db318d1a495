"""The convolutional examples on MNIST: the Keras convnet and the convolutional autoencoder."""

import os
import re

import numpy as np
import pytest

from example_modules import load_example

pytest.importorskip("matplotlib")
convnet = load_example("mnist_convnet")
conv_autoencoder = load_example("conv_autoencoder")

import neuralnet as nn

DATA = convnet.DEFAULT_DATA
HAVE_MNIST = any(
    os.path.exists(os.path.join(DATA, name))
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte")
)
needs_mnist = pytest.mark.skipif(
    not HAVE_MNIST, reason=f"the MNIST test images are not in {os.path.normpath(DATA)}"
)


def _number(text: str, label: str) -> float:
    match = re.search(rf"{label}:\s*([0-9.]+)", text)
    assert match, f"no '{label}' in the output:\n{text}"
    return float(match.group(1))


def test_stratified_split_gives_disjoint_parts_of_the_asked_sizes_with_every_class_in_proportion():
    y = np.repeat(np.arange(10), [100, 120, 80, 90, 110, 100, 95, 105, 100, 100])
    parts = convnet.stratified_split(y, (800, 100, 100), seed=3)
    assert [len(p) for p in parts] == [800, 100, 100]
    assert len(np.unique(np.concatenate(parts))) == 1000
    for part in parts:
        expected = np.bincount(y) * len(part) / len(y)
        assert np.all(np.abs(np.bincount(y[part], minlength=10) - expected) <= 2)
    again = convnet.stratified_split(y, (800, 100, 100), seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again))


def test_the_convnet_is_the_keras_io_one():
    model = convnet.build_convnet()
    assert model.count_params() == 34826  # as model.summary() reports on keras.io
    assert model.output_shape == (None, 10)


def test_the_conv_autoencoder_has_a_7x7x8_code_and_reconstructs_28x28_images():
    encoder, _, autoencoder = conv_autoencoder.build_conv_autoencoder()
    assert encoder.output_shape == (None, 7, 7, 8)
    assert autoencoder.output_shape == (None, 28, 28, 1)
    assert autoencoder.count_params() == 3217


@needs_mnist
def test_convnet_example_writes_its_model_and_pictures(tmp_path, capsys):
    argv = ["--out", str(tmp_path), "--epochs", "1", "--samples", "600", "--verbose", "0"]
    assert convnet.main(argv) == 0
    out = capsys.readouterr().out
    assert "train/validation/held-out = 480/60/60" in out
    assert 0.0 <= _number(out, "held-out accuracy") <= 1.0
    assert 0.0 < _number(out, "time per epoch") < 60.0
    for name in ("mnist_convnet_training.png", "mnist_convnet_misclassified.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")
    model = nn.saving.load_model(tmp_path / "mnist_convnet.keras")
    assert model.count_params() == 34826
    assert model.predict(np.zeros((2, 28, 28, 1), np.float32), verbose=0).shape == (2, 10)


@needs_mnist
def test_conv_autoencoder_example_writes_its_picture_and_both_losses(tmp_path, capsys):
    argv = ["--out", str(tmp_path), "--epochs", "1", "--samples", "300"]
    assert conv_autoencoder.main(argv) == 0
    out = capsys.readouterr().out
    rows = {
        kind: re.search(rf"^{kind}.*?([0-9,]+)\s+(\d+)\s+([0-9.]+)\s+([0-9.]+)$", out, re.MULTILINE)
        for kind in ("dense", "convolutional")
    }
    assert all(rows.values()), out
    assert int(rows["dense"].group(1).replace(",", "")) == 209968
    assert int(rows["convolutional"].group(1).replace(",", "")) == 3217
    for row in rows.values():
        assert 0.0 < float(row.group(3)) < 0.5  # MSE of pixels in [0, 1]
    picture = tmp_path / "conv_autoencoder_reconstructions.png"
    assert picture.read_bytes().startswith(b"\x89PNG")


@pytest.mark.slow
@needs_mnist
def test_full_runs_reach_98_percent_and_the_conv_autoencoder_beats_the_dense_one():
    results = convnet.run(epochs=convnet.DEFAULT_EPOCHS)
    assert [len(results["split"][k][0]) for k in ("train", "val", "test")] == [8000, 1000, 1000]
    assert results["test_accuracy"] >= 0.98

    # 5 epochs (about 25 s) instead of the example's 20: held-out MSE 0.0105 against 0.025
    results = conv_autoencoder.run(epochs=5)
    dense, conv = results["dense"], results["conv"]
    assert conv["mse"] < dense["mse"]
    assert conv["parameters"] < dense["parameters"] / 50
