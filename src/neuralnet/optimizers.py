"""Optimizers: gradient-descent update rules in Keras 3's exact form, applied in place.

`optimizer.apply(grads, variables)` runs, as Keras 3 does: gradient clipping (`clipnorm` per array, else
`global_clipnorm`, else `clipvalue`), then decoupled weight decay `θ ← θ − θ·wd·lr` when `weight_decay`
is set, then each optimizer's own `update_step`, then `iterations += 1`. Inside `update_step`, `t` is
`iterations + 1`. The state of each rule (momentum, velocity, ...) lives in named slots keyed by the
parameter's path (`"dense_1/kernel"`), so it can be saved and restored exactly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from neuralnet import _accelerate
from neuralnet import schedules as schedules_module
from neuralnet._registry import Registry
from neuralnet._validation import check_number

OPTIMIZERS = Registry("optimizer", case_sensitive=False)

# Steps between two passes that flush subnormal optimizer state to zero (see _flush_subnormal_slots).
_FLUSH_EVERY = 32


class Optimizer:
    """Base class of the optimizers.

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or any callable of the step
            (`iterations`) returning a float.
        weight_decay: Decoupled weight decay: each step first does `θ ← θ − θ·weight_decay·lr`.
        clipnorm: Rescale each gradient array whose L2 norm exceeds this to that norm.
        clipvalue: Clip each gradient entry to [−clipvalue, clipvalue].
        global_clipnorm: Rescale all gradients together when their joint L2 norm exceeds this.
        name: A name for the optimizer.

    Subclasses write `slot_names` (the state each parameter needs) and `update_step`.
    """

    slot_names: tuple[str, ...] = ()
    #: Per-parameter temporaries reused at every step (not saved): names start with "_".
    scratch_names: tuple[str, ...] = ()

    def __init__(
        self,
        learning_rate: Any = 0.001,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        unsupported = set(kwargs) - {"use_ema", "ema_momentum", "ema_overwrite_frequency",
                                     "loss_scale_factor", "gradient_accumulation_steps"}  # fmt: skip
        if unsupported:
            raise TypeError(
                f"{type(self).__name__}() got unexpected keyword argument(s): {', '.join(sorted(unsupported))}."
            )
        for option in ("use_ema", "loss_scale_factor", "gradient_accumulation_steps"):
            if kwargs.get(option):
                raise NotImplementedError(
                    f"{type(self).__name__}: `{option}` is not supported yet."
                )
        if sum(v is not None for v in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                f"{type(self).__name__}: only one of `clipnorm`, `clipvalue` and `global_clipnorm` "
                f"can be set, received clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}."
            )
        self.name = name or type(self).__name__.lower()
        self.weight_decay = (
            None
            if weight_decay is None
            else check_number(weight_decay, "weight_decay", self, low=0.0)
        )
        self.clipnorm = (
            None if clipnorm is None else check_number(clipnorm, "clipnorm", self, low=0.0)
        )
        self.clipvalue = (
            None if clipvalue is None else check_number(clipvalue, "clipvalue", self, low=0.0)
        )
        self.global_clipnorm = (
            None
            if global_clipnorm is None
            else check_number(global_clipnorm, "global_clipnorm", self, low=0.0)
        )
        self.learning_rate = learning_rate
        self.iterations = 0
        self.built = False
        self._variables: list[np.ndarray] = []
        self._paths: list[str] = []
        self._slots: list[dict[str, np.ndarray]] = []
        self._index_by_id: dict[int, int] = {}
        self._exclude_names: list[str] = []
        self._exclude_ids: set[int] = set()
        self._decay_mask: list[bool] = []

    # -- learning rate --------------------------------------------------------------------------

    @property
    def learning_rate(self) -> float:
        """The learning rate of the next step (a schedule is evaluated at `iterations`)."""
        if self._schedule is not None:
            return float(self._schedule(self.iterations))
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        if isinstance(value, schedules_module.LearningRateSchedule) or (
            callable(value) and not isinstance(value, (int, float))
        ):
            self._schedule: Callable[[int], float] | None = value
            self._learning_rate = math.nan
            return
        number = check_number(value, "learning_rate", self, low=0.0)
        self._schedule = None
        # Keras keeps the rate in a float32 variable: 0.01 is used as 0.0099999998.
        self._learning_rate = float(np.float32(number))

    @property
    def schedule(self) -> Callable[[int], float] | None:
        """The learning-rate schedule, or `None` for a constant rate."""
        return self._schedule

    # -- state ----------------------------------------------------------------------------------

    def build(self, variables: Sequence[np.ndarray], paths: Sequence[str] | None = None) -> None:
        """Create the slots for `variables`; `paths` name them (`"dense/kernel"`) for saving.

        Building again (after a layer was frozen or unfrozen) keeps the state of every variable that
        was already there, matched by path, and starts the new ones from zero.
        """
        variables = variables if isinstance(variables, list) else list(variables)
        if paths is None:
            paths = [f"variable_{i}" for i in range(len(variables))]
        if len(paths) != len(variables):
            raise ValueError(f"build() received {len(variables)} variables but {len(paths)} paths.")
        previous = {
            path: (id(variable), slots)
            for path, variable, slots in zip(self._paths, self._variables, self._slots)
        }
        self._variables = variables
        self._paths = list(paths)
        self._index_by_id = {id(v): i for i, v in enumerate(variables)}
        self._slots = []
        for path, variable in zip(self._paths, variables):
            kept = previous.get(path)
            same = kept is not None and kept[0] == id(variable)
            self._slots.append(kept[1] if same else self.create_slots(variable))
        self._decay_mask = [self._use_weight_decay(v, p) for v, p in zip(variables, self._paths)]
        self._flat_cache: tuple[list, list, list | None] | None = None
        self.built = True

    def create_slots(self, variable: np.ndarray) -> dict[str, np.ndarray]:
        """The state arrays of one parameter (zeros unless a subclass says otherwise)."""
        slots = {name: np.zeros_like(variable) for name in self.slot_names}
        slots.update({name: np.empty_like(variable) for name in self.scratch_names})
        return slots

    @property
    def variables(self) -> dict[str, np.ndarray]:
        """A snapshot of the state by path: `"dense/kernel/momentum"`, ..., plus `"iterations"`.

        The arrays are copies, so a saved snapshot is not changed by later steps (Keras returns
        its live variables; here the dict is what is saved and loaded).
        """
        state = {"iterations": np.asarray(self.iterations, dtype=np.int64)}
        for path, slots in zip(self._paths, self._slots):
            for slot, value in slots.items():
                if not slot.startswith("_"):
                    state[f"{path}/{slot}"] = value.copy()
        state.update(self.extra_state())
        return state

    def extra_state(self) -> dict[str, np.ndarray]:
        """Optimizer-wide arrays to save besides the slots (Nadam's momentum product)."""
        return {}

    def set_extra_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what `extra_state` returned."""

    def load_variables(self, state: dict[str, np.ndarray]) -> None:
        """Restore `variables` (after `build` with the same paths); every array is checked first."""
        if not self.built:
            raise RuntimeError(
                f"{type(self).__name__}.load_variables() needs the optimizer built first: call "
                "optimizer.build(variables, paths) with the same paths as when it was saved."
            )
        expected = self.variables
        missing = sorted(set(expected) - set(state))
        unexpected = sorted(set(state) - set(expected))
        if missing or unexpected:
            raise ValueError(
                f"Optimizer state does not match {type(self).__name__}: missing {missing}, "
                f"unexpected {unexpected}."
            )
        for key, target in expected.items():
            value = np.asarray(state[key])
            if value.shape != np.shape(target):
                raise ValueError(
                    f"Optimizer state {key!r} has shape {np.shape(target)}, received {value.shape}."
                )
        for path, slots in zip(self._paths, self._slots):
            for slot, target in slots.items():
                if not slot.startswith("_"):
                    np.copyto(target, state[f"{path}/{slot}"], casting="unsafe")
        self.iterations = int(state["iterations"])
        self.set_extra_state({k: np.asarray(state[k]) for k in self.extra_state()})

    # -- weight decay ---------------------------------------------------------------------------

    def exclude_from_weight_decay(
        self, var_list: Iterable[np.ndarray] | None = None, var_names: Iterable[str] | None = None
    ) -> None:
        """Skip weight decay for these arrays, or for parameters where one of the regular
        expressions `var_names` (e.g. `["bias", "gamma", "beta"]`) is found in the parameter's name
        (`"bias"`, searched as Keras searches `variable.name`, so `"^bias$"` works) or in its
        path (`"dense_1/bias"`). Call before the first step."""
        if self.built:
            raise RuntimeError(
                f"{type(self).__name__}.exclude_from_weight_decay() must be called before the "
                "optimizer is built (before the first training step)."
            )
        self._exclude_ids |= {id(v) for v in var_list or []}
        self._exclude_names += list(var_names or [])

    def _use_weight_decay(self, variable: np.ndarray, path: str) -> bool:
        if id(variable) in self._exclude_ids:
            return False
        own_name = path.rsplit("/", 1)[-1]
        return not any(
            re.search(pattern, own_name) or re.search(pattern, path)
            for pattern in self._exclude_names
        )

    # -- the step -------------------------------------------------------------------------------

    def apply(
        self, grads: Sequence[np.ndarray], variables: Sequence[np.ndarray] | None = None
    ) -> None:
        """Update `variables` in place from `grads` (same order), building the slots on first use.

        `variables` may be left out after `build`: the grads are then in the built order.
        """
        if not self.built:
            if variables is None:
                raise RuntimeError(
                    f"{type(self).__name__}.apply() needs the variables on its first call, or build() first."
                )
            self.build(variables)
        if variables is None:
            indices = range(len(self._variables))
            variables = self._variables
        else:
            indices = self._indices_of(variables)
        grads = [g if isinstance(g, np.ndarray) else np.asarray(g) for g in grads]
        if len(grads) != len(variables):
            raise ValueError(
                f"{type(self).__name__}.apply() received {len(grads)} gradients for {len(variables)} variables."
            )
        for variable, grad in zip(variables, grads):
            if grad.shape != variable.shape:  # would broadcast silently in place
                raise ValueError(
                    f"{type(self).__name__}.apply() received a gradient of shape {grad.shape} "
                    f"for a variable of shape {variable.shape}."
                )
        grads = self._clip(grads)
        learning_rate = self.learning_rate
        if self.weight_decay:
            decay = self.weight_decay * learning_rate
            for i, variable in zip(indices, variables):
                if self._decay_mask[i]:
                    variable -= decay * variable  # θ ← θ − θ·wd·lr (decoupled)
        self.before_step()
        flushed = self.update_all(indices, variables, grads, learning_rate)
        self.iterations += 1
        if not flushed and self.iterations % _FLUSH_EVERY == 0:
            self._flush_subnormal_slots()

    def update_all(
        self,
        indices: Sequence[int],
        variables: Sequence[np.ndarray],
        grads: Sequence[np.ndarray],
        learning_rate: float,
    ) -> bool:
        """One step for every variable; returns whether the state was flushed of subnormal
        numbers on the way (the compiled kernels do it at every step)."""
        for i, variable, grad in zip(indices, variables, grads):
            self.update_step(variable, grad, self._slots[i], learning_rate)
        return False

    def _flat_views(
        self, indices: Sequence[int], variables: Sequence[np.ndarray], grads: Sequence[np.ndarray]
    ) -> list[tuple[np.ndarray, ...]] | None:
        """1-D views of each variable, its gradient and its state slots (in `slot_names` order),
        for the compiled kernels; `None` unless all share one float dtype and are C-contiguous.
        Made once and reused while the same arrays come back (the training loop's gradients are
        the layers' own arrays, written in place at every step)."""
        cache = self._flat_cache
        if (
            cache is not None
            and len(cache[0]) == len(variables)
            and all(a is b for a, b in zip(cache[0], variables))
            and all(a is b for a, b in zip(cache[1], grads))
        ):
            return cache[2]
        views: list[tuple[np.ndarray, ...]] | None = []
        for i, variable, grad in zip(indices, variables, grads):
            arrays = (variable, grad, *(self._slots[i][name] for name in self.slot_names))
            if not _contiguous_alike(*arrays) or arrays[0].dtype != variables[0].dtype:
                views = None
                break
            views.append(tuple(a.reshape(-1) for a in arrays))
        self._flat_cache = (list(variables), list(grads), views)
        return views

    def _flush_subnormal_slots(self) -> None:
        """Set state entries below the smallest normal float to 0. The moments of a weight whose
        gradient stays 0 decay geometrically into subnormal numbers, which CPUs process about a
        hundred times slower; this keeps long runs from slowing down and changes nothing else."""
        for slots in self._slots:
            for name, value in slots.items():
                if name.startswith("_") or value.dtype.kind != "f":
                    continue
                tiny = np.finfo(value.dtype).tiny
                subnormal = np.abs(value) < tiny
                if subnormal.any():
                    value[subnormal] = 0

    def apply_gradients(self, grads_and_vars: Iterable[tuple[np.ndarray, np.ndarray]]) -> None:
        """Keras's `apply_gradients(zip(grads, variables))`."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def _indices_of(self, variables: Sequence[np.ndarray]) -> list[int]:
        indices = []
        for variable in variables:
            index = self._index_by_id.get(id(variable))
            if index is None:
                raise ValueError(
                    f"{type(self).__name__} was built for other variables; this array of shape "
                    f"{np.shape(variable)} is not one of them. Use a new optimizer for a new model."
                )
            indices.append(index)
        return indices

    def _clip(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        if self.clipnorm:
            clipped = []
            for g in grads:
                norm = math.sqrt(float(np.sum(np.square(g, dtype=np.float64))))
                clipped.append(g * (self.clipnorm / norm) if norm > self.clipnorm else g)
            return clipped
        if self.global_clipnorm:
            norm = math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads))
            if norm > self.global_clipnorm:
                scale = self.global_clipnorm / norm
                return [g * scale for g in grads]
            return grads
        if self.clipvalue:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def before_step(self) -> None:
        """Hook run once per step before the parameters are updated (Nadam's momentum product)."""

    def update_step(
        self,
        variable: np.ndarray,
        grad: np.ndarray,
        slots: dict[str, np.ndarray],
        learning_rate: float,
    ) -> None:
        """Update one parameter in place from its gradient; `self.iterations + 1` is the step t."""
        raise NotImplementedError

    # -- configuration --------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        if self._schedule is None:
            learning_rate: Any = self._learning_rate
        else:
            learning_rate = schedules_module.serialize(self._schedule)
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer:
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules_module.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} learning_rate={self.learning_rate:g}, iterations={self.iterations}>"


def _contiguous_alike(*arrays: np.ndarray) -> bool:
    """Whether the arrays share one float dtype the kernels are compiled for and are C-contiguous."""
    dtype = arrays[0].dtype
    return dtype in _accelerate.DTYPES and all(
        a.dtype == dtype and a.flags.c_contiguous for a in arrays
    )


@OPTIMIZERS.register("sgd")
class SGD(Optimizer):
    """Gradient descent, with optional momentum (Keras's form: the velocity holds lr·g).

    - momentum = 0: `θ ← θ − lr·g`
    - momentum μ:   `m ← μm − lr·g;  θ ← θ + m`
    - nesterov:     `m ← μm − lr·g;  θ ← θ + μm − lr·g`
    """

    def __init__(
        self, learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False, **kwargs
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.momentum = check_number(momentum, "momentum", self, low=0.0, high=1.0)
        self.nesterov = bool(nesterov)

    @property
    def slot_names(self):  # type: ignore[override]
        return ("momentum",) if self.momentum else ()

    def update_step(self, variable, grad, slots, learning_rate):
        if not self.momentum:
            variable -= learning_rate * grad
            return
        m = slots["momentum"]
        m *= self.momentum
        m -= learning_rate * grad
        if self.nesterov:
            variable += self.momentum * m - learning_rate * grad
        else:
            variable += m

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


@OPTIMIZERS.register("rmsprop")
class RMSprop(Optimizer):
    """RMSprop, Keras's form: ε inside the square root.

    `v ← ρv + (1−ρ)g²;  θ ← θ − lr·g/sqrt(v + ε)` (centered: the denominator is v − a² + ε with
    `a ← ρa + (1−ρ)g`; with momentum μ: `b ← μb + lr·g/sqrt(...)`, `θ ← θ − b`).
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho = check_number(rho, "rho", self, low=0.0, high=1.0)
        self.momentum = check_number(momentum, "momentum", self, low=0.0, high=1.0)
        self.epsilon = check_number(epsilon, "epsilon", self, low=0.0)
        self.centered = bool(centered)

    @property
    def slot_names(self):  # type: ignore[override]
        names = ("velocity",)
        if self.momentum:
            names += ("momentum",)
        if self.centered:
            names += ("average_gradient",)
        return names

    def update_step(self, variable, grad, slots, learning_rate):
        v = slots["velocity"]
        v += (1.0 - self.rho) * (grad * grad - v)
        if self.centered:
            a = slots["average_gradient"]
            a += (1.0 - self.rho) * (grad - a)
            denominator = v - a * a + self.epsilon
        else:
            denominator = v + self.epsilon
        increment = learning_rate * grad / np.sqrt(denominator)
        if self.momentum:
            b = slots["momentum"]
            b *= self.momentum
            b += increment
            variable -= b
        else:
            variable -= increment

    def get_config(self):
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


@OPTIMIZERS.register("adagrad")
class Adagrad(Optimizer):
    """Adagrad, Keras's form: the accumulator starts at 0.1 and ε is inside the square root.

    `acc ← acc + g²;  θ ← θ − lr·g/sqrt(acc + ε)`.
    """

    slot_names = ("accumulator",)

    def __init__(
        self,
        learning_rate: Any = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        **kwargs,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = check_number(
            initial_accumulator_value, "initial_accumulator_value", self, low=0.0
        )
        self.epsilon = check_number(epsilon, "epsilon", self, low=0.0)

    def create_slots(self, variable):
        return {"accumulator": np.full_like(variable, self.initial_accumulator_value)}

    def update_step(self, variable, grad, slots, learning_rate):
        acc = slots["accumulator"]
        acc += grad * grad
        variable -= learning_rate * grad / np.sqrt(acc + self.epsilon)

    def get_config(self):
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }


@OPTIMIZERS.register("adadelta")
class Adadelta(Optimizer):
    """Adadelta, Keras 3's defaults (lr = 0.001, ρ = 0.95, ε = 1e-7).

    `Eg ← ρEg + (1−ρ)g²;  d = −sqrt(Ed + ε)/sqrt(Eg + ε)·g;  Ed ← ρEd + (1−ρ)d²;  θ ← θ + lr·d`.
    The original paper, and standalone Keras before 2.3, used lr = 1.0.
    """

    slot_names = ("accumulated_grad", "accumulated_delta_var")

    def __init__(
        self, learning_rate: Any = 0.001, rho: float = 0.95, epsilon: float = 1e-7, **kwargs
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho = check_number(rho, "rho", self, low=0.0, high=1.0)
        self.epsilon = check_number(epsilon, "epsilon", self, low=0.0)

    def update_step(self, variable, grad, slots, learning_rate):
        eg, ed = slots["accumulated_grad"], slots["accumulated_delta_var"]
        eg *= self.rho
        eg += (1.0 - self.rho) * grad * grad
        delta = -np.sqrt(ed + self.epsilon) / np.sqrt(eg + self.epsilon) * grad
        ed *= self.rho
        ed += (1.0 - self.rho) * delta * delta
        variable += learning_rate * delta

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


@OPTIMIZERS.register("adam")
class Adam(Optimizer):
    """Adam (Kingma & Ba, 2014) in Keras's form: the bias correction folded into the step size.

    `α = lr·sqrt(1−β₂ᵗ)/(1−β₁ᵗ);  m ← m + (1−β₁)(g − m);  v ← v + (1−β₂)(g² − v);
    θ ← θ − α·m/(sqrt(v) + ε)`. Here ε (Keras: 1e-7) is the paper's "ε hat", added to the
    uncorrected sqrt(v); PyTorch adds its ε (1e-8) to the corrected one. With `amsgrad`,
    `v̂ ← max(v̂, v)` replaces v.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = check_number(beta_1, "beta_1", self, low=0.0, high=1.0, high_inclusive=False)
        self.beta_2 = check_number(beta_2, "beta_2", self, low=0.0, high=1.0, high_inclusive=False)
        self.epsilon = check_number(epsilon, "epsilon", self, low=0.0)
        self.amsgrad = bool(amsgrad)
        self._constants: dict[tuple, tuple] = {}

    scratch_names = ("_scratch",)

    @property
    def slot_names(self):  # type: ignore[override]
        return (
            ("momentum", "velocity", "velocity_hat") if self.amsgrad else ("momentum", "velocity")
        )

    def _alpha(self, learning_rate: float) -> float:
        t = self.iterations + 1
        return learning_rate * math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)

    def _kernel_scalars(self, alpha: float, dtype: np.dtype) -> tuple:
        """The kernel's scalar arguments in the parameters' float type (the constant ones are
        made once per type: np.finfo alone costs more than a small kernel call)."""
        key = (dtype, self.beta_1, self.beta_2, self.epsilon)
        constants = self._constants.get(key)
        if constants is None:
            scalar = dtype.type
            constants = self._constants[key] = (
                scalar(1.0 - self.beta_1), scalar(1.0 - self.beta_2), scalar(self.epsilon),
                np.finfo(dtype).tiny,
            )  # fmt: skip
        return (dtype.type(alpha), *constants)

    def update_all(self, indices, variables, grads, learning_rate):
        # A subclass with its own update_step (a user's variant of Adam) keeps it.
        own_step = type(self).update_step is Adam.update_step
        fused = _accelerate.kernel("adam") if own_step and variables and not self.amsgrad else None
        views = None if fused is None else self._flat_views(indices, variables, grads)
        if views is None:
            return super().update_all(indices, variables, grads, learning_rate)
        # The compiled step: every scalar computed once, one kernel call per parameter.
        scalars = self._kernel_scalars(self._alpha(learning_rate), variables[0].dtype)
        for p, g, m, v in views:
            fused(p, g, m, v, *scalars)
        return True

    def update_step(self, variable, grad, slots, learning_rate):
        alpha = self._alpha(learning_rate)
        m, v, tmp = slots["momentum"], slots["velocity"], slots["_scratch"]
        fused = None if self.amsgrad else _accelerate.kernel("adam")
        if fused is not None and _contiguous_alike(variable, grad, m, v):
            flat = (a.reshape(-1) for a in (variable, grad, m, v))
            fused(*flat, *self._kernel_scalars(alpha, variable.dtype))
            return
        # In place, one scratch array: the same arithmetic as the formulas above, no allocation.
        np.subtract(grad, m, out=tmp)
        tmp *= 1.0 - self.beta_1
        m += tmp  # m ← m + (1 − β₁)(g − m)
        np.multiply(grad, grad, out=tmp)
        tmp -= v
        tmp *= 1.0 - self.beta_2
        v += tmp  # v ← v + (1 − β₂)(g² − v)
        if self.amsgrad:
            v_hat = slots["velocity_hat"]
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        np.sqrt(v, out=tmp)
        tmp += self.epsilon
        np.divide(m, tmp, out=tmp)
        tmp *= alpha
        variable -= tmp  # θ ← θ − α·m/(sqrt(v) + ε)

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


@OPTIMIZERS.register("adamw")
class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter); Keras 3's default decay is 0.004."""

    def __init__(
        self,
        learning_rate: Any = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs,
    ) -> None:
        if weight_decay is None:
            raise ValueError(
                "AdamW: `weight_decay` must be a number; use Adam for no weight decay."
            )
        super().__init__(
            learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay=weight_decay, **kwargs
        )


@OPTIMIZERS.register("adamax")
class Adamax(Optimizer):
    """Adamax, the infinity-norm Adam: `u ← max(β₂u, |g|);  θ ← θ − lr·m/((1−β₁ᵗ)(u + ε))`."""

    slot_names = ("momentum", "norm")

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        **kwargs,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = check_number(beta_1, "beta_1", self, low=0.0, high=1.0, high_inclusive=False)
        self.beta_2 = check_number(beta_2, "beta_2", self, low=0.0, high=1.0)
        self.epsilon = check_number(epsilon, "epsilon", self, low=0.0)

    def update_step(self, variable, grad, slots, learning_rate):
        t = self.iterations + 1
        m, u = slots["momentum"], slots["norm"]
        m += (1.0 - self.beta_1) * (grad - m)
        np.maximum(self.beta_2 * u, np.abs(grad), out=u)
        variable -= (learning_rate / (1.0 - self.beta_1**t)) * m / (u + self.epsilon)

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


@OPTIMIZERS.register("nadam")
class Nadam(Optimizer):
    """Adam with Nesterov momentum, Keras 3's schedule μ_t = β₁(1 − ½·0.96ᵗ).

    With Π_t = Π_{t−1}·μ_t: `m̂ = μ_{t+1}·m/(1 − Π_t·μ_{t+1}) + (1 − μ_t)·g/(1 − Π_t)`,
    `v̂ = v/(1 − β₂ᵗ)`, `θ ← θ − lr·m̂/(sqrt(v̂) + ε)`. (PyTorch and Keras 2 use 0.96^(0.004·t).)
    """

    slot_names = ("momentum", "velocity")

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        **kwargs,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = check_number(beta_1, "beta_1", self, low=0.0, high=1.0, high_inclusive=False)
        self.beta_2 = check_number(beta_2, "beta_2", self, low=0.0, high=1.0, high_inclusive=False)
        self.epsilon = check_number(epsilon, "epsilon", self, low=0.0)
        self._u_product = 1.0

    def _mu(self, t: int) -> float:
        return self.beta_1 * (1.0 - 0.5 * 0.96**t)

    def before_step(self):
        self._u_product *= self._mu(self.iterations + 1)

    def extra_state(self):
        return {"u_product": np.asarray(self._u_product, dtype=np.float64)}

    def set_extra_state(self, state):
        self._u_product = float(state["u_product"])

    def update_step(self, variable, grad, slots, learning_rate):
        t = self.iterations + 1
        mu_t, mu_next = self._mu(t), self._mu(t + 1)
        product, product_next = self._u_product, self._u_product * mu_next
        m, v = slots["momentum"], slots["velocity"]
        m += (1.0 - self.beta_1) * (grad - m)
        v += (1.0 - self.beta_2) * (grad * grad - v)
        m_hat = (mu_next / (1.0 - product_next)) * m + ((1.0 - mu_t) / (1.0 - product)) * grad
        v_hat = v / (1.0 - self.beta_2**t)
        variable -= learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


@OPTIMIZERS.register("lion")
class Lion(Optimizer):
    """Lion (Chen et al., 2023): `θ ← θ − lr·sign(β₁m + (1−β₁)g);  m ← β₂m + (1−β₂)g`.

    Its updates have unit size per entry, so it wants a learning rate 3-10x smaller than Adam's.
    """

    slot_names = ("momentum",)

    def __init__(
        self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.99, **kwargs
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = check_number(beta_1, "beta_1", self, low=0.0, high=1.0)
        self.beta_2 = check_number(beta_2, "beta_2", self, low=0.0, high=1.0)

    def update_step(self, variable, grad, slots, learning_rate):
        m = slots["momentum"]
        variable -= learning_rate * np.sign(self.beta_1 * m + (1.0 - self.beta_1) * grad)
        m *= self.beta_2
        m += (1.0 - self.beta_2) * grad

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}


def get(identifier: Any) -> Optimizer:
    """An `Optimizer` from a case-insensitive name (`'adam'`, `'SGD'`), a config dict or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return OPTIMIZERS.lookup(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise TypeError(
        f"Cannot interpret {identifier!r} as an optimizer: expected a name such as 'adam', a "
        "config dict or an Optimizer such as neuralnet.optimizers.SGD(learning_rate=0.1)."
    )


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """`{'class_name': name, 'config': {...}}`."""
    name = OPTIMIZERS.name_of(optimizer)
    if name is None:
        raise ValueError(f"Optimizer {optimizer!r} is not registered, so it cannot be saved.")
    return {"class_name": name, "config": optimizer.get_config()}


def deserialize(config: dict[str, Any]) -> Optimizer:
    """The inverse of `serialize`."""
    if "class_name" not in config:
        raise ValueError(f"An optimizer config needs a 'class_name' key, received {config!r}.")
    return OPTIMIZERS.lookup(config["class_name"]).from_config(config.get("config", {}))
