"""`LearningRateScheduler`: set the learning rate at the start of each epoch."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from neuralnet.callbacks.callback import CALLBACKS, Callback


def require_constant_rate(optimizer: Any, who: str) -> None:
    """Raise a `TypeError` when `optimizer` follows a schedule that the callback `who` would fight."""
    if getattr(optimizer, "schedule", None) is not None:
        raise TypeError(
            f"{who} sets the learning rate, but the optimizer follows the schedule "
            f"{optimizer.schedule!r}: the two would fight. Give the optimizer a constant learning rate, "
            f"or drop {who}."
        )


@CALLBACKS.register("LearningRateScheduler")
class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch to `schedule(epoch, lr)` (or `schedule(epoch)`)."""

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        require_constant_rate(optimizer, "LearningRateScheduler")
        try:
            rate = self.schedule(epoch, float(optimizer.learning_rate))
        except TypeError:
            rate = self.schedule(epoch)
        if not isinstance(rate, (float, int, np.floating, np.integer)) or not math.isfinite(
            float(rate)
        ):
            raise ValueError(
                f"LearningRateScheduler: the schedule must return a finite float, received {rate!r} at epoch {epoch}."
            )
        optimizer.learning_rate = float(rate)
        if self.verbose > 0:
            print(
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(rate)}.",
                file=sys.stdout,
            )

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)
