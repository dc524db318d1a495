"""`LambdaCallback`: a callback made of plain functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from neuralnet.callbacks.callback import CALLBACKS, Callback


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
