"""Tests of `neuralnet.losses`: gradients, values, the fused output-layer gradients, errors and configs.

Values are checked twice: against NumPy formulas written out here (not calling the library), and against
numbers computed once with Keras 3.15.1 (JAX backend, float32) on the literal inputs below and pasted in
as constants; Keras is not imported by these tests. float32 Keras agrees with float64 to about 1e-6
relative (checked against a float64 Keras run of the same inputs), hence `rtol=1e-5`.
"""

import json

import numpy as np
import pytest

from neuralnet import activations, losses
from neuralnet.losses import LOSSES
from neuralnet.testing import check_gradients, numerical_gradient

EPS = 1e-7  # Keras's backend.epsilon()
KERAS_RTOL = 1e-5
KERAS_ATOL = 1e-6


# ---------------------------------------------------------------------------------------------------
# Inputs for the gradient checks: one entry per registered loss, every input away from a kink.


def _signs(rng, shape):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0)


def _one_hot(labels, classes):
    return np.eye(classes)[labels]


def _case_regression(rng):
    return rng.standard_normal((4, 3)), rng.standard_normal((4, 3))


def _case_mae(rng):
    t = rng.standard_normal((4, 3))
    return t, t + _signs(rng, t.shape) * rng.uniform(0.1, 1.0, t.shape)  # |p − t| ≥ 0.1


def _case_mape(rng):
    t = _signs(rng, (4, 3)) * rng.uniform(0.5, 2.0, (4, 3))
    return t, t + _signs(rng, t.shape) * rng.uniform(0.1, 1.0, t.shape)


def _case_msle(rng):
    return rng.uniform(0.0, 3.0, (4, 3)), rng.uniform(0.1, 3.0, (4, 3))


def _case_huber(rng):
    # |error| in (0.1, 0.8) or (1.3, 2.0): both branches, away from |e| = delta = 1.
    t = rng.standard_normal((4, 3))
    size = rng.uniform(0.1, 0.8, t.shape) + 1.2 * (rng.random(t.shape) < 0.5)
    return t, t + _signs(rng, t.shape) * size


def _case_poisson(rng):
    return rng.poisson(2.0, (4, 3)).astype(np.float64), rng.uniform(0.5, 3.0, (4, 3))


def _case_hinge(rng):
    # Labels in {-1, 1}; the margin 1 − t·p is ±(0.2 to 1): active and inactive, never 0.
    t = _signs(rng, (4, 3))
    margin = _signs(rng, t.shape) * rng.uniform(0.2, 1.0, t.shape)
    return t, t * (1.0 - margin)


def _case_categorical_hinge(rng):
    labels = rng.integers(0, 3, 4)
    t = _one_hot(labels, 3)
    while True:  # a unique largest wrong-class score and a margin away from 0
        p = rng.uniform(0.1, 2.0, (4, 3))
        wrong = np.sort((1.0 - t) * p, axis=-1)
        margin = wrong[:, -1] - np.sum(t * p, axis=-1) + 1.0
        if np.all(wrong[:, -1] - wrong[:, -2] > 0.1) and np.all(np.abs(margin) > 0.1):
            return t, p


def _case_categorical_crossentropy(rng):
    # Soft targets and unnormalized probabilities: the renormalization is differentiated too.
    return rng.dirichlet(np.ones(3), 4), rng.uniform(0.1, 1.0, (4, 3))


def _case_sparse_categorical_crossentropy(rng):
    return rng.integers(0, 3, 4), rng.uniform(0.1, 1.0, (4, 3))


def _case_binary_crossentropy(rng):
    return rng.integers(0, 2, (4, 3)).astype(np.float64), rng.uniform(0.05, 0.95, (4, 3))


def _case_kl_divergence(rng):
    return rng.dirichlet(np.ones(3), 4), rng.uniform(0.05, 0.95, (4, 3))


GRADIENT_CASES = {
    "mean_squared_error": _case_regression,
    "mean_absolute_error": _case_mae,
    "mean_absolute_percentage_error": _case_mape,
    "mean_squared_logarithmic_error": _case_msle,
    "log_cosh": _case_regression,
    "huber": _case_huber,
    "poisson": _case_poisson,
    "hinge": _case_hinge,
    "squared_hinge": _case_hinge,
    "categorical_hinge": _case_categorical_hinge,
    "categorical_crossentropy": _case_categorical_crossentropy,
    "sparse_categorical_crossentropy": _case_sparse_categorical_crossentropy,
    "binary_crossentropy": _case_binary_crossentropy,
    "kl_divergence": _case_kl_divergence,
    "cosine_similarity": _case_regression,
}


def _case(name, seed=0):
    if name not in GRADIENT_CASES:
        pytest.fail(
            f"Loss {name!r} is registered but has no entry in GRADIENT_CASES of tests/test_losses.py: "
            "add inputs for it (away from kinks) so that its gradient is checked."
        )
    return GRADIENT_CASES[name](np.random.default_rng(seed))


# ---------------------------------------------------------------------------------------------------
# Independent NumPy formulas: per-sample values, written from Keras's definitions.


def _log_softmax(z):
    return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))


def _hinge_labels(t):
    return 2.0 * t - 1.0 if np.all((t == 0) | (t == 1)) else t


def np_mse(t, p):
    return np.mean((t - p) ** 2, axis=-1)


def np_mae(t, p):
    return np.mean(np.abs(t - p), axis=-1)


def np_mape(t, p):
    return 100.0 * np.mean(np.abs(t - p) / np.maximum(np.abs(t), EPS), axis=-1)


def np_msle(t, p):
    return np.mean(
        (np.log(np.maximum(p, EPS) + 1.0) - np.log(np.maximum(t, EPS) + 1.0)) ** 2, axis=-1
    )


def np_log_cosh(t, p):
    return np.mean(np.log(np.cosh(p - t)), axis=-1)


def np_huber(t, p, delta=1.0):
    e = np.abs(p - t)
    return np.mean(np.where(e <= delta, 0.5 * e**2, delta * e - 0.5 * delta**2), axis=-1)


def np_poisson(t, p):
    return np.mean(p - t * np.log(p + EPS), axis=-1)


def np_hinge(t, p):
    return np.mean(np.maximum(1.0 - _hinge_labels(t) * p, 0.0), axis=-1)


def np_squared_hinge(t, p):
    return np.mean(np.maximum(1.0 - _hinge_labels(t) * p, 0.0) ** 2, axis=-1)


def np_categorical_hinge(t, p):
    pos = np.sum(t * p, axis=-1)
    neg = np.max((1.0 - t) * p, axis=-1)
    return np.maximum(neg - pos + 1.0, 0.0)


def np_cce(t, p, label_smoothing=0.0):
    t = t * (1.0 - label_smoothing) + label_smoothing / t.shape[-1]
    q = np.clip(p / np.sum(p, axis=-1, keepdims=True), EPS, 1.0 - EPS)
    return -np.sum(t * np.log(q), axis=-1)


def np_cce_logits(t, z, label_smoothing=0.0):
    t = t * (1.0 - label_smoothing) + label_smoothing / t.shape[-1]
    return -np.sum(t * _log_softmax(z), axis=-1)


def np_scce(labels, p):
    return np_cce(_one_hot(np.asarray(labels), p.shape[-1]), p)


def np_bce(t, p, label_smoothing=0.0):
    t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    q = np.clip(p, EPS, 1.0 - EPS)
    return np.mean(-(t * np.log(q) + (1.0 - t) * np.log(1.0 - q)), axis=-1)


def np_bce_logits(t, z, label_smoothing=0.0):
    t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    s = 1.0 / (1.0 + np.exp(-z))
    return np.mean(-(t * np.log(s) + (1.0 - t) * np.log(1.0 - s)), axis=-1)


def np_kld(t, p):
    t, p = np.clip(t, EPS, 1.0), np.clip(p, EPS, 1.0)
    return np.sum(t * np.log(t / p), axis=-1)


def np_cosine(t, p):
    norms = np.maximum(np.linalg.norm(t, axis=-1), EPS) * np.maximum(
        np.linalg.norm(p, axis=-1), EPS
    )
    return -np.sum(t * p, axis=-1) / norms


NUMPY_FORMULAS = {
    "mean_squared_error": np_mse,
    "mean_absolute_error": np_mae,
    "mean_absolute_percentage_error": np_mape,
    "mean_squared_logarithmic_error": np_msle,
    "log_cosh": np_log_cosh,
    "huber": np_huber,
    "poisson": np_poisson,
    "hinge": np_hinge,
    "squared_hinge": np_squared_hinge,
    "categorical_hinge": np_categorical_hinge,
    "categorical_crossentropy": np_cce,
    "sparse_categorical_crossentropy": np_scce,
    "binary_crossentropy": np_bce,
    "kl_divergence": np_kld,
    "cosine_similarity": np_cosine,
}


# ---------------------------------------------------------------------------------------------------
# Literal inputs and the Keras 3.15.1 values computed from them.

REG_T = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
REG_P = np.array([[0.25, -0.5, 3.5], [1.0, 0.75, 0.5]])
MAPE_T = np.array([[0.0, 2.0, -4.0], [1.0, -0.5, 3.0]])
MAPE_P = np.array([[0.5, 1.0, -3.0], [1.5, 0.5, 3.0]])
MSLE_T = np.array([[0.5, 2.0, 0.0], [1.5, 3.0, 0.25]])
MSLE_P = np.array([[1.0, 1.5, -0.5], [2.0, 0.5, 0.75]])
POIS_T = np.array([[1.0, 0.0, 3.0], [2.0, 5.0, 0.5]])
POIS_P = np.array([[0.5, 1.5, 2.0], [2.5, 4.0, 0.0]])
HINGE_T01 = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
HINGE_TPM = np.array([[-1.0, 1.0, 1.0], [1.0, -1.0, -1.0]])
HINGE_TMIX = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.0]])
HINGE_P = np.array([[0.3, -0.8, 1.5], [0.6, -0.2, 2.0]])
CH_T = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
CH_P = np.array([[0.3, 0.6, 0.1], [0.5, 0.2, 0.3]])
CCE_T = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
CCE_P = np.array(
    [[0.2, 0.6, 0.4], [0.5, 0.3, 0.0]]
)  # unnormalized; the true class of row 2 has p = 0
CCE_Z = np.array([[1.0, 2.0, -1.0], [0.5, -0.5, 3.0]])
SCCE_LABELS = np.array([1, 2])
BCE_T = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
BCE_P = np.array([[0.1, 0.8, 0.6], [0.7, 0.3, 0.0]])
BCE_Z = np.array([[-2.0, 1.5, 0.3], [0.8, -0.4, 4.0]])
KLD_T = np.array([[0.2, 0.8, 0.0], [0.5, 0.25, 0.25]])
KLD_P = np.array([[0.3, 0.6, 0.1], [0.5, 0.5, 0.0]])
COS_T = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])
COS_P = np.array([[2.0, 4.0, 6.0], [1.0, 0.0, 0.0], [1.0, 2.0, 3.0], [0.3, 0.4, -1.0]])
IGN_LABELS = np.array([0, 2, -1, 1, -1])
IGN_Z = np.array(
    [[2.0, 0.5, -1.0], [0.1, 0.2, 0.3], [5.0, -3.0, 0.0], [-1.0, 1.5, 0.5], [0.0, 0.0, 4.0]]
)
IGN_W = np.array([1.0, 2.0, 3.0, 0.5, 1.5])
W2 = np.array([0.5, 2.0])
CCE3_T = np.array([[[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0]]])
CCE3_Z = np.array([[[1.0, -0.5], [2.0, 0.0], [-1.0, 0.5]], [[0.5, 1.0], [-0.5, 2.0], [3.0, -2.0]]])

# Per-sample values of the Keras functions (keras.losses.<name>(y_true, y_pred, **options)).
KERAS_PER_SAMPLE = {
    "mean_squared_error": (losses.mean_squared_error, REG_T, REG_P, {}, [0.854166687, 0.6875]),
    "mean_absolute_error": (losses.mean_absolute_error, REG_T, REG_P, {}, [0.75, 0.75]),
    "mean_absolute_percentage_error": (
        losses.mean_absolute_percentage_error,
        MAPE_T,
        MAPE_P,
        {},
        [166666704, 83.3333359],
    ),
    "mean_squared_logarithmic_error": (
        losses.mean_squared_logarithmic_error,
        MSLE_T,
        MSLE_P,
        {},
        [0.0386673771, 0.369493574],
    ),
    "log_cosh": (losses.log_cosh, REG_T, REG_P, {}, [0.335494846, 0.291990548]),
    "huber": (losses.huber, REG_T, REG_P, {}, [0.385416687, 0.333333343]),
    "huber_delta_0.5": (losses.huber, REG_T, REG_P, {"delta": 0.5}, [0.260416687, 0.25]),
    "poisson": (losses.poisson, POIS_T, POIS_P, {}, [0.871235132, 1.93166482]),
    "hinge_01_labels": (losses.hinge, HINGE_T01, HINGE_P, {}, [1.0333333, 1.39999998]),
    "hinge_pm1_labels": (losses.hinge, HINGE_TPM, HINGE_P, {}, [1.0333333, 1.39999998]),
    "hinge_mixed_labels": (losses.hinge, HINGE_TMIX, HINGE_P, {}, [1.01666665, 0.800000072]),
    "squared_hinge_01_labels": (
        losses.squared_hinge,
        HINGE_T01,
        HINGE_P,
        {},
        [1.6433332, 3.26666689],
    ),
    "squared_hinge_mixed_labels": (
        losses.squared_hinge,
        HINGE_TMIX,
        HINGE_P,
        {},
        [1.43416667, 0.719999969],
    ),
    "categorical_hinge": (losses.categorical_hinge, CH_T, CH_P, {}, [0.699999988, 1.20000005]),
    "categorical_crossentropy": (
        losses.categorical_crossentropy,
        CCE_T,
        CCE_P,
        {},
        [0.693147182, 16.1180954],
    ),
    "categorical_crossentropy_ls0.2": (
        losses.categorical_crossentropy,
        CCE_T,
        CCE_P,
        {"label_smoothing": 0.2},
        [0.793419003, 14.0657387],
    ),
    "categorical_crossentropy_logits": (
        losses.categorical_crossentropy,
        CCE_T,
        CCE_Z,
        {"from_logits": True},
        [0.349012166, 0.106414117],
    ),
    "categorical_crossentropy_logits_ls0.1": (
        losses.categorical_crossentropy,
        CCE_T,
        CCE_Z,
        {"from_logits": True, "label_smoothing": 0.1},
        [0.482345521, 0.306414127],
    ),
    "sparse_categorical_crossentropy": (
        losses.sparse_categorical_crossentropy,
        SCCE_LABELS,
        CCE_P,
        {},
        [0.693147182, 16.1180954],
    ),
    "sparse_categorical_crossentropy_logits": (
        losses.sparse_categorical_crossentropy,
        SCCE_LABELS,
        CCE_Z,
        {"from_logits": True},
        [0.349012166, 0.106414117],
    ),
    "binary_crossentropy": (
        losses.binary_crossentropy,
        BCE_T,
        BCE_P,
        {},
        [0.279776573, 0.237783358],
    ),
    "binary_crossentropy_ls0.2": (
        losses.binary_crossentropy,
        BCE_T,
        BCE_P,
        {"label_smoothing": 0.2},
        [0.412742674, 0.83153981],
    ),
    "binary_crossentropy_logits": (
        losses.binary_crossentropy,
        BCE_T,
        BCE_Z,
        {"from_logits": True},
        [0.29423219, 1.63408852],
    ),
    "binary_crossentropy_logits_ls0.2": (
        losses.binary_crossentropy,
        BCE_T,
        BCE_Z,
        {"from_logits": True, "label_smoothing": 0.2},
        [0.420898855, 1.54075527],
    ),
    "kl_divergence": (losses.kl_divergence, KLD_T, KLD_P, {}, [0.149051204, 3.50966358]),
    "cosine_similarity": (
        losses.cosine_similarity,
        COS_T,
        COS_P,
        {},
        [-0.999999881, 0.0, 0.0, 0.390360057],
    ),
}


# ---------------------------------------------------------------------------------------------------
# 1. Gradients


def test_every_registered_loss_has_a_gradient_case_and_a_formula():
    names = set(LOSSES.names())
    assert names - set(GRADIENT_CASES) == set(), "registered losses without a gradient-check case"
    assert names - set(NUMPY_FORMULAS) == set(), "registered losses without a NumPy formula"
    assert set(GRADIENT_CASES) - names == set(), (
        "stale entries: these names are no longer registered"
    )


@pytest.mark.parametrize("name", LOSSES.names())
def test_loss_backward_matches_finite_differences(name):
    y_true, y_pred = _case(name)
    report = check_gradients(LOSSES.lookup(name)(), y_pred, y_true, seed=0, rtol=1e-6)
    assert report.max_error < 1e-6


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
@pytest.mark.parametrize("name", LOSSES.names())
def test_loss_backward_with_sample_weights_matches_finite_differences(name, reduction):
    y_true, y_pred = _case(name, seed=1)
    weights = np.random.default_rng(2).uniform(0.5, 2.0, y_pred.shape[0])
    loss = LOSSES.lookup(name)(reduction=reduction)
    report = check_gradients(loss, y_pred, y_true, sample_weight=weights, rtol=1e-6)
    assert report.max_error < 1e-6


def _logits_case(rng):
    return rng.integers(0, 2, (4, 3)).astype(np.float64), 2.0 * rng.standard_normal((4, 3))


GRADIENT_VARIANTS = {
    "cce_from_logits": (losses.CategoricalCrossentropy(from_logits=True), lambda rng: (
        _one_hot(rng.integers(0, 3, 4), 3), 2.0 * rng.standard_normal((4, 3)))),
    "cce_label_smoothing": (losses.CategoricalCrossentropy(label_smoothing=0.2), _case_categorical_crossentropy),
    "cce_from_logits_label_smoothing": (
        losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
        lambda rng: (_one_hot(rng.integers(0, 3, 4), 3), 2.0 * rng.standard_normal((4, 3))),
    ),
    "cce_axis_1_of_3d": (losses.CategoricalCrossentropy(from_logits=True, axis=1), lambda rng: (
        rng.dirichlet(np.ones(3), (2, 4)).transpose(0, 2, 1), rng.standard_normal((2, 3, 4)))),
    "scce_from_logits": (losses.SparseCategoricalCrossentropy(from_logits=True), lambda rng: (
        rng.integers(0, 3, 5), 2.0 * rng.standard_normal((5, 3)))),
    "scce_3d": (losses.SparseCategoricalCrossentropy(), lambda rng: (
        rng.integers(0, 3, (2, 4)), rng.uniform(0.1, 1.0, (2, 4, 3)))),
    "scce_labels_as_column": (losses.SparseCategoricalCrossentropy(), lambda rng: (
        rng.integers(0, 3, (5, 1)), rng.uniform(0.1, 1.0, (5, 3)))),
    "scce_ignore_class": (losses.SparseCategoricalCrossentropy(ignore_class=-1), lambda rng: (
        np.array([0, -1, 2, 1, -1]), rng.uniform(0.1, 1.0, (5, 3)))),
    "scce_from_logits_ignore_class": (
        losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1),
        lambda rng: (np.array([0, 1, 2, 1, 2]), rng.standard_normal((5, 3))),
    ),
    "bce_from_logits": (losses.BinaryCrossentropy(from_logits=True), _logits_case),
    "bce_label_smoothing": (losses.BinaryCrossentropy(label_smoothing=0.2), _case_binary_crossentropy),
    "bce_from_logits_label_smoothing": (
        losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
        _logits_case,
    ),
    "bce_column_targets_for_column_output": (losses.BinaryCrossentropy(), lambda rng: (
        rng.integers(0, 2, 5).astype(np.float64), rng.uniform(0.05, 0.95, (5, 1)))),
    "mse_rank_1_targets_for_column_output": (losses.MeanSquaredError(), lambda rng: (
        rng.standard_normal(5), rng.standard_normal((5, 1)))),
    "mse_column_targets_for_rank_1_output": (losses.MeanSquaredError(), lambda rng: (
        rng.standard_normal((5, 1)), rng.standard_normal(5))),
    "mse_3d": (losses.MeanSquaredError(), lambda rng: (rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4)))),
    "huber_delta_0.5": (losses.Huber(delta=0.5), lambda rng: (
        np.zeros((4, 3)), _signs(rng, (4, 3)) * (rng.uniform(0.1, 0.4, (4, 3)) + 0.5 * (rng.random((4, 3)) < 0.5)))),
    "hinge_01_labels": (losses.Hinge(), lambda rng: (
        np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]), np.array([[0.3, -0.8, 1.5], [0.6, -0.2, 2.0]]))),
    "squared_hinge_01_labels": (losses.SquaredHinge(), lambda rng: (
        np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]), np.array([[0.3, -0.8, 1.5], [0.6, -0.2, 2.0]]))),
    "cosine_axis_0": (losses.CosineSimilarity(axis=0), _case_regression),
    "kld_with_zero_targets": (losses.KLDivergence(), lambda rng: (
        np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]), rng.uniform(0.05, 0.95, (2, 3)))),
}  # fmt: skip


@pytest.mark.parametrize("weighting", ["unweighted", "per_sample", "per_value"])
@pytest.mark.parametrize("variant", sorted(GRADIENT_VARIANTS))
def test_loss_options_backward_matches_finite_differences(variant, weighting):
    loss, make = GRADIENT_VARIANTS[variant]
    y_true, y_pred = make(np.random.default_rng(3))
    values_shape = np.shape(
        type(loss)(**{**loss.get_config(), "reduction": "none"})(y_true, y_pred)
    )
    shape = {"unweighted": None, "per_sample": values_shape[:1], "per_value": values_shape}[
        weighting
    ]
    weights = None if shape is None else np.random.default_rng(4).uniform(0.5, 2.0, shape)
    report = check_gradients(loss, y_pred, y_true, sample_weight=weights, rtol=1e-6)
    assert report.max_error < 1e-6


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
@pytest.mark.parametrize("name", LOSSES.names())
def test_forward_backward_equals_forward_and_backward(name, reduction):
    y_true, y_pred = _case(name, seed=15)
    weights = np.random.default_rng(16).uniform(0.5, 2.0, y_pred.shape[0])
    loss = LOSSES.lookup(name)(reduction=reduction)
    value, grad = loss.forward_backward(y_true, y_pred, weights)
    assert value == pytest.approx(loss.forward(y_true, y_pred, weights), rel=1e-12)
    np.testing.assert_allclose(grad, loss.backward(y_true, y_pred, weights), rtol=1e-12, atol=1e-15)
    assert grad.shape == y_pred.shape


def test_a_user_loss_subclass_is_checked_like_the_built_in_ones():
    class Quartic(losses.Loss):
        def call(self, y_true, y_pred):
            return np.mean((y_pred - y_true) ** 4, axis=-1)

        def gradient(self, y_true, y_pred):
            return 4.0 * (y_pred - y_true) ** 3 / y_pred.shape[-1]

    y_true, y_pred = _case_regression(np.random.default_rng(17))
    assert Quartic()(y_true, y_pred) == pytest.approx(np.mean((y_pred - y_true) ** 4))
    check_gradients(Quartic(), y_pred, y_true, sample_weight=np.arange(1.0, 5.0))


def test_gradient_check_detects_a_wrong_loss_gradient():
    class HalfGradientMSE(losses.MeanSquaredError):
        def gradient(self, y_true, y_pred):
            return 0.5 * super().gradient(y_true, y_pred)

    y_true, y_pred = _case_regression(np.random.default_rng(0))
    with pytest.raises(AssertionError, match="Gradient check of loss"):
        check_gradients(HalfGradientMSE(), y_pred, y_true)


def test_sample_weights_scale_each_samples_gradient():
    y_true, y_pred = _case_regression(np.random.default_rng(5))
    weights = np.array([0.0, 1.0, 2.0, 0.5])
    plain = losses.MeanSquaredError().backward(y_true, y_pred)
    weighted = losses.MeanSquaredError().backward(y_true, y_pred, weights)
    np.testing.assert_allclose(weighted, plain * weights[:, None], rtol=1e-12)


def test_reduction_none_has_no_gradient():
    y_true, y_pred = _case_regression(np.random.default_rng(0))
    for loss in (
        losses.MeanSquaredError(reduction="none"),
        losses.SparseCategoricalCrossentropy(reduction="none"),
    ):
        targets = np.array([0, 1, 2, 0]) if loss.sparse else y_true
        with pytest.raises(
            ValueError, match="reduction='none'.*Use 'sum_over_batch_size' to train"
        ):
            loss.backward(targets, np.abs(y_pred))


# ---------------------------------------------------------------------------------------------------
# 2. Values: NumPy formulas and Keras 3 numbers


@pytest.mark.parametrize("name", LOSSES.names())
def test_loss_values_match_numpy_formula(name):
    y_true, y_pred = _case(name, seed=6)
    if name not in NUMPY_FORMULAS:
        pytest.fail(f"Loss {name!r} has no entry in NUMPY_FORMULAS of tests/test_losses.py.")
    expected = NUMPY_FORMULAS[name](y_true, y_pred)
    per_sample = LOSSES.lookup(name)(reduction="none")(y_true, y_pred)
    np.testing.assert_allclose(per_sample, expected, rtol=1e-10, atol=1e-12)
    reduced = LOSSES.lookup(name)()(y_true, y_pred)
    assert isinstance(reduced, float)
    np.testing.assert_allclose(reduced, np.mean(expected), rtol=1e-10)


@pytest.mark.parametrize("case", sorted(KERAS_PER_SAMPLE))
def test_loss_functions_match_keras_3(case):
    function, y_true, y_pred, options, expected = KERAS_PER_SAMPLE[case]
    values = function(y_true, y_pred, **options)
    np.testing.assert_allclose(values, expected, rtol=KERAS_RTOL, atol=KERAS_ATOL)


def test_variants_match_numpy_formulas():
    rng = np.random.default_rng(7)
    t = _one_hot(rng.integers(0, 4, 6), 4)
    z = 2.0 * rng.standard_normal((6, 4))
    p = rng.uniform(0.05, 0.95, (6, 4))
    check = np.testing.assert_allclose
    check(losses.categorical_crossentropy(t, z, from_logits=True), np_cce_logits(t, z), rtol=1e-10)
    check(losses.categorical_crossentropy(t, p, label_smoothing=0.3), np_cce(t, p, 0.3), rtol=1e-10)
    check(
        losses.categorical_crossentropy(t, z, from_logits=True, label_smoothing=0.3),
        np_cce_logits(t, z, 0.3),
        rtol=1e-10,
    )
    check(
        losses.sparse_categorical_crossentropy(t.argmax(-1), z, from_logits=True),
        np_cce_logits(t, z),
        rtol=1e-10,
    )
    b = rng.integers(0, 2, (6, 4)).astype(np.float64)
    check(losses.binary_crossentropy(b, z, from_logits=True), np_bce_logits(b, z), rtol=1e-10)
    check(losses.binary_crossentropy(b, p, label_smoothing=0.2), np_bce(b, p, 0.2), rtol=1e-10)
    check(
        losses.binary_crossentropy(b, z, from_logits=True, label_smoothing=0.2),
        np_bce_logits(b, z, 0.2),
        rtol=1e-10,
    )
    check(losses.huber(t, z, delta=0.7), np_huber(t, z, 0.7), rtol=1e-10)


def test_mape_divides_by_abs_y_true_and_multiplies_by_100():
    # Row 1: |0 − 0.5| / max(0, 1e-7) is huge but finite; |2 − 1| / 2 and |−4 + 3| / |−4| use |y_true|.
    values = losses.mean_absolute_percentage_error(MAPE_T, MAPE_P)
    np.testing.assert_allclose(values, [166666704, 83.3333359], rtol=KERAS_RTOL)
    np.testing.assert_allclose(values[0], 100.0 * (0.5 / EPS + 0.5 + 0.25) / 3.0, rtol=1e-12)
    assert np.all(np.isfinite(values))
    assert losses.mean_absolute_percentage_error([[-2.0]], [[-1.0]])[0] == pytest.approx(50.0)


def test_kl_divergence_clips_both_arguments_to_epsilon_and_one():
    values = losses.kl_divergence(KLD_T, KLD_P)
    np.testing.assert_allclose(values, [0.149051204, 3.50966358], rtol=KERAS_RTOL)
    # A zero target adds eps·log(eps/p) (not 0); a zero prediction is read as eps.
    row_1 = 0.2 * np.log(0.2 / 0.3) + 0.8 * np.log(0.8 / 0.6) + EPS * np.log(EPS / 0.1)
    row_2 = 0.5 * np.log(0.5 / 0.5) + 0.25 * np.log(0.25 / 0.5) + 0.25 * np.log(0.25 / EPS)
    np.testing.assert_allclose(values, [row_1, row_2], rtol=1e-12)
    # Values above one are clipped to one on both sides: t = p = 1 gives 0.
    assert losses.kl_divergence([[1.5, 0.0]], [[2.0, 0.0]])[0] == pytest.approx(0.0, abs=1e-12)


def test_poisson_adds_epsilon_inside_the_log():
    values = losses.poisson(POIS_T, POIS_P)
    np.testing.assert_allclose(values, [0.871235132, 1.93166482], rtol=KERAS_RTOL)
    # p = 0 with t = 0.5: −0.5·log(0 + eps), finite.
    np.testing.assert_allclose(losses.poisson([[0.5]], [[0.0]]), [-0.5 * np.log(EPS)], rtol=1e-12)


def test_categorical_crossentropy_renormalizes_then_clips():
    values = losses.categorical_crossentropy(CCE_T, CCE_P)
    np.testing.assert_allclose(values, [0.693147182, 16.1180954], rtol=KERAS_RTOL)
    # Row 1 sums to 1.2: p(true) = 0.6 / 1.2 = 0.5 after renormalizing, not 0.6.
    assert values[0] == pytest.approx(np.log(2.0), rel=1e-12)
    # Row 2: the true class has p = 0, clipped to 1e-7: the cap of one sample's loss.
    assert values[1] == pytest.approx(-np.log(EPS), rel=1e-12)
    assert values[1] == pytest.approx(16.118, abs=1e-3)
    np.testing.assert_allclose(
        losses.categorical_crossentropy([[1.0, 0.0]], [[0.0, 1.0]]), [16.1180954], rtol=KERAS_RTOL
    )


def test_categorical_crossentropy_from_logits_is_not_clipped():
    z = np.array([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0]])
    values = losses.categorical_crossentropy(
        [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], z, from_logits=True
    )
    np.testing.assert_allclose(values, [20000.0, 0.0], rtol=KERAS_RTOL, atol=KERAS_ATOL)


def test_binary_crossentropy_clips_probabilities_and_is_stable_from_logits():
    values = losses.binary_crossentropy(BCE_T, BCE_P)
    np.testing.assert_allclose(values, [0.279776573, 0.237783358], rtol=KERAS_RTOL)
    z = np.array([[-1e4, 1e4], [-1e4, 1e4]])
    from_logits = losses.binary_crossentropy([[1.0, 0.0], [0.0, 1.0]], z, from_logits=True)
    np.testing.assert_allclose(from_logits, [10000.0, 0.0], rtol=KERAS_RTOL, atol=KERAS_ATOL)


def test_hinge_converts_01_labels_only_when_all_labels_are_0_or_1():
    converted = losses.hinge(HINGE_T01, HINGE_P)
    np.testing.assert_allclose(converted, losses.hinge(HINGE_TPM, HINGE_P), rtol=1e-12)
    np.testing.assert_allclose(converted, [1.0333333, 1.39999998], rtol=KERAS_RTOL)
    # One label 0.5 in the batch: no label is converted, so the zeros stay zeros.
    mixed = losses.hinge(HINGE_TMIX, HINGE_P)
    np.testing.assert_allclose(mixed, [1.01666665, 0.800000072], rtol=KERAS_RTOL)
    np.testing.assert_allclose(
        mixed, np.mean(np.maximum(1.0 - HINGE_TMIX * HINGE_P, 0.0), axis=-1), rtol=1e-12
    )
    np.testing.assert_allclose(
        losses.squared_hinge(HINGE_T01, HINGE_P), [1.6433332, 3.26666689], rtol=KERAS_RTOL
    )
    np.testing.assert_allclose(
        losses.squared_hinge(HINGE_TMIX, HINGE_P), [1.43416667, 0.719999969], rtol=KERAS_RTOL
    )


def test_cosine_similarity_loss_is_negative_and_zero_for_a_zero_vector():
    values = losses.cosine_similarity(COS_T, COS_P)
    np.testing.assert_allclose(
        values, [-0.999999881, 0.0, 0.0, 0.390360057], rtol=KERAS_RTOL, atol=KERAS_ATOL
    )
    assert values[0] == pytest.approx(-1.0)  # same direction: −1, the loss's sign
    assert values[2] == 0.0  # a zero y_true vector gives 0, not NaN
    assert losses.CosineSimilarity()([[1.0, 2.0]], [[2.0, 4.0]]) == pytest.approx(-1.0)


def test_cosine_similarity_along_axis_0_matches_keras():
    values = losses.CosineSimilarity(axis=0, reduction="none")(COS_T, COS_P)
    np.testing.assert_allclose(values, [-0.65902853, -0.534522533, -0.848375797], rtol=KERAS_RTOL)


def test_categorical_crossentropy_along_axis_1_matches_keras():
    values = losses.CategoricalCrossentropy(from_logits=True, axis=1, reduction="none")(
        CCE3_T, CCE3_Z
    )
    np.testing.assert_allclose(
        values, [[0.349012166, 1.68026972], [0.106414117, 0.326562643]], rtol=KERAS_RTOL
    )
    loss = losses.CategoricalCrossentropy(from_logits=True, axis=1)
    # One weight per value (Keras's result for weights [0.5, 2.0], which it broadcasts along the last axis).
    per_value = np.array([[0.5, 2.0], [0.5, 2.0]])
    assert loss(CCE3_T, CCE3_Z, sample_weight=per_value) == pytest.approx(
        1.06034446, rel=KERAS_RTOL
    )
    # neuralnet reads (N,) weights as one weight per sample.
    expected = np.sum(np.asarray(values) * W2[:, None]) / 4
    assert loss(CCE3_T, CCE3_Z, sample_weight=W2) == pytest.approx(expected, rel=1e-12)


def test_default_reduction_divides_by_element_count_even_with_sample_weights():
    loss = losses.MeanSquaredError()
    assert loss(REG_T, REG_P) == pytest.approx(0.770833373, rel=KERAS_RTOL)
    weighted = loss(REG_T, REG_P, sample_weight=W2)
    assert weighted == pytest.approx(0.901041687, rel=KERAS_RTOL)
    assert weighted == pytest.approx(
        np.sum(np_mse(REG_T, REG_P) * W2) / 2, rel=1e-12
    )  # / 2 samples, not / 2.5
    assert losses.MeanSquaredError(reduction="mean")(REG_T, REG_P, sample_weight=W2) == weighted


def test_mean_with_sample_weight_reduction_divides_by_the_sum_of_weights():
    loss = losses.MeanSquaredError(reduction="mean_with_sample_weight")
    assert loss(REG_T, REG_P, sample_weight=W2) == pytest.approx(0.720833361, rel=KERAS_RTOL)
    assert loss(REG_T, REG_P) == pytest.approx(0.770833373, rel=KERAS_RTOL)
    assert loss(REG_T, REG_P, sample_weight=[0.0, 0.0]) == 0.0  # divide_no_nan


def test_sum_and_none_reductions():
    assert losses.MeanSquaredError(reduction="sum")(REG_T, REG_P) == pytest.approx(
        1.54166675, rel=KERAS_RTOL
    )
    assert losses.MeanSquaredError(reduction="sum")(
        REG_T, REG_P, sample_weight=W2
    ) == pytest.approx(1.80208337, rel=KERAS_RTOL)
    for reduction in ("none", None):
        np.testing.assert_allclose(
            losses.MeanSquaredError(reduction=reduction)(REG_T, REG_P),
            [0.854166687, 0.6875],
            rtol=KERAS_RTOL,
        )
        np.testing.assert_allclose(
            losses.MeanSquaredError(reduction=reduction)(REG_T, REG_P, sample_weight=W2),
            [0.427083343, 1.375],
            rtol=KERAS_RTOL,
        )


def test_sample_weights_of_shape_n_by_1_act_like_shape_n():
    loss = losses.MeanSquaredError()
    column = W2[:, None]
    assert loss(REG_T, REG_P, sample_weight=column) == pytest.approx(0.901041687, rel=KERAS_RTOL)
    np.testing.assert_allclose(
        loss.backward(REG_T, REG_P, column), loss.backward(REG_T, REG_P, W2), rtol=1e-12
    )
    scce = losses.SparseCategoricalCrossentropy(from_logits=True)
    assert scce([[1], [2]], CCE_Z, sample_weight=column) == pytest.approx(
        0.193667158, rel=KERAS_RTOL
    )


def test_sample_weights_per_element_of_a_3d_loss():
    rng = np.random.default_rng(8)
    t, p = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    w = rng.uniform(0.0, 2.0, (2, 3))
    expected = np.sum(np_mse(t, p) * w) / 6
    assert losses.MeanSquaredError()(t, p, sample_weight=w) == pytest.approx(expected, rel=1e-12)
    check_gradients(losses.MeanSquaredError(), p, t, sample_weight=w)


def test_sample_weights_that_do_not_match_the_batch_are_an_error():
    with pytest.raises(
        ValueError, match=r"sample_weight of shape \(3,\).*per-sample losses of shape \(2,\)"
    ):
        losses.MeanSquaredError()(REG_T, REG_P, sample_weight=[1.0, 2.0, 3.0])


def test_empty_batch_gives_zero_loss():
    assert losses.MeanSquaredError()(np.zeros((0, 3)), np.zeros((0, 3))) == 0.0


def test_rank_1_targets_pair_with_column_predictions_instead_of_broadcasting():
    loss = losses.MeanSquaredError()
    assert loss([1.0, 2.0, 3.0], [[1.0], [2.0], [4.0]]) == pytest.approx(
        0.333333343, rel=KERAS_RTOL
    )
    assert loss([[1.0], [2.0], [3.0]], [1.0, 2.0, 4.0]) == pytest.approx(
        0.333333343, rel=KERAS_RTOL
    )
    naive = np.mean((np.array([1.0, 2.0, 3.0]) - np.array([[1.0], [2.0], [4.0]])) ** 2)
    assert naive == pytest.approx(2.3333333)  # what broadcasting would give
    grad = loss.backward(np.array([1.0, 2.0, 3.0]), np.array([[1.0], [2.0], [4.0]]))
    assert grad.shape == (3, 1)
    np.testing.assert_allclose(grad, [[0.0], [0.0], [2.0 / 3.0]], rtol=1e-12)
    bce = losses.BinaryCrossentropy()([0.0, 1.0, 1.0], [[0.2], [0.7], [0.9]])
    assert bce == pytest.approx(0.228393018, rel=KERAS_RTOL)


def test_weighted_crossentropies_match_keras():
    assert losses.BinaryCrossentropy()(BCE_T, BCE_P, sample_weight=W2) == pytest.approx(
        0.307727516, rel=KERAS_RTOL
    )
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    assert loss(CCE_T, CCE_Z, sample_weight=W2) == pytest.approx(0.427000523, rel=KERAS_RTOL)


def test_integer_predictions_are_converted_to_floats():
    assert losses.MeanSquaredError()([1, 2, 3], [[1], [2], [4]]) == pytest.approx(1.0 / 3.0)


# Keras names, aliases, and the lecture's Keras 2 names.


@pytest.mark.parametrize(
    "identifier, cls",
    [
        ("mse", losses.MeanSquaredError),
        ("MSE", losses.MeanSquaredError),
        ("mean_squared_error", losses.MeanSquaredError),
        ("MeanSquaredError", losses.MeanSquaredError),
        ("mae", losses.MeanAbsoluteError),
        ("MAE", losses.MeanAbsoluteError),
        ("mape", losses.MeanAbsolutePercentageError),
        ("MAPE", losses.MeanAbsolutePercentageError),
        ("msle", losses.MeanSquaredLogarithmicError),
        ("MSLE", losses.MeanSquaredLogarithmicError),
        ("kld", losses.KLDivergence),
        ("KLD", losses.KLDivergence),
        ("kl_divergence", losses.KLDivergence),
        ("kullback_leibler_divergence", losses.KLDivergence),
        ("bce", losses.BinaryCrossentropy),
        ("BCE", losses.BinaryCrossentropy),
        ("log_cosh", losses.LogCosh),
        ("logcosh", losses.LogCosh),
        ("cosine_similarity", losses.CosineSimilarity),
        ("cosine_proximity", losses.CosineSimilarity),
        ("categorical_crossentropy", losses.CategoricalCrossentropy),
        ("SparseCategoricalCrossentropy", losses.SparseCategoricalCrossentropy),
    ],
)
def test_get_accepts_keras_names_aliases_and_keras_2_names(identifier, cls):
    loss = losses.get(identifier)
    assert type(loss) is cls
    assert loss.name == LOSSES.name_of(cls)


def test_keras_2_function_names_are_the_keras_3_functions():
    assert losses.logcosh is losses.log_cosh
    assert losses.kullback_leibler_divergence is losses.kl_divergence
    assert losses.cosine_proximity is losses.cosine_similarity
    assert losses.mse is losses.MSE is losses.mean_squared_error
    assert losses.kld is losses.KLD is losses.kl_divergence


def test_get_accepts_instances_classes_functions_and_configs():
    huber = losses.Huber(delta=2.0)
    assert losses.get(huber) is huber
    assert type(losses.get(losses.Huber)) is losses.Huber
    assert type(losses.get(losses.mean_absolute_error)) is losses.MeanAbsoluteError
    assert type(losses.get(losses.logcosh)) is losses.LogCosh
    from_config = losses.get({"class_name": "huber", "config": {"delta": 2.0}})
    assert type(from_config) is losses.Huber and from_config.delta == 2.0


# ---------------------------------------------------------------------------------------------------
# 3. Fused output-layer gradients


def _unfused(loss, activation, y_true, z, sample_weight=None):
    y = activation.forward(z)
    return activation.backward(loss.backward(y_true, y, sample_weight), z, y)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("with_weights", [False, True])
def test_fused_softmax_crossentropy_gradient_equals_unfused_path(
    reduction, label_smoothing, with_weights
):
    rng = np.random.default_rng(9)
    z = 2.0 * rng.standard_normal((6, 4))
    y = _one_hot(rng.integers(0, 4, 6), 4)
    weights = rng.uniform(0.5, 2.0, 6) if with_weights else None
    loss = losses.CategoricalCrossentropy(label_smoothing=label_smoothing, reduction=reduction)
    softmax = activations.Softmax()
    fused = loss.fused_gradient(softmax, y, softmax.forward(z), weights)
    np.testing.assert_allclose(fused, _unfused(loss, softmax, y, z, weights), rtol=1e-9, atol=1e-14)


def test_fused_softmax_crossentropy_gradient_with_soft_targets_equals_unfused_path():
    rng = np.random.default_rng(10)
    z, y = rng.standard_normal((5, 3)), rng.dirichlet(np.ones(3), 5)
    loss, softmax = losses.CategoricalCrossentropy(), activations.Softmax()
    fused = loss.fused_gradient(softmax, y, softmax.forward(z))
    np.testing.assert_allclose(fused, _unfused(loss, softmax, y, z), rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(fused, (softmax.forward(z) - y) / 5, rtol=1e-12)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("with_weights", [False, True])
def test_fused_sigmoid_binary_crossentropy_gradient_equals_unfused_path(
    reduction, label_smoothing, with_weights
):
    rng = np.random.default_rng(11)
    z = 2.0 * rng.standard_normal((6, 2))
    y = rng.integers(0, 2, (6, 2)).astype(np.float64)
    weights = rng.uniform(0.5, 2.0, 6) if with_weights else None
    loss = losses.BinaryCrossentropy(label_smoothing=label_smoothing, reduction=reduction)
    sigmoid = activations.Sigmoid()
    fused = loss.fused_gradient(sigmoid, y, sigmoid.forward(z), weights)
    np.testing.assert_allclose(fused, _unfused(loss, sigmoid, y, z, weights), rtol=1e-9, atol=1e-14)


def test_fused_softmax_crossentropy_gradient_along_axis_1_equals_unfused_path():
    rng = np.random.default_rng(18)
    z = rng.standard_normal((2, 3, 4))  # classes on axis 1
    y = _one_hot(rng.integers(0, 3, (2, 4)), 3).transpose(0, 2, 1)
    weights = np.array([0.5, 2.0])
    loss, softmax = losses.CategoricalCrossentropy(axis=1), activations.Softmax(axis=1)
    fused = loss.fused_gradient(softmax, y, softmax.forward(z), weights)
    np.testing.assert_allclose(fused, _unfused(loss, softmax, y, z, weights), rtol=1e-9, atol=1e-14)


def test_fused_softmax_crossentropy_gradient_is_exact_for_huge_logits():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0], [0.0, -1e4, 1e4], [1e4, 0.0, -1e4]])
    y = _one_hot(np.array([1, 1, 2, 0]), 3)
    softmax = activations.Softmax()
    p = softmax.forward(z)
    np.testing.assert_array_equal(
        p, _one_hot(np.array([0, 1, 2, 0]), 3)
    )  # exp(−1e4) underflows to 0
    loss = losses.CategoricalCrossentropy()
    fused = loss.fused_gradient(softmax, y, p)
    assert np.all(np.isfinite(fused))
    np.testing.assert_array_equal(fused, (p - y) / 4)
    assert loss(y, p) == pytest.approx(
        -np.log(EPS) / 4
    )  # the displayed loss is capped at 16.118 per sample
    sparse = losses.SparseCategoricalCrossentropy().fused_gradient(
        softmax, np.array([1, 1, 2, 0]), p
    )
    np.testing.assert_array_equal(sparse, (p - y) / 4)


def test_fused_sigmoid_binary_crossentropy_gradient_is_exact_for_huge_logits():
    z = np.array([[1e4], [-1e4], [1e4], [-1e4]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    sigmoid = activations.Sigmoid()
    p = sigmoid.forward(z)
    np.testing.assert_array_equal(p, [[1.0], [0.0], [1.0], [0.0]])
    fused = losses.BinaryCrossentropy().fused_gradient(sigmoid, y, p)
    assert np.all(np.isfinite(fused))
    np.testing.assert_array_equal(fused, (p - y) / 4)
    # Two outputs per sample: the mean over the last axis divides by N·D.
    wide = losses.BinaryCrossentropy().fused_gradient(sigmoid, y.reshape(2, 2), p.reshape(2, 2))
    np.testing.assert_array_equal(wide, (p - y).reshape(2, 2) / 4)


def test_fused_binary_crossentropy_pairs_rank_1_targets_with_a_column_output():
    z = np.array([[0.3], [-1.2], [2.0]])
    sigmoid = activations.Sigmoid()
    p = sigmoid.forward(z)
    fused = losses.BinaryCrossentropy().fused_gradient(sigmoid, np.array([1.0, 0.0, 1.0]), p)
    assert fused.shape == (3, 1)
    np.testing.assert_allclose(fused, (p - [[1.0], [0.0], [1.0]]) / 3, rtol=1e-12)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
@pytest.mark.parametrize("with_weights", [False, True])
def test_fused_sparse_crossentropy_equals_fused_crossentropy_on_one_hot_labels(
    reduction, with_weights
):
    rng = np.random.default_rng(12)
    labels = rng.integers(0, 4, 7)
    p = activations.softmax(rng.standard_normal((7, 4)))
    weights = rng.uniform(0.5, 2.0, 7) if with_weights else None
    softmax = activations.Softmax()
    sparse = losses.SparseCategoricalCrossentropy(reduction=reduction).fused_gradient(
        softmax, labels, p, weights
    )
    dense = losses.CategoricalCrossentropy(reduction=reduction).fused_gradient(
        softmax, _one_hot(labels, 4), p, weights
    )
    np.testing.assert_allclose(sparse, dense, rtol=1e-12, atol=1e-15)
    column = losses.SparseCategoricalCrossentropy(reduction=reduction).fused_gradient(
        softmax, labels[:, None], p, weights
    )
    np.testing.assert_allclose(column, dense, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
def test_fused_sparse_crossentropy_with_ignore_class_equals_unfused_path(reduction):
    rng = np.random.default_rng(13)
    z = rng.standard_normal((5, 3))
    labels = np.array([0, 2, -1, 1, -1])
    loss = losses.SparseCategoricalCrossentropy(ignore_class=-1, reduction=reduction)
    softmax = activations.Softmax()
    fused = loss.fused_gradient(softmax, labels, softmax.forward(z), IGN_W)
    np.testing.assert_allclose(
        fused, _unfused(loss, softmax, labels, z, IGN_W), rtol=1e-9, atol=1e-14
    )
    np.testing.assert_array_equal(fused[labels == -1], 0.0)  # ignored samples get no gradient


def test_fused_gradient_is_none_without_a_closed_form():
    p = activations.softmax(np.array([[0.2, 0.5, -0.1]]))
    y = np.array([[0.0, 1.0, 0.0]])
    softmax, sigmoid = activations.Softmax(), activations.Sigmoid()
    assert losses.MeanSquaredError().fused_gradient(softmax, y, p) is None
    assert losses.CategoricalCrossentropy().fused_gradient(sigmoid, y, p) is None
    assert losses.CategoricalCrossentropy(from_logits=True).fused_gradient(softmax, y, p) is None
    assert (
        losses.SparseCategoricalCrossentropy(from_logits=True).fused_gradient(softmax, [1], p)
        is None
    )
    assert losses.BinaryCrossentropy().fused_gradient(softmax, y, p) is None
    assert losses.BinaryCrossentropy(from_logits=True).fused_gradient(sigmoid, y, p) is None
    # softmax over the batch axis is not the distribution the loss reads.
    assert (
        losses.CategoricalCrossentropy().fused_gradient(activations.Softmax(axis=0), y, p) is None
    )


def test_sparse_crossentropy_ignore_class_matches_keras():
    def scce(reduction, weights=None):
        loss = losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=-1, reduction=reduction
        )
        return loss(IGN_LABELS, IGN_Z, sample_weight=weights)

    # The mean is over the 3 valid samples (not the 5 in the batch).
    assert scce("sum_over_batch_size") == pytest.approx(0.538264394, rel=KERAS_RTOL)
    assert scce("sum_over_batch_size") == pytest.approx(np.sum(scce("none")) / 3, rel=1e-12)
    assert scce("sum_over_batch_size", IGN_W) == pytest.approx(0.810322165, rel=KERAS_RTOL)
    assert scce("sum") == pytest.approx(1.6147933, rel=KERAS_RTOL)
    assert scce("sum", IGN_W) == pytest.approx(2.43096662, rel=KERAS_RTOL)
    assert scce("mean_with_sample_weight") == pytest.approx(0.538264453, rel=KERAS_RTOL)
    assert scce("mean_with_sample_weight", IGN_W) == pytest.approx(0.694561899, rel=KERAS_RTOL)
    np.testing.assert_allclose(
        scce("none"), [0.241311327, 1.00194287, 0, 0.371539086, 0], rtol=KERAS_RTOL
    )
    np.testing.assert_allclose(
        scce("none", IGN_W), [0.241311327, 2.00388575, 0, 0.185769543, 0], rtol=KERAS_RTOL
    )
    column = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)(
        IGN_LABELS[:, None], IGN_Z
    )
    assert column == pytest.approx(0.538264394, rel=KERAS_RTOL)
    everything_ignored = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)(
        [-1, -1], [[1.0, 2.0], [0.0, 1.0]]
    )
    assert everything_ignored == 0.0


# ---------------------------------------------------------------------------------------------------
# 4. Errors


def test_unknown_loss_name_suggests_the_closest_and_lists_the_known_names():
    with pytest.raises(ValueError, match="Unknown loss 'categorical_crossentropi'") as excinfo:
        losses.get("categorical_crossentropi")
    message = str(excinfo.value)
    assert "Did you mean 'categorical_crossentropy'?" in message
    assert "Known losses: binary_crossentropy, categorical_crossentropy" in message
    for name in LOSSES.names():
        assert name in message


def test_unknown_loss_name_without_a_close_match_lists_the_known_names():
    with pytest.raises(ValueError, match="Unknown loss 'zzz'. Known losses: binary_crossentropy"):
        losses.get("zzz")


def test_deserialize_unknown_class_name_is_a_value_error():
    with pytest.raises(ValueError, match="Did you mean 'huber'"):
        losses.deserialize({"class_name": "hubber", "config": {}})
    with pytest.raises(ValueError, match="needs a 'class_name' key"):
        losses.deserialize({"config": {}})


def test_plain_function_as_loss_is_a_type_error_saying_to_subclass_loss():
    def my_loss(y_true, y_pred):
        return np.mean((y_true - y_pred) ** 2)

    with pytest.raises(
        TypeError, match=r"backpropagates by hand.*Subclass neuralnet\.losses\.Loss.*gradient"
    ):
        losses.get(my_loss)
    with pytest.raises(TypeError, match="Cannot interpret 3 as a loss"):
        losses.get(3)


def test_bad_loss_arguments_are_value_errors():
    with pytest.raises(
        ValueError, match="`reduction` must be one of.*received reduction='average'"
    ):
        losses.MeanSquaredError(reduction="average")
    with pytest.raises(
        ValueError, match=r"`label_smoothing` must be in \[0.0, 1.0\], received label_smoothing=1.5"
    ):
        losses.CategoricalCrossentropy(label_smoothing=1.5)
    with pytest.raises(ValueError, match="`delta` must be in"):
        losses.Huber(delta=0.0)
    with pytest.raises(ValueError, match="supports axis=-1 only, received axis=0"):
        losses.SparseCategoricalCrossentropy(axis=0)


def test_serialize_unregistered_loss_says_how_to_register_it():
    class Custom(losses.MeanSquaredError):
        pass

    with pytest.raises(ValueError, match=r"is not registered.*LOSSES\.register"):
        losses.serialize(Custom())


def test_check_targets_accepts_matching_shapes():
    losses.MeanSquaredError().check_targets(np.zeros((8, 3)), (None, 3), "fit")
    losses.MeanSquaredError().check_targets(np.zeros(8), (None, 1), "fit")  # (N,) against (N, 1)
    losses.BinaryCrossentropy().check_targets(np.zeros((8, 1)), (None, 1), "fit")
    losses.MeanSquaredError().check_targets(
        np.zeros((8, 5, 3)), (None, None, 3), "fit"
    )  # unknown length
    sparse = losses.SparseCategoricalCrossentropy()
    sparse.check_targets(np.array([0, 1, 2, 2]), (None, 3), "fit")
    sparse.check_targets(np.array([[0], [2]]), (None, 3), "fit")
    sparse.check_targets(np.array([0.0, 2.0]), (None, 3), "fit")  # whole-number floats are labels
    losses.SparseCategoricalCrossentropy(ignore_class=-1).check_targets(
        np.array([0, -1, 2]), (None, 3), "fit"
    )


def test_check_targets_rejects_targets_shaped_unlike_the_output():
    with pytest.raises(
        ValueError,
        match=r"fit: the loss 'mean_squared_error' needs targets shaped like the model's output \(None, 3\), "
        r"but received targets of shape \(None, 2\)\.",
    ):
        losses.MeanSquaredError().check_targets(np.zeros((8, 2)), (None, 3), "fit")


def test_check_targets_suggests_sparse_crossentropy_for_integer_labels():
    with pytest.raises(ValueError, match=r"targets of shape \(None,\)\. These look like integer class labels: use "
                       r"'sparse_categorical_crossentropy', or one-hot encode them"):  # fmt: skip
        losses.CategoricalCrossentropy().check_targets(np.array([0, 2, 1]), (None, 3), "fit")


def test_check_targets_suggests_categorical_crossentropy_for_one_hot_targets():
    with pytest.raises(ValueError, match=r"needs integer class labels of shape \(N,\) or \(N, 1\).*"
                       r"These look one-hot encoded: use 'categorical_crossentropy'"):  # fmt: skip
        losses.SparseCategoricalCrossentropy().check_targets(np.eye(3)[[0, 2]], (None, 3), "fit")


def test_check_targets_rejects_sparse_labels_out_of_range():
    sparse = losses.SparseCategoricalCrossentropy()
    with pytest.raises(ValueError, match=r"evaluate: class labels must be in \[0, 2\] for a model with 3 outputs, "
                       r"received labels from 0 to 3"):  # fmt: skip
        sparse.check_targets(np.array([0, 3, 1]), (None, 3), "evaluate")
    with pytest.raises(ValueError, match=r"received labels from -1 to 1"):
        sparse.check_targets(np.array([0, -1, 1]), (None, 3), "fit")


def test_check_targets_rejects_non_integer_sparse_labels():
    sparse = losses.SparseCategoricalCrossentropy()
    with pytest.raises(
        ValueError, match=r"fit: class labels must be whole numbers, received 1\.5 \(1 non-integer"
    ):
        sparse.check_targets(np.array([0.0, 1.5, 2.0]), (None, 3), "fit")
    with pytest.raises(ValueError, match="class labels must be integers, received dtype <U1"):
        sparse.check_targets(np.array(["a", "b"]), (None, 3), "fit")


def test_check_targets_rejects_non_numeric_targets():
    with pytest.raises(
        ValueError, match="targets for the loss 'mean_squared_error' must be numbers"
    ):
        losses.MeanSquaredError().check_targets(np.array([["a"], ["b"]]), (None, 1), "fit")


# ---------------------------------------------------------------------------------------------------
# 5. Configs

CONFIG_OPTIONS = {
    "huber": {"delta": 0.5},
    "categorical_crossentropy": {"from_logits": True, "label_smoothing": 0.1},
    "sparse_categorical_crossentropy": {"from_logits": True, "ignore_class": 2},
    "binary_crossentropy": {"from_logits": True, "label_smoothing": 0.2},
    "cosine_similarity": {"axis": -1},
}


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum"])
@pytest.mark.parametrize("name", LOSSES.names())
def test_loss_config_round_trip_gives_an_equal_behaving_loss(name, reduction):
    loss = LOSSES.lookup(name)(reduction=reduction, name="my_loss", **CONFIG_OPTIONS.get(name, {}))
    config = losses.serialize(loss)
    assert config["class_name"] == name
    restored = losses.deserialize(json.loads(json.dumps(config)))
    assert type(restored) is type(loss)
    assert restored.get_config() == loss.get_config()
    assert restored.name == "my_loss" and restored.reduction == reduction
    y_true, y_pred = _case(name, seed=14)
    weights = np.linspace(0.5, 1.5, y_pred.shape[0])
    assert restored(y_true, y_pred, weights) == loss(y_true, y_pred, weights)
    np.testing.assert_array_equal(
        restored.backward(y_true, y_pred, weights), loss.backward(y_true, y_pred, weights)
    )
    assert type(losses.get(config)) is type(loss)


# ---------------------------------------------------------------------------------------------------
# 6. The Loss contract: `call` and `gradient` on rank-aligned arrays, the base class does the rest


def _loss_classes():
    """One registered name per loss class."""
    first = {}
    for name in LOSSES.names():
        first.setdefault(LOSSES.lookup(name), name)
    return sorted(first.values())


def _aligned(loss, y_true, y_pred):
    """The arrays that `call` and `gradient` receive: labels of shape `y_pred.shape[:-1]` for a
    sparse loss, otherwise `y_true` with its rank fixed up to that of `y_pred`."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred, dtype=np.float64)
    if loss.sparse:
        return y_true.reshape(y_pred.shape[:-1]), y_pred
    return losses.squeeze_or_expand_to_same_rank(y_true.astype(np.float64), y_pred)


def _check_call_and_gradient(loss, y_true, y_pred, seed):
    t, p = _aligned(loss, y_true, y_pred)
    values = loss.call(t, p)
    axis = getattr(loss, "axis", -1) % p.ndim
    assert np.shape(values) == p.shape[:axis] + p.shape[axis + 1 :]
    grad = loss.gradient(t, p)
    assert grad.shape == p.shape
    # d Σ_i u_i·value_i / dp = u_i · d value_i / dp: the gradient of every sample's value at once.
    upstream = np.random.default_rng(seed).uniform(0.5, 2.0, np.shape(values))
    perturbed = p.copy()
    numeric = numerical_gradient(
        lambda: float(np.sum(loss.call(t, perturbed) * upstream)), perturbed
    )
    np.testing.assert_allclose(grad * np.expand_dims(upstream, axis), numeric, rtol=1e-6, atol=1e-8)
    none = type(loss)(**{**loss.get_config(), "reduction": "none"})
    np.testing.assert_allclose(none(y_true, y_pred), values, rtol=1e-12)


@pytest.mark.parametrize("name", _loss_classes())
def test_every_loss_call_and_gradient_work_on_aligned_arrays(name):
    y_true, y_pred = _case(name, seed=20)
    _check_call_and_gradient(LOSSES.lookup(name)(), y_true, y_pred, seed=21)
    t, p = _aligned(LOSSES.lookup(name)(), y_true, y_pred)
    np.testing.assert_allclose(
        LOSSES.lookup(name)().call(t, p), NUMPY_FORMULAS[name](y_true, y_pred), rtol=1e-10
    )


@pytest.mark.parametrize("variant", sorted(GRADIENT_VARIANTS))
def test_loss_options_call_and_gradient_work_on_aligned_arrays(variant):
    loss, make = GRADIENT_VARIANTS[variant]
    y_true, y_pred = make(np.random.default_rng(22))
    _check_call_and_gradient(loss, y_true, y_pred, seed=23)


def _np_reduce(values, weights, reduction):
    weighted = values * weights
    return {
        "sum_over_batch_size": np.sum(weighted) / values.size,
        "sum": np.sum(weighted),
        "mean_with_sample_weight": np.sum(weighted) / np.sum(weights),
    }[reduction]


REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", _loss_classes())
def test_every_reduction_with_sample_weights_matches_numpy(name, reduction):
    y_true, y_pred = _case(name, seed=24)
    weights = np.random.default_rng(25).uniform(0.5, 2.0, y_pred.shape[0])
    loss = LOSSES.lookup(name)(reduction=reduction)
    values = NUMPY_FORMULAS[name](y_true, y_pred)
    expected = _np_reduce(values, weights, reduction)
    assert loss(y_true, y_pred, weights) == pytest.approx(expected, rel=1e-10)
    value, grad = loss.forward_backward(y_true, y_pred, weights)
    assert value == pytest.approx(expected, rel=1e-10)
    # The gradient of the reduction: each sample's gradient times its weight, over the divisor.
    divisor = {"sum_over_batch_size": values.size, "sum": 1.0}.get(reduction, np.sum(weights))
    per_sample = loss.gradient(*_aligned(loss, y_true, y_pred))
    np.testing.assert_allclose(grad, per_sample * weights[:, None] / divisor, rtol=1e-12)
    none = LOSSES.lookup(name)(reduction="none")(y_true, y_pred, weights)
    np.testing.assert_allclose(none, values * weights, rtol=1e-10)


def _np_softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_sparse_crossentropy_gradient_with_ignore_class(reduction):
    labels, valid = IGN_LABELS, IGN_LABELS != -1
    loss = losses.SparseCategoricalCrossentropy(
        from_logits=True, ignore_class=-1, reduction=reduction
    )
    grad = loss.gradient(labels, IGN_Z)
    one_hot = _one_hot(np.where(valid, labels, 0), 3)
    # d/dz of −log softmax(z)[y] = softmax(z) − onehot(y); the ignored rows are zero.
    np.testing.assert_allclose(grad, (_np_softmax(IGN_Z) - one_hot) * valid[:, None], rtol=1e-12)
    assert np.all(grad[~valid] == 0.0)
    np.testing.assert_array_equal(loss.call(labels, IGN_Z)[~valid], 0.0)
    # Reduced: the ignored samples count neither in the sum nor in the mean's divisor.
    values = -np.sum(one_hot * np.log(_np_softmax(IGN_Z)), axis=-1)
    w = IGN_W * valid
    divisor = {"sum_over_batch_size": valid.sum(), "sum": 1.0}.get(reduction, np.sum(w))
    assert loss(labels, IGN_Z, IGN_W) == pytest.approx(np.sum(values * w) / divisor, rel=1e-12)
    np.testing.assert_allclose(
        loss.backward(labels, IGN_Z, IGN_W), grad * w[:, None] / divisor, rtol=1e-12
    )
    # From probabilities: the per-sample gradient is checked by finite differences.
    probabilities = losses.SparseCategoricalCrossentropy(ignore_class=-1)
    _check_call_and_gradient(probabilities, labels, _np_softmax(IGN_Z), seed=26)
    assert np.all(probabilities.gradient(labels, _np_softmax(IGN_Z))[~valid] == 0.0)


def test_sparse_crossentropy_gradient_takes_labels_as_a_column():
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    np.testing.assert_array_equal(
        loss.gradient(SCCE_LABELS[:, None], CCE_Z), loss.gradient(SCCE_LABELS, CCE_Z)
    )


def test_a_single_unbatched_sample_is_not_divided_by_its_weight():
    # Keras reduces a scalar loss to itself times its weight, whatever the reduction.
    t, p = np.array([0.0, 1.0]), np.array([0.3, 0.7])
    for reduction in REDUCTIONS:
        mse = losses.MeanSquaredError(reduction=reduction)
        expected = 2.0 * np.mean((t - p) ** 2)
        assert mse(t, p, 2.0) == pytest.approx(expected, rel=1e-12)
        assert mse.forward_backward(t, p, 2.0)[0] == pytest.approx(expected, rel=1e-12)
        scce = losses.SparseCategoricalCrossentropy(reduction=reduction)(1, p, 2.0)
        cce = losses.CategoricalCrossentropy(reduction=reduction)(t, p, 2.0)
        assert scce == pytest.approx(cce, rel=1e-12)
        assert scce == pytest.approx(-2.0 * np.log(0.7), rel=1e-12)


def test_a_subclass_that_rewrites_the_formula_is_not_given_the_parent_shortcuts():
    class HalfGradientMSE(losses.MeanSquaredError):
        def gradient(self, y_true, y_pred):
            return 0.5 * super().gradient(y_true, y_pred)

    class DoubleSCCE(losses.SparseCategoricalCrossentropy):
        def call(self, y_true, y_pred):
            return 2.0 * super().call(y_true, y_pred)

    class DoubleCCE(losses.CategoricalCrossentropy):
        def call(self, y_true, y_pred):
            return 2.0 * super().call(y_true, y_pred)

    class DoubleBCE(losses.BinaryCrossentropy):
        def call(self, y_true, y_pred):
            return 2.0 * super().call(y_true, y_pred)

    y_true, y_pred = _case_regression(np.random.default_rng(27))
    half = HalfGradientMSE()
    np.testing.assert_array_equal(
        half.forward_backward(y_true, y_pred)[1], half.backward(y_true, y_pred)
    )
    softmax, sigmoid = activations.Softmax(), activations.Sigmoid()
    p = activations.softmax(y_pred)
    assert DoubleSCCE().fused_value_and_gradient(softmax, [0, 1, 2, 0], p) is None
    assert DoubleCCE().fused_gradient(softmax, _one_hot([0, 1, 2, 0], 3), p) is None
    assert DoubleBCE().fused_gradient(sigmoid, np.ones((4, 3)), sigmoid.forward(y_pred)) is None

    class RenamedSCCE(losses.SparseCategoricalCrossentropy):  # same formula: same shortcut
        pass

    fused = RenamedSCCE().fused_value_and_gradient(softmax, [0, 1, 2, 0], p)
    expected = losses.SparseCategoricalCrossentropy().fused_value_and_gradient(
        softmax, [0, 1, 2, 0], p
    )
    assert fused[0] == expected[0]
    np.testing.assert_array_equal(fused[1], expected[1])
