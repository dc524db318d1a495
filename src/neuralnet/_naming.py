"""Automatic names for layers and models: `dense`, `dense_1`, ... as Keras 3 gives them."""

from __future__ import annotations

import collections
import re

_COUNTS: collections.Counter[str] = collections.Counter()


def to_snake_case(name: str) -> str:
    """`BatchNormalization` -> `batch_normalization`, `ReLU` -> `re_lu` (Keras's rule)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    """`prefix` the first time, then `prefix_1`, `prefix_2`, ... until `reset_names`."""
    count = _COUNTS[prefix]
    _COUNTS[prefix] += 1
    return prefix if count == 0 else f"{prefix}_{count}"


def reset_names() -> None:
    """Start the automatic names again from `dense`, `dense_1`, ..."""
    _COUNTS.clear()
