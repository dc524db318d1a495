"""`History`: the logs of every epoch, returned by `fit`."""

from __future__ import annotations

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
