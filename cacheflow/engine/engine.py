"""The engine: runs one command for one session through Redis's gates, in Redis's order.

lookup -> arity -> authentication -> OOM/eviction -> MULTI queueing -> handler.  The reply is
returned as encoded bytes; the write effects the handler appended to
``ctx.effects`` are published on the effect stream after it returns.  After a
top-level command (or a whole EXEC) that made keys ready, clients blocked on
them are served (engine/blocking.py).  Nothing here performs I/O, so the
whole command path is testable without sockets.

Memory: with ``maxmemory`` set, every command first evicts keys (by the
keyspace's Evictor) until the dataset estimate is under the limit, publishing
each eviction as a ``DEL`` effect (an ``EvictionEffect``, so consumers can tell
it from a client's DEL); a command flagged denyoom is refused with OOM when
nothing more can be evicted.  After each batch of effects the keys they name
that hold collections are marked for re-measuring (``Database.touch_written``),
which keeps the running ``used_memory`` estimate true for in-place changes
(commands declared ``whole_values``, the commonest writes, are skipped).  This
is the engine's own bookkeeping, called directly where it publishes (and by the
blocking registry for served clients) rather than as a stream subscriber: a
subscriber call cost about 400 instructions per write (callgrind).

Hot-path rules: command lookup is a dict hit on the name exactly as the client
sent it (the lower- and upper-case spellings are precomputed, others cached),
counters are plain ints, and nothing is allocated on success beyond what the
handler makes.
"""

import logging
import time
from collections.abc import Callable
from typing import Final

from cacheflow.commands.context import Context, ServeFn
from cacheflow.commands.table import MULTI_IMMEDIATE, Command, CommandTable, Flag
from cacheflow.engine.blocking import BlockingRegistry
from cacheflow.engine.effects import EffectStream
from cacheflow.engine.eviction_effect import EvictionEffect
from cacheflow.engine.watch import WatchRegistry
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError
from cacheflow.store.keyspace import Keyspace

log = logging.getLogger("cacheflow")

_MAX_CACHED_SPELLINGS: Final = 4096
_NOAUTH: Final = encoder.error("NOAUTH Authentication required.")
_EXECABORT: Final = "EXECABORT Transaction discarded because of previous errors."
_OOM: Final = "OOM command not allowed when used memory > 'maxmemory'."


def _arity_ok(arity: int, argc: int) -> bool:
    return argc == arity if arity > 0 else argc >= -arity


class ErrorStats:
    """INFO errorstats: errors by their prefix, plus the total."""

    __slots__ = ("by_prefix", "total")

    def __init__(self) -> None:
        self.by_prefix: dict[str, int] = {}
        self.total = 0

    def count(self, message: str) -> None:
        prefix = message.split(" ", 1)[0]
        self.by_prefix[prefix] = self.by_prefix.get(prefix, 0) + 1
        self.total += 1

    def reset(self) -> None:
        self.by_prefix.clear()
        self.total = 0


class Engine:
    __slots__ = (
        "table",
        "keyspace",
        "effects",
        "watches",
        "errors",
        "blocking",
        "_ready",
        "_lookup",
        "_plain",
        "_clock_ns",
        "memory_limit",
        "eviction_time_limit_ns",
        "evicting",
    )

    def __init__(self, table: CommandTable, keyspace: Keyspace) -> None:
        self.table = table
        self.keyspace = keyspace
        self.effects = EffectStream()
        self.watches = WatchRegistry(table, keyspace, self.effects)
        self.errors = ErrorStats()
        self.blocking = BlockingRegistry(table, self.effects, self.errors)
        # Keys that may serve blocked clients; non-empty only while someone is blocked.
        self._ready = self.blocking.ready
        self._clock_ns: Callable[[], int] = time.perf_counter_ns
        self._lookup: dict[bytes, Command] = {}
        for cmd in table:
            self._lookup[cmd.name.encode()] = cmd
            self._lookup[cmd.name.upper().encode()] = cmd
        # The hot path's table: spellings of commands without subcommands.
        self._plain = {name: cmd for name, cmd in self._lookup.items() if not cmd.subcommands}
        keyspace.on_expired = self._on_expired
        keyspace.on_fields_expired = self._on_expired
        self.memory_limit = 0  # maxmemory, set by the server; 0: no limit
        self.eviction_time_limit_ns = 500_000
        self.evicting = False  # an eviction run stopped at its time limit; the cron goes on with it
        self.blocking.on_published = self._remeasure

    def _remeasure(self, db_index: int, effects: list[list[bytes]]) -> None:
        """Keep memory accounting true for values changed in place (see the module docstring)."""
        db = self.keyspace.dbs[db_index]
        if not db.costs:
            return  # only plain strings here, which the write primitives account for
        for argv in effects:
            cmd = self._lookup.get(argv[0]) or self.find(argv[0])
            if cmd is None or cmd.touches is not None or cmd.whole_values:
                continue
            first = cmd.first_key
            last = cmd.last_key
            if first == 1 and last == 1 and cmd.keys_fn is None:
                db.touch_written(argv[1])  # nearly every effect: one key, right after the name
            elif first > 0 and cmd.keys_fn is None and cmd.step > 0:
                end = min(last, len(argv) - 1) if last > 0 else len(argv) + last
                for i in range(first, end + 1, cmd.step):
                    db.touch_written(argv[i])
            else:
                for key in cmd.keys(argv):
                    db.touch_written(key)

    def evict(self) -> bool:
        """Evict until the dataset is under ``memory_limit``; False when over it with nothing left to evict.

        Bounded in time (maxmemory-eviction-tenacity): a run that reaches the limit
        returns True and leaves ``evicting`` set for the server's cron to go on,
        as Redis's eviction time proc.
        """
        keyspace = self.keyspace
        limit = self.memory_limit
        evictor = keyspace.evictor
        if keyspace.used_memory() + evictor.memory_usage() <= limit:
            self.evicting = False
            return True
        deadline = self._clock_ns() + self.eviction_time_limit_ns
        evicted = 0
        while keyspace.used_memory() + evictor.memory_usage() > limit:
            found = evictor.victim()
            if found is None:
                self.evicting = False
                return False
            db, key = found
            value = db.data.get(key)
            if value is None:  # cannot happen (victims are live keys); never spin on it
                self.evicting = False
                return False
            db.remove(key, value)
            evictor.evicted_keys += 1
            self.effects.publish(db.index, [EvictionEffect((b"DEL", key))])
            evicted += 1
            if not evicted & 15 and self._clock_ns() > deadline:
                self.evicting = True
                return True
        self.evicting = False
        return True

    def _out_of_memory(self, ctx: Context, cmd: Command) -> bool:
        """Redis's processCommand memory gate: evict, then refuse a denyoom command if still over."""
        if self.evict():
            return False
        if cmd.flags & Flag.DENYOOM:
            return True
        # EXEC of a transaction holding a denyoom command is itself refused.
        return cmd.name == "exec" and any(c.flags & Flag.DENYOOM for c, _ in ctx.multi_queue)

    @property
    def commands_processed(self) -> int:
        """total_commands_processed: every executed command, as counted per command."""
        return sum(c.calls for c in self.table.all_with_subcommands())

    def _on_expired(self, db_index: int, key: bytes, fields: list[bytes] | None = None) -> None:
        """An expired key is a DEL; hash fields reclaimed by their TTL are an HDEL of those fields."""
        self.effects.publish(db_index, [[b"DEL", key] if fields is None else [b"HDEL", key, *fields]])
        if fields is not None:
            self._remeasure(db_index, [[b"HDEL", key]])

    def find(self, name: bytes) -> Command | None:
        """The command called ``name`` in any letter case."""
        cmd = self._lookup.get(name)
        if cmd is None:
            cmd = self.table.get(name.decode("utf-8", "surrogateescape").lower())
            if cmd is not None and len(self._lookup) < _MAX_CACHED_SPELLINGS:
                self._lookup[name] = cmd
                if not cmd.subcommands:
                    self._plain[name] = cmd
        return cmd

    def resolve(self, argv: list[bytes]) -> Command:
        """The command or subcommand ``argv`` names, with its arity checked; raises on failure."""
        cmd = self._lookup.get(argv[0]) or self.find(argv[0])
        if cmd is None:
            raise CommandError(_unknown_command(argv))
        if not _arity_ok(cmd.arity, len(argv)):
            cmd.rejected_calls += 1  # as Redis: an arity error is a rejected call of that command
            raise CommandError(f"ERR wrong number of arguments for '{cmd.name}' command")
        if cmd.subcommands and len(argv) > 1:  # COMMAND alone runs its own handler
            sub = cmd.subcommands.get(argv[1].decode("utf-8", "surrogateescape").lower())
            if sub is None:
                raise CommandError(f"ERR unknown subcommand '{_printable(argv[1], 128)}'. Try {cmd.name.upper()} HELP.")
            if not _arity_ok(sub.arity, len(argv)):
                sub.rejected_calls += 1
                raise CommandError(f"ERR wrong number of arguments for '{sub.name}' command")
            return sub
        return cmd

    def execute(self, ctx: Context, argv: list[bytes]) -> bytes:
        """Run one request for ``ctx`` and return its encoded reply.

        The common case (a known plain command with the right arity, an
        authenticated client outside MULTI and not in CLIENT NO-TOUCH) runs the
        handler right here; every other case goes through ``_gate``.  ``_run``
        is the same accounting for commands that are already resolved (EXEC's
        queue).  The two bodies are
        twins on purpose: delegating to ``call`` measured about 4% more
        instructions per GET and SET (callgrind), so a change to one must be
        made to the other.
        """
        cmd = self._plain.get(argv[0])
        if cmd is not None:
            arity = cmd.arity
            if (
                ((len(argv) != arity) if arity > 0 else (len(argv) < -arity))
                or ctx.in_multi
                or not ctx.authenticated
                or self.memory_limit
                or ctx.no_touch
            ):
                return self._gate(ctx, argv)
        else:
            return self._gate(ctx, argv)
        cmd.calls += 1
        start = 0 if cmd.calls & cmd.timing_mask else self._clock_ns()
        try:
            reply = cmd.handler(ctx, argv)
        except CommandError as e:
            cmd.failed_calls += 1
            reply = self._fail(str(e))
        except Exception:
            reply = self._crashed(cmd)
        if start:
            cmd.nsec += (self._clock_ns() - start) * (cmd.timing_mask + 1)
        ctx.last_command = cmd
        if ctx.effects:
            self.effects.publish(ctx.db.index, ctx.effects)
            if not cmd.whole_values:
                self._remeasure(ctx.db.index, ctx.effects)
            ctx.effects = []
            if self._ready:
                self.blocking.serve_ready()
        return reply

    def _gate(self, ctx: Context, argv: list[bytes]) -> bytes:
        """Lookup, arity, authentication and MULTI queueing, in Redis's order."""
        try:
            cmd = self.resolve(argv)
        except CommandError as e:
            known = self.find(argv[0])
            if known is not None and known.name == "exec":  # its arity (resolve counted the rejection)
                return self.abort_exec(ctx, None, str(e).removeprefix("ERR "))
            if ctx.in_multi:
                ctx.multi_error = True
            return self._reject(e, None)
        if not ctx.authenticated and not cmd.flags & Flag.NO_AUTH:
            if cmd.name == "exec":
                return self.abort_exec(ctx, cmd, "NOAUTH Authentication required.")
            self.errors.count("NOAUTH")
            cmd.rejected_calls += 1
            if ctx.in_multi:
                ctx.multi_error = True
            return _NOAUTH
        if self.memory_limit and self._out_of_memory(ctx, cmd):
            if cmd.name == "exec":
                return self.abort_exec(ctx, cmd, _OOM)
            if ctx.in_multi:
                ctx.multi_error = True
            return self._reject(CommandError(_OOM), cmd)
        if ctx.in_multi and (cmd.parent or cmd).name not in MULTI_IMMEDIATE:
            if cmd.flags & Flag.NO_MULTI:
                ctx.multi_error = True
                return self._reject(CommandError("ERR Command not allowed inside a transaction"), cmd)
            ctx.multi_queue.append((cmd, argv))
            ctx.last_command = cmd  # CLIENT LIST shows a queued command as the client's last, as Redis does
            return encoder.QUEUED
        reply = self.call(ctx, cmd, argv)
        if self._ready:  # after the whole command, EXEC included, as Redis serves blocked clients
            self.blocking.serve_ready()
        return reply

    def call(self, ctx: Context, cmd: Command, argv: list[bytes]) -> bytes:
        """Run a resolved command, for a CLIENT NO-TOUCH client without recording its accesses
        (TOUCH still records them, as in Redis 7.2)."""
        if not ctx.no_touch:
            return self._run(ctx, cmd, argv)
        ks = self.keyspace
        saved = ks.no_touch
        ks.no_touch = cmd.name != "touch"
        try:
            return self._run(ctx, cmd, argv)
        finally:
            ks.no_touch = saved

    def _run(self, ctx: Context, cmd: Command, argv: list[bytes]) -> bytes:
        """Run a resolved command's handler, account for it and publish its effects.

        Commands flagged fast or documented O(1) are timed on one call in 16 and
        the sample scaled, because two clock reads cost 5-8% of a GET or SET;
        every other command is timed on every call.  ``usec`` in INFO
        commandstats is therefore an estimate for constant-time commands and
        exact for the rest.
        """
        cmd.calls += 1
        start = 0 if cmd.calls & cmd.timing_mask else self._clock_ns()
        try:
            reply = cmd.handler(ctx, argv)
        except CommandError as e:
            cmd.failed_calls += 1
            reply = self._fail(str(e))
        except Exception:
            reply = self._crashed(cmd)
        if start:
            cmd.nsec += (self._clock_ns() - start) * (cmd.timing_mask + 1)
        ctx.last_command = cmd
        if ctx.effects:
            self.effects.publish(ctx.db.index, ctx.effects)
            if not cmd.whole_values:
                self._remeasure(ctx.db.index, ctx.effects)
            ctx.effects = []
        return reply

    def _crashed(self, cmd: Command) -> bytes:
        """A handler bug: log the traceback, answer an error, keep serving."""
        log.exception("unexpected error in command %s", cmd.name)
        cmd.failed_calls += 1
        return self._fail(f"ERR internal error while running '{cmd.name}'; see the server log")

    def _fail(self, message: str) -> bytes:
        self.errors.count(message)
        return encoder.error(message)

    def _reject(self, e: CommandError, cmd: Command | None) -> bytes:
        if cmd is not None:
            cmd.rejected_calls += 1
        return self._fail(str(e))

    def abort_exec(self, ctx: Context, exec_cmd: Command | None, why: str) -> bytes:
        """Redis's execCommandAbort: an EXEC refused before it runs (arity, NOAUTH, OOM, -MISCONF,
        -LOADING) discards the transaction, MULTI or not, and names the refusal.  ``exec_cmd`` is
        None when the rejection is already counted."""
        self.discard_transaction(ctx)
        return self._reject(CommandError("EXECABORT Transaction discarded because of: " + why), exec_cmd)

    # -- transactions --------------------------------------------------------

    def watch(self, ctx: Context, key: bytes) -> None:
        self.watches.watch(ctx, key)

    def unwatch_all(self, ctx: Context) -> None:
        self.watches.unwatch_all(ctx)

    def exec_transaction(self, ctx: Context) -> bytes:
        """EXEC: run the queued commands back to back, or abort as Redis does."""
        queue = ctx.multi_queue
        error = ctx.multi_error
        dirty = ctx.watch_dirty or (bool(ctx.watched) and self.watches.expired_since_watch(ctx))
        self.discard_transaction(ctx)
        if error:
            raise CommandError(_EXECABORT)  # counted as a failed EXEC, as Redis counts an error reply
        if dirty:
            return encoder.null_array(ctx.proto)
        ctx.deny_blocking = True
        self.effects.hold()  # the transaction's effects reach subscribers as one batch
        try:
            replies = [self.call(ctx, cmd, argv) for cmd, argv in queue]
        finally:
            ctx.deny_blocking = False
            self.effects.release()
        return encoder.array(replies)

    # -- blocking commands (engine/blocking.py) -----------------------------------

    def block(self, ctx: Context, keys: list[bytes], serve: ServeFn, deadline_ms: int | None) -> bytes:
        return self.blocking.block(ctx, keys, serve, deadline_ms)

    def unblock(self, ctx: Context, error: bool) -> bool:
        return self.blocking.unblock(ctx, error)

    def discard_transaction(self, ctx: Context) -> None:
        ctx.in_multi = False
        ctx.multi_queue = []
        ctx.multi_error = False
        self.watches.unwatch_all(ctx)


def _printable(raw: bytes, limit: int) -> str:
    return raw[:limit].decode("utf-8", "surrogateescape")


def _unknown_command(argv: list[bytes]) -> str:
    """Redis 7's wording: the name, then arguments, each quoted, while the list is under 128 bytes.

    Each argument is cut to what is left of the 128 (quotes and spaces count), as Redis builds it.
    """
    listed = b""
    for a in argv[1:]:
        if len(listed) >= 128:
            break
        listed += b"'" + a[: 128 - len(listed)] + b"' "
    args = listed.decode("utf-8", "surrogateescape")
    return f"ERR unknown command '{_printable(argv[0], 128)}', with args beginning with: {args}"
