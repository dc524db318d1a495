"""Write docs/api/*.md, one page per API family, from the registries and the docstrings, so that
the reference cannot drift from the code (tests/test_api_reference.py fails when it has).

    .venv/bin/python docs/api/make_api_reference.py
"""

from __future__ import annotations

import inspect
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "src"))


def families() -> dict[str, tuple[str, object, str]]:
    """File stem -> (title, registry, how it is used)."""
    from neuralnet import activations, callbacks, initializers, losses, metrics, regularizers
    from neuralnet.layers import LAYERS
    from neuralnet.optimizers import schedules
    from neuralnet.optimizers.optimizer import OPTIMIZERS

    return {
        "layers": ("Layers", LAYERS, ("`neuralnet.layers.<Name>(...)`; saved in `.keras` files by "
                   "the name shown")),
        "activations": ("Activations", activations.ACTIVATIONS,
                        "`activation=\"<name>\"` on a layer, or `neuralnet.activations.get(name)`"),
        "losses": ("Losses", losses.LOSSES, "`model.compile(loss=\"<name>\")` or the class"),
        "metrics": ("Metrics", metrics.METRICS, "`model.compile(metrics=[\"<name>\"])` or the class"),
        "optimizers": ("Optimizers", OPTIMIZERS,
                       "`model.compile(optimizer=\"<name>\")` or the class"),
        "schedules": ("Learning-rate schedules", schedules.SCHEDULES,
                      "`optimizers.Adam(learning_rate=Schedule(...))`"),
        "initializers": ("Initializers", initializers.INITIALIZERS,
                         "`kernel_initializer=\"<name>\"` or the class"),
        "regularizers": ("Regularizers", regularizers.REGULARIZERS,
                         "`kernel_regularizer=\"<name>\"` or the class"),
        "callbacks": ("Callbacks", callbacks.CALLBACKS, "`model.fit(callbacks=[...])`"),
    }  # fmt: skip


def _signature(obj: object) -> str:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return ""
    parameters = [p for p in signature.parameters.values() if p.name != "self"]
    text = ", ".join(str(p).replace("'", '"') for p in parameters)
    return f"({text})"


def page(stem: str) -> str:
    title, registry, usage = families()[stem]
    lines = [f"# {title}", "", ("Generated from the code by `docs/api/make_api_reference.py`: do "
             "not edit by hand."), "", f"Used as: {usage}.", ""]  # fmt: skip
    aliases: dict[str, list[str]] = {}
    for spelling in registry.aliases():
        entry = registry.lookup(spelling)
        name = registry.name_of(entry)
        if name is not None and spelling != name:
            aliases.setdefault(name, []).append(spelling)
    for name, entry in registry.entries().items():
        if not (getattr(entry, "__module__", "") or "").startswith("neuralnet"):
            continue  # a user's class registered in this process
        lines.append(f"## `{name}`")
        lines.append("")
        others = sorted(set(aliases.get(name, [])) - {name})
        if others:
            lines.append("Also: " + ", ".join(f"`{a}`" for a in others) + ".")
            lines.append("")
        lines.append(f"`{entry.__module__}.{entry.__qualname__}{_signature(entry)}`")
        lines.append("")
        doc = inspect.getdoc(entry) or "(no docstring)"
        lines.append(doc)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write(folder: Path = HERE) -> list[Path]:
    written = []
    for stem in families():
        path = folder / f"{stem}.md"
        path.write_text(page(stem), encoding="utf-8")
        written.append(path)
    index = ["# API reference", "", ("One page per family, generated from the registries and the "
             "docstrings (`docs/api/make_api_reference.py`)."), ""]  # fmt: skip
    for stem, (title, registry, _) in families().items():
        index.append(f"- [{title}]({stem}.md): {len(registry.names())} entries")
    (folder / "README.md").write_text("\n".join(index) + "\n", encoding="utf-8")
    return written


if __name__ == "__main__":
    for path in write():
        print(os.path.relpath(path))
