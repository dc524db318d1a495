"""W5: the Keras book's first MNIST convnet, seconds per epoch, neuralnet against PyTorch eager and
Keras 3 on JAX, each in its own process with the same number of threads.

Conv2D 32 3x3 relu, MaxPooling2D 2, Conv2D 64 3x3 relu, MaxPooling2D 2, Conv2D 128 3x3 relu,
Flatten, Dense 10 softmax; RMSprop (lr 1e-3); sparse categorical cross-entropy; 28x28x1 float32
inputs (random, the same for every framework), shuffled mini-batches. Each framework trains
`--epochs` epochs after a warm-up of a few batches; the best epoch is reported (and the median).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/convnet.py \\
        --samples 60000 --batch 64,256 --frameworks neuralnet,torch,keras-jax \\
        --torch-python /path/to/venv-with-torch/bin/python --keras-python /path/to/keras-jax/python

A framework whose Python is not given runs with this interpreter (and is skipped if it is missing).
`--layer-times` also prints where a neuralnet step goes: each layer's forward and backward time per
step (wall clock around each call, in the timed epochs), and the rest (loss, optimizer, batching).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

WORKER = r"""
import json, os, sys, time
import numpy as np
spec = json.loads(sys.argv[1])
n, batch, epochs, framework = spec["samples"], spec["batch"], spec["epochs"], spec["framework"]
rng = np.random.default_rng(0)
x = rng.random((n, 28, 28, 1), dtype=np.float32)
y = rng.integers(0, 10, n)
times = []
layer_times = {}

if framework == "neuralnet":
    sys.path.insert(0, spec["src"])
    import neuralnet as nn
    from neuralnet import layers
    nn.utils.set_random_seed(0)
    model = nn.Sequential([
        nn.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(128, 3, activation="relu"), layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=nn.optimizers.RMSprop(1e-3), loss="sparse_categorical_crossentropy")
    model.fit(x[: batch * 3], y[: batch * 3], batch_size=batch, epochs=1, verbose=0)
    if spec["layer_times"]:
        for layer in model.layers:
            for method in ("forward", "backward"):
                def timed(*args, _call=getattr(layer, method), _key=f"{layer.name}.{method}",
                          **kwargs):
                    begin = time.perf_counter()
                    out = _call(*args, **kwargs)
                    layer_times[_key] = layer_times.get(_key, 0.0) + time.perf_counter() - begin
                    return out
                setattr(layer, method, timed)
    for _ in range(epochs):
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        times.append(time.perf_counter() - start)
    steps = epochs * -(-n // batch)
    layer_times = {key: value / steps for key, value in layer_times.items()}
    if layer_times:
        layer_times["rest"] = sum(times) / steps - sum(layer_times.values())

elif framework == "torch":
    import torch
    torch.manual_seed(0)
    torch.set_num_threads(spec["threads"])
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(64, 128, 3), torch.nn.ReLU(), torch.nn.Flatten(),
        torch.nn.Linear(128 * 3 * 3, 10),
    )
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    yt = torch.from_numpy(y)
    def epoch(limit=None):
        order = torch.randperm(n)
        stop = n if limit is None else limit
        for i in range(0, stop, batch):
            index = order[i:i + batch]
            optimizer.zero_grad()
            loss = loss_fn(model(xt[index]), yt[index])
            loss.backward()
            optimizer.step()
    epoch(batch * 3)
    for _ in range(epochs):
        start = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - start)

elif framework == "keras-jax":
    os.environ["KERAS_BACKEND"] = "jax"
    import keras
    from keras import layers
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(128, 3, activation="relu"), layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss="sparse_categorical_crossentropy")
    model.fit(x[: batch * 3], y[: batch * 3], batch_size=batch, epochs=1, verbose=0)
    for _ in range(epochs):
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        times.append(time.perf_counter() - start)

print(json.dumps({"times": times, "layers": layer_times}))
"""

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")


def run(framework: str, python: str, samples: int, batch: int, epochs: int,
        threads: int, layer_times: bool = False) -> dict | None:  # fmt: skip
    spec = {"framework": framework, "samples": samples, "batch": batch, "epochs": epochs,
            "threads": threads, "src": SRC, "layer_times": layer_times}  # fmt: skip
    environment = {
        **os.environ,
        "OMP_NUM_THREADS": str(threads),
        "OPENBLAS_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "XLA_FLAGS": f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={threads}",
    }
    result = subprocess.run([python, "-c", WORKER, json.dumps(spec)], check=False, capture_output=True,
                            text=True, env=environment)  # fmt: skip
    if result.returncode != 0:
        print(f"  {framework}: failed: {result.stderr.strip().splitlines()[-1:]}", flush=True)
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--batch", default="64,256")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frameworks", default="neuralnet,torch,keras-jax")
    parser.add_argument("--torch-python", default=sys.executable)
    parser.add_argument("--keras-python", default=sys.executable)
    parser.add_argument(
        "--layer-times",
        action="store_true",
        help="neuralnet: time each layer's forward and backward per step",
    )
    args = parser.parse_args()
    pythons = {"neuralnet": sys.executable, "torch": args.torch_python,
               "keras-jax": args.keras_python}  # fmt: skip
    print(f"W5 convnet, {args.samples} samples, {args.threads} threads, best (median) of "
          f"{args.epochs} epochs, seconds per epoch", flush=True)  # fmt: skip
    for batch in (int(b) for b in args.batch.split(",")):
        row, profile = {}, {}
        for framework in args.frameworks.split(","):
            result = run(framework, pythons[framework], args.samples, batch, args.epochs,
                         args.threads, args.layer_times and framework == "neuralnet")  # fmt: skip
            if result:
                times = result["times"]
                row[framework] = (min(times), statistics.median(times))
                profile = result["layers"] or profile
        cells = ", ".join(
            f"{name} {best:.2f} ({median:.2f})" for name, (best, median) in row.items()
        )
        print(f"batch {batch}: {cells}", flush=True)
        if "neuralnet" in row:
            for name, (best, _) in row.items():
                if name != "neuralnet":
                    print(f"  neuralnet throughput / {name}: {best / row['neuralnet'][0]:.2f}x")
        if args.layer_times and profile:
            print("  neuralnet, ms per step:", flush=True)
            for key, seconds in profile.items():
                print(f"    {key:28s} {seconds * 1e3:7.2f}")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"({time.perf_counter() - start:.0f} s)")
