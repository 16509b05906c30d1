"""String commands, differentially: the same sequences on CacheFlow and on redis-server.

Replies are compared as raw bytes off the wire, in RESP2 and RESP3, so a
bulk string answered where Redis sends a double, or a flat array where it
sends a map, fails here even though a client library would hide it.  Error
texts are part of the bytes.  Nothing depends on how fast either server
answers: expiries are compared through absolute times (PEXPIRETIME) or by
the sign of TTL only.
"""

import random
from typing import Any

import pytest
import redis
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test
from pair import FAR, Command, Pair, assert_watch_breaks_alike, open_pair
from servers import ServerProcess
from wire import Arg


def supports(pair: Pair, *command: Arg) -> bool:
    return not pair.ours.call(*command).startswith(b"-ERR unknown command")


# -- SET, GET and the GET* variants ------------------------------------------------


def test_set_options(pair: Pair) -> None:
    pair.script(
        """
        SET k v
        GET k
        GET nokey
        SET k v EX 10 EX 20
        TTL k
        SET k v PX 10000 PX 20000
        SET k v EX 10 PX 20
        SET k v NX NX
        SET k v XX XX
        SET k v NX XX
        SET k v2 GET GET
        SET k v KEEPTTL KEEPTTL
        TTL k
        SET k v KEEPTTL EX 10
        SET k v EX
        SET k v EX 0
        SET k v EX -1
        SET k v EX abc
        SET k v EX 9223372036854775807
        SET k v EX 9223372036854775
        SET k v PX 9223372036854775807
        SET k v PXAT 9223372036854775807
        PEXPIRETIME k
        SET k v EXAT 9223372036854775
        PEXPIRETIME k
        SET k v EXAT 1
        GET k
        SET k v PERSIST
        SET k v EX abc NX XX
        SET k v NX XX EX abc
        SET nokey v XX GET
        SET nokey v NX GET
        SET nokey v2 NX GET
        SET nokey v3 XX GET
        SET k v ex 10 nx
        SET k v Px 100000 xx keepttl
        SET k v GETT
        SET k
        SET
        """
    )
    pair.same("SET", "k", "v", "EXAT", FAR)
    pair.same("PEXPIRETIME", "k")
    pair.same("SET", "k", "w", "KEEPTTL")
    pair.same("PEXPIRETIME", "k")
    pair.same("SET", "k", "x")
    pair.same("PEXPIRETIME", "k")
    pair.same("SET", b"bin\x00\xff", b"\r\n\x00")
    pair.same("GET", b"bin\x00\xff")


def test_getex(pair: Pair) -> None:
    pair.script(
        """
        GETEX missing EX -1
        GETEX missing EX abc
        GETEX missing BAD
        GETEX missing EX
        SET k v
        GETEX k
        GETEX k EX -1
        GETEX k EX abc
        GETEX k EX 0
        GETEX k EXAT 0
        GETEX k EX 9223372036854775
        GETEX k EX 10 EX 20
        TTL k
        GETEX k PERSIST PERSIST
        TTL k
        GETEX k EX 10 PERSIST
        GETEX k PERSIST EX 10
        GETEX k KEEPTTL
        GETEX k NX
        GETEX k GET
        GETEX k px 100000
        TTL k
        GETEX k PXAT 9223372036854775807
        PEXPIRETIME k
        GETEX k EXAT 1
        GET k
        GETEX
        """
    )
    pair.same("SET", "k", "v")
    pair.same("GETEX", "k", "EXAT", FAR)
    pair.same("PEXPIRETIME", "k")
    pair.same("GETEX", "k", "PXAT", FAR * 1000 + 5)
    pair.same("PEXPIRETIME", "k")
    pair.same("GETEX", "k", "PERSIST")
    pair.same("PEXPIRETIME", "k")


def test_getdel_getset_setnx_setex_psetex(pair: Pair) -> None:
    pair.script(
        """
        GETDEL k
        SET k v EX 100
        GETDEL k
        GETDEL k
        EXISTS k
        GETSET k x
        SET k v EX 100
        GETSET k y
        TTL k
        GET k
        SETNX k z
        SETNX n z
        GET n
        SETEX s 0 v
        SETEX s -1 v
        SETEX s x v
        SETEX s 9223372036854775 v
        SETEX s 100 v
        TTL s
        PSETEX s 0 v
        PSETEX s 9223372036854775807 v
        PSETEX s 100000 v
        PTTL s
        GET s
        SETEX s 100
        PSETEX s
        GETSET k
        SETNX k
        """
    )


def test_mget_mset_msetnx(pair: Pair) -> None:
    pair.script(
        """
        MSET a 1 b
        MSET a
        MSETNX a 1 b
        SET t old EX 100
        MSET a 1 b 2 t 3
        TTL t
        MGET a b zz a t
        MSETNX a 1 c 2
        GET c
        MSETNX n1 1 n1 2
        GET n1
        MSETNX x 1 y 2 z 3
        MGET x y z
        MGET
        """
    )


def test_wrong_type_errors(pair: Pair) -> None:
    if not supports(pair, "RPUSH", "l", "a"):
        pytest.skip("CacheFlow has no list type yet to hold a non-string key")
    pair.theirs.call("RPUSH", "l", "a")
    pair.script(
        """
        GET l
        SET l v GET
        SET l v GET EX -5
        SET l v NX
        SET l v XX GET
        GETEX l EX -1
        GETEX l
        GETDEL l
        GETSET l x
        MGET l
        MSETNX x 1 l 2
        APPEND l x
        SETRANGE l 0 x
        SETRANGE l 0 ""
        SETRANGE l -1 x
        STRLEN l
        GETRANGE l a 1
        GETRANGE l 0 1
        INCR l
        INCRBY l x
        DECRBY l -9223372036854775808
        INCRBYFLOAT l x
        INCRBYFLOAT l 1
        LCS l nokey
        LCS nokey l BADOPT
        """
    )


# -- editing strings ----------------------------------------------------------------------


def test_append_setrange_strlen(pair: Pair) -> None:
    pair.script(
        """
        APPEND a 12
        OBJECT ENCODING a
        APPEND a ""
        OBJECT ENCODING a
        APPEND a 3
        GET a
        STRLEN a
        APPEND e ""
        EXISTS e
        STRLEN e
        STRLEN nokey
        SET s hello EX 100
        SETRANGE s 3 XYZW
        GET s
        TTL s
        SETRANGE s 9 !
        GET s
        SETRANGE s 0 ""
        SETRANGE s 100 ""
        SETRANGE n 3 ab
        GET n
        OBJECT ENCODING n
        SETRANGE nokey 5 ""
        EXISTS nokey
        SETRANGE nokey 536870912 ""
        SETRANGE nokey -1 x
        SETRANGE nokey x x
        SETRANGE nokey 536870912 x
        SETRANGE nokey 9223372036854775807 x
        SETRANGE s 536870912 x
        EXISTS nokey
        APPEND a
        SETRANGE a 1
        STRLEN
        """
    )
    pair.same("APPEND", "big", "x" * 100)
    pair.same("OBJECT", "ENCODING", "big")


@pytest.mark.parametrize("name", ["GETRANGE", "SUBSTR"])
def test_getrange(pair: Pair, name: str) -> None:
    pair.same("SET", "s", "hello")
    pair.same("SET", "e", "")
    ends: list[Arg] = [0, 1, 4, 5, 6, 100, -1, -4, -5, -6, -100, "9223372036854775807", "-9223372036854775808"]
    for key in ("s", "e", "nokey"):
        for start in ends:
            for end in ends:
                pair.same(name, key, start, end)
    for bad in ("a", "1.5", "01", "+1", "-0", " 1", "9223372036854775808"):
        pair.same(name, "s", bad, 1)
        pair.same(name, "s", 1, bad)
    pair.same("APPEND", "s", "")  # an edited value answers the same
    pair.same(name, "s", 1, -2)
    pair.same(name, "s")


# -- counters ----------------------------------------------------------------------------


def test_incr_family(pair: Pair) -> None:
    pair.script(
        """
        INCR k
        INCRBY k 41
        DECR k
        DECRBY k -9
        GET k
        OBJECT ENCODING k
        INCRBY k x
        INCRBY k 1.5
        DECRBY nokey -9223372036854775808
        INCRBY nokey -9223372036854775808
        DECR nokey
        SET k 9223372036854775807
        INCR k
        INCRBY k 0
        DECRBY k -1
        SET k -9223372036854775808
        DECR k
        INCRBY k -1
        INCRBY k 9223372036854775807
        SET t 5 EX 100
        INCR t
        TTL t
        INCR
        INCRBY k
        DECRBY k 1 2
        """
    )
    for bad in ("01", " 1", "1 ", "+1", "-0", "abc", "", "1.0", "99999999999999999999", "-9223372036854775809", "0"):
        pair.same("SET", "b", bad)
        pair.same("INCR", "b")
        pair.same("GET", "b")


INCRBYFLOAT_INPUTS = [
    "0.1",
    "1e20",
    "1.5e-18",
    "0.000003814697265625",
    "-0.00000000000000000001",
    "1e400",
    "-1e400",
    "1e4932",
    "1e4933",
    "1e-4940",
    "1e-5000",
    "1.8e-4951",
    "1.9e-4951",
    "inf",
    "-inf",
    "nan",
    "+1.5",
    " 1",
    "1 ",
    "0x10",
    "0x1p-2",
    "0X1P3",
    "0x.8",
    "0x1p16384",
    "0x1.fffffffffffffffep16383",
    "1e",
    "1e+",
    "infinity",
    "1_0",
    ".5",
    "5.",
    "-.5e1",
    "-0",
    "3.0000000000000001",
    "123456789012345678901234567890",
    "0.30000000000000004",
    "249523.621429",
    "1.7976931348623157e308",
    "2.5e-15",
    "\x00",
    "1\x00",
]


def test_incrbyfloat_inputs(pair: Pair) -> None:
    for increment in INCRBYFLOAT_INPUTS:
        pair.same("DEL", "f")
        pair.same("INCRBYFLOAT", "f", increment)
        pair.same("GET", "f")
    pair.script(
        """
        SET f 0.1
        INCRBYFLOAT f 0.2
        INCRBYFLOAT f -0.3
        SET f 10.5
        INCRBYFLOAT f 0.1
        INCRBYFLOAT f -5.0e3
        SET f inf
        INCRBYFLOAT f 1
        SET f 1e308
        INCRBYFLOAT f 1e308
        SET f abc
        INCRBYFLOAT f 1
        SET t 5 EX 100
        INCRBYFLOAT t 1.5
        TTL t
        INCRBYFLOAT nokey x
        INCRBYFLOAT f
        """
    )


def _random_float_text(rng: random.Random) -> str:
    kind = rng.randrange(8)
    if kind == 0:
        return repr(rng.uniform(-1e6, 1e6))
    if kind == 1:
        return "%.*f" % (rng.randrange(25), rng.uniform(-10, 10))
    if kind == 2:
        return "%de%d" % (rng.randrange(-999, 999), rng.randrange(-4960, 4940))
    if kind == 3:
        return str(rng.randrange(-(2**70), 2**70))
    if kind == 4:
        return "0x%xp%d" % (rng.randrange(1, 2**70), rng.randrange(-16500, 16400))
    if kind == 5:
        return "0.%s" % "".join(rng.choice("0123456789") for _ in range(rng.randrange(1, 60)))
    if kind == 6:
        return rng.choice(["inf", "-inf", "nan", "1e", "0", "-0", ".5", "5.", "+.5e-3", "0x.1"])
    return "%d.%d" % (rng.randrange(10**20), rng.randrange(10**20))


def test_incrbyfloat_random_sums(pair2: Pair) -> None:
    rng = random.Random(20240607)
    for _ in range(400):
        if rng.random() < 0.3:
            pair2.same("DEL", "f")
        else:
            pair2.same("SET", "f", _random_float_text(rng))
        pair2.same("INCRBYFLOAT", "f", _random_float_text(rng))
        pair2.same("GET", "f")


# -- LCS ---------------------------------------------------------------------------------------


def test_lcs(pair: Pair) -> None:
    pair.script(
        """
        MSET a ohmytext b mynewtext
        LCS a b
        LCS a b LEN
        LCS a b IDX
        LCS a b IDX MINMATCHLEN 4
        LCS a b IDX WITHMATCHLEN
        LCS a b IDX WITHMATCHLEN MINMATCHLEN -5
        LCS a b LEN IDX
        LCS a b IDX LEN
        LCS a b LEN WITHMATCHLEN
        LCS a b MINMATCHLEN
        LCS a b MINMATCHLEN x
        LCS a b MINMATCHLEN x LEN IDX
        LCS a b FOO
        LCS a b LEN LEN
        LCS a nokey
        LCS a nokey IDX
        LCS nokey nokey2 IDX WITHMATCHLEN
        LCS b a IDX WITHMATCHLEN
        LCS a
        """
    )


def test_lcs_random_strings(pair: Pair) -> None:
    rng = random.Random(99)
    for _ in range(60):
        alphabet = rng.choice(["ab", "abc", "acgt", "abcdefghij"])
        a = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 60)))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 60)))
        pair.same("MSET", "a", a, "b", b)
        pair.same("LCS", "a", "b")
        pair.same("LCS", "a", "b", "LEN")
        pair.same("LCS", "a", "b", "IDX", "WITHMATCHLEN", "MINMATCHLEN", rng.randrange(4))
        pair.same("LCS", "b", "a", "IDX")


def test_lcs_long_strings(pair2: Pair) -> None:
    rng = random.Random(5)
    a = "".join(rng.choice("acgt") for _ in range(2000))
    b = "".join(rng.choice("acgt") for _ in range(1800))
    pair2.same("MSET", "a", a, "b", b)
    pair2.same("LCS", "a", "b")
    pair2.same("LCS", "a", "b", "IDX", "MINMATCHLEN", 3, "WITHMATCHLEN")


def test_size_limits_follow_proto_max_bulk_len(pair2: Pair) -> None:
    if not supports(pair2, "CONFIG", "GET", "proto-max-bulk-len"):
        pytest.skip("CacheFlow has no CONFIG yet")
    originals = [conn.call("CONFIG", "GET", "proto-max-bulk-len") for conn in (pair2.ours, pair2.theirs)]
    try:
        pair2.same("CONFIG", "SET", "proto-max-bulk-len", "1mb")
        pair2.same("SET", "a", "x" * 1048570)
        pair2.script(
            """
            APPEND a 123456
            APPEND a 1234567
            APPEND a ""
            STRLEN a
            SETRANGE a 1048575 x
            SETRANGE a 1048576 x
            SETRANGE a 1048575 xy
            SETRANGE new 1048576 x
            """
        )
        pair2.same("MSET", "p", "q" * 511, "p2", "q" * 511, "p3", "q" * 600)
        pair2.same("LCS", "p", "p2", "LEN")
        pair2.same("LCS", "p", "p3", "LEN")
    finally:
        for conn, original in zip((pair2.ours, pair2.theirs), originals):
            value = original.split(b"\r\n")[-2]
            conn.call("CONFIG", "SET", "proto-max-bulk-len", value)


# -- effects as other clients see them --------------------------------------------------------

# (setup, command, whether Redis counts it as touching k for WATCH)
WATCH_CASES: list[tuple[list[Command], Command]] = [
    ([("SET", "k", "v")], ("SET", "k", "v")),
    ([("SET", "k", "v")], ("SET", "k", "w", "NX")),
    ([], ("SET", "k", "w", "XX")),
    ([("SET", "k", "v")], ("SETNX", "k", "w")),
    ([], ("SETNX", "k", "w")),
    ([("SET", "k", "v")], ("GETEX", "k")),
    ([("SET", "k", "v")], ("GETEX", "k", "PERSIST")),
    ([("SET", "k", "v", "EX", "100")], ("GETEX", "k", "PERSIST")),
    ([("SET", "k", "v")], ("GETEX", "k", "EX", "100")),
    ([("SET", "k", "v")], ("GETEX", "k", "EXAT", "1")),
    ([("SET", "k", "v")], ("GETDEL", "k")),
    ([], ("GETDEL", "k")),
    ([("SET", "k", "v")], ("GETSET", "k", "w")),
    ([("SET", "k", "v")], ("MSETNX", "x", "1", "k", "2")),
    ([], ("MSETNX", "x", "1", "k", "2")),
    ([], ("MSET", "x", "1", "k", "2")),
    ([("SET", "k", "v")], ("APPEND", "k", "")),
    ([("SET", "k", "v")], ("SETRANGE", "k", "0", "")),
    ([("SET", "k", "v")], ("SETRANGE", "k", "5", "x")),
    ([], ("SETRANGE", "k", "5", "")),
    ([("SET", "k", "5")], ("INCRBY", "k", "0")),
    ([("SET", "k", "5")], ("INCRBYFLOAT", "k", "0")),
    ([("SET", "k", "x")], ("INCR", "k")),
    ([("SET", "k", "v")], ("GET", "k")),
    ([("SET", "k", "v")], ("LCS", "k", "k")),
    ([("SET", "k", "v")], ("SETEX", "k", "100", "w")),
    ([("SET", "k", "v")], ("PSETEX", "k", "0", "w")),
]


@pytest.mark.parametrize(("setup", "command"), WATCH_CASES, ids=lambda c: " ".join(map(str, c)) if c else "-")
def test_which_commands_break_a_watch(
    cacheflow: ServerProcess, real_redis: ServerProcess, setup: list[Command], command: Command
) -> None:
    assert_watch_breaks_alike(cacheflow, real_redis, setup, command)


def test_transactions_with_string_commands(pair: Pair) -> None:
    pair.script(
        """
        MULTI
        SET k 1
        INCR k
        APPEND k 0
        GETRANGE k 0 -1
        INCRBYFLOAT k 0.5
        LCS k k IDX
        MSET a
        EXEC
        MULTI
        GETEX k BAD
        INCRBY k x
        EXEC
        GET k
        """
    )


# -- through a client library ------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")
def test_redis_py_string_api(r: redis.Redis, rr: redis.Redis) -> None:
    def run(c: redis.Redis) -> list[Any]:
        out: list[Any] = [
            c.set("k", "v", ex=100, get=True),
            c.set("k", "w", nx=True),
            c.set("k", "w", xx=True, keepttl=True),
            c.getex("k", persist=True),
            c.ttl("k"),
            c.getex("k", exat=FAR),
            c.expiretime("k"),
            c.getdel("k"),
            c.mset({"a": "1", "b": "2"}),
            c.msetnx({"a": "3", "c": "4"}),
            c.mget(["a", "b", "c"]),
            c.incr("a", 5),
            c.decr("a", 2),
            c.incrbyfloat("a", 0.5),
            c.append("b", "xyz"),
            c.setrange("b", 6, "!"),
            c.getrange("b", 0, -1),
            c.strlen("b"),
            c.set("x", "ohmytext"),
            c.set("y", "mynewtext"),
            c.lcs("x", "y"),
            c.lcs("x", "y", len=True),
            c.lcs("x", "y", idx=True, minmatchlen=2, withmatchlen=True),
            c.setex("e", 100, "v"),
            c.psetex("e", 100000, "v"),
            c.setnx("e", "w"),
            c.getset("e", "z"),
        ]
        return out

    assert run(r) == run(rr)


# -- random sequences ----------------------------------------------------------------------------

KEYS = ["a", "b", "c"]
VALUES = st.sampled_from(["", "0", "1", "-7", "10", "abc", "hello world", "3.5", "9223372036854775807", "x" * 50])
INTS = st.sampled_from(["0", "1", "-1", "2", "-3", "100", "-100", "9223372036854775807", "-9223372036854775808", "x"])
OFFSETS = st.sampled_from(["0", "1", "3", "7", "-1", "x"])
FLOATS = st.sampled_from(["0.1", "-1.5", "1e3", "3", "1e-3", "0x1p4", "inf", "abc", "-0"])
EXPIRY = st.sampled_from(
    [(), ("EX", "100"), ("PX", "200000"), ("EXAT", str(FAR)), ("PXAT", "1000"), ("EX", "0"), ("KEEPTTL",), ("PERSIST",)]
)


def test_random_command_sequences(cacheflow: ServerProcess, real_redis: ServerProcess) -> None:
    """Hypothesis drives both servers through the same string commands and compares every reply."""

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

        @rule(
            key=st.sampled_from(KEYS),
            value=VALUES,
            cond=st.sampled_from([(), ("NX",), ("XX",)]),
            get=st.booleans(),
            exp=EXPIRY,
        )
        def set(self, key: str, value: str, cond: tuple[str, ...], get: bool, exp: tuple[str, ...]) -> None:
            self.pair.same("SET", key, value, *cond, *(("GET",) if get else ()), *exp)

        @rule(key=st.sampled_from(KEYS))
        def read(self, key: str) -> None:
            self.pair.same("GET", key)
            self.pair.same("STRLEN", key)
            self.pair.same("TTL", key)

        @rule(key=st.sampled_from(KEYS), exp=EXPIRY)
        def getex(self, key: str, exp: tuple[str, ...]) -> None:
            self.pair.same("GETEX", key, *exp)

        @rule(key=st.sampled_from(KEYS), value=VALUES)
        def getset_setnx(self, key: str, value: str) -> None:
            self.pair.same("GETSET", key, value)
            self.pair.same("SETNX", key, value)

        @rule(key=st.sampled_from(KEYS))
        def getdel(self, key: str) -> None:
            self.pair.same("GETDEL", key)

        @rule(pairs=st.lists(st.tuples(st.sampled_from(KEYS), VALUES), min_size=1, max_size=3), nx=st.booleans())
        def mset(self, pairs: list[tuple[str, str]], nx: bool) -> None:
            self.pair.same("MSETNX" if nx else "MSET", *[x for p in pairs for x in p])

        @rule(keys=st.lists(st.sampled_from([*KEYS, "nokey"]), min_size=1, max_size=4))
        def mget(self, keys: list[str]) -> None:
            self.pair.same("MGET", *keys)

        @rule(key=st.sampled_from(KEYS), value=VALUES)
        def append(self, key: str, value: str) -> None:
            self.pair.same("APPEND", key, value)

        @rule(key=st.sampled_from(KEYS), offset=OFFSETS, value=VALUES)
        def setrange(self, key: str, offset: str, value: str) -> None:
            self.pair.same("SETRANGE", key, offset, value[:5])

        @rule(key=st.sampled_from(KEYS), start=OFFSETS, end=OFFSETS)
        def getrange(self, key: str, start: str, end: str) -> None:
            self.pair.same("GETRANGE", key, start, end)

        @rule(key=st.sampled_from(KEYS), name=st.sampled_from(["INCRBY", "DECRBY"]), amount=INTS)
        def counter(self, key: str, name: str, amount: str) -> None:
            self.pair.same(name, key, amount)

        @rule(key=st.sampled_from(KEYS), name=st.sampled_from(["INCR", "DECR"]))
        def step(self, key: str, name: str) -> None:
            self.pair.same(name, key)

        @rule(key=st.sampled_from(KEYS), amount=FLOATS)
        def incrbyfloat(self, key: str, amount: str) -> None:
            self.pair.same("INCRBYFLOAT", key, amount)

        @rule(key=st.sampled_from(KEYS), ttl=st.sampled_from(["100", "0", "-1", "x"]), value=VALUES)
        def setex(self, key: str, ttl: str, value: str) -> None:
            self.pair.same("SETEX", key, ttl, value)
            self.pair.same("PSETEX", key, ttl + "000" if ttl.isdigit() else ttl, value)

        @rule(
            a=st.sampled_from(KEYS),
            b=st.sampled_from([*KEYS, "nokey"]),
            opts=st.sampled_from([(), ("LEN",), ("IDX",), ("IDX", "WITHMATCHLEN"), ("IDX", "MINMATCHLEN", "2")]),
        )
        def lcs(self, a: str, b: str, opts: tuple[str, ...]) -> None:
            self.pair.same("LCS", a, b, *opts)

    run_state_machine_as_test(
        Sequences,
        settings=settings(max_examples=40, stateful_step_count=30, deadline=None, database=None),
    )
