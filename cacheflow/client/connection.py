"""One asyncio connection to a RESP server.

Requests are written immediately (so callers may pipeline) and replies are
read back in order.  Everything the server sends lands in one ordered inbox:
replies nobody asked for yet, such as RESP2 pub/sub messages, simply wait
there for ``read_reply``, and RESP3 pushes reach ``push_handler`` in their
place in the stream.
"""

import asyncio
import errno
import os
import socket
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cacheflow.client.reader import HiredisReader, NotReady, ReplyReader, TypedReader
from cacheflow.client.reply import ErrorReply, Push, Reply

Arg = bytes | str | int | float
PushHandler = Callable[[Push], None]


@dataclass(frozen=True, slots=True)
class Address:
    """Where a server listens: a TCP host and port, or a unix socket path."""

    host: str = "127.0.0.1"
    port: int = 6379
    unix_path: str | None = None

    def __str__(self) -> str:
        if self.unix_path is not None:
            return self.unix_path
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


class ConnectFailed(ConnectionError):
    """The server could not be reached; ``reason`` is the system's word for why."""

    def __init__(self, address: Address, reason: str) -> None:
        super().__init__(f"Could not connect to {address}: {reason}")
        self.address = address
        self.reason = reason


class ConnectionClosed(ConnectionError):
    """The connection ended while replies were still expected."""


class ServerError(Exception):
    """Raised by ``Connection.call`` when the server answers an error."""

    def __init__(self, reply: ErrorReply) -> None:
        super().__init__(reply.message)
        self.reply = reply


def encode_command(args: Iterable[Arg]) -> bytes:
    """A request in RESP multibulk form."""
    parts = []
    for arg in args:
        if isinstance(arg, str):
            data = arg.encode("utf-8", "surrogateescape")
        elif isinstance(arg, bytes):
            data = arg
        elif isinstance(arg, float):
            data = repr(arg).encode()
        else:
            data = str(arg).encode()
        parts.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"*%d\r\n%b" % (len(parts), b"".join(parts))


class _Protocol(asyncio.Protocol):
    """Parses what arrives into an ordered inbox of replies and pushes; ``Connection`` consumes it."""

    def __init__(self, reader: ReplyReader) -> None:
        self.reader = reader
        self.transport: asyncio.Transport | None = None
        self.inbox: deque[Reply] = deque()
        self.arrival: asyncio.Future[None] | None = None  # the current reader waits on this
        self.reading = False
        self.push_handler: PushHandler | None = None
        self.dispatch_idle_pushes = True
        self.closed_reason: str | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while True:
            try:
                reply = self.reader.gets()
            except ConnectionError as exc:
                self._fail(str(exc))
                assert self.transport is not None
                self.transport.abort()
                return
            if isinstance(reply, NotReady):
                break
            self.inbox.append(reply)
        if not self.reading and self.dispatch_idle_pushes:
            self.dispatch_pushes()
        self._wake()

    def dispatch_pushes(self) -> None:
        """Hand the pushes at the head of the inbox to the handler; replies behind them stay."""
        while self.inbox and self.push_handler is not None:
            head = self.inbox[0]
            if not isinstance(head, Push):
                return
            self.inbox.popleft()
            self.push_handler(head)

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is None:
            reason = "Server closed the connection"
        elif isinstance(exc, OSError) and exc.errno is not None:
            reason = os.strerror(exc.errno)
        else:
            reason = str(exc)
        self._fail(reason)

    def _fail(self, reason: str) -> None:
        if self.closed_reason is None:
            self.closed_reason = reason
        self._wake()
        if not self.closed.done():
            self.closed.set_result(None)

    def _wake(self) -> None:
        if self.arrival is not None and not self.arrival.done():
            self.arrival.set_result(None)


class Connection:
    """A connection; open one with ``Connection.open``.

    Replies are consumed in order by ``read_reply`` (callers queue fairly on a
    lock, so concurrent ``execute`` calls each get their own reply).  A push
    that arrives while a reply is awaited is handed to ``push_handler`` just
    before the reply that followed it, keeping the order the server sent.
    """

    def __init__(self, address: Address, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self.address = address
        self._transport = transport
        self._protocol = protocol
        self._read_lock = asyncio.Lock()

    @classmethod
    async def open(cls, address: Address, *, typed: bool = False, timeout: float | None = None) -> "Connection":
        """Connect; raises ``ConnectFailed`` with the system's reason when that fails.

        ``typed`` selects the ``TypedReader`` (every RESP type kept apart)
        instead of hiredis (plain values).
        """
        loop = asyncio.get_running_loop()
        reader: ReplyReader = TypedReader() if typed else HiredisReader()
        protocol = _Protocol(reader)
        try:
            async with asyncio.timeout(timeout):
                sock = await _connect_socket(address)
                transport, _ = await loop.create_connection(lambda: protocol, sock=sock)
        except TimeoutError:
            raise ConnectFailed(address, os.strerror(errno.ETIMEDOUT)) from None
        assert isinstance(transport, asyncio.Transport)
        return cls(address, transport, protocol)

    @property
    def closed(self) -> bool:
        return self._protocol.closed_reason is not None or self._transport.is_closing()

    @property
    def closed_reason(self) -> str | None:
        return self._protocol.closed_reason

    @property
    def push_handler(self) -> PushHandler | None:
        return self._protocol.push_handler

    @push_handler.setter
    def push_handler(self, handler: PushHandler | None) -> None:
        self._protocol.push_handler = handler

    def send(self, *args: Arg) -> None:
        """Write one request without waiting; pair it with one ``read_reply``."""
        if self.closed:
            raise ConnectionClosed(self._protocol.closed_reason or "Connection closed")
        self._transport.write(encode_command(args))

    @property
    def dispatch_idle_pushes(self) -> bool:
        """Whether pushes arriving while no reply is awaited go to the handler at once (the default).

        When False they wait for the next ``read_reply``, as redis-cli shows them.
        """
        return self._protocol.dispatch_idle_pushes

    @dispatch_idle_pushes.setter
    def dispatch_idle_pushes(self, value: bool) -> None:
        self._protocol.dispatch_idle_pushes = value

    async def read_reply(self) -> Reply:
        """The next reply not yet read, waiting for it if needed.

        Pushes met on the way go to ``push_handler``; with no handler they
        are returned like replies (what a subscriber reading messages wants).
        """
        protocol = self._protocol
        async with self._read_lock:
            protocol.reading = True
            try:
                while True:
                    while protocol.inbox:
                        reply = protocol.inbox.popleft()
                        if isinstance(reply, Push) and protocol.push_handler is not None:
                            protocol.push_handler(reply)
                            continue
                        return reply
                    if protocol.closed_reason is not None:
                        raise ConnectionClosed(protocol.closed_reason)
                    protocol.arrival = asyncio.get_running_loop().create_future()
                    await protocol.arrival
            finally:
                protocol.reading = False
                protocol.arrival = None
                if protocol.inbox and protocol.dispatch_idle_pushes:
                    asyncio.get_running_loop().call_soon(protocol.dispatch_pushes)

    async def execute(self, *args: Arg) -> Reply:
        """Send one command and return its reply; error replies are returned as ``ErrorReply``."""
        self.send(*args)
        return await self.read_reply()

    async def call(self, *args: Arg) -> Reply:
        """Like ``execute``, but raise ``ServerError`` for an error reply."""
        reply = await self.execute(*args)
        if isinstance(reply, ErrorReply):
            raise ServerError(reply)
        return reply

    async def handshake(
        self, *, password: str | None = None, user: str | None = None, db: int = 0, protocol: int = 2
    ) -> tuple[str, ErrorReply] | None:
        """AUTH, SELECT and HELLO as needed, stopping at the first refusal.

        Returns the refused step (``AUTH``, ``SELECT <db>`` or ``HELLO <n>``)
        with its error, so each caller reports it its own way; None when every
        step succeeded.
        """
        steps: list[tuple[str, list[Arg]]] = []
        if password is not None:
            steps.append(("AUTH", ["AUTH", password] if user is None else ["AUTH", user, password]))
        if db:
            steps.append((f"SELECT {db}", ["SELECT", db]))
        if protocol != 2:
            steps.append((f"HELLO {protocol}", ["HELLO", protocol]))
        for step, args in steps:
            reply = await self.execute(*args)
            if isinstance(reply, ErrorReply):
                return step, reply
        return None

    def close(self) -> None:
        self._transport.close()

    async def wait_closed(self) -> None:
        await self._protocol.closed


async def _connect_socket(address: Address) -> socket.socket:
    """A connected, non-blocking socket; every resolved address is tried in turn, as hiredis does."""
    loop = asyncio.get_running_loop()
    if address.unix_path is not None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, address.unix_path)
        except OSError as exc:
            sock.close()
            raise ConnectFailed(address, _reason(exc)) from None
        except BaseException:  # cancelled (a timeout): do not leak the socket
            sock.close()
            raise
        return sock
    try:
        infos = await loop.getaddrinfo(address.host, address.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConnectFailed(address, exc.strerror or str(exc)) from None
    last: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, sockaddr)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        except BaseException:
            sock.close()
            raise
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        return sock
    raise ConnectFailed(address, _reason(last) if last else "Can't resolve: " + address.host)


def _reason(exc: OSError) -> str:
    return os.strerror(exc.errno) if exc.errno is not None else str(exc)
