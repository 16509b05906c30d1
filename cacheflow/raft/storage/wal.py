"""The write-ahead log's bytes: segment headers, CRC-framed records, and telling a torn tail from corruption.

A segment file is a 16-byte header (``SEGMENT_HEADER``: the magic ``CFRAFTWL``,
the WAL format version, 7 zero bytes) followed by records::

    offset  size  field
    0       1     marker 0xCF
    1       1     record type (RecordType)
    2       2     reserved, zero
    4       4     payload length L (u32, little-endian)
    8       8     CRC-64 of bytes 0..7 (the header check)
    16      L     payload (a ``cacheflow.raft.codec`` encoding, with its own version byte)
    16+L    8     CRC-64 of the payload

Why two checksums: the header's own CRC lets a reader trust the length before
it trusts anything else.  A record whose verified header announces more bytes
than the file holds was cut short by a crash (a torn tail); a record whose
header fails its check is damage, even near the end of the file, because a
lying length could otherwise turn corruption in the middle into a "torn tail"
and silently drop everything after it.  The CRC is Redis's CRC-64 as elsewhere
in CacheFlow (``cacheflow.rdb.checksum``, anycrc's table-driven C).

``scan`` classifies the first bad spot it finds as ``torn`` or not:

- torn: the file ends inside the header, or inside a record whose header is valid;
  or everything from the record's start to the end of the file is zero bytes (a
  file system that grew the file but never wrote the data); or the last record's
  payload fails its CRC and it holds a 512-byte aligned sector of zeros (a sector
  that never reached the disk, as etcd's WAL reasons);
- otherwise corruption: a bad marker, a bad header checksum, a bad payload
  checksum, an unknown record type.

Whether a torn tail may be repaired is the caller's decision (only in the last
segment).  Pure: bytes in, records out.
"""

from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from cacheflow.rdb.checksum import crc64

WAL_VERSION: Final = 1
SEGMENT_MAGIC: Final = b"CFRAFTWL"
SEGMENT_HEADER: Final = SEGMENT_MAGIC + bytes([WAL_VERSION]) + bytes(7)
MARKER: Final = 0xCF
HEADER_SIZE: Final = 16
TRAILER_SIZE: Final = 8
MAX_PAYLOAD: Final = 2**32 - 1
_SECTOR: Final = 512
_ZERO_SECTOR: Final = bytes(_SECTOR)


class RecordType(IntEnum):
    """Numbers are part of the file format: append, never renumber."""

    ENTRIES = 1  # a batch of entries; the log from the first one's index on is replaced by them
    HARD_STATE = 2  # the hard state from now on
    SNAPSHOT = 3  # SnapshotMetadata: the log was reset to this snapshot (its data is in a .snap file)


_RECORD_TYPES: Final = {int(t): t for t in RecordType}


def encode_record(rtype: RecordType, payload: bytes) -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"WAL record payload of {len(payload)} bytes is over the {MAX_PAYLOAD}-byte limit")
    head = bytes((MARKER, rtype, 0, 0)) + len(payload).to_bytes(4, "little")
    return b"".join((head, crc64(head).to_bytes(8, "little"), payload, crc64(payload).to_bytes(8, "little")))


@dataclass(frozen=True, slots=True)
class Record:
    type: RecordType
    offset: int  # of the record's first byte in the file
    payload: memoryview


@dataclass(frozen=True, slots=True)
class Problem:
    """The first bad spot of a segment: at ``offset``, ``reason``; ``torn`` if a crash explains it."""

    offset: int
    reason: str
    torn: bool


def _all_zero(view: memoryview) -> bool:
    return view.nbytes == 0 or (view[0] == 0 and view.tobytes().count(0) == view.nbytes)  # count: one C loop


def _has_zero_sector(data: memoryview, start: int, end: int) -> bool:
    s = -(-start // _SECTOR) * _SECTOR
    while s + _SECTOR <= end:
        if data[s : s + _SECTOR] == _ZERO_SECTOR:
            return True
        s += _SECTOR
    return False


def scan(data: bytes | bytearray | memoryview) -> tuple[list[Record], Problem | None]:
    """The valid records of one segment file's bytes, in order, and the first problem after them."""
    view = memoryview(data)
    size = view.nbytes
    records: list[Record] = []
    if size < HEADER_SIZE:
        if SEGMENT_HEADER.startswith(view.tobytes()) or _all_zero(view):
            return records, Problem(0, "segment header cut short", torn=True)
        return records, Problem(0, "bad segment header", torn=False)
    head = view[:HEADER_SIZE].tobytes()
    if head != SEGMENT_HEADER:
        if head.startswith(SEGMENT_MAGIC) and head[8] != WAL_VERSION:
            return records, Problem(0, f"unsupported WAL format version {head[8]}", torn=False)
        if _all_zero(view):
            return records, Problem(0, "zero-filled segment", torn=True)
        return records, Problem(0, "bad segment header (not a CacheFlow Raft WAL segment)", torn=False)
    off = HEADER_SIZE
    while off < size:
        left = size - off
        if left < HEADER_SIZE:
            if view[off] == MARKER or _all_zero(view[off:]):
                return records, Problem(off, "file ends inside a record header", torn=True)
            return records, Problem(off, f"bad record marker {view[off]:#04x}", torn=False)
        if view[off] != MARKER:
            if _all_zero(view[off:]):
                return records, Problem(off, "zero-filled tail", torn=True)
            return records, Problem(off, f"bad record marker {view[off]:#04x}", torn=False)
        if int.from_bytes(view[off + 8 : off + 16], "little") != crc64(view[off : off + 8]):
            return records, Problem(off, "bad record header checksum", torn=False)
        if view[off + 2] or view[off + 3]:
            return records, Problem(off, "reserved record header bytes are not zero", torn=False)
        length = int.from_bytes(view[off + 4 : off + 8], "little")
        end = off + HEADER_SIZE + length + TRAILER_SIZE
        if end > size:
            return records, Problem(off, f"file ends inside a record of {length} payload bytes", torn=True)
        payload = view[off + HEADER_SIZE : end - TRAILER_SIZE]
        if int.from_bytes(view[end - TRAILER_SIZE : end], "little") != crc64(payload):
            torn = end == size and _has_zero_sector(view, off + HEADER_SIZE, end - TRAILER_SIZE)
            return records, Problem(off, "bad record checksum", torn=torn)
        rtype = _RECORD_TYPES.get(view[off + 1])
        if rtype is None:
            return records, Problem(off, f"unknown record type {view[off + 1]}", torn=False)
        records.append(Record(rtype, off, payload))
        off = end
    return records, None
