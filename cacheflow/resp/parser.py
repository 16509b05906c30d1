"""Incremental request parser for the Redis wire protocol (multibulk and inline).

This is the exact, limit-checking parser.  The server's hot path parses packets
of whole, canonical requests itself (resp/packet.py) and falls back to this
parser whenever a request is split across packets, starts with something
other than ``*``, or is not canonical, so this parser decides every protocol
error and every limit.

Invariants:
- A declared bulk or multibulk length is checked against the limits as soon as
  its header line is complete, before any payload is buffered for it.
- Lengths are parsed like Redis's ``string2ll``: no sign other than a leading
  ``-``, no leading zeros, no spaces.
- ``*0`` and ``*-1`` and empty inline lines are skipped without a reply, as in Redis.
"""

from dataclasses import dataclass

from cacheflow.resp.errors import ProtocolError
from cacheflow.resp.inline import split_inline_args

INLINE_MAX_SIZE = 64 * 1024
MULTIBULK_MAX = 2**31 - 1
UNAUTHENTICATED_MULTIBULK_MAX = 10
UNAUTHENTICATED_BULK_MAX = 16384


@dataclass(slots=True)
class Limits:
    """Protocol limits; the server updates these in place on CONFIG SET."""

    max_bulk_len: int = 512 * 1024 * 1024
    query_buffer_limit: int = 1024 * 1024 * 1024


def parse_length(raw: bytes | bytearray) -> int | None:
    """Parse a length field the way Redis's string2ll does; None when invalid."""
    n = len(raw)
    if n == 0 or n > 20:
        return None
    if raw == b"0":
        return 0
    start = 1 if raw[0] == 45 else 0
    if start == n or not 49 <= raw[start] <= 57:
        return None
    for c in raw[start + 1 :]:
        if not 48 <= c <= 57:
            return None
    value = int(raw)
    if not -(2**63) <= value < 2**63:
        return None
    return value


def _line_end(buf: bytearray, char: bytes, start: int) -> int:
    """Where ``char`` ends the line at ``start``, as Redis's strchr sees it: a NUL hides it.

    Redis searches its query buffer as a C string, so a NUL byte before the
    line end makes the line look unfinished (and eventually too long).
    """
    end = buf.find(char, start)
    nul = buf.find(b"\x00", start, end if end >= 0 else len(buf))
    return -1 if nul >= 0 else end


class RequestParser:
    """Accumulates bytes and yields complete requests as lists of bytes.

    ``authenticated`` is consulted for Redis's stricter limits on clients that
    have not yet authenticated (set it from the session).
    """

    __slots__ = ("_buf", "_pos", "_argc", "_args", "_bulk_len", "limits", "authenticated", "last_was_inline")

    def __init__(self, limits: Limits | None = None) -> None:
        self._buf = bytearray()
        self._pos = 0
        self._argc = 0  # remaining bulks of the current multibulk; 0 when between requests
        self._args: list[bytes] = []
        self._bulk_len = -1  # length of the bulk whose header was read, -1 when none
        self.limits = limits or Limits()
        self.authenticated = True
        self.last_was_inline = False

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        self._buf += data

    def pending(self) -> int:
        """Bytes buffered but not yet returned as part of a request."""
        return len(self._buf) - self._pos

    def is_idle(self) -> bool:
        """True when no partial request is buffered."""
        return self._argc == 0 and self._pos >= len(self._buf)

    def get(self) -> list[bytes] | None:
        """Return the next complete request, or None if more bytes are needed.

        Raises ProtocolError for input Redis would reject; the connection must
        then be closed after the replies already produced are sent.
        """
        while True:
            req = self._next()
            if req is None:
                self._compact()
                return None
            if req:
                return req

    def _compact(self) -> None:
        if self._pos:
            del self._buf[: self._pos]
            self._pos = 0

    def _next(self) -> list[bytes] | None:
        buf = self._buf
        if self._argc == 0:
            if self._pos >= len(buf):
                return None
            if buf[self._pos] != 42:  # not '*': an inline command
                self.last_was_inline = True
                return self._inline()
            self.last_was_inline = False
            nl = _line_end(buf, b"\r", self._pos)
            if nl < 0 or nl + 1 >= len(buf):
                if len(buf) - self._pos > INLINE_MAX_SIZE:
                    raise ProtocolError("too big mbulk count string")
                return None
            count = parse_length(buf[self._pos + 1 : nl])
            if count is None or count > MULTIBULK_MAX:
                raise ProtocolError("invalid multibulk length")
            if count > UNAUTHENTICATED_MULTIBULK_MAX and not self.authenticated:
                raise ProtocolError("unauthenticated multibulk length")
            self._pos = nl + 2
            if count <= 0:
                return []
            self._argc = count
            self._args = []
        while self._argc:
            if self._bulk_len < 0:
                if self._pos >= len(buf):
                    return None
                nl = _line_end(buf, b"\r", self._pos)
                if nl < 0 or nl + 1 >= len(buf):
                    if len(buf) - self._pos > INLINE_MAX_SIZE:
                        raise ProtocolError("too big bulk count string")
                    return None
                if buf[self._pos] != 36:  # '$'
                    got = bytes(buf[self._pos : self._pos + 1]).decode("utf-8", "surrogateescape")
                    raise ProtocolError(f"expected '$', got '{got}'")
                size = parse_length(buf[self._pos + 1 : nl])
                if size is None or size < 0 or size > self.limits.max_bulk_len:
                    raise ProtocolError("invalid bulk length")
                if size > UNAUTHENTICATED_BULK_MAX and not self.authenticated:
                    raise ProtocolError("unauthenticated bulk length")
                self._pos = nl + 2
                self._bulk_len = size
            end = self._pos + self._bulk_len
            if len(buf) < end + 2:
                return None
            self._args.append(bytes(buf[self._pos : end]))
            self._pos = end + 2  # Redis skips the two bytes after a bulk without checking them
            self._bulk_len = -1
            self._argc -= 1
        args = self._args
        self._args = []
        return args

    def _inline(self) -> list[bytes] | None:
        buf = self._buf
        nl = _line_end(buf, b"\n", self._pos)
        if nl < 0:
            if len(buf) - self._pos > INLINE_MAX_SIZE:
                raise ProtocolError("too big inline request")
            return None
        end = nl - 1 if nl > self._pos and buf[nl - 1] == 13 else nl
        line = bytes(buf[self._pos : end])
        self._pos = nl + 1
        args = split_inline_args(line)
        if args is None:
            raise ProtocolError("unbalanced quotes in request")
        return args
