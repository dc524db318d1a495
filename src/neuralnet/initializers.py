"""Weight initializers with Keras 3's names, formulas and defaults.

An initializer is called as `initializer(shape, dtype=None, rng=None)` and returns a new array. The
layer passes its own Generator as `rng`; an initializer constructed with `seed=` uses that seed
instead (and then, as in Keras 3, returns the same values at every call).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from neuralnet import backend
from neuralnet._registry import Registry
from neuralnet._validation import check_number, check_one_of

INITIALIZERS = Registry("initializer")

Shape = tuple[int, ...]

# The standard deviation of a unit normal truncated at ±2: the factor VarianceScaling divides by.
_TRUNCATION_STDDEV = 0.87962566103423978


def compute_fans(shape: Shape) -> tuple[int, int]:
    """`(fan_in, fan_out)` as Keras computes them: kernels of rank > 2 multiply by the receptive field."""
    shape = tuple(int(d) for d in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _truncated_normal(
    rng: np.random.Generator, shape: Shape, mean: float, stddev: float
) -> np.ndarray:
    """Normal(mean, stddev) samples, redrawing any that fall outside mean ± 2·stddev."""
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2.0
    while np.any(outside):
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2.0
    return mean + stddev * values


class Initializer:
    """Base class: `__call__(shape, dtype=None, rng=None)` returns a new array."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed

    def __call__(self, shape: Shape, dtype: Any = None, rng: np.random.Generator | None = None):
        dtype = backend.standardize_dtype(dtype)
        if self.seed is not None:
            rng = np.random.default_rng(self.seed)
        elif rng is None:
            rng = backend.make_rng()
        return np.asarray(self.sample(tuple(shape), rng), dtype=dtype)

    def sample(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        """The values, in float64; `__call__` casts them."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


@INITIALIZERS.register("zeros", "zero")
class Zeros(Initializer):
    """All zeros (the default for biases)."""

    def __init__(self) -> None:
        super().__init__(None)

    def sample(self, shape, rng):
        return np.zeros(shape)

    def get_config(self):
        return {}


@INITIALIZERS.register("ones", "one")
class Ones(Initializer):
    """All ones."""

    def __init__(self) -> None:
        super().__init__(None)

    def sample(self, shape, rng):
        return np.ones(shape)

    def get_config(self):
        return {}


@INITIALIZERS.register("constant")
class Constant(Initializer):
    """Every entry equal to `value`."""

    def __init__(self, value: float = 0.0) -> None:
        super().__init__(None)
        self.value = float(value)

    def sample(self, shape, rng):
        return np.full(shape, self.value)

    def get_config(self):
        return {"value": self.value}


@INITIALIZERS.register("random_normal", "normal")
class RandomNormal(Initializer):
    """Normal(mean, stddev); Keras's default stddev is 0.05."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        super().__init__(seed)
        self.mean = float(mean)
        self.stddev = check_number(stddev, "stddev", self, low=0.0)

    def sample(self, shape, rng):
        return rng.normal(self.mean, self.stddev, shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


@INITIALIZERS.register("random_uniform", "uniform")
class RandomUniform(Initializer):
    """Uniform on [minval, maxval); Keras's default is ±0.05."""

    def __init__(
        self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None
    ) -> None:
        super().__init__(seed)
        self.minval = float(minval)
        self.maxval = float(maxval)
        if self.maxval < self.minval:
            raise ValueError(
                f"RandomUniform: `maxval` must be >= `minval`, received minval={minval}, maxval={maxval}."
            )

    def sample(self, shape, rng):
        return rng.uniform(self.minval, self.maxval, shape)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


@INITIALIZERS.register("truncated_normal")
class TruncatedNormal(Initializer):
    """Normal(mean, stddev) redrawn outside mean ± 2·stddev; Keras's default stddev is 0.05."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        super().__init__(seed)
        self.mean = float(mean)
        self.stddev = check_number(stddev, "stddev", self, low=0.0)

    def sample(self, shape, rng):
        return _truncated_normal(rng, shape, self.mean, self.stddev)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


@INITIALIZERS.register("variance_scaling")
class VarianceScaling(Initializer):
    """Samples scaled to the layer's fans: variance `scale / n`, n from `mode`.

    - `distribution='truncated_normal'`: stddev `sqrt(scale/n) / 0.8796...`, truncated at ±2 stddev,
      so the samples' standard deviation is `sqrt(scale/n)`.
    - `'untruncated_normal'`: stddev `sqrt(scale/n)`.
    - `'uniform'`: U(±sqrt(3·scale/n)).
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
    ) -> None:
        super().__init__(seed)
        self.scale = check_number(scale, "scale", self, low=0.0, low_inclusive=False)
        self.mode = check_one_of(mode, "mode", ("fan_in", "fan_out", "fan_avg"), self)
        self.distribution = check_one_of(
            distribution,
            "distribution",
            ("truncated_normal", "untruncated_normal", "uniform"),
            self,
        )

    def sample(self, shape, rng):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            return _truncated_normal(rng, shape, 0.0, math.sqrt(variance) / _TRUNCATION_STDDEV)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, math.sqrt(variance), shape)
        limit = math.sqrt(3.0 * variance)
        return rng.uniform(-limit, limit, shape)

    def get_config(self):
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
        }


def _variance_scaling_preset(name: str, scale: float, mode: str, distribution: str, doc: str):
    class Preset(VarianceScaling):
        def __init__(self, seed: int | None = None) -> None:
            super().__init__(scale, mode, distribution, seed)

        def get_config(self):
            return {"seed": self.seed}

    Preset.__name__ = Preset.__qualname__ = name
    Preset.__doc__ = doc
    return Preset


GlorotUniform = INITIALIZERS.register("glorot_uniform")(
    _variance_scaling_preset(
        "GlorotUniform", 1.0, "fan_avg", "uniform",
        "U(±sqrt(6 / (fan_in + fan_out))): Dense's default kernel initializer.",
    )
)  # fmt: skip
GlorotNormal = INITIALIZERS.register("glorot_normal")(
    _variance_scaling_preset(
        "GlorotNormal", 1.0, "fan_avg", "truncated_normal",
        "Truncated normal with standard deviation sqrt(2 / (fan_in + fan_out)).",
    )
)  # fmt: skip
HeNormal = INITIALIZERS.register("he_normal")(
    _variance_scaling_preset(
        "HeNormal", 2.0, "fan_in", "truncated_normal",
        "Truncated normal with standard deviation sqrt(2 / fan_in) (stddev parameter / 0.8796).",
    )
)  # fmt: skip
HeUniform = INITIALIZERS.register("he_uniform")(
    _variance_scaling_preset("HeUniform", 2.0, "fan_in", "uniform", "U(±sqrt(6 / fan_in)).")
)
LecunNormal = INITIALIZERS.register("lecun_normal")(
    _variance_scaling_preset(
        "LecunNormal", 1.0, "fan_in", "truncated_normal",
        "Truncated normal with standard deviation sqrt(1 / fan_in).",
    )
)  # fmt: skip
LecunUniform = INITIALIZERS.register("lecun_uniform")(
    _variance_scaling_preset("LecunUniform", 1.0, "fan_in", "uniform", "U(±sqrt(3 / fan_in)).")
)


@INITIALIZERS.register("orthogonal", "Orthogonal", "OrthogonalInitializer")
class Orthogonal(Initializer):
    """A random orthogonal matrix (from the QR decomposition of a normal matrix), times `gain`."""

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        super().__init__(seed)
        self.gain = float(gain)

    def sample(self, shape, rng):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of rank >= 2, received shape={shape}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))  # makes the decomposition unique, so q is uniformly distributed
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


@INITIALIZERS.register("identity", "IdentityInitializer")
class Identity(Initializer):
    """`gain` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain: float = 1.0) -> None:
        super().__init__(None)
        self.gain = float(gain)

    def sample(self, shape, rng):
        if len(shape) != 2:
            raise ValueError(f"Identity needs a 2-D shape, received shape={shape}.")
        return self.gain * np.eye(*shape)

    def get_config(self):
        return {"gain": self.gain}


class _FunctionInitializer(Initializer):
    """Wraps a user's function `f(shape, dtype) -> array`."""

    def __init__(self, function: Callable[..., Any]) -> None:
        super().__init__(None)
        self.function = function

    def __call__(self, shape, dtype=None, rng=None):
        dtype = backend.standardize_dtype(dtype)
        return np.asarray(self.function(tuple(shape), dtype), dtype=dtype)

    def __repr__(self) -> str:
        return f"<initializer from {self.function!r}>"

    def get_config(self):
        raise ValueError(
            f"The initializer function {self.function!r} cannot be saved; subclass "
            "neuralnet.initializers.Initializer and register it to save models that use it."
        )


def get(identifier: Any) -> Initializer:
    """An `Initializer` from a name, a config dict, an instance or a function `f(shape, dtype)`."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        return INITIALIZERS.lookup(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return _FunctionInitializer(identifier)
    raise TypeError(
        f"Cannot interpret {identifier!r} as an initializer: expected a name such as "
        "'glorot_uniform', a config dict or an Initializer."
    )


def serialize(initializer: Initializer) -> dict[str, Any]:
    """`{'class_name': name, 'config': {...}}`; an unregistered class of yours is written by its
    own name and module (loading it then needs `custom_objects`, as in Keras)."""
    name = INITIALIZERS.name_of(initializer)
    if name is None:
        cls = type(initializer)  # (a wrapped function says in get_config why it cannot be saved)
        return {"class_name": cls.__name__, "config": initializer.get_config(),
                "module": cls.__module__}  # fmt: skip
    return {"class_name": name, "config": initializer.get_config()}


def deserialize(config: dict[str, Any]) -> Initializer:
    """The inverse of `serialize`."""
    if "class_name" not in config:
        raise ValueError(f"An initializer config needs a 'class_name' key, received {config!r}.")
    return INITIALIZERS.lookup(config["class_name"]).from_config(config.get("config", {}))
