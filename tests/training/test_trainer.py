"""The training loop: what fit/evaluate/predict compute, the fused gradient, errors, seeds, progress."""

import re

import numpy as np
import pytest

import neuralnet
from neuralnet import Input, Sequential, layers, losses, optimizers
from neuralnet.testing import check_gradients


def _classifier(n_in=4, n_classes=3, **dense):
    return Sequential([Input((n_in,)), layers.Dense(8, activation="tanh", **dense),
                       layers.Dense(n_classes, activation="softmax")])  # fmt: skip


def _data(n=50, n_in=4, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, n_in)).astype("float32")
    y = rng.integers(0, n_classes, n)
    return x, y


# -- what the loop computes -------------------------------------------------------------------------


def test_epoch_loss_and_metrics_are_weighted_over_all_samples_not_batch_means():
    x, y = _data(n=10)
    model = _classifier()
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    # batches of 4, 4 and 2 samples: a mean of batch means would weight the last two samples double
    history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    probs = model.predict(x, verbose=0)
    per_sample = -np.log(np.clip(probs[np.arange(10), y], 1e-7, 1 - 1e-7))
    assert history.history["loss"][0] == pytest.approx(per_sample.mean(), rel=1e-6)
    assert history.history["accuracy"][0] == pytest.approx(np.mean(probs.argmax(1) == y))
    batch_means = np.mean([per_sample[:4].mean(), per_sample[4:8].mean(), per_sample[8:].mean()])
    assert abs(history.history["loss"][0] - batch_means) > 1e-4  # the two really differ here


def test_reported_loss_includes_the_l2_penalty_once_per_batch():
    x, y = _data(n=8)
    model = _classifier(kernel_regularizer=neuralnet.regularizers.L2(0.5))
    model.compile(optimizer=optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    loss = model.evaluate(x, y, verbose=0)
    kernel = model.layers[0].params["kernel"]
    data_loss = losses.SparseCategoricalCrossentropy()(y, model.predict(x, verbose=0))
    assert loss == pytest.approx(
        data_loss + 0.5 * float(np.sum(kernel.astype(np.float64) ** 2)), rel=1e-6
    )


def test_fused_softmax_cross_entropy_gradient_equals_the_unfused_path():
    neuralnet.config.set_floatx("float64")
    x, y = _data(n=12)
    fused, unfused = _classifier(), _classifier()
    unfused.set_weights(fused.get_weights())
    for model in (fused, unfused):
        model.compile("sgd", "sparse_categorical_crossentropy")
    unfused.call_graph().graph.fusable = [None]  # force dJ/dp then the softmax Jacobian
    fused.compute_gradients([x.astype(np.float64)], [y])
    unfused.compute_gradients([x.astype(np.float64)], [y])
    for a, b in zip(fused.layers, unfused.layers):
        for key in a.grads:
            np.testing.assert_allclose(a.grads[key], b.grads[key], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("loss", ["categorical_crossentropy", "sparse_categorical_crossentropy"])
def test_fused_gradient_is_exact_and_finite_for_huge_logits(loss):
    model = Sequential([Input((2,)), layers.Dense(3, activation="softmax", use_bias=False)])
    model.compile("sgd", loss)
    model.set_weights([np.array([[1e4, -1e4, 0.0], [0.0, 0.0, 0.0]], dtype="float32")])
    x = np.array([[1.0, 0.0], [-1.0, 0.0]], dtype="float32")  # logits ±1e4
    labels = np.array([1, 1])
    y = labels if loss.startswith("sparse") else np.eye(3, dtype="float32")[labels]
    cost, _, outputs = model.compute_gradients([x], [y])
    grad_kernel = model.layers[0].grads["kernel"]
    assert np.all(np.isfinite(grad_kernel))
    p = outputs[0].astype(np.float64)
    expected = x.T.astype(np.float64) @ ((p - np.eye(3)[labels]) / 2)  # dW = xᵀ (p − y)/N
    np.testing.assert_allclose(grad_kernel, expected, rtol=1e-6)
    assert cost == pytest.approx(-np.log(1e-7) / 2, rel=1e-5)  # one sample at the 16.118 cap


def test_model_gradients_match_finite_differences_with_dense_batchnorm_dropout_and_l2():
    neuralnet.config.set_floatx("float64")
    model = Sequential([
        Input((4,)),
        layers.Dense(6, activation="relu", kernel_regularizer=neuralnet.regularizers.L2(0.01)),
        layers.BatchNormalization(),
        layers.Dropout(0.3, seed=3),
        layers.Dense(3, activation="softmax"),
    ])  # fmt: skip
    model.compile("sgd", "categorical_crossentropy")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((10, 4))
    y = np.eye(3)[rng.integers(0, 3, 10)]
    report = check_gradients(model, x=x, y=y)
    assert set(report.errors) >= {"x", "dense/kernel", "dense/bias", "batch_normalization/gamma",
                                  "batch_normalization/beta", "dense_1/kernel", "dense_1/bias"}  # fmt: skip
    assert report.max_error < 1e-6


def test_evaluate_returns_a_float_a_list_or_a_dict_like_keras():
    x, y = _data()
    model = _classifier()
    model.compile("sgd", "sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)
    model.compile(
        "sgd",
        "sparse_categorical_crossentropy",
        metrics=["accuracy", "sparse_top_k_categorical_accuracy"],
    )
    values = model.evaluate(x, y, verbose=0)
    as_dict = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(as_dict) == ["accuracy", "loss", "sparse_top_k_categorical_accuracy"]
    assert values == [
        as_dict["loss"],
        as_dict["accuracy"],
        as_dict["sparse_top_k_categorical_accuracy"],
    ]
    assert as_dict["sparse_top_k_categorical_accuracy"] == 1.0  # k=5 >= 3 classes


def test_predict_in_batches_equals_one_forward_pass():
    x, _ = _data(n=70)
    model = _classifier()
    whole = model.predict(x, batch_size=1000, verbose=0)
    np.testing.assert_allclose(model.predict(x, batch_size=16, verbose=0), whole, rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x), whole, rtol=1e-6)
    assert model.predict(x[:0], verbose=0).shape == (0, 3)


def test_validation_data_and_validation_freq():
    x, y = _data(n=40)
    model = _classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x[:30], y[:30], validation_data=(x[30:], y[30:]), epochs=4, validation_freq=2, verbose=0
    )
    assert len(history.history["loss"]) == 4 and len(history.history["val_loss"]) == 2


def test_validation_split_takes_the_last_samples_before_shuffling():
    x, y = _data(n=40)
    model = _classifier()
    model.compile(optimizer=optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, validation_split=0.25, epochs=1, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(
        model.evaluate(x[30:], y[30:], verbose=0), rel=1e-6
    )
    assert history.history["loss"][0] == pytest.approx(
        model.evaluate(x[:30], y[:30], verbose=0), rel=1e-6
    )


def test_initial_epoch_resumes_the_epoch_count():
    x, y = _data()
    model = _classifier()
    model.compile("sgd", "sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=5, initial_epoch=3, verbose=0)
    assert history.epoch == [3, 4]


def test_steps_per_epoch_continues_through_the_data():
    x, y = _data(n=10)
    model = _classifier()
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=4, steps_per_epoch=2, epochs=3, verbose=0)
    assert model.optimizer.iterations == 6


def test_sample_weight_zero_removes_samples_from_the_gradient():
    x, y = _data(n=8)
    a, b = _classifier(), _classifier()
    b.set_weights(a.get_weights())
    a.compile(optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    b.compile(optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    weights = np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype="float32")
    a.fit(x, y, sample_weight=weights, batch_size=8, epochs=1, verbose=0)
    # Keras divides by the batch size, not by the sum of the weights: half the weights halve the step
    b.optimizer.learning_rate = 0.25
    b.fit(x[:4], y[:4], batch_size=4, epochs=1, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-7)


def test_frozen_layers_are_not_updated():
    x, y = _data()
    model = _classifier()
    model.layers[0].trainable = False
    before = model.layers[0].get_weights()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    for old, new in zip(before, model.layers[0].get_weights()):
        np.testing.assert_array_equal(old, new)
    assert len(model.trainable_weights) == 2


# -- seeds ------------------------------------------------------------------------------------------


def _seeded_run(seed):
    neuralnet.utils.clear_session()
    neuralnet.utils.set_random_seed(seed)
    x, y = _data(n=64)
    model = Sequential([Input((4,)), layers.Dense(16, activation="relu"), layers.Dropout(0.3),
                        layers.Dense(3, activation="softmax")])  # fmt: skip
    initial = model.get_weights()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0)  # shuffled
    return initial, history.history, model.get_weights()


def test_the_same_seed_gives_bit_identical_weights_and_history():
    first, second = _seeded_run(7), _seeded_run(7)
    for a, b in zip(first[0] + first[2], second[0] + second[2]):
        np.testing.assert_array_equal(a, b)
    assert first[1] == second[1]
    other = _seeded_run(8)
    assert not np.array_equal(first[0][0], other[0][0])
    assert first[1] != other[1]


# -- progress ---------------------------------------------------------------------------------------


def test_verbose_two_prints_one_line_per_epoch_and_zero_prints_nothing(capsys):
    x, y = _data()
    model = _classifier()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=2, verbose=2, validation_split=0.2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert re.match(
        r"Epoch 1/2 - .* - accuracy: \d\.\d{4} - loss: \d\.\d{4} - val_accuracy: .* - val_loss: ",
        lines[0],
    )
    assert "\r" not in "".join(lines)


def test_verbose_one_draws_a_progress_bar(capsys):
    x, y = _data()
    model = _classifier()
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=10, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/1" in out and "5/5" in out and "loss" in out


# -- errors at the boundary -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch", "test_on_batch"])
def test_training_before_compile_is_keras_value_error(method):
    x, y = _data()
    with pytest.raises(ValueError, match=r"You must call `compile\(\)` before using the model"):
        getattr(_classifier(), method)(x, y)


def test_predict_needs_no_compile():
    x, _ = _data()
    assert _classifier().predict(x, verbose=0).shape == (len(x), 3)


def test_x_and_y_of_different_lengths():
    x, y = _data()
    model = _classifier()
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="x has 50 samples, y has 49 samples"):
        model.fit(x, y[:-1], verbose=0)


def test_wrong_feature_dimension_names_the_layer_and_both_shapes():
    _x, y = _data()
    model = _classifier()
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(
        ValueError, match=r"expects input .* of shape \(None, 4\).*Dense 'dense'.*\(50, 5\)"
    ):
        model.fit(np.ones((50, 5)), y, verbose=0)
    with pytest.raises(ValueError, match=r"\(None, 4\).*\(3, 5\)"):
        model.predict(np.ones((3, 5)), verbose=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_in_x_or_y(bad):
    x, _y = _data()
    model = Sequential([Input((4,)), layers.Dense(2)])
    model.compile("sgd", "mse")
    x_bad = x.copy()
    x_bad[7, 2] = bad
    with pytest.raises(
        ValueError, match=r"`x` contains 1 (NaN|infinite) value \(first in sample 7\)"
    ):
        model.fit(x_bad, np.ones((50, 2)), verbose=0)
    y_bad = np.ones((50, 2))
    y_bad[3, 0] = bad
    with pytest.raises(ValueError, match=r"`y` contains 1 .* \(first in sample 3\)"):
        model.fit(x, y_bad, verbose=0)


def test_sparse_labels_out_of_range_or_not_integers():
    x, y = _data()
    model = _classifier()
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(
        ValueError, match=r"class labels must be in \[0, 2\].*received labels from 0 to 3"
    ):
        model.fit(x, np.where(y == 2, 3, y), verbose=0)
    with pytest.raises(ValueError, match="whole numbers, received 0.5"):
        model.fit(x, np.full(50, 0.5), verbose=0)


def test_targets_whose_shape_does_not_fit_the_loss():
    x, y = _data()
    model = _classifier()
    model.compile("sgd", "categorical_crossentropy")
    with pytest.raises(
        ValueError,
        match=r"targets shaped like the model's output \(None, 3\).*\(None,\).*sparse_categorical",
    ):
        model.fit(x, y, verbose=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="look one-hot encoded: use 'categorical_crossentropy'"):
        model.fit(x, np.eye(3)[y], verbose=0)


def test_unknown_names_at_compile_suggest_the_close_match():
    model = _classifier()
    with pytest.raises(ValueError, match="Unknown optimizer 'adma'. Did you mean 'adam'"):
        model.compile(optimizer="adma", loss="mse")
    with pytest.raises(
        ValueError,
        match="Unknown loss 'categorical_crosentropy'. Did you mean 'categorical_crossentropy'",
    ):
        model.compile(optimizer="adam", loss="categorical_crosentropy")
    with pytest.raises(ValueError, match="Unknown metric 'acuracy'"):
        model.compile(optimizer="adam", loss="mse", metrics=["acuracy"])


def test_crossentropy_alias_is_resolved_from_the_shapes():
    x, y = _data()
    model = _classifier()
    model.compile("sgd", "crossentropy", metrics=["acc"])
    history = model.fit(x, y, epochs=1, verbose=0)
    assert isinstance(model.trainer.compiled_loss.losses[0], losses.SparseCategoricalCrossentropy)
    assert sorted(history.history) == ["acc", "loss"]


def test_a_layer_that_replaces_its_gradient_array_is_reported():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.add_weight("w", (input_shape[-1],), "ones")

        def forward(self, x, *, training=False):
            self._x = x
            return x * self.params["w"]

        def backward(self, grad_y):
            self.grads["w"] = np.sum(
                grad_y * self._x, axis=0
            )  # a new array: the optimizer never sees it
            return grad_y * self.params["w"]

    model = Sequential([Input((2,)), Scale()])
    model.compile("sgd", "mse")
    with pytest.raises(
        RuntimeError, match=r"replaced its array grads\['w'\] instead of writing into it"
    ):
        model.fit(np.ones((4, 2)), np.zeros((4, 2)), verbose=0)


def test_class_weight_needs_class_labels_and_one_output():
    model = Sequential([Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.raises(
        ValueError, match="needs class labels .* received target values from -1 to 2.5"
    ):
        model.fit(
            np.ones((3, 2)), np.array([[-1.0], [0.0], [2.5]]), class_weight={0: 1.0}, verbose=0
        )
    model = _classifier()
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = _data()
    with pytest.raises(
        ValueError, match="class_weight has an entry for class 5, but the targets have 3 classes"
    ):
        model.fit(x, y, class_weight={0: 1.0, 5: 2.0}, verbose=0)


def test_compute_gradients_works_before_the_first_fit():
    x, y = _data(n=8)
    model = _classifier()
    model.compile("sgd", "sparse_categorical_crossentropy")
    loss, _, _ = model.compute_gradients([x], [y])
    assert loss > 0.5 and np.abs(model.layers[0].grads["kernel"]).sum() > 0


def test_a_model_subclass_without_call_is_refused_clearly():
    class MyModel(neuralnet.Model):
        pass

    model = MyModel()
    model.compile("sgd", "mse")
    with pytest.raises(NotImplementedError, match=r"has no call\(\) and no graph"):
        model.fit(np.ones((2, 2)), np.ones((2, 2)), verbose=0)
