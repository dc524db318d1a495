"""The spiral data set of the lecture's tutorial (cs231n, "Minimal neural network case study")."""

from __future__ import annotations

import numpy as np

from neuralnet._validation import check_number, check_positive_int


def make_spiral(
    n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Points on `n_classes` spiral arms in 2-D, the cs231n construction.

    For arm j the radius runs linearly from 0 to 1 and the angle from 4j to 4(j+1), plus Gaussian
    noise of standard deviation `noise`; each point is (r·sin t, r·cos t) with label j.

    The noise is drawn from NumPy's legacy generator seeded with `seed`, arm after arm, so that
    `make_spiral(seed=0)` is exactly the data of the cs231n page (which calls `np.random.seed(0)`),
    whose printed losses the tutorial reproduces.

    Returns:
        `x` of shape (n_per_class·n_classes, 2), float64, and integer labels `y` of shape (n,).
    """
    n = check_positive_int(n_per_class, "n_per_class", "make_spiral")
    k = check_positive_int(n_classes, "n_classes", "make_spiral")
    noise = check_number(noise, "noise", "make_spiral", low=0.0)
    rng = np.random.RandomState(seed)
    x = np.zeros((n * k, 2))
    y = np.zeros(n * k, dtype=np.int64)
    for j in range(k):
        ix = range(n * j, n * (j + 1))
        r = np.linspace(0.0, 1, n)
        t = np.linspace(j * 4, (j + 1) * 4, n) + rng.randn(n) * noise
        x[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = j
    return x, y
