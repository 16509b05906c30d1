"""One client connection: bytes in, requests through the engine, replies out.

Hot path (DESIGN.md): ``data_received`` hands the whole packet to hiredis,
runs every complete request through the engine, and sends all replies with one
``transport.write``.  The exact pure-Python parser takes over whenever hiredis
cannot be trusted to decide alone: the packet does not start with ``*``
(inline commands), a request is split across packets (so limits are checked on
its headers before its payload arrives), the packet is not exactly arrays of
bulk strings (so the client gets Redis's exact protocol error), or it declares
a huge aggregate (hiredis would preallocate it).  It hands back to hiredis as
soon as it holds no partial request.

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
import re
from typing import TYPE_CHECKING, Final, cast

import hiredis

from cacheflow.commands.context import ATTENTION_BLOCKED, ATTENTION_OUTPUT_LIMIT, Context
from cacheflow.resp import encoder, text_protocol
from cacheflow.resp.errors import ProtocolError
from cacheflow.resp.parser import RequestParser

if TYPE_CHECKING:
    from cacheflow.server.app import Server

log = logging.getLogger("cacheflow")

# Replies are flushed (and back-pressure checked) at least this often within a batch.
_FLUSH_EVERY: Final = 128
_MAX_CLIENTS: Final = b"-ERR max number of clients reached\r\n"
_HIGH_WATER: Final = 256 * 1024
# Aggregate headers (array, set, push) declaring a million or more elements.
_BIG_ARRAY: Final = re.compile(rb"\*[0-9]{7}")
_BIG_SET_OR_PUSH: Final = re.compile(rb"[~>][0-9]{7}")


def _may_preallocate(data: bytes) -> bool:
    """Whether hiredis might preallocate a huge list for this packet.

    hiredis allocates an aggregate's list as soon as it reads the header, so
    ``*3000000000`` costs 24 GB of address space, and freeing the list touches
    every slot, stalling the loop for seconds.  Such packets go to the exact
    parser, which never preallocates.  The first header was checked by the
    caller; a packet with no other ``*``, ``~`` or ``>`` needs no scan.
    ``partition`` rather than ``find``/``in``: it takes its argument without
    the generic argument parsing those use, which cost more than the search
    itself on a one-request packet (callgrind: ~690 against ~1,080 instructions).
    """
    if data.rpartition(b"*")[0] and _BIG_ARRAY.search(data) is not None:
        return True
    return bool(data.partition(b"~")[1] or data.partition(b">")[1]) and _BIG_SET_OR_PUSH.search(data) is not None


def _bulk_size(length: int) -> int:
    """Bytes of ``$<length>\r\n<payload>\r\n``: the canonical encoding of one argument."""
    if length < 10:
        return length + 6
    if length < 100:
        return length + 7
    if length < 1000:
        return length + 8
    return length + len(str(length)) + 5


def _hides_simple_string(data: bytes, requests: int, args: int) -> bool:
    """Whether a verbatim string (longer than its bulk form) may offset a shorter simple string.

    Only reached when the packet holds an ``=``.  A bulk argument owns exactly
    two line ends and a request header one; simple strings and big numbers
    own one, so counting line ends exposes them whatever the byte lengths.
    """
    return data.count(b"\r\n") != requests + 2 * args


def _position(requests: list[list[bytes]], req: list[bytes]) -> int:
    """Where ``req`` (by identity) is in the batch: only needed when a request blocks."""
    for i, r in enumerate(requests):
        if r is req:
            return i
    raise ValueError("request not in batch")


class _HandOver(Exception):
    """hiredis cannot be trusted with this packet: let the exact parser decide."""


class Connection(asyncio.Protocol):
    __slots__ = (
        "server",
        "ctx",
        "transport",
        "_reader",
        "_parser",
        "_closed",
        "_paused_reading",
        "_held",
        "_pending_error",
    )

    def __init__(self, server: "Server") -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self._reader = hiredis.Reader()
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
            or data[0] != 42
            or server.paused_until
            or server.admission is not None
            or not ctx.authenticated
            or len(data) < 3
            or (data[2] != 13 and data.find(b"\r", 1, 8) < 0)  # data[2]: fewer than 10 arguments
            or _may_preallocate(data)
        ):
            # The exact parser also takes unauthenticated clients, whom Redis holds to
            # tighter limits, and packets whose first count is cut short.
            self._slow_received(data)
            return
        reader = self._reader
        reader.feed(data)
        gets = reader.gets
        requests: list[list[bytes]] = []
        # The packet is trusted only if it is exactly the canonical encoding of what hiredis
        # returned: arrays of bulk strings, nothing left over.  hiredis also returns simple
        # strings, big numbers and verbatim strings as bytes; the first two are shorter than
        # their bulk form, so the byte count exposes them (see _hides_simple_string for the
        # longer verbatim form).  A request cut short, an empty array or anything buffered
        # also breaks the equality.
        size = 0
        args = 0
        try:
            while True:
                req = gets()
                if req is False:
                    break
                if type(req) is not list or not req:
                    raise _HandOver
                count = len(req)
                args += count
                size += 4 if count < 10 else 5 if count < 100 else len(str(count)) + 3
                for arg in req:
                    if type(arg) is not bytes:
                        raise _HandOver
                    size += _bulk_size(len(arg))
                requests.append(req)
            if size != len(data) or (data.partition(b"=")[1] and _hides_simple_string(data, len(requests), args)):
                raise _HandOver
        except (hiredis.ProtocolError, _HandOver, MemoryError, TypeError):  # TypeError: a map with an unhashable key
            self._reader = hiredis.Reader()
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
