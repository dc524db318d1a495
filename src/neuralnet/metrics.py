"""Stateful metrics: `update_state` over the batches of an epoch, `result` for the whole epoch.

A metric's result is exact over every sample it has seen (total / count, or confusion counts,
weighted by sample weight), never a mean of batch means; its accumulated arrays are `variables`, so
the states of several processes can be summed. Keras 3's names: `'accuracy'` (resolved from the
shapes by `compile`), `binary_accuracy`, `categorical_accuracy`, `sparse_categorical_accuracy`, the
top-k accuracies, every loss as a metric (`'mse'`, `'mae'`, ...), the confusion counts
(`'true_positives'`, ...), `'precision'`, `'recall'`, `'auc'`, `'f1_score'` and `'fbeta_score'`.
A plain function `f(y_true, y_pred) -> per-sample values` is wrapped into a mean metric.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from neuralnet import activations, backend
from neuralnet import losses as losses_module
from neuralnet._naming import to_snake_case
from neuralnet._registry import Registry
from neuralnet._validation import (
    check_non_negative_int,
    check_number,
    check_one_of,
    check_positive_int,
)
from neuralnet.losses import squeeze_or_expand_to_same_rank

METRICS = Registry("metric")


class Metric:
    """Base class: accumulate with `update_state`, read with `result`, clear with `reset_state`.

    `metric(y_true, y_pred)` updates the state and returns the result, as in Keras.
    """

    #: 'up' when larger values are better (accuracy, AUC), 'down' when smaller are (errors), else
    #: None; callbacks such as EarlyStopping read it in mode='auto'.
    direction: str | None = None

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        self.name = name or METRICS.name_of(type(self)) or to_snake_case(type(self).__name__)
        self.dtype = dtype

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        raise NotImplementedError

    def result(self) -> Any:
        raise NotImplementedError

    def reset_state(self) -> None:
        raise NotImplementedError

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """`update_state(*args, **kwargs)`, then `result()`: `(y_true, y_pred, sample_weight)`, or
        `(values, sample_weight)` for `Mean` and `Sum`."""
        self.update_state(*args, **kwargs)
        return self.result()

    @property
    def variables(self) -> dict[str, np.ndarray]:
        """The accumulated state, by name (for saving and for summing across processes)."""
        return {}

    def load_variables(self, state: dict[str, Any]) -> None:
        """Replace the accumulated state by `state` (same names and shapes as `variables`), e.g.
        with the sum of `variables` over every process. A metric that takes its shapes from the
        first data (`F1Score`, multi-label `AUC`) and has seen none takes them from `state`."""
        expected = self.variables
        if not expected and state:
            self._build_from_variables(state)
            expected = self.variables
        if set(state) != set(expected):
            raise ValueError(
                f"Metric {self.name!r} has variables {sorted(expected)}, received {sorted(state)}."
            )
        for key, current in expected.items():
            value = np.array(state[key], dtype=np.float64)
            if value.shape != np.shape(current):
                raise ValueError(
                    f"Metric {self.name!r}: variable {key!r} has shape {np.shape(current)}, "
                    f"received shape {value.shape}."
                )
            setattr(self, key, value if value.ndim else float(value))

    def _build_from_variables(self, state: dict[str, Any]) -> None:
        """Create the variables of a metric not built yet with the shapes of `state`'s."""

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


@METRICS.register("mean")
class Mean(Metric):
    """The weighted mean of every value given to `update_state(values, sample_weight)`."""

    def __init__(self, name: str = "mean", dtype: Any = None) -> None:
        super().__init__(name, dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):  # type: ignore[override]
        values = np.asarray(values, dtype=np.float64)
        if sample_weight is None:
            self.total += float(np.sum(values))
            self.count += float(values.size)
            return
        weights = np.asarray(sample_weight, dtype=np.float64)
        values, weights = squeeze_or_expand_to_same_rank(values, weights)
        if weights.ndim < values.ndim:
            weights = weights.reshape(weights.shape + (1,) * (values.ndim - weights.ndim))
        weights = np.broadcast_to(weights, values.shape)
        self.total += float(np.sum(values * weights))
        self.count += float(np.sum(weights))

    def update_mean(self, value: float, count: float) -> None:
        """Add `count` values whose mean is `value` (the model's loss tracker uses this)."""
        self.total += value * count
        self.count += count

    def result(self):
        return self.total / self.count if self.count else 0.0

    @property
    def variables(self):
        return {"total": np.asarray(self.total), "count": np.asarray(self.count)}


@METRICS.register("sum")
class Sum(Metric):
    """The weighted sum of every value seen."""

    def __init__(self, name: str = "sum", dtype: Any = None) -> None:
        super().__init__(name, dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):  # type: ignore[override]
        values = np.asarray(values, dtype=np.float64)
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=np.float64)
            values, weights = squeeze_or_expand_to_same_rank(values, weights)
            values = values * weights.reshape(weights.shape + (1,) * (values.ndim - weights.ndim))
        self.total += float(np.sum(values))

    def result(self):
        return self.total

    @property
    def variables(self):
        return {"total": np.asarray(self.total)}


class MeanMetricWrapper(Mean):
    """The weighted mean over samples of `fn(y_true, y_pred, **kwargs)`, a per-sample function.

    Args:
        fn: `fn(y_true, y_pred, **kwargs) -> array` with one value per sample.
        name: The metric's name (the history key); the function's name when `None`.
    """

    def __init__(
        self, fn: Callable[..., Any], name: str | None = None, dtype: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(name or getattr(fn, "__name__", "metric"), dtype)
        self.fn = fn
        self.fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):  # type: ignore[override]
        values = self.fn(y_true, y_pred, **self.fn_kwargs)
        super().update_state(values, sample_weight)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, **self.fn_kwargs}

    @classmethod
    def from_config(cls, config):
        if cls is MeanMetricWrapper:
            raise TypeError(
                "A MeanMetricWrapper around a user function cannot be rebuilt from its config; "
                "register a Metric subclass to save it."
            )
        return cls(**config)  # the accuracy family: the config is the constructor's arguments


# --------------------------------------------------------------------------------------------------
# Accuracy functions (per-sample values) and their metrics


def _as_arrays(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(y_true), np.asarray(y_pred)


def accuracy(y_true, y_pred):
    """1.0 where `y_true == y_pred` exactly (Keras's `Accuracy`), element by element."""
    t, p = _as_arrays(y_true, y_pred)
    t, p = squeeze_or_expand_to_same_rank(t, p)
    return (t == p).astype(np.float64)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where `y_true == (y_pred > threshold)`, element by element (strict: 0.5 is class 0).

    As in Keras, the values keep the shape of `y_pred`; the metric averages them, so weights of
    shape (N,) or (N, D) both work.
    """
    t, p = _as_arrays(y_true, y_pred)
    t, p = squeeze_or_expand_to_same_rank(t, p)
    return (t == (p > threshold)).astype(np.float64)


def categorical_accuracy(y_true, y_pred):
    """1.0 where `argmax(y_true) == argmax(y_pred)` (ties go to the first index)."""
    t, p = _as_arrays(y_true, y_pred)
    return (np.argmax(t, axis=-1) == np.argmax(p, axis=-1)).astype(np.float64)


def _sparse_labels(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    if t.ndim == p.ndim and t.shape[-1] == 1:
        t = t[..., 0]
    return t


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label equals `argmax(y_pred)`; labels of shape (N,) or (N, 1)."""
    t, p = _as_arrays(y_true, y_pred)
    return (_sparse_labels(t, p) == np.argmax(p, axis=-1)).astype(np.float64)


def _in_top_k(target_scores: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    # Keras's in_top_k: the target is a hit when fewer than k scores are strictly above it, so ties
    # at the k-th value count as hits and k >= number of classes always hits. A NaN target score
    # counts as -inf, as in Keras.
    target_scores = np.where(np.isnan(target_scores), -np.inf, target_scores)
    return (np.sum(p > target_scores[..., None], axis=-1) < k).astype(np.float64)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where `argmax(y_true)` is among the k highest scores of `y_pred` (ties count as hits)."""
    t, p = _as_arrays(y_true, y_pred)
    target = np.argmax(t, axis=-1)
    return _in_top_k(np.take_along_axis(p, target[..., None], -1)[..., 0], p, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the k highest scores of `y_pred` (ties count as hits).

    With `from_sorted_ids=True`, `y_pred` holds class ids sorted by score (best first).
    """
    t, p = _as_arrays(y_true, y_pred)
    t = _sparse_labels(t, p).astype(np.intp)
    if from_sorted_ids:
        return np.any(p[..., :k] == t[..., None], axis=-1).astype(np.float64)
    return _in_top_k(np.take_along_axis(p, t[..., None], -1)[..., 0], p, k)


@METRICS.register("Accuracy")
class Accuracy(MeanMetricWrapper):
    """How often `y_pred` equals `y_true` exactly (for already-decided labels)."""

    def __init__(self, name: str = "accuracy", dtype: Any = None) -> None:
        super().__init__(accuracy, name, dtype)


@METRICS.register("binary_accuracy")
class BinaryAccuracy(MeanMetricWrapper):
    """How often `y_pred > threshold` matches binary labels."""

    def __init__(
        self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5
    ) -> None:
        super().__init__(
            binary_accuracy, name, dtype, threshold=check_number(threshold, "threshold", name)
        )


@METRICS.register("categorical_accuracy")
class CategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of `y_pred` matches the arg-max of one-hot labels."""

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(categorical_accuracy, name, dtype)


@METRICS.register("sparse_categorical_accuracy")
class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of `y_pred` matches integer labels."""

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(sparse_categorical_accuracy, name, dtype)


@METRICS.register("top_k_categorical_accuracy")
class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is among the `k` highest predictions."""

    def __init__(
        self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: Any = None
    ) -> None:
        super().__init__(
            top_k_categorical_accuracy, name, dtype, k=check_positive_int(k, "k", name)
        )


@METRICS.register("sparse_top_k_categorical_accuracy")
class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer target is among the `k` highest predictions."""

    def __init__(
        self,
        k: int = 5,
        name: str = "sparse_top_k_categorical_accuracy",
        dtype: Any = None,
        from_sorted_ids: bool = False,
    ) -> None:
        super().__init__(
            sparse_top_k_categorical_accuracy,
            name,
            dtype,
            k=check_positive_int(k, "k", name),
            from_sorted_ids=bool(from_sorted_ids),
        )


# --------------------------------------------------------------------------------------------------
# Confusion-matrix metrics: weighted counts of tp, fp, tn, fn at thresholds, as Keras's
# `metrics_utils.update_confusion_matrix_variables`.

NEG_INF = -1e10  # Keras's threshold (and filler) for `top_k` without thresholds


def _divide_no_nan(a: Any, b: Any) -> np.ndarray:
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    return np.divide(a, b, out=np.zeros(a.shape), where=b != 0)


def _parse_thresholds(thresholds: Any, default: float, where: Any) -> list[float]:
    if thresholds is None:
        return [default]
    values = list(np.ravel(thresholds)) if np.ndim(thresholds) else [thresholds]
    invalid = [t for t in values if t is None or not 0 <= t <= 1]
    if invalid:
        raise ValueError(f"{where}: threshold values must be in [0, 1], received {invalid}.")
    return [float(t) for t in values]


def _evenly_spaced(thresholds: Any) -> bool:
    """Whether the thresholds are `0, 1/(n-1), ..., 1` (Keras then counts by bucket, see below)."""
    n = len(thresholds)
    even = np.arange(n, dtype=np.float32) / (n - 1) if n >= 3 else None
    return n >= 3 and bool(np.allclose(thresholds, even, atol=backend.epsilon()))


def _filter_top_k(x: np.ndarray, k: int) -> np.ndarray:
    """Keep the k largest values of the last axis (ties to the lower index), the rest NEG_INF."""
    top = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    mask = np.zeros_like(x)
    np.put_along_axis(mask, top, 1, axis=-1)
    return x * mask + NEG_INF * (1 - mask)


def confusion_counts(
    y_true: Any,
    y_pred: Any,
    thresholds: Any,
    sample_weight: Any = None,
    *,
    top_k: int | None = None,
    class_id: int | None = None,
    multi_label: bool = False,
    label_weights: Any = None,
    evenly_spaced: bool = False,
    dtype: Any = None,
) -> dict[str, np.ndarray]:
    """Weighted `tp`, `fp`, `tn`, `fn` at each threshold: a prediction is positive at `t` when
    `y_pred > t`, a label when `y_true != 0`.

    Returns arrays of shape (thresholds,), or (thresholds, labels) with `multi_label` (else every
    entry of `y_pred` is one prediction). `y_pred` and the thresholds are compared in `dtype`
    (floatx). With `evenly_spaced` thresholds `0, ..., 1` (or `-ε, ..., 1+ε`), Keras clips `y_pred`
    to [0, 1] and counts by bucket `ceil(y_pred·(n−1))`, which this reproduces.
    """
    dtype = np.dtype(dtype or backend.floatx())
    p = np.asarray(y_pred).astype(dtype)
    t = np.asarray(y_true).astype(dtype)
    p, t = squeeze_or_expand_to_same_rank(p, t)
    weights = np.ones(p.shape)
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64)[..., None]
        _, w = squeeze_or_expand_to_same_rank(t, w, expand_rank_1=False)
        weights = weights * w
    if top_k is not None:
        p = _filter_top_k(p, top_k)
    if class_id is not None:
        if p.ndim < 2:
            raise ValueError(
                "When class_id is given, y_pred must have shape (num_samples, num_classes), "
                f"received shape {p.shape}."
            )
        t, p, weights = t[..., class_id, None], p[..., class_id, None], weights[..., class_id, None]
    if label_weights is not None:
        weights = weights * np.asarray(label_weights, dtype=np.float64)
    thresholds = np.asarray(thresholds, dtype=dtype)
    n = len(thresholds)
    nan = np.isnan(p)  # NaN > t is False: never positive
    p = np.where(nan, 0, p)
    # level = how many thresholds a prediction exceeds: positive at threshold i iff i < level.
    if evenly_spaced:
        level = np.ceil(np.clip(p, 0, 1) * dtype.type(n - 1)).astype(np.intp)
        if thresholds[0] < 0:  # -ε: every prediction in [0, 1] exceeds it
            level = np.maximum(level, 1)
        order = np.arange(n)
    else:
        order = np.argsort(thresholds, kind="stable")
        level = np.searchsorted(thresholds[order], p, side="left")
    level = np.where(nan, 0, level)
    if multi_label:
        if p.ndim != 2:
            raise ValueError(f"multi_label needs y_pred of rank 2, received shape {p.shape}.")
        labels = p.shape[1]
        level = level + (n + 1) * np.arange(labels)
    else:
        labels = 1
    positive = t != 0
    weights = np.broadcast_to(weights, p.shape)
    counts = {}
    for key, rest, mask in (("tp", "fn", positive), ("fp", "tn", ~positive)):
        per_level = np.bincount(
            level.ravel(), weights=(weights * mask).ravel(), minlength=(n + 1) * labels
        ).reshape(labels, n + 1)
        # At threshold i: the weights of levels > i were predicted positive, of levels <= i not.
        exceeded = np.empty((labels, n))
        missed = np.empty((labels, n))
        exceeded[:, order] = np.cumsum(per_level[:, ::-1], axis=1)[:, ::-1][:, 1:]
        missed[:, order] = np.cumsum(per_level, axis=1)[:, :n]
        counts[key], counts[rest] = (
            (exceeded.T, missed.T) if multi_label else (exceeded[0], missed[0])
        )
    return counts


class _ThresholdMetric(Metric):
    """Base of the metrics kept as weighted confusion counts at fixed thresholds."""

    _counts: tuple[tuple[str, str], ...] = ()  # (variable name, "tp", "fp", "tn" or "fn")

    def __init__(
        self,
        thresholds: float | list[float] | None = None,
        top_k: int | None = None,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(name, dtype)
        self.init_thresholds = thresholds
        self.top_k = None if top_k is None else check_positive_int(top_k, "top_k", self)
        self.class_id = (
            None if class_id is None else check_non_negative_int(class_id, "class_id", self)
        )
        self.thresholds = _parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF, self)
        self._evenly_spaced = _evenly_spaced(self.thresholds)
        self.reset_state()

    def reset_state(self):
        for key, _ in self._counts:
            setattr(self, key, np.zeros(len(self.thresholds)))

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = confusion_counts(
            y_true,
            y_pred,
            self.thresholds,
            sample_weight,
            top_k=self.top_k,
            class_id=self.class_id,
            evenly_spaced=self._evenly_spaced,
            dtype=self.dtype,
        )
        for key, condition in self._counts:
            setattr(self, key, getattr(self, key) + counts[condition])

    def _per_threshold(self, values: np.ndarray) -> float | np.ndarray:
        return float(values[0]) if len(self.thresholds) == 1 else values

    @property
    def variables(self):
        return {key: getattr(self, key) for key, _ in self._counts}

    def get_config(self):
        config = {
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }
        return {**super().get_config(), **config}


class _ConfusionCount(_ThresholdMetric):
    """One weighted count per threshold (a float for a single threshold, the default 0.5)."""

    def __init__(
        self,
        thresholds: float | list[float] | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(thresholds, name=name, dtype=dtype)

    def result(self):
        return self._per_threshold(self.accumulator.copy())

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "thresholds": self.init_thresholds}


@METRICS.register("true_positives")
class TruePositives(_ConfusionCount):
    """`Σ w` over the entries with `y_true ≠ 0` and `y_pred > threshold`."""

    _counts = (("accumulator", "tp"),)


@METRICS.register("false_positives")
class FalsePositives(_ConfusionCount):
    """`Σ w` over the entries with `y_true = 0` and `y_pred > threshold`."""

    _counts = (("accumulator", "fp"),)


@METRICS.register("true_negatives")
class TrueNegatives(_ConfusionCount):
    """`Σ w` over the entries with `y_true = 0` and `y_pred <= threshold`."""

    _counts = (("accumulator", "tn"),)


@METRICS.register("false_negatives")
class FalseNegatives(_ConfusionCount):
    """`Σ w` over the entries with `y_true ≠ 0` and `y_pred <= threshold`."""

    _counts = (("accumulator", "fn"),)


@METRICS.register("precision")
class Precision(_ThresholdMetric):
    """`precision = tp / (tp + fp)` over every entry seen (0 while nothing is predicted positive).

    An entry is predicted positive when `y_pred > threshold` (use 0 for logits); inputs of any shape
    are flattened, each entry one prediction.

    Args:
        thresholds: A float or a list of floats in [0, 1], one result per threshold; `None` means
            0.5, or -1e10 with `top_k`.
        top_k: Only the k highest scores of each row can be positive (ties to the lower index).
        class_id: Only column `class_id` of (N, num_classes) inputs counts.
    """

    _counts = (("true_positives", "tp"), ("false_positives", "fp"))

    def result(self):
        tp = self.true_positives
        return self._per_threshold(_divide_no_nan(tp, tp + self.false_positives))


@METRICS.register("recall")
class Recall(_ThresholdMetric):
    """`recall = tp / (tp + fn)` over every entry seen (0 while no label is positive).

    Same arguments as `Precision`.
    """

    _counts = (("true_positives", "tp"), ("false_negatives", "fn"))

    def result(self):
        tp = self.true_positives
        return self._per_threshold(_divide_no_nan(tp, tp + self.false_negatives))


@METRICS.register("auc")
class AUC(Metric):
    """Keras's approximate area under the ROC or PR curve, from confusion counts at thresholds.

    The thresholds are `-ε, 1/(n-1), ..., (n-2)/(n-1), 1+ε` for `n = num_thresholds` (or `-ε`,
    `sorted(thresholds)`, `1+ε`). With `tpr = recall = tp/(tp+fn)`, `fpr = fp/(fp+tn)`,
    `precision = tp/(tp+fp)` at each threshold i (0 where undefined):

    - `'ROC'`: `Σ_i (fpr_i - fpr_{i+1})·h_i` where `h_i` is `(tpr_i + tpr_{i+1})/2` for
      `'interpolation'`, their min for `'minoring'`, their max for `'majoring'`;
    - `'PR'` with `'interpolation'` (Davis & Goadrich, 2006): tp and `P = tp + fp` vary linearly
      between thresholds, `Σ_i s_i·(Δtp_i + (tp_{i+1} - s_i·P_{i+1})·log(P_i/P_{i+1})) /
      (tp_{i+1} + fn_{i+1})` with slope `s_i = Δtp_i / ΔP_i`; otherwise as ROC with x = recall and
      y = precision; `'PRGAIN'`: precision gain against recall gain.

    Args:
        num_thresholds: The number of thresholds (> 1), when `thresholds` is `None`.
        curve: `'ROC'`, `'PR'` or `'PRGAIN'`.
        summation_method: `'interpolation'`, `'minoring'` or `'majoring'`.
        thresholds: Thresholds in [0, 1] to use instead of evenly spaced ones.
        multi_label: One AUC per column of (N, labels) inputs, then their mean; when False every
            entry is one prediction.
        num_labels: The number of labels with `multi_label`; the first batch tells when `None`.
        label_weights: With `multi_label`, the weights of the label AUCs in the mean; otherwise
            the weight of each column's entries in the counts.
        from_logits: Apply a sigmoid to `y_pred` first.
    """

    _counts = (
        ("true_positives", "tp"),
        ("false_positives", "fp"),
        ("true_negatives", "tn"),
        ("false_negatives", "fn"),
    )

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str | None = None,
        dtype: Any = None,
        thresholds: list[float] | None = None,
        multi_label: bool = False,
        num_labels: int | None = None,
        label_weights: Any = None,
        from_logits: bool = False,
    ) -> None:
        super().__init__(name, dtype)
        curves = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
        self.curve = curves.get(str(curve).lower(), curve)
        check_one_of(self.curve, "curve", tuple(curves.values()), self)
        methods = ("interpolation", "minoring", "majoring")
        self.summation_method = check_one_of(
            str(summation_method).lower(), "summation_method", methods, self
        )
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(float(t) for t in np.ravel(thresholds))
            self.num_thresholds = len(inner) + 2
            self._evenly_spaced = _evenly_spaced([0.0, *inner, 1.0])
        else:
            self.num_thresholds = check_positive_int(num_thresholds, "num_thresholds", self)
            if num_thresholds < 2:
                raise ValueError(f"AUC: `num_thresholds` must be > 1, received {num_thresholds}.")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly_spaced = True
        eps = backend.epsilon()
        self._thresholds = np.array([0.0 - eps, *inner, 1.0 + eps])
        self.multi_label = bool(multi_label)
        if num_labels is not None and not self.multi_label:
            raise ValueError("AUC: `num_labels` is needed only when `multi_label` is True.")
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else np.asarray(label_weights, float)
        self.from_logits = bool(from_logits)
        self._shape = (
            (self.num_thresholds, num_labels) if self.multi_label else (self.num_thresholds,)
        )
        self.reset_state()

    @property
    def thresholds(self) -> list[float]:
        """The thresholds, end points `-ε` and `1+ε` included."""
        return list(self._thresholds)

    def reset_state(self):
        built = None not in self._shape
        for key, _ in self._counts:
            setattr(self, key, np.zeros(self._shape) if built else None)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred).astype(self.dtype or backend.floatx())
        if self.true_positives is None:  # multi_label: the number of labels comes from the data
            if y_pred.ndim != 2:
                raise ValueError(
                    f"AUC: multi_label needs y_pred of rank 2, received {y_pred.shape}."
                )
            self._shape = (self.num_thresholds, y_pred.shape[1])
            self.reset_state()
        if self.from_logits:
            y_pred = activations.sigmoid(y_pred)
        counts = confusion_counts(
            y_true,
            y_pred,
            self._thresholds,
            sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
            evenly_spaced=self._evenly_spaced,
            dtype=self.dtype,
        )
        for key, condition in self._counts:
            setattr(self, key, getattr(self, key) + counts[condition])

    def _interpolated_pr_auc(self) -> np.ndarray:
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        slope = _divide_no_nan(dtp, np.maximum(p[:-1] - p[1:], 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        increments = slope * (dtp + intercept * np.log(ratio))
        return np.sum(_divide_no_nan(increments, np.maximum(tp[1:] + fn[1:], 0)), axis=0)

    def _riemann_auc(self) -> np.ndarray:
        tp, fp, tn, fn = (getattr(self, key) for key, _ in self._counts)
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, _divide_no_nan(tp, tp + fp)
        else:  # PRGAIN: gains are 1 − (P/N)·fn/tp and 1 − (P/N)·fp/tp, fixed up where tp = 0
            scale = _divide_no_nan(tp + fn, tn + fp)
            x = np.maximum(np.where(tp == 0, 0.0, 1.0 - scale * _divide_no_nan(fn, tp)), 0.0)
            y = np.where(tp == 0, 1.0, 1.0 - scale * _divide_no_nan(fp, tp))
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return np.sum((x[:-1] - x[1:]) * heights, axis=0)

    def result(self):
        if self.true_positives is None:
            return 0.0
        if self.curve == "PR" and self.summation_method == "interpolation":
            area = self._interpolated_pr_auc()
        else:
            area = self._riemann_auc()
        if not self.multi_label:
            return float(area)
        if self.label_weights is None:
            return float(np.mean(area))
        weights = self.label_weights
        return float(_divide_no_nan(np.sum(area * weights), np.sum(weights)))

    @property
    def variables(self):
        if self.true_positives is None:
            return {}
        return {key: getattr(self, key) for key, _ in self._counts}

    def _build_from_variables(self, state):
        if np.ndim(state.get("true_positives")) == 2:  # multi_label: (thresholds, labels)
            self._shape = np.shape(state["true_positives"])
            self.reset_state()

    def get_config(self):
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
            "from_logits": self.from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = [float(t) for t in self._thresholds[1:-1]]
        return config


@METRICS.register("fbeta_score", "f_beta_score")
class FBetaScore(Metric):
    """`F_β = (1 + β²)·precision·recall / (β²·precision + recall)` of each class of (N, C) inputs.

    As Keras: `precision = tp/(tp + fp + ε)`, `recall = tp/(tp + fn + ε)` and the ratio's
    denominator gets `+ ε` too, so scores are within about 1e-7 of the exact ones. An entry is
    predicted positive when `y_pred > threshold`, or with `threshold=None` when it equals its row's
    maximum (every tied maximum; a row of zeros predicts nothing). Labels count with their value.

    Args:
        average: `None` (one score per class), `'micro'` (the score of the counts summed over the
            classes), `'macro'` (the mean of the class scores) or `'weighted'` (their mean weighted
            by each class's weighted number of true labels).
        beta: The weight of recall, > 0.
        threshold: In (0, 1]; `None` means the arg-max of each row.
    """

    _counts = ("true_positives", "false_positives", "false_negatives", "intermediate_weights")

    def __init__(
        self,
        average: str | None = None,
        beta: float = 1.0,
        threshold: float | None = None,
        name: str = "fbeta_score",
        dtype: Any = None,
    ) -> None:
        super().__init__(name, dtype)
        averages = (None, "micro", "macro", "weighted")
        self.average = check_one_of(average, "average", averages, self)
        self.beta = check_number(beta, "beta", self, low=0.0, low_inclusive=False)
        if threshold is not None:
            threshold = check_number(
                threshold, "threshold", self, low=0.0, high=1.0, low_inclusive=False
            )
        self.threshold = threshold
        self._shape: tuple[int, ...] | None = None  # () for 'micro', (C,) otherwise, once built
        self.reset_state()

    def reset_state(self):
        for key in self._counts:
            setattr(self, key, None if self._shape is None else np.zeros(self._shape))

    def update_state(self, y_true, y_pred, sample_weight=None):
        t = np.asarray(y_true, dtype=np.float64)
        p = np.asarray(y_pred).astype(self.dtype or backend.floatx())
        if p.ndim != 2 or t.ndim != 2:
            raise ValueError(
                f"{type(self).__name__} expects inputs of shape (batch_size, output_dim), received "
                f"y_true.shape={t.shape} and y_pred.shape={p.shape}."
            )
        if self._shape is None:
            self._shape = () if self.average == "micro" else (p.shape[-1],)
            self.reset_state()
        if self.threshold is None:
            predicted = (p >= np.max(p, axis=-1, keepdims=True)) & (np.abs(p) > 1e-9)
        else:
            predicted = p > self.threshold
        predicted = predicted.astype(np.float64)
        w = np.ones((1, 1)) if sample_weight is None else np.asarray(sample_weight, np.float64)
        w = w[:, None] if w.ndim == 1 else w
        axis = None if self.average == "micro" else 0
        for key, values in (
            ("true_positives", predicted * t),
            ("false_positives", predicted * (1 - t)),
            ("false_negatives", (1 - predicted) * t),
            ("intermediate_weights", t),
        ):
            setattr(self, key, getattr(self, key) + np.sum(values * w, axis=axis))

    def result(self):
        if self._shape is None:
            return 0.0
        eps = backend.epsilon()
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + eps)
        recall = tp / (tp + self.false_negatives + eps)
        b2 = self.beta**2
        score = (1 + b2) * precision * recall / (b2 * precision + recall + eps)
        if self.average == "weighted":
            support = self.intermediate_weights
            return float(np.sum(score * support / (np.sum(support) + eps)))
        if self.average is not None:
            return float(np.mean(score))
        return score

    @property
    def variables(self):
        if self._shape is None:
            return {}
        return {key: np.asarray(getattr(self, key)) for key in self._counts}

    def _build_from_variables(self, state):
        if "true_positives" in state:
            self._shape = np.shape(state["true_positives"])
            self.reset_state()

    def get_config(self):
        config = {"average": self.average, "beta": self.beta, "threshold": self.threshold}
        return {**super().get_config(), **config}


@METRICS.register("f1_score")
class F1Score(FBetaScore):
    """`F1 = 2·precision·recall / (precision + recall)`: `FBetaScore` with `beta=1`."""

    def __init__(
        self,
        average: str | None = None,
        threshold: float | None = None,
        name: str = "f1_score",
        dtype: Any = None,
    ) -> None:
        super().__init__(average, 1.0, threshold, name, dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config


# --------------------------------------------------------------------------------------------------
# Losses as metrics


def _loss_metric(
    loss_class: type[losses_module.Loss], metric_name: str, doc: str, class_name: str | None = None
) -> type[MeanMetricWrapper]:
    def __init__(self, name: str = metric_name, dtype: Any = None, **kwargs: Any) -> None:
        loss = loss_class(reduction="none", **kwargs)
        MeanMetricWrapper.__init__(self, loss, name, dtype)
        self.loss_kwargs = kwargs

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, **self.loss_kwargs}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    class_name = class_name or loss_class.__name__
    cls = type(class_name, (MeanMetricWrapper,), {
        "__init__": __init__, "get_config": get_config, "from_config": from_config, "__doc__": doc,
    })  # fmt: skip
    cls.__module__ = __name__
    cls.__qualname__ = class_name
    return cls


MeanSquaredError = _loss_metric(
    losses_module.MeanSquaredError, "mean_squared_error", "Mean of the per-sample MSE."
)
MeanAbsoluteError = _loss_metric(
    losses_module.MeanAbsoluteError, "mean_absolute_error", "Mean of the per-sample MAE."
)
MeanAbsolutePercentageError = _loss_metric(
    losses_module.MeanAbsolutePercentageError,
    "mean_absolute_percentage_error",
    "Mean of the per-sample MAPE.",
)
MeanSquaredLogarithmicError = _loss_metric(
    losses_module.MeanSquaredLogarithmicError,
    "mean_squared_logarithmic_error",
    "Mean of the per-sample MSLE.",
)
LogCoshError = _loss_metric(
    losses_module.LogCosh, "logcosh", "Mean of the per-sample log-cosh error.", "LogCoshError"
)
Hinge = _loss_metric(losses_module.Hinge, "hinge", "Mean of the per-sample hinge loss.")
SquaredHinge = _loss_metric(
    losses_module.SquaredHinge, "squared_hinge", "Mean of the per-sample squared hinge loss."
)
CategoricalHinge = _loss_metric(
    losses_module.CategoricalHinge,
    "categorical_hinge",
    "Mean of the per-sample categorical hinge loss.",
)
CategoricalCrossentropy = _loss_metric(
    losses_module.CategoricalCrossentropy,
    "categorical_crossentropy",
    "Mean categorical cross-entropy.",
)
SparseCategoricalCrossentropy = _loss_metric(
    losses_module.SparseCategoricalCrossentropy,
    "sparse_categorical_crossentropy",
    "Mean sparse categorical cross-entropy.",
)
BinaryCrossentropy = _loss_metric(
    losses_module.BinaryCrossentropy, "binary_crossentropy", "Mean binary cross-entropy."
)
KLDivergence = _loss_metric(losses_module.KLDivergence, "kl_divergence", "Mean KL divergence.")
Poisson = _loss_metric(losses_module.Poisson, "poisson", "Mean Poisson loss.")
Huber = _loss_metric(losses_module.Huber, "huber", "Mean Huber loss.")


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity `Σ l2n(y_true)·l2n(y_pred)`: +1 for the same direction (the loss is −1)."""

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None, axis: int = -1) -> None:
        self.axis = int(axis)
        loss = losses_module.CosineSimilarity(axis=self.axis, reduction="none")
        super().__init__(lambda t, p: -loss(t, p), name, dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class RootMeanSquaredError(Mean):
    """`sqrt(mean((y_true − y_pred)²))` over every entry seen (a weighted `Mean` of the squares)."""

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):  # type: ignore[override]
        t, p = _as_arrays(y_true, y_pred)
        t, p = squeeze_or_expand_to_same_rank(t, p)
        super().update_state(np.square(t - p), sample_weight)

    def result(self):
        return float(np.sqrt(super().result()))


for _cls, _names in [
    (MeanSquaredError, ("mean_squared_error", "mse", "MSE")),
    (MeanAbsoluteError, ("mean_absolute_error", "mae", "MAE")),
    (MeanAbsolutePercentageError, ("mean_absolute_percentage_error", "mape", "MAPE")),
    (MeanSquaredLogarithmicError, ("mean_squared_logarithmic_error", "msle", "MSLE")),
    (LogCoshError, ("logcosh", "log_cosh", "log_cosh_error")),
    (Hinge, ("hinge",)),
    (SquaredHinge, ("squared_hinge",)),
    (CategoricalHinge, ("categorical_hinge",)),
    (CategoricalCrossentropy, ("categorical_crossentropy",)),
    (SparseCategoricalCrossentropy, ("sparse_categorical_crossentropy",)),
    (BinaryCrossentropy, ("binary_crossentropy", "bce", "BCE")),
    (KLDivergence, ("kl_divergence", "kullback_leibler_divergence", "kld", "KLD")),
    (Poisson, ("poisson",)),
    (Huber, ("huber",)),
    (CosineSimilarity, ("cosine_similarity", "cosine_proximity")),
    (RootMeanSquaredError, ("root_mean_squared_error", "rmse")),
]:
    METRICS.add(_cls, *_names)

_FUNCTIONS: dict[Callable[..., Any], type[Metric]] = {
    binary_accuracy: BinaryAccuracy,
    categorical_accuracy: CategoricalAccuracy,
    sparse_categorical_accuracy: SparseCategoricalAccuracy,
    top_k_categorical_accuracy: TopKCategoricalAccuracy,
    sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy,
    losses_module.mean_squared_error: MeanSquaredError,
    losses_module.mean_absolute_error: MeanAbsoluteError,
    losses_module.mean_absolute_percentage_error: MeanAbsolutePercentageError,
    losses_module.mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    losses_module.binary_crossentropy: BinaryCrossentropy,
    losses_module.categorical_crossentropy: CategoricalCrossentropy,
    losses_module.sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
}

# Keras's lower-case metric functions that are losses too.
mean_squared_error = mse = losses_module.mean_squared_error
mean_absolute_error = mae = losses_module.mean_absolute_error
mean_absolute_percentage_error = losses_module.mean_absolute_percentage_error
mean_squared_logarithmic_error = losses_module.mean_squared_logarithmic_error
binary_crossentropy = losses_module.binary_crossentropy
categorical_crossentropy = losses_module.categorical_crossentropy
sparse_categorical_crossentropy = losses_module.sparse_categorical_crossentropy
hinge = losses_module.hinge
squared_hinge = losses_module.squared_hinge
kl_divergence = losses_module.kl_divergence
poisson = losses_module.poisson


# Which way is better, for callbacks that watch a metric (EarlyStopping(mode='auto'), ...).
for _cls in (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
             SparseTopKCategoricalAccuracy, Precision, Recall, AUC, FBetaScore, F1Score, TruePositives,
             TrueNegatives, CosineSimilarity):  # fmt: skip
    _cls.direction = "up"
for _cls in (MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
             LogCoshError, Hinge, SquaredHinge, CategoricalHinge, CategoricalCrossentropy,
             SparseCategoricalCrossentropy, BinaryCrossentropy, KLDivergence, Poisson, Huber, FalsePositives,
             FalseNegatives, RootMeanSquaredError):  # fmt: skip
    _cls.direction = "down"


def get(identifier: Any) -> Metric:
    """A `Metric` from a name, a config dict, an instance, a Metric class, or any function
    `f(y_true, y_pred) -> per-sample values` (wrapped in a weighted mean named after it).

    `'accuracy'` here is the exact-match `Accuracy`; `compile` resolves `'accuracy'` from the loss and
    the shapes instead (binary, categorical or sparse categorical), as Keras does.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            return Accuracy(name=identifier)
        return METRICS.lookup(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, losses_module.Loss):
        return MeanMetricWrapper(
            type(identifier).from_config({**identifier.get_config(), "reduction": "none"}),
            name=identifier.name,
        )
    if callable(identifier):
        if identifier in _FUNCTIONS:
            return _FUNCTIONS[identifier]()
        return MeanMetricWrapper(identifier)
    raise TypeError(
        f"Cannot interpret {identifier!r} as a metric: expected a name, a Metric or a function."
    )


def serialize(metric: Metric) -> dict[str, Any]:
    """`{'class_name': name, 'config': {...}}` for a registered metric."""
    name = METRICS.name_of(metric)
    if name is None:
        raise ValueError(f"Metric {metric!r} is not registered, so it cannot be saved.")
    return {"class_name": name, "config": metric.get_config()}


def deserialize(config: dict[str, Any]) -> Metric:
    """The inverse of `serialize`."""
    if "class_name" not in config:
        raise ValueError(f"A metric config needs a 'class_name' key, received {config!r}.")
    return METRICS.lookup(config["class_name"]).from_config(config.get("config", {}))
