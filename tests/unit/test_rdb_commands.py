"""DUMP and RESTORE through the real engine: replies, errors in Redis's order, write effects."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from engine_harness import NOW, Err, Harness

from cacheflow.rdb.checksum import crc64


def payload(body: bytes, version: int = 10) -> bytes:
    framed = body + version.to_bytes(2, "little")
    return framed + crc64(framed).to_bytes(8, "little")


def test_dump_and_restore_every_type() -> None:
    h = Harness()
    h("SET", "s", "v")
    h("RPUSH", "l", "a", "b")
    h("SADD", "st", "1", "x")
    h("ZADD", "z", "1", "m")
    h("HSET", "h", "f", "v")
    assert h("DUMP", "missing") is None
    for key in ("s", "l", "st", "z", "h"):
        dumped = h("DUMP", key)
        assert h("RESTORE", key + "2", "0", dumped) == b"OK"
        assert h("DUMP", key + "2") == dumped
    assert h("LRANGE", "l2", "0", "-1") == [b"a", b"b"]


def test_restore_effects_use_absolute_ttls() -> None:
    h = Harness()
    h("SET", "s", "v")
    dumped = h("DUMP", "s")
    h.effects()
    assert h("RESTORE", "a", "5000", dumped) == b"OK"
    assert h("PTTL", "a") == 5000
    assert h.effects() == [(0, [b"RESTORE", b"a", b"%d" % (NOW + 5000), dumped, b"ABSTTL"])]
    assert h("RESTORE", "a", "0", dumped, "REPLACE", "IDLETIME", "10") == b"OK"
    assert h("PTTL", "a") == -1
    assert h.effects() == [(0, [b"RESTORE", b"a", b"0", dumped, b"REPLACE"])]
    assert h("RESTORE", "b", str(NOW + 100), dumped, "ABSTTL", "FREQ", "5") == b"OK"
    assert h.effects() == [(0, [b"RESTORE", b"b", b"%d" % (NOW + 100), dumped, b"ABSTTL"])]
    # An absolute TTL in the past: nothing is stored; with REPLACE the old key is deleted.
    assert h("RESTORE", "c", "1", dumped, "ABSTTL") == b"OK"
    assert h("EXISTS", "c") == 0 and h.effects() == []
    assert h("RESTORE", "a", "1", dumped, "ABSTTL", "REPLACE") == b"OK"
    assert h("EXISTS", "a") == 0
    assert h.effects() == [(0, [b"DEL", b"a"])]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["k", "0", "x"], "BUSYKEY Target key name already exists."),
        (["k", "0", "x", "IDLETIME", "-1"], "ERR Invalid IDLETIME value, must be >= 0"),  # options come first
        (["n", "-1", "x"], "ERR Invalid TTL value, must be >= 0"),
        (["n", "abc", "x"], "ERR value is not an integer or out of range"),
        (["n", "0", "x"], "ERR DUMP payload version or checksum are wrong"),
        (["n", "0", "x", "FREQ", "256"], "ERR Invalid FREQ value, must be >= 0 and <= 255"),
        (["n", "0", "x", "FREQ", "-1"], "ERR Invalid FREQ value, must be >= 0 and <= 255"),
        (["n", "0", "x", "IDLETIME", "1", "FREQ", "2"], "ERR syntax error"),
        (["n", "0", "x", "FREQ", "2", "IDLETIME", "1"], "ERR syntax error"),
        (["n", "0", "x", "IDLETIME"], "ERR syntax error"),
        (["n", "0", "x", "IDLETIME", "x"], "ERR value is not an integer or out of range"),
        (["n", "0", "x", "BOGUS"], "ERR syntax error"),
        (["n", "0", payload(b"\x00")], "ERR Bad data format"),
        (["n", "0", payload(b"\x0f\x00")], "ERR Bad data format"),
        (["n", "0", payload(b"\x02\x00")], "ERR Bad data format"),  # an empty set
        (["n", "0", payload(b"\x00\x01v", 11)], "ERR DUMP payload version or checksum are wrong"),
    ],
)
def test_restore_errors(args: list[str | bytes], error: str) -> None:
    h = Harness()
    h("SET", "k", "v")
    assert h("RESTORE", *args) == Err(error)
    assert h("EXISTS", "n") == 0


def test_restore_accepts_older_versions_and_trailing_bytes() -> None:
    h = Harness()
    assert h("RESTORE", "a", "0", payload(b"\x00\x01vEXTRA", 9)) == b"OK"
    assert h("GET", "a") == b"v"


def test_restore_idletime_and_freq_set_the_access_data_the_policy_tracks() -> None:
    """As Redis's objectSetLRUOrLFU: IDLETIME under LRU, FREQ under LFU; the other one changes nothing."""
    h = Harness()
    h("SET", "s", "v")
    dumped = h("DUMP", "s")
    h.clock.advance(1_000_000)
    h.keyspace.refresh_lru_clock()
    h.keyspace.evictor.configure("allkeys-lru", 5, 10, 1, 10)
    assert h("RESTORE", "idle", "0", dumped, "IDLETIME", "300") == b"OK"
    assert h("OBJECT", "IDLETIME", "idle") == 300
    assert h("RESTORE", "ancient", "0", dumped, "IDLETIME", "9999999999") == b"OK"
    assert h("OBJECT", "IDLETIME", "ancient") == h.keyspace.lru_clock  # clamped at the clock's zero
    assert h("RESTORE", "f", "0", dumped, "FREQ", "100") == b"OK"
    assert h("OBJECT", "IDLETIME", "f") == 0  # FREQ means nothing to LRU
    h.effects()
    assert h("RESTORE", "idle", "0", dumped, "REPLACE", "IDLETIME", "7") == b"OK"
    assert h.effects() == [(0, [b"RESTORE", b"idle", b"0", dumped, b"REPLACE"])]  # access data stays local
    h.keyspace.evictor.configure("allkeys-lfu", 5, 10, 1, 10)
    assert h("RESTORE", "hot", "0", dumped, "FREQ", "200") == b"OK"
    assert h("OBJECT", "FREQ", "hot") == 200
    assert h("RESTORE", "cold", "0", dumped, "FREQ", "0") == b"OK"
    assert h("OBJECT", "FREQ", "cold") == 0
    assert h("RESTORE", "i", "0", dumped, "IDLETIME", "50") == b"OK"
    assert h("OBJECT", "FREQ", "i") == 5  # a new key's counter: IDLETIME means nothing to LFU
