"""A read-only picture of a node for drivers, tests and operators (``RawNode.status()``).

Built on demand (copies, not live objects), so holding one never aliases core state.
"""

from dataclasses import dataclass, field

from cacheflow.raft.core.progress import ProgressState
from cacheflow.raft.core.types import ConfState, HardState, Role, SoftState


@dataclass(frozen=True, slots=True)
class ProgressStatus:
    match: int
    next: int
    state: ProgressState
    pending_snapshot: int
    recent_active: bool
    paused: bool
    inflight: int
    is_learner: bool


@dataclass(frozen=True, slots=True)
class Status:
    id: int
    hard_state: HardState
    soft_state: SoftState
    applied: int
    last_index: int
    lead_transferee: int
    conf_state: ConfState
    progress: dict[int, ProgressStatus] = field(default_factory=dict)

    @property
    def term(self) -> int:
        return self.hard_state.term

    @property
    def vote(self) -> int:
        return self.hard_state.vote

    @property
    def commit(self) -> int:
        return self.hard_state.commit

    @property
    def leader(self) -> int:
        return self.soft_state.leader

    @property
    def role(self) -> Role:
        return self.soft_state.role
