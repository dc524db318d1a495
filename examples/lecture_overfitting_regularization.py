# %% [markdown]
# # Overfitting, and three remedies: L2, dropout, batch normalization
#
# A network with far more parameters than training points can learn the training set by heart:
# its training loss keeps falling while the loss on new data (the validation set) turns and rises.
# That is overfitting. Here a 2-128-128-3 network (17,000 weights) sees only 60 noisy spiral points;
# 540 more points from the same spiral measure how well it generalizes. Then the same network is
# trained with an L2 penalty on its weights (λ Σ w²), with dropout (each hidden unit is switched
# off with probability 0.3 at every training step), and with batch normalization.
#
# Run it:  python examples/lecture_overfitting_regularization.py --out out

# %%
import argparse
import os

import numpy as np

import neuralnet as nn
from neuralnet import Input, layers, plotting

parser = argparse.ArgumentParser(description="Overfitting and regularization")
parser.add_argument("--out", default=os.environ.get("NEURALNET_EXAMPLES_OUT", "out"))
parser.add_argument("--epochs", type=int, default=300)
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


# %% [markdown]
# ## The data: 60 training points, 540 validation points

# %%
x_all, y_all = nn.datasets.make_spiral(n_per_class=200, noise=0.3, seed=0)
order = np.random.default_rng(0).permutation(len(x_all))
train, val = order[:60], order[60:]
x_train, y_train = x_all[train].astype(np.float32), y_all[train]
x_val, y_val = x_all[val].astype(np.float32), y_all[val]
print("training:", x_train.shape, np.bincount(y_train), " validation:", x_val.shape)

# %% [markdown]
# ## Four versions of the same big network


# %%
def build(variant):
    """2-128-128-3; `variant` adds L2 weight decay, dropout or batch normalization."""
    regularizer = nn.regularizers.L2(1e-3) if variant == "L2" else None
    stack = [Input((2,))]
    for _ in range(2):
        if variant == "batch norm":
            stack += [layers.Dense(128, use_bias=False), layers.BatchNormalization(),
                      layers.Activation("relu")]  # fmt: skip
        else:
            stack.append(layers.Dense(128, activation="relu", kernel_regularizer=regularizer))
        if variant == "dropout":
            stack.append(layers.Dropout(0.3))
    stack.append(layers.Dense(3, activation="softmax", kernel_regularizer=regularizer))
    model = nn.Sequential(stack)
    model.compile(optimizer=nn.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    return model


histories = {}
for variant in ("no regularization", "L2", "dropout", "batch norm"):
    nn.utils.set_random_seed(0)
    model = build(variant)
    histories[variant] = model.fit(x_train, y_train, batch_size=20, epochs=args.epochs,
                                   validation_data=(x_val, y_val), verbose=0)  # fmt: skip

# %% [markdown]
# ## Training against validation loss
# Without regularization the validation loss reaches its minimum early and then climbs while the
# training loss goes to zero. The regularized networks keep the two curves closer.
# (With L2 the training loss includes the penalty λ Σ w². Batch normalization regularizes through
# the noise of its per-batch statistics: with batches of 20 points its curves are noisy, and its
# validation loss is high early on, while the running statistics used for validation settle.)

# %%
figure = plotting.new_figure((16, 3.8))
axes = figure.subplots(1, len(histories), sharey=True)
for ax, (variant, history) in zip(axes, histories.items()):
    ax.plot(history.history["loss"], label="training")
    ax.plot(history.history["val_loss"], label="validation")
    ax.set_title(variant)
    ax.set_xlabel("epoch")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
axes[0].set_ylabel("cross-entropy loss")
show(figure, "overfitting_regularization.png")

# %%
print(f"{'':>18} {'train loss':>10} {'val loss':>9} {'min val':>8} {'val acc':>8}")
for variant, history in histories.items():
    h = history.history
    print(f"{variant:>18} {h['loss'][-1]:10.4f} {h['val_loss'][-1]:9.4f} "
          f"{min(h['val_loss']):8.4f} {h['val_accuracy'][-1]:8.3f}")  # fmt: skip
final = {variant: history.history["val_loss"][-1] for variant, history in histories.items()}
assert min(final["L2"], final["dropout"], final["batch norm"]) < final["no regularization"]
