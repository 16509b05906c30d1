"""INFO: the server's state as Redis lays it out, ``# Section`` headers and CRLF lines.

Monitoring tools and client libraries parse this text, so the section names,
their order, the field names and the line layout follow Redis 7.0 exactly.
Sections come from the server (``ctx.server.info_*``), from the command table
(commandstats) and from the keyspace (keyspace); fields CacheFlow cannot know
are reported with the value Redis shows when the feature is idle.
"""

from collections.abc import Iterable
from itertools import islice
from typing import Any

from cacheflow.commands.context import Context
from cacheflow.commands.table import Flag, command
from cacheflow.resp import encoder

# Every section, in the order Redis prints them.
SECTIONS = (
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "cluster",
    "keyspace",
)
DEFAULT_SECTIONS = frozenset(SECTIONS) - {"commandstats"}
ALL_SECTIONS = frozenset(SECTIONS)
_TITLES = {"cpu": "CPU"}
# How many keys with a TTL avg_ttl looks at per database: an estimate, as Redis's is.
_TTL_SAMPLE = 1000


def requested_sections(args: Iterable[bytes]) -> set[str]:
    """Section names asked for; ``default``, ``all`` and ``everything`` expand."""
    wanted: set[str] = set()
    any_arg = False
    for raw in args:
        any_arg = True
        name = raw.decode("utf-8", "replace").lower()
        if name == "default":
            wanted |= DEFAULT_SECTIONS
        elif name in ("all", "everything"):
            wanted |= ALL_SECTIONS
        elif name in ALL_SECTIONS:
            wanted.add(name)
    return wanted if any_arg else set(DEFAULT_SECTIONS)


def _lines(fields: dict[str, Any]) -> list[str]:
    return [f"{k}:{v}" for k, v in fields.items()]


def _commandstats(ctx: Context) -> list[str]:
    out = []
    for cmd in sorted(ctx.table.all_with_subcommands(), key=lambda c: c.name):
        if not (cmd.calls or cmd.failed_calls or cmd.rejected_calls):
            continue
        usec = cmd.usec
        per_call = usec / cmd.calls if cmd.calls else 0.0
        out.append(
            f"cmdstat_{cmd.name}:calls={cmd.calls},usec={usec},usec_per_call={per_call:.2f},"
            f"rejected_calls={cmd.rejected_calls},failed_calls={cmd.failed_calls}"
        )
    return out


def _errorstats(ctx: Context) -> list[str]:
    return [f"errorstat_{prefix}:count={n}" for prefix, n in sorted(ctx.server.error_stats().items())]


def _keyspace(ctx: Context) -> list[str]:
    out = []
    now = ctx.keyspace.clock.now_ms()
    for db in ctx.keyspace.dbs:
        if not db.data:
            continue
        ttls = [at - now for at in islice(db.expires.values(), _TTL_SAMPLE)]
        live = [t for t in ttls if t > 0]
        avg = sum(live) // len(live) if live else 0
        out.append(f"db{db.index}:keys={len(db.data)},expires={len(db.expires)},avg_ttl={avg}")
    return out


def section_lines(ctx: Context, name: str) -> list[str]:
    server = ctx.server
    if name == "server":
        return _lines(server.info_server())
    if name == "clients":
        return _lines(server.info_clients())
    if name == "memory":
        return _lines(server.info_memory())
    if name == "persistence":
        return _lines(server.info_persistence())
    if name == "stats":
        return _lines(server.info_stats())
    if name == "replication":
        return _lines(server.info_replication())
    if name == "cpu":
        return _lines(server.info_cpu())
    if name == "modules":
        return []
    if name == "commandstats":
        return _commandstats(ctx)
    if name == "errorstats":
        return _errorstats(ctx)
    if name == "cluster":
        return [f"cluster_enabled:{1 if ctx.config.cluster_enabled else 0}"]
    return _keyspace(ctx)


def info_text(ctx: Context, args: Iterable[bytes]) -> bytes:
    """The INFO payload: sections separated by an empty line, every line ending in CRLF."""
    wanted = requested_sections(args)
    blocks = []
    for name in SECTIONS:
        if name in wanted:
            title = _TITLES.get(name, name.capitalize())
            blocks.append("".join(f"{line}\r\n" for line in [f"# {title}", *section_lines(ctx, name)]))
    return "\r\n".join(blocks).encode("utf-8", "surrogateescape")


@command(
    "info",
    -1,
    Flag.LOADING | Flag.STALE,
    categories=("dangerous",),
    group="server",
    summary="Get information and statistics about the server",
    complexity="O(1)",
    syntax="[section [section ...]]",
    tips=("nondeterministic_output", "request_policy:all_shards", "response_policy:special"),
)
def info(ctx: Context, argv: list[bytes]) -> bytes:
    return encoder.verbatim(info_text(ctx, argv[1:]), ctx.proto)
