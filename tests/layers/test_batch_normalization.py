"""BatchNormalization (layers/batch_normalization.py), against NumPy and Keras 3 numbers.

The Keras numbers come from Keras 3.15.1 (JAX backend, float32) with the literal inputs and weights
below; the gradients from `jax.grad` of sum(layer(x, training=True) · G) through `stateless_call`.
"""

import numpy as np
import pytest

import neuralnet
from neuralnet import layers
from neuralnet.testing import check_gradients

KERAS_RTOL, KERAS_ATOL = 1e-5, 1e-6  # Keras computes in float32

X1 = np.array([[0.5, -1.2, 2.0], [1.5, 0.3, -0.7], [-0.4, 2.2, 0.1], [2.1, -0.6, 1.3]])
X2 = np.array([[1.0, 0.0, -1.0], [3.0, 1.0, 0.5], [-2.0, 0.4, 2.5], [0.2, -1.5, 0.0]])
X3 = np.array([[0.1, 0.2, 0.3], [-0.3, 0.9, -1.1], [0.7, -0.8, 1.9], [1.2, 0.5, -0.4]])
GAMMA = np.array([1.5, 0.5, -2.0])
BETA = np.array([0.1, -0.2, 0.3])
G = np.array([[0.3, -1.0, 0.5], [1.2, 0.4, -0.6], [-0.7, 0.8, 0.2], [0.1, -0.3, 1.1]])
MOVING_MEAN = np.array([0.2, -0.1, 0.4])
MOVING_VARIANCE = np.array([0.5, 2.0, 1.5])

# Training call on X1 with GAMMA, BETA and fresh statistics.
KERAS_TRAIN_Y = [
    [-0.567228436, -0.734752297, -2.23489904],
    [1.00272107, -0.151386142, 2.93055534],
    [-1.98018289, 0.587544322, 1.40005028],
    [1.94469047, -0.501405835, -0.89570713],
]
KERAS_TRAIN_GRAD_X = [
    [0.411480278, -0.114096791, 0.811904609],
    [1.13329589, 0.141187876, 0.482210696],
    [-0.536444068, -0.06955567, -0.32706815],
    [-1.00833189, 0.0424645767, -0.967047155],
]
KERAS_TRAIN_GRAD_GAMMA = [1.68246245, 2.54931021, 1.97052515]
KERAS_TRAIN_GRAD_BETA = [0.9, -0.1, 1.2]
# After training calls on X1, X2, X3 (momentum 0.99, biased variance), then inference on X1.
KERAS_MOVING_MEAN_3 = [0.0187609233, 0.00346767483, 0.0133156739]
KERAS_MOVING_VARIANCE_3 = [1.01425922, 0.998872519, 1.00945675]
KERAS_INFER_Y_3 = [
    [0.816413343, -0.801772237, -3.65275574],
    [2.3050983, -0.0517243743, 1.71923041],
    [-0.523403049, 0.898336291, 0.127530754],
    [3.19830894, -0.501753092, -2.26001859],
]
# Inference with MOVING_MEAN and MOVING_VARIANCE; a layer with trainable=False gives the same
# output with training=True, and its statistics do not move.
KERAS_INFER_Y = [
    [0.735760629, -0.588811576, -2.3119185],
    [2.85496283, -0.0586139783, 2.09569383],
    [-1.17152131, 0.612969637, 0.789734721],
    [4.12648344, -0.376732528, -1.169204],
]
KERAS_INFER_GRAD_X = [
    [0.635760665, -0.35346505, -0.816224515],
    [2.54304266, 0.141386017, 0.979469478],
    [-1.48344147, 0.282772034, -0.326489806],
    [0.211920217, -0.106039517, -1.79569399],
]
# axis=1 on X4 of shape (2, 3, 4): one training call from fresh weights.
X4 = np.arange(24, dtype=float).reshape(2, 3, 4) ** 1.3 / 7.0
KERAS_AXIS1_Y = [
    [
        [-1.11984861, -1.04856944, -0.944338679, -0.822531223],
        [-1.17834902, -1.05329859, -0.920469761, -0.780802906],
        [-1.19419062, -1.05654216, -0.914219975, -0.767557025],
    ],
    [
        [0.682747006, 0.880423427, 1.08271849, 1.28939831],
        [0.702875018, 0.887606502, 1.0756284, 1.26681149],
        [0.711657524, 0.890930653, 1.07278395, 1.25713515],
    ],
]
KERAS_AXIS1_MOVING_MEAN = [0.0224439111, 0.0361281484, 0.0519405268]
KERAS_AXIS1_MOVING_VARIANCE = [1.0301578, 1.04432404, 1.0557096]


def assert_keras_close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=KERAS_RTOL, atol=KERAS_ATOL)


def make_bn(moving_mean=(0.0, 0.0, 0.0), moving_variance=(1.0, 1.0, 1.0), **kwargs):
    with neuralnet.config.floatx_scope("float64"):
        layer = layers.BatchNormalization(**kwargs)
        layer.ensure_built((None, 3))
    layer.set_weights([GAMMA, BETA, np.asarray(moving_mean), np.asarray(moving_variance)])
    return layer


def numpy_bn(x, gamma, beta, mean, variance, epsilon=1e-3):
    return gamma * (x - mean) / np.sqrt(variance + epsilon) + beta


# -- against Keras ---------------------------------------------------------------------------------


def test_training_forward_and_gradients_match_keras():
    layer = make_bn()
    y = layer.forward(X1, training=True)
    grad_x = layer.backward(G)
    assert_keras_close(y, KERAS_TRAIN_Y)
    assert_keras_close(grad_x, KERAS_TRAIN_GRAD_X)
    assert_keras_close(layer.grads["gamma"], KERAS_TRAIN_GRAD_GAMMA)
    assert_keras_close(layer.grads["beta"], KERAS_TRAIN_GRAD_BETA)


def test_moving_statistics_after_three_training_calls_match_keras():
    layer = make_bn()
    for x in (X1, X2, X3):
        layer(x, training=True)
    assert_keras_close(layer.state["moving_mean"], KERAS_MOVING_MEAN_3)
    assert_keras_close(layer.state["moving_variance"], KERAS_MOVING_VARIANCE_3)
    assert_keras_close(layer(X1, training=False), KERAS_INFER_Y_3)


def test_inference_forward_and_gradient_match_keras():
    layer = make_bn(MOVING_MEAN, MOVING_VARIANCE)
    assert_keras_close(layer.forward(X1, training=False), KERAS_INFER_Y)
    assert_keras_close(layer.backward(G), KERAS_INFER_GRAD_X)


def test_trainable_false_runs_in_inference_mode_even_when_training():
    layer = make_bn(MOVING_MEAN, MOVING_VARIANCE, trainable=False)
    assert_keras_close(layer(X1, training=True), KERAS_INFER_Y)
    np.testing.assert_array_equal(layer.state["moving_mean"], MOVING_MEAN)
    np.testing.assert_array_equal(layer.state["moving_variance"], MOVING_VARIANCE)
    assert_keras_close(layer.backward(G), KERAS_INFER_GRAD_X)  # the statistics are constants
    assert layer.trainable_weights == []


def test_setting_trainable_false_later_freezes_the_statistics():
    layer = make_bn(MOVING_MEAN, MOVING_VARIANCE)
    layer.trainable = False
    layer(X2, training=True)
    np.testing.assert_array_equal(layer.state["moving_mean"], MOVING_MEAN)
    layer.trainable = True
    layer(X2, training=True)
    assert not np.array_equal(layer.state["moving_mean"], MOVING_MEAN)


def test_axis1_on_rank3_inputs_matches_keras():
    with neuralnet.config.floatx_scope("float64"):
        layer = layers.BatchNormalization(axis=1)
        y = layer(X4, training=True)
    assert layer.params["gamma"].shape == (3,)
    assert_keras_close(y, KERAS_AXIS1_Y)
    assert_keras_close(layer.state["moving_mean"], KERAS_AXIS1_MOVING_MEAN)
    assert_keras_close(layer.state["moving_variance"], KERAS_AXIS1_MOVING_VARIANCE)


# -- against NumPy ---------------------------------------------------------------------------------


def test_training_uses_batch_mean_and_biased_variance(rng):
    x = 3.0 + 2.0 * rng.standard_normal((16, 3))
    layer = make_bn()
    y = layer(x, training=True)
    np.testing.assert_allclose(y, numpy_bn(x, GAMMA, BETA, x.mean(0), x.var(0)), rtol=1e-12)
    # moving ← 0.99 · moving + 0.01 · batch, with the biased (divide by N) variance
    np.testing.assert_allclose(layer.state["moving_mean"], 0.01 * x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(layer.state["moving_variance"], 0.99 + 0.01 * x.var(0), rtol=1e-12)


def test_inference_uses_moving_statistics(rng):
    x = rng.standard_normal((5, 3))
    layer = make_bn(MOVING_MEAN, MOVING_VARIANCE)
    expected = numpy_bn(x, GAMMA, BETA, MOVING_MEAN, MOVING_VARIANCE)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-12)  # training not passed: inference
    np.testing.assert_array_equal(layer.state["moving_mean"], MOVING_MEAN)


def test_momentum_and_epsilon_options(rng):
    x = rng.standard_normal((8, 3))
    layer = make_bn(momentum=0.9, epsilon=0.1)
    y = layer(x, training=True)
    np.testing.assert_allclose(y, numpy_bn(x, GAMMA, BETA, x.mean(0), x.var(0), 0.1), rtol=1e-12)
    np.testing.assert_allclose(layer.state["moving_mean"], 0.1 * x.mean(0), rtol=1e-12)


def test_training_backward_matches_the_reference_formula(rng):
    x = rng.standard_normal((7, 3))
    grad_y = rng.standard_normal((7, 3))
    layer = make_bn()
    layer.forward(x, training=True)
    grad_x = layer.backward(grad_y)
    n, inv_std = 7, 1.0 / np.sqrt(x.var(0) + 1e-3)
    x_hat = (x - x.mean(0)) * inv_std
    expected = GAMMA * inv_std / n * (n * grad_y - grad_y.sum(0) - x_hat * (grad_y * x_hat).sum(0))
    np.testing.assert_allclose(grad_x, expected, rtol=1e-10)
    np.testing.assert_allclose(layer.grads["gamma"], (grad_y * x_hat).sum(0), rtol=1e-12)
    np.testing.assert_allclose(layer.grads["beta"], grad_y.sum(0), rtol=1e-12)


def test_defaults_are_keras():
    layer = layers.BatchNormalization()
    assert (layer.axis, layer.momentum, layer.epsilon) == (-1, 0.99, 1e-3)
    assert layer.center and layer.scale
    layer(np.ones((2, 4)))
    gamma, beta, moving_mean, moving_variance = layer.get_weights()
    np.testing.assert_array_equal(gamma, np.ones(4))
    np.testing.assert_array_equal(beta, np.zeros(4))
    np.testing.assert_array_equal(moving_mean, np.zeros(4))
    np.testing.assert_array_equal(moving_variance, np.ones(4))
    assert list(layer.params) == ["gamma", "beta"]
    assert list(layer.state) == ["moving_mean", "moving_variance"]


# -- gradient checks -------------------------------------------------------------------------------


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize(
    ("kwargs", "input_shape"),
    [
        ({}, (6, 4)),
        ({"axis": 1}, (3, 4, 5)),
        ({"axis": 2}, (3, 4, 5)),
        ({"center": False}, (6, 4)),
        ({"scale": False}, (6, 4)),
        ({"center": False, "scale": False}, (6, 4)),
    ],
    ids=["default", "axis1", "axis2", "no_center", "no_scale", "neither"],
)
def test_gradient_check(kwargs, input_shape, training):
    layer = layers.BatchNormalization(
        gamma_initializer="random_normal",
        beta_initializer="random_normal",
        moving_mean_initializer="random_normal",
        moving_variance_initializer="ones",
        **kwargs,
    )
    report = check_gradients(layer, input_shape=input_shape, training=training, seed=6)
    assert set(report.errors) == {"x", *layer.params}


def test_center_and_scale_false_create_no_gamma_or_beta(rng):
    layer = layers.BatchNormalization(center=False, scale=False)
    x = rng.standard_normal((10, 3))
    y = layer(x, training=True)
    assert list(layer.params) == []
    np.testing.assert_allclose(y, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3), rtol=1e-5)


# -- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [0, 2, -3])
def test_axis_must_be_a_feature_axis_of_the_input(axis):
    with pytest.raises(
        ValueError, match=rf"known size on axis {axis}, received input shape \(4, 3\)"
    ):
        layers.BatchNormalization(axis=axis)(np.ones((4, 3)))


def test_unknown_feature_size_is_rejected():
    with pytest.raises(ValueError, match="known size on axis -1"):
        layers.BatchNormalization()(neuralnet.Input(shape=(None,)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"momentum": 1.5}, "momentum=1.5"),
        ({"epsilon": 0.0}, "epsilon=0.0"),
        ({"epsilon": -1e-3}, "epsilon"),
    ],
)
def test_invalid_momentum_or_epsilon(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.BatchNormalization(**kwargs)
