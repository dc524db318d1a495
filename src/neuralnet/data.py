"""Data handling at the boundary of `fit`, `evaluate` and `predict`: checks, splits and mini-batches.

Everything here runs once per call (checks, conversion to the model's float type, the validation
split) or once per batch (index arithmetic and one gather per array); nothing in the per-batch path
grows with the number of samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from neuralnet._validation import check_number


def to_list(data: Any) -> list[Any]:
    """`None` -> [], a tuple or list -> list, anything else -> [it]."""
    if data is None:
        return []
    if isinstance(data, (list, tuple)):
        return list(data)
    return [data]


def num_samples(arrays: Sequence[np.ndarray | None]) -> int:
    """The length of the first axis, checked to be the same for every array."""
    lengths = {len(a) for a in arrays if a is not None}
    if len(lengths) > 1:
        raise ValueError(
            f"All arrays must have the same number of samples, received lengths {sorted(lengths)}."
        )
    return lengths.pop() if lengths else 0


def check_same_length(where: str, **named: Sequence[np.ndarray] | None) -> int:
    """The common number of samples of the named groups of arrays, or a ValueError naming them."""
    found: dict[str, int] = {}
    for name, arrays in named.items():
        for i, array in enumerate(arrays or []):
            if array is None:
                continue
            if np.ndim(array) == 0:
                raise ValueError(f"{where}: `{name}` must have a batch axis, received a scalar.")
            label = name if len(arrays or []) == 1 else f"{name}[{i}]"
            found[label] = len(array)
    if len(set(found.values())) > 1:
        described = ", ".join(f"{label} has {n} samples" for label, n in found.items())
        raise ValueError(
            f"{where}: all inputs and targets must have the same number of samples; {described}."
        )
    return next(iter(found.values()), 0)


def check_finite(where: str, name: str, array: np.ndarray) -> None:
    """Raise a ValueError if a float array holds NaN or infinity, saying how many and where first."""
    if array.dtype.kind not in "fc" or array.size == 0:
        return
    # Fast path: one multithreaded BLAS pass. Each row's sum is finite when all its values are (it
    # can only overflow for values near the float's limit, and then the exact scan below decides).
    rows = array.reshape(len(array), -1) if array.ndim > 1 else array.reshape(-1, 1)
    if np.isfinite(rows @ np.ones(rows.shape[1], dtype=rows.dtype)).all():
        return
    finite = np.isfinite(array)
    if finite.all():
        return
    bad = ~finite
    count = int(bad.sum())
    first_sample = int(np.argmax(bad.reshape(len(array), -1).any(axis=1))) if array.ndim else 0
    kinds = []
    if np.isnan(array).any():
        kinds.append("NaN")
    if np.isinf(array).any():
        kinds.append("infinite")
    raise ValueError(
        f"{where}: `{name}` contains {count} {' or '.join(kinds)} value{'s' if count > 1 else ''} "
        f"(first in sample {first_sample}). Remove or impute them before training: a single NaN "
        "turns every weight into NaN."
    )


def as_float_array(array: Any, dtype: str, where: str, name: str) -> np.ndarray:
    """`array` as a NumPy array of `dtype` (no copy when it already is one)."""
    result = np.asarray(array)
    if result.dtype.kind not in "biuf":
        raise ValueError(
            f"{where}: `{name}` must hold numbers, received an array of dtype {result.dtype}."
        )
    if result.dtype != dtype:
        result = result.astype(dtype)
    return result


def train_validation_split(
    arrays: Sequence[np.ndarray | None], validation_split: float
) -> tuple[list[np.ndarray | None], list[np.ndarray | None]]:
    """Split every array into (training, validation), the validation part being the last
    `validation_split` fraction of the samples, taken before any shuffling, as Keras does."""
    check_number(
        validation_split, "validation_split", "fit", low=0.0, high=1.0, high_inclusive=False
    )
    n = num_samples(arrays)
    split_at = math.floor(n * (1.0 - validation_split))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"fit: validation_split={validation_split} leaves no samples for "
            f"{'training' if split_at == 0 else 'validation'} out of {n}; use a split that keeps both."
        )
    train = [None if a is None else a[:split_at] for a in arrays]
    validation = [None if a is None else a[split_at:] for a in arrays]
    return train, validation


def batch_slices(
    n: int, batch_size: int, shuffle: bool, rng: np.random.Generator | None
) -> Iterator[slice | np.ndarray]:
    """The batches of one epoch: slices in order, or index arrays of a fresh permutation."""
    if shuffle:
        order = rng.permutation(n) if rng is not None else np.random.default_rng().permutation(n)
        for start in range(0, n, batch_size):
            yield order[start : start + batch_size]
    else:
        for start in range(0, n, batch_size):
            yield slice(start, start + batch_size)


def take(array: np.ndarray | None, index: slice | np.ndarray) -> np.ndarray | None:
    """`array[index]`: a view for a slice, a gathered copy for an index array."""
    if array is None:
        return None
    if isinstance(index, slice):
        return array[index]
    return np.take(array, index, axis=0)


class BatchGatherer:
    """`take(array, index)` into a buffer reused from batch to batch (for index arrays; slices stay
    views). The batch it returns is valid until the next call."""

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self._buffer: np.ndarray | None = None

    def __call__(self, array: np.ndarray, index: slice | np.ndarray) -> np.ndarray:
        if isinstance(index, slice):
            return array[index]
        buffer = self._buffer
        shape = (self.batch_size,) + array.shape[1:]
        if buffer is None or buffer.shape != shape or buffer.dtype != array.dtype:
            buffer = self._buffer = np.empty(shape, dtype=array.dtype)
        out = buffer[: len(index)]
        # The indices come from a permutation of range(len(array)), so they are in range: 'clip'
        # writes straight into `out`, where the default 'raise' goes through a temporary copy.
        np.take(array, index, axis=0, out=out, mode="clip")
        return out


def num_batches(n: int, batch_size: int) -> int:
    """How many batches an epoch of `n` samples has."""
    return max(1, math.ceil(n / batch_size)) if n else 0


def class_weights_to_sample_weights(
    y: np.ndarray, class_weight: dict[int, float], num_classes: int | None, where: str = "fit"
) -> np.ndarray:
    """Per-sample weights from `{class: weight}`: one-hot targets by their arg-max, integer or 0/1
    targets by their value. Classes missing from the dict get weight 1."""
    if y.ndim >= 2 and y.shape[-1] > 1:
        labels = np.argmax(y, axis=-1)
        n_classes = y.shape[-1]
    else:
        flat = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
        if np.any(flat != np.round(flat)) or (flat.size and flat.min() < 0):
            raise ValueError(
                f"{where}: `class_weight` needs class labels (whole numbers from 0) or one-hot "
                f"targets; received target values from {flat.min():g} to {flat.max():g}."
            )
        labels = np.round(flat).astype(np.int64)
        n_classes = (
            num_classes if num_classes and num_classes > 1 else int(labels.max(initial=1)) + 1
        )
        if num_classes == 1:
            n_classes = 2
    for key in class_weight:
        if not isinstance(key, (int, np.integer)) or isinstance(key, bool):
            raise TypeError(
                f"{where}: class_weight keys must be integer class indices, received {key!r}."
            )
        if not 0 <= key < n_classes:
            raise ValueError(
                f"{where}: class_weight has an entry for class {key}, but the targets have "
                f"{n_classes} classes (0 to {n_classes - 1})."
            )
    table = np.ones(n_classes, dtype=np.float64)
    for key, weight in class_weight.items():
        table[key] = float(weight)
    return table[labels]
