"""Activation, ReLU, LeakyReLU, PReLU, ELU and Softmax layers (layers/activation_layers.py).

Reference numbers come from Keras 3.15.1 (JAX backend, float32) on the literal inputs below; the
gradients from `jax.grad` of sum(layer(x) · G).
"""

import numpy as np
import pytest

import neuralnet
from neuralnet import layers
from neuralnet.testing import check_gradients

KERAS_RTOL, KERAS_ATOL = 1e-6, 1e-7  # Keras computes in float32

XA = np.array([[-2.0, -0.5, 0.0, 0.7, 3.0, 7.5], [1.2, -3.3, 5.9, 6.1, -0.01, 0.4]])
GA = np.array([[0.3, -1.0, 0.5, 1.2, 0.4, -0.6], [-0.7, 0.8, 0.2, 0.1, -0.3, 1.1]])

KERAS_LEAKY_RELU_DEFAULT = [[-0.6, -0.15, 0, 0.7, 3, 7.5], [1.2, -0.99, 5.9, 6.1, -0.003, 0.4]]
KERAS_ELU_DEFAULT = [
    [-0.864664733, -0.393469334, 0, 0.7, 3, 7.5],
    [1.2, -0.963116825, 5.9, 6.1, -0.00995016471, 0.4],
]
KERAS_ELU_ALPHA_HALF = [
    [-0.432332367, -0.196734667, 0, 0.7, 3, 7.5],
    [1.2, -0.481558412, 5.9, 6.1, -0.00497508235, 0.4],
]
KERAS_RELU_DEFAULT = [[0, 0, 0, 0.7, 3, 7.5], [1.2, 0, 5.9, 6.1, 0, 0.4]]
KERAS_RELU_MAX6 = [[0, 0, 0, 0.7, 3, 6], [1.2, 0, 5.9, 6, 0, 0.4]]
# ReLU(max_value=5, negative_slope=0.1, threshold=0.5)
KERAS_RELU_OPTIONS = [[-0.25, -0.1, -0.05, 0.7, 3, 5], [1.2, -0.38, 5, 5, -0.051, -0.01]]
KERAS_RELU_OPTIONS_GRAD = [[0.03, -0.1, 0.05, 1.2, 0.4, 0], [-0.7, 0.08, 0, 0, -0.03, 0.11]]
# PReLU with alpha = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
PRELU_ALPHA = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
KERAS_PRELU = [[-0.2, -0.1, 0, 0.7, 3, 7.5], [1.2, -0.66, 5.9, 6.1, -0.005, 0.4]]
KERAS_PRELU_GRAD_X = [[0.03, -0.2, 0, 1.2, 0.4, -0.6], [-0.7, 0.16, 0.2, 0.1, -0.15, 1.1]]
KERAS_PRELU_GRAD_ALPHA = [-0.6, -2.14, 0, 0, 0.003, 0]

XS = np.array([[[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0]], [[0.2, -0.4, 0.9], [2.5, 2.5, -2.0]]])
KERAS_SOFTMAX_LAST = [
    [[0.231223896, 0.628531694, 0.14024438], [0.017147826, 0.0466126204, 0.936239541]],
    [[0.28069666, 0.154049605, 0.565253675], [0.49723807, 0.49723807, 0.00552381575]],
]
KERAS_SOFTMAX_AXIS1 = [
    [[0.880797029, 0.880797029, 0.0758581832], [0.119202912, 0.119202912, 0.924141824]],
    [[0.09112297, 0.0521535613, 0.947846472], [0.908877075, 0.947846472, 0.0521535613]],
]


def run64(layer, x, grad_y=None):
    """Forward (and backward with `grad_y`) in float64."""
    with neuralnet.config.floatx_scope("float64"):
        layer.ensure_built(x.shape)
        y = layer.forward(np.array(x, dtype=np.float64), training=True)
        grad_x = None if grad_y is None else layer.backward(grad_y)
    return y, grad_x


def assert_keras_close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=KERAS_RTOL, atol=KERAS_ATOL)


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        (lambda: layers.LeakyReLU(), KERAS_LEAKY_RELU_DEFAULT),
        (lambda: layers.ELU(), KERAS_ELU_DEFAULT),
        (lambda: layers.ELU(alpha=0.5), KERAS_ELU_ALPHA_HALF),
        (lambda: layers.ReLU(), KERAS_RELU_DEFAULT),
        (lambda: layers.ReLU(max_value=6.0), KERAS_RELU_MAX6),
        (lambda: layers.ReLU(max_value=5.0, negative_slope=0.1, threshold=0.5), KERAS_RELU_OPTIONS),
    ],
    ids=["leaky_relu_default", "elu_default", "elu_0.5", "relu", "relu_max6", "relu_options"],
)
def test_activation_layer_matches_keras(layer, expected):
    y, _ = run64(layer(), XA)
    assert_keras_close(y, expected)


def test_relu_options_gradient_matches_keras():
    _, grad_x = run64(layers.ReLU(max_value=5.0, negative_slope=0.1, threshold=0.5), XA, GA)
    assert_keras_close(grad_x, KERAS_RELU_OPTIONS_GRAD)


def test_prelu_matches_keras():
    layer = layers.PReLU()
    with neuralnet.config.floatx_scope("float64"):
        layer.ensure_built(XA.shape)
    layer.set_weights([PRELU_ALPHA])
    y, grad_x = run64(layer, XA, GA)
    assert_keras_close(y, KERAS_PRELU)
    assert_keras_close(layer.grads["alpha"], KERAS_PRELU_GRAD_ALPHA)
    assert_keras_close(grad_x, KERAS_PRELU_GRAD_X)  # 0 at x = 0 (XA[0, 2]), as Keras with JAX


@pytest.mark.parametrize(
    ("axis", "expected"),
    [(-1, KERAS_SOFTMAX_LAST), (1, KERAS_SOFTMAX_AXIS1)],
    ids=["last", "axis1"],
)
def test_softmax_layer_matches_keras(axis, expected):
    y, _ = run64(layers.Softmax(axis=axis), XS)
    assert_keras_close(y, expected)
    np.testing.assert_allclose(y.sum(axis=axis), 1.0, rtol=1e-12)


# -- defaults and NumPy formulas -------------------------------------------------------------------


def test_leaky_relu_layer_default_slope_is_keras_0_3():
    assert layers.LeakyReLU().negative_slope == 0.3
    assert layers.LeakyReLU(alpha=0.1).negative_slope == 0.1  # Keras 2's name still accepted
    assert layers.LeakyReLU(alpha=0.1).get_config()["negative_slope"] == 0.1


def test_prelu_starts_as_relu(rng):
    layer = layers.PReLU()
    x = rng.standard_normal((4, 5))
    y = layer(x)
    np.testing.assert_array_equal(layer.params["alpha"], np.zeros(5))
    np.testing.assert_allclose(y, np.maximum(x, 0).astype(np.float32))


def test_prelu_shared_axes_share_one_slope(rng):
    layer = layers.PReLU(alpha_initializer="random_normal", shared_axes=[1, 2])
    x = rng.standard_normal((2, 3, 4, 5))
    with neuralnet.config.floatx_scope("float64"):
        y = layer(x)
    alpha = layer.params["alpha"]
    assert alpha.shape == (1, 1, 5)
    np.testing.assert_allclose(y, np.where(x > 0, x, alpha * x), rtol=1e-12)
    check_gradients(
        layers.PReLU(alpha_initializer="random_normal", shared_axes=[1, 2]),
        input_shape=(2, 3, 4, 5),
    )
    check_gradients(
        layers.PReLU(alpha_initializer="random_normal", shared_axes=2), input_shape=(3, 2, 4)
    )


def test_elu_forward_matches_numpy(rng):
    x = rng.standard_normal((5, 4))
    y, _ = run64(layers.ELU(alpha=1.7), x)
    np.testing.assert_allclose(y, np.where(x >= 0, x, 1.7 * (np.exp(x) - 1)), rtol=1e-12)


def test_relu_options_match_numpy(rng):
    x = 3 * rng.standard_normal((6, 7))
    y, _ = run64(layers.ReLU(max_value=2.0, negative_slope=0.2, threshold=0.3), x)
    expected = np.where(x > 0.3, np.minimum(x, 2.0), 0.2 * (x - 0.3))
    np.testing.assert_allclose(y, expected, rtol=1e-12)


def test_activation_layer_applies_the_named_function(rng):
    x = rng.standard_normal((3, 4))
    y, _ = run64(layers.Activation("softplus"), x)
    np.testing.assert_allclose(y, np.log1p(np.exp(x)), rtol=1e-12)


@pytest.mark.parametrize(
    "name", ["sigmoid", "tanh", "relu", "softplus", "softsign", "selu", "softmax"]
)
def test_activation_layer_gradients(name):
    check_gradients(layers.Activation(name), input_shape=(4, 5), seed=2)


@pytest.mark.parametrize(
    "layer",
    [
        lambda: layers.ReLU(),
        lambda: layers.ReLU(max_value=6.0),
        lambda: layers.ReLU(max_value=1.0, negative_slope=0.3, threshold=0.5),
        lambda: layers.LeakyReLU(),
        lambda: layers.ELU(),
        lambda: layers.Softmax(),
        lambda: layers.Softmax(axis=0),
    ],
    ids=["relu", "relu6", "relu_options", "leaky_relu", "elu", "softmax", "softmax_axis0"],
)
def test_activation_layer_variant_gradients(layer):
    check_gradients(layer(), input_shape=(5, 4), seed=4)


def test_activation_layers_have_no_weights():
    for layer in (layers.ReLU(), layers.ELU(), layers.Softmax(), layers.Activation("relu")):
        layer(np.ones((2, 3)))
        assert layer.weights == []


def test_activation_layer_config_keeps_options():
    assert (
        layers.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5).get_config()["max_value"]
        == 6.0
    )
    assert layers.Softmax(axis=1).get_config()["axis"] == 1
    assert layers.ELU(alpha=0.5).get_config()["alpha"] == 0.5
    assert layers.Activation("relu").get_config()["activation"] == "relu"
    config = layers.PReLU(shared_axes=1).get_config()
    assert config["shared_axes"] == [1]
    assert config["alpha_initializer"] == {"class_name": "zeros", "config": {}}


# -- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: layers.LeakyReLU(-0.1), "negative_slope=-0.1"),
        (lambda: layers.ReLU(negative_slope=-1.0), "negative_slope=-1.0"),
        (lambda: layers.ReLU(max_value=-1.0), "max_value=-1.0"),
        (lambda: layers.ReLU(threshold=-0.5), "threshold=-0.5"),
    ],
)
def test_negative_options_are_rejected_as_keras(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_prelu_rejects_shared_axes_out_of_range():
    with pytest.raises(ValueError, match=r"shared_axes must be between 1 and 1.*received \[2\]"):
        layers.PReLU(shared_axes=2)(np.ones((3, 4)))


def test_activation_layer_rejects_unknown_name_and_plain_functions():
    with pytest.raises(ValueError, match="Did you mean 'sigmoid'"):
        layers.Activation("sigmod")
    with pytest.raises(TypeError, match="Subclass neuralnet.activations.Activation"):
        layers.Activation(lambda x: x)
