"""The command table: every command is declared exactly once, here-by-decorator.

A declaration carries the name, arity (negative: at least N), flags, key
positions, ACL categories, documentation and the handler.  Dispatch, arity
checks, COMMAND INFO/DOCS/COUNT/LIST/GETKEYS, WATCH invalidation, the README's
command table and the CLI's completion are all derived from it; there is no
second list anywhere.

Keys are described the way Redis 7 describes them: a list of key specs, each
saying where the search for keys begins (an index, or after a keyword) and how
keys are found from there (a range, or a count read from a numkeys argument),
with flags telling how the keys are accessed.  A command declaring no specs
gets one, derived from its legacy ``keys=(first, last, step)`` triple (which
COMMAND INFO still reports, as Redis does).  Key positions are found from the
specs the way Redis's getKeysFromCommandWithSpecs finds them.  When the specs
cannot say where every key is, Redis falls back to a per-command function: a
hand-written ``keys_fn`` here, needed only for truly odd commands (SORT's
STORE, MIGRATE's KEYS), since numkeys commands share one generic fallback
(``numkeys_fallback``).
"""

import enum
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from cacheflow.commands.context import Context

Handler = Callable[["Context", list[bytes]], bytes]
KeysFn = Callable[[list[bytes]], list[int]]
# (argv, position of one of its keys) -> the access flags of that key, for commands whose
# flags depend on the arguments (the "variable_flags" specs of SET and BITFIELD).
KeyFlagsFn = Callable[[list[bytes], int], tuple[str, ...]]
# (db index the effect ran in, effect argv) -> [(db index, key)] it modified; key None means every key
# of that database, and db index ALL_DATABASES means every database.
ALL_DATABASES: Final = -1
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
    NO_ASYNC_LOADING = enum.auto()


NO_FLAGS: Final = Flag(0)

# Wire names of the flags, in the order Redis lists them in COMMAND INFO.
FLAG_NAMES: Final[tuple[tuple[Flag, bytes], ...]] = (
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
    (Flag.NO_ASYNC_LOADING, b"no_async_loading"),
    (Flag.NO_MULTI, b"no_multi"),
    (Flag.ALLOW_BUSY, b"allow_busy"),
)

# Commands that run immediately even inside MULTI.
MULTI_IMMEDIATE: Final = frozenset({"exec", "discard", "multi", "watch", "quit", "reset"})


# -- key specs ---------------------------------------------------------------------

# Key-spec flags in the order Redis prints them (COMMAND INFO, COMMAND GETKEYSANDFLAGS).
KEY_SPEC_FLAGS: Final = (
    "RO",
    "RW",
    "OW",
    "RM",
    "access",
    "update",
    "insert",
    "delete",
    "not_key",
    "incomplete",
    "variable_flags",
)
_KEY_FLAG_RANK: Final = {name: i for i, name in enumerate(KEY_SPEC_FLAGS)}


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One of Redis's key specs: where the search for keys begins, how keys are found from there.

    ``begin`` is "index" (keys start at argv[``index``]), "keyword" (they start
    after ``keyword``, searched from ``startfrom``: forwards when positive,
    backwards from the end when negative) or "unknown".  ``find`` is "range"
    (``lastkey`` relative to the first key, or from the end when negative, every
    ``keystep``; a ``limit`` splits the remaining arguments when lastkey is -1),
    "keynum" (the count sits ``keynumidx`` after the begin position, the first key
    ``firstkey`` after it) or "unknown".  Flags are kept in Redis's order.  Build
    them with the constructors below rather than by hand.
    """

    flags: tuple[str, ...]
    begin: str = "index"
    index: int = 0
    keyword: str = ""
    startfrom: int = 0
    find: str = "range"
    lastkey: int = 0
    keystep: int = 1
    limit: int = 0
    keynumidx: int = 0
    firstkey: int = 1
    notes: str = ""

    def __post_init__(self) -> None:
        unknown = [f for f in self.flags if f not in _KEY_FLAG_RANK]
        if unknown or len(set(self.flags)) != len(self.flags):
            raise ValueError(f"bad key-spec flags {self.flags!r}")
        if self.begin not in ("index", "keyword", "unknown") or self.find not in ("range", "keynum", "unknown"):
            raise ValueError(f"bad key spec {self!r}")
        if self.begin == "index" and self.index < 1:
            raise ValueError(f"key spec index must be >= 1 in {self!r}")
        if self.limit and self.lastkey != -1:
            raise ValueError(f"a key-spec limit needs lastkey -1 in {self!r}")
        object.__setattr__(self, "flags", tuple(sorted(self.flags, key=_KEY_FLAG_RANK.__getitem__)))

    @property
    def is_plain_range(self) -> bool:
        """An index+range spec: the only kind Redis's legacy (first, last, step) can express."""
        return self.begin == "index" and self.find == "range"


def index_range(index: int, *flags: str, last: int = 0, step: int = 1, limit: int = 0, notes: str = "") -> KeySpec:
    """Keys from argv[index]: ``last`` 0 is that one key, -1 runs to the end, N is N more arguments."""
    return KeySpec(flags, "index", index=index, find="range", lastkey=last, keystep=step, limit=limit, notes=notes)


def index_keynum(
    index: int, *flags: str, keynumidx: int = 0, firstkey: int = 1, step: int = 1, notes: str = ""
) -> KeySpec:
    """A numkeys argument at argv[index + keynumidx], its keys from argv[index + firstkey]."""
    return KeySpec(
        flags, "index", index=index, find="keynum", keynumidx=keynumidx, firstkey=firstkey, keystep=step, notes=notes
    )


def keyword_range(
    keyword: str, startfrom: int, *flags: str, last: int = 0, step: int = 1, limit: int = 0, notes: str = ""
) -> KeySpec:
    """Keys right after ``keyword`` (case-insensitive), searched from ``startfrom`` (negative: from the end)."""
    return KeySpec(
        flags,
        "keyword",
        keyword=keyword,
        startfrom=startfrom,
        find="range",
        lastkey=last,
        keystep=step,
        limit=limit,
        notes=notes,
    )


def unknown_keys(*flags: str, notes: str = "") -> KeySpec:
    """Keys no spec can locate (SORT's BY/GET and STORE): a ``keys_fn`` must find them."""
    return KeySpec(flags, "unknown", find="unknown", notes=notes)


def _numkeys(raw: bytes) -> int | None:
    """A numkeys argument as Redis's string2ll reads it, or None."""
    if len(raw) > 20:
        return None
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if b"%d" % value == raw and -(2**63) <= value < 2**63 else None


def _c_int(value: int) -> int:
    """``value`` as C's cast to a 32-bit int keeps it (Redis counts keys in ints)."""
    return (value + 2**31) % 2**32 - 2**31


_ATOI: Final = re.compile(rb"[ \t\n\v\f\r]*([+-]?[0-9]+)")


def _atoi(raw: bytes) -> int:
    """C's atoi as glibc has it: strtol (leading blanks, a sign, digits, clamped to a long) cast to int."""
    match = _ATOI.match(raw)
    if match is None:
        return 0
    return _c_int(max(-(2**63), min(int(match.group(1)), 2**63 - 1)))


def numkeys_fallback(specs: tuple[KeySpec, ...], argv: list[bytes]) -> list[int]:
    """Keys of a numkeys command whose specs failed, as Redis's getkeys functions then find them.

    Redis falls back to each command's getkeys function, and for every command
    with a keynum spec that is the same generic one: it reads the count with
    atoi (so "01", " 1" or "1abc" count), finds no key when the count is below 1
    or more than the arguments left, and lists the counted keys, then the
    destination (a one-key spec before the count) if there is one.
    """
    for n, spec in enumerate(specs):
        if spec.begin != "index" or spec.find != "keynum":
            continue
        first = spec.index + spec.firstkey
        count = _atoi(argv[spec.index + spec.keynumidx]) if spec.index + spec.keynumidx < len(argv) else 0
        if count < 1 or count > (len(argv) - first) // spec.keystep:
            return []
        keys = [first + i * spec.keystep for i in range(count)]
        dest = [s.index for s in specs[:n] if s.is_plain_range and s.lastkey == 0]
        return keys + dest[:1]
    return []


def find_keys(specs: tuple[KeySpec, ...], argv: list[bytes]) -> list[tuple[int, KeySpec]] | None:
    """Positions of the keys in ``argv`` with the spec that found each, in spec order.

    This is Redis's getKeysUsingKeySpecs: a keyword that is absent skips its spec;
    a spec that cannot be applied (unknown, incomplete, a numkeys that is not a
    count, keys past the end) makes the whole search fail with None, and the
    caller falls back to the command's ``keys_fn`` or to ``numkeys_fallback``.
    "not_key" specs are skipped.
    """
    argc = len(argv)
    found: list[tuple[int, KeySpec]] = []
    for spec in specs:
        if "not_key" in spec.flags:
            continue
        if spec.begin == "index":
            first = spec.index
        elif spec.begin == "keyword":
            first = 0
            start = spec.startfrom if spec.startfrom > 0 else argc + spec.startfrom
            end = argc - 1 if spec.startfrom > 0 else 1
            step = 1 if start <= end else -1
            keyword = spec.keyword.encode().lower()
            for i in range(start, end, step):
                if i >= argc or i < 1:
                    break
                if argv[i].lower() == keyword:
                    first = i + 1
                    break
            if not first:
                continue
        else:
            return None
        if spec.find == "range":
            if spec.lastkey >= 0:
                last = first + spec.lastkey
            elif not spec.limit:
                last = argc + spec.lastkey
            else:
                last = first + ((argc - first) // spec.limit + spec.lastkey)
        elif spec.find == "keynum":
            at = first + spec.keynumidx
            count = _numkeys(argv[at]) if at < argc else None
            if count is None or count < 0:
                return None
            first += spec.firstkey
            last = first + _c_int(count) - 1
        else:
            return None
        if last >= argc or last < first or first >= argc:
            return None
        found.extend((i, spec) for i in range(first, last + 1, spec.keystep))
        if "incomplete" in spec.flags:
            return None
    return found


def legacy_range(specs: tuple[KeySpec, ...]) -> tuple[int, int, int]:
    """The (first, last, step) Redis derives from key specs for COMMAND INFO (populateCommandLegacyRangeSpec).

    Declarations still spell the triple out; this is how a test checks them.
    """
    if not specs:
        return (0, 0, 0)
    if len(specs) == 1 and specs[0].is_plain_range:
        spec = specs[0]
        last = spec.lastkey if spec.lastkey < 0 else spec.index + spec.lastkey
        return (spec.index, last, spec.keystep)
    first = last = prev_last = 0
    for spec in specs:
        if not spec.is_plain_range or spec.keystep != 1 or (prev_last and prev_last != spec.index - 1):
            continue
        last = spec.lastkey if spec.lastkey < 0 else spec.index + spec.lastkey
        if not first:
            first = spec.index
        prev_last = last
    return (first, last, 1) if first else (0, 0, 0)


def default_key_flags(flags: Flag) -> tuple[str, ...]:
    """Key-spec flags a command's own flags imply when it declares none."""
    if flags & Flag.WRITE:
        return ("RW", "access", "update")
    if flags & Flag.READONLY:
        return ("RO", "access")
    return ("RO",)


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
    # Its effects leave each key they name holding a whole new string, or nothing, so the
    # keyspace's write primitives have accounted for its memory (the engine skips re-measuring).
    whole_values: bool = False
    categories: tuple[str, ...] = ()
    group: str = "generic"
    summary: str = ""
    since: str = "1.0.0"
    complexity: str = "O(1)"
    syntax: str = ""
    # Redis's command tips (COMMAND INFO), e.g. "nondeterministic_output", "request_policy:all_shards".
    tips: tuple[str, ...] = ()
    # Redis 7 key specs (COMMAND INFO, COMMAND DOCS key_spec_index, key positions), in declaration order.
    key_specs: tuple[KeySpec, ...] = ()
    # Per-key access flags when they depend on the arguments (COMMAND GETKEYSANDFLAGS).
    key_flags_fn: KeyFlagsFn | None = None
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

    @property
    def has_keys(self) -> bool:
        """Whether the command may take keys at all (Redis's doesCommandHaveKeys)."""
        return self.keys_fn is not None or any("not_key" not in s.flags for s in self.key_specs)

    @property
    def movable_keys(self) -> bool:
        """Redis's "movablekeys" flag: some key cannot be located from fixed positions alone."""
        return any(not s.is_plain_range or "incomplete" in s.flags for s in self.key_specs)

    def keys_with_specs(self, argv: list[bytes]) -> list[tuple[int, KeySpec | None]]:
        """Key positions in ``argv`` (which must satisfy the arity), each with the spec that found it.

        The specs decide; when they cannot (see ``find_keys``) the ``keys_fn`` does,
        or for numkeys commands Redis's generic fallback (``numkeys_fallback``);
        keys found that way carry no spec.
        """
        found = find_keys(self.key_specs, argv)
        if found is not None:
            return list(found)
        if self.keys_fn is not None:
            return [(i, None) for i in self.keys_fn(argv)]
        return [(i, None) for i in numkeys_fallback(self.key_specs, argv)]

    def key_positions(self, argv: list[bytes]) -> list[int]:
        """Indexes of the keys in ``argv`` (which must satisfy the arity)."""
        return [i for i, _ in self.keys_with_specs(argv)]

    def keys(self, argv: list[bytes]) -> list[bytes]:
        return [argv[i] for i in self.key_positions(argv)]

    def key_access_flags(self, argv: list[bytes], position: int, spec: KeySpec | None) -> tuple[str, ...]:
        """How the key at ``position`` is accessed, as COMMAND GETKEYSANDFLAGS reports it."""
        if self.key_flags_fn is not None:
            return self.key_flags_fn(argv, position)
        if spec is None:  # found by a fallback, which (like Redis's generic getkeys) reports no flags
            return ()
        return spec.flags

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
        whole_values: bool = False,
        categories: tuple[str, ...] = (),
        group: str = "generic",
        summary: str = "",
        since: str = "1.0.0",
        complexity: str = "O(1)",
        syntax: str = "",
        tips: tuple[str, ...] = (),
        key_flags: tuple[str, ...] = (),
        key_specs: tuple[KeySpec, ...] = (),
        key_flags_fn: KeyFlagsFn | None = None,
        parent: str | None = None,
    ) -> Callable[[Handler], Handler]:
        """Decorator declaring a command (or, with ``parent``, a subcommand).

        ``keys`` is Redis's legacy (first, last, step) that COMMAND INFO reports.
        ``key_specs`` are the command's Redis 7 key specs; without them the command
        gets one spec from ``keys`` with the flags ``key_flags`` (or, when empty,
        the ones its command flags imply).  A ``keys_fn`` only completes specs
        that cannot locate every key (unknown or incomplete ones), as Redis's
        getkeys functions do, so it needs declared specs.
        """
        if key_specs and key_flags:
            raise ValueError(f"{name}: give the flags inside key_specs, not key_flags")
        if keys_fn is not None and not key_specs:
            raise ValueError(f"{name}: a keys_fn completes key_specs; declare them (unknown_keys for what it finds)")
        specs = key_specs or _derived_specs(keys, key_flags or default_key_flags(flags))

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
                    whole_values=whole_values,
                    categories=categories,
                    group=group,
                    summary=summary,
                    since=since,
                    complexity=complexity,
                    syntax=syntax,
                    tips=tips,
                    key_specs=specs,
                    key_flags_fn=key_flags_fn,
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


def _derived_specs(keys: tuple[int, int, int], flags: tuple[str, ...]) -> tuple[KeySpec, ...]:
    """The one spec of a command declaring only its legacy key triple."""
    first, last, step = keys
    if first > 0:
        return (index_range(first, *flags, last=last - first if last >= 0 else last, step=step),)
    return ()


TABLE: Final = CommandTable()
command = TABLE.command
