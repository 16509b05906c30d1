"""Raw-socket protocol tests: the same bytes to a real redis-server and to CacheFlow.

Clients and proxies depend on Redis's exact wire behaviour, including its
reaction to broken input, so every case here sends identical byte sequences to
both servers and asserts identical reply bytes.

How one exchange works (``converse``): the case's bytes are sent (whole or in
given chunks), then a sentinel ``ECHO`` request, then the write side is shut.
Each server answers what it parsed and closes on EOF, so reading to EOF gives
every reply without waiting on a timer.  The sentinel's reply is present only
if the connection was still open and between requests after the case, so
comparing the bytes also compares "was the connection closed" (a protocol
error closes it) and "was a partial request pending".

Chunked sends put a barrier between chunks: two PING round trips on a second
connection to the same server (see ``Barrier``).  The server's single event
loop has then read the earlier chunk on its own, so the split is really seen
by the server (plain back-to-back sends may be coalesced).

The CacheFlow text protocol (``SET k v <ttl>``, ``DELETE k``) deliberately
differs from Redis on inline lines; its tests are at the end and check
CacheFlow alone, plus that RESP requests keep Redis's meaning.
"""

import random
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from servers import ServerProcess, cacheflow_server, real_redis_server
from wire import read_to_eof

SENTINEL_ARG = b"end-of-case"
SENTINEL = b"*2\r\n$4\r\nECHO\r\n$11\r\nend-of-case\r\n"
SENTINEL_REPLY = b"$11\r\nend-of-case\r\n"
IO_TIMEOUT = 10.0


def encode(*args: bytes) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%b\r\n" % (len(a), a))
    return b"".join(out)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_exactly(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


class Barrier:
    """Two PING round trips on a side connection: the server has read what was sent before on its own.

    Bytes sent earlier on the main connection are ready no later than the
    first PING, so the server reads them in that event-loop iteration at the
    latest; but it may answer the PING first within that iteration.  The
    second PING can only be read in a later iteration, so once it is
    answered the earlier bytes have been read, without the bytes sent after.
    """

    def __init__(self, port: int) -> None:
        self.sock = connect(port)

    def __call__(self) -> None:
        for _ in range(2):
            self.sock.sendall(b"PING\r\n")
            assert read_exactly(self.sock, 7) == b"+PONG\r\n"

    def close(self) -> None:
        self.sock.close()


def converse(
    port: int,
    payload: bytes,
    *,
    chunks: list[int] | None = None,
    sentinel: bool = True,
    barrier: Barrier | None = None,
) -> bytes:
    """Send ``payload`` (split after the given chunk sizes), the sentinel, EOF; return all reply bytes."""
    sock = connect(port)
    try:
        data = payload + (SENTINEL if sentinel else b"")
        parts: list[bytes] = []
        pos = 0
        for size in chunks or []:
            if pos >= len(payload):
                break
            parts.append(data[pos : pos + size])
            pos += size
        parts.append(data[pos:])
        try:
            for i, part in enumerate(parts):
                # Before the first chunk too: the server must have accepted this connection
                # and be watching it, or its first read slips into a later loop iteration.
                if barrier is not None and (i or len(parts) > 1):
                    barrier()
                if part:
                    sock.sendall(part)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server closed first (protocol error); what it sent before is still readable
        return read_to_eof(sock)
    finally:
        sock.close()


def show(reply: bytes) -> str:
    return repr(reply if len(reply) < 400 else reply[:300] + b"..." + reply[-60:])


def assert_same(redis_reply: bytes, cacheflow_reply: bytes, payload: bytes) -> None:
    assert cacheflow_reply == redis_reply, (
        f"\npayload:   {show(payload)}\nredis:     {show(redis_reply)}\ncacheflow: {show(cacheflow_reply)}"
    )


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """A dedicated (redis-server, CacheFlow) pair: bad input here must not disturb other suites' servers."""
    with real_redis_server() as redis_srv, cacheflow_server() as cf_srv:
        yield redis_srv, cf_srv


def both(
    pair: tuple[ServerProcess, ServerProcess],
    payload: bytes,
    *,
    chunks: list[int] | None = None,
    sentinel: bool = True,
) -> tuple[bytes, bytes]:
    """The same conversation with redis-server and with CacheFlow: (redis reply, cacheflow reply)."""
    redis_srv, cf_srv = pair
    return (
        converse(redis_srv.port, payload, chunks=chunks, sentinel=sentinel),
        converse(cf_srv.port, payload, chunks=chunks, sentinel=sentinel),
    )


def both_chunked(pair: tuple[ServerProcess, ServerProcess], payload: bytes, chunks: list[int]) -> tuple[bytes, bytes]:
    """Like ``both`` but with a barrier between chunks, so each server really sees the split."""
    replies = []
    for srv in pair:
        barrier = Barrier(srv.port)
        try:
            replies.append(converse(srv.port, payload, chunks=chunks, barrier=barrier))
        finally:
            barrier.close()
    return replies[0], replies[1]


# --------------------------------------------------------------------------
# Malformed and edge-case requests
# --------------------------------------------------------------------------

PE = b"-ERR Protocol error: "

# (id, payload, expected Redis reply prefix or None).  The expected prefix
# documents Redis 7.0's answer and guards the harness itself.
CASES: list[tuple[str, bytes, bytes | None]] = [
    ("bulk-len-2^31", b"*1\r\n$2147483648\r\n", PE + b"invalid bulk length\r\n"),
    ("bulk-len-over-default-max", b"*1\r\n$536870913\r\n", PE + b"invalid bulk length\r\n"),
    ("bulk-len-2^63", b"*1\r\n$9223372036854775808\r\n", PE + b"invalid bulk length\r\n"),
    ("bulk-len-at-default-max-waits", b"*1\r\n$536870912\r\n", b""),
    ("mbulk-3e9", b"*3000000000\r\n", PE + b"invalid multibulk length\r\n"),
    ("mbulk-2^31", b"*2147483648\r\n", PE + b"invalid multibulk length\r\n"),
    ("mbulk-2^32", b"*4294967296\r\n", PE + b"invalid multibulk length\r\n"),
    ("mbulk-int-max-then-array", b"*2147483647\r\n", PE + b"expected '$', got '*'\r\n"),
    (
        "ping-then-mbulk-int-max",
        b"*1\r\n$4\r\nPING\r\n*2147483647\r\n$4\r\nPING\r\n",
        b"+PONG\r\n" + PE + b"expected '$', got '*'\r\n",
    ),
    (
        "ping-then-mbulk-3e9",
        b"*1\r\n$4\r\nPING\r\n*3000000000\r\n",
        b"+PONG\r\n" + PE + b"invalid multibulk length\r\n",
    ),
    ("mbulk-2^63-1", b"*9223372036854775807\r\n", PE + b"invalid multibulk length\r\n"),
    ("mbulk-below-min", b"*-9223372036854775809\r\n", PE + b"invalid multibulk length\r\n"),
    ("mbulk-empty", b"*\r\n", PE + b"invalid multibulk length\r\n"),
    ("mbulk-letters", b"*abc\r\n", PE + b"invalid multibulk length\r\n"),
    ("mbulk-leading-zero", b"*01\r\n$4\r\nPING\r\n", PE + b"invalid multibulk length\r\n"),
    ("mbulk-plus", b"*+1\r\n$4\r\nPING\r\n", PE + b"invalid multibulk length\r\n"),
    ("mbulk-space", b"*1 \r\n$4\r\nPING\r\n", PE + b"invalid multibulk length\r\n"),
    ("mbulk-0", b"*0\r\n", SENTINEL_REPLY),
    ("mbulk-minus-1", b"*-1\r\n", SENTINEL_REPLY),
    ("mbulk-minus-5", b"*-5\r\n", SENTINEL_REPLY),
    ("mbulk-min", b"*-9223372036854775808\r\n", SENTINEL_REPLY),
    ("element-x", b"*1\r\nx\r\n", PE + b"expected '$', got 'x'\r\n"),
    ("element-int", b"*1\r\n:1\r\n", PE + b"expected '$', got ':'\r\n"),
    ("element-simple", b"*1\r\n+PING\r\n", PE + b"expected '$', got '+'\r\n"),
    ("element-error", b"*1\r\n-ERR\r\n", PE + b"expected '$', got '-'\r\n"),
    ("element-nested", b"*1\r\n*1\r\n$4\r\nPING\r\n", PE + b"expected '$', got '*'\r\n"),
    ("element-resp3-null", b"*1\r\n_\r\n", PE + b"expected '$', got '_'\r\n"),
    ("element-resp3-map", b"*1\r\n%1\r\n", PE + b"expected '$', got '%'\r\n"),
    ("element-second", b"*2\r\n$4\r\nECHO\r\n:5\r\n", PE + b"expected '$', got ':'\r\n"),
    ("null-bulk", b"*1\r\n$-1\r\n", PE + b"invalid bulk length\r\n"),
    ("null-bulk-second", b"*2\r\n$4\r\nECHO\r\n$-1\r\n", PE + b"invalid bulk length\r\n"),
    ("bulk-minus-zero", b"*1\r\n$-0\r\n", PE + b"invalid bulk length\r\n"),
    ("bulk-leading-zero", b"*1\r\n$04\r\nPING\r\n", PE + b"invalid bulk length\r\n"),
    ("bulk-empty-len", b"*1\r\n$\r\n", PE + b"invalid bulk length\r\n"),
    ("bulk-len-letters", b"*1\r\n$four\r\n", PE + b"invalid bulk length\r\n"),
    ("ping-then-null-bulk", b"*1\r\n$4\r\nPING\r\n*1\r\n$-1\r\n", b"+PONG\r\n" + PE + b"invalid bulk length\r\n"),
    ("ping-then-nested", b"*1\r\n$4\r\nPING\r\n*1\r\n*1\r\n", b"+PONG\r\n" + PE),
    ("trailing-bytes-unchecked", b"*1\r\n$4\r\nPINGxx", b"+PONG\r\n"),
    ("cr-then-any-byte", b"*1\rX$4\rXPING\r\n", b"+PONG\r\n"),
    ("empty-bulk-arg", b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", b"$0\r\n\r\n"),
    ("incomplete-bulk", b"*2\r\n$4\r\nECHO\r\n$100\r\nabc", b""),
    ("incomplete-count", b"*2", None),
    ("incomplete-inline", b"ECHO abc", None),
    ("crlf", b"\r\n", SENTINEL_REPLY),
    ("lf", b"\n", SENTINEL_REPLY),
    ("blank-lines", b"\r\n\n  \r\n\t\n", SENTINEL_REPLY),
    ("cr-cr-lf", b"\r\r\n", SENTINEL_REPLY),
    ("inline-ping", b"PING\r\n", b"+PONG\r\n"),
    ("inline-lf-only", b"PING\n", b"+PONG\r\n"),
    ("inline-lowercase", b"ping\r\n", b"+PONG\r\n"),
    ("inline-leading-space-star", b" *1\r\n", b"-ERR unknown command '*1'"),
    ("inline-double-quotes", b'ECHO "hello world"\r\n', b"$11\r\nhello world\r\n"),
    ("inline-hex-escapes", b'ECHO "\\x41\\x42\\x4"\r\n', b"$4\r\nABx4\r\n"),
    ("inline-escapes", b'ECHO "a\\tb\\nc\\"d\\\\"\r\n', b'$8\r\na\tb\nc"d\\\r\n'),
    ("inline-single-quotes", b"ECHO 'it\\'s'\r\n", b"$4\r\nit's\r\n"),
    ("inline-single-backslash-n", b"ECHO 'a\\nb'\r\n", b"$4\r\na\\nb\r\n"),
    ("inline-quote-mid-token", b'ECHO a"b c"\r\n', b"$4\r\nab c\r\n"),
    ("inline-empty-quoted", b'ECHO ""\r\n', b"$0\r\n\r\n"),
    ("inline-unbalanced-double", b'ECHO "abc\r\n', PE + b"unbalanced quotes in request\r\n"),
    ("inline-unbalanced-single", b"ECHO 'abc\r\n", PE + b"unbalanced quotes in request\r\n"),
    ("inline-quote-then-char", b'ECHO "a"b\r\n', PE + b"unbalanced quotes in request\r\n"),
    ("inline-single-then-char", b"ECHO 'a'b\r\n", PE + b"unbalanced quotes in request\r\n"),
    ("inline-two-singles", b"ECHO 'it''s'\r\n", PE + b"unbalanced quotes in request\r\n"),
    ("inline-trailing-backslash", b'ECHO "a\\\r\n', PE + b"unbalanced quotes in request\r\n"),
    ("inline-quote-then-vt", b'ECHO "a"\x0b\r\n', b"$1\r\na\r\n"),
    ("inline-vt-inside-token", b"ECHO a\x0bb\r\n", b"$3\r\na\x0bb\r\n"),
    ("inline-ff-inside-token", b"ECHO a\x0cb\r\n", b"$3\r\na\x0cb\r\n"),
    ("inline-leading-vt", b"\x0bECHO\x0bb\r\n", b"-ERR unknown command 'ECHO\x0bb'"),
    ("inline-inner-cr", b"ECHO a\rb\r\n", b"-ERR wrong number of arguments for 'echo' command\r\n"),
    (
        "inline-unknown-command",
        b"NOSUCHCMD a 'b c'\r\n",
        b"-ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b c' \r\n",
    ),
    ("inline-after-resp", b"*1\r\n$4\r\nPING\r\nPING\r\n", b"+PONG\r\n+PONG\r\n"),
    (
        "mixed-packet",
        b'ECHO x\r\n*2\r\n$4\r\nECHO\r\n$1\r\ny\r\nECHO "z z"\n*0\r\n\r\nPING\r\n',
        b"$1\r\nx\r\n$1\r\ny\r\n$3\r\nz z\r\n+PONG\r\n",
    ),
    ("resp-after-bad-inline", b'PING\r\nECHO "a\r\n*1\r\n$4\r\nPING\r\n', b"+PONG\r\n" + PE + b"unbalanced"),
    ("wrong-arity", encode(b"GET"), b"-ERR wrong number of arguments for 'get' command\r\n"),
    (
        "unknown-resp",
        encode(b"NOSUCHCMD", b"x" * 200),
        b"-ERR unknown command 'NOSUCHCMD', with args beginning with: 'x",
    ),
    # The argument list stops once it reaches 128 bytes (quotes and spaces count); the last one is cut to fit.
    ("unknown-many-args", encode(b"FOO", *(b"%d" % i for i in range(30))), b"-ERR unknown command 'FOO'"),
    ("unknown-long-args", encode(b"FOO", b"a" * 100, b"b" * 100, b"c"), b"-ERR unknown command 'FOO'"),
    ("unknown-arg-fills-the-list", encode(b"FOO", b"a" * 126, b"b"), b"-ERR unknown command 'FOO'"),
    (
        "unknown-with-crlf",
        encode(b"NO\r\nSUCH", b"a\r\nb"),
        b"-ERR unknown command 'NO  SUCH', with args beginning with: 'a  b' \r\n",
    ),
    ("empty-command-name", encode(b""), b"-ERR unknown command '', with args beginning with: \r\n"),
]


@pytest.mark.parametrize(("payload", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_same_reply_and_close_as_redis(
    pair: tuple[ServerProcess, ServerProcess], payload: bytes, expected: bytes | None
) -> None:
    """Whole payload in one packet: the hot path (hiredis first) must still give Redis's answer."""
    redis_reply, cf_reply = both(pair, payload)
    if expected is not None:
        assert redis_reply.startswith(expected), f"harness expectation is wrong: redis said {show(redis_reply)}"
    assert_same(redis_reply, cf_reply, payload)


@pytest.mark.parametrize(("payload", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_same_reply_byte_by_byte(
    pair: tuple[ServerProcess, ServerProcess], payload: bytes, expected: bytes | None
) -> None:
    """One byte per packet: the exact parser's path must agree with Redis too."""
    redis_reply, cf_reply = both_chunked(pair, payload, [1] * len(payload))
    assert_same(redis_reply, cf_reply, payload)


BIG_CASES: list[tuple[str, bytes]] = [
    ("inline-without-newline", b"a" * 200_000),
    ("mbulk-count-without-cr", b"*" + b"1" * 200_000),
    ("bulk-count-without-cr", b"*1\r\n$" + b"1" * 200_000),
    ("ping-then-inline-without-newline", b"PING\r\n" + b"x" * 200_000),
]


@pytest.mark.parametrize("payload", [c[1] for c in BIG_CASES], ids=[c[0] for c in BIG_CASES])
def test_oversized_lines_match_redis(pair: tuple[ServerProcess, ServerProcess], payload: bytes) -> None:
    """Lines over 64 KiB with no terminator: 'too big inline request' / 'too big (m)bulk count string'.

    No sentinel: its line terminator would end the line.  (A long line whose
    newline arrives in the same read is accepted by both, depending on read
    sizes, so it is not compared.)
    """
    redis_reply, cf_reply = both(pair, payload, sentinel=False)
    assert redis_reply.endswith(b"\r\n") and PE + b"too big " in redis_reply
    assert_same(redis_reply, cf_reply, payload)


NUL_CASES: list[tuple[str, bytes]] = [
    ("nul-in-count-line", b"*1\x00\r\n$4\r\nPING\r\n"),
    ("nul-in-bulk-len-line", b"*1\r\n$4\x00\r\nPING\r\n"),
    ("nul-in-inline-line", b"PING\x00\r\nPING\r\n"),
]


@pytest.mark.parametrize("payload", [c[1] for c in NUL_CASES], ids=[c[0] for c in NUL_CASES])
def test_nul_bytes_in_protocol_lines_match_redis(pair: tuple[ServerProcess, ServerProcess], payload: bytes) -> None:
    """Redis finds line ends with strchr(), which stops at a NUL: such a line never completes.

    Redis therefore answers nothing (and would eventually refuse the line as
    too big); a server that treats NUL as an ordinary byte answers differently.
    """
    redis_reply, cf_reply = both(pair, payload)
    assert_same(redis_reply, cf_reply, payload)


# --------------------------------------------------------------------------
# Authentication limits (requirepass)
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def auth_pair() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    with (
        real_redis_server("--requirepass", "secret") as redis_srv,
        cacheflow_server("--requirepass", "secret") as cf_srv,
    ):
        yield redis_srv, cf_srv


AUTH = encode(b"AUTH", b"secret")

AUTH_CASES: list[tuple[str, bytes, bytes | None]] = [
    ("mbulk-11", encode(b"PING", *[b"x"] * 10), PE + b"unauthenticated multibulk length\r\n"),
    ("mbulk-11-header-only", b"*11\r\n", PE + b"unauthenticated multibulk length\r\n"),
    ("mbulk-10", encode(b"PING", *[b"x"] * 9), b"-NOAUTH Authentication required.\r\n"),
    ("bulk-16385", encode(b"ECHO", b"x" * 16385), PE + b"unauthenticated bulk length\r\n"),
    ("bulk-16385-header-only", b"*2\r\n$4\r\nECHO\r\n$16385\r\n", PE + b"unauthenticated bulk length\r\n"),
    ("bulk-16384", encode(b"ECHO", b"x" * 16384), b"-NOAUTH Authentication required.\r\n"),
    ("inline-many-args", b"PING " + b"a " * 20 + b"\r\n", b"-NOAUTH Authentication required.\r\n"),
    ("after-auth-mbulk-11", AUTH + encode(b"PING", *[b"x"] * 10), b"+OK\r\n-ERR wrong number of arguments for 'ping'"),
    ("after-auth-bulk-16385", AUTH + encode(b"ECHO", b"x" * 16385), b"+OK\r\n$16385\r\n"),
    ("wrong-password-then-11", encode(b"AUTH", b"nope") + encode(b"PING", *[b"x"] * 10), b"-WRONGPASS"),
]


@pytest.mark.parametrize(("payload", "expected"), [c[1:] for c in AUTH_CASES], ids=[c[0] for c in AUTH_CASES])
def test_unauthenticated_limits_match_redis(
    auth_pair: tuple[ServerProcess, ServerProcess], payload: bytes, expected: bytes | None
) -> None:
    """Before AUTH, Redis refuses more than 10 arguments or bulks over 16 KiB (even in one packet)."""
    redis_reply, cf_reply = both(auth_pair, payload)
    if expected is not None:
        assert redis_reply.startswith(expected), f"harness expectation is wrong: redis said {show(redis_reply)}"
    assert_same(redis_reply, cf_reply, payload)


# --------------------------------------------------------------------------
# Pipelines and packet boundaries
# --------------------------------------------------------------------------


def build_pipeline(prefix: bytes, n: int, seed: int) -> bytes:
    """``n`` commands mixing RESP and inline forms, binary values, no-ops and errors."""
    rng = random.Random(seed)
    out: list[bytes] = []
    for i in range(n):
        key = prefix + b":k%d" % rng.randrange(40)
        kind = rng.randrange(9)
        if kind == 0:
            value = bytes(rng.randrange(256) for _ in range(rng.randrange(30)))
            out.append(encode(b"SET", key, value))
        elif kind == 1:
            out.append(encode(b"GET", key))
        elif kind == 2:
            out.append(b"GET " + key + b"\r\n")
        elif kind == 3:
            out.append(encode(b"ECHO", b"\r\n*1\r\n$4\r\n" + bytes([i % 256])))
        elif kind == 4:
            out.append(b'ECHO "\\x%02x and \\"quotes\\"" \'single\'\n' % (i % 256))
        elif kind == 5:
            out.append(b"PING\r\n" if rng.random() < 0.5 else encode(b"PING", b"msg%d" % i))
        elif kind == 6:
            out.append(rng.choice([b"*0\r\n", b"*-1\r\n", b"\r\n", b"\n"]))
            out.append(encode(b"SET", key, b"%d" % i, b"XX"))
        elif kind == 7:
            out.append(encode(b"NOSUCHCMD", key))
        else:
            out.append(encode(b"GET"))  # arity error
    return b"".join(out)


@pytest.fixture
def prefix() -> bytes:
    return b"proto-" + uuid.uuid4().hex.encode()


def test_pipeline_of_1000_in_one_packet(pair: tuple[ServerProcess, ServerProcess], prefix: bytes) -> None:
    payload = build_pipeline(prefix, 1000, seed=1)
    redis_reply, cf_reply = both(pair, payload)
    assert redis_reply.endswith(SENTINEL_REPLY)
    assert_same(redis_reply, cf_reply, payload)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1000, 4096])
def test_pipeline_of_1000_in_fixed_chunks(pair: tuple[ServerProcess, ServerProcess], prefix: bytes, chunk: int) -> None:
    """The same pipeline cut every ``chunk`` bytes (no barrier: the kernel may coalesce some)."""
    payload = build_pipeline(prefix, 1000, seed=2)
    redis_reply, cf_reply = both(pair, payload, chunks=[chunk] * (len(payload) // chunk + 1))
    assert redis_reply.endswith(SENTINEL_REPLY)
    assert_same(redis_reply, cf_reply, payload)


def test_pipeline_of_1000_in_random_chunks(pair: tuple[ServerProcess, ServerProcess], prefix: bytes) -> None:
    payload = build_pipeline(prefix, 1000, seed=3)
    rng = random.Random(3)
    chunks = [rng.choice([1, 2, 5, 13, 100, 777, 3000]) for _ in range(400)]
    redis_reply, cf_reply = both_chunked(pair, payload, chunks)
    assert redis_reply.endswith(SENTINEL_REPLY)
    assert_same(redis_reply, cf_reply, payload)


def small_pipeline(prefix: bytes) -> bytes:
    """A few commands covering each framing and each transition: RESP (binary bulk) to RESP, RESP to
    inline, inline to empty lines and ``*0``, to RESP, to inline, to RESP."""
    key = prefix + b":split"
    return (
        encode(b"PING")
        + encode(b"SET", key, b"v\r\n\x00*")
        + encode(b"STRLEN", key)
        + b"GET "
        + key
        + b"\r\n"
        + b"\r\n*0\r\n"
        + encode(b"ECHO", b"")
        + b"ECHO \"a\\x41\" 'b c'\n"
        + encode(b"GET", key)
    )


def test_split_at_every_byte_boundary(pair: tuple[ServerProcess, ServerProcess], prefix: bytes) -> None:
    """A few commands, cut into two packets at every possible offset (with a barrier between them)."""
    payload = small_pipeline(prefix)
    whole_redis, whole_cf = both(pair, payload)
    assert_same(whole_redis, whole_cf, payload)
    for cut in range(1, len(payload)):
        redis_reply, cf_reply = both_chunked(pair, payload, [cut])
        assert redis_reply == whole_redis
        assert_same(redis_reply, cf_reply, payload[:cut] + b" <|> " + payload[cut:])


def test_split_at_every_pair_of_boundaries(pair: tuple[ServerProcess, ServerProcess], prefix: bytes) -> None:
    """Three packets: every first cut, second cut a few bytes later (headers split twice)."""
    key = prefix + b":p"
    payload = encode(b"SET", key, b"0123456789") + encode(b"GET", key)
    whole_redis, _ = both(pair, payload)
    for first in range(1, len(payload) - 1):
        for gap in (1, 2, 5):
            if first + gap >= len(payload):
                continue
            redis_reply, cf_reply = both_chunked(pair, payload, [first, gap])
            assert redis_reply == whole_redis
            cut = payload[:first] + b" <|> " + payload[first : first + gap] + b" <|> " + payload[first + gap :]
            assert_same(redis_reply, cf_reply, cut)


# --------------------------------------------------------------------------
# Differential fuzz: random protocol-ish byte streams
# --------------------------------------------------------------------------

_VOCAB = [
    b"*",
    b"$",
    b"0",
    b"1",
    b"2",
    b"4",
    b"-1",
    b"-",
    b"\r\n",
    b"\r",
    b"\n",
    b" ",
    b"\t",
    b"\x0b",
    b'"',
    b"'",
    b"\\",
    b"\\x41",
    b"x",
    b"PING",
    b"ECHO",
    b"hello",
    b"*1\r\n",
    b"*2\r\n",
    b"$4\r\nPING\r\n",
    b"$4\r\nECHO\r\n",
    b"$1\r\na\r\n",
    b"$0\r\n\r\n",
    b":1\r\n",
    b"+OK\r\n",
    b"*0\r\n",
    b"(\r\n",
    b"_\r\n",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Streams that once differed from Redis, kept as regression seeds.
@example(pieces=[b"\x80\r\n"])
@example(pieces=[b"*2\r\n", b"(\r\n", b"*0\r\n"])
@example(pieces=[b"*1\r\n", b"$4\r\nPING\r\n", b"*"])
@given(
    pieces=st.lists(
        st.sampled_from(_VOCAB) | st.binary(min_size=1, max_size=3).filter(lambda b: b"\x00" not in b),
        max_size=16,
    )
)
def test_random_streams_match_redis(pair: tuple[ServerProcess, ServerProcess], pieces: list[bytes]) -> None:
    """Any byte stream (NUL excluded: see the NUL test) gets the same replies and closing as Redis."""
    payload = b"".join(pieces)
    redis_reply, cf_reply = both(pair, payload)
    assert_same(redis_reply, cf_reply, payload)


# --------------------------------------------------------------------------
# The CacheFlow text protocol
# --------------------------------------------------------------------------


class LineClient:
    """What ``nc`` does: write lines, read what comes back (replies are RESP)."""

    def __init__(self, port: int) -> None:
        self.sock = connect(port)
        self.buf = b""

    def send(self, line: bytes) -> None:
        self.sock.sendall(line)

    def reply(self) -> bytes:
        """Read one RESP reply (the simple kinds these commands return)."""
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            assert chunk, f"connection closed; buffered {self.buf!r}"
            self.buf += chunk
        line, _, rest = self.buf.partition(b"\r\n")
        if line[:1] == b"$" and int(line[1:]) >= 0:
            need = int(line[1:]) + 2
            while len(rest) < need:
                chunk = self.sock.recv(65536)
                assert chunk, "connection closed inside a bulk reply"
                rest += chunk
            self.buf = rest[need:]
            return line + b"\r\n" + rest[:need]
        self.buf = rest
        return line + b"\r\n"

    def ask(self, line: bytes) -> bytes:
        self.send(line)
        return self.reply()

    def close(self) -> None:
        self.sock.close()


@contextmanager
def line_client(port: int) -> Iterator[LineClient]:
    client = LineClient(port)
    try:
        yield client
    finally:
        client.close()


def ttl_of(client: LineClient, key: bytes) -> int:
    reply = client.ask(b"TTL " + key + b"\r\n")
    assert reply[:1] == b":", reply
    return int(reply[1:-2])


def test_text_protocol_set_with_ttl(pair: tuple[ServerProcess, ServerProcess], prefix: bytes) -> None:
    """``SET k v 100`` typed on a line stores v with a TTL of about 100 seconds."""
    key = prefix + b":t"
    with line_client(pair[1].port) as nc:
        assert nc.ask(b"SET " + key + b" v 100\n") == b"+OK\r\n"
        assert 98 <= ttl_of(nc, key) <= 100
        assert nc.ask(b"GET " + key + b"\n") == b"$1\r\nv\r\n"
        assert nc.ask(b"EXISTS " + key + b"\n") == b":1\r\n"
        assert nc.ask(b"DELETE " + key + b"\n") == b":1\r\n"
        assert nc.ask(b"DELETE " + key + b"\n") == b":0\r\n"
        assert nc.ask(b"EXISTS " + key + b"\n") == b":0\r\n"
        assert nc.ask(b"GET " + key + b"\n") == b"$-1\r\n"


def test_text_protocol_variants(pair: tuple[ServerProcess, ServerProcess], prefix: bytes) -> None:
    """Case, CRLF or LF endings, quoted values and multi-key DELETE all work on lines."""
    a, b, c = (prefix + s for s in (b":a", b":b", b":c"))
    with line_client(pair[1].port) as nc:
        assert nc.ask(b"set " + a + b' "hello world" 50\r\n') == b"+OK\r\n"
        assert nc.ask(b"get " + a + b"\r\n") == b"$11\r\nhello world\r\n"
        assert 48 <= ttl_of(nc, a) <= 50
        assert nc.ask(b"SET " + b + b" x\n") == b"+OK\r\n"
        assert ttl_of(nc, b) == -1
        assert nc.ask(b"SET " + c + b" y 1000\n") == b"+OK\r\n"
        assert nc.ask(b"exists " + a + b" " + b + b" " + c + b"\n") == b":3\r\n"
        assert nc.ask(b"delete " + a + b" " + b + b" " + c + b" " + prefix + b":none\n") == b":3\r\n"
        assert nc.ask(b"EXISTS " + a + b"\n") == b":0\r\n"


def test_text_protocol_coexists_with_redis_set_syntax(pair: tuple[ServerProcess, ServerProcess], prefix: bytes) -> None:
    """Redis's own options keep their meaning on lines; a bare TTL overwrites an old TTL."""
    key = prefix + b":co"
    with line_client(pair[1].port) as nc:
        assert nc.ask(b"SET " + key + b" v EX 10\n") == b"+OK\r\n"
        assert 8 <= ttl_of(nc, key) <= 10
        assert nc.ask(b"SET " + key + b" w 300\n") == b"+OK\r\n"
        assert 298 <= ttl_of(nc, key) <= 300
        assert nc.ask(b"SET " + key + b" x\n") == b"+OK\r\n"
        assert ttl_of(nc, key) == -1
        assert nc.ask(b"SET " + key + b" y NX\n") == b"$-1\r\n"
        assert nc.ask(b"SET " + key + b" y XX\n") == b"+OK\r\n"
        assert nc.ask(b"SET " + key + b" z PX 20000\n") == b"+OK\r\n"
        assert 18 <= ttl_of(nc, key) <= 20
        assert nc.ask(b"SET " + key + b" z 100 NX\n") == b"-ERR syntax error\r\n"
        assert nc.ask(b"SET " + key + b" z 0\n") == b"-ERR invalid expire time in 'set' command\r\n"
        assert nc.ask(b"SET " + key + b" z -5\n") == b"-ERR invalid expire time in 'set' command\r\n"
        assert nc.ask(b"SET " + key + b" z 1.5\n") == b"-ERR syntax error\r\n"
        assert nc.ask(b"GET " + key + b"\n") == b"$1\r\nz\r\n"
        assert nc.ask(b"DELETE\n") == b"-ERR unknown command 'DELETE', with args beginning with: \r\n"


def test_resp_requests_keep_redis_meaning(pair: tuple[ServerProcess, ServerProcess], prefix: bytes) -> None:
    """Only inline lines are translated: RESP ``SET k v 100`` and ``DELETE k`` answer as in Redis."""
    key = prefix + b":resp"
    payload = encode(b"SET", key, b"v", b"100") + encode(b"DELETE", key) + encode(b"GET", key)
    redis_reply, cf_reply = both(pair, payload)
    assert redis_reply.startswith(b"-ERR syntax error\r\n-ERR unknown command 'DELETE'")
    assert_same(redis_reply, cf_reply, payload)


def test_text_protocol_can_be_disabled(pair: tuple[ServerProcess, ServerProcess], prefix: bytes) -> None:
    """With ``cacheflow-text-protocol no`` inline lines are exactly Redis's."""
    key = prefix + b":off"
    payload = b"SET " + key + b" v 100\r\nDELETE " + key + b"\r\nSET " + key + b" v\r\nDELETE " + key + b"\n"
    with cacheflow_server("--cacheflow-text-protocol", "no") as cf_srv:
        cf_reply = converse(cf_srv.port, payload)
    redis_reply = converse(pair[0].port, payload)
    assert redis_reply.startswith(b"-ERR syntax error\r\n-ERR unknown command 'DELETE'")
    assert_same(redis_reply, cf_reply, payload)
