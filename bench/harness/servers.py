"""Start and stop the two servers under test, each on a free loopback port, optionally pinned to one core.

The harness owns these processes: it waits for each with a deadline (never a
bare sleep), and it must stop every one it started even when the run fails or
is interrupted.  As a last line of defence each child asks the kernel for
SIGTERM should the harness itself die (PR_SET_PDEATHSIG), so a killed benchmark
never leaves a server spinning on the shared machine.
"""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A loopback port that was free a moment ago (the server binds it right after)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """Run in the child before exec: get SIGTERM if the harness dies without cleaning up."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def pin_prefix(cpu: int | None) -> list[str]:
    """``taskset -c N`` when pinning is wanted and possible, else nothing."""
    if cpu is None:
        return []
    taskset = shutil.which("taskset")
    if taskset is None:
        return []
    return [taskset, "-c", str(cpu)]


class BenchServer:
    """One server process under test: its name, port, pid, scratch directory and log."""

    def __init__(self, name: str, argv: list[str], port: int, workdir: str, cpu: int | None) -> None:
        self.name = name
        self.argv = argv
        self.port = port
        self.workdir = workdir
        self.cpu = cpu
        self.log_path = os.path.join(workdir, "server.log")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The server's own pid: taskset execs the server, so it is the pid we spawned."""
        if self.proc is None:
            raise RuntimeError(f"{self.name} is not running")
        return self.proc.pid

    def start(self, timeout: float = 20.0) -> "BenchServer":
        """Spawn the server in its own session (a terminal Ctrl-C reaches only the harness) and wait for PONG."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                pin_prefix(self.cpu) + self.argv,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + timeout
        while not self._ready():
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self.name} did not answer PING on port {self.port} within {timeout}s:\n{self.log()}"
                )
            time.sleep(0.02)
        return self

    def _ready(self) -> bool:
        """True once the server answers PING; raises if it already exited."""
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with status {self.proc.returncode}:\n{self.log()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"*1\r\n$4\r\nPING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def alive(self) -> bool:
        """Whether the process is still running (a crash mid-benchmark must not be reported as a number)."""
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        """The tail of the server's own log, for error messages."""
        try:
            return Path(self.log_path).read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``; always removes the scratch directory."""
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout)
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)


def cacheflow_python() -> str:
    """The project's venv interpreter when present (what ``make run`` uses), else the one running the harness."""
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def cacheflow(cpu: int | None) -> BenchServer:
    """A CacheFlow server, started the way ``make run`` starts it, on a free port."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="cacheflow-bench-")
    # No save points, as the Redis below: neither server may start a BGSAVE in the middle of a run.
    argv = [cacheflow_python(), "-m", "cacheflow.server.main", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    return BenchServer("CacheFlow", argv, port, workdir, cpu)


def redis(cpu: int | None) -> BenchServer:
    """A real redis-server with persistence off, so neither side pays for disk I/O."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed; `make redis-deps` installs it")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="redis-bench-")
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir]
    return BenchServer("Redis", argv, port, workdir, cpu)
