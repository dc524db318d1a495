"""`History`: the logs of every epoch, returned by `fit`."""

from __future__ import annotations

from typing import Any

from neuralnet.callbacks.callback import CALLBACKS, Callback


@CALLBACKS.register("History")
class History(Callback):
    """Records the logs of every epoch: `history.history['loss']`, `history.epoch`."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self

    def get_state(self) -> dict[str, Any]:
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()}}

    def set_state(self, state: dict[str, Any]) -> None:
        self.epoch = [int(epoch) for epoch in state["epoch"]]
        self.history = {key: list(values) for key, values in state["history"].items()}
        if self.model is not None and self.epoch:
            self.model.history = self
