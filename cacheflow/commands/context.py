"""What a command handler sees: its client's session state and the server's services.

A handler is a plain function ``(ctx, argv) -> bytes``.  It reads and writes the
keyspace through ``ctx.db`` / ``ctx.keyspace``, reports the writes it made by
appending normalized effects to ``ctx.effects``, and reaches anything outside
the keyspace (other clients, shutdown, config files) through ``ctx.server``,
an interface the server implements.  Handlers never do I/O themselves.
"""

from typing import TYPE_CHECKING, Any, Protocol

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

    def info_stats(self) -> dict[str, Any]: ...

    def blocking_sleep(self, seconds: float) -> None: ...

    def last_save(self) -> int: ...


class EngineServices(Protocol):
    """Engine operations some handlers need (transactions, lookups by name)."""

    def watch(self, ctx: "Context", key: bytes) -> None: ...

    def unwatch_all(self, ctx: "Context") -> None: ...

    def exec_transaction(self, ctx: "Context") -> bytes: ...

    def discard_transaction(self, ctx: "Context") -> None: ...

    def resolve(self, argv: list[bytes]) -> "Command": ...


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
        "reply_mode",
        "no_evict",
        "no_touch",
        "in_multi",
        "multi_queue",
        "multi_error",
        "watched",
        "watch_dirty",
        "close_after_reply",
        "kind",
        "stats_net_in",
        "stats_net_out",
        "qbuf",
        "obuf",
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
        self.reply_mode = 0  # 0: on, 1: off, 2: skip the next reply
        self.no_evict = False
        self.no_touch = False
        self.in_multi = False
        self.multi_queue: list[tuple[Command, list[bytes]]] = []
        self.multi_error = False
        self.watched: dict[tuple[int, bytes], bool] = {}  # (db, key) -> existed when watched
        self.watch_dirty = False
        self.close_after_reply = False
        self.kind = "normal"
        self.stats_net_in = 0
        self.stats_net_out = 0
        self.qbuf = 0
        self.obuf = 0

    @property
    def db_index(self) -> int:
        return self.db.index

    def select(self, index: int) -> None:
        self.db = self.keyspace.dbs[index]
