"""`CallbackList`: calls every callback's hook in order, and adds `History` and `ProgbarLogger`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from neuralnet.callbacks.callback import Callback
from neuralnet.callbacks.history import History
from neuralnet.callbacks.progbar import ProgbarLogger

_BATCH_HOOKS = (
    "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)  # fmt: skip


# The Keras 2 names of the training-batch hooks, which Keras 3 still calls on every training batch.
_KERAS_2_NAMES = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


class CallbackList:
    """Calls every callback's hook in order; adds `History` and `ProgbarLogger` like Keras.

    Batch hooks are only dispatched to callbacks that override them, so a fit with no batch-level
    callback pays nothing per batch. Callbacks with `runs_last` (`BackupAndRestore`) are called
    after all the others.
    """

    def __init__(
        self,
        callbacks: Iterable[Callback] | None = None,
        add_history: bool = False,
        add_progbar: bool = False,
        model: Any = None,
        **params: Any,
    ) -> None:
        self.callbacks: list[Callback] = []
        for callback in callbacks or []:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"callbacks must be instances of neuralnet.callbacks.Callback, received {callback!r}."
                )
            self.callbacks.append(callback)
        self.history: History | None = None
        if add_history:
            existing = [c for c in self.callbacks if isinstance(c, History)]
            self.history = existing[0] if existing else History()
            if not existing:
                self.callbacks.append(self.history)
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        self.callbacks.sort(key=lambda callback: callback.runs_last)  # stable: keeps the order
        self.model = model
        self.params = params
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params(params)
        self._batch_callbacks = {
            hook: [c for c in self.callbacks if _listens(c, hook)] for hook in _BATCH_HOOKS
        }

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)
        self.callbacks.sort(key=lambda c: c.runs_last)
        callback.set_model(self.model)
        callback.set_params(self.params)
        for hook, listeners in self._batch_callbacks.items():
            if _listens(callback, hook):
                listeners.append(callback)
                listeners.sort(key=lambda c: c.runs_last)

    def wants(self, hook: str) -> bool:
        """Whether any callback listens to the batch hook `hook` (overrides it, or for training
        batches its Keras 2 name), so that the hook must be called with its logs."""
        return bool(self._batch_callbacks.get(hook))

    def _call(self, hook: str, *args: Any) -> None:
        # Keras always passes a dict of logs (possibly empty), never None.
        *head, logs = args
        logs = logs if logs is not None else {}
        for callback in self.callbacks:
            getattr(callback, hook)(*head, logs)

    def _call_batch(self, hook: str, batch: int, logs: dict | None) -> None:
        logs = logs if logs is not None else {}
        for callback in self._batch_callbacks[hook]:
            getattr(callback, hook)(batch, logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call_batch("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call_batch("on_train_batch_end", batch, logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call_batch("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call_batch("on_test_batch_end", batch, logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call_batch("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call_batch("on_predict_batch_end", batch, logs)


def _listens(callback: Callback, hook: str) -> bool:
    """Whether calling `hook` on `callback` does anything: it overrides the hook, or (for the
    training-batch hooks) the Keras 2 name that the base class's hook calls."""
    alias = _KERAS_2_NAMES.get(hook)
    return _overrides(callback, hook) or (alias is not None and _overrides(callback, alias))


def _overrides(callback: Callback, hook: str) -> bool:
    if hook in vars(callback):  # LambdaCallback sets hooks on the instance
        return True
    return getattr(type(callback), hook, None) is not getattr(Callback, hook)
