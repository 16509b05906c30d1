"""The pure Raft core: a deterministic state machine with no I/O, clock or global randomness.

Drive it through ``RawNode`` (see raw_node.py for the persist / send / apply / advance
contract); ``MemoryStorage`` is the in-memory ``LogStorage`` for tests and the simulation.
"""

from cacheflow.raft.core.config import RaftConfig, ReadOnlyOption
from cacheflow.raft.core.errors import ConfigError, ProposalDroppedError, RaftError, SnapshotOutOfDateError
from cacheflow.raft.core.log_storage import (
    CompactedError,
    LogStorage,
    SnapshotTemporarilyUnavailableError,
    StorageError,
    UnavailableError,
)
from cacheflow.raft.core.memory_storage import MemoryStorage
from cacheflow.raft.core.progress import ProgressState
from cacheflow.raft.core.raw_node import RawNode
from cacheflow.raft.core.status import ProgressStatus, Status
from cacheflow.raft.core.types import (
    NONE,
    ConfChange,
    ConfChangeType,
    ConfState,
    Entry,
    EntryType,
    HardState,
    Message,
    MessageType,
    ReadState,
    Ready,
    Role,
    Snapshot,
    SnapshotMetadata,
    SoftState,
)

__all__ = [
    "NONE",
    "CompactedError",
    "ConfChange",
    "ConfChangeType",
    "ConfState",
    "ConfigError",
    "Entry",
    "EntryType",
    "HardState",
    "LogStorage",
    "MemoryStorage",
    "Message",
    "MessageType",
    "ProgressState",
    "ProgressStatus",
    "ProposalDroppedError",
    "RaftConfig",
    "RaftError",
    "RawNode",
    "ReadOnlyOption",
    "ReadState",
    "Ready",
    "Role",
    "Snapshot",
    "SnapshotMetadata",
    "SnapshotOutOfDateError",
    "SoftState",
    "Status",
    "StorageError",
    "UnavailableError",
    "SnapshotTemporarilyUnavailableError",
]
