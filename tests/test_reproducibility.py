"""The same seed gives the same run in two separate processes, bit for bit: initial weights,
dropout and noise masks, shuffled batches, the validation split, History and predictions."""

import os
import subprocess
import sys

SCRIPT = r'''
"""argv: seed, output folder. Trains with everything random in play and writes what it got."""
import json
import os
import sys

import numpy as np
from safetensors.numpy import save_file

import neuralnet as nn
from neuralnet import Sequential, layers

seed, out = int(sys.argv[1]), sys.argv[2]
nn.utils.set_random_seed(seed)
x = np.random.standard_normal((160, 5)).astype("float32")  # NumPy's global generator, seeded too
y = (x[:, 0] * x[:, 1] + 0.5 * np.random.standard_normal(160) > 0).astype("int64")
model = Sequential([
    layers.Input((5,)),
    layers.GaussianNoise(0.1),
    layers.Dense(16, activation="relu", kernel_initializer="he_normal"),
    layers.BatchNormalization(),
    layers.Dropout(0.3),
    layers.Dense(2, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
initial = {f"initial/{entry.path}": entry.array.copy() for entry in model.weight_entries()}
history = model.fit(x, y, batch_size=16, epochs=4, validation_split=0.25, shuffle=True, verbose=0)
arrays = {**initial, **{f"weights/{entry.path}": entry.array for entry in model.weight_entries()}}
arrays |= {f"optimizer/{key}": value for key, value in model.optimizer.variables.items()}
arrays["predictions"] = model.predict(x, verbose=0)
save_file(arrays, os.path.join(out, "arrays.safetensors"))
with open(os.path.join(out, "history.json"), "w") as file:
    json.dump({"epoch": history.epoch, "history": history.history}, file)
'''


def _run(tmp_path, seed, name, hash_seed):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    out = tmp_path / name
    out.mkdir()
    # Another hash seed in each process: nothing may depend on the order of a set of strings.
    env = {**os.environ, "PYTHONHASHSEED": str(hash_seed)}
    done = subprocess.run([sys.executable, str(script), str(seed), str(out)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return {path.name: path.read_bytes() for path in out.iterdir()}


def test_the_same_seed_gives_the_same_bytes_in_two_processes(tmp_path):
    first = _run(tmp_path, seed=7, name="first", hash_seed=1)
    second = _run(tmp_path, seed=7, name="second", hash_seed=2)
    assert first.keys() == {"arrays.safetensors", "history.json"}
    assert first == second


def test_another_seed_gives_another_run(tmp_path):
    """The comparison above means something: every part of the output depends on the seed."""
    from safetensors.numpy import load

    first = _run(tmp_path, seed=7, name="first", hash_seed=1)
    other = _run(tmp_path, seed=8, name="other", hash_seed=1)
    assert first["history.json"] != other["history.json"]
    arrays, other_arrays = load(first["arrays.safetensors"]), load(other["arrays.safetensors"])
    assert arrays.keys() == other_arrays.keys()
    changed = {key for key in arrays if not (arrays[key] == other_arrays[key]).all()}
    assert {"predictions", "weights/dense/kernel", "initial/dense/kernel"} <= changed
