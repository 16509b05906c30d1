"""Start real server processes for tests: CacheFlow and, for differential tests, redis-server.

Every server runs as its own process on a free loopback port, and is waited for
with a deadline (never a bare sleep).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.01, message: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {message}")
        time.sleep(interval)


class ServerProcess:
    def __init__(self, argv: list[str], port: int, workdir: str, log_path: str) -> None:
        self.argv = argv
        self.port = port
        self.workdir = workdir
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15.0) -> "ServerProcess":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        log.close()

        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    return s.recv(64).startswith((b"+PONG", b"-NOAUTH", b"-LOADING"))
            except OSError:
                return False

        wait_until(ready, timeout, message=f"server on port {self.port}")
        return self

    def client(self, **kwargs) -> redis.Redis:  # type: ignore[no-untyped-def]
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10, **kwargs)

    def log(self) -> str:
        try:
            return Path(self.log_path).read_text(errors="replace")
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        return self.proc.returncode


def cacheflow_argv(port: int, *extra: str, config_file: str | None = None) -> list[str]:
    argv = [sys.executable, "-m", "cacheflow.server.main"]
    if config_file:
        argv.append(config_file)
    argv += ["--port", str(port), "--bind", "127.0.0.1", *extra]
    return argv


@contextmanager
def cacheflow_server(*extra: str, config_file: str | None = None, port: int | None = None) -> Iterator[ServerProcess]:
    workdir = tempfile.mkdtemp(prefix="cacheflow-test-")
    port = port or free_port()
    server = ServerProcess(
        cacheflow_argv(port, *extra, config_file=config_file), port, workdir, os.path.join(workdir, "server.log")
    )
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


@contextmanager
def real_redis_server(*extra: str) -> Iterator[ServerProcess]:
    binary = redis_server_binary()
    if binary is None:
        raise RuntimeError("redis-server is not installed; `make test` installs it")
    workdir = tempfile.mkdtemp(prefix="redis-test-")
    port = free_port()
    argv = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        workdir,
        *extra,
    ]
    server = ServerProcess(argv, port, workdir, os.path.join(workdir, "redis.log"))
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
