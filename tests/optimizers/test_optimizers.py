"""Optimizers: every update rule against Keras 3, step by step, and the machinery they share.

Three kinds of evidence:

1. An independent float64 transcription of each published Keras 3 rule (`keras/src/optimizers/*.py`,
   written out below from the formulas, not from neuralnet's code) is run beside the library for 60
   steps on arrays of several shapes with random gradients, with a learning rate that is reassigned
   mid-run, a `LearningRateSchedule`, or a plain callable of the step.
2. Numbers from Keras 3.15.1 itself (JAX backend): `optimizer.apply(grads, variables)` for 5
   steps on the literal inputs of `_keras_inputs`, stored in `KERAS_RESULTS`. Keras ran with
   float64 variables (`jax_enable_x64`), its learning rate held in a float32 variable as always,
   so the stored numbers carry Keras's semantics without float32 round-off; a float32 run of Keras
   agreed with them to 3e-6. Keras is not needed to run these tests.
3. The shared machinery: clipping, decoupled weight decay, `iterations`, slots keyed by path, exact
   save/restore, in-place float32 updates, names and errors.
"""

import math

import numpy as np
import pytest

import neuralnet
from neuralnet import optimizers, schedules
from neuralnet.optimizers import OPTIMIZERS

# --------------------------------------------------------------------------------------------------
# Independent transcriptions of Keras 3's update rules (float64). Each factory takes the optimizer's
# own arguments with Keras's defaults and returns (init, step): `init(p)` gives the per-array state
# and `step(p, g, state, lr, t)` returns the new parameter, with t = iterations + 1 (1-based).
# --------------------------------------------------------------------------------------------------


def sgd_rule(momentum=0.0, nesterov=False):
    def init(p):
        return {"m": np.zeros_like(p)}

    def step(p, g, s, lr, t):
        if momentum == 0.0:
            return p - lr * g
        s["m"] = momentum * s["m"] - lr * g  # Keras keeps lr inside the velocity
        if nesterov:
            return p + momentum * s["m"] - lr * g
        return p + s["m"]

    return init, step


def rmsprop_rule(rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    def init(p):
        return {"v": np.zeros_like(p), "a": np.zeros_like(p), "b": np.zeros_like(p)}

    def step(p, g, s, lr, t):
        s["v"] = rho * s["v"] + (1 - rho) * g**2
        if centered:
            s["a"] = rho * s["a"] + (1 - rho) * g
            increment = lr * g / np.sqrt(s["v"] - s["a"] ** 2 + epsilon)
        else:
            increment = lr * g / np.sqrt(s["v"] + epsilon)  # ε inside the square root
        if momentum > 0:
            s["b"] = momentum * s["b"] + increment
            return p - s["b"]
        return p - increment

    return init, step


def adagrad_rule(initial_accumulator_value=0.1, epsilon=1e-7):
    def init(p):
        return {"acc": np.full_like(p, initial_accumulator_value)}

    def step(p, g, s, lr, t):
        s["acc"] = s["acc"] + g**2
        return p - lr * g / np.sqrt(s["acc"] + epsilon)

    return init, step


def adadelta_rule(rho=0.95, epsilon=1e-7):
    def init(p):
        return {"eg": np.zeros_like(p), "ed": np.zeros_like(p)}

    def step(p, g, s, lr, t):
        s["eg"] = rho * s["eg"] + (1 - rho) * g**2
        delta = -np.sqrt(s["ed"] + epsilon) / np.sqrt(s["eg"] + epsilon) * g
        s["ed"] = rho * s["ed"] + (1 - rho) * delta**2
        return p + lr * delta

    return init, step


def adam_rule(beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
    def init(p):
        return {"m": np.zeros_like(p), "v": np.zeros_like(p), "vhat": np.zeros_like(p)}

    def step(p, g, s, lr, t):
        alpha = lr * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        s["m"] = beta_1 * s["m"] + (1 - beta_1) * g
        s["v"] = beta_2 * s["v"] + (1 - beta_2) * g**2
        v = s["v"]
        if amsgrad:
            s["vhat"] = np.maximum(s["vhat"], s["v"])  # of the uncorrected v
            v = s["vhat"]
        return p - alpha * s["m"] / (np.sqrt(v) + epsilon)

    return init, step


def adamw_rule(weight_decay=0.004, **adam_args):
    return adam_rule(**adam_args)  # the decay itself is the shared machinery: `reference_apply`


def adamax_rule(beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    def init(p):
        return {"m": np.zeros_like(p), "u": np.zeros_like(p)}

    def step(p, g, s, lr, t):
        s["m"] = beta_1 * s["m"] + (1 - beta_1) * g
        s["u"] = np.maximum(beta_2 * s["u"], np.abs(g))
        return p - lr * s["m"] / ((1 - beta_1**t) * (s["u"] + epsilon))

    return init, step


def nadam_rule(beta_1=0.9, beta_2=0.999, epsilon=1e-7, decay_exponent=lambda t: t):
    """Keras 3: μ_t = β₁(1 − ½·0.96ᵗ); `decay_exponent=lambda t: 0.004 * t` gives PyTorch's."""

    def mu(t):
        return beta_1 * (1 - 0.5 * 0.96 ** decay_exponent(t))

    def init(p):
        return {"m": np.zeros_like(p), "v": np.zeros_like(p)}

    def step(p, g, s, lr, t):
        product = math.prod(mu(i) for i in range(1, t + 1))  # Π_t, recomputed from scratch
        s["m"] = beta_1 * s["m"] + (1 - beta_1) * g
        s["v"] = beta_2 * s["v"] + (1 - beta_2) * g**2
        m_hat = mu(t + 1) * s["m"] / (1 - product * mu(t + 1)) + (1 - mu(t)) * g / (1 - product)
        v_hat = s["v"] / (1 - beta_2**t)
        return p - lr * m_hat / (np.sqrt(v_hat) + epsilon)

    return init, step


def lion_rule(beta_1=0.9, beta_2=0.99):
    def init(p):
        return {"m": np.zeros_like(p)}

    def step(p, g, s, lr, t):
        new_p = p - lr * np.sign(beta_1 * s["m"] + (1 - beta_1) * g)
        s["m"] = beta_2 * s["m"] + (1 - beta_2) * g
        return new_p

    return init, step


#: Registered name -> (reference rule, Keras's default learning rate).
REFERENCE_RULES = {
    "sgd": (sgd_rule, 0.01),
    "rmsprop": (rmsprop_rule, 0.001),
    "adagrad": (adagrad_rule, 0.001),
    "adadelta": (adadelta_rule, 0.001),
    "adam": (adam_rule, 0.001),
    "adamw": (adamw_rule, 0.001),
    "adamax": (adamax_rule, 0.001),
    "nadam": (nadam_rule, 0.001),
    "lion": (lion_rule, 0.001),
}

#: (registered name, optimizer-specific arguments): every rule and option the tests run.
RULE_CASES = [
    ("sgd", {}),
    ("sgd", {"momentum": 0.9}),
    ("sgd", {"momentum": 0.9, "nesterov": True}),
    ("rmsprop", {}),
    ("rmsprop", {"momentum": 0.9}),
    ("rmsprop", {"centered": True}),
    ("rmsprop", {"centered": True, "momentum": 0.5, "rho": 0.8}),
    ("adagrad", {}),
    ("adagrad", {"initial_accumulator_value": 0.5, "epsilon": 1e-3}),
    ("adadelta", {}),
    ("adadelta", {"rho": 0.9, "epsilon": 1e-5}),
    ("adam", {}),
    ("adam", {"amsgrad": True}),
    ("adam", {"beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-3}),
    ("adamw", {}),
    ("adamw", {"weight_decay": 0.1, "amsgrad": True}),
    ("adamax", {}),
    ("adamax", {"beta_1": 0.5, "beta_2": 0.9}),
    ("nadam", {}),
    ("nadam", {"beta_1": 0.8, "beta_2": 0.99}),
    ("lion", {}),
    ("lion", {"beta_1": 0.5, "beta_2": 0.9}),
]

SHAPES = [(3, 4), (5,), (2, 1, 3)]
PATHS = ["dense/kernel", "dense/bias", "conv/kernel"]
N_STEPS = 60
SHARED_ARGS = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm")


def _case_id(case):
    name, args = case
    return name + "".join(f"-{k}={v}" for k, v in args.items())


def _problem(seed, dtype=np.float64):
    """Initial parameters and N_STEPS lists of gradients, whose scale changes from step to step."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]
    grads = []
    for step in range(N_STEPS):
        scale = (3.0, 0.2, 1.0)[step % 3]
        grads.append([(scale * rng.standard_normal(shape)).astype(dtype) for shape in SHAPES])
    return params, grads


def as_float32(x):
    """What Keras does to a constant learning rate: it lives in a float32 variable."""
    return float(np.float32(x))


def reference_apply(rule, params, grads, states, lr, t, shared, decay_mask=None):
    """Keras 3's `apply` in float64: clip (per array, else global, else by value), decoupled
    weight decay θ ← θ − θ·wd·lr, then the rule; returns the new parameters."""
    if shared.get("clipnorm"):
        c = shared["clipnorm"]
        grads = [g * c / max(np.sqrt(np.sum(g**2)), c) for g in grads]
    elif shared.get("global_clipnorm"):
        c = shared["global_clipnorm"]
        norm = np.sqrt(sum(np.sum(g**2) for g in grads))
        grads = [g * c / max(norm, c) for g in grads]
    elif shared.get("clipvalue"):
        grads = [np.clip(g, -shared["clipvalue"], shared["clipvalue"]) for g in grads]
    if shared.get("weight_decay"):
        mask = decay_mask or [True] * len(params)
        params = [p - p * shared["weight_decay"] * lr if m else p for p, m in zip(params, mask)]
    _, step = rule
    return [step(p, g, s, lr, t) for p, g, s in zip(params, grads, states)]


def _rule_for(name, args):
    factory, default_lr = REFERENCE_RULES[name]
    own = {k: v for k, v in args.items() if k not in SHARED_ARGS}
    shared = {k: v for k, v in args.items() if k in SHARED_ARGS}
    if name == "adamw":
        shared.setdefault("weight_decay", 0.004)  # AdamW's Keras default
    return factory(**own), shared, default_lr


# Learning rates: each is (what the optimizer is given, lr(step) for the reference, reassignments).


def _lr_modes(default_lr):
    base = as_float32(default_lr)
    return {
        "constant_reassigned": (
            default_lr,
            None,
            {20: 3.0 * default_lr, 41: 0.25 * default_lr},
        ),
        "schedule": (
            schedules.ExponentialDecay(2 * default_lr, decay_steps=10, decay_rate=0.5),
            lambda step: 2 * default_lr * 0.5 ** (step / 10),
            {},
        ),
        "callable": (
            lambda step: base * (1.0 + 0.5 * math.sin(step)),
            lambda step: base * (1.0 + 0.5 * math.sin(step)),
            {},
        ),
    }


def _run_against_reference(name, args, lr_mode, dtype=np.float64, seed=0, decay_exclude=None):
    rule, shared, default_lr = _rule_for(name, args)
    given, reference_lr, reassign = _lr_modes(default_lr)[lr_mode]
    params, grads = _problem(seed, dtype)
    ours = [p.copy() for p in params]
    ref = [p.astype(np.float64) for p in params]
    opt = optimizers.get(name).__class__(learning_rate=given, **args)
    mask = None
    if decay_exclude:
        opt.exclude_from_weight_decay(var_names=decay_exclude)
        mask = [not any(word in path for word in decay_exclude) for path in PATHS]
    opt.build(ours, PATHS)
    init, _ = rule
    states = [init(p) for p in ref]
    lr_now = as_float32(default_lr)
    for step in range(N_STEPS):
        if step in reassign:
            opt.learning_rate = reassign[step]
            lr_now = as_float32(reassign[step])
        lr = lr_now if reference_lr is None else reference_lr(step)
        opt.apply(grads[step], ours)
        ref = reference_apply(rule, ref, [g.astype(np.float64) for g in grads[step]], states, lr,
                              step + 1, shared, mask)  # fmt: skip
        assert opt.iterations == step + 1
    return params, ours, ref


def _assert_close_displacements(params, ours, ref, rtol, atol=0.0):
    """Compare the moves θ − θ₀, not only θ: a small learning rate hides wrong updates in θ."""
    for p0, a, b in zip(params, ours, ref):
        np.testing.assert_allclose(a - p0, b - p0, rtol=rtol, atol=atol)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# --------------------------------------------------------------------------------------------------
# 1. Every optimizer against the independent transcription
# --------------------------------------------------------------------------------------------------


def test_every_registered_optimizer_has_a_reference_transcription():
    registered = set(OPTIMIZERS.names())
    missing = registered - set(REFERENCE_RULES)
    assert not missing, f"write a reference transcription of {sorted(missing)} in this file"
    assert registered - {name for name, _ in RULE_CASES} == set()
    assert set(REFERENCE_RULES) <= registered  # no stale reference either


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_registered_optimizer_with_defaults_matches_its_transcription(name):
    if name not in REFERENCE_RULES:
        pytest.fail(f"optimizer {name!r} has no reference transcription in test_optimizers.py")
    params, ours, ref = _run_against_reference(name, {}, "constant_reassigned")
    _assert_close_displacements(params, ours, ref, rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize("lr_mode", ["constant_reassigned", "schedule", "callable"])
@pytest.mark.parametrize("case", RULE_CASES, ids=_case_id)
def test_update_rule_matches_transcription_step_by_step(case, lr_mode):
    name, args = case
    params, ours, ref = _run_against_reference(name, args, lr_mode, seed=len(RULE_CASES))
    _assert_close_displacements(params, ours, ref, rtol=1e-9, atol=1e-13)


SHARED_CASES = [
    {"clipnorm": 1.0},
    {"global_clipnorm": 1.5},
    {"clipvalue": 0.5},
    {"weight_decay": 0.3},
]


@pytest.mark.parametrize("shared", SHARED_CASES, ids=lambda d: next(iter(d)))
@pytest.mark.parametrize(
    "case",
    [("sgd", {"momentum": 0.9}), ("rmsprop", {"centered": True}), ("adam", {}), ("nadam", {}),
     ("adamax", {}), ("lion", {})],
    ids=_case_id,
)  # fmt: skip
def test_clipping_and_weight_decay_match_transcription(case, shared):
    name, args = case
    params, ours, ref = _run_against_reference(name, {**args, **shared}, "schedule")
    _assert_close_displacements(params, ours, ref, rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw"])
def test_weight_decay_exclusion_matches_transcription(name):
    args = {} if name == "adamw" else {"weight_decay": 0.2}
    params, ours, ref = _run_against_reference(
        name, args, "constant_reassigned", decay_exclude=["bias"]
    )
    _assert_close_displacements(params, ours, ref, rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize("case", RULE_CASES, ids=_case_id)
def test_float32_parameters_track_the_float64_transcription(case):
    name, args = case
    params, ours, ref = _run_against_reference(name, args, "callable", dtype=np.float32)
    for p0, a, b in zip(params, ours, ref):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5)


def test_nadam_uses_keras3_momentum_schedule_not_pytorchs():
    # Keras 3: μ_t = β₁(1 − ½·0.96ᵗ). PyTorch and Keras 2: μ_t = β₁(1 − ½·0.96^(0.004·t)).
    params, grads = _problem(3)
    opt = optimizers.Nadam(learning_rate=0.01)
    ours = [p.copy() for p in params]
    keras3 = nadam_rule()
    pytorch = nadam_rule(decay_exponent=lambda t: 0.004 * t)
    ref3, ref_torch = [p.copy() for p in params], [p.copy() for p in params]
    states3 = [keras3[0](p) for p in params]
    states_torch = [pytorch[0](p) for p in params]
    for step in range(20):
        opt.apply(grads[step], ours)
        ref3 = reference_apply(keras3, ref3, grads[step], states3, as_float32(0.01), step + 1, {})
        ref_torch = reference_apply(
            pytorch, ref_torch, grads[step], states_torch, as_float32(0.01), step + 1, {}
        )
    np.testing.assert_allclose(ours[0], ref3[0], rtol=1e-10)
    assert np.max(np.abs((ours[0] - params[0]) - (ref_torch[0] - params[0]))) > 1e-3
    mu = [0.9 * (1 - 0.5 * 0.96**t) for t in (1, 100)]
    assert mu[0] == pytest.approx(0.468) and mu[1] == pytest.approx(0.9, abs=0.01)


# --------------------------------------------------------------------------------------------------
# 2. Keras 3.15.1 numbers
# --------------------------------------------------------------------------------------------------

# name: (registered name, arguments, first row of the (2, 3) array, second row, the (4,) array)
# after 5 steps from `_keras_inputs`. "exclude_bias" also calls
# exclude_from_weight_decay(var_names=["bias"]); "lr_change" sets `learning_rate = 0.05` before the
# third step; "schedule" uses ExponentialDecay(0.01, 2, 0.5).
KERAS_RESULTS = {
    "sgd": (
        "sgd",
        {},
        [0.4858606756458839, -1.2061320862598646, 2.0108586725710387],
        [0.31194145064620604, 1.4955299755488383, -0.7143329032554242],
        [0.11509921110134774, -0.35712081270369994, 0.9078410536469214, -2.538684241964832],
    ),
    "sgd_momentum": (
        "sgd",
        {"momentum": 0.9},
        [0.4656944040594503, -1.234636675458179, 2.0157750557155243],
        [0.3430762933089593, 1.5072706602877475, -0.7391865070883596],
        [0.0835317433905801, -0.2802438507286542, 0.9805375159107723, -2.5766687669384143],
    ),
    "sgd_nesterov": (
        "sgd",
        {"momentum": 0.9, "nesterov": True},
        [0.4549856392993891, -1.2373050941722252, 2.02505622271501],
        [0.3507101146242695, 1.5020735698078107, -0.749600759634948],
        [0.10027778015286984, -0.24934027835948885, 0.9803248179666165, -2.607686132209405],
    ),
    "rmsprop": (
        "rmsprop",
        {},
        [0.49142395346102463, -1.204001177602097, 2.0045368313435286],
        [0.30738611518550435, 1.4991310412601542, -0.7106636445480098],
        [0.10114687611175241, -0.38957009395248854, 0.9023764848374042, -2.5058534889188793],
    ),
    "rmsprop_momentum": (
        "rmsprop",
        {"momentum": 0.9},
        [0.477358811724436, -1.22043242089923, 2.003827149971458],
        [0.3274170421664445, 1.5082578735593537, -0.7336728538803746],
        [0.09254658352856107, -0.3667644644937778, 0.9167203330868635, -2.5093597029622945],
    ),
    "rmsprop_centered": (
        "rmsprop",
        {"centered": True},
        [0.49049243085905936, -1.2045045635469305, 2.004772902342871],
        [0.3081928044018306, 1.4993213078043564, -0.7117959661645686],
        [0.10097813388553584, -0.38845004534269784, 0.902777440131418, -2.5063291020948424],
    ),
    "rmsprop_centered_momentum": (
        "rmsprop",
        {"centered": True, "momentum": 0.5},
        [0.48420925159569583, -1.2103472979239809, 2.0058165568730626],
        [0.3159088670269026, 1.5017500981811602, -0.7209267769924913],
        [0.09877688705478029, -0.3794012599472477, 0.9075885688437337, -2.509018138250832],
    ),
    "adagrad": (
        "adagrad",
        {},
        [0.49780045572406995, -1.2011032455001995, 2.00135291313547],
        [0.3019155755583098, 1.4997353793392176, -0.7023117489224069],
        [0.1002672264539565, -0.39702988184986876, 0.9008050075727572, -2.5018767103099884],
    ),
    "adadelta": (
        "adadelta",
        {},
        [0.4999946301086017, -1.2000017642735197, 2.000004546326339],
        [0.3000043219711281, 1.499998400638387, -0.7000075986381527],
        [0.10000180263668867, -0.3999926768379125, 0.900000652442519, -2.500006538422073],
    ),
    "adam": (
        "adam",
        {},
        [0.49663428124810044, -1.2037711812016005, 2.0002361477517336],
        [0.30449569030716206, 1.5019131384221036, -0.7046228925330893],
        [0.09822450573809688, -0.3953547998979558, 0.9032605444704023, -2.5014839470097985],
    ),
    "adam_amsgrad": (
        "adam",
        {"amsgrad": True},
        [0.49663428124810044, -1.2037711812016005, 2.0002361477517336],
        [0.30449569030716206, 1.5019131384221036, -0.7046228925330893],
        [0.09822450573809688, -0.3953547998979558, 0.9032605444704023, -2.5014839470097985],
    ),
    "adamw": (
        "adamw",
        {},
        [0.4966243006714358, -1.203747143394029, 2.000196164054993],
        [0.30448965084326796, 1.50188310834405, -0.7046088546631752],
        [0.09822253533295933, -0.39534683824709504, 0.9032425082886549, -2.501433952313801],
    ),
    "adamax": (
        "adamax",
        {},
        [0.4976256360205842, -1.2033743650060398, 1.999842608779844],
        [0.30380576459062847, 1.5016612679750398, -0.7036277707021971],
        [0.09844696935341381, -0.3963287857172177, 0.9028003611551223, -2.5007746539726594],
    ),
    "nadam": (
        "nadam",
        {},
        [0.4968207671741466, -1.2016968101879757, 2.0015704332969775],
        [0.3028630549211002, 1.4998867551042905, -0.703927245464677],
        [0.10022155890803372, -0.3961454499596256, 0.9011116230587359, -2.502140472043668],
    ),
    "lion": (
        "lion",
        {},
        [0.4959999998100102, -1.2010000000474974, 2.0030000001424924],
        [0.30300000014249234, 1.4989999999525025, -0.7050000002374872],
        [0.10100000004749746, -0.39499999976251277, 0.9010000000474975, -2.5030000001424924],
    ),
    "sgd_clipnorm": (
        "sgd",
        {"learning_rate": 0.1, "clipnorm": 1.0},
        [0.35860675119152996, -1.261320864883025, 2.108586729755558],
        [0.4194145109105982, 1.4552997538231676, -0.8433290378936649],
        [0.1573913662718573, -0.19354775752065573, 0.9530600997884305, -2.678065213399127],
    ),
    "adam_clipnorm": (
        "adam",
        {"clipnorm": 1.0},
        [0.49663428124810044, -1.2037711812016005, 2.0002361477517336],
        [0.30449569030716206, 1.5019131384221036, -0.7046228925330893],
        [0.0980852766966217, -0.39539281551493666, 0.9033717694383211, -2.501541900944854],
    ),
    "sgd_global_clipnorm": (
        "sgd",
        {"learning_rate": 0.1, "global_clipnorm": 1.5},
        [0.40786322268212244, -1.2462102955754717, 2.067414377444208],
        [0.3822768295730348, 1.4766035336232548, -0.7947938842725025],
        [0.18159045968913412, -0.11561045166018688, 0.9705572824188171, -2.746641567543878],
    ),
    "adam_clipvalue": (
        "adam",
        {"clipvalue": 0.8},
        [0.49663428124810044, -1.2037711812016005, 2.0002361477517336],
        [0.30449569030716206, 1.5019131384221036, -0.7046228925330893],
        [0.0981879510283256, -0.3951897132603501, 0.9031645266308513, -2.501370090398267],
    ),
    "sgd_weight_decay": (
        "sgd",
        {"learning_rate": 0.1, "weight_decay": 0.5},
        [0.2570533869959088, -0.9729922332610969, 1.6536155684479712],
        [0.3333278730258856, 1.1087560371978027, -0.6706148451953359],
        [0.2478878317436578, 0.07480284646682775, 0.7315008452026892, -2.299990206405126],
    ),
    "adam_weight_decay_exclude_bias": (
        "adam",
        {"learning_rate": 0.01, "weight_decay": 0.5},
        [0.45420822036279623, -1.20753780639083, 1.9530570716930589],
        [0.3370401162898085, 1.481627845343757, -0.7284306791639606],
        [0.08224505862113718, -0.35354800222419214, 0.9326054424265583, -2.5148394690614593],
    ),
    "rmsprop_weight_decay": (
        "rmsprop",
        {"weight_decay": 0.1},
        [0.4911756846956861, -1.2033992196263872, 2.003537232661285],
        [0.3072336469662989, 1.498379973225133, -0.7103108670836413],
        [0.1010980414142915, -0.3893729574640245, 0.9019247410738486, -2.5046034216917072],
    ),
    "adamw_schedule": (
        "adamw",
        {"learning_rate": "EXP"},
        [0.48506796219296394, -1.2243476586574593, 1.9923928687775911],
        [0.3266721994329912, 1.5173493566534249, -0.7263761437688627],
        [0.08304650173831919, -0.3733366982293487, 0.9226161791978251, -2.499418475928982],
    ),
    "sgd_momentum_lr_change": (
        "sgd",
        {"momentum": 0.9},
        [0.37278130750846683, -1.2317245607980296, 2.1102461267873283],
        [0.39070598035004567, 1.4382813601984359, -0.823725308052488],
        [0.2988758962399477, -0.03285051805739431, 0.8975482164595946, -2.868461180392805],
    ),
    "nadam_lr_change": (
        "nadam",
        {},
        [0.3911002750229047, -1.1958264182751046, 2.1193216023635366],
        [0.3478952991981134, 1.4194881306538478, -0.7950416008032232],
        [0.18456805167285859, -0.3081900018829906, 0.8700869524738977, -2.6198982895234146],
    ),
}

#: Keras 3.15.1 `Optimizer().get_config()` (the None-valued shared options and the unsupported EMA,
#: loss-scale and accumulation options left out).
KERAS_CONFIGS = {
    "sgd": {"learning_rate": 0.009999999776482582, "momentum": 0.0, "nesterov": False},
    "rmsprop": {
        "learning_rate": 0.0010000000474974513,
        "rho": 0.9,
        "momentum": 0.0,
        "epsilon": 1e-07,
        "centered": False,
    },
    "adagrad": {
        "learning_rate": 0.0010000000474974513,
        "initial_accumulator_value": 0.1,
        "epsilon": 1e-07,
    },
    "adadelta": {"learning_rate": 0.0010000000474974513, "rho": 0.95, "epsilon": 1e-07},
    "adam": {
        "learning_rate": 0.0010000000474974513,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-07,
        "amsgrad": False,
    },
    "adamw": {
        "learning_rate": 0.0010000000474974513,
        "weight_decay": 0.004,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-07,
        "amsgrad": False,
    },
    "adamax": {
        "learning_rate": 0.0010000000474974513,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-07,
    },
    "nadam": {
        "learning_rate": 0.0010000000474974513,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-07,
    },
    "lion": {"learning_rate": 0.0010000000474974513, "beta_1": 0.9, "beta_2": 0.99},
}


def _keras_inputs(dtype):
    variables = [
        np.array([[0.5, -1.2, 2.0], [0.3, 1.5, -0.7]], dtype=dtype),
        np.array([0.1, -0.4, 0.9, -2.5], dtype=dtype),
    ]
    grads = []
    for step in range(5):
        step_grads = []
        for j, variable in enumerate(variables):
            i = np.arange(variable.size, dtype=np.float64).reshape(variable.shape)
            step_grads.append(((0.5 + j) * np.sin(1.3 * i + 0.7 * step + 2.1 * j)).astype(dtype))
        grads.append(step_grads)
    return variables, grads


def _run_keras_case(case, dtype):
    name, args, *_ = KERAS_RESULTS[case]
    args = dict(args)
    if case.endswith("schedule"):
        args["learning_rate"] = schedules.ExponentialDecay(0.01, 2, 0.5)
    opt = optimizers.get(name).__class__(**args)
    if case.endswith("exclude_bias"):
        opt.exclude_from_weight_decay(var_names=["bias"])
    variables, grads = _keras_inputs(dtype)
    opt.build(variables, ["dense/kernel", "dense/bias"])
    for step, step_grads in enumerate(grads):
        if case.endswith("lr_change") and step == 2:
            opt.learning_rate = 0.05
        opt.apply(step_grads, variables)
    return variables


def test_keras_results_cover_every_registered_optimizer():
    assert {name for name, *_ in KERAS_RESULTS.values()} == set(OPTIMIZERS.names())


@pytest.mark.parametrize("case", list(KERAS_RESULTS))
def test_matches_keras_float64_run(case):
    _, _, row0, row1, vector = KERAS_RESULTS[case]
    initial, _ = _keras_inputs(np.float64)
    ours = _run_keras_case(case, np.float64)
    for p0, a, b in zip(initial, ours, [np.array([row0, row1]), np.array(vector)]):
        np.testing.assert_allclose(a - p0, b - p0, rtol=1e-7)


@pytest.mark.parametrize("case", list(KERAS_RESULTS))
def test_matches_keras_to_float32_precision(case):
    _, _, row0, row1, vector = KERAS_RESULTS[case]
    ours = _run_keras_case(case, np.float32)
    for a, b in zip(ours, [np.array([row0, row1]), np.array(vector)]):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5)


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_defaults_match_keras_get_config(name):
    if name not in KERAS_CONFIGS:
        pytest.fail(f"no Keras get_config() stored for optimizer {name!r}")
    config = optimizers.get(name).get_config()
    for key, keras_value in KERAS_CONFIGS[name].items():
        assert config[key] == keras_value, key


def test_keras_defaults_that_differ_from_pytorch():
    assert optimizers.SGD().learning_rate == as_float32(0.01)
    assert optimizers.RMSprop().rho == 0.9 and optimizers.RMSprop().epsilon == 1e-7
    assert optimizers.Adagrad().initial_accumulator_value == 0.1
    assert optimizers.Adadelta().learning_rate == as_float32(0.001)
    assert optimizers.Adam().epsilon == 1e-7
    assert optimizers.AdamW().weight_decay == 0.004
    assert optimizers.Lion().beta_2 == 0.99


def test_keras_config_is_accepted_by_from_config():
    keras_config = {
        "name": "adam", "learning_rate": 0.0010000000474974513, "weight_decay": None,
        "clipnorm": None, "global_clipnorm": None, "clipvalue": None, "use_ema": False,
        "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
        "gradient_accumulation_steps": None, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
        "amsgrad": False,
    }  # fmt: skip
    opt = optimizers.deserialize({"class_name": "Adam", "config": keras_config})
    assert isinstance(opt, optimizers.Adam)
    assert opt.get_config() == {k: keras_config[k] for k in opt.get_config()}


# --------------------------------------------------------------------------------------------------
# 3. Shared machinery
# --------------------------------------------------------------------------------------------------


def _sgd_step(grads, params, **kwargs):
    opt = optimizers.SGD(learning_rate=1.0, **kwargs)
    before = [p.copy() for p in params]
    opt.apply(grads, params)
    return [b - p for b, p in zip(before, params)]  # the gradient actually used (lr = 1)


def test_clipnorm_rescales_each_array_separately():
    big, small = np.array([3.0, 4.0]), np.array([0.3, 0.4])
    used = _sgd_step([big, small], [np.zeros(2), np.zeros(2)], clipnorm=1.0)
    np.testing.assert_allclose(used[0], [0.6, 0.8])
    np.testing.assert_allclose(used[1], small)
    used = _sgd_step([np.zeros(3)], [np.ones(3)], clipnorm=1.0)  # a zero gradient stays zero
    np.testing.assert_array_equal(used[0], 0.0)


def test_global_clipnorm_rescales_all_arrays_together():
    grads = [np.array([3.0, 0.0]), np.array([0.0, 4.0])]  # joint norm 5
    used = _sgd_step(grads, [np.zeros(2), np.zeros(2)], global_clipnorm=2.5)
    np.testing.assert_allclose(used[0], [1.5, 0.0])
    np.testing.assert_allclose(used[1], [0.0, 2.0])
    used = _sgd_step(grads, [np.zeros(2), np.zeros(2)], global_clipnorm=6.0)
    np.testing.assert_allclose(used[0], grads[0])


def test_clipvalue_clips_each_entry():
    used = _sgd_step([np.array([-3.0, 0.2, 0.7])], [np.zeros(3)], clipvalue=0.5)
    np.testing.assert_allclose(used[0], [-0.5, 0.2, 0.5])


@pytest.mark.parametrize(
    "options",
    [
        {"clipnorm": 1.0, "clipvalue": 1.0},
        {"clipnorm": 1.0, "global_clipnorm": 1.0},
        {"clipvalue": 1.0, "global_clipnorm": 1.0},
        {"clipnorm": 1.0, "clipvalue": 1.0, "global_clipnorm": 1.0},
    ],
)
def test_only_one_clipping_option_is_allowed(options):
    with pytest.raises(
        ValueError, match="only one of `clipnorm`, `clipvalue` and `global_clipnorm`"
    ):
        optimizers.Adam(**options)


def test_weight_decay_is_decoupled_and_applied_before_the_update():
    # θ ← θ − θ·wd·lr, then θ ← θ − lr·g: 1 − 1·0.5·0.5 − 0.5·1 = 0.25 (after the update: 0.375).
    param = np.array([1.0])
    optimizers.SGD(learning_rate=0.5, weight_decay=0.5).apply([np.array([1.0])], [param])
    assert param[0] == pytest.approx(0.25)
    # Not an L2 term in the gradient: Adam with a zero gradient still shrinks θ by (1 − wd·lr).
    param = np.array([2.0, -4.0])
    opt = optimizers.Adam(learning_rate=0.1, weight_decay=0.5)
    for _ in range(3):
        opt.apply([np.zeros(2)], [param])
    shrink = 1 - 0.5 * as_float32(0.1)
    np.testing.assert_allclose(param, np.array([2.0, -4.0]) * shrink**3, rtol=1e-12)


def test_weight_decay_uses_the_scheduled_learning_rate_of_the_step():
    param = np.array([1.0])
    opt = optimizers.SGD(learning_rate=lambda step: 0.1 * (step + 1), weight_decay=1.0)
    opt.apply([np.zeros(1)], [param])
    opt.apply([np.zeros(1)], [param])
    assert param[0] == pytest.approx((1 - 0.1) * (1 - 0.2))


def _decayed(paths, var_names=None, var_list_indices=()):
    """Which parameters weight decay shrinks, after exclude_from_weight_decay(...)."""
    params = [np.ones(2) for _ in paths]
    opt = optimizers.SGD(learning_rate=0.1, weight_decay=1.0)
    opt.exclude_from_weight_decay(
        var_list=[params[i] for i in var_list_indices], var_names=var_names
    )
    opt.build(params, paths)
    opt.apply([np.zeros(2) for _ in paths])
    return [bool(p[0] < 1.0) for p in params]


def test_exclude_from_weight_decay_by_name_and_by_array():
    paths = ["dense/kernel", "dense/bias", "batch_normalization/gamma", "batch_normalization/beta"]
    assert _decayed(paths) == [True, True, True, True]
    assert _decayed(paths, var_names=["bias", "gamma", "beta"]) == [True, False, False, False]
    assert _decayed(paths, var_list_indices=[0, 2]) == [False, True, False, True]
    # The names are regular expressions searched in the parameter's own name, as Keras searches
    # `variable.name`: an anchored pattern works.
    assert _decayed(paths, var_names=["^bias$"]) == [True, False, True, True]
    assert _decayed(["bias_layer/kernel", "dense/bias"], var_names=["^bias$"]) == [True, False]


def test_exclude_from_weight_decay_after_build_is_an_error():
    opt = optimizers.AdamW()
    opt.apply([np.ones(2)], [np.ones(2)])
    with pytest.raises(RuntimeError, match="before the optimizer is built"):
        opt.exclude_from_weight_decay(var_names=["bias"])


def test_iterations_are_incremented_after_the_update():
    seen = []

    def learning_rate(step):
        seen.append(step)
        return 0.1

    opt = optimizers.SGD(learning_rate=learning_rate)
    param = np.zeros(2)
    assert opt.iterations == 0
    for expected in range(1, 4):
        opt.apply([np.ones(2)], [param])
        assert opt.iterations == expected
    assert seen == [0, 1, 2]  # the step's learning rate is read before the increment
    # Adam's bias correction uses t = iterations + 1: the first step moves by ~lr·sign(g).
    param = np.zeros(1)
    optimizers.Adam(learning_rate=0.1).apply([np.array([5.0])], [param])
    assert param[0] == pytest.approx(-0.1, rel=1e-6)


@pytest.mark.parametrize("case", RULE_CASES, ids=_case_id)
def test_state_slots_are_keyed_by_parameter_path(case):
    name, args = case
    params, grads = _problem(1)
    opt = optimizers.get(name).__class__(**args)
    opt.build(params, PATHS)
    opt.apply(grads[0])
    state = opt.variables
    assert state["iterations"] == 1
    slot_keys = [k for k in state if k not in ("iterations", "u_product")]
    if not slot_keys:
        assert (name, args) == ("sgd", {})  # plain SGD is the only stateless rule
        return
    for key in slot_keys:
        path, slot = key.rsplit("/", 1)
        assert path in PATHS and not slot.startswith("_")
        assert state[key].shape == params[PATHS.index(path)].shape
    assert {k.rsplit("/", 1)[0] for k in slot_keys} == set(PATHS)


def test_plain_sgd_has_no_slots():
    opt = optimizers.SGD()
    opt.apply([np.ones(2)], [np.ones(2)])
    assert list(opt.variables) == ["iterations"]


def test_slot_names_follow_keras():
    def keys(opt):
        opt.build([np.ones(2)], ["d/k"])
        return sorted(k for k in opt.variables if k != "iterations")

    assert keys(optimizers.Adam()) == ["d/k/momentum", "d/k/velocity"]
    assert keys(optimizers.Adam(amsgrad=True)) == [
        "d/k/momentum",
        "d/k/velocity",
        "d/k/velocity_hat",
    ]
    assert keys(optimizers.SGD(momentum=0.9)) == ["d/k/momentum"]
    assert keys(optimizers.RMSprop(centered=True, momentum=0.5)) == [
        "d/k/average_gradient", "d/k/momentum", "d/k/velocity"
    ]  # fmt: skip
    assert keys(optimizers.Adagrad()) == ["d/k/accumulator"]
    np.testing.assert_array_equal(
        optimizers.Adagrad().__class__().create_slots(np.ones(3))["accumulator"], 0.1
    )


@pytest.mark.parametrize("case", RULE_CASES, ids=_case_id)
def test_load_variables_resumes_bit_identically(case):
    name, args = case
    make = optimizers.get(name).__class__
    schedule = schedules.CosineDecay(0.01, decay_steps=20)
    params, grads = _problem(2)
    # Uninterrupted: 7 steps, snapshot, 6 more.
    opt = make(learning_rate=schedule, **args)
    opt.build(params, PATHS)
    for step in range(7):
        opt.apply(grads[step])
    saved_state = opt.variables
    saved_params = [p.copy() for p in params]
    for step in range(7, 13):
        opt.apply(grads[step])
    # Resumed: a fresh optimizer loads the snapshot and does the same 6 steps.
    resumed = make(learning_rate=schedule, **args)
    resumed.build(saved_params, PATHS)
    resumed.load_variables(saved_state)
    assert resumed.iterations == 7
    for step in range(7, 13):
        resumed.apply(grads[step])
    for a, b in zip(params, saved_params):
        np.testing.assert_array_equal(a, b)
    assert resumed.iterations == opt.iterations == 13
    for key, value in opt.variables.items():
        np.testing.assert_array_equal(resumed.variables[key], value)


def test_variables_is_a_snapshot_not_changed_by_later_steps():
    opt = optimizers.Adam()
    param = np.ones(3)
    opt.apply([np.ones(3)], [param])
    state = opt.variables
    momentum = state["variable_0/momentum"].copy()
    opt.apply([np.ones(3)], [param])
    np.testing.assert_array_equal(state["variable_0/momentum"], momentum)
    assert state["iterations"] == 1


def test_load_variables_checks_keys_shapes_and_build():
    opt = optimizers.Adam()
    opt.build([np.ones(3)], ["d/k"])
    state = opt.variables
    with pytest.raises(ValueError, match=r"missing \['d/k/velocity'\]"):
        opt.load_variables({k: v for k, v in state.items() if k != "d/k/velocity"})
    with pytest.raises(ValueError, match=r"unexpected \['d/k/velocity_hat'\]"):
        opt.load_variables({**state, "d/k/velocity_hat": np.zeros(3)})
    with pytest.raises(ValueError, match="'d/k/momentum' has shape"):
        opt.load_variables({**state, "d/k/momentum": np.zeros(4)})
    with pytest.raises(RuntimeError, match="build"):
        optimizers.Adam().load_variables(state)


@pytest.mark.parametrize("case", RULE_CASES, ids=_case_id)
def test_updates_are_in_place(case):
    name, args = case
    params, grads = _problem(4)
    originals = [p.copy() for p in params]
    objects = list(params)
    opt = optimizers.get(name).__class__(**args)
    opt.apply(grads[0], params)
    opt.apply(grads[1], params)
    for obj, param, original in zip(objects, params, originals):
        assert obj is param
        assert not np.array_equal(param, original)


@pytest.mark.parametrize("case", RULE_CASES, ids=_case_id)
def test_float32_parameters_and_slots_stay_float32(case):
    name, args = case
    params, grads = _problem(5, np.float32)
    opt = optimizers.get(name).__class__(learning_rate=0.01, clipnorm=1.0, **args)
    for step in range(3):
        opt.apply([g.astype(np.float64) for g in grads[step]], params)  # even float64 gradients
    assert all(p.dtype == np.float32 for p in params)
    assert all(v.dtype == np.float32 for k, v in opt.variables.items() if k.count("/") >= 2)


def test_learning_rate_is_stored_as_float32_like_keras():
    opt = optimizers.SGD(learning_rate=0.01)
    assert opt.learning_rate == 0.009999999776482582
    assert opt.learning_rate != 0.01
    assert opt.get_config()["learning_rate"] == 0.009999999776482582
    opt.learning_rate = 0.1
    assert opt.learning_rate == float(np.float32(0.1))
    param = np.array([1.0])
    opt.apply([np.array([1.0])], [param])
    assert param[0] == 1.0 - float(np.float32(0.1))


def test_learning_rate_can_switch_between_constant_and_schedule():
    opt = optimizers.SGD(learning_rate=0.5)
    assert opt.schedule is None
    schedule = schedules.ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5)
    opt.learning_rate = schedule
    assert opt.schedule is schedule and opt.learning_rate == 1.0
    opt.apply([np.ones(1)], [np.zeros(1)])
    assert opt.learning_rate == 0.5
    opt.learning_rate = 0.25
    assert opt.schedule is None and opt.learning_rate == 0.25


@pytest.mark.parametrize(
    ("identifier", "cls"),
    [("adam", "Adam"), ("Adam", "Adam"), ("ADAM", "Adam"), ("sgd", "SGD"), ("SGD", "SGD"),
     ("rmsprop", "RMSprop"), ("RMSprop", "RMSprop"), ("adamw", "AdamW"), ("AdamW", "AdamW"),
     ("adagrad", "Adagrad"), ("adadelta", "Adadelta"), ("Adamax", "Adamax"), ("nadam", "Nadam"),
     ("Lion", "Lion")],
)  # fmt: skip
def test_names_are_case_insensitive(identifier, cls):
    assert type(optimizers.get(identifier)).__name__ == cls


def test_get_accepts_instances_classes_and_configs():
    opt = optimizers.Adam(learning_rate=0.5)
    assert optimizers.get(opt) is opt
    assert isinstance(optimizers.get(optimizers.Nadam), optimizers.Nadam)
    restored = optimizers.get({"class_name": "SGD", "config": {"momentum": 0.5}})
    assert isinstance(restored, optimizers.SGD) and restored.momentum == 0.5
    with pytest.raises(TypeError, match="Cannot interpret 3"):
        optimizers.get(3)


def test_unknown_name_suggests_and_lists_known_names():
    with pytest.raises(ValueError) as info:
        optimizers.get("adamm")
    message = str(info.value)
    assert "Unknown optimizer 'adamm'" in message
    assert "did you mean 'adam'?" in message.lower()
    assert "Known optimizers: " + ", ".join(OPTIMIZERS.names()) in message


def test_negative_learning_rate_is_rejected():
    with pytest.raises(ValueError, match="learning_rate=-0.1"):
        optimizers.Adam(learning_rate=-0.1)
    opt = optimizers.SGD()
    with pytest.raises(ValueError, match="`learning_rate`"):
        opt.learning_rate = -1.0


def test_invalid_arguments_are_rejected():
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=-0.5)
    with pytest.raises(ValueError, match="beta_1"):
        optimizers.Adam(beta_1=1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(TypeError, match="lr"):
        optimizers.Adam(lr=0.1)
    with pytest.raises(NotImplementedError, match="use_ema"):
        optimizers.Adam(use_ema=True)


def test_apply_checks_its_arguments():
    opt = optimizers.Adam()
    with pytest.raises(RuntimeError, match="needs the variables"):
        opt.apply([np.ones(2)])
    params = [np.ones(2), np.ones(3)]
    with pytest.raises(ValueError, match="received 1 gradients for 2 variables"):
        opt.apply([np.ones(2)], params)
    with pytest.raises(
        ValueError, match=r"gradient of shape \(3,\) for a variable of shape \(2,\)"
    ):
        opt.apply([np.ones(3), np.ones(3)], params)
    with pytest.raises(ValueError, match="built for other variables"):
        opt.apply([np.ones(2)], [np.ones(2)])
    assert opt.iterations == 0


def test_apply_gradients_takes_keras_pairs_and_any_order():
    params, grads = _problem(6)
    a = [p.copy() for p in params]
    b = [p.copy() for p in params]
    opt_a, opt_b = optimizers.Adam(), optimizers.Adam()
    opt_b.build(b)
    for step in range(3):
        opt_a.apply(grads[step], a)
        opt_b.apply_gradients(reversed(list(zip(grads[step], b))))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("case", RULE_CASES, ids=_case_id)
def test_config_round_trip(case):
    name, args = case
    opt = optimizers.get(name).__class__(learning_rate=0.003, clipvalue=2.0, **args)
    config = optimizers.serialize(opt)
    assert config["class_name"] == name
    restored = optimizers.deserialize(config)
    assert type(restored) is type(opt)
    assert restored.get_config() == opt.get_config()


def test_config_round_trip_with_a_schedule():
    schedule = schedules.PolynomialDecay(0.1, decay_steps=100, power=2.0)
    opt = optimizers.Nadam(learning_rate=schedule, global_clipnorm=1.0)
    config = optimizers.serialize(opt)
    assert config["config"]["learning_rate"]["class_name"] == "PolynomialDecay"
    restored = optimizers.deserialize(config)
    assert isinstance(restored.schedule, schedules.PolynomialDecay)
    assert restored.get_config() == opt.get_config()
    with pytest.raises(ValueError, match="plain callable"):
        optimizers.SGD(learning_rate=lambda step: 0.1).get_config()


@pytest.mark.parametrize("name", ["adam", "rmsprop", "sgd"])
def test_subnormal_optimizer_state_is_flushed_to_zero(name):
    """State that decays into subnormal floats (a weight whose gradient stays 0) is set to 0, so
    long runs do not slow down on subnormal arithmetic; normal values are untouched."""
    neuralnet.config.set_accelerator(None)
    try:
        optimizer = optimizers.get(
            {"class_name": name, "config": {"momentum": 0.9} if name == "sgd" else {}}
        )
        params = [np.ones(3, dtype="float32")]
        optimizer.apply([np.array([1.0, 1e-20, 0.0], dtype="float32")], params)
        tiny = np.finfo(np.float32).tiny
        for slots in optimizer._slots:
            for key, value in slots.items():
                if not key.startswith("_"):
                    value[0] = tiny / 4  # a subnormal
                    value[1] = 1e-30  # small but normal
        for _ in range(32 - optimizer.iterations % 32):
            optimizer.apply([np.zeros(3, dtype="float32")], params)
        for slots in optimizer._slots:
            for key, value in slots.items():
                if not key.startswith("_"):
                    assert value[0] == 0.0
                    assert not np.any((value != 0) & (np.abs(value) < tiny))
    finally:
        neuralnet.config.set_accelerator("auto")
