"""Callbacks: code that runs at fixed points of `fit`, `evaluate` and `predict`, with Keras's hooks.

`fit` itself never prints or records anything: `History` records the epoch logs and
`ProgbarLogger` draws the progress bar (tqdm), both added by `CallbackList` as in Keras. A callback
stops training by setting `self.model.stop_training = True`. One module per callback, as in Keras;
everything is reachable from here (`neuralnet.callbacks.EarlyStopping`).
"""

from neuralnet.callbacks.backup_and_restore import BackupAndRestore
from neuralnet.callbacks.callback import CALLBACKS, Callback, get
from neuralnet.callbacks.callback_list import CallbackList
from neuralnet.callbacks.csv_logger import CSVLogger
from neuralnet.callbacks.early_stopping import EarlyStopping
from neuralnet.callbacks.gradient_monitor import GradientMonitor
from neuralnet.callbacks.history import History
from neuralnet.callbacks.lambda_callback import LambdaCallback
from neuralnet.callbacks.learning_rate_scheduler import LearningRateScheduler
from neuralnet.callbacks.model_checkpoint import ModelCheckpoint
from neuralnet.callbacks.monitor import MonitorCallback
from neuralnet.callbacks.progbar import ProgbarLogger, format_logs, resolve_verbose
from neuralnet.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from neuralnet.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = [
    "CALLBACKS",
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "GradientMonitor",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "MonitorCallback",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
    "format_logs",
    "get",
    "resolve_verbose",
]
