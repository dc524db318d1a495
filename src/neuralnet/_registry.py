"""One name table per family (layers, losses, optimizers, ...): names and aliases to classes or functions.

A `Registry` turns the identifiers users write (`'adam'`, `'mse'`, `{'class_name': 'Dense', 'config': ...}`)
into objects, and says clearly what it knows when a name is wrong.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any


class Registry:
    """A table from names to the classes or functions of one family.

    Args:
        kind: What one entry is called in messages, e.g. `"loss"`.
        plural: The plural for messages; `kind + "s"` when `None`.
        case_sensitive: Whether `'Adam'` and `'adam'` are different names.
    """

    def __init__(self, kind: str, plural: str | None = None, case_sensitive: bool = True) -> None:
        self.kind = kind
        self.plural = plural or kind + "s"
        self.case_sensitive = case_sensitive
        self._entries: dict[str, Any] = {}  # key (lower-cased if case-insensitive) -> entry
        self._spellings: dict[str, str] = {}  # key -> the name as registered
        self._canonical: dict[int, str] = {}  # id(entry) -> saved name

    def _key(self, name: str) -> str:
        return name if self.case_sensitive else name.lower()

    def register(self, *names: str) -> Callable[[Any], Any]:
        """Decorator: register a class or function under `names` (the first is its saved name).

        A class is also registered under its own `__name__`, as Keras accepts class names.
        """

        def decorator(obj: Any) -> Any:
            self.add(obj, *names)
            return obj

        return decorator

    def add(self, obj: Any, *names: str) -> None:
        """Register `obj` under `names`; the first name is the one `name_of` returns."""
        own = getattr(obj, "__name__", None)
        all_names = list(names) + ([own] if own and own not in names else [])
        for name in all_names:
            self._entries[self._key(name)] = obj
            self._spellings[self._key(name)] = name
        self._canonical[id(obj)] = all_names[0]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._key(name) in self._entries

    def lookup(self, name: str) -> Any:
        """The entry registered as `name`; a `ValueError` naming the closest names if there is none."""
        try:
            return self._entries[self._key(name)]
        except KeyError:
            raise ValueError(self.unknown_message(name)) from None

    def unknown_message(self, name: str) -> str:
        """`Unknown loss 'x'. Did you mean 'y'? Known losses: ...`."""
        matches = difflib.get_close_matches(self._key(name), list(self._entries), n=1, cutoff=0.6)
        message = f"Unknown {self.kind} {name!r}."
        if matches:
            message += f" Did you mean {self._spellings[matches[0]]!r}?"
        return message + f" Known {self.plural}: {', '.join(self.names())}."

    def names(self) -> list[str]:
        """The saved name of every entry, sorted: one per class or function."""
        return sorted(set(self._canonical.values()))

    def aliases(self) -> list[str]:
        """Every accepted spelling, class names and aliases included."""
        return sorted(self._spellings.values())

    def name_of(self, obj: Any) -> str | None:
        """The saved name of a registered class or function, or of an instance of a registered class."""
        name = self._canonical.get(id(obj))
        return name if name is not None else self._canonical.get(id(type(obj)))

    def entries(self) -> dict[str, Any]:
        """Saved name -> class or function, sorted by name."""
        by_name = {self._canonical[id(obj)]: obj for obj in self._entries.values()}
        return dict(sorted(by_name.items()))
