"""The data at the boundary of fit, evaluate and predict: what users pass, made into arrays."""

import warnings

import numpy as np
import pytest

from neuralnet import Input, Model, Sequential, layers


def _binary_model():
    model = Sequential(
        [Input((2,)), layers.Dense(1, activation="sigmoid", kernel_initializer="ones")]
    )
    model.compile("sgd", "binary_crossentropy")
    return model


def _loss_with(class_weight):
    x = np.array([[0.5, -1.0], [1.0, 2.0], [-2.0, 0.5], [0.1, 0.1]], dtype="float32")
    y = np.array([0, 1, 1, 0])
    return _binary_model().train_on_batch(x, y, class_weight=class_weight)


@pytest.mark.parametrize(
    "keys", [(0.0, 1.0), (np.float64(0), np.float64(1)), (np.int64(0), np.int64(1))]
)
def test_class_weight_keys_may_be_integral_floats_as_scikit_learn_gives_them(keys):
    # dict(zip(np.unique(y), weights)) with float labels: keras 3.15.1 gives the same loss.
    assert _loss_with(dict(zip(keys, (1.0, 3.0)))) == _loss_with({0: 1.0, 1: 3.0})
    assert _loss_with({0: 1.0, 1: 3.0}) != _loss_with({0: 1.0, 1: 1.0})


def test_class_weight_keys_that_are_not_whole_numbers_are_refused():
    with pytest.raises(ValueError, match="whole class indices, received 0.5"):
        _loss_with({0.5: 2.0})
    with pytest.raises(TypeError, match="received 'cat' of type str"):
        _loss_with({"cat": 2.0})


def _two_input_model():
    a, b = Input((2,), name="a"), Input((3,), name="b")
    model = Model({"a": a, "b": b}, layers.Dense(1)(layers.Concatenate()([a, b])))
    model.compile("sgd", "mse")
    return model


def test_a_dict_input_with_keys_the_model_does_not_have_warns_and_runs():
    model = _two_input_model()
    x = {"a": np.ones((4, 2)), "b": np.ones((4, 3)), "c": np.ones((4, 5))}
    with pytest.warns(UserWarning, match=r"keys \['c'\] that match no input.*\['a', 'b'\]"):
        out = model.predict(x, verbose=0)
    expected = model.predict({"a": x["a"], "b": x["b"]}, verbose=0)
    np.testing.assert_array_equal(out, expected)
    with pytest.warns(UserWarning, match="match no input"):
        model.fit(x, np.ones((4, 1)), verbose=0)


def test_a_dict_input_with_exactly_the_models_keys_does_not_warn():
    model = _two_input_model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict({"b": np.ones((2, 3)), "a": np.ones((2, 2))}, verbose=0)


def test_a_python_list_of_rows_for_a_one_input_model_suggests_np_asarray():
    model = Sequential([Input((3,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    rows = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    with pytest.raises(ValueError, match=r"list of 2 entries.*pass np.asarray\(x\) instead"):
        model.predict(rows, verbose=0)
    with pytest.raises(ValueError, match=r"np.asarray\(x\)"):
        model.fit(rows, np.ones((2, 1)), verbose=0)
    assert model.predict(np.asarray(rows), verbose=0).shape == (2, 1)
