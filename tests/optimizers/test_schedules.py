"""Learning-rate schedules: Keras 3's numbers, the formulas, and their use by the optimizers.

`KERAS_CASES` holds `schedule(step)` from Keras 3.15.1 (JAX backend, float32, as Keras computes
schedules) at the steps of `KERAS_STEPS`; Keras is not needed to run these tests. The formulas are
also transcribed independently below and checked at every step of a longer range in float64.
"""

import math

import numpy as np
import pytest

from neuralnet import optimizers, schedules
from neuralnet.schedules import SCHEDULES

KERAS_STEPS = [
    0,
    1,
    3,
    5,
    7,
    9,
    10,
    11,
    15,
    19,
    20,
    21,
    25,
    29,
    30,
    31,
    47,
    52,
    69,
    70,
    71,
    100,
    1000,
]

#: name: (class, arguments, Keras 3.15.1 values at KERAS_STEPS).
# fmt: off
KERAS_CASES = {
    "exp": ("ExponentialDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5},
        [0.1000000015, 0.09330330044, 0.08122523874, 0.07071068138, 0.06155722216, 0.0535886772,
        0.05000000075, 0.04665165022, 0.03535534069, 0.0267943386, 0.02500000037, 0.02332582697,
        0.01767767034, 0.01339716744, 0.01250000019, 0.01166291349, 0.003847326851,
        0.002720471006, 0.0008373229648, 0.0007812500116, 0.0007289320929, 9.765625146e-05,
        7.88860917e-32]),
    "exp_staircase": ("ExponentialDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5, "staircase": True},
        [0.1000000015, 0.1000000015, 0.1000000015, 0.1000000015, 0.1000000015, 0.1000000015,
        0.05000000075, 0.05000000075, 0.05000000075, 0.05000000075, 0.02500000037, 0.02500000037,
        0.02500000037, 0.02500000037, 0.01250000019, 0.01250000019, 0.006250000093,
        0.003125000047, 0.001562500023, 0.0007812500116, 0.0007812500116, 9.765625146e-05,
        7.88860917e-32]),
    "inv": ("InverseTimeDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5},
        [0.1000000015, 0.09523810446, 0.08695652336, 0.07999999821, 0.07407407463, 0.06896551698,
        0.06666667014, 0.06451613456, 0.05714285746, 0.05128205195, 0.05000000075, 0.04878048971,
        0.04444444552, 0.04081632569, 0.03999999911, 0.03921568766, 0.02985074744, 0.02777777985,
        0.02247191221, 0.02222222276, 0.02197802067, 0.01666666754, 0.00196078443]),
    "inv_staircase": ("InverseTimeDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5, "staircase": True},
        [0.1000000015, 0.1000000015, 0.1000000015, 0.1000000015, 0.1000000015, 0.1000000015,
        0.06666667014, 0.06666667014, 0.06666667014, 0.06666667014, 0.05000000075, 0.05000000075,
        0.05000000075, 0.05000000075, 0.03999999911, 0.03999999911, 0.03333333507, 0.02857142873,
        0.02500000037, 0.02222222276, 0.02222222276, 0.01666666754, 0.00196078443]),
    "piecewise": ("PiecewiseConstantDecay", {"boundaries": [10, 20], "values": [0.1, 0.05, 0.01]},
        [0.1000000015, 0.1000000015, 0.1000000015, 0.1000000015, 0.1000000015, 0.1000000015,
        0.1000000015, 0.05000000075, 0.05000000075, 0.05000000075, 0.05000000075, 0.009999999776,
        0.009999999776, 0.009999999776, 0.009999999776, 0.009999999776, 0.009999999776,
        0.009999999776, 0.009999999776, 0.009999999776, 0.009999999776, 0.009999999776,
        0.009999999776]),
    "poly": ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 10},
        [0.1000000015, 0.09001000226, 0.07003000379, 0.05005000159, 0.03007000126, 0.01009000186,
        9.999999747e-05, 9.999999747e-05, 9.999999747e-05, 9.999999747e-05, 9.999999747e-05,
        9.999999747e-05, 9.999999747e-05, 9.999999747e-05, 9.999999747e-05, 9.999999747e-05,
        9.999999747e-05, 9.999999747e-05, 9.999999747e-05, 9.999999747e-05, 9.999999747e-05,
        9.999999747e-05, 9.999999747e-05]),
    "poly_power2": ("PolynomialDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 10, "end_learning_rate": 0.01, "power": 2.0},
        [0.1000000015, 0.08289999515, 0.05409999937, 0.03249999881, 0.01810000092, 0.01090000011,
        0.009999999776, 0.009999999776, 0.009999999776, 0.009999999776, 0.009999999776,
        0.009999999776, 0.009999999776, 0.009999999776, 0.009999999776, 0.009999999776,
        0.009999999776, 0.009999999776, 0.009999999776, 0.009999999776, 0.009999999776,
        0.009999999776, 0.009999999776]),
    "poly_cycle": ("PolynomialDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 10, "end_learning_rate": 0.01,
         "power": 0.5, "cycle": True},
        [0.1000000015, 0.09538149834, 0.08529940248, 0.07363960892, 0.0592950359, 0.03846050054,
        0.009999999776, 0.07037383318, 0.0549999997, 0.03012461402, 0.009999999776, 0.0592950359,
        0.04674234986, 0.02643168345, 0.009999999776, 0.05269075185, 0.03204540908, 0.04286335409,
        0.02075706795, 0.009999999776, 0.04018691927, 0.009999999776, 0.009999999776]),
    "cosine": ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 20},
        [0.1000000015, 0.09938441962, 0.09455032647, 0.08535534143, 0.07269952446, 0.05782172829,
        0.04999999702, 0.0421782732, 0.01464466192, 0.0006155818701, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0]),
    "cosine_alpha": ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 20, "alpha": 0.1},
        [0.1000000015, 0.09944597632, 0.09509529173, 0.08681981266, 0.07542957366, 0.06203955412,
        0.05499999598, 0.04796044528, 0.02318019606, 0.01055402402, 0.01000000071, 0.01000000071,
        0.01000000071, 0.01000000071, 0.01000000071, 0.01000000071, 0.01000000071, 0.01000000071,
        0.01000000071, 0.01000000071, 0.01000000071, 0.01000000071, 0.01000000071]),
    "cosine_warmup": ("CosineDecay",
        {"initial_learning_rate": 0.0, "decay_steps": 20, "alpha": 0.1,
         "warmup_target": 0.5, "warmup_steps": 5},
        [0, 0.1000000015, 0.3000000119, 0.5, 0.4889876842, 0.4570288062, 0.4340990186,
        0.4072516859, 0.2749999762, 0.1427483261, 0.1159009784, 0.09297116101, 0.05000000075,
        0.05000000075, 0.05000000075, 0.05000000075, 0.05000000075, 0.05000000075, 0.05000000075,
        0.05000000075, 0.05000000075, 0.05000000075, 0.05000000075]),
    "cosine_warmup_from": ("CosineDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 20, "warmup_target": 0.3, "warmup_steps": 8},
        [0.1000000015, 0.125, 0.1750000119, 0.2250000089, 0.275000006, 0.2981532514, 0.292658478,
        0.2836509943, 0.2180985808, 0.1265348196, 0.1036474258, 0.08190144598, 0.01634901203, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0]),
    "restarts": ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 10},
        [0.1000000015, 0.09755282849, 0.07938926667, 0.04999999702, 0.02061074041, 0.002447176026,
        0.1000000015, 0.09938441962, 0.08535534143, 0.05782172829, 0.04999999702, 0.04217828438,
        0.01464466192, 0.0006155818701, 0.1000000015, 0.09984587133, 0.06167227775, 0.04217828438,
        0.0001541316597, 0.1000000015, 0.09996145219, 0.06913416833, 0.03785099089]),
    "restarts_mmul": ("CosineDecayRestarts",
        {"initial_learning_rate": 0.1, "first_decay_steps": 10, "t_mul": 2.0,
         "m_mul": 0.5, "alpha": 0.1},
        [0.1000000015, 0.09779754281, 0.08145033568, 0.05499999598, 0.02854966559, 0.01220245846,
        0.05500000343, 0.05472299084, 0.04840990528, 0.03601977602, 0.03249999881, 0.02898022532,
        0.01659009792, 0.01027701236, 0.03249999881, 0.03246532008, 0.02387626283, 0.01949011348,
        0.01003467944, 0.02125000022, 0.02124566399, 0.01777759567, 0.0105322795]),
    "restarts_tmul1": ("CosineDecayRestarts",
        {"initial_learning_rate": 0.1, "first_decay_steps": 10, "t_mul": 1.0, "m_mul": 0.8},
        [0.1000000015, 0.09755282849, 0.07938926667, 0.04999999702, 0.02061074041, 0.002447176026,
        0.08000000566, 0.0780422613, 0.03999999911, 0.001957740868, 0.06400000304, 0.06243381649,
        0.03200000152, 0.001566187129, 0.05120000243, 0.04994704947, 0.008442167193,
        0.02963894419, 0.0006415102398, 0.02097152174, 0.02045831271, 0.01073742006,
        2.037039114e-11]),
    "restarts_tmul3": ("CosineDecayRestarts",
        {"initial_learning_rate": 0.1, "first_decay_steps": 4, "t_mul": 3.0,
         "m_mul": 0.9, "alpha": 0.05},
        [0.1000000015, 0.08608757704, 0.01891242899, 0.08904333413, 0.07797881961, 0.05881451443,
        0.04774999619, 0.03668547794, 0.006456668954, 0.08063899726, 0.0796296671, 0.07834518701,
        0.07068093866, 0.05973523855, 0.0566342175, 0.05343306065, 0.008604808711, 0.07425498962,
        0.07010667026, 0.06961578876, 0.06909953803, 0.04564049467, 0.03033289313]),
}
# fmt: on

#: Keras 3.15.1 `get_config()` with only the required arguments given.
KERAS_DEFAULT_CONFIGS = {
    "ExponentialDecay": {
        "initial_learning_rate": 0.1,
        "decay_steps": 10,
        "decay_rate": 0.5,
        "staircase": False,
        "name": "ExponentialDecay",
    },
    "InverseTimeDecay": {
        "initial_learning_rate": 0.1,
        "decay_steps": 10,
        "decay_rate": 0.5,
        "staircase": False,
        "name": "InverseTimeDecay",
    },
    "PolynomialDecay": {
        "initial_learning_rate": 0.1,
        "decay_steps": 10,
        "end_learning_rate": 0.0001,
        "power": 1.0,
        "cycle": False,
        "name": "PolynomialDecay",
    },
    "CosineDecay": {
        "initial_learning_rate": 0.1,
        "decay_steps": 10,
        "alpha": 0.0,
        "name": "CosineDecay",
        "warmup_target": None,
        "warmup_steps": 0,
    },
    "CosineDecayRestarts": {
        "initial_learning_rate": 0.1,
        "first_decay_steps": 10,
        "t_mul": 2.0,
        "m_mul": 1.0,
        "alpha": 0.0,
        "name": "SGDRDecay",
    },
    "PiecewiseConstantDecay": {
        "boundaries": [1],
        "values": [0.1, 0.2],
        "name": "PiecewiseConstant",
    },
}


def _make(class_name, args):
    return getattr(schedules, class_name)(**args)


# --------------------------------------------------------------------------------------------------
# Keras numbers
# --------------------------------------------------------------------------------------------------


def test_keras_cases_cover_every_registered_schedule():
    assert {class_name for class_name, _, _ in KERAS_CASES.values()} == set(SCHEDULES.names())


@pytest.mark.parametrize("case", list(KERAS_CASES))
def test_matches_keras(case):
    class_name, args, keras_values = KERAS_CASES[case]
    schedule = _make(class_name, args)
    ours = [schedule(step) for step in KERAS_STEPS]
    # Keras computes in float32: 1e-5 relative, and 1e-8 absolute where the rate nears 0.
    np.testing.assert_allclose(ours, keras_values, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("class_name", SCHEDULES.names())
def test_defaults_match_keras_get_config(class_name):
    if class_name not in KERAS_DEFAULT_CONFIGS:
        pytest.fail(f"no Keras get_config() stored for schedule {class_name!r}")
    keras_config = KERAS_DEFAULT_CONFIGS[class_name]
    required = ("initial_learning_rate", "decay_steps", "decay_rate", "first_decay_steps",
                "boundaries", "values")  # fmt: skip
    schedule = _make(class_name, {k: v for k, v in keras_config.items() if k in required})
    assert schedule.get_config() == keras_config


# --------------------------------------------------------------------------------------------------
# Independent transcriptions of the formulas
# (keras/src/optimizers/schedules/learning_rate_schedule.py)
# --------------------------------------------------------------------------------------------------


def exponential(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    p = step / decay_steps
    return initial_learning_rate * decay_rate ** (math.floor(p) if staircase else p)


def inverse_time(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    p = step / decay_steps
    return initial_learning_rate / (1 + decay_rate * (math.floor(p) if staircase else p))


def piecewise(step, boundaries, values):
    for boundary, value in zip(boundaries, values):
        if step <= boundary:
            return value
    return values[-1]


def polynomial(step, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
               cycle=False):  # fmt: skip
    if cycle:
        decay_steps = decay_steps * max(1, math.ceil(step / decay_steps))
    else:
        step = min(step, decay_steps)
    return (initial_learning_rate - end_learning_rate) * (
        1 - step / decay_steps
    ) ** power + end_learning_rate


def cosine(step, initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None,
           warmup_steps=0):  # fmt: skip
    def decay(s, start):
        return start * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / decay_steps)) + alpha)

    if warmup_target is None:
        return decay(min(step, decay_steps), initial_learning_rate)
    if step < warmup_steps:
        return initial_learning_rate + (warmup_target - initial_learning_rate) * step / warmup_steps
    return decay(min(step - warmup_steps, decay_steps), warmup_target)


def cosine_restarts(step, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                    alpha=0.0):  # fmt: skip
    # Walk the periods one by one (Keras solves for the period in closed form).
    start, length, restart = 0.0, float(first_decay_steps), 0
    while step >= start + length - 1e-9:
        start += length
        length *= t_mul
        restart += 1
    fraction = (step - start) / length
    cosine_decayed = 0.5 * m_mul**restart * (1 + math.cos(math.pi * fraction))
    return initial_learning_rate * ((1 - alpha) * cosine_decayed + alpha)


FORMULAS = {
    "ExponentialDecay": exponential,
    "InverseTimeDecay": inverse_time,
    "PiecewiseConstantDecay": piecewise,
    "PolynomialDecay": polynomial,
    "CosineDecay": cosine,
    "CosineDecayRestarts": cosine_restarts,
}


def test_every_registered_schedule_has_a_formula():
    assert set(FORMULAS) == set(SCHEDULES.names())


@pytest.mark.parametrize("case", list(KERAS_CASES))
def test_matches_formula_at_every_step(case):
    class_name, args, _ = KERAS_CASES[case]
    schedule = _make(class_name, args)
    formula = FORMULAS[class_name]
    for step in range(300):
        assert schedule(step) == pytest.approx(formula(step, **args), rel=1e-12, abs=1e-15), step


@pytest.mark.parametrize(
    ("class_name", "args"),
    [
        ("ExponentialDecay", {"initial_learning_rate": 0.3, "decay_steps": 7, "decay_rate": 0.9}),
        ("InverseTimeDecay", {"initial_learning_rate": 0.3, "decay_steps": 7, "decay_rate": 2.0,
                              "staircase": True}),
        ("PiecewiseConstantDecay", {"boundaries": [3, 4, 50], "values": [1.0, 0.5, 0.3, 0.01]}),
        ("PolynomialDecay", {"initial_learning_rate": 1.0, "decay_steps": 13, "power": 3.0,
                             "end_learning_rate": 0.5, "cycle": True}),
        ("CosineDecay", {"initial_learning_rate": 0.2, "decay_steps": 31, "alpha": 0.3,
                         "warmup_target": 0.1, "warmup_steps": 9}),
        ("CosineDecayRestarts", {"initial_learning_rate": 0.2, "first_decay_steps": 7,
                                 "t_mul": 1.5, "m_mul": 0.7, "alpha": 0.2}),
    ],
)  # fmt: skip
def test_other_arguments_match_formula(class_name, args):
    schedule = _make(class_name, args)
    for step in range(200):
        assert schedule(step) == pytest.approx(FORMULAS[class_name](step, **args), rel=1e-12), step


def test_boundaries_and_restarts_land_where_keras_puts_them():
    piecewise_schedule = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [piecewise_schedule(s) for s in (10, 11, 20, 21)] == [1.0, 0.5, 0.5, 0.1]  # step ≤ b
    cyclic = schedules.PolynomialDecay(1.0, 10, end_learning_rate=0.0, cycle=True)
    assert [cyclic(s) for s in (0, 10, 11, 20)] == pytest.approx([1.0, 0.0, 0.45, 0.0])
    warm = schedules.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4)
    assert [warm(s) for s in (0, 2, 4, 9, 14, 100)] == pytest.approx([0, 0.5, 1.0, 0.5, 0, 0])
    sgdr = schedules.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5)
    assert [sgdr(s) for s in (0, 10, 30, 70, 150)] == pytest.approx([1, 0.5, 0.25, 0.125, 0.0625])


def test_numpy_integer_steps_work():
    schedule = schedules.ExponentialDecay(0.1, 10, 0.5)
    assert schedule(np.int64(20)) == pytest.approx(0.025)


# --------------------------------------------------------------------------------------------------
# Schedules inside optimizers
# --------------------------------------------------------------------------------------------------


def test_optimizer_evaluates_its_schedule_at_iterations():
    schedule = schedules.PiecewiseConstantDecay([2, 4], [1.0, 0.5, 0.25])
    opt = optimizers.SGD(learning_rate=schedule)
    param = np.zeros(1)
    moves = []
    for step in range(7):
        assert opt.learning_rate == schedule(opt.iterations) == schedule(step)
        before = param[0]
        opt.apply([np.ones(1)], [param])
        moves.append(before - param[0])
    assert moves == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


@pytest.mark.parametrize("case", list(KERAS_CASES))
def test_each_schedule_drives_the_learning_rate(case):
    class_name, args, _ = KERAS_CASES[case]
    opt = optimizers.SGD(learning_rate=_make(class_name, args))
    param = np.zeros(1)
    for step in range(25):
        before = param[0]
        opt.apply([np.ones(1)], [param])
        assert before - param[0] == pytest.approx(FORMULAS[class_name](step, **args), rel=1e-12)


class _HalvingEvery:
    """A callable object that is not a LearningRateSchedule."""

    def __init__(self, period):
        self.period = period

    def __call__(self, step):
        return np.float32(0.8 * 0.5 ** (step // self.period))


@pytest.mark.parametrize(
    "learning_rate",
    [lambda step: 0.1 / (1 + step), _HalvingEvery(3), math.exp],
    ids=["lambda", "callable_object", "builtin"],
)
def test_any_callable_of_the_step_works(learning_rate):
    opt = optimizers.SGD(learning_rate=learning_rate)
    param = np.zeros(1)
    for step in range(8):
        before = param[0]
        opt.apply([np.ones(1)], [param])
        assert before - param[0] == pytest.approx(float(learning_rate(step)), rel=1e-12)
    assert opt.schedule is learning_rate


# --------------------------------------------------------------------------------------------------
# Configuration and validation
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(KERAS_CASES))
def test_config_round_trip(case):
    class_name, args, _ = KERAS_CASES[case]
    schedule = _make(class_name, args)
    config = schedule.get_config()
    assert config == {**KERAS_DEFAULT_CONFIGS[class_name], **args}  # Keras's keys and defaults
    for restored in (
        type(schedule).from_config(config),
        schedules.deserialize(schedules.serialize(schedule)),
    ):
        assert type(restored) is type(schedule)
        assert restored.get_config() == config
        assert [restored(s) for s in KERAS_STEPS] == [schedule(s) for s in KERAS_STEPS]
    assert schedules.serialize(schedule)["class_name"] == class_name


def test_keras_serialized_schedule_is_accepted():
    keras_style = {
        "module": "keras.optimizers.schedules",
        "class_name": "ExponentialDecay",
        "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5,
                   "staircase": False, "name": "ExponentialDecay"},
        "registered_name": None,
    }  # fmt: skip
    schedule = schedules.deserialize(keras_style)
    assert schedule(10) == pytest.approx(0.05)
    opt = optimizers.Adam.from_config({"learning_rate": keras_style})
    assert isinstance(opt.schedule, schedules.ExponentialDecay)


def test_plain_callables_cannot_be_serialized():
    with pytest.raises(ValueError, match="plain callable"):
        schedules.serialize(lambda step: 0.1)


def test_repr_shows_the_config():
    assert repr(schedules.ExponentialDecay(0.1, 10, 0.5)) == (
        "ExponentialDecay(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5, "
        "staircase=False, name='ExponentialDecay')"
    )


def test_step_counts_may_be_any_positive_number_as_in_keras():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=1e3, decay_rate=0.5)
    assert schedule.get_config()["decay_steps"] == 1000
    assert isinstance(schedule.decay_steps, int)
    assert schedules.CosineDecay(0.1, decay_steps=7.5)(7.5) == pytest.approx(0.0, abs=1e-15)
    assert schedules.CosineDecay(0.1, 10, warmup_target=0.2, warmup_steps=2.0).warmup_steps == 2


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), "decay_steps=0"),
        (lambda: schedules.InverseTimeDecay(0.1, -5, 0.5), "decay_steps=-5"),
        (lambda: schedules.PolynomialDecay(0.1, "10"), "decay_steps='10'"),
        (lambda: schedules.CosineDecay(0.1, 0), "decay_steps=0"),
        (lambda: schedules.CosineDecay(0.1, 10, warmup_target=0.2, warmup_steps=-1),
         "warmup_steps=-1"),
        (lambda: schedules.CosineDecayRestarts(0.1, 0), "first_decay_steps=0"),
        (lambda: schedules.ExponentialDecay(-0.1, 10, 0.5), "initial_learning_rate=-0.1"),
        (lambda: schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2]), "one more entry"),
        (lambda: schedules.PiecewiseConstantDecay([5, 2], [0.1, 0.2, 0.3]), "must increase"),
    ],
)  # fmt: skip
def test_invalid_arguments_are_rejected(build, match):
    with pytest.raises(ValueError, match=match):
        build()
