"""Activation functions, each with its derivative, and the name registry.

Every activation is a small class with `forward(x)` and `backward(grad_y, x, y)`; the backward pass gets
both the input and the output that forward produced, so it never recomputes them (σ' = σ(1 − σ) uses the
cached output). The lower-case functions (`relu`, `sigmoid`, ...) have Keras 3's signatures and can be
called on arrays directly; `get` turns a name, a function, a config dict or an instance into an
`Activation` object that layers can backpropagate through.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neuralnet import backend
from neuralnet._registry import Registry

ACTIVATIONS = Registry("activation")

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class Activation:
    """An element-wise (or, for softmax, row-wise) function with its derivative.

    Attributes:
        output_only: True when `backward` needs only the output `y`, so a layer may compute `y` in
            place over its pre-activation buffer (ReLU, sigmoid, tanh, softmax, linear).
        differentiable: False for functions with no useful gradient (the step function).
    """

    output_only = False
    differentiable = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        """`y = f(x)` for an array `x` of any shape."""
        raise NotImplementedError

    def forward_inplace(self, x: np.ndarray) -> np.ndarray:
        """`f(x)` written over `x` where that is possible (only used when `output_only`)."""
        return self.forward(x)

    def backward(self, grad_y: np.ndarray, x: np.ndarray | None, y: np.ndarray) -> np.ndarray:
        """`dL/dx = dL/dy · f'(x)`, from the input `x` and output `y` of `forward`."""
        raise NotImplementedError

    def __call__(self, x: Any) -> np.ndarray:
        """`forward` on anything array-like; integers and lists become `floatx` arrays."""
        x = np.asarray(x)
        if x.dtype.kind != "f":
            x = x.astype(backend.floatx())
        return self.forward(x)

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments (empty for activations without options)."""
        return {}

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(self.get_config().items()))))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    # 1/(1+e^-x) for x >= 0 and e^x/(1+e^x) for x < 0: no overflow for any x.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


# erfc(z) for z >= 0 by a Chebyshev fit (Numerical Recipes, 3rd ed., §6.2.2): |error| < 1.2e-16.
_ERFC_COEFFICIENTS = (
    -1.3026537197817094, 6.4196979235649026e-1, 1.9476473204185836e-2, -9.561514786808631e-3,
    -9.46595344482036e-4, 3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5,
    -1.624290004647e-6, 1.303655835580e-6, 1.5626441722e-8, -8.5238095915e-8, 6.529054439e-9,
    5.059343495e-9, -9.91364156e-10, -2.27365122e-10, 9.6467911e-11, 2.394038e-12, -6.886027e-12,
    8.94487e-13, 3.13092e-13, -1.12708e-13, 3.81e-16, 7.106e-15, -1.523e-15, -9.4e-17, 1.21e-16,
    -2.8e-17,
)  # fmt: skip


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, element-wise, to double precision (NumPy has none; SciPy is not needed)."""
    x = np.asarray(x)
    z = np.abs(x.astype(np.float64))
    t = 2.0 / (2.0 + z)
    ty = 4.0 * t - 2.0
    d = np.zeros_like(z)
    dd = np.zeros_like(z)
    for c in _ERFC_COEFFICIENTS[:0:-1]:
        d, dd = ty * d - dd + c, d
    erfc = t * np.exp(-z * z + 0.5 * (_ERFC_COEFFICIENTS[0] + ty * d) - dd)
    result = np.where(x >= 0, 1.0 - erfc, erfc - 1.0)
    return result.astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


# --------------------------------------------------------------------------------------------------
# The activations


@ACTIVATIONS.register("linear")
class Linear(Activation):
    """`linear(x) = x`; `activations.get(None)` is this."""

    output_only = True

    def forward(self, x):
        return x

    def forward_inplace(self, x):
        return x

    def backward(self, grad_y, x, y):
        return grad_y


@ACTIVATIONS.register("sigmoid")
class Sigmoid(Activation):
    """`sigmoid(x) = 1 / (1 + exp(-x))`, computed without overflow."""

    output_only = True

    def forward(self, x):
        return _stable_sigmoid(x)

    def backward(self, grad_y, x, y):
        return grad_y * y * (1.0 - y)  # σ' = σ(1 − σ)


@ACTIVATIONS.register("tanh")
class Tanh(Activation):
    """`tanh(x) = (e^x − e^−x) / (e^x + e^−x)`."""

    output_only = True

    def forward(self, x):
        return np.tanh(x)

    def forward_inplace(self, x):
        return np.tanh(x, out=x)

    def backward(self, grad_y, x, y):
        return grad_y * (1.0 - y * y)  # tanh' = 1 − tanh²


@ACTIVATIONS.register("relu")
class ReLU(Activation):
    """Keras's `relu(x, negative_slope=0, max_value=None, threshold=0)`.

    `x` above `threshold` passes (clipped at `max_value` when given); below it the output is
    `negative_slope · (x − threshold)`. The derivative at the kinks is 0, as in Keras with JAX.
    """

    def __init__(
        self, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0
    ) -> None:
        self.negative_slope = float(negative_slope)
        self.max_value = None if max_value is None else float(max_value)
        self.threshold = float(threshold)
        self._plain = (
            self.negative_slope == 0.0 and self.max_value is None and self.threshold == 0.0
        )
        self.output_only = self._plain

    @property
    def plain(self) -> bool:
        """`max(x, 0)`: no slope, cap or threshold (what the compiled Dense kernels handle)."""
        return self._plain

    def forward(self, x):
        if self._plain:
            return np.maximum(x, 0.0, dtype=x.dtype)
        positive = np.where(x > self.threshold, x, 0.0).astype(x.dtype, copy=False)
        if self.max_value is not None:
            positive = np.clip(positive, 0.0, self.max_value, dtype=x.dtype)
        if self.negative_slope:
            positive = positive - self.negative_slope * np.maximum(self.threshold - x, 0.0)
        return positive.astype(x.dtype, copy=False)

    def forward_inplace(self, x):
        return np.maximum(x, 0.0, out=x) if self._plain else self.forward(x)

    def backward(self, grad_y, x, y):
        if self._plain:
            return grad_y * (y > 0)
        slope = (x > self.threshold).astype(grad_y.dtype)
        if self.max_value is not None:
            slope *= (x > 0) & (x < self.max_value)
        if self.negative_slope:
            slope += self.negative_slope * (x < self.threshold)
        return grad_y * slope

    def get_config(self):
        return {
            "negative_slope": self.negative_slope,
            "max_value": self.max_value,
            "threshold": self.threshold,
        }


@ACTIVATIONS.register("leaky_relu")
class LeakyReLU(Activation):
    """`leaky_relu(x) = x if x > 0 else negative_slope · x` (function default 0.2; the layer's is 0.3)."""

    def __init__(self, negative_slope: float = 0.2) -> None:
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        return np.where(x > 0, x, self.negative_slope * x).astype(x.dtype, copy=False)

    def backward(self, grad_y, x, y):
        return grad_y * np.where(x >= 0, 1.0, self.negative_slope).astype(
            grad_y.dtype
        )  # 1 at 0, as JAX

    def get_config(self):
        return {"negative_slope": self.negative_slope}


@ACTIVATIONS.register("relu6")
class ReLU6(Activation):
    """`relu6(x) = min(max(x, 0), 6)`."""

    def forward(self, x):
        return np.clip(x, 0.0, 6.0, dtype=x.dtype)

    def backward(self, grad_y, x, y):
        return grad_y * ((x > 0) & (x < 6))


@ACTIVATIONS.register("elu")
class ELU(Activation):
    """`elu(x) = x if x >= 0 else alpha · (e^x − 1)`."""

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = float(alpha)

    def forward(self, x):
        return np.where(x >= 0, x, self.alpha * np.expm1(np.minimum(x, 0))).astype(
            x.dtype, copy=False
        )

    def backward(self, grad_y, x, y):
        # α e^x = y + α; at x = 0 the slope is α, as JAX differentiates where(x > 0, x, α(e^x − 1))
        return grad_y * np.where(x > 0, 1.0, y + self.alpha).astype(grad_y.dtype)

    def get_config(self):
        return {"alpha": self.alpha}


@ACTIVATIONS.register("selu")
class SELU(Activation):
    """`selu(x) = scale · elu(x, alpha)` with Keras's full-precision alpha and scale."""

    def forward(self, x):
        negative = SELU_ALPHA * np.expm1(np.minimum(x, 0))
        return (SELU_SCALE * np.where(x >= 0, x, negative)).astype(x.dtype, copy=False)

    def backward(self, grad_y, x, y):
        slope = np.where(x >= 0, SELU_SCALE, y + SELU_SCALE * SELU_ALPHA)
        return grad_y * slope.astype(grad_y.dtype)


@ACTIVATIONS.register("softplus")
class Softplus(Activation):
    """`softplus(x) = log(1 + e^x)`, computed as `logaddexp(x, 0)`."""

    def forward(self, x):
        return np.logaddexp(x, 0.0, dtype=x.dtype)

    def backward(self, grad_y, x, y):
        return grad_y * _stable_sigmoid(x)  # softplus' = σ


@ACTIVATIONS.register("softsign")
class Softsign(Activation):
    """`softsign(x) = x / (1 + |x|)`."""

    def forward(self, x):
        return x / (1.0 + np.abs(x))

    def backward(self, grad_y, x, y):
        return grad_y / np.square(1.0 + np.abs(x))


@ACTIVATIONS.register("hard_sigmoid")
class HardSigmoid(Activation):
    """Keras 3's `hard_sigmoid(x) = clip(x/6 + 1/2, 0, 1)`: 0 below −3, 1 above 3.

    Keras 2 (the lecture's version) used `clip(0.2x + 0.5, 0, 1)`: that is `hard_sigmoid_keras2`.
    """

    def forward(self, x):
        return np.clip(x / 6.0 + 0.5, 0.0, 1.0, dtype=x.dtype)

    def backward(self, grad_y, x, y):
        return grad_y * (((x > -3.0) & (x < 3.0)) / 6.0).astype(grad_y.dtype)


@ACTIVATIONS.register("hard_sigmoid_keras2")
class HardSigmoidKeras2(Activation):
    """Keras 2's `hard_sigmoid(x) = clip(0.2x + 0.5, 0, 1)`: 0 below −2.5, 1 above 2.5."""

    def forward(self, x):
        return np.clip(0.2 * x + 0.5, 0.0, 1.0, dtype=x.dtype)

    def backward(self, grad_y, x, y):
        return grad_y * (((x > -2.5) & (x < 2.5)) * 0.2).astype(grad_y.dtype)


@ACTIVATIONS.register("exponential")
class Exponential(Activation):
    """`exponential(x) = e^x`."""

    output_only = True

    def forward(self, x):
        return np.exp(x)

    def backward(self, grad_y, x, y):
        return grad_y * y


@ACTIVATIONS.register("softmax")
class Softmax(Activation):
    """`softmax(x)_i = e^(x_i − max x) / Σ_j e^(x_j − max x)` along `axis`."""

    output_only = True

    def __init__(self, axis: int = -1) -> None:
        self.axis = int(axis)

    def forward(self, x):
        return _softmax(x, self.axis)

    def forward_inplace(self, x):
        x -= np.max(x, axis=self.axis, keepdims=True)
        np.exp(x, out=x)
        x /= np.sum(x, axis=self.axis, keepdims=True)
        return x

    def backward(self, grad_y, x, y):
        # Jacobian-vector product: dx_i = y_i (g_i − Σ_j g_j y_j)
        return y * (grad_y - np.sum(grad_y * y, axis=self.axis, keepdims=True))

    def get_config(self):
        return {"axis": self.axis}


@ACTIVATIONS.register("log_softmax")
class LogSoftmax(Activation):
    """`log_softmax(x) = x − max x − log Σ e^(x − max x)` along `axis`."""

    output_only = True

    def __init__(self, axis: int = -1) -> None:
        self.axis = int(axis)

    def forward(self, x):
        shifted = x - np.max(x, axis=self.axis, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=self.axis, keepdims=True))

    def backward(self, grad_y, x, y):
        return grad_y - np.exp(y) * np.sum(grad_y, axis=self.axis, keepdims=True)

    def get_config(self):
        return {"axis": self.axis}


@ACTIVATIONS.register("silu", "swish")
class SiLU(Activation):
    """`silu(x) = swish(x) = x · sigmoid(x)`."""

    def forward(self, x):
        return x * _stable_sigmoid(x)

    def backward(self, grad_y, x, y):
        s = _stable_sigmoid(x)
        return grad_y * (s * (1.0 + x * (1.0 - s)))


@ACTIVATIONS.register("gelu")
class GELU(Activation):
    """`gelu(x) = x · Φ(x)`; with `approximate=True`, Keras's tanh form."""

    _SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)

    def __init__(self, approximate: bool = False) -> None:
        self.approximate = bool(approximate)

    def forward(self, x):
        if self.approximate:
            inner = self._SQRT_2_OVER_PI * (x + 0.044715 * x**3)
            return (0.5 * x * (1.0 + np.tanh(inner))).astype(x.dtype, copy=False)
        return (0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))).astype(x.dtype, copy=False)

    def backward(self, grad_y, x, y):
        if self.approximate:
            inner = self._SQRT_2_OVER_PI * (x + 0.044715 * x**3)
            t = np.tanh(inner)
            d_inner = self._SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x**2)
            slope = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * d_inner
        else:
            cdf = 0.5 * (1.0 + erf(x / math.sqrt(2.0)))
            pdf = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
            slope = cdf + x * pdf  # d/dx [x Φ(x)] = Φ(x) + x φ(x)
        return grad_y * slope.astype(grad_y.dtype, copy=False)

    def get_config(self):
        return {"approximate": self.approximate}


@ACTIVATIONS.register("threshold")
class Threshold(Activation):
    """Keras 3's `threshold(x, threshold, default_value)`: x where x > threshold, else default_value."""

    def __init__(self, threshold: float = 0.0, default_value: float = 0.0) -> None:
        self.threshold = float(threshold)
        self.default_value = float(default_value)

    def forward(self, x):
        return np.where(x > self.threshold, x, self.default_value).astype(x.dtype, copy=False)

    def backward(self, grad_y, x, y):
        return grad_y * (x > self.threshold)

    def get_config(self):
        return {"threshold": self.threshold, "default_value": self.default_value}


@ACTIVATIONS.register("step", "heaviside")
class Step(Activation):
    """The perceptron's step (the lecture's "threshold"): 1 where x > 0, else 0. It has no gradient.

    Forward only: it is for predicting with a perceptron, not for training by backpropagation, since
    its derivative is 0 almost everywhere. Using it where a gradient is needed raises an error.
    """

    differentiable = False

    def forward(self, x):
        return (x > 0).astype(x.dtype if x.dtype.kind == "f" else np.float64)

    def backward(self, grad_y, x, y):
        raise TypeError(
            "The 'step' activation has no useful gradient (its derivative is 0 almost everywhere), "
            "so a network using it cannot be trained by backpropagation. Use 'sigmoid' for a "
            "trainable perceptron, or use 'step' only for prediction."
        )


# --------------------------------------------------------------------------------------------------
# Keras 3's functions, callable on arrays


def linear(x):
    """`x`, unchanged."""
    return np.asarray(x)


def sigmoid(x):
    """`1 / (1 + exp(-x))`."""
    return Sigmoid()(x)


def tanh(x):
    """Hyperbolic tangent."""
    return Tanh()(x)


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit with Keras's options (see `ReLU`)."""
    return ReLU(negative_slope, max_value, threshold)(x)


def leaky_relu(x, negative_slope=0.2):
    """`x if x > 0 else negative_slope · x`."""
    return LeakyReLU(negative_slope)(x)


def relu6(x):
    """`min(max(x, 0), 6)`."""
    return ReLU6()(x)


def elu(x, alpha=1.0):
    """`x if x >= 0 else alpha · (e^x − 1)`."""
    return ELU(alpha)(x)


def selu(x):
    """Scaled exponential linear unit."""
    return SELU()(x)


def softplus(x):
    """`log(1 + e^x)`."""
    return Softplus()(x)


def softsign(x):
    """`x / (1 + |x|)`."""
    return Softsign()(x)


def hard_sigmoid(x):
    """Keras 3's `clip(x/6 + 0.5, 0, 1)`."""
    return HardSigmoid()(x)


def hard_sigmoid_keras2(x):
    """Keras 2's `clip(0.2x + 0.5, 0, 1)`."""
    return HardSigmoidKeras2()(x)


def exponential(x):
    """`e^x`."""
    return Exponential()(x)


def softmax(x, axis=-1):
    """Normalized exponentials along `axis`."""
    return Softmax(axis)(x)


def log_softmax(x, axis=-1):
    """Logarithm of the softmax along `axis`."""
    return LogSoftmax(axis)(x)


def silu(x):
    """`x · sigmoid(x)`."""
    return SiLU()(x)


swish = silu


def gelu(x, approximate=False):
    """Gaussian error linear unit."""
    return GELU(approximate)(x)


def threshold(x, threshold, default_value):
    """`x if x > threshold else default_value` (Keras 3's signature: both arguments required)."""
    return Threshold(threshold, default_value)(x)


def step(x):
    """The perceptron's step function: 1 where x > 0, else 0 (the lecture's "threshold")."""
    return Step()(x)


_FUNCTIONS = {
    linear: Linear, sigmoid: Sigmoid, tanh: Tanh, relu: ReLU, leaky_relu: LeakyReLU, relu6: ReLU6,
    elu: ELU, selu: SELU, softplus: Softplus, softsign: Softsign, hard_sigmoid: HardSigmoid,
    hard_sigmoid_keras2: HardSigmoidKeras2, exponential: Exponential, softmax: Softmax,
    log_softmax: LogSoftmax, silu: SiLU, gelu: GELU, threshold: Threshold, step: Step,
}  # fmt: skip


def get(identifier: Any) -> Activation:
    """An `Activation` from a name, `None` (linear), a config dict, an instance, or one of this
    module's functions.

    Raises:
        ValueError: for an unknown name, with the closest match and the known names.
        TypeError: for any other callable: without autodiff an activation needs its derivative, so
            subclass `Activation` and write `backward`.
    """
    if identifier is None:
        return Linear()
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, str):
        return ACTIVATIONS.lookup(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Activation):
        return identifier()
    if callable(identifier) and identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]()
    if callable(identifier):
        raise TypeError(
            f"Cannot use {identifier!r} as an activation: neuralnet backpropagates by hand, so an "
            "activation needs its derivative. Subclass neuralnet.activations.Activation and write "
            "forward(x) and backward(grad_y, x, y)."
        )
    raise TypeError(
        f"Cannot interpret {identifier!r} as an activation: expected a name or an Activation."
    )


def serialize(activation: Activation) -> str | dict[str, Any]:
    """A name for an activation with its default options, else `{'class_name', 'config'}`."""
    name = ACTIVATIONS.name_of(activation)
    if name is None:
        # An unregistered class of yours: by its own name and module (loading needs
        # `custom_objects`, as in Keras).
        cls = type(activation)
        return {"class_name": cls.__name__, "config": activation.get_config(),
                "module": cls.__module__}  # fmt: skip
    config = activation.get_config()
    if config == type(activation)().get_config():
        return name
    return {"class_name": name, "config": config}


def deserialize(config: str | dict[str, Any]) -> Activation:
    """The inverse of `serialize`: a registered name, or `{'class_name', 'config'}`."""
    if isinstance(config, str):
        return ACTIVATIONS.lookup(config)()
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"An activation config needs a 'class_name' key, received {config!r}.")
    return ACTIVATIONS.lookup(config["class_name"])(**config.get("config", {}))
