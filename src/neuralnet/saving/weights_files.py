"""Reading and writing the arrays of a model: HDF5 (`model.weights.h5`, `.weights.h5`, Keras's
format) and safetensors (`.safetensors`: no HDF5 parser, a plain header then the raw arrays).

Both are read in two passes: first every array's name, shape and dtype (nothing is read into memory,
and each header is checked), then, once the caller has matched them against the model, the values.
"""

from __future__ import annotations

import io
import os
import re
from typing import Any

import numpy as np

from neuralnet.saving.errors import ModelFileError
from neuralnet.saving.weights_layout import Group, check_array_header, check_values

_VARS_PATH = re.compile(r"^(?:[A-Za-z0-9_.\-]+/)*vars$")
_MAX_OBJECTS = 1_000_000


class StoredArrays:
    """The arrays of a weights file by group (`layers/dense/vars` -> the headers of `0`, `1`, ...),
    checked but not yet read."""

    def __init__(self, headers: dict[str, list[tuple[tuple, np.dtype]]], total_bytes: int,
                 reader: Any, where: str) -> None:  # fmt: skip
        self.headers = headers
        self.total_bytes = total_bytes
        self._reader = reader  # (group path, index) -> np.ndarray
        self.where = where
        self.handle: Any = None  # the open file, kept until the values are read
        self.metadata: dict[str, str] = {}

    def close(self) -> None:
        """Close the file (after `read`; the headers stay)."""
        handle, self.handle = self.handle, None
        if handle is None:
            return
        if hasattr(handle, "close"):
            handle.close()
        elif hasattr(handle, "__exit__"):
            handle.__exit__(None, None, None)

    def scalars(self, prefix_excluded: str = "optimizer/") -> int:
        """How many values the layers' arrays hold (the budget for building the model)."""
        return sum(
            int(np.prod(shape, dtype=np.int64))
            for path, headers in self.headers.items()
            if not path.startswith(prefix_excluded)
            for shape, _ in headers
        )

    def read(self, groups: list[Group]) -> dict[str, list[np.ndarray]]:
        """The values of `groups` (already matched with `match_groups`), as new arrays."""
        values: dict[str, list[np.ndarray]] = {}
        for group in groups:
            if group.path not in self.headers:
                continue
            arrays = []
            for index in range(len(group.arrays)):
                array = np.asarray(self._reader(group.path, index))
                check_values(f"{group.path}/{index}", array, self.where)
                arrays.append(array)
            values[group.path] = arrays
        return values


def _split_key(key: str, where: str) -> tuple[str, int]:
    path, _, index = key.rpartition("/")
    if not _VARS_PATH.match(path) or not index.isdigit() or len(index) > 9:
        raise ModelFileError(
            f"unexpected array name {key!r}: arrays are named '<...>/vars/<index>'.", where
        )
    return path, int(index)


def _ordered(found: dict[str, dict[int, tuple]], where: str) -> dict[str, list[tuple]]:
    headers: dict[str, list[tuple]] = {}
    for path, by_index in found.items():
        if sorted(by_index) != list(range(len(by_index))):
            raise ModelFileError(
                f"the arrays of {path!r} are numbered {sorted(by_index)}; expected 0 to "
                f"{len(by_index) - 1} with none missing.",
                where,
            )
        headers[path] = [by_index[i] for i in range(len(by_index))]
    return headers


# -- HDF5 --------------------------------------------------------------------------------------------


def write_h5(target: Any, groups: list[Group]) -> None:
    """Write `groups` to `target` (a path or a binary file object) in Keras's layout."""
    import h5py

    with h5py.File(target, "w") as handle:
        for group in groups:
            node = handle.require_group(group.path)
            node.attrs["name"] = group.name
            for index, array in enumerate(group.arrays):
                node.create_dataset(str(index), data=np.asarray(array))


def h5_bytes(groups: list[Group]) -> bytes:
    buffer = io.BytesIO()
    write_h5(buffer, groups)
    return buffer.getvalue()


def open_h5(source: Any, where: str, size_limit: int) -> StoredArrays:
    """Check every dataset's name, shape, dtype and storage in an HDF5 file (a path or bytes)
    before any value is read. Values are read later, from memory."""
    import h5py

    if isinstance(source, (bytes, bytearray)):
        if not bytes(source[:8]) == b"\x89HDF\r\n\x1a\n":
            raise ModelFileError("the weights are not an HDF5 file (wrong signature).", where)
        opened: Any = io.BytesIO(source)
    else:
        with open(source, "rb") as probe:
            if probe.read(8) != b"\x89HDF\r\n\x1a\n":
                raise ModelFileError("not an HDF5 file (wrong signature).", where)
        opened = source
    try:
        handle = h5py.File(opened, "r")
    except (OSError, RuntimeError, ValueError, KeyError, OverflowError) as error:
        raise ModelFileError(f"not a readable HDF5 file ({error}).", where) from None
    found: dict[str, dict[int, tuple]] = {}
    datasets: dict[tuple[str, int], Any] = {}
    total = 0
    count = 0

    def visit(name: str, obj: Any) -> None:
        nonlocal total, count
        count += 1
        if count > _MAX_OBJECTS:
            raise ModelFileError("the HDF5 file holds too many objects.", where)
        if isinstance(obj, h5py.Group):
            if name.endswith("/vars") or name == "vars":
                found.setdefault(name, {})
            return
        if not isinstance(obj, h5py.Dataset):
            raise ModelFileError(f"unexpected HDF5 object {name!r}.", where)
        path, index = _split_key(name, where)
        if obj.shape is None:
            raise ModelFileError(f"array {name!r} has no shape (an empty HDF5 dataspace).", where)
        if obj.is_virtual or obj.external or obj.id.get_create_plist().get_nfilters():
            raise ModelFileError(
                f"array {name!r} uses compression, filters or external storage, which weights "
                "files do not.",
                where,
            )
        nbytes = check_array_header(name, tuple(obj.shape), obj.dtype, where)
        if obj.id.get_storage_size() < nbytes and nbytes:
            raise ModelFileError(f"array {name!r} is not stored whole in the file.", where)
        total += nbytes
        if total > size_limit:
            raise ModelFileError("the arrays claim more bytes than the file holds.", where)
        found.setdefault(path, {})[index] = (tuple(int(s) for s in obj.shape), obj.dtype)
        datasets[(path, index)] = obj

    try:
        handle.visititems(visit)
    except ModelFileError:
        handle.close()
        raise
    except (OSError, RuntimeError, ValueError, TypeError, KeyError, OverflowError) as error:
        handle.close()
        raise ModelFileError(f"the HDF5 file is damaged ({error}).", where) from None
    headers = _ordered(found, where)

    def reader(path: str, index: int) -> np.ndarray:
        try:
            return datasets[(path, index)][()]
        except (OSError, RuntimeError, ValueError, TypeError, OverflowError) as error:
            raise ModelFileError(f"array '{path}/{index}' cannot be read ({error}).",
                                 where) from None  # fmt: skip

    stored = StoredArrays(headers, total, reader, where)
    stored.handle = handle
    return stored


# -- safetensors ----------------------------------------------------------------------------------------

_SAFETENSORS_DTYPES = {
    "F16": np.float16, "F32": np.float32, "F64": np.float64,
    "I8": np.int8, "I16": np.int16, "I32": np.int32, "I64": np.int64,
    "U8": np.uint8, "U16": np.uint16, "U32": np.uint32, "U64": np.uint64,
}  # fmt: skip


def safetensors_bytes(groups: list[Group], metadata: dict[str, str]) -> bytes:
    from safetensors.numpy import save

    tensors = {
        f"{group.path}/{index}": np.array(array, order="C")
        for group in groups
        for index, array in enumerate(group.arrays)
    }
    return save(tensors, metadata=metadata)


def open_safetensors(path: str, where: str) -> StoredArrays:
    """Check every tensor's name, shape and dtype in a `.safetensors` file before reading it (the
    file is memory-mapped; values are copied out later)."""
    from safetensors import safe_open

    handle = safe_open(path, framework="numpy")
    size = os.path.getsize(path)
    found: dict[str, dict[int, tuple]] = {}
    total = 0
    for key in handle.keys():  # noqa: SIM118 (a safetensors handle is not iterable)
        group, index = _split_key(key, where)
        view = handle.get_slice(key)
        dtype_name = view.get_dtype()
        if dtype_name not in _SAFETENSORS_DTYPES:
            raise ModelFileError(f"array {key!r} has dtype {dtype_name}, not a number.", where)
        dtype = np.dtype(_SAFETENSORS_DTYPES[dtype_name])
        shape = tuple(int(s) for s in view.get_shape())
        total += check_array_header(key, shape, dtype, where)
        if total > size:
            raise ModelFileError("the arrays claim more bytes than the file holds.", where)
        found.setdefault(group, {})[index] = (shape, dtype)
    headers = _ordered(found, where)

    def reader(group: str, index: int) -> np.ndarray:
        return np.array(handle.get_tensor(f"{group}/{index}"), copy=True)

    stored = StoredArrays(headers, total, reader, where)
    stored.handle = handle
    stored.metadata = handle.metadata() or {}
    return stored
