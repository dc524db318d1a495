"""Data sets: MNIST's IDX files, the Gaussian classes, digits, CSV and NPZ loaders."""

import gzip
import pathlib
import struct

import numpy as np
import pytest

import neuralnet as nn

MNIST = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def _write_idx(path, array, type_code=0x08):
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(">u1" if type_code == 0x08 else ">f4").tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as handle:
        handle.write(data)


def test_read_idx_round_trips_plain_and_gzip(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "a.idx", images)
    _write_idx(tmp_path / "b.idx.gz", images)
    np.testing.assert_array_equal(nn.datasets.read_idx(tmp_path / "a.idx"), images)
    np.testing.assert_array_equal(nn.datasets.read_idx(tmp_path / "b.idx.gz"), images)
    floats = np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3)
    _write_idx(tmp_path / "c.idx", floats, type_code=0x0D)
    np.testing.assert_array_equal(nn.datasets.read_idx(tmp_path / "c.idx"), floats)


def test_read_idx_rejects_broken_files(tmp_path):
    (tmp_path / "text.idx").write_bytes(b"hello world")
    with pytest.raises(ValueError, match="not an IDX file"):
        nn.datasets.read_idx(tmp_path / "text.idx")
    images = np.zeros((2, 3), dtype=np.uint8)
    _write_idx(tmp_path / "short.idx", images)
    data = (tmp_path / "short.idx").read_bytes()
    (tmp_path / "short.idx").write_bytes(data[:-1])
    with pytest.raises(
        ValueError, match=r"declares shape \(2, 3\) \(6 bytes of data\), but the file holds 5"
    ):
        nn.datasets.read_idx(tmp_path / "short.idx")


def test_load_mnist_names_the_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="No MNIST file t10k-images-idx3-ubyte"):
        nn.datasets.load_mnist(tmp_path)
    with pytest.raises(ValueError, match="'train' or 'test'"):
        nn.datasets.load_mnist(tmp_path, split="validation")


@pytest.mark.skipif(not MNIST.is_dir(), reason="the MNIST test files are not beside the repository")
def test_load_mnist_reads_the_real_test_set():
    x, y = nn.datasets.load_mnist(MNIST)
    assert x.shape == (10_000, 28, 28) and x.dtype == np.uint8
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]  # the well-known first test labels
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    flat, _ = nn.datasets.load_mnist(MNIST, normalize=True, flatten=True)
    assert flat.shape == (10_000, 784) and flat.dtype == np.float32 and flat.max() == 1.0


def test_gaussian_classes_have_the_requested_means_and_covariance():
    cov = [[1.0, 0.3], [0.3, 0.5]]
    x, y = nn.datasets.make_gaussian_classes(20_000, means=[[0, 0], [2, 1]], covariance=cov, seed=1)
    assert np.bincount(y).tolist() == [20_000, 20_000]
    np.testing.assert_allclose(x[y == 1].mean(0), [2, 1], atol=0.03)
    np.testing.assert_allclose(np.cov(x[y == 0].T), cov, atol=0.03)
    with pytest.raises(ValueError, match="positive-definite"):
        nn.datasets.make_gaussian_classes(10, covariance=[[1, 2], [2, 1]])


def test_logistic_regression_recovers_the_bayes_weights_of_gaussian_classes():
    # The lecture: with Gaussian classes of shared covariance Σ, P(y=1|x) = σ(wᵀx + b) with
    # w = Σ⁻¹(μ₁ − μ₀). A sigmoid unit trained with cross-entropy should find that w.
    cov = np.array([[1.0, 0.4], [0.4, 0.8]])
    mu0, mu1 = np.array([-0.5, 0.0]), np.array([0.5, 0.5])
    x, y = nn.datasets.make_gaussian_classes(5000, means=[mu0, mu1], covariance=cov, seed=2)
    model = nn.Sequential([nn.Input((2,)), nn.layers.Dense(1, activation="sigmoid")])
    model.compile(nn.optimizers.Adam(0.05), "binary_crossentropy")
    model.fit(x, y, batch_size=500, epochs=60, verbose=0)
    w_bayes = np.linalg.solve(cov, mu1 - mu0)
    np.testing.assert_allclose(model.layers[0].params["kernel"][:, 0], w_bayes, rtol=0.1, atol=0.05)


def test_load_digits_scales_to_unit_interval():
    pytest.importorskip("sklearn")
    x, y = nn.datasets.load_digits()
    assert x.shape == (1797, 64) and x.min() == 0.0 and x.max() == 1.0 and set(y) == set(range(10))


def test_load_csv_and_npz(tmp_path):
    (tmp_path / "data.csv").write_text("a,b,label\n1,2,0\n3,4,1\n")
    x, y = nn.datasets.load_csv(tmp_path / "data.csv")
    np.testing.assert_array_equal(x, [[1, 2], [3, 4]])
    assert y.tolist() == [0, 1] and y.dtype == np.int64
    (tmp_path / "bad.csv").write_text("1,2,0\n3,,1\n")
    with pytest.raises(ValueError, match="missing or non-numeric values on line"):
        nn.datasets.load_csv(tmp_path / "bad.csv")
    np.savez(tmp_path / "d.npz", x=np.ones((3, 2)), y=np.arange(3))
    x, y = nn.datasets.load_npz(tmp_path / "d.npz")
    assert x.shape == (3, 2) and y.tolist() == [0, 1, 2]
    with pytest.raises(KeyError, match="has no array"):
        nn.datasets.load_npz(tmp_path / "d.npz", y_key="labels")
