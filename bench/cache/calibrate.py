"""Give each server a maxmemory that holds the same share of the keys, measured on that server itself.

The two servers count memory differently (Redis its allocator's bytes, CacheFlow
an estimate), so one maxmemory figure would hold a different number of keys in
each and the hit-ratio comparison would be about capacity, not policy.  Instead,
as the issue asks, each server is measured:

1. empty: ``used_memory`` (the baseline) and VmRSS;
2. with every distinct key of the traces loaded (same key and value sizes as the
   replay, no maxmemory): ``used_memory`` and VmRSS again;
3. bytes per key = growth / keys, from used_memory (what maxmemory is compared
   with) and from RSS (what the machine pays);
4. ``maxmemory = baseline + share * keys * bytes per key``;
5. check: flush, fill with every key again under allkeys-lru, and read ``DBSIZE``:
   how many keys the server really holds under that maxmemory.  When that is off
   the target by more than ``tolerance`` (0.5%), maxmemory is scaled once by target/held
   and checked again (both figures are reported).

A server that does not evict (DBSIZE after the fill = all keys) is reported as
such; its maxmemory is kept, and its hit ratios mean nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.cache.client import Conn
from bench.cache.replay import VALUE_BYTES, Frames

GIB = 1 << 30
# SETs per round trip of the full load: small enough that the buffers are a rounding error.
_LOAD_BATCH = 1_000


@dataclass
class Calibration:
    """One server's memory figures and the maxmemory it was given."""

    server: str
    keys: int
    target_keys: int
    baseline_used: int = 0
    loaded_used: int = 0
    rss_before: int = 0
    rss_after: int = 0
    maxmemory_scaled: int = 0
    held_scaled: int | None = None
    maxmemory: int = 0
    held: int | None = None
    corrected: bool = False
    evicts: bool = False
    load_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def bytes_per_key_used(self) -> float:
        return (self.loaded_used - self.baseline_used) / self.keys

    @property
    def bytes_per_key_rss(self) -> float:
        return (self.rss_after - self.rss_before) / self.keys

    @property
    def keys_per_gib_used(self) -> float | None:
        return GIB / self.bytes_per_key_used if self.bytes_per_key_used > 0 else None

    @property
    def keys_per_gib_rss(self) -> float | None:
        return GIB / self.bytes_per_key_rss if self.bytes_per_key_rss > 0 else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            value_bytes=VALUE_BYTES,
            bytes_per_key_used_memory=self.bytes_per_key_used,
            bytes_per_key_rss=self.bytes_per_key_rss,
            keys_per_gib_used_memory=self.keys_per_gib_used,
            keys_per_gib_rss=self.keys_per_gib_rss,
        )
        return data


def settled_rss(pid: int, rss: Callable[[int], int], timeout: float = 3.0) -> int:
    """VmRSS once two readings 100 ms apart agree, or at the deadline (frees are not instant)."""
    deadline = time.monotonic() + timeout
    last = rss(pid)
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = rss(pid)
        if now == last:
            return now
        last = now
    return last


def load_all(port: int, frames: Frames, batch: int) -> float:
    """SET every key id once on a connection of its own, ``batch`` per round trip; every reply must be OK.

    The connection is closed before anyone reads used_memory: Redis counts a
    client's query and output buffers in used_memory, and a big pipeline's
    buffers would be charged to the keys.
    """
    started = time.perf_counter()
    with Conn(port, timeout=600) as conn:
        for start in range(0, frames.keys, batch):
            stop = min(frames.keys, start + batch)
            conn.send(b"".join([frames.set_frame(i) for i in range(start, stop)]))
            replies = conn.read(stop - start)
            if replies.count(b"OK") != stop - start:
                bad = next(r for r in replies if r != b"OK")
                raise RuntimeError(f"SET failed while loading keys {start}..{stop}: {bad!r}")
    return time.perf_counter() - started


def _fill_and_count(conn: Conn, frames: Frames, maxmemory: int, batch: int) -> int:
    conn.check("FLUSHALL")
    conn.check("CONFIG", "SET", "maxmemory", str(maxmemory))
    load_all(conn.port, frames, batch)
    return int(conn.check("DBSIZE"))


def calibrate(
    name: str,
    port: int,
    pid: int,
    frames: Frames,
    rss: Callable[[int], int],
    share: float = 0.1,
    batch: int = 512,
    tolerance: float = 0.005,
    correct: bool = True,
) -> Calibration:
    """Measure a freshly started server and leave it empty, with the calibrated maxmemory and allkeys-lru.

    ``batch`` is the replay's pipeline depth.  Redis charges client buffers to
    used_memory, so the check fills with ``batch // 4`` SETs per round trip:
    about the bytes a replay batch carries (its GETs plus the SETs for a
    quarter to a third of them missing), so that the keys held at the check
    are the keys held during a replay.
    """
    keys = frames.keys
    cal = Calibration(server=name, keys=keys, target_keys=round(keys * share))
    with Conn(port, timeout=600) as conn:
        conn.check("CONFIG", "SET", "maxmemory", "0")
        conn.check("CONFIG", "SET", "maxmemory-policy", "noeviction")
        conn.check("FLUSHALL")
        cal.baseline_used = conn.used_memory()
        cal.rss_before = settled_rss(pid, rss)
        cal.load_s = load_all(port, frames, _LOAD_BATCH)
        size = int(conn.check("DBSIZE"))
        if size != keys:
            raise RuntimeError(f"{name}: DBSIZE is {size} after loading {keys} distinct keys")
        cal.loaded_used = conn.used_memory()
        cal.rss_after = settled_rss(pid, rss)
        if cal.bytes_per_key_used <= 0:
            raise RuntimeError(f"{name}: used_memory did not grow while loading {keys} keys")
        cal.maxmemory_scaled = cal.baseline_used + round(cal.target_keys * cal.bytes_per_key_used)
        conn.check("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        fill_batch = max(1, batch // 4)
        cal.held_scaled = _fill_and_count(conn, frames, cal.maxmemory_scaled, fill_batch)
        cal.maxmemory, cal.held = cal.maxmemory_scaled, cal.held_scaled
        cal.evicts = cal.held_scaled < keys
        if not cal.evicts:
            cal.notes.append(f"did not evict: held all {keys:,} keys under maxmemory {cal.maxmemory:,}")
        elif correct and abs(cal.held_scaled - cal.target_keys) > tolerance * cal.target_keys:
            room = (cal.maxmemory_scaled - cal.baseline_used) * cal.target_keys / cal.held_scaled
            cal.maxmemory = cal.baseline_used + round(room)
            cal.held = _fill_and_count(conn, frames, cal.maxmemory, fill_batch)
            cal.corrected = True
        conn.check("FLUSHALL")
    return cal
