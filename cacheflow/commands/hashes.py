"""Hash commands (HSET, HGET, ... and the per-field TTL commands of Redis 7.4).

Values are ``store.hashes.Hash``.  Replies, errors and the order of argument
checks follow Redis 7.0.15 for the commands it has and the Redis 7.4 sources
and documentation for the field-TTL commands (HEXPIRE ... HPERSIST), which the
installed reference server does not have.

Expired fields are never seen: every command that finds a hash whose earliest
field TTL has passed first reclaims the expired fields, publishing
``HDEL key field...`` as a write effect (and deleting the key when its last
field goes), so HLEN, HGETALL, HRANDFIELD, HSCAN... count only live fields.
Hashes with field TTLs are registered with their database, whose active
expiry step reclaims the fields of hashes nobody reads.

Write effects replay deterministically: HINCRBYFLOAT becomes HSET of its
result (plus HPEXPIREAT when the field keeps a TTL, because HSET would drop
it), the relative HEXPIRE forms become HPEXPIREAT of the fields actually
updated, fields deleted by a past expiry time become HDEL.
"""

from typing import Final

from cacheflow.commands import errors
from cacheflow.commands.context import Context
from cacheflow.commands.errors import WRONGTYPE, parse_int
from cacheflow.commands.keys import parse_cursor
from cacheflow.commands.strings import format_long_double, long_double_add, parse_long_double
from cacheflow.commands.table import Flag, command
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError
from cacheflow.store import hashes as store
from cacheflow.store.glob import compile_glob
from cacheflow.store.hashes import FieldScans, Hash, Unpacked

W: Final = Flag.WRITE
R: Final = Flag.READONLY
F: Final = Flag.FAST
_HASH: Final = ("hash",)
_NULL2: Final = encoder.NULL_BULK_RESP2
_ONE: Final = encoder.ONE
_ZERO: Final = encoder.ZERO
_EMPTY_SCAN: Final = b"*2\r\n$1\r\n0\r\n*0\r\n"
_MAX_LONG: Final = 2**63 - 1
_MIN_LL: Final = -(2**63)
_SCAN_DEFAULT_COUNT: Final = 10
# Largest absolute time a field TTL may have (Redis's HFE_MAX_ABS_TIME_MSEC: EB_EXPIRE_TIME_MAX >> 2).
_HFE_MAX_ABS_TIME_MS: Final = ((1 << 48) - 1) >> 2
# HRANDFIELD: refuse a reply estimated past this many bytes (ERR value is out of range) rather than
# exhaust memory: each picked element costs this process ~10x its wire size while the reply is built (Redis
# 7.0.15 tries and dies of it).  The estimate is count * (average field + value size + framing).
_HRANDFIELD_MAX_REPLY_BYTES: Final = 64 * 1024 * 1024

_SCANS: Final = FieldScans()


# -- lookups ----------------------------------------------------------------------


def _reclaim(ctx: Context, key: bytes, h: Hash) -> bool:
    """Reclaim a hash's expired fields (publishing HDEL); True when that emptied and deleted the key.

    Also schedules the key for active field expiry: a hash that reached this
    key by RENAME, MOVE or COPY was not scheduled under it.
    """
    db = ctx.db
    fields = h.reclaim_expired(ctx.keyspace.clock.now_ms())
    if fields:
        ctx.effects.append([b"HDEL", key, *fields])
        if db.delete_if_empty(key, h):
            return True
    if h.ttls:
        db.schedule_field_expiry(key, h.next_expiry)
    return False


def _read(ctx: Context, key: bytes) -> Hash | None:
    """The hash at ``key`` (counting a keyspace hit or miss), None if missing; WRONGTYPE otherwise."""
    value = ctx.db.lookup_read(key)
    if value is None:
        return None
    if type(value) is not Hash:
        raise CommandError(WRONGTYPE)
    if value.ttls and _reclaim(ctx, key, value):  # type: ignore[attr-defined]
        return None
    return value  # type: ignore[return-value]


def _write(ctx: Context, key: bytes) -> Hash | None:
    """Like _read without hit/miss statistics, as Redis's write lookups."""
    db = ctx.db
    value = db.data.get(key)
    if value is not None and db.expires:
        value = db.lookup(key)
    if value is None:
        return None
    if type(value) is not Hash:
        raise CommandError(WRONGTYPE)
    if value.ttls and _reclaim(ctx, key, value):  # type: ignore[attr-defined]
        return None
    return value  # type: ignore[return-value]


def _write_or_create(ctx: Context, key: bytes) -> Hash:
    h = _write(ctx, key)
    if h is None:
        h = Hash()
        ctx.db.set(key, h)
    return h


def _bulks(items: list[bytes]) -> list[bytes]:
    return [b"$%d\r\n%b\r\n" % (len(x), x) for x in items]


# -- setting and getting fields -----------------------------------------------------


def _set_pairs(ctx: Context, argv: list[bytes], name: str) -> int:
    """HSET/HMSET: set every pair; the number of new fields."""
    n = len(argv)
    if n & 1:
        raise errors.wrong_arity(name)
    db = ctx.db
    key = argv[1]
    h = db.data.get(key)
    if h is None or db.expires or type(h) is not Hash or h.ttls:  # type: ignore[attr-defined]
        h = _write_or_create(ctx, key)
    config = ctx.config
    max_entries = config.hash_max_listpack_entries
    max_value = config.hash_max_listpack_value
    setter = h.set  # type: ignore[attr-defined]
    if n == 4:
        added = int(setter(argv[2], argv[3], max_entries, max_value))
    else:
        added = 0
        for i in range(2, n, 2):
            added += setter(argv[i], argv[i + 1], max_entries, max_value)
    ctx.effects.append(argv)
    return added


@command(
    "hset",
    -4,
    W | Flag.DENYOOM | F,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Set the string value of a hash field",
    since="2.0.0",
    complexity=(
        "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is "
        "called with multiple field/value pairs."
    ),
    syntax="key field value [field value ...]",
    key_flags=("RW", "update"),
)
def hset(ctx: Context, argv: list[bytes]) -> bytes:
    """One field of an existing hash in active use is the hot path (redis-benchmark's HSET).

    A hot small hash is an ``Unpacked`` dict (store/hashes.py): the field is set
    right here, within the listpack thresholds, sparing the method call that
    is a tenth of the request's cost; everything else goes through Hash.set.
    """
    if len(argv) == 4:
        db = ctx.db
        h = db.data.get(argv[1])
        if h is not None and type(h) is Hash and not db.expires:
            config = ctx.config
            d = h._d  # type: ignore[attr-defined]
            field = argv[2]
            value = argv[3]
            max_value = config.hash_max_listpack_value
            if type(d) is Unpacked and len(field) <= max_value and len(value) <= max_value:
                n = len(d)
                d[field] = value
                ctx.effects.append(argv)
                if len(d) == n:
                    return _ZERO
                if n >= config.hash_max_listpack_entries:
                    h._to_hashtable()  # type: ignore[attr-defined]
                return _ONE
            if not h.ttls:  # type: ignore[attr-defined]
                added = h.set(field, value, config.hash_max_listpack_entries, max_value)  # type: ignore[attr-defined]
                ctx.effects.append(argv)
                return _ONE if added else _ZERO
    return encoder.integer(_set_pairs(ctx, argv, "hset"))


@command(
    "hmset",
    -4,
    W | Flag.DENYOOM | F,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Set multiple hash fields to multiple values",
    since="2.0.0",
    complexity="O(N) where N is the number of fields being set.",
    syntax="key field value [field value ...]",
    key_flags=("RW", "update"),
)
def hmset(ctx: Context, argv: list[bytes]) -> bytes:
    _set_pairs(ctx, argv, "hmset")
    return encoder.OK


@command(
    "hsetnx",
    4,
    W | Flag.DENYOOM | F,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Set the value of a hash field, only if the field does not exist",
    since="2.0.0",
    syntax="key field value",
    key_flags=("RW", "insert"),
)
def hsetnx(ctx: Context, argv: list[bytes]) -> bytes:
    key = argv[1]
    h = _write(ctx, key)
    if h is not None and argv[2] in h:
        return encoder.ZERO
    if h is None:
        h = Hash()
        ctx.db.set(key, h)
    config = ctx.config
    h.set(argv[2], argv[3], config.hash_max_listpack_entries, config.hash_max_listpack_value)
    ctx.effects.append(argv)
    return encoder.ONE


@command(
    "hget",
    3,
    R | F,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Get the value of a hash field",
    since="2.0.0",
    syntax="key field",
)
def hget(ctx: Context, argv: list[bytes]) -> bytes:
    h = _read(ctx, argv[1])
    value = None if h is None else h.get(argv[2])
    if value is None:
        return _NULL2 if ctx.proto == 2 else encoder.NULL_RESP3
    return b"$%d\r\n%b\r\n" % (len(value), value)


@command(
    "hmget",
    -3,
    R | F,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Get the values of all the given hash fields",
    since="2.0.0",
    complexity="O(N) where N is the number of fields being requested.",
    syntax="key field [field ...]",
)
def hmget(ctx: Context, argv: list[bytes]) -> bytes:
    h = _read(ctx, argv[1])
    if h is None:
        return encoder.bulk_array([None] * (len(argv) - 2), ctx.proto)
    return encoder.bulk_array([h.get(f) for f in argv[2:]], ctx.proto)


@command(
    "hdel",
    -3,
    W | F,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Delete one or more hash fields",
    since="2.0.0",
    complexity="O(N) where N is the number of fields to be removed.",
    syntax="key field [field ...]",
    key_flags=("RW", "delete"),
)
def hdel(ctx: Context, argv: list[bytes]) -> bytes:
    key = argv[1]
    h = _write(ctx, key)
    if h is None:
        return encoder.ZERO
    deleted = 0
    for field in argv[2:]:
        if h.delete(field):
            deleted += 1
            if ctx.db.delete_if_empty(key, h):
                break
    if deleted:
        ctx.effects.append(argv)
    return encoder.integer(deleted)


@command(
    "hlen",
    2,
    R | F,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Get the number of fields in a hash",
    since="2.0.0",
    syntax="key",
    key_flags=("RO",),
)
def hlen(ctx: Context, argv: list[bytes]) -> bytes:
    h = _read(ctx, argv[1])
    return encoder.ZERO if h is None else encoder.integer(len(h))


@command(
    "hstrlen",
    3,
    R | F,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Get the length of the value of a hash field",
    since="3.2.0",
    syntax="key field",
    key_flags=("RO",),
)
def hstrlen(ctx: Context, argv: list[bytes]) -> bytes:
    h = _read(ctx, argv[1])
    value = None if h is None else h.get(argv[2])
    return encoder.ZERO if value is None else encoder.integer(len(value))


@command(
    "hexists",
    3,
    R | F,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Determine if a hash field exists",
    since="2.0.0",
    syntax="key field",
    key_flags=("RO",),
)
def hexists(ctx: Context, argv: list[bytes]) -> bytes:
    h = _read(ctx, argv[1])
    return encoder.ONE if h is not None and argv[2] in h else encoder.ZERO


_ALL_TIPS: Final = ("nondeterministic_output_order",)


@command(
    "hkeys",
    2,
    R,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Get all the fields in a hash",
    since="2.0.0",
    complexity="O(N) where N is the size of the hash.",
    syntax="key",
    tips=_ALL_TIPS,
)
def hkeys(ctx: Context, argv: list[bytes]) -> bytes:
    h = _read(ctx, argv[1])
    if h is None:
        return encoder.EMPTY_ARRAY
    return encoder.array(_bulks(h.fields()))


@command(
    "hvals",
    2,
    R,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Get all the values in a hash",
    since="2.0.0",
    complexity="O(N) where N is the size of the hash.",
    syntax="key",
    tips=_ALL_TIPS,
)
def hvals(ctx: Context, argv: list[bytes]) -> bytes:
    h = _read(ctx, argv[1])
    if h is None:
        return encoder.EMPTY_ARRAY
    return encoder.array(_bulks(h.values()))


@command(
    "hgetall",
    2,
    R,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Get all the fields and values in a hash",
    since="2.0.0",
    complexity="O(N) where N is the size of the hash.",
    syntax="key",
    tips=_ALL_TIPS,
)
def hgetall(ctx: Context, argv: list[bytes]) -> bytes:
    h = _read(ctx, argv[1])
    flat = [] if h is None else h.flat()
    body = b"".join(_bulks(flat))
    if ctx.proto == 3:
        return b"%%%d\r\n%b" % (len(flat) // 2, body)
    return b"*%d\r\n%b" % (len(flat), body)


# -- counters -----------------------------------------------------------------------


@command(
    "hincrby",
    4,
    W | Flag.DENYOOM | F,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Increment the integer value of a hash field by the given number",
    since="2.0.0",
    syntax="key field increment",
)
def hincrby(ctx: Context, argv: list[bytes]) -> bytes:
    increment = parse_int(argv[3])
    key, field = argv[1], argv[2]
    h = _write(ctx, key)
    old = None if h is None else h.get(field)
    current = 0 if old is None else parse_int(old, "ERR hash value is not an integer")
    result = current + increment
    if not _MIN_LL <= result <= _MAX_LONG:
        raise CommandError(errors.OVERFLOW)
    if h is None:
        h = Hash()
        ctx.db.set(key, h)
    config = ctx.config
    h.replace_value(field, b"%d" % result, config.hash_max_listpack_entries, config.hash_max_listpack_value)
    ctx.effects.append(argv)
    return encoder.integer(result)


@command(
    "hincrbyfloat",
    4,
    W | Flag.DENYOOM | F,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Increment the float value of a hash field by the given amount",
    since="2.6.0",
    syntax="key field increment:double",
)
def hincrbyfloat(ctx: Context, argv: list[bytes]) -> bytes:
    increment = parse_long_double(argv[3])
    if increment is None:
        raise CommandError("ERR value is NaN or Infinity")
    key, field = argv[1], argv[2]
    h = _write(ctx, key)
    old = None if h is None else h.get(field)
    if old is None:
        current: tuple[int, int] | None = (0, 0)
    else:
        try:
            current = parse_long_double(old)
        except CommandError:
            raise CommandError("ERR hash value is not a float") from None
    total = None if current is None else long_double_add(current, increment)
    if total is None:
        raise CommandError("ERR increment would produce NaN or Infinity")
    text = format_long_double(total)
    if h is None:
        h = Hash()
        ctx.db.set(key, h)
    config = ctx.config
    h.replace_value(field, text, config.hash_max_listpack_entries, config.hash_max_listpack_value)
    ctx.effects.append([b"HSET", key, field, text])
    at = h.ttl_of(field)
    if at is not None:
        ctx.effects.append([b"HPEXPIREAT", key, b"%d" % at, b"FIELDS", b"1", field])
    return encoder.bulk(text)


# -- random fields and iteration ----------------------------------------------------


def _pairs_reply(flat: list[bytes], withvalues: bool, proto: int) -> bytes:
    """Fields (and values) as HRANDFIELD replies them: flat in RESP2, [field, value] arrays in RESP3."""
    if not withvalues:
        return encoder.array(_bulks(flat))
    if proto == 2:
        return encoder.array(_bulks(flat))
    pairs = [b"*2\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (len(f), f, len(v), v) for f, v in zip(flat[0::2], flat[1::2])]
    return encoder.array(pairs)


@command(
    "hrandfield",
    -2,
    R,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Get one or multiple random fields from a hash",
    since="6.2.0",
    complexity="O(N) where N is the number of fields returned",
    syntax="key [count [WITHVALUES]]",
    tips=("nondeterministic_output",),
)
def hrandfield(ctx: Context, argv: list[bytes]) -> bytes:
    """Redis's cases, including its deterministic ones: a count covering the whole hash returns
    it in stored order, and a listpack's unique sample comes in stored order."""
    rng = ctx.keyspace.rng
    if len(argv) == 2:
        h = _read(ctx, argv[1])
        if h is None:
            return encoder.null(ctx.proto)
        return encoder.bulk(h.fields()[rng.randrange(len(h))])
    count = parse_int(argv[2])
    if count < -_MAX_LONG:
        raise CommandError(f"ERR value is out of range, value must between {-_MAX_LONG} and {_MAX_LONG}")
    withvalues = False
    if len(argv) > 4 or (len(argv) == 4 and argv[3].lower() != b"withvalues"):
        raise CommandError(errors.SYNTAX)
    if len(argv) == 4:
        withvalues = True
        if not -(_MAX_LONG // 2) <= count <= _MAX_LONG // 2:
            raise CommandError("ERR value is out of range")
    h = _read(ctx, argv[1])
    if h is None or count == 0:
        return encoder.EMPTY_ARRAY
    size = len(h)
    flat = h.flat()
    if count < 0 or count == 1:
        wanted = -count if count < 0 else 1
        average = (sum(map(len, flat)) // size) + 20
        if wanted * average > _HRANDFIELD_MAX_REPLY_BYTES:
            raise CommandError("ERR value is out of range")
        picks = [rng.randrange(size) for _ in range(wanted)]
    elif count >= size:
        picks = list(range(size))
    elif h.is_listpack:
        picks = sorted(rng.sample(range(size), count))
    else:
        picks = rng.sample(range(size), count)
    if withvalues:
        chosen = [x for i in picks for x in (flat[2 * i], flat[2 * i + 1])]
    else:
        chosen = [flat[2 * i] for i in picks]
    return _pairs_reply(chosen, withvalues, ctx.proto)


@command(
    "hscan",
    -3,
    R,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Incrementally iterate hash fields and associated values",
    since="2.8.0",
    complexity=(
        "O(1) for every call. O(N) for a complete iteration, including enough command calls for the "
        "cursor to return back to 0. N is the number of elements inside the collection.."
    ),
    syntax="key cursor [MATCH pattern] [COUNT count]",
    tips=("nondeterministic_output",),
)
def hscan(ctx: Context, argv: list[bytes]) -> bytes:
    """A listpack is returned whole with cursor 0, as Redis does; a hashtable is walked
    through a snapshot (store.hashes.FieldScans).  NOVALUES (Redis 7.4) is accepted."""
    cursor = parse_cursor(argv[2])
    h = _read(ctx, argv[1])
    if h is None:
        return _EMPTY_SCAN
    count = _SCAN_DEFAULT_COUNT
    pattern: bytes | None = None
    novalues = False
    i = 3
    n = len(argv)
    while i < n:
        opt = argv[i].lower()
        if opt == b"count" and i + 1 < n:
            count = parse_int(argv[i + 1])
            if count < 1:
                raise CommandError(errors.SYNTAX)
            i += 2
        elif opt == b"match" and i + 1 < n:
            pattern = argv[i + 1]
            i += 2
        elif opt == b"novalues":
            novalues = True
            i += 1
        else:
            raise CommandError(errors.SYNTAX)
    if h.is_listpack:
        next_cursor = 0
        fields = h.fields()
    else:
        next_cursor, fields = _SCANS.step(h, cursor, count)
    if pattern is not None and pattern != b"*":
        matches = compile_glob(pattern)
        fields = [f for f in fields if matches(f)]
    if novalues:
        items = fields
    else:
        items = []
        for f in fields:
            items.append(f)
            items.append(h.get(f) or b"")
    return b"*2\r\n" + encoder.bulk(b"%d" % next_cursor) + encoder.array(_bulks(items))


# -- field TTLs (Redis 7.4) ---------------------------------------------------------

_CONDITIONS: Final = {b"nx": store.COND_NX, b"xx": store.COND_XX, b"gt": store.COND_GT, b"lt": store.COND_LT}
_FIELDS_MISSING: Final = "ERR Mandatory argument FIELDS is missing or not at the right position"
_NUMFIELDS_MISMATCH: Final = "ERR The `numfields` parameter must match the number of arguments"


def _fields_argument(argv: list[bytes], at: int, message: str) -> list[bytes]:
    """The fields of ``FIELDS numfields field...`` whose FIELDS token is at ``at``."""
    if argv[at].lower() != b"fields":
        raise CommandError(_FIELDS_MISSING)
    numfields = parse_int(argv[at + 1], message)
    if numfields < 1:
        raise CommandError(message)
    if numfields != len(argv) - at - 2:
        raise CommandError(_NUMFIELDS_MISMATCH)
    return argv[at + 2 :]


def _codes(codes: list[int]) -> bytes:
    return encoder.array([encoder.integer(c) for c in codes])


def _hexpire(ctx: Context, argv: list[bytes], unit_ms: int, relative: bool, name: str) -> bytes:
    key = argv[1]
    h = _write(ctx, key)
    raw = parse_int(argv[2])
    if raw < 0:
        raise CommandError("ERR invalid expire time, must be >= 0")
    now = ctx.keyspace.clock.now_ms()
    base = now if relative else 0
    if unit_ms == 1000:
        if raw > _HFE_MAX_ABS_TIME_MS // 1000:
            raise errors.invalid_expire(name)
        raw *= 1000
    if raw > _HFE_MAX_ABS_TIME_MS - base:
        raise errors.invalid_expire(name)
    at = raw + base
    cond = _CONDITIONS.get(argv[3].lower(), store.COND_NONE)
    fields = _fields_argument(argv, 4 if cond else 3, "ERR Parameter `numFields` should be greater than 0")
    if h is None:
        return _codes([store.NO_FIELD] * len(fields))
    h.enable_ttls()  # Redis converts a listpack to listpackex here, whatever the fields
    codes = [h.expire_field(f, at, cond, now) for f in fields]
    deleted = [f for f, c in zip(fields, codes) if c == store.DELETED]
    updated = [f for f, c in zip(fields, codes) if c == store.EXPIRE_SET]
    if deleted:
        ctx.effects.append([b"HDEL", key, *deleted])
        ctx.db.delete_if_empty(key, h)
    if updated:
        ctx.effects.append([b"HPEXPIREAT", key, b"%d" % at, b"FIELDS", b"%d" % len(updated), *updated])
    if h.ttls:
        ctx.db.schedule_field_expiry(key, h.next_expiry)
    return _codes(codes)


_EXPIRE_COMPLEXITY: Final = "O(N) where N is the number of specified fields"


@command(
    "hexpire",
    -6,
    W | F,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Set expiry for hash field using relative time to expire (seconds)",
    since="7.4.0",
    complexity=_EXPIRE_COMPLEXITY,
    syntax="key seconds [NX|XX|GT|LT] FIELDS numfields:integer field [field ...]",
    key_flags=("RW", "update"),
)
def hexpire(ctx: Context, argv: list[bytes]) -> bytes:
    return _hexpire(ctx, argv, 1000, True, "hexpire")


@command(
    "hpexpire",
    -6,
    W | F,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Set expiry for hash field using relative time to expire (milliseconds)",
    since="7.4.0",
    complexity=_EXPIRE_COMPLEXITY,
    syntax="key milliseconds [NX|XX|GT|LT] FIELDS numfields:integer field [field ...]",
    key_flags=("RW", "update"),
)
def hpexpire(ctx: Context, argv: list[bytes]) -> bytes:
    return _hexpire(ctx, argv, 1, True, "hpexpire")


@command(
    "hexpireat",
    -6,
    W | F,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Set expiry for hash field using an absolute Unix timestamp (seconds)",
    since="7.4.0",
    complexity=_EXPIRE_COMPLEXITY,
    syntax="key unix-time-seconds:unix-time [NX|XX|GT|LT] FIELDS numfields:integer field [field ...]",
    key_flags=("RW", "update"),
)
def hexpireat(ctx: Context, argv: list[bytes]) -> bytes:
    return _hexpire(ctx, argv, 1000, False, "hexpireat")


@command(
    "hpexpireat",
    -6,
    W | F,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Set expiry for hash field using an absolute Unix timestamp (milliseconds)",
    since="7.4.0",
    complexity=_EXPIRE_COMPLEXITY,
    syntax="key unix-time-milliseconds:unix-time [NX|XX|GT|LT] FIELDS numfields:integer field [field ...]",
    key_flags=("RW", "update"),
)
def hpexpireat(ctx: Context, argv: list[bytes]) -> bytes:
    return _hexpire(ctx, argv, 1, False, "hpexpireat")


_NUMFIELDS_POSITIVE: Final = "ERR Number of fields must be a positive integer"


def _httl(ctx: Context, argv: list[bytes], unit_ms: int, relative: bool) -> bytes:
    h = _read(ctx, argv[1])
    fields = _fields_argument(argv, 2, _NUMFIELDS_POSITIVE)
    if h is None:
        return _codes([store.NO_FIELD] * len(fields))
    now = ctx.keyspace.clock.now_ms()
    base = now if relative else 0
    codes = []
    for field in fields:
        if field not in h:
            codes.append(store.NO_FIELD)
            continue
        at = h.ttl_of(field)
        if at is None:
            codes.append(-1)
        elif unit_ms == 1000:
            codes.append((at + 999 - base) // 1000)
        else:
            codes.append(at - base)
    return _codes(codes)


_TTL_COMPLEXITY: Final = "O(N) where N is the number of specified fields"


@command(
    "httl",
    -5,
    R | F,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Returns the TTL in seconds of a hash field.",
    since="7.4.0",
    complexity=_TTL_COMPLEXITY,
    syntax="key FIELDS numfields:integer field [field ...]",
)
def httl(ctx: Context, argv: list[bytes]) -> bytes:
    return _httl(ctx, argv, 1000, True)


@command(
    "hpttl",
    -5,
    R | F,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Returns the TTL in milliseconds of a hash field.",
    since="7.4.0",
    complexity=_TTL_COMPLEXITY,
    syntax="key FIELDS numfields:integer field [field ...]",
)
def hpttl(ctx: Context, argv: list[bytes]) -> bytes:
    return _httl(ctx, argv, 1, True)


@command(
    "hexpiretime",
    -5,
    R | F,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Returns the expiration time of a hash field as a Unix timestamp, in seconds.",
    since="7.4.0",
    complexity=_TTL_COMPLEXITY,
    syntax="key FIELDS numfields:integer field [field ...]",
)
def hexpiretime(ctx: Context, argv: list[bytes]) -> bytes:
    return _httl(ctx, argv, 1000, False)


@command(
    "hpexpiretime",
    -5,
    R | F,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Returns the expiration time of a hash field as a Unix timestamp, in msec.",
    since="7.4.0",
    complexity=_TTL_COMPLEXITY,
    syntax="key FIELDS numfields:integer field [field ...]",
)
def hpexpiretime(ctx: Context, argv: list[bytes]) -> bytes:
    return _httl(ctx, argv, 1, False)


@command(
    "hpersist",
    -5,
    W | F,
    keys=(1, 1, 1),
    categories=_HASH,
    group="hash",
    summary="Removes the expiration time for each specified field",
    since="7.4.0",
    complexity=_TTL_COMPLEXITY,
    syntax="key FIELDS numfields:integer field [field ...]",
    key_flags=("RW", "update"),
)
def hpersist(ctx: Context, argv: list[bytes]) -> bytes:
    key = argv[1]
    h = _write(ctx, key)
    fields = _fields_argument(argv, 2, _NUMFIELDS_POSITIVE)
    if h is None:
        return _codes([store.NO_FIELD] * len(fields))
    codes = []
    persisted = []
    for field in fields:
        if field not in h:
            codes.append(store.NO_FIELD)
        elif h.persist(field):
            codes.append(1)
            persisted.append(field)
        else:
            codes.append(-1)
    if persisted:
        ctx.effects.append([b"HPERSIST", key, b"FIELDS", b"%d" % len(persisted), *persisted])
    return _codes(codes)
