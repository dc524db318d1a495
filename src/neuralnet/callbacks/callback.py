"""The base class of callbacks: code that `fit`, `evaluate` and `predict` run at fixed points, with
Keras's hook names, and the registry of the library's callbacks.

A callback stops training by setting `self.model.stop_training = True`. A callback that keeps
something from batch to batch or epoch to epoch says what in `get_state`, so that
`BackupAndRestore` can resume an interrupted `fit` exactly.
"""

from __future__ import annotations

from typing import Any

from neuralnet._registry import Registry

CALLBACKS = Registry("callback")


class Callback:
    """Base class: override the hooks you need.

    `self.model` is the model being trained or evaluated. `self.params` holds `verbose`, `epochs`
    (in `fit`), `steps` (batches per epoch, or of the whole `evaluate`/`predict` run), `mode`
    (`'fit'`, `'evaluate'` or `'predict'`), `batch_size` and `samples` (the number of samples of
    one pass over the data). `on_batch_begin` and `on_batch_end` are the Keras 2 names of the
    training-batch hooks: as in Keras 3, the base class's `on_train_batch_begin` and
    `on_train_batch_end` call them, on every training batch.

    A callback that keeps something from one batch or epoch to the next (a counter, a best value,
    rows written) returns it from `get_state` and takes it back in `set_state`, so that
    `BackupAndRestore` can resume an interrupted `fit` exactly where it stopped. When a `fit`
    resumes in the middle of an epoch, `on_epoch_begin` is not called again for that epoch: what
    a callback sets up there and needs later belongs in its state.
    """

    #: Called after every other callback at each hook (`History` and `ProgbarLogger` included),
    #: so that it sees their state once they have all run: `BackupAndRestore` sets it.
    runs_last: bool = False

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def get_state(self) -> dict[str, Any] | None:
        """What this callback must keep for an interrupted `fit` to resume exactly, or `None` (the
        default) when it keeps nothing across batches and epochs.

        Returns:
            A dict of JSON values (`None`, bools, numbers, strings, lists, dicts with string keys)
            and NumPy arrays or scalars, at any depth. Tuples come back as lists.
        """
        return None

    def set_state(self, state: dict[str, Any]) -> None:
        """Take back what `get_state` returned: called once after `on_train_begin` when `fit`
        resumes from a backup, before training continues."""
        raise NotImplementedError(
            f"{type(self).__name__} returns a state from get_state() but does not define "
            "set_state() to restore it."
        )

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.on_batch_begin(batch, logs)  # the Keras 2 name, as Keras 3's base class does

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.on_batch_end(batch, logs)

    def on_test_begin(self, logs: dict | None = None) -> None: ...
    def on_test_end(self, logs: dict | None = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_begin(self, logs: dict | None = None) -> None: ...
    def on_predict_end(self, logs: dict | None = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None: ...

    # Keras 2 names, still called by Keras 3.
    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_batch_end(self, batch: int, logs: dict | None = None) -> None: ...


def get(identifier: Any) -> Callback:
    """A callback from an instance or a registered name (`'History'`)."""
    if isinstance(identifier, Callback):
        return identifier
    if isinstance(identifier, str):
        return CALLBACKS.lookup(identifier)()
    raise TypeError(f"Cannot interpret {identifier!r} as a callback.")
