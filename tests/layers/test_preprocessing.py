"""Rescaling and Normalization (layers/preprocessing.py): Keras 3's numbers, configs and weights,
adapt on arrays and on batches, gradients checked by finite differences, errors, and a model that
saves and loads with its adapted statistics."""

import json
from pathlib import Path

import numpy as np
import pytest

from neuralnet import backend
from neuralnet.layers import Dense, Input
from neuralnet.layers.layer import LAYERS
from neuralnet.layers.preprocessing import Normalization, Rescaling
from neuralnet.models import Sequential, load_model
from neuralnet.testing import check_gradients
from neuralnet.training.batch_sources import PyDataset

KERAS_VALUES = Path(__file__).parent / "keras_values" / "preprocessing.npz"
CLASSES = {"Normalization": Normalization, "Rescaling": Rescaling}


def _keras_cases():
    with np.load(KERAS_VALUES) as data:
        described = json.loads(str(data["cases"]))
        cases = []
        for i, case in enumerate(described):
            weights = [data[f"w{j}_{i}"] for j in range(len(case["weights"]))]
            adapt = data[f"adapt_{i}"] if case["adapt"] else None
            cases.append((case, data[f"x_{i}"], data[f"y_{i}"], adapt, weights))
        return cases


KERAS_CASES = _keras_cases()


CASE_IDS = [f"{c[0]['layer']}-{json.dumps(c[0]['args'], sort_keys=True)}" for c in KERAS_CASES]


def _make(case, adapt):
    layer = CLASSES[case["layer"]](**case["args"])
    if adapt is not None:
        layer.adapt(adapt)
    return layer


# -- Keras's numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize("case, x, y, adapt, weights", KERAS_CASES, ids=CASE_IDS)
def test_matches_keras_outputs(case, x, y, adapt, weights):
    layer = _make(case, adapt)
    out = layer(x)
    assert out.dtype == np.float32 and out.shape == y.shape
    np.testing.assert_allclose(out, y, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("case, x, y, adapt, weights", KERAS_CASES, ids=CASE_IDS)
def test_matches_keras_config_and_weights(case, x, y, adapt, weights):
    layer = _make(case, adapt)
    layer(x)
    config = layer.get_config()
    for key in ("name", "trainable", "dtype"):
        config.pop(key)
    assert json.loads(json.dumps(config)) == case["keras_config"]
    names = [path.split("/")[-1] for path in layer.weight_names]
    assert names == [name for name, _, _ in case["weights"]]  # Keras's names and order
    ours = layer.get_weights()
    for mine, theirs, (_, shape, _) in zip(ours, weights, case["weights"]):
        assert mine.shape == tuple(shape) == theirs.shape
        np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-6)
    rebuilt = type(layer).from_config(layer.get_config())
    assert rebuilt.get_config() == layer.get_config()


def test_registered_under_keras_names():
    assert LAYERS.lookup("Normalization") is Normalization
    assert LAYERS.lookup("Rescaling") is Rescaling


# -- adapt ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "axis, shape",
    [(-1, (40, 3)), (None, (10, 4)), ((1, 2), (12, 3, 4, 2)), (1, (9, 5, 2)), ((0, 2), (6, 5, 4))],
)
def test_adapt_is_numpys_mean_and_population_variance(axis, shape):
    data = np.random.default_rng(0).normal(2.0, 3.0, shape)
    layer = Normalization(axis=axis)
    layer.adapt(data)
    rank = len(shape)
    keep = () if axis is None else tuple(a % rank for a in np.atleast_1d(axis))
    reduce = tuple(d for d in range(rank) if d not in keep)
    np.testing.assert_allclose(layer.state["mean"], np.mean(data, axis=reduce), rtol=1e-6)
    np.testing.assert_allclose(layer.state["variance"], np.var(data, axis=reduce), rtol=1e-6)
    assert layer.state["count"] == 0  # Keras keeps count for old files and never updates it


class _Batches(PyDataset):
    def __init__(self, x, size):
        super().__init__()
        self.x, self.size = x, size

    def __len__(self):
        return (len(self.x) + self.size - 1) // self.size

    def __getitem__(self, index):
        part = self.x[index * self.size : (index + 1) * self.size]
        return part, np.zeros(len(part))


@pytest.mark.parametrize("axis, shape", [(-1, (50, 3)), ((1, 2), (23, 3, 4, 2)), (None, (17, 4))])
def test_adapt_in_batches_equals_all_at_once(axis, shape):
    data = np.random.default_rng(1).normal(-1.0, 4.0, shape).astype("float32")
    whole = Normalization(axis=axis)
    whole.adapt(data)
    expected = whole.get_weights()
    sources = {
        "batch_size": {"data": data, "batch_size": 7},
        "list": {"data": [data[i : i + 6] for i in range(0, len(data), 6)]},
        "generator": {"data": (data[i : i + 5] for i in range(0, len(data), 5))},
        "tuples": {"data": [(data[i : i + 9], None) for i in range(0, len(data), 9)]},
        "pydataset": {"data": _Batches(data, 8)},
    }
    for how, kwargs in sources.items():
        layer = Normalization(axis=axis)
        layer.adapt(**kwargs)
        for got, want in zip(layer.get_weights(), expected):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=how)


def test_adapt_steps_reads_only_that_many_batches():
    data = np.arange(30, dtype="float32").reshape(10, 3)
    layer = Normalization()
    layer.adapt([data[:4], data[4:8], data[8:]], steps=2)
    np.testing.assert_allclose(layer.state["mean"], data[:8].mean(axis=0))
    np.testing.assert_allclose(layer.state["variance"], data[:8].var(axis=0))


def test_adapt_again_replaces_the_statistics_and_other_batch_sizes_work():
    layer = Normalization()
    layer.adapt(np.zeros((4, 2)) + [1.0, 2.0])
    layer.adapt(np.array([[0.0, 0.0], [2.0, 4.0]]))
    np.testing.assert_allclose(layer.state["mean"], [1.0, 2.0])
    np.testing.assert_allclose(layer.state["variance"], [1.0, 4.0])
    np.testing.assert_allclose(layer(np.array([[3.0, 6.0]] * 7)), [[2.0, 2.0]] * 7)


def test_zero_variance_is_clipped_at_keras_epsilon():
    layer = Normalization(mean=[0.0, 1.0], variance=[0.0, 1.0])
    y = layer(np.array([[0.0, 2.0], [1e-7, 3.0], [-3e-7, 3.0]]))
    np.testing.assert_allclose(y, [[0.0, 1.0], [1.0, 2.0], [-3.0, 2.0]], rtol=1e-6)
    inverse = Normalization(mean=[0.0, 1.0], variance=[0.0, 1.0], invert=True)
    np.testing.assert_allclose(inverse(y), [[0.0, 2.0], [1e-7, 3.0], [-3e-7, 3.0]], rtol=1e-6)


# -- gradients ------------------------------------------------------------------------------------


@pytest.mark.parametrize("invert", [False, True])
@pytest.mark.parametrize(
    "axis, shape", [(-1, (4, 3)), (None, (3, 4)), ((1, 2), (2, 3, 2, 2)), (1, (3, 4, 2))]
)
def test_normalization_gradients_adapted(axis, shape, invert):
    rng = np.random.default_rng(2)
    layer = Normalization(axis=axis, invert=invert)
    with backend.floatx_scope("float64"):
        layer.adapt(rng.normal(1.0, 2.0, (8,) + shape[1:]))
    check_gradients(layer, input_shape=shape)


@pytest.mark.parametrize("invert", [False, True])
def test_normalization_gradients_given_statistics(invert):
    layer = Normalization(axis=(1, 2), mean=[0.5, -1.0], variance=[4.0, 0.25], invert=invert)
    check_gradients(layer, input_shape=(3, 4, 2))


@pytest.mark.parametrize(
    "scale, offset, shape",
    [(0.5, 1.0, (4, 3)), ([2.0, -1.0, 0.5], [0.0, 1.0, 2.0], (2, 2, 3)), (3.0, 0.0, (2, 3, 2, 2))],
)
def test_rescaling_gradients(scale, offset, shape):
    check_gradients(Rescaling(scale, offset), input_shape=shape)


def test_rescaling_backward_is_scale():
    layer = Rescaling([2.0, 3.0], offset=1.0)
    np.testing.assert_allclose(layer(np.ones((2, 2))), [[3.0, 4.0], [3.0, 4.0]])
    np.testing.assert_allclose(layer.backward(np.ones((2, 2))), [[2.0, 3.0], [2.0, 3.0]])


def test_rescaling_casts_integers_to_floats():
    y = Rescaling(1 / 255)(np.array([[0, 255]], dtype=np.uint8))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, [[0.0, 1.0]])


# -- saving ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("invert", [False, True])
def test_model_saves_and_loads_adapted_statistics(tmp_path, invert):
    x = np.random.default_rng(3).normal(5.0, 3.0, (32, 3)).astype("float32")
    normalization = Normalization(invert=invert)
    normalization.adapt(x)
    model = Sequential([Input((3,)), normalization, Dense(1), Rescaling(2.0, offset=-1.0)])
    expected = model.predict(x, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    layer = loaded.layers[0]
    assert isinstance(layer, Normalization) and isinstance(loaded.layers[2], Rescaling)
    assert layer.invert is invert
    for got, want in zip(layer.get_weights(), normalization.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_model_with_given_statistics_saves_them_in_the_config(tmp_path):
    x = np.random.default_rng(4).normal(size=(5, 2)).astype("float32")
    model = Sequential([Input((2,)), Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0]), Dense(1)])
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "given.keras")
    loaded = load_model(tmp_path / "given.keras")
    assert loaded.layers[0].get_weights() == []
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)


# -- errors ---------------------------------------------------------------------------------------


def test_calling_before_adapt_names_the_layer():
    layer = Normalization(name="scaler")
    with pytest.raises(ValueError, match="'scaler'.*adapt"):
        layer(np.ones((2, 3)))
    model = Sequential([Input((3,)), Normalization(name="unadapted"), Dense(1)])
    with pytest.raises(ValueError, match="'unadapted'.*adapt"):
        model.predict(np.ones((2, 3)), verbose=0)


def test_adapt_rejects_data_of_another_feature_size():
    layer = Normalization(name="norm")
    layer.adapt(np.ones((4, 3)))
    with pytest.raises(ValueError, match="'norm'.*built.*\\(None, 3\\).*\\(4, 5\\)"):
        layer.adapt(np.ones((4, 5)))
    with pytest.raises(ValueError, match="'norm'"):
        layer.adapt([np.ones((4, 3)), np.ones((4, 2))])
    built = Sequential([Input((3,)), Normalization(name="in_model")])
    with pytest.raises(ValueError, match="'in_model'"):
        built.layers[0].adapt(np.ones((4, 2)))


@pytest.mark.parametrize("axis", [2, -3, (0, 5)])
def test_axis_out_of_range(axis):
    with pytest.raises(ValueError, match="axis"):
        Normalization(axis=axis).adapt(np.ones((4, 3)))


@pytest.mark.parametrize("axis", ["last", 1.5, (1, "a"), (1, 1), True])
def test_bad_axis_values(axis):
    with pytest.raises(ValueError, match="axis"):
        Normalization(axis=axis)


def test_bad_mean_and_variance():
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        Normalization(mean=1.0)
    with pytest.raises(ValueError, match="same shape"):
        Normalization(mean=[1.0, 2.0], variance=[1.0])
    with pytest.raises(ValueError, match="rank of `mean`"):
        Normalization(mean=[[1.0]], variance=[[1.0]])
    with pytest.raises(ValueError, match=">= 0"):
        Normalization(mean=[1.0], variance=[-1.0])
    with pytest.raises(ValueError, match="cannot be broadcast"):
        Normalization(mean=[1.0, 2.0], variance=[1.0, 1.0])(np.ones((2, 3)))
    with pytest.raises(ValueError, match="cannot change"):
        Normalization(mean=1.0, variance=1.0).adapt(np.ones((2, 3)))


def test_adapt_rejects_empty_and_unsupported_data():
    with pytest.raises(ValueError, match="no batches"):
        Normalization().adapt([])
    with pytest.raises(TypeError, match="adapt"):
        Normalization().adapt("data")


def test_bad_rescaling_arguments():
    with pytest.raises(ValueError, match="scale"):
        Rescaling("big")
    with pytest.raises(ValueError, match="offset"):
        Rescaling(1.0, offset=[])


def test_rescaling_reads_keras_numpy_config():
    config = {
        "name": "rescaling",
        "scale": {"class_name": "__numpy__", "config": {"value": [1.0, 2.0], "dtype": "float64"}},
        "offset": 0.0,
    }
    layer = Rescaling.from_config(config)
    np.testing.assert_allclose(layer(np.ones((1, 2))), [[1.0, 2.0]])
    assert layer.get_config()["scale"] == [1.0, 2.0]
