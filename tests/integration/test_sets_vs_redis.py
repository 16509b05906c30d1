"""Set commands, differentially: the same sequences on CacheFlow and on redis-server.

Replies are compared as raw bytes off the wire, in RESP2 and RESP3, error
texts included.  Where Redis's reply order is an accident of its hash table
(SMEMBERS of a hashtable set, SINTER, SSCAN batching), the comparison is
still exact about everything else: the reply type and length byte for byte,
and the members as a sorted list.  Where Redis's order is deterministic (an
intset iterates in ascending order; SUNION and SDIFF answer through a set
they build, which is an intset when the result allows), replies are compared
byte for byte.  Random commands are compared by what is deterministic about
them (type, count, distinctness, membership), and after an SPOP both servers
are brought back to the same contents without changing their encodings.
"""

from typing import Any

import pytest
import redis
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test
from pair import Pair, assert_watch_breaks_alike, open_pair
from servers import ServerProcess
from wire import Arg, Wire

# -- reading raw replies ------------------------------------------------------------------------


def parse(raw: bytes, pos: int = 0) -> tuple[Any, int]:
    """A reply as (type byte, value) plus where it ends: enough RESP for the set commands' replies."""
    kind = raw[pos : pos + 1]
    end = raw.index(b"\r\n", pos)
    head = raw[pos + 1 : end]
    pos = end + 2
    if kind in (b"*", b"~") and head != b"-1":
        items = []
        for _ in range(int(head)):
            item, pos = parse(raw, pos)
            items.append(item)
        return (kind, items), pos
    if kind == b"$" and head != b"-1":
        n = int(head)
        return (kind, raw[pos : pos + n]), pos + n + 2
    return (kind, head), pos


def decoded(raw: bytes) -> Any:
    value, end = parse(raw)
    assert end == len(raw)
    return value


def members_of(raw: bytes) -> tuple[bytes, int, list[bytes]]:
    """(aggregate type, count, sorted members) of a flat reply of bulk strings."""
    kind, items = decoded(raw)
    return kind, len(items), sorted(value for _, value in items)


def same_members(pair: Pair, *command: Arg) -> tuple[bytes, int, list[bytes]]:
    """The same aggregate type, count and members, in any order."""
    mine, real = pair.both(*command)
    if mine.startswith(b"-") or real.startswith(b"-"):
        assert mine == real, f"{command!r}: CacheFlow {mine!r}, Redis {real!r}"
        return b"-", 0, []
    ours, theirs = members_of(mine), members_of(real)
    assert ours == theirs, f"{command!r}: CacheFlow {mine!r}, Redis {real!r}"
    return ours


def encoding(pair: Pair, key: Arg) -> bytes:
    return pair.same("OBJECT", "ENCODING", key)


def same_smembers(pair: Pair, key: Arg) -> None:
    """Byte for byte when Redis's order is deterministic (an intset), else as members."""
    if encoding(pair, key) == b"$6\r\nintset\r\n":
        pair.same("SMEMBERS", key)
    else:
        same_members(pair, "SMEMBERS", key)


def whole_scan(conn: Wire, key: Arg, *options: Arg) -> list[bytes]:
    cursor = b"0"
    seen: list[bytes] = []
    for _ in range(10_000):
        raw = conn.call("SSCAN", key, cursor, *options)
        if raw.startswith(b"-"):
            return [raw]
        (_, [(_, cursor), (_, batch)]) = decoded(raw)
        seen += [value for _, value in batch]
        if cursor == b"0":
            return sorted(set(seen))
    raise AssertionError("SSCAN never finished")


def same_scan(pair: Pair, key: Arg, *options: Arg) -> None:
    """A whole SSCAN iteration returns the same members on both servers."""
    assert whole_scan(pair.ours, key, *options) == whole_scan(pair.theirs, key, *options), (key, options)


def resync(pair: Pair, key: Arg) -> None:
    """After random removals, give CacheFlow Redis's contents without recreating the key."""
    real = set(members_of(pair.theirs.call("SMEMBERS", key))[2])
    mine = set(members_of(pair.ours.call("SMEMBERS", key))[2])
    # Add before removing, so that the key never empties (which would recreate it).
    if real - mine:
        assert pair.ours.call("SADD", key, *sorted(real - mine)).startswith(b":")
    if mine - real:
        assert pair.ours.call("SREM", key, *sorted(mine - real)).startswith(b":")
    same_members(pair, "SMEMBERS", key)
    pair.same("SCARD", key)


def supports(pair: Pair, *command: Arg) -> bool:
    return not pair.ours.call(*command).startswith(b"-ERR unknown command")


# -- basics and errors ------------------------------------------------------------------------------


def test_add_remove_and_read(pair: Pair) -> None:
    pair.script(
        """
        SADD s 3 1 2 1
        SADD s 2
        SMEMBERS s
        SCARD s
        SISMEMBER s 1
        SISMEMBER s 01
        SISMEMBER nokey 1
        SMISMEMBER s 1 5 3
        SMISMEMBER nokey a b
        SREM s 5
        SREM s 1 1 3
        SMEMBERS s
        SREM s 2
        EXISTS s
        SMEMBERS nokey
        SCARD nokey
        SREM nokey a
        SADD s 01 -0 +1 9223372036854775807 -9223372036854775808 9223372036854775808
        OBJECT ENCODING s
        SCARD s
        SISMEMBER s 9223372036854775807
        SISMEMBER s 1
        SADD i -5 32767 -32768 32768 2147483647 -2147483649 9223372036854775807 -9223372036854775808 0
        OBJECT ENCODING i
        SMEMBERS i
        SISMEMBER i 2147483647
        SISMEMBER i 2147483648
        SREM i 9223372036854775807 -9223372036854775808 x 01
        SMEMBERS i
        TYPE i
        SADD
        SADD s
        SREM s
        SMEMBERS
        SMEMBERS a b
        SISMEMBER s
        SISMEMBER s a b
        SMISMEMBER s
        SCARD
        SCARD a b
        """
    )
    pair.same("SADD", "bin", b"\x00\xff", b"", b"\r\n")
    same_members(pair, "SMEMBERS", "bin")
    pair.same("SISMEMBER", "bin", b"")
    pair.same("SMISMEMBER", "bin", b"\x00\xff", b"\x00")


def test_wrong_types(pair: Pair) -> None:
    pair.script(
        """
        SET str x
        SADD s a
        SADD str a
        SREM str a
        SMEMBERS str
        SISMEMBER str a
        SMISMEMBER str a b
        SCARD str
        SPOP str
        SPOP str 0
        SPOP str -1
        SRANDMEMBER str
        SRANDMEMBER str 0
        SRANDMEMBER str x
        SMOVE str s a
        SMOVE s str a
        SMOVE s str nomember
        SMOVE nokey str a
        SMOVE str str a
        SINTER nokey str
        SINTER str nokey
        SINTER s str
        SUNION nokey str
        SDIFF nokey str
        SDIFF s str
        SINTERCARD 2 nokey str
        SINTERCARD 1 str LIMIT -1
        SINTERSTORE d nokey str
        SUNIONSTORE d str
        SDIFFSTORE d s str
        EXISTS d
        SSCAN str 0
        SSCAN str 0 COUNT 0
        SSCAN str x
        GET str
        """
    )


def test_encodings_and_thresholds(pair2: Pair) -> None:
    pair = pair2
    if not supports(pair, "CONFIG", "GET", "set-max-intset-entries"):
        pytest.skip("CacheFlow has no CONFIG yet")
    pair.same("SADD", "big", *range(513))
    pair.same("OBJECT", "ENCODING", "big")
    pair.same("SADD", "full", *range(512))
    pair.same("OBJECT", "ENCODING", "full")
    pair.same("SMEMBERS", "full")
    pair.same("SADD", "full", 511)
    pair.same("OBJECT", "ENCODING", "full")
    pair.same("SADD", "full", 512)
    pair.same("OBJECT", "ENCODING", "full")
    pair.same("SREM", "big", *range(10, 513))
    pair.same("OBJECT", "ENCODING", "big")
    pair.same("SUNION", "big")
    pair.same("SDIFF", "big", "nokey")
    pair.same("SUNIONSTORE", "u", "big")
    pair.same("OBJECT", "ENCODING", "u")
    pair.same("SMEMBERS", "u")
    pair.same("SINTERSTORE", "i", "big", "big")
    pair.same("OBJECT", "ENCODING", "i")
    pair.script(
        """
        SADD mixed 1 a
        OBJECT ENCODING mixed
        SREM mixed a
        OBJECT ENCODING mixed
        SUNIONSTORE m2 mixed
        OBJECT ENCODING m2
        CONFIG SET set-max-intset-entries 2
        SADD m 1 2
        OBJECT ENCODING m
        SADD m 2
        OBJECT ENCODING m
        SADD m 3
        OBJECT ENCODING m
        SADD m3 1 2 3
        OBJECT ENCODING m3
        SUNIONSTORE m4 u
        OBJECT ENCODING m4
        SADD z 1
        CONFIG SET set-max-intset-entries 0
        SADD z 1
        OBJECT ENCODING z
        SADD z 2
        OBJECT ENCODING z
        SADD zz 5
        OBJECT ENCODING zz
        SMOVE i moved 1
        OBJECT ENCODING moved
        CONFIG SET set-max-intset-entries 512
        """
    )


# -- SPOP and SRANDMEMBER -----------------------------------------------------------------------------


def test_random_commands_arguments(pair: Pair) -> None:
    pair.script(
        """
        SADD s a
        SPOP s -1
        SPOP s x
        SPOP nokey -1
        SPOP nokey x
        SPOP s 1 2
        SPOP s 9223372036854775808
        SPOP nokey
        SPOP nokey 0
        SPOP nokey 3
        SPOP s 0
        SRANDMEMBER s -9223372036854775808
        SRANDMEMBER s x
        SRANDMEMBER nokey x
        SRANDMEMBER s -0
        SRANDMEMBER s 1 2
        SRANDMEMBER nokey
        SRANDMEMBER nokey 3
        SRANDMEMBER nokey -3
        SRANDMEMBER s 0
        SRANDMEMBER s
        SRANDMEMBER s 1
        SRANDMEMBER s -1
        SRANDMEMBER s -5
        SRANDMEMBER s 5
        SRANDMEMBER s 9223372036854775807
        SPOP s
        EXISTS s
        SADD s a
        SPOP s 1
        EXISTS s
        SADD s 5
        SPOP s 9223372036854775807
        SPOP
        SRANDMEMBER
        """
    )


@pytest.mark.parametrize(("members", "popped"), [(600, 597), (600, 499), (600, 500), (100, 99)])
def test_spop_of_most_of_a_set_rebuilds_it_as_redis_does(pair: Pair, members: int, popped: int) -> None:
    """Redis builds a new set from the few members that stay (at most a fifth of the popped count):
    a hashtable of integers becomes an intset again."""
    pair.same("SADD", "s", *[str(i) for i in range(members)])
    pair.same("SADD", "t", *[f"m{i}" for i in range(members)])
    pair.same("OBJECT", "ENCODING", "s")
    for key in ("s", "t"):
        for conn in (pair.ours, pair.theirs):
            conn.call("SPOP", key, popped)
        pair.same("SCARD", key)
        pair.same("OBJECT", "ENCODING", key)


@pytest.mark.parametrize("kind", ["intset", "hashtable"])
def test_srandmember_shapes(pair: Pair, kind: str) -> None:
    values = [str(i * 3) for i in range(40)] if kind == "intset" else [f"m{i}" for i in range(40)]
    pair.same("SADD", "s", *values)
    pair.same("OBJECT", "ENCODING", "s")
    everything = sorted(v.encode() for v in values)
    for count in (40, 1000):
        if kind == "intset":
            pair.same("SRANDMEMBER", "s", count)
        else:
            same_members(pair, "SRANDMEMBER", "s", count)
    for count in (1, 2, 10, 20, 30, 39):
        for conn in (pair.ours, pair.theirs):
            kind_byte, items = decoded(conn.call("SRANDMEMBER", "s", count))
            got = [v for _, v in items]
            assert kind_byte == b"*" and len(got) == count == len(set(got)) and set(got) <= set(everything)
    for count in (-1, -5, -200):
        for conn in (pair.ours, pair.theirs):
            kind_byte, items = decoded(conn.call("SRANDMEMBER", "s", count))
            got = [v for _, v in items]
            assert kind_byte == b"*" and len(got) == -count and set(got) <= set(everything)
    for conn in (pair.ours, pair.theirs):
        assert decoded(conn.call("SRANDMEMBER", "s"))[1] in everything
    same_members(pair, "SMEMBERS", "s")


@pytest.mark.parametrize("kind", ["intset", "hashtable"])
def test_spop_shapes(pair: Pair, kind: str) -> None:
    values = [str(i) for i in range(50)] if kind == "intset" else [f"m{i}" for i in range(50)]
    pair.same("SADD", "s", *values)
    for count in (None, 1, 3, 20, 10):
        args: tuple[Arg, ...] = ("SPOP", "s") if count is None else ("SPOP", "s", count)
        before = set(members_of(pair.theirs.call("SMEMBERS", "s"))[2])
        replies = [conn.call(*args) for conn in (pair.ours, pair.theirs)]
        shapes = []
        for raw in replies:
            kind_byte, value = decoded(raw)
            got = [value] if count is None else [v for _, v in value]
            assert len(set(got)) == len(got) and set(got) <= before
            shapes.append((kind_byte, len(got)))
        assert shapes[0] == shapes[1], replies
        resync(pair, "s")
        pair.same("OBJECT", "ENCODING", "s")
    pair.same("SCARD", "s")
    same_members(pair, "SPOP", "s", 15)  # the rest: the whole set, deterministic
    pair.same("EXISTS", "s")


def test_spop_of_a_whole_intset_answers_in_order(pair: Pair) -> None:
    pair.same("SADD", "s", 5, -2, 100, 7)
    pair.same("SPOP", "s", 4)
    pair.same("EXISTS", "s")


# -- SMOVE --------------------------------------------------------------------------------------------


def test_smove(pair: Pair) -> None:
    pair.script(
        """
        SADD a 1 2 3
        SADD b 3 x
        SMOVE a b 9
        SMOVE nokey b 1
        SMOVE nokey nokey2 1
        SMOVE a a 1
        SMOVE a a 9
        SMOVE a b 3
        SMEMBERS a
        SMOVE a c 1
        SMEMBERS c
        OBJECT ENCODING c
        SMOVE a c 2
        EXISTS a
        SMEMBERS c
        SMOVE b c x
        OBJECT ENCODING c
        SMEMBERS b
        SADD t 1
        EXPIRE t 1000
        SMOVE c t 1
        SMOVE c t 2
        TTL t
        SMOVE a b
        SMOVE a b c d
        """
    )


# -- algebra --------------------------------------------------------------------------------------------


def test_intersections_unions_differences(pair: Pair) -> None:
    pair.script(
        """
        SADD a 1 2 3 4 5
        SADD b 4 5 6 7
        SADD c 5 7 9
        SADD h 1 x 5 y 9
        SINTER a b
        SINTER a b c
        SINTER c b a
        SINTER a nokey
        SINTER nokey a
        SINTER a
        SUNION a b
        SUNION c a nokey b
        SUNION nokey
        SDIFF a b
        SDIFF a b c
        SDIFF c a
        SDIFF a nokey
        SDIFF nokey a
        SDIFF a a
        SINTERCARD 1 a
        SINTERCARD 2 a b
        SINTERCARD 3 a b c
        SINTERCARD 2 a b LIMIT 1
        SINTERCARD 2 a b LIMIT 0
        SINTERCARD 2 a b limit 5 LIMIT 1
        SINTERCARD 2 a nokey
        SINTERCARD 1 nokey LIMIT 5
        SINTERCARD 2 a h
        SINTERCARD 0 a
        SINTERCARD -1 a
        SINTERCARD x a
        SINTERCARD 9223372036854775808 a
        SINTERCARD 3 a b
        SINTERCARD 1 a LIMIT -1
        SINTERCARD 1 a LIMIT x
        SINTERCARD 1 a LIMIT 9223372036854775808
        SINTERCARD 2 nokey str LIMIT x
        SINTERCARD 1 a FOO
        SINTERCARD 1 a LIMIT
        SINTERCARD 1 a a
        SINTERCARD 1
        SINTER
        SUNION
        SDIFF
        """
    )
    for command in (
        ("SINTER", "a", "h"),
        ("SINTER", "h", "h"),
        ("SUNION", "a", "h"),
        ("SUNION", "h"),
        ("SDIFF", "h", "a"),
        ("SDIFF", "a", "h"),
    ):
        same_members(pair, *command)


def test_store_commands(pair: Pair) -> None:
    pair.script(
        """
        SADD a 1 2 3
        SADD b 2 3 4
        SADD h x 2 y
        SET d v EX 1000
        SINTERSTORE d a b
        TTL d
        TYPE d
        SMEMBERS d
        OBJECT ENCODING d
        SUNIONSTORE d a b
        SMEMBERS d
        SDIFFSTORE d a b
        SMEMBERS d
        SINTERSTORE d a nokey
        EXISTS d
        SUNIONSTORE d nokey nokey2
        EXISTS d
        SDIFFSTORE d a a
        SDIFFSTORE d nokey a
        SUNIONSTORE d h a
        OBJECT ENCODING d
        SCARD d
        SINTERSTORE d h a
        OBJECT ENCODING d
        SMEMBERS d
        SINTERSTORE a a b
        SMEMBERS a
        SUNIONSTORE b b nokey
        SMEMBERS b
        SET str x
        SINTERSTORE str nokey a
        EXISTS str
        SET str x
        SUNIONSTORE str a
        TYPE str
        SINTERSTORE d
        SUNIONSTORE d
        SDIFFSTORE d
        """
    )


# -- SSCAN -------------------------------------------------------------------------------------------------


def test_sscan_arguments_and_intsets(pair: Pair) -> None:
    pair.script(
        """
        SADD s 1 2 3 10 11 12
        SSCAN s 0
        SSCAN s 0 COUNT 1
        SSCAN s 5
        SSCAN s -1
        SSCAN s 0 MATCH 1*
        SSCAN s 0 MATCH * COUNT 2
        SSCAN s 0 match 1? count 100 MATCH 2*
        SSCAN s x
        SSCAN nokey x
        SSCAN s 18446744073709551616
        SSCAN nokey 0
        SSCAN nokey 0 COUNT 0
        SSCAN nokey 0 FOO
        SSCAN s 0 COUNT 0
        SSCAN s 0 COUNT -1
        SSCAN s 0 COUNT x
        SSCAN s 0 TYPE string
        SSCAN s 0 MATCH
        SSCAN s 0 FOO bar
        SSCAN s
        """
    )


def test_sscan_hashtables(pair: Pair) -> None:
    pair.same("SADD", "h", *[f"member:{i}" for i in range(300)], *range(50))
    for options in (
        (),
        ("COUNT", 1),
        ("COUNT", 7),
        ("COUNT", 1000),
        ("MATCH", "member:1*"),
        ("MATCH", "*5", "COUNT", 3),
    ):
        same_scan(pair, "h", *options)
    pair.same("SADD", "mixed", 1, 2, "a")
    same_scan(pair, "mixed")
    pair.same("SADD", "small", "a")
    pair.same("SSCAN", "small", 0)


def test_sscan_with_integer_members_matches_their_text(pair: Pair) -> None:
    pair.same("SADD", "s", 1, "a", 12)
    same_scan(pair, "s", "MATCH", "*a*", "COUNT", 100)
    same_scan(pair, "s", "MATCH", "1*")


# -- transactions, WATCH, TTLs --------------------------------------------------------------------------------


def test_transactions_with_set_commands(pair: Pair) -> None:
    pair.script(
        """
        MULTI
        SADD s 1 2 3
        SREM s 2
        SMEMBERS s
        SPOP s -1
        SINTERCARD 1 s
        SUNIONSTORE d s
        EXEC
        SMEMBERS d
        """
    )


WATCH_CASES: list[tuple[list[tuple[str, ...]], tuple[str, ...]]] = [
    ([("SADD", "k", "a")], ("SADD", "k", "a")),
    ([("SADD", "k", "a")], ("SADD", "k", "b")),
    ([], ("SREM", "k", "a")),
    ([("SADD", "k", "a")], ("SREM", "k", "b")),
    ([("SADD", "k", "a", "b")], ("SREM", "k", "b")),
    ([("SADD", "k", "a")], ("SPOP", "k")),
    ([("SADD", "k", "a")], ("SPOP", "k", "0")),
    ([("SADD", "k", "a", "b")], ("SPOP", "k", "1")),
    ([("SADD", "k", "a", "b")], ("SPOP", "k", "5")),
    ([("SADD", "k", "a")], ("SRANDMEMBER", "k", "-3")),
    ([("SADD", "k", "a"), ("SADD", "o", "a")], ("SMOVE", "o", "k", "a")),
    ([("SADD", "o", "a")], ("SMOVE", "o", "k", "a")),
    ([("SADD", "k", "a")], ("SMOVE", "k", "o", "a")),
    ([("SADD", "k", "a")], ("SMOVE", "k", "k", "a")),
    ([("SADD", "k", "a")], ("SMOVE", "k", "o", "zz")),
    ([("SADD", "k", "a"), ("SADD", "o", "b")], ("SINTERSTORE", "d", "k", "o")),
    ([("SADD", "k", "a"), ("SADD", "o", "b")], ("SUNIONSTORE", "d", "k", "o")),
    ([("SADD", "k", "a")], ("SDIFFSTORE", "d", "k")),
    ([("SADD", "o", "a")], ("SUNIONSTORE", "k", "o")),
    ([("SADD", "k", "a")], ("SINTERSTORE", "k", "nokey")),
    ([], ("SINTERSTORE", "k", "nokey")),
    ([("SET", "k", "v")], ("SUNIONSTORE", "k", "nokey")),
]


@pytest.mark.parametrize(("setup", "command"), WATCH_CASES, ids=lambda c: " ".join(map(str, c)) if c else "-")
def test_which_commands_break_a_watch(
    cacheflow: ServerProcess, real_redis: ServerProcess, setup: list[tuple[str, ...]], command: tuple[str, ...]
) -> None:
    assert_watch_breaks_alike(cacheflow, real_redis, setup, command)


def test_ttls_survive_changes_in_place(pair: Pair) -> None:
    pair.script(
        """
        SADD s 1 2 3 a
        EXPIRE s 1000
        SADD s 4
        SREM s 1
        SPOP s 0
        SMOVE nokey s 1
        TTL s
        SUNIONSTORE s s
        TTL s
        """
    )


def test_generic_commands_on_sets(pair: Pair) -> None:
    pair.script(
        """
        SADD i 3 1 2
        SADD h a b 1
        DEBUG DIGEST-VALUE i h nokey
        COPY i i2
        COPY h h2
        OBJECT ENCODING i2
        OBJECT ENCODING h2
        SADD i2 4
        SREM h2 a
        SMEMBERS i
        SCARD h
        DEBUG DIGEST-VALUE i2 h2
        RENAME h2 h3
        TYPE h3
        """
    )


def keyspace_stats(conn: Wire) -> list[bytes]:
    info = decoded(conn.call("INFO", "stats"))[1]
    return [line for line in info.split(b"\r\n") if line.startswith((b"keyspace_hits:", b"keyspace_misses:"))]


@pytest.mark.parametrize(
    "command",
    [
        ("SADD", "s", "x"),
        ("SREM", "s", "x"),
        ("SMEMBERS", "s"),
        ("SMEMBERS", "nokey"),
        ("SISMEMBER", "s", "1"),
        ("SMISMEMBER", "nokey", "1"),
        ("SCARD", "s"),
        ("SPOP", "s"),
        ("SPOP", "s", "1"),
        ("SPOP", "s", "0"),
        ("SPOP", "s", "100"),
        ("SRANDMEMBER", "s"),
        ("SRANDMEMBER", "nokey", "3"),
        ("SMOVE", "s", "t", "1"),
        ("SINTER", "s", "nokey"),
        ("SINTERCARD", "2", "s", "t"),
        ("SUNIONSTORE", "d", "s", "nokey"),
        ("SDIFFSTORE", "d", "s", "t"),
        ("SSCAN", "s", "0"),
    ],
    ids=" ".join,
)
def test_keyspace_hits_and_misses(pair2: Pair, command: tuple[str, ...]) -> None:
    pair2.same("SADD", "s", "1", "2", "3")
    pair2.same("SADD", "t", "3", "4")
    pair2.same("CONFIG", "RESETSTAT")
    mine, _ = pair2.both(*command)
    assert not mine.startswith(b"-"), mine
    assert keyspace_stats(pair2.ours) == keyspace_stats(pair2.theirs)


# -- through a client library -------------------------------------------------------------------------------------


def test_redis_py_set_api(r: redis.Redis, rr: redis.Redis) -> None:
    def run(c: redis.Redis) -> list[Any]:
        return [
            c.sadd("a", "1", "2", "3", "x"),
            c.sadd("b", "2", "3", "y"),
            c.smembers("a"),
            c.sismember("a", "x"),
            c.smismember("a", ["1", "9"]),
            c.scard("a"),
            c.srem("a", "x", "nope"),
            c.sinter("a", "b"),
            c.sintercard(2, ["a", "b"], limit=1),
            c.sunion("a", "b"),
            c.sdiff("a", "b"),
            c.sinterstore("d", ["a", "b"]),
            c.sunionstore("d", ["a", "b"]),
            c.sdiffstore("d", ["a", "b"]),
            c.smembers("d"),
            c.smove("a", "b", "1"),
            c.smembers("b"),
            sorted(c.sscan_iter("b")),
            len(c.srandmember("b", 2)),
            len(c.srandmember("b", -7)),
            c.srandmember("nokey"),
            c.spop("nokey"),
            len(c.spop("b", 2)),
            c.scard("b"),
        ]

    assert run(r) == run(rr)


# -- random sequences ----------------------------------------------------------------------------------------------

KEYS = ["a", "b", "c"]
MEMBERS = st.sampled_from(["0", "1", "2", "7", "-3", "100", "9223372036854775807", "01", "x", "y", "hello", ""])
SOURCES = st.lists(st.sampled_from([*KEYS, "nokey", "str"]), min_size=1, max_size=3)


def test_random_command_sequences(cacheflow: ServerProcess, real_redis: ServerProcess) -> None:
    """Hypothesis drives both servers through the same set commands and compares every reply."""

    class Sequences(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.pair = open_pair(cacheflow, real_redis, 2)

        def teardown(self) -> None:
            self.pair.ours.close()
            self.pair.theirs.close()

        @initialize()
        def start_empty(self) -> None:
            self.pair.same("FLUSHALL")
            self.pair.same("SET", "str", "x")

        def has_set(self, key: str) -> bool:
            return self.pair.same("TYPE", key) == b"+set\r\n"

        @rule(key=st.sampled_from([*KEYS, "str"]), members=st.lists(MEMBERS, min_size=1, max_size=5))
        def sadd(self, key: str, members: list[str]) -> None:
            self.pair.same("SADD", key, *members)

        @rule(key=st.sampled_from([*KEYS, "str"]), size=st.integers(1, 600), base=st.sampled_from([0, 1000, 2**40]))
        def sadd_many(self, key: str, size: int, base: int) -> None:
            self.pair.same("SADD", key, *range(base, base + size))

        @rule(key=st.sampled_from([*KEYS, "str"]), members=st.lists(MEMBERS, min_size=1, max_size=5))
        def srem(self, key: str, members: list[str]) -> None:
            self.pair.same("SREM", key, *members)

        @rule(key=st.sampled_from([*KEYS, "nokey", "str"]), members=st.lists(MEMBERS, min_size=1, max_size=3))
        def read(self, key: str, members: list[str]) -> None:
            self.pair.same("SCARD", key)
            self.pair.same("SISMEMBER", key, members[0])
            self.pair.same("SMISMEMBER", key, *members)
            self.pair.same("TYPE", key)
            if self.has_set(key):
                same_smembers(self.pair, key)
            else:
                self.pair.same("SMEMBERS", key)

        @rule(key=st.sampled_from([*KEYS, "nokey", "str"]), count=st.sampled_from([None, "0", "1", "2", "5", "1000"]))
        def spop(self, key: str, count: str | None) -> None:
            args: tuple[Arg, ...] = ("SPOP", key) if count is None else ("SPOP", key, count)
            whole_set = count == "1000" and self.has_set(key)
            mine, real = self.pair.both(*args)
            if mine.startswith((b"-", b"$-1", b"*0")) or count == "1000":
                if whole_set:
                    assert members_of(mine) == members_of(real)
                else:
                    assert mine == real, (args, mine, real)
                return
            kind_m, kind_r = mine[:1], real[:1]
            assert kind_m == kind_r and (count is None or decoded(mine)[1].__len__() == decoded(real)[1].__len__())
            if self.pair.same("EXISTS", key) == b":1\r\n":
                resync(self.pair, key)

        @rule(key=st.sampled_from([*KEYS, "nokey", "str"]), count=st.sampled_from(["0", "1", "3", "-3", "1000", "x"]))
        def srandmember(self, key: str, count: str) -> None:
            mine, real = self.pair.both("SRANDMEMBER", key, count)
            if count in ("1000",) or mine.startswith((b"-", b"*0")):
                if count == "1000" and self.has_set(key) and encoding(self.pair, key) != b"$6\r\nintset\r\n":
                    assert members_of(mine) == members_of(real)
                else:
                    assert mine == real, (count, mine, real)
                return
            assert len(decoded(mine)[1]) == len(decoded(real)[1])

        @rule(src=st.sampled_from([*KEYS, "nokey", "str"]), dst=st.sampled_from([*KEYS, "str"]), member=MEMBERS)
        def smove(self, src: str, dst: str, member: str) -> None:
            self.pair.same("SMOVE", src, dst, member)

        @rule(keys=SOURCES, op=st.sampled_from(["SINTER", "SUNION", "SDIFF"]))
        def algebra(self, keys: list[str], op: str) -> None:
            same_members(self.pair, op, *keys)

        @rule(keys=SOURCES, limit=st.sampled_from([(), ("LIMIT", "0"), ("LIMIT", "2")]))
        def sintercard(self, keys: list[str], limit: tuple[str, ...]) -> None:
            self.pair.same("SINTERCARD", len(keys), *keys, *limit)

        @rule(
            dst=st.sampled_from([*KEYS, "str"]),
            keys=SOURCES,
            op=st.sampled_from(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]),
        )
        def store(self, dst: str, keys: list[str], op: str) -> None:
            self.pair.same(op, dst, *keys)
            self.pair.same("TYPE", dst)
            if self.has_set(dst):
                same_smembers(self.pair, dst)

        @rule(key=st.sampled_from(KEYS), match=st.sampled_from([(), ("MATCH", "1*"), ("MATCH", "*e*")]))
        def sscan(self, key: str, match: tuple[str, ...]) -> None:
            if self.has_set(key) and encoding(self.pair, key) == b"$6\r\nintset\r\n":
                self.pair.same("SSCAN", key, 0, *match)
            same_scan(self.pair, key, *match, "COUNT", 5)

        @rule(key=st.sampled_from(KEYS))
        def encoding_and_delete(self, key: str) -> None:
            self.pair.same("OBJECT", "ENCODING", key)

        @rule(key=st.sampled_from(KEYS))
        def delete(self, key: str) -> None:
            self.pair.same("DEL", key)

    run_state_machine_as_test(
        Sequences,
        settings=settings(max_examples=40, stateful_step_count=30, deadline=None, database=None),
    )
