"""Regularizers (regularizers.py): Keras 3's penalties (no ½ on L2), their gradients and names."""

import numpy as np
import pytest

from neuralnet import regularizers
from neuralnet.regularizers import L1, L1L2, L2, REGULARIZERS
from neuralnet.testing import numerical_gradient

W = np.array([[1.0, -2.0], [3.0, 0.5], [-0.25, 4.0]])
SUM_ABS = 1.0 + 2.0 + 3.0 + 0.5 + 0.25 + 4.0  # 10.75
SUM_SQUARES = 1.0 + 4.0 + 9.0 + 0.25 + 0.0625 + 16.0  # 30.3125


def test_l2_penalty_has_no_half_and_defaults_to_0_01():
    assert L2().l2 == 0.01
    assert L2()(W) == pytest.approx(0.01 * SUM_SQUARES, rel=1e-12)
    assert L2(0.5)(W) == pytest.approx(0.5 * SUM_SQUARES, rel=1e-12)
    np.testing.assert_allclose(L2(0.5).gradient(W), 2 * 0.5 * W, rtol=1e-12)


def test_l1_penalty_and_gradient():
    assert L1().l1 == 0.01
    assert L1(0.2)(W) == pytest.approx(0.2 * SUM_ABS, rel=1e-12)
    np.testing.assert_allclose(L1(0.2).gradient(W), 0.2 * np.sign(W), rtol=1e-12)
    np.testing.assert_array_equal(L1(0.2).gradient(np.zeros(3)), np.zeros(3))  # subgradient 0 at 0


def test_l1l2_penalty_and_gradient():
    reg = L1L2(l1=0.1, l2=0.3)
    assert reg(W) == pytest.approx(0.1 * SUM_ABS + 0.3 * SUM_SQUARES, rel=1e-12)
    np.testing.assert_allclose(reg.gradient(W), 0.1 * np.sign(W) + 0.6 * W, rtol=1e-12)
    assert L1L2(l1=0.1)(W) == pytest.approx(0.1 * SUM_ABS, rel=1e-12)
    assert L1L2(l2=0.3)(W) == pytest.approx(0.3 * SUM_SQUARES, rel=1e-12)


def test_l1l2_class_defaults_are_zero_as_keras3():
    assert (L1L2().l1, L1L2().l2) == (0.0, 0.0)
    reg = regularizers.l1_l2()  # Keras 3: l1_l2() is L1L2(0, 0), not Keras 2's 0.01 each
    assert isinstance(reg, L1L2)
    assert (reg.l1, reg.l2) == (0.0, 0.0)
    assert reg(W) == 0.0
    assert isinstance(regularizers.l1(), L1) and regularizers.l2().l2 == 0.01


@pytest.mark.parametrize(
    "reg", [L2(0.3), L1(0.2), L1L2(0.1, 0.3), L2()], ids=["l2", "l1", "l1_l2", "l2_default"]
)
def test_gradient_matches_finite_differences(reg, rng):
    w = rng.standard_normal((4, 3))  # away from 0, where L1 has its kink
    assert np.abs(w).min() > 1e-3
    numeric = numerical_gradient(lambda: reg(w), w)
    np.testing.assert_allclose(reg.gradient(w), numeric, rtol=1e-7, atol=1e-10)


def test_add_gradient_accumulates_in_place():
    for reg in (L2(0.5), L1(0.2), L1L2(0.1, 0.3)):
        grad = np.ones_like(W)
        target = grad
        reg.add_gradient(W, grad)
        assert grad is target
        np.testing.assert_allclose(grad, 1.0 + reg.gradient(W), rtol=1e-12)


def test_penalty_of_float32_weights_is_a_python_float():
    value = L2()(W.astype(np.float32))
    assert isinstance(value, float)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: L2(-0.1), "l2=-0.1"),
        (lambda: L1(-1.0), "l1=-1.0"),
        (lambda: L1L2(l1=-0.5), "l1=-0.5"),
        (lambda: L1L2(l2=-0.5), "l2=-0.5"),
        (lambda: L2(float("nan")), "l2=nan"),
        (lambda: L2("0.1"), "l2='0.1'"),
    ],
)
def test_negative_or_non_numeric_factors_are_rejected(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# -- names and configs -----------------------------------------------------------------------------


def test_string_names():
    reg = regularizers.get("l2")
    assert isinstance(reg, L2) and reg.l2 == 0.01
    reg = regularizers.get("l1")
    assert isinstance(reg, L1) and reg.l1 == 0.01
    for name in ("l1_l2", "l1l2", "L1L2"):  # ours, Keras 3's snake case, the class name
        reg = regularizers.get(name)
        assert isinstance(reg, L1L2) and (reg.l1, reg.l2) == (0.0, 0.0)
    assert isinstance(regularizers.get("L2"), L2)


def test_get_passes_none_and_instances_through():
    assert regularizers.get(None) is None
    reg = L2(0.3)
    assert regularizers.get(reg) is reg


def test_get_rejects_unknown_names_and_other_types():
    with pytest.raises(ValueError, match="Unknown regularizer 'l3'. Did you mean"):
        regularizers.get("l3")
    with pytest.raises(TypeError, match="Cannot interpret 0.01 as a regularizer"):
        regularizers.get(0.01)


@pytest.mark.parametrize("name", REGULARIZERS.names())
def test_config_round_trip(name):
    reg = REGULARIZERS.lookup(name)()
    config = regularizers.serialize(reg)
    assert config["class_name"] == name
    again = regularizers.get(config)
    assert type(again) is type(reg)
    assert again.get_config() == reg.get_config()


def test_config_keeps_the_factors():
    config = regularizers.serialize(L1L2(0.1, 0.2))
    assert config == {"class_name": "l1_l2", "config": {"l1": 0.1, "l2": 0.2}}
    assert regularizers.deserialize(config)(W) == pytest.approx(L1L2(0.1, 0.2)(W))
    assert regularizers.serialize(None) is None
    with pytest.raises(ValueError, match="class_name"):
        regularizers.deserialize({"config": {}})
