"""ReadIndex requests waiting for the leader to confirm it still leads (SAFE mode).

A request records the commit index when it arrived; the leader then sends heartbeats
carrying the newest request's context.  A quorum of replies for context ``c`` proves
that no other leader existed when ``c`` was registered -- nor, therefore, when any
request queued before ``c`` was -- so ``advance(c)`` releases ``c`` and everything
before it.  Contexts must be unique (the driver picks them); a duplicate of a pending
context is ignored.
"""

from collections import deque
from dataclasses import dataclass, field


@dataclass(slots=True)
class ReadIndexStatus:
    index: int
    requester: int
    ctx: bytes
    acks: set[int] = field(default_factory=set)


class ReadOnly:
    __slots__ = ("pending", "queue")

    def __init__(self) -> None:
        self.pending: dict[bytes, ReadIndexStatus] = {}
        self.queue: deque[bytes] = deque()

    def add_request(self, index: int, requester: int, ctx: bytes) -> bool:
        if ctx in self.pending:
            return False
        self.pending[ctx] = ReadIndexStatus(index, requester, ctx)
        self.queue.append(ctx)
        return True

    def recv_ack(self, node_id: int, ctx: bytes) -> set[int] | None:
        rs = self.pending.get(ctx)
        if rs is None:
            return None
        rs.acks.add(node_id)
        return rs.acks

    def advance(self, ctx: bytes) -> list[ReadIndexStatus]:
        """Release ``ctx`` and every request queued before it."""
        if ctx not in self.pending:
            return []
        released: list[ReadIndexStatus] = []
        while self.queue:
            c = self.queue.popleft()
            released.append(self.pending.pop(c))
            if c == ctx:
                break
        return released

    def last_pending_ctx(self) -> bytes:
        return self.queue[-1] if self.queue else b""
