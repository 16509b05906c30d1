"""Key and database commands through the engine, without sockets.

A manual clock drives every TTL, so expiry is tested by advancing time.  The
published write effects are checked alongside the replies, because the AOF,
replication and WATCH all consume them.
"""

from typing import Any

import pytest
from engine_harness import NOW, Harness

from cacheflow.commands import TABLE
from cacheflow.commands.context import Context


@pytest.fixture
def h() -> Harness:
    return Harness()


@pytest.fixture
def c(h: Harness) -> Context:
    return h.client()


# -- DEL, UNLINK, EXISTS, TOUCH, TYPE ------------------------------------------------


@pytest.mark.parametrize("name", ["DEL", "UNLINK"])
def test_delete_counts_and_emits_only_the_keys_removed(h: Harness, c: Context, name: str) -> None:
    h.run(c, "SET", "a", "1")
    h.run(c, "SET", "b", "2")
    h.effects()
    assert h.run(c, name, "a", "missing", "a", "b") == 2
    assert h.effects() == [(0, [b"DEL", b"a", b"b"])]
    assert h.run(c, name, "a", "b") == 0
    assert h.effects() == []


def test_deleting_an_expired_key_counts_zero_and_reports_its_expiry(h: Harness, c: Context) -> None:
    h.run(c, "SET", "k", "v", "PX", "10")
    h.effects()
    h.clock.advance(10)
    assert h.run(c, "DEL", "k") == 0
    assert h.effects() == [(0, [b"DEL", b"k"])]  # the lazy expiry, not the command


def test_exists_and_touch_count_duplicates_and_read_statistics(h: Harness, c: Context) -> None:
    h.run(c, "SET", "a", "1")
    assert h.run(c, "EXISTS", "a", "a", "nope") == 2
    assert h.run(c, "TOUCH", "a", "nope", "a") == 2
    assert (h.keyspace.hits, h.keyspace.misses) == (4, 2)
    assert h.effects() == [(0, [b"SET", b"a", b"1"])]


def test_type(h: Harness, c: Context) -> None:
    h.run(c, "SET", "s", "x")
    assert h.raw(c, "TYPE", "s") == b"+string\r\n"
    assert h.raw(c, "TYPE", "nope") == b"+none\r\n"
    h.run(c, "SET", "t", "x", "PX", "5")
    h.clock.advance(5)
    assert h.run(c, "TYPE", "t") == b"none"


# -- KEYS, SCAN, RANDOMKEY, DBSIZE --------------------------------------------------


def test_keys_matches_glob_and_hides_expired_keys_without_deleting_them(h: Harness, c: Context) -> None:
    for key in ("hello", "hallo", "hxllo", "world"):
        h.run(c, "SET", key, "1")
    h.run(c, "SET", "hillo", "1", "PX", "1")
    h.clock.advance(1)
    assert sorted(h.run(c, "KEYS", "h?llo")) == [b"hallo", b"hello", b"hxllo"]
    assert sorted(h.run(c, "KEYS", "h[ae]llo")) == [b"hallo", b"hello"]
    assert sorted(h.run(c, "KEYS", "*")) == [b"hallo", b"hello", b"hxllo", b"world"]
    assert h.run(c, "DBSIZE") == 5  # not reclaimed yet, as in Redis


def scan_all(h: Harness, c: Context, *options: str) -> list[bytes]:
    found: list[bytes] = []
    cursor = b"0"
    while True:
        cursor, batch = h.run(c, "SCAN", cursor, *options)
        found += batch
        if cursor == b"0":
            return found


def test_scan_iterates_everything_with_options(h: Harness, c: Context) -> None:
    for i in range(55):
        h.run(c, "SET", f"user:{i}", "1")
        h.run(c, "SET", f"item:{i}", "1")
    assert sorted(scan_all(h, c)) == sorted([b"user:%d" % i for i in range(55)] + [b"item:%d" % i for i in range(55)])
    assert len(scan_all(h, c, "COUNT", "7", "MATCH", "user:*")) == 55
    assert len(scan_all(h, c, "TYPE", "STRING", "COUNT", "1000")) == 110
    assert scan_all(h, c, "TYPE", "list") == []
    assert scan_all(h, c, "MATCH", "nothing*", "MATCH", "user:1") == [b"user:1"]  # the last MATCH wins


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["abc"], "ERR invalid cursor"),
        ([" 0"], "ERR invalid cursor"),
        (["0 "], "ERR invalid cursor"),
        (["18446744073709551616"], "ERR invalid cursor"),
        (["abc", "COUNT", "0"], "ERR invalid cursor"),
        (["0", "COUNT", "0"], "ERR syntax error"),
        (["0", "COUNT", "-1"], "ERR syntax error"),
        (["0", "COUNT", "x"], "ERR value is not an integer or out of range"),
        (["0", "MATCH"], "ERR syntax error"),
        (["0", "FOO", "bar"], "ERR syntax error"),
        (["0", "COUNT", "1", "MATCH", "a", "COUNT", "0"], "ERR syntax error"),
    ],
)
def test_scan_errors(h: Harness, c: Context, args: list[str], error: str) -> None:
    assert h.run(c, "SCAN", *args) == error


@pytest.mark.parametrize("cursor", ["", "+0", "-0", "18446744073709551615", "-1"])
def test_scan_accepts_what_strtoul_accepts(h: Harness, c: Context, cursor: str) -> None:
    next_cursor, batch = h.run(c, "SCAN", cursor)
    assert next_cursor == b"0" and batch == []


def test_scan_reply_in_resp3(h: Harness) -> None:
    c3 = h.client(proto=3)
    h.run(c3, "SET", "a", "1")
    assert h.raw(c3, "SCAN", "0") == b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"


def test_randomkey(h: Harness, c: Context) -> None:
    assert h.raw(c, "RANDOMKEY") == b"$-1\r\n"
    assert h.raw(h.client(proto=3), "RANDOMKEY") == b"_\r\n"
    h.run(c, "SET", "a", "1")
    h.run(c, "SET", "b", "1", "PX", "1")
    h.clock.advance(1)
    assert {h.run(c, "RANDOMKEY") for _ in range(20)} == {b"a"}


# -- RENAME, RENAMENX, MOVE, COPY ---------------------------------------------------------


def test_rename_carries_the_ttl_and_replaces_the_target(h: Harness, c: Context) -> None:
    h.run(c, "SET", "src", "v", "PX", "5000")
    h.run(c, "SET", "dst", "old", "PX", "99999")
    h.effects()
    assert h.run(c, "RENAME", "src", "dst") == b"OK"
    assert h.effects() == [(0, [b"RENAME", b"src", b"dst"])]
    assert h.run(c, "GET", "dst") == b"v"
    assert h.run(c, "PTTL", "dst") == 5000
    assert h.run(c, "EXISTS", "src") == 0
    h.run(c, "SET", "plain", "p")
    h.run(c, "RENAME", "plain", "dst")
    assert h.run(c, "PTTL", "dst") == -1


def test_rename_errors_and_self_rename(h: Harness, c: Context) -> None:
    assert h.run(c, "RENAME", "nope", "x") == "ERR no such key"
    assert h.run(c, "RENAME", "nope", "nope") == "ERR no such key"
    assert h.run(c, "RENAMENX", "nope", "x") == "ERR no such key"
    h.run(c, "SET", "a", "1")
    h.effects()
    assert h.run(c, "RENAME", "a", "a") == b"OK"
    assert h.run(c, "RENAMENX", "a", "a") == 0
    assert h.effects() == []


def test_renamenx(h: Harness, c: Context) -> None:
    h.run(c, "SET", "a", "1")
    h.run(c, "SET", "b", "2")
    h.effects()
    assert h.run(c, "RENAMENX", "a", "b") == 0
    assert h.effects() == []
    assert h.run(c, "RENAMENX", "a", "c") == 1
    assert h.effects() == [(0, [b"RENAME", b"a", b"c"])]


def test_rename_of_an_expired_source_is_no_such_key(h: Harness, c: Context) -> None:
    h.run(c, "SET", "a", "1", "PX", "1")
    h.clock.advance(1)
    assert h.run(c, "RENAME", "a", "b") == "ERR no such key"


def test_move_between_databases(h: Harness, c: Context) -> None:
    h.run(c, "SET", "k", "v", "PX", "700")
    h.effects()
    assert h.run(c, "MOVE", "k", "3") == 1
    assert h.effects() == [(0, [b"MOVE", b"k", b"3"])]
    assert h.run(c, "EXISTS", "k") == 0
    other = h.client()
    h.run(other, "SELECT", "3")
    assert h.run(other, "GET", "k") == b"v"
    assert h.run(other, "PTTL", "k") == 700
    h.run(c, "SET", "k", "mine")
    assert h.run(c, "MOVE", "k", "3") == 0  # already there
    assert h.run(c, "MOVE", "missing", "3") == 0
    assert h.run(c, "GET", "k") == b"mine"


@pytest.mark.parametrize(
    ("db", "error"),
    [
        ("0", "ERR source and destination objects are the same"),
        ("16", "ERR DB index is out of range"),
        ("-1", "ERR DB index is out of range"),
        ("abc", "ERR value is not an integer or out of range"),
        ("4294967296", "ERR value is out of range, value must between -2147483648 and 2147483647"),
    ],
)
def test_move_errors(h: Harness, c: Context, db: str, error: str) -> None:
    h.run(c, "SET", "k", "v")
    assert h.run(c, "MOVE", "k", db) == error
    assert h.run(c, "MOVE", "missing", db) == error


def test_copy_within_and_across_databases(h: Harness, c: Context) -> None:
    h.run(c, "SET", "src", "v", "PX", "900")
    h.effects()
    assert h.run(c, "COPY", "src", "dst") == 1
    assert h.effects() == [(0, [b"COPY", b"src", b"dst"])]
    assert h.run(c, "PTTL", "dst") == 900
    assert h.run(c, "COPY", "src", "dst") == 0
    assert h.run(c, "COPY", "src", "src", "DB", "2") == 1
    assert h.effects() == [(0, [b"COPY", b"src", b"src", b"DB", b"2"])]
    h.run(c, "SET", "src", "new")
    h.effects()
    assert h.run(c, "COPY", "src", "dst", "replace") == 1
    assert h.effects() == [(0, [b"COPY", b"src", b"dst", b"REPLACE"])]
    assert h.run(c, "GET", "dst") == b"new"
    assert h.run(c, "PTTL", "dst") == -1
    assert h.run(c, "COPY", "missing", "x") == 0


def test_copy_of_an_edited_string_is_independent(h: Harness, c: Context) -> None:
    h.keyspace.dbs[0].set(b"a", bytearray(b"abc"))
    assert h.run(c, "COPY", "a", "b") == 1
    value = h.keyspace.dbs[0].data[b"a"]
    assert isinstance(value, bytearray)
    value[0:1] = b"X"
    assert h.keyspace.dbs[0].data[b"b"] == bytearray(b"abc")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["b", "b"], "ERR source and destination objects are the same"),
        (["b", "b", "DB", "0"], "ERR source and destination objects are the same"),
        (["nope", "nope"], "ERR source and destination objects are the same"),
        (["b", "c", "DB", "16"], "ERR DB index is out of range"),
        (["b", "c", "DB", "abc"], "ERR value is not an integer or out of range"),
        (["b", "c", "DB"], "ERR syntax error"),
        (["b", "c", "foo"], "ERR syntax error"),
        (["nope", "x", "foo"], "ERR syntax error"),
        (["b", "b", "DB", "16", "foo"], "ERR DB index is out of range"),
    ],
)
def test_copy_errors(h: Harness, c: Context, args: list[str], error: str) -> None:
    h.run(c, "SET", "b", "1")
    h.effects()
    assert h.run(c, "COPY", *args) == error
    assert h.effects() == []


def test_copy_counts_a_read_lookup_on_the_source(h: Harness, c: Context) -> None:
    h.run(c, "SET", "a", "1")
    h.run(c, "COPY", "a", "b")
    h.run(c, "COPY", "zz", "y")
    assert (h.keyspace.hits, h.keyspace.misses) == (1, 1)


# -- EXPIRE family, TTL family, PERSIST ----------------------------------------------------


def test_expire_is_normalized_to_an_absolute_pexpireat(h: Harness, c: Context) -> None:
    h.run(c, "SET", "k", "v")
    h.effects()
    assert h.run(c, "EXPIRE", "k", "10") == 1
    assert h.run(c, "PEXPIRE", "k", "1500") == 1
    assert h.run(c, "EXPIREAT", "k", str(NOW // 1000 + 20)) == 1
    assert h.run(c, "PEXPIREAT", "k", str(NOW + 30_000), "GT") == 1
    assert h.effects() == [
        (0, [b"PEXPIREAT", b"k", b"%d" % (NOW + 10_000)]),
        (0, [b"PEXPIREAT", b"k", b"%d" % (NOW + 1500)]),
        (0, [b"PEXPIREAT", b"k", b"%d" % (NOW + 20_000)]),
        (0, [b"PEXPIREAT", b"k", b"%d" % (NOW + 30_000)]),
    ]


def test_ttl_counts_down_with_the_clock_and_the_key_goes(h: Harness, c: Context) -> None:
    h.run(c, "SET", "k", "v")
    h.run(c, "PEXPIRE", "k", "2600")
    assert h.run(c, "TTL", "k") == 3  # rounded to the nearest second, as Redis does
    assert h.run(c, "PTTL", "k") == 2600
    assert h.run(c, "PEXPIRETIME", "k") == NOW + 2600
    assert h.run(c, "EXPIRETIME", "k") == (NOW + 2600 + 500) // 1000
    h.clock.advance(1100)
    assert h.run(c, "TTL", "k") == 2
    assert h.run(c, "PTTL", "k") == 1500
    h.clock.advance(1499)
    assert h.run(c, "PTTL", "k") == 1
    assert h.run(c, "TTL", "k") == 0
    h.effects()
    h.clock.advance(1)
    assert h.run(c, "TTL", "k") == -2
    assert h.effects() == [(0, [b"DEL", b"k"])]
    for name in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"):
        assert h.run(c, name, "k") == -2
    h.run(c, "SET", "p", "v")
    for name in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"):
        assert h.run(c, name, "p") == -1


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["EXPIRE", "k", "-1"], "expire"),
        (["EXPIRE", "k", "0"], "expire"),
        (["PEXPIRE", "k", "-9223372036854775808"], "pexpire"),
        (["EXPIREAT", "k", "1"], "expireat"),
        (["PEXPIREAT", "k", str(NOW)], "pexpireat"),
        (["EXPIREAT", "k", "-9223372036854775"], "expireat"),
    ],
)
def test_an_expiry_in_the_past_deletes_the_key_and_emits_del(
    h: Harness, c: Context, args: list[str], name: str
) -> None:
    h.run(c, "SET", "k", "v")
    h.effects()
    assert h.run(c, *args) == 1
    assert h.effects() == [(0, [b"DEL", b"k"])]
    assert h.run(c, "EXISTS", "k") == 0
    assert h.keyspace.stats.expired_keys == 0  # a delete, not an expiry


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["EXPIRE", "k", "10", "NX", "XX"], "ERR NX and XX, GT or LT options at the same time are not compatible"),
        (["EXPIRE", "k", "10", "NX", "GT"], "ERR NX and XX, GT or LT options at the same time are not compatible"),
        (["EXPIRE", "k", "10", "lt", "nx"], "ERR NX and XX, GT or LT options at the same time are not compatible"),
        (["EXPIRE", "k", "10", "GT", "LT"], "ERR GT and LT options at the same time are not compatible"),
        (["EXPIRE", "k", "10", "XX", "GT", "LT"], "ERR GT and LT options at the same time are not compatible"),
        (["EXPIRE", "k", "10", "foo"], "ERR Unsupported option foo"),
        (["EXPIRE", "k", "abc", "NX", "foo"], "ERR Unsupported option foo"),
        (["EXPIRE", "k", "10", "NX", "NX", "bar"], "ERR Unsupported option bar"),
        (["EXPIRE", "k", "abc"], "ERR value is not an integer or out of range"),
        (["EXPIRE", "nokey", "abc"], "ERR value is not an integer or out of range"),
        (["EXPIRE", "k", "9223372036854775807"], "ERR invalid expire time in 'expire' command"),
        (["EXPIRE", "k", "9223372036854775"], "ERR invalid expire time in 'expire' command"),
        (["EXPIRE", "k", "-9223372036854775808"], "ERR invalid expire time in 'expire' command"),
        (["PEXPIRE", "k", "9223372036854775807"], "ERR invalid expire time in 'pexpire' command"),
        (["expireat", "k", "9223372036854775807"], "ERR invalid expire time in 'expireat' command"),
        (["EXPIREAT", "k", "-9223372036854776"], "ERR invalid expire time in 'expireat' command"),
        (["EXPIRE", "k"], "ERR wrong number of arguments for 'expire' command"),
    ],
)
def test_expire_errors_change_nothing(h: Harness, c: Context, args: list[str], error: str) -> None:
    h.run(c, "SET", "k", "v")
    h.effects()
    assert h.run(c, *args) == error
    assert h.effects() == []
    assert h.run(c, "TTL", "k") == -1


def test_expire_extremes_that_redis_accepts(h: Harness, c: Context) -> None:
    h.run(c, "SET", "k", "v")
    assert h.run(c, "PEXPIREAT", "k", "9223372036854775807") == 1
    assert h.run(c, "PEXPIRETIME", "k") == 9223372036854775807
    assert h.run(c, "EXPIRETIME", "k") == 9223372036854776
    assert h.run(c, "EXPIRE", "k", "9223372036854") == 1


def test_expire_conditions(h: Harness, c: Context) -> None:
    h.run(c, "SET", "k", "v")
    assert h.run(c, "EXPIRE", "k", "100", "XX") == 0  # no TTL yet
    assert h.run(c, "EXPIRE", "k", "100", "GT") == 0  # no TTL is infinite
    assert h.run(c, "EXPIRE", "k", "100", "NX") == 1
    assert h.run(c, "EXPIRE", "k", "200", "NX") == 0
    assert h.run(c, "EXPIRE", "k", "50", "GT") == 0
    assert h.run(c, "EXPIRE", "k", "100", "GT") == 0  # equal is not greater
    assert h.run(c, "EXPIRE", "k", "200", "xx", "gt") == 1
    assert h.run(c, "EXPIRE", "k", "300", "LT") == 0
    assert h.run(c, "EXPIRE", "k", "150", "LT") == 1
    assert h.run(c, "TTL", "k") == 150
    assert h.run(c, "EXPIRE", "k", "-5", "GT") == 0
    assert h.run(c, "PERSIST", "k") == 1
    assert h.run(c, "EXPIRE", "k", "10", "LT") == 1  # any TTL is less than none
    h.effects()
    assert h.run(c, "EXPIRE", "k", "-5", "LT") == 1
    assert h.effects() == [(0, [b"DEL", b"k"])]
    assert h.run(c, "EXPIRE", "k", "10") == 0  # gone


def test_persist(h: Harness, c: Context) -> None:
    h.run(c, "SET", "k", "v", "EX", "10")
    h.run(c, "SET", "p", "v")
    h.effects()
    assert h.run(c, "PERSIST", "p") == 0
    assert h.run(c, "PERSIST", "nope") == 0
    assert h.effects() == []
    assert h.run(c, "PERSIST", "k") == 1
    assert h.effects() == [(0, [b"PERSIST", b"k"])]
    h.clock.advance(20_000)
    assert h.run(c, "GET", "k") == b"v"


# -- OBJECT ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "encoding", "refcount"),
    [
        (b"5", b"int", 2147483647),
        (b"0", b"int", 2147483647),
        (b"9999", b"int", 2147483647),
        (b"10000", b"int", 1),
        (b"-1", b"int", 1),
        (b"9223372036854775807", b"int", 1),
        (b"-9223372036854775808", b"int", 1),
        (b"9223372036854775808", b"embstr", 1),
        (b"12345678901234567890", b"embstr", 1),
        (b"01", b"embstr", 1),
        (b"+1", b"embstr", 1),
        (b"-0", b"embstr", 1),
        (b" 1", b"embstr", 1),
        (b"", b"embstr", 1),
        (b"x" * 44, b"embstr", 1),
        (b"x" * 45, b"raw", 1),
    ],
)
def test_object_encoding_and_refcount_of_strings(
    h: Harness, c: Context, value: bytes, encoding: bytes, refcount: int
) -> None:
    h.run(c, "SET", "k", value)
    assert h.run(c, "OBJECT", "ENCODING", "k") == encoding
    assert h.run(c, "OBJECT", "REFCOUNT", "k") == refcount


def test_object_encoding_of_an_edited_string_is_raw(h: Harness, c: Context) -> None:
    h.keyspace.dbs[0].set(b"k", bytearray(b"12"))
    assert h.run(c, "OBJECT", "ENCODING", "k") == b"raw"
    assert h.run(c, "OBJECT", "REFCOUNT", "k") == 1


def test_shared_integers_are_off_under_an_lru_policy_with_maxmemory(h: Harness, c: Context) -> None:
    h.run(c, "SET", "k", "7")
    h.config.maxmemory = 1 << 30
    h.config.maxmemory_policy = "allkeys-lru"
    assert h.run(c, "OBJECT", "REFCOUNT", "k") == 1
    h.config.maxmemory_policy = "allkeys-random"
    assert h.run(c, "OBJECT", "REFCOUNT", "k") == 2147483647


def test_object_on_missing_keys_is_nil(h: Harness) -> None:
    for proto, nil in ((2, b"$-1\r\n"), (3, b"_\r\n")):
        ctx = h.client(proto)
        for sub in ("ENCODING", "REFCOUNT", "FREQ", "IDLETIME"):
            assert h.raw(ctx, "OBJECT", sub, "missing") == nil


def test_object_freq_is_an_error_without_an_lfu_policy(h: Harness, c: Context) -> None:
    h.run(c, "SET", "k", "v")
    assert h.run(c, "OBJECT", "FREQ", "k") == (
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when "
        "switching between policies at runtime LRU and LFU data will take some time to adjust."
    )


def _pass_seconds(h: Harness, seconds: int) -> None:
    h.clock.advance(seconds * 1000)
    h.keyspace.refresh_lru_clock()


@pytest.mark.parametrize("policy", ["noeviction", "allkeys-lru", "volatile-random", "allkeys-tinylfu"])
def test_object_idletime_counts_from_the_last_access_under_every_non_lfu_policy(
    h: Harness, c: Context, policy: str
) -> None:
    h.keyspace.evictor.configure(policy, 5, 10, 1, 10)
    h.run(c, "SET", "k", "v")
    h.run(c, "RPUSH", "l", "a")
    assert h.run(c, "OBJECT", "IDLETIME", "k") == 0
    _pass_seconds(h, 100)
    for command in (["TTL", "k"], ["TYPE", "k"], ["EXISTS", "k"], ["OBJECT", "ENCODING", "k"], ["GET", "l"]):
        h.run(c, *command)  # none of these counts as an access to k (the WRONGTYPE GET reads l)
    assert h.run(c, "OBJECT", "IDLETIME", "k") == 100
    assert h.run(c, "OBJECT", "IDLETIME", "l") == 0
    assert h.run(c, "GET", "k") == b"v"
    assert h.run(c, "OBJECT", "IDLETIME", "k") == 0
    _pass_seconds(h, 30)
    h.run(c, "RPUSH", "l", "b")  # a write in place counts too
    assert (h.run(c, "OBJECT", "IDLETIME", "l"), h.run(c, "OBJECT", "IDLETIME", "k")) == (0, 30)
    h.run(c, "SET", "k", "w")
    assert h.run(c, "OBJECT", "IDLETIME", "k") == 0
    dumped = h.run(c, "DUMP", "k")
    assert h.run(c, "RESTORE", "k", "0", dumped, "REPLACE", "IDLETIME", "1000") == b"OK"
    assert h.run(c, "OBJECT", "IDLETIME", "k") == 1000
    h.config.enable_debug_command = "yes"
    assert "lru_seconds_idle:1000" in h.run(c, "DEBUG", "OBJECT", "k").decode()


def test_object_idletime_carries_over_between_lru_stamps_and_the_idle_clock(h: Harness, c: Context) -> None:
    h.run(c, "SET", "k", "v")
    _pass_seconds(h, 40)
    h.keyspace.evictor.configure("allkeys-lru", 5, 10, 1, 10)
    assert h.run(c, "OBJECT", "IDLETIME", "k") == 40
    _pass_seconds(h, 20)
    h.keyspace.evictor.configure("noeviction", 5, 10, 1, 10)
    assert h.run(c, "OBJECT", "IDLETIME", "k") == 60
    h.keyspace.evictor.configure("allkeys-lfu", 5, 10, 1, 10)
    assert h.run(c, "OBJECT", "IDLETIME", "k").startswith("ERR An LFU maxmemory policy is selected")


def test_object_help_and_dispatch_errors(h: Harness, c: Context) -> None:
    lines = h.run(c, "OBJECT", "HELP")
    assert lines[0] == b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert lines[-2:] == [b"HELP", b"    Prints this help."]
    assert h.raw(c, "OBJECT", "HELP").startswith(b"*15\r\n+OBJECT")
    assert h.run(c, "OBJECT", "foo") == "ERR unknown subcommand 'foo'. Try OBJECT HELP."
    assert h.run(c, "OBJECT") == "ERR wrong number of arguments for 'object' command"
    assert h.run(c, "OBJECT", "ENCODING") == "ERR wrong number of arguments for 'object|encoding' command"
    assert h.run(c, "OBJECT", "HELP", "x") == "ERR wrong number of arguments for 'object|help' command"


def test_object_reads_count_as_keyspace_hits(h: Harness, c: Context) -> None:
    h.run(c, "SET", "k", "v")
    h.run(c, "OBJECT", "ENCODING", "k")
    h.run(c, "OBJECT", "ENCODING", "nope")
    assert (h.keyspace.hits, h.keyspace.misses) == (1, 1)


# -- DBSIZE, FLUSHDB, FLUSHALL, SWAPDB -----------------------------------------------------------


def test_flushdb_and_flushall(h: Harness, c: Context) -> None:
    other = h.client()
    h.run(other, "SELECT", "5")
    h.run(c, "SET", "a", "1")
    h.run(other, "SET", "b", "1")
    h.effects()
    assert h.run(c, "FLUSHDB", "ASYNC") == b"OK"
    assert h.run(c, "DBSIZE") == 0
    assert h.run(other, "DBSIZE") == 1
    assert h.effects() == [(0, [b"FLUSHDB"])]
    # Nothing to remove, and still a write effect: redis-server 7.0 writes FLUSHDB and
    # FLUSHALL to its AOF (and to replicas) even on an empty database.
    assert h.run(c, "FLUSHDB", "sync") == b"OK"
    assert h.effects() == [(0, [b"FLUSHDB"])]
    assert h.run(c, "FLUSHALL") == b"OK"
    assert h.run(other, "DBSIZE") == 0
    assert h.effects() == [(0, [b"FLUSHALL"])]
    assert h.run(c, "FLUSHALL", "SYNC") == b"OK"
    assert h.effects() == [(0, [b"FLUSHALL"])]


@pytest.mark.parametrize("name", ["FLUSHDB", "FLUSHALL"])
def test_flush_syntax_errors(h: Harness, c: Context, name: str) -> None:
    h.run(c, "SET", "a", "1")
    assert h.run(c, name, "foo") == "ERR syntax error"
    assert h.run(c, name, "ASYNC", "SYNC") == "ERR syntax error"
    assert h.run(c, "DBSIZE") == 1


def test_swapdb_swaps_contents_under_connected_clients(h: Harness, c: Context) -> None:
    other = h.client()
    h.run(other, "SELECT", "1")
    h.run(c, "SET", "zero", "0", "PX", "100")
    h.run(other, "SET", "one", "1")
    h.effects()
    assert h.run(c, "SWAPDB", "0", "1") == b"OK"
    assert h.effects() == [(0, [b"SWAPDB", b"0", b"1"])]
    assert h.run(c, "GET", "one") == b"1"
    assert h.run(other, "GET", "zero") == b"0"
    assert h.run(other, "PTTL", "zero") == 100
    assert h.run(c, "SWAPDB", "1", "1") == b"OK"
    assert h.effects() == []


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["0", "16"], "ERR DB index is out of range"),
        (["-1", "0"], "ERR DB index is out of range"),
        (["a", "0"], "ERR invalid first DB index"),
        (["0", "a"], "ERR invalid second DB index"),
        (["a", "b"], "ERR invalid first DB index"),
        (["4294967296", "1"], "ERR invalid first DB index"),
        (["1", "4294967296"], "ERR invalid second DB index"),
    ],
)
def test_swapdb_errors(h: Harness, c: Context, args: list[str], error: str) -> None:
    assert h.run(c, "SWAPDB", *args) == error


# -- WATCH across databases ------------------------------------------------------------------------


def exec_after(h: Harness, watcher: Context, key: str, *write: str, writer_db: int = 0, watch_db: int = 0) -> Any:
    """Watch ``key`` in ``watch_db``, let another client run ``write`` in ``writer_db``, then EXEC."""
    writer = h.client()
    h.run(writer, "SELECT", writer_db)
    h.run(watcher, "SELECT", watch_db)
    assert h.run(watcher, "WATCH", key) == b"OK"
    h.run(writer, *write)
    h.run(watcher, "MULTI")
    h.run(watcher, "PING")
    return h.run(watcher, "EXEC")


@pytest.mark.parametrize("databases", [16, 3])
def test_flushall_breaks_watches_on_existing_keys_only(databases: int) -> None:
    h = Harness(databases)
    watcher = h.client()
    h.keyspace.dbs[2].set(b"k", b"v")
    assert exec_after(h, watcher, "k", "FLUSHALL", watch_db=2) is None
    assert exec_after(h, h.client(), "k", "FLUSHALL", watch_db=2) == [b"PONG"]


def test_flushdb_breaks_watches_in_that_database_only(h: Harness) -> None:
    h.keyspace.dbs[0].set(b"k", b"v")
    h.keyspace.dbs[1].set(b"k", b"v")
    assert exec_after(h, h.client(), "k", "FLUSHDB", writer_db=1, watch_db=0) == [b"PONG"]
    assert exec_after(h, h.client(), "k", "FLUSHDB", writer_db=0, watch_db=0) is None


def test_swapdb_breaks_watches_when_the_key_exists_on_either_side(h: Harness) -> None:
    h.keyspace.dbs[1].set(b"k", b"v")
    assert exec_after(h, h.client(), "k", "SWAPDB", "0", "1", watch_db=0) is None
    assert exec_after(h, h.client(), "k", "SWAPDB", "2", "3", watch_db=0) == [b"PONG"]
    assert exec_after(h, h.client(), "nokey", "SWAPDB", "0", "1", watch_db=0) == [b"PONG"]


def test_move_and_copy_break_watches_in_the_target_database(h: Harness) -> None:
    h.keyspace.dbs[0].set(b"k", b"v")
    assert exec_after(h, h.client(), "k", "MOVE", "k", "4", watch_db=4) is None
    assert exec_after(h, h.client(), "k", "MOVE", "k", "0", writer_db=4, watch_db=4) is None
    assert exec_after(h, h.client(), "dst", "COPY", "k", "dst", "DB", "6", watch_db=6) is None
    assert exec_after(h, h.client(), "k", "COPY", "k", "other", watch_db=0) == [b"PONG"]


def test_expire_and_rename_break_watches(h: Harness) -> None:
    h.keyspace.dbs[0].set(b"k", b"v")
    assert exec_after(h, h.client(), "k", "EXPIRE", "k", "100") is None
    assert exec_after(h, h.client(), "k", "PERSIST", "k") is None
    assert exec_after(h, h.client(), "n", "RENAME", "k", "n") is None


# -- the declarations match Redis's ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "arity", "flags", "keys"),
    [
        ("del", -2, {"write"}, (1, -1, 1)),
        ("unlink", -2, {"write", "fast"}, (1, -1, 1)),
        ("exists", -2, {"readonly", "fast"}, (1, -1, 1)),
        ("type", 2, {"readonly", "fast"}, (1, 1, 1)),
        ("keys", 2, {"readonly"}, (0, 0, 0)),
        ("scan", -2, {"readonly"}, (0, 0, 0)),
        ("randomkey", 1, {"readonly"}, (0, 0, 0)),
        ("rename", 3, {"write"}, (1, 2, 1)),
        ("renamenx", 3, {"write", "fast"}, (1, 2, 1)),
        ("copy", -3, {"write", "denyoom"}, (1, 2, 1)),
        ("move", 3, {"write", "fast"}, (1, 1, 1)),
        ("expire", -3, {"write", "fast"}, (1, 1, 1)),
        ("pexpireat", -3, {"write", "fast"}, (1, 1, 1)),
        ("ttl", 2, {"readonly", "fast"}, (1, 1, 1)),
        ("pexpiretime", 2, {"readonly", "fast"}, (1, 1, 1)),
        ("persist", 2, {"write", "fast"}, (1, 1, 1)),
        ("touch", -2, {"readonly", "fast"}, (1, -1, 1)),
        ("object", -2, set(), (0, 0, 0)),
        ("object|encoding", 3, {"readonly"}, (2, 2, 1)),
        ("object|help", 2, {"loading", "stale"}, (0, 0, 0)),
        ("dbsize", 1, {"readonly", "fast"}, (0, 0, 0)),
        ("flushdb", -1, {"write"}, (0, 0, 0)),
        ("flushall", -1, {"write"}, (0, 0, 0)),
        ("swapdb", 3, {"write", "fast"}, (0, 0, 0)),
    ],
)
def test_declarations(name: str, arity: int, flags: set[str], keys: tuple[int, int, int]) -> None:
    from cacheflow.commands.table import FLAG_NAMES

    parent, _, sub = name.partition("|")
    cmd = TABLE.get(parent)
    assert cmd is not None
    if sub:
        cmd = cmd.subcommands[sub]
    assert cmd.arity == arity
    assert {n.decode() for f, n in FLAG_NAMES if cmd.flags & f} == flags
    assert (cmd.first_key, cmd.last_key, cmd.step) == keys
    assert "keyspace" in cmd.acl_categories() or name == "object"


@pytest.mark.parametrize("policy", ["allkeys-lru", "noeviction"])
def test_client_no_touch_reads_leave_lru_and_lfu_data_alone_but_touch_still_touches(
    h: Harness, c: Context, policy: str
) -> None:
    h.keyspace.evictor.configure(policy, 5, 10, 1, 10)
    h.run(c, "SET", "k", "v")
    h.clock.advance(100_000)
    h.keyspace.refresh_lru_clock()
    quiet = h.client()
    assert h.run(quiet, "CLIENT", "NO-TOUCH", "ON") == b"OK"
    assert h.run(quiet, "GET", "k") == b"v"
    assert h.run(quiet, "APPEND", "k", "w") == 2
    assert h.run(c, "OBJECT", "IDLETIME", "k") == 100  # neither the read nor the write counted
    for command in (["MULTI"], ["GET", "k"], ["EXEC"]):
        h.run(quiet, *command)
    assert h.run(c, "OBJECT", "IDLETIME", "k") == 100
    assert h.run(quiet, "TOUCH", "k") == 1  # TOUCH is the exception
    assert h.run(c, "OBJECT", "IDLETIME", "k") == 0
    h.clock.advance(50_000)
    h.keyspace.refresh_lru_clock()
    for command in (["MULTI"], ["GET", "k"], ["TOUCH", "k"], ["EXEC"]):
        h.run(quiet, *command)
    assert h.run(c, "OBJECT", "IDLETIME", "k") == 0  # TOUCH inside EXEC too
    assert h.run(quiet, "CLIENT", "NO-TOUCH", "OFF") == b"OK"
    h.clock.advance(50_000)
    h.keyspace.refresh_lru_clock()
    h.run(quiet, "GET", "k")
    assert h.run(c, "OBJECT", "IDLETIME", "k") == 0
    h.keyspace.evictor.configure("allkeys-lfu", 5, 10, 1, 10)
    h.run(quiet, "CLIENT", "NO-TOUCH", "ON")
    before = h.run(c, "OBJECT", "FREQ", "k")
    for _ in range(200):
        h.run(quiet, "GET", "k")
    assert h.run(c, "OBJECT", "FREQ", "k") == before
