"""Whole-database commands: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB.

Their effects change whole databases rather than named keys, so each declares
``touches`` returning ``(db index, None)`` entries; WATCH invalidation then
breaks, as Redis 7.0 does, only the watches on keys that existed there.
"""

from cacheflow.commands import errors
from cacheflow.commands.context import Context
from cacheflow.commands.table import ALL_DATABASES, Flag, command
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError

_KS = ("keyspace",)
_KS_DANGEROUS = ("keyspace", "dangerous")


def _flush_mode(argv: list[bytes]) -> None:
    """Accept FLUSHDB/FLUSHALL's optional SYNC or ASYNC, with Redis's syntax error otherwise."""
    if len(argv) == 2 and argv[1].upper() in (b"SYNC", b"ASYNC"):
        return
    if len(argv) != 1:
        raise CommandError(errors.SYNTAX)


@command(
    "dbsize",
    1,
    Flag.READONLY | Flag.FAST,
    categories=_KS,
    group="server",
    summary="Return the number of keys in the selected database",
    tips=("request_policy:all_shards", "response_policy:agg_sum"),
)
def dbsize(ctx: Context, argv: list[bytes]) -> bytes:
    """Counts keys whose TTL passed but are not reclaimed yet, as Redis's DBSIZE does."""
    return encoder.integer(len(ctx.db))


def _flushdb_touches(db_index: int, argv: list[bytes]) -> list[tuple[int, bytes | None]]:
    return [(db_index, None)]


@command(
    "flushdb",
    -1,
    Flag.WRITE,
    touches=_flushdb_touches,
    categories=_KS_DANGEROUS,
    group="server",
    summary="Remove all keys from the current database",
    complexity="O(N) where N is the number of keys in the selected database",
    syntax="[ASYNC|SYNC]",
    tips=("request_policy:all_shards", "response_policy:all_succeeded"),
)
def flushdb(ctx: Context, argv: list[bytes]) -> bytes:
    """ASYNC flushes synchronously: dropping the dicts is O(1) here, the collector frees them.

    The effect is emitted even when the database was already empty: Redis 7 propagates
    FLUSHDB and FLUSHALL always (to the AOF and replicas), and FLUSHALL with save points
    saves the empty dataset.  WATCH is not broken by an empty flush (engine/watch.py).
    """
    _flush_mode(argv)
    ctx.db.clear()
    ctx.effects.append([b"FLUSHDB"])
    return encoder.OK


def _flushall_touches(db_index: int, argv: list[bytes]) -> list[tuple[int, bytes | None]]:
    return [(ALL_DATABASES, None)]


@command(
    "flushall",
    -1,
    Flag.WRITE,
    touches=_flushall_touches,
    categories=_KS_DANGEROUS,
    group="server",
    summary="Remove all keys from all databases",
    complexity="O(N) where N is the total number of keys in all databases",
    syntax="[ASYNC|SYNC]",
    tips=("request_policy:all_shards", "response_policy:all_succeeded"),
)
def flushall(ctx: Context, argv: list[bytes]) -> bytes:
    """ASYNC flushes synchronously, and the effect is emitted always, as for FLUSHDB."""
    _flush_mode(argv)
    for db in ctx.keyspace.dbs:
        db.clear()
    ctx.effects.append([b"FLUSHALL"])
    return encoder.OK


def _swapdb_touches(db_index: int, argv: list[bytes]) -> list[tuple[int, bytes | None]]:
    return [(int(argv[1]), None), (int(argv[2]), None)]


@command(
    "swapdb",
    3,
    Flag.WRITE | Flag.FAST,
    touches=_swapdb_touches,
    categories=_KS_DANGEROUS,
    group="server",
    summary="Swaps two Redis databases",
    since="4.0.0",
    complexity="O(N) where N is the count of clients watching or blocking on keys from both databases.",
    syntax="index1 index2",
)
def swapdb(ctx: Context, argv: list[bytes]) -> bytes:
    """Clients keep their selected index and so see the other database's keys, as in Redis.

    Swapping a database with itself changes nothing and emits no effect.
    """
    first = errors.parse_c_int(argv[1], "ERR invalid first DB index")
    second = errors.parse_c_int(argv[2], "ERR invalid second DB index")
    count = len(ctx.keyspace.dbs)
    if not (0 <= first < count and 0 <= second < count):
        raise CommandError(errors.DB_INDEX)
    if first != second:
        ctx.keyspace.swap(first, second)
        ctx.effects.append([b"SWAPDB", b"%d" % first, b"%d" % second])
    return encoder.OK
