"""`save_model` / `load_model` (`.keras`), `save_weights` / `load_weights` (`.weights.h5`,
`.safetensors`), with Keras 3's names and arguments.

Every file is written whole or not at all (`atomic_path`). Loading checks the archive, the JSON and
every array's name, dtype and shape before it builds anything, builds only registered classes, and
raises `ModelFileError` for any file it cannot load; `load_weights` copies nothing into the model
until every array has been read and checked.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from neuralnet.saving import keras_archive, keras_config, weights_files
from neuralnet.saving.atomic import atomic_open, atomic_path
from neuralnet.saving.errors import ModelFileError
from neuralnet.saving.weights_layout import (
    Group,
    assign_optimizer,
    check_optimizer_values,
    match_groups,
    model_groups,
)
from neuralnet.saving.weights_layout import optimizer_group as _optimizer_group

_SAFETENSORS_FORMAT = {"format": "neuralnet-weights", "layout": "keras3"}


def _not_the_writer() -> bool:
    """True on the ranks other than 0 of a distributed run (neuralnet.distributed)."""
    from neuralnet import _parallel

    comm = _parallel.group()
    return comm is not None and not comm.is_chief


# -- whole models -------------------------------------------------------------------------------------


def save_model(model: Any, filepath: str | os.PathLike, overwrite: bool = True,
               zipped: bool | None = None, include_optimizer: bool = True) -> None:  # fmt: skip
    """Save `model` to a `.keras` file: its config, its weights and (when compiled) its optimizer's
    state, in Keras 3's format. The file appears whole or not at all. In distributed training
    only rank 0 writes (the ranks hold the same model)."""
    path = os.fspath(filepath)
    if _not_the_writer():
        return
    if zipped is False:
        raise ValueError("save_model: zipped=False (an unzipped folder) is not supported.")
    if not path.endswith(".keras"):
        raise ValueError(
            "Invalid filepath extension for saving. Please add a `.keras` extension for the "
            f"native Keras format. Received: filepath={path}"
        )
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save_model: {path} exists and overwrite=False.")
    config = keras_config.model_to_keras(model)
    groups = model_groups(model)
    if include_optimizer and getattr(model, "compiled", False):
        groups.append(_built_optimizer_group(model))
    weights = weights_files.h5_bytes(groups)
    with atomic_path(path) as temporary:
        keras_archive.write_archive(temporary, config, weights)


def load_model(filepath: str | os.PathLike, custom_objects: dict[str, Any] | None = None,
               compile: bool = True, safe_mode: bool = True) -> Any:  # fmt: skip
    """A model from a `.keras` file written by neuralnet or by Keras 3, compiled as it was saved
    (with its optimizer's state) unless `compile=False`.

    Only classes known to neuralnet, registered with `utils.register_keras_serializable`, or given
    in `custom_objects` are built; nothing in the file is executed or imported (`safe_mode` is
    accepted for Keras compatibility: loading is always safe).

    Raises:
        ModelFileError: the file is not a valid `.keras` file, or describes something neuralnet
            cannot build; the message says what and where.
    """
    path = os.fspath(filepath)
    if not path.endswith(".keras"):
        raise ValueError(
            f"File format not supported: filepath={path}. neuralnet loads Keras 3 `.keras` files "
            "(load weights files with model.load_weights)."
        )
    if not os.path.isfile(path):
        raise FileNotFoundError(f"File not found: filepath={path}.")
    with _file_errors(path):
        members = keras_archive.read_archive(path)
        keras_archive.check_metadata(
            keras_archive.parse_json(members[keras_archive.METADATA], f"{path} > metadata.json"),
            f"{path} > metadata.json",
        )
        config_where = f"{path} > config.json"
        config = keras_archive.parse_json(members[keras_archive.CONFIG], config_where)
        if not isinstance(config, dict):
            raise ModelFileError(f"config.json must hold a JSON object (the model), not a "
                                 f"{type(config).__name__}.", config_where)  # fmt: skip
        weights_where = f"{path} > model.weights.h5"
        stored = weights_files.open_h5(
            members[keras_archive.WEIGHTS], weights_where, len(members[keras_archive.WEIGHTS])
        )
        from neuralnet.layers.layer import weight_budget

        ctx = keras_config.Context(custom_objects, config_where)
        with weight_budget(stored.scalars()):
            model = keras_config.model_from_keras(config, ctx, compile=compile)
        groups = model_groups(model)
        has_optimizer = "optimizer/vars" in stored.headers
        if compile and getattr(model, "compiled", False) and has_optimizer:
            groups.append(_built_optimizer_group(model))
        headers = dict(stored.headers)
        if not (compile and getattr(model, "compiled", False)):
            headers.pop("optimizer/vars", None)
        _assign(groups, stored, headers, weights_where, model)
    return model


# -- weights only ---------------------------------------------------------------------------------------


def save_weights(model: Any, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Save the weights (and, when compiled, the optimizer's state) to `.weights.h5` (Keras 3's
    layout) or `.safetensors`, atomically; in distributed training, by rank 0 only."""
    path = os.fspath(filepath)
    if _not_the_writer():
        return
    if not path.endswith((".weights.h5", ".safetensors")):
        raise ValueError(
            f"The filename must end in `.weights.h5` (or `.safetensors`). Received: filepath={path}"
        )
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save_weights: {path} exists and overwrite=False.")
    groups = model_groups(model)
    if getattr(model, "compiled", False):
        groups.append(_built_optimizer_group(model))
    if path.endswith(".safetensors"):
        data = weights_files.safetensors_bytes(groups, _SAFETENSORS_FORMAT)
        with atomic_open(path, "wb") as handle:
            handle.write(data)
    else:
        with atomic_path(path) as temporary:
            weights_files.write_h5(temporary, groups)


def load_weights(model: Any, filepath: str | os.PathLike, skip_mismatch: bool = False) -> None:
    """Load weights saved by `save_weights` (or a Keras 3 `.weights.h5` file, or the weights of a
    `.keras` file) into `model`. Every array is read and checked before any is copied in, so a
    file that does not fit leaves the model as it was."""
    path = os.fspath(filepath)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"File not found: filepath={path}.")
    if skip_mismatch:
        raise ValueError("load_weights: skip_mismatch=True is not supported; the file must fit.")
    with _file_errors(path):
        if path.endswith(".safetensors"):
            stored = weights_files.open_safetensors(path, path)
        elif path.endswith(".weights.h5"):
            stored = weights_files.open_h5(path, path, os.path.getsize(path))
        elif path.endswith(".keras"):
            members = keras_archive.read_archive(path)
            data = members[keras_archive.WEIGHTS]
            stored = weights_files.open_h5(data, f"{path} > model.weights.h5", len(data))
        else:
            raise ValueError(
                "The filename must end in `.weights.h5`, `.safetensors` or `.keras`. "
                f"Received: filepath={path}"
            )
        groups = model_groups(model)
        headers = dict(stored.headers)
        if getattr(model, "compiled", False) and "optimizer/vars" in headers:
            groups.append(_built_optimizer_group(model))
        else:
            headers.pop("optimizer/vars", None)
        # Every array is checked before any is copied, but the optimizer checks some values (the
        # learning rate) only as they are set: whatever was copied before such an error goes back.
        backup = [(a, a.copy()) for g in groups if g.path != "optimizer/vars" for a in g.arrays]
        optimizer = model.optimizer if any(g.path == "optimizer/vars" for g in groups) else None
        if optimizer is not None:
            optimizer_state = optimizer.variables
            rate = optimizer.schedule if optimizer.schedule is not None else optimizer.learning_rate
        try:
            _assign(groups, stored, headers, stored.where, model)
        except BaseException:
            for array, saved in backup:
                np.copyto(array, saved)
            if optimizer is not None:
                if optimizer.built:
                    optimizer.load_variables(optimizer_state)
                optimizer.iterations = int(optimizer_state["iterations"])
                optimizer.learning_rate = rate
            raise


# -- shared steps -----------------------------------------------------------------------------------------


def _built_optimizer_group(model: Any) -> Group:
    """The optimizer's arrays for `model`, building its slots first if no step was taken yet."""
    from neuralnet.training.plan import TrainingPlan

    if not model.built:
        return Group("optimizer/vars", model.optimizer.name, [], [])
    TrainingPlan(model).bind(model.optimizer)
    return _optimizer_group(model.optimizer)


def _assign(groups: list[Group], stored: Any, headers: dict, where: str, model: Any) -> None:
    """Match the file against the model, read every value, then copy them all in."""
    optimizer = next((g for g in groups if g.path == "optimizer/vars"), None)
    stored_count = len(headers.get("optimizer/vars", []))
    if optimizer is not None and 0 < stored_count < len(optimizer.arrays):
        # Keras saves an optimizer that never took a step as `iterations` (and the learning rate).
        head = 2 if model.optimizer.schedule is None else 1
        if stored_count == head:
            groups = [g for g in groups if g is not optimizer]
            groups.append(Group(optimizer.path, optimizer.name, optimizer.arrays[:head],
                                optimizer.kinds[:head]))  # fmt: skip
    try:
        match_groups(groups, headers, where)
        values = stored.read([g for g in groups if g.path in headers])
    finally:
        stored.close()
    if "optimizer/vars" in values:
        check_optimizer_values(model.optimizer, values["optimizer/vars"], where)
    for group in groups:
        arrays = values.get(group.path)
        if arrays is None:
            continue
        if group.path == "optimizer/vars":
            assign_optimizer(model.optimizer, arrays, where)
        else:
            for target, value in zip(group.arrays, arrays):
                np.copyto(target, value, casting="unsafe")


@contextlib.contextmanager
def _file_errors(where: str) -> Iterator[None]:
    """Whatever a damaged file makes the parsers raise becomes a `ModelFileError` saying where."""
    try:
        yield
    except ModelFileError:
        raise
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except (
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        OverflowError,
        RecursionError,
        OSError,
        EOFError,
        RuntimeError,
        zipfile.BadZipFile,
        zlib.error,
        NotImplementedError,
    ) as error:
        raise ModelFileError(f"cannot be loaded: {type(error).__name__}: {error}", where) from error
    except Exception as error:
        if type(error).__name__ == "SafetensorError":
            raise ModelFileError(f"not a valid safetensors file: {error}", where) from None
        raise
