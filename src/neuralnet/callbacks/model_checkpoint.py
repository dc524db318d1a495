"""`ModelCheckpoint`: save the model, or its weights, during `fit` (Keras 3's callback)."""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import numpy as np

from neuralnet.callbacks.callback import CALLBACKS
from neuralnet.callbacks.monitor import MonitorCallback
from neuralnet.callbacks.save_frequency import BatchSaveCounter

_WEIGHTS_SUFFIXES = (".weights.h5", ".safetensors")


@CALLBACKS.register("ModelCheckpoint")
class ModelCheckpoint(MonitorCallback):
    """Save the model (`model.save`) or its weights (`model.save_weights`) at the end of every
    epoch or every `save_freq` batches, or only when `monitor` improves, with Keras 3's arguments.

    ```python
    checkpoint = callbacks.ModelCheckpoint("ckpt/best.keras", monitor="val_accuracy",
                                           save_best_only=True)
    model.fit(x, y, validation_split=0.2, epochs=20, callbacks=[checkpoint])
    best = neuralnet.models.load_model("ckpt/best.keras")
    ```

    Every file appears whole or not at all (the saving functions write atomically), so a run
    killed while saving leaves the previous file.

    Args:
        filepath: Where to save: a `.keras` file, or with `save_weights_only=True` a `.weights.h5`
            or `.safetensors` file. It may hold format fields filled from `epoch` (1-based, as in
            Keras), `batch` (1-based, when saving every `save_freq` batches) and the logs:
            `"ckpt-{epoch:02d}-{val_loss:.3f}.keras"`.
        monitor: The logged quantity that decides what "best" is, e.g. `'val_loss'`.
        verbose: 1 prints a line whenever the callback saves or decides not to.
        save_best_only: Save only when `monitor` is better than at every earlier save (without
            fields in `filepath`, the file then always holds the best model so far).
        save_weights_only: Save the weights (and the optimizer's state) instead of the model.
        mode: `'min'`, `'max'` or `'auto'` (from the name of `monitor`, as `EarlyStopping`).
        save_freq: `'epoch'`, or a positive integer: save every that many batches (the monitored
            value is then the running value of the epoch so far).
        initial_value_threshold: With `save_best_only`, the value `monitor` must beat before the
            first save; `None` saves at the first epoch.

    Raises:
        ValueError: For an unknown `save_freq` or a `filepath` with the wrong suffix (Keras's
            messages).
    """

    #: In distributed training only rank 0 runs it (one writer per file).
    chief_only = True

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False, mode: str = "auto",
                 save_freq: str | int = "epoch",
                 initial_value_threshold: float | None = None) -> None:  # fmt: skip
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.save_freq = save_freq
        self._counter = BatchSaveCounter(save_freq)
        self._current_epoch = 0
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool)):
            raise ValueError(
                f"Unrecognized save_freq: {save_freq}. "
                "Expected save_freq are 'epoch' or integer values"
            )
        if save_freq != "epoch" and save_freq < 1:
            raise ValueError(
                f"ModelCheckpoint: `save_freq` must be 'epoch' or a positive number of batches, "
                f"received save_freq={save_freq}."
            )
        if save_weights_only:
            if not self.filepath.endswith(_WEIGHTS_SUFFIXES):
                raise ValueError(
                    "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath "
                    "provided must end in `.weights.h5` (Keras weights format) or `.safetensors`. "
                    f"Received: filepath={self.filepath}"
                )
        elif not self.filepath.endswith(".keras"):
            raise ValueError(
                "The filepath provided must end in `.keras` (Keras model format). Received: "
                f"filepath={self.filepath}"
            )

    # -- hooks ------------------------------------------------------------------------------------

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._counter.due(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def get_state(self) -> dict[str, Any]:
        return {
            "best": self.best,
            **self._counter.get_state(),
            "current_epoch": self._current_epoch,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.best = state["best"]
        self._counter.set_state(state)
        self._current_epoch = int(state["current_epoch"])

    # -- saving -----------------------------------------------------------------------------------

    def _should_save_model(self, epoch: int, logs: dict, filepath: str) -> bool:
        if not self.save_best_only:
            self._say(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        if isinstance(current, np.ndarray) and current.ndim > 0:
            warnings.warn(
                "Can save best model only when `monitor` is a scalar value. Received: "
                f"{current}. Falling back to `save_best_only=False`.",
                stacklevel=3,
            )
            return True
        if self._sign is None:
            self._set_direction()
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            self._say(
                f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to {current:.5f}, "
                f"saving model to {filepath}"
            )
            self.best = current
            return True
        self._say(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _save_model(self, epoch: int, batch: int | None, logs: dict | None) -> None:
        logs = logs or {}
        filepath = self._file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise OSError(
                "Please specify a non-directory filepath for ModelCheckpoint. Filepath used is an "
                f"existing directory: {filepath}"
            )
        folder = os.path.dirname(filepath)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        self._say(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _file_path(self, epoch: int, batch: int | None, logs: dict) -> str:
        """`filepath` with its fields filled: `epoch` and `batch` 1-based, then the logs."""
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as error:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {error}'
            ) from error

    def _say(self, message: str) -> None:
        if self.verbose > 0:
            print(message, file=sys.stdout)
