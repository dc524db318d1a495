"""The autoencoder example: a linear autoencoder finds PCA's subspace, a nonlinear one beats PCA."""

import numpy as np
import pytest

from example_modules import load_example

pytest.importorskip("sklearn")
autoencoder = load_example("autoencoder")

import neuralnet as nn


def test_pca_reconstruction_error_matches_an_independent_projection():
    x = np.random.default_rng(0).standard_normal((50, 5))
    centered = x - x.mean(0)
    eigenvalues = np.sort(np.linalg.eigvalsh(centered.T @ centered))[::-1]
    # the error of k components is the variance left in the other directions
    expected = eigenvalues[2:].sum() / x.size
    assert autoencoder.pca_reconstruction_error(x, 2) == pytest.approx(expected, rel=1e-10)


def test_linear_autoencoder_reaches_pca_within_ten_percent():
    x, _ = nn.datasets.load_digits()
    nn.utils.set_random_seed(0)
    _, _, model = autoencoder.build_autoencoder(64, 8, activation=None, output_activation=None)
    error = autoencoder.train(model, x, epochs=60)
    pca = autoencoder.pca_reconstruction_error(x, 8)
    assert pca <= error * 1.001  # PCA is the optimum of a linear code
    assert error <= 1.10 * pca


def test_nonlinear_two_unit_code_beats_pca_with_two_components():
    x, _ = nn.datasets.load_digits()
    nn.utils.set_random_seed(0)
    encoder, decoder, model = autoencoder.build_autoencoder(64, 2, hidden=(64, 32))
    error = autoencoder.train(model, x, epochs=60, learning_rate=3e-3)
    assert error < autoencoder.pca_reconstruction_error(x, 2)
    codes = encoder.predict(x, verbose=0)
    assert codes.shape == (len(x), 2)
    np.testing.assert_allclose(
        decoder.predict(codes, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )


@pytest.mark.slow
def test_example_writes_its_pictures(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert autoencoder.main(["--out", str(tmp_path), "--epochs", "5"]) == 0
    assert "PCA, 2 components" in capsys.readouterr().out
    for name in ("autoencoder_reconstructions.png", "autoencoder_codes.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")
