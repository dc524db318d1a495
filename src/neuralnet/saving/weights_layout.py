"""Where each array lives in a Keras 3 weights file, and the checks before any of it is read.

Keras 3 stores a model's arrays by the model's structure, not by layer names (names differ from one
run to the next): `layers/dense/vars/0`, `layers/dense_1/vars/0`, where `dense_1` is the second layer
of class `Dense` in that list; a model inside a model nests (`layers/sequential/layers/dense/vars/0`),
and the optimizer's arrays are `optimizer/vars/<i>`: `iterations`, the learning rate (when it is a
number, not a schedule), then the slots of each trained array in Keras's order. The same paths name
the arrays of a `.safetensors` weights file.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neuralnet._naming import to_snake_case
from neuralnet.saving.errors import ModelFileError

# The most scalars one array may hold, and the most dimensions: anything larger is not a weight.
MAX_ARRAY_SIZE = 2**34
MAX_RANK = 32


class Group:
    """One `.../vars` group: the arrays of one layer (or of the optimizer), in Keras's order."""

    __slots__ = ("arrays", "kinds", "name", "path")

    def __init__(self, path: str, name: str, arrays: list[np.ndarray], kinds: list[str]):
        self.path = path
        self.name = name
        self.arrays = arrays
        self.kinds = kinds  # "float" for weights and slots, "int" for iterations


# -- the model's layout ------------------------------------------------------------------------------


def model_groups(model: Any) -> list[Group]:
    """Every layer's group, Keras's walk: the model's own, then its layers (depth first)."""
    groups: list[Group] = []
    _walk(model, "", set(), groups)
    return groups


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _walk(obj: Any, path: str, visited: set[int], groups: list[Group]) -> None:
    if id(obj) in visited:
        return
    visited.add(id(obj))
    arrays = list(obj.params.values()) + list(obj.state.values())
    # Weights are floats, but for counters (Normalization's count, an int32 as in Keras)
    kinds = ["int" if np.asarray(a).dtype.kind in "iu" else "float" for a in arrays]
    groups.append(Group(_join(path, "vars"), obj.name, arrays, kinds))
    for child_path, child in _children(obj, path):
        _walk(child, child_path, visited, groups)


def _children(obj: Any, path: str) -> list[tuple[str, Any]]:
    from neuralnet.layers.layer import Layer
    from neuralnet.models.functional import Functional
    from neuralnet.models.model import Model
    from neuralnet.models.sequential import Sequential

    if isinstance(obj, (Sequential, Functional)):
        return _container(obj.layers, _join(path, "layers"))
    # A subclassed model or a layer made of layers: its attributes, sorted as Keras sorts them
    # (public names first), a list or dict of layers numbered by class as above.
    attributes: dict[str, Any] = {}
    for name, value in vars(obj).items():
        items = value.values() if isinstance(value, dict) else value
        if isinstance(value, Layer) or (
            isinstance(value, (list, tuple, dict)) and any(isinstance(v, Layer) for v in items)
        ):
            attributes[name] = value
    if isinstance(obj, Model):
        attributes.setdefault("layers", obj.inner_layers())
    found: list[tuple[str, Any]] = []
    for name in sorted(attributes, key=lambda n: f"~{n}" if n.startswith("_") else n):
        value = attributes[name]
        if isinstance(value, Layer):
            found.append((_join(path, name), value))
        else:
            found += _container(value, _join(path, name))
    return found


def _container(items: Any, path: str) -> list[tuple[str, Any]]:
    from neuralnet.layers.layer import Layer

    used: dict[str, int] = {}
    found: list[tuple[str, Any]] = []
    values = list(items.values()) if isinstance(items, dict) else list(items)
    for item in values:
        if isinstance(item, Layer):
            found.append((_join(path, _unique(to_snake_case(type(item).__name__), used)), item))
        elif isinstance(item, (list, tuple, dict)):
            found += _container(item, _join(path, _unique("container", used)))
    return found


def _unique(name: str, used: dict[str, int]) -> str:
    """Keras's `_get_unique_name`: `dense`, then `dense_1`, `dense_2`, ..."""
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


# -- the optimizer's layout ---------------------------------------------------------------------------


def _slot_blocks(optimizer: Any) -> list[tuple[str, ...]]:
    """Keras creates slots in blocks; within a block they interleave per variable
    (`add_optimizer_variables(vars, ["momentum", "velocity"])`: m0, v0, m1, v1, ...)."""
    name = type(optimizer).__name__
    slots = tuple(optimizer.slot_names)
    if name in ("Adam", "AdamW") and "velocity_hat" in slots:
        return [("momentum", "velocity"), ("velocity_hat",)]
    if name == "RMSprop":
        return [(slot,) for slot in slots]
    return [slots] if slots else []


def optimizer_group(optimizer: Any) -> Group:
    """The optimizer's arrays in Keras's order (the optimizer must be built)."""
    arrays: list[np.ndarray] = [np.asarray(optimizer.iterations, dtype=np.int64)]
    kinds = ["int"]
    if optimizer.schedule is None:
        arrays.append(np.asarray(optimizer.learning_rate, dtype=np.float32))
        kinds.append("float")
    for block in _slot_blocks(optimizer):
        for slots in optimizer._slots:
            for slot in block:
                arrays.append(slots[slot])
                kinds.append("float")
    for value in optimizer.extra_state().values():
        arrays.append(np.asarray(value))
        kinds.append("float")
    return Group("optimizer/vars", optimizer.name, arrays, kinds)


def assign_optimizer(optimizer: Any, arrays: list[np.ndarray], where: str) -> None:
    """Put read arrays into the (built) optimizer. A file whose optimizer was never built (Keras
    saves just `iterations` and the learning rate then) keeps the slots at zero."""
    expected = optimizer_group(optimizer)
    head = 2 if optimizer.schedule is None else 1
    if len(arrays) not in (len(expected.arrays), head):
        raise ModelFileError(
            f"the optimizer has {len(arrays)} arrays; {type(optimizer).__name__} for this model "
            f"has {len(expected.arrays)} (or {head} when it has not taken a step yet).",
            where,
        )
    iterations = int(arrays[0])
    if iterations < 0:
        raise ModelFileError(f"optimizer/vars/0 (iterations) is negative: {iterations}.", where)
    if len(arrays) == len(expected.arrays):
        for target, value in zip(expected.arrays[head:], arrays[head:]):
            if target.ndim:
                np.copyto(target, value, casting="unsafe")
        extra = list(optimizer.extra_state())
        if extra:
            values = arrays[len(arrays) - len(extra) :]
            optimizer.set_extra_state(dict(zip(extra, values)))
    optimizer.iterations = iterations
    if head == 2:
        optimizer.learning_rate = float(arrays[1])


def check_optimizer_values(optimizer: Any, arrays: list[np.ndarray], where: str) -> None:
    """The counters and rates an optimizer will take from a file, checked before anything is
    copied: a whole, non-negative `iterations` and a finite, non-negative learning rate."""
    if arrays and (arrays[0].size != 1 or int(arrays[0]) < 0):
        raise ModelFileError("optimizer/vars/0 (iterations) must be one count >= 0.", where)
    if optimizer.schedule is None and len(arrays) >= 2:
        rate = np.asarray(arrays[1], dtype=np.float64)
        if rate.size != 1 or not np.isfinite(rate).all() or float(rate) < 0:
            raise ModelFileError(
                f"optimizer/vars/1 (the learning rate) is {rate.tolist()}; it must be a finite "
                "number >= 0.",
                where,
            )


# -- checking what a file holds -------------------------------------------------------------------------


def check_array_header(path: str, shape: Any, dtype: Any, where: str) -> int:
    """The number of bytes of one stored array, after checking its name, shape and dtype."""
    if not isinstance(shape, tuple) or len(shape) > MAX_RANK:
        raise ModelFileError(f"array {path!r} has an invalid shape {shape!r}.", where)
    for size in shape:
        if not isinstance(size, (int, np.integer)) or size < 0:
            raise ModelFileError(f"array {path!r} has an invalid size {size!r}.", where)
    count = math.prod(int(s) for s in shape)
    if count > MAX_ARRAY_SIZE:
        raise ModelFileError(f"array {path!r} claims {count} values, more than any weight.", where)
    dtype = np.dtype(dtype)
    if dtype.kind not in "fiu" or dtype.itemsize > 8 or dtype.fields is not None:
        raise ModelFileError(
            f"array {path!r} has dtype {dtype}; weights are floats and counters integers.", where
        )
    return count * dtype.itemsize


def match_groups(
    expected: list[Group], found: dict[str, list[tuple[tuple, np.dtype]]], where: str
) -> None:
    """Check that the file holds exactly the arrays the model has, with their shapes and kinds.

    `found` maps each `.../vars` path of the file to the (shape, dtype) of `0`, `1`, ...
    """
    by_path = {group.path: group for group in expected}
    for path, headers in found.items():
        group = by_path.get(path)
        if group is None:
            if headers:
                raise ModelFileError(
                    f"the file has arrays at {path!r}, which this model does not have (the file "
                    "was saved from a different model).",
                    where,
                )
            continue
        if len(headers) != len(group.arrays):
            raise ModelFileError(
                f"{path!r} ({group.name}) holds {len(headers)} arrays; the model has "
                f"{len(group.arrays)} there.",
                where,
            )
        for index, ((shape, dtype), target, kind) in enumerate(
            zip(headers, group.arrays, group.kinds)
        ):
            label = f"{path}/{index}"
            if tuple(shape) != tuple(np.shape(target)):
                raise ModelFileError(
                    f"array {label!r} ({group.name}) has shape {tuple(shape)}; the model expects "
                    f"{tuple(np.shape(target))}.",
                    where,
                )
            if kind == "float" and np.dtype(dtype).kind != "f":
                raise ModelFileError(f"array {label!r} has dtype {dtype}; expected floats.", where)
            if kind == "int" and np.dtype(dtype).kind not in "iu":
                raise ModelFileError(f"array {label!r} has dtype {dtype}; expected an integer.",
                                     where)  # fmt: skip
    for group in expected:
        if group.arrays and group.path not in found:
            raise ModelFileError(
                f"the file has no arrays for {group.path!r} ({group.name}); the model has "
                f"{len(group.arrays)} there.",
                where,
            )


def check_values(path: str, value: np.ndarray, where: str) -> None:
    """A counter must be a whole non-negative number."""
    if value.dtype.kind in "iu" and value.size == 1 and int(value) < 0:
        raise ModelFileError(f"array {path!r} holds the negative count {int(value)}.", where)
