"""Connection commands (PING, ECHO, SELECT, AUTH, HELLO, RESET, QUIT), byte for byte against redis-server."""

import re
from collections.abc import Iterator

import pytest
from servers import ServerProcess, cacheflow_server, real_redis_server
from wire import Wire


def _normalize(reply: bytes) -> bytes:
    """HELLO carries the client id, which differs between servers by construction."""
    return re.sub(rb"(\$2\r\nid\r\n):\d+", rb"\1:ID", reply)


def same(cf: ServerProcess, rr: ServerProcess, *commands: tuple[object, ...], proto: int = 2) -> None:
    a, b = Wire(cf.port, proto), Wire(rr.port, proto)
    try:
        for command in commands:
            args = tuple(x if isinstance(x, bytes | str | int) else str(x) for x in command)
            assert _normalize(a.call(*args)) == _normalize(b.call(*args)), command
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("proto", [2, 3])
def test_ping_echo_select(cacheflow: ServerProcess, real_redis: ServerProcess, proto: int) -> None:
    same(
        cacheflow,
        real_redis,
        ("PING",),
        ("PING", "hello"),
        ("PING", "a", "b"),
        ("ECHO", ""),
        ("ECHO", "x" * 1000),
        ("ECHO",),
        ("SELECT", "1"),
        ("SELECT", "15"),
        ("SELECT", "16"),
        ("SELECT", "-1"),
        ("SELECT", "abc"),
        ("SELECT", "4294967296"),
        ("SELECT", "0"),
        proto=proto,
    )


@pytest.mark.parametrize("proto", [2, 3])
def test_hello_replies(cacheflow: ServerProcess, real_redis: ServerProcess, proto: int) -> None:
    same(
        cacheflow,
        real_redis,
        ("HELLO", "4"),
        ("HELLO", "abc"),
        ("HELLO", "2", "SETNAME", "bad name"),
        ("HELLO", "2", "BOGUS"),
        ("HELLO", "3", "AUTH", "default", "x"),
        proto=proto,
    )


def test_hello_switches_protocol(cacheflow: ServerProcess, real_redis: ServerProcess) -> None:
    # The map differs only in the version string and modules list, which we compare separately.
    a, b = Wire(cacheflow.port), Wire(real_redis.port)
    try:
        ra, rb = a.call("HELLO", "3"), b.call("HELLO", "3")
        assert ra.startswith(b"%7\r\n") and rb.startswith(b"%7\r\n")
        for cmd in (("GET", "missing:key"), ("SET", "k", "v"), ("HELLO", "2")):
            assert _normalize(a.call(*cmd)) == _normalize(b.call(*cmd)), cmd
        assert a.call("GET", "missing:key") == b"$-1\r\n"
    finally:
        a.close()
        b.close()


def test_auth_without_password_configured(cacheflow: ServerProcess, real_redis: ServerProcess) -> None:
    same(cacheflow, real_redis, ("AUTH", "x"), ("AUTH", "default", "x"), ("AUTH", "u", "p"), ("AUTH", "a", "b", "c"))


@pytest.fixture(scope="module")
def servers_with_password() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    with cacheflow_server("--requirepass", "s3cret") as cf, real_redis_server("--requirepass", "s3cret") as rr:
        yield cf, rr


def test_requirepass_flow(servers_with_password: tuple[ServerProcess, ServerProcess]) -> None:
    cf, rr = servers_with_password
    same(
        cf,
        rr,
        ("GET", "k"),
        ("PING",),
        ("HELLO", "3"),
        ("AUTH", "wrong"),
        ("AUTH", "default", "wrong"),
        ("MULTI",),
        ("AUTH", "s3cret"),
        ("GET", "k"),
        ("HELLO", "2", "AUTH", "default", "s3cret"),
    )


def test_an_unauthenticated_exec_aborts_the_transaction(
    servers_with_password: tuple[ServerProcess, ServerProcess],
) -> None:
    cf, rr = servers_with_password
    same(cf, rr, ("MULTI",), ("EXEC",), ("EXEC",), ("DISCARD",), ("INFO", "errorstats"))


def test_an_exec_refused_on_its_arity_aborts_the_transaction(
    cacheflow: ServerProcess, real_redis: ServerProcess
) -> None:
    """Redis's execCommandAbort: EXECABORT with the reason, and the transaction (and its watches) gone."""
    same(
        cacheflow,
        real_redis,
        ("CONFIG", "RESETSTAT"),
        ("MULTI",),
        ("SET", "a", "1"),
        ("EXEC", "x"),
        ("EXEC",),
        ("DISCARD",),
        ("EXEC", "x"),
        ("MULTI",),
        ("NOSUCH",),
        ("EXEC",),
        ("INFO", "errorstats"),
    )
    a, b = Wire(cacheflow.port, 2), Wire(real_redis.port, 2)
    try:
        stats = [w.call("INFO", "commandstats") for w in (a, b)]
        exec_stats = [
            re.search(rb"cmdstat_exec:calls=(\d+),.*rejected_calls=(\d+),failed_calls=(\d+)", x) for x in stats
        ]
        assert [m.groups() if m else None for m in exec_stats] == [(b"2", b"2", b"2")] * 2, stats
    finally:
        a.close()
        b.close()


def test_reset_and_quit(cacheflow: ServerProcess, real_redis: ServerProcess) -> None:
    same(
        cacheflow,
        real_redis,
        ("SELECT", "3"),
        ("MULTI",),
        ("RESET",),
        ("EXEC",),
        ("HELLO", "3", "SETNAME", "x"),
        ("RESET",),
    )
    for port in (cacheflow.port, real_redis.port):
        w = Wire(port)
        assert w.call("QUIT") == b"+OK\r\n"
        assert w.closed_by_peer()
        w.close()


def test_inline_commands_with_quotes(cacheflow: ServerProcess, real_redis: ServerProcess) -> None:
    lines = b'SET "a b" "x\\ty"\r\nGET "a b"\r\nECHO \'it\\\'s\'\r\nECHO "\\x41\\x42"\r\n'
    replies = []
    for port in (cacheflow.port, real_redis.port):
        w = Wire(port)
        w.sock.sendall(lines)
        replies.append(w.read_replies(4))
        w.call("DEL", "a b")
        w.close()
    assert replies[0] == replies[1]
