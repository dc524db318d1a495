"""Dense (layers/dense.py): y = activation(x · W + b), against NumPy and Keras 3 numbers."""

import numpy as np
import pytest

import neuralnet
from neuralnet import layers
from neuralnet.testing import check_gradients

# Keras 3.15.1 (JAX backend, float32): Dense(2[, activation="tanh"]) with these weights on X.
X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
W = np.array([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]])
B = np.array([0.05, -0.1])
KERAS_DENSE_Y = np.array([[-1.2, 0.6], [0.65, -0.75]])
KERAS_DENSE_TANH_Y = np.array([[-0.833654583, 0.537049592], [0.571669996, -0.635149002]])


def dense_with(weights, **kwargs):
    layer = layers.Dense(weights[0].shape[1], **kwargs)
    layer(np.zeros((1, weights[0].shape[0])))
    layer.set_weights(weights)
    return layer


def test_dense_matches_keras():
    with neuralnet.config.floatx_scope("float64"):
        linear = dense_with([W, B])
        tanh = dense_with([W, B], activation="tanh")
        np.testing.assert_allclose(linear(X), KERAS_DENSE_Y, rtol=1e-6)
        np.testing.assert_allclose(tanh(X), KERAS_DENSE_TANH_Y, rtol=1e-6)


def test_dense_forward_matches_numpy_formula(rng):
    x = rng.standard_normal((6, 4))
    w, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    with neuralnet.config.floatx_scope("float64"):
        layer = dense_with([w, b], activation="sigmoid")
        np.testing.assert_allclose(layer(x), 1.0 / (1.0 + np.exp(-(x @ w + b))), rtol=1e-12)


def test_dense_backward_matches_the_chain_rule(rng):
    x = rng.standard_normal((5, 4))
    grad_y = rng.standard_normal((5, 3))
    w, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    with neuralnet.config.floatx_scope("float64"):
        layer = dense_with([w, b])
        layer.forward(x, training=True)
        grad_x = layer.backward(grad_y)
    np.testing.assert_allclose(layer.grads["kernel"], x.T @ grad_y, rtol=1e-12)
    np.testing.assert_allclose(layer.grads["bias"], grad_y.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(grad_x, grad_y @ w.T, rtol=1e-12)


def test_dense_does_not_write_into_its_input_or_upstream_gradient(rng):
    x = rng.standard_normal((5, 4))
    grad_y = rng.standard_normal((5, 3))
    x_copy, grad_copy = x.copy(), grad_y.copy()
    with neuralnet.config.floatx_scope("float64"):
        layer = layers.Dense(3, activation="softmax")  # its output is computed in place over z
        layer(x)
        layer.forward(x, training=True)
        layer.backward(grad_y)
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(grad_y, grad_copy)


@pytest.mark.parametrize("activation", ["linear", "relu", "tanh", "sigmoid", "softmax", "elu"])
def test_dense_gradients_with_each_activation(activation):
    check_gradients(layers.Dense(4, activation=activation), input_shape=(6, 3), seed=1)


def test_dense_gradients_without_bias():
    layer = layers.Dense(3, use_bias=False)
    report = check_gradients(layer, input_shape=(4, 5))
    assert set(report.errors) == {"x", "kernel"}
    assert list(layer.params) == ["kernel"]


def test_dense_on_rank3_inputs_acts_on_the_last_axis(rng):
    x = rng.standard_normal((2, 5, 3))
    with neuralnet.config.floatx_scope("float64"):
        layer = layers.Dense(4, bias_initializer="random_normal")
        y = layer(x)
    assert y.shape == (2, 5, 4)
    np.testing.assert_allclose(y, x @ layer.params["kernel"] + layer.params["bias"], rtol=1e-12)
    check_gradients(layers.Dense(4, bias_initializer="random_normal"), input_shape=(2, 5, 3))


def test_dense_built_once_accepts_other_leading_axes_as_keras():
    layer = layers.Dense(4)
    layer(np.ones((2, 5, 3)))
    # only the last axis is fixed (Keras's input spec)
    assert layer(np.ones((7, 3))).shape == (7, 4)


def test_dense_weights_have_keras_shapes_and_default_initializers():
    layer = layers.Dense(50, seed=0)
    layer(np.ones((1, 30)))
    assert layer.weight_names == ["dense/kernel", "dense/bias"]
    kernel, bias = layer.get_weights()
    assert kernel.shape == (30, 50) and kernel.dtype == np.float32
    np.testing.assert_array_equal(bias, np.zeros(50))
    limit = np.sqrt(6.0 / (30 + 50))  # glorot_uniform
    assert np.abs(kernel).max() <= limit
    assert np.abs(kernel).max() > 0.95 * limit


def test_dense_output_shape():
    assert layers.Dense(7).compute_output_shape((None, 3)) == (None, 7)
    assert layers.Dense(7).compute_output_shape((None, 4, 3)) == (None, 4, 7)


def test_dense_config_names_nested_objects():
    config = layers.Dense(
        3, activation="relu", kernel_initializer="he_normal", kernel_regularizer="l2"
    ).get_config()
    assert config["units"] == 3
    assert config["activation"] == "relu"
    assert config["use_bias"] is True
    assert config["kernel_initializer"] == {"class_name": "he_normal", "config": {"seed": None}}
    assert config["bias_initializer"] == {"class_name": "zeros", "config": {}}
    assert config["kernel_regularizer"] == {"class_name": "l2", "config": {"l2": 0.01}}
    assert config["bias_regularizer"] is None


# -- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("units", [0, -3, 2.5, True, None])
def test_dense_rejects_non_positive_units(units):
    with pytest.raises(
        ValueError, match=rf"Dense: `units` must be a positive integer, received units={units}"
    ):
        layers.Dense(units)


def test_dense_rejects_unknown_last_dimension():
    with pytest.raises(
        ValueError, match=r"known last dimension, received input shape \(None, None\)"
    ):
        layers.Dense(3)(neuralnet.Input(shape=(None,)))


def test_dense_rejects_rank1_inputs():
    with pytest.raises(ValueError, match=r"Dense layer 'dense' needs inputs of rank >= 2"):
        layers.Dense(3)(np.ones(4))


def test_dense_rejects_wrong_feature_size_after_building():
    layer = layers.Dense(3, name="hidden")
    layer(np.ones((4, 5)))
    with pytest.raises(
        ValueError,
        match=r"Dense layer 'hidden' expected inputs of rank >= 2 with last dimension 5, "
        r"received shape \(4, 6\)",
    ):
        layer(np.ones((4, 6)))
    with pytest.raises(ValueError, match=r"last dimension 5, received shape \(None, 6\)"):
        layer(neuralnet.Input(shape=(6,)))


def test_dense_rejects_unknown_activation_with_a_suggestion():
    with pytest.raises(ValueError, match="Did you mean 'relu'"):
        layers.Dense(3, activation="rellu")


def test_dense_rejects_unknown_keyword_argument():
    with pytest.raises(TypeError, match="kernel_initialiser"):
        layers.Dense(3, kernel_initialiser="zeros")
