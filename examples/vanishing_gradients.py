"""Why ReLU replaced the sigmoid: gradient norms through a 10-layer network (the lecture's point).

The same 10-hidden-layer network is trained on the spiral twice, with sigmoid and with ReLU hidden
units, while a `GradientMonitor` records each layer's gradient norm. Backpropagation multiplies by
σ'(z) ≤ 1/4 at every sigmoid layer, so the first layers' gradients shrink by orders of magnitude;
with ReLU (derivative 1 where active) they stay comparable across the depth.

Run it:  python examples/vanishing_gradients.py --out out
"""

from __future__ import annotations

import argparse
import os

import neuralnet as nn
from neuralnet import Input, Sequential, callbacks, layers, plotting


def deep_network(activation: str, depth: int = 10, width: int = 32) -> Sequential:
    """`depth` hidden Dense layers of `width` units, then a softmax over the 3 arms."""
    hidden = [
        layers.Dense(width, activation=activation, name=f"hidden_{i + 1}") for i in range(depth)
    ]
    model = Sequential([Input((2,)), *hidden, layers.Dense(3, activation="softmax", name="output")])
    model.compile(optimizer=nn.optimizers.SGD(learning_rate=0.1), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    return model


def run(epochs: int = 20, seed: int = 0) -> dict[str, callbacks.GradientMonitor]:
    x, y = nn.datasets.make_spiral(seed=seed)
    monitors = {}
    for activation in ("sigmoid", "relu"):
        nn.utils.set_random_seed(seed)
        model = deep_network(activation)
        monitor = callbacks.GradientMonitor()
        model.fit(x, y, batch_size=32, epochs=epochs, callbacks=[monitor], verbose=0)
        monitors[activation] = monitor
    return monitors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out")
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args(argv)
    monitors = run(args.epochs)
    for activation, monitor in monitors.items():
        first, last = monitor.gradient_norms["hidden_1"][0], monitor.gradient_norms["hidden_10"][0]
        print(
            f"{activation:>8}: ‖dJ/dW‖ layer 1 = {first:.2e}, layer 10 = {last:.2e}, ratio {last / first:,.0f}"
        )
    figure = plotting.new_figure((11, 4))
    axes = figure.subplots(1, 2)
    for activation, monitor in monitors.items():
        plotting.plot_gradient_norms(monitor, axes=axes, label=activation)
    figure.suptitle("Gradient norms in a 10-layer network: sigmoid against ReLU")
    path = os.path.join(args.out, "vanishing_gradients.png")
    plotting.save_figure(figure, path)
    print(f"Wrote {path}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
