"""`TerminateOnNaN`: stop at the first batch whose loss is not finite."""

from __future__ import annotations

import math
import sys

from neuralnet.callbacks.callback import CALLBACKS, Callback


@CALLBACKS.register("TerminateOnNaN")
class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training", file=sys.stdout)
            self.model.stop_training = True
