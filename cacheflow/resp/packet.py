"""The hot path's parser: a packet that is exactly whole requests in canonical RESP.

Most packets a server sees hold one or more complete requests, each an array
of bulk strings written the one way clients write them (``*2\\r\\n$3\\r\\nGET
...``).  ``parse_whole_packet`` accepts exactly those and returns the requests;
for anything else it returns None and the caller hands the packet to the
exact parser (resp/parser.py), which decides every protocol error and limit.
So this function never has to be right about bad input, only to refuse it.

Why not hiredis, which DESIGN.md first named for this: for a one-request
packet, ``Reader.feed`` plus two ``gets`` calls cost about four times this
compiled scan (1.45 µs against 0.34 µs for a GET), most of it in the
generic call and argument-parsing machinery around each call, and hiredis
accepts more than it should here (non-canonical lengths, simple strings
where bulk strings belong, bulks over ``proto-max-bulk-len``, and it
preallocates whatever array length a header declares), which the server had
to re-check after every call.

Invariants:
- Accepted only if every request is ``*<count>\\r\\n`` followed by ``count``
  bulk strings ``$<len>\\r\\n<payload>\\r\\n`` and the last one ends the packet.
- Numbers are canonical: digits only, no leading zero (a length may be ``0``),
  a count of 1 to 999,999 and a length at most ``max_bulk_len``.
- Nothing is allocated from a declared size: payloads are slices of the packet.

Positions are ``i64`` (mypyc's native machine integers): the scan is integer
arithmetic and byte compares, and tagged Python ints would check for
overflow at every step (about a third slower on a 16-request packet).
"""

from typing import Final

from mypy_extensions import i64

_STAR: Final = 42
_DOLLAR: Final = 36
_CR: Final = 13
_LF: Final = 10
_ZERO: Final = 48
_NINE: Final = 57
# A count of a million or more is refused here (the exact parser checks it against the limits).
_COUNT_DIGITS: Final = 6
_LENGTH_DIGITS: Final = 10


def _number(data: bytes, pos: i64, end: i64, max_digits: i64) -> tuple[i64, i64]:
    """The canonical decimal at ``pos`` and the position after its CRLF; (-1, -1) if there is none."""
    first = pos
    value: i64 = 0
    while pos < end:
        c = data[pos]
        if c == _CR:
            break
        if c < _ZERO or c > _NINE:
            return -1, -1
        value = value * 10 + (c - _ZERO)
        pos += 1
    digits = pos - first
    if digits == 0 or digits > max_digits or (digits > 1 and data[first] == _ZERO):
        return -1, -1
    if pos + 1 >= end or data[pos + 1] != _LF:
        return -1, -1
    return value, pos + 2


def parse_whole_packet(data: bytes, max_bulk_len: i64) -> list[list[bytes]] | None:
    """The requests filling ``data`` exactly, or None when the exact parser must decide."""
    end: i64 = len(data)
    if end == 0:
        return None
    pos: i64 = 0
    requests: list[list[bytes]] = []
    while pos < end:
        if data[pos] != _STAR:
            return None
        count, pos = _number(data, pos + 1, end, _COUNT_DIGITS)
        if count <= 0:
            return None
        request: list[bytes] = []
        for _ in range(count):
            if pos >= end or data[pos] != _DOLLAR:
                return None
            length, pos = _number(data, pos + 1, end, _LENGTH_DIGITS)
            if length < 0 or length > max_bulk_len:
                return None
            stop = pos + length
            if stop + 2 > end or data[stop] != _CR or data[stop + 1] != _LF:
                return None
            request.append(data[pos:stop])
            pos = stop + 2
        requests.append(request)
    return requests
