"""How long saving and loading the 784-256-128-10 network takes, in each file format.

The model is compiled with Adam and trained one step, so its files hold the optimizer's moments too
(about 3 x 1.1 MB of float32). Each format is saved and loaded `--repeats` times in this process;
the median and the fastest time are printed, with the file size. `load_model` builds the model from
its config, checks every array and copies the weights in; `load_weights` checks and copies them
into an existing model.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/save_load.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np

import neuralnet as nn


def _model() -> nn.Model:
    nn.utils.set_random_seed(0)
    model = nn.Sequential([
        nn.Input((784,)),
        nn.layers.Dense(256, activation="relu"),
        nn.layers.Dense(128, activation="relu"),
        nn.layers.Dense(10, activation="softmax"),
    ])  # fmt: skip
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    model.train_on_batch(rng.random((64, 784), dtype=np.float32), rng.integers(0, 10, 64))
    return model


def _time(function, repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    model = _model()
    target = _model()
    with tempfile.TemporaryDirectory() as folder:
        cases = [
            ("model.save / load_model (.keras)", os.path.join(folder, "m.keras"),
             model.save, nn.models.load_model),
            ("save_weights / load_weights (.weights.h5)", os.path.join(folder, "w.weights.h5"),
             model.save_weights, target.load_weights),
            ("save_weights / load_weights (.safetensors)", os.path.join(folder, "w.safetensors"),
             model.save_weights, target.load_weights),
        ]  # fmt: skip
        print(
            f"{'format':45s} {'size':>9s} {'save median (best)':>22s} {'load median (best)':>22s}"
        )
        for label, path, save, load in cases:
            save_median, save_best = _time(lambda s=save, p=path: s(p), args.repeats)
            load_median, load_best = _time(lambda f=load, p=path: f(p), args.repeats)
            size = os.path.getsize(path) / 2**20
            print(f"{label:45s} {size:7.2f}MB {save_median * 1e3:12.1f} ms ({save_best * 1e3:5.1f})"
                  f" {load_median * 1e3:12.1f} ms ({load_best * 1e3:5.1f})")  # fmt: skip
        loaded = nn.models.load_model(cases[0][1])
        x = np.random.default_rng(1).random((16, 784), dtype=np.float32)
        assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


if __name__ == "__main__":
    main()
