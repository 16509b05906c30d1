"""CLIENT and its subcommands: naming, listing, killing and pausing clients, reply modes.

Other clients are reached only through ``ctx.server`` (clients, kill_client,
pause_clients...).  CLIENT LIST and CLIENT INFO lines carry Redis 7.0's fields
in Redis's order, because tools split them on spaces and ``=``; fields that
describe Redis's own buffers, which CacheFlow does not have, are 0.
"""

from collections.abc import Callable

from cacheflow.commands import errors
from cacheflow.commands.connection import validate_client_name
from cacheflow.commands.context import Context
from cacheflow.commands.introspection import help_reply
from cacheflow.commands.table import TABLE, Flag, Handler
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError

_CONN = ("connection",)
_F = Flag.NOSCRIPT | Flag.LOADING | Flag.STALE
_ADMIN = Flag.ADMIN | _F
_LLONG_MAX = 2**63 - 1
# Client type names CLIENT LIST/KILL accept -> the type CacheFlow records in ctx.kind.
_TYPES = {b"normal": "normal", b"master": "master", b"replica": "replica", b"slave": "replica", b"pubsub": "pubsub"}

TABLE.container(
    "client",
    group="connection",
    summary="A container for client connection commands",
    since="2.4.0",
)


def _sub(
    name: str,
    arity: int,
    flags: Flag,
    summary: str,
    since: str,
    *,
    complexity: str = "O(1)",
    syntax: str = "",
    tips: tuple[str, ...] = (),
) -> Callable[[Handler], Handler]:
    return TABLE.command(
        name,
        arity,
        flags,
        categories=_CONN,
        group="connection",
        summary=summary,
        since=since,
        complexity=complexity,
        syntax=syntax,
        tips=tips,
        parent="client",
    )


def _flags(ctx: Context) -> str:
    """CLIENT LIST ``flags``, in the order Redis prints them."""
    f = ""
    if ctx.kind == "replica":
        f += "S"
    if ctx.kind == "master":
        f += "M"
    if ctx.kind == "pubsub":
        f += "P"
    if ctx.in_multi:
        f += "x"
    if ctx.blocked is not None:
        f += "b"
    if ctx.watch_dirty:
        f += "d"
    if ctx.close_after_reply:
        f += "c"
    f += "".join(c for c in ctx.flags if c not in f)
    if ctx.no_evict:
        f += "e"
    if ctx.no_touch:
        f += "T"
    return f or "N"


def client_line(ctx: Context, client: Context, current: Context | None = None, argv: list[bytes] | None = None) -> str:
    """One CLIENT LIST line (without its newline).

    For the client running the command (``current``), ``cmd`` and ``argv-mem``
    describe that very command, as Redis shows them.
    """
    now = ctx.keyspace.clock.now_ms()
    qbuf, omem = ctx.server.client_buffers(client)
    if client is current and argv is not None:
        name = argv[0].decode("utf-8", "replace").lower()
        cmd = f"{name}|{argv[1].decode('utf-8', 'replace').lower()}" if len(argv) > 1 else name
        argv_mem = sum(len(a) for a in argv)
    else:
        cmd = client.last_command.name if client.last_command is not None else "NULL"
        argv_mem = 0
    multi = len(client.multi_queue) if client.in_multi else -1
    fields = [
        f"id={client.id}",
        f"addr={client.addr}",
        f"laddr={client.laddr}",
        f"fd={client.fd}",
        f"name={client.name.decode('utf-8', 'surrogateescape')}",
        f"age={max(0, now - client.created_ms) // 1000}",
        f"idle={max(0, now - client.last_interaction_ms) // 1000}",
        f"flags={_flags(client)}",
        f"db={client.db.index}",
        "sub=0",
        "psub=0",
        "ssub=0",
        f"multi={multi}",
        f"qbuf={qbuf}",
        "qbuf-free=0",
        f"argv-mem={argv_mem}",
        "multi-mem=0",
        "rbs=0",
        "rbp=0",
        "obl=0",
        "oll=0",
        f"omem={omem}",
        f"tot-mem={qbuf + omem + argv_mem}",
        "events=r" + ("w" if omem else ""),
        f"cmd={cmd}",
        f"user={client.user}",
        "redir=-1",
        f"resp={client.proto}",
        # Redis 7.2 appends these two for CLIENT SETINFO; parsers keyed on names are unaffected.
        f"lib-name={client.lib_name.decode('utf-8', 'surrogateescape')}",
        f"lib-ver={client.lib_ver.decode('utf-8', 'surrogateescape')}",
    ]
    return " ".join(fields)


@_sub("id", 2, _F, "Returns the client ID for the current connection", "5.0.0")
def client_id(ctx: Context, argv: list[bytes]) -> bytes:
    return encoder.integer(ctx.id)


@_sub("setname", 3, _F, "Set the current connection name", "2.6.9", syntax="connection-name")
def client_setname(ctx: Context, argv: list[bytes]) -> bytes:
    validate_client_name(argv[2])
    ctx.name = argv[2]
    return encoder.OK


@_sub("getname", 2, _F, "Get the current connection name", "2.6.9")
def client_getname(ctx: Context, argv: list[bytes]) -> bytes:
    return encoder.bulk_or_null(ctx.name or None, ctx.proto)


@_sub(
    "list",
    -2,
    _ADMIN,
    "Get the list of client connections",
    "2.4.0",
    complexity="O(N) where N is the number of client connections",
    syntax="[TYPE <NORMAL|MASTER|REPLICA|PUBSUB>] [ID client-id [client-id ...]]",
    tips=("nondeterministic_output",),
)
def client_list(ctx: Context, argv: list[bytes]) -> bytes:
    if len(argv) == 4 and argv[2].lower() == b"type":
        kind = _TYPES.get(argv[3].lower())
        if kind is None:
            raise CommandError(f"ERR Unknown client type '{argv[3].decode('utf-8', 'replace')}'")
        clients = [c for c in ctx.server.clients() if c.kind == kind]
    elif len(argv) > 3 and argv[2].lower() == b"id":
        ids = [errors.parse_int(raw, "ERR Invalid client ID") for raw in argv[3:]]
        found = (ctx.server.client_by_id(i) for i in ids)
        clients = [c for c in found if c is not None]
    elif len(argv) == 2:
        clients = ctx.server.clients()
    else:
        raise CommandError(errors.SYNTAX)
    text = "".join(client_line(ctx, c, ctx, argv) + "\n" for c in clients)
    return encoder.verbatim(text.encode("utf-8", "surrogateescape"), ctx.proto)


@_sub(
    "info",
    2,
    _F,
    "Returns information about the current client connection.",
    "6.2.0",
    tips=("nondeterministic_output",),
)
def client_info(ctx: Context, argv: list[bytes]) -> bytes:
    text = client_line(ctx, ctx, ctx, argv) + "\n"
    return encoder.verbatim(text.encode("utf-8", "surrogateescape"), ctx.proto)


def _parse_kill_filters(ctx: Context, argv: list[bytes]) -> list[Context]:
    """The clients CLIENT KILL's filter form selects (validating every filter first)."""
    client_id: int | None = None
    kind: str | None = None
    addr: bytes | None = None
    laddr: bytes | None = None
    user: bytes | None = None
    maxage: int | None = None
    skipme = True
    i = 2
    while i < len(argv):
        opt = argv[i].lower()
        if i + 1 >= len(argv):
            raise CommandError(errors.SYNTAX)
        value = argv[i + 1]
        if opt == b"id":
            client_id = errors.parse_int(value, "ERR client-id should be greater than 0")
            if client_id < 1:
                raise CommandError("ERR client-id should be greater than 0")
        elif opt == b"type":
            kind = _TYPES.get(value.lower())
            if kind is None:
                raise CommandError(f"ERR Unknown client type '{value.decode('utf-8', 'replace')}'")
        elif opt == b"addr":
            addr = value
        elif opt == b"laddr":
            laddr = value
        elif opt == b"user":
            if value != b"default":  # the only user until ACLs land
                raise CommandError(f"ERR No such user '{value.decode('utf-8', 'replace')}'")
            user = value
        elif opt == b"skipme":
            if value.lower() == b"yes":
                skipme = True
            elif value.lower() == b"no":
                skipme = False
            else:
                raise CommandError(errors.SYNTAX)
        elif opt == b"maxage":
            maxage = errors.parse_int(value, "ERR maxage is not an integer or out of range")
            if maxage <= 0:
                raise CommandError("ERR maxage should be greater than 0")
        else:
            raise CommandError(errors.SYNTAX)
        i += 2
    now = ctx.keyspace.clock.now_ms()
    chosen = []
    for c in ctx.server.clients():
        if client_id is not None and c.id != client_id:
            continue
        if kind is not None and c.kind != kind:
            continue
        if addr is not None and c.addr.encode() != addr:
            continue
        if laddr is not None and c.laddr.encode() != laddr:
            continue
        if user is not None and c.user.encode() != user:
            continue
        if maxage is not None and (now - c.created_ms) // 1000 <= maxage:
            continue
        if skipme and c is ctx:
            continue
        chosen.append(c)
    return chosen


def _kill(ctx: Context, victims: list[Context]) -> None:
    for c in victims:
        if c is ctx:
            ctx.close_after_reply = True  # the reply goes out first, then the connection closes
        else:
            ctx.server.kill_client(c)


@_sub(
    "kill",
    -3,
    _ADMIN,
    "Kill the connection of a client",
    "2.4.0",
    complexity="O(N) where N is the number of client connections",
    syntax=(
        "ip:port|[ID client-id] [TYPE <NORMAL|MASTER|SLAVE|REPLICA|PUBSUB>] [USER username] "
        "[ADDR ip:port] [LADDR ip:port] [SKIPME yes/no] [MAXAGE maxage:integer]"
    ),
)
def client_kill(ctx: Context, argv: list[bytes]) -> bytes:
    if len(argv) == 3:  # the old form: CLIENT KILL ip:port, which may kill the caller
        victims = [c for c in ctx.server.clients() if c.addr.encode() == argv[2]]
        if not victims:
            raise CommandError("ERR No such client")
        _kill(ctx, victims[:1])
        return encoder.OK
    victims = _parse_kill_filters(ctx, argv)
    _kill(ctx, victims)
    return encoder.integer(len(victims))


@_sub(
    "setinfo",
    4,
    _F,
    "Set client or connection specific info",
    "7.2.0",
    syntax="<LIB-NAME libname|LIB-VER libver>",
)
def client_setinfo(ctx: Context, argv: list[bytes]) -> bytes:
    attr = argv[2].lower()
    value = argv[3]
    if attr not in (b"lib-name", b"lib-ver"):
        raise CommandError(f"ERR Unrecognized option '{argv[2].decode('utf-8', 'replace')}'")
    if any(c < 33 or c > 126 for c in value):
        raise CommandError(
            f"ERR {argv[2].decode('utf-8', 'replace')} cannot contain spaces, newlines or special characters."
        )
    if attr == b"lib-name":
        ctx.lib_name = value
    else:
        ctx.lib_ver = value
    return encoder.OK


def _on_off(raw: bytes) -> bool:
    low = raw.lower()
    if low == b"on":
        return True
    if low == b"off":
        return False
    raise CommandError(errors.SYNTAX)


@_sub("no-evict", 3, _ADMIN, "Set client eviction mode for the current connection", "7.0.0", syntax="ON|OFF")
def client_no_evict(ctx: Context, argv: list[bytes]) -> bytes:
    ctx.no_evict = _on_off(argv[2])
    return encoder.OK


@_sub(
    "no-touch",
    3,
    _F,
    "Controls whether commands sent by the client will alter the LRU/LFU of the keys they access.",
    "7.2.0",
    syntax="ON|OFF",
)
def client_no_touch(ctx: Context, argv: list[bytes]) -> bytes:
    ctx.no_touch = _on_off(argv[2])
    return encoder.OK


@_sub(
    "pause",
    -3,
    _ADMIN,
    "Stop processing commands from clients for some time",
    "2.9.50",
    syntax="timeout [WRITE|ALL]",
)
def client_pause(ctx: Context, argv: list[bytes]) -> bytes:
    if len(argv) > 4:
        raise CommandError(
            f"ERR unknown subcommand or wrong number of arguments for '{argv[1].decode('utf-8', 'replace')}'. "
            "Try CLIENT HELP."
        )
    writes_only = False
    if len(argv) == 4:
        mode = argv[3].lower()
        if mode == b"write":
            writes_only = True
        elif mode != b"all":
            raise CommandError("ERR CLIENT PAUSE mode must be WRITE or ALL")
    timeout = errors.parse_int(argv[2], "ERR timeout is not an integer or out of range")
    if timeout < 0:
        raise CommandError("ERR timeout is negative")
    end = ctx.keyspace.clock.now_ms() + timeout
    if timeout > 0 and end <= _LLONG_MAX:  # Redis's end time wraps past LLONG_MAX, which pauses nothing
        ctx.server.pause_clients(end, writes_only)
    return encoder.OK


@_sub(
    "unpause",
    2,
    _ADMIN,
    "Resume processing of clients that were paused",
    "6.2.0",
    complexity="O(N) Where N is the number of paused clients",
)
def client_unpause(ctx: Context, argv: list[bytes]) -> bytes:
    ctx.server.unpause_clients()
    return encoder.OK


@_sub(
    "unblock",
    -3,
    _ADMIN,
    "Unblock a client blocked in a blocking command from a different connection",
    "5.0.0",
    complexity="O(log N) where N is the number of client connections",
    syntax="client-id [TIMEOUT|ERROR]",
)
def client_unblock(ctx: Context, argv: list[bytes]) -> bytes:
    """As Redis: the reason is checked before the id, and an unknown or unblocked id answers 0."""
    if len(argv) > 4:
        raise CommandError(
            f"ERR unknown subcommand or wrong number of arguments for '{argv[1].decode('utf-8', 'replace')}'. "
            "Try CLIENT HELP."
        )
    error = False
    if len(argv) == 4:
        reason = argv[3].lower()
        if reason == b"error":
            error = True
        elif reason != b"timeout":
            raise CommandError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    target = ctx.server.client_by_id(errors.parse_int(argv[2]))
    if target is None or target.blocked is None:
        return encoder.ZERO
    return encoder.ONE if ctx.engine.unblock(target, error) else encoder.ZERO


@_sub("reply", 3, _F, "Instruct the server whether to reply to commands", "3.2.0", syntax="ON|OFF|SKIP")
def client_reply(ctx: Context, argv: list[bytes]) -> bytes:
    mode = argv[2].lower()
    if mode == b"on":
        ctx.reply_mode = 0
    elif mode == b"off":
        ctx.reply_mode = 1  # this reply is dropped too
    elif mode == b"skip":
        ctx.reply_mode = 2  # drop this reply and the next one
    else:
        raise CommandError(errors.SYNTAX)
    return encoder.OK


_HELP = (
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "    * MAXAGE <maxage>",
    "      Kill connections older than the specified age.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "    * ID <client-id> [<client-id> ...]",
    "      Return clients of specified IDs only.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
)


@_sub("help", 2, Flag.LOADING | Flag.STALE, "Show helpful text about the different subcommands", "5.0.0")
def client_help(ctx: Context, argv: list[bytes]) -> bytes:
    return help_reply(argv[0], _HELP)
