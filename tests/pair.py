"""Differential comparison on the wire: the same commands sent to CacheFlow and to redis-server.

Replies are compared as raw bytes, so reply types (bulk vs double, flat array
vs map) and error texts are part of the comparison.  Shared by every
``*_vs_redis`` suite through the ``pair`` and ``pair2`` fixtures in conftest.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager

from servers import ServerProcess
from wire import Arg, Wire

Command = tuple[Arg, ...]
FAR = int(time.time()) + 10 * 365 * 86400  # an absolute time both servers see as the future


def normalize(command: Command, reply: bytes) -> bytes:
    """A positive TTL/PTTL depends on timing; only its sign is compared."""
    name = str(command[0]).upper() if not isinstance(command[0], bytes) else command[0].decode().upper()
    if name in ("TTL", "PTTL") and reply.startswith(b":") and int(reply[1:]) > 0:
        return b":<positive>\r\n"
    return reply


class Pair:
    """The same commands sent to CacheFlow and to redis-server."""

    def __init__(self, ours: Wire, theirs: Wire) -> None:
        self.ours = ours
        self.theirs = theirs

    def both(self, *command: Arg) -> tuple[bytes, bytes]:
        return normalize(command, self.ours.call(*command)), normalize(command, self.theirs.call(*command))

    def same(self, *command: Arg) -> bytes:
        mine, real = self.both(*command)
        assert mine == real, f"{command!r}: CacheFlow {mine!r}, Redis {real!r}"
        return mine

    def run(self, commands: list[Command]) -> None:
        for command in commands:
            self.same(*command)

    def script(self, text: str) -> None:
        self.run([tuple(line.split()) for line in text.strip().splitlines() if line.strip()])

    @contextmanager
    def configured(self, settings: dict[str, str]) -> Iterator[None]:
        """Both servers with ``settings`` for the block, then each back to its own previous values.

        The servers are shared by the whole session, so a test must not leave
        a changed threshold behind (nor assume what the defaults are).
        """
        saved = [(wire, name, _config_value(wire, name)) for name in settings for wire in (self.ours, self.theirs)]
        try:
            for name, value in settings.items():
                self.same("CONFIG", "SET", name, value)
            yield
        finally:
            for wire, name, value in saved:
                wire.call("CONFIG", "SET", name, value)


def _config_value(wire: Wire, name: str) -> bytes:
    """The value in a one-parameter CONFIG GET reply (RESP2 array or RESP3 map: the last bulk)."""
    return wire.call("CONFIG", "GET", name).split(b"\r\n")[-2]


def open_pair(cacheflow: ServerProcess, real_redis: ServerProcess, proto: int) -> Pair:
    pair = Pair(Wire(cacheflow.port, proto), Wire(real_redis.port, proto))
    pair.same("FLUSHALL")
    return pair


def assert_watch_breaks_alike(
    cacheflow: ServerProcess, real_redis: ServerProcess, setup: list[Command], command: Command, watched: str = "k"
) -> None:
    """Whether ``command`` from another client breaks a WATCH on ``watched`` is the same on both servers.

    WATCH is fed by write effects, so this checks that a command's effects name
    exactly the keys Redis signals as modified.
    """
    replies: list[bytes] = []
    for server in (cacheflow, real_redis):
        watcher = Wire(server.port, 2)
        other = Wire(server.port, 2)
        try:
            other.call("FLUSHALL")
            for step in setup:
                other.call(*step)
            watcher.call("WATCH", watched)
            other.call(*command)
            watcher.call("MULTI")
            watcher.call("PING")
            replies.append(watcher.call("EXEC"))
        finally:
            watcher.close()
            other.close()
    assert replies[0] == replies[1], f"{command!r}: CacheFlow {replies[0]!r}, Redis {replies[1]!r}"
