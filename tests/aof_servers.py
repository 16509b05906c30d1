"""Real CacheFlow processes with the AOF on, in a scratch directory (the ``workdir`` fixture): shared by the AOF suites."""

from pathlib import Path

import redis
from servers import ServerProcess, cacheflow_argv, free_port, wait_until


def aof_server(workdir: Path, *extra: str, port: int | None = None) -> ServerProcess:
    """A server (not yet started) with ``appendonly yes`` in ``workdir``, logging to workdir/server.log."""
    port = port or free_port()
    argv = cacheflow_argv(port, "--dir", str(workdir), "--appendonly", "yes", *extra)
    return ServerProcess(argv, port, str(workdir), str(workdir / "server.log"))


def wait_loaded(c: redis.Redis) -> None:
    def loaded() -> bool:
        try:
            return c.info("persistence")["loading"] == 0
        except redis.exceptions.BusyLoadingError:
            return False

    wait_until(loaded, 30, message="loading to finish")
