"""Hash commands, differentially: the same sequences on CacheFlow and on redis-server 7.0.15.

Replies are compared as raw bytes off the wire, in RESP2 and RESP3, wherever
Redis's reply is deterministic: every reply of a listpack-encoded hash
(including HRANDFIELD when the count covers the whole hash, and HSCAN, which
returns a listpack whole), every error text, every reply type.  A hashtable's
field order is Redis's bucket order, which no other implementation shares, so
those replies are compared as multisets of exact elements under the same reply
type and header; random replies are checked for shape and membership.

The field-TTL commands of Redis 7.4 cannot be compared with the installed
7.0.15 server: tests/unit/test_hashes_commands.py checks them against the
documented semantics.
"""

import random
from typing import Any

import hiredis
import pytest
import redis
import servers
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test
from pair import Pair, assert_watch_breaks_alike, open_pair
from servers import ServerProcess
from wire import Arg, Wire


def decode(reply: bytes, proto: int) -> Any:
    reader = hiredis.Reader()
    reader.feed(reply)
    return reader.gets()


def header(reply: bytes) -> bytes:
    return reply[: reply.index(b"\r\n")]


def same_unordered(pair: Pair, proto: int, *command: Arg) -> None:
    """Same reply type, size and elements; order free (hashtable iteration order)."""
    mine, real = pair.both(*command)
    assert header(mine) == header(real), (command, mine[:80], real[:80])
    a, b = decode(mine, proto), decode(real, proto)
    if isinstance(b, dict):
        assert a == b, command
    elif isinstance(b, list):
        name = str(command[0]).upper()
        if name == "HGETALL" or (name == "HRANDFIELD" and proto == 2 and len(command) == 4):
            assert sorted(zip(a[0::2], a[1::2])) == sorted(zip(b[0::2], b[1::2])), command
        else:
            assert sorted(map(repr, a)) == sorted(map(repr, b)), command
    else:
        assert a == b, command


def full_hscan(wire: Wire, proto: int, key: str, *options: Arg) -> list[bytes]:
    items: list[bytes] = []
    cursor = b"0"
    for _ in range(10_000):
        cursor, batch = decode(wire.call("HSCAN", key, cursor, *options), proto)
        items += batch
        if cursor == b"0":
            return items
    raise AssertionError("HSCAN never returned cursor 0")


# -- deterministic replies ----------------------------------------------------------------


def test_set_get_and_friends(pair: Pair) -> None:
    pair.script(
        """
        HSET h
        HSET h f
        HSET h f v g
        HMSET h f v g
        HSET h f v
        HSET h f v2 g w
        HMSET h a 1 b 2
        HSETNX h f x
        HSETNX h n 10
        HGET h f
        HGET h nofield
        HGET nokey f
        HMGET h f nofield g
        HMGET nokey a b
        HLEN h
        HLEN nokey
        HSTRLEN h n
        HSTRLEN h nofield
        HSTRLEN nokey f
        HEXISTS h f
        HEXISTS h nofield
        HEXISTS nokey f
        HKEYS h
        HVALS h
        HGETALL h
        HKEYS nokey
        HVALS nokey
        HGETALL nokey
        HDEL h
        HDEL h f f nofield
        HDEL nokey f
        HGETALL h
        HDEL h g n a b
        EXISTS h
        TYPE h
        """
    )


def test_wrong_type_and_argument_order(pair: Pair) -> None:
    pair.script(
        """
        SET s v
        HSET s f v
        HMSET s f v
        HSETNX s f v
        HGET s f
        HMGET s f
        HDEL s f
        HLEN s
        HSTRLEN s f
        HEXISTS s f
        HKEYS s
        HVALS s
        HGETALL s
        HINCRBY s f 1
        HINCRBY s f x
        HINCRBYFLOAT s f 1
        HINCRBYFLOAT s f x
        HRANDFIELD s
        HRANDFIELD s 1
        HRANDFIELD s x
        HRANDFIELD s 1 WITHVALUES x
        HSCAN s 0
        HSCAN s x
        HSCAN s 0 foo
        """
    )


def test_hincrby(pair: Pair) -> None:
    pair.script(
        """
        HINCRBY h n 5
        HINCRBY h n -7
        HINCRBY h n x
        HINCRBY h n 1.5
        HINCRBY h n 9223372036854775808
        HINCRBY h big 9223372036854775807
        HINCRBY h big 1
        HINCRBY h small -9223372036854775808
        HINCRBY h small -1
        HSET h s abc z 012 m -0 p +1
        HINCRBY h s 1
        HINCRBY h z 1
        HINCRBY h m 1
        HINCRBY h p 1
        HINCRBY nokey f x
        EXISTS nokey
        HGETALL h
        """
    )


FLOATS = ["0.1", "0.2", "1e3", "-1500", "0x10", "1.5e-5", "3", "-0", "1e400", "inf", "-inf", "nan", "abc", " 1", "1 "]


def test_hincrbyfloat(pair: Pair) -> None:
    for value in FLOATS:
        pair.same("HINCRBYFLOAT", "h", "f", value)
    pair.same("HSET", "h", "s", "abc", "i", "inf", "e", "1e5", "sp", " 5", "big", "1e308")
    for field in ("s", "i", "e", "sp", "big", "nofield"):
        pair.same("HINCRBYFLOAT", "h", field, "1")
    pair.same("HINCRBYFLOAT", "h", "big", "1e308")
    pair.same("HINCRBYFLOAT", "nokey", "f", "inf")
    pair.same("EXISTS", "nokey")
    pair.same("OBJECT", "ENCODING", "h")  # the 401-digit result made it a hashtable
    pair.same("HMGET", "h", "f", "s", "i", "e", "sp", "big", "nofield")


def test_hincrbyfloat_random_sums(pair2: Pair) -> None:
    rng = random.Random(7)
    for i in range(200):
        value = rng.choice(["%.3f", "%.1e", "%d"]) % (rng.uniform(-1e4, 1e4) if i % 3 else rng.randrange(-99, 99))
        pair2.same("HINCRBYFLOAT", "h", "f%d" % (i % 5), value)


def test_float_with_a_zero_exponent(pair2: Pair) -> None:
    for value in ("1e0", "-7.0e+00", "2E-0"):
        pair2.same("HINCRBYFLOAT", "h", "f", value)


def test_encoding_thresholds(pair: Pair) -> None:
    fields = [x for i in range(512) for x in (f"f{i}", f"v{i}")]
    pair.same("HSET", "a", *fields)
    pair.same("OBJECT", "ENCODING", "a")
    pair.same("HGETALL", "a")
    pair.same("HSET", "a", "f0", "changed")
    pair.same("OBJECT", "ENCODING", "a")
    pair.same("HSET", "a", "f512", "v")
    pair.same("OBJECT", "ENCODING", "a")
    pair.same("HDEL", "a", "f512", "f511")
    pair.same("OBJECT", "ENCODING", "a")
    pair.same("HSET", "b", "k", "x" * 64)
    pair.same("OBJECT", "ENCODING", "b")
    pair.same("HSET", "b", "k2", "x" * 65)
    pair.same("OBJECT", "ENCODING", "b")
    pair.same("HSET", "c", "y" * 65, "v")
    pair.same("OBJECT", "ENCODING", "c")
    pair.same("HSETNX", "d", "y" * 65, "v")
    pair.same("OBJECT", "ENCODING", "d")
    pair.same("HINCRBY", "e", "y" * 65, "1")
    pair.same("OBJECT", "ENCODING", "e")
    pair.same("HSET", "f", "a", "1")
    pair.same("HINCRBYFLOAT", "f", "a", "1e60")
    pair.same("OBJECT", "ENCODING", "f")
    pair.same("HINCRBYFLOAT", "f", "a", "1e70")
    pair.same("OBJECT", "ENCODING", "f")


def test_encoding_thresholds_follow_config(pair2: Pair) -> None:
    try:
        pair2.script(
            """
            CONFIG SET hash-max-listpack-entries 3
            HSET h a 1 b 2 c 3
            OBJECT ENCODING h
            HSET h d 4
            OBJECT ENCODING h
            CONFIG SET hash-max-listpack-entries 0
            HSET z a 1
            OBJECT ENCODING z
            CONFIG SET hash-max-listpack-entries 512
            CONFIG SET hash-max-listpack-value 2
            HSET v ab cd
            OBJECT ENCODING v
            HINCRBY v n 100
            OBJECT ENCODING v
            """
        )
    finally:
        pair2.same("CONFIG", "SET", "hash-max-listpack-entries", "512")
        pair2.same("CONFIG", "SET", "hash-max-listpack-value", "64")


def test_field_order_of_listpacks(pair: Pair) -> None:
    pair.script(
        """
        HSET h a 1 a 2 a 3
        HSET h b 1 a 5 c 6
        HDEL h a
        HSET h a 7
        HGETALL h
        HKEYS h
        HVALS h
        HRANDFIELD h 3
        HRANDFIELD h 10 WITHVALUES
        HRANDFIELD h 0
        HSCAN h 0
        HSCAN h 0 MATCH a
        HSCAN h 0 MATCH [ab] COUNT 100
        HSCAN h 123 COUNT 1
        HSCAN h -1
        """
    )


def test_hot_hashes_keep_listpack_order(pair: Pair) -> None:
    """CacheFlow unpacks a hash in heavy use; nothing observable may change."""
    for i in range(30):
        pair.same("HSET", "h", f"f{i % 7}", str(i))
        pair.same("HGET", "h", f"f{(i * 3) % 7}")
    pair.same("HDEL", "h", "f3")
    pair.same("HSET", "h", "f3", "back")
    pair.same("HGETALL", "h")
    pair.same("HRANDFIELD", "h", "100", "WITHVALUES")
    pair.same("OBJECT", "ENCODING", "h")


def test_binary_fields_and_values(pair: Pair) -> None:
    tricky = [b"", b"\x00", b"\x00\x01", b"\x00\x02", b"\x00\x03", b"a\x00", b"\r\n", b"\xff\x00\x01"]
    for i, f in enumerate(tricky):
        pair.same("HSET", "h", f, tricky[-1 - i])
    for f in tricky:
        pair.same("HGET", "h", f)
        pair.same("HSTRLEN", "h", f)
    pair.same("HGETALL", "h")
    pair.same("HDEL", "h", tricky[1], tricky[3])
    pair.same("HGETALL", "h")


def test_hrandfield_and_hscan_errors(pair: Pair) -> None:
    pair.script(
        """
        HSET h f v n 10
        HRANDFIELD h x
        HRANDFIELD h 1 withvalues x
        HRANDFIELD h 1 foo
        HRANDFIELD h -9223372036854775808
        HRANDFIELD h 4611686018427387904 withvalues
        HRANDFIELD h -4611686018427387904 withvalues
        HRANDFIELD h 4611686018427387903 withvalues
        HRANDFIELD nokey 5 withvalues
        HRANDFIELD nokey
        HRANDFIELD nokey 0
        HRANDFIELD nokey x
        HSCAN h 0 count 0
        HSCAN h 0 count -1
        HSCAN h 0 count x
        HSCAN h 0 match
        HSCAN h x
        HSCAN h 18446744073709551616
        HSCAN h 0 foo bar
        HSCAN h 0 TYPE hash
        HSCAN nokey 0
        HSCAN nokey x
        HSCAN nokey 0 foo bar
        """
    )


# -- hashtables and random replies ----------------------------------------------------------


@pytest.mark.parametrize("proto", [2, 3])
def test_hashtable_replies_as_multisets(cacheflow: ServerProcess, real_redis: ServerProcess, proto: int) -> None:
    pair = open_pair(cacheflow, real_redis, proto)
    try:
        pair.same("HSET", "h", *[x for i in range(600) for x in (f"f{i}", f"v{i}")])
        pair.same("HSET", "w", "a", "x" * 100, "b", "2")
        for key in ("h", "w"):
            pair.same("OBJECT", "ENCODING", key)
            pair.same("HLEN", key)
            for name in ("HGETALL", "HKEYS", "HVALS"):
                same_unordered(pair, proto, name, key)
            same_unordered(pair, proto, "HRANDFIELD", key, "1000", "WITHVALUES")
            same_unordered(pair, proto, "HRANDFIELD", key, "1000")
        pair.same("HMGET", "h", "f1", "f599", "nope")
        pair.same("HDEL", "h", *[f"f{i}" for i in range(0, 600, 2)])
        same_unordered(pair, proto, "HGETALL", "h")
        for wire in (pair.ours, pair.theirs):
            got = full_hscan(wire, proto, "h", "COUNT", "17")
            assert sorted(zip(got[0::2], got[1::2])) == sorted((b"f%d" % i, b"v%d" % i) for i in range(1, 600, 2))
            matched = full_hscan(wire, proto, "h", "MATCH", "f1*")
            assert sorted(matched[0::2]) == sorted(b"f%d" % i for i in range(1, 600, 2) if str(i).startswith("1"))
    finally:
        pair.ours.close()
        pair.theirs.close()


@pytest.mark.parametrize("proto", [2, 3])
def test_random_replies_have_redis_shape(cacheflow: ServerProcess, real_redis: ServerProcess, proto: int) -> None:
    pair = open_pair(cacheflow, real_redis, proto)
    try:
        for key, n in (("small", 5), ("big", 700)):
            pair.same("HSET", key, *[x for i in range(n) for x in (f"f{i}", f"v{i}")])
            values = {b"f%d" % i: b"v%d" % i for i in range(n)}
            for count in (1, 2, 3, -1, -7, n - 1):
                for withvalues in (False, True):
                    command = ("HRANDFIELD", key, count, *(("WITHVALUES",) if withvalues else ()))
                    mine, real = pair.both(*command)
                    assert header(mine) == header(real), command
                    got = decode(mine, proto)
                    if withvalues:
                        pairs = got if proto == 3 else [got[i : i + 2] for i in range(0, len(got), 2)]
                        assert all(values[f] == v for f, v in pairs), command
                        fields = [f for f, _ in pairs]
                        if proto == 3:
                            assert mine.count(b"*2\r\n") >= abs(count), command  # [field, value] arrays
                    else:
                        fields = got
                    assert set(fields) <= set(values), command
                    if count > 0:
                        assert len(set(fields)) == len(fields), command
                        if key == "small":  # a listpack's unique sample comes in stored order
                            assert fields == sorted(fields, key=lambda f: int(f[1:])), command
            mine, real = pair.both("HRANDFIELD", key)
            assert mine[:1] == real[:1] == b"$" and decode(mine, proto) in values
    finally:
        pair.ours.close()
        pair.theirs.close()


# -- transactions, WATCH and a client library ---------------------------------------------


def test_transactions(pair: Pair) -> None:
    pair.script(
        """
        MULTI
        HSET h a 1 b 2
        HINCRBY h a 5
        HINCRBYFLOAT h b 0.5
        HGETALL h
        HDEL h a
        HSET h a
        EXEC
        MULTI
        HGET h
        HGET h b
        EXEC
        HGETALL h
        """
    )


WATCH_CASES: list[tuple[list[tuple[Arg, ...]], tuple[Arg, ...]]] = [
    ([("HSET", "k", "a", "1")], ("HSET", "k", "a", "1")),
    ([("HSET", "k", "a", "1")], ("HSET", "k", "b", "2")),
    ([("HSET", "k", "a", "1")], ("HSETNX", "k", "a", "2")),
    ([("HSET", "k", "a", "1")], ("HSETNX", "k", "b", "2")),
    ([("HSET", "k", "a", "1")], ("HDEL", "k", "zz")),
    ([("HSET", "k", "a", "1")], ("HDEL", "k", "a")),
    ([("HSET", "k", "a", "1")], ("HINCRBY", "k", "a", "1")),
    ([("HSET", "k", "a", "1")], ("HINCRBY", "k", "a", "x")),
    ([("HSET", "k", "a", "1")], ("HINCRBYFLOAT", "k", "a", "1")),
    ([("HSET", "k", "a", "1")], ("HGETALL", "k")),
    ([("HSET", "k", "a", "x")], ("HINCRBY", "k", "a", "1")),
    ([], ("HDEL", "k", "a")),
    ([], ("HINCRBY", "k", "a", "1")),
]


@pytest.mark.parametrize(("setup", "command"), WATCH_CASES, ids=lambda c: " ".join(map(str, c)) if c else "-")
def test_which_commands_break_a_watch(
    cacheflow: ServerProcess, real_redis: ServerProcess, setup: list[tuple[Arg, ...]], command: tuple[Arg, ...]
) -> None:
    assert_watch_breaks_alike(cacheflow, real_redis, setup, command)


@pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")
def test_redis_py_hash_api(r: redis.Redis, rr: redis.Redis) -> None:
    def run(c: redis.Redis) -> list[Any]:
        return [
            c.hset("h", "a", "1", mapping={"b": "2", "c": "3"}),
            c.hmset("h", {"d": "4"}),
            c.hsetnx("h", "a", "x"),
            c.hget("h", "a"),
            c.hmget("h", ["a", "zz", "d"]),
            c.hgetall("h"),
            c.hkeys("h"),
            c.hvals("h"),
            c.hlen("h"),
            c.hstrlen("h", "a"),
            c.hexists("h", "b"),
            c.hincrby("h", "a", 10),
            c.hincrbyfloat("h", "b", 0.25),
            c.hdel("h", "c", "zz"),
            c.hscan("h", 0),
            c.hscan("h", 0, match="a*"),
            list(c.hscan_iter("h")),
            c.hrandfield("h", 100, withvalues=True),
            c.hgetall("nokey"),
        ]

    assert run(r) == run(rr)


# -- random sequences ----------------------------------------------------------------------------

KEYS = ["a", "b", "s"]
FIELDS = st.sampled_from(["f", "g", "h", "", "long" * 20, "\x00"])
VALUES = st.sampled_from(["", "0", "1", "-7", "10", "abc", "3.5", "9223372036854775807", "x" * 70, "0x10"])
INCRS = st.sampled_from(["0", "1", "-1", "100", "9223372036854775807", "-9223372036854775808", "x", "1.5"])
FLOAT_INCRS = st.sampled_from(["0.1", "-1.5", "1e3", "3", "inf", "abc", "-0", "1e308"])


def test_random_command_sequences(cacheflow: ServerProcess, real_redis: ServerProcess) -> None:
    """Hypothesis drives both servers through the same hash commands and compares every reply.

    Keys hold listpacks, hashtables (long fields or values convert them) or, for
    ``s``, a string; replies whose order is a hashtable's are compared as multisets.
    """

    class Sequences(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.proto = 2
            self.pair = open_pair(cacheflow, real_redis, 2)

        def teardown(self) -> None:
            self.pair.ours.close()
            self.pair.theirs.close()

        @initialize(proto=st.sampled_from([2, 3]))
        def start(self, proto: int) -> None:
            if proto == 3:
                self.pair.ours.close()
                self.pair.theirs.close()
                self.pair = open_pair(cacheflow, real_redis, 3)
                self.proto = 3
            self.pair.same("FLUSHALL")
            self.pair.same("SET", "s", "string")

        def ordered(self, key: str) -> bool:
            """Whether replies over ``key`` have a fixed order: anything but a hashtable (``s`` may be one too)."""
            return self.pair.ours.call("OBJECT", "ENCODING", key) != b"$9\r\nhashtable\r\n"

        @rule(key=st.sampled_from(KEYS), pairs=st.lists(st.tuples(FIELDS, VALUES), min_size=1, max_size=3))
        def hset(self, key: str, pairs: list[tuple[str, str]]) -> None:
            self.pair.same("HSET", key, *[x for p in pairs for x in p])

        @rule(key=st.sampled_from(KEYS), field=FIELDS, value=VALUES, nx=st.booleans())
        def hset_one(self, key: str, field: str, value: str, nx: bool) -> None:
            self.pair.same("HSETNX" if nx else "HMSET", key, field, value)

        @rule(key=st.sampled_from([*KEYS, "nokey"]), fields=st.lists(FIELDS, min_size=1, max_size=3))
        def reads(self, key: str, fields: list[str]) -> None:
            self.pair.same("HGET", key, fields[0])
            self.pair.same("HMGET", key, *fields)
            self.pair.same("HEXISTS", key, fields[0])
            self.pair.same("HSTRLEN", key, fields[0])
            self.pair.same("HLEN", key)
            self.pair.same("OBJECT", "ENCODING", key)

        @rule(key=st.sampled_from([*KEYS, "nokey"]), name=st.sampled_from(["HGETALL", "HKEYS", "HVALS"]))
        def whole(self, key: str, name: str) -> None:
            if self.ordered(key):
                self.pair.same(name, key)
            else:
                same_unordered(self.pair, self.proto, name, key)

        @rule(key=st.sampled_from(KEYS), fields=st.lists(FIELDS, min_size=1, max_size=3))
        def hdel(self, key: str, fields: list[str]) -> None:
            self.pair.same("HDEL", key, *fields)

        @rule(key=st.sampled_from(KEYS), field=FIELDS, amount=INCRS)
        def hincrby(self, key: str, field: str, amount: str) -> None:
            self.pair.same("HINCRBY", key, field, amount)

        @rule(key=st.sampled_from(KEYS), field=FIELDS, amount=FLOAT_INCRS)
        def hincrbyfloat(self, key: str, field: str, amount: str) -> None:
            self.pair.same("HINCRBYFLOAT", key, field, amount)

        @rule(key=st.sampled_from([*KEYS, "nokey"]), count=st.sampled_from(["0", "100", "x"]), values=st.booleans())
        def hrandfield_whole(self, key: str, count: str, values: bool) -> None:
            command = ("HRANDFIELD", key, count, *(("WITHVALUES",) if values else ()))
            if count != "100" or self.ordered(key):
                self.pair.same(*command)
            else:
                same_unordered(self.pair, self.proto, *command)

        @rule(key=st.sampled_from([*KEYS, "nokey"]), opts=st.sampled_from([(), ("MATCH", "f*"), ("COUNT", "0")]))
        def hscan(self, key: str, opts: tuple[str, ...]) -> None:
            if opts == ("COUNT", "0") or self.ordered(key):
                self.pair.same("HSCAN", key, "0", *opts)

        @rule(key=st.sampled_from(KEYS))
        def delete(self, key: str) -> None:
            self.pair.same("DEL", key)

    run_state_machine_as_test(
        Sequences,
        settings=settings(max_examples=40, stateful_step_count=30, deadline=None, database=None),
    )


# -- field TTLs on a live server (CacheFlow only: Redis 7.0.15 has no HEXPIRE) --------------


def test_active_expiry_reclaims_fields_on_a_live_server(r: redis.Redis) -> None:
    """Nothing reads the hashes: only the server's cron can remove the fields and the emptied key."""
    r.hset("gone", mapping={"a": "1"})
    r.hset("kept", mapping={"a": "1", "b": "2"})
    assert r.execute_command("HPEXPIRE", "gone", "50", "FIELDS", "1", "a") == [1]
    assert r.execute_command("HPEXPIRE", "kept", "50", "FIELDS", "1", "a") == [1]
    servers.wait_until(lambda: r.exists("gone") == 0, timeout=10, message="the emptied hash to be deleted")
    assert r.hgetall("kept") == {b"b": b"2"}
    assert r.object("encoding", "kept") == b"listpackex"
