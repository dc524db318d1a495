"""Preprocessing layers that a model carries, as Keras 3: Rescaling (`y = x·scale + offset`) and
Normalization (`y = (x − mean) / sqrt(variance)`, the statistics given or learned by `adapt`).

A saved model keeps them, so it applies its own scaling at predict time. Neither has trained
parameters; Normalization's adapted statistics are state arrays saved with the model under Keras's
names (`mean`, `variance`, `count`), so its `.keras` files load in Keras and Keras's load here.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from neuralnet import backend
from neuralnet._validation import owner_name
from neuralnet.layers.layer import Layer, register_layer, shape_str


def _plain(value: Any) -> Any:
    """A float, or a (nested) list of floats, for a config: Keras writes arrays as lists."""
    array = np.asarray(value)
    if array.ndim == 0:
        return float(array) if array.dtype.kind == "f" else array.item()
    return array.tolist()


def _sum_to_shape(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The adjoint of broadcasting an array of `shape` to `grad.shape`: sum the added axes."""
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, s in enumerate(shape) if s == 1 and grad.shape[extra + i] != 1
    )
    return np.sum(grad, axis=axes, keepdims=True).reshape(shape)


# -- Rescaling ----------------------------------------------------------------------------------


@register_layer("Rescaling")
class Rescaling(Layer):
    """`y = x·scale + offset`, e.g. `Rescaling(1/255)` maps pixels in [0, 255] to [0, 1].

    Args:
        scale: A float, or a list of floats broadcast on the last axis (on the channels axis of
            3-D samples when `image_data_format()` is `"channels_first"`, as Keras).
        offset: A float, or a list of floats broadcast like `scale`.

    No weights. dJ/dx = dJ/dy · scale.
    """

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for arg, value in (("scale", scale), ("offset", offset)):
            array = np.asarray(value) if not isinstance(value, str) else None
            if array is None or array.dtype.kind not in "biuf" or array.size == 0:
                raise ValueError(
                    f"{owner_name(self)}: `{arg}` must be a number or a list of numbers, "
                    f"received {arg}={value!r}."
                )
        self.scale = scale
        self.offset = offset

    def _constants(self, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
        scale = np.asarray(self.scale, dtype=dtype)
        offset = np.asarray(self.offset, dtype=dtype)
        if scale.ndim > 0 and backend.image_data_format() == "channels_first":
            scale = scale.reshape(scale.shape + (1,) * (3 - scale.ndim))  # as Keras
        return scale, offset

    def forward(self, x, *, training=False):
        scale, offset = self._constants(x.dtype if x.dtype.kind == "f" else self.compute_dtype)
        y = x * scale + offset
        self._x_shape, self._scale = x.shape, scale
        return y

    def backward(self, grad_y):
        # y = x·scale + offset  =>  dJ/dx = dJ/dy · scale (summed where x was broadcast)
        if not self.needs_input_gradient:
            return None
        return _sum_to_shape(grad_y * self._scale, self._x_shape)

    def get_config(self):
        return {**super().get_config(), "scale": _plain(self.scale), "offset": _plain(self.offset)}

    @classmethod
    def from_config(cls, config):
        # Keras writes a NumPy `scale` or `offset` as {"class_name": "__numpy__", "config": ...}.
        config = dict(config)
        for key in ("scale", "offset"):
            value = config.get(key)
            if isinstance(value, dict) and value.get("class_name") == "__numpy__":
                inner = value.get("config") or {}
                config[key] = np.asarray(inner.get("value"), dtype=inner.get("dtype"))
        return cls(**config)


# -- Normalization ------------------------------------------------------------------------------


def _first_of_batch(batch: Any) -> Any:
    """The inputs of a batch: `x` of an `(x, y)` or `(x, y, sample_weight)` tuple, as Keras."""
    return batch[0] if isinstance(batch, tuple) else batch


@register_layer("Normalization")
class Normalization(Layer):
    """`y = (x − mean) / max(sqrt(variance), ε)` per index of `axis`, as Keras 3 (ε = 1e-7, Keras's
    `backend.epsilon()`); with `invert=True`, `y = mean + x · max(sqrt(variance), ε)`.

    The statistics are either given (`mean` and `variance`, broadcast to the kept axes from the
    right, kept in the config and not saved as weights), or computed from data by `adapt()`: the
    mean and the population variance (ddof 0, as `np.var`) over every axis not in `axis`.

    Args:
        axis: The axes that keep their own mean and variance: an int, a tuple of ints, or `None`
            for one scalar mean and variance over all values. Defaults to -1 (per feature).
        mean: The mean, a float or a (nested) list broadcast to the kept axes; with `variance`.
        variance: The variance, shaped as `mean`.
        invert: Apply the inverse map, turning normalized values back into the data's scale.

    Weights, in Keras's order, when not given: `mean`, `variance` (float, the kept axes' shape)
    and `count` (a scalar that Keras keeps for old files and never updates; 0 here too). Keras's
    count is int32; here it is a float, which Keras loads (it casts), because the weights file
    reader of `neuralnet.saving` accepts only floats in a layer's arrays.
    dJ/dx = dJ/dy / std (· std with `invert`): the statistics are constants for the gradient.
    """

    def __init__(
        self,
        axis: int | tuple[int, ...] | None = -1,
        mean: Any = None,
        variance: Any = None,
        invert: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if axis is None:
            axes: tuple[int, ...] = ()
        elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
            axes = (int(axis),)
        else:
            try:
                axes = tuple(axis)
            except TypeError:
                axes = (None,)  # type: ignore[assignment]
            if not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axes):
                raise ValueError(
                    f"{owner_name(self)}: `axis` must be an integer, a tuple of integers or None, "
                    f"received axis={axis!r}."
                )
            axes = tuple(int(a) for a in axes)
        if len(set(axes)) != len(axes):
            raise ValueError(f"{owner_name(self)}: `axis` repeats an axis: axis={axis!r}.")
        self.axis = axes
        if (mean is None) != (variance is None):
            raise ValueError(
                f"{owner_name(self)}: when setting values directly, both `mean` and `variance` "
                f"must be set. Received: mean={mean!r} and variance={variance!r}."
            )
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    f"{owner_name(self)}: `mean` and `variance` must have the same shape. "
                    f"Received: mean shape {np.shape(mean)} and variance shape "
                    f"{np.shape(variance)}."
                )
            if np.ndim(mean) > len(self.axis):
                raise ValueError(
                    f"{owner_name(self)}: the rank of `mean` must be at most the number of axes "
                    f"({len(self.axis)}). Received: mean shape {np.shape(mean)} for axis "
                    f"{self.axis}."
                )
            if np.any(np.asarray(variance, dtype=np.float64) < 0):
                raise ValueError(f"{owner_name(self)}: `variance` must be >= 0.")
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self._adapted = False

    # -- building ---------------------------------------------------------------------------

    def _axes_for(self, rank: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(kept axes, reduced axes) for inputs of `rank`, or a ValueError for a bad `axis`."""
        if any(a < -rank or a >= rank for a in self.axis):
            raise ValueError(
                f"Normalization layer {self.name!r}: every `axis` must be in [-ndim, ndim); "
                f"received inputs of rank {rank} and axis={self.axis}."
            )
        keep = tuple(sorted(a % rank for a in self.axis))
        return keep, tuple(d for d in range(rank) if d not in keep)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        rank = len(input_shape)
        keep, reduce = self._axes_for(rank)
        for d in keep:
            if input_shape[d] is None:
                raise ValueError(
                    f"Normalization layer {self.name!r}: every kept axis needs a known size; "
                    f"received axis={self.axis} and input shape {shape_str(input_shape)}, with "
                    f"axis {d} unknown."
                )
        self._keep_axis, self._reduce_axis = keep, reduce
        self._broadcast_shape = tuple(input_shape[d] if d in keep else 1 for d in range(rank))
        self._mean_and_var_shape = tuple(input_shape[d] for d in keep)
        if self.input_mean is None:
            self.add_weight("mean", self._mean_and_var_shape, "zeros", trainable=False)
            self.add_weight("variance", self._mean_and_var_shape, "ones", trainable=False)
            self.add_weight("count", (), "zeros", trainable=False, dtype="int32")  # as Keras
        else:
            self._given = tuple(
                self._broadcast_given(v) for v in (self.input_mean, self.input_variance)
            )
        self.built = True

    def _broadcast_given(self, value: Any) -> np.ndarray:
        """A given mean or variance in the broadcast shape: its axes are the kept axes, aligned
        from the right (Keras's rule); a scalar is the same everywhere."""
        array = np.asarray(value, dtype=self.compute_dtype)
        rank = len(self._broadcast_shape)
        expanded = [1] * rank
        for i in range(1, array.ndim + 1):
            expanded[self._keep_axis[-i]] = array.shape[-i]
        try:
            return np.broadcast_to(array.reshape(expanded), self._broadcast_shape)
        except ValueError:
            raise ValueError(
                f"Normalization layer {self.name!r}: `mean` and `variance` of shape "
                f"{array.shape} cannot be broadcast to the kept axes' shape "
                f"{self._mean_and_var_shape} (axis={self.axis})."
            ) from None

    # -- adapt --------------------------------------------------------------------------------

    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Compute the mean and variance of `data` over every axis not in `axis`, as Keras.

        Args:
            data: A NumPy array (or array-like) of samples, a `PyDataset`, or an iterable of
                batches (arrays, or `(x, y)` tuples whose `x` is used).
            batch_size: Read an array in batches of this size (the result is the same up to
                rounding).
            steps: Read at most this many batches of a dataset or iterable.
        """
        if self.input_mean is not None:
            raise ValueError(
                f"Normalization layer {self.name!r} was given `mean` and `variance`; adapt() "
                "cannot change them."
            )
        if batch_size is not None and (
            not isinstance(batch_size, numbers.Integral) or batch_size < 1
        ):
            raise ValueError(f"{owner_name(self)}: `batch_size` must be a positive integer.")
        if steps is not None and (not isinstance(steps, numbers.Integral) or steps < 1):
            raise ValueError(f"{owner_name(self)}: `steps` must be a positive integer.")
        batches: Iterable[Any] | None = None
        if isinstance(data, (str, bytes, dict)) or data is None:
            raise TypeError(
                f"{owner_name(self)}: adapt() takes a NumPy array, a PyDataset or an iterable of "
                f"batches, received {type(data).__name__}."
            )
        if isinstance(data, (np.ndarray, numbers.Number)) or (
            isinstance(data, list) and data and isinstance(data[0], (numbers.Number, list))
        ):
            array = np.asarray(data)
            if array.dtype.kind not in "biuf":
                raise TypeError(f"{owner_name(self)}: adapt() needs numbers, got {array.dtype}.")
            if batch_size is not None:
                batches = (array[i : i + batch_size] for i in range(0, len(array), batch_size))
            first = array
        elif (
            hasattr(data, "__len__")
            and hasattr(data, "__getitem__")
            and not isinstance(data, (list, tuple))
        ):  # a PyDataset
            batches = (data[i] for i in range(len(data)))
        elif isinstance(data, Iterable):
            batches = iter(data)
        else:
            raise TypeError(
                f"{owner_name(self)}: adapt() takes a NumPy array, a PyDataset or an iterable of "
                f"batches, received {type(data).__name__}."
            )
        if batches is not None:
            if steps is not None:
                batches = itertools.islice(batches, steps)
            batches = iter(batches)
            head = next(batches, None)
            if head is None:
                raise ValueError(f"{owner_name(self)}: adapt() received no batches.")
            first = np.asarray(_first_of_batch(head))
            batches = itertools.chain([first], batches)

        shape = first.shape
        if not self.built:
            keep, _ = self._axes_for(len(shape))
            self.ensure_built(tuple(s if d in keep else None for d, s in enumerate(shape)))
        if batches is None:
            self._check_adapt_shape(shape)
            mean = np.mean(first, axis=self._reduce_axis)
            variance = np.var(first, axis=self._reduce_axis)
        else:
            mean, variance = self._combine(batches)
        self.state["mean"][...] = mean
        self.state["variance"][...] = variance
        self._adapted = True

    def _check_adapt_shape(self, shape: tuple[int, ...]) -> None:
        built = self._build_input_shape
        if len(shape) != len(built) or any(shape[d] != built[d] for d in self._keep_axis):
            raise ValueError(
                f"Normalization layer {self.name!r} was built for inputs of shape "
                f"{shape_str((None, *built[1:]))}, but adapt() received data of shape "
                f"{shape_str(tuple(shape))} (axis={self.axis})."
            )

    def _combine(self, batches: Iterable[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Mean and population variance over batches, combined as Keras does (the lack-of-fit
        sum of squares), in float64."""
        total_mean = np.zeros(self._mean_and_var_shape)
        total_var = np.zeros(self._mean_and_var_shape)
        total_count = 0
        for batch in batches:
            x = np.asarray(_first_of_batch(batch), dtype=np.float64)
            self._check_adapt_shape(x.shape)
            count = math.prod(x.shape[d] for d in self._reduce_axis)
            if count == 0:
                continue
            batch_mean = np.mean(x, axis=self._reduce_axis)
            batch_var = np.var(x, axis=self._reduce_axis)
            total_count += count
            weight = count / total_count
            new_mean = total_mean * (1.0 - weight) + batch_mean * weight
            total_var = (total_var + (total_mean - new_mean) ** 2) * (1.0 - weight) + (
                batch_var + (batch_mean - new_mean) ** 2
            ) * weight
            total_mean = new_mean
        if total_count == 0:
            raise ValueError(f"{owner_name(self)}: adapt() received no samples.")
        return total_mean, total_var

    # -- forward and backward -------------------------------------------------------------------

    def _statistics(self) -> tuple[np.ndarray, np.ndarray]:
        if self.input_mean is not None:
            return self._given
        mean, variance = self.state["mean"], self.state["variance"]
        if not self._adapted:
            # Loaded from a file or set with set_weights: the statistics are no longer the
            # initial zeros and ones. (Keras would silently use those; that is never intended.)
            if np.any(mean != 0) or np.any(variance != 1):
                self._adapted = True
            else:
                raise ValueError(
                    f"Normalization layer {self.name!r} has no mean and variance: call "
                    "adapt(data) on it before using it, or pass `mean` and `variance` to its "
                    "constructor."
                )
        return mean.reshape(self._broadcast_shape), variance.reshape(self._broadcast_shape)

    def forward(self, x, *, training=False):
        mean, variance = self._statistics()
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(self.compute_dtype)
        mean, variance = mean.astype(dtype, copy=False), variance.astype(dtype, copy=False)
        std = np.maximum(np.sqrt(variance), dtype.type(backend.epsilon()))
        y = mean + x * std if self.invert else (x - mean) / std
        self._std, self._x_shape = std, x.shape
        return y

    def backward(self, grad_y):
        # y = (x − μ)/σ  =>  dJ/dx = dJ/dy / σ;  inverted, y = μ + x·σ  =>  dJ/dx = dJ/dy · σ
        if not self.needs_input_gradient:
            return None  # no parameters: nothing else to compute
        grad_x = grad_y * self._std if self.invert else grad_y / self._std
        return _sum_to_shape(grad_x, self._x_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": list(self.axis),
            "invert": self.invert,
            "mean": None if self.input_mean is None else _plain(self.input_mean),
            "variance": None if self.input_variance is None else _plain(self.input_variance),
        }
