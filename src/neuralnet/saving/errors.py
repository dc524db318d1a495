"""The one error a model or weights file that cannot be loaded raises."""

from __future__ import annotations


class ModelFileError(ValueError):
    """A model or weights file is malformed, truncated, corrupted, hand-edited into something
    invalid, or describes something neuralnet cannot build.

    The message says what is wrong and where (the file, then the member, layer, field or array).
    It is a `ValueError`, so code that catches `ValueError` around `load_model` keeps working.
    Nothing half-built is returned and an existing model's weights are left as they were.
    """

    def __init__(self, message: str, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)
