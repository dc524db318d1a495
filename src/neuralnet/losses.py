"""Loss functions: their value and their gradient with respect to the prediction, with Keras 3's formulas.

Each loss computes one value per sample (`call`, reducing the last axis as Keras does) and that value's
derivative with respect to every entry of `y_pred` (`gradient`). The base class applies the rank fix-up
(`y_true` of shape (N,) against `y_pred` of shape (N, 1)), the sample weights and the reduction
(`sum_over_batch_size`: divide by the number of per-sample values, not by the sum of the weights), so
each subclass is only its formula and the formula's derivative.

The lower-case functions (`mean_squared_error`, ...) are Keras's: they return the per-sample values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neuralnet import activations as activations_module
from neuralnet import backend
from neuralnet._registry import Registry
from neuralnet._validation import check_number, check_one_of

LOSSES = Registry("loss")

REDUCTIONS = ("sum_over_batch_size", "mean", "mean_with_sample_weight", "sum", "none", None)

# The methods that define a loss's formula; a subclass overriding one loses its parent's shortcuts.
_FORMULA_METHODS = ("call", "gradient", "elementwise", "elementwise_gradient")


def squeeze_or_expand_to_same_rank(
    x1: np.ndarray, x2: np.ndarray, expand_rank_1: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Keras's rank fix-up: when ranks differ by one and the extra last axis has size 1, squeeze it,
    or expand the rank-1 operand. `y_true` of shape (N,) against `y_pred` of shape (N, 1) then pairs
    sample with sample instead of broadcasting to (N, N)."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2[..., None]
        else:
            x1 = x1[..., 0]
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1[..., None]
        else:
            x2 = x2[..., 0]
    return x1, x2


class Loss:
    """Base class of the losses.

    Subclasses implement `call(y_true, y_pred)` (the per-sample values, shape `y_pred.shape[:-1]`) and
    `gradient(y_true, y_pred)` (d per-sample value / d `y_pred`, shape of `y_pred`), both on arrays
    whose ranks already agree. The base class aligns the ranks, then applies the sample weights
    and the reduction in one place (`_reduction`), to the value and to the gradient alike. A
    subclass may override `forward_backward` or `fused_value_and_gradient` to share work between
    the two, but reduces through `_reduction` too.

    Args:
        reduction: `'sum_over_batch_size'` (the default; `'mean'` is the same), `'sum'`,
            `'mean_with_sample_weight'` (divides by the sum of the weights) or `'none'`.
        name: A name for the loss; the registered name when `None`.
    """

    #: Whether `y_true` holds class indices rather than values shaped like `y_pred`.
    sparse = False

    def __init__(
        self, reduction: str | None = "sum_over_batch_size", name: str | None = None
    ) -> None:
        self.reduction = check_one_of(reduction, "reduction", REDUCTIONS, type(self).__name__)
        self.name = name or LOSSES.name_of(type(self)) or type(self).__name__

    # -- what subclasses write ------------------------------------------------------------------

    def call(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        """The loss of each sample."""
        raise NotImplementedError

    def gradient(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        """d(loss of each sample) / d y_pred, with the shape of `y_pred`."""
        raise NotImplementedError

    # -- the public interface -------------------------------------------------------------------

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        """The reduced loss, as Keras's `loss(y_true, y_pred, sample_weight)`: a float, or the
        per-sample values when `reduction='none'`."""
        y_pred = np.asarray(y_pred)
        if y_pred.dtype.kind != "f":
            y_pred = y_pred.astype(backend.floatx())
        if self.reduction not in ("none", None):
            return self.forward(y_true, y_pred, sample_weight)
        y_true, y_pred = self._align(y_true, y_pred)
        values = self.call(y_true, y_pred)
        weights, _ = self._reduction(
            values.shape, values.dtype, sample_weight, self._valid(y_true, y_pred)
        )
        return values if weights is None else values * weights

    def forward(self, y_true: Any, y_pred: np.ndarray, sample_weight: Any = None) -> float:
        """The reduced loss of a batch, as a float."""
        y_true, y_pred = self._align(y_true, y_pred)
        values = self.call(y_true, y_pred)
        weights, divisor = self._reduction(
            values.shape, values.dtype, sample_weight, self._valid(y_true, y_pred)
        )
        return _reduce_values(values, weights, divisor)

    def backward(self, y_true: Any, y_pred: np.ndarray, sample_weight: Any = None) -> np.ndarray:
        """dJ/dy_pred of the reduced loss J, with the shape of `y_pred`."""
        y_true, y_pred_fixed = self._align(y_true, y_pred)
        grad = self.gradient(y_true, y_pred_fixed)
        valid = self._valid(y_true, y_pred_fixed)
        return self._reduce_gradient(grad, y_pred_fixed, sample_weight, valid).reshape(y_pred.shape)

    def forward_backward(
        self, y_true: Any, y_pred: np.ndarray, sample_weight: Any = None
    ) -> tuple[float, np.ndarray]:
        """`(forward(...), backward(...))` in one call; subclasses may share work between them."""
        return (
            self.forward(y_true, y_pred, sample_weight),
            self.backward(y_true, y_pred, sample_weight),
        )

    def fused_gradient(
        self,
        activation: activations_module.Activation,
        y_true: Any,
        y_pred: np.ndarray,
        sample_weight: Any = None,
    ) -> np.ndarray | None:
        """dJ/dz through `activation` in closed form (`p − y` for softmax + cross-entropy), or `None`
        when this loss has no such shortcut for `activation`. `y_pred` is the activation's output."""
        return None

    def fused_value_and_gradient(
        self,
        activation: activations_module.Activation,
        y_true: Any,
        y_pred: np.ndarray,
        sample_weight: Any = None,
    ) -> tuple[float, np.ndarray] | None:
        """`(forward(...), fused_gradient(...))` in one call, or `None` without a closed form.
        Subclasses override it where the two share work (the training step calls this)."""
        grad = self.fused_gradient(activation, y_true, y_pred, sample_weight)
        if grad is None:
            return None
        return self.forward(y_true, y_pred, sample_weight), grad

    # -- reduction and sample weights -----------------------------------------------------------

    def _align(self, y_true: Any, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`y_true` in the dtype of `y_pred`, with the ranks fixed up to agree."""
        y_true = np.asarray(y_true)
        if y_true.dtype != y_pred.dtype:
            y_true = y_true.astype(y_pred.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return y_true, y_pred

    def _valid(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray | None:
        """Which per-sample values count (Keras's loss mask), or `None` when all of them do."""
        return None

    def _value_axis(self) -> int:
        """The axis of `y_pred` that `call` reduces to one value per sample."""
        return -1

    def _reduction(
        self, shape: tuple[int, ...], dtype: Any, sample_weight: Any, valid: Any = None
    ) -> tuple[np.ndarray | None, float]:
        """`(weights, divisor)` for per-sample values of `shape`: the reduced loss is
        `sum(values · weights) / divisor` and its gradient `gradient · weights / divisor`
        (`weights=None` is all ones). The one place where the sample weights, the mask `valid`
        and the reduction are turned into arithmetic."""
        weights = None if sample_weight is None else _shaped_weights(sample_weight, shape, dtype)
        if valid is not None:
            mask = valid.astype(dtype)
            if self.reduction in ("sum_over_batch_size", "mean"):
                # Keras gives valid entries the weight total/valid, so that the mean is over the
                # valid ones; 'sum' and 'mean_with_sample_weight' only zero the others.
                mask *= valid.size / max(int(valid.sum()), 1)
            weights = mask if weights is None else weights * mask
        if self.reduction == "sum" or not shape:  # Keras does not divide a single value
            return weights, 1.0
        if weights is not None and self.reduction == "mean_with_sample_weight":
            total = float(np.sum(np.broadcast_to(weights, shape), dtype=np.float64))
        else:
            total = float(math.prod(shape))
        return weights, total or math.inf  # divide_no_nan: an empty batch gives 0

    def _require_reduction(self) -> None:
        if self.reduction in ("none", None):
            raise ValueError(
                f"Loss {self.name!r} has reduction='none', which gives one value per sample: there "
                "is no single cost to differentiate. Use 'sum_over_batch_size' to train."
            )

    def _reduce_gradient(
        self, grad: np.ndarray, y_pred: np.ndarray, sample_weight: Any, valid: Any = None
    ) -> np.ndarray:
        """dJ/dy_pred from `grad` (d per-sample value / dy_pred): `_reduction`'s weights and
        divisor applied to it."""
        self._require_reduction()
        axis = self._value_axis() % y_pred.ndim if y_pred.ndim else 0
        shape = y_pred.shape[:axis] + y_pred.shape[axis + 1 :]
        weights, divisor = self._reduction(shape, y_pred.dtype, sample_weight, valid)
        return _scale_gradient(grad, weights, divisor, axis)

    def _has_formula_of(self, cls: type) -> bool:
        """Whether this loss still computes `cls`'s formula, so that `cls`'s shortcuts (a shared
        forward and backward, a fused gradient) apply: False for a subclass that rewrote `call`,
        `gradient` or the element-wise function."""
        kind = type(self)
        return kind is cls or all(
            getattr(kind, name, None) is getattr(cls, name, None) for name in _FORMULA_METHODS
        )

    # -- targets --------------------------------------------------------------------------------

    def check_targets(
        self, y_true: np.ndarray, output_shape: tuple[int | None, ...], where: str
    ) -> None:
        """Raise a ValueError when targets of this shape cannot be paired with outputs of
        `output_shape` (checked once, at the boundary of fit and evaluate)."""
        t_shape, o_shape = y_true.shape[1:], tuple(output_shape[1:])
        paired_t, paired_o = _paired_shapes(t_shape, o_shape)
        ok = len(paired_t) == len(paired_o) and all(
            o is None or o == t for t, o in zip(paired_t, paired_o)
        )
        if not ok:
            raise ValueError(
                f"{where}: the loss {self.name!r} needs targets shaped like the model's output "
                f"{_shape_str(output_shape)}, but received targets of shape {_shape_str((None,) + t_shape)}."
                + self._target_hint(t_shape, o_shape)
            )
        if y_true.dtype.kind not in "biuf":
            raise ValueError(
                f"{where}: targets for the loss {self.name!r} must be numbers, received dtype {y_true.dtype}."
            )

    def _target_hint(self, t_shape: tuple, o_shape: tuple) -> str:
        if (
            len(t_shape) <= 1
            and (not t_shape or t_shape[0] == 1)
            and o_shape
            and (o_shape[-1] or 0) > 1
        ):
            return (
                " These look like integer class labels: use 'sparse_categorical_crossentropy', or "
                "one-hot encode them with neuralnet.utils.to_categorical."
            )
        return ""

    # -- configuration --------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _paired_shapes(t_shape: tuple, o_shape: tuple) -> tuple[tuple, tuple]:
    """The per-sample shapes of targets and outputs after `squeeze_or_expand_to_same_rank`, without
    the batch axis; `None` in `o_shape` is a size not known until the data comes (any size matches)."""
    t, o = tuple(t_shape), tuple(o_shape)
    if len(t) == len(o) + 1 and t[-1] == 1:
        return (t, o + (1,)) if not o else (t[:-1], o)
    if len(o) == len(t) + 1 and o[-1] in (1, None):
        return (t + (1,), o) if not t else (t, o[:-1])
    return t, o


def _shape_str(shape: tuple) -> str:
    return (
        "("
        + ", ".join("None" if d is None else str(d) for d in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )


def _shaped_weights(sample_weight: Any, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """`sample_weight` shaped to multiply per-sample values of `shape`: a scalar, one weight per
    sample ((N,) or (N, 1)), or one per value."""
    w = np.asarray(sample_weight, dtype=dtype)
    if w.ndim == 0 or w.shape == shape:
        return w
    ndim = len(shape)
    if w.ndim == ndim + 1 and w.shape[-1] == 1:
        w = w[..., 0]  # (N, 1) weights for (N,) values pair sample with sample, as in Keras
    # (N,) weights against (N, T) values: one weight per sample, broadcast over the rest.
    w = w.reshape(w.shape + (1,) * (ndim - w.ndim)) if w.ndim < ndim else w
    try:
        fits = np.broadcast_shapes(w.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"sample_weight of shape {_shape_str(np.shape(sample_weight))} does not match the "
            f"per-sample losses of shape {_shape_str(shape)}: give one weight per sample "
            "(shape (N,) or (N, 1)) or one per loss value."
        )
    return w


def _reduce_values(values: np.ndarray, weights: np.ndarray | None, divisor: float) -> float:
    """`sum(values · weights) / divisor`, summed in float64."""
    weighted = values if weights is None else values * weights
    return float(np.add.reduce(weighted, axis=None, dtype=np.float64)) / divisor


def _scale_gradient(
    grad: np.ndarray,
    weights: np.ndarray | None,
    divisor: float,
    axis: int = -1,
    in_place: bool = False,
) -> np.ndarray:
    """`grad · weights / divisor`, each sample's weight spread along `axis` (the axis that `call`
    reduces). `in_place` writes into `grad`, for a caller that owns it."""
    out = grad if in_place else None
    if weights is not None:
        if weights.ndim:
            weights = np.expand_dims(weights, axis)
        grad = out = np.multiply(grad, weights, out=out)  # a new array is ours to scale in place
    return np.multiply(grad, 1.0 / divisor, out=out)


def _last_axis_size(y: np.ndarray) -> int:
    return y.shape[-1] if y.ndim else 1


class _ElementwiseMeanLoss(Loss):
    """A loss that is the mean over the last axis of an element-wise function `f(t, p)`.

    Subclasses write `elementwise(t, p)` and its derivative `elementwise_gradient(t, p)`."""

    def elementwise(self, y_true, y_pred):
        raise NotImplementedError

    def elementwise_gradient(self, y_true, y_pred):
        raise NotImplementedError

    def call(self, y_true, y_pred):
        return np.mean(self.elementwise(y_true, y_pred), axis=-1)

    def gradient(self, y_true, y_pred):
        # d/dp_j of mean_k f(t_k, p_k) = f'(t_j, p_j) / D
        return self.elementwise_gradient(y_true, y_pred) / _last_axis_size(y_pred)


# --------------------------------------------------------------------------------------------------
# Regression losses


@LOSSES.register("mean_squared_error", "mse", "MSE")
class MeanSquaredError(_ElementwiseMeanLoss):
    """`mean((y_true − y_pred)²)` over the last axis."""

    def elementwise(self, y_true, y_pred):
        return np.square(y_true - y_pred)

    def elementwise_gradient(self, y_true, y_pred):
        return 2.0 * (y_pred - y_true)

    def forward_backward(self, y_true, y_pred, sample_weight=None):
        # The training step's MSE: `y_pred − y_true` once for both the value and the gradient.
        if not self._has_formula_of(MeanSquaredError):
            return super().forward_backward(y_true, y_pred, sample_weight)
        self._require_reduction()
        t, p = self._align(y_true, y_pred)
        diff = p - t
        values = np.mean(np.square(diff), axis=-1)
        weights, divisor = self._reduction(
            values.shape, values.dtype, sample_weight, self._valid(t, p)
        )
        diff *= 2.0 / _last_axis_size(p)
        grad = _scale_gradient(diff, weights, divisor, in_place=True)
        return _reduce_values(values, weights, divisor), grad.reshape(y_pred.shape)


@LOSSES.register("mean_absolute_error", "mae", "MAE")
class MeanAbsoluteError(_ElementwiseMeanLoss):
    """`mean(|y_true − y_pred|)` over the last axis."""

    def elementwise(self, y_true, y_pred):
        return np.abs(y_true - y_pred)

    def elementwise_gradient(self, y_true, y_pred):
        return np.sign(y_pred - y_true)


@LOSSES.register("mean_absolute_percentage_error", "mape", "MAPE")
class MeanAbsolutePercentageError(_ElementwiseMeanLoss):
    """`100 · mean(|(y_true − y_pred) / max(|y_true|, ε)|)` (Keras uses |y_true| in the denominator)."""

    def elementwise(self, y_true, y_pred):
        return 100.0 * np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), backend.epsilon()))

    def elementwise_gradient(self, y_true, y_pred):
        return 100.0 * np.sign(y_pred - y_true) / np.maximum(np.abs(y_true), backend.epsilon())


@LOSSES.register("mean_squared_logarithmic_error", "msle", "MSLE")
class MeanSquaredLogarithmicError(_ElementwiseMeanLoss):
    """`mean((log(max(y_pred, ε) + 1) − log(max(y_true, ε) + 1))²)` over the last axis."""

    def elementwise(self, y_true, y_pred):
        eps = backend.epsilon()
        return np.square(np.log1p(np.maximum(y_pred, eps)) - np.log1p(np.maximum(y_true, eps)))

    def elementwise_gradient(self, y_true, y_pred):
        eps = backend.epsilon()
        p = np.maximum(y_pred, eps)
        diff = np.log1p(p) - np.log1p(np.maximum(y_true, eps))
        return 2.0 * diff / (1.0 + p) * (y_pred > eps)


@LOSSES.register("log_cosh", "logcosh")
class LogCosh(_ElementwiseMeanLoss):
    """`mean(log(cosh(y_pred − y_true)))`, computed as `x + softplus(−2x) − log 2` (no overflow)."""

    def elementwise(self, y_true, y_pred):
        x = y_pred - y_true
        return x + np.logaddexp(-2.0 * x, 0.0) - math.log(2.0)

    def elementwise_gradient(self, y_true, y_pred):
        return np.tanh(y_pred - y_true)  # d log cosh(x) / dx = tanh(x)


@LOSSES.register("huber")
class Huber(_ElementwiseMeanLoss):
    """`½e²` for |e| ≤ delta, `delta·|e| − ½delta²` beyond, with e = y_pred − y_true; mean over the last axis."""

    def __init__(self, delta: float = 1.0, reduction="sum_over_batch_size", name=None) -> None:
        super().__init__(reduction, name)
        self.delta = check_number(delta, "delta", self, low=0.0, low_inclusive=False)

    def elementwise(self, y_true, y_pred):
        e = y_pred - y_true
        a = np.abs(e)
        return np.where(a <= self.delta, 0.5 * e * e, self.delta * a - 0.5 * self.delta**2)

    def elementwise_gradient(self, y_true, y_pred):
        e = y_pred - y_true
        return np.where(np.abs(e) <= self.delta, e, self.delta * np.sign(e))

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


@LOSSES.register("poisson")
class Poisson(_ElementwiseMeanLoss):
    """`mean(y_pred − y_true · log(y_pred + ε))` over the last axis (ε added, not clipped)."""

    def elementwise(self, y_true, y_pred):
        return y_pred - y_true * np.log(y_pred + backend.epsilon())

    def elementwise_gradient(self, y_true, y_pred):
        return 1.0 - y_true / (y_pred + backend.epsilon())


# --------------------------------------------------------------------------------------------------
# Margin losses


def _hinge_labels(y_true: np.ndarray) -> np.ndarray:
    # Keras converts {0, 1} labels to {−1, 1}, but only when every label of the batch is 0 or 1.
    if np.all((y_true == 0) | (y_true == 1)):
        return 2.0 * y_true - 1.0
    return y_true


@LOSSES.register("hinge")
class Hinge(_ElementwiseMeanLoss):
    """`mean(max(1 − y_true · y_pred, 0))`; labels in {0, 1} are first mapped to {−1, 1}."""

    def elementwise(self, y_true, y_pred):
        return np.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0)

    def elementwise_gradient(self, y_true, y_pred):
        t = _hinge_labels(y_true)
        return -t * (1.0 - t * y_pred > 0)


@LOSSES.register("squared_hinge")
class SquaredHinge(_ElementwiseMeanLoss):
    """`mean(max(1 − y_true · y_pred, 0)²)`; labels in {0, 1} are first mapped to {−1, 1}."""

    def elementwise(self, y_true, y_pred):
        return np.square(np.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0))

    def elementwise_gradient(self, y_true, y_pred):
        t = _hinge_labels(y_true)
        return -2.0 * t * np.maximum(1.0 - t * y_pred, 0.0)


@LOSSES.register("categorical_hinge")
class CategoricalHinge(Loss):
    """`max(neg − pos + 1, 0)` with `pos = Σ y_true·y_pred` and `neg = max((1 − y_true)·y_pred)`."""

    def call(self, y_true, y_pred):
        pos = np.sum(y_true * y_pred, axis=-1)
        neg = np.max((1.0 - y_true) * y_pred, axis=-1)
        return np.maximum(neg - pos + 1.0, 0.0)

    def gradient(self, y_true, y_pred):
        pos = np.sum(y_true * y_pred, axis=-1)
        scaled = (1.0 - y_true) * y_pred
        best = np.argmax(scaled, axis=-1)
        active = np.take_along_axis(scaled, best[..., None], -1)[..., 0] - pos + 1.0 > 0
        d_neg = np.zeros_like(y_pred)
        np.put_along_axis(
            d_neg, best[..., None], np.take_along_axis(1.0 - y_true, best[..., None], -1), -1
        )
        return (d_neg - y_true) * active[..., None]


# --------------------------------------------------------------------------------------------------
# Probabilistic losses


@LOSSES.register("categorical_crossentropy")
class CategoricalCrossentropy(Loss):
    """`−Σ y_true · log(p)` over `axis`, for one-hot (or soft) targets.

    From probabilities (the default) Keras first renormalizes `p / Σp`, then clips it to
    [ε, 1 − ε], so the largest loss of one sample is −log(1e-7) ≈ 16.118. From logits it uses
    `log_softmax` without clipping. `label_smoothing` replaces y by `y(1 − ls) + ls/K`.

    After a softmax output layer, training uses the fused gradient `(p − y)/N` with respect to the
    logits (the lecture's derivation): exact and finite for any logits. The loss shown is the
    clipped value above.
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction="sum_over_batch_size",
        name=None,
    ) -> None:
        super().__init__(reduction, name)
        self.from_logits = bool(from_logits)
        self.label_smoothing = check_number(
            label_smoothing, "label_smoothing", self, low=0.0, high=1.0
        )
        self.axis = int(axis)

    def _value_axis(self) -> int:
        return self.axis

    def _smooth(self, y_true: np.ndarray) -> np.ndarray:
        if not self.label_smoothing:
            return y_true
        k = y_true.shape[self.axis]
        return y_true * (1.0 - self.label_smoothing) + self.label_smoothing / k

    def call(self, y_true, y_pred):
        t = self._smooth(y_true)
        if self.from_logits:
            return -np.sum(
                t * activations_module.LogSoftmax(self.axis).forward(y_pred), axis=self.axis
            )
        eps = backend.epsilon()
        q = np.clip(y_pred / np.sum(y_pred, axis=self.axis, keepdims=True), eps, 1.0 - eps)
        return -np.sum(t * np.log(q), axis=self.axis)

    def gradient(self, y_true, y_pred):
        t = self._smooth(y_true)
        if self.from_logits:
            p = activations_module.Softmax(self.axis).forward(y_pred)
            return p * np.sum(t, axis=self.axis, keepdims=True) - t
        eps = backend.epsilon()
        s = np.sum(y_pred, axis=self.axis, keepdims=True)
        q = y_pred / s
        g = np.where((q > eps) & (q < 1.0 - eps), -t / np.clip(q, eps, 1.0 - eps), 0.0)
        # q = p/Σp  =>  dL/dp_k = (g_k − Σ_j g_j q_j) / Σp
        return (g - np.sum(g * q, axis=self.axis, keepdims=True)) / s

    def fused_gradient(self, activation, y_true, y_pred, sample_weight=None):
        if self.from_logits or not isinstance(activation, activations_module.Softmax):
            return None
        if activation.axis not in (self.axis, y_pred.ndim - 1 if self.axis == -1 else self.axis):
            return None
        if not self._has_formula_of(CategoricalCrossentropy):
            return None
        t, p = self._align(y_true, y_pred)
        t = self._smooth(t)
        # d/dz of −Σ t log softmax(z) = p·Σt − t, which is p − t for targets that sum to 1.
        grad = p * np.sum(t, axis=self.axis, keepdims=True) - t
        return self._reduce_gradient(grad, p, sample_weight).reshape(y_pred.shape)

    def get_config(self):
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


@LOSSES.register("sparse_categorical_crossentropy")
class SparseCategoricalCrossentropy(Loss):
    """Categorical cross-entropy with integer class labels: `−log p[y_true]`.

    `y_true` has shape (N,) or (N, 1). With `ignore_class`, samples of that label add nothing (their
    value and gradient are 0) and the mean is over the other samples, as in Keras.
    """

    sparse = True

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        axis: int = -1,
        reduction="sum_over_batch_size",
        name=None,
    ) -> None:
        super().__init__(reduction, name)
        self.from_logits = bool(from_logits)
        self.ignore_class = None if ignore_class is None else int(ignore_class)
        if axis != -1:
            raise ValueError(
                f"SparseCategoricalCrossentropy supports axis=-1 only, received axis={axis}."
            )
        self.axis = -1

    def _align(self, y_true: Any, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The labels, kept as integers, without the trailing axis of (N, 1) labels."""
        labels = np.asarray(y_true)
        if labels.ndim == y_pred.ndim and labels.ndim and labels.shape[-1] == 1:
            labels = labels[..., 0]
        return labels, y_pred

    def _labels(self, y_true: Any, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Integer labels to index `y_pred` with (an ignored label reads class 0), and which
        samples count (`None`: all, when there is no `ignore_class`)."""
        labels, _ = self._align(y_true, y_pred)
        valid = None
        if self.ignore_class is not None:
            valid = labels != self.ignore_class
            labels = np.where(valid, labels, 0)
        return labels.astype(np.intp, copy=False), valid

    def _valid(self, y_true, y_pred):
        return None if self.ignore_class is None else self._labels(y_true, y_pred)[1]

    def _log_probs(self, y_pred: np.ndarray) -> np.ndarray:
        if self.from_logits:
            return activations_module.LogSoftmax(-1).forward(y_pred)
        eps = backend.epsilon()
        return np.log(np.clip(y_pred / np.sum(y_pred, axis=-1, keepdims=True), eps, 1.0 - eps))

    def call(self, y_true, y_pred):
        labels, valid = self._labels(y_true, y_pred)
        values = -np.take_along_axis(self._log_probs(y_pred), labels[..., None], -1)[..., 0]
        return values if valid is None else np.where(valid, values, 0.0)

    def gradient(self, y_true, y_pred):
        labels, valid = self._labels(y_true, y_pred)
        if self.from_logits:
            # d/dz of −log softmax(z)[y] = softmax(z) − onehot(y)
            grad = activations_module.Softmax(-1).forward(y_pred)
            np.put_along_axis(
                grad, labels[..., None], np.take_along_axis(grad, labels[..., None], -1) - 1.0, -1
            )
        else:
            t = np.zeros_like(y_pred)
            np.put_along_axis(t, labels[..., None], 1.0, -1)
            grad = CategoricalCrossentropy().gradient(t, y_pred)
        return grad if valid is None else np.where(valid[..., None], grad, 0.0)

    def fused_gradient(self, activation, y_true, y_pred, sample_weight=None):
        if self.from_logits or not isinstance(activation, activations_module.Softmax):
            return None
        if activation.axis not in (-1, y_pred.ndim - 1):
            return None
        if not self._has_formula_of(SparseCategoricalCrossentropy):
            return None
        labels, valid = self._labels(y_true, y_pred)
        grad = y_pred.copy()
        rows = np.take_along_axis(grad, labels[..., None], -1)
        np.put_along_axis(grad, labels[..., None], rows - 1.0, -1)  # p − onehot(y)
        return self._reduce_gradient(grad, y_pred, sample_weight, valid)

    def fused_value_and_gradient(self, activation, y_true, y_pred, sample_weight=None):
        # The common case of the training step, in a few array operations: 2-D softmax outputs,
        # one label per sample, the default reduction and no ignored class.
        simple = (
            not self.from_logits
            and isinstance(activation, activations_module.Softmax)
            and y_pred.ndim == 2
            and activation.axis in (-1, 1)
            and self.ignore_class is None
            and self.reduction in ("sum_over_batch_size", "mean")
            and (
                type(self) is SparseCategoricalCrossentropy
                or self._has_formula_of(SparseCategoricalCrossentropy)
            )
        )
        labels = np.asarray(y_true)
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        if not simple or labels.ndim != 1 or not len(labels):
            return super().fused_value_and_gradient(activation, y_true, y_pred, sample_weight)
        labels = labels.astype(np.intp, copy=False)
        rows = np.arange(len(labels))
        eps = backend.epsilon()
        # Keras's value: −log(clip(p_y / Σp, ε, 1 − ε)); the gradient: (p − onehot(y)) / N.
        # The clip as maximum then minimum: the same numbers, without np.clip's call overhead.
        q = y_pred[rows, labels] / np.add.reduce(y_pred, axis=1)
        values = -np.log(np.minimum(np.maximum(q, eps), 1.0 - eps))
        grad = y_pred.copy()
        grad[rows, labels] -= 1.0
        weights, divisor = self._reduction(values.shape, values.dtype, sample_weight)
        value = _reduce_values(values, weights, divisor)
        return value, _scale_gradient(grad, weights, divisor, in_place=True)

    def check_targets(self, y_true, output_shape, where):
        shape = y_true.shape
        if not (
            len(shape) == len(output_shape) - 1
            or (len(shape) == len(output_shape) and shape[-1] == 1)
        ):
            raise ValueError(
                f"{where}: the loss {self.name!r} needs integer class labels of shape (N,) or (N, 1) "
                f"for outputs of shape {_shape_str(output_shape)}, but received targets of shape "
                f"{_shape_str((None,) + shape[1:])}."
                + (
                    " These look one-hot encoded: use 'categorical_crossentropy'."
                    if shape[1:] == tuple(output_shape[1:])
                    else ""
                )
            )
        check_class_labels(y_true, output_shape[-1], where, ignore_class=self.ignore_class)

    def get_config(self):
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
            "axis": self.axis,
        }


def check_class_labels(
    labels: np.ndarray, num_classes: int | None, where: str, ignore_class: int | None = None
) -> None:
    """Raise a ValueError unless `labels` are whole numbers in [0, num_classes)."""
    if labels.dtype.kind not in "biuf":
        raise ValueError(f"{where}: class labels must be integers, received dtype {labels.dtype}.")
    if labels.dtype.kind == "f":
        bad = labels != np.round(labels)
        if np.any(bad):
            first = labels[bad].flat[0]
            raise ValueError(
                f"{where}: class labels must be whole numbers, received {float(first):g} "
                f"({int(bad.sum())} non-integer labels)."
            )
    check = labels if ignore_class is None else labels[labels != ignore_class]
    if num_classes is not None and check.size:
        low, high = check.min(), check.max()
        if low < 0 or high >= num_classes:
            raise ValueError(
                f"{where}: class labels must be in [0, {num_classes - 1}] for a model with "
                f"{num_classes} outputs, received labels from {low:g} to {high:g}."
            )


@LOSSES.register("binary_crossentropy", "bce", "BCE")
class BinaryCrossentropy(Loss):
    """`mean(−[y log p + (1 − y) log(1 − p)])` over the last axis.

    From probabilities (the default) p is clipped to [ε, 1 − ε]; from logits the stable form
    `max(z, 0) − z·y + log(1 + e^−|z|)` is used. `label_smoothing` replaces y by `y(1 − ls) + ls/2`.
    After a sigmoid output layer, training uses the fused gradient `(p − y)/(N·D)` with respect to
    the logits.
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction="sum_over_batch_size",
        name=None,
    ) -> None:
        super().__init__(reduction, name)
        self.from_logits = bool(from_logits)
        self.label_smoothing = check_number(
            label_smoothing, "label_smoothing", self, low=0.0, high=1.0
        )
        if axis != -1:
            raise ValueError(f"BinaryCrossentropy supports axis=-1 only, received axis={axis}.")
        self.axis = -1

    def _smooth(self, y_true):
        if not self.label_smoothing:
            return y_true
        return y_true * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing

    def call(self, y_true, y_pred):
        t = self._smooth(y_true)
        if self.from_logits:
            z = y_pred
            return np.mean(np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z))), axis=-1)
        eps = backend.epsilon()
        p = np.clip(y_pred, eps, 1.0 - eps)
        return np.mean(-(t * np.log(p) + (1.0 - t) * np.log(1.0 - p)), axis=-1)

    def gradient(self, y_true, y_pred):
        t = self._smooth(y_true)
        d = _last_axis_size(y_pred)
        if self.from_logits:
            return (activations_module.Sigmoid().forward(y_pred) - t) / d
        eps = backend.epsilon()
        p = np.clip(y_pred, eps, 1.0 - eps)
        inside = (y_pred > eps) & (y_pred < 1.0 - eps)
        return np.where(inside, (p - t) / (p * (1.0 - p)), 0.0) / d

    def fused_gradient(self, activation, y_true, y_pred, sample_weight=None):
        if self.from_logits or not isinstance(activation, activations_module.Sigmoid):
            return None
        if not self._has_formula_of(BinaryCrossentropy):
            return None
        t, p = self._align(y_true, y_pred)
        # d/dz of −[t log σ(z) + (1 − t) log(1 − σ(z))] = σ(z) − t
        grad = (p - self._smooth(t)) / _last_axis_size(p)
        return self._reduce_gradient(grad, p, sample_weight).reshape(y_pred.shape)

    def get_config(self):
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


@LOSSES.register("kl_divergence", "kullback_leibler_divergence", "kld", "KLD")
class KLDivergence(Loss):
    """`Σ y_true · log(y_true / y_pred)` with both clipped to [ε, 1] (so y_true = 0 adds ε·log(ε/p))."""

    def call(self, y_true, y_pred):
        eps = backend.epsilon()
        t = np.clip(y_true, eps, 1.0)
        p = np.clip(y_pred, eps, 1.0)
        return np.sum(t * np.log(t / p), axis=-1)

    def gradient(self, y_true, y_pred):
        eps = backend.epsilon()
        t = np.clip(y_true, eps, 1.0)
        p = np.clip(y_pred, eps, 1.0)
        return np.where((y_pred > eps) & (y_pred <= 1.0), -t / p, 0.0)


@LOSSES.register("cosine_similarity", "cosine_proximity")
class CosineSimilarity(Loss):
    """`−Σ l2n(y_true) · l2n(y_pred)` along `axis`, with `l2n(x) = x / max(‖x‖, ε)`.

    The loss is negative: −1 means the vectors point the same way (the metric has the + sign).
    """

    def __init__(self, axis: int = -1, reduction="sum_over_batch_size", name=None) -> None:
        super().__init__(reduction, name)
        self.axis = int(axis)

    def _value_axis(self) -> int:
        return self.axis

    @staticmethod
    def _normalize(x: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
        norm = np.sqrt(np.sum(np.square(x), axis=axis, keepdims=True))
        denominator = np.maximum(norm, backend.epsilon())
        return x / denominator, denominator

    def call(self, y_true, y_pred):
        a, _ = self._normalize(y_true, self.axis)
        b, _ = self._normalize(y_pred, self.axis)
        return -np.sum(a * b, axis=self.axis)

    def gradient(self, y_true, y_pred):
        eps = backend.epsilon()
        a, _ = self._normalize(y_true, self.axis)
        b, denominator = self._normalize(y_pred, self.axis)
        projection = np.sum(a * b, axis=self.axis, keepdims=True)
        # d(a·u/‖u‖)/du = (a − (a·û)û)/‖u‖ where the norm is above ε; a/ε where it is clamped.
        inside = denominator > eps
        return -np.where(inside, (a - projection * b) / denominator, a / eps)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


# --------------------------------------------------------------------------------------------------
# Keras's functions: per-sample values


def mean_squared_error(y_true, y_pred):
    """Per-sample `mean((y_true − y_pred)²)`."""
    return MeanSquaredError(reduction="none")(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    """Per-sample `mean(|y_true − y_pred|)`."""
    return MeanAbsoluteError(reduction="none")(y_true, y_pred)


def mean_absolute_percentage_error(y_true, y_pred):
    """Per-sample `100 · mean(|(y_true − y_pred) / max(|y_true|, ε)|)`."""
    return MeanAbsolutePercentageError(reduction="none")(y_true, y_pred)


def mean_squared_logarithmic_error(y_true, y_pred):
    """Per-sample `mean((log(p + 1) − log(t + 1))²)`."""
    return MeanSquaredLogarithmicError(reduction="none")(y_true, y_pred)


def log_cosh(y_true, y_pred):
    """Per-sample `mean(log(cosh(y_pred − y_true)))`."""
    return LogCosh(reduction="none")(y_true, y_pred)


def huber(y_true, y_pred, delta=1.0):
    """Per-sample Huber loss."""
    return Huber(delta, reduction="none")(y_true, y_pred)


def poisson(y_true, y_pred):
    """Per-sample `mean(y_pred − y_true · log(y_pred + ε))`."""
    return Poisson(reduction="none")(y_true, y_pred)


def hinge(y_true, y_pred):
    """Per-sample `mean(max(1 − y_true · y_pred, 0))`."""
    return Hinge(reduction="none")(y_true, y_pred)


def squared_hinge(y_true, y_pred):
    """Per-sample `mean(max(1 − y_true · y_pred, 0)²)`."""
    return SquaredHinge(reduction="none")(y_true, y_pred)


def categorical_hinge(y_true, y_pred):
    """Per-sample `max(neg − pos + 1, 0)`."""
    return CategoricalHinge(reduction="none")(y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample categorical cross-entropy."""
    loss = CategoricalCrossentropy(from_logits, label_smoothing, axis, reduction="none")
    return loss(y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Per-sample sparse categorical cross-entropy."""
    loss = SparseCategoricalCrossentropy(from_logits, ignore_class, axis, reduction="none")
    return loss(y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample binary cross-entropy (mean over the last axis)."""
    return BinaryCrossentropy(from_logits, label_smoothing, axis, reduction="none")(y_true, y_pred)


def kl_divergence(y_true, y_pred):
    """Per-sample `Σ y_true · log(y_true / y_pred)`."""
    return KLDivergence(reduction="none")(y_true, y_pred)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Per-sample `−Σ l2n(y_true) · l2n(y_pred)`."""
    return CosineSimilarity(axis, reduction="none")(y_true, y_pred)


# Keras 2 spellings used in the lecture.
logcosh = log_cosh
kullback_leibler_divergence = kl_divergence
cosine_proximity = cosine_similarity
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence

_FUNCTIONS = {
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    log_cosh: LogCosh,
    huber: Huber,
    poisson: Poisson,
    hinge: Hinge,
    squared_hinge: SquaredHinge,
    categorical_hinge: CategoricalHinge,
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    binary_crossentropy: BinaryCrossentropy,
    kl_divergence: KLDivergence,
    cosine_similarity: CosineSimilarity,
}


def get(identifier: Any) -> Loss:
    """A `Loss` from a name (Keras 3 names, aliases and the lecture's Keras 2 names), a config dict,
    an instance or one of this module's functions.

    Raises:
        ValueError: an unknown name, with the closest match and the known names.
        TypeError: any other callable. neuralnet differentiates by hand, so a loss needs its
            gradient: subclass `Loss` and write `call` and `gradient`.
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        return LOSSES.lookup(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier) and identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]()
    if callable(identifier):
        raise TypeError(
            f"Cannot use {identifier!r} as a loss: neuralnet backpropagates by hand, so a loss "
            "needs its gradient. Subclass neuralnet.losses.Loss and write call(y_true, y_pred) "
            "(per-sample values) and gradient(y_true, y_pred) (their derivative with respect to "
            "y_pred)."
        )
    raise TypeError(f"Cannot interpret {identifier!r} as a loss: expected a name or a Loss.")


def serialize(loss: Loss) -> dict[str, Any]:
    """`{'class_name': name, 'config': {...}}`."""
    name = LOSSES.name_of(loss)
    if name is None:
        raise ValueError(
            f"Loss {loss!r} is not registered; register it with "
            "@neuralnet.losses.LOSSES.register('name') to save models that use it."
        )
    return {"class_name": name, "config": loss.get_config()}


def deserialize(config: dict[str, Any]) -> Loss:
    """The inverse of `serialize`."""
    if "class_name" not in config:
        raise ValueError(f"A loss config needs a 'class_name' key, received {config!r}.")
    return LOSSES.lookup(config["class_name"]).from_config(config.get("config", {}))
