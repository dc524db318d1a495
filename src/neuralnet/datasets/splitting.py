"""The lecture's train / validation / test split (80/10/10 by default), optionally stratified."""

from __future__ import annotations

import collections
import itertools
import numbers
from typing import Any

import numpy as np

from neuralnet.backend import make_rng

_WHERE = "train_val_test_split"
_PARTS = ("train", "validation", "test")


def train_val_test_split(
    *arrays: Any,
    sizes: tuple[float, float, float] | tuple[int, int, int] = (0.8, 0.1, 0.1),
    stratify: Any = None,
    seed: int | np.random.Generator | None = None,
    shuffle: bool = True,
) -> list[np.ndarray]:
    """Split arrays into training, validation and test parts, as scikit-learn's `train_test_split`
    with a third part.

    Part sizes from fractions use the largest-remainder rule: each part first gets
    `floor(fraction · n)` samples, and the samples left over go one each to the parts with the
    largest remainders `fraction · n − floor(fraction · n)`, ties to the earlier part (train, then
    validation, then test). The sizes then sum to `n` and each is within 1 of `fraction · n`.

    With `stratify`, every part keeps each class's share: the matrix of counts (class × part) is
    rounded the same way, so every count is within 1 of `class_count · part_size / n`, and the
    part sizes are exactly those above. Every class is also present in every part whose size is
    > 0, which can move a class with very few samples further than 1 from its exact share.

    Args:
        *arrays: One or more arrays (NumPy arrays, memory-mapped arrays, or sequences) with the
            same first dimension `n`. They are indexed, never copied whole.
        sizes: The (train, validation, test) sizes: three fractions summing to 1, or three
            non-negative integers summing to at most `n` (the samples left over are in no part).
            A size may be 0, e.g. `(0.9, 0.1, 0)`.
        stratify: Class labels of shape (n,), or one-hot rows of shape (n, K); `None`: no
            stratification.
        seed: Seed or Generator for the shuffle; `None` draws one from the global seed
            (`neuralnet.utils.set_random_seed`).
        shuffle: Shuffle before splitting. Without shuffle and without `stratify` the parts are
            consecutive slices (views of the arrays); with `stratify` each part keeps the arrays'
            order.

    Returns:
        A flat list with three parts per array, in the order of the arrays, as scikit-learn:
        for `(x, y)`, `[x_train, x_val, x_test, y_train, y_val, y_test]`.

    Raises:
        ValueError: No arrays, arrays of different lengths, bad `sizes`, a part of size > 0 that
            would be empty, or a class in `stratify` with too few samples for the parts.

    Example:

    ```python
    x, y = neuralnet.datasets.make_gaussian_classes(500)
    x_train, x_val, x_test, y_train, y_val, y_test = train_val_test_split(
        x, y, sizes=(0.8, 0.1, 0.1), stratify=y, seed=0
    )
    x_train.shape, x_val.shape, x_test.shape   # ((800, 2), (100, 2), (100, 2))
    ```
    """
    if not arrays:
        raise ValueError(
            f"{_WHERE}: expected at least one array, received none; "
            "call it as train_val_test_split(x, y, sizes=(0.8, 0.1, 0.1))."
        )
    arrays = tuple(_as_indexable(a, i) for i, a in enumerate(arrays))
    lengths = [a.shape[0] for a in arrays]
    if len(set(lengths)) > 1:
        listed = ", ".join(f"{length} (arrays[{i}])" for i, length in enumerate(lengths))
        raise ValueError(
            f"{_WHERE}: all arrays must have the same first dimension, received lengths {listed}."
        )
    n = lengths[0]
    counts = _part_sizes(sizes, n)
    rng = make_rng(seed) if shuffle else None

    if stratify is None:
        order = rng.permutation(n) if shuffle else None
        bounds = np.cumsum([0, *counts])
        if order is None:
            pieces = [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]
        else:
            pieces = [order[a:b] for a, b in itertools.pairwise(bounds)]
    else:
        pieces = _stratified_indices(stratify, n, counts, sizes, rng)
    return [array[piece] for array in arrays for piece in pieces]


def _as_indexable(array: Any, position: int) -> Any:
    """`array` itself when it has a shape (NumPy arrays, memmaps), else `np.asarray(array)`."""
    if not hasattr(array, "shape") or not hasattr(array, "__getitem__"):
        array = np.asarray(array)
    if len(array.shape) == 0:
        raise ValueError(
            f"{_WHERE}: arrays[{position}] must have a first dimension (one row per sample), "
            f"received a 0-d array {array!r}."
        )
    return array


def _part_sizes(sizes: Any, n: int) -> list[int]:
    """The number of samples in each part (the largest-remainder rule for fractions)."""
    try:
        values = tuple(sizes)
    except TypeError:
        values = None
    if values is None or len(values) != 3:
        raise ValueError(
            f"{_WHERE}: `sizes` must be 3 entries (train, validation, test), received sizes={sizes!r}."
        )
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values) or any(
        np.isnan(float(v)) for v in values
    ):
        raise ValueError(
            f"{_WHERE}: `sizes` must be three numbers (fractions or integers), received sizes={sizes!r}."
        )
    if any(v < 0 for v in values):
        raise ValueError(f"{_WHERE}: `sizes` must be non-negative, received sizes={sizes!r}.")
    if all(isinstance(v, numbers.Integral) for v in values):
        counts = [int(v) for v in values]
        if sum(counts) > n:
            raise ValueError(
                f"{_WHERE}: `sizes` asks for {sum(counts)} samples but the arrays have {n}, "
                f"received sizes={sizes!r}; the integer sizes must sum to at most {n}."
            )
        return counts
    if any(isinstance(v, numbers.Integral) for v in values):
        raise ValueError(
            f"{_WHERE}: `sizes` must be three fractions or three integers, not a mix, "
            f"received sizes={sizes!r}."
        )
    fractions = [float(v) for v in values]
    if abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(
            f"{_WHERE}: `sizes` as fractions must sum to 1, received sizes={sizes!r} "
            f"(sum {sum(fractions):.10g})."
        )
    counts = _largest_remainder(fractions, n)
    for part, fraction, count in zip(_PARTS, fractions, counts, strict=True):
        if fraction > 0 and count == 0:
            needed = next(m for m in range(n + 1, 2**62) if min(_positive(fractions, m)) > 0)
            raise ValueError(
                f"{_WHERE}: the {part} part would be empty: {fraction:g} of {n} samples is "
                f"{fraction * n:g}, rounded to 0, received sizes={sizes!r}. Use at least "
                f"{needed} samples, or integer sizes, or set its size to 0."
            )
    return counts


def _positive(fractions: list[float], n: int) -> list[int]:
    """The sizes of the parts whose fraction is > 0, for `n` samples."""
    return [c for f, c in zip(fractions, _largest_remainder(fractions, n), strict=True) if f > 0]


def _largest_remainder(fractions: list[float], n: int) -> list[int]:
    """`floor(f · n)` each, then one more for the largest remainders (ties: earlier part)."""
    exact = [f * n for f in fractions]
    # 0.3 · 10 is 2.9999999999999996: values within rounding error of an integer count as it
    counts = [
        round(e) if abs(e - round(e)) <= 1e-9 * max(1.0, e) else int(np.floor(e)) for e in exact
    ]
    left = n - sum(counts)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[: max(left, 0)]:
        counts[i] += 1
    return counts


def _stratified_indices(
    stratify: Any, n: int, counts: list[int], sizes: Any, rng: np.random.Generator | None
) -> list[np.ndarray]:
    """The indices of each part, with each class's share kept in every part."""
    labels = np.asarray(stratify)
    if labels.ndim == 2 and labels.shape[0] == n:
        labels = labels.argmax(axis=1) if labels.shape[1] > 1 else labels[:, 0]
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(
            f"{_WHERE}: `stratify` must have one label (or one-hot row) per sample, shape ({n},) "
            f"or ({n}, K), received shape {labels.shape}."
        )
    classes, class_of = np.unique(labels, return_inverse=True)
    class_counts = np.bincount(class_of, minlength=len(classes))
    needed = [p for p, c in enumerate(counts) if c > 0]
    for k, count in enumerate(class_counts):
        if count < len(needed):
            raise ValueError(
                f"{_WHERE}: `stratify` class {classes[k].item()!r} has {count} sample(s), but the "
                f"{len(needed)} parts of size > 0 ({', '.join(_PARTS[p] for p in needed)}) each "
                f"need one, received sizes={sizes!r}. Gather more samples of that class, merge or "
                "drop it, or set a size to 0."
            )
    for p in needed:
        if counts[p] < len(classes):
            raise ValueError(
                f"{_WHERE}: `stratify` has {len(classes)} classes but the {_PARTS[p]} part has "
                f"{counts[p]} samples, too few to hold one of each, received sizes={sizes!r}."
            )
    part_counts = [*counts, n - sum(counts)]  # the last column: samples in no part
    table = _round_matrix(class_counts, part_counts, rng)
    _ensure_presence(table, class_counts, part_counts, needed)

    pieces: list[list[np.ndarray]] = [[] for _ in counts]
    members = np.argsort(class_of, kind="stable")
    starts = np.concatenate([[0], np.cumsum(class_counts)])
    for k in range(len(classes)):
        indices = members[starts[k] : starts[k + 1]]
        if rng is not None:
            indices = rng.permutation(indices)
        bounds = np.concatenate([[0], np.cumsum(table[k])])
        for p in range(len(counts)):
            pieces[p].append(indices[bounds[p] : bounds[p + 1]])
    result = []
    for piece in pieces:
        indices = np.concatenate(piece) if piece else np.empty(0, dtype=np.intp)
        result.append(rng.permutation(indices) if rng is not None else np.sort(indices))
    return result


def _round_matrix(
    row_sums: np.ndarray, column_sums: list[int], rng: np.random.Generator | None
) -> np.ndarray:
    """Integers M with the given row and column sums and |M − r·c/n| < 1: floors first, then one
    more on the cells with the largest remainders (greedy, completed by augmenting paths)."""
    rows, columns = len(row_sums), len(column_sums)
    product = row_sums[:, None].astype(np.int64) * np.asarray(column_sums, dtype=np.int64)[None, :]
    n = int(sum(column_sums))
    table = product // n
    remainder = product % n
    row_left = row_sums - table.sum(axis=1)
    column_left = np.asarray(column_sums) - table.sum(axis=0)
    extra = np.zeros_like(table)
    tie = rng.permutation(rows) if rng is not None else np.arange(rows)  # ties: random classes
    for cell in np.lexsort((tie[:, None].repeat(columns, 1).ravel(), -remainder.ravel())):
        k, p = divmod(int(cell), columns)
        if remainder[k, p] > 0 and row_left[k] > 0 and column_left[p] > 0:
            extra[k, p] = 1
            row_left[k] -= 1
            column_left[p] -= 1
    while row_left.sum() > 0:  # greedy got stuck: an augmenting path exists (transport theory)
        _augment(extra, remainder > 0, row_left, column_left)
    return table + extra


def _augment(
    extra: np.ndarray, allowed: np.ndarray, row_left: np.ndarray, column_left: np.ndarray
) -> None:
    """Add one unit along an alternating path from a row still short to a column still short."""
    rows, columns = extra.shape
    came_from: dict[tuple[str, int], tuple[str, int] | None] = {
        ("row", int(k)): None for k in np.flatnonzero(row_left > 0)
    }
    queue = collections.deque(came_from)
    while queue:
        kind, index = queue.popleft()
        if kind == "row":
            nexts = [
                ("column", p) for p in range(columns) if allowed[index, p] and not extra[index, p]
            ]
        else:
            if column_left[index] > 0:
                node: tuple[str, int] | None = (kind, index)
                column_left[index] -= 1
                while node is not None:
                    previous = came_from[node]
                    if previous is None:
                        row_left[node[1]] -= 1
                    elif node[0] == "column":
                        extra[previous[1], node[1]] = 1
                    else:
                        extra[node[1], previous[1]] = 0
                    node = previous
                return
            nexts = [("row", k) for k in range(rows) if extra[k, index]]
        for step in nexts:
            if step not in came_from:
                came_from[step] = (kind, index)
                queue.append(step)
    raise RuntimeError(f"{_WHERE}: no stratified allocation found; please report this.")


def _ensure_presence(
    table: np.ndarray, class_counts: np.ndarray, part_counts: list[int], needed: list[int]
) -> None:
    """Give every class at least one sample in every part of size > 0, keeping the part sizes:
    each fix moves one sample of the class in from the part where it is most over its share, and
    one sample of the most over-represented other class back."""
    n = int(sum(part_counts))
    exact = class_counts[:, None] * np.asarray(part_counts)[None, :] / n
    spare_part = len(part_counts) - 1
    for k, p in zip(*np.nonzero(table[:, needed] == 0), strict=True):
        p = needed[p]
        minimum = np.where(np.arange(len(part_counts)) == spare_part, 1, 2)
        donors = np.flatnonzero(table[k] >= minimum)
        q = donors[np.argmax((table[k] - exact[k])[donors])]
        table[k, p] += 1
        table[k, q] -= 1
        others = np.flatnonzero(table[:, p] >= 2)
        j = others[
            np.argmax((table[others, p] - exact[others, p]) - (table[others, q] - exact[others, q]))
        ]
        table[j, p] -= 1
        table[j, q] += 1
