"""Server commands: TIME, SAVE, BGSAVE, LASTSAVE, SHUTDOWN, and MEMORY USAGE / HELP.

The work outside the keyspace (the clock, shutting down) goes through
``ctx.server``; MEMORY USAGE's estimate comes from ``store.memory``, whose
docstring describes the model.
"""

from typing import Any

from cacheflow.commands import errors
from cacheflow.commands.context import Context
from cacheflow.commands.introspection import help_reply
from cacheflow.commands.table import TABLE, Flag, command
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError
from cacheflow.store.memory import key_usage

_LLONG_MAX = 2**63 - 1
_DEFAULT_SAMPLES = 5


@command(
    "time",
    1,
    Flag.LOADING | Flag.STALE | Flag.FAST,
    group="server",
    summary="Return the current server time",
    since="2.6.0",
    tips=("nondeterministic_output",),
)
def time_(ctx: Context, argv: list[bytes]) -> bytes:
    now = ctx.server.now_us()
    return encoder.bulk_array([b"%d" % (now // 1_000_000), b"%d" % (now % 1_000_000)], ctx.proto)


@command(
    "lastsave",
    1,
    Flag.LOADING | Flag.STALE | Flag.FAST,
    categories=("admin", "dangerous"),
    group="server",
    summary="Get the UNIX time stamp of the last successful save to disk",
    tips=("nondeterministic_output",),
)
def lastsave(ctx: Context, argv: list[bytes]) -> bytes:
    return encoder.integer(ctx.server.last_save())


@command(
    "save",
    1,
    Flag.ADMIN | Flag.NOSCRIPT | Flag.NO_ASYNC_LOADING | Flag.NO_MULTI,
    categories=("admin", "dangerous"),
    group="server",
    summary="Synchronously save the dataset to disk",
    complexity="O(N) where N is the total number of keys in all databases",
)
def save(ctx: Context, argv: list[bytes]) -> bytes:
    """The work (the snapshot file) is the server's: persistence/snapshots.py."""
    ctx.server.save()
    return encoder.OK


@command(
    "bgsave",
    -1,
    Flag.ADMIN | Flag.NOSCRIPT | Flag.NO_ASYNC_LOADING,
    categories=("admin", "dangerous"),
    group="server",
    summary="Asynchronously save the dataset to disk",
    syntax="[SCHEDULE]",
)
def bgsave(ctx: Context, argv: list[bytes]) -> bytes:
    """Forks the snapshot child (persistence/snapshots.py); inside EXEC it is only scheduled, as in Redis."""
    schedule = False
    if len(argv) > 1:
        if len(argv) == 2 and argv[1].lower() == b"schedule":
            schedule = True
        else:
            raise CommandError(errors.SYNTAX)
    return encoder.simple(ctx.server.bgsave(schedule, ctx.deny_blocking))


@command(
    "shutdown",
    -1,
    Flag.ADMIN | Flag.NOSCRIPT | Flag.LOADING | Flag.STALE | Flag.NO_MULTI | Flag.ALLOW_BUSY,
    group="server",
    summary="Synchronously save the dataset to disk and then shut down the server",
    complexity=(
        "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)"
    ),
    syntax="[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]",
)
def shutdown(ctx: Context, argv: list[bytes]) -> bytes:
    nosave = save = now = force = abort = False
    for raw in argv[1:]:
        opt = raw.lower()
        if opt == b"nosave":
            nosave = True
        elif opt == b"save":
            save = True
        elif opt == b"now":
            now = True
        elif opt == b"force":
            force = True
        elif opt == b"abort":
            abort = True
        else:
            raise CommandError(errors.SYNTAX)
    if (abort and (nosave or save or now or force)) or (nosave and save):
        raise CommandError(errors.SYNTAX)
    if abort:
        # A CacheFlow shutdown never waits (no replicas to catch up, no save to finish).
        raise CommandError("ERR No shutdown in progress.")
    failure = ctx.server.request_shutdown(True if save else (False if nosave else None), now, force)
    if failure is not None:
        raise CommandError(failure)
    ctx.close_after_reply = True  # no reply: the connection closes as the server exits
    return b""


TABLE.container("memory", summary="A container for memory diagnostics commands", since="4.0.0")


@command(
    "usage",
    -3,
    Flag.READONLY,
    keys=(2, 2, 1),
    group="server",
    summary="Estimate the memory usage of a key",
    since="4.0.0",
    complexity="O(N) where N is the number of samples.",
    syntax="key [SAMPLES count]",
    key_flags=("RO",),
    parent="memory",
)
def memory_usage(ctx: Context, argv: list[bytes]) -> bytes:
    samples = _DEFAULT_SAMPLES
    i = 3
    while i < len(argv):
        if argv[i].lower() == b"samples" and i + 1 < len(argv):
            samples = errors.parse_int(argv[i + 1])
            if samples < 0:
                raise CommandError(errors.SYNTAX)
            if samples == 0:
                samples = _LLONG_MAX
            i += 2
        else:
            raise CommandError(errors.SYNTAX)
    key = argv[2]
    value = ctx.db.lookup(key)
    if value is None:
        return encoder.null(ctx.proto)
    return encoder.integer(key_usage(key, value, ctx.db.expire_time(key), samples))


_MEMORY_HELP = (
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
)


def _stats_reply(pairs: list[tuple[str, Any]], proto: int) -> bytes:
    items: list[tuple[bytes, bytes]] = []
    for name, value in pairs:
        if isinstance(value, list):
            encoded = _stats_reply(value, proto)
        elif isinstance(value, float):
            encoded = encoder.double(value, proto)
        else:
            encoded = encoder.integer(value)
        items.append((encoder.bulk(name.encode()), encoded))
    return encoder.map_(items, proto)


@command(
    "stats",
    2,
    Flag(0),
    group="server",
    summary="Show memory usage details",
    since="4.0.0",
    parent="memory",
    tips=("nondeterministic_output", "request_policy:all_shards", "response_policy:special"),
)
def memory_stats(ctx: Context, argv: list[bytes]) -> bytes:
    return _stats_reply(ctx.server.memory_stats(), ctx.proto)


# Redis's reply when its allocator has no statistics report (a libc malloc build); pymalloc has
# none we can read (sys._debugmallocstats writes to stderr).
_NO_MALLOC_STATS = b"Stats not supported for the current allocator"


@command(
    "malloc-stats",
    2,
    Flag(0),
    group="server",
    summary="Show allocator internal stats",
    since="4.0.0",
    complexity="Depends on how much memory is allocated, could be slow",
    parent="memory",
    tips=("nondeterministic_output", "request_policy:all_shards", "response_policy:special"),
)
def memory_malloc_stats(ctx: Context, argv: list[bytes]) -> bytes:
    return encoder.verbatim(_NO_MALLOC_STATS, ctx.proto)


@command(
    "purge",
    2,
    Flag(0),
    group="server",
    summary="Ask the allocator to release memory",
    since="4.0.0",
    complexity="Depends on how much memory is allocated, could be slow",
    parent="memory",
    tips=("request_policy:all_shards", "response_policy:all_succeeded"),
)
def memory_purge(ctx: Context, argv: list[bytes]) -> bytes:
    ctx.server.purge_memory()
    return encoder.OK


_DOCTOR_EMPTY = (
    "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in "
    "these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and "
    "I will be back to our programming as soon as I finished rebooting.\n"
)
_DOCTOR_FINE = (
    "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
)


@command(
    "doctor",
    2,
    Flag(0),
    group="server",
    summary="Outputs memory problems report",
    since="4.0.0",
    parent="memory",
    tips=("nondeterministic_output", "request_policy:all_shards", "response_policy:special"),
)
def memory_doctor(ctx: Context, argv: list[bytes]) -> bytes:
    """Redis's checks that mean something here: an empty instance, a peak far above use, maxmemory nearly reached."""
    stats = dict(ctx.server.memory_stats())
    used = int(stats["total.allocated"])
    if used < 5 * 1024 * 1024:
        return encoder.verbatim(_DOCTOR_EMPTY.encode(), ctx.proto)
    problems = []
    if stats["peak.allocated"] > used * 3 // 2:
        problems.append(
            " * Peak memory: In the past this instance used more than 150% the memory that is currently "
            "using. The allocator is normally not able to release memory after a peak, so you can expect "
            "to see a big fragmentation ratio."
        )
    maxmemory = ctx.config.maxmemory
    if maxmemory and used > maxmemory * 9 // 10 and ctx.config.maxmemory_policy == "noeviction":
        problems.append(
            " * Memory limit: used memory is above 90% of maxmemory under the noeviction policy: writes "
            "will soon be refused with OOM. Consider an eviction policy or a higher maxmemory."
        )
    if not problems:
        return encoder.verbatim(_DOCTOR_FINE.encode(), ctx.proto)
    text = (
        "Sam, I detected a few issues in this instance memory implementation:\n\n"
        + "".join(p + "\n\n" for p in problems)
        + "I'm here to keep you safe, Sam. I want to help you.\n"
    )
    return encoder.verbatim(text.encode(), ctx.proto)


@command(
    "help",
    2,
    Flag.LOADING | Flag.STALE,
    group="server",
    summary="Show helpful text about the different subcommands",
    since="4.0.0",
    parent="memory",
)
def memory_help(ctx: Context, argv: list[bytes]) -> bytes:
    return help_reply(argv[0], _MEMORY_HELP)


@command(
    "bgrewriteaof",
    1,
    Flag.ADMIN | Flag.NOSCRIPT | Flag.NO_ASYNC_LOADING,
    categories=("admin", "dangerous"),
    group="server",
    summary="Asynchronously rewrite the append-only file",
)
def bgrewriteaof(ctx: Context, argv: list[bytes]) -> bytes:
    """The work (forking the rewrite child) is the server's: persistence/service.py."""
    return encoder.simple(ctx.server.bgrewriteaof())
