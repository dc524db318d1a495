"""The hand-written NumPy training loop: the floor neuralnet is measured against.

The same math as neuralnet's training step, written the way a careful NumPy user writes it after
the lecture's tutorial: the forward pass, the softmax cross-entropy gradient (p − y)/N, each layer's
chain rule, and Adam in Keras's form with its ten element-wise passes done in place. Optionally,
batch normalization and dropout after each hidden layer (workload W2).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from common import glorot_uniform


class HandMLP:
    """A ReLU MLP trained with Adam on softmax cross-entropy, written out by hand."""

    def __init__(
        self,
        sizes: tuple[int, ...],
        learning_rate: float = 1e-3,
        seed: int = 0,
        batch_norm_dropout: float | None = None,
    ) -> None:
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.W = [glorot_uniform(rng, a, b) for a, b in itertools.pairwise(sizes)]
        self.b = [np.zeros(b, dtype=np.float32) for b in sizes[1:]]
        self.dropout = batch_norm_dropout
        self.params = [p for pair in zip(self.W, self.b) for p in pair]
        if batch_norm_dropout is not None:
            self.gamma = [np.ones(b, dtype=np.float32) for b in sizes[1:-1]]
            self.beta = [np.zeros(b, dtype=np.float32) for b in sizes[1:-1]]
            self.moving_mean = [np.zeros(b, dtype=np.float32) for b in sizes[1:-1]]
            self.moving_var = [np.ones(b, dtype=np.float32) for b in sizes[1:-1]]
            self.params += self.gamma + self.beta
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.scratch = [np.empty_like(p) for p in self.params]
        self.t = 0
        self.lr, self.beta_1, self.beta_2, self.eps = learning_rate, 0.9, 0.999, 1e-7

    def _adam(self, grads: list[np.ndarray]) -> None:
        self.t += 1
        alpha = self.lr * math.sqrt(1 - self.beta_2**self.t) / (1 - self.beta_1**self.t)
        for p, g, m, v, tmp in zip(self.params, grads, self.m, self.v, self.scratch):
            np.subtract(g, m, out=tmp)
            tmp *= 1 - self.beta_1
            m += tmp
            np.multiply(g, g, out=tmp)
            tmp -= v
            tmp *= 1 - self.beta_2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp += self.eps
            np.divide(m, tmp, out=tmp)
            tmp *= alpha
            p -= tmp

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        n = x.shape[0]
        layers = len(self.W)
        inputs, masks, bn_cache = [], [], []
        h = x
        for i in range(layers - 1):
            inputs.append(h)
            z = h @ self.W[i]
            z += self.b[i]
            h = np.maximum(z, 0, out=z)
            masks.append(h > 0)
            if self.dropout is not None:
                mean = h.mean(axis=0)
                centered = h - mean
                var = np.mean(centered * centered, axis=0)
                inv_std = 1.0 / np.sqrt(var + 1e-3)
                x_hat = centered * inv_std
                self.moving_mean[i] += 0.01 * (mean - self.moving_mean[i])
                self.moving_var[i] += 0.01 * (var - self.moving_var[i])
                h = x_hat * self.gamma[i] + self.beta[i]
                keep = (self.rng.random(h.shape, dtype=np.float32) < 1 - self.dropout) / np.float32(
                    1 - self.dropout
                )
                h *= keep
                bn_cache.append((x_hat, inv_std, keep))
        inputs.append(h)
        scores = h @ self.W[-1]
        scores += self.b[-1]
        scores -= scores.max(axis=1, keepdims=True)
        probs = np.exp(scores, out=scores)
        probs /= probs.sum(axis=1, keepdims=True)
        loss = float(-np.mean(np.log(np.maximum(probs[np.arange(n), y], 1e-7))))
        # backward: dJ/dscores = (p − onehot(y)) / N, then each layer's chain rule
        d = probs
        d[np.arange(n), y] -= 1.0
        d /= n
        grads_w, grads_b, grads_gamma, grads_beta = [None] * layers, [None] * layers, [], []
        for i in range(layers - 1, -1, -1):
            grads_w[i] = inputs[i].T @ d
            grads_b[i] = d.sum(axis=0)
            if i == 0:
                break
            d = d @ self.W[i].T
            if self.dropout is not None:
                x_hat, inv_std, keep = bn_cache[i - 1]
                d *= keep
                grads_beta.insert(0, d.sum(axis=0))
                grads_gamma.insert(0, (d * x_hat).sum(axis=0))
                # dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂))
                d = (self.gamma[i - 1] * inv_std) * (
                    d - grads_beta[0] / n - x_hat * (grads_gamma[0] / n)
                )
            d *= masks[i - 1]
        grads = [g for pair in zip(grads_w, grads_b) for g in pair] + grads_gamma + grads_beta
        self._adam(grads)
        return loss

    def epoch(
        self, x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator
    ) -> float:
        order = rng.permutation(len(x))
        total = 0.0
        for start in range(0, len(x), batch_size):
            index = order[start : start + batch_size]
            total += self.train_step(x[index], y[index]) * len(index)
        return total / len(x)

    def predict(self, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        out = np.empty((len(x), self.W[-1].shape[1]), dtype=np.float32)
        for start in range(0, len(x), batch_size):
            h = x[start : start + batch_size]
            for i in range(len(self.W) - 1):
                z = h @ self.W[i]
                z += self.b[i]
                h = np.maximum(z, 0, out=z)
                if self.dropout is not None:
                    h = (h - self.moving_mean[i]) / np.sqrt(self.moving_var[i] + 1e-3) * self.gamma[
                        i
                    ] + self.beta[i]
            scores = h @ self.W[-1]
            scores += self.b[-1]
            out[start : start + len(scores)] = scores
        return out
