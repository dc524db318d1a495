"""What data-parallel training needs from MPI, on top of mpi4py: one process per rank, each with
its shard of every global batch, exchanging gradients, statistics and logs.

Every method is collective: all ranks call it, in the same order (the training loop does).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import numpy as np


class Communicator:
    """A group of MPI processes that train one model together (synchronous data parallelism).

    Attributes:
        comm: The mpi4py communicator (`MPI.COMM_WORLD` unless another was given).
        rank: This process's index, 0 to size − 1; rank 0 is the chief (prints, writes files).
        size: The number of processes.
        gather_predictions: "all" (every rank gets `predict`'s whole result) or "root" (rank 0
            does, the others get None).
    """

    def __init__(self, comm: Any, mpi: Any, gather_predictions: str = "all") -> None:
        self.comm = comm
        self.MPI = mpi
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        if gather_predictions not in ("all", "root"):
            raise ValueError(
                "distributed.initialize: gather_predictions must be 'all' or 'root', received "
                f"{gather_predictions!r}."
            )
        self.gather_predictions = gather_predictions
        self._buffer: np.ndarray | None = None
        #: Seconds spent in the gradients' Allreduce (waiting for the slowest rank included), and
        #: how many there were: what distributed training costs over one process.
        self.allreduce_seconds = 0.0
        self.allreduce_count = 0
        #: This rank's BLAS threads, when `initialize` set them.
        self.threads: int | None = None

    @property
    def is_chief(self) -> bool:
        return self.rank == 0

    # -- sharding -------------------------------------------------------------------------------

    def shard(self, n: int) -> tuple[int, int]:
        """(start, stop) of this rank's rows of a global batch of `n` rows: contiguous, sizes
        differing by one at most (the first n mod size ranks get one more)."""
        base, extra = divmod(n, self.size)
        start = self.rank * base + min(self.rank, extra)
        return start, start + base + (1 if self.rank < extra else 0)

    def local_index(self, index: slice | np.ndarray, n_total: int) -> slice | np.ndarray:
        """This rank's part of a batch given as a slice of the data or an array of row indices."""
        if isinstance(index, slice):
            start, stop, _ = index.indices(n_total)
            a, b = self.shard(stop - start)
            return slice(start + a, start + b)
        a, b = self.shard(len(index))
        return index[a:b]

    # -- collectives ----------------------------------------------------------------------------

    def average_gradients(self, grads: list[np.ndarray], weight: float) -> None:
        """grads ← Σ_ranks weight_r · grads_r, in place, with one Allreduce of one contiguous
        buffer: with weight = (this rank's samples) / (the global batch's), the mean gradient
        of the global batch, as one process computes it."""
        total = sum(g.size for g in grads)
        dtype = grads[0].dtype if grads else np.float64
        buffer = self._buffer
        if buffer is None or buffer.size != total or buffer.dtype != dtype:
            buffer = self._buffer = np.empty(total, dtype=dtype)
        offset = 0
        for g in grads:
            part = buffer[offset : offset + g.size]
            np.multiply(g.reshape(-1), weight, out=part)
            offset += g.size
        start = time.perf_counter()
        self.comm.Allreduce(self.MPI.IN_PLACE, buffer, op=self.MPI.SUM)
        self.allreduce_seconds += time.perf_counter() - start
        self.allreduce_count += 1
        offset = 0
        for g in grads:
            g.reshape(-1)[...] = buffer[offset : offset + g.size]  # grads are C-ordered arrays
            offset += g.size

    def broadcast_arrays(self, arrays: list[np.ndarray]) -> None:
        """Each array ← rank 0's, in place."""
        for array in arrays:
            if array.flags.c_contiguous:
                self.comm.Bcast(array, root=0)
            else:
                copy = np.ascontiguousarray(array)
                self.comm.Bcast(copy, root=0)
                array[...] = copy

    def broadcast(self, value: Any) -> Any:
        """Rank 0's Python value."""
        return self.comm.bcast(value, root=0)

    def allgather(self, value: Any) -> list[Any]:
        return self.comm.allgather(value)

    def gather(self, value: Any) -> list[Any] | None:
        """Every rank's value, in rank order, on rank 0 (None on the others)."""
        return self.comm.gather(value, root=0)

    def sum_states(self, states: list[dict[str, Any]]) -> list[dict[str, np.ndarray]]:
        """Each dict of arrays summed over the ranks (metrics' accumulators), key by key; a
        rank's empty dict (a metric that has seen no data) counts as zeros."""
        gathered = self.allgather(states)
        summed = []
        for i in range(len(states)):
            total: dict[str, np.ndarray] = {}
            for rank_states in gathered:
                for key, value in rank_states[i].items():
                    value = np.asarray(value)
                    total[key] = value.copy() if key not in total else total[key] + value
            summed.append(total)
        return summed

    def average_arrays(self, arrays: list[np.ndarray]) -> None:
        """Each array ← its mean over the ranks, in place (moving statistics)."""
        for array in arrays:
            reduced = np.ascontiguousarray(array, dtype=np.float64).copy()
            self.comm.Allreduce(self.MPI.IN_PLACE, reduced, op=self.MPI.SUM)
            array[...] = reduced / self.size

    def check_same(self, what: str, value: Any) -> None:
        """A ValueError on every rank unless all ranks hold the same `value` (compared by hash)."""
        digest = hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()
        digests = self.allgather(digest)
        differing = [r for r, d in enumerate(digests) if d != digests[0]]
        if differing:
            raise ValueError(
                f"distributed training: the ranks disagree on {what}: ranks {differing} differ "
                "from rank 0. Every rank must build and compile the same model (run the same "
                "script with the same arguments)."
            )

    def gather_rows(
        self, parts: list[np.ndarray], to_all: bool | None = None
    ) -> list[np.ndarray] | None:
        """Each array's rows from every rank, concatenated in rank order: on every rank, or on
        rank 0 only (the others getting None) when `to_all` is False; by default as
        `gather_predictions` says."""
        if to_all is None:
            to_all = self.gather_predictions == "all"
        if not to_all:
            gathered = self.comm.gather(parts, root=0)
            if not self.is_chief:
                return None
        else:
            gathered = self.comm.allgather(parts)
        return [np.concatenate([rank_parts[i] for rank_parts in gathered])
                for i in range(len(parts))]  # fmt: skip

    def barrier(self) -> None:
        self.comm.Barrier()

    def abort(self, code: int = 1) -> None:
        self.comm.Abort(code)
