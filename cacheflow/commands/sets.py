"""Set commands, with Redis 7.0's replies, error texts and argument checks.

Values are ``SetValue`` (store/sets.py), which keeps Redis's intset/hashtable
encodings and iteration orders.  Every handler validates its arguments before
it touches the keyspace, deletes a key whose last member goes, and reports
what it changed as effects that replay to the same state and name only the
keys Redis signals as modified (which is what WATCH reads from effects):

- SADD, SREM and SMOVE report their own argv, or nothing when nothing changed;
  an SMOVE whose member was already in the destination becomes ``SREM src m``
  because Redis only touches the source then;
- SPOP becomes ``SREM key <members taken>``, or ``DEL key`` when SPOP with a
  count takes the whole set, as Redis propagates it (Redis 7.0 sends one SREM
  per member; these carry up to 1024 members each, as Redis 7.2's do);
- SINTERSTORE, SUNIONSTORE and SDIFFSTORE become ``DEL dst`` (when dst
  existed) followed by ``SADD dst <result>``: the command itself would also
  replay, but its key positions cover the source keys, which Redis never
  signals as modified.

Random choices (SPOP, SRANDMEMBER) draw from the keyspace's seeded generator.
"""

from collections.abc import Callable
from itertools import chain, filterfalse
from typing import Final

from cacheflow.commands import errors
from cacheflow.commands.context import Context, expect_type
from cacheflow.commands.errors import WRONGTYPE, parse_int
from cacheflow.commands.keys import parse_cursor
from cacheflow.commands.table import Flag, command, index_keynum, index_range
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError
from cacheflow.store.glob import compile_glob
from cacheflow.store.sets import SetValue

W: Final = Flag.WRITE
R: Final = Flag.READONLY
F: Final = Flag.FAST
_SET: Final = ("set",)
_LL_MAX: Final = 2**63 - 1
_MUST_BE_POSITIVE: Final = "ERR value is out of range, must be positive"
_SRANDMEMBER_RANGE: Final = f"ERR value is out of range, value must between {-_LL_MAX} and {_LL_MAX}"
# A negative SRANDMEMBER count makes a reply of that many members.  Redis would try to
# build any size and exhaust its memory; CacheFlow refuses replies past this many members.
MAX_RANDOM_REPLY: Final = 10_000_000
_REPLY_TOO_BIG: Final = "ERR value is out of range, the reply would hold too many members"
_SREM_BATCH: Final = 1024
_EMPTY_SCAN: Final = b"*2\r\n$1\r\n0\r\n*0\r\n"
_ORDER_TIP: Final = ("nondeterministic_output_order",)
_RANDOM_TIP: Final = ("nondeterministic_output",)
_DEL: Final = b"DEL"
_SADD: Final = b"SADD"
_SREM: Final = b"SREM"


def _wrong_type() -> CommandError:
    return CommandError(WRONGTYPE)


def set_for_read(ctx: Context, key: bytes) -> SetValue | None:
    """The set at ``key`` with hit/miss statistics (Redis's read lookups); WRONGTYPE otherwise."""
    return expect_type(ctx.db.lookup_read(key), SetValue)


def set_for_write(ctx: Context, key: bytes) -> SetValue | None:
    """The set at ``key`` without statistics (Redis's write lookups); WRONGTYPE otherwise."""
    return expect_type(ctx.db.lookup(key), SetValue)


def _bulks(members: list[bytes]) -> bytes:
    return b"".join([b"$%d\r\n%b\r\n" % (len(m), m) for m in members])


def _set_reply(members: list[bytes], proto: int) -> bytes:
    """A set reply (``~`` in RESP3, an array in RESP2)."""
    return (b"~%d\r\n" if proto == 3 else b"*%d\r\n") % len(members) + _bulks(members)


def _array_reply(members: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(members) + _bulks(members)


def _empty_set(proto: int) -> bytes:
    return b"~0\r\n" if proto == 3 else b"*0\r\n"


# -- adding, removing, reading one set -----------------------------------------------


@command(
    "sadd",
    -3,
    W | Flag.DENYOOM | F,
    keys=(1, 1, 1),
    categories=_SET,
    group="set",
    summary="Add one or more members to a set",
    complexity="O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
    syntax="key member [member ...]",
    key_flags=("RW", "insert"),
)
def sadd(ctx: Context, argv: list[bytes]) -> bytes:
    """The hot write: the lookup is inlined as in GET, and one member into a hashtable is one dict probe."""
    db = ctx.db
    key = argv[1]
    value = db.data.get(key)
    if value is not None and db.expires:
        value = db.lookup(key)
    if value is None:
        created = SetValue()
        added = created.add(argv[2:], ctx.config.set_max_intset_entries)
        db.set(key, created)
    elif type(value) is SetValue:
        if len(argv) == 3:
            table = value.table  # type: ignore[attr-defined]
            if table is not None and argv[2] in table:
                return encoder.ZERO  # already a member: no Python-level call at all
            if not value.add_one(argv[2], ctx.config.set_max_intset_entries):  # type: ignore[attr-defined]
                return encoder.ZERO
            ctx.effects.append(argv)
            return encoder.ONE
        added = value.add(argv[2:], ctx.config.set_max_intset_entries)  # type: ignore[attr-defined]
    else:
        raise _wrong_type()
    if added:
        ctx.effects.append(argv)
    return encoder.integer(added)


@command(
    "srem",
    -3,
    W | F,
    keys=(1, 1, 1),
    categories=_SET,
    group="set",
    summary="Remove one or more members from a set",
    complexity="O(N) where N is the number of members to be removed.",
    syntax="key member [member ...]",
    key_flags=("RW", "delete"),
)
def srem(ctx: Context, argv: list[bytes]) -> bytes:
    key = argv[1]
    value = set_for_write(ctx, key)
    if value is None:
        return encoder.ZERO
    removed = value.remove(argv[2:])
    if removed:
        ctx.db.delete_if_empty(key, value)
        ctx.effects.append(argv)
    return encoder.integer(removed)


@command(
    "smembers",
    2,
    R,
    keys=(1, 1, 1),
    categories=_SET,
    group="set",
    summary="Get all the members in a set",
    complexity="O(N) where N is the set cardinality.",
    syntax="key",
    tips=_ORDER_TIP,
    key_flags=("RO", "access"),
)
def smembers(ctx: Context, argv: list[bytes]) -> bytes:
    value = set_for_read(ctx, argv[1])
    if value is None:
        return _empty_set(ctx.proto)
    return _set_reply(value.members(), ctx.proto)


@command(
    "sismember",
    3,
    R | F,
    keys=(1, 1, 1),
    categories=_SET,
    group="set",
    summary="Determine if a given value is a member of a set",
    syntax="key member",
    key_flags=("RO",),
)
def sismember(ctx: Context, argv: list[bytes]) -> bytes:
    value = set_for_read(ctx, argv[1])
    return encoder.ONE if value is not None and argv[2] in value else encoder.ZERO


@command(
    "smismember",
    -3,
    R | F,
    keys=(1, 1, 1),
    categories=_SET,
    group="set",
    summary="Returns the membership associated with the given elements for a set",
    since="6.2.0",
    complexity="O(N) where N is the number of elements being checked for membership",
    syntax="key member [member ...]",
    key_flags=("RO", "access"),
)
def smismember(ctx: Context, argv: list[bytes]) -> bytes:
    value = set_for_read(ctx, argv[1])
    members = argv[2:]
    if value is None:
        return b"*%d\r\n" % len(members) + encoder.ZERO * len(members)
    one, zero = encoder.ONE, encoder.ZERO
    return b"*%d\r\n" % len(members) + b"".join([one if m in value else zero for m in members])


@command(
    "scard",
    2,
    R | F,
    keys=(1, 1, 1),
    categories=_SET,
    group="set",
    summary="Get the number of members in a set",
    syntax="key",
    key_flags=("RO",),
)
def scard(ctx: Context, argv: list[bytes]) -> bytes:
    value = set_for_read(ctx, argv[1])
    return encoder.integer(0 if value is None else len(value))


# -- random members ------------------------------------------------------------------------


@command(
    "spop",
    -2,
    W | F,
    keys=(1, 1, 1),
    categories=_SET,
    group="set",
    summary="Remove and return one or multiple random members from a set",
    complexity="Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
    syntax="key [count]",
    tips=_RANDOM_TIP,
    key_flags=("RW", "access", "delete"),
)
def spop(ctx: Context, argv: list[bytes]) -> bytes:
    n = len(argv)
    if n == 3:
        return _spop_count(ctx, argv)
    if n > 3:
        raise CommandError(errors.SYNTAX)
    db = ctx.db
    key = argv[1]
    value = db.data.get(key)
    if value is not None and db.expires:
        value = db.lookup(key)
    if value is None:
        return encoder.NULL_BULK_RESP2 if ctx.proto == 2 else encoder.NULL_RESP3
    if type(value) is not SetValue:
        raise _wrong_type()
    member, _ = value.pop_random(ctx.keyspace.rng)  # type: ignore[attr-defined]
    db.delete_if_empty(key, value)  # type: ignore[arg-type]
    ctx.effects.append([_SREM, key, member])
    return b"$%d\r\n%b\r\n" % (len(member), member)


def _spop_count(ctx: Context, argv: list[bytes]) -> bytes:
    count = parse_int(argv[2], _MUST_BE_POSITIVE)
    if count < 0:
        raise CommandError(_MUST_BE_POSITIVE)
    key = argv[1]
    value = set_for_write(ctx, key)
    if value is None or count == 0:
        return _empty_set(ctx.proto)
    if count >= len(value):
        # Redis answers through SUNION's code here, whose read lookup counts a keyspace hit.
        ctx.db.hits += 1
        members = value.members()
        ctx.db.delete(key)
        ctx.effects.append([_DEL, key])
        return _set_reply(members, ctx.proto)
    members = value.pop_many(ctx.keyspace.rng, count, ctx.config.set_max_intset_entries)
    for start in range(0, len(members), _SREM_BATCH):
        ctx.effects.append([_SREM, key, *members[start : start + _SREM_BATCH]])
    return _set_reply(members, ctx.proto)


@command(
    "srandmember",
    -2,
    R,
    keys=(1, 1, 1),
    categories=_SET,
    group="set",
    summary="Get one or multiple random members from a set",
    complexity="Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
    syntax="key [count]",
    tips=_RANDOM_TIP,
    key_flags=("RO", "access"),
)
def srandmember(ctx: Context, argv: list[bytes]) -> bytes:
    n = len(argv)
    if n > 3:
        raise CommandError(errors.SYNTAX)
    if n == 2:
        value = set_for_read(ctx, argv[1])
        if value is None:
            return encoder.null(ctx.proto)
        return encoder.bulk(value.random_member(ctx.keyspace.rng))
    count = parse_int(argv[2])
    if count < -_LL_MAX:
        raise CommandError(_SRANDMEMBER_RANGE)
    value = set_for_read(ctx, argv[1])
    if value is None or count == 0:
        return encoder.EMPTY_ARRAY
    rng = ctx.keyspace.rng
    if count < 0:
        if -count > MAX_RANDOM_REPLY:
            raise CommandError(_REPLY_TOO_BIG)
        picks = value.random_choices(rng, -count)
        if len(picks) <= len(value):
            return _array_reply(picks)
        # Members repeat: encode each once and share the pieces.
        pieces = {m: b"$%d\r\n%b\r\n" % (len(m), m) for m in value}
        return b"*%d\r\n" % len(picks) + b"".join([pieces[m] for m in picks])
    if count == 1:
        return _array_reply([value.random_member(rng)])
    if count >= len(value):
        return _array_reply(value.members())
    return _array_reply(value.random_sample(rng, count))


# -- moving ------------------------------------------------------------------------------------


@command(
    "smove",
    4,
    W | F,
    keys=(1, 2, 1),
    key_specs=(index_range(1, "RW", "access", "delete"), index_range(2, "RW", "insert")),
    categories=_SET,
    group="set",
    summary="Move a member from one set to another",
    syntax="source destination member",
)
def smove(ctx: Context, argv: list[bytes]) -> bytes:
    """Redis's order of checks: a missing source answers 0 before the destination's type is looked at."""
    db = ctx.db
    src_key, dst_key, member = argv[1], argv[2], argv[3]
    src = db.lookup(src_key)
    dst = db.lookup(dst_key)
    if src is None:
        return encoder.ZERO
    if type(src) is not SetValue or (dst is not None and type(dst) is not SetValue):
        raise _wrong_type()
    if src is dst:
        return encoder.ONE if member in src else encoder.ZERO  # type: ignore[operator]
    if not src.remove((member,)):  # type: ignore[attr-defined]
        return encoder.ZERO
    db.delete_if_empty(src_key, src)  # type: ignore[arg-type]
    max_intset = ctx.config.set_max_intset_entries
    if dst is None:
        created = SetValue()
        created.add((member,), max_intset)
        db.set(dst_key, created)
        ctx.effects.append(argv)
    elif dst.add((member,), max_intset):  # type: ignore[attr-defined]
        ctx.effects.append(argv)
    else:
        ctx.effects.append([_SREM, src_key, member])
    return encoder.ONE


# -- algebra -------------------------------------------------------------------------------------


def _sources(ctx: Context, keys: list[bytes]) -> list[SetValue | None]:
    """Every source set (None when missing), type-checking all of them first, as Redis does."""
    lookup = ctx.db.lookup_read
    found: list[SetValue | None] = []
    for key in keys:
        value = lookup(key)
        if value is not None and type(value) is not SetValue:
            raise _wrong_type()
        found.append(value)  # type: ignore[arg-type]
    return found


def _intersection(sources: list[SetValue | None], limit: int = 0) -> list[bytes]:
    """Members of every source, in the iteration order of the smallest (Redis walks that one).

    ``limit`` (0: none) stops the walk once that many members are found, for SINTERCARD.
    """
    sets: list[SetValue] = []
    for s in sources:
        if s is None:
            return []
        sets.append(s)
    sets.sort(key=len)
    first, rest = sets[0], sets[1:]
    if not rest:
        members = first.members()
        return members[:limit] if limit else members
    tests = [s.membership() for s in rest]
    if not limit:
        if len(tests) == 1:
            return list(filter(tests[0], first))
        return [m for m in first if all(test(m) for test in tests)]
    found: list[bytes] = []
    for m in first:
        if all(test(m) for test in tests):
            found.append(m)
            if len(found) == limit:
                break
    return found


def _union(sources: list[SetValue | None]) -> list[bytes]:
    return list(dict.fromkeys(chain.from_iterable(s for s in sources if s is not None)))


def _difference(sources: list[SetValue | None]) -> list[bytes]:
    first = sources[0]
    if first is None:
        return []
    tests = [s.membership() for s in sources[1:] if s is not None]
    if len(tests) == 1:
        return list(filterfalse(tests[0], first))
    return [m for m in first if not any(test(m) for test in tests)]


def _combined(ctx: Context, members: list[bytes]) -> list[bytes]:
    """A computed union or difference in the order Redis answers it: that of a set built from it.

    Past the intset limit that set is a hashtable, whose order (ours: insertion) is arbitrary anyway.
    """
    max_intset = ctx.config.set_max_intset_entries
    if not members or len(members) > max_intset:
        return members
    return SetValue.from_members(members, max_intset, distinct=True).members()


def _store(ctx: Context, dst: bytes, members: list[bytes]) -> bytes:
    """Replace ``dst`` (of any type, dropping its TTL) by a set of ``members``, or delete it when empty."""
    db = ctx.db
    if not members:
        if db.delete(dst):
            ctx.effects.append([_DEL, dst])
        return encoder.ZERO
    value = SetValue.from_members(members, ctx.config.set_max_intset_entries, distinct=True)
    if db.lookup(dst) is not None:
        ctx.effects.append([_DEL, dst])
    db.set(dst, value)
    ctx.effects.append([_SADD, dst, *value.members()])
    return encoder.integer(len(value))


Algebra = Callable[[list[SetValue | None]], list[bytes]]


def _read_algebra(ctx: Context, argv: list[bytes], op: Algebra, rebuild: bool) -> bytes:
    members = op(_sources(ctx, argv[1:]))
    if rebuild:
        members = _combined(ctx, members)
    return _set_reply(members, ctx.proto)


def _store_algebra(ctx: Context, argv: list[bytes], op: Algebra) -> bytes:
    return _store(ctx, argv[1], op(_sources(ctx, argv[2:])))


_INTER_COMPLEXITY: Final = (
    "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets."
)
_UNION_COMPLEXITY: Final = "O(N) where N is the total number of elements in all given sets."


@command(
    "sinter",
    -2,
    R,
    keys=(1, -1, 1),
    categories=_SET,
    group="set",
    summary="Intersect multiple sets",
    complexity=_INTER_COMPLEXITY,
    syntax="key [key ...]",
    tips=_ORDER_TIP,
    key_flags=("RO", "access"),
)
def sinter(ctx: Context, argv: list[bytes]) -> bytes:
    return _read_algebra(ctx, argv, _intersection, rebuild=False)


@command(
    "sintercard",
    -3,
    R,
    key_specs=(index_keynum(1, "RO", "access"),),
    categories=_SET,
    group="set",
    summary="Intersect multiple sets and return the cardinality of the result",
    since="7.0.0",
    complexity=_INTER_COMPLEXITY,
    syntax="numkeys key [key ...] [LIMIT limit]",
)
def sintercard(ctx: Context, argv: list[bytes]) -> bytes:
    numkeys = parse_int(argv[1], "ERR numkeys should be greater than 0")
    if numkeys < 1:
        raise CommandError("ERR numkeys should be greater than 0")
    if numkeys > len(argv) - 2:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    limit = 0
    i = 2 + numkeys
    n = len(argv)
    while i < n:
        if i + 1 < n and argv[i].upper() == b"LIMIT":
            limit = parse_int(argv[i + 1], "ERR LIMIT can't be negative")
            if limit < 0:
                raise CommandError("ERR LIMIT can't be negative")
            i += 2
        else:
            raise CommandError(errors.SYNTAX)
    sources = _sources(ctx, argv[2 : 2 + numkeys])
    return encoder.integer(len(_intersection(sources, limit)))


@command(
    "sinterstore",
    -3,
    W | Flag.DENYOOM,
    keys=(1, -1, 1),
    key_specs=(index_range(1, "RW", "update"), index_range(2, "RO", "access", last=-1)),
    categories=_SET,
    group="set",
    summary="Intersect multiple sets and store the resulting set in a key",
    complexity=_INTER_COMPLEXITY,
    syntax="destination key [key ...]",
)
def sinterstore(ctx: Context, argv: list[bytes]) -> bytes:
    return _store_algebra(ctx, argv, _intersection)


@command(
    "sunion",
    -2,
    R,
    keys=(1, -1, 1),
    categories=_SET,
    group="set",
    summary="Add multiple sets",
    complexity=_UNION_COMPLEXITY,
    syntax="key [key ...]",
    tips=_ORDER_TIP,
    key_flags=("RO", "access"),
)
def sunion(ctx: Context, argv: list[bytes]) -> bytes:
    return _read_algebra(ctx, argv, _union, rebuild=True)


@command(
    "sunionstore",
    -3,
    W | Flag.DENYOOM,
    keys=(1, -1, 1),
    key_specs=(index_range(1, "OW", "update"), index_range(2, "RO", "access", last=-1)),
    categories=_SET,
    group="set",
    summary="Add multiple sets and store the resulting set in a key",
    complexity=_UNION_COMPLEXITY,
    syntax="destination key [key ...]",
)
def sunionstore(ctx: Context, argv: list[bytes]) -> bytes:
    return _store_algebra(ctx, argv, _union)


@command(
    "sdiff",
    -2,
    R,
    keys=(1, -1, 1),
    categories=_SET,
    group="set",
    summary="Subtract multiple sets",
    complexity=_UNION_COMPLEXITY,
    syntax="key [key ...]",
    tips=_ORDER_TIP,
    key_flags=("RO", "access"),
)
def sdiff(ctx: Context, argv: list[bytes]) -> bytes:
    return _read_algebra(ctx, argv, _difference, rebuild=True)


@command(
    "sdiffstore",
    -3,
    W | Flag.DENYOOM,
    keys=(1, -1, 1),
    key_specs=(index_range(1, "OW", "update"), index_range(2, "RO", "access", last=-1)),
    categories=_SET,
    group="set",
    summary="Subtract multiple sets and store the resulting set in a key",
    complexity=_UNION_COMPLEXITY,
    syntax="destination key [key ...]",
)
def sdiffstore(ctx: Context, argv: list[bytes]) -> bytes:
    return _store_algebra(ctx, argv, _difference)


# -- iteration -------------------------------------------------------------------------------------


@command(
    "sscan",
    -3,
    R,
    keys=(1, 1, 1),
    categories=_SET,
    group="set",
    summary="Incrementally iterate Set elements",
    since="2.8.0",
    complexity="O(1) for every call. O(N) for a complete iteration, including enough command calls for the "
    "cursor to return back to 0. N is the number of elements inside the collection..",
    syntax="key cursor [MATCH pattern] [COUNT count]",
    tips=_RANDOM_TIP,
    key_flags=("RO", "access"),
)
def sscan(ctx: Context, argv: list[bytes]) -> bytes:
    """Cursor first, then the key, then the options: Redis's order, so a missing key ignores bad options."""
    cursor = parse_cursor(argv[2])
    value = set_for_read(ctx, argv[1])
    if value is None:
        return _EMPTY_SCAN
    count = 10
    pattern: bytes | None = None
    i = 3
    n = len(argv)
    while i < n:
        if i + 1 >= n:
            raise CommandError(errors.SYNTAX)
        opt = argv[i].upper()
        if opt == b"COUNT":
            count = parse_int(argv[i + 1])
            if count < 1:
                raise CommandError(errors.SYNTAX)
        elif opt == b"MATCH":
            pattern = argv[i + 1]
        else:
            raise CommandError(errors.SYNTAX)
        i += 2
    next_cursor, members = value.scan(cursor, count)
    if pattern is not None and pattern != b"*":
        matches = compile_glob(pattern)
        members = [m for m in members if matches(m)]
    return b"*2\r\n" + encoder.bulk(b"%d" % next_cursor) + _array_reply(members)
