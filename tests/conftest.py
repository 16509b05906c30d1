"""Shared fixtures: one CacheFlow process and one real redis-server per test session.

Tests that need a pristine server or special configuration start their own
with ``servers.cacheflow_server(...)``.
"""

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pair import Pair, open_pair
from servers import ServerProcess, cacheflow_server, real_redis_server

from cacheflow.server.native import compiled_modules

# `make test` explores the same examples on every run, so a failure in CI is a failure
# here with the same command; `make fuzz` (HYPOTHESIS_PROFILE=fuzz) explores new seeds
# with ten times the examples, to find what the fixed ones miss.  No deadline in either:
# Hypothesis's per-example deadline is a timing assertion, and on a loaded 2-core VM a
# 50 ms example took 289 ms and failed a fresh-clone CI run (tests/raft/test_codec.py).
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("fuzz", derandomize=False, max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config: pytest.Config) -> None:
    stale = [name for name, is_stale in compiled_modules() if is_stale]
    if stale:
        pytest.exit(f"compiled modules older than their source: {', '.join(stale)}; run `make native`", returncode=2)


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


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair(request: pytest.FixtureRequest, cacheflow: ServerProcess, real_redis: ServerProcess) -> Iterator[Pair]:
    p = open_pair(cacheflow, real_redis, request.param)
    yield p
    p.ours.close()
    p.theirs.close()


@pytest.fixture
def pair2(cacheflow: ServerProcess, real_redis: ServerProcess) -> Iterator[Pair]:
    """RESP2 only: for checks whose replies do not depend on the protocol."""
    p = open_pair(cacheflow, real_redis, 2)
    yield p
    p.ours.close()
    p.theirs.close()


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A scratch directory for a server's files (AOF, RDB), removed afterwards."""
    os.makedirs("/tmp/cacheflow-tests", exist_ok=True)
    d = tempfile.mkdtemp(prefix="work-", dir="/tmp/cacheflow-tests")
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)
