"""One name table per family (layers, losses, optimizers, ...): names and aliases to classes or functions.

A `Registry` turns the identifiers users write (`'adam'`, `'mse'`, `{'class_name': 'Dense', 'config': ...}`)
into objects, and says clearly what it knows when a name is wrong.
"""

from __future__ import annotations

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
        self.plural = plural or (kind + "es" if kind.endswith("s") else kind + "s")
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
        all_names = list(names)
        # The class's own name too, unless a user's class would shadow one of the library's.
        if (
            own
            and own not in names
            and not (_is_library(self._entries.get(self._key(own))) and not _is_library(obj))
        ):
            all_names.append(own)
        for name in all_names:
            self._entries[self._key(name)] = obj
            self._spellings.setdefault(self._key(name), name)
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
        message = f"Unknown {self.kind} {name!r}."
        suggestion = self.closest(name)
        if suggestion is not None:
            message += f" Did you mean {suggestion!r}?"
        return message + f" Known {self.plural}: {', '.join(self.names())}."

    def closest(self, name: str) -> str | None:
        """The registered spelling closest to `name`: fewest typing edits (a swap of two neighbouring
        letters counts as one), then the most similar; `None` when nothing is close."""
        import difflib  # only when a name is misspelt: keeps `import neuralnet` fast

        key = self._key(name) if isinstance(name, str) else str(name)
        best = min(
            self._entries,
            key=lambda k: (
                _edit_distance(key.lower(), k.lower()),
                -difflib.SequenceMatcher(None, key, k).ratio(),
            ),
            default=None,
        )
        if best is None:
            return None
        if _edit_distance(key.lower(), best.lower()) <= max(2, len(key) // 3):
            return self._spellings[best]
        matches = difflib.get_close_matches(key, list(self._entries), n=1, cutoff=0.6)
        return self._spellings[matches[0]] if matches else None

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


def _is_library(obj: Any) -> bool:
    return obj is not None and (getattr(obj, "__module__", None) or "").startswith("neuralnet.")


def _edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of
    neighbouring characters each cost 1."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]
