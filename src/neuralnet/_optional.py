"""Import optional dependencies inside the function that needs them, with an error naming the extra."""

from __future__ import annotations

import importlib
from types import ModuleType


def import_optional(module: str, extra: str, purpose: str) -> ModuleType:
    """Import `module` or raise an ImportError that says which extra of neuralnet provides it.

    Args:
        module: The module to import, e.g. `"matplotlib.pyplot"`.
        extra: The name of the optional extra in `pyproject.toml`, e.g. `"plot"`.
        purpose: What the module is needed for, for the message.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        top = module.split(".")[0]
        raise ImportError(
            f"{purpose} needs the optional package '{top}', which is not installed. "
            f"Install it with: pip install 'neuralnet[{extra}]'"
        ) from error
