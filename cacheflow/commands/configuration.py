"""CONFIG GET, SET, RESETSTAT, REWRITE and HELP.

The parameters themselves are declared in ``config.schema``; these handlers
validate and look up through it.  CONFIG SET is atomic as in Redis 7: every
pair is validated before anything changes, and when the server cannot put the
new values into effect (a port already taken...) the old values come back.
"""

import ipaddress
import logging
from typing import Any

from cacheflow.commands import errors
from cacheflow.commands.context import Context
from cacheflow.commands.introspection import help_reply
from cacheflow.commands.table import TABLE, Flag
from cacheflow.config.schema import PARAMS_BY_NAME, ConfigError
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError

log = logging.getLogger("cacheflow")

_ADMIN = Flag.ADMIN | Flag.NOSCRIPT | Flag.LOADING | Flag.STALE

TABLE.container("config", summary="A container for server configuration commands", since="2.0.0")


def is_local_client(ctx: Context) -> bool:
    """A loopback TCP client (or a Unix socket one), as Redis's islocalClient decides."""
    host = ctx.addr.rsplit(":", 1)[0].strip("[]")
    if not host or ctx.addr.startswith("/"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@TABLE.command(
    "get",
    -3,
    _ADMIN,
    group="server",
    summary="Get the values of configuration parameters",
    since="2.0.0",
    complexity="O(N) when N is the number of configuration parameters provided",
    syntax="parameter [parameter ...]",
    parent="config",
)
def config_get(ctx: Context, argv: list[bytes]) -> bytes:
    seen: set[str] = set()
    pairs: list[tuple[bytes, bytes]] = []
    for pattern in argv[2:]:
        for name, value in ctx.config.matching(pattern):
            if name.lower() in seen:
                continue
            seen.add(name.lower())
            pairs.append(
                (
                    encoder.bulk(name.encode("utf-8", "surrogateescape")),
                    encoder.bulk(value.encode("utf-8", "surrogateescape")),
                )
            )
    return encoder.map_(pairs, ctx.proto)


@TABLE.command(
    "set",
    -4,
    _ADMIN,
    group="server",
    summary="Set configuration parameters to the given values",
    since="2.0.0",
    complexity="O(N) when N is the number of configuration parameters provided",
    syntax="parameter value [parameter value ...]",
    tips=("request_policy:all_nodes", "response_policy:all_succeeded"),
    parent="config",
)
def config_set(ctx: Context, argv: list[bytes]) -> bytes:
    if len(argv) % 2:
        raise CommandError(errors.SYNTAX)
    pairs = [(argv[i], argv[i + 1]) for i in range(2, len(argv), 2)]
    config = ctx.config
    try:
        parsed = config.set_many(pairs, local_client=is_local_client(ctx))
    except ConfigError as e:
        raise CommandError(f"ERR {e}") from None
    explicit = set(config.explicit)
    previous = config.apply(parsed)
    try:
        ctx.server.apply_config(parsed)
    except ConfigError as e:
        name = e.param or next(iter(parsed))
        log.warning(
            "Failed applying new configuration. Possibly related to new %s setting. Restoring previous settings.", name
        )
        _roll_back(ctx, previous, explicit)
        raise CommandError(f"ERR CONFIG SET failed (possibly related to argument '{name}') - {e}") from None
    for name, value in parsed.items():
        param = PARAMS_BY_NAME[name]
        if param.inert and value != previous[name]:
            log.warning("CONFIG SET %s: accepted for compatibility but has no effect in CacheFlow yet.", name)
    return encoder.OK


def _roll_back(ctx: Context, previous: dict[str, Any], explicit: set[str]) -> None:
    """Put the old values back and make them take effect again, as Redis's restore step does."""
    ctx.config.apply(previous)
    ctx.config.explicit = explicit
    try:
        ctx.server.apply_config(previous)
    except ConfigError:
        log.warning("Failed applying restored configuration values after a failed CONFIG SET")


@TABLE.command(
    "resetstat",
    2,
    _ADMIN,
    group="server",
    summary="Reset the stats returned by INFO",
    since="2.0.0",
    parent="config",
)
def config_resetstat(ctx: Context, argv: list[bytes]) -> bytes:
    ctx.server.reset_stats()
    return encoder.OK


@TABLE.command(
    "rewrite",
    2,
    _ADMIN,
    group="server",
    summary="Rewrite the configuration file with the in memory configuration",
    since="2.8.0",
    parent="config",
)
def config_rewrite(ctx: Context, argv: list[bytes]) -> bytes:
    if not ctx.config.config_file:
        raise CommandError("ERR The server is running without a config file")
    try:
        ctx.server.rewrite_config()
    except OSError as e:
        log.warning("CONFIG REWRITE failed: %s", e.strerror or e)
        raise CommandError(f"ERR Rewriting config file: {e.strerror or e}") from None
    return encoder.OK


_HELP = (
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
)


@TABLE.command(
    "help",
    2,
    Flag.LOADING | Flag.STALE,
    group="server",
    summary="Show helpful text about the different subcommands",
    since="5.0.0",
    parent="config",
)
def config_help(ctx: Context, argv: list[bytes]) -> bytes:
    return help_reply(argv[0], _HELP)
