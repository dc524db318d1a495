"""Built-in data sets: the lecture's spiral and Gaussian classes, scikit-learn's digits, MNIST from
its IDX files, and loaders for CSV and NPZ files."""

from neuralnet.datasets.mnist import load_mnist, read_idx
from neuralnet.datasets.spiral import make_spiral
from neuralnet.datasets.tabular import load_csv, load_digits, load_npz, make_gaussian_classes

__all__ = [
    "load_csv",
    "load_digits",
    "load_mnist",
    "load_npz",
    "make_gaussian_classes",
    "make_spiral",
    "read_idx",
]
