"""Tests of `neuralnet.activations`: gradients, values, Keras 3 numbers, errors and configs.

The Keras numbers were computed once with Keras 3.15.1 (JAX backend, float32) on the literal inputs below
and pasted in as constants; Keras is not imported here. float32 Keras agrees with float64 to about 1e-6
relative, hence `rtol=1e-5` (and a small `atol` for values that are ~0 in float32).
"""

import json
import math

import numpy as np
import pytest

from neuralnet import activations
from neuralnet.activations import ACTIVATIONS
from neuralnet.testing import check_gradients

KERAS_RTOL = 1e-5
KERAS_ATOL = 1e-7


def _away_from(kinks, low=-4.0, high=4.0, shape=(4, 5), gap=0.1, seed=0):
    """Uniform values in [low, high] at least `gap` away from every kink."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, shape)
    while True:
        near = np.zeros(shape, dtype=bool)
        for kink in kinks:
            near |= np.abs(x - kink) < gap
        if not near.any():
            return x
        x[near] = rng.uniform(low, high, int(near.sum()))


def _smooth(seed=0):
    return 2.0 * np.random.default_rng(seed).standard_normal((4, 5))


# Inputs for the gradient checks: one entry per registered activation, away from its kinks.
GRADIENT_INPUTS = {
    "linear": _smooth,
    "sigmoid": _smooth,
    "tanh": _smooth,
    "relu": lambda seed=0: _away_from([0.0], seed=seed),
    "leaky_relu": lambda seed=0: _away_from([0.0], seed=seed),
    "relu6": lambda seed=0: _away_from([0.0, 6.0], low=-3.0, high=9.0, seed=seed),
    "elu": lambda seed=0: _away_from([0.0], seed=seed),
    "selu": lambda seed=0: _away_from([0.0], seed=seed),
    "softplus": _smooth,
    "softsign": lambda seed=0: _away_from([0.0], seed=seed),
    "hard_sigmoid": lambda seed=0: _away_from([-3.0, 3.0], low=-5.0, high=5.0, seed=seed),
    "hard_sigmoid_keras2": lambda seed=0: _away_from([-2.5, 2.5], low=-5.0, high=5.0, seed=seed),
    "exponential": _smooth,
    "softmax": _smooth,
    "log_softmax": _smooth,
    "silu": _smooth,
    "gelu": _smooth,
    "threshold": lambda seed=0: _away_from([0.0], seed=seed),
    "step": lambda seed=0: _away_from([0.0], seed=seed),
}


def _inputs(name, seed=0):
    if name not in GRADIENT_INPUTS:
        pytest.fail(
            f"Activation {name!r} is registered but has no entry in GRADIENT_INPUTS of "
            "tests/test_activations.py: add inputs for it (away from kinks) so its gradient is checked."
        )
    return GRADIENT_INPUTS[name](seed=seed)


# Independent NumPy formulas, written from Keras 3's definitions.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_erf = np.vectorize(math.erf)


def _np_softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


NUMPY_FORMULAS = {
    "linear": lambda x: x,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)),
    "relu": lambda x: np.where(x > 0, x, 0.0),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "relu6": lambda x: np.minimum(np.maximum(x, 0.0), 6.0),
    "elu": lambda x: np.where(x > 0, x, np.exp(x) - 1.0),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1.0)),
    "softplus": lambda x: np.log(1.0 + np.exp(x)),
    "softsign": lambda x: x / (1.0 + np.abs(x)),
    "hard_sigmoid": lambda x: np.minimum(np.maximum(x + 3.0, 0.0), 6.0) / 6.0,  # relu6(x + 3) / 6
    "hard_sigmoid_keras2": lambda x: np.minimum(np.maximum(0.2 * x + 0.5, 0.0), 1.0),
    "exponential": np.exp,
    "softmax": lambda x: np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True),
    "log_softmax": lambda x: np.log(np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)),
    "silu": lambda x: x / (1.0 + np.exp(-x)),
    "gelu": lambda x: 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0))),
    "threshold": lambda x: np.where(x > 0, x, 0.0),
    "step": lambda x: np.where(x > 0, 1.0, 0.0),
}

# Literal inputs and Keras 3.15.1 values.
X = np.array([-7.0, -3.0, -2.5, -1.0, -0.3, 0.0, 0.3, 1.0, 2.5, 3.0, 7.0])
ROWS = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])
BIG = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]])

KERAS_VALUES = {
    "linear": (activations.linear, X, [-7, -3, -2.5, -1, -0.3, 0, 0.3, 1, 2.5, 3, 7]),
    "sigmoid": (activations.sigmoid, X, [0.000911051175, 0.0474258736, 0.0758581758, 0.268941432, 0.425557494, 0.5,
                                         0.574442506, 0.731058598, 0.924141824, 0.952574134, 0.999089003]),
    "tanh": (activations.tanh, X, [-0.999998331, -0.995054722, -0.986614347, -0.761594176, -0.291312605, 0,
                                   0.291312605, 0.761594176, 0.986614347, 0.995054722, 0.999998331]),
    "relu": (activations.relu, X, [0, 0, 0, 0, 0, 0, 0.3, 1, 2.5, 3, 7]),
    "leaky_relu": (activations.leaky_relu, X, [-1.39999998, -0.600000024, -0.5, -0.200000003, -0.0600000024, 0,
                                               0.3, 1, 2.5, 3, 7]),
    "relu6": (activations.relu6, X, [0, 0, 0, 0, 0, 0, 0.3, 1, 2.5, 3, 6]),
    "elu": (activations.elu, X, [-0.999088109, -0.950212955, -0.917914987, -0.63212055, -0.259181768, 0, 0.3, 1,
                                 2.5, 3, 7]),
    "selu": (activations.selu, X, [-1.75649607, -1.67056882, -1.61378574, -1.11133075, -0.455667287, 0, 0.315210313,
                                   1.05070102, 2.62675261, 3.15210295, 7.35490704]),
    "softplus": (activations.softplus, X, [0.000911466486, 0.048587352, 0.078889735, 0.313261688, 0.554355264,
                                           0.693147182, 0.854355276, 1.31326175, 2.57888985, 3.04858732, 7.00091124]),
    "softsign": (activations.softsign, X, [-0.875, -0.75, -0.714285731, -0.5, -0.230769247, 0, 0.230769247, 0.5,
                                           0.714285731, 0.75, 0.875]),
    "hard_sigmoid": (activations.hard_sigmoid, X, [0, 0, 0.0833333358, 0.333333343, 0.450000018, 0.5, 0.550000012,
                                                   0.666666687, 0.916666687, 1, 1]),
    "exponential": (activations.exponential, X, [0.000911881973, 0.0497870669, 0.0820849985, 0.36787945,
                                                 0.740818202, 1, 1.34985876, 2.71828175, 12.1824942, 20.085537,
                                                 1096.63318]),
    "silu": (activations.silu, X, [-0.00637735799, -0.142277628, -0.189645439, -0.268941432, -0.127667248, 0,
                                   0.172332764, 0.731058598, 2.31035447, 2.85772228, 6.99362278]),
    "swish": (activations.swish, X, [-0.00637735799, -0.142277628, -0.189645439, -0.268941432, -0.127667248, 0,
                                     0.172332764, 0.731058598, 2.31035447, 2.85772228, 6.99362278]),
    "gelu": (activations.gelu, X, [-8.95868796e-12, -0.00404969603, -0.0155241648, -0.158655271, -0.114626586, 0,
                                   0.185373425, 0.841344714, 2.48447585, 2.99595022, 7]),
    "gelu(approximate=True)": (lambda x: activations.gelu(x, approximate=True), X, [
        0, -0.00363734365, -0.0150842965, -0.158807963, -0.114629082, 0, 0.185370922, 0.841192007, 2.48491573,
        2.99636269, 7]),
    "relu(negative_slope=0.1)": (lambda x: activations.relu(x, negative_slope=0.1), X, [
        -0.699999988, -0.300000012, -0.25, -0.100000001, -0.0300000012, 0, 0.3, 1, 2.5, 3, 7]),
    "relu(max_value=2.0)": (lambda x: activations.relu(x, max_value=2.0), X, [0, 0, 0, 0, 0, 0, 0.3, 1, 2, 2, 2]),
    "relu(max_value=6.0)": (lambda x: activations.relu(x, max_value=6.0), X, [0, 0, 0, 0, 0, 0, 0.3, 1, 2.5, 3, 6]),
    "relu(threshold=1.0)": (lambda x: activations.relu(x, threshold=1.0), X, [0, 0, 0, 0, 0, 0, 0, 0, 2.5, 3, 7]),
    "relu(threshold=-1.0)": (lambda x: activations.relu(x, threshold=-1.0), X, [
        0, 0, 0, 0, -0.3, 0, 0.3, 1, 2.5, 3, 7]),
    "relu(negative_slope=0.1, threshold=-1.0, max_value=2.0)": (
        lambda x: activations.relu(x, negative_slope=0.1, threshold=-1.0, max_value=2.0), X, [
            -0.600000024, -0.200000003, -0.150000006, 0, 0, 0, 0.3, 1, 2, 2, 2]),
    "relu(negative_slope=0.2, threshold=0.5)": (lambda x: activations.relu(x, negative_slope=0.2, threshold=0.5), X, [
        -1.5, -0.699999988, -0.600000024, -0.300000012, -0.160000011, -0.100000001, -0.0399999991, 1, 2.5, 3, 7]),
    "relu(negative_slope=0.1, max_value=4.0)": (lambda x: activations.relu(x, negative_slope=0.1, max_value=4.0), X, [
        -0.699999988, -0.300000012, -0.25, -0.100000001, -0.0300000012, 0, 0.3, 1, 2.5, 3, 4]),
    "leaky_relu(negative_slope=0.3)": (lambda x: activations.leaky_relu(x, negative_slope=0.3), X, [
        -2.10000014, -0.900000036, -0.75, -0.300000012, -0.0900000036, 0, 0.3, 1, 2.5, 3, 7]),
    "elu(alpha=0.5)": (lambda x: activations.elu(x, alpha=0.5), X, [
        -0.499544054, -0.475106478, -0.458957493, -0.316060275, -0.129590884, 0, 0.3, 1, 2.5, 3, 7]),
    "threshold(0.5, -1.0)": (lambda x: activations.threshold(x, 0.5, -1.0), X, [
        -1, -1, -1, -1, -1, -1, -1, 1, 2.5, 3, 7]),
    "softmax": (activations.softmax, ROWS, [[0.0900305733, 0.244728476, 0.665240943],
                                            [0.121951655, 0.54654938, 0.331498951]]),
    "softmax(axis=0)": (lambda x: activations.softmax(x, axis=0), ROWS, [[0.880797029, 0.817574441, 0.952574134],
                                                                        [0.119202912, 0.182425514, 0.0474258736]]),
    "log_softmax": (activations.log_softmax, ROWS, [[-2.40760589, -1.40760589, -0.407605946],
                                                    [-2.10413074, -0.604130626, -1.10413063]]),
    "softmax(±1e4)": (activations.softmax, BIG, [[1, 0, 0], [0.333333343, 0.333333343, 0.333333343]]),
    "log_softmax(±1e4)": (activations.log_softmax, BIG, [[0, -20000, -10000],
                                                         [-1.09861231, -1.09861231, -1.09861231]]),
}  # fmt: skip

# Activations with options, for gradient checks and config round trips: (instance, kinks).
CONFIGURED = {
    "relu(negative_slope=0.1)": (activations.ReLU(negative_slope=0.1), [0.0]),
    "relu(max_value=2.0)": (activations.ReLU(max_value=2.0), [0.0, 2.0]),
    "relu(threshold=1.0)": (activations.ReLU(threshold=1.0), [1.0]),
    "relu(threshold=-1.0)": (activations.ReLU(threshold=-1.0), [-1.0]),
    "relu(negative_slope=0.1, max_value=2.0, threshold=-1.0)": (
        activations.ReLU(negative_slope=0.1, max_value=2.0, threshold=-1.0),
        [-1.0, 0.0, 2.0],
    ),
    "relu(negative_slope=0.2, threshold=0.5)": (
        activations.ReLU(negative_slope=0.2, threshold=0.5),
        [0.5],
    ),
    "leaky_relu(negative_slope=0.3)": (activations.LeakyReLU(negative_slope=0.3), [0.0]),
    "elu(alpha=0.5)": (activations.ELU(alpha=0.5), [0.0]),
    "gelu(approximate=True)": (activations.GELU(approximate=True), []),
    "softmax(axis=0)": (activations.Softmax(axis=0), []),
    "log_softmax(axis=0)": (activations.LogSoftmax(axis=0), []),
    "threshold(0.5, -1.0)": (activations.Threshold(threshold=0.5, default_value=-1.0), [0.5]),
}


# ---------------------------------------------------------------------------------------------------
# 1. Gradients


def test_every_registered_activation_has_gradient_inputs_and_a_formula():
    names = set(ACTIVATIONS.names())
    assert names - set(GRADIENT_INPUTS) == set(), (
        "registered activations without gradient-check inputs"
    )
    assert names - set(NUMPY_FORMULAS) == set(), "registered activations without a NumPy formula"
    assert set(GRADIENT_INPUTS) - names == set(), (
        "stale entries: these names are no longer registered"
    )


@pytest.mark.parametrize("name", ACTIVATIONS.names())
def test_activation_backward_matches_finite_differences(name):
    activation = activations.get(name)
    x = _inputs(name)
    if not activation.differentiable:
        with pytest.raises(TypeError, match="has no useful gradient"):
            check_gradients(activation, x)
        return
    report = check_gradients(activation, x, seed=0, rtol=1e-6)
    assert report.max_error < 1e-6


@pytest.mark.parametrize("variant", sorted(CONFIGURED))
def test_activation_options_backward_matches_finite_differences(variant):
    activation, kinks = CONFIGURED[variant]
    x = _away_from(kinks, seed=1) if kinks else _smooth(seed=1)
    report = check_gradients(activation, x, seed=1, rtol=1e-6)
    assert report.max_error < 1e-6


def test_gradient_check_detects_a_wrong_activation_derivative():
    class WrongSigmoid(activations.Sigmoid):
        def backward(self, grad_y, x, y):
            return grad_y * y  # forgets the (1 − y)

    with pytest.raises(AssertionError, match="Gradient check of WrongSigmoid"):
        check_gradients(WrongSigmoid(), _smooth())


def test_step_backward_raises_type_error_saying_it_has_no_gradient():
    step = activations.get("step")
    assert step.differentiable is False
    x = np.array([[-1.0, 0.5]])
    with pytest.raises(TypeError, match=r"'step' activation has no useful gradient.*Use 'sigmoid'"):
        step.backward(np.ones_like(x), x, step.forward(x))
    assert type(activations.get("heaviside")) is activations.Step


@pytest.mark.parametrize("name", ACTIVATIONS.names())
def test_output_only_activations_backpropagate_from_the_output_alone(name):
    activation = activations.get(name)
    x = _inputs(name, seed=2)
    y = activation.forward(x.copy())
    np.testing.assert_array_equal(activation.forward_inplace(x.copy()), y)
    if not activation.output_only:
        return
    grad_y = np.random.default_rng(3).standard_normal(y.shape)
    np.testing.assert_array_equal(
        activation.backward(grad_y, None, y), activation.backward(grad_y, x, y)
    )


def test_plain_relu_is_output_only_and_relu_with_options_is_not():
    assert activations.ReLU().output_only
    assert not activations.ReLU(negative_slope=0.1).output_only
    assert not activations.ReLU(threshold=1.0).output_only


@pytest.mark.parametrize("name", ACTIVATIONS.names())
def test_activation_does_not_modify_its_arguments(name):
    activation = activations.get(name)
    x = _inputs(name, seed=4)
    x_before = x.copy()
    y = activation.forward(x)
    np.testing.assert_array_equal(x, x_before)
    if activation.differentiable:
        grad_y = np.ones_like(y)
        y_before = y.copy()
        activation.backward(grad_y, x, y)
        np.testing.assert_array_equal(x, x_before)
        np.testing.assert_array_equal(y, y_before)
        np.testing.assert_array_equal(grad_y, 1.0)


@pytest.mark.parametrize("name", ACTIVATIONS.names())
def test_activation_keeps_float32(name):
    activation = activations.get(name)
    x = _inputs(name, seed=5).astype(np.float32)
    y = activation.forward(x)
    assert y.dtype == np.float32
    if activation.differentiable:
        assert activation.backward(np.ones_like(y), x, y).dtype == np.float32


# ---------------------------------------------------------------------------------------------------
# 2. Values


@pytest.mark.parametrize("name", ACTIVATIONS.names())
def test_activation_values_match_numpy_formula(name):
    if name not in NUMPY_FORMULAS:
        pytest.fail(
            f"Activation {name!r} has no entry in NUMPY_FORMULAS of tests/test_activations.py."
        )
    x = np.concatenate([_inputs(name, seed=6).ravel(), [-7.0, -3.0, 0.0, 7.0]]).reshape(4, 6)
    np.testing.assert_allclose(
        activations.get(name).forward(x), NUMPY_FORMULAS[name](x), rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("case", sorted(KERAS_VALUES))
def test_activation_matches_keras_3(case):
    function, x, expected = KERAS_VALUES[case]
    np.testing.assert_allclose(function(x), expected, rtol=KERAS_RTOL, atol=KERAS_ATOL)


def test_functions_accept_lists_and_integers():
    np.testing.assert_allclose(activations.sigmoid([0, 1]), [0.5, 0.731058578630], rtol=1e-6)
    np.testing.assert_allclose(activations.elu([-1, 1]), [np.expm1(-1.0), 1.0], rtol=1e-6)
    np.testing.assert_allclose(activations.relu([1, -2]), [1.0, 0.0])
    np.testing.assert_allclose(activations.hard_sigmoid([1, 3]), [2.0 / 3.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(activations.softmax([1, 1]), [0.5, 0.5])


def test_hard_sigmoid_is_keras_3s_x_over_6_and_keras_2s_is_separate():
    assert activations.hard_sigmoid(np.array(1.0)) == pytest.approx(2.0 / 3.0)
    assert activations.hard_sigmoid_keras2(np.array(1.0)) == pytest.approx(0.7)
    np.testing.assert_allclose(activations.hard_sigmoid(np.array([-3.0, 3.0])), [0.0, 1.0])
    np.testing.assert_allclose(activations.hard_sigmoid_keras2(np.array([-2.5, 2.5])), [0.0, 1.0])
    grid = np.linspace(-6.0, 6.0, 1201)
    difference = np.abs(activations.hard_sigmoid(grid) - activations.hard_sigmoid_keras2(grid))
    assert difference.max() == pytest.approx(1.0 / 12.0)  # 0.0833, at x = ±2.5
    assert grid[np.argmax(difference)] == pytest.approx(-2.5)


def test_selu_uses_keras_full_precision_constants():
    assert activations.SELU_ALPHA == 1.6732632423543772848170429916717
    assert activations.SELU_SCALE == 1.0507009873554804934193349852946
    assert activations.selu(np.array(-50.0)) == pytest.approx(-SELU_SCALE * SELU_ALPHA, rel=1e-15)
    assert activations.selu(np.array(2.0)) == pytest.approx(2.0 * SELU_SCALE, rel=1e-15)


def test_leaky_relu_function_default_slope_is_0_2():
    assert activations.leaky_relu(np.array(-1.0)) == pytest.approx(-0.2)
    assert activations.LeakyReLU().negative_slope == 0.2
    assert activations.get("leaky_relu").negative_slope == 0.2


def test_relu_options_follow_keras_order_threshold_then_clip_then_slope():
    x = np.array([-2.0, -0.5, 0.5, 1.5, 3.0])
    relu = activations.ReLU(negative_slope=0.1, max_value=2.0, threshold=1.0)
    # x > threshold passes, clipped at max_value; below, negative_slope · (x − threshold).
    np.testing.assert_allclose(relu(x), [-0.3, -0.15, -0.05, 1.5, 2.0], rtol=1e-12)
    grad = relu.backward(np.ones_like(x), x, relu(x))
    np.testing.assert_allclose(grad, [0.1, 0.1, 0.1, 1.0, 0.0])


def test_relu_derivative_at_zero_is_zero():
    x = np.array([0.0])
    for relu in (activations.ReLU(), activations.ReLU(max_value=6.0)):
        assert relu.backward(np.ones(1), x, relu.forward(x))[0] == 0.0


def test_gelu_exact_uses_erf_and_approximate_uses_tanh():
    x = np.linspace(-5.0, 5.0, 41)
    np.testing.assert_allclose(
        activations.gelu(x), 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))), rtol=1e-14, atol=1e-300
    )
    tanh_form = 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(activations.gelu(x, approximate=True), tanh_form, rtol=1e-14)
    assert (
        np.max(np.abs(activations.gelu(x) - activations.gelu(x, approximate=True))) > 1e-4
    )  # not the same


def test_erf_matches_math_erf_to_double_precision():
    x = np.concatenate([np.linspace(-6.0, 6.0, 2401), [-30.0, -1e-8, 0.0, 1e-8, 30.0]])
    np.testing.assert_allclose(activations.erf(x), _erf(x), rtol=2e-15, atol=2e-16)
    assert activations.erf(np.float32(0.5)).dtype == np.float32


def test_softmax_and_log_softmax_are_finite_for_huge_logits():
    softmax = activations.softmax(BIG)
    log_softmax = activations.log_softmax(BIG)
    assert np.all(np.isfinite(softmax)) and np.all(np.isfinite(log_softmax))
    np.testing.assert_array_equal(softmax[0], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(log_softmax[0], [0.0, -2e4, -1e4])
    np.testing.assert_allclose(softmax.sum(axis=-1), 1.0, rtol=1e-15)
    grad_y = np.array([[0.3, -0.2, 1.0], [1.0, 2.0, -1.0]])
    for activation in (activations.Softmax(), activations.LogSoftmax()):
        y = activation.forward(BIG)
        assert np.all(np.isfinite(activation.backward(grad_y, BIG, y)))
    np.testing.assert_allclose(activations.softmax(ROWS), _np_softmax(ROWS), rtol=1e-14)


def test_softmax_along_another_axis():
    np.testing.assert_allclose(
        activations.softmax(ROWS, axis=0), _np_softmax(ROWS, axis=0), rtol=1e-14
    )
    np.testing.assert_allclose(
        activations.log_softmax(ROWS, axis=0), np.log(_np_softmax(ROWS, axis=0)), rtol=1e-14
    )


def test_sigmoid_and_softplus_do_not_overflow():
    x = np.array([-1000.0, -40.0, 40.0, 1000.0])
    with np.errstate(over="raise"):
        np.testing.assert_allclose(
            activations.sigmoid(x), [0.0, np.exp(-40.0), 1.0, 1.0], rtol=1e-12, atol=0
        )
        np.testing.assert_allclose(
            activations.softplus(x), [0.0, np.exp(-40.0), 40.0, 1000.0], rtol=1e-12, atol=0
        )


def test_step_is_one_above_zero_and_zero_elsewhere():
    np.testing.assert_array_equal(
        activations.step(np.array([-1.0, 0.0, 1e-9, 2.0])), [0.0, 0.0, 1.0, 1.0]
    )


# ---------------------------------------------------------------------------------------------------
# 3. Names, errors and configs


@pytest.mark.parametrize(
    "identifier, cls",
    [
        (None, activations.Linear),
        ("linear", activations.Linear),
        ("relu", activations.ReLU),
        ("ReLU", activations.ReLU),
        ("swish", activations.SiLU),
        ("silu", activations.SiLU),
        ("hard_sigmoid", activations.HardSigmoid),
        ("heaviside", activations.Step),
        (activations.relu, activations.ReLU),
        (activations.swish, activations.SiLU),
        (activations.Softmax, activations.Softmax),
        ({"class_name": "elu", "config": {"alpha": 0.5}}, activations.ELU),
    ],
)
def test_get_accepts_names_functions_classes_and_configs(identifier, cls):
    assert type(activations.get(identifier)) is cls


def test_get_returns_an_instance_unchanged():
    relu = activations.ReLU(max_value=6.0)
    assert activations.get(relu) is relu


def test_unknown_activation_name_suggests_the_closest_and_lists_the_known_names():
    with pytest.raises(
        ValueError, match="Unknown activation 'sigmoidd'. Did you mean 'sigmoid'?"
    ) as excinfo:
        activations.get("sigmoidd")
    message = str(excinfo.value)
    assert "Known activations: elu, exponential, gelu" in message
    for name in ACTIVATIONS.names():
        assert name in message


def test_plain_function_as_activation_is_a_type_error_saying_to_write_backward():
    def cube(x):
        return x**3

    with pytest.raises(
        TypeError, match=r"needs its derivative.*Subclass neuralnet\.activations\.Activation"
    ):
        activations.get(cube)
    with pytest.raises(TypeError, match="Cannot interpret 1.5 as an activation"):
        activations.get(1.5)


def test_serialize_gives_a_name_for_defaults_and_a_config_otherwise():
    assert activations.serialize(activations.ReLU()) == "relu"
    assert activations.serialize(activations.get("swish")) == "silu"
    assert activations.serialize(activations.ReLU(max_value=6.0)) == {
        "class_name": "relu",
        "config": {"negative_slope": 0.0, "max_value": 6.0, "threshold": 0.0},
    }


def test_serialize_unregistered_activation_names_its_class_and_module():
    # As Keras: saved by its own name; loading it then needs custom_objects (or registering).
    class Custom(activations.Tanh):
        pass

    assert activations.serialize(Custom()) == {
        "class_name": "Custom",
        "config": Custom().get_config(),
        "module": __name__,
    }
    with pytest.raises(ValueError, match="Unknown activation 'Custom'"):
        activations.deserialize(activations.serialize(Custom()))


def test_deserialize_errors():
    with pytest.raises(ValueError, match="needs a 'class_name' key"):
        activations.deserialize({"config": {}})
    with pytest.raises(ValueError, match="Did you mean 'softmax'"):
        activations.deserialize({"class_name": "softmaxx", "config": {}})


def _round_trip(activation):
    config = json.loads(json.dumps(activations.serialize(activation)))
    return activations.deserialize(config), activations.get(config)


@pytest.mark.parametrize("name", ACTIVATIONS.names())
def test_activation_config_round_trip_gives_an_equal_behaving_activation(name):
    activation = activations.get(name)
    x = _inputs(name, seed=7)
    for restored in _round_trip(activation):
        assert type(restored) is type(activation)
        assert restored == activation
        assert restored.get_config() == activation.get_config()
        np.testing.assert_array_equal(restored.forward(x), activation.forward(x))


@pytest.mark.parametrize("variant", sorted(CONFIGURED))
def test_configured_activation_round_trip_keeps_its_options(variant):
    activation, _ = CONFIGURED[variant]
    x = _smooth(seed=8)
    for restored in _round_trip(activation):
        assert type(restored) is type(activation)
        assert restored.get_config() == activation.get_config()
        assert restored == activation
        np.testing.assert_array_equal(restored.forward(x), activation.forward(x))
        grad_y = np.ones_like(x)
        np.testing.assert_array_equal(
            restored.backward(grad_y, x, restored.forward(x)),
            activation.backward(grad_y, x, activation.forward(x)),
        )


def test_activations_compare_by_type_and_options():
    assert activations.ReLU(negative_slope=0.1) == activations.ReLU(negative_slope=0.1)
    assert activations.ReLU(negative_slope=0.1) != activations.ReLU(negative_slope=0.2)
    assert activations.ReLU() != activations.LeakyReLU(0.0)
    assert len({activations.ELU(0.5), activations.ELU(0.5), activations.ELU(1.0)}) == 2
