"""Generic key commands over every value type, differentially against redis-server.

TYPE, OBJECT, SCAN's TYPE filter, COPY, RENAME, MOVE, DEBUG OBJECT, DEBUG
DIGEST-VALUE and MEMORY USAGE must treat strings, lists, sets, sorted sets
and hashes (in each of their encodings) as Redis 7.0.15 does.  Contents are
compared through DEBUG DIGEST-VALUE, Redis's own order-independent digest, so
values whose iteration order is an accident of a hash table still compare
exactly.  SCAN is compared by the sorted keys a whole iteration returns.
MEMORY USAGE is CacheFlow's estimate of its own footprint, so only the reply
type and the errors are compared.  DEBUG OBJECT is compared without the
address and LRU clock (serializedlength included, LZF compression and all).
"""

import re
import time

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test
from pair import Pair, open_pair
from servers import ServerProcess, wait_until
from wire import Arg

# A value of 70 distinct bytes: past the listpack value limit, and nothing LZF could compress.
LONG = bytes(range(40, 110))

# key -> (commands creating it, TYPE, OBJECT ENCODING)
VALUES: dict[str, tuple[list[tuple[Arg, ...]], bytes, bytes]] = {
    "str_int": ([("SET", "str_int", "12")], b"string", b"int"),
    "str_emb": ([("SET", "str_emb", "hello")], b"string", b"embstr"),
    "str_raw": ([("SET", "str_raw", "ab"), ("APPEND", "str_raw", "cd")], b"string", b"raw"),
    "list": ([("RPUSH", "list", "a", "b", "1", "-2", "300", LONG)], b"list", b"quicklist"),
    "set_int": ([("SADD", "set_int", "1", "2", "-70000", "5")], b"set", b"intset"),
    "set_ht": ([("SADD", "set_ht", "a", "12", "bb", LONG)], b"set", b"hashtable"),
    "zset_lp": ([("ZADD", "zset_lp", "1", "a", "2.5", "b", "-3", "c", "1e20", "d")], b"zset", b"listpack"),
    "zset_sl": ([("ZADD", "zset_sl", "1", "a", "2.5", "bb", "3", LONG)], b"zset", b"skiplist"),
    "hash_lp": ([("HSET", "hash_lp", "f", "v", "n", "123456", "neg", "-5")], b"hash", b"listpack"),
    "hash_ht": ([("HSET", "hash_ht", "f", "v", "n", "1", "long", LONG)], b"hash", b"hashtable"),
}
KINDS = [b"string", b"list", b"set", b"zset", b"hash"]


def populate(pair: Pair) -> None:
    for commands, _, _ in VALUES.values():
        for command in commands:
            pair.same(*command)


def masked(line: bytes) -> bytes:
    line = re.sub(rb"Value at:\S+ ", b"", line)
    return re.sub(rb" lru:\d+ lru_seconds_idle:\d+", b"", line)


def same_debug_object(pair: Pair, key: Arg) -> None:
    mine, real = pair.both("DEBUG", "OBJECT", key)
    assert masked(mine) == masked(real), (key, mine, real)


def whole_scan(pair: Pair, *options: Arg) -> tuple[list[bytes], list[bytes]]:
    out = []
    for conn in (pair.ours, pair.theirs):
        cursor = b"0"
        seen: set[bytes] = set()
        for _ in range(10_000):
            raw = conn.call("SCAN", cursor, *options)
            if raw.startswith(b"-"):
                out.append([raw])
                break
            cursor, keys = parse_scan(raw)
            seen.update(keys)
            if cursor == b"0":
                out.append(sorted(seen))
                break
        else:
            raise AssertionError("SCAN never finished")
    return out[0], out[1]


def parse_scan(raw: bytes) -> tuple[bytes, list[bytes]]:
    """(cursor, keys) of a SCAN reply: *2, the cursor as a bulk, then an array of bulks."""

    def line(pos: int) -> tuple[bytes, int]:
        end = raw.index(b"\r\n", pos)
        return raw[pos:end], end + 2

    def bulk(pos: int) -> tuple[bytes, int]:
        head, pos = line(pos)
        assert head[:1] == b"$", raw
        n = int(head[1:])
        return raw[pos : pos + n], pos + n + 2

    head, pos = line(0)
    assert head == b"*2", raw
    cursor, pos = bulk(pos)
    head, pos = line(pos)
    keys = []
    for _ in range(int(head[1:])):
        key, pos = bulk(pos)
        keys.append(key)
    assert pos == len(raw), raw
    return cursor, keys


def same_value(pair: Pair, key: Arg) -> None:
    """Type, encoding, contents (by digest) and whether it has a TTL."""
    pair.same("TYPE", key)
    pair.same("OBJECT", "ENCODING", key)
    pair.same("DEBUG", "DIGEST-VALUE", key)
    pair.same("TTL", key)


# -- TYPE, OBJECT, DEBUG -----------------------------------------------------------------------


def test_type_and_object_for_every_encoding(pair: Pair) -> None:
    populate(pair)
    for key, (_, kind, encoding) in VALUES.items():
        assert pair.same("TYPE", key) == b"+%b\r\n" % kind
        assert pair.same("OBJECT", "ENCODING", key) == b"$%d\r\n%b\r\n" % (len(encoding), encoding)
        pair.same("OBJECT", "REFCOUNT", key)
        pair.same("OBJECT", "FREQ", key)
        pair.same("EXISTS", key)
        pair.same("DEBUG", "DIGEST-VALUE", key)
    pair.same("DEBUG", "DIGEST")
    pair.same("OBJECT", "ENCODING", "nokey")
    pair.same("TYPE", "nokey")


def test_debug_object_for_every_encoding(pair: Pair) -> None:
    populate(pair)
    for key in VALUES:
        same_debug_object(pair, key)
    pair.same("DEBUG", "OBJECT", "nokey")
    # A list spread over several quicklist nodes, built by RPUSH: node count and sizes are exact.
    pair.same("RPUSH", "biglist", *[f"element-{i:05d}" for i in range(3000)])
    same_debug_object(pair, "biglist")
    pair.same("RPUSH", "ints", *range(-3000, 3000, 7))
    same_debug_object(pair, "ints")
    # Blobs LZF compresses: the serialized length counts the compressed bytes, as Redis's.
    pair.same("SET", "compressible", "x" * 500)
    pair.same("HSET", "hash_z", *[f"field{i}" for i in range(200)])
    pair.same("SADD", "set_z", *[f"member-{i:04d}" for i in range(200)])
    for key in ("compressible", "hash_z", "set_z"):
        same_debug_object(pair, key)


def test_debug_object_list_settings(pair: Pair) -> None:
    try:
        pair.same("CONFIG", "SET", "list-max-listpack-size", "3")
        pair.same("CONFIG", "SET", "list-compress-depth", "1")
        pair.same("RPUSH", "l", *"abcdefgh")
        same_debug_object(pair, "l")
    finally:
        pair.same("CONFIG", "SET", "list-max-listpack-size", "-2")
        pair.same("CONFIG", "SET", "list-compress-depth", "0")


def test_memory_usage_for_every_type(pair: Pair) -> None:
    populate(pair)
    for key in VALUES:
        for samples in ((), ("SAMPLES", "0"), ("SAMPLES", "1"), ("samples", "100")):
            mine, real = pair.both("MEMORY", "USAGE", key, *samples)
            assert mine[:1] == real[:1] == b":", (key, samples, mine, real)
            assert int(mine[1:]) > 0
        pair.same("MEMORY", "USAGE", key, "SAMPLES", "-1")
        pair.same("MEMORY", "USAGE", key, "SAMPLES", "x")
        pair.same("MEMORY", "USAGE", key, "SAMPLES")
    pair.same("MEMORY", "USAGE", "nokey")


# -- SCAN TYPE ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["string", "list", "set", "zset", "hash", "LIST", "Hash", "none", "stream", "sortedset", "", "str", b"list\x00x"],
)
def test_scan_type_filter(pair: Pair, name: Arg) -> None:
    populate(pair)
    for i in range(30):  # enough keys for several SCAN steps
        pair.same("SET", f"pad:{i}", i)
    ours, theirs = whole_scan(pair, "TYPE", name)
    assert ours == theirs, name
    ours, theirs = whole_scan(pair, "TYPE", name, "MATCH", "*_*", "COUNT", "3")
    assert ours == theirs, name


def test_scan_type_errors(pair: Pair) -> None:
    pair.script(
        """
        SCAN 0 TYPE
        SCAN 0 TYPE list TYPE
        SCAN 0 TYPE set TYPE hash
        """
    )


def test_scan_type_none_finds_keys_expired_on_the_way(pair: Pair) -> None:
    """Redis's type check expires the key first, then calls its type "none"."""
    pair.same("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        pair.same("SET", "gone", "v", "PX", "1")
        pair.same("RPUSH", "stays", "a")
        time.sleep(0.01)  # the key must be past its TTL; no timing is asserted
        ours, theirs = whole_scan(pair, "TYPE", "none")
        assert ours == theirs == [b"gone"]
        assert whole_scan(pair, "TYPE", "none") == ([], [])
    finally:
        pair.same("DEBUG", "SET-ACTIVE-EXPIRE", "1")


# -- COPY, RENAME, MOVE -------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(VALUES))
def test_copy_every_type(pair: Pair, key: str) -> None:
    populate(pair)
    pair.same("PEXPIREAT", key, int(time.time() * 1000) + 10**8)
    pair.same("COPY", key, "dst")
    same_value(pair, "dst")
    if key != "str_int":  # Redis's copy of a shared integer is private (refcount 1); CacheFlow's stays shared
        same_debug_object(pair, "dst")
    pair.same("COPY", key, "dst")
    pair.same("COPY", key, "dst", "REPLACE")
    assert pair.same("PEXPIRETIME", "dst") == pair.same("PEXPIRETIME", key)
    pair.same("COPY", key, key)
    pair.same("COPY", key, key, "DB", "0")
    pair.same("COPY", key, key, "DB", "1")
    pair.same("SELECT", "1")
    same_value(pair, key)
    pair.same("SELECT", "0")
    # The copy is independent: changing it leaves the original alone.
    kind = VALUES[key][1]
    change = {
        b"string": ("APPEND", "dst", "x"),
        b"list": ("RPUSH", "dst", "x"),
        b"set": ("SADD", "dst", "x"),
        b"zset": ("ZADD", "dst", "9", "x"),
        b"hash": ("HSET", "dst", "x", "y"),
    }[kind]
    pair.same(*change)
    same_value(pair, "dst")
    same_value(pair, key)
    # Onto a key of every other type.
    for other in VALUES:
        pair.same("COPY", key, other)
        pair.same("COPY", key, other, "REPLACE")
        same_value(pair, other)


@pytest.mark.parametrize("key", list(VALUES))
def test_rename_and_move_every_type(pair: Pair, key: str) -> None:
    populate(pair)
    pair.same("EXPIRE", key, 1000)
    pair.same("RENAME", key, "renamed")
    same_value(pair, "renamed")
    pair.same("EXISTS", key)
    pair.same("RENAMENX", "renamed", "list")
    pair.same("RENAMENX", "renamed", key)
    same_value(pair, key)
    for other in VALUES:
        if other != key:
            pair.same("RENAME", other, key)
            same_value(pair, key)
            break
    pair.same("MOVE", key, "1")
    pair.same("SELECT", "1")
    same_value(pair, key)
    pair.same("MOVE", key, "0")
    pair.same("SELECT", "0")
    same_value(pair, key)
    pair.same("MOVE", "str_int", "1")
    pair.same("MOVE", "str_int", "1")
    pair.same("MOVE", "nokey", "1")
    pair.same("MOVE", key, "0")
    pair.same("MOVE", key, "16")
    pair.same("DEBUG", "DIGEST")


def test_renamed_values_keep_working(pair: Pair) -> None:
    """A value moved under another name is the same value: its commands and encoding carry on."""
    populate(pair)
    pair.script(
        """
        RENAME list l2
        LPUSH l2 z
        LRANGE l2 0 -1
        RENAME set_int s2
        SADD s2 7
        SMEMBERS s2
        OBJECT ENCODING s2
        RENAME zset_lp z2
        ZADD z2 0 q
        ZRANGE z2 0 -1 WITHSCORES
        RENAME hash_lp h2
        HGETALL h2
        MOVE h2 2
        SELECT 2
        HSET h2 x y
        HGETALL h2
        COPY h2 h3 DB 0
        SELECT 0
        HGETALL h3
        OBJECT ENCODING h3
        """
    )


# -- encodings after conversions --------------------------------------------------------------------


def test_encodings_follow_the_thresholds_and_survive_copy(pair: Pair) -> None:
    settings_ = {
        "set-max-intset-entries": "3",
        "zset-max-listpack-entries": "3",
        "hash-max-listpack-entries": "3",
    }
    with pair.configured(settings_):
        pair.script(
            """
            SADD s 1 2 3
            OBJECT ENCODING s
            SADD s 4
            OBJECT ENCODING s
            SREM s 4 3
            OBJECT ENCODING s
            COPY s s2
            OBJECT ENCODING s2
            ZADD z 1 a 2 b 3 c
            OBJECT ENCODING z
            ZADD z 4 d
            OBJECT ENCODING z
            ZREM z d c
            OBJECT ENCODING z
            COPY z z2
            OBJECT ENCODING z2
            HSET h a 1 b 2 c 3
            OBJECT ENCODING h
            HSET h d 4
            OBJECT ENCODING h
            HDEL h d c
            OBJECT ENCODING h
            COPY h h2
            OBJECT ENCODING h2
            RENAME h h3
            OBJECT ENCODING h3
            """
        )
        for key in ("s", "s2", "z", "z2", "h2", "h3"):
            same_value(pair, key)
            same_debug_object(pair, key)


def test_wrong_type_errors_across_types(pair: Pair) -> None:
    populate(pair)
    reads = {
        b"string": ("GET",),
        b"list": ("LLEN",),
        b"set": ("SCARD",),
        b"zset": ("ZCARD",),
        b"hash": ("HLEN",),
    }
    for key in VALUES:
        for command in reads.values():
            pair.same(*command, key)


def test_expired_collections_vanish_for_every_generic_command(pair: Pair) -> None:
    populate(pair)
    for key in VALUES:
        pair.same("PEXPIRE", key, 1)
    wait_until(lambda: all(pair.theirs.call("EXISTS", key) == b":0\r\n" for key in VALUES))
    wait_until(lambda: all(pair.ours.call("EXISTS", key) == b":0\r\n" for key in VALUES))
    for key in VALUES:
        pair.same("TYPE", key)
        pair.same("OBJECT", "ENCODING", key)
        pair.same("COPY", key, "x")
        pair.same("RENAME", key, "x")
        pair.same("MOVE", key, "1")
        pair.same("SORT", key)
    pair.same("DBSIZE")


# -- random sequences ---------------------------------------------------------------------------------

KEYS = ["a", "b", "c"]
MAKERS: list[tuple[Arg, ...]] = [
    ("SET", "{k}", "7"),
    ("SET", "{k}", "text"),
    ("RPUSH", "{k}", "x", "1"),
    ("SADD", "{k}", "1", "2"),
    ("SADD", "{k}", "m", "n"),
    ("ZADD", "{k}", "1", "m", "2", "n"),
    ("ZADD", "{k}", "1", LONG),
    ("HSET", "{k}", "f", "v"),
    ("HSET", "{k}", "f", LONG),
]


def test_random_generic_sequences(cacheflow: ServerProcess, real_redis: ServerProcess) -> None:
    """Hypothesis builds values of every type and moves them around with the generic commands."""

    class Sequences(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.pair = open_pair(cacheflow, real_redis, 2)

        def teardown(self) -> None:
            self.pair.same("SELECT", "0")
            self.pair.ours.close()
            self.pair.theirs.close()

        @initialize()
        def start_empty(self) -> None:
            self.pair.same("FLUSHALL")

        @rule(key=st.sampled_from(KEYS), maker=st.sampled_from(MAKERS))
        def make(self, key: str, maker: tuple[Arg, ...]) -> None:
            self.pair.same(*[key if a == "{k}" else a for a in maker])

        @rule(src=st.sampled_from(KEYS), dst=st.sampled_from(KEYS), nx=st.booleans())
        def rename(self, src: str, dst: str, nx: bool) -> None:
            self.pair.same("RENAMENX" if nx else "RENAME", src, dst)

        @rule(
            src=st.sampled_from(KEYS),
            dst=st.sampled_from(KEYS),
            db=st.sampled_from([(), ("DB", "0"), ("DB", "1")]),
            replace=st.booleans(),
        )
        def copy(self, src: str, dst: str, db: tuple[str, ...], replace: bool) -> None:
            self.pair.same("COPY", src, dst, *db, *(("REPLACE",) if replace else ()))

        @rule(key=st.sampled_from(KEYS), db=st.sampled_from(["0", "1"]))
        def move(self, key: str, db: str) -> None:
            self.pair.same("MOVE", key, db)

        @rule(db=st.sampled_from(["0", "1"]))
        def select(self, db: str) -> None:
            self.pair.same("SELECT", db)

        @rule(key=st.sampled_from(KEYS), ttl=st.sampled_from(["100", "-1", "0"]))
        def expire(self, key: str, ttl: str) -> None:
            if ttl == "-1":
                self.pair.same("PERSIST", key)
            else:
                self.pair.same("EXPIRE", key, ttl)

        @rule(key=st.sampled_from(KEYS))
        def delete(self, key: str) -> None:
            self.pair.same("DEL", key)

        @rule(key=st.sampled_from([*KEYS, "nokey"]))
        def inspect(self, key: str) -> None:
            same_value(self.pair, key)
            self.pair.same("EXISTS", key)
            self.pair.same("OBJECT", "REFCOUNT", key)

        @rule(kind=st.sampled_from([*KINDS, b"none", b"nosuch"]))
        def scan(self, kind: bytes) -> None:
            ours, theirs = whole_scan(self.pair, "TYPE", kind)
            assert ours == theirs, kind

        @rule()
        def digest(self) -> None:
            self.pair.same("DEBUG", "DIGEST")
            self.pair.same("DBSIZE")

    run_state_machine_as_test(
        Sequences,
        settings=settings(max_examples=30, stateful_step_count=30, deadline=None, database=None),
    )
