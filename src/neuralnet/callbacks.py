"""Callbacks: code that runs at fixed points of `fit`, `evaluate` and `predict`, with Keras's hooks.

`fit` itself never prints or records anything: `History` records the epoch logs and `ProgbarLogger`
draws the progress bar (tqdm), both added by `CallbackList` as in Keras. A callback stops training by
setting `self.model.stop_training = True`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import Any

from neuralnet._registry import Registry

CALLBACKS = Registry("callback")


class Callback:
    """Base class: override the hooks you need. `self.model` and `self.params` are set by `fit`."""

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
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


_BATCH_HOOKS = (
    "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
    "on_predict_batch_begin", "on_predict_batch_end", "on_batch_begin", "on_batch_end",
)  # fmt: skip


def _overrides(callback: Callback, hook: str) -> bool:
    return getattr(type(callback), hook, None) is not getattr(Callback, hook)


class CallbackList:
    """Calls every callback's hook in order; adds `History` and `ProgbarLogger` like Keras.

    Batch hooks are only dispatched to callbacks that override them, so a fit with no batch-level
    callback pays nothing per batch.
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
        self.model = model
        self.params = params
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params(params)
        self._batch_callbacks = {
            hook: [c for c in self.callbacks if _overrides(c, hook)] for hook in _BATCH_HOOKS
        }

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)
        callback.set_model(self.model)
        callback.set_params(self.params)
        for hook, listeners in self._batch_callbacks.items():
            if _overrides(callback, hook):
                listeners.append(callback)

    def wants(self, hook: str) -> bool:
        """Whether any callback overrides the batch hook `hook` (so its logs must be built)."""
        return bool(self._batch_callbacks.get(hook))

    def _call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    def _call_batch(self, hook: str, batch: int, logs: dict | None) -> None:
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
        self._call_batch("on_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call_batch("on_train_batch_end", batch, logs)
        self._call_batch("on_batch_end", batch, logs)

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


def resolve_verbose(verbose: Any) -> int:
    """`'auto'` is 1 on a terminal or in a notebook and 2 when output goes to a file or a CI log."""
    if verbose == "auto":
        return 1 if _interactive_output() else 2
    if verbose in (0, 1, 2) and not isinstance(verbose, bool):
        return int(verbose)
    if isinstance(verbose, bool):
        return int(verbose)
    raise ValueError(f"`verbose` must be 0, 1, 2 or 'auto', received verbose={verbose!r}.")


def _interactive_output() -> bool:
    try:
        from IPython import get_ipython  # noqa: PLC0415 (only present in notebooks)

        shell = get_ipython()
        if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
            return True
    except ImportError:
        pass
    stream = sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def format_logs(logs: dict[str, Any]) -> str:
    """`loss: 0.1234 - accuracy: 0.9500` in Keras's style."""
    parts = []
    for key, value in logs.items():
        if isinstance(value, float):
            parts.append(f"{key}: {value:.4g}" if abs(value) >= 1e4 or (value and abs(value) < 1e-3) else f"{key}: {value:.4f}")
        else:
            parts.append(f"{key}: {value}")
    return " - ".join(parts)


@CALLBACKS.register("ProgbarLogger")
class ProgbarLogger(Callback):
    """Shows progress: a live tqdm bar per epoch at `verbose=1` (a widget in Jupyter), one line per
    epoch at `verbose=2`. Added by `fit`, `evaluate` and `predict` unless `verbose=0`.

    The bar shows the step count, ETA, samples per second and the running loss and metrics, then the
    validation metrics when the epoch ends.
    """

    #: Seconds between refreshes of the running metrics on the bar.
    refresh_interval = 0.1

    def __init__(self) -> None:
        super().__init__()
        self._bar: Any = None
        self._mode = "train"

    @property
    def verbose(self) -> int:
        return int(self.params.get("verbose", 1))

    def _open_bar(self, total: int | None, description: str) -> None:
        from tqdm.auto import tqdm  # noqa: PLC0415 (tqdm.auto probes for Jupyter on import)

        self._bar = tqdm(
            total=total,
            desc=description,
            unit="step",
            file=sys.stdout,
            dynamic_ncols=True,
            leave=True,
            mininterval=self.refresh_interval,
        )
        self._last_refresh = 0.0
        self._samples = 0
        self._start = time.perf_counter()

    def _close_bar(self, logs: dict | None) -> None:
        if self._bar is None:
            return
        if logs:
            self._bar.set_postfix_str(format_logs(logs), refresh=False)
        self._bar.close()
        self._bar = None

    def _advance(self, logs: dict | None) -> None:
        bar = self._bar
        if bar is None:
            return
        bar.update(1)
        size = (logs or {}).get("size")
        if size:
            self._samples += size
        now = time.perf_counter()
        if logs and now - self._last_refresh >= self.refresh_interval:
            self._last_refresh = now
            shown = {k: v for k, v in logs.items() if k != "size"}
            elapsed = now - self._start
            rate = f"{self._samples / elapsed:,.0f} samples/s" if elapsed > 0 and self._samples else ""
            text = format_logs(shown)
            bar.set_postfix_str(f"{text} - {rate}" if rate else text, refresh=False)

    # -- training -------------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._mode = "train"

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_start = time.perf_counter()
        if self.verbose == 1:
            epochs = self.params.get("epochs", 1)
            self._open_bar(self.params.get("steps"), f"Epoch {epoch + 1}/{epochs}")

    def on_train_batch_end(self, batch, logs=None):
        if self.verbose == 1:
            self._advance(logs)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.verbose == 1:
            self._close_bar(logs)
        elif self.verbose == 2:
            seconds = time.perf_counter() - self._epoch_start
            steps = self.params.get("steps") or 1
            epochs = self.params.get("epochs", 1)
            timing = f"{seconds:.0f}s - {seconds / steps * 1000:.0f}ms/step"
            print(f"Epoch {epoch + 1}/{epochs} - {timing} - {format_logs(logs)}", file=sys.stdout, flush=True)

    # -- evaluate and predict (only when called directly, not for fit's validation) -------------

    def on_test_begin(self, logs=None):
        if self.verbose == 1 and self.params.get("mode") == "evaluate":
            self._open_bar(self.params.get("steps"), "Evaluate")

    def on_test_batch_end(self, batch, logs=None):
        self._advance(logs)

    def on_test_end(self, logs=None):
        if self.params.get("mode") != "evaluate":
            return
        if self.verbose == 1:
            self._close_bar(logs)
        elif self.verbose == 2:
            print(f"Evaluate - {format_logs(logs or {})}", file=sys.stdout, flush=True)

    def on_predict_begin(self, logs=None):
        if self.verbose == 1:
            self._open_bar(self.params.get("steps"), "Predict")

    def on_predict_batch_end(self, batch, logs=None):
        self._advance(logs)

    def on_predict_end(self, logs=None):
        if self.verbose == 1:
            self._close_bar(None)


def get(identifier: Any) -> Callback:
    """A callback from an instance or a registered name (`'History'`)."""
    if isinstance(identifier, Callback):
        return identifier
    if isinstance(identifier, str):
        return CALLBACKS.lookup(identifier)()
    raise TypeError(f"Cannot interpret {identifier!r} as a callback.")
