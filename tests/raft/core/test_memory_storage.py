"""MemoryStorage: the LogStorage contract the core relies on."""

import pytest

from cacheflow.raft.core import (
    CompactedError,
    ConfState,
    Entry,
    HardState,
    MemoryStorage,
    SnapshotOutOfDateError,
    UnavailableError,
)


def ents(*pairs: tuple[int, int]) -> list[Entry]:
    return [Entry(term=t, index=i, data=b"x%d" % i) for i, t in pairs]


def test_empty_storage() -> None:
    ms = MemoryStorage()
    assert ms.first_index() == 1 and ms.last_index() == 0
    assert ms.term(0) == 0
    assert ms.initial_state() == (HardState(), ConfState())
    with pytest.raises(UnavailableError):
        ms.term(1)


def test_bootstrap() -> None:
    ms = MemoryStorage.bootstrap(ConfState(voters=(1, 2, 3)), index=2, term=1)
    assert ms.first_index() == 3 and ms.last_index() == 2
    assert ms.term(2) == 1
    hs, cs = ms.initial_state()
    assert hs == HardState(term=1, vote=0, commit=2)
    assert cs.voters == (1, 2, 3)
    with pytest.raises(CompactedError):
        ms.term(1)


def test_append_truncates_a_conflicting_suffix() -> None:
    ms = MemoryStorage()
    ms.append(ents((1, 1), (2, 1), (3, 1)))
    ms.append(ents((2, 2), (3, 2), (4, 2)))
    assert [(e.index, e.term) for e in ms.entries(1, 5)] == [(1, 1), (2, 2), (3, 2), (4, 2)]
    with pytest.raises(UnavailableError):
        ms.append(ents((7, 2)))


def test_entries_bounds_and_size_limit() -> None:
    ms = MemoryStorage()
    ms.append(ents((1, 1), (2, 1), (3, 1), (4, 1)))
    assert len(ms.entries(1, 5, max_bytes=5)) == 2  # 2 bytes each: a third would pass 5
    assert len(ms.entries(1, 5, max_bytes=0)) == 1  # always at least one
    assert len(ms.entries(2, 4)) == 2
    with pytest.raises(UnavailableError):
        ms.entries(1, 6)


def test_snapshot_then_compact() -> None:
    ms = MemoryStorage()
    ms.append(ents((1, 1), (2, 1), (3, 2), (4, 2)))
    cs = ConfState(voters=(1,))
    snap = ms.create_snapshot(3, cs, b"state")
    assert snap.metadata.index == 3 and snap.metadata.term == 2
    with pytest.raises(ValueError):
        ms.compact(4)  # beyond the snapshot: a lagging follower could not be caught up
    ms.compact(3)
    assert ms.first_index() == 4 and ms.term(3) == 2
    with pytest.raises(CompactedError):
        ms.entries(3, 5)
    with pytest.raises(CompactedError):
        ms.compact(2)
    with pytest.raises(SnapshotOutOfDateError):
        ms.create_snapshot(2, cs, b"")


def test_apply_snapshot_replaces_the_log() -> None:
    src = MemoryStorage()
    src.append(ents((1, 1), (2, 1), (3, 2)))
    snap = src.create_snapshot(3, ConfState(voters=(1, 2)), b"s")
    ms = MemoryStorage()
    ms.append(ents((1, 1)))
    ms.apply_snapshot(snap)
    assert ms.first_index() == 4 and ms.last_index() == 3 and ms.term(3) == 2
    assert ms.initial_state()[1].voters == (1, 2)
    with pytest.raises(SnapshotOutOfDateError):
        ms.apply_snapshot(snap)


def test_copy_is_independent() -> None:
    ms = MemoryStorage()
    ms.append(ents((1, 1)))
    cp = ms.copy()
    ms.append(ents((2, 1)))
    ms.set_hard_state(HardState(term=3))
    assert cp.last_index() == 1 and cp.hard_state == HardState()
