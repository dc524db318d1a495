"""Files the library writes whole appear complete or not at all (`neuralnet.saving.atomic`).

`atomic_path` writes to a temporary file in the target's folder, named `.<target name>.<random>.tmp`
(hidden, and with a suffix no loader accepts: `load_model` wants `.keras`, `load_weights`
`.weights.h5`, `.safetensors` or `.keras`), fsyncs it and renames it over the target. An exception
removes the temporary file; a process killed with SIGKILL cannot, so such a file may stay behind
(BackupAndRestore removes those of its backup; for others, delete `.<name>.*.tmp` files by hand).

The main test kills a real process with SIGKILL, many times, while it saves a large model (784-2048-
2048-10, compiled with Adam: 23 MB of weights and 47 MB of optimizer state per file) as `.keras`,
`.weights.h5` and `.safetensors` in turn, each version with every weight and optimizer variable set
to the version number; after each kill every file must load and hold one whole version: the last one
saved to it or the one being saved to it when the process was killed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import neuralnet.models
from neuralnet.saving import atomic_open, atomic_path, atomic_write_bytes

TARGETS = ("model.keras", "weights.weights.h5", "weights.safetensors")


def _leftovers(folder) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


# -- atomic_path, atomic_open, atomic_write_bytes --------------------------------------------------


def test_atomic_path_replaces_the_file_only_when_the_block_ends(tmp_path):
    target = tmp_path / "m.keras"
    target.write_bytes(b"old")
    with atomic_path(target) as temporary:
        assert os.path.dirname(temporary) == str(tmp_path)
        assert re.fullmatch(r"\.m\.keras\.[^/]+\.tmp", os.path.basename(temporary))
        with open(temporary, "wb") as handle:
            handle.write(b"new")
        assert target.read_bytes() == b"old"  # not yet
    assert target.read_bytes() == b"new"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_an_error_inside_atomic_path_leaves_the_old_file_and_no_temporary_file(tmp_path, error):
    target = tmp_path / "m.keras"
    target.write_bytes(b"old")
    with pytest.raises(type(error)), atomic_path(target) as temporary:
        with open(temporary, "wb") as handle:
            handle.write(b"half of the new")
        raise error
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_an_error_inside_atomic_path_creates_no_file_where_there_was_none(tmp_path):
    target = tmp_path / "m.keras"
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        with open(temporary, "wb") as handle:
            handle.write(b"half")
        raise RuntimeError("interrupted")
    assert os.listdir(tmp_path) == []


def test_atomic_path_creates_the_folder(tmp_path):
    target = tmp_path / "a" / "b" / "w.weights.h5"
    with atomic_path(str(target)) as temporary, open(temporary, "wb") as handle:
        handle.write(b"data")
    assert target.read_bytes() == b"data"


def test_atomic_open_and_atomic_write_bytes(tmp_path):
    target = tmp_path / "log.txt"
    with atomic_open(target, "w", encoding="utf-8") as handle:
        handle.write("héllo")
    assert target.read_text(encoding="utf-8") == "héllo"
    with pytest.raises(ValueError, match="must start with 'w'"), atomic_open(target, "a"):
        pass
    with pytest.raises(ZeroDivisionError), atomic_open(target, "wb") as handle:
        handle.write(b"partial")
        1 / 0  # noqa: B018
    assert target.read_text(encoding="utf-8") == "héllo"
    atomic_write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert _leftovers(tmp_path) == []


def _small_model():
    from neuralnet import layers, models

    model = models.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    return model


@pytest.mark.parametrize("name", TARGETS)
def test_a_save_that_fails_half_way_leaves_the_previous_file_loadable(tmp_path, monkeypatch, name):
    """An error in the middle of writing (the disk fills after some bytes were written) leaves the
    file saved before untouched and loadable, and no temporary file."""
    from neuralnet.saving import atomic, keras_archive, weights_files

    model = _small_model()
    path = tmp_path / name
    save = model.save if name.endswith(".keras") else model.save_weights
    save(path)
    before = path.read_bytes()
    saved_weights = model.get_weights()
    model.set_weights([w + 1.0 for w in model.get_weights()])

    def half_written(target, *args, **kwargs):
        with open(target, "wb") as handle:
            handle.write(b"PK\x03\x04 the first bytes of the new file")
        raise OSError(28, "No space left on device")

    class DiskFull:
        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            self.handle.write(data[:100])
            raise OSError(28, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.handle.__exit__(*exc)

    if name.endswith(".keras"):
        monkeypatch.setattr(keras_archive, "write_archive", half_written)
    elif name.endswith(".h5"):
        monkeypatch.setattr(weights_files, "write_h5", half_written)
    else:  # safetensors: written through atomic_open
        failing = lambda *a, **k: DiskFull(open(*a, **k))  # noqa: SIM115
        monkeypatch.setattr(atomic, "open", failing, raising=False)
    with pytest.raises(OSError, match="No space left"):
        save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []
    loaded = _small_model()
    if name.endswith(".keras"):
        loaded = neuralnet.models.load_model(path)
    else:
        loaded.load_weights(path)
    for a, b in zip(loaded.get_weights(), saved_weights, strict=True):
        np.testing.assert_array_equal(a, b)


# -- SIGKILL in the middle of saving -----------------------------------------------------------------

# A fork server: it builds the model once, writes version 0 of every target, then on "fork <n>" forks
# a child that saves versions 1000 n, 1000 n + 1, ... to the targets in turn until it is killed; each
# child logs "start <target> <version>" and "done <target> <version>" around every save.
SAVER = r"""
import os, sys
import numpy as np
import neuralnet
from neuralnet import layers, models

folder = sys.argv[1]
TARGETS = ("model.keras", "weights.weights.h5", "weights.safetensors")
model = models.Sequential([layers.Input((784,)), layers.Dense(2048, activation="relu"),
                           layers.Dense(2048, activation="relu"), layers.Dense(10)])
model.compile(optimizer="adam", loss="mse")
model.train_on_batch(np.zeros((2, 784), "float32"), np.zeros((2, 10), "float32"))

def save(target, version, log):
    model.set_weights([np.full_like(w, version) for w in model.get_weights()])
    state = {key: np.full_like(value, version) for key, value in model.optimizer.variables.items()}
    model.optimizer.load_variables(state)
    os.write(log, f"start {target} {version}\n".encode())
    path = os.path.join(folder, target)
    (model.save if target.endswith(".keras") else model.save_weights)(path)
    os.write(log, f"done {target} {version}\n".encode())

def open_log(name):
    return os.open(os.path.join(folder, name), os.O_WRONLY | os.O_CREAT | os.O_APPEND)

log = open_log("log-0")
for target in TARGETS:
    save(target, 0, log)
print("ready", flush=True)
server = os.getpid()
for line in sys.stdin:
    command, number = line.split()
    if command == "fork":
        pid = os.fork()
        if pid == 0:
            log = open_log(f"log-{number}")
            version = 1000 * int(number)
            while os.getppid() == server:  # never outlive the server
                save(TARGETS[version % 3], version, log)
                version += 1
            os._exit(0)
        print(pid, flush=True)
    elif command == "reap":
        _, status = os.waitpid(int(number), 0)
        print(os.WTERMSIG(status) if os.WIFSIGNALED(status) else -1, flush=True)
"""

KILLS = 24


def _versions(folder) -> dict[str, tuple[int, int | None]]:
    """For each target, from the logs: the last version saved, and the one being saved when the
    process was killed (None if it was between saves)."""
    done: dict[str, int] = {}
    started: dict[str, int | None] = {}
    names = sorted((n for n in os.listdir(folder) if n.startswith("log-")),
                   key=lambda n: int(n[4:]))  # fmt: skip
    for name in names:
        with open(os.path.join(folder, name)) as log:
            for line in log:
                event, target, version = line.split()
                if event == "start":
                    started[target] = int(version)
                else:
                    done[target] = int(version)
                    started[target] = None
    return {target: (done[target], started.get(target)) for target in TARGETS}


def _check_version(model, allowed: set[int], what: str) -> int:
    """The one version every weight and optimizer variable of `model` holds; it is in `allowed`."""
    arrays = model.get_weights() + list(model.optimizer.variables.values())
    version = float(arrays[0].reshape(-1)[0])
    for array in arrays:
        assert array.min() == array.max() == version, f"{what} mixes versions"
    assert int(version) in allowed, f"{what} holds version {version}, expected one of {allowed}"
    return int(version)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="the saving process is forked (POSIX)")
def test_sigkill_during_saves_leaves_every_file_whole_and_loadable(tmp_path):
    environment = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    server = subprocess.Popen(
        [sys.executable, "-c", SAVER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
    )
    rng = np.random.default_rng(0)
    checked: dict[str, tuple] = {}
    probe = None
    mid_save = 0
    replaced = 0
    try:
        assert server.stdout.readline().strip() == "ready"
        for kill in range(1, KILLS + 1):
            server.stdin.write(f"fork {kill}\n")
            server.stdin.flush()
            pid = int(server.stdout.readline())
            time.sleep(rng.uniform(0.05, 0.9))
            os.kill(pid, signal.SIGKILL)
            server.stdin.write(f"reap {pid}\n")
            server.stdin.flush()
            assert int(server.stdout.readline()) == signal.SIGKILL
            versions = _versions(tmp_path)
            mid_save += any(started is not None for _, started in versions.values())
            for target, (done, started) in versions.items():
                path = tmp_path / target
                stat = os.stat(path)
                if checked.get(target) == (stat.st_ino, stat.st_mtime_ns, stat.st_size):
                    continue  # not replaced since it was last checked
                allowed = {done} if started is None else {done, started}
                what = f"{target} after kill {kill}"
                if target.endswith(".keras"):
                    probe = neuralnet.models.load_model(path)
                    _check_version(probe, allowed, what)
                else:
                    probe.load_weights(path)
                    _check_version(probe, allowed, what)
                checked[target] = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
                replaced += 1
            # What a kill leaves: only hidden `.<target>.<random>.tmp` files (deleted here, as a
            # user would, so that the disk does not fill).
            for name in _leftovers(tmp_path):
                assert re.fullmatch(rf"\.({'|'.join(map(re.escape, TARGETS))})\.[^/]+\.tmp", name)
                os.remove(tmp_path / name)
            extra = set(os.listdir(tmp_path)) - set(TARGETS)
            assert all(name.startswith("log-") for name in extra), extra
    finally:
        server.stdin.close()
        server.kill()
        server.wait()
    print(f"\n{KILLS} kills, {mid_save} in the middle of a save, {replaced} new files checked")
    assert mid_save >= KILLS // 2  # most kills hit a save in progress
