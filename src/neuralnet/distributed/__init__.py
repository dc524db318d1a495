"""Data-parallel training over MPI (the `[mpi]` extra: mpi4py, with the cluster's own MPI).

One line turns a training script into a distributed one:

    import neuralnet.distributed
    neuralnet.distributed.initialize()
    ...                                  # the same model, compile and fit on every rank

then `mpiexec -n 4 python train.py` (or `srun python train.py` under SLURM). Every rank runs the
whole script; `fit` then trains synchronously, as Horovod does:

- each global batch (`batch_size` is the global batch, the same schedule on every rank) is split
  into contiguous shards, one per rank, that differ by one sample at most; a rank reads only its
  rows (of a memory-mapped file too);
- each rank's gradients, weighted by its share of the batch's samples, are summed with one
  in-place Allreduce of one buffer, so P ranks make the update one process makes with the whole
  batch; the weights and optimizer state start as rank 0's;
- losses and metrics are summed over the ranks, so every rank logs the same History;
  `BatchNormalization` normalizes with each rank's own batch statistics and its moving statistics
  are averaged over the ranks at the end of every epoch;
- `evaluate` and `predict` are sharded too; `predict` returns every row on every rank (or on rank
  0 only, `initialize(gather_predictions="root")`);
- only rank 0 shows progress and writes files (checkpoints, logs, backups);
- an exception on any rank ends the whole job (MPI_Abort) instead of leaving the others waiting.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
import warnings
from typing import Any

from neuralnet import _parallel
from neuralnet.distributed.communicator import Communicator

__all__ = ["Communicator", "initialize", "is_chief", "rank", "shutdown", "size"]


def _import_mpi() -> Any:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        raise ImportError(
            "neuralnet.distributed needs the optional package mpi4py, which is not installed. "
            "Install it with: pip install 'neuralnet[mpi]' (on a cluster, load its MPI module "
            "first, e.g. `module load openmpi`, so that mpi4py uses the cluster's MPI)."
        ) from None
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError, OSError) as error:
        raise RuntimeError(
            f"mpi4py is installed but found no MPI library ({error}). Install one: `pip install "
            "mpich` (or impi-rt / openmpi) on a workstation, or on a cluster load its MPI module "
            "(`module load openmpi` or `module load intel-mpi`) before starting Python."
        ) from None
    return MPI


def initialize(
    comm: Any = None, gather_predictions: str = "all", threads: int | str | None = "auto"
) -> Communicator:
    """Make this process one rank of a data-parallel group; `fit`, `evaluate` and `predict` then
    train and infer together with the other ranks.

    Args:
        comm: An mpi4py communicator; `MPI.COMM_WORLD` by default.
        gather_predictions: "all" (every rank gets `predict`'s rows) or "root" (rank 0 only).
        threads: BLAS threads of this rank. "auto" shares the node's cores among the ranks on
            it (ranks whose BLAS threads outnumber the cores wait on each other's spinning
            threads, many times slower); an int sets them; None leaves them as they are.

    Returns:
        The `Communicator` (`.rank`, `.size`, `.is_chief`).
    """
    mpi = _import_mpi()
    communicator = Communicator(comm if comm is not None else mpi.COMM_WORLD, mpi,
                                gather_predictions)  # fmt: skip
    _parallel.active = communicator
    if threads is not None:
        _limit_threads(communicator, mpi, threads)
    if communicator.size > 1:
        _abort_on_uncaught_exceptions(communicator)
    return communicator


def _limit_threads(communicator: Communicator, mpi: Any, threads: int | str) -> None:
    """Set this rank's BLAS threads (threadpoolctl, part of the [mpi] extra)."""
    if threads == "auto":
        local = communicator.comm.Split_type(mpi.COMM_TYPE_SHARED)
        on_node = local.Get_size()
        local.Free()
        threads = max(1, (os.cpu_count() or 1) // on_node)
    threads = int(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        if threads < (os.cpu_count() or 1):
            warnings.warn(
                f"neuralnet.distributed: cannot limit this rank's BLAS threads to {threads} "
                "without threadpoolctl (pip install 'neuralnet[mpi]'); set OPENBLAS_NUM_THREADS "
                "in the job's environment instead.",
                UserWarning,
                stacklevel=3,
            )
        return
    threadpool_limits(limits=threads, user_api="blas")
    communicator.threads = threads


def shutdown() -> None:
    """Back to one-process training (the MPI library stays initialized until exit)."""
    _parallel.active = None


def _current() -> Communicator:
    if _parallel.active is None:
        raise RuntimeError("neuralnet.distributed.initialize() has not been called.")
    return _parallel.active


def rank() -> int:
    """This process's rank (0 without `initialize`)."""
    return 0 if _parallel.active is None else _parallel.active.rank


def size() -> int:
    """The number of ranks (1 without `initialize`)."""
    return 1 if _parallel.active is None else _parallel.active.size


def is_chief() -> bool:
    """Whether this process is rank 0, the one that prints and writes files."""
    return rank() == 0


def _abort_on_uncaught_exceptions(communicator: Communicator) -> None:
    """An exception no one catches on one rank would leave the others blocked in their next
    collective call forever: print it, then end every rank with MPI_Abort."""

    def hook(kind, value, tb):
        try:
            text = "".join(traceback.format_exception(kind, value, tb))
            sys.stdout.flush()
            sys.stderr.write(f"[rank {communicator.rank}] {text}")  # in one piece
            sys.stderr.flush()
            # Ranks that fail together (a check every rank makes) print before one of them
            # aborts them all.
            time.sleep(0.5)
        finally:
            communicator.abort(1)

    sys.excepthook = hook
