"""RDB building blocks: lengths, strings (integer and LZF encodings), listpack, ziplist, zipmap, intset."""

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdb_craft import build_ziplist, build_zipmap

from cacheflow.rdb import intset, listpack
from cacheflow.rdb.errors import BlobError, RdbError
from cacheflow.rdb.format import Reader, encode_length, encode_string
from cacheflow.rdb.ziplist import parse_ziplist, parse_zipmap

# -- lengths and strings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "encoded"),
    [
        (0, b"\x00"),
        (63, b"\x3f"),
        (64, b"\x40\x40"),
        (16383, b"\x7f\xff"),
        (16384, b"\x80\x00\x00\x40\x00"),
        (2**32 - 1, b"\x80\xff\xff\xff\xff"),
        (2**32, b"\x81\x00\x00\x00\x01\x00\x00\x00\x00"),
    ],
)
def test_lengths_both_ways(n: int, encoded: bytes) -> None:
    assert encode_length(n) == encoded
    r = Reader(encoded)
    assert r.length("n") == n
    assert r.pos == len(encoded)


@pytest.mark.parametrize(
    ("s", "encoded"),
    [
        (b"0", b"\xc0\x00"),
        (b"-128", b"\xc0\x80"),
        (b"127", b"\xc0\x7f"),
        (b"128", b"\xc1\x80\x00"),
        (b"-32768", b"\xc1\x00\x80"),
        (b"32768", b"\xc2\x00\x80\x00\x00"),
        (b"-2147483648", b"\xc2\x00\x00\x00\x80"),
        (b"2147483648", b"\x0a2147483648"),  # beyond 32 bits: a plain string
        (b"007", b"\x03007"),  # not canonical
        (b"-0", b"\x02-0"),
        (b"+1", b"\x02+1"),
        (b"", b"\x00"),
        (b"hello", b"\x05hello"),
    ],
)
def test_string_encodings(s: bytes, encoded: bytes) -> None:
    assert encode_string(s, True) == encoded
    assert Reader(encoded).string() == s


def test_lzf_only_when_long_compressible_and_enabled() -> None:
    s = b"abc" * 30
    packed = encode_string(s, True)
    assert packed[0] == 0xC3
    assert len(packed) < len(s)
    assert Reader(packed).string() == s
    assert encode_string(s, False) == b"\x40\x5a" + s
    assert encode_string(b"a" * 20, True) == b"\x14" + b"a" * 20  # 20 bytes: never compressed
    random_ish = bytes(range(200))
    assert encode_string(random_ish, True)[0] != 0xC3  # incompressible stays raw


def test_long_string_round_trip() -> None:
    s = bytes(range(256)) * 300
    assert Reader(encode_string(s, True)).string() == s
    assert Reader(encode_string(s, False)).string() == s


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"\x05abc",  # short
        b"\xc1\x01",  # short int16
        b"\xc4",  # unknown special encoding
        b"\xc3\x03\x7f\x01ab",  # LZF: impossible length ratio
        b"\xc3\x03\x05\xffab",  # LZF: data runs short
        b"\xc3\x02\x05\xe0\xff",  # LZF: garbage
        b"\x82\x00",  # unknown length encoding
    ],
)
def test_bad_strings_are_rdb_errors(bad: bytes) -> None:
    with pytest.raises(RdbError):
        Reader(bad).string()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.booleans())
def test_any_string_round_trips(s: bytes, compress: bool) -> None:
    assert Reader(encode_string(s, compress)).string() == s


# -- listpack -----------------------------------------------------------------------------------


def test_listpack_entry_encodings_are_redis_s() -> None:
    # Each entry: encoding (+ data) then back length.
    assert listpack.encode_entry(b"5") == b"\x05"
    assert listpack.encode_entry(b"127") == b"\x7f"
    assert listpack.encode_entry(b"-1") == b"\xdf\xff"  # 13-bit
    assert listpack.encode_entry(b"4095") == b"\xcf\xff"
    assert listpack.encode_entry(b"-4096") == b"\xd0\x00"
    assert listpack.encode_entry(b"4096") == b"\xf1\x00\x10"
    assert listpack.encode_entry(b"-8388608") == b"\xf2\x00\x00\x80"
    assert listpack.encode_entry(b"2147483647") == b"\xf3\xff\xff\xff\x7f"
    assert listpack.encode_entry(b"9223372036854775807") == b"\xf4" + struct.pack("<q", 2**63 - 1)
    assert listpack.encode_entry(b"9223372036854775808") == bytes((0x80 | 19,)) + b"9223372036854775808"
    assert listpack.encode_entry(b"a") == b"\x81a"
    assert listpack.encode_entry(b"x" * 64) == b"\xe0\x40" + b"x" * 64
    assert listpack.encode_entry(b"x" * 4096) == b"\xf0\x00\x10\x00\x00" + b"x" * 4096
    # The blob Redis 7.0 wrote for HSET h f v (seen in a real dump.rdb).
    assert listpack.build([b"f", b"v"]) == b"\x0d\x00\x00\x00\x02\x00\x81f\x02\x81v\x02\xff"


def test_listpack_round_trip_of_every_encoding() -> None:
    elements = [b"0", b"127", b"128", b"-1", b"-4096", b"4095", b"-32768", b"32767", b"8388607"]
    elements += [b"-2147483648", b"2147483647", b"-9223372036854775808", b"9223372036854775807"]
    elements += [b"", b"a", b"x" * 63, b"y" * 64, b"z" * 4095, b"w" * 4096, b"w" * 20000, b"01", b"-0", b" 1"]
    blob = listpack.build(elements)
    assert listpack.parse(blob) == elements
    assert len(blob) == listpack.EMPTY_SIZE + sum(map(listpack.entry_size, elements))


def test_listpack_with_unknown_count() -> None:
    elements = [b"%d" % i for i in range(70000)]
    blob = listpack.build(elements)
    assert blob[4:6] == b"\xff\xff"
    assert listpack.parse(blob) == elements


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=200), st.integers(-(2**63), 2**63 - 1).map(lambda v: b"%d" % v))))
def test_listpack_round_trips(elements: list[bytes]) -> None:
    assert listpack.parse(listpack.build(elements)) == elements


def test_listpack_corruptions_are_blob_errors() -> None:
    good = listpack.build([b"a", b"500", b"x" * 70])
    for cut in range(len(good)):
        with pytest.raises(BlobError):
            listpack.parse(good[:cut])
    bad_count = good[:4] + b"\x05\x00" + good[6:]
    with pytest.raises(BlobError, match="counts"):
        listpack.parse(bad_count)
    bad_back = bytearray(good)
    bad_back[8] = 9  # the first entry's back length
    with pytest.raises(BlobError, match="back length"):
        listpack.parse(bytes(bad_back))
    with pytest.raises(BlobError, match="unknown listpack entry"):
        listpack.parse(b"\x09\x00\x00\x00\x01\x00\xf5\x01\xff")
    for i in range(len(good)):
        for bit in range(8):
            flipped = bytearray(good)
            flipped[i] ^= 1 << bit
            try:
                listpack.parse(bytes(flipped))
            except BlobError:
                pass


# -- ziplist and zipmap ------------------------------------------------------------------------


def test_ziplist_of_every_encoding() -> None:
    elements = [b"0", b"12", b"13", b"-1", b"-128", b"127", b"-32768", b"32767", b"8388607", b"-8388608"]
    elements += [b"2147483647", b"-2147483648", b"9223372036854775807", b"a", b"x" * 63, b"y" * 300]
    elements += [b"z" * 16384, b"01"]
    assert parse_ziplist(build_ziplist(elements)) == elements
    assert parse_ziplist(build_ziplist([])) == []


def test_ziplist_corruptions_are_blob_errors() -> None:
    good = build_ziplist([b"a", b"300", b"x" * 300])
    for cut in range(len(good)):
        with pytest.raises(BlobError):
            parse_ziplist(good[:cut])
    bad_tail = good[:4] + struct.pack("<I", 11) + good[8:]
    with pytest.raises(BlobError, match="tail"):
        parse_ziplist(bad_tail)
    bad_prev = bytearray(good)
    bad_prev[13] = 7  # the second entry's previous-length byte
    with pytest.raises(BlobError, match="previous"):
        parse_ziplist(bytes(bad_prev))


def test_zipmap() -> None:
    pairs = [(b"f", b"v"), (b"long" * 100, b"value" * 100), (b"", b"")]
    flat = [x for pair in pairs for x in pair]
    assert parse_zipmap(build_zipmap(pairs)) == flat
    assert parse_zipmap(build_zipmap(pairs, free=3)) == flat
    good = build_zipmap(pairs)
    for cut in range(len(good)):
        with pytest.raises(BlobError):
            parse_zipmap(good[:cut])


# -- intset ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "width"),
    [([1, 2, 3], 2), ([-32768, 32767], 2), ([-1, 32768], 4), ([0, 2**31], 8), ([-(2**63), 2**63 - 1], 8), ([], 2)],
)
def test_intset_round_trip(values: list[int], width: int) -> None:
    blob = intset.build(values)
    assert struct.unpack_from("<II", blob) == (width, len(values))
    assert intset.parse(blob) == values


def test_intset_corruptions() -> None:
    with pytest.raises(BlobError, match="width"):
        intset.parse(struct.pack("<II", 3, 0))
    with pytest.raises(BlobError, match="cannot be"):
        intset.parse(struct.pack("<IIh", 2, 2, 5))
    with pytest.raises(BlobError, match="ascending"):
        intset.parse(struct.pack("<IIhh", 2, 2, 5, 5))
    with pytest.raises(BlobError, match="shorter"):
        intset.parse(b"\x02\x00")
