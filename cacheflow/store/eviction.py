"""Which key to evict when memory is over ``maxmemory``: Redis's policies, plus W-TinyLFU.

Redis's policies, as in its evict.c:
- ``*-lru``: approximated LRU.  Each access stores the coarse LRU clock (seconds)
  for the key; eviction samples ``maxmemory-samples`` keys per database into a
  16-entry pool kept sorted by idle time and evicts the idlest key still present.
- ``*-lfu``: a Morris counter per key (8 bits, logarithmic increments with
  ``lfu-log-factor``, new keys start at 5) that decays by one every
  ``lfu-decay-time`` minutes, packed with the minute of the last decrement as
  ``minutes << 8 | counter``; the pool holds 255 - counter.
- ``volatile-ttl``: the pool holds the inverse of the expiry time, so the
  soonest-expiring sampled key goes first.
- ``*-random``: any sampled key.
- ``allkeys-*`` samples every key, ``volatile-*`` only keys with a TTL.

``*-tinylfu`` is CacheFlow's own (store/tinylfu.py): frequency is estimated by
a count-min sketch for every key requested (hits and misses), and new keys must
out-score a sampled victim to stay once they leave a small admission window.

Per-key access data lives in ``Database.access`` (an ``AccessStamps``: key ->
int), which exists only while an LRU, LFU or TinyLFU policy is selected: it
costs one dict entry per key, which a store that never evicts by recency or
frequency should not pay.  TinyLFU stores 0 there (its frequencies are in its
sketch) and keeps it only as the set of keys to sample.  While it exists it
holds every key of its database, and the ``allkeys-*`` policies among these
three sample from it (see ``AccessStamps``).  OBJECT FREQ answers only under
an LFU policy, as Redis's; OBJECT IDLETIME under any other, from the LRU stamps
or, where there are none, the approximate idle clock (store/idle_clock.py).

Invariants: the pool never holds more than ``POOL_SIZE`` entries; a victim is
always a live key of the scope at the moment it is chosen; all randomness comes
from the keyspace's seeded generator; time only from the LRU clock the caller
refreshes (``Keyspace.refresh_lru_clock``).
"""

import random
from bisect import insort
from typing import TYPE_CHECKING, Final

from cacheflow.store.tinylfu import TinyLfu

if TYPE_CHECKING:
    from cacheflow.store.keyspace import Database, Keyspace

POOL_SIZE: Final = 16
ACCESS_SHARDS: Final = 64  # a power of two: a key's shard is its hash's low bits
SHARDED_SAMPLING_MIN: Final = 16 * ACCESS_SHARDS  # keys in a database from which eviction samples by shard
LFU_INIT_VAL: Final = 5
_LFU_TIME_MASK: Final = 65535

POLICIES: Final = (
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "volatile-tinylfu",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "allkeys-tinylfu",
    "noeviction",
)

# How per-key access is tracked (Keyspace.tracking).
TRACK_NONE: Final = 0
TRACK_LRU: Final = 1
TRACK_LFU: Final = 2
TRACK_TINYLFU: Final = 3


def uses_idle_clock(tracking: int) -> bool:
    """Whether accesses stamp the keyspace's idle clock: under every policy that keeps no LRU or LFU data."""
    return tracking == TRACK_NONE or tracking == TRACK_TINYLFU


def tracking_for(policy: str) -> int:
    if policy.endswith("-lru"):
        return TRACK_LRU
    if policy.endswith("-lfu"):
        return TRACK_LFU
    if policy.endswith("-tinylfu"):
        return TRACK_TINYLFU
    return TRACK_NONE


def lfu_decayed(packed: int, minutes: int, decay_time: int) -> int:
    """The counter after the decay due since its last decrement (Redis's LFUDecrAndReturn)."""
    ldt = packed >> 8
    counter = packed & 255
    if not decay_time:
        return counter
    elapsed = minutes - ldt if minutes >= ldt else _LFU_TIME_MASK - ldt + minutes
    periods = elapsed // decay_time
    return 0 if periods > counter else counter - periods


def lfu_log_incr(counter: int, log_factor: int, rnd: float) -> int:
    """A Morris increment: likelier the smaller the counter (Redis's LFULogIncr)."""
    if counter == 255:
        return 255
    base = max(0, counter - LFU_INIT_VAL)
    return counter + 1 if rnd < 1.0 / (base * log_factor + 1) else counter


def eviction_time_limit_us(tenacity: int) -> int:
    """Redis's evictionTimeLimitUs: 50us per step up to 10, then growing 15% a step; 100 is unlimited."""
    if tenacity <= 10:
        return 50 * tenacity
    if tenacity < 100:
        return int(500 * 1.15 ** (tenacity - 10))
    return 1 << 62


class KeySampler:
    """Random keys of a dict without random access: a snapshot of its keys, refreshed as it goes stale.

    A snapshot is retaken once a quarter of its size has been drawn or most
    draws miss, so the cost (a tuple of the keys: see ``AccessStamps`` for why
    not a list) is amortised over many draws.
    """

    __slots__ = ("_snapshots",)

    def __init__(self) -> None:
        self._snapshots: dict[tuple[int, bool], tuple[tuple[bytes, ...], list[int]]] = {}

    def sample(self, db: "Database", volatile: bool, count: int, rng: random.Random) -> list[bytes]:
        source: dict[bytes, object] | dict[bytes, int] = db.expires if volatile else db.data
        if not source:
            return []
        if len(source) <= count:
            return list(source)
        slot = (db.index, volatile)
        entry = self._snapshots.get(slot)
        out: list[bytes] = []
        for fresh in (False, True):
            if fresh or entry is None or entry[1][0] > len(entry[0]) // 4 + count:
                entry = (tuple(source), [0])
                self._snapshots[slot] = entry
            keys, drawn = entry
            size = len(keys)
            misses = 0
            while len(out) < count and misses < 4 * count:
                # random() and a product, not randrange(): randrange is interpreted Python and
                # cost more than the rest of the draw; the bias (size / 2**53) is immaterial.
                key = keys[int(rng.random() * size)]
                if key in source:
                    out.append(key)
                else:
                    misses += 1
            drawn[0] += count
            if out:
                break
        return out

    def forget(self) -> None:
        self._snapshots.clear()

    def forget_database(self, index: int) -> None:
        self._snapshots.pop((index, False), None)
        self._snapshots.pop((index, True), None)


class AccessStamps:
    """Per-key access data (LRU clock, packed LFU counter, 0 under TinyLFU), split over ``ACCESS_SHARDS`` dicts by key hash.

    Why split: a CPython dict that keeps gaining and losing keys rebuilds its
    whole table every so often (deleted slots are reclaimed only by a rebuild),
    one O(n) stop of the event loop: 12 ms at 134,000 keys.  Under eviction
    every write adds a key and removes one, so the stops are regular; split,
    each is a 64th of that.  The same split makes sampling cheap: a snapshot
    of one shard's keys (dicts have no random access) costs a 64th of a
    snapshot of the database, which the database dict would charge at once.
    """

    __slots__ = ("shards", "_snapshots")

    def __init__(self) -> None:
        self.shards: list[dict[bytes, int]] = [{} for _ in range(ACCESS_SHARDS)]
        # Per shard: (its keys when taken, draws since then), retaken once a quarter has been drawn.
        # Tuples, not lists: the cyclic GC stops tracking a tuple of bytes after one pass, where a
        # list of every key would be walked again by each full collection (a 13 ms stop at 134k keys).
        self._snapshots: list[tuple[tuple[bytes, ...], list[int]] | None] = [None] * ACCESS_SHARDS

    def get(self, key: bytes) -> int | None:
        return self.shards[hash(key) & (ACCESS_SHARDS - 1)].get(key)

    def put(self, key: bytes, stamp: int) -> None:
        self.shards[hash(key) & (ACCESS_SHARDS - 1)][key] = stamp

    def discard(self, key: bytes) -> None:
        self.shards[hash(key) & (ACCESS_SHARDS - 1)].pop(key, None)

    def __len__(self) -> int:
        return sum([len(shard) for shard in self.shards])

    def to_dict(self) -> dict[bytes, int]:
        whole: dict[bytes, int] = {}
        for shard in self.shards:
            whole.update(shard)
        return whole

    def sample(self, count: int, rng: random.Random) -> list[bytes]:
        """Up to ``count`` random keys (with replacement): a random shard, then a key of its snapshot.

        Shards are picked alike, not by size: hashing fills them evenly once
        there are many keys, which is when the caller samples here (below
        ``SHARDED_SAMPLING_MIN`` keys a snapshot of the whole database is cheap
        and exact).  A key deleted since its shard's snapshot, or an empty
        shard, is a miss; the draw is made again, up to ``4 * count`` misses.
        """
        out: list[bytes] = []
        misses = 0
        while len(out) < count and misses < 4 * count:
            key = self._draw(int(rng.random() * ACCESS_SHARDS), rng)
            if key is None:
                misses += 1
            else:
                out.append(key)
        return out

    def _draw(self, index: int, rng: random.Random) -> bytes | None:
        shard = self.shards[index]
        snapshot = self._snapshots[index]
        if snapshot is None or snapshot[1][0] > len(snapshot[0]) // 4:
            snapshot = (tuple(shard), [0])
            self._snapshots[index] = snapshot
        keys, drawn = snapshot
        drawn[0] += 1
        if not keys:
            return None
        key = keys[int(rng.random() * len(keys))]
        return key if key in shard else None


class Evictor:
    """The configured policy and its state; ``victim()`` names the next key to evict."""

    __slots__ = (
        "keyspace",
        "policy",
        "volatile",
        "samples",
        "log_factor",
        "decay_time",
        "tenacity",
        "tinylfu",
        "by_ttl",
        "evicted_keys",
        "_pool",
        "_sampler",
        "_rng",
        "_next_db",
    )

    def __init__(self, keyspace: "Keyspace") -> None:
        self.keyspace = keyspace
        self.policy = "noeviction"
        self.volatile = False
        self.samples = 5
        self.log_factor = 10
        self.decay_time = 1
        self.tenacity = 10
        self.tinylfu: TinyLfu | None = None
        self.by_ttl = False  # volatile-ttl: the pool ranks by expiry time, not by access data
        self.evicted_keys = 0
        # (score, db index, key), ascending: the best victim is last.
        self._pool: list[tuple[int, int, bytes]] = []
        self._sampler = KeySampler()
        self._rng = keyspace.rng
        self._next_db = 0

    def configure(self, policy: str, samples: int, log_factor: int, decay_time: int, tenacity: int) -> None:
        changed = policy != self.policy
        self.policy = policy
        self.volatile = policy.startswith("volatile-")
        self.by_ttl = policy.endswith("-ttl")
        self.samples = samples
        self.log_factor = log_factor
        self.decay_time = decay_time
        self.tenacity = tenacity
        if changed:
            self._pool = []
            track = tracking_for(policy)
            self.tinylfu = TinyLfu(self._rng.getrandbits(32)) if track == TRACK_TINYLFU else None
            self.keyspace.set_tracking(track)

    # -- per access (called by the keyspace only while tracking) --------------

    def _minutes(self) -> int:
        """LFU time: minutes of the coarse LRU clock, in 16 bits as Redis's LFUGetTimeInMinutes."""
        return (self.keyspace.lru_clock // 60) & _LFU_TIME_MASK

    def lfu_touch(self, access: AccessStamps, key: bytes) -> None:
        minutes = self._minutes()
        packed = access.get(key)
        counter = LFU_INIT_VAL if packed is None else lfu_decayed(packed, minutes, self.decay_time)
        access.put(key, (minutes << 8) | lfu_log_incr(counter, self.log_factor, self._rng.random()))

    def lfu_new(self, access: AccessStamps, key: bytes) -> None:
        access.put(key, (self._minutes() << 8) | LFU_INIT_VAL)

    def frequency(self, db: "Database", key: bytes) -> int:
        """OBJECT FREQ: the decayed counter (LFU), without touching it."""
        packed = db.access.get(key) if db.access is not None else None
        if packed is None:
            return LFU_INIT_VAL
        return lfu_decayed(packed, self._minutes(), self.decay_time)

    def last_access(self, db: "Database", key: bytes) -> int:
        """The LRU clock at the key's last access (under LFU, which keeps none, the clock now)."""
        ks = self.keyspace
        if ks.tracking == TRACK_LRU:
            at = db.access.get(key) if db.access is not None else None
            return ks.lru_clock if at is None else at
        if ks.tracking == TRACK_LFU:
            return ks.lru_clock
        return ks.idle_clock.stamp(key)

    def idle_seconds(self, db: "Database", key: bytes) -> int:
        """OBJECT IDLETIME: seconds since the last access, by the coarse LRU clock."""
        return max(0, self.keyspace.lru_clock - self.last_access(db, key))

    def set_access(self, db: "Database", key: bytes, idle_seconds: int, frequency: int) -> None:
        """RESTORE's IDLETIME / FREQ (-1: not given), as Redis's objectSetLRUOrLFU: FREQ sets the LFU
        counter under an LFU policy, IDLETIME the last access under any other; the one that does
        not apply changes nothing."""
        ks = self.keyspace
        access = db.access
        if key not in db.data:
            return
        if ks.tracking == TRACK_LFU:
            if frequency >= 0 and access is not None:
                access.put(key, (self._minutes() << 8) | min(frequency, 255))
        elif idle_seconds >= 0:
            stamp = max(0, ks.lru_clock - idle_seconds)
            if ks.tracking == TRACK_LRU and access is not None:
                access.put(key, stamp)
            else:
                ks.idle_clock.set_stamp(key, stamp)

    # -- choosing victims ------------------------------------------------------

    def victim(self) -> tuple["Database", bytes] | None:
        """The next key to evict under the policy, or None when there is none (noeviction, no candidates)."""
        policy = self.policy
        if policy == "noeviction":
            return None
        if policy.endswith("-random"):
            return self._random_victim()
        if self.tinylfu is not None:
            return self._tinylfu_victim()
        return self._pool_victim()

    def _candidate_dbs(self) -> list["Database"]:
        volatile = self.volatile
        return [db for db in self.keyspace.dbs if (db.expires if volatile else db.data)]

    def _random_victim(self) -> tuple["Database", bytes] | None:
        dbs = self._candidate_dbs()
        if not dbs:
            return None
        # Round robin over databases, as Redis's next_db.
        db = dbs[self._next_db % len(dbs)]
        self._next_db += 1
        keys = self._sampler.sample(db, self.volatile, 1, self._rng)
        return (db, keys[0]) if keys else None

    def _score(self, db: "Database", key: bytes) -> int:
        if self.by_ttl:
            return (1 << 63) - db.expires.get(key, 1 << 62)
        access = db.access
        if access is None:
            return 0
        if self.keyspace.tracking == TRACK_LRU:
            at = access.get(key)
            return self.keyspace.lru_clock - at if at is not None else 1 << 40
        packed = access.get(key)
        counter = LFU_INIT_VAL if packed is None else lfu_decayed(packed, self._minutes(), self.decay_time)
        return 255 - counter

    def _pool_victim(self) -> tuple["Database", bytes] | None:
        """Redis's evictionPoolPopulate + the pick of the best live entry."""
        dbs = self._candidate_dbs()
        if not dbs:
            self._pool = []
            return None
        pool = self._pool
        volatile = self.volatile
        keyspace_dbs = self.keyspace.dbs
        for _attempt in range(3):
            for db in dbs:
                for key in self._sample(db):
                    entry = (self._score(db, key), db.index, key)
                    if len(pool) >= POOL_SIZE:
                        if entry[0] <= pool[0][0]:
                            continue
                        if entry in pool:
                            continue
                        pool.pop(0)
                    elif entry in pool:
                        continue
                    insort(pool, entry)
            while pool:
                _, index, key = pool.pop()
                db = keyspace_dbs[index]
                if key in (db.expires if volatile else db.data):
                    return db, key
        return None

    def _sample(self, db: "Database") -> list[bytes]:
        """Keys to score: from the access shards when they hold the whole scope (allkeys-lru/lfu/tinylfu), else a snapshot."""
        access = db.access
        if access is not None and not self.volatile and len(db.data) >= SHARDED_SAMPLING_MIN:
            keys = access.sample(self.samples, self._rng)
            if keys:
                return keys
        return self._sampler.sample(db, self.volatile, self.samples, self._rng)

    def _tinylfu_victim(self) -> tuple["Database", bytes] | None:
        tiny = self.tinylfu
        assert tiny is not None
        dbs = self._candidate_dbs()
        if not dbs:
            return None
        db = max(dbs, key=len)
        sampled = self._sample(db)
        for _attempt in range(3):
            key = tiny.choose_victim(sampled, len(db))
            if key is None:
                return None
            for candidate_db in dbs:
                if key in (candidate_db.expires if self.volatile else candidate_db.data):
                    return candidate_db, key
            tiny.on_delete(key)  # a window key that left by other means
        return (db, sampled[0]) if sampled else None

    def forget_database(self, index: int, removed: int) -> None:
        """Database ``index`` lost its ``removed`` keys at once (FLUSHDB, FLUSHALL, DEBUG RELOAD).

        Nothing may keep referring to them: snapshots and pool entries would hold
        their memory, and TinyLFU's key count would size its sketch for keys long
        gone.  Once every database is empty, frequencies go too: a new dataset.
        """
        if not any(db.data for db in self.keyspace.dbs):
            self.clear()
            return
        self._pool = [entry for entry in self._pool if entry[1] != index]
        self._sampler.forget_database(index)
        if self.tinylfu is not None:
            self.tinylfu.forget_keys(removed)

    def clear(self) -> None:
        """Every database emptied: forget pool, snapshots and frequencies."""
        self._pool = []
        self._sampler.forget()
        if self.tinylfu is not None:
            self.tinylfu.clear()

    def memory_usage(self) -> int:
        return self.tinylfu.memory_usage() if self.tinylfu is not None else 0
