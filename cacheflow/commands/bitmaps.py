"""Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO.

A bitmap is an ordinary string; bit 0 is the most significant bit of the
first byte, and bits past the end read as zero.  A command that writes bits
stores a ``bytearray`` (Redis's ``raw`` encoding after an in-place edit) and
grows it with zero bytes as far as the highest bit written.

Behaviour follows Redis 7.0's bitops.c, including the order of its checks:
BITCOUNT looks the key up before it reads its range (a missing key answers 0
whatever the arguments), BITPOS after validating the bit, and BITFIELD
parses every operation before touching the key.  A write reports its own
argv as the effect (they all replay to the same bytes), and only when a bit
changed or the string grew: Redis 7.0 propagates nothing else.  As in
Redis, a BITFIELD whose writes all fail under ``OVERFLOW FAIL`` still
creates or grows the string without propagating it.
"""

from cacheflow.commands import errors
from cacheflow.commands.context import Context
from cacheflow.commands.errors import WRONGTYPE, parse_int
from cacheflow.commands.strings import _string_for_write, string_value
from cacheflow.commands.table import Flag, command, index_range
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError
from cacheflow.store import bits

W = Flag.WRITE
R = Flag.READONLY
_BITMAP = ("bitmap",)
_OFFSET_ERROR = "ERR bit offset is not an integer or out of range"
_TYPE_ERROR = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
_BIT_VALUE_ERROR = "ERR bit is not an integer or out of range"


def _word(arg: bytes) -> bytes:
    """An option as strcasecmp sees it: lower case, up to the first NUL byte."""
    return arg.split(b"\0", 1)[0].lower()


def _wrap64(n: int) -> int:
    """n as a C int64 after wrapping (two's complement)."""
    return ((n + (1 << 63)) & ((1 << 64) - 1)) - (1 << 63)


def _bit_offset(ctx: Context, raw: bytes, hash_bits: int = 0) -> int:
    """A bit offset argument, as getBitOffsetFromArgument: ``#n`` means n * hash_bits (BITFIELD)."""
    use_hash = hash_bits > 0 and raw[:1] == b"#"
    offset = parse_int(raw[1:] if use_hash else raw, _OFFSET_ERROR)
    if use_hash:
        offset = _wrap64(offset * hash_bits)
    if offset < 0 or (offset >> 3) >= ctx.config.proto_max_bulk_len:
        raise CommandError(_OFFSET_ERROR)
    return offset


def _bitmap_for_write(ctx: Context, key: bytes, max_bit: int) -> tuple[bytearray, bool]:
    """The string at ``key`` as a bytearray long enough to hold ``max_bit``, and whether it grew.

    A missing key is created (with zeros), as Redis's lookupStringForBitCommand does.
    """
    value = _string_for_write(ctx, key)
    need = (max_bit >> 3) + 1
    if value is None:
        buf = bytearray(need)
        ctx.db.set(key, buf)
        return buf, True
    if value.__class__ is bytearray:
        buf = value  # type: ignore[assignment]
    else:
        buf = bytearray(value)
        ctx.db.set_keep_ttl(key, buf)
    if len(buf) < need:
        buf.extend(bytes(need - len(buf)))
        return buf, True
    return buf, False


# -- single bits -----------------------------------------------------------------------------


@command(
    "setbit",
    4,
    W | Flag.DENYOOM,
    keys=(1, 1, 1),
    categories=_BITMAP,
    group="bitmap",
    summary="Sets or clears the bit at offset in the string value stored at key",
    since="2.2.0",
    syntax="key offset value:integer",
)
def setbit(ctx: Context, argv: list[bytes]) -> bytes:
    offset = _bit_offset(ctx, argv[2])
    on = parse_int(argv[3], _BIT_VALUE_ERROR)
    if on & ~1:
        raise CommandError(_BIT_VALUE_ERROR)
    buf, grew = _bitmap_for_write(ctx, argv[1], offset)
    byte = offset >> 3
    mask = 0x80 >> (offset & 7)
    old = buf[byte] & mask
    if grew or bool(old) != bool(on):
        buf[byte] = (buf[byte] | mask) if on else (buf[byte] & ~mask)
        ctx.effects.append(argv)
    return encoder.ONE if old else encoder.ZERO


@command(
    "getbit",
    3,
    R | Flag.FAST,
    keys=(1, 1, 1),
    categories=_BITMAP,
    group="bitmap",
    summary="Returns the bit value at offset in the string value stored at key",
    since="2.2.0",
    syntax="key offset",
)
def getbit(ctx: Context, argv: list[bytes]) -> bytes:
    offset = _bit_offset(ctx, argv[2])
    value = string_value(ctx, argv[1])
    byte = offset >> 3
    if value is None or byte >= len(value):
        return encoder.ZERO
    return encoder.ONE if value[byte] & (0x80 >> (offset & 7)) else encoder.ZERO


# -- ranges ------------------------------------------------------------------------------------


def _unit_is_bit(arg: bytes) -> bool:
    unit = _word(arg)
    if unit == b"bit":
        return True
    if unit == b"byte":
        return False
    raise CommandError(errors.SYNTAX)


def _clamp(start: int, end: int, total: int) -> tuple[int, int]:
    """Redis's range normalisation: negative from the end, then clipped to [0, total - 1]."""
    if start < 0:
        start += total
    if end < 0:
        end += total
    if start < 0:
        start = 0
    if end < 0:
        end = 0
    if end >= total:
        end = total - 1
    return start, end


@command(
    "bitcount",
    -2,
    R,
    keys=(1, 1, 1),
    categories=_BITMAP,
    group="bitmap",
    summary="Count set bits in a string",
    since="2.6.0",
    complexity="O(N)",
    syntax="key [start end [BYTE|BIT]]",
)
def bitcount(ctx: Context, argv: list[bytes]) -> bytes:
    value = string_value(ctx, argv[1])
    if value is None:
        return encoder.ZERO
    n = len(argv)
    if n == 2:
        return encoder.integer(bits.popcount(value, 0, len(value)))
    if n not in (4, 5):
        raise CommandError(errors.SYNTAX)
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    if start < 0 and end < 0 and start > end:
        return encoder.ZERO
    in_bits = n == 5 and _unit_is_bit(argv[4])
    total = len(value) * 8 if in_bits else len(value)
    start, end = _clamp(start, end, total)
    if start > end:
        return encoder.ZERO
    if in_bits:
        return encoder.integer(bits.count_range(value, start, end))
    return encoder.integer(bits.popcount(value, start, end + 1))


@command(
    "bitpos",
    -3,
    R,
    keys=(1, 1, 1),
    categories=_BITMAP,
    group="bitmap",
    summary="Find first bit set or clear in a string",
    since="2.8.7",
    complexity="O(N)",
    syntax="key bit:integer [start [end [BYTE|BIT]]]",
)
def bitpos(ctx: Context, argv: list[bytes]) -> bytes:
    bit = parse_int(argv[2])
    if bit != 0 and bit != 1:
        raise CommandError("ERR The bit argument must be 1 or 0.")
    value = string_value(ctx, argv[1])
    if value is None:
        # A missing key is an endless run of zeros.
        return encoder.integer(-1 if bit else 0)
    n = len(argv)
    length = len(value)
    end_given = False
    in_bits = False
    if n == 3:
        start, end = 0, length - 1
    elif n <= 6:
        start = parse_int(argv[3])
        if n == 6:
            in_bits = _unit_is_bit(argv[5])
        if n >= 5:
            end = parse_int(argv[4])
            end_given = True
        else:
            end = length - 1
        start, end = _clamp(start, end, length * 8 if in_bits else length)
    else:
        raise CommandError(errors.SYNTAX)
    if start > end:
        return encoder.integer(-1)
    first_bit, last_bit = (start, end) if in_bits else (start * 8, end * 8 + 7)
    pos = bits.find_bit(value, bit, first_bit, last_bit)
    if pos < 0 and bit == 0 and not end_given:
        # Without an explicit end the string counts as padded with zeros on the right.
        pos = last_bit + 1
    return encoder.integer(pos)


# -- BITOP ---------------------------------------------------------------------------------------


def _bitop_touches(db_index: int, argv: list[bytes]) -> list[tuple[int, bytes | None]]:
    """Only the destination changes; the sources are read."""
    return [(db_index, argv[2])]


_BITOPS = (b"and", b"or", b"xor", b"not")


@command(
    "bitop",
    -4,
    W | Flag.DENYOOM,
    keys=(2, -1, 1),
    key_specs=(index_range(2, "OW", "update"), index_range(3, "RO", "access", last=-1)),
    touches=_bitop_touches,
    categories=_BITMAP,
    group="bitmap",
    summary="Perform bitwise operations between strings",
    since="2.6.0",
    complexity="O(N)",
    syntax="operation destkey key [key ...]",
)
def bitop(ctx: Context, argv: list[bytes]) -> bytes:
    op = _word(argv[1])
    if op not in _BITOPS:
        raise CommandError(errors.SYNTAX)
    if op == b"not" and len(argv) != 4:
        raise CommandError("ERR BITOP NOT must be called with a single source key.")
    lookup = ctx.db.lookup_read
    values: list[bytes | bytearray] = []
    for key in argv[3:]:
        value = lookup(key)
        if value is None:
            values.append(b"")
        elif value.__class__ is bytes or value.__class__ is bytearray:
            values.append(value)  # type: ignore[arg-type]
        else:
            raise CommandError(WRONGTYPE)
    result = bits.bitop(op, values)
    dest = argv[2]
    if result:
        ctx.db.set(dest, result)
        ctx.effects.append(argv)
    elif ctx.db.delete(dest):
        ctx.effects.append(argv)
    return encoder.integer(len(result))


# -- BITFIELD ---------------------------------------------------------------------------------

_GET = 0
_SET = 1
_INCRBY = 2
_WRAP = 0
_SAT = 1
_FAIL = 2
_OVERFLOWS = {b"wrap": _WRAP, b"sat": _SAT, b"fail": _FAIL}
_MASK64 = (1 << 64) - 1

# (opcode, signed, bits, offset, SET value or increment, overflow behaviour)
_Op = tuple[int, bool, int, int, int, int]


def _bitfield_type(raw: bytes) -> tuple[bool, int]:
    """(signed, width) of ``i1``..``i64`` or ``u1``..``u63``."""
    kind = raw[:1]
    if kind == b"i":
        signed = True
    elif kind == b"u":
        signed = False
    else:
        raise CommandError(_TYPE_ERROR)
    width = parse_int(raw[1:].split(b"\0", 1)[0], _TYPE_ERROR)
    if width < 1 or width > (64 if signed else 63):
        raise CommandError(_TYPE_ERROR)
    return signed, width


def _parse_bitfield(ctx: Context, argv: list[bytes]) -> tuple[list[_Op], int | None]:
    """The operations in order, and the highest bit any SET/INCRBY writes (None: only GETs)."""
    ops: list[_Op] = []
    overflow = _WRAP
    highest: int | None = None
    n = len(argv)
    j = 2
    while j < n:
        remaining = n - j - 1
        name = _word(argv[j])
        if name == b"get" and remaining >= 2:
            code = _GET
        elif name == b"set" and remaining >= 3:
            code = _SET
        elif name == b"incrby" and remaining >= 3:
            code = _INCRBY
        elif name == b"overflow" and remaining >= 1:
            kind = _OVERFLOWS.get(_word(argv[j + 1]))
            if kind is None:
                raise CommandError("ERR Invalid OVERFLOW type specified")
            overflow = kind
            j += 2
            continue
        else:
            raise CommandError(errors.SYNTAX)
        signed, width = _bitfield_type(argv[j + 1])
        offset = _bit_offset(ctx, argv[j + 2], width)
        amount = 0
        if code != _GET:
            last = offset + width - 1
            if highest is None or last > highest:
                highest = last
            amount = parse_int(argv[j + 3])
            j += 4
        else:
            j += 3
        ops.append((code, signed, width, offset, amount, overflow))
    return ops, highest


def _signed_overflow(value: int, incr: int, width: int) -> int:
    """checkSignedBitfieldOverflow with its int64 arithmetic: 1 overflow, -1 underflow, 0 fits.

    The C code's wrap-around is kept on purpose: SET of a value far below an
    i8's range (near INT64_MIN) counts as an overflow there, and SAT stores the
    maximum, so it does here too.
    """
    high = (1 << (width - 1)) - 1
    low = -high - 1
    max_incr = _wrap64(high - value)
    min_incr = _wrap64(low - value)
    if value > high or (width != 64 and incr > max_incr) or (value >= 0 and incr > 0 and incr > max_incr):
        return 1
    if value < low or (width != 64 and incr < min_incr) or (value < 0 and incr < 0 and incr < min_incr):
        return -1
    return 0


def _bitfield(ctx: Context, argv: list[bytes], read_only: bool) -> bytes:
    ops, highest = _parse_bitfield(ctx, argv)
    key = argv[1]
    buf: bytes | bytearray
    if highest is None:
        value = string_value(ctx, key)
        buf = b"" if value is None else value
        grew = False
    else:
        if read_only:
            raise CommandError("ERR BITFIELD_RO only supports the GET subcommand")
        buf, grew = _bitmap_for_write(ctx, key, highest)
    replies: list[bytes] = []
    changes = 0
    for code, signed, width, offset, amount, overflow in ops:
        old = bits.get_field(buf, offset, width)
        top = 1 << width
        if signed:
            old_value = old - top if old >= top >> 1 else old
            if code == _GET:
                replies.append(encoder.integer(old_value))
                continue
            base, incr = (old_value, amount) if code == _INCRBY else (amount, 0)
            status = _signed_overflow(base, incr, width)
            if status and overflow == _SAT:
                new_value = (top >> 1) - 1 if status > 0 else -(top >> 1)
            else:
                new_value = (base + incr) & (top - 1)
                if new_value >= top >> 1:
                    new_value -= top
        else:
            old_value = old
            if code == _GET:
                replies.append(encoder.integer(old))
                continue
            # SET takes the value as a C uint64: a negative one is a huge one.
            base, incr = (old, amount) if code == _INCRBY else (amount & _MASK64, 0)
            total = base + incr
            status = 1 if total >= top else -1 if total < 0 else 0
            if status and overflow == _SAT:
                new_value = top - 1 if status > 0 else 0
            else:
                new_value = total & (top - 1)
        if status and overflow == _FAIL:
            replies.append(encoder.null(ctx.proto))
            continue
        assert isinstance(buf, bytearray)
        bits.set_field(buf, offset, width, new_value)
        if grew or new_value != old_value:
            changes += 1
        replies.append(encoder.integer(new_value if code == _INCRBY else old_value))
    if changes:
        ctx.effects.append(argv)
    return encoder.array(replies)


def _bitfield_key_flags(argv: list[bytes], position: int) -> tuple[str, ...]:
    """BITFIELD only reads its key when every operation is a GET (COMMAND GETKEYSANDFLAGS).

    Redis scans the operations as its parser does and, at the first SET, INCRBY or
    malformed one, assumes a write.
    """
    n = len(argv)
    j = 2
    while j < n:
        name = argv[j].lower()
        remaining = n - j - 1
        if name == b"get" and remaining >= 2:
            j += 3
        elif name == b"overflow" and remaining >= 1:
            j += 2
        else:
            return ("RW", "access", "update")
    return ("RO", "access")


@command(
    "bitfield",
    -2,
    W | Flag.DENYOOM,
    keys=(1, 1, 1),
    key_specs=(
        index_range(
            1,
            "RW",
            "access",
            "update",
            "variable_flags",
            notes="This command allows both access and modification of the key",
        ),
    ),
    key_flags_fn=_bitfield_key_flags,
    categories=_BITMAP,
    group="bitmap",
    summary="Perform arbitrary bitfield integer operations on strings",
    since="3.2.0",
    complexity="O(1) for each subcommand specified",
    syntax=(
        "key [<GET encoding offset|[OVERFLOW <WRAP|SAT|FAIL>] "
        "<SET encoding offset value:integer|INCRBY encoding offset increment>> ...]"
    ),
)
def bitfield(ctx: Context, argv: list[bytes]) -> bytes:
    return _bitfield(ctx, argv, read_only=False)


@command(
    "bitfield_ro",
    -2,
    R | Flag.FAST,
    keys=(1, 1, 1),
    categories=_BITMAP,
    group="bitmap",
    summary="Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
    since="6.0.0",
    complexity="O(1) for each subcommand specified",
    syntax="key [GET encoding offset [GET encoding offset ...]]",
)
def bitfield_ro(ctx: Context, argv: list[bytes]) -> bytes:
    return _bitfield(ctx, argv, read_only=True)
