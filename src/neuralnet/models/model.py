"""`Model`: compile, fit, evaluate, predict, and the training step that ties layers, loss and optimizer.

The training step is the lecture's loop, written out:

    outputs = forward(x)                      # every layer's forward, in topological order
    J, dJ/dŷ = loss(y, outputs)               # (softmax + cross-entropy: dJ/dz = (p − y)/N, fused)
    backward(dJ/dŷ)                           # every layer's backward, in reverse order
    add the regularizers' gradients           # J includes λ Σ‖W‖²
    optimizer.apply(gradients)                # in place

Everything else (batches, validation, callbacks, progress) is arranged around that step. The graph
itself (which layer feeds which) lives in `Functional`; `Sequential` is a functional model whose
graph is a chain.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from typing import Any, Self

import numpy as np

from neuralnet import backend
from neuralnet import callbacks as callbacks_module
from neuralnet import data as data_module
from neuralnet import optimizers as optimizers_module
from neuralnet._validation import check_non_negative_int, check_positive_int
from neuralnet.layers.layer import Layer, shape_str
from neuralnet.metrics import Mean
from neuralnet.models.compile_utils import CompiledLoss, CompiledMetrics


class DivergenceWarning(UserWarning):
    """Training produced a NaN or infinite loss."""


class Model(Layer):
    """A network of layers that can be trained: Keras's `Model`.

    `Model(inputs, outputs)` builds a functional model from symbolic tensors (see `Functional`);
    `Sequential([...])` builds a chain. Both share this training API.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from neuralnet.models.functional import Functional

            return super().__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *, name: str | None = None, trainable: bool = True, **kwargs: Any) -> None:
        super().__init__(name=name, trainable=trainable, **kwargs)
        self.compiled = False
        self.optimizer: optimizers_module.Optimizer | None = None
        self.stop_training = False
        self.history: callbacks_module.History | None = None
        self._compiled_loss: CompiledLoss | None = None
        self._compiled_metrics: CompiledMetrics | None = None
        self._loss_tracker = Mean(name="loss")
        self._output_loss_trackers: list[tuple[int, Mean]] = []
        self._training_plan: _TrainingPlan | None = None
        self._first_non_finite: tuple[int, int] | None = None
        self._step_position = (0, 0)

    # -- what a graph provides (Functional implements these) -------------------------------------

    @property
    def layers(self) -> list[Layer]:
        """The model's layers, in order."""
        return []

    @property
    def input_names(self) -> list[str]:
        return []

    @property
    def output_names(self) -> list[str]:
        return []

    def run_forward(self, inputs: list[np.ndarray], training: bool) -> list[np.ndarray]:
        """Every layer's forward pass; the model's outputs as a list."""
        raise NotImplementedError(
            f"{type(self).__name__} has no graph: neuralnet has no automatic differentiation, so "
            "models are built with Sequential or the functional API (Model(inputs, outputs)). "
            "For custom computations, write a Layer with forward() and backward()."
        )

    def run_backward(
        self, output_grads: list[np.ndarray | None], fused: list[bool] | None = None
    ) -> list[np.ndarray | None]:
        """Every layer's backward pass, in reverse order; dJ/d(input) for each model input."""
        raise NotImplementedError

    def format_outputs(self, outputs: list[Any]) -> Any:
        """The outputs as the user expects them: one array, or a list."""
        return outputs[0] if len(outputs) == 1 else list(outputs)

    def fusable_activations(self) -> list[Any]:
        """For each output, the activation whose gradient the loss may fuse (or None)."""
        return [None] * len(self.output_names)

    # -- weights (from the layers) ---------------------------------------------------------------

    def _unique_layers(self) -> list[Layer]:
        return self.layers

    def _leaf_layers(self) -> list[Layer]:
        """Every layer (not model) of this model and of the models inside it, each once, in order."""
        found: dict[int, Layer] = {}
        for layer in self._unique_layers():
            leaves = layer._leaf_layers() if isinstance(layer, Model) else [layer]
            for leaf in leaves:
                found.setdefault(id(leaf), leaf)
        return list(found.values())

    def _named_weights(self) -> list[tuple[str, np.ndarray, bool]]:
        """(path, array, trainable) for every weight, Keras's order, each array once even when a layer
        is used in several places."""
        entries: list[tuple[str, np.ndarray, bool]] = []
        seen: set[int] = set()

        def visit(model: Model, prefix: str, frozen: bool) -> None:
            for layer in model._unique_layers():
                if isinstance(layer, Model):
                    visit(layer, f"{prefix}{layer.name}/", frozen or not layer.trainable)
                    continue
                if id(layer) in seen:
                    continue
                seen.add(id(layer))
                trainable = not frozen and layer.trainable
                for key, array in layer.params.items():
                    entries.append((f"{prefix}{layer.name}/{key}", array, trainable))
                for key, array in layer.state.items():
                    entries.append((f"{prefix}{layer.name}/{key}", array, False))

        visit(self, "", not self.trainable)
        return entries

    @property
    def weights(self) -> list[np.ndarray]:
        """Every weight array: each layer's parameters then state, layers in Keras's order."""
        return [array for _, array, _ in self._named_weights()]

    @property
    def weight_names(self) -> list[str]:
        return [f"{self.name}/{path}" for path, _, _ in self._named_weights()]

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        return [array for _, array, trainable in self._named_weights() if trainable]

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        return [array for _, array, trainable in self._named_weights() if not trainable]

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        # As in Keras, freezing a model freezes every layer in it.
        self._trainable = bool(value)
        for layer in self._unique_layers():
            layer.trainable = value
        Layer._bump_trainable_version()

    def set_weights(self, weights: list[Any]) -> None:
        """Set every weight array, in the order of `get_weights()` (Keras's order)."""
        weights = [np.asarray(w) for w in weights]
        named = self._named_weights()
        if len(weights) != len(named):
            raise ValueError(
                f"Model {self.name!r} has {len(named)} weight arrays, but set_weights received {len(weights)}."
            )
        for (path, target, _), value in zip(named, weights):
            if target.shape != value.shape:
                raise ValueError(
                    f"Weight {path!r} has shape {target.shape}, but set_weights received an array of "
                    f"shape {value.shape}."
                )
        for (_, target, _), value in zip(named, weights):
            np.copyto(target, value, casting="unsafe")

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"Model {self.name!r} is not built yet, so it has no parameters to count. Give the "
                "first layer an input shape (input_shape=... or an Input), or call build()."
            )
        return sum(int(array.size) for _, array, _ in self._named_weights())

    def regularization_penalty(self) -> float:
        return float(sum(layer.regularization_penalty() for layer in _regularized_layers(self)))

    def add_regularization_gradients(self) -> None:
        for layer in _regularized_layers(self):
            layer.add_regularization_gradients()

    @property
    def losses(self) -> list[float]:
        """The regularization penalties of every layer (Keras's `model.losses`)."""
        return [loss for layer in self._leaf_layers() for loss in layer.losses]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index in `layers`."""
        if (name is None) == (index is None):
            raise ValueError("get_layer: give exactly one of `name` and `index`.")
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"get_layer: index {index} is out of range for model {self.name!r} with {len(layers)} layers."
                )
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No layer named {name!r} in model {self.name!r}. Its layers are: "
            f"{', '.join(layer.name for layer in layers)}."
        )

    # -- compile ---------------------------------------------------------------------------------

    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        loss_weights: Any = None,
        metrics: Any = None,
        weighted_metrics: Any = None,
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
        jit_compile: Any = "auto",
        auto_scale_loss: bool = True,
    ) -> None:
        """Set the optimizer, the loss and the metrics for training, as Keras's `compile`.

        Args:
            optimizer: Name (`'adam'`, `'sgd'`, `'rmsprop'`, ...) or `Optimizer` instance.
            loss: Name, `Loss` instance, or a list/dict with one per output.
            loss_weights: One weight per output for the total cost.
            metrics: List of names/objects (`['accuracy']`), or per output as a list of lists or dict.
            weighted_metrics: Metrics that use `sample_weight` (plain `metrics` ignore it, as Keras 3).

        `run_eagerly`, `steps_per_execution`, `jit_compile` and `auto_scale_loss` are accepted for
        compatibility and have no effect: every step runs eagerly in NumPy.
        """
        self.optimizer = optimizers_module.get(optimizer)
        self._compile_args = {"loss": loss, "loss_weights": loss_weights, "metrics": metrics,
                              "weighted_metrics": weighted_metrics}  # fmt: skip
        self._compiled_loss = None
        self._compiled_metrics = None
        if self.built or self.output_names:
            self._make_compiled()
        self.compiled = True
        self._training_plan = None

    def _make_compiled(self) -> None:
        args = self._compile_args
        names = self.output_names
        self._compiled_loss = CompiledLoss(args["loss"], args["loss_weights"], names)
        self._compiled_metrics = CompiledMetrics(args["metrics"], args["weighted_metrics"], names)
        # One tracker per output that has a loss (Keras logs no `name_loss` for the others).
        self._output_loss_trackers = (
            [
                (k, Mean(name=f"{name}_loss"))
                for k, (name, identifier) in enumerate(zip(names, self._compiled_loss._identifiers))
                if identifier is not None
            ]
            if len(names) > 1
            else []
        )

    def _require_compiled(self, method: str) -> None:
        if type(self).run_forward is Model.run_forward:
            self.run_forward([], training=False)  # raises: a model without a graph cannot train
        if not self.compiled:
            raise RuntimeError(
                f"Model {self.name!r} must be compiled before {method}(); call "
                "model.compile(optimizer=..., loss=...)."
            )

    @property
    def metrics(self) -> list[Any]:
        """The loss tracker, then each compiled metric (built on the first batch)."""
        tracked: list[Any] = [
            self._loss_tracker,
            *(tracker for _, tracker in self._output_loss_trackers),
        ]
        if self._compiled_metrics is not None:
            tracked += [metric for _, metric, _ in self._compiled_metrics.metrics]
        return tracked

    @property
    def metrics_names(self) -> list[str]:
        return [metric.name for metric in self.metrics]

    def reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    # -- data at the boundary --------------------------------------------------------------------

    def _standardize_inputs(self, x: Any, where: str) -> list[np.ndarray]:
        """x as a list of arrays in the order of the model's inputs, in the model's float type."""
        if x is None:
            raise ValueError(f"{where}: `x` is required.")
        if isinstance(x, dict):
            if not self.built:
                raise ValueError(
                    f"{where}: inputs given as a dict need a built model with named inputs."
                )
            arrays = self._inputs_from_dict(x, where)
        else:
            arrays = data_module.to_list(x)
        if self.built and self.input_names and len(arrays) != len(self.input_names):
            raise ValueError(
                f"{where}: model {self.name!r} expects {len(self.input_names)} input"
                f"{'s' if len(self.input_names) > 1 else ''} ({', '.join(self.input_names)}), "
                f"received {len(arrays)}."
            )
        dtype = backend.floatx()
        return [data_module.as_float_array(a, dtype, where, "x") for a in arrays]

    def _inputs_from_dict(self, x: dict[str, Any], where: str) -> list[Any]:
        """The entries of a dict of inputs, in the order of the model's inputs."""
        missing = [name for name in self.input_names if name not in x]
        if missing:
            raise ValueError(
                f"{where}: the dict of inputs has no entry for {missing}; the model's inputs are "
                f"{self.input_names}."
            )
        return [x[name] for name in self.input_names]

    def _standardize_targets(self, y: Any, where: str) -> list[np.ndarray]:
        """y as a list of arrays, one per output (dicts by output name)."""
        names = self.output_names
        if isinstance(y, dict):
            missing = [name for name in names if name not in y]
            if missing:
                raise ValueError(
                    f"{where}: the dict of targets has no entry for {missing}; the model's outputs are {names}."
                )
            arrays = [y[name] for name in names]
        elif len(names) > 1:
            arrays = data_module.to_list(y)
        else:
            arrays = [_unwrap_single(y)]
        if len(arrays) != len(names):
            raise ValueError(
                f"{where}: model {self.name!r} has {len(names)} outputs ({', '.join(names)}), but "
                f"received {len(arrays)} target arrays."
            )
        result = []
        for array in arrays:
            array = np.asarray(array)
            if array.dtype.kind not in "biuf":
                raise ValueError(
                    f"{where}: targets must hold numbers, received dtype {array.dtype}."
                )
            if array.dtype.kind == "f" and array.dtype != backend.floatx():
                array = array.astype(backend.floatx())
            result.append(array)
        return result

    def _standardize_sample_weights(
        self, sample_weight: Any, n_outputs: int, where: str
    ) -> list[Any]:
        if sample_weight is None:
            return [None] * n_outputs
        if isinstance(sample_weight, dict):
            unknown = sorted(set(sample_weight) - set(self.output_names))
            if unknown:
                raise ValueError(
                    f"{where}: `sample_weight` names outputs {unknown} that the model does not have; "
                    f"its outputs are {self.output_names}."
                )
            weights = [sample_weight.get(name) for name in self.output_names]
        elif (
            isinstance(sample_weight, (list, tuple))
            and n_outputs > 1
            and not all(w is not None and np.ndim(w) == 0 for w in sample_weight)
        ):
            # one array (or None) per output; a list of numbers is one array for all outputs
            weights = list(sample_weight)
            if len(weights) != n_outputs:
                raise ValueError(
                    f"{where}: `sample_weight` is a list of {len(weights)} arrays, but the model has "
                    f"{n_outputs} outputs ({', '.join(self.output_names)}): give one array per output, "
                    "one array for all of them, or a dict by output name."
                )
        else:
            weights = [_unwrap_single(sample_weight)] * n_outputs
        result = []
        for w in weights:
            if w is None:
                result.append(None)
                continue
            w = np.asarray(w, dtype=np.float64)
            if w.ndim == 0 or np.any(w < 0) or not np.all(np.isfinite(w)):
                raise ValueError(
                    f"{where}: `sample_weight` must be an array of finite, non-negative weights, "
                    "one per sample."
                )
            result.append(w.astype(backend.floatx()))
        return result

    def _ensure_built_for(self, xs: list[np.ndarray]) -> None:
        """Build a model whose input shape was unknown from the first data it sees."""
        if not self.built:
            self.build(xs[0].shape if len(xs) == 1 else [a.shape for a in xs])

    def _check_inputs(self, xs: list[np.ndarray], where: str, check_values: bool) -> None:
        for array, name, shape, consumer in zip(
            xs, self.input_names, self._input_shapes(), self._input_consumers()
        ):
            if array.ndim != len(shape) or any(
                e is not None and s != e for s, e in zip(array.shape[1:], shape[1:])
            ):
                owner = (
                    f", as its first layer {type(consumer).__name__} {consumer.name!r} was built for"
                    if consumer
                    else ""
                )
                raise ValueError(
                    f"{where}: model {self.name!r} expects input {name!r} of shape {shape_str(shape)}"
                    f"{owner}; received an array of shape {shape_str(array.shape)}."
                )
            if check_values:
                data_module.check_finite(where, "x" if len(xs) == 1 else f"x[{name!r}]", array)

    def _input_shapes(self) -> list[tuple]:
        return []

    def _input_consumers(self) -> list[Layer | None]:
        return []

    def _prepare_targets(self, ys: list[np.ndarray], where: str) -> None:
        """Check the targets against the losses (shapes, labels, finite values) once per call."""
        assert self._compiled_loss is not None
        for k, (y, out_shape, loss) in enumerate(
            zip(ys, self._output_shapes(), self._compiled_loss.losses)
        ):
            label = "y" if len(ys) == 1 else f"y[{self.output_names[k]!r}]"
            data_module.check_finite(where, label, y)
            if loss is not None:
                loss.check_targets(y, out_shape, where)

    def _output_shapes(self) -> list[tuple]:
        return []

    def _build_compiled(self, ys: list[np.ndarray]) -> None:
        if self._compiled_loss is None:
            self._make_compiled()
        assert self._compiled_loss is not None and self._compiled_metrics is not None
        y_shapes = [y.shape for y in ys]
        output_shapes = self._output_shapes()
        if not self._compiled_loss.built:
            self._compiled_loss.build(y_shapes, output_shapes)
        if not self._compiled_metrics.built:
            self._compiled_metrics.build(y_shapes, output_shapes)

    # -- the training step -----------------------------------------------------------------------

    def _training_plan_for_step(self) -> _TrainingPlan:
        plan = self._training_plan
        if plan is None or plan.trainable_version != Layer._trainable_version:
            plan = self._training_plan = _TrainingPlan(self)
        return plan

    def compute_gradients(
        self,
        x: list[np.ndarray],
        y: list[np.ndarray],
        sample_weight: list[Any] | None = None,
        training: bool = True,
    ) -> tuple[float, list[float], list[np.ndarray]]:
        """Forward and backward on one batch without updating anything.

        Returns the cost (loss plus regularization), each output's loss, and the outputs; the
        gradients are left in each layer's `grads`.
        """
        sample_weight = sample_weight or [None] * len(y)
        if self._compiled_loss is None or not self._compiled_loss.built:
            self._build_compiled(y)
        outputs = self.run_forward(x, training=training)
        fusable = self.fusable_activations()
        loss, per_output, grads, fused = self._compiled_loss.value_and_gradients(
            y, outputs, sample_weight, fusable
        )
        loss += self.regularization_penalty() + self._activity_penalty()
        self.run_backward(grads, fused)
        self.add_regularization_gradients()
        return loss, per_output, outputs

    def _activity_penalty(self) -> float:
        return 0.0

    def train_step(
        self, x: list[np.ndarray], y: list[np.ndarray], sample_weight: list[Any]
    ) -> None:
        """One gradient-descent step on one batch; updates the loss tracker and the metrics."""
        plan = self._training_plan_for_step()
        loss, per_output, outputs = self.compute_gradients(x, y, sample_weight)
        if not plan.verified:
            plan.verify()
        self.optimizer.apply(plan.grads)
        self._update_trackers(loss, per_output, y, outputs, sample_weight)

    def test_step(self, x: list[np.ndarray], y: list[np.ndarray], sample_weight: list[Any]) -> None:
        """The loss and metrics of one batch, in inference mode."""
        outputs = self.run_forward(x, training=False)
        loss, per_output = self._compiled_loss.value(y, outputs, sample_weight)
        loss += self.regularization_penalty() + self._activity_penalty()
        self._update_trackers(loss, per_output, y, outputs, sample_weight)

    def _update_trackers(self, loss, per_output, y, outputs, sample_weight) -> None:
        if not math.isfinite(loss) and self._first_non_finite is None:
            self._first_non_finite = self._step_position
        batch_size = len(y[0])
        # The epoch loss is a running mean weighted by batch size, as Keras's loss tracker.
        self._loss_tracker.update_mean(loss, batch_size)
        for k, tracker in self._output_loss_trackers:
            tracker.update_mean(per_output[k], batch_size)
        self._compiled_metrics.update(y, outputs, sample_weight)

    def _logs(self) -> dict[str, float]:
        logs = {metric.name: _log_value(metric.result()) for metric in self.metrics}
        return dict(sorted(logs.items()))

    # -- fit -------------------------------------------------------------------------------------

    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: list[callbacks_module.Callback] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        class_weight: dict[int, float] | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int = 1,
    ) -> callbacks_module.History:
        """Train for `epochs` passes over the data in mini-batches; returns the `History`.

        Args:
            x: Inputs: an array, a list of arrays (several inputs) or a dict by input name.
            y: Targets: an array, or a list/dict with one per output.
            batch_size: Samples per gradient step (default 32).
            epochs: Index of the last epoch (training runs from `initial_epoch` to `epochs`).
            verbose: 0 silent, 1 progress bar, 2 one line per epoch, 'auto' (1 on a terminal or in
                a notebook, 2 otherwise).
            callbacks: `Callback` instances.
            validation_split: Fraction of the data, taken from the end before shuffling, held out
                for validation.
            validation_data: `(x_val, y_val)` or `(x_val, y_val, sample_weight_val)`.
            shuffle: Shuffle the training samples before each epoch.
            class_weight: `{class_index: weight}`, applied as sample weights.
            sample_weight: One weight per sample (or per output, a list/dict of such arrays).
            initial_epoch: Epoch to start from (to resume training).
            steps_per_epoch: Batches per epoch; the data is cycled when it is larger than one pass.
            validation_steps: Batches of validation data to use.
            validation_batch_size: Batch size for validation (default `batch_size`).
            validation_freq: Validate every this many epochs.
        """
        self._require_compiled("fit")
        where = "fit"
        batch_size = _batch_size(batch_size, where)
        epochs = check_non_negative_int(epochs, "epochs", where)
        initial_epoch = check_non_negative_int(initial_epoch, "initial_epoch", where)
        validation_freq = check_positive_int(validation_freq, "validation_freq", where)
        if steps_per_epoch is not None:
            steps_per_epoch = check_positive_int(steps_per_epoch, "steps_per_epoch", where)
        if y is None:
            raise ValueError(
                "fit: `y` (the targets) is required; neuralnet does not take datasets of (x, y) pairs yet."
            )
        if sample_weight is not None and class_weight is not None:
            raise ValueError("fit: give `sample_weight` or `class_weight`, not both.")

        xs, ys, sws = self._prepare_data(x, y, sample_weight, where)
        n_in, n_out = len(xs), len(ys)

        val_arrays = None
        if validation_data is not None:
            val_arrays = self._unpack_validation_data(validation_data)
        elif validation_split:
            train, held_out = data_module.train_validation_split(xs + ys + sws, validation_split)
            xs, ys, sws = train[:n_in], train[n_in : n_in + n_out], train[n_in + n_out :]
            val_x, val_y, val_sw = (
                held_out[:n_in],
                held_out[n_in : n_in + n_out],
                held_out[n_in + n_out :],
            )
            val_arrays = (val_x, val_y, val_sw)
        if class_weight is not None:
            # Class weights apply to the training samples only, as in Keras (after the split).
            sws = self._class_sample_weights(ys, class_weight, where)

        n = data_module.num_samples(xs)
        if n == 0:
            raise ValueError("fit: received no training samples.")
        steps = steps_per_epoch or data_module.num_batches(n, batch_size)
        verbose = callbacks_module.resolve_verbose(verbose)
        callback_list = callbacks_module.CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self,
            verbose=verbose, epochs=epochs, steps=steps, mode="fit",
        )  # fmt: skip
        rng = backend.make_rng()
        self.stop_training = False
        self._first_non_finite = None
        self._training_plan = None
        self._training_plan_for_step()

        batches = _epoch_batches(n, batch_size, shuffle, rng, steps_per_epoch)
        callback_list.on_train_begin()
        # A diverging run overflows; that is reported once, below, not as NumPy warnings per batch.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            logs = self._fit_epochs(xs, ys, sws, val_arrays, batches, steps, initial_epoch, epochs,
                                    batch_size, validation_batch_size, validation_steps, validation_freq,
                                    callback_list)  # fmt: skip
        if self._first_non_finite is not None:
            epoch, step = self._first_non_finite
            warnings.warn(
                f"fit: the loss became NaN or infinite at epoch {epoch + 1}, batch {step + 1}: training "
                "diverged. Lower the learning rate, scale the inputs, or add "
                "callbacks.TerminateOnNaN() to stop at once.",
                DivergenceWarning,
                stacklevel=2,
            )
        callback_list.on_train_end(logs)
        return callback_list.history

    def _fit_epochs(self, xs, ys, sws, val_arrays, batches, steps, initial_epoch, epochs, batch_size,
                    validation_batch_size, validation_steps, validation_freq, callback_list) -> dict:  # fmt: skip
        wants_batch_logs = callback_list.wants("on_train_batch_end")
        # Shuffled batches of the inputs are gathered into one reused buffer per input: a large
        # batch is then not a fresh allocation (and fresh pages) at every step.
        gather_x = [data_module.BatchGatherer(batch_size) for _ in xs]
        logs: dict[str, float] = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            for step in range(steps):
                index = next(batches)
                callback_list.on_train_batch_begin(step)
                bx = [gather(a, index) for gather, a in zip(gather_x, xs)]
                by = [data_module.take(a, index) for a in ys]
                bw = [data_module.take(a, index) for a in sws]
                self._step_position = (epoch, step)
                self.train_step(bx, by, bw)
                self._last_batch_size = len(by[0])
                if wants_batch_logs:
                    callback_list.on_train_batch_end(step, self._logs())
                if self.stop_training:
                    break
            logs = self._logs()
            if val_arrays is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_arrays(
                    *val_arrays, batch_size=validation_batch_size or batch_size,
                    steps=validation_steps, callback_list=callback_list,
                )  # fmt: skip
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
                logs = dict(sorted(logs.items()))
            callback_list.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        return logs

    def _prepare_data(
        self, x: Any, y: Any, sample_weight: Any, where: str
    ) -> tuple[list[np.ndarray], list[np.ndarray], list[Any]]:
        """Inputs, targets and sample weights as lists (one per input or output), checked once:
        lengths, shapes against the model, finite values, targets against the losses."""
        xs = self._standardize_inputs(x, where)
        self._ensure_built_for(xs)
        ys = self._standardize_targets(y, where)
        sws = self._standardize_sample_weights(sample_weight, len(ys), where)
        data_module.check_same_length(where, x=xs, y=ys, sample_weight=_present(sws))
        self._check_inputs(xs, where, check_values=True)
        self._build_compiled(ys)
        self._prepare_targets(ys, where)
        return xs, ys, sws

    def _class_sample_weights(
        self, ys: list[np.ndarray], class_weight: dict, where: str
    ) -> list[np.ndarray]:
        return [
            data_module.class_weights_to_sample_weights(
                y_k, class_weight, self._output_shapes()[k][-1], where
            ).astype(backend.floatx())
            for k, y_k in enumerate(ys)
        ]

    def _unpack_validation_data(self, validation_data: Any) -> tuple[list, list, list]:
        where = "fit (validation_data)"
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                f"{where}: expected a tuple (x_val, y_val) or (x_val, y_val, sample_weight_val), "
                f"received {type(validation_data).__name__}"
                + (
                    f" of length {len(validation_data)}"
                    if isinstance(validation_data, (tuple, list))
                    else ""
                )
                + "."
            )
        vx, vy = validation_data[0], validation_data[1]
        vsw = validation_data[2] if len(validation_data) == 3 else None
        return self._prepare_data(vx, vy, vsw, where)

    # -- evaluate --------------------------------------------------------------------------------

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: Any = "auto",
        sample_weight: Any = None,
        steps: int | None = None,
        callbacks: list[callbacks_module.Callback] | None = None,
        return_dict: bool = False,
    ) -> Any:
        """The loss (with regularization) and metrics on `(x, y)`, in inference mode.

        Returns a float when there are no metrics, else `[loss, *metrics]` in `metrics_names`
        order; a dict by name with `return_dict=True`.
        """
        self._require_compiled("evaluate")
        where = "evaluate"
        batch_size = _batch_size(batch_size, where)
        if y is None:
            raise ValueError("evaluate: `y` (the targets) is required.")
        xs, ys, sws = self._prepare_data(x, y, sample_weight, where)
        callback_list = self._inference_callbacks(
            callbacks, verbose, xs, batch_size, steps, "evaluate"
        )
        logs = self._evaluate_arrays(
            xs, ys, sws, batch_size=batch_size, steps=steps, callback_list=callback_list
        )
        if return_dict:
            return logs
        return self._flatten_logs(logs)

    def _inference_callbacks(
        self,
        callbacks: Any,
        verbose: Any,
        xs: list[np.ndarray],
        batch_size: int,
        steps: int | None,
        mode: str,
    ) -> callbacks_module.CallbackList:
        """The callbacks of `evaluate` or `predict`, with a progress bar unless `verbose=0`."""
        verbose = callbacks_module.resolve_verbose(verbose)
        total_steps = steps or data_module.num_batches(data_module.num_samples(xs), batch_size)
        return callbacks_module.CallbackList(
            callbacks,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            steps=total_steps,
            mode=mode,
        )

    def _evaluate_arrays(self, xs, ys, sws, batch_size, steps, callback_list) -> dict[str, float]:
        self.reset_metrics()
        if callback_list is not None:
            callback_list.on_test_begin()
        wants = callback_list is not None and callback_list.wants("on_test_batch_end")
        n = data_module.num_samples(xs)
        for step, index in enumerate(data_module.batch_slices(n, batch_size, False, None)):
            if steps is not None and step >= steps:
                break
            if callback_list is not None:
                callback_list.on_test_batch_begin(step)
            by = [data_module.take(a, index) for a in ys]
            self.test_step(
                [data_module.take(a, index) for a in xs],
                by,
                [data_module.take(a, index) for a in sws],
            )
            self._last_batch_size = len(by[0])
            if wants:
                callback_list.on_test_batch_end(step, self._logs())
        logs = self._logs()
        if callback_list is not None:
            callback_list.on_test_end(logs)
        return logs

    def _flatten_logs(self, logs: dict[str, float]) -> Any:
        # Keras's order: the loss, then the metrics in compile order.
        values = [logs[name] for name in self.metrics_names if name in logs]
        return values[0] if len(values) == 1 else values

    # -- predict ---------------------------------------------------------------------------------

    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: Any = "auto",
        steps: int | None = None,
        callbacks: list[callbacks_module.Callback] | None = None,
    ) -> Any:
        """The model's outputs for `x`, computed in batches in inference mode.

        Returns an array (one output) or a list of arrays.
        """
        where = "predict"
        batch_size = _batch_size(batch_size, where)
        xs = self._standardize_inputs(x, where)
        self._ensure_built_for(xs)
        data_module.check_same_length(where, x=xs)
        self._check_inputs(xs, where, check_values=False)
        n = data_module.num_samples(xs)
        callback_list = self._inference_callbacks(
            callbacks, verbose, xs, batch_size, steps, "predict"
        )
        callback_list.on_predict_begin()
        wants_batch_logs = callback_list.wants("on_predict_batch_end")
        results: list[np.ndarray] | None = None
        start = 0
        for step, index in enumerate(data_module.batch_slices(n, batch_size, False, None)):
            if steps is not None and step >= steps:
                break
            callback_list.on_predict_batch_begin(step)
            outputs = self.run_forward([data_module.take(a, index) for a in xs], training=False)
            if results is None:
                results = [np.empty((n,) + out.shape[1:], dtype=out.dtype) for out in outputs]
            stop = start + len(outputs[0])
            for result, out in zip(results, outputs):
                result[start:stop] = out
            start = stop
            self._last_batch_size = len(outputs[0])
            if wants_batch_logs:
                callback_list.on_predict_batch_end(step, {"outputs": self.format_outputs(outputs)})
        callback_list.on_predict_end()
        if results is None:
            results = [
                np.empty((0,) + tuple(d or 0 for d in s[1:]), dtype=backend.floatx())
                for s in self._output_shapes()
            ]
        results = [r[:start] for r in results]
        return self.format_outputs(results)

    # -- one batch -------------------------------------------------------------------------------

    def train_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        class_weight: dict[int, float] | None = None,
        return_dict: bool = False,
    ) -> Any:
        """One gradient step on one batch. Returns the loss and metrics of that batch (computed in
        its forward pass, before the update), as Keras 3: a float, a list, or a dict."""
        self._require_compiled("train_on_batch")
        where = "train_on_batch"
        if sample_weight is not None and class_weight is not None:
            raise ValueError(f"{where}: give `sample_weight` or `class_weight`, not both.")
        xs, ys, sws = self._prepare_data(x, y, sample_weight, where)
        if class_weight is not None:
            sws = self._class_sample_weights(ys, class_weight, where)
        self.reset_metrics()
        self.train_step(xs, ys, sws)
        logs = self._logs()
        return logs if return_dict else self._flatten_logs(logs)

    def test_on_batch(
        self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False
    ) -> Any:
        """The loss and metrics of one batch, in inference mode."""
        self._require_compiled("test_on_batch")
        where = "test_on_batch"
        xs, ys, sws = self._prepare_data(x, y, sample_weight, where)
        self.reset_metrics()
        self.test_step(xs, ys, sws)
        logs = self._logs()
        return logs if return_dict else self._flatten_logs(logs)

    def predict_on_batch(self, x: Any) -> Any:
        """The outputs for one batch, in inference mode."""
        xs = self._standardize_inputs(x, "predict_on_batch")
        self._ensure_built_for(xs)
        self._check_inputs(xs, "predict_on_batch", check_values=False)
        outputs = [np.array(out, copy=True) for out in self.run_forward(xs, training=False)]
        return self.format_outputs(outputs)

    # -- as a layer ------------------------------------------------------------------------------

    def forward(self, x, *, training=False):
        inputs = list(x) if self.multi_input else [x]
        outputs = self.run_forward(inputs, training=training)
        return outputs[0] if len(outputs) == 1 else outputs

    def backward(self, grad_y):
        grads = list(grad_y) if isinstance(grad_y, (list, tuple)) else [grad_y]
        input_grads = self.run_backward(grads)
        if self._skip_input_gradient:
            return None
        return input_grads if self.multi_input else input_grads[0]

    # -- inspection ------------------------------------------------------------------------------

    def summary(
        self,
        line_length: int | None = None,
        positions: Any = None,
        print_fn: Any = None,
        expand_nested: bool = False,
        show_trainable: bool = False,
        layer_range: Any = None,
    ) -> None:
        """Print the layers, their output shapes and parameter counts (and, for functional
        models, what each layer is connected to), with the trainable and non-trainable totals."""
        from neuralnet.models.summary import print_summary

        print_summary(self, line_length=line_length, print_fn=print_fn, expand_nested=expand_nested,
                      show_trainable=show_trainable)  # fmt: skip


def _batch_size(batch_size: int | None, where: str) -> int:
    """Keras's default of 32, or a checked positive integer."""
    return 32 if batch_size is None else check_positive_int(batch_size, "batch_size", where)


def _present(arrays: list[Any]) -> list[np.ndarray]:
    """The entries that are not None."""
    return [a for a in arrays if a is not None]


def _unwrap_single(value: Any) -> Any:
    """A one-element list holding an array stands for that array (Keras accepts `[y]` for a model
    with one output)."""
    if isinstance(value, (list, tuple)) and len(value) == 1 and np.ndim(value[0]) >= 1:
        return value[0]
    return value


def _log_value(result: Any) -> Any:
    """A metric result for the logs: a float, or an array for metrics with several values
    (F1Score(average=None), Precision at several thresholds), as Keras logs them."""
    array = np.asarray(result)
    return float(array) if array.size == 1 else array.astype(np.float64)


def _regularized_layers(model: Model) -> list[Layer]:
    """The layers (inside nested models too) that have weight regularizers, found once and kept
    until the model's graph changes."""
    cached = model.__dict__.get("_regularized_cache")
    if cached is not None and cached[0] is getattr(model, "_plan", None):
        return cached[1]
    found = [layer for layer in model._leaf_layers() if layer.regularizers]
    model._regularized_cache = (getattr(model, "_plan", None), found)
    return found


class _TrainingPlan:
    """The trainable parameters of a model, flattened once per fit: paths, arrays and gradients."""

    def __init__(self, model: Model) -> None:
        self.trainable_version = Layer._trainable_version
        self.paths: list[str] = []
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self.owners: list[tuple[Layer, str]] = []
        self.verified = False
        for path, layer, key in _trainable_entries(model):
            self.paths.append(path)
            self.params.append(layer.params[key])
            self.grads.append(layer.grads[key])
            self.owners.append((layer, key))
        optimizer = model.optimizer
        if optimizer is not None:
            built_for = [id(v) for v in optimizer._variables]
            if not optimizer.built or built_for != [id(p) for p in self.params]:
                # A layer was frozen or unfrozen: the optimizer keeps the state of the parameters
                # it already had (keyed by path) and starts fresh ones from zero.
                optimizer.build(self.params, self.paths)

    def verify(self) -> None:
        """After the first backward pass: every layer still owns the arrays the optimizer updates."""
        _verify_plan(self)


def _verify_plan(plan: _TrainingPlan) -> None:
    for (layer, key), grad, param in zip(plan.owners, plan.grads, plan.params):
        if layer.grads.get(key) is not grad or layer.params.get(key) is not param:
            which = "grads" if layer.params.get(key) is param else "params"
            raise RuntimeError(
                f"Layer {layer.name!r} replaced its array {which}[{key!r}] instead of writing into it, "
                f"so the optimizer would never see the new values. In backward(), write gradients in "
                f"place: self.grads[{key!r}][...] = ..., or np.matmul(..., out=self.grads[{key!r}])."
            )
    plan.verified = True


def _trainable_entries(model: Model) -> Iterator[tuple[str, Layer, str]]:
    """(path, layer, parameter name) of every trained parameter, each array once."""
    leaves = {id(leaf): leaf for leaf in model._leaf_layers()}
    by_array = {
        id(array): (leaf, key) for leaf in leaves.values() for key, array in leaf.params.items()
    }
    for path, array, trainable in model._named_weights():
        if trainable:
            leaf, key = by_array[id(array)]
            yield path, leaf, key


def _epoch_batches(
    n: int, batch_size: int, shuffle: bool, rng: np.random.Generator, steps_per_epoch: int | None
) -> Iterator[slice | np.ndarray]:
    """Batches forever: one pass over the data after another (each reshuffled), so that an epoch of
    `steps_per_epoch` batches can end in the middle of a pass and the next one continues it."""
    while True:
        yield from data_module.batch_slices(n, batch_size, shuffle, rng)
