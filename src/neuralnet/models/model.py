"""`Model`: the face of a network users train: compile, fit, evaluate, predict, weights, summary.

A model is a layer made of layers, run as a graph (`neuralnet.layers.graph.Graph`): the forward pass in
topological order, the backward pass in reverse, each layer's own `forward` and `backward`. There are
three ways to make one, as in Keras:

- `Model(inputs, outputs)`, a functional model (`Functional`): the graph of the layer calls that led
  from the `Input`s to the outputs;
- `Sequential([...])`: a chain, built as soon as the input shape is known;
- a subclass that creates layers in `__init__` and composes them in `call(inputs, training=None)`:
  the call is traced into a graph the first time the model sees data, or at `build(input_shape)`.

The training loop itself (`fit`, `evaluate`, `predict`, the `*_on_batch` methods) lives in
`neuralnet.training`; the methods here check their arguments' names and hand over.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from neuralnet import callbacks as callbacks_module
from neuralnet import optimizers as optimizers_module
from neuralnet.layers.graph import CallGraph
from neuralnet.layers.layer import Layer, shape_str
from neuralnet.layers.node import SymbolicTensor, is_symbolic, note_graph_change
from neuralnet.layers.tracing import trace, tracked_layers


class DivergenceWarning(UserWarning):
    """Training produced a NaN or infinite loss."""


class Model(Layer):
    """A network of layers that can be trained: Keras's `Model`.

    `Model(inputs, outputs)` builds a functional model from symbolic tensors (see `Functional`);
    `Sequential([...])` builds a chain. Subclass `Model` to compose layers in `call`:

        class TwoLayers(Model):
            def __init__(self, units=64, **kwargs):
                super().__init__(**kwargs)
                self.hidden = layers.Dense(units, activation="relu")
                self.out = layers.Dense(10, activation="softmax")

            def call(self, inputs, training=None):
                return self.out(self.hidden(inputs))

    `call` runs once on symbolic inputs (twice, when it takes `training`): what it does must be
    layer calls, so that the backward pass is the layers' own.

    Attributes:
        optimizer: The optimizer set by `compile`.
        compiled: Whether `compile` was called.
        stop_training: Set it to True (from a callback) to end `fit` after the current batch.
        history: The `History` of the last `fit`.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from neuralnet.models.functional import Functional

            return Functional.__new__(Functional, *args, **kwargs)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *, name: str | None = None, trainable: bool = True, **kwargs: Any) -> None:
        super().__init__(name=name, trainable=trainable, **kwargs)
        self.optimizer: optimizers_module.Optimizer | None = None
        self.compiled = False
        self.stop_training = False
        self.history: callbacks_module.History | None = None
        self._trainer: Any = None  # neuralnet.training.Trainer, made by compile()
        self._trace_structure: Any = None  # the input shapes call() was traced for

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        # A layer set on a traced subclassed model after tracing (replacing one that call() uses):
        # trace again, so that the graph, the weights and what is trained follow.
        if self.__dict__.get("_trace_structure") is not None and _holds_layer(value):
            self._set_graphs(trace(self, self._trace_structure))

    # -- the graph ---------------------------------------------------------------------------------

    def _set_graphs(self, graphs: dict[bool, CallGraph]) -> None:
        """Run these graphs from now on (by training mode); the model is then built."""
        self._graphs = graphs
        self._graph_used = None
        self.built = bool(graphs)
        note_graph_change()
        if graphs:
            graph = graphs[False].graph
            shapes = graph.input_shapes
            self._build_input_shape = shapes[0] if len(shapes) == 1 else shapes

    def call_graph(self, training: bool = False) -> CallGraph:
        """The graph this model runs in `training` mode, with the structure of its inputs and
        outputs. Raises a ValueError when the model is not built yet."""
        graphs = self._graphs
        if not graphs:
            raise ValueError(self._not_built_message())
        return graphs[bool(training)]

    def _not_built_message(self) -> str:
        return (
            f"Model {self.name!r} has not been built yet. Build it by calling build(input_shape) "
            "or by calling it (or fit, predict) on a batch of data."
        )

    @property
    def layers(self) -> list[Layer]:
        """The layers the model is made of: for a subclassed model, the layers held by its
        attributes, in the order they were set."""
        return tracked_layers(self)

    def inner_layers(self) -> list[Layer]:
        return self.layers

    @property
    def multi_input(self) -> bool:  # type: ignore[override]
        """Whether the model takes several inputs (a list or a dict)."""
        return bool(self._graphs) and len(self.call_graph().graph.input_tensors) > 1

    @property
    def inputs(self) -> list[SymbolicTensor]:
        return list(self.call_graph().graph.input_tensors)

    @property
    def outputs(self) -> list[SymbolicTensor]:
        return list(self.call_graph().graph.output_tensors)

    @property
    def input(self) -> Any:
        """The model's symbolic input(s), in the structure it was built with (Keras 3): what
        `Model(inputs=model.input, outputs=model.layers[-2].output)` needs. Calling the model as a
        layer on other tensors does not change them (in Keras its own node is its first)."""
        inputs = self.inputs
        format_inputs = getattr(self, "format_inputs", None)
        if format_inputs is not None:
            return format_inputs(inputs)
        return inputs[0] if len(inputs) == 1 else inputs

    @property
    def output(self) -> Any:
        """The model's symbolic output(s), in the structure it was built with (Keras 3)."""
        return self.format_outputs(self.outputs)

    @property
    def input_names(self) -> list[str]:
        """The keys of the inputs dict the model was built with, else the Input layers' names."""
        spec = self.call_graph()
        if spec.input_keys is not None:
            return [str(k) for k in spec.input_keys]
        return [t.node.layer.name for t in spec.graph.input_tensors]

    @property
    def output_names(self) -> list[str]:
        """The keys of the outputs dict, else the names of the layers that compute the outputs."""
        spec = self.call_graph()
        if spec.output_keys is not None:
            return [str(k) for k in spec.output_keys]
        return [t.layer.name for t in spec.graph.output_tensors]

    def layer_outputs(self, training: bool = True) -> dict[str, np.ndarray]:
        """Each layer's output in the last forward pass of the graph that runs in `training` mode
        (training: the last training step), by layer name, for monitoring."""
        return self.call_graph(training).graph.layer_outputs()

    def format_outputs(self, outputs: list[Any]) -> Any:
        """Outputs in the structure the model returns: one array, a list, or a dict by name."""
        spec = self.call_graph()
        if spec.output_structure == "dict":
            return dict(zip(spec.output_keys, outputs, strict=True))
        if spec.output_structure == "single":
            return outputs[0]
        return list(outputs)

    def inputs_from_dict(self, x: dict[str, Any], where: str) -> list[Any]:
        """The entries of a dict of inputs, in the order of the model's inputs."""
        names = self.input_names
        missing = [name for name in names if name not in x]
        if missing:
            raise ValueError(
                f"{where}: the dict of inputs has no entry for {missing}; the model's inputs are "
                f"{names}."
            )
        return [x[name] for name in names]

    # -- building ----------------------------------------------------------------------------------

    def build(self, input_shape: Any = None) -> None:
        """Trace `call` on symbolic inputs of `input_shape` (batch axis first, e.g. `(None, 784)`; a
        list or a dict of shapes for several inputs), so the model gets its graph and weights."""
        if self._graphs:
            return
        if getattr(type(self), "call", None) is None:
            raise NotImplementedError(
                f"Model {self.name!r} ({type(self).__name__}) has no call() and no graph: build a "
                "model with Model(inputs, outputs) or Sequential([...]), or subclass Model and write "
                "call(inputs, training=None) composing layers made in __init__."
            )
        if input_shape is None:
            raise ValueError(
                f"Model {self.name!r}: build() needs the input shape, e.g. build((None, 784))."
            )
        structure = _shape_structure(input_shape)
        self._build_dtype = self.compute_dtype
        self._set_graphs(trace(self, structure))
        self._trace_structure = structure

    def build_for(self, inputs: Any) -> None:
        """Build the model, if it is not built yet, for inputs like `inputs` (arrays or symbolic
        tensors: one, a list, or a dict by name)."""
        if self._graphs:
            return
        if isinstance(inputs, dict):
            self.build({key: tuple(np.shape(value)) if not isinstance(value, SymbolicTensor)
                        else value.shape for key, value in inputs.items()})  # fmt: skip
        elif isinstance(inputs, (list, tuple)):
            self.build([v.shape if isinstance(v, SymbolicTensor) else np.shape(v) for v in inputs])
        else:
            self.build(inputs.shape if isinstance(inputs, SymbolicTensor) else np.shape(inputs))

    def ensure_built(self, input_shape: Any) -> None:
        if not self._graphs:
            self.build(input_shape)

    def check_input_shape(self, shape: Any) -> None:
        expected = self.call_graph().graph.input_shapes[0]
        if len(shape) != len(expected) or any(
            e is not None and s is not None and e != s for e, s in zip(expected[1:], shape[1:])
        ):
            raise ValueError(
                f"Model {self.name!r} expected inputs of shape {shape_str(expected)}, received shape "
                f"{shape_str(tuple(shape))}."
            )

    # -- calling -----------------------------------------------------------------------------------

    def __call__(self, inputs: Any, training: bool | None = None, **kwargs: Any) -> Any:
        """On symbolic tensors, use the model as a layer of the graph being defined; on arrays,
        compute its outputs (in inference mode unless `training=True`)."""
        if kwargs:
            raise TypeError(
                f"Model {self.name!r} was called with unexpected keyword argument(s) "
                f"{', '.join(sorted(kwargs))}; a model takes inputs and `training`."
            )
        self.build_for(inputs)
        if isinstance(inputs, dict):
            inputs = self.inputs_from_dict(inputs, f"Model {self.name!r}")
            if len(inputs) == 1:
                inputs = inputs[0]
        if is_symbolic(inputs):
            outputs = self._call_symbolic(inputs, training)
            if not isinstance(outputs, list):
                return outputs  # one output: one tensor, to call the next layer on
        else:
            outputs = super().__call__(inputs, training)
        return self.format_outputs(outputs if isinstance(outputs, list) else [outputs])

    # -- weights -----------------------------------------------------------------------------------

    def _weight_label(self, path: str) -> str:
        return path

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"Model {self.name!r} is not built yet, so it has no parameters to count. Give the "
                "first layer an input shape (input_shape=... or an Input), or call build()."
            )
        return super().count_params()

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index in `layers`."""
        if (name is None) == (index is None):
            raise ValueError("get_layer: give exactly one of `name` and `index`.")
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"get_layer: index {index} is out of range for model {self.name!r} with "
                    f"{len(layers)} layers."
                )
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No layer named {name!r} in model {self.name!r}. Its layers are: "
            f"{', '.join(layer.name for layer in layers)}."
        )

    # -- compile and train (neuralnet.training does the work) --------------------------------------

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
            loss: Name, `Loss` instance, or a list/dict with one per output. A model compiled
                without a loss can `predict` but not `fit` (the error comes at `fit`, as in Keras).
            loss_weights: One weight per output for the total cost.
            metrics: List of names/objects (`['accuracy']`), or per output as a list of lists or dict.
            weighted_metrics: Metrics that use `sample_weight` (plain `metrics` ignore it, as Keras 3).

        `run_eagerly`, `steps_per_execution`, `jit_compile` and `auto_scale_loss` are accepted for
        compatibility and have no effect: every step runs eagerly in NumPy.
        """
        from neuralnet.training.trainer import Trainer

        self.optimizer = optimizers_module.get(optimizer)
        self.loss = loss  # as given, as Keras keeps it
        self._trainer = Trainer(self, loss, loss_weights, metrics, weighted_metrics)
        self.compiled = True

    @property
    def trainer(self) -> Any:
        """The `neuralnet.training.Trainer` that `compile` made: the loop, the resolved losses and
        metrics (`trainer.compiled_loss`), the training plan. Raises before `compile`, with
        Keras's message."""
        if not self.compiled:
            raise ValueError(
                f"You must call `compile()` before using the model: model {self.name!r} has no "
                "optimizer or loss yet; call model.compile(optimizer=..., loss=...)."
            )
        return self._trainer

    @property
    def metrics(self) -> list[Any]:
        """The loss tracker, then each compiled metric (built on the first batch); [] before
        compile."""
        return self._trainer.metrics if self._trainer is not None else []

    @property
    def metrics_names(self) -> list[str]:
        return [metric.name for metric in self.metrics]

    def reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

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
        return self.trainer.fit(
            x, y, batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=callbacks,
            validation_split=validation_split, validation_data=validation_data, shuffle=shuffle,
            class_weight=class_weight, sample_weight=sample_weight, initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
            validation_batch_size=validation_batch_size, validation_freq=validation_freq,
        )  # fmt: skip

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
        return self.trainer.evaluate(
            x, y, batch_size=batch_size, verbose=verbose, sample_weight=sample_weight, steps=steps,
            callbacks=callbacks, return_dict=return_dict,
        )  # fmt: skip

    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: Any = "auto",
        steps: int | None = None,
        callbacks: list[callbacks_module.Callback] | None = None,
    ) -> Any:
        """The model's outputs for `x`, computed in batches in inference mode (no compile needed).

        Returns an array (one output), a list of arrays, or a dict for a model with dict outputs.
        """
        from neuralnet.training import trainer

        return trainer.predict(self, x, batch_size=batch_size, verbose=verbose, steps=steps,
                               callbacks=callbacks)  # fmt: skip

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
        return self.trainer.train_on_batch(
            x, y, sample_weight=sample_weight, class_weight=class_weight, return_dict=return_dict
        )

    def test_on_batch(
        self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False
    ) -> Any:
        """The loss and metrics of one batch, in inference mode."""
        return self.trainer.test_on_batch(
            x, y, sample_weight=sample_weight, return_dict=return_dict
        )

    def predict_on_batch(self, x: Any) -> Any:
        """The outputs for one batch, in inference mode."""
        from neuralnet.training import trainer

        return trainer.predict_on_batch(self, x)

    def compute_gradients(
        self, x: list[np.ndarray], y: list[np.ndarray], sample_weight: list[Any] | None = None,
        training: bool = True,
    ) -> tuple[float, list[float], list[np.ndarray]]:  # fmt: skip
        """Forward and backward on one batch (lists of arrays, one per input and output) without
        updating anything. Returns the cost (loss plus regularization), each output's loss and the
        outputs; the gradients are left in each layer's `grads`."""
        return self.trainer.compute_gradients(x, y, sample_weight, training)

    # -- inspection --------------------------------------------------------------------------------

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

    # -- files -------------------------------------------------------------------------------------

    def save(self, filepath: Any, overwrite: bool = True, zipped: bool | None = None,
             **kwargs: Any) -> None:  # fmt: skip
        """Save to a `.keras` file (Keras 3's format: config, weights and, when compiled, the
        optimizer's state), atomically. `neuralnet.models.load_model` and Keras 3 load it."""
        from neuralnet.saving import save_model

        save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def export(self, filepath: Any, format: str = "onnx", verbose: Any = None,
               input_signature: Any = None, **kwargs: Any) -> None:  # fmt: skip
        """Export the model for inference elsewhere, Keras 3's method: `format="onnx"` writes an
        ONNX file (the `[onnx]` extra; `opset=` may be given), computing `predict`."""
        if format != "onnx":
            raise ValueError(
                f"export: neuralnet writes format='onnx' only, received format={format!r} (Keras's "
                "'tf_saved_model' and 'openvino' need TensorFlow or OpenVINO)."
            )
        if input_signature is not None:
            raise ValueError(
                "export: input_signature is not needed: the model's own input shapes are used, "
                "with a dynamic batch axis."
            )
        from neuralnet.export import to_onnx

        to_onnx(self, filepath, **kwargs)
        if verbose:
            print(f"Saved the model as ONNX at {str(filepath)!r}.")

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Save the weights (and the optimizer's state, when compiled) to `.weights.h5`, Keras 3's
        layout, or `.safetensors` (no HDF5 parser: the format for files you will share)."""
        from neuralnet.saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: Any, skip_mismatch: bool = False) -> None:
        """Load weights from `.weights.h5`, `.safetensors` or `.keras`; a file that does not fit
        raises `neuralnet.saving.ModelFileError` and leaves the weights as they were."""
        from neuralnet.saving import load_weights

        load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def to_json(self, **kwargs: Any) -> str:
        """The model's Keras 3 config as JSON (`models.model_from_json` rebuilds it, new weights)."""
        import json

        from neuralnet.saving.keras_config import model_to_keras

        return json.dumps(model_to_keras(self), allow_nan=False, **kwargs)

    # -- configuration -----------------------------------------------------------------------------

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> Self:
        """A new model of this class from `get_config()` (for a subclassed model: its `__init__`
        arguments; `Model.from_config` also takes a functional model's config, as Keras)."""
        if cls is Model and isinstance(config, dict) and "input_layers" in config:
            from neuralnet.models.functional import Functional

            return Functional.from_config(config, custom_objects)  # type: ignore[return-value]
        try:
            return cls(**config)
        except TypeError as error:
            raise TypeError(
                f"Unable to revive {cls.__name__} from its config {config!r}: {error}. A subclassed "
                "model needs get_config() to return the arguments of its __init__ (and from_config() "
                "when they need converting)."
            ) from error


def _holds_layer(value: Any) -> bool:
    if isinstance(value, Layer):
        return True
    if isinstance(value, (list, tuple)):
        return any(isinstance(item, Layer) for item in value)
    if isinstance(value, dict):
        return any(isinstance(item, Layer) for item in value.values())
    return False


def _shape_structure(input_shape: Any) -> Any:
    """A shape, a list of shapes or a dict of shapes, as tuples with the batch axis first."""
    if isinstance(input_shape, dict):
        return {key: tuple(shape) for key, shape in input_shape.items()}
    if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
        return [tuple(shape) for shape in input_shape]
    return tuple(input_shape)
