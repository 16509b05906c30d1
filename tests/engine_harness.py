"""Run commands through the real engine with no sockets: one keyspace, a manual clock, any number of sessions.

Shared by the unit tests of every command family.  Replies are decoded with
hiredis; error replies become ``Err`` (a str subclass) so a test can tell an
error from a status or bulk reply.  Every published write effect is recorded
with its database index.
"""

from typing import Any, cast

import hiredis

from cacheflow.commands import TABLE
from cacheflow.commands.context import Context, ServerServices
from cacheflow.config.schema import Config
from cacheflow.engine.engine import Engine
from cacheflow.store.clock import ManualClock
from cacheflow.store.keyspace import Keyspace

NOW = 1_700_000_000_000


class Err(str):
    """An error reply."""


def decode(reply: bytes) -> Any:
    reader = hiredis.Reader()
    reader.feed(reply)
    value = reader.gets()
    assert reader.gets() is False, "exactly one reply"
    return _convert(value)


def _convert(value: Any) -> Any:
    if isinstance(value, hiredis.ReplyError):
        return Err(str(value))
    if isinstance(value, list):
        return [_convert(v) for v in value]
    if isinstance(value, dict):
        return {k: _convert(v) for k, v in value.items()}
    return value


class Harness:
    def __init__(self, databases: int = 16, clock: ManualClock | None = None, config: Config | None = None) -> None:
        self.clock = clock or ManualClock(NOW)
        self.keyspace = Keyspace(databases, self.clock, seed=1)
        self.engine = Engine(TABLE, self.keyspace)
        self.config = config or Config()
        self.published: list[tuple[int, list[bytes]]] = []
        self.engine.effects.subscribe(lambda index, effects, more: self.published.extend((index, e) for e in effects))
        self._next_id = 1
        self.ctx = self.client()

    def client(self, proto: int = 2, server: ServerServices | None = None) -> Context:
        ctx = Context(self._next_id, self.keyspace, cast(ServerServices, server), self.engine, TABLE, self.config)
        self._next_id += 1
        ctx.proto = proto
        return ctx

    @property
    def db(self) -> Any:
        return self.ctx.db

    def raw(self, ctx: Context, *args: bytes | str | int) -> bytes:
        """The exact reply bytes of one command run by ``ctx``."""
        argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        return self.engine.execute(ctx, argv)

    def run(self, ctx: Context, *args: bytes | str | int) -> Any:
        """The decoded reply of one command run by ``ctx``."""
        return decode(self.raw(ctx, *args))

    def __call__(self, *args: bytes | str | int, ctx: Context | None = None) -> Any:
        """The decoded reply of one command run by ``ctx`` (the harness's own session by default)."""
        return self.run(ctx or self.ctx, *args)

    def effects(self) -> list[tuple[int, list[bytes]]]:
        """(database index, effect) published since the last call."""
        taken = self.published
        self.published = []
        return taken
