"""A node's settings; validated once when the node is built.

Ticks are the only notion of time: the driver calls ``RawNode.tick()`` at a fixed
rate, so timeouts are counted in ticks.  The only randomness (the election timeout
in ``[election_tick, 2 * election_tick)``) comes from the injected ``rng``, which
keeps a seeded run reproducible.
"""

import random
from dataclasses import dataclass
from enum import IntEnum

from cacheflow.raft.core.errors import ConfigError
from cacheflow.raft.core.log_storage import LogStorage


class ReadOnlyOption(IntEnum):
    """How a leader confirms it still leads before answering a ReadIndex request."""

    SAFE = 0
    """A heartbeat round acknowledged by a quorum (correct whatever the clocks do)."""
    LEASE_BASED = 1
    """Trust the check-quorum lease: no round trip, but relies on bounded clock drift."""


@dataclass(slots=True)
class RaftConfig:
    id: int
    storage: LogStorage
    rng: random.Random
    election_tick: int = 10
    heartbeat_tick: int = 1
    check_quorum: bool = False
    pre_vote: bool = False
    read_only_option: ReadOnlyOption = ReadOnlyOption.SAFE
    max_size_per_msg: int = 1 << 20
    max_inflight_msgs: int = 256
    applied: int = 0
    max_committed_size_per_ready: int = 0
    max_uncommitted_entries_size: int = 0
    disable_proposal_forwarding: bool = False

    def validate(self) -> None:
        if self.id <= 0:
            raise ConfigError("id must be a positive int (0 means none)")
        if self.heartbeat_tick <= 0:
            raise ConfigError("heartbeat_tick must be > 0")
        if self.election_tick <= self.heartbeat_tick:
            raise ConfigError("election_tick must be greater than heartbeat_tick")
        if self.max_inflight_msgs <= 0:
            raise ConfigError("max_inflight_msgs must be > 0")
        if self.max_size_per_msg < 0 or self.max_committed_size_per_ready < 0:
            raise ConfigError("sizes must be >= 0")
        if self.max_uncommitted_entries_size < 0:
            raise ConfigError("max_uncommitted_entries_size must be >= 0")
        if self.applied < 0:
            raise ConfigError("applied must be >= 0")
        if self.read_only_option == ReadOnlyOption.LEASE_BASED and not self.check_quorum:
            raise ConfigError("LEASE_BASED reads need check_quorum=True (the lease is the check-quorum window)")
