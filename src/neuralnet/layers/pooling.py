"""Pooling layers: each output is the max or the mean of a window of the input, per channel.

`MaxPooling1D/2D` and `AveragePooling1D/2D` slide a `pool_size` window with `strides` over the
spatial axes; the `Global*` layers reduce over all of them. Arguments, output shapes and numbers
are Keras 3's (its JAX backend, `lax.reduce_window`):

- `strides=None` means `strides=pool_size`;
- `padding="same"` pads `max((ceil(L/s) − 1)·s + p − L, 0)` positions, the odd one after, so that
  the output has ceil(L/s) positions; max pooling pads with −inf, and average pooling divides each
  window's sum by the number of *input* (not padded) positions in it;
- a gradient of max pooling goes to the first maximum of its window (row-major order within the
  window), as JAX's and TensorFlow's do; global max pooling instead shares it equally among tied
  maxima, as the gradient of `ops.max` (a reduction, not a pooling window) does.

Inside, a 1D input is a 2D input of height 1, and the spatial axes are addressed in place (axes 1, 2
channels last; 2, 3 channels first), so no layout is transposed. A window position ("tap") `(i, j)`
of every output is one strided slice of the (padded) input,

    tap(i, j) = x[:, i : i + s_h·(H_out − 1) + 1 : s_h,  j : j + s_w·(W_out − 1) + 1 : s_w]

of the output's shape, so forward and backward loop over the p_h·p_w taps only, never over the
batch or the positions. When the windows do not overlap (`strides >= pool_size`, the default) each
input position belongs to one tap at most, and backward writes each tap's gradient straight into
its slice instead of accumulating it; with "valid" padding no padded copy is made either.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neuralnet import _accelerate
from neuralnet._validation import owner_name
from neuralnet.layers.conv_utils import (
    channel_axis,
    check_rank,
    conv_output_length,
    conv_padding,
    layout,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    spatial_dims,
    with_spatial,
)
from neuralnet.layers.layer import Layer, register_layer, shape_str


def _check_channels(layer: Any, shape: tuple[Any, ...], built_for: Any) -> None:
    """A ValueError when the channels of `shape` differ from those the layer was built for."""
    if built_for is None:
        return
    axis = channel_axis(layer.data_format, len(shape))
    if shape[axis] is not None and shape[axis] != built_for:
        raise ValueError(
            f"{owner_name(layer)}: the channels axis (axis {axis} of "
            f"{layout(len(shape) - 2, layer.data_format)}) was built for {built_for} channels, "
            f"received {shape[axis]} in an input of shape {shape_str(tuple(shape))}."
        )


class _Pooling(Layer):
    """Max or average pooling over windows of `_spatial_rank` spatial axes (Keras's BasePooling)."""

    _spatial_rank = 2

    def __init__(
        self,
        pool_size: Any,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        n = self._spatial_rank
        self.pool_size = normalize_tuple(pool_size, n, "pool_size", self)
        self.strides = (
            self.pool_size if strides is None else normalize_tuple(strides, n, "strides", self)
        )
        self.padding = normalize_padding(padding, self)
        self.data_format = normalize_data_format(data_format, self)
        self._channels: int | None = None

    # -- shapes ---------------------------------------------------------------------------------

    def build(self, input_shape):
        check_rank(self, input_shape, self._spatial_rank, self.data_format)
        self.compute_output_shape(input_shape)  # a ValueError now when the pool does not fit
        self._channels = input_shape[channel_axis(self.data_format, len(input_shape))]
        self.built = True

    def check_input_shape(self, shape):
        """Spatial sizes may change from call to call; the rank and the channels may not."""
        check_rank(self, shape, self._spatial_rank, self.data_format)
        _check_channels(self, shape, self._channels)
        self.compute_output_shape(shape)

    def _pads(self, lengths: tuple[int, ...]) -> list[tuple[int, int]]:
        """(before, after) padding of each spatial axis."""
        return [
            conv_padding(length, p, s, 1, self.padding)
            for length, p, s in zip(lengths, self.pool_size, self.strides)
        ]

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, self._spatial_rank, self.data_format)
        lengths = spatial_dims(input_shape, self.data_format)
        padded = tuple(
            None if length is None else length + sum(conv_padding(length, p, s, 1, self.padding))
            for length, p, s in zip(lengths, self.pool_size, self.strides)
        )
        if any(q is not None and p > q for p, q in zip(self.pool_size, padded)):
            raise ValueError(
                f"{owner_name(self)}: pool_size {self.pool_size} is larger than the padded input "
                f"{shape_str(padded)} of an input of shape {shape_str(tuple(input_shape))} "
                f"(padding={self.padding!r}), so the output would be empty. Use a smaller "
                "pool_size, padding='same' or a larger input."
            )
        out = tuple(
            conv_output_length(length, p, s, 1, self.padding)
            for length, p, s in zip(lengths, self.pool_size, self.strides)
        )
        channels = input_shape[channel_axis(self.data_format, len(input_shape))]
        return with_spatial(input_shape[0], channels, out, self.data_format)

    # -- the windows ----------------------------------------------------------------------------

    def _as_2d(self, a: np.ndarray) -> np.ndarray:
        """A view with two spatial axes: a 1D input gets a height axis of size 1."""
        if self._spatial_rank == 2:
            return a
        return a[:, None] if self.data_format == "channels_last" else a[:, :, None]

    def _from_2d(self, a: np.ndarray) -> np.ndarray:
        if self._spatial_rank == 2:
            return a
        return a[:, 0] if self.data_format == "channels_last" else a[:, :, 0]

    def _index(self, rows: slice, cols: slice) -> tuple[slice, ...]:
        """The index of `rows`, `cols` of the spatial axes of a 2D batch in `data_format`."""
        if self.data_format == "channels_last":
            return (slice(None), rows, cols)
        return (slice(None), slice(None), rows, cols)

    def _geometry(self, shape: tuple[int, ...]) -> None:
        """Pool, strides, padding and output size of a 2D view of inputs of `shape`, on self."""
        axes = (1, 2) if self.data_format == "channels_last" else (2, 3)
        if self._spatial_rank == 1:
            pool, strides = (1, *self.pool_size), (1, *self.strides)
            pads = [(0, 0), *self._pads((shape[axes[1]],))]
        else:
            pool, strides = self.pool_size, self.strides
            pads = self._pads((shape[axes[0]], shape[axes[1]]))
        self._pool2, self._strides2, self._pads2 = pool, strides, pads
        self._out2 = tuple(
            (shape[a] + before + after - p) // s + 1
            for a, p, s, (before, after) in zip(axes, pool, strides, pads)
        )

    def _taps(self) -> list[tuple[slice, ...]]:
        """The index of each window position (i, j), row-major: a strided slice of the padded
        input with the output's shape."""
        (ph, pw), (sh, sw), (ho, wo) = self._pool2, self._strides2, self._out2
        return [
            self._index(slice(i, i + sh * (ho - 1) + 1, sh), slice(j, j + sw * (wo - 1) + 1, sw))
            for i in range(ph)
            for j in range(pw)
        ]

    def _pad(self, x2: np.ndarray, value: float) -> np.ndarray:
        """`x2` with `value` around it ("same" padding), or `x2` itself when nothing is added."""
        (top, bottom), (left, right) = self._pads2
        if not (top or bottom or left or right):
            return x2
        shape = list(x2.shape)
        axes = (1, 2) if self.data_format == "channels_last" else (2, 3)
        shape[axes[0]] += top + bottom
        shape[axes[1]] += left + right
        padded = np.full(shape, value, dtype=x2.dtype)
        padded[self._interior(x2.shape)] = x2
        return padded

    def _interior(self, shape: tuple[int, ...]) -> tuple[slice, ...]:
        """The index of the input inside the padded input."""
        (top, _), (left, _) = self._pads2
        axes = (1, 2) if self.data_format == "channels_last" else (2, 3)
        return self._index(slice(top, top + shape[axes[0]]), slice(left, left + shape[axes[1]]))

    def _grad_buffer(self, padded_shape: tuple[int, ...], dtype: Any) -> tuple[np.ndarray, bool]:
        """An array for dJ/d(padded x), and whether each tap may be written (not accumulated).

        Writing is right when the windows do not overlap; the buffer is then left uninitialized
        when the windows also tile it exactly, as every position gets written."""
        disjoint = all(s >= p for s, p in zip(self._strides2, self._pool2))
        axes = (1, 2) if self.data_format == "channels_last" else (2, 3)
        tiled = all(
            s == p and o * p == padded_shape[a]
            for s, p, o, a in zip(self._strides2, self._pool2, self._out2, axes)
        )
        if disjoint and tiled:
            return np.empty(padded_shape, dtype=dtype), True
        return np.zeros(padded_shape, dtype=dtype), disjoint

    def _crop(self, grad_xp: np.ndarray) -> np.ndarray:
        if grad_xp.shape == self._x_shape2:
            return grad_xp
        return grad_xp[self._interior(self._x_shape2)]

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }


class _MaxPooling(_Pooling):
    """Max pooling: `y[o] = max over the window of o of x` (−inf where padded).

    Backward: `dJ/dx[k] = Σ_o dJ/dy[o] · [k is the first argmax of window o]`, so each output's
    gradient goes to one input, the first maximum of its window in row-major order (as JAX and
    TensorFlow route ties); overlapping windows add up at the inputs they share.
    """

    def _compiled(self, x2: np.ndarray, load: bool) -> Any:
        """The compiled kernel when it applies: channels-last float arrays, windows of fewer than
        255 positions (their index is kept as a uint8), an accelerator in use."""
        if (
            self.data_format == "channels_last"
            and x2.dtype in _accelerate.DTYPES
            and self._pool2[0] * self._pool2[1] < 255
        ):
            return _accelerate.kernel("max_pool", load)
        return None

    def forward(self, x, *, training=False):
        x2 = self._as_2d(x)
        self._geometry(x2.shape)
        compiled = self._compiled(x2, load=training)
        if compiled is not None:
            # The same maxima in one pass, with the position of each window's first maximum.
            y = np.empty((x2.shape[0], *self._out2, x2.shape[3]), dtype=x2.dtype)
            argmax = np.empty(y.shape, dtype=np.uint8)
            (top, _), (left, _) = self._pads2
            compiled(x2, y, argmax, *self._pool2, *self._strides2, top, left)
            self._argmax, self._xp, self._y2, self._x_shape2 = argmax, None, None, x2.shape
            return self._from_2d(y)
        self._argmax = None
        xp = self._pad(x2, -np.inf)
        taps = self._taps()
        if len(taps) == 1:
            y = xp[taps[0]].copy()
        else:
            # Tap by tap with np.maximum: faster than reducing a (B, Ho, ph, Wo, pw, C) block view
            # over two axes.
            y = np.maximum(xp[taps[0]], xp[taps[1]])
            for tap in taps[2:]:
                np.maximum(y, xp[tap], out=y)
        self._xp, self._y2, self._x_shape2 = xp, y, x2.shape
        return self._from_2d(y)

    def backward(self, grad_y):
        if not self.needs_input_gradient:
            return None
        grad_y2 = self._as_2d(grad_y)
        if self._argmax is not None:
            (top, bottom), (left, right) = self._pads2
            (ph, pw), (oh, ow) = self._pool2, self._out2
            if self._strides2 == tuple(self._pool2) and not (top or bottom or left or right):
                # Windows that tile the input: one pass writes every covered position.
                grad_x = np.empty(self._x_shape2, dtype=grad_y2.dtype)
                _accelerate.kernel("max_pool_backward_tiled")(grad_y2, self._argmax, grad_x, ph, pw)
                grad_x[:, oh * ph :] = 0  # rows and columns no window reached
                grad_x[:, : oh * ph, ow * pw :] = 0
            else:
                grad_x = np.zeros(self._x_shape2, dtype=grad_y2.dtype)
                _accelerate.kernel("max_pool_backward")(
                    grad_y2, self._argmax, grad_x, pw, *self._strides2, top, left
                )
            return self._from_2d(grad_x)
        xp, y = self._xp, self._y2
        grad_xp, write = self._grad_buffer(xp.shape, grad_y2.dtype)
        taps = self._taps()
        unclaimed = None  # outputs whose maximum has not been met yet in the taps so far
        for t, tap in enumerate(taps):
            if unclaimed is not None and t == len(taps) - 1:
                first = unclaimed  # the maximum is in the window, so the rest have it here
            else:
                first = np.equal(xp[tap], y)
                if unclaimed is None:
                    unclaimed = ~first
                else:
                    first &= unclaimed  # a tie with an earlier tap stays with the earlier one
                    unclaimed ^= first
            if write:
                np.multiply(grad_y2, first, out=grad_xp[tap])
            else:
                grad_xp[tap] += grad_y2 * first
        return self._from_2d(self._crop(grad_xp))


class _AveragePooling(_Pooling):
    """Average pooling: `y[o] = (Σ_{k in window o} x[k]) / n[o]`, n[o] the number of input (not
    padded) positions of window o: `pool_size` entries with "valid" padding, fewer at the borders
    with "same" (Keras 3's count).

    Backward: `dJ/dx[k] = Σ_{o : k in window o} dJ/dy[o] / n[o]`.
    """

    def _counts(self, x_shape2: tuple[int, ...], dtype: Any) -> Any:
        """n[o]: a number when every window is full, else an array that broadcasts against y."""
        if not any(before or after for before, after in self._pads2):
            return dtype.type(self._pool2[0] * self._pool2[1])
        axes = (1, 2) if self.data_format == "channels_last" else (2, 3)
        per_axis = []
        for a, p, s, o, (before, _) in zip(
            axes, self._pool2, self._strides2, self._out2, self._pads2
        ):
            start = np.arange(o) * s - before  # first index of each window, in input coordinates
            per_axis.append(np.minimum(start + p, x_shape2[a]) - np.maximum(start, 0))
        counts = np.multiply.outer(per_axis[0], per_axis[1]).astype(dtype)
        return counts[:, :, None] if self.data_format == "channels_last" else counts

    def forward(self, x, *, training=False):
        x2 = self._as_2d(x)
        self._geometry(x2.shape)
        xp = self._pad(x2, 0.0)
        taps = self._taps()
        y = xp[taps[0]].copy()
        for tap in taps[1:]:
            y += xp[tap]
        counts = self._counts(x2.shape, y.dtype)
        y /= counts
        self._counts_, self._padded_shape, self._x_shape2 = counts, xp.shape, x2.shape
        return self._from_2d(y)

    def backward(self, grad_y):
        if not self.needs_input_gradient:
            return None
        grad_each = self._as_2d(grad_y) / self._counts_  # what each input of window o receives
        grad_xp, write = self._grad_buffer(self._padded_shape, grad_each.dtype)
        for tap in self._taps():
            if write:
                grad_xp[tap] = grad_each
            else:
                grad_xp[tap] += grad_each
        return self._from_2d(self._crop(grad_xp))


@register_layer("MaxPooling1D", "MaxPool1D")
class MaxPooling1D(_MaxPooling):
    """Max pooling over the steps of a sequence: `y[b, t, c] = max_{k<p} x[b, t·s + k − pad, c]`.

    Backward: dJ/dy[b, t, c] goes to the first maximum of window t (see `_MaxPooling`).

    Args:
        pool_size: The window length p, an int or a tuple of one int.
        strides: The step s between windows; `None` means `pool_size`.
        padding: "valid" (no padding) or "same" (pad with −inf so that the output has
            ceil(steps / s) positions).
        data_format: "channels_last", inputs (batch, steps, channels), or "channels_first",
            inputs (batch, channels, steps); `None` means `config.image_data_format()`.
    """

    _spatial_rank = 1

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@register_layer("MaxPooling2D", "MaxPool2D")
class MaxPooling2D(_MaxPooling):
    """Max pooling over height and width: `y[b, i, j, c] = max of x over the window
    [i·s_h − pad_top, +p_h) × [j·s_w − pad_left, +p_w)` of channel c.

    Backward: `dJ/dx[k] = Σ_o dJ/dy[o] · [k is the first argmax of window o]` (row-major order in
    the window, as JAX and TensorFlow route ties).

    Args:
        pool_size: The window (p_h, p_w), or an int for both.
        strides: The steps (s_h, s_w) between windows, or an int; `None` means `pool_size`.
        padding: "valid" (no padding) or "same" (pad with −inf so that the output has
            ceil(size / stride) positions on each axis).
        data_format: "channels_last", inputs (batch, height, width, channels), or
            "channels_first", (batch, channels, height, width); `None` means
            `config.image_data_format()`.
    """

    _spatial_rank = 2

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@register_layer("AveragePooling1D", "AvgPool1D")
class AveragePooling1D(_AveragePooling):
    """Average pooling over the steps of a sequence: `y[b, t, c] = Σ_k x[b, t·s + k − pad, c] / n[t]`,
    n[t] the number of input (not padded) steps in window t.

    Backward: `dJ/dx[b, k, c] = Σ_{t : k in window t} dJ/dy[b, t, c] / n[t]`.

    Args:
        pool_size: The window length p, an int or a tuple of one int (required, as in Keras 3).
        strides: The step s between windows; `None` means `pool_size`.
        padding: "valid" or "same" (the output has ceil(steps / s) positions; padded steps are
            left out of the mean).
        data_format: "channels_last", inputs (batch, steps, channels), or "channels_first",
            inputs (batch, channels, steps); `None` means `config.image_data_format()`.
    """

    _spatial_rank = 1

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@register_layer("AveragePooling2D", "AvgPool2D")
class AveragePooling2D(_AveragePooling):
    """Average pooling over height and width: `y[o] = Σ_{k in window o} x[k] / n[o]`, n[o] the
    number of input (not padded) positions in window o.

    Backward: `dJ/dx[k] = Σ_{o : k in window o} dJ/dy[o] / n[o]`.

    Args:
        pool_size: The window (p_h, p_w), or an int for both (required, as in Keras 3).
        strides: The steps (s_h, s_w) between windows, or an int; `None` means `pool_size`.
        padding: "valid" or "same" (the output has ceil(size / stride) positions on each axis;
            padded positions are left out of the mean).
        data_format: "channels_last", inputs (batch, height, width, channels), or
            "channels_first", (batch, channels, height, width); `None` means
            `config.image_data_format()`.
    """

    _spatial_rank = 2

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class _GlobalPooling(Layer):
    """Max or mean over all spatial axes (Keras's BaseGlobalPooling).

    Args:
        data_format: "channels_last" or "channels_first"; `None` means
            `config.image_data_format()`.
        keepdims: Keep the spatial axes with size 1, (batch, 1, ..., channels), instead of
            returning (batch, channels).
    """

    _spatial_rank = 2

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format, self)
        if not isinstance(keepdims, (bool, np.bool_)):
            raise TypeError(
                f"{owner_name(self)}: `keepdims` must be True or False, received "
                f"keepdims={keepdims!r}."
            )
        self.keepdims = bool(keepdims)
        self._channels: int | None = None

    @property
    def _axes(self) -> tuple[int, ...]:
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self._spatial_rank))

    def build(self, input_shape):
        check_rank(self, input_shape, self._spatial_rank, self.data_format)
        self._channels = input_shape[channel_axis(self.data_format, len(input_shape))]
        self.built = True

    def check_input_shape(self, shape):
        """Spatial sizes may change from call to call; the rank and the channels may not."""
        check_rank(self, shape, self._spatial_rank, self.data_format)
        _check_channels(self, shape, self._channels)

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, self._spatial_rank, self.data_format)
        channels = input_shape[channel_axis(self.data_format, len(input_shape))]
        if self.keepdims:
            return with_spatial(
                input_shape[0], channels, (1,) * self._spatial_rank, self.data_format
            )
        return (input_shape[0], channels)

    def _expand(self, grad_y: np.ndarray) -> np.ndarray:
        """dJ/dy with the spatial axes back (size 1), to broadcast against x."""
        return grad_y if self.keepdims else np.expand_dims(grad_y, self._axes)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class _GlobalAveragePooling(_GlobalPooling):
    """`y[b, c] = mean over the N spatial positions of x[b, ..., c]`.

    Backward: `dJ/dx[b, k, c] = dJ/dy[b, c] / N` at every position k.
    """

    def forward(self, x, *, training=False):
        self._x_shape = x.shape
        return np.mean(x, axis=self._axes, keepdims=self.keepdims)

    def backward(self, grad_y):
        if not self.needs_input_gradient:
            return None
        n = math.prod(self._x_shape[a] for a in self._axes)
        grad_x = np.empty(self._x_shape, dtype=grad_y.dtype)
        grad_x[...] = self._expand(grad_y) / n
        return grad_x


class _GlobalMaxPooling(_GlobalPooling):
    """`y[b, c] = max over the spatial positions of x[b, ..., c]`.

    Backward: `dJ/dx[b, k, c] = dJ/dy[b, c] · [x[b, k, c] = y[b, c]] / m[b, c]`, m the number of
    positions holding the maximum: tied maxima share the gradient equally, as the gradient of
    Keras's `ops.max` (JAX's and TensorFlow's reduce_max) does.
    """

    def forward(self, x, *, training=False):
        y = np.max(x, axis=self._axes, keepdims=True)
        self._x, self._y = x, y
        return y if self.keepdims else np.squeeze(y, self._axes)

    def backward(self, grad_y):
        if not self.needs_input_gradient:
            return None
        at_max = self._x == self._y
        ties = np.sum(at_max, axis=self._axes, keepdims=True)
        return at_max * (self._expand(grad_y) / ties).astype(grad_y.dtype, copy=False)


@register_layer("GlobalAveragePooling1D", "GlobalAvgPool1D")
class GlobalAveragePooling1D(_GlobalAveragePooling):
    """Mean over the steps: (batch, steps, channels) -> (batch, channels).

    Backward: `dJ/dx[b, t, c] = dJ/dy[b, c] / steps`. Keras's `mask` argument is not supported.

    Args:
        data_format: "channels_last", inputs (batch, steps, channels), or "channels_first",
            (batch, channels, steps); `None` means `config.image_data_format()`.
        keepdims: Return (batch, 1, channels) (or (batch, channels, 1)) instead.
    """

    _spatial_rank = 1


@register_layer("GlobalAveragePooling2D", "GlobalAvgPool2D")
class GlobalAveragePooling2D(_GlobalAveragePooling):
    """Mean over height and width: (batch, height, width, channels) -> (batch, channels).

    Backward: `dJ/dx[b, i, j, c] = dJ/dy[b, c] / (height · width)`.

    Args:
        data_format: "channels_last", inputs (batch, height, width, channels), or
            "channels_first", (batch, channels, height, width); `None` means
            `config.image_data_format()`.
        keepdims: Return (batch, 1, 1, channels) (or (batch, channels, 1, 1)) instead.
    """

    _spatial_rank = 2


@register_layer("GlobalMaxPooling1D", "GlobalMaxPool1D")
class GlobalMaxPooling1D(_GlobalMaxPooling):
    """Max over the steps: (batch, steps, channels) -> (batch, channels).

    Backward: dJ/dy[b, c] goes to the steps holding the maximum, shared equally among ties.

    Args:
        data_format: "channels_last", inputs (batch, steps, channels), or "channels_first",
            (batch, channels, steps); `None` means `config.image_data_format()`.
        keepdims: Return (batch, 1, channels) (or (batch, channels, 1)) instead.
    """

    _spatial_rank = 1


@register_layer("GlobalMaxPooling2D", "GlobalMaxPool2D")
class GlobalMaxPooling2D(_GlobalMaxPooling):
    """Max over height and width: (batch, height, width, channels) -> (batch, channels).

    Backward: dJ/dy[b, c] goes to the positions holding the maximum, shared equally among ties.

    Args:
        data_format: "channels_last", inputs (batch, height, width, channels), or
            "channels_first", (batch, channels, height, width); `None` means
            `config.image_data_format()`.
        keepdims: Return (batch, 1, 1, channels) (or (batch, channels, 1, 1)) instead.
    """

    _spatial_rank = 2
