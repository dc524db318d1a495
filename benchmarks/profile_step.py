"""Where neuralnet's training time goes: the W1 (or W2) workload under pyinstrument.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/profile_step.py \
        --batch-size 1024 --epochs 3

prints pyinstrument's call tree of `fit` (after one warm-up epoch, not profiled): the matrix
products are the self time of `Dense.forward` and `Dense._backward_matmuls`; the compiled kernels
show up under their own names. Needs the `[bench]` extra (pyinstrument).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-norm-dropout", type=float, default=None, help="W2: e.g. 0.2")
    parser.add_argument("--accelerator", choices=["auto", "none"], default="auto")
    args = parser.parse_args()
    try:
        from pyinstrument import Profiler
    except ImportError:
        sys.exit("profile_step.py needs pyinstrument: pip install -e '.[bench]'")
    from threadpoolctl import threadpool_limits

    import neuralnet as nn

    threadpool_limits(args.threads)
    nn.config.set_accelerator(None if args.accelerator == "none" else "auto")
    x, y = common.mnist_like()
    nn.utils.set_random_seed(0)
    stack = [nn.Input((x.shape[1],))]
    for units in common.LAYER_SIZES[1:-1]:
        stack.append(nn.layers.Dense(units, activation="relu"))
        if args.batch_norm_dropout is not None:
            stack += [nn.layers.BatchNormalization(), nn.layers.Dropout(args.batch_norm_dropout)]
    stack.append(nn.layers.Dense(common.N_CLASSES, activation="softmax"))
    model = nn.Sequential(stack)
    model.compile(optimizer=nn.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0)  # compiles, warms the caches

    profiler = Profiler(interval=0.0005)
    start = time.perf_counter()
    profiler.start()
    model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0)
    profiler.stop()
    per_epoch = (time.perf_counter() - start) / args.epochs
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    print(f"{per_epoch:.3f} s per epoch (batch {args.batch_size}, with the profiler's overhead)")


if __name__ == "__main__":
    main()
