"""Redis's error texts, declared once so handlers and tests agree on the wording."""

from cacheflow.resp.errors import CommandError

SYNTAX = "ERR syntax error"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NO_SUCH_KEY = "ERR no such key"
DB_INDEX = "ERR DB index is out of range"
OVERFLOW = "ERR increment or decrement would overflow"


def wrong_arity(name: str) -> CommandError:
    return CommandError(f"ERR wrong number of arguments for '{name}' command")


def invalid_expire(command: str) -> CommandError:
    return CommandError(f"ERR invalid expire time in '{command}' command")


def parse_int(raw: bytes | bytearray, message: str = NOT_INTEGER) -> int:
    """Parse a signed 64-bit integer as Redis's string2ll does, or raise ``message``.

    string2ll accepts exactly the canonical decimal form (no sign but ``-``, no
    leading zeros, no ``-0``, no blanks).  Up to 18 characters nothing can
    overflow, so a digit loop decides alone (this module is compiled, and
    INCR's argument and every counter value pass here); longer text is accepted
    when int() reads it and formatting it back gives the same bytes.
    """
    return _parse_int(raw if type(raw) is bytes else bytes(raw), message)


def _parse_int(raw: bytes, message: str) -> int:
    """parse_int on ``bytes`` only: compiled, indexing a known type costs a few instructions."""
    size = len(raw)
    if size <= 18:
        negative = size > 1 and raw[0] == 45  # "-"
        start = 1 if negative else 0
        if size > start and (raw[start] != 48 or size == 1):  # no leading zero, no "-0"
            value = 0
            for i in range(start, size):
                c = raw[i]
                if c < 48 or c > 57:
                    break
                value = value * 10 + (c - 48)
            else:
                return -value if negative else value
    elif size <= 20:
        try:
            value = int(raw)
        except ValueError:
            pass
        else:
            if -(2**63) <= value < 2**63 and b"%d" % value == raw:
                return value
    raise CommandError(message)


def parse_float(raw: bytes, message: str = NOT_FLOAT) -> float:
    """Parse a double as Redis's strtold-based parsing does (no NaN, no spaces)."""
    try:
        if not raw or raw[:1].isspace() or raw[-1:].isspace() or b"_" in raw:
            raise ValueError
        value = float(raw)
    except ValueError:
        raise CommandError(message) from None
    if value != value:
        raise CommandError(message)
    return value


_INT_MIN = -(2**31)
_INT_MAX = 2**31 - 1


def parse_c_int(raw: bytes, message: str | None = None) -> int:
    """A 32-bit argument as Redis's getIntFromObjectOrReply reads it, with its two error texts."""
    value = parse_int(raw, message or NOT_INTEGER)
    if not _INT_MIN <= value <= _INT_MAX:
        raise CommandError(message or f"ERR value is out of range, value must between {_INT_MIN} and {_INT_MAX}")
    return value
