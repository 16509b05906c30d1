"""Typed replies: one Python type per RESP reply type.

Plain values (bytes, int, float, bool, None, list) lose distinctions that a
client sometimes needs: a status reply and a bulk string are both text, a set
and an array are both sequences, a verbatim string carries a format, a map may
have keys that cannot be hashed.  redis-cli prints each of these differently,
so the reader marks them with the small subclasses below; code that does not
care can still treat them as the builtins they extend.
"""

from typing import Any, TypeAlias


class SimpleString(bytes):
    """A status reply (``+OK``), as opposed to a bulk string."""


class ErrorReply(bytes):
    """An error reply (``-ERR ...`` or a RESP3 blob error), returned as a value.

    Errors are values rather than exceptions because they also arrive inside
    aggregates (EXEC) and a proxy must pass them through untouched.
    """

    @property
    def message(self) -> str:
        return self.decode("utf-8", "replace")

    @property
    def prefix(self) -> str:
        """The error code, such as ``ERR``, ``WRONGTYPE`` or ``MOVED``."""
        return self.message.split(" ", 1)[0]


class Double(float):
    """A RESP3 double; ``text`` keeps the server's spelling, which printing must not alter."""

    __slots__ = ("text",)

    def __new__(cls, text: bytes) -> "Double":
        self = super().__new__(cls, float(text))
        self.text = text
        return self

    text: bytes


class BigNumber(int):
    """A RESP3 big number."""


class Verbatim(bytes):
    """A RESP3 verbatim string; ``format`` is its three-letter type (``txt``, ``mkd``)."""

    format: bytes

    def __new__(cls, payload: bytes) -> "Verbatim":
        fmt, sep, body = payload.partition(b":")
        if not sep or len(fmt) != 3:
            fmt, body = b"txt", payload
        self = super().__new__(cls, body)
        self.format = fmt
        return self


class RespSet(list["Reply"]):
    """A RESP3 set, kept in wire order (its members may be unhashable)."""


class RespMap(tuple[tuple["Reply", "Reply"], ...]):
    """A RESP3 map as (key, value) pairs in wire order; keys may be unhashable.

    It is a tuple, not a list, so that ``isinstance(reply, list)`` means "an
    array-like aggregate" and never a map.
    """


class Push(list["Reply"]):
    """A RESP3 out-of-band push (pub/sub message, invalidation, ...)."""

    @property
    def kind(self) -> bytes:
        """The push's type, such as ``message`` or ``invalidate``."""
        first = self[0] if self else b""
        return first if isinstance(first, bytes) else b""


# dict only comes from HiredisReader, which reads RESP3 maps into dicts.
Reply: TypeAlias = bytes | int | float | bool | list["Reply"] | RespMap | dict[Any, "Reply"] | None


def pairs(reply: Reply) -> list[tuple[Reply, Reply]]:
    """The (key, value) pairs of a map reply, which RESP2 sends as a flat array."""
    if isinstance(reply, RespMap):
        return list(reply)
    if isinstance(reply, dict):
        return list(reply.items())
    if isinstance(reply, list) and len(reply) % 2 == 0:
        return list(zip(reply[::2], reply[1::2]))
    raise TypeError(f"not a map reply: {reply!r}")


def text(reply: Reply) -> str:
    """A string, status or verbatim reply as text."""
    if isinstance(reply, bytes):
        return reply.decode("utf-8", "replace")
    raise TypeError(f"not a string reply: {reply!r}")
