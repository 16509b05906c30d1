"""A node's whole log as the core sees it: stable storage + the unstable tail.

Indexes: ``first_index() - 1`` is the snapshot (or sentinel) position whose term is
still known; ``(first_index() .. last_index())`` are entries.  ``applied <= committed
<= last_index()`` always; committed entries are never truncated (an attempt is a bug
and raises AssertionError).
"""

from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

from cacheflow.raft.core.log_storage import CompactedError, LogStorage, UnavailableError
from cacheflow.raft.core.types import Entry, Snapshot
from cacheflow.raft.core.unstable import Unstable


def limit_size(ents: list[Entry], max_size: int | None) -> list[Entry]:
    """The longest prefix within ``max_size`` data bytes; always at least one entry."""
    if max_size is None or len(ents) <= 1:
        return ents
    # Running totals and a binary search keep the per-entry work in C.
    totals = list(accumulate([len(e.data) for e in ents]))
    if totals[-1] <= max_size:
        return ents
    return ents[: max(1, bisect_right(totals, max_size))]


class RaftLog:
    __slots__ = ("applied", "committed", "max_committed_size", "storage", "unstable")

    def __init__(self, storage: LogStorage, max_committed_size: int = 0) -> None:
        self.storage = storage
        first = storage.first_index()
        last = storage.last_index()
        self.unstable = Unstable(last + 1)
        self.committed = first - 1
        self.applied = first - 1
        self.max_committed_size: int | None = max_committed_size or None

    # -- positions --------------------------------------------------------------

    def first_index(self) -> int:
        snap = self.unstable.snapshot
        if snap is not None:
            return snap.metadata.index + 1
        return self.storage.first_index()

    def last_index(self) -> int:
        u = self.unstable
        if u.entries:
            return u.offset + len(u.entries) - 1
        if u.snapshot is not None:
            return u.snapshot.metadata.index
        return self.storage.last_index()

    def term(self, index: int) -> int:
        """The term at ``index``; raises CompactedError / UnavailableError outside the log."""
        u = self.unstable
        i = index - u.offset
        if 0 <= i < len(u.entries):
            return u.entries[i].term
        t = u.maybe_term(index)
        if t is not None:
            return t
        if index < self.first_index() - 1:
            raise CompactedError(index)
        if index > self.last_index():
            raise UnavailableError(index)
        return self.storage.term(index)

    def zero_term(self, index: int) -> int:
        """The term at ``index``, or 0 where the log does not know it."""
        try:
            return self.term(index)
        except (CompactedError, UnavailableError):
            return 0

    def last_term(self) -> int:
        return self.term(self.last_index())

    def match_term(self, index: int, term: int) -> bool:
        try:
            return self.term(index) == term
        except (CompactedError, UnavailableError):
            return False

    def is_up_to_date(self, last_index: int, term: int) -> bool:
        """Whether a log ending at (last_index, term) is at least as up to date as ours (§5.4.1)."""
        our_term = self.last_term()
        return term > our_term or (term == our_term and last_index >= self.last_index())

    # -- appending --------------------------------------------------------------

    def maybe_append(self, index: int, log_term: int, committed: int, ents: Sequence[Entry]) -> int | None:
        """The follower side of AppendEntries: if our entry at ``index`` has ``log_term``,
        make the log agree with ``ents`` (truncating a conflicting suffix, keeping a
        matching one: a stale, reordered APP must not cut entries off) and return the
        last index now known to match the leader; None if the consistency check fails."""
        if not self.match_term(index, log_term):
            return None
        last_new = index + len(ents)
        ci = self.find_conflict(ents)
        if ci:
            if ci <= self.committed:
                raise AssertionError(f"entry {ci} conflicts with committed entry (committed={self.committed})")
            self.append(ents[ci - index - 1 :])
        self.commit_to(min(committed, last_new))
        return last_new

    def find_conflict(self, ents: Sequence[Entry]) -> int:
        """The first index in ``ents`` that is new or disagrees with our log; 0 if none."""
        if not ents:
            return 0
        last = self.last_index()
        if ents[0].index > last:
            return ents[0].index
        for e in ents:
            if e.index > last or not self.match_term(e.index, e.term):
                return e.index
        return 0

    def find_conflict_by_term(self, index: int, term: int) -> tuple[int, int]:
        """The largest position ``<= index`` whose term is ``<= term`` (and that term).

        A follower rejecting an APP (or a leader reading a rejection) uses this to skip a
        whole run of entries of a wrong term in one round trip instead of one per entry.
        """
        first = self.first_index()
        while index >= first - 1:
            try:
                t = self.term(index)
            except (CompactedError, UnavailableError):
                break
            if t <= term:
                return index, t
            index -= 1
        return index, 0

    def append(self, ents: Sequence[Entry]) -> int:
        if not ents:
            return self.last_index()
        after = ents[0].index - 1
        if after < self.committed:
            raise AssertionError(f"append after {after} would truncate committed {self.committed}")
        self.unstable.truncate_and_append(ents)
        return self.last_index()

    # -- reading ----------------------------------------------------------------

    def slice(self, lo: int, hi: int, max_size: int | None) -> list[Entry]:
        """Entries [lo, hi) limited to ``max_size`` data bytes (at least one)."""
        if lo >= hi:
            return []
        first = self.first_index()
        if lo < first:
            raise CompactedError(lo)
        if hi > self.last_index() + 1:
            raise UnavailableError(hi)
        u = self.unstable
        if hi <= u.offset:
            return limit_size(self.storage.entries(lo, hi, max_size), max_size)
        if lo >= u.offset:
            return limit_size(u.slice(lo, hi), max_size)
        stored = self.storage.entries(lo, u.offset, max_size)
        if len(stored) < u.offset - lo:
            return stored
        return limit_size(stored + u.slice(u.offset, hi), max_size)

    def entries(self, lo: int, max_size: int | None) -> list[Entry]:
        return self.slice(lo, self.last_index() + 1, max_size)

    def all_entries(self) -> list[Entry]:
        return self.entries(self.first_index(), None)

    def snapshot(self) -> Snapshot:
        if self.unstable.snapshot is not None:
            return self.unstable.snapshot
        return self.storage.snapshot()

    def has_pending_snapshot(self) -> bool:
        return self.unstable.snapshot is not None

    def unstable_entries(self) -> list[Entry]:
        return list(self.unstable.entries)

    def has_next_committed_entries(self) -> bool:
        return self.committed > max(self.applied, self.first_index() - 1)

    def next_committed_entries(self) -> list[Entry]:
        lo = max(self.applied + 1, self.first_index())
        hi = self.committed + 1
        if lo >= hi:
            return []
        return self.slice(lo, hi, self.max_committed_size)

    # -- moving the markers -----------------------------------------------------

    def commit_to(self, index: int) -> None:
        if index > self.committed:
            if index > self.last_index():
                raise AssertionError(f"commit {index} is past the last index {self.last_index()}")
            self.committed = index

    def maybe_commit(self, index: int, term: int) -> bool:
        """Commit ``index`` if it is newer and from ``term`` (the leader's current term:
        entries of older terms are committed only indirectly, Raft §5.4.2)."""
        if index > self.committed and self.zero_term(index) == term:
            self.commit_to(index)
            return True
        return False

    def applied_to(self, index: int) -> None:
        if index <= 0:
            return
        if index > self.committed or index < self.applied:
            raise AssertionError(f"applied {index} is outside [{self.applied}, {self.committed}]")
        self.applied = index

    def stable_to(self, index: int, term: int) -> None:
        self.unstable.stable_to(index, term)

    def stable_snap_to(self, index: int) -> None:
        self.unstable.stable_snap_to(index)

    def restore(self, snap: Snapshot) -> None:
        self.committed = snap.metadata.index
        self.unstable.restore(snap)
