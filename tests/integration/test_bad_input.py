"""Limits and faults: every hostile or broken client is contained, and the server keeps serving.

DESIGN.md ("Bad input and faults"): limits come from config, no input may
grow memory without bound or stall the loop, and a protocol error closes
that connection only.  Each test provokes one limit or fault, then checks
that a brand-new client still gets PONG.

Tests run against CacheFlow and, where the behaviour is Redis's, against a
real redis-server too: that keeps the expectations honest (a test that real
Redis fails is a wrong test).  Memory is read from /proc (VmRSS, VmHWM, the
peak RSS, and VmPeak, the peak address-space size), so those tests need Linux.
"""

import contextlib
import os
import resource
import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from servers import ServerProcess, cacheflow_server, real_redis_server, wait_until
from wire import read_to_eof

IO_TIMEOUT = 10.0
MIB = 1024 * 1024

Starter = Callable[..., AbstractContextManager[ServerProcess]]
KINDS: dict[str, Starter] = {"cacheflow": cacheflow_server, "redis": real_redis_server}

needs_proc = pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads memory figures from Linux /proc")


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def encode(*args: bytes) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%b\r\n" % (len(a), a))
    return b"".join(out)


def connect(port: int, rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:  # must precede connect() to limit the advertised window
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(IO_TIMEOUT)
    sock.connect(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def send_until_closed(sock: socket.socket, data: bytes) -> None:
    """Send what the server will take: after a protocol error it closes while we are still sending."""
    try:
        sock.sendall(data)
    except OSError:
        pass


def read_exactly(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def drain(sock: socket.socket) -> tuple[int, bool]:
    """Read until the server closes; (bytes received, closed).  closed is False on timeout."""
    total = 0
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    while True:
        try:
            n = sock.recv_into(view)
        except ConnectionResetError:
            return total, True
        except TimeoutError:
            return total, False
        if n == 0:
            return total, True
        total += n


def ping_new_client(server: ServerProcess) -> None:
    """The check after every fault: the process lives and a new client is served."""
    assert server.alive(), f"server died:\n{server.log()[-3000:]}"
    with connect(server.port) as s:
        s.sendall(b"PING\r\n")
        assert read_exactly(s, 7) == b"+PONG\r\n"


def try_ping(port: int) -> bool:
    try:
        with connect(port) as s:
            s.sendall(b"PING\r\n")
            return read_exactly(s, 7) == b"+PONG\r\n"
    except OSError:
        return False


def is_closed(sock: socket.socket) -> bool:
    """True once the server has closed ``sock`` (polls briefly; use inside wait_until)."""
    sock.settimeout(0.05)
    try:
        data = sock.recv(4096)
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    finally:
        sock.settimeout(IO_TIMEOUT)
    return data == b""


def log_mark(server: ServerProcess) -> int:
    return len(server.log())


def assert_clean_log(server: ServerProcess, since: int = 0) -> None:
    """An unexpected exception is a bug even when the server survives it (checks the log after ``since``)."""
    log = server.log()[since:]
    assert "Traceback" not in log, f"server logged an exception:\n{log[-4000:]}"


def memory(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM and VmPeak of ``pid`` in bytes."""
    figures = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM", "VmPeak"):
                figures[name] = int(rest.split()[0]) * 1024
    return figures


def pid_of(server: ServerProcess) -> int:
    assert server.proc is not None
    return server.proc.pid


def ensure_open_files(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"needs {needed} open files; this machine's hard RLIMIT_NOFILE is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


@pytest.fixture(params=sorted(KINDS))
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextmanager
def server_of(kind: str, *args: str) -> Iterator[ServerProcess]:
    with KINDS[kind](*args) as srv:
        yield srv
        ping_new_client(srv)
        if kind == "cacheflow":
            assert_clean_log(srv)


# --------------------------------------------------------------------------
# proto-max-bulk-len
# --------------------------------------------------------------------------


@needs_proc
def test_proto_max_bulk_len_at_start(kind: str) -> None:
    """--proto-max-bulk-len 1mb: a longer bulk is refused on its header, before anything is buffered."""
    with server_of(kind, "--proto-max-bulk-len", "1mb") as srv:
        before = memory(pid_of(srv))
        header = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n"
        for declared in (1024 * 1024 + 1, 400_000_000):
            with connect(srv.port) as s:
                # The header and a first megabyte of payload: the error must not wait for the rest.
                s.sendall(header + b"$%d\r\n" % declared)
                send_until_closed(s, b"x" * MIB)
                assert read_to_eof(s) == b"-ERR Protocol error: invalid bulk length\r\n"
            ping_new_client(srv)
        after = memory(pid_of(srv))
        assert after["VmHWM"] - before["VmHWM"] < 32 * MIB, (before, after)
        client = srv.client()
        value = b"v" * (1024 * 1024)  # exactly the limit is allowed
        assert client.set("k", value) is True
        assert client.get("k") == value
        client.close()


def test_proto_max_bulk_len_config_set(kind: str) -> None:
    """CONFIG SET proto-max-bulk-len applies to the next request, in both directions."""
    with server_of(kind) as srv:
        client = srv.client()
        assert client.config_set("proto-max-bulk-len", "2mb") is True
        assert client.config_get("proto-max-bulk-len") == {"proto-max-bulk-len": "2097152"}
        with connect(srv.port) as s:
            s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2097153\r\n")
            assert read_to_eof(s) == b"-ERR Protocol error: invalid bulk length\r\n"
        value = b"w" * (2 * MIB)
        assert client.set("k", value) is True
        assert client.strlen("k") == 2 * MIB
        assert client.config_set("proto-max-bulk-len", "1mb") is True
        with connect(srv.port) as s:
            send_until_closed(s, encode(b"SET", b"k", b"z" * (MIB + 1)))
            assert read_to_eof(s) == b"-ERR Protocol error: invalid bulk length\r\n"
        client.close()


@needs_proc
@pytest.mark.parametrize("before_it", [b"", b"*1\r\n$4\r\nPING\r\n"], ids=["first", "after-a-request"])
def test_huge_declared_count_reserves_no_memory(kind: str, before_it: bytes) -> None:
    """``*2147483647`` is a valid count, but must not make the server reserve room for 2**31 arguments.

    Redis preallocates at most 1024 argument slots; reserving per the
    declared count costs gigabytes of address space per connection, and
    freeing such a structure stalls the event loop.  The count may come
    first in a packet or after complete requests.
    """
    with server_of(kind) as srv:
        before = memory(pid_of(srv))
        s = connect(srv.port)
        try:
            s.sendall(before_it + b"*2147483647\r\n$4\r\nPING\r\n")
            if before_it:
                assert read_exactly(s, 7) == b"+PONG\r\n"
            ping_new_client(srv)  # the partial request is parsed by now
            after = memory(pid_of(srv))
        finally:
            s.close()
        assert after["VmPeak"] - before["VmPeak"] < 1024 * MIB, (before, after)
        assert after["VmHWM"] - before["VmHWM"] < 64 * MIB, (before, after)


# --------------------------------------------------------------------------
# client-query-buffer-limit
# --------------------------------------------------------------------------


@needs_proc
def test_client_query_buffer_limit_disconnects_endless_bulk(kind: str) -> None:
    """A client streaming a 100 MB bulk with client-query-buffer-limit 1mb is cut off near the limit."""
    with server_of(kind, "--client-query-buffer-limit", "1mb") as srv:
        before = memory(pid_of(srv))
        sent = 0
        cap = 64 * MIB
        chunk = b"x" * 65536
        with connect(srv.port) as s:
            s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000000\r\n")
            disconnected = False
            try:
                while sent < cap:
                    s.sendall(chunk)
                    sent += len(chunk)
            except TimeoutError:
                pytest.fail(f"server stopped reading without disconnecting, after {sent} bytes")
            except OSError:
                disconnected = True
            if not disconnected:
                _, disconnected = drain(s)
        assert disconnected, f"still connected after streaming {sent} bytes"
        assert sent < cap
        after = memory(pid_of(srv))
        assert after["VmHWM"] - before["VmHWM"] < 32 * MIB, (before, after)
        ping_new_client(srv)


# --------------------------------------------------------------------------
# Clients that vanish, or never read
# --------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["close", "reset"])
def test_client_disconnects_mid_pipeline(kind: str, how: str) -> None:
    """10,000 pipelined commands, then the client goes away without reading a byte."""
    with server_of(kind) as srv:
        value = b"v" * 200
        pipeline = b"".join(
            encode(b"SET", b"k%d" % (i % 500), value) if i % 3 else encode(b"GET", b"k%d" % (i % 500))
            for i in range(10_000)
        )
        for _ in range(3):
            s = connect(srv.port)
            s.sendall(pipeline)
            if how == "reset":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
            ping_new_client(srv)
        # A well-behaved client still gets every reply of its own pipeline.
        with connect(srv.port) as s:
            s.sendall(b"".join(encode(b"ECHO", b"%d" % i) for i in range(1000)))
            expected = b"".join(b"$%d\r\n%d\r\n" % (len(b"%d" % i), i) for i in range(1000))
            assert read_exactly(s, len(expected)) == expected


def test_output_buffer_limit_disconnects_slow_reader(kind: str) -> None:
    """With ``normal 1mb 512kb 1`` a client that requests 200 MB of replies and never reads is dropped."""
    with server_of(kind, "--client-output-buffer-limit", "normal 1mb 512kb 1") as srv:
        client = srv.client()
        value_size = 100_000
        client.set("big", b"x" * value_size)
        n = 2000
        slow = connect(srv.port, rcvbuf=4096)
        try:
            slow.sendall(b"GET big\r\n" * n)
            ping_new_client(srv)  # others are served while the slow client is stuck
            assert client.get("big") == b"x" * value_size
            received, closed = drain(slow)
        finally:
            slow.close()
        assert closed, "the slow reader was never disconnected"
        assert received < n * value_size, "the slow reader got every reply: the limit was not applied"
        client.close()


@needs_proc
def test_backpressure_bounds_memory_without_output_limit() -> None:
    """With no output limit, a client that does not read must not make the server buffer everything.

    DESIGN.md: no input may grow memory without bound.  The server stops
    reading (and executing) while a client's output is over the high-water
    mark, so 256 MB of requested replies cost it a bounded amount of memory,
    and the client still receives every reply once it reads.  (Redis buffers
    them all; this is CacheFlow's stricter rule, so it runs on CacheFlow only.)
    """
    with server_of("cacheflow") as srv:
        client = srv.client()
        value_size = 64 * 1024
        client.set("big", b"x" * value_size)
        before = memory(pid_of(srv))
        n = 4000  # 256 MiB of replies
        reply_size = len(b"$%d\r\n" % value_size) + value_size + 2
        slow = connect(srv.port, rcvbuf=4096)
        try:
            slow.sendall(b"GET big\r\n" * n)
            ping_new_client(srv)
            assert client.get("big") == b"x" * value_size
            total = 0
            buf = bytearray(1 << 20)
            while total < n * reply_size:
                got = slow.recv_into(buf)
                assert got, f"connection closed after {total} of {n * reply_size} bytes"
                total += got
        finally:
            slow.close()
        after = memory(pid_of(srv))
        assert total == n * reply_size
        assert after["VmHWM"] - before["VmHWM"] < 64 * MIB, (
            f"server peak RSS grew by {(after['VmHWM'] - before['VmHWM']) // MIB} MiB "
            f"while a client held {n * reply_size // MIB} MiB of unread replies"
        )
        client.close()


# --------------------------------------------------------------------------
# maxclients and timeout
# --------------------------------------------------------------------------


def test_maxclients_with_thousands_of_idle_connections(kind: str) -> None:
    """--maxclients 2000: 2000 idle clients are served; the 2001st gets Redis's error and is closed."""
    ensure_open_files(2000 + 200)
    with server_of(kind, "--maxclients", "2000") as srv:
        socks: list[socket.socket] = []
        try:
            for i in range(2000):
                socks.append(connect(srv.port))
                if i % 200 == 199:  # keep the accept backlog short
                    socks[-1].sendall(b"PING\r\n")
                    assert read_exactly(socks[-1], 7) == b"+PONG\r\n"
            for s in socks:
                s.sendall(b"PING\r\n")
            for s in socks:
                assert read_exactly(s, 7) == b"+PONG\r\n"
            with connect(srv.port) as extra:
                assert read_to_eof(extra) == b"-ERR max number of clients reached\r\n"
            socks.pop().close()
            wait_until(lambda: try_ping(srv.port), timeout=IO_TIMEOUT, message="a freed client slot")
            for s in socks[:10]:  # the idle ones were not disturbed
                s.sendall(b"PING\r\n")
                assert read_exactly(s, 7) == b"+PONG\r\n"
        finally:
            for s in socks:
                s.close()
        wait_until(lambda: try_ping(srv.port), timeout=IO_TIMEOUT, message="server after closing 2000 clients")


def test_timeout_closes_idle_clients(kind: str) -> None:
    """--timeout 1: idle clients, and clients idle in the middle of a request, are closed."""
    with server_of(kind, "--timeout", "1") as srv:
        idle = connect(srv.port)
        partial = connect(srv.port)
        try:
            idle.sendall(b"PING\r\n")
            assert read_exactly(idle, 7) == b"+PONG\r\n"
            partial.sendall(b"*2\r\n$4\r\nECHO\r\n")
            wait_until(lambda: is_closed(idle), timeout=15, message="idle client closed")
            wait_until(lambda: is_closed(partial), timeout=15, message="half-request client closed")
        finally:
            idle.close()
            partial.close()


# --------------------------------------------------------------------------
# Garbage and slowloris
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_target() -> Iterator[ServerProcess]:
    with cacheflow_server() as srv:
        yield srv


_FRAGMENTS = [
    b"*",
    b"$",
    b"0",
    b"1",
    b"3",
    b"-1",
    b"65536",
    b"\r\n",
    b"\r",
    b"\n",
    b"\x00",
    b" ",
    b'"',
    b"'",
    b"\\",
    b"\\x",
    b"*1\r\n",
    b"*3\r\n",
    b"$4\r\nPING\r\n",
    b"$3\r\nSET\r\n",
    b"$3\r\nGET\r\n",
    b"$1\r\nk\r\n",
    b":1\r\n",
    b"+OK\r\n",
    b"-ERR\r\n",
    b"_\r\n",
    b"%1\r\n",
    b"$-1\r\n",
    b"*-1\r\n",
    b"*0\r\n",
    b"$0\r\n\r\n",
    b"PING",
    b"ECHO",
    b"SET k v",
    b"GET k",
]


_ELEMENT = st.one_of(
    st.sampled_from([b"PING", b"ECHO", b"GET", b"SET", b"k"]).map(lambda b: b"$%d\r\n%b\r\n" % (len(b), b)),
    st.binary(max_size=8).map(lambda b: b"$%d\r\n%b\r\n" % (len(b), b)),
    st.sampled_from(
        [
            b"$-1\r\n",
            b":1\r\n",
            b"+OK\r\n",
            b"-ERR x\r\n",
            b"*0\r\n",
            b"*1\r\n",
            b"*1\r\n$1\r\na\r\n",
            b"$9\r\nab",
            # RESP3 types, which hiredis understands and Redis refuses in requests
            b"_\r\n",
            b"#t\r\n",
            b",1.5\r\n",
            b"(\r\n",
            b"(12\r\n",
            b"=5\r\ntxt:a\r\n",
            b"%0\r\n",
            b"~0\r\n",
            b"|0\r\n",
            b">0\r\n",
        ]
    ),
)
# Multibulk frames whose elements are sometimes not bulk strings (nil, integers, nested arrays...).
_FRAME = st.builds(lambda n, els: b"*%d\r\n" % n + b"".join(els), st.integers(-2, 4), st.lists(_ELEMENT, max_size=4))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Inputs that once crashed a request handler, kept as regression seeds.
@example(payload=b"*1\r\n$-1\r\n")
@example(payload=b"*1\r\n*0\r\n")
@example(payload=b"*2\r\n(\r\n*0\r\n*1\r\n*1\r\n")
@given(
    payload=st.one_of(
        st.binary(max_size=300),
        st.lists(st.sampled_from(_FRAGMENTS) | st.binary(min_size=1, max_size=4), max_size=40).map(b"".join),
        st.lists(_FRAME | st.sampled_from(_FRAGMENTS), min_size=1, max_size=6).map(b"".join),
    )
)
def test_garbage_never_crashes_the_server(fuzz_target: ServerProcess, payload: bytes) -> None:
    """Random bytes get replies or a protocol error; never a crash, a hang, or an internal error."""
    mark = log_mark(fuzz_target)
    with connect(fuzz_target.port) as s:
        send_until_closed(s, payload)
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_WR)
        read_to_eof(s)
    ping_new_client(fuzz_target)
    assert_clean_log(fuzz_target, since=mark)


def test_large_random_blob_never_crashes_the_server(fuzz_target: ServerProcess) -> None:
    """A few hundred KB of random bytes (crossing the 64 KiB line limits) in one go."""
    blob = bytes(os.urandom(300_000))
    mark = log_mark(fuzz_target)
    for payload in (blob, b"*1\r\n$100\r\n" + blob, b"PING\r\n" + blob.replace(b"\n", b"")):
        with connect(fuzz_target.port) as s:
            send_until_closed(s, payload)
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_WR)
            read_to_eof(s)
        ping_new_client(fuzz_target)
    assert_clean_log(fuzz_target, since=mark)


def test_slowloris_one_byte_at_a_time(kind: str) -> None:
    """One byte per packet, with another client served between bytes: parsing is unchanged."""
    with server_of(kind) as srv:
        payload = (
            encode(b"SET", b"slow:k", b"a\r\nb\x00c")
            + encode(b"GET", b"slow:k")
            + b"ECHO \"x y\"\r\nECHO 'z z'\n"
            + b"\r\n*0\r\n"
            + b"PING\n"
            + encode(b"ECHO", b"")
        )
        expected = b"+OK\r\n$6\r\na\r\nb\x00c\r\n$3\r\nx y\r\n$3\r\nz z\r\n+PONG\r\n$0\r\n\r\n"
        other = connect(srv.port)
        slow = connect(srv.port)
        try:
            for _ in range(2):  # the server has accepted ``slow`` and watches it before byte 0
                other.sendall(b"PING\r\n")
                assert read_exactly(other, 7) == b"+PONG\r\n"
            for i in range(len(payload)):
                slow.sendall(payload[i : i + 1])
                # The server stays responsive; after two sequential round trips it has
                # also read byte i on its own (the second PING needs a later loop iteration).
                for _ in range(2):
                    other.sendall(b"PING\r\n")
                    assert read_exactly(other, 7) == b"+PONG\r\n"
            assert read_exactly(slow, len(expected)) == expected
        finally:
            other.close()
            slow.close()
