# %% [markdown]
# # Gradient descent: mini-batch size and learning rate
#
# Gradient descent updates the weights by w ← w − η ∂J/∂w. The cost J is an average over the
# training set; stochastic gradient descent estimates its gradient on a *mini-batch* of samples.
# Batch size 1 gives many noisy steps per epoch, the full batch one exact step per epoch, 32 is the
# usual compromise. The learning rate η sets the step: too small and training crawls, too large and
# the loss jumps around or diverges.
#
# Run it:  python examples/lecture_minibatch_learning_rate.py --out out

# %%
import argparse
import os

import numpy as np

import neuralnet as nn
from neuralnet import Input, layers, plotting

parser = argparse.ArgumentParser(description="Mini-batch size and learning rate")
parser.add_argument("--out", default=os.environ.get("NEURALNET_EXAMPLES_OUT", "out"))
parser.add_argument("--epochs", type=int, default=30)
args, _ = parser.parse_known_args()  # (in Jupyter, the kernel's own arguments are ignored)


def show(figure, name):
    """Save `figure` as a PNG in the --out folder and, inside Jupyter, show it inline."""
    path = os.path.join(args.out, name)
    plotting.save_figure(figure, path)
    print(f"Wrote {path}.")
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
    except ImportError:
        return
    if get_ipython() is not None:  # the saved PNG, so that it shows with any matplotlib backend
        display(Image(filename=path))


x, y = nn.datasets.make_spiral(seed=0)  # 300 points, 3 arms
x = x.astype(np.float32)


def train(batch_size, learning_rate, epochs=args.epochs):
    """The lecture's network (one hidden layer of 100 ReLU units) trained with plain SGD."""
    nn.utils.set_random_seed(0)
    model = nn.Sequential([Input((2,)), layers.Dense(100, activation="relu"),
                           layers.Dense(3, activation="softmax")])  # fmt: skip
    model.compile(optimizer=nn.optimizers.SGD(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy")  # fmt: skip
    with np.errstate(all="ignore"):  # a diverging run overflows on purpose
        history = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
    return history.history["loss"]


# %% [markdown]
# ## Mini-batch size (learning rate 0.1)
# Per *epoch*, batch size 1 makes 300 updates and the full batch only one: the small batches get
# further per epoch, at the price of noisier steps (and more time per epoch).

# %%
by_batch = {f"batch {b}": train(b, 0.1) for b in (1, 32, len(x))}

# %% [markdown]
# ## Learning rate (batch size 32)
# η = 0.01 is too small: after 30 epochs the loss has hardly left log 3 ≈ 1.10, the loss of a
# uniform guess over 3 classes. η = 1 is good here. η = 10 overshoots: the first steps throw the
# weights far away, many ReLU units die, and the loss stays *above* log 3, worse than guessing.
# (The cross-entropy clips probabilities at 1e-7, so a diverging loss saturates instead of
# reaching infinity.)

# %%
by_rate = {f"η = {rate:g}": train(32, rate) for rate in (0.01, 1.0, 10.0)}

# %%
figure = plotting.new_figure((12, 4))
left, right = figure.subplots(1, 2)
for ax, curves, title in ((left, by_batch, "mini-batch size (η = 0.1)"),
                          (right, by_rate, "learning rate (batch size 32)")):  # fmt: skip
    for label, losses in curves.items():
        ax.plot(np.arange(1, len(losses) + 1), np.clip(np.nan_to_num(losses, nan=1e3), 0, 1e3),
                label=label)  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
right.axhline(np.log(3), color="gray", linestyle=":", label="log 3 (guessing)")
right.legend()
show(figure, "minibatch_learning_rate.png")

# %%
for label, losses in {**by_batch, **by_rate}.items():
    print(f"{label:>12}: loss after 1 epoch {losses[0]:10.4g}, after {len(losses)} epochs "
          f"{losses[-1]:10.4g}")  # fmt: skip
assert by_batch["batch 1"][-1] < by_batch["batch 32"][-1] < by_batch[f"batch {len(x)}"][-1]
assert by_rate["η = 0.01"][-1] > 0.9  # too small: barely moves from log 3
assert by_rate["η = 1"][-1] < 0.5  # good
assert min(by_rate["η = 10"]) > np.log(3)  # too large: never better than guessing
