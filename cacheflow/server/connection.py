"""One client connection: bytes in, requests through the engine, replies out.

Hot path (DESIGN.md): ``data_received`` hands the whole packet to hiredis,
runs every complete request through the engine, and sends all replies with one
``transport.write``.  The exact pure-Python parser takes over whenever hiredis
cannot be trusted to decide alone: the packet does not start with ``*``
(inline commands), a request is split across packets (so limits are checked on
its headers before its payload arrives), or hiredis reports an error (so the
client gets Redis's exact protocol error).  It hands back to hiredis as soon as
it holds no partial request.

Back-pressure: when the transport's buffer passes its high-water mark we stop
reading from that client until it drains, so a client that sends without
reading cannot grow our memory; replies are flushed every ``_FLUSH_EVERY``
requests within a batch so the output-buffer limit is enforced mid-pipeline.
"""

import asyncio
import logging
from typing import TYPE_CHECKING, cast

import hiredis

from cacheflow.commands.context import ATTENTION_OUTPUT_LIMIT, Context
from cacheflow.resp import encoder, text_protocol
from cacheflow.resp.errors import ProtocolError
from cacheflow.resp.parser import RequestParser

if TYPE_CHECKING:
    from cacheflow.server.app import Server

log = logging.getLogger("cacheflow")

_FLUSH_EVERY = 128


class _HandOver(Exception):
    """hiredis produced something other than a request array: let the exact parser decide."""
_MAX_CLIENTS = b"-ERR max number of clients reached\r\n"


class Connection(asyncio.Protocol):
    __slots__ = ("server", "ctx", "transport", "_reader", "_parser", "_closed", "_paused_reading", "_held")

    def __init__(self, server: "Server") -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self._reader = hiredis.Reader()
        self._parser: RequestParser | None = None  # set while the exact parser owns the stream
        self._closed = False
        self._paused_reading = False
        self._held: list[list[bytes]] = []  # requests parsed while clients are paused
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
        transport.set_write_buffer_limits(high=256 * 1024)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self.server.unregister(self)

    def pause_writing(self) -> None:
        if self.transport is not None and not self._closed:
            self._paused_reading = True
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None and not self._closed and self._paused_reading:
            self._paused_reading = False
            self.transport.resume_reading()

    def close(self) -> None:
        """Close after sending what is already queued."""
        if not self._closed and self.transport is not None:
            self._closed = True
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection now, discarding queued output."""
        if not self._closed and self.transport is not None:
            self._closed = True
            self.transport.abort()

    # -- input ---------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        server = self.server
        server.stats.net_input_bytes += len(data)
        ctx = self.ctx
        ctx.last_interaction_ms = server.cached_ms
        if self._parser is not None or data[0] != 42 or server.paused_until:
            self._slow_received(data)
            return
        reader = self._reader
        reader.feed(data)
        gets = reader.gets
        execute = server.engine.execute
        out: list[bytes] = []
        append = out.append
        done = 0
        try:
            while True:
                req = gets()
                if req is False:
                    break
                if req.__class__ is not list or not req:
                    raise _HandOver
                append(execute(ctx, req))
                done += 1
                if ctx.attention and not self._after_reply(out):
                    return
        except (hiredis.ProtocolError, _HandOver):
            self._reader = hiredis.Reader()
            self._hand_over(data, done, out)
            return
        if reader.has_data():
            self._reader = hiredis.Reader()
            self._hand_over(data, done, out)
            return
        if out:
            self._send(out)

    def _hand_over(self, data: bytes, done: int, out: list[bytes]) -> None:
        """Give the exact parser this packet, minus the ``done`` requests already run."""
        parser = RequestParser(self.server.limits)
        parser.authenticated = self.ctx.authenticated
        parser.feed(data)
        try:
            for _ in range(done):  # already executed; the parser skips empty arrays by itself
                parser.get()
        except ProtocolError:  # cannot happen: hiredis accepted these requests
            pass
        self._parser = parser
        self._run_parser(out, inline_ok=True)

    def _slow_received(self, data: bytes) -> None:
        if self._parser is None:
            self._parser = RequestParser(self.server.limits)
        self._parser.feed(data)
        self._run_parser([], inline_ok=True)

    def _run_parser(self, out: list[bytes], inline_ok: bool) -> None:
        parser = self._parser
        assert parser is not None
        ctx = self.ctx
        server = self.server
        while not self._closed:
            parser.authenticated = ctx.authenticated
            try:
                req = parser.get()
            except ProtocolError as e:
                out.append(encoder.error(f"ERR Protocol error: {e}"))
                self._send(out)
                server.stats.protocol_errors += 1
                log.log(15, "Protocol error (%s) from client: id=%d addr=%s", e, ctx.id, ctx.addr)
                self.close()
                return
            if req is None:
                break
            if server.config.cacheflow_text_protocol and parser.last_was_inline:
                req = text_protocol.translate(req)
            if (server.paused_until or self._held) and self._hold(req):
                continue
            out.append(server.engine.execute(ctx, req))
            if ctx.attention and not self._after_reply(out):
                return
        if parser.pending() > server.config.client_query_buffer_limit:
            log.warning("Closing client that reached max query buffer length: id=%d addr=%s", ctx.id, ctx.addr)
            self.abort()
            return
        if parser.is_idle():
            self._parser = None
        if out:
            self._send(out)

    def _hold(self, req: list[bytes]) -> bool:
        """While clients are paused, keep requests the pause applies to for later."""
        if self.server.pause_applies(self.ctx, req) or self._held:
            self._held.append(req)
            return True
        return False

    def release_held(self) -> None:
        """Run requests held during a pause (called by the server on unpause)."""
        held, self._held = self._held, []
        out: list[bytes] = []
        for i, req in enumerate(held):
            if self._closed:
                return
            if self.server.paused_until and self.server.pause_applies(self.ctx, req):
                self._held = held[i:]
                break
            out.append(self.server.engine.execute(self.ctx, req))
            if self.ctx.attention and not self._after_reply(out):
                return
        if out:
            self._send(out)
        if not self._held and self._parser is not None and not self._closed:
            self._run_parser([], inline_ok=True)

    # -- output --------------------------------------------------------------

    def _after_reply(self, out: list[bytes]) -> bool:
        """Apply reply modes, QUIT and buffer limits after a reply; False when the connection closed."""
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
        if ctx.attention & ATTENTION_OUTPUT_LIMIT and len(out) >= _FLUSH_EVERY:
            # Flush mid-batch so the output-buffer limit is checked before replies pile up.
            self._send(out)
            out.clear()
            return not self._closed
        return True

    def _send(self, out: list[bytes]) -> None:
        transport = self.transport
        if transport is None or (self._closed and not self.ctx.close_after_reply):
            return
        payload = out[0] if len(out) == 1 else b"".join(out)
        self.server.stats.net_output_bytes += len(payload)
        transport.write(payload)
        if self.ctx.attention & ATTENTION_OUTPUT_LIMIT:
            self.server.check_output_limits(self)

    def write_reply(self, reply: bytes) -> None:
        """Send one reply produced outside a request batch (unblocked clients, pub/sub)."""
        self._send([reply])

    def output_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size() if self.transport is not None else 0

    def query_buffer_size(self) -> int:
        return self._parser.pending() if self._parser is not None else 0
