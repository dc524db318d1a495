"""Flatten and Reshape (layers/reshaping.py)."""

import numpy as np
import pytest

import neuralnet
from neuralnet import layers
from neuralnet.testing import check_gradients


def test_flatten_keeps_the_batch_axis_in_c_order(rng):
    x = rng.standard_normal((3, 2, 4, 5)).astype(np.float32)
    y = layers.Flatten()(x)
    assert y.shape == (3, 40)
    np.testing.assert_array_equal(y, x.reshape(3, -1))  # Keras flattens channels-last, row-major
    np.testing.assert_array_equal(y[1, :5], x[1, 0, 0, :])


def test_flatten_backward_restores_the_shape(rng):
    layer = layers.Flatten()
    layer.forward(np.zeros((3, 2, 4)))
    grad_y = rng.standard_normal((3, 8))
    np.testing.assert_array_equal(layer.backward(grad_y), grad_y.reshape(3, 2, 4))


def test_flatten_output_shape():
    flatten = layers.Flatten()
    assert flatten.compute_output_shape((None, 28, 28)) == (None, 784)
    assert flatten.compute_output_shape((None, None, 3)) == (None, None)
    assert flatten.compute_output_shape((None,)) == (None, 1)
    assert flatten(np.ones((4,))).shape == (4, 1)


def test_reshape_values_and_infered_axis(rng):
    x = rng.standard_normal((2, 12)).astype(np.float32)
    y = layers.Reshape((3, -1))(x)
    assert y.shape == (2, 3, 4)
    np.testing.assert_array_equal(y, x.reshape(2, 3, 4))
    layer = layers.Reshape((2, 6))
    layer.forward(x)
    grad_y = rng.standard_normal((2, 2, 6))
    np.testing.assert_array_equal(layer.backward(grad_y), grad_y.reshape(2, 12))


def test_reshape_output_shape():
    assert layers.Reshape((3, 4)).compute_output_shape((None, 12)) == (None, 3, 4)
    assert layers.Reshape((-1, 4)).compute_output_shape((None, 2, 6)) == (None, 3, 4)
    assert layers.Reshape((-1, 4)).compute_output_shape((None, None)) == (None, None, 4)
    assert layers.Reshape((3, 4)).compute_output_shape((None, None)) == (None, 3, 4)
    assert layers.Reshape((2, 2))(neuralnet.Input(shape=(4,))).shape == (None, 2, 2)


@pytest.mark.parametrize(
    ("layer", "input_shape"),
    [
        (lambda: layers.Flatten(), (3, 2, 4)),
        (lambda: layers.Reshape((4, 3)), (2, 12)),
        (lambda: layers.Reshape((-1,)), (2, 3, 4)),
    ],
    ids=["flatten", "reshape", "reshape_flat"],
)
def test_reshaping_gradients(layer, input_shape):
    check_gradients(layer(), input_shape=input_shape)


def test_reshape_rejects_incompatible_sizes_when_called_on_arrays():
    with pytest.raises(
        ValueError,
        match=r"Reshape layer 'reshape' cannot reshape inputs of shape \(2, 5\) to \(None, 4\): "
        "the number of values differs",
    ):
        layers.Reshape((4,))(np.ones((2, 5)))


def test_reshape_rejects_incompatible_sizes_when_called_symbolically():
    with pytest.raises(
        ValueError, match=r"cannot reshape inputs of shape \(None, 10\) to \(None, 3, -1\)"
    ):
        layers.Reshape((3, -1))(neuralnet.Input(shape=(10,)))
    with pytest.raises(ValueError, match=r"\(None, 2, 3\) to \(None, 7\)"):
        layers.Reshape((7,))(neuralnet.Input(shape=(2, 3)))


@pytest.mark.parametrize("target_shape", [(-1, -1), (0, 4), (3, -2)])
def test_reshape_rejects_invalid_target_shape(target_shape):
    with pytest.raises(
        ValueError, match="`target_shape` must hold positive sizes and at most one -1"
    ):
        layers.Reshape(target_shape)


def test_reshape_config_round_trip():
    config = layers.Reshape((3, -1), name="r").get_config()
    assert config["target_shape"] == [3, -1]
    assert layers.Reshape.from_config(config).target_shape == (3, -1)
