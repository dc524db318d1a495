"""Your own classes in model files.

Layers, models, losses, metrics, activations, regularizers, initializers and callbacks registered
with `utils.register_keras_serializable` (or passed as `custom_objects=`) save and load. An unknown
class name is a clear error that names it and says how to register it, and a file never makes
neuralnet import a module or call a function it names.

The classes are registered by a module fixture, which puts every registry back as it was afterwards,
so that no other test module sees them.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile

import numpy as np
import pytest

import neuralnet
import neuralnet.models
from neuralnet import (
    activations,
    callbacks,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    schedules,
)
from neuralnet.saving import ModelFileError, deserialize_keras_object, serialize_keras_object
from neuralnet.utils import register_keras_serializable

PACKAGE = "nn_test"

# -- the classes (registered by the `registered` fixture below) ------------------------------------


class RegInitializer(initializers.Initializer):
    """gain · N(0, 1)."""

    def __init__(self, gain=0.5, seed=None):
        super().__init__(seed)
        self.gain = gain

    def sample(self, shape, rng):
        return self.gain * rng.standard_normal(shape)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


class RegRegularizer(regularizers.Regularizer):
    """strength · Σ(w − center)²."""

    def __init__(self, strength=0.01, center=0.1):
        self.strength = strength
        self.center = center

    def __call__(self, w):
        return float(self.strength * np.sum((w - self.center) ** 2))

    def gradient(self, w):
        return 2.0 * self.strength * (w - self.center)

    def get_config(self):
        return {"strength": self.strength, "center": self.center}


class RegActivation(activations.Activation):
    """scale · tanh(x)."""

    def __init__(self, scale=1.5):
        self.scale = scale

    def forward(self, x):
        return self.scale * np.tanh(x)

    def backward(self, grad_y, x, y):
        return grad_y * (self.scale - y * y / self.scale)

    def get_config(self):
        return {"scale": self.scale}


class RegScale(layers.Layer):
    """y = a ⊙ x + c, with its own forward and backward."""

    def __init__(self, scale_initializer="ones", scale_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.scale_initializer = initializers.get(scale_initializer)
        self.scale_regularizer = regularizers.get(scale_regularizer)

    def build(self, input_shape):
        n = input_shape[-1]
        self.add_weight("scale", (n,), initializer=self.scale_initializer,
                        regularizer=self.scale_regularizer)  # fmt: skip
        self.add_weight("offset", (n,), initializer="zeros")

    def forward(self, x, *, training=False):
        self._x = x
        return x * self.params["scale"] + self.params["offset"]

    def backward(self, grad_y):
        self.grads["scale"][...] = np.sum(grad_y * self._x, axis=0)
        self.grads["offset"][...] = np.sum(grad_y, axis=0)
        return grad_y * self.params["scale"]

    def get_config(self):
        return {
            **super().get_config(),
            "scale_initializer": initializers.serialize(self.scale_initializer),
            "scale_regularizer": regularizers.serialize(self.scale_regularizer),
        }


class RegResidual(layers.Layer):
    """y = x + W₂ f(W₁ x + b₁) + b₂, written with `call()` composing Dense layers."""

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = activation
        self.inner = layers.Dense(units, activation=activation)
        self.project = layers.Dense(units)

    def call(self, x):
        return x + self.project(self.inner(x))

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation}


class RegModel(models.Model):
    """A subclassed model: RegScale, then a hidden Dense, then the head."""

    def __init__(self, units=5, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.scale = RegScale(scale_initializer="random_normal")
        self.hidden = layers.Dense(units, activation="tanh")
        self.head = layers.Dense(2)

    def call(self, inputs):
        return self.head(self.hidden(self.scale(inputs)))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class RegLoss(losses.Loss):
    """factor · mean squared error."""

    def __init__(self, factor=2.0, reduction="sum_over_batch_size", name=None):
        super().__init__(reduction=reduction, name=name)
        self.factor = factor

    def call(self, y_true, y_pred):
        return self.factor * np.mean((y_pred - y_true) ** 2, axis=-1)

    def gradient(self, y_true, y_pred):
        return self.factor * 2.0 * (y_pred - y_true) / y_pred.shape[-1]

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class RegMetric(metrics.Metric):
    """The share of predictions within `threshold` of the target."""

    direction = "up"

    def __init__(self, threshold=0.5, name="within_threshold", dtype=None):
        super().__init__(name, dtype)
        self.threshold = threshold
        self.reset_state()

    def reset_state(self):
        self.hits = 0.0
        self.count = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        error = np.abs(np.asarray(y_pred) - np.asarray(y_true).reshape(np.shape(y_pred)))
        self.hits += float(np.sum(error < self.threshold))
        self.count += float(error.size)

    def result(self):
        return self.hits / max(self.count, 1.0)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


class RegCallback(callbacks.Callback):
    def __init__(self, every=2, label="run"):
        super().__init__()
        self.every = every
        self.label = label

    def get_config(self):
        return {"every": self.every, "label": self.label}


class RegSchedule(schedules.LearningRateSchedule):
    """initial / (1 + step)."""

    def __init__(self, initial=0.01):
        self.initial = initial

    def __call__(self, step):
        return self.initial / (1.0 + step)

    def get_config(self):
        return {"initial": self.initial}


REGISTERED = [RegInitializer, RegRegularizer, RegActivation, RegScale, RegResidual, RegModel,
              RegLoss, RegMetric, RegCallback, RegSchedule]  # fmt: skip


# The same classes, never registered: `custom_objects` makes them known.
class PlainScale(RegScale):
    pass


class PlainResidual(RegResidual):
    pass


class PlainModel(RegModel):
    pass


class PlainLoss(RegLoss):
    pass


class PlainMetric(RegMetric):
    pass


class PlainActivation(RegActivation):
    pass


class PlainRegularizer(RegRegularizer):
    pass


class PlainInitializer(RegInitializer):
    pass


class PlainCallback(RegCallback):
    pass


def _registries():
    from neuralnet.layers.layer import LAYERS

    return [LAYERS, losses.LOSSES, metrics.METRICS, activations.ACTIVATIONS,
            optimizers.OPTIMIZERS, initializers.INITIALIZERS, regularizers.REGULARIZERS,
            schedules.SCHEDULES, callbacks.CALLBACKS]  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def registered():
    """Register the `Reg*` classes for this module only."""
    saved = [(r, dict(r._entries), dict(r._spellings), dict(r._canonical)) for r in _registries()]
    for cls in REGISTERED:
        register_keras_serializable(package=PACKAGE)(cls)
    yield
    for registry, entries, spellings, canonical in saved:
        registry._entries, registry._spellings, registry._canonical = entries, spellings, canonical


def _normal(rng, *shape):
    return rng.standard_normal(shape).astype("float32")


def _same(a, b) -> None:
    a = a if isinstance(a, list) else [a]
    b = b if isinstance(b, list) else [b]
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def _config_json(path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))


def _with_config(source, target, edit) -> None:
    """Copy the `.keras` file `source` to `target` with its config.json changed by `edit`."""
    with zipfile.ZipFile(source) as archive:
        members = {info.filename: archive.read(info.filename) for info in archive.infolist()}
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


# -- registered classes ---------------------------------------------------------------------------


def _everything_model(scale, residual, activation, regularizer, initializer, loss, metric):
    inp = layers.Input((4,), name="features")
    h = scale(scale_initializer=initializer(0.7, seed=3), scale_regularizer=regularizer(0.02),
              name="scale")(inp)  # fmt: skip
    h = layers.Dense(6, activation=activation(2.0), kernel_initializer=initializer(0.3, seed=1),
                     kernel_regularizer=regularizer(), bias_regularizer=regularizer(0.5, -0.2),
                     name="hidden")(h)  # fmt: skip
    h = residual(6, name="residual")(h)
    out = layers.Dense(2, activation=activation(), name="out")(h)  # default options
    model = models.Model(inp, out, name="everything")
    model.compile(optimizer=optimizers.Adam(0.01), loss=loss(3.0), metrics=[metric(0.3), "mae"],
                  weighted_metrics=[metric(0.1, name="weighted_within")])  # fmt: skip
    return model


def _train(model, steps=4, seed=0):
    rng = np.random.default_rng(seed)
    batches = [(_normal(rng, 8, 4), _normal(rng, 8, 2)) for _ in range(steps)]
    return [model.train_on_batch(x, y, return_dict=True) for x, y in batches]


REGISTERED_ARGS = (RegScale, RegResidual, RegActivation, RegRegularizer, RegInitializer, RegLoss,
                   RegMetric)  # fmt: skip
PLAIN_ARGS = (PlainScale, PlainResidual, PlainActivation, PlainRegularizer, PlainInitializer,
              PlainLoss, PlainMetric)  # fmt: skip
PLAIN_OBJECTS = {cls.__name__: cls for cls in PLAIN_ARGS}


def _check_everything_round_trip(tmp_path, classes, custom_objects):
    scale, residual, activation, regularizer, initializer, loss, metric = classes
    model = _everything_model(*classes)
    _train(model)
    x = _normal(np.random.default_rng(9), 7, 4)
    path = tmp_path / "everything.keras"
    model.save(path)
    loaded = neuralnet.models.load_model(path, custom_objects=custom_objects)

    _same(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    _same(loaded.get_weights(), model.get_weights())
    assert type(loaded.get_layer("scale")) is scale
    assert type(loaded.get_layer("residual")) is residual
    hidden = loaded.get_layer("hidden")
    assert type(hidden.activation) is activation and hidden.activation.scale == 2.0
    assert type(loaded.get_layer("out").activation) is activation
    assert type(hidden.regularizers["kernel"]) is regularizer
    assert hidden.regularizers["bias"].get_config() == {"strength": 0.5, "center": -0.2}
    assert type(loaded.get_layer("scale").scale_initializer) is initializer
    assert loaded.get_layer("scale").scale_initializer.gain == 0.7
    assert loaded.losses == model.losses  # the same penalties
    # compile config: the loss and metric classes are the custom ones, with their options
    assert type(loaded.loss) is loss and loaded.loss.factor == 3.0
    assert type(loaded.optimizer) is optimizers.Adam
    assert int(loaded.optimizer.iterations) == 4
    # and training goes on exactly as in the original, custom metrics included
    assert _train(loaded, seed=1) == _train(model, seed=1)
    kinds = {type(m) for m in loaded.metrics}
    assert metric in kinds
    thresholds = sorted(m.threshold for m in loaded.metrics if isinstance(m, metric))
    assert thresholds == [0.1, 0.3]
    return path


def test_registered_classes_save_and_load(tmp_path):
    path = _check_everything_round_trip(tmp_path, REGISTERED_ARGS, None)
    config = _config_json(path)
    names = {layer["class_name"]: layer["registered_name"] for layer in config["config"]["layers"]}
    assert names["RegScale"] == f"{PACKAGE}>RegScale"
    assert names["RegResidual"] == f"{PACKAGE}>RegResidual"
    assert config["compile_config"]["loss"]["registered_name"] == f"{PACKAGE}>RegLoss"


def test_registered_classes_load_by_name_too():
    """A registered class is known by 'package>Name' and by its plain name, in `get`."""
    assert isinstance(activations.get(f"{PACKAGE}>RegActivation"), RegActivation)
    assert isinstance(activations.get("RegActivation"), RegActivation)
    assert isinstance(losses.get(f"{PACKAGE}>RegLoss"), RegLoss)
    assert isinstance(initializers.get("RegInitializer"), RegInitializer)
    assert isinstance(regularizers.get("RegRegularizer"), RegRegularizer)


def test_unregistered_classes_load_with_custom_objects(tmp_path):
    path = _check_everything_round_trip(tmp_path, PLAIN_ARGS, PLAIN_OBJECTS)
    config = _config_json(path)
    entry = next(e for e in config["config"]["layers"] if e["class_name"] == "PlainScale")
    assert entry["module"] == __name__
    assert entry["registered_name"] == "PlainScale"


@pytest.mark.parametrize(
    "argument",
    [{"activation": PlainActivation(0.5)}, {"kernel_initializer": PlainInitializer(0.2)},
     {"kernel_regularizer": PlainRegularizer(0.1)}],
    ids=["activation", "initializer", "regularizer"],
)  # fmt: skip
def test_unregistered_nested_objects_save_and_load(tmp_path, argument):
    model = models.Sequential([layers.Input((3,)), layers.Dense(2, **argument)])
    model.save(tmp_path / "m.keras")
    loaded = neuralnet.models.load_model(tmp_path / "m.keras", custom_objects=PLAIN_OBJECTS)
    x = _normal(np.random.default_rng(0), 4, 3)
    _same(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_custom_layers_without_registration_save_and_load(tmp_path):
    """The classes Keras users leave unregistered most often: a layer, a layer made of layers, a
    loss and a metric (with the library's own activations, initializers and regularizers)."""
    inp = layers.Input((3,))
    h = PlainScale(scale_initializer="random_normal", scale_regularizer="l2", name="scale")(inp)
    h = PlainResidual(3, activation="relu", name="residual")(h)
    model = models.Model(inp, layers.Dense(2)(h))
    model.compile(optimizer="rmsprop", loss=PlainLoss(0.5), metrics=[PlainMetric(0.2)])
    _train_3(model)
    model.save(tmp_path / "m.keras")
    loaded = neuralnet.models.load_model(tmp_path / "m.keras", custom_objects=PLAIN_OBJECTS)
    x = _normal(np.random.default_rng(3), 5, 3)
    _same(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert type(loaded.loss) is PlainLoss and loaded.loss.factor == 0.5
    assert _train_3(loaded, seed=2) == _train_3(model, seed=2)


def _train_3(model, seed=0):
    rng = np.random.default_rng(seed)
    return [model.train_on_batch(_normal(rng, 6, 3), _normal(rng, 6, 2)) for _ in range(3)]


@pytest.mark.parametrize("model_class", [RegModel, PlainModel])
def test_subclassed_model_saves_and_loads(tmp_path, model_class):
    model = model_class(units=4, name="mine")
    model.compile(optimizer=optimizers.SGD(0.05, momentum=0.9), loss=RegLoss(1.5))
    rng = np.random.default_rng(0)
    batches = [(_normal(rng, 8, 3), _normal(rng, 8, 2)) for _ in range(6)]
    for x, y in batches[:3]:
        model.train_on_batch(x, y)
    model.save(tmp_path / "sub.keras")
    custom = {"PlainModel": PlainModel} if model_class is PlainModel else None
    loaded = neuralnet.models.load_model(tmp_path / "sub.keras", custom_objects=custom)
    assert type(loaded) is model_class
    assert loaded.units == 4 and loaded.name == "mine"
    x = _normal(rng, 5, 3)
    _same(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    _same(loaded.get_weights(), model.get_weights())
    assert type(loaded.loss) is RegLoss
    for x, y in batches[3:]:
        assert loaded.train_on_batch(x, y) == model.train_on_batch(x, y)
    _same(loaded.get_weights(), model.get_weights())


def test_custom_objects_reach_nested_models(tmp_path):
    """`custom_objects` is used inside a Sequential nested in a functional model (and by
    `model_from_json`)."""
    inner = models.Sequential([layers.Input((3,)), PlainScale(name="inner_scale"), layers.Dense(2)],
                              name="inner")  # fmt: skip
    inp = layers.Input((3,))
    model = models.Model(inp, PlainResidual(2, name="res")(inner(inp)))
    x = _normal(np.random.default_rng(0), 4, 3)
    model.save(tmp_path / "nested.keras")
    loaded = neuralnet.models.load_model(tmp_path / "nested.keras", custom_objects=PLAIN_OBJECTS)
    _same(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    rebuilt = neuralnet.models.model_from_json(model.to_json(), custom_objects=PLAIN_OBJECTS)
    rebuilt.set_weights(model.get_weights())
    _same(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0))
    rebuilt = models.Functional.from_config(model.get_config(), custom_objects=PLAIN_OBJECTS)
    assert type(rebuilt.get_layer("res")) is PlainResidual


def test_custom_objects_by_registered_name(tmp_path):
    """`custom_objects` may name a class by the registered name the file has ('package>Name'),
    and wins over the registered class."""
    model = models.Sequential([layers.Input((3,)), RegScale(name="s"), layers.Dense(2)])
    model.save(tmp_path / "m.keras")
    # Another class of the same name (weights files find arrays by class name, as Keras).
    other = type("RegScale", (RegScale,), {})
    loaded = neuralnet.models.load_model(
        tmp_path / "m.keras", custom_objects={f"{PACKAGE}>RegScale": other}
    )
    assert type(loaded.get_layer("s")) is other
    _same(loaded.get_weights(), model.get_weights())


def test_custom_objects_for_an_activation_saved_by_name(tmp_path):
    """A registered activation with its default options is saved as its name; `custom_objects`
    can still say which class that name is."""
    model = models.Sequential([layers.Input((3,)), layers.Dense(2, activation=RegActivation())])
    model.save(tmp_path / "m.keras")
    dense = _config_json(tmp_path / "m.keras")["config"]["layers"][1]
    assert dense["config"]["activation"] == f"{PACKAGE}>RegActivation"
    loaded = neuralnet.models.load_model(tmp_path / "m.keras")
    assert type(loaded.layers[0].activation) is RegActivation
    loaded = neuralnet.models.load_model(
        tmp_path / "m.keras", custom_objects={f"{PACKAGE}>RegActivation": PlainActivation}
    )
    assert type(loaded.layers[0].activation) is PlainActivation


def test_keras_function_entries_load(tmp_path):
    """Keras 3 writes `compile(loss=keras.losses.mean_squared_error)` as a function entry."""

    def edit(config):
        config["compile_config"]["loss"] = {"module": "builtins", "class_name": "function",
                                            "config": "mean_squared_error",
                                            "registered_name": "function"}  # fmt: skip
        config["compile_config"]["metrics"] = [
            {"module": "keras.src.metrics", "class_name": "function",
             "config": "mean_absolute_error", "registered_name": "function"}
        ]  # fmt: skip

    path = _tamper(tmp_path, edit, compile_=True)
    loaded = neuralnet.models.load_model(path)
    assert loaded.loss == "mean_squared_error"
    rng = np.random.default_rng(0)
    logs = loaded.train_on_batch(_normal(rng, 4, 3), _normal(rng, 4, 2), return_dict=True)
    assert sorted(logs) == ["loss", "mean_absolute_error"]


def test_plain_function_metric_saves_and_loads_with_custom_objects(tmp_path):
    def within_point_two(y_true, y_pred):
        return (np.abs(y_pred - y_true) <= 0.2).mean(axis=-1)

    model = models.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse", metrics=[within_point_two])
    model.save(tmp_path / "m.keras")
    entry = _config_json(tmp_path / "m.keras")["compile_config"]["metrics"][0]
    assert entry["class_name"] == "function" and entry["config"] == "within_point_two"
    with pytest.raises(ModelFileError, match="within_point_two.*custom_objects"):
        neuralnet.models.load_model(tmp_path / "m.keras")
    loaded = neuralnet.models.load_model(
        tmp_path / "m.keras", custom_objects={"within_point_two": within_point_two}
    )
    rng = np.random.default_rng(0)
    logs = loaded.train_on_batch(_normal(rng, 4, 3), _normal(rng, 4, 2), return_dict=True)
    assert "within_point_two" in logs
    assert neuralnet.models.load_model(tmp_path / "m.keras", compile=False).compiled is False


# -- unknown classes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "name"),
    [(PlainScale, "PlainScale"), (PlainResidual, "PlainResidual"), (PlainModel, "PlainModel")],
)
def test_unknown_class_is_a_clear_error(tmp_path, cls, name):
    if cls is PlainModel:
        model = PlainModel(3)
        model.build((None, 3))
    else:
        args = (2,) if cls is PlainResidual else ()
        model = models.Sequential([layers.Input((2,)), cls(*args)])
    model.save(tmp_path / "m.keras")
    with pytest.raises(ModelFileError) as info:
        neuralnet.models.load_model(tmp_path / "m.keras")
    message = str(info.value)
    assert repr(name) in message
    assert "register_keras_serializable" in message
    assert "custom_objects" in message
    assert str(tmp_path / "m.keras") in message


@pytest.mark.parametrize(
    ("where", "name"),
    [("loss", "PlainLoss"), ("metric", "PlainMetric"), ("activation", "PlainActivation"),
     ("regularizer", "PlainRegularizer"), ("initializer", "PlainInitializer")],
)  # fmt: skip
def test_unknown_nested_class_is_a_clear_error(tmp_path, where, name):
    """A file naming a loss, metric, activation, regularizer or initializer neuralnet does not
    know (written with registered classes, then renamed in the file)."""
    model = _everything_model(*REGISTERED_ARGS)
    model.save(tmp_path / "m.keras")
    text = tmp_path / "m.keras"

    def rename(config):
        old = {"loss": "RegLoss", "metric": "RegMetric", "activation": "RegActivation",
               "regularizer": "RegRegularizer", "initializer": "RegInitializer"}[where]  # fmt: skip
        raw = json.dumps(config).replace(f"{PACKAGE}>{old}", name).replace(old, name)
        config.clear()
        config.update(json.loads(raw))

    _with_config(text, tmp_path / "renamed.keras", rename)
    with pytest.raises(ModelFileError) as info:
        neuralnet.models.load_model(tmp_path / "renamed.keras")
    message = str(info.value)
    assert name in message
    assert "register_keras_serializable" in message and "custom_objects" in message


DUMMY_MODULE = "nn_test_dummy_module_never_imported"


def _tamper(tmp_path, edit, compile_=False):
    model = models.Sequential([layers.Input((3,)), layers.Dense(2, name="d")], name="victim")
    if compile_:
        model.compile(optimizer="sgd", loss="mse")
    model.save(tmp_path / "clean.keras")
    _with_config(tmp_path / "clean.keras", tmp_path / "evil.keras", edit)
    return tmp_path / "evil.keras"


def _foreign_imports(before: set[str]) -> set[str]:
    """Modules imported since `before` that are neither neuralnet's nor the standard library's
    (loading may import its own parts lazily)."""
    return {
        name
        for name in set(sys.modules) - before
        if name.split(".")[0] not in ("neuralnet", *sys.stdlib_module_names)
    }


def _calls_of_os_system(monkeypatch):
    calls = []
    monkeypatch.setattr(os, "system", lambda *args, **kwargs: calls.append(args) or 0)
    return calls


@pytest.mark.parametrize("module", ["os", DUMMY_MODULE])
def test_a_file_naming_a_module_imports_and_calls_nothing(tmp_path, monkeypatch, module):
    calls = _calls_of_os_system(monkeypatch)
    canary = tmp_path / "canary"

    def edit(config):
        entry = config["config"]["layers"][1]
        entry.update({"module": module, "class_name": "system", "registered_name": None,
                      "config": {"command": f"touch {canary}", "name": "d"}})  # fmt: skip

    path = _tamper(tmp_path, edit)
    before = set(sys.modules)
    for safe_mode in (True, False):
        with pytest.raises(ModelFileError) as info:
            neuralnet.models.load_model(path, safe_mode=safe_mode)
        assert "'system'" in str(info.value)
    assert DUMMY_MODULE not in sys.modules
    assert _foreign_imports(before) == set()
    assert calls == []
    assert not canary.exists()


@pytest.mark.parametrize("key", ["loss", "metrics", "optimizer"])
def test_a_compile_config_naming_a_function_calls_nothing(tmp_path, monkeypatch, key):
    calls = _calls_of_os_system(monkeypatch)

    def edit(config):
        entry = {"module": DUMMY_MODULE if key != "loss" else "os", "class_name": "function",
                 "config": "system", "registered_name": "system"}  # fmt: skip
        if key == "optimizer":
            entry = {"module": DUMMY_MODULE, "class_name": "system", "config": {},
                     "registered_name": None}  # fmt: skip
        config["compile_config"][key] = [entry] if key == "metrics" else entry

    path = _tamper(tmp_path, edit, compile_=True)
    before = set(sys.modules)
    with pytest.raises(ModelFileError) as info:
        neuralnet.models.load_model(path)
    assert "system" in str(info.value)
    assert DUMMY_MODULE not in sys.modules
    assert _foreign_imports(before) == set()
    assert calls == []
    # compile=False never reads the compile config
    loaded = neuralnet.models.load_model(path, compile=False)
    assert not loaded.compiled


def test_a_library_name_under_a_foreign_module_is_not_the_library_class(tmp_path):
    """`{"module": "mypackage", "class_name": "Dense"}` is somebody's own Dense, not neuralnet's."""

    def edit(config):
        config["config"]["layers"][1]["module"] = "mypackage.layers"
        config["config"]["layers"][1]["registered_name"] = "Dense"

    path = _tamper(tmp_path, edit)
    with pytest.raises(ModelFileError, match="'Dense'.*custom_objects"):
        neuralnet.models.load_model(path)
    loaded = neuralnet.models.load_model(path, custom_objects={"Dense": layers.Dense})
    assert isinstance(loaded.get_layer("d"), layers.Dense)


# -- serialize_keras_object / deserialize_keras_object ---------------------------------------------


@pytest.mark.parametrize(
    "obj",
    [RegCallback(every=3, label="x"), RegLoss(4.0), RegMetric(0.25, name="m"), RegActivation(0.5),
     RegRegularizer(0.3, 0.2), RegInitializer(2.0, seed=5), RegSchedule(0.5), RegScale(name="sc"),
     RegResidual(3, activation="relu", name="rr")],
    ids=lambda obj: type(obj).__name__,
)  # fmt: skip
def test_serialize_round_trip_of_registered_objects(obj):
    config = serialize_keras_object(obj)
    assert config["registered_name"] == f"{PACKAGE}>{type(obj).__name__}"
    assert json.loads(json.dumps(config)) == config
    again = deserialize_keras_object(config)
    assert type(again) is type(obj)
    assert _without_dtype(again.get_config()) == _without_dtype(obj.get_config())


def _without_dtype(config):
    """A layer's config without `dtype` (Keras's form always says it; the layer's own only when
    it was given)."""
    return {k: v for k, v in config.items() if k != "dtype"}


def test_serialize_round_trip_with_custom_objects():
    for obj in (PlainCallback(every=7), PlainLoss(0.5), PlainMetric(0.9), PlainScale(name="p")):
        config = serialize_keras_object(obj)
        name = type(obj).__name__
        assert config["registered_name"] == name
        with pytest.raises(ModelFileError, match=f"{name}.*custom_objects"):
            deserialize_keras_object(config)
        again = deserialize_keras_object(config, custom_objects={name: type(obj)})
        assert type(again) is type(obj)
        assert _without_dtype(again.get_config()) == _without_dtype(obj.get_config())


def test_library_callbacks_serialize_where_they_define_get_config():
    from neuralnet.callbacks import CALLBACKS

    defined = 0
    for name in CALLBACKS.names():
        cls = CALLBACKS.lookup(name)
        has_config = "get_config" in {k for klass in cls.__mro__ for k in vars(klass)}
        try:
            instance = cls()
        except TypeError:
            continue  # needs arguments (LambdaCallback's functions, CSVLogger's file...)
        if has_config:
            defined += 1
            config = serialize_keras_object(instance)
            again = deserialize_keras_object(config)
            assert type(again) is cls and again.get_config() == instance.get_config()
        else:
            with pytest.raises(TypeError, match="get_config"):
                serialize_keras_object(instance)
    assert defined >= 0  # today no library callback defines get_config; the test covers both


def test_register_keras_serializable_rejects_other_classes():
    with pytest.raises(TypeError, match="not a subclass"):
        register_keras_serializable()(type("Nothing", (), {}))


def test_a_class_of_yours_named_like_a_library_class_does_not_shadow_it(tmp_path):
    from neuralnet.layers.layer import LAYERS

    @neuralnet.utils.register_keras_serializable(package="shadow")
    class Dense(layers.Dense):  # the user's own `Dense`
        pass

    assert LAYERS.lookup("Dense") is layers.Dense
    assert LAYERS.lookup("shadow>Dense") is Dense
    model = models.Sequential(
        [layers.Input((3,)), Dense(2, name="mine"), layers.Dense(1, name="theirs")]
    )
    model.save(str(tmp_path / "m.keras"))
    loaded = neuralnet.models.load_model(str(tmp_path / "m.keras"))
    assert type(loaded.get_layer("mine")) is Dense
    assert type(loaded.get_layer("theirs")) is layers.Dense
