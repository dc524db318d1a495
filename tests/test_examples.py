"""The examples run end to end and show what they claim."""

import importlib.util
import pathlib

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_vanishing_gradients_example_shows_sigmoid_against_relu(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    example = _load("vanishing_gradients")
    assert example.main(["--out", str(tmp_path), "--epochs", "2"]) == 0
    monitors = example.run(epochs=1)
    sigmoid, relu = monitors["sigmoid"].gradient_norms, monitors["relu"].gradient_norms
    # With sigmoid the first layer's gradient is orders of magnitude below the last hidden layer's.
    assert sigmoid["hidden_1"][0] < 1e-3 * sigmoid["hidden_10"][0]
    assert relu["hidden_1"][0] > 1e-1 * relu["hidden_10"][0]
    assert (tmp_path / "vanishing_gradients.png").read_bytes().startswith(b"\x89PNG")
    assert "sigmoid" in capsys.readouterr().out
