"""Keras 3 behaviours of the models, their data handling, callbacks and `neuralnet.testing`.

Where a docstring names Keras 3, the expected behaviour or numbers are those of Keras 3.15.1 on the
JAX backend.
"""

import warnings

import numpy as np
import pytest

import neuralnet
from neuralnet import Input, Model, Sequential, callbacks, layers, metrics, optimizers, regularizers
from neuralnet.testing import check_gradients


@pytest.fixture
def float64():
    neuralnet.config.set_floatx("float64")


def _xy(n=10, n_in=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, n_in)).astype("float32")
    y = rng.standard_normal((n, 1)).astype("float32")
    return x, y


def _two_output_model():
    inputs = Input((3,))
    a = layers.Dense(1, name="a")(inputs)
    b = layers.Dense(2, name="b")(inputs)
    return Model(inputs, [a, b])


# -- inputs and outputs given as dicts -------------------------------------------------------------


def test_dict_inputs_are_matched_by_the_keys_of_the_models_inputs_dict():
    """Inputs given as a dict are matched by the keys of the dict the model was built with, as in
    Keras 3, not by the names of the Input layers."""
    a, b = Input((3,), name="ina"), Input((2,), name="inb")
    model = Model({"x1": a, "x2": b}, layers.Dense(1)(layers.Concatenate()([a, b])))
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((5, 3)).astype("float32")
    xb = rng.standard_normal((5, 2)).astype("float32")
    expected = model.predict([xa, xb], verbose=0)
    np.testing.assert_allclose(model.predict({"x1": xa, "x2": xb}, verbose=0), expected)


def test_a_model_with_dict_outputs_predicts_a_dict():
    """A model built with a dict of outputs returns a dict with the same keys from `predict` and
    from `model(x)`, as in Keras 3."""
    inputs = Input((3,))
    model = Model(inputs, {"p": layers.Dense(1)(inputs), "q": layers.Dense(2)(inputs)})
    x, _ = _xy()
    predicted = model.predict(x, verbose=0)
    assert isinstance(predicted, dict) and set(predicted) == {"p", "q"}
    assert predicted["p"].shape == (10, 1) and predicted["q"].shape == (10, 2)
    called = model(x)
    assert isinstance(called, dict)
    np.testing.assert_allclose(called["q"], predicted["q"], rtol=1e-6)


# -- single-output models given one-element lists (Keras 3 accepts them) ---------------------------


def test_single_output_model_accepts_targets_and_weights_as_a_one_element_list():
    """A model with one output, including `Model(inputs, [output])`, accepts `y=[y]` and
    `sample_weight=[w]` and treats them as `y` and `w`, as Keras 3 does."""
    x, y = _xy()
    w = np.linspace(0.5, 1.5, 10).astype("float32")
    inputs = Input((3,))
    for outputs in (layers.Dense(1)(inputs), [layers.Dense(1)(inputs)]):
        model = Model(inputs, outputs)
        model.compile(optimizers.SGD(0.0), "mse")
        plain = model.evaluate(x, y, verbose=0)
        assert model.evaluate(x, [y], verbose=0) == pytest.approx(plain)
        weighted = model.evaluate(x, y, sample_weight=w, verbose=0)
        assert model.evaluate(x, [y], sample_weight=[w], verbose=0) == pytest.approx(weighted)
        model.fit(x, [y], epochs=1, verbose=0)


def test_single_output_model_accepts_compile_arguments_as_one_element_lists():
    """For a model with one output, `loss=['mse']`, `loss_weights=[2.0]` and `metrics=[['mae']]`
    mean the same as `'mse'`, `2.0` and `['mae']`, as in Keras 3."""
    x, y = _xy()
    model = Sequential([Input((3,)), layers.Dense(1, name="out")])
    model.compile(optimizers.SGD(0.0), "mse")
    plain = model.evaluate(x, y, verbose=0)
    model.compile(optimizers.SGD(0.0), loss=["mse"])
    assert model.evaluate(x, y, verbose=0) == pytest.approx(plain)
    model.compile(optimizers.SGD(0.0), loss="mse", loss_weights=[2.0])
    assert model.evaluate(x, y, verbose=0) == pytest.approx(2 * plain)
    model.compile(optimizers.SGD(0.0), loss="mse", metrics=[["mae"]])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(logs) == ["loss", "mae"]


# -- sample weights and class weights --------------------------------------------------------------


def test_validation_split_does_not_apply_class_weight_to_the_validation_loss():
    """`class_weight` weights the training batches only: with `validation_split`, `val_loss` is the
    unweighted loss of the held-out tail, as in Keras 3."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 3)).astype("float32")
    y = rng.integers(0, 2, 20).astype("float32")
    model = Sequential([Input((3,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizers.SGD(0.0), "binary_crossentropy")
    history = model.fit(x, y, validation_split=0.5, class_weight={0: 1.0, 1: 5.0}, shuffle=False,
                        batch_size=4, verbose=0)  # fmt: skip
    assert history.history["val_loss"][0] == pytest.approx(
        model.evaluate(x[10:], y[10:], verbose=0), rel=1e-6
    )


def test_validation_split_uses_the_held_out_sample_weights():
    """With `validation_split`, the tail of `sample_weight` weights the validation loss, as in Keras
    3."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 3)).astype("float32")
    y = rng.integers(0, 2, 20).astype("float32")
    weights = np.linspace(0.1, 2, 20).astype("float32")
    model = Sequential([Input((3,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizers.SGD(0.0), "binary_crossentropy")
    history = model.fit(x, y, validation_split=0.5, sample_weight=weights, shuffle=False,
                        batch_size=4, verbose=0)  # fmt: skip
    assert history.history["val_loss"][0] == pytest.approx(
        model.evaluate(x[10:], y[10:], sample_weight=weights[10:], verbose=0), rel=1e-6
    )


@pytest.mark.parametrize("method", ["fit", "evaluate"])
def test_sample_weight_of_the_wrong_length_is_rejected_before_training(method):
    """A `sample_weight` whose length differs from the number of samples raises a ValueError before
    any step runs, so the weights are left unchanged; Keras 3 likewise refuses the data at once."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3)).astype("float32")
    y = rng.integers(0, 2, 8).astype("float32")
    model = Sequential([Input((3,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizers.SGD(0.1), "binary_crossentropy")
    before = model.get_weights()
    with pytest.raises(ValueError, match="sample"):
        getattr(model, method)(x, y, sample_weight=np.ones(12), batch_size=4, verbose=0)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


@pytest.mark.parametrize("count", [1, 3])
def test_a_list_of_sample_weights_must_have_one_entry_per_output(count):
    """With several outputs, a list of sample weights needs one entry per output; any other length
    raises a ValueError, as in Keras 3."""
    x, ya = _xy(n=12)
    yb = np.random.default_rng(1).standard_normal((12, 2)).astype("float32")
    w = np.linspace(0.1, 2.0, 12).astype("float32")
    model = _two_output_model()
    model.compile(optimizers.SGD(0.0), loss=["mse", "mse"])
    with pytest.raises(ValueError, match="sample_weight"):
        model.evaluate(x, [ya, yb], sample_weight=[w] * count, verbose=0)


# -- layers shared across nesting levels -----------------------------------------------------------


def _shared_across_levels(regularizer=None):
    shared = layers.Dense(3, kernel_regularizer=regularizer, name="shared")
    inner_input = Input((3,))
    inner = Model(inner_input, shared(inner_input), name="inner")
    outer_input = Input((3,))
    outer = Model(outer_input, layers.Add()([inner(outer_input), shared(outer_input)]))
    return outer, shared


def test_a_layer_used_in_a_nested_model_and_in_the_outer_model_is_counted_once():
    """A layer called both inside a nested model and directly in the outer model contributes its
    weights, parameter count and regularization penalty once, as in Keras 3."""
    model, shared = _shared_across_levels(regularizers.L2(0.1))
    assert len(model.weights) == 2
    assert model.count_params() == 12
    assert len(model.trainable_weights) == 2
    model.compile(optimizers.SGD(0.0), "mse")
    x, _ = _xy()
    y = np.random.default_rng(1).standard_normal((10, 3)).astype("float32")
    predicted = model.predict(x, verbose=0).astype(np.float64)
    kernel = shared.params["kernel"].astype(np.float64)
    expected = np.mean((predicted - y) ** 2) + 0.1 * np.sum(kernel**2)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_a_layer_used_in_a_nested_model_and_in_the_outer_model_gets_the_summed_gradient(float64):
    """The same graph in float64: the layer's gradient is the sum of the gradients of its two calls,
    and it matches finite differences."""
    model, _ = _shared_across_levels()
    model.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    report = check_gradients(
        model,
        x=rng.standard_normal((10, 3)),
        y=rng.standard_normal((10, 3)),
        raise_on_failure=False,
    )
    assert report.passed, str(report)


# -- freezing layers between train_on_batch calls --------------------------------------------------


def test_train_on_batch_does_not_update_a_layer_frozen_after_the_first_step():
    """Setting `layer.trainable = False` between two `train_on_batch` calls freezes the layer for
    the next call. Keras 3 never updates a frozen layer (with JAX it refuses the call instead)."""
    x, y = _xy()
    model = Sequential([Input((3,)), layers.Dense(4, name="first"), layers.Dense(1)])
    model.compile(optimizers.SGD(0.1), "mse")
    model.train_on_batch(x, y)
    model.layers[0].trainable = False
    frozen = model.layers[0].params["kernel"].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a warning about the reset state is fine
        model.train_on_batch(x, y)
    np.testing.assert_array_equal(model.layers[0].params["kernel"], frozen)


def test_train_on_batch_of_the_outer_model_does_not_update_a_nested_model_frozen_later():
    """Setting `inner.trainable = False` on a nested model between two `train_on_batch` calls of the
    outer model freezes the nested model for the next call (the GAN and transfer-learning
    pattern)."""
    x, y = _xy()
    inner = Sequential([Input((3,)), layers.Dense(4, name="inner_dense")], name="inner")
    inputs = Input((3,))
    outer = Model(inputs, layers.Dense(1, name="head")(inner(inputs)))
    outer.compile(optimizers.SGD(0.1), "mse")
    outer.train_on_batch(x, y)
    inner.trainable = False
    frozen = inner.layers[0].params["kernel"].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        outer.train_on_batch(x, y)
    np.testing.assert_array_equal(inner.layers[0].params["kernel"], frozen)


# -- activity regularization in nested models ------------------------------------------------------


def test_activity_regularization_inside_a_nested_model_is_part_of_the_loss():
    """The activity penalty of a layer inside a nested model is part of the outer model's loss, as
    it is when the same layers form one flat model, and as in Keras 3."""
    x, y = _xy(n=6)
    inner = Sequential([Input((3,)), layers.Dense(4, activation="tanh",
                        activity_regularizer=regularizers.L2(0.5))], name="inner")  # fmt: skip
    inputs = Input((3,))
    model = Model(inputs, layers.Dense(1)(inner(inputs)))
    model.compile(optimizers.SGD(0.0), "mse")
    hidden = inner.predict(x, verbose=0).astype(np.float64)
    predicted = model.predict(x, verbose=0).astype(np.float64)
    expected = np.mean((predicted - y) ** 2) + 0.5 * np.sum(hidden**2) / len(x)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_activity_regularization_inside_a_nested_model_matches_finite_differences(float64):
    """The same model in float64: the gradient, which includes the nested activity penalty, matches
    finite differences of the cost."""
    inner = Sequential([Input((3,)), layers.Dense(4, activation="tanh",
                        activity_regularizer=regularizers.L2(0.5))], name="inner")  # fmt: skip
    inputs = Input((3,))
    model = Model(inputs, layers.Dense(1)(inner(inputs)))
    model.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    report = check_gradients(
        model, x=rng.standard_normal((6, 3)), y=rng.standard_normal((6, 1)), raise_on_failure=False
    )
    assert report.passed, str(report)


# -- metric objects and names ----------------------------------------------------------------------


def test_compiling_twice_with_the_same_metric_object_keeps_its_name():
    """Compiling again with the same metric object logs it under the same name
    (`a_mean_absolute_error`) each time, as in Keras 3."""
    x, ya = _xy(n=10)
    yb = np.random.default_rng(1).standard_normal((10, 2)).astype("float32")
    model = _two_output_model()
    mae = metrics.MeanAbsoluteError()
    for _ in range(2):
        model.compile("sgd", loss="mse", metrics={"a": [mae]})
        logs = model.evaluate(x, [ya, yb], verbose=0, return_dict=True)
        assert sorted(logs) == ["a_loss", "a_mean_absolute_error", "b_loss", "loss"]


def test_a_metric_object_in_a_flat_list_is_not_shared_by_the_outputs():
    """With two outputs, a flat list holding one metric object is either refused with a ValueError,
    as in Keras 3, or gives each output its own metric; one state is never shared by both
    outputs."""
    x, ya = _xy(n=10)
    yb = np.random.default_rng(1).standard_normal((10, 2)).astype("float32")
    model = _two_output_model()
    try:
        model.compile("sgd", loss="mse", metrics=[metrics.MeanAbsoluteError()])
        logs = model.evaluate(x, [ya, yb], verbose=0, return_dict=True)
    except ValueError:
        return  # refusing the ambiguous list, as Keras 3 does, is also correct
    pa, pb = model.predict(x, verbose=0)
    assert logs["a_mean_absolute_error"] == pytest.approx(np.mean(np.abs(pa - ya)), rel=1e-5)
    assert logs["b_mean_absolute_error"] == pytest.approx(np.mean(np.abs(pb - yb)), rel=1e-5)


def test_metrics_with_the_same_name_are_not_silently_dropped():
    """Two outputs of one shared layer, both named `c`, get two accuracy entries in the logs, with
    unique names (`c_accuracy` and `c_accuracy_1`) as in Keras 3."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3)).astype("float32")
    y1, y2 = np.eye(3)[rng.integers(0, 3, 6)], np.eye(3)[rng.integers(0, 3, 6)]
    classifier = layers.Dense(3, activation="softmax", name="c")
    a, b = Input((3,)), Input((3,))
    model = Model([a, b], [classifier(a), classifier(b)])
    model.compile("sgd", "categorical_crossentropy", metrics=[["accuracy"], ["accuracy"]])
    logs = model.evaluate([x, x[::-1]], [y1, y2], verbose=0, return_dict=True)
    accuracies = [key for key in logs if "accuracy" in key]
    assert len(accuracies) == 2, logs


def test_an_output_without_a_loss_has_no_loss_entry_in_the_logs():
    """An output that has no loss (`loss={'a': 'mse'}` on a two-output model) has no `b_loss` entry
    in the logs, as in Keras 3."""
    x, ya = _xy(n=10)
    yb = np.random.default_rng(1).standard_normal((10, 2)).astype("float32")
    inputs = Input((3,))
    model = Model(inputs, {"a": layers.Dense(1)(inputs), "b": layers.Dense(2)(inputs)})
    model.compile("sgd", loss={"a": "mse"})
    logs = model.evaluate(x, {"a": ya, "b": yb}, verbose=0, return_dict=True)
    assert "b_loss" not in logs


# -- callbacks: Keras 3's hooks and logs -----------------------------------------------------------


class _TestHooks(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_test_begin(self, logs=None):
        self.calls.append(("test_begin", logs))

    def on_test_batch_end(self, batch, logs=None):
        self.calls.append(("test_batch_end", dict(logs)))

    def on_test_end(self, logs=None):
        self.calls.append(("test_end", dict(logs)))


def test_fit_calls_the_test_hooks_of_its_callbacks_during_validation():
    """During validation, fit calls its callbacks' `on_test_begin`, `on_test_batch_end` (once per
    validation batch) and `on_test_end` (with the validation logs) every epoch, as in Keras 3."""
    x, y = _xy()
    model = Sequential([Input((3,)), layers.Dense(1)])
    model.compile(optimizers.SGD(0.0), "mse")
    hooks = _TestHooks()
    history = model.fit(x, y, batch_size=4, epochs=1, validation_split=0.5, callbacks=[hooks],
                        verbose=0)  # fmt: skip
    kinds = [call[0] for call in hooks.calls]
    assert kinds == ["test_begin", "test_batch_end", "test_batch_end", "test_end"]
    assert hooks.calls[-1][1]["loss"] == pytest.approx(history.history["val_loss"][0])


class _LogsRecorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.logs = {}

    def _record(self, hook, logs):
        self.logs.setdefault(hook, logs)

    def on_train_begin(self, logs=None):
        self._record("on_train_begin", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._record("on_epoch_begin", logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._record("on_train_batch_begin", logs)

    def on_train_batch_end(self, batch, logs=None):
        self._record("on_train_batch_end", logs)

    def on_predict_begin(self, logs=None):
        self._record("on_predict_begin", logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._record("on_predict_batch_end", logs)

    def on_predict_end(self, logs=None):
        self._record("on_predict_end", logs)


def test_every_hook_receives_a_dict_of_logs_as_in_keras():
    """Every callback hook receives a dict of logs (`{}` when there is nothing to report), as in
    Keras 3, so callbacks can read or write `logs` in any hook."""
    x, y = _xy()
    model = Sequential([Input((3,)), layers.Dense(1)])
    model.compile(optimizers.SGD(0.0), "mse")
    recorder = _LogsRecorder()
    model.fit(x, y, batch_size=10, epochs=1, callbacks=[recorder], verbose=0)
    model.predict(x, callbacks=[recorder], verbose=0)
    not_dicts = {hook: logs for hook, logs in recorder.logs.items() if not isinstance(logs, dict)}
    assert not not_dicts


def test_predict_batch_logs_carry_the_outputs_as_in_keras():
    """`on_predict_batch_end` receives `{'outputs': batch_outputs}`, as in Keras 3, so callbacks can
    collect the predictions."""
    x, _ = _xy()
    model = Sequential([Input((3,)), layers.Dense(1)])
    recorder = _LogsRecorder()
    model.predict(x, batch_size=10, callbacks=[recorder], verbose=0)
    logs = recorder.logs["on_predict_batch_end"]
    assert "outputs" in logs
    np.testing.assert_allclose(logs["outputs"], model.predict(x, verbose=0), rtol=1e-6)


def test_train_batch_logs_hold_only_the_metrics_as_in_keras():
    """The logs of `on_train_batch_end` hold the running loss and metrics only, as in Keras 3."""
    x, y = _xy()
    model = Sequential([Input((3,)), layers.Dense(1)])
    model.compile(optimizers.SGD(0.0), "mse", metrics=["mae"])
    recorder = _LogsRecorder()
    model.fit(x, y, batch_size=4, epochs=1, callbacks=[recorder], verbose=0)
    assert sorted(recorder.logs["on_train_batch_end"]) == ["loss", "mae"]


# -- gradient checking -----------------------------------------------------------------------------


def test_check_gradients_leaves_batch_normalization_statistics_alone(float64):
    """check_gradients leaves the model as it found it: BatchNormalization's moving statistics, and
    so the model's predictions, are unchanged after the check."""
    model = Sequential([Input((3,)), layers.Dense(4, activation="tanh"),
                        layers.BatchNormalization(), layers.Dense(1)])  # fmt: skip
    model.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 3)), rng.standard_normal((8, 1))
    before = model.predict(x, verbose=0)
    state = {k: v.copy() for k, v in model.layers[1].state.items()}
    check_gradients(model, x=x, y=y)
    for key, value in model.layers[1].state.items():
        np.testing.assert_array_equal(value, state[key], err_msg=key)
    np.testing.assert_array_equal(model.predict(x, verbose=0), before)


def test_check_gradients_of_a_nested_model_does_not_break_the_outer_models_training(float64):
    """Checking the gradients of a model that is nested in another one keeps the nested model's
    input gradient on, so the layers before it in the outer model still learn."""
    rng = np.random.default_rng(0)
    inner = Sequential([Input((4,)), layers.Dense(4, activation="tanh")], name="inner")
    inputs = Input((3,))
    first = layers.Dense(4, name="first")
    outer = Model(inputs, layers.Dense(1)(inner(first(inputs))))
    outer.compile(optimizers.SGD(0.1), "mse")
    inner.compile("sgd", "mse")
    check_gradients(inner, x=rng.standard_normal((8, 4)), y=rng.standard_normal((8, 4)))
    kernel = first.params["kernel"].copy()
    outer.fit(rng.standard_normal((8, 3)), rng.standard_normal((8, 1)), epochs=2, verbose=0)
    assert not np.array_equal(first.params["kernel"], kernel)


def test_check_gradients_passes_a_correct_model_whose_exact_gradient_is_zero(float64):
    """A Dense layer followed by BatchNormalization has an exactly zero bias gradient;
    check_gradients passes it, because an array within `atol` of the finite differences passes."""
    model = Sequential([Input((3,)), layers.Dense(4), layers.BatchNormalization(), layers.Dense(1)])
    model.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    check_gradients(model, x=rng.standard_normal((8, 3)), y=rng.standard_normal((8, 1)))


@pytest.mark.usefixtures("float64")
def test_fan_out_to_an_output_and_a_layer_and_a_shared_softmax_output_layer_have_exact_gradients():
    """Gradients match finite differences for an output that also feeds another layer, for the same
    tensor listed as two outputs, and for a softmax classifier shared by two outputs after a shared
    BatchNormalization."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3))
    y1, y2 = np.eye(3)[rng.integers(0, 3, 6)], np.eye(3)[rng.integers(0, 3, 6)]
    inputs = Input((3,))
    p = layers.Dense(3, activation="softmax")(inputs)
    model = Model(inputs, [p, layers.Dense(1)(p)])
    model.compile("sgd", ["categorical_crossentropy", "mse"], loss_weights=[0.3, 2.0])
    check_gradients(model, x=x, y=[y1, rng.standard_normal((6, 1))])
    twice = Model(inputs, [p, p])
    twice.compile("sgd", ["categorical_crossentropy", "mse"])
    check_gradients(twice, x=x, y=[y1, y1])
    classifier, norm = layers.Dense(3, activation="softmax"), layers.BatchNormalization()
    a, b = Input((3,)), Input((3,))
    shared = Model([a, b], [classifier(norm(a)), classifier(norm(b))])
    shared.compile("sgd", "categorical_crossentropy")
    check_gradients(shared, x=[x, 2 * x[::-1] + 1], y=[y1, y2])


# -- several outputs: logged losses and metrics compared with Keras 3 ------------------------------

# Keras 3.15.1 (JAX) on the same data and initial weights (see `_keras_two_output_setup`).
KERAS_TWO_OUTPUT_SPLIT = {
    "a_loss": 2.6663553714752197, "a_mae": 1.4169756174087524, "b_accuracy": 0.4444444477558136,
    "b_loss": 2.433474540710449, "loss": 5.09982967376709, "val_a_loss": 4.530086040496826,
    "val_a_mae": 1.395246148109436, "val_b_accuracy": 0.3333333432674408,
    "val_b_loss": 0.6828581690788269, "val_loss": 5.212944507598877,
}  # fmt: skip
KERAS_TWO_OUTPUT_ONE_WEIGHT = {
    "a_loss": 3.1322879791259766, "a_mae": 1.4075218439102173, "b_accuracy": 0.4166666567325592,
    "b_loss": 2.3855228424072266, "loss": 5.517810821533203,
}  # fmt: skip


def _keras_two_output_setup():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 3)).astype("float32")
    ya = rng.standard_normal((12, 1)).astype("float32")
    yb = rng.integers(0, 3, 12)
    sa = np.linspace(0.1, 2, 12).astype("float32")
    sb = np.linspace(2, 0.1, 12).astype("float32")
    inputs = Input((3,))
    model = Model(inputs, [layers.Dense(1, name="a")(inputs),
                           layers.Dense(3, activation="softmax", name="b")(inputs)])  # fmt: skip
    model.set_weights([rng.standard_normal(w.shape).astype("float32") for w in model.get_weights()])
    model.compile(optimizers.SGD(0.0), loss={"a": "mse", "b": "sparse_categorical_crossentropy"},
                  metrics={"b": ["accuracy"]}, weighted_metrics={"a": ["mae"]})  # fmt: skip
    return model, x, ya, yb, sa, sb


def test_two_outputs_with_per_output_sample_weights_and_validation_split_match_keras():
    """Dict targets, a dict of per-output sample weights, a weighted metric on one output, a plain
    metric on the other and validation_split: every logged number equals Keras 3's."""
    model, x, ya, yb, sa, sb = _keras_two_output_setup()
    history = model.fit(x, {"a": ya, "b": yb}, sample_weight={"a": sa, "b": sb},
                        validation_split=0.25, shuffle=False, batch_size=5, verbose=0)  # fmt: skip
    assert sorted(history.history) == sorted(KERAS_TWO_OUTPUT_SPLIT)
    for key, value in KERAS_TWO_OUTPUT_SPLIT.items():
        assert history.history[key][0] == pytest.approx(value, rel=2e-6), key


def test_one_sample_weight_array_is_used_for_every_output_as_in_keras():
    """One `sample_weight` array for a two-output model weights every output; every logged number
    equals Keras 3's."""
    model, x, ya, yb, sa, _ = _keras_two_output_setup()
    history = model.fit(x, [ya, yb], sample_weight=sa, shuffle=False, batch_size=5, verbose=0)
    for key, value in KERAS_TWO_OUTPUT_ONE_WEIGHT.items():
        assert history.history[key][0] == pytest.approx(value, rel=2e-6), key


def test_per_output_losses_are_logged_unweighted_and_the_total_is_weighted():
    """With `loss_weights=[2.0, 0.5]`, `a_loss` and `b_loss` are the unweighted losses and `loss =
    2·a_loss + 0.5·b_loss`; `evaluate` lists loss, the output losses, then the metrics, as in Keras
    3."""
    x, ya = _xy(n=10)
    yb = np.random.default_rng(1).standard_normal((10, 2)).astype("float32")
    model = _two_output_model()
    model.compile(optimizers.SGD(0.0), loss=["mse", "mse"], loss_weights=[2.0, 0.5],
                  metrics=[["mae"], ["mae"]])  # fmt: skip
    logs = model.evaluate(x, [ya, yb], verbose=0, return_dict=True)
    pa, pb = model.predict(x, verbose=0)
    assert logs["a_loss"] == pytest.approx(np.mean((pa - ya) ** 2), rel=1e-5)
    assert logs["b_loss"] == pytest.approx(np.mean((pb - yb) ** 2), rel=1e-5)
    assert logs["loss"] == pytest.approx(2.0 * logs["a_loss"] + 0.5 * logs["b_loss"], rel=1e-6)
    assert model.metrics_names == ["loss", "a_loss", "b_loss", "a_mae", "b_mae"]
    assert model.evaluate(x, [ya, yb], verbose=0) == pytest.approx(
        [logs[name] for name in model.metrics_names]
    )


# -- data handling ---------------------------------------------------------------------------------


def test_training_and_inference_neither_modify_the_inputs_nor_return_arrays_that_change_later():
    """Training leaves the given x, y and sample weights unchanged, and the arrays returned by
    `predict`, `predict_on_batch` and `model(x)` do not change on later calls."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 3)).astype("float32")
    y = rng.integers(0, 3, 10)
    w = rng.uniform(0.5, 1.0, 10).astype("float32")
    originals = (x.copy(), y.copy(), w.copy())
    model = Sequential([Input((3,)), layers.Dense(4, activation="relu"), layers.BatchNormalization(),
                        layers.Dropout(0.3), layers.Dense(3, activation="softmax")])  # fmt: skip
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, sample_weight=w, epochs=2, batch_size=3, validation_split=0.2, verbose=0)
    model.train_on_batch(x, y, sample_weight=w)
    for original, given in zip(originals, (x, y, w)):
        np.testing.assert_array_equal(original, given)
    for predict in (lambda a: model.predict(a, verbose=0), model.predict_on_batch, model):
        first = predict(x)
        kept = first.copy()
        predict(2 * x)
        np.testing.assert_array_equal(first, kept)


def test_a_batch_larger_than_the_data_is_one_step():
    """A `batch_size` larger than the data gives one training step per epoch."""
    x, y = _xy(n=10)
    model = Sequential([Input((3,)), layers.Dense(1)])
    model.compile(optimizers.SGD(0.1), "mse")
    model.fit(x, y, batch_size=100, epochs=1, verbose=0)
    assert int(model.optimizer.iterations) == 1


# -- rebuilding a Sequential -----------------------------------------------------------------------


def test_rebuilding_a_sequential_keeps_one_node_per_layer():
    """After build, add, pop and build again, each layer has one node, so `layer.input` and
    `layer.output` describe the current graph."""
    x, _ = _xy()
    model = Sequential([layers.Dense(4)])
    model.build((None, 3))
    model.add(layers.Dense(2))
    model.pop()
    model.add(layers.Dense(5))
    model.build((None, 3))
    assert [len(layer._inbound_nodes) for layer in model.layers] == [1, 1]
    assert model.layers[1].output is model.outputs[0]
    assert model.predict(x, verbose=0).shape == (10, 5)


# -- Keras 3 behaviours pinned by running keras 3.15.1 ---------------------------------------------


def test_compile_without_a_loss_predicts_and_fails_at_fit_with_keras_message():
    model = Sequential([Input((2,)), layers.Dense(1)])
    model.compile("adam")
    assert model.predict(np.ones((3, 2)), verbose=0).shape == (3, 1)
    for method in ("fit", "evaluate", "train_on_batch"):
        with pytest.raises(ValueError, match=r"No loss to compute. Provide a `loss` argument in"):
            getattr(model, method)(np.ones((3, 2)), np.ones((3, 1)))


def test_a_functional_model_as_the_first_layer_of_a_sequential_builds_it_at_once():
    i = Input((4,))
    inner = Model(i, layers.Dense(3, name="inner_dense")(i))
    for stack in ([inner, layers.Dense(1)], [Input((4,)), inner, layers.Dense(1)]):
        model = Sequential(stack)
        assert model.built and model.layers[0] is inner
        assert [w.shape for w in model.weights] == [(4, 3), (3,), (3, 1), (1,)]
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).standard_normal((6, 4)).astype("float32")
    expected = model.layers[1](inner(x))
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6)


def test_an_unbuilt_sequential_called_inside_a_functional_model_is_built_by_the_call():
    stack = Sequential([layers.Dense(3)])
    x = Input((4,))
    model = Model(x, layers.Dense(1)(stack(x)))
    assert stack.built and [w.shape for w in model.weights] == [(4, 3), (3,), (3, 1), (1,)]
    model.compile("sgd", "mse")
    before = stack.get_weights()
    model.fit(np.ones((8, 4)), np.zeros((8, 1)), verbose=0)
    assert not np.array_equal(before[0], stack.get_weights()[0])


def test_learning_rate_schedules_live_in_optimizers_schedules_as_in_keras():
    schedule = neuralnet.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert neuralnet.schedules.ExponentialDecay is neuralnet.optimizers.schedules.ExponentialDecay
    assert schedule(10) == pytest.approx(0.05)


def test_clear_session_is_in_backend_and_utils_and_restarts_names():
    assert neuralnet.backend.clear_session is neuralnet.utils.clear_session
    layers.Dense(1)
    neuralnet.backend.clear_session()
    assert layers.Dense(1).name == "dense"


def test_model_weights_read_as_keras_variables():
    model = Sequential([Input((2,)), layers.Dense(3, name="d")], name="seq")
    kernel = model.weights[0]
    assert isinstance(kernel, neuralnet.Variable) and isinstance(kernel, np.ndarray)
    assert (kernel.name, kernel.path, kernel.shape, str(kernel.dtype)) == (
        "kernel", "seq/d/kernel", (2, 3), "float32"
    )  # fmt: skip
    assert kernel.trainable and not model.non_trainable_weights
    values = kernel.numpy()
    assert type(values) is np.ndarray and not np.shares_memory(values, kernel)
    assert type(kernel + 1) is np.ndarray and type(kernel[0]) is np.ndarray
    kernel.assign(np.full((2, 3), 0.5))
    np.testing.assert_array_equal(model.get_layer("d").params["kernel"], 0.5)
    with pytest.raises(ValueError, match=r"assign\(\) received shape \(3,\)"):
        kernel.assign(np.ones(3))
    assert all(type(w) is np.ndarray for w in model.get_weights())


def test_layers_have_keras_dtype():
    assert layers.Dense(2).dtype == "float32"
    assert layers.Dense(2, dtype="float64").dtype == "float64"
    dense = layers.Dense(2)
    dense(np.ones((1, 3)))
    assert dense.dtype == dense.compute_dtype == dense.variable_dtype == "float32"
