"""A bare RESP connection returning each reply's exact bytes, for byte-for-byte comparisons with Redis."""

import socket

import hiredis

Arg = bytes | str | int


def encode_command(*args: Arg) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        raw = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%b\r\n" % (len(raw), raw))
    return b"".join(parts)


class Wire:
    def __init__(self, port: int, proto: int = 2) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.reader = hiredis.Reader()
        if proto == 3:
            assert not self.call("HELLO", "3").startswith(b"-")

    def call(self, *args: Arg) -> bytes:
        self.sock.sendall(encode_command(*args))
        return self.read_reply()

    def read_reply(self) -> bytes:
        return self.read_replies(1)

    def read_replies(self, count: int) -> bytes:
        """The exact bytes of the next ``count`` replies (sent without waiting in between)."""
        data = bytearray()
        while count:
            while self.reader.gets() is not False:
                count -= 1
                if not count:
                    return bytes(data)
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("server closed the connection")
            data += chunk
            self.reader.feed(chunk)
        return bytes(data)

    def closed_by_peer(self) -> bool:
        """True when the server has closed the connection (reads EOF)."""
        self.sock.settimeout(10)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()
