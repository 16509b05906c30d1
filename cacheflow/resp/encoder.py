"""Reply encoding for RESP2 and RESP3.

Handlers build replies with these functions and return encoded bytes, as Redis's
addReply* functions do: encoding once, at the source, keeps the hot path free of
a second dispatch over reply types.  Functions whose wire form differs between
protocol versions take ``proto`` (2 or 3).
"""

from collections.abc import Iterable, Sequence
from typing import Final

CRLF: Final = b"\r\n"
OK: Final = b"+OK\r\n"
QUEUED: Final = b"+QUEUED\r\n"
PONG: Final = b"+PONG\r\n"
ZERO: Final = b":0\r\n"
ONE: Final = b":1\r\n"
EMPTY_ARRAY: Final = b"*0\r\n"
EMPTY_BULK: Final = b"$0\r\n\r\n"
NULL_BULK_RESP2: Final = b"$-1\r\n"
NULL_ARRAY_RESP2: Final = b"*-1\r\n"
NULL_RESP3: Final = b"_\r\n"

_SMALL_INTS: Final = [b":%d\r\n" % i for i in range(-1, 1025)]


def simple(text: bytes | str) -> bytes:
    if isinstance(text, str):
        text = text.encode()
    return b"+" + text + CRLF


def error(message: str) -> bytes:
    """An error reply; CR and LF in the message are replaced, as Redis does."""
    if "\r" in message or "\n" in message:
        message = message.replace("\r", " ").replace("\n", " ")
    return b"-" + message.encode("utf-8", "surrogateescape") + CRLF


def integer(n: int) -> bytes:
    if -1 <= n <= 1024:
        return _SMALL_INTS[n + 1]
    return b":%d\r\n" % n


# Headers of short bulk replies, made once: two concatenations cost about half of one %-format.
_BULK_HEADERS: Final = tuple(b"$%d\r\n" % length for length in range(1024))
_BULK_LINES: Final = tuple(header[:-2] for header in _BULK_HEADERS)


def bulk(value: bytes | bytearray | memoryview) -> bytes:
    length = len(value)
    if length < 1024:
        return _BULK_HEADERS[length] + value + b"\r\n"
    return b"$%d\r\n%b\r\n" % (length, value)


def bulk_line(length: int) -> bytes:
    """``$<length>`` without its line end: for replies built as lines joined by ``\r\n``.

    Joining lines costs one piece per line end instead of two, which halves
    the work for replies of many short elements (ZRANGE ... WITHSCORES).
    """
    return _BULK_LINES[length] if length < 1024 else b"$%d" % length


def bulk_or_null(value: bytes | bytearray | None, proto: int) -> bytes:
    if value is None:
        return NULL_RESP3 if proto == 3 else NULL_BULK_RESP2
    return bulk(value)


def null(proto: int) -> bytes:
    return NULL_RESP3 if proto == 3 else NULL_BULK_RESP2


def null_array(proto: int) -> bytes:
    return NULL_RESP3 if proto == 3 else NULL_ARRAY_RESP2


def array(encoded_items: Sequence[bytes]) -> bytes:
    return b"*%d\r\n%b" % (len(encoded_items), b"".join(encoded_items))


def bulk_array(values: Iterable[bytes | bytearray | None], proto: int) -> bytes:
    lines = [b""]
    count = 0
    nil = b"_" if proto == 3 else b"$-1"
    for v in values:
        if v is None:
            lines.append(nil)
        else:
            lines.append(bulk_line(len(v)))
            lines.append(bytes(v))
        count += 1
    lines[0] = b"*%d" % count
    lines.append(b"")
    return b"\r\n".join(lines)


def map_(encoded_pairs: Sequence[tuple[bytes, bytes]], proto: int) -> bytes:
    """A map reply from (encoded key, encoded value) pairs; a flat array in RESP2."""
    body = b"".join(k + v for k, v in encoded_pairs)
    if proto == 3:
        return b"%%%d\r\n%b" % (len(encoded_pairs), body)
    return b"*%d\r\n%b" % (2 * len(encoded_pairs), body)


def set_(encoded_items: Sequence[bytes], proto: int) -> bytes:
    marker = b"~" if proto == 3 else b"*"
    return b"%b%d\r\n%b" % (marker, len(encoded_items), b"".join(encoded_items))


def format_double(value: float) -> bytes:
    """Redis 7.0's human form of a double: inf, -inf, nan, or %.17g."""
    if value != value:
        return b"nan"
    if value == float("inf"):
        return b"inf"
    if value == float("-inf"):
        return b"-inf"
    return b"%.17g" % value


def double(value: float, proto: int) -> bytes:
    text = format_double(value)
    if proto == 3:
        return b"," + text + CRLF
    return bulk(text)


def boolean(value: bool, proto: int) -> bytes:
    if proto == 3:
        return b"#t\r\n" if value else b"#f\r\n"
    return ONE if value else ZERO


def verbatim(text: bytes, proto: int, fmt: bytes = b"txt") -> bytes:
    if proto == 3:
        return b"=%d\r\n%b:%b\r\n" % (len(text) + 4, fmt, text)
    return bulk(text)


def to_bytes(value: str | bytes | int | float) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, float):
        return format_double(value)
    return str(value).encode()


def pairs(mapping: Iterable[tuple[str | bytes, str | bytes | int | float]], proto: int) -> bytes:
    """A map of bulk keys to bulk or integer values, for CONFIG GET / HELLO style replies."""
    encoded = []
    for k, v in mapping:
        ev = integer(v) if isinstance(v, int) and not isinstance(v, bool) else bulk(to_bytes(v))
        encoded.append((bulk(to_bytes(k)), ev))
    return map_(encoded, proto)
