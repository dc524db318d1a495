"""Write the Keras 3 `.keras` fixture files and their expected numbers (`.npz`) in this folder.

This script is run once, by hand, with real Keras 3; the test suite never imports it (it needs
Keras, which neuralnet's tests do not). To rerun it (it overwrites every fixture, and the numbers
change only if Keras or JAX do):

    KERAS_BACKEND=jax /path/to/venv-with-keras/bin/python tests/saving/keras_files/make_fixtures.py

(the committed files were written with a scratch venv holding keras 3.15.1 and jax; see README.md
in this folder for the versions and what each fixture covers). Afterwards update README.md if the
versions changed, and run `pytest tests/saving/test_keras_files.py`.

Each fixture `<name>.keras` comes with `<name>.npz` holding only plain float/int arrays:

- `x` (or `x0`, `x1`, ... for several inputs): inputs to predict on;
- `y_pred` (or `y_pred0`, `y_pred1`, ... for several outputs): Keras's `model.predict(x)`;
- `weights_<i>`: Keras's `model.get_weights()` of the saved model, in order;
- for compiled models only (trained a few steps in Keras before saving, so the optimizer state in
  the file is not the initial one): `x_train`/`y_train` (or `x_train0`, `y_train0`, ...), a fixed
  batch; then, after `keras.models.load_model` of the written file, 10 more
  `model.train_on_batch(x_train, y_train)` steps in Keras: `losses` (the 10 losses), `logs` (10 x k:
  every value train_on_batch returned, Keras's order), `weights_after_<i>` (`model.get_weights()`
  after the 10 steps) and `iterations_after` (`model.optimizer.iterations`).
"""

from __future__ import annotations

import os
import pathlib

import numpy as np

if os.environ.get("KERAS_BACKEND") != "jax":
    raise SystemExit("Run with KERAS_BACKEND=jax (see the module docstring).")

import keras
from keras import initializers, layers, optimizers, regularizers

HERE = pathlib.Path(__file__).resolve().parent
SEED = 20240601

# neuralnet's activation names, each of which Keras 3 also has ("swish" is Keras's alias of silu).
ACTIVATIONS = [
    "elu",
    "exponential",
    "gelu",
    "hard_sigmoid",
    "leaky_relu",
    "linear",
    "log_softmax",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "swish",
    "softmax",
    "softplus",
    "softsign",
    "tanh",
]


def _rng(name: str) -> np.random.Generator:
    """A generator seeded from the fixture's name, so fixtures do not depend on each other."""
    return np.random.default_rng([SEED, *name.encode()])


def _seed(name: str) -> np.random.Generator:
    keras.utils.clear_session()
    keras.utils.set_random_seed(SEED + sum(name.encode()))
    return _rng(name)


def _normal(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    return (scale * rng.standard_normal(shape)).astype("float32")


def _one_hot(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return np.eye(k, dtype="float32")[rng.integers(0, k, n)]


def _perturb(model: keras.Model, rng: np.random.Generator) -> None:
    """Move every weight off its initial value (PReLU's alpha starts at 0, BatchNormalization's
    statistics at 0 and 1, biases at 0), so each number in the file matters for the predictions."""
    for variable in model.weights:
        value = np.asarray(variable.numpy())
        leaf = variable.path.split("/")[-1]
        if leaf == "moving_variance":
            new = rng.uniform(0.5, 2.0, value.shape)
        elif leaf == "gamma":
            new = rng.uniform(0.5, 1.5, value.shape)
        else:
            new = value + 0.3 * rng.standard_normal(value.shape)
        variable.assign(new.astype(value.dtype))


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _keyed(prefix: str, arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
    if len(arrays) == 1:
        return {prefix: np.asarray(arrays[0])}
    return {f"{prefix}{i}": np.asarray(a) for i, a in enumerate(arrays)}


def _check_plain(arrays: dict[str, np.ndarray]) -> None:
    for key, value in arrays.items():
        if value.dtype.kind not in "fiu":
            raise TypeError(f"{key}: {value.dtype} is not a plain float/int array")


def save_fixture(
    name: str,
    model: keras.Model,
    x: list[np.ndarray],
    train: tuple[list[np.ndarray], list[np.ndarray]] | None = None,
) -> None:
    """Save `model` as `<name>.keras` and its expected numbers as `<name>.npz`."""
    path = HERE / f"{name}.keras"
    model.save(path)
    x_in = x if len(x) > 1 else x[0]
    y_pred = _as_list(model.predict(x_in, verbose=0))
    arrays = {**_keyed("x", x), **_keyed("y_pred", y_pred)}
    arrays.update({f"weights_{i}": w for i, w in enumerate(model.get_weights())})

    reloaded = keras.models.load_model(path)
    for mine, theirs in zip(y_pred, _as_list(reloaded.predict(x_in, verbose=0)), strict=True):
        np.testing.assert_allclose(theirs, mine, rtol=1e-6, atol=1e-6)  # Keras reads back itself

    if train is not None:
        xs, ys = train
        arrays.update(_keyed("x_train", xs))
        arrays.update(_keyed("y_train", ys))
        x_t = xs if len(xs) > 1 else xs[0]
        y_t = ys if len(ys) > 1 else ys[0]
        logs = [_as_list(reloaded.train_on_batch(x_t, y_t)) for _ in range(10)]
        arrays["logs"] = np.asarray(logs, dtype="float64")
        arrays["losses"] = arrays["logs"][:, 0].copy()
        for i, w in enumerate(reloaded.get_weights()):
            arrays[f"weights_after_{i}"] = w
        arrays["iterations_after"] = np.asarray(int(reloaded.optimizer.iterations), dtype="int64")

    _check_plain(arrays)
    np.savez(HERE / f"{name}.npz", **arrays)
    kb = (path.stat().st_size + (HERE / f"{name}.npz").stat().st_size) / 1024
    print(f"{name}: {'compiled' if train else 'uncompiled'}, {kb:.1f} KB")


def _pretrain(model: keras.Model, xs: list, ys: list, rng: np.random.Generator) -> None:
    """A few fit steps before saving (2 epochs x 3 batches), on data other than the fixed batch."""
    n = 24
    x_fit = [_normal(rng, n, *x.shape[1:]) for x in xs]
    y_fit = [_like_targets(rng, y, n) for y in ys]
    model.fit(
        x_fit if len(xs) > 1 else x_fit[0],
        y_fit if len(ys) > 1 else y_fit[0],
        epochs=2,
        batch_size=8,
        shuffle=False,
        verbose=0,
    )


def _like_targets(rng: np.random.Generator, y: np.ndarray, n: int) -> np.ndarray:
    """New targets of the same kind as `y` (one-hot, 0/1 or real)."""
    if np.all((y == 0) | (y == 1)) and y.shape[-1] > 1 and np.all(y.sum(-1) == 1):
        return _one_hot(rng, n, y.shape[-1])
    if np.all((y == 0) | (y == 1)):
        return rng.integers(0, 2, (n, *y.shape[1:])).astype("float32")
    if y.ndim == 1 and np.all(y == np.round(y)) and y.min() >= 0:  # sparse class labels
        return rng.integers(0, int(y.max()) + 1, n).astype(y.dtype)
    return _normal(rng, n, *y.shape[1:])


# -- uncompiled models: predictions only ------------------------------------------------------------


def _dense_activations(name: str, activations: list[str]) -> None:
    """Functional, one input, one Dense head per activation name (each head an output)."""
    rng = _seed(name)
    inp = keras.Input((5,), name="features")
    outputs = [layers.Dense(4, activation=act, name=f"dense_{act}")(inp) for act in activations]
    model = keras.Model(inp, outputs, name=name)
    _perturb(model, rng)
    save_fixture(name, model, [_normal(rng, 7, 5, scale=1.5)])


def dense_activations_1() -> None:
    """The first half of ACTIVATIONS (two files keep each well under 100 KB)."""
    _dense_activations("dense_activations_1", ACTIVATIONS[:9])


def dense_activations_2() -> None:
    """The second half of ACTIVATIONS."""
    _dense_activations("dense_activations_2", ACTIVATIONS[9:])


def activation_layers() -> None:
    """Activation, ReLU (its three arguments), LeakyReLU, PReLU (shared_axes too), ELU, Softmax
    (on the last axis and on axis 1 of a 3-D tensor), each an output of one functional model."""
    name = "activation_layers"
    rng = _seed(name)
    inp = keras.Input((6,), name="features")
    h = layers.Dense(6, name="hidden")(inp)
    h3 = layers.Reshape((2, 3), name="to_3d")(h)
    outputs = [
        layers.Activation("relu", name="act_relu")(h),
        layers.Activation("tanh", name="act_tanh")(h),
        layers.Activation("softmax", name="act_softmax")(h),
        layers.Activation("gelu", name="act_gelu")(h),
        layers.Activation("selu", name="act_selu")(h),
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
    model = keras.Model(inp, outputs, name="activation_layers")
    _perturb(model, rng)
    save_fixture(name, model, [_normal(rng, 7, 6, scale=1.5)])


def initializers_regularizers() -> None:
    """Sequential whose Dense layers name many initializers and L1/L2/L1L2 regularizers (kernel,
    bias and activity) in their configs."""
    name = "initializers_regularizers"
    rng = _seed(name)
    model = keras.Sequential(
        [
            keras.Input((5,)),
            layers.Dense(
                6,
                activation="relu",
                kernel_initializer="he_normal",
                bias_initializer=initializers.Constant(0.1),
                kernel_regularizer=regularizers.L2(0.01),
            ),
            layers.Dense(
                5,
                activation="tanh",
                kernel_initializer=initializers.RandomNormal(mean=0.0, stddev=0.3, seed=3),
                bias_initializer="ones",
                kernel_regularizer=regularizers.L1(0.001),
                bias_regularizer=regularizers.L1L2(l1=0.001, l2=0.002),
            ),
            layers.Dense(
                5,
                kernel_initializer=initializers.Identity(),
                bias_initializer=initializers.RandomUniform(-0.1, 0.1, seed=4),
                activity_regularizer=regularizers.L2(1e-3),
            ),
            layers.Dense(
                4,
                activation="sigmoid",
                kernel_initializer=initializers.Orthogonal(seed=5),
                use_bias=False,
                kernel_regularizer="l2",
            ),
            layers.Dense(
                4,
                kernel_initializer=initializers.VarianceScaling(
                    scale=2.0, mode="fan_out", distribution="uniform", seed=6
                ),
                bias_initializer="zeros",
                kernel_regularizer=regularizers.L1L2(l1=1e-4, l2=1e-3),
            ),
            layers.Dense(
                4,
                activation="elu",
                kernel_initializer=initializers.TruncatedNormal(stddev=0.4, seed=7),
                bias_initializer=initializers.Zeros(),
            ),
            layers.Dense(
                3,
                kernel_initializer=initializers.LecunUniform(seed=8),
                bias_initializer=initializers.Ones(),
                bias_regularizer="l1",
            ),
            layers.Dense(
                3,
                activation="softmax",
                kernel_initializer=initializers.GlorotNormal(seed=9),
                bias_initializer=initializers.HeUniform(seed=10),
            ),
        ],
        name="initializers_regularizers",
    )
    save_fixture(name, model, [_normal(rng, 7, 5)])


def batchnorm_variants() -> None:
    """Sequential with BatchNormalization (default, center=False, scale=False, both False, and
    other momentum/epsilon), trained a little in Keras (so the moving statistics are not 0 and 1),
    saved uncompiled."""
    name = "batchnorm_variants"
    rng = _seed(name)

    def build() -> keras.Sequential:
        return keras.Sequential(
            [
                keras.Input((5,)),
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
            name="batchnorm_variants",
        )

    trained = build()
    trained.compile(optimizer=optimizers.SGD(0.05), loss="mse")
    x_fit = _normal(rng, 64, 5, scale=2.0) + 1.0
    y_fit = _normal(rng, 64, 3)
    trained.fit(x_fit, y_fit, epochs=5, batch_size=16, verbose=0)
    model = build()  # the same layers, uncompiled, with the trained weights and statistics
    model.set_weights(trained.get_weights())
    save_fixture(name, model, [_normal(rng, 7, 5, scale=2.0) + 1.0])


def reshape_and_noise() -> None:
    """Sequential with an explicit InputLayer on 3-D input, Flatten, Reshape (also with -1), and
    the stochastic layers Dropout, GaussianNoise, GaussianDropout (identities in predict)."""
    name = "reshape_and_noise"
    rng = _seed(name)
    model = keras.Sequential(
        [
            layers.InputLayer(shape=(2, 3), name="grid"),
            layers.Flatten(),
            layers.Dense(6, activation="relu"),
            layers.Dropout(0.3, seed=1),
            layers.GaussianNoise(0.2, seed=2),
            layers.GaussianDropout(0.2, seed=3),
            layers.Reshape((3, 2)),
            layers.Dense(4, activation="tanh"),  # on a 3-D tensor: the last axis
            layers.Reshape((-1, 2)),
            layers.Dropout(0.5, noise_shape=(None, 1, 2), seed=4),
            layers.Flatten(),
            layers.Dense(3),
        ],
        name="reshape_and_noise",
    )
    _perturb(model, rng)
    save_fixture(name, model, [_normal(rng, 7, 2, 3)])


def merging() -> None:
    """Functional, two inputs, one output per merging layer: Add (two and three inputs),
    Subtract, Multiply, Average, Maximum, Minimum, Concatenate (last axis and axis 1 of 3-D),
    Dot (axes=1, normalize=True, and axes=(2, 2) on 3-D tensors)."""
    name = "merging"
    rng = _seed(name)
    x0 = keras.Input((4,), name="left")
    x1 = keras.Input((5,), name="right")
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
    model = keras.Model([x0, x1], outputs, name="merging")
    _perturb(model, rng)
    save_fixture(name, model, [_normal(rng, 7, 4), _normal(rng, 7, 5)])


def nested_sequential_in_functional() -> None:
    """Functional model that calls a Sequential model as a layer (and a Dense after it)."""
    name = "nested_sequential_in_functional"
    rng = _seed(name)
    inner = keras.Sequential(
        [keras.Input((4,)), layers.Dense(5, activation="relu"), layers.Dense(3, name="inner_out")],
        name="inner_sequential",
    )
    inp = keras.Input((6,), name="features")
    h = layers.Dense(4, activation="tanh", name="before")(inp)
    h = inner(h)
    out = layers.Dense(2, activation="softmax", name="after")(h)
    model = keras.Model(inp, out, name="outer_functional")
    _perturb(model, rng)
    save_fixture(name, model, [_normal(rng, 7, 6)])


# -- compiled models: trained a little, then 10 more steps after loading ----------------------------


def adam_default_cce() -> None:
    """Sequential, compile("adam", "categorical_crossentropy", ["accuracy"])."""
    name = "adam_default_cce"
    rng = _seed(name)
    model = keras.Sequential(
        [
            keras.Input((5,)),
            layers.Dense(8, activation="relu"),
            layers.Dense(3, activation="softmax"),
        ],
        name="adam_default_cce",
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    xs, ys = [_normal(rng, 16, 5)], [_one_hot(rng, 16, 3)]
    _pretrain(model, xs, ys, rng)
    save_fixture(name, model, [_normal(rng, 7, 5)], (xs, ys))


def adam_amsgrad_false_bce() -> None:
    """Sequential, Adam(learning_rate=0.01, beta_1=0.8, beta_2=0.99, amsgrad=False),
    binary_crossentropy on 3 sigmoid outputs, ["accuracy"]."""
    name = "adam_amsgrad_false_bce"
    rng = _seed(name)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            layers.Dense(6, activation="tanh"),
            layers.Dense(3, activation="sigmoid"),
        ],
        name="adam_amsgrad_false_bce",
    )
    model.compile(
        optimizer=optimizers.Adam(learning_rate=0.01, beta_1=0.8, beta_2=0.99, amsgrad=False),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    xs = [_normal(rng, 16, 4)]
    ys = [rng.integers(0, 2, (16, 3)).astype("float32")]
    _pretrain(model, xs, ys, rng)
    save_fixture(name, model, [_normal(rng, 7, 4)], (xs, ys))


def adam_amsgrad_true_mse() -> None:
    """Sequential, Adam(learning_rate=0.01, amsgrad=True), "mse", ["mae"]."""
    name = "adam_amsgrad_true_mse"
    rng = _seed(name)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            layers.Dense(5, activation="swish"),
            layers.Dense(2),
        ],
        name="adam_amsgrad_true_mse",
    )
    model.compile(
        optimizer=optimizers.Adam(learning_rate=0.01, amsgrad=True), loss="mse", metrics=["mae"]
    )
    xs, ys = [_normal(rng, 16, 4)], [_normal(rng, 16, 2)]
    _pretrain(model, xs, ys, rng)
    save_fixture(name, model, [_normal(rng, 7, 4)], (xs, ys))


def sgd_momentum_mse_regularized() -> None:
    """Sequential, SGD(learning_rate=0.05, momentum=0.9), "mse", ["mae"], with L2, L1 and L1L2
    kernel/bias regularizers (their penalty is in the loss)."""
    name = "sgd_momentum_mse_regularized"
    rng = _seed(name)
    model = keras.Sequential(
        [
            keras.Input((5,)),
            layers.Dense(
                6,
                activation="relu",
                kernel_initializer="he_uniform",
                kernel_regularizer=regularizers.L2(0.01),
                bias_regularizer=regularizers.L1(0.005),
            ),
            layers.Dense(
                4,
                activation="tanh",
                kernel_regularizer=regularizers.L1L2(l1=0.002, l2=0.003),
            ),
            layers.Dense(2, kernel_regularizer=regularizers.L1(0.001)),
        ],
        name="sgd_momentum_mse_regularized",
    )
    model.compile(
        optimizer=optimizers.SGD(learning_rate=0.05, momentum=0.9), loss="mse", metrics=["mae"]
    )
    xs, ys = [_normal(rng, 16, 5)], [_normal(rng, 16, 2)]
    _pretrain(model, xs, ys, rng)
    save_fixture(name, model, [_normal(rng, 7, 5)], (xs, ys))


def sgd_nesterov_batchnorm_bce() -> None:
    """Sequential with BatchNormalization (trained, so batch statistics and moving averages both
    matter), SGD(learning_rate=0.05, momentum=0.9, nesterov=True), binary_crossentropy on one
    sigmoid output, ["accuracy"]."""
    name = "sgd_nesterov_batchnorm_bce"
    rng = _seed(name)
    model = keras.Sequential(
        [
            keras.Input((5,)),
            layers.Dense(6),
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.Dense(4),
            layers.BatchNormalization(center=False, momentum=0.9),
            layers.Activation("tanh"),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="sgd_nesterov_batchnorm_bce",
    )
    model.compile(
        optimizer=optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    xs = [_normal(rng, 16, 5, scale=2.0) + 0.5]
    ys = [rng.integers(0, 2, (16, 1)).astype("float32")]
    _pretrain(model, xs, ys, rng)
    save_fixture(name, model, [_normal(rng, 7, 5, scale=2.0) + 0.5], (xs, ys))


def rmsprop_prelu_cce() -> None:
    """Sequential with PReLU, LeakyReLU, ELU and ReLU layers, RMSprop(learning_rate=0.01),
    CategoricalCrossentropy(label_smoothing=0.1) given as an object, ["accuracy"]."""
    name = "rmsprop_prelu_cce"
    rng = _seed(name)
    model = keras.Sequential(
        [
            keras.Input((5,)),
            layers.Dense(6),
            layers.PReLU(alpha_initializer=initializers.Constant(0.2)),
            layers.Dense(6),
            layers.LeakyReLU(negative_slope=0.1),
            layers.Dense(5),
            layers.ELU(alpha=0.8),
            layers.Dense(5),
            layers.ReLU(max_value=3.0, negative_slope=0.05),
            layers.Dense(3),
            layers.Softmax(),
        ],
        name="rmsprop_prelu_cce",
    )
    model.compile(
        optimizer=optimizers.RMSprop(learning_rate=0.01),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
        metrics=["accuracy"],
    )
    xs, ys = [_normal(rng, 16, 5)], [_one_hot(rng, 16, 3)]
    _pretrain(model, xs, ys, rng)
    save_fixture(name, model, [_normal(rng, 7, 5)], (xs, ys))


def convnet_rmsprop_cce() -> None:
    """A small image classifier with every 2-D convolution and pooling layer, BatchNormalization
    over channels, RMSprop, sparse categorical cross-entropy: training continues as in Keras."""
    name = "convnet_rmsprop_cce"
    rng = _seed(name)
    model = keras.Sequential(
        [
            keras.Input((9, 8, 2)),
            layers.Conv2D(4, 3, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(2, padding="same"),
            layers.DepthwiseConv2D(2, depth_multiplier=2, activation="tanh"),
            layers.SeparableConv2D(4, 2, strides=2, padding="same"),
            layers.Conv2DTranspose(3, 3, strides=2, padding="same", activation="relu"),
            layers.AveragePooling2D(2),
            layers.ZeroPadding2D(1),
            layers.Conv2D(5, 2, strides=2, dilation_rate=1, activation="sigmoid"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(3, activation="softmax"),
        ],
        name="convnet_rmsprop_cce",
    )
    model.compile(
        optimizer=optimizers.RMSprop(learning_rate=0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    xs, ys = [_normal(rng, 16, 9, 8, 2)], [rng.integers(0, 3, 16).astype("float32")]
    _pretrain(model, xs, ys, rng)
    save_fixture(name, model, [_normal(rng, 5, 9, 8, 2)], (xs, ys))


def conv1d_adam_mse() -> None:
    """Sequential on sequences: causal dilated Conv1D, pooling, Conv1DTranspose, Adam, MSE."""
    name = "conv1d_adam_mse"
    rng = _seed(name)
    model = keras.Sequential(
        [
            keras.Input((12, 3)),
            layers.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="tanh"),
            layers.MaxPooling1D(2),
            layers.Conv1DTranspose(2, 3, strides=2, padding="same"),
            layers.UpSampling1D(2),
            layers.Cropping1D((1, 1)),
            layers.GlobalMaxPooling1D(),
            layers.Dense(2),
        ],
        name="conv1d_adam_mse",
    )
    model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="mse")
    xs, ys = [_normal(rng, 16, 12, 3)], [_normal(rng, 16, 2)]
    _pretrain(model, xs, ys, rng)
    save_fixture(name, model, [_normal(rng, 5, 12, 3)], (xs, ys))


def functional_two_in_two_out() -> None:
    """Functional, two inputs and two outputs, Concatenate and Add inside, Adam(learning_rate=
    0.005), losses ["mse", "binary_crossentropy"] with loss_weights [1.0, 0.5], metrics
    [["mae"], ["accuracy"]]."""
    name = "functional_two_in_two_out"
    rng = _seed(name)
    x0 = keras.Input((4,), name="numbers")
    x1 = keras.Input((5,), name="extras")
    a = layers.Dense(6, activation="relu", name="a")(x0)
    b = layers.Dense(6, activation="tanh", name="b")(x1)
    h = layers.Concatenate(name="concat")([a, b])
    h = layers.Dense(5, activation="elu", name="shared")(h)
    s = layers.Add(name="skip")([h, layers.Dense(5, name="proj")(x1)])
    y0 = layers.Dense(2, name="regression")(s)
    y1 = layers.Dense(1, activation="sigmoid", name="flag")(s)
    model = keras.Model([x0, x1], [y0, y1], name="two_in_two_out")
    model.compile(
        optimizer=optimizers.Adam(learning_rate=0.005),
        loss=["mse", "binary_crossentropy"],
        loss_weights=[1.0, 0.5],
        metrics=[["mae"], ["accuracy"]],
    )
    xs = [_normal(rng, 16, 4), _normal(rng, 16, 5)]
    ys = [_normal(rng, 16, 2), rng.integers(0, 2, (16, 1)).astype("float32")]
    _pretrain(model, xs, ys, rng)
    save_fixture(name, model, [_normal(rng, 7, 4), _normal(rng, 7, 5)], (xs, ys))


def nested_functional_in_sequential() -> None:
    """Sequential that holds a functional model (two Dense branches added) as a layer, then
    BatchNormalization and a softmax Dense; RMSprop(learning_rate=0.005, rho=0.8, momentum=0.5,
    centered=True), "categorical_crossentropy", ["accuracy"]."""
    name = "nested_functional_in_sequential"
    rng = _seed(name)
    i = keras.Input((5,), name="inner_input")
    a = layers.Dense(4, activation="relu", name="branch_a")(i)
    b = layers.Dense(4, activation="sigmoid", name="branch_b")(i)
    inner = keras.Model(i, layers.Add(name="join")([a, b]), name="inner_functional")
    model = keras.Sequential(
        [
            keras.Input((5,)),
            inner,
            layers.BatchNormalization(),
            layers.Dense(3, activation="softmax"),
        ],
        name="outer_sequential",
    )
    model.compile(
        optimizer=optimizers.RMSprop(learning_rate=0.005, rho=0.8, momentum=0.5, centered=True),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    xs, ys = [_normal(rng, 16, 5)], [_one_hot(rng, 16, 3)]
    _pretrain(model, xs, ys, rng)
    save_fixture(name, model, [_normal(rng, 7, 5)], (xs, ys))


FIXTURES = [
    dense_activations_1,
    dense_activations_2,
    activation_layers,
    initializers_regularizers,
    batchnorm_variants,
    reshape_and_noise,
    merging,
    nested_sequential_in_functional,
    adam_default_cce,
    adam_amsgrad_false_bce,
    adam_amsgrad_true_mse,
    sgd_momentum_mse_regularized,
    sgd_nesterov_batchnorm_bce,
    rmsprop_prelu_cce,
    functional_two_in_two_out,
    nested_functional_in_sequential,
    convnet_rmsprop_cce,
    conv1d_adam_mse,
]


if __name__ == "__main__":
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}")
    for make in FIXTURES:
        make()
