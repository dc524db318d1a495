"""Layers that combine several tensors: Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate and Dot. Each takes a list of inputs and returns the list of their gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralnet.layers.layer import Layer, register_layer, shape_str

# einsum letters for Dot's other axes: not "a" (the batch axis) nor "z" (the contracted one)
_EINSUM_LETTERS = "bcdefghijklmnopqrstuvwxyABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` over the axes along which an input of `shape` was broadcast."""
    if grad.shape == shape:
        return grad
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    axes = tuple(i for i, (g, s) in enumerate(zip(grad.shape, shape)) if s == 1 and g != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad


class _Merge(Layer):
    """Element-wise combination of inputs whose shapes agree (or broadcast, NumPy's rules)."""

    multi_input = True
    min_inputs = 2
    max_inputs: int | None = None

    def _check_count(self, shapes: list) -> None:
        n = len(shapes)
        if n < self.min_inputs or (self.max_inputs is not None and n > self.max_inputs):
            expected = (
                f"exactly {self.min_inputs}"
                if self.max_inputs == self.min_inputs
                else f"at least {self.min_inputs}"
            )
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} takes {expected} inputs, received {n}."
            )

    def build(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        self._check_count(shapes)
        self._output_shape = self._merged_shape(shapes)
        self.built = True

    def _merged_shape(self, shapes: list[tuple]) -> tuple:
        if len({len(s) for s in shapes}) > 1:
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} needs inputs of the same rank, received "
                f"shapes {' and '.join(shape_str(s) for s in shapes)}."
            )
        result = []
        for dims in zip(*shapes):
            known = {d for d in dims if d is not None and d != 1}
            if len(known) > 1:
                raise ValueError(
                    f"{type(self).__name__} layer {self.name!r} cannot combine inputs of shapes "
                    f"{' and '.join(shape_str(s) for s in shapes)}: the sizes must be equal (or 1)."
                )
            if None in dims and not known:
                result.append(None)
            else:
                result.append(known.pop() if known else 1)
        return tuple(result)

    def compute_output_shape(self, input_shape):
        return self._merged_shape([tuple(s) for s in input_shape])

    def forward(self, x, *, training=False):
        self._inputs = list(x)
        y = self._combine(self._inputs)
        self._y = y
        return y

    def _combine(self, xs: list[np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_y):
        return [_unbroadcast(g, x.shape) for g, x in zip(self._input_grads(grad_y), self._inputs)]

    def _input_grads(self, grad_y: np.ndarray) -> list[np.ndarray]:
        raise NotImplementedError


@register_layer("Add")
class Add(_Merge):
    """`y = x₁ + x₂ + ...`; each input receives dJ/dy."""

    def _combine(self, xs):
        total = xs[0] + xs[1]
        for x in xs[2:]:
            total = total + x
        return total

    def _input_grads(self, grad_y):
        return [grad_y] * len(self._inputs)


@register_layer("Subtract")
class Subtract(_Merge):
    """`y = x₁ − x₂` (exactly two inputs); the gradients are dJ/dy and −dJ/dy."""

    max_inputs = 2

    def _combine(self, xs):
        return xs[0] - xs[1]

    def _input_grads(self, grad_y):
        return [grad_y, -grad_y]


@register_layer("Multiply")
class Multiply(_Merge):
    """`y = x₁ · x₂ · ...` element-wise; dJ/dxᵢ = dJ/dy · Π_{j≠i} xⱼ."""

    def _combine(self, xs):
        product = xs[0] * xs[1]
        for x in xs[2:]:
            product = product * x
        return product

    def _input_grads(self, grad_y):
        grads = []
        for i in range(len(self._inputs)):
            others = grad_y
            for j, x in enumerate(self._inputs):
                if j != i:
                    others = others * x
            grads.append(others)
        return grads


@register_layer("Average")
class Average(_Merge):
    """`y = (x₁ + ... + xₙ) / n`; each input receives dJ/dy / n."""

    def _combine(self, xs):
        return Add._combine(self, xs) / len(xs)

    def _input_grads(self, grad_y):
        share = grad_y / len(self._inputs)
        return [share] * len(self._inputs)


class _Extremum(_Merge):
    """Element-wise maximum or minimum; the gradient goes to the input that was selected (the first
    one where several are equal)."""

    pick = staticmethod(np.maximum)

    def _combine(self, xs):
        result = xs[0]
        for x in xs[1:]:
            result = self.pick(result, x)
        return result

    def _input_grads(self, grad_y):
        taken = np.zeros(np.broadcast(*self._inputs).shape, dtype=bool)
        grads = []
        for x in self._inputs:
            chosen = (x == self._y) & ~taken
            taken |= chosen
            grads.append(grad_y * chosen)
        return grads


@register_layer("Maximum")
class Maximum(_Extremum):
    """`y = max(x₁, x₂, ...)` element-wise."""

    pick = staticmethod(np.maximum)


@register_layer("Minimum")
class Minimum(_Extremum):
    """`y = min(x₁, x₂, ...)` element-wise."""

    pick = staticmethod(np.minimum)


@register_layer("Concatenate")
class Concatenate(Layer):
    """Joins inputs along `axis`; the gradient is split back into the inputs' pieces."""

    multi_input = True

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _axis_for(self, rank: int) -> int:
        axis = self.axis % rank
        if axis == 0:
            raise ValueError(f"Concatenate layer {self.name!r} cannot join along the batch axis.")
        return axis

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        if len(shapes) < 2:
            raise ValueError(
                f"Concatenate layer {self.name!r} takes at least 2 inputs, received {len(shapes)}."
            )
        ranks = {len(s) for s in shapes}
        if len(ranks) > 1:
            raise ValueError(
                f"Concatenate layer {self.name!r} needs inputs of the same rank, received shapes "
                f"{', '.join(shape_str(s) for s in shapes)}."
            )
        axis = self._axis_for(len(shapes[0]))
        for i in range(1, len(shapes[0])):
            if i == axis:
                continue
            sizes = {s[i] for s in shapes if s[i] is not None}
            if len(sizes) > 1:
                raise ValueError(
                    f"Concatenate layer {self.name!r} needs inputs whose shapes agree except on axis "
                    f"{self.axis}, received shapes {', '.join(shape_str(s) for s in shapes)}."
                )
        joined = [s[axis] for s in shapes]
        size = None if any(d is None for d in joined) else sum(joined)
        out = list(shapes[0])
        out[axis] = size
        for i in range(1, len(out)):
            if i != axis and out[i] is None:
                out[i] = next((s[i] for s in shapes if s[i] is not None), None)
        return tuple(out)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def forward(self, x, *, training=False):
        xs = list(x)
        axis = self._axis_for(xs[0].ndim)
        self._splits = np.cumsum([a.shape[axis] for a in xs])[:-1]
        self._axis = axis
        return np.concatenate(xs, axis=axis)

    def backward(self, grad_y):
        return np.split(grad_y, self._splits, axis=self._axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


@register_layer("Dot")
class Dot(Layer):
    """Dot products of two inputs along `axes` (per sample; the batch axis is axis 0).

    For inputs of shape (batch, d) and `axes=1` the output is (batch, 1). With `normalize=True`
    both inputs are first L2-normalized along their axes, giving cosine similarities.
    """

    multi_input = True

    def __init__(self, axes: int | tuple[int, int], normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axes = axes if isinstance(axes, int) else tuple(int(a) for a in axes)
        self.normalize = bool(normalize)

    def _resolved_axes(self, rank_a: int, rank_b: int) -> tuple[int, int]:
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        a, b = axes[0] % rank_a, axes[1] % rank_b
        if a == 0 or b == 0:
            raise ValueError(f"Dot layer {self.name!r} cannot take products along the batch axis.")
        return a, b

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        if len(shapes) != 2:
            raise ValueError(
                f"Dot layer {self.name!r} takes exactly 2 inputs, received {len(shapes)}."
            )
        sa, sb = shapes
        a, b = self._resolved_axes(len(sa), len(sb))
        if sa[a] is not None and sb[b] is not None and sa[a] != sb[b]:
            raise ValueError(
                f"Dot layer {self.name!r} cannot multiply inputs of shapes {shape_str(sa)} and "
                f"{shape_str(sb)} along axes ({a}, {b}): sizes {sa[a]} and {sb[b]} differ."
            )
        rest = [d for i, d in enumerate(sa) if i not in (0, a)] + [
            d for i, d in enumerate(sb) if i not in (0, b)
        ]
        return (sa[0],) + (tuple(rest) if rest else (1,))

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def _subscripts(self, rank_a: int, rank_b: int) -> tuple[str, str, str]:
        a, b = self._resolved_axes(rank_a, rank_b)
        letters = iter(_EINSUM_LETTERS)
        contracted = "z"
        sa = ["a"] + [contracted if i == a else next(letters) for i in range(1, rank_a)]
        sb = ["a"] + [contracted if i == b else next(letters) for i in range(1, rank_b)]
        out = (
            ["a"] + [c for c in sa[1:] if c != contracted] + [c for c in sb[1:] if c != contracted]
        )
        return "".join(sa), "".join(sb), "".join(out)

    @staticmethod
    def _l2_normalize(x: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
        norm = np.sqrt(np.maximum(np.sum(x * x, axis=axis, keepdims=True), 1e-12))
        return x / norm, norm

    def forward(self, x, *, training=False):
        xa, xb = x
        a, b = self._resolved_axes(xa.ndim, xb.ndim)
        if self.normalize:
            xa, self._norm_a = self._l2_normalize(xa, a)
            xb, self._norm_b = self._l2_normalize(xb, b)
        sa, sb, so = self._subscripts(xa.ndim, xb.ndim)
        y = np.einsum(f"{sa},{sb}->{so}", xa, xb)
        self._xa, self._xb, self._scripts, self._axes_ab = xa, xb, (sa, sb, so), (a, b)
        self._flat_output = y.ndim == 1
        return y[:, None] if y.ndim == 1 else y

    def backward(self, grad_y):
        sa, sb, so = self._scripts
        grad = grad_y[:, 0] if self._flat_output else grad_y
        grad_a = np.einsum(f"{so},{sb}->{sa}", grad, self._xb)
        grad_b = np.einsum(f"{so},{sa}->{sb}", grad, self._xa)
        if self.normalize:
            a, b = self._axes_ab
            # d(x/‖x‖)/dx applied to g: (g − x̂·Σ(g·x̂)) / ‖x‖
            grad_a = (
                grad_a - self._xa * np.sum(grad_a * self._xa, axis=a, keepdims=True)
            ) / self._norm_a
            grad_b = (
                grad_b - self._xb * np.sum(grad_b * self._xb, axis=b, keepdims=True)
            ) / self._norm_b
        return [grad_a, grad_b]

    def get_config(self):
        axes = self.axes if isinstance(self.axes, int) else list(self.axes)
        return {**super().get_config(), "axes": axes, "normalize": self.normalize}


def add(inputs: list, **kwargs: Any):
    """Functional interface to `Add`."""
    return Add(**kwargs)(inputs)


def subtract(inputs: list, **kwargs: Any):
    """Functional interface to `Subtract`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs: list, **kwargs: Any):
    """Functional interface to `Multiply`."""
    return Multiply(**kwargs)(inputs)


def average(inputs: list, **kwargs: Any):
    """Functional interface to `Average`."""
    return Average(**kwargs)(inputs)


def maximum(inputs: list, **kwargs: Any):
    """Functional interface to `Maximum`."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list, **kwargs: Any):
    """Functional interface to `Minimum`."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: list, axis: int = -1, **kwargs: Any):
    """Functional interface to `Concatenate`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: list, axes: int | tuple[int, int], normalize: bool = False, **kwargs: Any):
    """Functional interface to `Dot`."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
