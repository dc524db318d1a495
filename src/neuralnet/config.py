"""User-facing settings, with Keras 3's names (`keras.config`)."""

from neuralnet.backend import epsilon, floatx, floatx_scope, set_epsilon, set_floatx

__all__ = ["epsilon", "floatx", "floatx_scope", "set_epsilon", "set_floatx"]
