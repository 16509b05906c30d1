"""Differential comparison on the wire: the same commands sent to CacheFlow and to redis-server.

Replies are compared as raw bytes, so reply types (bulk vs double, flat array
vs map) and error texts are part of the comparison.  Shared by every
``*_vs_redis`` suite through the ``pair`` and ``pair2`` fixtures in conftest.
"""

import time

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


def open_pair(cacheflow: ServerProcess, real_redis: ServerProcess, proto: int) -> Pair:
    pair = Pair(Wire(cacheflow.port, proto), Wire(real_redis.port, proto))
    pair.same("FLUSHALL")
    return pair
