"""Model files: Keras 3's `.keras` format, weights files (`.weights.h5`, `.safetensors`), atomic
writes, and loading that validates everything before it builds anything."""

from neuralnet.saving.atomic import atomic_open, atomic_path, atomic_write_bytes

__all__ = ["atomic_open", "atomic_path", "atomic_write_bytes"]
