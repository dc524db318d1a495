"""Data that comes one batch at a time: Keras 3's `PyDataset`, and Python generators.

`fit`, `evaluate` and `predict` take, instead of arrays, a `PyDataset` (a sequence of batches:
`__len__` and `__getitem__`) or any iterator of batches. A batch is `(x, y)`, `(x, y,
sample_weight)` or, for `predict`, `x` alone, as in Keras (`keras.utils.unpack_x_y_sample_weight`).
Only the batches in use are in memory, so the data may be far larger than it: read them from
files, memory maps or a database in `__getitem__`.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from neuralnet._validation import check_positive_int


class PyDataset:
    """Keras 3's base class for data read one batch at a time.

    Subclass it and write `__len__` (the number of batches in an epoch) and `__getitem__(index)`
    (batch `index`, a tuple `(x, y)` or `(x, y, sample_weight)`; `x` alone for `predict`);
    `on_epoch_end` may reshuffle. Batches are read in order, `max_queue_size` ahead, by `workers`
    threads (NumPy and file reads release the GIL, so reading overlaps training).

    Args:
        workers: Threads that read batches ahead; 1 reads each batch when it is needed.
        use_multiprocessing: Accepted for Keras compatibility; batches are read in threads.
        max_queue_size: How many batches may be read ahead with `workers > 1`.
    """

    def __init__(
        self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10
    ) -> None:
        self._workers = check_positive_int(workers, "workers", type(self).__name__)
        self._use_multiprocessing = bool(use_multiprocessing)
        self._max_queue_size = check_positive_int(
            max_queue_size, "max_queue_size", type(self).__name__
        )

    @property
    def workers(self) -> int:
        return getattr(self, "_workers", 1)

    @property
    def use_multiprocessing(self) -> bool:
        return getattr(self, "_use_multiprocessing", False)

    @property
    def max_queue_size(self) -> int:
        return getattr(self, "_max_queue_size", 10)

    @property
    def num_batches(self) -> int | None:
        """The number of batches in an epoch: `len(self)`."""
        return len(self)

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__ (batches per epoch).")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index).")

    def on_epoch_begin(self) -> None:
        """Called before each epoch of `fit`."""

    def on_epoch_end(self) -> None:
        """Called after each epoch of `fit` (reshuffle here)."""


def is_batch_source(x: Any) -> bool:
    """Whether `x` gives batches rather than being the data: a PyDataset or an iterator."""
    return isinstance(x, PyDataset) or (
        hasattr(x, "__next__") and not isinstance(x, (np.ndarray, list, tuple, dict))
    )


def unpack_batch(data: Any) -> tuple[Any, Any, Any]:
    """`(x, y, sample_weight)` from a batch: a tuple (or list) of 1 to 3 entries, or `x` alone."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(
        f"A batch must be (x,), (x, y) or (x, y, sample_weight), received a tuple of {len(data)} "
        "entries."
    )


def _shapes(value: Any) -> Any:
    """The shapes (without the batch axis) of the arrays in a batch's x, y or sample_weight."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {key: _shapes(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shapes(v) for v in value]
    return tuple(np.shape(value)[1:])


class SourceStream:
    """The batches of one pass (epoch) after another from a PyDataset or an iterator, with the
    checks every batch gets (same shapes as the first batch) and a state for exact resumes.

    A PyDataset can be resumed at any batch (it is indexed); a generator only between epochs.
    """

    def __init__(self, source: Any, where: str, steps: int | None = None) -> None:
        self.source = source
        self.where = where
        self.indexed = isinstance(source, PyDataset)
        if self.indexed:
            length = len(source)
            if steps is None and length <= 0:
                raise ValueError(f"{where}: the PyDataset has no batches (len() is {length}).")
            self.steps = steps if steps is not None else length
        else:
            self.steps = steps  # None: until the iterator ends
        self._iterator = None if self.indexed else iter(source)
        self._position = 0  # batches given in this pass
        self._first: Any = None
        self._count = 0
        self._ahead: collections.deque = collections.deque()
        self._pool: ThreadPoolExecutor | None = None

    # -- reading ---------------------------------------------------------------------------------

    def _read(self, index: int) -> Any:
        length = len(self.source)
        return self.source[index % length]  # steps_per_epoch beyond len() wraps, as Keras

    def _next_raw(self) -> Any:
        if self.steps is not None and self._position >= self.steps:
            raise StopIteration
        if not self.indexed:
            return next(self._iterator)  # StopIteration ends the pass
        workers = self.source.workers
        if workers <= 1:
            return self._read(self._position)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(workers, thread_name_prefix="neuralnet-data")
        limit = self.steps
        while len(self._ahead) < self.source.max_queue_size:
            next_index = self._position + len(self._ahead)
            if limit is not None and next_index >= limit:
                break
            self._ahead.append(self._pool.submit(self._read, next_index))
        return self._ahead.popleft().result()

    def next_batch(self) -> tuple[Any, Any, Any]:
        """The next batch of this pass, unpacked and checked; StopIteration at the pass's end."""
        data = self._next_raw()  # StopIteration ends the pass
        self._position += 1
        self._count += 1
        batch = unpack_batch(data)
        shapes = tuple(_shapes(part) for part in batch)
        if self._first is None:
            self._first = shapes
        elif shapes != self._first:
            names = ("x", "y", "sample_weight")
            part = next(i for i in range(3) if shapes[i] != self._first[i])
            raise ValueError(
                f"{self.where}: batch {self._count} of the "
                f"{'PyDataset' if self.indexed else 'generator'} has {names[part]} of shapes "
                f"{shapes[part]} (without the batch axis), but its first batch had "
                f"{self._first[part]}: every batch must have the same shapes, except for the "
                "number of samples."
            )
        return batch

    def end_pass(self) -> None:
        """Start a new pass at the next batch (a PyDataset restarts at index 0; a generator goes
        on where it is)."""
        self._position = 0
        self._ahead.clear()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __iter__(self) -> Iterator[tuple[Any, Any, Any]]:
        while True:
            try:
                yield self.next_batch()
            except StopIteration:
                return

    # -- resuming --------------------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        return {"source": "pydataset" if self.indexed else "generator", "given": self._position}

    def set_state(self, state: dict[str, Any]) -> None:
        given = int(state.get("given", 0))
        if state.get("source") not in ("pydataset", "generator"):
            raise ValueError(
                f"{self.where}: the saved training state is of a fit on arrays, this one reads "
                "batches from a PyDataset or a generator."
            )
        if given and not self.indexed:
            raise ValueError(
                f"{self.where}: the backup was taken {given} batches into an epoch, and a Python "
                "generator cannot be rewound to that batch. Back up at epoch ends "
                "(BackupAndRestore(save_freq='epoch')), or give the data as a PyDataset, which "
                "resumes at any batch."
            )
        self.end_pass()
        self._position = given
