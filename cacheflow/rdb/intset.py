"""Redis's intset blob: small sets of integers, sorted, all of one width.

Layout: the width in bytes (u32 LE: 2, 4 or 8), the count (u32 LE), then the
integers in ascending order, little endian, as narrow as the largest
magnitude allows (intsetAdd upgrades the width only when needed, so a
Redis-built intset is always the narrowest).
"""

import struct
from array import array

from cacheflow.rdb.errors import BlobError

_HEADER = struct.Struct("<II")
_CODES = {2: "h", 4: "i", 8: "q"}


def width_for(lo: int, hi: int) -> int:
    if lo >= -(1 << 15) and hi < 1 << 15:
        return 2
    if lo >= -(1 << 31) and hi < 1 << 31:
        return 4
    return 8


def build(values: list[int]) -> bytes:
    """The intset of ascending ``values``."""
    width = width_for(values[0], values[-1]) if values else 2
    body = array(_CODES[width], values)
    if body.itemsize != width:  # pragma: no cover - every supported platform has these widths
        raise AssertionError("unexpected C integer widths")
    if struct.pack("=H", 1) != struct.pack("<H", 1):  # pragma: no cover - big-endian hosts
        body.byteswap()
    return _HEADER.pack(width, len(values)) + body.tobytes()


def parse(blob: bytes) -> list[int]:
    """The integers, checked to be strictly ascending."""
    if len(blob) < 8:
        raise BlobError(0, f"intset of {len(blob)} bytes is shorter than its header")
    width, count = _HEADER.unpack_from(blob, 0)
    code = _CODES.get(width)
    if code is None:
        raise BlobError(0, f"intset width {width} is not 2, 4 or 8")
    if len(blob) != 8 + width * count:
        raise BlobError(4, f"intset of {count} {width}-byte integers cannot be {len(blob)} bytes long")
    body = array(code, blob[8:])
    if struct.pack("=H", 1) != struct.pack("<H", 1):  # pragma: no cover - big-endian hosts
        body.byteswap()
    values = body.tolist()
    for i in range(1, len(values)):
        if values[i - 1] >= values[i]:
            raise BlobError(8 + i * width, "intset is not in strictly ascending order")
    return values
