"""Small data sets for examples (the lecture's Gaussian classes, scikit-learn's digits) and loaders for
users' own data in CSV and NPZ files."""

from __future__ import annotations

import csv
import difflib
import itertools
import numbers
import os
from collections.abc import Iterator
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
    target_column: int | str | None = -1,
    delimiter: str = ",",
    skip_header: int | None = None,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Features and targets from a CSV file of numbers.

    The file is read with the `csv` module in one pass and converted with NumPy. Blank lines and
    lines starting with `#` are skipped. Integer-valued targets come back as int64.

    Args:
        target_column: Index (counting from 0, negative from the end) or header name of the target
            column (`None`: no targets).
        skip_header: Lines to skip; by default one line is skipped when it is not numeric. The
            last skipped line, when it has one name per column, names the columns.

    Raises:
        TypeError: A `target_column` that is not an int, a str or None.
        ValueError: A missing value (an empty field, `NA`, `N/A`, `nan`, `null`, `None`, `?`),
            a value that is not a number, a row with the wrong number of fields, or a
            `target_column` that the file does not have; the message names the file, the column
            and the line (counting the header as line 1).
    """
    path = os.fspath(path)
    names, table = _read_csv_numbers(path, delimiter, skip_header)
    if table is None:
        _explain_csv_error(path, delimiter, skip_header, target_column)
    if len(table) == 0:
        raise ValueError(f"load_csv: {path} has no rows of numbers.")
    column = _target_index(path, target_column, names, table.shape[1])
    if column is None:
        return table.astype(dtype), None
    y = table[:, column]
    x = np.delete(table, column, axis=1).astype(dtype)
    return x, (y.astype(np.int64) if np.all(y == np.round(y)) else y.astype(dtype))


def _explain_csv_error(
    path: str, delimiter: str, skip_header: int | None, target_column: int | str | None
) -> None:
    """Read the file again as strings and raise a ValueError naming the first bad line."""
    names, rows, first_line, header_rows = _read_csv_rows(path, delimiter, skip_header)
    width = len(names) if names is not None else len(rows[0])
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    if np.any(lengths != width):
        i = int(np.argmax(lengths != width))
        lines = _row_lines(path, delimiter, first_line, header_rows, i + 1)
        if names is None:
            where = f"line {lines[0]}"
        else:
            where = f"line {lines[0] - 1 if header_rows else first_line - 1} (the header)"
        raise ValueError(
            f"load_csv: {path}: line {lines[i]} has {lengths[i]} field(s), expected {width} as on "
            f"{where}; check the delimiter {delimiter!r} and the quoting."
        )
    _target_index(path, target_column, names, width)
    _raise_bad_value(path, delimiter, names, rows, first_line, header_rows)


_MISSING = frozenset({"", "na", "n/a", "nan", "-nan", "+nan", "null", "none", "?"})


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numeric_row(row: list[str]) -> bool:
    try:
        return not np.isnan(np.array(row, dtype=np.float64)).any()
    except ValueError:
        return False


def _csv_rows(
    handle: Any, delimiter: str, skip_header: int | None
) -> tuple[list[str] | None, int, int, Iterator[list[str]]]:
    """From an open file: the column names (or `None`), the line number of the first line after
    the skipped ones, 1 when the first row read was a header (else 0), and the data rows."""
    skipped = [handle.readline() for _ in range(skip_header or 0)]
    reader = csv.reader(handle, delimiter=delimiter, skipinitialspace=True)
    rows = (row for row in reader if row and not row[0].lstrip().startswith("#"))
    first = next(rows, None)
    names, header_rows = None, 0
    if first is None:
        return names, (skip_header or 0) + 1, header_rows, iter(())
    if skip_header is None:
        if any(not _is_number(v) and v.strip().lower() not in _MISSING for v in first):
            names, header_rows = [v.strip() for v in first], 1
        skip_header = 0
    elif skipped:
        last = next(csv.reader([skipped[-1]], delimiter=delimiter, skipinitialspace=True), [])
        if len(last) == len(first):
            names = [v.strip() for v in last]
    data = rows if header_rows else itertools.chain([first], rows)
    return names, skip_header + 1, header_rows, data


def _read_csv_numbers(
    path: str, delimiter: str, skip_header: int | None, block: int = 8192
) -> tuple[list[str] | None, np.ndarray | None]:
    """The column names and the table as float64, converted block by block as the rows are read
    (so the strings of the whole file are never held at once); `None` for the table when a block
    has a row of another length, a value that is not a number, or a NaN."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        names, _, _, rows = _csv_rows(handle, delimiter, skip_header)
        width = len(names) if names is not None else None
        blocks = []
        while chunk := list(itertools.islice(rows, block)):
            width = len(chunk[0]) if width is None else width
            try:
                values = np.array(chunk, dtype=np.float64)
            except ValueError:
                return names, None
            if values.ndim != 2 or values.shape[1] != width or np.isnan(values).any():
                return names, None
            blocks.append(values)
    if not blocks:
        return names, np.empty((0, width or 0))
    return names, np.concatenate(blocks) if len(blocks) > 1 else blocks[0]


def _read_csv_rows(
    path: str, delimiter: str, skip_header: int | None
) -> tuple[list[str] | None, list[list[str]], int, int]:
    """As `_csv_rows`, with all the rows read as strings (to explain an error)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        names, first_line, header_rows, rows = _csv_rows(handle, delimiter, skip_header)
        return names, list(rows), first_line, header_rows


def _row_lines(
    path: str, delimiter: str, first_line: int, header_rows: int, count: int
) -> list[int]:
    """The line numbers (1-based) where the first `count` data rows start, read again only when
    an error needs them (a quoted field may span lines)."""
    lines = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for _ in range(first_line - 1):
            handle.readline()
        reader = csv.reader(handle, delimiter=delimiter, skipinitialspace=True)
        previous = first_line - 1
        for row in reader:
            if row and not row[0].lstrip().startswith("#"):
                lines.append(previous + 1)
                if len(lines) >= count + header_rows:
                    break
            previous = first_line - 1 + reader.line_num
    return lines[header_rows:]


def _column_label(names: list[str] | None, j: int) -> str:
    return repr(names[j]) if names is not None else f"{j} (counting from 0)"


def _target_index(
    path: str, target_column: int | str | None, names: list[str] | None, width: int
) -> int | None:
    """The index of the target column, or a ValueError naming the columns the file has."""
    if target_column is None:
        return None
    if isinstance(target_column, str):
        if names is None:
            raise ValueError(
                f"load_csv: {path} has no header line, so it has no column {target_column!r}; "
                f"pass target_column as an index in [-{width}, {width - 1}]."
            )
        if target_column in names:
            return names.index(target_column)
        close = difflib.get_close_matches(target_column, names, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"load_csv: {path} has no column {target_column!r}; its columns are: "
            f"{', '.join(names)}.{hint}"
        )
    if isinstance(target_column, bool) or not isinstance(target_column, numbers.Integral):
        raise TypeError(
            "load_csv: `target_column` must be a column index, a column name or None, "
            f"received target_column={target_column!r}."
        )
    if not -width <= target_column < width:
        raise ValueError(
            f"load_csv: `target_column` must be in [-{width}, {width - 1}] for the {width} "
            f"columns of {path}, received target_column={target_column!r}."
        )
    return int(target_column) % width


def _raise_bad_value(
    path: str,
    delimiter: str,
    names: list[str] | None,
    rows: list[list[str]],
    first_line: int,
    header_rows: int,
) -> None:
    """Find the missing or non-numeric values and raise for the first one: blocks of rows that
    NumPy converts are only checked for NaN, the others row by row, then field by field."""
    bad_rows: list[int] = []
    block = 1024
    for start in range(0, len(rows), block):
        try:
            values = np.array(rows[start : start + block], dtype=np.float64)
        except ValueError:
            bad_rows.extend(
                i for i in range(start, min(start + block, len(rows))) if not _numeric_row(rows[i])
            )
        else:
            bad_rows.extend((start + np.flatnonzero(np.isnan(values).any(axis=1))).tolist())
    i = bad_rows[0]
    j = next(j for j, text in enumerate(rows[i]) if not _is_number(text) or np.isnan(float(text)))
    lines = _row_lines(path, delimiter, first_line, header_rows, int(bad_rows[-1]) + 1)
    shown = [str(lines[r]) for r in bad_rows[:5]]
    more = f" and {len(bad_rows) - 5} more" if len(bad_rows) > 5 else ""
    summary = f"; missing or non-numeric values on line(s) {', '.join(shown)}{more}."
    value = rows[i][j]
    if value.strip().lower() in _MISSING or _is_number(value):
        shown_value = f" ({value.strip()!r})" if value.strip() else ""
        raise ValueError(
            f"load_csv: {path}: column {_column_label(names, j)} has a missing value on line "
            f"{lines[i]}{shown_value}" + summary
        )
    raise ValueError(
        f"load_csv: {path}: column {_column_label(names, j)} is not numeric: {value!r} on line "
        f"{lines[i]} (neuralnet reads numbers only; encode categories as integers)" + summary
    )


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
