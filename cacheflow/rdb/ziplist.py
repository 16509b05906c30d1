"""The older compact blobs Redis no longer writes but still loads: ziplist and zipmap.

Redis 7.0 converts both to listpacks when it loads them; we read them into our
own values the same way.  Nothing here writes them.

Ziplist: total bytes (u32 LE), offset of the last entry (u32 LE), element
count (u16 LE, 65535 when unknown), entries, 0xFF.  Each entry is the
previous entry's length (one byte below 254, else 0xFE and a u32 LE), an
encoding, and data:

=================  ====================================================
``00pppppp``       a string of up to 63 bytes
``01pppppp q``     a string of up to 16383 bytes (14-bit, big endian)
``0x80`` + 4       a string with a 32-bit big-endian length
``0xC0`` ``0xD0``  16-bit, 32-bit signed integers (LE)
``0xE0`` ``0xF0``  64-bit, 24-bit signed integers (LE)
``0xFE``           an 8-bit signed integer
``0xF1..0xFD``     an integer 0..12 held in the low four bits (minus 1)
=================  ====================================================

Zipmap (hashes before Redis 2.6): a count byte (254 or more: unknown), then
per pair a key length, the key, a value length, a "free" byte, the value and
that many unused bytes; lengths are one byte below 254, else 0xFE and a u32
LE; 0xFF ends the map.
"""

import struct

from cacheflow.rdb.errors import BlobError

_ZL_HEADER = struct.Struct("<IIH")
_ZL_HEADER_SIZE = 10
_U32 = struct.Struct("<I")
_BE32 = struct.Struct(">I")
_INT_WIDTH = {0xC0: 2, 0xD0: 4, 0xE0: 8, 0xF0: 3, 0xFE: 1}


def parse_ziplist(blob: bytes) -> list[bytes]:
    """Every element, integers as their decimal text."""
    size = len(blob)
    if size < _ZL_HEADER_SIZE + 1:
        raise BlobError(0, f"ziplist of {size} bytes is shorter than its header")
    total, tail, count = _ZL_HEADER.unpack_from(blob, 0)
    if total != size:
        raise BlobError(0, f"ziplist header says {total} bytes, the blob has {size}")
    if blob[-1] != 0xFF:
        raise BlobError(size - 1, "ziplist does not end with 0xFF")
    last = size - 1
    out: list[bytes] = []
    pos = _ZL_HEADER_SIZE
    prev_len = 0
    last_start = _ZL_HEADER_SIZE
    while pos < last:
        start = pos
        b = blob[pos]
        if b < 254:
            prevlen = b
            pos += 1
        elif b == 254:
            if pos + 5 > last:
                raise BlobError(start, "ziplist entry runs past the end")
            prevlen = _U32.unpack_from(blob, pos + 1)[0]
            pos += 5
        else:
            raise BlobError(start, "ziplist end marker inside the entries")
        if prevlen != prev_len:
            raise BlobError(start, f"ziplist entry says the previous one is {prevlen} bytes, it is {prev_len}")
        if pos >= last:
            raise BlobError(start, "ziplist entry runs past the end")
        enc = blob[pos]
        kind = enc >> 6
        if kind == 0:
            pos += 1 + enc
            out.append(blob[pos - enc : pos])
        elif kind == 1:
            if pos + 2 > last:
                raise BlobError(start, "ziplist entry runs past the end")
            n = ((enc & 0x3F) << 8) | blob[pos + 1]
            pos += 2 + n
            out.append(blob[pos - n : pos])
        elif kind == 2:
            if enc != 0x80 or pos + 5 > last:
                raise BlobError(pos, f"bad ziplist string encoding 0x{enc:02x}")
            n = _BE32.unpack_from(blob, pos + 1)[0]
            pos += 5 + n
            out.append(blob[pos - n : pos])
        elif 0xF1 <= enc <= 0xFD:
            out.append(b"%d" % ((enc & 0x0F) - 1))
            pos += 1
        else:
            width = _INT_WIDTH.get(enc)
            if width is None:
                raise BlobError(pos, f"unknown ziplist entry encoding 0x{enc:02x}")
            pos += 1 + width
            if pos > last:
                raise BlobError(start, "ziplist entry runs past the end")
            out.append(b"%d" % int.from_bytes(blob[pos - width : pos], "little", signed=True))
        if pos > last:
            raise BlobError(start, "ziplist entry runs past the end")
        prev_len = pos - start
        last_start = start
    if pos != last:
        raise BlobError(pos, "ziplist entry runs past the end")
    if tail != last_start:
        raise BlobError(4, f"ziplist tail offset {tail} does not point at the last entry ({last_start})")
    if count != 65535 and count != len(out):
        raise BlobError(8, f"ziplist header counts {count} elements, the blob holds {len(out)}")
    return out


def parse_zipmap(blob: bytes) -> list[bytes]:
    """[field, value, field, value, ...] of a zipmap."""
    size = len(blob)
    if size < 2:
        raise BlobError(0, "zipmap shorter than its header")
    count = blob[0]
    out: list[bytes] = []
    pos = 1
    while True:
        if pos >= size:
            raise BlobError(pos, "zipmap has no end marker")
        if blob[pos] == 0xFF:
            break
        for part in ("key", "value"):
            start = pos
            b = blob[pos]
            if b < 254:
                n = b
                pos += 1
            elif b == 254:
                if pos + 5 > size:
                    raise BlobError(start, "zipmap entry runs past the end")
                n = _U32.unpack_from(blob, pos + 1)[0]
                pos += 5
            else:
                raise BlobError(start, f"zipmap {part} length missing")
            free = 0
            if part == "value":
                if pos >= size:
                    raise BlobError(start, "zipmap entry runs past the end")
                free = blob[pos]
                pos += 1
            if pos + n + free > size - 1:
                raise BlobError(start, "zipmap entry runs past the end")
            out.append(blob[pos : pos + n])
            pos += n + free
    if pos != size - 1:
        raise BlobError(pos, "zipmap end marker before the end of the blob")
    if count < 254 and count != len(out) // 2:
        raise BlobError(0, f"zipmap header counts {count} pairs, the blob holds {len(out) // 2}")
    return out
