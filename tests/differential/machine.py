"""Shared parts of the differential state machines: a raw RESP client, reply comparison, a base machine.

Every machine in this folder sends each generated command to a real
redis-server and to CacheFlow and compares the two replies.  Errors are
compared as whole lines (prefix included), so ``-ERR syntax error`` and
``-syntax error`` are different, which redis-py would hide: it strips the
``ERR`` prefix before raising.  That is why the replies are read with the small
raw reader below rather than redis-py.  It reads RESP2 and RESP3 and keeps each
reply's kind (simple vs bulk string, double vs bulk, map vs flat array, set vs
array), so a reply of the right value but the wrong kind is a difference.

A comparison is exact unless the command's check says which part of a reply is
not determined by Redis's semantics: the order of an unordered collection (then
the sorted contents are compared) or a random choice (then counts, membership
and distinctness are compared).  A check is attached to each command when it
is sent, and kept for commands queued in MULTI so that EXEC's reply is compared
element by element with the same checks.
"""

import select
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar

from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine

# A failing machine spends minutes shrinking to a short example; a pytest timeout in the
# middle of that prints nothing useful, so these tests get this much instead of the usual 120 s.
SHRINK_TIMEOUT = 900
# Derandomized or not as the loaded profile says (tests/conftest.py).
DIFFERENTIAL = settings(
    max_examples=150,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    print_blob=True,
)


# --------------------------------------------------------------------------
# A raw RESP2/RESP3 client that keeps every reply's kind and bytes
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Simple:
    """A ``+`` simple-string reply (distinct from a bulk string with the same bytes)."""

    value: bytes


@dataclass(frozen=True)
class Err:
    """A ``-`` (or RESP3 ``!``) error reply: the whole line, prefix included."""

    line: bytes


@dataclass(frozen=True)
class Double:
    """A RESP3 ``,`` double, kept as the bytes sent (formatting is part of the comparison)."""

    value: bytes


@dataclass(frozen=True)
class Bool:
    value: bool


@dataclass(frozen=True)
class Verbatim:
    value: bytes


@dataclass(frozen=True)
class BigNum:
    value: bytes


@dataclass(frozen=True)
class Map:
    """A RESP3 ``%`` map, its pairs in the order sent."""

    items: tuple[tuple["Reply", "Reply"], ...]


@dataclass(frozen=True)
class SetReply:
    """A RESP3 ``~`` set, its elements in the order sent."""

    items: tuple["Reply", ...]


class _Null:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


NULL_ARRAY = _Null("NullArray")  # RESP2 ``*-1``; a null bulk ``$-1`` is None
NULL = _Null("Null")  # RESP3 ``_``
Reply = bytes | int | None | Simple | Err | Double | Bool | Verbatim | BigNum | Map | SetReply | _Null | list["Reply"]


class RespClient:
    """One connection; ``proto`` 3 sends HELLO 3 first (its reply, which names the server, is not compared)."""

    def __init__(self, port: int, proto: int = 2) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        if proto == 3:
            hello = self.call(b"HELLO", b"3")
            assert isinstance(hello, Map), f"HELLO 3 answered {hello!r}"

    def close(self) -> None:
        self.sock.close()

    def call(self, *args: bytes) -> Reply:
        self.send_only(*args)
        return self.read()

    def send_only(self, *args: bytes) -> None:
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            out.append(b"$%d\r\n%b\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))

    def has_input(self) -> bool:
        """Whether some reply bytes have arrived (without waiting)."""
        if self.buf:
            return True
        readable, _, _ = select.select([self.sock], [], [], 0)
        return bool(readable)

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"server closed the connection; unparsed: {bytes(self.buf)!r}")
        self.buf += chunk

    def _line(self) -> bytes:
        while (i := self.buf.find(b"\r\n")) < 0:
            self._fill()
        line = bytes(self.buf[:i])
        del self.buf[: i + 2]
        return line

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n + 2:
            self._fill()
        data = bytes(self.buf[:n])
        assert self.buf[n : n + 2] == b"\r\n", "bulk reply not terminated by CRLF"
        del self.buf[: n + 2]
        return data

    def read(self) -> Reply:
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return Simple(rest)
        if kind == b"-":
            return Err(rest)
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return NULL_ARRAY if n < 0 else [self.read() for _ in range(n)]
        if kind == b"_":
            return NULL
        if kind == b",":
            return Double(rest)
        if kind == b"#":
            return Bool(rest == b"t")
        if kind == b"(":
            return BigNum(rest)
        if kind == b"=":
            return Verbatim(self._exact(int(rest)))
        if kind == b"!":
            return Err(self._exact(int(rest)))
        if kind == b"%":
            return Map(tuple((self.read(), self.read()) for _ in range(int(rest))))
        if kind == b"~":
            return SetReply(tuple(self.read() for _ in range(int(rest))))
        raise AssertionError(f"malformed RESP reply line: {line!r}")


# --------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------

Check = Callable[[Reply, Reply], bool]
TTL_TOLERANCE = {b"TTL": 1, b"PTTL": 1000}


def same(name: bytes, redis_reply: Reply, cf_reply: Reply) -> bool:
    """Equal, with tolerance for TTL/PTTL (clocks differ) and order-free KEYS."""
    tolerance = TTL_TOLERANCE.get(name)
    if tolerance is not None and isinstance(redis_reply, int) and isinstance(cf_reply, int):
        if redis_reply < 0 or cf_reply < 0:
            return redis_reply == cf_reply
        return abs(redis_reply - cf_reply) <= tolerance
    if name == b"KEYS":
        return unordered(redis_reply, cf_reply)
    return redis_reply == cf_reply


def exact_for(name: bytes) -> Check:
    return lambda redis_reply, cf_reply: same(name, redis_reply, cf_reply)


def elements(reply: Reply) -> list[Reply] | None:
    """The elements of an array or RESP3 set (a map's keys and values, flattened); None for anything else."""
    if isinstance(reply, list):
        return reply
    if isinstance(reply, SetReply):
        return list(reply.items)
    if isinstance(reply, Map):
        return [x for pair in reply.items for x in pair]
    return None


def _sort_key(reply: Reply) -> str:
    return repr(reply)


def unordered(redis_reply: Reply, cf_reply: Reply) -> bool:
    """The same kind of collection with the same elements, in any order."""
    a, b = elements(redis_reply), elements(cf_reply)
    if a is None or b is None or type(redis_reply) is not type(cf_reply):
        return redis_reply == cf_reply
    return sorted(a, key=_sort_key) == sorted(b, key=_sort_key)


def pairs(reply: Reply) -> list[tuple[Reply, Reply]] | None:
    """Field/value (member/score) pairs from a flat array, an array of pairs, or a map."""
    if isinstance(reply, Map):
        return list(reply.items)
    if not isinstance(reply, list):
        return None
    if all(isinstance(x, list) and len(x) == 2 for x in reply) and reply:
        return [(x[0], x[1]) for x in reply if isinstance(x, list)]
    if len(reply) % 2:
        return None
    return list(zip(reply[::2], reply[1::2]))


def unordered_pairs(redis_reply: Reply, cf_reply: Reply) -> bool:
    """The same pairs (HGETALL, WITHSCORES/WITHVALUES) in any order, each pair kept whole."""
    a, b = pairs(redis_reply), pairs(cf_reply)
    if a is None or b is None or type(redis_reply) is not type(cf_reply):
        return redis_reply == cf_reply
    return sorted(a, key=repr) == sorted(b, key=repr)


def same_exec(checks: list[Check], redis_reply: Reply, cf_reply: Reply) -> bool:
    if (
        isinstance(redis_reply, list)
        and isinstance(cf_reply, list)
        and len(redis_reply) == len(cf_reply) == len(checks)
    ):
        return all(check(a, b) for check, a, b in zip(checks, redis_reply, cf_reply))
    return redis_reply == cf_reply


def info_field(reply: Reply, field: bytes) -> bytes:
    """One ``name:value`` field of an INFO reply (bulk in RESP2, verbatim in RESP3)."""
    text = reply.value if isinstance(reply, Verbatim) else reply
    assert isinstance(text, bytes), f"INFO answered {reply!r}"
    for line in text.split(b"\r\n"):
        if line.startswith(field + b":"):
            return line.split(b":", 1)[1]
    raise AssertionError(f"INFO has no {field!r}")


# --------------------------------------------------------------------------
# The base machine
# --------------------------------------------------------------------------


class DifferentialMachine(RuleBasedStateMachine):
    """Two connections per server (``main`` and ``other``), commands compared reply by reply.

    ``queued`` holds the checks of the commands queued in MULTI on the main
    connection (None outside MULTI), so EXEC's reply is compared with them.
    """

    redis_port: ClassVar[int] = 0
    cacheflow_port: ClassVar[int] = 0
    proto: ClassVar[int] = 2

    def __init__(self) -> None:
        super().__init__()
        self.redis = RespClient(self.redis_port, self.proto)
        self.cf = RespClient(self.cacheflow_port, self.proto)
        self.redis_other = RespClient(self.redis_port, self.proto)
        self.cf_other = RespClient(self.cacheflow_port, self.proto)
        self.queued: list[Check] | None = None
        for client in (self.redis, self.cf):
            reply = client.call(b"FLUSHALL")
            assert reply == Simple(b"OK"), f"FLUSHALL answered {reply!r}"

    def teardown(self) -> None:
        for client in (self.redis, self.cf, self.redis_other, self.cf_other):
            client.close()

    @property
    def in_multi(self) -> bool:
        return self.queued is not None

    def send(self, *args: bytes, other: bool = False, check: Check | None = None) -> tuple[Reply, Reply]:
        """Run one command on both servers, compare the replies, and return them (Redis's first)."""
        redis_client, cf_client = (self.redis_other, self.cf_other) if other else (self.redis, self.cf)
        redis_client.send_only(*args)
        cf_client.send_only(*args)
        return self.compare(args, redis_client.read(), cf_client.read(), other=other, check=check)

    def compare(
        self,
        args: Iterable[bytes],
        redis_reply: Reply,
        cf_reply: Reply,
        other: bool = False,
        check: Check | None = None,
    ) -> tuple[Reply, Reply]:
        args = tuple(args)
        name = args[0].upper()
        if check is None:
            check = exact_for(name)
        queued = self.queued if not other else None
        if queued is not None and name in (b"EXEC", b"DISCARD"):
            ok = same_exec(queued, redis_reply, cf_reply) if name == b"EXEC" else redis_reply == cf_reply
        else:
            ok = check(redis_reply, cf_reply)
        assert ok, (
            f"\ncommand:   {b' '.join(args)!r}{' (second client)' if other else ''}"
            f"{f' (queued in MULTI: {len(queued)} commands)' if queued is not None else ''}"
            f"\nredis:     {redis_reply!r}\ncacheflow: {cf_reply!r}"
        )
        if not other:
            if self.queued is None:
                if name == b"MULTI" and redis_reply == Simple(b"OK"):
                    self.queued = []
            elif name in (b"EXEC", b"DISCARD"):
                self.queued = None
            elif redis_reply == Simple(b"QUEUED"):
                self.queued.append(check)
        return redis_reply, cf_reply
