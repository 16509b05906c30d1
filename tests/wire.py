"""Bare RESP connections returning each reply's exact bytes, for byte-for-byte comparisons with Redis.

Shared by the integration suites that compare wire bytes; nothing here parses
replies into values, so a bulk answered where Redis sends a simple string (or
a flat array where it sends a map) shows up as a difference.
"""

import socket

Arg = bytes | str | int


def encode_command(*args: Arg) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        raw = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%b\r\n" % (len(raw), raw))
    return b"".join(parts)


def reply_end(buf: bytes, pos: int = 0) -> int | None:
    """Where the RESP2/RESP3 reply starting at ``pos`` ends, or None when it is incomplete."""
    line_end = buf.find(b"\r\n", pos)
    if line_end == -1:
        return None
    kind, head = buf[pos : pos + 1], buf[pos + 1 : line_end]
    after = line_end + 2
    if kind in (b"$", b"=", b"!"):
        n = int(head)
        if n < 0:
            return after
        return after + n + 2 if len(buf) >= after + n + 2 else None
    if kind in (b"*", b"~", b">", b"%", b"|"):
        n = int(head)
        count = max(n, 0) * (2 if kind in (b"%", b"|") else 1)
        for _ in range(count):
            nxt = reply_end(buf, after)
            if nxt is None:
                return None
            after = nxt
        return after
    return after  # + - : _ # , (


def read_to_eof(sock: socket.socket, timeout: float = 10.0) -> bytes:
    """Everything the server sends until it closes (a reset after a protocol error counts as the end)."""
    sock.settimeout(timeout)
    buf = bytearray()
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        except TimeoutError:
            raise AssertionError(
                f"server neither answered nor closed within {timeout}s; got so far: {bytes(buf[:300])!r}"
            ) from None
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


class Wire:
    def __init__(self, port: int, proto: int = 2, timeout: float = 30.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        if proto == 3:
            assert not self.call("HELLO", "3").startswith(b"-")

    def send(self, *args: Arg) -> None:
        self.sock.sendall(encode_command(*args))

    def call(self, *args: Arg) -> bytes:
        self.send(*args)
        return self.read_reply()

    def read_reply(self) -> bytes:
        """The exact bytes of the next whole reply."""
        while True:
            end = reply_end(self.buf) if self.buf else None
            if end is not None:
                reply, self.buf = self.buf[:end], self.buf[end:]
                return reply
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk

    def read_replies(self, count: int) -> bytes:
        """The exact bytes of the next ``count`` replies (sent without waiting in between)."""
        return b"".join(self.read_reply() for _ in range(count))

    def closed_by_peer(self) -> bool:
        """True when the server has closed the connection (reads EOF)."""
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()
