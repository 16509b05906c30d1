"""Sorted set commands, including the blocking pops.

Handlers follow Redis 7.0's t_zset.c step by step where the order is visible:
options are parsed (and numbers checked) before the key is looked up, so a
syntax error wins over WRONGTYPE, except in the multi-key commands (ZUNION and
friends), which look their keys up before reading WEIGHTS/AGGREGATE, as Redis
does.  Scores are doubles formatted with ``%.17g`` (bulk strings in RESP2,
``,`` doubles in RESP3); WITHSCORES pairs are a flat array in RESP2 and
nested two-element arrays in RESP3.

Write effects, as Redis propagates these commands: ZADD, ZINCRBY, ZREM,
ZREMRANGEBY*, ZPOPMIN/ZPOPMAX, ZRANGESTORE and the *STORE commands replay as
themselves (each is deterministic given the same data; the *STORE commands
declare ``touches`` so WATCH sees only the destination change); ZMPOP becomes
``ZPOPMIN|ZPOPMAX key count`` and a served blocking pop becomes ``ZPOPMIN key``
(or with its count for BZMPOP).  Nothing is emitted when nothing changed.
"""

from collections.abc import Callable, Iterable
from typing import Final

from cacheflow.commands import errors
from cacheflow.commands.context import Context, expect_type
from cacheflow.commands.errors import WRONGTYPE, parse_int
from cacheflow.commands.keys import parse_cursor
from cacheflow.commands.lists import parse_timeout
from cacheflow.commands.table import Flag, command, index_keynum, index_range
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError
from cacheflow.store.glob import compile_glob
from cacheflow.store.sorted_sets import (
    GT,
    INCR,
    LT,
    NX,
    XX,
    LexRange,
    Pair,
    ScoreRange,
    SortedSet,
    ZaddResult,
    format_score,
    listpack_score_text,
    parse_double,
    parse_lex_range,
    parse_score_range,
)

W: Final = Flag.WRITE
R: Final = Flag.READONLY
F: Final = Flag.FAST
_ZSET: Final = ("sortedset",)
_GROUP: Final = "sorted-set"

_NOT_FLOAT: Final = "ERR min or max is not a float"
_NOT_LEX: Final = "ERR min or max not valid string range item"
_NAN: Final = "ERR resulting score is not a number (NaN)"
_WEIGHT_NOT_FLOAT: Final = "ERR weight value is not a float"
_POSITIVE: Final = "ERR value is out of range, must be positive"
_LIMIT_NEGATIVE: Final = "ERR LIMIT can't be negative"
_NUMKEYS: Final = "ERR numkeys should be greater than 0"
_COUNT: Final = "ERR count should be greater than 0"
_LONG_MAX: Final = 2**63 - 1
_EMPTY_SCAN: Final = b"*2\r\n$1\r\n0\r\n*0\r\n"
_INFINITY: Final = float("inf")

# -- lookups and replies ------------------------------------------------------------------------


def _zset_read(ctx: Context, key: bytes) -> SortedSet | None:
    """The sorted set at ``key`` for a read (counting a hit or miss); WRONGTYPE for other types."""
    return expect_type(ctx.db.lookup_read(key), SortedSet)


def _zset_write(ctx: Context, key: bytes) -> SortedSet | None:
    """Like _zset_read without statistics, as Redis's write lookups."""
    return expect_type(ctx.db.lookup(key), SortedSet)


def _score(score: float, proto: int) -> bytes:
    text = format_score(score)
    if proto == 3:
        return b",%b\r\n" % text
    return encoder.bulk(text)


def _bulks(members: list[bytes]) -> bytes:
    lines = [b"*%d" % len(members)]
    for member in members:
        lines.append(encoder.bulk_line(len(member)))
        lines.append(member)
    lines.append(b"")
    return b"\r\n".join(lines)


def _members(pairs: list[Pair]) -> bytes:
    return _bulks([member for _, member in pairs])


# Shapes of member/score replies: Redis's flat RESP2 array, RESP3's [member, score]
# pairs, ZPOPMIN's flat RESP3 array (double scores), ZMPOP's nested RESP2 pairs.
_FLAT: Final = 0
_NESTED: Final = 1


def _scored(count: int, pairs: list[Pair], shape: int, proto: int) -> bytes:
    """A member/score reply as lines joined once (see encoder.bulk_line): nothing formatted but the scores."""
    lines = [b"*%d" % count]
    for score, member in pairs:
        if shape == _NESTED:
            lines.append(b"*2")
        lines.append(encoder.bulk_line(len(member)))
        lines.append(member)
        text = format_score(score)
        if proto == 3:
            lines.append(b"," + text)
        else:
            lines.append(encoder.bulk_line(len(text)))
            lines.append(text)
    lines.append(b"")
    return b"\r\n".join(lines)


def _with_scores(pairs: list[Pair], proto: int) -> bytes:
    """Member/score pairs: flat in RESP2, nested pairs in RESP3."""
    if proto == 3:
        return _scored(len(pairs), pairs, _NESTED, 3)
    return _scored(2 * len(pairs), pairs, _FLAT, 2)


def _nested_pairs(pairs: list[Pair], proto: int) -> bytes:
    """[member, score] pairs nested in both protocols (ZMPOP), the score a bulk string in RESP2."""
    return _scored(len(pairs), pairs, _NESTED, proto)


def _pairs_reply(pairs: list[Pair], withscores: bool, proto: int) -> bytes:
    return _with_scores(pairs, proto) if withscores else _members(pairs)


def _store_or_delete(ctx: Context, dst: bytes, zset: SortedSet | None) -> bool:
    """Put a non-empty result at ``dst`` (dropping any TTL), or delete ``dst``; whether anything changed."""
    if zset is not None and len(zset):
        ctx.db.set(dst, zset)
        return True
    return ctx.db.delete(dst)


def _dst_touches(db_index: int, argv: list[bytes]) -> list[tuple[int, bytes | None]]:
    """A *STORE effect modifies its destination only; its sources are read."""
    return [(db_index, argv[1])]


# -- ZADD, ZINCRBY ---------------------------------------------------------------------------

_ZADD_OPTIONS: Final = {b"NX": NX, b"XX": XX, b"GT": GT, b"LT": LT, b"INCR": INCR}


def _zadd_generic(ctx: Context, argv: list[bytes], flags: int, first: int) -> bytes:
    """zaddGenericCommand: ``first`` is where options (ZADD) or the increment (ZINCRBY) start."""
    n = len(argv)
    ch = False
    j = first
    while j < n:
        opt = argv[j].upper() if len(argv[j]) <= 4 else b""
        if opt == b"CH":
            ch = True
        else:
            bit = _ZADD_OPTIONS.get(opt)
            if bit is None:
                break
            flags |= bit
        j += 1
    elements = n - j
    if elements % 2 or not elements:
        raise CommandError(errors.SYNTAX)
    if flags & NX and flags & XX:
        raise CommandError("ERR XX and NX options at the same time are not compatible")
    if (flags & GT and flags & NX) or (flags & LT and flags & NX) or (flags & GT and flags & LT):
        raise CommandError("ERR GT, LT, and/or NX options at the same time are not compatible")
    incr = flags & INCR
    if incr and elements > 2:
        raise CommandError("ERR INCR option supports a single increment-element pair")
    items: list[Pair] = []
    for k in range(j, n, 2):
        score = parse_double(argv[k])
        if score is None:
            raise CommandError(errors.NOT_FLOAT)
        items.append((score, argv[k + 1]))
    key = argv[1]
    zset = _zset_write(ctx, key)
    result = ZaddResult()
    if zset is None:
        if flags & XX:
            return encoder.null(ctx.proto) if incr else encoder.ZERO
        zset = SortedSet()
        created = True
    else:
        created = False
    config = ctx.config
    zset.add_many(items, flags, config.zset_max_listpack_entries, config.zset_max_listpack_value, result)
    changed = result.added or result.updated
    if created and len(zset):
        ctx.db.set(key, zset)
    if changed:
        ctx.effects.append(argv)
    if result.nan:
        raise CommandError(_NAN)
    if incr:
        return _score(result.score, ctx.proto) if result.processed else encoder.null(ctx.proto)
    return encoder.integer(result.added + result.updated if ch else result.added)


@command(
    "zadd",
    -4,
    W | Flag.DENYOOM | F,
    keys=(1, 1, 1),
    key_flags=("RW", "update"),
    categories=_ZSET,
    group=_GROUP,
    summary="Add one or more members to a sorted set, or update its score if it already exists",
    since="1.2.0",
    complexity="O(log(N)) for each item added, where N is the number of elements in the sorted set.",
    syntax="key [NX|XX] [GT|LT] [CH=change] [INCR=increment] score member [score member ...]",
)
def zadd(ctx: Context, argv: list[bytes]) -> bytes:
    if len(argv) == 4:
        # The common ZADD key score member: no option word parses as a double.
        raw = argv[2]
        score = parse_double(raw)
        if score is not None:
            key = argv[1]
            db = ctx.db
            zset = db.data.get(key)
            if zset is None or db.expires:
                zset = db.lookup(key)
            if zset is not None and type(zset) is not SortedSet:
                raise CommandError(WRONGTYPE)
            if zset is None:
                zset = SortedSet()
                config = ctx.config
                zset.add(score, argv[3], config.zset_max_listpack_entries, config.zset_max_listpack_value)
                ctx.db.set(key, zset)
                ctx.effects.append(argv)
                return encoder.ONE
            config = ctx.config
            outcome = zset.add(score, argv[3], config.zset_max_listpack_entries, config.zset_max_listpack_value)
            if outcome:
                ctx.effects.append(argv)
            return encoder.ONE if outcome == 1 else encoder.ZERO
    return _zadd_generic(ctx, argv, 0, 2)


@command(
    "zincrby",
    4,
    W | Flag.DENYOOM | F,
    keys=(1, 1, 1),
    key_flags=("RW", "access", "update"),
    categories=_ZSET,
    group=_GROUP,
    summary="Increment the score of a member in a sorted set",
    since="1.2.0",
    complexity="O(log(N)) where N is the number of elements in the sorted set.",
    syntax="key increment member",
)
def zincrby(ctx: Context, argv: list[bytes]) -> bytes:
    return _zadd_generic(ctx, argv, INCR, 2)


# -- ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK -----------------------------------------------------


@command(
    "zrem",
    -3,
    W | F,
    keys=(1, 1, 1),
    key_flags=("RW", "delete"),
    categories=_ZSET,
    group=_GROUP,
    summary="Remove one or more members from a sorted set",
    since="1.2.0",
    complexity=(
        "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed."
    ),
    syntax="key member [member ...]",
)
def zrem(ctx: Context, argv: list[bytes]) -> bytes:
    key = argv[1]
    zset = _zset_write(ctx, key)
    if zset is None:
        return encoder.ZERO
    removed = zset.remove(argv[2:])
    if removed:
        ctx.db.delete_if_empty(key, zset)
        ctx.effects.append(argv)
    return encoder.integer(removed)


@command(
    "zcard",
    2,
    R | F,
    keys=(1, 1, 1),
    key_flags=("RO",),
    categories=_ZSET,
    group=_GROUP,
    summary="Get the number of members in a sorted set",
    since="1.2.0",
    syntax="key",
)
def zcard(ctx: Context, argv: list[bytes]) -> bytes:
    zset = _zset_read(ctx, argv[1])
    return encoder.ZERO if zset is None else encoder.integer(len(zset))


@command(
    "zscore",
    3,
    R | F,
    keys=(1, 1, 1),
    categories=_ZSET,
    group=_GROUP,
    summary="Get the score associated with the given member in a sorted set",
    since="1.2.0",
    syntax="key member",
)
def zscore(ctx: Context, argv: list[bytes]) -> bytes:
    zset = _zset_read(ctx, argv[1])
    score = None if zset is None else zset.score(argv[2])
    return encoder.null(ctx.proto) if score is None else _score(score, ctx.proto)


@command(
    "zmscore",
    -3,
    R | F,
    keys=(1, 1, 1),
    categories=_ZSET,
    group=_GROUP,
    summary="Get the score associated with the given members in a sorted set",
    since="6.2.0",
    complexity="O(N) where N is the number of members being requested.",
    syntax="key member [member ...]",
)
def zmscore(ctx: Context, argv: list[bytes]) -> bytes:
    zset = _zset_read(ctx, argv[1])
    proto = ctx.proto
    nil = encoder.null(proto)
    if zset is None:
        return b"*%d\r\n" % (len(argv) - 2) + nil * (len(argv) - 2)
    scores = zset.score_map()
    parts = [b"*%d\r\n" % (len(argv) - 2)]
    for member in argv[2:]:
        score = scores.get(member)
        parts.append(nil if score is None else _score(score, proto))
    return b"".join(parts)


def _rank(ctx: Context, argv: list[bytes], reverse: bool) -> bytes:
    """ZRANK/ZREVRANK, with Redis 7.2's WITHSCORE (a [rank, score] pair; a null array when absent)."""
    withscore = False
    if len(argv) > 4:
        raise errors.wrong_arity(argv[0].decode("utf-8", "replace").lower())
    if len(argv) == 4:
        if argv[3].lower() != b"withscore":
            raise CommandError(errors.SYNTAX)
        withscore = True
    missing = encoder.null_array(ctx.proto) if withscore else encoder.null(ctx.proto)
    zset = _zset_read(ctx, argv[1])
    if zset is None:
        return missing
    found = zset.rank(argv[2])
    if found is None:
        return missing
    rank, score = found
    if reverse:
        rank = len(zset) - 1 - rank
    if withscore:
        return b"*2\r\n" + encoder.integer(rank) + _score(score, ctx.proto)
    return encoder.integer(rank)


@command(
    "zrank",
    -3,
    R | F,
    keys=(1, 1, 1),
    categories=_ZSET,
    group=_GROUP,
    summary="Determine the index of a member in a sorted set",
    since="2.0.0",
    complexity="O(log(N))",
    syntax="key member [WITHSCORE]",
)
def zrank(ctx: Context, argv: list[bytes]) -> bytes:
    return _rank(ctx, argv, False)


@command(
    "zrevrank",
    -3,
    R | F,
    keys=(1, 1, 1),
    categories=_ZSET,
    group=_GROUP,
    summary="Determine the index of a member in a sorted set, with scores ordered from high to low",
    since="2.0.0",
    complexity="O(log(N))",
    syntax="key member [WITHSCORE]",
)
def zrevrank(ctx: Context, argv: list[bytes]) -> bytes:
    return _rank(ctx, argv, True)


# -- counting ---------------------------------------------------------------------------------


def _score_range(low: bytes, high: bytes) -> ScoreRange:
    spec = parse_score_range(low, high)
    if spec is None:
        raise CommandError(_NOT_FLOAT)
    return spec


def _lex_range(low: bytes, high: bytes) -> LexRange:
    spec = parse_lex_range(low, high)
    if spec is None:
        raise CommandError(_NOT_LEX)
    return spec


@command(
    "zcount",
    4,
    R | F,
    keys=(1, 1, 1),
    categories=_ZSET,
    group=_GROUP,
    summary="Count the members in a sorted set with scores within the given values",
    since="2.0.0",
    complexity="O(log(N)) with N being the number of elements in the sorted set.",
    syntax="key min:double max:double",
)
def zcount(ctx: Context, argv: list[bytes]) -> bytes:
    spec = _score_range(argv[2], argv[3])
    zset = _zset_read(ctx, argv[1])
    return encoder.ZERO if zset is None else encoder.integer(zset.count_by_score(spec))


@command(
    "zlexcount",
    4,
    R | F,
    keys=(1, 1, 1),
    categories=_ZSET,
    group=_GROUP,
    summary="Count the number of members in a sorted set between a given lexicographical range",
    since="2.8.9",
    complexity="O(log(N)) with N being the number of elements in the sorted set.",
    syntax="key min max",
)
def zlexcount(ctx: Context, argv: list[bytes]) -> bytes:
    spec = _lex_range(argv[2], argv[3])
    zset = _zset_read(ctx, argv[1])
    return encoder.ZERO if zset is None else encoder.integer(zset.count_by_lex(spec))


# -- ZRANGE and its variants -------------------------------------------------------------------

_AUTO: Final = 0
_RANK: Final = 1
_BYSCORE: Final = 2
_BYLEX: Final = 3


def _rank_slice(zset: SortedSet, start: int, end: int, reverse: bool) -> list[Pair]:
    """Z[REV]RANGE's index clamping, then the pairs in reply order."""
    n = len(zset)
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if start > end or start >= n:
        return []
    if end >= n:
        end = n - 1
    if reverse:
        found = zset.slice(n - 1 - end, n - start)
        found.reverse()
        return found
    return zset.slice(start, end + 1)


def _range_generic(ctx: Context, argv: list[bytes], src_index: int, store: bool, rangetype: int, reverse: int) -> bytes:
    """zrangeGenericCommand: ``reverse`` is 0/1, or -1 for ZRANGE's REV option to decide."""
    n = len(argv)
    withscores = False
    offset = 0
    limit = -1
    j = src_index + 3
    while j < n:
        arg = argv[j]
        opt = arg.upper() if len(arg) <= 10 else b""
        if not store and opt == b"WITHSCORES":
            withscores = True
        elif opt == b"LIMIT" and n - j - 1 >= 2:
            offset = parse_int(argv[j + 1])
            limit = parse_int(argv[j + 2])
            j += 2
        elif reverse == -1 and opt == b"REV":
            reverse = 1
        elif rangetype == _AUTO and opt == b"BYLEX":
            rangetype = _BYLEX
        elif rangetype == _AUTO and opt == b"BYSCORE":
            rangetype = _BYSCORE
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    if reverse == -1:
        reverse = 0
    if rangetype == _AUTO:
        rangetype = _RANK
    if limit != -1 and rangetype == _RANK:
        raise CommandError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
    if withscores and rangetype == _BYLEX:
        raise CommandError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    low, high = argv[src_index + 1], argv[src_index + 2]
    if reverse and rangetype != _RANK:
        low, high = high, low
    score_spec: ScoreRange | None = None
    lex_spec: LexRange | None = None
    start = end = 0
    if rangetype == _RANK:
        start = parse_int(low)
        end = parse_int(high)
    elif rangetype == _BYSCORE:
        score_spec = _score_range(low, high)
    else:
        lex_spec = _lex_range(low, high)
    zset = _zset_read(ctx, argv[src_index])
    if zset is None:
        if store:
            return _finish_store(ctx, argv, [], False)
        return encoder.EMPTY_ARRAY
    if rangetype == _RANK:
        found = _rank_slice(zset, start, end, bool(reverse))
    elif score_spec is not None:
        found = zset.range_by_score(score_spec, bool(reverse), offset, limit)
    else:
        assert lex_spec is not None
        found = zset.range_by_lex(lex_spec, bool(reverse), offset, limit)
    if store:
        return _finish_store(ctx, argv, found, bool(reverse))
    return _with_scores(found, ctx.proto) if withscores else _members(found)


def _finish_store(ctx: Context, argv: list[bytes], found: list[Pair], reverse: bool) -> bytes:
    """ZRANGESTORE: the destination is built member by member in range order, as Redis adds them."""
    config = ctx.config
    zset = SortedSet.from_insertions(found, config.zset_max_listpack_entries, config.zset_max_listpack_value)
    if _store_or_delete(ctx, argv[1], zset if found else None):
        ctx.effects.append(argv)
    return encoder.integer(len(found))


_RANGE_COMPLEXITY: Final = (
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."
)
_RANGE_BY_COMPLEXITY: Final = (
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being "
    "returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it "
    "O(log(N))."
)


@command(
    "zrange",
    -4,
    R,
    keys=(1, 1, 1),
    categories=_ZSET,
    group=_GROUP,
    summary="Return a range of members in a sorted set",
    since="1.2.0",
    complexity=_RANGE_COMPLEXITY,
    syntax="key start:string stop:string [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]",
)
def zrange(ctx: Context, argv: list[bytes]) -> bytes:
    if len(argv) == 4:
        # The common ZRANGE key start stop: straight to the slice.
        start = parse_int(argv[2])
        end = parse_int(argv[3])
        zset = _zset_read(ctx, argv[1])
        if zset is None:
            return encoder.EMPTY_ARRAY
        n = len(zset)
        if start < 0:
            start += n
        if end < 0:
            end += n
        if start < 0:
            start = 0
        if start > end or start >= n:
            return encoder.EMPTY_ARRAY
        found = zset.bulks_slice(start, end + 1)
        return b"*%d\r\n%b" % (len(found), b"".join(found))
    return _range_generic(ctx, argv, 1, False, _AUTO, -1)


@command(
    "zrangestore",
    -5,
    W | Flag.DENYOOM,
    keys=(1, 2, 1),
    key_specs=(index_range(1, "OW", "update"), index_range(2, "RO", "access")),
    touches=_dst_touches,
    categories=_ZSET,
    group=_GROUP,
    summary="Store a range of members from sorted set into another key",
    since="6.2.0",
    complexity=(
        "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored "
        "into the destination key."
    ),
    syntax="dst:key src:key min:string max:string [BYSCORE|BYLEX] [REV] [LIMIT offset count]",
)
def zrangestore(ctx: Context, argv: list[bytes]) -> bytes:
    return _range_generic(ctx, argv, 2, True, _AUTO, -1)


@command(
    "zrevrange",
    -4,
    R,
    keys=(1, 1, 1),
    categories=_ZSET,
    group=_GROUP,
    summary="Return a range of members in a sorted set, by index, with scores ordered from high to low",
    since="1.2.0",
    complexity=_RANGE_COMPLEXITY,
    syntax="key start stop [WITHSCORES]",
)
def zrevrange(ctx: Context, argv: list[bytes]) -> bytes:
    return _range_generic(ctx, argv, 1, False, _RANK, 1)


@command(
    "zrangebyscore",
    -4,
    R,
    keys=(1, 1, 1),
    categories=_ZSET,
    group=_GROUP,
    summary="Return a range of members in a sorted set, by score",
    since="1.0.5",
    complexity=_RANGE_BY_COMPLEXITY,
    syntax="key min:double max:double [WITHSCORES] [LIMIT offset count]",
)
def zrangebyscore(ctx: Context, argv: list[bytes]) -> bytes:
    return _range_generic(ctx, argv, 1, False, _BYSCORE, 0)


@command(
    "zrevrangebyscore",
    -4,
    R,
    keys=(1, 1, 1),
    categories=_ZSET,
    group=_GROUP,
    summary="Return a range of members in a sorted set, by score, with scores ordered from high to low",
    since="2.2.0",
    complexity=_RANGE_BY_COMPLEXITY,
    syntax="key max:double min:double [WITHSCORES] [LIMIT offset count]",
)
def zrevrangebyscore(ctx: Context, argv: list[bytes]) -> bytes:
    return _range_generic(ctx, argv, 1, False, _BYSCORE, 1)


@command(
    "zrangebylex",
    -4,
    R,
    keys=(1, 1, 1),
    categories=_ZSET,
    group=_GROUP,
    summary="Return a range of members in a sorted set, by lexicographical range",
    since="2.8.9",
    complexity=_RANGE_BY_COMPLEXITY,
    syntax="key min max [LIMIT offset count]",
)
def zrangebylex(ctx: Context, argv: list[bytes]) -> bytes:
    return _range_generic(ctx, argv, 1, False, _BYLEX, 0)


@command(
    "zrevrangebylex",
    -4,
    R,
    keys=(1, 1, 1),
    categories=_ZSET,
    group=_GROUP,
    summary=(
        "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings."
    ),
    since="2.8.9",
    complexity=_RANGE_BY_COMPLEXITY,
    syntax="key max min [LIMIT offset count]",
)
def zrevrangebylex(ctx: Context, argv: list[bytes]) -> bytes:
    return _range_generic(ctx, argv, 1, False, _BYLEX, 1)


# -- ZREMRANGEBY* ------------------------------------------------------------------------------

_REMRANGE_COMPLEXITY: Final = (
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by "
    "the operation."
)


def _remrange(ctx: Context, argv: list[bytes], remove: Callable[[SortedSet], int]) -> bytes:
    key = argv[1]
    zset = _zset_write(ctx, key)
    if zset is None:
        return encoder.ZERO
    removed = remove(zset)
    if removed:
        ctx.db.delete_if_empty(key, zset)
        ctx.effects.append(argv)
    return encoder.integer(removed)


@command(
    "zremrangebyrank",
    4,
    W,
    keys=(1, 1, 1),
    key_flags=("RW", "delete"),
    categories=_ZSET,
    group=_GROUP,
    summary="Remove all members in a sorted set within the given indexes",
    since="2.0.0",
    complexity=_REMRANGE_COMPLEXITY,
    syntax="key start stop",
)
def zremrangebyrank(ctx: Context, argv: list[bytes]) -> bytes:
    start = parse_int(argv[2])
    end = parse_int(argv[3])

    def remove(zset: SortedSet) -> int:
        n = len(zset)
        lo = start + n if start < 0 else start
        hi = end + n if end < 0 else end
        lo = max(lo, 0)
        if lo > hi or lo >= n:
            return 0
        return zset.remove_slice(lo, min(hi, n - 1) + 1)

    return _remrange(ctx, argv, remove)


@command(
    "zremrangebyscore",
    4,
    W,
    keys=(1, 1, 1),
    key_flags=("RW", "delete"),
    categories=_ZSET,
    group=_GROUP,
    summary="Remove all members in a sorted set within the given scores",
    since="1.2.0",
    complexity=_REMRANGE_COMPLEXITY,
    syntax="key min:double max:double",
)
def zremrangebyscore(ctx: Context, argv: list[bytes]) -> bytes:
    spec = _score_range(argv[2], argv[3])
    return _remrange(ctx, argv, lambda zset: zset.remove_range_by_score(spec))


@command(
    "zremrangebylex",
    4,
    W,
    keys=(1, 1, 1),
    key_flags=("RW", "delete"),
    categories=_ZSET,
    group=_GROUP,
    summary="Remove all members in a sorted set between the given lexicographical range",
    since="2.8.9",
    complexity=_REMRANGE_COMPLEXITY,
    syntax="key min max",
)
def zremrangebylex(ctx: Context, argv: list[bytes]) -> bytes:
    spec = _lex_range(argv[2], argv[3])
    return _remrange(ctx, argv, lambda zset: zset.remove_range_by_lex(spec))


# -- pops ---------------------------------------------------------------------------------------


def _pop_reply(pairs: list[Pair], nested: bool, proto: int) -> bytes:
    """ZPOPMIN/ZPOPMAX: flat pairs, except nested in RESP3 when a count was given."""
    if proto == 3 and not nested:
        return _scored(2 * len(pairs), pairs, _FLAT, 3)
    return _with_scores(pairs, proto)


def _pop_from(ctx: Context, key: bytes, zset: SortedSet, count: int, highest: bool) -> list[Pair]:
    """Pop up to ``count`` members and delete the key when it empties (no effect recorded here)."""
    taken = zset.pop(count, highest)
    ctx.db.delete_if_empty(key, zset)
    return taken


def _zpop(ctx: Context, argv: list[bytes], highest: bool) -> bytes:
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    count = -1
    if len(argv) == 3:
        count = parse_int(argv[2], _POSITIVE)
        if count < 0:
            raise CommandError(_POSITIVE)
    key = argv[1]
    zset = _zset_write(ctx, key)
    if zset is None or count == 0:
        return encoder.EMPTY_ARRAY
    taken = _pop_from(ctx, key, zset, 1 if count == -1 else count, highest)
    ctx.effects.append(argv)
    return _pop_reply(taken, count != -1, ctx.proto)


_ZPOP_COMPLEXITY: Final = (
    "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped."
)


@command(
    "zpopmin",
    -2,
    W | F,
    keys=(1, 1, 1),
    key_flags=("RW", "access", "delete"),
    categories=_ZSET,
    group=_GROUP,
    summary="Remove and return members with the lowest scores in a sorted set",
    since="5.0.0",
    complexity=_ZPOP_COMPLEXITY,
    syntax="key [count]",
)
def zpopmin(ctx: Context, argv: list[bytes]) -> bytes:
    return _zpop(ctx, argv, False)


@command(
    "zpopmax",
    -2,
    W | F,
    keys=(1, 1, 1),
    key_flags=("RW", "access", "delete"),
    categories=_ZSET,
    group=_GROUP,
    summary="Remove and return members with the highest scores in a sorted set",
    since="5.0.0",
    complexity=_ZPOP_COMPLEXITY,
    syntax="key [count]",
)
def zpopmax(ctx: Context, argv: list[bytes]) -> bytes:
    return _zpop(ctx, argv, True)


def _mpop_args(argv: list[bytes], numkeys_index: int) -> tuple[list[bytes], bool, int]:
    """ZMPOP/BZMPOP's numkeys, keys, MIN|MAX and COUNT, with Redis's checks in its order."""
    numkeys = parse_int(argv[numkeys_index], _NUMKEYS)
    if numkeys < 1:
        raise CommandError(_NUMKEYS)
    where_index = numkeys_index + numkeys + 1
    if where_index >= len(argv):
        raise CommandError(errors.SYNTAX)
    where = argv[where_index].upper()
    if where not in (b"MIN", b"MAX"):
        raise CommandError(errors.SYNTAX)
    count = -1
    j = where_index + 1
    while j < len(argv):
        if count == -1 and argv[j].upper() == b"COUNT" and j + 1 < len(argv):
            count = parse_int(argv[j + 1], _COUNT)
            if count < 1:
                raise CommandError(_COUNT)
            j += 2
        else:
            raise CommandError(errors.SYNTAX)
    return argv[numkeys_index + 1 : where_index], where == b"MAX", max(count, 1)


def _mpop_from(ctx: Context, key: bytes, zset: SortedSet, highest: bool, count: int) -> bytes:
    n = len(zset)
    taken = _pop_from(ctx, key, zset, count, highest)
    ctx.effects.append([b"ZPOPMAX" if highest else b"ZPOPMIN", key, b"%d" % min(count, n)])
    return b"*2\r\n" + encoder.bulk(key) + _nested_pairs(taken, ctx.proto)


@command(
    "zmpop",
    -4,
    W,
    key_specs=(index_keynum(1, "RW", "access", "delete"),),
    categories=_ZSET,
    group=_GROUP,
    summary="Remove and return members with scores in a sorted set",
    since="7.0.0",
    complexity=(
        "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted "
        "set, and M being the number of elements popped."
    ),
    syntax="numkeys key [key ...] <MIN|MAX> [COUNT count]",
)
def zmpop(ctx: Context, argv: list[bytes]) -> bytes:
    keys, highest, count = _mpop_args(argv, 1)
    for key in keys:
        zset = _zset_write(ctx, key)
        if zset is not None:
            return _mpop_from(ctx, key, zset, highest, count)
    return encoder.null_array(ctx.proto)


# -- blocking pops ---------------------------------------------------------------------------------
#
# How these block is engine/blocking.py's contract: try the non-blocking form first; inside EXEC
# answer as a timeout would; otherwise hand the registry a serve function that does exactly what
# the non-blocking pop would, effect included.

_BLOCKING: Final = W | Flag.NOSCRIPT | Flag.BLOCKING


def _bzpop_now(ctx: Context, key: bytes, zset: SortedSet, highest: bool) -> bytes:
    """BZPOPMIN/BZPOPMAX from a non-empty set: the flat [key, member, score] reply, effect ZPOP* key."""
    taken = _pop_from(ctx, key, zset, 1, highest)
    ctx.effects.append([b"ZPOPMAX" if highest else b"ZPOPMIN", key])
    score, member = taken[0]
    return b"*3\r\n" + encoder.bulk(key) + encoder.bulk(member) + _score(score, ctx.proto)


def _serve_bzpop(highest: bool) -> Callable[[Context, bytes], bytes | None]:
    def serve(ctx: Context, key: bytes) -> bytes | None:
        zset = ctx.db.lookup(key)
        if type(zset) is not SortedSet:
            return None
        return _bzpop_now(ctx, key, zset, highest)  # type: ignore[arg-type]

    return serve


_SERVE_BZPOPMIN: Final = _serve_bzpop(False)
_SERVE_BZPOPMAX: Final = _serve_bzpop(True)


def _bzpop(ctx: Context, argv: list[bytes], highest: bool) -> bytes:
    deadline = parse_timeout(ctx, argv[-1])
    keys = argv[1:-1]
    for key in keys:
        zset = _zset_write(ctx, key)
        if zset is not None:
            return _bzpop_now(ctx, key, zset, highest)
    if ctx.deny_blocking:
        return encoder.null_array(ctx.proto)
    return ctx.engine.block(ctx, keys, _SERVE_BZPOPMAX if highest else _SERVE_BZPOPMIN, deadline)


_BZPOP_COMPLEXITY: Final = "O(log(N)) with N being the number of elements in the sorted set."


@command(
    "bzpopmin",
    -3,
    _BLOCKING | F,
    keys=(1, -2, 1),
    key_flags=("RW", "access", "delete"),
    categories=_ZSET,
    group=_GROUP,
    summary=(
        "Remove and return the member with the lowest score from one or more sorted sets, or block until one is "
        "available"
    ),
    since="5.0.0",
    complexity=_BZPOP_COMPLEXITY,
    syntax="key [key ...] timeout:double",
)
def bzpopmin(ctx: Context, argv: list[bytes]) -> bytes:
    return _bzpop(ctx, argv, False)


@command(
    "bzpopmax",
    -3,
    _BLOCKING | F,
    keys=(1, -2, 1),
    key_flags=("RW", "access", "delete"),
    categories=_ZSET,
    group=_GROUP,
    summary=(
        "Remove and return the member with the highest score from one or more sorted sets, or block until one is "
        "available"
    ),
    since="5.0.0",
    complexity=_BZPOP_COMPLEXITY,
    syntax="key [key ...] timeout:double",
)
def bzpopmax(ctx: Context, argv: list[bytes]) -> bytes:
    return _bzpop(ctx, argv, True)


@command(
    "bzmpop",
    -5,
    W | Flag.BLOCKING,
    key_specs=(index_keynum(2, "RW", "access", "delete"),),
    categories=_ZSET,
    group=_GROUP,
    summary="Remove and return members with scores in a sorted set or block until one is available",
    since="7.0.0",
    complexity=(
        "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted "
        "set, and M being the number of elements popped."
    ),
    syntax="timeout:double numkeys key [key ...] <MIN|MAX> [COUNT count]",
)
def bzmpop(ctx: Context, argv: list[bytes]) -> bytes:
    keys, highest, count = _mpop_args(argv, 2)
    deadline = parse_timeout(ctx, argv[1])
    for key in keys:
        zset = _zset_write(ctx, key)
        if zset is not None:
            return _mpop_from(ctx, key, zset, highest, count)
    if ctx.deny_blocking:
        return encoder.null_array(ctx.proto)

    def serve(waiter: Context, key: bytes) -> bytes | None:
        zset = waiter.db.lookup(key)
        if type(zset) is not SortedSet:
            return None
        return _mpop_from(waiter, key, zset, highest, count)  # type: ignore[arg-type]

    return ctx.engine.block(ctx, keys, serve, deadline)


# -- ZRANDMEMBER ---------------------------------------------------------------------------------


@command(
    "zrandmember",
    -2,
    R,
    keys=(1, 1, 1),
    categories=_ZSET,
    group=_GROUP,
    summary="Get one or multiple random elements from a sorted set",
    since="6.2.0",
    complexity="O(N) where N is the number of elements returned",
    syntax="key [count [WITHSCORES]]",
    tips=("nondeterministic_output",),
)
def zrandmember(ctx: Context, argv: list[bytes]) -> bytes:
    """Which members come back is random; how many, their distinctness and some orders are Redis's.

    A negative count draws with repetition (random order); a count at least
    the size answers the whole set, highest first, as Redis iterates it;
    otherwise distinct members in set order.
    """
    n_args = len(argv)
    proto = ctx.proto
    rng = ctx.keyspace.rng
    if n_args == 2:
        zset = _zset_read(ctx, argv[1])
        if zset is None:
            return encoder.null(proto)
        return encoder.bulk(zset.at(rng.randrange(len(zset)))[1])
    count = parse_int(argv[2])
    if count < -_LONG_MAX:
        raise CommandError(f"ERR value is out of range, value must between {-_LONG_MAX} and {_LONG_MAX}")
    if n_args > 4 or (n_args == 4 and argv[3].lower() != b"withscores"):
        raise CommandError(errors.SYNTAX)
    withscores = n_args == 4
    if withscores and not -(_LONG_MAX // 2) <= count <= _LONG_MAX // 2:
        raise CommandError("ERR value is out of range")
    zset = _zset_read(ctx, argv[1])
    if zset is None or count == 0:
        return encoder.EMPTY_ARRAY
    size = len(zset)
    if count < 0 or count == 1:
        picked = zset.random_pairs(rng, -count if count < 0 else 1)
    elif count >= size:
        picked = zset.pairs()
        picked.reverse()
    else:
        picked = zset.random_distinct(rng, count)
    return _pairs_reply(picked, withscores, proto)


# -- ZUNION, ZINTER, ZDIFF and their STORE forms, ZINTERCARD -----------------------------------------

_UNION: Final = 0
_INTER: Final = 1
_DIFF: Final = 2
_SUM: Final = 0
_MIN: Final = 1
_MAX: Final = 2
_AGGREGATES: Final = {b"SUM": _SUM, b"MIN": _MIN, b"MAX": _MAX}


class _Source:
    """One input of a set operation: a sorted set, a plain set (every score 1), or a missing key."""

    __slots__ = ("value", "weight", "size")

    def __init__(self, value: object, weight: float) -> None:
        self.value = value
        self.weight = weight
        self.size = 0 if value is None else len(value)  # type: ignore[arg-type]

    def pairs(self) -> Iterable[Pair]:
        value = self.value
        if value is None:
            return ()
        if isinstance(value, SortedSet):
            return value
        return ((1.0, m) for m in value)  # type: ignore[attr-defined]

    def lookup(self) -> Callable[[bytes], float | None]:
        value = self.value
        if isinstance(value, SortedSet):
            return value.score_map().get

        def member_of(member: bytes) -> float | None:
            return 1.0 if member in value else None  # type: ignore[operator]

        return member_of


def _aggregate(target: float, value: float, how: int) -> float:
    if how == _SUM:
        total = target + value
        return 0.0 if total != total else total  # inf + -inf: Redis's convention is 0
    if how == _MIN:
        return value if value < target else target
    return value if value > target else target


def _set_operation(ctx: Context, argv: list[bytes], numkeys_index: int, op: int, store: bool, card_only: bool) -> bytes:
    """zunionInterDiffGenericCommand."""
    name = argv[0].decode("utf-8", "replace").lower()
    setnum = parse_int(argv[numkeys_index])
    if setnum < 1:
        raise CommandError(f"ERR at least 1 input key is needed for '{name}' command")
    n = len(argv)
    if setnum > n - (numkeys_index + 1):
        raise CommandError(errors.SYNTAX)
    lookup = ctx.db.lookup_read
    values: list[object] = []
    for j in range(numkeys_index + 1, numkeys_index + 1 + setnum):
        value = lookup(argv[j])
        if value is not None and getattr(value, "TYPE_NAME", None) not in (b"zset", b"set"):
            raise CommandError(WRONGTYPE)
        values.append(value)
    weights = [1.0] * setnum
    how = _SUM
    withscores = False
    limit = 0
    j = numkeys_index + 1 + setnum
    while j < n:
        remaining = n - j
        opt = argv[j].upper() if len(argv[j]) <= 10 else b""
        if op != _DIFF and not card_only and remaining >= setnum + 1 and opt == b"WEIGHTS":
            j += 1
            for i in range(setnum):
                weight = parse_double(argv[j])
                if weight is None:
                    raise CommandError(_WEIGHT_NOT_FLOAT)
                weights[i] = weight
                j += 1
        elif op != _DIFF and not card_only and remaining >= 2 and opt == b"AGGREGATE":
            chosen = _AGGREGATES.get(argv[j + 1].upper())
            if chosen is None:
                raise CommandError(errors.SYNTAX)
            how = chosen
            j += 2
        elif not store and not card_only and opt == b"WITHSCORES":
            withscores = True
            j += 1
        elif card_only and remaining >= 2 and opt == b"LIMIT":
            limit = parse_int(argv[j + 1], _LIMIT_NEGATIVE)
            if limit < 0:
                raise CommandError(_LIMIT_NEGATIVE)
            j += 2
        else:
            raise CommandError(errors.SYNTAX)
    sources = [_Source(v, w) for v, w in zip(values, weights, strict=True)]
    if op != _DIFF:
        sources.sort(key=lambda s: s.size)  # stable, as glibc's merge-sorting qsort is
    if op == _INTER:
        result = _inter(sources, how, card_only, limit)
        if card_only:
            assert isinstance(result, int)
            return encoder.integer(result)
    elif op == _UNION:
        result = _union(sources, how)
    else:
        result = _diff(sources)
    assert isinstance(result, dict)
    pairs = sorted([(s, m) for m, s in result.items()])
    if store:
        config = ctx.config
        zset = SortedSet.from_pairs(pairs, config.zset_max_listpack_entries, config.zset_max_listpack_value)
        if _store_or_delete(ctx, argv[1], zset if pairs else None):
            ctx.effects.append(argv)
        return encoder.integer(len(pairs))
    return _pairs_reply(pairs, withscores, ctx.proto)


def _inter(sources: list[_Source], how: int, card_only: bool, limit: int) -> dict[bytes, float] | int:
    out: dict[bytes, float] = {}
    count = 0
    first = sources[0]
    if not first.size:
        return 0 if card_only else out
    others = [(s.lookup(), s.weight) for s in sources[1:]]
    w0 = first.weight
    for score0, member in first.pairs():
        score = w0 * score0
        if score != score:
            score = 0.0
        for find, weight in others:
            found = find(member)
            if found is None:
                break
            score = _aggregate(score, found * weight, how)
        else:
            if card_only:
                count += 1
                if limit and count >= limit:
                    break
            else:
                out[member] = score
    return count if card_only else out


def _union(sources: list[_Source], how: int) -> dict[bytes, float]:
    acc: dict[bytes, float] = {}
    for source in sources:
        weight = source.weight
        for s, member in source.pairs():
            score = weight * s
            if score != score:
                score = 0.0
            current = acc.get(member)
            acc[member] = score if current is None else _aggregate(current, score, how)
    return acc


def _diff(sources: list[_Source]) -> dict[bytes, float]:
    first = sources[0]
    if not first.size:
        return {}
    others = [s.lookup() for s in sources[1:] if s.size]
    return {m: s for s, m in first.pairs() if not any(find(m) is not None for find in others)}


_STORE_SPECS: Final = (index_range(1, "OW", "update"), index_keynum(2, "RO", "access"))
_UNION_COMPLEXITY: Final = (
    "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of "
    "elements in the resulting sorted set."
)
_INTER_COMPLEXITY: Final = (
    "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input "
    "sorted sets and M being the number of elements in the resulting sorted set."
)
_DIFF_COMPLEXITY: Final = (
    "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of "
    "the first set, and K is the size of the result set."
)
_WEIGHTS_SYNTAX: Final = "[WEIGHTS weight:integer [weight:integer ...]] [AGGREGATE <SUM|MIN|MAX>]"


@command(
    "zunion",
    -3,
    R,
    key_specs=(index_keynum(1, "RO", "access"),),
    categories=_ZSET,
    group=_GROUP,
    summary="Add multiple sorted sets",
    since="6.2.0",
    complexity=_UNION_COMPLEXITY,
    syntax=f"numkeys key [key ...] {_WEIGHTS_SYNTAX} [WITHSCORES]",
)
def zunion(ctx: Context, argv: list[bytes]) -> bytes:
    return _set_operation(ctx, argv, 1, _UNION, False, False)


@command(
    "zinter",
    -3,
    R,
    key_specs=(index_keynum(1, "RO", "access"),),
    categories=_ZSET,
    group=_GROUP,
    summary="Intersect multiple sorted sets",
    since="6.2.0",
    complexity=_INTER_COMPLEXITY,
    syntax=f"numkeys key [key ...] {_WEIGHTS_SYNTAX} [WITHSCORES]",
)
def zinter(ctx: Context, argv: list[bytes]) -> bytes:
    return _set_operation(ctx, argv, 1, _INTER, False, False)


@command(
    "zdiff",
    -3,
    R,
    key_specs=(index_keynum(1, "RO", "access"),),
    categories=_ZSET,
    group=_GROUP,
    summary="Subtract multiple sorted sets",
    since="6.2.0",
    complexity=_DIFF_COMPLEXITY,
    syntax="numkeys key [key ...] [WITHSCORES]",
)
def zdiff(ctx: Context, argv: list[bytes]) -> bytes:
    return _set_operation(ctx, argv, 1, _DIFF, False, False)


@command(
    "zintercard",
    -3,
    R,
    key_specs=(index_keynum(1, "RO", "access"),),
    categories=_ZSET,
    group=_GROUP,
    summary="Intersect multiple sorted sets and return the cardinality of the result",
    since="7.0.0",
    complexity="O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
    syntax="numkeys key [key ...] [LIMIT limit]",
)
def zintercard(ctx: Context, argv: list[bytes]) -> bytes:
    return _set_operation(ctx, argv, 1, _INTER, False, True)


@command(
    "zunionstore",
    -4,
    W | Flag.DENYOOM,
    keys=(1, 1, 1),
    key_specs=_STORE_SPECS,
    touches=_dst_touches,
    categories=_ZSET,
    group=_GROUP,
    summary="Add multiple sorted sets and store the resulting sorted set in a new key",
    since="2.0.0",
    complexity="O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the "
    "number of elements in the resulting sorted set.",
    syntax=f"destination numkeys key [key ...] {_WEIGHTS_SYNTAX}",
)
def zunionstore(ctx: Context, argv: list[bytes]) -> bytes:
    return _set_operation(ctx, argv, 2, _UNION, True, False)


@command(
    "zinterstore",
    -4,
    W | Flag.DENYOOM,
    keys=(1, 1, 1),
    key_specs=_STORE_SPECS,
    touches=_dst_touches,
    categories=_ZSET,
    group=_GROUP,
    summary="Intersect multiple sorted sets and store the resulting sorted set in a new key",
    since="2.0.0",
    complexity=_INTER_COMPLEXITY,
    syntax=f"destination numkeys key [key ...] {_WEIGHTS_SYNTAX}",
)
def zinterstore(ctx: Context, argv: list[bytes]) -> bytes:
    return _set_operation(ctx, argv, 2, _INTER, True, False)


@command(
    "zdiffstore",
    -4,
    W | Flag.DENYOOM,
    keys=(1, 1, 1),
    key_specs=_STORE_SPECS,
    touches=_dst_touches,
    categories=_ZSET,
    group=_GROUP,
    summary="Subtract multiple sorted sets and store the resulting sorted set in a new key",
    since="6.2.0",
    complexity=_DIFF_COMPLEXITY,
    syntax="destination numkeys key [key ...]",
)
def zdiffstore(ctx: Context, argv: list[bytes]) -> bytes:
    return _set_operation(ctx, argv, 2, _DIFF, True, False)


# -- ZSCAN ---------------------------------------------------------------------------------------


@command(
    "zscan",
    -3,
    R,
    keys=(1, 1, 1),
    categories=_ZSET,
    group=_GROUP,
    summary="Incrementally iterate sorted sets elements and associated scores",
    since="2.8.0",
    complexity=(
        "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to "
        "return back to 0. N is the number of elements inside the collection.."
    ),
    syntax="key cursor [MATCH pattern] [COUNT count]",
    tips=("nondeterministic_output",),
)
def zscan(ctx: Context, argv: list[bytes]) -> bytes:
    """A small set comes back whole with cursor 0, as Redis answers a listpack, scores as it stores them.

    A big set is walked through a snapshot of its members (SortedSet.scan):
    every member present for the whole iteration is returned once.
    """
    cursor = parse_cursor(argv[2])
    zset = _zset_read(ctx, argv[1])
    if zset is None:
        return _EMPTY_SCAN
    count = 10
    pattern: bytes | None = None
    i = 3
    n = len(argv)
    while i < n:
        opt = argv[i].upper() if len(argv[i]) <= 5 else b""
        if opt == b"COUNT" and n - i >= 2:
            count = parse_int(argv[i + 1])
            if count < 1:
                raise CommandError(errors.SYNTAX)
        elif opt == b"MATCH" and n - i >= 2:
            pattern = argv[i + 1]
        else:
            raise CommandError(errors.SYNTAX)
        i += 2
    if zset.is_small():
        next_cursor = 0
        pairs = zset.pairs()
        text = listpack_score_text
    else:
        next_cursor, pairs = zset.scan(cursor, count)
        text = format_score
    if pattern is not None and pattern != b"*":
        matches = compile_glob(pattern)
        pairs = [p for p in pairs if matches(p[1])]
    items: list[bytes] = []
    for s, m in pairs:
        items.append(m)
        items.append(text(s))
    return b"*2\r\n" + encoder.bulk(b"%d" % next_cursor) + encoder.bulk_array(items, ctx.proto)
