"""Training end to end against Keras 3: fit, evaluate, predict, train_on_batch give Keras's numbers.

The reference numbers were produced by Keras 3.15 (JAX backend, float32) on the same data and initial
weights (generated below from `np.random.default_rng(42)`), and are stored here; Keras is not needed to
run these tests.
"""

import numpy as np
import pytest

from neuralnet import Input, Sequential, layers, optimizers, regularizers

KERAS_FIT_HISTORY = {
    "accuracy": [0.30000001, 0.40000001, 0.46666667],
    "loss": [1.1598033, 1.1224049, 1.0943526],
    "val_accuracy": [0.5, 0.5, 0.30000001],
    "val_loss": [1.1224283, 1.09879, 1.0880525],
}
KERAS_FIT_WEIGHTS = [
    [
        [0.23846883, 0.55067229, 0.14112978, -0.2537668],
        [0.56927985, 0.19065654, 0.60558271, 0.24109165],
        [-0.4794777, -0.58751851, 0.70390552, 0.77512866],
    ],
    [0.025516409, -0.068174578, 0.086001709, -0.009033246],
    [
        [-0.3959468, 0.38024649, -0.30730233],
        [0.11130508, 0.019925602, -0.046725795],
        [0.60835284, 0.2493398, 0.21331011],
        [-1.0034338, 0.062892154, -0.53051883],
    ],
    [0.32418936, -0.13055454, -0.43674374],
]
KERAS_EVALUATE = [1.0806043, 0.44999999]
KERAS_EVALUATE_SW = [1.1071358, 0.44999999]
KERAS_PREDICT_FIRST = [[0.42835414, 0.34938592, 0.22225998], [0.50086844, 0.29429448, 0.20483705]]
KERAS_TRAIN_ON_BATCH = [1.1987554, 0.30000001, 0.30000001, 0.37018847]
KERAS_TRAIN_ON_BATCH2 = {"accuracy": 0.30000001, "loss": 1.1972542, "weighted_accuracy": 0.37018847}
KERAS_TEST_ON_BATCH = [1.1720129, 0.30000001, 0.30000001, 0.30000001]
KERAS_CLASS_WEIGHT_HISTORY = {"loss": [1.4500335, 1.4435073]}
KERAS_CLASS_WEIGHT_WEIGHTS = [
    [
        [0.14799087, 0.64762479, 0.11369438, -0.21076563],
        [0.55804217, 0.21416554, 0.76222008, 0.09456788],
        [-0.61206484, -0.67846459, 0.8211776, 0.86342371],
    ],
    [-0.012088821, -0.044255931, 0.14106756, -0.10491911],
    [
        [-0.45160311, 0.32674569, -0.2025162],
        [-0.0041989102, -0.075806051, 0.16293286],
        [0.70112669, 0.051279776, 0.31664056],
        [-1.0260707, -0.018739859, -0.42637241],
    ],
    [-0.12026845, -0.082003683, -0.03940089],
]


def _data():
    rng = np.random.default_rng(42)
    x = rng.standard_normal((40, 3)).astype("float32")
    y_int = rng.integers(0, 3, 40)
    y = np.eye(3, dtype="float32")[y_int]
    sw = rng.uniform(0.5, 1.5, 40).astype("float32")
    weights = [
        rng.standard_normal((3, 4)).astype("float32") * 0.5,
        rng.standard_normal(4).astype("float32") * 0.1,
        rng.standard_normal((4, 3)).astype("float32") * 0.5,
        rng.standard_normal(3).astype("float32") * 0.1,
    ]
    return x, y_int, y, sw, weights


def _model(weights):
    model = Sequential(
        [
            Input((3,)),
            layers.Dense(4, activation="relu", kernel_regularizer=regularizers.L2(0.01)),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.set_weights(weights)
    return model


def _assert_history(history, expected):
    assert sorted(history) == sorted(expected)
    for key, values in expected.items():
        np.testing.assert_allclose(history[key], values, rtol=2e-6, atol=1e-7, err_msg=key)


def test_fit_with_momentum_l2_and_validation_split_matches_keras():
    x, _, y, sw, weights = _data()
    model = _model(weights)
    model.compile(
        optimizer=optimizers.SGD(0.1, momentum=0.9),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        x, y, batch_size=8, epochs=3, shuffle=False, validation_split=0.25, verbose=0
    )
    _assert_history(history.history, KERAS_FIT_HISTORY)
    assert list(history.history) == [
        "accuracy",
        "loss",
        "val_accuracy",
        "val_loss",
    ]  # Keras's key order
    assert history.epoch == [0, 1, 2]
    for ours, theirs in zip(model.get_weights(), KERAS_FIT_WEIGHTS):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), KERAS_EVALUATE, rtol=2e-6)
    np.testing.assert_allclose(
        model.evaluate(x, y, sample_weight=sw, verbose=0), KERAS_EVALUATE_SW, rtol=2e-6
    )
    np.testing.assert_allclose(model.predict(x[:2], verbose=0), KERAS_PREDICT_FIRST, rtol=1e-5)


def test_train_on_batch_and_test_on_batch_match_keras():
    x, y_int, _, sw, weights = _data()
    model = _model(weights)
    model.compile(
        optimizer="sgd",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        weighted_metrics=["accuracy"],
    )
    # Keras 3.15 lists 'accuracy' twice in this list (a naming artefact of compile_metrics); we list
    # each metric once, in metrics_names order.
    first = model.train_on_batch(x[:10], y_int[:10], sample_weight=sw[:10])
    np.testing.assert_allclose(
        first,
        [KERAS_TRAIN_ON_BATCH[0], KERAS_TRAIN_ON_BATCH[1], KERAS_TRAIN_ON_BATCH[3]],
        rtol=2e-6,
    )
    second = model.train_on_batch(x[:10], y_int[:10], sample_weight=sw[:10], return_dict=True)
    assert list(second) == sorted(KERAS_TRAIN_ON_BATCH2)
    for key, value in KERAS_TRAIN_ON_BATCH2.items():
        assert second[key] == pytest.approx(value, rel=2e-6)
    tested = model.test_on_batch(x[:10], y_int[:10])
    np.testing.assert_allclose(tested, KERAS_TEST_ON_BATCH[:2] + KERAS_TEST_ON_BATCH[3:], rtol=2e-6)
    assert model.metrics_names == ["loss", "accuracy", "weighted_accuracy"]


def test_class_weight_with_adam_matches_keras():
    x, _, y, _, weights = _data()
    model = _model(weights)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    history = model.fit(
        x,
        y,
        batch_size=16,
        epochs=2,
        shuffle=False,
        verbose=0,
        class_weight={0: 1.0, 1: 2.0, 2: 0.5},
    )
    _assert_history(history.history, KERAS_CLASS_WEIGHT_HISTORY)
    for ours, theirs in zip(model.get_weights(), KERAS_CLASS_WEIGHT_WEIGHTS):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
