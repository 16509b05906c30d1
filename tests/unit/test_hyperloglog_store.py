"""The HyperLogLog store module on its own: hashing, encodings, updates, merging, estimation.

Expected bytes and counts were produced by a real redis-server 7.0 (PFADD,
GET, PFCOUNT), so these tests pin Redis's exact format without a socket.
"""

import hashlib
import random

import pytest

from cacheflow.store import hyperloglog as hll


def add(value: bytearray, elements: list[bytes], sparse_max_bytes: int = 3000) -> tuple[bytearray, int]:
    editor = hll.HllEditor(value, sparse_max_bytes)
    updated, corrupt = editor.add_many(elements)
    assert not corrupt
    out = editor.value()
    if updated:
        hll.invalidate_cache(out)
    return out, updated


def registers(value: bytes | bytearray) -> bytes:
    raw = hll.registers_raw(value)
    assert raw is not None
    return bytes(raw)


# -- hashing ----------------------------------------------------------------------------------


def test_batch_hashing_equals_one_at_a_time() -> None:
    rng = random.Random(1)
    items = [rng.randbytes(rng.choice([0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 64, 255, 256, 300])) for _ in range(2000)]
    assert hll.murmurhash64a_many(items) == [hll.murmurhash64a(x) for x in items]
    assert hll.hashes(items[:5]) == [hll.murmurhash64a(x) for x in items[:5]]
    assert hll.murmurhash64a_many([]) == []


def test_pattern_is_register_and_run_length() -> None:
    for element in (b"", b"a", b"hello world", bytes(100)):
        h = hll.murmurhash64a(element)
        index, run = hll.pattern(element)
        assert index == h & 16383
        rest = h >> 14
        expected = 1
        while expected <= 50 and not rest & 1:
            rest >>= 1
            expected += 1
        assert run == expected


# -- Redis's exact bytes --------------------------------------------------------------------------


def test_first_additions_match_redis_bytes() -> None:
    value, updated = add(hll.new_sparse(), [b"a", b"b", b"c"])
    assert updated
    assert value.hex() == "48594c4c01000000000000000000008060f38050b1844bfb80425a"
    assert hll.count(value) == 3
    hll.store_cardinality(value, 3)
    assert value.hex() == "48594c4c01000000030000000000000060f38050b1844bfb80425a"
    assert hll.cached_cardinality(value) == 3


def test_the_sparse_layout_follows_the_order_of_updates() -> None:
    value = hll.new_sparse()
    for i in range(5):
        value, _ = add(value, [b"w%d" % (4 - i)])
    assert value.hex() == "48594c4c0100000000000000000000805f138042568446188449ae804d098041bd"


def test_dense_value_matches_redis() -> None:
    value, _ = add(hll.new_sparse(), [b"el%d" % i for i in range(5000)])
    assert value[4] == hll.DENSE and len(value) == hll.DENSE_SIZE
    assert hashlib.sha256(value).hexdigest() == "8e42f8cea2626592851f4aadfbd7109e21943b62f396e7e4da1263fb338fb478"
    assert hll.count(value) == 5041


def test_merge_matches_redis() -> None:
    m, _ = add(hll.new_sparse(), [b"m%d" % i for i in range(100)])
    assert len(m) == 279 and hll.count(m) == 100
    hll.store_cardinality(m, 100)  # the bytes were taken after a PFCOUNT
    assert hashlib.sha256(m).hexdigest() == "594089355df84a2f26a90e10d7863e4499aab50a707d7106a75eaf83ca9c71dc"
    m2, _ = add(hll.new_sparse(), [b"m%d" % i for i in range(100, 200)])
    dest = hll.HllEditor(hll.new_sparse(), 3000)
    lanes = hll.lanes_max(hll.raw_to_lanes(registers(m)), hll.raw_to_lanes(registers(m2)))
    dest.merge_lanes(lanes)
    merged = dest.value()
    hll.invalidate_cache(merged)
    assert len(merged) == 504 and hll.count(merged) == 201
    hll.store_cardinality(merged, 201)
    assert hashlib.sha256(merged).hexdigest() == "c84d0927ea185d636114c8155e3b3aefa8bb0417d9ce7b33987c658d7cbc7d84"


# -- encodings --------------------------------------------------------------------------------


def test_new_value_is_one_xzero() -> None:
    value = hll.new_sparse()
    assert bytes(value) == b"HYLL\x01\x00\x00\x00" + bytes(8) + b"\x7f\xff"
    assert hll.is_hll(value)
    assert hll.count(value) == 0
    assert hll.decode_sparse(value) == b"Z:16384"


def test_is_hll() -> None:
    dense = bytearray(b"HYLL\x00\x00\x00\x00" + bytes(8) + bytes(12288))
    assert hll.is_hll(dense)
    assert not hll.is_hll(dense[:-1])
    assert not hll.is_hll(b"HYLL\x02" + bytes(13))
    assert not hll.is_hll(b"HYLX\x01" + bytes(13))
    assert not hll.is_hll(b"HYLL\x01" + bytes(10))
    assert hll.is_hll(b"HYLL\x01" + bytes(11))


def test_dense_packing_round_trips() -> None:
    rng = random.Random(3)
    raw = bytes(rng.randrange(64) for _ in range(hll.REGISTERS))
    dense = bytes(16) + hll.raw_to_dense_registers(raw)
    assert bytes(hll.dense_to_raw(dense)) == raw
    # Register i sits at bits 6i..6i+5, least significant bits first.
    packed = int.from_bytes(dense[16:], "little")
    assert all((packed >> (6 * i)) & 63 == raw[i] for i in range(0, hll.REGISTERS, 97))


def test_lanes_max() -> None:
    rng = random.Random(4)
    a = bytes(rng.randrange(64) for _ in range(hll.REGISTERS))
    b = bytes(rng.randrange(64) for _ in range(hll.REGISTERS))
    merged = hll.lanes_to_raw(hll.lanes_max(hll.raw_to_lanes(a), hll.raw_to_lanes(b)))
    assert merged == bytes(max(x, y) for x, y in zip(a, b))


def test_sparse_and_dense_agree() -> None:
    items = [b"%d" % i for i in range(1000)]
    sparse, _ = add(hll.new_sparse(), items, sparse_max_bytes=1 << 20)
    editor = hll.HllEditor(hll.new_sparse(), 3000)
    assert editor.to_dense()
    dense, _ = add(editor.value(), items)
    assert sparse[4] == hll.SPARSE and dense[4] == hll.DENSE
    assert registers(sparse) == registers(dense)
    assert hll.count(sparse) == hll.count(dense)


# -- promotion -----------------------------------------------------------------------------------


def test_a_register_above_32_promotes_to_dense() -> None:
    editor = hll.HllEditor(hll.new_sparse(), 3000)
    assert editor.set(10, 32) == 1
    assert editor.encoding == hll.SPARSE
    assert editor.set(10, 32) == 0
    assert editor.set(11, 33) == 1
    assert editor.encoding == hll.DENSE
    raw = registers(editor.value())
    assert raw[10] == 32 and raw[11] == 33 and sum(1 for r in raw if r) == 2


def test_growth_past_the_limit_promotes_to_dense() -> None:
    editor = hll.HllEditor(hll.new_sparse(), 20)
    assert editor.set(100, 1) == 1  # 18 -> 21 bytes would pass 20
    assert editor.encoding == hll.DENSE
    editor = hll.HllEditor(hll.new_sparse(), 21)
    assert editor.set(100, 1) == 1
    assert editor.encoding == hll.SPARSE
    assert hll.decode_sparse(editor.value()) == b"Z:100 v:1,1 Z:16283"


def test_updates_that_do_not_grow_stay_sparse_at_any_limit() -> None:
    editor = hll.HllEditor(bytearray(b"HYLL\x01\x00\x00\x00" + bytes(8) + b"\x00\x7f\xfe"), 0)
    assert editor.set(0, 3) == 1  # a ZERO of one register becomes a VAL in place
    assert editor.encoding == hll.SPARSE
    assert hll.decode_sparse(editor.value()) == b"v:3,1 Z:16383"


def test_adjacent_equal_values_merge() -> None:
    editor = hll.HllEditor(hll.new_sparse(), 3000)
    for index in range(6):
        editor.set(index, 2)
    assert hll.decode_sparse(editor.value()) == b"v:2,4 v:2,2 Z:16378"


# -- corrupt values ----------------------------------------------------------------------------------


def test_corrupt_sparse_values_are_reported() -> None:
    short = bytearray(b"HYLL\x01\x00\x00\x00" + bytes(8) + b"\x7f\xfe")  # 16383 registers
    assert hll.count(short) is None
    assert hll.registers_raw(short) is None
    editor = hll.HllEditor(short, 3000)
    assert editor.set(16383, 1) == -1
    assert editor.set(5, 1) == 1
    assert not editor.to_dense()
    overflow = b"HYLL\x01\x00\x00\x00" + bytes(8) + b"\x7f\xfd\x83"  # a VAL past the last register
    assert hll.registers_raw(overflow) is None
    assert hll.count(overflow) is None


# -- estimation ---------------------------------------------------------------------------------------


def test_estimate_edges() -> None:
    empty = [hll.REGISTERS] + [0] * 63
    assert hll.estimate(empty) == 0
    one = [hll.REGISTERS - 1, 1] + [0] * 62
    assert hll.estimate(one) == 1


@pytest.mark.parametrize("size", [10, 1000, 100_000])
def test_estimates_are_close(size: int) -> None:
    value, _ = add(hll.new_sparse(), [b"item-%d" % i for i in range(size)])
    card = hll.count(value)
    assert card is not None
    assert abs(card - size) <= max(1, 0.05 * size)


def test_self_test_passes() -> None:
    assert hll.self_test() is None


def test_a_sparse_value_longer_than_any_valid_one_is_corrupt() -> None:
    """Every opcode covers a register, so more than 32768 bytes of them cannot add up to 16384."""
    huge = bytearray(b"HYLL\x01\x00\x00\x00" + bytes(8) + b"\x00" * (hll.MAX_SPARSE_BODY + 1))
    assert hll.count(huge) is None
    assert hll.registers_raw(huge) is None
    assert hll.HllEditor(huge, 3000).set(0, 1) == -1


def test_decoding_finds_the_xzeros() -> None:
    # XZERO(300), VAL(2,1), a 0x45 byte that is an XZERO's second byte, ZERO...
    body = bytes((0x41, 0x2B, 0x84, 0x40, 0x45)) + bytes((0x3F,)) * 10
    ops, spans, xzeros, truncated = hll._decode_body(body)
    assert ops[:3] == [0x412B, 0x84, 0x4045] and xzeros == [0, 2] and not truncated
    assert spans[:3] == [300, 1, 70]
    decoded = hll.Decoded(ops, [], xzeros, truncated)
    assert decoded.encode() == body
    ops, spans, xzeros, truncated = hll._decode_body(b"\x84\x7f")
    assert ops == [0x84, 0x7F00] and truncated and spans == [1, 0x3F01]
