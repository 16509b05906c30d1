"""The set command family, run through the engine with no sockets.

Expected replies and error texts were taken from Redis 7.0.15; the
differential suite in tests/integration checks the same ground live.  Here
the focus is what a socket cannot show: the exact write effects, WATCH,
encodings under changed thresholds, reproducible randomness, TTLs kept or
dropped.
"""

import pytest
from engine_harness import Err, Harness

from cacheflow.commands.context import Context

WRONGTYPE = Err("WRONGTYPE Operation against a key holding the wrong kind of value")
SYNTAX = Err("ERR syntax error")
NOT_INT = Err("ERR value is not an integer or out of range")
POSITIVE = Err("ERR value is out of range, must be positive")


@pytest.fixture
def h() -> Harness:
    return Harness()


def effects(h: Harness) -> list[list[bytes]]:
    return [e for _, e in h.effects()]


def members(h: Harness, key: str) -> list[bytes]:
    return sorted(h("SMEMBERS", key))


# -- SADD, SREM, reads -------------------------------------------------------------------


def test_sadd_counts_new_members_and_reports_only_real_changes(h: Harness) -> None:
    assert h("SADD", "s", "a", "b", "a") == 2
    assert h("SADD", "s", "a", "b") == 0
    assert h("SADD", "s", "c") == 1
    assert effects(h) == [[b"SADD", b"s", b"a", b"b", b"a"], [b"SADD", b"s", b"c"]]
    assert members(h, "s") == [b"a", b"b", b"c"]
    assert h("SCARD", "s") == 3


def test_srem_deletes_the_key_with_its_last_member(h: Harness) -> None:
    h("SADD", "s", "1", "2")
    h.effects()
    assert h("SREM", "s", "3") == 0
    assert h("SREM", "nokey", "3") == 0
    assert effects(h) == []
    assert h("SREM", "s", "1", "2", "1") == 2
    assert h("EXISTS", "s") == 0
    assert effects(h) == [[b"SREM", b"s", b"1", b"2", b"1"]]


def test_wrong_type_everywhere(h: Harness) -> None:
    h("SET", "str", "x")
    h("SADD", "s", "a")
    for cmd in [
        ("SADD", "str", "a"),
        ("SREM", "str", "a"),
        ("SMEMBERS", "str"),
        ("SISMEMBER", "str", "a"),
        ("SMISMEMBER", "str", "a"),
        ("SCARD", "str"),
        ("SPOP", "str"),
        ("SPOP", "str", "0"),
        ("SRANDMEMBER", "str"),
        ("SRANDMEMBER", "str", "0"),
        ("SMOVE", "str", "s", "a"),
        ("SMOVE", "s", "str", "a"),
        ("SMOVE", "s", "str", "zz"),
        ("SINTER", "nokey", "str"),
        ("SINTERCARD", "2", "nokey", "str"),
        ("SINTERSTORE", "d", "nokey", "str"),
        ("SUNION", "s", "str"),
        ("SUNIONSTORE", "d", "str"),
        ("SDIFF", "nokey", "str"),
        ("SDIFFSTORE", "d", "s", "str"),
        ("SSCAN", "str", "0"),
        ("SSCAN", "str", "0", "COUNT", "0"),
    ]:
        assert h(*cmd) == WRONGTYPE, cmd
    assert h("SMOVE", "nokey", "str", "a") == 0
    assert h("GET", "str") == b"x"


def test_membership_replies(h: Harness) -> None:
    h("SADD", "s", "1", "x")
    assert h("SISMEMBER", "s", "1") == 1
    assert h("SISMEMBER", "s", "01") == 0
    assert h("SISMEMBER", "nokey", "1") == 0
    assert h("SMISMEMBER", "s", "x", "y", "1") == [1, 0, 1]
    assert h("SMISMEMBER", "nokey", "x", "y") == [0, 0]
    assert h("SCARD", "nokey") == 0


def test_resp3_reply_types(h: Harness) -> None:
    h.ctx.proto = 3
    h("SADD", "s", "2", "1")
    assert h.raw(h.ctx, "SMEMBERS", "s") == b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    assert h.raw(h.ctx, "SMEMBERS", "nokey") == b"~0\r\n"
    assert h.raw(h.ctx, "SUNION", "s", "nokey") == b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    assert h.raw(h.ctx, "SRANDMEMBER", "s", "5") == b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    assert h.raw(h.ctx, "SRANDMEMBER", "nokey", "5") == b"*0\r\n"
    assert h.raw(h.ctx, "SRANDMEMBER", "nokey") == b"_\r\n"
    assert h.raw(h.ctx, "SPOP", "nokey") == b"_\r\n"
    assert h.raw(h.ctx, "SPOP", "nokey", "2") == b"~0\r\n"
    assert h.raw(h.ctx, "SPOP", "s", "0") == b"~0\r\n"
    assert h.raw(h.ctx, "SMISMEMBER", "s", "1") == b"*1\r\n:1\r\n"
    assert h.raw(h.ctx, "SSCAN", "nokey", "0") == b"*2\r\n$1\r\n0\r\n*0\r\n"
    assert h.raw(h.ctx, "SSCAN", "s", "0") == b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    assert h.raw(h.ctx, "SPOP", "s", "5") == b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    h.ctx.proto = 2
    assert h.raw(h.ctx, "SPOP", "nokey") == b"$-1\r\n"
    assert h.raw(h.ctx, "SPOP", "nokey", "1") == b"*0\r\n"


# -- encodings ------------------------------------------------------------------------------


def test_encodings_follow_set_max_intset_entries(h: Harness) -> None:
    h("SADD", "i", "1", "2", "3")
    assert h("OBJECT", "ENCODING", "i") == b"intset"
    h("SADD", "h", "1", "a")
    h("SREM", "h", "a")
    assert h("OBJECT", "ENCODING", "h") == b"hashtable"
    h.config.set_max_intset_entries = 2
    h("SADD", "m", "1", "2")
    assert h("OBJECT", "ENCODING", "m") == b"intset"
    h("SADD", "m", "3")
    assert h("OBJECT", "ENCODING", "m") == b"hashtable"
    h("SADD", "i", "3")
    assert h("OBJECT", "ENCODING", "i") == b"intset"  # no new member: no conversion
    h.config.set_max_intset_entries = 0
    h("SMOVE", "i", "moved", "1")
    assert h("OBJECT", "ENCODING", "moved") == b"hashtable"


def test_store_results_are_encoded_as_built_from_scratch(h: Harness) -> None:
    h("SADD", "big", *range(600))
    h("SREM", "big", *range(10, 600))
    assert h("OBJECT", "ENCODING", "big") == b"hashtable"
    assert h("SUNIONSTORE", "u", "big") == 10
    assert h("OBJECT", "ENCODING", "u") == b"intset"
    assert h("SUNION", "big") == [b"%d" % i for i in range(10)]  # an intset answers in order
    h("SADD", "mixed", "1", "a")
    assert h("SINTERSTORE", "x", "mixed", "mixed") == 2
    assert h("OBJECT", "ENCODING", "x") == b"hashtable"


# -- SPOP and SRANDMEMBER ----------------------------------------------------------------------


def test_spop_effects_are_srem_or_del(h: Harness) -> None:
    h("SADD", "s", *range(10))
    h.effects()
    one = h("SPOP", "s")
    assert effects(h) == [[b"SREM", b"s", one]]
    three = h("SPOP", "s", "3")
    assert len(set(three)) == 3
    assert effects(h) == [[b"SREM", b"s", *three]]
    assert h("SPOP", "s", "0") == []
    assert effects(h) == []
    rest = h("SPOP", "s", "100")
    assert sorted(rest + three + [one], key=int) == [b"%d" % i for i in range(10)]
    assert effects(h) == [[b"DEL", b"s"]]
    assert h("EXISTS", "s") == 0
    h("SADD", "s", "only")
    h.effects()
    assert h("SPOP", "s") == b"only"
    assert effects(h) == [[b"SREM", b"s", b"only"]]
    assert h("EXISTS", "s") == 0


def test_spop_of_many_members_batches_its_srem(h: Harness) -> None:
    h("SADD", "s", *[f"m{i}" for i in range(3000)])
    h.effects()
    popped = h("SPOP", "s", "2500")
    sent = effects(h)
    assert [len(e) - 2 for e in sent] == [1024, 1024, 452]
    assert [m for e in sent for m in e[2:]] == popped
    assert h("SCARD", "s") == 500


def test_spop_and_srandmember_arguments(h: Harness) -> None:
    h("SADD", "s", "a")
    assert h("SPOP", "s", "-1") == POSITIVE
    assert h("SPOP", "nokey", "x") == POSITIVE
    assert h("SPOP", "s", "9223372036854775808") == POSITIVE
    assert h("SPOP", "s", "1", "2") == SYNTAX
    assert h("SRANDMEMBER", "s", "1", "2") == SYNTAX
    assert h("SRANDMEMBER", "s", "x") == NOT_INT
    assert h("SRANDMEMBER", "s", "-0") == NOT_INT
    assert h("SRANDMEMBER", "s", "-9223372036854775808") == Err(
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    )
    assert h("SRANDMEMBER", "s", "0") == []
    assert h("SRANDMEMBER", "s", "-3") == [b"a"] * 3
    assert h("SRANDMEMBER", "s", "-10000001") == Err("ERR value is out of range, the reply would hold too many members")
    assert h("SMEMBERS", "s") == [b"a"]


def test_srandmember_counts(h: Harness) -> None:
    for key, values in (("i", [str(i) for i in range(30)]), ("h", [f"m{i}" for i in range(30)])):
        h("SADD", key, *values)
        everything = sorted(v.encode() for v in values)
        assert sorted(h("SRANDMEMBER", key, "30")) == everything
        assert sorted(h("SRANDMEMBER", key, "9223372036854775807")) == everything
        picked = h("SRANDMEMBER", key, "10")
        assert len(set(picked)) == 10 and set(picked) <= set(everything)
        repeated = h("SRANDMEMBER", key, "-100")
        assert len(repeated) == 100 and set(repeated) <= set(everything)
        assert h("SRANDMEMBER", key) in everything
        assert h("SCARD", key) == 30
    assert h("SRANDMEMBER", "i", "30") == [b"%d" % i for i in range(30)]  # intset order
    assert effects(h)[2:] == []


def test_random_commands_are_reproducible_from_the_seed() -> None:
    def run() -> list[object]:
        h = Harness()
        h("SADD", "s", *[f"m{i}" for i in range(50)])
        h("SADD", "i", *range(50))
        return [h("SPOP", "s"), h("SPOP", "s", "5"), h("SRANDMEMBER", "s", "5"), h("SRANDMEMBER", "i", "-5"),
                h("SPOP", "i", "3"), h("SMEMBERS", "s")]  # fmt: skip

    assert run() == run()


# -- SMOVE ------------------------------------------------------------------------------------


def test_smove(h: Harness) -> None:
    h("SADD", "a", "1", "2")
    h("SADD", "b", "2", "x")
    h.effects()
    assert h("SMOVE", "a", "b", "9") == 0
    assert h("SMOVE", "nokey", "b", "1") == 0
    assert h("SMOVE", "a", "a", "1") == 1
    assert h("SMOVE", "a", "a", "9") == 0
    assert effects(h) == []
    assert h("SMOVE", "a", "b", "2") == 1  # already in b: only a changes
    assert effects(h) == [[b"SREM", b"a", b"2"]]
    assert h("SMOVE", "a", "c", "1") == 1
    assert effects(h) == [[b"SMOVE", b"a", b"c", b"1"]]
    assert h("EXISTS", "a") == 0
    assert h("SMEMBERS", "c") == [b"1"]
    assert h("OBJECT", "ENCODING", "c") == b"intset"
    assert h("SMOVE", "b", "c", "x") == 1
    assert h("OBJECT", "ENCODING", "c") == b"hashtable"
    assert members(h, "b") == [b"2"]


def test_smove_breaks_a_watch_on_the_destination_only_when_it_grows(h: Harness) -> None:
    h("SADD", "a", "1", "2")
    h("SADD", "b", "2")
    watcher = h.client()
    h.raw(watcher, "WATCH", "b")
    h("SMOVE", "a", "b", "2")
    assert not watcher.watch_dirty
    h("SMOVE", "a", "b", "1")
    assert watcher.watch_dirty


# -- algebra --------------------------------------------------------------------------------------


def test_inter_union_diff(h: Harness) -> None:
    h("SADD", "a", "1", "2", "3", "x")
    h("SADD", "b", "2", "3", "4")
    h("SADD", "c", "3", "4", "5")
    assert sorted(h("SINTER", "a", "b")) == [b"2", b"3"]
    assert h("SINTER", "a", "b", "c") == [b"3"]
    assert h("SINTER", "b", "c") == [b"3", b"4"]
    assert h("SINTER", "a", "nokey") == []
    assert h("SUNION", "b", "c") == [b"2", b"3", b"4", b"5"]
    assert sorted(h("SUNION", "a", "nokey", "c")) == sorted([b"1", b"2", b"3", b"x", b"4", b"5"])
    assert sorted(h("SDIFF", "a", "b")) == [b"1", b"x"]
    assert h("SDIFF", "b", "a", "c") == []
    assert h("SDIFF", "b", "nokey") == [b"2", b"3", b"4"]
    assert h("SDIFF", "nokey", "b") == []
    assert h("SINTERCARD", "2", "a", "b") == 2
    assert h("SINTERCARD", "2", "a", "b", "LIMIT", "1") == 1
    assert h("SINTERCARD", "2", "a", "b", "limit", "0") == 2
    assert h("SINTERCARD", "1", "a", "LIMIT", "3", "LIMIT", "2") == 2
    assert h("SINTERCARD", "2", "a", "nokey") == 0


def test_sintercard_arguments(h: Harness) -> None:
    h("SADD", "s", "a")
    h("SET", "str", "x")
    numkeys = Err("ERR numkeys should be greater than 0")
    assert h("SINTERCARD", "0", "s") == numkeys
    assert h("SINTERCARD", "x", "s") == numkeys
    assert h("SINTERCARD", "9223372036854775808", "s") == numkeys
    assert h("SINTERCARD", "3", "s", "s") == Err("ERR Number of keys can't be greater than number of args")
    assert h("SINTERCARD", "1", "s", "LIMIT", "-1") == Err("ERR LIMIT can't be negative")
    assert h("SINTERCARD", "2", "nokey", "str", "LIMIT", "x") == Err("ERR LIMIT can't be negative")
    assert h("SINTERCARD", "1", "s", "LIMIT") == SYNTAX
    assert h("SINTERCARD", "1", "s", "s") == SYNTAX
    assert h("COMMAND", "GETKEYS", "SINTERCARD", "2", "a", "b", "LIMIT", "1") == [b"a", b"b"]


def test_store_commands_replace_any_destination(h: Harness) -> None:
    h("SADD", "a", "1", "2")
    h("SADD", "b", "2", "3")
    h("SET", "d", "v", "EX", "100")
    h.effects()
    assert h("SUNIONSTORE", "d", "a", "b") == 3
    assert h("TTL", "d") == -1
    assert h("SMEMBERS", "d") == [b"1", b"2", b"3"]
    assert effects(h) == [[b"DEL", b"d"], [b"SADD", b"d", b"1", b"2", b"3"]]
    assert h("SINTERSTORE", "n", "a", "b") == 1
    assert effects(h) == [[b"SADD", b"n", b"2"]]
    assert h("SDIFFSTORE", "d", "a", "a") == 0
    assert h("EXISTS", "d") == 0
    assert effects(h) == [[b"DEL", b"d"]]
    assert h("SDIFFSTORE", "d", "a", "a") == 0
    assert effects(h) == []
    assert h("SINTERSTORE", "a", "a", "b") == 1  # a source may be the destination
    assert h("SMEMBERS", "a") == [b"2"]
    h("SET", "str", "x")
    assert h("SINTERSTORE", "str", "nokey", "a") == 0
    assert h("EXISTS", "str") == 0


@pytest.mark.parametrize(
    "command",
    [("SINTERSTORE", "d", "src", "src"), ("SUNIONSTORE", "d", "src"), ("SDIFFSTORE", "d", "src", "nokey")],
)
def test_store_commands_break_watches_on_the_destination_only(h: Harness, command: tuple[str, ...]) -> None:
    h("SADD", "src", "1")
    on_src, on_dst = h.client(), h.client()
    h.raw(on_src, "WATCH", "src")
    h.raw(on_dst, "WATCH", "d")
    h(*command)
    assert not on_src.watch_dirty
    assert on_dst.watch_dirty


# -- SSCAN ----------------------------------------------------------------------------------------


def test_sscan(h: Harness) -> None:
    h("SADD", "i", *range(100))
    assert h("SSCAN", "i", "0") == [b"0", [b"%d" % i for i in range(100)]]
    assert h("SSCAN", "i", "0", "MATCH", "1?") == [b"0", [b"%d" % i for i in range(10, 20)]]
    h("SADD", "h", *[f"m{i}" for i in range(100)])
    seen: list[bytes] = []
    cursor = b"0"
    calls = 0
    while True:
        cursor, batch = h("SSCAN", "h", cursor, "COUNT", "7")
        seen += batch
        calls += 1
        if cursor == b"0":
            break
    assert sorted(seen) == sorted(f"m{i}".encode() for i in range(100))
    assert calls > 10
    cursor, batch = h("SSCAN", "h", "0", "MATCH", "m1*", "COUNT", "1000")
    assert cursor == b"0" and sorted(batch) == sorted(f"m{i}".encode() for i in range(100) if str(i).startswith("1"))


def test_sscan_arguments(h: Harness) -> None:
    h("SADD", "s", "a")
    assert h("SSCAN", "s", "x") == Err("ERR invalid cursor")
    assert h("SSCAN", "nokey", "x") == Err("ERR invalid cursor")
    assert h("SSCAN", "nokey", "0", "COUNT", "0") == [b"0", []]
    assert h("SSCAN", "s", "0", "COUNT", "0") == SYNTAX
    assert h("SSCAN", "s", "0", "COUNT", "x") == NOT_INT
    assert h("SSCAN", "s", "0", "TYPE", "string") == SYNTAX
    assert h("SSCAN", "s", "0", "MATCH") == SYNTAX
    assert h("SSCAN", "s", "-1") == [b"0", [b"a"]]


# -- TTLs and generic commands --------------------------------------------------------------------


def test_changes_in_place_keep_the_ttl(h: Harness) -> None:
    h("SADD", "s", "1", "2", "3")
    h("EXPIRE", "s", "100")
    h("SADD", "s", "x")
    h("SREM", "s", "1")
    h("SPOP", "s")
    h("SMOVE", "other", "s", "1")
    assert h("TTL", "s") == 100
    h.clock.advance(100_001)
    assert h("SCARD", "s") == 0


def test_type_copy_and_memory_usage(h: Harness) -> None:
    h("SADD", "s", "a", "b")
    assert h("TYPE", "s") == b"set"
    assert h("COPY", "s", "t") == 1
    h("SADD", "t", "c")
    assert h("SCARD", "s") == 2
    assert h("MEMORY", "USAGE", "s") > 0
    assert h("SCAN", "0", "TYPE", "set") == [b"0", [b"s", b"t"]]


def test_multi_queues_set_commands(h: Harness) -> None:
    ctx: Context = h.client()
    assert h.run(ctx, "MULTI") == b"OK"
    h.run(ctx, "SADD", "s", "1")
    h.run(ctx, "SPOP", "s", "-1")
    h.run(ctx, "SCARD", "s")
    assert h.run(ctx, "EXEC") == [1, POSITIVE, 1]
