"""The AOF frame format: one write effect per frame, checksummed, readable with ``cat``.

A frame is::

    @CF <len>\\r\\n          start marker "@CF ", the payload length in decimal, CRLF
    <payload>               <len> bytes: the effect as a RESP array of bulk strings
    #<crc>!\\r\\n            "#", CRC-64 of the payload as 16 lowercase hex digits, end marker "!\\r\\n"

For example ``SELECT 0`` is stored as::

    @CF 23
    *2
    $6
    SELECT
    $1
    0
    #7a23ad5c1e6b4c5d!

Why this shape:
- The payload stays the RESP command Redis itself would write to its AOF, so a
  person (or ``grep``) reads the file as easily as a Redis AOF, and the payload
  is exactly what replays.
- The length up front lets a reader tell a torn tail (the file ends before the
  announced frame does: a crash during a write) from corruption (the frame is
  all there but its checksum or end marker is wrong), without scanning.
- Two distinct markers catch a wrong length: a length that is too short or too
  long puts something other than ``#<16 hex>!\\r\\n`` where the trailer must be.
- The CRC is Redis's CRC-64 (Jones polynomial), as in RDB files, through
  ``cacheflow.rdb.checksum.crc64`` (anycrc's table-driven C).  Writing, frames
  are built by frame_codec.c when it is compiled (anycrc's per-call cost alone
  was more than a SET's): its own CRC-64 is tested against anycrc's.

Invariants: ``decode_frame`` never raises on any input; it classifies what it
finds as a frame, an incomplete frame (``TORN``: a prefix of some valid frame is
all there is) or corruption (``BadFrame`` with the offset of the frame start and
a reason).  Everything here is pure: bytes in, values out.
"""

from typing import Final

from cacheflow.rdb.checksum import crc64

START: Final = b"@CF "
END: Final = b"!\r\n"
_CRC_DIGITS: Final = 16
_TRAILER_LEN: Final = 1 + _CRC_DIGITS + len(END)  # "#" + hex + "!\r\n"
_MAX_LEN_DIGITS: Final = 12  # up to ~1 TB per frame: far beyond proto-max-bulk-len
_HEX: Final = frozenset(b"0123456789abcdef")
_DIGITS: Final = frozenset(b"0123456789")


def encode_command(argv: list[bytes]) -> bytes:
    """The RESP array of bulk strings for ``argv``, as Redis writes commands to its AOF.

    One join and one format (rather than three appends per argument) measured
    about 40% cheaper per command; this runs for every write while the AOF is on.
    """
    if not argv:
        return b"*0\r\n"
    return b"*%d\r\n$%b\r\n" % (len(argv), b"\r\n$".join([b"%d\r\n%b" % (len(a), a) for a in argv]))


def frame(payload: bytes) -> bytes:
    """Wrap one payload in a frame."""
    return b"@CF %d\r\n%s#%016x!\r\n" % (len(payload), payload, crc64(payload))


def encode_frame_in_python(argv: list[bytes], /) -> bytes:
    """The frame of one command: the definition that frame_codec.c's ``encode_frame`` reproduces."""
    return frame(encode_command(argv))


try:
    # The same bytes in one C call, ~20x cheaper (frame_codec.c says why); built by `make native`.
    from cacheflow.persistence.frame_codec import encode_frame as encode_frame
except ImportError:
    encode_frame = encode_frame_in_python


class BadFrame(Exception):
    """Corruption at ``offset`` (the start of the frame at fault)."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(f"{reason} at offset {offset}")
        self.offset = offset
        self.reason = reason


class Torn(Exception):
    """The data ends inside the frame starting at ``offset``."""

    def __init__(self, offset: int) -> None:
        super().__init__(f"data ends inside the frame at offset {offset}")
        self.offset = offset


def decode_frame(data: bytes | memoryview, pos: int) -> tuple[list[bytes], int]:
    """Decode the frame at ``pos``: (argv, offset after it).

    Raises ``Torn`` when ``data`` ends before the frame does (and nothing seen
    so far is wrong), ``BadFrame`` when something present is wrong.
    """
    end = len(data)
    head_end = pos + len(START)
    have = bytes(data[pos : min(end, head_end)])
    if have != START[: len(have)]:
        raise BadFrame(pos, "bad start marker")
    if end < head_end:
        raise Torn(pos)
    # Length digits, then CRLF.
    i = head_end
    limit = min(end, head_end + _MAX_LEN_DIGITS + 2)
    while i < limit and data[i] in _DIGITS:
        i += 1
    if i == end:
        raise Torn(pos)
    if i == head_end or i - head_end > _MAX_LEN_DIGITS or data[i] != 13:
        raise BadFrame(pos, "bad frame length")
    if i + 1 == end:
        raise Torn(pos)
    if data[i + 1] != 10:
        raise BadFrame(pos, "bad frame length")
    length = int(bytes(data[head_end:i]))
    start = i + 2
    stop = start + length
    trailer_end = stop + _TRAILER_LEN
    if trailer_end > end:
        # Whatever trailer bytes are present must already look right.
        present = bytes(data[stop:end]) if stop < end else b""
        if not _trailer_prefix_ok(present):
            raise BadFrame(pos, "bad end marker")
        raise Torn(pos)
    trailer = bytes(data[stop:trailer_end])
    if trailer[0] != 35 or trailer[-3:] != END or not _HEX.issuperset(trailer[1 : 1 + _CRC_DIGITS]):
        raise BadFrame(pos, "bad end marker")
    payload = bytes(data[start:stop])
    if int(trailer[1 : 1 + _CRC_DIGITS], 16) != crc64(payload):
        raise BadFrame(pos, "bad checksum")
    argv = parse_command(payload)
    if argv is None:
        raise BadFrame(pos, "bad payload")
    return argv, trailer_end


def decode_redis_command(data: bytes, pos: int) -> tuple[list[bytes], int]:
    """Decode a command as Redis writes it to its own AOF, a bare RESP array of bulk strings: (argv,
    offset after it).

    This is how files written by Redis load (its incremental files, an RDB
    preamble's tail, a pre-7 ``appendonly.aof``), and how our writer's frames
    may follow them in the same file.  There is no checksum: as Redis does,
    only the syntax is checked.  Raises ``Torn`` when the data ends inside a
    command that is well formed so far, ``BadFrame`` otherwise.
    """
    end = len(data)
    if data[pos : pos + 1] != b"*":
        raise BadFrame(pos, "bad command array header")
    head = _line(data, pos + 1, pos, b"*")
    count = _strict_int(data[pos + 1 : head])
    if count is None or count < 1:
        raise BadFrame(pos, "bad command array length")
    at = head + 2
    argv: list[bytes] = []
    for _ in range(count):
        if at >= end:
            raise Torn(pos)
        if data[at] != 36:  # "$"
            raise BadFrame(pos, "bad bulk string in command")
        eol = _line(data, at + 1, pos, b"$")
        n = _strict_int(data[at + 1 : eol])
        if n is None:
            raise BadFrame(pos, "bad bulk string length in command")
        start = eol + 2
        stop = start + n
        if stop + 2 > end:
            if stop < end and data[stop:end] != b"\r"[: end - stop]:
                raise BadFrame(pos, "bad bulk string terminator in command")
            raise Torn(pos)
        if data[stop : stop + 2] != b"\r\n":
            raise BadFrame(pos, "bad bulk string terminator in command")
        argv.append(data[start:stop])
        at = stop + 2
    return argv, at


def _line(data: bytes, start: int, pos: int, kind: bytes) -> int:
    """The CRLF ending the decimal number that starts at ``start``: Torn if the data ends first while
    the number still looks right, BadFrame if it does not."""
    limit = start + _MAX_LEN_DIGITS + 2
    eol = data.find(b"\r\n", start, limit)
    if eol >= 0:
        return eol
    tail = data[start : min(len(data), limit)]
    if len(data) < limit and _DIGITS.issuperset(tail.removesuffix(b"\r")):
        raise Torn(pos)
    raise BadFrame(pos, "bad command array length" if kind == b"*" else "bad bulk string length in command")


def _trailer_prefix_ok(present: bytes) -> bool:
    if not present:
        return True
    if present[0] != 35:
        return False
    digits = present[1 : 1 + _CRC_DIGITS]
    if not _HEX.issuperset(digits):
        return False
    tail = present[1 + _CRC_DIGITS :]
    return tail == END[: len(tail)]


def parse_command(payload: bytes) -> list[bytes] | None:
    """A RESP array of bulk strings that is exactly ``payload``, or None (a frame's payload)."""
    try:
        argv, end = decode_redis_command(payload, 0)
    except (BadFrame, Torn):
        return None
    return argv if end == len(payload) else None


def _strict_int(raw: bytes) -> int | None:
    if not raw or not _DIGITS.issuperset(raw) or (len(raw) > 1 and raw[0] == 48):
        return None
    return int(raw)


def later_valid_frame(data: bytes | memoryview, after: int) -> int | None:
    """The offset of a complete, valid frame that starts after ``after``, if any.

    A torn frame can only be the last thing in a file: when a frame that seems
    to run past the end is followed by a valid frame, its length was damaged,
    and the file is corrupt rather than torn.
    """
    raw = bytes(data)
    pos = raw.find(START, after + 1)
    while pos >= 0:
        try:
            decode_frame(raw, pos)
            return pos
        except (BadFrame, Torn):
            pass
        pos = raw.find(START, pos + 1)
    return None
