"""List commands through the real engine (no sockets): replies, errors, write effects."""

import pytest
from engine_harness import NOW, Err, Harness

from cacheflow.commands.lists import parse_timeout
from cacheflow.resp.errors import CommandError
from cacheflow.store.lists import ListValue

WRONGTYPE = Err("WRONGTYPE Operation against a key holding the wrong kind of value")
NOT_INT = Err("ERR value is not an integer or out of range")


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_push_and_range(h: Harness) -> None:
    assert h("RPUSH", "l", "a", "b") == 2
    assert h("LPUSH", "l", "x", "y") == 4
    assert h("LRANGE", "l", 0, -1) == [b"y", b"x", b"a", b"b"]
    assert h("LPUSHX", "nokey", "a") == 0
    assert h("RPUSHX", "l", "z") == 5
    assert h("LLEN", "l") == 5
    assert h("LLEN", "nokey") == 0
    assert h("EXISTS", "nokey") == 0
    assert h("TYPE", "l") == b"list"
    assert h("OBJECT", "ENCODING", "l") == b"quicklist"
    assert h.effects() == [
        (0, [b"RPUSH", b"l", b"a", b"b"]),
        (0, [b"LPUSH", b"l", b"x", b"y"]),
        (0, [b"RPUSHX", b"l", b"z"]),
    ]


def test_pushes_keep_the_ttl(h: Harness) -> None:
    h("RPUSH", "l", "a")
    h("PEXPIRE", "l", 5000)
    h("RPUSH", "l", "b")
    h("LPUSH", "l", "c")
    assert h("PTTL", "l") == 5000
    h.clock.advance(5000)
    assert h("LPUSH", "l", "d") == 1
    assert h("PTTL", "l") == -1


def test_pops(h: Harness) -> None:
    h("RPUSH", "l", "a", "b", "c", "d")
    assert h("LPOP", "l") == b"a"
    assert h("RPOP", "l") == b"d"
    assert h("LPOP", "l", 0) == []
    assert h("RPOP", "l", 5) == [b"c", b"b"]
    assert h("EXISTS", "l") == 0
    assert h("LPOP", "l") is None
    assert h.raw(h.ctx, "LPOP", "l", 1) == b"*-1\r\n"
    assert h.raw(h.ctx, "LPOP", "l", 0) == b"*-1\r\n"
    assert h("LPOP", "l", -1) == Err("ERR value is out of range, must be positive")
    assert h("LPOP", "l", "x") == Err("ERR value is out of range, must be positive")
    assert h("LPOP", "l", 1, 2) == Err("ERR wrong number of arguments for 'lpop' command")
    r3 = h.client(proto=3)
    assert h.raw(r3, "LPOP", "l", 1) == b"_\r\n"
    assert h.raw(r3, "LPOP", "l") == b"_\r\n"
    effects = [e for _, e in h.effects()]
    assert effects[1:] == [[b"LPOP", b"l"], [b"RPOP", b"l"], [b"RPOP", b"l", b"5"]]


def test_wrong_type_everywhere(h: Harness) -> None:
    h("SET", "s", "x")
    for args in [
        ("LPUSH", "s", "a"),
        ("RPUSHX", "s", "a"),
        ("LPOP", "s"),
        ("LPOP", "s", 0),
        ("LLEN", "s"),
        ("LRANGE", "s", 0, 1),
        ("LINDEX", "s", 0),
        ("LSET", "s", 0, "a"),
        ("LINSERT", "s", "BEFORE", "a", "b"),
        ("LREM", "s", 0, "a"),
        ("LTRIM", "s", 0, 1),
        ("LPOS", "s", "a"),
        ("LMOVE", "s", "d", "LEFT", "LEFT"),
        ("LMPOP", 1, "s", "LEFT"),
        ("BLPOP", "s", 0),
        ("BLMPOP", 0, 1, "s", "LEFT"),
    ]:
        assert h(*args) == WRONGTYPE, args
    assert h.effects() == [(0, [b"SET", b"s", b"x"])]


def test_index_set_insert(h: Harness) -> None:
    h("RPUSH", "l", "a", "b", "c")
    assert h("LINDEX", "l", -1) == b"c"
    assert h("LINDEX", "l", 3) is None
    assert h("LINDEX", "nokey", "x") is None  # the key is looked up first
    assert h("LINDEX", "l", "x") == NOT_INT
    assert h("LSET", "l", 1, "B") == b"OK"
    assert h("LSET", "l", 3, "B") == Err("ERR index out of range")
    assert h("LSET", "nokey", 0, "B") == Err("ERR no such key")
    assert h("LINSERT", "l", "AFTER", "c", "d") == 4
    assert h("LINSERT", "l", "before", "a", "0") == 5
    assert h("LINSERT", "l", "BEFORE", "zz", "0") == -1
    assert h("LINSERT", "nokey", "BEFORE", "zz", "0") == 0
    assert h("LINSERT", "l", "MIDDLE", "a", "0") == Err("ERR syntax error")
    assert h("LRANGE", "l", 0, -1) == [b"0", b"a", b"B", b"c", b"d"]
    assert [e for _, e in h.effects()][1:] == [
        [b"LSET", b"l", b"1", b"B"],
        [b"LINSERT", b"l", b"AFTER", b"c", b"d"],
        [b"LINSERT", b"l", b"before", b"a", b"0"],
    ]


def test_lrem_and_ltrim(h: Harness) -> None:
    h("RPUSH", "l", "a", "b", "a", "c", "a")
    assert h("LREM", "l", -2, "a") == 2
    assert h("LRANGE", "l", 0, -1) == [b"a", b"b", b"c"]
    assert h("LREM", "l", 0, "zz") == 0
    assert h("LREM", "l", "x", "a") == NOT_INT
    assert h("LTRIM", "l", 1, 1) == b"OK"
    assert h("LRANGE", "l", 0, -1) == [b"b"]
    assert h("LTRIM", "l", 0, -1) == b"OK"
    assert h("LTRIM", "l", 5, 10) == b"OK"
    assert h("EXISTS", "l") == 0
    assert h("LTRIM", "nokey", "x", 1) == NOT_INT
    # A trim that removes nothing is still an effect (Redis signals the key: a WATCH on it breaks).
    assert [e for _, e in h.effects()][1:] == [
        [b"LREM", b"l", b"-2", b"a"],
        [b"LTRIM", b"l", b"1", b"1"],
        [b"LTRIM", b"l", b"0", b"-1"],
        [b"LTRIM", b"l", b"5", b"10"],
    ]


def test_lpos(h: Harness) -> None:
    h("RPUSH", "l", "a", "b", "c", "a")
    assert h("LPOS", "l", "a") == 0
    assert h("LPOS", "l", "a", "RANK", -1) == 3
    assert h("LPOS", "l", "a", "RANK", 2) == 3
    assert h("LPOS", "l", "a", "COUNT", 0) == [0, 3]
    assert h("LPOS", "l", "a", "COUNT", 1, "MAXLEN", 1) == [0]
    assert h("LPOS", "l", "a", "RANK", -2, "MAXLEN", 1) is None
    assert h("LPOS", "nokey", "a") is None
    assert h("LPOS", "nokey", "a", "COUNT", 0) == []
    assert h("LPOS", "l", "a", "RANK", 0) == Err(
        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
        "or use negative to start from the end of the list"
    )
    assert h("LPOS", "l", "a", "COUNT", -1) == Err("ERR COUNT can't be negative")
    assert h("LPOS", "l", "a", "MAXLEN", "x") == Err("ERR MAXLEN can't be negative")
    assert h("LPOS", "l", "a", "RANK") == Err("ERR syntax error")
    # Redis 7.0.15's overflow when negating the rank: from the tail, COUNT ignored.
    assert h("LPOS", "l", "a", "RANK", -(2**63)) == 3
    assert h("LPOS", "l", "a", "RANK", -(2**63), "COUNT", 1) == [3, 0]


def test_lmove_rpoplpush(h: Harness) -> None:
    h("RPUSH", "src", "a", "b", "c")
    assert h("LMOVE", "src", "dst", "LEFT", "RIGHT") == b"a"
    assert h("RPOPLPUSH", "src", "dst") == b"c"
    assert h("LRANGE", "dst", 0, -1) == [b"c", b"a"]
    assert h("LMOVE", "dst", "dst", "LEFT", "RIGHT") == b"c"  # rotation
    assert h("LRANGE", "dst", 0, -1) == [b"a", b"c"]
    assert h("LMOVE", "nokey", "dst", "LEFT", "RIGHT") is None
    assert h("LMOVE", "src", "dst", "UP", "RIGHT") == Err("ERR syntax error")
    h("SET", "s", "x")
    assert h("LMOVE", "src", "s", "LEFT", "LEFT") == WRONGTYPE
    assert h("LMOVE", "nokey", "s", "LEFT", "LEFT") is None  # the destination is checked only with a source
    assert h("LRANGE", "src", 0, -1) == [b"b"]
    assert h("RPOPLPUSH", "src", "dst") == b"b"
    assert h("EXISTS", "src") == 0


def test_lmpop(h: Harness) -> None:
    h("RPUSH", "b", "1", "2", "3")
    assert h("LMPOP", 2, "a", "b", "RIGHT", "COUNT", 2) == [b"b", [b"3", b"2"]]
    assert h("LMPOP", 2, "a", "b", "left", "COUNT", 10) == [b"b", [b"1"]]
    assert h.raw(h.ctx, "LMPOP", 1, "a", "LEFT") == b"*-1\r\n"
    assert h("LMPOP", 0, "a", "LEFT") == Err("ERR numkeys should be greater than 0")
    assert h("LMPOP", 3, "a", "LEFT") == Err("ERR syntax error")
    assert h("LMPOP", 1, "a", "LEFT", "COUNT", 0) == Err("ERR count should be greater than 0")
    assert h("LMPOP", 1, "a", "LEFT", "COUNT", 1, "COUNT", 1) == Err("ERR syntax error")
    assert [e for _, e in h.effects()][1:] == [[b"RPOP", b"b", b"2"], [b"LPOP", b"b", b"1"]]


def test_blocking_pops_with_data_behave_like_pops(h: Harness) -> None:
    h("RPUSH", "b", "1", "2", "3")
    h("RPUSH", "c", "x")
    assert h("BLPOP", "a", "b", 0) == [b"b", b"1"]
    assert h("BRPOP", "a", "b", "1.5") == [b"b", b"3"]
    assert h("BLMOVE", "b", "c", "LEFT", "LEFT", 0) == b"2"
    assert h("BRPOPLPUSH", "c", "d", 0) == b"x"
    assert h("BLMPOP", 0, 1, "c", "LEFT", "COUNT", 5) == [b"c", [b"2"]]
    assert [e for _, e in h.effects()][2:] == [
        [b"LPOP", b"b"],
        [b"RPOP", b"b"],
        [b"LMOVE", b"b", b"c", b"LEFT", b"LEFT"],
        [b"RPOPLPUSH", b"c", b"d"],
        [b"LPOP", b"c", b"1"],
    ]


def test_blocking_commands_inside_multi_do_not_block(h: Harness) -> None:
    h("MULTI")
    for args in [
        ("BLPOP", "q", 0),
        ("BRPOP", "q", 0),
        ("BLMOVE", "q", "d", "LEFT", "LEFT", 0),
        ("BRPOPLPUSH", "q", "d", 0),
        ("BLMPOP", 0, 1, "q", "LEFT"),
    ]:
        assert h(*args) == b"QUEUED"
    assert h.raw(h.ctx, "EXEC") == b"*5\r\n*-1\r\n*-1\r\n$-1\r\n$-1\r\n*-1\r\n"
    assert h.ctx.blocked is None
    assert h.engine.blocking.blocked_count == 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"0", None),
        (b"-0", None),
        (b"-0.0001", None),  # rounds up to 0 ms: forever
        (b"-0.001", None),  # -0.99999... ms in a long double, so 0 as well
        (b"0.0001", NOW + 1),
        (b"1e-400", NOW + 1),  # a long double is not zero here
        (b"1.5", NOW + 1500),
        (b"+2", NOW + 2000),
        (b"0x10", NOW + 16000),
        (b"9223372036854775", None),  # deadline wraps past LLONG_MAX in Redis 7.0: never fires
    ],
)
def test_parse_timeout(h: Harness, raw: bytes, expected: int | None) -> None:
    assert parse_timeout(h.ctx, raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"abc", "ERR timeout is not a float or out of range"),
        (b"", "ERR timeout is not a float or out of range"),
        (b" 1", "ERR timeout is not a float or out of range"),
        (b"1 ", "ERR timeout is not a float or out of range"),
        (b"nan", "ERR timeout is not a float or out of range"),
        (b"1_0", "ERR timeout is not a float or out of range"),
        (b"1e5000", "ERR timeout is not a float or out of range"),
        (b"1e-5000", "ERR timeout is not a float or out of range"),
        (b"-1", "ERR timeout is negative"),
        (b"-0.002", "ERR timeout is negative"),
        (b"inf", "ERR timeout is negative"),
        (b"-inf", "ERR timeout is negative"),
        (b"1e300", "ERR timeout is negative"),
        (b"1e400", "ERR timeout is negative"),
    ],
)
def test_parse_timeout_errors(h: Harness, raw: bytes, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        parse_timeout(h.ctx, raw)


def test_blmpop_checks_its_arguments_before_the_timeout(h: Harness) -> None:
    assert h("BLMPOP", "x", 0, "k", "LEFT") == Err("ERR numkeys should be greater than 0")
    assert h("BLMPOP", "x", 1, "k", "LEFT") == Err("ERR timeout is not a float or out of range")
    assert h("BLPOP", "k", "-1") == Err("ERR timeout is negative")


def test_big_lists_through_commands(h: Harness) -> None:
    h("RPUSH", "l", *[str(i) for i in range(1000)])
    assert h("LLEN", "l") == 1000
    assert h("LRANGE", "l", 995, 2000) == [b"995", b"996", b"997", b"998", b"999"]
    assert h("LRANGE", "l", -1000, 1) == [b"0", b"1"]
    assert h("LINDEX", "l", 500) == b"500"
    assert h("LPOS", "l", "999", "RANK", -1) == 999
    for _ in range(999):
        h("LPOP", "l")
    assert h("RPOP", "l") == b"999"
    assert h("EXISTS", "l") == 0


def test_copy_and_values(h: Harness) -> None:
    h("RPUSH", "l", "a", "b")
    assert h("COPY", "l", "m") == 1
    h("RPUSH", "m", "c")
    assert h("LRANGE", "l", 0, -1) == [b"a", b"b"]
    value = h.db.lookup(b"m")
    assert isinstance(value, ListValue) and list(value.values()) == [b"a", b"b", b"c"]
