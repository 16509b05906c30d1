"""The core's log: stable storage plus the unstable tail, append / conflict / truncate rules."""

import pytest

from cacheflow.raft.core import CompactedError, ConfState, Entry, MemoryStorage, UnavailableError
from cacheflow.raft.core.raft_log import RaftLog


def ents(*pairs: tuple[int, int]) -> list[Entry]:
    return [Entry(term=t, index=i, data=b"%d" % i) for i, t in pairs]


def log_with(stable: list[Entry], unstable: list[Entry] = []) -> RaftLog:  # noqa: B006
    ms = MemoryStorage()
    ms.append(stable)
    log = RaftLog(ms)
    log.append(unstable)
    return log


def terms(log: RaftLog) -> list[tuple[int, int]]:
    return [(e.index, e.term) for e in log.all_entries()]


def test_positions_span_storage_and_unstable() -> None:
    log = log_with(ents((1, 1), (2, 1)), ents((3, 2), (4, 2)))
    assert log.first_index() == 1 and log.last_index() == 4
    assert log.term(2) == 1 and log.term(4) == 2 and log.term(0) == 0
    assert log.zero_term(9) == 0
    with pytest.raises(UnavailableError):
        log.term(5)
    assert log.last_term() == 2


def test_maybe_append_checks_the_previous_entry() -> None:
    log = log_with(ents((1, 1), (2, 1), (3, 1)))
    assert log.maybe_append(3, 2, 3, ents((4, 2))) is None  # term at 3 is 1, not 2
    assert log.maybe_append(5, 1, 3, ents((6, 1))) is None  # a gap
    assert log.maybe_append(3, 1, 9, ents((4, 1), (5, 1))) == 5
    # The commit index moves only as far as what is known to match the leader.
    assert log.committed == 5


def test_maybe_append_truncates_a_conflicting_suffix() -> None:
    log = log_with(ents((1, 1), (2, 1), (3, 1), (4, 1)))
    log.commit_to(1)
    assert log.maybe_append(1, 1, 1, ents((2, 1), (3, 3))) == 3
    assert terms(log) == [(1, 1), (2, 1), (3, 3)]


def test_stale_append_does_not_cut_the_log() -> None:
    log = log_with(ents((1, 1), (2, 1), (3, 1), (4, 1)))
    # A delayed APP carrying entries we already have (a prefix) must not drop entry 4.
    assert log.maybe_append(1, 1, 0, ents((2, 1))) == 2
    assert log.last_index() == 4


def test_truncating_a_committed_entry_is_a_bug() -> None:
    log = log_with(ents((1, 1), (2, 1), (3, 1)))
    log.commit_to(3)
    with pytest.raises(AssertionError):
        log.maybe_append(1, 1, 3, ents((2, 2)))


def test_find_conflict() -> None:
    log = log_with(ents((1, 1), (2, 2), (3, 3)))
    assert log.find_conflict([]) == 0
    assert log.find_conflict(ents((1, 1), (2, 2))) == 0
    assert log.find_conflict(ents((2, 2), (3, 3), (4, 4))) == 4  # the first new one
    assert log.find_conflict(ents((2, 2), (3, 4), (4, 4))) == 3
    assert log.find_conflict(ents((5, 4))) == 5


def test_find_conflict_by_term() -> None:
    # index:  1 2 3 4 5 6
    # term:   1 1 2 2 4 4
    log = log_with(ents((1, 1), (2, 1), (3, 2), (4, 2), (5, 4), (6, 4)))
    assert log.find_conflict_by_term(6, 4) == (6, 4)
    assert log.find_conflict_by_term(6, 3) == (4, 2)
    assert log.find_conflict_by_term(6, 1) == (2, 1)
    assert log.find_conflict_by_term(6, 0) == (0, 0)


def test_slice_across_storage_and_unstable_with_a_size_limit() -> None:
    log = log_with(ents((1, 1), (2, 1)), ents((3, 1), (4, 1)))
    assert [e.index for e in log.slice(1, 5, None)] == [1, 2, 3, 4]
    assert [e.index for e in log.slice(2, 4, None)] == [2, 3]
    assert [e.index for e in log.slice(1, 5, 2)] == [1, 2]  # one byte each
    assert [e.index for e in log.slice(3, 5, 0)] == [3]
    with pytest.raises(UnavailableError):
        log.slice(1, 6, None)


def test_stable_to_ignores_a_replaced_entry() -> None:
    log = log_with([], ents((1, 1), (2, 1)))
    log.append(ents((2, 2)))  # entry 2 was replaced after being handed out
    log.stable_to(2, 1)
    assert log.unstable.offset == 1 and len(log.unstable.entries) == 2
    log.stable_to(2, 2)
    assert log.unstable.offset == 3 and not log.unstable.entries


def test_commit_only_current_term_entries() -> None:
    log = log_with(ents((1, 1), (2, 2)))
    assert not log.maybe_commit(2, 3)  # entry 2 is from term 2; the leader's term is 3
    assert log.committed == 0
    assert log.maybe_commit(2, 2)
    assert log.committed == 2
    with pytest.raises(AssertionError):
        log.commit_to(7)


def test_next_committed_entries_respects_applied_and_size() -> None:
    ms = MemoryStorage()
    ms.append(ents((1, 1), (2, 1), (3, 1)))
    log = RaftLog(ms, max_committed_size=2)
    log.commit_to(3)
    assert [e.index for e in log.next_committed_entries()] == [1, 2]
    log.applied_to(2)
    assert [e.index for e in log.next_committed_entries()] == [3]
    log.applied_to(3)
    assert not log.has_next_committed_entries()


def test_restore_from_snapshot() -> None:
    src = MemoryStorage()
    src.append(ents((1, 1), (2, 1), (3, 2)))
    snap = src.create_snapshot(3, ConfState(voters=(1,)), b"")
    log = log_with(ents((1, 1)))
    log.restore(snap)
    assert log.committed == 3 and log.first_index() == 4 and log.last_index() == 3
    assert log.term(3) == 2
    with pytest.raises(CompactedError):
        log.term(2)
    assert log.has_pending_snapshot()
    log.stable_snap_to(3)
    assert not log.has_pending_snapshot()


def test_commit_stops_at_the_last_entry_known_to_match() -> None:
    # Entries 2 and 3 are left over from an old term; the leader's entries there may differ.
    log = log_with(ents((1, 1), (2, 1), (3, 1)))
    # A probe matching only at 1 (no entries) with the leader's commit index 3.
    assert log.maybe_append(1, 1, 3, []) == 1
    assert log.committed == 1
