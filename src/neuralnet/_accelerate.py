"""Optional compiled kernels (numba) for the element-wise hot spots of training.

Adam's update is ten element-wise passes over every parameter in NumPy; compiled, it is one pass.
So are Dense's bias-plus-ReLU (two passes in NumPy) and its ReLU backward with the bias gradient
(three). The kernels do exactly the arithmetic of the NumPy code they replace, in the same order and in the
parameters' own float type, so both paths give the same numbers (the tests check this bit for bit),
except that optimizer moments smaller than the smallest normal float are flushed to zero at every
step (the NumPy path does it every 32 steps): that keeps long runs from slowing down on subnormal
arithmetic and changes nothing else.

numba is optional (`pip install 'neuralnet[fast]'`); it is imported on the first forward pass or
optimizer step that could use it, never at `import neuralnet`. `neuralnet.config.set_accelerator(None)` turns it off.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable
from typing import Any

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


def kernel(name: str) -> Callable[..., Any] | None:
    """The compiled kernel `name`, or `None` when no accelerator is in use."""
    global _kernels
    if _mode is None:
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

    return {
        "adam": adam,
        "bias_relu": bias_relu,
        "relu_backward_bias_grad": relu_backward_bias_grad,
    }
