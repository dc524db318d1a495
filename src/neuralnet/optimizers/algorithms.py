"""The update rules, in Keras 3's exact form: SGD, RMSprop, Adagrad, Adadelta, Adam, AdamW, Adamax,
Nadam and Lion (formulas and defaults in each docstring)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neuralnet import _accelerate
from neuralnet._validation import check_number
from neuralnet.optimizers.optimizer import OPTIMIZERS, Optimizer, _contiguous_alike


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
