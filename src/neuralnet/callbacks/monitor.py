"""`MonitorCallback`: the base of the callbacks that watch one logged quantity for improvement
(`EarlyStopping`, `ReduceLROnPlateau`, `ModelCheckpoint`)."""

from __future__ import annotations

import warnings
from typing import Any

from neuralnet.callbacks.callback import Callback

_INCREASING_WORDS = ("acc", "auc", "precision", "recall", "f1", "fbeta", "true_positives",
                     "true_negatives", "cosine_similarity", "r2")  # fmt: skip


def _metric_direction(model: Any, name: str) -> str | None:
    """'up' or 'down' for a logged metric: from the metric object when it says, else from its name."""
    base = name.removeprefix("val_")
    if base == "loss" or base.endswith("_loss"):
        return "down"
    for metric in getattr(model, "metrics", []) if model is not None else []:
        if metric.name == base and getattr(metric, "direction", None) in ("up", "down"):
            return metric.direction
    if any(word in base for word in _INCREASING_WORDS):
        return "up"
    if any(
        word in base
        for word in ("error", "crossentropy", "hinge", "divergence", "poisson", "huber", "logcosh")
    ):
        return "down"
    return None


class MonitorCallback(Callback):
    """Base of the callbacks that watch one logged quantity (`monitor`) for improvement.

    `mode='auto'` minimizes losses and errors and maximizes accuracies, AUC, precision, recall and
    F-scores; other names need `mode='min'` or `'max'`.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", baseline: float | None = None,
                 min_delta: float = 0.0) -> None:  # fmt: skip
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{type(self).__name__} mode {mode!r} is unknown, fallback to auto mode.",
                stacklevel=3,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.baseline = baseline
        self.best: float | None = baseline
        self.min_delta = abs(float(min_delta))
        self._sign: float | None = None  # +1 when larger is better, -1 when smaller is

    def _set_direction(self) -> None:
        if self.mode == "max":
            self._sign = 1.0
        elif self.mode == "min":
            self._sign = -1.0
        else:
            direction = _metric_direction(self.model, self.monitor)
            if direction is None:
                raise ValueError(
                    f"{type(self).__name__} received monitor={self.monitor!r}, but cannot tell whether "
                    "that metric should be maximized or minimized. Pass mode='max' or mode='min'."
                )
            self._sign = 1.0 if direction == "up" else -1.0

    def _is_improvement(self, value: float, reference: float | None) -> bool:
        if reference is None:
            return True
        if self._sign > 0:
            return value - self.min_delta > reference
        return value + self.min_delta < reference

    def _monitored(self, logs: dict | None, what: str) -> float | None:
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"{what} is conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs)}",
                stacklevel=3,
            )
        return value
