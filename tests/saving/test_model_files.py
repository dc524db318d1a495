"""neuralnet's own round trips: `.keras` files, weights files, configs, JSON and `clone_model`.

A model saved and loaded predicts bit for bit what it did; a compiled one goes on training exactly
as the original would (every optimizer, its state in the file); weights files load into the same
architecture and refuse any other, leaving the model as it was; configs, JSON and clones rebuild the
same structure with new, independent weights.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from test_to_keras import MODEL_CASES, WEIGHTS_CASES, model_input, output_list

import neuralnet
import neuralnet.models
import neuralnet.saving
from neuralnet import layers, models, optimizers, schedules
from neuralnet.optimizers import OPTIMIZERS
from neuralnet.saving import ModelFileError

ALL_CASES = {**MODEL_CASES, **WEIGHTS_CASES}


def _build(name: str):
    neuralnet.utils.clear_session()
    neuralnet.utils.set_random_seed(77)
    return ALL_CASES[name](np.random.default_rng([3, *name.encode()]))


def _predict(model, xs) -> list[np.ndarray]:
    return output_list(model.predict(model_input(xs), verbose=0))


def _weights(model) -> list[np.ndarray]:
    return [np.array(w) for w in model.get_weights()]


def _assert_same_arrays(a: list, b: list) -> None:
    assert len(a) == len(b)
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        assert x.dtype == y.dtype, i
        np.testing.assert_array_equal(x, y, err_msg=f"array {i}")


def _summary(model) -> str:
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def _optimizer_state(model) -> dict[str, np.ndarray]:
    state = {key: np.array(value) for key, value in model.optimizer.variables.items()}
    state["learning_rate"] = np.asarray(model.optimizer.learning_rate)
    return state


# -- .keras round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ALL_CASES))
def test_save_load_predicts_bit_for_bit(tmp_path, name):
    model, xs = _build(name)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = neuralnet.models.load_model(path)
    assert type(loaded) is type(model)
    assert loaded.name == model.name
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert loaded.weight_names == model.weight_names
    _assert_same_arrays(_weights(loaded), _weights(model))
    _assert_same_arrays(_predict(loaded, xs), _predict(model, xs))
    assert json.loads(loaded.to_json()) == json.loads(model.to_json())
    assert loaded.compiled == model.compiled
    if model.compiled:
        assert type(loaded.optimizer) is type(model.optimizer)
        assert loaded.optimizer.get_config() == model.optimizer.get_config()
        ours, theirs = _optimizer_state(model), _optimizer_state(loaded)
        assert sorted(ours) == sorted(theirs)
        for key in ours:
            np.testing.assert_array_equal(theirs[key], ours[key], err_msg=key)


def _continuing_model(optimizer):
    """Deterministic in training (no Dropout): Dense, BatchNormalization, PReLU, two outputs."""
    inp = layers.Input((4,), name="x")
    h = layers.Dense(6, activation="tanh", name="hidden")(inp)
    h = layers.BatchNormalization(name="bn")(h)
    h = layers.PReLU(name="prelu")(h)
    first = layers.Dense(2, name="first")(h)
    second = layers.Dense(3, activation="softmax", name="second")(h)
    model = models.Model(inp, [first, second], name="continuing")
    model.compile(optimizer=optimizer, loss=["mse", "categorical_crossentropy"],
                  loss_weights=[1.0, 0.5], metrics=[["mae"], ["accuracy"]])  # fmt: skip
    return model


def _train_batches(rng, n: int):
    return [
        (
            _rng_normal(rng, 8, 4),
            [_rng_normal(rng, 8, 2), np.eye(3, dtype="float32")[rng.integers(0, 3, 8)]],
        )
        for _ in range(n)
    ]


def _rng_normal(rng, *shape):
    return rng.standard_normal(shape).astype("float32")


OPTIMIZER_VARIANTS = {
    **{name: (lambda name=name: OPTIMIZERS.lookup(name)()) for name in OPTIMIZERS.names()},
    "adam_amsgrad": lambda: optimizers.Adam(learning_rate=0.01, amsgrad=True),
    "adamw_amsgrad": lambda: optimizers.AdamW(learning_rate=0.01, weight_decay=0.05, amsgrad=True),
    "rmsprop_centered": lambda: optimizers.RMSprop(learning_rate=0.01, centered=True),
    "rmsprop_centered_momentum": lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "sgd_momentum": lambda: optimizers.SGD(learning_rate=0.05, momentum=0.9),
    "sgd_nesterov": lambda: optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    "nadam_tuned": lambda: optimizers.Nadam(learning_rate=0.01, beta_1=0.8),
    "adam_clipnorm": lambda: optimizers.Adam(learning_rate=0.01, clipnorm=0.5),
    "sgd_global_clipnorm": lambda: optimizers.SGD(0.1, momentum=0.5, global_clipnorm=0.3),
    "adam_exponential_decay": lambda: optimizers.Adam(
        learning_rate=schedules.ExponentialDecay(0.01, decay_steps=3, decay_rate=0.8)
    ),
    "sgd_piecewise": lambda: optimizers.SGD(
        learning_rate=schedules.PiecewiseConstantDecay([4, 8], [0.1, 0.05, 0.01]), momentum=0.9
    ),
    "rmsprop_cosine": lambda: optimizers.RMSprop(
        learning_rate=schedules.CosineDecay(0.01, decay_steps=20, alpha=0.1)
    ),
    "adagrad_inverse_time": lambda: optimizers.Adagrad(
        learning_rate=schedules.InverseTimeDecay(0.1, decay_steps=2, decay_rate=0.5)
    ),
    "adamax_polynomial": lambda: optimizers.Adamax(
        learning_rate=schedules.PolynomialDecay(0.01, decay_steps=10, end_learning_rate=0.001)
    ),
    "lion_cosine_restarts": lambda: optimizers.Lion(
        learning_rate=schedules.CosineDecayRestarts(0.001, first_decay_steps=3)
    ),
}


def test_every_optimizer_is_a_variant():
    assert set(OPTIMIZERS.names()) <= set(OPTIMIZER_VARIANTS)
    assert len(OPTIMIZERS.names()) >= 9


@pytest.mark.parametrize("name", list(OPTIMIZER_VARIANTS))
def test_training_continues_exactly_after_loading(tmp_path, name):
    model = _continuing_model(OPTIMIZER_VARIANTS[name]())
    rng = np.random.default_rng(5)
    batches = _train_batches(rng, 10)
    for x, y in batches[:5]:
        model.train_on_batch(x, y)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = neuralnet.models.load_model(path)
    assert loaded.optimizer.iterations == model.optimizer.iterations == 5
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    logs_original = [model.train_on_batch(x, y, return_dict=True) for x, y in batches[5:]]
    logs_loaded = [loaded.train_on_batch(x, y, return_dict=True) for x, y in batches[5:]]
    assert [log["loss"] for log in logs_loaded] == [log["loss"] for log in logs_original]
    _assert_same_arrays(_weights(loaded), _weights(model))
    ours, theirs = _optimizer_state(model), _optimizer_state(loaded)
    assert sorted(ours) == sorted(theirs)
    for key in ours:
        np.testing.assert_array_equal(theirs[key], ours[key], err_msg=key)
    assert loaded.optimizer.iterations == 10


def test_training_continues_exactly_after_load_weights(tmp_path):
    """The optimizer's state travels in weights files too (`.weights.h5` and `.safetensors`)."""
    for suffix in (".weights.h5", ".safetensors"):
        neuralnet.utils.set_random_seed(3)
        model = _continuing_model(optimizers.Adam(0.01, amsgrad=True))
        batches = _train_batches(np.random.default_rng(8), 8)
        for x, y in batches[:4]:
            model.train_on_batch(x, y)
        path = tmp_path / f"w{suffix}"
        model.save_weights(path)
        other = _continuing_model(optimizers.Adam(0.01, amsgrad=True))
        other.load_weights(path)
        assert other.optimizer.iterations == 4
        for x, y in batches[4:]:
            assert other.train_on_batch(x, y) == model.train_on_batch(x, y), suffix
        _assert_same_arrays(_weights(other), _weights(model))


def test_fit_continues_after_loading(tmp_path):
    model = _continuing_model("adam")
    rng = np.random.default_rng(1)
    x = _rng_normal(rng, 32, 4)
    y = [_rng_normal(rng, 32, 2), np.eye(3, dtype="float32")[rng.integers(0, 3, 32)]]
    model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = neuralnet.models.load_model(tmp_path / "m.keras")
    h1 = model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0).history
    h2 = loaded.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0).history
    assert h1["loss"] == h2["loss"]
    _assert_same_arrays(_weights(loaded), _weights(model))


# -- weights files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".weights.h5", ".safetensors", ".keras"])
@pytest.mark.parametrize("name", ["batchnorm_trained", "merging", "weights_functional",
                                  "sequential_in_functional_rmsprop", "deep_nesting",
                                  "functional_in_sequential_nesterov", "float64_model",
                                  "dict_io_frozen_loss_objects"])  # fmt: skip
def test_weights_load_into_the_same_architecture(tmp_path, name, suffix):
    model, xs = _build(name)
    path = tmp_path / f"file{suffix}"
    if suffix == ".keras":
        model.save(path)
    else:
        model.save_weights(path)
    neuralnet.utils.set_random_seed(999)  # a fresh model: other initial weights
    fresh, _ = ALL_CASES[name](np.random.default_rng(12345))
    assert not all(np.array_equal(a, b) for a, b in zip(_weights(fresh), _weights(model)))
    fresh.load_weights(path)
    _assert_same_arrays(_weights(fresh), _weights(model))
    _assert_same_arrays(_predict(fresh, xs), _predict(model, xs))
    if model.compiled:  # the same state, under other layer names (the fresh model's own)
        ours, theirs = _optimizer_state(model), _optimizer_state(fresh)
        _assert_same_arrays(list(theirs.values()), list(ours.values()))


def test_weights_of_a_compiled_model_load_into_an_uncompiled_one(tmp_path):
    model, xs = _build("weights_adam")
    model.save_weights(tmp_path / "w.weights.h5")
    plain = models.Sequential(
        [layers.Input((4,)), layers.Dense(5, activation="relu"), layers.BatchNormalization(),
         layers.Dense(2)],
    )  # fmt: skip
    plain.load_weights(tmp_path / "w.weights.h5")
    _assert_same_arrays(_predict(plain, xs), _predict(model, xs))
    assert not plain.compiled


def _other_architectures():
    """Models that differ from `_reference()` in one way each."""
    return {
        "wider": models.Sequential([layers.Input((4,)), layers.Dense(6), layers.Dense(2)]),
        "other_input": models.Sequential([layers.Input((3,)), layers.Dense(5), layers.Dense(2)]),
        "extra_layer": models.Sequential(
            [layers.Input((4,)), layers.Dense(5), layers.Dense(2), layers.Dense(2)]
        ),
        "fewer_layers": models.Sequential([layers.Input((4,)), layers.Dense(2)]),
        "no_bias": models.Sequential(
            [layers.Input((4,)), layers.Dense(5, use_bias=False), layers.Dense(2)]
        ),
        "other_class": models.Sequential(
            [layers.Input((4,)), layers.Dense(5), layers.PReLU(), layers.Dense(2)]
        ),
        "batchnorm": models.Sequential(
            [layers.Input((4,)), layers.Dense(5), layers.BatchNormalization(), layers.Dense(2)]
        ),
    }


def _reference():
    return models.Sequential([layers.Input((4,)), layers.Dense(5), layers.Dense(2)], name="ref")


@pytest.mark.parametrize("suffix", [".weights.h5", ".safetensors", ".keras"])
@pytest.mark.parametrize("other", list(_other_architectures()))
def test_weights_of_another_architecture_are_refused(tmp_path, suffix, other):
    path = tmp_path / f"ref{suffix}"
    reference = _reference()
    if suffix == ".keras":
        reference.save(path)
    else:
        reference.save_weights(path)
    model = _other_architectures()[other]
    before = _weights(model)
    with pytest.raises(ModelFileError) as info:
        model.load_weights(path)
    assert str(path) in str(info.value)
    _assert_same_arrays(_weights(model), before)


def test_refused_optimizer_state_leaves_weights_and_optimizer_unchanged(tmp_path):
    """A file whose layers fit but whose optimizer state does not (another optimizer) is refused
    whole: neither the weights nor the optimizer change."""
    source = _continuing_model(optimizers.Adam(0.01))
    batches = _train_batches(np.random.default_rng(2), 3)
    for x, y in batches:
        source.train_on_batch(x, y)
    source.save_weights(tmp_path / "adam.weights.h5")
    target = _continuing_model(optimizers.SGD(0.1, momentum=0.9))
    target.train_on_batch(*batches[0])
    before, state = _weights(target), _optimizer_state(target)
    with pytest.raises(ModelFileError):
        target.load_weights(tmp_path / "adam.weights.h5")
    _assert_same_arrays(_weights(target), before)
    after = _optimizer_state(target)
    for key in state:
        np.testing.assert_array_equal(after[key], state[key])


def test_load_weights_of_a_truncated_file_leaves_weights_unchanged(tmp_path):
    reference = _reference()
    reference.save_weights(tmp_path / "w.weights.h5")
    data = (tmp_path / "w.weights.h5").read_bytes()
    (tmp_path / "cut.weights.h5").write_bytes(data[: len(data) // 2])
    model = _reference()
    before = _weights(model)
    with pytest.raises(ModelFileError):
        model.load_weights(tmp_path / "cut.weights.h5")
    _assert_same_arrays(_weights(model), before)


# -- configs, JSON -----------------------------------------------------------------------------------


def _differs(a: list, b: list) -> bool:
    return any(x.size and not np.array_equal(x, y) for x, y in zip(a, b, strict=True))


STRUCTURE_CASES = [
    "dense_activations",
    "dict_io_frozen_loss_objects",
    "deep_nesting",
    "float64_model",
    "activation_layers",
    "initializers_regularizers",
    "reshape_and_noise",
    "merging",
    "two_in_two_out_adam",
    "sequential_in_functional_rmsprop",
    "functional_in_sequential_nesterov",
    "weights_functional",
]


@pytest.mark.parametrize("name", STRUCTURE_CASES)
def test_from_config_rebuilds_the_structure_with_new_weights(name):
    model, xs = _build(name)
    config = model.get_config()
    json.dumps(config)  # plain JSON
    rebuilt = type(model).from_config(config)
    assert type(rebuilt) is type(model)
    assert rebuilt.get_config() == config
    assert _summary(rebuilt) == _summary(model)
    assert rebuilt.count_params() == model.count_params()
    assert [w.shape for w in _weights(rebuilt)] == [w.shape for w in _weights(model)]
    assert _differs(_weights(rebuilt), _weights(model))
    assert [p.shape for p in _predict(rebuilt, xs)] == [p.shape for p in _predict(model, xs)]
    assert not rebuilt.compiled


def test_model_from_config_takes_a_functional_config():
    model, xs = _build("merging")
    rebuilt = models.Model.from_config(model.get_config())
    assert isinstance(rebuilt, models.Functional)
    assert rebuilt.get_config() == model.get_config()
    rebuilt.set_weights(model.get_weights())
    _assert_same_arrays(_predict(rebuilt, xs), _predict(model, xs))


def test_sequential_from_config_then_set_weights_predicts_the_same():
    model, xs = _build("initializers_regularizers")
    rebuilt = models.Sequential.from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    _assert_same_arrays(_predict(rebuilt, xs), _predict(model, xs))
    # the regularizers came back too: the same penalties
    assert rebuilt.losses == model.losses


@pytest.mark.parametrize("name", STRUCTURE_CASES)
def test_to_json_and_model_from_json(name):
    model, xs = _build(name)
    text = model.to_json()
    rebuilt = neuralnet.models.model_from_json(text)
    assert type(rebuilt) is type(model)
    assert json.loads(rebuilt.to_json()) == json.loads(text)
    assert _summary(rebuilt) == _summary(model)
    assert _differs(_weights(rebuilt), _weights(model))
    assert rebuilt.compiled == model.compiled
    if model.compiled:
        assert type(rebuilt.optimizer) is type(model.optimizer)
        assert rebuilt.optimizer.iterations == 0  # new optimizer, no state
    rebuilt.set_weights(model.get_weights())
    _assert_same_arrays(_predict(rebuilt, xs), _predict(model, xs))


def test_to_json_takes_json_dumps_arguments():
    model, _ = _build("merging")
    assert model.to_json(indent=2) != model.to_json()
    assert json.loads(model.to_json(indent=2)) == json.loads(model.to_json())


# -- clone_model -------------------------------------------------------------------------------------


def _independent(a, b) -> None:
    """No array of `a` shares memory with one of `b`, and changing `a` leaves `b` alone."""
    for x in a.weights:
        for y in b.weights:
            assert not np.shares_memory(np.asarray(x), np.asarray(y))
    before = _weights(b)
    a.set_weights([w + 1.0 for w in a.get_weights()])
    _assert_same_arrays(_weights(b), before)


@pytest.mark.parametrize("name", STRUCTURE_CASES)
def test_clone_model_same_structure_new_weights(name):
    model, xs = _build(name)
    clone = neuralnet.models.clone_model(model)
    assert type(clone) is type(model)
    assert clone.get_config() == model.get_config()
    assert _summary(clone) == _summary(model)
    assert _differs(_weights(clone), _weights(model))
    assert not clone.compiled
    clone.set_weights(model.get_weights())
    _assert_same_arrays(_predict(clone, xs), _predict(model, xs))
    _independent(clone, model)


def test_clone_keeps_a_shared_layer_shared():
    inp_a, inp_b = layers.Input((3,), name="a"), layers.Input((3,), name="b")
    shared = layers.Dense(4, name="shared")
    out = layers.Add()([shared(inp_a), shared(inp_b)])
    model = models.Model([inp_a, inp_b], out)
    clone = neuralnet.models.clone_model(model)
    cloned_shared = clone.get_layer("shared")
    assert cloned_shared is not shared
    assert len([layer for layer in clone.layers if layer.name == "shared"]) == 1
    assert len(clone.weights) == len(model.weights) == 2
    x = [np.ones((2, 3), "float32"), np.full((2, 3), 2.0, "float32")]
    expected = (x[0] + x[1]) @ cloned_shared.params["kernel"] + 2 * cloned_shared.params["bias"]
    np.testing.assert_allclose(clone.predict(x, verbose=0), expected, rtol=1e-6)
    _independent(clone, model)


def test_clone_nested_models():
    for name in ("sequential_in_functional_rmsprop", "functional_in_sequential_nesterov"):
        model, xs = _build(name)
        for recursive in (False, True):
            clone = neuralnet.models.clone_model(model, recursive=recursive)
            assert clone.get_config() == model.get_config()
            inner = [layer for layer in model.layers if isinstance(layer, models.Model)]
            cloned_inner = [layer for layer in clone.layers if isinstance(layer, models.Model)]
            assert len(inner) == len(cloned_inner) == 1
            assert cloned_inner[0] is not inner[0]
            assert type(cloned_inner[0]) is type(inner[0])
            _independent(clone, model)
            clone.set_weights(model.get_weights())
            _assert_same_arrays(_predict(clone, xs), _predict(model, xs))


def test_clone_function_is_called_once_per_layer():
    model, xs = _build("two_in_two_out_adam")
    seen: list[str] = []

    def rename(layer):
        seen.append(layer.name)
        config = layer.get_config()
        config["name"] = f"{layer.name}_copy"
        return type(layer).from_config(config)

    clone = neuralnet.models.clone_model(model, clone_function=rename)
    assert len(seen) == len(set(seen))
    assert "shared" in seen and "numbers" not in seen  # InputLayers are made anew, not cloned
    names = {layer.name for layer in clone.layers}
    assert "shared_copy" in names and "regression_copy" in names
    clone.set_weights(model.get_weights())
    _assert_same_arrays(_predict(clone, xs), _predict(model, xs))


def test_clone_function_recursive_reaches_nested_layers():
    model, _ = _build("sequential_in_functional_rmsprop")
    seen: list[str] = []

    def record(layer):
        seen.append(layer.name)
        return type(layer).from_config(layer.get_config())

    neuralnet.models.clone_model(model, clone_function=record, recursive=True)
    assert "inner_out" in seen and "inner_sequential" not in seen
    seen.clear()
    neuralnet.models.clone_model(model, clone_function=record, recursive=False)
    assert "inner_sequential" in seen and "inner_out" not in seen


def test_clone_with_input_tensors():
    model, xs = _build("weights_functional")
    new_a = layers.Input((4,), name="new_a")
    new_b = layers.Input((3,), name="new_b")
    clone = neuralnet.models.clone_model(model, input_tensors=[new_a, new_b])
    assert clone.inputs == [new_a, new_b]
    clone.set_weights(model.get_weights())
    _assert_same_arrays(_predict(clone, xs), _predict(model, xs))

    sequential, xs = _build("initializers_regularizers")
    new = layers.Input((5,), name="fresh_input")
    clone = neuralnet.models.clone_model(sequential, input_tensors=new)
    assert clone.inputs[0] is new
    clone.set_weights(sequential.get_weights())
    _assert_same_arrays(_predict(clone, xs), _predict(sequential, xs))
    with pytest.raises(ValueError):
        neuralnet.models.clone_model(model, input_tensors=[new_a])


def test_clone_rejects_bad_arguments():
    model, _ = _build("merging")
    with pytest.raises(TypeError):
        neuralnet.models.clone_model(model, clone_function="not callable")
    with pytest.raises(TypeError):
        neuralnet.models.clone_model(model, clone_function=lambda layer: "not a layer")
    with pytest.raises(TypeError):
        neuralnet.models.clone_model(model, unknown_argument=1)


# -- paths and errors ----------------------------------------------------------------------------------


def test_wrong_suffixes_are_keras_errors(tmp_path):
    model, _ = _build("merging")
    for name in ("m.h5", "m.hdf5", "m", "m.weights.h5", "m.keras.zip"):
        with pytest.raises(ValueError, match=r"\.keras"):
            model.save(tmp_path / name)
        with pytest.raises(ValueError, match=r"\.keras"):
            neuralnet.models.save_model(model, tmp_path / name)
    for name in ("w.h5", "w.keras", "w.weights", "w.hdf5"):
        with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
            model.save_weights(tmp_path / name)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_missing_files(tmp_path):
    model, _ = _build("merging")
    for load in (neuralnet.models.load_model, neuralnet.saving.load_model):
        with pytest.raises(FileNotFoundError):
            load(tmp_path / "missing.keras")
    for name in ("missing.weights.h5", "missing.safetensors", "missing.keras"):
        with pytest.raises(FileNotFoundError):
            model.load_weights(tmp_path / name)


def test_load_model_refuses_other_suffixes(tmp_path):
    model, _ = _build("merging")
    model.save_weights(tmp_path / "w.weights.h5")
    with pytest.raises(ValueError):
        neuralnet.models.load_model(tmp_path / "w.weights.h5")


def test_overwrite_false(tmp_path):
    model, _ = _build("merging")
    model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / "w.weights.h5")
    with pytest.raises(FileExistsError):
        model.save(tmp_path / "m.keras", overwrite=False)
    with pytest.raises(FileExistsError):
        model.save_weights(tmp_path / "w.weights.h5", overwrite=False)
    model.save(tmp_path / "m.keras", overwrite=True)


def test_saving_load_model_is_models_load_model(tmp_path):
    assert neuralnet.saving.load_model is neuralnet.models.load_model
    assert neuralnet.saving.save_model is neuralnet.models.save_model
    model, xs = _build("two_in_two_out_adam")
    neuralnet.saving.save_model(model, tmp_path / "a.keras")
    model.save(tmp_path / "b.keras")
    a = neuralnet.saving.load_model(tmp_path / "a.keras")
    b = neuralnet.models.load_model(os.fspath(tmp_path / "b.keras"))
    _assert_same_arrays(_predict(a, xs), _predict(b, xs))
    assert a.get_config() == b.get_config()
    assert a.optimizer.get_config() == b.optimizer.get_config()


# -- compile or not ---------------------------------------------------------------------------------


def test_uncompiled_model_saves_and_loads(tmp_path):
    model, xs = _build("activation_layers")
    assert not model.compiled
    model.save(tmp_path / "m.keras")
    for compile_ in (True, False):
        loaded = neuralnet.models.load_model(tmp_path / "m.keras", compile=compile_)
        assert not loaded.compiled
        assert loaded.optimizer is None
        _assert_same_arrays(_predict(loaded, xs), _predict(model, xs))


def test_load_with_compile_false_ignores_the_optimizer(tmp_path):
    model, xs = _build("optimizer_adam_amsgrad")
    assert model.optimizer.iterations > 0
    model.save(tmp_path / "m.keras")
    loaded = neuralnet.models.load_model(tmp_path / "m.keras", compile=False)
    assert not loaded.compiled
    assert loaded.optimizer is None
    _assert_same_arrays(_predict(loaded, xs), _predict(model, xs))
    _assert_same_arrays(_weights(loaded), _weights(model))
    loaded.compile(optimizer="adam", loss="mse")  # a new optimizer, from zero
    assert loaded.optimizer.iterations == 0
    loaded.train_on_batch(xs[0], np.zeros((7, 2), "float32"))
    assert loaded.optimizer.iterations == 1


def test_include_optimizer_false(tmp_path):
    model, xs = _build("optimizer_adam_amsgrad")
    neuralnet.models.save_model(model, tmp_path / "m.keras", include_optimizer=False)
    loaded = neuralnet.models.load_model(tmp_path / "m.keras")
    assert loaded.compiled  # the compile config is kept, as Keras
    assert loaded.optimizer.iterations == 0
    _assert_same_arrays(_predict(loaded, xs), _predict(model, xs))


def test_compiled_but_untrained_model_round_trips(tmp_path):
    """An optimizer that never took a step: Keras saves just `iterations` and the learning rate."""
    model = _continuing_model(optimizers.RMSprop(0.01, momentum=0.5))
    model.save(tmp_path / "m.keras")
    loaded = neuralnet.models.load_model(tmp_path / "m.keras")
    assert loaded.optimizer.iterations == 0
    batches = _train_batches(np.random.default_rng(4), 3)
    for x, y in batches:
        assert loaded.train_on_batch(x, y) == model.train_on_batch(x, y)
    _assert_same_arrays(_weights(loaded), _weights(model))


def test_unbuilt_sequential_saves_and_loads(tmp_path):
    model = models.Sequential([layers.Dense(3, activation="relu"), layers.Dense(2)], name="lazy")
    assert not model.built
    model.save(tmp_path / "m.keras")
    loaded = neuralnet.models.load_model(tmp_path / "m.keras")
    assert not loaded.built
    assert [type(layer) for layer in loaded.layers] == [layers.Dense, layers.Dense]
    assert loaded.predict(np.ones((2, 4), "float32"), verbose=0).shape == (2, 2)


def test_loaded_model_can_be_saved_again_identically(tmp_path):
    model, xs = _build("two_in_two_out_adam")
    model.save(tmp_path / "a.keras")
    loaded = neuralnet.models.load_model(tmp_path / "a.keras")
    loaded.save(tmp_path / "b.keras")
    again = neuralnet.models.load_model(tmp_path / "b.keras")
    _assert_same_arrays(_weights(again), _weights(model))
    _assert_same_arrays(_predict(again, xs), _predict(model, xs))
    assert json.loads(again.to_json()) == json.loads(model.to_json())


@pytest.mark.parametrize("rate", [np.inf, -1.0, np.nan])
def test_an_impossible_learning_rate_is_refused_before_anything_is_copied(tmp_path, rate):
    import h5py

    model = _continuing_model(optimizers.Adam(1e-3))
    rng = np.random.default_rng(0)
    x, y = _train_batches(rng, 1)[0]
    model.train_on_batch(x, y)
    path = str(tmp_path / "w.weights.h5")
    model.save_weights(path)
    with h5py.File(path, "r+") as handle:
        handle["optimizer/vars/1"][()] = rate
        handle["layers/dense/vars/0"][...] = 7.0  # would show if the layers were copied first
    before, state = _weights(model), _optimizer_state(model)
    with pytest.raises(ModelFileError, match=r"optimizer/vars/1 \(the learning rate\)"):
        model.load_weights(path)
    _assert_same_arrays(_weights(model), before)
    after = _optimizer_state(model)
    assert after.keys() == state.keys()
    _assert_same_arrays(list(after.values()), list(state.values()))


def test_saved_files_have_the_permissions_of_ordinary_files(tmp_path):
    model = _continuing_model(optimizers.SGD())
    mask = os.umask(0o022)
    try:
        model.save(str(tmp_path / "m.keras"))
        model.save_weights(str(tmp_path / "w.safetensors"))
    finally:
        os.umask(mask)
    for name in ("m.keras", "w.safetensors"):
        assert os.stat(tmp_path / name).st_mode & 0o777 == 0o644
