"""Load N small string keys into a fresh server over a raw socket, and measure the RSS it costs.

redis-benchmark ``-r`` picks keys at random, so it cannot produce an exact key
count; this loader writes exactly N distinct ``SET`` commands in pipelined RESP
batches, checks every reply is ``+OK``, and spot-checks values with ``GET``.
Keys are 16 bytes (``key:000000000042``) and values 32 bytes
(``value:00000000000000000000000042``), never integer-looking, so Redis stores
them as plain (embedded) strings, as an application's cache entries would be.
"""

import socket
import time
from dataclasses import asdict, dataclass
from typing import Any

from harness.procfs import rss_bytes
from harness.servers import BenchServer

KEY_BYTES = 16
VALUE_BYTES = 32
_OK = b"+OK\r\n"


def key(i: int) -> bytes:
    """The i-th key: 16 bytes."""
    return b"key:%012d" % i


def value(i: int) -> bytes:
    """The i-th value: 32 bytes."""
    return b"value:%026d" % i


def _set_batch(start: int, stop: int) -> bytes:
    """RESP for ``SET key:i value:i`` for i in [start, stop), as one buffer to send in one go."""
    head = b"*3\r\n$3\r\nSET\r\n$%d\r\n" % KEY_BYTES
    mid = b"\r\n$%d\r\n" % VALUE_BYTES
    return b"".join(head + key(i) + mid + value(i) + b"\r\n" for i in range(start, stop))


def _encode(*args: bytes) -> bytes:
    """One command in RESP."""
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


class _Replies:
    """Just enough of a RESP reply reader for the loader's checks (simple, error, integer, bulk)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf += chunk

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            self._fill()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def reply(self) -> bytes | int | None:
        """One reply; an error reply raises, so a missing command is reported, not mistaken for data."""
        line = self.line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest
        if kind == b"-":
            raise RuntimeError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            while len(self.buf) < size + 2:
                self._fill()
            data, self.buf = self.buf[:size], self.buf[size + 2 :]
            return data
        raise RuntimeError(f"unexpected reply {line[:80]!r}")

    def expect_ok(self, count: int) -> None:
        """Read exactly ``count`` ``+OK`` replies, failing on the first reply that is anything else."""
        want = len(_OK) * count
        while len(self.buf) < want:
            if self.buf.translate(None, _OK):  # something other than +OK arrived: stop and report it
                break
            self._fill()
        got, self.buf = self.buf[:want], self.buf[want:]
        if got != _OK * count:
            bad = next((r for r in (got + self.buf).split(b"\r\n") if r != b"+OK"), got[:80])
            raise RuntimeError(f"SET failed during load: {bad[:200]!r}")


@dataclass
class MemoryResult:
    """RSS before and after the load, and what it works out to per key."""

    server: str
    keys: int
    key_bytes: int
    value_bytes: int
    rss_before: int
    rss_after: int
    load_s: float
    dbsize: int | None

    @property
    def bytes_per_key(self) -> float:
        return (self.rss_after - self.rss_before) / self.keys

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["bytes_per_key"] = self.bytes_per_key
        return data


def _settled_rss(pid: int, timeout: float = 3.0) -> int:
    """RSS once two readings 100 ms apart agree (or at the deadline): frees after a close are not instant."""
    deadline = time.monotonic() + timeout
    last = rss_bytes(pid)
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = rss_bytes(pid)
        if now == last:
            return now
        last = now
    return last


def _ping(port: int) -> None:
    """A round trip on a new connection: the server has handled everything sent before it."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(_encode(b"PING"))
        _Replies(s).reply()


def load(server: BenchServer, keys: int, batch: int = 10_000, timeout: float = 120.0) -> MemoryResult:
    """Fill a freshly started ``server`` with ``keys`` strings and report the RSS they cost."""
    _ping(server.port)
    before = _settled_rss(server.pid)
    started = time.perf_counter()
    dbsize: int | None
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        replies = _Replies(sock)
        deadline = time.monotonic() + timeout
        for start in range(0, keys, batch):
            stop = min(keys, start + batch)
            # Send a batch, then read its replies: a bounded amount in flight, so
            # neither side can fill the other's socket buffer and stall.
            sock.sendall(_set_batch(start, stop))
            replies.expect_ok(stop - start)
            if time.monotonic() > deadline:
                raise TimeoutError(f"loading {keys} keys into {server.name} took over {timeout}s")
        load_s = time.perf_counter() - started
        for i in sorted({0, keys // 2, keys - 1}):
            sock.sendall(_encode(b"GET", key(i)))
            got = replies.reply()
            if got != value(i):
                raise RuntimeError(f"{server.name}: GET {key(i)!r} returned {got!r}, expected {value(i)!r}")
        sock.sendall(_encode(b"DBSIZE"))
        try:
            size = replies.reply()
            dbsize = size if isinstance(size, int) else None
        except RuntimeError:  # DBSIZE not implemented yet: the OK count above is the exact check
            dbsize = None
    if dbsize is not None and dbsize != keys:
        raise RuntimeError(f"{server.name}: DBSIZE is {dbsize} after loading {keys} distinct keys")
    _ping(server.port)
    after = _settled_rss(server.pid)
    return MemoryResult(
        server=server.name,
        keys=keys,
        key_bytes=KEY_BYTES,
        value_bytes=VALUE_BYTES,
        rss_before=before,
        rss_after=after,
        load_s=load_s,
        dbsize=dbsize,
    )
