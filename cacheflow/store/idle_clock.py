"""When each key was last used, approximately, for OBJECT IDLETIME under policies that keep no per-key stamps.

Redis stores a 24-bit LRU clock in every object header, so OBJECT IDLETIME
works under any non-LFU policy, the default ``noeviction`` included.  Our
values are bare ``bytes`` with no header to hold it, and a dict entry per key
(what the LRU policies pay, store/eviction.py) would cost about 74 bytes a key,
which would put memory per key far past the 1.5x-of-Redis budget.

So this is one flat table of LRU-clock stamps indexed by the key's hash: an
access writes its slot, IDLETIME reads it.  Keys that share a slot share a
stamp, so the idle time it reports is never longer than the true one, and
shorter only when another key in the same slot was used since.  The table keeps
at least as many slots as there are keys (8 to 16 bytes a key; a key shares
its slot with some other key at most ~63% of the time in a table at full load,
and almost never in a small database, which starts with ``MIN_SLOTS``).

Invariants: the slot count is a power of two; growing doubles the table by
repeating it, which keeps every key's stamp, since a key's new slot is its old
one plus zero or the old size; every slot holds an int; stamps are the
keyspace's LRU clock (seconds), so this module reads no time itself.
"""

from typing import Final

MIN_SLOTS: Final = 1 << 14


class IdleClock:
    """The stamp table.  Slots hold int objects shared by all keys stamped in the same second (``now``)."""

    __slots__ = ("stamps", "mask", "now", "_room")

    def __init__(self, now: int) -> None:
        self.now: object = now
        self.stamps: list[object] = [self.now] * MIN_SLOTS
        self.mask = MIN_SLOTS - 1
        # New keys that fit before the key count could pass the slot count (when ``fit`` checks it).
        self._room = MIN_SLOTS

    def tick(self, now: int) -> None:
        """The LRU clock moved: later stamps share this one int object (no allocation per access)."""
        self.now = now

    def touch(self, key: bytes) -> None:
        self.stamps[hash(key) & self.mask] = self.now

    def created(self, key: bytes) -> bool:
        """Stamp a new key; True when the caller should pass the key count to ``fit``.

        That is once as many keys were created as there were free slots at the
        last ``fit`` (deletions are not reported, so the count is checked, not kept).
        """
        self.stamps[hash(key) & self.mask] = self.now
        self._room -= 1
        return self._room <= 0

    def fit(self, keys: int) -> None:
        """Grow to at least one slot per key (never shrinks: a smaller table would only add collisions)."""
        stamps = self.stamps
        while len(stamps) <= keys:
            # In place (a realloc): a new list per doubling would leave the old ones' memory
            # with the allocator, about as much again as the table.
            stamps.extend(stamps)
        self.mask = len(stamps) - 1
        self._room = len(stamps) - keys

    def set_stamp(self, key: bytes, stamp: int) -> None:
        """RESTORE ... IDLETIME, or stamps carried over from an LRU policy."""
        self.stamps[hash(key) & self.mask] = stamp

    def stamp(self, key: bytes) -> int:
        value = self.stamps[hash(key) & self.mask]
        assert isinstance(value, int)
        return value
