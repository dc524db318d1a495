"""MNIST from its IDX files (the format of Yann LeCun's distribution), gzip-compressed or not.

Nothing is downloaded: point `load_mnist` at the folder that holds the files.
"""

from __future__ import annotations

import gzip
import os
import struct

import numpy as np

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}  # fmt: skip


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (`.gz` or plain) into an array of its declared type and shape.

    Raises:
        ValueError: if the file is not a valid IDX file (bad magic number, unknown type, or a size
            that does not match its header).
    """
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except gzip.BadGzipFile as error:
        raise ValueError(f"{path}: not a valid gzip file ({error}).") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file (its first bytes are not the IDX magic number).")
    type_code, ndim = data[2], data[3]
    if type_code not in _IDX_TYPES:
        raise ValueError(f"{path}: unknown IDX data type 0x{type_code:02x}.")
    header_end = 4 + 4 * ndim
    if len(data) < header_end:
        raise ValueError(f"{path}: the file ends inside its header.")
    shape = struct.unpack(f">{ndim}I", data[4:header_end])
    dtype = np.dtype(_IDX_TYPES[type_code])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header_end != expected:
        raise ValueError(
            f"{path}: the header declares shape {shape} ({expected} bytes of data), but the file holds "
            f"{len(data) - header_end} bytes."
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_end).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def _find(folder: str, stem: str) -> str:
    for name in (
        stem,
        stem + ".gz",
        stem.replace("-idx", ".idx"),
        stem.replace("-idx", ".idx") + ".gz",
    ):
        candidate = os.path.join(folder, name)
        if os.path.exists(candidate):
            return candidate
    raise FileNotFoundError(
        f"No MNIST file {stem}[.gz] in {folder!r}. Download the IDX files of MNIST into that folder "
        "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
        "t10k-labels-idx1-ubyte.gz)."
    )


def load_mnist(
    path: str | os.PathLike, split: str = "test", normalize: bool = False, flatten: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST images and labels from the IDX files in folder `path`.

    Args:
        path: The folder holding the (optionally gzip-compressed) IDX files.
        split: `'train'` (60,000 images) or `'test'` (10,000 images, the `t10k-` files).
        normalize: Scale the pixels to float32 in [0, 1] (else uint8 in 0-255, as Keras returns).
        flatten: Give each image as a vector of 784 values instead of 28×28.

    Returns:
        `(images, labels)`: images of shape (n, 28, 28) or (n, 784), labels of shape (n,) in 0-9.
    """
    if split not in ("train", "test"):
        raise ValueError(
            f"load_mnist: `split` must be 'train' or 'test', received split={split!r}."
        )
    folder = os.fspath(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"load_mnist: {folder!r} is not a folder.")
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(_find(folder, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(_find(folder, f"{prefix}-labels-idx1-ubyte"))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(
            f"load_mnist: images of shape {images.shape} and labels of shape {labels.shape} do not "
            "form a data set (expected (n, 28, 28) and (n,))."
        )
    x = images.astype(np.float32) / 255.0 if normalize else images
    if flatten:
        x = x.reshape(len(x), -1)
    return x, labels.astype(np.int64)
