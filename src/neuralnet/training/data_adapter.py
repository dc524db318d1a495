"""Data at the boundary of `fit`, `evaluate` and `predict`: what the user passed, made into lists of
arrays the model can run (one per input, output or sample-weight set), checked once, split and cut into
mini-batches.

Everything here runs once per call (checks, conversion to the model's float type, the validation
split) or once per batch (index arithmetic and one gather per array); nothing in the per-batch path
grows with the number of samples.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from neuralnet import backend
from neuralnet._validation import check_number, check_positive_int
from neuralnet.layers.layer import shape_str
from neuralnet.training.compile_utils import by_output_name

if TYPE_CHECKING:
    from neuralnet.models.model import Model


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


def is_memory_mapped(array: Any) -> bool:
    """Whether `array` is memory-mapped (`np.load(path, mmap_mode="r")`, `np.memmap`): such an
    array is read, converted to floatx and checked one batch at a time, never as a whole."""
    return isinstance(array, np.memmap)


def as_float_array(array: Any, dtype: str, where: str, name: str) -> np.ndarray:
    """`array` as a NumPy array of `dtype` (no copy when it already is one). A memory-mapped array
    of numbers is returned as it is, to be converted batch by batch (see `read_batch`)."""
    if is_memory_mapped(array):
        if array.dtype.kind not in "biuf":
            raise ValueError(
                f"{where}: `{name}` must hold numbers, received a memory-mapped array of dtype "
                f"{array.dtype}."
            )
        return array
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


def read_batch(batch: np.ndarray, dtype: str, where: str, name: str) -> np.ndarray:
    """A batch read from a memory-mapped input: in `dtype`, and checked for NaN and infinity
    (which, for such an input, is checked here rather than over the whole file)."""
    batch = batch.astype(dtype) if batch.dtype != dtype else np.asarray(batch)
    check_finite(where, name, batch)
    return batch


class BatchReader:
    """The batches of one input of `fit`: gathered into a buffer reused from batch to batch, and
    for a memory-mapped input converted to floatx there (one batch of the file in memory at a
    time). The batch it returns is valid until the next call."""

    def __init__(self, array: np.ndarray, batch_size: int, where: str, name: str) -> None:
        self.array = array
        self.gather = BatchGatherer(batch_size)
        self.lazy = is_memory_mapped(array)
        self.where, self.name = where, name
        self._converted: np.ndarray | None = None

    def __call__(self, index: slice | np.ndarray) -> np.ndarray:
        batch = self.gather(self.array, index)
        if not self.lazy:
            return batch
        dtype = np.dtype(backend.floatx())
        if batch.dtype == dtype:
            batch = np.asarray(batch)
        else:
            buffer = self._converted
            shape = (self.gather.batch_size,) + batch.shape[1:]
            if buffer is None or buffer.shape != shape or buffer.dtype != dtype:
                buffer = self._converted = np.empty(shape, dtype=dtype)
            source, batch = batch, buffer[: len(batch)]
            np.copyto(batch, source, casting="unsafe")
        check_finite(self.where, self.name, batch)
        return batch


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
    table = np.ones(n_classes, dtype=np.float64)
    for key, weight in class_weight.items():
        index = _class_index(key, where)
        if not 0 <= index < n_classes:
            raise ValueError(
                f"{where}: class_weight has an entry for class {key!r}, but the targets have "
                f"{n_classes} classes (0 to {n_classes - 1})."
            )
        table[index] = float(weight)
    return table[labels]


def _class_index(key: Any, where: str) -> int:
    """A class_weight key as a class index: an integer, or a float with an integral value (as
    scikit-learn's `dict(zip(np.unique(y), weights))` gives for float labels)."""
    if isinstance(key, bool) or not isinstance(key, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"{where}: class_weight keys must be class indices, received {key!r} of type "
            f"{type(key).__name__}."
        )
    if not float(key).is_integer():
        raise ValueError(
            f"{where}: class_weight keys must be whole class indices, received {key!r}."
        )
    return int(key)


# -- the model's view of the data ------------------------------------------------------------------


def batch_size_or_default(batch_size: int | None, where: str) -> int:
    """Keras's default of 32, or a checked positive integer."""
    return 32 if batch_size is None else check_positive_int(batch_size, "batch_size", where)


def standardize_inputs(model: Model, x: Any, where: str) -> list[np.ndarray]:
    """`x` as a list of arrays in the order of the model's inputs, in the model's float type. An
    unbuilt model is built for these inputs first."""
    if x is None:
        raise ValueError(f"{where}: `x` is required.")
    if (
        isinstance(x, (list, tuple))
        and len(x) > 1
        and all(_is_row(a) for a in x)
        and (not model.built or len(model.input_names) == 1)
    ):
        raise ValueError(
            f"{where}: model {model.name!r} has one input, but `x` is a Python list of {len(x)} "
            "entries, which reads as one array per input. If these are the rows of your data, "
            "pass np.asarray(x) instead."
        )
    model.build_for(x[0] if isinstance(x, (list, tuple)) and len(x) == 1 else x)
    names = model.input_names
    if isinstance(x, dict):
        unknown = [key for key in x if key not in names]
        if unknown:
            warnings.warn(
                f"{where}: the dict of inputs has keys {unknown} that match no input of model "
                f"{model.name!r} (its inputs are {names}); they are ignored.",
                UserWarning,
                stacklevel=4,
            )
        arrays = model.inputs_from_dict(x, where)
    else:
        arrays = to_list(x)
    if len(arrays) != len(names):
        raise ValueError(
            f"{where}: model {model.name!r} expects {len(names)} input"
            f"{'s' if len(names) > 1 else ''} ({', '.join(names)}), received {len(arrays)}."
        )
    dtype = backend.floatx()
    return [as_float_array(a, dtype, where, "x") for a in arrays]


def _is_row(value: Any) -> bool:
    """A plain number or a list of numbers: a row of data, not an array for one input."""
    return isinstance(value, (int, float, np.number)) or (
        isinstance(value, (list, tuple))
        and all(isinstance(v, (int, float, np.number)) for v in value)
    )


def check_inputs(model: Model, xs: list[np.ndarray], where: str, check_values: bool) -> None:
    """Each input's shape against the model's (a clear error naming the first layer), and, for
    training and evaluation, finite values."""
    graph = model.call_graph().graph
    for index, (array, name, shape) in enumerate(zip(xs, model.input_names, graph.input_shapes)):
        if array.ndim != len(shape) or any(
            e is not None and s != e for s, e in zip(array.shape[1:], shape[1:])
        ):
            consumer = graph.consumer_of_input(index)
            owner = (
                f", as its first layer {type(consumer).__name__} {consumer.name!r} was built for"
                if consumer
                else ""
            )
            raise ValueError(
                f"{where}: model {model.name!r} expects input {name!r} of shape {shape_str(shape)}"
                f"{owner}; received an array of shape {shape_str(array.shape)}."
            )
        if check_values and not is_memory_mapped(array):  # a mapped file: checked per batch
            check_finite(where, "x" if len(xs) == 1 else f"x[{name!r}]", array)


def standardize_targets(model: Model, y: Any, where: str) -> list[np.ndarray]:
    """`y` as a list of arrays, one per output (a dict by output name)."""
    names = model.output_names
    if isinstance(y, dict):
        missing = [name for name in names if name not in y]
        if missing:
            raise ValueError(
                f"{where}: the dict of targets has no entry for {missing}; the model's outputs are {names}."
            )
        arrays = [y[name] for name in names]
    elif len(names) > 1:
        arrays = to_list(y)
    else:
        arrays = [_unwrap_single(y)]
    if len(arrays) != len(names):
        raise ValueError(
            f"{where}: model {model.name!r} has {len(names)} outputs ({', '.join(names)}), but "
            f"received {len(arrays)} target arrays."
        )
    result = []
    for array in arrays:
        array = np.asarray(array)
        if array.dtype.kind not in "biuf":
            raise ValueError(f"{where}: targets must hold numbers, received dtype {array.dtype}.")
        if array.dtype.kind == "f" and array.dtype != backend.floatx():
            array = array.astype(backend.floatx())
        result.append(array)
    return result


def standardize_sample_weights(model: Model, sample_weight: Any, n_outputs: int,
                               where: str) -> list[np.ndarray | None]:  # fmt: skip
    """One array of per-sample weights (or None) per output."""
    if sample_weight is None:
        return [None] * n_outputs
    names = model.output_names
    if isinstance(sample_weight, dict):
        weights = by_output_name(sample_weight, names, "sample_weight", where)
    elif (
        isinstance(sample_weight, (list, tuple))
        and n_outputs > 1
        and not all(w is not None and np.ndim(w) == 0 for w in sample_weight)
    ):
        # one array (or None) per output; a list of numbers is one array for all outputs
        weights = list(sample_weight)
        if len(weights) != n_outputs:
            raise ValueError(
                f"{where}: `sample_weight` is a list of {len(weights)} arrays, but the model has "
                f"{n_outputs} outputs ({', '.join(names)}): give one array per output, "
                "one array for all of them, or a dict by output name."
            )
    else:
        weights = [_unwrap_single(sample_weight)] * n_outputs
    result: list[np.ndarray | None] = []
    for w in weights:
        if w is None:
            result.append(None)
            continue
        w = np.asarray(w, dtype=np.float64)
        if w.ndim == 0 or np.any(w < 0) or not np.all(np.isfinite(w)):
            raise ValueError(
                f"{where}: `sample_weight` must be an array of finite, non-negative weights, "
                "one per sample."
            )
        result.append(w.astype(backend.floatx()))
    return result


def _unwrap_single(value: Any) -> Any:
    """A one-element list holding an array stands for that array (Keras accepts `[y]` for a model
    with one output)."""
    if isinstance(value, (list, tuple)) and len(value) == 1 and np.ndim(value[0]) >= 1:
        return value[0]
    return value


def present(arrays: list[Any]) -> list[np.ndarray]:
    """The entries that are not None."""
    return [a for a in arrays if a is not None]


def unpack_validation_data(validation_data: Any, where: str) -> tuple[Any, Any, Any]:
    """`(x, y)` or `(x, y, sample_weight)`, as three values."""
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError(
            f"{where}: expected a tuple (x_val, y_val) or (x_val, y_val, sample_weight_val), "
            f"received {type(validation_data).__name__}"
            + (
                f" of length {len(validation_data)}"
                if isinstance(validation_data, (tuple, list))
                else ""
            )
            + "."
        )
    vx, vy = validation_data[0], validation_data[1]
    vsw = validation_data[2] if len(validation_data) == 3 else None
    return vx, vy, vsw
