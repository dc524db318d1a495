"""The Layer contract (layers/layer.py), and every registered layer gradient-checked and round-tripped.

The table `LAYER_CASES` holds constructor arguments and an input shape for each name in
`neuralnet.layers.LAYERS`; a layer registered without an entry here fails the tests below.
"""

import json

import numpy as np
import pytest

import neuralnet
from neuralnet import initializers, layers, regularizers
from neuralnet.layers import LAYERS, Layer, SymbolicTensor
from neuralnet.testing import check_gradients

# name -> (constructor arguments, input shape with the batch axis). Initializers are chosen so that
# every parameter and statistic is non-trivial (no all-zero slopes, no unit moving variance).
LAYER_CASES = {
    "Activation": ({"activation": "tanh"}, (4, 5)),
    "BatchNormalization": (
        {
            "gamma_initializer": {
                "class_name": "random_uniform",
                "config": {"minval": 0.5, "maxval": 1.5},
            },
            "beta_initializer": "random_normal",
            "moving_mean_initializer": "random_normal",
            "moving_variance_initializer": {"class_name": "constant", "config": {"value": 1.7}},
        },
        (6, 4),
    ),
    "Dense": ({"units": 4, "activation": "tanh", "bias_initializer": "random_normal"}, (5, 3)),
    "Dropout": ({"rate": 0.4, "seed": 7}, (5, 6)),
    "ELU": ({"alpha": 0.7}, (4, 5)),
    "Flatten": ({}, (3, 2, 4)),
    "InputLayer": ({"shape": (3,)}, (4, 3)),
    "LeakyReLU": ({"negative_slope": 0.2}, (4, 5)),
    "PReLU": (
        {
            "alpha_initializer": {
                "class_name": "random_uniform",
                "config": {"minval": 0.1, "maxval": 0.5},
            }
        },
        (4, 5),
    ),
    "ReLU": ({"max_value": 1.5, "negative_slope": 0.1, "threshold": 0.2}, (4, 6)),
    "Reshape": ({"target_shape": (2, -1)}, (4, 6)),
    "Softmax": ({"axis": 1}, (3, 4, 2)),
    # noise.py
    "GaussianNoise": ({"stddev": 0.3, "seed": 5}, (4, 5)),
    "GaussianDropout": ({"rate": 0.3, "seed": 5}, (4, 5)),
    # merging.py: a list of input shapes
    "Add": ({}, [(4, 3), (4, 3)]),
    "Subtract": ({}, [(4, 3), (4, 3)]),
    "Multiply": ({}, [(4, 3), (4, 1), (4, 3)]),  # broadcasting, three inputs
    "Average": ({}, [(4, 3), (4, 3)]),
    "Maximum": ({}, [(4, 3), (4, 3)]),
    "Minimum": ({}, [(4, 3), (4, 3)]),
    "Concatenate": ({"axis": -1}, [(4, 3), (4, 2)]),
    "Dot": ({"axes": 1, "normalize": True}, [(4, 3), (4, 3)]),
    # convolution.py
    "Conv1D": (
        {"filters": 2, "kernel_size": 2, "activation": "tanh", "bias_initializer": "random_normal"},
        (2, 5, 3),
    ),
    "Conv2D": (
        {
            "filters": 2,
            "kernel_size": 2,
            "strides": 2,
            "padding": "same",
            "bias_initializer": "random_normal",
        },
        (2, 5, 4, 3),
    ),
    "Conv1DTranspose": (
        {"filters": 2, "kernel_size": 3, "strides": 2, "bias_initializer": "random_normal"},
        (2, 3, 2),
    ),
    "Conv2DTranspose": (
        {
            "filters": 2,
            "kernel_size": 2,
            "strides": 2,
            "padding": "same",
            "bias_initializer": "random_normal",
        },
        (2, 3, 2, 2),
    ),
    "DepthwiseConv1D": (
        {"kernel_size": 2, "depth_multiplier": 2, "bias_initializer": "random_normal"},
        (2, 4, 2),
    ),
    "DepthwiseConv2D": (
        {"kernel_size": 2, "data_format": "channels_first", "bias_initializer": "random_normal"},
        (2, 2, 3, 4),
    ),
    "SeparableConv1D": (
        {"filters": 3, "kernel_size": 2, "bias_initializer": "random_normal"},
        (2, 4, 2),
    ),
    "SeparableConv2D": (
        {
            "filters": 2,
            "kernel_size": 2,
            "depth_multiplier": 2,
            "bias_initializer": "random_normal",
        },
        (2, 3, 3, 2),
    ),
    # pooling.py
    "MaxPooling1D": ({"pool_size": 2}, (2, 6, 3)),
    "MaxPooling2D": ({"pool_size": 2, "strides": 1, "padding": "same"}, (2, 3, 4, 2)),
    "AveragePooling1D": ({"pool_size": 3, "strides": 2, "padding": "same"}, (2, 5, 2)),
    "AveragePooling2D": ({"pool_size": 2}, (2, 4, 4, 2)),
    "GlobalAveragePooling1D": ({}, (2, 5, 3)),
    "GlobalAveragePooling2D": ({"keepdims": True}, (2, 3, 4, 2)),
    "GlobalMaxPooling1D": ({"data_format": "channels_first"}, (2, 3, 5)),
    "GlobalMaxPooling2D": ({}, (2, 3, 4, 2)),
    # resizing.py
    "UpSampling1D": ({"size": 3}, (2, 3, 2)),
    "UpSampling2D": ({"size": 2, "interpolation": "bilinear"}, (2, 3, 2, 2)),
    "ZeroPadding1D": ({"padding": (1, 2)}, (2, 3, 2)),
    "ZeroPadding2D": ({"padding": ((1, 0), (2, 1))}, (2, 3, 2, 2)),
    "Cropping1D": ({"cropping": (1, 2)}, (2, 6, 2)),
    "Cropping2D": ({"cropping": ((1, 0), (0, 2))}, (2, 4, 5, 2)),
    # preprocessing.py
    "Rescaling": ({"scale": [0.5, 2.0, -1.0], "offset": 0.25}, (2, 4, 3)),
    "Normalization": (
        {"axis": -1, "mean": [0.5, -1.0, 2.0], "variance": [4.0, 0.25, 1.0]},
        (2, 4, 3),
    ),
    # spatial_dropout.py
    "SpatialDropout1D": ({"rate": 0.4, "seed": 3}, (4, 5, 6)),
    "SpatialDropout2D": ({"rate": 0.4, "seed": 3}, (4, 3, 3, 6)),
}


def make_case(name):
    """A new layer for `name` and its input shape; fails the test when the table lacks `name`."""
    if name not in LAYER_CASES:
        pytest.fail(f"Layer {name!r} is registered but has no entry in LAYER_CASES; add one.")
    kwargs, input_shape = LAYER_CASES[name]
    return LAYERS.lookup(name)(**kwargs), input_shape


def random_input(input_shape, seed):
    """float32 normal inputs: one array, or a list of arrays for a list of shapes."""
    rng = np.random.default_rng(seed)
    if isinstance(input_shape, list):
        return [rng.standard_normal(shape).astype("float32") for shape in input_shape]
    return rng.standard_normal(input_shape).astype("float32")


def input_names(input_shape):
    """The names check_gradients gives the inputs: 'x', or 'x[0]', 'x[1]', ..."""
    if isinstance(input_shape, list):
        return {f"x[{i}]" for i in range(len(input_shape))}
    return {"x"}


def json_normalized(config):
    return json.loads(json.dumps(config))


def test_every_registered_layer_has_a_case():
    assert set(LAYERS.names()) <= set(LAYER_CASES)
    assert set(LAYER_CASES) <= set(LAYERS.names())  # no stale entries either


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize("name", LAYERS.names())
def test_every_layer_passes_the_gradient_check(name, training):
    layer, input_shape = make_case(name)
    report = check_gradients(layer, input_shape=input_shape, training=training, seed=3)
    # dJ/dx and every parameter were checked, in float64
    assert set(report.errors) == {*input_names(input_shape), *layer.params}
    assert all(w.dtype == np.float64 for w in layer.weights)
    assert report.passed, str(report)


@pytest.mark.parametrize("name", LAYERS.names())
def test_every_layer_config_round_trips(name):
    layer, input_shape = make_case(name)
    x = random_input(input_shape, seed=5)
    layer(x)  # builds it
    config = layer.get_config()
    clone = type(layer).from_config(json_normalized(config))  # JSON-safe and complete
    clone(x)
    clone.set_weights(layer.get_weights())

    assert json_normalized(clone.get_config()) == json_normalized(config)
    for training in (False, True):  # Dropout's seed is part of the config: same masks, same noise
        np.testing.assert_array_equal(clone(x, training=training), layer(x, training=training))
    for mine, theirs in zip(layer.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(mine, theirs)  # BatchNormalization's statistics moved alike


@pytest.mark.parametrize("name", LAYERS.names())
def test_every_layer_serializes_by_registered_name(name):
    layer, _ = make_case(name)
    entry = layers.serialize(layer)
    assert entry["class_name"] == name
    again = layers.deserialize(json_normalized(entry))
    assert type(again) is type(layer)
    assert json_normalized(again.get_config()) == json_normalized(layer.get_config())


def test_serialize_rejects_unregistered_layer():
    with pytest.raises(ValueError, match="Scale is not registered"):
        layers.serialize(Scale())


def test_deserialize_needs_class_name_and_known_name():
    with pytest.raises(ValueError, match="class_name"):
        layers.deserialize({"config": {}})
    with pytest.raises(ValueError, match="Did you mean 'Dense'"):
        layers.deserialize({"class_name": "Dens", "config": {"units": 2}})


# -- a small layer written to the contract, to test the base class alone -------------------------


class Scale(Layer):
    """y = x · w + c, w per feature (trained), c a counter kept as state."""

    def build(self, input_shape):
        self.add_weight("w", (input_shape[-1],), initializer="ones", regularizer="l2")
        self.add_weight("count", (1,), initializer="zeros", trainable=False)

    def forward(self, x, *, training=False):
        self._x = x
        return x * self.params["w"]

    def backward(self, grad_y):
        self.grads["w"][...] = np.sum(grad_y * self._x, axis=0)
        return grad_y * self.params["w"]


# -- naming ----------------------------------------------------------------------------------------


def test_automatic_names_follow_keras():
    assert [layers.Dense(2).name for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    assert layers.BatchNormalization().name == "batch_normalization"
    assert layers.ReLU().name == "re_lu"  # Keras 3's snake case of "ReLU"
    assert layers.PReLU().name == "p_re_lu"
    assert layers.LeakyReLU().name == "leaky_re_lu"
    assert layers.ELU().name == "elu"
    assert layers.InputLayer(shape=(2,)).name == "input_layer"
    assert Scale().name == "scale"


def test_explicit_name_is_kept_and_does_not_consume_a_number():
    assert layers.Dense(2, name="hidden").name == "hidden"
    assert layers.Dense(2).name == "dense"


def test_clear_session_restarts_names():
    layers.Dense(2)
    layers.Dense(2)
    neuralnet.utils.clear_session()
    assert layers.Dense(2).name == "dense"


def test_name_must_be_a_string():
    with pytest.raises(TypeError, match="`name` must be a string, received 3"):
        layers.Dense(2, name=3)


def test_unknown_keyword_arguments_are_a_type_error_naming_them():
    with pytest.raises(
        TypeError, match=r"Dense\(\) got unexpected keyword argument\(s\): bogus, units_"
    ):
        layers.Dense(2, units_=3, bogus=True)
    with pytest.raises(TypeError, match="ratee"):
        layers.Dropout(0.5, ratee=0.3)
    with pytest.raises(TypeError, match="momentun"):
        layers.BatchNormalization(momentun=0.9)


# -- add_weight, weights, get/set_weights ----------------------------------------------------------


def test_add_weight_puts_trainable_arrays_in_params_and_the_rest_in_state():
    layer = Scale()
    layer(np.ones((2, 3)))
    assert list(layer.params) == ["w"]
    assert list(layer.state) == ["count"]
    np.testing.assert_array_equal(layer.params["w"], np.ones(3))
    assert layer.params["w"].dtype == np.float32  # floatx
    assert layer.grads["w"].shape == (3,) and not layer.grads["w"].any()
    assert "count" not in layer.grads
    assert isinstance(layer.regularizers["w"], regularizers.L2)


def test_add_weight_returns_the_stored_array_and_uses_the_initializer():
    class Holder(Layer):
        pass

    layer = Holder()
    value = layer.add_weight("k", (2, 3), initializer=initializers.Constant(0.25), dtype="float64")
    assert value is layer.params["k"]
    np.testing.assert_array_equal(value, np.full((2, 3), 0.25))
    assert value.dtype == np.float64


def test_get_weights_lists_params_then_state_as_copies():
    layer = layers.BatchNormalization()
    layer(np.ones((2, 3)))
    assert layer.weight_names == [
        "batch_normalization/gamma",
        "batch_normalization/beta",
        "batch_normalization/moving_mean",
        "batch_normalization/moving_variance",
    ]
    weights = layer.get_weights()
    weights[0][...] = 7.0
    np.testing.assert_array_equal(layer.params["gamma"], np.ones(3))  # a copy was changed


def test_set_weights_copies_in_place_and_casts_to_the_layer_dtype():
    layer = layers.Dense(2)
    layer(np.ones((1, 3)))
    kernel = layer.params["kernel"]
    new_kernel = np.arange(6, dtype=np.float64).reshape(3, 2)
    layer.set_weights([new_kernel, [0.5, -0.5]])
    assert layer.params["kernel"] is kernel  # optimizers hold references: same array
    np.testing.assert_array_equal(kernel, new_kernel)
    assert kernel.dtype == np.float32
    np.testing.assert_array_equal(layer.params["bias"], [0.5, -0.5])


def test_set_weights_rejects_a_wrong_count_naming_the_weights():
    layer = layers.Dense(2)
    layer(np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"'dense' has 2 weight arrays \(dense/kernel, dense/bias\), "
                       r"but set_weights received 1"):  # fmt: skip
        layer.set_weights([np.zeros((3, 2))])


def test_set_weights_rejects_a_wrong_shape_naming_the_weight():
    layer = layers.Dense(2)
    layer(np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"'dense/kernel' has shape \(3, 2\).*shape \(2, 3\)"):
        layer.set_weights([np.zeros((2, 3)), np.zeros(2)])
    np.testing.assert_array_equal(layer.params["bias"], np.zeros(2))  # nothing half-written


def test_count_params_counts_params_and_state():
    layer = layers.BatchNormalization()
    layer(np.ones((2, 5)))
    assert layer.count_params() == 4 * 5
    dense = layers.Dense(4)
    dense(np.ones((2, 3)))
    assert dense.count_params() == 3 * 4 + 4


# -- trainable -------------------------------------------------------------------------------------


def test_trainable_flag_moves_params_to_non_trainable_weights():
    layer = Scale()
    layer(np.ones((2, 3)))
    assert [w.shape for w in layer.trainable_weights] == [(3,)]
    assert [w.shape for w in layer.non_trainable_weights] == [(1,)]
    layer.trainable = False
    assert layer.trainable_weights == []
    assert [w.shape for w in layer.non_trainable_weights] == [(3,), (1,)]
    assert layer.get_config()["trainable"] is False


def test_trainable_false_from_the_constructor():
    layer = layers.Dense(2, trainable=False)
    layer(np.ones((1, 3)))
    assert layer.trainable_weights == []
    assert len(layer.non_trainable_weights) == 2


# -- regularization --------------------------------------------------------------------------------


def test_losses_and_regularization_gradients_of_a_layer():
    layer = layers.Dense(2, kernel_regularizer=regularizers.L2(0.1), bias_regularizer="l1")
    layer(np.ones((1, 3)))
    layer.set_weights([np.array([[1.0, -2.0], [0.5, 0.0], [3.0, 1.0]]), np.array([2.0, -1.0])])
    expected_kernel = 0.1 * (1 + 4 + 0.25 + 0 + 9 + 1)
    expected_bias = 0.01 * 3.0
    np.testing.assert_allclose(layer.losses, [expected_kernel, expected_bias], rtol=1e-6)
    np.testing.assert_allclose(
        layer.regularization_penalty(), expected_kernel + expected_bias, rtol=1e-6
    )
    layer.grads["kernel"][...] = 1.0
    layer.grads["bias"][...] = 0.0
    layer.add_regularization_gradients()
    np.testing.assert_allclose(layer.grads["kernel"], 1.0 + 0.2 * layer.params["kernel"], rtol=1e-6)
    np.testing.assert_allclose(layer.grads["bias"], [0.01, -0.01], rtol=1e-6)


# -- calling on arrays -----------------------------------------------------------------------------


def test_eager_call_builds_the_layer_for_the_input_shape():
    layer = layers.Dense(4)
    assert not layer.built and layer.weights == []
    y = layer(np.ones((2, 3)))
    assert layer.built
    assert y.shape == (2, 4)
    assert layer.params["kernel"].shape == (3, 4)
    assert layer.input_shape == (2, 3)


def test_eager_call_converts_inputs_to_floatx_and_runs_in_inference_mode():
    layer = layers.Dropout(0.5, seed=1)
    x = np.arange(12).reshape(3, 4)  # integers
    y = layer(x)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, x)  # inference unless training=True
    assert np.count_nonzero(layer(x + 1, training=True)) < 12


def test_eager_call_checks_the_shape_after_building():
    layer = layers.BatchNormalization()
    layer(np.ones((8, 3)))
    layer(np.ones((2, 3)))  # another batch size is fine
    with pytest.raises(
        ValueError,
        match=r"BatchNormalization layer 'batch_normalization' expected inputs of shape \(None, 3\), "
        r"received shape \(8, 5\)",
    ):
        layer(np.ones((8, 5)))
    with pytest.raises(ValueError, match=r"received shape \(8, 3, 1\)"):
        layer(np.ones((8, 3, 1)))


def test_base_layer_forward_and_backward_are_abstract():
    with pytest.raises(NotImplementedError, match="Layer does not implement forward"):
        Layer().forward(np.ones(2))
    with pytest.raises(NotImplementedError, match="does not implement backward"):
        Layer().backward(np.ones(2))


def test_input_shape_before_building_is_an_attribute_error():
    with pytest.raises(AttributeError, match="'dense' is not built yet"):
        _ = layers.Dense(2).input_shape


def test_seeded_layers_build_identical_weights_and_unseeded_ones_differ():
    a, b, c = layers.Dense(3, seed=11), layers.Dense(3, seed=11), layers.Dense(3)
    for layer in (a, b, c):
        layer(np.ones((1, 4)))
    np.testing.assert_array_equal(a.params["kernel"], b.params["kernel"])
    assert not np.array_equal(a.params["kernel"], c.params["kernel"])


def test_global_seed_makes_unseeded_weights_repeatable():
    def kernel():
        neuralnet.utils.set_random_seed(42)
        layer = layers.Dense(3)
        layer(np.ones((1, 4)))
        return layer.params["kernel"]

    np.testing.assert_array_equal(kernel(), kernel())


def test_keras2_input_arguments_are_recorded_in_the_config():
    assert layers.Dense(2, input_dim=5).get_config()["batch_input_shape"] == [None, 5]
    assert layers.Dense(2, input_shape=(4, 5)).get_config()["batch_input_shape"] == [None, 4, 5]
    with pytest.raises(ValueError, match="input_shape"):
        layers.Dense(2, input_shape=(0,))


# -- calling on symbolic tensors -------------------------------------------------------------------


def test_symbolic_call_returns_a_symbolic_tensor_and_records_the_node():
    inputs = neuralnet.Input(shape=(3,))
    dense = layers.Dense(4)
    outputs = dense(inputs)
    assert isinstance(outputs, SymbolicTensor)
    assert outputs.shape == (None, 4)
    assert outputs.dtype == "float32"
    assert outputs.layer is dense
    assert dense.built and dense.params["kernel"].shape == (3, 4)
    assert dense.input is inputs and dense.output is outputs
    assert dense.output_shape == (None, 4)


def test_symbolic_call_through_shape_changing_layers():
    inputs = neuralnet.Input(shape=(2, 6))
    h = layers.Flatten()(inputs)
    h = layers.Reshape((3, -1))(h)
    h = layers.Dense(5)(h)
    assert h.shape == (None, 3, 5)


def test_symbolic_tensor_holds_no_values():
    with pytest.raises(TypeError, match="placeholder"):
        np.asarray(neuralnet.Input(shape=(3,)))


def test_symbolic_call_checks_the_shape_after_building():
    layer = layers.BatchNormalization()
    layer(neuralnet.Input(shape=(3,)))
    with pytest.raises(
        ValueError, match=r"expected inputs of shape \(None, 3\), received shape \(None, 4\)"
    ):
        layer(neuralnet.Input(shape=(4,)))


def test_symbolic_call_rejects_a_list_for_a_single_input_layer():
    with pytest.raises(TypeError, match="takes one tensor"):
        layers.Dense(2)._call_symbolic([neuralnet.Input(shape=(3,)), neuralnet.Input(shape=(3,))])


def test_output_of_an_uncalled_layer_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no output yet"):
        _ = layers.Dense(2).output


def test_a_layer_keeps_the_float_type_it_was_built_with(rng):
    x = rng.standard_normal((4, 3))
    with neuralnet.config.floatx_scope("float64"):
        layer = layers.Dense(2)
        layer(x)
    assert layer.params["kernel"].dtype == np.float64
    y = layer(x)  # floatx is float32 again: the input is not rounded to float32
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, x @ layer.params["kernel"], rtol=1e-12)
    assert layer(neuralnet.Input(shape=(3,))).dtype == "float64"


def test_explicit_dtype_wins_over_floatx():
    layer = layers.Dense(2, dtype="float64")
    assert layer(np.ones((1, 3))).dtype == np.float64
    assert layer.get_config()["dtype"] == "float64"


def test_a_users_dense_subclass_with_its_own_init_keeps_dense_config():
    class MyDense(layers.Dense):
        def __init__(self, units, scale=2.0, **kwargs):
            super().__init__(units, **kwargs)
            self.scale = scale

    plain = MyDense(4, scale=3.0).get_config()
    assert plain["units"] == 4 and plain["scale"] == 3.0
    with_objects = MyDense(4, kernel_initializer=initializers.HeNormal(seed=1)).get_config()
    assert with_objects["units"] == 4 and with_objects["kernel_initializer"]["class_name"]
