"""Durable storage for a Raft node: a checksummed write-ahead log and snapshot files (``FileStorage``).

This is the I/O edge of ``cacheflow.raft``: the core reads it through the
``LogStorage`` protocol; the driver writes each ``Ready`` with ``FileStorage.save``.
"""

from cacheflow.raft.storage.file_storage import FileStorage, TornTail, WalCorruptionError
from cacheflow.raft.storage.snapfile import SnapshotFileError

__all__ = ["FileStorage", "SnapshotFileError", "TornTail", "WalCorruptionError"]
