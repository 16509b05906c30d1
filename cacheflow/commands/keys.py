"""Generic keyspace commands: existence, deletion, renaming, copying, expiry, iteration, OBJECT.

Each handler validates every argument before touching the keyspace, answers
with Redis 7.0's replies and error texts, and reports what it changed as
normalized effects: relative and second-based expiries become ``PEXPIREAT``
with an absolute time, an expiry already in the past becomes ``DEL``, and
deletions name only the keys that were really removed, so that replaying the
effects reproduces the state without re-reading the clock.
"""

import re
from typing import cast

from cacheflow.commands import errors
from cacheflow.commands.context import Context
from cacheflow.commands.errors import parse_int
from cacheflow.commands.table import TABLE, Flag, command, index_range
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError
from cacheflow.store.collection import Collection
from cacheflow.store.eviction import TRACK_LFU
from cacheflow.store.glob import compile_glob
from cacheflow.store.keyspace import Database, value_type
from cacheflow.store.memory import string_encoding

W = Flag.WRITE
R = Flag.READONLY
F = Flag.FAST
_KS = ("keyspace",)
_KS_DANGEROUS = ("keyspace", "dangerous")

_MAX_LL = 2**63 - 1
# C's LLONG_MAX / 1000 and LLONG_MIN / 1000 (truncating): the seconds EXPIRE accepts.
_MAX_SECONDS = _MAX_LL // 1000
_MIN_SECONDS = -_MAX_SECONDS
_ULONG_MAX = 2**64 - 1
# Redis shares one object for the integers 0..9999 and reports this refcount for it.
_SHARED_INTEGERS = 10000
_SHARED_REFCOUNT = 2**31 - 1
_SCAN_DEFAULT_COUNT = 10

_NONE = b"+none\r\n"
_MINUS_TWO = encoder.integer(-2)
_MINUS_ONE = encoder.integer(-1)
_SAME_OBJECT = "ERR source and destination objects are the same"
_EXPIRE_NX_CONFLICT = "ERR NX and XX, GT or LT options at the same time are not compatible"
_EXPIRE_GT_LT_CONFLICT = "ERR GT and LT options at the same time are not compatible"
_LFU_NOT_SELECTED = (
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
    "Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
)
_LFU_SELECTED = (
    "ERR An LFU maxmemory policy is selected, idle time not tracked. "
    "Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
)
# strtoul(…, 10) as SCAN uses it: an optional sign, then digits; the empty string reads as 0.
_CURSOR = re.compile(rb"([+-]?)([0-9]+)")

_EXPIRE_NX = 1
_EXPIRE_XX = 2
_EXPIRE_GT = 4
_EXPIRE_LT = 8
_EXPIRE_OPTIONS = {b"NX": _EXPIRE_NX, b"XX": _EXPIRE_XX, b"GT": _EXPIRE_GT, b"LT": _EXPIRE_LT}

_OBJECT_HELP = (
    b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"ENCODING <key>",
    b"    Return the kind of internal representation used in order to store the value",
    b"    associated with a <key>.",
    b"FREQ <key>",
    b"    Return the access frequency index of the <key>. The returned integer is",
    b"    proportional to the logarithm of the recent access frequency of the key.",
    b"IDLETIME <key>",
    b"    Return the idle time of the <key>, that is the approximated number of",
    b"    seconds elapsed since the last access to the key.",
    b"REFCOUNT <key>",
    b"    Return the number of references of the value associated with the specified",
    b"    <key>.",
    b"HELP",
    b"    Prints this help.",
)
_OBJECT_HELP_REPLY = encoder.array([encoder.simple(line) for line in _OBJECT_HELP])


def c_string(raw: bytes) -> str:
    """An argument as Redis prints it with %s: cut at the first NUL byte."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def database_at(ctx: Context, raw: bytes) -> Database:
    """The database a MOVE or COPY ... DB argument names."""
    index = errors.parse_c_int(raw)
    if not 0 <= index < len(ctx.keyspace.dbs):
        raise CommandError(errors.DB_INDEX)
    return ctx.keyspace.dbs[index]


def duplicate(value: object) -> object:
    """An independent copy of a value for COPY.

    ``bytes`` are immutable and can be shared; a ``bytearray`` is copied so
    that in-place edits of one key never show through the other.  Collections
    copy themselves (store/collection.py), sharing nothing mutable.
    """
    if value.__class__ is bytes:
        return value
    if isinstance(value, bytearray):
        return bytearray(value)
    return cast(Collection, value).copy()


# -- existence and deletion ---------------------------------------------------


def _delete(ctx: Context, argv: list[bytes]) -> bytes:
    db = ctx.db
    deleted = [key for key in argv[1:] if db.delete(key)]
    if deleted:
        ctx.effects.append([b"DEL", *deleted])
    return encoder.integer(len(deleted))


@command(
    "del",
    -2,
    W,
    keys=(1, -1, 1),
    whole_values=True,
    key_flags=("RM", "delete"),
    categories=_KS,
    summary="Delete a key",
    complexity="O(N) where N is the number of keys that will be removed.",
    syntax="key [key ...]",
    tips=("request_policy:multi_shard", "response_policy:agg_sum"),
)
def del_(ctx: Context, argv: list[bytes]) -> bytes:
    return _delete(ctx, argv)


@command(
    "unlink",
    -2,
    W | F,
    keys=(1, -1, 1),
    whole_values=True,
    key_flags=("RM", "delete"),
    categories=_KS,
    summary="Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
    since="4.0.0",
    complexity="O(1) for each key removed regardless of its size.",
    syntax="key [key ...]",
    tips=("request_policy:multi_shard", "response_policy:agg_sum"),
)
def unlink(ctx: Context, argv: list[bytes]) -> bytes:
    """Frees synchronously: dropping the last reference is all Python can do, as DEL does."""
    return _delete(ctx, argv)


@command(
    "exists",
    -2,
    R | F,
    keys=(1, -1, 1),
    key_flags=("RO",),
    categories=_KS,
    summary="Determine if a key exists",
    complexity="O(N) where N is the number of keys to check.",
    syntax="key [key ...]",
    tips=("request_policy:multi_shard", "response_policy:agg_sum"),
)
def exists(ctx: Context, argv: list[bytes]) -> bytes:
    lookup = ctx.db.lookup_read_notouch
    return encoder.integer(sum(1 for key in argv[1:] if lookup(key) is not None))


@command(
    "touch",
    -2,
    R | F,
    keys=(1, -1, 1),
    key_flags=("RO",),
    categories=_KS,
    summary="Alters the last access time of a key(s). Returns the number of existing keys specified.",
    since="3.2.1",
    complexity="O(N) where N is the number of keys that will be touched.",
    syntax="key [key ...]",
    tips=("request_policy:multi_shard", "response_policy:agg_sum"),
)
def touch(ctx: Context, argv: list[bytes]) -> bytes:
    """Counts existing keys; a read lookup records the access for LRU, LFU and TinyLFU."""
    lookup = ctx.db.lookup_read
    return encoder.integer(sum(1 for key in argv[1:] if lookup(key) is not None))


@command(
    "type",
    2,
    R | F,
    keys=(1, 1, 1),
    key_flags=("RO",),
    categories=_KS,
    summary="Determine the type stored at key",
    syntax="key",
)
def type_(ctx: Context, argv: list[bytes]) -> bytes:
    value = ctx.db.lookup_read_notouch(argv[1])
    if value is None:
        return _NONE
    return b"+%b\r\n" % value_type(value)


# -- iteration ---------------------------------------------------------------


@command(
    "keys",
    2,
    R,
    categories=_KS_DANGEROUS,
    summary="Find all keys matching the given pattern",
    complexity="O(N) with N being the number of keys in the database.",
    syntax="pattern",
    tips=("request_policy:all_shards", "nondeterministic_output_order"),
)
def keys(ctx: Context, argv: list[bytes]) -> bytes:
    """Skips keys whose TTL has passed without deleting them, as Redis's KEYS does."""
    live = ctx.db.live_keys()
    pattern = argv[1]
    if pattern != b"*":
        matches = compile_glob(pattern)
        live = [key for key in live if matches(key)]
    return encoder.bulk_array(live, ctx.proto)


def parse_cursor(raw: bytes) -> int:
    """A SCAN cursor as strtoul reads it: a sign is allowed and a negative one wraps.

    Redis parses the argument as a C string, so a NUL byte ends it.
    """
    raw = raw.partition(b"\0")[0]
    if not raw:
        return 0
    m = _CURSOR.fullmatch(raw)
    if m is None:
        raise CommandError("ERR invalid cursor")
    value = int(m.group(2))
    if value > _ULONG_MAX:
        raise CommandError("ERR invalid cursor")
    return (-value) & _ULONG_MAX if m.group(1) == b"-" else value


@command(
    "scan",
    -2,
    R,
    categories=_KS,
    summary="Incrementally iterate the keys space",
    since="2.8.0",
    complexity="O(1) for every call. O(N) for a complete iteration.",
    syntax="cursor [MATCH pattern] [COUNT count] [TYPE type]",
    tips=("nondeterministic_output", "request_policy:special"),
)
def scan(ctx: Context, argv: list[bytes]) -> bytes:
    """Every key present for the whole iteration is returned (see Keyspace.scan).

    A cursor CacheFlow did not hand out (or whose snapshot was forgotten)
    ends the iteration, where Redis would resume at an arbitrary point.
    """
    cursor = parse_cursor(argv[1])
    count = _SCAN_DEFAULT_COUNT
    pattern: bytes | None = None
    type_name: bytes | None = None
    i = 2
    n = len(argv)
    while i < n:
        opt = argv[i].upper()
        if i + 1 >= n:
            raise CommandError(errors.SYNTAX)
        if opt == b"COUNT":
            count = parse_int(argv[i + 1])
            if count < 1:
                raise CommandError(errors.SYNTAX)
        elif opt == b"MATCH":
            pattern = argv[i + 1]
        elif opt == b"TYPE":
            # Redis compares with strcasecmp: ASCII case-insensitive, up to a NUL byte.
            type_name = argv[i + 1].partition(b"\0")[0].lower()
        else:
            raise CommandError(errors.SYNTAX)
        i += 2
    if pattern == b"*":
        pattern = None
    next_cursor, found = ctx.keyspace.scan(ctx.db, cursor, count, pattern, type_name)
    return b"*2\r\n" + encoder.bulk(b"%d" % next_cursor) + encoder.bulk_array(found, ctx.proto)


@command(
    "randomkey",
    1,
    R,
    categories=_KS,
    summary="Return a random key from the keyspace",
    tips=("request_policy:all_shards", "nondeterministic_output"),
)
def randomkey(ctx: Context, argv: list[bytes]) -> bytes:
    return encoder.bulk_or_null(ctx.db.random_key(ctx.keyspace.rng), ctx.proto)


# -- renaming, moving, copying -------------------------------------------------


def _rename(ctx: Context, argv: list[bytes], nx: bool) -> bytes:
    db = ctx.db
    src, dst = argv[1], argv[2]
    value = db.lookup(src)
    if value is None:
        raise CommandError(errors.NO_SUCH_KEY)
    if src == dst:
        return encoder.ZERO if nx else encoder.OK
    if db.lookup(dst) is not None and nx:
        return encoder.ZERO
    expire_at = db.expires.get(src)
    db.pop(src)
    db.place(dst, value, expire_at)
    ctx.effects.append([b"RENAME", src, dst])
    return encoder.ONE if nx else encoder.OK


@command(
    "rename",
    3,
    W,
    keys=(1, 2, 1),
    key_specs=(index_range(1, "RW", "access", "delete"), index_range(2, "OW", "update")),
    categories=_KS,
    summary="Rename a key",
    syntax="key newkey",
)
def rename(ctx: Context, argv: list[bytes]) -> bytes:
    return _rename(ctx, argv, nx=False)


@command(
    "renamenx",
    3,
    W | F,
    keys=(1, 2, 1),
    key_specs=(index_range(1, "RW", "access", "delete"), index_range(2, "OW", "insert")),
    categories=_KS,
    summary="Rename a key, only if the new key does not exist",
    syntax="key newkey",
)
def renamenx(ctx: Context, argv: list[bytes]) -> bytes:
    """Its effect is a plain RENAME: the target was checked to be absent."""
    return _rename(ctx, argv, nx=True)


def _move_touches(db_index: int, argv: list[bytes]) -> list[tuple[int, bytes | None]]:
    return [(db_index, argv[1]), (int(argv[2]), argv[1])]


@command(
    "move",
    3,
    W | F,
    keys=(1, 1, 1),
    touches=_move_touches,
    categories=_KS,
    summary="Move a key to another database",
    syntax="key db",
)
def move(ctx: Context, argv: list[bytes]) -> bytes:
    src = ctx.db
    dst = database_at(ctx, argv[2])
    if dst is src:
        raise CommandError(_SAME_OBJECT)
    key = argv[1]
    value = src.lookup(key)
    if value is None:
        return encoder.ZERO
    if dst.lookup(key) is not None:
        return encoder.ZERO
    expire_at = src.expires.get(key)
    src.pop(key)
    dst.place(key, value, expire_at)
    ctx.effects.append([b"MOVE", key, b"%d" % dst.index])
    return encoder.ONE


def _copy_touches(db_index: int, argv: list[bytes]) -> list[tuple[int, bytes | None]]:
    """The destination key only: effects are normalized to ``COPY src dst [DB n] [REPLACE]``."""
    target = db_index
    if len(argv) > 4 and argv[3] == b"DB":
        target = int(argv[4])
    return [(target, argv[2])]


@command(
    "copy",
    -3,
    W | Flag.DENYOOM,
    keys=(1, 2, 1),
    key_specs=(index_range(1, "RO", "access"), index_range(2, "OW", "update")),
    touches=_copy_touches,
    categories=_KS,
    summary="Copy a key",
    since="6.2.0",
    complexity="O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
    syntax="source destination [DB destination-db] [REPLACE]",
)
def copy(ctx: Context, argv: list[bytes]) -> bytes:
    src_db = ctx.db
    dst_db = src_db
    replace = False
    i = 3
    n = len(argv)
    while i < n:
        opt = argv[i].upper()
        if opt == b"REPLACE":
            replace = True
        elif opt == b"DB" and i + 1 < n:
            i += 1
            dst_db = database_at(ctx, argv[i])
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    src, dst = argv[1], argv[2]
    if dst_db is src_db and src == dst:
        raise CommandError(_SAME_OBJECT)
    value = src_db.lookup_read(src)
    if value is None:
        return encoder.ZERO
    if dst_db.lookup(dst) is not None and not replace:
        return encoder.ZERO
    dst_db.place(dst, duplicate(value), src_db.expires.get(src))
    effect = [b"COPY", src, dst]
    if dst_db is not src_db:
        effect += [b"DB", b"%d" % dst_db.index]
    if replace:
        effect.append(b"REPLACE")
    ctx.effects.append(effect)
    return encoder.ONE


# -- expiry --------------------------------------------------------------------


def _expire_flags(argv: list[bytes]) -> int:
    flags = 0
    for raw in argv[3:]:
        flag = _EXPIRE_OPTIONS.get(raw.upper())
        if flag is None:
            raise CommandError(f"ERR Unsupported option {c_string(raw)}")
        flags |= flag
    if flags & _EXPIRE_NX and flags & (_EXPIRE_XX | _EXPIRE_GT | _EXPIRE_LT):
        raise CommandError(_EXPIRE_NX_CONFLICT)
    if flags & _EXPIRE_GT and flags & _EXPIRE_LT:
        raise CommandError(_EXPIRE_GT_LT_CONFLICT)
    return flags


def _expire(ctx: Context, argv: list[bytes], unit_ms: int, relative: bool, name: str) -> bytes:
    """EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT, with Redis's overflow checks and option rules."""
    flags = _expire_flags(argv)
    when = parse_int(argv[2])
    if unit_ms == 1000:
        if not _MIN_SECONDS <= when <= _MAX_SECONDS:
            raise errors.invalid_expire(name)
        when *= 1000
    now = ctx.keyspace.clock.now_ms()
    if relative:
        if when > _MAX_LL - now:
            raise errors.invalid_expire(name)
        when += now
    db = ctx.db
    key = argv[1]
    if db.lookup(key) is None:
        return encoder.ZERO
    if flags:
        current = db.expires.get(key)
        if flags & _EXPIRE_NX and current is not None:
            return encoder.ZERO
        if flags & _EXPIRE_XX and current is None:
            return encoder.ZERO
        # No TTL counts as an infinite one: GT never beats it, LT always does.
        if flags & _EXPIRE_GT and (current is None or when <= current):
            return encoder.ZERO
        if flags & _EXPIRE_LT and current is not None and when >= current:
            return encoder.ZERO
    if when <= now:
        db.delete(key)
        ctx.effects.append([b"DEL", key])
    else:
        db.set_expire(key, when)
        ctx.effects.append([b"PEXPIREAT", key, b"%d" % when])
    return encoder.ONE


_EXPIRE_SYNTAX = " [NX|XX|GT|LT]"


@command(
    "expire",
    -3,
    W | F,
    keys=(1, 1, 1),
    key_flags=("RW", "update"),
    categories=_KS,
    summary="Set a key's time to live in seconds",
    syntax="key seconds" + _EXPIRE_SYNTAX,
)
def expire(ctx: Context, argv: list[bytes]) -> bytes:
    return _expire(ctx, argv, 1000, True, "expire")


@command(
    "pexpire",
    -3,
    W | F,
    keys=(1, 1, 1),
    key_flags=("RW", "update"),
    categories=_KS,
    summary="Set a key's time to live in milliseconds",
    since="2.6.0",
    syntax="key milliseconds" + _EXPIRE_SYNTAX,
)
def pexpire(ctx: Context, argv: list[bytes]) -> bytes:
    return _expire(ctx, argv, 1, True, "pexpire")


@command(
    "expireat",
    -3,
    W | F,
    keys=(1, 1, 1),
    key_flags=("RW", "update"),
    categories=_KS,
    summary="Set the expiration for a key as a UNIX timestamp",
    since="1.2.0",
    syntax="key unix-time-seconds" + _EXPIRE_SYNTAX,
)
def expireat(ctx: Context, argv: list[bytes]) -> bytes:
    return _expire(ctx, argv, 1000, False, "expireat")


@command(
    "pexpireat",
    -3,
    W | F,
    keys=(1, 1, 1),
    key_flags=("RW", "update"),
    categories=_KS,
    summary="Set the expiration for a key as a UNIX timestamp specified in milliseconds",
    since="2.6.0",
    syntax="key unix-time-milliseconds" + _EXPIRE_SYNTAX,
)
def pexpireat(ctx: Context, argv: list[bytes]) -> bytes:
    return _expire(ctx, argv, 1, False, "pexpireat")


def _ttl(ctx: Context, key: bytes, in_ms: bool, absolute: bool) -> bytes:
    db = ctx.db
    if db.lookup_read_notouch(key) is None:
        return _MINUS_TWO
    at = db.expires.get(key)
    if at is None:
        return _MINUS_ONE
    ttl = max(at if absolute else at - ctx.keyspace.clock.now_ms(), 0)
    return encoder.integer(ttl if in_ms else (ttl + 500) // 1000)


@command(
    "ttl",
    2,
    R | F,
    keys=(1, 1, 1),
    categories=_KS,
    summary="Get the time to live for a key in seconds",
    syntax="key",
    tips=("nondeterministic_output",),
)
def ttl(ctx: Context, argv: list[bytes]) -> bytes:
    return _ttl(ctx, argv[1], in_ms=False, absolute=False)


@command(
    "pttl",
    2,
    R | F,
    keys=(1, 1, 1),
    categories=_KS,
    summary="Get the time to live for a key in milliseconds",
    since="2.6.0",
    syntax="key",
    tips=("nondeterministic_output",),
)
def pttl(ctx: Context, argv: list[bytes]) -> bytes:
    return _ttl(ctx, argv[1], in_ms=True, absolute=False)


@command(
    "expiretime",
    2,
    R | F,
    keys=(1, 1, 1),
    categories=_KS,
    summary="Get the expiration Unix timestamp for a key",
    since="7.0.0",
    syntax="key",
)
def expiretime(ctx: Context, argv: list[bytes]) -> bytes:
    return _ttl(ctx, argv[1], in_ms=False, absolute=True)


@command(
    "pexpiretime",
    2,
    R | F,
    keys=(1, 1, 1),
    categories=_KS,
    summary="Get the expiration Unix timestamp for a key in milliseconds",
    since="7.0.0",
    syntax="key",
)
def pexpiretime(ctx: Context, argv: list[bytes]) -> bytes:
    return _ttl(ctx, argv[1], in_ms=True, absolute=True)


@command(
    "persist",
    2,
    W | F,
    keys=(1, 1, 1),
    key_flags=("RW", "update"),
    categories=_KS,
    summary="Remove the expiration from a key",
    since="2.2.0",
    syntax="key",
)
def persist(ctx: Context, argv: list[bytes]) -> bytes:
    db = ctx.db
    key = argv[1]
    if db.lookup(key) is None or not db.persist(key):
        return encoder.ZERO
    ctx.effects.append([b"PERSIST", key])
    return encoder.ONE


# -- OBJECT ----------------------------------------------------------------------

TABLE.container(
    "object",
    categories=(),
    group="generic",
    summary="A container for object introspection commands",
    since="2.2.3",
)


def canonical_int(value: bytes) -> int | None:
    """The integer a string holds if Redis would store it int-encoded (string2l succeeds, <= 20 chars)."""
    if len(value) > 20:
        return None
    try:
        return parse_int(value)
    except CommandError:
        return None


def object_encoding(value: object) -> bytes:
    """Strings are classified here; other value types name their encoding with an ``encoding()`` method."""
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        return string_encoding(value)  # type: ignore[arg-type]
    encoding = getattr(value, "encoding", None)
    if callable(encoding):
        return bytes(encoding())
    return b"unknown"


def _shares_integers(ctx: Context) -> bool:
    """Redis stops sharing small integers when an LRU or LFU policy needs a per-object clock.

    Redis decides when the value is stored; CacheFlow decides when asked, so a
    policy changed in between reports the new rule.
    """
    config = ctx.config
    return not config.maxmemory or not config.maxmemory_policy.endswith(("-lru", "-lfu"))


def _object_value(ctx: Context, argv: list[bytes]) -> object | None:
    return ctx.db.lookup_read_notouch(argv[2])


@command(
    "encoding",
    3,
    R,
    keys=(2, 2, 1),
    key_flags=("RO",),
    categories=_KS,
    summary="Inspect the internal encoding of a Redis object",
    since="2.2.3",
    syntax="key",
    parent="object",
    tips=("nondeterministic_output",),
)
def object_encoding_cmd(ctx: Context, argv: list[bytes]) -> bytes:
    value = _object_value(ctx, argv)
    if value is None:
        return encoder.null(ctx.proto)
    return encoder.bulk(object_encoding(value))


@command(
    "refcount",
    3,
    R,
    keys=(2, 2, 1),
    key_flags=("RO",),
    categories=_KS,
    summary="Get the number of references to the value of the key",
    since="2.2.3",
    syntax="key",
    parent="object",
    tips=("nondeterministic_output",),
)
def object_refcount(ctx: Context, argv: list[bytes]) -> bytes:
    """1, except for the small integers Redis keeps as shared objects.

    Redis's COPY of a shared integer makes a private one (refcount 1); here the
    copy still reports the shared count.
    """
    value = _object_value(ctx, argv)
    if value is None:
        return encoder.null(ctx.proto)
    if value.__class__ is bytes and _shares_integers(ctx):
        number = canonical_int(value)  # type: ignore[arg-type]
        if number is not None and 0 <= number < _SHARED_INTEGERS:
            return encoder.integer(_SHARED_REFCOUNT)
    return encoder.ONE


@command(
    "freq",
    3,
    R,
    keys=(2, 2, 1),
    key_flags=("RO",),
    categories=_KS,
    summary="Get the logarithmic access frequency counter of a Redis object",
    since="4.0.0",
    syntax="key",
    parent="object",
    tips=("nondeterministic_output",),
)
def object_freq(ctx: Context, argv: list[bytes]) -> bytes:
    if _object_value(ctx, argv) is None:
        return encoder.null(ctx.proto)
    if ctx.keyspace.tracking != TRACK_LFU:
        raise CommandError(_LFU_NOT_SELECTED)
    return encoder.integer(ctx.keyspace.evictor.frequency(ctx.db, argv[2]))


@command(
    "idletime",
    3,
    R,
    keys=(2, 2, 1),
    key_flags=("RO",),
    categories=_KS,
    summary="Get the time since a Redis object was last accessed",
    since="2.2.3",
    syntax="key",
    parent="object",
    tips=("nondeterministic_output",),
)
def object_idletime(ctx: Context, argv: list[bytes]) -> bytes:
    """Exact under an LRU policy, approximate under the others (store/idle_clock.py), an error under LFU as in Redis."""
    if _object_value(ctx, argv) is None:
        return encoder.null(ctx.proto)
    if ctx.keyspace.tracking == TRACK_LFU:
        raise CommandError(_LFU_SELECTED)
    return encoder.integer(ctx.keyspace.evictor.idle_seconds(ctx.db, argv[2]))


@command(
    "help",
    2,
    Flag.LOADING | Flag.STALE,
    categories=_KS,
    summary="Show helpful text about the different subcommands",
    since="6.2.0",
    parent="object",
)
def object_help(ctx: Context, argv: list[bytes]) -> bytes:
    return _OBJECT_HELP_REPLY
