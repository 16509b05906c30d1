"""Recovery: load the manifest, then the base, then the incremental files, replaying every effect.

Each file is a sequence of entries: our frames (persistence/frames.py) or
commands as Redis writes them (a bare RESP array), told apart by their first
byte, so files written by Redis 7 (and a pre-7 ``appendonly.aof``, which the
server moves into the AOF directory first, as Redis 7 does) load too, and our
frames may follow Redis's commands in one file.  A file that starts with the
``REDIS`` magic begins with an RDB (``aof-use-rdb-preamble yes``), loaded by
``cacheflow.rdb.snapshot`` with expired keys kept (``rdb_base_loader``);
entries may follow it (Redis's preamble files have a command tail).  An
``RdbError`` in it stops start-up with ``LoadError`` naming the file and the
offset.  Replay goes
through the engine's command handlers with a loading context (Redis's fake
AOF client): no statistics, no effects published onward (the AOF is not
subscribed yet), replies ignored as Redis ignores them.  ``MULTI``/``EXEC``
frames group effects that must apply together; the group is applied at its
``EXEC``.

What a damaged file does, as Redis with ``aof-load-truncated``:
- The last file ends inside a frame (a crash mid-write) or inside an open
  MULTI: with ``aof-load-truncated yes`` the file is truncated on disk at the
  last complete entry, with a warning naming the file and the offset, and
  what came before is loaded; with ``no`` start-up fails.
- A bad marker, length, checksum or payload anywhere (or a torn frame in a
  file other than the last, or a torn-looking frame followed by a valid one,
  which means its length was damaged) stops start-up with ``LoadError``
  naming the file and the byte offset of the bad frame.  Nothing is skipped.

Loading is a generator so that the server can keep its event loop turning
(answering ``-LOADING``) between chunks.
"""

import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cacheflow.commands.context import Context
from cacheflow.config.schema import Config
from cacheflow.engine.engine import Engine
from cacheflow.persistence import frames
from cacheflow.persistence.manifest import BASE, Manifest
from cacheflow.rdb.errors import RdbError
from cacheflow.rdb.snapshot import load_snapshot
from cacheflow.resp.errors import CommandError
from cacheflow.store.keyspace import Keyspace

log = logging.getLogger("cacheflow")

# Yield to the event loop about this often.  Redis's loading-process-events-interval-bytes is
# 2 MB, but replay here is ~50x slower than Redis's, so a smaller step keeps clients answered.
YIELD_EVERY_BYTES = 128 * 1024
_PROGRESS_LOG_SECONDS = 5.0


class LoadError(Exception):
    """Start-up must stop: ``path`` is bad at byte ``offset``."""

    def __init__(self, path: str, offset: int, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.offset = offset


@dataclass
class FileReport:
    """What checking one file found: how far it is good and what is wrong after that."""

    path: str
    size: int
    entries: int  # complete, valid commands before ``valid_up_to``
    valid_up_to: int  # where a fix truncates: after the last complete entry outside an open MULTI
    bad_offset: int  # where the problem is (the bad frame, or the open MULTI)
    problem: str | None  # None: the whole file is good
    torn: bool  # the problem is an incomplete tail (or open MULTI) rather than corruption


def scan(data: bytes, path: str, start: int = 0) -> tuple[list[tuple[int, list[bytes]]], FileReport]:
    """Every valid command from ``start`` with its offset, up to the first problem; pure (check-aof uses it too)."""
    out: list[tuple[int, list[bytes]]] = []
    pos = start
    multi_at: int | None = None
    problem: str | None = None
    torn = False
    good_entries = 0
    valid_up_to = start
    end = len(data)
    while pos < end:
        try:
            if data[pos] == 42:  # "*": a command as Redis writes it
                argv, nxt = frames.decode_redis_command(data, pos)
            else:
                argv, nxt = frames.decode_frame(data, pos)
        except frames.Torn as t:
            later = frames.later_valid_frame(data, t.offset)
            if later is not None:
                problem = f"bad frame length at offset {t.offset} (a valid frame follows at offset {later})"
            else:
                problem = f"file ends inside the frame at offset {t.offset}"
                torn = True
            break
        except frames.BadFrame as e:
            problem = f"{e.reason} at offset {e.offset}"
            break
        name = argv[0].upper()
        if name == b"MULTI":
            if multi_at is not None:
                problem = f"nested MULTI at offset {pos}"
                break
            multi_at = pos
        elif name == b"EXEC":
            if multi_at is None:
                problem = f"EXEC without MULTI at offset {pos}"
                break
            multi_at = None
        out.append((pos, argv))
        pos = nxt
        if multi_at is None:
            good_entries = len(out)
            valid_up_to = pos
    bad_offset = pos
    if multi_at is not None and problem is None:
        problem = f"file ends inside the MULTI/EXEC transaction starting at offset {multi_at}"
        torn = True
        bad_offset = multi_at
    if problem is None:
        valid_up_to = end
        good_entries = len(out)
    del out[good_entries:]
    report = FileReport(path, end, good_entries, valid_up_to, bad_offset, problem, torn)
    return out, report


class Replayer:
    """Applies loaded commands through the engine's handlers as Redis's fake AOF client."""

    def __init__(self, engine: Engine, ctx: Context) -> None:
        self.engine = engine
        self.ctx = ctx
        self.failed = 0
        ctx.kind = "aof"

    def apply(self, argv: list[bytes]) -> None:
        ctx = self.ctx
        name = argv[0]
        if (name == b"SELECT" or name == b"select") and len(argv) == 2:
            try:
                ctx.select(int(argv[1]))
                return
            except (ValueError, IndexError):
                raise CommandError(f"ERR invalid database index '{argv[1]!r}'") from None
        cmd = self.engine.resolve(argv)  # CommandError: unknown command or wrong arity
        try:
            cmd.handler(ctx, argv)
        except CommandError:
            self.failed += 1
        finally:
            ctx.effects = []


@dataclass
class LoadState:
    """Progress of a load, for INFO persistence and the log."""

    total_bytes: int = 0
    loaded_bytes: int = 0
    start_time: float = 0.0
    keys_loaded: int = 0


def load(
    directory: str,
    manifest: Manifest,
    replay: Replayer,
    truncate_ok: bool,
    state: LoadState,
    load_rdb: Callable[[bytes], int] | None = None,
) -> Iterator[None]:
    """Load every file the manifest names, yielding now and then; raises LoadError.

    A damaged last file is truncated on disk when ``truncate_ok`` (the server
    then appends after the last good entry).
    """
    files = manifest.files()
    paths = [os.path.join(directory, f.name) for f in files]
    sizes = []
    for f, path in zip(files, paths):
        try:
            sizes.append(os.path.getsize(path))
        except FileNotFoundError:
            raise LoadError(path, 0, f"The AOF file {f.name} doesn't exist") from None
    state.total_bytes = sum(sizes)
    state.start_time = time.time()
    last_progress = time.monotonic()
    begin = time.monotonic()
    done_before = 0
    for index, (f, path) in enumerate(zip(files, paths)):
        is_last = index == len(files) - 1
        started = time.monotonic()
        with open(path, "rb") as fh:
            data = fh.read()
        rdb_end = 0
        if data.startswith(b"REDIS"):
            if load_rdb is None:
                raise LoadError(path, 0, f"The AOF file {f.name} has an RDB preamble, which this server cannot load")
            try:
                rdb_end = load_rdb(data)
            except RdbError as e:
                raise LoadError(
                    path,
                    e.offset,
                    f"Error reading the RDB base file {f.name} at offset {e.offset}: {e.message}. AOF loading aborted",
                ) from None
            state.loaded_bytes = done_before + rdb_end
            if rdb_end < len(data):
                log.info("Reading the remaining AOF tail of %s...", f.name)
            yield
        entries, report = scan(data, path, rdb_end)
        if report.problem is not None and not (report.torn and is_last and truncate_ok):
            _fail(path, f.name, report, is_last)
        since_yield = 0
        prev = rdb_end
        for offset, argv in entries:
            try:
                if argv[0].upper() not in (b"MULTI", b"EXEC"):
                    replay.apply(argv)
            except CommandError as e:
                raise LoadError(
                    path,
                    offset,
                    f"Unknown command or bad arguments ({e}) reading the append only file {f.name} at offset {offset}",
                ) from None
            since_yield += offset - prev
            prev = offset
            if since_yield >= YIELD_EVERY_BYTES:
                since_yield = 0
                state.loaded_bytes = done_before + offset
                now = time.monotonic()
                if now - last_progress >= _PROGRESS_LOG_SECONDS:
                    last_progress = now
                    pct = 100.0 * state.loaded_bytes / state.total_bytes if state.total_bytes else 100.0
                    log.info("Loading AOF file %s: %d of %d bytes (%.1f%%)", f.name, offset, len(data), pct)
                yield
        if report.problem is not None:
            log.warning("!!! Warning: short read while loading the AOF file %s!!!", f.name)
            log.warning("!!! %s: %s !!!", f.name, report.problem)
            log.warning(
                "!!! Truncating the AOF %s at offset %d (dropping %d bytes) !!!",
                f.name,
                report.valid_up_to,
                report.size - report.valid_up_to,
            )
            os.truncate(path, report.valid_up_to)
            log.warning("AOF %s loaded anyway because aof-load-truncated is enabled", f.name)
        done_before += len(data)
        state.loaded_bytes = done_before
        log.info(
            "DB loaded from %s file %s: %.3f seconds",
            "base" if f.kind == BASE else "incr",
            f.name,
            time.monotonic() - started,
        )
    log.info("DB loaded from append only file: %.3f seconds", time.monotonic() - begin)


def _fail(path: str, name: str, report: FileReport, is_last: bool) -> None:
    offset = report.bad_offset
    if report.torn and not is_last:
        message = f"Unexpected end of file reading the append only file {name} ({report.problem}); only the last file may be truncated"
    elif report.torn:
        message = (
            f"Unexpected end of file reading the append only file {name} at offset {offset} ({report.problem}). "
            "You can: 1) Make a backup of your AOF file, then use cacheflow-check-aof --fix <filename.manifest>. "
            "2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."
        )
    else:
        message = (
            f"Bad file format reading the append only file {name}: {report.problem}. "
            "Make a backup of your AOF file, then use cacheflow-check-aof --fix <filename.manifest>"
        )
    raise LoadError(path, offset, message)


def rdb_base_loader(keyspace: Keyspace, config: Config) -> Callable[[bytes], int]:
    """``load_snapshot`` bound to the keyspace, for an RDB base (raises RdbError, loads nothing then).

    Expired keys are kept, as Redis loads an AOF's RDB preamble (RDBFLAGS_AOF_PREAMBLE):
    the incremental files that follow were written against exactly that keyspace.
    """

    def load_rdb(data: bytes) -> int:
        """Returns where the RDB ends: a command tail may follow."""
        return load_snapshot(data, keyspace, config, int(time.time() * 1000), skip_expired=False).end

    return load_rdb
