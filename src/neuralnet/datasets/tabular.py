"""Small data sets for examples (the lecture's Gaussian classes, scikit-learn's digits) and loaders for
users' own data in CSV and NPZ files."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from neuralnet._optional import import_optional
from neuralnet._validation import check_positive_int


def make_gaussian_classes(
    n_per_class: int = 500,
    means: Any = ((-1.0, 0.0), (1.0, 0.0)),
    covariance: Any = None,
    seed: int | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Two or more classes whose points are Gaussian with a shared covariance Σ (the lecture's
    derivation of the sigmoid: then P(y=1|x) = σ(wᵀx + b) exactly, with w = Σ⁻¹(μ₁ − μ₀)).

    Returns:
        `x` of shape (n_per_class · K, D) and integer labels `y` of shape (n,).
    """
    n = check_positive_int(n_per_class, "n_per_class", "make_gaussian_classes")
    means = np.asarray(means, dtype=np.float64)
    if means.ndim != 2 or len(means) < 2:
        raise ValueError(
            f"make_gaussian_classes: `means` must be K >= 2 points, received shape {means.shape}."
        )
    dim = means.shape[1]
    cov = np.eye(dim) if covariance is None else np.asarray(covariance, dtype=np.float64)
    if (
        cov.shape != (dim, dim)
        or not np.allclose(cov, cov.T)
        or np.any(np.linalg.eigvalsh(cov) <= 0)
    ):
        raise ValueError(
            f"make_gaussian_classes: `covariance` must be a symmetric positive-definite {dim}x{dim} matrix."
        )
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.multivariate_normal(mean, cov, n) for mean in means])
    y = np.repeat(np.arange(len(means)), n)
    return x, y


def load_digits(normalize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8×8 handwritten digits (1,797 images), as vectors of 64 values.

    Args:
        normalize: Scale the pixels from 0-16 to float32 in [0, 1].
    """
    sklearn_datasets = import_optional("sklearn.datasets", "datasets", "load_digits")
    digits = sklearn_datasets.load_digits()
    x = digits.data.astype(np.float32)
    if normalize:
        x /= 16.0
    return x, digits.target.astype(np.int64)


def load_csv(
    path: str | os.PathLike,
    target_column: int | None = -1,
    delimiter: str = ",",
    skip_header: int | None = None,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Features and targets from a CSV file of numbers.

    Args:
        target_column: Index of the target column (`None`: no targets).
        skip_header: Lines to skip; by default one line is skipped when it is not numeric.
    """
    path = os.fspath(path)
    if skip_header is None:
        with open(path, encoding="utf-8") as handle:
            first = handle.readline().strip().split(delimiter)
        try:
            [float(v) for v in first]
            skip_header = 0
        except ValueError:
            skip_header = 1
    table = np.genfromtxt(
        path, delimiter=delimiter, skip_header=skip_header, dtype=np.float64, ndmin=2
    )
    if np.isnan(table).any():
        rows = np.unique(np.nonzero(np.isnan(table))[0]) + skip_header + 1
        raise ValueError(
            f"load_csv: {path} has missing or non-numeric values on line(s) {', '.join(map(str, rows[:5]))}"
            + ("..." if len(rows) > 5 else "")
            + "."
        )
    if target_column is None:
        return table.astype(dtype), None
    column = target_column % table.shape[1]
    y = table[:, column]
    x = np.delete(table, column, axis=1).astype(dtype)
    return x, (y.astype(np.int64) if np.all(y == np.round(y)) else y.astype(dtype))


def load_npz(
    path: str | os.PathLike, x_key: str = "x", y_key: str | None = "y"
) -> tuple[np.ndarray, np.ndarray | None]:
    """Arrays `x_key` and `y_key` from a NumPy `.npz` file (loaded without pickle: no code runs)."""
    with np.load(os.fspath(path), allow_pickle=False) as archive:
        missing = [k for k in (x_key, y_key) if k is not None and k not in archive.files]
        if missing:
            raise KeyError(
                f"load_npz: {os.fspath(path)} has no array {missing}; it holds {archive.files}."
            )
        return archive[x_key], (archive[y_key] if y_key is not None else None)
