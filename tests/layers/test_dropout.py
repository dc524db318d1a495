"""Dropout (layers/dropout.py): inverted dropout, the identity at inference, Keras 3's arguments."""

import numpy as np
import pytest

import neuralnet
from neuralnet import layers
from neuralnet.testing import check_gradients


def test_dropout_is_inverted_kept_values_scaled_by_one_over_keep(rng):
    x = rng.standard_normal((50, 40)).astype(np.float32)
    y = layers.Dropout(0.25, seed=0)(x, training=True)
    kept = y != 0
    assert 0 < kept.sum() < x.size
    np.testing.assert_allclose(y[kept], x[kept] / 0.75, rtol=1e-6)
    # Keras 3: rate 0.25 keeps values 1.3333
    ones = layers.Dropout(0.25, seed=0)(np.ones((4, 5)), training=True)
    assert set(np.unique(ones)) <= {0.0, np.float32(4 / 3)}


def test_dropout_is_the_identity_at_inference(rng):
    x = rng.standard_normal((8, 6))
    layer = layers.Dropout(0.5, seed=0)
    np.testing.assert_array_equal(layer(x), x.astype(np.float32))  # training not passed
    np.testing.assert_array_equal(layer(x, training=False), x.astype(np.float32))
    grad_y = rng.standard_normal((8, 6))
    np.testing.assert_array_equal(layer.backward(grad_y), grad_y)


def test_rate_zero_is_the_identity_in_training(rng):
    x = rng.standard_normal((8, 6)).astype(np.float32)
    np.testing.assert_array_equal(layers.Dropout(0.0)(x, training=True), x)


def test_rate_one_gives_all_zeros_and_zero_gradient(rng):
    x = rng.standard_normal((8, 6)).astype(np.float32)
    layer = layers.Dropout(1.0)
    y = layer(x, training=True)
    assert y.shape == x.shape and not y.any()
    assert not layer.backward(np.ones_like(x)).any()


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5, 0.8])
def test_zero_fraction_is_about_rate_and_mean_is_kept(rate):
    n = 200_000
    y = layers.Dropout(rate, seed=123)(np.ones((n,)).reshape(400, 500), training=True)
    zero_fraction = np.mean(y == 0)
    # the number of zeros is Binomial(n, rate): 5 standard deviations is never hit by chance
    assert abs(zero_fraction - rate) < 5 * np.sqrt(rate * (1 - rate) / n)
    # the mean of x·mask/(1 − rate) is 1 with standard deviation sqrt(rate / ((1 − rate) n))
    assert abs(y.mean() - 1.0) < 5 * np.sqrt(rate / ((1 - rate) * n))


def test_backward_uses_the_mask_of_the_last_forward(rng):
    layer = layers.Dropout(0.4, seed=5)
    x = np.ones((20, 30), dtype=np.float32)
    y = layer.forward(x, training=True)
    grad_y = rng.standard_normal((20, 30)).astype(np.float32)
    grad_x = layer.backward(grad_y)
    np.testing.assert_allclose(grad_x, grad_y * y, rtol=1e-6)  # y is the mask itself: 0 or 1/0.6
    assert np.array_equal(grad_x == 0, y == 0)


def test_dropout_gradient_check_with_its_fixed_mask():
    report = check_gradients(layers.Dropout(0.5, seed=1), input_shape=(6, 7), training=True)
    assert set(report.errors) == {"x"}
    check_gradients(layers.Dropout(0.5, seed=1), input_shape=(6, 7), training=False)
    check_gradients(layers.Dropout(0.3), input_shape=(4, 3, 5), training=True)  # unseeded too


def test_seed_makes_masks_repeatable_and_successive_calls_differ():
    x = np.ones((10, 10))
    a, b = layers.Dropout(0.5, seed=3), layers.Dropout(0.5, seed=3)
    first_a, first_b = a(x, training=True), b(x, training=True)
    np.testing.assert_array_equal(first_a, first_b)
    assert not np.array_equal(a(x, training=True), first_a)  # the generator moves on, as Keras's
    assert not np.array_equal(layers.Dropout(0.5, seed=4)(x, training=True), first_a)


def test_unseeded_masks_follow_the_global_seed():
    def masks():
        neuralnet.utils.set_random_seed(99)
        return layers.Dropout(0.5)(np.ones((10, 10)), training=True)

    np.testing.assert_array_equal(masks(), masks())


def test_noise_shape_broadcasts_the_mask():
    x = np.ones((6, 4, 5))
    y = layers.Dropout(0.5, noise_shape=(None, 1, 5), seed=2)(x, training=True)
    # the same features are dropped at every step of a sample
    assert np.all(y == y[:, :1, :])
    assert 0 < np.count_nonzero(y) < y.size
    # a fixed batch entry: the same mask for every sample
    y = layers.Dropout(0.5, noise_shape=(1, 4, 5), seed=2)(x, training=True)
    assert np.all(y == y[:1])
    check_gradients(layers.Dropout(0.5, noise_shape=(None, 1, 5), seed=2), input_shape=(3, 4, 5))


@pytest.mark.parametrize("noise_shape", [(None, 5), (None, 3, 5), (1, 2, 3, 5)])
def test_noise_shape_that_does_not_broadcast_is_rejected(noise_shape):
    with pytest.raises(
        ValueError, match=r"noise_shape=.*does not broadcast to inputs of shape \(6, 4, 5\)"
    ):
        layers.Dropout(0.5, noise_shape=noise_shape)(np.ones((6, 4, 5)), training=True)


def test_rate_has_no_default():
    with pytest.raises(TypeError, match="rate"):
        layers.Dropout()


@pytest.mark.parametrize("rate", [-0.1, 1.5, float("nan"), "0.5"])
def test_rate_outside_zero_one_is_rejected(rate):
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(rate)


def test_dropout_does_not_write_into_its_input(rng):
    x = rng.standard_normal((5, 6)).astype(np.float32)
    x_copy = x.copy()
    layers.Dropout(0.5, seed=0)(x, training=True)
    np.testing.assert_array_equal(x, x_copy)


def test_dropout_keeps_the_dtype():
    y = layers.Dropout(0.5, dtype="float64", seed=0)(np.ones((3, 4)), training=True)
    assert y.dtype == np.float64
    assert layers.Dropout(0.5, seed=0)(np.ones((3, 4)), training=True).dtype == np.float32


def test_dropout_config():
    config = layers.Dropout(0.3, noise_shape=(None, 1), seed=8).get_config()
    assert config["rate"] == 0.3
    assert tuple(config["noise_shape"]) == (None, 1)
    assert config["seed"] == 8
