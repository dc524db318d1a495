"""A model saved by neuralnet loads in Keras 3 and predicts the same, to 1e-6.

Every model here is built and (when compiled) trained in neuralnet, saved to a `.keras` file (or its
weights to a `.weights.h5` file), and loaded by real Keras 3 in one subprocess
(`KERAS_BACKEND=numpy`; Keras's numpy backend imports jax, which the dev extra installs). Keras writes
back its predictions and, for compiled models, its optimizer's variables, which must be neuralnet's
state (iterations, learning rate and every slot, matched by Keras's variable paths).

The Keras subprocess runs once for the whole module (a module-scoped fixture); each case is then
checked by its own test.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import neuralnet
from neuralnet import (
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    schedules,
)

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("keras") is None or importlib.util.find_spec("jax") is None,
    reason="needs keras and jax (the dev extra) to load the files in Keras",
)

TOLERANCE = {"rtol": 1e-6, "atol": 1e-6}

# Dense activations neuralnet and Keras 3 both have.
ACTIVATIONS = [
    "relu", "sigmoid", "tanh", "softmax", "linear", "elu", "selu", "gelu", "softplus", "softsign",
    "silu", "leaky_relu", "relu6", "hard_sigmoid", "exponential", "log_softmax",
]  # fmt: skip


def _normal(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    return (scale * rng.standard_normal(shape)).astype("float32")


def _one_hot(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return np.eye(k, dtype="float32")[rng.integers(0, k, n)]


def _perturb(model: models.Model, rng: np.random.Generator) -> None:
    """Move every weight off its initial value (zero biases, PReLU's zero alpha, BatchNormalization's
    0/1 statistics), so that each number in the file matters."""
    for weight in model.weights:
        leaf = weight.path.split("/")[-1]
        if leaf == "moving_variance":
            new = rng.uniform(0.5, 2.0, weight.shape)
        elif leaf == "gamma":
            new = rng.uniform(0.5, 1.5, weight.shape)
        else:
            new = np.asarray(weight) + 0.3 * rng.standard_normal(weight.shape)
        weight.assign(new.astype(weight.dtype))


def model_input(xs):
    """What `predict` takes: a dict as it is, one array alone, several as a list."""
    if isinstance(xs, dict):
        return xs
    return xs if len(xs) > 1 else xs[0]


def output_list(outputs) -> list[np.ndarray]:
    """`predict`'s result as a list: a dict by sorted name, one array as a list of one."""
    if isinstance(outputs, dict):
        return [np.asarray(outputs[key]) for key in sorted(outputs)]
    if isinstance(outputs, (list, tuple)):
        return [np.asarray(value) for value in outputs]
    return [np.asarray(outputs)]


def _fit(model: models.Model, xs: list, ys: list, epochs: int = 2) -> None:
    model.fit(xs if len(xs) > 1 else xs[0], ys if len(ys) > 1 else ys[0], epochs=epochs,
              batch_size=8, shuffle=False, verbose=0)  # fmt: skip


# -- the models (each returns the model and the inputs to predict on) -----------------------------


def dense_activations(rng):
    inp = layers.Input((5,), name="features")
    outputs = [layers.Dense(4, activation=a, name=f"dense_{a}")(inp) for a in ACTIVATIONS]
    model = models.Model(inp, outputs, name="dense_activations")
    _perturb(model, rng)
    return model, [_normal(rng, 7, 5, scale=1.5)]


def activation_layers(rng):
    inp = layers.Input((6,), name="features")
    h = layers.Dense(6, name="hidden")(inp)
    h3 = layers.Reshape((2, 3), name="to_3d")(h)
    outputs = [
        layers.Activation("relu", name="act_relu")(h),
        layers.Activation("tanh", name="act_tanh")(h),
        layers.Activation("softmax", name="act_softmax")(h),
        layers.Activation("gelu", name="act_gelu")(h),
        layers.Activation("selu", name="act_selu")(h),
        layers.Activation("sigmoid", name="act_sigmoid")(h),
        layers.ReLU(name="relu_default")(h),
        layers.ReLU(max_value=0.8, name="relu_max")(h),
        layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.2, name="relu_all")(h),
        layers.ReLU(negative_slope=0.05, threshold=0.5, name="relu_slope_threshold")(h),
        layers.LeakyReLU(name="leaky_default")(h),
        layers.LeakyReLU(negative_slope=0.05, name="leaky_005")(h),
        layers.PReLU(name="prelu")(h),
        layers.PReLU(alpha_initializer=initializers.Constant(0.25), name="prelu_const")(h),
        layers.PReLU(shared_axes=[1], name="prelu_shared")(h3),
        layers.ELU(name="elu_default")(h),
        layers.ELU(alpha=0.5, name="elu_05")(h),
        layers.Softmax(name="softmax_last")(h),
        layers.Softmax(axis=1, name="softmax_axis1")(h3),
    ]
    model = models.Model(inp, outputs, name="activation_layers")
    _perturb(model, rng)
    return model, [_normal(rng, 7, 6, scale=1.5)]


def initializers_regularizers(rng):
    model = models.Sequential(
        [
            layers.Input((5,)),
            layers.Dense(6, activation="relu", kernel_initializer="he_normal",
                         bias_initializer=initializers.Constant(0.1),
                         kernel_regularizer=regularizers.L2(0.01)),
            layers.Dense(5, activation="tanh",
                         kernel_initializer=initializers.RandomNormal(mean=0.0, stddev=0.3, seed=3),
                         bias_initializer="ones", kernel_regularizer=regularizers.L1(0.001),
                         bias_regularizer=regularizers.L1L2(l1=0.001, l2=0.002)),
            layers.Dense(5, kernel_initializer=initializers.Identity(),
                         bias_initializer=initializers.RandomUniform(-0.1, 0.1, seed=4),
                         activity_regularizer=regularizers.L2(1e-3)),
            layers.Dense(4, activation="sigmoid", kernel_initializer=initializers.Orthogonal(seed=5),
                         use_bias=False, kernel_regularizer="l2"),
            layers.Dense(4, kernel_initializer=initializers.VarianceScaling(
                             scale=2.0, mode="fan_out", distribution="uniform", seed=6),
                         bias_initializer="zeros",
                         kernel_regularizer=regularizers.L1L2(l1=1e-4, l2=1e-3)),
            layers.Dense(4, activation="elu",
                         kernel_initializer=initializers.TruncatedNormal(stddev=0.4, seed=7),
                         bias_initializer=initializers.Zeros()),
            layers.Dense(3, kernel_initializer=initializers.LecunUniform(seed=8),
                         bias_initializer=initializers.Ones(), bias_regularizer="l1"),
            layers.Dense(3, kernel_initializer=initializers.LecunNormal(seed=11),
                         bias_initializer=initializers.HeNormal(seed=12)),
            layers.Dense(3, activation="softmax",
                         kernel_initializer=initializers.GlorotNormal(seed=9),
                         bias_initializer=initializers.HeUniform(seed=10)),
        ],
        name="initializers_regularizers",
    )  # fmt: skip
    return model, [_normal(rng, 7, 5)]


def batchnorm_trained(rng):
    """BatchNormalization variants trained in neuralnet (moving statistics far from 0 and 1), saved
    compiled with plain SGD (only `iterations` and the learning rate as optimizer variables)."""
    model = models.Sequential(
        [
            layers.Input((5,)),
            layers.Dense(6, name="dense_a"),
            layers.BatchNormalization(name="bn_default"),
            layers.Activation("relu"),
            layers.Dense(5, name="dense_b"),
            layers.BatchNormalization(center=False, name="bn_no_center"),
            layers.Dense(5, name="dense_c"),
            layers.BatchNormalization(scale=False, name="bn_no_scale"),
            layers.Dense(4, name="dense_d"),
            layers.BatchNormalization(center=False, scale=False, name="bn_neither"),
            layers.Dense(4, name="dense_e"),
            layers.BatchNormalization(momentum=0.5, epsilon=0.01, name="bn_momentum"),
            layers.Dense(3, name="out"),
        ],
        name="batchnorm_trained",
    )
    model.compile(optimizer=optimizers.SGD(0.05), loss="mse")
    _fit(model, [_normal(rng, 64, 5, scale=2.0) + 1.0], [_normal(rng, 64, 3)], epochs=5)
    norms = [layer for layer in model.layers if isinstance(layer, layers.BatchNormalization)]
    assert all(not np.allclose(n.state["moving_variance"], 1.0) for n in norms)
    assert not np.allclose(norms[0].state["moving_mean"], 0.0)
    return model, [_normal(rng, 7, 5, scale=2.0) + 1.0]


def reshape_and_noise(rng):
    model = models.Sequential(
        [
            layers.InputLayer(shape=(2, 3), name="grid"),
            layers.Flatten(),
            layers.Dense(6, activation="relu"),
            layers.Dropout(0.3, seed=1),
            layers.GaussianNoise(0.2, seed=2),
            layers.GaussianDropout(0.2, seed=3),
            layers.Reshape((3, 2)),
            layers.Dense(4, activation="tanh"),
            layers.Reshape((-1, 2)),
            layers.Dropout(0.5, noise_shape=(None, 1, 2), seed=4),
            layers.Flatten(),
            layers.Dense(3),
        ],
        name="reshape_and_noise",
    )
    _perturb(model, rng)
    return model, [_normal(rng, 7, 2, 3)]


def merging(rng):
    x0 = layers.Input((4,), name="left")
    x1 = layers.Input((5,), name="right")
    a = layers.Dense(4, name="a")(x0)
    b = layers.Dense(4, name="b")(x1)
    c = layers.Dense(4, activation="tanh", name="c")(x1)
    a3 = layers.Reshape((2, 2), name="a3")(a)
    b3 = layers.Reshape((2, 2), name="b3")(b)
    outputs = [
        layers.Add(name="add")([a, b]),
        layers.Add(name="add3")([a, b, c]),
        layers.Subtract(name="subtract")([a, b]),
        layers.Multiply(name="multiply")([a, b, c]),
        layers.Average(name="average")([a, b, c]),
        layers.Maximum(name="maximum")([a, b, c]),
        layers.Minimum(name="minimum")([a, b]),
        layers.Concatenate(name="concat")([a, b, x0]),
        layers.Concatenate(axis=1, name="concat_axis1")([a3, b3]),
        layers.Dot(axes=1, name="dot")([a, b]),
        layers.Dot(axes=1, normalize=True, name="dot_normalized")([a, c]),
        layers.Dot(axes=(2, 2), name="dot_3d")([a3, b3]),
    ]
    model = models.Model([x0, x1], outputs, name="merging")
    _perturb(model, rng)
    return model, [_normal(rng, 7, 4), _normal(rng, 7, 5)]


def two_in_two_out_adam(rng):
    """Two inputs, two outputs, a Dense shared by two calls, a `training=False` call; Adam."""
    numbers = layers.Input((4,), name="numbers")
    extras = layers.Input((4,), name="extras")
    shared = layers.Dense(5, activation="tanh", name="shared")
    h = layers.Concatenate(name="joined")([shared(numbers), shared(extras)])
    h = layers.BatchNormalization(name="frozen_bn")(h, training=False)
    h = layers.Dropout(0.4, name="no_dropout")(h, training=False)
    regression = layers.Dense(2, name="regression")(h)
    flag = layers.Dense(1, activation="sigmoid", name="flag")(layers.Add(name="sum")([h, h]))
    model = models.Model([numbers, extras], [regression, flag], name="two_in_two_out")
    model.compile(optimizer=optimizers.Adam(learning_rate=0.005),
                  loss=["mse", "binary_crossentropy"], loss_weights=[1.0, 0.5],
                  metrics=[["mae"], ["accuracy"]])  # fmt: skip
    xs = [_normal(rng, 24, 4), _normal(rng, 24, 4)]
    ys = [_normal(rng, 24, 2), rng.integers(0, 2, (24, 1)).astype("float32")]
    _fit(model, xs, ys)
    return model, [_normal(rng, 7, 4), _normal(rng, 7, 4)]


def sequential_in_functional_rmsprop(rng):
    inner = models.Sequential(
        [layers.Input((4,)), layers.Dense(5, activation="relu"), layers.Dense(3, name="inner_out")],
        name="inner_sequential",
    )
    inp = layers.Input((6,), name="features")
    h = layers.Dense(4, activation="tanh", name="before")(inp)
    out = layers.Dense(2, activation="softmax", name="after")(inner(h))
    model = models.Model(inp, out, name="outer_functional")
    model.compile(optimizer=optimizers.RMSprop(learning_rate=0.005), loss="categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    _fit(model, [_normal(rng, 24, 6)], [_one_hot(rng, 24, 2)])
    return model, [_normal(rng, 7, 6)]


def functional_in_sequential_nesterov(rng):
    inp = layers.Input((5,), name="inner_in")
    left = layers.Dense(4, activation="relu", name="left")(inp)
    right = layers.Dense(4, activation="tanh", name="right")(inp)
    inner = models.Model(inp, layers.Add(name="inner_add")([left, right]), name="inner_functional")
    model = models.Sequential(
        [layers.Input((5,)), inner, layers.BatchNormalization(name="bn"),
         layers.Dense(3, activation="softmax", name="head")],
        name="functional_in_sequential",
    )  # fmt: skip
    model.compile(optimizer=optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
                  loss="categorical_crossentropy", metrics=["accuracy"])  # fmt: skip
    _fit(model, [_normal(rng, 24, 5)], [_one_hot(rng, 24, 3)])
    return model, [_normal(rng, 7, 5)]


def dict_io_frozen_loss_objects(rng):
    """Inputs and outputs by name, a frozen layer (no optimizer slots), loss and metric objects,
    weighted metrics; Adam."""
    a = layers.Input((3,), name="a")
    b = layers.Input((2,), name="b")
    h = layers.Dense(5, activation="relu", name="frozen", trainable=False)(
        layers.Concatenate(name="ab")([a, b])
    )
    model = models.Model(
        {"a": a, "b": b},
        {"scores": layers.Dense(3, activation="softmax", name="scores")(h),
         "value": layers.Dense(1, name="value")(h)},
        name="dict_io",
    )  # fmt: skip
    model.compile(
        optimizer=optimizers.Adam(learning_rate=0.01, beta_2=0.99),
        loss={"scores": losses.CategoricalCrossentropy(label_smoothing=0.1),
              "value": losses.Huber(delta=0.5)},
        metrics={"scores": [metrics.CategoricalAccuracy()], "value": ["mae"]},
        weighted_metrics={"value": ["mse"]},
    )  # fmt: skip
    x = {"a": _normal(rng, 24, 3), "b": _normal(rng, 24, 2)}
    y = {"scores": _one_hot(rng, 24, 3), "value": _normal(rng, 24, 1)}
    model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    return model, {"a": _normal(rng, 7, 3), "b": _normal(rng, 7, 2)}


def deep_nesting(rng):
    """A functional model in a Sequential in a Sequential, called twice by the outer functional
    model (shared), with a Sequential in a Sequential beside it; RMSprop."""
    i = layers.Input((3,), name="deep_in")
    deepest = models.Model(i, layers.Dense(3, activation="tanh", name="deepest_dense")(i),
                           name="deepest")  # fmt: skip
    middle = models.Sequential(
        [layers.Input((3,)), models.Sequential([deepest, layers.Dense(3, name="mid_dense")],
                                               name="mid_inner")],
        name="middle",
    )  # fmt: skip
    left, right = layers.Input((3,), name="left"), layers.Input((3,), name="right")
    both = layers.Add(name="both")([middle(left), middle(right)])
    out = layers.Dense(2, name="out")(both)
    model = models.Model([left, right], out, name="deep_nesting")
    model.compile(optimizer=optimizers.RMSprop(0.01, momentum=0.3), loss="mse")
    _fit(model, [_normal(rng, 24, 3), _normal(rng, 24, 3)], [_normal(rng, 24, 2)])
    return model, [_normal(rng, 7, 3), _normal(rng, 7, 3)]


def float64_model(rng):
    """A model built with floatx float64 (its weights float64 in the file), one float32 layer."""
    previous = neuralnet.backend.floatx()
    neuralnet.backend.set_floatx("float64")
    try:
        model = models.Sequential(
            [layers.Input((4,)), layers.Dense(5, activation="gelu"), layers.BatchNormalization(),
             layers.Dense(2, dtype="float32")],
            name="float64_model",
        )  # fmt: skip
        _perturb(model, rng)
        return model, [rng.standard_normal((7, 4))]
    finally:
        neuralnet.backend.set_floatx(previous)


def _small_compiled(make_optimizer):
    def build(rng):
        optimizer = make_optimizer()
        model = models.Sequential(
            [layers.Input((4,)), layers.Dense(5, activation="tanh"), layers.PReLU(),
             layers.BatchNormalization(), layers.Dense(2)],
            name=f"small_{type(optimizer).__name__.lower()}",
        )  # fmt: skip
        model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
        _fit(model, [_normal(rng, 24, 4)], [_normal(rng, 24, 2)])
        return model, [_normal(rng, 7, 4)]

    return build


# name -> builder; compiled models are trained (2 epochs of 3 batches) before saving.
def convolutions_2d(rng):
    inputs = layers.Input((12, 11, 3), name="image")
    h = layers.Rescaling([0.5, 1.0, 2.0], offset=-0.25)(inputs)
    h = layers.Conv2D(6, 3, padding="same", activation="relu", groups=3)(h)
    h = layers.MaxPooling2D(2, padding="same")(h)
    h = layers.BatchNormalization()(h)
    h = layers.DepthwiseConv2D(3, depth_multiplier=2, strides=2, dilation_rate=1)(h)
    h = layers.SeparableConv2D(4, 2, padding="same", data_format="channels_first")(h)
    h = layers.Conv2DTranspose(5, 3, strides=2, padding="same", output_padding=1)(h)
    h = layers.ZeroPadding2D(((1, 0), (0, 2)))(h)
    h = layers.Cropping2D(((0, 1), (1, 0)))(h)
    h = layers.UpSampling2D(2, interpolation="bilinear")(h)
    h = layers.SpatialDropout2D(0.3, seed=1)(h)
    h = layers.AveragePooling2D(3, strides=2, padding="same")(h)
    a = layers.GlobalAveragePooling2D()(h)
    b = layers.GlobalMaxPooling2D(keepdims=True)(h)
    out = layers.Dense(2)(layers.Concatenate()([a, layers.Flatten()(b)]))
    model = models.Model(inputs, out, name="convolutions_2d")
    _perturb(model, rng)
    return model, [_normal(rng, 3, 12, 11, 3)]


def convolutions_1d(rng):
    model = models.Sequential(
        [
            layers.Input((16, 2), name="series"),
            layers.Normalization(name="scaling"),
            layers.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="tanh"),
            layers.MaxPooling1D(2),
            layers.SeparableConv1D(3, 2, depth_multiplier=2, padding="same"),
            layers.DepthwiseConv1D(2, data_format="channels_first"),
            layers.Conv1DTranspose(3, 3, strides=2),
            layers.ZeroPadding1D((2, 1)),
            layers.Cropping1D((1, 2)),
            layers.UpSampling1D(2),
            layers.SpatialDropout1D(0.2, seed=3),
            layers.AveragePooling1D(3, padding="same"),
            layers.GlobalMaxPooling1D(),
            layers.Reshape((3, 1)),
            layers.GlobalAveragePooling1D(),
            layers.Dense(2),
        ],
        name="convolutions_1d",
    )
    model.get_layer("scaling").adapt(_normal(rng, 32, 16, 2, scale=3.0) + 1.0)
    model.compile(optimizer=optimizers.RMSprop(learning_rate=0.01), loss="mse")
    _fit(model, [_normal(rng, 16, 16, 2)], [_normal(rng, 16, 2)])
    return model, [_normal(rng, 4, 16, 2)]


MODEL_CASES = {
    "convolutions_2d": convolutions_2d,
    "convolutions_1d": convolutions_1d,
    "dense_activations": dense_activations,
    "activation_layers": activation_layers,
    "initializers_regularizers": initializers_regularizers,
    "batchnorm_trained": batchnorm_trained,
    "reshape_and_noise": reshape_and_noise,
    "merging": merging,
    "two_in_two_out_adam": two_in_two_out_adam,
    "sequential_in_functional_rmsprop": sequential_in_functional_rmsprop,
    "functional_in_sequential_nesterov": functional_in_sequential_nesterov,
    "dict_io_frozen_loss_objects": dict_io_frozen_loss_objects,
    "deep_nesting": deep_nesting,
    "float64_model": float64_model,
}
OPTIMIZER_CASES = {
    "adam_amsgrad": lambda: optimizers.Adam(learning_rate=0.01, beta_1=0.8, amsgrad=True),
    "sgd_momentum": lambda: optimizers.SGD(learning_rate=0.05, momentum=0.9),
    "rmsprop_centered_momentum": lambda: optimizers.RMSprop(
        learning_rate=0.01, rho=0.8, momentum=0.5, centered=True
    ),
    "adamw": lambda: optimizers.AdamW(learning_rate=0.01, weight_decay=0.01),
    "adamax": lambda: optimizers.Adamax(learning_rate=0.01),
    "adagrad": lambda: optimizers.Adagrad(learning_rate=0.05),
    "adadelta": lambda: optimizers.Adadelta(learning_rate=0.5),
    "nadam": lambda: optimizers.Nadam(learning_rate=0.01),
    "lion": lambda: optimizers.Lion(learning_rate=0.001),
    "adam_schedule": lambda: optimizers.Adam(
        learning_rate=schedules.ExponentialDecay(0.01, decay_steps=2, decay_rate=0.9)
    ),
}
for _name, _make in OPTIMIZER_CASES.items():
    MODEL_CASES[f"optimizer_{_name}"] = _small_compiled(_make)


# `.weights.h5` cases: the neuralnet model, and the same architecture written in Keras (in the
# subprocess, by the name of the entry), optionally compiled with a Keras optimizer.
def weights_sequential(rng):
    model = models.Sequential(
        [layers.Input((5,)), layers.Dense(6, activation="relu"), layers.BatchNormalization(),
         layers.PReLU(), layers.Dense(3)],
        name="weights_sequential",
    )  # fmt: skip
    _perturb(model, rng)
    return model, [_normal(rng, 7, 5)]


def weights_functional(rng):
    a = layers.Input((4,), name="a")
    b = layers.Input((3,), name="b")
    h = layers.Concatenate()([layers.Dense(5, activation="tanh")(a), layers.Dense(5)(b)])
    inner = models.Sequential([layers.Input((10,)), layers.Dense(4), layers.BatchNormalization()],
                              name="inner")  # fmt: skip
    out = layers.Dense(2)(inner(h))
    model = models.Model([a, b], [out, layers.Dense(1)(h)], name="weights_functional")
    _perturb(model, rng)
    return model, [_normal(rng, 7, 4), _normal(rng, 7, 3)]


def weights_adam(rng):
    model = models.Sequential(
        [layers.Input((4,)), layers.Dense(5, activation="relu"), layers.BatchNormalization(),
         layers.Dense(2)],
        name="weights_adam",
    )  # fmt: skip
    model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="mse")
    _fit(model, [_normal(rng, 24, 4)], [_normal(rng, 24, 2)])
    return model, [_normal(rng, 7, 4)]


WEIGHTS_CASES = {
    "weights_sequential": weights_sequential,
    "weights_functional": weights_functional,
    "weights_adam": weights_adam,
}

# Functional models with layers called with `training=False`.
TRAINING_CALL = ("two_in_two_out_adam",)

KERAS_SCRIPT = textwrap.dedent(
    """
    import json
    import sys
    import traceback
    import warnings

    import numpy as np
    import keras
    from keras import layers


    def weights_sequential():
        return keras.Sequential([keras.Input((5,)), layers.Dense(6, activation="relu"),
                                 layers.BatchNormalization(), layers.PReLU(), layers.Dense(3)])


    def weights_functional():
        a = keras.Input((4,))
        b = keras.Input((3,))
        h = layers.Concatenate()([layers.Dense(5, activation="tanh")(a), layers.Dense(5)(b)])
        inner = keras.Sequential([keras.Input((10,)), layers.Dense(4), layers.BatchNormalization()])
        out = layers.Dense(2)(inner(h))
        return keras.Model([a, b], [out, layers.Dense(1)(h)])


    def weights_adam():
        model = keras.Sequential([keras.Input((4,)), layers.Dense(5, activation="relu"),
                                  layers.BatchNormalization(), layers.Dense(2)])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
        model.optimizer.build(model.trainable_variables)
        return model


    def run(case):
        arrays, info = {}, {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if case["kind"] == "model":
                model = keras.models.load_model(case["file"])
            else:
                model = globals()[case["name"]]()
                model.load_weights(case["file"])
        info["warnings"] = [str(w.message) for w in caught]
        xs = [np.load(path) for path in case["inputs"]]
        if case["input_keys"] is not None:
            xs = dict(zip(case["input_keys"], xs))
        elif len(xs) == 1:
            xs = xs[0]
        predictions = model.predict(xs, verbose=0)
        if isinstance(predictions, dict):
            predictions = [predictions[key] for key in sorted(predictions)]
        elif not isinstance(predictions, (list, tuple)):
            predictions = [predictions]
        for i, value in enumerate(predictions):
            arrays[f"y{i}"] = np.asarray(value)
        if case["training_call"]:  # the calls' keyword arguments, as Keras's config has them
            info["call_kwargs"] = {
                layer["name"]: [node.get("kwargs", {}) for node in layer["inbound_nodes"]]
                for layer in model.get_config()["layers"]
            }
        for i, value in enumerate(model.get_weights()):
            arrays[f"w{i}"] = np.asarray(value)
        if case["compiled"]:
            optimizer = model.optimizer
            info["optimizer"] = type(optimizer).__name__
            info["optimizer_config"] = json.loads(
                json.dumps(optimizer.get_config(), default=repr)
            )
            info["iterations"] = int(np.asarray(optimizer.iterations))
            info["optimizer_paths"] = [v.path for v in optimizer.variables]
            info["trainable_paths"] = [v.path for v in model.trainable_variables]
            for i, v in enumerate(optimizer.variables):
                arrays[f"opt{i}"] = np.asarray(v.numpy())
            info["loss"] = json.loads(json.dumps(
                model.loss, default=lambda o: [type(o).__name__, o.get_config()]
            ))
        return arrays, info


    for case in json.load(open(sys.argv[1])):
        try:
            arrays, info = run(case)
        except Exception:
            arrays, info = {}, {"error": traceback.format_exc()}
        np.savez(case["out"] + ".npz", **arrays)
        with open(case["out"] + ".json", "w") as handle:
            json.dump(info, handle)
    """
)


def _keras_paths(model: models.Model, renamed: dict[str, str]) -> dict[str, np.ndarray]:
    """neuralnet's optimizer state under the paths Keras gives its optimizer's variables:
    `<optimizer>/iteration`, `<optimizer>/learning_rate`, `<optimizer>/<layer>_<weight>_<slot>`
    (`renamed`: Keras's `<layer>_<weight>` for ours, where the Keras model's layer names differ),
    and `variable` for Nadam's `u_product` (Keras creates it without a name)."""
    optimizer = model.optimizer
    prefix = optimizer.name
    expected = {f"{prefix}/iteration": np.asarray(optimizer.iterations, dtype=np.int64)}
    if optimizer.schedule is None:
        expected[f"{prefix}/learning_rate"] = np.float32(optimizer.learning_rate)
    for key, value in optimizer.variables.items():
        if key == "iterations":
            continue
        parts = key.split("/")
        if len(parts) < 3:
            assert key == "u_product", key
            expected["variable"] = value
            continue
        layer, weight, slot = parts[-3:]
        reference = renamed.get(f"{layer}_{weight}", f"{layer}_{weight}")
        expected[f"{prefix}/{reference}_{slot}"] = value
    return expected


@pytest.fixture(scope="module")
def keras_results(tmp_path_factory):
    """Save every case, load them all in one Keras subprocess, and return, per case, neuralnet's
    model and predictions with what Keras read."""
    folder = tmp_path_factory.mktemp("to_keras")
    manifest, ours = [], {}
    for kind, cases in (("model", MODEL_CASES), ("weights", WEIGHTS_CASES)):
        for name, build in cases.items():
            neuralnet.utils.clear_session()
            neuralnet.utils.set_random_seed(2024)
            rng = np.random.default_rng([7, *name.encode()])
            model, xs = build(rng)
            predictions = output_list(model.predict(model_input(xs), verbose=0))
            inputs = []
            for i, x in enumerate(xs.values() if isinstance(xs, dict) else xs):
                path = folder / f"{name}_x{i}.npy"
                np.save(path, x)
                inputs.append(str(path))
            for i, y in enumerate(predictions):
                np.save(folder / f"{name}_ours{i}.npy", y)
            file = folder / (f"{name}.keras" if kind == "model" else f"{name}.weights.h5")
            if kind == "model":
                model.save(file)
            else:
                model.save_weights(file)
            manifest.append({"name": name, "kind": kind, "file": str(file), "inputs": inputs,
                             "compiled": bool(model.compiled), "out": str(folder / name),
                             "training_call": name in TRAINING_CALL,
                             "input_keys": list(xs) if isinstance(xs, dict) else None})  # fmt: skip
            ours[name] = (model, predictions, xs)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    script = folder / "load_in_keras.py"
    script.write_text(KERAS_SCRIPT)
    env = {**os.environ, "KERAS_BACKEND": "numpy", "CUDA_VISIBLE_DEVICES": "",
           "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3"}  # fmt: skip
    done = subprocess.run([sys.executable, str(script), str(folder / "manifest.json")], env=env,
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    results = {}
    for name, (model, predictions, xs) in ours.items():
        info = json.loads((folder / f"{name}.json").read_text())
        with np.load(folder / f"{name}.npz") as data:
            arrays = {key: data[key] for key in data.files}
        results[name] = (model, predictions, arrays, info, xs)
    return results


def _keras_case(keras_results, name):
    model, predictions, arrays, info, _ = keras_results[name]
    assert "error" not in info, f"Keras could not load {name}:\n{info['error']}"
    skipped = [w for w in info["warnings"] if any(
        word in w.lower() for word in ("skipping", "mismatch", "optimizer", "not loaded", "missing")
    )]  # fmt: skip
    assert not skipped, skipped
    return model, predictions, arrays, info


@pytest.mark.parametrize("name", [*MODEL_CASES, *WEIGHTS_CASES])
def test_keras_predicts_the_same(keras_results, name):
    _, predictions, arrays, _ = _keras_case(keras_results, name)
    theirs = [arrays[f"y{i}"] for i in range(sum(k.startswith("y") for k in arrays))]
    assert len(theirs) == len(predictions), "number of outputs"
    for i, (mine, keras_prediction) in enumerate(zip(predictions, theirs, strict=True)):
        assert mine.shape == keras_prediction.shape, f"output {i}"
        np.testing.assert_allclose(keras_prediction, mine, err_msg=f"output {i}", **TOLERANCE)


@pytest.mark.parametrize("name", TRAINING_CALL)
def test_keras_keeps_training_false_calls(keras_results, name):
    """The calls made with `training=False` keep it in Keras's model (in Keras 3.15 the outer mode
    wins at run time anyway: see docs/keras-differences.md; the file must still say it)."""
    _, _, _, info = _keras_case(keras_results, name)
    calls = info["call_kwargs"]
    assert calls["frozen_bn"] == [{"training": False}]
    assert calls["no_dropout"] == [{"training": False}]
    assert calls["shared"] == [{}, {}]  # one layer, two calls


@pytest.mark.parametrize("name", [*MODEL_CASES, *WEIGHTS_CASES])
def test_keras_has_the_same_weights(keras_results, name):
    model, _, arrays, _ = _keras_case(keras_results, name)
    theirs = [arrays[f"w{i}"] for i in range(sum(k.startswith("w") for k in arrays))]
    # Keras's get_weights order is its own (layer by layer, trainable first within a layer);
    # every array must be there, bit for bit.
    mine = sorted((w.numpy() for w in model.weights), key=lambda a: (a.shape, a.ravel().tolist()))
    theirs = sorted(theirs, key=lambda a: (a.shape, a.ravel().tolist()))
    assert len(theirs) == len(mine)
    for a, b in zip(mine, theirs, strict=True):
        np.testing.assert_array_equal(b, a)


COMPILED = [
    name
    for name in [*MODEL_CASES, *WEIGHTS_CASES]
    if name.startswith(("optimizer_", "weights_adam")) or name in (
        "batchnorm_trained", "two_in_two_out_adam", "sequential_in_functional_rmsprop",
        "functional_in_sequential_nesterov", "dict_io_frozen_loss_objects", "deep_nesting",
    )
]  # fmt: skip


@pytest.mark.parametrize("name", COMPILED)
def test_keras_has_the_same_optimizer_state(keras_results, name):
    model, _, arrays, info = _keras_case(keras_results, name)
    assert model.compiled and model.optimizer.iterations > 0
    assert info["optimizer"] == type(model.optimizer).__name__
    assert info["iterations"] == model.optimizer.iterations
    paths = info["optimizer_paths"]
    theirs = {path: arrays[f"opt{i}"] for i, path in enumerate(paths)}
    renamed = {}
    if name in WEIGHTS_CASES:  # built in Keras, with Keras's own layer names: match by order
        ours = ["_".join(w.path.split("/")[-2:]) for w in model.trainable_weights]
        keras = [path.replace("/", "_") for path in info["trainable_paths"]]
        assert len(ours) == len(keras)
        renamed = dict(zip(ours, keras, strict=True))
    expected = _keras_paths(model, renamed)
    assert sorted(theirs) == sorted(expected)
    for path, value in expected.items():
        value = np.asarray(value)
        if value.dtype == np.float64:  # an optimizer-wide float (Keras holds float32)
            np.testing.assert_allclose(theirs[path], value, rtol=1e-6, err_msg=path)
        else:
            np.testing.assert_array_equal(theirs[path], value.astype(theirs[path].dtype),
                                          err_msg=path)  # fmt: skip
    # The slots were trained: not all zero (Keras would keep zeros for a skipped optimizer).
    slots = [v for p, v in theirs.items() if not p.endswith(("/iteration", "/learning_rate"))]
    if slots:
        assert any(np.any(v != 0) for v in slots)


def _check_loss(theirs, ours) -> None:
    """Keras's `model.loss` against ours: the same names, the same classes with the same options."""
    if isinstance(ours, dict):
        assert sorted(theirs) == sorted(ours)
        for key in ours:
            _check_loss(theirs[key], ours[key])
    elif isinstance(ours, (list, tuple)):
        assert len(theirs) == len(ours)
        for a, b in zip(theirs, ours, strict=True):
            _check_loss(a, b)
    elif isinstance(ours, str):
        assert theirs == ours
    else:
        class_name, config = theirs
        assert class_name == type(ours).__name__
        for key, value in ours.get_config().items():
            if key in config and key not in ("name", "reduction", "dtype"):
                assert config[key] == pytest.approx(value), key


@pytest.mark.parametrize("name", [n for n in COMPILED if n in MODEL_CASES])
def test_keras_has_the_same_optimizer_config(keras_results, name):
    model, _, _, info = _keras_case(keras_results, name)
    ours = model.optimizer.get_config()
    theirs = info["optimizer_config"]
    for key in ("beta_1", "beta_2", "epsilon", "momentum", "nesterov", "amsgrad", "rho",
                "centered", "weight_decay", "initial_accumulator_value"):  # fmt: skip
        if key in ours and ours[key] is not None:
            assert theirs[key] == pytest.approx(ours[key], rel=1e-6), key
    _check_loss(info["loss"], model.loss)
    if model.optimizer.schedule is None:
        assert theirs["learning_rate"] == pytest.approx(model.optimizer.learning_rate, rel=1e-6)
    else:
        assert theirs["learning_rate"]["class_name"] == "ExponentialDecay"


def test_every_shared_layer_type_is_covered():
    """Each layer class of neuralnet (all of which Keras 3 has) is in some saved model."""
    seen: set[str] = set()
    neuralnet.utils.clear_session()
    for name, build in {**MODEL_CASES, **WEIGHTS_CASES}.items():
        if name.startswith("optimizer_") and name != "optimizer_adam_amsgrad":
            continue
        model, _ = build(np.random.default_rng(0))
        stack = [model]
        while stack:
            layer = stack.pop()
            seen.add(type(layer).__name__)
            stack.extend(layer.inner_layers())
            if isinstance(layer, models.Model) and not isinstance(layer, models.Sequential):
                stack.extend(t.node.layer for t in layer.inputs)
    from neuralnet.layers.layer import LAYERS

    library = {n for n in LAYERS.names() if LAYERS.lookup(n).__module__.startswith("neuralnet.")}
    assert library - seen == set()
