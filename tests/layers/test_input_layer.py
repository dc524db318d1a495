"""Input and InputLayer (layers/input_layer.py)."""

import numpy as np
import pytest

import neuralnet
from neuralnet import layers
from neuralnet.layers import InputLayer, SymbolicTensor


def test_input_returns_a_symbolic_tensor_with_a_free_batch_axis():
    x = neuralnet.Input(shape=(784,))
    assert isinstance(x, SymbolicTensor)
    assert x.shape == (None, 784)
    assert x.dtype == "float32"
    assert isinstance(x.layer, InputLayer)
    assert x.layer.name == "input_layer"
    assert x.name == "input_layer"


def test_input_options():
    x = neuralnet.Input(shape=(28, 28), batch_size=32, dtype="float64", name="images")
    assert x.shape == (32, 28, 28)
    assert x.dtype == "float64"
    assert x.name == "images" and x.layer.name == "images"
    assert neuralnet.Input(shape=4).shape == (None, 4)  # an int is one axis
    assert neuralnet.Input(batch_shape=(8, None, 3)).shape == (8, None, 3)
    assert neuralnet.Input(shape=(3,), dtype="int32").dtype == "int32"


def test_input_layer_is_built_and_passes_data_through(rng):
    layer = InputLayer(shape=(3,))
    assert layer.built
    assert layer.weights == []
    x = rng.standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_array_equal(layer(x), x)
    grad = rng.standard_normal((4, 3))
    assert layer.backward(grad) is grad
    assert layer.compute_output_shape((None, 3)) == (None, 3)


def test_input_layer_accepts_keras2_argument_names():
    assert InputLayer(input_shape=(5,)).batch_shape == (None, 5)
    assert InputLayer(batch_input_shape=(2, 5)).batch_shape == (2, 5)


def test_input_layer_config_round_trip():
    layer = InputLayer(shape=(5, 2), batch_size=4, name="x")
    config = layer.get_config()
    assert config == {"name": "x", "batch_shape": [4, 5, 2], "dtype": "float32"}
    clone = InputLayer.from_config(config)
    assert clone.batch_shape == (4, 5, 2)
    assert clone.output.shape == (4, 5, 2)


def test_input_layer_checks_the_shape_of_arrays():
    layer = InputLayer(shape=(3,), name="features")
    with pytest.raises(
        ValueError,
        match=r"InputLayer layer 'features' expected inputs of shape \(None, 3\), received shape \(4, 5\)",
    ):
        layer(np.ones((4, 5)))


def test_input_needs_a_shape():
    with pytest.raises(ValueError, match="InputLayer needs `shape`"):
        InputLayer()
    with pytest.raises(ValueError, match="InputLayer needs `shape`"):
        neuralnet.Input()


@pytest.mark.parametrize("shape", [(0,), (-3, 2), (2.5,), "abc"])
def test_input_rejects_invalid_shapes(shape):
    with pytest.raises(ValueError, match="`shape` must be a tuple of positive integers"):
        neuralnet.Input(shape=shape)


def test_input_rejects_unknown_keyword_argument():
    with pytest.raises(TypeError, match="sparse"):
        InputLayer(shape=(3,), sparse=True)


def test_a_model_input_feeds_a_layer():
    x = neuralnet.Input(shape=(3,))
    y = layers.Dense(2)(x)
    assert y.node.parents == [x.node]
    assert y.node.inputs == [x]


def test_input_keeps_the_floatx_it_was_made_with():
    with neuralnet.config.floatx_scope("float64"):
        x = neuralnet.Input(shape=(3,))
    assert x.dtype == "float64"
    assert x.layer.get_config()["dtype"] == "float64"  # not today's floatx
    assert x.layer(np.ones((2, 3), dtype=np.float32)).dtype == np.float64
