"""Connection commands: PING, ECHO, SELECT, QUIT, AUTH, HELLO, RESET."""

import hmac

from cacheflow import REDIS_COMPAT_VERSION
from cacheflow.commands import errors
from cacheflow.commands.context import Context
from cacheflow.commands.table import Flag, command
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError

_CONN = ("connection",)
_ALWAYS = Flag.NOSCRIPT | Flag.LOADING | Flag.STALE | Flag.FAST | Flag.NO_AUTH | Flag.ALLOW_BUSY


@command(
    "ping",
    -1,
    Flag.FAST,
    categories=_CONN,
    group="connection",
    summary="Ping the server",
    syntax="[message]",
    tips=("request_policy:all_shards", "response_policy:all_succeeded"),
)
def ping(ctx: Context, argv: list[bytes]) -> bytes:
    if len(argv) > 2:
        raise errors.wrong_arity("ping")
    if len(argv) == 2:
        return encoder.bulk(argv[1])
    return encoder.PONG


@command(
    "echo",
    2,
    Flag.LOADING | Flag.STALE | Flag.FAST,
    categories=_CONN,
    group="connection",
    summary="Echo the given string",
    syntax="message",
)
def echo(ctx: Context, argv: list[bytes]) -> bytes:
    return encoder.bulk(argv[1])


@command(
    "select",
    2,
    Flag.LOADING | Flag.STALE | Flag.FAST,
    categories=_CONN,
    group="connection",
    summary="Change the selected database for the current connection",
    syntax="index",
)
def select(ctx: Context, argv: list[bytes]) -> bytes:
    index = errors.parse_c_int(argv[1])
    if not 0 <= index < len(ctx.keyspace.dbs):
        raise CommandError(errors.DB_INDEX)
    ctx.select(index)
    return encoder.OK


@command("quit", -1, _ALWAYS, categories=_CONN, group="connection", summary="Close the connection")
def quit_(ctx: Context, argv: list[bytes]) -> bytes:
    ctx.close_after_reply = True
    return encoder.OK


def _authenticate(ctx: Context, user: bytes | None, password: bytes) -> None:
    """Check credentials for the default user (ACL users arrive with the ACL issue)."""
    required = ctx.config.requirepass
    if user is not None and user != b"default":
        raise CommandError("WRONGPASS invalid username-password pair or user is disabled.")
    if not required:
        if user is None:
            raise CommandError(
                "ERR AUTH <password> called without any password configured for the default user. "
                "Are you sure your configuration is correct?"
            )
        ctx.authenticated = True
        return
    if not hmac.compare_digest(password, required.encode("utf-8", "surrogateescape")):
        raise CommandError("WRONGPASS invalid username-password pair or user is disabled.")
    ctx.authenticated = True
    ctx.user = "default"


@command(
    "auth",
    -2,
    _ALWAYS,
    categories=_CONN,
    group="connection",
    summary="Authenticate to the server",
    syntax="[username] password",
)
def auth(ctx: Context, argv: list[bytes]) -> bytes:
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    if len(argv) == 2:
        _authenticate(ctx, None, argv[1])
    else:
        _authenticate(ctx, argv[1], argv[2])
    return encoder.OK


@command(
    "hello",
    -1,
    _ALWAYS,
    categories=_CONN,
    group="connection",
    summary="Handshake with Redis",
    since="6.0.0",
    syntax="[protover [AUTH username password] [SETNAME clientname]]",
)
def hello(ctx: Context, argv: list[bytes]) -> bytes:
    proto = ctx.proto
    if len(argv) >= 2:
        try:
            proto = errors.parse_int(argv[1])
        except CommandError:
            raise CommandError("ERR Protocol version is not an integer or out of range") from None
        if proto not in (2, 3):
            raise CommandError("NOPROTO unsupported protocol version")
    credentials: tuple[bytes, bytes] | None = None
    name: bytes | None = None
    i = 2
    while i < len(argv):
        opt = argv[i].upper()
        more = len(argv) - i - 1
        if opt == b"AUTH" and more >= 2:
            credentials = (argv[i + 1], argv[i + 2])
            i += 3
        elif opt == b"SETNAME" and more >= 1:
            name = argv[i + 1]
            validate_client_name(name)
            i += 2
        else:
            raise CommandError(f"ERR Syntax error in HELLO option '{argv[i].decode('utf-8', 'replace')}'")
    if credentials is not None:
        _authenticate(ctx, *credentials)
    if not ctx.authenticated:
        raise CommandError(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
            "HELLO AUTH <user> <pass> option can be used to authenticate the client and "
            "select the RESP protocol version at the same time"
        )
    if name is not None:
        ctx.name = name
    ctx.proto = proto
    return encoder.map_(
        [
            (encoder.bulk(b"server"), encoder.bulk(b"redis")),
            (encoder.bulk(b"version"), encoder.bulk(REDIS_COMPAT_VERSION.encode())),
            (encoder.bulk(b"proto"), encoder.integer(proto)),
            (encoder.bulk(b"id"), encoder.integer(ctx.id)),
            (encoder.bulk(b"mode"), encoder.bulk(b"standalone")),
            (encoder.bulk(b"role"), encoder.bulk(b"master")),
            (encoder.bulk(b"modules"), encoder.EMPTY_ARRAY),
        ],
        proto,
    )


def validate_client_name(name: bytes) -> None:
    """Client names may not contain spaces, newlines or other special characters."""
    if any(c < 33 or c > 126 for c in name):
        raise CommandError("ERR Client names cannot contain spaces, newlines or special characters.")


@command(
    "reset",
    1,
    _ALWAYS,
    categories=_CONN,
    group="connection",
    summary="Reset the connection",
    since="6.2.0",
)
def reset(ctx: Context, argv: list[bytes]) -> bytes:
    ctx.engine.discard_transaction(ctx)
    ctx.select(0)
    ctx.proto = 2
    ctx.reply_mode = 0
    ctx.name = b""
    ctx.no_evict = False
    ctx.no_touch = False
    ctx.authenticated = not ctx.config.requirepass
    ctx.user = "default"
    return encoder.simple(b"RESET")
