"""The state of one cacheflow-cli run and the running of commands, as redis-cli does it.

Every mode (a one-shot command, lines from a pipe, the interactive prompt)
goes through ``Session.issue``, so they share redis-cli's rules: reconnect
lazily when the connection is gone, AUTH/SELECT/HELLO after every connect,
track the database and MULTI state for the prompt, and print each reply in
the chosen output form.
"""

import asyncio
import os
import sys
import time
from typing import BinaryIO

from cacheflow import __version__
from cacheflow.cli.docs import CommandHelp, fetch_help, help_text
from cacheflow.cli.format import format_invalidation, format_reply
from cacheflow.cli.options import Options, OutputMode, atoi
from cacheflow.client import (
    Address,
    ConnectFailed,
    Connection,
    ConnectionClosed,
    ErrorReply,
    Push,
    Reply,
    RespMap,
)
from cacheflow.resp.inline import split_inline_args

# Commands whose text replies redis-cli prints raw even on a terminal: (name, first argument or None).
_RAW_OUTPUT = frozenset(
    {
        ("info", None),
        ("lolwut", None),
        ("debug", "htstats"),
        ("debug", "htstats-key"),
        ("debug", "client-eviction"),
        ("memory", "malloc-stats"),
        ("memory", "doctor"),
        ("client", "list"),
        ("client", "info"),
        ("proxy", "info"),
    }
)
_SUBSCRIBE = frozenset({"subscribe", "psubscribe", "ssubscribe"})


def _raw_output(args: list[bytes]) -> bool:
    name = args[0].decode("utf-8", "replace").lower()
    first = args[1].decode("utf-8", "replace").lower() if len(args) > 1 else None
    if (name, None) in _RAW_OUTPUT or (first is not None and (name, first) in _RAW_OUTPUT):
        return True
    if len(args) == 2 and name == "cluster" and first in ("nodes", "info"):
        return True
    if name == "latency":
        return (len(args) == 3 and first == "graph") or (len(args) == 2 and first == "doctor")
    return False


class Exit(Exception):
    """Leave cacheflow-cli with ``status``."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class Session:
    """Connection state, prompt state and output settings for one run."""

    def __init__(self, opts: Options, *, repl: bool, out: BinaryIO | None = None, err: BinaryIO | None = None) -> None:
        self.opts = opts
        self.repl = repl  # reading lines (from a terminal or a pipe) rather than running one command
        self.out = out if out is not None else sys.stdout.buffer
        self.err = err if err is not None else sys.stderr.buffer
        stdout_tty = self.out.isatty() or bool(os.environ.get("FAKETTY"))
        self.mode = opts.output or (OutputMode.STANDARD if stdout_tty else OutputMode.RAW)
        self.show_pushes = opts.show_pushes if opts.show_pushes is not None else stdout_tty
        self.address = Address(opts.host, opts.port, opts.unix_socket)
        self.conn: Connection | None = None
        self.db = 0  # the database the connection is in
        self.wanted_db = opts.db  # the database to select after (re)connecting
        self.protocol = opts.protocol
        self.in_multi = False
        self.pre_multi_db = 0
        self.help_entries: list[CommandHelp] | None = None
        self.hints = True
        self._streaming = False
        self._interrupted = False

    # -- prompt ----------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.conn is not None

    def prompt(self) -> str:
        """redis-cli's prompt: address, ``[db]`` unless 0, ``(TX)`` inside MULTI."""
        if self.conn is None:
            return "not connected> "
        where = f"redis {self.address.unix_path}" if self.address.unix_path is not None else str(self.address)
        if self.db:
            where += f"[{self.db}]"
        if self.in_multi:
            where += "(TX)"
        return where + "> "

    # -- output ----------------------------------------------------------------

    def write(self, data: bytes) -> None:
        self.out.write(data)
        self.out.flush()

    def warn(self, message: str | bytes) -> None:
        data = message if isinstance(message, bytes) else message.encode("utf-8", "surrogateescape")
        self.err.write(data + b"\n")
        self.err.flush()

    def _print_push(self, push: Push) -> None:
        if self.mode is OutputMode.STANDARD:
            line = format_invalidation(push)
            if line is not None:
                self.write(line)
                return
        self.write(format_reply(push, self.mode, mb_delim=self.opts.mb_delim, cmd_delim=self.opts.cmd_delim))

    def _set_push_handler(self) -> None:
        if self.conn is not None:
            self.conn.push_handler = self._print_push if self.show_pushes else _drop_push
            # redis-cli only reads while it waits for a reply, so a push shows up before the next one.
            self.conn.dispatch_idle_pushes = False

    # -- connecting ------------------------------------------------------------

    async def connect(self, *, force: bool = False, quiet: bool = False) -> bool:
        """Connect (again, when ``force``) and authenticate, select and switch protocol.

        Returns False when any step failed; a failed AUTH/SELECT/HELLO still
        leaves the connection open, as in redis-cli.
        """
        if self.conn is not None and not force:
            return True
        if self.conn is not None:
            self.conn.close()
            self.conn = None
            self.db = 0
            self.in_multi = False
        try:
            self.conn = await Connection.open(self.address, typed=True)
        except ConnectFailed as exc:
            if not quiet:
                self.warn(f"Could not connect to Redis at {exc.address}: {exc.reason}")
            return False
        self._set_push_handler()
        try:
            refused = await self.conn.handshake(
                password=self.opts.password, user=self.opts.user, db=self.wanted_db, protocol=self.protocol
            )
        except ConnectionClosed:
            self.warn("\nI/O error")
            self._drop_connection()
            return False
        if refused is None or not refused[0].startswith(("AUTH", "SELECT")):
            self.db = self.wanted_db
        if refused is not None:
            self.warn(f"{refused[0]} failed: {refused[1].message}")
            return False
        return True

    async def _select_wanted_db(self) -> bool:
        if self.conn is None or self.wanted_db == self.db:
            return True
        reply = await self.conn.execute("SELECT", str(self.wanted_db))
        if isinstance(reply, ErrorReply):
            self.warn(f"SELECT {self.wanted_db} failed: {reply.message}")
            return False
        self.db = self.wanted_db
        return True

    def _drop_connection(self) -> None:
        """Forget a dead connection; the next command reconnects and re-selects the database."""
        if self.conn is not None:
            self.conn.close()
        self.conn = None
        self.db = 0
        self.in_multi = False

    async def load_help(self) -> list[CommandHelp]:
        """Command help from the server, fetched once per run on a side connection."""
        if self.help_entries is None:
            try:
                conn = await Connection.open(self.address, typed=True)
            except ConnectFailed:
                return []
            try:
                await conn.handshake(password=self.opts.password, user=self.opts.user)
                self.help_entries = await fetch_help(conn)
            except ConnectionError:
                return []
            finally:
                conn.close()
        return self.help_entries

    # -- running commands ------------------------------------------------------

    def interrupt(self) -> int | None:
        """Ctrl-C while a command runs: leave a subscription or MONITOR for the prompt, else quit.

        Returns the exit status when the program should end.
        """
        if self.repl and self._streaming and self.conn is not None:
            self._interrupted = True
            self.conn.close()
            return None
        return 1 if self.repl else 130

    async def issue(self, args: list[bytes], repeat: int = 1) -> bool:
        """Run one command ``repeat`` times (forever when negative); False when it could not run."""
        name = args[0].lower()
        if name in (b"help", b"?"):
            topic = [a.decode("utf-8", "replace") for a in args[1:]]
            entries = await self.load_help() if topic else []
            self.write(help_text(topic, entries, __version__).encode())
            return True
        if self.conn is None or self.conn.closed:
            if self.conn is not None and self.conn.closed:
                # The server went away while we were idle: report it as redis-cli would on its next read.
                self.warn(f"Error: {self.conn.closed_reason or 'Server closed the connection'}")
                self._drop_connection()
                return False
            if not await self.connect(force=True):
                return False
        try:
            await self._run(args, repeat)
        except ConnectionClosed as exc:
            if self._interrupted:
                self._interrupted = False
                self._streaming = False
                await self.connect(force=True)
                return True
            if name == b"shutdown":  # the server closing on us is the expected answer
                self._drop_connection()
                return True
            self.warn(f"Error: {exc}")
            if not self.repl:
                raise Exit(1) from None
            self._drop_connection()
            return False
        return True

    async def _run(self, args: list[bytes], repeat: int) -> None:
        conn = self.conn
        assert conn is not None
        name = args[0].decode("utf-8", "replace").lower()
        force_raw = _raw_output(args)
        while repeat != 0:
            if repeat > 0:
                repeat -= 1
            conn.send(*args)
            if name == "monitor":
                await self._stream(conn, force_raw, stop_on_error=False)
                return
            if name in _SUBSCRIBE:
                if self.mode is not OutputMode.RAW:
                    self.write(b"Reading messages... (press Ctrl-C to quit)\n")
                await self._stream(conn, force_raw, stop_on_error=True)
                continue
            reply = await conn.read_reply()
            if isinstance(reply, ErrorReply) and self.opts.exit_on_error and not self.repl:
                self.warn(bytes(reply))  # with -e a failed command's error goes to stderr, and ends the run
                raise Exit(1)
            self._print_reply(reply, force_raw)
            await self._track_state(name, args, reply)
            if self.opts.interval:
                await asyncio.sleep(self.opts.interval)

    def _print_reply(self, reply: Reply, force_raw: bool) -> None:
        opts = self.opts
        text = format_reply(reply, self.mode, force_raw=force_raw, mb_delim=opts.mb_delim, cmd_delim=opts.cmd_delim)
        self.write(text)

    async def _stream(self, conn: Connection, force_raw: bool, *, stop_on_error: bool) -> None:
        """Print replies as they come (MONITOR, SUBSCRIBE) until an error or Ctrl-C."""
        self._streaming = True
        conn.push_handler = None  # pushes are the messages here
        try:
            while True:
                reply = await conn.read_reply()
                self._print_reply(reply, force_raw)
                if stop_on_error and isinstance(reply, ErrorReply):
                    break
        finally:
            self._streaming = False
            self._set_push_handler()

    async def _track_state(self, name: str, args: list[bytes], reply: Reply) -> None:
        """Follow SELECT, MULTI/EXEC/DISCARD, RESET, HELLO and AUTH so the prompt and reconnects stay right."""
        failed = isinstance(reply, ErrorReply)
        argc = len(args)
        if name == "select" and argc == 2 and not failed:
            self.db = self.wanted_db = atoi(args[1].decode("utf-8", "replace"))
        elif name == "auth" and argc in (2, 3):
            await self._select_wanted_db()
        elif name == "multi" and argc == 1 and not failed:
            self.in_multi = True
            self.pre_multi_db = self.db
        elif name == "exec" and argc == 1 and self.in_multi:
            self.in_multi = False
            if failed or reply is None:
                self.db = self.wanted_db = self.pre_multi_db
        elif name == "discard" and argc == 1 and not failed:
            self.in_multi = False
            self.db = self.wanted_db = self.pre_multi_db
        elif name == "reset" and argc == 1 and not failed:
            self.in_multi = False
            self.db = self.wanted_db = 0
            self.protocol = 2
        elif name == "hello":
            if isinstance(reply, RespMap):
                self.protocol = 3
            elif isinstance(reply, list):
                self.protocol = 2

    async def run_line(self, line: str) -> None:
        """One line typed at the prompt or read from a pipe, with redis-cli's REPL rules."""
        args = split_inline_args(line.encode("utf-8", "surrogateescape"))
        if args is None:
            self.write(b"Invalid argument(s)\n")
            return
        if not args:
            return
        repeat = 1
        skip = 0
        if len(args) > 1 and _is_repeat_count(args[0]):
            repeat = int(args[0]) if args[0].strip() else 0
            if repeat <= 0 or repeat >= 2**63:
                self.write(b"Invalid redis-cli repeat command option value.\n")
                return
            skip = 1
        first = args[0].lower()
        if first in (b"quit", b"exit"):
            raise Exit(0)
        if first.startswith(b":"):
            self._set_preference(args)
        elif len(args) == 3 and first == b"connect":
            host = args[1].decode("utf-8", "surrogateescape")
            self.address = Address(host, atoi(args[2].decode("utf-8", "replace")))
            await self.connect(force=True)
        elif len(args) == 1 and first == b"clear":
            self.write(b"\x1b[H\x1b[2J")
        else:
            started = time.monotonic()
            await self.issue(args[skip:], repeat)
            elapsed = time.monotonic() - started
            if elapsed >= 0.5 and self.mode is OutputMode.STANDARD:
                self.write(b"(%.2fs)\n" % elapsed)

    def _set_preference(self, args: list[bytes]) -> None:
        if args[0].lower() == b":set" and len(args) >= 2:
            choice = args[1].lower()
            if choice == b"hints":
                self.hints = True
            elif choice == b"nohints":
                self.hints = False
            else:
                self.write(b"unknown cacheflow-cli preference '%s'\n" % args[1])
        else:
            self.write(b"unknown cacheflow-cli internal command '%s'\n" % args[0])


def _is_repeat_count(word: bytes) -> bool:
    """Whether redis-cli takes ``word`` as a repeat count: C's strtol consumed all of it.

    An empty word counts (as zero, which is then refused), as it does for strtol.
    """
    if not word:
        return True
    body = word.lstrip(b" \t\n\r\v\f")
    if body[:1] in (b"+", b"-"):
        body = body[1:]
    return body.isdigit()


def _drop_push(push: Push) -> None:
    """Pushes nobody asked to see are discarded, as redis-cli does when output is not a terminal."""
