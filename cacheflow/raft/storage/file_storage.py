"""FileStorage: one Raft node's durable state in a directory: a write-ahead log plus snapshot files.

The directory holds::

    LOCK                        flock'ed while a FileStorage has the directory open
    wal-<seq, 16 hex>.log       WAL segments, numbered from 1 with no gaps (format: ``wal``)
    snap-<index, 16 hex>.snap   the newest snapshot (format: ``snapfile``); older ones are deleted
    *.tmp                       a snapshot being written (deleted on open: an interrupted write)

Writing (``save``, what the driver does with a ``Ready``): the records for
everything in one call (a SNAPSHOT record if a snapshot is installed, one
ENTRIES record, a HARD_STATE record, in that order) go out in one ``write`` to
the last segment, followed by one ``fdatasync`` when asked to sync: one fsync
per Ready however many entries it carries.  Entries come before the hard state
so that a crash between them can leave entries without the commit index that
covers them, never a commit index past the durable log.  A snapshot's file is
written first, under a temporary name, fsynced, renamed into place and the
directory fsynced, so the SNAPSHOT record never refers to data that is not
durable.  A segment over ``segment_bytes`` is fsynced and closed, and the next
one starts with the current hard state, so deleting old segments never loses
the hard state.

Replay (``open``): the segments in order rebuild the log (ENTRIES from index i
replace the log from i on; SNAPSHOT resets it to start after the snapshot), then
the newest snapshot file is laid under it: entries up to the snapshot's index
are dropped when the log's entry at that index has the snapshot's term;
otherwise (a crash between writing the snapshot file and its SNAPSHOT record)
the whole log is dropped and a SNAPSHOT record is appended so the WAL says so
too.  A hard state older than the log it describes (a crash between the
entries and the hard state of one save: never acknowledged, since nothing is
sent before the save returns) is raised to the last term with no vote, and its
commit to at least the snapshot's index.  A torn tail of the last segment (see
``wal.scan``) is truncated, logged as a warning and reported in ``repaired``;
any other damage raises ``WalCorruptionError`` naming the file and byte offset.
Nothing is read from disk after ``open``: the whole log is kept in memory.

Compaction (``compact``, never past the snapshot) drops entries from memory
like ``MemoryStorage``, and deletes whole segments (never the last) whose
entries are all at or behind the compaction index: after a restart the log
starts right after the snapshot, so entries behind it are never needed again.

Errors: a failed write or fsync leaves the file in an unknown state, so the
storage refuses every later write (``StorageError``) until reopened, which
replays what really reached the disk.  Not thread-safe, except that ``sync``
may run on another thread while this one does nothing else with the storage.
"""

import fcntl
import itertools
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Final

from cacheflow.raft import codec
from cacheflow.raft.core.errors import SnapshotOutOfDateError
from cacheflow.raft.core.log_storage import CompactedError, StorageError, UnavailableError
from cacheflow.raft.core.types import ConfState, Entry, HardState, Snapshot, SnapshotMetadata
from cacheflow.raft.storage import snapfile, wal
from cacheflow.raft.storage.wal import RecordType

log = logging.getLogger("cacheflow.raft.storage")

DEFAULT_SEGMENT_BYTES: Final = 64 * 1024 * 1024
_SEGMENT_NAME: Final = re.compile(r"wal-([0-9a-f]{16})\.log")
_EMPTY_HARD_STATE: Final = HardState()


class WalCorruptionError(StorageError):
    """The WAL is damaged at ``path``, byte ``offset``: not a torn tail a crash explains."""

    def __init__(self, path: str, offset: int, reason: str) -> None:
        super().__init__(f"{path}: {reason} at byte offset {offset}")
        self.path = path
        self.offset = offset
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TornTail:
    """What ``open`` cut off the end of the last WAL segment."""

    path: str
    offset: int
    dropped_bytes: int
    reason: str


@dataclass(slots=True)
class _Segment:
    seq: int
    path: str
    max_index: int = 0  # highest entry index any ENTRIES record in it wrote (0: none)


def segment_name(seq: int) -> str:
    return f"wal-{seq:016x}.log"


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _check_batch(entries: Sequence[Entry]) -> None:
    first = entries[0].index
    for i, e in enumerate(entries):
        if e.index != first + i:
            raise ValueError(f"entries are not contiguous: index {e.index} at position {i} after {first}")


class FileStorage:
    """A ``LogStorage`` backed by files; see the module docstring.  Make one with ``open``."""

    def __init__(self, directory: str, lock_fd: int, segment_bytes: int) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        self.repaired: TornTail | None = None
        self.fsyncs = 0  # fdatasync calls on WAL segments since open (for benchmarks and tests)
        self._lock_fd = lock_fd
        self._snapshot = Snapshot()
        self._hard_state = HardState()
        # The log: _ents[k] has index _base + 1 + k; (_base, _base_term) is the entry just before it.
        self._base = 0
        self._base_term = 0
        self._ents: list[Entry] = []
        self._started = False  # whether the WAL replay found any ENTRIES or SNAPSHOT record
        self._segments: list[_Segment] = []
        self._snap_indexes: list[int] = []  # snapshot files on disk, oldest first
        self._fd = -1
        self._size = 0
        self._unsynced = False
        self._failed: str | None = None
        self._closed = False

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, directory: str, *, segment_bytes: int = DEFAULT_SEGMENT_BYTES) -> "FileStorage":
        """Open (creating if need be) the storage in ``directory`` and replay it."""
        if segment_bytes <= 0:
            raise ValueError("segment_bytes must be positive")
        os.makedirs(directory, exist_ok=True)
        lock_fd = os.open(os.path.join(directory, "LOCK"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            raise StorageError(f"{directory}: already open (another FileStorage holds its LOCK)") from None
        storage = cls(directory, lock_fd, segment_bytes)
        try:
            storage._load()
        except BaseException:
            storage._release()
            raise
        return storage

    @classmethod
    def bootstrap(
        cls,
        directory: str,
        conf_state: ConfState,
        *,
        index: int = 1,
        term: int = 1,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
    ) -> "FileStorage":
        """A new node's storage, as ``MemoryStorage.bootstrap``: a snapshot at (index, term) with
        ``conf_state`` and hard state (term, no vote, commit index).  The directory must hold no state."""
        storage = cls.open(directory, segment_bytes=segment_bytes)
        if storage.last_index() or not storage._snapshot.is_empty() or storage._hard_state != _EMPTY_HARD_STATE:
            storage.close()
            raise StorageError(f"{directory}: already holds Raft state; open it instead of bootstrapping")
        try:
            snap = Snapshot(SnapshotMetadata(index=index, term=term, conf_state=conf_state))
            storage.save(HardState(term=term, commit=index), (), snap, sync=True)
        except BaseException:
            storage.close()
            raise
        return storage

    def _load(self) -> None:
        names = os.listdir(self.directory)
        for name in names:
            if name.endswith(".tmp"):
                os.unlink(os.path.join(self.directory, name))
        snap_indexes = sorted(i for i in map(snapfile.index_of, names) if i is not None)
        snapshot = Snapshot()
        if snap_indexes:
            path = os.path.join(self.directory, snapfile.file_name(snap_indexes[-1]))
            snapshot = snapfile.decode(_read(path), path)
            if snapshot.metadata.index != snap_indexes[-1]:
                raise snapfile.SnapshotFileError(f"{path}: holds the snapshot at index {snapshot.metadata.index}")
        self._snap_indexes = snap_indexes
        self._snapshot = snapshot

        seqs = sorted(int(m.group(1), 16) for m in map(_SEGMENT_NAME.fullmatch, names) if m)
        for a, b in itertools.pairwise(seqs):
            if b != a + 1:
                raise StorageError(f"{self.directory}: WAL segment {segment_name(a + 1)} is missing")
        self._segments = [_Segment(seq, os.path.join(self.directory, segment_name(seq))) for seq in seqs]
        reset = self._replay()
        needs_reset = self._lay_snapshot(reset)

        hs = self._hard_state
        last_term = self._ents[-1].term if self._ents else self._base_term
        if hs.term < last_term:
            hs = HardState(term=last_term, vote=0, commit=hs.commit)
        if hs.commit < self._base:
            hs = HardState(term=hs.term, vote=hs.vote, commit=self._base)
        repair_hs = hs != self._hard_state
        self._hard_state = hs

        if self._segments:
            self._open_last_segment()
        else:
            self._start_segment(1)
        if needs_reset or repair_hs:
            out = []
            if needs_reset:
                out.append(wal.encode_record(RecordType.SNAPSHOT, codec.encode_snapshot_metadata(snapshot.metadata)))
            if repair_hs:
                out.append(wal.encode_record(RecordType.HARD_STATE, codec.encode_hard_state(hs)))
            self._write(b"".join(out))
            self.sync()

    def _replay(self) -> SnapshotMetadata | None:
        """Rebuild log and hard state from the segments; returns the last SNAPSHOT record's metadata."""
        base = 0
        base_term: int | None = 0  # None: the log starts after entries deleted by compaction
        ents: list[Entry] = []
        started = False
        reset: SnapshotMetadata | None = None
        for n, seg in enumerate(self._segments):
            data = _read(seg.path)
            records, problem = wal.scan(data)
            for rec in records:
                try:
                    if rec.type is RecordType.ENTRIES:
                        batch = codec.decode_entries(rec.payload)
                        if not batch:
                            continue
                        try:
                            _check_batch(batch)
                        except ValueError as exc:
                            raise WalCorruptionError(seg.path, rec.offset, str(exc)) from None
                        first = batch[0].index
                        seg.max_index = max(seg.max_index, batch[-1].index)
                        if not started:
                            started = True
                            base, base_term, ents = first - 1, (0 if first == 1 else None), list(batch)
                            continue
                        if first <= base:  # entries already behind the log's start, as save() trims them
                            batch = batch[base + 1 - first :]
                            if not batch:
                                continue
                            first = base + 1
                        if first > base + len(ents) + 1:
                            raise WalCorruptionError(
                                seg.path, rec.offset, f"entries start at {first} but the log ends at {base + len(ents)}"
                            )
                        del ents[first - base - 1 :]
                        ents.extend(batch)
                    elif rec.type is RecordType.HARD_STATE:
                        self._hard_state = codec.decode_hard_state(rec.payload)
                    else:
                        reset = codec.decode_snapshot_metadata(rec.payload)
                        started = True
                        base, base_term, ents = reset.index, reset.term, []
                except codec.CodecError as exc:
                    raise WalCorruptionError(
                        seg.path, rec.offset, f"undecodable {rec.type.name} record: {exc}"
                    ) from None
            if problem is not None:
                last = n == len(self._segments) - 1
                if not (problem.torn and last):
                    where = "" if not problem.torn else " (in a segment that is not the last)"
                    raise WalCorruptionError(seg.path, problem.offset, problem.reason + where)
                self._truncate_tail(seg.path, problem.offset, len(data), problem.reason)
        self._base, self._ents = base, ents
        self._base_term = base_term if base_term is not None else -1
        self._started = started
        return reset

    def _lay_snapshot(self, reset: SnapshotMetadata | None) -> bool:
        """Put the newest snapshot file under the replayed log; True if the WAL must record a reset."""
        md = self._snapshot.metadata
        base, ents = self._base, self._ents
        unknown_term = self._base_term < 0
        if md.index == 0:
            if reset is not None:
                raise StorageError(
                    f"{self.directory}: the WAL installed a snapshot at {reset.index} but no file has it"
                )
            if unknown_term:
                raise StorageError(f"{self.directory}: the WAL starts after index {base} but there is no snapshot file")
            return False
        if not self._started:
            self._base, self._base_term = md.index, md.term
            return False
        if md.index < base:
            raise StorageError(
                f"{self.directory}: the WAL starts after index {base} but the newest snapshot file is at {md.index}"
            )
        last = base + len(ents)
        if md.index == base:
            if unknown_term or self._base_term == md.term:
                self._base_term = md.term
                return False
        elif md.index <= last and ents[md.index - base - 1].term == md.term:
            del ents[: md.index - base]
            self._base, self._base_term = md.index, md.term
            return False
        # The log does not continue this snapshot: it was installed, but the crash came before its SNAPSHOT record.
        self._ents = []
        self._base, self._base_term = md.index, md.term
        return True

    def _truncate_tail(self, path: str, offset: int, size: int, reason: str) -> None:
        log.warning(
            "raft WAL %s: torn tail (%s) at byte offset %d: %d bytes dropped", path, reason, offset, size - offset
        )
        self.repaired = TornTail(path=path, offset=offset, dropped_bytes=size - offset, reason=reason)
        fd = os.open(path, os.O_WRONLY)
        try:
            if offset < wal.HEADER_SIZE:  # the header itself was cut short: write it whole
                os.ftruncate(fd, 0)
                os.write(fd, wal.SEGMENT_HEADER)
            else:
                os.ftruncate(fd, offset)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _open_last_segment(self) -> None:
        seg = self._segments[-1]
        self._fd = os.open(seg.path, os.O_WRONLY | os.O_APPEND)
        self._size = os.fstat(self._fd).st_size

    def _start_segment(self, seq: int) -> None:
        """Create segment ``seq`` and make it the one appended to; it opens with the current hard state."""
        path = os.path.join(self.directory, segment_name(seq))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        self._fd = fd
        self._size = 0
        self._segments.append(_Segment(seq, path))
        head = wal.SEGMENT_HEADER
        if self._hard_state != _EMPTY_HARD_STATE:
            head += wal.encode_record(RecordType.HARD_STATE, codec.encode_hard_state(self._hard_state))
        self._write(head)
        # Durable before anything older may be deleted: from now on this file holds the hard state.
        self.sync()
        _fsync_dir(self.directory)

    def _release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    # ------------------------------------------------------------------ LogStorage

    def initial_state(self) -> tuple[HardState, ConfState]:
        return self._hard_state, self._snapshot.metadata.conf_state

    def entries(self, lo: int, hi: int, max_bytes: int | None = None) -> list[Entry]:
        base = self._base
        if lo <= base:
            raise CompactedError(f"entry {lo} is compacted (the log starts at {base + 1})")
        if hi > base + len(self._ents) + 1:
            raise UnavailableError(f"entries up to {hi - 1} asked, the log ends at {base + len(self._ents)}")
        ents = self._ents[lo - base - 1 : hi - base - 1]
        if max_bytes is None or len(ents) <= 1:
            return ents
        total = 0
        for i, e in enumerate(ents):
            total += len(e.data)
            if total > max_bytes and i > 0:
                return ents[:i]
        return ents

    def term(self, index: int) -> int:
        base = self._base
        if index < base:
            raise CompactedError(f"entry {index} is compacted (the log starts at {base + 1})")
        if index == base:
            return self._base_term
        if index > base + len(self._ents):
            raise UnavailableError(f"entry {index} asked, the log ends at {base + len(self._ents)}")
        return self._ents[index - base - 1].term

    def first_index(self) -> int:
        return self._base + 1

    def last_index(self) -> int:
        return self._base + len(self._ents)

    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def hard_state(self) -> HardState:
        return self._hard_state

    # ------------------------------------------------------------------ writing

    def save(
        self,
        hard_state: HardState | None,
        entries: Sequence[Entry],
        snapshot: Snapshot | None = None,
        *,
        sync: bool,
    ) -> None:
        """Persist one Ready: install ``snapshot`` (if not None and not empty), append ``entries``
        (replacing a conflicting suffix), set ``hard_state`` (if not None); one fdatasync if ``sync``.

        Raises SnapshotOutOfDateError for a snapshot not newer than the one held, UnavailableError
        for entries that leave a gap after the log, ValueError for entries that are not contiguous
        (checked at the ends: the core hands out contiguous batches).
        """
        self._check_writable()
        out: list[bytes] = []
        if snapshot is not None and not snapshot.is_empty():
            if snapshot.metadata.index <= self._snapshot.metadata.index:
                raise SnapshotOutOfDateError(
                    f"snapshot at {snapshot.metadata.index} is not newer than the one held ({self._snapshot.metadata.index})"
                )
            self._write_snapshot_file(snapshot)
            out.append(wal.encode_record(RecordType.SNAPSHOT, codec.encode_snapshot_metadata(snapshot.metadata)))
        new_base = snapshot.metadata.index if out and snapshot is not None else self._base
        if entries:
            first = entries[0].index
            if entries[-1].index - first != len(entries) - 1:  # the ends only: O(1) on every Ready
                _check_batch(entries)
            last = new_base + (0 if out else len(self._ents))
            if first > last + 1:
                raise UnavailableError(f"missing entries: the log ends at {last}, appending at {first}")
            if first <= new_base:
                entries = entries[new_base + 1 - first :]
            if entries:
                out.append(wal.encode_record(RecordType.ENTRIES, codec.encode_entries(entries)))
        if hard_state is not None:
            out.append(wal.encode_record(RecordType.HARD_STATE, codec.encode_hard_state(hard_state)))
        if out:
            if self._size >= self.segment_bytes:
                self._roll()
            self._write(out[0] if len(out) == 1 else b"".join(out))
            # In memory only once the bytes are in the file.
            if snapshot is not None and not snapshot.is_empty():
                self._snapshot = snapshot
                self._base, self._base_term, self._ents = snapshot.metadata.index, snapshot.metadata.term, []
            if entries:
                first = entries[0].index
                del self._ents[first - self._base - 1 :]
                self._ents.extend(entries)
                seg = self._segments[-1]
                seg.max_index = max(seg.max_index, entries[-1].index)
            if hard_state is not None:
                self._hard_state = hard_state
        if sync:
            self.sync()

    def sync(self) -> None:
        """fdatasync what was written without sync (a no-op if nothing was)."""
        if self._unsynced:
            self._check_writable()
            self._unsynced = False
            try:
                os.fdatasync(self._fd)
            except OSError as exc:
                self._fail(f"fdatasync of {self._segments[-1].path} failed: {exc}")
                raise StorageError(self._failed) from exc
            self.fsyncs += 1

    def append(self, entries: Sequence[Entry], *, sync: bool = True) -> None:
        """``MemoryStorage.append``'s counterpart (prefer ``save`` for a whole Ready: one fsync)."""
        self.save(None, entries, None, sync=sync)

    def set_hard_state(self, hs: HardState, *, sync: bool = True) -> None:
        self.save(hs, (), None, sync=sync)

    def apply_snapshot(self, snap: Snapshot, *, sync: bool = True) -> None:
        self.save(None, (), snap, sync=sync)

    def create_snapshot(self, index: int, conf_state: ConfState, data: bytes) -> Snapshot:
        """Record a snapshot of the state machine at ``index`` (applied, so durable); does not compact."""
        self._check_writable()
        if index <= self._snapshot.metadata.index:
            raise SnapshotOutOfDateError(
                f"snapshot at {index} is not newer than the one held ({self._snapshot.metadata.index})"
            )
        if index > self.last_index():
            raise UnavailableError(f"snapshot at {index} asked, the log ends at {self.last_index()}")
        snap = Snapshot(SnapshotMetadata(index=index, term=self.term(index), conf_state=conf_state), data)
        self._write_snapshot_file(snap)
        self._snapshot = snap
        return snap

    def compact(self, index: int) -> None:
        """Drop the entries up to ``index`` from memory and the WAL segments wholly behind it.

        As ``MemoryStorage.compact``: ``index`` must not pass the snapshot (ValueError), since a
        lagging follower needs the snapshot to cover every entry that is gone."""
        self._check_writable()
        if index > self._snapshot.metadata.index:
            raise ValueError(f"compact {index} is past the snapshot index {self._snapshot.metadata.index}")
        if index <= self._base:
            raise CompactedError(f"entry {index} is already compacted (the log starts at {self._base + 1})")
        if index > self.last_index():
            raise UnavailableError(f"compact {index} is past the last index {self.last_index()}")
        term = self.term(index)
        del self._ents[: index - self._base]
        self._base, self._base_term = index, term
        while len(self._segments) > 1 and self._segments[0].max_index <= index:
            os.unlink(self._segments.pop(0).path)

    def close(self) -> None:
        """Sync what is unsynced and release the directory.  Idempotent."""
        if self._closed:
            return
        try:
            if self._failed is None and self._fd >= 0:
                self.sync()
        finally:
            self._closed = True
            self._release()

    def __enter__(self) -> "FileStorage":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ internals

    def _check_writable(self) -> None:
        if self._closed:
            raise StorageError(f"{self.directory}: storage is closed")
        if self._failed is not None:
            raise StorageError(f"{self.directory}: refusing writes after an earlier failure: {self._failed}")

    def _fail(self, reason: str) -> None:
        self._failed = reason
        log.error("raft storage %s: %s; no more writes until reopened", self.directory, reason)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
        except OSError as exc:
            self._fail(f"write to {self._segments[-1].path} failed: {exc}")
            raise StorageError(self._failed) from exc
        self._size += len(data)
        self._unsynced = True

    def _roll(self) -> None:
        """Close the full segment (durably: only the last segment may ever be torn) and start the next."""
        self.sync()
        os.close(self._fd)
        self._fd = -1
        try:
            self._start_segment(self._segments[-1].seq + 1)
        except OSError as exc:
            self._fail(f"starting a new WAL segment failed: {exc}")
            raise StorageError(self._failed) from exc

    def _write_snapshot_file(self, snap: Snapshot) -> None:
        """Write the snapshot durably and atomically (temp, fsync, rename, fsync dir); drop older files."""
        index = snap.metadata.index
        path = os.path.join(self.directory, snapfile.file_name(index))
        tmp = path + ".tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                view = memoryview(snapfile.encode(snap))
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
            _fsync_dir(self.directory)
        except OSError as exc:
            self._fail(f"writing snapshot file {path} failed: {exc}")
            raise StorageError(self._failed) from exc
        for old in self._snap_indexes:
            if old < index:
                try:
                    os.unlink(os.path.join(self.directory, snapfile.file_name(old)))
                except FileNotFoundError:
                    pass
        self._snap_indexes = [index]
