"""neuralnet's training speed at another git revision and at the working tree, measured in one run.

A change to the library must not slow the training step. This exports `--base` (a commit, default
`HEAD`) into a temporary folder and times W1 (784-256-128-10 ReLU MLP, Adam; `--batch-norm-dropout`
for W2) at each batch size with that revision's `neuralnet` and with the working tree's, each epoch
batch in a fresh process, the two revisions alternating (then in reverse order) so that a slow
phase of the machine lands on both. It prints the median seconds per epoch and the ratio.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/compare_revisions.py \\
        --base 68bad6a --rounds 4
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import common


def _export(revision: str, folder: str) -> str:
    """The `src` folder of `revision`, written out under `folder`."""
    archive = subprocess.run(
        ["git", "-C", ROOT, "archive", revision, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
    return os.path.join(folder, "src")


def _time(src: str, spec: dict) -> list[float]:
    """Seconds per epoch of `spec`'s timed epochs, with the neuralnet found in `src`."""
    env = {**os.environ, "PYTHONPATH": src}
    result = subprocess.run(
        [sys.executable, os.path.join(HERE, "run.py"), "--worker", json.dumps(spec)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])["times"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD", help="the git revision to compare against")
    parser.add_argument("--batch-sizes", default="32,128,1024")
    parser.add_argument("--rounds", type=int, default=4, help="processes per revision and size")
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per process")
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--batch-norm-dropout", action="store_true", help="W2 instead of W1")
    args = parser.parse_args()
    threads = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as folder:
        sources = {args.base: _export(args.base, folder), "working tree": os.path.join(ROOT, "src")}
        print(f"{'batch':>6} | {args.base:>14} s/epoch | working tree s/epoch | ratio (tree/base)")
        for batch_size in (int(b) for b in args.batch_sizes.split(",")):
            spec = {"kind": "train", "n": args.samples, "sizes": [784, 256, 128, 10],
                    "batch_size": batch_size, "threads": threads, "repeats": args.epochs,
                    "batch_norm_dropout": 0.2 if args.batch_norm_dropout else None,
                    "name": "neuralnet"}  # fmt: skip
            times: dict[str, list[float]] = {name: [] for name in sources}
            for round_index in range(args.rounds):
                order = list(sources) if round_index % 2 == 0 else list(reversed(sources))
                for name in order:
                    times[name] += _time(sources[name], spec)
            base, tree = (common.median(times[name]) for name in sources)
            print(
                f"{batch_size:>6} | {base:>22.3f} | {tree:>20.3f} | {tree / base:.3f}", flush=True
            )


if __name__ == "__main__":
    main()
