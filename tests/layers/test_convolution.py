"""Convolution layers (layers/convolution.py, layers/sliding_windows.py): gradients checked in float64
for every combination of stride, padding, dilation and data format; values against a direct loop
over the convolution sum; errors. Keras 3's own numbers are in test_convolution_keras.py."""

import itertools

import numpy as np
import pytest

import neuralnet
from neuralnet import layers
from neuralnet.layers import conv_utils
from neuralnet.testing import check_gradients

CLASSES_1D = ["Conv1D", "Conv1DTranspose", "DepthwiseConv1D", "SeparableConv1D"]
CLASSES_2D = ["Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D"]


def _make(name, **kwargs):
    cls = getattr(layers, name)
    if name.startswith("Depthwise"):
        kwargs.setdefault("depth_multiplier", 2)
        return cls(**kwargs)
    return cls(3, **kwargs)


def _grid():
    for name, stride, padding, dilation, data_format in itertools.product(
        CLASSES_1D + CLASSES_2D, (1, 2), ("valid", "same", "causal"), (1, 2),
        ("channels_last", "channels_first"),
    ):  # fmt: skip
        if stride > 1 and dilation > 1 and not name.startswith(("Depthwise", "Separable")):
            continue  # rejected, as in Keras (tested below)
        if padding == "causal" and name != "Conv1D":
            continue
        yield pytest.param(
            name, stride, padding, dilation, data_format,
            id=f"{name}-s{stride}-{padding}-d{dilation}-{data_format}",
        )  # fmt: skip


@pytest.mark.parametrize(("name", "stride", "padding", "dilation", "data_format"), list(_grid()))
def test_gradients_match_finite_differences(name, stride, padding, dilation, data_format):
    rank = 1 if name in CLASSES_1D else 2
    kernel = 3 if rank == 1 else (3, 2)
    layer = _make(name, kernel_size=kernel, strides=stride, padding=padding,
                  dilation_rate=dilation, data_format=data_format, activation="tanh")  # fmt: skip
    spatial = (7,) if rank == 1 else (5, 6)
    shape = (2, 3, *spatial) if data_format == "channels_first" else (2, *spatial, 3)
    report = check_gradients(layer, input_shape=shape, seed=stride + dilation)
    assert set(report.errors) == {"x", *(p for p in layer.params)}


@pytest.mark.parametrize(
    ("groups", "output_padding", "activation"),
    [(2, None, "relu"), (3, None, "sigmoid"), (1, None, "softmax"), (1, None, "gelu")],
)
def test_conv2d_groups_and_activations_gradients(groups, output_padding, activation):
    for data_format in ("channels_last", "channels_first"):
        layer = layers.Conv2D(6, 2, groups=groups, activation=activation, padding="same",
                              data_format=data_format)  # fmt: skip
        shape = (2, 6, 4, 5) if data_format == "channels_first" else (2, 4, 5, 6)
        check_gradients(layer, input_shape=shape, seed=groups)


@pytest.mark.parametrize(("stride", "padding"), list(itertools.product((2, 3), ("valid", "same"))))
def test_transpose_output_padding_gradients(stride, padding):
    for extra in range(stride):
        layer = layers.Conv2DTranspose(2, 3, strides=stride, padding=padding,
                                       output_padding=extra)  # fmt: skip
        check_gradients(layer, input_shape=(2, 3, 2, 2), seed=extra)


def _direct_conv2d(x, kernel, strides, dilation, pads):
    """The convolution sum written as loops over output positions and taps (channels-last)."""
    x = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    kh, kw = kernel.shape[:2]
    span = ((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1)
    out_h = (x.shape[1] - span[0]) // strides[0] + 1
    out_w = (x.shape[2] - span[1]) // strides[1] + 1
    y = np.zeros((x.shape[0], out_h, out_w, kernel.shape[3]))
    for i, j, a, b in itertools.product(range(out_h), range(out_w), range(kh), range(kw)):
        row, col = i * strides[0] + a * dilation[0], j * strides[1] + b * dilation[1]
        y[:, i, j] += x[:, row, col] @ kernel[a, b]
    return y


@pytest.mark.parametrize(
    ("strides", "padding", "dilation"),
    [((1, 1), "valid", (1, 1)), ((2, 2), "same", (1, 1)), ((1, 1), "same", (2, 3)),
     ((3, 2), "valid", (1, 1)), ((2, 1), "same", (1, 1))],
)  # fmt: skip
def test_conv2d_equals_the_direct_sum(strides, padding, dilation, rng):
    x = rng.standard_normal((2, 9, 8, 5))
    layer = layers.Conv2D(4, (3, 2), strides=strides, padding=padding, dilation_rate=dilation,
                          dtype="float64", bias_initializer="random_normal")  # fmt: skip
    y = layer(x)
    pads = [conv_utils.conv_padding(n, k, s, d, padding)
            for n, k, s, d in zip((9, 8), (3, 2), strides, dilation)]  # fmt: skip
    expected = _direct_conv2d(x, layer.params["kernel"], strides, dilation, pads)
    np.testing.assert_allclose(y, expected + layer.params["bias"], rtol=1e-12, atol=1e-12)


def test_transpose_is_the_adjoint_of_the_convolution(rng):
    # <conv(x), g> = <x, conv_transpose(g)> with the same kernel: the defining property. (With
    # padding "same" and strides > 1, Keras 3 pads the transpose differently from the convolution,
    # so only the geometries that coincide are compared; Keras's numbers pin the others.)
    for strides, padding in [(1, "valid"), (2, "valid"), (3, "valid"), (1, "same")]:
        x = rng.standard_normal((2, 9, 7, 3))
        conv = layers.Conv2D(
            4, 3, strides=strides, padding=padding, use_bias=False, dtype="float64"
        )
        y = conv(x)
        transpose = layers.Conv2DTranspose(3, 3, strides=strides, padding=padding,
                                           use_bias=False, dtype="float64")  # fmt: skip
        g = rng.standard_normal(y.shape)
        transpose(g)
        transpose.set_weights([conv.params["kernel"]])  # (k, k, 3, 4): filters 3, input 4
        back = transpose(g)
        # Rows and columns beyond the shorter of the two are read by neither.
        h, w = min(x.shape[1], back.shape[1]), min(x.shape[2], back.shape[2])
        np.testing.assert_allclose(
            np.sum(y * g), np.sum(x[:, :h, :w] * back[:, :h, :w]), rtol=1e-10
        )


@pytest.mark.parametrize("name", CLASSES_1D + CLASSES_2D)
def test_channels_first_is_channels_last_transposed(name, rng):
    rank = 1 if name in CLASSES_1D else 2
    x = rng.standard_normal((2, *(7,) * rank, 4)).astype(np.float32)
    last = _make(name, kernel_size=3, strides=2, padding="same", seed=1)
    first = _make(name, kernel_size=3, strides=2, padding="same", seed=1,
                  data_format="channels_first")  # fmt: skip
    y_last = last(x)
    moved = np.moveaxis(x, -1, 1)
    first(moved)
    first.set_weights(last.get_weights())
    np.testing.assert_allclose(np.moveaxis(first(moved), 1, -1), y_last, rtol=1e-5, atol=1e-6)


def test_float32_and_float64_keep_their_type_and_agree(rng):
    x = rng.standard_normal((3, 8, 8, 2))
    y64 = layers.Conv2D(5, 3, dtype="float64", seed=3, activation="relu")(x)
    layer32 = layers.Conv2D(5, 3, seed=3, activation="relu")
    y32 = layer32(x.astype(np.float32))
    assert y64.dtype == np.float64 and y32.dtype == np.float32
    np.testing.assert_allclose(y32, y64, rtol=1e-5, atol=1e-5)


def test_compiled_and_plain_paths_agree(rng):
    # The same training step with the compiled kernels and with NumPy alone.
    x = rng.standard_normal((16, 10, 10, 3)).astype(np.float32)
    y = rng.integers(0, 4, 16)
    results = []
    for mode in ("auto", None):
        neuralnet.config.set_accelerator(mode)
        try:
            neuralnet.utils.set_random_seed(4)
            model = neuralnet.Sequential([
                neuralnet.Input((10, 10, 3)),
                layers.Conv2D(8, 3, padding="same", activation="relu"),
                layers.Conv2D(6, 3, strides=2, activation="relu"),
                layers.Conv2DTranspose(4, 3, strides=2, activation="relu"),
                layers.Flatten(),
                layers.Dense(4, activation="softmax"),
            ])  # fmt: skip
            model.compile("adam", "sparse_categorical_crossentropy")
            model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
            results.append(model.get_weights())
        finally:
            neuralnet.config.set_accelerator("auto")
    for compiled, plain in zip(*results):
        np.testing.assert_allclose(compiled, plain, rtol=2e-5, atol=2e-6)


def test_varying_spatial_size_between_calls(rng):
    layer = layers.Conv2D(2, 3, padding="same")
    assert layer(rng.standard_normal((1, 8, 8, 3))).shape == (1, 8, 8, 2)
    assert layer(rng.standard_normal((2, 5, 11, 3))).shape == (2, 5, 11, 2)


def test_weight_shapes_and_parameter_counts_are_keras():
    x = np.zeros((1, 10, 10, 3), np.float32)
    cases = {
        layers.Conv2D(8, 3): [(3, 3, 3, 8), (8,)],
        layers.Conv2D(6, (2, 3), groups=3): [(2, 3, 1, 6), (6,)],
        layers.Conv2DTranspose(8, 3): [(3, 3, 8, 3), (8,)],
        layers.DepthwiseConv2D(3, depth_multiplier=2): [(3, 3, 3, 2), (6,)],
        layers.SeparableConv2D(8, 3, use_bias=False): [(3, 3, 3, 1), (1, 1, 3, 8)],
    }
    for layer, shapes in cases.items():
        layer(x)
        assert [w.shape for w in layer.get_weights()] == shapes, layer.name
    conv1d = layers.Conv1D(4, 5)
    conv1d(np.zeros((1, 9, 2), np.float32))
    assert conv1d.count_params() == 5 * 2 * 4 + 4


def test_config_round_trip_rebuilds_the_same_layer(rng):
    layer = layers.Conv2DTranspose(4, (3, 2), strides=2, padding="same", output_padding=1,
                                   data_format="channels_first", activation="relu",
                                   kernel_regularizer="l2", name="up")  # fmt: skip
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    y = layer(x)
    clone = layers.Conv2DTranspose.from_config(layer.get_config())
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x), y)
    config = layer.get_config()
    assert config["strides"] == [2, 2] and config["output_padding"] == [1, 1]
    assert config["data_format"] == "channels_first" and config["padding"] == "same"


# -- errors ---------------------------------------------------------------------------------------


def test_kernel_larger_than_the_padded_input_is_a_clear_error():
    with pytest.raises(
        ValueError, match=r"kernel \(5, 5\) is larger than the padded input \(3, 3\)"
    ):
        layers.Conv2D(2, 5)(np.zeros((1, 3, 3, 1), np.float32))
    with pytest.raises(ValueError, match=r"spanning \(5,\) with dilation"):
        layers.Conv1D(2, 3, dilation_rate=2)(np.zeros((1, 4, 1), np.float32))
    # "same" pads the input, so a large kernel is fine there
    assert layers.Conv2D(2, 5, padding="same")(np.zeros((1, 3, 3, 1))).shape == (1, 3, 3, 2)


def test_wrong_rank_names_the_expected_layout():
    with pytest.raises(ValueError, match=r"rank 4, laid out as \(batch, height, width, channels\)"):
        layers.Conv2D(2, 3)(np.zeros((28, 28), np.float32))
    with pytest.raises(
        ValueError, match=r"\(batch, channels, steps\), received an input of rank 4"
    ):
        layers.Conv1D(2, 3, data_format="channels_first")(np.zeros((1, 2, 8, 8), np.float32))
    with pytest.raises(ValueError, match=r"\(batch, height, width, channels\)"):
        neuralnet.Sequential([neuralnet.Input((28, 28)), layers.Conv2D(4, 3)])


def test_channels_changed_since_build_is_a_clear_error():
    layer = layers.Conv2D(2, 3)
    layer(np.zeros((1, 8, 8, 3), np.float32))
    with pytest.raises(
        ValueError, match=r"built for inputs with 3 channels.*with 4 channels on axis 3"
    ):
        layer(np.zeros((1, 8, 8, 4), np.float32))
    first = layers.DepthwiseConv2D(3, data_format="channels_first")
    first(np.zeros((1, 3, 8, 8), np.float32))
    with pytest.raises(ValueError, match=r"\(batch, channels, height, width\).*on axis 1"):
        first(np.zeros((1, 8, 8, 3), np.float32))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: layers.Conv2D(4, 3, strides=2, dilation_rate=2), r"strides > 1 together with dilation_rate > 1"),
        (lambda: layers.Conv2D(5, 3, groups=2), r"filters must be divisible by the number of groups"),
        (lambda: layers.Conv2D(4, 3, padding="causal"), r"`padding` must be one of 'valid', 'same'"),
        (lambda: layers.Conv2D(4, (3, 3, 3)), r"`kernel_size` must be a positive integer or a tuple of 2"),
        (lambda: layers.Conv2D(0, 3), r"`filters` must be a positive integer"),
        (lambda: layers.Conv2D(4, 3, data_format="NHWC"), r"'channels_last' or 'channels_first'"),
        (lambda: layers.Conv2DTranspose(4, 3, strides=2, output_padding=2), r"output_padding must be smaller than strides"),
        (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), r"`depth_multiplier` must be a positive integer"),
    ],
)  # fmt: skip
def test_bad_arguments_are_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_groups_must_divide_the_input_channels():
    with pytest.raises(ValueError, match=r"groups=2 and an input with 3 channels"):
        layers.Conv2D(4, 3, groups=2)(np.zeros((1, 5, 5, 3), np.float32))


def test_batch_normalization_over_the_channel_axis_of_images(rng):
    # axis=-1 for channels-last images, axis=1 for channels-first: one (γ, β) per channel.
    for axis, shape in ((-1, (4, 3, 5, 2)), (1, (4, 2, 3, 5))):
        layer = layers.BatchNormalization(axis=axis)
        y = layer(rng.standard_normal(shape) * 3 + 1, training=True)
        reduce = tuple(i for i in range(4) if i != axis % 4)
        np.testing.assert_allclose(y.mean(axis=reduce), 0, atol=1e-5)
        assert layer.params["gamma"].shape == (2,)
        check_gradients(layers.BatchNormalization(axis=axis), input_shape=shape)


def test_a_shared_convolution_called_twice_has_exact_gradients():
    # Each call keeps its own windows (its own im2col buffer), and the gradients of both add up.
    with neuralnet.config.floatx_scope("float64"):
        _check_shared_convolution()


def _check_shared_convolution():
    x = neuralnet.Input((6, 6, 2))
    shared = layers.Conv2D(2, 3, padding="same", activation="tanh")
    h1 = shared(x)
    h2 = shared(layers.Conv2D(2, 1)(h1))
    out = layers.Dense(1)(layers.Flatten()(layers.Add()([h1, h2])))
    model = neuralnet.Model(x, out)
    model.compile("sgd", "mse")
    rng = np.random.default_rng(2)
    check_gradients(model, rng.standard_normal((3, 6, 6, 2)), rng.standard_normal((3, 1)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_compiled_col2im_equals_the_numpy_scatter(dtype):
    from neuralnet import _accelerate
    from neuralnet.layers.sliding_windows import SlidingWindows

    if _accelerate.kernel("col2im") is None:
        pytest.skip("numba is not installed (the [fast] extra)")
    rng = np.random.default_rng(3)
    for strides, dilation, pads in [((1, 1), (1, 1), ((1, 1), (1, 1))),
                                    ((2, 3), (1, 1), ((0, 1), (2, 0))),
                                    ((1, 1), (2, 2), ((0, 0), (0, 0)))]:  # fmt: skip
        windows = SlidingWindows((9, 8), (3, 2), strides, dilation, pads)
        # Small integers add up exactly in any order: the two paths must agree bit for bit.
        cols = rng.integers(-8, 8, windows.cols_shape(4, 16)).astype(dtype)
        compiled = windows.scatter(cols)
        neuralnet.config.set_accelerator(None)
        try:
            plain = windows.scatter(cols)
        finally:
            neuralnet.config.set_accelerator("auto")
        np.testing.assert_array_equal(compiled, plain)
        # and im2col is the adjoint: <gather(x), cols> = <x, scatter(cols)>
        x = rng.standard_normal((4, 9, 8, 16)).astype(dtype)
        np.testing.assert_allclose(
            np.sum(windows.gather(x).astype(np.float64) * cols),
            np.sum(x.astype(np.float64) * compiled), rtol=1e-12,
        )  # fmt: skip


def test_every_convolution_saves_and_loads(tmp_path, rng):
    inputs = neuralnet.Input((9, 9, 3))
    h = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    h = layers.DepthwiseConv2D(3, depth_multiplier=2, strides=2)(h)
    h = layers.SeparableConv2D(5, 2, data_format="channels_first")(h)
    h = layers.Conv2DTranspose(3, 3, strides=2, output_padding=1)(h)
    seq = layers.Reshape((-1, 3))(h)
    seq = layers.Conv1D(4, 3, padding="causal", dilation_rate=2)(seq)
    seq = layers.Conv1DTranspose(2, 2, strides=2)(seq)
    model = neuralnet.Model(inputs, layers.Dense(1)(layers.Flatten()(seq)))
    x = rng.standard_normal((2, 9, 9, 3)).astype(np.float32)
    path = tmp_path / "convolutions.keras"
    model.save(path)
    loaded = neuralnet.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [type(layer).__name__ for layer in loaded.layers] == [
        type(layer).__name__ for layer in model.layers
    ]


def test_image_data_format_sets_the_default_layout():
    assert neuralnet.config.image_data_format() == "channels_last"
    neuralnet.config.set_image_data_format("channels_first")
    try:
        layer = layers.Conv2D(4, 3)
        assert layer.data_format == "channels_first"
        assert layer(np.zeros((1, 2, 6, 6), np.float32)).shape == (1, 4, 4, 4)
        assert layers.MaxPooling2D().data_format == "channels_first"
    finally:
        neuralnet.config.set_image_data_format("channels_last")
    assert layers.Conv2D(4, 3).data_format == "channels_last"
    with pytest.raises(ValueError, match=r"Unknown data_format 'NCHW'"):
        neuralnet.config.set_image_data_format("NCHW")


@pytest.mark.parametrize(("strides", "padding"), [(1, "valid"), (2, "same"), (1, "same")])
def test_chunked_convolution_equals_the_whole_batch_at_once(monkeypatch, strides, padding, rng):
    # Large batches are convolved a few samples at a time (im2col chunks that stay in the cache);
    # one sample per chunk must give the numbers of the whole batch at once, and exact gradients.
    from neuralnet.layers import convolution

    x = rng.standard_normal((5, 7, 6, 3))
    grad_y = None
    results = []
    for chunk_bytes in (convolution._CHUNK_BYTES, 1):
        monkeypatch.setattr(convolution, "_CHUNK_BYTES", chunk_bytes)
        layer = layers.Conv2D(4, 3, strides=strides, padding=padding, activation="tanh",
                              dtype="float64", seed=3)  # fmt: skip
        y = layer(x, training=True)
        if grad_y is None:
            grad_y = rng.standard_normal(y.shape)
        grad_x = layer.backward(grad_y)
        results.append((y, grad_x, layer.grads["kernel"].copy(), layer.grads["bias"].copy()))
        check_gradients(layers.Conv2D(2, 3, strides=strides, padding=padding),
                        input_shape=(3, 5, 4, 2))  # fmt: skip
    for whole, chunked in zip(*results):
        np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-12)
