"""Single values in RDB form: round trips of every type and encoding, old encodings, DUMP payload framing."""

import struct
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rdb_craft import build_ziplist, build_zipmap, string

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from engine_harness import Harness

from cacheflow.config.schema import Config
from cacheflow.rdb import intset, listpack
from cacheflow.rdb.checksum import crc64
from cacheflow.rdb.errors import EmptyValueError, RdbError
from cacheflow.rdb.format import Reader, encode_binary_double, encode_length
from cacheflow.rdb.values import (
    PayloadError,
    dump_payload,
    dump_value,
    load_payload,
    load_value,
    quicklist_nodes,
    set_packed_threshold,
)
from cacheflow.store.keyspace import value_type
from cacheflow.store.sorted_sets import format_score


def contents(value: Any) -> Any:
    kind = value_type(value)
    if kind == b"string":
        return bytes(value)
    if kind == b"list":
        return list(value.values())
    if kind == b"set":
        return sorted(value.members())
    if kind == b"hash":
        return sorted(value.items())
    return [(m, format_score(s)) for s, m in value.pairs()]


def round_trip(value: object, config: Config | None = None) -> object:
    config = config or Config()
    blob = dump_value(value, config)
    reader = Reader(blob, 1)
    loaded = load_value(blob[0], reader, config)
    assert reader.pos == len(blob)
    assert value_type(loaded) == value_type(value)
    assert contents(loaded) == contents(value)
    payload_loaded = load_payload(dump_payload(value, config), config)
    assert contents(payload_loaded) == contents(value)
    return loaded


def encoding(value: Any) -> bytes:
    from cacheflow.commands.keys import object_encoding

    return object_encoding(value)


SCRIPTS: dict[str, tuple[list[list[str]], bytes, int]] = {
    # name: (commands building key k, expected encoding, expected RDB type byte)
    "int": ([["SET", "k", "12345"]], b"int", 0),
    "embstr": ([["SET", "k", "hello"]], b"embstr", 0),
    "raw": ([["SET", "k", "x" * 100]], b"raw", 0),
    "appended": ([["SET", "k", "a"], ["APPEND", "k", "b"]], b"raw", 0),  # loads back as embstr, as in Redis
    "list_small": ([["RPUSH", "k", "a", "1", "-5", "300", "x" * 70]], b"quicklist", 18),
    "list_big": ([["RPUSH", "k", *[f"element-{i}" for i in range(3000)]]], b"quicklist", 18),
    "intset": ([["SADD", "k", "1", "-7", "70000", "9223372036854775807"]], b"intset", 11),
    "set_strings": ([["SADD", "k", "a", "b", "1"]], b"hashtable", 2),
    "set_many_ints": ([["SADD", "k", *[str(i) for i in range(600)]]], b"hashtable", 2),
    "zset_small": ([["ZADD", "k", "1", "a", "2.5", "b", "-0", "c", "inf", "d", "-1e300", "e"]], b"listpack", 17),
    "zset_long_member": ([["ZADD", "k", "1", "a", "2", "m" * 65]], b"skiplist", 5),
    "zset_big": ([["ZADD", "k", *[x for i in range(200) for x in (str(i / 3), f"m{i}")]]], b"skiplist", 5),
    "hash_small": ([["HSET", "k", "f", "v", "n", "12", "e", ""]], b"listpack", 16),
    "hash_long_value": ([["HSET", "k", "f", "v" * 65]], b"hashtable", 4),
    "hash_big": ([["HSET", "k", *[x for i in range(600) for x in (f"f{i}", f"v{i}")]]], b"hashtable", 4),
}


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_round_trip_keeps_contents_and_encoding(name: str) -> None:
    script, expected_encoding, type_byte = SCRIPTS[name]
    h = Harness()
    for cmd in script:
        h(*cmd)
    value = h.db.data[b"k"]
    assert encoding(value) == expected_encoding
    assert dump_value(value, h.config)[0] == type_byte
    loaded_encoding = b"embstr" if name == "appended" else expected_encoding
    assert encoding(round_trip(value, h.config)) == loaded_encoding


def test_zset_skiplist_written_highest_first_and_keeps_negative_zero() -> None:
    h = Harness()
    h("ZADD", "k", "2", "m" * 70)  # a skiplist from the start: -0 survives there
    h("ZADD", "k", "-0", "a", "1", "b")
    value = h.db.data[b"k"]
    blob = dump_value(value, h.config)
    r = Reader(blob, 2)
    assert r.string() == b"m" * 70  # the highest score first, as Redis saves a skiplist
    loaded = round_trip(value)
    assert contents(loaded)[0] == (b"a", b"-0")


def test_list_nodes_split_like_redis_quicklist() -> None:
    elements = [b"x" * 100] * 200
    nodes = quicklist_nodes(elements, -2)
    assert all(isinstance(n, list) for n in nodes)
    sizes = [len(listpack.build(n)) for n in nodes if isinstance(n, list)]  # type: ignore[arg-type]
    assert max(sizes) <= 8192 and len(nodes) == 3
    assert [len(n) for n in quicklist_nodes([b"a"] * 10, 4)] == [4, 4, 2]


@pytest.fixture
def packed_threshold_50() -> Iterator[None]:
    """The threshold is process-wide (as in Redis): always put back."""
    assert set_packed_threshold(50)
    try:
        yield
    finally:
        set_packed_threshold(0)


def test_lists_with_a_huge_element_use_a_plain_node(packed_threshold_50: None) -> None:
    h = Harness()
    h("RPUSH", "k", "a", "y" * 60, "b")
    blob = dump_value(h.db.data[b"k"], h.config)
    assert blob[1] == 3  # three nodes: packed, plain, packed
    r = Reader(blob, 2)
    kinds = []
    for _ in range(3):
        kinds.append(r.length("container"))
        r.string()
    assert kinds == [2, 1, 2]
    round_trip(h.db.data[b"k"])


def test_thresholds_decide_the_encoding_after_loading() -> None:
    h = Harness()
    h("HSET", "k", *[x for i in range(20) for x in (f"f{i}", "v")])
    h("ZADD", "z", *[x for i in range(20) for x in (str(i), f"m{i}")])
    h("SADD", "s", *[str(i) for i in range(20)])
    small = Config()
    small.hash_max_listpack_entries = 10
    small.zset_max_listpack_entries = 10
    small.set_max_intset_entries = 10
    for key in (b"k", b"z", b"s"):
        blob = dump_value(h.db.data[key], h.config)
        loaded = load_value(blob[0], Reader(blob, 1), small)
        assert encoding(loaded) in (b"hashtable", b"skiplist")


def _load(type_byte: int, body: bytes, config: Config | None = None) -> Any:
    return load_value(type_byte, Reader(body), config or Config())


def test_old_encodings_load() -> None:
    long = b"x" * 100
    value = _load(1, encode_length(3) + string(b"a") + string(b"12") + string(long))
    assert (contents(value), encoding(value)) == ([b"a", b"12", long], b"quicklist")
    value = _load(10, string(build_ziplist([b"a", b"-70000", long])))
    assert contents(value) == [b"a", b"-70000", long]
    value = _load(14, encode_length(2) + string(build_ziplist([b"a", b"b"])) + string(build_ziplist([b"5"])))
    assert contents(value) == [b"a", b"b", b"5"]
    value = _load(3, encode_length(3) + string(b"a") + b"\x031.5" + string(b"b") + b"\xfe" + string(b"c") + b"\xff")
    assert (contents(value), encoding(value)) == ([(b"c", b"-inf"), (b"a", b"1.5"), (b"b", b"inf")], b"listpack")
    value = _load(12, string(build_ziplist([b"b", b"2", b"a", b"1.5"])))
    assert (contents(value), encoding(value)) == ([(b"a", b"1.5"), (b"b", b"2")], b"listpack")
    value = _load(13, string(build_ziplist([b"f", long])))
    assert (contents(value), encoding(value)) == ([(b"f", long)], b"listpack")  # Redis keeps it a listpack
    value = _load(9, string(build_zipmap([(b"f", long)])))
    assert (contents(value), encoding(value)) == ([(b"f", long)], b"hashtable")  # a zipmap converts
    value = _load(9, string(build_zipmap([(b"f", b"v"), (b"g", b"1")], free=4)))
    assert (contents(value), encoding(value)) == ([(b"f", b"v"), (b"g", b"1")], b"listpack")
    value = _load(20, string(listpack.build([b"3", b"1"])))  # Redis 7.2's SET_LISTPACK
    assert (contents(value), encoding(value)) == ([b"1", b"3"], b"intset")
    value = _load(11, string(intset.build(list(range(600)))))
    assert encoding(value) == b"hashtable"
    value = _load(17, string(listpack.build([long, b"1"])))
    assert encoding(value) == b"listpack"  # a listpack with a long member stays one, as in Redis


@pytest.mark.parametrize(
    ("type_byte", "body", "message"),
    [
        (2, encode_length(2) + string(b"a") + string(b"a"), "duplicate set"),
        (4, encode_length(2) + string(b"a") + string(b"1") + string(b"a") + string(b"2"), "duplicate hash"),
        (5, encode_length(2) + (string(b"a") + encode_binary_double(1.0)) * 2, "duplicate sorted set"),
        (5, encode_length(1) + string(b"a") + encode_binary_double(float("nan")), "NaN"),
        (3, encode_length(1) + string(b"a") + b"\x03abc", "not a number"),
        (17, string(listpack.build([b"a"])), "odd"),
        (17, string(listpack.build([b"a", b"zz"])), "not a number"),
        (16, string(listpack.build([b"a"])), "field and no value"),
        (18, encode_length(1) + b"\x03" + string(b"x"), "container"),
        (18, encode_length(1) + b"\x02" + string(b"notalistpack"), "bad quicklist listpack"),
        (11, string(b"\x02\x00\x00\x00\x02\x00\x00\x00\x05\x00\x01\x00"), "ascending"),
        (7, b"", "module"),
        (15, b"", "stream"),
        (8, b"", "unknown value type"),
    ],
)
def test_bad_values_are_rdb_errors(type_byte: int, body: bytes, message: str) -> None:
    with pytest.raises(RdbError, match=message):
        _load(type_byte, body)


@pytest.mark.parametrize(
    ("type_byte", "body"),
    [
        (1, encode_length(0)),
        (18, encode_length(0)),
        (18, encode_length(1) + b"\x02" + string(listpack.build([]))),
        (2, encode_length(0)),
        (11, string(intset.build([]))),
        (4, encode_length(0)),
        (16, string(listpack.build([]))),
        (5, encode_length(0)),
        (17, string(listpack.build([]))),
    ],
)
def test_empty_collections(type_byte: int, body: bytes) -> None:
    with pytest.raises(EmptyValueError):
        _load(type_byte, body)


def test_payload_framing() -> None:
    config = Config()
    payload = dump_payload(b"v", config)
    assert payload == b"\x00\x01v\x0a\x00" + crc64(b"\x00\x01v\x0a\x00").to_bytes(8, "little")
    assert load_payload(payload, config) == b"v"
    assert (
        load_payload(
            payload[:3] + b"EXTRA" + payload[3:5] + crc64(payload[:3] + b"EXTRA" + payload[3:5]).to_bytes(8, "little"),
            config,
        )
        == b"v"
    )
    with pytest.raises(PayloadError):
        load_payload(payload[:-1] + b"x", config)
    with pytest.raises(PayloadError):
        load_payload(b"short", config)
    newer = b"\x00\x01v\x0b\x00"
    with pytest.raises(PayloadError):
        load_payload(newer + crc64(newer).to_bytes(8, "little"), config)
    older = b"\x00\x01v\x09\x00"
    assert load_payload(older + crc64(older).to_bytes(8, "little"), config) == b"v"
    bad = b"\x00\x05v\x0a\x00"
    with pytest.raises(RdbError) as info:
        load_payload(bad + crc64(bad).to_bytes(8, "little"), config)
    assert not isinstance(info.value, PayloadError)


def test_hash_field_ttls_use_redis_7_4_metadata_type() -> None:
    h = Harness()
    h("HSET", "k", "a", "1", "b", "2", "c", "3")
    h("HPEXPIREAT", "k", str(h.clock.now_ms() + 50_000), "FIELDS", "1", "b")
    h("HPEXPIREAT", "k", str(h.clock.now_ms() + 10_000), "FIELDS", "1", "c")
    value = h.db.data[b"k"]
    blob = dump_value(value, h.config)
    assert blob[0] == 24
    base = h.clock.now_ms() + 10_000
    assert struct.unpack_from("<Q", blob, 1)[0] == base
    payload = dump_payload(value, h.config)
    assert payload[-10:-8] == b"\x0c\x00"
    loaded: Any = load_payload(payload, h.config)
    assert sorted(loaded.items()) == sorted(value.items())
    assert loaded.ttls == value.ttls
    assert loaded.encoding() == value.encoding() == b"listpackex"
    assert loaded.items() == value.items()  # listpackex order: by expiry, then the rest
