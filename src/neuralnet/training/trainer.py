"""The training loop: `fit`, `evaluate`, `predict` and the `*_on_batch` methods of a model.

The training step is the lecture's loop, written out:

    outputs = forward(x)                      # every layer's forward, in topological order
    J, dJ/dŷ = loss(y, outputs)               # (softmax + cross-entropy: dJ/dz = (p − y)/N, fused)
    backward(dJ/dŷ)                           # every layer's backward, in reverse order
    add the regularizers' gradients           # J includes λ Σ‖W‖²
    optimizer.apply(gradients)                # in place

Everything else (batches, validation, callbacks, progress) is arranged around that step. A `Trainer`
is made by `model.compile` and holds what compile set up: the losses and metrics (resolved from the
shapes of the first data, and again whenever the model's outputs change) and the training plan
(`neuralnet.training.plan`).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from neuralnet import _parallel, backend
from neuralnet import callbacks as callbacks_module
from neuralnet._validation import check_non_negative_int, check_positive_int
from neuralnet.layers.layer import walk_layers
from neuralnet.layers.node import graph_version
from neuralnet.metrics import Mean
from neuralnet.training import batch_sources, data_adapter
from neuralnet.training.compile_utils import CompiledLoss, CompiledMetrics
from neuralnet.training.plan import TrainingPlan

if TYPE_CHECKING:
    from neuralnet.models.model import Model


class Trainer:
    """Trains and evaluates one compiled model.

    Args:
        model: The model.
        loss, loss_weights, metrics, weighted_metrics: As given to `Model.compile`.
    """

    def __init__(self, model: Model, loss: Any, loss_weights: Any, metrics: Any,
                 weighted_metrics: Any) -> None:  # fmt: skip
        self.model = model
        self._compile_args = (loss, loss_weights, metrics, weighted_metrics)
        CompiledLoss.check_identifiers(loss)
        CompiledMetrics.check_identifiers(metrics, weighted_metrics)
        self.compiled_loss: CompiledLoss | None = None
        self.compiled_metrics: CompiledMetrics | None = None
        self._built_for: tuple | None = None  # the output names and shapes resolved for
        self._resolved_version = -1
        self.loss_tracker = Mean(name="loss")
        self.output_loss_trackers: list[tuple[int, Mean]] = []
        self.plan: TrainingPlan | None = None
        self._first_non_finite: tuple[int, int] | None = None
        self._step_position = (0, 0)
        #: Where the running `fit` is (`FitState`), for callbacks that back up and resume it.
        self.fit_state: FitState | None = None
        # Distributed training (neuralnet.distributed): whether the fit or evaluate in progress
        # runs with the other ranks, and this rank's share of the current global batch.
        self._distributed_fit = False
        self._shard_weight = 1.0

    # -- compile state -----------------------------------------------------------------------------

    @property
    def metrics(self) -> list[Any]:
        """The loss tracker, each output's loss tracker, then each compiled metric."""
        tracked: list[Any] = [self.loss_tracker, *(t for _, t in self.output_loss_trackers)]
        if self.compiled_metrics is not None:
            tracked += [metric for _, metric, _ in self.compiled_metrics.metrics]
        return tracked

    def reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def _resolve_compiled(self, ys: list[np.ndarray]) -> None:
        """Resolve the losses and metrics for these targets and the model's outputs (again when
        the outputs changed since: `Sequential.add`, `pop`)."""
        if self._resolved_version == graph_version():
            return
        model = self.model
        output_shapes = model.call_graph().graph.output_shapes
        key = (tuple(model.output_names), tuple(output_shapes))
        if self._built_for == key:
            self._resolved_version = graph_version()
            return
        loss, loss_weights, metrics, weighted_metrics = self._compile_args
        names = model.output_names
        self.compiled_loss = CompiledLoss(loss, loss_weights, names)
        self.compiled_metrics = CompiledMetrics(metrics, weighted_metrics, names)
        y_shapes = [y.shape for y in ys]
        self.compiled_loss.build(y_shapes, output_shapes)
        self.compiled_metrics.build(y_shapes, output_shapes)
        # One tracker per output that has a loss (Keras logs no `name_loss` for the others).
        self.output_loss_trackers = (
            [
                (k, Mean(name=f"{name}_loss"))
                for k, (name, loss_object) in enumerate(zip(names, self.compiled_loss.losses))
                if loss_object is not None
            ]
            if len(names) > 1
            else []
        )
        self._built_for = key
        self._resolved_version = graph_version()

    def _plan(self) -> TrainingPlan:
        self.plan = TrainingPlan.current(self.model, self.plan)
        return self.plan

    # -- data --------------------------------------------------------------------------------------

    def prepare(
        self, x: Any, y: Any, sample_weight: Any, where: str
    ) -> tuple[list[np.ndarray], list[np.ndarray], list[Any]]:
        """Inputs, targets and sample weights as lists (one per input or output), checked once:
        lengths, shapes against the model, finite values, targets against the losses."""
        model = self.model
        xs = data_adapter.standardize_inputs(model, x, where)
        ys = data_adapter.standardize_targets(model, y, where)
        sws = data_adapter.standardize_sample_weights(model, sample_weight, len(ys), where)
        data_adapter.check_same_length(where, x=xs, y=ys, sample_weight=data_adapter.present(sws))
        data_adapter.check_inputs(model, xs, where, check_values=True)
        self._resolve_compiled(ys)
        self._check_targets(ys, where)
        return xs, ys, sws

    def _check_targets(self, ys: list[np.ndarray], where: str) -> None:
        """The targets against the losses (shapes, labels, finite values), once per call."""
        model = self.model
        output_shapes = model.call_graph().graph.output_shapes
        for k, (y, out_shape, loss) in enumerate(zip(ys, output_shapes, self.compiled_loss.losses)):
            label = "y" if len(ys) == 1 else f"y[{model.output_names[k]!r}]"
            data_adapter.check_finite(where, label, y)
            if loss is not None:
                loss.check_targets(y, out_shape, where)

    def _class_sample_weights(self, ys: list[np.ndarray], class_weight: dict,
                              where: str) -> list[np.ndarray]:  # fmt: skip
        output_shapes = self.model.call_graph().graph.output_shapes
        return [
            data_adapter.class_weights_to_sample_weights(
                y_k, class_weight, output_shapes[k][-1], where
            ).astype(backend.floatx())
            for k, y_k in enumerate(ys)
        ]

    # -- one batch ---------------------------------------------------------------------------------

    def compute_gradients(
        self,
        x: list[np.ndarray],
        y: list[np.ndarray],
        sample_weight: list[Any] | None = None,
        training: bool = True,
        input_gradients: bool = False,
    ) -> tuple[float, list[float], list[np.ndarray]]:
        """Forward and backward on one batch without updating anything.

        Returns the cost (loss plus regularization), each output's loss, and the outputs; the
        gradients are left in each layer's `grads` (and dJ/d(inputs) in `input_gradients_of_last`
        when `input_gradients` is True).
        """
        model = self.model
        sample_weight = sample_weight or [None] * len(y)
        self._resolve_compiled(y)
        plan = self._plan()
        graph = model.call_graph(training).graph
        outputs = graph.forward(x, training)
        loss, per_output, grads, fused = self.compiled_loss.value_and_gradients(
            y, outputs, sample_weight, graph.fusable_now()
        )
        loss += plan.regularization_penalty() + graph.activity_penalty
        self.input_gradients_of_last = graph.backward(grads, fused, input_gradients)
        plan.add_regularization_gradients()
        return loss, per_output, outputs

    def loss_of(self, x: list[np.ndarray], y: list[np.ndarray], sample_weight: list[Any],
                training: bool = False) -> float:  # fmt: skip
        """The cost (loss plus regularization) of one batch, with no backward pass."""
        self._resolve_compiled(y)
        graph = self.model.call_graph(training).graph
        outputs = graph.forward(x, training)
        loss, _ = self.compiled_loss.value(y, outputs, sample_weight)
        return loss + self._plan().regularization_penalty() + graph.activity_penalty

    def train_step(
        self, x: list[np.ndarray], y: list[np.ndarray], sample_weight: list[Any]
    ) -> None:
        """One gradient-descent step on one batch; updates the loss tracker and the metrics."""
        comm = self._group()
        if comm is not None and len(y[0]) == 0:
            plan = self._plan()  # a rank with no rows in this (last, short) batch adds zeros
            for grad in plan.grads:
                grad[...] = 0
            loss = None
        else:
            loss, per_output, outputs = self.compute_gradients(x, y, sample_weight)
            plan = self.plan  # the one compute_gradients used
        plan.bind(self.model.optimizer)
        if not plan.verified:
            plan.verify()
        if comm is not None:
            comm.average_gradients(plan.grads, self._shard_weight)
        self.model.optimizer.apply(plan.grads)
        if loss is not None:
            self._update_trackers(loss, per_output, y, outputs, sample_weight)

    def test_step(self, x: list[np.ndarray], y: list[np.ndarray], sample_weight: list[Any]) -> None:
        """The loss and metrics of one batch, in inference mode."""
        if len(y[0]) == 0:
            return  # a rank with no rows of this batch (distributed evaluation)
        graph = self.model.call_graph(False).graph
        outputs = graph.forward(x, False)
        loss, per_output = self.compiled_loss.value(y, outputs, sample_weight)
        loss += self._plan().regularization_penalty() + graph.activity_penalty
        self._update_trackers(loss, per_output, y, outputs, sample_weight)

    def _update_trackers(self, loss, per_output, y, outputs, sample_weight) -> None:
        if not math.isfinite(loss) and self._first_non_finite is None:
            self._first_non_finite = self._step_position
        batch_size = len(y[0])
        # The epoch loss is a running mean weighted by batch size, as Keras's loss tracker.
        self.loss_tracker.update_mean(loss, batch_size)
        for k, tracker in self.output_loss_trackers:
            tracker.update_mean(per_output[k], batch_size)
        self.compiled_metrics.update(y, outputs, sample_weight)

    def _group(self) -> Any:
        """The communicator while a distributed fit or evaluate runs, else None."""
        return _parallel.active if self._distributed_fit else None

    def reduced_logs(self) -> dict[str, Any]:
        """`logs()`, over every rank's samples in distributed training (collective), else the
        same as `logs()`."""
        comm = self._group()
        if comm is None:
            return self.logs()
        metrics = self.metrics
        local = [metric.variables for metric in metrics]
        for metric, total in zip(metrics, comm.sum_states(local)):
            metric.load_variables(total)
        logs = self.logs()
        for metric, state in zip(metrics, local):
            if state:
                metric.load_variables(state)
            else:
                metric.reset_state()  # a metric that had seen nothing here
        return logs

    def _wants_batch_logs(self, callback_list: Any, hook: str) -> bool:
        """Whether the logs are computed after each batch: when a callback reads them. In a
        distributed fit the logs are a collective sum, so rank 0's callbacks (the progress bar,
        ModelCheckpoint) decide for every rank."""
        wants = callback_list.wants(hook)
        comm = self._group()
        return wants if comm is None else bool(comm.broadcast(wants))

    def _start_distributed(self, comm: Any, facts: dict[str, Any]) -> None:
        """Before a distributed fit: every rank must run the same model, compile and fit (checked
        by hash), and all start from rank 0's weights and optimizer state."""
        model = self.model
        optimizer = model.optimizer
        comm.check_same(
            "the model, its compile settings or the fit arguments",
            {"model": model.to_json(), "optimizer": type(optimizer).__name__,
             "optimizer_config": optimizer.get_config(), "compile": repr(self._compile_args),
             **facts},
        )  # fmt: skip
        weights = model.get_weights()
        comm.broadcast_arrays(weights)
        model.set_weights(weights)
        if optimizer.built:
            optimizer.load_variables(comm.broadcast(optimizer.variables))
        self._distributed_fit = True

    def logs(self) -> dict[str, Any]:
        """The running loss and metrics, by name, sorted as Keras sorts them."""
        logs = {metric.name: _log_value(metric.result()) for metric in self.metrics}
        return dict(sorted(logs.items()))

    def flatten_logs(self, logs: dict[str, float]) -> Any:
        """Keras 3's order (one value alone): the loss, each output's loss, then the metrics in
        compile order; but a model with several outputs logs its metrics under prefixed names
        (`flag_accuracy`), which Keras puts after the others, sorted by name."""
        first = [self.loss_tracker, *(tracker for _, tracker in self.output_loss_trackers)]
        if len(self.output_loss_trackers) <= 1 and self.compiled_metrics is not None:
            first += [metric for _, metric, _ in self.compiled_metrics.metrics]
        names = [metric.name for metric in first if metric.name in logs]
        names += sorted(name for name in logs if name not in names)
        values = [logs[name] for name in names]
        return values[0] if len(values) == 1 else values

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: dict | None = None, return_dict: bool = False) -> Any:  # fmt: skip
        where = "train_on_batch"
        if sample_weight is not None and class_weight is not None:
            raise ValueError(f"{where}: give `sample_weight` or `class_weight`, not both.")
        xs, ys, sws = self.prepare(x, y, sample_weight, where)
        if class_weight is not None:
            sws = self._class_sample_weights(ys, class_weight, where)
        self.reset_metrics()
        self.train_step(xs, ys, sws)
        logs = self.logs()
        return logs if return_dict else self.flatten_logs(logs)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      return_dict: bool = False) -> Any:  # fmt: skip
        xs, ys, sws = self.prepare(x, y, sample_weight, "test_on_batch")
        self.reset_metrics()
        self.test_step(xs, ys, sws)
        logs = self.logs()
        return logs if return_dict else self.flatten_logs(logs)

    # -- evaluate ----------------------------------------------------------------------------------

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: Any = "auto", sample_weight: Any = None, steps: int | None = None,
                 callbacks: list | None = None, return_dict: bool = False) -> Any:  # fmt: skip
        where = "evaluate"
        batch_size = data_adapter.batch_size_or_default(batch_size, where)
        if batch_sources.is_batch_source(x):
            if y is not None or sample_weight is not None:
                raise ValueError(
                    "evaluate: `x` gives batches that hold the targets and weights; `y` and "
                    "`sample_weight` must not be given."
                )
            comm = _parallel.group()
            if comm is not None:
                verbose, callbacks = _rank_callbacks(comm, verbose, callbacks)
            callback_list = _source_callbacks(self.model, callbacks, verbose, x, steps, "evaluate")
            self._distributed_fit = comm is not None
            try:
                logs = self.evaluate_source(x, steps, callback_list, where)
            finally:
                self._distributed_fit = False
            return logs if return_dict else self.flatten_logs(logs)
        if y is None:
            raise ValueError("evaluate: `y` (the targets) is required.")
        xs, ys, sws = self.prepare(x, y, sample_weight, where)
        comm = _parallel.group()
        if comm is not None:
            self._distributed_fit = True
            verbose, callbacks = _rank_callbacks(comm, verbose, callbacks)
        callback_list = _inference_callbacks(
            self.model, callbacks, verbose, xs, batch_size, steps, "evaluate"
        )
        try:
            logs = self.evaluate_arrays(xs, ys, sws, batch_size, steps, callback_list)
        finally:
            self._distributed_fit = False
        return logs if return_dict else self.flatten_logs(logs)

    def evaluate_arrays(self, xs, ys, sws, batch_size, steps, callback_list) -> dict[str, float]:
        """Evaluate prepared arrays (also `fit`'s validation)."""
        self.reset_metrics()
        callback_list.on_test_begin()
        wants = self._wants_batch_logs(callback_list, "on_test_batch_end")
        n = data_adapter.num_samples(xs)
        comm = self._group()
        for step, index in enumerate(data_adapter.batch_slices(n, batch_size, False, None)):
            if steps is not None and step >= steps:
                break
            if comm is not None:
                index = comm.local_index(index, n)
            callback_list.on_test_batch_begin(step)
            self.test_step(
                _input_batches(self.model, xs, index, "evaluate"),
                [data_adapter.take(a, index) for a in ys],
                [data_adapter.take(a, index) for a in sws],
            )
            if wants:
                callback_list.on_test_batch_end(step, self.reduced_logs())
        logs = self.reduced_logs()
        callback_list.on_test_end(logs)
        return logs

    def _validate(self, validation: Any, steps: int | None, callback_list) -> dict[str, float]:
        """fit's validation pass: over arrays ((xs, ys, sws), batch size) or a batch source."""
        if isinstance(validation, tuple):
            arrays, batch_size = validation
            return self.evaluate_arrays(*arrays, batch_size, steps, callback_list)
        return self.evaluate_source(validation, steps, callback_list, "fit (validation_data)")

    def evaluate_source(self, source: Any, steps: int | None, callback_list,
                        where: str) -> dict[str, float]:  # fmt: skip
        """Evaluate the batches of a PyDataset or an iterator (also `fit`'s validation)."""
        self.reset_metrics()
        callback_list.on_test_begin()
        wants = self._wants_batch_logs(callback_list, "on_test_batch_end")
        stream = source if isinstance(source, batch_sources.SourceStream) else (
            batch_sources.SourceStream(source, where, steps))  # fmt: skip
        stream.end_pass()
        try:
            for step, (bx, by, bw) in enumerate(stream):
                if steps is not None and step >= steps:
                    break
                if by is None:
                    raise ValueError(f"{where}: the batches hold no targets; give (x, y) batches.")
                comm = self._group()
                if comm is not None:
                    bx, by, bw, _ = _shard_batch(comm, bx, by, bw)
                callback_list.on_test_batch_begin(step)
                self.test_step(*self.prepare(bx, by, bw, where))
                if wants:
                    callback_list.on_test_batch_end(step, self.reduced_logs())
        finally:
            if stream is not source:
                stream.close()
        logs = self.reduced_logs()
        callback_list.on_test_end(logs)
        return logs

    # -- fit ---------------------------------------------------------------------------------------

    def _fit_source(self, source, y, epochs, verbose, callbacks, validation_split, validation_data,
                    class_weight, sample_weight, initial_epoch, steps_per_epoch, validation_steps,
                    validation_freq) -> callbacks_module.History:  # fmt: skip
        """`fit` on batches from a PyDataset or an iterator (each batch checked as arrays are)."""
        where = "fit"
        kind = "a PyDataset" if isinstance(source, batch_sources.PyDataset) else "a generator"
        for name, value in (("y", y), ("sample_weight", sample_weight),
                            ("class_weight", class_weight)):  # fmt: skip
            if value is not None:
                raise ValueError(
                    f"fit: `x` is {kind}, whose batches hold the targets and weights; `{name}` "
                    "must not be given."
                )
        if validation_split:
            raise ValueError(
                f"fit: validation_split needs arrays to split; with {kind}, give "
                "validation_data (arrays, a PyDataset or a generator)."
            )
        stream = batch_sources.SourceStream(source, where, steps_per_epoch)
        validation = None
        if validation_data is not None:
            if batch_sources.is_batch_source(validation_data):
                validation = batch_sources.SourceStream(
                    validation_data, "fit (validation_data)", validation_steps
                )
            else:
                vx, vy, vsw = data_adapter.unpack_validation_data(
                    validation_data, "fit (validation_data)"
                )
                arrays = self.prepare(vx, vy, vsw, "fit (validation_data)")
                validation = (arrays, 32)  # Keras's default batch size: no batch_size here

        comm = _parallel.group()

        def next_batch() -> tuple[list, list, list]:
            bx, by, bw = stream.next_batch()
            if by is None:
                raise ValueError(
                    f"fit: the batches of {kind} hold no targets; give (x, y) batches."
                )
            if comm is not None:  # every rank reads the same batch and keeps its rows
                bx, by, bw, self._shard_weight = _shard_batch(comm, bx, by, bw)
            return self.prepare(bx, by, bw, where)

        def on_epoch(begin: bool) -> None:
            if isinstance(source, batch_sources.PyDataset):
                if begin:
                    source.on_epoch_begin()
                else:
                    source.on_epoch_end()
            if not begin:
                stream.end_pass()

        if comm is not None:
            self._start_distributed(comm, {"source": type(source).__name__, "epochs": epochs,
                                           "steps": stream.steps})  # fmt: skip
            verbose, callbacks = _rank_callbacks(comm, verbose, callbacks)
        verbose = callbacks_module.resolve_verbose(verbose)
        callback_list = callbacks_module.CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self.model,
            verbose=verbose, epochs=epochs, steps=stream.steps, mode="fit",
        )  # fmt: skip
        try:
            return self._run_fit(callback_list, stream, next_batch, on_epoch, stream.steps, epochs,
                                 initial_epoch, validation, validation_steps, validation_freq)  # fmt: skip
        finally:
            if isinstance(validation, batch_sources.SourceStream):
                validation.close()

    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: list | None = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, class_weight: dict | None = None,
            sample_weight: Any = None, initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int = 1) -> callbacks_module.History:  # fmt: skip
        model = self.model
        where = "fit"
        batch_size = data_adapter.batch_size_or_default(batch_size, where)
        epochs = check_non_negative_int(epochs, "epochs", where)
        initial_epoch = check_non_negative_int(initial_epoch, "initial_epoch", where)
        validation_freq = check_positive_int(validation_freq, "validation_freq", where)
        if steps_per_epoch is not None:
            steps_per_epoch = check_positive_int(steps_per_epoch, "steps_per_epoch", where)
        if batch_sources.is_batch_source(x):
            return self._fit_source(x, y, epochs, verbose, callbacks, validation_split,
                                    validation_data, class_weight, sample_weight, initial_epoch,
                                    steps_per_epoch, validation_steps, validation_freq)  # fmt: skip
        if y is None:
            raise ValueError(
                "fit: `y` (the targets) is required with arrays; or give `x` as a PyDataset or a "
                "generator of (x, y) batches."
            )
        if sample_weight is not None and class_weight is not None:
            raise ValueError("fit: give `sample_weight` or `class_weight`, not both.")

        xs, ys, sws = self.prepare(x, y, sample_weight, where)
        n_in, n_out = len(xs), len(ys)
        val_arrays = None
        if validation_data is not None:
            vx, vy, vsw = data_adapter.unpack_validation_data(
                validation_data, "fit (validation_data)"
            )
            val_arrays = self.prepare(vx, vy, vsw, "fit (validation_data)")
        elif validation_split:
            train, held_out = data_adapter.train_validation_split(xs + ys + sws, validation_split)
            xs, ys, sws = train[:n_in], train[n_in : n_in + n_out], train[n_in + n_out :]
            val_arrays = (
                held_out[:n_in],
                held_out[n_in : n_in + n_out],
                held_out[n_in + n_out :],
            )
        if class_weight is not None:
            # Class weights apply to the training samples only, as in Keras (after the split).
            sws = self._class_sample_weights(ys, class_weight, where)

        n = data_adapter.num_samples(xs)
        if n == 0:
            raise ValueError("fit: received no training samples.")
        steps = steps_per_epoch or data_adapter.num_batches(n, batch_size)
        comm = _parallel.group()
        if comm is not None:
            if batch_size < comm.size:
                raise ValueError(
                    f"fit: the global batch_size={batch_size} is smaller than the number of ranks "
                    f"({comm.size}): every rank needs at least one sample of each batch. Use "
                    f"batch_size >= {comm.size}."
                )
            self._start_distributed(comm, {"samples": n, "batch_size": batch_size,
                                           "epochs": epochs, "steps": steps, "shuffle": shuffle})  # fmt: skip
            verbose, callbacks = _rank_callbacks(comm, verbose, callbacks)
        verbose = callbacks_module.resolve_verbose(verbose)
        callback_list = callbacks_module.CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=model,
            verbose=verbose, epochs=epochs, steps=steps, mode="fit",
            batch_size=batch_size, samples=n,
        )  # fmt: skip
        rng = backend.make_rng()
        if comm is not None:  # one batch order for all ranks: rank 0's
            rng.bit_generator.state = comm.broadcast(rng.bit_generator.state)
        batches = BatchStream(n, batch_size, shuffle, rng)
        # Shuffled batches of the inputs are gathered into one reused buffer per input: a large
        # batch is then not a fresh allocation (and fresh pages) at every step.
        readers = [
            data_adapter.BatchReader(a, batch_size, "fit", _input_label(model, xs, i))
            for i, a in enumerate(xs)
        ]

        def next_batch() -> tuple[list, list, list]:
            index = next(batches)
            if comm is not None:  # this rank's rows of the global batch
                local = comm.local_index(index, n)
                self._shard_weight = _length(local, n) / _length(index, n)
                index = local
            return ([read(index) for read in readers],
                    [data_adapter.take(a, index) for a in ys],
                    [data_adapter.take(a, index) for a in sws])  # fmt: skip

        val_source = (
            None if val_arrays is None else (val_arrays, validation_batch_size or batch_size)
        )
        return self._run_fit(
            callback_list,
            batches,
            next_batch,
            None,
            steps,
            epochs,
            initial_epoch,
            val_source,
            validation_steps,
            validation_freq,
        )

    def _run_fit(self, callback_list, batches, next_batch, on_epoch, steps, epochs, initial_epoch,
                 validation, validation_steps, validation_freq) -> callbacks_module.History:  # fmt: skip
        """The part of `fit` common to arrays and batch sources: callbacks, resuming, epochs."""
        model = self.model
        model.stop_training = False
        self._first_non_finite = None
        self._plan().bind(model.optimizer)
        self.fit_state = state = FitState(self, callback_list, batches, initial_epoch)
        try:
            callback_list.on_train_begin()  # BackupAndRestore may resume: state.set_state(...)
            state.started = True
            # A diverging run overflows: reported once, below, not as NumPy warnings per batch.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                logs = self._fit_epochs(next_batch, on_epoch, steps, epochs, validation,
                                        validation_steps, validation_freq, callback_list)  # fmt: skip
            if self._first_non_finite is not None:
                epoch, step = self._first_non_finite
                from neuralnet.models.model import DivergenceWarning

                warnings.warn(
                    f"fit: the loss became NaN or infinite at epoch {epoch + 1}, batch {step + 1}: "
                    "training diverged. Lower the learning rate, scale the inputs, or add "
                    "callbacks.TerminateOnNaN() to stop at once.",
                    DivergenceWarning,
                    stacklevel=4,
                )
            callback_list.on_train_end(logs)
        finally:
            self.fit_state = None
            self._distributed_fit = False
            if isinstance(batches, batch_sources.SourceStream):
                batches.close()
        return callback_list.history

    def _fit_epochs(self, next_batch, on_epoch, steps, epochs, validation, validation_steps,
                    validation_freq, callback_list) -> dict:  # fmt: skip
        """The epochs of `fit`. `next_batch()` gives (x, y, sample_weight) lists, or raises
        StopIteration when a batch source ends; `steps` is None for a source that runs until
        it ends; `on_epoch(begin)` tells the source an epoch begins or ends."""
        model = self.model
        state = self.fit_state
        wants_batch_end = self._wants_batch_logs(callback_list, "on_train_batch_end")
        logs = state.logs
        if state.resumed and model.stop_training and state.step == 0:
            return logs  # resumed from a backup taken after the epoch that stopped training
        for epoch in range(state.epoch, epochs):
            first_step = state.step  # > 0 only in an epoch resumed in its middle
            if first_step == 0:
                self.reset_metrics()
                callback_list.on_epoch_begin(epoch)
            elif model.stop_training:
                first_step = steps  # resumed after the batch that stopped training
            if on_epoch is not None:
                on_epoch(True)
            trained, empty = 0, False
            for step in itertools.count(first_step) if steps is None else range(first_step, steps):
                try:
                    bx, by, bw = next_batch()
                except StopIteration:
                    empty = trained == 0 and first_step == 0
                    if steps is not None or empty:
                        warnings.warn(
                            f"fit: the input ran out of data at epoch {epoch + 1}, batch "
                            f"{step + 1}; training stops. A generator is read once: give "
                            "steps_per_epoch x epochs batches, or use a PyDataset.",
                            UserWarning, stacklevel=4,
                        )  # fmt: skip
                        model.stop_training = True
                    break
                trained += 1  # noqa: SIM113 (the steps may start mid-epoch, from a resume)
                callback_list.on_train_batch_begin(step)
                self._step_position = (epoch, step)
                self.train_step(bx, by, bw)
                state.step = step + 1
                if wants_batch_end:
                    callback_list.on_train_batch_end(step, self.reduced_logs())
                if model.stop_training:
                    break
            if empty:
                break  # no batch at all: the epoch did not happen, and is not logged
            if on_epoch is not None:
                on_epoch(False)
            comm = self._group()
            if comm is not None:  # BatchNormalization's moving statistics: the ranks' mean
                comm.average_arrays(
                    [a for layer in walk_layers(model) for a in layer.state.values()]
                )
            logs = self.reduced_logs()
            if validation is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._validate(validation, validation_steps, callback_list)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
                logs = dict(sorted(logs.items()))
            state.epoch, state.step, state.logs = epoch + 1, 0, logs
            callback_list.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
        return logs


# -- predict (no compile needed) -------------------------------------------------------------------


def predict(model: Model, x: Any, batch_size: int | None = None, verbose: Any = "auto",
            steps: int | None = None, callbacks: list | None = None) -> Any:  # fmt: skip
    """`model`'s outputs for `x`, in batches, in inference mode."""
    where = "predict"
    batch_size = data_adapter.batch_size_or_default(batch_size, where)
    if batch_sources.is_batch_source(x):
        return _predict_source(model, x, verbose, steps, callbacks)
    xs = data_adapter.standardize_inputs(model, x, where)
    data_adapter.check_same_length(where, x=xs)
    data_adapter.check_inputs(model, xs, where, check_values=False)
    comm = _parallel.group()
    if comm is not None:  # each rank predicts a contiguous block of the rows, gathered in order
        start, stop = comm.shard(data_adapter.num_samples(xs))
        xs = [a[start:stop] for a in xs]
        verbose, callbacks = _rank_callbacks(comm, verbose, callbacks)
    n = data_adapter.num_samples(xs)
    callback_list = _inference_callbacks(
        model, callbacks, verbose, xs, batch_size, steps, "predict"
    )
    callback_list.on_predict_begin()
    wants_batch_logs = callback_list.wants("on_predict_batch_end")
    graph = model.call_graph(False).graph
    results: list[np.ndarray] | None = None
    start = 0
    for step, index in enumerate(data_adapter.batch_slices(n, batch_size, False, None)):
        if steps is not None and step >= steps:
            break
        callback_list.on_predict_batch_begin(step)
        outputs = graph.forward(_input_batches(model, xs, index, where), False)
        if results is None:
            results = [np.empty((n,) + out.shape[1:], dtype=out.dtype) for out in outputs]
        stop = start + len(outputs[0])
        for result, out in zip(results, outputs):
            result[start:stop] = out
        start = stop
        callback_list.on_predict_batch_end(
            step, {"outputs": model.format_outputs(outputs)} if wants_batch_logs else None
        )
    callback_list.on_predict_end()
    if results is None:
        results = [
            np.empty((0,) + tuple(d or 0 for d in s[1:]), dtype=backend.floatx())
            for s in graph.output_shapes
        ]
    results = [r[:start] for r in results]
    if comm is not None:
        results = comm.gather_rows(results)
        if results is None:
            return None  # gather_predictions="root", on another rank than 0
    return model.format_outputs(results)


def predict_on_batch(model: Model, x: Any) -> Any:
    """The outputs for one batch, in inference mode (copies, not the graph's own arrays)."""
    xs = data_adapter.standardize_inputs(model, x, "predict_on_batch")
    data_adapter.check_inputs(model, xs, "predict_on_batch", check_values=False)
    graph = model.call_graph(False).graph
    outputs = [np.array(out, copy=True) for out in graph.forward(xs, False)]
    return model.format_outputs(outputs)


def _inference_callbacks(model: Model, callbacks: Any, verbose: Any, xs: list[np.ndarray],
                         batch_size: int, steps: int | None,
                         mode: str) -> callbacks_module.CallbackList:  # fmt: skip
    """The callbacks of `evaluate` or `predict`, with a progress bar unless `verbose=0`."""
    verbose = callbacks_module.resolve_verbose(verbose)
    n = data_adapter.num_samples(xs)
    total_steps = steps or data_adapter.num_batches(n, batch_size)
    return callbacks_module.CallbackList(
        callbacks, add_progbar=verbose != 0, model=model, verbose=verbose, steps=total_steps,
        mode=mode, batch_size=batch_size, samples=n,
    )  # fmt: skip


def _shard_batch(comm: Any, bx: Any, by: Any, bw: Any) -> tuple[Any, Any, Any, float]:
    """This rank's rows of a batch read whole (from a PyDataset or a generator), and their share
    of the batch. A memory-mapped batch is only read for those rows."""
    n = len(data_adapter.to_list(bx)[0] if not isinstance(bx, dict) else next(iter(bx.values())))
    start, stop = comm.shard(n)

    def part(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, dict):
            return {key: part(v) for key, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [part(v) for v in value]
        return value[start:stop]

    return part(bx), part(by), part(bw), (stop - start) / n if n else 0.0


def _length(index: slice | np.ndarray, n: int) -> int:
    if isinstance(index, slice):
        return len(range(*index.indices(n)))
    return len(index)


def _rank_callbacks(comm: Any, verbose: Any, callbacks: Any) -> tuple[Any, Any]:
    """Only rank 0 shows progress and runs the callbacks that write files."""
    if comm.is_chief:
        return verbose, callbacks
    kept = [c for c in (callbacks or []) if not getattr(c, "chief_only", False)]
    return 0, kept


def _source_callbacks(model: Model, callbacks: Any, verbose: Any, source: Any,
                      steps: int | None, mode: str) -> callbacks_module.CallbackList:  # fmt: skip
    """The callbacks of `evaluate` or `predict` on a batch source (steps known for a PyDataset)."""
    verbose = callbacks_module.resolve_verbose(verbose)
    if steps is None and isinstance(source, batch_sources.PyDataset):
        steps = len(source)
    return callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=model,
                                         verbose=verbose, steps=steps, mode=mode)  # fmt: skip


def _predict_source(model: Model, source: Any, verbose: Any, steps: int | None,
                    callbacks: Any) -> Any:  # fmt: skip
    """`predict` on the batches of a PyDataset or an iterator (their x; targets are ignored)."""
    where = "predict"
    comm = _parallel.group()
    if comm is not None:
        verbose, callbacks = _rank_callbacks(comm, verbose, callbacks)
    callback_list = _source_callbacks(model, callbacks, verbose, source, steps, "predict")
    callback_list.on_predict_begin()
    wants_batch_logs = callback_list.wants("on_predict_batch_end")
    stream = batch_sources.SourceStream(source, where, steps)
    pieces: list[list[np.ndarray]] = []
    try:
        for step, (bx, _, _) in enumerate(stream):
            if comm is not None:
                bx = _shard_batch(comm, bx, None, None)[0]
            callback_list.on_predict_batch_begin(step)
            xs = data_adapter.standardize_inputs(model, bx, where)
            data_adapter.check_inputs(model, xs, where, check_values=False)
            graph = model.call_graph(False).graph
            outputs = graph.forward(_input_batches(model, xs, slice(None), where), False)
            outputs = [np.array(out, copy=True) for out in outputs]
            if comm is not None:  # the batch's rows from every rank, in order, on every rank
                outputs = comm.gather_rows(outputs, to_all=True)
            pieces.append(outputs)
            callback_list.on_predict_batch_end(
                step, {"outputs": model.format_outputs(outputs)} if wants_batch_logs else None
            )
    finally:
        stream.close()
    callback_list.on_predict_end()
    if not pieces:
        raise ValueError(f"{where}: the {type(source).__name__} gave no batches.")
    if comm is not None and comm.gather_predictions == "root" and not comm.is_chief:
        return None
    return model.format_outputs([np.concatenate(parts) for parts in zip(*pieces)])


def _input_label(model: Model, xs: list[np.ndarray], i: int) -> str:
    return "x" if len(xs) == 1 else f"x[{model.input_names[i]!r}]"


def _input_batches(model: Model, xs: list[np.ndarray], index: slice | np.ndarray,
                   where: str) -> list[np.ndarray]:  # fmt: skip
    """One batch of each input; a memory-mapped input is converted to floatx and checked here."""
    batches = [data_adapter.take(a, index) for a in xs]
    return [
        data_adapter.read_batch(b, backend.floatx(), where, _input_label(model, xs, i))
        if data_adapter.is_memory_mapped(a) else b
        for i, (a, b) in enumerate(zip(xs, batches))
    ]  # fmt: skip


def _log_value(result: Any) -> Any:
    """A metric result for the logs: a float, or an array for metrics with several values
    (F1Score(average=None), Precision at several thresholds), as Keras logs them."""
    array = np.asarray(result)
    return float(array) if array.size == 1 else array.astype(np.float64)


class BatchStream:
    """The batches of `fit`, forever: one pass over the data after another (each reshuffled), so
    that an epoch of `steps_per_epoch` batches can end in the middle of a pass and the next one
    continues it.

    Its state is the shuffle generator's state when the current pass began and the number of
    batches of that pass given so far: `set_state` draws that pass's order again and skips those
    batches, drawing no other random numbers, so the batches that follow are the ones an
    uninterrupted run gets.
    """

    def __init__(self, n: int, batch_size: int, shuffle: bool, rng: np.random.Generator) -> None:
        self.n = n
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.rng = rng
        self._pass: Iterator[slice | np.ndarray] | None = None
        self._pass_rng_state = rng.bit_generator.state if shuffle else None
        self._given = 0

    def __iter__(self) -> BatchStream:
        return self

    def __next__(self) -> slice | np.ndarray:
        index = next(self._pass, None) if self._pass is not None else None
        if index is None:
            self._start_pass()
            index = next(self._pass)
        self._given += 1
        return index

    def _start_pass(self) -> None:
        # The order is drawn at the pass's first batch, after this state is taken.
        self._pass_rng_state = self.rng.bit_generator.state if self.shuffle else None
        self._pass = data_adapter.batch_slices(self.n, self.batch_size, self.shuffle, self.rng)
        self._given = 0

    def get_state(self) -> dict[str, Any]:
        """`{'shuffle': ..., 'pass_rng_state': ..., 'given': ...}`: JSON values
        (`pass_rng_state` is the generator's `bit_generator.state` at the start of the current
        pass, or now before the first one; `None` without shuffling)."""
        return {
            "shuffle": self.shuffle,
            "pass_rng_state": self._pass_rng_state,
            "given": self._given,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Continue from `state`: the next batch is the one that followed when it was taken."""
        given = int(state["given"])
        if bool(state["shuffle"]) != self.shuffle:
            raise ValueError(
                f"fit: the saved batch order is of a fit with shuffle={bool(state['shuffle'])}, "
                f"this one has shuffle={self.shuffle}."
            )
        if self.shuffle:
            self.rng.bit_generator.state = state["pass_rng_state"]
        self._pass, self._pass_rng_state, self._given = None, state["pass_rng_state"], 0
        if given == 0:
            return
        self._start_pass()
        for _ in range(given):
            if next(self._pass, None) is None:
                raise ValueError(
                    f"fit: the saved batch order is {given} batches into a pass over the data, "
                    "which has fewer: was it saved by a fit with other data or another batch_size?"
                )
        self._given = given


class FitState:
    """Where a running `fit` is, for callbacks that back up and resume training
    (`callbacks.BackupAndRestore`): `model.trainer.fit_state` while `fit` runs, else `None`.

    `get_state` and `set_state` cover what the training loop itself decides: the position, the
    shuffled order of the batches, the running loss and metrics of the epoch in progress, and
    `model.stop_training`. The weights, the optimizer, the layers' random generators and the
    callbacks are their owners' to save.

    Attributes:
        epoch: The epoch in progress (0-based); between two epochs, the next one.
        step: The batches of that epoch trained so far.
        logs: The logs of the last finished epoch (those `on_train_end` receives).
        callbacks: The `CallbackList` of this `fit`.
        batches: The `BatchStream` the batches come from.
        resumed: Whether `set_state` restored an earlier run's state.
        started: Whether the first epoch has begun (`set_state` is refused from then on).
    """

    def __init__(self, trainer: Trainer, callbacks: callbacks_module.CallbackList,
                 batches: BatchStream, epoch: int) -> None:  # fmt: skip
        self._trainer = trainer
        self.callbacks = callbacks
        self.batches = batches
        self.epoch = epoch
        self.step = 0
        self.logs: dict[str, Any] = {}
        self.resumed = False
        self.started = False

    def get_state(self) -> dict[str, Any]:
        """The loop's state: JSON values and NumPy arrays (the metrics' accumulators)."""
        trainer = self._trainer
        return {
            "epoch": self.epoch,
            "step": self.step,
            "logs": self.logs,
            "stop_training": bool(trainer.model.stop_training),
            "batches": self.batches.get_state(),
            "metrics": [
                {"name": metric.name, "variables": metric.variables} for metric in trainer.metrics
            ],
            "first_non_finite": trainer._first_non_finite,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Continue from `state`, taken by `get_state` in an earlier run of the same `fit`: called
        from `on_train_begin`; `fit` then goes on at that epoch and step.

        Raises:
            RuntimeError: When training has already begun.
            ValueError: When the metrics or the batch order do not fit this `fit`.
        """
        if self.started:
            raise RuntimeError(
                "fit: the training state can only be restored in on_train_begin, before the "
                "first epoch."
            )
        trainer = self._trainer
        metrics = trainer.metrics
        saved = state["metrics"]
        names = [metric.name for metric in metrics]
        saved_names = [entry["name"] for entry in saved]
        if names != saved_names:
            raise ValueError(
                f"fit: the saved training state has the metrics {saved_names}, but this model "
                f"computes {names}: was it compiled differently?"
            )
        self.batches.set_state(state["batches"])
        for metric, entry in zip(metrics, saved):
            metric.load_variables(entry["variables"])
        self.epoch = int(state["epoch"])
        self.step = int(state["step"])
        self.logs = dict(state["logs"])
        trainer.model.stop_training = bool(state["stop_training"])
        first = state["first_non_finite"]
        trainer._first_non_finite = None if first is None else (int(first[0]), int(first[1]))
        self.resumed = True
