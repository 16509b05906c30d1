"""Sorted set commands, differentially: the same sequences on CacheFlow and on redis-server.

Replies are compared as raw bytes off the wire, in RESP2 and RESP3 (``pair``)
or RESP2 only (``pair2``), so a bulk score where Redis sends a double, a flat
array where it nests pairs, or a different error text all fail here.  Random
commands (ZRANDMEMBER) and ZSCAN of big sets are compared on what Redis
guarantees: counts, distinctness, membership, the scores that go with the
members.  Both encodings are exercised: sets over 128 members or with a member
over 64 bytes are skiplists in both servers.
"""

from typing import Any

import hiredis
import pytest
import redis
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test
from pair import Pair, assert_watch_breaks_alike, open_pair
from servers import ServerProcess, wait_until
from wire import Arg, Wire

LONG = "L" * 70  # longer than zset-max-listpack-value: forces the skiplist encoding


def decode(raw: bytes) -> Any:
    reader = hiredis.Reader()
    reader.feed(raw)
    return reader.gets()


def fill(pair: Pair, key: str, n: int, prefix: str = "m", score: str | None = None) -> None:
    """ZADD ``n`` members to ``key`` on both servers, in batches."""
    for start in range(0, n, 100):
        args: list[Arg] = ["ZADD", key]
        for i in range(start, min(n, start + 100)):
            args += [score if score is not None else str(i * 1.5 - 40), f"{prefix}{i:04d}"]
        pair.same(*args)


# -- ZADD, ZINCRBY, scores --------------------------------------------------------------------------


def test_zadd_options_and_errors(pair: Pair) -> None:
    pair.script(
        """
        ZADD z 1 a 2 b 3 c
        ZADD z 1 a
        ZADD z CH 5 a 2 b 9 d
        ZADD z NX 10 a 11 e
        ZADD z XX 10 a 11 f
        ZADD z XX CH 10 a 12 b
        ZADD z GT 1 a 20 b
        ZADD z GT CH 1 a 20 b 30 c
        ZADD z LT CH 1 a 20 b 31 c
        ZADD z XX GT CH 100 a 0 b
        ZADD z INCR 5 a
        ZADD z INCR NX 5 a
        ZADD z INCR XX 5 nosuch
        ZADD z INCR GT -5 a
        ZADD z INCR LT -5 a
        ZADD z INCR LT 0 a
        ZADD z INCR 0 a
        ZADD z nx xx 1 a
        ZADD z NX GT 1 a
        ZADD z NX LT 1 a
        ZADD z GT LT 1 a
        ZADD z INCR 1 a 2 b
        ZADD z 1
        ZADD z 1 a 2
        ZADD z NX
        ZADD z CH
        ZADD z abc a
        ZADD z 1 a abc b
        ZADD z nan a
        ZADD z NX XX abc
        ZADD z GT LT abc a
        ZADD z INCR abc a
        ZADD z ch ch ch 1 a
        ZADD z Incr 1 a
        ZADD nokey XX 1 a
        ZADD nokey XX INCR 1 a
        EXISTS nokey
        ZRANGE z 0 -1 WITHSCORES
        ZADD
        ZADD z
        ZADD z 1
        """
    )


def test_zincrby_and_nan(pair: Pair) -> None:
    pair.script(
        """
        ZINCRBY z 1 a
        ZINCRBY z 1.5 a
        ZINCRBY z -0.5 a
        ZINCRBY z inf a
        ZINCRBY z -inf a
        ZSCORE z a
        ZINCRBY z abc a
        ZINCRBY z 1 b c
        ZADD z INCR -inf a
        ZADD z inf b
        ZADD z INCR -inf b
        ZADD z -inf c
        ZADD z INCR inf c
        ZRANGE z 0 -1 WITHSCORES
        ZINCRBY z 0 x
        ZINCRBY z -0 y
        ZSCORE z y
        ZADD z INCR -0 q
        ZSCORE z q
        ZADD z -0 r
        ZSCORE z r
        """
    )


SCORES = [
    "0",
    "-0",
    "1",
    "-1",
    "0.1",
    "0.5",
    "1.5",
    "1e20",
    "1E20",
    "1e-20",
    "1e308",
    "2e-308",
    "4.9e-324",
    "3e-324",
    "1e400",
    "-1e400",
    "1e-400",
    "2e-324",
    "inf",
    "-inf",
    "+inf",
    "Infinity",
    "-INFINITY",
    "infinit",
    "nan",
    "NaN",
    "0x10",
    "0x1p4",
    "0X1.8P1",
    "0x",
    "0x.p1",
    "1_0",
    " 1",
    "1 ",
    "\t1",
    "",
    "+",
    "-",
    ".",
    ".5",
    "5.",
    "+.5e3",
    "1e",
    "1e+",
    "123456789012345678",
    "9007199254740993",
    "4611686018427387904",
    "-4611686018427387905",
    "1.7976931348623157e308",
    "1.7976931348623159e308",
    "0.30000000000000004",
    "1\x00",
    "0e500",
    "00001",
    "-0.0",
]


def test_score_parsing_and_formatting(pair: Pair) -> None:
    for i, score in enumerate(SCORES):
        pair.same("ZADD", "small", score, f"m{i}")
        pair.same("ZADD", "big", score, f"m{i}")
        pair.same("ZADD", "big", "1", LONG)
    pair.same("OBJECT", "ENCODING", "small")
    pair.same("OBJECT", "ENCODING", "big")
    for key in ("small", "big"):
        pair.same("ZRANGE", key, "0", "-1", "WITHSCORES")
        for i in range(len(SCORES)):
            pair.same("ZSCORE", key, f"m{i}")
        pair.same("ZMSCORE", key, "m0", "nosuch", "m1", "m7")
    for score in SCORES:
        pair.same("ZINCRBY", "inc", score, "x")
        pair.same("ZADD", "inc2", "INCR", score, "y")


def test_range_bound_parsing(pair: Pair) -> None:
    pair.script("ZADD z 0 zero -1 minus 1 one 2.5 two 16 hex 1e20 big inf top -inf bottom")
    bounds = [
        "0",
        "(0",
        "1",
        "(1",
        "-inf",
        "+inf",
        "(-inf",
        "(inf",
        "inf",
        "-",
        "+",
        "",
        "(",
        " 1",
        "\t(1",
        "( 1",
        "1 ",
        "0x10",
        "(0x10",
        "1e400",
        "(1e400",
        "-1e400",
        "1e-400",
        "nan",
        "(nan",
        "abc",
        "1\x00abc",
        "(2.5",
        "2.5",
        "0x",
        "1_0",
        "1e",
        "[1",
    ]
    for low in bounds:
        for high in ("+inf", "(2.5", "16", "(inf"):
            pair.same("ZRANGEBYSCORE", "z", low, high)
            pair.same("ZCOUNT", "z", high, low)
    for b in bounds:
        pair.same("ZCOUNT", "z", b, b)
        pair.same("ZREVRANGEBYSCORE", "z", b, "-inf")


def test_scan_exact_on_small_sets(pair: Pair) -> None:
    pair.same("ZADD", "z", *[x for i, s in enumerate(SCORES[:20]) for x in (s, f"m{i}")][:2])
    pair.script(
        """
        ZADD z 0.1 a 1e20 b 123456789012345678 c 4611686018427387904 d 4611686018427387903 e 5e18 f -0 g
        ZADD z inf h -inf i 1.5 j -2 k 0x10 l
        ZSCAN z 0
        ZSCAN z 123
        ZSCAN z 0 COUNT 1
        ZSCAN z 0 MATCH [a-c]
        ZSCAN z 0 MATCH * COUNT 100
        ZSCAN z 0 COUNT 0
        ZSCAN z 0 COUNT x
        ZSCAN z 0 MATCH
        ZSCAN z 0 TYPE zset
        ZSCAN z x
        ZSCAN z -1
        ZSCAN nokey 0
        ZSCAN nokey 0 COUNT 0
        ZSCAN nokey x
        SET s v
        ZSCAN s 0
        ZSCAN s x
        ZSCAN s 0 BAD
        """
    )


def scan_all(conn: Wire, key: str, *options: str) -> dict[bytes, bytes]:
    """member -> score text over a whole ZSCAN iteration."""
    seen: dict[bytes, bytes] = {}
    cursor: bytes = b"0"
    while True:
        cursor, items = decode(conn.call("ZSCAN", key, cursor, *options))
        seen.update(zip(items[0::2], items[1::2]))
        if cursor == b"0":
            return seen


def test_scan_of_a_big_set_returns_every_member(pair2: Pair) -> None:
    fill(pair2, "z", 300)
    pair2.same("ZADD", "z", "-0", "negzero", "1e20", "big", "0.1", "tenth", "inf", "top")
    for count in ("1", "7", "50", "1000"):
        assert scan_all(pair2.ours, "z", "COUNT", count) == scan_all(pair2.theirs, "z", "COUNT", count)
    for conn in (pair2.ours, pair2.theirs):
        matched = scan_all(conn, "z", "MATCH", "m01*", "COUNT", "20")
        assert set(matched) == {b"m%04d" % i for i in range(100, 200)}


def test_scan_survives_changes_during_the_iteration(pair2: Pair) -> None:
    fill(pair2, "z", 300)
    conn = pair2.ours
    cursor, items = decode(conn.call("ZSCAN", "z", "0", "COUNT", "10"))
    seen = set(items[0::2])
    conn.call("ZREM", "z", *[f"m{i:04d}" for i in range(0, 300, 3)])
    conn.call("ZADD", "z", *[x for i in range(50) for x in ("0", f"new{i}")])
    while cursor != b"0":
        cursor, items = decode(conn.call("ZSCAN", "z", cursor, "COUNT", "10"))
        seen.update(items[0::2])
    assert {f"m{i:04d}".encode() for i in range(300) if i % 3} <= seen


# -- reading ------------------------------------------------------------------------------------


def test_read_commands(pair: Pair) -> None:
    pair.script(
        """
        ZADD z 1 a 2 b 3 c 3 d 4 e
        ZCARD z
        ZCARD nokey
        ZSCORE z c
        ZSCORE z nosuch
        ZSCORE nokey a
        ZMSCORE z a nosuch e
        ZMSCORE nokey a b
        ZRANK z a
        ZRANK z d
        ZREVRANK z a
        ZREVRANK z d
        ZRANK z nosuch
        ZRANK nokey a
        ZREVRANK nokey a
        ZCOUNT z -inf +inf
        ZCOUNT z (1 3
        ZCOUNT z 3 1
        ZCOUNT nokey 1 2
        ZCOUNT z a b
        ZCOUNT nokey a b
        ZLEXCOUNT z - +
        ZLEXCOUNT z [b (d
        ZLEXCOUNT nokey - +
        ZLEXCOUNT z a b
        ZLEXCOUNT nokey a b
        SET s v
        ZCARD s
        ZSCORE s a
        ZMSCORE s a
        ZRANK s a
        ZCOUNT s 1 2
        ZCOUNT s x 2
        ZLEXCOUNT s - +
        ZRANGE s 0 -1
        ZRANGE s x y
        ZRANGEBYSCORE s 1 2
        ZRANGEBYLEX s - +
        """
    )


def test_rank_on_big_sets(pair: Pair) -> None:
    fill(pair, "z", 200)
    for member in ("m0000", "m0001", "m0100", "m0199", "nosuch"):
        pair.same("ZRANK", "z", member)
        pair.same("ZREVRANK", "z", member)
        pair.same("ZSCORE", "z", member)


def test_zrange_by_rank(pair: Pair) -> None:
    fill(pair, "small", 10)
    fill(pair, "big", 150)
    for key in ("small", "big", "nokey"):
        for start, stop in (
            ("0", "-1"),
            ("0", "0"),
            ("-1", "-1"),
            ("2", "5"),
            ("5", "2"),
            ("-3", "-1"),
            ("-100", "100"),
            ("100", "200"),
            ("-200", "-150"),
            ("1", "-1"),
            ("0", "9223372036854775807"),
            ("-9223372036854775808", "3"),
            ("x", "1"),
            ("1", "1.5"),
        ):
            pair.same("ZRANGE", key, start, stop)
            pair.same("ZRANGE", key, start, stop, "WITHSCORES")
            pair.same("ZRANGE", key, start, stop, "REV", "withscores")
            pair.same("ZREVRANGE", key, start, stop)
            pair.same("ZREVRANGE", key, start, stop, "WITHSCORES")


def test_zrange_options_and_errors(pair: Pair) -> None:
    pair.script(
        """
        ZADD z 1 a 2 b 3 c 4 d 5 e
        ZRANGE z 0 -1 LIMIT 0 1
        ZRANGE z 0 -1 LIMIT 0 -1
        ZRANGE z 0 -1 LIMIT 1 -5
        ZRANGE z 0 -1 LIMIT x 1
        ZRANGE z 0 -1 LIMIT 0
        ZRANGE z 0 -1 BYLEX WITHSCORES
        ZRANGE z - + BYLEX WITHSCORES
        ZRANGE z - + BYLEX LIMIT 1 2
        ZRANGE z + - BYLEX REV LIMIT 1 2
        ZRANGE z 1 4 BYSCORE LIMIT 1 2 WITHSCORES
        ZRANGE z 4 1 BYSCORE REV LIMIT 1 2 WITHSCORES
        ZRANGE z 1 4 BYSCORE BYLEX
        ZRANGE z 1 4 BYSCORE BYSCORE
        ZRANGE z 1 4 REV REV
        ZRANGE z 1 4 WITHSCORES WITHSCORES
        ZRANGE z 1 4 LIMIT 0 1 LIMIT 1 1 BYSCORE
        ZRANGE z 1 4 FOO
        ZRANGE z a b BYSCORE
        ZRANGE z a b BYLEX
        ZRANGE z x y
        ZRANGE nokey 0 -1 WITHSCORES
        ZRANGE nokey a b BYSCORE
        ZRANGE nokey a b
        ZRANGE nokey 0 1 FOO
        ZRANGEBYSCORE z 1 4 REV
        ZRANGEBYSCORE z 1 4 BYSCORE
        ZRANGEBYSCORE z 1 4 LIMIT 1 1 WITHSCORES
        ZRANGEBYSCORE z 1 4 LIMIT -1 1
        ZRANGEBYSCORE z 1 4 LIMIT 5 1
        ZRANGEBYSCORE z 1 4 LIMIT 4 1
        ZRANGEBYSCORE z 1 4 LIMIT 0 0
        ZRANGEBYSCORE z 1 4 LIMIT 0 -2
        ZREVRANGEBYSCORE z 4 1 LIMIT 1 2 WITHSCORES
        ZREVRANGEBYSCORE z 1 4
        ZREVRANGEBYSCORE z +inf -inf LIMIT 2 100
        ZREVRANGEBYSCORE z +inf -inf LIMIT -1 100
        ZRANGEBYLEX z - + LIMIT 1 1
        ZRANGEBYLEX z - + WITHSCORES
        ZRANGEBYLEX z - + LIMIT -1 1
        ZRANGEBYLEX z - + LIMIT 10 1
        ZREVRANGEBYLEX z + - LIMIT 1 2
        ZREVRANGEBYLEX z - +
        ZREVRANGE z 0 -1 LIMIT 0 1
        ZREVRANGE z 0 -1 BYSCORE
        ZREVRANGE z 0 -1 REV
        ZRANGE z 0
        ZRANGEBYSCORE z 1
        """
    )


def test_score_and_lex_ranges_on_both_encodings(pair: Pair) -> None:
    fill(pair, "small", 20)
    fill(pair, "big", 200)
    fill(pair, "lexs", 20, prefix="w", score="0")
    fill(pair, "lexb", 200, prefix="w", score="0")
    for key in ("small", "big"):
        for low, high in (("-inf", "+inf"), ("(-10", "5"), ("0", "(0"), ("-40", "-40"), ("(-40", "100"), ("100", "0")):
            for extra in (
                (),
                ("WITHSCORES",),
                ("LIMIT", "2", "5"),
                ("LIMIT", "0", "-1", "WITHSCORES"),
                ("LIMIT", "-2", "3"),
            ):
                pair.same("ZRANGEBYSCORE", key, low, high, *extra)
                pair.same("ZREVRANGEBYSCORE", key, high, low, *extra)
                pair.same("ZRANGE", key, low, high, "BYSCORE", *extra)
                pair.same("ZRANGE", key, high, low, "BYSCORE", "REV", *extra)
            pair.same("ZCOUNT", key, low, high)
    for key in ("lexs", "lexb"):
        for low, high in (
            ("-", "+"),
            ("[w0005", "(w0010"),
            ("(w0005", "[w0010"),
            ("[w", "[x"),
            ("+", "-"),
            ("[w0003", "[w0003"),
            ("(w0003", "[w0003"),
            ("-", "-"),
            ("+", "+"),
            ("[a", "[b"),
        ):
            for extra in ((), ("LIMIT", "1", "3"), ("LIMIT", "0", "-1"), ("LIMIT", "-1", "2"), ("LIMIT", "500", "2")):
                pair.same("ZRANGEBYLEX", key, low, high, *extra)
                pair.same("ZREVRANGEBYLEX", key, high, low, *extra)
                pair.same("ZRANGE", key, low, high, "BYLEX", *extra)
                pair.same("ZRANGE", key, high, low, "BYLEX", "REV", *extra)
            pair.same("ZLEXCOUNT", key, low, high)


def test_lex_ranges_on_mixed_scores_follow_the_listpack_walk(pair: Pair) -> None:
    pair.script(
        """
        ZADD z 1 d 2 a 3 c 4 b 5 e
        ZRANGEBYLEX z - +
        ZRANGEBYLEX z [b +
        ZRANGEBYLEX z [c [d
        ZRANGEBYLEX z (a (e
        ZREVRANGEBYLEX z [d [b
        ZREVRANGEBYLEX z + [c
        ZLEXCOUNT z [b [d
        ZRANGEBYLEX z [b + LIMIT 2 2
        ZREVRANGEBYLEX z + - LIMIT 1 2
        ZREMRANGEBYLEX z [a [c
        ZRANGE z 0 -1 WITHSCORES
        """
    )


def test_lex_bound_parsing(pair: Pair) -> None:
    pair.script("ZADD z 0 a 0 b 0 c")
    for b in ("-", "+", "[a", "(a", "a", "", "[", "(", "+a", "-a", "+\x00a", "-\x00"):
        pair.same("ZRANGEBYLEX", "z", b, "+")
        pair.same("ZRANGEBYLEX", "z", "-", b)
        pair.same("ZLEXCOUNT", "z", b, "[b")
        pair.same("ZREMRANGEBYLEX", "nokey", b, "+")


# -- writing ------------------------------------------------------------------------------------


def test_zrem_and_remrange(pair: Pair) -> None:
    pair.script(
        """
        ZADD z 1 a 2 b 3 c 4 d 5 e 6 f 7 g
        ZREM z a nosuch a
        ZREM z nosuch
        ZREM nokey a
        ZREMRANGEBYRANK z 0 0
        ZREMRANGEBYRANK z -1 -1
        ZREMRANGEBYRANK z 5 10
        ZREMRANGEBYRANK z 2 1
        ZREMRANGEBYRANK z x 1
        ZREMRANGEBYRANK nokey 0 -1
        ZRANGE z 0 -1 WITHSCORES
        ZREMRANGEBYSCORE z (3 4
        ZREMRANGEBYSCORE z x 4
        ZREMRANGEBYSCORE nokey 0 1
        ZREMRANGEBYSCORE nokey x 1
        ZRANGE z 0 -1 WITHSCORES
        ZREMRANGEBYLEX z - +
        EXISTS z
        ZADD z 0 a 0 b 0 c
        ZREMRANGEBYLEX z (a +
        ZREMRANGEBYLEX z x +
        ZRANGE z 0 -1
        ZREM z a
        EXISTS z
        SET s v
        ZREM s a
        ZREMRANGEBYRANK s 0 1
        ZREMRANGEBYSCORE s 0 1
        ZREMRANGEBYLEX s - +
        ZREMRANGEBYRANK s x 1
        """
    )


def test_remrange_on_big_sets(pair: Pair) -> None:
    fill(pair, "z", 300)
    pair.same("ZREMRANGEBYRANK", "z", "10", "19")
    pair.same("ZREMRANGEBYSCORE", "z", "(50", "100")
    pair.same("ZREMRANGEBYRANK", "z", "-5", "-1")
    pair.same("ZREM", "z", "m0000", "m0001", "m0150")
    pair.same("ZRANGE", "z", "0", "-1", "WITHSCORES")
    pair.same("OBJECT", "ENCODING", "z")
    fill(pair, "w", 300, prefix="w", score="0")
    pair.same("ZREMRANGEBYLEX", "w", "[w0010", "(w0100")
    pair.same("ZRANGE", "w", "0", "-1")
    pair.same("ZREMRANGEBYRANK", "w", "0", "-1")
    pair.same("EXISTS", "w")


def test_pops(pair: Pair) -> None:
    pair.script(
        """
        ZADD z 1 a 2 b 3 c 4 d 5 e
        ZPOPMIN z
        ZPOPMAX z
        ZPOPMIN z 0
        ZPOPMIN z 1
        ZPOPMAX z 1
        ZPOPMIN z -1
        ZPOPMIN z x
        ZPOPMIN z 1 2
        ZPOPMAX z 100
        EXISTS z
        ZPOPMIN nokey
        ZPOPMIN nokey 2
        ZPOPMAX nokey 0
        ZPOPMIN nokey -1
        SET s v
        ZPOPMIN s
        ZPOPMAX s 0
        ZPOPMIN s -1
        """
    )
    fill(pair, "big", 200)
    pair.same("ZPOPMIN", "big", "3")
    pair.same("ZPOPMAX", "big", "3")
    pair.same("ZPOPMAX", "big")
    pair.same("ZCARD", "big")


def test_zmpop(pair: Pair) -> None:
    pair.script(
        """
        ZADD a 1 x 2 y 3 z
        ZADD b 10 p 20 q
        ZMPOP 1 a MIN
        ZMPOP 2 nokey b MAX COUNT 5
        ZMPOP 2 nokey b MAX
        ZMPOP 3 nokey nokey2 a MIN count 10
        ZMPOP 1 a MIN
        ZMPOP 1 nokey MIN
        ZMPOP 0 a MIN
        ZMPOP -1 a MIN
        ZMPOP x a MIN
        ZMPOP 2 a MIN
        ZMPOP 1 a MIDDLE
        ZMPOP 1 a MIN COUNT 0
        ZMPOP 1 a MIN COUNT -1
        ZMPOP 1 a MIN COUNT x
        ZMPOP 1 a MIN COUNT 1 COUNT 1
        ZMPOP 1 a MIN COUNT
        ZMPOP 1 a MIN FOO
        ZMPOP 9223372036854775807 a MIN
        SET s v
        ZADD c 1 x
        ZMPOP 2 s c MIN
        ZMPOP 2 c s MIN
        ZMPOP 2 nokey s MAX
        """
    )


def test_zrangestore(pair: Pair) -> None:
    pair.script(
        """
        ZADD src 1 a 2 b 3 c 4 d 5 e
        ZRANGESTORE dst src 0 -1
        ZRANGE dst 0 -1 WITHSCORES
        ZRANGESTORE dst src 1 2 REV
        ZRANGE dst 0 -1 WITHSCORES
        ZRANGESTORE dst src (1 4 BYSCORE LIMIT 1 2
        ZRANGE dst 0 -1 WITHSCORES
        ZRANGESTORE dst src 4 1 BYSCORE REV
        ZRANGE dst 0 -1 WITHSCORES
        ZRANGESTORE dst src [b [d BYLEX
        ZRANGE dst 0 -1 WITHSCORES
        ZRANGESTORE dst src 10 20
        EXISTS dst
        ZRANGESTORE dst src 0 -1 WITHSCORES
        ZRANGESTORE dst nokey 0 -1
        ZRANGESTORE dst src a b
        ZRANGESTORE dst src 0 -1 LIMIT 0 1
        SET s v
        ZRANGESTORE dst s 0 -1
        ZRANGESTORE s src 0 -1
        TYPE s
        ZRANGESTORE src src 1 2
        ZRANGE src 0 -1 WITHSCORES
        """
    )
    pair.same("SET", "t", "v", "EX", "100")
    pair.same("ZRANGESTORE", "t", "src", "0", "-1")
    pair.same("TTL", "t")
    fill(pair, "big", 200)
    pair.same("ZADD", "big", "-0", "negzero", "-0", "zz")
    pair.same("ZRANGESTORE", "d2", "big", "-inf", "+inf", "BYSCORE")
    pair.same("OBJECT", "ENCODING", "d2")
    pair.same("ZRANGE", "d2", "0", "-1", "WITHSCORES")
    pair.same("ZRANGESTORE", "d3", "big", "0", "10")
    pair.same("OBJECT", "ENCODING", "d3")
    pair.same("ZRANGE", "d3", "0", "-1", "WITHSCORES")
    pair.same("ZRANGESTORE", "d4", "big", "+inf", "-inf", "BYSCORE", "REV")
    pair.same("ZRANGE", "d4", "0", "-1", "WITHSCORES")


# -- set operations -------------------------------------------------------------------------------


def test_union_inter_diff(pair: Pair) -> None:
    pair.script(
        """
        ZADD a 1 x 2 y 3 z
        ZADD b 10 y 20 z 30 w
        SADD s y w v
        SADD i 1 2 3
        ZADD c 1 1 2 2
        ZUNION 2 a b
        ZUNION 2 a b WITHSCORES
        ZUNION 3 a b s WITHSCORES
        ZUNION 3 a b s WEIGHTS 1 2 3 WITHSCORES
        ZUNION 3 a b s WEIGHTS 1 2 3 AGGREGATE MIN WITHSCORES
        ZUNION 3 a b s WEIGHTS 1 2 3 AGGREGATE max WITHSCORES
        ZUNION 2 a nokey WITHSCORES
        ZUNION 2 i c WITHSCORES
        ZINTER 2 a b
        ZINTER 2 a b WITHSCORES
        ZINTER 3 a b s WITHSCORES
        ZINTER 2 a b WEIGHTS 2 0.5 AGGREGATE MIN WITHSCORES
        ZINTER 2 a nokey WITHSCORES
        ZINTER 2 i c WITHSCORES
        ZINTER 1 s WITHSCORES
        ZDIFF 2 a b
        ZDIFF 2 a b WITHSCORES
        ZDIFF 2 b s WITHSCORES
        ZDIFF 1 b WITHSCORES
        ZDIFF 2 a a
        ZDIFF 2 nokey a
        ZDIFF 2 s a WITHSCORES
        ZDIFF 2 a b WEIGHTS 1 2
        ZINTERCARD 2 a b
        ZINTERCARD 2 a b LIMIT 1
        ZINTERCARD 2 a b LIMIT 0
        ZINTERCARD 3 a b s
        ZINTERCARD 2 a nokey
        ZINTERCARD 2 a b LIMIT -1
        ZINTERCARD 2 a b LIMIT x
        ZINTERCARD 2 a b WITHSCORES
        ZINTERCARD 2 a b WEIGHTS 1 1
        ZINTERCARD 0 a
        ZINTERCARD 3 a b
        ZUNION 0 a
        ZUNION -1 a
        ZUNION x a
        ZUNION 3 a b
        ZUNION 2 a b WEIGHTS 1
        ZUNION 2 a b WEIGHTS 1 x
        ZUNION 2 a b WEIGHTS 1 2 3
        ZUNION 2 a b AGGREGATE
        ZUNION 2 a b AGGREGATE avg
        ZUNION 2 a b FOO
        ZUNION 2 a b WITHSCORES WITHSCORES
        ZUNION 2 a b WEIGHTS 1 2 WEIGHTS 3 4 WITHSCORES
        SET str v
        ZUNION 2 a str
        ZUNION 2 a str FOO
        ZINTER 2 str nokey
        ZDIFF 2 nokey str
        ZINTERCARD 2 a str
        """
    )


def test_union_inter_infinities_and_nan(pair: Pair) -> None:
    pair.script(
        """
        ZADD a inf x -inf y 1 z 0 w
        ZADD b -inf x inf y inf z -inf w
        ZUNION 2 a b WITHSCORES
        ZINTER 2 a b WITHSCORES
        ZUNION 2 a b WEIGHTS 0 1 WITHSCORES
        ZINTER 2 a b WEIGHTS 0 0 WITHSCORES
        ZINTER 2 a b WEIGHTS 1 0 AGGREGATE MIN WITHSCORES
        ZINTER 2 a b WEIGHTS 1 0 AGGREGATE MAX WITHSCORES
        ZINTER 2 a b WEIGHTS 0 1 AGGREGATE MAX WITHSCORES
        ZUNION 2 a b WEIGHTS inf -inf WITHSCORES
        ZUNION 2 a b WEIGHTS nan 1
        ZUNION 2 a b WEIGHTS 1e400 1
        ZUNION 2 a b WEIGHTS 0x10 -0 WITHSCORES
        ZUNIONSTORE d 2 a b
        ZRANGE d 0 -1 WITHSCORES
        """
    )


def test_float_sums_follow_the_cardinality_order(pair: Pair) -> None:
    pair.script(
        """
        ZADD a 0.1 x 1 p 2 q 3 r
        ZADD b 0.2 x
        ZADD c 0.3 x 5 p
        ZUNION 3 a b c WITHSCORES
        ZUNION 3 c b a WITHSCORES
        ZINTER 3 a b c WITHSCORES
        ZINTER 3 c a b WITHSCORES
        ZUNION 3 a b c WEIGHTS 1e308 1e308 -1e308 WITHSCORES
        """
    )


def test_store_commands(pair: Pair) -> None:
    pair.script(
        """
        ZADD a 1 x 2 y 3 z
        ZADD b 10 y 20 z 30 w
        SADD s y w v
        ZUNIONSTORE d 2 a b
        ZRANGE d 0 -1 WITHSCORES
        OBJECT ENCODING d
        ZINTERSTORE d 3 a b s WEIGHTS 1 1 100 AGGREGATE MAX
        ZRANGE d 0 -1 WITHSCORES
        ZDIFFSTORE d 2 a b
        ZRANGE d 0 -1 WITHSCORES
        ZDIFFSTORE d 2 a a
        EXISTS d
        ZINTERSTORE d 2 a nokey
        ZUNIONSTORE d 1 nokey
        ZUNIONSTORE d 2 a b WITHSCORES
        ZDIFFSTORE d 2 a b WEIGHTS 1 1
        ZUNIONSTORE d 0 a
        ZUNIONSTORE d x a
        ZUNIONSTORE d 3 a b
        ZUNIONSTORE a 2 a b
        ZRANGE a 0 -1 WITHSCORES
        SET str v
        ZUNIONSTORE d 2 a str
        ZUNIONSTORE str 2 a b
        TYPE str
        ZINTERSTORE s 2 s s
        TYPE s
        ZRANGE s 0 -1 WITHSCORES
        """
    )
    pair.same("SET", "t", "v", "EX", "100")
    pair.same("ZUNIONSTORE", "t", "1", "a")
    pair.same("TTL", "t")
    fill(pair, "big", 200)
    pair.same("ZUNIONSTORE", "d", "2", "big", "a")
    pair.same("OBJECT", "ENCODING", "d")
    pair.same("ZINTERSTORE", "d", "2", "big", "big", "WEIGHTS", "1", "-1")
    pair.same("OBJECT", "ENCODING", "d")
    pair.same("ZRANGE", "d", "0", "-1", "WITHSCORES")
    pair.same("ZADD", "long", "1", LONG, "2", "x")
    pair.same("ZDIFFSTORE", "d", "2", "long", "a")
    pair.same("OBJECT", "ENCODING", "d")
    pair.same("ZADD", "nz", "-0", "x", "1", LONG)
    pair.same("ZUNIONSTORE", "d", "1", "nz", "WEIGHTS", "1")
    pair.same("ZSCORE", "d", "x")
    pair.same("ZINTERSTORE", "d", "1", "nz", "WEIGHTS", "-1")
    pair.same("ZSCORE", "d", "x")
    pair.same("ZREM", "nz", LONG)
    pair.same("ZUNIONSTORE", "d", "1", "nz")
    pair.same("OBJECT", "ENCODING", "d")
    pair.same("ZSCORE", "d", "x")


# -- encodings --------------------------------------------------------------------------------------


def test_encoding_conversions(pair: Pair) -> None:
    fill(pair, "z", 128)
    pair.same("OBJECT", "ENCODING", "z")
    pair.same("ZADD", "z", "1", "m0000")
    pair.same("OBJECT", "ENCODING", "z")
    pair.same("ZADD", "z", "1", "new")
    pair.same("OBJECT", "ENCODING", "z")
    pair.same("ZREMRANGEBYRANK", "z", "0", "-10")
    pair.same("OBJECT", "ENCODING", "z")
    pair.same("ZADD", "y", "1", "x" * 64)
    pair.same("OBJECT", "ENCODING", "y")
    pair.same("ZADD", "y", "XX", "1", "x" * 65)
    pair.same("OBJECT", "ENCODING", "y")
    pair.same("ZADD", "y", "1", "x" * 65)
    pair.same("OBJECT", "ENCODING", "y")
    pair.same("ZADD", "w", "1", "x" * 65)
    pair.same("OBJECT", "ENCODING", "w")
    pair.same("ZADD", "v", "1", "a", "2", "x" * 65, "3", "b")
    pair.same("OBJECT", "ENCODING", "v")
    pair.same("ZRANGE", "v", "0", "-1", "WITHSCORES")
    pair.same("ZADD", "v", "-0", "c")
    pair.same("ZSCORE", "v", "c")


def test_encoding_thresholds_follow_config(pair2: Pair) -> None:
    try:
        for c in (pair2.ours, pair2.theirs):
            c.call("CONFIG", "SET", "zset-max-listpack-entries", "3")
            c.call("CONFIG", "SET", "zset-max-listpack-value", "5")
        pair2.script(
            """
            ZADD z 1 a 2 b 3 c
            OBJECT ENCODING z
            ZADD z 4 d
            OBJECT ENCODING z
            ZADD y 1 abcde
            OBJECT ENCODING y
            ZADD y 1 abcdef
            OBJECT ENCODING y
            ZADD x 1 a 2 b 3 c 4 d
            OBJECT ENCODING x
            ZUNIONSTORE u 1 y
            OBJECT ENCODING u
            ZRANGESTORE r z 0 2
            OBJECT ENCODING r
            ZRANGESTORE r z 0 3
            OBJECT ENCODING r
            ZINTERSTORE i 2 z x
            OBJECT ENCODING i
            ZPOPMIN i
            ZINTERSTORE i 1 i
            OBJECT ENCODING i
            """
        )
        for c in (pair2.ours, pair2.theirs):
            c.call("CONFIG", "SET", "zset-max-listpack-entries", "0")
        pair2.script(
            """
            ZADD zero 1 a
            OBJECT ENCODING zero
            ZADD zero2 0 -0
            ZSCORE zero2 -0
            ZRANGESTORE rz zero 0 -1
            OBJECT ENCODING rz
            """
        )
    finally:
        for c in (pair2.ours, pair2.theirs):
            c.call("CONFIG", "SET", "zset-max-listpack-entries", "128")
            c.call("CONFIG", "SET", "zset-max-listpack-value", "64")


def test_copy_keeps_the_encoding(pair: Pair) -> None:
    fill(pair, "big", 200)
    pair.script(
        """
        ZADD small 1 a 2 b
        COPY small s2
        COPY big b2
        OBJECT ENCODING s2
        OBJECT ENCODING b2
        ZADD s2 3 c
        ZCARD small
        ZREM b2 m0000
        ZCARD big
        TYPE s2
        """
    )


# -- ZRANDMEMBER -------------------------------------------------------------------------------------


def test_zrandmember_deterministic_parts(pair: Pair) -> None:
    fill(pair, "small", 10)
    fill(pair, "big", 200)
    pair.script(
        """
        ZRANDMEMBER nokey
        ZRANDMEMBER nokey 5
        ZRANDMEMBER nokey 0 WITHSCORES
        ZRANDMEMBER small 0
        ZRANDMEMBER small 0 WITHSCORES
        ZRANDMEMBER small 10
        ZRANDMEMBER small 10 WITHSCORES
        ZRANDMEMBER small 11 withscores
        ZRANDMEMBER small 1000
        ZRANDMEMBER big 200 WITHSCORES
        ZRANDMEMBER big 9223372036854775807
        ZRANDMEMBER small x
        ZRANDMEMBER small 1 FOO
        ZRANDMEMBER small x FOO
        ZRANDMEMBER small 1 WITHSCORES x
        ZRANDMEMBER small -9223372036854775808
        ZRANDMEMBER small -4611686018427387904 WITHSCORES
        ZRANDMEMBER small 4611686018427387904 WITHSCORES
        ZRANDMEMBER nokey -9223372036854775808
        ZRANDMEMBER nokey 4611686018427387904 WITHSCORES
        SET s v
        ZRANDMEMBER s
        ZRANDMEMBER s 1
        ZRANDMEMBER s x
        """
    )


@pytest.mark.parametrize("proto", [2, 3])
def test_zrandmember_random_parts(cacheflow: ServerProcess, real_redis: ServerProcess, proto: int) -> None:
    pair = open_pair(cacheflow, real_redis, proto)
    fill(pair, "small", 10)
    fill(pair, "big", 200)
    flat = decode(Wire(cacheflow.port, 2).call("ZRANGE", "big", "0", "-1", "WITHSCORES"))
    scores = dict(zip(flat[0::2], flat[1::2], strict=True))
    for key, size in (("small", 10), ("big", 200)):
        for count in (1, 2, 3, 5, 9, 50, 150, 199, -1, -5, -300):
            for withscores in (False, True):
                shapes = []
                for conn in (pair.ours, pair.theirs):
                    args: list[Arg] = ["ZRANDMEMBER", key, str(count)] + (["WITHSCORES"] if withscores else [])
                    reply = decode(conn.call(*args))
                    if withscores and proto == 2:
                        items = list(zip(reply[0::2], reply[1::2]))
                    elif withscores:
                        items = [tuple(x) for x in reply]
                    else:
                        items = [(m, None) for m in reply]
                    members = [m for m, _ in items]
                    want = min(count, size) if count > 0 else -count
                    assert len(members) == want
                    if count > 0:
                        assert len(set(members)) == len(members)
                    for m, s in items:
                        if key == "big":
                            assert m in scores
                            if withscores:
                                assert (s if proto == 2 else b"%.17g" % s) == scores[m]
                    shapes.append((len(members), withscores, proto))
                assert shapes[0] == shapes[1]
        single = decode(pair.ours.call("ZRANDMEMBER", key))
        assert isinstance(single, bytes)
    pair.ours.close()
    pair.theirs.close()


# -- types, transactions, WATCH, clients ----------------------------------------------------------


def test_wrong_type_everywhere(pair: Pair) -> None:
    pair.script(
        """
        SET s v
        ZADD s 1 a
        ZADD s XX 1 a
        ZADD s abc a
        ZINCRBY s 1 a
        ZINCRBY s x a
        ZREM s a
        ZRANGESTORE d s 0 -1
        ZUNIONSTORE d 1 s
        ZDIFFSTORE d 1 s
        ZINTER 1 s
        ZINTERCARD 1 s
        ZPOPMAX s
        ZMPOP 1 s MAX
        ZRANK s a
        ZREVRANK s a
        ZRANDMEMBER s -1
        RPUSH l a
        ZADD l 1 a
        ZUNION 2 l s
        HSET h f v
        ZINTER 2 h nokey
        """
    )


def test_transactions(pair: Pair) -> None:
    pair.script(
        """
        MULTI
        ZADD z 1 a 2 b
        ZINCRBY z 1 a
        ZADD z INCR inf a
        ZADD z INCR -inf a
        ZRANGE z 0 -1 WITHSCORES
        ZPOPMIN z
        ZMPOP 1 z MAX
        ZADD z BAD
        EXEC
        EXISTS z
        """
    )


WATCH_CASES: list[tuple[list[tuple[str, ...]], tuple[str, ...], str]] = [
    ([], ("ZADD", "k", "1", "a"), "k"),
    ([("ZADD", "k", "1", "a")], ("ZADD", "k", "1", "a"), "k"),
    ([("ZADD", "k", "1", "a")], ("ZADD", "k", "2", "a"), "k"),
    ([("ZADD", "k", "1", "a")], ("ZADD", "k", "NX", "2", "a"), "k"),
    ([("ZADD", "k", "1", "a")], ("ZINCRBY", "k", "0", "a"), "k"),
    ([("ZADD", "k", "1", "a")], ("ZREM", "k", "b"), "k"),
    ([("ZADD", "k", "1", "a")], ("ZREM", "k", "a"), "k"),
    ([("ZADD", "k", "1", "a")], ("ZPOPMIN", "k", "0"), "k"),
    ([("ZADD", "k", "1", "a")], ("ZPOPMIN", "k"), "k"),
    ([("ZADD", "k", "1", "a")], ("ZMPOP", "1", "k", "MIN"), "k"),
    ([("ZADD", "k", "1", "a")], ("ZREMRANGEBYSCORE", "k", "5", "6"), "k"),
    ([("ZADD", "k", "1", "a")], ("ZREMRANGEBYRANK", "k", "0", "0"), "k"),
    ([("ZADD", "src", "1", "a")], ("ZRANGESTORE", "k", "src", "0", "-1"), "k"),
    ([("ZADD", "src", "1", "a")], ("ZRANGESTORE", "k", "src", "0", "-1"), "src"),
    ([("ZADD", "src", "1", "a")], ("ZRANGESTORE", "k", "src", "5", "6"), "k"),
    ([("ZADD", "src", "1", "a"), ("SET", "k", "v")], ("ZRANGESTORE", "k", "src", "5", "6"), "k"),
    ([("ZADD", "src", "1", "a")], ("ZUNIONSTORE", "k", "1", "src"), "k"),
    ([("ZADD", "src", "1", "a")], ("ZUNIONSTORE", "k", "1", "src"), "src"),
    ([("ZADD", "src", "1", "a")], ("ZINTERSTORE", "k", "2", "src", "nokey"), "k"),
    ([("ZADD", "src", "1", "a"), ("SET", "k", "v")], ("ZDIFFSTORE", "k", "2", "src", "src"), "k"),
    ([("ZADD", "k", "1", "a")], ("ZUNION", "1", "k"), "k"),
]


@pytest.mark.parametrize(
    ("setup", "command", "watched"), WATCH_CASES, ids=lambda c: " ".join(map(str, c)) if c else "-"
)
def test_which_commands_break_a_watch(
    cacheflow: ServerProcess,
    real_redis: ServerProcess,
    setup: list[tuple[str, ...]],
    command: tuple[str, ...],
    watched: str,
) -> None:
    assert_watch_breaks_alike(cacheflow, real_redis, setup, command, watched)


@pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")
def test_redis_py_sorted_set_api(r: redis.Redis, rr: redis.Redis) -> None:
    def run(c: redis.Redis) -> list[Any]:
        return [
            c.zadd("z", {"a": 1, "b": 2.5, "c": 3}),
            c.zadd("z", {"a": 5}, xx=True, ch=True),
            c.zadd("z", {"d": 1}, nx=True),
            c.zadd("z", {"a": 1}, gt=True),
            c.zincrby("z", 2, "b"),
            c.zrange("z", 0, -1, withscores=True),
            c.zrange("z", 0, -1, desc=True),
            c.zrangebyscore("z", 1, 3, withscores=True),
            c.zrevrangebyscore("z", "+inf", "-inf", start=0, num=2),
            c.zrank("z", "b"),
            c.zrevrank("z", "b"),
            c.zscore("z", "a"),
            c.zmscore("z", ["a", "nope"]),
            c.zcount("z", "-inf", "+inf"),
            c.zcard("z"),
            c.zadd("lex", {"a": 0, "b": 0, "c": 0}),
            c.zrangebylex("lex", "-", "[b"),
            c.zrevrangebylex("lex", "+", "(a"),
            c.zlexcount("lex", "-", "+"),
            c.zunionstore("u", ["z", "lex"]),
            c.zinterstore("i", {"z": 2, "lex": 1}, aggregate="MAX"),
            c.zunion(["z", "lex"], withscores=True),
            c.zinter(["z", "lex"]),
            c.zdiff(["z", "lex"], withscores=True),
            c.zdiffstore("d", ["z", "lex"]),
            c.zintercard(2, ["z", "lex"]),
            c.zrangestore("rs", "z", 0, 1),
            c.zpopmin("z"),
            c.zpopmax("z", 2),
            c.zmpop(2, ["nokey", "u"], min=True, count=2),
            c.zremrangebyrank("u", 0, 0),
            c.zremrangebyscore("u", "-inf", 0),
            c.zremrangebylex("lex", "[a", "[b"),
            c.zrem("lex", "c", "x"),
            c.zscan("u"),
            c.zrandmember("u", 100, withscores=True),
        ]

    assert run(r) == run(rr)


# -- random sequences ---------------------------------------------------------------------------------

KEYS = ["a", "b", "c"]
MEMBERS = st.sampled_from(["x", "y", "z", "w", "", "1", "-1", "m" * 70, "é", "A"])
SCORE_TEXT = st.sampled_from(["0", "-0", "1", "-1", "2.5", "0.1", "1e20", "inf", "-inf", "3", "x", "nan", "0x10"])
BOUNDS = st.sampled_from(["-inf", "+inf", "0", "(0", "1", "(1", "2.5", "(2.5", "-1", "x", "(", ""])
LEX = st.sampled_from(["-", "+", "[x", "(x", "[y", "(z", "[", "x", "[A", "(1"])
INDEXES = st.sampled_from(["0", "1", "-1", "2", "-2", "5", "-100", "x"])


def test_random_command_sequences(cacheflow: ServerProcess, real_redis: ServerProcess) -> None:
    """Hypothesis drives both servers through the same sorted set commands and compares every reply."""

    class Sequences(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.pair = open_pair(cacheflow, real_redis, 2)
            self.pair3 = open_pair(cacheflow, real_redis, 3)

        def teardown(self) -> None:
            for p in (self.pair, self.pair3):
                p.ours.close()
                p.theirs.close()

        @initialize()
        def start_empty(self) -> None:
            self.pair.same("FLUSHALL")
            self.pair.same("SET", "str", "v")

        @rule(
            key=st.sampled_from(KEYS),
            opts=st.lists(st.sampled_from(["NX", "XX", "GT", "LT", "CH", "INCR"]), max_size=2),
            items=st.lists(st.tuples(SCORE_TEXT, MEMBERS), min_size=1, max_size=4),
        )
        def zadd(self, key: str, opts: list[str], items: list[tuple[str, str]]) -> None:
            self.pair.same("ZADD", key, *opts, *[x for p in items for x in p])

        @rule(key=st.sampled_from([*KEYS, "str"]), score=SCORE_TEXT, member=MEMBERS)
        def zincrby(self, key: str, score: str, member: str) -> None:
            self.pair.same("ZINCRBY", key, score, member)

        @rule(key=st.sampled_from([*KEYS, "str"]), members=st.lists(MEMBERS, min_size=1, max_size=3))
        def zrem(self, key: str, members: list[str]) -> None:
            self.pair.same("ZREM", key, *members)

        @rule(key=st.sampled_from([*KEYS, "str", "nokey"]), member=MEMBERS, proto3=st.booleans())
        def point_reads(self, key: str, member: str, proto3: bool) -> None:
            p = self.pair3 if proto3 else self.pair
            p.same("ZSCORE", key, member)
            p.same("ZRANK", key, member)
            p.same("ZREVRANK", key, member)
            p.same("ZCARD", key)
            p.same("ZMSCORE", key, member, "x")

        @rule(
            key=st.sampled_from([*KEYS, "nokey"]),
            start=INDEXES,
            stop=INDEXES,
            withscores=st.booleans(),
            proto3=st.booleans(),
        )
        def zrange_rank(self, key: str, start: str, stop: str, withscores: bool, proto3: bool) -> None:
            p = self.pair3 if proto3 else self.pair
            extra = ("WITHSCORES",) if withscores else ()
            p.same("ZRANGE", key, start, stop, *extra)
            p.same("ZREVRANGE", key, start, stop, *extra)

        @rule(
            key=st.sampled_from(KEYS),
            low=BOUNDS,
            high=BOUNDS,
            limit=st.sampled_from([(), ("LIMIT", "0", "2"), ("LIMIT", "1", "-1"), ("LIMIT", "-1", "1")]),
            withscores=st.booleans(),
        )
        def zrange_score(self, key: str, low: str, high: str, limit: tuple[str, ...], withscores: bool) -> None:
            extra = ("WITHSCORES",) if withscores else ()
            self.pair.same("ZRANGEBYSCORE", key, low, high, *limit, *extra)
            self.pair.same("ZREVRANGEBYSCORE", key, high, low, *limit, *extra)
            self.pair.same("ZCOUNT", key, low, high)

        @rule(
            key=st.sampled_from(KEYS),
            low=LEX,
            high=LEX,
            limit=st.sampled_from([(), ("LIMIT", "0", "2"), ("LIMIT", "1", "-1")]),
        )
        def zrange_lex(self, key: str, low: str, high: str, limit: tuple[str, ...]) -> None:
            if not self.lex_comparable(key):
                return
            self.pair.same("ZRANGEBYLEX", key, low, high, *limit)
            self.pair.same("ZREVRANGEBYLEX", key, high, low, *limit)
            self.pair.same("ZLEXCOUNT", key, low, high)

        @rule(key=st.sampled_from(KEYS), low=BOUNDS, high=BOUNDS, kind=st.sampled_from(["SCORE", "RANK", "LEX"]))
        def zremrange(self, key: str, low: str, high: str, kind: str) -> None:
            if kind == "SCORE":
                self.pair.same("ZREMRANGEBYSCORE", key, low, high)
            elif kind == "RANK":
                self.pair.same("ZREMRANGEBYRANK", key, low.strip("("), high.strip("("))
            elif self.lex_comparable(key):
                self.pair.same("ZREMRANGEBYLEX", key, "[" + low, "(" + high)

        def lex_comparable(self, key: str) -> bool:
            """Lex ranges over mixed scores are undefined; on a skiplist they depend on Redis's random levels."""
            if self.pair.same("OBJECT", "ENCODING", key) != b"$8\r\nskiplist\r\n":
                return True
            flat = decode(self.pair.ours.call("ZRANGE", key, "0", "-1", "WITHSCORES"))
            return len(set(flat[1::2])) <= 1

        @rule(
            key=st.sampled_from([*KEYS, "nokey"]),
            name=st.sampled_from(["ZPOPMIN", "ZPOPMAX"]),
            count=st.sampled_from([(), ("0",), ("1",), ("2",), ("10",), ("-1",)]),
            proto3=st.booleans(),
        )
        def zpop(self, key: str, name: str, count: tuple[str, ...], proto3: bool) -> None:
            (self.pair3 if proto3 else self.pair).same(name, key, *count)

        @rule(
            keys=st.lists(st.sampled_from([*KEYS, "nokey"]), min_size=1, max_size=3),
            where=st.sampled_from(["MIN", "MAX"]),
            count=st.sampled_from([(), ("COUNT", "2")]),
        )
        def zmpop(self, keys: list[str], where: str, count: tuple[str, ...]) -> None:
            self.pair.same("ZMPOP", str(len(keys)), *keys, where, *count)

        @rule(
            op=st.sampled_from(["ZUNION", "ZINTER", "ZDIFF", "ZINTERCARD"]),
            keys=st.lists(st.sampled_from([*KEYS, "nokey"]), min_size=1, max_size=3),
            weights=st.booleans(),
            aggregate=st.sampled_from([(), ("AGGREGATE", "MIN"), ("AGGREGATE", "MAX"), ("AGGREGATE", "SUM")]),
            store=st.booleans(),
        )
        def setop(self, op: str, keys: list[str], weights: bool, aggregate: tuple[str, ...], store: bool) -> None:
            extra: list[str] = []
            if op in ("ZUNION", "ZINTER"):
                if weights:
                    extra += ["WEIGHTS", *[str(i - 1) for i in range(len(keys))]]
                extra += list(aggregate)
            if store and op != "ZINTERCARD":
                self.pair.same(op + "STORE", "dst", str(len(keys)), *keys, *extra)
                self.pair.same("ZRANGE", "dst", "0", "-1", "WITHSCORES")
            else:
                self.pair.same(op, str(len(keys)), *keys, *extra, *(["WITHSCORES"] if op != "ZINTERCARD" else []))

        @rule(
            src=st.sampled_from(KEYS),
            args=st.sampled_from(
                [("0", "-1"), ("1", "2", "REV"), ("-inf", "+inf", "BYSCORE"), ("-", "+", "BYLEX", "LIMIT", "1", "2")]
            ),
        )
        def zrangestore(self, src: str, args: tuple[str, ...]) -> None:
            self.pair.same("ZRANGESTORE", "dst", src, *args)
            self.pair.same("ZRANGE", "dst", "0", "-1", "WITHSCORES")

        @rule(key=st.sampled_from(KEYS))
        def whole(self, key: str) -> None:
            self.pair.same("ZRANGE", key, "0", "-1", "WITHSCORES")
            self.pair.same("ZRANDMEMBER", key, "1000", "WITHSCORES")
            if self.pair.same("OBJECT", "ENCODING", key) == b"$8\r\nskiplist\r\n":
                assert scan_all(self.pair.ours, key) == scan_all(self.pair.theirs, key)
            else:
                self.pair.same("ZSCAN", key, "0", "COUNT", "1")

    run_state_machine_as_test(
        Sequences,
        settings=settings(max_examples=40, stateful_step_count=30, deadline=None, database=None),
    )


# -- blocking pops ------------------------------------------------------------------------------------


def test_blocking_pops_that_need_not_block(pair: Pair) -> None:
    pair.script(
        """
        ZADD a 1 x 2 y 3 z
        ZADD b 10 p
        BZPOPMIN nokey a 0
        BZPOPMAX nokey a 0
        BZPOPMIN b a 0.5
        EXISTS b
        BZMPOP 0 2 nokey a MAX COUNT 5
        EXISTS a
        ZADD a 1 x 2 y
        BZMPOP 1 1 a MIN
        BZPOPMIN a x
        BZPOPMIN a -1
        BZPOPMIN a
        BZMPOP x 1 a MIN
        BZMPOP 0 0 a MIN
        BZMPOP 0 1 a MIDDLE
        BZMPOP 0 1 a MIN COUNT 0
        BZMPOP -1 1 a MIN
        SET s v
        BZPOPMIN s 0
        BZPOPMIN nokey s 0
        BZMPOP 0 2 nokey s MIN
        MULTI
        BZPOPMIN nokey 0
        BZPOPMAX nokey 0
        BZMPOP 0 1 nokey MIN
        BZPOPMIN a 0
        EXEC
        """
    )


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize(
    ("block", "feed"),
    [
        (("BZPOPMIN", "k", "0"), [("ZADD", "k", "2", "b", "1", "a")]),
        (("BZPOPMAX", "nokey", "k", "0"), [("ZADD", "k", "2", "b", "1", "a")]),
        (("BZMPOP", "0", "2", "k", "j", "MAX", "COUNT", "5"), [("ZADD", "j", "2", "b", "1", "a")]),
        (("BZPOPMIN", "k", "0"), [("SET", "k", "v"), ("DEL", "k"), ("ZADD", "k", "1", "a")]),
        (
            ("BZPOPMIN", "k", "0"),
            [("MULTI",), ("ZADD", "k", "1", "a"), ("ZREM", "k", "a"), ("EXEC",), ("ZADD", "k", "2", "b")],
        ),
        (("BZMPOP", "0", "1", "k", "MIN"), [("ZADD", "src", "1", "a", "2", "b"), ("ZUNIONSTORE", "k", "1", "src")]),
    ],
)
def test_blocked_clients_are_served_as_redis_serves_them(
    cacheflow: ServerProcess, real_redis: ServerProcess, proto: int, block: tuple[str, ...], feed: list[tuple[str, ...]]
) -> None:
    outcomes = []
    for server in (cacheflow, real_redis):
        blocked = Wire(server.port, proto)
        other = Wire(server.port, proto)
        try:
            other.call("FLUSHALL")
            blocked.send(*block)
            # Wait until the server reports the client blocked, then feed it.
            wait_until(
                lambda conn=other: b"blocked_clients:1" in conn.call("INFO", "clients"), message="client blocked"
            )
            replies = [other.call(*step) for step in feed]
            served = blocked.read_reply()
            state = other.call("ZRANGE", "k", "0", "-1", "WITHSCORES"), other.call("ZRANGE", "j", "0", "-1")
            outcomes.append((served, replies, state))
        finally:
            blocked.close()
            other.close()
    assert outcomes[0] == outcomes[1]


def test_blocking_pop_times_out(pair: Pair) -> None:
    pair.same("BZPOPMIN", "nokey", "0.01")
    pair.same("BZMPOP", "0.01", "1", "nokey", "MIN")
