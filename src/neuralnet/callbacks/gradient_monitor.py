"""`GradientMonitor`: each layer's gradient norm and output size per epoch, to see vanishing
gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralnet.callbacks.callback import CALLBACKS, Callback


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

    def get_state(self) -> dict[str, Any]:
        return {
            "gradient_norms": self.gradient_norms,
            "activation_rms": self.activation_rms,
            "epochs": self.epochs,
            "sums": getattr(self, "_sums", None),
            "count": getattr(self, "_count", 0),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.gradient_norms = {
            name: list(values) for name, values in state["gradient_norms"].items()
        }
        self.activation_rms = {
            name: list(values) for name, values in state["activation_rms"].items()
        }
        self.epochs = [int(epoch) for epoch in state["epochs"]]
        if state["sums"] is not None:
            self._sums = {name: list(sums) for name, sums in state["sums"].items()}
        self._count = int(state["count"])

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
