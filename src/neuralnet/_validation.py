"""Argument checks with messages that say who, what was expected and what was received."""

from __future__ import annotations

import math
import numbers
from typing import Any


def owner_name(where: Any) -> str:
    """`"Dense 'dense_1'"` for a layer, the class name for other objects, a string as it is."""
    if where is None:
        return ""
    if isinstance(where, str):
        return where
    name = getattr(where, "name", None)
    kind = type(where).__name__
    return f"{kind} {name!r}" if isinstance(name, str) else kind


def _prefix(where: Any) -> str:
    owner = owner_name(where)
    return f"{owner}: " if owner else ""


def check_positive_int(value: Any, arg: str, where: Any = None) -> int:
    """`value` as an int, or a ValueError if it is not an integer > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(
            f"{_prefix(where)}`{arg}` must be a positive integer, received {arg}={value!r}."
        )
    return int(value)


def check_non_negative_int(value: Any, arg: str, where: Any = None) -> int:
    """`value` as an int, or a ValueError if it is not an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(
            f"{_prefix(where)}`{arg}` must be a non-negative integer, received {arg}={value!r}."
        )
    return int(value)


def check_number(
    value: Any,
    arg: str,
    where: Any = None,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """`value` as a float, or a ValueError if it is not a real number inside the given bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ValueError(
            f"{_prefix(where)}`{arg}` must be a real number, received {arg}={value!r}."
        )
    too_low = low is not None and (value < low if low_inclusive else value <= low)
    too_high = high is not None and (value > high if high_inclusive else value >= high)
    if too_low or too_high:
        left = "[" if low_inclusive else "("
        right = "]" if high_inclusive else ")"
        bounds = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
        raise ValueError(f"{_prefix(where)}`{arg}` must be in {bounds}, received {arg}={value!r}.")
    return float(value)


def check_one_of(value: Any, arg: str, options: tuple[Any, ...], where: Any = None) -> Any:
    """`value`, or a ValueError listing `options` if it is not one of them."""
    if value not in options:
        listed = ", ".join(repr(o) for o in options)
        raise ValueError(
            f"{_prefix(where)}`{arg}` must be one of {listed}, received {arg}={value!r}."
        )
    return value


def normalize_shape(shape: Any, arg: str = "shape", where: Any = None) -> tuple[int | None, ...]:
    """A shape as a tuple of positive ints or `None`s; an int becomes a 1-tuple."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(
            f"{_prefix(where)}`{arg}` must be a tuple of positive integers, received {arg}={shape!r}."
        ) from None
    for dim in dims:
        if dim is None:
            continue
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or dim <= 0:
            raise ValueError(
                f"{_prefix(where)}`{arg}` must be a tuple of positive integers or None, "
                f"received {arg}={shape!r}."
            )
    return tuple(None if d is None else int(d) for d in dims)
