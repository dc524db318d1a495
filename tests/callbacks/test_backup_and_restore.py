"""BackupAndRestore: a fit killed at any moment and started again ends bit for bit as a fit that
was never interrupted; damaged or foreign backups are errors, never a silent fresh start."""

import json
import os
import random
import re
import signal
import subprocess
import sys

import numpy as np
import pytest
from safetensors import safe_open

import neuralnet
from neuralnet import Input, Sequential, callbacks, layers, optimizers
from neuralnet.callbacks.callback_list import CallbackList

# -- a training script killed with SIGKILL and started again -------------------------------------

# 250 samples, validation_split=0.2: 200 training samples in batches of 16, so 13 steps per epoch.
STEPS_PER_EPOCH = 13

needs_sigkill = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX's")

SCRIPT = r'''
"""Train with BackupAndRestore. argv: output folder, scenario, save_freq, kill.

kill is `none`, or where this process kills itself with SIGKILL:
  batch@N       at the end of training step N (counted from 1 over the whole fit), before that
                step's backup;
  write@N       half-way through writing the backup of step N;
  epoch@E       at the start of epoch E (0-based): between epochs, after the previous backup;
  epochwrite@E  half-way through writing the backup at the end of epoch E.
Each process appends the optimizer's step count at its first training batch to starts.txt.
"""
import contextlib
import json
import os
import signal
import sys

import numpy as np

import neuralnet as nn
from neuralnet import Sequential, callbacks, layers, optimizers
from neuralnet.saving import atomic

out, scenario, save_freq, kill = sys.argv[1:5]
save_freq = save_freq if save_freq == "epoch" else int(save_freq)
kind, _, at = kill.partition("@")
at = int(at or -1)


def die():
    os.kill(os.getpid(), signal.SIGKILL)


real_atomic_open = atomic.atomic_open


@contextlib.contextmanager
def dying_atomic_open(path, mode="wb", **kwargs):
    with real_atomic_open(path, mode, **kwargs) as handle:

        class HalfWrite:
            def write(self, data):
                handle.write(data[: len(data) // 2])
                handle.flush()
                die()

        yield HalfWrite()


class Killer(callbacks.Callback):
    started = False

    def on_train_batch_begin(self, batch, logs=None):
        if not self.started:
            self.started = True
            with open(os.path.join(out, "starts.txt"), "a") as file:
                file.write(f"{self.model.optimizer.iterations}\n")

    def on_train_batch_end(self, batch, logs=None):
        if self.model.optimizer.iterations == at:
            if kind == "batch":
                die()
            if kind == "write":
                atomic.atomic_open = dying_atomic_open

    def on_epoch_begin(self, epoch, logs=None):
        if kind == "epoch" and epoch == at:
            die()

    def on_epoch_end(self, epoch, logs=None):
        if kind == "epochwrite" and epoch == at:
            atomic.atomic_open = dying_atomic_open


nn.utils.set_random_seed(0)
data = np.random.default_rng(1)
x = data.standard_normal((250, 6)).astype("float32")
noise = 0.8 * data.standard_normal(250)
y = (x[:, 0] + x[:, 1] * x[:, 2] + noise > 0).astype("int64") + (x[:, 3] > 1)
model = Sequential([
    layers.Input((6,)),
    layers.Dense(32, activation="relu"),
    layers.Dropout(0.3),
    layers.Dense(3, activation="softmax"),
])
stop = callbacks.EarlyStopping(monitor="val_loss", patience=4, restore_best_weights=True)
if scenario == "schedule":
    rate = optimizers.schedules.ExponentialDecay(0.02, decay_steps=15, decay_rate=0.8)
    others = [stop]
else:
    rate = 0.02
    others = [
        callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_delta=0.01),
        stop,
        callbacks.CSVLogger(os.path.join(out, "log.csv")),
    ]
model.compile(optimizer=optimizers.Adam(rate), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
backup = callbacks.BackupAndRestore(os.path.join(out, "backup"), save_freq=save_freq)
history = model.fit(x, y, batch_size=16, epochs=30, validation_split=0.2, verbose=0,
                    callbacks=[Killer(), backup, *others])

from safetensors.numpy import save_file

arrays = {f"weights/{entry.path}": entry.array for entry in model.weight_entries()}
arrays |= {f"optimizer/{key}": value for key, value in model.optimizer.variables.items()}
arrays["predictions"] = model.predict(x, verbose=0)
save_file(arrays, os.path.join(out, "result.safetensors"))
with open(os.path.join(out, "history.json"), "w") as file:
    json.dump({"epoch": history.epoch, "history": history.history}, file)
'''


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(SCRIPT)
    return path


def _run(script, out, scenario, save_freq, kill="none"):
    out.mkdir(exist_ok=True)
    done = subprocess.run(
        [sys.executable, str(script), str(out), scenario, str(save_freq), kill],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if done.returncode not in (0, -signal.SIGKILL):
        pytest.fail(f"the training script failed:\n{done.stderr[-4000:]}")
    return done.returncode


def _starts(out):
    return [int(line) for line in (out / "starts.txt").read_text().split()]


def _expected_starts(kills, save_freq):
    """The step each process starts from: the last backup before the previous one was killed."""
    every = STEPS_PER_EPOCH if save_freq == "epoch" else int(save_freq)
    position, starts = 0, [0]
    for kill in kills:
        kind, at = kill.split("@")
        at = int(at)
        if kind in ("batch", "write"):  # before (or while) the backup of step `at` is written
            position = (at - 1) // every * every
        elif kind == "epoch":  # after the backups of epochs 0 .. at-1
            position = at * STEPS_PER_EPOCH // every * every
        else:  # epochwrite: while the backup at the end of epoch `at` is written
            position = at * STEPS_PER_EPOCH
        starts.append(position)
    return starts


def _outputs(out, scenario):
    names = ["result.safetensors", "history.json"] + (["log.csv"] if scenario == "plateau" else [])
    return {name: (out / name).read_bytes() for name in names}


@needs_sigkill
@pytest.mark.parametrize(
    ("scenario", "save_freq", "kills"),
    [
        # ReduceLROnPlateau, EarlyStopping and CSVLogger, a backup at each epoch's end: killed
        # before the first backup, between epochs, while writing, twice at the same backup.
        ("plateau", "epoch", ["batch@5", "epoch@3", "epochwrite@5", "batch@70", "batch@71"]),
        # An ExponentialDecay schedule and EarlyStopping, a backup every 7 steps: resumed in the
        # middle of epochs.
        ("schedule", 7, ["batch@13", "write@21", "epoch@3", "batch@50", "batch@51"]),
        ("plateau", 5, ["batch@12", "write@25", "epoch@6", "batch@91"]),
    ],
)
def test_a_killed_fit_started_again_ends_bit_identical(
    tmp_path, script, scenario, save_freq, kills
):
    reference = tmp_path / "reference"
    assert _run(script, reference, scenario, save_freq) == 0
    history = json.loads((reference / "history.json").read_text())
    epochs_run = len(history["epoch"])
    assert epochs_run < 30, "EarlyStopping should stop this run"
    last_kill = max(int(at) * (STEPS_PER_EPOCH if kind.startswith("epoch") else 1)
                    for kind, at in (kill.split("@") for kill in kills))  # fmt: skip
    assert epochs_run * STEPS_PER_EPOCH > last_kill, "every kill must come before the end"
    if scenario == "plateau":
        assert min(history["history"]["learning_rate"]) < 0.02, "ReduceLROnPlateau should act"

    interrupted = tmp_path / "interrupted"
    for kill in kills:
        assert _run(script, interrupted, scenario, save_freq, kill) == -signal.SIGKILL, kill
    assert _run(script, interrupted, scenario, save_freq) == 0

    assert _starts(interrupted) == _expected_starts(kills, save_freq)
    assert _outputs(interrupted, scenario) == _outputs(reference, scenario)
    assert not (interrupted / "backup").exists()  # deleted at the end (delete_checkpoint=True)


@needs_sigkill
def test_a_fit_killed_at_random_moments_ends_bit_identical(tmp_path, script):
    reference = tmp_path / "reference"
    assert _run(script, reference, "plateau", 3) == 0
    interrupted = tmp_path / "interrupted"
    interrupted.mkdir()
    command = [sys.executable, str(script), str(interrupted), "plateau", "3", "none"]
    delays = random.Random(0)
    for _ in range(8):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            process.wait(timeout=delays.uniform(0.1, 0.5))
        except subprocess.TimeoutExpired:
            process.kill()
        _, errors = process.communicate()
        assert process.returncode in (0, -signal.SIGKILL), errors.decode()[-4000:]
        if process.returncode == 0:
            break
    else:
        assert _run(script, interrupted, "plateau", 3) == 0
    assert _outputs(interrupted, "plateau") == _outputs(reference, "plateau")


# -- in one process: interrupted by an exception, then fit again ---------------------------------


class Interrupted(Exception):
    pass


class InterruptAt(callbacks.Callback):
    """Raise at the end of training step `step` (counted from 1 over the whole fit)."""

    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if self.model.optimizer.iterations == self.step:
            raise Interrupted


class CountBatches(callbacks.Callback):
    """A callback of one's own with a state: the batches it saw."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def on_train_begin(self, logs=None):
        self.count = 0

    def on_train_batch_end(self, batch, logs=None):
        self.count += 1

    def get_state(self):
        return {"count": self.count}

    def set_state(self, state):
        self.count = state["count"]


def _data(n=120):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 4)).astype("float32")
    return x, (x[:, 0] + rng.standard_normal(n) > 0).astype(int) + (x[:, 1] > 1).astype(int)


def _model(learning_rate=0.02):
    """The same model every time it is made, as a script that starts again makes it."""
    neuralnet.utils.clear_session()
    neuralnet.utils.set_random_seed(0)
    model = Sequential(
        [
            Input((4,)),
            layers.Dense(16, activation="relu"),
            layers.Dropout(0.25),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _fit(model, backup_dir, *others, save_freq="epoch", epochs=4, **kwargs):
    x, y = _data()
    kwargs = {"batch_size": 16, "validation_split": 0.25, "verbose": 0, **kwargs}
    backup = callbacks.BackupAndRestore(backup_dir, save_freq=save_freq)
    return model.fit(x, y, epochs=epochs, callbacks=[backup, *others], **kwargs)


def _same_training(a, b):
    """Weights, optimizer state and History, bit for bit."""
    for left, right in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(left, right)
    left, right = a.optimizer.variables, b.optimizer.variables
    assert left.keys() == right.keys()
    for key in left:
        np.testing.assert_array_equal(left[key], right[key])
    assert a.history.epoch == b.history.epoch
    assert a.history.history == b.history.history


@pytest.mark.parametrize(
    ("save_freq", "fit_kwargs", "interrupt"),
    [
        ("epoch", {}, 8),  # 6 steps per epoch
        (3, {}, 8),  # after the backup of step 6, the CSV row of epoch 0 was written
        (3, {"steps_per_epoch": 4}, 9),  # epochs end in the middle of a pass over the data
        (5, {"shuffle": False, "validation_split": 0.0}, 9),
    ],
)
def test_resume_after_an_exception_matches_an_uninterrupted_fit(tmp_path, save_freq, fit_kwargs,
                                                                interrupt):  # fmt: skip
    def run(folder, *others):
        """The callbacks with a state: their own counter, GradientMonitor, an appending CSVLogger."""
        log = tmp_path / f"{folder}.csv"
        if not log.exists():
            log.write_text("epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,1.0,0.5,1.0\n")
        counter, monitor = CountBatches(), callbacks.GradientMonitor()
        model = _model()
        _fit(model, tmp_path / folder, *others, counter, monitor,
             callbacks.CSVLogger(log, append=True), save_freq=save_freq, **fit_kwargs)  # fmt: skip
        return model, counter, monitor, log.read_text()

    reference, counter, monitor, log = run("reference")
    assert log.count("\n") == 2 + len(reference.history.epoch)
    with pytest.raises(Interrupted):
        run("backup", InterruptAt(interrupt))
    assert (tmp_path / "backup" / "training_state.safetensors").is_file()
    resumed, resumed_counter, resumed_monitor, resumed_log = run("backup", InterruptAt(-1))
    _same_training(resumed, reference)
    assert resumed_counter.count == counter.count  # a callback's own state comes back too
    assert resumed_monitor.gradient_norms == monitor.gradient_norms
    assert resumed_log == log
    assert not (tmp_path / "backup").exists()


def test_metrics_built_from_the_data_resume_in_the_middle_of_an_epoch(tmp_path):
    """F1Score and multi-label AUC take their shapes from the first batch; a resumed run's fresh
    metrics take them from the backup."""
    from neuralnet import metrics

    def make():
        model = _model()
        model.compile(
            optimizer="adam",
            loss="categorical_crossentropy",
            metrics=["accuracy", metrics.F1Score(), metrics.AUC(multi_label=True),
                     metrics.Precision(thresholds=[0.3, 0.6])],
        )  # fmt: skip
        return model

    x, labels = _data()
    y = np.eye(3)[labels]
    kwargs = {"epochs": 3, "batch_size": 16, "verbose": 0}
    reference = make()
    reference.fit(x, y, **kwargs)
    with pytest.raises(Interrupted):
        backup = callbacks.BackupAndRestore(tmp_path, save_freq=3)
        make().fit(x, y, callbacks=[InterruptAt(11), backup], **kwargs)
    resumed = make()
    resumed.fit(x, y, callbacks=[callbacks.BackupAndRestore(tmp_path, save_freq=3)], **kwargs)
    assert resumed.history.history.keys() == reference.history.history.keys()
    for key, values in reference.history.history.items():
        np.testing.assert_array_equal(resumed.history.history[key], values, err_msg=key)


def test_the_backup_is_one_safetensors_file_with_the_state_as_json(tmp_path):
    model = _model()
    with pytest.raises(Interrupted):
        _fit(model, tmp_path, InterruptAt(20), save_freq=4)
    assert [path.name for path in tmp_path.iterdir()] == ["training_state.safetensors"]
    with safe_open(str(tmp_path / "training_state.safetensors"), framework="numpy") as file:
        metadata = file.metadata()
        names = set(file.keys())
    assert metadata["format"] == "neuralnet.training_state"
    assert metadata["version"] == "1"
    assert len(metadata["sha256"]) == 64
    state = json.loads(metadata["state"])
    # Interrupted at step 20, before its backup: the last one is after step 16 (6 per epoch).
    assert state["loop"]["epoch"] == 2 and state["loop"]["step"] == 4
    assert state["loop"]["batches"]["given"] == 4
    assert state["optimizer"]["variables"]["iterations"] == {
        "__array__": "optimizer/variables/iterations"
    }
    assert [entry["class"] for entry in state["callbacks"]] == ["History"]
    assert [entry["name"] for entry in state["random"]["layers"]] == [
        "sequential",
        "dense",
        "dropout",
        "dense_1",
    ]
    assert state["extra"] == {"batches_seen_since_last_saving": 0, "last_batch_seen": 3}
    assert {f"weights/{entry.path}" for entry in model.weight_entries()} <= names
    assert "optimizer/variables/dense/kernel/momentum" in names


def _backup(tmp_path):
    with pytest.raises(Interrupted):
        _fit(_model(), tmp_path, InterruptAt(10), save_freq=3)
    return tmp_path / "training_state.safetensors"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[: len(data) // 2], "not a complete safetensors file"),
        (lambda data: data[:-1], "not a complete safetensors file"),
        (lambda data: data[:-9] + bytes([data[-9] ^ 1]) + data[-8:], "checksum does not match"),
        (lambda data: b"not a backup at all", "not a complete safetensors file"),
    ],
    ids=["truncated", "last-byte-missing", "bit-flipped", "garbage"],
)
def test_a_damaged_backup_is_an_error_and_is_kept(tmp_path, damage, message):
    path = _backup(tmp_path)
    path.write_bytes(damage(path.read_bytes()))
    model = _model()
    initial = model.get_weights()
    expected = (
        rf"backup {re.escape(str(path))} cannot be resumed from: .*{message}.*delete the file"
    )
    with pytest.raises(ValueError, match=expected):
        _fit(model, tmp_path)
    assert path.exists()  # not deleted, not overwritten
    for weights, start in zip(model.get_weights(), initial, strict=True):
        np.testing.assert_array_equal(weights, start)


def test_a_backup_of_another_kind_of_safetensors_file_is_an_error(tmp_path):
    model = _model()
    model.save_weights(str(tmp_path / "training_state.safetensors"))
    with pytest.raises(ValueError, match="not a neuralnet training backup"):
        _fit(_model(), tmp_path)


def test_a_backup_of_another_fit_is_an_error(tmp_path):
    _backup(tmp_path)
    with pytest.raises(
        ValueError,
        match="written by a fit with steps=6, samples=90, batch_size=16; this fit has steps=12, samples=90, batch_size=8",
    ):
        _fit(_model(), tmp_path, batch_size=8)


def test_a_backup_of_a_shuffled_fit_is_refused_by_an_unshuffled_one(tmp_path):
    _backup(tmp_path)
    with pytest.raises(ValueError, match="a fit with shuffle=True, this one has shuffle=False"):
        _fit(_model(), tmp_path, shuffle=False)


def test_a_backup_of_another_model_is_an_error(tmp_path):
    _backup(tmp_path)
    other = Sequential([Input((4,)), layers.Dense(5), layers.Dense(3, activation="softmax")])
    other.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with pytest.raises(ValueError, match="weights do not match the model"):
        _fit(other, tmp_path)


def test_resuming_with_other_stateful_callbacks_is_an_error(tmp_path):
    _backup(tmp_path)
    with pytest.raises(ValueError, match=r"Resume with the same callbacks, in the same order"):
        _fit(_model(), tmp_path, callbacks.EarlyStopping(patience=2))


def test_a_run_that_stopped_early_resumes_stopped(tmp_path):
    """Killed after the backup of the epoch where EarlyStopping stopped: nothing more is trained,
    and the best weights are still restored at the end."""

    class FailAtTrainEnd(callbacks.Callback):
        def on_train_end(self, logs=None):
            raise Interrupted

    def stop():
        return callbacks.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)

    reference = _model(learning_rate=0.3)
    _fit(reference, tmp_path / "reference", stop(), epochs=40)
    assert len(reference.history.epoch) < 40
    with pytest.raises(Interrupted):
        _fit(_model(learning_rate=0.3), tmp_path / "backup", FailAtTrainEnd(), stop(), epochs=40)
    resumed = _model(learning_rate=0.3)
    _fit(resumed, tmp_path / "backup", InterruptAt(1), stop(), epochs=40)  # no step runs
    _same_training(resumed, reference)


def test_delete_checkpoint_false_keeps_the_backup_and_a_second_run_trains_no_more(tmp_path):
    model = _model()
    x, y = _data()
    backup = callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)
    first = model.fit(x, y, epochs=2, batch_size=16, callbacks=[backup], verbose=0)
    assert (tmp_path / "training_state.safetensors").is_file()
    again = _model()
    second = again.fit(x, y, epochs=2, batch_size=16, callbacks=[backup], verbose=0)
    assert second.history == first.history
    for left, right in zip(again.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(left, right)


def test_files_left_by_a_write_killed_half_way_are_removed(tmp_path):
    backup_dir = tmp_path / "backup"
    backup_dir.mkdir()
    (backup_dir / ".training_state.safetensors.abc123.tmp").write_bytes(b"half a backup")
    _fit(_model(), backup_dir, epochs=1)
    assert not backup_dir.exists()


def test_backup_and_restore_is_called_after_every_other_callback():
    backup = callbacks.BackupAndRestore("unused")
    stop = callbacks.EarlyStopping()
    listing = CallbackList([backup, stop], add_history=True, add_progbar=True)
    assert listing.callbacks[0] is stop
    assert listing.callbacks[-1] is backup
    listing.append(callbacks.TerminateOnNaN())
    assert listing.callbacks[-1] is backup
    assert listing._batch_callbacks["on_train_batch_end"][-1] is backup


def test_the_progress_bar_of_an_epoch_resumed_in_its_middle(tmp_path, capsys):
    with pytest.raises(Interrupted):
        _fit(_model(), tmp_path, InterruptAt(10), save_freq=3, epochs=2, verbose=1)
    capsys.readouterr()
    _fit(_model(), tmp_path, save_freq=3, epochs=2, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out
    assert "6/6" in out


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"backup_dir": ""}, ValueError, "Empty `backup_dir` argument passed"),
        ({"backup_dir": "b", "save_freq": "batch"}, ValueError,
         "Invalid value for argument `save_freq`. Received: save_freq=batch. Expected either 'epoch' or an integer value."),
        ({"backup_dir": "b", "save_freq": 0}, ValueError, "positive number of batches, received save_freq=0"),
        ({"backup_dir": "b", "save_freq": False}, ValueError, "save_freq=False"),
        ({"backup_dir": "b", "double_checkpoint": True}, NotImplementedError, "`double_checkpoint` is not supported"),
    ],
)  # fmt: skip
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        callbacks.BackupAndRestore(**kwargs)


def test_outside_fit_it_says_so(tmp_path):
    backup = callbacks.BackupAndRestore(tmp_path)
    backup.set_model(_model())
    with pytest.raises(RuntimeError, match="inside model.fit"):
        backup.on_epoch_end(0, {})
    assert os.listdir(tmp_path) == []
