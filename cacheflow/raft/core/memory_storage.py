"""An in-memory ``LogStorage`` for tests, the simulation and the benchmark.

``_ents[0]`` is a dummy entry standing for the snapshot position (its index and term
are the last snapshot's, or 0/0 for an empty log); real entries follow it.  The
simulation treats one of these as a node's disk: ``copy()`` captures "what was durable"
when it simulates a crash.
"""

from collections.abc import Sequence

from cacheflow.raft.core.errors import SnapshotOutOfDateError
from cacheflow.raft.core.log_storage import CompactedError, UnavailableError
from cacheflow.raft.core.raft_log import limit_size
from cacheflow.raft.core.types import ConfState, Entry, HardState, Snapshot, SnapshotMetadata


class MemoryStorage:
    __slots__ = ("_ents", "_hard_state", "_snapshot")

    def __init__(self) -> None:
        self._hard_state = HardState()
        self._snapshot = Snapshot()
        self._ents: list[Entry] = [Entry(term=0, index=0)]

    @classmethod
    def bootstrap(cls, conf_state: ConfState, *, index: int = 1, term: int = 1) -> "MemoryStorage":
        """A new cluster's first state: a snapshot at (index, term) holding the membership."""
        ms = cls()
        ms.apply_snapshot(Snapshot(SnapshotMetadata(index=index, term=term, conf_state=conf_state)))
        ms.set_hard_state(HardState(term=term, vote=0, commit=index))
        return ms

    def copy(self) -> "MemoryStorage":
        ms = MemoryStorage()
        ms._hard_state = self._hard_state
        ms._snapshot = self._snapshot
        ms._ents = list(self._ents)
        return ms

    # -- LogStorage ------------------------------------------------------------

    def initial_state(self) -> tuple[HardState, ConfState]:
        return self._hard_state, self._snapshot.metadata.conf_state

    @property
    def hard_state(self) -> HardState:
        return self._hard_state

    def entries(self, lo: int, hi: int, max_bytes: int | None = None) -> list[Entry]:
        ents = self._ents
        off = ents[0].index
        if lo <= off:
            raise CompactedError(lo)
        if hi > off + len(ents):
            raise UnavailableError(hi)
        return limit_size(ents[lo - off : hi - off], max_bytes)

    def term(self, index: int) -> int:
        ents = self._ents
        off = ents[0].index
        if index < off:
            raise CompactedError(index)
        i = index - off
        if i >= len(ents):
            raise UnavailableError(index)
        return ents[i].term

    def first_index(self) -> int:
        return self._ents[0].index + 1

    def last_index(self) -> int:
        return self._ents[0].index + len(self._ents) - 1

    def snapshot(self) -> Snapshot:
        return self._snapshot

    # -- writes (the driver, from Ready) ---------------------------------------

    def set_hard_state(self, hs: HardState) -> None:
        self._hard_state = hs

    def append(self, entries: Sequence[Entry]) -> None:
        """Append ``entries`` (contiguous), replacing any suffix they overlap."""
        if not entries:
            return
        first = self.first_index()
        if entries[-1].index < first:
            return
        if entries[0].index < first:
            entries = entries[first - entries[0].index :]
        ents = self._ents
        offset = entries[0].index - ents[0].index
        if offset < len(ents):
            del ents[offset:]
            ents.extend(entries)
        elif offset == len(ents):
            ents.extend(entries)
        else:
            raise UnavailableError(f"missing entries: last index {self.last_index()}, appending at {entries[0].index}")

    def apply_snapshot(self, snap: Snapshot) -> None:
        """Replace the whole log by ``snap`` (the entries it covers are gone)."""
        md = snap.metadata
        if md.index <= self._snapshot.metadata.index:
            raise SnapshotOutOfDateError(f"snapshot {md.index} is not newer than {self._snapshot.metadata.index}")
        self._snapshot = snap
        self._ents = [Entry(term=md.term, index=md.index)]

    def create_snapshot(self, index: int, conf_state: ConfState, data: bytes) -> Snapshot:
        """Record the state machine's image at ``index``; the log is kept until ``compact``."""
        if index <= self._snapshot.metadata.index:
            raise SnapshotOutOfDateError(f"snapshot {index} is not newer than {self._snapshot.metadata.index}")
        if index > self.last_index():
            raise UnavailableError(f"snapshot index {index} is past the last index {self.last_index()}")
        snap = Snapshot(SnapshotMetadata(index=index, term=self.term(index), conf_state=conf_state), data)
        self._snapshot = snap
        return snap

    def compact(self, index: int) -> None:
        """Drop the entries up to and including ``index``; its term stays known.

        ``index`` must not pass the latest snapshot: a lagging follower needs the
        snapshot to cover every entry that is gone."""
        if index > self._snapshot.metadata.index:
            raise ValueError(f"compact {index} is past the snapshot index {self._snapshot.metadata.index}")
        ents = self._ents
        off = ents[0].index
        if index <= off:
            raise CompactedError(index)
        if index > self.last_index():
            raise UnavailableError(f"compact {index} is past the last index {self.last_index()}")
        i = index - off
        self._ents = [Entry(term=ents[i].term, index=index), *ents[i + 1 :]]
