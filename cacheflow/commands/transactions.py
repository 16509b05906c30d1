"""MULTI, EXEC, DISCARD, WATCH, UNWATCH.  Queueing itself happens in the engine's gate."""

from cacheflow.commands.context import Context
from cacheflow.commands.table import Flag, command
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError

_TX = ("transaction",)
_F = Flag.NOSCRIPT | Flag.LOADING | Flag.STALE | Flag.FAST | Flag.ALLOW_BUSY


@command("multi", 1, _F, categories=_TX, group="transactions", summary="Start a transaction", since="1.2.0")
def multi(ctx: Context, argv: list[bytes]) -> bytes:
    if ctx.in_multi:
        raise CommandError("ERR MULTI calls can not be nested")
    ctx.in_multi = True
    return encoder.OK


@command(
    "exec",
    1,
    Flag.NOSCRIPT | Flag.LOADING | Flag.STALE | Flag.SKIP_SLOWLOG,
    categories=_TX,
    group="transactions",
    summary="Execute all commands issued after MULTI",
    since="1.2.0",
    complexity="Depends on commands in the transaction",
)
def exec_(ctx: Context, argv: list[bytes]) -> bytes:
    if not ctx.in_multi:
        raise CommandError("ERR EXEC without MULTI")
    return ctx.engine.exec_transaction(ctx)


@command(
    "discard",
    1,
    _F,
    categories=_TX,
    group="transactions",
    summary="Discard all commands issued after MULTI",
    since="2.0.0",
    complexity="O(N), when N is the number of queued commands",
)
def discard(ctx: Context, argv: list[bytes]) -> bytes:
    if not ctx.in_multi:
        raise CommandError("ERR DISCARD without MULTI")
    ctx.engine.discard_transaction(ctx)
    return encoder.OK


@command(
    "watch",
    -2,
    _F,
    keys=(1, -1, 1),
    categories=_TX,
    group="transactions",
    summary="Monitor changes to keys to determine execution of the MULTI/EXEC block",
    since="2.2.0",
    complexity="O(1) for every key.",
    syntax="key [key ...]",
)
def watch(ctx: Context, argv: list[bytes]) -> bytes:
    if ctx.in_multi:
        raise CommandError("ERR WATCH inside MULTI is not allowed")
    for key in argv[1:]:
        ctx.engine.watch(ctx, key)
    return encoder.OK


@command("unwatch", 1, _F, categories=_TX, group="transactions", summary="Forget about all watched keys", since="2.2.0")
def unwatch(ctx: Context, argv: list[bytes]) -> bytes:
    ctx.engine.unwatch_all(ctx)
    return encoder.OK
