"""Model files: Keras 3's `.keras` format, weights files (`.weights.h5`, `.safetensors`), atomic
writes, and loading that checks everything before it builds anything (`ModelFileError` otherwise).

`neuralnet.saving.load_model` is `neuralnet.models.load_model`, as in Keras.
"""

from neuralnet.saving.atomic import atomic_open, atomic_path, atomic_write_bytes
from neuralnet.saving.errors import ModelFileError
from neuralnet.saving.keras_config import deserialize_keras_object, serialize_keras_object
from neuralnet.saving.saving_api import load_model, load_weights, save_model, save_weights


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Keras's `keras.saving.register_keras_serializable`: see `neuralnet.utils`."""
    from neuralnet.utils import register_keras_serializable as register

    return register(package, name)


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
