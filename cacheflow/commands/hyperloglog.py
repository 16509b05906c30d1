"""HyperLogLog commands (PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST) on Redis's own HYLL strings.

The values are plain strings in Redis's exact format (see store/hyperloglog.py),
so GET/SET move them between CacheFlow and a real Redis unchanged.  Like
Redis, every command that opens a HyperLogLog for writing first turns it into
a ``raw`` string (here a ``bytearray``) and edits it in place.

Effects are the commands themselves, which replay to the same bytes: PFADD
when a register changed (or the key was created), PFMERGE always, PFCOUNT of
one key when it refreshed the cached cardinality (Redis propagates that
too, and it breaks a WATCH), PFDEBUG GETREG/TODENSE when they converted the
encoding (propagated by Redis without touching WATCH, hence its empty
``touches``).
"""

from cacheflow.commands.context import Context
from cacheflow.commands.errors import WRONGTYPE
from cacheflow.commands.table import Flag, command, index_range
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError
from cacheflow.store import hyperloglog as hll

W = Flag.WRITE
R = Flag.READONLY
_HLL = ("hyperloglog",)
_NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value."
_CORRUPT = "INVALIDOBJ Corrupted HLL object detected"


def _checked(value: object) -> bytes | bytearray:
    """A stored value that must be a HyperLogLog string (isHLLObjectOrReply)."""
    cls = value.__class__
    if cls is not bytes and cls is not bytearray:
        raise CommandError(WRONGTYPE)
    if not hll.is_hll(value):  # type: ignore[arg-type]
        raise CommandError(_NOT_HLL)
    return value  # type: ignore[return-value]


def _unshared(ctx: Context, key: bytes, value: bytes | bytearray) -> bytearray:
    """The value as a bytearray stored under ``key`` (dbUnshareStringValue: edits happen in place)."""
    if value.__class__ is bytearray:
        return value  # type: ignore[return-value]
    buf = bytearray(value)
    ctx.db.set_keep_ttl(key, buf)
    return buf


def _signed(card: int) -> int:
    """A uint64 cardinality as addReplyLongLong prints it."""
    return card - (1 << 64) if card >= 1 << 63 else card


@command(
    "pfadd",
    -2,
    W | Flag.DENYOOM | Flag.FAST,
    keys=(1, 1, 1),
    categories=_HLL,
    group="hyperloglog",
    summary="Adds the specified elements to the specified HyperLogLog.",
    since="2.8.9",
    complexity="O(1) to add every element.",
    syntax="key [element [element ...]]",
    key_flags=("RW", "insert"),
)
def pfadd(ctx: Context, argv: list[bytes]) -> bytes:
    key = argv[1]
    db = ctx.db
    value = db.lookup(key)
    if value is None:
        buf = hll.new_sparse()
        db.set(key, buf)
        updated = 1
    else:
        buf = _unshared(ctx, key, _checked(value))
        updated = 0
    editor = hll.HllEditor(buf, ctx.config.hll_sparse_max_bytes)
    changed, corrupt = editor.add_many(argv[2:])
    result = editor.value()
    if corrupt:
        # Redis keeps the registers it updated before finding the damage, and propagates nothing.
        raise CommandError(_CORRUPT)
    if updated or changed:
        hll.invalidate_cache(result)
        ctx.effects.append(argv)
        return encoder.ONE
    return encoder.ZERO


def _union_lanes(ctx: Context, keys: list[bytes]) -> tuple[int, bool]:
    """Per-register maxima of the HyperLogLogs at ``keys`` (missing ones are empty), and whether one is dense."""
    lookup = ctx.db.lookup_read
    lanes = 0
    any_dense = False
    for key in keys:
        value = lookup(key)
        if value is None:
            continue
        checked = _checked(value)
        if checked[4] == hll.DENSE:
            any_dense = True
        raw = hll.registers_raw(checked)
        if raw is None:
            raise CommandError(_CORRUPT)
        lanes = hll.lanes_max(lanes, hll.raw_to_lanes(raw)) if lanes else hll.raw_to_lanes(raw)
    return lanes, any_dense


@command(
    "pfcount",
    -2,
    R,
    keys=(1, -1, 1),
    key_specs=(
        index_range(
            1,
            "RW",
            "access",
            last=-1,
            notes="RW because it may change the internal representation of the key, and propagate to replicas",
        ),
    ),
    categories=_HLL,
    group="hyperloglog",
    summary="Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
    since="2.8.9",
    complexity=(
        "O(1) with a very small average constant time when called with a single key. O(N) with N being "
        "the number of keys, and much bigger constant times, when called with multiple keys."
    ),
    syntax="key [key ...]",
)
def pfcount(ctx: Context, argv: list[bytes]) -> bytes:
    if len(argv) > 2:
        # The union of several: computed on the side, nothing is modified.
        lanes, _ = _union_lanes(ctx, argv[1:])
        raw = hll.lanes_to_raw(lanes)
        return encoder.integer(_signed(hll.estimate(hll.raw_histogram(raw))))
    key = argv[1]
    value = ctx.db.lookup_read(key)
    if value is None:
        return encoder.ZERO
    buf = _unshared(ctx, key, _checked(value))
    card = hll.cached_cardinality(buf)
    if card is None:
        card = hll.count(buf)
        if card is None:
            raise CommandError(_CORRUPT)
        # Refreshing the cache modifies the string: Redis propagates it and signals the key.
        hll.store_cardinality(buf, card)
        ctx.effects.append(argv)
    return encoder.integer(_signed(card))


def _pfmerge_touches(db_index: int, argv: list[bytes]) -> list[tuple[int, bytes | None]]:
    """Only the destination changes; the sources are read."""
    return [(db_index, argv[1])]


@command(
    "pfmerge",
    -2,
    W | Flag.DENYOOM,
    keys=(1, -1, 1),
    key_specs=(index_range(1, "RW", "access", "insert"), index_range(2, "RO", "access", last=-1)),
    touches=_pfmerge_touches,
    categories=_HLL,
    group="hyperloglog",
    summary="Merge N different HyperLogLogs into a single one.",
    since="2.8.9",
    complexity="O(N) to merge N HyperLogLogs, but with high constant times.",
    syntax="destkey sourcekey [sourcekey ...]",
)
def pfmerge(ctx: Context, argv: list[bytes]) -> bytes:
    # The destination takes part in the union, as in Redis.
    lanes, any_dense = _union_lanes(ctx, argv[1:])
    key = argv[1]
    db = ctx.db
    value = db.lookup(key)
    if value is None:
        buf = hll.new_sparse()
        db.set(key, buf)
    else:
        buf = _unshared(ctx, key, _checked(value))
    editor = hll.HllEditor(buf, ctx.config.hll_sparse_max_bytes)
    if any_dense and not editor.to_dense():
        raise CommandError(_CORRUPT)
    if lanes:
        editor.merge_lanes(lanes)
    hll.invalidate_cache(editor.value())
    ctx.effects.append(argv)
    return encoder.OK


def _no_watch_touch(db_index: int, argv: list[bytes]) -> list[tuple[int, bytes | None]]:
    return []


@command(
    "pfdebug",
    3,
    W | Flag.DENYOOM | Flag.ADMIN,
    keys=(2, 2, 1),
    touches=_no_watch_touch,
    categories=_HLL,
    group="hyperloglog",
    summary="Internal commands for debugging HyperLogLog values",
    since="2.8.9",
    complexity="N/A",
    syntax="subcommand key",
    key_flags=("RW", "access"),
)
def pfdebug(ctx: Context, argv: list[bytes]) -> bytes:
    key = argv[2]
    value = ctx.db.lookup(key)
    if value is None:
        raise CommandError("ERR The specified key does not exist")
    buf = _unshared(ctx, key, _checked(value))
    sub = argv[1].split(b"\0", 1)[0]
    name = sub.lower()
    if name == b"getreg" or name == b"todense":
        converted = False
        if buf[4] == hll.SPARSE:
            if not hll.HllEditor(buf, ctx.config.hll_sparse_max_bytes).to_dense():
                raise CommandError(_CORRUPT)
            converted = True
            ctx.effects.append(argv)
        if name == b"todense":
            return encoder.ONE if converted else encoder.ZERO
        raw = hll.dense_to_raw(buf)
        return encoder.array([encoder.integer(r) for r in raw])
    if name == b"decode":
        if buf[4] != hll.SPARSE:
            raise CommandError("ERR HLL encoding is not sparse")
        return encoder.bulk(hll.decode_sparse(buf))
    if name == b"encoding":
        return encoder.simple(b"sparse" if buf[4] == hll.SPARSE else b"dense")
    raise CommandError("ERR Unknown PFDEBUG subcommand '%s'" % sub.decode("utf-8", "surrogateescape"))


@command(
    "pfselftest",
    1,
    Flag.ADMIN,
    categories=_HLL,
    group="hyperloglog",
    summary="An internal command for testing HyperLogLog values",
    since="2.8.9",
    complexity="N/A",
)
def pfselftest(ctx: Context, argv: list[bytes]) -> bytes:
    failure = hll.self_test()
    if failure is not None:
        raise CommandError(failure)
    return encoder.OK
