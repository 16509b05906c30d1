"""The string command family, run through the engine with no sockets.

Time is a ManualClock, so TTL behaviour is checked by moving the clock, never
by sleeping.  Expected replies and error texts were taken from Redis 7.0.15;
the differential tests in tests/integration check the same ground live.
"""

import random
from typing import Any, cast

import pytest
from engine_harness import NOW
from engine_harness import Err as Error
from engine_harness import Harness as EngineHarness
from hypothesis import given, settings
from hypothesis import strategies as st

from cacheflow.commands import TABLE
from cacheflow.commands.context import Context, ServerServices
from cacheflow.commands.errors import parse_int
from cacheflow.commands.strings import format_long_double, long_double_add, parse_long_double
from cacheflow.commands.table import Flag
from cacheflow.resp.errors import CommandError
from cacheflow.store.clock import ManualClock

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
SYNTAX = "ERR syntax error"


class FakeServer:
    """The server side of a Context: string commands must never reach it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a string command called server.{name}")


class FakeList:
    """A non-string value, enough for WRONGTYPE paths until real types exist."""

    TYPE_NAME = b"list"


class Harness(EngineHarness):
    """The shared engine harness, whose session's server must never be reached, with a protocol per call."""

    def __init__(self, clock: ManualClock | None = None) -> None:
        super().__init__(clock=clock)
        self.ctx = self.session()

    def session(self) -> Context:
        return self.client(server=cast(ServerServices, FakeServer()))

    def __call__(self, *args: bytes | str | int, ctx: Context | None = None, proto: int = 2) -> Any:
        self.ctx.proto = proto
        return super().__call__(*args, ctx=ctx)

    def take_effects(self) -> list[list[bytes]]:
        """The effects published since the last call, without their database index."""
        return [effect for _, effect in self.effects()]


@pytest.fixture
def h() -> Harness:
    return Harness()


def put_list(h: Harness, key: bytes) -> None:
    h.db.data[key] = FakeList()


# -- declarations ----------------------------------------------------------------

W, R, D, F = Flag.WRITE, Flag.READONLY, Flag.DENYOOM, Flag.FAST
# name: (arity, flags, (first, last, step)) as COMMAND INFO reports them in Redis 7.0.15.
DECLARATIONS = {
    "get": (2, R | F, (1, 1, 1)),
    "set": (-3, W | D, (1, 1, 1)),
    "setnx": (3, W | D | F, (1, 1, 1)),
    "setex": (4, W | D, (1, 1, 1)),
    "psetex": (4, W | D, (1, 1, 1)),
    "getset": (3, W | D | F, (1, 1, 1)),
    "getdel": (2, W | F, (1, 1, 1)),
    "getex": (-2, W | F, (1, 1, 1)),
    "mget": (-2, R | F, (1, -1, 1)),
    "mset": (-3, W | D, (1, -1, 2)),
    "msetnx": (-3, W | D, (1, -1, 2)),
    "append": (3, W | D | F, (1, 1, 1)),
    "setrange": (4, W | D, (1, 1, 1)),
    "strlen": (2, R | F, (1, 1, 1)),
    "getrange": (4, R, (1, 1, 1)),
    "substr": (4, R, (1, 1, 1)),
    "incr": (2, W | D | F, (1, 1, 1)),
    "decr": (2, W | D | F, (1, 1, 1)),
    "incrby": (3, W | D | F, (1, 1, 1)),
    "decrby": (3, W | D | F, (1, 1, 1)),
    "incrbyfloat": (3, W | D | F, (1, 1, 1)),
    "lcs": (-3, R, (1, 2, 1)),
}


@pytest.mark.parametrize("name", sorted(DECLARATIONS))
def test_declaration_matches_redis(name: str) -> None:
    arity, flags, keys = DECLARATIONS[name]
    cmd = TABLE.get(name)
    assert cmd is not None
    assert (cmd.arity, cmd.flags, (cmd.first_key, cmd.last_key, cmd.step)) == (arity, flags, keys)
    assert cmd.group == "string"
    assert cmd.categories == ("string",)
    assert cmd.summary and cmd.syntax and cmd.since and cmd.complexity
    expected = ["write" if flags & W else "read", "string", "fast" if flags & F else "slow"]
    assert sorted(cmd.acl_categories()) == sorted(expected)


# -- GET and SET -------------------------------------------------------------------


def test_set_and_get_round_trip_binary_values(h: Harness) -> None:
    assert h("SET", b"k\x00", b"\x00\xff\r\n") == b"OK"
    assert h("GET", b"k\x00") == b"\x00\xff\r\n"
    assert h("GET", "missing") is None
    assert h("SET", "e", "") == b"OK"
    assert h("GET", "e") == b""
    assert h.take_effects() == [[b"SET", b"k\x00", b"\x00\xff\r\n"], [b"SET", b"e", b""]]


def test_missing_key_is_resp3_null(h: Harness) -> None:
    assert h.raw(h.ctx, "GET", "missing") == b"$-1\r\n"
    h.ctx.proto = 3
    for cmd in (("GET", "m"), ("GETDEL", "m"), ("GETEX", "m"), ("GETSET", "m", "v"), ("SET", "x", "v", "NX", "GET")):
        assert h.raw(h.ctx, *cmd) == b"_\r\n", cmd
    assert h.raw(h.ctx, "SET", "x", "w", "NX") == b"_\r\n"
    assert h.raw(h.ctx, "MGET", "nope", "x") == b"*2\r\n_\r\n$1\r\nv\r\n"


def test_set_expiry_options_become_absolute_pxat(h: Harness) -> None:
    assert h("SET", "a", "1", "EX", 10) == b"OK"
    assert h("SET", "b", "1", "px", 1500) == b"OK"
    assert h("SET", "c", "1", "EXAT", 1_800_000_000) == b"OK"
    assert h("SET", "d", "1", "PXAT", NOW + 7) == b"OK"
    assert h.db.expires == {
        b"a": NOW + 10_000,
        b"b": NOW + 1500,
        b"c": 1_800_000_000_000,
        b"d": NOW + 7,
    }
    assert h.take_effects() == [
        [b"SET", b"a", b"1", b"PXAT", b"%d" % (NOW + 10_000)],
        [b"SET", b"b", b"1", b"PXAT", b"%d" % (NOW + 1500)],
        [b"SET", b"c", b"1", b"PXAT", b"1800000000000"],
        [b"SET", b"d", b"1", b"PXAT", b"%d" % (NOW + 7)],
    ]
    h.clock.advance(1500)
    assert h("GET", "b") is None
    assert h("GET", "a") == b"1"


def test_set_repeated_expiry_keeps_the_last_like_redis(h: Harness) -> None:
    assert h("SET", "k", "v", "EX", 10, "EX", 20) == b"OK"
    assert h.db.expires[b"k"] == NOW + 20_000
    assert h("SET", "k", "v", "NX", "NX") is None
    assert h("SET", "k", "v", "XX", "XX", "GET", "GET") == b"v"


@pytest.mark.parametrize(
    "options",
    [
        ("NX", "XX"),
        ("XX", "NX"),
        ("EX", "10", "PX", "20"),
        ("KEEPTTL", "EX", "10"),
        ("EX", "10", "KEEPTTL"),
        ("EX",),
        ("PERSIST",),
        ("GETT",),
        ("NX", "XX", "EX", "abc"),
        ("EX", "abc", "NX", "XX"),
    ],
)
def test_set_syntax_errors_change_nothing(h: Harness, options: tuple[str, ...]) -> None:
    h("SET", "k", "old")
    h.take_effects()
    assert h("SET", "k", "new", *options) == Error(SYNTAX)
    assert h("GET", "k") == b"old"
    assert h.take_effects() == []


@pytest.mark.parametrize(
    ("option", "value", "error"),
    [
        ("EX", "0", "ERR invalid expire time in 'set' command"),
        ("EX", "-1", "ERR invalid expire time in 'set' command"),
        ("PX", "0", "ERR invalid expire time in 'set' command"),
        ("EX", "9223372036854775", "ERR invalid expire time in 'set' command"),
        ("EX", "9223372036854775807", "ERR invalid expire time in 'set' command"),
        ("PX", "9223372036854775807", "ERR invalid expire time in 'set' command"),
        ("EX", "abc", NOT_INT),
        ("EX", "1.5", NOT_INT),
        ("PXAT", "9223372036854775808", NOT_INT),
    ],
)
def test_set_bad_expire_values(h: Harness, option: str, value: str, error: str) -> None:
    assert h("SET", "k", "v", option, value) == Error(error)
    assert h("GET", "k") is None


def test_set_extreme_absolute_expiries_are_accepted(h: Harness) -> None:
    assert h("SET", "k", "v", "PXAT", "9223372036854775807") == b"OK"
    assert h("SET", "j", "v", "EXAT", "9223372036854775") == b"OK"
    assert h.db.expires[b"j"] == 9223372036854775000


def test_set_with_past_absolute_expiry_is_gone_at_once(h: Harness) -> None:
    assert h("SET", "k", "v", "EXAT", 1) == b"OK"
    assert h("GET", "k") is None
    effects = h.take_effects()
    assert effects[0] == [b"SET", b"k", b"v", b"PXAT", b"1000"]


def test_set_nx_xx_get_combinations(h: Harness) -> None:
    assert h("SET", "k", "v1", "XX") is None
    assert h("SET", "k", "v1", "XX", "GET") is None
    assert h("SET", "k", "v1", "NX", "GET") is None
    assert h("GET", "k") == b"v1"
    assert h("SET", "k", "v2", "NX", "GET") == b"v1"
    assert h("SET", "k", "v3", "XX", "GET") == b"v1"
    assert h("SET", "k", "v4", "GET") == b"v3"
    assert h("GET", "k") == b"v4"


def test_set_keepttl_and_plain_set_clears_ttl(h: Harness) -> None:
    h("SET", "k", "v", "PX", 5000)
    assert h("SET", "k", "w", "KEEPTTL") == b"OK"
    assert h.db.expires[b"k"] == NOW + 5000
    assert h.take_effects()[-1] == [b"SET", b"k", b"w", b"KEEPTTL"]
    assert h("SET", "k", "x") == b"OK"
    assert b"k" not in h.db.expires


def test_set_wrong_type(h: Harness) -> None:
    put_list(h, b"l")
    assert h("SET", "l", "v", "GET") == Error(WRONGTYPE)
    assert h("SET", "l", "v", "GET", "EX", "-5") == Error("ERR invalid expire time in 'set' command")
    assert h("SET", "l", "v", "NX") is None
    assert h("SET", "l", "v", "XX", "GET") == Error(WRONGTYPE)
    assert isinstance(h.db.data[b"l"], FakeList)
    assert h("SET", "l", "v") == b"OK"  # a plain SET overwrites any type
    assert h("GET", "l") == b"v"


# -- GETEX, GETDEL, GETSET -------------------------------------------------------------


def test_getex_without_options_only_reads(h: Harness) -> None:
    h("SET", "k", "v", "EX", 100)
    h.take_effects()
    assert h("GETEX", "k") == b"v"
    assert h.db.expires[b"k"] == NOW + 100_000
    assert h.take_effects() == []


@pytest.mark.parametrize(
    ("options", "expire_at"),
    [
        (("EX", "10"), NOW + 10_000),
        (("px", "1234"), NOW + 1234),
        (("EXAT", "1800000000"), 1_800_000_000_000),
        (("PXAT", str(NOW + 1)), NOW + 1),
        (("EX", "10", "EX", "20"), NOW + 20_000),
    ],
)
def test_getex_sets_expiry_as_pexpireat(h: Harness, options: tuple[str, ...], expire_at: int) -> None:
    h("SET", "k", "v")
    h.take_effects()
    assert h("GETEX", "k", *options) == b"v"
    assert h.db.expires[b"k"] == expire_at
    assert h.take_effects() == [[b"PEXPIREAT", b"k", b"%d" % expire_at]]


@pytest.mark.parametrize("options", [("EXAT", "1"), ("PXAT", str(NOW)), ("PXAT", str(NOW - 1))])
def test_getex_with_past_absolute_time_deletes(h: Harness, options: tuple[str, ...]) -> None:
    h("SET", "k", "v")
    h.take_effects()
    assert h("GETEX", "k", *options) == b"v"
    assert b"k" not in h.db.data
    assert h.take_effects() == [[b"DEL", b"k"]]


def test_getex_persist_emits_only_when_a_ttl_was_removed(h: Harness) -> None:
    h("SET", "k", "v")
    h.take_effects()
    assert h("GETEX", "k", "PERSIST") == b"v"
    assert h.take_effects() == []
    h("SET", "k", "v", "EX", 10)
    h.take_effects()
    assert h("GETEX", "k", "PERSIST", "PERSIST") == b"v"
    assert b"k" not in h.db.expires
    assert h.take_effects() == [[b"PERSIST", b"k"]]


def test_getex_error_order(h: Harness) -> None:
    # Syntax is checked before the lookup; the expiry value only once a string was found.
    assert h("GETEX", "missing", "BAD") == Error(SYNTAX)
    assert h("GETEX", "missing", "EX") == Error(SYNTAX)
    assert h("GETEX", "missing", "EX", "-1") is None
    assert h("GETEX", "missing", "EX", "abc") is None
    put_list(h, b"l")
    assert h("GETEX", "l", "EX", "-1") == Error(WRONGTYPE)
    h("SET", "k", "v")
    assert h("GETEX", "k", "EX", "-1") == Error("ERR invalid expire time in 'getex' command")
    assert h("GETEX", "k", "EX", "0") == Error("ERR invalid expire time in 'getex' command")
    assert h("GETEX", "k", "EXAT", "0") == Error("ERR invalid expire time in 'getex' command")
    assert h("GETEX", "k", "EX", "9223372036854775") == Error("ERR invalid expire time in 'getex' command")
    assert h("GETEX", "k", "EX", "abc") == Error(NOT_INT)
    for bad in (("EX", "10", "PERSIST"), ("PERSIST", "EX", "10"), ("KEEPTTL",), ("NX",), ("GET",), ("XX",)):
        assert h("GETEX", "k", *bad) == Error(SYNTAX), bad
    assert b"k" not in h.db.expires


def test_getdel(h: Harness) -> None:
    h("SET", "k", "v", "EX", 10)
    h.take_effects()
    assert h("GETDEL", "k") == b"v"
    assert h("GETDEL", "k") is None
    assert b"k" not in h.db.data and b"k" not in h.db.expires
    assert h.take_effects() == [[b"DEL", b"k"]]
    put_list(h, b"l")
    assert h("GETDEL", "l") == Error(WRONGTYPE)
    assert b"l" in h.db.data


def test_getset_replaces_value_and_clears_ttl(h: Harness) -> None:
    assert h("GETSET", "k", "x") is None
    h("SET", "k", "v", "EX", 100)
    h.take_effects()
    assert h("GETSET", "k", "y") == b"v"
    assert b"k" not in h.db.expires
    assert h.take_effects() == [[b"SET", b"k", b"y"]]
    put_list(h, b"l")
    assert h("GETSET", "l", "x") == Error(WRONGTYPE)


# -- several keys ------------------------------------------------------------------------


def test_mget_answers_nil_for_missing_and_other_types(h: Harness) -> None:
    h("MSET", "a", "1", "b", "2")
    put_list(h, b"l")
    assert h("MGET", "a", "l", "zz", "a", "b") == [b"1", None, None, b"1", b"2"]


def test_mset_and_msetnx(h: Harness) -> None:
    h("SET", "t", "old", "EX", 10)
    h.take_effects()
    assert h("MSET", "t", "1", "u", "2") == b"OK"
    assert b"t" not in h.db.expires
    assert h.take_effects() == [[b"MSET", b"t", b"1", b"u", b"2"]]
    assert h("MSET", "a", "1", "b") == Error("ERR wrong number of arguments for 'mset' command")
    assert h("MSET", "a") == Error("ERR wrong number of arguments for 'mset' command")
    assert h("MSETNX", "a", "1", "b") == Error("ERR wrong number of arguments for 'msetnx' command")
    assert h("GET", "a") is None
    assert h("MSETNX", "a", "1", "t", "2") == 0
    assert h("GET", "a") is None
    assert h.take_effects() == []
    assert h("MSETNX", "n", "1", "n", "2", "m", "3") == 1
    assert h("MGET", "n", "m") == [b"2", b"3"]
    assert h.take_effects() == [[b"MSET", b"n", b"1", b"n", b"2", b"m", b"3"]]
    put_list(h, b"l")
    assert h("MSETNX", "x", "1", "l", "2") == 0


def test_setnx(h: Harness) -> None:
    assert h("SETNX", "k", "1") == 1
    assert h("SETNX", "k", "2") == 0
    assert h("GET", "k") == b"1"
    assert h.take_effects() == [[b"SET", b"k", b"1"]]


@pytest.mark.parametrize(("name", "unit"), [("SETEX", 1000), ("PSETEX", 1)])
def test_setex_and_psetex(h: Harness, name: str, unit: int) -> None:
    put_list(h, b"k")
    assert h(name, "k", 5, "v") == b"OK"
    assert h.db.expires[b"k"] == NOW + 5 * unit
    assert h.take_effects() == [[b"SET", b"k", b"v", b"PXAT", b"%d" % (NOW + 5 * unit)]]
    lower = name.lower()
    for bad in ("0", "-1"):
        assert h(name, "k", bad, "v") == Error(f"ERR invalid expire time in '{lower}' command")
    assert h(name, "k", "x", "v") == Error(NOT_INT)
    huge = "9223372036854775" if unit == 1000 else "9223372036854775807"
    assert h(name, "k", huge, "v") == Error(f"ERR invalid expire time in '{lower}' command")
    h.clock.advance(5 * unit)
    assert h("GET", "k") is None


# -- APPEND, SETRANGE, STRLEN, GETRANGE ------------------------------------------------------


def test_append_creates_then_edits_in_place(h: Harness) -> None:
    assert h("APPEND", "k", "12") == 2
    assert not isinstance(h.db.data[b"k"], bytearray)  # a new key is stored as sent: Redis's int/embstr
    assert h("APPEND", "k", "") == 2
    value = h.db.data[b"k"]
    assert isinstance(value, bytearray)  # edited: Redis's raw encoding
    assert h("APPEND", "k", "3") == 3
    assert h.db.data[b"k"] is value
    assert h("GET", "k") == b"123"
    assert h.take_effects() == [[b"APPEND", b"k", b"12"], [b"APPEND", b"k", b""], [b"APPEND", b"k", b"3"]]


def test_append_empty_to_missing_key_creates_it(h: Harness) -> None:
    assert h("APPEND", "k", "") == 0
    assert h.db.data[b"k"] == b""


def test_append_keeps_ttl_and_checks_type(h: Harness) -> None:
    h("SET", "k", "v", "EX", 10)
    assert h("APPEND", "k", "w") == 2
    assert h.db.expires[b"k"] == NOW + 10_000
    put_list(h, b"l")
    assert h("APPEND", "l", "x") == Error(WRONGTYPE)


def test_append_and_setrange_respect_proto_max_bulk_len(h: Harness) -> None:
    h.config.proto_max_bulk_len = 100
    too_big = Error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    h("SET", "k", "x" * 94)
    assert h("APPEND", "k", "123456") == 100
    assert h("APPEND", "k", "7") == too_big
    assert h("APPEND", "k", "") == 100
    assert h("SETRANGE", "k", 99, "y") == 100
    assert h("SETRANGE", "k", 100, "y") == too_big
    assert h("SETRANGE", "k", 99, "yz") == too_big
    assert h("SETRANGE", "new", 100, "y") == too_big
    assert h("SETRANGE", "new", "9223372036854775807", "y") == too_big
    assert h("SETRANGE", "new", 1000, "") == 0
    assert h("STRLEN", "k") == 100
    assert b"new" not in h.db.data


def test_setrange(h: Harness) -> None:
    h("SET", "s", "hello", "EX", 10)
    h.take_effects()
    assert h("SETRANGE", "s", 3, "XYZW") == 7
    assert h("GET", "s") == b"helXYZW"
    assert h.db.expires[b"s"] == NOW + 10_000
    assert h("SETRANGE", "s", 9, "!") == 10
    assert h("GET", "s") == b"helXYZW\x00\x00!"
    assert h("SETRANGE", "n", 3, "ab") == 5
    assert h("GET", "n") == b"\x00\x00\x00ab"
    assert type(h.db.data[b"n"]) is bytearray
    assert h.take_effects() == [
        [b"SETRANGE", b"s", b"3", b"XYZW"],
        [b"SETRANGE", b"s", b"9", b"!"],
        [b"SETRANGE", b"n", b"3", b"ab"],
    ]
    # Setting nothing changes nothing and reports the current length.
    assert h("SETRANGE", "s", 0, "") == 10
    assert h("SETRANGE", "s", 100, "") == 10
    assert h("SETRANGE", "nokey", 5, "") == 0
    assert b"nokey" not in h.db.data
    assert h.take_effects() == []


def test_setrange_errors(h: Harness) -> None:
    assert h("SETRANGE", "k", -1, "x") == Error("ERR offset is out of range")
    assert h("SETRANGE", "k", "x", "x") == Error(NOT_INT)
    put_list(h, b"l")
    assert h("SETRANGE", "l", 0, "") == Error(WRONGTYPE)
    assert h("SETRANGE", "l", -1, "") == Error("ERR offset is out of range")
    assert h("SETRANGE", "l", 0, "x") == Error(WRONGTYPE)


def test_strlen(h: Harness) -> None:
    h("SET", "s", "hello")
    h("SET", "e", "")
    put_list(h, b"l")
    assert [h("STRLEN", k) for k in ("s", "e", "missing")] == [5, 0, 0]
    assert h("STRLEN", "l") == Error(WRONGTYPE)


# (start, end) -> GETRANGE of "hello" in Redis 7.0.15, quirks included.
GETRANGE_HELLO = [
    (0, -100, b"h"),
    (-100, -200, b""),
    (-1, -5, b""),
    (-5, -1, b"hello"),
    (0, 0, b"h"),
    (5, 10, b""),
    (4, 100, b"o"),
    (-3, 2, b"l"),
    (3, -3, b""),
    (2, 1, b""),
    (-100, 100, b"hello"),
    (0, -6, b"h"),
    ("9223372036854775807", "9223372036854775807", b""),
    ("-9223372036854775808", "-9223372036854775808", b"h"),
    ("-9223372036854775808", "9223372036854775807", b"hello"),
    (1, "9223372036854775807", b"ello"),
]


@pytest.mark.parametrize(("start", "end", "expected"), GETRANGE_HELLO)
@pytest.mark.parametrize("name", ["GETRANGE", "SUBSTR"])
def test_getrange(h: Harness, name: str, start: int | str, end: int | str, expected: bytes) -> None:
    h("SET", "s", "hello")
    assert h(name, "s", start, end) == expected
    h("APPEND", "s", "")  # the same answers from an edited (bytearray) value
    assert h(name, "s", start, end) == expected


def test_getrange_edges(h: Harness) -> None:
    h("SET", "e", "")
    assert h("GETRANGE", "e", 0, -1) == b""
    assert h("GETRANGE", "e", -1, 0) == b""
    assert h("GETRANGE", "missing", 0, 1) == b""
    for bad in ("a", "1.5", "01", "+1", "-0", " 1", "9223372036854775808"):
        assert h("GETRANGE", "missing", bad, 1) == Error(NOT_INT), bad
    put_list(h, b"l")
    assert h("GETRANGE", "l", "a", 1) == Error(NOT_INT)
    assert h("GETRANGE", "l", 0, 1) == Error(WRONGTYPE)


# -- counters ----------------------------------------------------------------------------


def test_incr_family(h: Harness) -> None:
    assert h("INCR", "k") == 1
    assert h("INCRBY", "k", 41) == 42
    assert h("DECR", "k") == 41
    assert h("DECRBY", "k", -9) == 50
    assert h("GET", "k") == b"50"
    assert h.take_effects() == [
        [b"INCR", b"k"],
        [b"INCRBY", b"k", b"41"],
        [b"DECR", b"k"],
        [b"DECRBY", b"k", b"-9"],
    ]


def test_incr_keeps_ttl(h: Harness) -> None:
    h("SET", "t", "5", "EX", 100)
    assert h("INCR", "t") == 6
    assert h("INCRBYFLOAT", "t", "1.5") == b"7.5"
    assert h.db.expires[b"t"] == NOW + 100_000


def test_incr_overflow_and_bad_values(h: Harness) -> None:
    overflow = Error("ERR increment or decrement would overflow")
    h("SET", "k", "9223372036854775807")
    assert h("INCR", "k") == overflow
    assert h("DECRBY", "k", -1) == overflow
    assert h("INCRBY", "k", 0) == 9223372036854775807
    h("SET", "k", "-9223372036854775808")
    assert h("DECR", "k") == overflow
    assert h("INCRBY", "k", "9223372036854775807") == -1
    assert h("DECRBY", "k", "-9223372036854775808") == Error("ERR decrement would overflow")
    assert h("INCRBY", "new", "-9223372036854775808") == -9223372036854775808
    assert h("DECR", "new") == overflow
    for bad in ("01", " 1", "1 ", "+1", "-0", "abc", "", "1.0", "99999999999999999999", "1\x002"):
        h("SET", "b", bad)
        assert h("INCR", "b") == Error(NOT_INT), bad
        assert h("GET", "b") == bad.encode()
    assert h("INCRBY", "x", "1.5") == Error(NOT_INT)
    put_list(h, b"l")
    assert h("INCR", "l") == Error(WRONGTYPE)
    assert h("INCRBY", "l", "x") == Error(NOT_INT)
    assert h("DECRBY", "l", "-9223372036854775808") == Error("ERR decrement would overflow")


def test_incr_on_edited_string(h: Harness) -> None:
    h("SET", "k", "1")
    h("APPEND", "k", "0")
    assert type(h.db.data[b"k"]) is bytearray
    assert h("INCR", "k") == 11


# Increment -> INCRBYFLOAT reply on a missing key, from Redis 7.0.15 on x86-64.
INCRBYFLOAT_CASES = [
    ("0.1", b"0.1"),
    ("1e20", b"100000000000000000000"),
    ("1.5e-18", b"0"),
    ("0.000003814697265625", b"0.00000381469726562"),  # an exact tie rounds to even
    ("-0.00000000000000000001", b"0"),
    ("+1.5", b"1.5"),
    ("0x10", b"16"),
    ("0X1P3", b"8"),
    ("0x1p-2", b"0.25"),
    ("0x.8", b"0.5"),
    (".5", b"0.5"),
    ("5.", b"5"),
    ("-.5e1", b"-5"),
    ("-0", b"0"),
    ("1e05", b"100000"),
    ("0e999999999999999999999999999", b"0"),
    ("3.0000000000000001", b"3.0000000000000001"),
    ("1.00000000000000000000000001", b"1"),
    ("123456789012345678901234567890", b"123456789012345678899921813504"),
    ("0.30000000000000004", b"0.30000000000000004"),
    ("2.5e-15", b"0.0000000000000025"),
    ("1e-4950", b"0"),
    ("1.9e-4951", b"0"),
    ("00000000000000000000000000000000000000000000000000000001", b"1"),
    ("1e-" + "0" * 5000 + "1", b"0.1"),
    ("0x" + "0" * 5000 + "1", b"1"),
]


@pytest.mark.parametrize(("increment", "expected"), INCRBYFLOAT_CASES)
def test_incrbyfloat_formats_like_redis_long_double(h: Harness, increment: str, expected: bytes) -> None:
    assert h("INCRBYFLOAT", "f", increment) == expected
    assert h.take_effects() == [[b"SET", b"f", expected, b"KEEPTTL"]]


def test_incrbyfloat_huge_values_print_every_digit(h: Harness) -> None:
    reply = h("INCRBYFLOAT", "f", "1e4932")
    assert reply.startswith(b"1000000000000000000006018949387963891323837774254533114773785")
    assert len(reply) == 4933
    assert h("INCRBYFLOAT", "g", "0x1.fffffffffffffffep16383").startswith(b"118973149535723176502126385303097020516906")


def test_incrbyfloat_accumulates_in_long_double(h: Harness) -> None:
    h("SET", "f", "0.1")
    assert h("INCRBYFLOAT", "f", "0.2") == b"0.3"
    assert h("INCRBYFLOAT", "f", "-0.3") == b"0"
    h("SET", "f", "10.5")
    assert h("INCRBYFLOAT", "f", "0.1") == b"10.6"
    assert h("INCRBYFLOAT", "f", "-5.0e3") == b"-4989.39999999999999991"
    h("SET", "f", "5")
    assert h("INCRBYFLOAT", "f", "3.0e3") == b"3005"


@pytest.mark.parametrize(
    "increment",
    [
        *("x", "nan", "nan(123)", " 1", "1 ", "\t1", "1e", "1e+", "0x", "0x1p", "1_0", "", "info", "1\x00", "\x001"),
        *("1e4933", "0x1p16384", "0x1.ffffffffffffffffp16383", "1e-4951", "1.8e-4951", "1e-5000"),
        *("0." + "0" * 5000 + "1", "1" * 5120),
    ],
)
def test_incrbyfloat_rejects_what_strtold_would(h: Harness, increment: str) -> None:
    assert h("INCRBYFLOAT", "f", increment) == Error(NOT_FLOAT)
    assert b"f" not in h.db.data


@pytest.mark.parametrize("increment", ["inf", "-inf", "INFINITY", "+inf", "-INF"])
def test_incrbyfloat_infinity_is_refused_after_parsing(h: Harness, increment: str) -> None:
    assert h("INCRBYFLOAT", "f", increment) == Error("ERR increment would produce NaN or Infinity")


def test_incrbyfloat_errors_on_stored_values(h: Harness) -> None:
    h("SET", "f", "inf")
    assert h("INCRBYFLOAT", "f", "1") == Error("ERR increment would produce NaN or Infinity")
    assert h("INCRBYFLOAT", "f", "x") == Error(NOT_FLOAT)
    h("SET", "f", "abc")
    assert h("INCRBYFLOAT", "f", "1") == Error(NOT_FLOAT)
    h("SET", "f", "1" * 5119)
    assert h("INCRBYFLOAT", "f", "1") == Error(NOT_FLOAT)
    h("SET", "f", "0x1.fffffffffffffffep16383")
    assert h("INCRBYFLOAT", "f", "0x1p16320") == Error("ERR increment would produce NaN or Infinity")
    assert h("GET", "f") == b"0x1.fffffffffffffffep16383"
    put_list(h, b"l")
    assert h("INCRBYFLOAT", "l", "x") == Error(WRONGTYPE)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-(2**63), max_value=2**63 - 1), st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_long_double_integer_sums_are_exact(a: int, b: int) -> None:
    # A 64-bit mantissa holds every sum of two 64-bit integers below 2**64 exactly.
    x, y = parse_long_double(b"%d" % a), parse_long_double(b"%d" % b)
    assert x is not None and y is not None
    total = long_double_add(x, y)
    assert total is not None
    if abs(a + b) < 2**64:
        assert format_long_double(total) == b"%d" % (a + b)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-(2**40), max_value=2**40), st.integers(min_value=-(2**40), max_value=2**40))
def test_long_double_sums_of_short_binary_fractions_print_exactly(a: int, b: int) -> None:
    # k / 2**16 has at most 16 decimals and fits the mantissa, so nothing rounds.
    def text(k: int) -> bytes:
        whole, rest = divmod(abs(k), 2**16)
        digits = b"%016d" % (rest * 5**16)
        out = (b"%d.%s" % (whole, digits)).rstrip(b"0").rstrip(b".")
        return b"-" + out if k < 0 and out != b"0" else out

    x, y = parse_long_double(text(a)), parse_long_double(text(b))
    assert x is not None and y is not None
    total = long_double_add(x, y)
    assert total is not None
    assert format_long_double(total) == text(a + b)


def test_small_decimals_round_trip_through_the_human_form() -> None:
    # Below 64, half a long double ulp is under 5e-18, so up to 17 decimals
    # print back as typed; that is why Redis computes in long double.  Larger
    # values show their binary error (249523.621429 -> ...900000000623).
    rng = random.Random(3)
    for _ in range(300):
        text = b"%d.%0*d" % (rng.randrange(64), rng.randrange(1, 18), rng.randrange(1, 10**17))
        text = b"%d.%s" % (rng.randrange(64), text.split(b".")[1][:17])
        value = parse_long_double(text)
        assert value is not None
        assert format_long_double(value) == text.rstrip(b"0").rstrip(b".")
    assert format_long_double(parse_long_double(b"249523.621429") or (0, 0)) == b"249523.62142900000000623"


def test_parse_long_double_errors_are_redis_errors() -> None:
    with pytest.raises(CommandError, match="not a valid float"):
        parse_long_double(b"nan")
    assert parse_long_double(b"-inf") is None


# -- LCS -------------------------------------------------------------------------------------


def reference_lcs(a: bytes, b: bytes, minmatch: int = 0, withlen: bool = False) -> dict[str, Any]:
    """The textbook O(N*M) table, walked back with Redis's tie-break (up unless left is longer)."""
    n, m = len(a), len(b)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if a[i - 1] == b[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    out = bytearray()
    ranges: list[list[Any]] = []
    run: list[int] | None = None  # [a_start, a_end, b_start, b_end]

    def close() -> None:
        nonlocal run
        if run is not None:
            length = run[1] - run[0] + 1
            if minmatch == 0 or length >= minmatch:
                entry: list[Any] = [[run[0], run[1]], [run[2], run[3]]]
                if withlen:
                    entry.append(length)
                ranges.append(entry)
        run = None

    i, j = n, m
    while i > 0 and j > 0:
        if a[i - 1] == b[j - 1]:
            out.append(a[i - 1])
            if run is None:
                run = [i - 1, i - 1, j - 1, j - 1]
            else:
                run[0], run[2] = i - 1, j - 1
            i -= 1
            j -= 1
            if i == 0 or j == 0:
                close()
        else:
            if table[i - 1][j] > table[i][j - 1]:
                i -= 1
            else:
                j -= 1
            close()
    return {"lcs": bytes(reversed(out)), "len": table[n][m], "matches": ranges}


def test_lcs_examples_from_redis(h: Harness) -> None:
    h("MSET", "a", "ohmytext", "b", "mynewtext")
    assert h("LCS", "a", "b") == b"mytext"
    assert h("LCS", "a", "b", "LEN") == 6
    assert h("LCS", "a", "b", "LEN", "LEN", "WITHMATCHLEN") == 6
    assert h("LCS", "a", "b", "IDX") == [b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6]
    assert h("LCS", "a", "b", "IDX", "MINMATCHLEN", 4) == [b"matches", [[[4, 7], [5, 8]]], b"len", 6]
    assert h("LCS", "a", "b", "IDX", "WITHMATCHLEN", "MINMATCHLEN", -5) == [
        b"matches",
        [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]],
        b"len",
        6,
    ]
    assert h("LCS", "a", "b", "IDX", "WITHMATCHLEN", proto=3) == {
        b"matches": [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]],
        b"len": 6,
    }
    assert h("LCS", "a", "nokey") == b""
    assert h("LCS", "a", "nokey", "IDX") == [b"matches", [], b"len", 0]
    assert h("LCS", "nokey", "nokey2", "IDX", proto=3) == {b"matches": [], b"len": 0}


def test_lcs_errors(h: Harness) -> None:
    h("MSET", "a", "ohmytext", "b", "mynewtext")
    both = Error("ERR If you want both the length and indexes, please just use IDX.")
    assert h("LCS", "a", "b", "LEN", "IDX") == both
    assert h("LCS", "a", "b", "IDX", "LEN") == both
    assert h("LCS", "a", "b", "MINMATCHLEN") == Error(SYNTAX)
    assert h("LCS", "a", "b", "MINMATCHLEN", "x") == Error(NOT_INT)
    assert h("LCS", "a", "b", "MINMATCHLEN", "x", "LEN", "IDX") == Error(NOT_INT)
    assert h("LCS", "a", "b", "FOO") == Error(SYNTAX)
    put_list(h, b"l")
    not_strings = Error("ERR The specified keys must contain string values")
    assert h("LCS", "a", "l", "BADOPT") == not_strings
    assert h("LCS", "l", "nokey") == not_strings


def test_lcs_transient_memory_limit(h: Harness) -> None:
    h.config.proto_max_bulk_len = 1024 * 1024
    h("MSET", "p", "q" * 511, "p2", "q" * 511, "big", "q" * 600)
    assert h("LCS", "p", "p2", "LEN") == 511
    assert h("LCS", "p", "big", "LEN") == Error(
        "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
    )


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=40).map(lambda s: bytes(c % 4 + 97 for c in s)),
    st.binary(max_size=40).map(lambda s: bytes(c % 4 + 97 for c in s)),
    st.integers(min_value=0, max_value=4),
)
def test_lcs_matches_the_reference_table(a: bytes, b: bytes, minmatch: int) -> None:
    h = Harness()
    h("MSET", "a", a, "b", b)
    expected = reference_lcs(a, b, minmatch, withlen=True)
    assert h("LCS", "a", "b") == expected["lcs"]
    assert h("LCS", "a", "b", "LEN") == expected["len"]
    reply = h("LCS", "a", "b", "IDX", "WITHMATCHLEN", "MINMATCHLEN", minmatch)
    assert reply == [b"matches", expected["matches"], b"len", expected["len"]]


def test_lcs_long_strings(h: Harness) -> None:
    rng = random.Random(11)
    a = bytes(rng.choice(b"acgt") for _ in range(3000))
    b = bytes(rng.choice(b"acgt") for _ in range(2500))
    h("MSET", "a", a, "b", b)
    lcs = h("LCS", "a", "b")
    assert len(lcs) == h("LCS", "a", "b", "LEN")
    it = iter(a)
    assert all(c in it for c in lcs)  # a subsequence of a
    it = iter(b)
    assert all(c in it for c in lcs)


# -- cross-cutting -----------------------------------------------------------------------------


def test_reads_count_keyspace_hits_and_misses_but_writes_do_not(h: Harness) -> None:
    stats = h.keyspace
    h("SET", "s", "1")
    before = (stats.hits, stats.misses)
    for cmd in (
        ("INCR", "s"),
        ("INCR", "n"),
        ("APPEND", "s", "1"),
        ("SETRANGE", "x", 0, "a"),
        ("SETNX", "y", "1"),
        ("MSETNX", "z", "1"),
        ("INCRBYFLOAT", "f", "1"),
    ):
        h(*cmd)
    assert (stats.hits, stats.misses) == before
    h("GET", "s")
    h("MGET", "s", "nope")
    h("STRLEN", "nope")
    h("GETRANGE", "s", 0, 1)
    h("LCS", "s", "nope")
    h("GETEX", "s")
    h("GETSET", "nope2", "1")
    h("GETDEL", "nope3")
    assert (stats.hits - before[0], stats.misses - before[1]) == (5, 5)


WRITES = [
    ("SET", "w", "1"),
    ("SET", "w", "1", "EX", "10"),
    ("SETNX", "w", "1"),
    ("SETEX", "w", "10", "1"),
    ("PSETEX", "w", "10", "1"),
    ("GETSET", "w", "1"),
    ("MSET", "x", "1", "w", "1"),
    ("MSETNX", "w", "1"),
    ("APPEND", "w", "1"),
    ("SETRANGE", "w", "1", "x"),
    ("INCR", "w"),
    ("DECR", "w"),
    ("INCRBY", "w", "5"),
    ("DECRBY", "w", "5"),
    ("INCRBYFLOAT", "w", "1.5"),
]


@pytest.mark.parametrize("cmd", WRITES, ids=lambda c: " ".join(c))
def test_every_write_breaks_a_watch_on_its_key(h: Harness, cmd: tuple[str, ...]) -> None:
    watcher = h.session()
    assert h.raw(watcher, "WATCH", "w") == b"+OK\r\n"
    assert not watcher.watch_dirty
    h(*cmd)
    assert watcher.watch_dirty, cmd
    for effect in h.take_effects():
        command = TABLE.get(effect[0].decode().lower())
        assert command is not None and command.is_write
        assert b"w" in command.keys(effect) or effect[0] == b"MSET"


@pytest.mark.parametrize(
    "cmd",
    [
        ("GETDEL", "w"),
        ("GETEX", "w", "EX", "5"),
        ("GETEX", "w", "PERSIST"),
        ("GETEX", "w", "EXAT", "1"),
    ],
    ids=lambda c: " ".join(c),
)
def test_getex_and_getdel_break_watches_through_generic_commands(h: Harness, cmd: tuple[str, ...]) -> None:
    needed = {"GETDEL": "del", "EXAT": "del", "EX": "pexpireat", "PERSIST": "persist"}
    missing = [n for word, n in needed.items() if word in cmd and TABLE.get(n) is None]
    if missing:
        pytest.skip(f"{missing} not in the command table yet (keys family)")
    h("SET", "w", "v", "EX", 100)
    watcher = h.session()
    h.raw(watcher, "WATCH", "w")
    h(*cmd)
    assert watcher.watch_dirty


def test_nothing_changed_means_no_effect(h: Harness) -> None:
    h("SET", "k", "v")
    h("SET", "n", "5")
    put_list(h, b"l")
    h.take_effects()
    for cmd in (
        ("SET", "k", "x", "NX"),
        ("SET", "missing", "x", "XX"),
        ("SETNX", "k", "x"),
        ("MSETNX", "a", "1", "k", "2"),
        ("GETEX", "k"),
        ("GETEX", "k", "PERSIST"),
        ("GETDEL", "missing"),
        ("SETRANGE", "k", 0, ""),
        ("SETRANGE", "missing", 3, ""),
        ("INCR", "k"),
        ("INCR", "l"),
        ("INCRBYFLOAT", "k", "1"),
        ("APPEND", "l", "x"),
        ("GET", "k"),
        ("MGET", "k", "n"),
        ("STRLEN", "k"),
        ("GETRANGE", "k", 0, -1),
        ("LCS", "k", "n"),
    ):
        h(*cmd)
        assert h.take_effects() == [], cmd


def test_effects_replay_to_the_same_state() -> None:
    needed = ["del", "pexpireat", "persist"]
    if any(TABLE.get(n) is None for n in needed):
        pytest.skip("DEL/PEXPIREAT/PERSIST are not in the command table yet (keys family)")
    rng = random.Random(7)
    primary = Harness()
    keys = ["a", "b", "c"]
    for _ in range(2000):
        k = rng.choice(keys)
        cmd = rng.choice(
            [
                ("SET", k, str(rng.randrange(100))),
                ("SET", k, "v", "EX", str(rng.randrange(1, 5))),
                ("SET", k, "v", "KEEPTTL"),
                ("SETNX", k, "1"),
                ("SETEX", k, "3", "x"),
                ("PSETEX", k, "1500", "x"),
                ("GETSET", k, "7"),
                ("GETDEL", k),
                ("GETEX", k, "PX", str(rng.randrange(1, 3000))),
                ("GETEX", k, "PERSIST"),
                ("GETEX", k, "PXAT", str(primary.clock.now_ms() + rng.randrange(-100, 100))),
                ("MSET", k, "1", rng.choice(keys), "2"),
                ("MSETNX", k, "1"),
                ("APPEND", k, "ab"),
                ("SETRANGE", k, str(rng.randrange(6)), "xy"),
                ("INCR", k),
                ("DECRBY", k, "3"),
                ("INCRBYFLOAT", k, "0.1"),
            ]
        )
        primary(*cmd)
        primary.clock.advance(rng.randrange(300))
    replica = Harness(ManualClock(NOW))
    for effect in primary.take_effects():
        reply = replica.raw(replica.ctx, *effect)
        assert not reply.startswith(b"-"), (effect, reply)
    replica.clock.ms = primary.clock.ms
    for key in keys:
        assert primary.db.lookup(key.encode()) == replica.db.lookup(key.encode()), key
        assert primary.db.expires.get(key.encode()) == replica.db.expires.get(key.encode()), key


def test_validation_happens_before_any_mutation(h: Harness) -> None:
    h("SET", "k", "v")
    h.take_effects()
    for cmd in (
        ("MSET", "k", "1", "x"),
        ("SETEX", "k", "0", "x"),
        ("SET", "k", "x", "EX", "0"),
        ("SET", "k", "x", "EX", "5", "PX", "5"),
        ("SETRANGE", "k", "-1", "x"),
        ("INCRBY", "k", "x"),
    ):
        assert isinstance(h(*cmd), Error), cmd
    assert h.db.data == {b"k": b"v"}
    assert h.db.expires == {}
    assert h.take_effects() == []


def test_commands_inside_multi_run_at_exec(h: Harness) -> None:
    assert h("MULTI") == b"OK"
    assert h("SET", "k", "1") == b"QUEUED"
    assert h("INCR", "k") == b"QUEUED"
    assert h("GETRANGE", "k", 0, -1) == b"QUEUED"
    assert h("EXEC") == [b"OK", 2, b"2"]


def _string2ll(raw: bytes) -> int | None:
    """Redis's string2ll, by its definition: the canonical decimal form of a signed 64-bit value."""
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if -(2**63) <= value < 2**63 and b"%d" % value == raw else None


@pytest.mark.parametrize(
    "raw",
    [
        *(b"", b"-", b"0", b"-0", b"00", b"01", b"-01", b"+1", b" 1", b"1 ", b"1_0", b"\xd9\xa1"),
        *(b"999999999999999999", b"-99999999999999999", b"9223372036854775807", b"9223372036854775808"),
        *(b"-9223372036854775808", b"-9223372036854775809", b"18446744073709551616", b"123456789012345678901"),
    ],
)
def test_parse_int_is_string2ll(raw: bytes) -> None:
    _check_parse_int(raw)
    if _string2ll(raw) is not None:
        assert parse_int(bytearray(raw)) == _string2ll(raw)


@given(st.text(alphabet="0123456789-+ x", max_size=21))
def test_parse_int_agrees_with_string2ll_on_any_text(text: str) -> None:
    _check_parse_int(text.encode())


def _check_parse_int(raw: bytes) -> None:
    expected = _string2ll(raw)
    if expected is None:
        with pytest.raises(CommandError):
            parse_int(raw)
    else:
        assert parse_int(raw) == expected
