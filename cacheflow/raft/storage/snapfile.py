"""The snapshot file format: one Raft snapshot (metadata and state machine data) per file.

Layout::

    offset  size  field
    0       8     magic "CFRAFTSN"
    8       1     snapshot file format version (1)
    9       7     zero
    16      8     payload length L (u64, little-endian)
    24      L     payload: ``codec.encode_snapshot`` (with the codec's own version byte)
    24+L    8     CRC-64 of the payload

The name is ``snap-<index as 16 hex digits>.snap`` so that names sort by index.
A file is written whole under a temporary name and renamed into place (see
``FileStorage``), so a complete-looking name with a bad length or checksum is
damage, never a crash in progress.  Pure: bytes in, values out.
"""

import re
from typing import Final

from cacheflow.raft import codec
from cacheflow.raft.core.log_storage import StorageError
from cacheflow.raft.core.types import Snapshot
from cacheflow.rdb.checksum import crc64

SNAP_VERSION: Final = 1
SNAP_MAGIC: Final = b"CFRAFTSN"
_HEADER: Final = SNAP_MAGIC + bytes([SNAP_VERSION]) + bytes(7)
_NAME: Final = re.compile(r"snap-([0-9a-f]{16})\.snap")


class SnapshotFileError(StorageError):
    """A snapshot file that cannot be read back; names the file."""


def file_name(index: int) -> str:
    return f"snap-{index:016x}.snap"


def index_of(name: str) -> int | None:
    """The snapshot index a file name announces, or None if it is not a snapshot file's name."""
    m = _NAME.fullmatch(name)
    return int(m.group(1), 16) if m else None


def encode(snap: Snapshot) -> bytes:
    payload = codec.encode_snapshot(snap)
    return b"".join((_HEADER, len(payload).to_bytes(8, "little"), payload, crc64(payload).to_bytes(8, "little")))


def decode(data: bytes, path: str) -> Snapshot:
    if len(data) < 32 or data[:8] != SNAP_MAGIC:
        raise SnapshotFileError(f"{path}: not a CacheFlow Raft snapshot file")
    if data[:16] != _HEADER:
        raise SnapshotFileError(f"{path}: unsupported snapshot file format version {data[8]}")
    length = int.from_bytes(data[16:24], "little")
    if length != len(data) - 32:
        raise SnapshotFileError(f"{path}: payload length {length} does not match the file size {len(data)}")
    payload = data[24 : 24 + length]
    if int.from_bytes(data[24 + length :], "little") != crc64(payload):
        raise SnapshotFileError(f"{path}: bad checksum")
    try:
        return codec.decode_snapshot(payload)
    except codec.CodecError as exc:
        raise SnapshotFileError(f"{path}: {exc}") from None
