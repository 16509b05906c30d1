"""HyperLogLog commands run through the real engine with no sockets: replies, stored bytes, effects.

Expected bytes, counts and error texts were taken from redis-server 7.0.15;
tests/integration/test_hyperloglog_vs_redis.py checks the same ground live.
"""

import pytest
from engine_harness import Err, Harness

from cacheflow.store import hyperloglog as hll

NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value."
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
CORRUPT = "INVALIDOBJ Corrupted HLL object detected"
EMPTY_INVALID_CACHE = b"HYLL\x01\x00\x00\x00" + bytes(7) + b"\x80\x7f\xff"


class FakeList:
    """A non-string value, for the WRONGTYPE path."""

    TYPE_NAME = b"list"


@pytest.fixture
def h() -> Harness:
    return Harness()


def argvs(h: Harness) -> list[list[bytes]]:
    return [effect for _, effect in h.effects()]


def test_pfadd_creates_updates_and_reports(h: Harness) -> None:
    assert h("PFADD", "k") == 1
    assert h("GET", "k") == EMPTY_INVALID_CACHE
    assert argvs(h) == [[b"PFADD", b"k"]]
    assert h("PFADD", "k") == 0
    assert h("PFADD", "k", "a", "b", "c") == 1
    assert h("GET", "k").hex() == "48594c4c01000000000000000000008060f38050b1844bfb80425a"
    assert h("PFADD", "k", "a", "b") == 0
    assert argvs(h) == [[b"PFADD", b"k", b"a", b"b", b"c"]]
    assert h("OBJECT", "ENCODING", "k") == b"raw"


def test_pfcount_caches_and_propagates_the_refresh(h: Harness) -> None:
    h("PFADD", "k", "a", "b", "c")
    h.effects()
    assert h("PFCOUNT", "k") == 3
    assert h("GET", "k").hex() == "48594c4c01000000030000000000000060f38050b1844bfb80425a"
    assert argvs(h) == [[b"PFCOUNT", b"k"]]
    assert h("PFCOUNT", "k") == 3
    assert argvs(h) == []
    assert h("PFCOUNT", "nokey") == 0
    assert h("PFCOUNT", "k", "nokey") == 3
    assert argvs(h) == []


def test_pfcount_trusts_a_valid_cache(h: Harness) -> None:
    value = bytearray(EMPTY_INVALID_CACHE)
    value[8:16] = (12345).to_bytes(8, "little")
    h("SET", "k", bytes(value))
    assert h("PFCOUNT", "k") == 12345
    assert h("PFCOUNT", "k", "k") == 0


def test_pfcount_of_several_keys_is_the_union(h: Harness) -> None:
    h("PFADD", "a", *[b"x%d" % i for i in range(1000)])
    h("PFADD", "b", *[b"x%d" % i for i in range(500, 1500)])
    before = (h("GET", "a"), h("GET", "b"))
    h.effects()
    union = h("PFCOUNT", "a", "b")
    assert abs(union - 1500) < 75
    assert (h("GET", "a"), h("GET", "b")) == before
    assert argvs(h) == []


def test_pfmerge(h: Harness) -> None:
    h("PFADD", "a", *[b"m%d" % i for i in range(100)])
    h("PFADD", "b", *[b"m%d" % i for i in range(100, 200)])
    h.effects()
    assert h("PFMERGE", "d", "a", "b") == b"OK"
    assert argvs(h) == [[b"PFMERGE", b"d", b"a", b"b"]]
    assert h("PFCOUNT", "d") == 201
    assert len(h("GET", "d")) == 504
    assert h("PFMERGE", "empty") == b"OK"
    assert h("GET", "empty") == EMPTY_INVALID_CACHE
    assert h("PFMERGE", "d", "nokey") == b"OK"
    assert h("PFCOUNT", "d") == 201


def test_pfmerge_with_a_dense_source_makes_a_dense_destination(h: Harness) -> None:
    h("PFADD", "big", *[b"el%d" % i for i in range(5000)])
    h("PFADD", "small", "a")
    assert h("PFDEBUG", "ENCODING", "big") == b"dense"
    h("PFMERGE", "small", "big")
    assert h("PFDEBUG", "ENCODING", "small") == b"dense"
    assert h("PFCOUNT", "small") == h("PFCOUNT", "big", "small")


def test_pfmerge_keeps_the_ttl(h: Harness) -> None:
    h("PFADD", "k", "a")
    h("EXPIRE", "k", 100)
    h("PFMERGE", "k", "nokey")
    assert h("TTL", "k") == 100


def test_not_hyperloglogs(h: Harness) -> None:
    h.db.data[b"list"] = FakeList()
    for value in (b"foo", b"HYLL", b"HYLL\x02" + bytes(13), b"HYLL\x00" + bytes(20)):
        h("SET", "s", value)
        for command in (("PFADD", "s", "a"), ("PFCOUNT", "s"), ("PFCOUNT", "s", "x"), ("PFMERGE", "d", "s")):
            assert h(*command) == Err(NOT_HLL)
        assert h("GET", "s") == value
    assert h("PFADD", "list", "a") == Err(WRONGTYPE)
    assert h("PFCOUNT", "list") == Err(WRONGTYPE)
    assert h("PFMERGE", "list") == Err(WRONGTYPE)
    assert h("EXISTS", "d") == 0
    assert argvs(h) == [[b"SET", b"s", v] for v in (b"foo", b"HYLL", b"HYLL\x02" + bytes(13), b"HYLL\x00" + bytes(20))]


def test_corrupt_sparse_values(h: Harness) -> None:
    short = b"HYLL\x01\x00\x00\x00" + bytes(7) + b"\x80\x7f\xfe"  # 16383 registers
    h("SET", "k", short)
    assert h("PFCOUNT", "k") == Err(CORRUPT)
    assert h("PFCOUNT", "k", "x") == Err(CORRUPT)
    assert h("PFMERGE", "d", "k") == Err(CORRUPT)
    h.effects()
    # A register the opcodes do not reach: an error, nothing propagated.
    index = next(i for i in range(10000) if hll.pattern(b"%d" % i)[0] == 16383)
    assert h("PFADD", "k", b"%d" % index) == Err(CORRUPT)
    assert argvs(h) == []


def test_sparse_limit_is_read_from_the_config(h: Harness) -> None:
    h.config.hll_sparse_max_bytes = 0
    h("PFADD", "k", "a")
    assert h("PFDEBUG", "ENCODING", "k") == b"dense"
    h.config.hll_sparse_max_bytes = 3000
    h("PFADD", "k2", "a")
    assert h("PFDEBUG", "ENCODING", "k2") == b"sparse"


def test_pfdebug(h: Harness) -> None:
    assert h("PFDEBUG", "ENCODING", "nokey") == Err("ERR The specified key does not exist")
    h("PFADD", "k", "a", "b")
    assert h("PFDEBUG", "DECODE", "k") == b"Z:12711 v:2,1 Z:3068 v:1,1 Z:603"
    assert h("PFDEBUG", "FOO", "k") == Err("ERR Unknown PFDEBUG subcommand 'FOO'")
    h.effects()
    regs = h("PFDEBUG", "GETREG", "k")
    assert len(regs) == 16384 and regs[12711] == 2 and regs[15780] == 1 and sum(regs) == 3
    assert argvs(h) == [[b"PFDEBUG", b"GETREG", b"k"]]
    assert h("PFDEBUG", "ENCODING", "k") == b"dense"
    assert h("PFDEBUG", "DECODE", "k") == Err("ERR HLL encoding is not sparse")
    assert h("PFDEBUG", "TODENSE", "k") == 0
    h("PFADD", "k2", "a")
    assert h("PFDEBUG", "TODENSE", "k2") == 1
    assert h("PFCOUNT", "k2") == 1
    assert h("PFSELFTEST") == b"OK"


def test_pfadd_in_a_transaction_breaks_nothing_else(h: Harness) -> None:
    h("MULTI")
    h("PFADD", "k", "a")
    h("PFCOUNT", "k")
    assert h("EXEC") == [1, 1]


def test_equal_values_under_two_keys_evolve_independently(h: Harness) -> None:
    """Decoded opcodes are reused between commands only for identical bytes, never shared between keys."""
    h("PFADD", "a", *[b"s%d" % i for i in range(300)])
    h("SET", "b", h("GET", "a"))
    h("PFADD", "a", "x1", "x2", "x3")
    h("PFADD", "b", "y1")
    h("PFADD", "a", "y1")
    h("PFADD", "b", "x1", "x2", "x3")
    assert h("GET", "a") == h("GET", "b")
    fresh = hll.new_sparse()
    editor = hll.HllEditor(fresh, 3000)
    editor.add_many([b"s%d" % i for i in range(300)] + [b"x1", b"x2", b"x3", b"y1"])
    assert hll.registers_raw(editor.value()) == hll.registers_raw(h("GET", "a"))
