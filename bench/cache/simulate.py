"""Hit ratios of eviction policies on the benchmark traces, in-process: a model of each policy, no server.

``make bench-cache`` measures real servers; this replays the same traces
(bench/cache/traces.py) against models of the policies, so that TinyLFU's knobs
can be tuned in seconds and its gain read without network noise:

- ``lru``: Redis's approximated LRU (evict.c): a 1-second LRU clock stamped on
  each access, ``maxmemory-samples`` random keys per eviction inserted into a
  16-entry pool sorted by idle time, the idlest live pool entry evicted.
- ``lfu``: Redis's LFU: a Morris counter per key (new keys start at 5,
  increments with probability 1/((c-5)*lfu-log-factor+1), decay of one per
  ``lfu-decay-time`` minutes since the last decrement), through the same pool
  with 255 - counter as the score.
- ``random``: a random key.
- ``tinylfu``: cacheflow.store.tinylfu.TinyLfu, fed as the keyspace feeds it
  (the GET is an access, hit or miss; the SET after a miss creates the key, an
  insert and not another access), with
  ``maxmemory-samples`` random keys per eviction.  ``--window``,
  ``--words-per-key``, ``--sample-factor``, ``--no-doorkeeper`` and
  ``--tinylfu-samples`` try other settings than the module's defaults.

The cache holds a fixed number of KEYS (``--capacity`` x ``--keys``, the key
set the benchmark loads to calibrate maxmemory), not bytes.  Every request is a
GET; a miss is followed by a SET of the key, which first evicts while the cache
is full (as Redis evicts before it runs a command).  The LRU clock's one-second
resolution matters: at 10 us a request one tick spans 100,000 requests.  Time is simulated: request i happens at i x ``--us-per-request``
microseconds, which is what the LRU and LFU clocks read.

Keys are sampled uniformly with replacement, where Redis's dictGetSomeKeys
returns a few neighbouring hash-table buckets: a small difference for the
idle-time or counter distribution of the sample.

Usage: .venv/bin/python bench/cache/simulate.py [--keys 200000] [--requests N] [--policies lru,lfu,tinylfu]
"""

import argparse
import random
import sys
import time
from array import array
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.cache.traces import DEFAULT_REQUESTS, TRACES, generate, key_name
from cacheflow.store.tinylfu import TinyLfu

POOL_SIZE = 16
LFU_INIT_VAL = 5
LRU_CLOCK_RESOLUTION_US = 1_000_000
MINUTE_US = 60_000_000


class LiveKeys:
    """The cached keys with O(1) insert, delete and uniform random choice (a list plus positions)."""

    __slots__ = ("keys", "pos")

    def __init__(self) -> None:
        self.keys: list[int] = []
        self.pos: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, key: int) -> bool:
        return key in self.pos

    def add(self, key: int) -> None:
        self.pos[key] = len(self.keys)
        self.keys.append(key)

    def remove(self, key: int) -> None:
        keys = self.keys
        i = self.pos.pop(key)
        last = keys.pop()
        if last != key:
            keys[i] = last
            self.pos[last] = i


def pool_insert(pool: list[tuple[int, int]], score: int, key: int) -> None:
    """evictionPoolPopulate's insertion of one sampled key: ``pool`` is ascending, the best victim last.

    A key scoring no better than every entry of a full pool is dropped; into a
    full pool the new entry goes in by pushing out the worst (first) entry.
    """
    k = 0
    n = len(pool)
    while k < n and pool[k][0] < score:
        k += 1
    if k == 0 and n >= POOL_SIZE:
        return
    if n < POOL_SIZE:
        pool.insert(k, (score, key))
    else:
        pool.insert(k, (score, key))
        del pool[0]


def pool_evict(
    pool: list[tuple[int, int]], live: LiveKeys, samples: int, score: Callable[[int], int], rng: random.Random
) -> int:
    """performEvictions for LRU/LFU: populate the pool from a sample, evict its best live entry."""
    keys = live.keys
    while True:
        n = len(keys)
        for _ in range(samples):
            key = keys[int(rng.random() * n)]
            pool_insert(pool, score(key), key)
        while pool:
            _, key = pool.pop()
            if key in live:
                return key


def simulate_lru(trace: Sequence[int], capacity: int, samples: int, us_per_request: int, seed: int) -> int:
    rng = random.Random(seed)
    live = LiveKeys()
    stamp: dict[int, int] = {}
    pool: list[tuple[int, int]] = []
    hits = 0
    clock = 0

    def idle(key: int) -> int:
        return clock - stamp[key]

    per_tick = max(1, LRU_CLOCK_RESOLUTION_US // us_per_request)
    for i, key in enumerate(trace):
        if key in stamp:
            hits += 1
            stamp[key] = clock
        else:
            while len(live) >= capacity:
                victim = pool_evict(pool, live, samples, idle, rng)
                live.remove(victim)
                del stamp[victim]
            live.add(key)
            stamp[key] = clock
        if (i + 1) % per_tick == 0:
            clock += 1
    return hits


def simulate_lfu(
    trace: Sequence[int],
    capacity: int,
    samples: int,
    us_per_request: int,
    seed: int,
    log_factor: int = 10,
    decay_time: int = 1,
) -> int:
    rng = random.Random(seed)
    live = LiveKeys()
    # key -> minutes << 8 | counter, as Redis packs it in the object's lru field.
    packed: dict[int, int] = {}
    pool: list[tuple[int, int]] = []
    hits = 0
    minutes = 0

    def decayed(p: int) -> int:
        ldt = p >> 8
        counter = p & 255
        if not decay_time:
            return counter
        elapsed = minutes - ldt if minutes >= ldt else 65535 - ldt + minutes
        periods = elapsed // decay_time
        return 0 if periods > counter else counter - periods

    def score(key: int) -> int:
        return 255 - decayed(packed[key])

    per_minute = max(1, MINUTE_US // us_per_request)
    rnd = rng.random
    for i, key in enumerate(trace):
        p = packed.get(key)
        if p is not None:
            hits += 1
            counter = decayed(p)
            if counter < 255:
                base = counter - LFU_INIT_VAL if counter > LFU_INIT_VAL else 0
                if rnd() < 1.0 / (base * log_factor + 1):
                    counter += 1
            packed[key] = (minutes << 8) | counter
        else:
            while len(live) >= capacity:
                victim = pool_evict(pool, live, samples, score, rng)
                live.remove(victim)
                del packed[victim]
            live.add(key)
            packed[key] = (minutes << 8) | LFU_INIT_VAL
        if (i + 1) % per_minute == 0:
            minutes = (minutes + 1) & 65535
    return hits


def simulate_random(trace: Sequence[int], capacity: int, samples: int, us_per_request: int, seed: int) -> int:
    rng = random.Random(seed)
    live = LiveKeys()
    keys = live.keys
    hits = 0
    for key in trace:
        if key in live:
            hits += 1
        else:
            if len(keys) >= capacity:
                live.remove(keys[int(rng.random() * len(keys))])
            live.add(key)
    return hits


class TinyLfuModel:
    """Feeds TinyLfu exactly as the keyspace does: every GET is an access, a SET of a new key an insert."""

    def __init__(
        self,
        window: float,
        words_per_key: float,
        doorkeeper: bool,
        samples: int,
        sample_factor: int,
    ) -> None:
        self.sample_factor = sample_factor
        self.window = window
        self.words_per_key = words_per_key
        self.doorkeeper = doorkeeper
        self.samples = samples

    def __call__(self, trace: Sequence[int], capacity: int, samples: int, us_per_request: int, seed: int) -> int:
        samples = self.samples or samples
        rng = random.Random(seed)
        tiny = TinyLfu(
            seed,
            self.window,
            words_per_key=self.words_per_key,
            doorkeeper=self.doorkeeper,
            sample_factor=self.sample_factor,
        )
        names = _names(max(trace) + 1 if len(trace) else 0)
        cached: dict[bytes, int] = {}  # name -> position in keys
        keys: list[bytes] = []
        record = tiny.record_access
        hits = 0
        for i in trace:
            name = names[i]
            if name in cached:
                record(name, True)
                hits += 1
                continue
            record(name, False)
            while len(keys) >= capacity:
                n = len(keys)
                sampled = [keys[int(rng.random() * n)] for _ in range(samples)]
                victim = tiny.choose_victim(sampled, n)
                assert victim is not None
                j = cached.pop(victim)
                last = keys.pop()
                if last is not victim:
                    keys[j] = last
                    cached[last] = j
                tiny.on_delete(victim)
            cached[name] = len(keys)
            keys.append(name)
            tiny.on_insert(name)
        return hits


_NAMES: list[bytes] = []


def _names(count: int) -> list[bytes]:
    """Key names by id, made once: a bytes object caches its hash, as a key held by the keyspace does."""
    if len(_NAMES) < count:
        _NAMES.extend(key_name(i) for i in range(len(_NAMES), count))
    return _NAMES


Simulator = Callable[[Sequence[int], int, int, int, int], int]


def policies(args: argparse.Namespace) -> dict[str, Simulator]:
    return {
        "random": simulate_random,
        "lru": simulate_lru,
        "lfu": lambda t, c, s, u, seed: simulate_lfu(t, c, s, u, seed, args.lfu_log_factor, args.lfu_decay_time),
        "tinylfu": TinyLfuModel(
            args.window, args.words_per_key, args.doorkeeper, args.tinylfu_samples, args.sample_factor
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=1_000_000, help="distinct key ids of the traces")
    parser.add_argument(
        "--requests", type=int, default=0, help=f"requests per trace (default {DEFAULT_REQUESTS:,} scaled to --keys)"
    )
    parser.add_argument("--traces", default=",".join(TRACES))
    parser.add_argument("--policies", default="random,lru,lfu,tinylfu")
    parser.add_argument("--capacity", type=float, default=0.1, help="cache size as a fraction of --keys")
    parser.add_argument("--samples", type=int, default=5, help="maxmemory-samples")
    parser.add_argument("--us-per-request", type=int, default=10, help="simulated time between requests")
    parser.add_argument("--lfu-log-factor", type=int, default=10)
    parser.add_argument("--lfu-decay-time", type=int, default=1)
    parser.add_argument("--window", type=float, default=0.01, help="TinyLFU window fraction")
    parser.add_argument("--words-per-key", type=float, default=1.0, help="TinyLFU sketch words (16 counters) per key")
    parser.add_argument("--no-doorkeeper", dest="doorkeeper", action="store_false", help="TinyLFU without doorkeeper")
    parser.add_argument("--sample-factor", type=int, default=10, help="TinyLFU: increments between halvings / keys")
    parser.add_argument("--tinylfu-samples", type=int, default=0, help="samples for TinyLFU (default --samples)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    requests = args.requests or max(1, DEFAULT_REQUESTS * args.keys // 1_000_000)
    chosen = policies(args)
    names = args.policies.split(",")
    unknown = [n for n in names if n not in chosen]
    if unknown:
        parser.error(f"unknown policies {unknown}; choose from {', '.join(chosen)}")
    print(
        f"keys {args.keys:,}, requests {requests:,} per trace, samples {args.samples}, "
        f"{args.us_per_request} us per request; hit ratio %"
    )
    print(f"{'trace':8} {'capacity':>9} " + " ".join(f"{n:>9}" for n in names))
    for trace_name in args.traces.split(","):
        trace: array[int] = generate(trace_name, args.keys, requests, args.seed)
        capacity = max(1, int(args.keys * args.capacity))
        cells = []
        for n in names:
            started = time.perf_counter()
            hits = chosen[n](trace, capacity, args.samples, args.us_per_request, args.seed)
            elapsed = time.perf_counter() - started
            cells.append(f"{100.0 * hits / len(trace):9.2f}")
            print(f"  {trace_name}/{n}: {100.0 * hits / len(trace):.2f}% in {elapsed:.1f}s", file=sys.stderr)
        print(f"{trace_name:8} {capacity:>9,} " + " ".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
