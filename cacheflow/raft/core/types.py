"""The values the Raft core exchanges with its driver: messages, entries, snapshots, hard state.

These are plain immutable records shared by the core, the storage and the wire
codec (``cacheflow.raft.codec``), shaped after etcd-io/raft's ``raftpb``.  Node ids
are positive ints; 0 means "none" (no leader, no vote).  Indexes and terms start at
1; index 0 / term 0 is the empty log's sentinel.
"""

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Final

NONE: Final = 0


class MessageType(IntEnum):
    """Message kinds.  HUP, BEAT, PROP (from the local node), UNREACHABLE, SNAP_STATUS and
    CHECK_QUORUM are local-only; the rest travel between nodes.  Numbers are part of the
    wire format: append, never renumber."""

    HUP = 0
    BEAT = 1
    PROP = 2
    APP = 3
    APP_RESP = 4
    VOTE = 5
    VOTE_RESP = 6
    SNAP = 7
    HEARTBEAT = 8
    HEARTBEAT_RESP = 9
    UNREACHABLE = 10
    SNAP_STATUS = 11
    CHECK_QUORUM = 12
    TRANSFER_LEADER = 13
    TIMEOUT_NOW = 14
    READ_INDEX = 15
    READ_INDEX_RESP = 16
    PRE_VOTE = 17
    PRE_VOTE_RESP = 18


class EntryType(IntEnum):
    NORMAL = 0
    CONF_CHANGE = 1


class ConfChangeType(IntEnum):
    ADD_NODE = 0
    REMOVE_NODE = 1
    ADD_LEARNER = 2


class Role(IntEnum):
    FOLLOWER = 0
    CANDIDATE = 1
    LEADER = 2
    PRE_CANDIDATE = 3


@dataclass(frozen=True, slots=True)
class Entry:
    term: int
    index: int
    type: EntryType = EntryType.NORMAL
    data: bytes = b""


@dataclass(frozen=True, slots=True)
class ConfChange:
    """One membership change; carried encoded (codec.encode_conf_change) in a CONF_CHANGE entry's data."""

    type: ConfChangeType
    node_id: int
    context: bytes = b""


@dataclass(frozen=True, slots=True)
class ConfState:
    voters: tuple[int, ...] = ()
    learners: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class SnapshotMetadata:
    index: int = 0
    term: int = 0
    conf_state: ConfState = field(default_factory=ConfState)


@dataclass(frozen=True, slots=True)
class Snapshot:
    metadata: SnapshotMetadata = field(default_factory=SnapshotMetadata)
    data: bytes = b""

    def is_empty(self) -> bool:
        return self.metadata.index == 0


@dataclass(frozen=True, slots=True)
class HardState:
    """What must be durable before any message that depends on it is sent."""

    term: int = 0
    vote: int = NONE
    commit: int = 0


@dataclass(frozen=True, slots=True)
class SoftState:
    """Volatile status (not persisted): who leads, and this node's role."""

    leader: int = NONE
    role: Role = Role.FOLLOWER


@dataclass(frozen=True, slots=True)
class ReadState:
    """A ReadIndex answer: once ``index`` is applied, a read for ``request_ctx`` is linearizable."""

    index: int
    request_ctx: bytes


@dataclass(frozen=True, slots=True)
class Message:
    type: MessageType
    to: int = NONE
    from_: int = NONE
    term: int = 0
    log_term: int = 0
    index: int = 0
    entries: tuple[Entry, ...] = ()
    commit: int = 0
    snapshot: Snapshot | None = None
    reject: bool = False
    reject_hint: int = 0
    context: bytes = b""


@dataclass(frozen=True, slots=True)
class Ready:
    """Everything the driver must do, in this order:

    1. persist ``hard_state`` (if not None), ``snapshot`` (if not empty) and append
       ``entries`` to stable storage, fsyncing if ``must_sync``;
    2. then send ``messages`` -- or, when ``may_send_first``, send them while step 1 runs;
    3. apply ``committed_entries`` in order (and serve ``read_states`` once applied);
    4. call ``advance()``.
    """

    soft_state: SoftState | None = None
    hard_state: HardState | None = None
    read_states: tuple[ReadState, ...] = ()
    entries: tuple[Entry, ...] = ()
    snapshot: Snapshot = field(default_factory=Snapshot)
    committed_entries: tuple[Entry, ...] = ()
    messages: tuple[Message, ...] = ()
    must_sync: bool = False
    # A leader's Ready whose term and vote are already durable: its messages (appends,
    # heartbeats) may go out while its entries are being persisted (raw_node's contract).
    may_send_first: bool = False

    def contains_updates(self) -> bool:
        return bool(
            self.soft_state is not None
            or self.hard_state is not None
            or self.read_states
            or self.entries
            or not self.snapshot.is_empty()
            or self.committed_entries
            or self.messages
        )
