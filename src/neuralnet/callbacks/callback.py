"""Callbacks: code that runs at fixed points of `fit`, `evaluate` and `predict`, with Keras's hooks.

`fit` itself never prints or records anything: `History` records the epoch logs and `ProgbarLogger`
draws the progress bar (tqdm), both added by `CallbackList` as in Keras. A callback stops training by
setting `self.model.stop_training = True`.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

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
    """

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


_BATCH_HOOKS = (
    "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)  # fmt: skip


# The Keras 2 names of the training-batch hooks, which Keras 3 still calls on every training batch.
_KERAS_2_NAMES = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


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
            hook: [c for c in self.callbacks if _listens(c, hook)] for hook in _BATCH_HOOKS
        }

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)
        callback.set_model(self.model)
        callback.set_params(self.params)
        for hook, listeners in self._batch_callbacks.items():
            if _listens(callback, hook):
                listeners.append(callback)

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
        from IPython import get_ipython

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
        if isinstance(value, np.ndarray):
            parts.append(
                f"{key}: [{', '.join(f'{v:.4f}' for v in value.ravel()[:8])}{', ...' if value.size > 8 else ''}]"
            )
        elif isinstance(value, float):
            parts.append(
                f"{key}: {value:.4g}"
                if abs(value) >= 1e4 or (value and abs(value) < 1e-3)
                else f"{key}: {value:.4f}"
            )
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
        from tqdm.auto import tqdm

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
        self._steps_done = 0
        self._start = time.perf_counter()

    def _samples_after(self, steps: int) -> int:
        """Samples processed after `steps` batches of this bar: full batches, the last one of a
        pass over the data shorter when the data does not divide evenly."""
        batch_size = int(self.params.get("batch_size") or 0)
        samples = int(self.params.get("samples") or 0)
        if not batch_size or not samples:
            return 0
        per_pass = -(-samples // batch_size)  # batches in one pass
        passes, rest = divmod(steps, per_pass)
        return passes * samples + min(rest * batch_size, samples)

    def _rate(self) -> str:
        elapsed = time.perf_counter() - self._start
        return f"{self._samples / elapsed:,.0f} samples/s" if elapsed > 0 and self._samples else ""

    def _postfix(self, logs: dict | None) -> str:
        shown = {k: v for k, v in (logs or {}).items() if k != "outputs"}
        return " - ".join(part for part in (format_logs(shown), self._rate()) if part)

    def _close_bar(self, logs: dict | None) -> None:
        if self._bar is None:
            return
        self._bar.set_postfix_str(self._postfix(logs), refresh=False)
        self._bar.close()
        self._bar = None

    def _advance(self, logs: dict | None) -> None:
        bar = self._bar
        if bar is None:
            return
        bar.update(1)
        self._steps_done += 1
        self._samples = self._samples_after(self._steps_done)
        now = time.perf_counter()
        if now - self._last_refresh >= self.refresh_interval:
            self._last_refresh = now
            bar.set_postfix_str(self._postfix(logs), refresh=False)

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
            print(
                f"Epoch {epoch + 1}/{epochs} - {timing} - {format_logs(logs)}",
                file=sys.stdout,
                flush=True,
            )

    # -- evaluate and predict (only when called directly, not for fit's validation) -------------

    def on_test_begin(self, logs=None):
        if self.verbose == 1 and self.params.get("mode") == "evaluate":
            self._open_bar(self.params.get("steps"), "Evaluate")

    def on_test_batch_end(self, batch, logs=None):
        if self.params.get("mode") == "evaluate":  # not fit's validation: its epoch bar is open
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


# --------------------------------------------------------------------------------------------------
# Callbacks that watch a metric


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


def _require_constant_rate(optimizer: Any, who: str) -> None:
    if getattr(optimizer, "schedule", None) is not None:
        raise TypeError(
            f"{who} sets the learning rate, but the optimizer follows the schedule "
            f"{optimizer.schedule!r}: the two would fight. Give the optimizer a constant learning rate, "
            f"or drop {who}."
        )


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

    def on_epoch_end(self, epoch, logs=None):
        if self._sign is None:
            self._set_direction()
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        _require_constant_rate(optimizer, "ReduceLROnPlateau")
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


@CALLBACKS.register("LearningRateScheduler")
class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch to `schedule(epoch, lr)` (or `schedule(epoch)`)."""

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        _require_constant_rate(optimizer, "LearningRateScheduler")
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


@CALLBACKS.register("TerminateOnNaN")
class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training", file=sys.stdout)
            self.model.stop_training = True


@CALLBACKS.register("CSVLogger")
class CSVLogger(Callback):
    """Write the logs of each epoch as a row of a CSV file: `epoch`, then the logged values sorted
    by name, as Keras does. When the first epoch has no validation values, `val_` columns are added
    for every value anyway and written as `NA`, so that runs appended to one file share its header.

    Args:
        filename: The CSV file.
        separator: The field separator.
        append: Append to an existing file (resuming training) instead of overwriting it.
    """

    def __init__(
        self, filename: str | os.PathLike, separator: str = ",", append: bool = False
    ) -> None:
        super().__init__()
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = bool(append)
        self._file: Any = None
        self._keys: list[str] | None = None
        self._header_needed = True

    def on_train_begin(self, logs=None):
        exists = os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._header_needed = not (self.append and exists)
        self._keys = None
        if self.append and exists:
            with open(self.filename, encoding="utf-8") as existing:
                first = existing.readline().strip()
            if first:
                self._keys = first.split(self.separator)[1:]
        self._file = open(self.filename, "a" if self.append else "w", encoding="utf-8", newline="")  # noqa: SIM115

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            if self._keys and not any(key.startswith("val_") for key in self._keys):
                self._keys += [f"val_{key}" for key in self._keys]
        writer = csv.writer(self._file, delimiter=self.separator, lineterminator="\n")
        if self._header_needed:
            writer.writerow(["epoch", *self._keys])
            self._header_needed = False
        writer.writerow([epoch, *(_csv_value(logs.get(key, "NA")) for key in self._keys)])
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


def _csv_value(value: Any) -> Any:
    return repr(float(value)) if isinstance(value, (float, np.floating)) else value


@CALLBACKS.register("LambdaCallback")
class LambdaCallback(Callback):
    """A callback from functions: `LambdaCallback(on_epoch_end=lambda epoch, logs: ...)`.

    Accepts any hook name as a keyword (`on_train_begin`, `on_train_batch_end`, ...).
    """

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        super().__init__()
        for name, function in hooks.items():
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise TypeError(
                    f"LambdaCallback: {name!r} is not a callback hook (e.g. on_epoch_end)."
                )
            setattr(self, name, function)


def _listens(callback: Callback, hook: str) -> bool:
    """Whether calling `hook` on `callback` does anything: it overrides the hook, or (for the
    training-batch hooks) the Keras 2 name that the base class's hook calls."""
    alias = _KERAS_2_NAMES.get(hook)
    return _overrides(callback, hook) or (alias is not None and _overrides(callback, alias))


def _overrides(callback: Callback, hook: str) -> bool:
    if hook in vars(callback):  # LambdaCallback sets hooks on the instance
        return True
    return getattr(type(callback), hook, None) is not getattr(Callback, hook)


@CALLBACKS.register("GradientMonitor")
class GradientMonitor(Callback):
    """Record, per epoch, each layer's gradient norm and activation size, to see vanishing gradients.

    After every training batch it takes, for each layer with a `kernel`, the L2 norm of dJ/dkernel
    and the root-mean-square of the layer's output; at the end of the epoch it stores their means
    over the batches. With sigmoid hidden layers the first layers' gradients come out orders of
    magnitude smaller than the last ones' (σ' ≤ 1/4 per layer); with ReLU they do not.

    Attributes:
        gradient_norms: `{layer_name: [mean ‖dJ/dkernel‖ of each epoch]}`, layers in model order.
        activation_rms: `{layer_name: [mean RMS of the layer's output of each epoch]}`.
        epochs: The epoch indices recorded.
    """

    def __init__(self, every: int = 1) -> None:
        super().__init__()
        self.every = max(1, int(every))
        self.gradient_norms: dict[str, list[float]] = {}
        self.activation_rms: dict[str, list[float]] = {}
        self.epochs: list[int] = []

    def _layers(self) -> list[Any]:
        return [layer for layer in self.model.layers if "kernel" in getattr(layer, "grads", {})]

    def on_epoch_begin(self, epoch, logs=None):
        self._sums = {layer.name: [0.0, 0.0] for layer in self._layers()}
        self._count = 0

    def on_train_batch_end(self, batch, logs=None):
        if batch % self.every:
            return
        outputs = self.model.layer_outputs()
        for layer in self._layers():
            sums = self._sums[layer.name]
            sums[0] += float(np.linalg.norm(layer.grads["kernel"]))
            output = outputs.get(layer.name)
            if output is not None:
                sums[1] += float(np.sqrt(np.mean(np.square(output, dtype=np.float64))))
        self._count += 1

    def on_epoch_end(self, epoch, logs=None):
        if not self._count:
            return
        self.epochs.append(epoch)
        for name, (grad_sum, act_sum) in self._sums.items():
            self.gradient_norms.setdefault(name, []).append(grad_sum / self._count)
            self.activation_rms.setdefault(name, []).append(act_sum / self._count)


def get(identifier: Any) -> Callback:
    """A callback from an instance or a registered name (`'History'`)."""
    if isinstance(identifier, Callback):
        return identifier
    if isinstance(identifier, str):
        return CALLBACKS.lookup(identifier)()
    raise TypeError(f"Cannot interpret {identifier!r} as a callback.")
