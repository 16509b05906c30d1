"""Request traces for the hit-ratio benchmark: the same key-id sequence is replayed against every server and policy.

A trace is an ``array('I')`` of key ids in ``[0, keys)``; ``key_name(i)`` turns an id
into the bytes sent on the wire.  Three traces, all built on one Zipf(0.99)
popularity law (rank r is drawn with probability proportional to 1/(r+1)**0.99):

- ``zipf``: ranks drawn independently; a seeded permutation maps rank -> key id, so
  the hot keys are scattered over the id space rather than being ids 0, 1, 2...
- ``scan``: the zipf trace, except that every ``period`` requests the last
  ``SCAN_SHARE`` of the period is a sequential run over cold ranks (the colder half
  of the popularity order, walked in order and wrapping around), so a scan touches
  keys that Zipf itself almost never asks for.  This is scan pollution: a recency
  policy lets the run push hot keys out, a frequency or admission policy should not.
- ``shift``: the zipf trace whose rank -> id permutation is replaced by an
  independent one at ``requests // 2``: the hot set moves to other keys halfway.

Invariants: pure and deterministic -- the same (name, keys, requests, seed) gives the
same array on every run (``random.Random`` seeded explicitly, no global randomness,
no I/O); every id is < ``keys``; for ``zipf`` and ``scan`` a trace of fewer requests
is a prefix of a longer one (``shift`` moves its hot set at ``requests // 2``).  Only the standard library is used (no numpy):
ranks are drawn with an alias table built once per process (about 2 s for a
million keys), then about 1 µs a request.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Callable
from functools import lru_cache

ZIPF_SKEW = 0.99
DEFAULT_KEYS = 1_000_000
DEFAULT_REQUESTS = 2_000_000
# Scan trace: a scan run covers 5% of the keys (half of a cache that holds 10% of them)
# and scans are 20% of all requests, so each period is 4 runs' worth of Zipf then one run.
SCAN_SHARE = 0.2
SCAN_RUN_FRACTION = 0.05
# Ranks from here on (the colder half) are what scans walk over.
SCAN_COLD_FROM = 0.5
# Ranks are drawn in chunks so a multi-million-request trace never holds a list of ints.
_CHUNK = 1 << 18

KEY_PREFIX = b"key:"


def key_name(i: int) -> bytes:
    """The key for id ``i``: 16 bytes (``key:000000000042``), like bench/harness/loader.py's keys."""
    return b"key:%012d" % i


@lru_cache(maxsize=2)
def _alias_table(keys: int, skew: float) -> tuple[array[float], array[int]]:
    """Walker/Vose alias table of Zipf(skew) over ranks [0, keys): (acceptance probability, alias) per slot.

    Sampling then costs one uniform slot, one uniform draw and two reads of
    contiguous arrays -- much cheaper here than bisecting a million-entry CDF,
    whose cost is all cache misses.
    """
    weights = [1.0 / (r**skew) for r in range(1, keys + 1)]
    scale = keys / sum(weights)
    scaled = [w * scale for w in weights]
    prob = array("d", bytes(8 * keys))
    alias = array("I", bytes(4 * keys))
    small = [i for i, x in enumerate(scaled) if x < 1.0]
    large = [i for i, x in enumerate(scaled) if x >= 1.0]
    while small and large:
        lo, hi = small.pop(), large.pop()
        prob[lo], alias[lo] = scaled[lo], hi
        scaled[hi] += scaled[lo] - 1.0
        (small if scaled[hi] < 1.0 else large).append(hi)
    for i in large + small:  # what is left is 1.0 up to rounding
        prob[i], alias[i] = 1.0, i
    return prob, alias


def permutation(keys: int, seed: int, phase: int = 0) -> array[int]:
    """The rank -> key id map of a trace (``phase`` 1 is the shift trace's second half)."""
    ids = array("I", range(keys))
    random.Random(f"cacheflow-trace-perm:{seed}:{phase}").shuffle(ids)
    return ids


def zipf_ranks(keys: int, requests: int, seed: int, skew: float = ZIPF_SKEW) -> array[int]:
    """``requests`` Zipf(skew) ranks in [0, keys), rank 0 the most popular."""
    prob, alias = _alias_table(keys, skew)
    rnd = random.Random(f"cacheflow-trace-ranks:{seed}").random
    out = array("I")
    left = requests
    while left > 0:
        n = min(left, _CHUNK)
        # Slot then acceptance draw, request by request: a shorter trace is a prefix of a longer one.
        out.extend([j if rnd() < prob[j] else alias[j] for j in (int(rnd() * keys) for _ in range(n))])
        left -= n
    return out


def scan_layout(keys: int) -> tuple[int, int]:
    """(Zipf requests, scan requests) of one period of the scan trace; the scan comes last in the period."""
    run = max(1, round(keys * SCAN_RUN_FRACTION))
    period = max(run + 1, round(run / SCAN_SHARE))
    return period - run, run


def is_scan_position(index: int, keys: int) -> bool:
    """Whether request number ``index`` of the scan trace is part of a scan run."""
    zipf_part, run = scan_layout(keys)
    return index % (zipf_part + run) >= zipf_part


def _apply(perm: array[int], ranks: array[int], start: int = 0, stop: int | None = None) -> array[int]:
    return array("I", map(perm.__getitem__, ranks[start:stop]))


def zipf(keys: int = DEFAULT_KEYS, requests: int = DEFAULT_REQUESTS, seed: int = 1) -> array[int]:
    """Independent Zipf(0.99) requests over ``keys`` ids."""
    return _apply(permutation(keys, seed), zipf_ranks(keys, requests, seed))


def scan(keys: int = DEFAULT_KEYS, requests: int = DEFAULT_REQUESTS, seed: int = 1) -> array[int]:
    """The zipf trace with periodic sequential scans of cold keys (``SCAN_SHARE`` of the requests)."""
    ranks = zipf_ranks(keys, requests, seed)
    zipf_part, run = scan_layout(keys)
    period = zipf_part + run
    cold_from = min(keys - 1, int(keys * SCAN_COLD_FROM))
    cold_span = keys - cold_from
    cursor = 0
    for start in range(zipf_part, requests, period):
        stop = min(requests, start + run)
        for i in range(start, stop):
            ranks[i] = cold_from + cursor % cold_span
            cursor += 1
    return _apply(permutation(keys, seed), ranks)


def shift(keys: int = DEFAULT_KEYS, requests: int = DEFAULT_REQUESTS, seed: int = 1) -> array[int]:
    """The zipf trace whose hot set moves to other keys at ``requests // 2``."""
    ranks = zipf_ranks(keys, requests, seed)
    half = requests // 2
    out = _apply(permutation(keys, seed, 0), ranks, 0, half)
    out.extend(_apply(permutation(keys, seed, 1), ranks, half))
    return out


TRACES: dict[str, Callable[[int, int, int], array[int]]] = {"zipf": zipf, "scan": scan, "shift": shift}

DESCRIPTIONS = {
    "zipf": "Zipf(0.99) over all keys",
    "scan": f"Zipf(0.99) with {SCAN_SHARE:.0%} of requests in sequential scans of cold keys "
    f"(runs of {SCAN_RUN_FRACTION:.0%} of the keys)",
    "shift": "Zipf(0.99) whose hot set moves to other keys halfway",
}


def generate(name: str, keys: int = DEFAULT_KEYS, requests: int = DEFAULT_REQUESTS, seed: int = 1) -> array[int]:
    """The trace ``name`` (a key of ``TRACES``) as an ``array('I')`` of key ids in [0, keys)."""
    if keys < 2 or requests < 0:
        raise ValueError(f"need keys >= 2 and requests >= 0, got keys={keys} requests={requests}")
    try:
        make = TRACES[name]
    except KeyError:
        raise ValueError(f"unknown trace {name!r}; one of {', '.join(TRACES)}") from None
    return make(keys, requests, seed)
