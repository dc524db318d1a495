"""What a training step updates and regularizes, made once per version of the model's graph.

The plan lists the trained parameters (each array once, however often its layer is called), their
gradient arrays (the layers' own, written in place by `backward`), their paths (`dense_1/kernel`, the
keys of the optimizer's state) and the regularized ones. It is the one cached fact of training that
depends on the graph, and it follows the one invalidation rule of `neuralnet.layers.node.graph_version`:
when any graph is made or changed (`Sequential.add`, `pop`, a model traced) or any layer is frozen or
unfrozen, the next step makes a new plan. A frozen layer's parameters are neither updated nor
regularized (Keras 3 sums the penalties of trainable weights only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from neuralnet.layers.graph import leaf_layers
from neuralnet.layers.node import graph_version

if TYPE_CHECKING:
    from neuralnet.layers.layer import Layer
    from neuralnet.models.model import Model
    from neuralnet.optimizers import Optimizer
    from neuralnet.regularizers import Regularizer


class TrainingPlan:
    """The trained parameters of `model` as it is now, flattened: paths, arrays and gradients."""

    def __init__(self, model: Model) -> None:
        self.version = graph_version()
        self.paths: list[str] = []
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self.owners: list[tuple[Layer, str]] = []
        self.verified = False
        # Only what the training graph runs is trained: a layer the model holds but does not call
        # in training gets no gradient, so it is neither updated nor decayed (as in Keras).
        reached = {
            id(leaf)
            for step in model.call_graph(training=True).graph.steps
            for leaf in leaf_layers(step.layer)
        }
        for entry in model.weight_entries():
            layer, key = entry.owner, entry.key
            if (
                not entry.trainable
                or id(layer) not in reached
                or layer.params.get(key) is not entry.array
            ):
                continue
            self.paths.append(entry.path)
            self.params.append(entry.array)
            self.grads.append(layer.grads[key])
            self.owners.append((layer, key))

    @staticmethod
    def current(model: Model, plan: TrainingPlan | None) -> TrainingPlan:
        """`plan` while the graphs are as they were when it was made, else a new one."""
        if plan is None or plan.version != graph_version():
            return TrainingPlan(model)
        return plan

    def _regularized(self) -> list[tuple[Regularizer, np.ndarray, np.ndarray]]:
        """(regularizer, parameter, gradient) of the trained parameters that have a penalty, read
        from the layers at each step, so that a regularizer set after the plan was made counts."""
        found = []
        for (layer, key), param, grad in zip(self.owners, self.params, self.grads):
            regularizer = layer.regularizers.get(key) if layer.regularizers else None
            if regularizer is not None:
                found.append((regularizer, param, grad))
        return found

    def regularization_penalty(self) -> float:
        """Σ of the penalties of the trained parameters (`model.losses`, summed)."""
        return float(sum(regularizer(param) for regularizer, param, _ in self._regularized()))

    def add_regularization_gradients(self) -> None:
        """Add each penalty's gradient to its parameter's gradient, in place."""
        for regularizer, param, grad in self._regularized():
            regularizer.add_gradient(param, grad)

    def bind(self, optimizer: Optimizer) -> None:
        """Give `optimizer` these parameters. A layer frozen or unfrozen since the last plan: the
        optimizer keeps the state of the parameters it already had (by path) and starts the new
        ones from zero."""
        if not optimizer.is_built_for(self.params):  # one identity check per step
            optimizer.build(self.params, self.paths)

    def verify(self) -> None:
        """After the first backward pass: every layer still owns the arrays the optimizer updates."""
        for (layer, key), grad, param in zip(self.owners, self.grads, self.params):
            if layer.grads.get(key) is not grad or layer.params.get(key) is not param:
                which = "grads" if layer.params.get(key) is param else "params"
                raise RuntimeError(
                    f"Layer {layer.name!r} replaced its array {which}[{key!r}] instead of writing "
                    f"into it, so the optimizer would never see the new values. In backward(), write "
                    f"gradients in place: self.grads[{key!r}][...] = ..., or "
                    f"np.matmul(..., out=self.grads[{key!r}])."
                )
        self.verified = True
