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

from neuralnet import activations
from neuralnet import backend
from neuralnet import losses as losses_module
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

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        self.name = name or METRICS.name_of(type(self)) or type(self).__name__.lower()
        self.dtype = dtype

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        raise NotImplementedError

    def result(self) -> Any:
        raise NotImplementedError

    def reset_state(self) -> None:
        raise NotImplementedError

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    @property
    def variables(self) -> dict[str, np.ndarray]:
        """The accumulated state, by name (for saving and for summing across processes)."""
        return {}

    def load_variables(self, state: dict[str, Any]) -> None:
        """Replace the accumulated state by `state` (same names and shapes as `variables`), e.g.
        with the sum of `variables` over every process."""
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

    def __init__(self, fn: Callable[..., Any], name: str | None = None, dtype: Any = None, **kwargs: Any) -> None:
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

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5) -> None:
        super().__init__(binary_accuracy, name, dtype, threshold=check_number(threshold, "threshold", name))


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

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(top_k_categorical_accuracy, name, dtype, k=check_positive_int(k, "k", name))


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


MeanSquaredError = _loss_metric(losses_module.MeanSquaredError, "mean_squared_error", "Mean of the per-sample MSE.")
MeanAbsoluteError = _loss_metric(losses_module.MeanAbsoluteError, "mean_absolute_error", "Mean of the per-sample MAE.")
MeanAbsolutePercentageError = _loss_metric(
    losses_module.MeanAbsolutePercentageError, "mean_absolute_percentage_error", "Mean of the per-sample MAPE."
)
MeanSquaredLogarithmicError = _loss_metric(
    losses_module.MeanSquaredLogarithmicError, "mean_squared_logarithmic_error", "Mean of the per-sample MSLE."
)
LogCoshError = _loss_metric(
    losses_module.LogCosh, "logcosh", "Mean of the per-sample log-cosh error.", "LogCoshError"
)
Hinge = _loss_metric(losses_module.Hinge, "hinge", "Mean of the per-sample hinge loss.")
SquaredHinge = _loss_metric(losses_module.SquaredHinge, "squared_hinge", "Mean of the per-sample squared hinge loss.")
CategoricalHinge = _loss_metric(
    losses_module.CategoricalHinge, "categorical_hinge", "Mean of the per-sample categorical hinge loss."
)
CategoricalCrossentropy = _loss_metric(
    losses_module.CategoricalCrossentropy, "categorical_crossentropy", "Mean categorical cross-entropy."
)
SparseCategoricalCrossentropy = _loss_metric(
    losses_module.SparseCategoricalCrossentropy,
    "sparse_categorical_crossentropy",
    "Mean sparse categorical cross-entropy.",
)
BinaryCrossentropy = _loss_metric(losses_module.BinaryCrossentropy, "binary_crossentropy", "Mean binary cross-entropy.")
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
    raise TypeError(f"Cannot interpret {identifier!r} as a metric: expected a name, a Metric or a function.")


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
