"""Optimizers: gradient-descent update rules in Keras 3's exact form, applied in place.

`optimizer.apply(grads, variables)` runs, as Keras 3 does: gradient clipping (`clipnorm` per array, else
`global_clipnorm`, else `clipvalue`), then decoupled weight decay `θ ← θ − θ·wd·lr` when `weight_decay`
is set, then each optimizer's own `update_step`, then `iterations += 1`. Inside `update_step`, `t` is
`iterations + 1`. The state of each rule (momentum, velocity, ...) lives in named slots keyed by the
parameter's path (`"dense_1/kernel"`), so it can be saved and restored exactly.
"""

from neuralnet.optimizers import schedules
from neuralnet.optimizers.algorithms import (
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Lion,
    Nadam,
    RMSprop,
)
from neuralnet.optimizers.optimizer import OPTIMIZERS, Optimizer, deserialize, get, serialize

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Lion",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]
