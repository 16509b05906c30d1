"""DUMP and RESTORE: one value in Redis's serialization, interchangeable with Redis 7.0.

The payload is the value's RDB form, the RDB version (10) and a CRC-64 (see
rdb/values.py), so a DUMP from Redis restores here and the other way round.

RESTORE checks in Redis 7.0's order: options (IDLETIME and FREQ exclude each
other: whichever comes second is a syntax error), then an existing key
without REPLACE (BUSYKEY), then the TTL, then the payload's version and
checksum, then its contents ("Bad data format").  A TTL that has already
passed stores nothing; it only deletes a key that REPLACE removed.

Its effect is ``RESTORE key <absolute ms or 0> payload [REPLACE] [ABSTTL]``
so replaying it never reads the clock, or ``DEL key`` when an already expired
TTL removed a replaced key.  IDLETIME and FREQ set the key's access data as
Redis's objectSetLRUOrLFU does (FREQ under an LFU policy, IDLETIME under LRU;
store/eviction.py), and are left out of the effect: access data is local to a
process, as Redis's is not in its AOF.
"""

from cacheflow.commands import errors
from cacheflow.commands.context import Context
from cacheflow.commands.errors import parse_int
from cacheflow.commands.table import Flag, command
from cacheflow.rdb.errors import RdbError
from cacheflow.rdb.values import PAYLOAD_WRONG, PayloadError, dump_payload, load_payload
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError

_BUSYKEY = "BUSYKEY Target key name already exists."
_BAD_TTL = "ERR Invalid TTL value, must be >= 0"
_BAD_IDLETIME = "ERR Invalid IDLETIME value, must be >= 0"
_BAD_FREQ = "ERR Invalid FREQ value, must be >= 0 and <= 255"
_BAD_FORMAT = "ERR Bad data format"


@command(
    "dump",
    2,
    Flag.READONLY,
    keys=(1, 1, 1),
    key_flags=("RO", "access"),
    categories=("keyspace",),
    summary="Return a serialized version of the value stored at the specified key.",
    since="2.6.0",
    complexity=(
        "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects "
        "composing the value and M their average size. For small string values the time complexity is thus "
        "O(1)+O(1*M) where M is small, so simply O(1)."
    ),
    syntax="key",
    tips=("nondeterministic_output",),
)
def dump(ctx: Context, argv: list[bytes]) -> bytes:
    value = ctx.db.lookup_read(argv[1])
    if value is None:
        return encoder.null(ctx.proto)
    return encoder.bulk(dump_payload(value, ctx.config))


@command(
    "restore",
    -4,
    Flag.WRITE | Flag.DENYOOM,
    keys=(1, 1, 1),
    key_flags=("OW", "update"),
    categories=("keyspace", "dangerous"),
    summary="Create a key using the provided serialized value, previously obtained using DUMP.",
    since="2.6.0",
    complexity=(
        "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the "
        "number of Redis objects composing the value and M their average size. For small string values the time "
        "complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the "
        "complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N))."
    ),
    syntax="key ttl:integer serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency:integer]",
)
def restore(ctx: Context, argv: list[bytes]) -> bytes:
    replace = absttl = False
    idle = freq = -1
    i = 4
    n = len(argv)
    while i < n:
        opt = argv[i].upper()
        more = n - i - 1
        if opt == b"REPLACE":
            replace = True
        elif opt == b"ABSTTL":
            absttl = True
        elif opt == b"IDLETIME" and more >= 1 and freq == -1:
            i += 1
            idle = parse_int(argv[i])
            if idle < 0:
                raise CommandError(_BAD_IDLETIME)
        elif opt == b"FREQ" and more >= 1 and idle == -1:
            i += 1
            freq = parse_int(argv[i])
            if not 0 <= freq <= 255:
                raise CommandError(_BAD_FREQ)
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    key = argv[1]
    db = ctx.db
    if not replace and db.lookup(key) is not None:
        raise CommandError(_BUSYKEY)
    ttl = parse_int(argv[2])
    if ttl < 0:
        raise CommandError(_BAD_TTL)
    try:
        value = load_payload(argv[3], ctx.config)
    except PayloadError:
        raise CommandError("ERR " + PAYLOAD_WRONG) from None
    except RdbError:
        raise CommandError(_BAD_FORMAT) from None
    deleted = db.delete(key) if replace else False
    now = ctx.keyspace.clock.now_ms()
    if ttl and not absttl:
        ttl += now
    if ttl and ttl <= now:
        if deleted:
            ctx.effects.append([b"DEL", key])
        return encoder.OK
    db.place(key, value, ttl or None)
    if idle >= 0 or freq >= 0:
        ctx.keyspace.evictor.set_access(db, key, idle, freq)
    effect = [b"RESTORE", key, b"%d" % ttl, argv[3]]
    if replace:
        effect.append(b"REPLACE")
    if ttl:
        effect.append(b"ABSTTL")
    ctx.effects.append(effect)
    return encoder.OK
