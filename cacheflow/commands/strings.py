"""String commands.  Values are bytes (or bytearray after in-place edits).

Redis stores a value it has edited in place (APPEND, SETRANGE) as a ``raw``
string; here such a value becomes a ``bytearray`` that later edits extend in
place, which keeps a loop of APPENDs linear instead of quadratic.  Anything
else that keeps a reference to a value beyond one command (COPY, snapshots)
must therefore copy bytearrays.

Every write reports the effect a replica or the AOF must replay to reach the
same state, normalized as in Redis's propagation: relative TTLs become
``SET ... PXAT`` or ``PEXPIREAT``, INCRBYFLOAT becomes ``SET ... KEEPTTL`` so
that float formatting never differs on replay, GETDEL becomes ``DEL``.
"""

import platform
import re
from typing import Final

from cacheflow.commands import errors
from cacheflow.commands.context import Context
from cacheflow.commands.errors import WRONGTYPE, parse_int
from cacheflow.commands.table import Flag, command, index_range
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError

W: Final = Flag.WRITE
R: Final = Flag.READONLY
_STR: Final = ("string",)
_NULL2: Final = encoder.NULL_BULK_RESP2
_OK: Final = encoder.OK
_MAX_MS: Final = 2**63 - 1
_MIN_LL: Final = -(2**63)
_MAX_LL: Final = 2**63 - 1
_TOO_BIG: Final = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"

Str = bytes | bytearray


def string_value(ctx: Context, key: bytes) -> bytes | bytearray | None:
    """The string at ``key`` (counting a hit or miss), None if missing; WRONGTYPE otherwise."""
    value = ctx.db.lookup_read(key)
    if value is None:
        return None
    cls = type(value)
    if cls is bytes or cls is bytearray:
        return value  # type: ignore[return-value]
    raise CommandError(WRONGTYPE)


def _string_for_write(ctx: Context, key: bytes) -> bytes | bytearray | None:
    """Like string_value but without hit/miss statistics, as Redis's write lookups."""
    value = ctx.db.lookup(key)
    if value is None:
        return None
    cls = type(value)
    if cls is bytes or cls is bytearray:
        return value  # type: ignore[return-value]
    raise CommandError(WRONGTYPE)


def expire_at_ms(ctx: Context, raw: bytes, unit_ms: int, absolute: bool, name: str) -> int:
    """Absolute ms for an EX/PX/EXAT/PXAT argument, with Redis's range checks."""
    value = parse_int(raw)
    if value <= 0 or value > _MAX_MS // unit_ms:
        raise errors.invalid_expire(name)
    ms = value * unit_ms
    if not absolute:
        ms += ctx.keyspace.clock.now_ms()
        if ms > _MAX_MS:
            raise errors.invalid_expire(name)
    return ms


def _check_length(ctx: Context, offset: int, extra: int) -> None:
    """Refuse to grow a string past proto-max-bulk-len, the largest value a client could send."""
    if offset + extra > ctx.config.proto_max_bulk_len:
        raise CommandError(_TOO_BIG)


# -- SET and GETEX options -----------------------------------------------------

_NX: Final = 1
_XX: Final = 2
_GET: Final = 4
_KEEPTTL: Final = 8
_PERSIST: Final = 16
# option -> (ms per unit, absolute)
_EXPIRE_UNITS: Final[dict[bytes, tuple[int, bool]]] = {
    b"EX": (1000, False),
    b"PX": (1, False),
    b"EXAT": (1000, True),
    b"PXAT": (1, True),
}


def _parse_options(argv: list[bytes], start: int, for_set: bool) -> tuple[int, bytes | None, bytes]:
    """(flags, expire option or None, its argument) for SET (``for_set``) or GETEX.

    Mirrors Redis's single parser for both commands, including what it
    tolerates: an option may repeat (``EX 1 EX 2`` keeps the last), but two
    different expiry options, NX with XX, or KEEPTTL/PERSIST with an expiry
    are a syntax error.
    """
    flags = 0
    expire: bytes | None = None
    expire_raw = b""
    i = start
    n = len(argv)
    while i < n:
        arg = argv[i]
        opt = arg.upper() if len(arg) <= 7 else b""
        if for_set and opt == b"NX" and not flags & _XX:
            flags |= _NX
        elif for_set and opt == b"XX" and not flags & _NX:
            flags |= _XX
        elif for_set and opt == b"GET":
            flags |= _GET
        elif for_set and opt == b"KEEPTTL" and expire is None:
            flags |= _KEEPTTL
        elif not for_set and opt == b"PERSIST" and expire is None:
            flags |= _PERSIST
        elif (
            opt in _EXPIRE_UNITS
            and not flags & (_KEEPTTL | _PERSIST)
            and (expire is None or expire == opt)
            and i + 1 < n
        ):
            expire = opt
            i += 1
            expire_raw = argv[i]
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    return flags, expire, expire_raw


def _expire_from_option(ctx: Context, option: bytes, raw: bytes, name: str) -> int:
    unit_ms, absolute = _EXPIRE_UNITS[option]
    return expire_at_ms(ctx, raw, unit_ms, absolute, name)


# -- GET, SET and friends ------------------------------------------------------


@command(
    "get",
    2,
    R | Flag.FAST,
    keys=(1, 1, 1),
    categories=_STR,
    group="string",
    summary="Get the value of a key",
    syntax="key",
)
def get(ctx: Context, argv: list[bytes]) -> bytes:
    """The hottest read: a hit in a database without TTLs skips the expiry checks of lookup_read (5% of a GET)."""
    db = ctx.db
    key = argv[1]
    value = db.data.get(key)
    if value is None or db.expires:
        value = db.lookup_read(key)
        if value is None:
            return _NULL2 if ctx.proto == 2 else encoder.NULL_RESP3
    else:
        db.hits += 1
        db.note_access(key, True)
    if isinstance(value, (bytes, bytearray)):
        return encoder.bulk(value)
    raise CommandError(WRONGTYPE)


def _set_key_flags(argv: list[bytes], position: int) -> tuple[str, ...]:
    """SET reads its key only with GET (COMMAND GETKEYSANDFLAGS); Redis looks for the word anywhere after the value."""
    return ("RW", "access", "update") if any(a.lower() == b"get" for a in argv[3:]) else ("OW", "update")


@command(
    "set",
    -3,
    W | Flag.DENYOOM,
    keys=(1, 1, 1),
    whole_values=True,
    key_specs=(
        index_range(
            1, "RW", "access", "update", "variable_flags", notes="RW and ACCESS due to the optional `GET` argument"
        ),
    ),
    key_flags_fn=_set_key_flags,
    categories=_STR,
    group="string",
    summary="Set the string value of a key",
    complexity="O(1)",
    syntax="key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]",
)
def set_(ctx: Context, argv: list[bytes]) -> bytes:
    db = ctx.db
    key = argv[1]
    if len(argv) == 3:
        db.set(key, argv[2])
        ctx.effects.append(argv)
        return _OK
    flags, expire, expire_raw = _parse_options(argv, 3, True)
    expire_at = None if expire is None else _expire_from_option(ctx, expire, expire_raw, "set")
    get_old = flags & _GET
    old: bytes | bytearray | None = None
    if get_old:
        old = string_value(ctx, key)
        exists = old is not None
    else:
        exists = db.lookup(key) is not None
    if (flags & _NX and exists) or (flags & _XX and not exists):
        return encoder.bulk_or_null(old, ctx.proto) if get_old else encoder.null(ctx.proto)
    if flags & _KEEPTTL:
        db.set_keep_ttl(key, argv[2])
        ctx.effects.append([b"SET", key, argv[2], b"KEEPTTL"])
    else:
        db.set(key, argv[2], expire_at)
        if expire_at is None:
            ctx.effects.append([b"SET", key, argv[2]])
        else:
            ctx.effects.append([b"SET", key, argv[2], b"PXAT", b"%d" % expire_at])
    if get_old:
        return encoder.bulk_or_null(old, ctx.proto)
    return _OK


@command(
    "setnx",
    3,
    W | Flag.DENYOOM | Flag.FAST,
    keys=(1, 1, 1),
    whole_values=True,
    key_flags=("OW", "insert"),
    categories=_STR,
    group="string",
    summary="Set the value of a key, only if the key does not exist",
    syntax="key value",
)
def setnx(ctx: Context, argv: list[bytes]) -> bytes:
    key = argv[1]
    if ctx.db.lookup(key) is not None:
        return encoder.ZERO
    ctx.db.set(key, argv[2])
    ctx.effects.append([b"SET", key, argv[2]])
    return encoder.ONE


def _set_with_ttl(ctx: Context, argv: list[bytes], unit_ms: int, name: str) -> bytes:
    key = argv[1]
    at = expire_at_ms(ctx, argv[2], unit_ms, False, name)
    ctx.db.set(key, argv[3], at)
    ctx.effects.append([b"SET", key, argv[3], b"PXAT", b"%d" % at])
    return _OK


@command(
    "setex",
    4,
    W | Flag.DENYOOM,
    keys=(1, 1, 1),
    whole_values=True,
    key_flags=("OW", "update"),
    categories=_STR,
    group="string",
    summary="Set the value and expiration of a key",
    since="2.0.0",
    syntax="key seconds value",
)
def setex(ctx: Context, argv: list[bytes]) -> bytes:
    return _set_with_ttl(ctx, argv, 1000, "setex")


@command(
    "psetex",
    4,
    W | Flag.DENYOOM,
    keys=(1, 1, 1),
    whole_values=True,
    key_flags=("OW", "update"),
    categories=_STR,
    group="string",
    summary="Set the value and expiration in milliseconds of a key",
    since="2.6.0",
    syntax="key milliseconds value",
)
def psetex(ctx: Context, argv: list[bytes]) -> bytes:
    return _set_with_ttl(ctx, argv, 1, "psetex")


@command(
    "getset",
    3,
    W | Flag.DENYOOM | Flag.FAST,
    keys=(1, 1, 1),
    whole_values=True,
    categories=_STR,
    group="string",
    summary="Set the string value of a key and return its old value",
    syntax="key value",
)
def getset(ctx: Context, argv: list[bytes]) -> bytes:
    key = argv[1]
    old = string_value(ctx, key)
    ctx.db.set(key, argv[2])
    ctx.effects.append([b"SET", key, argv[2]])
    return encoder.bulk_or_null(old, ctx.proto)


@command(
    "getdel",
    2,
    W | Flag.FAST,
    keys=(1, 1, 1),
    whole_values=True,
    key_flags=("RW", "access", "delete"),
    categories=_STR,
    group="string",
    summary="Get the value of a key and delete the key",
    since="6.2.0",
    syntax="key",
)
def getdel(ctx: Context, argv: list[bytes]) -> bytes:
    key = argv[1]
    value = string_value(ctx, key)
    if value is None:
        return encoder.null(ctx.proto)
    ctx.db.delete(key)
    ctx.effects.append([b"DEL", key])
    return encoder.bulk(value)


@command(
    "getex",
    -2,
    W | Flag.FAST,
    keys=(1, 1, 1),
    key_specs=(index_range(1, "RW", "access", "update", notes="RW and UPDATE because it changes the TTL"),),
    categories=_STR,
    group="string",
    summary="Get the value of a key and optionally set its expiration",
    since="6.2.0",
    syntax="key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|PERSIST]",
)
def getex(ctx: Context, argv: list[bytes]) -> bytes:
    # Redis checks the syntax first but the expiry's value only once the key
    # is known to hold a string: GETEX missing EX -1 answers nil.
    flags, expire, expire_raw = _parse_options(argv, 2, False)
    key = argv[1]
    value = string_value(ctx, key)
    if value is None:
        return encoder.null(ctx.proto)
    db = ctx.db
    if expire is not None:
        at = _expire_from_option(ctx, expire, expire_raw, "getex")
        if _EXPIRE_UNITS[expire][1] and at <= ctx.keyspace.clock.now_ms():
            db.delete(key)
            ctx.effects.append([b"DEL", key])
        else:
            db.set_expire(key, at)
            ctx.effects.append([b"PEXPIREAT", key, b"%d" % at])
    elif flags & _PERSIST and db.persist(key):
        ctx.effects.append([b"PERSIST", key])
    return encoder.bulk(value)


# -- several keys --------------------------------------------------------------


@command(
    "mget",
    -2,
    R | Flag.FAST,
    keys=(1, -1, 1),
    categories=_STR,
    group="string",
    summary="Get the values of all the given keys",
    complexity="O(N) where N is the number of keys to retrieve.",
    syntax="key [key ...]",
    tips=("request_policy:multi_shard",),
)
def mget(ctx: Context, argv: list[bytes]) -> bytes:
    lookup = ctx.db.lookup_read
    values: list[bytes | bytearray | None] = []
    for key in argv[1:]:
        value = lookup(key)
        cls = type(value)
        values.append(value if cls is bytes or cls is bytearray else None)  # type: ignore[arg-type]
    return encoder.bulk_array(values, ctx.proto)


def _check_pairs(argv: list[bytes], name: str) -> None:
    if len(argv) % 2 == 0:
        raise errors.wrong_arity(name)


@command(
    "mset",
    -3,
    W | Flag.DENYOOM,
    keys=(1, -1, 2),
    whole_values=True,
    key_flags=("OW", "update"),
    categories=_STR,
    group="string",
    summary="Set multiple keys to multiple values",
    since="1.0.1",
    complexity="O(N) where N is the number of keys to set.",
    syntax="key value [key value ...]",
    tips=("request_policy:multi_shard", "response_policy:all_succeeded"),
)
def mset(ctx: Context, argv: list[bytes]) -> bytes:
    _check_pairs(argv, "mset")
    set_key = ctx.db.set
    for i in range(1, len(argv), 2):
        set_key(argv[i], argv[i + 1])
    ctx.effects.append(argv)
    return _OK


@command(
    "msetnx",
    -3,
    W | Flag.DENYOOM,
    keys=(1, -1, 2),
    whole_values=True,
    key_flags=("OW", "insert"),
    categories=_STR,
    group="string",
    summary="Set multiple keys to multiple values, only if none of the keys exist",
    since="1.0.1",
    complexity="O(N) where N is the number of keys to set.",
    syntax="key value [key value ...]",
    tips=("request_policy:multi_shard", "response_policy:agg_min"),
)
def msetnx(ctx: Context, argv: list[bytes]) -> bytes:
    _check_pairs(argv, "msetnx")
    db = ctx.db
    for i in range(1, len(argv), 2):
        if db.lookup(argv[i]) is not None:
            return encoder.ZERO
    for i in range(1, len(argv), 2):
        db.set(argv[i], argv[i + 1])
    ctx.effects.append([b"MSET", *argv[1:]])
    return encoder.ONE


# -- editing in place ----------------------------------------------------------


@command(
    "append",
    3,
    W | Flag.DENYOOM | Flag.FAST,
    keys=(1, 1, 1),
    key_flags=("RW", "insert"),
    categories=_STR,
    group="string",
    summary="Append a value to a key",
    since="2.0.0",
    complexity=(
        "O(1). The amortized time complexity is O(1) assuming the appended value is small and the "
        "already present value is of any size, since the dynamic string library used by Redis will "
        "double the free space available on every reallocation."
    ),
    syntax="key value",
)
def append(ctx: Context, argv: list[bytes]) -> bytes:
    key = argv[1]
    tail = argv[2]
    value = _string_for_write(ctx, key)
    if value is None:
        ctx.db.set(key, tail)
        total = len(tail)
    else:
        _check_length(ctx, len(value), len(tail))
        if isinstance(value, bytearray):
            value.extend(tail)
            total = len(value)
        else:
            grown = bytearray(value)
            grown.extend(tail)
            ctx.db.set_keep_ttl(key, grown)
            total = len(grown)
    # Even an empty append touches the key, as in Redis (it breaks WATCH).
    ctx.effects.append([b"APPEND", key, tail])
    return encoder.integer(total)


@command(
    "setrange",
    4,
    W | Flag.DENYOOM,
    keys=(1, 1, 1),
    key_flags=("RW", "update"),
    categories=_STR,
    group="string",
    summary="Overwrite part of a string at key starting at the specified offset",
    since="2.2.0",
    complexity=(
        "O(1), not counting the time taken to copy the new string in place. Usually, this string is "
        "very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being "
        "the length of the value argument."
    ),
    syntax="key offset value",
)
def setrange(ctx: Context, argv: list[bytes]) -> bytes:
    key = argv[1]
    offset = parse_int(argv[2])
    if offset < 0:
        raise CommandError("ERR offset is out of range")
    piece = argv[3]
    old = _string_for_write(ctx, key)
    if not piece:
        return encoder.ZERO if old is None else encoder.integer(len(old))
    _check_length(ctx, offset, len(piece))
    end = offset + len(piece)
    if old is None:
        value = bytearray(end)
        ctx.db.set(key, value)
    elif isinstance(old, bytearray):
        value = old
    else:
        value = bytearray(old)
        ctx.db.set_keep_ttl(key, value)
    if end > len(value):
        value.extend(bytes(end - len(value)))
    value[offset:end] = piece
    ctx.effects.append([b"SETRANGE", key, b"%d" % offset, piece])
    return encoder.integer(len(value))


@command(
    "strlen",
    2,
    R | Flag.FAST,
    keys=(1, 1, 1),
    key_flags=("RO",),
    categories=_STR,
    group="string",
    summary="Get the length of the value stored in a key",
    since="2.2.0",
    syntax="key",
)
def strlen(ctx: Context, argv: list[bytes]) -> bytes:
    value = string_value(ctx, argv[1])
    return encoder.ZERO if value is None else encoder.integer(len(value))


_RANGE_COMPLEXITY: Final = (
    "O(N) where N is the length of the returned string. The complexity is ultimately determined by "
    "the returned length, but because creating a substring from an existing string is very cheap, "
    "it can be considered O(1) for small strings."
)


@command(
    "substr",
    4,
    R,
    keys=(1, 1, 1),
    categories=_STR,
    group="string",
    summary="Get a substring of the string stored at a key",
    complexity=_RANGE_COMPLEXITY,
    syntax="key start end",
)
@command(
    "getrange",
    4,
    R,
    keys=(1, 1, 1),
    categories=_STR,
    group="string",
    summary="Get a substring of the string stored at a key",
    since="2.4.0",
    complexity=_RANGE_COMPLEXITY,
    syntax="key start end",
)
def getrange(ctx: Context, argv: list[bytes]) -> bytes:
    # Redis 7.0's clamping, quirks included: an end that is still negative
    # after adding the length becomes 0, so GETRANGE "hello" 0 -100 is "h".
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    value = string_value(ctx, argv[1])
    if value is None:
        return encoder.EMPTY_BULK
    n = len(value)
    if start < 0 and end < 0 and start > end:
        return encoder.EMPTY_BULK
    if start < 0:
        start = max(start + n, 0)
    if end < 0:
        end = max(end + n, 0)
    if end >= n:
        end = n - 1
    if start > end or n == 0:
        return encoder.EMPTY_BULK
    return encoder.bulk(value[start : end + 1])


# -- counters ------------------------------------------------------------------


def _incr(ctx: Context, argv: list[bytes], delta: int) -> bytes:
    key = argv[1]
    db = ctx.db
    value = db.data.get(key)
    if value is not None and (db.expires or type(value) is not bytes):
        value = _string_for_write(ctx, key)  # expiry, bytearray or WRONGTYPE: the general path
    if value is None:
        result = delta
    else:
        result = parse_int(value) + delta
        if not _MIN_LL <= result <= _MAX_LL:
            raise CommandError(errors.OVERFLOW)
    # The TTL survives, as Redis overwrites the value in place.
    db.set_keep_ttl(key, b"%d" % result)
    ctx.effects.append(argv)
    return encoder.integer(result)


_COUNTER: Final = W | Flag.DENYOOM | Flag.FAST


@command(
    "incr",
    2,
    _COUNTER,
    keys=(1, 1, 1),
    whole_values=True,
    categories=_STR,
    group="string",
    summary="Increment the integer value of a key by one",
    syntax="key",
)
def incr(ctx: Context, argv: list[bytes]) -> bytes:
    return _incr(ctx, argv, 1)


@command(
    "decr",
    2,
    _COUNTER,
    keys=(1, 1, 1),
    whole_values=True,
    categories=_STR,
    group="string",
    summary="Decrement the integer value of a key by one",
    syntax="key",
)
def decr(ctx: Context, argv: list[bytes]) -> bytes:
    return _incr(ctx, argv, -1)


@command(
    "incrby",
    3,
    _COUNTER,
    keys=(1, 1, 1),
    whole_values=True,
    categories=_STR,
    group="string",
    summary="Increment the integer value of a key by the given amount",
    syntax="key increment",
)
def incrby(ctx: Context, argv: list[bytes]) -> bytes:
    return _incr(ctx, argv, parse_int(argv[2]))


@command(
    "decrby",
    3,
    _COUNTER,
    keys=(1, 1, 1),
    whole_values=True,
    categories=_STR,
    group="string",
    summary="Decrement the integer value of a key by the given number",
    syntax="key decrement",
)
def decrby(ctx: Context, argv: list[bytes]) -> bytes:
    amount = parse_int(argv[2])
    if amount == _MIN_LL:
        raise CommandError("ERR decrement would overflow")
    return _incr(ctx, argv, -amount)


@command(
    "incrbyfloat",
    3,
    _COUNTER,
    keys=(1, 1, 1),
    whole_values=True,
    categories=_STR,
    group="string",
    summary="Increment the float value of a key by the given amount",
    since="2.6.0",
    syntax="key increment:double",
)
def incrbyfloat(ctx: Context, argv: list[bytes]) -> bytes:
    key = argv[1]
    value = _string_for_write(ctx, key)
    current = _LD_ZERO if value is None else parse_long_double(value)
    increment = parse_long_double(argv[2])
    total = None if current is None or increment is None else long_double_add(current, increment)
    if total is None:
        raise CommandError("ERR increment would produce NaN or Infinity")
    text = format_long_double(total)
    ctx.db.set_keep_ttl(key, text)
    ctx.effects.append([b"SET", key, text, b"KEEPTTL"])
    return encoder.bulk(text)


# -- long double arithmetic ----------------------------------------------------
#
# INCRBYFLOAT (and HINCRBYFLOAT) compute in C's long double and print with
# "%.17Lf" before trimming zeros, so Redis answers 0.1 + 0.2 with "0.3" where
# a double would give "0.30000000000000004".  Python has no long double, so
# values are kept exactly as mantissa * 2**exponent and rounded the way the
# hardware would: a 64-bit mantissa on x86 (80-bit extended precision), a
# 113-bit one where long double is IEEE quad.  Both have a 15-bit exponent.

LongDouble = tuple[int, int]  # (signed mantissa, binary exponent): mantissa * 2**exponent

_LD_BITS: Final = 64 if platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86") else 113
_LD_MIN_EXP: Final = -16382 - (_LD_BITS - 1)  # exponent of the smallest subnormal
_LD_MAX_EXP: Final = 16384  # every finite value is below 2**16384
_LD_ZERO: Final[LongDouble] = (0, 0)
_MAX_LONG_DOUBLE_CHARS: Final = 5 * 1024  # Redis refuses longer float strings
_DIGIT_CHUNK: Final = 256  # digits per int<->str step, below Python's conversion limit
_TEN_TO_CHUNK: Final = 10**_DIGIT_CHUNK
_HUMAN_PRECISION: Final = 10**17

# What glibc's strtold accepts, minus what Redis's string2ld rejects (spaces).
_DECIMAL_RE: Final = re.compile(rb"([+-]?)(?=\.?[0-9])([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")
_HEX_RE: Final = re.compile(rb"([+-]?)0[xX](?=\.?[0-9a-fA-F])([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?")
_INF_RE: Final = re.compile(rb"[+-]?(?:inf|infinity)", re.IGNORECASE)


def _decimal_digits_to_int(digits: bytes) -> int:
    """int(digits) for any length: Python refuses to convert over ~4300 digits at once."""
    n = 0
    for i in range(0, len(digits), _DIGIT_CHUNK):
        chunk = digits[i : i + _DIGIT_CHUNK]
        n = n * 10 ** len(chunk) + int(chunk)
    return n


def _int_to_decimal(n: int) -> bytes:
    """b"%d" % n for any size (a long double's integer part has up to 4933 digits)."""
    if n < _TEN_TO_CHUNK:
        return b"%d" % n
    high, low = divmod(n, _TEN_TO_CHUNK)
    return _int_to_decimal(high) + b"%0*d" % (_DIGIT_CHUNK, low)


def _exponent(raw: bytes | None) -> int:
    """An exponent field, clamped: beyond a billion only its sign matters."""
    if raw is None:
        return 0
    negative = raw[:1] == b"-"
    digits = raw.lstrip(b"+-").lstrip(b"0")
    value = int(digits or b"0") if len(digits) <= 9 else 10**10
    return -value if negative else value


def _round_long_double(negative: bool, num: int, den: int) -> LongDouble | None:
    """num/den (both positive) rounded to nearest-even as a long double; None on overflow."""
    e = num.bit_length() - den.bit_length()
    if (num < (den << e)) if e >= 0 else ((num << -e) < den):
        e -= 1
    scale = max(e - (_LD_BITS - 1), _LD_MIN_EXP)
    if scale >= 0:
        q, r = divmod(num, den << scale)
        twice, whole = 2 * r, den << scale
    else:
        q, r = divmod(num << -scale, den)
        twice, whole = 2 * r, den
    if twice > whole or (twice == whole and q & 1):
        q += 1
    if q.bit_length() + scale > _LD_MAX_EXP:
        return None
    return (-q if negative else q), scale


def parse_long_double(raw: Str) -> LongDouble | None:
    """Parse like Redis's string2ld (strtold): None means ±infinity.

    Raises ``ERR value is not a valid float`` for anything else strtold would
    not consume whole, for NaN, and for finite input that overflows or
    underflows to zero.
    """
    text = bytes(raw)
    if not 0 < len(text) < _MAX_LONG_DOUBLE_CHARS:
        raise CommandError(errors.NOT_FLOAT)
    match = _DECIMAL_RE.fullmatch(text)
    if match is not None:
        sign, whole, fraction, exp = match.groups()
        digits = (whole + (fraction or b"")).lstrip(b"0")
        if not digits:
            return _LD_ZERO
        power = _exponent(exp) - len(fraction or b"")
        magnitude = power + len(digits)  # 10**(magnitude-1) <= value < 10**magnitude
        if magnitude > 4940 or magnitude < -4975:
            raise CommandError(errors.NOT_FLOAT)
        mantissa = _decimal_digits_to_int(digits)
        if power >= 0:
            num, den = mantissa * 10**power, 1
        else:
            num, den = mantissa, 10**-power
    else:
        match = _HEX_RE.fullmatch(text)
        if match is None:
            if _INF_RE.fullmatch(text):
                return None
            raise CommandError(errors.NOT_FLOAT)
        sign, whole, fraction, exp = match.groups()
        digits = (whole + (fraction or b"")).lstrip(b"0")
        if not digits:
            return _LD_ZERO
        mantissa = int(digits, 16)
        power = _exponent(exp) - 4 * len(fraction or b"")
        magnitude = power + mantissa.bit_length()
        if magnitude > _LD_MAX_EXP + 16 or magnitude < _LD_MIN_EXP - 16:
            raise CommandError(errors.NOT_FLOAT)
        num, den = (mantissa << power, 1) if power >= 0 else (mantissa, 1 << -power)
    value = _round_long_double(sign == b"-", num, den)
    if value is None or value[0] == 0:
        raise CommandError(errors.NOT_FLOAT)
    return value


def long_double_add(a: LongDouble, b: LongDouble) -> LongDouble | None:
    """a + b rounded once, as the FPU would; None when the sum overflows."""
    if a[0] == 0:
        return b
    if b[0] == 0:
        return a
    e = min(a[1], b[1])
    total = (a[0] << (a[1] - e)) + (b[0] << (b[1] - e))
    if total == 0:
        return _LD_ZERO
    if e >= 0:
        return _round_long_double(total < 0, abs(total) << e, 1)
    return _round_long_double(total < 0, abs(total), 1 << -e)


def format_long_double(value: LongDouble) -> bytes:
    """Redis's human form: "%.17Lf" with trailing zeros (and a bare point) trimmed, "-0" as "0"."""
    mantissa, exp = value
    magnitude = abs(mantissa)
    if exp >= 0:
        scaled = (magnitude << exp) * _HUMAN_PRECISION
    else:
        num = magnitude * _HUMAN_PRECISION
        scaled = num >> -exp
        rest = num - (scaled << -exp)
        half = 1 << (-exp - 1)
        if rest > half or (rest == half and scaled & 1):
            scaled += 1
    whole, fraction = divmod(scaled, _HUMAN_PRECISION)
    text = _int_to_decimal(whole)
    decimals = b"%017d" % fraction
    decimals = decimals.rstrip(b"0")
    if decimals:
        text += b"." + decimals
    if mantissa < 0 and text != b"0":
        text = b"-" + text
    return text


# -- LCS -----------------------------------------------------------------------


def _lcs_rows(a: Str, b: Str, keep: bool) -> tuple[int, list[int]]:
    """The LCS length of a and b, plus (if ``keep``) one bit-vector per prefix of a.

    Bit-parallel dynamic programming (Hyyrö's formulation): row i is an
    integer whose bit j-1 is clear exactly when LCS(a[:i], b[:j]) exceeds
    LCS(a[:i], b[:j-1]).  A row costs a few big-integer operations instead
    of len(b) Python steps, which is what makes Redis's table sizes (up to
    proto-max-bulk-len / 4 cells) affordable here.
    """
    m = len(b)
    full = (1 << m) - 1
    reversed_b = bytes(b[::-1])
    masks: dict[int, int] = {}
    for ch in set(a) & set(b):
        table = bytearray(b"0" * 256)
        table[ch] = 49  # "1"
        masks[ch] = int(reversed_b.translate(table), 2)
    v = full
    rows = [v] if keep else []
    for ch in a:
        match = masks.get(ch)
        if match is not None:
            u = v & match
            v = ((v + u) | (v - u)) & full
        if keep:
            rows.append(v)
    return m - v.bit_count(), rows


def _lcs_at(rows: list[int], i: int, j: int) -> int:
    """LCS(a[:i], b[:j]) from the kept rows."""
    return j - (rows[i] & ((1 << j) - 1)).bit_count()


@command(
    "lcs",
    -3,
    R,
    keys=(1, 2, 1),
    categories=_STR,
    group="string",
    summary="Find longest common substring",
    since="7.0.0",
    complexity="O(N*M) where N and M are the lengths of s1 and s2, respectively",
    syntax="key1:key key2:key [LEN] [IDX] [MINMATCHLEN len:integer] [WITHMATCHLEN]",
)
def lcs(ctx: Context, argv: list[bytes]) -> bytes:
    lookup = ctx.db.lookup_read
    a = lookup(argv[1])
    b = lookup(argv[2])
    for value in (a, b):
        if value is not None and type(value) is not bytes and type(value) is not bytearray:
            raise CommandError("ERR The specified keys must contain string values")
    sa: Str = b"" if a is None else a  # type: ignore[assignment]
    sb: Str = b"" if b is None else b  # type: ignore[assignment]
    get_len = get_idx = with_match_len = False
    min_match_len = 0
    i = 3
    while i < len(argv):
        opt = argv[i].upper() if len(argv[i]) <= 12 else b""
        if opt == b"IDX":
            get_idx = True
        elif opt == b"LEN":
            get_len = True
        elif opt == b"WITHMATCHLEN":
            with_match_len = True
        elif opt == b"MINMATCHLEN" and i + 1 < len(argv):
            i += 1
            min_match_len = max(parse_int(argv[i]), 0)
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    if get_idx and get_len:
        raise CommandError("ERR If you want both the length and indexes, please just use IDX.")
    alen, blen = len(sa), len(sb)
    if alen >= 2**32 - 2 or blen >= 2**32 - 2:
        raise CommandError("ERR String too long for LCS")
    if (alen + 1) * (blen + 1) * 4 > ctx.config.proto_max_bulk_len:
        raise CommandError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")

    compute = get_idx or not get_len
    length, rows = _lcs_rows(sa, sb, compute)
    if not compute:
        return encoder.integer(length)

    # Walk back from the end exactly as Redis does, so that among several
    # common subsequences the same one (and the same ranges) is reported.
    result = bytearray(length)
    idx = length
    matches: list[bytes] = []
    unset = alen  # Redis's marker for "no range in progress"
    a_start, a_end, b_start, b_end = unset, 0, 0, 0
    i, j = alen, blen
    while i > 0 and j > 0:
        emit = False
        if sa[i - 1] == sb[j - 1]:
            result[idx - 1] = sa[i - 1]
            if a_start == unset:
                a_start = a_end = i - 1
                b_start = b_end = j - 1
            elif a_start == i and b_start == j:
                a_start -= 1
                b_start -= 1
            else:
                emit = True
            if a_start == 0 or b_start == 0:
                emit = True
            idx -= 1
            i -= 1
            j -= 1
        else:
            if _lcs_at(rows, i - 1, j) > _lcs_at(rows, i, j - 1):
                i -= 1
            else:
                j -= 1
            if a_start != unset:
                emit = True
        if emit:
            match_len = a_end - a_start + 1
            if get_idx and (min_match_len == 0 or match_len >= min_match_len):
                entry = [
                    encoder.array([encoder.integer(a_start), encoder.integer(a_end)]),
                    encoder.array([encoder.integer(b_start), encoder.integer(b_end)]),
                ]
                if with_match_len:
                    entry.append(encoder.integer(match_len))
                matches.append(encoder.array(entry))
            a_start = unset
    if get_idx:
        return encoder.map_(
            [
                (encoder.bulk(b"matches"), encoder.array(matches)),
                (encoder.bulk(b"len"), encoder.integer(length)),
            ],
            ctx.proto,
        )
    return encoder.bulk(result)
