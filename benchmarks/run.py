"""`make bench`: neuralnet's training and inference speed side by side with its peers.

Workloads (MNIST-shaped synthetic float32 data, 60,000 × 784, 10 classes; Adam, lr 1e-3):
  W1  784-256-128-10 ReLU MLP at batch 32, 128 and 1024: neuralnet, the hand-written NumPy loop,
      PyTorch (default and fused Adam), scikit-learn's MLPClassifier, JAX with a jitted step.
  W2  the same with BatchNormalization and Dropout(0.2) after each hidden layer.
  W3  predict on 10,000 samples at batch 1024.
  W4  scaling of neuralnet (and the NumPy loop) with batch size, width and depth, against NumPy's
      float32 matrix-product peak, drawn as a PNG.
  MEM peak resident memory of a process training W1 for one epoch; `import neuralnet` time.

Every framework runs with the same number of threads, epochs are timed round-robin so that noise
hits all of them alike, and the table reports medians. Results go to benchmarks/RESULTS.md.

    python benchmarks/run.py                  # everything (several minutes)
    python benchmarks/run.py --only W1 --quick
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common
import runners

BATCH_SIZES = (32, 128, 1024)


def _frameworks(x, y, sizes, batch_size, threads, batch_norm_dropout=None, include=None):
    trainers = {
        "neuralnet": lambda: runners.neuralnet_trainer(x, y, sizes, batch_size, batch_norm_dropout),
        "NumPy by hand": lambda: runners.numpy_trainer(x, y, sizes, batch_size, batch_norm_dropout),
    }
    if runners.available("numba"):
        trainers["neuralnet, NumPy only"] = lambda: runners.neuralnet_trainer(
            x, y, sizes, batch_size, batch_norm_dropout, accelerator=None
        )
    if runners.available("torch"):
        trainers["PyTorch"] = lambda: runners.torch_trainer(
            x, y, sizes, batch_size, batch_norm_dropout, threads=threads
        )
        trainers["PyTorch, fused Adam"] = lambda: runners.torch_trainer(
            x, y, sizes, batch_size, batch_norm_dropout, fused=True, threads=threads
        )
    if batch_norm_dropout is None and runners.available("sklearn"):
        trainers["scikit-learn"] = lambda: runners.sklearn_trainer(x, y, sizes, batch_size)
    if batch_norm_dropout is None and runners.available("jax"):
        trainers["JAX (jit)"] = lambda: runners.jax_trainer(x, y, sizes, batch_size)
    if include is not None:
        trainers = {k: v for k, v in trainers.items() if k in include}
    return {name: make() for name, make in trainers.items()}


def training_table(
    title, x, y, sizes, threads, repeats, batch_norm_dropout=None, batch_sizes=BATCH_SIZES
):
    """Median seconds per epoch of every framework at every batch size."""
    rows = {}
    for batch_size in batch_sizes:
        trainers = _frameworks(x, y, sizes, batch_size, threads, batch_norm_dropout)
        times = common.interleaved_medians({name: t.epoch for name, t in trainers.items()}, repeats)
        rows[batch_size] = {name: common.median(values) for name, values in times.items()}
        summary = ", ".join(f"{name} {seconds:.3f}s" for name, seconds in rows[batch_size].items())
        print(f"{title} batch {batch_size}: {summary}", flush=True)
    return rows


def predict_table(x, sizes, threads, repeats):
    y_dummy = common.mnist_like(len(x), seed=1)[1]
    trainers = _frameworks(x, y_dummy, sizes, 128, threads)
    for trainer in trainers.values():
        trainer.epoch()  # trained weights (scikit-learn cannot predict before it is fitted)
        trainer.predict(x[:100])
    times = common.interleaved_medians(
        {name: (lambda t=t: t.predict(x)) for name, t in trainers.items()}, repeats * 3
    )
    result = {name: common.median(values) for name, values in times.items()}
    print(
        "W3 predict: " + ", ".join(f"{n} {s * 1000:.1f} ms" for n, s in result.items()), flush=True
    )
    return result


def scaling(threads, quick):
    """Seconds per epoch of neuralnet and the hand loop as batch size, width and depth change."""
    n = 10_000 if not quick else 4_000
    x, y = common.mnist_like(n, seed=2)
    results = {"batch": [], "width": [], "depth": []}
    configs = [
        ("batch", b, (784, 256, 128, 10), b) for b in (16, 32, 64, 128, 256, 512, 1024, 2048)
    ]
    configs += [("width", w, (784, w, w, 10), 128) for w in (64, 128, 256, 512, 1024, 2048)]
    configs += [("depth", d, (784,) + (256,) * d + (10,), 128) for d in (1, 2, 3, 4, 6, 8)]
    for kind, value, sizes, batch_size in configs:
        trainers = _frameworks(
            x, y, sizes, batch_size, threads, include={"neuralnet", "NumPy by hand"}
        )
        times = common.interleaved_medians({k: t.epoch for k, t in trainers.items()}, repeats=2)
        flops = common.mlp_flops_per_sample(sizes) * n
        entry = {name: common.median(v) for name, v in times.items()}
        results[kind].append((value, entry, flops))
        print(
            f"W4 {kind}={value}: "
            + ", ".join(f"{k} {v:.3f}s ({flops / v / 1e9:.0f} GFLOP/s)" for k, v in entry.items()),
            flush=True,
        )
    return results


def plot_scaling(results, peak, path):
    sys.path.insert(0, os.path.join(HERE, "..", "src"))
    from neuralnet import plotting

    figure = plotting.new_figure((13, 3.8))
    axes = figure.subplots(1, 3)
    labels = {"batch": "batch size (784-256-128-10)", "width": "hidden width (2 layers, batch 128)",
              "depth": "hidden layers of 256 (batch 128)"}  # fmt: skip
    for ax, kind in zip(axes, ("batch", "width", "depth")):
        values = [v for v, _, _ in results[kind]]
        for name, style in (("neuralnet", "o-"), ("NumPy by hand", "s--")):
            gflops = [flops / entry[name] / 1e9 for _, entry, flops in results[kind]]
            ax.plot(values, gflops, style, label=name)
        ax.axhline(peak, color="gray", linestyle=":", label=f"NumPy matmul peak ({peak:.0f})")
        ax.set_xscale("log", base=2)
        ax.set_xlabel(labels[kind])
        ax.set_ylabel("achieved GFLOP/s")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    figure.suptitle("Training throughput against NumPy's float32 matrix-product peak")
    plotting.save_figure(figure, path)


def peak_memory(framework: str, quick: bool) -> float | None:
    """Peak RSS (MiB) of a fresh process that trains W1 for one epoch with `framework`."""
    code = (
        "import sys, resource; sys.path.insert(0, {here!r}); import common, runners;"
        "x, y = common.mnist_like({n});"
        "t = runners.{maker}(x, y, common.LAYER_SIZES, 128{extra}); t.epoch();"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    makers = {"neuralnet": ("neuralnet_trainer", ""), "NumPy by hand": ("numpy_trainer", ""),
              "PyTorch": ("torch_trainer", ", threads=2")}  # fmt: skip
    maker, extra = makers[framework]
    n = 20_000 if quick else common.N_SAMPLES
    result = subprocess.run(
        [sys.executable, "-c", code.format(here=HERE, n=n, maker=maker, extra=extra)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        print(result.stderr[-2000:], file=sys.stderr)
        return None
    return int(result.stdout.strip().splitlines()[-1]) / 1024


def import_time(module: str, repeats: int = 7) -> float:
    """Median wall time of `python -c "import module"` minus that of `python -c "pass"` (ms)."""

    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    bare = common.median([run("pass") for _ in range(repeats)])
    loaded = common.median([run(f"import {module}") for _ in range(repeats)])
    return (loaded - bare) * 1000


def write_results(path, info, n, w1, w2, w3, w4_peak, memory, imports, args, elapsed):
    lines = ["# Benchmark results", ""]
    lines.append(f"Measured {datetime.datetime.now():%Y-%m-%d %H:%M} by `make bench` "
                 f"(`python benchmarks/run.py{' ' + ' '.join(args) if args else ''}`), {elapsed / 60:.1f} min.")  # fmt: skip
    lines += ["", "| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in info.items()]
    lines += [
        "",
        (
            "Seconds per epoch are medians of epochs timed round-robin across the frameworks in one run; "
            "*speed-up* is the framework's time divided by neuralnet's (above 1: neuralnet is faster)."
        ),
    ]

    def table(title, rows, n):
        out = ["", f"## {title}", ""]
        names = list(next(iter(rows.values())))
        out.append(
            "| framework | "
            + " | ".join(f"batch {b}: s/epoch | samples/s | speed-up" for b in rows)
            + " |"
        )
        out.append("|---|" + "---|---|---|" * len(rows))
        for name in names:
            cells = []
            for values in rows.values():
                seconds = values[name]
                cells += [
                    f"{seconds:.3f}",
                    f"{n / seconds:,.0f}",
                    f"{seconds / values['neuralnet']:.2f}x",
                ]
            out.append(f"| {name} | " + " | ".join(cells) + " |")
        return out

    lines += ["", f"Training data: {n:,} samples of 784 float32 features."]
    if w1:
        lines += table("W1: 784-256-128-10 ReLU MLP, Adam", w1, n)
    if w2:
        lines += table(
            "W2: the same with BatchNormalization and Dropout(0.2) after each hidden layer", w2, n
        )
    if w3:
        lines += [
            "",
            "## W3: predict on 10,000 samples, batch 1024",
            "",
            "| framework | ms | speed-up |",
            "|---|---|---|",
        ]
        lines += [f"| {k} | {v * 1000:.1f} | {v / w3['neuralnet']:.2f}x |" for k, v in w3.items()]
    if w4_peak is not None:
        peak_line = (
            f"NumPy float32 matrix-product peak on this machine: {w4_peak:.0f} GFLOP/s "
            "(1024×784 by 784×256)."
        )
        lines += ["", "## W4: scaling", "", peak_line, "", "![scaling](scaling.png)"]
    if memory:
        lines += [
            "",
            "## Memory and start-up",
            "",
            "| | peak RSS training W1, one epoch (MiB) |",
            "|---|---|",
        ]
        lines += [f"| {k} | {v:.0f} |" for k, v in memory.items() if v is not None]
    if imports is not None:
        lines += [
            "",
            f"`import neuralnet`: {imports:.0f} ms (median of 7 fresh processes, minus the interpreter's start-up).",
        ]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="W1,W2,W3,W4,MEM", help="comma-separated workloads")
    parser.add_argument("--quick", action="store_true", help="20,000 samples and fewer repeats")
    parser.add_argument("--repeats", type=int, default=None, help="timed epochs per framework")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    args = parser.parse_args(argv)
    only = set(args.only.upper().split(","))
    repeats = args.repeats or (2 if args.quick else 3)
    common.set_threads(args.threads)
    runners.configure_jax_threads(args.threads)
    start = time.perf_counter()
    n = 20_000 if args.quick else common.N_SAMPLES
    x, y = common.mnist_like(n)
    info = common.machine_info()
    info["Threads"] = f"{args.threads} for every framework"
    for module in ("torch", "sklearn", "jax"):
        if runners.available(module):
            info[module] = __import__(module).__version__

    def attempt(label, function, *arguments, **keywords):
        # One workload failing (a peer that will not run here) must not lose the others' numbers.
        try:
            return function(*arguments, **keywords)
        except Exception as error:  # noqa: BLE001
            print(f"{label} failed: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
            return None

    sizes = common.LAYER_SIZES
    w1 = (
        attempt("W1", training_table, "W1", x, y, sizes, args.threads, repeats)
        if "W1" in only
        else None
    )
    w2 = (
        attempt(
            "W2", training_table, "W2", x, y, sizes, args.threads, repeats, batch_norm_dropout=0.2
        )
        if "W2" in only
        else None
    )
    w3 = (
        attempt("W3", predict_table, x[:10_000], sizes, args.threads, repeats)
        if "W3" in only
        else None
    )
    peak = None
    if "W4" in only:
        peak = common.matmul_peak_gflops()
        results = attempt("W4", scaling, args.threads, args.quick)
        if results is not None:
            plot_scaling(results, peak, os.path.join(os.path.dirname(args.out), "scaling.png"))
    memory, imports = None, None
    if "MEM" in only:
        frameworks = ["neuralnet", "NumPy by hand"] + (
            ["PyTorch"] if runners.available("torch") else []
        )
        memory = {name: peak_memory(name, args.quick) for name in frameworks}
        imports = import_time("neuralnet")
        print(f"MEM: {memory}, import neuralnet {imports:.0f} ms", flush=True)
    write_results(args.out, info, n, w1, w2, w3, peak, memory, imports, argv if argv is not None else sys.argv[1:],
                  time.perf_counter() - start)  # fmt: skip
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
