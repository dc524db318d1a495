"""Inference of the 784-256-128-10 network on 10,000 samples: `model.predict` against the same
model exported to ONNX and run by ONNX Runtime, in one process, the same two threads.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/onnx_inference.py

Medians of `--repeats` runs after a warm-up; predict with its default batch size (32) and with
one batch of 10,000, ONNX Runtime with one call on all 10,000 rows and in batches of 32.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))


def median_ms(function, repeats: int) -> float:
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    import numpy as np
    import onnxruntime
    from threadpoolctl import threadpool_limits

    import neuralnet as nn
    from neuralnet import layers

    threadpool_limits(args.threads)
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((784,)), layers.Dense(256, activation="relu"),
                           layers.Dense(128, activation="relu"),
                           layers.Dense(10, activation="softmax")])  # fmt: skip
    x = np.random.default_rng(0).random((args.samples, 784), dtype=np.float32)
    path = os.path.join(tempfile.mkdtemp(), "w1.onnx")
    model.export(path, format="onnx")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    np.testing.assert_allclose(session.run(None, {name: x})[0], model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)  # fmt: skip

    def ort_batches():
        for start in range(0, len(x), 32):
            session.run(None, {name: x[start : start + 32]})

    rows = {
        "model.predict(x) (batch 32)": lambda: model.predict(x, verbose=0),
        f"model.predict(x, batch_size={args.samples})": lambda: model.predict(
            x, batch_size=args.samples, verbose=0
        ),
        f"ONNX Runtime, one run of {args.samples}": lambda: session.run(None, {name: x}),
        "ONNX Runtime, runs of 32": ort_batches,
    }
    print(f"784-256-128-10 on {args.samples} samples, {args.threads} threads, "
          f"median of {args.repeats} (onnxruntime {onnxruntime.__version__})")  # fmt: skip
    print("| | ms |\n|---|---|")
    for label, function in rows.items():
        print(f"| {label} | {median_ms(function, args.repeats):.2f} |", flush=True)


if __name__ == "__main__":
    main()
