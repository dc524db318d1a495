"""The optional numba kernels give exactly the numbers of the NumPy code they replace."""

import subprocess
import sys

import numpy as np
import pytest

import neuralnet
from neuralnet import Input, Sequential, layers, optimizers


@pytest.fixture(autouse=True)
def _restore_accelerator():
    yield
    neuralnet.config.set_accelerator("auto")


def _adam_run(accelerator, dtype, amsgrad=False):
    neuralnet.config.set_accelerator(accelerator)
    rng = np.random.default_rng(0)
    shapes = [(17, 9), (9,), (3, 4, 5)]
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    optimizer = optimizers.Adam(learning_rate=0.01, amsgrad=amsgrad)
    for step in range(30):
        if step == 15:
            optimizer.learning_rate = 0.003
        grads = [np.random.default_rng(step).standard_normal(s).astype(dtype) for s in shapes]
        optimizer.apply(grads, params)
    return params, optimizer.variables


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_adam_is_bit_identical_to_numpy(dtype):
    pytest.importorskip("numba")
    fused, fused_state = _adam_run("numba", dtype)
    plain, plain_state = _adam_run(None, dtype)
    for a, b in zip(fused, plain):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b)
    for key in plain_state:
        np.testing.assert_array_equal(fused_state[key], plain_state[key])


def test_a_training_run_is_identical_with_and_without_the_accelerator():
    pytest.importorskip("numba")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 5)).astype("float32")
    y = rng.integers(0, 3, 64)
    results = []
    for accelerator in ("numba", None):
        neuralnet.config.set_accelerator(accelerator)
        neuralnet.utils.set_random_seed(3)
        model = Sequential(
            [Input((5,)), layers.Dense(8, activation="relu"), layers.Dense(3, activation="softmax")]
        )
        model.compile("adam", "sparse_categorical_crossentropy")
        history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
        results.append((history.history["loss"], model.get_weights()))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)


def test_set_accelerator_validates_its_argument():
    with pytest.raises(ValueError, match="expected 'auto', 'numba' or None, received 'cuda'"):
        neuralnet.config.set_accelerator("cuda")
    neuralnet.config.set_accelerator(None)
    assert neuralnet.config.accelerator() is None


def test_import_neuralnet_does_not_import_numba():
    code = "import sys, neuralnet; print('numba' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


def test_fused_adam_flushes_subnormal_moments_to_zero():
    pytest.importorskip("numba")
    neuralnet.config.set_accelerator("numba")
    param = np.ones(4, dtype="float32")
    optimizer = optimizers.Adam(learning_rate=1e-3)
    optimizer.apply([np.full(4, 1.0, dtype="float32")], [param])
    zero = np.zeros(4, dtype="float32")
    for _ in range(900):  # m decays as 0.9^t: below the smallest normal float32 after ~830 steps
        optimizer.apply([zero], [param])
    momentum = optimizer.variables["variable_0/momentum"]
    assert np.all(momentum == 0.0)
    assert np.all(np.isfinite(param))
