"""`.keras` files written by real Keras 3 load in neuralnet and give Keras's numbers.

The fixtures in `keras_files/` were written once by `keras_files/make_fixtures.py` (Keras 3 with the
JAX backend; see `keras_files/README.md`); Keras is not needed to run these tests. Every
`<name>.keras` there is tested, with the expected numbers from `<name>.npz`: Keras's predictions,
Keras's weights, and for compiled models the losses, logs, weights and optimizer step count after 10
more `train_on_batch` steps that Keras took after loading the same file.
"""

import json
import pathlib
import zipfile

import numpy as np
import pytest

import neuralnet
import neuralnet.models
import neuralnet.saving
from neuralnet import losses as losses_module

FOLDER = pathlib.Path(__file__).parent / "keras_files"
FIXTURES = sorted(FOLDER.glob("*.keras"))
TRAIN_STEPS = 10


def _expected(path: pathlib.Path) -> dict[str, np.ndarray]:
    with np.load(path.with_suffix(".npz")) as data:
        return {key: data[key] for key in data.files}


def _is_compiled(path: pathlib.Path) -> bool:
    return "x_train" in _expected(path) or "x_train0" in _expected(path)


COMPILED = [path for path in FIXTURES if _is_compiled(path)]


def _ids(paths: list[pathlib.Path]) -> list[str]:
    return [path.stem for path in paths]


def _numbered(data: dict[str, np.ndarray], prefix: str) -> list[np.ndarray]:
    """`data[prefix]` alone, or `data[prefix + "0"]`, `data[prefix + "1"]`, ... in order."""
    if prefix in data:
        return [data[prefix]]
    arrays = []
    while f"{prefix}{len(arrays)}" in data:
        arrays.append(data[f"{prefix}{len(arrays)}"])
    assert arrays, f"no {prefix!r} arrays in the .npz"
    return arrays


def _weights(data: dict[str, np.ndarray], prefix: str) -> list[np.ndarray]:
    """`data[prefix + "0"]`, `data[prefix + "1"]`, ...: Keras's `get_weights()` in order."""
    weights = []
    while f"{prefix}{len(weights)}" in data:
        weights.append(data[f"{prefix}{len(weights)}"])
    return weights


def _one_or_list(arrays: list[np.ndarray]):
    return arrays[0] if len(arrays) == 1 else arrays


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _keras_config(path: pathlib.Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))


def _train_data(data: dict[str, np.ndarray]):
    return _one_or_list(_numbered(data, "x_train")), _one_or_list(_numbered(data, "y_train"))


def test_saving_load_model_is_models_load_model():
    assert neuralnet.saving.load_model is neuralnet.models.load_model


def test_every_fixture_has_its_expected_numbers():
    assert len(FIXTURES) >= 10, f"fixtures missing from {FOLDER}"
    assert COMPILED, "no compiled fixture"
    npz = {path.stem for path in FOLDER.glob("*.npz")}
    assert npz == {path.stem for path in FIXTURES}
    for path in FIXTURES:
        assert path.stat().st_size < 100_000, f"{path.name} is over 100 KB"
        for key, value in _expected(path).items():
            assert value.dtype.kind in "fiu", f"{path.stem}.npz: {key} is {value.dtype}"


@pytest.mark.parametrize("path", FIXTURES, ids=_ids(FIXTURES))
def test_predict_matches_keras(path):
    data = _expected(path)
    model = neuralnet.models.load_model(path)
    expected = _numbered(data, "y_pred")
    predicted = _as_list(model.predict(_one_or_list(_numbered(data, "x")), verbose=0))
    assert len(predicted) == len(expected), "number of outputs"
    mismatches = []
    for k, (mine, keras_pred) in enumerate(zip(predicted, expected, strict=True)):
        try:
            np.testing.assert_allclose(mine, keras_pred, rtol=1e-6, atol=1e-6)
        except AssertionError as error:
            name = model.output_names[k] if len(expected) > 1 else "output"
            mismatches.append(f"output {k} ({name}):{error}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("path", FIXTURES, ids=_ids(FIXTURES))
def test_loaded_weights_are_keras_weights(path):
    data = _expected(path)
    weights = neuralnet.models.load_model(path).get_weights()
    expected = _weights(data, "weights_")
    assert [w.shape for w in weights] == [w.shape for w in expected]
    for i, (mine, keras_weight) in enumerate(zip(weights, expected, strict=True)):
        # The file holds float32 numbers: loading them must not change a bit.
        np.testing.assert_array_equal(mine, keras_weight, err_msg=f"weight {i}")


def _check_loss(actual, spec) -> None:
    """One output's loss object against the file's entry: a name, or Keras's serialized dict."""
    if isinstance(spec, str):
        assert type(actual) is type(losses_module.get(spec)), (actual, spec)
        return
    assert type(actual).__name__ == spec["class_name"], (actual, spec)
    ours = actual.get_config()
    for key, value in spec["config"].items():
        if key in ours and key not in ("name", "reduction"):
            assert ours[key] == pytest.approx(value), (key, ours[key], value)


@pytest.mark.parametrize("path", COMPILED, ids=_ids(COMPILED))
def test_compile_config_is_restored(path):
    data = _expected(path)
    compile_config = _keras_config(path)["compile_config"]
    model = neuralnet.models.load_model(path)
    assert model.compiled

    optimizer = model.optimizer
    spec = compile_config["optimizer"]
    assert type(optimizer).__name__ == spec["class_name"]
    assert optimizer.learning_rate == pytest.approx(spec["config"]["learning_rate"], rel=1e-7)
    ours = optimizer.get_config()
    for key, value in spec["config"].items():
        if key in ours and key != "name":
            assert ours[key] == pytest.approx(value), (key, ours[key], value)
    # The step count in the file: Keras's count after its 10 steps, less those 10.
    assert int(optimizer.iterations) == int(data["iterations_after"]) - TRAIN_STEPS

    # The losses are resolved on the first batch (as Keras builds its compiled loss then).
    model.train_on_batch(*_train_data(data))
    resolved = model.trainer.compiled_loss.losses
    specs = _as_list(compile_config["loss"])
    assert len(resolved) == len(specs)
    for actual, loss_spec in zip(resolved, specs, strict=True):
        _check_loss(actual, loss_spec)


@pytest.mark.parametrize("path", COMPILED, ids=_ids(COMPILED))
def test_training_continues_as_in_keras(path):
    data = _expected(path)
    model = neuralnet.models.load_model(path)
    x_train, y_train = _train_data(data)
    losses = [_as_list(model.train_on_batch(x_train, y_train))[0] for _ in range(TRAIN_STEPS)]
    # float32 round-off, compounded over 10 steps: Keras (XLA) and NumPy sum in other orders.
    np.testing.assert_allclose(losses, data["losses"], rtol=1e-5, atol=1e-6, err_msg="losses")
    weights = model.get_weights()
    expected = _weights(data, "weights_after_")
    assert [w.shape for w in weights] == [w.shape for w in expected]
    for i, (mine, keras_weight) in enumerate(zip(weights, expected, strict=True)):
        np.testing.assert_allclose(
            mine, keras_weight, rtol=1e-5, atol=1e-6, err_msg=f"weight {i} after training"
        )
    assert int(model.optimizer.iterations) == int(data["iterations_after"])


@pytest.mark.parametrize("path", COMPILED, ids=_ids(COMPILED))
def test_train_on_batch_returns_keras_logs(path):
    """Every value `train_on_batch` returns (loss, per-output losses, metrics), in Keras's order."""
    data = _expected(path)
    model = neuralnet.models.load_model(path)
    x_train, y_train = _train_data(data)
    logs = [_as_list(model.train_on_batch(x_train, y_train)) for _ in range(TRAIN_STEPS)]
    assert np.shape(logs) == data["logs"].shape
    np.testing.assert_allclose(logs, data["logs"], rtol=1e-5, atol=1e-6)
