"""Initializers (initializers.py): Keras 3's names, formulas and defaults.

The statistical checks use large samples from fixed seeds, with tolerances of 5 standard errors
computed from the sample size (and the sample's own fourth moment for variances), so they measure
the formula and never fail by chance.
"""

import numpy as np
import pytest

import neuralnet
from neuralnet import initializers
from neuralnet.initializers import INITIALIZERS, compute_fans

TRUNCATION_STDDEV = 0.87962566103423978  # std of a unit normal truncated at ±2
SHAPE = (400, 500)  # 200,000 samples; fan_in 400, fan_out 500
FAN_IN, FAN_OUT = SHAPE


def sample(identifier, shape=SHAPE, seed=0):
    return initializers.get(identifier)(shape, "float64", rng=np.random.default_rng(seed))


def assert_mean_is(values, mean):
    values = values.ravel()
    assert abs(values.mean() - mean) < 5 * values.std() / np.sqrt(values.size)


def assert_variance_is(values, variance):
    """|sample variance − variance| within 5 standard errors, se² = (m4 − s⁴) / n."""
    values = values.ravel()
    centered = values - values.mean()
    s2 = np.mean(centered**2)
    standard_error = np.sqrt((np.mean(centered**4) - s2**2) / values.size)
    assert abs(s2 - variance) < 5 * standard_error, (s2, variance, standard_error)


def assert_uniform_on(values, limit):
    assert np.abs(values).max() <= limit
    assert np.abs(values).max() > 0.999 * limit  # it reaches the limit: not a narrower interval
    assert_mean_is(values, 0.0)
    assert_variance_is(values, limit**2 / 3)


def assert_truncated_normal(values, stddev_param):
    """Normal(0, stddev_param) redrawn outside ±2·stddev_param."""
    bound = 2 * stddev_param
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.99 * bound  # truncated at 2σ, not before
    assert_mean_is(values, 0.0)
    assert_variance_is(values, (stddev_param * TRUNCATION_STDDEV) ** 2)


# -- the variance-scaling family -------------------------------------------------------------------


def test_glorot_uniform_limit_is_sqrt_6_over_fan_sum():
    assert_uniform_on(sample("glorot_uniform"), np.sqrt(6.0 / (FAN_IN + FAN_OUT)))


def test_glorot_normal_std_is_sqrt_2_over_fan_sum():
    values = sample("glorot_normal")
    assert_truncated_normal(values, np.sqrt(2.0 / (FAN_IN + FAN_OUT)) / TRUNCATION_STDDEV)


def test_he_normal_is_truncated_with_the_0_8796_correction():
    values = sample("he_normal")
    target_std = np.sqrt(2.0 / FAN_IN)
    # stddev parameter sqrt(2/fan_in)/0.8796, truncated at 2 × that: values beyond 2·target_std exist
    assert np.abs(values).max() > 2.2 * target_std
    assert_truncated_normal(values, target_std / TRUNCATION_STDDEV)
    assert_variance_is(values, target_std**2)  # the sample std ≈ sqrt(2/fan_in)


def test_he_uniform_limit_is_sqrt_6_over_fan_in():
    assert_uniform_on(sample("he_uniform"), np.sqrt(6.0 / FAN_IN))


def test_lecun_normal_std_is_sqrt_1_over_fan_in():
    assert_truncated_normal(sample("lecun_normal"), np.sqrt(1.0 / FAN_IN) / TRUNCATION_STDDEV)


def test_lecun_uniform_limit_is_sqrt_3_over_fan_in():
    assert_uniform_on(sample("lecun_uniform"), np.sqrt(3.0 / FAN_IN))


def test_variance_scaling_defaults_and_modes():
    default = initializers.VarianceScaling()
    assert default.scale == 1.0
    assert default.mode == "fan_in"
    assert default.distribution == "truncated_normal"
    values = sample(initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal"))
    assert np.abs(values).max() > 3 * np.sqrt(2.0 / FAN_OUT)  # not truncated
    assert_mean_is(values, 0.0)
    assert_variance_is(values, 2.0 / FAN_OUT)
    values = sample(initializers.VarianceScaling(3.0, "fan_avg", "uniform"))
    assert_uniform_on(values, np.sqrt(3 * 3.0 / ((FAN_IN + FAN_OUT) / 2)))


def test_variance_scaling_uses_receptive_field_fans():
    shape = (3, 3, 16, 32)  # a conv kernel: fan_in = 3·3·16, fan_out = 3·3·32
    values = sample("he_uniform", shape)
    assert values.shape == shape
    assert np.abs(values).max() <= np.sqrt(6.0 / 144)
    assert np.abs(values).max() > 0.99 * np.sqrt(6.0 / 144)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "fan_sum"}, "`mode` must be one of 'fan_in', 'fan_out', 'fan_avg'"),
        ({"distribution": "normal"}, "`distribution` must be one of"),
        ({"scale": 0.0}, "scale=0.0"),
        ({"scale": -1.0}, "scale=-1.0"),
    ],
)
def test_variance_scaling_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        initializers.VarianceScaling(**kwargs)


# -- compute_fans ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "fans"),
    [
        ((), (1, 1)),
        ((7,), (7, 7)),
        ((4, 9), (4, 9)),
        ((5, 3, 8), (15, 40)),  # Conv1D: kernel_size 5
        ((3, 3, 16, 32), (144, 288)),  # Conv2D
        ((2, 3, 3, 4, 6), (72, 108)),  # Conv3D
    ],
)
def test_compute_fans(shape, fans):
    assert compute_fans(shape) == fans


# -- the simple ones -------------------------------------------------------------------------------


def test_random_normal_defaults_to_stddev_0_05():
    init = initializers.RandomNormal()
    assert (init.mean, init.stddev) == (0.0, 0.05)
    values = sample(init)
    assert np.abs(values).max() > 0.2  # untruncated: 4σ is reached in 200,000 draws
    assert_mean_is(values, 0.0)
    assert_variance_is(values, 0.05**2)
    assert_mean_is(sample(initializers.RandomNormal(mean=1.5, stddev=0.2)), 1.5)


def test_random_uniform_defaults_to_plus_minus_0_05():
    init = initializers.RandomUniform()
    assert (init.minval, init.maxval) == (-0.05, 0.05)
    assert_uniform_on(sample(init), 0.05)
    values = sample(initializers.RandomUniform(2.0, 3.0))
    assert values.min() >= 2.0 and values.max() < 3.0
    assert_mean_is(values, 2.5)


def test_random_uniform_rejects_maxval_below_minval():
    with pytest.raises(ValueError, match="minval=1, maxval=0"):
        initializers.RandomUniform(1, 0)


def test_truncated_normal_defaults_to_stddev_0_05_truncated_at_2_stddev():
    init = initializers.TruncatedNormal()
    assert (init.mean, init.stddev) == (0.0, 0.05)
    assert_truncated_normal(sample(init), 0.05)
    values = sample(initializers.TruncatedNormal(mean=1.0, stddev=0.1))
    assert values.min() >= 0.8 and values.max() <= 1.2
    assert_mean_is(values, 1.0)


@pytest.mark.parametrize(
    "shape", [(7, 4), (4, 7), (6, 6), (3, 3, 4, 8)], ids=["tall", "wide", "square", "conv"]
)
def test_orthogonal_gives_orthonormal_rows_or_columns(shape):
    values = sample("orthogonal", shape, seed=3)
    assert values.shape == shape
    matrix = values.reshape(-1, shape[-1])
    rows, cols = matrix.shape
    if rows >= cols:
        np.testing.assert_allclose(matrix.T @ matrix, np.eye(cols), atol=1e-12)  # QᵀQ = I
    else:
        np.testing.assert_allclose(matrix @ matrix.T, np.eye(rows), atol=1e-12)  # QQᵀ = I


def test_orthogonal_gain_and_rank_check():
    values = sample(initializers.Orthogonal(gain=2.0), (5, 3))
    np.testing.assert_allclose(values.T @ values, 4.0 * np.eye(3), atol=1e-12)
    with pytest.raises(ValueError, match="rank >= 2"):
        sample("orthogonal", (5,))


def test_identity():
    np.testing.assert_array_equal(sample("identity", (3, 3)), np.eye(3))
    np.testing.assert_array_equal(sample("identity", (2, 3)), np.eye(2, 3))
    np.testing.assert_array_equal(
        sample(initializers.Identity(gain=0.5), (3, 2)), 0.5 * np.eye(3, 2)
    )
    with pytest.raises(ValueError, match="2-D shape"):
        sample("identity", (2, 2, 2))


def test_constant_zeros_ones():
    np.testing.assert_array_equal(sample(initializers.Constant(0.3), (2, 3)), np.full((2, 3), 0.3))
    assert initializers.Constant().value == 0.0
    np.testing.assert_array_equal(sample("zeros", (2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(sample("ones", (4,)), np.ones(4))
    np.testing.assert_array_equal(sample("zero", (1,)), [0.0])
    np.testing.assert_array_equal(sample("one", (1,)), [1.0])


# -- seeds, dtypes, the registry -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal",
             "lecun_uniform", "random_normal", "random_uniform", "truncated_normal", "orthogonal",
             "variance_scaling"],
)  # fmt: skip
def test_seeded_initializer_returns_the_same_values_every_call(name):
    init = INITIALIZERS.lookup(name)(seed=17)
    first = init((6, 5))
    np.testing.assert_array_equal(init((6, 5)), first)  # Keras 3: a seeded initializer is stateless
    np.testing.assert_array_equal(INITIALIZERS.lookup(name)(seed=17)((6, 5)), first)
    assert not np.array_equal(INITIALIZERS.lookup(name)(seed=18)((6, 5)), first)
    # the seed wins over a generator passed by a layer
    np.testing.assert_array_equal(init((6, 5), rng=np.random.default_rng(0)), first)


def test_unseeded_initializer_draws_new_values_and_follows_the_global_seed():
    init = initializers.GlorotUniform()
    neuralnet.utils.set_random_seed(5)
    first, second = init((4, 4)), init((4, 4))
    assert not np.array_equal(first, second)
    neuralnet.utils.set_random_seed(5)
    np.testing.assert_array_equal(init((4, 4)), first)


def test_initializers_return_floatx_or_the_requested_dtype():
    assert initializers.get("glorot_uniform")((2, 3)).dtype == np.float32
    assert initializers.get("he_normal")((2, 3), "float64").dtype == np.float64
    with neuralnet.config.floatx_scope("float64"):
        assert initializers.get("zeros")((2,)).dtype == np.float64


@pytest.mark.parametrize("name", INITIALIZERS.names())
def test_config_round_trip(name):
    init = INITIALIZERS.lookup(name)()
    config = initializers.serialize(init)
    assert config["class_name"] == name
    again = initializers.deserialize(config)
    assert type(again) is type(init)
    assert again.get_config() == init.get_config()


def test_seed_survives_the_config():
    init = initializers.deserialize(initializers.serialize(initializers.HeNormal(seed=4)))
    np.testing.assert_array_equal(init((3, 3)), initializers.HeNormal(seed=4)((3, 3)))


def test_get_accepts_names_classes_instances_configs_and_functions():
    assert isinstance(initializers.get("glorot_uniform"), initializers.GlorotUniform)
    assert isinstance(initializers.get("GlorotUniform"), initializers.GlorotUniform)
    assert isinstance(initializers.get(initializers.Ones), initializers.Ones)
    instance = initializers.Constant(2.0)
    assert initializers.get(instance) is instance
    from_dict = initializers.get({"class_name": "constant", "config": {"value": 2.0}})
    assert from_dict.value == 2.0
    function = initializers.get(lambda shape, dtype: np.full(shape, 7.0))
    np.testing.assert_array_equal(function((2,)), [7.0, 7.0])
    with pytest.raises(ValueError, match="cannot be saved"):
        function.get_config()


def test_unknown_name_suggests_the_closest():
    with pytest.raises(
        ValueError, match=r"Unknown initializer 'glorot_unform'\. Did you mean 'glorot_uniform'\?"
    ):
        initializers.get("glorot_unform")
    with pytest.raises(ValueError, match="Known initializers: .*he_normal"):
        initializers.get("xavier")


def test_uninterpretable_identifier_is_a_type_error():
    with pytest.raises(TypeError, match="Cannot interpret 3 as an initializer"):
        initializers.get(3)
