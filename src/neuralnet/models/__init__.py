"""Models: `Sequential`, functional `Model(inputs, outputs)`, the training API they share, and
Keras's model-level functions (`load_model`, `save_model`, `model_from_json`, `clone_model`)."""

from __future__ import annotations

from typing import Any

from neuralnet.models.functional import Functional
from neuralnet.models.model import Model
from neuralnet.models.sequential import Sequential

__all__ = [
    "Functional",
    "Model",
    "Sequential",
    "clone_model",
    "load_model",
    "model_from_json",
    "save_model",
]


def __getattr__(name: str) -> Any:
    # `load_model` and `save_model` are `neuralnet.saving`'s own functions (the same objects, as in
    # Keras), imported on first use so that `import neuralnet` stays light.
    if name in ("load_model", "save_model"):
        from neuralnet import saving

        return getattr(saving, name)
    raise AttributeError(f"module 'neuralnet.models' has no attribute {name!r}")


def model_from_json(json_string: str, custom_objects: dict[str, Any] | None = None) -> Model:
    """A new model (fresh weights) from `model.to_json()`, compiled if the JSON says how."""
    from neuralnet.saving.keras_archive import parse_json
    from neuralnet.saving.keras_config import Context, model_from_keras

    text = json_string.encode("utf-8") if isinstance(json_string, str) else json_string
    config = parse_json(text, "model_from_json")
    return model_from_keras(config, Context(custom_objects, "model_from_json"))


def clone_model(model: Model, input_tensors: Any = None, clone_function: Any = None,
                call_function: Any = None, recursive: bool = False, **kwargs: Any) -> Model:  # fmt: skip
    """A new model with the same structure and new weights (Keras's `clone_model`): see
    `neuralnet.models.cloning`."""
    from neuralnet.models.cloning import clone_model as clone

    return clone(model, input_tensors=input_tensors, clone_function=clone_function,
                 call_function=call_function, recursive=recursive, **kwargs)  # fmt: skip
