"""`ProgbarLogger`: the progress display of `fit`, `evaluate` and `predict` (tqdm), and the
formatting of logs."""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from neuralnet.callbacks.callback import CALLBACKS, Callback


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
        self._samples_before = 0  # of a resumed epoch, trained before the interruption
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
        samples = self._samples - self._samples_before
        return f"{samples / elapsed:,.0f} samples/s" if elapsed > 0 and samples else ""

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
        self._epoch_start = time.perf_counter()  # an epoch resumed in its middle has no begin

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_start = time.perf_counter()
        if self.verbose == 1:
            epochs = self.params.get("epochs", 1)
            self._open_bar(self.params.get("steps"), f"Epoch {epoch + 1}/{epochs}")

    def on_train_batch_end(self, batch, logs=None):
        if self.verbose == 1:
            if self._bar is None:
                self._open_resumed_bar(batch)
            self._advance(logs)

    def _open_resumed_bar(self, batch: int) -> None:
        """The bar of an epoch that `fit` resumed in its middle (`BackupAndRestore`), where no
        `on_epoch_begin` came: it starts at the batches trained before the interruption."""
        state = getattr(getattr(self.model, "trainer", None), "fit_state", None)
        epochs = self.params.get("epochs", 1)
        epoch = f"Epoch {state.epoch + 1}/{epochs}" if state is not None else "Epoch"
        self._open_bar(self.params.get("steps"), epoch)
        self._bar.update(batch)
        self._steps_done = batch
        self._samples = self._samples_before = self._samples_after(batch)

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
