"""User-facing settings, with Keras 3's names (`keras.config`), and the optional accelerator."""

from neuralnet._accelerate import accelerator, set_accelerator
from neuralnet.backend import epsilon, floatx, floatx_scope, set_epsilon, set_floatx

__all__ = [
    "accelerator",
    "epsilon",
    "floatx",
    "floatx_scope",
    "set_accelerator",
    "set_epsilon",
    "set_floatx",
]
