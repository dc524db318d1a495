"""UpSampling, ZeroPadding and Cropping in 1D and 2D (layers/resizing.py): Keras 3's numbers,
shapes and configs, and gradients checked by finite differences."""

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

import neuralnet
from neuralnet import backend
from neuralnet.layers import resizing
from neuralnet.layers.layer import LAYERS
from neuralnet.layers.resizing import (
    Cropping1D,
    Cropping2D,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from neuralnet.testing import check_gradients

FORMATS = ("channels_last", "channels_first")
KERAS_VALUES = Path(__file__).parent / "keras_values" / "resizing.npz"


def _keras_cases():
    with np.load(KERAS_VALUES) as data:
        described = json.loads(str(data["cases"]))
        return [(c, data[f"x_{i}"], data[f"y_{i}"]) for i, c in enumerate(described)]


KERAS_CASES = _keras_cases()


def _image_shape(data_format, height=3, width=4, channels=2, batch=2):
    if data_format == "channels_first":
        return (batch, channels, height, width)
    return (batch, height, width, channels)


def _case_id(case):
    described = case[0]
    return f"{described['layer']}-{json.dumps(described['args'], separators=(',', ':'))}"


# -- against Keras 3 ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", KERAS_CASES, ids=[_case_id(c) for c in KERAS_CASES])
def test_forward_matches_keras(case):
    described, x, expected = case
    layer = getattr(resizing, described["layer"])(**described["args"])
    y = layer(x)
    assert y.dtype == np.float32 and y.shape == expected.shape
    # bilinear weights are computed in float32 by JAX, in float32 here: a few ulps apart
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("case", KERAS_CASES, ids=[_case_id(c) for c in KERAS_CASES])
def test_output_shape_and_config_match_keras(case):
    described, x, _ = case
    layer = getattr(resizing, described["layer"])(**described["args"])
    data_format = getattr(layer, "data_format", "channels_last")
    assert list(layer.compute_output_shape((None, *x.shape[1:]))) == described["output_shape"]
    channels = x.shape[1] if data_format == "channels_first" else x.shape[-1]
    unknown = (
        (None, channels, *([None] * (x.ndim - 2)))
        if data_format == "channels_first"
        else (None, *([None] * (x.ndim - 2)), channels)
    )
    assert list(layer.compute_output_shape(unknown)) == described["unknown_output_shape"]
    config = layer.get_config()
    assert {"name", "trainable", "dtype"} <= set(config)
    own = {k: v for k, v in config.items() if k not in ("name", "trainable", "dtype")}
    assert json.loads(json.dumps(own)) == described["keras_config"]


def test_keras_grid_covers_every_layer_bilinear_and_channels_first():
    names = {c["layer"] for c, _, _ in KERAS_CASES}
    assert names == {"UpSampling1D", "UpSampling2D", "ZeroPadding1D", "ZeroPadding2D",
                     "Cropping1D", "Cropping2D"}  # fmt: skip
    args = [c["args"] for c, _, _ in KERAS_CASES]
    assert any(a.get("interpolation", "").lower() == "bilinear" for a in args)
    assert any(
        a.get("interpolation") == "bilinear" and a.get("data_format") == "channels_first"
        for a in args
    )
    assert KERAS_VALUES.stat().st_size < 300_000


# -- gradients ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size, interpolation, data_format",
    list(itertools.product([1, 2, (1, 3), (3, 2)], ["nearest", "bilinear"], FORMATS)),
)
def test_upsampling2d_gradients(size, interpolation, data_format):
    layer = UpSampling2D(size, data_format=data_format, interpolation=interpolation)
    check_gradients(layer, input_shape=_image_shape(data_format, height=3, width=2))


@pytest.mark.parametrize("size", [1, 2, 3])
def test_upsampling1d_gradients(size):
    check_gradients(UpSampling1D(size), input_shape=(2, 3, 2))


@pytest.mark.parametrize(
    "padding, data_format", list(itertools.product([0, 1, (0, 2), (2, 1)], FORMATS))
)
def test_zero_padding1d_gradients(padding, data_format):
    shape = (2, 2, 3) if data_format == "channels_first" else (2, 3, 2)
    check_gradients(ZeroPadding1D(padding, data_format=data_format), input_shape=shape)


@pytest.mark.parametrize(
    "padding, data_format",
    list(itertools.product([0, 1, (2, 0), ((1, 2), (0, 3)), (1, (0, 2))], FORMATS)),
)
def test_zero_padding2d_gradients(padding, data_format):
    layer = ZeroPadding2D(padding, data_format=data_format)
    check_gradients(layer, input_shape=_image_shape(data_format))


@pytest.mark.parametrize("cropping", [0, 1, (0, 2), (2, 1)])
def test_cropping1d_gradients(cropping):
    check_gradients(Cropping1D(cropping), input_shape=(2, 5, 2))


@pytest.mark.parametrize(
    "cropping, data_format",
    list(itertools.product([0, 1, (2, 0), ((1, 2), (0, 3)), ((0, 0), (1, 0))], FORMATS)),
)
def test_cropping2d_gradients(cropping, data_format):
    layer = Cropping2D(cropping, data_format=data_format)
    check_gradients(layer, input_shape=_image_shape(data_format, height=5, width=5))


# -- what the layers compute --------------------------------------------------------------------


def test_upsampling_nearest_repeats_and_backward_sums_each_block(rng):
    x = rng.standard_normal((2, 2, 3, 4)).astype(np.float32)
    layer = UpSampling2D((2, 3))
    y = layer(x)
    np.testing.assert_array_equal(y[:, 3, 7], x[:, 1, 2])
    grad_y = rng.standard_normal(y.shape).astype(np.float32)
    grad_x = layer.backward(grad_y)
    np.testing.assert_allclose(grad_x[:, 1, 2], grad_y[:, 2:4, 6:9].sum(axis=(1, 2)), rtol=1e-6)
    one_d = UpSampling1D(3)
    np.testing.assert_array_equal(one_d(x[:, 0])[:, 4], x[:, 0, 1])


def test_bilinear_matrix_uses_half_pixel_centres_and_clamps_the_edges():
    w = resizing.bilinear_matrix(3, 2)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    # output 0 samples at -0.25 (clamped to the first pixel), output 1 at 0.25
    np.testing.assert_allclose(w[:2], [[1, 0, 0], [0.75, 0.25, 0]])
    np.testing.assert_allclose(w[-1], [0, 0, 1])
    np.testing.assert_allclose(resizing.bilinear_matrix(1, 4), np.ones((4, 1)))


def test_bilinear_upsampling_of_a_ramp_is_linear_inside():
    x = np.arange(4, dtype=np.float64).reshape(1, 4, 1, 1)
    y = UpSampling2D((2, 1), interpolation="bilinear", dtype="float64")(x)
    np.testing.assert_allclose(y[0, :, 0, 0], [0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3])


def test_padding_adds_zeros_and_cropping_keeps_the_window(rng):
    x = rng.standard_normal((2, 3, 4, 2)).astype(np.float32)
    y = ZeroPadding2D(((1, 2), (0, 3)))(x)
    assert y.shape == (2, 6, 7, 2)
    np.testing.assert_array_equal(y[:, 1:4, 0:4], x)
    assert not y[:, 0].any() and not y[:, 4:].any() and not y[:, :, 4:].any()
    cropped = Cropping2D(((1, 0), (0, 1)), data_format="channels_first")(x)
    np.testing.assert_array_equal(cropped, x[:, :, 1:, :1])
    np.testing.assert_array_equal(Cropping1D((1, 0))(x[:, :, 0]), x[:, 1:, 0])
    np.testing.assert_array_equal(ZeroPadding1D(2)(x[..., 0])[:, 2:5], x[..., 0])


def test_cropping_backward_puts_zeros_where_the_crop_was(rng):
    layer = Cropping2D(((1, 1), (2, 0)))
    x = rng.standard_normal((2, 4, 4, 1))
    y = layer.forward(x)
    grad_x = layer.backward(np.ones_like(y))
    assert grad_x.shape == x.shape
    assert grad_x.sum() == y.size and not grad_x[:, 0].any() and not grad_x[:, :, :2].any()


def test_default_data_format_follows_the_config():
    backend.set_image_data_format("channels_first")
    try:
        layer = ZeroPadding2D(1)
        up = UpSampling2D()
    finally:
        backend.set_image_data_format("channels_last")
    assert layer.data_format == up.data_format == "channels_first"
    assert layer.compute_output_shape((None, 3, 4, 5)) == (None, 3, 6, 7)
    assert UpSampling2D().data_format == "channels_last"


def test_sequential_gives_the_right_shape():
    model = neuralnet.Sequential(
        [
            neuralnet.Input((6, 6, 2)),
            layers_zero_padding := ZeroPadding2D(),
            Cropping2D(1),
            UpSampling2D(),
        ]
    )
    assert layers_zero_padding.output_shape == (None, 8, 8, 2)
    assert model.output_shape == (None, 12, 12, 2)
    y = model.predict(np.ones((3, 6, 6, 2), dtype=np.float32), verbose=0)
    assert y.shape == (3, 12, 12, 2)
    np.testing.assert_array_equal(y, 1.0)  # the padding is cropped off again


def test_layers_take_any_spatial_size_after_build(rng):
    layer = UpSampling2D(interpolation="bilinear")
    assert layer(rng.standard_normal((1, 2, 3, 1))).shape == (1, 4, 6, 1)
    assert layer(rng.standard_normal((2, 5, 1, 1))).shape == (2, 10, 2, 1)


# -- configs ------------------------------------------------------------------------------------

CONFIG_CASES = [
    (UpSampling1D, {"size": 3}),
    (UpSampling2D, {"size": (1, 3), "data_format": "channels_first", "interpolation": "bilinear"}),
    (ZeroPadding1D, {"padding": (0, 2), "data_format": "channels_first"}),
    (ZeroPadding2D, {"padding": ((1, 2), (0, 3))}),
    (Cropping1D, {"cropping": 2}),
    (Cropping2D, {"cropping": (1, 2), "data_format": "channels_first"}),
]


@pytest.mark.parametrize("cls, args", CONFIG_CASES, ids=[c.__name__ for c, _ in CONFIG_CASES])
def test_config_round_trips_through_json(cls, args):
    layer = cls(**args, name="resize_me")
    config = layer.get_config()
    again = cls.from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config and again.name == "resize_me"
    assert LAYERS.lookup(cls.__name__) is cls  # registered, so models using it can be loaded


def test_configs_normalize_the_arguments():
    assert ZeroPadding2D(2).get_config()["padding"] == ((2, 2), (2, 2))
    assert ZeroPadding2D((1, (2, 3))).padding == ((1, 1), (2, 3))
    assert Cropping2D(1).cropping == ((1, 1), (1, 1))
    assert Cropping1D(2).cropping == (2, 2)
    assert UpSampling2D(3, interpolation="Bilinear").get_config()["size"] == (3, 3)
    assert UpSampling2D(interpolation="Bilinear").interpolation == "bilinear"
    assert ZeroPadding1D().get_config()["padding"] == (1, 1)


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls, shape, layout",
    [
        (UpSampling2D, (2, 4, 4), r"\(batch, height, width, channels\)"),
        (ZeroPadding2D, (2, 4, 4, 2, 1), r"\(batch, height, width, channels\)"),
        (Cropping2D, (2, 4, 4), r"\(batch, height, width, channels\)"),
        (UpSampling1D, (2, 4), r"\(batch, steps, channels\)"),
        (ZeroPadding1D, (2, 4, 4, 1), r"\(batch, steps, channels\)"),
        (Cropping1D, (4, 3), r"\(batch, steps, channels\)"),
    ],
)
def test_wrong_rank_names_the_layout(cls, shape, layout):
    with pytest.raises(ValueError, match=rf"{cls.__name__} '.*' expected inputs of rank.*{layout}"):
        cls()(np.zeros(shape, dtype=np.float32))


def test_wrong_rank_after_build_is_refused_too():
    layer = UpSampling2D(data_format="channels_first")
    layer(np.zeros((1, 2, 3, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(batch, channels, height, width\).*\(1, 2, 3\)"):
        layer(np.zeros((1, 2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"rank 4"):
        layer(neuralnet.Input((3, 3)))


def test_cropping_that_removes_an_axis_is_refused():
    with pytest.raises(
        ValueError,
        match=r"Cropping2D 'cropping2d': cropping \(\(3, 3\), \(0, 0\)\) removes all 5 rows of "
        r"inputs of shape \(2, 5, 7, 2\)",
    ):
        Cropping2D(((3, 3), (0, 0)))(np.zeros((2, 5, 7, 2), dtype=np.float32))
    with pytest.raises(ValueError, match=r"removes all 4 columns .*\(None, 2, 3, 4\)"):
        Cropping2D((0, 2), data_format="channels_first")(neuralnet.Input((2, 3, 4)))
    with pytest.raises(ValueError, match=r"Cropping1D .*cropping \(2, 1\) removes all 3 steps"):
        Cropping1D((2, 1))(np.zeros((1, 3, 2), dtype=np.float32))
    layer = Cropping1D(1)
    layer(np.zeros((1, 5, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="removes all 2 steps"):  # checked at every call
        layer(np.zeros((1, 2, 2), dtype=np.float32))
    assert Cropping2D(2).compute_output_shape((None, None, 5, 1)) == (None, None, 1, 1)


@pytest.mark.parametrize(
    "make, match",
    [
        (
            lambda: ZeroPadding1D(-1),
            r"ZeroPadding1D 'zero_padding1d': `padding` .*non-negative.*-1",
        ),
        (lambda: ZeroPadding1D((1, 2, 3)), r"`padding` must be .*\(1, 2, 3\)"),
        (
            lambda: ZeroPadding2D((1, -2)),
            r"ZeroPadding2D .*`padding`.*\(\(top, bottom\).*\(1, -2\)",
        ),
        (lambda: ZeroPadding2D(((1, 1), (1, 1), (1, 1))), r"`padding`"),
        (lambda: ZeroPadding2D("same"), r"`padding`.*'same'"),
        (lambda: Cropping1D((-1, 0)), r"Cropping1D .*`cropping`.*non-negative"),
        (lambda: Cropping2D(-1), r"Cropping2D .*`cropping`.*-1"),
        (lambda: Cropping2D(((0, 1), (2, -1))), r"Cropping2D .*`cropping`"),
        (lambda: UpSampling1D(0), r"UpSampling1D .*`size`.*positive"),
        (lambda: UpSampling2D((2, 0)), r"UpSampling2D .*`size`.*positive"),
        (lambda: UpSampling2D(data_format="NHWC"), r"UpSampling2D .*data_format='NHWC'"),
        (lambda: ZeroPadding2D(data_format="channel_last"), r"'channels_last' or 'channels_first'"),
        (lambda: Cropping2D(data_format="last"), r"Cropping2D .*`data_format`"),
        (lambda: ZeroPadding1D(data_format="x"), r"ZeroPadding1D .*`data_format`"),
    ],
)
def test_bad_arguments_raise_value_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("interpolation", ["bicubic", "lanczos3", "area", "linear"])
def test_unsupported_interpolation_lists_the_supported_ones(interpolation):
    with pytest.raises(
        ValueError, match=rf"`interpolation` must be one of 'nearest', 'bilinear'.*{interpolation}"
    ):
        UpSampling2D(interpolation=interpolation)
