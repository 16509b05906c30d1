"""Builders for RDB input that CacheFlow never writes: ziplists, zipmaps, old record types, whole files.

Shared by the RDB unit tests and the interop tests (which also feed these
files to the real redis-server, proving the builders and therefore our
parsers right).  Written from the format description, not from our decoder.
"""

import struct

from cacheflow.rdb.checksum import crc64
from cacheflow.rdb.format import encode_length, encode_string


def _canonical(e: bytes) -> int | None:
    try:
        v = int(e)
    except ValueError:
        return None
    return v if b"%d" % v == e and -(2**63) <= v < 2**63 else None


def ziplist_entry_encoding(e: bytes) -> bytes:
    v = _canonical(e) if len(e) <= 20 else None
    if v is not None:
        if 0 <= v <= 12:
            return bytes((0xF1 + v,))
        if -(2**7) <= v < 2**7:
            return b"\xfe" + struct.pack("<b", v)
        if -(2**15) <= v < 2**15:
            return b"\xc0" + struct.pack("<h", v)
        if -(2**23) <= v < 2**23:
            return b"\xf0" + (v & 0xFFFFFF).to_bytes(3, "little")
        if -(2**31) <= v < 2**31:
            return b"\xd0" + struct.pack("<i", v)
        return b"\xe0" + struct.pack("<q", v)
    n = len(e)
    if n < 64:
        return bytes((n,)) + e
    if n < 16384:
        return bytes((0x40 | (n >> 8), n & 0xFF)) + e
    return b"\x80" + struct.pack(">I", n) + e


def build_ziplist(elements: list[bytes]) -> bytes:
    entries = []
    prev = 0
    for e in elements:
        prevlen = bytes((prev,)) if prev < 254 else b"\xfe" + struct.pack("<I", prev)
        entry = prevlen + ziplist_entry_encoding(e)
        prev = len(entry)
        entries.append(entry)
    body = b"".join(entries)
    tail = 10 + sum(len(x) for x in entries[:-1]) if entries else 10
    return struct.pack("<IIH", 10 + len(body) + 1, tail, min(len(entries), 65535)) + body + b"\xff"


def _zipmap_len(n: int) -> bytes:
    return bytes((n,)) if n < 254 else b"\xfe" + struct.pack("<I", n)


def build_zipmap(pairs: list[tuple[bytes, bytes]], free: int = 0) -> bytes:
    out = [bytes((min(len(pairs), 254),))]
    for k, v in pairs:
        out += [_zipmap_len(len(k)), k, _zipmap_len(len(v)), bytes((free,)), v, b"\x00" * free]
    out.append(b"\xff")
    return b"".join(out)


def string(s: bytes) -> bytes:
    return encode_string(s, False)


def record(type_byte: int, key: bytes, body: bytes, expire_ms: int | None = None) -> bytes:
    head = b"" if expire_ms is None else b"\xfc" + struct.pack("<q", expire_ms)
    return head + bytes((type_byte,)) + string(key) + body


def rdb_file(records: list[bytes], version: int = 10, db: int = 0, checksum: bool = True) -> bytes:
    body = b"REDIS%04d" % version + b"\xfe" + encode_length(db) + b"".join(records) + b"\xff"
    return body + (crc64(body) if checksum else 0).to_bytes(8, "little")
