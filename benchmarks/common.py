"""Shared pieces of the benchmarks: the synthetic MNIST-shaped data, timing, machine description."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

N_SAMPLES = 60_000
N_FEATURES = 784
N_CLASSES = 10
LAYER_SIZES = (784, 256, 128, 10)


def mnist_like(n: int = N_SAMPLES, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Learnable MNIST-shaped data: float32 inputs in [0, 1] of shape (n, 784), labels 0-9.

    Each class has its own random prototype image; a sample is its prototype plus noise, clipped to
    [0, 1], so a network can learn the classes but not instantly.
    """
    rng = np.random.default_rng(seed)
    prototypes = rng.random((N_CLASSES, N_FEATURES), dtype=np.float32)
    labels = rng.integers(0, N_CLASSES, n)
    x = prototypes[labels] + rng.normal(0.0, 0.5, (n, N_FEATURES)).astype(np.float32)
    np.clip(x, 0.0, 1.0, out=x)
    return x, labels.astype(np.int64)


def glorot_uniform(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)


def median_epoch_seconds(
    run_epoch: Callable[[], None], epochs: int, warmup: int = 1
) -> tuple[float, list[float]]:
    """Run `warmup` untimed epochs, then `epochs` timed ones; the median and all the times."""
    for _ in range(warmup):
        run_epoch()
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        run_epoch()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def blas_info() -> str:
    """The BLAS NumPy uses and its thread count (threadpoolctl when installed)."""
    try:
        from threadpoolctl import threadpool_info

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        return ", ".join(
            f"{p['internal_api']} {p.get('version', '')} ({p['num_threads']} threads, {p.get('architecture', '?')})"
            for p in pools
        )
    except ImportError:
        return "unknown (install threadpoolctl)"


def machine_info() -> dict[str, str]:
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} logical CPUs",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_info(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
    }
