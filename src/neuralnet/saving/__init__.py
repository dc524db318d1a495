"""Model files: Keras 3's `.keras` format, weights files (`.weights.h5`, `.safetensors`), atomic
writes, and loading that checks everything before it builds anything (`ModelFileError` otherwise).

`neuralnet.saving.load_model` is `neuralnet.models.load_model`, as in Keras. The submodules are
imported on first use, so that `import neuralnet` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ModelFileError": "neuralnet.saving.errors",
    "atomic_open": "neuralnet.saving.atomic",
    "atomic_path": "neuralnet.saving.atomic",
    "atomic_write_bytes": "neuralnet.saving.atomic",
    "deserialize_keras_object": "neuralnet.saving.keras_config",
    "serialize_keras_object": "neuralnet.saving.keras_config",
    "load_model": "neuralnet.saving.saving_api",
    "load_weights": "neuralnet.saving.saving_api",
    "save_model": "neuralnet.saving.saving_api",
    "save_weights": "neuralnet.saving.saving_api",
}

__all__ = [
    "ModelFileError",
    "atomic_open",
    "atomic_path",
    "atomic_write_bytes",
    "deserialize_keras_object",
    "load_model",
    "load_weights",
    "register_keras_serializable",
    "save_model",
    "save_weights",
    "serialize_keras_object",
]


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Keras's `keras.saving.register_keras_serializable`: see `neuralnet.utils`."""
    from neuralnet.utils import register_keras_serializable as register

    return register(package, name)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'neuralnet.saving' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
