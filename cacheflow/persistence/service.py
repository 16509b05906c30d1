"""Durability as the server sees it: start-up loading, the AOF's life cycle, rewrites and INFO.

The server owns one ``Durability``.  It loads the AOF at start (a generator, so
the server keeps answering ``-LOADING`` between chunks), opens or creates the
multi-part AOF (manifest, base, incremental file, as Redis 7 names them),
switches the AOF on and off for CONFIG SET, runs BGREWRITEAOF and the automatic
rewrite, and reports INFO persistence's AOF fields.

Rewrite (Redis 7's design, no rewrite buffer): at its start the writer moves
on to a new incremental file, which the manifest lists at once; the keyspace
is written to a temporary base by a forked child (``gc.freeze()`` first, so
the child's pages stay shared); when the child succeeds the temporary base
becomes the next base, and the manifest is replaced (base + the incremental
opened at the start), then the superseded files are deleted.  The parent keeps
serving writes all along.  While turning the AOF on (``CONFIG SET appendonly
yes``) the new writes go to a temporary incremental file that is renamed into
place when the first base is complete, as Redis's AOF_WAIT_REWRITE.

Invariants: the manifest on disk always names files that exist and are
complete; state is ``off``, ``wait_rewrite`` or ``on``; at most one child.
"""

import asyncio
import gc
import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

from cacheflow.commands.context import Context
from cacheflow.config.schema import Config
from cacheflow.engine.engine import Engine
from cacheflow.persistence import manifest as mf
from cacheflow.persistence import recovery
from cacheflow.persistence.aof import AofWriter, GateSetter
from cacheflow.persistence.rewrite import write_base
from cacheflow.persistence.snapshots import private_dirty, sleep_key_save_delay
from cacheflow.store.keyspace import Keyspace

log = logging.getLogger("cacheflow")

OFF = "off"
ON = "on"
WAIT_REWRITE = "wait_rewrite"
_RETRY_FAILED_REWRITE = 5.0  # seconds, as Redis's AOF_WAIT_REWRITE retry


class RewriteError(Exception):
    pass


class Durability:
    def __init__(
        self,
        config: Config,
        keyspace: Keyspace,
        engine: Engine,
        make_context: Callable[[], Context],
        set_gate: GateSetter,
    ) -> None:
        self.config = config
        self.keyspace = keyspace
        self.engine = engine
        self.make_context = make_context
        self.set_gate = set_gate
        self.loop: asyncio.AbstractEventLoop | None = None
        self.writer: AofWriter | None = None
        self.manifest: mf.Manifest | None = None
        self.state = OFF
        self.loading = False
        self.load_state = recovery.LoadState()
        self.child_pid = 0
        self.child_started = 0.0
        self.child_tmp = ""
        self.child_rdb = True
        # The rewrite child's copy-on-write (Private_Dirty), sampled by cron from /proc at most once a
        # second (a read costs ~4 ms on a 250 MB process); the last sample becomes aof_last_cow_size.
        self.child_cow = 0
        self.child_cow_peak = 0
        self.child_cow_at = 0.0
        self.last_cow_size = 0
        self.rewrite_scheduled = False
        self.last_rewrite_secs = -1
        self.last_rewrite_ok = True
        self.rewrites = 0
        self.consecutive_failures = 0
        self.base_size = 0  # aof_base_size: the AOF's size right after the last rewrite
        self._failed_at = 0.0
        self._tmp_incr = ""
        # The server sets this to say whether another child (BGSAVE's) runs, for no-appendfsync-on-rewrite.
        self.other_child_active: Callable[[], bool] = _no_child
        # The server sets this to re-check its -MISCONF gate when disk_error() may have changed.
        self.on_disk_status_change: Callable[[], None] = _nothing

    # -- names -----------------------------------------------------------------------------

    @property
    def directory(self) -> str:
        return os.path.join(self.config.dir or os.getcwd(), self.config.appenddirname)

    @property
    def prefix(self) -> str:
        return str(self.config.appendfilename)

    def _path(self, name: str) -> str:
        return os.path.join(self.directory, name)

    # -- start-up ---------------------------------------------------------------------------

    def load_on_start(self) -> Iterator[None]:
        """Load the AOF if appendonly is on and a manifest exists; raises LoadError / ManifestError."""
        if not self.config.appendonly:
            return
        try:
            self.manifest = mf.load(self.directory, self.prefix)
            if self.manifest is None:
                self.manifest = self._upgrade_single_file()
        except mf.ManifestError as e:
            raise recovery.LoadError(self._path(mf.manifest_name(self.prefix)), 0, str(e)) from None
        except OSError as e:
            raise recovery.LoadError(self.directory, 0, f"Can't move the old AOF into the AOF directory: {e}") from None
        if self.manifest is None or not self.manifest.files():
            return
        self.loading = True
        try:
            replay = recovery.Replayer(self.engine, self.make_context())
            loader = recovery.rdb_base_loader(self.keyspace, self.config)
            yield from recovery.load(
                self.directory, self.manifest, replay, bool(self.config.aof_load_truncated), self.load_state, loader
            )
        finally:
            self.loading = False

    def _upgrade_single_file(self) -> mf.Manifest | None:
        """A pre-7 Redis AOF (one ``appendonly.aof`` in ``dir``, no AOF directory) becomes the base of a
        new manifest, as Redis 7 upgrades it: make the directory, persist the manifest naming the file
        as base, then move the file in (a crash in between leaves a manifest whose base is missing,
        which refuses to start rather than load nothing)."""
        old = os.path.join(self.config.dir or os.getcwd(), self.prefix)
        if not os.path.isfile(old):
            return None
        os.makedirs(self.directory, exist_ok=True)
        m = mf.Manifest()
        m.base = mf.AofFile(self.prefix, 1, mf.BASE)
        mf.persist(self.directory, self.prefix, m)
        os.rename(old, self._path(self.prefix))
        mf.fsync_dir(self.directory)
        log.info("Successfully migrated an old-style AOF into the AOF directory")
        return m

    def open_on_start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Open the AOF for appending (creating base and incremental files as Redis does)."""
        self.loop = loop
        if not self.config.appendonly:
            return
        os.makedirs(self.directory, exist_ok=True)
        m = self.manifest or mf.Manifest()
        changed = False
        if m.base is None and not m.incrs:
            rdb = bool(self.config.aof_use_rdb_preamble)
            name = mf.base_name(self.prefix, m.base_seq + 1, rdb=rdb)
            write_base(self.keyspace, self._path(name), self.keyspace.clock.now_ms(), self.config, rdb)
            m.base = mf.AofFile(name, m.base_seq + 1, mf.BASE)
            log.info("Creating AOF base file %s on server start", name)
            changed = True
        if not m.incrs:
            name = mf.incr_name(self.prefix, m.incr_seq + 1)
            m.incrs.append(mf.AofFile(name, m.incr_seq + 1, mf.INCR))
            log.info("Creating AOF incr file %s on server start", name)
            changed = True
        self.manifest = m
        writer = self._new_writer()
        writer.open(self._path(m.incrs[-1].name))
        if changed:
            mf.persist(self.directory, self.prefix, m)
        self.state = ON
        self.base_size = self.current_size()
        self.engine.effects.subscribe(writer.feed)

    def _new_writer(self) -> AofWriter:
        assert self.loop is not None
        self.writer = AofWriter(self.loop, str(self.config.appendfsync), self.set_gate)
        self.writer.fsync_paused = self.fsync_paused
        self.writer.on_status_change = self._status_changed
        return self.writer

    def _status_changed(self) -> None:
        self.on_disk_status_change()

    def disk_error(self) -> str | None:
        """The -MISCONF text while writes must be refused for the AOF (Redis's writeCommandsDeniedByDiskError).

        Redis 7.0 refuses writes (and PING, and EXEC of queued writes) while the AOF
        is on and its last write failed, or its last background fsync failed:
        ``MISCONF Errors writing to the AOF file: <strerror>``.  None when writes
        are allowed.  The RDB condition (stop-writes-on-bgsave-error) is checked first
        by the caller, as Redis does.
        """
        if self.state == OFF or self.writer is None:
            return None
        error = self.writer.write_error()
        if error is None:
            return None
        return f"MISCONF Errors writing to the AOF file: {error}"

    def fsync_paused(self) -> bool:
        """no-appendfsync-on-rewrite: skip fsyncs while a child (rewrite or snapshot) runs.

        Read by the fsync thread too: it only reads plain attributes.
        """
        return bool(self.config.no_appendfsync_on_rewrite) and bool(self.child_pid or self.other_child_active())

    # -- shutdown -----------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Flush and fsync the AOF; stop a running rewrite (its temporary file is removed)."""
        self._kill_child()
        if self.writer is not None:
            if self.state == ON:
                log.info("Calling fsync() on the AOF file.")
            self.writer.close()

    # -- CONFIG SET -------------------------------------------------------------------------

    def set_appendonly(self, on: bool) -> None:
        if on and self.state == OFF:
            self._start_aof()
        elif not on and self.state != OFF:
            self._stop_aof()

    def set_fsync(self, policy: str) -> None:
        if self.writer is not None:
            self.writer.set_policy(policy)

    def _start_aof(self) -> None:
        """As Redis's startAppendOnly: the AOF starts with a rewrite; writes meanwhile go to a temporary incr."""
        self._kill_child()
        self.state = WAIT_REWRITE
        try:
            self.start_rewrite()
        except RewriteError as e:
            log.warning("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation: %s", e)
            self.rewrite_scheduled = True

    def _stop_aof(self) -> None:
        self._kill_child()
        writer = self.writer
        if writer is not None:
            self.engine.effects.unsubscribe(writer.feed)
            writer.close()
            self.writer = None
        if self._tmp_incr:
            _unlink(self._tmp_incr)
            self._tmp_incr = ""
        self.state = OFF
        self.rewrite_scheduled = False
        log.info("Background append only file rewriting stopped" if self.child_pid else "AOF turned off")

    # -- rewrite ------------------------------------------------------------------------------

    def bgrewriteaof(self) -> str:
        """BGREWRITEAOF's reply text; raises RewriteError with the error text."""
        if self.child_pid:
            raise RewriteError("ERR Background append only file rewriting already in progress")
        try:
            self.start_rewrite()
        except RewriteError as e:
            raise RewriteError(
                f"ERR Can't execute an AOF background rewriting. Please check the server logs for more information. ({e})"
            ) from None
        return "Background append only file rewriting started"

    def start_rewrite(self) -> None:
        if self.child_pid:
            raise RewriteError("a rewrite is already in progress")
        try:
            os.makedirs(self.directory, exist_ok=True)
            if self.state == WAIT_REWRITE:
                if self.writer is None:
                    self._new_writer()
                    assert self.writer is not None
                    self.engine.effects.subscribe(self.writer.feed)
                self._tmp_incr = self._path(f"temp-{self.prefix}.incr")
                if self.writer.fd < 0:
                    _unlink(self._tmp_incr)
                self.writer.open(self._tmp_incr)
            elif self.state == ON:
                assert self.writer is not None and self.manifest is not None
                m = self.manifest
                name = mf.incr_name(self.prefix, m.incr_seq + 1)
                self.writer.open(self._path(name))
                m.incrs.append(mf.AofFile(name, m.incr_seq + 1, mf.INCR))
                mf.persist(self.directory, self.prefix, m)
        except OSError as e:
            raise RewriteError(e.strerror or str(e)) from None
        self.child_tmp = self._path(f"temp-rewriteaof-bg-{os.getpid()}.aof")
        # Chosen once, at the fork: the base is named after what the child actually writes.
        self.child_rdb = bool(self.config.aof_use_rdb_preamble)
        now_ms = self.keyspace.clock.now_ms()
        gc.freeze()
        try:
            pid = os.fork()
        except OSError as e:
            gc.unfreeze()
            raise RewriteError(f"Can't rewrite append only file in background: fork: {e.strerror}") from None
        if pid == 0:
            _child(self.keyspace, self.child_tmp, now_ms, self.config, self.child_rdb)
        gc.unfreeze()
        self.child_pid = pid
        self.child_started = time.monotonic()
        self.child_cow = self.child_cow_peak = 0
        self.child_cow_at = 0.0
        self.rewrite_scheduled = False
        log.info("Background append only file rewriting started by pid %d", pid)

    def _kill_child(self) -> None:
        if not self.child_pid:
            return
        try:
            os.kill(self.child_pid, signal.SIGKILL)
            os.waitpid(self.child_pid, 0)
        except OSError:
            pass
        log.info("Killing running AOF rewrite child: %d", self.child_pid)
        self.child_pid = 0
        _unlink(self.child_tmp)

    def cron(self) -> None:
        """Reap the rewrite child, retry a scheduled rewrite, start an automatic one when the AOF grew."""
        if self.child_pid:
            try:
                pid, status = os.waitpid(self.child_pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = self.child_pid, 1 << 8
            if pid:
                self._rewrite_done(os.waitstatus_to_exitcode(status) == 0)
            elif time.monotonic() - self.child_cow_at >= 1.0:
                self._sample_child_cow()
            return
        if self.rewrite_scheduled:
            if time.monotonic() - self._failed_at >= _RETRY_FAILED_REWRITE or not self._failed_at:
                try:
                    self.start_rewrite()
                except RewriteError as e:
                    self._failed_at = time.monotonic()
                    log.warning("Background AOF rewrite could not start: %s", e)
            return
        if self.state == ON and self.config.auto_aof_rewrite_percentage:
            size = self.current_size()
            if size > self.config.auto_aof_rewrite_min_size:
                base = self.base_size or 1
                growth = size * 100 // base - 100
                if growth >= self.config.auto_aof_rewrite_percentage:
                    log.info("Starting automatic rewriting of AOF on %d%% growth", growth)
                    try:
                        self.start_rewrite()
                    except RewriteError as e:
                        log.warning("Automatic AOF rewrite could not start: %s", e)

    def _sample_child_cow(self) -> None:
        cow = private_dirty(self.child_pid)
        if cow:
            self.child_cow = cow
            self.child_cow_peak = max(self.child_cow_peak, cow)
            self.child_cow_at = time.monotonic()

    def child_cow_fields(self) -> dict[str, int]:
        """INFO's current_cow_* while the rewrite child runs (BGSAVE's child reports its own)."""
        age = int(time.monotonic() - self.child_cow_at) if self.child_cow_at else 0
        return {
            "current_cow_peak": self.child_cow_peak,
            "current_cow_size": self.child_cow,
            "current_cow_size_age": age,
        }

    def _rewrite_done(self, ok: bool) -> None:
        elapsed = time.monotonic() - self.child_started
        self.child_pid = 0
        if ok:
            self.last_cow_size = self.child_cow
        if not ok:
            log.warning("Background AOF rewrite terminated with error")
            _unlink(self.child_tmp)
            self.last_rewrite_ok = False
            self.consecutive_failures += 1
            self._failed_at = time.monotonic()
            if self.state == WAIT_REWRITE:
                self.rewrite_scheduled = True
            return
        try:
            self._install_rewrite()
        except OSError as e:
            log.warning("Error installing the rewritten AOF: %s", e.strerror or e)
            _unlink(self.child_tmp)
            self.last_rewrite_ok = False
            self.consecutive_failures += 1
            self._failed_at = time.monotonic()
            if self.state == WAIT_REWRITE:
                self.rewrite_scheduled = True
            return
        self.last_rewrite_ok = True
        self.consecutive_failures = 0
        self.rewrites += 1
        self.last_rewrite_secs = int(elapsed)
        self.base_size = self.current_size()
        log.info("Background AOF rewrite terminated with success")
        log.info("Background AOF rewrite finished successfully")

    def _install_rewrite(self) -> None:
        old = self.manifest or mf.Manifest()
        new = mf.Manifest()
        base = mf.base_name(self.prefix, old.base_seq + 1, rdb=self.child_rdb)
        os.rename(self.child_tmp, self._path(base))
        new.base = mf.AofFile(base, old.base_seq + 1, mf.BASE)
        history = ([old.base] if old.base is not None else []) + list(old.incrs) + list(old.history)
        if self.state == WAIT_REWRITE:
            assert self.writer is not None
            incr = mf.incr_name(self.prefix, old.incr_seq + 1)
            os.rename(self._tmp_incr, self._path(incr))
            self.writer.path = self._path(incr)
            self._tmp_incr = ""
            new.incrs.append(mf.AofFile(incr, old.incr_seq + 1, mf.INCR))
            self.state = ON
            log.info("AOF enabled: the first rewrite is complete")
        elif self.state == ON:
            current = old.incrs[-1]
            history.remove(current)
            new.incrs.append(current)
        for f in history:
            new.history.append(mf.AofFile(f.name, f.seq, mf.HISTORY))
        mf.persist(self.directory, self.prefix, new)
        for f in new.history:
            _unlink(self._path(f.name))
        new.history = []
        mf.persist(self.directory, self.prefix, new)
        self.manifest = new

    # -- INFO -------------------------------------------------------------------------------

    def current_size(self) -> int:
        total = 0
        m = self.manifest
        if m is None:
            return 0
        for f in m.files():
            try:
                total += os.path.getsize(self._path(f.name))
            except OSError:
                pass
        return total

    def info_fields(self) -> dict[str, Any]:
        """INFO persistence's loading and AOF fields, in Redis's order (merged by the server)."""
        fields: dict[str, Any] = {"loading": 1 if self.loading else 0}
        loading: dict[str, Any] = {}
        if self.loading:
            st = self.load_state
            elapsed = max(0.0, time.time() - st.start_time)
            perc = 100.0 * st.loaded_bytes / st.total_bytes if st.total_bytes else 0.0
            rate = st.loaded_bytes / elapsed if elapsed > 0 else 0.0
            eta = int((st.total_bytes - st.loaded_bytes) / rate) if rate > 0 else 1
            loading = {
                "loading_start_time": int(st.start_time),
                "loading_total_bytes": st.total_bytes,
                "loading_rdb_used_mem": 0,
                "loading_loaded_bytes": st.loaded_bytes,
                "loading_loaded_perc": f"{perc:.2f}",
                "loading_eta_seconds": eta,
            }
        aof: dict[str, Any] = {
            "aof_enabled": 0 if self.state == OFF else 1,
            "aof_rewrite_in_progress": 1 if self.child_pid else 0,
            "aof_rewrite_scheduled": 1 if self.rewrite_scheduled else 0,
            "aof_last_rewrite_time_sec": self.last_rewrite_secs,
            "aof_current_rewrite_time_sec": int(time.monotonic() - self.child_started) if self.child_pid else -1,
            "aof_last_bgrewrite_status": "ok" if self.last_rewrite_ok else "err",
            "aof_rewrites": self.rewrites,
            "aof_rewrites_consecutive_failures": self.consecutive_failures,
            # As Redis 7.0: "err" after a failed write or a failed background fsync.
            "aof_last_write_status": "ok" if self.writer is None or self.writer.write_error() is None else "err",
            "aof_last_cow_size": self.last_cow_size,
        }
        extra: dict[str, Any] = {}
        if self.state != OFF and self.writer is not None:
            w = self.writer
            extra = {
                "aof_current_size": self.current_size(),
                "aof_base_size": self.base_size,
                "aof_pending_rewrite": 1 if self.rewrite_scheduled else 0,
                "aof_buffer_length": w.buffer_length(),
                "aof_pending_bio_fsync": w.pending_fsync(),
                "aof_delayed_fsync": w.delayed_fsync,
            }
        return {"fields": fields, "loading": loading, "aof": aof, "extra": extra}


def _child(keyspace: Keyspace, path: str, now_ms: int, config: Config, rdb: bool) -> None:
    """The rewrite child: write the base and exit, touching nothing of the parent's loop or threads."""
    code = 1
    try:
        gc.disable()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        try:
            signal.set_wakeup_fd(-1)
        except (ValueError, OSError):
            pass
        sleep_key_save_delay(keyspace, int(config.rdb_key_save_delay))  # Redis's rewrite honours it too
        write_base(keyspace, path, now_ms, config, rdb)
        code = 0
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _no_child() -> bool:
    return False


def _nothing() -> None:
    pass


def _unlink(path: str) -> None:
    if not path:
        return
    try:
        os.unlink(path)
    except OSError:
        pass
