"""The hand-written NumPy training loop: the floor neuralnet is measured against.

The same math as neuralnet's training step for a ReLU MLP with a softmax cross-entropy output and
Adam (Keras's form): written the way a careful NumPy user would write it, as in the lecture's
tutorial, with in-place ReLU and no framework around it.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from common import glorot_uniform


class HandMLP:
    """A ReLU MLP trained with Adam on softmax cross-entropy, written out by hand."""

    def __init__(self, sizes: tuple[int, ...], learning_rate: float = 1e-3, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.W = [glorot_uniform(rng, a, b) for a, b in itertools.pairwise(sizes)]
        self.b = [np.zeros(b, dtype=np.float32) for b in sizes[1:]]
        self.params = [p for pair in zip(self.W, self.b) for p in pair]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0
        self.lr, self.beta_1, self.beta_2, self.eps = learning_rate, 0.9, 0.999, 1e-7

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        n = x.shape[0]
        # forward
        hs = [x]
        h = x
        for W, b in zip(self.W[:-1], self.b[:-1]):
            z = h @ W
            z += b
            h = np.maximum(z, 0, out=z)
            hs.append(h)
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
        grads = []
        for i in range(len(self.W) - 1, -1, -1):
            grads.append((hs[i].T @ d, d.sum(axis=0)))
            if i > 0:
                d = d @ self.W[i].T
                d *= hs[i] > 0
        grads.reverse()
        flat = [g for pair in grads for g in pair]
        # Adam, Keras's form
        self.t += 1
        alpha = self.lr * math.sqrt(1 - self.beta_2**self.t) / (1 - self.beta_1**self.t)
        for p, g, m, v in zip(self.params, flat, self.m, self.v):
            m += (1 - self.beta_1) * (g - m)
            v += (1 - self.beta_2) * (g * g - v)
            p -= alpha * m / (np.sqrt(v) + self.eps)
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
        out = []
        for start in range(0, len(x), batch_size):
            h = x[start : start + batch_size]
            for W, b in zip(self.W[:-1], self.b[:-1]):
                h = np.maximum(h @ W + b, 0)
            out.append(h @ self.W[-1] + self.b[-1])
        return np.concatenate(out)
