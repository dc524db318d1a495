"""`CSVLogger`: one row of logs per epoch in a CSV file."""

from __future__ import annotations

import csv
import io
import os
from typing import Any

import numpy as np

from neuralnet.callbacks.callback import CALLBACKS, Callback


@CALLBACKS.register("CSVLogger")
class CSVLogger(Callback):
    """Write the logs of each epoch as a row of a CSV file: `epoch`, then the logged values sorted
    by name, as Keras does. When the first epoch has no validation values, `val_` columns are added
    for every value anyway and written as `NA`, so that runs appended to one file share its header.

    Args:
        filename: The CSV file.
        separator: The field separator.
        append: Append to an existing file (resuming training) instead of overwriting it.

    Its state (for `BackupAndRestore`) holds the rows this `fit` wrote, so that a resumed `fit`
    puts the file back as it was at the backup (rows written after it are dropped, rows the
    restart overwrote are written again) and goes on appending.
    """

    #: In distributed training only rank 0 runs it (one writer per file).
    chief_only = True

    def __init__(
        self, filename: str | os.PathLike, separator: str = ",", append: bool = False
    ) -> None:
        super().__init__()
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = bool(append)
        self._file: Any = None
        self._keys: list[str] | None = None
        self._header_needed = True
        self._start = 0  # where this fit's rows begin in the file, in bytes
        self._written = ""  # the text this fit wrote

    def on_train_begin(self, logs=None):
        exists = os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._header_needed = not (self.append and exists)
        self._keys = None
        if self.append and exists:
            with open(self.filename, encoding="utf-8") as existing:
                first = existing.readline().strip()
            if first:
                self._keys = first.split(self.separator)[1:]
        self._start = os.path.getsize(self.filename) if self.append and exists else 0
        self._written = ""
        self._open("a" if self.append else "w")

    def _open(self, mode: str) -> None:
        self._file = open(self.filename, mode, encoding="utf-8", newline="")  # noqa: SIM115

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            if self._keys and not any(key.startswith("val_") for key in self._keys):
                self._keys += [f"val_{key}" for key in self._keys]
        rows = io.StringIO()
        writer = csv.writer(rows, delimiter=self.separator, lineterminator="\n")
        if self._header_needed:
            writer.writerow(["epoch", *self._keys])
            self._header_needed = False
        writer.writerow([epoch, *(_csv_value(logs.get(key, "NA")) for key in self._keys)])
        self._file.write(rows.getvalue())
        self._file.flush()
        self._written += rows.getvalue()

    def get_state(self) -> dict[str, Any]:
        return {"keys": self._keys, "header_needed": self._header_needed, "start": self._start,
                "written": self._written}  # fmt: skip

    def set_state(self, state: dict[str, Any]) -> None:
        start = int(state["start"])
        if self._file is not None:
            self._file.close()
        if os.path.getsize(self.filename) < start:
            raise ValueError(
                f"CSVLogger: {self.filename!r} is shorter than when the backup was taken "
                f"({start} bytes before this fit's rows): something else changed it, so its rows "
                "cannot be put back."
            )
        with open(self.filename, "r+b") as file:
            file.truncate(start)
            file.seek(start)
            file.write(state["written"].encode("utf-8"))
        self._keys = state["keys"]
        self._header_needed = bool(state["header_needed"])
        self._start = start
        self._written = state["written"]
        self._open("a")

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


def _csv_value(value: Any) -> Any:
    return repr(float(value)) if isinstance(value, (float, np.floating)) else value
