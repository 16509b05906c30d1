"""Exceptions shared by the protocol layer and everything above it.

`CommandError` carries a complete Redis error line (prefix included, no leading
dash, no CRLF).  Raising it is the one way a handler reports failure, so the
engine can count errors by prefix for INFO errorstats.
"""


class ProtocolError(Exception):
    """The client broke the wire protocol; its connection must be closed.

    The message is what follows ``Protocol error: `` in Redis's reply.
    """


class CommandError(Exception):
    """A command failed; ``str(self)`` is the whole error line, e.g. ``ERR syntax error``."""

    __slots__ = ()

    @property
    def prefix(self) -> str:
        return str(self).split(" ", 1)[0]
