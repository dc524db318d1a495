"""What `compile` sets up: the loss of each output (with weights) and the metrics of each output.

Both are resolved lazily, on the first batch, because Keras resolves `'accuracy'` and
`'crossentropy'` from the shapes of the targets and outputs: binary when the output has one unit,
sparse categorical when the targets have one axis fewer (or a last axis of 1 against several
outputs), categorical otherwise.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from neuralnet import losses as losses_module
from neuralnet import metrics as metrics_module
from neuralnet.layers.graph import is_library_code


def _is_binary(y_pred_shape: tuple) -> bool:
    return bool(y_pred_shape) and y_pred_shape[-1] == 1


def _is_sparse(y_true_shape: tuple, y_pred_shape: tuple) -> bool:
    return len(y_true_shape) < len(y_pred_shape) or (
        bool(y_true_shape) and y_true_shape[-1] == 1 and (y_pred_shape[-1] or 0) > 1
    )


def resolve_loss(identifier: Any, y_true_shape: tuple, y_pred_shape: tuple) -> losses_module.Loss:
    """`'crossentropy'`/`'ce'` become binary, sparse or categorical cross-entropy from the shapes."""
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
        if _is_binary(y_pred_shape):
            return losses_module.BinaryCrossentropy()
        if _is_sparse(y_true_shape, y_pred_shape):
            return losses_module.SparseCategoricalCrossentropy()
        return losses_module.CategoricalCrossentropy()
    return losses_module.get(identifier)


def resolve_metric(
    identifier: Any, y_true_shape: tuple, y_pred_shape: tuple
) -> metrics_module.Metric:
    """A metric object; `'accuracy'`/`'acc'` is resolved from the shapes (its name stays as written)."""
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        if _is_binary(y_pred_shape):
            return metrics_module.BinaryAccuracy(name=identifier)
        if _is_sparse(y_true_shape, y_pred_shape):
            return metrics_module.SparseCategoricalAccuracy(name=identifier)
        return metrics_module.CategoricalAccuracy(name=identifier)
    metric = metrics_module.get(identifier)
    if isinstance(identifier, str):
        metric.name = identifier  # Keras names a metric given as a string by that string
    return metric


def by_output_name(value: dict, output_names: list[str], what: str, where: str) -> list[Any]:
    """The entries of a dict keyed by output name, in the order of the outputs (None for an output
    it leaves out); a ValueError naming any key that is not an output."""
    unknown = sorted(set(value) - set(output_names))
    if unknown:
        raise ValueError(
            f"{where}: `{what}` names outputs {unknown} that the model does not have; its outputs "
            f"are {output_names}."
        )
    return [value.get(name) for name in output_names]


def _per_output(value: Any, output_names: list[str], what: str) -> list[Any]:
    """Spread a compile argument over the outputs: one value for all, a list, or a dict by name."""
    n = len(output_names)
    if isinstance(value, dict):
        return by_output_name(value, output_names, what, "compile")
    if isinstance(value, (list, tuple)) and n == 1 and len(value) == 1:
        return [value[0]]  # Keras accepts a one-element list for a model with one output
    if isinstance(value, (list, tuple)) and n > 1:
        if len(value) != n:
            raise ValueError(
                f"compile: `{what}` has {len(value)} entries, but the model has {n} outputs {output_names}."
            )
        return list(value)
    return [value] * n


def _flat_identifiers(value: Any) -> list[Any]:
    """Every metric or loss named in a compile argument (a list, a list of lists, or a dict)."""
    if value is None:
        return []
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, (list, tuple)):
        return [value]
    found = []
    for item in value:
        found += _flat_identifiers(item) if isinstance(item, (list, tuple, dict)) else [item]
    return [item for item in found if item is not None]


class CompiledLoss:
    """The model's cost: Σ_k loss_weight_k · loss_k(y_k, ŷ_k) over the outputs that have a loss."""

    def __init__(self, loss: Any, loss_weights: Any, output_names: list[str]) -> None:
        self.output_names = output_names
        if loss is None:
            raise ValueError(
                "No loss to compute. Provide a `loss` argument in `compile()`: the model was "
                "compiled without one (it can predict, not train), e.g. "
                "model.compile(optimizer='adam', loss='mse')."
            )
        self._identifiers = _per_output(loss, output_names, "loss")
        if all(identifier is None for identifier in self._identifiers):
            raise ValueError(
                f"compile: `loss` gives no output of the model a loss (its outputs are "
                f"{output_names}); received loss={loss!r}."
            )
        weights = _per_output(
            1.0 if loss_weights is None else loss_weights, output_names, "loss_weights"
        )
        self.weights = [1.0 if w is None else float(w) for w in weights]
        self.check_identifiers(self._identifiers)
        self.losses: list[losses_module.Loss | None] = []
        self._may_fuse: list[bool] = []
        self.built = False

    @staticmethod
    def check_identifiers(loss: Any) -> None:
        """Look every loss name up now, so that a typo fails at compile, not at the first batch."""
        for identifier in _flat_identifiers(loss):
            if identifier is not None and not (
                isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce")
            ):
                losses_module.get(identifier)

    def build(self, y_shapes: list[tuple], output_shapes: list[tuple]) -> None:
        self.losses = [
            None if identifier is None else resolve_loss(identifier, t, p)
            for identifier, t, p in zip(self._identifiers, y_shapes, output_shapes)
        ]
        # A loss whose own forward or backward a user rewrote is never replaced by a shortcut.
        self._may_fuse = [
            loss is not None
            and is_library_code(loss, "forward", "backward", "forward_backward",
                                "fused_value_and_gradient")
            for loss in self.losses
        ]  # fmt: skip
        self.built = True

    @property
    def multi_output(self) -> bool:
        return len(self.output_names) > 1

    def value(
        self, ys: list[np.ndarray], outputs: list[np.ndarray], sample_weights: list[Any]
    ) -> tuple[float, list[float]]:
        """The weighted total and the loss of each output."""
        per_output = []
        total = 0.0
        for loss, weight, y, out, sw in zip(self.losses, self.weights, ys, outputs, sample_weights):
            if loss is None:
                per_output.append(0.0)
                continue
            value = loss.forward(y, out, sw)
            per_output.append(value)
            total += weight * value
        return total, per_output

    def value_and_gradients(
        self,
        ys: list[np.ndarray],
        outputs: list[np.ndarray],
        sample_weights: list[Any],
        fusable: list[Any],
    ) -> tuple[float, list[float], list[np.ndarray | None], list[bool]]:
        """The cost, each output's loss, and dJ/d(output) for each output. Where `fusable[k]` is
        the output layer's activation and the loss has a closed form through it (softmax +
        cross-entropy: p − y), the gradient is with respect to the pre-activation and `fused[k]`
        is True."""
        per_output, grads, fused = [], [], []
        total = 0.0
        for loss, weight, y, out, sw, activation, may_fuse in zip(
            self.losses, self.weights, ys, outputs, sample_weights, fusable, self._may_fuse
        ):
            if loss is None:
                per_output.append(0.0)
                grads.append(None)
                fused.append(False)
                continue
            fused_result = (
                None
                if activation is None or not may_fuse
                else loss.fused_value_and_gradient(activation, y, out, sw)
            )
            if fused_result is not None:
                value, grad = fused_result
                fused.append(True)
            else:
                value, grad = loss.forward_backward(y, out, sw)
                fused.append(False)
            if weight != 1.0:
                grad = grad * weight
            per_output.append(value)
            grads.append(grad)
            total += weight * value
        return total, per_output, grads, fused


class CompiledMetrics:
    """The metrics of each output; results named `metric` (one output) or `output_metric`."""

    def __init__(self, metrics: Any, weighted_metrics: Any, output_names: list[str]) -> None:
        self.output_names = output_names
        self._plain = self._spread(metrics, "metrics")
        self._weighted = self._spread(weighted_metrics, "weighted_metrics")
        self.metrics: list[tuple[int, metrics_module.Metric, bool]] = []
        self.built = False

    @staticmethod
    def check_identifiers(metrics: Any, weighted_metrics: Any) -> None:
        """Look every metric name up now, so that a typo fails at compile."""
        for value in (metrics, weighted_metrics):
            for identifier in _flat_identifiers(value):
                if not (isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc")):
                    metrics_module.get(identifier)

    def _spread(self, value: Any, what: str) -> list[list[Any]]:
        n = len(self.output_names)
        if value is None:
            return [[] for _ in range(n)]
        if isinstance(value, dict):
            spread = _per_output(value, self.output_names, what)
            return [
                [] if v is None else (list(v) if isinstance(v, (list, tuple)) else [v])
                for v in spread
            ]
        if not isinstance(value, (list, tuple)):
            raise TypeError(
                f"compile: `{what}` must be a list (e.g. ['accuracy']) or a dict by output name, "
                f"received {value!r}."
            )
        if n == 1:
            if len(value) == 1 and isinstance(value[0], (list, tuple)):
                value = value[0]  # [['mae']] for a model with one output
            return [list(value)]
        # Several outputs: one entry per output (a metric, a list of metrics, or None), as Keras 3.
        if len(value) != n:
            raise ValueError(
                f"compile: a model with {n} outputs ({', '.join(self.output_names)}) needs `{what}` "
                f"with one entry per output (a metric, a list of metrics or None) or a dict by "
                f"output name; received a list of {len(value)}: {list(value)!r}."
            )
        return [
            [] if v is None else (list(v) if isinstance(v, (list, tuple)) else [v]) for v in value
        ]

    def build(self, y_shapes: list[tuple], output_shapes: list[tuple]) -> None:
        self.metrics = []
        multi = len(self.output_names) > 1
        names: set[str] = set()
        for k, (plain, weighted) in enumerate(zip(self._plain, self._weighted)):
            for identifiers, is_weighted in ((plain, False), (weighted, True)):
                for identifier in identifiers:
                    metric = resolve_metric(identifier, y_shapes[k], output_shapes[k])
                    name = metric.name
                    if is_weighted and any(m.name == name for i, m, _ in self.metrics if i == k):
                        name = "weighted_" + name
                    if multi:
                        name = f"{self.output_names[k]}_{name}"
                    base, count = name, 0
                    while name in names:  # Keras names a second metric of the same name `name_1`
                        count += 1
                        name = f"{base}_{count}"
                    names.add(name)
                    if name != metric.name or any(m is metric for _, m, _ in self.metrics):
                        # A metric object of the user's is renamed or used twice: use a copy, so
                        # the user's object keeps its name and each output has its own state.
                        if metric is identifier:
                            metric = copy.deepcopy(metric)
                            metric.reset_state()
                        metric.name = name
                    self.metrics.append((k, metric, is_weighted))
        self.built = True

    def update(
        self, ys: list[np.ndarray], outputs: list[np.ndarray], sample_weights: list[Any]
    ) -> None:
        for k, metric, weighted in self.metrics:
            metric.update_state(ys[k], outputs[k], sample_weights[k] if weighted else None)

    def reset(self) -> None:
        for _, metric, _ in self.metrics:
            metric.reset_state()

    def results(self) -> dict[str, float]:
        return {metric.name: metric.result() for _, metric, _ in self.metrics}

    @property
    def names(self) -> list[str]:
        return [metric.name for _, metric, _ in self.metrics]
