"""cacheflow-cli as a user runs it: a subprocess against a real CacheFlow and a real redis-server.

Where Debian's redis-cli is installed, most tests run it with the same
arguments and input against the same server and require byte-identical
stdout, stderr and exit status.  The interactive mode runs under a
pseudo-terminal.  Waits poll for a condition with a deadline; nothing sleeps
and nothing asserts a timing.
"""

import asyncio
import fcntl
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import hiredis
import pytest
from servers import ServerProcess, cacheflow_server, free_port, real_redis_server

from cacheflow.client import (
    Address,
    ConnectFailed,
    Connection,
    ConnectionClosed,
    ErrorReply,
    RespMap,
    ServerError,
    SimpleString,
)

CLI = [sys.executable, "-m", "cacheflow.cli.main"]
REDIS_CLI = shutil.which("redis-cli")
needs_redis_cli = pytest.mark.skipif(REDIS_CLI is None, reason="Debian's redis-cli is not installed")
PASSWORD = "sekret"


@dataclass(frozen=True)
class Result:
    status: int
    out: bytes
    err: bytes


def _env(tmp: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDISCLI_AUTH", "FAKETTY")}
    env.update(HOME=str(tmp), CACHEFLOWCLI_HISTFILE="/dev/null", REDISCLI_HISTFILE="/dev/null")
    env.update(extra or {})
    return env


def run(argv: list[str], tmp: Path, stdin: bytes = b"", env: dict[str, str] | None = None) -> Result:
    proc = subprocess.run(argv, input=stdin, capture_output=True, timeout=60, env=_env(tmp, env))
    return Result(proc.returncode, proc.stdout, proc.stderr)


def ours(args: list[str], tmp: Path, stdin: bytes = b"", env: dict[str, str] | None = None) -> Result:
    return run([*CLI, *args], tmp, stdin, env)


def theirs(args: list[str], tmp: Path, stdin: bytes = b"", env: dict[str, str] | None = None) -> Result:
    assert REDIS_CLI is not None
    return run([REDIS_CLI, *args], tmp, stdin, env)


def flush(server: ServerProcess, password: str | None = None) -> None:
    client = server.client(password=password)
    client.flushall()
    client.close()


@pytest.fixture(params=["cacheflow", "real_redis"])
def server(request: pytest.FixtureRequest) -> ServerProcess:
    """Each test runs against CacheFlow and against redis-server."""
    srv: ServerProcess = request.getfixturevalue(request.param)
    flush(srv)
    return srv


@pytest.fixture(scope="module", params=["cacheflow", "real_redis"])
def locked_server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """A server that requires PASSWORD."""
    start = cacheflow_server if request.param == "cacheflow" else real_redis_server
    with start("--requirepass", PASSWORD) as srv:
        yield srv


def same_as_redis_cli(
    srv: ServerProcess,
    args: list[str],
    tmp: Path,
    stdin: bytes = b"",
    env: dict[str, str] | None = None,
    password: str | None = None,
) -> Result:
    """Run both CLIs from the same empty keyspace and require identical results."""
    flush(srv, password)
    expected = theirs(["-p", str(srv.port), *args], tmp, stdin, env)
    flush(srv, password)
    got = ours(["-p", str(srv.port), *args], tmp, stdin, env)
    assert got == expected
    return got


# -- one-shot commands -----------------------------------------------------------


ONE_SHOT = [
    ["set", "k", "v"],
    ["get", "nokey"],
    ["--no-raw", "get", "nokey"],
    ["--no-raw", "set", "k", "v"],
    ["ping"],
    ["--no-raw", "ping"],
    ["--no-raw", "echo", 'quote " backslash \\ newline \n tab \t bytes \x01\x7f'],
    ["echo", "raw\nbytes"],
    ["--no-raw", "echo", ""],
    ["nosuchcommand", "a"],
    ["--no-raw", "nosuchcommand", "a"],
    ["--csv", "nosuchcommand"],
    ["-e", "nosuchcommand"],
    ["-e", "--no-raw", "ping"],
    ["--no-raw", "get"],
    ["--csv", "echo", 'a"b'],
    ["-d", ",", "-D", ";", "echo", "x"],
    ["--no-raw", "select", "99"],
    ["-n", "3", "--no-raw", "ping"],
    ["-n", "99", "ping"],
    ["--no-raw", "-3", "ping"],
    ["-3", "--no-raw", "echo", "x"],
    ["--no-raw", "hello", "2", "setname", "x", "auth"],
    ["--quoted-input", "--no-raw", "echo", '"a\\x00b\\tc"'],
    ["--quoted-input", "echo", '"unterminated'],
    ["-r", "3", "--no-raw", "incr", "counter"],
    ["-r", "3", "-i", "0.01", "incr", "counter"],
    ["-r", "0", "ping"],
    ["-r", "2", "-e", "nosuchcommand"],
]


@needs_redis_cli
@pytest.mark.parametrize("args", ONE_SHOT, ids=[" ".join(a) for a in ONE_SHOT])
def test_one_shot_output_matches_redis_cli(server: ServerProcess, args: list[str], tmp_path: Path) -> None:
    same_as_redis_cli(server, args, tmp_path)


@needs_redis_cli
def test_hello_3_map_matches_redis_cli(server: ServerProcess, tmp_path: Path) -> None:
    # The connection id differs from run to run, so blank it in both.
    port = str(server.port)
    expected = theirs(["-p", port, "--no-raw", "hello", "3"], tmp_path)
    got = ours(["-p", port, "--no-raw", "hello", "3"], tmp_path)
    blank = re.compile(rb'"id" => \(integer\) \d+')
    assert blank.sub(b"id", got.out) == blank.sub(b"id", expected.out)
    assert got.out.startswith(b'1# "server" => "redis"\n')


def test_one_shot_basics_without_redis_cli(server: ServerProcess, tmp_path: Path) -> None:
    port = str(server.port)
    assert ours(["-p", port, "set", "a", "b"], tmp_path) == Result(0, b"OK\n", b"")
    assert ours(["-p", port, "get", "a"], tmp_path) == Result(0, b"b\n", b"")
    assert ours(["-p", port, "--no-raw", "get", "a"], tmp_path) == Result(0, b'"b"\n', b"")
    assert ours(["-p", port, "--no-raw", "get", "nokey"], tmp_path) == Result(0, b"(nil)\n", b"")
    assert ours(["-p", port, "--no-raw", "incr", "n"], tmp_path) == Result(0, b"(integer) 1\n", b"")
    assert ours(["-p", port, "--raw", "incr", "n"], tmp_path) == Result(0, b"2\n", b"")
    assert ours(["-p", port, "--no-raw", "echo"], tmp_path) == Result(
        0, b"(error) ERR wrong number of arguments for 'echo' command\n", b""
    )
    assert ours(["-p", port, "-r", "3", "-i", "0.001", "incr", "r"], tmp_path) == Result(0, b"1\n2\n3\n", b"")


def test_databases_with_n_and_uri(server: ServerProcess, tmp_path: Path) -> None:
    port = str(server.port)
    assert ours(["-p", port, "-n", "2", "set", "k", "in-two"], tmp_path).out == b"OK\n"
    assert ours(["-p", port, "get", "k"], tmp_path).out == b"\n"
    assert ours(["-p", port, "-n", "2", "get", "k"], tmp_path).out == b"in-two\n"
    assert ours(["-u", f"redis://127.0.0.1:{port}/2", "get", "k"], tmp_path).out == b"in-two\n"
    bad = ours(["-p", port, "-n", "99", "get", "k"], tmp_path)
    assert bad.err == b"SELECT 99 failed: ERR DB index is out of range\n"
    assert bad.out == b"\n"  # like redis-cli, the command still runs, in database 0


def test_stdin_argument_with_x(server: ServerProcess, tmp_path: Path) -> None:
    port = str(server.port)
    assert ours(["-p", port, "-x", "set", "blob"], tmp_path, stdin=b"line 1\nline 2\x00\n").out == b"OK\n"
    assert ours(["-p", port, "--no-raw", "get", "blob"], tmp_path).out == b'"line 1\\nline 2\\x00\\n"\n'
    assert ours(["-p", port, "-X", "TAG", "set", "TAG", "v"], tmp_path, stdin=b"tagged").out == b"OK\n"
    assert ours(["-p", port, "get", "tagged"], tmp_path).out == b"v\n"


# -- authentication --------------------------------------------------------------


def _auth_cases(port: int) -> list[tuple[list[str], dict[str, str]]]:
    uri = f"127.0.0.1:{port}"
    return [
        (["-a", PASSWORD, "ping"], {}),
        (["--pass", PASSWORD, "--no-raw", "ping"], {}),
        (["-a", PASSWORD, "--no-auth-warning", "ping"], {}),
        (["--user", "default", "-a", PASSWORD, "ping"], {}),
        (["-a", "wrong", "ping"], {}),
        (["--user", "bob", "-a", PASSWORD, "ping"], {}),
        (["ping"], {}),
        (["--no-raw", "ping"], {}),
        (["ping"], {"REDISCLI_AUTH": PASSWORD}),
        (["-a", PASSWORD, "-n", "1", "--no-raw", "set", "k", "v"], {}),
        (["-a", "wrong", "-n", "1", "ping"], {}),
        (["-u", f"redis://{PASSWORD}@{uri}", "ping"], {}),
        (["-u", f"redis://default:{PASSWORD}@{uri}/2", "ping"], {}),
        (["-u", f"redis://:{PASSWORD}@{uri}", "ping"], {}),
        (["-u", f"redis://{uri}", "ping"], {}),
        (["-u", f"http://{uri}", "ping"], {}),
        (["--no-raw", "auth", PASSWORD], {}),
        (["--no-raw", "auth", "wrong"], {}),
    ]


@needs_redis_cli
@pytest.mark.parametrize("case", range(18))
def test_authentication_matches_redis_cli(locked_server: ServerProcess, case: int, tmp_path: Path) -> None:
    args, env = _auth_cases(locked_server.port)[case]
    # -u carries its own port; -p first lets -u override it, as in redis-cli.
    same_as_redis_cli(locked_server, args, tmp_path, env=env, password=PASSWORD)


def test_authentication(locked_server: ServerProcess, tmp_path: Path) -> None:
    port = str(locked_server.port)
    good = ours(["-p", port, "-a", PASSWORD, "ping"], tmp_path)
    assert good == Result(
        0,
        b"PONG\n",
        b"Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.\n",
    )
    assert ours(["-u", f"redis://{PASSWORD}@127.0.0.1:{port}", "--no-auth-warning", "ping"], tmp_path) == Result(
        0, b"PONG\n", b""
    )
    bad = ours(["-p", port, "--no-auth-warning", "-a", "nope", "ping"], tmp_path)
    assert bad.err == b"AUTH failed: WRONGPASS invalid username-password pair or user is disabled.\n"
    assert bad.out == b"NOAUTH Authentication required.\n\n"


# -- unreachable servers ---------------------------------------------------------


def test_unreachable_server(tmp_path: Path) -> None:
    port = free_port()
    message = f"Could not connect to Redis at 127.0.0.1:{port}: Connection refused\n".encode()
    assert ours(["-p", str(port), "ping"], tmp_path) == Result(1, b"", message)
    # Reading from a pipe, redis-cli reports it once at start and once per command, and exits 0.
    assert ours(["-p", str(port)], tmp_path, stdin=b"ping\nping\n") == Result(0, b"", message * 3)
    socket_path = tmp_path / "nothing.sock"
    assert ours(["-s", str(socket_path), "ping"], tmp_path) == Result(
        1, b"", f"Could not connect to Redis at {socket_path}: No such file or directory\n".encode()
    )


@needs_redis_cli
def test_unreachable_server_matches_redis_cli(tmp_path: Path) -> None:
    port = str(free_port())
    for args, stdin in ((["-p", port, "ping"], b""), (["-p", port], b"ping\nget x\n"), (["-p", "abc", "ping"], b"")):
        assert ours(args, tmp_path, stdin) == theirs(args, tmp_path, stdin)


@needs_redis_cli
@pytest.mark.parametrize("args", [["--bogus"], ["-p"], ["-u", "ftp://x"], ["-v"]])
def test_bad_command_lines_match_redis_cli(args: list[str], tmp_path: Path) -> None:
    got, expected = ours(args, tmp_path), theirs(args, tmp_path)
    assert got.status == expected.status
    if args != ["-v"]:
        assert got.err == expected.err
    else:
        assert got.out.startswith(b"cacheflow-cli ")


# -- commands from standard input ------------------------------------------------

STDIN_SCRIPTS = [
    b"set a b\nget a\n",
    b'set a "b c"\nget a\n3 ping\n"unbalanced\n\n   \nquit\nping\n',
    b"select 2\nset k v\nmulti\nget k\nexec\nget k\nselect 0\nget k\n",
    b"multi\nincr\nexec\n",
    b"multi\nset a 1\ndiscard\nexec\n",
    b'0 ping\n-1 ping\n2 echo\n99999999999999999999 ping\n"" ping\n',
    b"get a\r\nset x\ty\nget x\n",
    b"get nokey\nreset\nget nokey\n",
    b"echo \"\\x41\\n\\u\" 'it''s'\n",
    b"ping",
    b"exit\nping\n",
    b":set hints\n:set nohints\nping\n",
    b"2 incr n\nget n\n",
]


@needs_redis_cli
@pytest.mark.parametrize("mode", ["--raw", "--no-raw"])
@pytest.mark.parametrize("script", STDIN_SCRIPTS, ids=[s.decode()[:30] for s in STDIN_SCRIPTS])
def test_stdin_lines_match_redis_cli(server: ServerProcess, mode: str, script: bytes, tmp_path: Path) -> None:
    got = same_as_redis_cli(server, [mode], tmp_path, stdin=script)
    assert got.status == 0


def test_stdin_lines(server: ServerProcess, tmp_path: Path) -> None:
    script = b'set a "b c"\nget a\n3 ping\nselect 1\nget a\n"bad\nquit\nping\n'
    assert ours(["-p", str(server.port)], tmp_path, stdin=script) == Result(
        0, b"OK\nb c\nPONG\nPONG\nPONG\nOK\n\nInvalid argument(s)\n", b""
    )


def test_stdin_reconnects_after_the_server_drops_the_connection(server: ServerProcess, tmp_path: Path) -> None:
    # The server closes the connection; the next line reports it and the one after reconnects.
    # Whether the report reads "closed" or "reset" depends on how fast the server's RST
    # arrives, for redis-cli as for us.
    script = b"client kill skipme no\nping\nping\n"
    runners = [ours] if REDIS_CLI is None else [ours, theirs]
    for runner in runners:
        got = runner(["-p", str(server.port)], tmp_path, script)
        assert (got.status, got.out) == (0, b"1\nPONG\n")
        assert re.fullmatch(rb"Error: (Server closed the connection|Connection reset by peer)\n", got.err)


@needs_redis_cli
def test_pushes_print_where_redis_cli_prints_them(real_redis: ServerProcess, tmp_path: Path) -> None:
    # An invalidation the server sends after a reply is shown before the next reply, not before its own.
    flush(real_redis)
    script = b"client tracking on\nget tk\nset tk 1\nget tk\nflushall\nping\n"
    for args, env in ((["-3"], {"FAKETTY": "1"}), (["-3", "--show-pushes", "y"], {})):
        flush(real_redis)
        expected = theirs(["-p", str(real_redis.port), *args], tmp_path, script, env)
        flush(real_redis)
        got = ours(["-p", str(real_redis.port), *args], tmp_path, script, env)
        assert got == expected
    assert (
        b"OK\n-> invalidate: 'tk'\n\"1\"\n"
        in theirs(["-p", str(real_redis.port), "-3"], tmp_path, script, {"FAKETTY": "1"}).out
    )


# -- every reply type, from a server that answers canned bytes --------------------


class CannedServer:
    """Answers ``H <hex>`` with those bytes, and anything else with +OK."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _serve(conn: socket.socket) -> None:
        reader = hiredis.Reader()
        with conn:
            while data := conn.recv(65536):
                reader.feed(data)
                while (request := reader.gets()) is not False:
                    if request[0].upper() == b"H":
                        conn.sendall(bytes.fromhex(request[1].decode()))
                    else:
                        conn.sendall(b"+OK\r\n")


@pytest.fixture(scope="module")
def canned() -> Iterator[CannedServer]:
    srv = CannedServer()
    yield srv
    srv.sock.close()


CANNED = [
    b"+OK\r\n",
    b'-ERR bad "thing"\r\n',
    b":-42\r\n",
    b'$11\r\n\x01\xff\\"\n\r\t\x07\x08\x0b\x7f\r\n',
    b"$-1\r\n",
    b"*-1\r\n",
    b"*0\r\n",
    b"*3\r\n*2\r\n:1\r\n*2\r\n+a\r\n$1\r\nb\r\n*0\r\n$-1\r\n",
    b"*11\r\n" + b"".join(b":%d\r\n" % i for i in range(10)) + b"*2\r\n:1\r\n*1\r\n-ERR x\r\n",
    b"%2\r\n*1\r\n:1\r\n%1\r\n+k\r\n+v\r\n$1\r\nx\r\n~1\r\n,1.5\r\n",
    b"%2\r\n$1\r\na\r\n*2\r\n:1\r\n:2\r\n$1\r\nb\r\n*1\r\n*2\r\n:1\r\n:2\r\n",
    b"%10\r\n" + b":1\r\n:2\r\n" * 9 + b":1\r\n*2\r\n:1\r\n:2\r\n",
    b"*3\r\n%0\r\n~0\r\n*0\r\n",
    b"~2\r\n~1\r\n:1\r\n%1\r\n:1\r\n:2\r\n",
    b",0.10000000000000001\r\n",
    b"*3\r\n,-inf\r\n#t\r\n#f\r\n",
    b"_\r\n",
    b"=22\r\ntxt:This is\na verbatim\r\n",
    b"*2\r\n=7\r\nmkd:a\nb\r\n$3\r\n\xc3\xa4x\r\n",
]


@needs_redis_cli
@pytest.mark.parametrize("mode", ["--no-raw", "--raw", "--csv"])
@pytest.mark.parametrize("wire", CANNED, ids=[repr(w)[2:22] for w in CANNED])
def test_every_reply_type_prints_like_redis_cli(canned: CannedServer, mode: str, wire: bytes, tmp_path: Path) -> None:
    args = ["-p", str(canned.port), mode, "h", wire.hex()]
    assert ours(args, tmp_path) == theirs(args, tmp_path)


# -- the client library ----------------------------------------------------------


@pytest.mark.parametrize("typed", [False, True], ids=["hiredis", "typed"])
def test_client_round_trips_and_pipelines(cacheflow: ServerProcess, typed: bool) -> None:
    async def scenario() -> None:
        conn = await Connection.open(Address(port=cacheflow.port), typed=typed)
        try:
            assert await conn.execute("SET", "client-key", b"\x00bin") == b"OK"
            for i in range(3):
                conn.send("ECHO", str(i))
            assert [await conn.read_reply() for _ in range(3)] == [b"0", b"1", b"2"]
            error = await conn.execute("NOSUCH")
            assert isinstance(error, ErrorReply) and error.prefix == "ERR"
            with pytest.raises(ServerError, match="unknown command"):
                await conn.call("NOSUCH")
            assert await conn.handshake(db=1, protocol=3) is None
            hello = await conn.execute("HELLO", 3)
            assert isinstance(hello, RespMap if typed else dict)
            assert await conn.execute("GET", "client-key") is None  # database 1
            refused = await conn.handshake(db=999)
            assert refused is not None and refused[0] == "SELECT 999"
        finally:
            conn.close()
            await conn.wait_closed()
        assert conn.closed
        with pytest.raises(ConnectionClosed):
            await conn.execute("PING")

    asyncio.run(scenario())


def test_client_status_replies_stay_distinct(cacheflow: ServerProcess) -> None:
    async def scenario() -> None:
        conn = await Connection.open(Address(port=cacheflow.port), typed=True)
        try:
            assert type(await conn.execute("PING")) is SimpleString
            assert type(await conn.execute("ECHO", "PONG")) is bytes
        finally:
            conn.close()

    asyncio.run(scenario())


def test_client_connection_errors(tmp_path: Path) -> None:
    async def scenario() -> None:
        port = free_port()
        with pytest.raises(ConnectFailed, match=f"127.0.0.1:{port}: Connection refused"):
            await Connection.open(Address(port=port))
        with pytest.raises(ConnectionError, match="No such file or directory"):
            await Connection.open(Address(unix_path=str(tmp_path / "none.sock")))

    asyncio.run(scenario())


def test_client_reports_a_server_that_goes_away(cacheflow: ServerProcess) -> None:
    async def scenario() -> None:
        conn = await Connection.open(Address(port=cacheflow.port), typed=True)
        conn.send("CLIENT", "KILL", "SKIPME", "no")
        assert await conn.read_reply() == 1
        with pytest.raises(ConnectionClosed, match="Server closed the connection"):
            await conn.read_reply()

    asyncio.run(scenario())


# -- the interactive prompt, under a pseudo-terminal -----------------------------

_ESCAPES = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[=>()][0-9A-Za-z]?")


class Terminal:
    """cacheflow-cli on a pseudo-terminal: keys in, screen text (escape sequences removed) out."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
        self.proc = subprocess.Popen(
            [*CLI, *args], stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.fd = master
        self.raw = b""
        self.seen = 0  # expect() searches the text after the previous match

    @property
    def text(self) -> str:
        return _ESCAPES.sub(b"", self.raw).replace(b"\r", b"").decode("utf-8", "replace")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            return False
        self.raw += data
        return bool(data)

    def expect(self, pattern: str, timeout: float = 15.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            found = regex.search(self.text, self.seen)
            if found:
                self.seen = found.end()
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._read(min(remaining, 0.2)):
                found = regex.search(self.text, self.seen)
                if found:
                    self.seen = found.end()
                    return found
                raise AssertionError(
                    f"{pattern!r} not seen; screen text after the last match:\n{self.text[self.seen :]}"
                )

    def send(self, keys: str | bytes) -> None:
        os.write(self.fd, keys.encode() if isinstance(keys, str) else keys)

    def run(self, line: str, reply: str) -> None:
        """Type a line, see ``reply``, then wait for the next prompt before typing on.

        Waiting for the prompt matters: keys sent before prompt_toolkit has put
        the terminal back in raw mode would be read by the line discipline.
        """
        self.send(line + "\r")
        self.expect(reply)
        if not reply.endswith(">"):
            self.expect(PROMPT)

    def wait_exit(self, timeout: float = 15.0) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.1)
        return self.proc.wait(timeout=max(deadline - time.monotonic(), 0.1))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.fd)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    opened: list[Terminal] = []

    def open_terminal(*args: str, histfile: Path | None = None) -> Terminal:
        env = _env(tmp_path, {"TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"})
        env["CACHEFLOWCLI_HISTFILE"] = str(histfile or tmp_path / "history")
        term = Terminal(list(args), env)
        opened.append(term)
        return term

    yield open_terminal
    for term in opened:
        term.close()


PROMPT = r"(?:127\.0\.0\.1:\d+(?:\[\d+\])?(?:\(TX\))?|not connected)> ?"


def test_prompt_round_trip_database_and_transaction(server: ServerProcess, terminal: Callable[..., Terminal]) -> None:
    port = server.port
    term = terminal("-p", str(port))
    term.expect(rf"127\.0\.0\.1:{port}>")
    term.run("set greeting hello", r"\nOK\n")
    term.run("get greeting", r'\n"hello"\n')
    term.run("select 3", rf"\nOK\n127\.0\.0\.1:{port}\[3\]>")
    term.run("multi", rf"\nOK\n127\.0\.0\.1:{port}\[3\]\(TX\)>")
    term.run("exec", rf"\(empty array\)\n127\.0\.0\.1:{port}\[3\]>")
    term.run("keys nomatch*", r"\(empty array\)")
    term.run("nosuch", r"\(error\) ERR unknown command 'nosuch'")
    term.send("quit\r")
    assert term.wait_exit() == 0


def test_history_persists_and_skips_passwords(
    server: ServerProcess, terminal: Callable[..., Terminal], tmp_path: Path
) -> None:
    histfile = tmp_path / "custom_history"
    port = str(server.port)
    first = terminal("-p", port, histfile=histfile)
    first.expect(PROMPT)
    first.run("incr visits", r"\(integer\) 1")
    first.run("auth not-saved", r"\(error\)")
    first.send(b"\x04")  # Ctrl-D on an empty line leaves, like redis-cli
    assert first.wait_exit() == 0
    assert histfile.read_text() == "incr visits\n"
    assert histfile.stat().st_mode & 0o777 == 0o600

    second = terminal("-p", port, histfile=histfile)
    second.expect(PROMPT)
    second.send(b"\x1b[A\r")  # arrow up recalls the previous session's command
    second.expect(r"\(integer\) 2")
    second.expect(PROMPT)
    second.send("quit\r")
    assert second.wait_exit() == 0
    assert histfile.read_text() == "incr visits\nquit\n"


def test_completion_and_hints_come_from_command_docs(server: ServerProcess, terminal: Callable[..., Terminal]) -> None:
    probe = server.client()
    has_docs = not isinstance(_try(lambda: probe.execute_command("COMMAND DOCS", "GET")), Exception)
    probe.close()
    if not has_docs:
        pytest.skip("this server has no COMMAND DOCS yet")
    term = terminal("-p", str(server.port))
    term.expect(PROMPT)
    term.send("set k")
    term.expect(r"set k value \[NX\|XX\] \[GET\]")  # the hint, as redis-cli 7.0 shows it
    term.send(b"\x15")  # Ctrl-U clears the line
    term.send("client ki\t")
    term.expect(r"CLIENT\s*KILL")
    term.run("", r"\(error\) ERR")  # CLIENT KILL without a filter
    term.run("help get", r"GET key\n  summary: Get the value of a key\n  since: 1\.0\.0\n  group: string\n")
    term.send("quit\r")
    assert term.wait_exit() == 0


def _try(call: Callable[[], object]) -> object:
    try:
        return call()
    except Exception as exc:
        return exc


def test_reconnects_after_a_restart_with_the_not_connected_prompt(
    terminal: Callable[..., Terminal], tmp_path: Path
) -> None:
    port = free_port()
    with cacheflow_server(port=port):
        term = terminal("-p", str(port), "-n", "2")
        term.expect(rf"127\.0\.0\.1:{port}\[2\]>")
        term.run("set k v", r"\nOK\n")
    term.run("ping", r"Error: Server closed the connection\nnot connected>")
    term.run("ping", rf"Could not connect to Redis at 127\.0\.0\.1:{port}: Connection refused\nnot connected>")
    with cacheflow_server(port=port) as restarted:
        term.run("ping", rf"PONG\n127\.0\.0\.1:{port}\[2\]>")
        term.run("set k again", r"\nOK\n")
        # Unlike redis-cli 7.0, which reconnects into database 0 while still showing [2].
        assert restarted.client(db=2).get("k") == b"again"
        term.run(f"connect 127.0.0.1 {free_port()}", r"Connection refused\nnot connected>")
        term.send("quit\r")
        assert term.wait_exit() == 0


def test_starts_not_connected_and_connects_later(terminal: Callable[..., Terminal]) -> None:
    port = free_port()
    term = terminal("-p", str(port))
    term.expect(rf"Could not connect to Redis at 127\.0\.0\.1:{port}: Connection refused\nnot connected>")
    with cacheflow_server(port=port):
        term.run("echo back", rf'"back"\n127\.0\.0\.1:{port}>')
        term.send("exit\r")
        assert term.wait_exit() == 0
