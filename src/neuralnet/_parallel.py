"""The data-parallel group training runs in, if any: set by `neuralnet.distributed.initialize`.

This module imports nothing, so that the training loop can ask `_parallel.active` at no cost;
`neuralnet.distributed` (and mpi4py) is loaded only by a script that asks for it.
"""

from __future__ import annotations

from typing import Any

#: The `neuralnet.distributed.Communicator` of this process, or None for one-process training.
active: Any = None


def group() -> Any:
    """The communicator when this process trains with other ranks (more than one), else None."""
    return active if active is not None and active.size > 1 else None
