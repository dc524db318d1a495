"""`EarlyStopping`: stop training when a monitored quantity has stopped improving."""

from __future__ import annotations

import sys
from typing import Any

from neuralnet.callbacks.callback import CALLBACKS
from neuralnet.callbacks.monitor import MonitorCallback


@CALLBACKS.register("EarlyStopping")
class EarlyStopping(MonitorCallback):
    """Stop training when `monitor` has stopped improving for `patience` epochs (Keras 3's rules).

    Args:
        monitor: The logged quantity to watch, e.g. `'val_loss'`.
        min_delta: Changes smaller than this do not count as improvements.
        patience: Epochs without improvement before stopping.
        mode: `'min'`, `'max'` or `'auto'` (from the metric's name).
        baseline: Training stops unless the monitored value gets better than this within `patience`.
        restore_best_weights: Restore the weights of the best epoch when training ends (also when it
            ends without an early stop, as Keras 3 does).
        start_from_epoch: Epochs to wait before watching (a warm-up).
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0) -> None:  # fmt: skip
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights: list | None = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self._sign is None:
            self._set_direction()
        current = self._monitored(logs, "Early stopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def get_state(self) -> dict[str, Any]:
        return {"wait": self.wait, "stopped_epoch": self.stopped_epoch, "best": self.best,
                "best_weights": self.best_weights, "best_epoch": self.best_epoch}  # fmt: skip

    def set_state(self, state: dict[str, Any]) -> None:
        self.wait = int(state["wait"])
        self.stopped_epoch = int(state["stopped_epoch"])
        self.best = state["best"]
        self.best_weights = state["best_weights"]
        self.best_epoch = int(state["best_epoch"])

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping", file=sys.stdout)
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.",
                    file=sys.stdout,
                )
            self.model.set_weights(self.best_weights)
