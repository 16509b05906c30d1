"""Every configuration parameter, declared once with its type, default and mutability.

``Config`` holds the current values as plain attributes (``config.maxclients``)
so the hot path reads them without lookups.  Values are validated and converted
by the parameter's kind; ``Param.format`` gives the text CONFIG GET shows and
``Param.rewrite_lines`` the lines CONFIG REWRITE writes.  Names use Redis's
spelling (aliases such as ``slave-read-only`` included); attributes replace
``-`` with ``_``.

Parameters marked ``inert`` are accepted, validated, shown and persisted exactly
as Redis does, so existing redis.conf files and tools work, but nothing in
CacheFlow acts on them yet (their subsystem has not landed: persistence,
replication, cluster, slowlog...).  The server logs a warning whenever one is
set away from its default, at startup or by CONFIG SET; whoever implements
the subsystem removes the mark.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cacheflow.store.eviction import POLICIES
from cacheflow.store.glob import compile_glob

_UNITS = {
    b"": 1,
    b"b": 1,
    b"k": 1000,
    b"kb": 1024,
    b"m": 1000**2,
    b"mb": 1024**2,
    b"g": 1000**3,
    b"gb": 1024**3,
}
_MEMORY_RE = re.compile(rb"([0-9]*)([a-zA-Z]*)")
_INT_RE = re.compile(rb"-?(?:0|[1-9][0-9]*)")
LLONG_MAX = 2**63 - 1
LLONG_MIN = -(2**63)
INT_MAX = 2**31 - 1
INT_MIN = -(2**31)
UINT_MAX = 2**32 - 1
ULLONG_MAX = 2**64 - 1
# Redis refuses to run the cron faster than this, whatever hz says.
MAX_HZ = 500


class ConfigError(ValueError):
    """A value a parameter refuses; the message is Redis's reason text.

    ``param`` names the parameter when the error comes from putting values
    into effect (CONFIG SET reports it in its message).
    """

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


def parse_memory(raw: bytes) -> int:
    """Parse ``100mb``, ``1gb``, ``512`` like Redis's memtoull (units are case-insensitive)."""
    m = _MEMORY_RE.fullmatch(raw)
    mul = _UNITS.get(m.group(2).lower()) if m else None
    if m is None or mul is None or len(m.group(1)) > 20:
        raise ConfigError("argument must be a memory value")
    value = int(m.group(1) or b"0") * mul
    if value > ULLONG_MAX:
        raise ConfigError("argument must be a memory value")
    return value


def parse_integer(raw: bytes) -> int:
    """A signed 64-bit integer written plainly, as Redis's string2ll accepts it."""
    if not _INT_RE.fullmatch(raw) or not LLONG_MIN <= int(raw) <= LLONG_MAX:
        raise ConfigError("argument couldn't be parsed into an integer")
    return int(raw)


def format_memory(n: int) -> str:
    """The unit form CONFIG REWRITE writes: ``64mb``, ``1gb``, ``300``."""
    for unit, size in (("gb", 1024**3), ("mb", 1024**2), ("kb", 1024)):
        if n and n % size == 0:
            return f"{n // size}{unit}"
    return str(n)


def quote(value: str) -> str:
    """A string as Redis's sdscatrepr writes it in config files: always double-quoted, escaped."""
    out = ['"']
    for b in value.encode("utf-8", "surrogateescape"):
        c = chr(b)
        if c in '\\"':
            out.append("\\" + c)
        elif c in "\n\r\t\a\b":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\a": "\\a", "\b": "\\b"}[c])
        elif 32 <= b < 127:
            out.append(c)
        else:
            out.append(f"\\x{b:02x}")
    out.append('"')
    return "".join(out)


def _yes_no(raw: bytes) -> bool:
    low = raw.lower()
    if low == b"yes":
        return True
    if low == b"no":
        return False
    raise ConfigError("argument must be 'yes' or 'no'")


# (line text, force): force means "write it even if the file has no line for it".
RewriteLines = list[tuple[str, bool]]


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: str  # bool, int, memory, enum, string, special
    default: Any
    mutable: bool = True
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    alias: str | None = None
    # Refused by CONFIG SET unless enable-protected-configs allows it (dir, dbfilename).
    protected: bool = False
    # Takes several arguments on one line (save, bind, client-output-buffer-limit...).
    multi_arg: bool = False
    inert: bool = False
    # Redis's HIDDEN_CONFIG (test hooks): CONFIG GET by exact name only, never by a glob.
    hidden: bool = False
    # special kinds: (raw, current value) -> value; value -> CONFIG GET text; value -> rewrite lines
    parse_special: Callable[[bytes, Any], Any] | None = None
    format_special: Callable[[Any], str] | None = None
    rewrite_special: Callable[["Param", Any], RewriteLines] | None = None
    normalize: Callable[[Any], Any] | None = None

    @property
    def attr(self) -> str:
        return self.name.replace("-", "_")

    def parse(self, raw: bytes, current: Any = None) -> Any:
        value: Any
        if self.kind == "bool":
            return _yes_no(raw)
        if self.kind in ("int", "memory"):
            if self.kind == "memory":
                if raw.startswith(b"-") and _INT_RE.fullmatch(raw):
                    raise ConfigError("argument must be a memory value")
                value = parse_memory(raw)
            else:
                value = parse_integer(raw)
            if (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum
            ):
                raise ConfigError(f"argument must be between {self.minimum} and {self.maximum} inclusive")
            return self.normalize(value) if self.normalize else value
        if self.kind == "enum":
            text = raw.decode("utf-8", "replace").lower()
            if text not in self.choices:
                raise ConfigError("argument(s) must be one of the following: " + ", ".join(self.choices))
            return text
        if self.kind == "special":
            assert self.parse_special is not None
            return self.parse_special(raw, self.default if current is None else current)
        return raw.decode("utf-8", "surrogateescape")

    def format(self, value: Any) -> str:
        """The value as CONFIG GET shows it."""
        if self.kind == "bool":
            return "yes" if value else "no"
        if self.kind == "special":
            assert self.format_special is not None
            return self.format_special(value)
        return str(value)

    def rewrite_lines(self, value: Any) -> RewriteLines:
        """The lines CONFIG REWRITE writes for this value, as Redis formats them."""
        force = value != self.default
        if self.rewrite_special is not None:
            return self.rewrite_special(self, value)
        if self.kind == "string":
            return [(f"{self.name} {quote(value)}", force)]
        if self.kind == "memory":
            return [(f"{self.name} {format_memory(value)}", force)]
        return [(f"{self.name} {self.format(value)}", force)]


# -- special parameters --------------------------------------------------------

OutputLimits = dict[str, tuple[int, int, int]]  # class -> (hard bytes, soft bytes, soft seconds)

DEFAULT_OUTPUT_LIMITS: OutputLimits = {
    "normal": (0, 0, 0),
    "replica": (256 * 1024 * 1024, 64 * 1024 * 1024, 60),
    "pubsub": (32 * 1024 * 1024, 8 * 1024 * 1024, 60),
}


def parse_output_buffer_limits(raw: bytes, current: OutputLimits | None = None) -> OutputLimits:
    """``normal 0 0 0 replica 256mb 64mb 60``: groups of four; classes not named keep ``current``."""
    parts = raw.split()
    if not parts or len(parts) % 4:
        raise ConfigError("Wrong number of arguments in buffer limit configuration.")
    limits = dict(current or DEFAULT_OUTPUT_LIMITS)
    for i in range(0, len(parts), 4):
        cls = parts[i].decode("utf-8", "replace").lower()
        if cls == "slave":
            cls = "replica"
        if cls not in ("normal", "replica", "pubsub"):
            raise ConfigError("Invalid client class specified in buffer limit configuration.")
        try:
            hard = parse_memory(parts[i + 1])
            soft = parse_memory(parts[i + 2])
            seconds = parse_integer(parts[i + 3])
        except ConfigError:
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.") from None
        if seconds < 0:
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
        limits[cls] = (hard, soft, seconds)
    return {cls: limits[cls] for cls in DEFAULT_OUTPUT_LIMITS}


def format_output_buffer_limits(limits: OutputLimits) -> str:
    """CONFIG GET's form, which still says ``slave``."""
    return " ".join(f"{'slave' if cls == 'replica' else cls} {h} {s} {sec}" for cls, (h, s, sec) in limits.items())


def _rewrite_output_limits(p: Param, limits: OutputLimits) -> RewriteLines:
    return [
        (f"{p.name} {cls} {format_memory(h)} {format_memory(s)} {sec}", (h, s, sec) != DEFAULT_OUTPUT_LIMITS[cls])
        for cls, (h, s, sec) in limits.items()
    ]


def parse_dbfilename(raw: bytes, current: Any = None) -> str:
    """As Redis's isValidDBfilename: a bare file name, the directory being ``dir``."""
    name = raw.decode("utf-8", "surrogateescape")
    if "/" in name or "\\" in name:
        raise ConfigError("dbfilename can't be a path, just a filename")
    return name


def _rewrite_dbfilename(p: "Param", value: str) -> RewriteLines:
    return [(f"{p.name} {quote(value)}", value != p.default)]


def parse_save(raw: bytes, current: Any = None) -> list[tuple[int, int]]:
    parts = raw.split()
    if len(parts) % 2:
        raise ConfigError("Invalid save parameters")
    try:
        points = [(parse_integer(parts[i]), parse_integer(parts[i + 1])) for i in range(0, len(parts), 2)]
    except ConfigError:
        raise ConfigError("Invalid save parameters") from None
    if any(s < 1 or c < 0 for s, c in points):
        raise ConfigError("Invalid save parameters")
    return points


def _format_save(points: list[tuple[int, int]]) -> str:
    return " ".join(f"{s} {c}" for s, c in points)


def _rewrite_save(p: Param, points: list[tuple[int, int]]) -> RewriteLines:
    """Redis always writes ``save``: without points, ``save ""`` keeps its defaults from coming back."""
    if not points:
        return [('save ""', True)]
    return [(f"save {s} {c}", True) for s, c in points]


_MAX_BIND = 16


def parse_bind(raw: bytes, current: Any = None) -> list[str]:
    addrs = [a.decode("utf-8", "surrogateescape") for a in raw.split()]
    if len(addrs) > _MAX_BIND:
        raise ConfigError("Too many bind addresses specified.")
    return addrs


def _rewrite_bind(p: Param, addrs: list[str]) -> RewriteLines:
    if not addrs:
        return []
    return [(f"bind {' '.join(addrs)}", addrs != p.default)]


# notify-keyspace-events: flag characters, and the order Redis prints them in.
_EVENT_CLASSES = "g$lshzxetdn"
_EVENT_ALL = "g$lshzxetd"  # what "A" stands for


def parse_keyspace_events(raw: bytes, current: Any = None) -> str:
    chars: set[str] = set()
    for c in raw.decode("utf-8", "replace"):
        if c == "A":
            chars |= set(_EVENT_ALL)
        elif c in _EVENT_CLASSES or c in "KEm":
            chars.add(c)
        else:
            raise ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    if set(_EVENT_ALL) <= chars:
        text = "A" + ("n" if "n" in chars else "")
    else:
        text = "".join(c for c in _EVENT_CLASSES if c in chars)
    return text + "".join(c for c in "KEm" if c in chars)


def _rewrite_quoted(p: Param, value: str) -> RewriteLines:
    return [(f"{p.name} {quote(value)}", value != p.default)]


def parse_replicaof(raw: bytes, current: Any = None) -> str:
    parts = raw.split()
    if not parts or (len(parts) == 2 and parts[0].lower() == b"no" and parts[1].lower() == b"one"):
        return ""
    if len(parts) != 2:
        raise ConfigError("wrong number of arguments")
    try:
        port = int(parts[1])
    except ValueError:
        raise ConfigError("Invalid master port") from None
    if not 0 <= port <= 65535:
        raise ConfigError("Invalid master port")
    return f"{parts[0].decode('utf-8', 'surrogateescape')} {port}"


def _rewrite_plain(p: Param, value: str) -> RewriteLines:
    return [(f"{p.name} {value}", True)] if value else []


def parse_memory_or_percent(raw: bytes, current: Any) -> int:
    """``maxmemory-clients``: bytes (``1mb``), or a percentage of maxmemory (``10%``), which is kept
    negative as Redis keeps it, so one int says both."""
    if raw.endswith(b"%"):
        digits = raw[:-1]
        if not digits.isdigit() or len(digits) > 20:
            raise ConfigError("argument must be a memory or percent value")
        percent = int(digits)
        if percent > 100:
            raise ConfigError("percentage argument must be less or equal to 100")
        return -percent
    if raw.startswith(b"-"):
        raise ConfigError("argument must be a memory or percent value")
    try:
        value = parse_memory(raw)
    except ConfigError:
        raise ConfigError("argument must be a memory or percent value") from None
    if value > LLONG_MAX:
        raise ConfigError("argument must be a memory or percent value")
    return value


def format_memory_or_percent(value: int) -> str:
    return f"{-value}%" if value < 0 else str(value)


def _rewrite_memory_or_percent(p: Param, value: int) -> RewriteLines:
    text = format_memory_or_percent(value) if value < 0 else format_memory(value)
    return [(f"{p.name} {text}", value != p.default)]


def _clamp_hz(value: int) -> int:
    """Redis accepts any hz and caps it to 1..500 (CONFIG GET shows the capped value)."""
    return max(1, min(value, MAX_HZ))


# -- the parameters ---------------------------------------------------------------------


def _int(name: str, default: int, lo: int = 0, hi: int = INT_MAX, **kw: Any) -> Param:
    return Param(name, "int", default, minimum=lo, maximum=hi, **kw)


def _mem(name: str, default: int, lo: int = 0, hi: int = LLONG_MAX, **kw: Any) -> Param:
    return Param(name, "memory", default, minimum=lo, maximum=hi, **kw)


def _bool(name: str, default: bool, **kw: Any) -> Param:
    return Param(name, "bool", default, **kw)


def _str(name: str, default: str = "", **kw: Any) -> Param:
    return Param(name, "string", default, **kw)


def _enum(name: str, default: str, choices: tuple[str, ...], **kw: Any) -> Param:
    return Param(name, "enum", default, choices=choices, **kw)


_YES_NO_LOCAL = ("no", "yes", "local")

PARAMS: tuple[Param, ...] = (
    # -- network and clients
    Param(
        "bind",
        "special",
        ["127.0.0.1", "-::1"],
        multi_arg=True,
        parse_special=parse_bind,
        format_special=" ".join,
        rewrite_special=_rewrite_bind,
    ),
    _int("port", 6379, 0, 65535),
    _int("tcp-backlog", 511, 0, INT_MAX, mutable=False),
    _int("timeout", 0),
    _int("tcp-keepalive", 300),
    _int("maxclients", 10000, 1, UINT_MAX),
    _bool("protected-mode", True),
    _str("unixsocket", mutable=False, inert=True),
    _int("unixsocketperm", 0, 0, 0o777, mutable=False, inert=True),
    _int("tls-port", 0, 0, 65535, inert=True),
    _int("io-threads", 1, 1, 128, mutable=False, inert=True),
    _bool("io-threads-do-reads", False, mutable=False, inert=True),
    _mem("proto-max-bulk-len", 512 * 1024 * 1024, 1024 * 1024),
    _mem("client-query-buffer-limit", 1024 * 1024 * 1024, 1024 * 1024),
    Param(
        "client-output-buffer-limit",
        "special",
        DEFAULT_OUTPUT_LIMITS,
        multi_arg=True,
        parse_special=parse_output_buffer_limits,
        format_special=format_output_buffer_limits,
        rewrite_special=_rewrite_output_limits,
    ),
    _int("tracking-table-max-keys", 1000000, 0, LLONG_MAX, inert=True),
    _bool("cacheflow-text-protocol", True),
    # -- general
    _enum("loglevel", "notice", ("debug", "verbose", "notice", "warning")),
    _str("logfile", mutable=False),
    _str("pidfile", mutable=False),
    _bool("daemonize", False, mutable=False),
    _enum("supervised", "no", ("upstart", "systemd", "auto", "no"), mutable=False, inert=True),
    _bool("always-show-logo", False, mutable=False, inert=True),
    _bool("syslog-enabled", False, mutable=False, inert=True),
    _str("syslog-ident", "redis", mutable=False, inert=True),
    _int("databases", 16, 1, INT_MAX, mutable=False),
    _int("hz", 10, 0, INT_MAX, normalize=_clamp_hz),
    _bool("dynamic-hz", True, inert=True),
    _int("shutdown-timeout", 10, inert=True),
    _enum("enable-debug-command", "no", _YES_NO_LOCAL, mutable=False),
    _enum("enable-protected-configs", "no", _YES_NO_LOCAL, mutable=False),
    _enum("enable-module-command", "no", _YES_NO_LOCAL, mutable=False, inert=True),
    _bool("crash-log-enabled", True, inert=True),
    # -- security
    _str("requirepass"),
    _str("aclfile", mutable=False, inert=True),
    _int("acllog-max-len", 128, 0, LLONG_MAX, inert=True),
    # -- memory and eviction
    Param("maxmemory", "memory", 0, minimum=0, maximum=ULLONG_MAX),
    _enum("maxmemory-policy", "noeviction", POLICIES),
    _int("maxmemory-samples", 5, 1, INT_MAX),
    _int("maxmemory-eviction-tenacity", 10, 0, 100),
    Param(
        "maxmemory-clients",
        "special",
        0,
        parse_special=parse_memory_or_percent,
        format_special=format_memory_or_percent,
        rewrite_special=_rewrite_memory_or_percent,
    ),
    _int("lfu-log-factor", 10),
    _int("lfu-decay-time", 1),
    _int("active-expire-effort", 1, 1, 10, inert=True),
    _bool("activerehashing", True, inert=True),
    _bool("lazyfree-lazy-eviction", False, inert=True),
    _bool("lazyfree-lazy-expire", False, inert=True),
    _bool("lazyfree-lazy-server-del", False, inert=True),
    _bool("lazyfree-lazy-user-del", False, inert=True),
    _bool("lazyfree-lazy-user-flush", False, inert=True),
    _bool("replica-lazy-flush", False, alias="slave-lazy-flush", inert=True),
    # -- persistence
    _str("dir", ".", protected=True),
    Param(
        "dbfilename",
        "special",
        "dump.rdb",
        protected=True,
        parse_special=parse_dbfilename,
        format_special=str,
        rewrite_special=_rewrite_dbfilename,
    ),
    Param(
        "save",
        "special",
        [],
        multi_arg=True,
        parse_special=parse_save,
        format_special=_format_save,
        rewrite_special=_rewrite_save,
    ),
    _bool("stop-writes-on-bgsave-error", True),
    _bool("rdbcompression", True),
    _bool("rdbchecksum", True),
    _bool("rdb-del-sync-files", False, inert=True),
    _bool("rdb-save-incremental-fsync", True),
    # Redis's test hooks: microseconds per key while saving / loading a snapshot.
    _int("rdb-key-save-delay", 0, INT_MIN, INT_MAX, hidden=True),
    _int("key-load-delay", 0, INT_MIN, INT_MAX, hidden=True),
    _bool("appendonly", False),
    _str("appendfilename", "appendonly.aof", mutable=False),
    _str("appenddirname", "appendonlydir", mutable=False),
    _enum("appendfsync", "everysec", ("everysec", "always", "no")),
    _bool("no-appendfsync-on-rewrite", False),
    _int("auto-aof-rewrite-percentage", 100),
    _mem("auto-aof-rewrite-min-size", 64 * 1024 * 1024),
    _bool("aof-load-truncated", True),
    _bool("aof-use-rdb-preamble", True),
    _bool("aof-rewrite-incremental-fsync", True, inert=True),
    _bool("aof-timestamp-enabled", False, inert=True),
    _enum("sanitize-dump-payload", "no", ("no", "yes", "clients"), inert=True),
    # -- replication
    Param(
        "replicaof",
        "special",
        "",
        mutable=False,
        alias="slaveof",
        inert=True,
        multi_arg=True,
        parse_special=parse_replicaof,
        format_special=str,
        rewrite_special=_rewrite_plain,
    ),
    _str("masterauth", inert=True),
    _str("masteruser", inert=True),
    _bool("replica-read-only", True, alias="slave-read-only", inert=True),
    _bool("replica-serve-stale-data", True, alias="slave-serve-stale-data", inert=True),
    _bool("replica-ignore-maxmemory", True, alias="slave-ignore-maxmemory", inert=True),
    _int("replica-priority", 100, alias="slave-priority", inert=True),
    _str("replica-announce-ip", alias="slave-announce-ip", inert=True),
    _int("replica-announce-port", 0, 0, 65535, alias="slave-announce-port", inert=True),
    _mem("repl-backlog-size", 1024 * 1024, 1, inert=True),
    _int("repl-backlog-ttl", 3600, 0, LLONG_MAX, inert=True),
    _int("repl-timeout", 60, 1, inert=True),
    _int("repl-ping-replica-period", 10, 1, alias="repl-ping-slave-period", inert=True),
    _bool("repl-diskless-sync", True, inert=True),
    _int("repl-diskless-sync-delay", 5, inert=True),
    _enum("repl-diskless-load", "disabled", ("disabled", "on-empty-db", "swapdb"), inert=True),
    _bool("repl-disable-tcp-nodelay", False, inert=True),
    _int("min-replicas-to-write", 0, alias="min-slaves-to-write", inert=True),
    _int("min-replicas-max-lag", 10, alias="min-slaves-max-lag", inert=True),
    # -- cluster
    _bool("cluster-enabled", False, mutable=False, inert=True),
    _str("cluster-config-file", "nodes.conf", mutable=False, inert=True),
    _int("cluster-node-timeout", 15000, 0, LLONG_MAX, inert=True),
    _int("cluster-port", 0, 0, 65535, mutable=False, inert=True),
    _bool("cluster-require-full-coverage", True, inert=True),
    _bool("cluster-allow-reads-when-down", False, inert=True),
    _str("cluster-announce-ip", inert=True),
    _int("cluster-announce-port", 0, 0, 65535, inert=True),
    _int("cluster-announce-bus-port", 0, 0, 65535, inert=True),
    # -- monitoring, scripting, notifications
    _int("slowlog-log-slower-than", 10000, -1, LLONG_MAX, inert=True),
    _int("slowlog-max-len", 128, 0, LLONG_MAX, inert=True),
    _int("latency-monitor-threshold", 0, 0, LLONG_MAX, inert=True),
    _bool("latency-tracking", True, inert=True),
    _int("busy-reply-threshold", 5000, 0, LLONG_MAX, alias="lua-time-limit", inert=True),
    Param(
        "notify-keyspace-events",
        "special",
        "",
        inert=True,
        parse_special=parse_keyspace_events,
        format_special=str,
        rewrite_special=_rewrite_quoted,
    ),
    # -- value encodings: the size thresholds at which a collection leaves its compact encoding
    _int("hash-max-listpack-entries", 512, 0, LLONG_MAX, alias="hash-max-ziplist-entries"),
    _mem("hash-max-listpack-value", 64, alias="hash-max-ziplist-value"),
    _int("list-max-listpack-size", -2, INT_MIN, INT_MAX, alias="list-max-ziplist-size"),
    _int("list-compress-depth", 0, inert=True),
    _int("set-max-intset-entries", 512, 0, LLONG_MAX),
    _int("zset-max-listpack-entries", 128, 0, LLONG_MAX, alias="zset-max-ziplist-entries"),
    _mem("zset-max-listpack-value", 64, alias="zset-max-ziplist-value"),
    _mem("stream-node-max-bytes", 4096, inert=True),
    _int("stream-node-max-entries", 100, 0, LLONG_MAX, inert=True),
    _mem("hll-sparse-max-bytes", 3000),
)

PARAMS_BY_NAME: dict[str, Param] = {p.name: p for p in PARAMS}
# Every accepted spelling, aliases included, lower case.
_BY_SPELLING: dict[str, Param] = {**PARAMS_BY_NAME, **{p.alias: p for p in PARAMS if p.alias}}


def lookup(name: str) -> Param | None:
    """A parameter by name or alias, in any letter case."""
    return _BY_SPELLING.get(name.lower())


class Config:
    """Current configuration values as attributes, plus bookkeeping for CONFIG REWRITE.

    Slots rather than an instance dict: compiled handlers read thresholds such
    as zset-max-listpack-entries on every write through the generic attribute
    lookup, which a slot descriptor answers in about half the instructions.
    """

    __slots__ = (*(p.attr for p in PARAMS), "config_file", "explicit")

    def __init__(self) -> None:
        for p in PARAMS:
            setattr(self, p.attr, p.default)
        self.config_file: str | None = None
        self.explicit: set[str] = set()

    if TYPE_CHECKING:
        # Parameter attributes are created from PARAMS; these tell mypy they exist.  Only
        # for the type checker: a real __getattr__ slows every attribute read about 6x.
        def __getattr__(self, name: str) -> Any: ...

        def __setattr__(self, name: str, value: Any) -> None: ...

    @staticmethod
    def inert_names() -> list[str]:
        return [p.name for p in PARAMS if p.inert]

    def value(self, name: str) -> Any:
        p = lookup(name)
        if p is None:
            raise KeyError(name)
        return getattr(self, p.attr)

    def formatted(self, name: str) -> str:
        p = lookup(name)
        if p is None:
            raise KeyError(name)
        return p.format(getattr(self, p.attr))

    def matching(self, pattern: bytes) -> list[tuple[str, str]]:
        """CONFIG GET for one pattern: (name as shown, value text).

        A pattern without glob characters is a lookup by name or alias that
        echoes the spelling asked for, as Redis does; a glob matches names and
        aliases case-insensitively.
        """
        text = pattern.decode("utf-8", "surrogateescape")
        if not any(c in text for c in "*?["):
            p = lookup(text)
            return [] if p is None else [(text, p.format(getattr(self, p.attr)))]
        match = compile_glob(pattern, nocase=True)
        out = []
        for p in PARAMS:
            if p.hidden:
                continue
            for spelling in (p.name, p.alias):
                if spelling and match(spelling.encode()):
                    out.append((spelling, p.format(getattr(self, p.attr))))
        return out

    def set_many(
        self,
        pairs: Iterable[tuple[bytes, bytes]],
        at_startup: bool = False,
        local_client: bool = False,
    ) -> dict[str, Any]:
        """Validate every pair, then return {canonical name: new value}; nothing is stored here.

        Checks run in Redis's order: names first (unknown, immutable,
        protected, duplicate, in argument order), then values.  Raises
        ConfigError with CONFIG SET's wording.
        """
        pairs = list(pairs)
        seen: set[str] = set()
        resolved: list[tuple[str, Param, bytes]] = []
        for raw_name, raw_value in pairs:
            given = raw_name.decode("utf-8", "surrogateescape")
            p = lookup(given)
            if p is None:
                raise ConfigError(f"Unknown option or number of arguments for CONFIG SET - '{given}'")
            if not at_startup:
                if not p.mutable:
                    raise ConfigError(
                        f"CONFIG SET failed (possibly related to argument '{given}') - can't set immutable config"
                    )
                if p.protected and not self.protected_allowed(local_client):
                    raise ConfigError(
                        f"CONFIG SET failed (possibly related to argument '{given}') - can't set protected config"
                    )
            if given.lower() in seen:
                raise ConfigError(f"CONFIG SET failed (possibly related to argument '{given}') - duplicate parameter")
            seen.add(given.lower())
            resolved.append((given.lower(), p, raw_value))
        parsed: dict[str, Any] = {}
        for spelling, p, raw_value in resolved:
            try:
                parsed[p.name] = p.parse(raw_value, getattr(self, p.attr))
            except ConfigError as e:
                raise ConfigError(f"CONFIG SET failed (possibly related to argument '{spelling}') - {e}") from None
        return parsed

    def protected_allowed(self, local_client: bool) -> bool:
        mode = self.enable_protected_configs
        return bool(mode == "yes" or (mode == "local" and local_client))

    def apply(self, parsed: dict[str, Any]) -> dict[str, Any]:
        """Store parsed values; return the previous ones so the caller can roll back."""
        previous = {}
        for name, value in parsed.items():
            attr = PARAMS_BY_NAME[name].attr
            previous[name] = getattr(self, attr)
            setattr(self, attr, value)
            self.explicit.add(name)
        return previous

    def rewrite_lines(self) -> dict[str, RewriteLines]:
        """Every parameter's CONFIG REWRITE lines, by canonical name."""
        return {p.name: p.rewrite_lines(getattr(self, p.attr)) for p in PARAMS}
