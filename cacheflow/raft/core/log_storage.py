"""What the core reads from a node's stable log: the contract every storage implements.

The core only *reads* through this interface (to find terms, fetch entries for
followers, restart after a crash).  Writes happen in the driver, from ``Ready``:
the driver appends ``Ready.entries`` / applies ``Ready.snapshot`` / sets
``Ready.hard_state`` on its storage before calling ``advance()``.  Two
implementations exist: ``raft.core.memory_storage.MemoryStorage`` (tests and the
simulation, which models "durable" as "what was persisted before the crash") and
``raft.storage.FileStorage`` (a checksummed write-ahead log on disk).
"""

from typing import Protocol

from cacheflow.raft.core.types import ConfState, Entry, HardState, Snapshot


class StorageError(Exception):
    pass


class CompactedError(StorageError):
    """The requested index is behind the last compaction (only a snapshot has it)."""


class UnavailableError(StorageError):
    """The requested index is past the last stored entry."""


class SnapshotTemporarilyUnavailableError(StorageError):
    """A snapshot is being made; the leader retries later."""


class LogStorage(Protocol):
    def initial_state(self) -> tuple[HardState, ConfState]:
        """The hard state and membership to restart from."""
        ...

    def entries(self, lo: int, hi: int, max_bytes: int | None = None) -> list[Entry]:
        """Entries [lo, hi); at least one if any is in range, then up to ``max_bytes`` of data.

        Raises CompactedError if lo <= the snapshot index, UnavailableError if hi > last_index()+1.
        """
        ...

    def term(self, index: int) -> int:
        """The term of entry ``index``; the snapshot's term for the snapshot index.

        Raises CompactedError / UnavailableError like ``entries``.
        """
        ...

    def first_index(self) -> int:
        """The first index still in the log (snapshot index + 1)."""
        ...

    def last_index(self) -> int: ...

    def snapshot(self) -> Snapshot:
        """The most recent snapshot (may raise SnapshotTemporarilyUnavailableError)."""
        ...
