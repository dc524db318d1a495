"""User-facing settings, with Keras 3's names (`keras.config`), and the optional accelerator."""

from neuralnet._accelerate import accelerator, set_accelerator
from neuralnet.backend import (
    epsilon,
    floatx,
    floatx_scope,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)

__all__ = [
    "accelerator",
    "epsilon",
    "floatx",
    "floatx_scope",
    "image_data_format",
    "set_accelerator",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
]
