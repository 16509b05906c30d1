"""SORT and SORT_RO through the engine, with no sockets.

Expected replies were taken from Redis 7.0.15 (the differential suite checks
the same ground live).  Here the focus is what a socket cannot show: the write
effects of STORE, the C ``strtod`` rules for scores, the key positions the
command table derives, and the encodings and TTLs SORT leaves behind.
"""

import pytest
from engine_harness import Err, Harness

from cacheflow.commands.sort import sort_keys, strtod_score
from cacheflow.store.lists import ListValue

WRONGTYPE = Err("WRONGTYPE Operation against a key holding the wrong kind of value")
SYNTAX = Err("ERR syntax error")
NOT_INT = Err("ERR value is not an integer or out of range")
NOT_DOUBLE = Err("ERR One or more scores can't be converted into double")


@pytest.fixture
def h() -> Harness:
    return Harness()


def effects(h: Harness) -> list[list[bytes]]:
    return [e for _, e in h.effects()]


# -- scores as strtod reads them ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "score"),
    [
        (b"3", 3.0),
        (b"-1.5", -1.5),
        (b" 5", 5.0),
        (b"\t\n+.5e1", 5.0),
        (b"1e3", 1000.0),
        (b"1.e2", 100.0),
        (b"0x10", 16.0),
        (b"0X1P-2", 0.25),
        (b"-0x.8p1", -1.0),
        (b"inf", float("inf")),
        (b"-Infinity", float("-inf")),
        (b"", 0.0),
        (b"\x00abc", 0.0),
        (b"1\x00x", 1.0),
        (b"0e-500", 0.0),
        (b"0x1p-1074", 5e-324),  # an exact subnormal: no ERANGE
        (b"2.2250738585072014e-308", 2.2250738585072014e-308),
        (b"1e308", 1e308),
        (b"9223372036854775807", 9.223372036854776e18),
    ],
)
def test_strtod_accepts_what_redis_sorts(raw: bytes, score: float) -> None:
    assert strtod_score(raw) == score


@pytest.mark.parametrize(
    "raw",
    [
        b"abc",
        b"5 ",
        b" ",
        b"1e",
        b"1e+",
        b"0x",
        b"infinit",
        b"nan",
        b"-NaN(12)",
        b"1_0",
        b"1,5",
        b"1e400",  # overflow: ERANGE
        b"0x1p1024",
        b"1e-310",  # inexact subnormal: ERANGE
        b"4.9406564584124654e-324",
        b"2.2250738585072011e-308",
        b"1e-400",  # underflow to zero: ERANGE
        b"0x1.8p-1074",
    ],
)
def test_strtod_refuses_what_redis_refuses(raw: bytes) -> None:
    assert strtod_score(raw) is None


# -- sorting ----------------------------------------------------------------------------------


def test_numeric_sort_of_a_list_with_ties_broken_by_the_elements(h: Harness) -> None:
    h("RPUSH", "l", "3", "1", "2", "10", "1.5", "-inf", "inf", "0x10", " 5", "1e3", "01", "1.0")
    assert h("SORT", "l") == [
        b"-inf",
        b"01",
        b"1",
        b"1.0",
        b"1.5",
        b"2",
        b"3",
        b" 5",
        b"10",
        b"0x10",
        b"1e3",
        b"inf",
    ]
    assert h("SORT", "l", "DESC")[:4] == [b"inf", b"1e3", b"0x10", b"10"]
    assert h("SORT", "l", "DESC")[-4:] == [b"1.0", b"1", b"01", b"-inf"]


def test_a_bad_score_fails_the_whole_sort_and_stores_nothing(h: Harness) -> None:
    h("RPUSH", "l", "1", "x")
    h("SET", "dst", "old")
    h.effects()
    assert h("SORT", "l") == NOT_DOUBLE
    assert h("SORT", "l", "STORE", "dst") == NOT_DOUBLE
    assert h("GET", "dst") == b"old"
    assert effects(h) == []
    assert h("SORT", "l", "ALPHA") == [b"1", b"x"]
    assert h("SORT", "l", "BY", "nosort") == [b"1", b"x"]


def test_alpha_is_byte_order_up_to_a_nul_unless_stored(h: Harness) -> None:
    h("RPUSH", "l", "a", b"b\x00c", b"b\x00a", b"\xff", b"\x80", "A", "")
    assert h("SORT", "l", "ALPHA") == [b"", b"A", b"a", b"b\x00c", b"b\x00a", b"\x80", b"\xff"]
    assert h("SORT", "l", "ALPHA", "DESC") == [b"\xff", b"\x80", b"b\x00c", b"b\x00a", b"a", b"A", b""]
    assert h("SORT", "l", "ALPHA", "STORE", "d") == 7
    assert h("LRANGE", "d", 0, -1) == [b"", b"A", b"a", b"b\x00a", b"b\x00c", b"\x80", b"\xff"]


def test_limit(h: Harness) -> None:
    h("RPUSH", "l", "3", "1", "2")
    cases = {
        ("1", "9223372036854775807"): [b"2", b"3"],
        ("2", "9223372036854775807"): [b"3"],
        ("-5", "2"): [b"1", b"2"],
        ("1", "-3"): [b"2", b"3"],
        ("3", "1"): [],
        ("2", "1"): [b"3"],
        ("0", "0"): [],
        ("9223372036854775807", "9223372036854775807"): [],
    }
    for (offset, count), expected in cases.items():
        assert h("SORT", "l", "LIMIT", offset, count) == expected, (offset, count)
    assert h("SORT", "l", "LIMIT", "x", "1") == NOT_INT
    assert h("SORT", "l", "LIMIT", "1", "x") == NOT_INT
    assert h("SORT", "l", "LIMIT", "1") == SYNTAX
    assert h("SORT", "l", "LIMIT", "1", "9223372036854775808") == NOT_INT


def test_by_nosort_keeps_natural_order(h: Harness) -> None:
    h("RPUSH", "l", "3", "1", "2")
    assert h("SORT", "l", "BY", "nosort") == [b"3", b"1", b"2"]
    assert h("SORT", "l", "BY", "nosort", "DESC") == [b"2", b"1", b"3"]
    assert h("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "5") == [b"1", b"3"]
    assert h("SORT", "l", "BY", "nosort", "LIMIT", "1", "1") == [b"1"]
    # A constant BY anywhere switches sorting off, whichever BY comes last.
    h("MSET", "w_1", "3", "w_2", "2", "w_3", "1")
    assert h("SORT", "l", "BY", "nosort", "BY", "w_*") == [b"3", b"1", b"2"]
    assert h("SORT", "l", "BY", "w_*", "BY", "nosort") == [b"3", b"1", b"2"]
    # strchr stops at a NUL byte: this BY has no '*'.
    assert h("SORT", "l", "BY", b"\x00*") == [b"3", b"1", b"2"]


def test_by_nosort_on_sorted_sets_and_sets(h: Harness) -> None:
    h("ZADD", "z", "3", "a", "1", "b", "2", "c")
    assert h("SORT", "z", "BY", "nosort") == [b"b", b"c", b"a"]
    assert h("SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "1") == [b"c"]
    assert h("SORT", "z", "ALPHA", "DESC") == [b"c", b"b", b"a"]
    h("SADD", "s", "5", "3", "9", "1")
    assert h("SORT", "s", "BY", "nosort") == [b"1", b"3", b"5", b"9"]
    assert h("SORT", "s", "BY", "nosort", "DESC") == [b"1", b"3", b"5", b"9"]  # DESC ignored
    assert h("SORT", "s", "BY", "nosort", "LIMIT", "1", "2") == [b"3", b"5"]
    # STORE sorts a set ALPHA instead, so the stored list does not depend on hash order.
    assert h("SORT", "s", "BY", "nosort", "DESC", "STORE", "d") == 4
    assert h("LRANGE", "d", 0, -1) == [b"9", b"5", b"3", b"1"]
    h("SADD", "t", "b", "10", "a", "9")
    assert h("SORT", "t", "BY", "nosort", "STORE", "d") == 4
    assert h("LRANGE", "d", 0, -1) == [b"10", b"9", b"a", b"b"]


def test_sorting_a_sorted_set_converts_it_to_a_skiplist_keeping_its_ttl(h: Harness) -> None:
    h("ZADD", "z", "1", "a", "2", "b")
    h("PEXPIRE", "z", 100000)
    assert h("OBJECT", "ENCODING", "z") == b"listpack"
    assert h("SORT_RO", "z", "BY", "nosort") == [b"a", b"b"]
    assert h("OBJECT", "ENCODING", "z") == b"skiplist"
    assert h("PTTL", "z") == 100000
    assert h("ZRANGE", "z", 0, -1, "WITHSCORES") == [b"a", b"1", b"b", b"2"]
    h("ZADD", "y", "1", "a")
    assert h("SORT", "y", "LIMIT", "x", "1") == NOT_INT
    assert h("OBJECT", "ENCODING", "y") == b"listpack"  # a failed parse touches nothing


def test_by_and_get_patterns(h: Harness) -> None:
    h("RPUSH", "l", "3", "1", "2")
    h("MSET", "w_1", "30", "w_2", "20", "w_3", "10", "o_1", "one", "o_2", "two")
    h("HSET", "h_1", "f", "5", "g", "x")
    h("HSET", "h_3", "f", "1")
    assert h("SORT", "l", "BY", "w_*") == [b"3", b"2", b"1"]
    assert h("SORT", "l", "BY", "w_*", "GET", "o_*", "GET", "#", "GET", "h_*->f", "GET", "h_*->") == [
        None,
        b"3",
        b"1",
        None,
        b"two",
        b"2",
        None,
        None,
        b"one",
        b"1",
        b"5",
        None,
    ]
    assert h("SORT", "l", "BY", "h_*->f") == [b"2", b"3", b"1"]  # missing: 0
    assert h("SORT", "l", "BY", "h_*->f", "DESC") == [b"1", b"3", b"2"]
    assert h("SORT", "l", "BY", "h_*->g", "ALPHA") == [b"3", b"2", b"1"]  # missing first, in list order
    assert h("SORT", "l", "BY", "h_*->g") == NOT_DOUBLE
    assert h("SORT", "l", "GET", "nostar") == [None, None, None]
    assert h("SORT", "l", "GET", "#x") == [None, None, None]
    assert h("SORT", "l", "GET", b"#\x00x") == [b"1", b"2", b"3"]
    assert h("SORT", "l", "GET", b"o_\x00*") == [None, None, None]
    assert h("SORT", "l", "BY", "w_*->") == [b"1", b"2", b"3"]  # "->" at the end is part of the key
    h("SET", "w_1->", "5")
    assert h("SORT", "l", "GET", "w_*->") == [b"5", None, None]
    assert h("SORT", "l", "GET", "h_*->f->g") == [None, None, None]  # the field is "f->g"
    h("HSET", "h_1", "f->g", "deep")
    assert h("SORT", "l", "GET", "h_*->f->g") == [b"deep", None, None]
    h("RPUSH", "o_3", "a list")
    assert h("SORT", "l", "GET", "o_*", "GET", "l->x") == [b"one", None, b"two", None, None, None]


def test_get_returns_strings_edited_in_place(h: Harness) -> None:
    h("RPUSH", "l", "1")
    h("SET", "v_1", "ab")
    h("APPEND", "v_1", "cd")
    assert h("SORT", "l", "GET", "v_*") == [b"abcd"]
    assert h("SORT", "l", "BY", "v_*", "ALPHA", "GET", "v_*", "STORE", "d") == 1
    assert h("LRANGE", "d", 0, -1) == [b"abcd"]


def test_expired_hash_fields_are_not_seen(h: Harness) -> None:
    h("RPUSH", "l", "1", "2")
    h("HSET", "h_1", "f", "10")
    h("HSET", "h_2", "f", "5")
    h("HPEXPIRE", "h_1", 1000, "FIELDS", 1, "f")
    assert h("SORT", "l", "BY", "h_*->f", "GET", "h_*->f") == [b"5", b"10"]
    h.clock.advance(1001)
    assert h("SORT", "l", "BY", "h_*->f", "GET", "h_*->f") == [None, b"5"]


def test_resp3_nulls(h: Harness) -> None:
    ctx = h.client(proto=3)
    h("RPUSH", "l", "1")
    assert h.raw(ctx, "SORT", "l", "GET", "x_*") == b"*1\r\n_\r\n"
    assert h.raw(ctx, "SORT", "missing") == b"*0\r\n"


def test_errors_and_their_order(h: Harness) -> None:
    h("SET", "s", "v")
    h("HSET", "h", "f", "v")
    assert h("SORT", "s") == WRONGTYPE
    assert h("SORT", "h") == WRONGTYPE
    assert h("SORT_RO", "h") == WRONGTYPE
    assert h("SORT", "s", "bad") == SYNTAX  # options are checked before the key
    assert h("SORT", "s", "LIMIT", "x", "1", "bad") == NOT_INT
    assert h("SORT", "missing") == []
    assert h("SORT", "l", "STORE") == SYNTAX
    assert h("SORT_RO", "l", "STORE", "d") == SYNTAX
    assert h("SORT", "l", "GET") == SYNTAX
    assert h("SORT", "l", "BY") == SYNTAX
    assert h("SORT") == Err("ERR wrong number of arguments for 'sort' command")
    assert h("SORT_RO") == Err("ERR wrong number of arguments for 'sort_ro' command")
    assert h("sort", "l", "asc", "desc", "alpha", "limit", "0", "1", "by", "x", "get", "#") == []


# -- STORE ------------------------------------------------------------------------------------


def test_store_replaces_the_destination_and_drops_its_ttl(h: Harness) -> None:
    h("RPUSH", "l", "3", "1", "2")
    h("SADD", "dst", "x")
    h("EXPIRE", "dst", 100)
    h.effects()
    assert h("SORT", "l", "STORE", "dst") == 3
    assert h("TYPE", "dst") == b"list"
    assert h("TTL", "dst") == -1
    assert h("LRANGE", "dst", 0, -1) == [b"1", b"2", b"3"]
    assert effects(h) == [[b"DEL", b"dst"], [b"RPUSH", b"dst", b"1", b"2", b"3"]]
    assert h("SORT", "l", "STORE", "new") == 3
    assert effects(h) == [[b"RPUSH", b"new", b"1", b"2", b"3"]]


def test_store_of_an_empty_result_deletes_the_destination(h: Harness) -> None:
    h("SET", "dst", "x")
    h.effects()
    assert h("SORT", "missing", "STORE", "dst") == 0
    assert h("EXISTS", "dst") == 0
    assert effects(h) == [[b"DEL", b"dst"]]
    assert h("SORT", "missing", "STORE", "dst") == 0
    assert effects(h) == []
    h("RPUSH", "l", "1")
    h.effects()
    assert h("SORT", "l", "LIMIT", "5", "1", "STORE", "dst") == 0
    assert effects(h) == []


def test_store_with_get_writes_empty_strings_for_missing_values(h: Harness) -> None:
    h("RPUSH", "l", "2", "1")
    h("SET", "v_1", "one")
    assert h("SORT", "l", "GET", "v_*", "GET", "#", "STORE", "d") == 4
    assert h("LRANGE", "d", 0, -1) == [b"one", b"1", b"", b"2"]


def test_store_onto_the_sorted_key_itself(h: Harness) -> None:
    h("RPUSH", "l", "3", "1", "2")
    assert h("SORT", "l", "DESC", "STORE", "l") == 3
    assert h("LRANGE", "l", 0, -1) == [b"3", b"2", b"1"]


def test_large_store_effects_come_in_batches_that_replay_to_the_same_list(h: Harness) -> None:
    h("RPUSH", "l", *range(3000))
    h.effects()
    assert h("SORT", "l", "DESC", "STORE", "d") == 3000
    out = effects(h)
    assert all(e[:2] == [b"RPUSH", b"d"] for e in out)
    assert len(out) == 3
    replayed = [x for e in out for x in e[2:]]
    assert replayed == [b"%d" % i for i in range(2999, -1, -1)]
    assert h("LLEN", "d") == 3000


def test_sort_ro_is_a_read(h: Harness) -> None:
    h("RPUSH", "l", "2", "1")
    h.effects()
    assert h("SORT_RO", "l") == [b"1", b"2"]
    assert h("SORT", "l") == [b"1", b"2"]
    assert effects(h) == []


def test_watch_is_broken_by_store_only(h: Harness) -> None:
    h("RPUSH", "l", "2", "1")
    other = h.client()
    h("WATCH", "dst")
    h.run(other, "SORT", "l")
    h("MULTI")
    h("PING")
    assert h("EXEC") == [b"PONG"]
    h("WATCH", "dst")
    h.run(other, "SORT", "l", "STORE", "dst")
    h("MULTI")
    h("PING")
    assert h("EXEC") is None


def test_lookups_expire_keys(h: Harness) -> None:
    h("RPUSH", "l", "1")
    h("SET", "w_1", "5", "PX", 10)
    h.effects()
    h.clock.advance(20)
    assert h("SORT", "l", "GET", "w_*") == [None]
    assert effects(h) == [[b"DEL", b"w_1"]]


# -- key positions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "keys"),
    [
        (["l"], [1]),
        (["l", "STORE", "a"], [1, 3]),
        (["l", "STORE", "a", "STORE", "b"], [1, 5]),
        (["l", "store", "limit", "x"], [1, 3]),
        (["l", "GET", "store", "x"], [1]),
        (["l", "LIMIT", "store", "x", "STORE", "d"], [1, 6]),
        (["l", "STORE"], [1]),
        (["l", "BY", "STORE", "STORE", "d"], [1, 5]),
    ],
)
def test_sort_keys_follow_redis_getkeys(args: list[str], keys: list[int]) -> None:
    assert sort_keys([b"SORT", *(a.encode() for a in args)]) == keys


def test_command_getkeys(h: Harness) -> None:
    assert h("COMMAND", "GETKEYS", "SORT", "l", "STORE", "a", "STORE", "b") == [b"l", b"b"]
    assert h("COMMAND", "GETKEYS", "SORT_RO", "l", "BY", "x", "GET", "y") == [b"l"]
    assert h("COMMAND", "GETKEYSANDFLAGS", "SORT", "l", "STORE", "a") == [
        [b"l", [b"RO", b"access"]],
        [b"a", [b"OW", b"update"]],
    ]
    assert h("COMMAND", "GETKEYSANDFLAGS", "SORT_RO", "l", "BY", "x") == [[b"l", [b"RO", b"access"]]]


def test_stored_value_is_a_list_value(h: Harness) -> None:
    h("SADD", "s", "b", "a")
    h("SORT", "s", "ALPHA", "STORE", "d")
    assert isinstance(h.db.data[b"d"], ListValue)
    assert h("OBJECT", "ENCODING", "d") == b"quicklist"


def test_store_serves_a_client_blocked_on_the_destination(h: Harness) -> None:
    delivered: list[bytes] = []
    h.engine.blocking.on_unblocked = lambda ctx, reply: delivered.append(reply)
    waiter = h.client()
    assert h.raw(waiter, "BLPOP", "dst", 0) == b""
    h("RPUSH", "l", "2", "1")
    h.effects()
    assert h("SORT", "l", "STORE", "dst") == 2
    assert delivered == [b"*2\r\n$3\r\ndst\r\n$1\r\n1\r\n"]
    assert effects(h) == [[b"RPUSH", b"dst", b"1", b"2"], [b"LPOP", b"dst"]]
    assert h("LRANGE", "dst", 0, -1) == [b"2"]


def test_cluster_mode_refuses_by_patterns_and_get(h: Harness) -> None:
    h.config.cluster_enabled = True
    h("RPUSH", "l", "2", "1")
    assert h("SORT", "l", "BY", "w_*") == Err("ERR BY option of SORT denied in Cluster mode.")
    assert h("SORT", "l", "GET", "#") == Err("ERR GET option of SORT denied in Cluster mode.")
    assert h("SORT_RO", "l", "LIMIT", "x", "1", "GET", "#") == NOT_INT
    assert h("SORT", "l", "BY", "nosort", "DESC") == [b"1", b"2"]
    assert h("SORT", "l", "ALPHA") == [b"1", b"2"]
