"""FileStorage on real files in temporary directories: reads, restarts, repairs and refusals."""

import os
import random
import shutil
from pathlib import Path

import pytest

from cacheflow.raft.core.errors import SnapshotOutOfDateError
from cacheflow.raft.core.log_storage import CompactedError, StorageError, UnavailableError
from cacheflow.raft.core.memory_storage import MemoryStorage
from cacheflow.raft.core.types import ConfState, Entry, EntryType, HardState, Snapshot, SnapshotMetadata
from cacheflow.raft.storage import FileStorage, SnapshotFileError, WalCorruptionError, snapfile, wal
from cacheflow.raft.storage.file_storage import segment_name

from .helpers import ents, from_index, state

CS = ConfState(voters=(1, 2, 3))


def segments(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if p.name.startswith("wal-"))


def reopen(d: Path, st: FileStorage, **kw: int) -> FileStorage:
    st.close()
    return FileStorage.open(str(d), **kw)


def test_empty_directory_opens_as_an_empty_log(tmp_path: Path) -> None:
    with FileStorage.open(str(tmp_path / "n1")) as st:
        assert (st.first_index(), st.last_index()) == (1, 0)
        assert st.initial_state() == (HardState(), ConfState())
        assert st.term(0) == 0
        assert st.entries(1, 1) == []
        assert st.snapshot().is_empty()
        with pytest.raises(UnavailableError):
            st.term(1)
        with pytest.raises(CompactedError):
            st.entries(0, 1)
    assert segments(tmp_path / "n1") == [segment_name(1)]
    with FileStorage.open(str(tmp_path / "n1")) as st:
        assert st.repaired is None and st.last_index() == 0


def test_bootstrap_survives_restart_and_refuses_a_second_time(tmp_path: Path) -> None:
    st = FileStorage.bootstrap(str(tmp_path), CS)
    mem = MemoryStorage.bootstrap(CS)
    for s in (st, reopen(tmp_path, st)):
        assert s.initial_state() == mem.initial_state()
        assert (s.first_index(), s.last_index(), s.term(1)) == (mem.first_index(), mem.last_index(), mem.term(1))
        assert s.snapshot() == mem.snapshot()
        s.close()
    with pytest.raises(StorageError, match="already holds"):
        FileStorage.bootstrap(str(tmp_path), CS)


@pytest.mark.parametrize("seed", range(int(os.environ.get("RAFT_STORAGE_SEEDS", "6"))))
def test_reads_match_memory_storage_through_random_writes(tmp_path: Path, seed: int) -> None:
    """The same writes to FileStorage and MemoryStorage read back the same, and the same after restarts."""
    rng = random.Random(seed)
    st = FileStorage.open(str(tmp_path), segment_bytes=600)
    mem = MemoryStorage()
    term = 1
    for step in range(300):
        op = rng.random()
        last = mem.last_index()
        if op < 0.55:
            # A conflicting suffix never reaches back past the commit index, and commit never passes the log.
            commit = mem.hard_state.commit
            first = rng.randint(max(mem.first_index(), commit + 1, last - 3), last + 1)
            term += rng.random() < 0.3
            batch = ents(first, first + rng.randint(0, 4), term, b"s%d-" % step)
            hs = HardState(term=term, vote=rng.randint(0, 3), commit=rng.randint(commit, batch[-1].index))
            st.save(hs, batch, None, sync=rng.random() < 0.5)
            mem.append(batch)
            mem.set_hard_state(hs)
        elif op < 0.7 and mem.hard_state.commit > mem.snapshot().metadata.index:
            index = rng.randint(mem.snapshot().metadata.index + 1, mem.hard_state.commit)
            data = b"image@%d" % index
            assert st.create_snapshot(index, CS, data) == mem.create_snapshot(index, CS, data)
            if rng.random() < 0.7 and index >= mem.first_index():
                st.compact(index)
                mem.compact(index)
        elif op < 0.75:
            index = last + rng.randint(1, 5)
            term += 1
            snap = Snapshot(SnapshotMetadata(index=index, term=term, conf_state=CS), b"leader@%d" % index)
            st.save(HardState(term, 0, index), (), snap, sync=True)
            mem.apply_snapshot(snap)
            mem.set_hard_state(HardState(term, 0, index))
        elif op < 0.85:
            st = reopen(tmp_path, st, segment_bytes=600)
            assert st.repaired is None
            # A restart starts the log right after the snapshot; the rest must be identical.
            assert st.first_index() == mem.snapshot().metadata.index + 1
        lo = max(st.first_index(), mem.first_index())
        hi = mem.last_index() + 1
        assert st.last_index() == mem.last_index()
        assert st.entries(lo, hi) == mem.entries(lo, hi)
        assert st.entries(lo, hi, max_bytes=20) == mem.entries(lo, hi, max_bytes=20)
        assert st.term(lo - 1) == mem.term(lo - 1)
        assert st.initial_state() == mem.initial_state()
        assert st.snapshot() == mem.snapshot()
    assert segments(tmp_path)[-1] > segment_name(2)  # the log went through several segments
    st.close()


def test_restart_gives_back_everything_saved(tmp_path: Path) -> None:
    st = FileStorage.open(str(tmp_path), segment_bytes=300)
    for k in range(20):
        st.save(HardState(term=2, vote=1, commit=k * 3), ents(k * 3 + 1, k * 3 + 3, 2), None, sync=k % 2 == 0)
    before = state(st)
    st = reopen(tmp_path, st)
    assert state(st) == before
    assert len(segments(tmp_path)) > 3
    st.close()


def test_one_fsync_per_save_however_many_entries(tmp_path: Path) -> None:
    with FileStorage.open(str(tmp_path)) as st:
        base = st.fsyncs
        st.save(HardState(1, 1, 0), ents(1, 500, 1), None, sync=True)
        assert st.fsyncs == base + 1
        st.save(HardState(1, 1, 250), ents(501, 600, 1), None, sync=False)
        assert st.fsyncs == base + 1
        st.sync()
        st.sync()
        assert st.fsyncs == base + 2


def test_conflicting_suffix_is_replaced_and_stays_replaced(tmp_path: Path) -> None:
    st = FileStorage.open(str(tmp_path), segment_bytes=200)
    st.save(HardState(1, 1, 3), ents(1, 10, 1), None, sync=True)
    st.save(HardState(2, 2, 3), ents(6, 8, 2), None, sync=True)
    assert st.last_index() == 8
    assert [e.term for e in st.entries(1, 9)] == [1] * 5 + [2] * 3
    st.save(None, ents(9, 9, 2), None, sync=True)
    st.save(HardState(3, 3, 4), ents(4, 4, 3), None, sync=True)  # cuts back to 4, across segments
    expected = ents(1, 3, 1) + ents(4, 4, 3)
    for _ in range(2):
        assert st.entries(1, st.last_index() + 1) == expected
        assert st.hard_state == HardState(3, 3, 4)
        st = reopen(tmp_path, st)
    st.close()


def test_appending_after_a_gap_or_out_of_order_is_refused(tmp_path: Path) -> None:
    with FileStorage.open(str(tmp_path)) as st:
        st.append(ents(1, 3, 1))
        with pytest.raises(UnavailableError, match="missing"):
            st.append(ents(5, 6, 1))
        with pytest.raises(ValueError, match="contiguous"):
            st.append([Entry(1, 4), Entry(1, 6)])
        assert st.last_index() == 3


def test_snapshot_compaction_and_restart(tmp_path: Path) -> None:
    st = FileStorage.open(str(tmp_path), segment_bytes=256)
    for k in range(30):
        st.save(HardState(4, 2, k * 2), ents(k * 2 + 1, k * 2 + 2, 4), None, sync=True)
    many = len(segments(tmp_path))
    snap = st.create_snapshot(45, CS, b"sm-image-45")
    assert snap.metadata == SnapshotMetadata(45, 4, CS)
    st.compact(45)
    assert st.first_index() == 46 and st.term(45) == 4
    with pytest.raises(CompactedError):
        st.entries(45, 47)
    with pytest.raises(CompactedError):
        st.term(44)
    with pytest.raises(ValueError, match="past the snapshot"):
        st.compact(50)
    left = segments(tmp_path)
    assert 1 < len(left) < many
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".snap"] == [snapfile.file_name(45)]
    before = state(st)
    st = reopen(tmp_path, st)
    assert state(st) == before  # hard state too, although the segments that first held it are gone
    st.create_snapshot(58, CS, b"sm-image-58")
    st.compact(58)
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".snap"] == [snapfile.file_name(58)]
    st.save(HardState(4, 2, 60), ents(61, 62, 4), None, sync=True)
    before = state(st)
    st = reopen(tmp_path, st)
    assert state(st) == before and st.snapshot().data == b"sm-image-58"
    with pytest.raises(SnapshotOutOfDateError):
        st.create_snapshot(58, CS, b"")
    with pytest.raises(UnavailableError):
        st.create_snapshot(63, CS, b"")
    st.close()


def test_restart_without_compaction_starts_after_the_snapshot(tmp_path: Path) -> None:
    st = FileStorage.open(str(tmp_path))
    st.save(HardState(1, 1, 8), ents(1, 10, 1), None, sync=True)
    st.create_snapshot(5, CS, b"five")
    assert st.first_index() == 1
    before = state(st)
    st = reopen(tmp_path, st)
    assert st.first_index() == 6 and st.term(5) == 1
    assert from_index(state(st), 6) == from_index(before, 6)
    st.close()


def test_installed_snapshot_replaces_the_log_across_restarts(tmp_path: Path) -> None:
    st = FileStorage.open(str(tmp_path))
    st.save(HardState(1, 1, 5), ents(1, 20, 1), None, sync=True)
    snap = Snapshot(SnapshotMetadata(50, 3, CS), b"from the leader")
    st.save(HardState(3, 0, 50), ents(51, 53, 3), snap, sync=True)
    assert (st.first_index(), st.last_index(), st.term(50)) == (51, 53, 3)
    with pytest.raises(SnapshotOutOfDateError):
        st.apply_snapshot(Snapshot(SnapshotMetadata(50, 3, CS)))
    before = state(st)
    st = reopen(tmp_path, st)
    assert state(st) == before
    st.append(ents(54, 55, 3))
    st = reopen(tmp_path, st)
    assert st.entries(51, 56) == ents(51, 55, 3)
    st.close()


def test_snapshot_file_without_its_wal_record(tmp_path: Path) -> None:
    """A crash after the snapshot file became durable but before its SNAPSHOT record did."""
    st = FileStorage.open(str(tmp_path))
    st.save(HardState(1, 1, 5), ents(1, 20, 1), None, sync=True)
    st.close()
    # The leader's snapshot at 50 (term 3) does not continue this log: the old entries must go.
    (tmp_path / snapfile.file_name(50)).write_bytes(snapfile.encode(Snapshot(SnapshotMetadata(50, 3, CS), b"s")))
    st = FileStorage.open(str(tmp_path))
    assert (st.first_index(), st.last_index(), st.term(50)) == (51, 50, 3)
    assert st.hard_state == HardState(3, 0, 50)  # raised to the snapshot's term and index, no vote
    st.append(ents(51, 52, 3))
    st = reopen(tmp_path, st)  # the WAL itself now says the log was reset
    assert (st.first_index(), st.last_index()) == (51, 52)
    assert st.entries(51, 53) == ents(51, 52, 3)
    st.close()


def test_snapshot_file_that_matches_the_log_keeps_the_entries_after_it(tmp_path: Path) -> None:
    st = FileStorage.open(str(tmp_path))
    st.save(HardState(1, 1, 12), ents(1, 20, 1), None, sync=True)
    st.close()
    (tmp_path / snapfile.file_name(12)).write_bytes(snapfile.encode(Snapshot(SnapshotMetadata(12, 1, CS), b"s")))
    with FileStorage.open(str(tmp_path)) as st:
        assert (st.first_index(), st.last_index()) == (13, 20)
        assert st.entries(13, 21) == ents(13, 20, 1)


def test_torn_hard_state_is_raised_to_the_log_term(tmp_path: Path) -> None:
    st = FileStorage.open(str(tmp_path))
    st.save(HardState(2, 1, 0), ents(1, 2, 2), None, sync=True)
    st.save(HardState(5, 3, 2), ents(3, 4, 5), None, sync=True)
    st.close()
    seg = tmp_path / segment_name(1)
    records, _ = wal.scan(seg.read_bytes())
    assert records[-1].type is wal.RecordType.HARD_STATE
    os.truncate(seg, records[-1].offset + 10)  # the last hard state record is cut short
    with FileStorage.open(str(tmp_path)) as st:
        assert st.repaired is not None and st.repaired.offset == records[-1].offset
        assert st.last_index() == 4
        assert st.hard_state == HardState(term=5, vote=0, commit=0)


def test_every_torn_tail_is_repaired_to_the_last_whole_record(tmp_path: Path) -> None:
    src = tmp_path / "src"
    st = FileStorage.open(str(src))
    st.save(HardState(1, 1, 0), ents(1, 3, 1), None, sync=True)  # records: E(1..3), H(1,1,0)
    st.save(HardState(1, 1, 2), ents(4, 5, 1), None, sync=True)  # E(4..5), H(1,1,2)
    st.save(HardState(2, 2, 3), ents(3, 4, 2), None, sync=True)  # E(3..4 term 2), H(2,2,3)
    st.close()
    data = (src / segment_name(1)).read_bytes()
    records, problem = wal.scan(data)
    assert problem is None and len(records) == 6
    bounds = [r.offset for r in records] + [len(data)]
    # What a restart must see after the first k records, written out by hand.
    expected = [
        ([], HardState()),
        (ents(1, 3, 1), HardState(1, 0, 0)),  # term raised to the log's, no vote
        (ents(1, 3, 1), HardState(1, 1, 0)),
        (ents(1, 5, 1), HardState(1, 1, 0)),
        (ents(1, 5, 1), HardState(1, 1, 2)),
        (ents(1, 2, 1) + ents(3, 4, 2), HardState(2, 0, 2)),  # term raised to the log's, no vote
        (ents(1, 2, 1) + ents(3, 4, 2), HardState(2, 2, 3)),
    ]
    work = tmp_path / "work"
    for cut in range(len(data) + 1):
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        (work / segment_name(1)).write_bytes(data[:cut])
        k = sum(1 for b in bounds[1:] if b <= cut)
        with FileStorage.open(str(work)) as st:
            log, hs = expected[k]
            assert st.entries(1, st.last_index() + 1) == log, cut
            assert st.hard_state == hs, cut
            clean = cut == max(wal.HEADER_SIZE, bounds[k]) if k else cut in (wal.HEADER_SIZE,)
            if clean:
                assert st.repaired is None, cut
            else:
                assert st.repaired is not None, cut
                assert st.repaired.offset == (bounds[k] if cut >= wal.HEADER_SIZE else 0), cut
                assert st.repaired.path == str(work / segment_name(1))
            # The repaired file takes appends, and they survive.
            st.save(None, [Entry(9, len(log) + 1, EntryType.NORMAL, b"after")], None, sync=True)
        with FileStorage.open(str(work)) as st:
            assert st.repaired is None, cut
            assert st.entries(1, st.last_index() + 1)[-1] == Entry(9, len(log) + 1, EntryType.NORMAL, b"after")


def test_a_flipped_bit_anywhere_is_an_error_naming_file_and_offset(tmp_path: Path) -> None:
    src = tmp_path / "src"
    st = FileStorage.open(str(src))
    st.save(HardState(1, 1, 0), ents(1, 3, 1), None, sync=True)
    st.save(HardState(1, 1, 2), ents(4, 5, 1), None, sync=True)
    st.close()
    data = (src / segment_name(1)).read_bytes()
    records, _ = wal.scan(data)
    work = tmp_path / "work"
    work.mkdir()
    path = work / segment_name(1)
    rng = random.Random(3)
    for pos in range(len(data)):
        bad = bytearray(data)
        bad[pos] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(bad))
        with pytest.raises(WalCorruptionError) as info:
            FileStorage.open(str(work)).close()
        err = info.value
        assert err.path == str(path)
        assert err.offset == max([0, *[r.offset for r in records if r.offset <= pos]]), pos
        assert str(path) in str(err) and f"offset {err.offset}" in str(err)
        assert path.read_bytes() == bytes(bad)  # nothing was "repaired"


def test_torn_segment_that_is_not_the_last_is_an_error(tmp_path: Path) -> None:
    st = FileStorage.open(str(tmp_path), segment_bytes=100)
    for k in range(6):
        st.save(HardState(1, 1, 0), ents(k + 1, k + 1, 1), None, sync=True)
    st.close()
    assert len(segments(tmp_path)) >= 3
    first = tmp_path / segments(tmp_path)[0]
    size = first.stat().st_size
    os.truncate(first, size - 3)
    with pytest.raises(WalCorruptionError, match="not the last") as info:
        FileStorage.open(str(tmp_path))
    assert info.value.path == str(first)


def test_missing_segment_and_missing_snapshot_are_errors(tmp_path: Path) -> None:
    st = FileStorage.open(str(tmp_path), segment_bytes=100)
    for k in range(6):
        st.save(HardState(1, 1, k), ents(k + 1, k + 1, 1), None, sync=True)
    st.close()
    names = segments(tmp_path)
    (tmp_path / names[1]).unlink()
    with pytest.raises(StorageError, match=f"{names[1]} is missing"):
        FileStorage.open(str(tmp_path))
    (tmp_path / names[0]).unlink()  # now the WAL starts after compacted entries, with no snapshot
    with pytest.raises(StorageError, match="no snapshot file"):
        FileStorage.open(str(tmp_path))


def test_damaged_snapshot_file_is_an_error_naming_it(tmp_path: Path) -> None:
    st = FileStorage.bootstrap(str(tmp_path), CS)
    st.save(HardState(1, 0, 3), ents(2, 4, 1), None, sync=True)
    st.create_snapshot(3, CS, b"x" * 100)
    st.close()
    path = tmp_path / snapfile.file_name(3)
    good = path.read_bytes()
    for pos in (0, 8, 20, 40, len(good) - 1):
        bad = bytearray(good)
        bad[pos] ^= 0x10
        path.write_bytes(bytes(bad))
        with pytest.raises(SnapshotFileError, match=str(path)):
            FileStorage.open(str(tmp_path))
    path.write_bytes(good)
    with FileStorage.open(str(tmp_path)) as st:
        assert st.snapshot().data == b"x" * 100


def test_leftover_temp_files_are_removed(tmp_path: Path) -> None:
    FileStorage.bootstrap(str(tmp_path), CS).close()
    (tmp_path / (snapfile.file_name(9) + ".tmp")).write_bytes(b"half a snapshot")
    with FileStorage.open(str(tmp_path)) as st:
        assert st.snapshot().metadata.index == 1
    assert not list(tmp_path.glob("*.tmp"))


def test_a_directory_is_opened_once(tmp_path: Path) -> None:
    st = FileStorage.open(str(tmp_path))
    with pytest.raises(StorageError, match="already open"):
        FileStorage.open(str(tmp_path))
    st.close()
    st.close()
    with pytest.raises(StorageError, match="closed"):
        st.append(ents(1, 1, 1))
    FileStorage.open(str(tmp_path)).close()


def test_a_failed_write_refuses_later_writes_until_reopened(tmp_path: Path) -> None:
    st = FileStorage.open(str(tmp_path))
    st.save(HardState(1, 1, 0), ents(1, 2, 1), None, sync=True)
    os.close(st._fd)  # the file descriptor goes bad under the storage: the next write fails for real
    with pytest.raises(StorageError, match="write to"):
        st.append(ents(3, 3, 1))
    with pytest.raises(StorageError, match="earlier failure"):
        st.set_hard_state(HardState(1, 1, 1))
    assert st.last_index() == 2  # memory holds only what reached the file
    st._fd = -1
    st.close()
    with FileStorage.open(str(tmp_path)) as st:
        assert st.entries(1, 3) == ents(1, 2, 1)


def test_unsynced_writes_are_synced_on_close(tmp_path: Path) -> None:
    st = FileStorage.open(str(tmp_path))
    st.save(HardState(1, 1, 0), ents(1, 2, 1), None, sync=False)
    before = st.fsyncs
    st.close()
    assert st.fsyncs == before + 1
