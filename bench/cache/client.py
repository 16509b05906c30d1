"""A minimal pipelining RESP client for the hit-ratio benchmark: one raw socket and a hiredis reply reader.

redis-py would spend more time in the client than either server spends serving a
GET, so the replay would measure the client.  This client sends pre-encoded
command bytes and parses replies in C (hiredis).  An error reply is returned as a
``hiredis.ReplyError`` value, never raised, so a caller can tell "the server
refused this" (a policy it does not support, OOM) from a broken connection.
"""

from __future__ import annotations

import socket
from typing import Any

import hiredis

CRLF = b"\r\n"


def encode(*args: bytes | str | int) -> bytes:
    """One command in RESP (a multi-bulk of bulk strings)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def is_error(reply: Any) -> bool:
    return isinstance(reply, hiredis.ReplyError)


class Conn:
    """One connection; ``send`` and ``read`` are separate so a caller controls what is in flight."""

    def __init__(self, port: int, timeout: float = 120.0) -> None:
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = hiredis.Reader()

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Conn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self, count: int) -> list[Any]:
        """Exactly ``count`` replies, in order."""
        out: list[Any] = []
        gets, feed, recv = self.reader.gets, self.reader.feed, self.sock.recv
        while len(out) < count:
            reply = gets()
            if reply is False:
                chunk = recv(1 << 20)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                feed(chunk)
                continue
            out.append(reply)
        return out

    def call(self, *args: bytes | str | int) -> Any:
        """One command, one reply (an error reply comes back as a ``hiredis.ReplyError`` value)."""
        self.send(encode(*args))
        return self.read(1)[0]

    def check(self, *args: bytes | str | int) -> Any:
        """Like ``call``, but an error reply raises: for commands the benchmark cannot do without."""
        reply = self.call(*args)
        if is_error(reply):
            joined = " ".join(a.decode(errors="replace") if isinstance(a, bytes) else str(a) for a in args)
            raise RuntimeError(f"{joined}: {reply}")
        return reply

    def info(self, section: str) -> dict[str, str]:
        """``INFO section`` as a dict of its ``name:value`` lines."""
        body = self.check("INFO", section)
        text = body.decode() if isinstance(body, bytes) else str(body)
        out: dict[str, str] = {}
        for line in text.splitlines():
            if ":" in line and not line.startswith("#"):
                name, value = line.split(":", 1)
                out[name] = value.strip()
        return out

    def used_memory(self) -> int:
        return int(self.info("memory")["used_memory"])
