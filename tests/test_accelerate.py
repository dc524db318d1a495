"""The optional numba kernels give exactly the numbers of the NumPy code they replace."""

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

import neuralnet
from neuralnet import Input, Sequential, layers, optimizers


@pytest.fixture(autouse=True)
def _restore_accelerator():
    yield
    neuralnet.config.set_accelerator("auto")


def _adam_run(accelerator, dtype, amsgrad=False):
    neuralnet.config.set_accelerator(accelerator)
    rng = np.random.default_rng(0)
    shapes = [(17, 9), (9,), (3, 4, 5)]
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    optimizer = optimizers.Adam(learning_rate=0.01, amsgrad=amsgrad)
    for step in range(30):
        if step == 15:
            optimizer.learning_rate = 0.003
        grads = [np.random.default_rng(step).standard_normal(s).astype(dtype) for s in shapes]
        optimizer.apply(grads, params)
    return params, optimizer.variables


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_adam_is_bit_identical_to_numpy(dtype):
    pytest.importorskip("numba")
    fused, fused_state = _adam_run("numba", dtype)
    plain, plain_state = _adam_run(None, dtype)
    for a, b in zip(fused, plain):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b)
    for key in plain_state:
        np.testing.assert_array_equal(fused_state[key], plain_state[key])


def _train_both_ways(make_model, x, y, seed, **fit_args):
    """Train the model `make_model()` builds on (x, y) with the kernels and without them, from the
    same seed; assert that the histories, weights and predictions are the same to the last bit."""
    pytest.importorskip("numba")
    results = []
    for accelerator in ("numba", None):
        neuralnet.config.set_accelerator(accelerator)
        neuralnet.utils.set_random_seed(seed)
        model = make_model()
        history = model.fit(x, y, verbose=0, **fit_args)
        results.append((history.history, model.get_weights(), model.predict(x, verbose=0)))
    (history, weights, predicted), (plain_history, plain_weights, plain_predicted) = results
    assert history == plain_history
    assert [w.dtype for w in weights] == [w.dtype for w in plain_weights]
    for a, b in zip([*weights, predicted], [*plain_weights, plain_predicted]):
        np.testing.assert_array_equal(a, b)


def test_a_training_run_is_identical_with_and_without_the_accelerator():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 5)).astype("float32")
    y = rng.integers(0, 3, 64)

    def make_model():
        model = Sequential(
            [Input((5,)), layers.Dense(8, activation="relu"), layers.Dense(3, activation="softmax")]
        )
        model.compile("adam", "sparse_categorical_crossentropy")
        return model

    _train_both_ways(make_model, x, y, seed=3, batch_size=16, epochs=3)


def test_set_accelerator_validates_its_argument():
    with pytest.raises(ValueError, match="expected 'auto', 'numba' or None, received 'cuda'"):
        neuralnet.config.set_accelerator("cuda")
    neuralnet.config.set_accelerator(None)
    assert neuralnet.config.accelerator() is None


def test_fused_adam_flushes_subnormal_moments_to_zero():
    pytest.importorskip("numba")
    neuralnet.config.set_accelerator("numba")
    param = np.ones(4, dtype="float32")
    optimizer = optimizers.Adam(learning_rate=1e-3)
    optimizer.apply([np.full(4, 1.0, dtype="float32")], [param])
    zero = np.zeros(4, dtype="float32")
    for _ in range(900):  # m decays as 0.9^t: below the smallest normal float32 after ~830 steps
        optimizer.apply([zero], [param])
    momentum = optimizer.variables["variable_0/momentum"]
    assert np.all(momentum == 0.0)
    assert np.all(np.isfinite(param))


def _dense_relu_pass(accelerator, dtype, x, grad_y, kernel, bias):
    neuralnet.config.set_accelerator(accelerator)
    layer = layers.Dense(kernel.shape[1], activation="relu", dtype=dtype)
    layer.build(x.shape)
    layer.params["kernel"][...] = kernel
    layer.params["bias"][...] = bias
    with np.errstate(all="ignore"):  # the NaN and infinite entries are on purpose
        y = layer.forward(x.astype(dtype), training=True).copy()
        grad_x = layer.backward(grad_y.astype(dtype))
    return y, grad_x, layer.grads["kernel"].copy(), layer.grads["bias"].copy()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("rows", [0, 1, 7, 64])
def test_compiled_dense_relu_is_bit_identical_to_numpy(dtype, rows):
    """Dense + ReLU forward (bias and ReLU in one pass) and backward (ReLU mask and bias gradient
    in one pass) give NumPy's numbers exactly, NaN, infinity and −0 included."""
    pytest.importorskip("numba")
    rng = np.random.default_rng(rows)
    x = rng.standard_normal((rows, 6))
    grad_y = rng.standard_normal((rows, 5)) * np.exp(rng.standard_normal((rows, 5)) * 4)
    kernel = rng.standard_normal((6, 5))
    bias = np.array([0.5, -0.5, 0.0, -0.0, 2.0])
    if rows > 1:
        x[0, 0] = np.nan  # a NaN input: row 0 of y is NaN where the kernel column mixes it in
        grad_y[1, :] = [np.inf, -np.inf, np.nan, -0.0, 1e-30]
    results = [_dense_relu_pass(a, dtype, x, grad_y, kernel, bias) for a in ("numba", None)]
    for compiled, plain in zip(*results):
        if plain is None:
            assert compiled is None
            continue
        assert compiled.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(compiled, plain)
        assert np.array_equal(np.signbit(compiled), np.signbit(plain))


def test_compiled_dense_relu_matches_the_numpy_path_through_a_trained_model():
    """A model with two ReLU layers, one of them shared, trained with and without the kernels:
    the same losses and weights to the last bit (the shared layer's gradients are summed)."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((48, 4)).astype("float32")
    y = rng.standard_normal((48, 3)).astype("float32")

    def make_model():
        inputs = neuralnet.Input((4,))
        shared = layers.Dense(4, activation="relu")
        h = shared(shared(inputs))
        outputs = layers.Dense(3)(layers.Dense(6, activation="relu")(h))
        model = neuralnet.Model(inputs, outputs)
        model.compile(optimizers.Adam(0.01), "mse")
        return model

    _train_both_ways(make_model, x, y, seed=11, batch_size=16, epochs=4)


def test_adam_step_reuses_flat_views_until_the_arrays_change():
    """The compiled Adam step keeps its flattened views while the same arrays come back and makes
    new ones when they change (a rebuild after freezing a layer, or new gradient arrays)."""
    pytest.importorskip("numba")
    neuralnet.config.set_accelerator("numba")
    params = [np.ones((3, 2), dtype="float32"), np.zeros(2, dtype="float32")]
    grads = [np.full((3, 2), 0.5, dtype="float32"), np.full(2, -1.0, dtype="float32")]
    optimizer = optimizers.Adam(0.1)
    optimizer.apply(grads, params)
    views = optimizer._flat_cache[2]
    optimizer.apply(grads, params)
    assert optimizer._flat_cache[2] is views
    # two steps of lr·sign(g), less ε's share
    np.testing.assert_allclose(params[0], 1.0 - 0.2, rtol=1e-5)
    np.testing.assert_allclose(params[1], 0.2, rtol=1e-5)
    optimizer.apply([g.copy() for g in grads], params)
    assert optimizer._flat_cache[2] is not views
    np.testing.assert_allclose(params[0], 1.0 - 0.3, rtol=1e-5)


def _layer_pass(accelerator, layer_factory, x, grad_y, training=True):
    neuralnet.config.set_accelerator(accelerator)
    neuralnet.utils.set_random_seed(5)
    layer = layer_factory(x.dtype.name)
    layer.build(x.shape)
    for value in layer.params.values():  # non-trivial γ and β
        value[...] = np.linspace(-1.5, 2.0, value.size).reshape(value.shape)
    with np.errstate(all="ignore"):
        y = layer.forward(x, training=training).copy()
        grad_x = layer.backward(grad_y)
    return [y, grad_x, *(g.copy() for g in layer.grads.values()),
            *(v.copy() for v in layer.state.values())]  # fmt: skip


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("rows", [1, 3, 100])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(
    "factory",
    [
        lambda dtype: layers.BatchNormalization(momentum=0.9, dtype=dtype),
        lambda dtype: layers.Dropout(0.3, dtype=dtype),
        lambda dtype: layers.Dropout(0.3, noise_shape=(None, 1), dtype=dtype),
    ],
    ids=["batch_norm", "dropout", "dropout_noise_shape"],
)
def test_compiled_batch_norm_and_dropout_are_bit_identical_to_numpy(factory, training, rows, dtype):
    pytest.importorskip("numba")
    rng = np.random.default_rng(rows)
    x = (rng.standard_normal((rows, 7)) * 3 + 1).astype(dtype)
    grad_y = rng.standard_normal((rows, 7)).astype(dtype)
    compiled = _layer_pass("numba", factory, x, grad_y, training)
    plain = _layer_pass(None, factory, x, grad_y, training)
    assert len(compiled) == len(plain)
    for a, b in zip(compiled, plain):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b)


def test_a_run_with_batch_norm_and_dropout_is_identical_with_and_without_the_accelerator():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((96, 6)).astype("float32")
    y = rng.integers(0, 4, 96)

    def make_model():
        model = Sequential(
            [Input((6,)), layers.Dense(16, activation="relu"), layers.BatchNormalization(),
             layers.Dropout(0.2), layers.Dense(8, activation="relu"),
             layers.BatchNormalization(), layers.Dropout(0.2), layers.Dense(4, activation="softmax")]
        )  # fmt: skip
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    _train_both_ways(make_model, x, y, seed=8, batch_size=32, epochs=3, validation_split=0.25)


def test_inference_alone_does_not_load_the_kernels():
    """predict never pays numba's import (about a second); training loads the kernels."""
    code = (
        "import sys, numpy as np, neuralnet as nn\n"
        "m = nn.Sequential([nn.Input((3,)), nn.layers.Dense(4, activation='relu'), nn.layers.Dense(2)])\n"
        "m.predict(np.ones((2, 3), 'float32'), verbose=0)\n"
        "print('numba' in sys.modules)\n"
        "m.compile('adam', 'mse')\n"
        "m.fit(np.ones((2, 3), 'float32'), np.ones((2, 2), 'float32'), verbose=0)\n"
        "print('numba' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    expected_after_fit = str(importlib.util.find_spec("numba") is not None)
    assert out == ["False", expected_after_fit]


def test_float16_models_take_the_numpy_path():
    """numba has no float16 arithmetic: float16 layers and Adam fall back to NumPy, with the same
    numbers as with the accelerator off."""
    rng = np.random.default_rng(6)
    x = rng.random((16, 4)).astype("float16")
    y = rng.random((16, 2)).astype("float16")

    def make_model():
        model = Sequential(
            [Input((4,), dtype="float16"), layers.Dense(8, activation="relu", dtype="float16"),
             layers.BatchNormalization(dtype="float16"), layers.Dropout(0.3, dtype="float16"),
             layers.Dense(2, dtype="float16")]
        )  # fmt: skip
        model.compile("adam", "mse")
        assert all(w.dtype == np.float16 for w in model.get_weights())
        return model

    _train_both_ways(make_model, x, y, seed=2, batch_size=8, epochs=2)


def test_a_subclass_of_adam_with_its_own_update_step_keeps_it():
    pytest.importorskip("numba")
    neuralnet.config.set_accelerator("numba")

    class HalfAdam(optimizers.Adam):
        def update_step(self, variable, grad, slots, learning_rate):
            super().update_step(variable, grad * 0.5, slots, learning_rate)

    params, grads = [np.ones(3, dtype="float32")], [np.full(3, 2.0, dtype="float32")]
    HalfAdam(0.1).apply(grads, params)
    optimizer = optimizers.Adam(0.1)
    optimizer.apply([g * 0.5 for g in grads], expected := [np.ones(3, dtype="float32")])
    np.testing.assert_array_equal(params[0], expected[0])
    assert optimizer.variables["variable_0/momentum"][0] == np.float32(0.1)  # (1 − β₁)·g, g = 1
