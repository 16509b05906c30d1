"""Resident memory of many small collections: CacheFlow against a real redis-server.

Issue 3 asks that 100,000 small collections (10 fields or members each) cost
CacheFlow at most 2.5x the RSS Redis needs for the same data.  For each type a
loader function fills a freshly started server through pipelined redis-py and
the RSS growth is read from /proc/<pid>/status, the same way for both servers
(bench/harness/procfs.py).  Each type has one ``load_<type>`` function and an
entry in ``LOADERS``; other types add theirs beside ``load_hashes``.

    .venv/bin/python bench/memory_types.py               # every type
    .venv/bin/python bench/memory_types.py hashes --count 100000
"""

import argparse
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import servers
from harness.procfs import rss_bytes

TARGET_RATIO = 2.5
PIPELINE_BATCH = 1_000

Loader = Callable[[redis.Redis, int], None]


def pipelined(client: redis.Redis, count: int, queue: Callable[[Any, int], object]) -> None:
    """Queue ``queue(pipe, i)`` for i in range(count), sending every PIPELINE_BATCH commands."""
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        queue(pipe, i)
        if (i + 1) % PIPELINE_BATCH == 0:
            pipe.execute()
    pipe.execute()


def load_hashes(client: redis.Redis, count: int) -> None:
    """``count`` hashes of 10 fields: short field names, 10-byte values (all listpack-encoded)."""

    def queue(pipe: Any, i: int) -> None:
        mapping = {f"field{j}": f"v{i:09d}" for j in range(10)}
        pipe.hset(f"hash:{i:08d}", mapping=mapping)

    pipelined(client, count, queue)
    assert client.hlen(f"hash:{count - 1:08d}") == 10
    assert client.hget("hash:00000000", "field3") == b"v000000000"


def load_sets(client: redis.Redis, count: int) -> None:
    """``count`` sets of 10 integer members, ids up to 10 * count (intset-encoded, 32-bit wide)."""
    pipelined(client, count, lambda pipe, i: pipe.sadd(f"set:{i:08d}", *range(i * 10, i * 10 + 10)))
    assert client.scard(f"set:{count - 1:08d}") == 10
    assert client.object("encoding", "set:00000000") == b"intset"


def load_sets_hashtable(client: redis.Redis, count: int) -> None:
    """``count`` sets of 10 short string members (hashtable-encoded: Redis 7.0 has no listpack sets)."""
    pipelined(client, count, lambda pipe, i: pipe.sadd(f"set:{i:08d}", *[f"member:{j}" for j in range(10)]))
    assert client.scard(f"set:{count - 1:08d}") == 10
    assert client.object("encoding", "set:00000000") == b"hashtable"


def load_zsets(client: redis.Redis, count: int) -> None:
    """``count`` sorted sets of 10 short members with mixed integral and fractional scores (listpack)."""
    pipelined(
        client,
        count,
        lambda pipe, i: pipe.zadd(f"zset:{i:08d}", {f"member:{j}": (i % 1000) + j * 1.5 for j in range(10)}),
    )
    assert client.zcard(f"zset:{count - 1:08d}") == 10
    assert client.object("encoding", "zset:00000000") == b"listpack"
    assert client.zscore("zset:00000001", "member:3") == 5.5


LOADERS: dict[str, Loader] = {
    "hashes": load_hashes,
    "sets": load_sets,
    "sets_hashtable": load_sets_hashtable,
    "zsets": load_zsets,
}


def _settled_rss(pid: int, timeout: float = 3.0) -> int:
    """RSS once two readings 100 ms apart agree (or at the deadline)."""
    deadline = time.monotonic() + timeout
    last = rss_bytes(pid)
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = rss_bytes(pid)
        if now == last:
            return now
        last = now
    return last


def measure(server: servers.BenchServer, loader: Loader, count: int) -> tuple[int, int]:
    """(RSS before, RSS after) of one freshly started server filled by ``loader``."""
    with ExitStack() as stack:
        server.start()
        stack.callback(server.stop)
        client = redis.Redis(port=server.port)
        stack.callback(client.close)
        client.ping()
        before = _settled_rss(server.pid)
        loader(client, count)
        after = _settled_rss(server.pid)
        return before, after


def run(types: list[str], count: int) -> bool:
    ok = True
    for name in types:
        loader = LOADERS[name]
        ours = measure(servers.cacheflow(None), loader, count)
        theirs = measure(servers.redis(None), loader, count)
        mib = 1024 * 1024
        ratio_total = ours[1] / theirs[1]
        ratio_growth = (ours[1] - ours[0]) / max(1, theirs[1] - theirs[0])
        print(
            f"{name}: {count} collections\n"
            f"  CacheFlow RSS {ours[0] / mib:.1f} -> {ours[1] / mib:.1f} MiB "
            f"({(ours[1] - ours[0]) / count:.0f} B/collection)\n"
            f"  Redis     RSS {theirs[0] / mib:.1f} -> {theirs[1] / mib:.1f} MiB "
            f"({(theirs[1] - theirs[0]) / count:.0f} B/collection)\n"
            f"  ratio: total RSS {ratio_total:.2f}x, growth {ratio_growth:.2f}x (target <= {TARGET_RATIO}x)"
        )
        ok = ok and ratio_total <= TARGET_RATIO
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("types", nargs="*", help=f"types to measure: {', '.join(LOADERS)} (default: all)")
    parser.add_argument("--count", type=int, default=100_000, help="collections per type (default 100,000)")
    args = parser.parse_args()
    unknown = [t for t in args.types if t not in LOADERS]
    if unknown:
        parser.error(f"unknown type(s): {', '.join(unknown)}")
    return 0 if run(args.types or list(LOADERS), args.count) else 2


if __name__ == "__main__":
    sys.exit(main())
