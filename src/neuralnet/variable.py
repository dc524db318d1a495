"""`Variable`: a model weight as Keras shows it, with a name, a path and `numpy()`.

`model.weights` (and `layer.weights`) return the layers' own arrays as `Variable`s: NumPy views of
them, so code that reads `w.name`, `w.path`, `w.shape` or `w.numpy()` as in Keras runs unchanged, and
`w.assign(value)` (or writing into `w`) sets the weight. Arithmetic on a variable gives plain arrays.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np


class Variable(np.ndarray):
    """A weight of a layer: a view of its array with Keras's `name`, `path` and `trainable`.

    Attributes:
        path: Where the weight lives: `"sequential/dense/kernel"`.
        name: The weight's own name: `"kernel"`.
        trainable: Whether the optimizer updates it.
    """

    path: str | None
    name: str | None
    trainable: bool

    def __new__(cls, array: np.ndarray, path: str, trainable: bool) -> Self:
        variable = array.view(cls)
        variable._array = array
        variable.path = path
        variable.name = path.rsplit("/", 1)[-1]
        variable.trainable = bool(trainable)
        return variable

    def __array_finalize__(self, obj: Any) -> None:
        self._array = getattr(obj, "_array", None)
        self.path = getattr(obj, "path", None)
        self.name = getattr(obj, "name", None)
        self.trainable = getattr(obj, "trainable", True)

    def __array_wrap__(self, array: np.ndarray, context: Any = None, return_scalar: bool = False):
        plain = array.view(np.ndarray)
        return plain[()] if return_scalar else plain

    def __getitem__(self, key: Any) -> Any:
        return np.asarray(self)[key]

    def numpy(self) -> np.ndarray:
        """A copy of the values, as a plain array (Keras's `variable.numpy()`)."""
        return np.array(self, copy=True)

    @property
    def value(self) -> np.ndarray:
        """The values as a plain array (a view: it changes when the weight is trained)."""
        return np.asarray(self)

    def assign(self, value: Any) -> None:
        """Set the weight to `value` (same shape), in place."""
        value = np.asarray(value)
        if value.shape != self.shape:
            raise ValueError(
                f"Variable {self.path!r} has shape {self.shape}; assign() received shape "
                f"{value.shape}."
            )
        np.copyto(np.asarray(self), value, casting="unsafe")

    def __repr__(self) -> str:
        return (
            f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, "
            f"value={np.array2string(np.asarray(self), threshold=6, edgeitems=2)}>"
        )

    def __reduce__(self) -> Any:
        return (np.array, (np.asarray(self).copy(),))


def array_of(value: Any) -> Any:
    """The weight array behind a `Variable` (what the optimizer updates); anything else as it is."""
    if isinstance(value, Variable) and value._array is not None:
        return value._array
    return value
