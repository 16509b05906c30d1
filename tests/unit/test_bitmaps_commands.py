"""Bitmap commands run through the real engine with no sockets: replies, stored bytes, effects.

Expected replies and error texts were taken from redis-server 7.0.15;
tests/integration/test_bitmaps_vs_redis.py checks the same ground live.
"""

import pytest
from engine_harness import Err, Harness

from cacheflow.store import bits

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "ERR value is not an integer or out of range"
SYNTAX = "ERR syntax error"
OFFSET = "ERR bit offset is not an integer or out of range"
BITFIELD_TYPE = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."


class FakeList:
    """A non-string value, for the WRONGTYPE path."""

    TYPE_NAME = b"list"


@pytest.fixture
def h() -> Harness:
    harness = Harness()
    harness.db.data[b"list"] = FakeList()
    return harness


def argvs(h: Harness) -> list[list[bytes]]:
    return [effect for _, effect in h.effects()]


# -- SETBIT / GETBIT ---------------------------------------------------------------------


def test_setbit_and_getbit(h: Harness) -> None:
    assert h("SETBIT", "k", 7, 1) == 0
    assert h("GET", "k") == b"\x01"
    assert h("SETBIT", "k", 7, 1) == 1
    assert h("SETBIT", "k", 100, 0) == 0
    assert h("STRLEN", "k") == 13
    assert h("GETBIT", "k", 7) == 1
    assert h("GETBIT", "k", 6) == 0
    assert h("GETBIT", "k", 10**9) == 0
    assert h("GETBIT", "nokey", 0) == 0
    assert h("OBJECT", "ENCODING", "k") == b"raw"


def test_setbit_effects_only_when_something_changes(h: Harness) -> None:
    h("SET", "k", b"\x00\x00")
    h.effects()
    h("SETBIT", "k", 0, 0)
    assert argvs(h) == []
    h("SETBIT", "k", 0, 1)
    h("SETBIT", "k", 100, 0)
    assert argvs(h) == [[b"SETBIT", b"k", b"0", b"1"], [b"SETBIT", b"k", b"100", b"0"]]


def test_setbit_errors_come_before_the_lookup(h: Harness) -> None:
    assert h("SETBIT", "list", "x", 1) == Err(OFFSET)
    assert h("SETBIT", "list", 0, 2) == Err("ERR bit is not an integer or out of range")
    assert h("SETBIT", "list", 0, 1) == Err(WRONGTYPE)
    assert h("SETBIT", "k", -1, 1) == Err(OFFSET)
    assert h("SETBIT", "k", 4294967296, 1) == Err(OFFSET)
    assert h("GETBIT", "list", "x") == Err(OFFSET)
    assert h("GETBIT", "list", 0) == Err(WRONGTYPE)


def test_offsets_follow_proto_max_bulk_len(h: Harness) -> None:
    h.config.proto_max_bulk_len = 1000
    assert h("SETBIT", "k", 8000, 1) == Err(OFFSET)
    assert h("SETBIT", "k", 7999, 1) == 0
    assert h("STRLEN", "k") == 1000


# -- BITCOUNT / BITPOS -------------------------------------------------------------------


def test_bitcount(h: Harness) -> None:
    h("SET", "s", "foobar")
    assert h("BITCOUNT", "s") == 26
    assert h("BITCOUNT", "s", 1, 1) == 6
    assert h("BITCOUNT", "s", 5, 30, "BIT") == 17
    assert h("BITCOUNT", "s", -5, -1, "bit") == 2
    assert h("BITCOUNT", "s", 0, -100) == 4
    assert h("BITCOUNT", "s", -1, -2, "foo") == 0
    assert h("BITCOUNT", "s", 0, 1, "foo") == Err(SYNTAX)
    assert h("BITCOUNT", "s", 1) == Err(SYNTAX)
    assert h("BITCOUNT", "s", "a", 1) == Err(NOT_INT)
    assert h("BITCOUNT", "nokey", "a", "b", "c") == 0
    assert h("BITCOUNT", "list") == Err(WRONGTYPE)


def test_bitpos(h: Harness) -> None:
    h("SET", "ones", b"\xff\xff\xff")
    h("SET", "mixed", b"\xff\xf0\x00")
    assert h("BITPOS", "ones", 0) == 24
    assert h("BITPOS", "ones", 0, 0, -1) == -1
    assert h("BITPOS", "ones", 1, 2) == 16
    assert h("BITPOS", "mixed", 0) == 12
    assert h("BITPOS", "mixed", 1, 2) == -1
    assert h("BITPOS", "mixed", 0, 10, 11, "BIT") == -1
    assert h("BITPOS", "mixed", 0, 10, 13, "BIT") == 12
    assert h("BITPOS", "mixed", 1, 5, 3, "BIT") == -1
    assert h("BITPOS", "nokey", 0) == 0
    assert h("BITPOS", "nokey", 1) == -1
    assert h("BITPOS", "nokey", 2) == Err("ERR The bit argument must be 1 or 0.")
    assert h("BITPOS", "mixed", 1, 0, 1, "foo") == Err(SYNTAX)
    assert h("BITPOS", "mixed", 1, 0, "x", "foo") == Err(SYNTAX)
    assert h("BITPOS", "mixed", 1, 0, "x", "BIT") == Err(NOT_INT)
    assert h("BITPOS", "list", 1) == Err(WRONGTYPE)
    h("SET", "empty", "")
    assert h("BITPOS", "empty", 0) == -1


def test_bit_helpers_agree_with_a_bit_by_bit_reading() -> None:
    data = bytes([0b10110000, 0, 0xFF, 0b00000001, 0x80])
    flat = "".join(f"{b:08b}" for b in data)
    for first in range(0, 40, 3):
        for last in range(first, 40, 5):
            assert bits.count_range(data, first, last) == flat[first : last + 1].count("1")
            for bit in (0, 1):
                expected = flat.find(str(bit), first, last + 1)
                assert bits.find_bit(data, bit, first, last) == expected


# -- BITOP -----------------------------------------------------------------------------


def test_bitop(h: Harness) -> None:
    h("SET", "a", b"\xff\x0f")
    h("SET", "b", b"\x0f")
    h.effects()
    assert h("BITOP", "AND", "d", "a", "b") == 2
    assert h("GET", "d") == b"\x0f\x00"
    assert h("BITOP", "or", "d", "a", "b", "nokey") == 2
    assert h("GET", "d") == b"\xff\x0f"
    assert h("BITOP", "XOR", "d", "a", "b") == 2
    assert h("GET", "d") == b"\xf0\x0f"
    assert h("BITOP", "NOT", "d", "b") == 1
    assert h("GET", "d") == b"\xf0"
    assert argvs(h) == [
        [b"BITOP", b"AND", b"d", b"a", b"b"],
        [b"BITOP", b"or", b"d", b"a", b"b", b"nokey"],
        [b"BITOP", b"XOR", b"d", b"a", b"b"],
        [b"BITOP", b"NOT", b"d", b"b"],
    ]
    assert h("BITOP", "AND", "d", "nokey") == 0
    assert h("EXISTS", "d") == 0
    assert argvs(h) == [[b"BITOP", b"AND", b"d", b"nokey"]]
    assert h("BITOP", "AND", "d", "nokey") == 0
    assert argvs(h) == []


def test_bitop_errors(h: Harness) -> None:
    assert h("BITOP", "NOT", "d", "a", "b") == Err("ERR BITOP NOT must be called with a single source key.")
    assert h("BITOP", "NAND", "d", "a") == Err(SYNTAX)
    assert h("BITOP", "AND", "d", "list") == Err(WRONGTYPE)
    assert h("BITOP", "AND", "list", "nokey") == 0
    assert h("EXISTS", "list") == 0


def test_bitop_clears_the_ttl(h: Harness) -> None:
    h("SET", "d", "x", "EX", 100)
    h("SET", "a", "y")
    h("BITOP", "OR", "d", "a")
    assert h("TTL", "d") == -1


# -- BITFIELD ---------------------------------------------------------------------------


def test_bitfield_operations(h: Harness) -> None:
    assert h("BITFIELD", "k", "SET", "i8", 0, 100, "GET", "i8", 0, "INCRBY", "i8", 0, 28, "GET", "u8", 0) == [
        0,
        100,
        -128,
        128,
    ]
    assert h("BITFIELD", "k", "SET", "u8", "#1", 255, "GET", "u16", 0) == [0, 0x80FF]
    assert h("BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u8", 8, 10, "INCRBY", "i8", 8, -1000) == [255, -128]
    assert h("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", 8, 200, "GET", "u8", 8) == [None, 128]
    assert h("BITFIELD", "k", "GET", "i64", 0, "GET", "u63", 1) == [-9187343239835811840, 1 << 55]


def test_bitfield_set_quirks_of_c_arithmetic(h: Harness) -> None:
    # A SET far below an i8's range wraps around in Redis's overflow check: SAT stores the maximum.
    assert h("BITFIELD", "k", "OVERFLOW", "SAT", "SET", "i8", 0, -9223372036854775808, "GET", "i8", 0) == [0, 127]
    assert h("BITFIELD", "k", "OVERFLOW", "SAT", "SET", "i8", 0, -1000, "GET", "i8", 0) == [127, -128]
    assert h("BITFIELD", "k", "OVERFLOW", "SAT", "SET", "u8", 0, -1, "GET", "u8", 0) == [128, 255]
    assert h("BITFIELD", "k", "SET", "u8", 0, -1, "GET", "u8", 0) == [255, 255]


def test_bitfield_effects(h: Harness) -> None:
    h("SET", "k", b"\x00\x00")
    h.effects()
    assert h("BITFIELD", "k", "SET", "u8", 0, 0, "GET", "u8", 0) == [0, 0]
    assert h("BITFIELD", "k", "GET", "u8", 0) == [0]
    assert h("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", 0, 100) == [None]
    assert argvs(h) == []
    assert h("BITFIELD", "k", "INCRBY", "u2", 0, 1) == [1]
    assert argvs(h) == [[b"BITFIELD", b"k", b"INCRBY", b"u2", b"0", b"1"]]
    # Like Redis, a failed write still creates or grows the string, unpropagated.
    assert h("BITFIELD", "new", "OVERFLOW", "FAIL", "INCRBY", "u2", 0, 100) == [None]
    assert h("STRLEN", "new") == 1
    assert argvs(h) == []


def test_bitfield_errors(h: Harness) -> None:
    assert h("BITFIELD", "k", "GET", "u64", 0) == Err(BITFIELD_TYPE)
    assert h("BITFIELD", "k", "GET", "i65", 0) == Err(BITFIELD_TYPE)
    assert h("BITFIELD", "k", "GET", "x8", 0) == Err(BITFIELD_TYPE)
    assert h("BITFIELD", "k", "GET", "u8", -1) == Err(OFFSET)
    assert h("BITFIELD", "k", "GET", "u8", "#-1") == Err(OFFSET)
    assert h("BITFIELD", "k", "GET", "u8") == Err(SYNTAX)
    assert h("BITFIELD", "k", "OVERFLOW", "BAD") == Err("ERR Invalid OVERFLOW type specified")
    assert h("BITFIELD", "k", "SET", "u8", 0, "x") == Err(NOT_INT)
    assert h("BITFIELD", "list", "GET", "u8", 0) == Err(WRONGTYPE)
    assert h("BITFIELD", "list", "SET", "u8", 0, 1) == Err(WRONGTYPE)
    assert h("EXISTS", "k") == 0


def test_bitfield_ro(h: Harness) -> None:
    h("SET", "k", "abc")
    assert h("BITFIELD_RO", "k", "GET", "u8", 0, "GET", "i4", "#1") == [97, 1]
    ro_error = Err("ERR BITFIELD_RO only supports the GET subcommand")
    assert h("BITFIELD_RO", "k", "SET", "u8", 0, 1) == ro_error
    assert h("BITFIELD_RO", "nokey", "INCRBY", "u8", 0, 1) == ro_error
    assert h("BITFIELD_RO", "k", "SET", "u99", 0, 1) == Err(BITFIELD_TYPE)
    assert h("BITFIELD_RO", "k") == []
    assert h("EXISTS", "nokey") == 0


def test_bitfield_null_in_resp3(h: Harness) -> None:
    ctx = h.client(proto=3)
    assert h.raw(ctx, "BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u1", 0, 5) == b"*1\r\n_\r\n"
