"""Fuzzing model and weights files: whatever is done to a valid file, loading it either works or
raises `ModelFileError` (the one documented error), saying which file; nothing else.

Hypothesis mutates small valid files written once per module (a compiled and trained Sequential
with Dense, BatchNormalization and Dropout; a functional model with two inputs, a merge layer and
two outputs; a model nested in a model), saved as `.keras`, `.weights.h5` and `.safetensors`:

- `.keras`: truncation, byte flips in the archive, byte flips inside a member (re-zipped, so the
  CRC is right), edits of `config.json` and `metadata.json` (delete a key at any depth, replace a
  value by any JSON value, huge or negative numbers, deep nesting, another or an unknown
  `class_name`, `module` set to `os` or `subprocess`, `keras_history` pointing elsewhere), edits of
  `model.weights.h5` with h5py (delete, add, swap, reshape or retype arrays, huge shapes, gzip,
  scalars, links, external storage, ...), and zip-level edits (extra, duplicated, renamed or removed
  members, a member that is a zip, a deflate bomb, bzip2 and lzma, lying sizes and flags);
- `.weights.h5`: the same h5py edits, byte flips, truncation;
- `.safetensors`: edits of the header's JSON, of its length, byte flips, truncation.

Every mutated file is loaded in a separate worker process, so that a crash of a C library
(HDF5, zlib, safetensors) or a hang is caught and reported instead of killing pytest, and so that
memory can be capped: the worker runs under `RLIMIT_AS` set to what it uses after start-up plus
`MEMORY_HEADROOM` (a loader that tries to allocate more fails with MemoryError, which is not
`ModelFileError`, so the test fails). For `.keras` files the worker calls `load_model` (or
`load_weights` with the `.keras` file); for weights files `load_weights` into a model whose weights
and optimizer state differ from the file's: when that raises, every weight and optimizer variable
must be byte-identical to before. A `ModelFileError` must name the file, and must not be the
loader's last-resort conversion of a TypeError, AttributeError, KeyError or IndexError ("cannot be
loaded: KeyError: 'x'" says nothing of what is wrong: a check is missing). A file that loads must
give a model that predicts (or refuses the original inputs with a ValueError, its input shape having
been edited); when the mutation could not have changed anything (re-zipping, `date_saved`,
reformatted JSON) the loaded model must predict exactly what the original does.

Besides the random examples, every edit of `config.json` the issue names and every bomb is tried
once (`test_hand_edited_configs_...`, `test_bombs_...`).

The example count per test is `NEURALNET_FUZZ_EXAMPLES` (default below: 750 in all) and the runs
are derandomized, so CI sees the same examples every time; `NEURALNET_FUZZ_SEED=<n>` draws others,
for longer hunts, and `NEURALNET_FUZZ_SURVEY=<file.jsonl>` records every outcome there instead of
stopping at the first failure. `python -m pytest tests/saving/test_fuzz.py -s` prints what the
examples did (outcomes and error messages).
"""

from __future__ import annotations

import collections
import copy
import io
import json
import os
import pickle
import select
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
import zlib
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

FIXTURES = ("sequential", "functional", "nested")
KERAS_MEMBERS = ("metadata.json", "config.json", "model.weights.h5")

# Per test; the three tests together run 3x this many examples. With NEURALNET_FUZZ_SEED set the
# examples are drawn from that seed instead of the fixed ones (for longer hunts, not for CI).
EXAMPLES = int(os.environ.get("NEURALNET_FUZZ_EXAMPLES", "250"))
SEED = os.environ.get("NEURALNET_FUZZ_SEED")
# The most memory (address space) one load may add to the worker, and the longest it may take.
MEMORY_HEADROOM = 200 << 20
HANG_SECONDS = 20.0
BOMB_SIZE = 256 << 20  # the decompressed size of the deflate bomb (about 250 kB compressed)

SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=SEED is None,
    database=None,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def fuzz(test: Any) -> Any:
    """A Hypothesis test drawing its mutations from `data`, with SETTINGS (and SEED)."""
    test = SETTINGS(given(data=st.data())(test))
    return test if SEED is None else hypothesis_seed(int(SEED))(test)


# -- the valid files ---------------------------------------------------------------------------------


def _build_models() -> dict[str, Any]:
    import neuralnet
    from neuralnet import layers, models, optimizers

    neuralnet.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    sequential = models.Sequential(
        [
            layers.Input((6,)),
            layers.Dense(8, activation="relu"),
            layers.BatchNormalization(),
            layers.Dropout(0.25),
            layers.Dense(3, activation="softmax"),
        ]
    )
    sequential.compile(
        optimizer=optimizers.Adam(1e-2), loss="categorical_crossentropy", metrics=["accuracy"]
    )
    x = rng.standard_normal((16, 6)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 16)]
    sequential.train_on_batch(x, y)

    a = layers.Input((4,), name="a")
    b = layers.Input((5,), name="b")
    merged = layers.Concatenate()([layers.Dense(3, activation="tanh")(a), layers.Dense(3)(b)])
    functional = models.Model(
        [a, b], [layers.Dense(2, name="out_1")(merged), layers.Dense(1, name="out_2")(merged)]
    )

    inner = models.Sequential(
        [layers.Input((3,)), layers.Dense(4, activation="relu"), layers.Dense(2)]
    )
    outer_input = layers.Input((3,))
    nested = models.Model(outer_input, layers.Dense(1)(inner(outer_input)))
    nested.compile(optimizer="sgd", loss="mse")
    return {"sequential": sequential, "functional": functional, "nested": nested}


def _inputs() -> dict[str, Any]:
    rng = np.random.default_rng(11)
    return {
        "sequential": rng.standard_normal((5, 6)).astype("float32"),
        "functional": [
            rng.standard_normal((5, 4)).astype("float32"),
            rng.standard_normal((5, 5)).astype("float32"),
        ],
        "nested": rng.standard_normal((5, 3)).astype("float32"),
    }


def _as_list(value: Any) -> list[np.ndarray]:
    return [np.asarray(v) for v in value] if isinstance(value, (list, tuple)) else [value]


class _Files(dict):
    def __repr__(self) -> str:  # not the bytes, in Hypothesis's reports
        return "<the valid files>"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Any]:
    """The valid files (bytes by fixture and suffix), in a folder the worker reads too."""
    folder = tmp_path_factory.mktemp("fuzz")
    models = _build_models()
    inputs = _inputs()
    found = _Files(folder=str(folder))
    reference = {}
    for name, model in models.items():
        model.save(folder / f"{name}.keras")
        model.save_weights(folder / f"{name}.weights.h5")
        model.save_weights(folder / f"{name}.safetensors")
        found[name] = {
            suffix: (folder / f"{name}{suffix}").read_bytes()
            for suffix in (".keras", ".weights.h5", ".safetensors")
        }
        reference[name] = (inputs[name], _as_list(model.predict(inputs[name], verbose=0)))
    with open(folder / "reference.pkl", "wb") as handle:
        pickle.dump(reference, handle)
    return found


# -- the worker process ----------------------------------------------------------------------------


def _write_message(stream: Any, value: Any) -> None:
    data = pickle.dumps(value)
    stream.write(struct.pack("<Q", len(data)) + data)
    stream.flush()


class _Worker:
    """A process that loads files on request; restarted after a crash, a hang or a MemoryError."""

    def __repr__(self) -> str:
        return "<fuzz worker>"

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.process: subprocess.Popen | None = None
        self.log: Any = None
        self.starts = 0
        self.peak_rss_kib = 0
        self.baseline: dict[str, int] = {}

    def _start(self) -> None:
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in _stop)
        environment = dict(
            os.environ,
            OPENBLAS_NUM_THREADS="1",
            OMP_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
            MALLOC_ARENA_MAX="2",
            PYTHONFAULTHANDLER="1",
        )
        self.process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--fuzz-worker", self.folder],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=environment,
        )
        self.starts += 1
        ready = self._read(120.0)
        if not isinstance(ready, dict) or ready.get("outcome") != "ready":
            raise RuntimeError(f"the fuzz worker did not start: {ready!r}")
        self.baseline = ready

    def _read(self, timeout: float) -> Any:
        """The next message, or ("hang",) after `timeout`, or ("crash",) at end of file."""
        assert self.process is not None and self.process.stdout is not None
        descriptor = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        buffer = b""
        needed = 8
        while len(buffer) < needed:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([descriptor], [], [], left)[0]:
                return ("hang",)
            chunk = os.read(descriptor, needed - len(buffer))
            if not chunk:
                return ("crash",)
            buffer += chunk
            if needed == 8 and len(buffer) == 8:
                needed = 8 + struct.unpack("<Q", buffer)[0]
        return pickle.loads(buffer[8:])

    def _stop(self) -> str:
        """Kill the worker; its stderr (the last lines)."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.process = None
        text = ""
        if self.log is not None:
            self.log.seek(0)
            text = self.log.read().decode("utf-8", "replace")[-3000:]
            self.log.close()
            self.log = None
        return text

    def load(self, request: dict[str, Any], timeout: float = HANG_SECONDS) -> dict[str, Any]:
        if self.process is None or self.process.poll() is not None:
            self._stop()
            self._start()
        assert self.process is not None
        try:
            _write_message(self.process.stdin, request)
        except BrokenPipeError:
            pass
        reply = self._read(timeout)
        if reply == ("hang",):
            log = self._stop()
            return {"outcome": "hang", "detail": f"no answer in {timeout} s\n{log}"}
        if reply == ("crash",):
            code = self.process.wait()
            log = self._stop()
            return {"outcome": "crash", "detail": f"worker exit status {code}\n{log}"}
        self.peak_rss_kib = max(self.peak_rss_kib, reply.get("max_rss_kib", 0))
        if reply["outcome"] == "other" and reply.get("type") == "MemoryError":
            self._stop()  # a process that ran out of memory is not trusted further
        return reply

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                _write_message(self.process.stdin, None)
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._stop()


# The outcomes of all examples, printed at the end of the module (visible with `pytest -s`).
STATISTICS: collections.Counter = collections.Counter()
MESSAGES: dict[str, str] = {}


@pytest.fixture(scope="module")
def worker(files):
    process = _Worker(files["folder"])
    process.load({"fixture": "sequential", "suffix": "", "how": "selftest", "data": "nothing"})
    _bomb("")  # compressed once, before the timed examples
    yield process
    process.close()
    print(f"\nfuzz worker: {process.starts} start(s), peak RSS {process.peak_rss_kib // 1024} MiB")
    for key, count in sorted(STATISTICS.items()):
        print(f"  {count:5d}  {key}   e.g. {MESSAGES.get(key, '')[:160]}")


def _worker_main(folder: str) -> None:
    """Serve load requests on stdin/stdout until a None request (run as a script, see the end)."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything the library prints goes to the log, not into the replies
    warnings.simplefilter("ignore")
    import neuralnet
    import neuralnet.models
    from neuralnet.saving import ModelFileError

    with open(os.path.join(folder, "reference.pkl"), "rb") as handle:
        reference = pickle.load(handle)
    scratch = tempfile.mkdtemp(prefix="fuzz-worker-")
    # Warm up: everything imported and allocated once, before the memory limit.
    for name in reference:
        _worker_model(neuralnet, folder, name).predict(reference[name][0], verbose=0)
    limit = _limit_memory()
    _write_message(out, {"outcome": "ready", "limit": limit})
    stdin = sys.stdin.buffer
    while True:
        header = stdin.read(8)
        if len(header) < 8:
            return
        request = pickle.loads(stdin.read(struct.unpack("<Q", header)[0]))
        if request is None:
            return
        reply = _serve(request, neuralnet, ModelFileError, folder, scratch, reference)
        reply["max_rss_kib"] = _max_rss_kib()
        _write_message(out, reply)


def _max_rss_kib() -> int:
    try:
        import resource
    except ImportError:  # pragma: no cover (Windows)
        return 0
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _limit_memory() -> int | None:
    """Cap the address space at what the process has mapped now plus MEMORY_HEADROOM (Linux)."""
    try:
        import resource

        with open("/proc/self/status") as status:
            size_kib = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    except (ImportError, OSError, StopIteration):  # pragma: no cover (not Linux)
        return None
    limit = size_kib * 1024 + MEMORY_HEADROOM
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    return limit


def _worker_model(neuralnet: Any, folder: str, name: str) -> Any:
    return neuralnet.models.load_model(os.path.join(folder, f"{name}.keras"))


def _state(model: Any) -> list[np.ndarray]:
    """Every weight and optimizer variable of `model`, as copies."""
    arrays = [np.array(w, copy=True) for w in model.get_weights()]
    optimizer = getattr(model, "optimizer", None) if getattr(model, "compiled", False) else None
    if optimizer is not None:
        arrays += [np.array(v, copy=True) for v in optimizer.variables.values()]
        arrays.append(np.asarray(optimizer.learning_rate))
    return arrays


def _same_state(before: list[np.ndarray], after: list[np.ndarray]) -> bool:
    return len(before) == len(after) and all(
        a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
        for a, b in zip(before, after)
    )


def _perturb(model: Any) -> None:
    """Make the model's weights and optimizer state differ from every file's."""
    model.set_weights([w + 0.5 for w in model.get_weights()])
    if getattr(model, "compiled", False) and model.optimizer.built:
        optimizer = model.optimizer
        state = {k: np.asarray(v) + 0.25 for k, v in optimizer.variables.items()}
        state["iterations"] = np.asarray(4321)
        optimizer.load_variables(state)
        optimizer.learning_rate = 0.0375


def _serve(
    request: dict[str, Any],
    neuralnet: Any,
    model_file_error: type,
    folder: str,
    scratch: str,
    reference: dict[str, Any],
) -> dict[str, Any]:
    name, suffix, how = request["fixture"], request["suffix"], request["how"]
    if how == "selftest":  # what the harness must catch (see test_the_harness_catches_...)
        action = request["data"]
        try:
            if action == "allocate":
                bytearray(2 * MEMORY_HEADROOM)
            elif action == "hang":
                time.sleep(60)
            elif action == "crash":
                os.abort()
            elif action == "raise":
                raise KeyError("not a ModelFileError")
        except (MemoryError, KeyError) as error:
            return {
                "outcome": "other",
                "type": type(error).__name__,
                "message": "",
                "traceback": "",
            }
        return {"outcome": "loaded", "same": True}
    path = os.path.join(scratch, f"fuzzed{suffix}")
    with open(path, "wb") as handle:
        handle.write(request["data"])
    inputs, expected = reference[name]
    model = None
    before: list[np.ndarray] = []
    try:
        if how == "load_model":
            model = neuralnet.models.load_model(path)
        else:
            model = _worker_model(neuralnet, folder, name)
            _perturb(model)
            before = _state(model)
            model.load_weights(path)
    except model_file_error as error:
        cause = error.__cause__
        reply = {
            "outcome": "error",
            "message": str(error),
            "names_file": path in str(error),
            "cause": None if cause is None else type(cause).__name__,
            "cause_traceback": ""
            if cause is None
            else "".join(traceback.format_exception(cause))[-3000:],
        }
        if how == "load_weights":
            reply["unchanged"] = _same_state(before, _state(model))
        return reply
    except BaseException as error:  # noqa: BLE001 (any other exception is what we look for)
        return {
            "outcome": "other",
            "type": type(error).__name__,
            "message": str(error)[:2000],
            "traceback": traceback.format_exc()[-6000:],
        }
    try:
        predicted = _as_list(model.predict(inputs, verbose=0))
    except BaseException as error:  # noqa: BLE001
        return {
            "outcome": "broken",
            "type": type(error).__name__,
            "message": str(error)[:2000],
            "traceback": traceback.format_exc()[-6000:],
        }
    same = len(predicted) == len(expected) and all(
        p.shape == e.shape and p.dtype == e.dtype and np.array_equal(p, e, equal_nan=True)
        for p, e in zip(predicted, expected)
    )
    return {"outcome": "loaded", "same": same}


# -- zip archives, written by hand so that any header can lie ------------------------------------------


class Member:
    """One member of a zip archive: `data` (uncompressed), and how it is written."""

    def __init__(self, name: str, data: bytes, method: int = zipfile.ZIP_STORED) -> None:
        self.name = name
        self.data = data
        self.method = method
        self.raw: bytes | None = None  # compressed bytes written as they are (a bomb)
        self.size: int | None = None  # the uncompressed size the headers claim
        self.crc: int | None = None
        self.flags = 0

    def payload(self) -> tuple[bytes, int, int]:
        if self.raw is not None:
            return self.raw, self.crc or 0, self.size or 0
        if self.method == zipfile.ZIP_DEFLATED:
            compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
            raw = compressor.compress(self.data) + compressor.flush()
        else:
            raw = self.data
        crc = zlib.crc32(self.data) if self.crc is None else self.crc
        size = len(self.data) if self.size is None else self.size
        return raw, crc, size


def _members(data: bytes) -> list[Member]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [Member(i.filename, archive.read(i), i.compress_type) for i in archive.infolist()]


def _zip(members: list[Member]) -> bytes:
    """A zip archive of `members`: bzip2 and lzma members through `zipfile`, others by hand."""
    if any(m.method in (zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA) for m in members):
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate names
            with zipfile.ZipFile(buffer, "w") as archive:
                for member in members:
                    archive.writestr(member.name, member.data, compress_type=member.method)
        return buffer.getvalue()
    out = io.BytesIO()
    central = []
    for member in members:
        raw, crc, size = member.payload()
        name = member.name.encode("utf-8", "surrogatepass")
        flags = member.flags | (0 if member.name.isascii() else 0x800)
        offset = out.tell()
        out.write(
            struct.pack(
                "<4s5H3L2H",
                b"PK\x03\x04",
                20,
                flags,
                member.method,
                0,
                0x21,
                crc,
                len(raw),
                size & 0xFFFFFFFF,
                len(name),
                0,
            )
        )
        out.write(name + raw)
        central.append(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                flags,
                member.method,
                0,
                0x21,
                crc,
                len(raw),
                size & 0xFFFFFFFF,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
    start = out.tell()
    out.write(b"".join(central))
    out.write(
        struct.pack(
            "<4s4H2LH",
            b"PK\x05\x06",
            0,
            0,
            len(members),
            len(members),
            out.tell() - start,
            start,
            0,
        )
    )
    return out.getvalue()


_BOMB: list[Member] = []


def _bomb(name: str) -> Member:
    """A member of BOMB_SIZE zero bytes, deflated (compressed once per run)."""
    if not _BOMB:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        block = bytes(1 << 20)
        raw = b"".join(compressor.compress(block) for _ in range(BOMB_SIZE >> 20))
        member = Member("", b"", zipfile.ZIP_DEFLATED)
        member.raw = raw + compressor.flush()
        member.size = BOMB_SIZE
        crc = 0
        for _ in range(BOMB_SIZE >> 20):
            crc = zlib.crc32(block, crc)
        member.crc = crc
        _BOMB.append(member)
    member = copy.copy(_BOMB[0])
    member.name = name
    return member


_JSON_BOMBS: dict[tuple, bytes] = {}


def _json_bomb(name: str, unit: bytes, nested: bool) -> Member:
    """A member of JSON just under the size limit of `config.json` that parses into a list of
    millions of objects, strings or numbers (at the top, or as a Dense layer's `units`), deflated."""
    from neuralnet.saving import keras_archive

    limit = getattr(keras_archive, "_LIMITS", {}).get("config.json", 8 << 20)
    if (unit, nested) not in _JSON_BOMBS:
        head, tail = b"[", b"0]"
        if nested:
            head = (
                b'{"module": "keras", "class_name": "Sequential", "config": {"name": "s", '
                b'"layers": [{"module": "keras.layers", "class_name": "Dense", "config": '
                b'{"name": "d", "units": ['
            )
            tail = b"0]}}]}}"
        count = (limit - len(head) - len(tail)) // len(unit)
        _JSON_BOMBS[unit, nested] = head + unit * count + tail
    return Member(name, _JSON_BOMBS[unit, nested], zipfile.ZIP_DEFLATED)


# -- what mutations are made of -----------------------------------------------------------------------

SPECIAL_NUMBERS = [
    0,
    1,
    -1,
    2,
    10**12,
    -(10**12),
    2**31,
    2**32 + 1,
    2**63,
    2**64,
    10**100,
    0.5,
    -0.0,
    1e-300,
    1e308,
    float("nan"),
    float("inf"),
    float("-inf"),
    True,
    False,
]
CLASS_NAMES = [
    "Dense",
    "BatchNormalization",
    "Dropout",
    "Concatenate",
    "Add",
    "InputLayer",
    "Sequential",
    "Functional",
    "Model",
    "Lambda",
    "TFOpLambda",
    "Conv2D",
    "Adam",
    "SGD",
    "GlorotUniform",
    "Zeros",
    "function",
    "__keras_tensor__",
    "__tuple__",
    "NoSuchLayer",
    "",
    "os.system",
    "Layer",
    "Flatten",
    "Activation",
]
MODULES = [
    "os",
    "subprocess",
    "builtins",
    "importlib",
    "",
    "keras",
    "keras.layers",
    "keras.src.models.functional",
    "keras.optimizers",
    "keras.initializers",
    "neuralnet.layers",
    "keras.losses",
    "keras.metrics",
    "evil.module",
]
DEEP = "\x00deep\x00"  # replaced by deeply nested JSON text after serializing

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**13), max_value=10**13)
    | st.sampled_from(SPECIAL_NUMBERS)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "relu",
            "float16",
            "int32",
            "bfloat16",
            "mixed_float16",
            "channels_first",
            "same",
            "os",
            "dense",
            "../../etc/passwd",
            "x" * 5000,
        ]
    )
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["class_name", "config", "name", "module", "units", "shape", "dtype", "layers", "x"]
            )
            | st.text(max_size=6),
            children,
            max_size=4,
        )
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _get(root: Any, path: tuple) -> Any:
    for key in path:
        root = root[key]
    return root


def _put(root: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    _get(root, path[:-1])[path[-1]] = value
    return root


def _deep_text(draw: Any) -> str:
    depth = draw(st.sampled_from([150, 199, 201, 300, 5000, 100_000]))
    if draw(st.booleans()):
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def _edit_json(draw: Any, root: Any, steps: list[str]) -> Any:
    """One edit of a JSON document (any depth)."""
    paths = _paths(root)
    kind = draw(
        st.sampled_from(
            [
                "delete",
                "replace",
                "number",
                "class_name",
                "module",
                "registered_name",
                "history",
                "duplicate",
                "swap",
                "deep",
                "rename_key",
            ]
        )
    )
    by_key = {
        "class_name": [p for p in paths if p and p[-1] == "class_name"],
        "module": [p for p in paths if p and p[-1] == "module"],
        "registered_name": [p for p in paths if p and p[-1] == "registered_name"],
        "history": [p for p in paths if p and p[-1] == "keras_history"]
        + [p for p in paths if p and p[-1] in ("input_layers", "output_layers")],
        "number": [p for p in paths if isinstance(_get(root, p), (int, float))],
        "duplicate": [p for p in paths if isinstance(_get(root, p), list) and _get(root, p)],
        "swap": [p for p in paths if isinstance(_get(root, p), list) and len(_get(root, p)) > 1],
        "rename_key": [p for p in paths if p and isinstance(p[-1], str)],
    }
    if kind in by_key and not by_key[kind]:
        kind = "replace"
    candidates = by_key.get(kind) or [p for p in paths if p] or [()]
    path = draw(st.sampled_from(candidates))
    if kind == "delete" and path:
        parent = _get(root, path[:-1])
        del parent[path[-1]]
        steps.append(f"delete {path}")
        return root
    if kind == "class_name":
        value = draw(st.sampled_from(CLASS_NAMES) | st.text(max_size=8))
    elif kind == "module":
        value = draw(st.sampled_from(MODULES))
    elif kind == "registered_name":
        value = draw(st.sampled_from([None, "Functional", "Custom>Dense", "os>system", "Dense"]))
    elif kind == "history":
        names = [v for p in paths if p and p[-1] == "name" and isinstance(v := _get(root, p), str)]
        reference = [
            draw(st.sampled_from([*names, "no_such_layer"] if names else ["x"])),
            draw(st.sampled_from([0, 1, -1, 2, 10**12])),
            draw(st.sampled_from([0, 1, -1, 3, 10**12])),
        ]
        value = draw(st.sampled_from([reference, [reference], reference[:2], [], None, "a"]))
    elif kind == "number":
        value = draw(st.sampled_from(SPECIAL_NUMBERS) | json_scalars)
    elif kind == "duplicate":
        items = _get(root, path)
        index = draw(st.integers(0, len(items) - 1))
        items.insert(index, copy.deepcopy(items[index]))
        steps.append(f"duplicate {path}[{index}]")
        return root
    elif kind == "swap":
        items = _get(root, path)
        i = draw(st.integers(0, len(items) - 1))
        j = draw(st.integers(0, len(items) - 1))
        items[i], items[j] = items[j], items[i]
        steps.append(f"swap {path}[{i}] and [{j}]")
        return root
    elif kind == "rename_key" and path:
        parent = _get(root, path[:-1])
        new = draw(st.sampled_from(["", "class_name", "config", "units", "layers", "x", "Config"]))
        parent[new] = parent.pop(path[-1])
        steps.append(f"rename key {path} to {new!r}")
        return root
    elif kind == "deep":
        value = DEEP
    else:
        value = draw(json_values)
    steps.append(f"set {path} = {value!r:.100}")
    return _put(root, path, value)


def _json_bytes(draw: Any, value: Any) -> bytes:
    text = json.dumps(value, allow_nan=True, indent=draw(st.sampled_from([None, 1])))
    if DEEP in text:
        text = text.replace(json.dumps(DEEP), _deep_text(draw))
    return text.encode("utf-8")


def _mutate_json(draw: Any, data: bytes, steps: list[str]) -> bytes:
    root = json.loads(data)
    for _ in range(draw(st.integers(1, 3))):
        root = _edit_json(draw, root, steps)
    return _json_bytes(draw, root)


def _mutate_bytes(draw: Any, data: bytes, steps: list[str]) -> bytes:
    """Truncate, or overwrite/flip a few bytes, or insert or cut a span."""
    data = bytearray(data)
    kind = draw(st.sampled_from(["truncate", "flip", "flip", "set", "insert", "cut", "append"]))
    if kind == "truncate" or not data:
        offset = draw(st.integers(0, max(len(data) - 1, 0)))
        steps.append(f"truncate at {offset} of {len(data)}")
        return bytes(data[:offset])
    if kind in ("flip", "set"):
        for _ in range(draw(st.integers(1, 8))):
            position = draw(st.integers(0, len(data) - 1))
            if kind == "flip":
                data[position] ^= 1 << draw(st.integers(0, 7))
            else:
                data[position] = draw(
                    st.sampled_from([0, 0xFF, 0x7F, 0x80, 1]) | st.integers(0, 255)
                )
            steps.append(f"{kind} byte {position} to {data[position]:#04x}")
        return bytes(data)
    position = draw(st.integers(0, len(data)))
    if kind == "insert":
        chunk = draw(st.binary(min_size=1, max_size=64))
        steps.append(f"insert {len(chunk)} bytes at {position}")
        return bytes(data[:position] + chunk + data[position:])
    if kind == "cut":
        length = draw(st.integers(1, 256))
        steps.append(f"cut {length} bytes at {position}")
        return bytes(data[:position] + data[position + length :])
    chunk = draw(st.binary(min_size=1, max_size=64))
    steps.append(f"append {len(chunk)} bytes")
    return bytes(data) + chunk


# -- HDF5 edits ----------------------------------------------------------------------------------------

H5_EDITS = [
    "delete",
    "add",
    "swap",
    "reshape",
    "dtype",
    "huge",
    "compress",
    "scalar",
    "values",
    "optimizer_scalar",
    "optimizer_scalar",
    "group_for_dataset",
    "dataset_for_group",
    "attribute",
    "link",
    "external",
    "empty",
    "rename",
    "chunked",
    "virtual",
]


def _mutate_h5(draw: Any, data: bytes, steps: list[str]) -> bytes:
    import h5py

    buffer = io.BytesIO(data)
    with h5py.File(buffer, "r+") as handle:
        datasets: list[str] = []
        groups: list[str] = []
        handle.visititems(
            lambda name, obj: (datasets if isinstance(obj, h5py.Dataset) else groups).append(name)
        )
        for _ in range(draw(st.integers(1, 2))):
            try:
                _edit_h5(draw, handle, datasets, groups, steps)
            except (TypeError, ValueError, KeyError, OSError) as error:
                steps.append(f"  (h5py refused that edit: {error})")  # the file stays valid HDF5
            datasets.clear()
            groups.clear()
            handle.visititems(
                lambda name, obj: (datasets if isinstance(obj, h5py.Dataset) else groups).append(
                    name
                )
            )
    return buffer.getvalue()


def _new_array(draw: Any, shape: tuple) -> np.ndarray:
    import h5py

    kind = draw(
        st.sampled_from(
            [
                "float32",
                "float64",
                "float16",
                "int32",
                "int64",
                "uint8",
                "bool",
                "complex64",
                "bytes",
                "compound",
                "vlen",
                "enum",
            ]
        )
    )
    base = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) % 7 - 3
    if kind == "bytes":
        return np.full(shape, b"weight", dtype="S6")
    if kind == "compound":
        return np.zeros(shape, dtype=[("a", "<f4"), ("b", "<i4")])
    if kind == "vlen":
        return np.array(np.full(shape, "w", dtype=object), dtype=h5py.string_dtype())
    if kind == "enum":
        return np.zeros(shape, dtype=h5py.enum_dtype({"A": 0, "B": 1}, basetype="i1"))
    return base.astype(kind)


def _edit_h5(
    draw: Any, handle: Any, datasets: list[str], groups: list[str], steps: list[str]
) -> None:
    import h5py

    kind = draw(st.sampled_from(H5_EDITS))
    target = draw(st.sampled_from(datasets)) if datasets else None
    group = draw(st.sampled_from(groups)) if groups else None
    steps.append(f"h5 {kind} {target if kind not in ('dataset_for_group', 'rename') else group}")
    if target is None:
        handle.create_dataset("vars/0", data=np.zeros(3, "f4"))
        return
    node = handle[target]
    raw = node[()] if node.shape is None or node.size < 100_000 else np.zeros(3, "f4")
    array = np.zeros(3, "f4") if isinstance(raw, h5py.Empty) else np.asarray(raw)
    if array.dtype.kind not in "fiub":
        array = np.zeros(array.shape, "f4")
    if kind == "delete":
        del handle[target]
    elif kind == "add":
        where = draw(st.sampled_from([*groups, "layers/new/vars", "vars", "optimizer/vars", "x"]))
        index = draw(st.sampled_from(["0", "1", "7", "99", "-1", "a", "01", "2147483648"]))
        name = f"{where}/{index}"
        if name in handle:
            del handle[name]
        shape = draw(st.sampled_from([(), (3,), (8,), (6, 8), (0,), (2, 2, 2)]))
        handle.create_dataset(name, data=_new_array(draw, shape))
        steps.append(f"  as {name} {shape}")
    elif kind == "swap" and len(datasets) > 1:
        other = draw(st.sampled_from([d for d in datasets if d != target]))
        other_array = handle[other][()]
        del handle[target]
        del handle[other]
        handle.create_dataset(target, data=other_array)
        handle.create_dataset(other, data=array)
        steps.append(f"  with {other}")
    elif kind == "reshape":
        shapes = [
            array.reshape(-1),
            array.reshape(1, -1),
            array[..., None],
            array.T,
            np.concatenate([array.reshape(-1), [0]]).astype(array.dtype),
            array.reshape(-1)[:-1],
            np.zeros((0,), array.dtype),
            np.zeros((2,) * 5, array.dtype),
        ]
        new = draw(st.sampled_from(shapes))
        del handle[target]
        handle.create_dataset(target, data=new)
        steps.append(f"  to {new.shape}")
    elif kind == "dtype":
        del handle[target]
        handle.create_dataset(target, data=_new_array(draw, np.shape(array)))
    elif kind == "huge":
        shape = draw(st.sampled_from([(10**6, 10**6), (2**40,), (2**31, 3), (10**4,) * 4]))
        chunked = draw(st.booleans())
        if draw(st.booleans()):
            del handle[target]
            name = target
        else:
            name = f"{target.rsplit('/', 1)[0]}/{len(datasets)}"
        if name in handle:
            del handle[name]
        handle.create_dataset(
            name,
            shape=shape,
            dtype="f4",
            chunks=True if chunked else None,
            maxshape=shape if chunked else None,
        )
    elif kind == "compress":
        options = draw(
            st.sampled_from(
                [
                    {"compression": "gzip"},
                    {"compression": "lzf"},
                    {"shuffle": True},
                    {"fletcher32": True},
                    {"scaleoffset": 2},
                ]
            )
        )
        if array.ndim == 0:
            array = array.reshape(1)
        del handle[target]
        handle.create_dataset(target, data=array, **options)
        steps.append(f"  with {options}")
    elif kind == "scalar":
        del handle[target]
        handle.create_dataset(target, data=np.asarray(array).reshape(-1)[:1].reshape(()))
    elif kind == "values":
        value = draw(st.sampled_from([np.nan, np.inf, -np.inf, -1, 1e30, 2**62, 0, -(2**62)]))
        with np.errstate(all="ignore"):
            try:
                filled = np.full(array.shape, value).astype(array.dtype)
            except (OverflowError, ValueError):
                filled = np.full(array.shape, -1).astype(array.dtype)
        del handle[target]
        handle.create_dataset(target, data=filled)
        steps.append(f"  to {value}")
    elif kind == "optimizer_scalar":
        # `iterations` and the learning rate: values the optimizer checks as they are set.
        scalars = [d for d in datasets if d.startswith("optimizer/vars/") and not handle[d].shape]
        name = draw(st.sampled_from(scalars or [target]))
        value = draw(
            st.sampled_from(
                [-1.0, np.nan, np.inf, -np.inf, 1e30, 0.0, -(2**62), 2**64 - 1, 2**62, 0.5]
            )
        )
        dtype = draw(
            st.sampled_from(
                [handle[name].dtype, np.dtype("f8"), np.dtype("u8"), np.dtype("i8"), np.dtype("f2")]
            )
        )
        with np.errstate(all="ignore"):
            try:
                new_value = np.asarray(value).astype(dtype)
            except (OverflowError, ValueError):
                new_value = np.asarray(-1).astype(dtype)
        del handle[name]
        handle.create_dataset(name, data=new_value)
        steps.append(f"  {name} = {new_value!r}")
    elif kind == "group_for_dataset":
        del handle[target]
        handle.create_group(target)
    elif kind == "dataset_for_group" and group is not None:
        del handle[group]
        handle.create_dataset(group, data=np.ones(3, "f4"))
    elif kind == "attribute" and group is not None:
        node = handle[group]
        choice = draw(st.sampled_from(["delete", "number", "huge", "bytes"]))
        if choice == "delete":
            if "name" in node.attrs:
                del node.attrs["name"]
        elif choice == "number":
            node.attrs["name"] = 7
        elif choice == "huge":
            node.attrs.create("big", data=np.zeros(2000, "f8"))
        else:
            node.attrs["name"] = np.void(b"\x00" * 16)
    elif kind == "link":
        base = target.rsplit("/", 1)[0]
        name = f"{base}/{len(datasets)}"
        if name in handle:
            del handle[name]
        choice = draw(st.sampled_from(["soft", "dangling", "hard", "external", "loop"]))
        if choice == "soft":
            handle[name] = h5py.SoftLink("/" + target)
        elif choice == "dangling":
            handle[name] = h5py.SoftLink("/nowhere/at/all")
        elif choice == "hard":
            handle[name] = handle[target]
        elif choice == "external":
            handle[name] = h5py.ExternalLink("/etc/hostname", "/x")
        else:
            del handle[target]
            handle[target] = h5py.SoftLink("/" + target)
    elif kind == "external":
        shape = np.shape(array) or (1,)
        del handle[target]
        handle.create_dataset(
            target, shape=shape, dtype="f4", external=[("/etc/hostname", 0, h5py.h5f.UNLIMITED)]
        )
    elif kind == "empty":
        del handle[target]
        handle.create_dataset(target, data=h5py.Empty("f4"))
    elif kind == "rename" and group is not None and group != "/":
        new = draw(st.sampled_from(["x", "layers/dense_9/vars", "vars2", "layers/ünï/vars"]))
        if new not in handle:
            handle.move(group, new)
            steps.append(f"  to {new}")
    elif kind == "chunked":
        if array.ndim:
            del handle[target]
            handle.create_dataset(target, data=array, chunks=True)
    elif kind == "virtual":
        shape = np.shape(array) or (1,)
        layout = h5py.VirtualLayout(shape=shape, dtype="f4")
        layout[...] = h5py.VirtualSource("other.h5", "data", shape=shape)
        del handle[target]
        handle.create_virtual_dataset(target, layout, fillvalue=0)


# -- safetensors edits ------------------------------------------------------------------------------


def _mutate_safetensors(draw: Any, data: bytes, steps: list[str]) -> bytes:
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + length])
    body = data[8 + length :]
    kind = draw(
        st.sampled_from(["json", "tensor", "tensor", "length", "bytes", "duplicate", "values"])
    )
    tensors = [k for k in header if k != "__metadata__"]
    if kind == "values":
        key = draw(st.sampled_from(sorted(tensors, key=lambda k: not k.startswith("optimizer"))))
        entry = header[key]
        dtype = np.dtype(
            {"F16": "f2", "F32": "f4", "F64": "f8", "I64": "i8", "I32": "i4"}.get(
                entry["dtype"], "u1"
            )
        )
        value = draw(st.sampled_from([-1.0, np.nan, np.inf, 1e30, 0.0, -(2**62), 2**62]))
        start, end = entry["data_offsets"]
        with np.errstate(all="ignore"):
            try:
                filled = np.full((end - start) // dtype.itemsize, value).astype(dtype)
            except (OverflowError, ValueError):
                filled = np.full((end - start) // dtype.itemsize, -1).astype(dtype)
        body = body[:start] + filled.tobytes() + body[end:]
        steps.append(f"safetensors values of {key} = {value}")
        return data[: 8 + length] + body
    if kind == "json":
        header = _edit_json(draw, header, steps)
    elif kind == "tensor":
        key = draw(st.sampled_from(tensors))
        entry = header[key]
        field = draw(
            st.sampled_from(
                ["dtype", "shape", "data_offsets", "name", "swap", "delete", "add", "metadata"]
            )
        )
        if field == "dtype":
            entry["dtype"] = draw(
                st.sampled_from(
                    [
                        "F32",
                        "F64",
                        "F16",
                        "BF16",
                        "I64",
                        "I32",
                        "U8",
                        "BOOL",
                        "F8_E4M3",
                        "C64",
                        "str",
                        "",
                        7,
                    ]
                )
            )
        elif field == "shape":
            shape = list(entry["shape"])
            entry["shape"] = draw(
                st.sampled_from(
                    [
                        shape[::-1],
                        [*shape, 1],
                        shape[:-1],
                        [10**12],
                        [-1],
                        [2**64],
                        [],
                        [0],
                        [1.5],
                        "3",
                    ]
                )
            )
        elif field == "data_offsets":
            start, end = entry["data_offsets"]
            entry["data_offsets"] = draw(
                st.sampled_from(
                    [
                        [end, start],
                        [start, end + 4],
                        [0, end - start],
                        [start, 2**63],
                        [-4, end],
                        [start],
                        [start + 4, end + 4],
                        None,
                    ]
                )
            )
        elif field == "name":
            new = draw(
                st.sampled_from(
                    [
                        "vars/0",
                        "layers/dense/vars/9",
                        "../x",
                        "a/vars/-1",
                        "layers/dense/vars/00",
                        "optimizer/vars/0",
                        "",
                        "layers/x/vars/1",
                    ]
                )
            )
            header[new] = header.pop(key)
            steps.append(f"  renamed to {new!r}")
        elif field == "swap" and len(tensors) > 1:
            other = draw(st.sampled_from([t for t in tensors if t != key]))
            header[key], header[other] = header[other], header[key]
            steps.append(f"  with {other}")
        elif field == "delete":
            del header[key]
        elif field == "add":
            header[f"{key.rsplit('/', 1)[0]}/{len(tensors)}"] = copy.deepcopy(entry)
        else:
            header["__metadata__"] = draw(st.sampled_from([None, {"format": 7}, [], {"a": "b"}]))
        steps.append(f"safetensors {field} of {key}: {entry!r:.100}")
    elif kind == "length":
        new_length = draw(
            st.sampled_from(
                [0, 1, length - 1, length + 1, len(data), 2**63, 2**64 - 1, 100_000_000]
            )
        )
        steps.append(f"header length {length} -> {new_length}")
        return struct.pack("<Q", new_length) + data[8:]
    elif kind == "duplicate":
        # A key twice in the header (JSON allows it; the parser keeps one).
        text = json.dumps(header)
        key = draw(st.sampled_from(tensors))
        text = text[:-1] + f", {json.dumps(key)}: {json.dumps(header[key])}" + "}"
        steps.append(f"duplicate header key {key}")
        encoded = text.encode()
        return struct.pack("<Q", len(encoded)) + encoded + body
    else:
        return _mutate_bytes(draw, data, steps)
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + body


# -- .keras edits -----------------------------------------------------------------------------------


def _mutate_keras(draw: Any, data: bytes, steps: list[str]) -> tuple[bytes, bool]:
    """A mutated `.keras` file, and whether the mutation leaves the model exactly as it was."""
    kind = draw(
        st.sampled_from(
            [
                "bytes",
                "member_bytes",
                "config",
                "config",
                "config",
                "metadata",
                "weights",
                "weights",
                "zip",
                "zip",
                "harmless",
            ]
        )
    )
    if kind == "bytes":
        return _mutate_bytes(draw, data, steps), False
    members = _members(data)
    by_name = {m.name: m for m in members}
    if kind == "member_bytes":
        member = draw(st.sampled_from(members))
        steps.append(f"in {member.name}:")
        member.data = _mutate_bytes(draw, member.data, steps)
    elif kind == "config":
        by_name["config.json"].data = _mutate_json(draw, by_name["config.json"].data, steps)
    elif kind == "metadata":
        by_name["metadata.json"].data = _mutate_json(draw, by_name["metadata.json"].data, steps)
    elif kind == "weights":
        by_name["model.weights.h5"].data = _mutate_h5(draw, by_name["model.weights.h5"].data, steps)
    elif kind == "zip":
        members = _mutate_zip(draw, members, steps)
    else:
        _harmless(draw, members, steps)
        return _zip(members), True
    return _zip(members), False


def _harmless(draw: Any, members: list[Member], steps: list[str]) -> None:
    """Changes that must not change what loads: order, compression, dates, JSON layout."""
    by_name = {m.name: m for m in members}
    order = draw(st.permutations(range(len(members))))
    members[:] = [members[i] for i in order]
    for member in members:
        member.method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    metadata = json.loads(by_name["metadata.json"].data)
    metadata["date_saved"] = draw(st.sampled_from(["1999-12-31@23:59:59", "", "yesterday"]))
    if draw(st.booleans()):
        metadata.pop("neuralnet_version", None)
    by_name["metadata.json"].data = json.dumps(metadata, indent=2).encode()
    config = json.loads(by_name["config.json"].data)
    by_name["config.json"].data = json.dumps(
        config, indent=draw(st.sampled_from([None, 4]))
    ).encode()
    steps.append(f"harmless: order {order}, methods {[m.method for m in members]}")


def _mutate_zip(draw: Any, members: list[Member], steps: list[str]) -> list[Member]:
    kind = draw(
        st.sampled_from(
            [
                "add",
                "duplicate",
                "nested_zip",
                "bomb",
                "json_bomb",
                "remove",
                "rename",
                "compression",
                "claimed_size",
                "encrypted",
                "crc",
                "replace",
            ]
        )
    )
    index = draw(st.integers(0, len(members) - 1))
    member = members[index]
    steps.append(f"zip {kind} {member.name}")
    if kind == "add":
        name = draw(
            st.sampled_from(
                [
                    "assets/",
                    "extra.txt",
                    "../evil.json",
                    "/abs.json",
                    "config.json/",
                    "Config.json",
                    "model.weights.h5.bak",
                    "variables.h5",
                    "ünïcode",
                ]
            )
        )
        members.insert(draw(st.integers(0, len(members))), Member(name, b"{}"))
    elif kind == "duplicate":
        twin = Member(member.name, draw(st.sampled_from([member.data, b"{}", b""])), member.method)
        members.insert(draw(st.integers(0, len(members))), twin)
    elif kind == "nested_zip":
        inner = _zip([Member(m.name, m.data) for m in members])
        if draw(st.booleans()):
            member.data = inner
        else:
            members.append(Member("inner.keras", inner))
    elif kind == "bomb":
        members[index] = _bomb(member.name)
    elif kind == "json_bomb":
        unit = draw(st.sampled_from([b"{},", b'"ab",', b"0.5,", b"[[]],"]))
        index = next(i for i, m in enumerate(members) if m.name == "config.json")
        members[index] = _json_bomb("config.json", unit, draw(st.booleans()))
        steps.append(f"  {unit!r} * {len(members[index].data) // len(unit)}")
    elif kind == "remove":
        del members[index]
    elif kind == "rename":
        member.name = draw(
            st.sampled_from(
                [
                    "./" + member.name,
                    member.name.upper(),
                    member.name + " ",
                    "dir/" + member.name,
                    "",
                ]
            )
        )
    elif kind == "compression":
        member.method = draw(st.sampled_from([zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))
    elif kind == "claimed_size":
        member.method = zipfile.ZIP_DEFLATED
        member.size = draw(
            st.sampled_from([0, len(member.data) - 1, len(member.data) + 1, 2**32 - 1, 300 << 20])
        )
    elif kind == "encrypted":
        member.flags = draw(st.sampled_from([0x1, 0x8, 0x40, 0x2000]))
    elif kind == "crc":
        member.crc = zlib.crc32(member.data) ^ 1
    else:
        member.data = draw(
            st.sampled_from(
                [
                    b"",
                    b"null",
                    b"[]",
                    b"{}",
                    b"\xef\xbb\xbf{}",
                    b'{"a": 1, "a": 2}',
                    b"\xff\xfe",
                    b"PK\x03\x04",
                ]
            )
        )
    return members


# -- the property -------------------------------------------------------------------------------------


# A ModelFileError made from one of these by the loader's last-resort conversion means a check is
# missing: its message ("cannot be loaded: KeyError: 'x'") does not say what is wrong.
PROGRAMMING_ERRORS = {
    "TypeError",
    "AttributeError",
    "KeyError",
    "IndexError",
    "NameError",
    "UnboundLocalError",
    "AssertionError",
    "ZeroDivisionError",
}


def _check(reply: dict[str, Any], how: str, harmless: bool, steps: list[str]) -> None:
    outcome = reply["outcome"]
    key = f"{how}: {outcome}"
    if outcome == "error" and reply.get("cause"):
        key += f" (wrapping {reply['cause']})"
    STATISTICS[key] += 1
    MESSAGES.setdefault(key, reply.get("message", ""))
    described = "\n  ".join(steps)
    survey = os.environ.get("NEURALNET_FUZZ_SURVEY")
    if survey:  # record every outcome instead of stopping at the first failure
        with open(survey, "a") as log:
            log.write(
                json.dumps(
                    {"how": how, "harmless": harmless, "steps": steps, **reply}, default=repr
                )
                + "\n"
            )
        return
    if outcome == "error":
        assert reply.get("cause") not in PROGRAMMING_ERRORS, (
            f"the ModelFileError only wraps a {reply['cause']} (a check is missing, the message "
            f"does not say what is wrong): {reply['message']}\n  {described}"
        )
        assert not harmless, f"a harmless mutation was refused: {reply['message']}\n  {described}"
        assert reply["names_file"], f"the error does not name the file: {reply['message']}"
        if how == "load_weights":
            assert reply["unchanged"], (
                f"load_weights raised but changed the model: {reply['message']}\n  {described}"
            )
        return
    if outcome == "loaded":
        if harmless:
            assert reply["same"], f"a harmless mutation changed the predictions:\n  {described}"
        return
    if outcome == "broken" and reply["type"] == "ValueError" and not harmless:
        return  # an edited input shape: the model refuses the original inputs, and says why
    pytest.fail(
        f"{how} of a mutated file: {outcome} {reply.get('type', '')}: {reply.get('message', '')}\n"
        f"{reply.get('traceback', reply.get('detail', ''))}\nmutation:\n  {described}",
        pytrace=False,
    )


@fuzz
def test_mutated_keras_files_load_or_raise_model_file_error(worker, files, data):
    fixture = data.draw(st.sampled_from(FIXTURES), label="fixture")
    steps: list[str] = []
    mutated, harmless = _mutate_keras(data.draw, files[fixture][".keras"], steps)
    how = data.draw(st.sampled_from(["load_model", "load_model", "load_weights"]), label="how")
    note(f"{fixture}.keras, {how}: " + "; ".join(steps))
    reply = worker.load({"fixture": fixture, "suffix": ".keras", "how": how, "data": mutated})
    _check(reply, how, harmless, steps)


@fuzz
def test_mutated_weights_h5_files_load_or_raise_model_file_error(worker, files, data):
    fixture = data.draw(st.sampled_from(FIXTURES), label="fixture")
    original = files[fixture][".weights.h5"]
    steps: list[str] = []
    if data.draw(st.integers(0, 2), label="raw bytes?") == 0:
        mutated = _mutate_bytes(data.draw, original, steps)
    else:
        mutated = _mutate_h5(data.draw, original, steps)
    note(f"{fixture}.weights.h5: " + "; ".join(steps))
    reply = worker.load(
        {"fixture": fixture, "suffix": ".weights.h5", "how": "load_weights", "data": mutated}
    )
    _check(reply, "load_weights", False, steps)


@fuzz
def test_mutated_safetensors_files_load_or_raise_model_file_error(worker, files, data):
    fixture = data.draw(st.sampled_from(FIXTURES), label="fixture")
    steps: list[str] = []
    mutated = _mutate_safetensors(data.draw, files[fixture][".safetensors"], steps)
    note(f"{fixture}.safetensors: " + "; ".join(steps))
    reply = worker.load(
        {"fixture": fixture, "suffix": ".safetensors", "how": "load_weights", "data": mutated}
    )
    _check(reply, "load_weights", False, steps)


# -- hand edits, every one of them, whatever Hypothesis draws -----------------------------------------


def _set(path: tuple, value: Any) -> Any:
    def edit(root: Any) -> None:
        _put(root, path, value)

    return edit


def _delete(path: tuple) -> Any:
    def edit(root: Any) -> None:
        del _get(root, path[:-1])[path[-1]]

    return edit


SEQ_DENSE = ("config", "layers", 1)  # the first Dense of the Sequential (after its InputLayer)
FUN_DENSE = ("config", "layers", 2)  # the Dense on input 'a' of the functional model
FUN_TENSOR = (*FUN_DENSE, "inbound_nodes", 0, "args", 0)
NESTED_INNER = ("config", "layers", 1)  # the Sequential inside the nested model
HAND_EDITS = [
    *[
        ("sequential", f"units={v!r}", _set((*SEQ_DENSE, "config", "units"), v))
        for v in (10**12, 2**63, -1, 0, "8", None, [[8]], 8.5, True)
    ],
    *[
        (
            "sequential",
            f"batch_shape={v!r}",
            _set(("config", "layers", 0, "config", "batch_shape"), v),
        )
        for v in ([None, 10**12], [None, -1], [None], None, "6", [[None, 6]])
    ],
    ("sequential", "build_input_shape huge", _set(("config", "build_input_shape"), [None, 2**40])),
    *[
        ("sequential", f"class_name={v!r}", _set((*SEQ_DENSE, "class_name"), v))
        for v in ("NoSuchLayer", "Conv2D", "BatchNormalization", "Sequential", "Functional", "", 7)
    ],
    *[
        ("sequential", f"module={v!r}", _set((*SEQ_DENSE, "module"), v))
        for v in ("os", "subprocess", "builtins", {"a": 1}, 7)
    ],
    ("sequential", "registered_name os>system", _set((*SEQ_DENSE, "registered_name"), "os>system")),
    (
        "sequential",
        "initializer module subprocess",
        _set((*SEQ_DENSE, "config", "kernel_initializer", "module"), "subprocess"),
    ),
    (
        "sequential",
        "initializer module an object",
        _set((*SEQ_DENSE, "config", "kernel_initializer", "module"), {"a": 1}),
    ),
    (
        "sequential",
        "initializer module a list",
        _set((*SEQ_DENSE, "config", "kernel_initializer", "module"), [["os"], 1]),
    ),
    (
        "sequential",
        "optimizer unknown",
        _set(("compile_config", "optimizer", "class_name"), "NoSuchOptimizer"),
    ),
    (
        "sequential",
        "loss from os",
        _set(("compile_config", "loss"), {"module": "os", "class_name": "system", "config": {}}),
    ),
    (
        "sequential",
        "learning rate -1",
        _set(("compile_config", "optimizer", "config", "learning_rate"), -1),
    ),
    ("sequential", "no layers", _delete(("config", "layers"))),
    ("sequential", "no config of a layer", _delete((*SEQ_DENSE, "config"))),
    ("sequential", "no class_name", _delete((*SEQ_DENSE, "class_name"))),
    ("sequential", "units deeply nested", _set((*SEQ_DENSE, "config", "units"), DEEP)),
    ("sequential", "top level a list", lambda root: root.clear()),
    *[
        ("functional", f"keras_history={v!r}", _set((*FUN_TENSOR, "config", "keras_history"), v))
        for v in (
            ["out_1", 0, 0],
            ["dense", 0, 0],
            ["no_such_layer", 0, 0],
            ["a", 5, 0],
            ["a", 0, 7],
            ["a", -1, 0],
            ["a", 0],
            "a",
            None,
            ["a", 10**12, 0],
        )
    ],
    ("functional", "a tensor's config a list", _set((*FUN_TENSOR, "config"), [[]])),
    ("functional", "a layer's config a string", _set((*FUN_DENSE, "config"), "x")),
    ("functional", "a layer's name an object", _set((*FUN_DENSE, "name"), {"a": 1})),
    ("functional", "inputs twice", _set(("config", "input_layers"), [["a", 0, 0], ["a", 0, 0]])),
    ("functional", "no outputs", _set(("config", "output_layers"), [])),
    (
        "functional",
        "output a layer that is not called",
        _set(("config", "output_layers"), [["dense_9", 0, 0]]),
    ),
    (
        "functional",
        "a layer twice",
        lambda root: root["config"]["layers"].append(copy.deepcopy(root["config"]["layers"][2])),
    ),
    ("nested", "inner model a Functional", _set((*NESTED_INNER, "class_name"), "Functional")),
    ("nested", "inner model without layers", _set((*NESTED_INNER, "config", "layers"), [])),
    ("nested", "inner model module os", _set((*NESTED_INNER, "module"), "os")),
]


def _edit_id(entry: Any) -> str:
    values = getattr(entry, "values", entry)
    return f"{values[0]}-{values[1]}"


@pytest.mark.parametrize(
    ("fixture", "label", "edit"), HAND_EDITS, ids=[_edit_id(e) for e in HAND_EDITS]
)
def test_hand_edited_configs_load_or_raise_model_file_error(worker, files, fixture, label, edit):
    """The edits of config.json the issue names (huge, negative or mistyped sizes, unknown or other
    classes, modules such as os and subprocess, keras_history pointing elsewhere, ...), each tried
    (the random examples may miss some)."""
    members = _members(files[fixture][".keras"])
    config_member = next(m for m in members if m.name == "config.json")
    root = json.loads(config_member.data)
    edit(root)
    text = json.dumps(root)
    config_member.data = text.replace(json.dumps(DEEP), "[" * 100_000 + "]" * 100_000).encode()
    request = {"fixture": fixture, "suffix": ".keras", "how": "load_model", "data": _zip(members)}
    _check(worker.load(request), "load_model", False, [f"{fixture}: {label}"])


def _h5_with(data: bytes, name: str, value: Any) -> bytes:
    import h5py

    buffer = io.BytesIO(data)
    with h5py.File(buffer, "r+") as handle:
        del handle[name]
        handle.create_dataset(name, data=value)
    return buffer.getvalue()


def _safetensors_with(data: bytes, name: str, value: np.ndarray) -> bytes:
    length = struct.unpack("<Q", data[:8])[0]
    start, end = json.loads(data[8 : 8 + length])[name]["data_offsets"]
    body = data[8 + length :]
    return data[: 8 + length] + body[:start] + value.tobytes() + body[end:]


@pytest.mark.parametrize(
    ("suffix", "name", "value"),
    [
        (".weights.h5", "optimizer/vars/1", np.float32(-1.0)),  # the learning rate
        (".weights.h5", "optimizer/vars/1", np.float32("nan")),
        (".weights.h5", "optimizer/vars/0", np.int64(-1)),  # iterations
        (".weights.h5", "layers/dense/vars/1", "an empty dataspace"),
        (".safetensors", "optimizer/vars/1", np.float32(-1.0)),
        (".safetensors", "optimizer/vars/1", np.float32("-inf")),
    ],
)
def test_values_refused_while_copying_leave_the_model_unchanged(worker, files, suffix, name, value):
    """The optimizer checks the learning rate only when it is set, after the layers' weights were
    copied: load_weights must put them back (and the optimizer's state) when it refuses."""
    original = files["sequential"][suffix]
    if suffix == ".safetensors":
        data = _safetensors_with(original, name, np.asarray(value))
    elif isinstance(value, str):
        import h5py

        data = _h5_with(original, name, h5py.Empty("f4"))
    else:
        data = _h5_with(original, name, value)
    request = {"fixture": "sequential", "suffix": suffix, "how": "load_weights", "data": data}
    reply = worker.load(request)
    _check(reply, "load_weights", False, [f"{name} = {value}"])
    assert reply["outcome"] == "error"


# -- bombs, every one of them, whatever Hypothesis draws ------------------------------------------------

BOMBS = [("deflate", name, False) for name in KERAS_MEMBERS] + [
    (unit, "config.json", nested)
    for unit in ("{},", '"ab",', "0.5,", "[[]],")
    for nested in (False, True)
]


@pytest.mark.parametrize(("kind", "member", "nested"), BOMBS)
def test_bombs_are_refused_within_the_memory_cap(worker, files, kind, member, nested):
    """A member that decompresses to 256 MiB of zeros, or a config.json just under its size limit
    that parses into millions of objects, strings or numbers: refused, within MEMORY_HEADROOM."""
    members = _members(files["sequential"][".keras"])
    index = next(i for i, m in enumerate(members) if m.name == member)
    if kind == "deflate":
        members[index] = _bomb(member)
    else:
        members[index] = _json_bomb(member, kind.encode(), nested)
    for how in ("load_model", "load_weights"):
        request = {"fixture": "sequential", "suffix": ".keras", "how": how, "data": _zip(members)}
        reply = worker.load(request)
        if how == "load_weights" and member != "model.weights.h5" and kind != "deflate":
            continue  # load_weights does not read config.json beyond the archive's checks
        _check(reply, how, False, [f"{kind} bomb in {member}" + (" (nested)" if nested else "")])
        assert reply["outcome"] == "error"


# -- the harness itself -----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5", ".safetensors"])
@pytest.mark.parametrize("fixture", FIXTURES)
def test_unmutated_files_load_exactly(worker, files, fixture, suffix):
    """The worker loads the valid files and gets the original predictions (so `same` means it)."""
    how = "load_model" if suffix == ".keras" else "load_weights"
    reply = worker.load(
        {"fixture": fixture, "suffix": suffix, "how": how, "data": files[fixture][suffix]}
    )
    assert reply == {"outcome": "loaded", "same": True, "max_rss_kib": reply["max_rss_kib"]}


def test_the_harness_catches_other_errors_changed_state_crashes_hangs_and_memory(worker, files):
    """The worker reports what the property looks for: an exception other than ModelFileError, a
    failed load that changed the model, a crash, a hang, an allocation past the memory cap."""
    request = {
        "fixture": "sequential",
        "suffix": ".weights.h5",
        "how": "load_weights",
        "data": files["functional"][".weights.h5"],
    }
    reply = worker.load(request)
    assert reply["outcome"] == "error" and reply["unchanged"] and reply["names_file"]
    request = {"fixture": "sequential", "suffix": "", "how": "selftest", "data": "raise"}
    assert worker.load(request)["type"] == "KeyError"
    request["data"] = "crash"
    assert worker.load(request)["outcome"] == "crash"
    request["data"] = "hang"
    assert worker.load(request, timeout=1.0)["outcome"] == "hang"
    if worker.load({**request, "data": "nothing"})["outcome"] == "loaded" and (
        worker.baseline.get("limit") is not None
    ):
        reply = worker.load({**request, "data": "allocate"})
        assert reply["outcome"] == "other" and reply["type"] == "MemoryError"


if __name__ == "__main__" and sys.argv[1:2] == ["--fuzz-worker"]:
    _worker_main(sys.argv[2])
