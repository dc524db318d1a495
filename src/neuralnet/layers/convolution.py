"""Convolution layers: Conv1D, Conv2D, their transposes, depthwise and separable convolutions.

Every layer here computes, in channels-last form with a 4-D (batch, height, width, channels) view of
its input (1-D layers use height 1),

    z[n, i, j, f] = b[f] + Σ_{a, b, c} x_pad[n, i·s_h + a·d_h, j·s_w + b·d_w, c] · W[a, b, c, f]

(a cross-correlation, as in every deep-learning library), then `y = activation(z)`. With the
windows of x copied into a matrix (im2col, `sliding_windows.py`) this is one matrix product, and so
is each gradient:

    dJ/dW = colsᵀ · dJ/dz                   (a correlation of x with dJ/dz)
    dJ/dx = col2im(dJ/dz · Wᵀ)              (a full correlation of dJ/dz, stride-dilated, with the
                                             kernel flipped in space; col2im adds each window's
                                             share back where it was read)
    dJ/db = Σ_{n, i, j} dJ/dz

A transposed convolution is the adjoint of a convolution, so its forward pass is the col2im above
and its backward pass is an im2col. Channels-first inputs are transposed to channels-last views on
the way in and back on the way out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralnet import activations as activations_module
from neuralnet import initializers as initializers_module
from neuralnet import regularizers as regularizers_module
from neuralnet._validation import check_positive_int, owner_name
from neuralnet.layers import conv_utils
from neuralnet.layers.dense import compiled_relu_backward, compiled_relu_kernel
from neuralnet.layers.layer import Layer, register_layer, shape_str
from neuralnet.layers.sliding_windows import BufferPool, SlidingWindows

# The im2col matrix of a large batch does not fit in the cache (35 MB for a Conv2D(64, 3) on
# 11x11x32 inputs and 256 samples): writing it, then reading it for the product, and again for
# dJ/dW, each goes to memory. A chunk of samples at a time, about this many bytes of it, stays in
# the cache from gather to product.
_CHUNK_BYTES = 2 << 20


def _chunk_samples(sample_bytes: int, batch: int) -> int:
    """How many samples of `sample_bytes` of im2col matrix make one chunk (at least 1)."""
    return max(1, min(batch, _CHUNK_BYTES // max(sample_bytes, 1)))


# Activations that act along an axis rather than entry by entry: with channels-first outputs they
# are applied in the user's layout (Keras applies them to the output as it is laid out).
_AXIS_ACTIVATIONS = (activations_module.Softmax, activations_module.LogSoftmax)


class BaseConv(Layer):
    """What every convolution layer shares: arguments, layouts, output shapes, the activation.

    Subclasses write `_create_weights(channels)`, `_output_channels(channels)`, `_linear(x4, training)`
    (the convolution without bias, as a (positions, filters) matrix) and `_linear_backward(grad_z)`.
    """

    rank = 2
    # Keras rejects strides > 1 with dilation > 1 for Conv and ConvTranspose (not for depthwise
    # and separable convolutions), so neuralnet does too, for files that travel both ways.
    _strided_dilation_unsupported = False

    def __init__(
        self,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        activation: Any = None,
        use_bias: bool = True,
        bias_initializer: Any = "zeros",
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        rank = self.rank
        self.kernel_size = conv_utils.normalize_tuple(kernel_size, rank, "kernel_size", self)
        self.strides = conv_utils.normalize_tuple(strides, rank, "strides", self)
        self.dilation_rate = conv_utils.normalize_tuple(dilation_rate, rank, "dilation_rate", self)
        allowed = ("valid", "same", "causal") if self._allows_causal() else ("valid", "same")
        self.padding = conv_utils.normalize_padding(padding, self, allowed)
        self.data_format = conv_utils.normalize_data_format(data_format, self)
        self.activation = activations_module.get(activation)
        self.use_bias = bool(use_bias)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.bias_regularizer = regularizers_module.get(bias_regularizer)
        self.activity_regularizer = regularizers_module.get(activity_regularizer)
        if (
            self._strided_dilation_unsupported
            and max(self.strides) > 1
            and max(self.dilation_rate) > 1
        ):
            raise ValueError(
                f"{owner_name(self)}: strides > 1 together with dilation_rate > 1 is not "
                f"supported (as in Keras), received strides={self.strides} and "
                f"dilation_rate={self.dilation_rate}."
            )
        self._windows: dict[tuple[int, int], SlidingWindows] = {}
        self._channels: int | None = None
        self._grad_z: np.ndarray | None = None  # reused from step to step by the compiled ReLU path
        self._pool = BufferPool()

    def _allows_causal(self) -> bool:
        return False

    # -- layouts ------------------------------------------------------------------------------

    def _to_internal(self, x: np.ndarray) -> np.ndarray:
        """A (batch, height, width, channels) view of x."""
        if self.data_format == "channels_first":
            x = np.moveaxis(x, 1, -1)
        return x[:, None] if self.rank == 1 else x

    def _to_external(self, x4: np.ndarray) -> np.ndarray:
        """The inverse of `_to_internal`: x4 in the user's layout (a view)."""
        x = x4[:, 0] if self.rank == 1 else x4
        return np.moveaxis(x, -1, 1) if self.data_format == "channels_first" else x

    def _spatial(self, sizes: tuple[Any, ...]) -> tuple[Any, ...]:
        """Spatial sizes as (height, width): height 1 for 1-D layers."""
        return (1, *sizes) if self.rank == 1 else tuple(sizes)

    def _pair(self, values: tuple[int, ...], fill: int = 1) -> tuple[int, int]:
        return (fill, *values) if self.rank == 1 else tuple(values)

    # -- shapes -------------------------------------------------------------------------------

    def _input_channels(self, input_shape: Any) -> Any:
        axis = conv_utils.channel_axis(self.data_format, len(input_shape))
        return input_shape[axis]

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        conv_utils.check_rank(self, input_shape, self.rank, self.data_format)
        channels = self._input_channels(input_shape)
        if channels is None:
            raise ValueError(
                f"{owner_name(self)} needs the size of the channels axis of its input, laid out "
                f"as {conv_utils.layout(self.rank, self.data_format)}; received input shape "
                f"{shape_str(input_shape)}."
            )
        self._check_channels(channels)
        self.compute_output_shape(input_shape)  # a kernel larger than the input fails here
        self._channels = channels
        self._create_weights(channels)
        if self.use_bias:
            self.add_weight(
                "bias", (self._output_channels(channels),), self.bias_initializer,
                self.bias_regularizer,
            )  # fmt: skip
        self.built = True

    def _check_channels(self, channels: int) -> None:
        """Subclasses reject channel counts they cannot use (groups)."""

    def check_input_shape(self, shape):
        """Keras's input spec for convolutions: the rank and the number of channels are fixed at
        build; the spatial sizes may change from call to call."""
        shape = tuple(shape)
        conv_utils.check_rank(self, shape, self.rank, self.data_format)
        channels = self._input_channels(shape)
        if self._channels is not None and channels is not None and channels != self._channels:
            raise ValueError(
                f"{owner_name(self)} was built for inputs with {self._channels} channels, laid out "
                f"as {conv_utils.layout(self.rank, self.data_format)}, received an input of shape "
                f"{shape_str(shape)} with {channels} channels on axis "
                f"{conv_utils.channel_axis(self.data_format, len(shape))}."
            )
        self.compute_output_shape(shape)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        conv_utils.check_rank(self, input_shape, self.rank, self.data_format)
        spatial = conv_utils.spatial_dims(input_shape, self.data_format)
        channels = self._input_channels(input_shape)
        out = tuple(
            None if size is None else self._output_length(size, axis)
            for axis, size in enumerate(spatial)
        )
        if any(length is not None and length <= 0 for length in out):
            raise ValueError(self._too_small(input_shape, spatial))
        filters = None if channels is None else self._output_channels(channels)
        return conv_utils.with_spatial(input_shape[0], filters, out, self.data_format)

    def _too_small(self, input_shape: tuple[Any, ...], spatial: tuple[Any, ...]) -> str:
        spans = tuple(
            conv_utils.effective_kernel_size(k, d)
            for k, d in zip(self.kernel_size, self.dilation_rate)
        )
        padded = tuple(
            size + sum(conv_utils.conv_padding(size, k, s, d, self.padding))
            for size, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)
        )
        dilated = "" if spans == self.kernel_size else f" (spanning {spans} with dilation)"
        return (
            f"{owner_name(self)}: the kernel {self.kernel_size}{dilated} is larger than the padded "
            f"input {padded} (input shape {shape_str(input_shape)}, padding={self.padding!r}); "
            "use a smaller kernel, padding='same' or a larger input."
        )

    def _output_length(self, size: int, axis: int) -> int:
        return conv_utils.conv_output_length(
            size, self.kernel_size[axis], self.strides[axis], self.dilation_rate[axis], self.padding
        )

    def _conv_windows(self, size: tuple[int, int]) -> SlidingWindows:
        """The windows of a convolution over inputs of spatial `size` (height, width)."""
        windows = self._windows.get(size)
        if windows is None:
            kernel, strides = self._pair(self.kernel_size), self._pair(self.strides)
            dilation = self._pair(self.dilation_rate)
            pads = tuple(
                conv_utils.conv_padding(n, k, s, d, self.padding)
                for n, k, s, d in zip(size, kernel, strides, dilation)
            )
            windows = SlidingWindows(size, kernel, strides, dilation, pads)
            self._remember_windows(size, windows)
        return windows

    def _remember_windows(self, size: tuple[int, int], windows: SlidingWindows) -> None:
        if len(self._windows) >= 8:  # images of many sizes: keep the memory bounded
            self._windows.clear()
        self._windows[size] = windows

    # -- forward and backward -----------------------------------------------------------------

    def _axis_activation(self) -> bool:
        return self.data_format == "channels_first" and isinstance(
            self.activation, _AXIS_ACTIVATIONS
        )

    def forward(self, x, *, training=False):
        x4 = self._to_internal(x)
        z2, shape4 = self._linear(x4, training)
        fused = compiled_relu_kernel(self, z2, "bias_relu", load=training)
        if fused is not None:
            fused(z2, self.params["bias"])  # z ← max(z + b, 0) in one pass
            self._z, self._y = None, z2
            return self._to_external(z2.reshape(shape4))
        if self.use_bias:
            z2 += self.params["bias"]  # z is ours: in place is safe
        if self._axis_activation():
            z = self._to_external(z2.reshape(shape4))
            self._z, self._y = z, self.activation.forward(z)
            return self._y
        if self.activation.output_only:
            y2 = self.activation.forward_inplace(z2)  # backward needs only y
            self._z = None
        else:
            y2 = self.activation.forward(z2)
            self._z = z2
        self._y = y2
        return self._to_external(y2.reshape(shape4))

    def backward(self, grad_y):
        if self._axis_activation():
            grad_z = self.activation.backward(grad_y, self._z, self._y)
            grad_z2 = self._to_internal(grad_z).reshape(self._y.size // self._y.shape[1], -1)
            return self._backward_from_preactivation(np.ascontiguousarray(grad_z2))
        grad_y2 = self._to_internal(grad_y).reshape(self._y.shape)
        grad_z = compiled_relu_backward(self, grad_y2, self._y)  # as Dense's
        if grad_z is not None:
            return self._input_gradient(self._linear_backward(grad_z))
        grad_z2 = self.activation.backward(grad_y2, self._z, self._y)
        if self.use_bias:
            np.add.reduce(grad_z2, axis=0, out=self.grads["bias"])
        return self._input_gradient(self._linear_backward(np.ascontiguousarray(grad_z2)))

    def _backward_from_preactivation(self, grad_z2: np.ndarray) -> np.ndarray | None:
        if self.use_bias:
            np.add.reduce(grad_z2, axis=0, out=self.grads["bias"])
        return self._input_gradient(self._linear_backward(grad_z2))

    def _input_gradient(self, grad_x4: np.ndarray | None) -> np.ndarray | None:
        return None if grad_x4 is None else self._to_external(grad_x4)

    # -- subclass hooks -----------------------------------------------------------------------

    def _output_channels(self, channels: int) -> int:
        raise NotImplementedError

    def _create_weights(self, channels: int) -> None:
        raise NotImplementedError

    def _linear(self, x4: np.ndarray, training: bool) -> tuple[np.ndarray, tuple[int, ...]]:
        raise NotImplementedError

    def _linear_backward(self, grad_z2: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError

    def get_config(self):
        return {
            **super().get_config(),
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": activations_module.serialize(self.activation),
            "use_bias": self.use_bias,
            "bias_initializer": initializers_module.serialize(self.bias_initializer),
            "bias_regularizer": regularizers_module.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers_module.serialize(self.activity_regularizer),
        }


class Conv(BaseConv):
    """The convolution `z = b + Σ x_window · W` with kernel (k_h, k_w, C / groups, filters).

    With `groups` g > 1 the channels are split into g groups and group k of the filters sees only
    group k of the channels (a block-diagonal kernel): one matrix product per group.

    Backward: dJ/dW = colsᵀ · dJ/dz, dJ/db = Σ dJ/dz, dJ/dx = col2im(dJ/dz · Wᵀ) — the full
    correlation of the (stride-dilated) dJ/dz with the spatially flipped kernel.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        groups: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        self.filters = check_positive_int(filters, "filters", where=type(self).__name__)
        self.groups = check_positive_int(groups, "groups", where=type(self).__name__)
        if self.filters % self.groups:
            raise ValueError(
                f"{type(self).__name__}: the number of filters must be divisible by the number of "
                f"groups, received filters={filters} and groups={groups}."
            )
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, bias_initializer, bias_regularizer, activity_regularizer,
                         **kwargs)  # fmt: skip
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.kernel_regularizer = regularizers_module.get(kernel_regularizer)

    _strided_dilation_unsupported = True

    def _allows_causal(self) -> bool:
        return self.rank == 1

    def _check_channels(self, channels):
        if channels % self.groups:
            raise ValueError(
                f"{owner_name(self)}: the number of input channels must be divisible by the "
                f"number of groups, received groups={self.groups} and an input with {channels} "
                "channels."
            )

    def _output_channels(self, channels):
        return self.filters

    def _create_weights(self, channels):
        shape = (*self.kernel_size, channels // self.groups, self.filters)
        self.add_weight("kernel", shape, self.kernel_initializer, self.kernel_regularizer)

    def _linear(self, x4, training):
        windows = self._conv_windows(x4.shape[1:3])
        batch, channels = x4.shape[0], x4.shape[3]
        cols_shape = windows.cols_shape(batch, channels)  # (batch, H_out, W_out, k_h, k_w, C)
        per_sample = cols_shape[1] * cols_shape[2]
        rows, width = batch * per_sample, cols_shape[3] * cols_shape[4] * channels
        chunk = _chunk_samples(per_sample * width * x4.itemsize, batch)
        kernel = self.params["kernel"]
        self._windows_used = windows
        if self.groups > 1 or chunk == batch:
            # The whole im2col matrix at once; kept for dJ/dW, back to the pool after backward.
            cols = windows.gather(x4, out=self._pool.take(cols_shape, x4.dtype))
            if self.groups == 1:
                z2 = cols.reshape(rows, width) @ kernel.reshape(width, self.filters)
            else:
                z2 = np.empty((rows, self.filters), dtype=cols.dtype)
                for group_channels, filters in self._group_slices(channels):
                    group_cols = cols[..., group_channels].reshape(rows, -1)
                    z2[:, filters] = group_cols @ kernel[..., filters].reshape(
                        group_cols.shape[1], -1
                    )
            self._cols, self._x4 = cols, None
        else:
            # A chunk of samples at a time, its im2col matrix still in the cache for the product;
            # backward gathers the windows of x again, chunk by chunk (see _chunk_samples).
            z2 = np.empty((rows, self.filters), dtype=x4.dtype)
            kernel2 = kernel.reshape(width, self.filters)
            buffer = self._pool.take((chunk * per_sample, width), x4.dtype)
            for start, stop, cols in self._chunks(windows, x4, buffer, chunk):
                np.matmul(cols, kernel2, out=z2[start * per_sample : stop * per_sample])
            self._pool.give(buffer)
            self._cols, self._x4 = None, x4
        return z2, (*cols_shape[:3], self.filters)

    def _chunks(self, windows: SlidingWindows, x4: np.ndarray, buffer: np.ndarray, chunk: int):
        """(start, stop, the im2col matrix of samples start..stop) for each chunk of the batch,
        written into `buffer`."""
        batch = x4.shape[0]
        per_sample = buffer.shape[0] // chunk
        for start in range(0, batch, chunk):
            stop = min(start + chunk, batch)
            cols = buffer[: (stop - start) * per_sample]
            windows.gather(x4[start:stop],
                           out=cols.reshape(windows.cols_shape(stop - start, x4.shape[3])))  # fmt: skip
            yield start, stop, cols

    def _group_slices(self, channels: int) -> list[tuple[slice, slice]]:
        per_channels, per_filters = channels // self.groups, self.filters // self.groups
        return [
            (slice(g * per_channels, (g + 1) * per_channels),
             slice(g * per_filters, (g + 1) * per_filters))
            for g in range(self.groups)
        ]  # fmt: skip

    def _linear_backward(self, grad_z2):
        cols, x4, kernel = self._cols, self._x4, self.params["kernel"]
        if cols is None and x4 is None:
            raise RuntimeError(f"{owner_name(self)}: backward() needs a forward pass first.")
        self._cols = self._x4 = None
        rows = grad_z2.shape[0]
        width = kernel.size // self.filters
        kernel2 = kernel.reshape(width, self.filters)
        grad_kernel2 = self.grads["kernel"].reshape(width, self.filters)
        if x4 is not None:
            return self._chunked_backward(x4, grad_z2, kernel2, grad_kernel2)
        if self.groups == 1:
            cols2 = cols.reshape(rows, width)
            np.matmul(cols2.T, grad_z2, out=grad_kernel2)
            grad_x = None
            if self.needs_input_gradient:
                # dJ/dx = col2im(dJ/dz · Wᵀ), dJ/dcols written over the windows, now used
                np.matmul(grad_z2, kernel2.T, out=cols2)
                grad_x = self._windows_used.scatter(cols)
            self._pool.give(cols)
            return grad_x
        grad_cols = np.empty_like(cols) if self.needs_input_gradient else None
        for channels, filters in self._group_slices(cols.shape[5]):
            group_cols = cols[..., channels].reshape(rows, -1)
            group_kernel = kernel[..., filters].reshape(group_cols.shape[1], -1)
            grad_group = np.ascontiguousarray(grad_z2[:, filters])
            self.grads["kernel"][..., filters] = (group_cols.T @ grad_group).reshape(
                kernel[..., filters].shape
            )
            if grad_cols is not None:
                grad_cols[..., channels] = (grad_group @ group_kernel.T).reshape(
                    grad_cols[..., channels].shape
                )
        self._pool.give(cols)
        return None if grad_cols is None else self._windows_used.scatter(grad_cols)

    def _chunked_backward(self, x4, grad_z2, kernel2, grad_kernel2):
        """dJ/dW = Σ_chunks colsᵀ · dJ/dz and dJ/dx = col2im(dJ/dz · Wᵀ), a chunk of samples at a
        time: the chunk's windows of x are gathered again, used for dJ/dW, then overwritten by
        dJ/dcols and added back into dJ/dx while they are in the cache."""
        windows = self._windows_used
        batch, channels = x4.shape[0], x4.shape[3]
        per_sample = grad_z2.shape[0] // batch
        chunk = _chunk_samples(per_sample * kernel2.shape[0] * x4.itemsize, batch)
        buffer = self._pool.take((chunk * per_sample, kernel2.shape[0]), x4.dtype)
        needs_x = self.needs_input_gradient
        grad_x_pad = windows.new_padded(batch, channels, x4.dtype) if needs_x else None
        for start, stop, cols in self._chunks(windows, x4, buffer, chunk):
            grad_z_chunk = grad_z2[start * per_sample : stop * per_sample]
            if start == 0:
                np.matmul(cols.T, grad_z_chunk, out=grad_kernel2)
            else:
                grad_kernel2 += cols.T @ grad_z_chunk
            if needs_x:
                np.matmul(grad_z_chunk, kernel2.T, out=cols)  # dJ/dcols, over the windows
                windows.scatter(cols.reshape(windows.cols_shape(stop - start, channels)),
                                out=grad_x_pad[start:stop])  # fmt: skip
        self._pool.give(buffer)
        return None if grad_x_pad is None else windows.unpad(grad_x_pad)

    def get_config(self):
        config = super().get_config()
        return {
            **config,
            "filters": self.filters,
            "groups": self.groups,
            "kernel_initializer": initializers_module.serialize(self.kernel_initializer),
            "kernel_regularizer": regularizers_module.serialize(self.kernel_regularizer),
        }


@register_layer("Conv1D", "Convolution1D")
class Conv1D(Conv):
    """1-D convolution over (batch, steps, channels) inputs (channels-last), Keras 3's arguments.

    `padding` may also be "causal": k_eff − 1 zeros before the sequence only, so that output t
    depends on inputs up to t (WaveNet's causal convolution).
    """

    rank = 1


@register_layer("Conv2D", "Convolution2D")
class Conv2D(Conv):
    """2-D convolution over (batch, height, width, channels) images (channels-last by default).

    Args:
        filters: Number of output channels.
        kernel_size: An int or (k_h, k_w).
        strides: An int or (s_h, s_w); strides > 1 cannot be combined with dilation > 1.
        padding: "valid" (none) or "same" (output size ceil(input / stride)).
        data_format: "channels_last" (default) or "channels_first".
        dilation_rate: Spacing between kernel taps (à trous convolution).
        groups: Split the channels into this many independent groups.
        activation, use_bias, initializers, regularizers: as in Dense.
    """

    rank = 2


class ConvTranspose(BaseConv):
    """Transposed convolution, the adjoint of `Conv`: each input position adds its value times the
    kernel into the output window it would have been read from,

        y[i·s + a·d − p, f] += x[i, c] · W[a, f, c]        (kernel (k_h, k_w, filters, C))

    so `y = col2im(x · Wᵀ)` and backward is an im2col of dJ/dy: dJ/dx = im2col(dJ/dy) · W,
    dJ/dW = im2col(dJ/dy)ᵀ · x. The output size and the padding p follow Keras 3's rules.
    """

    _strided_dilation_unsupported = True

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        output_padding: Any = None,
        data_format: str | None = None,
        dilation_rate: Any = 1,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        self.filters = check_positive_int(filters, "filters", where=type(self).__name__)
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, bias_initializer, bias_regularizer, activity_regularizer,
                         **kwargs)  # fmt: skip
        if output_padding is None:
            self.output_padding = None
        else:
            self.output_padding = conv_utils.normalize_tuple(
                output_padding, self.rank, "output_padding", self, allow_zero=True
            )
            for axis, (extra, stride) in enumerate(zip(self.output_padding, self.strides)):
                if extra >= stride:
                    raise ValueError(
                        f"{owner_name(self)}: output_padding must be smaller than strides on "
                        f"every axis; on axis {axis} output_padding is {extra} and strides is "
                        f"{stride} (received output_padding={self.output_padding}, "
                        f"strides={self.strides})."
                    )
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.kernel_regularizer = regularizers_module.get(kernel_regularizer)

    def _extra(self, axis: int) -> int | None:
        return None if self.output_padding is None else self.output_padding[axis]

    def _output_length(self, size, axis):
        return conv_utils.transpose_output_length(
            size, self.kernel_size[axis], self.strides[axis], self.dilation_rate[axis],
            self.padding, self._extra(axis),
        )  # fmt: skip

    def _output_channels(self, channels):
        return self.filters

    def _create_weights(self, channels):
        shape = (*self.kernel_size, self.filters, channels)
        self.add_weight("kernel", shape, self.kernel_initializer, self.kernel_regularizer)

    def _transpose_windows(self, size: tuple[int, int]) -> SlidingWindows:
        """The windows of the convolution whose adjoint this layer is: over the output, with
        input position i reading output positions i·s + a·d − p."""
        windows = self._windows.get(size)
        if windows is None:
            kernel, strides = self._pair(self.kernel_size), self._pair(self.strides)
            dilation = self._pair(self.dilation_rate)
            extras = (
                (None, None)
                if self.output_padding is None
                else self._pair(self.output_padding, fill=0)
            )
            pads, out = [], []
            for axis in range(2):
                k, s, d, n = kernel[axis], strides[axis], dilation[axis], size[axis]
                extra = extras[axis]
                length = conv_utils.transpose_output_length(n, k, s, d, self.padding, extra)
                before = conv_utils.transpose_padding(k, s, d, self.padding, extra)[0]
                span = conv_utils.effective_kernel_size(k, d)
                p = span - 1 - before  # the forward convolution's own padding before
                padded = max(p + length, (n - 1) * s + span)
                pads.append((p, padded - p - length))
                out.append(length)
            windows = SlidingWindows(tuple(out), kernel, strides, dilation, tuple(pads), size)
            self._remember_windows(size, windows)
        return windows

    def _linear(self, x4, training):
        windows = self._transpose_windows(x4.shape[1:3])
        batch, rows = x4.shape[0], x4.shape[0] * x4.shape[1] * x4.shape[2]
        x2 = np.ascontiguousarray(x4).reshape(rows, x4.shape[3])
        kernel2 = self.params["kernel"].reshape(-1, x4.shape[3])  # (k_h·k_w·filters, C)
        cols = (x2 @ kernel2.T).reshape(batch, *x4.shape[1:3], *windows.kernel, self.filters)
        y4 = windows.scatter(cols)
        self._x2, self._windows_used = x2, windows
        self._input_shape4 = x4.shape
        z2 = np.ascontiguousarray(y4).reshape(-1, self.filters)
        return z2, y4.shape

    def _linear_backward(self, grad_z2):
        windows = self._windows_used
        grad_y4 = grad_z2.reshape(self._input_shape4[0], *windows.size, self.filters)
        grad_cols = windows.gather(grad_y4).reshape(self._x2.shape[0], -1)
        kernel2 = self.params["kernel"].reshape(-1, self._x2.shape[1])
        np.matmul(grad_cols.T, self._x2, out=self.grads["kernel"].reshape(kernel2.shape))
        if not self.needs_input_gradient:
            return None
        return (grad_cols @ kernel2).reshape(self._input_shape4)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "output_padding": None if self.output_padding is None else list(self.output_padding),
            "kernel_initializer": initializers_module.serialize(self.kernel_initializer),
            "kernel_regularizer": regularizers_module.serialize(self.kernel_regularizer),
        }


@register_layer("Conv1DTranspose", "Convolution1DTranspose")
class Conv1DTranspose(ConvTranspose):
    """Transposed 1-D convolution over (batch, steps, channels): upsamples sequences."""

    rank = 1


@register_layer("Conv2DTranspose", "Convolution2DTranspose")
class Conv2DTranspose(ConvTranspose):
    """Transposed 2-D convolution ("deconvolution"), the decoder's upsampling step in
    convolutional autoencoders: with strides 2 and padding "same" it doubles height and width.

    Kernel (k_h, k_w, filters, input channels), as Keras; `output_padding` adds rows and columns
    at the end (each smaller than the stride)."""

    rank = 2


class _DepthwiseMixin:
    """The depthwise convolution: every channel c convolved with its own `depth_multiplier`
    kernels, output channel c·M + m = Σ_{a,b} x_window[a, b, c] · K[a, b, c, m]."""

    def _depthwise(self, cols: np.ndarray, kernel: np.ndarray) -> np.ndarray:
        rows = cols.shape[0] * cols.shape[1] * cols.shape[2]
        taps, channels = cols.shape[3] * cols.shape[4], cols.shape[5]
        cols3 = cols.reshape(rows, taps, channels)
        kernel3 = kernel.reshape(taps, channels, -1)
        return np.einsum("ntc,tcm->ncm", cols3, kernel3, optimize=True).reshape(rows, -1)

    def _depthwise_backward(
        self, cols: np.ndarray, kernel: np.ndarray, grad: np.ndarray, grad_kernel: np.ndarray
    ) -> np.ndarray | None:
        """From dJ/d(depthwise output) (rows, C·M): dJ/dK into `grad_kernel`, and dJ/dcols."""
        rows = grad.shape[0]
        taps, channels = cols.shape[3] * cols.shape[4], cols.shape[5]
        cols3 = cols.reshape(rows, taps, channels)
        kernel3 = kernel.reshape(taps, channels, -1)
        grad3 = grad.reshape(rows, channels, -1)
        # dJ/dK[t, c, m] = Σ_n cols[n, t, c] · g[n, c, m];  dJ/dcols[n, t, c] = Σ_m g[n, c, m] · K[t, c, m]
        grad_kernel[...] = np.einsum("ntc,ncm->tcm", cols3, grad3, optimize=True).reshape(
            grad_kernel.shape
        )
        if not self.needs_input_gradient:
            return None
        return np.einsum("ncm,tcm->ntc", grad3, kernel3, optimize=True).reshape(cols.shape)


class DepthwiseConv(_DepthwiseMixin, BaseConv):
    """Depthwise convolution: kernel (k_h, k_w, C, depth_multiplier), C·M output channels.

    Backward: dJ/dK[a, b, c, m] = Σ x_window[a, b, c] · dJ/dz[c·M + m], and dJ/dx = col2im of
    dJ/dcols[a, b, c] = Σ_m dJ/dz[c·M + m] · K[a, b, c, m]."""

    def __init__(
        self,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate: Any = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        self.depth_multiplier = check_positive_int(
            depth_multiplier, "depth_multiplier", where=type(self).__name__
        )
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, bias_initializer, bias_regularizer, activity_regularizer,
                         **kwargs)  # fmt: skip
        self.depthwise_initializer = initializers_module.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers_module.get(depthwise_regularizer)

    def _output_channels(self, channels):
        return channels * self.depth_multiplier

    def _create_weights(self, channels):
        shape = (*self.kernel_size, channels, self.depth_multiplier)
        self.add_weight("kernel", shape, self.depthwise_initializer, self.depthwise_regularizer)

    def _linear(self, x4, training):
        windows = self._conv_windows(x4.shape[1:3])
        cols = windows.gather(x4)
        self._cols, self._windows_used = cols, windows
        z2 = self._depthwise(cols, self.params["kernel"])
        return z2, (*cols.shape[:3], z2.shape[1])

    def _linear_backward(self, grad_z2):
        grad_cols = self._depthwise_backward(
            self._cols, self.params["kernel"], grad_z2, self.grads["kernel"]
        )
        return None if grad_cols is None else self._windows_used.scatter(grad_cols)

    def get_config(self):
        return {
            **super().get_config(),
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": initializers_module.serialize(self.depthwise_initializer),
            "depthwise_regularizer": regularizers_module.serialize(self.depthwise_regularizer),
        }


@register_layer("DepthwiseConv1D")
class DepthwiseConv1D(DepthwiseConv):
    """Depthwise 1-D convolution over (batch, steps, channels)."""

    rank = 1


@register_layer("DepthwiseConv2D")
class DepthwiseConv2D(DepthwiseConv):
    """Depthwise 2-D convolution: each channel filtered on its own (MobileNet's first half)."""

    rank = 2


class SeparableConv(_DepthwiseMixin, BaseConv):
    """Depthwise convolution followed by a 1×1 (pointwise) convolution to `filters` channels, with
    one bias after the pointwise step: z = (depthwise(x) · P) + b.

    Backward: dJ/dP = dᵀ · dJ/dz with d the depthwise output, dJ/dd = dJ/dz · Pᵀ, then the
    depthwise backward (see DepthwiseConv)."""

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        depth_multiplier: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        pointwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        pointwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        self.filters = check_positive_int(filters, "filters", where=type(self).__name__)
        self.depth_multiplier = check_positive_int(
            depth_multiplier, "depth_multiplier", where=type(self).__name__
        )
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, bias_initializer, bias_regularizer, activity_regularizer,
                         **kwargs)  # fmt: skip
        self.depthwise_initializer = initializers_module.get(depthwise_initializer)
        self.pointwise_initializer = initializers_module.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers_module.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers_module.get(pointwise_regularizer)

    def _output_channels(self, channels):
        return self.filters

    def _create_weights(self, channels):
        depth = channels * self.depth_multiplier
        self.add_weight("depthwise_kernel", (*self.kernel_size, channels, self.depth_multiplier),
                        self.depthwise_initializer, self.depthwise_regularizer)  # fmt: skip
        self.add_weight("pointwise_kernel", (*(1,) * self.rank, depth, self.filters),
                        self.pointwise_initializer, self.pointwise_regularizer)  # fmt: skip

    def _linear(self, x4, training):
        windows = self._conv_windows(x4.shape[1:3])
        cols = windows.gather(x4)
        depthwise = self._depthwise(cols, self.params["depthwise_kernel"])
        self._cols, self._windows_used, self._depthwise_out = cols, windows, depthwise
        z2 = depthwise @ self.params["pointwise_kernel"].reshape(depthwise.shape[1], -1)
        return z2, (*cols.shape[:3], self.filters)

    def _linear_backward(self, grad_z2):
        depthwise = self._depthwise_out
        pointwise = self.params["pointwise_kernel"].reshape(depthwise.shape[1], -1)
        np.matmul(depthwise.T, grad_z2, out=self.grads["pointwise_kernel"].reshape(pointwise.shape))
        grad_depthwise = grad_z2 @ pointwise.T
        grad_cols = self._depthwise_backward(
            self._cols, self.params["depthwise_kernel"], grad_depthwise,
            self.grads["depthwise_kernel"],
        )  # fmt: skip
        return None if grad_cols is None else self._windows_used.scatter(grad_cols)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": initializers_module.serialize(self.depthwise_initializer),
            "pointwise_initializer": initializers_module.serialize(self.pointwise_initializer),
            "depthwise_regularizer": regularizers_module.serialize(self.depthwise_regularizer),
            "pointwise_regularizer": regularizers_module.serialize(self.pointwise_regularizer),
        }


@register_layer("SeparableConv1D", "SeparableConvolution1D")
class SeparableConv1D(SeparableConv):
    """Depthwise-separable 1-D convolution over (batch, steps, channels)."""

    rank = 1


@register_layer("SeparableConv2D", "SeparableConvolution2D")
class SeparableConv2D(SeparableConv):
    """Depthwise-separable 2-D convolution (Xception, MobileNet): far fewer weights than Conv2D."""

    rank = 2
