"""Clients blocked on keys: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP (and BZPOPMIN, BZPOPMAX, BZMPOP).

The registry is pure: no sockets, no timers, no clock.  It records who waits
for which keys, learns which keys may have become ready from the write-effect
stream, and serves waiters in Redis's order.  Delivering a reply to another
connection and firing timeouts belong to the server, which calls in here.

How a blocking command uses it (any value type; nothing here knows lists)::

    deadline = parse_timeout(ctx, argv[-1])        # commands/lists.py: ms on the keyspace clock, None = forever
    ... try the non-blocking form first; when nothing can be taken:
    if ctx.deny_blocking:                          # inside EXEC: behave as a timeout
        return encoder.null_array(ctx.proto)
    return ctx.engine.block(ctx, keys, serve, deadline)

``serve(ctx, key) -> bytes | None`` is called with the waiter's own session
each time ``key`` (in the database the client blocked in) may have become
ready.  It must look the key up itself (``ctx.db.lookup``: no hit/miss stats),
and either return None (wrong type, empty: stay blocked), or do exactly what
the non-blocking command would, append that command's write effect to
``ctx.effects`` (``LPOP key``, ``LMOVE src dst LEFT RIGHT``, ``ZPOPMIN key``...)
and return the encoded reply.  An error reply (``-WRONGTYPE...``) also
unblocks the client, as BLMOVE onto a key of the wrong type does in Redis.
The registry publishes those effects (so WATCH, the AOF and replicas see the
pop) and hands the reply to ``on_unblocked``.  On timeout or CLIENT UNBLOCK
the reply is the null array (``*-1`` / ``_``) or ``-UNBLOCKED ...``.

Order, as Redis 7.0 (blocked.c): a key becomes ready when a write effect
touches it while someone waits on it (a push, LMOVE/RPOPLPUSH into it, RENAME,
MOVE, COPY, RESTORE, SORT ... STORE, SWAPDB...).  After a top-level command
(or a whole EXEC) the engine calls ``serve_ready``: ready keys are taken in
the order they became ready, each key's waiters in the order they blocked,
while the key can serve them; a served BLMOVE's push may make another key
ready, which is served in the same call.  A client blocked on several keys is
served once, from the first of its keys to become ready.

Statistics as Redis 7.0.15: the blocking command was counted as a call when it
ran; an error reply on unblock, and CLIENT UNBLOCK in either mode, count a
failed call (the latter is Redis's quirk), and error replies count in
errorstats.
"""

from collections.abc import Callable
from typing import Protocol

from cacheflow.commands.context import ATTENTION_BLOCKED, Context, ServeFn
from cacheflow.commands.table import ALL_DATABASES, CommandTable
from cacheflow.engine.effects import EffectStream
from cacheflow.resp import encoder

UNBLOCKED_ERROR = "UNBLOCKED client unblocked via CLIENT UNBLOCK"

# (db index, key)
Slot = tuple[int, bytes]


class ErrorCounter(Protocol):
    """What the registry needs of the engine's error statistics (INFO errorstats)."""

    def count(self, message: str) -> None: ...


class Waiter:
    """One blocked client: the keys it waits on, how to serve it, and when it gives up."""

    __slots__ = ("ctx", "slots", "serve", "deadline_ms")

    def __init__(self, ctx: Context, slots: list[Slot], serve: ServeFn, deadline_ms: int | None) -> None:
        self.ctx = ctx
        self.slots = slots
        self.serve = serve
        self.deadline_ms = deadline_ms


class BlockingRegistry:
    __slots__ = (
        "_table",
        "_stream",
        "_errors",
        "_by_key",
        "_waiters",
        "ready",
        "_serving",
        "on_unblocked",
        "on_published",
    )

    def __init__(self, table: CommandTable, stream: EffectStream, errors: ErrorCounter) -> None:
        self._table = table
        self._stream = stream
        self._errors = errors
        # The engine's memory accounting for what a served client wrote (Engine._remeasure).
        self.on_published: Callable[[int, list[list[bytes]]], None] | None = None
        # Waiters per key in blocking order; a dict is an ordered set with O(1) removal.
        self._by_key: dict[Slot, dict[Waiter, None]] = {}
        self._waiters: dict[Waiter, None] = {}
        # Keys that may serve someone, in the order they became ready.  The engine
        # tests this dict after writes, so it is never replaced, only cleared.
        self.ready: dict[Slot, None] = {}
        self._serving = False
        # Set by the server: send an unblocked client its reply and resume its input.
        self.on_unblocked: Callable[[Context, bytes], None] | None = None

    # -- blocking ------------------------------------------------------------------

    def block(self, ctx: Context, keys: list[bytes], serve: ServeFn, deadline_ms: int | None) -> bytes:
        """Block ``ctx`` on ``keys``; the returned reply is empty (nothing is sent now)."""
        index = ctx.db.index
        slots = list(dict.fromkeys((index, key) for key in keys))
        waiter = Waiter(ctx, slots, serve, deadline_ms)
        by_key = self._by_key
        for slot in slots:
            waiters = by_key.get(slot)
            if waiters is None:
                waiters = by_key[slot] = {}
            waiters[waiter] = None
        if not self._waiters:
            self._stream.subscribe(self.on_effects)
        self._waiters[waiter] = None
        ctx.blocked = waiter
        ctx.attention |= ATTENTION_BLOCKED
        return b""

    @property
    def blocked_count(self) -> int:
        return len(self._waiters)

    @property
    def timeout_count(self) -> int:
        """Blocked clients with a deadline (INFO clients_in_timeout_table)."""
        return sum(1 for w in self._waiters if w.deadline_ms is not None)

    def deadline(self, ctx: Context) -> int | None:
        waiter = ctx.blocked
        return waiter.deadline_ms if isinstance(waiter, Waiter) else None

    def due(self, now_ms: int) -> list[Context]:
        """Blocked clients whose deadline has passed."""
        return [w.ctx for w in self._waiters if w.deadline_ms is not None and w.deadline_ms <= now_ms]

    # -- becoming ready ------------------------------------------------------------

    def on_effects(self, db_index: int, effects: list[list[bytes]], more: bool) -> None:
        """Effect-stream subscriber (only while someone is blocked): note keys that may be ready."""
        by_key = self._by_key
        ready = self.ready
        table = self._table
        for argv in effects:
            cmd = table.get(argv[0].decode("utf-8", "surrogateescape").lower())
            if cmd is None:
                continue
            if cmd.touches is None:
                for key in cmd.keys(argv):
                    slot = (db_index, key)
                    if slot in by_key:
                        ready[slot] = None
                continue
            for index, touched in cmd.touches(db_index, argv):
                for slot in by_key:
                    if (index == ALL_DATABASES or slot[0] == index) and (touched is None or slot[1] == touched):
                        ready[slot] = None

    def serve_ready(self) -> None:
        """Serve waiters of every ready key, until no key is ready (BLMOVE may make more ready)."""
        if self._serving:
            return
        self._serving = True
        try:
            ready = self.ready
            while ready:
                batch = list(ready)
                ready.clear()
                for slot in batch:
                    self._serve_slot(slot)
        finally:
            self._serving = False

    def _serve_slot(self, slot: Slot) -> None:
        waiters = self._by_key.get(slot)
        if not waiters:
            return
        key = slot[1]
        for waiter in list(waiters):
            ctx = waiter.ctx
            if ctx.blocked is not waiter:
                continue
            reply = waiter.serve(ctx, key)
            if reply is not None:
                failed = reply[:1] == b"-"
                self._finish(waiter, reply, failed, reply[1:-2].decode("utf-8", "surrogateescape") if failed else None)

    # -- unblocking ----------------------------------------------------------------

    def time_out(self, ctx: Context) -> bool:
        """The client's deadline passed: reply with the null array."""
        waiter = ctx.blocked
        if not isinstance(waiter, Waiter):
            return False
        self._finish(waiter, encoder.null_array(ctx.proto), False, None)
        return True

    def unblock(self, ctx: Context, error: bool) -> bool:
        """CLIENT UNBLOCK: as a timeout, or with the -UNBLOCKED error; False if not blocked."""
        waiter = ctx.blocked
        if not isinstance(waiter, Waiter):
            return False
        if error:
            self._finish(waiter, encoder.error(UNBLOCKED_ERROR), True, UNBLOCKED_ERROR)
        else:
            self._finish(waiter, encoder.null_array(ctx.proto), True, None)
        return True

    def forget(self, ctx: Context) -> None:
        """The client went away: drop its wait without replying."""
        waiter = ctx.blocked
        if isinstance(waiter, Waiter):
            self._release(waiter)

    def _release(self, waiter: Waiter) -> None:
        by_key = self._by_key
        for slot in waiter.slots:
            waiters = by_key.get(slot)
            if waiters is not None:
                waiters.pop(waiter, None)
                if not waiters:
                    del by_key[slot]
        self._waiters.pop(waiter, None)
        if not self._waiters:
            self._stream.unsubscribe(self.on_effects)
        ctx = waiter.ctx
        ctx.blocked = None
        ctx.attention &= ~ATTENTION_BLOCKED

    def _finish(self, waiter: Waiter, reply: bytes, failed: bool, error: str | None) -> None:
        self._release(waiter)
        ctx = waiter.ctx
        if failed and ctx.last_command is not None:
            ctx.last_command.failed_calls += 1
        if error is not None:
            self._errors.count(error)
        if ctx.effects:
            effects = ctx.effects
            ctx.effects = []
            self._stream.publish(ctx.db.index, effects)
            if self.on_published is not None:
                self.on_published(ctx.db.index, effects)
        deliver = self.on_unblocked
        if deliver is not None:
            deliver(ctx, reply)
