"""Built-in data sets: the lecture's spiral, Gaussian classes, and MNIST from IDX files."""

from neuralnet.datasets.spiral import make_spiral

__all__ = ["make_spiral"]
