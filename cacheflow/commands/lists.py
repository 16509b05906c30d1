"""List commands, including the blocking pops.

Values are ``ListValue`` (store/lists.py), which keeps every element as its
encoded bulk-string reply, so pops and ranges answer with stored bytes.
Argument checks follow Redis 7.0's order in each command (some parse their
numbers before looking the key up, some after), because the order decides
which error a client sees.

Write effects: pushes, LSET, LINSERT, LREM, LTRIM, LMOVE and RPOPLPUSH replay
as sent; pops replay as sent; LMPOP becomes ``LPOP|RPOP key n`` with the number
actually taken, as Redis propagates it; a blocking command that takes data
(at once or when served later) becomes its non-blocking equivalent: ``LPOP
key``, ``RPOP key``, ``LMOVE src dst LEFT RIGHT``, ``RPOPLPUSH src dst``,
``LPOP key n``.  Nothing is emitted when nothing changed.

Blocking (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) goes through
``ctx.engine.block`` with a serve function per waiter; the registry and its
contract are described in engine/blocking.py.  ``parse_timeout`` is shared
with the sorted-set blocking pops.
"""

import math
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Final

from cacheflow.commands import errors
from cacheflow.commands.context import Context, expect_type
from cacheflow.commands.errors import WRONGTYPE, parse_int
from cacheflow.commands.table import Flag, command, index_keynum, index_range
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError
from cacheflow.store.lists import HEADERS as _HEADERS
from cacheflow.store.lists import ListValue, encode

W: Final = Flag.WRITE
R: Final = Flag.READONLY
F: Final = Flag.FAST
_LIST: Final = ("list",)
_BLOCKING: Final = W | Flag.NOSCRIPT | Flag.BLOCKING
_LLONG_MAX: Final = 2**63 - 1
_LLONG_MIN: Final = -(2**63)
_MUST_BE_POSITIVE: Final = "ERR value is out of range, must be positive"
_TIMEOUT_NOT_FLOAT: Final = "ERR timeout is not a float or out of range"
_TIMEOUT_NEGATIVE: Final = "ERR timeout is negative"
_NUMKEYS: Final = "ERR numkeys should be greater than 0"
_COUNT_POSITIVE: Final = "ERR count should be greater than 0"
_RANK_ZERO: Final = (
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
    "or use negative to start from the end of the list"
)
_LEFT: Final = {b"left": True, b"right": False}
_PUSH_COMMAND: Final = {True: b"LPOP", False: b"RPOP"}
_SIDE: Final = {True: b"LEFT", False: b"RIGHT"}
# The largest string strtold reads here (Redis's MAX_LONG_DOUBLE_CHARS), and long double's limits.
_MAX_LONG_DOUBLE_CHARS: Final = 5 * 1024
_LDBL_MAX: Final = Decimal("1.18973149535723176502e+4932")
_LDBL_TRUE_MIN_HALF: Final = Decimal("1.8225997659412373012e-4951")


# -- shared helpers --------------------------------------------------------------


def list_for_read(ctx: Context, key: bytes) -> ListValue | None:
    """The list at ``key`` with hit/miss statistics (Redis's read lookups); WRONGTYPE otherwise."""
    return expect_type(ctx.db.lookup_read(key), ListValue)


def list_for_write(ctx: Context, key: bytes) -> ListValue | None:
    """The list at ``key`` without statistics (Redis's write lookups); WRONGTYPE otherwise."""
    return expect_type(ctx.db.lookup(key), ListValue)


def _positive(raw: bytes, message: str = _MUST_BE_POSITIVE) -> int:
    """getPositiveLongFromObjectOrReply: a non-negative long, one message for every failure."""
    value = parse_int(raw, message)
    if value < 0:
        raise CommandError(message)
    return value


def _side(raw: bytes) -> bool:
    """LEFT (True) or RIGHT (False), in any letter case."""
    side = _LEFT.get(raw.lower())
    if side is None:
        raise CommandError(errors.SYNTAX)
    return side


def _long_double(x: Fraction) -> Fraction:
    """``x`` rounded to the nearest x86 long double (64-bit significand, ties to even).

    Subnormals are not modelled: they only occur below 3e-4932 seconds.
    """
    if not x:
        return x
    a = abs(x)
    e = a.numerator.bit_length() - a.denominator.bit_length() - 64
    while a >= Fraction(2**64) * Fraction(2) ** e:
        e += 1
    while a < Fraction(2**63) * Fraction(2) ** e:
        e -= 1
    rounded = round(a / Fraction(2) ** e) * Fraction(2) ** e
    return rounded if x > 0 else -rounded


def _timeout_ms(raw: bytes) -> int:
    """Redis 7.0's ``(long long) ceill(strtold(raw) * 1000.0)``, with string2ld's checks.

    strtold reads decimal and hex floats and inf/infinity, in a long double;
    string2ld refuses blanks around the number, trailing garbage, NaN, and
    overflow or underflow to zero.  The arithmetic is done exactly on
    rationals and rounded as the x87 unit rounds, because it decides visible
    outcomes: ``-0.001`` is -0.99999... ms there, which ceils to 0 (wait
    forever) rather than to -1 (an error).  A value whose millisecond count
    does not fit a long long converts to LLONG_MIN, which is why Redis 7.0
    calls ``inf`` and ``1e300`` negative.
    """
    if not raw or len(raw) >= _MAX_LONG_DOUBLE_CHARS or raw[:1].isspace() or raw[-1:].isspace():
        raise CommandError(_TIMEOUT_NOT_FLOAT)
    if raw.isdigit() and len(raw) <= 15:  # the usual case, exact without rationals
        return int(raw) * 1000
    try:
        text = raw.decode("ascii")
        if "_" in text:
            raise ValueError
        if text.lstrip("+-")[:2].lower() == "0x":
            number = Decimal(float.fromhex(text))
        else:
            float(text)  # Python's float grammar is strtold's, minus hex
            number = Decimal(text)
    except (ValueError, OverflowError, UnicodeDecodeError, InvalidOperation):
        raise CommandError(_TIMEOUT_NOT_FLOAT) from None
    if number.is_nan():
        raise CommandError(_TIMEOUT_NOT_FLOAT)
    if number.is_infinite():
        raise CommandError(_TIMEOUT_NEGATIVE)
    if abs(number) > _LDBL_MAX or (number and abs(number) < _LDBL_TRUE_MIN_HALF):
        raise CommandError(_TIMEOUT_NOT_FLOAT)  # ERANGE: overflow, or underflow to zero
    ms = math.ceil(_long_double(_long_double(Fraction(number)) * 1000))
    if not _LLONG_MIN <= ms <= _LLONG_MAX:
        raise CommandError(_TIMEOUT_NEGATIVE)
    return ms


_TIMEOUTS: Final[dict[bytes, int | str]] = {}  # raw timeout -> ms or error: clients repeat one timeout
_TIMEOUTS_MAX: Final = 1024


def parse_timeout(ctx: Context, raw: bytes) -> int | None:
    """A blocking command's timeout in seconds -> absolute deadline in ms on the keyspace clock.

    None means wait forever: a timeout of 0, one that rounds up to 0 ms
    (``-0.0001``), and, as in Redis 7.0.15 whose deadline then wraps to a
    negative time that never fires, one too far in the future to add to now.
    Milliseconds are the seconds times 1000 rounded up, so 0.0001 waits 1 ms.
    """
    known = _TIMEOUTS.get(raw)
    if known is None:
        try:
            known = _timeout_ms(raw)
        except CommandError as e:
            known = str(e)
        if len(_TIMEOUTS) >= _TIMEOUTS_MAX:
            _TIMEOUTS.clear()
        _TIMEOUTS[raw] = known
    if isinstance(known, str):
        raise CommandError(known)
    ms = known
    if ms < 0:
        raise CommandError(_TIMEOUT_NEGATIVE)
    if ms == 0:
        return None
    now = ctx.keyspace.clock.now_ms()
    if ms > _LLONG_MAX - now:
        return None
    return now + ms


def _pair_reply(key: bytes, piece: bytes) -> bytes:
    """BLPOP's [key, element]."""
    return b"*2\r\n$%d\r\n%b\r\n%b" % (len(key), key, piece)


def _pop_one(ctx: Context, key: bytes, value: ListValue, left: bool) -> bytes:
    """Pop one piece from a non-empty list, deleting the key when it empties."""
    piece = value.pop(left)
    ctx.db.delete_if_empty(key, value)
    return piece


# -- pushes ----------------------------------------------------------------------


def _push(ctx: Context, argv: list[bytes], left: bool, only_existing: bool) -> bytes:
    db = ctx.db
    key = argv[1]
    value = db.lookup(key)
    if value is None:
        if only_existing:
            return encoder.ZERO
        value = ListValue()
        db.set(key, value)
    elif type(value) is not ListValue:
        raise CommandError(WRONGTYPE)
    n = value.push([encode(v) for v in argv[2:]], left)  # type: ignore[attr-defined]
    ctx.effects.append(argv)
    return encoder.integer(n)


_PUSH_COMPLEXITY: Final = (
    "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."
)


@command(
    "lpush",
    -3,
    W | Flag.DENYOOM | F,
    keys=(1, 1, 1),
    categories=_LIST,
    group="list",
    summary="Prepend one or multiple elements to a list",
    complexity=_PUSH_COMPLEXITY,
    syntax="key element [element ...]",
    key_flags=("RW", "insert"),
)
def lpush(ctx: Context, argv: list[bytes]) -> bytes:
    """One element onto a big list is the benchmarked case: no call beyond the deque's."""
    db = ctx.db
    value = db.data.get(argv[1])
    if type(value) is ListValue and len(argv) == 3 and (not db.expires or argv[1] not in db.expires):
        items = value.items  # type: ignore[attr-defined]
        if items is not None:
            v = argv[2]
            n = len(v)
            items.appendleft((_HEADERS[n] if n < 1024 else b"$%d\r\n" % n) + v + b"\r\n")
            ctx.effects.append(argv)
            return b":%d\r\n" % len(items)
    return _push(ctx, argv, True, False)


@command(
    "rpush",
    -3,
    W | Flag.DENYOOM | F,
    keys=(1, 1, 1),
    categories=_LIST,
    group="list",
    summary="Append one or multiple elements to a list",
    complexity=_PUSH_COMPLEXITY,
    syntax="key element [element ...]",
    key_flags=("RW", "insert"),
)
def rpush(ctx: Context, argv: list[bytes]) -> bytes:
    """The twin of lpush's fast path."""
    db = ctx.db
    value = db.data.get(argv[1])
    if type(value) is ListValue and len(argv) == 3 and (not db.expires or argv[1] not in db.expires):
        items = value.items  # type: ignore[attr-defined]
        if items is not None:
            v = argv[2]
            n = len(v)
            items.append((_HEADERS[n] if n < 1024 else b"$%d\r\n" % n) + v + b"\r\n")
            ctx.effects.append(argv)
            return b":%d\r\n" % len(items)
    return _push(ctx, argv, False, False)


@command(
    "lpushx",
    -3,
    W | Flag.DENYOOM | F,
    keys=(1, 1, 1),
    categories=_LIST,
    group="list",
    summary="Prepend an element to a list, only if the list exists",
    since="2.2.0",
    complexity=_PUSH_COMPLEXITY,
    syntax="key element [element ...]",
    key_flags=("RW", "insert"),
)
def lpushx(ctx: Context, argv: list[bytes]) -> bytes:
    return _push(ctx, argv, True, True)


@command(
    "rpushx",
    -3,
    W | Flag.DENYOOM | F,
    keys=(1, 1, 1),
    categories=_LIST,
    group="list",
    summary="Append an element to a list, only if the list exists",
    since="2.2.0",
    complexity=_PUSH_COMPLEXITY,
    syntax="key element [element ...]",
    key_flags=("RW", "insert"),
)
def rpushx(ctx: Context, argv: list[bytes]) -> bytes:
    return _push(ctx, argv, False, True)


# -- pops ------------------------------------------------------------------------


def _pop(ctx: Context, argv: list[bytes], left: bool) -> bytes:
    if len(argv) == 2:
        db = ctx.db
        key = argv[1]
        value = db.lookup(key)
        if value is None:
            return encoder.NULL_BULK_RESP2 if ctx.proto == 2 else encoder.NULL_RESP3
        if type(value) is not ListValue:
            raise CommandError(WRONGTYPE)
        piece = value.pop(left)  # type: ignore[attr-defined]
        db.delete_if_empty(key, value)  # type: ignore[arg-type]
        ctx.effects.append(argv)
        return piece  # type: ignore[no-any-return]
    if len(argv) > 3:
        raise errors.wrong_arity("lpop" if left else "rpop")
    count = _positive(argv[2])
    value = list_for_write(ctx, argv[1])
    if value is None:
        return encoder.null_array(ctx.proto)
    if not count:
        return encoder.EMPTY_ARRAY
    n, body = value.pop_many(count, left)
    ctx.db.delete_if_empty(argv[1], value)
    ctx.effects.append(argv)
    return b"*%d\r\n%b" % (n, body)


@command(
    "lpop",
    -2,
    W | F,
    keys=(1, 1, 1),
    categories=_LIST,
    group="list",
    summary="Remove and get the first elements in a list",
    complexity="O(N) where N is the number of elements returned",
    syntax="key [count]",
    key_flags=("RW", "access", "delete"),
)
def lpop(ctx: Context, argv: list[bytes]) -> bytes:
    """One element off a big list is the benchmarked case: no call beyond the deque's."""
    db = ctx.db
    key = argv[1]
    value = db.data.get(key)
    if type(value) is ListValue and len(argv) == 2 and (not db.expires or key not in db.expires):
        items = value.items  # type: ignore[attr-defined]
        if items is not None:
            piece: bytes = items.popleft()
            if not items:
                db.remove(key, value)
            ctx.effects.append(argv)
            return piece
    return _pop(ctx, argv, True)


@command(
    "rpop",
    -2,
    W | F,
    keys=(1, 1, 1),
    categories=_LIST,
    group="list",
    summary="Remove and get the last elements in a list",
    complexity="O(N) where N is the number of elements returned",
    syntax="key [count]",
    key_flags=("RW", "access", "delete"),
)
def rpop(ctx: Context, argv: list[bytes]) -> bytes:
    """The twin of lpop's fast path."""
    db = ctx.db
    key = argv[1]
    value = db.data.get(key)
    if type(value) is ListValue and len(argv) == 2 and (not db.expires or key not in db.expires):
        items = value.items  # type: ignore[attr-defined]
        if items is not None:
            piece: bytes = items.pop()
            if not items:
                db.remove(key, value)
            ctx.effects.append(argv)
            return piece
    return _pop(ctx, argv, False)


# -- reads -----------------------------------------------------------------------


@command(
    "llen",
    2,
    R | F,
    keys=(1, 1, 1),
    categories=_LIST,
    group="list",
    summary="Get the length of a list",
    syntax="key",
    key_flags=("RO",),
)
def llen(ctx: Context, argv: list[bytes]) -> bytes:
    value = list_for_read(ctx, argv[1])
    return encoder.integer(len(value)) if value is not None else encoder.ZERO


@command(
    "lrange",
    4,
    R,
    keys=(1, 1, 1),
    categories=_LIST,
    group="list",
    summary="Get a range of elements from a list",
    complexity=(
        "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) "
        "for large lists; and N is the number of elements in the specified range."
    ),
    syntax="key start stop",
    key_flags=("RO", "access"),
)
def lrange(ctx: Context, argv: list[bytes]) -> bytes:
    start = parse_int(argv[2])
    stop = parse_int(argv[3])
    value = list_for_read(ctx, argv[1])
    if value is None:
        return encoder.EMPTY_ARRAY
    n, body = value.range(start, stop)
    return b"*%d\r\n%b" % (n, body)


@command(
    "lindex",
    3,
    R,
    keys=(1, 1, 1),
    categories=_LIST,
    group="list",
    summary="Get an element from a list by its index",
    complexity=(
        "O(N) where N is the number of elements to traverse to get to the element at index. "
        "This makes asking for the first or the last element of the list O(1)."
    ),
    syntax="key index",
    key_flags=("RO", "access"),
)
def lindex(ctx: Context, argv: list[bytes]) -> bytes:
    value = list_for_read(ctx, argv[1])
    if value is None:
        return encoder.null(ctx.proto)
    piece = value.index(parse_int(argv[2]))
    return piece if piece is not None else encoder.null(ctx.proto)


@command(
    "lpos",
    -3,
    R,
    keys=(1, 1, 1),
    categories=_LIST,
    group="list",
    summary="Return the index of matching elements on a list",
    since="6.0.6",
    complexity=(
        "O(N) where N is the number of elements in the list, for the average case. When searching for elements "
        "near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in "
        "constant time."
    ),
    syntax="key element [RANK rank:integer] [COUNT num-matches:integer] [MAXLEN len:integer]",
    key_flags=("RO", "access"),
)
def lpos(ctx: Context, argv: list[bytes]) -> bytes:
    rank = 1
    count = -1  # -1: no COUNT option
    maxlen = 0
    i = 3
    n = len(argv)
    while i < n:
        opt = argv[i].lower()
        if i + 1 >= n:
            raise CommandError(errors.SYNTAX)
        i += 1
        if opt == b"rank":
            rank = parse_int(argv[i])
            if rank == 0:
                raise CommandError(_RANK_ZERO)
        elif opt == b"count":
            count = _positive(argv[i], "ERR COUNT can't be negative")
        elif opt == b"maxlen":
            maxlen = _positive(argv[i], "ERR MAXLEN can't be negative")
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    value = list_for_read(ctx, argv[1])
    if value is None:
        return encoder.EMPTY_ARRAY if count != -1 else encoder.null(ctx.proto)
    limit = 1 if count == -1 else count
    if rank == _LLONG_MIN:
        # Redis negates the rank in a long, which leaves LLONG_MIN negative: the scan runs
        # from the tail, the first match already satisfies the rank, and the overflowing
        # "enough matches" test never stops it, so COUNT is ignored.
        rank, limit = -1, (1 if count == -1 else 0)
    found = value.positions(encode(argv[2]), rank, limit, maxlen)
    if count == -1:
        return encoder.integer(found[0]) if found else encoder.null(ctx.proto)
    return encoder.array([encoder.integer(i) for i in found])


# -- in-place edits --------------------------------------------------------------


@command(
    "lset",
    4,
    W | Flag.DENYOOM,
    keys=(1, 1, 1),
    categories=_LIST,
    group="list",
    summary="Set the value of an element in a list by its index",
    complexity=(
        "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1)."
    ),
    syntax="key index element",
    key_flags=("RW", "update"),
)
def lset(ctx: Context, argv: list[bytes]) -> bytes:
    value = list_for_write(ctx, argv[1])
    if value is None:
        raise CommandError(errors.NO_SUCH_KEY)
    index = parse_int(argv[2])
    if not value.set(index, encode(argv[3])):
        raise CommandError("ERR index out of range")
    ctx.effects.append(argv)
    return encoder.OK


@command(
    "linsert",
    5,
    W | Flag.DENYOOM,
    keys=(1, 1, 1),
    categories=_LIST,
    group="list",
    summary="Insert an element before or after another element in a list",
    since="2.2.0",
    complexity=(
        "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that "
        "inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere "
        "on the right end (tail) is O(N)."
    ),
    syntax="key <BEFORE|AFTER> pivot element",
    key_flags=("RW", "insert"),
)
def linsert(ctx: Context, argv: list[bytes]) -> bytes:
    where = argv[2].lower()
    if where == b"after":
        after = True
    elif where == b"before":
        after = False
    else:
        raise CommandError(errors.SYNTAX)
    value = list_for_write(ctx, argv[1])
    if value is None:
        return encoder.ZERO
    n = value.insert(encode(argv[3]), encode(argv[4]), after)
    if n > 0:
        ctx.effects.append(argv)
    return encoder.integer(n)


@command(
    "lrem",
    4,
    W,
    keys=(1, 1, 1),
    categories=_LIST,
    group="list",
    summary="Remove elements from a list",
    complexity="O(N+M) where N is the length of the list and M is the number of elements removed.",
    syntax="key count element",
    key_flags=("RW", "delete"),
)
def lrem(ctx: Context, argv: list[bytes]) -> bytes:
    count = parse_int(argv[2])
    value = list_for_write(ctx, argv[1])
    if value is None:
        return encoder.ZERO
    removed = value.remove(encode(argv[3]), count)
    if removed:
        ctx.db.delete_if_empty(argv[1], value)
        ctx.effects.append(argv)
    return encoder.integer(removed)


@command(
    "ltrim",
    4,
    W,
    keys=(1, 1, 1),
    categories=_LIST,
    group="list",
    summary="Trim a list to the specified range",
    complexity="O(N) where N is the number of elements to be removed by the operation.",
    syntax="key start stop",
    key_flags=("RW", "delete"),
)
def ltrim(ctx: Context, argv: list[bytes]) -> bytes:
    start = parse_int(argv[2])
    stop = parse_int(argv[3])
    value = list_for_write(ctx, argv[1])
    if value is None:
        return encoder.OK
    # Redis signals the key as modified even when nothing was trimmed (a WATCH on it breaks),
    # so the effect goes out whenever the list exists; replaying a no-op LTRIM changes nothing.
    if value.trim(start, stop):
        ctx.db.delete_if_empty(argv[1], value)
    ctx.effects.append(argv)
    return encoder.OK


# -- moving between lists -----------------------------------------------------

# The source is read and emptied, the destination written: Redis's two key specs.
_MOVE_SPECS: Final = (index_range(1, "RW", "access", "delete"), index_range(2, "RW", "insert"))


def _move(ctx: Context, src: bytes, dst: bytes, from_left: bool, to_left: bool, effect: list[bytes]) -> bytes | None:
    """LMOVE's body: the moved piece, or None when the source is missing.

    The destination's type is checked only once the source is known to hold
    an element, and before anything is popped, as Redis does.
    """
    db = ctx.db
    source = list_for_write(ctx, src)
    if source is None:
        return None
    target = list_for_write(ctx, dst)
    piece = source.pop(from_left)
    if target is None:
        target = ListValue()
        db.set(dst, target)
    target.push([piece], to_left)
    db.delete_if_empty(src, source)
    ctx.effects.append(effect)
    return piece


@command(
    "lmove",
    5,
    W | Flag.DENYOOM,
    keys=(1, 2, 1),
    categories=_LIST,
    group="list",
    summary="Pop an element from a list, push it to another list and return it",
    since="6.2.0",
    syntax="source destination <LEFT|RIGHT> <LEFT|RIGHT>",
    key_specs=_MOVE_SPECS,
)
def lmove(ctx: Context, argv: list[bytes]) -> bytes:
    from_left = _side(argv[3])
    to_left = _side(argv[4])
    piece = _move(ctx, argv[1], argv[2], from_left, to_left, argv)
    return piece if piece is not None else encoder.null(ctx.proto)


@command(
    "rpoplpush",
    3,
    W | Flag.DENYOOM,
    keys=(1, 2, 1),
    categories=_LIST,
    group="list",
    summary="Remove the last element in a list, prepend it to another list and return it",
    since="1.2.0",
    syntax="source destination",
    key_specs=_MOVE_SPECS,
)
def rpoplpush(ctx: Context, argv: list[bytes]) -> bytes:
    piece = _move(ctx, argv[1], argv[2], False, True, argv)
    return piece if piece is not None else encoder.null(ctx.proto)


# -- LMPOP -----------------------------------------------------------------------


def _mpop_args(argv: list[bytes], numkeys_index: int) -> tuple[list[bytes], bool, int]:
    """(keys, left, count) of LMPOP/BLMPOP, checked in Redis's order."""
    numkeys = parse_int(argv[numkeys_index], _NUMKEYS)
    if numkeys < 1:
        raise CommandError(_NUMKEYS)
    where_index = numkeys_index + numkeys + 1
    if where_index >= len(argv):
        raise CommandError(errors.SYNTAX)
    left = _side(argv[where_index])
    count = -1
    i = where_index + 1
    while i < len(argv):
        if count == -1 and argv[i].lower() == b"count" and i + 1 < len(argv):
            count = parse_int(argv[i + 1], _COUNT_POSITIVE)
            if count < 1:
                raise CommandError(_COUNT_POSITIVE)
            i += 2
        else:
            raise CommandError(errors.SYNTAX)
    return argv[numkeys_index + 1 : where_index], left, (1 if count == -1 else count)


def _mpop_from(ctx: Context, key: bytes, value: ListValue, left: bool, count: int) -> bytes:
    """Pop up to ``count`` from a non-empty list: the [key, [elements]] reply, effect LPOP/RPOP key n."""
    n, body = value.pop_many(count, left)
    ctx.db.delete_if_empty(key, value)
    ctx.effects.append([_PUSH_COMMAND[left], key, b"%d" % n])
    return b"*2\r\n$%d\r\n%b\r\n*%d\r\n%b" % (len(key), key, n, body)


_MPOP_COMPLEXITY: Final = "O(N+M) where N is the number of provided keys and M is the number of elements returned."


@command(
    "lmpop",
    -4,
    W,
    categories=_LIST,
    group="list",
    summary="Pop elements from a list",
    since="7.0.0",
    complexity=_MPOP_COMPLEXITY,
    syntax="numkeys key [key ...] <LEFT|RIGHT> [COUNT count]",
    key_specs=(index_keynum(1, "RW", "access", "delete"),),
)
def lmpop(ctx: Context, argv: list[bytes]) -> bytes:
    keys, left, count = _mpop_args(argv, 1)
    for key in keys:
        value = list_for_write(ctx, key)
        if value is not None:
            return _mpop_from(ctx, key, value, left, count)
    return encoder.null_array(ctx.proto)


# -- blocking pops ---------------------------------------------------------------


def _serve_pop(left: bool) -> Callable[[Context, bytes], bytes | None]:
    def serve(ctx: Context, key: bytes) -> bytes | None:
        value = ctx.db.lookup(key)
        if type(value) is not ListValue:
            return None
        ctx.effects.append([_PUSH_COMMAND[left], key])
        return _pair_reply(key, _pop_one(ctx, key, value, left))  # type: ignore[arg-type]

    return serve


_SERVE_LPOP: Final = _serve_pop(True)
_SERVE_RPOP: Final = _serve_pop(False)


def _blocking_pop(ctx: Context, argv: list[bytes], left: bool) -> bytes:
    deadline = parse_timeout(ctx, argv[-1])
    keys = argv[1:-1]
    for key in keys:
        value = list_for_write(ctx, key)
        if value is not None:
            ctx.effects.append([_PUSH_COMMAND[left], key])
            return _pair_reply(key, _pop_one(ctx, key, value, left))
    if ctx.deny_blocking:
        return encoder.null_array(ctx.proto)
    return ctx.engine.block(ctx, keys, _SERVE_LPOP if left else _SERVE_RPOP, deadline)


_BPOP_COMPLEXITY: Final = "O(N) where N is the number of provided keys."


@command(
    "blpop",
    -3,
    _BLOCKING,
    keys=(1, -2, 1),
    categories=_LIST,
    group="list",
    summary="Remove and get the first element in a list, or block until one is available",
    since="2.0.0",
    complexity=_BPOP_COMPLEXITY,
    syntax="key [key ...] timeout:double",
    key_flags=("RW", "access", "delete"),
)
def blpop(ctx: Context, argv: list[bytes]) -> bytes:
    return _blocking_pop(ctx, argv, True)


@command(
    "brpop",
    -3,
    _BLOCKING,
    keys=(1, -2, 1),
    categories=_LIST,
    group="list",
    summary="Remove and get the last element in a list, or block until one is available",
    since="2.0.0",
    complexity=_BPOP_COMPLEXITY,
    syntax="key [key ...] timeout:double",
    key_flags=("RW", "access", "delete"),
)
def brpop(ctx: Context, argv: list[bytes]) -> bytes:
    return _blocking_pop(ctx, argv, False)


def _blocking_move(
    ctx: Context, src: bytes, dst: bytes, from_left: bool, to_left: bool, effect: list[bytes], raw_timeout: bytes
) -> bytes:
    deadline = parse_timeout(ctx, raw_timeout)
    piece = _move(ctx, src, dst, from_left, to_left, effect)
    if piece is not None:
        return piece
    if ctx.deny_blocking:
        return encoder.null(ctx.proto)  # Redis answers a null bulk here, but a null array on timeout

    def serve(waiter: Context, key: bytes) -> bytes | None:
        if type(waiter.db.lookup(src)) is not ListValue:
            return None
        try:
            return _move(waiter, src, dst, from_left, to_left, effect)
        except CommandError as e:  # the destination holds another type: the client gets the error
            return encoder.error(str(e))

    return ctx.engine.block(ctx, [src], serve, deadline)


@command(
    "blmove",
    6,
    _BLOCKING | Flag.DENYOOM,
    keys=(1, 2, 1),
    categories=_LIST,
    group="list",
    summary="Pop an element from a list, push it to another list and return it; or block until one is available",
    since="6.2.0",
    syntax="source destination <LEFT|RIGHT> <LEFT|RIGHT> timeout:double",
    key_specs=_MOVE_SPECS,
)
def blmove(ctx: Context, argv: list[bytes]) -> bytes:
    from_left = _side(argv[3])
    to_left = _side(argv[4])
    effect = [b"LMOVE", argv[1], argv[2], _SIDE[from_left], _SIDE[to_left]]
    return _blocking_move(ctx, argv[1], argv[2], from_left, to_left, effect, argv[5])


@command(
    "brpoplpush",
    4,
    _BLOCKING | Flag.DENYOOM,
    keys=(1, 2, 1),
    categories=_LIST,
    group="list",
    summary="Pop an element from a list, push it to another list and return it; or block until one is available",
    since="2.2.0",
    syntax="source destination timeout:double",
    key_specs=_MOVE_SPECS,
)
def brpoplpush(ctx: Context, argv: list[bytes]) -> bytes:
    effect = [b"RPOPLPUSH", argv[1], argv[2]]
    return _blocking_move(ctx, argv[1], argv[2], False, True, effect, argv[3])


@command(
    "blmpop",
    -5,
    W | Flag.BLOCKING,
    categories=_LIST,
    group="list",
    summary="Pop elements from a list, or block until one is available",
    since="7.0.0",
    complexity=_MPOP_COMPLEXITY,
    syntax="timeout:double numkeys key [key ...] <LEFT|RIGHT> [COUNT count]",
    key_specs=(index_keynum(2, "RW", "access", "delete"),),
)
def blmpop(ctx: Context, argv: list[bytes]) -> bytes:
    keys, left, count = _mpop_args(argv, 2)
    deadline = parse_timeout(ctx, argv[1])
    for key in keys:
        value = list_for_write(ctx, key)
        if value is not None:
            return _mpop_from(ctx, key, value, left, count)
    if ctx.deny_blocking:
        return encoder.null_array(ctx.proto)

    def serve(waiter: Context, key: bytes) -> bytes | None:
        value = waiter.db.lookup(key)
        if type(value) is not ListValue:
            return None
        return _mpop_from(waiter, key, value, left, count)  # type: ignore[arg-type]

    return ctx.engine.block(ctx, keys, serve, deadline)
