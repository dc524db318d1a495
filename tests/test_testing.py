"""check_gradients itself (testing.py): it passes correct backwards, and it catches wrong ones.

The toy layers are defined here and deliberately not registered, so that they do not join the
registry that tests/layers/test_layer.py walks.
"""

import numpy as np
import pytest

import neuralnet
from neuralnet import activations, layers, losses
from neuralnet.layers import Layer
from neuralnet.testing import GradientReport, check_gradients, numerical_gradient


class Affine(Layer):
    """y = x · w + b, element-wise with one w and b per feature; `mistake` breaks one gradient."""

    def __init__(self, mistake=None, **kwargs):
        super().__init__(**kwargs)
        self.mistake = mistake

    def build(self, input_shape):
        self.add_weight("w", (input_shape[-1],), initializer="random_normal")
        self.add_weight("b", (input_shape[-1],), initializer="random_normal")

    def forward(self, x, *, training=False):
        self._x = x
        return x * self.params["w"] + self.params["b"]

    def backward(self, grad_y):
        w_grad = np.sum(grad_y * self._x, axis=0)
        self.grads["w"][...] = 2 * w_grad if self.mistake == "w" else w_grad
        if self.mistake != "stale_b":  # "stale_b": b's gradient is never written
            self.grads["b"][...] = np.sum(grad_y, axis=0)
        if self.mistake == "x":
            return grad_y  # forgot the factor w
        if self.mistake == "constant_upstream":
            return np.mean(grad_y) * self.params["w"] * np.ones_like(grad_y)
        return grad_y * self.params["w"]


class Noisy(Layer):
    """y = x · ε with fresh ε ~ N(0, 1) at every forward (like Dropout, but denser)."""

    def __init__(self, reuse_noise=True, **kwargs):
        super().__init__(**kwargs)
        self.reuse_noise = reuse_noise

    def forward(self, x, *, training=False):
        self._noise = self.rng.standard_normal(x.shape)
        return x * self._noise

    def backward(self, grad_y):
        noise = self._noise if self.reuse_noise else self.rng.standard_normal(grad_y.shape)
        return grad_y * noise


class Pair(Layer):
    """y = x₀ · x₁ (two inputs)."""

    multi_input = True

    def forward(self, x, *, training=False):
        self._x = x
        return x[0] * x[1]

    def backward(self, grad_y):
        return [grad_y * self._x[1], grad_y * self._x[0] * (3.0 if self.name == "wrong" else 1.0)]


# -- it passes what is right -----------------------------------------------------------------------


def test_correct_layer_passes_with_an_error_per_array():
    report = check_gradients(Affine(), input_shape=(5, 4))
    assert isinstance(report, GradientReport)
    assert list(report.errors) == ["x", "w", "b"]
    assert set(report.max_abs_errors) == {"x", "w", "b"}
    assert report.passed and report.failures == {}
    assert report.max_error < 1e-8
    assert report.rtol == 1e-6


def test_the_layer_is_built_in_float64():
    layer = Affine()
    check_gradients(layer, input_shape=(5, 4))
    assert layer.params["w"].dtype == np.float64
    assert neuralnet.config.floatx() == "float32"  # restored afterwards


def test_explicit_input_is_used_and_not_modified(rng):
    x = rng.standard_normal((3, 4))
    x_copy = x.copy()
    report = check_gradients(layers.Dense(2), x=x)
    assert report.passed
    np.testing.assert_array_equal(x, x_copy)


def test_check_inputs_false_checks_only_parameters():
    report = check_gradients(Affine(mistake="x"), input_shape=(5, 4), check_inputs=False)
    assert list(report.errors) == ["w", "b"]
    assert report.passed


# -- it catches what is wrong ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mistake", "failing"),
    [("x", {"x"}), ("w", {"w"}), ("stale_b", {"b"}), ("constant_upstream", {"x"})],
)
def test_wrong_backward_is_detected_and_named(mistake, failing):
    report = check_gradients(Affine(mistake=mistake), input_shape=(5, 4), raise_on_failure=False)
    assert not report.passed
    assert set(report.failures) == failing
    for name in set(report.errors) - failing:
        assert report.errors[name] < 1e-8  # the other arrays are still reported as right
    for name in failing:
        assert report.errors[name] > 1e-2


def test_wrong_backward_raises_with_the_report():
    with pytest.raises(AssertionError, match=r"Gradient check of layer 'affine' failed") as info:
        check_gradients(Affine(mistake="w"), input_shape=(5, 4))
    message = str(info.value)
    assert "relative error above rtol=1e-06" in message
    flagged = [line for line in message.splitlines() if "<-- above rtol" in line]
    assert len(flagged) == 1 and flagged[0].startswith("w ")


def test_report_string_lists_every_array():
    text = str(check_gradients(Affine(), input_shape=(3, 2)))
    lines = text.splitlines()
    assert "relative error" in lines[0]
    assert [line.split()[0] for line in lines[1:]] == ["x", "w", "b"]
    assert "above rtol" not in text


def test_rtol_is_the_threshold():
    report = check_gradients(
        Affine(mistake="w"), input_shape=(5, 4), rtol=1.0, raise_on_failure=False
    )
    assert report.passed  # a relative error is at most 1
    assert report.errors["w"] == pytest.approx(1 / 3, rel=1e-6)  # ‖2a − a‖ / (‖2a‖ + ‖a‖)


def test_wrong_gradient_of_one_of_several_inputs_is_named():
    assert check_gradients(Pair(), input_shape=[(3, 4), (3, 4)]).errors.keys() == {"x[0]", "x[1]"}
    report = check_gradients(
        Pair(name="wrong"), input_shape=[(3, 4), (3, 4)], raise_on_failure=False
    )
    assert set(report.failures) == {"x[1]"}


# -- randomness ------------------------------------------------------------------------------------


def test_random_layer_is_checked_with_replayed_random_numbers():
    report = check_gradients(Noisy(), input_shape=(6, 5))
    assert report.max_error < 1e-8


def test_without_replaying_the_random_numbers_finite_differences_are_meaningless(rng):
    # the reason check_gradients rewinds the generators: with new noise at every forward pass the
    # differences measure the noise, not the derivative
    layer = Noisy(seed=0)
    x = rng.standard_normal((6, 5))
    g = rng.standard_normal((6, 5))
    layer.forward(x)
    analytic = layer.backward(g)
    numeric = numerical_gradient(lambda: float(np.sum(layer.forward(x) * g)), x)
    assert np.linalg.norm(analytic - numeric) > np.linalg.norm(analytic)


def test_random_layer_using_a_different_mask_in_backward_is_detected():
    report = check_gradients(Noisy(reuse_noise=False), input_shape=(6, 5), raise_on_failure=False)
    assert set(report.failures) == {"x"}


@pytest.mark.parametrize("seed", [None, 3])
def test_dropout_passes_with_its_fixed_mask(seed):
    layer = layers.Dropout(0.5, seed=seed)
    report = check_gradients(layer, input_shape=(8, 6), training=True)
    assert report.max_error < 1e-8
    # the mask really was random: some inputs dropped, some kept
    y = layer.forward(np.ones((8, 6)), training=True)
    assert 0 < np.count_nonzero(y) < y.size


def test_dropout_with_a_wrong_scale_is_detected():
    class UnscaledBackward(layers.Dropout):
        def backward(self, grad_y):
            return grad_y * (self._mask != 0)  # forgot 1 / (1 − rate)

    report = check_gradients(UnscaledBackward(0.5), input_shape=(8, 6), raise_on_failure=False)
    assert set(report.failures) == {"x"}


# -- activations and losses ------------------------------------------------------------------------


def test_activation_and_loss_targets():
    assert check_gradients(activations.get("tanh"), input_shape=(4, 3)).passed

    class BadSigmoid(activations.Sigmoid):
        def backward(self, grad_y, x, y):
            return grad_y * y  # forgot (1 − y)

    report = check_gradients(BadSigmoid(), input_shape=(4, 3), raise_on_failure=False)
    assert set(report.failures) == {"x"}

    rng = np.random.default_rng(1)
    y_true, y_pred = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    report = check_gradients(losses.get("mse"), x=y_pred, y=y_true)
    assert list(report.errors) == ["y_pred"] and report.passed


# -- numerical_gradient and argument errors --------------------------------------------------------


def test_numerical_gradient_of_a_cubic_and_restores_the_array(rng):
    a = rng.standard_normal((3, 4))
    a_copy = a.copy()
    grad = numerical_gradient(lambda: float(np.sum(a**3)), a)
    np.testing.assert_allclose(grad, 3 * a_copy**2, rtol=1e-7)
    np.testing.assert_array_equal(a, a_copy)


def test_numerical_gradient_needs_a_contiguous_array():
    a = np.ones((3, 4))[:, :3]  # no flat view of this exists
    with pytest.raises(ValueError, match="contiguous"):
        numerical_gradient(lambda: float(np.sum(a)), a)


def test_a_layer_built_in_float32_is_rejected():
    layer = layers.Dense(2)
    layer(np.ones((1, 3)))
    with pytest.raises(ValueError, match="dense/kernel is float32; pass an unbuilt layer"):
        check_gradients(layer, input_shape=(2, 3))


def test_missing_input_and_unsupported_target():
    with pytest.raises(ValueError, match="give `x` or `input_shape`"):
        check_gradients(Affine())
    with pytest.raises(TypeError, match="cannot check"):
        check_gradients(lambda x: x, input_shape=(2, 2))
    with pytest.raises(ValueError, match="needs `y`"):
        check_gradients(losses.get("mse"), input_shape=(2, 2))
