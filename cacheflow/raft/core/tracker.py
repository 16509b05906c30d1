"""Membership (voters and learners), the per-peer progress, and the votes of an election.

Every member, this node included, has a ``Progress``; only voters count towards commit,
elections, check-quorum and ReadIndex confirmation.  ``progress`` is kept ordered by
node id so that everything the core emits (message order, status) is deterministic.
"""

from cacheflow.raft.core.progress import Progress
from cacheflow.raft.core.quorum import VoteResult, committed_index, vote_result
from cacheflow.raft.core.types import ConfChange, ConfChangeType, ConfState


class ProgressTracker:
    __slots__ = ("learners", "max_inflight", "progress", "voters", "votes")

    def __init__(self, max_inflight: int) -> None:
        self.max_inflight = max_inflight
        self.voters: set[int] = set()
        self.learners: set[int] = set()
        self.progress: dict[int, Progress] = {}
        self.votes: dict[int, bool] = {}

    def conf_state(self) -> ConfState:
        return ConfState(voters=tuple(sorted(self.voters)), learners=tuple(sorted(self.learners)))

    def reset_to(self, cs: ConfState, next_index: int) -> None:
        """Replace the membership (restart, snapshot restore); every progress starts over."""
        self.voters = set(cs.voters)
        self.learners = set(cs.learners) - self.voters
        self.progress = {
            nid: Progress(next_index, self.max_inflight, is_learner=nid in self.learners)
            for nid in sorted(self.voters | self.learners)
        }
        self.votes = {}

    def apply(self, cc: ConfChange, next_index: int) -> bool:
        """Apply one single-server change.  Returns False (and changes nothing) for a change
        that would leave no voter; other redundant changes are no-ops that return True.
        Every node applies the same committed changes, so this never raises."""
        nid = cc.node_id
        if nid <= 0:
            return False
        voters = set(self.voters)
        learners = set(self.learners)
        if cc.type == ConfChangeType.ADD_NODE:
            learners.discard(nid)
            voters.add(nid)
        elif cc.type == ConfChangeType.ADD_LEARNER:
            voters.discard(nid)
            learners.add(nid)
        elif cc.type == ConfChangeType.REMOVE_NODE:
            voters.discard(nid)
            learners.discard(nid)
        if not voters:
            return False
        self.voters = voters
        self.learners = learners
        members = voters | learners
        progress: dict[int, Progress] = {}
        for m in sorted(members):
            pr = self.progress.get(m)
            if pr is None:
                pr = Progress(next_index, self.max_inflight)
            pr.is_learner = m in learners
            progress[m] = pr
        self.progress = progress
        self.votes = {k: v for k, v in self.votes.items() if k in voters}
        return True

    def validate(self, cc: ConfChange) -> str | None:
        """Why a proposed change is refused, or None.  Checked when proposing, against the
        membership the proposer sees (one change at a time keeps that view exact on the leader)."""
        nid = cc.node_id
        if nid <= 0:
            return "node id must be positive"
        if cc.type == ConfChangeType.REMOVE_NODE:
            if nid not in self.progress:
                return f"node {nid} is not a member"
            if self.voters == {nid}:
                return "cannot remove the last voter"
        elif cc.type == ConfChangeType.ADD_LEARNER:
            if nid in self.voters:
                return f"node {nid} is a voter; demotion is not supported"
        return None

    def committed(self) -> int:
        prs = self.progress
        return committed_index(self.voters, {v: prs[v].match for v in self.voters if v in prs})

    def quorum_active(self, self_id: int) -> bool:
        """Whether a majority of voters (this node included) were heard from recently."""
        active = {v: (v == self_id or (v in self.progress and self.progress[v].recent_active)) for v in self.voters}
        return vote_result(self.voters, active) == VoteResult.WON

    def is_singleton(self) -> bool:
        return len(self.voters) == 1

    def reset_votes(self) -> None:
        self.votes = {}

    def record_vote(self, nid: int, granted: bool) -> None:
        self.votes.setdefault(nid, granted)

    def tally_votes(self) -> tuple[int, int, VoteResult]:
        granted = sum(1 for v in self.voters if self.votes.get(v) is True)
        rejected = sum(1 for v in self.voters if self.votes.get(v) is False)
        return granted, rejected, vote_result(self.voters, self.votes)
