"""What a command handler sees: its client's session state and the server's services.

A handler is a plain function ``(ctx, argv) -> bytes``.  It reads and writes the
keyspace through ``ctx.db`` / ``ctx.keyspace``, reports the writes it made by
appending normalized effects to ``ctx.effects``, and reaches anything outside
the keyspace (other clients, shutdown, config files) through ``ctx.server``,
an interface the server implements.  Handlers never do I/O themselves.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar

from cacheflow.commands.errors import WRONGTYPE
from cacheflow.resp.errors import CommandError
from cacheflow.store.keyspace import Database, Keyspace

if TYPE_CHECKING:
    from cacheflow.commands.table import Command, CommandTable
    from cacheflow.config.schema import Config


class ServerServices(Protocol):
    """Services only the server can provide; handlers call these, never sockets."""

    def clients(self) -> list["Context"]: ...

    def client_by_id(self, client_id: int) -> "Context | None": ...

    def kill_client(self, ctx: "Context") -> None: ...

    def pause_clients(self, until_ms: int, writes_only: bool) -> None: ...

    def unpause_clients(self) -> None: ...

    def request_shutdown(self, save: bool | None, now: bool, force: bool) -> str | None:
        """Start a shutdown; returns an error message when it cannot."""
        ...

    def rewrite_config(self) -> None: ...

    def apply_config(self, changed: dict[str, Any]) -> None:
        """Make changed parameters take effect (ports, limits, logging...)."""
        ...

    def info_server(self) -> dict[str, Any]: ...

    def info_clients(self) -> dict[str, Any]: ...

    def info_memory(self) -> dict[str, Any]: ...

    def memory_stats(self) -> list[tuple[str, Any]]: ...

    def purge_memory(self) -> None:
        """MEMORY PURGE: hand the allocator's free pages back to the OS."""
        ...

    def info_stats(self) -> dict[str, Any]: ...

    def info_persistence(self) -> dict[str, Any]: ...

    def info_replication(self) -> dict[str, Any]: ...

    def info_cpu(self) -> dict[str, Any]: ...

    def error_stats(self) -> dict[str, int]:
        """Error replies counted by prefix (INFO errorstats)."""
        ...

    def reset_stats(self) -> None: ...

    def client_buffers(self, ctx: "Context") -> tuple[int, int]:
        """(query buffer bytes, output buffer bytes) of a client, for CLIENT LIST."""
        ...

    def set_active_expire(self, enabled: bool) -> None: ...

    def now_us(self) -> int:
        """Wall-clock microseconds since the epoch (TIME)."""
        ...

    def blocking_sleep(self, seconds: float) -> None: ...

    def last_save(self) -> int: ...

    def save(self) -> None:
        """SAVE: write the snapshot now; raises CommandError with Redis's error text."""
        ...

    def bgsave(self, schedule: bool, in_exec: bool) -> str:
        """BGSAVE [SCHEDULE]: the status text; raises CommandError with Redis's error text."""
        ...

    def debug_reload(self, save: bool, flush: bool) -> None:
        """DEBUG RELOAD: save (unless NOSAVE), flush (unless NOFLUSH), load the snapshot; raises CommandError."""
        ...

    def bgrewriteaof(self) -> str:
        """BGREWRITEAOF: the status text; raises CommandError with Redis's error text."""
        ...


ATTENTION_REPLY_MODE: Final = 1
ATTENTION_CLOSE: Final = 2
ATTENTION_OUTPUT_LIMIT: Final = 4  # set by the server while client-output-buffer-limit is active
ATTENTION_BLOCKED: Final = 8  # set by the engine while the client waits in a blocking command (engine/blocking.py)

# A blocked client's server: (its session, a key that may be ready) -> its reply, or None to keep waiting.
ServeFn = Callable[["Context", bytes], bytes | None]


class EngineServices(Protocol):
    """Engine operations some handlers need (transactions, lookups by name)."""

    def watch(self, ctx: "Context", key: bytes) -> None: ...

    def unwatch_all(self, ctx: "Context") -> None: ...

    def exec_transaction(self, ctx: "Context") -> bytes: ...

    def discard_transaction(self, ctx: "Context") -> None: ...

    def resolve(self, argv: list[bytes]) -> "Command": ...

    def block(self, ctx: "Context", keys: list[bytes], serve: ServeFn, deadline_ms: int | None) -> bytes:
        """Block ``ctx`` until ``serve`` answers for one of ``keys`` (see engine/blocking.py)."""
        ...

    def unblock(self, ctx: "Context", error: bool) -> bool:
        """CLIENT UNBLOCK: False when ``ctx`` is not blocked."""
        ...


class Context:
    """One client's session.  The engine owns its lifecycle; handlers read and update it."""

    __slots__ = (
        "id",
        "db",
        "proto",
        "keyspace",
        "effects",
        "server",
        "engine",
        "table",
        "config",
        "authenticated",
        "user",
        "name",
        "lib_name",
        "lib_ver",
        "addr",
        "laddr",
        "fd",
        "created_ms",
        "last_interaction_ms",
        "last_command",
        "flags",
        "_reply_mode",
        "_close_after_reply",
        "attention",
        "no_evict",
        "no_touch",
        "in_multi",
        "multi_queue",
        "multi_error",
        "watched",
        "watch_dirty",
        "kind",
        "blocked",
        "deny_blocking",
    )

    def __init__(
        self,
        client_id: int,
        keyspace: Keyspace,
        server: ServerServices,
        engine: EngineServices,
        table: "CommandTable",
        config: "Config",
    ) -> None:
        self.id = client_id
        self.keyspace = keyspace
        self.db: Database = keyspace.dbs[0]
        self.proto = 2
        self.effects: list[list[bytes]] = []
        self.server = server
        self.engine = engine
        self.table = table
        self.config = config
        self.authenticated = not config.requirepass
        self.user = "default"
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        self.addr = "127.0.0.1:0"
        self.laddr = "127.0.0.1:0"
        self.fd = -1
        self.created_ms = keyspace.clock.now_ms()
        self.last_interaction_ms = self.created_ms
        self.last_command: Command | None = None
        self.flags = ""
        # Bits the connection must look at after a reply (see ATTENTION_*); one int so the
        # hot path tests a single attribute per request.
        self.attention = 0
        self._reply_mode = 0
        self._close_after_reply = False
        self.no_evict = False
        self.no_touch = False
        self.in_multi = False
        self.multi_queue: list[tuple[Command, list[bytes]]] = []
        self.multi_error = False
        self.watched: dict[tuple[int, bytes], bool] = {}  # (db, key) -> existed when watched
        self.watch_dirty = False
        self.kind = "normal"
        self.blocked: object | None = None  # the engine's record while blocked (BLPOP...), else None
        self.deny_blocking = False  # True while EXEC runs: blocking commands answer as on timeout

    @property
    def reply_mode(self) -> int:
        """CLIENT REPLY: 0 on, 1 off, 2 skip requested (drop this reply and the next), 3 skip next."""
        return self._reply_mode

    @reply_mode.setter
    def reply_mode(self, mode: int) -> None:
        self._reply_mode = mode
        self.attention = (self.attention | ATTENTION_REPLY_MODE) if mode else (self.attention & ~ATTENTION_REPLY_MODE)

    @property
    def close_after_reply(self) -> bool:
        """Close the connection once the current reply is sent (QUIT, CLIENT KILL of oneself)."""
        return self._close_after_reply

    @close_after_reply.setter
    def close_after_reply(self, value: bool) -> None:
        self._close_after_reply = value
        self.attention = (self.attention | ATTENTION_CLOSE) if value else (self.attention & ~ATTENTION_CLOSE)

    @property
    def db_index(self) -> int:
        return self.db.index

    def select(self, index: int) -> None:
        self.db = self.keyspace.dbs[index]


_T = TypeVar("_T")


def expect_type(value: object, cls: type[_T]) -> _T | None:
    """``value`` when the key is missing (None) or holds a ``cls``; WRONGTYPE otherwise.

    The one check behind every data-type command's typed lookup.
    """
    if value is None or type(value) is cls:
        return value  # type: ignore[return-value]
    raise CommandError(WRONGTYPE)
