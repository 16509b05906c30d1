"""Render replies exactly as redis-cli 7.0 prints them.

Three forms: the human one used on a terminal (``format_tty``), the raw one
used when output is piped (``format_raw``) and CSV (``format_csv``).  Every
function returns bytes, because replies are binary and redis-cli writes them
out untouched.
"""

from typing import Any

from cacheflow.cli.options import OutputMode
from cacheflow.client import (
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

_ESCAPES = {
    ord("\\"): b"\\\\",
    ord('"'): b'\\"',
    ord("\n"): b"\\n",
    ord("\r"): b"\\r",
    ord("\t"): b"\\t",
    ord("\a"): b"\\a",
    ord("\b"): b"\\b",
}
# Every byte's quoted spelling: printable ASCII as itself, the rest escaped.
_QUOTED = [_ESCAPES.get(c, bytes([c]) if 0x20 <= c <= 0x7E else b"\\x%02x" % c) for c in range(256)]


def quote(data: bytes) -> bytes:
    """``data`` in double quotes with redis-cli's escaping (sdscatrepr)."""
    return b'"' + b"".join([_QUOTED[c] for c in data]) + b'"'


def format_reply(
    reply: Reply,
    mode: OutputMode,
    *,
    force_raw: bool = False,
    mb_delim: bytes = b"\n",
    cmd_delim: bytes = b"\n",
) -> bytes:
    """A reply as redis-cli writes it after a command.

    ``force_raw`` is for the commands whose text redis-cli always prints raw
    (INFO, CLIENT LIST...): then no delimiter follows.
    """
    if force_raw:
        return format_raw(reply, mb_delim)
    if mode is OutputMode.STANDARD:
        return format_tty(reply)
    if mode is OutputMode.RAW:
        return format_raw(reply, mb_delim) + cmd_delim
    return format_csv(reply) + b"\n"


def _as_map(reply: dict[Any, Reply]) -> RespMap:
    """A map read by hiredis (a dict) in the form the formatters take."""
    return RespMap(reply.items())


def _aggregate_items(reply: Reply) -> list[Reply] | None:
    """The items of an aggregate reply (a map's keys and values alternate), or None for scalars."""
    if isinstance(reply, dict):
        reply = _as_map(reply)
    if isinstance(reply, RespMap):
        return [x for pair in reply for x in pair]
    if isinstance(reply, list):
        return reply
    return None


def _empty_name(reply: Reply) -> bytes:
    if isinstance(reply, RespMap):
        return b"(empty hash)\n"
    if isinstance(reply, RespSet):
        return b"(empty set)\n"
    if isinstance(reply, Push):
        return b"(empty push)\n"
    return b"(empty array)\n"


def _spans_lines(reply: Reply) -> bool:
    """Whether redis-cli moves a map value that is this reply to its own lines.

    It does so for an aggregate with more than one entry, or with an entry
    (for a map: a value) that itself qualifies; a one-entry aggregate of
    scalars stays on the key's line.
    """
    if isinstance(reply, dict):
        reply = _as_map(reply)
    if isinstance(reply, RespMap):
        return len(reply) > 1 or any(_spans_lines(value) for _, value in reply)
    if isinstance(reply, list):
        return len(reply) > 1 or any(_spans_lines(item) for item in reply)
    return False


def format_tty(reply: Reply, prefix: bytes = b"") -> bytes:
    """The human-readable form; nested lines are indented by ``prefix``."""
    if isinstance(reply, ErrorReply):
        return b"(error) " + reply + b"\n"
    if isinstance(reply, SimpleString | Verbatim):
        return reply + b"\n"
    if isinstance(reply, bytes):
        return quote(reply) + b"\n"
    if reply is None:
        return b"(nil)\n"
    if isinstance(reply, bool):
        return b"(true)\n" if reply else b"(false)\n"
    if isinstance(reply, BigNumber):
        return b"(big number) %d\n" % reply
    if isinstance(reply, int):
        return b"(integer) %d\n" % reply
    if isinstance(reply, Double):
        return b"(double) " + reply.text + b"\n"
    if isinstance(reply, float):
        return b"(double) %s\n" % _float_text(reply)
    if isinstance(reply, dict):
        reply = _as_map(reply)
    if not reply:
        return _empty_name(reply)
    if isinstance(reply, RespMap):
        return _format_map_tty(reply, prefix)
    marker = b"~" if isinstance(reply, RespSet) else b")"
    width = len(str(len(reply)))
    child_prefix = prefix + b" " * (width + 2)
    out = []
    for i, item in enumerate(reply):
        out.append(b"%s%*d%s " % (prefix if i else b"", width, i + 1, marker))
        out.append(format_tty(item, child_prefix))
    return b"".join(out)


def _format_map_tty(reply: RespMap, prefix: bytes) -> bytes:
    width = len(str(len(reply)))
    child_prefix = prefix + b" " * (width + 2)
    out = []
    for i, (key, value) in enumerate(reply):
        out.append(b"%s%*d# " % (prefix if i else b"", width, i + 1))
        out.append(format_tty(key, child_prefix)[:-1])
        out.append(b" => ")
        if _spans_lines(value):
            out.append(b"\n" + child_prefix)
        out.append(format_tty(value, child_prefix))
    return b"".join(out)


def format_raw(reply: Reply, mb_delim: bytes = b"\n") -> bytes:
    """The raw form: bare values, aggregates' items separated by ``mb_delim``."""
    if isinstance(reply, ErrorReply):
        return reply + b"\n"
    if isinstance(reply, bytes):
        return bytes(reply)
    if reply is None:
        return b""
    if isinstance(reply, bool):
        return b"(true)" if reply else b"(false)"
    if isinstance(reply, int):
        return b"%d" % reply
    if isinstance(reply, Double):
        return reply.text
    if isinstance(reply, float):
        return _float_text(reply)
    if isinstance(reply, dict):
        reply = _as_map(reply)
    if isinstance(reply, RespMap):
        return mb_delim.join(format_raw(k, mb_delim) + b" " + format_raw(v, mb_delim) for k, v in reply)
    return mb_delim.join(format_raw(item, mb_delim) for item in reply)


def format_csv(reply: Reply) -> bytes:
    """The CSV form: one line, aggregates flattened, strings quoted."""
    if isinstance(reply, ErrorReply):
        return b"ERROR," + quote(reply)
    if isinstance(reply, bytes):
        return quote(reply)
    if reply is None:
        return b"NULL"
    if isinstance(reply, bool):
        return b"true" if reply else b"false"
    if isinstance(reply, int):
        return b"%d" % reply
    if isinstance(reply, Double):
        return reply.text
    if isinstance(reply, float):
        return _float_text(reply)
    items = _aggregate_items(reply)
    assert items is not None
    return b",".join(format_csv(item) for item in items)


def _float_text(value: float) -> bytes:
    """A double that did not come with its wire spelling (hiredis replies), in Redis 7.0's form."""
    if value != value:
        return b"nan"
    if value in (float("inf"), float("-inf")):
        return b"inf" if value > 0 else b"-inf"
    return b"%.17g" % value


def format_invalidation(reply: Push) -> bytes | None:
    """redis-cli's one-line form of a client-tracking invalidation push, or None for other pushes."""
    if len(reply) != 2 or reply.kind != b"invalidate" or not isinstance(reply[1], list):
        return None
    keys = [k for k in reply[1] if isinstance(k, bytes)]
    return b"-> invalidate: " + b", ".join(b"'" + k + b"'" for k in keys) + b"\n"
