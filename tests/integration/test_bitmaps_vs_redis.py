"""Bitmap commands, differentially: the same sequences on CacheFlow and on redis-server.

Replies are compared as raw bytes in RESP2 and RESP3 (BITFIELD's null for
OVERFLOW FAIL differs between them), error texts included; after writes the
whole value is compared with GET, so the bytes a command leaves behind are
checked, not only its reply.
"""

import random

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test
from pair import Command, Pair, assert_watch_breaks_alike, open_pair
from servers import ServerProcess
from wire import Arg


def supports(pair: Pair, *command: Arg) -> bool:
    return not pair.ours.call(*command).startswith(b"-ERR unknown command")


def make_list(pair: Pair, key: str) -> None:
    """A key of another type, for WRONGTYPE checks (skipped until lists exist)."""
    if not supports(pair, "LPUSH", key, "x"):
        pytest.skip("CacheFlow has no lists yet")
    pair.theirs.call("LPUSH", key, "x")


# -- SETBIT / GETBIT ----------------------------------------------------------------------


def test_setbit_getbit(pair: Pair) -> None:
    pair.script(
        """
        SETBIT k 7 1
        GET k
        SETBIT k 7 1
        SETBIT k 7 0
        GETBIT k 7
        GETBIT k 6
        GETBIT k 100000
        GETBIT nokey 0
        SETBIT k 100 1
        STRLEN k
        GET k
        SETBIT k 0 2
        SETBIT k 0 -1
        SETBIT k 0 x
        SETBIT k 0 01
        SETBIT k -1 1
        SETBIT k x 1
        SETBIT k 1.5 1
        SETBIT k +1 1
        SETBIT k 4294967296 1
        SETBIT k 9223372036854775807 1
        SETBIT k 9223372036854775808 1
        GETBIT k 4294967295
        GETBIT k 4294967296
        GETBIT k -1
        GETBIT k x
        SETBIT k 1 1 1
        GETBIT k
        OBJECT ENCODING k
        SET s 1
        SETBIT s 6 0
        GET s
        SET n 12345
        GETBIT n 2
        GETBIT n 3
        SETBIT n 0 1
        GET n
        """
    )
    pair.same("SETBIT", "bin", 1000, 1)
    pair.same("GET", "bin")


def test_setbit_keeps_the_ttl_and_wrong_type(pair: Pair) -> None:
    pair.script(
        """
        SET k abc EX 100
        SETBIT k 3 1
        TTL k
        GET k
        """
    )
    make_list(pair, "l")
    pair.script(
        """
        SETBIT l 0 1
        SETBIT l x 1
        SETBIT l 0 5
        GETBIT l 0
        GETBIT l x
        """
    )


# -- BITCOUNT -----------------------------------------------------------------------------------


def test_bitcount(pair: Pair) -> None:
    pair.same("SET", "s", "foobar")
    pair.same("SET", "e", "")
    pair.same("SET", "bin", bytes(range(256)) * 3)
    for key in ("s", "e", "bin", "nokey"):
        for args in [
            (),
            ("0", "0"),
            ("1", "1"),
            ("0", "-1"),
            ("-2", "-1"),
            ("-1", "-2"),
            ("0", "-100"),
            ("-100", "-100"),
            ("-100", "100"),
            ("2", "1"),
            ("100", "200"),
            ("5", "30", "BIT"),
            ("-5", "-1", "bit"),
            ("0", "0", "BYTE"),
            ("0", "0", "ByTe"),
            ("7", "7", "BIT"),
            ("3", "60", "BIT"),
            ("1", "17", "BIT"),
            ("9", "9", "BIT"),
            ("-1", "-2", "BIT"),
            ("0", "9223372036854775807", "BIT"),
            ("-9223372036854775808", "-1", "BIT"),
            ("-9223372036854775808", "9223372036854775807"),
            ("1",),
            ("a", "b"),
            ("0", "a"),
            ("0", "1", "foo"),
            ("-1", "-2", "foo"),
            ("0", "1", "BIT", "extra"),
            ("1", "2", "bit\x00x"),
        ]:
            pair.same("BITCOUNT", key, *args)


def test_bitcount_every_bit_range(pair2: Pair) -> None:
    rng = random.Random(7)
    pair2.same("SET", "r", bytes(rng.randrange(256) for _ in range(9)))
    for start in range(-75, 75, 7):
        for end in range(-75, 75, 5):
            pair2.same("BITCOUNT", "r", start, end, "BIT")
            pair2.same("BITPOS", "r", 0, start, end, "BIT")
            pair2.same("BITPOS", "r", 1, start, end, "BIT")


def test_bitcount_wrong_type(pair: Pair) -> None:
    make_list(pair, "l")
    pair.script(
        """
        BITCOUNT l
        BITCOUNT l 0 1
        BITCOUNT l 1
        BITCOUNT l 0 1 foo
        """
    )


# -- BITPOS -------------------------------------------------------------------------------------


def test_bitpos(pair: Pair) -> None:
    pair.same("SET", "ones", b"\xff\xff\xff")
    pair.same("SET", "zeros", b"\x00\x00\x00")
    pair.same("SET", "mixed", b"\xff\xf0\x00\x0f")
    pair.same("SET", "empty", "")
    for key in ("ones", "zeros", "mixed", "empty", "nokey"):
        for bit in ("0", "1"):
            for args in [
                (),
                ("0",),
                ("1",),
                ("2",),
                ("-1",),
                ("-100",),
                ("100",),
                ("0", "-1"),
                ("0", "0"),
                ("1", "2"),
                ("2", "1"),
                ("-2", "-1"),
                ("0", "100"),
                ("-100", "-1"),
                ("3", "3"),
                ("0", "-1", "BYTE"),
                ("0", "-1", "BIT"),
                ("5", "17", "BIT"),
                ("7", "7", "bit"),
                ("8", "12", "BIT"),
                ("12", "8", "BIT"),
                ("-5", "-1", "BIT"),
                ("4", "31", "BIT"),
                ("1", "1", "BIT"),
                ("0", "9223372036854775807", "BIT"),
                ("a",),
                ("0", "a"),
                ("a", "1", "BIT"),
                ("0", "a", "BIT"),
                ("0", "a", "foo"),
                ("0", "1", "foo"),
                ("0", "1", "BIT", "extra"),
            ]:
                pair.same("BITPOS", key, bit, *args)
    pair.script(
        """
        BITPOS nokey 2
        BITPOS nokey x
        BITPOS nokey -1
        BITPOS nokey 0 a
        BITPOS nokey 0 1 2 foo
        BITPOS ones 2
        BITPOS ones 1 0 1 2 3
        """
    )


def test_bitpos_wrong_type(pair: Pair) -> None:
    make_list(pair, "l")
    pair.script(
        """
        BITPOS l 1
        BITPOS l 2
        BITPOS l x
        BITPOS l 1 0 1 foo
        """
    )


def test_bitpos_and_bitcount_on_long_strings(pair2: Pair) -> None:
    """Runs longer than a machine word and than the search chunks, found in the middle or not at all."""
    body = b"\x00" * 70000 + b"\x04" + b"\x00" * 100
    pair2.same("SET", "z", body)
    pair2.same("SET", "o", bytes(255 - b for b in body))
    for key in ("z", "o"):
        for args in [(), (3,), (3, 69999), (3, 70000), (70001,), (-101,), (10, -1, "BIT"), (0, 560005, "BIT")]:
            pair2.same("BITPOS", key, 0, *args)
            pair2.same("BITPOS", key, 1, *args)
        pair2.same("BITCOUNT", key)
        pair2.same("BITCOUNT", key, 5, 560010, "BIT")
    pair2.same("SETBIT", "big", 2_000_000, 1)
    pair2.same("BITCOUNT", "big")
    pair2.same("BITPOS", "big", 1)
    pair2.same("BITPOS", "big", 0, 1000)


# -- BITOP ----------------------------------------------------------------------------------------


def test_bitop(pair: Pair) -> None:
    pair.same("SET", "a", b"\xff\x0f\xaa")
    pair.same("SET", "b", b"\x0f\xf0")
    pair.same("SET", "c", b"\x01")
    pair.same("SET", "e", "")
    for op in ("AND", "OR", "XOR", "and", "Or", "xOr"):
        for sources in (["a"], ["a", "b"], ["a", "b", "c"], ["a", "nokey"], ["nokey"], ["e"], ["a", "a"], ["e", "b"]):
            pair.same("BITOP", op, "dest", *sources)
            pair.same("GET", "dest")
            pair.same("EXISTS", "dest")
    for source in ("a", "b", "e", "nokey"):
        pair.same("BITOP", "NOT", "dest", source)
        pair.same("GET", "dest")
    pair.script(
        """
        BITOP NOT dest a b
        BITOP NOT dest
        BITOP NAND dest a
        BITOP AN dest a
        BITOP dest a
        SET dest x EX 100
        BITOP AND dest a b
        TTL dest
        OBJECT ENCODING dest
        SET dest x
        BITOP OR dest nokey
        EXISTS dest
        BITOP AND a a b
        GET a
        """
    )


def test_bitop_wrong_types(pair: Pair) -> None:
    make_list(pair, "l")
    pair.script(
        """
        SET a x
        BITOP AND dest a l
        BITOP NOT dest l
        BITOP OR l a
        TYPE l
        GET l
        BITOP FOO dest l
        """
    )


def test_bitop_long_values(pair2: Pair) -> None:
    rng = random.Random(3)
    for key, size in (("x", 3_000_000), ("y", 1_500_000), ("z", 17)):
        pair2.same("SET", key, rng.randbytes(size))
    for op in ("AND", "OR", "XOR"):
        pair2.same("BITOP", op, "d", "x", "y", "z")
        pair2.same("GET", "d")
    pair2.same("BITOP", "NOT", "d", "y")
    pair2.same("GET", "d")


# -- BITFIELD -------------------------------------------------------------------------------------


def test_bitfield_get_set_incrby(pair: Pair) -> None:
    pair.script(
        """
        BITFIELD k SET i8 0 100 GET i8 0 INCRBY i8 0 27 INCRBY i8 0 1 GET u8 0
        GET k
        BITFIELD k SET u4 3 15 GET u4 3 GET i4 3 GET u1 6 GET i1 6 GET u16 0 GET i64 0 GET u63 1
        GET k
        BITFIELD k SET i64 0 -9223372036854775808 GET i64 0 INCRBY i64 0 -1 INCRBY i64 0 1
        BITFIELD k SET u63 0 9223372036854775807 GET u63 0 INCRBY u63 0 1
        BITFIELD k SET u8 #2 200 GET u8 16 GET u8 #2 SET i5 #3 -3 GET i5 15 GET u5 #3
        GET k
        BITFIELD k GET u8 100000 GET i32 1000
        BITFIELD nokey GET u8 0 GET i8 7
        EXISTS nokey
        BITFIELD nokey
        BITFIELD k
        BITFIELD k set u8 0 1 gEt U8 0
        BITFIELD k set u8 0 1 get u8 0
        BITFIELD k SET u2 0 5 SET i2 0 5 SET i2 0 -5 SET u2 0 -1
        BITFIELD k INCRBY u2 100 1 INCRBY u2 100 1 INCRBY u2 100 1 INCRBY u2 100 1
        GET k
        """
    )


def test_bitfield_overflow(pair: Pair) -> None:
    for kind in ("u8", "i8", "u1", "i1", "u63", "i64", "u7", "i13"):
        for mode in ("WRAP", "SAT", "FAIL", "wrap", "sat", "fail"):
            for op in (("INCRBY", "100"), ("INCRBY", "-100"), ("SET", "300"), ("SET", "-300"), ("INCRBY", "1")):
                pair.same("BITFIELD", "k", "OVERFLOW", mode, op[0], kind, "5", op[1], "GET", kind, "5")
            for amount in ("9223372036854775807", "-9223372036854775808"):
                pair.same("BITFIELD", "k", "OVERFLOW", mode, "INCRBY", kind, "5", amount, "INCRBY", kind, "5", amount)
                pair.same("BITFIELD", "k", "OVERFLOW", mode, "SET", kind, "5", amount)
            pair.same("GET", "k")
    pair.script(
        """
        BITFIELD k OVERFLOW SAT OVERFLOW WRAP INCRBY u8 0 300 OVERFLOW FAIL INCRBY u8 0 300 GET u8 0
        BITFIELD k OVERFLOW BAD INCRBY u8 0 1
        BITFIELD k OVERFLOW
        BITFIELD new OVERFLOW FAIL INCRBY u2 0 100
        EXISTS new
        STRLEN new
        BITFIELD k OVERFLOW FAIL INCRBY u2 1000 100
        STRLEN k
        """
    )


def test_bitfield_errors(pair: Pair) -> None:
    pair.script(
        """
        BITFIELD k GET
        BITFIELD k GET u8
        BITFIELD k SET u8 0
        BITFIELD k INCRBY u8 0
        BITFIELD k FOO u8 0
        BITFIELD k GET u64 0
        BITFIELD k GET i65 0
        BITFIELD k GET i0 0
        BITFIELD k GET u0 0
        BITFIELD k GET x8 0
        BITFIELD k GET I8 0
        BITFIELD k GET i 0
        BITFIELD k GET i08 0
        BITFIELD k GET i-8 0
        BITFIELD k GET u8 -1
        BITFIELD k GET u8 x
        BITFIELD k GET u8 #x
        BITFIELD k GET u8 #-1
        BITFIELD k GET u8 ##1
        BITFIELD k GET u8 4294967296
        BITFIELD k GET u8 4294967295
        BITFIELD k GET u8 #536870912
        BITFIELD k GET u8 #536870911
        BITFIELD k GET i64 #9223372036854775807
        BITFIELD k SET u8 0 x
        BITFIELD k SET u8 0 1.5
        BITFIELD k INCRBY u8 0 9223372036854775808
        BITFIELD k GET u8 0 SET u99 0 1
        BITFIELD k SET u8 0 1 GET
        EXISTS k
        """
    )
    pair.same("BITFIELD", "k", "GET", b"i8\x00junk", 0)
    pair.same("BITFIELD", "k", b"get\x00junk", "u8", 0)


def test_bitfield_ro(pair: Pair) -> None:
    pair.script(
        """
        SET k abcdef
        BITFIELD_RO k GET u8 0 GET i16 #1 GET u4 44
        BITFIELD_RO k GET u8 0 OVERFLOW SAT
        BITFIELD_RO k GET u8 0 SET u8 0 1
        BITFIELD_RO k INCRBY u8 0 1
        BITFIELD_RO k SET u99 0 1
        BITFIELD_RO k SET u8 0 x
        BITFIELD_RO nokey SET u8 0 1
        EXISTS nokey
        BITFIELD_RO nokey GET i8 0
        BITFIELD_RO k
        BITFIELD_RO k OVERFLOW FOO
        GET k
        """
    )


def test_bitfield_wrong_type(pair: Pair) -> None:
    make_list(pair, "l")
    pair.script(
        """
        BITFIELD l GET u8 0
        BITFIELD l SET u8 0 1
        BITFIELD l
        BITFIELD l GET u99 0
        BITFIELD_RO l GET u8 0
        BITFIELD_RO l SET u8 0 1
        """
    )


def test_bitfield_random_fields(pair2: Pair) -> None:
    rng = random.Random(11)
    pair2.same("SET", "k", rng.randbytes(24))
    for _ in range(300):
        signed = rng.random() < 0.5
        width = rng.randint(1, 64 if signed else 63)
        kind = ("i" if signed else "u") + str(width)
        offset = rng.randint(0, 200)
        mode = rng.choice(["WRAP", "SAT", "FAIL"])
        value = str(rng.randint(-(2**63), 2**63 - 1) if rng.random() < 0.3 else rng.randint(-300, 300))
        op = rng.choice(["SET", "INCRBY", "GET"])
        args = (op, kind, offset) if op == "GET" else (op, kind, offset, value)
        pair2.same("BITFIELD", "k", "OVERFLOW", mode, *args, "GET", kind, offset)
    pair2.same("GET", "k")


# -- effects as other clients see them ----------------------------------------------------------

WATCH_CASES: list[tuple[list[Command], Command]] = [
    ([("SET", "k", "\x00\x00")], ("SETBIT", "k", "0", "0")),
    ([("SET", "k", "\x00\x00")], ("SETBIT", "k", "0", "1")),
    ([("SET", "k", "\x00\x00")], ("SETBIT", "k", "100", "0")),
    ([], ("SETBIT", "k", "0", "0")),
    ([("SET", "k", "\x00\x00")], ("BITFIELD", "k", "SET", "u8", "0", "0")),
    ([("SET", "k", "\x00\x00")], ("BITFIELD", "k", "SET", "u8", "0", "1")),
    ([("SET", "k", "\x00\x00")], ("BITFIELD", "k", "INCRBY", "u8", "0", "0")),
    ([("SET", "k", "\x00\x00")], ("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "100")),
    ([("SET", "k", "\x00\x00")], ("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "100", "100")),
    ([("SET", "k", "\x00\x00")], ("BITFIELD", "k", "SET", "u2", "100", "0")),
    ([("SET", "k", "\x00\x00")], ("BITFIELD", "k", "GET", "u2", "0")),
    ([], ("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "100")),
    ([], ("BITOP", "AND", "k", "x")),
    ([("SET", "k", "v")], ("BITOP", "AND", "k", "x")),
    ([("SET", "x", "a")], ("BITOP", "AND", "d", "k")),
    ([("SET", "x", "a"), ("SET", "k", "b")], ("BITOP", "AND", "d", "k", "x")),
    ([("SET", "x", "a")], ("BITOP", "AND", "k", "x")),
    ([("SET", "k", "a")], ("BITCOUNT", "k")),
    ([("SET", "k", "a")], ("BITFIELD_RO", "k", "GET", "u8", "0")),
]


@pytest.mark.parametrize(("setup", "command"), WATCH_CASES, ids=lambda c: " ".join(map(str, c)) if c else "-")
def test_which_commands_break_a_watch(
    cacheflow: ServerProcess, real_redis: ServerProcess, setup: list[Command], command: Command
) -> None:
    assert_watch_breaks_alike(cacheflow, real_redis, setup, command)


def test_transactions_with_bitmap_commands(pair: Pair) -> None:
    pair.script(
        """
        MULTI
        SETBIT k 5 1
        BITFIELD k INCRBY u8 8 300 GET u16 0
        BITCOUNT k
        BITPOS k 1
        BITOP NOT k2 k
        GET k2
        BITFIELD k GET u99 0
        EXEC
        MULTI
        SETBIT k x 1
        BITPOS k 2
        EXEC
        """
    )


# -- random sequences ------------------------------------------------------------------------------

KEYS = ["a", "b", "c"]
OFFSETS = st.sampled_from(["0", "1", "7", "8", "13", "31", "64", "200", "-1", "x"])
INDEXES = st.sampled_from(["0", "1", "2", "-1", "-2", "5", "-9", "30", "x"])
VALUES = st.sampled_from(["", "a", "\x00\xff", "foobar", "\xff\xff\xff\xf0", "x" * 20])
TYPES = st.sampled_from(["u1", "i1", "u3", "i5", "u8", "i8", "i16", "u31", "i64", "u63", "u64"])
AMOUNTS = st.sampled_from(["0", "1", "-1", "100", "-100", "9223372036854775807", "-9223372036854775808"])


def test_random_command_sequences(cacheflow: ServerProcess, real_redis: ServerProcess) -> None:
    """Hypothesis drives both servers through the same bitmap commands and compares every reply and value."""

    class Sequences(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.pair = open_pair(cacheflow, real_redis, 2)
            self.lists = supports(self.pair, "LPUSH", "probe", "x")
            self.pair.ours.call("DEL", "probe")

        def teardown(self) -> None:
            self.pair.ours.close()
            self.pair.theirs.close()

        @initialize()
        def start_empty(self) -> None:
            self.pair.same("FLUSHALL")

        @rule(key=st.sampled_from(KEYS), value=VALUES)
        def set(self, key: str, value: str) -> None:
            self.pair.same("SET", key, value)

        @rule(key=st.sampled_from(KEYS))
        def make_list(self, key: str) -> None:
            if self.lists:
                self.pair.same("DEL", key)
                self.pair.same("LPUSH", key, "x")

        @rule(key=st.sampled_from(KEYS))
        def read(self, key: str) -> None:
            self.pair.same("GET", key)
            self.pair.same("BITCOUNT", key)

        @rule(key=st.sampled_from(KEYS), offset=OFFSETS, bit=st.sampled_from(["0", "1", "2"]))
        def setbit(self, key: str, offset: str, bit: str) -> None:
            self.pair.same("SETBIT", key, offset, bit)

        @rule(key=st.sampled_from(KEYS), offset=OFFSETS)
        def getbit(self, key: str, offset: str) -> None:
            self.pair.same("GETBIT", key, offset)

        @rule(
            key=st.sampled_from(KEYS),
            rng=st.lists(INDEXES, max_size=2),
            unit=st.sampled_from([(), ("BIT",), ("BYTE",), ("bad",)]),
        )
        def bitcount(self, key: str, rng: list[str], unit: tuple[str, ...]) -> None:
            self.pair.same("BITCOUNT", key, *rng, *(unit if len(rng) == 2 else ()))

        @rule(
            key=st.sampled_from(KEYS),
            bit=st.sampled_from(["0", "1"]),
            rng=st.lists(INDEXES, max_size=2),
            unit=st.sampled_from([(), ("BIT",), ("BYTE",)]),
        )
        def bitpos(self, key: str, bit: str, rng: list[str], unit: tuple[str, ...]) -> None:
            self.pair.same("BITPOS", key, bit, *rng, *(unit if len(rng) == 2 else ()))

        @rule(
            op=st.sampled_from(["AND", "OR", "XOR", "NOT"]),
            dest=st.sampled_from(KEYS),
            sources=st.lists(st.sampled_from([*KEYS, "nokey"]), min_size=1, max_size=3),
        )
        def bitop(self, op: str, dest: str, sources: list[str]) -> None:
            self.pair.same("BITOP", op, dest, *sources)
            self.pair.same("GET", dest)

        @rule(
            key=st.sampled_from(KEYS),
            ops=st.lists(
                st.tuples(
                    st.sampled_from(["GET", "SET", "INCRBY", "OVERFLOW"]),
                    TYPES,
                    OFFSETS,
                    AMOUNTS,
                    st.sampled_from(["WRAP", "SAT", "FAIL"]),
                ),
                max_size=3,
            ),
            read_only=st.booleans(),
        )
        def bitfield(self, key: str, ops: list[tuple[str, str, str, str, str]], read_only: bool) -> None:
            args: list[str] = []
            for name, kind, offset, amount, mode in ops:
                if name == "OVERFLOW":
                    args += [name, mode]
                elif name == "GET":
                    args += [name, kind, offset]
                else:
                    args += [name, kind, offset, amount]
            self.pair.same("BITFIELD_RO" if read_only else "BITFIELD", key, *args)
            self.pair.same("GET", key)

    run_state_machine_as_test(
        Sequences,
        settings=settings(max_examples=40, stateful_step_count=30, deadline=None, database=None),
    )
