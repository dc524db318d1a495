"""`make demo`: the lecture's Tutorial 1 reproduced, from scratch and with neuralnet.

Trains the linear softmax classifier and the 100-unit ReLU network on the spiral, both written out in
NumPy (as in the lecture) and built with neuralnet's Keras-style API, prints the results next to the
numbers the lecture and the cs231n case study quote, and writes the decision boundaries and the loss
curves as PNGs.

Run it:  python examples/spiral_tutorial.py --out out
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import spiral_from_scratch
import spiral_neuralnet

from neuralnet import plotting


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="folder for the PNGs (default: out)")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the data and weights (default: 0)"
    )
    args = parser.parse_args(argv)

    print("The lecture's Tutorial 1: classifying the three arms of a spiral (300 points, 2-D).\n")
    start = time.perf_counter()
    scratch = spiral_from_scratch.run(seed=args.seed)
    scratch_time = time.perf_counter() - start
    start = time.perf_counter()
    ours = spiral_neuralnet.run(seed=args.seed)
    ours_time = time.perf_counter() - start
    unregularized = spiral_neuralnet.run(seed=args.seed, reg=0.0)["two_layer"]

    rows = [
        (
            "linear classifier",
            "NumPy, from scratch",
            scratch["linear"],
            "49% (cs231n), loss 0.786302 at it. 190",
        ),
        ("linear classifier", "neuralnet", ours["linear"], ""),
        (
            "100 ReLU + softmax",
            "NumPy, from scratch",
            scratch["two_layer"],
            "98% (cs231n)",
        ),
        ("100 ReLU + softmax", "neuralnet", ours["two_layer"], ""),
        ("  the same, no reg.", "neuralnet", unregularized, "~99% (lecture)"),
    ]
    header = f"{'model':<20} {'implementation':<21} {'train acc.':>10} {'final loss':>11}   quoted"
    print(header)
    print("-" * len(header))
    for model, implementation, result, quoted in rows:
        final_loss = result["losses"][-1]
        print(
            f"{model:<20} {implementation:<21} {result['accuracy']:>10.1%} {final_loss:>11.6f}   {quoted}"
        )
    print(
        f"\nBoth start from the page's initial weights (0.01·randn, seed {args.seed}), regularization "
        "0.5·1e-3·ΣW², step size 1.0,\n200 and 10,000 full-batch iterations. "
        f"Time: from scratch {scratch_time:.1f} s (float64), neuralnet {ours_time:.1f} s (float32)."
    )

    os.makedirs(args.out, exist_ok=True)
    figure = plotting.new_figure((12, 3.6))
    axes = figure.subplots(1, 3)
    axes[0].scatter(
        ours["x"][:, 0],
        ours["x"][:, 1],
        c=ours["y"],
        s=12,
        cmap="viridis",
        edgecolors="k",
        linewidths=0.3,
    )
    axes[0].set_title("the spiral data")
    axes[0].set_aspect("equal")
    plotting.plot_decision_boundary(
        ours["linear"]["model"], ours["x"], ours["y"], ax=axes[1],
        title=f"linear classifier: {ours['linear']['accuracy']:.1%}",
    )  # fmt: skip
    plotting.plot_decision_boundary(
        ours["two_layer"]["model"], ours["x"], ours["y"], ax=axes[2],
        title=f"100 ReLU units: {ours['two_layer']['accuracy']:.1%}",
    )  # fmt: skip
    boundaries = os.path.join(args.out, "spiral_decision_boundaries.png")
    plotting.save_figure(figure, boundaries)

    figure = plotting.new_figure((9, 3.6))
    axes = figure.subplots(1, 2)
    for ax, key, title in (
        (axes[0], "linear", "linear classifier"),
        (axes[1], "two_layer", "100 ReLU units"),
    ):
        ax.plot(scratch[key]["losses"], label="NumPy from scratch", linewidth=3, alpha=0.5)
        ax.plot(ours[key]["losses"], label="neuralnet", linestyle="--")
        ax.set_xlabel("iteration")
        ax.set_ylabel("cost J (with regularization)")
        ax.set_yscale("log")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    curves = os.path.join(args.out, "spiral_loss_curves.png")
    plotting.save_figure(figure, curves)
    print(f"\nWrote {boundaries} and {curves}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
