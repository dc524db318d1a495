"""Training is right in every graph: facts of one model or one call never leak into another.

Each test here builds a graph that used to train silently wrong: a model built later changed how an
earlier one trained, a shared layer's second call overwrote the first call's forward values, a
layer's own `backward` was bypassed, or a cached plan outlived a change of the graph.
"""

import collections

import numpy as np
import pytest

import neuralnet
from neuralnet import Input, Model, Sequential, callbacks, layers
from neuralnet.layers import Layer
from neuralnet.testing import check_gradients


@pytest.fixture
def float64():
    neuralnet.config.set_floatx("float64")


def _changed(before, after):
    return [not np.array_equal(b, a) for b, a in zip(before, after)]


# -- a model built later never changes how an earlier model trains ---------------------------------


def test_the_keras_blog_autoencoder_trains_its_encoder_after_the_decoder_is_built():
    # https://blog.keras.io/building-autoencoders-in-keras.html, with smaller sizes.
    input_img = Input(shape=(12,))
    encoded = layers.Dense(3, activation="relu")(input_img)
    decoded = layers.Dense(12, activation="sigmoid")(encoded)
    autoencoder = Model(input_img, decoded)
    encoder = Model(input_img, encoded)
    encoded_input = Input(shape=(3,))
    decoder_layer = autoencoder.layers[-1]
    decoder = Model(encoded_input, decoder_layer(encoded_input))
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")

    x = np.random.default_rng(0).random((64, 12)).astype("float32")
    before = encoder.get_weights()
    autoencoder.fit(x, x, epochs=1, batch_size=16, verbose=0)
    assert all(_changed(before, encoder.get_weights()))
    assert decoder.predict(encoder.predict(x, verbose=0), verbose=0).shape == (64, 12)


def test_the_keras_blog_autoencoder_has_exact_gradients_after_the_decoder_is_built(float64):
    input_img = Input(shape=(5,))
    encoded = layers.Dense(3, activation="tanh")(input_img)
    decoded = layers.Dense(5, activation="sigmoid")(encoded)
    autoencoder = Model(input_img, decoded)
    encoded_input = Input(shape=(3,))
    Model(encoded_input, autoencoder.layers[-1](encoded_input))
    autoencoder.compile("sgd", "binary_crossentropy")
    x = np.random.default_rng(1).random((6, 5))
    check_gradients(autoencoder, x, x)


def test_a_gan_generator_trains_after_a_model_over_the_discriminators_first_layer_is_built():
    z = Input((4,))
    generator = Model(z, layers.Dense(6, activation="tanh", name="g")(z))
    d_in = Input((6,))
    d_hidden = layers.Dense(5, activation="relu", name="d_hidden")
    discriminator = Model(d_in, layers.Dense(1, activation="sigmoid")(d_hidden(d_in)))
    discriminator.trainable = False
    gan = Model(z, discriminator(generator(z)))
    gan.compile("sgd", "binary_crossentropy")
    # Built after the GAN: a probe over the discriminator's first layer, fed by its own input.
    probe_in = Input((6,))
    Model(probe_in, d_hidden(probe_in))

    noise = np.random.default_rng(0).standard_normal((32, 4)).astype("float32")
    before_g, before_d = generator.get_weights(), discriminator.get_weights()
    gan.train_on_batch(noise, np.ones((32, 1)))
    assert all(_changed(before_g, generator.get_weights()))
    assert not any(_changed(before_d, discriminator.get_weights()))


# -- each call of a layer keeps its own forward values ---------------------------------------------


class DictCacheAffine(Layer):
    """The cs231n style: forward keeps its input in a dict that lives as long as the layer."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.cache = {}

    def build(self, input_shape):
        self.add_weight("kernel", (input_shape[-1], self.units), "glorot_uniform")
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, x, *, training=False):
        self.cache["x"] = x
        return x @ self.params["kernel"]

    def backward(self, grad_y):
        self.grads["kernel"][...] = self.cache["x"].T @ grad_y
        return grad_y @ self.params["kernel"].T


class ListCacheTanh(Layer):
    """Keeps its output in a list that lives as long as the layer: `y = tanh(x · kernel)`."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.saved = []

    def build(self, input_shape):
        self.add_weight("kernel", (input_shape[-1], input_shape[-1]), "glorot_uniform")
        self.built = True

    def forward(self, x, *, training=False):
        y = np.tanh(x @ self.params["kernel"])
        self.saved[:] = [x, y]
        return y

    def backward(self, grad_y):
        x, y = self.saved
        grad_z = grad_y * (1.0 - y * y)
        self.grads["kernel"][...] = x.T @ grad_z
        return grad_z @ self.params["kernel"].T


def test_a_shared_layer_that_keeps_its_cache_in_a_dict_has_exact_gradients(float64):
    a, b = Input((4,)), Input((4,))
    shared = DictCacheAffine(3)
    out = layers.Dense(1)(layers.Concatenate()([shared(a), shared(b)]))
    model = Model([a, b], out)
    model.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    check_gradients(model, [rng.standard_normal((5, 4)), rng.standard_normal((5, 4))],
                    rng.standard_normal((5, 1)))  # fmt: skip


def test_a_shared_layer_that_keeps_its_cache_in_a_list_has_exact_gradients(float64):
    x = Input((4,))
    shared = ListCacheTanh()
    h1 = shared(x)
    h2 = shared(layers.Dense(4, activation="tanh")(h1))
    model = Model(x, layers.Dense(1)(layers.Add()([h1, h2])))
    model.compile("sgd", "mse")
    rng = np.random.default_rng(1)
    check_gradients(model, rng.standard_normal((5, 4)), rng.standard_normal((5, 1)))


# -- a layer's own backward is always the one used -------------------------------------------------


class HalfGradientDense(layers.Dense):
    """A Dense whose backward halves the upstream gradient (a user's gradient-scaling layer)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.backward_calls = 0

    def backward(self, grad_y):
        self.backward_calls += 1
        return super().backward(0.5 * grad_y)


@pytest.mark.parametrize(
    ("activation", "loss", "targets"),
    [
        ("softmax", "categorical_crossentropy", np.eye(3)[[0, 1, 2, 1, 0, 2]]),
        ("softmax", "sparse_categorical_crossentropy", np.array([0, 1, 2, 1, 0, 2])),
        ("sigmoid", "binary_crossentropy", np.array([[0, 1, 1], [1, 0, 0]] * 3)),
    ],
)
def test_an_output_layer_that_overrides_backward_is_not_bypassed_by_the_fused_gradient(
    activation, loss, targets, float64
):
    x = np.random.default_rng(0).standard_normal((6, 4))

    def kernel_gradient(layer_class):
        neuralnet.utils.set_random_seed(0)
        model = Sequential([Input((4,)), layer_class(3, activation=activation)])
        model.compile("sgd", loss)
        model.compute_gradients([x], [targets])
        return model.layers[-1]

    plain = kernel_gradient(layers.Dense)
    halved = kernel_gradient(HalfGradientDense)
    assert halved.backward_calls == 1
    np.testing.assert_allclose(halved.grads["kernel"], 0.5 * plain.grads["kernel"], rtol=1e-12)
    np.testing.assert_allclose(halved.grads["bias"], 0.5 * plain.grads["bias"], rtol=1e-12)


# -- every cached plan follows the graph -----------------------------------------------------------


def test_train_on_batch_after_sequential_add_trains_the_new_layer():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 4)).astype("float32")
    model = Sequential([Input((4,)), layers.Dense(3)])
    model.compile("sgd", "mse")
    model.train_on_batch(x, rng.standard_normal((8, 3)))
    model.add(layers.Dense(2))
    before = model.get_weights()
    model.train_on_batch(x, rng.standard_normal((8, 2)))
    assert all(_changed(before, model.get_weights()))


def test_train_on_batch_after_sequential_pop_trains_the_remaining_layers():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 4)).astype("float32")
    model = Sequential([Input((4,)), layers.Dense(3), layers.Dense(2)])
    model.compile("sgd", "mse")
    model.train_on_batch(x, rng.standard_normal((8, 2)))
    model.pop()
    before = model.get_weights()
    loss = model.train_on_batch(x, rng.standard_normal((8, 3)))
    assert np.isfinite(loss) and all(_changed(before, model.get_weights()))


def test_test_on_batch_after_add_resolves_accuracy_for_the_new_output():
    x = np.random.default_rng(0).standard_normal((6, 4)).astype("float32")
    model = Sequential([Input((4,)), layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "crossentropy", metrics=["accuracy"])
    model.test_on_batch(x, np.array([0, 1, 1, 0, 1, 0]))
    model.pop()
    model.add(layers.Dense(3, activation="softmax"))
    labels = np.array([0, 1, 2, 2, 1, 0])
    result = model.test_on_batch(x, labels, return_dict=True)
    expected = np.mean(np.argmax(model.predict_on_batch(x), axis=1) == labels)
    assert result["accuracy"] == pytest.approx(expected)


def test_predict_on_batch_after_add_uses_the_new_graph():
    x = np.ones((2, 4), dtype="float32")
    model = Sequential([Input((4,)), layers.Dense(3)])
    model.predict_on_batch(x)
    model.add(layers.Dense(5))
    assert model.predict_on_batch(x).shape == (2, 5)


# -- Keras 2 hook names ----------------------------------------------------------------------------


class Keras2Hooks(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.begins = self.ends = 0

    def on_batch_begin(self, batch, logs=None):
        self.begins += 1

    def on_batch_end(self, batch, logs=None):
        self.ends += 1


@pytest.mark.parametrize("verbose", [0, 2])
def test_keras_2_batch_hooks_fire_on_every_training_batch(verbose):
    model = Sequential([Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    counted = Keras2Hooks()
    seen = []
    lambda_hooks = callbacks.LambdaCallback(
        on_batch_begin=lambda batch, logs: seen.append(("begin", batch)),
        on_batch_end=lambda batch, logs: seen.append(("end", batch)),
    )
    x, y = np.ones((30, 2)), np.ones((30, 1))
    model.fit(x, y, batch_size=10, epochs=2, verbose=verbose, validation_data=(x, y),
              callbacks=[counted, lambda_hooks])  # fmt: skip
    assert counted.begins == counted.ends == 6
    assert seen == [
        (hook, batch) for _ in range(2) for batch in range(3) for hook in ("begin", "end")
    ]


# -- per-call facts: `training=` given at a call is kept by that node -----------------------------


def test_a_nested_model_called_with_training_false_stays_in_inference_during_fit():
    base = Sequential([Input((4,)), layers.Dropout(0.5)])
    inp = Input((4,))
    model = Model(inp, layers.Dense(1, kernel_initializer="ones", use_bias=False)(
        base(inp, training=False)))  # fmt: skip
    model.compile(neuralnet.optimizers.SGD(learning_rate=0.0), "mse")
    x = np.random.default_rng(0).random((16, 4)).astype("float32")
    y = np.zeros((16, 1), dtype="float32")
    train_loss = model.train_on_batch(x, y)
    assert train_loss == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-6)


class AliasedHooks(callbacks.Callback):
    """Keras 2 code that names one method twice: Keras 3 calls it once per batch."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def on_train_batch_end(self, batch, logs=None):
        self.calls += 1

    on_batch_end = on_train_batch_end


def test_a_hook_under_both_names_is_called_once_per_batch():
    model = Sequential([Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    hooks = AliasedHooks()
    model.fit(np.ones((40, 2)), np.ones((40, 1)), batch_size=10, verbose=0, callbacks=[hooks])
    assert hooks.calls == 4


class OrderedCache(Layer):
    """Keeps its input in an OrderedDict and a defaultdict made in __init__."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.ordered = collections.OrderedDict()
        self.by_default = collections.defaultdict(list)

    def build(self, input_shape):
        self.add_weight("kernel", (input_shape[-1], input_shape[-1]), "glorot_uniform")
        self.built = True

    def forward(self, x, *, training=False):
        self.ordered["x"] = x
        self.by_default["y"].append(np.tanh(x @ self.params["kernel"]))
        return self.by_default["y"][-1]

    def backward(self, grad_y):
        x, y = self.ordered["x"], self.by_default["y"][-1]
        grad_z = grad_y * (1.0 - y * y)
        self.grads["kernel"][...] = x.T @ grad_z
        return grad_z @ self.params["kernel"].T


def test_a_shared_layer_caching_in_dict_subclasses_has_exact_gradients(float64):
    x = Input((3,))
    shared = OrderedCache()
    model = Model(x, layers.Dense(1)(shared(layers.Dense(3)(shared(x)))))
    model.compile("sgd", "mse")
    rng = np.random.default_rng(2)
    check_gradients(model, rng.standard_normal((4, 3)), rng.standard_normal((4, 1)))


def test_an_output_activation_replaced_after_the_model_is_built_is_not_fused(float64):
    class Doubled(neuralnet.activations.Softmax):
        def backward(self, grad_y, x, y):
            return 2.0 * super().backward(grad_y, x, y)

    model = Sequential([Input((3,)), layers.Dense(3, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    x, y = np.random.default_rng(0).standard_normal((4, 3)), np.eye(3)[[0, 1, 2, 0]]
    model.compute_gradients([x], [y])
    fused = model.layers[0].grads["kernel"].copy()
    model.layers[0].activation = Doubled()
    model.compute_gradients([x], [y])
    np.testing.assert_allclose(model.layers[0].grads["kernel"], 2.0 * fused, rtol=1e-7)


def test_a_regularizer_set_after_the_first_step_counts_in_loss_and_gradient():
    model = Sequential([Input((2,)), layers.Dense(1, kernel_initializer="ones", use_bias=False)])
    model.compile(neuralnet.optimizers.SGD(0.0), "mse")
    x, y = np.zeros((4, 2), dtype="float32"), np.zeros((4, 1), dtype="float32")
    assert model.train_on_batch(x, y) == 0.0
    dense = model.layers[0]
    dense.regularizers["kernel"] = neuralnet.regularizers.L2(0.5)
    assert model.train_on_batch(x, y) == pytest.approx(1.0)  # 0.5 · (1² + 1²)
    np.testing.assert_allclose(dense.grads["kernel"], 1.0)  # 2 · 0.5 · w
    dense.activity_regularizer = neuralnet.regularizers.L1(1.0)
    assert model.evaluate(np.ones((4, 2)), y, verbose=0) == pytest.approx(4.0 + 1.0 + 2.0)


def test_one_optimizer_shared_by_two_models_keeps_each_ones_state():
    # A GAN set-up: the discriminator is trained alone and inside the combined model.
    d_in = Input((2,))
    discriminator = Model(d_in, layers.Dense(1, activation="sigmoid")(d_in))
    z = Input((2,))
    combined = Model(z, discriminator(layers.Dense(2)(z)))
    optimizer = neuralnet.optimizers.Adam(0.01)
    discriminator.compile(optimizer, "binary_crossentropy")
    combined.compile(optimizer, "binary_crossentropy")
    x, ones = np.ones((4, 2), dtype="float32"), np.ones((4, 1), dtype="float32")
    discriminator.train_on_batch(x, ones)
    kernel = discriminator.layers[-1].params["kernel"]
    moment = optimizer._slots_of(kernel)["momentum"].copy()
    combined.train_on_batch(x, ones)
    discriminator.train_on_batch(x, ones)
    assert np.all(optimizer._slots_of(kernel)["momentum"] != 0.0)
    assert not np.array_equal(moment, optimizer._slots_of(kernel)["momentum"])


def test_weights_as_variables_work_with_the_optimizer():
    model = Sequential([Input((2,)), layers.Dense(2, kernel_initializer="ones",
                                                  bias_initializer="ones")])  # fmt: skip
    assert model.weights[0] is model.weights[0]
    optimizer = neuralnet.optimizers.SGD(0.1, weight_decay=0.5)
    optimizer.exclude_from_weight_decay(var_list=[model.weights[1]])
    zeros = [np.zeros((2, 2), "float32"), np.zeros(2, "float32")]
    for _ in range(2):  # a hand-written loop, Keras style
        optimizer.apply_gradients(zip(zeros, model.trainable_weights))
    np.testing.assert_allclose(model.layers[0].params["kernel"], 0.95**2)
    np.testing.assert_array_equal(model.layers[0].params["bias"], 1.0)
