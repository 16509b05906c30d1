"""Shared fixtures: one CacheFlow process and one real redis-server per test session.

Tests that need a pristine server or special configuration start their own
with ``servers.cacheflow_server(...)``.
"""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import ServerProcess, cacheflow_server, real_redis_server


@pytest.fixture(scope="session")
def cacheflow() -> Iterator[ServerProcess]:
    with cacheflow_server("--enable-debug-command", "yes") as server:
        yield server


@pytest.fixture(scope="session")
def real_redis() -> Iterator[ServerProcess]:
    with real_redis_server("--enable-debug-command", "yes") as server:
        yield server


@pytest.fixture
def r(cacheflow: ServerProcess) -> Iterator[redis.Redis]:
    """A redis-py client on a flushed CacheFlow."""
    client = cacheflow.client()
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def rr(real_redis: ServerProcess) -> Iterator[redis.Redis]:
    """A redis-py client on a flushed real redis-server."""
    client = real_redis.client()
    client.flushall()
    yield client
    client.close()
