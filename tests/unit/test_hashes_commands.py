"""Hash commands through the real engine, with no sockets and a manual clock.

The field-TTL commands (HEXPIRE ... HPERSIST) are Redis 7.4 features that the
installed reference server (7.0.15) lacks, so they are checked here against
the semantics documented for 7.4 (reply codes -2/-1/0/1/2, error texts, the
listpackex encoding and field order) rather than differentially.  Expiry is
driven by moving the clock, never by sleeping.
"""

from typing import Any

import pytest
from engine_harness import NOW, Err, Harness

from cacheflow.store.hashes import Hash

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "ERR value is not an integer or out of range"
SYNTAX = "ERR syntax error"


@pytest.fixture
def h() -> Harness:
    return Harness()


def effects(h: Harness) -> list[list[bytes]]:
    return [e for _, e in h.effects()]


# -- basic commands -------------------------------------------------------------------


def test_hset_family_replies_and_effects(h: Harness) -> None:
    assert h("HSET", "k", "a", "1", "b", "2") == 2
    assert h("HSET", "k", "a", "3", "c", "4") == 1
    assert h("HMSET", "k", "d", "5") == b"OK"
    assert h("HSETNX", "k", "a", "x") == 0
    assert h("HSETNX", "k", "e", "6") == 1
    assert h("HGETALL", "k") == [b"a", b"3", b"b", b"2", b"c", b"4", b"d", b"5", b"e", b"6"]
    assert effects(h) == [
        [b"HSET", b"k", b"a", b"1", b"b", b"2"],
        [b"HSET", b"k", b"a", b"3", b"c", b"4"],
        [b"HMSET", b"k", b"d", b"5"],
        [b"HSETNX", b"k", b"e", b"6"],
    ]
    assert h("HSET", "k", "a") == Err("ERR wrong number of arguments for 'hset' command")
    assert h("HMSET", "k", "a", "1", "b") == Err("ERR wrong number of arguments for 'hmset' command")
    assert h("HSET", "k") == Err("ERR wrong number of arguments for 'hset' command")


def test_reads(h: Harness) -> None:
    h("HSET", "k", "a", "1", "b", "")
    assert h("HGET", "k", "a") == b"1"
    assert h("HGET", "k", "zz") is None
    assert h("HGET", "nokey", "a") is None
    assert h("HMGET", "k", "a", "zz", "b") == [b"1", None, b""]
    assert h("HMGET", "nokey", "a", "b") == [None, None]
    assert h("HLEN", "k") == 2
    assert h("HLEN", "nokey") == 0
    assert h("HSTRLEN", "k", "a") == 1
    assert h("HSTRLEN", "k", "zz") == 0
    assert h("HEXISTS", "k", "b") == 1
    assert h("HEXISTS", "k", "zz") == 0
    assert h("HKEYS", "k") == [b"a", b"b"]
    assert h("HVALS", "k") == [b"1", b""]
    assert h("HKEYS", "nokey") == []
    assert h("HGETALL", "nokey") == []
    assert h("TYPE", "k") == b"hash"
    assert h("OBJECT", "ENCODING", "k") == b"listpack"


def test_resp3_shapes(h: Harness) -> None:
    c = h.client(proto=3)
    h("HSET", "k", "a", "1")
    assert h.raw(c, "HGETALL", "k") == b"%1\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert h.raw(c, "HGETALL", "nokey") == b"%0\r\n"
    assert h.raw(c, "HGET", "k", "zz") == b"_\r\n"
    assert h.raw(c, "HMGET", "k", "zz", "a") == b"*2\r\n_\r\n$1\r\n1\r\n"
    assert h.raw(c, "HRANDFIELD", "nokey") == b"_\r\n"
    assert h.raw(c, "HRANDFIELD", "k", "1", "WITHVALUES") == b"*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert h.raw(c, "HRANDFIELD", "k", "-2", "WITHVALUES") == b"*2\r\n" + b"*2\r\n$1\r\na\r\n$1\r\n1\r\n" * 2
    assert h.raw(h.ctx, "HRANDFIELD", "k", "-2", "WITHVALUES") == b"*4\r\n" + b"$1\r\na\r\n$1\r\n1\r\n" * 2


def test_wrong_type(h: Harness) -> None:
    h("SET", "s", "v")
    for cmd in (
        ("HSET", "s", "a", "1"),
        ("HSETNX", "s", "a", "1"),
        ("HGET", "s", "a"),
        ("HMGET", "s", "a"),
        ("HDEL", "s", "a"),
        ("HLEN", "s"),
        ("HSTRLEN", "s", "a"),
        ("HEXISTS", "s", "a"),
        ("HKEYS", "s"),
        ("HVALS", "s"),
        ("HGETALL", "s"),
        ("HINCRBY", "s", "a", "1"),
        ("HINCRBYFLOAT", "s", "a", "1"),
        ("HRANDFIELD", "s"),
        ("HRANDFIELD", "s", "2"),
        ("HSCAN", "s", "0"),
        ("HEXPIRE", "s", "10", "FIELDS", "1", "a"),
        ("HTTL", "s", "FIELDS", "1", "a"),
        ("HPERSIST", "s", "FIELDS", "1", "a"),
    ):
        assert h(*cmd) == Err(WRONGTYPE), cmd
    # argument errors that Redis checks before the key
    assert h("HINCRBY", "s", "a", "x") == Err(NOT_INT)
    assert h("HINCRBYFLOAT", "s", "a", "x") == Err("ERR value is not a valid float")
    assert h("HSCAN", "s", "x") == Err("ERR invalid cursor")
    assert h("HRANDFIELD", "s", "x") == Err(NOT_INT)
    assert effects(h) == [[b"SET", b"s", b"v"]]


def test_hdel_deletes_the_key_with_its_last_field(h: Harness) -> None:
    h("HSET", "k", "a", "1", "b", "2")
    h.effects()
    assert h("HDEL", "k", "zz") == 0
    assert effects(h) == []
    assert h("HDEL", "k", "a", "a", "b", "c") == 2
    assert h("EXISTS", "k") == 0
    assert effects(h) == [[b"HDEL", b"k", b"a", b"a", b"b", b"c"]]
    assert h("HDEL", "k", "a") == 0


def test_key_ttl_survives_field_changes(h: Harness) -> None:
    h("HSET", "k", "a", "1")
    h("EXPIRE", "k", "100")
    h("HSET", "k", "b", "2")
    h("HDEL", "k", "a")
    h("HINCRBY", "k", "n", "1")
    assert h("TTL", "k") == 100
    h.clock.advance(100_000)
    assert h("HGETALL", "k") == []
    assert h("HSET", "k", "a", "1") == 1
    assert h("TTL", "k") == -1


def test_hincrby(h: Harness) -> None:
    assert h("HINCRBY", "k", "n", "5") == 5
    assert h("HINCRBY", "k", "n", "-7") == -2
    h("HSET", "k", "s", "abc", "z", "012", "big", "9223372036854775807")
    assert h("HINCRBY", "k", "s", "1") == Err("ERR hash value is not an integer")
    assert h("HINCRBY", "k", "z", "1") == Err("ERR hash value is not an integer")
    assert h("HINCRBY", "k", "big", "1") == Err("ERR increment or decrement would overflow")
    assert h("HINCRBY", "k", "n", "1.5") == Err(NOT_INT)
    assert h("HINCRBY", "new", "n", "9223372036854775808") == Err(NOT_INT)
    assert h("EXISTS", "new") == 0
    assert effects(h)[:2] == [[b"HINCRBY", b"k", b"n", b"5"], [b"HINCRBY", b"k", b"n", b"-7"]]


def test_hincrbyfloat_is_published_as_hset(h: Harness) -> None:
    assert h("HINCRBYFLOAT", "k", "f", "0.1") == b"0.1"
    assert h("HINCRBYFLOAT", "k", "f", "0.2") == b"0.3"
    assert h("HINCRBYFLOAT", "k", "f", "1e3") == b"1000.29999999999999999"  # long double, as Redis
    assert effects(h) == [
        [b"HSET", b"k", b"f", b"0.1"],
        [b"HSET", b"k", b"f", b"0.3"],
        [b"HSET", b"k", b"f", b"1000.29999999999999999"],
    ]
    assert h("HINCRBYFLOAT", "k", "f", "inf") == Err("ERR value is NaN or Infinity")
    assert h("HINCRBYFLOAT", "k", "f", "nan") == Err("ERR value is not a valid float")
    h("HSET", "k", "s", "x", "i", "inf")
    assert h("HINCRBYFLOAT", "k", "s", "1") == Err("ERR hash value is not a float")
    assert h("HINCRBYFLOAT", "k", "i", "1") == Err("ERR increment would produce NaN or Infinity")
    assert h("HINCRBYFLOAT", "nokey", "f", "inf") == Err("ERR value is NaN or Infinity")
    assert h("EXISTS", "nokey") == 0


def test_hincrbyfloat_keeps_a_field_ttl_and_publishes_it(h: Harness) -> None:
    h("HSET", "k", "f", "1")
    h("HPEXPIREAT", "k", NOW + 5000, "FIELDS", "1", "f")
    h.effects()
    assert h("HINCRBYFLOAT", "k", "f", "1.5") == b"2.5"
    assert h("HPEXPIRETIME", "k", "FIELDS", "1", "f") == [NOW + 5000]
    assert effects(h) == [
        [b"HSET", b"k", b"f", b"2.5"],
        [b"HPEXPIREAT", b"k", b"%d" % (NOW + 5000), b"FIELDS", b"1", b"f"],
    ]
    assert h("HINCRBY", "k", "f", "1") == Err("ERR hash value is not an integer")
    h("HSET", "k", "g", "1")
    h("HPEXPIREAT", "k", NOW + 6000, "FIELDS", "1", "g")
    assert h("HINCRBY", "k", "g", "1") == 2
    assert h("HPEXPIRETIME", "k", "FIELDS", "1", "g") == [NOW + 6000]


def test_encoding_thresholds_follow_live_config(h: Harness) -> None:
    """The thresholds are read on every write (CONFIG SET itself is exercised in the integration suite)."""
    h.config.hash_max_listpack_entries = 2
    h("HSET", "k", "a", "1", "b", "2")
    assert h("OBJECT", "ENCODING", "k") == b"listpack"
    h("HSET", "k", "c", "3")
    assert h("OBJECT", "ENCODING", "k") == b"hashtable"
    h.config.hash_max_listpack_value = 3
    h("HSET", "v", "a", "123")
    assert h("OBJECT", "ENCODING", "v") == b"listpack"
    h("HINCRBY", "v", "a", "1000")
    assert h("OBJECT", "ENCODING", "v") == b"hashtable"


def test_copy_and_rename_keep_contents(h: Harness) -> None:
    h("HSET", "k", "a", "1", "b", "2")
    assert h("COPY", "k", "c") == 1
    h("HSET", "c", "a", "changed")
    assert h("HGET", "k", "a") == b"1"
    assert h("RENAME", "c", "d") == b"OK"
    assert h("HGETALL", "d") == [b"a", b"changed", b"b", b"2"]
    assert isinstance(h.db.data[b"d"], Hash)


# -- HRANDFIELD ---------------------------------------------------------------------------


def test_hrandfield_cases(h: Harness) -> None:
    h("HSET", "k", "a", "1", "b", "2", "c", "3")
    assert h("HRANDFIELD", "k") in (b"a", b"b", b"c")
    assert h("HRANDFIELD", "k", "0") == []
    assert h("HRANDFIELD", "k", "3") == [b"a", b"b", b"c"]  # the whole hash, in stored order
    assert h("HRANDFIELD", "k", "10", "WITHVALUES") == [b"a", b"1", b"b", b"2", b"c", b"3"]
    two = h("HRANDFIELD", "k", "2")
    assert len(set(two)) == 2 and two == sorted(two)  # a listpack's sample keeps stored order
    many = h("HRANDFIELD", "k", "-20")
    assert len(many) == 20 and set(many) <= {b"a", b"b", b"c"}
    pairs = h("HRANDFIELD", "k", "-5", "WITHVALUES")
    assert all(dict(a=b"1", b=b"2", c=b"3")[f.decode()] == v for f, v in zip(pairs[0::2], pairs[1::2]))
    assert h("HRANDFIELD", "k", "1", "WITHVALUES", "x") == Err(SYNTAX)
    assert h("HRANDFIELD", "k", "1", "foo") == Err(SYNTAX)
    assert h("HRANDFIELD", "k", "-9223372036854775808") == Err(
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    )
    assert h("HRANDFIELD", "k", "4611686018427387904", "WITHVALUES") == Err("ERR value is out of range")
    assert h("HRANDFIELD", "k", "-4611686018427387904", "WITHVALUES") == Err("ERR value is out of range")
    assert h("HRANDFIELD", "k", "4611686018427387903", "WITHVALUES") == [b"a", b"1", b"b", b"2", b"c", b"3"]
    assert h("HRANDFIELD", "k", "-9223372036854775807") == Err("ERR value is out of range")  # Redis dies here
    assert h("HRANDFIELD", "nokey", "5") == []
    assert h("HRANDFIELD", "nokey") is None


def test_hrandfield_on_a_hashtable(h: Harness) -> None:
    h.config.hash_max_listpack_entries = 4
    fields = [b"f%d" % i for i in range(20)]
    h("HSET", "k", *[x for f in fields for x in (f, b"v" + f)])
    for count in (1, 5, 15, 19):
        got = h("HRANDFIELD", "k", count)
        assert len(got) == count and len(set(got)) == count and set(got) <= set(fields)
    got = h("HRANDFIELD", "k", "7", "WITHVALUES")
    assert all(v == b"v" + f for f, v in zip(got[0::2], got[1::2]))


# -- HSCAN --------------------------------------------------------------------------------


def test_hscan_listpack_returns_everything_at_once(h: Harness) -> None:
    h("HSET", "k", "a", "1", "b", "2", "ab", "3")
    assert h("HSCAN", "k", "0") == [b"0", [b"a", b"1", b"b", b"2", b"ab", b"3"]]
    assert h("HSCAN", "k", "77", "COUNT", "1") == [b"0", [b"a", b"1", b"b", b"2", b"ab", b"3"]]
    assert h("HSCAN", "k", "0", "MATCH", "a*") == [b"0", [b"a", b"1", b"ab", b"3"]]
    assert h("HSCAN", "k", "0", "NOVALUES") == [b"0", [b"a", b"b", b"ab"]]
    assert h("HSCAN", "nokey", "0", "garbage") == [b"0", []]
    assert h("HSCAN", "k", "0", "COUNT", "0") == Err(SYNTAX)
    assert h("HSCAN", "k", "0", "COUNT", "x") == Err(NOT_INT)
    assert h("HSCAN", "k", "0", "MATCH") == Err(SYNTAX)
    assert h("HSCAN", "k", "0", "TYPE", "hash") == Err(SYNTAX)
    assert h("HSCAN", "k", "18446744073709551616") == Err("ERR invalid cursor")


def test_hscan_hashtable_walks_with_cursors(h: Harness) -> None:
    h.config.hash_max_listpack_entries = 8
    fields = {b"f%d" % i: b"v%d" % i for i in range(100)}
    h("HSET", "k", *[x for kv in fields.items() for x in kv])
    seen: dict[bytes, bytes] = {}
    cursor = b"0"
    calls = 0
    while True:
        cursor, items = h("HSCAN", "k", cursor, "COUNT", "10")
        seen.update(zip(items[0::2], items[1::2]))
        calls += 1
        if cursor == b"0":
            break
    assert seen == fields
    assert calls > 5
    cursor, items = h("HSCAN", "k", "0", "MATCH", "f1*", "COUNT", "1000")
    assert cursor == b"0" and sorted(items[0::2]) == sorted(f for f in fields if f.startswith(b"f1"))


# -- field TTLs (Redis 7.4) ------------------------------------------------------------


def test_hexpire_reply_codes(h: Harness) -> None:
    h("HSET", "k", "a", "1", "b", "2", "c", "3")
    assert h("HEXPIRE", "k", "100", "FIELDS", "2", "a", "zz") == [1, -2]
    assert h("OBJECT", "ENCODING", "k") == b"listpackex"
    assert h("HEXPIRE", "k", "100", "NX", "FIELDS", "2", "a", "b") == [0, 1]
    assert h("HEXPIRE", "k", "50", "XX", "FIELDS", "2", "a", "c") == [1, 0]
    assert h("HEXPIRE", "k", "40", "GT", "FIELDS", "2", "a", "c") == [0, 0]
    assert h("HEXPIRE", "k", "60", "gt", "FIELDS", "1", "a") == [1]
    assert h("HEXPIRE", "k", "70", "LT", "FIELDS", "2", "a", "c") == [0, 1]  # no TTL counts as infinite
    assert h("HTTL", "k", "FIELDS", "4", "a", "b", "c", "zz") == [60, 100, 70, -2]
    assert h("HPTTL", "k", "FIELDS", "1", "a") == [60_000]
    assert h("HEXPIRETIME", "k", "FIELDS", "1", "a") == [NOW // 1000 + 60]
    assert h("HPEXPIRETIME", "k", "FIELDS", "1", "a") == [NOW + 60_000]
    assert h("HEXPIRE", "k", "0", "FIELDS", "1", "a") == [2]
    assert h("HEXISTS", "k", "a") == 0
    assert h("HEXPIRE", "nokey", "10", "FIELDS", "2", "a", "b") == [-2, -2]
    assert h("HTTL", "nokey", "FIELDS", "1", "a") == [-2]
    assert h("HPERSIST", "nokey", "FIELDS", "1", "a") == [-2]


def test_field_ttl_commands_on_a_plain_hash(h: Harness) -> None:
    h("HSET", "k", "a", "1")
    assert h("HTTL", "k", "FIELDS", "2", "a", "zz") == [-1, -2]
    assert h("HPERSIST", "k", "FIELDS", "2", "a", "zz") == [-1, -2]
    assert h("OBJECT", "ENCODING", "k") == b"listpack"
    assert effects(h) == [[b"HSET", b"k", b"a", b"1"]]


def test_hexpire_effects_are_absolute(h: Harness) -> None:
    h("HSET", "k", "a", "1", "b", "2", "c", "3")
    h.effects()
    assert h("HEXPIRE", "k", "10", "NX", "FIELDS", "3", "a", "zz", "b") == [1, -2, 1]
    assert h("HPEXPIRE", "k", "500", "FIELDS", "1", "c") == [1]
    assert h("HEXPIREAT", "k", NOW // 1000 + 20, "FIELDS", "1", "c") == [1]
    assert h("HEXPIRE", "k", "10", "NX", "FIELDS", "1", "a") == [0]
    assert h("HPEXPIREAT", "k", "1", "FIELDS", "2", "a", "b") == [2, 2]
    assert effects(h) == [
        [b"HPEXPIREAT", b"k", b"%d" % (NOW + 10_000), b"FIELDS", b"2", b"a", b"b"],
        [b"HPEXPIREAT", b"k", b"%d" % (NOW + 500), b"FIELDS", b"1", b"c"],
        [b"HPEXPIREAT", b"k", b"%d" % (NOW + 20_000), b"FIELDS", b"1", b"c"],
        [b"HDEL", b"k", b"a", b"b"],
    ]
    assert h("HPEXPIREAT", "k", NOW, "FIELDS", "1", "c") == [2]  # now is not in the future
    assert h("EXISTS", "k") == 0
    assert effects(h) == [[b"HDEL", b"k", b"c"]]


def test_hexpire_argument_errors(h: Harness) -> None:
    h("HSET", "k", "a", "1")
    max_ms = ((1 << 48) - 1) >> 2
    cases: list[tuple[tuple[Any, ...], str]] = [
        (("HEXPIRE", "k", "x", "FIELDS", "1", "a"), NOT_INT),
        (("HEXPIRE", "k", "-1", "FIELDS", "1", "a"), "ERR invalid expire time, must be >= 0"),
        (("HEXPIRE", "k", max_ms // 1000 + 1, "FIELDS", "1", "a"), "ERR invalid expire time in 'hexpire' command"),
        (("HPEXPIRE", "k", max_ms, "FIELDS", "1", "a"), "ERR invalid expire time in 'hpexpire' command"),
        (("HPEXPIREAT", "k", max_ms + 1, "FIELDS", "1", "a"), "ERR invalid expire time in 'hpexpireat' command"),
        (("HEXPIREAT", "k", max_ms // 1000 + 1, "FIELDS", "1", "a"), "ERR invalid expire time in 'hexpireat' command"),
        (
            ("HEXPIRE", "k", "10", "BAD", "FIELDS", "1", "a"),
            "ERR Mandatory argument FIELDS is missing or not at the right position",
        ),
        (
            ("HEXPIRE", "k", "10", "FIELD", "1", "a"),
            "ERR Mandatory argument FIELDS is missing or not at the right position",
        ),
        (("HEXPIRE", "k", "10", "FIELDS", "0", "a"), "ERR Parameter `numFields` should be greater than 0"),
        (("HEXPIRE", "k", "10", "FIELDS", "x", "a"), "ERR Parameter `numFields` should be greater than 0"),
        (
            ("HEXPIRE", "k", "10", "FIELDS", "2", "a"),
            "ERR The `numfields` parameter must match the number of arguments",
        ),
        (
            ("HEXPIRE", "k", "10", "NX", "FIELDS", "1"),
            "ERR The `numfields` parameter must match the number of arguments",
        ),
        (("HEXPIRE", "k", "10", "FIELDS", "1"), "ERR wrong number of arguments for 'hexpire' command"),
        (("HTTL", "k", "FIELDS", "0", "a"), "ERR Number of fields must be a positive integer"),
        (("HTTL", "k", "FIELDS", "x", "a"), "ERR Number of fields must be a positive integer"),
        (("HTTL", "k", "FIELD", "1", "a"), "ERR Mandatory argument FIELDS is missing or not at the right position"),
        (("HPTTL", "k", "FIELDS", "1", "a", "b"), "ERR The `numfields` parameter must match the number of arguments"),
        (("HPERSIST", "k", "FIELDS", "-1", "a"), "ERR Number of fields must be a positive integer"),
        (("HTTL", "k", "FIELDS", "1"), "ERR wrong number of arguments for 'httl' command"),
    ]
    for cmd, error in cases:
        assert h(*cmd) == Err(error), cmd
    assert h("HPEXPIREAT", "k", max_ms, "FIELDS", "1", "a") == [1]
    assert h("HPEXPIRETIME", "k", "FIELDS", "1", "a") == [max_ms]
    assert h("OBJECT", "ENCODING", "k") == b"listpackex"


def test_hpersist(h: Harness) -> None:
    h("HSET", "k", "a", "1", "b", "2", "c", "3")
    h("HEXPIRE", "k", "100", "FIELDS", "2", "a", "b")
    h.effects()
    assert h("HGETALL", "k") == [b"b", b"2", b"a", b"1", b"c", b"3"]  # same TTL: the later one first
    assert h("HPERSIST", "k", "FIELDS", "4", "a", "c", "zz", "a") == [1, -1, -2, -1]
    assert h("HTTL", "k", "FIELDS", "2", "a", "b") == [-1, 100]
    assert h("HGETALL", "k") == [b"b", b"2", b"c", b"3", b"a", b"1"]  # a persisted field moves to the end
    assert effects(h) == [[b"HPERSIST", b"k", b"FIELDS", b"1", b"a"]]


def test_hset_clears_a_field_ttl(h: Harness) -> None:
    h("HSET", "k", "a", "1", "b", "2")
    h("HEXPIRE", "k", "100", "FIELDS", "1", "a")
    h("HSET", "k", "a", "new")
    assert h("HTTL", "k", "FIELDS", "1", "a") == [-1]
    assert h("HGETALL", "k") == [b"b", b"2", b"a", b"new"]
    h("HEXPIRE", "k", "100", "FIELDS", "1", "b")
    assert h("HSETNX", "k", "b", "x") == 0
    assert h("HTTL", "k", "FIELDS", "1", "b") == [100]


def test_expired_fields_are_reclaimed_lazily_as_hdel(h: Harness) -> None:
    h("HSET", "k", "a", "1", "b", "2", "c", "3")
    h("HPEXPIRE", "k", "100", "FIELDS", "1", "a")
    h("HPEXPIRE", "k", "200", "FIELDS", "1", "b")
    h.effects()
    h.clock.advance(100)
    assert h("HGET", "k", "a") == b"1"  # expired only once its time is strictly past
    assert h("HPTTL", "k", "FIELDS", "1", "a") == [0]
    h.clock.advance(1)
    assert h("HLEN", "k") == 2
    assert effects(h) == [[b"HDEL", b"k", b"a"]]
    h.clock.advance(1000)
    for cmd in (("HGETALL", "k"), ("HKEYS", "k"), ("HRANDFIELD", "k", "10"), ("HSCAN", "k", "0")):
        got = h(*cmd)
        assert b"b" not in (got[1] if cmd[0] == "HSCAN" else got), cmd
    assert effects(h) == [[b"HDEL", b"k", b"b"]]
    h("HPEXPIRE", "k", "1", "FIELDS", "1", "c")
    h.clock.advance(2)
    assert h("HTTL", "k", "FIELDS", "1", "c") == [-2]
    assert h("EXISTS", "k") == 0
    assert effects(h)[-1] == [b"HDEL", b"k", b"c"]


def test_write_commands_see_expired_fields_as_missing(h: Harness) -> None:
    h("HSET", "k", "a", "5", "b", "1")
    h("HPEXPIRE", "k", "10", "FIELDS", "1", "a")
    h.clock.advance(11)
    assert h("HINCRBY", "k", "a", "1") == 1
    assert h("HSETNX", "k", "b", "x") == 0
    h("HPEXPIRE", "k", "10", "FIELDS", "2", "a", "b")
    h.clock.advance(11)
    assert h("HSETNX", "k", "a", "new") == 1
    assert h("HGETALL", "k") == [b"a", b"new"]


def test_active_expiry_reclaims_fields_nobody_reads(h: Harness) -> None:
    h("HSET", "k", "a", "1", "b", "2")
    h("HSET", "gone", "x", "1")
    h("HPEXPIRE", "k", "100", "FIELDS", "1", "a")
    h("HPEXPIRE", "gone", "50", "FIELDS", "1", "x")
    h.effects()
    db = h.db
    assert db.expire_fields_step(100) == 0
    h.clock.advance(101)
    assert db.expire_fields_step(100) == 2
    assert sorted(effects(h)) == [[b"HDEL", b"gone", b"x"], [b"HDEL", b"k", b"a"]]
    assert b"gone" not in db.data
    assert db.data[b"k"].fields() == [b"b"]
    assert db.field_expiry == {}
    assert db.expire_fields_step(100) == 0


def test_active_expiry_follows_rescheduled_and_deleted_hashes(h: Harness) -> None:
    h("HSET", "k", "a", "1", "b", "2")
    h("HPEXPIRE", "k", "100", "FIELDS", "1", "a")
    h("HPEXPIRE", "k", "300", "FIELDS", "1", "b")
    h("HPERSIST", "k", "FIELDS", "1", "a")
    h("HSET", "d", "x", "1")
    h("HPEXPIRE", "d", "100", "FIELDS", "1", "x")
    h("DEL", "d")
    h("SET", "d", "now a string")
    h.effects()
    h.clock.advance(150)
    assert h.db.expire_fields_step(100) == 0
    assert h("GET", "d") == b"now a string"
    h.clock.advance(200)
    assert h.db.expire_fields_step(100) == 1
    assert effects(h) == [[b"HDEL", b"k", b"b"]]
    assert h("HGETALL", "k") == [b"a", b"1"]


def test_field_expiry_breaks_a_watch(h: Harness) -> None:
    h("HSET", "k", "a", "1", "b", "2")
    h("HPEXPIRE", "k", "10", "FIELDS", "1", "a")
    other = h.client()
    h("WATCH", "k", ctx=other)
    h.clock.advance(11)
    h.db.expire_fields_step(10)
    h("MULTI", ctx=other)
    h("PING", ctx=other)
    assert h("EXEC", ctx=other) is None


def test_flush_and_swap_carry_field_schedules(h: Harness) -> None:
    h("HSET", "k", "a", "1")
    h("HPEXPIRE", "k", "10", "FIELDS", "1", "a")
    h("SWAPDB", "0", "1")
    assert h.keyspace.dbs[1].field_expiry
    h.clock.advance(11)
    assert h.keyspace.dbs[1].expire_fields_step(10) == 1
    h("HSET", "k", "a", "1")
    h("HPEXPIRE", "k", "10", "FIELDS", "1", "a")
    h("FLUSHALL")
    assert h.db.field_expiry == {}
