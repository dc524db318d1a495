"""Optional compiled kernels (numba) for the element-wise hot spots of training.

Adam's update is ten element-wise passes over every parameter in NumPy; compiled, it is one pass.
So are Dense's bias-plus-ReLU (two passes in NumPy) and its ReLU backward with the bias gradient
(three); batch normalization takes three passes forward and two backward instead of about ten
each, and dropout one pass instead of four. The kernels do exactly the arithmetic of the NumPy
code they replace, in the same order and in the parameters' own float type, so both paths give
the same numbers (the tests check this bit for bit), except that optimizer moments smaller than
the smallest normal float are flushed to zero at every step (the NumPy path does it every 32
steps): that keeps long runs from slowing down on subnormal arithmetic and changes nothing else.

numba is optional (`pip install 'neuralnet[fast]'`); it is imported on the first training step
that can use it, never at `import neuralnet` nor by inference alone (which uses the kernels once
training has loaded them). `neuralnet.config.set_accelerator(None)` turns it off.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable
from typing import Any

import numpy as np

#: The float types the kernels are compiled for (numba has no float16 arithmetic).
DTYPES = frozenset({np.dtype("float32"), np.dtype("float64")})
_MODES = ("auto", "numba", None)
_mode: str | None = "auto"
_kernels: dict[str, Callable[..., Any]] | None = None


def set_accelerator(mode: str | None) -> None:
    """`'auto'` (numba when installed), `'numba'` (required) or `None` (pure NumPy)."""
    global _mode
    if mode not in _MODES:
        raise ValueError(f"set_accelerator: expected 'auto', 'numba' or None, received {mode!r}.")
    if mode == "numba" and importlib.util.find_spec("numba") is None:
        raise ImportError(
            "The 'numba' accelerator needs the optional package 'numba', which is not installed. "
            "Install it with: pip install 'neuralnet[fast]'"
        )
    _mode = mode


def accelerator() -> str | None:
    """The accelerator in use: `'numba'` or `None`."""
    if _mode is None:
        return None
    return "numba" if importlib.util.find_spec("numba") is not None else None


def kernel(name: str, load: bool = True) -> Callable[..., Any] | None:
    """The compiled kernel `name`, or `None` when no accelerator is in use. With `load=False` the
    kernels are not loaded for this call (importing numba takes about a second): inference uses
    them only once training has loaded them."""
    global _kernels
    if _mode is None:
        return None
    if _kernels is None and not load:
        return None
    if _kernels is None:
        _kernels = _compile() if importlib.util.find_spec("numba") is not None else {}
    return _kernels.get(name)


def _compile() -> dict[str, Callable[..., Any]]:
    from numba import njit

    @njit(cache=True, error_model="numpy")  # numpy errors: no per-division check, so it vectorizes
    def adam(
        p, g, mf, vf, alpha, one_minus_beta_1, one_minus_beta_2, epsilon, tiny
    ):  # pragma: no cover
        # 1-D (flattened) views of the parameter, its gradient and Adam's two moments, in place
        for i in range(p.size):
            gi = g[i]
            mi = mf[i] + (gi - mf[i]) * one_minus_beta_1  # m ← m + (1 − β₁)(g − m)
            vi = vf[i] + (gi * gi - vf[i]) * one_minus_beta_2  # v ← v + (1 − β₂)(g² − v)
            # The moment of a weight whose gradient stays 0 decays geometrically into subnormal
            # numbers, which the CPU handles a hundred times slower: flush them to 0, as TensorFlow
            # and XLA do for the whole computation.
            zero = tiny - tiny  # 0 in the arrays' own float type
            if abs(mi) < tiny:
                mi = zero
            if vi < tiny:
                vi = zero
            mf[i] = mi
            vf[i] = vi
            p[i] -= mi / (math.sqrt(vi) + epsilon) * alpha  # θ ← θ − α·m/(√v + ε)

    @njit(cache=True, error_model="numpy")
    def bias_relu(z, b):  # pragma: no cover
        # z ← max(z + b, 0) in place, row by row: NumPy's `z += b; np.maximum(z, 0, out=z)` in one
        # pass (a NaN stays NaN and −0 stays −0, as np.maximum keeps its first argument then).
        rows, units = z.shape
        for i in range(rows):
            for j in range(units):
                value = z[i, j] + b[j]
                if value < 0:  # noqa: PLR1730 (max() may not keep NaN and −0 as np.maximum does)
                    value = 0
                z[i, j] = value

    @njit(cache=True, error_model="numpy")
    def relu_backward_bias_grad(grad_y, y, grad_z, grad_b, one, zero):  # pragma: no cover
        # grad_z = grad_y · (y > 0) (multiplied, as NumPy does it, so a NaN gradient stays NaN) and
        # grad_b = Σ_rows grad_z, summed row after row in NumPy's order for axis 0: one pass.
        rows, units = grad_y.shape
        if rows == 0:
            grad_b[:] = zero
        for i in range(rows):
            for j in range(units):
                g = grad_y[i, j] * (one if y[i, j] > 0 else zero)
                grad_z[i, j] = g
                if i == 0:
                    grad_b[j] = g
                else:
                    grad_b[j] += g

    @njit(cache=True, error_model="numpy")
    def column_sums(x, sums):  # pragma: no cover
        # Σ_rows x, row after row: NumPy's order for a sum over axis 0 of a C-ordered array.
        rows, units = x.shape
        if rows == 0:
            sums[:] = 0
        for i in range(rows):
            for j in range(units):
                if i == 0:
                    sums[j] = x[i, j]
                else:
                    sums[j] += x[i, j]

    @njit(cache=True, error_model="numpy")
    def center_and_square_sums(x, mean, centered, square_sums):  # pragma: no cover
        # centered = x − μ, and Σ_rows centered² (each square rounded first, as np.square does).
        rows, units = x.shape
        if rows == 0:
            square_sums[:] = 0
        for i in range(rows):
            for j in range(units):
                c = x[i, j] - mean[j]
                centered[i, j] = c
                if i == 0:
                    square_sums[j] = c * c
                else:
                    square_sums[j] += c * c

    @njit(cache=True, error_model="numpy")
    def normalize_scale_shift(x_hat, inv_std, gamma, beta, y):  # pragma: no cover
        # x̂ ← (x − μ)·(1/σ) in place, y = x̂·γ + β (two roundings, as NumPy's two operations).
        rows, units = x_hat.shape
        for i in range(rows):
            for j in range(units):
                value = x_hat[i, j] * inv_std[j]
                x_hat[i, j] = value
                y[i, j] = value * gamma[j] + beta[j]

    @njit(cache=True, error_model="numpy")
    def batch_norm_grad_sums(grad_y, x_hat, sum_dy, sum_dy_x_hat):  # pragma: no cover
        # Σ dy and Σ dy·x̂ over the rows, in one pass.
        rows, units = grad_y.shape
        if rows == 0:
            sum_dy[:] = 0
            sum_dy_x_hat[:] = 0
        for i in range(rows):
            for j in range(units):
                g = grad_y[i, j]
                if i == 0:
                    sum_dy[j] = g
                    sum_dy_x_hat[j] = g * x_hat[i, j]
                else:
                    sum_dy[j] += g
                    sum_dy_x_hat[j] += g * x_hat[i, j]

    @njit(cache=True, error_model="numpy")
    def batch_norm_input_grad(
        grad_y, x_hat, scale, mean_dy, mean_dy_x_hat, grad_x
    ):  # pragma: no cover
        # dx = γ/σ · ((dy − mean(dy)) − x̂·mean(dy·x̂)), in NumPy's order of operations.
        rows, units = grad_y.shape
        for i in range(rows):
            for j in range(units):
                grad_x[i, j] = scale[j] * (
                    (grad_y[i, j] - mean_dy[j]) - x_hat[i, j] * mean_dy_x_hat[j]
                )

    @njit(cache=True, error_model="numpy")
    def dropout(uniform, x, y, keep, inv_keep, zero):  # pragma: no cover
        # The uniform draws become the mask (1/keep where u < keep, else 0), and y = x·mask.
        for i in range(x.size):
            mask = inv_keep if uniform[i] < keep else zero
            uniform[i] = mask
            y[i] = x[i] * mask

    @njit(cache=True, error_model="numpy")
    def col2im(cols, out, stride_h, stride_w, dilation_h, dilation_w):  # pragma: no cover
        # out[n, i·s_h + a·d_h, j·s_w + b·d_w, c] += cols[n, i, j, a, b, c], the adjoint of
        # im2col, sample by sample so that each sample's part of `out` stays in the cache (NumPy
        # adds a whole (batch, H_out, W_out, C) slice per tap, k_h·k_w passes over `out`).
        batch, out_h, out_w, kernel_h, kernel_w, channels = cols.shape
        for n in range(batch):
            for i in range(out_h):
                for j in range(out_w):
                    for a in range(kernel_h):
                        row = i * stride_h + a * dilation_h
                        for b in range(kernel_w):
                            col = j * stride_w + b * dilation_w
                            for c in range(channels):
                                out[n, row, col, c] += cols[n, i, j, a, b, c]

    @njit(cache=True, error_model="numpy")
    def max_pool(
        x, y, argmax, pool_h, pool_w, stride_h, stride_w, pad_top, pad_left
    ):  # pragma: no cover
        # y[n, i, j, c] = the max of x over the window of (i, j), positions outside x being
        # padding that never wins; argmax = the window position a·p_w + b of its first maximum.
        # A NaN wins, as with np.maximum, and its gradient goes to the window's last position, as
        # on NumPy's path (which finds no maximum equal to NaN).
        batch, height, width, channels = x.shape
        last = pool_h * pool_w - 1
        out_h, out_w = y.shape[1], y.shape[2]
        for n in range(batch):
            for i in range(out_h):
                for j in range(out_w):
                    first = True
                    for a in range(pool_h):
                        row = i * stride_h + a - pad_top
                        if row < 0 or row >= height:
                            continue
                        for b in range(pool_w):
                            col = j * stride_w + b - pad_left
                            if col < 0 or col >= width:
                                continue
                            tap = a * pool_w + b
                            for c in range(channels):
                                value = x[n, row, col, c]
                                if first:
                                    y[n, i, j, c] = value
                                    argmax[n, i, j, c] = last if np.isnan(value) else tap
                                elif value > y[n, i, j, c]:
                                    y[n, i, j, c] = value
                                    argmax[n, i, j, c] = tap
                                elif np.isnan(value):
                                    y[n, i, j, c] = value
                                    argmax[n, i, j, c] = last
                            first = False

    @njit(cache=True, error_model="numpy")
    def max_pool_backward_tiled(grad_y, argmax, grad_x, pool_h, pool_w):  # pragma: no cover
        # Windows that tile the input (strides = pool, no padding): every position a window covers
        # is written once, grad_y at the window's first maximum and 0 elsewhere, so grad_x needs
        # no zeroing beforehand (only the rows and columns no window covers, done by the caller).
        batch, out_h, out_w, channels = grad_y.shape
        zero = grad_y.dtype.type(0)
        for n in range(batch):
            for i in range(out_h):
                for a in range(pool_h):
                    row = i * pool_h + a
                    for j in range(out_w):
                        for b in range(pool_w):
                            col = j * pool_w + b
                            tap = a * pool_w + b
                            for c in range(channels):
                                if argmax[n, i, j, c] == tap:
                                    grad_x[n, row, col, c] = grad_y[n, i, j, c]
                                else:
                                    grad_x[n, row, col, c] = zero

    @njit(cache=True, error_model="numpy")
    def max_pool_backward(
        grad_y, argmax, grad_x, pool_w, stride_h, stride_w, pad_top, pad_left
    ):  # pragma: no cover
        # grad_x (zeros) += grad_y at the first maximum of each window, recorded by max_pool
        # (nothing where that position is padding, which only a NaN's window can point at).
        batch, out_h, out_w, channels = grad_y.shape
        height, width = grad_x.shape[1], grad_x.shape[2]
        for n in range(batch):
            for i in range(out_h):
                for j in range(out_w):
                    for c in range(channels):
                        tap = argmax[n, i, j, c]
                        row = i * stride_h + tap // pool_w - pad_top
                        col = j * stride_w + tap % pool_w - pad_left
                        if 0 <= row < height and 0 <= col < width:
                            grad_x[n, row, col, c] += grad_y[n, i, j, c]

    return {
        "adam": adam,
        "max_pool": max_pool,
        "max_pool_backward": max_pool_backward,
        "max_pool_backward_tiled": max_pool_backward_tiled,
        "col2im": col2im,
        "bias_relu": bias_relu,
        "relu_backward_bias_grad": relu_backward_bias_grad,
        "column_sums": column_sums,
        "center_and_square_sums": center_and_square_sums,
        "normalize_scale_shift": normalize_scale_shift,
        "batch_norm_grad_sums": batch_norm_grad_sums,
        "batch_norm_input_grad": batch_norm_input_grad,
        "dropout": dropout,
    }
