"""One client connection: bytes in, requests through the engine, replies out.

Hot path (DESIGN.md): ``data_received`` parses a packet of whole, canonical
requests with one compiled scan (resp/packet.py), runs every request through
the engine, and sends all replies with one ``transport.write``.  The exact
pure-Python parser takes over whenever that scan refuses the packet: it does
not start with ``*`` (inline commands), a request is split across packets (so
limits are checked on its headers before its payload arrives), or the packet is
not exactly canonical arrays of bulk strings (so the client gets Redis's exact
protocol error).  It hands back as soon as it holds no partial request.

Invariants:
- Requests run in the order they arrived.  Requests parsed but not yet run wait
  in ``_held``: during CLIENT PAUSE, while this client's output is over the
  transport's high-water mark (back-pressure), and while the client is blocked
  in BLPOP and friends (``ctx.blocked``; the exact parser then buffers new
  input until the server unblocks the client and calls ``resume``).  While
  anything is held, new input queues behind it.
- Back-pressure: past the high-water mark we stop reading from the client and
  stop running its requests until its output drains, so a client that sends
  without reading cannot grow our memory by more than one flush's replies.
- Nothing a client sends can raise out of ``data_received``: a failure outside
  a handler (which the engine already contains) is logged and answered with an
  error before the connection closes.
"""

import asyncio
import logging
from typing import TYPE_CHECKING, Final, cast

from cacheflow.commands.context import ATTENTION_BLOCKED, ATTENTION_OUTPUT_LIMIT, Context
from cacheflow.resp import encoder, text_protocol
from cacheflow.resp.errors import ProtocolError
from cacheflow.resp.packet import parse_whole_packet
from cacheflow.resp.parser import RequestParser

if TYPE_CHECKING:
    from cacheflow.server.app import Server

log = logging.getLogger("cacheflow")

# Replies are flushed (and back-pressure checked) at least this often within a batch.
_FLUSH_EVERY: Final = 128
_MAX_CLIENTS: Final = b"-ERR max number of clients reached\r\n"
_HIGH_WATER: Final = 256 * 1024


def _position(requests: list[list[bytes]], req: list[bytes]) -> int:
    """Where ``req`` (by identity) is in the batch: only needed when a request blocks."""
    for i, r in enumerate(requests):
        if r is req:
            return i
    raise ValueError("request not in batch")


class Connection(asyncio.Protocol):
    __slots__ = (
        "server",
        "ctx",
        "transport",
        "_parser",
        "_closed",
        "_paused_reading",
        "_held",
        "_pending_error",
    )

    def __init__(self, server: "Server") -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self._parser: RequestParser | None = None  # set while the exact parser owns the stream
        self._closed = False
        self._paused_reading = False
        self._held: list[list[bytes]] = []
        self._pending_error: str | None = None  # a protocol error to report once _held has run
        self.ctx: Context

    # -- lifecycle -----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        self.transport = transport
        server = self.server
        self.ctx = server.new_context(self, transport)
        if len(server.connections) >= server.config.maxclients:
            server.stats.rejected_connections += 1
            transport.write(_MAX_CLIENTS)
            transport.close()
            self._closed = True
            return
        denied = server.protected_mode_denial(transport)
        if denied is not None:
            transport.write(denied)
            transport.close()
            self._closed = True
            return
        server.register(self)
        transport.set_write_buffer_limits(high=_HIGH_WATER)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._held = []
        self.server.unregister(self)

    def pause_writing(self) -> None:
        if self.transport is not None and not self._closed:
            self._paused_reading = True
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None and not self._closed and self._paused_reading:
            self._paused_reading = False
            self.transport.resume_reading()
            self.resume()

    def close(self) -> None:
        """Close after sending what is already queued."""
        if not self._closed and self.transport is not None:
            self._closed = True
            self._forget_blocked()
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection now, discarding queued output."""
        if not self._closed and self.transport is not None:
            self._closed = True
            self._forget_blocked()
            self.transport.abort()

    def _forget_blocked(self) -> None:
        """A closing client must not be served: what it would pop would be lost."""
        if self.ctx.blocked is not None:
            self.server.forget_blocked(self.ctx)

    # -- input ---------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        server = self.server
        server.stats.net_input_bytes += len(data)
        ctx = self.ctx
        ctx.last_interaction_ms = server.cached_ms
        if (
            self._parser is not None
            or self._held
            or server.paused_until
            or server.admission is not None
            or not ctx.authenticated  # Redis holds unauthenticated clients to tighter limits
        ):
            self._slow_received(data)
            return
        requests = parse_whole_packet(data, server.limits.max_bulk_len)
        if requests is None:
            self._slow_received(data)
            return
        if len(requests) > _FLUSH_EVERY:
            self._run(requests)
            return
        # Methods are called on their objects, never through a saved bound method: compiled,
        # engine.execute(...) and out.append(...) are direct C calls, an alias is a generic call.
        engine = server.engine
        out: list[bytes] = []
        try:
            for req in requests:
                out.append(engine.execute(ctx, req))
                if ctx.attention and not self._after_reply(out):
                    if ctx.blocked is not None and not self._closed:
                        self._held = requests[_position(requests, req) + 1 :]
                    return
        except Exception:
            self._failed(out)
            return
        self._send(out)

    def _slow_received(self, data: bytes) -> None:
        if self._parser is None:
            self._parser = RequestParser(self.server.limits)
        self._parser.feed(data)
        self.resume()

    def resume(self) -> None:
        """Run what can run now: held requests first, then whatever the exact parser holds.

        Called on new input, when output drains below the high-water mark, and
        when CLIENT PAUSE ends.
        """
        while not self._closed:
            if self.ctx.blocked is not None:
                if self._parser is not None and self._parser.pending() > self.server.config.client_query_buffer_limit:
                    self._query_buffer_exceeded()
                return
            if self._held:
                held, self._held = self._held, []
                self._run(held)
                if self._held or self._closed:
                    return
            if self._pending_error is not None:
                self._protocol_error([], self._pending_error)
                return
            parser = self._parser
            if parser is None:
                return
            # Unauthenticated clients are parsed one request at a time: an AUTH in the
            # pipeline lifts Redis's tighter limits for the requests after it.
            requests, error = self._parse(parser, _FLUSH_EVERY if self.ctx.authenticated else 1)
            if requests:
                self._run(requests)
            if error is not None:
                if self._held or self._closed:
                    self._pending_error = error
                    return
                self._protocol_error([], error)
                return
            if not requests:
                if parser.pending() > self.server.config.client_query_buffer_limit:
                    self._query_buffer_exceeded()
                elif parser.is_idle():
                    self._parser = None
                return
            if self._held:
                return

    def _query_buffer_exceeded(self) -> None:
        log.warning(
            "Closing client that reached max query buffer length: id=%d addr=%s",
            self.ctx.id,
            self.ctx.addr,
        )
        self.server.stats.client_query_buffer_limit_disconnections += 1
        self.abort()

    def _parse(self, parser: RequestParser, limit: int) -> tuple[list[list[bytes]], str | None]:
        """Up to ``limit`` complete requests, and the protocol error that stopped parsing, if any."""
        requests: list[list[bytes]] = []
        translate = self.server.config.cacheflow_text_protocol
        parser.authenticated = self.ctx.authenticated
        while len(requests) < limit:
            try:
                req = parser.get()
            except ProtocolError as e:
                return requests, str(e)
            if req is None:
                break
            if translate and parser.last_was_inline:
                req = text_protocol.translate(req)
            requests.append(req)
        return requests, None

    def _run(self, requests: list[list[bytes]]) -> None:
        """Run parsed requests in order, holding the rest when the client must wait."""
        server = self.server
        ctx = self.ctx
        engine = server.engine
        out: list[bytes] = []
        try:
            for i, req in enumerate(requests):
                if self._paused_reading or (server.paused_until and server.pause_applies(ctx, req)):
                    self._held = requests[i:]
                    break
                if server.admission is not None:
                    refusal = server.admission(ctx, req)
                    if refusal is not None:
                        out.append(refusal)
                        continue
                out.append(engine.execute(ctx, req))
                if ctx.attention and not self._after_reply(out):
                    if ctx.blocked is not None and not self._closed:
                        self._held = requests[i + 1 :]
                    return
                if len(out) >= _FLUSH_EVERY:
                    self._send(out)  # may pause us: pause_writing runs inside transport.write
                    out = []
        except Exception:
            self._failed(out)
            return
        if out:
            self._send(out)

    def _protocol_error(self, out: list[bytes], error: str) -> None:
        out.append(encoder.error(f"ERR Protocol error: {error}"))
        self._send(out)
        self.server.stats.protocol_errors += 1
        log.log(15, "Protocol error (%s) from client: id=%d addr=%s", error, self.ctx.id, self.ctx.addr)
        self.close()

    def _failed(self, out: list[bytes]) -> None:
        """A request broke something outside any handler: keep the server, drop the client."""
        log.exception("unexpected error while serving client id=%d addr=%s", self.ctx.id, self.ctx.addr)
        self._protocol_error(out, "unexpected request")

    # -- output --------------------------------------------------------------

    def _after_reply(self, out: list[bytes]) -> bool:
        """Apply reply modes, QUIT, blocking and buffer limits after a reply.

        False when the connection closed or the request just run blocked the
        client (its reply, empty, comes later through ``write_reply``).
        """
        ctx = self.ctx
        if ctx.reply_mode:
            if ctx.reply_mode == 1:  # OFF
                out.pop()
            elif ctx.reply_mode == 2:  # SKIP was just requested: drop this reply and the next
                out.pop()
                ctx.reply_mode = 3
            elif ctx.reply_mode == 3:
                out.pop()
                ctx.reply_mode = 0
        if ctx.close_after_reply:
            self._send(out)
            self.close()
            return False
        if ctx.attention & ATTENTION_BLOCKED:
            self._send(out)
            out.clear()
            if self._parser is None:  # new input is buffered by the exact parser while blocked
                self._parser = RequestParser(self.server.limits)
            self.server.client_blocked(self)
            return False
        if ctx.attention & ATTENTION_OUTPUT_LIMIT and len(out) >= _FLUSH_EVERY:
            # Flush mid-batch so the output-buffer limit is checked before replies pile up.
            self._send(out)
            out.clear()
            return not self._closed
        return True

    def _send(self, out: list[bytes]) -> None:
        transport = self.transport
        if not out or transport is None or (self._closed and not self.ctx.close_after_reply):
            return
        payload = out[0] if len(out) == 1 else b"".join(out)
        self.server.stats.net_output_bytes += len(payload)
        gate = self.server.reply_gate  # set only while the AOF has unwritten or unsynced writes
        if gate is not None and gate(self, payload):
            return  # held until its write is fsynced; the AOF writes it to the transport then
        transport.write(payload)
        if self.ctx.attention & ATTENTION_OUTPUT_LIMIT:
            self.server.check_output_limits(self)

    def write_reply(self, reply: bytes) -> None:
        """Send one reply produced outside a request batch (unblocked clients, pub/sub)."""
        self._send([reply])

    def has_held_requests(self) -> bool:
        return bool(self._held)

    def output_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size() if self.transport is not None else 0

    def query_buffer_size(self) -> int:
        return self._parser.pending() if self._parser is not None else 0

    def buffer_memory(self) -> int:
        """What this client holds in buffers: MEMORY STATS' clients.normal and maxmemory-clients count it."""
        return self.query_buffer_size() + self.output_buffer_size()
