"""Helpers: seeding, one-hot encoding, registering one's own classes."""

import subprocess
import sys

import numpy as np
import pytest

import neuralnet
from neuralnet import activations, layers, losses, utils


def test_to_categorical_one_hot_encodes_and_checks_labels():
    np.testing.assert_array_equal(
        utils.to_categorical([0, 2, 1], 3), [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    )
    assert utils.to_categorical(np.array([[1], [0]])).shape == (2, 2)
    with pytest.raises(ValueError, match="out of range for num_classes=2"):
        utils.to_categorical([0, 2], 2)
    with pytest.raises(ValueError, match="whole numbers"):
        utils.to_categorical([0.5])


def test_set_random_seed_repeats_weights_and_rejects_bad_seeds():
    utils.set_random_seed(5)
    first = layers.Dense(3)
    first.ensure_built((None, 2))
    utils.set_random_seed(5)
    second = layers.Dense(3)
    second.ensure_built((None, 2))
    np.testing.assert_array_equal(first.params["kernel"], second.params["kernel"])
    with pytest.raises(ValueError, match="non-negative integer"):
        utils.set_random_seed(-1)


def test_register_keras_serializable_makes_own_classes_findable_by_name():
    @utils.register_keras_serializable(package="Mine")
    class Cube(activations.Activation):
        def forward(self, x):
            return x**3

        def backward(self, grad_y, x, y):
            return grad_y * 3 * x**2

    @utils.register_keras_serializable(package="Mine", name="half_mse")
    class HalfMSE(losses.Loss):
        def call(self, y_true, y_pred):
            return 0.5 * np.mean((y_true - y_pred) ** 2, axis=-1)

        def gradient(self, y_true, y_pred):
            return (y_pred - y_true) / y_pred.shape[-1]

    assert isinstance(activations.get("Cube"), Cube)
    assert isinstance(activations.get("Mine>Cube"), Cube)
    assert activations.serialize(Cube()) == "Mine>Cube"
    assert isinstance(losses.get("half_mse"), HalfMSE)
    layer = layers.Dense(2, activation="Cube")
    assert layers.deserialize(layers.serialize(layer)).activation.__class__ is Cube
    with pytest.raises(TypeError, match="not a subclass of a neuralnet base class"):
        utils.register_keras_serializable()(dict)


def test_clear_session_restarts_automatic_names():
    layers.Dense(1)
    utils.clear_session()
    assert layers.Dense(1).name == "dense"
    assert neuralnet.config.floatx() == "float32"


def test_import_neuralnet_leaves_the_slow_optional_modules_unimported():
    """`import neuralnet` stays fast: numpy.random, the plotting and dataset code, tqdm and numba
    load when first used."""
    code = (
        "import sys, neuralnet\n"
        "slow = ['numpy.random', 'matplotlib', 'tqdm', 'numba', 'neuralnet.plotting', "
        "'neuralnet.datasets', 'difflib']\n"
        "print(*[name for name in slow if name in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_unseeded_layers_differ_from_run_to_run_until_a_seed_is_set():
    """The global seed source, made on first use, is random unless `set_random_seed` was called."""
    code = (
        "import neuralnet\n"
        "layer = neuralnet.layers.Dense(2)\n"
        "layer.ensure_built((None, 3))\n"
        "print(layer.params['kernel'].tolist())\n"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        for _ in range(2)
    }
    assert len(runs) == 2
