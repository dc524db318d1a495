"""`BackupAndRestore`: resume an interrupted `fit` exactly where it stopped."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from neuralnet.callbacks import training_state
from neuralnet.callbacks.callback import CALLBACKS, Callback
from neuralnet.callbacks.save_frequency import BatchSaveCounter

#: The backup's name inside `backup_dir`.
BACKUP_NAME = "training_state.safetensors"


@CALLBACKS.register("BackupAndRestore")
class BackupAndRestore(Callback):
    """Back up the whole training state during `fit`, and resume from the backup when the same
    script runs again after an interruption (Keras 3's callback, made exact).

    ```python
    backup = callbacks.BackupAndRestore("backup/")
    model.fit(x, y, epochs=50, validation_split=0.2, callbacks=[backup, callbacks.EarlyStopping()])
    ```

    A process killed at any moment (in an epoch, between epochs, while writing the backup) and
    started again with the same command goes on from the last backup and ends with the weights,
    optimizer state and History of a run that was never interrupted, bit for bit. Keras resumes
    the weights at the start of an epoch; here the backup also holds the optimizer's state and
    learning rate, the position in the epoch and the shuffled order of its batches, the running
    metrics, every random generator, the History and the state of the other callbacks
    (`Callback.get_state`): see `neuralnet.callbacks.training_state` for the file. A callback of
    your own that keeps something across batches or epochs needs `get_state` and `set_state` to
    be resumed exactly.

    The backup is one file, `backup_dir/training_state.safetensors`, replaced atomically at each
    save, so a process killed while writing leaves the previous one. A backup that is truncated
    or corrupted, or that belongs to another model or `fit`, raises a `ValueError` in `fit`
    instead of silently starting again. The model, the data and the arguments of `fit` must be
    those of the interrupted run (`epochs` may grow).

    Args:
        backup_dir: The folder of the backup; use it for nothing else (and one folder for each
            `fit` of a script that calls `fit` more than once).
        save_freq: `'epoch'` to save at the end of each epoch, or a positive integer to save
            every that many batches (a resumed run then starts in the middle of an epoch).
        double_checkpoint: Keras's fallback to the previous backup when the last one cannot be
            read; not supported (`NotImplementedError`): a backup is replaced atomically, so a
            write that is killed leaves the previous one whole.
        delete_checkpoint: Delete the backup when `fit` ends without an error. Keras deletes the
            whole `backup_dir`; here only the backup (and the folder when it is then empty).

    Raises:
        ValueError: For an empty `backup_dir` or an unknown `save_freq` (Keras's messages).
    """

    runs_last = True  # it saves the others' state after each hook and restores it after theirs

    def __init__(
        self,
        backup_dir: str | os.PathLike,
        save_freq: str | int = "epoch",
        double_checkpoint: bool = False,
        delete_checkpoint: bool = True,
    ) -> None:
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if double_checkpoint:
            raise NotImplementedError(
                "BackupAndRestore: `double_checkpoint` is not supported: the backup is replaced "
                "atomically, so a write that is killed leaves the previous backup whole."
            )
        if save_freq is False:
            raise ValueError(
                "BackupAndRestore: save_freq=False (saving only before a preemption) is not "
                "supported; use 'epoch' or a number of batches."
            )
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool)):
            raise ValueError(
                "Invalid value for argument `save_freq`. "
                f"Received: save_freq={save_freq}. "
                "Expected either 'epoch' or an integer value."
            )
        if save_freq != "epoch" and save_freq < 1:
            raise ValueError(
                "BackupAndRestore: `save_freq` must be 'epoch' or a positive number of batches, "
                f"received save_freq={save_freq}."
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = bool(delete_checkpoint)
        self.path = os.path.join(self.backup_dir, BACKUP_NAME)
        self._counter = BatchSaveCounter(save_freq)

    def on_train_begin(self, logs=None):
        self._counter = BatchSaveCounter(self.save_freq)
        comm = _group()
        if comm is None:
            training_state.remove_leftovers(self.path)
            if not os.path.exists(self.path):
                return
            state = training_state.read(self.path)
            if "ranks" in state:
                state = self._own_part(state, _OneProcess())
        else:
            # Rank 0 reads the backup and sends each rank the whole of it (no shared file
            # system needed); each rank resumes from its own part.
            state = None
            if comm.is_chief:
                training_state.remove_leftovers(self.path)
                if os.path.exists(self.path):
                    state = training_state.read(self.path)
            state = comm.broadcast(state)
            if state is None:
                return
            state = self._own_part(state, comm)
        training_state.restore(self.model, self._fit_state(), state, self.path, exclude=self)
        self._counter.set_state(state["extra"])

    def _own_part(self, state: dict[str, Any], comm: Any) -> dict[str, Any]:
        parts = state.get("ranks")
        saved = 1 if parts is None else len(parts)
        if saved != comm.size:
            raise ValueError(
                f"BackupAndRestore: the backup {self.path} is of a run on {saved} rank(s); this one "
                f"has {comm.size}. Resume with the same number of ranks, or delete the backup."
            )
        return parts[comm.rank]

    def on_train_batch_end(self, batch, logs=None):
        if self._counter.due(batch):
            self._save()

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save()

    def on_train_end(self, logs=None):
        comm = _group()
        if self.delete_checkpoint and (comm is None or comm.is_chief):
            training_state.remove(self.path)
            with contextlib.suppress(OSError):
                os.rmdir(self.backup_dir)  # only when empty

    def _save(self) -> None:
        state = training_state.capture(
            self.model, self._fit_state(), self._counter.get_state(), exclude=self
        )
        comm = _group()
        if comm is None:
            training_state.write(self.path, state)
            return
        # Each rank's state (its random generators, its share of the metrics, its batch
        # normalization statistics within an epoch) goes into rank 0's one file.
        parts = comm.gather(state)
        if comm.is_chief:
            training_state.write(self.path, {"ranks": parts})
        comm.barrier()  # every rank goes on once the backup is complete

    def _fit_state(self) -> Any:
        state = getattr(getattr(self.model, "trainer", None), "fit_state", None)
        if state is None:
            raise RuntimeError("BackupAndRestore works inside model.fit() only.")
        return state


class _OneProcess:
    rank, size = 0, 1


def _group() -> Any:
    """The communicator of a distributed fit (neuralnet.distributed), else None."""
    from neuralnet import _parallel

    return _parallel.group()
