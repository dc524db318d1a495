"""Run by tests/distributed/test_mpi.py under `mpiexec -n P` (or alone with --single): trains a
small float64 network and writes what each rank ends with to OUT/rank<r>.npz."""

import argparse
import json
import os

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--single", action="store_true", help="one process, no neuralnet.distributed")
parser.add_argument("--optimizer", default="sgd")
parser.add_argument("--batch-norm", action="store_true")
parser.add_argument("--samples", type=int, default=103)
parser.add_argument("--batch-size", type=int, default=20)
parser.add_argument("--memmap", action="store_true")
parser.add_argument("--fail-on-rank", type=int, default=None)
parser.add_argument("--rank-dependent-model", action="store_true")
parser.add_argument("--backup", default=None, help="BackupAndRestore into this folder")
parser.add_argument("--die-at", default=None, help="EPOCH:BATCH where rank 0 kills itself")
parser.add_argument("--dropout", action="store_true")
parser.add_argument("--source", choices=["arrays", "pydataset", "generator"], default="arrays")
parser.add_argument("--verbose", type=int, default=0)
args = parser.parse_args()

import neuralnet as nn
from neuralnet import layers

rank = 0
if not args.single:
    import neuralnet.distributed

    rank = neuralnet.distributed.initialize().rank

if args.fail_on_rank is not None and rank == args.fail_on_rank:
    raise RuntimeError(f"rank {rank} fails on purpose")

nn.config.set_floatx("float64")
nn.utils.set_random_seed(7)
rng = np.random.default_rng(0)
x = rng.standard_normal((args.samples, 6))
y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int) + (x[:, 2] > 1).astype(int)
if args.memmap:
    path = os.path.join(args.out, f"x_{rank}.npy")
    np.save(path, (x * 20 + 128).clip(0, 255).astype(np.uint8))
    x = np.load(path, mmap_mode="r")
hidden = 8 + (rank if args.rank_dependent_model else 0)
stack = [nn.Input((6,)), layers.Dense(hidden, activation="tanh")]
if args.dropout:
    stack.append(layers.Dropout(0.3))
if args.batch_norm:
    stack.append(layers.BatchNormalization())
stack += [layers.Dense(3, activation="softmax")]
model = nn.Sequential(stack)
optimizer = {"sgd": nn.optimizers.SGD(0.1, momentum=0.5), "adam": nn.optimizers.Adam(0.01)}
model.compile(optimizer[args.optimizer], "sparse_categorical_crossentropy",
              metrics=["accuracy"])  # fmt: skip
callbacks = []
if args.backup:
    callbacks.append(nn.callbacks.BackupAndRestore(args.backup, save_freq=2))
if args.die_at:
    die_epoch, die_batch = (int(v) for v in args.die_at.split(":"))

    class Die(nn.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if rank == 0 and (self.epoch, batch) == (die_epoch, die_batch):
                os.kill(os.getpid(), 9)  # as a job killed by the scheduler

    callbacks.append(Die())
if args.source == "arrays":
    history = model.fit(x, y, batch_size=args.batch_size, epochs=3, validation_split=0.2,
                        verbose=args.verbose, callbacks=callbacks)  # fmt: skip
    evaluation = model.evaluate(x, y, batch_size=16, verbose=args.verbose)
    predictions = model.predict(x, batch_size=16, verbose=args.verbose)
else:

    class Batches(nn.utils.PyDataset):
        """Batches of x and y; with x memory-mapped, a rank reads only its rows of each."""

        def __init__(self, size):
            super().__init__()
            self.size = size

        def __len__(self):
            return (len(y) + self.size - 1) // self.size

        def __getitem__(self, i):
            part = slice(i * self.size, (i + 1) * self.size)
            return x[part], y[part]

    def batches(size):
        while True:
            yield from (Batches(size)[i] for i in range(len(Batches(size))))

    def source(size):
        return Batches(size) if args.source == "pydataset" else batches(size)

    steps = len(Batches(args.batch_size))
    history = model.fit(source(args.batch_size), epochs=3, verbose=0, callbacks=callbacks,
                        steps_per_epoch=steps, validation_data=source(30),
                        validation_steps=len(Batches(30)))  # fmt: skip
    evaluation = model.evaluate(source(16), steps=len(Batches(16)), verbose=0)
    predictions = model.predict(source(16), steps=len(Batches(16)), verbose=0)
model.save(os.path.join(args.out, f"model_rank{rank}.keras"))  # only rank 0 writes
arrays = {f"w{i}": w for i, w in enumerate(model.get_weights())}
np.savez(os.path.join(args.out, f"rank{rank}.npz"), predictions=predictions, **arrays)
with open(os.path.join(args.out, f"rank{rank}.json"), "w") as f:
    json.dump({"history": history.history, "evaluation": evaluation}, f)
