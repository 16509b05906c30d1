"""Durability benchmarks' building blocks: servers with the AOF on, and the load time of one RDB file.

- ``with_aof`` turns a freshly made server of either kind into one that logs
  every write: ``--appendonly yes --appendfsync <policy> --dir <its own fresh
  scratch directory>``, so both servers write to the same file system and
  neither inherits an old AOF.
- ``make_dump`` has a real redis-server write an N-key dump.rdb (``DEBUG
  POPULATE`` then ``SAVE``), so both servers load byte-for-byte the same file.
- ``time_load`` starts a server on a copy of that file and times it from the
  spawn to its first ``+PONG`` (a loading server answers ``-LOADING``, so
  the first PONG means the data set is in), then checks DBSIZE: a server that
  skipped the file must not be reported as fast.
"""

import re
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness import servers

AOF_POLICIES = ("always", "everysec", "no")
_LOGGED = re.compile(r"DB loaded from disk: ([0-9.]+) seconds")


def with_aof(server: servers.BenchServer, policy: str) -> servers.BenchServer:
    """The same server, started with the AOF on under ``policy`` in its own scratch directory."""
    server.argv += ["--appendonly", "yes", "--appendfsync", policy, "--dir", server.workdir]
    return server


def command(port: int, *args: str, timeout: float = 900.0) -> bytes:
    """Send one command on a fresh connection; the raw first line of the reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in args))
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def make_dump(keys: int, cpu: int | None) -> Path:
    """A dump.rdb of ``keys`` string keys written by a real redis-server; the caller removes its directory."""
    srv = servers.redis(cpu)
    srv.argv += ["--enable-debug-command", "yes"]
    srv.start()
    try:
        reply = command(srv.port, "DEBUG", "POPULATE", str(keys))
        if reply != b"+OK\r\n":
            raise RuntimeError(f"DEBUG POPULATE failed: {reply!r}")
        reply = command(srv.port, "SAVE")
        if reply != b"+OK\r\n":
            raise RuntimeError(f"SAVE failed: {reply!r}")
        out = Path(tempfile.mkdtemp(prefix="bench-dump-")) / "dump.rdb"
        shutil.copy(Path(srv.workdir) / "dump.rdb", out)
        return out
    finally:
        srv.stop()


@dataclass
class LoadResult:
    """Start-up times of one server kind on the same RDB file, one per repetition."""

    server: str
    keys: int
    file_bytes: int
    seconds: list[float] = field(default_factory=list)  # spawn -> first +PONG
    logged_seconds: list[float] = field(default_factory=list)  # the server's own "DB loaded from disk" line
    error: str | None = None

    @property
    def median(self) -> float | None:
        if not self.seconds:
            return None
        ordered = sorted(self.seconds)
        mid = len(ordered) // 2
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["median_s"] = self.median
        return data


def time_load(
    make: Callable[[int | None], servers.BenchServer], dump: Path, cpu: int | None, keys: int, result: LoadResult
) -> None:
    """One start-up of a fresh server on a copy of ``dump``: appends to ``result`` (raises on a wrong key count)."""
    server = make(cpu)
    if "--dir" not in server.argv:
        server.argv += ["--dir", server.workdir]
    shutil.copy(dump, Path(server.workdir) / "dump.rdb")
    try:
        started = time.perf_counter()
        server.start(timeout=900)
        elapsed = time.perf_counter() - started
        reply = command(server.port, "DBSIZE")
        if not reply.startswith(b":") or int(reply[1:]) != keys:
            raise RuntimeError(f"{server.name} has DBSIZE {reply.strip()!r} after loading a {keys}-key dump.rdb")
        result.seconds.append(elapsed)
        logged = _LOGGED.search(server.log())
        if logged:
            result.logged_seconds.append(float(logged.group(1)))
    finally:
        server.stop()
