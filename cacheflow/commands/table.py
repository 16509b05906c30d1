"""The command table: every command is declared exactly once, here-by-decorator.

A declaration carries the name, arity (negative: at least N), flags, key
positions, ACL categories, documentation and the handler.  Dispatch, arity
checks, COMMAND INFO/DOCS/COUNT/LIST/GETKEYS, WATCH invalidation, the README's
command table and the CLI's completion are all derived from it; there is no
second list anywhere.
"""

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cacheflow.commands.context import Context

Handler = Callable[["Context", list[bytes]], bytes]
KeysFn = Callable[[list[bytes]], list[int]]
# (db index the effect ran in, effect argv) -> [(db index, key)] it modified; key None means every key
# of that database, and db index ALL_DATABASES means every database.
ALL_DATABASES = -1
TouchesFn = Callable[[int, list[bytes]], list[tuple[int, bytes | None]]]


class Flag(enum.IntFlag):
    WRITE = enum.auto()
    READONLY = enum.auto()
    DENYOOM = enum.auto()
    ADMIN = enum.auto()
    PUBSUB = enum.auto()
    NOSCRIPT = enum.auto()
    BLOCKING = enum.auto()
    LOADING = enum.auto()
    STALE = enum.auto()
    SKIP_MONITOR = enum.auto()
    SKIP_SLOWLOG = enum.auto()
    FAST = enum.auto()
    NO_AUTH = enum.auto()
    MAY_REPLICATE = enum.auto()
    NO_MULTI = enum.auto()
    ALLOW_BUSY = enum.auto()


NO_FLAGS = Flag(0)

# Wire names of the flags, in the order Redis lists them in COMMAND INFO.
FLAG_NAMES: tuple[tuple[Flag, bytes], ...] = (
    (Flag.WRITE, b"write"),
    (Flag.READONLY, b"readonly"),
    (Flag.DENYOOM, b"denyoom"),
    (Flag.ADMIN, b"admin"),
    (Flag.PUBSUB, b"pubsub"),
    (Flag.NOSCRIPT, b"noscript"),
    (Flag.BLOCKING, b"blocking"),
    (Flag.LOADING, b"loading"),
    (Flag.STALE, b"stale"),
    (Flag.SKIP_MONITOR, b"skip_monitor"),
    (Flag.SKIP_SLOWLOG, b"skip_slowlog"),
    (Flag.FAST, b"fast"),
    (Flag.NO_AUTH, b"no_auth"),
    (Flag.MAY_REPLICATE, b"may_replicate"),
    (Flag.NO_MULTI, b"no_multi"),
    (Flag.ALLOW_BUSY, b"allow_busy"),
)

# Commands that run immediately even inside MULTI.
MULTI_IMMEDIATE = frozenset({"exec", "discard", "multi", "watch", "quit", "reset"})


@dataclass(eq=False, slots=True)
class Command:
    name: str  # lower case; "parent|sub" for subcommands
    handler: Handler
    arity: int
    flags: Flag
    first_key: int = 0
    last_key: int = 0
    step: int = 0
    keys_fn: KeysFn | None = None
    touches: TouchesFn | None = None
    categories: tuple[str, ...] = ()
    group: str = "generic"
    summary: str = ""
    since: str = "1.0.0"
    complexity: str = "O(1)"
    syntax: str = ""
    # Redis's command tips (COMMAND INFO), e.g. "nondeterministic_output", "request_policy:all_shards".
    tips: tuple[str, ...] = ()
    # Key-spec flags (COMMAND INFO), e.g. ("RW", "access", "update"); derived from the flags when empty.
    key_flags: tuple[str, ...] = ()
    subcommands: dict[str, "Command"] = field(default_factory=dict)
    parent: "Command | None" = None
    # Statistics for INFO commandstats: plain ints, reset by CONFIG RESETSTAT.
    calls: int = 0
    nsec: int = 0  # time in handlers; sampled for FAST commands (see Engine.call)
    timing_mask: int = 0  # 15 for FAST or O(1) commands: time one call in 16 (Engine.call)
    rejected_calls: int = 0
    failed_calls: int = 0

    @property
    def usec(self) -> int:
        return self.nsec // 1000

    @property
    def is_write(self) -> bool:
        """Writes are what persistence, replication and replica refusal act on."""
        return bool(self.flags & Flag.WRITE)

    def acl_categories(self) -> list[str]:
        """ACL categories derived from flags plus the declared ones, as Redis derives them."""
        cats = list(self.categories)
        f = self.flags
        if f & Flag.WRITE:
            cats.append("write")
        if f & Flag.READONLY and "scripting" not in cats:
            cats.append("read")
        if f & Flag.ADMIN:
            cats += ["admin", "dangerous"]
        if f & Flag.PUBSUB:
            cats.append("pubsub")
        if f & Flag.FAST:
            cats.append("fast")
        if f & Flag.BLOCKING:
            cats.append("blocking")
        if not f & Flag.FAST:
            cats.append("slow")
        seen: dict[str, None] = {}
        for c in cats:
            seen.setdefault(c, None)
        return list(seen)

    def key_positions(self, argv: list[bytes]) -> list[int]:
        """Indexes of the keys in ``argv`` (which must satisfy the arity)."""
        if self.keys_fn is not None:
            return self.keys_fn(argv)
        if self.first_key == 0:
            return []
        last = self.last_key if self.last_key >= 0 else len(argv) + self.last_key
        return list(range(self.first_key, min(last, len(argv) - 1) + 1, self.step))

    def keys(self, argv: list[bytes]) -> list[bytes]:
        return [argv[i] for i in self.key_positions(argv)]

    def reset_stats(self) -> None:
        self.calls = self.nsec = self.rejected_calls = self.failed_calls = 0
        for sub in self.subcommands.values():
            sub.reset_stats()


class CommandTable:
    """Commands by lower-case name."""

    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}

    def add(self, cmd: Command) -> Command:
        cmd.timing_mask = 15 if cmd.flags & Flag.FAST or cmd.complexity == "O(1)" else 0
        if cmd.parent is not None:
            cmd.parent.subcommands[cmd.name.split("|", 1)[1]] = cmd
        else:
            if cmd.name in self.commands:
                raise ValueError(f"command {cmd.name} declared twice")
            self.commands[cmd.name] = cmd
        return cmd

    def get(self, name: str) -> Command | None:
        return self.commands.get(name)

    def __iter__(self) -> Iterator[Command]:
        return iter(self.commands.values())

    def __len__(self) -> int:
        return len(self.commands)

    def all_with_subcommands(self) -> Iterator[Command]:
        for cmd in self.commands.values():
            yield cmd
            yield from cmd.subcommands.values()

    def command(
        self,
        name: str,
        arity: int,
        flags: Flag = NO_FLAGS,
        *,
        keys: tuple[int, int, int] = (0, 0, 0),
        keys_fn: KeysFn | None = None,
        touches: TouchesFn | None = None,
        categories: tuple[str, ...] = (),
        group: str = "generic",
        summary: str = "",
        since: str = "1.0.0",
        complexity: str = "O(1)",
        syntax: str = "",
        tips: tuple[str, ...] = (),
        key_flags: tuple[str, ...] = (),
        parent: str | None = None,
    ) -> Callable[[Handler], Handler]:
        """Decorator declaring a command (or, with ``parent``, a subcommand)."""

        def register(handler: Handler) -> Handler:
            parent_cmd = self.commands[parent] if parent else None
            full = f"{parent}|{name}" if parent else name
            self.add(
                Command(
                    name=full,
                    handler=handler,
                    arity=arity,
                    flags=flags,
                    first_key=keys[0],
                    last_key=keys[1],
                    step=keys[2],
                    keys_fn=keys_fn,
                    touches=touches,
                    categories=categories,
                    group=group,
                    summary=summary,
                    since=since,
                    complexity=complexity,
                    syntax=syntax,
                    tips=tips,
                    key_flags=key_flags,
                    parent=parent_cmd,
                )
            )
            return handler

        return register

    def container(
        self,
        name: str,
        flags: Flag = NO_FLAGS,
        *,
        arity: int = -2,
        categories: tuple[str, ...] = (),
        group: str = "server",
        summary: str = "",
        since: str = "2.0.0",
    ) -> Command:
        """Declare a command whose first argument selects a subcommand (CONFIG, CLIENT...)."""

        def no_subcommand(ctx: "Context", argv: list[bytes]) -> bytes:
            raise AssertionError("containers dispatch to subcommands in the engine")

        return self.add(
            Command(
                name=name,
                handler=no_subcommand,
                arity=arity,
                flags=flags,
                categories=categories,
                group=group,
                summary=summary,
                since=since,
                complexity="Depends on subcommand.",
            )
        )


TABLE = CommandTable()
command = TABLE.command
