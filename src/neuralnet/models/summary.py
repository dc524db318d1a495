"""`model.summary()`: a table of the layers, their output shapes and parameter counts, as Keras 3 prints it."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from typing import Any

from neuralnet.layers.layer import Layer, shape_str

_UNICODE = {
    "top": ("┏", "━", "┳", "┓"), "head": ("┃", "┃", "┃"), "under_head": ("┡", "━", "╇", "┩"),
    "row": ("│", "│", "│"), "between": ("├", "─", "┼", "┤"), "bottom": ("└", "─", "┴", "┘"),
}  # fmt: skip
_ASCII = {
    "top": ("+", "=", "+", "+"), "head": ("|", "|", "|"), "under_head": ("+", "=", "+", "+"),
    "row": ("|", "|", "|"), "between": ("+", "-", "+", "+"), "bottom": ("+", "-", "+", "+"),
}  # fmt: skip


def readable_size(num_bytes: float) -> str:
    """`13.25 KB`: bytes in units of 1024, two decimals (Keras's format)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if num_bytes / 1024 < 1:
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024
    return f"{num_bytes:.2f} PB"


def _output_shape(layer: Layer) -> str:
    try:
        shape = layer.output_shape
    except (AttributeError, ValueError):
        return "?"
    return shape_str(shape)


def _connections(layer: Layer, model: Any) -> str:
    steps = model.call_graph().graph.steps
    nodes = [n for n in layer._inbound_nodes if any(n is step.node for step in steps)]
    if not nodes:
        return "-"
    parts = []
    for node in nodes:  # a shared layer lists the inputs of each of its calls
        for tensor in node.inputs:
            producer = tensor.node.layer if tensor.node is not None else None
            if producer is None:
                continue
            node_index = (
                producer._inbound_nodes.index(tensor.node)
                if tensor.node in producer._inbound_nodes
                else 0
            )
            parts.append(f"{producer.name}[{node_index}][{tensor.index}]")
    return ", ".join(parts) or "-"


def _rows(
    model: Any, functional: bool, expand_nested: bool, show_trainable: bool, depth: int = 0
) -> list[list[str]]:
    rows = []
    for layer in model.layers:
        indent = "  " * depth
        row = [
            f"{indent}{layer.name} ({type(layer).__name__})",
            _output_shape(layer),
            f"{layer.count_params():,}",
        ]
        if functional:
            row.append(_connections(layer, model) if depth == 0 else "")
        if show_trainable:
            row.append("Y" if layer.trainable else "N")
        rows.append(row)
        if expand_nested and hasattr(layer, "layers") and layer.layers:
            rows += _rows(layer, functional, expand_nested, show_trainable, depth + 1)
    return rows


def print_summary(
    model: Any,
    line_length: int | None = None,
    print_fn: Callable[[str], Any] | None = None,
    expand_nested: bool = False,
    show_trainable: bool = False,
) -> None:
    """Print (or pass line by line to `print_fn`) the summary table of `model`."""
    if not model.built:
        raise ValueError(
            f"Model {model.name!r} has not been built yet, so its layers have no shapes. Build it by "
            "giving the first layer an input shape (input_shape=... or Input(shape=...)), by calling "
            "build((None, n_features)), or by calling fit/predict on data."
        )
    from neuralnet.models.functional import Functional

    functional = isinstance(model, Functional)
    headers = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if functional else [])
    if show_trainable:
        headers.append("Trainable")
    rows = _rows(model, functional, expand_nested, show_trainable)

    # Column widths: as wide as the content, Keras-like minimums, the layer column wrapped.
    minimums = (
        [26, 24, 15, 22, 9][: len(headers)] if functional else [36, 27, 15, 9][: len(headers)]
    )
    widths = [
        max([minimums[i], len(headers[i])] + [len(r[i]) for r in rows]) for i in range(len(headers))
    ]
    widths[0] = min(widths[0], max(minimums[0], 40))
    if line_length:
        scale = line_length / (sum(widths) + 3 * len(widths) + 1)
        widths = [max(len(h), int(w * scale)) for w, h in zip(widths, headers)]

    out = print_fn or (lambda line: print(line, file=sys.stdout))
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        "┏━┃│".encode(encoding)
        box = _UNICODE
    except (UnicodeEncodeError, LookupError):
        box = _ASCII

    def rule(kind: str) -> str:
        left, fill, middle, right = box[kind]
        return left + middle.join(fill * (w + 2) for w in widths) + right

    def line(cells: list[list[str]], kind: str) -> list[str]:
        left, middle, right = box[kind]
        height = max(len(c) for c in cells)
        lines = []
        for k in range(height):
            parts = []
            for i, (cell, width) in enumerate(zip(cells, widths)):
                text = cell[k] if k < len(cell) else ""
                parts.append(f" {text.rjust(width) if i == 2 else text.ljust(width)} ")
            lines.append(left + middle.join(parts) + right)
        return lines

    def wrap(text: str, width: int) -> list[str]:
        return textwrap.wrap(text, width, break_long_words=True) or [""]

    out(f'Model: "{model.name}"')
    out(rule("top"))
    for text in line([[h] for h in headers], "head"):
        out(text)
    out(rule("under_head"))
    for index, row in enumerate(rows):
        cells = [wrap(cell, width) for cell, width in zip(row, widths)]
        for text in line(cells, "row"):
            out(text)
        out(rule("between") if index < len(rows) - 1 else rule("bottom"))

    def size(weights: list) -> str:
        return readable_size(sum(w.nbytes for w in weights))

    def count(weights: list) -> int:
        return sum(int(w.size) for w in weights)

    trainable = model.trainable_weights
    frozen = model.non_trainable_weights
    everything = model.weights
    out(f" Total params: {count(everything):,} ({size(everything)})")
    out(f" Trainable params: {count(trainable):,} ({size(trainable)})")
    out(f" Non-trainable params: {count(frozen):,} ({size(frozen)})")
