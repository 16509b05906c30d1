"""Shared helpers for the storage tests: building logs and reading a storage's whole state."""

from dataclasses import dataclass

from cacheflow.raft.core.types import Entry, HardState, Snapshot
from cacheflow.raft.storage import FileStorage


def ents(first: int, last: int, term: int, tag: bytes = b"") -> list[Entry]:
    """Entries first..last of ``term`` whose data names them (so a wrong entry is visible)."""
    return [Entry(term=term, index=i, data=b"%s%d@%d" % (tag, i, term)) for i in range(first, last + 1)]


@dataclass(frozen=True)
class State:
    """Everything a restarted node reads back through LogStorage."""

    first: int
    last: int
    entries: tuple[Entry, ...]
    base_term: int
    hard_state: HardState
    snapshot: Snapshot


def state(st: FileStorage) -> State:
    first, last = st.first_index(), st.last_index()
    return State(
        first=first,
        last=last,
        entries=tuple(st.entries(first, last + 1)),
        base_term=st.term(first - 1),
        hard_state=st.initial_state()[0],
        snapshot=st.snapshot(),
    )


def from_index(s: State, first: int) -> tuple[tuple[Entry, ...], int]:
    """The entries from ``first`` on and the last index: what must survive a restart."""
    return tuple(e for e in s.entries if e.index >= first), s.last
