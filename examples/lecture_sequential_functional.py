# %% [markdown]
# # One classifier, two ways to write it: `Sequential` and the functional API
#
# A multi-layer feed-forward network is a stack of layers, each feeding the next. `Sequential`
# writes exactly that; the functional API (`Input` → layers called on tensors → `Model`) writes any
# graph of layers: several inputs, several outputs, shared layers. Both give the same network.
#
# Run it:  python examples/lecture_sequential_functional.py

# %%
import numpy as np

import neuralnet as nn
from neuralnet import Input, Model, layers

x, y = nn.datasets.make_spiral(seed=0)  # the lecture's three-arm spiral: 300 points, 3 classes
print("data:", x.shape, "classes:", np.unique(y))

# %% [markdown]
# ## Sequential: a list of layers

# %%
nn.utils.set_random_seed(0)
sequential = nn.Sequential(
    [
        Input((2,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(64, activation="relu"),
        layers.Dense(3, activation="softmax"),
    ],
    name="sequential_classifier",
)
sequential.summary()

# %% [markdown]
# ## Functional: call layers on tensors, then wrap inputs and outputs in a `Model`

# %%
nn.utils.set_random_seed(0)
inputs = Input((2,), name="point")
hidden = layers.Dense(64, activation="relu")(inputs)
hidden = layers.Dense(64, activation="relu")(hidden)
outputs = layers.Dense(3, activation="softmax")(hidden)
functional = Model(inputs, outputs, name="functional_classifier")
functional.summary()

# %% [markdown]
# Same architecture, same number of parameters, and (from the same seed) the same initial weights:
# trained the same way they reach the same accuracy.

# %%
assert sequential.count_params() == functional.count_params()
for model in (sequential, functional):
    nn.utils.set_random_seed(1)
    model.compile(optimizer=nn.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    model.fit(x, y, batch_size=32, epochs=60, verbose=0)
    loss, accuracy = model.evaluate(x, y, verbose=0)
    print(f"{model.name:>22}: loss {loss:.3f}, training accuracy {accuracy:.3f}")

# %% [markdown]
# ## Several inputs and several outputs
# Only the functional API can do this. The point's coordinates and its radius enter as two inputs
# and are concatenated; the network then predicts two things: the arm (3 classes, softmax) and
# the angle's sine (a regression, linear output). `compile` takes one loss per output.

# %%
nn.utils.set_random_seed(0)
radius = np.linalg.norm(x, axis=1, keepdims=True).astype(np.float32)
angle_sine = (x[:, :1] / np.maximum(radius, 1e-6)).astype(np.float32)

point = Input((2,), name="point")
r = Input((1,), name="radius")
features = layers.Concatenate()([point, r])
shared = layers.Dense(64, activation="relu")(features)
shared = layers.Dense(64, activation="relu")(shared)
arm = layers.Dense(3, activation="softmax", name="arm")(shared)
sine = layers.Dense(1, name="sine")(shared)
two_headed = Model([point, r], [arm, sine], name="two_inputs_two_outputs")
two_headed.summary()
two_headed.compile(optimizer=nn.optimizers.Adam(1e-2),
                   loss=["sparse_categorical_crossentropy", "mse"], loss_weights=[1.0, 0.5])  # fmt: skip
history = two_headed.fit([x, radius], [y, angle_sine], batch_size=32, epochs=60, verbose=0)
arm_probabilities, sine_predicted = two_headed.predict([x, radius], verbose=0)
arm_accuracy = np.mean(arm_probabilities.argmax(1) == y)
sine_mse = float(np.mean((sine_predicted - angle_sine) ** 2))
print(f"total loss {history.history['loss'][-1]:.3f}; arm accuracy {arm_accuracy:.3f}; "
      f"sine MSE {sine_mse:.4f}")  # fmt: skip
assert arm_accuracy > 0.9
