"""The whole state of a running `fit` and its file: what `BackupAndRestore` writes and reads back.

The state is everything that decides the rest of the run, so that a `fit` resumed from it ends with
the weights, optimizer state and History of a run that was never interrupted, bit for bit:

- `fit`: the batches per epoch, samples and batch size of the `fit` it belongs to (checked on
  resuming, so that a backup is never applied to another `fit`);
- `loop`: `FitState.get_state()`: the epoch and step, `stop_training`, the shuffled order of the
  batches, the running loss and metrics of the epoch in progress, the last epoch's logs;
- `weights`: every weight of the model by path, trainable or not (`model.weight_entries()`);
- `optimizer`: its `variables` (slots and `iterations`) and its learning rate when constant
  (`ReduceLROnPlateau` changes it);
- `random`: the global seed source, each layer's generator (`None` for one not made yet), and
  NumPy's and Python's global generators;
- `callbacks`: the `get_state()` of every callback that has one, by class, in order;
- `extra`: what the writer adds (`BackupAndRestore`'s batch counters).

One backup is one `.safetensors` file, written atomically. Its tensors are the state's arrays,
named by where they sit in it (`weights/dense/kernel`, `callbacks/1/state/best_weights/0`); its
string metadata holds `format`, `version`, `state` (the JSON of the rest, where an array is
`{"__array__": name}`, and a NumPy scalar adds `"scalar": true`) and `sha256`, a checksum of the
JSON and of every tensor, so that a damaged file is refused rather than resumed from. Nothing is
pickled.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

import numpy as np

from neuralnet import backend

FORMAT = "neuralnet.training_state"
VERSION = 1

_ARRAY = "__array__"
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


# -- what the state is -----------------------------------------------------------------------------


def capture(
    model: Any, fit_state: Any, extra: dict[str, Any], exclude: Any = None
) -> dict[str, Any]:
    """The state of `model`'s running `fit` (see the module's docstring). Some of its arrays are
    the live ones (the weights, the metrics' counts): `write` it before training goes on.

    Args:
        model: The model being trained.
        fit_state: `model.trainer.fit_state`.
        extra: JSON values and arrays the caller keeps with the state.
        exclude: A callback whose state is not taken (the caller itself).
    """
    import random

    from neuralnet.layers.layer import walk_layers

    optimizer = model.optimizer
    entries = model.weight_entries()
    weights = {entry.path: entry.array for entry in entries}
    if len(weights) != len(entries):
        raise ValueError(
            f"Model {model.name!r} has two weights with the same path; it cannot be backed up."
        )
    return {
        "fit": _fit_signature(fit_state),
        "loop": fit_state.get_state(),
        "weights": weights,
        "optimizer": {
            "variables": optimizer.variables,
            "learning_rate": None if optimizer.schedule is not None else optimizer.learning_rate,
        },
        "random": {
            "seed_source": backend.seed_source_state(),
            # `existing_rng`, not `rng`: reading `rng` would make a generator (and draw a seed
            # from the global source) for a layer that has not needed one yet.
            "layers": [
                {
                    "name": layer.name,
                    "state": (
                        None if layer.existing_rng is None else _generator_state(layer.existing_rng)
                    ),
                }
                for layer in walk_layers(model)
            ],
            "numpy": np.random.get_state(legacy=False),
            "python": _python_random_state(random.getstate()),
        },
        "callbacks": [
            {"class": type(callback).__name__, "state": callback_state}
            for callback, callback_state in _callback_states(fit_state, exclude)
        ],
        "extra": extra,
    }


def restore(
    model: Any, fit_state: Any, state: dict[str, Any], where: str, exclude: Any = None
) -> None:
    """Put `model`, its optimizer, the random generators, the loop and the callbacks back in
    `state` (from `capture` in an earlier run of the same script). The `fit`, the weights, the
    optimizer's variables, the layers, the metrics and the callbacks are checked against the state
    before anything is changed.

    Raises:
        ValueError: When the state does not belong to this model or this `fit`; the message says
            what differs and starts with `where` (the file).
    """
    import random

    from neuralnet.layers.layer import walk_layers

    _check_fit(state["fit"], _fit_signature(fit_state), where)
    entries = model.weight_entries()
    weights = state["weights"]
    _check_weights(entries, weights, where)
    optimizer = model.optimizer
    _check_optimizer(optimizer, state["optimizer"], where)
    layers = walk_layers(model)
    saved_layers = state["random"]["layers"]
    names, saved_names = [layer.name for layer in layers], [entry["name"] for entry in saved_layers]
    if names != saved_names:
        raise ValueError(
            f"{where}: the backup is of a model with the layers {saved_names}, this one has "
            f"{names}."
        )
    metrics = [metric.name for metric in model.trainer.metrics]
    saved_metrics = [entry["name"] for entry in state["loop"]["metrics"]]
    if metrics != saved_metrics:
        raise ValueError(
            f"{where}: the backup is of a model compiled with the metrics {saved_metrics}, this "
            f"one has {metrics}."
        )
    callbacks = [callback for callback, _ in _callback_states(fit_state, exclude)]
    classes = [type(callback).__name__ for callback in callbacks]
    saved_classes = [entry["class"] for entry in state["callbacks"]]
    if classes != saved_classes:
        raise ValueError(
            f"{where}: the backup holds the state of the callbacks {saved_classes}, but this fit's "
            f"callbacks with a state are {classes}. Resume with the same callbacks, in the same "
            "order."
        )

    fit_state.set_state(state["loop"])
    optimizer.load_variables(state["optimizer"]["variables"])
    learning_rate = state["optimizer"]["learning_rate"]
    if learning_rate is not None:
        optimizer.learning_rate = learning_rate
    for entry in entries:
        np.copyto(entry.array, weights[entry.path])
    backend.set_seed_source_state(state["random"]["seed_source"])
    for layer, entry in zip(layers, saved_layers):
        layer.rng = None if entry["state"] is None else _generator(entry["state"])
    np.random.set_state(state["random"]["numpy"])
    random.setstate(_python_random_state_back(state["random"]["python"]))
    for callback, entry in zip(callbacks, state["callbacks"]):
        callback.set_state(entry["state"])


def _check_optimizer(optimizer: Any, saved: dict[str, Any], where: str) -> None:
    if (saved["learning_rate"] is None) != (optimizer.schedule is not None):
        kind = "follows a schedule" if saved["learning_rate"] is None else "has a constant rate"
        raise ValueError(
            f"{where}: the backup's optimizer {kind}, this one does not: was the model compiled "
            "differently?"
        )
    current = optimizer.variables
    variables = saved["variables"]
    if sorted(current) != sorted(variables):
        missing = sorted(set(current) - set(variables))
        unexpected = sorted(set(variables) - set(current))
        raise ValueError(
            f"{where}: the backup's optimizer state does not match {type(optimizer).__name__}: "
            f"missing {missing}, unexpected {unexpected}."
        )
    for key, value in current.items():
        if np.shape(variables[key]) != np.shape(value):
            raise ValueError(
                f"{where}: optimizer variable {key!r} has shape {list(np.shape(variables[key]))} "
                f"in the backup, {list(np.shape(value))} in the optimizer."
            )


def _fit_signature(fit_state: Any) -> dict[str, Any]:
    params = fit_state.callbacks.params
    return {key: params.get(key) for key in ("steps", "samples", "batch_size")}


def _check_fit(saved: dict[str, Any], current: dict[str, Any], where: str) -> None:
    if saved != current:
        describe = ", ".join
        raise ValueError(
            f"{where}: the backup was written by a fit with "
            f"{describe(f'{k}={v}' for k, v in saved.items())}; this fit has "
            f"{describe(f'{k}={v}' for k, v in current.items())} (steps per epoch, training "
            "samples, batch size). Resume with the same data and arguments, or delete the backup "
            "to start again."
        )


def _check_weights(entries: list[Any], weights: dict[str, np.ndarray], where: str) -> None:
    paths = [entry.path for entry in entries]
    if sorted(paths) != sorted(weights):
        missing = sorted(set(paths) - set(weights))
        unexpected = sorted(set(weights) - set(paths))
        raise ValueError(
            f"{where}: the backup's weights do not match the model: missing {missing}, "
            f"unexpected {unexpected}."
        )
    for entry in entries:
        saved = weights[entry.path]
        if saved.shape != entry.array.shape or saved.dtype != entry.array.dtype:
            raise ValueError(
                f"{where}: weight {entry.path!r} is {saved.dtype}{list(saved.shape)} in the "
                f"backup, {entry.array.dtype}{list(entry.array.shape)} in the model."
            )


def _callback_states(fit_state: Any, exclude: Any) -> list[tuple[Any, Any]]:
    found = []
    for callback in fit_state.callbacks.callbacks:
        if callback is exclude:
            continue
        callback_state = callback.get_state()
        if callback_state is not None:
            found.append((callback, callback_state))
    return found


def _generator_state(generator: np.random.Generator) -> dict[str, Any]:
    return generator.bit_generator.state


def _generator(state: dict[str, Any]) -> np.random.Generator:
    name = state.get("bit_generator")
    if name not in _BIT_GENERATORS:
        raise ValueError(f"Unknown random bit generator {name!r} in a training backup.")
    bit_generator = getattr(np.random, name)()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def _python_random_state(state: tuple) -> dict[str, Any]:
    version, internal, gauss_next = state
    return {
        "version": version,
        "internal": np.asarray(internal, dtype=np.uint32),
        "gauss_next": gauss_next,
    }


def _python_random_state_back(state: dict[str, Any]) -> tuple:
    internal = tuple(int(value) for value in state["internal"])
    return (int(state["version"]), internal, state["gauss_next"])


# -- the file --------------------------------------------------------------------------------------


def write(path: str, state: dict[str, Any]) -> None:
    """Write `state` to `path` as one `.safetensors` file, atomically."""
    from safetensors.numpy import save

    from neuralnet.saving.atomic import atomic_open

    arrays: dict[str, np.ndarray] = {}
    text = json.dumps(_pack(state, "", arrays), allow_nan=True)
    metadata = {
        "format": FORMAT,
        "version": str(VERSION),
        "state": text,
        "sha256": _checksum(text, arrays),
    }
    data = save(arrays, metadata=metadata)
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def read(path: str) -> dict[str, Any]:
    """The state in the backup `path`.

    Raises:
        ModelFileError: (a ValueError) When the file is not a complete, intact backup (truncated,
            corrupted, or another kind of file); the message names the file and what is wrong.
    """
    from safetensors import SafetensorError, safe_open

    from neuralnet.saving.errors import ModelFileError

    def damaged(reason: str) -> ModelFileError:
        return ModelFileError(
            f"BackupAndRestore: the backup {path} cannot be resumed from: {reason}. Training was "
            "not restarted from the beginning; delete the file to do that."
        )

    try:
        with safe_open(path, framework="numpy") as file:
            metadata = file.metadata() or {}
            arrays = {name: np.array(file.get_tensor(name)) for name in file.keys()}  # noqa: SIM118
    except SafetensorError as error:
        raise damaged(
            f"it is not a complete safetensors file (truncated or corrupted?): {error}"
        ) from error
    if metadata.get("format") != FORMAT:
        raise damaged(f"it is not a neuralnet training backup (format {metadata.get('format')!r})")
    if metadata.get("version") != str(VERSION):
        raise damaged(
            f"it was written in version {metadata.get('version')!r} of the format; this neuralnet "
            f"reads version {VERSION}"
        )
    text = metadata.get("state", "")
    if metadata.get("sha256") != _checksum(text, arrays):
        raise damaged("its checksum does not match its contents (the file is corrupted)")
    try:
        return _unpack(json.loads(text), arrays)
    except (ValueError, KeyError, TypeError) as error:
        raise damaged(f"its state is malformed ({error})") from error


def _checksum(text: str, arrays: dict[str, np.ndarray]) -> str:
    import hashlib  # here, not at the top: `import neuralnet` need not load it

    digest = hashlib.sha256(text.encode("utf-8"))
    for name in sorted(arrays):
        array = np.asarray(arrays[name], order="C")
        digest.update(f"\n{name}\n{array.dtype.str}\n{array.shape}\n".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _pack(value: Any, name: str, arrays: dict[str, np.ndarray]) -> Any:
    """`value` as JSON, each array moved to `arrays` under a name from its place in `value`."""
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"A training backup holds numeric and boolean arrays only; {name.strip('/')!r} has "
                f"dtype {array.dtype}."
            )
        key, count = name.strip("/") or "value", 1
        while key in arrays:
            count += 1
            key = f"{name.strip('/')}#{count}"
        arrays[key] = np.asarray(array, order="C")  # keeps 0-d arrays 0-d
        return {_ARRAY: key, "scalar": True} if isinstance(value, np.generic) else {_ARRAY: key}
    if isinstance(value, dict):
        packed = {}
        for key, item in value.items():
            if not isinstance(key, str) or key == _ARRAY:
                raise TypeError(
                    f"A training backup needs string keys; {name.strip('/')!r} has the key {key!r}."
                )
            packed[key] = _pack(item, f"{name}/{key}", arrays)
        return packed
    if isinstance(value, (list, tuple)):
        return [_pack(item, f"{name}/{index}", arrays) for index, item in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"A training backup holds JSON values and NumPy arrays; {name.strip('/')!r} is a "
        f"{type(value).__name__}."
    )


def _unpack(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, dict):
        if _ARRAY in value:
            array = arrays[value[_ARRAY]]
            return array[()] if value.get("scalar") else array
        return {key: _unpack(item, arrays) for key, item in value.items()}
    if isinstance(value, list):
        return [_unpack(item, arrays) for item in value]
    return value


def remove(path: str) -> None:
    """Remove the backup `path` and what writes killed half-way left beside it."""
    for file in [path, *_leftovers(path)]:
        with contextlib.suppress(FileNotFoundError):
            os.remove(file)


def remove_leftovers(path: str) -> None:
    """Remove the temporary files that writes of `path` killed half-way left beside it."""
    for file in _leftovers(path):
        with contextlib.suppress(FileNotFoundError):
            os.remove(file)


def _leftovers(path: str) -> list[str]:
    from neuralnet.saving.atomic import leftover_temporaries

    return leftover_temporaries(path)
