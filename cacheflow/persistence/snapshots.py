"""RDB snapshots as the server runs them: SAVE, BGSAVE, save points, loading at start, INFO's rdb_* fields.

The file format is ``cacheflow.rdb.snapshot``'s; this module decides when a
snapshot is taken, where it goes and what the server reports about it, the
way Redis 7.0's rdb.c and serverCron do.

Writing is always temp-then-rename, so ``dump.rdb`` is at every moment either
the previous complete snapshot or the new complete one: the bytes go to
``temp-<pid>.rdb`` (the writer's pid), which is flushed, fsynced, renamed over
the final name, and the directory fsynced.

BGSAVE forks.  The child inherits the keyspace as it is at the fork, writes it
with ``write_snapshot`` and leaves with ``os._exit`` (no atexit handlers, no
event loop).  The parent freezes the garbage collector's generations just
before forking and keeps them frozen until the child is reaped: a collection
in the parent would otherwise write the GC header of every live object and so
copy every page the child still shares.  (The child's own reference-count
writes still copy the pages it reads; that copy-on-write is what
``rdb_last_cow_size`` reports, measured from the child's
``/proc/self/smaps_rollup`` just before it exits, as Redis measures it.)  The
child sends its figures back through a pipe; the server's cron reaps it
without blocking (``waitpid(WNOHANG)``).

Invariants: at most one snapshot child, and never while another child (the
AOF rewrite) runs: ``other_child`` tells.  ``engine.effects.dirty`` is the
number of changes since the last successful save: a successful BGSAVE
subtracts the changes counted at its fork, SAVE resets it.

Loading at start parses the file in a worker thread (the parser holds the
GIL, but the event loop still gets its turns and answers ``-LOADING``), then
installs the parsed databases from the loop's thread, so nothing else ever
sees a half-loaded keyspace.  A malformed file stops start-up with the byte
offset of the first bad record; nothing is loaded from it.
"""

import asyncio
import gc
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from cacheflow.config.schema import Config
from cacheflow.engine.engine import Engine
from cacheflow.persistence.recovery import LoadError
from cacheflow.rdb.errors import RdbError
from cacheflow.rdb.snapshot import LoadReport, Staged, install_snapshot, parse_snapshot, write_snapshot
from cacheflow.store.keyspace import Keyspace

log = logging.getLogger("cacheflow")

MISCONF = (
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. "
    "Commands that may modify the data set are disabled, because this instance is configured to report "
    "errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). "
    "Please check the Redis logs for details about the RDB error."
)
ALREADY = "ERR Background save already in progress"
ANOTHER_CHILD = (
    "ERR Another child process is active (AOF?): can't BGSAVE right now. "
    "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
)
BGSAVE_RETRY_DELAY = 5  # seconds, Redis's CONFIG_BGSAVE_RETRY_DELAY
_AUTOSYNC_BYTES = 4 * 1024 * 1024  # rdb-save-incremental-fsync: fsync every 4 MB, as Redis
_CHILD_REPORT_SECONDS = 1.0  # how often the child reports its copy-on-write size
_MB = 1024 * 1024
_PROGRESS_LOG_SECONDS = 5.0  # a long load says it is still going this often


class SnapshotError(Exception):
    """A command's error reply text (``ERR ...``)."""


class Snapshots:
    """The server's RDB persistence; one per server."""

    def __init__(
        self,
        config: Config,
        keyspace: Keyspace,
        engine: Engine,
        other_child: Callable[[], bool],
    ) -> None:
        self.config = config
        self.keyspace = keyspace
        self.engine = engine
        self.other_child = other_child
        self.last_save = int(time.time())  # LASTSAVE: the last successful save (start time before any)
        self.last_bgsave_ok = True
        self.last_bgsave_try = 0  # unix seconds of the last BGSAVE attempt
        self.last_bgsave_secs = -1
        self.saves = 0  # rdb_saves: SAVE and BGSAVE attempts
        self.latest_fork_usec = 0  # INFO stats, as Redis: how long the parent was stopped in fork()
        self.total_forks = 0
        self.last_cow_size = 0
        self.scheduled = False
        self.child_pid = 0
        self.child_started = 0.0
        self.child_keys_total = 0
        self.child_cow = 0
        self.child_cow_peak = 0
        self.child_cow_at = 0.0
        self._child_pipe = -1
        self._child_buf = b""
        self._dirty_at_fork = 0
        self._frozen = False
        self.loading = False
        self.load_start = 0.0
        self.load_total_bytes = 0
        self.load_loaded_bytes = 0
        self.last_load_keys_loaded = 0
        self.last_load_keys_expired = 0
        self._flush_subscribed = False
        self._track_flushall()

    # -- names ------------------------------------------------------------------------------

    @property
    def path(self) -> str:
        return os.path.join(self.config.dir or os.getcwd(), str(self.config.dbfilename))

    def writes_denied(self) -> bool:
        """Redis's writeCommandsDeniedByDiskError for RDB: the last BGSAVE failed and save points are set."""
        return not self.last_bgsave_ok and bool(self.config.save) and bool(self.config.stop_writes_on_bgsave_error)

    # -- SAVE ---------------------------------------------------------------------------------

    def save(self) -> bool:
        """Write the snapshot synchronously (SAVE, SHUTDOWN, FLUSHALL, DEBUG RELOAD); False on failure."""
        ok = _save_file(self.keyspace, self.config, self.path, _aux())
        if ok:
            self.engine.effects.dirty = 0
            self.last_save = int(time.time())
            self.last_bgsave_ok = True
        return ok

    def save_command(self) -> None:
        """SAVE; raises SnapshotError with the reply text."""
        if self.child_pid:
            raise SnapshotError(ALREADY)
        self.saves += 1
        if not self.save():
            raise SnapshotError("ERR")

    # -- BGSAVE -------------------------------------------------------------------------------

    def bgsave_command(self, schedule: bool, in_exec: bool) -> str:
        """BGSAVE [SCHEDULE]: the status reply; raises SnapshotError."""
        if self.child_pid:
            raise SnapshotError(ALREADY)
        if self.other_child() or in_exec:
            if schedule or in_exec:
                self.scheduled = True
                return "Background saving scheduled"
            raise SnapshotError(ANOTHER_CHILD)
        if not self.start_bgsave():
            raise SnapshotError("ERR")
        return "Background saving started"

    def start_bgsave(self) -> bool:
        """Fork the snapshot child; False (logged) when the fork fails."""
        if self.child_pid or self.other_child():
            return False
        self.last_bgsave_try = int(time.time())
        self.saves += 1
        self._dirty_at_fork = self.engine.effects.dirty
        keys = sum(len(db.data) for db in self.keyspace.dbs)
        aux = _aux()
        read_fd, write_fd = os.pipe()
        gc.freeze()
        started = time.monotonic()
        try:
            pid = os.fork()
        except OSError as e:
            gc.unfreeze()
            os.close(read_fd)
            os.close(write_fd)
            self.last_bgsave_ok = False
            log.warning("Can't save in background: fork: %s", e.strerror or e)
            return False
        if pid == 0:  # the child never returns
            os.close(read_fd)
            _child_main(self.keyspace, self.config, self.path, aux, write_fd)
        self.latest_fork_usec = int((time.monotonic() - started) * 1_000_000)
        self.total_forks += 1
        os.close(write_fd)
        os.set_blocking(read_fd, False)
        self._frozen = True
        self._child_pipe = read_fd
        self._child_buf = b""
        self.child_pid = pid
        self.child_started = started
        self.child_keys_total = keys
        self.child_cow = self.child_cow_peak = 0
        self.child_cow_at = 0.0
        self.scheduled = False
        log.info("Background saving started by pid %d", pid)
        return True

    def kill_child(self) -> None:
        """Stop a running BGSAVE (SHUTDOWN, FLUSHALL): its temporary file is removed."""
        pid = self.child_pid
        if not pid:
            return
        try:
            os.kill(pid, signal.SIGUSR1)
            os.waitpid(pid, 0)
        except OSError:
            pass
        _unlink(_temp_path(self.path, pid))
        self._child_gone()

    def _child_gone(self) -> None:
        self.child_pid = 0
        if self._child_pipe >= 0:
            self._read_child()
            os.close(self._child_pipe)
            self._child_pipe = -1
        if self._frozen:
            gc.unfreeze()
            self._frozen = False

    # -- cron -------------------------------------------------------------------------------

    def cron(self) -> None:
        """Reap the child; start a scheduled BGSAVE or one a save point asks for (Redis's serverCron)."""
        self._track_flushall()
        if self.child_pid:
            self._read_child()
            try:
                pid, status = os.waitpid(self.child_pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = self.child_pid, 1 << 8
            if pid:
                self._bgsave_done(status)
            return
        if self.other_child():
            return
        now = int(time.time())
        may_retry = now - self.last_bgsave_try > BGSAVE_RETRY_DELAY or self.last_bgsave_ok
        dirty = self.engine.effects.dirty
        for seconds, changes in self.config.save:
            if dirty >= changes and now - self.last_save > seconds and may_retry:
                log.info("%d changes in %d seconds. Saving...", changes, seconds)
                self.start_bgsave()
                return
        if self.scheduled and may_retry:
            self.start_bgsave()

    def _bgsave_done(self, status: int) -> None:
        pid = self.child_pid
        elapsed = time.monotonic() - self.child_started
        self._child_gone()
        code = os.waitstatus_to_exitcode(status)
        self.last_bgsave_secs = int(elapsed)
        if code == 0:
            log.info("Background saving terminated with success")
            dirty = self.engine.effects.dirty - self._dirty_at_fork
            self.engine.effects.dirty = max(0, dirty)
            self.last_save = int(time.time())
            self.last_bgsave_ok = True
            self.last_cow_size = self.child_cow
        elif code < 0:
            log.warning("Background saving terminated by signal %d", -code)
            _unlink(_temp_path(self.path, pid))
            # As Redis: a child killed by SIGUSR1 was stopped on purpose, which is no error.
            if -code != signal.SIGUSR1:
                self.last_bgsave_ok = False
        else:
            log.warning("Background saving error")
            self.last_bgsave_ok = False

    def _read_child(self) -> None:
        """Take the child's reports: ``cow <bytes>`` lines while it writes, ``done <bytes>`` at the end."""
        fd = self._child_pipe
        if fd < 0:
            return
        while True:
            try:
                chunk = os.read(fd, 4096)
            except BlockingIOError:
                break
            except OSError:
                break
            if not chunk:
                break
            self._child_buf += chunk
        *lines, self._child_buf = self._child_buf.split(b"\n")
        for line in lines:
            parts = line.split()
            if len(parts) == 2 and parts[0] in (b"cow", b"done") and parts[1].isdigit():
                cow = int(parts[1])
                self.child_cow = cow
                self.child_cow_peak = max(self.child_cow_peak, cow)
                self.child_cow_at = time.monotonic()

    # -- FLUSHALL -------------------------------------------------------------------------------

    def _track_flushall(self) -> None:
        """Follow the effect stream for FLUSHALL only while save points are set (see _on_effects)."""
        want = bool(self.config.save)
        if want != self._flush_subscribed:
            if want:
                self.engine.effects.subscribe(self._on_effects)
            else:
                self.engine.effects.unsubscribe(self._on_effects)
            self._flush_subscribed = want

    def _on_effects(self, db_index: int, effects: list[list[bytes]], more: bool) -> None:
        """As Redis's FLUSHALL with save points: stop a BGSAVE and save the now empty dataset at once."""
        for argv in effects:
            if argv[0] == b"FLUSHALL":
                self.kill_child()
                self.save()

    # -- SHUTDOWN -------------------------------------------------------------------------------

    def prepare_shutdown(self, save: bool | None, force: bool, loading: bool) -> bool:
        """Redis's prepareForShutdown, RDB part; False when the shutdown must not go on."""
        if self.child_pid:
            log.warning("There is a child saving an .rdb. Killing it!")
            self.kill_child()
        must_save = save if save is not None else bool(self.config.save)
        if loading:
            must_save = False  # never overwrite the file with a half-loaded dataset
        if must_save:
            log.info("Saving the final RDB snapshot before exiting.")
            if not self.save():
                if force:
                    log.warning("Error trying to save the DB. Exit anyway.")
                else:
                    log.warning("Error trying to save the DB, can't exit.")
                    return False
        return True

    # -- loading ----------------------------------------------------------------------------

    async def load_on_start(self) -> None:
        """Load ``dbfilename`` if it exists, letting the loop answer ``-LOADING`` meanwhile; raises LoadError."""
        path = self.path
        try:
            size = os.path.getsize(path)
        except OSError:
            return
        self.loading = True
        self.load_start = time.time()
        self.load_total_bytes = size
        self.load_loaded_bytes = 0
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[tuple[LoadReport, Staged]] = loop.create_future()
        thread = threading.Thread(
            target=self._parse_in_thread, args=(loop, done, path), name="cacheflow-rdb-load", daemon=True
        )
        try:
            thread.start()
            try:
                while True:
                    try:
                        report, staged = await asyncio.wait_for(asyncio.shield(done), _PROGRESS_LOG_SECONDS)
                        break
                    except TimeoutError:
                        log.info(
                            "Loading RDB %s (%d bytes): %.0f seconds so far",
                            os.path.basename(path),
                            size,
                            time.monotonic() - started,
                        )
            except RdbError as e:
                log.warning("Internal error in RDB reading offset %d: %s", e.offset, e.message)
                raise LoadError(path, e.offset, f"Fatal error loading the DB ({e.message}). Exiting.") from None
            except OSError as e:
                raise LoadError(path, 0, f"Fatal error loading the DB: {e.strerror or e}. Exiting.") from None
            finally:
                thread.join()
            install_snapshot(self.keyspace, staged, report)
            self.load_loaded_bytes = size
            self._loaded(report)
            log.info("DB loaded from disk: %.3f seconds", time.monotonic() - started)
        finally:
            self.loading = False

    def _parse_in_thread(
        self, loop: asyncio.AbstractEventLoop, done: "asyncio.Future[tuple[LoadReport, Staged]]", path: str
    ) -> None:
        result: Any
        try:
            with open(path, "rb") as f:
                data = f.read()
            self.load_loaded_bytes = len(data) // 2  # read; parsing is the other half
            # No collections while millions of new objects arrive (none of them is garbage yet):
            # the generational passes over them cost about a tenth of the load.
            was_enabled = gc.isenabled()
            gc.disable()
            try:
                result = parse_snapshot(data, self.config, self.keyspace.clock.now_ms(), len(self.keyspace.dbs))
            finally:
                if was_enabled:
                    gc.enable()
            delay = int(self.config.key_load_delay)
            if delay > 0:  # Redis's key-load-delay (microseconds per key), for tests of -LOADING
                time.sleep(delay * result[0].keys_loaded / 1e6)
        except BaseException as e:  # handed to the loop's thread, which raises it
            loop.call_soon_threadsafe(_settle, done, None, e)
            return
        loop.call_soon_threadsafe(_settle, done, result, None)

    def _loaded(self, report: LoadReport) -> None:
        """Redis's start-up log lines for an RDB, and the rdb_last_load_* fields."""
        aux = report.aux
        if b"redis-ver" in aux:
            log.info("Loading RDB produced by version %s", aux[b"redis-ver"].decode("utf-8", "replace"))
        if aux.get(b"ctime", b"").isdigit():
            age = max(0, int(time.time()) - int(aux[b"ctime"]))
            log.info("RDB age %d seconds", age)
        if aux.get(b"used-mem", b"").isdigit():
            log.info("RDB memory usage when created %.2f Mb", int(aux[b"used-mem"]) / _MB)
        if report.functions:
            log.warning(
                "The RDB holds %d Redis Functions libraries; CacheFlow has no functions and did not load them",
                len(report.functions),
            )
        self.last_load_keys_loaded = report.keys_loaded
        self.last_load_keys_expired = report.expired_skipped
        log.info("Done loading RDB, keys loaded: %d, keys expired: %d.", report.keys_loaded, report.expired_skipped)

    def reload(self, save: bool, flush: bool) -> str | None:
        """DEBUG RELOAD: save (unless NOSAVE), empty (unless NOFLUSH), load; the error text or None."""
        if save and not self.save():
            return "ERR"
        try:
            with open(self.path, "rb") as f:
                data = f.read()
            report, staged = parse_snapshot(data, self.config, self.keyspace.clock.now_ms(), len(self.keyspace.dbs))
        except (OSError, RdbError) as e:
            log.warning("Failed loading the RDB for DEBUG RELOAD: %s", e)
            return "ERR Error trying to load the RDB dump, check server logs."
        if flush:
            for db in self.keyspace.dbs:
                db.clear()
        install_snapshot(self.keyspace, staged, report)
        self._loaded(report)
        log.warning("DB reloaded by DEBUG RELOAD")
        return None

    # -- INFO -------------------------------------------------------------------------------

    def info_fields(self) -> dict[str, Any]:
        """INFO persistence's fields from current_cow_peak to rdb_last_load_keys_loaded, in Redis's order."""
        running = bool(self.child_pid)
        if running:
            self._read_child()
        age = int(time.monotonic() - self.child_cow_at) if running and self.child_cow_at else 0
        return {
            "current_cow_peak": self.child_cow_peak if running else 0,
            "current_cow_size": self.child_cow if running else 0,
            "current_cow_size_age": age,
            "current_fork_perc": "0.00",
            "current_save_keys_processed": 0,
            "current_save_keys_total": self.child_keys_total if running else 0,
            "rdb_changes_since_last_save": self.engine.effects.dirty,
            "rdb_bgsave_in_progress": 1 if running else 0,
            "rdb_last_save_time": self.last_save,
            "rdb_last_bgsave_status": "ok" if self.last_bgsave_ok else "err",
            "rdb_last_bgsave_time_sec": self.last_bgsave_secs,
            "rdb_current_bgsave_time_sec": int(time.monotonic() - self.child_started) if running else -1,
            "rdb_saves": self.saves,
            "rdb_last_cow_size": self.last_cow_size,
            "rdb_last_load_keys_expired": self.last_load_keys_expired,
            "rdb_last_load_keys_loaded": self.last_load_keys_loaded,
        }

    def loading_fields(self) -> dict[str, Any]:
        """The loading_* fields while the RDB loads at start."""
        elapsed = max(0.0, time.time() - self.load_start)
        total = self.load_total_bytes
        loaded = self.load_loaded_bytes
        rate = loaded / elapsed if elapsed > 0 else 0.0
        return {
            "loading_start_time": int(self.load_start),
            "loading_total_bytes": total,
            "loading_rdb_used_mem": 0,
            "loading_loaded_bytes": loaded,
            "loading_loaded_perc": f"{100.0 * loaded / total if total else 0.0:.2f}",
            "loading_eta_seconds": int((total - loaded) / rate) if rate > 0 else 1,
        }


# -- helpers: shared by the server and the child --------------------------------------------------


def _settle(done: "asyncio.Future[Any]", result: Any, error: BaseException | None) -> None:
    if done.done():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)


def _aux() -> dict[bytes, bytes]:
    return {b"used-mem": b"%d" % _rss_bytes()}


def _temp_path(final: str, pid: int) -> str:
    return os.path.join(os.path.dirname(final), f"temp-{pid}.rdb")


def _save_file(
    keyspace: Keyspace,
    config: Config,
    final: str,
    aux: dict[bytes, bytes],
    delay_us: int = 0,
    on_progress: Callable[[], None] | None = None,
) -> bool:
    """Redis's rdbSave: temp-<pid>.rdb, fsync, rename over ``final``, fsync the directory; logged."""
    tmp = _temp_path(final, os.getpid())
    name = os.path.basename(tmp)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except OSError as e:
        log.warning(
            "Failed opening the temp RDB file %s (in server root dir %s) for saving: %s",
            name,
            _cwd(),
            e.strerror or e,
        )
        return False
    try:
        with os.fdopen(fd, "wb", buffering=1024 * 1024) as out:
            sleep_key_save_delay(keyspace, delay_us)
            incremental = bool(config.rdb_save_incremental_fsync)
            synced = [0]
            written = [0]

            def write(chunk: bytes) -> None:
                out.write(chunk)
                written[0] += len(chunk)
                if incremental and written[0] - synced[0] >= _AUTOSYNC_BYTES:
                    out.flush()
                    os.fdatasync(out.fileno())
                    synced[0] = written[0]
                if on_progress is not None:
                    on_progress()

            write_snapshot(keyspace, write, config, keyspace.clock.now_ms(), aux=aux)
            out.flush()
            os.fsync(out.fileno())
    except OSError as e:
        log.warning("Write error saving DB on disk: %s", e.strerror or e)
        _unlink(tmp)
        return False
    try:
        os.rename(tmp, final)
    except OSError as e:
        log.warning(
            "Error moving temp DB file %s on the final destination %s (in server root dir %s): %s",
            name,
            os.path.basename(final),
            _cwd(),
            e.strerror or e,
        )
        _unlink(tmp)
        return False
    try:
        dfd = os.open(os.path.dirname(final) or ".", os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError as e:
        log.warning("Failed to fsync directory while saving DB: %s", e.strerror or e)
        return False
    log.info("DB saved on disk")
    return True


def _child_main(keyspace: Keyspace, config: Config, final: str, aux: dict[bytes, bytes], report_fd: int) -> None:
    """The BGSAVE child: write the snapshot, report copy-on-write, exit; never returns."""
    code = 1
    try:
        gc.disable()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
            signal.signal(sig, signal.SIG_DFL)
        try:
            signal.set_wakeup_fd(-1)
        except (ValueError, OSError):
            pass
        _close_inherited(report_fd)
        for handler in log.handlers:
            formatter = handler.formatter
            if formatter is not None and hasattr(formatter, "role"):
                formatter.role = "C"
        last = [time.monotonic()]
        peak = [0]
        total = [0]
        samples = [0]

        def report(kind: bytes) -> None:
            cow = private_dirty()
            peak[0] = max(peak[0], cow)
            total[0] += cow
            samples[0] += 1
            try:
                os.write(report_fd, kind + b" %d\n" % cow)
            except OSError:
                pass

        def progress() -> None:
            now = time.monotonic()
            if now - last[0] >= _CHILD_REPORT_SECONDS:
                last[0] = now
                report(b"cow")

        if _save_file(keyspace, config, final, aux, int(config.rdb_key_save_delay), progress):
            report(b"done")
            log.info(
                "Fork CoW for RDB: current %d MB, peak %d MB, average %d MB",
                private_dirty() // _MB,
                peak[0] // _MB,
                total[0] // max(1, samples[0]) // _MB,
            )
            code = 0
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def sleep_key_save_delay(keyspace: Keyspace, delay_us: int) -> None:
    """rdb-key-save-delay (a testing knob, in a child): Redis sleeps this long per key it writes; here
    all at once, before the first byte, so the temporary file exists (empty) for that long."""
    if delay_us > 0:
        time.sleep(delay_us * sum(len(db.data) for db in keyspace.dbs) / 1e6)


def private_dirty(pid: int | str = "self") -> int:
    """Private_Dirty bytes of a process (its copy-on-write copies, for a forked child); 0 if unknown."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Private_Dirty:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _close_inherited(keep: int) -> None:
    """In the child: close the listeners, clients and loop descriptors, keeping stdio, the log and ``keep``.

    A child that held the listening socket would keep the port busy after the
    server died; one that held client sockets would keep them half open.
    """
    keep_fds = {0, 1, 2, keep}
    for handler in log.handlers:
        stream = getattr(handler, "stream", None)
        try:
            if stream is not None:
                keep_fds.add(stream.fileno())
        except (OSError, ValueError, AttributeError):
            pass
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return
    for fd in fds:
        if fd not in keep_fds:
            try:
                os.close(fd)
            except OSError:
                pass


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return "unknown"


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
