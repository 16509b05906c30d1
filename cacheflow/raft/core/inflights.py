"""The APP messages a leader has in flight to one follower, as the last index each carries.

Bounding them is the flow control of the REPLICATE state: the leader sends optimistically
until ``capacity`` messages are unacknowledged, then waits.  An acknowledgement of index
``i`` frees every message whose last index is ``<= i`` (acks are cumulative).  The indexes
are increasing, so a deque popped from the left is enough.
"""

from collections import deque


class Inflights:
    __slots__ = ("_buf", "capacity")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._buf: deque[int] = deque()

    def add(self, last_index: int) -> None:
        """Record a sent message.  May exceed capacity by design (a heartbeat reply lets one
        more probe through so lost messages cannot wedge the follower)."""
        self._buf.append(last_index)

    def free_le(self, index: int) -> None:
        buf = self._buf
        while buf and buf[0] <= index:
            buf.popleft()

    def full(self) -> bool:
        return len(self._buf) >= self.capacity

    def count(self) -> int:
        return len(self._buf)

    def reset(self) -> None:
        self._buf.clear()
