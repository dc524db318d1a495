"""Numerical settings shared by the whole library: the float type, epsilon and the random source.

Keras keeps these in `keras.config`; `neuralnet.config` re-exports the public part. Everything that
creates arrays asks `floatx()` for the dtype, and everything random draws from a Generator made by
`make_rng`, so one call to `neuralnet.utils.set_random_seed` makes a whole run repeatable.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7
_VALID_FLOATX = ("float16", "float32", "float64")
_IMAGE_DATA_FORMAT = "channels_last"
_VALID_DATA_FORMATS = ("channels_last", "channels_first")

# The global source of seeds. Layers, initializers and `fit` each draw one seed from it when they
# are not given their own, so the order of creation fixes every random number of a run. It is made
# on first use: `numpy.random` takes about 20 ms to import, which `import neuralnet` need not pay.
_SEED_SOURCE: np.random.Generator | None = None


def floatx() -> str:
    """The default float type, as a string: `'float32'` unless changed by `set_floatx`."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float type (`'float16'`, `'float32'` or `'float64'`) for new weights and data."""
    global _FLOATX
    name = np.dtype(value).name if isinstance(value, (str, type, np.dtype)) else value
    if name not in _VALID_FLOATX:
        raise ValueError(f"Unknown floatx {value!r}. Expected one of {', '.join(_VALID_FLOATX)}.")
    _FLOATX = name


@contextlib.contextmanager
def floatx_scope(value: str) -> Iterator[None]:
    """Temporarily use another float type: `with floatx_scope('float64'): ...`."""
    previous = _FLOATX
    set_floatx(value)
    try:
        yield
    finally:
        set_floatx(previous)


def image_data_format() -> str:
    """The default layout of image tensors: `'channels_last'` (batch, height, width, channels), as
    Keras, unless changed by `set_image_data_format`."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    """Set the default `data_format` of new convolution, pooling and resizing layers."""
    global _IMAGE_DATA_FORMAT
    value = str(data_format).lower()
    if value not in _VALID_DATA_FORMATS:
        raise ValueError(
            f"Unknown data_format {data_format!r}. Expected one of "
            f"{', '.join(_VALID_DATA_FORMATS)}."
        )
    _IMAGE_DATA_FORMAT = value


def epsilon() -> float:
    """The fuzz factor used to clip probabilities and avoid division by zero (Keras: 1e-7)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Set the fuzz factor returned by `epsilon()`."""
    global _EPSILON
    _EPSILON = float(value)


def set_global_seed(seed: int) -> None:
    """Re-seed the source that every unseeded layer, initializer and `fit` draws from."""
    global _SEED_SOURCE
    _SEED_SOURCE = np.random.default_rng(seed)


def draw_seed() -> int:
    """A fresh seed from the global source (deterministic after `set_global_seed`)."""
    global _SEED_SOURCE
    if _SEED_SOURCE is None:
        _SEED_SOURCE = np.random.default_rng()
    return int(_SEED_SOURCE.integers(0, 2**63 - 1))


def seed_source_state() -> dict[str, Any] | None:
    """The state of the global seed source (`bit_generator.state`, JSON values), or `None` before
    its first use: what a training backup saves so that a resumed run draws the same seeds."""
    return None if _SEED_SOURCE is None else _SEED_SOURCE.bit_generator.state


def set_seed_source_state(state: dict[str, Any] | None) -> None:
    """Put the global seed source back in the state `seed_source_state` returned."""
    global _SEED_SOURCE
    if state is None:
        _SEED_SOURCE = None
        return
    source = np.random.default_rng()
    source.bit_generator.state = state
    _SEED_SOURCE = source


def make_rng(seed: int | np.random.Generator | None = None) -> np.random.Generator:
    """A Generator from `seed`: an int, an existing Generator, or `None` for one from the global source."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        seed = draw_seed()
    return np.random.default_rng(seed)


def clear_session() -> None:
    """Start the automatic layer names again (`dense`, `dense_1`, ...), as Keras's
    `keras.backend.clear_session` (also `neuralnet.utils.clear_session`). The global seed is kept,
    so a seeded script stays repeatable."""
    from neuralnet._naming import reset_names

    reset_names()


def array_module(x: Any) -> Any:
    """The array module that owns `x`: NumPy here; a GPU array library can plug in later."""
    return np


def standardize_dtype(dtype: Any) -> np.dtype:
    """A NumPy dtype from a name, type or dtype; `None` means `floatx()`."""
    return np.dtype(floatx() if dtype is None else dtype)
