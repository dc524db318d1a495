"""Layers that resize the spatial axes of each sample, as Keras 3: UpSampling1D and UpSampling2D
(repeat, or interpolate bilinearly), ZeroPadding1D and ZeroPadding2D (add zeros at the borders),
Cropping1D and Cropping2D (cut the borders off).

None of them has parameters: each `backward` only routes dJ/dy back to the inputs that made it.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from neuralnet._validation import owner_name
from neuralnet.layers import conv_utils
from neuralnet.layers.layer import Layer, register_layer, shape_str

#: What UpSampling2D interpolates with. Keras 3 also offers bicubic, lanczos3 and lanczos5.
INTERPOLATIONS = ("nearest", "bilinear")


# -- helpers ------------------------------------------------------------------------------------


def _spatial_axes(spatial_rank: int, data_format: str) -> tuple[int, ...]:
    """The axes of a batch that are spatial: (1, 2) channels last, (2, 3) channels first."""
    first = 2 if data_format == "channels_first" else 1
    return tuple(range(first, first + spatial_rank))


def _pair(value: Any) -> tuple[int, int] | None:
    """`(v, v)` for an int, `(a, b)` for a sequence of two ints >= 0; None when neither."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value, value)
    try:
        values = tuple(value)
    except TypeError:
        return None
    if len(values) != 2 or any(
        isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0 for v in values
    ):
        return None
    return int(values[0]), int(values[1])


def _pairs_2d(value: Any, arg: str, where: Layer) -> tuple[tuple[int, int], tuple[int, int]]:
    """Keras's 2D padding and cropping argument as ((top, bottom), (left, right)).

    An int is the same on every side; a pair `(h, w)` is symmetric per axis (each entry an int
    or a pair itself); `((top, bottom), (left, right))` is explicit."""
    pairs = None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        pairs = (_pair(value), _pair(value))
    elif not isinstance(value, str):
        try:
            entries = tuple(value)
        except TypeError:
            entries = ()
        if len(entries) == 2:
            pairs = (_pair(entries[0]), _pair(entries[1]))
    if pairs is None or None in pairs:
        raise ValueError(
            f"{owner_name(where)}: `{arg}` must be a non-negative integer, a tuple of 2 "
            "non-negative integers (symmetric height, symmetric width), or a tuple of 2 tuples of "
            f"2 non-negative integers ((top, bottom), (left, right)); received {arg}={value!r}."
        )
    return pairs  # type: ignore[return-value]


def _check_rank_and_size(layer: Layer, shape: Any, spatial_rank: int, data_format: str) -> None:
    conv_utils.check_rank(layer, tuple(shape), spatial_rank, data_format)
    layer.compute_output_shape(tuple(shape))  # the cropping check, where a layer has one


def _repeat_sum(grad: np.ndarray, axis: int, factor: int) -> np.ndarray:
    """The adjoint of `np.repeat(x, factor, axis)`: the sum of each run of `factor` entries."""
    if factor == 1:
        return grad
    shape = grad.shape
    runs = shape[:axis] + (shape[axis] // factor, factor) + shape[axis + 1 :]
    return grad.reshape(runs).sum(axis=axis + 1)


def bilinear_matrix(length: int, factor: int, dtype: Any = np.float64) -> np.ndarray:
    """The (length·factor, length) matrix W with `y = W @ x` the bilinear upsampling of `x`.

    As `jax.image.resize(method="bilinear")`, which Keras 3 calls: output position `o` samples
    the input at `s = (o + 0.5) / factor − 0.5` (half-pixel centres), weighting its two neighbours
    `floor(s)` and `floor(s) + 1` by `1 − frac(s)` and `frac(s)`. JAX renormalizes the weights
    that fall inside the input, so near the borders, where `s < 0` or `s > length − 1`, all the
    weight goes to the edge value: the same as clamping `s` to [0, length − 1]. (Antialiasing
    only widens the kernel when downsampling, never here.)
    """
    out = length * factor
    s = (np.arange(out) + 0.5) / factor - 0.5
    s = np.clip(s, 0.0, length - 1)
    low = np.floor(s).astype(np.intp)
    high = np.minimum(low + 1, length - 1)
    frac = s - low
    matrix = np.zeros((out, length), dtype=np.float64)
    rows = np.arange(out)
    np.add.at(matrix, (rows, low), 1.0 - frac)
    np.add.at(matrix, (rows, high), frac)
    return matrix.astype(dtype, copy=False)


def _times(size: int | None, factor: int) -> int | None:
    return None if size is None else size * factor


def _plus(size: int | None, pair: tuple[int, int]) -> int | None:
    return None if size is None else size + pair[0] + pair[1]


def _crop_length(layer: Layer, shape: Any, size: int | None, pair: tuple[int, int],
                 word: str) -> int | None:  # fmt: skip
    """The length left after cropping `pair` off an axis of `size`; ValueError if nothing is."""
    if size is None:
        return None
    if pair[0] + pair[1] >= size:
        shown = layer.cropping
        raise ValueError(
            f"{owner_name(layer)}: cropping {shown} removes all {size} {word} of inputs of shape "
            f"{shape_str(tuple(shape))}; the cropping of each axis must add up to less than its "
            "size."
        )
    return size - pair[0] - pair[1]


# -- upsampling ---------------------------------------------------------------------------------


@register_layer("UpSampling1D")
class UpSampling1D(Layer):
    """Repeats each step `size` times: (batch, steps, features) -> (batch, steps·size, features).

    `y[:, t] = x[:, t // size]`, so `dJ/dx[:, t] = Σ_{k<size} dJ/dy[:, t·size + k]`.

    Args:
        size: The upsampling factor, a positive integer.
    """

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        (self.size,) = conv_utils.normalize_tuple(size, 1, "size", self)

    def build(self, input_shape):
        _check_rank_and_size(self, input_shape, 1, "channels_last")
        self.built = True

    def check_input_shape(self, shape):
        _check_rank_and_size(self, shape, 1, "channels_last")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], _times(input_shape[1], self.size), input_shape[2])

    def forward(self, x, *, training=False):
        return np.repeat(x, self.size, axis=1)

    def backward(self, grad_y):
        return _repeat_sum(grad_y, 1, self.size)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


@register_layer("UpSampling2D")
class UpSampling2D(Layer):
    """Upsamples the height and width by `size`, repeating ("nearest") or interpolating
    ("bilinear") the rows and columns.

    - nearest: `y[:, i, j] = x[:, i // sh, j // sw]`, so dJ/dx sums dJ/dy over each sh×sw block.
    - bilinear: `y = W_h · x · W_wᵀ` on each channel, with the interpolation matrices of
      `bilinear_matrix` (Keras 3 on JAX: half-pixel centres, edges clamped). The map is linear, so
      `dJ/dx = W_hᵀ · dJ/dy · W_w`.

    Args:
        size: Factors for rows and columns: an int (both) or a tuple of 2 positive integers.
        data_format: "channels_last" (batch, height, width, channels) or "channels_first"
            (batch, channels, height, width); `neuralnet.config.image_data_format()` when `None`.
        interpolation: "nearest" or "bilinear".
    """

    def __init__(
        self,
        size: Any = (2, 2),
        data_format: str | None = None,
        interpolation: str = "nearest",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.data_format = conv_utils.normalize_data_format(data_format, self)
        self.size = conv_utils.normalize_tuple(size, 2, "size", self)
        method = interpolation.lower() if isinstance(interpolation, str) else interpolation
        if method not in INTERPOLATIONS:
            raise ValueError(
                f"{owner_name(self)}: `interpolation` must be one of "
                f"{', '.join(repr(i) for i in INTERPOLATIONS)}, received "
                f"interpolation={interpolation!r}. (Keras 3's 'bicubic', 'lanczos3' and "
                "'lanczos5' are not implemented.)"
            )
        self.interpolation = method
        self._matrices: tuple[np.ndarray, np.ndarray] | None = None

    def build(self, input_shape):
        _check_rank_and_size(self, input_shape, 2, self.data_format)
        self.built = True

    def check_input_shape(self, shape):
        _check_rank_and_size(self, shape, 2, self.data_format)

    def compute_output_shape(self, input_shape):
        height, width = conv_utils.spatial_dims(input_shape, self.data_format)
        channels = input_shape[conv_utils.channel_axis(self.data_format, 4)]
        spatial = (_times(height, self.size[0]), _times(width, self.size[1]))
        return conv_utils.with_spatial(input_shape[0], channels, spatial, self.data_format)

    def _subscripts(self) -> tuple[str, str]:
        """einsum subscripts of x and of x with its rows interpolated ("o" rows, "p" columns)."""
        if self.data_format == "channels_first":
            return "bchw", "bcow"
        return "bhwc", "bowc"

    def forward(self, x, *, training=False):
        rows_axis, cols_axis = _spatial_axes(2, self.data_format)
        if self.interpolation == "nearest":
            return np.repeat(
                np.repeat(x, self.size[0], axis=rows_axis), self.size[1], axis=cols_axis
            )
        height, width = x.shape[rows_axis], x.shape[cols_axis]
        w_rows = bilinear_matrix(height, self.size[0], x.dtype)  # (H·sh, H)
        w_cols = bilinear_matrix(width, self.size[1], x.dtype)  # (W·sw, W)
        self._matrices = (w_rows, w_cols)
        x_sub, mid_sub = self._subscripts()
        y_sub = mid_sub.replace("w", "p")
        # y[o, p] = Σ_h Σ_w W_rows[o, h] · x[h, w] · W_cols[p, w]
        rows_done = np.einsum(f"oh,{x_sub}->{mid_sub}", w_rows, x, optimize=True)
        return np.einsum(f"pw,{mid_sub}->{y_sub}", w_cols, rows_done, optimize=True)

    def backward(self, grad_y):
        rows_axis, cols_axis = _spatial_axes(2, self.data_format)
        if self.interpolation == "nearest":
            return _repeat_sum(
                _repeat_sum(grad_y, rows_axis, self.size[0]), cols_axis, self.size[1]
            )
        w_rows, w_cols = self._matrices
        x_sub, mid_sub = self._subscripts()
        y_sub = mid_sub.replace("w", "p")
        # dJ/dx[h, w] = Σ_o Σ_p W_rows[o, h] · dJ/dy[o, p] · W_cols[p, w]
        cols_done = np.einsum(f"pw,{y_sub}->{mid_sub}", w_cols, grad_y, optimize=True)
        return np.einsum(f"oh,{mid_sub}->{x_sub}", w_rows, cols_done, optimize=True)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}  # fmt: skip


# -- zero padding -------------------------------------------------------------------------------


@register_layer("ZeroPadding1D")
class ZeroPadding1D(Layer):
    """Adds `padding` zeros before and after the steps axis.

    `y = [0…0, x, 0…0]` along the steps, so dJ/dx is dJ/dy without the padded positions.

    Args:
        padding: Zeros at both ends (an int) or at the (start, end) (a tuple of 2), all >= 0.
        data_format: "channels_last" (batch, steps, features) or "channels_first"
            (batch, features, steps); `neuralnet.config.image_data_format()` when `None`.
    """

    def __init__(self, padding: Any = 1, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = conv_utils.normalize_data_format(data_format, self)
        self.padding = conv_utils.normalize_tuple(padding, 2, "padding", self, allow_zero=True)

    def build(self, input_shape):
        _check_rank_and_size(self, input_shape, 1, self.data_format)
        self.built = True

    def check_input_shape(self, shape):
        _check_rank_and_size(self, shape, 1, self.data_format)

    def compute_output_shape(self, input_shape):
        (steps,) = conv_utils.spatial_dims(input_shape, self.data_format)
        channels = input_shape[conv_utils.channel_axis(self.data_format, 3)]
        spatial = (_plus(steps, self.padding),)
        return conv_utils.with_spatial(input_shape[0], channels, spatial, self.data_format)

    def forward(self, x, *, training=False):
        pads = [(0, 0)] * x.ndim
        (axis,) = _spatial_axes(1, self.data_format)
        pads[axis] = self.padding
        return np.pad(x, pads)

    def backward(self, grad_y):
        index = [slice(None)] * grad_y.ndim
        (axis,) = _spatial_axes(1, self.data_format)
        index[axis] = slice(self.padding[0], grad_y.shape[axis] - self.padding[1])
        return grad_y[tuple(index)]

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


@register_layer("ZeroPadding2D")
class ZeroPadding2D(Layer):
    """Adds rows of zeros above and below, and columns of zeros left and right, of each image.

    `y` is `x` framed by zeros, so dJ/dx is dJ/dy without the frame.

    Args:
        padding: An int (the same on every side), a tuple `(h, w)` (symmetric per axis), or
            `((top, bottom), (left, right))`; all >= 0.
        data_format: "channels_last" (batch, height, width, channels) or "channels_first"
            (batch, channels, height, width); `neuralnet.config.image_data_format()` when `None`.
    """

    def __init__(
        self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.data_format = conv_utils.normalize_data_format(data_format, self)
        self.padding = _pairs_2d(padding, "padding", self)

    def build(self, input_shape):
        _check_rank_and_size(self, input_shape, 2, self.data_format)
        self.built = True

    def check_input_shape(self, shape):
        _check_rank_and_size(self, shape, 2, self.data_format)

    def compute_output_shape(self, input_shape):
        height, width = conv_utils.spatial_dims(input_shape, self.data_format)
        channels = input_shape[conv_utils.channel_axis(self.data_format, 4)]
        spatial = (_plus(height, self.padding[0]), _plus(width, self.padding[1]))
        return conv_utils.with_spatial(input_shape[0], channels, spatial, self.data_format)

    def forward(self, x, *, training=False):
        pads = [(0, 0)] * x.ndim
        for axis, pair in zip(_spatial_axes(2, self.data_format), self.padding):
            pads[axis] = pair
        return np.pad(x, pads)

    def backward(self, grad_y):
        index = [slice(None)] * grad_y.ndim
        for axis, (before, after) in zip(_spatial_axes(2, self.data_format), self.padding):
            index[axis] = slice(before, grad_y.shape[axis] - after)
        return grad_y[tuple(index)]

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


# -- cropping -----------------------------------------------------------------------------------


@register_layer("Cropping1D")
class Cropping1D(Layer):
    """Removes `cropping` steps from the start and the end of the steps axis (channels last).

    `y = x[:, a : steps − b]`, so dJ/dx is dJ/dy put back in place, with zeros where the cropped
    steps were.

    Args:
        cropping: Steps removed at both ends (an int) or at the (start, end) (a tuple of 2),
            all >= 0 and adding up to less than the number of steps.
    """

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cropping = conv_utils.normalize_tuple(cropping, 2, "cropping", self, allow_zero=True)
        self._x_shape: tuple[int, ...] | None = None

    def build(self, input_shape):
        _check_rank_and_size(self, input_shape, 1, "channels_last")
        self.built = True

    def check_input_shape(self, shape):
        _check_rank_and_size(self, shape, 1, "channels_last")

    def compute_output_shape(self, input_shape):
        steps = _crop_length(self, input_shape, input_shape[1], self.cropping, "steps")
        return (input_shape[0], steps, input_shape[2])

    def forward(self, x, *, training=False):
        self._x_shape = x.shape
        start, end = self.cropping
        return x[:, start : x.shape[1] - end]

    def backward(self, grad_y):
        grad_x = np.zeros(self._x_shape, dtype=grad_y.dtype)
        start, end = self.cropping
        grad_x[:, start : self._x_shape[1] - end] = grad_y
        return grad_x

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}


@register_layer("Cropping2D")
class Cropping2D(Layer):
    """Removes rows from the top and bottom, and columns from the left and right, of each image.

    `y = x[top : H − bottom, left : W − right]`, so dJ/dx is dJ/dy put back in place, with zeros
    where the cropped rows and columns were.

    Args:
        cropping: An int (the same on every side), a tuple `(h, w)` (symmetric per axis), or
            `((top, bottom), (left, right))`; all >= 0, each axis's adding up to less than its size.
        data_format: "channels_last" (batch, height, width, channels) or "channels_first"
            (batch, channels, height, width); `neuralnet.config.image_data_format()` when `None`.
    """

    def __init__(
        self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.data_format = conv_utils.normalize_data_format(data_format, self)
        self.cropping = _pairs_2d(cropping, "cropping", self)
        self._x_shape: tuple[int, ...] | None = None

    def build(self, input_shape):
        _check_rank_and_size(self, input_shape, 2, self.data_format)
        self.built = True

    def check_input_shape(self, shape):
        _check_rank_and_size(self, shape, 2, self.data_format)

    def compute_output_shape(self, input_shape):
        height, width = conv_utils.spatial_dims(input_shape, self.data_format)
        channels = input_shape[conv_utils.channel_axis(self.data_format, 4)]
        spatial = (
            _crop_length(self, input_shape, height, self.cropping[0], "rows"),
            _crop_length(self, input_shape, width, self.cropping[1], "columns"),
        )
        return conv_utils.with_spatial(input_shape[0], channels, spatial, self.data_format)

    def _window(self, shape: tuple[int, ...]) -> tuple[slice, ...]:
        index = [slice(None)] * len(shape)
        for axis, (before, after) in zip(_spatial_axes(2, self.data_format), self.cropping):
            index[axis] = slice(before, shape[axis] - after)
        return tuple(index)

    def forward(self, x, *, training=False):
        self._x_shape = x.shape
        return x[self._window(x.shape)]

    def backward(self, grad_y):
        grad_x = np.zeros(self._x_shape, dtype=grad_y.dtype)
        grad_x[self._window(self._x_shape)] = grad_y
        return grad_x

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}
