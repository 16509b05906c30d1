"""The Raft protocol for one node: roles, terms, votes, replication, commit, reads, transfers.

Everything here is a reaction to ``tick()``, ``step(message)`` or a local request; the
results are left in ``msgs`` (to send), ``read_states`` and the log's unstable part for
``RawNode`` to hand out.  Rules kept here (Raft paper / thesis section numbers):

- a node grants one vote per term, only to a log at least as up to date as its own (§5.4.1);
- with ``pre_vote``, a would-be candidate first asks whether it could win, without
  touching any term, so a node rejoining from a partition does not depose a healthy
  leader (thesis §9.6);
- with ``check_quorum``, a leader that did not hear from a majority within an election
  timeout steps down, and a follower that heard from a leader within one ignores vote
  requests (the leader lease, thesis §6.4 / §9.6);
- a new leader appends an empty entry of its term; entries of older terms are only
  committed indirectly, by committing a current-term entry after them (§5.4.2);
- membership changes one server at a time, one pending at a time, and only after the
  leader committed an entry of its own term (the fix to the single-server change bug);
- the leader sends appends lazily: requests mark followers dirty and ``flush()`` (called
  when the driver asks for a Ready) packs everything available into as few APP
  messages as ``max_size_per_msg`` and the in-flight window allow.
"""

import dataclasses
import random
from collections.abc import Sequence
from enum import Enum

# codec imports core.types (and so this package): reach it as a module, at call time.
from cacheflow.raft import codec
from cacheflow.raft.core.config import RaftConfig, ReadOnlyOption
from cacheflow.raft.core.errors import ConfigError, ProposalDroppedError
from cacheflow.raft.core.log_storage import CompactedError, SnapshotTemporarilyUnavailableError, UnavailableError
from cacheflow.raft.core.progress import ProgressState
from cacheflow.raft.core.quorum import VoteResult, vote_result
from cacheflow.raft.core.raft_log import RaftLog
from cacheflow.raft.core.read_only import ReadIndexStatus, ReadOnly
from cacheflow.raft.core.tracker import ProgressTracker
from cacheflow.raft.core.types import (
    NONE,
    ConfChange,
    ConfState,
    Entry,
    EntryType,
    HardState,
    Message,
    MessageType,
    ReadState,
    Role,
    Snapshot,
    SoftState,
)

MT = MessageType

CAMPAIGN_TRANSFER = b"CampaignTransfer"
"""Context of a vote request sent on the leader's behalf (TIMEOUT_NOW): it overrides the lease."""


class CampaignKind(Enum):
    PRE_ELECTION = 0
    ELECTION = 1
    TRANSFER = 2


_RESP_TYPE = {MT.VOTE: MT.VOTE_RESP, MT.PRE_VOTE: MT.PRE_VOTE_RESP}


class Raft:
    __slots__ = (
        "lease_revoked",
        "_bcast_dirty",
        "_commit_dirty",
        "_dirty",
        "check_quorum",
        "disable_proposal_forwarding",
        "election_elapsed",
        "election_timeout",
        "heartbeat_elapsed",
        "heartbeat_timeout",
        "id",
        "is_learner",
        "lead",
        "lead_transferee",
        "max_msg_size",
        "max_uncommitted_size",
        "msgs",
        "pending_conf_index",
        "pending_read_index",
        "pre_vote",
        "raft_log",
        "randomized_election_timeout",
        "read_only",
        "read_only_option",
        "read_states",
        "rng",
        "role",
        "term",
        "tracker",
        "uncommitted_size",
        "vote",
    )

    def __init__(self, cfg: RaftConfig) -> None:
        cfg.validate()
        self.id = cfg.id
        self.rng: random.Random = cfg.rng
        self.election_timeout = cfg.election_tick
        self.heartbeat_timeout = cfg.heartbeat_tick
        self.check_quorum = cfg.check_quorum
        self.pre_vote = cfg.pre_vote
        self.read_only_option = cfg.read_only_option
        self.lease_revoked = False  # a TIMEOUT_NOW was sent this term: lease reads are off (_send_timeout_now)
        self.max_msg_size = cfg.max_size_per_msg
        self.max_uncommitted_size = cfg.max_uncommitted_entries_size
        self.disable_proposal_forwarding = cfg.disable_proposal_forwarding

        self.raft_log = RaftLog(cfg.storage, cfg.max_committed_size_per_ready)
        self.tracker = ProgressTracker(cfg.max_inflight_msgs)
        self.term = 0
        self.vote = NONE
        self.lead = NONE
        self.role = Role.FOLLOWER
        self.is_learner = False
        self.msgs: list[Message] = []
        self.read_states: list[ReadState] = []
        self.read_only = ReadOnly()
        self.pending_read_index: list[Message] = []
        self.election_elapsed = 0
        self.heartbeat_elapsed = 0
        self.randomized_election_timeout = self.election_timeout
        self.lead_transferee = NONE
        self.pending_conf_index = 0
        self.uncommitted_size = 0
        self._dirty: dict[int, bool] = {}
        self._bcast_dirty = False
        self._commit_dirty = False

        hs, cs = cfg.storage.initial_state()
        self.tracker.reset_to(cs, self.raft_log.last_index() + 1)
        self._refresh_is_learner()
        if hs != HardState():
            log = self.raft_log
            if hs.commit < log.committed or hs.commit > log.last_index():
                raise ConfigError(f"hard state commit {hs.commit} is outside [{log.committed}, {log.last_index()}]")
            log.committed = hs.commit
            self.term = hs.term
            self.vote = hs.vote
        if cfg.applied > 0:
            if cfg.applied > self.raft_log.committed:
                raise ConfigError(f"applied {cfg.applied} is past the commit index {self.raft_log.committed}")
            if cfg.applied > self.raft_log.applied:
                self.raft_log.applied = cfg.applied
        self.become_follower(self.term, NONE)

    # -- state the driver sees ---------------------------------------------------

    def soft_state(self) -> SoftState:
        return SoftState(leader=self.lead, role=self.role)

    def hard_state(self) -> HardState:
        return HardState(term=self.term, vote=self.vote, commit=self.raft_log.committed)

    # -- sending -------------------------------------------------------------------

    def _send(self, m: Message) -> None:
        self.msgs.append(m)

    def _send_append(self, to: int) -> None:
        """Mark ``to`` as needing an APP, even an empty one (a probe or a commit update)."""
        self._dirty[to] = True

    def _want_append(self, to: int) -> None:
        """Mark ``to`` as needing whatever entries it lacks (nothing if it has them all)."""
        if to not in self._dirty:
            self._dirty[to] = False

    def _bcast_append(self) -> None:
        """Mark every follower as needing whatever entries it lacks."""
        self._bcast_dirty = True

    def flush(self) -> None:
        """Turn the pending append requests into messages (see the module docstring)."""
        if not self._dirty and not self._commit_dirty and not self._bcast_dirty:
            return
        dirty = self._dirty
        commit_dirty = self._commit_dirty
        bcast = self._bcast_dirty or commit_dirty
        self._dirty = {}
        self._commit_dirty = False
        self._bcast_dirty = False
        if self.role != Role.LEADER:
            return
        for nid, pr in self.tracker.progress.items():
            if nid == self.id:
                continue
            force = dirty.get(nid)
            if force is None and not bcast:
                continue
            force = bool(force) or commit_dirty
            sent = self._maybe_send_append(nid, force)
            while sent and pr.state == ProgressState.REPLICATE and not pr.paused:
                sent = self._maybe_send_append(nid, False)

    def _maybe_send_append(self, to: int, send_if_empty: bool) -> bool:
        pr = self.tracker.progress[to]
        if pr.is_paused():
            return False
        log = self.raft_log
        prev = pr.next - 1
        try:
            prev_term = log.term(prev)
            ents = log.entries(pr.next, self.max_msg_size) if pr.next <= log.last_index() else []
        except CompactedError:
            return self._maybe_send_snapshot(to)
        except UnavailableError:
            return False
        if not ents and not send_if_empty:
            return False
        self._send(
            Message(
                MT.APP,
                to=to,
                from_=self.id,
                term=self.term,
                log_term=prev_term,
                index=prev,
                entries=tuple(ents),
                commit=log.committed,
            )
        )
        pr.sent_entries(len(ents), ents[-1].index if ents else prev)
        return True

    def _maybe_send_snapshot(self, to: int) -> bool:
        pr = self.tracker.progress[to]
        if not pr.recent_active:
            # Do not ship a (possibly large) snapshot to a peer that may be down.
            return False
        try:
            snap = self.raft_log.snapshot()
        except SnapshotTemporarilyUnavailableError:
            return False
        if snap.is_empty():
            raise AssertionError("entries are compacted but storage has no snapshot")
        self._send(Message(MT.SNAP, to=to, from_=self.id, term=self.term, snapshot=snap))
        pr.become_snapshot(snap.metadata.index)
        return True

    def _bcast_heartbeat(self, ctx: bytes) -> None:
        committed = self.raft_log.committed
        for nid, pr in self.tracker.progress.items():
            if nid == self.id:
                continue
            # Never tell a follower to commit past what it is known to hold.
            self._send(
                Message(
                    MT.HEARTBEAT,
                    to=nid,
                    from_=self.id,
                    term=self.term,
                    commit=min(pr.match, committed),
                    context=ctx,
                )
            )

    # -- role changes --------------------------------------------------------------

    def _reset(self, term: int) -> None:
        if self.term != term:
            self.term = term
            self.vote = NONE
        self.lead = NONE
        self.election_elapsed = 0
        self.heartbeat_elapsed = 0
        self.randomized_election_timeout = self.election_timeout + self.rng.randrange(self.election_timeout)
        self.lead_transferee = NONE
        self.tracker.reset_votes()
        last = self.raft_log.last_index()
        for nid, pr in self.tracker.progress.items():
            pr.become_probe()
            pr.match = 0
            pr.next = last + 1
            pr.recent_active = False
            if nid == self.id:
                pr.match = last
                pr.recent_active = True
        self.pending_conf_index = 0
        self.uncommitted_size = 0
        self.read_only = ReadOnly()
        self.pending_read_index = []
        self._dirty = {}
        self._bcast_dirty = False
        self._commit_dirty = False

    def become_follower(self, term: int, lead: int) -> None:
        self._reset(term)
        self.lead = lead
        self.role = Role.FOLLOWER

    def _become_candidate(self) -> None:
        if self.role == Role.LEADER:
            raise AssertionError("leader cannot become candidate")
        self._reset(self.term + 1)
        self.vote = self.id
        self.role = Role.CANDIDATE

    def _become_pre_candidate(self) -> None:
        if self.role == Role.LEADER:
            raise AssertionError("leader cannot become pre-candidate")
        # Neither the term nor the vote changes: a pre-election is only a question.
        self.tracker.reset_votes()
        self.lead = NONE
        self.role = Role.PRE_CANDIDATE

    def _become_leader(self) -> None:
        if self.role == Role.FOLLOWER:
            raise AssertionError("follower cannot become leader without an election")
        self._reset(self.term)
        self.lead = self.id
        self.role = Role.LEADER
        self.lease_revoked = False
        self.tracker.progress[self.id].become_replicate()
        # The no-op of this term: committing it commits every earlier entry (§5.4.2) and
        # gives ReadIndex and conf changes a current-term commit to wait for.
        self._append([Entry(0, 0)])
        self.pending_conf_index = self.raft_log.last_index()

    def _refresh_is_learner(self) -> None:
        pr = self.tracker.progress.get(self.id)
        self.is_learner = pr is not None and pr.is_learner

    def promotable(self) -> bool:
        pr = self.tracker.progress.get(self.id)
        return pr is not None and not pr.is_learner and not self.raft_log.has_pending_snapshot()

    # -- time ----------------------------------------------------------------------

    def tick(self) -> None:
        if self.role == Role.LEADER:
            self._tick_heartbeat()
        else:
            self._tick_election()

    def _tick_election(self) -> None:
        self.election_elapsed += 1
        if self.promotable() and self.election_elapsed >= self.randomized_election_timeout:
            self.election_elapsed = 0
            self.hup(CampaignKind.PRE_ELECTION if self.pre_vote else CampaignKind.ELECTION)

    def _tick_heartbeat(self) -> None:
        self.heartbeat_elapsed += 1
        self.election_elapsed += 1
        if self.election_elapsed >= self.election_timeout:
            self.election_elapsed = 0
            if self.check_quorum:
                self._check_quorum()
            if self.role == Role.LEADER and self.lead_transferee != NONE:
                # A transfer that did not finish within an election timeout is abandoned.
                self.lead_transferee = NONE
        if self.role != Role.LEADER:
            return
        if self.heartbeat_elapsed >= self.heartbeat_timeout:
            self.heartbeat_elapsed = 0
            self._bcast_heartbeat(self.read_only.last_pending_ctx())

    def _check_quorum(self) -> None:
        if not self.tracker.quorum_active(self.id):
            self.become_follower(self.term, NONE)
            return
        for nid, pr in self.tracker.progress.items():
            if nid != self.id:
                pr.recent_active = False

    # -- elections -----------------------------------------------------------------

    def hup(self, kind: CampaignKind) -> None:
        if self.role == Role.LEADER or not self.promotable():
            return
        log = self.raft_log
        if log.committed > log.applied:
            # A committed but unapplied membership change may remove us: wait for it.
            for e in log.slice(max(log.applied + 1, log.first_index()), log.committed + 1, None):
                if e.type == EntryType.CONF_CHANGE:
                    return
        self._campaign(kind)

    def _campaign(self, kind: CampaignKind) -> None:
        if kind == CampaignKind.PRE_ELECTION:
            self._become_pre_candidate()
            vote_type = MT.PRE_VOTE
            term = self.term + 1
        else:
            self._become_candidate()
            vote_type = MT.VOTE
            term = self.term
        if self._poll(self.id, True) == VoteResult.WON:
            # A single voter wins on its own vote.
            if kind == CampaignKind.PRE_ELECTION:
                self._campaign(CampaignKind.ELECTION)
            else:
                self._become_leader()
            return
        ctx = CAMPAIGN_TRANSFER if kind == CampaignKind.TRANSFER else b""
        last = self.raft_log.last_index()
        last_term = self.raft_log.last_term()
        for nid in sorted(self.tracker.voters):
            if nid == self.id:
                continue
            self._send(
                Message(vote_type, to=nid, from_=self.id, term=term, log_term=last_term, index=last, context=ctx)
            )

    def _poll(self, nid: int, granted: bool) -> VoteResult:
        self.tracker.record_vote(nid, granted)
        return self.tracker.tally_votes()[2]

    def _handle_vote_request(self, m: Message) -> None:
        resp = _RESP_TYPE[m.type]
        can_vote = (
            self.vote == m.from_
            or (self.vote == NONE and self.lead == NONE)
            or (m.type == MT.PRE_VOTE and m.term > self.term)
        )
        if can_vote and self.raft_log.is_up_to_date(m.index, m.log_term):
            # A pre-vote grant answers in the term asked about, so the asker can tell it
            # apart from a stale answer; a real vote is recorded (persisted via Ready).
            self._send(Message(resp, to=m.from_, from_=self.id, term=m.term))
            if m.type == MT.VOTE:
                self.election_elapsed = 0
                self.vote = m.from_
        else:
            self._send(Message(resp, to=m.from_, from_=self.id, term=self.term, reject=True))

    # -- the entry point -----------------------------------------------------------

    def step(self, m: Message) -> None:
        t = m.type
        if m.term == 0:
            pass  # local, or a forwarded request (PROP, READ_INDEX, TRANSFER_LEADER)
        elif m.term > self.term:
            if t == MT.VOTE or t == MT.PRE_VOTE:
                in_lease = self.check_quorum and self.lead != NONE and self.election_elapsed < self.election_timeout
                if in_lease and m.context != CAMPAIGN_TRANSFER:
                    # We heard from a leader within the minimum election timeout: a
                    # disruptive candidate (e.g. back from a partition) is ignored.
                    return
            if t == MT.PRE_VOTE or (t == MT.PRE_VOTE_RESP and not m.reject):
                # Pre-votes never change terms; a granted pre-vote carries the future term.
                pass
            elif t == MT.APP or t == MT.HEARTBEAT or t == MT.SNAP:
                self.become_follower(m.term, m.from_)
            else:
                self.become_follower(m.term, NONE)
        elif m.term < self.term:
            if (self.check_quorum or self.pre_vote) and (t == MT.HEARTBEAT or t == MT.APP):
                # A stale leader (say, isolated and then healed) learns our term from this
                # and steps down; without it, with check-quorum or pre-vote on, a node with
                # a higher term could never be caught up by it nor disrupt it.
                self._send(Message(MT.APP_RESP, to=m.from_, from_=self.id, term=self.term))
            elif t == MT.PRE_VOTE:
                self._send(Message(MT.PRE_VOTE_RESP, to=m.from_, from_=self.id, term=self.term, reject=True))
            return

        if t == MT.HUP:
            self.hup(CampaignKind.PRE_ELECTION if self.pre_vote else CampaignKind.ELECTION)
        elif t == MT.VOTE or t == MT.PRE_VOTE:
            self._handle_vote_request(m)
        elif self.role == Role.LEADER:
            self._step_leader(m)
        elif self.role == Role.FOLLOWER:
            self._step_follower(m)
        else:
            self._step_candidate(m)

    # -- follower / candidate --------------------------------------------------------

    def _step_follower(self, m: Message) -> None:
        t = m.type
        if t == MT.APP:
            self.election_elapsed = 0
            self.lead = m.from_
            self._handle_append(m)
        elif t == MT.HEARTBEAT:
            self.election_elapsed = 0
            self.lead = m.from_
            self._handle_heartbeat(m)
        elif t == MT.SNAP:
            self.election_elapsed = 0
            self.lead = m.from_
            self._handle_snapshot(m)
        elif t == MT.PROP:
            if self.lead == NONE:
                raise ProposalDroppedError("no leader")
            if self.disable_proposal_forwarding:
                raise ProposalDroppedError("proposal forwarding is disabled")
            self._send(dataclasses.replace(m, to=self.lead))
        elif t == MT.READ_INDEX:
            if self.lead == NONE:
                raise ProposalDroppedError("no leader")
            self._send(dataclasses.replace(m, to=self.lead))
        elif t == MT.READ_INDEX_RESP:
            self.read_states.append(ReadState(m.index, m.context))
        elif t == MT.TRANSFER_LEADER:
            if self.lead != NONE:
                self._send(dataclasses.replace(m, to=self.lead))
        elif t == MT.TIMEOUT_NOW:
            # The leader chose us: campaign at once, skipping pre-vote (it would be refused
            # by the followers' leases) and overriding the lease with CAMPAIGN_TRANSFER.
            self.hup(CampaignKind.TRANSFER)

    def _step_candidate(self, m: Message) -> None:
        t = m.type
        my_resp = MT.PRE_VOTE_RESP if self.role == Role.PRE_CANDIDATE else MT.VOTE_RESP
        if t == MT.PROP or t == MT.READ_INDEX:
            raise ProposalDroppedError("no leader (election in progress)")
        if t == MT.APP:
            self.become_follower(m.term, m.from_)
            self._handle_append(m)
        elif t == MT.HEARTBEAT:
            self.become_follower(m.term, m.from_)
            self._handle_heartbeat(m)
        elif t == MT.SNAP:
            self.become_follower(m.term, m.from_)
            self._handle_snapshot(m)
        elif t == my_resp:
            res = self._poll(m.from_, not m.reject)
            if res == VoteResult.WON:
                if self.role == Role.PRE_CANDIDATE:
                    self._campaign(CampaignKind.ELECTION)
                else:
                    self._become_leader()
            elif res == VoteResult.LOST:
                self.become_follower(self.term, NONE)

    def _handle_append(self, m: Message) -> None:
        log = self.raft_log
        if m.index < log.committed:
            # Everything up to our commit index already matches any leader's log.
            self._send(Message(MT.APP_RESP, to=m.from_, from_=self.id, term=self.term, index=log.committed))
            return
        last = log.maybe_append(m.index, m.log_term, m.commit, m.entries)
        if last is not None:
            self._send(Message(MT.APP_RESP, to=m.from_, from_=self.id, term=self.term, index=last))
            return
        hint_index, hint_term = log.find_conflict_by_term(min(m.index, log.last_index()), m.log_term)
        self._send(
            Message(
                MT.APP_RESP,
                to=m.from_,
                from_=self.id,
                term=self.term,
                index=m.index,
                reject=True,
                reject_hint=hint_index,
                log_term=hint_term,
            )
        )

    def _handle_heartbeat(self, m: Message) -> None:
        self.raft_log.commit_to(m.commit)
        self._send(Message(MT.HEARTBEAT_RESP, to=m.from_, from_=self.id, term=self.term, context=m.context))

    def _handle_snapshot(self, m: Message) -> None:
        snap = m.snapshot
        log = self.raft_log
        if snap is not None and self._restore(snap):
            self._send(Message(MT.APP_RESP, to=m.from_, from_=self.id, term=self.term, index=log.last_index()))
        else:
            self._send(Message(MT.APP_RESP, to=m.from_, from_=self.id, term=self.term, index=log.committed))

    def _restore(self, snap: Snapshot) -> bool:
        md = snap.metadata
        log = self.raft_log
        if md.index <= log.committed:
            return False
        if self.role != Role.FOLLOWER:
            raise AssertionError("only a follower installs a snapshot")
        if log.match_term(md.index, md.term):
            # We already hold the entries: just learn that they are committed.
            log.commit_to(md.index)
            return False
        # A node not (yet) in the snapshot's membership still installs it: a server being
        # added is caught up this way before it applies the entry that adds it.
        log.restore(snap)
        self.tracker.reset_to(md.conf_state, log.last_index() + 1)
        self._refresh_is_learner()
        return True

    # -- leader ----------------------------------------------------------------------

    def _step_leader(self, m: Message) -> None:
        t = m.type
        if t == MT.PROP:
            self._leader_propose(m.entries)
            return
        if t == MT.READ_INDEX:
            self._leader_read_index(m)
            return
        if t == MT.TRANSFER_LEADER:
            self._leader_transfer(m.from_)
            return
        pr = self.tracker.progress.get(m.from_)
        if pr is None:
            return
        if t == MT.APP_RESP:
            pr.recent_active = True
            if m.reject:
                self._handle_append_rejection(m)
            else:
                self._handle_append_ack(m)
        elif t == MT.HEARTBEAT_RESP:
            pr.recent_active = True
            pr.paused = False  # lets one probe / one APP past a full window through
            if pr.match < self.raft_log.last_index() or pr.state == ProgressState.PROBE:
                self._send_append(m.from_)
            if self.read_only_option == ReadOnlyOption.SAFE and m.context:
                acks = self.read_only.recv_ack(m.from_, m.context)
                if acks is not None and vote_result(self.tracker.voters, dict.fromkeys(acks, True)) == VoteResult.WON:
                    for rs in self.read_only.advance(m.context):
                        self._answer_read(rs.requester, rs.ctx, rs.index)
        elif t == MT.SNAP_STATUS:
            if pr.state != ProgressState.SNAPSHOT:
                return
            if m.reject:
                pr.pending_snapshot = 0
            pr.become_probe()
            # Wait for the follower's answer (or a heartbeat reply) before probing.
            pr.paused = True
        elif t == MT.UNREACHABLE:
            if pr.state == ProgressState.REPLICATE:
                pr.become_probe()

    def _handle_append_rejection(self, m: Message) -> None:
        pr = self.tracker.progress[m.from_]
        next_probe = m.reject_hint
        if m.log_term > 0:
            # The follower's entries after reject_hint all have terms > m.log_term: skip
            # past every entry of ours that cannot match either.
            next_probe = self.raft_log.find_conflict_by_term(m.reject_hint, m.log_term)[0]
        if pr.maybe_decr_to(m.index, next_probe):
            if pr.state == ProgressState.REPLICATE:
                pr.become_probe()
            self._send_append(m.from_)

    def _handle_append_ack(self, m: Message) -> None:
        pr = self.tracker.progress[m.from_]
        if not (pr.maybe_update(m.index) or (pr.match == m.index and pr.state == ProgressState.PROBE)):
            return
        if pr.state == ProgressState.PROBE:
            pr.become_replicate()
        elif pr.state == ProgressState.SNAPSHOT:
            if pr.match + 1 >= self.raft_log.first_index():
                # The snapshot (or enough log) landed; entries can flow again.
                pr.become_probe()
                pr.become_replicate()
        else:
            pr.free_acked(m.index)
        self._maybe_commit()
        self._want_append(m.from_)
        if m.from_ == self.lead_transferee and pr.match == self.raft_log.last_index():
            self._send_timeout_now(m.from_)

    def _maybe_commit(self) -> bool:
        if not self.raft_log.maybe_commit(self.tracker.committed(), self.term):
            return False
        self._commit_dirty = True
        if self.pending_read_index:
            pending = self.pending_read_index
            self.pending_read_index = []
            for m in pending:
                self._leader_read_index(m)
        return True

    def _append(self, ents: Sequence[Entry]) -> None:
        """Append proposals (their term and index are assigned here) to the leader's log."""
        log = self.raft_log
        li = log.last_index()
        term = self.term
        new = [Entry(term, li + i, e.type, e.data) for i, e in enumerate(ents, 1)]
        last = log.append(new)
        self.tracker.progress[self.id].maybe_update(last)
        self._maybe_commit()
        self._bcast_append()

    def _check_uncommitted(self, ents: Sequence[Entry]) -> int:
        if not self.max_uncommitted_size:
            return 0
        size = sum(len(e.data) for e in ents)
        if self.uncommitted_size and self.uncommitted_size + size > self.max_uncommitted_size:
            raise ProposalDroppedError("too many uncommitted bytes")
        return size

    def _leader_propose(self, ents: Sequence[Entry]) -> None:
        if not ents:
            raise ProposalDroppedError("empty proposal")
        pr = self.tracker.progress.get(self.id)
        if pr is None or pr.is_learner:
            raise ProposalDroppedError("this node is no longer a voter")
        if self.lead_transferee != NONE:
            raise ProposalDroppedError(f"leadership is being transferred to {self.lead_transferee}")
        conf_at = -1
        for i, e in enumerate(ents):
            if e.type != EntryType.CONF_CHANGE:
                continue
            if conf_at >= 0 or self.pending_conf_index > self.raft_log.applied:
                raise ProposalDroppedError("a membership change is already pending")
            try:
                cc = codec.decode_conf_change(e.data)
            except codec.CodecError as exc:
                raise ProposalDroppedError(f"bad conf change: {exc}") from None
            why = self.tracker.validate(cc)
            if why is not None:
                raise ProposalDroppedError(why)
            conf_at = i
        size = self._check_uncommitted(ents)
        li = self.raft_log.last_index()
        self._append(ents)
        self.uncommitted_size += size
        if conf_at >= 0:
            self.pending_conf_index = li + 1 + conf_at

    def propose_one(self, data: bytes) -> None:
        """One local proposal: the leader's hot path, appended without any intermediate lists."""
        pr = self.tracker.progress.get(self.id)
        if (
            self.role != Role.LEADER
            or pr is None
            or pr.is_learner
            or self.lead_transferee != NONE
            or self.max_uncommitted_size
        ):
            self.propose_data((data,))
            return
        log = self.raft_log
        u = log.unstable
        index = log.last_index() + 1
        if u.offset + len(u.entries) != index:
            raise AssertionError("the unstable tail does not end the leader's log")
        u.entries.append(Entry(self.term, index, EntryType.NORMAL, data))
        pr.match = index
        pr.next = index + 1
        if len(self.tracker.voters) == 1:
            self._maybe_commit()
        self._bcast_dirty = True

    def propose_data(self, datas: Sequence[bytes]) -> None:
        """Local proposals of plain entries: the leader's fast path (no PROP message)."""
        if self.role != Role.LEADER:
            self.step(Message(MT.PROP, from_=self.id, entries=tuple(Entry(0, 0, EntryType.NORMAL, d) for d in datas)))
            return
        if not datas:
            raise ProposalDroppedError("empty proposal")
        pr = self.tracker.progress.get(self.id)
        if pr is None or pr.is_learner:
            raise ProposalDroppedError("this node is no longer a voter")
        if self.lead_transferee != NONE:
            raise ProposalDroppedError(f"leadership is being transferred to {self.lead_transferee}")
        size = 0
        if self.max_uncommitted_size:
            size = sum(len(d) for d in datas)
            if self.uncommitted_size and self.uncommitted_size + size > self.max_uncommitted_size:
                raise ProposalDroppedError("too many uncommitted bytes")
        log = self.raft_log
        li = log.last_index()
        term = self.term
        normal = EntryType.NORMAL
        last = log.append([Entry(term, li + i, normal, d) for i, d in enumerate(datas, 1)])
        self.uncommitted_size += size
        self.tracker.progress[self.id].maybe_update(last)
        if len(self.tracker.voters) == 1:
            self._maybe_commit()
        self._bcast_append()

    def reduce_uncommitted_size(self, ents: Sequence[Entry]) -> None:
        if self.max_uncommitted_size and self.role == Role.LEADER and self.uncommitted_size:
            self.uncommitted_size = max(0, self.uncommitted_size - sum(len(e.data) for e in ents))

    def _committed_entry_in_current_term(self) -> bool:
        return self.raft_log.zero_term(self.raft_log.committed) == self.term

    def _leader_read_index(self, m: Message) -> None:
        requester = m.from_ or self.id
        if self.tracker.is_singleton():
            self._answer_read(requester, m.context, self.raft_log.committed)
            return
        if not self._committed_entry_in_current_term():
            # Our commit index may lag the true one until our no-op commits; wait for it.
            self.pending_read_index.append(m)
            return
        index = self.raft_log.committed
        if self.read_only_option == ReadOnlyOption.LEASE_BASED and not self.lease_revoked:
            self._answer_read(requester, m.context, index)
            return
        if self.read_only.add_request(index, requester, m.context):
            self.read_only.recv_ack(self.id, m.context)
            self._bcast_heartbeat(m.context)

    def _answer_read(self, requester: int, ctx: bytes, index: int) -> None:
        if requester == self.id or requester == NONE:
            self.read_states.append(ReadState(index, ctx))
        else:
            self._send(
                Message(MT.READ_INDEX_RESP, to=requester, from_=self.id, term=self.term, index=index, context=ctx)
            )

    def _send_timeout_now(self, transferee: int) -> None:
        """Start the transferee's election.  It overrides the followers' leases (CAMPAIGN_TRANSFER), so
        from now on this leader's own lease proves nothing: for the rest of its term, even if the
        transfer is abandoned (a delayed TIMEOUT_NOW can still elect someone), reads go the safe way,
        with a heartbeat round.  Found by the simulation (seed 2000112, --scenario lease)."""
        self.lease_revoked = True
        self._send(Message(MT.TIMEOUT_NOW, to=transferee, from_=self.id, term=self.term))

    def _leader_transfer(self, transferee: int) -> None:
        pr = self.tracker.progress.get(transferee)
        if pr is None or pr.is_learner:
            return
        if self.lead_transferee != NONE:
            if self.lead_transferee == transferee:
                return
            self.lead_transferee = NONE
        if transferee == self.id:
            return
        # The transfer must finish within one election timeout (see _tick_heartbeat).
        self.election_elapsed = 0
        self.lead_transferee = transferee
        if pr.match == self.raft_log.last_index():
            self._send_timeout_now(transferee)
        else:
            self._send_append(transferee)

    # -- membership ------------------------------------------------------------------

    def apply_conf_change(self, cc: ConfChange) -> ConfState:
        was_member = cc.node_id in self.tracker.progress
        if not self.tracker.apply(cc, self.raft_log.last_index() + 1):
            return self.tracker.conf_state()
        self._refresh_is_learner()
        if self.role != Role.LEADER:
            return self.tracker.conf_state()
        pr = self.tracker.progress.get(self.id)
        if pr is None or pr.is_learner:
            # Removed (or demoted): stop leading; the rest elect a leader among themselves.
            self.become_follower(self.term, NONE)
            return self.tracker.conf_state()
        if self.lead_transferee != NONE:
            tpr = self.tracker.progress.get(self.lead_transferee)
            if tpr is None or tpr.is_learner:
                self.lead_transferee = NONE
        # A smaller quorum may commit more right away; a new member is probed at once
        # (it has nothing yet, so waiting for new entries or a heartbeat would only delay it).
        self._maybe_commit()
        self._bcast_append()
        if not was_member and cc.node_id in self.tracker.progress:
            self._send_append(cc.node_id)
        return self.tracker.conf_state()

    def read_state_status(self) -> list[ReadIndexStatus]:
        return list(self.read_only.pending.values())
