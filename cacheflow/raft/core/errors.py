"""Errors the core raises to its driver.

A refused proposal is not a bug: the driver retries elsewhere (another node, later).
Anything else raised from the core means the driver broke the contract (or a bug).
"""

from cacheflow.raft.core.log_storage import StorageError


class RaftError(Exception):
    """The driver used the core in a way the contract forbids."""


class ProposalDroppedError(RaftError):
    """A proposal, conf change, read or transfer was refused; nothing was appended.

    Reasons: no leader is known, a leader transfer is in progress, a conf change is
    still pending, the change is invalid, or the uncommitted-size limit is reached.
    """


class ConfigError(RaftError, ValueError):
    """An invalid ``RaftConfig``."""


class SnapshotOutOfDateError(StorageError):
    """A snapshot older than (or as old as) the one storage already holds."""
