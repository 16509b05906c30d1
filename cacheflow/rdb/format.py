"""The RDB file's building blocks: opcodes, type codes, lengths, strings, doubles.

Redis 7.0 writes RDB version 10.  A file is ``REDIS0010``, then records each
starting with an opcode byte (AUX, SELECTDB, RESIZEDB, EXPIRETIME_MS, IDLE,
FREQ...) or a value type byte (followed by a key and a value), then EOF and
the CRC-64 of everything before it, little endian (all zeros when the writer
had rdbchecksum off).

Lengths use the first byte's top two bits: ``00`` six bits, ``01`` fourteen
bits (big endian), ``0x80`` a 32-bit and ``0x81`` a 64-bit big-endian
length, ``11`` a special string encoding (8/16/32-bit integer, or LZF).  A
string is either a length and raw bytes, or a special encoding.

``Reader`` decodes these from a ``bytes`` buffer and turns every short read or
impossible value into an ``RdbError`` carrying the offset.  The encoders
produce exactly what Redis's rdbSaveRawString/rdbSaveLen produce, so a file
we write is what Redis would write for the same data (LZF output aside: any
valid LZF stream loads).
"""

import struct

import lzf

from cacheflow.rdb.errors import RdbError

RDB_VERSION = 10
# Redis 7.2 writes version 11; its only new thing for our types is SET_LISTPACK, which we read.
# Redis 7.4's version 12 adds hashes with field TTLs, which we read and write (7.0 cannot hold them).
FIELD_TTL_VERSION = 12
MAX_READ_VERSION = 12
MAGIC = b"REDIS"

# Opcodes.
OP_FUNCTION2 = 245
OP_FUNCTION_PRE_GA = 246
OP_MODULE_AUX = 247
OP_IDLE = 248
OP_FREQ = 249
OP_AUX = 250
OP_RESIZEDB = 251
OP_EXPIRETIME_MS = 252
OP_EXPIRETIME = 253
OP_SELECTDB = 254
OP_EOF = 255

# Value types.
TYPE_STRING = 0
TYPE_LIST = 1
TYPE_SET = 2
TYPE_ZSET = 3
TYPE_HASH = 4
TYPE_ZSET_2 = 5
TYPE_MODULE_PRE_GA = 6
TYPE_MODULE_2 = 7
TYPE_HASH_ZIPMAP = 9
TYPE_LIST_ZIPLIST = 10
TYPE_SET_INTSET = 11
TYPE_ZSET_ZIPLIST = 12
TYPE_HASH_ZIPLIST = 13
TYPE_LIST_QUICKLIST = 14
TYPE_STREAM_LISTPACKS = 15
TYPE_HASH_LISTPACK = 16
TYPE_ZSET_LISTPACK = 17
TYPE_LIST_QUICKLIST_2 = 18
TYPE_STREAM_LISTPACKS_2 = 19
TYPE_SET_LISTPACK = 20
TYPE_STREAM_LISTPACKS_3 = 21
TYPE_HASH_METADATA_PRE_GA = 22
TYPE_HASH_LISTPACK_EX_PRE_GA = 23
TYPE_HASH_METADATA = 24
TYPE_HASH_LISTPACK_EX = 25
FIELD_TTL_TYPES = frozenset((TYPE_HASH_METADATA, TYPE_HASH_LISTPACK_EX))

TYPE_NAMES = {
    TYPE_STRING: "string",
    TYPE_LIST: "list",
    TYPE_SET: "set",
    TYPE_ZSET: "zset",
    TYPE_HASH: "hash",
    TYPE_ZSET_2: "zset-2",
    TYPE_MODULE_PRE_GA: "module-pre-ga",
    TYPE_MODULE_2: "module-2",
    TYPE_HASH_ZIPMAP: "hash-zipmap",
    TYPE_LIST_ZIPLIST: "list-ziplist",
    TYPE_SET_INTSET: "set-intset",
    TYPE_ZSET_ZIPLIST: "zset-ziplist",
    TYPE_HASH_ZIPLIST: "hash-ziplist",
    TYPE_LIST_QUICKLIST: "list-quicklist",
    TYPE_STREAM_LISTPACKS: "stream",
    TYPE_HASH_LISTPACK: "hash-listpack",
    TYPE_ZSET_LISTPACK: "zset-listpack",
    TYPE_LIST_QUICKLIST_2: "list-quicklist-2",
    TYPE_STREAM_LISTPACKS_2: "stream-2",
    TYPE_SET_LISTPACK: "set-listpack",
    TYPE_STREAM_LISTPACKS_3: "stream-3",
    TYPE_HASH_METADATA_PRE_GA: "hash-metadata-pre-ga",
    TYPE_HASH_LISTPACK_EX_PRE_GA: "hash-listpack-ex-pre-ga",
    TYPE_HASH_METADATA: "hash-metadata",
    TYPE_HASH_LISTPACK_EX: "hash-listpack-ex",
}

# Quicklist 2 node containers.
QUICKLIST_NODE_PLAIN = 1
QUICKLIST_NODE_PACKED = 2

# Special string encodings (the low six bits after a 11xxxxxx length byte).
ENC_INT8 = 0
ENC_INT16 = 1
ENC_INT32 = 2
ENC_LZF = 3

# Text doubles (the old ZSET type): a length byte, or one of these markers.
_DOUBLE_NAN = 253
_DOUBLE_POS_INF = 254
_DOUBLE_NEG_INF = 255

# The most an LZF stream can expand: a 3-byte back reference copies at most 264 bytes.
_LZF_MAX_RATIO = 88

_U16 = struct.Struct("<H")
_I16 = struct.Struct("<h")
_I32 = struct.Struct("<i")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_BE32 = struct.Struct(">I")
_BE64 = struct.Struct(">Q")
_DOUBLE = struct.Struct("<d")
_INT_START = frozenset(b"-0123456789")


class Reader:
    """A cursor over a ``bytes`` buffer; ``pos`` is absolute, errors report it."""

    __slots__ = ("data", "pos", "end")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def error(self, message: str, at: int | None = None) -> RdbError:
        return RdbError(self.pos if at is None else at, message)

    def need(self, n: int, what: str) -> None:
        if self.pos + n > self.end:
            raise RdbError(
                self.pos, f"unexpected end of data reading {what}: {n} bytes needed, {self.end - self.pos} left"
            )

    def byte(self, what: str = "a byte") -> int:
        pos = self.pos
        if pos >= self.end:
            raise RdbError(pos, f"unexpected end of data reading {what}")
        self.pos = pos + 1
        return self.data[pos]

    def take(self, n: int, what: str) -> bytes:
        self.need(n, what)
        pos = self.pos
        self.pos = pos + n
        return self.data[pos : pos + n]

    def u64(self, what: str) -> int:
        self.need(8, what)
        value: int = _U64.unpack_from(self.data, self.pos)[0]
        self.pos += 8
        return value

    def i64(self, what: str) -> int:
        value = self.u64(what)
        return value - (1 << 64) if value >= 1 << 63 else value

    def u32(self, what: str) -> int:
        self.need(4, what)
        value: int = _U32.unpack_from(self.data, self.pos)[0]
        self.pos += 4
        return value

    def length_or_encoding(self, what: str) -> tuple[int, bool]:
        """(length, False), or (special string encoding, True) for a ``11xxxxxx`` byte."""
        start = self.pos
        b = self.byte(what)
        kind = b >> 6
        if kind == 0:
            return b, False
        if kind == 1:
            return ((b & 0x3F) << 8) | self.byte(what), False
        if kind == 3:
            return b & 0x3F, True
        if b == 0x80:
            self.need(4, what)
            value: int = _BE32.unpack_from(self.data, self.pos)[0]
            self.pos += 4
            return value, False
        if b == 0x81:
            self.need(8, what)
            value = _BE64.unpack_from(self.data, self.pos)[0]
            self.pos += 8
            return value, False
        raise RdbError(start, f"unknown length encoding 0x{b:02x} in {what}")

    def length(self, what: str) -> int:
        start = self.pos
        n, encoded = self.length_or_encoding(what)
        if encoded:
            raise RdbError(start, f"{what}: a string encoding where a length was expected")
        return n

    def string(self, what: str = "a string") -> bytes:
        start = self.pos
        n, encoded = self.length_or_encoding(what)
        if not encoded:
            return self.take(n, what)
        if n == ENC_INT8:
            v = self.byte(what)
            return b"%d" % (v - 256 if v >= 128 else v)
        if n == ENC_INT16:
            self.need(2, what)
            v = _I16.unpack_from(self.data, self.pos)[0]
            self.pos += 2
            return b"%d" % v
        if n == ENC_INT32:
            self.need(4, what)
            v = _I32.unpack_from(self.data, self.pos)[0]
            self.pos += 4
            return b"%d" % v
        if n == ENC_LZF:
            return self._lzf(start, what)
        raise RdbError(start, f"unknown string encoding {n} in {what}")

    def _lzf(self, start: int, what: str) -> bytes:
        clen = self.length(what + " (LZF compressed length)")
        ulen = self.length(what + " (LZF original length)")
        packed = self.take(clen, what + " (LZF data)")
        if ulen == 0 or clen == 0 or ulen > clen * _LZF_MAX_RATIO:
            raise RdbError(start, f"{what}: impossible LZF lengths (compressed {clen}, original {ulen})")
        try:
            out = lzf.decompress(packed, ulen)
        except ValueError:
            out = None
        if out is None or len(out) != ulen:
            raise RdbError(start, f"{what}: invalid LZF compressed data")
        return bytes(out)

    def binary_double(self, what: str) -> float:
        self.need(8, what)
        value: float = _DOUBLE.unpack_from(self.data, self.pos)[0]
        self.pos += 8
        return value

    def text_double(self, what: str) -> float:
        start = self.pos
        n = self.byte(what)
        if n == _DOUBLE_NAN:
            return float("nan")
        if n == _DOUBLE_POS_INF:
            return float("inf")
        if n == _DOUBLE_NEG_INF:
            return float("-inf")
        text = self.take(n, what)
        try:
            return float(text)
        except ValueError:
            raise RdbError(start, f"{what}: {text!r} is not a number") from None


# -- encoders ---------------------------------------------------------------------------------


def encode_length(n: int) -> bytes:
    if n < 0x40:
        return bytes((n,))
    if n < 0x4000:
        return bytes((0x40 | (n >> 8), n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + _BE32.pack(n)
    return b"\x81" + _BE64.pack(n)


def int_encoding(value: int) -> bytes | None:
    """The special integer encoding of ``value``, or None when it needs more than 32 bits."""
    if -(1 << 7) <= value < 1 << 7:
        return bytes((0xC0 | ENC_INT8, value & 0xFF))
    if -(1 << 15) <= value < 1 << 15:
        return b"\xc1" + _I16.pack(value)
    if -(1 << 31) <= value < 1 << 31:
        return b"\xc2" + _I32.pack(value)
    return None


def encode_string(s: bytes, compress: bool) -> bytes:
    """A string as Redis's rdbSaveRawString writes it.

    Up to 11 bytes that spell a canonical integer within 32 bits become an
    integer encoding; with rdbcompression on, more than 20 bytes are tried
    with LZF and kept compressed when that saves at least 4 bytes; anything
    else is a length and the bytes.
    """
    n = len(s)
    if n <= 11 and n and s[0] in _INT_START:
        try:
            v = int(s)
        except ValueError:
            pass
        else:
            if b"%d" % v == s:
                enc = int_encoding(v)
                if enc is not None:
                    return enc
    if compress and n > 20:
        # Redis gives lzf_compress n - 4 bytes of room; python-lzf adds one to what it is given.
        packed: bytes | None = lzf.compress(s, n - 5)
        if packed:
            return b"\xc3" + encode_length(len(packed)) + encode_length(n) + packed
    if n < 0x40:
        return bytes((n,)) + s
    return encode_length(n) + s


def encode_binary_double(value: float) -> bytes:
    return _DOUBLE.pack(value)


def u64_bytes(value: int) -> bytes:
    return _U64.pack(value & 0xFFFFFFFFFFFFFFFF)


def u16_bytes(value: int) -> bytes:
    return _U16.pack(value)
