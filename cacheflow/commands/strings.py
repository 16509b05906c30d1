"""String commands.  Values are bytes (or bytearray after in-place edits)."""

from cacheflow.commands import errors
from cacheflow.commands.context import Context
from cacheflow.commands.errors import WRONGTYPE, parse_int
from cacheflow.commands.table import Flag, command
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError

W = Flag.WRITE
R = Flag.READONLY
_STR = ("string",)
_NULL2 = encoder.NULL_BULK_RESP2
_OK = encoder.OK
_MAX_MS = 2**63 - 1


def string_value(ctx: Context, key: bytes) -> bytes | bytearray | None:
    """The string at ``key`` (counting a hit or miss), None if missing; WRONGTYPE otherwise."""
    value = ctx.db.lookup_read(key)
    if value is None:
        return None
    cls = value.__class__
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
    value = ctx.db.lookup_read(argv[1])
    if value is None:
        return _NULL2 if ctx.proto == 2 else encoder.NULL_RESP3
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        return b"$%d\r\n%b\r\n" % (len(value), value)  # type: ignore[arg-type]
    raise CommandError(WRONGTYPE)


@command(
    "set",
    -3,
    W | Flag.DENYOOM,
    keys=(1, 1, 1),
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
    nx = xx = get_old = keep_ttl = False
    expire_arg: tuple[bytes, int, bool] | None = None
    i = 3
    n = len(argv)
    while i < n:
        opt = argv[i].upper()
        has_next = i + 1 < n
        if opt == b"NX" and not xx:
            nx = True
        elif opt == b"XX" and not nx:
            xx = True
        elif opt == b"GET":
            get_old = True
        elif opt == b"KEEPTTL" and expire_arg is None:
            keep_ttl = True
        elif opt in (b"EX", b"PX", b"EXAT", b"PXAT") and not keep_ttl and expire_arg is None and has_next:
            i += 1
            expire_arg = (argv[i], 1000 if opt in (b"EX", b"EXAT") else 1, opt.endswith(b"AT"))
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    expire_at = None if expire_arg is None else expire_at_ms(ctx, *expire_arg, "set")
    old: bytes | bytearray | None = string_value(ctx, key) if get_old else db.lookup(key)  # type: ignore[assignment]
    exists = old is not None
    if (nx and exists) or (xx and not exists):
        if get_old:
            return encoder.bulk_or_null(old, ctx.proto)
        return encoder.null(ctx.proto)
    if keep_ttl:
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
