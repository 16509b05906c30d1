"""Sorted set commands through the real engine: replies, write effects, WATCH, encodings, blocking, ZRANK WITHSCORE.

The byte-for-byte comparison with Redis lives in the differential suite; here
are the parts a real Redis 7.0 cannot check: the effects each write
publishes (and that no-ops publish nothing), the keys WATCH sees in them,
Redis 7.2's ZRANK/ZREVRANK WITHSCORE, and seeded randomness.
"""

from engine_harness import Err, Harness

from cacheflow.commands import TABLE


def test_zadd_effects_only_when_something_changed() -> None:
    h = Harness()
    assert h("ZADD", "z", "1", "a", "2", "b") == 2
    assert h.effects() == [(0, [b"ZADD", b"z", b"1", b"a", b"2", b"b"])]
    assert h("ZADD", "z", "1", "a") == 0
    assert h("ZADD", "z", "NX", "5", "a") == 0
    assert h("ZADD", "z", "XX", "5", "nosuch") == 0
    assert h("ZADD", "z", "GT", "0", "a") == 0
    assert h("ZINCRBY", "z", "0", "a") == b"1"
    assert h("ZADD", "nokey", "XX", "1", "a") == 0
    assert h.effects() == []
    assert h("ZADD", "z", "CH", "INCR", "2", "a") == b"3"
    assert h("ZINCRBY", "z", "1", "b") == b"3"
    assert h.effects() == [
        (0, [b"ZADD", b"z", b"CH", b"INCR", b"2", b"a"]),
        (0, [b"ZINCRBY", b"z", b"1", b"b"]),
    ]
    assert h("EXISTS", "nokey") == 0


def test_nan_increment_fails_without_effect() -> None:
    h = Harness()
    h("ZADD", "z", "inf", "a")
    h.effects()
    assert h("ZINCRBY", "z", "-inf", "a") == Err("ERR resulting score is not a number (NaN)")
    assert h("ZSCORE", "z", "a") == b"inf"
    assert h.effects() == []


def test_removal_effects_and_key_deletion() -> None:
    h = Harness()
    h("ZADD", "z", "1", "a", "2", "b", "3", "c")
    h.effects()
    assert h("ZREM", "z", "nosuch") == 0
    assert h("ZREMRANGEBYSCORE", "z", "10", "20") == 0
    assert h.effects() == []
    assert h("ZREM", "z", "a") == 1
    assert h("ZREMRANGEBYRANK", "z", "0", "0") == 1
    assert h("ZREMRANGEBYLEX", "z", "-", "+") == 1
    assert h("EXISTS", "z") == 0
    assert [e for _, e in h.effects()] == [
        [b"ZREM", b"z", b"a"],
        [b"ZREMRANGEBYRANK", b"z", b"0", b"0"],
        [b"ZREMRANGEBYLEX", b"z", b"-", b"+"],
    ]


def test_pop_effects() -> None:
    h = Harness()
    h("ZADD", "a", "1", "x", "2", "y", "3", "z")
    h.effects()
    assert h("ZPOPMIN", "a", "0") == []
    assert h("ZPOPMIN", "nokey") == []
    assert h.effects() == []
    assert h("ZPOPMAX", "a") == [b"z", b"3"]
    assert h("ZMPOP", "2", "nokey", "a", "MIN", "COUNT", "10") == [b"a", [[b"x", b"1"], [b"y", b"2"]]]
    assert h("ZMPOP", "1", "a", "MIN") is None
    assert [e for _, e in h.effects()] == [[b"ZPOPMAX", b"a"], [b"ZPOPMIN", b"a", b"2"]]


def test_store_effects_name_the_destination_for_watch() -> None:
    h = Harness()
    h("ZADD", "src", "1", "a", "2", "b")
    h.effects()
    assert h("ZRANGESTORE", "dst", "src", "0", "0") == 1
    assert h("ZUNIONSTORE", "dst", "1", "src") == 2
    assert h("ZINTERSTORE", "dst", "2", "src", "nokey") == 0
    assert h("ZDIFFSTORE", "dst", "1", "nokey") == 0  # nothing to delete: no effect
    effects = [e for _, e in h.effects()]
    assert effects == [
        [b"ZRANGESTORE", b"dst", b"src", b"0", b"0"],
        [b"ZUNIONSTORE", b"dst", b"1", b"src"],
        [b"ZINTERSTORE", b"dst", b"2", b"src", b"nokey"],
    ]
    for effect in effects:
        cmd = TABLE.get(effect[0].decode().lower())
        assert cmd is not None and cmd.touches is not None
        assert cmd.touches(0, effect) == [(0, b"dst")]
    assert TABLE.commands["zunionstore"].key_positions([b"ZUNIONSTORE", b"d", b"2", b"a", b"b", b"WEIGHTS"]) == [
        1,
        3,
        4,
    ]
    assert TABLE.commands["zinter"].key_positions([b"ZINTER", b"x", b"a"]) == []
    assert TABLE.commands["bzmpop"].key_positions([b"BZMPOP", b"0", b"2", b"a", b"b", b"MIN"]) == [3, 4]


def test_watch_on_a_source_survives_a_store() -> None:
    h = Harness()
    other = h.client()
    h("ZADD", "src", "1", "a")
    h("WATCH", "src")
    h("ZUNIONSTORE", "dst", "1", "src", ctx=other)
    h("MULTI")
    h("PING")
    assert h("EXEC") == [b"PONG"]
    h("WATCH", "dst")
    h("ZUNIONSTORE", "dst", "1", "src", ctx=other)
    h("MULTI")
    assert h("EXEC") is None


def test_zrank_withscore_as_redis_7_2() -> None:
    h = Harness()
    resp3 = h.client(proto=3)
    h("ZADD", "z", "1.5", "a", "2", "b")
    assert h("ZRANK", "z", "b", "WITHSCORE") == [1, b"2"]
    assert h("ZREVRANK", "z", "b", "withscore") == [0, b"2"]
    assert h.raw(resp3, "ZRANK", "z", "a", "WITHSCORE") == b"*2\r\n:0\r\n,1.5\r\n"
    assert h.raw(h.ctx, "ZRANK", "z", "nosuch", "WITHSCORE") == b"*-1\r\n"
    assert h.raw(h.ctx, "ZRANK", "nokey", "a", "WITHSCORE") == b"*-1\r\n"
    assert h.raw(resp3, "ZRANK", "nokey", "a", "WITHSCORE") == b"_\r\n"
    assert h.raw(h.ctx, "ZRANK", "z", "nosuch") == b"$-1\r\n"
    assert h("ZRANK", "z", "a", "WITHSCORES") == Err("ERR syntax error")
    assert h("ZRANK", "z", "a", "WITHSCORE", "x") == Err("ERR wrong number of arguments for 'zrank' command")
    h("SET", "s", "v")
    assert h("ZRANK", "s", "a", "WITHSCORE") == Err("WRONGTYPE Operation against a key holding the wrong kind of value")


def test_encodings_follow_live_config() -> None:
    h = Harness()
    h.config.zset_max_listpack_entries = 2
    h.config.zset_max_listpack_value = 3
    h("ZADD", "z", "1", "a", "2", "b")
    assert h("OBJECT", "ENCODING", "z") == b"listpack"
    h("ZADD", "z", "3", "c")
    assert h("OBJECT", "ENCODING", "z") == b"skiplist"
    h("ZADD", "y", "1", "abcd")
    assert h("OBJECT", "ENCODING", "y") == b"skiplist"
    h("ZUNIONSTORE", "u", "1", "y")
    assert h("OBJECT", "ENCODING", "u") == b"skiplist"
    h("ZRANGESTORE", "r", "z", "0", "1")
    assert h("OBJECT", "ENCODING", "r") == b"listpack"
    assert h("TYPE", "r") == b"zset"


def test_zscan_walks_a_big_set_with_cursors() -> None:
    h = Harness()
    h.config.zset_max_listpack_entries = 0
    h("ZADD", "z", *[x for i in range(50) for x in (str(i), f"m{i:02d}")])
    seen: dict[bytes, bytes] = {}
    cursor = b"0"
    calls = 0
    while True:
        cursor, items = h("ZSCAN", "z", cursor, "COUNT", "7")
        seen.update(zip(items[0::2], items[1::2], strict=True))
        calls += 1
        if cursor == b"0":
            break
    assert calls == 8
    assert seen == {f"m{i:02d}".encode(): str(i).encode() for i in range(50)}
    assert h("ZSCAN", "z", "0", "MATCH", "m4*", "COUNT", "100") == [
        b"0",
        [x for i in range(40, 50) for x in (f"m{i}".encode(), str(i).encode())],
    ]


def test_zrandmember_is_reproducible_with_a_seed() -> None:
    replies = []
    for _ in range(2):
        h = Harness()
        h("ZADD", "z", *[x for i in range(30) for x in (str(i), f"m{i}")])
        replies.append([h("ZRANDMEMBER", "z"), h("ZRANDMEMBER", "z", "-5"), h("ZRANDMEMBER", "z", "4", "WITHSCORES")])
    assert replies[0] == replies[1]
    assert h("ZRANDMEMBER", "z", "30") == [f"m{i}".encode() for i in reversed(range(30))]


def test_replies_in_resp3() -> None:
    h = Harness()
    c3 = h.client(proto=3)
    h("ZADD", "z", "1", "a", "2.5", "b")
    assert h.raw(c3, "ZSCORE", "z", "b") == b",2.5\r\n"
    assert (
        h.raw(c3, "ZRANGE", "z", "0", "-1", "WITHSCORES") == b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
    )
    assert h.raw(c3, "ZMSCORE", "z", "a", "x") == b"*2\r\n,1\r\n_\r\n"
    assert h.raw(c3, "ZPOPMIN", "z") == b"*2\r\n$1\r\na\r\n,1\r\n"
    assert h.raw(c3, "ZPOPMIN", "z", "1") == b"*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"


def test_blocking_pop_served_later() -> None:
    h = Harness()
    waiter = h.client()
    assert h.raw(waiter, "BZPOPMIN", "k", "0") == b""  # blocked: no reply yet
    h("ZADD", "k", "2", "b", "1", "a")
    effects = [e for _, e in h.effects()]
    assert effects == [[b"ZADD", b"k", b"2", b"b", b"1", b"a"], [b"ZPOPMIN", b"k"]]
    assert h("ZRANGE", "k", "0", "-1") == [b"b"]


def test_blocking_pops_inside_exec_answer_as_a_timeout() -> None:
    h = Harness()
    h("MULTI")
    h("BZPOPMAX", "nokey", "0")
    h("BZMPOP", "0", "1", "nokey", "MAX")
    assert h("EXEC") == [None, None]


def test_wrong_type_and_argument_errors() -> None:
    h = Harness()
    h("SET", "s", "v")
    wrongtype = Err("WRONGTYPE Operation against a key holding the wrong kind of value")
    assert h("ZADD", "s", "1", "a") == wrongtype
    assert h("ZADD", "s", "x", "a") == Err("ERR value is not a valid float")  # scores are checked first
    assert h("ZRANGEBYSCORE", "s", "x", "1") == Err("ERR min or max is not a float")
    assert h("ZUNION", "2", "s", "nokey", "BAD") == wrongtype  # keys are looked up before the options
    assert h("ZRANDMEMBER", "s", "-9223372036854775808") == Err(
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    )
    assert h("ZADD", "z", "GT", "LT", "1", "a") == Err(
        "ERR GT, LT, and/or NX options at the same time are not compatible"
    )
