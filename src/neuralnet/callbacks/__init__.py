"""Callbacks: code that runs at fixed points of `fit`, `evaluate` and `predict`, with Keras's hooks."""

from neuralnet.callbacks.callback import (
    CALLBACKS,
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    GradientMonitor,
    History,
    LambdaCallback,
    LearningRateScheduler,
    MonitorCallback,
    ProgbarLogger,
    ReduceLROnPlateau,
    TerminateOnNaN,
    format_logs,
    get,
    resolve_verbose,
)

__all__ = [
    "CALLBACKS",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "GradientMonitor",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "MonitorCallback",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
    "format_logs",
    "get",
    "resolve_verbose",
]
