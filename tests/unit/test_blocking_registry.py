"""The blocking registry (engine/blocking.py) through the real engine: who is served, when, with what."""

import pytest
from engine_harness import NOW, Harness, decode

from cacheflow.commands.context import ATTENTION_BLOCKED, Context


class Blocking:
    """A harness whose unblocked clients' replies are collected in order."""

    def __init__(self) -> None:
        self.h = Harness()
        self.delivered: list[tuple[int, bytes]] = []
        self.h.engine.blocking.on_unblocked = lambda ctx, reply: self.delivered.append((ctx.id, reply))

    def block(self, *args: str | int, proto: int = 2) -> Context:
        ctx = self.h.client(proto=proto)
        assert self.h.raw(ctx, *args) == b""
        assert ctx.blocked is not None and ctx.attention & ATTENTION_BLOCKED
        return ctx

    def replies(self) -> list[tuple[int, object]]:
        taken = [(i, decode(r)) for i, r in self.delivered]
        self.delivered = []
        return taken


@pytest.fixture
def b() -> Blocking:
    return Blocking()


def test_waiters_are_served_in_the_order_they_blocked(b: Blocking) -> None:
    c1 = b.block("BLPOP", "q", 0)
    c2 = b.block("BRPOP", "q", 0)
    c3 = b.block("BLPOP", "q", 0)
    assert b.h.engine.blocking.blocked_count == 3
    assert b.h("RPUSH", "q", "a", "b") == 2
    assert b.replies() == [(c1.id, [b"q", b"a"]), (c2.id, [b"q", b"b"])]
    assert b.h("EXISTS", "q") == 0
    assert c3.blocked is not None and c1.blocked is None and not c1.attention & ATTENTION_BLOCKED
    b.h("LPUSH", "q", "c")
    assert b.replies() == [(c3.id, [b"q", b"c"])]
    assert b.h.engine.blocking.blocked_count == 0
    registry = b.h.engine.blocking
    assert registry.on_effects not in b.h.engine.effects.subscribers  # the registry unsubscribed


def test_served_pops_are_published_as_their_non_blocking_form(b: Blocking) -> None:
    b.block("BLPOP", "a", "q", 0)
    b.block("BRPOP", "q", 0)
    b.block("BLMPOP", 0, 1, "q", "LEFT", "COUNT", 2)
    b.h.effects()
    b.h("RPUSH", "q", "1", "2", "3", "4", "5")
    assert b.h.effects() == [
        (0, [b"RPUSH", b"q", b"1", b"2", b"3", b"4", b"5"]),
        (0, [b"LPOP", b"q"]),
        (0, [b"RPOP", b"q"]),
        (0, [b"LPOP", b"q", b"2"]),
    ]
    assert [r for _, r in b.replies()] == [[b"q", b"1"], [b"q", b"5"], [b"q", [b"2", b"3"]]]
    assert b.h("LRANGE", "q", 0, -1) == [b"4"]


def test_a_client_on_several_keys_is_served_once_from_the_first_ready(b: Blocking) -> None:
    c = b.block("BLPOP", "x", "y", "x", 0)
    b.h("MULTI")
    b.h("RPUSH", "y", "1")
    b.h("RPUSH", "x", "2")
    assert b.replies() == []
    b.h("EXEC")  # served after the whole transaction, from the key that became ready first
    assert b.replies() == [(c.id, [b"y", b"1"])]
    assert b.h("LRANGE", "x", 0, -1) == [b"2"]


def test_push_then_pop_in_one_transaction_serves_nobody(b: Blocking) -> None:
    c = b.block("BLPOP", "q", 0)
    b.h("MULTI")
    b.h("RPUSH", "q", "1")
    b.h("LPOP", "q")
    b.h("EXEC")
    assert b.replies() == [] and c.blocked is not None


def test_blmove_chains_into_the_next_waiter(b: Blocking) -> None:
    mover = b.block("BLMOVE", "a", "b", "LEFT", "RIGHT", 0)
    popper = b.block("BLPOP", "b", 0)
    b.h.effects()
    b.h("RPUSH", "a", "x")
    assert b.replies() == [(mover.id, b"x"), (popper.id, [b"b", b"x"])]
    assert b.h.effects() == [
        (0, [b"RPUSH", b"a", b"x"]),
        (0, [b"LMOVE", b"a", b"b", b"LEFT", b"RIGHT"]),
        (0, [b"LPOP", b"b"]),
    ]
    b.block("BRPOPLPUSH", "a", "b", 0)
    b.h("RPUSH", "a", "y")
    assert b.h.effects()[1] == (0, [b"RPOPLPUSH", b"a", b"b"])


def test_blmove_onto_a_wrong_type_unblocks_with_the_error(b: Blocking) -> None:
    cmd = b.h.engine.table.get("blmove")
    assert cmd is not None
    calls, failed = cmd.calls, cmd.failed_calls  # the command table is shared by every harness
    c = b.block("BLMOVE", "a", "d", "LEFT", "LEFT", 0)
    b.h("SET", "d", "x")
    b.h("RPUSH", "a", "1")
    ((cid, reply),) = b.replies()
    assert cid == c.id and str(reply).startswith("WRONGTYPE")
    assert b.h("LRANGE", "a", 0, -1) == [b"1"]  # nothing was popped
    assert (cmd.calls - calls, cmd.failed_calls - failed) == (1, 1)
    assert b.h.engine.errors.by_prefix["WRONGTYPE"] == 1


def test_rename_move_copy_and_swapdb_wake_waiters(b: Blocking) -> None:
    h = b.h
    c = b.block("BLPOP", "q", 0)
    h("RPUSH", "tmp", "1")
    h("RENAME", "tmp", "q")
    assert b.replies() == [(c.id, [b"q", b"1"])]
    c = b.block("BLPOP", "q", 0)
    h("SELECT", 1)
    h("RPUSH", "q", "2")
    h("MOVE", "q", 0)
    assert b.replies() == [(c.id, [b"q", b"2"])]
    c = b.block("BLPOP", "q", 0)
    h("RPUSH", "q", "3")  # database 1 only
    assert b.replies() == []
    h("COPY", "q", "q", "DB", 0)
    assert b.replies() == [(c.id, [b"q", b"3"])]
    c = b.block("BLPOP", "q", 0)
    h("SWAPDB", 0, 1)
    assert b.replies() == [(c.id, [b"q", b"3"])]


def test_a_key_of_another_type_keeps_the_client_blocked(b: Blocking) -> None:
    c = b.block("BLPOP", "q", 0)
    b.h("SET", "q", "string")
    assert b.replies() == [] and c.blocked is not None
    b.h("DEL", "q")
    b.h("RPUSH", "q", "1")
    assert b.replies() == [(c.id, [b"q", b"1"])]


def test_timeouts(b: Blocking) -> None:
    registry = b.h.engine.blocking
    c2 = b.block("BLPOP", "q", "1.5")
    c3 = b.block("BLMOVE", "q", "d", "LEFT", "LEFT", "0.5", proto=3)
    forever = b.block("BLPOP", "q", 0)
    assert registry.deadline(c2) == NOW + 1500 and registry.deadline(forever) is None
    assert registry.timeout_count == 2
    b.h.clock.advance(500)
    assert registry.due(b.h.clock.now_ms()) == [c3]
    assert registry.time_out(c3)
    assert b.delivered == [(c3.id, b"_\r\n")]
    b.h.clock.advance(1000)
    assert registry.due(b.h.clock.now_ms()) == [c2]
    registry.time_out(c2)
    assert b.delivered[-1] == (c2.id, b"*-1\r\n")
    assert not registry.time_out(c2)
    assert registry.blocked_count == 1 and registry.timeout_count == 0


def test_client_unblock_both_ways_and_statistics(b: Blocking) -> None:
    engine = b.h.engine
    cmd = engine.table.get("blpop")
    assert cmd is not None
    calls, failed = cmd.calls, cmd.failed_calls
    c = b.block("BLPOP", "q", 0)
    assert engine.unblock(c, error=False)
    assert b.delivered == [(c.id, b"*-1\r\n")]
    c = b.block("BLPOP", "q", 0)
    assert engine.unblock(c, error=True)
    assert b.delivered[-1] == (c.id, b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n")
    assert not engine.unblock(c, error=True)
    assert (cmd.calls - calls, cmd.failed_calls - failed) == (2, 2)  # both count as failed in Redis 7.0.15
    assert engine.errors.by_prefix == {"UNBLOCKED": 1}


def test_forgotten_clients_are_never_served(b: Blocking) -> None:
    gone = b.block("BLPOP", "q", 0)
    stays = b.block("BLPOP", "q", 0)
    b.h.engine.blocking.forget(gone)
    assert gone.blocked is None
    b.h("RPUSH", "q", "1")
    assert b.replies() == [(stays.id, [b"q", b"1"])]


def test_watch_sees_a_served_pop(b: Blocking) -> None:
    h = b.h
    watcher = h.client()
    h("RPUSH", "other", "x")
    b.block("BLPOP", "q", 0)
    h.run(watcher, "WATCH", "q")
    h("RPUSH", "q", "1")  # the push and the served pop both touch q
    h.run(watcher, "MULTI")
    h.run(watcher, "GET", "x")
    assert h.raw(watcher, "EXEC") == b"*-1\r\n"


def test_the_registry_serves_any_type_through_its_serve_function(b: Blocking) -> None:
    """What sorted sets will do: their own serve function, the same registry."""
    h = b.h
    ctx = h.client()
    calls: list[bytes] = []

    def serve(waiter: Context, key: bytes) -> bytes | None:
        calls.append(key)
        value = waiter.db.lookup(key)
        if value is None or value.__class__ is not bytes:
            return None
        waiter.effects.append([b"DEL", key])
        waiter.db.delete(key)
        return b"+served\r\n"

    assert h.engine.block(ctx, [b"z"], serve, None) == b""
    h("RPUSH", "z", "1")  # a list: this serve function declines
    assert calls == [b"z"] and ctx.blocked is not None
    h("DEL", "z")
    h.effects()
    h("SET", "z", "v")
    assert b.delivered == [(ctx.id, b"+served\r\n")]
    assert h.effects() == [(0, [b"SET", b"z", b"v"]), (0, [b"DEL", b"z"])]


def test_blocked_client_flag_in_client_list_line(b: Blocking) -> None:
    from cacheflow.commands.clients import _flags

    c = b.block("BLPOP", "q", 0)
    assert _flags(c) == "b"
    c.in_multi = True
    assert _flags(c) == "xb"
