"""`CSVLogger`: one row of logs per epoch in a CSV file."""

from __future__ import annotations

import csv
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
    """

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

    def on_train_begin(self, logs=None):
        exists = os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._header_needed = not (self.append and exists)
        self._keys = None
        if self.append and exists:
            with open(self.filename, encoding="utf-8") as existing:
                first = existing.readline().strip()
            if first:
                self._keys = first.split(self.separator)[1:]
        self._file = open(self.filename, "a" if self.append else "w", encoding="utf-8", newline="")  # noqa: SIM115

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            if self._keys and not any(key.startswith("val_") for key in self._keys):
                self._keys += [f"val_{key}" for key in self._keys]
        writer = csv.writer(self._file, delimiter=self.separator, lineterminator="\n")
        if self._header_needed:
            writer.writerow(["epoch", *self._keys])
            self._header_needed = False
        writer.writerow([epoch, *(_csv_value(logs.get(key, "NA")) for key in self._keys)])
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


def _csv_value(value: Any) -> Any:
    return repr(float(value)) if isinstance(value, (float, np.floating)) else value
