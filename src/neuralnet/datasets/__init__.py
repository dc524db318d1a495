"""Built-in data sets: the lecture's spiral and Gaussian classes, scikit-learn's digits, MNIST from
its IDX files, loaders for CSV and NPZ files, and the lecture's train/validation/test split."""

from neuralnet.datasets.mnist import load_mnist, read_idx
from neuralnet.datasets.spiral import make_spiral
from neuralnet.datasets.splitting import train_val_test_split
from neuralnet.datasets.tabular import load_csv, load_digits, load_npz, make_gaussian_classes

__all__ = [
    "load_csv",
    "load_digits",
    "load_mnist",
    "load_npz",
    "make_gaussian_classes",
    "make_spiral",
    "read_idx",
    "train_val_test_split",
]
