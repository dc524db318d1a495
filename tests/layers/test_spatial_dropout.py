"""SpatialDropout1D and SpatialDropout2D (layers/spatial_dropout.py): whole feature maps dropped,
scaled by 1 / (1 − rate), the identity at inference, Keras 3's arguments and config."""

import itertools
import json

import numpy as np
import pytest

import neuralnet
from neuralnet import backend
from neuralnet.layers.dropout import Dropout
from neuralnet.layers.layer import LAYERS
from neuralnet.layers.spatial_dropout import SpatialDropout1D, SpatialDropout2D
from neuralnet.testing import check_gradients

FORMATS = ("channels_last", "channels_first")


def _make(kind, rate, data_format="channels_last", seed=0):
    if kind == "1d":
        return SpatialDropout1D(rate, seed=seed)
    return SpatialDropout2D(rate, data_format=data_format, seed=seed)


def _shape(kind, data_format, batch=6, channels=5):
    if kind == "1d":
        return (batch, 7, channels)
    if data_format == "channels_first":
        return (batch, channels, 3, 4)
    return (batch, 3, 4, channels)


def _spatial_axes(kind, data_format):
    if kind == "1d":
        return (1,)
    return (2, 3) if data_format == "channels_first" else (1, 2)


KINDS = [("1d", "channels_last"), ("2d", "channels_last"), ("2d", "channels_first")]


@pytest.mark.parametrize(
    "kind_format, rate", list(itertools.product(KINDS, [0.2, 0.5, 0.8])), ids=str
)
def test_whole_channels_are_dropped_or_kept_and_scaled(kind_format, rate, rng):
    kind, data_format = kind_format
    x = rng.uniform(0.5, 1.5, _shape(kind, data_format, batch=8, channels=6)).astype(np.float32)
    y = _make(kind, rate, data_format)(x, training=True)
    axes = _spatial_axes(kind, data_format)
    dropped = np.all(y == 0, axis=axes)
    kept = np.all(np.isclose(y, x / (1 - rate), rtol=1e-6), axis=axes)
    assert np.all(dropped ^ kept)  # each (sample, channel) map entirely one or the other
    assert dropped.any() and kept.any()


@pytest.mark.parametrize("kind, data_format", KINDS)
def test_mask_has_one_value_per_sample_and_channel(kind, data_format, rng):
    layer = _make(kind, 0.5, data_format)
    x = rng.standard_normal(_shape(kind, data_format)).astype(np.float32)
    layer(x, training=True)
    expected = {
        ("1d", "channels_last"): (6, 1, 5),
        ("2d", "channels_last"): (6, 1, 1, 5),
        ("2d", "channels_first"): (6, 5, 1, 1),
    }[(kind, data_format)]
    assert layer._mask.shape == expected


@pytest.mark.parametrize("kind, data_format", KINDS)
def test_fraction_dropped_is_about_rate_and_mean_is_kept(kind, data_format):
    rate, batch, channels = 0.3, 400, 50
    x = np.ones(_shape(kind, data_format, batch=batch, channels=channels), dtype=np.float32)
    y = _make(kind, rate, data_format, seed=7)(x, training=True)
    maps = np.all(y == 0, axis=_spatial_axes(kind, data_format))
    n = batch * channels  # independent Bernoulli(rate) draws, one per map
    assert abs(maps.mean() - rate) < 5 * np.sqrt(rate * (1 - rate) / n)
    assert abs(y.mean() - 1.0) < 5 * np.sqrt(rate / ((1 - rate) * n))


@pytest.mark.parametrize("kind, data_format", KINDS)
def test_identity_at_inference(kind, data_format, rng):
    layer = _make(kind, 0.5, data_format)
    x = rng.standard_normal(_shape(kind, data_format)).astype(np.float32)
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer(x, training=False), x)
    grad_y = rng.standard_normal(x.shape).astype(np.float32)
    np.testing.assert_array_equal(layer.backward(grad_y), grad_y)


def test_rate_zero_and_one(rng):
    x = rng.standard_normal((2, 3, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(SpatialDropout2D(0.0)(x, training=True), x)
    layer = SpatialDropout2D(1.0)
    assert not layer(x, training=True).any()
    assert not layer.backward(np.ones_like(x)).any()


@pytest.mark.parametrize("kind, data_format", KINDS)
def test_same_seed_gives_the_same_masks(kind, data_format, rng):
    x = rng.standard_normal(_shape(kind, data_format)).astype(np.float32)
    first, second = _make(kind, 0.5, data_format, 42), _make(kind, 0.5, data_format, 42)
    for _ in range(2):  # the same sequence of masks, call after call
        np.testing.assert_array_equal(first(x, training=True), second(x, training=True))
    other = _make(kind, 0.5, data_format, 43)(x, training=True)
    assert not np.array_equal(other, first(x, training=True))


def test_global_seed_makes_unseeded_layers_repeatable(rng):
    x = rng.standard_normal((4, 3, 3, 6)).astype(np.float32)
    neuralnet.utils.set_random_seed(5)
    a = SpatialDropout2D(0.5)(x, training=True)
    neuralnet.utils.set_random_seed(5)
    b = SpatialDropout2D(0.5)(x, training=True)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind, data_format", KINDS)
def test_gradient_is_the_mask(kind, data_format, rng):
    layer = _make(kind, 0.4, data_format)
    x = rng.standard_normal(_shape(kind, data_format))
    y = layer.forward(x, training=True)
    grad_y = rng.standard_normal(x.shape)
    grad_x = layer.backward(grad_y)
    np.testing.assert_allclose(grad_x, grad_y * layer._mask)
    np.testing.assert_allclose(y, x * layer._mask)
    assert set(np.unique(layer._mask)) <= {0.0, 1 / 0.6}


@pytest.mark.parametrize(
    "kind_format, rate", list(itertools.product(KINDS, [0.0, 0.3, 0.7])), ids=str
)
def test_gradients_by_finite_differences(kind_format, rate):
    kind, data_format = kind_format
    # check_gradients rewinds the layer's generator before every evaluation: one fixed mask
    layer = _make(kind, rate, data_format, seed=3)
    check_gradients(layer, input_shape=_shape(kind, data_format, batch=2, channels=3))


# -- arguments, config, errors ------------------------------------------------------------------


def test_is_a_dropout_and_data_format_defaults_to_the_config():
    assert isinstance(SpatialDropout1D(0.1), Dropout)
    assert SpatialDropout2D(0.1).data_format == "channels_last"
    backend.set_image_data_format("channels_first")
    try:
        layer = SpatialDropout2D(0.1)
    finally:
        backend.set_image_data_format("channels_last")
    assert layer.data_format == "channels_first"
    assert SpatialDropout2D(0.1, data_format="CHANNELS_FIRST").data_format == "channels_first"


@pytest.mark.parametrize(
    "layer",
    [SpatialDropout1D(0.25, seed=3), SpatialDropout2D(0.5, data_format="channels_first")],
    ids=["1d", "2d"],
)
def test_config_has_keras_keys_and_round_trips(layer):
    config = layer.get_config()
    keras_keys = {"rate", "seed", "name", "dtype"}
    if isinstance(layer, SpatialDropout2D):
        keras_keys.add("data_format")
    assert keras_keys <= set(config) and "noise_shape" not in config
    again = type(layer).from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config
    assert LAYERS.lookup(type(layer).__name__) is type(layer)


def test_config_values():
    assert SpatialDropout1D(0.25, seed=3).get_config()["seed"] == 3
    assert SpatialDropout2D(0.5).get_config()["seed"] is None  # Keras keeps the key
    assert SpatialDropout2D(0.5, data_format="channels_first").get_config()["data_format"] == (
        "channels_first"
    )


@pytest.mark.parametrize(
    "layer, shape, layout",
    [
        (SpatialDropout1D(0.5), (2, 4), r"\(batch, steps, channels\)"),
        (SpatialDropout2D(0.5), (2, 4, 4), r"\(batch, height, width, channels\)"),
        (
            SpatialDropout2D(0.5, data_format="channels_first"),
            (2, 3, 4, 4, 1),
            r"\(batch, channels, height, width\)",
        ),
    ],
    ids=["1d", "2d", "2d-first"],
)
def test_wrong_rank_names_the_layout(layer, shape, layout):
    name = type(layer).__name__
    with pytest.raises(ValueError, match=rf"{name} '.*' expected inputs of rank .*{layout}"):
        layer(np.zeros(shape, dtype=np.float32), training=True)


def test_wrong_rank_after_build_is_refused():
    layer = SpatialDropout1D(0.5)
    layer(np.zeros((2, 3, 4), dtype=np.float32))
    with pytest.raises(
        ValueError, match=r"rank 3.*received an input of rank 2 with shape \(2, 3\)"
    ):
        layer(np.zeros((2, 3), dtype=np.float32))
    layer(np.zeros((2, 9, 4), dtype=np.float32))  # other step counts are fine, as Keras


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: SpatialDropout2D(0.5, data_format="nhwc"), ValueError, r"SpatialDropout2D .*nhwc"),
        (lambda: SpatialDropout1D(1.5), ValueError, "rate"),
        (lambda: SpatialDropout2D(-0.1), ValueError, "rate"),
        (lambda: SpatialDropout1D(0.5, noise_shape=(None, 1, None)), TypeError, "noise_shape"),
    ],
)
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_in_a_model_drops_only_in_training(rng):
    model = neuralnet.Sequential(
        [neuralnet.Input((4, 4, 3)), SpatialDropout2D(0.5, seed=1), neuralnet.layers.Flatten()]
    )
    x = rng.standard_normal((5, 4, 4, 3)).astype(np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x.reshape(5, -1))
    y = model(x, training=True).reshape(x.shape)
    assert np.all(np.all(y == 0, axis=(1, 2)) | np.all(np.isclose(y, 2 * x), axis=(1, 2)))
