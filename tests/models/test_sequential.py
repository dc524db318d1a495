"""Sequential: building, weights in Keras's order, summary, and the lecture's snippet."""

import numpy as np
import pytest

import neuralnet
from neuralnet import Input, Sequential, layers


def test_the_lectures_sequential_snippet_runs_with_only_the_import_changed(capsys):
    from neuralnet.layers import Dense  # was: from keras.layers import Dense

    # For a single-input model with 2 classes (binary classification):
    model = Sequential()
    model.add(Dense(32, activation="relu", input_dim=100))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])

    # Generate dummy data
    data = np.random.random((1000, 100))
    labels = np.random.randint(2, size=(1000, 1))

    # Train the model, iterating on the data in batches of 32 samples
    history = model.fit(data, labels, epochs=10, batch_size=32)

    assert sorted(history.history) == ["accuracy", "loss"]
    assert len(history.history["loss"]) == 10
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert all(0.0 <= a <= 1.0 for a in history.history["accuracy"])
    printed = capsys.readouterr().out
    assert "Epoch 10/10" in printed  # 'auto' verbosity prints a line per epoch off a terminal


def test_layers_can_be_given_as_a_list_or_added_one_by_one():
    a = Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    b = Sequential()
    b.add(Input(shape=(3,)))
    b.add(layers.Dense(4))
    b.add(layers.Dense(2))
    assert a.built and b.built
    assert (
        [w.shape for w in a.get_weights()]
        == [w.shape for w in b.get_weights()]
        == [(3, 4), (4,), (4, 2), (2,)]
    )
    assert len(a.layers) == 2  # the InputLayer is not listed, as in Keras 3


def test_model_without_input_shape_is_built_by_its_first_data():
    model = Sequential([layers.Dense(4, activation="relu"), layers.Dense(1)])
    assert not model.built
    assert model.get_weights() == []
    out = model.predict(np.ones((5, 7)), verbose=0)
    assert out.shape == (5, 1)
    assert model.built and model.layers[0].params["kernel"].shape == (7, 4)


def test_get_weights_follows_keras_order_with_state_after_parameters():
    model = Sequential([Input((3,)), layers.Dense(4), layers.BatchNormalization(), layers.Dense(2)])
    names = model.weight_names
    assert names == [
        "sequential/dense/kernel", "sequential/dense/bias",
        "sequential/batch_normalization/gamma", "sequential/batch_normalization/beta",
        "sequential/batch_normalization/moving_mean", "sequential/batch_normalization/moving_variance",
        "sequential/dense_1/kernel", "sequential/dense_1/bias",
    ]  # fmt: skip
    assert len(model.trainable_weights) == 6 and len(model.non_trainable_weights) == 2


def test_set_weights_copies_in_place_and_checks_count_and_shapes():
    model = Sequential([Input((3,)), layers.Dense(2)])
    kernel = model.layers[0].params["kernel"]
    model.set_weights([np.ones((3, 2)), np.zeros(2)])
    assert model.layers[0].params["kernel"] is kernel and np.all(kernel == 1.0)
    with pytest.raises(ValueError, match=r"has 2 weight arrays .*but set_weights received 1"):
        model.set_weights([np.ones((3, 2))])
    with pytest.raises(ValueError, match=r"dense/kernel' has shape \(3, 2\).*\(2, 3\)"):
        model.set_weights([np.ones((2, 3)), np.zeros(2)])


def test_get_layer_by_name_and_index():
    model = Sequential([Input((3,)), layers.Dense(4, name="hidden"), layers.Dense(2, name="out")])
    assert model.get_layer("out") is model.layers[1]
    assert model.get_layer(index=0).name == "hidden"
    with pytest.raises(ValueError, match="No layer named 'nope'.*hidden, out"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="index 5 is out of range"):
        model.get_layer(index=5)


def test_pop_removes_the_last_layer():
    model = Sequential([Input((3,)), layers.Dense(4), layers.Dense(2)])
    model.pop()
    assert [layer.name for layer in model.layers] == ["dense"]
    assert model.predict(np.ones((2, 3)), verbose=0).shape == (2, 4)


def test_summary_prints_layers_shapes_and_counts_like_keras():
    model = Sequential([Input((100,)), layers.Dense(32, activation="relu"), layers.BatchNormalization(),
                        layers.Dense(1, activation="sigmoid")])  # fmt: skip
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert lines[0] == 'Model: "sequential"'
    assert "dense (Dense)" in text and "(None, 32)" in text and "3,232" in text
    assert "batch_normalization" in text and "128" in text
    # the Keras 3 totals for this model
    assert " Total params: 3,393 (13.25 KB)" in lines
    assert " Trainable params: 3,329 (13.00 KB)" in lines
    assert " Non-trainable params: 64 (256.00 B)" in lines


def test_summary_and_count_params_need_a_known_input_shape():
    model = Sequential([layers.Dense(4)])
    with pytest.raises(ValueError, match="not been built yet.*input shape"):
        model.summary()
    with pytest.raises(ValueError, match="not built yet"):
        model.count_params()
    with pytest.raises(ValueError, match="does not know its input shape"):
        model.build()


def test_sequential_rejects_non_layers_and_late_input_layers():
    model = Sequential([Input((3,)), layers.Dense(2)])
    with pytest.raises(TypeError, match="can only add layers"):
        model.add("dense")
    with pytest.raises(ValueError, match="InputLayer can only be the first layer"):
        model.add(layers.InputLayer(shape=(3,)))


def test_calling_a_model_on_an_array_runs_inference():
    model = Sequential([Input((3,)), layers.Dense(2), layers.Dropout(0.5)])
    x = np.ones((4, 3), dtype="float32")
    np.testing.assert_array_equal(model(x), model.predict(x, verbose=0))  # dropout off


def test_config_round_trip_rebuilds_the_same_architecture():
    model = Sequential(
        [Input((3,)), layers.Dense(4, activation="tanh"), layers.Dropout(0.1), layers.Dense(2)]
    )
    clone = Sequential.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [type(layer).__name__ for layer in clone.layers] == ["Dense", "Dropout", "Dense"]


def test_float64_models_when_floatx_is_float64():
    neuralnet.config.set_floatx("float64")
    model = Sequential([Input((3,)), layers.Dense(2)])
    assert model.layers[0].params["kernel"].dtype == np.float64
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    assert model.predict(np.ones((1, 3)), verbose=0).dtype == np.float64


def test_float32_by_default_end_to_end():
    model = Sequential([Input((3,)), layers.Dense(2, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")
    model.fit(np.ones((4, 3)), np.eye(2)[[0, 1, 0, 1]], verbose=0)
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert model.predict(np.ones((2, 3), dtype=np.float64), verbose=0).dtype == np.float32
    assert all(
        slot.dtype == np.float32
        for key, slot in model.optimizer.variables.items()
        if key != "iterations"
    )
