"""The base class of the optimizers: learning rate, state slots by parameter path, clipping,
decoupled weight decay, and the step order of Keras 3 (see `neuralnet.optimizers`)."""

from __future__ import annotations

import math
import re
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from neuralnet import _accelerate
from neuralnet._registry import Registry
from neuralnet._validation import check_number
from neuralnet.optimizers import schedules as schedules_module
from neuralnet.variable import Variable, array_of

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
        self._slot_store: dict[int, tuple[weakref.ref, dict[str, np.ndarray]]] = {}
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

        Building again (after a layer was frozen or unfrozen, or for another model that shares this
        optimizer) keeps the state of every variable it has seen before, and starts the new ones
        from zero.
        """
        if any(isinstance(v, Variable) for v in variables):
            variables = [array_of(v) for v in variables]
        variables = variables if isinstance(variables, list) else list(variables)
        if paths is None:
            paths = [f"variable_{i}" for i in range(len(variables))]
        if len(paths) != len(variables):
            raise ValueError(f"build() received {len(variables)} variables but {len(paths)} paths.")
        self._variables = variables
        self._paths = list(paths)
        self._index_by_id = {id(v): i for i, v in enumerate(variables)}
        self._slots = [self._slots_of(variable) for variable in variables]
        self._decay_mask = [self._use_weight_decay(v, p) for v, p in zip(variables, self._paths)]
        self._flat_cache: tuple[list, list, list | None] | None = None
        self.built = True

    def _slots_of(self, variable: np.ndarray) -> dict[str, np.ndarray]:
        """The state of `variable`: kept from an earlier build while the array lives, else new."""
        kept = self._slot_store.get(id(variable))
        if kept is not None and kept[0]() is variable:
            return kept[1]
        slots = self.create_slots(variable)
        store = self._slot_store
        key = id(variable)
        self._slot_store[key] = (weakref.ref(variable, lambda _: store.pop(key, None)), slots)
        return slots

    def is_built_for(self, variables: list[np.ndarray]) -> bool:
        """Whether `build` was last given this very list of variables (an identity check, cheap
        enough for every step)."""
        return self.built and self._variables is variables

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
        self._exclude_ids |= {id(array_of(v)) for v in var_list or []}
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
            variables = [array_of(v) for v in variables]
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
