"""The server: listeners, the client registry, the cron, shutdown, and the services handlers use.

Everything with sockets, timers or signals lives here; the engine below it is
synchronous and pure.  ``cached_ms`` is refreshed by the cron and used where a
coarse time is enough (idle times), so the request path never reads the clock.
"""

import asyncio
import collections
import contextlib
import gc
import ipaddress
import logging
import os
import platform
import resource
import socket
import sys
import time
from collections.abc import Callable
from typing import Any, Final

from cacheflow import REDIS_COMPAT_VERSION, __version__
from cacheflow.commands import TABLE
from cacheflow.commands.context import ATTENTION_OUTPUT_LIMIT, Context
from cacheflow.commands.table import Flag
from cacheflow.config import file as config_file
from cacheflow.config.schema import PARAMS_BY_NAME, Config, ConfigError
from cacheflow.engine.engine import Engine
from cacheflow.persistence.service import Durability, RewriteError
from cacheflow.persistence.snapshots import MISCONF, SnapshotError, Snapshots
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError
from cacheflow.resp.parser import Limits
from cacheflow.server import allocator, logging_setup
from cacheflow.server.connection import Connection
from cacheflow.store.clock import SystemClock
from cacheflow.store.eviction import eviction_time_limit_us
from cacheflow.store.keyspace import Keyspace

log = logging.getLogger("cacheflow")

# Redis: keep a few descriptors for the server's own use beyond maxclients.
_RESERVED_FDS: Final = 32
_EXPIRE_SAMPLE: Final = 20
_EXPIRE_ACCEPTABLE_STALE: Final = 10  # percent
_FIELD_EXPIRE_LIMIT: Final = 1000  # hash fields reclaimed per database per cron run
_METRIC_SAMPLES: Final = 16  # as Redis: instantaneous metrics average 16 samples taken every 100 ms
_METRIC_PERIOD_MS: Final = 100
# Clients using less than this are never evicted by maxmemory-clients (Redis's smallest eviction bucket).
CLIENT_EVICTION_MIN_BYTES: Final = 32 * 1024
_MEMORY_PARAMS: Final = frozenset(
    {
        "maxmemory",
        "maxmemory-policy",
        "maxmemory-samples",
        "maxmemory-eviction-tenacity",
        "lfu-log-factor",
        "lfu-decay-time",
    }
)
_PROTECTED_MODE_DENIED: Final = (
    b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set "
    b"for the default user. In this mode connections are only accepted from the loopback interface. "
    b"If you want to connect from external computers to Redis you may adopt one of the following solutions: "
    b"1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback "
    b"interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is "
    b"not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. "
    b"2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and "
    b"setting the protected mode option to 'no', and then restarting the server. "
    b"3) If you started the server manually just for testing, restart it with the '--protected-mode no' "
    b"option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of "
    b"the above things in order for the server to start accepting connections from the outside.\r\n"
)


def freeze_after_full_collection(phase: str, info: dict[str, int]) -> None:
    """Freeze whatever survives a full collection, so the next one walks only what came after.

    Without it a full collection walks every tracked object: each hash, list,
    set and sorted set of the dataset, which is 140 ms of stopped loop at a
    million small hashes, again every time survivors grow by a quarter.  Right
    after a full collection everything still tracked is reachable, so nothing
    collectable is frozen.  What is frozen and later dies is still freed by its
    reference count; only a frozen object that later dies in a reference cycle
    would never be freed, and the server's long-lived objects (values,
    connections, contexts) are freed by reference counting alone (checked with
    the collector disabled through connection churn and FLUSHALLs).
    """
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


class ServerStats:
    __slots__ = (
        "total_connections_received",
        "rejected_connections",
        "net_input_bytes",
        "net_output_bytes",
        "protocol_errors",
        "client_output_limit_disconnections",
        "client_query_buffer_limit_disconnections",
        "evicted_clients",
    )

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.total_connections_received = 0
        self.rejected_connections = 0
        self.net_input_bytes = 0
        self.net_output_bytes = 0
        self.protocol_errors = 0
        self.client_output_limit_disconnections = 0
        self.client_query_buffer_limit_disconnections = 0
        self.evicted_clients = 0


class Server:
    """Implements ``ServerServices`` for handlers."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.clock = SystemClock()
        self.keyspace = Keyspace(config.databases, self.clock)
        self.engine = Engine(TABLE, self.keyspace)
        self.limits = Limits(config.proto_max_bulk_len, config.client_query_buffer_limit)
        self.stats = ServerStats()
        self.connections: dict[int, Connection] = {}
        self.next_client_id = 1
        self.cached_ms = self.clock.now_ms()
        self.start_time = time.time()
        self.paused_until = 0
        self.pause_writes_only = False
        self.output_limits_active = False
        self.listeners: list[asyncio.base_events.Server] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopped: asyncio.Future[None] | None = None
        self._soft_limit_since: dict[int, float] = {}
        self._cron_handle: asyncio.TimerHandle | None = None
        # Blocked clients with a timeout (BLPOP...): client id -> the timer that times them out.
        self._block_timers: dict[int, asyncio.TimerHandle] = {}
        self.engine.blocking.on_unblocked = self._unblocked
        self.active_expire_enabled = True
        self.used_memory_peak = 0
        self.replid = os.urandom(20).hex()
        # (ms, commands, net in, net out) every ~100 ms, for INFO's instantaneous_* fields.
        self._metric_samples: collections.deque[tuple[int, int, int, int]] = collections.deque(maxlen=_METRIC_SAMPLES)
        self._apply_output_limits()
        self._apply_memory_config()
        self.used_memory_startup = _rss_bytes()
        # Replies pass through reply_gate while it is set (the AOF holds them until their
        # write is fsynced under appendfsync always); see Connection._send.
        self.reply_gate: Any = None
        self.durability = Durability(config, self.keyspace, self.engine, self._aof_context, self._set_reply_gate)
        # RDB snapshots (persistence/snapshots.py); one fork at a time, so it asks about the AOF's child.
        self.snapshots = Snapshots(config, self.keyspace, self.engine, lambda: bool(self.durability.child_pid))
        self.durability.other_child_active = lambda: bool(self.snapshots.child_pid)
        self.durability.on_disk_status_change = self._refresh_disk_gate
        self._disk_gate = False  # writes get -MISCONF (see _admit)
        # Set while some requests are refused (loading, -MISCONF): every request asks it first.
        self.admission: Callable[[Context, list[bytes]], bytes | None] | None = None

    def _aof_context(self) -> Context:
        return Context(0, self.keyspace, self, self.engine, TABLE, self.config)

    def _set_reply_gate(self, gate: Any) -> None:
        self.reply_gate = gate

    # -- startup and shutdown -------------------------------------------------

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stopped = self.loop.create_future()
        self._raise_fd_limit()
        await self._listen()
        await self._load()
        self.durability.open_on_start(self.loop)
        # What is alive now (modules, the command table, a loaded dataset) lives as long as the
        # server; frozen, the cyclic GC's full collections no longer walk it, each a stop of the loop.
        gc.freeze()
        if freeze_after_full_collection not in gc.callbacks:
            gc.callbacks.append(freeze_after_full_collection)
        self._schedule_cron()

    async def _load(self) -> None:
        """Load the AOF, letting the loop run between chunks so new clients get -LOADING."""
        self.admission = self._admit
        try:
            for _ in self.durability.load_on_start():
                await asyncio.sleep(0)
            if not self.config.appendonly:  # as Redis: the AOF, when on, is the dataset; else dump.rdb
                await self.snapshots.load_on_start()
        finally:
            self._update_admission()

    async def _listen(self) -> None:
        try:
            socks = self._bind_listeners(self.config.bind, self.config.port)
        except OSError:
            log.warning("Failed listening on port %d (tcp), aborting.", self.config.port)
            raise
        if not socks:
            log.warning("Configured to not listen anywhere, exiting.")
            raise OSError("no listening socket")
        await self._serve(socks)

    def _bind_listeners(self, bind: list[str], port: int) -> list[socket.socket]:
        """Bind and listen on every address now, so a failure is reported to whoever asked.

        Addresses prefixed with ``-`` are optional, as in Redis; an empty list
        means every interface (Redis's ``* -::*``).
        """
        socks: list[socket.socket] = []
        if port == 0:  # as in Redis, port 0 means no TCP listener at all
            return socks
        try:
            for entry in bind or ["*", "-::*"]:
                optional = entry.startswith("-")
                host = entry.lstrip("-")
                host = {"*": "0.0.0.0", "::*": "::"}.get(host, host)
                try:
                    socks.append(self._listening_socket(host, port))
                except OSError as e:
                    if optional:
                        log.log(15, "Skipping optional bind address %s: %s", host, e)
                        continue
                    log.warning("Warning: Could not create server TCP listening socket %s:%d: %s", host, port, e)
                    raise
            if not socks:
                raise OSError(f"could not listen on any address for port {port}")
        except OSError:
            for sock in socks:
                sock.close()
            raise
        return socks

    def _listening_socket(self, host: str, port: int) -> socket.socket:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, addr = infos[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(addr)
            sock.listen(self.config.tcp_backlog)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        return sock

    async def _serve(self, socks: list[socket.socket]) -> None:
        assert self.loop is not None
        for sock in socks:
            srv = await self.loop.create_server(self._new_connection, sock=sock, backlog=self.config.tcp_backlog)
            self.listeners.append(srv)

    @property
    def loading(self) -> bool:
        return self.durability.loading or self.snapshots.loading

    def _new_connection(self) -> Connection:
        return Connection(self)

    def _update_admission(self) -> None:
        """Requests pass _admit only while some are refused (loading, -MISCONF): otherwise the hot path skips it."""
        self.admission = self._admit if (self.loading or self._disk_gate) else None

    def _admit(self, ctx: Context, argv: list[bytes]) -> bytes | None:
        """The reply refusing this request (-LOADING, -MISCONF), or None to run it, as Redis's processCommand."""
        if self.loading:
            engine = self.engine
            cmd = engine.find(argv[0])
            if cmd is not None and cmd.flags & Flag.LOADING:
                return None
            if cmd is not None and cmd.name == "exec":
                return engine.abort_exec(ctx, cmd, _LOADING[1:-2].decode())
            engine.errors.count("LOADING")
            if cmd is not None:
                cmd.rejected_calls += 1
            return _LOADING
        return self.misconf_reply(ctx, argv)

    def _raise_fd_limit(self) -> None:
        """Raise the open-files limit for maxclients, or lower maxclients with a warning, as Redis does."""
        wanted = self.config.maxclients + _RESERVED_FDS
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft >= wanted:
            return
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
        if soft < wanted:
            new_max = max(1, soft - _RESERVED_FDS)
            log.warning(
                "You requested maxclients of %d requiring at least %d max file descriptors. "
                "Server can't set maximum open files to %d; maxclients has been reduced to %d.",
                self.config.maxclients,
                wanted,
                wanted,
                new_max,
            )
            self.config.maxclients = new_max

    async def serve_forever(self) -> None:
        await self.start()
        assert self.stopped is not None
        await self.stopped

    def stop(self) -> None:
        self.snapshots.kill_child()
        self.durability.shutdown()
        if self._cron_handle is not None:
            self._cron_handle.cancel()
        for srv in self.listeners:
            srv.close()
        for conn in list(self.connections.values()):
            conn.close()
        if self.stopped is not None and not self.stopped.done():
            self.stopped.set_result(None)

    # -- clients -------------------------------------------------------------

    def new_context(self, conn: Connection, transport: asyncio.Transport) -> Context:
        ctx = Context(self.next_client_id, self.keyspace, self, self.engine, TABLE, self.config)
        self.next_client_id += 1
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        ctx.addr = _format_addr(peer)
        ctx.laddr = _format_addr(local)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            ctx.fd = sock.fileno()
            self._set_keepalive(sock)
        ctx.created_ms = ctx.last_interaction_ms = self.cached_ms
        self._mark_output_limit(ctx)
        return ctx

    def _set_keepalive(self, sock: Any) -> None:
        import socket

        interval = self.config.tcp_keepalive
        if interval <= 0 or sock.family not in (socket.AF_INET, socket.AF_INET6):
            return
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            if hasattr(socket, "TCP_KEEPIDLE"):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, interval)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, interval // 3))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
        except OSError:
            pass

    def register(self, conn: Connection) -> None:
        self.connections[conn.ctx.id] = conn
        self.stats.total_connections_received += 1

    def unregister(self, conn: Connection) -> None:
        ctx = getattr(conn, "ctx", None)
        if ctx is None or self.connections.get(ctx.id) is not conn:
            return
        del self.connections[ctx.id]
        self.forget_blocked(ctx)
        self.engine.discard_transaction(ctx)
        self._soft_limit_since.pop(ctx.id, None)

    def protected_mode_denial(self, transport: asyncio.Transport) -> bytes | None:
        if not self.config.protected_mode or self.config.requirepass:
            return None
        peer = transport.get_extra_info("peername")
        if not isinstance(peer, tuple):
            return None
        try:
            if ipaddress.ip_address(peer[0]).is_loopback:
                return None
        except ValueError:
            return None
        return _PROTECTED_MODE_DENIED

    # -- blocked clients (BLPOP...; the registry is engine/blocking.py) ---------

    def client_blocked(self, conn: Connection) -> None:
        """A request just blocked ``conn``'s client: arm its timeout, if it has one."""
        ctx = conn.ctx
        deadline = self.engine.blocking.deadline(ctx)
        if deadline is None or self.loop is None:
            return
        delay = max(0, deadline - self.clock.now_ms()) / 1000
        self._block_timers[ctx.id] = self.loop.call_later(delay, self._block_timed_out, ctx)

    def _block_timed_out(self, ctx: Context) -> None:
        self._block_timers.pop(ctx.id, None)
        self.engine.blocking.time_out(ctx)

    def _unblocked(self, ctx: Context, reply: bytes) -> None:
        """The engine unblocked a client (served, timed out, CLIENT UNBLOCK): reply, then run its input."""
        timer = self._block_timers.pop(ctx.id, None)
        if timer is not None:
            timer.cancel()
        conn = self.connections.get(ctx.id)
        if conn is None:
            return
        if ctx.reply_mode != 1:  # CLIENT REPLY OFF drops it, as every reply
            conn.write_reply(reply)
        if self.loop is not None:
            self.loop.call_soon(conn.resume)  # as Redis's unblocked_clients, processed after this event

    def forget_blocked(self, ctx: Context) -> None:
        """The client is going away: drop its wait (and timer) without replying."""
        self.engine.blocking.forget(ctx)
        timer = self._block_timers.pop(ctx.id, None)
        if timer is not None:
            timer.cancel()

    # -- output buffer limits -----------------------------------------------

    def _apply_output_limits(self) -> None:
        hard, soft, _ = self.config.client_output_buffer_limit["normal"]
        self.output_limits_active = bool(hard or soft)
        for conn in self.connections.values():
            self._mark_output_limit(conn.ctx)

    def _mark_output_limit(self, ctx: Context) -> None:
        """Connections check output limits only while the ATTENTION_OUTPUT_LIMIT bit is set."""
        if self.output_limits_active:
            ctx.attention |= ATTENTION_OUTPUT_LIMIT
        else:
            ctx.attention &= ~ATTENTION_OUTPUT_LIMIT

    def check_output_limits(self, conn: Connection) -> None:
        hard, soft, seconds = self.config.client_output_buffer_limit["normal"]
        size = conn.output_buffer_size()
        over_soft = bool(soft) and size > soft
        if hard and size > hard:
            self._disconnect_for_output(conn, size)
            return
        if over_soft:
            since = self._soft_limit_since.setdefault(conn.ctx.id, time.monotonic())
            if time.monotonic() - since >= seconds:
                self._disconnect_for_output(conn, size)
        else:
            self._soft_limit_since.pop(conn.ctx.id, None)

    # -- client eviction (maxmemory-clients) ------------------------------------

    def _client_memory_limit(self) -> int:
        """maxmemory-clients in bytes (a percentage is of maxmemory, so none without maxmemory); 0: no limit."""
        limit = int(self.config.maxmemory_clients)
        if limit < 0:
            return int(self.config.maxmemory) * -limit // 100
        return limit

    def _evict_clients(self) -> None:
        """While the clients together use more than maxmemory-clients, close the one using the most.

        As Redis's client eviction: what counts is each connection's query and
        output buffers; a client under 32 KB is never evicted (Redis's smallest
        eviction bucket), nor one that asked CLIENT NO-EVICT on.  Checked by the
        cron, so a client may stay over the limit for up to one cron period,
        where Redis checks after every command.
        """
        limit = self._client_memory_limit()
        if not limit:
            return
        sizes = [(c.buffer_memory(), c) for c in self.connections.values()]
        total = sum(size for size, _ in sizes)
        if total <= limit:
            return
        candidates = [(size, c) for size, c in sizes if size >= CLIENT_EVICTION_MIN_BYTES and not c.ctx.no_evict]
        candidates.sort(key=lambda pair: pair[0], reverse=True)
        for size, conn in candidates:
            if total <= limit:
                break
            log.warning("Evicting client: id=%d addr=%s (%d bytes)", conn.ctx.id, conn.ctx.addr, size)
            self.stats.evicted_clients += 1
            total -= size
            conn.abort()

    def _disconnect_for_output(self, conn: Connection, size: int) -> None:
        log.warning(
            "Client id=%d addr=%s closed for overcoming of output buffer limits (%d bytes).",
            conn.ctx.id,
            conn.ctx.addr,
            size,
        )
        self.stats.client_output_limit_disconnections += 1
        conn.abort()

    # -- pause -----------------------------------------------------------------

    def pause_applies(self, ctx: Context, argv: list[bytes]) -> bool:
        if not self.paused_until:
            return False
        if self.cached_ms >= self.paused_until and self.clock.now_ms() >= self.paused_until:
            self.unpause_clients()
            return False
        if not self.pause_writes_only:
            return True
        cmd = self.engine.find(argv[0])
        if cmd is None:
            return False
        # EVAL and PUBLISH will be declared MAY_REPLICATE, as in Redis: the flag decides, not a name list.
        return bool(cmd.flags & (Flag.WRITE | Flag.MAY_REPLICATE)) or (ctx.in_multi and cmd.name == "exec")

    def pause_clients(self, until_ms: int, writes_only: bool) -> None:
        """CLIENT PAUSE: as in Redis, a second pause keeps the later end and the stricter mode."""
        if self.paused_until:
            writes_only = writes_only and self.pause_writes_only
            until_ms = max(until_ms, self.paused_until)
        self.paused_until = until_ms
        self.pause_writes_only = writes_only

    def unpause_clients(self) -> None:
        self.paused_until = 0
        self.pause_writes_only = False
        for conn in list(self.connections.values()):
            if conn.has_held_requests():
                conn.resume()

    # -- cron ------------------------------------------------------------------

    def _schedule_cron(self) -> None:
        assert self.loop is not None
        hz = max(1, min(500, self.config.hz or 1))
        self._cron_handle = self.loop.call_later(1.0 / hz, self._cron)

    def _cron(self) -> None:
        try:
            self.cached_ms = self.clock.now_ms()
            self.keyspace.refresh_lru_clock()
            self.keyspace.used_memory()  # settles re-measurements deferred since the last run (Database.settle)
            self._active_expire()
            if self.engine.evicting:  # an eviction run that stopped at its time limit goes on
                self.engine.evict()
            self._client_timeouts()
            self._evict_clients()
            if self.paused_until and self.cached_ms >= self.paused_until:
                self.unpause_clients()
            self._sample_metrics()
            self.snapshots.cron()
            if not self.snapshots.child_pid:  # one child at a time, as Redis
                self.durability.cron()
            self._refresh_disk_gate()
        except Exception:
            log.exception("error in server cron")
        finally:
            self._schedule_cron()

    def _active_expire(self) -> None:
        """Redis's slow expire cycle: sample volatile keys, repeat while >10% were stale, bounded in time."""
        if not self.active_expire_enabled or (self.paused_until and self.pause_writes_only):
            return  # DEBUG SET-ACTIVE-EXPIRE 0; and, as in Redis, keys do not expire during a write pause
        hz = max(1, self.config.hz)
        budget = 0.25 / hz  # 25% of one cron period, in seconds
        start = time.perf_counter()
        stats = self.keyspace.stats
        for db in self.keyspace.dbs:
            if not db.expires:
                continue
            while True:
                checked, expired = db.expire_step(_EXPIRE_SAMPLE)
                if checked == 0 or expired * 100 <= checked * _EXPIRE_ACCEPTABLE_STALE:
                    break
                if time.perf_counter() - start > budget:
                    break
            if time.perf_counter() - start > budget:
                break
        for db in self.keyspace.dbs:  # hash fields past their TTL (Redis 7.4), a bounded number per cycle
            if db.field_expiry and time.perf_counter() - start <= budget:
                db.expire_fields_step(_FIELD_EXPIRE_LIMIT)
        stats.expire_cycle_time_used_ms += int((time.perf_counter() - start) * 1000)

    def _client_timeouts(self) -> None:
        timeout = self.config.timeout
        if not timeout:
            return
        limit = self.cached_ms - timeout * 1000
        for conn in list(self.connections.values()):
            ctx = conn.ctx
            if ctx.last_interaction_ms < limit and ctx.kind == "normal" and ctx.blocked is None:
                log.log(15, "Closing idle client id=%d", ctx.id)
                conn.close()

    # -- ServerServices -------------------------------------------------------

    def clients(self) -> list[Context]:
        return [c.ctx for c in self.connections.values()]

    def client_by_id(self, client_id: int) -> Context | None:
        conn = self.connections.get(client_id)
        return conn.ctx if conn is not None else None

    def connection_of(self, ctx: Context) -> Connection | None:
        return self.connections.get(ctx.id)

    def kill_client(self, ctx: Context) -> None:
        """Close another client's connection (a client killing itself sets close_after_reply instead)."""
        conn = self.connections.get(ctx.id)
        if conn is not None:
            conn.close()

    def request_shutdown(self, save: bool | None, now: bool, force: bool) -> str | None:
        """SHUTDOWN (and SIGTERM): like Redis, save when asked to, or when save points are
        configured and NOSAVE was not given; a failed save stops the shutdown unless FORCE."""
        log.warning("User requested shutdown...")
        if not self.snapshots.prepare_shutdown(save, force, self.loading):
            log.warning("Errors trying to shut down the server. Check the logs for more information.")
            return "ERR Errors trying to SHUTDOWN. Check logs."
        assert self.loop is not None
        self.loop.call_soon(self.stop)  # main() removes the pid file and says goodbye
        return None

    def rewrite_config(self) -> None:
        """CONFIG REWRITE: rewrite the config file in place (via a temporary file and rename)."""
        path = self.config.config_file
        if not path:
            raise OSError("The server is running without a config file")
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                original = f.read()
        except FileNotFoundError:
            original = ""
        aliases = {p.alias: p.name for p in PARAMS_BY_NAME.values() if p.alias}
        text = config_file.rewrite(original, self.config.rewrite_lines(), aliases)
        tmp = f"{path}.tmp-{os.getpid()}"
        try:
            with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        log.info("CONFIG REWRITE executed with success.")

    def apply_config(self, changed: dict[str, Any]) -> None:
        """Make CONFIG SET's new values take effect; raises ConfigError (and changes nothing) on failure."""
        if "port" in changed or "bind" in changed:
            self._rebind_now("bind" not in changed)
        if "dir" in changed:
            try:
                os.chdir(self.config.dir)
            except OSError as e:
                raise ConfigError(e.strerror or str(e), "dir") from None
            self.config.dir = os.getcwd()
        if "proto-max-bulk-len" in changed:
            self.limits.max_bulk_len = self.config.proto_max_bulk_len
        if "client-query-buffer-limit" in changed:
            self.limits.query_buffer_limit = self.config.client_query_buffer_limit
        if "client-output-buffer-limit" in changed:
            self._apply_output_limits()
        if "loglevel" in changed:
            logging_setup.set_level(self.config.loglevel)
        if "maxclients" in changed:
            self._raise_fd_limit()
        if "appendfsync" in changed:
            self.durability.set_fsync(self.config.appendfsync)
        if "appendonly" in changed:
            self.durability.set_appendonly(self.config.appendonly)
        if "save" in changed or "stop-writes-on-bgsave-error" in changed:
            self._refresh_disk_gate()
        if changed.keys() & _MEMORY_PARAMS:
            self._apply_memory_config()

    def _apply_memory_config(self) -> None:
        """maxmemory and the eviction policy's knobs, as the engine and the keyspace's Evictor use them."""
        c = self.config
        self.engine.memory_limit = c.maxmemory
        self.engine.eviction_time_limit_ns = eviction_time_limit_us(c.maxmemory_eviction_tenacity) * 1000
        self.keyspace.evictor.configure(
            c.maxmemory_policy, c.maxmemory_samples, c.lfu_log_factor, c.lfu_decay_time, c.maxmemory_eviction_tenacity
        )

    def _rebind_now(self, port_only: bool) -> None:
        """Listen on the configured addresses instead of the current ones, as Redis's changeBindAddr.

        The old listeners close first (the new ones may use the same
        address); if the new ones cannot bind, the old ones are restored by
        the caller's rollback, which applies the previous values again.
        """
        if self.loop is None:
            return
        old, self.listeners = self.listeners, []
        for srv in old:
            srv.close()
        try:
            socks = self._bind_listeners(self.config.bind, self.config.port)
        except OSError:
            if port_only:
                raise ConfigError("Unable to listen on this port. Check server logs.", "port") from None
            raise ConfigError("Failed to bind to specified addresses.", "bind") from None
        self.loop.create_task(self._serve(socks))

    def blocking_sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def last_save(self) -> int:
        return self.snapshots.last_save

    def save(self) -> None:
        try:
            self.snapshots.save_command()
        except SnapshotError as e:
            raise CommandError(str(e)) from None

    def bgsave(self, schedule: bool, in_exec: bool) -> str:
        try:
            return self.snapshots.bgsave_command(schedule, in_exec)
        except SnapshotError as e:
            raise CommandError(str(e)) from None

    def debug_reload(self, save: bool, flush: bool) -> None:
        error = self.snapshots.reload(save, flush)
        if error is not None:
            raise CommandError(error)

    def disk_error(self) -> str | None:
        """Why writes are refused (-MISCONF): a failed BGSAVE with save points first, then the AOF, as Redis checks."""
        return MISCONF if self.snapshots.writes_denied() else self.durability.disk_error()

    def _refresh_disk_gate(self) -> None:
        """Requests go through _admit while writes get -MISCONF (and stop when that ends)."""
        self._disk_gate = self.disk_error() is not None
        self._update_admission()

    def misconf_reply(self, ctx: Context, argv: list[bytes]) -> bytes | None:
        """-MISCONF for a write (or PING, or EXEC of queued writes) while writes are refused, as
        Redis's processCommand; None lets the engine run it (and report its other errors first)."""
        misconf = self.disk_error()
        if misconf is None:
            return None
        engine = self.engine
        cmd = engine.find(argv[0])
        if cmd is None or cmd.subcommands:
            return None
        arity = cmd.arity
        if (len(argv) != arity) if arity > 0 else (len(argv) < -arity):
            return None
        if not ctx.authenticated and not cmd.flags & Flag.NO_AUTH:
            return None
        is_exec = cmd.name == "exec" and ctx.in_multi
        if is_exec:
            if not any(queued.flags & Flag.WRITE for queued, _ in ctx.multi_queue):
                return None
        elif not cmd.flags & Flag.WRITE and cmd.name != "ping":
            return None
        if is_exec:
            return engine.abort_exec(ctx, cmd, misconf)
        cmd.rejected_calls += 1
        if ctx.in_multi:
            ctx.multi_error = True
        engine.errors.count(misconf)
        return encoder.error(misconf)

    def uptime(self) -> int:
        return int(time.time() - self.start_time)

    def info_server(self) -> dict[str, Any]:
        uptime = self.uptime()
        return {
            "redis_version": REDIS_COMPAT_VERSION,
            "cacheflow_version": __version__,
            "redis_git_sha1": "00000000",
            "redis_git_dirty": 0,
            "redis_build_id": "0",
            "redis_mode": "standalone",
            "os": f"{platform.system()} {platform.release()} {platform.machine()}",
            "arch_bits": 64 if sys.maxsize > 2**32 else 32,
            "monotonic_clock": "POSIX clock_gettime",
            "multiplexing_api": "epoll" if sys.platform.startswith("linux") else "kqueue",
            "gcc_version": "0.0.0",
            "python_version": platform.python_version(),
            "event_loop": type(self.loop).__module__.split(".")[0] if self.loop else "none",
            "process_id": os.getpid(),
            "process_supervised": "no",
            "run_id": self.run_id,
            "tcp_port": self.config.port,
            "server_time_usec": time.time_ns() // 1000,
            "uptime_in_seconds": uptime,
            "uptime_in_days": uptime // 86400,
            "hz": self.config.hz,
            "configured_hz": self.config.hz,
            "lru_clock": int(time.time()) & ((1 << 24) - 1),
            "executable": os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else "",
            "config_file": os.path.abspath(self.config.config_file) if self.config.config_file else "",
            "io_threads_active": 0,
        }

    @property
    def run_id(self) -> str:
        rid = getattr(self, "_run_id", None)
        if rid is None:
            rid = os.urandom(20).hex()
            self._run_id = rid
        return rid

    def info_clients(self) -> dict[str, Any]:
        conns = list(self.connections.values())
        return {
            "connected_clients": len(conns),
            "cluster_connections": 0,
            "maxclients": self.config.maxclients,
            "client_recent_max_input_buffer": max((c.query_buffer_size() for c in conns), default=0),
            "client_recent_max_output_buffer": max((c.output_buffer_size() for c in conns), default=0),
            "blocked_clients": self.engine.blocking.blocked_count,
            "tracking_clients": 0,
            "clients_in_timeout_table": self.engine.blocking.timeout_count,
        }

    def used_memory(self) -> int:
        """What maxmemory is compared with: the dataset estimate plus the eviction policy's own structures.

        The interpreter's own baseline (used_memory_startup, tens of MB of
        code and modules) is not counted, or no small maxmemory could ever
        be met; used_memory_rss is the process's real resident size.
        """
        return self.keyspace.used_memory() + self.keyspace.evictor.memory_usage()

    def info_memory(self) -> dict[str, Any]:
        rss = _rss_bytes()
        dataset = self.keyspace.used_memory()
        used = dataset + self.keyspace.evictor.memory_usage()
        self.used_memory_peak = peak = max(self.used_memory_peak, used)
        total = _total_system_memory()
        maxmemory = self.config.maxmemory
        return {
            "used_memory": used,
            "used_memory_human": _human(used),
            "used_memory_rss": rss,
            "used_memory_rss_human": _human(rss),
            "used_memory_peak": peak,
            "used_memory_peak_human": _human(peak),
            "used_memory_peak_perc": f"{used * 100 / peak:.2f}%" if peak else "100.00%",
            "used_memory_overhead": used - dataset,
            "used_memory_startup": self.used_memory_startup,
            "used_memory_dataset": dataset,
            "used_memory_dataset_perc": f"{dataset * 100 / used:.2f}%" if used else "100.00%",
            "total_system_memory": total,
            "total_system_memory_human": _human(total),
            "maxmemory": maxmemory,
            "maxmemory_human": _human(maxmemory),
            "maxmemory_policy": self.config.maxmemory_policy,
            "mem_fragmentation_ratio": f"{rss / used:.2f}" if used else "0.00",
            "mem_fragmentation_bytes": rss - used,
            "mem_allocator": "pymalloc",
        }

    def purge_memory(self) -> None:
        allocator.purge()

    def memory_stats(self) -> list[tuple[str, Any]]:
        """MEMORY STATS: Redis's fields that have a meaning here, from the same estimates as INFO."""
        info = self.info_memory()
        used = info["used_memory"]
        dataset = info["used_memory_dataset"]
        keys = sum(len(db) for db in self.keyspace.dbs)
        out: list[tuple[str, Any]] = [
            ("peak.allocated", info["used_memory_peak"]),
            ("total.allocated", used),
            ("startup.allocated", self.used_memory_startup),
            ("replication.backlog", 0),
            ("clients.slaves", 0),
            ("clients.normal", sum(c.buffer_memory() for c in self.connections.values())),
            ("cluster.links", 0),
            ("aof.buffer", 0),
            ("lua.caches", 0),
            ("functions.caches", 0),
        ]
        for db in self.keyspace.dbs:
            if db.data:
                out.append(
                    (
                        f"db.{db.index}",
                        [
                            ("overhead.hashtable.main", sys.getsizeof(db.data)),
                            ("overhead.hashtable.expires", sys.getsizeof(db.expires)),
                        ],
                    )
                )
        out += [
            ("overhead.total", used - dataset),
            ("keys.count", keys),
            ("keys.bytes-per-key", dataset // keys if keys else 0),
            ("dataset.bytes", dataset),
            ("dataset.percentage", dataset * 100.0 / used if used else 0.0),
            ("peak.percentage", used * 100.0 / info["used_memory_peak"] if info["used_memory_peak"] else 100.0),
            ("fragmentation", info["used_memory_rss"] / used if used else 0.0),
            ("fragmentation.bytes", info["used_memory_rss"] - used),
        ]
        return out

    def info_stats(self) -> dict[str, Any]:
        ks = self.keyspace.stats
        s = self.stats
        return {
            "total_connections_received": s.total_connections_received,
            "total_commands_processed": self.engine.commands_processed,
            "instantaneous_ops_per_sec": round(self._instantaneous(1)),
            "total_net_input_bytes": s.net_input_bytes,
            "total_net_output_bytes": s.net_output_bytes,
            "total_net_repl_input_bytes": 0,
            "total_net_repl_output_bytes": 0,
            "instantaneous_input_kbps": f"{self._instantaneous(2) / 1024:.2f}",
            "instantaneous_output_kbps": f"{self._instantaneous(3) / 1024:.2f}",
            "instantaneous_input_repl_kbps": "0.00",
            "instantaneous_output_repl_kbps": "0.00",
            "rejected_connections": s.rejected_connections,
            "sync_full": 0,
            "sync_partial_ok": 0,
            "sync_partial_err": 0,
            "expired_keys": ks.expired_keys,
            "expired_stale_perc": "%.2f" % ks.expired_stale_perc,
            "expire_cycle_cpu_milliseconds": ks.expire_cycle_time_used_ms,
            "evicted_keys": self.keyspace.evictor.evicted_keys,
            "evicted_clients": s.evicted_clients,
            "keyspace_hits": self.keyspace.hits,
            "keyspace_misses": self.keyspace.misses,
            "pubsub_channels": 0,
            "pubsub_patterns": 0,
            "latest_fork_usec": self.snapshots.latest_fork_usec,
            "total_forks": self.snapshots.total_forks,
            "total_error_replies": self.engine.errors.total,
            "client_query_buffer_limit_disconnections": s.client_query_buffer_limit_disconnections,
            "client_output_buffer_limit_disconnections": s.client_output_limit_disconnections,
        }

    def reset_stats(self) -> None:
        self.stats.reset()
        self.keyspace.reset_stats()
        self.keyspace.evictor.evicted_keys = 0
        self.engine.errors.reset()
        for cmd in TABLE:
            cmd.reset_stats()
        self._metric_samples.clear()

    def _sample_metrics(self) -> None:
        samples = self._metric_samples
        now = self.cached_ms
        if samples and now - samples[-1][0] < _METRIC_PERIOD_MS:
            return
        s = self.stats
        samples.append((now, self.engine.commands_processed, s.net_input_bytes, s.net_output_bytes))

    def _instantaneous(self, index: int) -> float:
        """Per-second rate of a sampled counter over the recent samples."""
        samples = self._metric_samples
        if len(samples) < 2:
            return 0.0
        first, last = samples[0], samples[-1]
        elapsed = last[0] - first[0]
        return max(0, last[index] - first[index]) * 1000 / elapsed if elapsed > 0 else 0.0

    def bgrewriteaof(self) -> str:
        if self.snapshots.child_pid and not self.durability.child_pid:  # as Redis: wait for the BGSAVE
            self.durability.rewrite_scheduled = True
            return "Background append only file rewriting scheduled"
        try:
            return self.durability.bgrewriteaof()
        except RewriteError as e:
            raise CommandError(str(e)) from None

    def info_persistence(self) -> dict[str, Any]:
        """Redis's fields in Redis's order: the AOF ones from persistence/service.py, the RDB ones
        from persistence/snapshots.py; the loading_* fields come last, as in Redis 7.0."""
        aof = self.durability.info_fields()
        loading = aof["loading"]
        if self.snapshots.loading:
            loading = self.snapshots.loading_fields()
        snapshot = self.snapshots.info_fields()
        if self.durability.child_pid:
            snapshot.update(self.durability.child_cow_fields())
        return {
            "loading": 1 if self.loading else 0,
            "async_loading": 0,
            **snapshot,
            **aof["aof"],
            "module_fork_in_progress": 0,
            "module_fork_last_cow_size": 0,
            **aof["extra"],
            **loading,
        }

    def info_replication(self) -> dict[str, Any]:
        return {
            "role": "master",
            "connected_slaves": 0,
            "master_failover_state": "no-failover",
            "master_replid": self.replid,
            "master_replid2": "0" * 40,
            "master_repl_offset": 0,
            "second_repl_offset": -1,
            "repl_backlog_active": 0,
            "repl_backlog_size": self.config.repl_backlog_size,
            "repl_backlog_first_byte_offset": 0,
            "repl_backlog_histlen": 0,
        }

    def info_cpu(self) -> dict[str, Any]:
        me = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        thread = resource.getrusage(getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF))
        return {
            "used_cpu_sys": f"{me.ru_stime:.6f}",
            "used_cpu_user": f"{me.ru_utime:.6f}",
            "used_cpu_sys_children": f"{children.ru_stime:.6f}",
            "used_cpu_user_children": f"{children.ru_utime:.6f}",
            "used_cpu_sys_main_thread": f"{thread.ru_stime:.6f}",
            "used_cpu_user_main_thread": f"{thread.ru_utime:.6f}",
        }

    def error_stats(self) -> dict[str, int]:
        return dict(self.engine.errors.by_prefix)

    def client_buffers(self, ctx: Context) -> tuple[int, int]:
        conn = self.connections.get(ctx.id)
        if conn is None:
            return 0, 0
        return conn.query_buffer_size(), conn.output_buffer_size()

    def set_active_expire(self, enabled: bool) -> None:
        self.active_expire_enabled = enabled

    def now_us(self) -> int:
        return time.time_ns() // 1000


_LOADING: Final = b"-LOADING Redis is loading the dataset in memory\r\n"


def _format_addr(addr: Any) -> str:
    """``ip:port`` as Redis prints it in CLIENT LIST: IPv6 addresses in brackets."""
    if isinstance(addr, tuple) and len(addr) >= 2:
        host = addr[0]
        if ":" in host:
            return f"[{host}]:{addr[1]}"
        return f"{host}:{addr[1]}"
    return str(addr or "")


def _total_system_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _human(n: int) -> str:
    for unit, size in (("G", 1024**3), ("M", 1024**2), ("K", 1024)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return f"{n}B"
