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
# tap by tap (k_h·k_w slices of (batch, H_out, W_out, C)) is faster then.
_TAP_COPY_BELOW_CHANNELS = 8


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

    def gather(self, x: np.ndarray, load: bool = True) -> np.ndarray:
        """im2col: a new C-ordered array (batch, H_out, W_out, k_h, k_w, C) of the windows of x.
        `load=False` uses the compiled kernel only if training has loaded it already."""
        x_pad = self.pad(x)
        channels = x.shape[3]
        cols = np.empty((x.shape[0], *self.output, *self.kernel, channels), dtype=x.dtype)
        compiled = _accelerate.kernel("im2col", load) if x.dtype in _accelerate.DTYPES else None
        if compiled is not None and cols.size:
            compiled(x_pad, cols, *self.strides, *self.dilation)
        elif channels < _TAP_COPY_BELOW_CHANNELS:
            for a in range(self.kernel[0]):
                for b in range(self.kernel[1]):
                    cols[:, :, :, a, b] = self.tap(x_pad, a, b)
        else:
            np.copyto(cols, self.windows(x_pad))
        return cols

    def scatter(self, cols: np.ndarray) -> np.ndarray:
        """col2im, the adjoint of `gather`: each entry of cols (batch, H_out, W_out, k_h, k_w, C)
        added to the input entry it was read from. Returns (batch, H, W, C), a view of a new
        padded array when there is padding."""
        batch, channels = cols.shape[0], cols.shape[5]
        out = np.zeros((batch, *self.padded, channels), dtype=cols.dtype)
        compiled = (
            _accelerate.kernel("col2im") if cols.dtype in _accelerate.DTYPES else None
        )
        if compiled is not None and cols.size and cols.flags.c_contiguous:
            compiled(cols, out, *self.strides, *self.dilation)
        else:
            for a in range(self.kernel[0]):
                for b in range(self.kernel[1]):
                    tap = self.tap(out, a, b)
                    tap += cols[:, :, :, a, b]  # a view of `out`: the add lands in place
        if self.padding_is_zero:
            return out
        (top, _), (left, _) = self.pads
        return out[:, top : top + self.size[0], left : left + self.size[1]]
