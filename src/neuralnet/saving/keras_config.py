"""Model configs in Keras 3's own JSON form (`config.json` of a `.keras` file), both ways.

Keras writes every object as `{"module", "class_name", "config", "registered_name"}`; a functional
model lists its layers with the calls that connect them (`inbound_nodes`, whose tensors point back
with `keras_history = [layer name, node index, tensor index]`). Writing turns neuralnet's objects
into that form, with Keras's module names, so that Keras 3 loads the file. Reading builds only
classes found in neuralnet's registries or in `custom_objects`: the `module` a file names is never
imported, and nothing in it is evaluated.

Keras options neuralnet does not have are accepted when they are set to the value that means "off"
(`kernel_constraint: null`, `renorm: false`, `use_ema: false`, ...); any other value is a clear
`ModelFileError` naming the option and the layer.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

from neuralnet.saving.errors import ModelFileError

# Keras's module for each family of objects: what `module` says for the library's own classes.
KERAS_MODULES = {
    "layer": "keras.layers",
    "initializer": "keras.initializers",
    "regularizer": "keras.regularizers",
    "optimizer": "keras.optimizers",
    "schedule": "keras.optimizers.schedules",
    "loss": "keras.losses",
    "metric": "keras.metrics",
    "activation": "keras.activations",
    "callback": "keras.callbacks",
}
_FAMILY_OF_MODULE = {module: family for family, module in KERAS_MODULES.items()}
_MODEL_MODULES = {"Sequential": "keras", "Functional": "keras.src.models.functional"}

# Keras options without a neuralnet counterpart, with the values that leave them switched off.
# `_ANY` marks options that only matter when another one (above) is switched on.
_ANY = object()
INERT_KERAS_OPTIONS: dict[str, tuple[Any, ...]] = {
    "kernel_constraint": (None,),
    "bias_constraint": (None,),
    "beta_constraint": (None,),
    "gamma_constraint": (None,),
    "alpha_constraint": (None,),
    "depthwise_constraint": (None,),
    "pointwise_constraint": (None,),
    "quantization_config": (None,),
    "lora_rank": (None,),
    "lora_alpha": (None,),
    "sparse": (False,),
    "ragged": (False,),
    "optional": (False,),
    "synchronized": (False,),
    "renorm": (False,),
    "renorm_clipping": (None,),
    "renorm_momentum": (_ANY,),
    "input_axes": (None,),
    "output_axes": (None,),
    "use_ema": (False,),
    "ema_momentum": (_ANY,),
    "ema_overwrite_frequency": (None,),
    "loss_scale_factor": (None,),
    "gradient_accumulation_steps": (None,),
    "dtype": (None, "float32", "float64"),  # a loss's or metric's compute dtype
    "run_eagerly": (_ANY,),
    "steps_per_execution": (1,),
    "jit_compile": (_ANY,),
    "auto_scale_loss": (_ANY,),
    "data_format": ("channels_last", None),  # Flatten's, for the inputs neuralnet has
}

_FLOAT_DTYPES = ("float16", "float32", "float64")


class Context:
    """What reading needs besides the config: the user's classes and where we are (for errors)."""

    def __init__(self, custom_objects: dict[str, Any] | None, source: str) -> None:
        self.custom_objects = dict(custom_objects or {})
        self.source = source
        self.path: list[str] = []

    def where(self, *more: str) -> str:
        return " > ".join([self.source, *self.path, *more])

    def error(self, message: str, *more: str) -> ModelFileError:
        return ModelFileError(message, self.where(*more))


# -- registries -------------------------------------------------------------------------------------


def _registry(family: str) -> Any:
    if family == "layer":
        from neuralnet.layers.layer import LAYERS

        return LAYERS
    if family == "initializer":
        from neuralnet.initializers import INITIALIZERS

        return INITIALIZERS
    if family == "regularizer":
        from neuralnet.regularizers import REGULARIZERS

        return REGULARIZERS
    if family == "optimizer":
        from neuralnet.optimizers import OPTIMIZERS

        return OPTIMIZERS
    if family == "schedule":
        from neuralnet.schedules import SCHEDULES

        return SCHEDULES
    if family == "loss":
        from neuralnet.losses import LOSSES

        return LOSSES
    if family == "metric":
        from neuralnet.metrics import METRICS

        return METRICS
    if family == "activation":
        from neuralnet.activations import ACTIVATIONS

        return ACTIVATIONS
    if family == "callback":
        from neuralnet.callbacks import CALLBACKS

        return CALLBACKS
    raise ValueError(f"Unknown family {family!r}.")


def _is_library(cls: type) -> bool:
    return cls.__module__.startswith("neuralnet.")


def _family_of_key(key: str) -> str | None:
    """The family of a nested object in a config, from the argument's name."""
    if key.endswith("_initializer"):
        return "initializer"
    if key.endswith("_regularizer"):
        return "regularizer"
    if key == "activation":
        return "activation"
    if key == "learning_rate":
        return "schedule"
    return None


# -- writing ----------------------------------------------------------------------------------------


def keras_entry(obj: Any, family: str, config: dict[str, Any]) -> dict[str, Any]:
    """`{"module", "class_name", "config", "registered_name"}` for `obj`, as Keras writes it."""
    cls = obj if isinstance(obj, type) else type(obj)
    if _is_library(cls):
        from neuralnet.models.functional import Functional
        from neuralnet.models.sequential import Sequential

        if cls is Sequential:
            return {"module": "keras", "class_name": "Sequential", "config": config,
                    "registered_name": None}  # fmt: skip
        if cls is Functional:
            return {"module": _MODEL_MODULES["Functional"], "class_name": "Functional",
                    "config": config, "registered_name": "Functional"}  # fmt: skip
        return {"module": KERAS_MODULES[family], "class_name": cls.__name__, "config": config,
                "registered_name": None}  # fmt: skip
    # A class of the user's: its registered name ('package>Name'), or, unregistered, its own name,
    # as Keras writes it; loading then needs the class registered or in `custom_objects`.
    registered = _registry(family).name_of(cls) or cls.__name__
    return {"module": cls.__module__, "class_name": cls.__name__, "config": config,
            "registered_name": registered}  # fmt: skip


def object_to_keras(obj: Any, family: str) -> Any:
    """An optimizer, loss, metric, schedule, initializer, regularizer or activation in Keras's form
    (an activation of the library, with its default options, is its name, as Keras writes it)."""
    if family == "activation":
        from neuralnet import activations

        serialized = activations.serialize(obj)
        if isinstance(serialized, str):
            return serialized
        return keras_entry(obj, family, _config_to_keras(obj.get_config()))
    return keras_entry(obj, family, _config_to_keras(obj.get_config()))


def _config_to_keras(config: dict[str, Any]) -> dict[str, Any]:
    """A neuralnet config with its nested objects (`{'class_name', 'config'}`) in Keras's form."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        family = _family_of_key(key)
        if family is not None and isinstance(value, dict) and "class_name" in value:
            inner = _config_to_keras(value.get("config", {}))
            if "module" in value:  # an unregistered class of the user's (see its serialize)
                value = {"module": value["module"], "class_name": value["class_name"],
                         "config": inner, "registered_name": value["class_name"]}  # fmt: skip
            else:
                cls = _registry(family).lookup(value["class_name"])
                value = keras_entry(cls, family, inner)
        out[key] = value
    return out


def layer_to_keras(layer: Any) -> dict[str, Any]:
    """A layer (or a model used as a layer) in Keras's form, with its `build_config`."""
    from neuralnet.models.model import Model

    if isinstance(layer, Model):
        return model_to_keras(layer, compile_config=False)
    config = _config_to_keras(layer.get_config())
    config.pop("batch_input_shape", None)  # a Sequential writes an InputLayer instead
    if type(layer).__name__ != "InputLayer":
        config.setdefault("dtype", layer.dtype)
        if type(layer).__name__ not in _SEEDED_LAYERS:
            config.pop("seed", None)  # neuralnet seeds initializers by layer; Keras has no such key
        for key in _KERAS_LACKS.get(type(layer).__name__, ()):
            config.pop(key, None)
    entry = keras_entry(layer, "layer", config)
    shape = getattr(layer, "_build_input_shape", None)
    if layer.built and shape is not None and type(layer).__name__ != "InputLayer":
        entry["build_config"] = {"input_shape": _shape_to_json(shape)}
    return entry


_SEEDED_LAYERS = {"Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout",
                  "SpatialDropout1D", "SpatialDropout2D"}  # fmt: skip
# Keys of neuralnet's config that a Keras class's __init__ does not take.
_KERAS_LACKS = {"SpatialDropout1D": ("trainable",), "SpatialDropout2D": ("trainable",)}


def _shape_to_json(shape: Any) -> Any:
    if isinstance(shape, list):
        return [_shape_to_json(s) for s in shape]
    return [None if d is None else int(d) for d in shape]


def model_to_keras(model: Any, compile_config: bool = True) -> dict[str, Any]:
    """The whole `config.json` of a model: its config, `build_config` and `compile_config`."""
    from neuralnet.models.functional import Functional
    from neuralnet.models.sequential import Sequential

    if isinstance(model, Sequential) and type(model).get_config is Sequential.get_config:
        entry = keras_entry(model, "layer", _sequential_config(model))
        shape = model._input_layer.batch_shape if model._input_layer is not None else None
        entry["build_config"] = {"input_shape": None if shape is None else _shape_to_json(shape)}
    elif isinstance(model, Functional) and type(model).get_config is Functional.get_config:
        entry = keras_entry(model, "layer", _functional_config(model))
        entry["build_config"] = {"input_shape": None}
    else:
        config = _config_to_keras(model.get_config())
        entry = keras_entry(model, "layer", config)
        shape = getattr(model, "_build_input_shape", None)
        entry["build_config"] = {
            "input_shape": None if shape is None or not model.built else _shape_to_json(shape)
        }
    if compile_config:
        entry["compile_config"] = _compile_config(model)
    else:
        entry["compile_config"] = {}
    return entry


def _sequential_config(model: Any) -> dict[str, Any]:
    layers = []
    if model._input_layer is not None:
        layers.append(layer_to_keras(model._input_layer))
    layers += [layer_to_keras(layer) for layer in model.layers]
    config: dict[str, Any] = {
        "name": model.name,
        "trainable": model.trainable,
        "dtype": model.dtype,
        "layers": layers,
    }
    if model._input_layer is not None:
        config["build_input_shape"] = _shape_to_json(model._input_layer.batch_shape)
    return config


def _functional_config(model: Any) -> dict[str, Any]:
    from neuralnet.layers.input_layer import InputLayer

    graph = model.call_graph().graph
    node_index: dict[int, int] = {}
    calls_of: dict[int, list[Any]] = {}
    for step in graph.steps:
        calls = calls_of.setdefault(id(step.layer), [])
        node_index[id(step.node)] = len(calls)
        calls.append(step)

    def reference(tensor: Any) -> list[Any]:
        layer = tensor.node.layer
        index = 0 if isinstance(layer, InputLayer) else node_index[id(tensor.node)]
        return [layer.name, index, tensor.index]

    def keras_tensor(tensor: Any) -> dict[str, Any]:
        return {
            "class_name": "__keras_tensor__",
            "config": {
                "shape": _shape_to_json(tensor.shape),
                "dtype": tensor.dtype,
                "keras_history": reference(tensor),
            },
        }

    entries = []
    for layer in graph.layers:
        entry = layer_to_keras(layer)
        entry["name"] = layer.name
        nodes = []
        for step in calls_of.get(id(layer), []):
            tensors = [keras_tensor(t) for t in step.node.inputs]
            argument = tensors if layer.multi_input else tensors[0]
            kwargs = {} if step.training is None else {"training": step.training}
            nodes.append({"args": [argument], "kwargs": kwargs})
        entry["inbound_nodes"] = nodes
        entries.append(entry)

    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": entries,
        "input_layers": model.format_inputs([reference(t) for t in graph.input_tensors]),
        "output_layers": model.format_outputs([reference(t) for t in graph.output_tensors]),
    }


def _compile_config(model: Any) -> dict[str, Any]:
    if not getattr(model, "compiled", False):
        return {}
    loss, loss_weights, metrics, weighted_metrics = model.trainer._compile_args
    return {
        "optimizer": object_to_keras(model.optimizer, "optimizer"),
        "loss": _compile_value_to_keras(loss, "loss"),
        "loss_weights": loss_weights,
        "metrics": _compile_value_to_keras(metrics, "metric"),
        "weighted_metrics": _compile_value_to_keras(weighted_metrics, "metric"),
        "run_eagerly": False,
        "steps_per_execution": 1,
        "jit_compile": False,
    }


def _compile_value_to_keras(value: Any, family: str) -> Any:
    """A compile argument (a name, an object, or lists and dicts of them) in Keras's form."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return [_compile_value_to_keras(v, family) for v in value]
    if isinstance(value, dict):
        return {str(k): _compile_value_to_keras(v, family) for k, v in value.items()}
    if isinstance(value, type):
        raise TypeError(f"compile received the class {value.__name__}; pass an instance to save.")
    if callable(value) and not hasattr(value, "get_config"):
        name = _registry(family).name_of(value)
        if name is not None:
            return name
        function = getattr(value, "__name__", None)
        if not isinstance(function, str) or not function.isidentifier():
            raise ValueError(
                f"The {family} {value!r} has no name (a lambda?), so the model's compile settings "
                "cannot be saved: use a named function, a registered name or a class."
            )
        # Keras's form of a plain function; loading needs it in `custom_objects` (or registered).
        return {"module": getattr(value, "__module__", None), "class_name": "function",
                "config": function, "registered_name": function}  # fmt: skip
    return object_to_keras(value, family)


# -- reading ----------------------------------------------------------------------------------------


def _check_entry(entry: Any, ctx: Context, what: str) -> tuple[str, dict[str, Any]]:
    if not isinstance(entry, dict):
        raise ctx.error(f"expected a {what} object (a JSON object), found {_describe(entry)}.")
    class_name = entry.get("class_name")
    if not isinstance(class_name, str) or not class_name:
        raise ctx.error(f"a {what} needs a 'class_name' string, found {_describe(class_name)}.")
    config = entry.get("config", {})
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise ctx.error(f"the 'config' of {what} {class_name!r} must be an object, found "
                        f"{_describe(config)}.")  # fmt: skip
    for key in ("module", "registered_name"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            raise ctx.error(f"'{key}' of {what} {class_name!r} must be a string or null.")
    return class_name, config


def resolve_class(entry: dict[str, Any], family: str, ctx: Context) -> Any:
    """The class an entry names, from `custom_objects` or the registries, never by import."""
    class_name = entry["class_name"]
    registered = entry.get("registered_name")
    module = entry.get("module") or ""
    custom = ctx.custom_objects
    for key in (registered, class_name):
        if key is not None and key in custom:
            return custom[key]
    registry = _registry(family)
    keras_own = registered in (None, class_name) and (
        module == "" or module == "keras" or module.startswith(("keras.", "neuralnet."))
    )
    if registered is not None and registered not in (class_name, "Functional"):
        if registered in registry:
            return registry.lookup(registered)
    elif keras_own or registered == "Functional":
        if family == "layer" and class_name in ("Functional", "Sequential", "Model"):
            from neuralnet.models.functional import Functional
            from neuralnet.models.sequential import Sequential

            return Sequential if class_name == "Sequential" else Functional
        if class_name in registry:
            return registry.lookup(class_name)
    elif class_name in registry:
        found = registry.lookup(class_name)
        # A user's class (another module) that has the name of one of neuralnet's own is not it.
        if not (getattr(found, "__module__", None) or "").startswith("neuralnet."):
            return found
    shown = registered or class_name
    hint = (
        f" The file says it is a Keras {family} that neuralnet does not have; see "
        "docs/keras-differences.md for what loads."
        if keras_own
        else ""
    )
    raise ctx.error(
        f"unknown {family} class {shown!r} (module {module!r}).{hint} neuralnet builds only "
        "classes it knows and never imports the module a file names: register your class with "
        "@neuralnet.utils.register_keras_serializable(package=...) before loading, or pass "
        f"custom_objects={{{shown!r}: YourClass}} to load_model."
    )


def _accepted_arguments(cls: type) -> set[str]:
    names: set[str] = set()
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None:
            continue
        try:
            parameters = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            continue
        names.update(
            p.name
            for p in parameters
            if p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
        )
    names.discard("self")
    return names


def _drop_inert_options(cls: type, config: dict[str, Any], ctx: Context, what: str) -> None:
    """Remove Keras-only options that are switched off; a switched-on one is an error."""
    accepted = _accepted_arguments(cls)
    for key in list(config):
        if key in accepted:
            continue
        allowed = INERT_KERAS_OPTIONS.get(key)
        if allowed is None:
            continue  # the constructor reports an unknown argument
        value = config[key]
        if (
            _ANY in allowed
            or any(value == a and type(value) is type(a) for a in allowed)
            or (value is None and None in allowed)
        ):
            del config[key]
            continue
        raise ctx.error(
            f"the Keras option {key}={value!r} of {what} is not supported by neuralnet (only "
            f"{' or '.join(repr(a) for a in allowed)} is); see docs/keras-differences.md."
        )


def _dtype_from_keras(value: Any, ctx: Context, what: str) -> Any:
    if value is None or isinstance(value, str):
        name = value
    elif isinstance(value, dict):
        _, config = _check_entry(value, ctx, "dtype policy")
        if value["class_name"] not in ("DTypePolicy", "FloatDTypePolicy"):
            raise ctx.error(f"the dtype policy {value['class_name']!r} of {what} is not supported.")
        name = config.get("name")
    else:
        raise ctx.error(f"the dtype of {what} must be a string or a policy, found "
                        f"{_describe(value)}.")  # fmt: skip
    if name is not None and name not in _FLOAT_DTYPES:
        raise ctx.error(
            f"the dtype {name!r} of {what} is not supported: neuralnet computes in "
            f"{', '.join(_FLOAT_DTYPES)} (mixed-precision policies are not available)."
        )
    return name


def _config_from_keras(cls: type, config: dict[str, Any], family: str, ctx: Context,
                       what: str) -> dict[str, Any]:  # fmt: skip
    """A Keras config turned into the arguments of `cls`: nested objects built, dtype policies
    read, switched-off Keras options dropped."""
    out = dict(config)
    if "dtype" in out:
        out["dtype"] = _dtype_from_keras(out["dtype"], ctx, what)
        if (
            family != "layer"
            and out["dtype"] in (None, "float32", "float64")
            and ("dtype" not in _accepted_arguments(cls))
        ):
            del out["dtype"]
    for key, value in list(out.items()):
        nested_family = _family_of_key(key)
        if isinstance(value, str) and nested_family is not None and value in ctx.custom_objects:
            out[key] = object_from_keras(value, nested_family, ctx, f"{what}.{key}")
            continue
        if isinstance(value, dict) and value.get("class_name") == "__numpy__":
            out[key] = _numpy_config_value(value, ctx, f"{what}.{key}")  # an array argument
            continue
        if isinstance(value, dict) and "class_name" in value:
            module = value.get("module")
            if not isinstance(module, str):
                module = ""  # a wrong type is reported by _check_entry when the object is made
            nested_family = _FAMILY_OF_MODULE.get(module, nested_family)
            if module == "keras.constraints" or key.endswith("_constraint"):
                continue  # reported by _drop_inert_options
            if nested_family is None:
                raise ctx.error(f"cannot tell what kind of object {key!r} of {what} is.")
            out[key] = object_from_keras(value, nested_family, ctx, f"{what}.{key}")
    _drop_inert_options(cls, out, ctx, what)
    return out


def _numpy_config_value(value: dict[str, Any], ctx: Context, what: str) -> Any:
    """An array argument Keras wrote as `{"class_name": "__numpy__", "config": {"value": ...}}`
    (Rescaling's scale, Normalization's mean): its nested list of numbers."""
    config = value.get("config")
    inner = config.get("value") if isinstance(config, dict) else None

    def numbers(item: Any) -> bool:
        if isinstance(item, list):
            return all(numbers(v) for v in item)
        return isinstance(item, (int, float)) and not isinstance(item, bool)

    if inner is None or not numbers(inner):
        raise ctx.error(f"{what} is a NumPy value without a list of numbers.")
    return inner


def object_from_keras(entry: Any, family: str, ctx: Context, what: str) -> Any:
    """An optimizer, loss, metric, schedule, initializer, regularizer or activation from Keras's
    form (a name, or `{"module", "class_name", "config", ...}`)."""
    if isinstance(entry, str):
        custom = ctx.custom_objects.get(entry)
        if custom is not None:  # a name the user's `custom_objects` gives: its class or function
            return custom() if isinstance(custom, type) else custom
        return entry  # a name: the family's `get` resolves it
    if isinstance(entry, dict) and entry.get("class_name") == "function":
        # Keras writes a function (`keras.losses.mean_squared_error`) with its name as config.
        name = entry.get("config")
        if not isinstance(name, str) or not name:
            raise ctx.error(f"the function {family} of {what} needs its name as 'config'.")
        registered = entry.get("registered_name")
        for key in (registered, name):  # Keras writes registered_name "function" for its own
            if isinstance(key, str) and key != "function" and key in ctx.custom_objects:
                return ctx.custom_objects[key]
        if name not in _registry(family):
            raise ctx.error(
                f"unknown {family} function {name!r} in {what}: neuralnet never imports the "
                f"module a file names; pass custom_objects={{{name!r}: your_function}} to "
                f"load_model, or register it in neuralnet's {family} registry."
            )
        return name
    class_name, config = _check_entry(entry, ctx, family)
    cls = resolve_class(entry, family, ctx)
    arguments = _config_from_keras(cls, config, family, ctx, f"{what} ({class_name})")
    if family == "activation" and not isinstance(cls, type):
        return cls
    from_config = getattr(cls, "from_config", None)
    try:
        return from_config(arguments) if from_config is not None else cls(**arguments)
    except ModelFileError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as error:
        raise ctx.error(f"{class_name} could not be made from its config: {error}", what) from None


def layer_from_keras(entry: Any, ctx: Context) -> Any:
    """A layer, or a model used as a layer, from its Keras entry (no weights yet)."""
    class_name, config = _check_entry(entry, ctx, "layer")
    cls = resolve_class(entry, "layer", ctx)
    from neuralnet.models.model import Model

    name = config.get("name")
    label = f"{class_name} {name!r}" if isinstance(name, str) else class_name
    if isinstance(cls, type) and issubclass(cls, Model):
        return model_from_keras(entry, ctx, compile=False)
    ctx.path.append(label)
    try:
        arguments = _config_from_keras(cls, config, "layer", ctx, "the layer")
        try:
            return cls.from_config(arguments)
        except ModelFileError:
            raise
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as e:
            raise ctx.error(f"the layer could not be made from its config: {e}") from None
    finally:
        ctx.path.pop()


def model_from_keras(entry: Any, ctx: Context, compile: bool = True) -> Any:
    """A model from its Keras entry: built (weights allocated) when the config says how."""
    class_name, config = _check_entry(entry, ctx, "model")
    cls = resolve_class(entry, "layer", ctx)
    from neuralnet.models.functional import Functional
    from neuralnet.models.model import Model
    from neuralnet.models.sequential import Sequential

    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise ctx.error(f"the top-level object is a {class_name}, not a model.")
    name = config.get("name")
    ctx.path.append(f"{class_name} {name!r}" if isinstance(name, str) else class_name)
    try:
        # Sequential and Functional (and subclasses keeping their from_config) are read here, with
        # this context (`custom_objects`); a model class with its own from_config is called.
        if issubclass(cls, Sequential) and _from_config_of(cls, Sequential):
            model = _sequential_from_keras(cls, config, ctx)
        elif issubclass(cls, Functional) and _from_config_of(cls, Functional):
            model = _functional_from_keras(config, ctx)
        else:
            model = _subclassed_from_keras(cls, config, entry.get("build_config"), ctx)
        if compile and entry.get("compile_config"):
            compile_from_keras(model, entry["compile_config"], ctx)
        return model
    finally:
        ctx.path.pop()


def _from_config_of(cls: type, base: type) -> bool:
    """Whether `cls.from_config` is `base`'s own (not overridden by a subclass)."""
    return getattr(cls.from_config, "__func__", None) is getattr(base.from_config, "__func__", None)


def _sequential_from_keras(cls: type, config: dict[str, Any], ctx: Context) -> Any:
    entries = config.get("layers", [])
    if not isinstance(entries, list):
        raise ctx.error("'layers' must be a list.")
    _check_name(config.get("name"), ctx)
    trainable = _check_bool(config.get("trainable", True), "trainable", ctx)
    layers = [layer_from_keras(e, ctx) for e in entries]
    try:
        model = cls(name=config.get("name"), trainable=trainable)
        for layer in layers:
            model.add(layer, rebuild=False)
        shape = config.get("build_input_shape")
        if model._input_layer is not None:
            model.build()
        elif shape is not None and model.layers:
            model.build(tuple(check_shape(shape, ctx, "build_input_shape")))
    except ModelFileError:
        raise
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise ctx.error(f"the model could not be assembled: {error}") from None
    return model


def _functional_from_keras(config: dict[str, Any], ctx: Context) -> Any:
    from neuralnet.layers.input_layer import InputLayer
    from neuralnet.models.functional import Functional

    entries = config.get("layers")
    if not isinstance(entries, list) or not entries:
        raise ctx.error("a functional model needs a non-empty 'layers' list.")
    _check_name(config.get("name"), ctx)
    trainable = _check_bool(config.get("trainable", True), "trainable", ctx)
    layers: dict[str, Any] = {}
    pending: dict[str, list[Any]] = {}
    order: list[str] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ctx.error(f"each entry of 'layers' must be an object, found {_describe(entry)}.")
        inner = entry.get("config")
        name = entry.get("name", inner.get("name") if isinstance(inner, dict) else None)
        if not isinstance(name, str) or not name:
            raise ctx.error("each layer of a functional model needs a 'name' string.")
        if name in layers:
            raise ctx.error(f"two layers are named {name!r}.")
        nodes = entry.get("inbound_nodes", [])
        if not isinstance(nodes, list):
            raise ctx.error(f"'inbound_nodes' of layer {name!r} must be a list.")
        layers[name] = layer_from_keras(entry, ctx)
        pending[name] = list(nodes)
        order.append(name)

    produced: dict[tuple[str, int], list[Any]] = {}
    for name in order:
        layer = layers[name]
        if isinstance(layer, InputLayer):
            if pending[name]:
                raise ctx.error(f"the InputLayer {name!r} cannot have inbound nodes.")
            produced[(name, 0)] = [layer.output]
    done = {name: 0 for name in order}
    remaining = sum(len(v) for v in pending.values())
    while remaining:
        progress = False
        for name in order:
            while pending[name]:
                node = pending[name][0]
                call = _node_call(node, produced, layers, ctx, name)
                if call is None:
                    break
                args, kwargs = call
                try:
                    outputs = layers[name](*args, **kwargs)
                except ModelFileError:
                    raise
                except (ValueError, TypeError, KeyError, IndexError) as error:
                    raise ctx.error(f"calling layer {name!r} failed: {error}") from None
                produced[(name, done[name])] = (
                    list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
                )
                done[name] += 1
                pending[name].pop(0)
                remaining -= 1
                progress = True
        if not progress:
            stuck = next(n for n in order if pending[n])
            raise ctx.error(
                f"the inputs of layer {stuck!r} are never produced (a missing layer, a wrong "
                "node index, or a cycle)."
            )

    def io(value: Any, what: str) -> tuple[Any, str]:
        if isinstance(value, dict):
            return {str(k): _tensor_of(v, produced, ctx, what) for k, v in value.items()}, "dict"
        if _is_history(value):
            return _tensor_of(value, produced, ctx, what), "single"
        if isinstance(value, list) and value:
            return [_tensor_of(v, produced, ctx, what) for v in value], "list"
        raise ctx.error(f"'{what}' must name the model's tensors, found {_describe(value)}.")

    inputs, _ = io(config.get("input_layers"), "input_layers")
    outputs, _ = io(config.get("output_layers"), "output_layers")
    try:
        return Functional(inputs, outputs, name=config.get("name"), trainable=trainable)
    except (ValueError, TypeError) as error:
        raise ctx.error(f"the model could not be assembled: {error}") from None


def _is_history(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value[1:])
    )


def _tensor_of(reference: Any, produced: dict, ctx: Context, what: str) -> Any:
    if not _is_history(reference):
        raise ctx.error(f"{what}: a tensor reference must be [layer name, node index, tensor "
                        f"index], found {_describe(reference)}.")  # fmt: skip
    name, node, index = reference
    outputs = produced.get((name, node))
    if outputs is None or not 0 <= index < len(outputs):
        raise ctx.error(f"{what}: no tensor {reference!r} (layer {name!r}, node {node}, "
                        f"tensor {index}) is produced.")  # fmt: skip
    return outputs[index]


def _node_call(node: Any, produced: dict, layers: dict, ctx: Context,
               name: str) -> tuple[list, dict] | None:  # fmt: skip
    """The arguments of one recorded call, or None while an input is not produced yet."""
    where = f"inbound node of layer {name!r}"
    if not isinstance(node, dict):
        raise ctx.error(f"{where}: expected an object with 'args' and 'kwargs', found "
                        f"{_describe(node)}.")  # fmt: skip
    args = node.get("args", [])
    kwargs = node.get("kwargs", {}) or {}
    if not isinstance(args, list) or len(args) != 1:
        raise ctx.error(f"{where}: expected one positional argument (a tensor or a list of "
                        f"tensors), found {_describe(args)}.")  # fmt: skip
    if not isinstance(kwargs, dict):
        raise ctx.error(f"{where}: 'kwargs' must be an object.")
    call_kwargs: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key == "training" and (value is None or isinstance(value, bool)):
            if value is not None:
                call_kwargs["training"] = value
        elif key == "mask" and value is None:
            continue
        else:
            raise ctx.error(f"{where}: the call argument {key}={value!r} is not supported.")

    missing = False

    def tensor(value: Any) -> Any:
        nonlocal missing
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            inner = value.get("config")
            history = inner.get("keras_history") if isinstance(inner, dict) else None
            if not _is_history(history):
                raise ctx.error(f"{where}: a tensor without a valid 'keras_history'.")
            if history[0] not in layers:
                raise ctx.error(f"{where}: it reads layer {history[0]!r}, which the model does "
                                "not have.")  # fmt: skip
            key = (history[0], history[1])
            if key not in produced:
                missing = True
                return None
            return _tensor_of(history, produced, ctx, where)
        if isinstance(value, list) and value:
            return [tensor(v) for v in value]
        raise ctx.error(f"{where}: expected tensors, found {_describe(value)}.")

    argument = tensor(args[0])
    if missing:
        return None
    return [argument], call_kwargs


def _subclassed_from_keras(cls: type, config: dict[str, Any], build_config: Any,
                           ctx: Context) -> Any:  # fmt: skip
    arguments = _config_from_keras(cls, config, "layer", ctx, "the model")
    try:
        model = cls.from_config(arguments)
    except ModelFileError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
        raise ctx.error(f"the model could not be made from its config: {error}") from None
    shape = build_config.get("input_shape") if isinstance(build_config, dict) else None
    if shape is not None and not model.built:
        try:
            if isinstance(shape, list) and shape and isinstance(shape[0], list):
                model.build([tuple(check_shape(s, ctx, "build_config")) for s in shape])
            else:
                model.build(tuple(check_shape(shape, ctx, "build_config")))
        except ModelFileError:
            raise
        except (ValueError, TypeError, KeyError, IndexError) as error:
            raise ctx.error(f"the model could not be built: {error}") from None
    return model


def compile_from_keras(model: Any, config: Any, ctx: Context) -> None:
    """Compile `model` as `compile_config` says."""
    if not isinstance(config, dict):
        raise ctx.error("'compile_config' must be an object.")
    ctx.path.append("compile_config")
    try:
        optimizer = config.get("optimizer", "rmsprop")
        if isinstance(optimizer, dict):
            optimizer = object_from_keras(optimizer, "optimizer", ctx, "optimizer")
        elif not isinstance(optimizer, str):
            raise ctx.error(f"'optimizer' must be a name or an object, found "
                            f"{_describe(optimizer)}.")  # fmt: skip
        loss = _compile_value_from_keras(config.get("loss"), "loss", ctx, "loss")
        metrics = _compile_value_from_keras(config.get("metrics"), "metric", ctx, "metrics")
        weighted = _compile_value_from_keras(
            config.get("weighted_metrics"), "metric", ctx, "weighted_metrics"
        )
        loss_weights = config.get("loss_weights")
        _check_numbers(loss_weights, ctx, "loss_weights")
        for key in config:
            if key not in ("optimizer", "loss", "metrics", "weighted_metrics", "loss_weights"):
                allowed = INERT_KERAS_OPTIONS.get(key)
                if allowed is None:
                    raise ctx.error(f"unknown compile option {key!r}.")
        try:
            model.compile(optimizer=optimizer, loss=loss, metrics=metrics,
                          weighted_metrics=weighted, loss_weights=loss_weights)  # fmt: skip
        except ModelFileError:
            raise
        except (ValueError, TypeError, KeyError, IndexError) as error:
            raise ctx.error(f"compile failed: {error}") from None
    finally:
        ctx.path.pop()


def _compile_value_from_keras(value: Any, family: str, ctx: Context, what: str) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return [_compile_value_from_keras(v, family, ctx, what) for v in value]
    if isinstance(value, dict) and "class_name" in value:
        return object_from_keras(value, family, ctx, what)
    if isinstance(value, dict):
        return {str(k): _compile_value_from_keras(v, family, ctx, what) for k, v in value.items()}
    raise ctx.error(f"'{what}' holds {_describe(value)}, which is not a name or an object.")


# -- small checks -----------------------------------------------------------------------------------

MAX_DIMENSION = 2**31 - 1


def check_shape(shape: Any, ctx: Context, what: str) -> list[int | None]:
    """A shape from a file: a list of non-negative integers (or null), each of a sane size."""
    if not isinstance(shape, list) or len(shape) > 32:
        raise ctx.error(f"{what} must be a list of at most 32 sizes, found {_describe(shape)}.")
    for size in shape:
        if size is None:
            continue
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_DIMENSION:
            raise ctx.error(f"{what} holds the size {size!r}; sizes are integers from 0 to "
                            f"{MAX_DIMENSION} (or null).")  # fmt: skip
    return shape


def _check_name(name: Any, ctx: Context) -> None:
    if name is not None and (not isinstance(name, str) or not name or len(name) > 1000):
        raise ctx.error(f"a name must be a non-empty string, found {_describe(name)}.")


def _check_bool(value: Any, what: str, ctx: Context) -> bool:
    if not isinstance(value, bool):
        raise ctx.error(f"'{what}' must be true or false, found {_describe(value)}.")
    return value


def _check_numbers(value: Any, ctx: Context, what: str) -> None:
    if value is None:
        return
    values = value.values() if isinstance(value, dict) else value
    if isinstance(values, (int, float)) and not isinstance(values, bool):
        values = [values]
    if not isinstance(values, (list, type({}.values()))):
        raise ctx.error(f"'{what}' must be numbers, found {_describe(value)}.")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ctx.error(f"'{what}' must hold finite numbers, found {_describe(v)}.")


def _describe(value: Any) -> str:
    import reprlib  # bounded: a huge value in a file is not turned into a huge string

    text = reprlib.repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{type(value).__name__} {text}"


# -- any object -------------------------------------------------------------------------------------


def _family_of_object(obj: Any) -> str:
    from neuralnet import activations, callbacks, initializers, losses, metrics, regularizers
    from neuralnet.layers.layer import Layer
    from neuralnet.optimizers import Optimizer
    from neuralnet.schedules import LearningRateSchedule

    cls = obj if isinstance(obj, type) else type(obj)
    for base, family in (
        (Layer, "layer"), (Optimizer, "optimizer"), (LearningRateSchedule, "schedule"),
        (losses.Loss, "loss"), (metrics.Metric, "metric"), (initializers.Initializer, "initializer"),
        (regularizers.Regularizer, "regularizer"), (activations.Activation, "activation"),
        (callbacks.Callback, "callback"),
    ):  # fmt: skip
        if issubclass(cls, base):
            return family
    raise TypeError(f"Cannot serialize {obj!r}: it is not a neuralnet object.")


def serialize_keras_object(obj: Any) -> Any:
    """Any neuralnet object (a layer, model, optimizer, loss, metric, schedule, initializer,
    regularizer, activation or callback) in Keras 3's form, as `keras.saving.serialize_keras_object`."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    family = _family_of_object(obj)
    if family == "layer":
        from neuralnet.models.model import Model

        return model_to_keras(obj) if isinstance(obj, Model) else layer_to_keras(obj)
    if family == "callback":
        if not hasattr(obj, "get_config"):
            raise TypeError(
                f"{type(obj).__name__} has no get_config(): write one returning its __init__ "
                "arguments to serialize it."
            )
        return keras_entry(obj, family, _config_to_keras(obj.get_config()))
    return object_to_keras(obj, family)


def deserialize_keras_object(config: Any, custom_objects: dict[str, Any] | None = None,
                             family: str | None = None) -> Any:  # fmt: skip
    """The inverse of `serialize_keras_object`: builds only registered classes (or those in
    `custom_objects`); the family comes from `module` (or is found among the registries)."""
    ctx = Context(custom_objects, "deserialize_keras_object")
    if config is None or isinstance(config, (int, float, bool)):
        return config
    if not isinstance(config, dict):
        raise ctx.error(f"expected a config object, found {_describe(config)}.")
    class_name, _ = _check_entry(config, ctx, "object")
    module = config.get("module")
    if not isinstance(module, str):
        module = ""  # (_check_entry above refused any non-string module)
    if family is None:
        family = _FAMILY_OF_MODULE.get(module)
    if family is None and module in ("keras", "keras.src.models.functional"):
        family = "layer"
    if family is None and module.startswith("keras.callbacks"):
        family = "callback"
    if family is None:
        key = config.get("registered_name") or class_name
        custom = ctx.custom_objects.get(key, ctx.custom_objects.get(class_name))
        if isinstance(custom, type):  # the family of the user's class, not the first one tried
            try:
                family = _family_of_object(custom)
            except TypeError:
                family = None
        if family is None:
            family = next((f for f in KERAS_MODULES if key in _registry(f)), None)
        if family is None:
            raise ctx.error(
                f"unknown class {key!r}: register it with "
                "@neuralnet.utils.register_keras_serializable() or pass it in custom_objects."
            )
    if family == "layer":
        cls = resolve_class(config, "layer", ctx)
        from neuralnet.models.model import Model

        if isinstance(cls, type) and issubclass(cls, Model):
            return model_from_keras(config, ctx)
        return layer_from_keras(config, ctx)
    return object_from_keras(config, family, ctx, class_name)
