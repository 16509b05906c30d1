"""Redis's listpack blob: how small hashes, sorted sets and list nodes travel in an RDB.

Layout: total bytes (u32 LE), element count (u16 LE, 65535 when unknown),
the entries, an 0xFF end byte.  Each entry is an encoding byte (and data),
then its "back length", the size of encoding plus data written big-end
first in 7-bit groups so the blob can be walked backwards.

Encodings, by the first byte:

==============  ======================================================
``0xxxxxxx``    an integer 0..127
``10xxxxxx``    a string of up to 63 bytes
``110xxxxx``    a 13-bit signed integer (with the next byte)
``1110xxxx``    a string of up to 4095 bytes (12-bit length)
``0xF0``        a string with a 32-bit LE length
``0xF1..0xF4``  16, 24, 32, 64-bit signed integers, LE
==============  ======================================================

A string that spells a canonical 64-bit integer (Redis's string2ll) is
stored as the narrowest integer, exactly as lpAppend does, so the blobs we
build are the ones Redis builds.  Parsing checks every length, back length,
the count and the end byte; a malformed blob raises ``BlobError``.
"""

import struct

from cacheflow.rdb.errors import BlobError

_HEADER = struct.Struct("<IH")
_I16 = struct.Struct("<h")
_I32 = struct.Struct("<i")
_I64 = struct.Struct("<q")
_U32 = struct.Struct("<I")
_INT_START = frozenset(b"-0123456789")
EMPTY_SIZE = 7
UNKNOWN_COUNT = 65535


def backlen(n: int) -> bytes:
    """The back length of an entry whose encoding and data take ``n`` bytes (lpEncodeBacklen)."""
    if n <= 127:
        return bytes((n,))
    if n < 16383:
        return bytes((n >> 7, (n & 127) | 128))
    if n < 2097151:
        return bytes((n >> 14, ((n >> 7) & 127) | 128, (n & 127) | 128))
    if n < 268435455:
        return bytes((n >> 21, ((n >> 14) & 127) | 128, ((n >> 7) & 127) | 128, (n & 127) | 128))
    return bytes((n >> 28, ((n >> 21) & 127) | 128, ((n >> 14) & 127) | 128, ((n >> 7) & 127) | 128, (n & 127) | 128))


def canonical_int64(s: bytes) -> int | None:
    """The integer ``s`` spells in string2ll's canonical form, within 64 bits; else None."""
    if 0 < len(s) <= 20 and s[0] in _INT_START:
        try:
            v = int(s)
        except ValueError:
            return None
        if b"%d" % v == s and -(1 << 63) <= v < 1 << 63:
            return v
    return None


def encode_int(v: int) -> bytes:
    if 0 <= v <= 127:
        return bytes((v,))
    if -4096 <= v <= 4095:
        u = v & 0x1FFF
        return bytes((0xC0 | (u >> 8), u & 0xFF))
    if -(1 << 15) <= v < 1 << 15:
        return b"\xf1" + _I16.pack(v)
    if -(1 << 23) <= v < 1 << 23:
        return b"\xf2" + (v & 0xFFFFFF).to_bytes(3, "little")
    if -(1 << 31) <= v < 1 << 31:
        return b"\xf3" + _I32.pack(v)
    return b"\xf4" + _I64.pack(v)


def encode_entry(e: bytes) -> bytes:
    """One entry without its back length."""
    v = canonical_int64(e)
    if v is not None:
        return encode_int(v)
    n = len(e)
    if n < 64:
        return bytes((0x80 | n,)) + e
    if n < 4096:
        return bytes((0xE0 | (n >> 8), n & 0xFF)) + e
    return b"\xf0" + _U32.pack(n) + e


def entry_size(e: bytes) -> int:
    """Bytes one element takes in a listpack, back length included."""
    n = len(encode_entry(e)) if len(e) <= 20 else len(e) + (1 if len(e) < 64 else 2 if len(e) < 4096 else 5)
    return n + len(backlen(n))


def build(elements: list[bytes]) -> bytes:
    parts = []
    for e in elements:
        entry = encode_entry(e)
        parts.append(entry)
        parts.append(backlen(len(entry)))
    body = b"".join(parts)
    n = len(elements)
    return _HEADER.pack(6 + len(body) + 1, n if n < UNKNOWN_COUNT else UNKNOWN_COUNT) + body + b"\xff"


def parse(blob: bytes) -> list[bytes]:
    """Every element, integers as their decimal text."""
    size = len(blob)
    if size < EMPTY_SIZE:
        raise BlobError(0, f"listpack of {size} bytes is shorter than its header")
    total, count = _HEADER.unpack_from(blob, 0)
    if total != size:
        raise BlobError(0, f"listpack header says {total} bytes, the blob has {size}")
    if blob[-1] != 0xFF:
        raise BlobError(size - 1, "listpack does not end with 0xFF")
    last = size - 1
    out: list[bytes] = []
    append = out.append
    pos = 6
    while pos < last:
        start = pos
        b = blob[pos]
        if b < 0x80:
            append(b"%d" % b)
            pos += 1
        elif b < 0xC0:
            pos += 1 + (b & 0x3F)
            append(blob[start + 1 : pos])
        elif b < 0xE0:
            if pos + 1 >= last:
                raise BlobError(start, "listpack entry runs past the end")
            u = ((b & 0x1F) << 8) | blob[pos + 1]
            append(b"%d" % (u - 8192 if u >= 4096 else u))
            pos += 2
        elif b < 0xF0:
            if pos + 1 >= last:
                raise BlobError(start, "listpack entry runs past the end")
            pos += 2 + (((b & 0x0F) << 8) | blob[pos + 1])
            append(blob[start + 2 : pos])
        elif b == 0xF0:
            if pos + 5 > last:
                raise BlobError(start, "listpack entry runs past the end")
            pos += 5 + _U32.unpack_from(blob, pos + 1)[0]
            append(blob[start + 5 : pos])
        elif b <= 0xF4:
            width = (2, 3, 4, 8)[b - 0xF1]
            pos += 1 + width
            if pos > last:
                raise BlobError(start, "listpack entry runs past the end")
            append(b"%d" % int.from_bytes(blob[start + 1 : pos], "little", signed=True))
        else:
            raise BlobError(start, f"unknown listpack entry encoding 0x{b:02x}")
        if pos > last:
            raise BlobError(start, "listpack entry runs past the end")
        n = pos - start
        if n <= 127:
            if blob[pos] != n:
                raise BlobError(pos, "listpack entry has a wrong back length")
            pos += 1
        else:
            back = backlen(n)
            if blob[pos : pos + len(back)] != back:
                raise BlobError(pos, "listpack entry has a wrong back length")
            pos += len(back)
    if pos != last:
        raise BlobError(pos, "listpack entry runs past the end")
    if count != UNKNOWN_COUNT and count != len(out):
        raise BlobError(4, f"listpack header counts {count} elements, the blob holds {len(out)}")
    return out
