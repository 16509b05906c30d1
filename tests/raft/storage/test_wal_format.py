"""The WAL record framing on its own: what ``scan`` calls a torn tail and what it calls damage."""

import pytest

from cacheflow.raft.storage import wal
from cacheflow.raft.storage.wal import RecordType


def segment(*payloads: bytes) -> tuple[bytes, list[int]]:
    data = bytearray(wal.SEGMENT_HEADER)
    offsets = []
    for p in payloads:
        offsets.append(len(data))
        data += wal.encode_record(RecordType.HARD_STATE, p)
    return bytes(data), offsets


def test_records_come_back_in_order_with_their_offsets() -> None:
    data, offsets = segment(b"one", b"", b"three" * 100)
    records, problem = wal.scan(data)
    assert problem is None
    assert [bytes(r.payload) for r in records] == [b"one", b"", b"three" * 100]
    assert [r.offset for r in records] == offsets
    assert all(r.type is RecordType.HARD_STATE for r in records)


def test_every_cut_is_torn_at_the_record_it_cuts() -> None:
    data, offsets = segment(b"alpha", b"beta", b"gamma")
    bounds = [*offsets, len(data)]
    for cut in range(len(data)):
        records, problem = wal.scan(data[:cut])
        if cut < wal.HEADER_SIZE:
            assert problem is not None and problem.torn and problem.offset == 0
            continue
        complete = [b for b in bounds if b <= cut]
        assert len(records) == len(complete) - 1
        if cut in bounds:
            assert problem is None
        else:
            assert problem is not None and problem.torn, (cut, problem)
            assert problem.offset == complete[-1]


def test_every_bit_flip_is_damage_at_the_record_it_hits() -> None:
    data, offsets = segment(b"alpha", b"beta", b"gamma")
    for pos in range(len(data)):
        for bit in range(8):
            bad = bytearray(data)
            bad[pos] ^= 1 << bit
            _records, problem = wal.scan(bytes(bad))
            assert problem is not None and not problem.torn, (pos, bit, problem)
            expected = max([0, *[o for o in offsets if o <= pos]])
            assert problem.offset == expected, (pos, bit, problem)


def test_zero_filled_tail_is_torn_but_zeros_followed_by_data_are_not() -> None:
    data, _offsets = segment(b"alpha", b"beta")
    records, problem = wal.scan(data + bytes(5000))
    assert len(records) == 2 and problem is not None and problem.torn and problem.offset == len(data)
    records, problem = wal.scan(data + bytes(100) + b"\x01")
    assert problem is not None and not problem.torn and problem.offset == len(data)
    assert wal.scan(bytes(10))[1] == wal.Problem(0, "segment header cut short", torn=True)
    assert wal.scan(bytes(4096))[1] == wal.Problem(0, "zero-filled segment", torn=True)


def test_last_record_with_a_zeroed_sector_is_torn_elsewhere_it_is_damage() -> None:
    big = b"\x07" * 3000
    data, offsets = segment(b"alpha", big)
    start = offsets[1] + wal.HEADER_SIZE
    sector = -(-start // 512) * 512
    holed = bytearray(data)
    holed[sector : sector + 512] = bytes(512)
    records, problem = wal.scan(bytes(holed))
    assert len(records) == 1 and problem is not None and problem.torn and problem.offset == offsets[1]
    # The same hole in a record that is not the last is damage.
    data2, offsets2 = segment(b"alpha", big, b"tail")
    holed2 = bytearray(data2)
    holed2[sector : sector + 512] = bytes(512)
    _, problem2 = wal.scan(bytes(holed2))
    assert problem2 is not None and not problem2.torn and problem2.offset == offsets2[1]


def test_other_versions_and_files_are_refused() -> None:
    data, _ = segment(b"x")
    other = bytearray(data)
    other[8] = 2
    assert wal.scan(bytes(other))[1] == wal.Problem(0, "unsupported WAL format version 2", torn=False)
    problem = wal.scan(b"not a wal segment at all")[1]
    assert problem is not None and not problem.torn


def test_unknown_record_type_with_a_valid_frame_is_damage() -> None:
    from cacheflow.rdb.checksum import crc64

    head = bytes((wal.MARKER, 99, 0, 0)) + (1).to_bytes(4, "little")
    rec = head + crc64(head).to_bytes(8, "little") + b"z" + crc64(b"z").to_bytes(8, "little")
    _, problem = wal.scan(wal.SEGMENT_HEADER + rec)
    assert problem == wal.Problem(16, "unknown record type 99", torn=False)


def test_oversized_payload_is_refused() -> None:
    class Huge(bytes):
        def __len__(self) -> int:
            return wal.MAX_PAYLOAD + 1

    with pytest.raises(ValueError, match="limit"):
        wal.encode_record(RecordType.ENTRIES, Huge())
