"""W4 over MPI: the 784-256-128-10 network (Adam) trained by 1 and 2 ranks on this machine,
samples per second, parallel efficiency, and the time of the gradients' Allreduce per step.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/distributed.py \\
        --samples 60000 --batch 128,1024 --epochs 2

Each configuration runs as its own `mpiexec -n P` job (the mpich wheel of the dev extra, or the
MPI on PATH). With 2 cores, 1 rank with 2 BLAS threads is the one-process baseline; 2 ranks get
1 thread each, and so does the 1-rank job they are compared with (the same cores, split two ways
rather than shared by one BLAS). Data: random MNIST-shaped float32 rows, the same on every rank.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

WORKER = r"""
import json, sys, time
import numpy as np
spec = json.loads(sys.argv[1])
sys.path.insert(0, spec["src"])
import neuralnet as nn
from neuralnet import layers
comm = None
if spec["ranks"] > 1:
    import neuralnet.distributed
    comm = neuralnet.distributed.initialize()
rng = np.random.default_rng(0)
x = rng.random((spec["samples"], 784), dtype=np.float32)
y = rng.integers(0, 10, spec["samples"])
nn.utils.set_random_seed(0)
model = nn.Sequential([nn.Input((784,)), layers.Dense(256, activation="relu"),
                       layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")])
model.compile("adam", "sparse_categorical_crossentropy")
batch = spec["batch"]
model.fit(x[: batch * 4], y[: batch * 4], batch_size=batch, epochs=1, verbose=0)
if comm is not None:
    comm.allreduce_seconds, comm.allreduce_count = 0.0, 0
    comm.barrier()
times = []
for _ in range(spec["epochs"]):
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    times.append(time.perf_counter() - start)
result = {"times": times}
if comm is not None:
    result["allreduce_ms"] = 1e3 * comm.allreduce_seconds / max(comm.allreduce_count, 1)
if comm is None or comm.is_chief:
    print(json.dumps(result))
"""

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")


def run(ranks: int, threads: int, samples: int, batch: int, epochs: int) -> dict | None:
    mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which(
        "mpiexec"
    )
    spec = {"ranks": ranks, "samples": samples, "batch": batch, "epochs": epochs, "src": SRC}
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads)}  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(WORKER)
    try:
        command = [sys.executable, script.name, json.dumps(spec)]
        if ranks > 1:
            if mpiexec is None:
                print("  no mpiexec: pip install mpich (the dev extra has it)")
                return None
            command = [mpiexec, "-n", str(ranks), *command]
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    finally:
        os.unlink(script.name)
    if done.returncode != 0:
        print(f"  {ranks} ranks: failed: {done.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--batch", default="128,1024")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    print(f"W1 network over MPI, {args.samples} samples, best of {args.epochs} epochs")
    print("| global batch | ranks x threads | s/epoch | samples/s | vs 1x1 | Allreduce ms/step |")
    print("|---|---|---|---|---|---|")
    for batch in (int(b) for b in args.batch.split(",")):
        base = None
        for ranks, threads in ((1, 2), (1, 1), (2, 1)):
            result = run(ranks, threads, args.samples, batch, args.epochs)
            if result is None:
                continue
            best = min(result["times"])
            speed = args.samples / best
            if (ranks, threads) == (1, 1):
                base = speed
            ratio = f"{speed / base:.2f}x" if base and ranks > 1 else ""
            allreduce = f"{result['allreduce_ms']:.3f}" if "allreduce_ms" in result else ""
            print(f"| {batch} | {ranks} x {threads} | {best:.2f} | {speed:,.0f} | {ratio} | "
                  f"{allreduce} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
