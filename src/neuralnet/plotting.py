"""Pictures of training: loss and metric curves, decision boundaries (matplotlib, the `[plot]` extra).

Every function returns a matplotlib `Figure` (shown inline in Jupyter) and, given `path`, also writes
it as a PNG. Figures are created without pyplot, so nothing here opens a window or needs a display.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from neuralnet._optional import import_optional


def new_figure(figsize: tuple[float, float] = (6.4, 4.8)) -> Any:
    """A matplotlib Figure not attached to pyplot (no window, no global state)."""
    figure_module = import_optional("matplotlib.figure", "plot", "Plotting")
    return figure_module.Figure(figsize=figsize, layout="constrained")


def save_figure(figure: Any, path: str | os.PathLike, dpi: int = 120) -> None:
    """Write `figure` to `path` (PNG unless the name says otherwise), creating the folder; the file
    appears whole or not at all (`neuralnet.saving.atomic_path`)."""
    from neuralnet.saving.atomic import atomic_path

    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lstrip(".") or "png"
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=dpi, format=extension)


def plot_history(
    history: Any,
    metrics: Sequence[str] | None = None,
    path: str | os.PathLike | None = None,
    title: str | None = None,
    log_scale: bool = False,
) -> Any:
    """One panel per metric (loss first), training against validation (`val_...`) by epoch.

    Args:
        history: The `History` returned by `fit`, or its `.history` dict.
        metrics: Names to draw (without `val_`); all of them when `None`.
        path: Where to save the figure as a PNG, if given.
        log_scale: Draw the values on a logarithmic axis (useful for losses).
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError(
            "plot_history needs a History from fit() (or its .history dict) with at least one epoch."
        )
    names = list(metrics) if metrics is not None else [k for k in logs if not k.startswith("val_")]
    names.sort(key=lambda name: (name != "loss", name))
    unknown = [name for name in names if name not in logs]
    if unknown:
        raise ValueError(f"plot_history: {unknown} not in the history; it has {sorted(logs)}.")
    epochs = getattr(history, "epoch", None) or list(range(len(logs[names[0]])))
    figure = new_figure((4.2 * len(names), 3.4))
    axes = figure.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        x = [e + 1 for e in epochs][: len(logs[name])]
        ax.plot(x, logs[name], label="training")
        if f"val_{name}" in logs:
            values = logs[f"val_{name}"]
            ax.plot(x[-len(values) :] if len(values) != len(x) else x, values, label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        if log_scale:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        figure.suptitle(title)
    if path is not None:
        save_figure(figure, path)
    return figure


def plot_decision_boundary(
    predict: Any,
    x: np.ndarray,
    y: np.ndarray,
    ax: Any = None,
    path: str | os.PathLike | None = None,
    title: str | None = None,
    resolution: int = 200,
    margin: float = 0.1,
) -> Any:
    """The class regions of a 2-D classifier, with the data points on top.

    Args:
        predict: A model (its `predict` is used) or a function from points (n, 2) to scores (n, K).
        x: The points, shape (n, 2).
        y: Their integer labels, shape (n,).
        ax: A matplotlib Axes to draw into (a new figure when `None`).
    """
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(
            f"plot_decision_boundary needs 2-D points of shape (n, 2), received shape {x.shape}."
        )
    score: Callable[[np.ndarray], np.ndarray]
    if hasattr(predict, "predict"):
        score = lambda points: predict.predict(points, batch_size=4096, verbose=0)
    else:
        score = predict
    low, high = x.min(axis=0), x.max(axis=0)
    pad = margin * (high - low)
    gx, gy = np.meshgrid(
        np.linspace(low[0] - pad[0], high[0] + pad[0], resolution),
        np.linspace(low[1] - pad[1], high[1] + pad[1], resolution),
    )
    scores = np.asarray(score(np.c_[gx.ravel(), gy.ravel()]))
    regions = (
        (scores.ravel() > 0.5).astype(int)
        if scores.ndim == 1 or scores.shape[-1] == 1
        else scores.argmax(-1)
    )
    figure = None
    if ax is None:
        figure = new_figure((4.5, 4.2))
        ax = figure.subplots()
    ax.contourf(
        gx,
        gy,
        regions.reshape(gx.shape),
        alpha=0.3,
        cmap="viridis",
        levels=np.arange(regions.max() + 2) - 0.5,
    )
    ax.scatter(x[:, 0], x[:, 1], c=y, s=12, cmap="viridis", edgecolors="k", linewidths=0.3)
    ax.set_xlim(gx.min(), gx.max())
    ax.set_ylim(gy.min(), gy.max())
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    if figure is not None and path is not None:
        save_figure(figure, path)
    return figure if figure is not None else ax.figure


def plot_gradient_norms(
    monitor: Any,
    path: str | os.PathLike | None = None,
    title: str | None = None,
    label: str | None = None,
    axes: Any = None,
) -> Any:
    """What a `GradientMonitor` recorded: the gradient norm of each layer's kernel against the layer's
    depth (first and last epoch, log scale), and each layer's gradient norm across the epochs.

    Vanishing gradients show as a line that falls steeply towards the first layers.

    Args:
        monitor: A `GradientMonitor` after `fit`, or its `gradient_norms` dict.
        label: A name for this run in the legend (to draw several runs on the same `axes`).
        axes: Two matplotlib Axes to draw into (a new figure when `None`).
    """
    norms = getattr(monitor, "gradient_norms", monitor)
    if not isinstance(norms, dict) or not norms or not all(norms.values()):
        raise ValueError(
            "plot_gradient_norms needs a GradientMonitor that recorded at least one epoch."
        )
    names = list(norms)
    depth = np.arange(1, len(names) + 1)
    figure = None
    if axes is None:
        figure = new_figure((10, 3.8))
        axes = figure.subplots(1, 2)
    prefix = f"{label}: " if label else ""
    first = [norms[name][0] for name in names]
    last = [norms[name][-1] for name in names]
    line = axes[0].plot(depth, first, marker="o", label=f"{prefix}first epoch")[0]
    if len(next(iter(norms.values()))) > 1:
        axes[0].plot(
            depth,
            last,
            marker="s",
            linestyle="--",
            color=line.get_color(),
            label=f"{prefix}last epoch",
        )
    axes[0].set_yscale("log")
    axes[0].set_xlabel("layer (1 = nearest the input)")
    axes[0].set_ylabel("‖dJ/dW‖ (mean over batches)")
    axes[0].set_xticks(depth)
    axes[0].grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    epochs = np.arange(1, len(norms[names[0]]) + 1)
    for index, name in enumerate(names):
        if index in (0, len(names) - 1) or len(names) <= 4:
            axes[1].plot(epochs[: len(norms[name])], norms[name], label=f"{prefix}{name}")
    axes[1].set_yscale("log")
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel("‖dJ/dW‖")
    axes[1].grid(alpha=0.3)
    axes[1].legend(fontsize="small")
    target = figure if figure is not None else axes[0].figure
    if title:
        target.suptitle(title)
    if path is not None:
        save_figure(target, path)
    return target
