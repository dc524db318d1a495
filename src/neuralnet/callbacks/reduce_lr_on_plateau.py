"""`ReduceLROnPlateau`: lower the learning rate when a monitored quantity has stopped improving."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from neuralnet.callbacks.callback import CALLBACKS
from neuralnet.callbacks.learning_rate_scheduler import require_constant_rate
from neuralnet.callbacks.monitor import MonitorCallback


@CALLBACKS.register("ReduceLROnPlateau")
class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by `factor` when `monitor` has not improved for `patience` epochs.

    Adds `learning_rate` to the epoch logs, as Keras does.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0) -> None:  # fmt: skip
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0, received factor={factor}."
            )
        self.factor = float(factor)
        self.patience = int(patience)
        self.verbose = verbose
        self.cooldown = int(cooldown)
        self.min_lr = float(min_lr)
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def get_state(self) -> dict[str, Any]:
        return {"best": self.best, "wait": self.wait, "cooldown_counter": self.cooldown_counter}

    def set_state(self, state: dict[str, Any]) -> None:
        self.best = state["best"]
        self.wait = int(state["wait"])
        self.cooldown_counter = int(state["cooldown_counter"])

    def on_epoch_end(self, epoch, logs=None):
        if self._sign is None:
            self._set_direction()
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        require_constant_rate(optimizer, "ReduceLROnPlateau")
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = self._monitored(logs, "Learning rate reduction")
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(optimizer.learning_rate)
                if old > float(np.float32(self.min_lr)):
                    new = max(old * self.factor, self.min_lr)
                    optimizer.learning_rate = new
                    if self.verbose > 0:
                        print(
                            f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.",
                            file=sys.stdout,
                        )
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
