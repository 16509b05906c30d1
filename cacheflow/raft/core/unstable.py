"""The tail of the log not yet handed to stable storage (and a snapshot not yet installed).

``entries[i]`` has index ``offset + i``.  If ``snapshot`` is set, it is the newest state
and ``offset == snapshot.index + 1``.  Entries leave this buffer only via ``stable_to``
once the driver reports them persisted (``RawNode.advance``), and only if their term
still matches: a truncation in between leaves the replacements in place.
"""

from collections.abc import Sequence

from cacheflow.raft.core.types import Entry, Snapshot


class Unstable:
    __slots__ = ("entries", "offset", "snapshot")

    def __init__(self, offset: int) -> None:
        self.snapshot: Snapshot | None = None
        self.entries: list[Entry] = []
        self.offset = offset

    def maybe_first_index(self) -> int | None:
        if self.snapshot is not None:
            return self.snapshot.metadata.index + 1
        return None

    def maybe_last_index(self) -> int | None:
        if self.entries:
            return self.offset + len(self.entries) - 1
        if self.snapshot is not None:
            return self.snapshot.metadata.index
        return None

    def maybe_term(self, index: int) -> int | None:
        if index < self.offset:
            snap = self.snapshot
            if snap is not None and snap.metadata.index == index:
                return snap.metadata.term
            return None
        i = index - self.offset
        if i < len(self.entries):
            return self.entries[i].term
        return None

    def stable_to(self, index: int, term: int) -> None:
        t = self.maybe_term(index)
        if t is None or t != term or index < self.offset:
            return
        del self.entries[: index + 1 - self.offset]
        self.offset = index + 1

    def stable_snap_to(self, index: int) -> None:
        if self.snapshot is not None and self.snapshot.metadata.index == index:
            self.snapshot = None

    def restore(self, snap: Snapshot) -> None:
        self.offset = snap.metadata.index + 1
        self.entries = []
        self.snapshot = snap

    def truncate_and_append(self, ents: Sequence[Entry]) -> None:
        first = ents[0].index
        end = self.offset + len(self.entries)
        if first == end:
            self.entries.extend(ents)
        elif first <= self.offset:
            # Replaces everything unstable (the caller checked first > committed).
            self.offset = first
            self.entries = list(ents)
        else:
            del self.entries[first - self.offset :]
            self.entries.extend(ents)

    def slice(self, lo: int, hi: int) -> list[Entry]:
        return self.entries[lo - self.offset : hi - self.offset]
