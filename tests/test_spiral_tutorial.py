"""The lecture's Tutorial 1 reproduces the numbers that the lecture and the cs231n case study quote."""

import numpy as np
import pytest

import neuralnet as nn
from example_modules import load_example

scratch = load_example("spiral_from_scratch")
tutorial = load_example("spiral_neuralnet")


@pytest.fixture(scope="module")
def scratch_run():
    return scratch.run(seed=0)


@pytest.fixture(scope="module")
def neuralnet_run():
    return tutorial.run(seed=0)


def test_make_spiral_is_the_cs231n_data():
    rng = np.random.RandomState(0)
    x_page, y_page = scratch.make_data(rng)
    x, y = nn.datasets.make_spiral(seed=0)
    np.testing.assert_array_equal(x, x_page)
    np.testing.assert_array_equal(y, y_page)
    assert x.shape == (300, 2) and sorted(np.bincount(y)) == [100, 100, 100]
    # radius from 0 to 1 along each arm
    radius = np.hypot(x[:100, 0], x[:100, 1])
    assert radius[0] == 0.0 and radius[-1] == pytest.approx(1.0)


def test_make_spiral_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_per_class=0"):
        nn.datasets.make_spiral(n_per_class=0)


def test_scratch_linear_classifier_prints_the_cs231n_losses(scratch_run):
    losses = scratch_run["linear"]["losses"]
    # cs231n prints "iteration 190: loss 0.786302"; from iteration 120 on all six decimals agree.
    assert losses[120] == pytest.approx(0.787049, abs=5e-7)
    assert losses[190] == pytest.approx(0.786302, abs=5e-7)
    assert losses[0] == pytest.approx(np.log(3), abs=2e-3)  # the initial loss is ≈ ln 3
    assert 0.47 <= scratch_run["linear"]["accuracy"] <= 0.56  # "This prints 49%"
    assert scratch_run["linear"]["accuracy"] == pytest.approx(0.4933, abs=1e-3)


def test_scratch_two_layer_network_reaches_98_percent(scratch_run):
    assert scratch_run["two_layer"]["accuracy"] == pytest.approx(
        0.98, abs=1e-9
    )  # "Which prints 98%!"
    assert 0.2440 <= scratch_run["two_layer"]["losses"][-1] <= 0.2455


def test_neuralnet_from_the_page_weights_reproduces_the_page(neuralnet_run, scratch_run):
    linear = neuralnet_run["linear"]
    assert linear["losses"][190] == pytest.approx(0.786302, abs=2e-6)  # float32 against float64
    np.testing.assert_allclose(linear["losses"], scratch_run["linear"]["losses"], rtol=2e-5)
    assert linear["accuracy"] == pytest.approx(scratch_run["linear"]["accuracy"])
    two_layer = neuralnet_run["two_layer"]
    assert two_layer["accuracy"] >= 0.97
    assert two_layer["accuracy"] == pytest.approx(0.98, abs=1e-9)
    np.testing.assert_allclose(
        two_layer["losses"][:200], scratch_run["two_layer"]["losses"][:200], rtol=1e-3
    )


def test_neuralnet_without_regularization_reaches_99_percent():
    result = tutorial.run(seed=0, reg=0.0)
    assert result["two_layer"]["accuracy"] >= 0.99  # the lecture's "~99% on training set"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_neuralnet_own_initializers_stay_in_the_lecture_bands(seed):
    result = tutorial.run(seed=seed, page_weights=False)
    assert 0.47 <= result["linear"]["accuracy"] <= 0.56
    assert result["two_layer"]["accuracy"] >= 0.97


@pytest.mark.slow
def test_demo_prints_the_table_and_writes_the_pictures(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    demo = load_example("spiral_tutorial")
    assert demo.main(["--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "linear classifier" in printed and "49.3%" in printed and "98.0%" in printed
    for name in ("spiral_decision_boundaries.png", "spiral_loss_curves.png"):
        data = (tmp_path / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000
