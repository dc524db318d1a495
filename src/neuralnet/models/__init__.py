"""Models: `Sequential`, functional `Model(inputs, outputs)`, and the training API they share."""

from neuralnet.models.functional import Functional
from neuralnet.models.model import Model
from neuralnet.models.sequential import Sequential

__all__ = ["Functional", "Model", "Sequential"]
