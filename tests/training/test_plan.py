"""The training plan: what a step trains and regularizes, following every change of the graph."""

import numpy as np
import pytest

from neuralnet import Input, Model, Sequential, layers, optimizers, regularizers


def _regularized(trainable):
    model = Sequential(
        [Input((3,)), layers.Dense(2, kernel_regularizer=regularizers.L2(0.5), name="d")]
    )
    model.get_layer("d").trainable = trainable
    model.compile(optimizers.SGD(learning_rate=0.1), "mse")
    return model


def test_a_frozen_layer_adds_no_penalty_to_the_loss_nor_to_model_losses():
    # Keras 3 sums the penalties of trainable weights only (probed on keras 3.15.1).
    x = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")
    y = np.zeros((5, 2), dtype="float32")
    frozen = _regularized(trainable=False)
    plain_mse = float(np.mean(np.square(frozen.predict(x, verbose=0) - y)))
    assert frozen.losses == [] and frozen.get_layer("d").losses == []
    assert frozen.evaluate(x, y, verbose=0) == pytest.approx(plain_mse, rel=1e-6)
    before = frozen.get_weights()
    assert frozen.train_on_batch(x, y) == pytest.approx(plain_mse, rel=1e-6)
    for a, b in zip(before, frozen.get_weights()):
        np.testing.assert_array_equal(a, b)

    trained = _regularized(trainable=True)
    kernel = trained.get_layer("d").params["kernel"].astype(np.float64)
    penalty = 0.5 * float(np.sum(kernel**2))
    assert trained.losses == [pytest.approx(penalty, rel=1e-6)]
    mse = float(np.mean(np.square(trained.predict(x, verbose=0) - y)))
    assert trained.evaluate(x, y, verbose=0) == pytest.approx(mse + penalty, rel=1e-6)


def test_a_frozen_nested_model_adds_no_penalty():
    inner_in = Input((3,))
    inner = Model(inner_in, layers.Dense(2, kernel_regularizer="l2")(inner_in))
    x = Input((3,))
    outer = Model(x, layers.Dense(1)(inner(x)))
    assert len(outer.losses) == 1
    inner.trainable = False
    assert outer.losses == []


def test_unfreezing_a_layer_between_steps_trains_it_at_the_next_step():
    x = np.ones((4, 3), dtype="float32")
    y = np.ones((4, 2), dtype="float32")
    model = _regularized(trainable=False)
    model.train_on_batch(x, y)
    model.get_layer("d").trainable = True
    before = model.get_weights()
    model.train_on_batch(x, y)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_fit_trains_the_layers_added_since_the_last_fit():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 4)).astype("float32")
    model = Sequential([Input((4,)), layers.Dense(3)])
    model.compile("adam", "mse")
    model.fit(x, rng.standard_normal((16, 3)), verbose=0)
    model.add(layers.Dense(1))
    before = model.get_weights()
    model.fit(x, rng.standard_normal((16, 1)), verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.optimizer.iterations == 2
