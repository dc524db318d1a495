"""The windows a convolution reads: im2col (gather) and col2im (scatter) on channels-last arrays.

A convolution with a k_h × k_w kernel, strides (s_h, s_w), dilation (d_h, d_w) and zero padding
reads, for output position (i, j), the input entries

    x_pad[i·s_h + a·d_h, j·s_w + b·d_w, c]      for a < k_h, b < k_w and every channel c.

`gather` copies those windows into one matrix with a row per output position and a column per
(a, b, c) — im2col — so that the convolution is a single matrix product with the kernel reshaped to
(k_h·k_w·C, F). `scatter` is its adjoint — col2im — which adds each column back to the entry it was
read from; it is how dJ/dx is assembled from dJ/dcols, and it is the forward pass of a transposed
convolution. Both work on (batch, height, width, channels) arrays; 1-D layers use height 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from neuralnet import _accelerate

# Below this many channels a window row is too short for one big strided copy to pay: copying
# tap by tap (k_h·k_w slices of (batch, H_out, W_out, C)) is faster then; the compiled col2im
# likewise pays only from this many channels on.
_FEW_CHANNELS = 8


class BufferPool:
    """Arrays a layer reuses from step to step instead of allocating them anew.

    Allocating tens of megabytes is not free (fresh pages are zeroed by the kernel on first touch),
    so a layer `take`s its im2col matrix from the pool in `forward` and `give`s it back at the end
    of `backward`. A layer called twice before its backward holds two arrays, so the calls never
    share one."""

    def __init__(self) -> None:
        self._free: dict[tuple[Any, ...], list[np.ndarray]] = {}

    def take(self, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        free = self._free.get((tuple(shape), np.dtype(dtype).str))
        return free.pop() if free else np.empty(shape, dtype=dtype)

    def give(self, array: np.ndarray) -> None:
        key = (array.shape, array.dtype.str)
        if key not in self._free and len(self._free) >= 8:  # many batch sizes: stay bounded
            self._free.clear()
        free = self._free.setdefault(key, [])
        if len(free) < 2:
            free.append(array)

    def clear(self) -> None:
        self._free.clear()


class SlidingWindows:
    """The geometry of one convolution over inputs of one spatial size, and its scratch buffers.

    Args:
        size: (H, W) of the input before padding.
        kernel, strides, dilation: (height, width) pairs.
        pads: ((top, bottom), (left, right)) zeros added around the input.
        output: The number of window positions (H_out, W_out); by default every position whose
            window fits in the padded input. A transposed convolution asks for fewer.
    """

    def __init__(
        self,
        size: tuple[int, int],
        kernel: tuple[int, int],
        strides: tuple[int, int],
        dilation: tuple[int, int],
        pads: tuple[tuple[int, int], tuple[int, int]],
        output: tuple[int, int] | None = None,
    ) -> None:
        self.size = tuple(size)
        self.kernel = tuple(kernel)
        self.strides = tuple(strides)
        self.dilation = tuple(dilation)
        self.pads = (tuple(pads[0]), tuple(pads[1]))
        self.padded = (size[0] + sum(pads[0]), size[1] + sum(pads[1]))
        self.span = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation))
        fits = tuple((p - e) // s + 1 for p, e, s in zip(self.padded, self.span, strides))
        self.output = fits if output is None else tuple(min(o, f) for o, f in zip(output, fits))
        self._pad_buffers: dict[tuple[Any, ...], np.ndarray] = {}

    @property
    def padding_is_zero(self) -> bool:
        return self.pads == ((0, 0), (0, 0))

    def pad(self, x: np.ndarray) -> np.ndarray:
        """x with the zero border, in a buffer kept for the next call (its border stays zero)."""
        if self.padding_is_zero:
            return x
        (top, _), (left, _) = self.pads
        key = (x.shape[0], x.shape[3], x.dtype.str)
        buffer = self._pad_buffers.get(key)
        if buffer is None:
            if len(self._pad_buffers) > 4:  # a few batch sizes at most (the last batch, eval)
                self._pad_buffers.clear()
            buffer = np.zeros((x.shape[0], *self.padded, x.shape[3]), dtype=x.dtype)
            self._pad_buffers[key] = buffer
        buffer[:, top : top + self.size[0], left : left + self.size[1]] = x
        return buffer

    def windows(self, x_pad: np.ndarray) -> np.ndarray:
        """A read-only strided view (batch, H_out, W_out, k_h, k_w, C) of the padded input."""
        b, h, w, c = x_pad.strides
        (sh, sw), (dh, dw) = self.strides, self.dilation
        shape = (x_pad.shape[0], *self.output, *self.kernel, x_pad.shape[3])
        return as_strided(x_pad, shape, (b, h * sh, w * sw, h * dh, w * dw, c), writeable=False)

    def tap(self, x_pad: np.ndarray, a: int, b: int) -> np.ndarray:
        """The (batch, H_out, W_out, C) entries that kernel tap (a, b) reads."""
        (sh, sw), (dh, dw), (ho, wo) = self.strides, self.dilation, self.output
        return x_pad[:, a * dh : a * dh + (ho - 1) * sh + 1 : sh,
                     b * dw : b * dw + (wo - 1) * sw + 1 : sw]  # fmt: skip

    def cols_shape(self, batch: int, channels: int) -> tuple[int, ...]:
        return (batch, *self.output, *self.kernel, channels)

    def gather(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """im2col: the windows of x as a C-ordered array (batch, H_out, W_out, k_h, k_w, C),
        written into `out` when given."""
        x_pad = self.pad(x)
        channels = x.shape[3]
        cols = out if out is not None else np.empty(self.cols_shape(x.shape[0], channels), x.dtype)
        if channels < _FEW_CHANNELS:
            for a in range(self.kernel[0]):
                for b in range(self.kernel[1]):
                    cols[:, :, :, a, b] = self.tap(x_pad, a, b)
        else:
            np.copyto(cols, self.windows(x_pad))
        return cols

    def new_padded(self, batch: int, channels: int, dtype: Any) -> np.ndarray:
        """Zeros of the padded input's shape, for `scatter` to add into."""
        return np.zeros((batch, *self.padded, channels), dtype=dtype)

    def unpad(self, x_pad: np.ndarray) -> np.ndarray:
        """The (batch, H, W, C) inside of a padded array (a view)."""
        if self.padding_is_zero:
            return x_pad
        (top, _), (left, _) = self.pads
        return x_pad[:, top : top + self.size[0], left : left + self.size[1]]

    def scatter(self, cols: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """col2im, the adjoint of `gather`: each entry of cols (batch, H_out, W_out, k_h, k_w, C)
        added to the entry of the padded input it was read from, in `out` (new zeros when not
        given). Returns the (batch, H, W, C) inside of `out`."""
        batch, channels = cols.shape[0], cols.shape[5]
        if out is None:
            out = self.new_padded(batch, channels, cols.dtype)
        compiled = _accelerate.kernel("col2im") if cols.dtype in _accelerate.DTYPES else None
        if compiled is not None and channels >= _FEW_CHANNELS and cols.flags.c_contiguous:
            compiled(cols, out, *self.strides, *self.dilation)
        else:
            for a in range(self.kernel[0]):
                for b in range(self.kernel[1]):
                    tap = self.tap(out, a, b)
                    tap += cols[:, :, :, a, b]  # a view of `out`: the add lands in place
        return self.unpad(out)
