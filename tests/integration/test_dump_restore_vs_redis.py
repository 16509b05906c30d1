"""DUMP and RESTORE against the real redis-server: payloads cross both ways, errors match byte for byte."""

import random

import pytest
from pair import FAR, Pair

BUILDERS = {
    "int": [("SET", "k", "12345")],
    "embstr": [("SET", "k", "hello")],
    "raw": [("SET", "k", "x" * 100)],
    "compressible": [("SET", "k", "abc" * 500)],
    "list_small": [("RPUSH", "k", "a", "1", "-5", "300", "70000", "x" * 70)],
    "list_big": [("RPUSH", "k", *[f"element-{i}" for i in range(3000)])],
    "intset": [("SADD", "k", "1", "-7", "70000", "9223372036854775807")],
    "set_hashtable": [("SADD", "k", "a", "b", "1")],
    "zset_listpack": [("ZADD", "k", "1", "a", "2.5", "b", "-0", "c", "inf", "d", "0.1", "e")],
    "zset_skiplist": [("ZADD", "k", *[x for i in range(200) for x in (str(i / 3), f"m{i}")])],
    "hash_listpack": [("HSET", "k", "f", "v", "n", "12", "e", "")],
    "hash_hashtable": [("HSET", "k", *[x for i in range(600) for x in (f"f{i}", f"v{i}")])],
}


def bulk_value(reply: bytes) -> bytes:
    """The content of one RESP bulk-string reply."""
    assert reply[:1] == b"$", reply[:50]
    head, _, rest = reply.partition(b"\r\n")
    return rest[: int(head[1:])]


# What must read the same after a RESTORE, per builder.
READS = {
    "list": [("LRANGE", "r", "0", "-1")],
    "set": [("SCARD", "r"), ("SISMEMBER", "r", "1"), ("SISMEMBER", "r", "a")],
    "zset": [("ZRANGE", "r", "0", "-1", "WITHSCORES")],
    "hash": [("HLEN", "r"), ("HGET", "r", "f"), ("HGET", "r", "f599")],
    "string": [("GET", "r")],
}


def _kind(name: str) -> str:
    for prefix in ("list", "set", "zset", "hash"):
        if name.startswith(prefix) or (prefix == "set" and name == "intset"):
            return prefix
    return "string"


def _check_restored(pair: Pair, name: str) -> None:
    pair.same("OBJECT", "ENCODING", "r")
    pair.same("TYPE", "r")
    for command in READS[_kind(name)]:
        pair.same(*command)
    pair.same("DEBUG", "DIGEST-VALUE", "r")


@pytest.mark.parametrize("name", list(BUILDERS))
def test_redis_dump_restores_into_cacheflow(pair: Pair, name: str) -> None:
    for command in BUILDERS[name]:
        pair.same(*command)
    payload = bulk_value(pair.theirs.call("DUMP", "k"))
    assert pair.same("RESTORE", "r", "0", payload) == b"+OK\r\n"
    _check_restored(pair, name)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_cacheflow_dump_restores_into_redis(pair: Pair, name: str) -> None:
    for command in BUILDERS[name]:
        pair.same(*command)
    payload = bulk_value(pair.ours.call("DUMP", "k"))
    assert pair.same("RESTORE", "r", "0", payload) == b"+OK\r\n"
    _check_restored(pair, name)


@pytest.mark.parametrize("name", ["int", "embstr", "raw", "list_small", "intset", "zset_listpack", "hash_listpack"])
def test_dumps_are_byte_identical_when_deterministic(pair: Pair, name: str) -> None:
    for command in BUILDERS[name]:
        pair.same(*command)
    pair.same("DUMP", "k")


def test_compression_is_used_exactly_when_redis_uses_it(pair: Pair) -> None:
    """Redis compresses a string only into n - 4 bytes of room: payloads near that edge must agree."""
    rng = random.Random(7)
    pair.same("PFADD", "hll", "a", "b")  # a 24-byte sparse HLL: 20 bytes compressed, which Redis refuses
    pair.same("DUMP", "hll")
    for n in range(21, 61):
        for repeat in range(3, 11):
            head = bytes(rng.randrange(256) for _ in range(n - repeat))
            pair.same("SET", "k", head + head[:repeat])
            pair.same("DUMP", "k")


def test_restore_options_and_errors(pair: Pair) -> None:
    pair.same("SET", "k", "v")
    payload = bulk_value(pair.theirs.call("DUMP", "k"))
    bad_crc = payload[:-1] + bytes((payload[-1] ^ 1,))
    newer = payload[:-10] + b"\x0b\x00" + payload[-8:]
    for command in [
        ("DUMP", "missing"),
        ("RESTORE", "k", "0", payload),
        ("RESTORE", "k", "0", payload, "IDLETIME", "-1"),
        ("RESTORE", "n", "-1", payload),
        ("RESTORE", "n", "abc", payload),
        ("RESTORE", "n", "0", bad_crc),
        ("RESTORE", "n", "0", newer),
        ("RESTORE", "n", "0", b"short"),
        ("RESTORE", "n", "0", payload, "FREQ", "256"),
        ("RESTORE", "n", "0", payload, "FREQ", "-1"),
        ("RESTORE", "n", "0", payload, "IDLETIME", "1", "FREQ", "2"),
        ("RESTORE", "n", "0", payload, "FREQ", "2", "IDLETIME", "1"),
        ("RESTORE", "n", "0", payload, "IDLETIME"),
        ("RESTORE", "n", "0", payload, "IDLETIME", "x"),
        ("RESTORE", "n", "0", payload, "BOGUS"),
        ("RESTORE", "n"),
        ("DUMP",),
        ("RESTORE", "n", "0", b"\x07\x00\x0a\x00" + b"\x00" * 8),
        ("RESTORE", "n", "0", payload, "IDLETIME", "10", "IDLETIME", "20", "REPLACE"),
        ("EXISTS", "n"),
        ("RESTORE", "f", "0", payload, "FREQ", "5", "FREQ", "7", "ABSTTL"),
        ("PTTL", "f"),
        ("RESTORE", "t", "100000", payload),
        ("PTTL", "t"),
        ("RESTORE", "a", str(FAR * 1000), payload, "ABSTTL"),
        ("PEXPIRETIME", "a"),
        ("RESTORE", "a", "1", payload, "ABSTTL", "REPLACE"),
        ("EXISTS", "a"),
        ("RESTORE", "k", "0", payload, "REPLACE"),
        ("GET", "k"),
        ("SADD", "wrong", "x"),
        ("RESTORE", "wrong", "0", payload, "REPLACE"),
        ("TYPE", "wrong"),
    ]:
        pair.same(*command)


def test_restore_of_a_corrupt_body(pair: Pair) -> None:
    from cacheflow.rdb.checksum import crc64

    for body in (b"\x00", b"\x0f\x00", b"\x02\x00", b"\x10\x05abcde", b"\x12\x01\x02\x03abc", b"\x0b\x02ab"):
        framed = body + b"\x0a\x00"
        pair.same("RESTORE", "n", "0", framed + crc64(framed).to_bytes(8, "little"))
    pair.same("EXISTS", "n")
