"""Training from a file larger than memory: the 784-256-128-10 network fit on a memory-mapped
uint8 .npy file, samples per second and the process's memory, against the same data in RAM.

The data are random MNIST-like uint8 images (a prototype per class plus noise) written chunk by
chunk with `np.lib.format.open_memmap` into `--folder`, `--sizes` GB each (1 GB = 1e9 bytes,
N = size / 784 rows), with their labels (uint8, loaded into RAM as int64 by default). A file already
there with the right shape is reused; `--delete` removes the files at the end.

Each measurement runs in a fresh process: 784-256-128-10 ReLU (softmax out), Adam, sparse
categorical cross-entropy, `model.fit(x, y, batch_size=--batch, epochs=1, steps_per_epoch=--steps)`
after a warm-up fit of 3 steps on other (in-RAM) data. A thread reads `RssAnon` (the process's own
memory) and `RssFile` (mapped file pages: page cache, shared and reclaimable) from
/proc/self/status every 50 ms during the fit. Sources: `memmap` (`np.load(path, mmap_mode="r")`,
every size), and for the smallest size only `RAM uint8` (the file read into an array) and
`RAM float32` (converted beforehand, in chunks). `cold` evicts the file's pages from the page
cache first (posix_fadvise DONTNEED), so every row is read from the disk; `warm` reads the file
once beforehand so that it is all in the page cache (if it fits). On a page fault of a mapping
the kernel reads around the page (128 kB by default): shuffled rows from a cold file then read
much of the file; `--madvise random` turns that off (MADV_RANDOM on the mapping).

samples/s is the steady rate, from the start of batch 10 to the end of the fit, the best of
`--repeats` processes (memory: the most of any of them); `fit s` is that process's whole call,
its setup included (the labels' checks and, shuffled, a permutation of all N rows). The in-RAM
`RAM uint8` array is converted to float32 by fit as a whole (only a memory map is converted per
batch): its RssAnon shows that.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/out_of_core.py \\
        --sizes 1,4,16 --steps 200 --batch 1024 --cache cold,warm [--no-shuffle] [--madvise random] [--delete]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

WORKER = r"""
import json, os, statistics, sys, threading, time
import numpy as np
spec = json.loads(sys.argv[1])
sys.path.insert(0, spec["src"])
import neuralnet as nn
from neuralnet import layers

def status():
    values = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("RssAnon:", "RssFile:", "VmHWM:")):
                key, value = line.split(":")
                values[key] = int(value.split()[0]) / 1024  # kB -> MiB
    return values

def evict(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)

def read_through(path, chunk=1 << 26):
    with open(path, "rb", buffering=0) as f:
        buffer = bytearray(chunk)
        while f.readinto(buffer):
            pass

xpath, ypath, source, batch, steps = (spec[k] for k in ("x", "y", "source", "batch", "steps"))
if spec["cache"] == "cold":
    evict(xpath)
    evict(ypath)
elif spec["cache"] == "warm":
    read_through(xpath)
    read_through(ypath)

nn.utils.set_random_seed(0)
model = nn.Sequential([
    nn.Input((784,)),
    layers.Dense(256, activation="relu"),
    layers.Dense(128, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
rng = np.random.default_rng(1)
model.fit(rng.random((3 * batch, 784), dtype=np.float32), rng.integers(0, 10, 3 * batch),
          batch_size=batch, epochs=1, verbose=0)

if spec["labels"] == "memmap":
    y = np.load(ypath, mmap_mode="r")
else:
    y = np.load(ypath).astype(np.int64)
x = np.load(xpath, mmap_mode="r")
if spec["madvise"] != "none":  # the kernel's read-around on a page fault: off for "random"
    import mmap
    x._mmap.madvise({"random": mmap.MADV_RANDOM, "sequential": mmap.MADV_SEQUENTIAL}[spec["madvise"]])
if source == "RAM uint8":
    x = np.array(x)
elif source == "RAM float32":
    mapped, x = x, np.empty(x.shape, np.float32)
    for start in range(0, len(x), 1 << 16):
        x[start:start + (1 << 16)] = mapped[start:start + (1 << 16)]
    del mapped
n = len(x)
if steps * batch > n:
    steps = max(1, n // batch)

samples, done = [], threading.Event()
def sample():
    while not done.is_set():
        samples.append(status())
        done.wait(0.05)

class Clock(nn.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.begins = []
    def on_train_batch_begin(self, batch, logs=None):
        self.begins.append(time.perf_counter())

clock = Clock()
before = status()
sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
start = time.perf_counter()
history = model.fit(x, y, batch_size=batch, epochs=1, steps_per_epoch=steps, verbose=0,
                    shuffle=spec["shuffle"], callbacks=[clock])
end = time.perf_counter()
done.set()
sampler.join()
samples.append(status())
skip = min(10, len(clock.begins) - 1)
anon = [s["RssAnon"] for s in samples]
print(json.dumps({
    "n": n, "steps": steps, "loss": float(history.history["loss"][-1]),
    "samples_per_s": (steps - skip) * batch / (end - clock.begins[skip]),
    "fit_s": end - start,
    "anon_before": before["RssAnon"], "anon_peak": max(anon), "anon_median": statistics.median(anon),
    "file_peak": max(s["RssFile"] for s in samples), "hwm": samples[-1]["VmHWM"],
}))
"""

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")
ROW_BYTES = 784
CHUNK_ROWS = 1 << 16  # 51 MB of uint8 rows per write


def _paths(folder: str, size_gb: float) -> tuple[str, str, int]:
    n = int(size_gb * 1e9) // ROW_BYTES
    stem = os.path.join(folder, f"mnist_like_{size_gb:g}GB")
    return stem + "_x.npy", stem + "_y.npy", n


def _has_shape(path: str, shape: tuple[int, ...]) -> bool:
    try:
        array = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return False
    return array.shape == shape and array.dtype == np.uint8


def _drop_cache(path: str, sync: bool = False) -> None:
    """Written back to the disk (`sync`) and evicted from the page cache."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if sync:
            os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def write_data(folder: str, size_gb: float, seed: int = 0) -> tuple[str, str, int]:
    """uint8 images (N, 784) and labels (N,), written chunk by chunk through a memory map (and
    flushed to the disk), so that writing them never needs them in RAM."""
    xpath, ypath, n = _paths(folder, size_gb)
    if _has_shape(xpath, (n, ROW_BYTES)) and _has_shape(ypath, (n,)):
        return xpath, ypath, n
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    prototypes = rng.integers(0, 192, (10, ROW_BYTES), dtype=np.uint8)
    xpart, ypart = xpath + ".part", ypath + ".part"  # renamed when complete
    np.lib.format.open_memmap(xpart, mode="w+", dtype=np.uint8, shape=(n, ROW_BYTES)).flush()
    y = np.lib.format.open_memmap(ypart, mode="w+", dtype=np.uint8, shape=(n,))
    # A pool of noise rows, drawn once: each chunk adds a random window of it to its prototypes
    # (drawing fresh noise for every row would take ten times as long as the writing).
    pool = np.frombuffer(rng.bytes(2 * CHUNK_ROWS * ROW_BYTES), np.uint8).reshape(-1, ROW_BYTES)
    pool = pool >> 2  # noise 0..63
    group = 16 * CHUNK_ROWS  # about 800 MB mapped at a time, then written back and unmapped
    for first in range(0, n, group):
        x = np.lib.format.open_memmap(xpart, mode="r+")
        for start in range(first, min(n, first + group), CHUNK_ROWS):
            stop = min(n, start + CHUNK_ROWS)
            labels = rng.integers(0, 10, stop - start, dtype=np.uint8)
            offset = int(rng.integers(0, CHUNK_ROWS))
            np.add(prototypes[labels], pool[offset : offset + stop - start], out=x[start:stop])
            y[start:stop] = labels
        x.flush()
        del x
        _drop_cache(xpart, sync=True)
    y.flush()
    del y
    _drop_cache(ypart, sync=True)
    os.replace(xpart, xpath)
    os.replace(ypart, ypath)
    return xpath, ypath, n


def run(spec: dict, threads: int, timeout: float) -> dict | None:
    environment = {
        **os.environ,
        "OMP_NUM_THREADS": str(threads),
        "OPENBLAS_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
    }
    try:
        result = subprocess.run([sys.executable, "-c", WORKER, json.dumps({**spec, "src": SRC})],
                                check=False, capture_output=True, text=True, env=environment,
                                timeout=timeout)  # fmt: skip
    except subprocess.TimeoutExpired:
        print(f"  {spec['source']} ({spec['cache']}): over {timeout:g} s, stopped", flush=True)
        return None
    if result.returncode != 0:
        print(f"  {spec['source']}: failed: {result.stderr.strip().splitlines()[-3:]}", flush=True)
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1,4,16", help="GB per file (1e9 bytes), comma-separated"
    )
    parser.add_argument("--folder", default="/tmp/ooc")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600, help="seconds per process")
    parser.add_argument("--repeats", type=int, default=2, help="fresh processes per measurement")
    parser.add_argument("--shuffle", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--cache", default="cold,warm", help="cold, warm or both: cold,warm")
    parser.add_argument("--labels", choices=("ram", "memmap"), default="ram",
                        help="labels as an int64 array in RAM, or memory-mapped uint8")  # fmt: skip
    parser.add_argument("--madvise", choices=("none", "random", "sequential"), default="none",
                        help="madvise the mapping (random: no read-around on page faults)")  # fmt: skip
    parser.add_argument("--no-ram", action="store_true", help="skip the in-RAM references")
    parser.add_argument("--delete", action="store_true", help="delete the data files at the end")
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]
    caches = args.cache.split(",")
    free = shutil.disk_usage(args.folder if os.path.isdir(args.folder) else "/tmp").free
    ram = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    print(f"out of core: {args.steps} steps of batch {args.batch}, "
          f"{'shuffled' if args.shuffle else 'in order'}, labels {args.labels}, madvise "
          f"{args.madvise}, {args.threads} "
          f"threads, {os.cpu_count()} CPUs, {ram:.0f} GiB RAM, {free / 1e9:.0f} GB free in "
          f"{args.folder}, load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    header = (f"{'size':>6s} {'N samples':>11s} {'source':12s} {'cache':5s} {'samples/s':>10s} "
              f"{'fit s':>6s} {'RssAnon MiB: before':>19s} {'peak':>6s} {'median':>6s} "
              f"{'peak RssFile MiB':>16s} {'VmHWM MiB':>9s}")  # fmt: skip
    rows = []
    paths = []
    for size in sizes:
        start = time.perf_counter()
        xpath, ypath, n = write_data(args.folder, size)
        paths += [xpath, ypath]
        print(f"data {size:g} GB: {n} x 784 uint8 in {xpath} ({time.perf_counter() - start:.0f} s)",
              flush=True)  # fmt: skip
        cases = [("memmap", cache) for cache in caches]
        if size == min(sizes) and not args.no_ram:
            cases += [("RAM uint8", "-"), ("RAM float32", "-")]
        for source, cache in cases:
            spec = {"x": xpath, "y": ypath, "source": source, "cache": cache, "batch": args.batch,
                    "steps": args.steps, "shuffle": args.shuffle, "labels": args.labels,
                    "madvise": args.madvise}  # fmt: skip
            results = [
                r for r in (run(spec, args.threads, args.timeout) for _ in range(args.repeats)) if r
            ]
            if not results:
                continue
            # The fastest run's speed; memory, the most any run used.
            result = max(results, key=lambda r: r["samples_per_s"])
            for key in ("anon_before", "anon_peak", "anon_median", "file_peak", "hwm"):
                result[key] = max(r[key] for r in results)
            row = (f"{size:5g}G {result['n']:11d} {source:12s} {cache:5s} "
                   f"{result['samples_per_s']:10.0f} {result['fit_s']:6.2f} "
                   f"{result['anon_before']:19.0f} {result['anon_peak']:6.0f} "
                   f"{result['anon_median']:6.0f} {result['file_peak']:16.0f} "
                   f"{result['hwm']:9.0f}")  # fmt: skip
            rows.append(row)
            print(row, flush=True)
    print(header)
    for row in rows:
        print(row)
    if args.delete:
        for path in paths:
            os.remove(path)


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"({time.perf_counter() - start:.0f} s, load average {os.getloadavg()[0]:.1f})")
