"""Atomic file writes: a file the library writes whole appears complete or not at all.

The data go to a temporary file in the same folder, which is flushed and fsynced, then renamed over
the target (`os.replace`, atomic on POSIX and Windows) and the folder is fsynced, so a process killed
at any moment leaves either the previous file or the new one, never a mixture.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path beside `path`; when the block ends without error, the file written
    there is fsynced and renamed to `path`. On error the temporary file is removed and `path` is
    left as it was. The folder is created if needed.

        with atomic_path("m.keras") as temporary:
            write_archive(temporary)
    """
    import tempfile  # here: it imports `random` and `shutil`, which `import neuralnet` avoids

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    base = os.path.basename(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=folder)
    os.close(descriptor)
    # mkstemp makes the file private (0600); give it the permissions `open` would (or the
    # previous file's), so that a saved model is readable as any other file is.
    try:
        os.chmod(temporary, _permissions_for(path))
    except OSError:
        pass
    try:
        yield temporary
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise
    _fsync_folder(folder)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb", **kwargs) -> Iterator:
    """`open(path, mode)` for writing, atomically: the file appears at `path` only when the block
    ends without error (see `atomic_path`)."""
    if not mode.startswith("w"):
        raise ValueError(f"atomic_open writes new files: `mode` must start with 'w', got {mode!r}.")
    with atomic_path(path) as temporary, open(temporary, mode, **kwargs) as handle:
        yield handle
        handle.flush()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def _permissions_for(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def leftover_temporaries(path: str | os.PathLike) -> list[str]:
    """The temporary files that writes of `path` killed half-way left beside it (named
    `.<name>.<random>.tmp`; no loader ever reads them)."""
    folder, base = os.path.split(os.path.abspath(os.fspath(path)))
    if not os.path.isdir(folder):
        return []
    return sorted(
        os.path.join(folder, name)
        for name in os.listdir(folder)
        if name.startswith(f".{base}.") and name.endswith(".tmp")
    )


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
