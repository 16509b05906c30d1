"""The driver's handle on one Raft node, and the contract the driver must keep.

The core decides; the driver does the I/O.  Inputs: ``tick()`` at a fixed rate,
``step(message)`` for every message received, and the local requests (``propose``,
``propose_conf_change``, ``read_index``, ``transfer_leader``, ``campaign``).  Outputs
come out of ``ready()`` as one ``Ready``, which the driver must handle **in this order**:

1. **Persist** ``rd.hard_state`` (if not None), ``rd.snapshot`` (if not empty) and
   ``rd.entries`` (appending them truncates any conflicting suffix), and fsync when
   ``rd.must_sync``.  Nothing of this Ready may be sent before it is durable: a vote or
   an acknowledgement sent for state that a crash then loses breaks Raft's safety.
2. **Send** ``rd.messages`` (none is addressed to this node).  Exception: when
   ``rd.may_send_first`` (a leader whose term and vote did not change in this Ready,
   and whose commit index covers none of its entries), they may be sent *while* step 1 runs, so that the leader's fsync and its
   followers' overlap (Ongaro's thesis, §10.2.1).  That is safe because the leader
   counts itself in a quorum only as far as its log goes, and nothing it commits on
   that count leaves the node -- as committed entries or as a commit index in a
   message -- before a later Ready, which comes after this one's ``advance`` and so
   after its entries are durable.  A follower's or candidate's messages (votes,
   acknowledgements) never may: they promise durable state.  Each may be lost,
   duplicated, delayed or reordered -- the protocol tolerates all four.  After sending
   a ``SNAP`` message, call ``report_snapshot(to, ok)``; call ``report_unreachable(to)``
   when a peer cannot be reached, so its progress is probed again.
3. **Apply** ``rd.committed_entries`` in order.  A non-empty ``rd.snapshot`` replaces
   the state machine first.  A ``CONF_CHANGE`` entry is decoded with
   ``cacheflow.raft.codec.decode_conf_change`` and passed to ``apply_conf_change``; an
   empty ``NORMAL`` entry is a leader's no-op.  ``rd.read_states`` are answered once the
   applied index reaches their ``index``.  Committed entries may include entries of
   this same Ready's ``entries``: that is why persisting comes first.
4. **Advance**: ``advance(rd)`` tells the core all of the above is done.

``ready()`` may not be called again before ``advance()`` (it raises ``RaftError``);
``has_ready()`` is False meanwhile.  Between the two, the driver may still tick, step
and propose: the results simply wait for the next Ready.

A restart is ``RawNode(RaftConfig(storage=<the same storage>, applied=<state machine's
applied index>, ...))``: the hard state and membership come from
``storage.initial_state()``, and committed entries after ``applied`` are handed out again.
"""

from collections.abc import Sequence

# codec imports core.types (and so this package): reach it as a module, at call time.
from cacheflow.raft import codec
from cacheflow.raft.core.config import RaftConfig
from cacheflow.raft.core.errors import ProposalDroppedError, RaftError
from cacheflow.raft.core.raft import Raft
from cacheflow.raft.core.status import ProgressStatus, Status
from cacheflow.raft.core.types import (
    ConfChange,
    ConfState,
    Entry,
    EntryType,
    HardState,
    Message,
    MessageType,
    Ready,
    Role,
    Snapshot,
    SoftState,
)

_LOCAL_ONLY = frozenset(
    {
        MessageType.HUP,
        MessageType.BEAT,
        MessageType.UNREACHABLE,
        MessageType.SNAP_STATUS,
        MessageType.CHECK_QUORUM,
    }
)
_EMPTY_SNAPSHOT = Snapshot()


class RawNode:
    __slots__ = ("_outstanding", "_prev_hard", "_prev_soft", "_raft")

    def __init__(self, config: RaftConfig) -> None:
        self._raft = Raft(config)
        self._prev_soft = self._raft.soft_state()
        self._prev_hard = self._raft.hard_state()
        self._outstanding = False

    @property
    def id(self) -> int:
        return self._raft.id

    @property
    def raft(self) -> Raft:
        """The protocol object, for tests and invariant checkers (read it, do not drive it)."""
        return self._raft

    # -- inputs ------------------------------------------------------------------------

    def tick(self) -> None:
        self._raft.tick()

    def campaign(self) -> None:
        self._raft.step(Message(MessageType.HUP, from_=self._raft.id))

    def propose(self, data: bytes) -> None:
        self._raft.propose_one(data)

    def propose_batch(self, datas: Sequence[bytes]) -> None:
        """Propose several entries at once (all or none are accepted)."""
        self._raft.propose_data(datas)

    def propose_conf_change(self, cc: ConfChange) -> None:
        r = self._raft
        pr = r.tracker.progress.get(r.id)
        if r.role == Role.LEADER or pr is not None:
            why = r.tracker.validate(cc)
            if why is not None:
                raise ProposalDroppedError(why)
        entry = Entry(0, 0, EntryType.CONF_CHANGE, codec.encode_conf_change(cc))
        r.step(Message(MessageType.PROP, from_=r.id, entries=(entry,)))

    def step(self, m: Message) -> None:
        r = self._raft
        if m.type in _LOCAL_ONLY:
            raise RaftError(f"{m.type.name} is a local message; it cannot come from the network")
        if m.to != r.id:
            raise RaftError(f"message for node {m.to} stepped into node {r.id}")
        try:
            r.step(m)
        except ProposalDroppedError:
            # A forwarded request this node cannot serve; its sender will time out and retry.
            pass

    def read_index(self, ctx: bytes) -> None:
        if not ctx:
            raise RaftError("a read needs a non-empty, unique context")
        r = self._raft
        r.step(Message(MessageType.READ_INDEX, from_=r.id, context=ctx))

    def transfer_leader(self, transferee: int) -> None:
        self._raft.step(Message(MessageType.TRANSFER_LEADER, from_=transferee))

    def report_unreachable(self, node_id: int) -> None:
        self._raft.step(Message(MessageType.UNREACHABLE, from_=node_id))

    def report_snapshot(self, node_id: int, ok: bool) -> None:
        self._raft.step(Message(MessageType.SNAP_STATUS, from_=node_id, reject=not ok))

    def apply_conf_change(self, cc: ConfChange) -> ConfState:
        return self._raft.apply_conf_change(cc)

    # -- outputs -----------------------------------------------------------------------

    def has_ready(self) -> bool:
        if self._outstanding:
            return False
        r = self._raft
        r.flush()
        log = r.raft_log
        return bool(
            r.msgs
            or log.unstable.entries
            or log.unstable.snapshot is not None
            or log.has_next_committed_entries()
            or r.read_states
            or r.lead != self._prev_soft.leader
            or r.role != self._prev_soft.role
            or r.term != self._prev_hard.term
            or r.vote != self._prev_hard.vote
            or log.committed != self._prev_hard.commit
        )

    def ready(self) -> Ready:
        if self._outstanding:
            raise RaftError("ready() called again before advance()")
        r = self._raft
        r.flush()
        log = r.raft_log
        soft: SoftState | None = None
        if r.lead != self._prev_soft.leader or r.role != self._prev_soft.role:
            soft = self._prev_soft = SoftState(r.lead, r.role)
        hard: HardState | None = None
        prev = self._prev_hard
        must_sync = False
        vote_changed = r.term != prev.term or r.vote != prev.vote
        if vote_changed or log.committed != prev.commit:
            must_sync = vote_changed
            hard = self._prev_hard = HardState(r.term, r.vote, log.committed)
        entries = tuple(log.unstable.entries)
        snap = log.unstable.snapshot
        if entries or snap is not None:
            must_sync = True
        msgs = tuple(r.msgs)
        r.msgs = []
        read_states = tuple(r.read_states)
        r.read_states = []
        self._outstanding = True
        return Ready(
            soft_state=soft,
            hard_state=hard,
            read_states=read_states,
            entries=entries,
            snapshot=snap if snap is not None else _EMPTY_SNAPSHOT,
            committed_entries=tuple(log.next_committed_entries()),
            messages=msgs,
            must_sync=must_sync,
            # Not when the commit index already covers entries of this Ready (a single voter
            # commits on its own append): the messages would announce a commit not yet durable.
            may_send_first=r.role == Role.LEADER
            and not vote_changed
            and snap is None
            and (not entries or log.committed < entries[0].index),
        )

    def advance(self, rd: Ready) -> None:
        if not self._outstanding:
            raise RaftError("advance() without an outstanding ready()")
        self._outstanding = False
        r = self._raft
        log = r.raft_log
        if not rd.snapshot.is_empty():
            index = rd.snapshot.metadata.index
            log.stable_snap_to(index)
            if log.applied < index <= log.committed:
                log.applied = index
        if rd.entries:
            last = rd.entries[-1]
            log.stable_to(last.index, last.term)
        if rd.committed_entries:
            last_applied = rd.committed_entries[-1].index
            if last_applied > log.applied:
                log.applied_to(last_applied)
            r.reduce_uncommitted_size(rd.committed_entries)

    # -- inspection --------------------------------------------------------------------

    def status(self) -> Status:
        r = self._raft
        progress: dict[int, ProgressStatus] = {}
        if r.role == Role.LEADER:
            for nid, pr in r.tracker.progress.items():
                progress[nid] = ProgressStatus(
                    match=pr.match,
                    next=pr.next,
                    state=pr.state,
                    pending_snapshot=pr.pending_snapshot,
                    recent_active=pr.recent_active,
                    paused=pr.is_paused(),
                    inflight=pr.inflights.count(),
                    is_learner=pr.is_learner,
                )
        return Status(
            id=r.id,
            hard_state=r.hard_state(),
            soft_state=r.soft_state(),
            applied=r.raft_log.applied,
            last_index=r.raft_log.last_index(),
            lead_transferee=r.lead_transferee,
            conf_state=r.tracker.conf_state(),
            progress=progress,
        )
