"""Subclassed models and layers: layers made in `__init__`, composed in `call`, traced into a graph."""

import numpy as np
import pytest

import neuralnet
from neuralnet import Input, Model, Sequential, layers
from neuralnet.layers.node import TracingError
from neuralnet.testing import check_gradients


@pytest.fixture
def float64():
    neuralnet.config.set_floatx("float64")


class TwoLayers(Model):
    """The Keras guide's first subclassed model."""

    def __init__(self, units=8, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = layers.Dense(units, activation="relu")
        self.out = layers.Dense(3, activation="softmax")

    def call(self, inputs, training=None):
        return self.out(self.hidden(inputs))


class WithDropout(Model):
    """Dropout only when `training` says so: a Python branch on the training flag."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = layers.Dense(6, kernel_initializer="ones", use_bias=False)
        self.drop = layers.Dropout(0.5, seed=1)
        self.out = layers.Dense(1, kernel_initializer="ones", use_bias=False)

    def call(self, inputs, training=None):
        x = self.hidden(inputs)
        if training:
            x = self.drop(x)
        return self.out(x)


class Residual(layers.Layer):
    """A layer made of layers: `y = x + dense_2(tanh(dense_1(x)))`."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.inner = layers.Dense(units, activation="tanh")
        self.project = layers.Dense(units)

    def call(self, x):
        return x + self.project(self.inner(x))


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype("float32")
    return x, (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)


def test_a_subclassed_model_trains_exactly_as_the_same_sequential_model():
    x, y = _data()
    neuralnet.utils.set_random_seed(0)
    subclassed = TwoLayers()
    neuralnet.utils.set_random_seed(0)
    sequential = Sequential([Input((4,)), layers.Dense(8, activation="relu"),
                             layers.Dense(3, activation="softmax")])  # fmt: skip
    subclassed.build((None, 4))
    subclassed.set_weights(sequential.get_weights())
    histories = []
    for model in (subclassed, sequential):
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        histories.append(model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0).history)
    assert histories[0] == histories[1]
    for a, b in zip(subclassed.get_weights(), sequential.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_subclassed_model_is_built_by_its_first_data_and_lists_its_layers():
    model = TwoLayers()
    assert not model.built
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    with pytest.raises(ValueError, match="has not been built yet"):
        model.summary()
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(*_data(), verbose=0)
    assert model.built and [w.shape for w in model.weights] == [(4, 8), (8,), (8, 3), (3,)]
    lines = []
    model.summary(print_fn=lines.append)
    assert " Total params: 67 (268.00 B)" in lines


def test_call_branches_on_training_through_two_traces():
    model = WithDropout()
    model.compile(neuralnet.optimizers.SGD(learning_rate=0.0), "mse")
    x = np.ones((64, 2), dtype="float32")
    y = np.zeros((64, 1), dtype="float32")
    assert model.predict(x, verbose=0) == pytest.approx(np.full((64, 1), 12.0))
    assert model.evaluate(x, y, verbose=0) == pytest.approx(144.0)
    train_loss = model.train_on_batch(x, y)
    # Dropout of 6 units of value 2: each kept one is scaled to 4, so the output is 4·(kept units).
    assert train_loss != pytest.approx(144.0)
    assert [type(s.layer).__name__ for s in model.call_graph(True).graph.steps] == [
        "Dense", "Dropout", "Dense"
    ]  # fmt: skip
    assert [type(s.layer).__name__ for s in model.call_graph(False).graph.steps] == [
        "Dense", "Dense"
    ]  # fmt: skip


def test_get_config_round_trips_the_constructor_arguments():
    model = TwoLayers(units=5, name="mine")
    config = model.get_config()
    assert config == {"units": 5, "name": "mine", "trainable": True, "dtype": "float32"}
    clone = TwoLayers.from_config(config)
    clone.build((None, 4))
    assert clone.units == 5 and clone.weights[0].shape == (4, 5)


def test_get_config_of_a_model_with_array_arguments_asks_for_get_config():
    class Scaled(Model):
        def __init__(self, scale, **kwargs):
            super().__init__(**kwargs)
            self.scale = scale
            self.dense = layers.Dense(1)

        def call(self, inputs):
            return self.dense(inputs)

    with pytest.raises(NotImplementedError, match=r"Write Scaled.get_config\(\)"):
        Scaled(np.ones(3)).get_config()


def test_a_layer_made_of_layers_has_exact_gradients_inside_a_sequential(float64):
    model = Sequential([Input((4,)), Residual(4), Residual(4), layers.Dense(1)])
    model.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    report = check_gradients(model, rng.standard_normal((5, 4)), rng.standard_normal((5, 1)))
    assert "residual/dense/kernel" in report.errors
    assert len(model.weights) == 10


def test_a_layer_made_of_layers_shared_twice_keeps_each_calls_values(float64):
    block = Residual(3)
    a, b = Input((3,)), Input((3,))
    model = Model([a, b], layers.Dense(1)(layers.Concatenate()([block(a), block(b)])))
    model.compile("sgd", "mse")
    rng = np.random.default_rng(1)
    check_gradients(model, [rng.standard_normal((4, 3)), rng.standard_normal((4, 3))],
                    rng.standard_normal((4, 1)))  # fmt: skip


def test_a_subclassed_model_nested_in_a_functional_model_has_exact_gradients(float64):
    inner = TwoLayers(units=5)
    x = Input((4,))
    model = Model(x, layers.Dense(2)(inner(layers.Dense(4, activation="tanh")(x))))
    model.compile("sgd", "mse")
    rng = np.random.default_rng(2)
    check_gradients(model, rng.standard_normal((6, 4)), rng.standard_normal((6, 2)))


def test_a_subclassed_model_with_dict_inputs_and_outputs():
    class TwoHeads(Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.merge = layers.Concatenate()
            self.score = layers.Dense(1)
            self.label = layers.Dense(2, activation="softmax")

        def call(self, inputs):
            h = self.merge([inputs["left"], inputs["right"]])
            return {"score": self.score(h), "label": self.label(h)}

    model = TwoHeads()
    model.compile("adam", {"score": "mse", "label": "sparse_categorical_crossentropy"})
    x = {"left": np.ones((8, 2)), "right": np.zeros((8, 3))}
    history = model.fit(x, {"score": np.ones((8, 1)), "label": np.ones(8)}, verbose=0)
    assert sorted(history.history) == ["label_loss", "loss", "score_loss"]
    out = model.predict(x, verbose=0)
    assert sorted(out) == ["label", "score"] and out["label"].shape == (8, 2)


def test_tensor_sums_in_call_become_layers():
    class Sum(Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.a = layers.Dense(2)
            self.b = layers.Dense(2)

        def call(self, inputs):
            return self.a(inputs) + self.b(inputs) - self.a(inputs) * self.b(inputs)

    model = Sum()
    x = np.random.default_rng(0).standard_normal((3, 4)).astype("float32")
    a, b = model.a, model.b
    out = model.predict(x, verbose=0)
    ya, yb = a(x), b(x)
    np.testing.assert_allclose(out, ya + yb - ya * yb, rtol=1e-6)


def test_numpy_math_in_call_says_how_to_write_a_layer():
    class Exp(Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(2)

        def call(self, inputs):
            return np.exp(self.dense(inputs))

    with pytest.raises(TracingError, match=r"Exp 'exp': call\(\) cannot be traced.*NumPy's exp"):
        Exp().predict(np.ones((2, 3)), verbose=0)
    with pytest.raises(TracingError, match=r"Layer subclass with forward\(\) and backward\(\)"):
        Exp().predict(np.ones((2, 3)), verbose=0)


def test_branching_on_tensor_values_in_call_is_refused():
    class Branchy(Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(2)

        def call(self, inputs):
            y = self.dense(inputs)
            return y if y > 0 else inputs

    with pytest.raises(TracingError, match="operator was applied"):
        Branchy().build((None, 3))


def test_a_layer_with_weights_created_inside_call_is_refused():
    class Fresh(Model):
        def call(self, inputs):
            return layers.Dense(2)(inputs)

    with pytest.raises(ValueError, match=r"created inside call\(\).*Create it in __init__"):
        Fresh().build((None, 3))


def test_compile_with_a_list_of_losses_before_the_first_data():
    model = TwoLayers()
    model.compile("sgd", loss=["sparse_categorical_crossentropy"], metrics=["accuracy"])
    history = model.fit(*_data(), verbose=0)
    assert sorted(history.history) == ["accuracy", "loss"]


# -- what is trained is what the training graph runs ----------------------------------------------


def test_a_layer_held_but_not_called_in_training_is_not_updated():
    teacher = Sequential([Input((4,)), layers.Dense(3)])

    class Student(Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.teacher = teacher  # kept for reference, never called
            self.dense = layers.Dense(3)

        def call(self, inputs):
            return self.dense(inputs)

    student = Student()
    student.compile(neuralnet.optimizers.SGD(0.1, weight_decay=0.5), "mse")
    before = teacher.get_weights()
    student.fit(np.ones((8, 4)), np.zeros((8, 3)), verbose=0)
    for a, b in zip(before, teacher.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_replacing_a_layer_after_tracing_trains_the_new_one():
    model = TwoLayers(units=4)
    model.compile("sgd", "mse")
    x, y = np.ones((8, 4), dtype="float32"), np.zeros((8, 3), dtype="float32")
    model.fit(x, y, verbose=0)
    old_out = model.out
    model.out = layers.Dense(3)
    before_new, before_old = model.out.get_weights(), old_out.get_weights()
    model.fit(x, y, verbose=0)
    assert not np.array_equal(before_new[0], model.out.get_weights()[0])
    np.testing.assert_array_equal(before_old[0], old_out.get_weights()[0])
    assert [s.layer for s in model.call_graph(True).graph.steps][-1] is model.out


def test_a_weightless_layer_shared_by_a_subclassed_model_and_the_outer_model(float64):
    squash = layers.Activation("tanh")

    class Inner(Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.pre = layers.Dense(3)

        def call(self, inputs):
            return squash(self.pre(inputs))

    x = Input((3,))
    model = Model(x, layers.Dense(1)(squash(Inner()(x))))
    model.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    check_gradients(model, rng.standard_normal((5, 3)), rng.standard_normal((5, 1)))


def test_a_nested_model_with_one_output_in_a_list_is_one_tensor():
    i = Input((3,))
    inner = Model(i, [layers.Dense(2)(i)])
    x = Input((3,))
    model = Model(x, layers.Dense(1)(inner(x)))
    model.compile("sgd", "mse")
    assert model.predict(np.ones((4, 3)), verbose=0).shape == (4, 1)
    model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)


def test_a_failed_trace_leaves_the_layer_unbuilt():
    class Broken(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(2)

        def call(self, x):
            return np.tanh(self.dense(x))

    broken = Broken()
    with pytest.raises(TracingError):
        broken(Input((3,)))
    assert not broken.built
    with pytest.raises(TracingError):
        broken(Input((3,)))


def test_check_gradients_of_a_multi_input_layer_made_of_layers(float64):
    class Mix(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.a = layers.Dense(2)
            self.b = layers.Dense(2)

        def call(self, inputs):
            left, right = inputs
            return self.a(left) * self.b(right)

    check_gradients(Mix(), input_shape=[(4, 3), (4, 5)])


def test_features_of_a_subclassed_model_can_feed_a_functional_model():
    model = TwoLayers(units=5)
    model.build((None, 4))
    features = Model(model.inputs, model.hidden.output)
    assert features.predict(np.ones((2, 4)), verbose=0).shape == (2, 5)


def test_a_layer_that_refers_back_to_its_model_does_not_loop():
    class Block(layers.Layer):
        def __init__(self, owner, **kwargs):
            super().__init__(**kwargs)
            self.owner = owner
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    class Owner(Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.block = Block(self)

        def call(self, inputs):
            return self.block(inputs)

    model = Owner()
    model.build((None, 3))
    assert [w.shape for w in model.weights] == [(3, 2), (2,)]
    model.trainable = False
    assert model.trainable_weights == []
