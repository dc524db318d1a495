"""Shared pieces of the benchmarks: the synthetic MNIST-shaped data, timing, the machine's description."""

from __future__ import annotations

import itertools
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
    """Learnable MNIST-shaped data: float32 inputs of shape (n, 784), integer labels 0-9.

    Each class is a prototype image (a shared base plus a small class-specific pattern) with noise
    on top, tuned so that an MLP reaches a loss of about 0.5 after a few epochs: the softmax never
    saturates, so no framework runs into float32 subnormals.
    """
    rng = np.random.default_rng(seed)
    base = rng.random(N_FEATURES, dtype=np.float32)
    prototypes = base + 0.08 * rng.standard_normal((N_CLASSES, N_FEATURES), dtype=np.float32)
    labels = rng.integers(0, N_CLASSES, n)
    x = np.empty((n, N_FEATURES), dtype=np.float32)
    for start in range(
        0, n, 10_000
    ):  # in chunks, so that making the data takes little extra memory
        stop = min(n, start + 10_000)
        rng.standard_normal((stop - start, N_FEATURES), dtype=np.float32, out=x[start:stop])
        x[start:stop] += prototypes[labels[start:stop]]
    return x, labels.astype(np.int64)


def glorot_uniform(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)


def interleaved_medians(
    runs: dict[str, Callable[[], object]], repeats: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Time each run `repeats` times, round-robin (A, B, C, A, B, C, ...) so that a noisy neighbour
    slows every framework alike; `warmup` untimed rounds first. Returns all times per run."""
    for _ in range(warmup):
        for run in runs.values():
            run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def mlp_flops_per_sample(sizes: tuple[int, ...]) -> int:
    """Floating-point operations of one training step per sample: 2·m·n per matrix product, three
    products per layer (forward, dW, dX) except dX of the first layer."""
    products = [(a, b) for a, b in itertools.pairwise(sizes)]
    forward = sum(2 * a * b for a, b in products)
    grad_w = forward
    grad_x = sum(2 * a * b for a, b in products[1:])
    return forward + grad_w + grad_x


def matmul_peak_gflops(
    batch: int = 1024, sizes: tuple[int, int] = (784, 256), seconds: float = 1.0
) -> float:
    """NumPy's float32 matrix-product speed on this machine (the best of several timings)."""
    rng = np.random.default_rng(0)
    a = rng.random((batch, sizes[0]), dtype=np.float32)
    b = rng.random(sizes, dtype=np.float32)
    out = np.empty((batch, sizes[1]), dtype=np.float32)
    for _ in range(5):
        np.matmul(a, b, out=out)
    best = float("inf")
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        for _ in range(10):
            np.matmul(a, b, out=out)
        best = min(best, (time.perf_counter() - start) / 10)
    return 2 * batch * sizes[0] * sizes[1] / best / 1e9


def set_threads(threads: int) -> None:
    """Limit NumPy's BLAS to `threads` (threadpoolctl), for every framework alike."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except ImportError:
        pass


def blas_info() -> str:
    """The BLAS NumPy uses and its thread count (threadpoolctl when installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (install threadpoolctl)"
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    return ", ".join(
        f"{p['internal_api']} {p.get('version', '')} ({p['num_threads']} threads, {p.get('architecture', '?')})"
        for p in pools
    )


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, str]:
    return {
        "CPU": f"{cpu_name()}, {os.cpu_count()} logical CPUs, {platform.machine()}",
        "Python": platform.python_version(),
        "NumPy": np.__version__,
        "BLAS": blas_info(),
        "OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE": (
            f"{os.environ.get('OPENBLAS_CORETYPE', 'unset')} / {os.environ.get('OPENBLAS_L2_SIZE', 'unset')}"
        ),
    }
