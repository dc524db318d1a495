"""Functional models: graphs with several inputs and outputs, fan-out, shared layers, nested models."""

import numpy as np
import pytest

import neuralnet
from neuralnet import Input, Model, Sequential, layers
from neuralnet.testing import check_gradients


@pytest.fixture
def float64():
    neuralnet.config.set_floatx("float64")


def test_the_lectures_functional_snippet_runs_with_only_the_import_changed():
    from neuralnet.layers import Dense  # was: from keras.layers import Input, Dense

    data = np.random.random((256, 784))
    labels = neuralnet.utils.to_categorical(np.random.randint(10, size=256), 10)

    # This returns a tensor
    inputs = Input(shape=(784,))

    # a layer instance is callable on a tensor, and returns a tensor
    output_1 = Dense(64, activation="relu")(inputs)
    output_2 = Dense(64, activation="relu")(output_1)
    predictions = Dense(10, activation="softmax")(output_2)

    # This creates a model that includes
    # the Input layer and three Dense layers
    model = Model(inputs=inputs, outputs=predictions)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(data, labels, verbose=0)  # starts training

    assert isinstance(model, Model) and type(model).__name__ == "Functional"
    assert len(history.history["loss"]) == 1
    assert model.predict(data[:3], verbose=0).shape == (3, 10)
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputLayer",
        "Dense",
        "Dense",
        "Dense",
    ]


def test_multi_input_multi_output_gradients(float64):
    a, b = Input((3,), name="a"), Input((2,), name="b")
    h = layers.Dense(4, activation="tanh")(a)
    merged = layers.Concatenate()([h, b])
    regression = layers.Dense(2, name="regression")(merged)
    label = layers.Dense(1, activation="sigmoid", name="label")(
        layers.Dense(3, activation="relu")(merged)
    )
    model = Model([a, b], [regression, label])
    model.compile(
        "sgd",
        {"regression": "mse", "label": "binary_crossentropy"},
        loss_weights={"regression": 0.5, "label": 2.0},
    )
    rng = np.random.default_rng(0)
    x = [rng.standard_normal((6, 3)), rng.standard_normal((6, 2))]
    y = {"regression": rng.standard_normal((6, 2)), "label": rng.integers(0, 2, (6, 1))}
    report = check_gradients(model, x=x, y=y)
    assert {"x[0]", "x[1]", "regression/kernel", "label/kernel"} <= set(report.errors)


def test_fan_out_gradients_are_summed(float64):
    inputs = Input((4,))
    h = layers.Dense(5, activation="tanh")(inputs)  # feeds three branches, one of them twice
    squared = layers.Multiply()([h, h])
    out = layers.Add()([layers.Dense(2)(h), layers.Dense(2)(h), layers.Dense(2)(squared)])
    model = Model(inputs, out)
    model.compile("sgd", "mse")
    rng = np.random.default_rng(1)
    check_gradients(model, x=rng.standard_normal((5, 4)), y=rng.standard_normal((5, 2)))


def test_nested_models_gradients_and_shared_weights(float64):
    # smooth activations: with ReLU a sample whose units are all off sends exact zeros downstream,
    # and finite differences then straddle the kink of the next ReLU
    encoder_input = Input((6,))
    hidden = layers.Dense(4, activation="elu")(encoder_input)
    encoder = Model(encoder_input, layers.Dense(2, activation="tanh")(hidden), name="encoder")
    decoder = Sequential(
        [Input((2,)), layers.Dense(4, activation="softplus"), layers.Dense(6)], name="decoder"
    )
    x = Input((6,))
    autoencoder = Model(x, decoder(encoder(x)))
    autoencoder.compile("sgd", "mse")
    rng = np.random.default_rng(2)
    data = rng.standard_normal((7, 6))
    report = check_gradients(autoencoder, x=data, y=data)
    assert any(name.startswith("encoder/") for name in report.errors)
    assert any(name.startswith("decoder/") for name in report.errors)
    # the standalone models use the autoencoder's weights
    autoencoder.compile(neuralnet.optimizers.SGD(0.1), "mse")
    autoencoder.fit(data, data, epochs=2, verbose=0)
    np.testing.assert_allclose(
        decoder.predict(encoder.predict(data, verbose=0), verbose=0),
        autoencoder.predict(data, verbose=0),
    )
    assert len(autoencoder.trainable_weights) == 8


def test_a_shared_layer_sums_the_gradients_of_its_calls(float64):
    a, b = Input((3,)), Input((3,))
    shared = layers.Dense(2, activation="tanh")
    out = layers.Subtract()([shared(a), shared(b)])
    model = Model([a, b], out)
    model.compile("sgd", "mse")
    rng = np.random.default_rng(3)
    report = check_gradients(
        model,
        x=[rng.standard_normal((4, 3)), rng.standard_normal((4, 3))],
        y=rng.standard_normal((4, 2)),
    )
    assert "dense/kernel" in report.errors
    assert model.count_params() == 8  # one set of weights


def test_a_model_called_twice_shares_its_weights(float64):
    tower_input = Input((3,))
    tower = Model(tower_input, layers.Dense(2, activation="tanh")(tower_input), name="tower")
    a, b = Input((3,)), Input((3,))
    out = layers.Dot(axes=1, normalize=True)([tower(a), tower(b)])
    model = Model([a, b], out)
    model.compile("sgd", "mse")
    rng = np.random.default_rng(4)
    check_gradients(
        model,
        x=[rng.standard_normal((5, 3)), rng.standard_normal((5, 3))],
        y=rng.uniform(-1, 1, (5, 1)),
    )


def test_sequential_inside_functional_and_functional_inside_sequential():
    inner_input = Input((4,))
    inner = Model(inner_input, layers.Dense(3, activation="relu")(inner_input))
    outer = Sequential([Input((4,)), inner, layers.Dense(2, activation="softmax")])
    outer.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).standard_normal((10, 4)).astype("float32")
    outer.fit(x, np.arange(10) % 2, epochs=1, verbose=0)
    assert outer.predict(x, verbose=0).shape == (10, 2)
    assert len(outer.get_weights()) == 4


def test_per_output_losses_metrics_and_log_names():
    inputs = Input((3,))
    h = layers.Dense(4, activation="relu")(inputs)
    first = layers.Dense(2, activation="softmax", name="kind")(h)
    second = layers.Dense(1, name="size")(h)
    model = Model(inputs, [first, second])
    model.compile(
        "adam", ["sparse_categorical_crossentropy", "mse"], metrics=[["accuracy"], ["mae"]]
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 3)).astype("float32")
    history = model.fit(x, [np.arange(20) % 2, rng.standard_normal((20, 1))], epochs=1, verbose=0)
    assert sorted(history.history) == [
        "kind_accuracy",
        "kind_loss",
        "loss",
        "size_loss",
        "size_mae",
    ]
    total = history.history["kind_loss"][0] + history.history["size_loss"][0]
    assert history.history["loss"][0] == pytest.approx(total, rel=1e-6)
    outputs = model.predict(x, verbose=0)
    assert isinstance(outputs, list) and outputs[0].shape == (20, 2) and outputs[1].shape == (20, 1)


def test_summary_shows_what_each_layer_is_connected_to():
    a, b = Input((4,), name="a"), Input((3,), name="b")
    h = layers.Dense(5)(a)
    out = layers.Dense(2, name="out")(layers.Concatenate()([h, b]))
    lines = []
    Model([a, b], out).summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Connected to" in text
    assert "dense[0][0], b[0][0]" in text and "concatenate[0][0]" in text
    assert " Total params: 43 (172.00 B)" in lines
    # Keras's layer order: a, dense, b, concatenate, out
    names = [line.split()[1] for line in lines if line.startswith("│ ") and "(" in line.split()[2]]
    assert names == ["a", "dense", "b", "concatenate", "out"]


def test_get_weights_follow_keras_layer_order():
    a, b = Input((4,), name="a"), Input((3,), name="b")
    h = layers.Dense(5, name="h")(a)
    g = layers.Dense(6, name="g")(b)
    out = layers.Dense(2, name="out")(layers.Concatenate()([h, g]))
    model = Model([a, b], out)
    assert [w.shape for w in model.get_weights()] == [(4, 5), (5,), (3, 6), (6,), (11, 2), (2,)]


def test_output_not_reachable_from_the_inputs():
    a, b = Input((3,)), Input((3,))
    out = layers.Add()([layers.Dense(2)(a), layers.Dense(2)(b)])
    with pytest.raises(
        ValueError,
        match="depends on the input 'input_layer_1', which is not among the model's `inputs`",
    ):
        Model(a, out)


def test_an_input_that_is_not_used():
    a, b = Input((3,)), Input((3,))
    with pytest.raises(ValueError, match="input 'input_layer_1' is not used to compute any output"):
        Model([a, b], layers.Dense(2)(a))


def test_merge_shape_mismatch_names_both_shapes():
    a, b = Input((3,)), Input((4,))
    with pytest.raises(
        ValueError,
        match=r"Add layer 'add' cannot combine inputs of shapes \(None, 3\) and \(None, 4\)",
    ):
        layers.Add()([a, b])
    with pytest.raises(
        ValueError, match=r"agree except on axis -1, received shapes \(None, 2, 3\), \(None, 3, 3\)"
    ):
        layers.Concatenate()([Input((2, 3)), Input((3, 3))])


def test_model_called_on_the_wrong_number_of_inputs():
    a, b = Input((3,)), Input((3,))
    model = Model([a, b], layers.Add()([a, b]))
    model.compile("sgd", "mse")
    with pytest.raises(
        ValueError, match=r"expects 2 inputs \(input_layer, input_layer_1\), received 1"
    ):
        model.predict(np.ones((2, 3)), verbose=0)
    with pytest.raises(ValueError, match="expects 2 inputs"):
        model.fit([np.ones((2, 3))] * 3, np.ones((2, 3)), verbose=0)


def test_inputs_must_come_from_input():
    a = Input((3,))
    h = layers.Dense(2)(a)
    with pytest.raises(ValueError, match="inputs must be tensors returned by Input"):
        Model(h, layers.Dense(1)(h))


def test_inputs_and_targets_by_name():
    a, b = Input((2,), name="left"), Input((2,), name="right")
    out = layers.Dense(1, name="score")(layers.Concatenate()([a, b]))
    model = Model({"left": a, "right": b}, out)
    model.compile("sgd", "mse")
    x = {"right": np.ones((4, 2)), "left": np.zeros((4, 2))}
    assert model.evaluate(x, np.ones((4, 1)), verbose=0) >= 0.0
    with pytest.raises(ValueError, match=r"no entry for \['right'\]"):
        model.predict({"left": np.zeros((4, 2))}, verbose=0)


def test_a_chain_deeper_than_the_recursion_limit_builds_trains_and_saves(tmp_path):
    import sys

    depth = sys.getrecursionlimit() + 500
    inputs = Input((2,))
    h = inputs
    for _ in range(depth):
        h = layers.Dense(2, kernel_initializer="identity")(h)
    model = Model(inputs, h)
    x = np.array([[1.0, -2.0]], dtype="float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)  # identity kernels, zero bias
    model.compile(optimizer="sgd", loss="mse")
    model.train_on_batch(x, np.zeros_like(x))
    model.save(str(tmp_path / "deep.keras"))
    loaded = neuralnet.models.load_model(str(tmp_path / "deep.keras"))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_models_own_input_and_output_as_in_keras():
    # Keras 3: model.input / model.output are the tensors the model was built on, so a feature
    # extractor is Model(model.input, model.layers[-2].output).
    sequential = Sequential([Input((3,)), layers.Dense(4, activation="relu"), layers.Dense(2)])
    assert sequential.input is sequential.inputs[0]
    assert sequential.output is sequential.outputs[0]
    features = Model(sequential.input, sequential.layers[-2].output)
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(features.predict(x, verbose=0),
                                  sequential.layers[0](x))  # fmt: skip
    a, b = Input((2,), name="a"), Input((3,), name="b")
    two = Model({"a": a, "b": b}, [layers.Dense(1)(a), layers.Dense(1)(b)])
    assert two.input == {"a": a, "b": b}
    assert isinstance(two.output, list) and len(two.output) == 2
    # called as a layer on other tensors, a model keeps its own input and output (as in Keras)
    own = sequential.input
    sequential(Input((3,)))
    assert sequential.input is own
