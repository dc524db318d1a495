"""`make bench`: neuralnet's training and inference speed side by side with its peers.

Workloads (MNIST-shaped synthetic float32 data, 60,000 × 784, 10 classes; Adam, lr 1e-3):
  W1  784-256-128-10 ReLU MLP at batch 32, 128 and 1024: neuralnet, the hand-written NumPy loop,
      PyTorch (default and fused Adam), scikit-learn's MLPClassifier, JAX with a jitted step.
  W2  the same with BatchNormalization and Dropout(0.2) after each hidden layer.
  W3  predict on 10,000 samples at batch 1024.
  W4  scaling of neuralnet (and the NumPy loop) with batch size, width and depth, against NumPy's
      float32 matrix-product peak, drawn as a PNG.
  MEM peak resident memory of a process training W1 for one epoch; `import neuralnet` time.

Every framework runs with the same number of threads, in a fresh process of its own (twice, in
forward then reverse order, so that a slow phase of the machine does not land on one framework),
and the tables report medians. Results go to benchmarks/RESULTS.md.

    python benchmarks/run.py                  # everything (several minutes)
    python benchmarks/run.py --only W1 --quick
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common
import runners

BATCH_SIZES = (32, 128, 1024)


def _framework_makers(x, y, sizes, batch_size, threads, batch_norm_dropout=None):
    """name -> function building that framework's trainer, for the frameworks installed here."""
    makers = {
        "neuralnet": lambda: runners.neuralnet_trainer(x, y, sizes, batch_size, batch_norm_dropout),
        "NumPy by hand": lambda: runners.numpy_trainer(x, y, sizes, batch_size, batch_norm_dropout),
    }
    if runners.available("numba"):
        makers["neuralnet, NumPy only"] = lambda: runners.neuralnet_trainer(
            x, y, sizes, batch_size, batch_norm_dropout, accelerator=None
        )
    if runners.available("torch"):
        makers["PyTorch"] = lambda: runners.torch_trainer(
            x, y, sizes, batch_size, batch_norm_dropout, threads=threads
        )
        makers["PyTorch, fused Adam"] = lambda: runners.torch_trainer(
            x, y, sizes, batch_size, batch_norm_dropout, fused=True, threads=threads
        )
    if batch_norm_dropout is None and runners.available("sklearn"):
        makers["scikit-learn"] = lambda: runners.sklearn_trainer(x, y, sizes, batch_size)
    if batch_norm_dropout is None and runners.available("jax"):
        makers["JAX (jit)"] = lambda: runners.jax_trainer(x, y, sizes, batch_size)
    return makers


def _frameworks(x, y, sizes, batch_size, threads, batch_norm_dropout=None, include=None):
    makers = _framework_makers(x, y, sizes, batch_size, threads, batch_norm_dropout)
    return {name: make() for name, make in makers.items() if include is None or name in include}


def worker(spec: dict) -> dict:
    """Time one framework in this fresh process (run by `run_isolated`): no other framework's
    threads or allocator state can disturb it."""
    common.set_threads(spec["threads"])
    runners.configure_jax_threads(spec["threads"])
    x, y = common.mnist_like(spec["n"])
    makers = _framework_makers(x, y, tuple(spec["sizes"]), spec["batch_size"], spec["threads"],
                               spec.get("batch_norm_dropout"))  # fmt: skip
    trainer = makers[spec["name"]]()
    if spec["kind"] == "train" and trainer.timed_epochs is not None:
        times = trainer.timed_epochs(spec["repeats"] + 1)[1:]  # the first epoch is the warm-up
    elif spec["kind"] == "train":
        times = common.interleaved_medians({"run": trainer.epoch}, spec["repeats"])["run"]
    else:
        trainer.epoch()  # trained weights (scikit-learn cannot predict before it is fitted)
        data = x[: spec["predict_samples"]]
        times = common.interleaved_medians({"run": lambda: trainer.predict(data)}, spec["repeats"])[
            "run"
        ]
    return {"times": times}


def run_isolated(spec: dict) -> list[float]:
    """Run `worker(spec)` in a new Python process and return its timings."""
    result = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"{spec['name']} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["times"]


ROUNDS = 2


def _isolated_table(label, names, spec_for, rounds=None):
    """Every framework in its own process, in forward then reverse order, so that a slow phase of
    the machine does not land on one framework; the medians of all timings."""
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(rounds or ROUNDS):
        order = names if round_index % 2 == 0 else list(reversed(names))
        for name in order:
            try:
                times[name] += run_isolated(spec_for(name))
            except RuntimeError as error:
                print(f"{label}: {error}", file=sys.stderr, flush=True)
    return {name: common.median(values) for name, values in times.items() if values}


def training_table(title, n, sizes, threads, repeats, batch_norm_dropout=None):
    """Median seconds per epoch of every framework at every batch size."""
    rows = {}
    for batch_size in BATCH_SIZES:
        names = list(_framework_makers(None, None, sizes, batch_size, threads, batch_norm_dropout))
        base = {"kind": "train", "n": n, "sizes": list(sizes), "batch_size": batch_size,
                "threads": threads, "batch_norm_dropout": batch_norm_dropout, "repeats": repeats}  # fmt: skip
        rows[batch_size] = _isolated_table(
            title, names, lambda name, base=base: {**base, "name": name}
        )
        summary = ", ".join(f"{name} {seconds:.3f}s" for name, seconds in rows[batch_size].items())
        print(f"{title} batch {batch_size}: {summary}", flush=True)
    return rows


def predict_table(sizes, threads, repeats, samples=10_000):
    """Median seconds to predict `samples` samples at batch 1024, each framework in its process."""
    names = list(_framework_makers(None, None, sizes, 128, threads))
    base = {"kind": "predict", "n": samples, "sizes": list(sizes), "batch_size": 128,
            "threads": threads, "repeats": repeats * 3, "predict_samples": samples}  # fmt: skip
    result = _isolated_table("W3", names, lambda name: {**base, "name": name})
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
        if kind != "depth":
            ax.set_xscale("log", base=2)
        ax.set_xlabel(labels[kind])
        ax.set_ylabel("achieved GFLOP/s")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    figure.suptitle("Training throughput against NumPy's float32 matrix-product peak")
    plotting.save_figure(figure, path)


def peak_memory(framework: str, quick: bool) -> float | None:
    """Peak resident memory (MiB, the kernel's VmHWM) of a fresh process that makes the data and
    trains W1 for one epoch with `framework`. (ru_maxrss would not do: Linux carries it over from
    the parent process across exec.)"""
    code = (
        "import sys; sys.path.insert(0, {here!r}); import common, runners;"
        "x, y = common.mnist_like({n});"
        "t = runners.{maker}(x, y, common.LAYER_SIZES, 128{extra}); t.epoch();"
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    )
    makers = {"neuralnet": ("neuralnet_trainer", ""), "neuralnet, NumPy only": ("neuralnet_trainer", ", accelerator=None"),
              "NumPy by hand": ("numpy_trainer", ""), "PyTorch": ("torch_trainer", ", threads=2")}  # fmt: skip
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


def import_time(module: str, repeats: int = 9) -> float:
    """Median wall time of `python -c "import module"` minus that of `python -c "pass"` (ms), with
    bytecode caching on (as after a normal install) and NumPy's own import time reported apart."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        return time.perf_counter() - start

    run(f"import {module}")  # writes the bytecode caches
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
            "Each framework runs in a fresh process of its own (no other framework's threads or memory "
            "allocator can disturb it), twice, in forward then reverse order; seconds per epoch are "
            "the medians of all timed epochs (after one warm-up epoch per process). neuralnet's "
            "epochs are timed inside one `fit(epochs=...)` call (its data checks run once per call). "
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
        imports, numpy_import = imports
        lines += [
            "",
            (
                f"`import neuralnet`: {imports:.0f} ms, of which NumPy's own import takes "
                f"{numpy_import:.0f} ms (medians of 9 fresh processes with bytecode caches, minus "
                "the interpreter's start-up)."
            ),
        ]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    global ROUNDS, BATCH_SIZES  # set from the command line
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="W1,W2,W3,W4,MEM", help="comma-separated workloads")
    parser.add_argument("--quick", action="store_true", help="20,000 samples and fewer repeats")
    parser.add_argument("--repeats", type=int, default=None, help="timed epochs per framework")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--batch-sizes",
        default=",".join(map(str, BATCH_SIZES)),
        help="for W1 and W2, e.g. 32,128,1024",
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="processes per framework (alternating order)"
    )
    parser.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    only = set(args.only.upper().split(","))
    ROUNDS = args.rounds
    BATCH_SIZES = tuple(int(b) for b in args.batch_sizes.split(","))
    repeats = args.repeats or (2 if args.quick else 3)
    common.set_threads(args.threads)
    runners.configure_jax_threads(args.threads)
    start = time.perf_counter()
    n = 20_000 if args.quick else common.N_SAMPLES
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
        attempt("W1", training_table, "W1", n, sizes, args.threads, repeats)
        if "W1" in only
        else None
    )
    w2 = (
        attempt("W2", training_table, "W2", n, sizes, args.threads, repeats, batch_norm_dropout=0.2)
        if "W2" in only
        else None
    )
    w3 = attempt("W3", predict_table, sizes, args.threads, repeats) if "W3" in only else None
    peak = None
    if "W4" in only:
        peak = common.matmul_peak_gflops()
        results = attempt("W4", scaling, args.threads, args.quick)
        if results is not None:
            plot_scaling(results, peak, os.path.join(os.path.dirname(args.out), "scaling.png"))
    memory, imports = None, None
    if "MEM" in only:
        frameworks = ["neuralnet", "neuralnet, NumPy only", "NumPy by hand"] + (
            ["PyTorch"] if runners.available("torch") else []
        )
        memory = {name: peak_memory(name, args.quick) for name in frameworks}
        imports = (import_time("neuralnet"), import_time("numpy"))
        print(
            f"MEM: {memory}, import neuralnet {imports[0]:.0f} ms (numpy {imports[1]:.0f} ms)",
            flush=True,
        )
    write_results(args.out, info, n, w1, w2, w3, peak, memory, imports, argv if argv is not None else sys.argv[1:],
                  time.perf_counter() - start)  # fmt: skip
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
