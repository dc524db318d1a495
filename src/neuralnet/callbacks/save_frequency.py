"""`save_freq` as a number of batches, counted as Keras 3 counts it (ModelCheckpoint and
BackupAndRestore share the rule)."""

from __future__ import annotations

from typing import Any


class BatchSaveCounter:
    """Says after which batches a callback with `save_freq=N` saves: every N batches counted
    across epochs (a batch number not above the last one seen starts a new epoch)."""

    def __init__(self, save_freq: str | int) -> None:
        self.save_freq = save_freq
        self.batches_since_save = 0
        self.last_batch_seen: int | None = None

    def due(self, batch: int) -> bool:
        """Count `batch`; True when a save is due after it (never for `save_freq="epoch"`)."""
        if self.save_freq == "epoch":
            return False
        if self.last_batch_seen is None or batch <= self.last_batch_seen:
            self.batches_since_save += batch + 1
        else:
            self.batches_since_save += batch - self.last_batch_seen
        self.last_batch_seen = batch
        if self.batches_since_save >= self.save_freq:
            self.batches_since_save = 0
            return True
        return False

    def get_state(self) -> dict[str, Any]:
        return {
            "batches_seen_since_last_saving": self.batches_since_save,
            "last_batch_seen": self.last_batch_seen,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.batches_since_save = int(state["batches_seen_since_last_saving"])
        last = state["last_batch_seen"]
        self.last_batch_seen = None if last is None else int(last)
