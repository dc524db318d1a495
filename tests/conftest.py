"""Shared test set-up: every test starts from the same seed, names and float type."""

import numpy as np
import pytest

import neuralnet
from neuralnet import backend


@pytest.fixture(autouse=True)
def _fresh_state():
    neuralnet.utils.clear_session()
    neuralnet.utils.set_random_seed(1234)
    backend.set_floatx("float32")
    yield
    backend.set_floatx("float32")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
