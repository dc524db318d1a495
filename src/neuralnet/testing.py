"""Gradient checking: analytic gradients against centred finite differences, in float64.

This is the cs231n method, public so that users can check the `backward` of their own layers:

    from neuralnet.testing import check_gradients
    report = check_gradients(MyLayer(), input_shape=(4, 3))
    print(report)                  # the relative error of dJ/dx and of every parameter

For a layer, J = Σ forward(x) · g with a random upstream gradient g, so every entry of the layer's
Jacobian is exercised. For a loss, J is the loss itself; for a compiled model, J is the full cost
(loss + regularization) of one batch. Random layers (Dropout) replay the same random numbers at every
evaluation, so the function being differentiated is fixed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuralnet import backend
from neuralnet.activations import Activation
from neuralnet.layers.layer import Layer
from neuralnet.losses import Loss


@dataclass
class GradientReport:
    """The result of `check_gradients`.

    Attributes:
        errors: For each checked array (`'x'`, `'kernel'`, `'dense/kernel'`, ...), the relative error
            ‖analytic − numeric‖ / (‖analytic‖ + ‖numeric‖), 0 when both are zero.
        max_abs_errors: The largest entry-wise |analytic − numeric| of each array.
        rtol: The tolerance the relative errors were compared against.
        atol: An array whose every entry is within `atol` of the finite difference passes whatever its
            relative error (a gradient that is exactly zero has only rounding noise to compare with).
    """

    errors: dict[str, float] = field(default_factory=dict)
    max_abs_errors: dict[str, float] = field(default_factory=dict)
    rtol: float = 1e-6
    atol: float = 1e-8

    @property
    def max_error(self) -> float:
        """The worst relative error over all arrays."""
        return max(self.errors.values(), default=0.0)

    def _ok(self, name: str) -> bool:
        return self.errors[name] <= self.rtol or self.max_abs_errors[name] <= self.atol

    @property
    def passed(self) -> bool:
        return all(self._ok(name) for name in self.errors)

    @property
    def failures(self) -> dict[str, float]:
        return {name: error for name, error in self.errors.items() if not self._ok(name)}

    def __str__(self) -> str:
        lines = [f"{'array':<32} {'relative error':>15} {'max |a - n|':>13}"]
        for name, error in self.errors.items():
            flag = "" if self._ok(name) else "  <-- above rtol"
            lines.append(f"{name:<32} {error:>15.3e} {self.max_abs_errors[name]:>13.3e}{flag}")
        return "\n".join(lines)


def _relative_error(analytic: np.ndarray, numeric: np.ndarray) -> tuple[float, float]:
    diff = np.linalg.norm((analytic - numeric).ravel())
    scale = np.linalg.norm(analytic.ravel()) + np.linalg.norm(numeric.ravel())
    max_abs = float(np.max(np.abs(analytic - numeric))) if analytic.size else 0.0
    return (float(diff / scale) if scale > 0 else 0.0), max_abs


def numerical_gradient(
    f: Callable[[], float], array: np.ndarray, epsilon: float = 1e-6
) -> np.ndarray:
    """dF/d(array) by centred differences, perturbing `array` in place entry by entry."""
    grad = np.zeros_like(array, dtype=np.float64)
    flat = array.reshape(-1)
    out = grad.reshape(-1)
    if not np.shares_memory(flat, array):
        raise ValueError("numerical_gradient needs a contiguous array to perturb in place.")
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + epsilon
        f_plus = f()
        flat[i] = original - epsilon
        f_minus = f()
        flat[i] = original
        out[i] = (f_plus - f_minus) / (2.0 * epsilon)
    return grad


def _layers_of(target: Layer) -> Iterator[Layer]:
    from neuralnet.layers.layer import walk_layers

    yield from walk_layers(target)


@contextlib.contextmanager
def _frozen_randomness(target: Layer) -> Iterator[Callable[[], None]]:
    """Yield a function that rewinds every random generator already used by a layer of `target`
    (run one forward pass first), and every layer's state (BatchNormalization's moving statistics,
    which a training-mode call updates), to what they are now: each evaluation of the cost then
    sees the same random numbers and the same statistics."""
    layers = list(_layers_of(target))
    generators = [(layer, layer.rng.bit_generator.state) for layer in layers if layer._rng]
    states = [(array, array.copy()) for layer in layers for array in layer.state.values()]

    def rewind() -> None:
        for layer, state in generators:
            layer.rng.bit_generator.state = state
        for array, saved in states:
            np.copyto(array, saved)

    yield rewind


def _as_float64_list(x: Any) -> list[np.ndarray]:
    arrays = x if isinstance(x, (list, tuple)) else [x]
    return [np.array(a, dtype=np.float64, copy=True) for a in arrays]


def _finish(report: GradientReport, raise_on_failure: bool, what: str) -> GradientReport:
    if raise_on_failure and not report.passed:
        raise AssertionError(
            f"Gradient check of {what} failed: relative error above rtol={report.rtol:g}.\n{report}"
        )
    return report


def check_gradients(
    target: Layer | Loss | Activation,
    x: Any = None,
    y: Any = None,
    *,
    input_shape: tuple[int, ...] | list[tuple[int, ...]] | None = None,
    sample_weight: Any = None,
    training: bool = True,
    seed: int = 0,
    epsilon: float = 1e-6,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    check_inputs: bool = True,
    raise_on_failure: bool = True,
) -> GradientReport:
    """Compare a `backward` with centred finite differences in float64.

    Args:
        target: A layer (unbuilt, or built in float64), an activation, a loss, or a compiled model.
        x: The input (a list for several inputs); random normal of `input_shape` when `None`. For a
            loss, `x` is `y_pred`.
        y: For a loss or a model, the targets.
        input_shape: Shape of the random input (batch axis included), e.g. `(5, 3)`.
        sample_weight: Passed to the loss.
        training: Run layers in training mode (batch statistics, dropout).
        seed: Seed of the random input and upstream gradient.
        epsilon: The finite-difference step.
        rtol: The largest relative error accepted.
        atol: An array within `atol` of the finite differences everywhere passes anyway.
        check_inputs: Also check dJ/dx (layers, activations and models).
        raise_on_failure: Raise AssertionError with the report when an error exceeds `rtol`.

    Returns:
        A `GradientReport` with the relative error of each array.
    """
    rng = np.random.default_rng(seed)
    report = GradientReport(rtol=rtol, atol=atol)
    with backend.floatx_scope("float64"):
        if isinstance(target, Loss):
            return _finish(
                _check_loss(target, x, y, sample_weight, input_shape, rng, epsilon, report),
                raise_on_failure,
                f"loss {target.name!r}",
            )
        if isinstance(target, Activation):
            return _finish(
                _check_activation(target, x, input_shape, rng, epsilon, report),
                raise_on_failure,
                repr(target),
            )
        if isinstance(target, Layer):
            with _preserved(target):
                return _check_any_layer(target, x, y, sample_weight, input_shape, rng, epsilon,
                                        training, check_inputs, report, raise_on_failure)  # fmt: skip
    raise TypeError(
        f"check_gradients: cannot check {target!r}; expected a Layer, Model, Loss or Activation."
    )


@contextlib.contextmanager
def _preserved(target: Layer) -> Iterator[None]:
    """Leave `target` as it was: its layers' state (BatchNormalization's moving statistics) and
    random generators are put back after the check."""
    layers = list(_layers_of(target))
    saved = [
        (
            layer,
            {key: value.copy() for key, value in layer.state.items()},
            None if layer._rng is None else layer._rng.bit_generator.state,
        )
        for layer in layers
    ]
    try:
        yield
    finally:
        for layer, state, rng_state in saved:
            for key, value in state.items():
                np.copyto(layer.state[key], value)
            if rng_state is not None:
                layer._rng.bit_generator.state = rng_state


def _check_any_layer(target, x, y, sample_weight, input_shape, rng, epsilon, training, check_inputs,
                     report, raise_on_failure) -> GradientReport:  # fmt: skip
    from neuralnet.models.model import Model

    if isinstance(target, Model) and target.compiled:
        result = _check_model(
            target, x, y, sample_weight, input_shape, rng, epsilon, training, check_inputs, report
        )
        return _finish(result, raise_on_failure, f"model {target.name!r}")
    result = _check_layer(target, x, input_shape, rng, epsilon, training, check_inputs, report)
    return _finish(result, raise_on_failure, f"layer {target.name!r}")


def _input_arrays(x: Any, input_shape: Any, rng: np.random.Generator) -> list[np.ndarray]:
    if x is not None:
        return _as_float64_list(x)
    if input_shape is None:
        raise ValueError("check_gradients: give `x` or `input_shape`.")
    shapes = input_shape if isinstance(input_shape, list) else [input_shape]
    return [rng.standard_normal(tuple(shape)) for shape in shapes]


def _require_float64(layer: Layer) -> None:
    for path, array in zip(layer.weight_names, layer.weights):
        if array.dtype != np.float64 and array.dtype.kind == "f":  # counters may be integers
            raise ValueError(
                f"check_gradients: {path} is {array.dtype}; pass an unbuilt layer (it is then built in "
                "float64) or build it under neuralnet.config.floatx_scope('float64')."
            )


def _check_layer(layer, x, input_shape, rng, epsilon, training, check_inputs, report):
    inputs = _input_arrays(x, input_shape, rng)
    several = isinstance(x, (list, tuple)) or isinstance(input_shape, list)
    layer.ensure_built([a.shape for a in inputs] if several else inputs[0].shape)
    multi = layer.multi_input

    def feed():
        return inputs if multi else inputs[0]

    _require_float64(layer)
    layer.forward(feed(), training=training)  # creates the random generators it uses
    with _frozen_randomness(layer) as rewind:
        rewind()
        out = layer.forward(feed(), training=training)
        outs = out if isinstance(out, (list, tuple)) else [out]
        upstream = [rng.standard_normal(o.shape) for o in outs]

        def f() -> float:
            rewind()
            y = layer.forward(feed(), training=training)
            ys = y if isinstance(y, (list, tuple)) else [y]
            return float(sum(np.sum(a * g) for a, g in zip(ys, upstream)))

        rewind()
        layer.forward(feed(), training=training)
        grad_x = layer.backward(upstream if len(upstream) > 1 else upstream[0])
        grad_xs = grad_x if multi else [grad_x]
        analytic = {path: np.array(g, copy=True) for path, g in _named_grads(layer)}
        if check_inputs:
            for i, (array, g) in enumerate(zip(inputs, grad_xs)):
                name = "x" if len(inputs) == 1 else f"x[{i}]"
                report.errors[name], report.max_abs_errors[name] = _relative_error(
                    np.asarray(g), numerical_gradient(f, array, epsilon)
                )
        for path, param in _named_params(layer):
            report.errors[path], report.max_abs_errors[path] = _relative_error(
                analytic[path], numerical_gradient(f, param, epsilon)
            )
    return report


def _named_arrays(layer: Layer, kind: str) -> Iterator[tuple[str, np.ndarray]]:
    """(path, array) of every `params` or `grads` entry of `layer` and of the layers inside it."""
    for entry in layer.weight_entries():
        if entry.owner.params.get(entry.key) is entry.array:
            yield entry.path, getattr(entry.owner, kind)[entry.key]


def _named_params(layer: Layer) -> Iterator[tuple[str, np.ndarray]]:
    return _named_arrays(layer, "params")


def _named_grads(layer: Layer) -> Iterator[tuple[str, np.ndarray]]:
    return _named_arrays(layer, "grads")


def _check_activation(activation, x, input_shape, rng, epsilon, report):
    (array,) = _input_arrays(x, input_shape, rng)
    y = activation.forward(array.copy())
    upstream = rng.standard_normal(y.shape)

    def f() -> float:
        return float(np.sum(activation.forward(array.copy()) * upstream))

    analytic = activation.backward(upstream, array.copy(), activation.forward(array.copy()))
    report.errors["x"], report.max_abs_errors["x"] = _relative_error(
        analytic, numerical_gradient(f, array, epsilon)
    )
    return report


def _check_loss(loss, y_pred, y_true, sample_weight, input_shape, rng, epsilon, report):
    (pred,) = _input_arrays(y_pred, input_shape, rng)
    if y_true is None:
        raise ValueError("check_gradients: a loss needs `y` (the targets).")
    target = np.asarray(y_true)
    if target.dtype.kind == "f":
        target = target.astype(np.float64)

    def f() -> float:
        return loss.forward(target, pred, sample_weight)

    analytic = loss.backward(target, pred.copy(), sample_weight)
    report.errors["y_pred"], report.max_abs_errors["y_pred"] = _relative_error(
        analytic, numerical_gradient(f, pred, epsilon)
    )
    return report


def _check_model(
    model, x, y, sample_weight, input_shape, rng, epsilon, training, check_inputs, report
):
    from neuralnet.training import data_adapter

    xs = _input_arrays(x, input_shape, rng)
    if y is None:
        raise ValueError("check_gradients: a model needs `y` (the targets).")
    model.build_for(xs[0] if len(xs) == 1 else xs)
    for layer in _layers_of(model):
        _require_float64(layer)
    trainer = model.trainer
    ys = data_adapter.standardize_targets(model, y, "check_gradients")
    sws = data_adapter.standardize_sample_weights(model, sample_weight, len(ys), "check_gradients")
    trainer.loss_of(xs, ys, sws, training=training)  # creates the random generators it uses
    with _frozen_randomness(model) as rewind:

        def f() -> float:
            rewind()
            return trainer.loss_of(xs, ys, sws, training=training)

        rewind()
        trainer.compute_gradients(xs, ys, sws, training=training, input_gradients=check_inputs)
        input_grads = trainer.input_gradients_of_last
        analytic = {path: np.array(g, copy=True) for path, g in _named_grads(model)}
        if check_inputs:
            for i, (array, g) in enumerate(zip(xs, input_grads)):
                name = "x" if len(xs) == 1 else f"x[{i}]"
                g = np.zeros_like(array) if g is None else g
                report.errors[name], report.max_abs_errors[name] = _relative_error(
                    g, numerical_gradient(f, array, epsilon)
                )
        for path, param in _named_params(model):
            report.errors[path], report.max_abs_errors[path] = _relative_error(
                analytic[path], numerical_gradient(f, param, epsilon)
            )
    return report
