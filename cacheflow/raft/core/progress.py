"""The leader's view of one follower's log, and how it sends to it.

States (as in etcd/raft's tracker):

- PROBE: the leader does not know where the follower's log diverges.  It sends one
  APP at a time and waits (``paused``) for the answer, backing ``next`` off on each
  rejection.  A heartbeat reply unpauses it, so a lost probe is retried.
- REPLICATE: the follower is known to match up to ``match``; the leader streams entries
  optimistically (``next`` runs ahead of ``match``) bounded by the inflights window.
- SNAPSHOT: the entries the follower needs are compacted; a snapshot was sent and the
  leader sends nothing else until the follower acknowledges it or the driver reports
  the snapshot's fate.

Invariant: ``0 <= match < next``.
"""

from enum import IntEnum

from cacheflow.raft.core.inflights import Inflights


class ProgressState(IntEnum):
    PROBE = 0
    REPLICATE = 1
    SNAPSHOT = 2


class Progress:
    __slots__ = ("inflights", "is_learner", "match", "next", "paused", "pending_snapshot", "recent_active", "state")

    def __init__(self, next_index: int, max_inflight: int, *, is_learner: bool = False, match: int = 0) -> None:
        self.match = match
        self.next = next_index
        self.state = ProgressState.PROBE
        self.paused = False
        self.pending_snapshot = 0
        # New peers count as active so a fresh leader (or a just-added node) is not
        # deposed by check-quorum before anyone had a chance to answer.
        self.recent_active = True
        self.inflights = Inflights(max_inflight)
        self.is_learner = is_learner

    def _reset_state(self, state: ProgressState) -> None:
        self.paused = False
        self.pending_snapshot = 0
        self.state = state
        self.inflights.reset()

    def become_probe(self) -> None:
        if self.state == ProgressState.SNAPSHOT:
            # The snapshot (if it landed) covers everything up to pending_snapshot.
            pending = self.pending_snapshot
            self._reset_state(ProgressState.PROBE)
            self.next = max(self.match + 1, pending + 1)
        else:
            self._reset_state(ProgressState.PROBE)
            self.next = self.match + 1

    def become_replicate(self) -> None:
        self._reset_state(ProgressState.REPLICATE)
        self.next = self.match + 1

    def become_snapshot(self, snapshot_index: int) -> None:
        self._reset_state(ProgressState.SNAPSHOT)
        self.pending_snapshot = snapshot_index

    def sent_entries(self, count: int, last_index: int) -> None:
        """Account for an APP just sent carrying ``count`` entries ending at ``last_index``."""
        if self.state == ProgressState.REPLICATE:
            if count:
                self.next = last_index + 1
                self.inflights.add(last_index)
                self.paused = self.inflights.full()
        elif self.state == ProgressState.PROBE:
            # Any APP in PROBE is a probe: wait for its answer (or a heartbeat reply).
            self.paused = True

    def maybe_update(self, index: int) -> bool:
        """The follower acknowledged ``index``; returns whether ``match`` moved."""
        updated = False
        if self.match < index:
            self.match = index
            updated = True
            self.paused = False
        if self.next < index + 1:
            self.next = index + 1
        return updated

    def maybe_decr_to(self, rejected: int, match_hint: int) -> bool:
        """A rejection of the APP whose previous index was ``rejected``; the follower hints
        that its log may match up to ``match_hint``.  Returns False for a stale rejection."""
        if self.state == ProgressState.REPLICATE:
            if rejected <= self.match:
                return False
            # The optimistic stream broke; restart just after what is known to match.
            self.next = self.match + 1
            return True
        if self.next - 1 != rejected:
            # Not the answer to the probe in flight.
            return False
        self.next = max(min(rejected, match_hint + 1), self.match + 1)
        self.paused = False
        return True

    def is_paused(self) -> bool:
        if self.state == ProgressState.SNAPSHOT:
            return True
        return self.paused

    def free_acked(self, index: int) -> None:
        self.inflights.free_le(index)
        self.paused = self.inflights.full()

    def __repr__(self) -> str:
        s = f"{self.state.name} match={self.match} next={self.next}"
        if self.is_learner:
            s += " learner"
        if self.paused:
            s += " paused"
        if self.pending_snapshot:
            s += f" pending_snap={self.pending_snapshot}"
        if self.inflights.count():
            s += f" inflight={self.inflights.count()}"
            if self.inflights.full():
                s += "[full]"
        return s
