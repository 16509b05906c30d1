"""Does CacheFlow's ``used_memory`` estimate match the memory the process really gains?

Issue 5: INFO memory ``used_memory`` is a running estimate kept by the store
(cacheflow/store/keyspace.py: ``key_cost`` + ``value_cost`` per key, summed in
``Database.used``; collections are measured by their ``memory_usage(5)``), and
maxmemory eviction trusts it.  This bench checks it against the kernel's view:
for each type a fresh CacheFlow server is started, ``used_memory`` and the
process RSS (bench/harness/procfs.py, settled as bench/memory_types.py settles
it) are read before and after loading, and the two growths are compared.  The
estimate is MET when used/RSS growth lies within ``TOLERANCE`` of 1.

Small types load ``--count`` keys of 10 fields or members each (strings: one
100-byte value each); the ``big_*`` types load one key of ``--count`` elements.
The loaders shared with bench/memory_types.py are imported from there, so both
benches fill the server with exactly the same data.

    .venv/bin/python bench/memory_estimate.py                     # every type, 100,000 each
    .venv/bin/python bench/memory_estimate.py --types strings,big_hash --count 10000
"""

import argparse
import json
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import servers
from memory_types import (
    PIPELINE_BATCH,
    _settled_rss,
    load_hashes,
    load_sets,
    load_sets_hashtable,
    load_zsets,
    pipelined,
)

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TOLERANCE = 0.15
# Elements sent per command when filling one big collection (one pipeline round trip per PIPELINE_BATCH commands).
BIG_CHUNK = 1_000

Loader = Callable[[redis.Redis, int], None]


def load_strings(client: redis.Redis, count: int) -> None:
    """``count`` strings of 100 bytes each (raw encoding: longer than an embstr)."""
    pipelined(client, count, lambda pipe, i: pipe.set(f"string:{i:08d}", f"{i:09d}".encode() * 11 + b"x"))
    assert client.strlen(f"string:{count - 1:08d}") == 100
    assert client.object("encoding", "string:00000000") == b"raw"


def load_lists(client: redis.Redis, count: int) -> None:
    """``count`` lists of 10 elements of 10 bytes each (one small blob per list in CacheFlow)."""
    pipelined(client, count, lambda pipe, i: pipe.rpush(f"list:{i:08d}", *[f"v{i:07d}{j:02d}" for j in range(10)]))
    assert client.llen(f"list:{count - 1:08d}") == 10
    assert client.lindex("list:00000000", 3) == b"v000000003"


def _chunks(count: int) -> list[range]:
    return [range(start, min(start + BIG_CHUNK, count)) for start in range(0, count, BIG_CHUNK)]


def load_big_hash(client: redis.Redis, count: int) -> None:
    """One hash of ``count`` fields with 10-byte values (hashtable-encoded)."""
    pipe = client.pipeline(transaction=False)
    for n, chunk in enumerate(_chunks(count), 1):
        pipe.hset("bighash", mapping={f"field:{j:08d}": f"v{j:09d}" for j in chunk})
        if n % PIPELINE_BATCH == 0:
            pipe.execute()
    pipe.execute()
    assert client.hlen("bighash") == count
    assert client.hget("bighash", "field:00000003") == b"v000000003"


def load_big_list(client: redis.Redis, count: int) -> None:
    """One list of ``count`` 10-byte elements (a deque of pieces in CacheFlow)."""
    pipe = client.pipeline(transaction=False)
    for n, chunk in enumerate(_chunks(count), 1):
        pipe.rpush("biglist", *[f"v{j:09d}" for j in chunk])
        if n % PIPELINE_BATCH == 0:
            pipe.execute()
    pipe.execute()
    assert client.llen("biglist") == count
    assert client.lindex("biglist", 3) == b"v000000003"


def load_big_set(client: redis.Redis, count: int) -> None:
    """One set of ``count`` short string members (hashtable-encoded)."""
    pipe = client.pipeline(transaction=False)
    for n, chunk in enumerate(_chunks(count), 1):
        pipe.sadd("bigset", *[f"member:{j:08d}" for j in chunk])
        if n % PIPELINE_BATCH == 0:
            pipe.execute()
    pipe.execute()
    assert client.scard("bigset") == count
    assert client.object("encoding", "bigset") == b"hashtable"


def load_big_zset(client: redis.Redis, count: int) -> None:
    """One sorted set of ``count`` short members with mixed integral and fractional scores (skiplist)."""
    pipe = client.pipeline(transaction=False)
    for n, chunk in enumerate(_chunks(count), 1):
        pipe.zadd("bigzset", {f"member:{j:08d}": j * 1.5 for j in chunk})
        if n % PIPELINE_BATCH == 0:
            pipe.execute()
    pipe.execute()
    assert client.zcard("bigzset") == count
    assert client.object("encoding", "bigzset") == b"skiplist"
    assert client.zscore("bigzset", "member:00000003") == 4.5


# name -> (loader, whether --count is the number of keys (small types) or of elements in one key).
LOADERS: dict[str, tuple[Loader, bool]] = {
    "strings": (load_strings, True),
    "hashes": (load_hashes, True),
    "lists": (load_lists, True),
    "sets": (load_sets, True),
    "sets_hashtable": (load_sets_hashtable, True),
    "zsets": (load_zsets, True),
    "big_hash": (load_big_hash, False),
    "big_list": (load_big_list, False),
    "big_set": (load_big_set, False),
    "big_zset": (load_big_zset, False),
}


@dataclass(frozen=True)
class Result:
    """One type's measurement: both growths in bytes and their ratio."""

    type: str
    keys: int
    elements_per_key: int
    used_before: int
    used_after: int
    rss_before: int
    rss_after: int
    # MEMORY USAGE (SAMPLES 0, i.e. exact by the model) of one loaded key, for a per-key cross-check.
    sample_key: str
    sample_key_usage: int

    @property
    def used_growth(self) -> int:
        return self.used_after - self.used_before

    @property
    def rss_growth(self) -> int:
        return self.rss_after - self.rss_before

    @property
    def ratio(self) -> float:
        return self.used_growth / self.rss_growth if self.rss_growth > 0 else float("inf")

    @property
    def met(self) -> bool:
        return 1 - TOLERANCE <= self.ratio <= 1 + TOLERANCE

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(used_growth=self.used_growth, rss_growth=self.rss_growth, ratio=self.ratio, met=self.met)
        return out


def _used_memory(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def measure(name: str, count: int) -> Result:
    """Fill one freshly started CacheFlow server with ``name``'s data and read both growths."""
    loader, per_key = LOADERS[name]
    server = servers.cacheflow(None)
    with ExitStack() as stack:
        server.start()
        stack.callback(server.stop)
        client = redis.Redis(port=server.port)
        stack.callback(client.close)
        client.ping()
        used_before = _used_memory(client)
        rss_before = _settled_rss(server.pid)
        loader(client, count)
        used_after = _used_memory(client)
        rss_after = _settled_rss(server.pid)
        # Read after RSS is taken, so the extra command cannot move it.
        sample = client.randomkey()
        assert isinstance(sample, bytes)
        usage = client.memory_usage(sample, samples=0)
        if not server.alive():
            raise RuntimeError(f"CacheFlow died while loading {name}:\n{server.log()}")
    return Result(
        type=name,
        keys=count if per_key else 1,
        elements_per_key=(1 if name == "strings" else 10) if per_key else count,
        used_before=used_before,
        used_after=used_after,
        rss_before=rss_before,
        rss_after=rss_after,
        sample_key=sample.decode(),
        sample_key_usage=int(usage or 0),
    )


def print_table(results: list[Result]) -> None:
    mib = 1024 * 1024
    header = f"{'type':<15} {'keys':>7} {'used growth':>13} {'RSS growth':>13} {'B/key used':>11} {'B/key RSS':>10}"
    print(header + f" {'used/RSS':>8}  verdict")
    for r in results:
        print(
            f"{r.type:<15} {r.keys:>7} {r.used_growth / mib:>9.1f} MiB {r.rss_growth / mib:>9.1f} MiB "
            f"{r.used_growth / r.keys:>11.0f} {r.rss_growth / r.keys:>10.0f} {r.ratio:>8.2f}  "
            f"{'MET' if r.met else 'NOT MET'}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--types",
        default=",".join(LOADERS),
        help=f"comma-separated types to measure: {', '.join(LOADERS)} (default: all)",
    )
    parser.add_argument(
        "--count",
        type=int,
        default=100_000,
        help="keys per small type, elements of the one key of a big_* type (default 100,000)",
    )
    args = parser.parse_args()
    types = [t.strip() for t in args.types.split(",") if t.strip()]
    unknown = [t for t in types if t not in LOADERS]
    if unknown:
        parser.error(f"unknown type(s): {', '.join(unknown)}")
    if args.count < 1:
        parser.error("--count must be at least 1")

    results = []
    for name in types:
        result = measure(name, args.count)
        results.append(result)
        print(f"{name}: used {result.used_growth} B, RSS {result.rss_growth} B, ratio {result.ratio:.2f}", flush=True)
    print()
    print_table(results)

    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"memory-estimate-{stamp}.json"
    report = {
        "bench": "memory_estimate",
        "timestamp": stamp,
        "count": args.count,
        "tolerance": TOLERANCE,
        "results": [r.as_json() for r in results],
    }
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten {path}")
    return 0 if all(r.met for r in results) else 2


if __name__ == "__main__":
    sys.exit(main())
