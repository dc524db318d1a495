"""The examples run end to end and show what they claim."""

import pytest

from example_modules import load_example


@pytest.mark.slow
def test_vanishing_gradients_example_shows_sigmoid_against_relu(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    example = load_example("vanishing_gradients")
    assert example.main(["--out", str(tmp_path), "--epochs", "2"]) == 0
    monitors = example.run(epochs=1)
    sigmoid, relu = monitors["sigmoid"].gradient_norms, monitors["relu"].gradient_norms
    # With sigmoid the first layer's gradient is orders of magnitude below the last hidden layer's.
    assert sigmoid["hidden_1"][0] < 1e-3 * sigmoid["hidden_10"][0]
    assert relu["hidden_1"][0] > 1e-1 * relu["hidden_10"][0]
    assert (tmp_path / "vanishing_gradients.png").read_bytes().startswith(b"\x89PNG")
    assert "sigmoid" in capsys.readouterr().out
