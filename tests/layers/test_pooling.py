"""Pooling layers (layers/pooling.py): Keras 3's numbers, shapes, configs and errors, and gradients."""

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

import neuralnet
from neuralnet import layers
from neuralnet.layers import pooling
from neuralnet.layers.layer import LAYERS
from neuralnet.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from neuralnet.testing import check_gradients

WINDOWED = [MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D]
GLOBAL = [GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D]
FORMATS = ["channels_last", "channels_first"]


def _rank(cls):
    return 1 if cls.__name__.endswith("1D") else 2


def _input_shape(cls, data_format, spatial=(5, 6), batch=2, channels=3):
    spatial = spatial[-_rank(cls) :]
    if data_format == "channels_first":
        return (batch, channels, *spatial)
    return (batch, *spatial, channels)


def _windowed_cases():
    for cls, pool, strides, padding, data_format in itertools.product(
        WINDOWED, [2, 3, (2, 3)], [None, 1, 2], ["valid", "same"], FORMATS
    ):
        if _rank(cls) == 1 and isinstance(pool, tuple):
            continue  # a 1D window has one size
        sizes = (pool,) * _rank(cls) if isinstance(pool, int) else pool
        if padding == "valid" and any(p > n for p, n in zip(sizes, (5, 6)[-_rank(cls) :])):
            continue
        yield pytest.param(
            cls, pool, strides, padding, data_format,
            id=f"{cls.__name__}-p{pool}-s{strides}-{padding}-{data_format}",
        )  # fmt: skip


# -- 1. gradients -------------------------------------------------------------------------------


@pytest.mark.parametrize("cls, pool, strides, padding, data_format", list(_windowed_cases()))
def test_windowed_pooling_gradients(cls, pool, strides, padding, data_format):
    layer = cls(pool, strides=strides, padding=padding, data_format=data_format)
    # Random normal input: no two values of a window within the finite-difference step.
    check_gradients(layer, input_shape=_input_shape(cls, data_format))


@pytest.mark.parametrize(
    "cls, keepdims, data_format", list(itertools.product(GLOBAL, [False, True], FORMATS))
)
def test_global_pooling_gradients(cls, keepdims, data_format):
    layer = cls(data_format=data_format, keepdims=keepdims)
    check_gradients(layer, input_shape=_input_shape(cls, data_format, spatial=(4, 3)))


# -- 2. Keras 3's numbers -------------------------------------------------------------------------

_KERAS = np.load(Path(__file__).parent / "keras_values" / "pooling.npz")
_CONFIGS = json.loads(str(_KERAS["configs"]))


@pytest.mark.parametrize(
    "i", range(len(_CONFIGS)), ids=[f"{c['class']}-{i}" for i, c in enumerate(_CONFIGS)]
)
def test_matches_keras(i):
    config = _CONFIGS[i]
    layer = getattr(pooling, config["class"])(**config["kwargs"])
    x = _KERAS[f"x/{config['input']}"]
    y = layer(x)
    expected = _KERAS[f"y/{i}"]
    assert y.shape == expected.shape and y.dtype == np.float32
    # atol for sums that nearly cancel, added in another order than XLA's.
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)
    for input_shape, output_shape in config["output_shapes"]:
        assert layer.compute_output_shape(tuple(input_shape)) == tuple(output_shape)
    if config["grad"]:
        # Keras (JAX) routes a windowed maximum's gradient to the first tie, shares a global one.
        np.testing.assert_allclose(
            layer.backward(_KERAS[f"w/{i}"]), _KERAS[f"g/{i}"], rtol=1e-6, atol=1e-7
        )


def test_keras_values_cover_the_cases_that_matter():
    same_odd = [
        c for c in _CONFIGS
        if c["kwargs"].get("padding") == "same" and c["kwargs"].get("strides") not in (None, c["kwargs"]["pool_size"])
    ]  # fmt: skip
    assert {c["class"] for c in same_odd} >= {"MaxPooling2D", "AveragePooling2D", "MaxPooling1D",
                                             "AveragePooling1D"}  # fmt: skip
    ties = _KERAS["x/ties2d"]
    assert len(np.unique(ties)) <= 3 and any(c["grad"] and c["input"] == "ties2d" for c in _CONFIGS)


def test_average_pooling_same_divides_by_the_inputs_in_the_window():
    # Keras 3: AveragePooling1D(3, strides=2, padding="same") on 0..4 gives [0.5, 2, 3.5]:
    # the first window holds a pad and 0, 1, so its mean is (0 + 1) / 2.
    y = AveragePooling1D(3, strides=2, padding="same")(np.arange(5.0).reshape(1, 5, 1))
    np.testing.assert_allclose(y.ravel(), [0.5, 2.0, 3.5])
    y = AveragePooling2D(2, strides=1, padding="same")(np.ones((1, 3, 3, 1)))
    np.testing.assert_allclose(y, np.ones((1, 3, 3, 1)))


def test_max_pooling_same_pads_with_minus_infinity():
    x = -np.arange(1.0, 6.0).reshape(1, 5, 1)  # all negative: a zero pad would win
    y = MaxPooling1D(2, padding="same")(x)
    np.testing.assert_allclose(y.ravel(), [-1.0, -3.0, -5.0])


# -- 3. against a naive loop, layouts, dtypes, configs, errors --------------------------------------


def _naive_pool_2d(x, pool, strides, padding, mode, grad_y):
    """Pooling of a channels-last batch, one window at a time: y, and dJ/dx for upstream grad_y."""
    batch, height, width, channels = x.shape
    (ph, pw), (sh, sw) = pool, strides
    if padding == "same":
        out_h, out_w = -(-height // sh), -(-width // sw)
        top = max((out_h - 1) * sh + ph - height, 0) // 2
        left = max((out_w - 1) * sw + pw - width, 0) // 2
    else:
        out_h, out_w = (height - ph) // sh + 1, (width - pw) // sw + 1
        top = left = 0
    y = np.zeros((batch, out_h, out_w, channels))
    grad_x = np.zeros(x.shape)
    for b, i, j, c in itertools.product(range(batch), range(out_h), range(out_w), range(channels)):
        cells = [
            (r, q)
            for r in range(i * sh - top, i * sh - top + ph)
            for q in range(j * sw - left, j * sw - left + pw)
            if 0 <= r < height and 0 <= q < width
        ]
        values = [x[b, r, q, c] for r, q in cells]
        if mode == "max":
            k = int(np.argmax(values))  # the first maximum
            y[b, i, j, c] = values[k]
            grad_x[b, cells[k][0], cells[k][1], c] += grad_y[b, i, j, c]
        else:
            y[b, i, j, c] = sum(values) / len(cells)
            for r, q in cells:
                grad_x[b, r, q, c] += grad_y[b, i, j, c] / len(cells)
    return y, grad_x


@pytest.mark.parametrize(
    "cls, shape, pool, strides, padding",
    [
        (MaxPooling2D, (3, 9, 9, 4), (2, 2), None, "valid"),  # the fast path, odd sizes
        (MaxPooling2D, (2, 8, 6, 3), (2, 2), None, "valid"),  # exact tiling
        (MaxPooling2D, (2, 7, 8, 2), (3, 2), (1, 3), "valid"),  # overlap on one axis, gaps on one
        (MaxPooling2D, (2, 7, 6, 2), (3, 3), (2, 2), "same"),
        (AveragePooling2D, (3, 9, 9, 4), (2, 2), None, "valid"),
        (AveragePooling2D, (2, 7, 6, 2), (3, 3), (2, 1), "same"),
        (AveragePooling2D, (2, 5, 7, 2), (2, 3), (3, 3), "same"),
    ],
)
def test_against_a_naive_loop(cls, shape, pool, strides, padding, rng):
    x = rng.standard_normal(shape)
    layer = cls(pool, strides=strides, padding=padding, dtype="float64")
    y = layer(x)
    grad_y = rng.standard_normal(y.shape)
    mode = "max" if cls is MaxPooling2D else "average"
    y_ref, grad_ref = _naive_pool_2d(x, pool, strides or pool, padding, mode, grad_y)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12)
    np.testing.assert_allclose(layer.backward(grad_y), grad_ref, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "pool, strides, padding",
    [((2, 2), None, "valid"), ((2, 2), (1, 1), "same"), ((3, 2), (2, 1), "valid")],
)
def test_max_pooling_ties_go_to_the_first_maximum(pool, strides, padding, rng):
    x = rng.integers(0, 2, (2, 6, 7, 3)).astype(np.float64)  # nearly every window has a tie
    layer = MaxPooling2D(pool, strides=strides, padding=padding, dtype="float64")
    grad_y = rng.standard_normal(layer(x).shape)
    _, grad_ref = _naive_pool_2d(x, pool, strides or pool, padding, "max", grad_y)
    np.testing.assert_allclose(layer.backward(grad_y), grad_ref, rtol=1e-12)
    # Each output's gradient goes to exactly one input: the totals agree.
    np.testing.assert_allclose(layer.backward(grad_y).sum(), grad_y.sum())


def test_global_max_pooling_shares_the_gradient_among_ties():
    x = np.array([[[1.0], [3.0], [3.0], [2.0]]])  # (1, 4, 1)
    layer = GlobalMaxPooling1D(dtype="float64")
    np.testing.assert_array_equal(layer(x), [[3.0]])
    np.testing.assert_allclose(layer.backward(np.array([[1.0]])), [[[0.0], [0.5], [0.5], [0.0]]])


@pytest.mark.parametrize(
    "cls, kwargs",
    [
        (MaxPooling2D, {"pool_size": 3, "strides": 2, "padding": "same"}),
        (AveragePooling2D, {"pool_size": (2, 3), "strides": 1, "padding": "same"}),
        (MaxPooling1D, {"pool_size": 3, "strides": 2, "padding": "valid"}),
        (AveragePooling1D, {"pool_size": 2, "padding": "same"}),
        (GlobalMaxPooling2D, {"keepdims": True}),
        (GlobalAveragePooling1D, {}),
    ],
)
def test_channels_first_is_channels_last_transposed(cls, kwargs, rng):
    x = rng.standard_normal(_input_shape(cls, "channels_last", spatial=(7, 6), channels=4))
    to_first = (0, x.ndim - 1, *range(1, x.ndim - 1))
    last = cls(data_format="channels_last", dtype="float64", **kwargs)
    first = cls(data_format="channels_first", dtype="float64", **kwargs)
    y_last, y_first = last(x), first(x.transpose(to_first))
    grad_y = rng.standard_normal(y_last.shape)
    if y_last.ndim == x.ndim:
        np.testing.assert_array_equal(y_first, y_last.transpose(to_first))
        grad_first = first.backward(grad_y.transpose(to_first))
    else:
        np.testing.assert_array_equal(y_first, y_last)
        grad_first = first.backward(grad_y)
    np.testing.assert_allclose(grad_first, last.backward(grad_y).transpose(to_first), rtol=1e-14)


@pytest.mark.parametrize("cls", WINDOWED + GLOBAL)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_is_kept(cls, dtype, rng):
    x = rng.standard_normal(_input_shape(cls, "channels_last", spatial=(6, 6))).astype(dtype)
    layer = cls(2, padding="same", dtype=dtype) if cls in WINDOWED else cls(dtype=dtype)
    y = layer(x)
    assert y.dtype == dtype
    assert layer.backward(np.ones_like(y)).dtype == dtype
    assert layer.forward(x.astype(dtype)).dtype == dtype


def test_strides_default_to_the_pool_and_defaults_are_keras():
    assert MaxPooling2D().pool_size == (2, 2) and MaxPooling2D().strides == (2, 2)
    assert MaxPooling1D().pool_size == (2,)
    assert AveragePooling2D((3, 2)).strides == (3, 2)
    assert MaxPooling2D(3, strides=1).strides == (1, 1)
    with pytest.raises(TypeError):
        AveragePooling2D()  # Keras 3: pool_size is required for average pooling


@pytest.mark.parametrize(
    "layer",
    [
        MaxPooling2D((3, 2), strides=(1, 2), padding="same", data_format="channels_first"),
        AveragePooling1D(3, strides=2),
        GlobalMaxPooling2D(data_format="channels_first", keepdims=True),
        GlobalAveragePooling1D(),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_config_round_trip(layer):
    config = layer.get_config()
    keys = {"pool_size", "padding", "strides", "data_format"} if "pool_size" in config else {
        "data_format", "keepdims"}  # fmt: skip
    assert keys <= set(config) and {"name", "trainable", "dtype"} <= set(config)
    if "pool_size" in config:
        assert isinstance(config["pool_size"], tuple) and isinstance(config["strides"], tuple)
    # Through JSON (tuples come back as lists) and the registry, as a saved model does.
    restored = layers.deserialize(json.loads(json.dumps(layers.serialize(layer))))
    assert type(restored) is type(layer) and restored.get_config() == config
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 5)[: 2 + _rank(type(layer))])
    np.testing.assert_array_equal(restored(x), layer(x))


def test_keras_aliases_are_registered():
    for alias, cls in [
        ("MaxPool1D", MaxPooling1D), ("MaxPool2D", MaxPooling2D),
        ("AvgPool1D", AveragePooling1D), ("AvgPool2D", AveragePooling2D),
        ("GlobalAvgPool1D", GlobalAveragePooling1D), ("GlobalAvgPool2D", GlobalAveragePooling2D),
        ("GlobalMaxPool1D", GlobalMaxPooling1D), ("GlobalMaxPool2D", GlobalMaxPooling2D),
    ]:  # fmt: skip
        assert LAYERS.lookup(alias) is cls and LAYERS.lookup(cls.__name__) is cls
        assert LAYERS.name_of(cls) == cls.__name__  # saved under Keras's class name


def test_wrong_rank_names_the_layout():
    with pytest.raises(ValueError, match=r"rank 4.*\(batch, height, width, channels\).*rank 3"):
        MaxPooling2D()(np.zeros((2, 8, 3)))
    with pytest.raises(ValueError, match=r"\(batch, channels, steps\)"):
        AveragePooling1D(2, data_format="channels_first")(np.zeros((2, 3, 8, 8)))
    with pytest.raises(
        ValueError, match=r"GlobalMaxPooling2D .*\(batch, height, width, channels\)"
    ):
        GlobalMaxPooling2D()(np.zeros((2, 8, 3)))
    layer = MaxPooling2D()
    layer(np.zeros((2, 8, 8, 3)))
    with pytest.raises(ValueError, match="rank 4"):
        layer(np.zeros((2, 8, 8, 3, 1)))


def test_pool_larger_than_the_input():
    with pytest.raises(
        ValueError,
        match=r"MaxPooling2D .*pool_size \(3, 3\) is larger than the padded input \(2, 2\)",
    ):
        MaxPooling2D(3)(np.zeros((1, 2, 2, 1)))
    with pytest.raises(
        ValueError, match=r"pool_size \(4,\) is larger than the padded input \(3,\)"
    ):
        AveragePooling1D(4).compute_output_shape((None, 3, 2))
    # "same" pads up to the window, whatever the input; unknown sizes are not checked.
    assert MaxPooling2D(3, padding="same")(np.zeros((1, 2, 2, 1))).shape == (1, 1, 1, 1)
    assert MaxPooling2D(3).compute_output_shape((None, None, 8, 2)) == (None, None, 2, 2)
    # A built layer checks each call's sizes too.
    layer = MaxPooling2D(3)
    layer(np.zeros((1, 6, 6, 1)))
    with pytest.raises(ValueError, match=r"padded input \(6, 2\)"):
        layer(np.zeros((1, 6, 2, 1)))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: MaxPooling2D(0), r"`pool_size` must be a positive integer or a tuple of 2"),
        (lambda: MaxPooling2D((2, 2, 2)), r"pool_size=\(2, 2, 2\)"),
        (lambda: MaxPooling1D(2.5), r"pool_size=2.5"),
        (lambda: AveragePooling2D(2, strides=0), r"`strides` must be"),
        (lambda: AveragePooling2D(2, strides=(1, -1)), r"strides=\(1, -1\)"),
        (lambda: MaxPooling2D(padding="causal"), r"`padding` must be one of 'valid', 'same'"),
        (lambda: MaxPooling1D(data_format="NHWC"), r"`data_format` must be 'channels_last'"),
        (
            lambda: GlobalAveragePooling2D(data_format="channels"),
            r"received data_format='channels'",
        ),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "layer", [MaxPooling2D(), AveragePooling2D(3, padding="same"), GlobalAveragePooling2D()],
    ids=lambda layer: type(layer).__name__,
)  # fmt: skip
def test_sizes_may_change_between_calls_but_not_channels(layer, rng):
    assert layer(rng.standard_normal((2, 8, 8, 32))).shape[-1] == 32
    assert layer(rng.standard_normal((1, 12, 6, 32))).shape[-1] == 32  # new sizes are fine
    with pytest.raises(ValueError, match=r"channels axis .*was built for 32 channels, received 16"):
        layer(rng.standard_normal((2, 8, 8, 16)))


def test_keepdims_must_be_a_bool():
    with pytest.raises(TypeError, match=r"GlobalMaxPooling1D .*`keepdims` must be True or False"):
        GlobalMaxPooling1D(keepdims="yes")


def test_case_of_padding_and_data_format_is_ignored():
    layer = MaxPooling2D(padding="SAME", data_format="Channels_First")
    assert layer.padding == "same" and layer.data_format == "channels_first"


def test_output_shapes():
    assert MaxPooling2D().compute_output_shape((None, 26, 26, 32)) == (None, 13, 13, 32)
    assert MaxPooling2D().compute_output_shape((None, 11, 11, 64)) == (None, 5, 5, 64)
    assert MaxPooling2D(3, 2, "same", "channels_first").compute_output_shape((4, 3, 7, 8)) == (
        4, 3, 4, 4)  # fmt: skip
    assert GlobalAveragePooling2D().compute_output_shape((None, 5, 5, 7)) == (None, 7)
    assert GlobalMaxPooling1D(keepdims=True).compute_output_shape((None, 9, 7)) == (None, 1, 7)
    assert GlobalMaxPooling1D("channels_first", True).compute_output_shape((2, 7, 9)) == (2, 7, 1)


def test_no_input_gradient_when_none_is_needed(rng):
    layer = MaxPooling2D()
    y = layer(rng.standard_normal((2, 4, 4, 1)))
    layer.needs_input_gradient = False
    try:
        assert layer.backward(np.ones_like(y)) is None
    finally:
        layer.needs_input_gradient = True


def test_in_a_sequential_model(rng):
    model = neuralnet.Sequential(
        [neuralnet.Input((8, 8, 3)), MaxPooling2D(), GlobalAveragePooling2D()]
    )
    x = rng.standard_normal((5, 8, 8, 3)).astype(np.float32)
    y = model.predict(x, verbose=0)
    assert y.shape == (5, 3)
    expected = x.reshape(5, 4, 2, 4, 2, 3).max(axis=(2, 4)).mean(axis=(1, 2))
    np.testing.assert_allclose(y, expected, rtol=1e-6)
    assert model.layers[-1].output_shape == (None, 3)


@pytest.mark.parametrize(
    ("pool", "strides", "padding"),
    [(2, None, "valid"), (3, 2, "same"), ((2, 3), 1, "same"), (3, 1, "valid")],
)
def test_compiled_max_pooling_equals_the_numpy_path(pool, strides, padding):
    from neuralnet import _accelerate, config
    from neuralnet.layers.pooling import MaxPooling1D, MaxPooling2D

    if _accelerate.kernel("max_pool") is None:
        pytest.skip("numba is not installed (the [fast] extra)")
    rng = np.random.default_rng(11)
    # Small integers: many ties (the first maximum must win on both paths) and exact sums where
    # overlapping windows send gradients to one input; one NaN, which both paths propagate.
    x = rng.integers(-3, 3, (3, 7, 8, 4)).astype(np.float32)
    x[0, 2, 3, 1] = np.nan
    results = []
    for mode in ("auto", None):
        config.set_accelerator(mode)
        try:
            for layer in (MaxPooling2D(pool, strides, padding), MaxPooling1D(3, strides, padding)):
                xi = x if isinstance(layer, MaxPooling2D) else x[:, 0]
                y = layer(xi, training=True)
                g = np.random.default_rng(5).integers(-4, 4, y.shape).astype(np.float32)
                results.append((y, layer.backward(g)))
        finally:
            config.set_accelerator("auto")
    for (y_compiled, g_compiled), (y_plain, g_plain) in zip(results[:2], results[2:]):
        np.testing.assert_array_equal(y_compiled, y_plain)
        np.testing.assert_array_equal(g_compiled, g_plain)
