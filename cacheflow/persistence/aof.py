"""The AOF writer: effects in, frames to the current incremental file, fsync by policy.

It subscribes to the engine's effect stream.  Each effect becomes one frame
(persistence/frames.py); a ``SELECT`` frame comes first whenever the database
changes (and at the start of every file), and a batch of several effects from
one command is wrapped in ``MULTI``/``EXEC`` frames so it loads all or nothing,
as Redis 7 propagates such batches.  A transaction over several databases
comes as batches flagged ``more`` (engine/effects.py): one ``MULTI`` before the
first, a ``SELECT`` inside wherever the database changes, one ``EXEC`` after
the last, as Redis writes it.

Frames collect in a buffer during an event-loop turn and are written with one
``write`` at the end of the turn, as Redis writes its AOF buffer in
beforeSleep.  While frames wait, replies wait too (the server's reply gate
calls ``gate``, which holds them): they leave only after the write, so a reply
is never seen before its write is in the file, and a killed process loses no
acknowledged write whatever the fsync policy.  Writing once per turn rather
than once per reply measured about twice the throughput with 50 clients.

fsync policies:
- ``always``: the end-of-turn write is followed by an fsync on the loop
  thread, as Redis does in beforeSleep, and only then do the turn's replies
  leave.  Every write of the turn shares that one fsync (group commit): with
  50 clients at -P 1, a turn holds the requests of every client whose reply
  went out during the previous fsync.  A reply produced after an unsynced
  write waits behind it (a reader must not see data that a crash could still
  lose), in order, so one client's replies stay ordered.
  Why not a background fsync thread, as this writer first had: the loop kept
  serving during the fsync, but the clients split into two cohorts that
  alternated fsyncs (half the group each), and every fsync cost two thread
  hand-offs through the GIL on the loop's core.  Measured with 50 clients at
  -P 1: 0.63x Redis's SET rate with the thread, 0.99x inline (same run).
- ``everysec``: a background thread fsyncs at most once a second, never on
  the event loop.  As Redis: while an fsync is still running, writing the
  buffer is postponed, for up to 2 seconds; after that it is written anyway
  and ``aof_delayed_fsync`` counts it.
- ``no``: the kernel decides.

``no-appendfsync-on-rewrite yes``: while a child process writes a base or a
snapshot, no fsync is done at all (``fsync_paused`` says when), as Redis
skips it to keep the disk free for the child; under ``always`` a write then
counts as synced once written, so replies are not held.  Whatever was left
unsynced is covered by the next fsync after the child is gone (under
``always``, the next write's, as in Redis).

"fsync" here is ``fdatasync``, as Redis's AOF uses on Linux: it flushes the
data and the metadata needed to read it back (the file's size), and skips
the rest (times).

Invariants: ``written`` and ``synced`` are byte counts over the writer's whole
life (all files), written only by the loop thread; the everysec thread reports
the offset it covered through ``call_soon_threadsafe``.  Under ``always``,
``synced == written`` at the end of every flush.  The file descriptor is
swapped only while no fsync runs, after a synchronous fsync of the old file, so
``synced == written`` across a swap.
"""

import asyncio
import collections
import logging
import os
import time
from collections.abc import Callable
from typing import Any, Final

from cacheflow.persistence.frames import encode_frame
from cacheflow.persistence.fsync_thread import FsyncThread

log = logging.getLogger("cacheflow")

ALWAYS: Final = "always"
EVERYSEC: Final = "everysec"
NO: Final = "no"
_POSTPONE_LIMIT: Final = 2.0  # seconds an everysec write may wait for a running fsync (Redis: 2 s)
_RETRY_DELAY: Final = 0.01
_MULTI: Final = encode_frame([b"MULTI"])
_EXEC: Final = encode_frame([b"EXEC"])

# Called with the gate function when replies must pass through it, None when they need not.
GateSetter = Callable[[Callable[[Any, bytes], bool] | None], None]


class AofWriteError(Exception):
    pass


class AofWriter:
    def __init__(self, loop: asyncio.AbstractEventLoop, policy: str, set_gate: GateSetter) -> None:
        self.loop = loop
        self.policy = policy
        self._set_gate = set_gate
        self.fd = -1
        self.path = ""
        self.buf: list[bytes] = []
        self.buf_bytes = 0
        self.db = -1
        # Inside a MULTI opened for a batch flagged ``more``: the EXEC waits for the unit's last batch.
        self._in_unit = False
        self.written = 0
        self.synced = 0
        self.file_size = 0  # bytes in the current incremental file
        self.held: collections.deque[tuple[Any, bytes, int]] = collections.deque()
        self._gate_on = False
        self._flush_scheduled = False
        self._retry: asyncio.TimerHandle | None = None
        self.postponed_since = 0.0
        self.delayed_fsync = 0
        self.last_write_ok = True
        self.last_error = ""
        # The background fsync's status (Redis's aof_bio_fsync_status), with its error text.
        self.fsync_ok = True
        self.fsync_error = ""
        # Called whenever write_status() changes (the server refuses writes with -MISCONF meanwhile).
        self.on_status_change: Callable[[], None] = _nothing
        # The everysec policy's background fsync (None under always and no).
        self.syncer: FsyncThread | None = None
        self.fsyncs = 0  # fsyncs done on the loop thread under always (one per turn that wrote)
        self.on_error_exit: Callable[[str], None] = _exit_now
        # True while fsyncs must be skipped (no-appendfsync-on-rewrite with a child running).
        self.fsync_paused: Callable[[], bool] = _never

    # -- files -------------------------------------------------------------------------

    def open(self, path: str) -> None:
        """Append to ``path`` from now on (the previous file, if any, is flushed, fsynced and closed)."""
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if self.fd >= 0:
            self.flush(force=True)
            self._swap(fd)
        else:
            self.fd = fd
        self.path = path
        self.file_size = os.fstat(fd).st_size
        self.db = -1  # every file starts with a SELECT
        self._run_syncer(self.policy == EVERYSEC)

    def _swap(self, fd: int) -> None:
        old = self.fd
        if self.syncer is not None:
            with self.syncer.quiesce():
                _fsync_quietly(old)
                os.close(old)
                self.fd = fd
                self.syncer.done = self.written
        else:
            _fsync_quietly(old)
            os.close(old)
            self.fd = fd
        self.synced_to(self.written, None)

    def close(self) -> None:
        """Flush and fsync everything, release held replies, stop the thread (shutdown, appendonly no)."""
        if self.fd < 0:
            return
        self.flush(force=True)
        if self.syncer is not None:
            self.syncer.stop()
            self.syncer = None
        _fsync_quietly(self.fd)
        os.close(self.fd)
        self.fd = -1
        self.synced_to(self.written, None)
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None

    def set_policy(self, policy: str) -> None:
        if policy == self.policy:
            return
        self.flush(force=True)
        self.policy = policy
        self._run_syncer(policy == EVERYSEC and self.fd >= 0)
        if policy == ALWAYS:
            self.sync_now()  # what was written under the old policy is synced before always promises it
        elif policy == NO:
            self.synced_to(self.written, None)

    def _run_syncer(self, wanted: bool) -> None:
        """Start or stop the everysec thread."""
        if wanted and self.syncer is None:
            self.syncer = FsyncThread(self)
            self.syncer.start()
        elif not wanted and self.syncer is not None:
            self.syncer.stop()
            self.syncer = None

    # -- the effect stream -----------------------------------------------------------------

    def feed(self, db_index: int, effects: list[list[bytes]], more: bool = False) -> None:
        buf = self.buf
        before = len(buf)
        if db_index != self.db:
            buf.append(encode_frame([b"SELECT", b"%d" % db_index]))
            self.db = db_index
        if self._in_unit:
            for argv in effects:
                buf.append(encode_frame(argv))
            if not more:
                buf.append(_EXEC)
                self._in_unit = False
        elif len(effects) == 1 and not more:
            buf.append(encode_frame(effects[0]))
        else:
            buf.append(_MULTI)
            for argv in effects:
                buf.append(encode_frame(argv))
            if more:
                self._in_unit = True
            else:
                buf.append(_EXEC)
        for i in range(before, len(buf)):
            self.buf_bytes += len(buf[i])
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._end_of_turn)
        if not self._gate_on:
            self._gate_on = True
            self._set_gate(self.gate)

    def _end_of_turn(self) -> None:
        """Write this turn's frames, then let the replies that waited for the write go."""
        self._flush_scheduled = False
        self.flush()
        self._release()

    # -- writing -------------------------------------------------------------------------

    def flush(self, force: bool = False) -> None:
        """Write the buffer (everysec may postpone it while an fsync runs, as Redis does)."""
        if not self.buf or self.fd < 0:
            return
        if not force and self.policy == EVERYSEC and self.syncer is not None and self.syncer.in_progress:
            now = time.monotonic()
            if not self.postponed_since:
                self.postponed_since = now
                self._schedule_retry()
                return
            if now - self.postponed_since < _POSTPONE_LIMIT:
                self._schedule_retry()
                return
            self.delayed_fsync += 1
            log.warning(
                "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer "
                "without waiting for fsync to complete, this may slow down Redis."
            )
        self.postponed_since = 0.0
        data = self.buf[0] if len(self.buf) == 1 else b"".join(self.buf)
        self.buf = []
        self.buf_bytes = 0
        try:
            _write_all(self.fd, data)
        except OSError as e:
            self._write_failed(data, e)
            return
        if not self.last_write_ok:
            log.warning("AOF write error looks solved, Redis can write again.")
            self.last_write_ok = True
            self.last_error = ""
            self.on_status_change()
        self.written += len(data)
        self.file_size += len(data)
        if self.policy == ALWAYS:
            if self.fsync_paused():
                # Redis answers without the fsync while a child runs: the write counts as synced.
                self.synced = self.written
            else:
                self._fsync_here()

    def _fsync_here(self) -> None:
        """always: fsync on the loop thread; every write of the turn shares it (the module docstring says why)."""
        error: OSError | None = None
        try:
            os.fdatasync(self.fd)
        except OSError as e:
            error = e
        else:
            self.fsyncs += 1
        self.synced_to(self.written, error)

    def _write_failed(self, data: bytes, e: OSError) -> None:
        """As Redis: under ``always`` a failed write is fatal; otherwise keep the data and retry."""
        # Drop a partial write so the file never holds half a frame followed by a retry.
        try:
            os.ftruncate(self.fd, self.file_size)
        except OSError:
            pass
        self.last_error = e.strerror or str(e)
        if self.policy == ALWAYS:
            log.warning("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...")
            self.on_error_exit(self.last_error)
            return
        if self.last_write_ok:
            log.warning("Error writing to the AOF file: %s", self.last_error)
            self.last_write_ok = False
            self.on_status_change()
        self.buf.insert(0, data)
        self.buf_bytes += len(data)
        self._schedule_retry(1.0)

    def _schedule_retry(self, delay: float = _RETRY_DELAY) -> None:
        if self._retry is None:
            self._retry = self.loop.call_later(delay, self._retry_now)

    def _retry_now(self) -> None:
        self._retry = None
        self.flush()
        self._release()

    # -- replies ---------------------------------------------------------------------------

    def gate(self, conn: Any, payload: bytes) -> bool:
        """Called before a reply goes out while the gate is on; True when the reply is held.

        A held reply carries the offset its preceding writes end at: under
        ``always`` it leaves once an fsync covers that offset, otherwise once
        the turn's write is done (or postponed, as Redis sends replies while an
        everysec write waits for a running fsync).
        """
        if conn.ctx.close_after_reply:
            # The connection closes right after this reply (QUIT): write (and, always, sync) now so it can go out.
            self.flush(force=True)
            self._release(everything=True)
            return False
        if not self.buf and not self.held and (self.policy != ALWAYS or self.synced >= self.written):
            self._update_gate()
            return False
        self.held.append((conn, payload, self.written + self.buf_bytes))
        if not self._flush_scheduled and self.policy != ALWAYS:
            self._flush_scheduled = True
            self.loop.call_soon(self._end_of_turn)
        return True

    def sync_now(self) -> None:
        """fsync on the loop thread (shutdown, a closing client, before a file swap)."""
        if self.fd < 0:
            return
        if self.syncer is not None:
            with self.syncer.quiesce():
                _fsync_quietly(self.fd)
                self.syncer.done = self.written
        else:
            _fsync_quietly(self.fd)
        self.synced_to(self.written, None)

    def synced_to(self, offset: int, error: OSError | None) -> None:
        """The fsync thread covered ``offset``: release the replies waiting for it."""
        if error is not None:
            self.last_error = error.strerror or str(error)
            if self.policy == ALWAYS:
                log.warning(
                    "Can't persist AOF for fsync error when the AOF fsync policy is 'always': %s. Exiting...",
                    self.last_error,
                )
                self.on_error_exit(self.last_error)
                return
            log.warning("Error syncing the AOF file: %s", self.last_error)
            self.fsync_error = self.last_error
            if self.fsync_ok:
                self.fsync_ok = False
                self.on_status_change()
            return
        if not self.fsync_ok:
            self.fsync_ok = True
            self.fsync_error = ""
            self.on_status_change()
        if offset > self.synced:
            self.synced = offset
        self._release()

    def _release(self, everything: bool = False) -> None:
        """Send the held replies whose writes are done (always: fsynced; otherwise: written or postponed)."""
        held = self.held
        if self.policy == ALWAYS and not everything:
            limit = self.synced
        else:
            limit = 1 << 62  # everything in this turn has been written (or its write postponed)
        while held and held[0][2] <= limit:
            conn, payload, _ = held.popleft()
            transport = conn.transport
            if transport is not None and not transport.is_closing():
                transport.write(payload)
        self._update_gate()

    def _update_gate(self) -> None:
        idle = not self.buf and not self.held and (self.policy != ALWAYS or self.synced >= self.written)
        if idle and self._gate_on:
            self._gate_on = False
            self._set_gate(None)
        elif not idle and not self._gate_on:
            self._gate_on = True
            self._set_gate(self.gate)

    # -- INFO ------------------------------------------------------------------------------

    def write_error(self) -> str | None:
        """Why writes must be refused (Redis's DISK_ERROR_TYPE_AOF): the failed write's or fsync's error text."""
        if not self.last_write_ok:
            return self.last_error
        if not self.fsync_ok:
            return self.fsync_error
        return None

    def pending_fsync(self) -> int:
        s = self.syncer
        return 1 if s is not None and s.in_progress else 0

    def buffer_length(self) -> int:
        return sum(len(b) for b in self.buf)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _fsync_quietly(fd: int) -> None:
    try:
        os.fdatasync(fd)
    except OSError as e:
        log.warning("fsync of the AOF failed: %s", e.strerror or e)


def _never() -> bool:
    return False


def _nothing() -> None:
    pass


def _exit_now(reason: str) -> None:
    logging.shutdown()
    os._exit(1)
