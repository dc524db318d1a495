"""Learning-rate schedules: functions of the step (`optimizer.iterations`), with Keras 3's formulas.

Any schedule, or any callable `f(step) -> float`, can be given wherever a learning rate is.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from typing import Any

from neuralnet._registry import Registry
from neuralnet._validation import check_number

SCHEDULES = Registry("learning rate schedule")


def _check_steps(value: Any, arg: str, where: Any, *, allow_zero: bool = False) -> int | float:
    """A step count: a positive number (or >= 0), kept as an int when it is whole.

    Keras accepts any positive number (`decay_steps=1e4`, `len(x) / batch_size * epochs`).
    """
    number = check_number(value, arg, where, low=0.0, low_inclusive=allow_zero)
    return int(number) if number.is_integer() else number


class LearningRateSchedule:
    """Base class: `schedule(step)` returns the learning rate for that step (0-based)."""

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


@SCHEDULES.register("ExponentialDecay")
class ExponentialDecay(LearningRateSchedule):
    """`initial_learning_rate · decay_rate^(step / decay_steps)` (floored exponent if `staircase`)."""

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        decay_rate: float,
        staircase: bool = False,
        name: str = "ExponentialDecay",
    ) -> None:
        self.initial_learning_rate = check_number(
            initial_learning_rate, "initial_learning_rate", self, low=0.0
        )
        self.decay_steps = _check_steps(decay_steps, "decay_steps", self)
        self.decay_rate = check_number(decay_rate, "decay_rate", self, low=0.0)
        self.staircase = bool(staircase)
        self.name = name

    def __call__(self, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate**p

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


@SCHEDULES.register("InverseTimeDecay")
class InverseTimeDecay(LearningRateSchedule):
    """`initial_learning_rate / (1 + decay_rate · step / decay_steps)` (floored if `staircase`)."""

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        decay_rate: float,
        staircase: bool = False,
        name: str = "InverseTimeDecay",
    ) -> None:
        self.initial_learning_rate = check_number(
            initial_learning_rate, "initial_learning_rate", self, low=0.0
        )
        self.decay_steps = _check_steps(decay_steps, "decay_steps", self)
        self.decay_rate = check_number(decay_rate, "decay_rate", self, low=0.0)
        self.staircase = bool(staircase)
        self.name = name

    def __call__(self, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1.0 + self.decay_rate * p)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


@SCHEDULES.register("PiecewiseConstantDecay")
class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[0]` while step ≤ boundaries[0], `values[1]` while step ≤ boundaries[1], ..., then `values[-1]`."""

    def __init__(
        self, boundaries: Sequence[int], values: Sequence[float], name: str = "PiecewiseConstant"
    ) -> None:
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                "PiecewiseConstantDecay: `values` must have one more entry than `boundaries`, "
                f"received {len(boundaries)} boundaries and {len(values)} values."
            )
        if list(boundaries) != sorted(boundaries):
            raise ValueError(
                f"PiecewiseConstantDecay: `boundaries` must increase, received {list(boundaries)}."
            )
        self.boundaries = list(boundaries)
        self.values = [float(v) for v in values]
        self.name = name

    def __call__(self, step):
        return self.values[bisect.bisect_left(self.boundaries, step)]

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


@SCHEDULES.register("PolynomialDecay")
class PolynomialDecay(LearningRateSchedule):
    """`(initial − end) · (1 − step/decay_steps)^power + end`, with step capped at decay_steps
    (or, with `cycle`, decay_steps stretched to the next multiple above step)."""

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ) -> None:
        self.initial_learning_rate = check_number(
            initial_learning_rate, "initial_learning_rate", self, low=0.0
        )
        self.decay_steps = _check_steps(decay_steps, "decay_steps", self)
        self.end_learning_rate = check_number(end_learning_rate, "end_learning_rate", self, low=0.0)
        self.power = float(power)
        self.cycle = bool(cycle)
        self.name = name

    def __call__(self, step):
        decay_steps = self.decay_steps
        if self.cycle:
            multiplier = 1.0 if step == 0 else math.ceil(step / decay_steps)
            decay_steps = decay_steps * multiplier
        else:
            step = min(step, decay_steps)
        fraction = step / decay_steps
        span = self.initial_learning_rate - self.end_learning_rate
        return span * (1.0 - fraction) ** self.power + self.end_learning_rate

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


@SCHEDULES.register("CosineDecay")
class CosineDecay(LearningRateSchedule):
    """Cosine decay (Loshchilov & Hutter), with optional linear warmup.

    Without warmup: `lr(step) = initial · ((1 − alpha) · ½(1 + cos(π·min(step, decay_steps)/decay_steps)) + alpha)`.
    With `warmup_target` and `warmup_steps`: the rate first rises linearly from initial to the target
    over `warmup_steps`, then decays from the target over `decay_steps`.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: float = 0,
    ) -> None:
        self.initial_learning_rate = check_number(
            initial_learning_rate, "initial_learning_rate", self, low=0.0
        )
        self.decay_steps = _check_steps(decay_steps, "decay_steps", self)
        self.alpha = check_number(alpha, "alpha", self, low=0.0, high=1.0)
        self.name = name
        self.warmup_target = (
            None
            if warmup_target is None
            else check_number(warmup_target, "warmup_target", self, low=0.0)
        )
        self.warmup_steps = _check_steps(warmup_steps, "warmup_steps", self, allow_zero=True)

    def _decay(self, step: float, start: float) -> float:
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            fraction = step / self.warmup_steps
            return (
                self.warmup_target - self.initial_learning_rate
            ) * fraction + self.initial_learning_rate
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


@SCHEDULES.register("CosineDecayRestarts")
class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): each period is `t_mul` times longer and starts
    `m_mul` times lower than the one before."""

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: float,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
        name: str = "SGDRDecay",
    ) -> None:
        self.initial_learning_rate = check_number(
            initial_learning_rate, "initial_learning_rate", self, low=0.0
        )
        self.first_decay_steps = _check_steps(first_decay_steps, "first_decay_steps", self)
        self.t_mul = check_number(t_mul, "t_mul", self, low=0.0, low_inclusive=False)
        self.m_mul = check_number(m_mul, "m_mul", self, low=0.0)
        self.alpha = check_number(alpha, "alpha", self, low=0.0, high=1.0)
        self.name = name

    def __call__(self, step):
        fraction = step / self.first_decay_steps
        if self.t_mul == 1.0:
            restarts = math.floor(fraction)
            fraction -= restarts
        else:
            restarts = math.floor(
                math.log(1.0 - fraction * (1.0 - self.t_mul)) / math.log(self.t_mul)
            )
            sum_r = (1.0 - self.t_mul**restarts) / (1.0 - self.t_mul)
            fraction = (fraction - sum_r) / self.t_mul**restarts
        m_fac = self.m_mul**restarts
        cosine = 0.5 * m_fac * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1.0 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


def serialize(schedule: Callable[[int], float]) -> dict[str, Any]:
    """`{'class_name': name, 'config': {...}}` for a registered schedule."""
    name = SCHEDULES.name_of(schedule)
    if name is None:
        raise ValueError(
            f"The learning rate {schedule!r} is a plain callable and cannot be saved; subclass "
            "neuralnet.schedules.LearningRateSchedule and register it to save it."
        )
    return {"class_name": name, "config": schedule.get_config()}  # type: ignore[attr-defined]


def deserialize(config: dict[str, Any]) -> LearningRateSchedule:
    """The inverse of `serialize`."""
    if "class_name" not in config:
        raise ValueError(f"A schedule config needs a 'class_name' key, received {config!r}.")
    return SCHEDULES.lookup(config["class_name"]).from_config(config.get("config", {}))
