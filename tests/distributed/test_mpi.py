"""Data-parallel training over MPI (neuralnet/distributed): real `mpiexec -n 2` and `-n 3` jobs
(the dev extra installs mpi4py and the mpich wheel) against one process, in float64."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpi4py")
WORKER = Path(__file__).with_name("mpi_worker.py")
MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec (pip install mpich)")


def _run(out, ranks, *options, timeout=120):
    out.mkdir(exist_ok=True)
    if ranks == 0:
        command = [sys.executable, str(WORKER), str(out), "--single", *options]
    else:
        command = [MPIEXEC, "-n", str(ranks), sys.executable, str(WORKER), str(out), *options]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                          check=False)  # fmt: skip


def _results(out, rank):
    with np.load(out / f"rank{rank}.npz") as data:
        arrays = {key: data[key] for key in data.files}
    return arrays, json.loads((out / f"rank{rank}.json").read_text())


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    runs = {}
    for optimizer in ("sgd", "adam"):
        out = tmp_path_factory.mktemp(f"single_{optimizer}")
        done = _run(out, 0, "--optimizer", optimizer)
        assert done.returncode == 0, done.stderr
        runs[optimizer] = _results(out, 0)
    return runs


@pytest.mark.parametrize("ranks", [2, 3])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_ranks_train_exactly_as_one_process(tmp_path, single, ranks, optimizer):
    # 103 samples, 82 for training after validation_split=0.2, global batch 20: the last batch
    # has 2 samples, so with 3 ranks one of them has none; shards are uneven throughout.
    done = _run(tmp_path, ranks, "--optimizer", optimizer)
    assert done.returncode == 0, done.stderr
    expected_arrays, expected_logs = single[optimizer]
    for rank in range(ranks):
        arrays, logs = _results(tmp_path, rank)
        for key, value in expected_arrays.items():
            np.testing.assert_allclose(arrays[key], value, rtol=1e-6, atol=1e-12, err_msg=key)
        for name, values in expected_logs["history"].items():
            np.testing.assert_allclose(logs["history"][name], values, rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(logs["evaluation"], expected_logs["evaluation"], rtol=1e-6)


@pytest.mark.parametrize("source", ["pydataset", "generator"])
def test_batches_from_a_pydataset_or_a_generator_are_sharded_too(tmp_path, source):
    # Every rank reads the same batches and keeps its rows (of a memory map: reads only those);
    # 3 ranks on batches of 20, 30 and 16 from 103 samples: uneven shards and a short last batch.
    single = tmp_path / "single"
    done = _run(single, 0, "--source", source, "--memmap", "--optimizer", "adam")
    assert done.returncode == 0, done.stderr
    expected_arrays, expected_logs = _results(single, 0)
    done = _run(tmp_path / "ranks", 3, "--source", source, "--memmap", "--optimizer", "adam")
    assert done.returncode == 0, done.stderr
    for rank in range(3):
        arrays, logs = _results(tmp_path / "ranks", rank)
        for key, value in expected_arrays.items():
            np.testing.assert_allclose(arrays[key], value, rtol=1e-6, atol=1e-12, err_msg=key)
        for name, values in expected_logs["history"].items():
            np.testing.assert_allclose(logs["history"][name], values, rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(logs["evaluation"], expected_logs["evaluation"], rtol=1e-6)


def test_memory_mapped_inputs_and_batch_normalization_agree_on_every_rank(tmp_path):
    done = _run(tmp_path, 2, "--memmap", "--batch-norm", "--optimizer", "adam")
    assert done.returncode == 0, done.stderr
    first, first_logs = _results(tmp_path, 0)
    second, second_logs = _results(tmp_path, 1)
    import neuralnet as nn

    # model.save on every rank: only rank 0 writes, and the file holds the trained model
    assert not (tmp_path / "model_rank1.keras").exists()
    saved = nn.models.load_model(tmp_path / "model_rank0.keras")
    for i, weight in enumerate(saved.get_weights()):
        np.testing.assert_array_equal(weight, first[f"w{i}"])
    for key in first:  # moving statistics averaged at each epoch's end: the ranks agree
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)
    assert first_logs == second_logs


def test_a_killed_and_resumed_run_ends_bit_identical_to_an_uninterrupted_one(tmp_path):
    # Dropout (each rank's own random masks) and batch normalization (each rank's own statistics
    # within an epoch) make every rank's state its own: all of it goes into the one backup.
    options = ("--optimizer", "adam", "--dropout", "--batch-norm")
    whole = tmp_path / "whole"
    done = _run(whole, 2, *options, "--backup", str(tmp_path / "backup_whole"))
    assert done.returncode == 0, done.stderr
    resumed = tmp_path / "resumed"
    backup = tmp_path / "backup"
    killed = _run(resumed, 2, *options, "--backup", str(backup), "--die-at", "1:1")
    assert killed.returncode != 0 and not (resumed / "rank0.npz").exists()
    assert (backup / "training_state.safetensors").exists()
    done = _run(resumed, 2, *options, "--backup", str(backup))
    assert done.returncode == 0, done.stderr
    for rank in range(2):
        expected, expected_logs = _results(whole, rank)
        arrays, logs = _results(resumed, rank)
        for key, value in expected.items():
            np.testing.assert_array_equal(arrays[key], value, err_msg=f"rank {rank}: {key}")
        assert logs == expected_logs


def test_a_backup_resumes_only_with_as_many_ranks(tmp_path):
    backup = tmp_path / "backup"
    killed = _run(tmp_path / "a", 2, "--backup", str(backup), "--die-at", "1:1")
    assert killed.returncode != 0
    done = _run(tmp_path / "b", 3, "--backup", str(backup), timeout=60)
    assert done.returncode != 0
    assert "is of a run on 2 rank(s); this one has 3" in done.stderr


@pytest.mark.parametrize("verbose", [1, 2])
def test_rank_zero_alone_shows_progress(tmp_path, verbose):
    # The progress bar wants logs after every batch, which are summed over the ranks: every rank
    # takes part although only rank 0 shows them.
    done = _run(tmp_path, 2, "--verbose", str(verbose), timeout=60)
    assert done.returncode == 0, done.stderr
    shown = done.stdout + done.stderr
    last_epoch = "Epoch 3/3: 100%" if verbose == 1 else "Epoch 3/3"  # the bar's end, or its line
    assert shown.count(last_epoch) == 1, shown


def test_a_rank_that_raises_ends_the_whole_job_quickly(tmp_path):
    start = time.perf_counter()
    done = _run(tmp_path, 2, "--fail-on-rank", "1", timeout=60)
    assert done.returncode != 0
    assert time.perf_counter() - start < 30
    assert "rank 1 fails on purpose" in done.stderr


def test_ranks_that_build_different_models_are_told_so(tmp_path):
    done = _run(tmp_path, 2, "--rank-dependent-model", timeout=60)
    assert done.returncode != 0
    assert "the ranks disagree on the model" in done.stderr and "ranks [1]" in done.stderr


def test_a_global_batch_smaller_than_the_number_of_ranks_is_refused(tmp_path):
    done = _run(tmp_path, 3, "--batch-size", "2", timeout=60)
    assert done.returncode != 0
    assert "global batch_size=2 is smaller than the number of ranks (3)" in done.stderr


def test_missing_mpi4py_names_the_extra(monkeypatch):
    from neuralnet import distributed

    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(ImportError, match=r"pip install 'neuralnet\[mpi\]'"):
        distributed.initialize()


def test_the_distributed_example_trains_on_two_ranks_from_a_memory_map(tmp_path):
    example = Path(__file__).parents[2] / "examples" / "distributed_mnist.py"
    command = [MPIEXEC, "-n", "2", sys.executable, str(example), "--out", str(tmp_path),
               "--epochs", "1"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "2 ranks" in done.stdout and "held-out loss" in done.stdout
    assert done.stdout.count("Epoch 1/1") == 1  # rank 0 alone reports
    assert (tmp_path / "distributed_mnist.keras").exists()
    assert np.load(tmp_path / "mnist_x.npy", mmap_mode="r").dtype == np.uint8


def test_mpi4py_without_an_mpi_library_says_what_to_install(monkeypatch):
    import types

    from neuralnet import distributed

    def no_library(name):
        raise RuntimeError("cannot load MPI library")  # what mpi4py 4 raises without one

    broken = types.ModuleType("mpi4py")  # importable, but its MPI module cannot load
    broken.__getattr__ = no_library
    monkeypatch.setitem(sys.modules, "mpi4py", broken)
    monkeypatch.delitem(sys.modules, "mpi4py.MPI", raising=False)
    with pytest.raises(RuntimeError, match=r"found no MPI library.*pip install mpich.*module load"):
        distributed.initialize()
