"""Every configuration parameter, declared once with its type, default and mutability.

``Config`` holds the current values as plain attributes (``config.maxclients``)
so the hot path reads them without lookups.  Values are validated and converted
by the parameter's kind; ``format`` gives the text CONFIG GET and CONFIG REWRITE
show.  Names use Redis's spelling; attributes replace ``-`` with ``_``.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cacheflow.store.glob import compile_glob

_UNITS = {
    b"k": 1000,
    b"kb": 1024,
    b"m": 1000**2,
    b"mb": 1024**2,
    b"g": 1000**3,
    b"gb": 1024**3,
}


class ConfigError(ValueError):
    """A value a parameter refuses; the message is Redis's reason text."""


def parse_memory(raw: bytes) -> int:
    """Parse ``100mb``, ``1gb``, ``512`` like Redis's memtoull (units are case-insensitive)."""
    text = raw.strip().lower()
    for unit in (b"kb", b"mb", b"gb", b"k", b"m", b"g", b"b"):
        if text.endswith(unit):
            number, mul = text[: -len(unit)], _UNITS.get(unit, 1)
            break
    else:
        number, mul = text, 1
    if not number or not number.isdigit():
        raise ConfigError("argument must be a memory value")
    return int(number) * mul


def _yes_no(raw: bytes) -> bool:
    low = raw.lower()
    if low == b"yes":
        return True
    if low == b"no":
        return False
    raise ConfigError("argument must be 'yes' or 'no'")


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
    parse_special: Callable[[bytes], Any] | None = None
    format_special: Callable[[Any], str] | None = None

    @property
    def attr(self) -> str:
        return self.name.replace("-", "_")

    def parse(self, raw: bytes) -> Any:
        if self.kind == "bool":
            return _yes_no(raw)
        if self.kind in ("int", "memory"):
            if self.kind == "memory":
                value = parse_memory(raw)
            else:
                try:
                    value = int(raw)
                except ValueError:
                    raise ConfigError("argument couldn't be parsed into an integer") from None
            if (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum
            ):
                raise ConfigError(f"argument must be between {self.minimum} and {self.maximum} inclusive")
            return value
        if self.kind == "enum":
            text = raw.decode("utf-8", "replace").lower()
            if text not in self.choices:
                raise ConfigError("argument(s) must be one of the following: " + ", ".join(self.choices))
            return text
        if self.kind == "special":
            assert self.parse_special is not None
            return self.parse_special(raw)
        return raw.decode("utf-8", "surrogateescape")

    def format(self, value: Any) -> str:
        if self.kind == "bool":
            return "yes" if value else "no"
        if self.kind == "special":
            assert self.format_special is not None
            return self.format_special(value)
        return str(value)


# -- special parameters --------------------------------------------------------

OutputLimits = dict[str, tuple[int, int, int]]  # class -> (hard bytes, soft bytes, soft seconds)


def parse_output_buffer_limits(raw: bytes, base: OutputLimits | None = None) -> OutputLimits:
    """``normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60``: groups of four."""
    parts = raw.split()
    if not parts or len(parts) % 4:
        raise ConfigError("Wrong number of arguments in buffer limit configuration.")
    limits = dict(base or DEFAULT_OUTPUT_LIMITS)
    for i in range(0, len(parts), 4):
        cls = parts[i].decode("utf-8", "replace").lower()
        if cls == "slave":
            cls = "replica"
        if cls not in ("normal", "replica", "pubsub"):
            raise ConfigError("Invalid client class specified in buffer limit configuration.")
        try:
            hard = parse_memory(parts[i + 1])
            soft = parse_memory(parts[i + 2])
            seconds = int(parts[i + 3])
        except (ConfigError, ValueError):
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.") from None
        if seconds < 0:
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
        limits[cls] = (hard, soft, seconds)
    return limits


def format_output_buffer_limits(limits: OutputLimits) -> str:
    return " ".join(f"{cls} {h} {s} {sec}" for cls, (h, s, sec) in limits.items())


DEFAULT_OUTPUT_LIMITS: OutputLimits = {
    "normal": (0, 0, 0),
    "replica": (256 * 1024 * 1024, 64 * 1024 * 1024, 60),
    "pubsub": (32 * 1024 * 1024, 8 * 1024 * 1024, 60),
}


def parse_save(raw: bytes) -> list[tuple[int, int]]:
    parts = raw.split()
    if len(parts) % 2:
        raise ConfigError("Invalid save parameters")
    try:
        points = [(int(parts[i]), int(parts[i + 1])) for i in range(0, len(parts), 2)]
    except ValueError:
        raise ConfigError("Invalid save parameters") from None
    if any(s < 1 or c < 0 for s, c in points):
        raise ConfigError("Invalid save parameters")
    return points


def parse_bind(raw: bytes) -> list[str]:
    addrs = [a.decode() for a in raw.split()]
    if not addrs:
        raise ConfigError("Too many bind addresses specified.")
    return addrs


PARAMS: tuple[Param, ...] = (
    Param("bind", "special", ["127.0.0.1", "-::1"], parse_special=parse_bind, format_special=" ".join),
    Param("port", "int", 6379, minimum=0, maximum=65535),
    Param("databases", "int", 16, mutable=False, minimum=1, maximum=2**31 - 1),
    Param("maxclients", "int", 10000, minimum=1, maximum=2**31 - 1),
    Param("timeout", "int", 0, minimum=0, maximum=2**31 - 1),
    Param("tcp-keepalive", "int", 300, minimum=0, maximum=2**31 - 1),
    Param("tcp-backlog", "int", 511, mutable=False, minimum=0, maximum=2**31 - 1),
    Param("loglevel", "enum", "notice", choices=("debug", "verbose", "notice", "warning", "nothing")),
    Param("logfile", "string", "", mutable=False),
    Param("pidfile", "string", "", mutable=False),
    Param("daemonize", "bool", False, mutable=False),
    Param("requirepass", "string", ""),
    Param("protected-mode", "bool", True),
    Param("proto-max-bulk-len", "memory", 512 * 1024 * 1024, minimum=1024 * 1024, maximum=2**63 - 1),
    Param("client-query-buffer-limit", "memory", 1024 * 1024 * 1024, minimum=1024 * 1024, maximum=2**63 - 1),
    Param(
        "client-output-buffer-limit",
        "special",
        DEFAULT_OUTPUT_LIMITS,
        parse_special=parse_output_buffer_limits,
        format_special=format_output_buffer_limits,
    ),
    Param("hz", "int", 10, minimum=0, maximum=2**31 - 1),
    Param("dynamic-hz", "bool", True),
    Param("enable-debug-command", "enum", "no", mutable=False, choices=("no", "yes", "local")),
    Param("dir", "string", "."),
    Param("dbfilename", "string", "dump.rdb"),
    Param("save", "special", [], parse_special=parse_save, format_special=lambda v: " ".join(f"{s} {c}" for s, c in v)),
    Param("appendonly", "bool", False),
    Param("maxmemory", "memory", 0, minimum=0, maximum=2**63 - 1),
    Param(
        "maxmemory-policy",
        "enum",
        "noeviction",
        choices=(
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ),
    ),
    Param("maxmemory-samples", "int", 5, minimum=1, maximum=64),
    Param("active-expire-effort", "int", 1, minimum=1, maximum=10),
    Param("lazyfree-lazy-user-flush", "bool", False),
    Param("lazyfree-lazy-user-del", "bool", False),
    Param("cacheflow-text-protocol", "bool", True),
)

PARAMS_BY_NAME: dict[str, Param] = {p.name: p for p in PARAMS}


class Config:
    """Current configuration values as attributes, plus bookkeeping for CONFIG REWRITE."""

    def __init__(self) -> None:
        for p in PARAMS:
            setattr(self, p.attr, p.default)
        self.config_file: str | None = None
        self.explicit: set[str] = set()

    # Parameter attributes are created from PARAMS; these tell mypy they exist.
    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)

    def value(self, name: str) -> Any:
        return getattr(self, PARAMS_BY_NAME[name].attr)

    def formatted(self, name: str) -> str:
        p = PARAMS_BY_NAME[name]
        return p.format(getattr(self, p.attr))

    def matching(self, pattern: bytes) -> list[tuple[str, str]]:
        """(name, formatted value) of every parameter whose name matches the glob, nocase."""
        if pattern.decode("utf-8", "replace").lower() in PARAMS_BY_NAME:
            name = pattern.decode().lower()
            return [(name, self.formatted(name))]
        match = compile_glob(pattern, nocase=True)
        return [(p.name, self.formatted(p.name)) for p in PARAMS if match(p.name.encode())]

    def set_many(self, pairs: Iterable[tuple[bytes, bytes]], at_startup: bool = False) -> dict[str, Any]:
        """Validate every pair, then apply all or none; returns {name: new value}.

        Raises ConfigError with Redis's CONFIG SET wording on the first bad pair.
        """
        parsed: dict[str, Any] = {}
        for raw_name, raw_value in pairs:
            name = raw_name.decode("utf-8", "replace").lower()
            if name == "slave-serve-stale-data":
                name = "replica-serve-stale-data"
            p = PARAMS_BY_NAME.get(name)
            if p is None:
                raise ConfigError(f"Unknown option or number of arguments for CONFIG SET - '{name}'")
            if name in parsed:
                raise ConfigError(f"CONFIG SET failed (possibly related to argument '{name}') - duplicate parameter")
            if not p.mutable and not at_startup:
                raise ConfigError(
                    f"CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config"
                )
            try:
                parsed[name] = p.parse(raw_value)
            except ConfigError as e:
                raise ConfigError(f"CONFIG SET failed (possibly related to argument '{name}') - {e}") from None
        return parsed

    def apply(self, parsed: dict[str, Any]) -> dict[str, Any]:
        """Store parsed values; return the previous ones so the caller can roll back."""
        previous = {}
        for name, value in parsed.items():
            attr = PARAMS_BY_NAME[name].attr
            previous[name] = getattr(self, attr)
            setattr(self, attr, value)
            self.explicit.add(name)
        return previous
