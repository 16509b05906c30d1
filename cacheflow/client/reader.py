"""Sans-IO reply readers: bytes in, replies out, for RESP2 and RESP3.

Two readers share one small interface (``feed`` and ``gets``):

- ``HiredisReader`` wraps ``hiredis.Reader``.  It is the fast one, for code
  that only needs values (a proxy, scripts); it folds status replies into
  bytes, sets into lists and maps into dicts.
- ``TypedReader`` keeps every RESP type apart (see ``reply``), which redis-cli
  compatible output needs.  It is pure Python and resumable: an aggregate that
  arrives over many packets is never re-parsed from its start.

Attribute replies (``|``) are read and dropped, as their metadata is optional
by the protocol's definition.
"""

from dataclasses import dataclass, field
from typing import Final, Protocol

import hiredis

from cacheflow.client.reply import (
    BigNumber,
    Double,
    ErrorReply,
    Push,
    Reply,
    RespMap,
    RespSet,
    SimpleString,
    Verbatim,
)


class NotReady:
    """The type of ``NOT_READY``: more bytes are needed for the next reply."""

    _instance: "NotReady | None" = None

    def __new__(cls) -> "NotReady":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_READY"


NOT_READY: Final = NotReady()


class ReplyProtocolError(ConnectionError):
    """The server sent bytes that are not RESP; the connection cannot be trusted any more."""


class ReplyReader(Protocol):
    def feed(self, data: bytes) -> None: ...

    def gets(self) -> Reply | NotReady: ...


class HiredisReader:
    """The fast reader; errors become ``ErrorReply`` values, other types plain builtins."""

    __slots__ = ("_reader",)

    def __init__(self) -> None:
        # hiredis accepts any callable for replyError, though its stub asks for an exception class.
        self._reader = hiredis.Reader(replyError=_hiredis_error, notEnoughData=NOT_READY)  # type: ignore[arg-type]

    def feed(self, data: bytes) -> None:
        self._reader.feed(data)

    def gets(self) -> Reply | NotReady:
        try:
            reply: Reply | NotReady = self._reader.gets()
        except hiredis.ProtocolError as exc:
            raise ReplyProtocolError(f"Protocol error, {exc}") from None
        return reply


def _hiredis_error(message: str) -> ErrorReply:
    return ErrorReply(message.encode("utf-8", "surrogateescape"))


_AGGREGATES: Final = frozenset(b"*%~>|")
_BLOBS: Final = frozenset(b"$=!")


@dataclass(slots=True)
class _Frame:
    """An aggregate whose header was read and whose items are still arriving."""

    kind: int
    expected: int
    items: list[Reply] = field(default_factory=list)


class TypedReader:
    """The exact reader; see the module docstring."""

    __slots__ = ("_buf", "_pos", "_stack")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._pos = 0
        self._stack: list[_Frame] = []

    def feed(self, data: bytes) -> None:
        self._buf += data

    def gets(self) -> Reply | NotReady:
        buf = self._buf
        while True:
            item = self._next_item(buf)
            if isinstance(item, NotReady):
                if self._pos:
                    del buf[: self._pos]
                    self._pos = 0
                return NOT_READY
            if isinstance(item, _Frame):
                if item.expected > 0:
                    self._stack.append(item)
                    continue
                reply = self._attach(_build(item))
            else:
                reply = self._attach(item)
            if not isinstance(reply, NotReady):
                return reply

    def _attach(self, value: "Reply | _Attribute") -> Reply | NotReady:
        """Add a finished value to its parent, closing every aggregate it completes.

        Returns the top-level reply once there is one, else NOT_READY.
        """
        stack = self._stack
        while not isinstance(value, _Attribute):
            if not stack:
                return value
            top = stack[-1]
            top.items.append(value)
            if len(top.items) < top.expected:
                break
            stack.pop()
            value = _build(top)
        return NOT_READY

    def _next_item(self, buf: bytearray) -> "Reply | _Frame | NotReady":
        pos = self._pos
        nl = buf.find(b"\r\n", pos)
        if nl < 0:
            return NOT_READY
        kind = buf[pos]
        line = bytes(buf[pos + 1 : nl])
        if kind in _BLOBS:
            size = _length(line, kind)
            if size < 0:
                self._pos = nl + 2
                return None
            end = nl + 2 + size
            if len(buf) < end + 2:
                return NOT_READY
            data = bytes(buf[nl + 2 : end])
            self._pos = end + 2
            if kind == 36:  # $
                return data
            if kind == 61:  # =
                return Verbatim(data)
            return ErrorReply(data)
        self._pos = nl + 2
        if kind in _AGGREGATES:
            count = _length(line, kind)
            if count < 0:
                return None
            return _Frame(kind, count * 2 if kind in b"%|" else count)
        if kind == 43:  # +
            return SimpleString(line)
        if kind == 45:  # -
            return ErrorReply(line)
        if kind == 58:  # :
            return _length(line, kind)
        if kind == 95:  # _
            return None
        if kind == 44:  # ,
            try:
                return Double(line)
            except ValueError:
                raise ReplyProtocolError("Bad double value") from None
        if kind == 35:  # #
            if line not in (b"t", b"f"):
                raise ReplyProtocolError("Bad bool value")
            return line == b"t"
        if kind == 40:  # (
            try:
                return BigNumber(line)
            except ValueError:
                raise ReplyProtocolError("Bad big number") from None
        raise ReplyProtocolError(f'Protocol error, got "{chr(kind)}" as reply type byte')


class _Attribute:
    """Marks a finished attribute reply, which is dropped rather than delivered."""


_ATTRIBUTE: Final = _Attribute()


def _length(line: bytes, kind: int) -> int:
    try:
        return int(line)
    except ValueError:
        raise ReplyProtocolError(f"Bad {chr(kind)!r} length: {line!r}") from None


def _build(frame: _Frame) -> "Reply | _Attribute":
    items = frame.items
    kind = frame.kind
    if kind == 42:  # *
        return items
    if kind == 37:  # %
        return RespMap(zip(items[::2], items[1::2]))
    if kind == 126:  # ~
        return RespSet(items)
    if kind == 62:  # >
        return Push(items)
    return _ATTRIBUTE
