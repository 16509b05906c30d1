"""The engine's gates and transactions, with no sockets.

Expected replies and error texts are Redis 7.0.15's; the differential suite
checks the same ground against a live redis-server.
"""

import pytest
from engine_harness import Err, Harness


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_unknown_command_quotes_the_arguments(h: Harness) -> None:
    assert h("nosuch", "a", "b") == Err("ERR unknown command 'nosuch', with args beginning with: 'a' 'b' ")
    assert h("nosuch") == Err("ERR unknown command 'nosuch', with args beginning with: ")


def test_unknown_command_arguments_are_truncated_to_128_bytes(h: Harness) -> None:
    reply = h("nosuch", "x" * 200, "y")
    assert reply == Err("ERR unknown command 'nosuch', with args beginning with: '" + "x" * 128 + "' ")


def test_arity_errors_name_the_command_in_lower_case(h: Harness) -> None:
    assert h("GET") == Err("ERR wrong number of arguments for 'get' command")
    assert h("get", "a", "b") == Err("ERR wrong number of arguments for 'get' command")
    assert h("SeT", "k") == Err("ERR wrong number of arguments for 'set' command")


def test_command_names_are_case_insensitive(h: Harness) -> None:
    assert h("sEt", "k", "v") == b"OK"
    assert h("GeT", "k") == b"v"


def test_noauth_before_anything_but_auth_and_hello() -> None:
    from cacheflow.config.schema import Config

    config = Config()
    config.requirepass = "secret"
    h = Harness(config=config)
    ctx = h.client()
    assert h("get", "k", ctx=ctx) == Err("NOAUTH Authentication required.")
    assert h("auth", "wrong", ctx=ctx) == Err("WRONGPASS invalid username-password pair or user is disabled.")
    assert h("auth", "secret", ctx=ctx) == b"OK"
    assert h("get", "k", ctx=ctx) is None


def test_multi_queues_and_exec_runs_in_order(h: Harness) -> None:
    assert h("multi") == b"OK"
    assert h("set", "k", "1") == b"QUEUED"
    assert h("get", "k") == b"QUEUED"
    assert h("exec") == [b"OK", b"1"]
    assert h.ctx.in_multi is False


def test_runtime_errors_inside_exec_do_not_abort_the_rest(h: Harness) -> None:
    h("multi")
    h("set", "k", "v")
    h("incr", "k")
    h("set", "k2", "v2")
    reply = h("exec")
    assert reply[0] == b"OK"
    assert reply[1] == Err("ERR value is not an integer or out of range")
    assert reply[2] == b"OK"


def test_queueing_errors_abort_exec_with_execabort(h: Harness) -> None:
    h("multi")
    assert h("set", "k") == Err("ERR wrong number of arguments for 'set' command")
    assert h("nosuch") == Err("ERR unknown command 'nosuch', with args beginning with: ")
    assert h("set", "k", "v") == b"QUEUED"
    assert h("exec") == Err("EXECABORT Transaction discarded because of previous errors.")
    assert h("get", "k") is None


def test_transaction_command_errors(h: Harness) -> None:
    assert h("exec") == Err("ERR EXEC without MULTI")
    assert h("discard") == Err("ERR DISCARD without MULTI")
    h("multi")
    assert h("multi") == Err("ERR MULTI calls can not be nested")
    assert h("watch", "k") == Err("ERR WATCH inside MULTI is not allowed")
    assert h("discard") == b"OK"
    assert h.ctx.in_multi is False


def test_watch_is_broken_by_another_clients_write(h: Harness) -> None:
    other = h.client()
    h("watch", "k")
    h("set", "k", "theirs", ctx=other)
    h("multi")
    h("set", "k", "mine")
    assert h("exec") is None
    assert h("get", "k") == b"theirs"


def test_watch_is_broken_by_the_clients_own_write(h: Harness) -> None:
    h("watch", "k")
    h("set", "k", "v")
    h("multi")
    h("get", "k")
    assert h("exec") is None


def test_watch_survives_writes_to_other_keys_and_reads(h: Harness) -> None:
    other = h.client()
    h("set", "k", "v")
    h("watch", "k")
    h("get", "k", ctx=other)
    h("set", "k2", "x", ctx=other)
    h("multi")
    h("get", "k")
    assert h("exec") == [b"v"]


def test_watch_on_another_database_is_separate(h: Harness) -> None:
    other = h.client()
    h("watch", "k")
    h("select", "1", ctx=other)
    h("set", "k", "v", ctx=other)
    h("multi")
    h("get", "k")
    assert h("exec") == [None]


def test_watch_is_broken_by_expiry_before_exec(h: Harness) -> None:
    h("set", "k", "v", "PX", "100")
    h("watch", "k")
    h.clock.advance(200)
    h("multi")
    h("get", "k")
    assert h("exec") is None


def test_watch_of_a_missing_key_is_broken_when_it_is_created(h: Harness) -> None:
    other = h.client()
    h("watch", "k")
    h("set", "k", "v", ctx=other)
    h("multi")
    assert h("exec") is None


def test_a_write_that_changes_nothing_does_not_break_watch(h: Harness) -> None:
    other = h.client()
    h("set", "k", "v")
    h("watch", "k")
    h("set", "k", "x", "NX", ctx=other)
    h("multi")
    h("get", "k")
    assert h("exec") == [b"v"]


def test_unwatch_and_exec_clear_the_watch(h: Harness) -> None:
    other = h.client()
    h("watch", "k")
    assert h("unwatch") == b"OK"
    h("set", "k", "v", ctx=other)
    h("multi")
    h("get", "k")
    assert h("exec") == [b"v"]
    h("watch", "k")
    h("multi")
    h("exec")
    h("set", "k", "w", ctx=other)
    h("multi")
    h("get", "k")
    assert h("exec") == [b"w"]


def test_flushall_breaks_watch_on_existing_keys_only(h: Harness) -> None:
    other = h.client()
    h("set", "present", "v")
    h("watch", "present")
    h("flushall", ctx=other)
    h("multi")
    assert h("exec") is None
    h("watch", "absent")
    h("flushall", ctx=other)
    h("multi")
    assert h("exec") == []


def test_expired_keys_are_published_as_del(h: Harness) -> None:
    h("set", "k", "v", "PX", "10")
    h.effects()
    h.clock.advance(11)
    assert h("get", "k") is None
    assert h.effects() == [(0, [b"DEL", b"k"])]


def test_set_publishes_absolute_expiry(h: Harness) -> None:
    h("set", "k", "v", "EX", "10")
    assert h.effects() == [(0, [b"SET", b"k", b"v", b"PXAT", str(h.clock.ms + 10_000).encode()])]


def test_commandstats_count_calls_failures_and_rejections(h: Harness) -> None:
    from cacheflow.commands import TABLE

    incr = TABLE.get("incr")
    assert incr is not None
    before = (incr.calls, incr.failed_calls, incr.rejected_calls)
    h("set", "s", "abc")
    h("incr", "s")
    h("incr", "n")
    h("incr")
    assert (incr.calls, incr.failed_calls, incr.rejected_calls) == (before[0] + 2, before[1] + 1, before[2] + 1)


def test_exec_publishes_its_effects_as_one_batch_per_database(h: Harness) -> None:
    # Subscribers (the AOF wraps a transaction in MULTI/EXEC) must see it whole, after it ran, with
    # every batch but the last flagged as continued.
    batches: list[tuple[int, list[list[bytes]], bool]] = []
    h.engine.effects.subscribe(lambda index, effects, more: batches.append((index, list(effects), more)))
    h("MULTI")
    h("SET", "a", "1")
    h("INCR", "n")
    h("SELECT", "1")
    h("SET", "b", "2")
    h("GET", "a")
    assert batches == []
    assert h("EXEC") == [b"OK", 1, b"OK", b"OK", None]
    assert batches == [
        (0, [[b"SET", b"a", b"1"], [b"INCR", b"n"]], True),
        (1, [[b"SET", b"b", b"2"]], False),
    ]
    batches.clear()
    h("SET", "c", "3")  # outside a transaction: published at once, alone, never continued
    assert batches == [(1, [[b"SET", b"c", b"3"]], False)]
