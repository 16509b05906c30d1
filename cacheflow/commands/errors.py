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


def parse_int(raw: bytes, message: str = NOT_INTEGER) -> int:
    """Parse a signed 64-bit integer as Redis's string2ll does, or raise ``message``."""
    n = len(raw)
    if 0 < n <= 20:
        if raw == b"0":
            return 0
        start = 1 if raw[0] == 45 else 0
        if start < n and 49 <= raw[start] <= 57 and (start + 1 == n or raw[start + 1 :].isdigit()):
            value = int(raw)
            if -(2**63) <= value < 2**63:
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
