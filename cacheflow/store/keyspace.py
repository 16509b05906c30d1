"""Databases of keys with values and absolute expiry times.

Each database is a plain dict of key -> value plus a dict of key -> expiry (ms
since the epoch); keeping values unwrapped is what holds memory per key close to
Redis's.  Strings are ``bytes`` (or ``bytearray`` once modified in place by
APPEND/SETRANGE, which Redis would report as the ``raw`` encoding).

Invariants:
- A key in ``expires`` is always in ``data``.
- A key whose expiry time has passed is never returned by a lookup; it is
  deleted on access (lazy expiry) or by the active cycle, and every such
  deletion is reported to ``Keyspace.on_expired`` so that the engine can emit a
  ``DEL`` write effect.
- Time is read only through the injected clock.
- ``used`` is the estimated bytes of the database's keys (store/memory.py's
  model): every write primitive here adjusts it.  A ``bytes`` value is costed
  from its length; any other value (a collection, a ``bytearray``) has its
  accounted cost in ``costs``, refreshed by ``settle`` after commands changed it
  in place (``touch_written`` marks it ``dirty``).  So ``used`` always equals the
  sum of what was last accounted per key, and deleting a key subtracts exactly
  what it added.
- ``access`` (key -> LRU clock, packed LFU counter, or 0 under TinyLFU) exists
  only while an LRU, LFU or TinyLFU eviction policy is selected, and then holds
  every key of its database (store/eviction.py says why).  Under every policy
  but the LRU and LFU ones, accesses stamp the keyspace's ``idle_clock``
  instead (store/idle_clock.py), so OBJECT IDLETIME answers there too.
- Hashes with per-field TTLs are scheduled in ``field_expiry`` (key -> the
  time its hash's earliest field TTL passes); the active cycle's
  ``expire_fields_step`` reclaims their expired fields and reports them to
  ``Keyspace.on_fields_expired`` (an ``HDEL`` write effect).
"""

import heapq
import random
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sized
from typing import Final

from cacheflow.store.clock import Clock
from cacheflow.store.eviction import (
    TRACK_LFU,
    TRACK_LRU,
    TRACK_NONE,
    TRACK_TINYLFU,
    AccessStamps,
    Evictor,
    uses_idle_clock,
)
from cacheflow.store.glob import compile_glob
from cacheflow.store.idle_clock import IdleClock

# How many SCAN iterations may be in flight at once before the oldest is forgotten.
SCAN_SNAPSHOTS: Final = 64
_SCAN_POSITION_BITS: Final = 32

# The memory model (store/memory.py): one slot of a database dict, averaged over a resize cycle,
# a bytes object's header, the int holding an expiry time, pymalloc's 8-byte rounding.
DICT_ENTRY_BYTES: Final = 42
BYTES_HEADER: Final = 33
TTL_BYTES: Final = DICT_ENTRY_BYTES + 32
# A value that is not plain bytes also has its cost in Database.costs: that entry and its int.
COSTS_ENTRY_BYTES: Final = DICT_ENTRY_BYTES + 32
# A collection is measured with this many sampled elements, as MEMORY USAGE's default.
MEASURE_SAMPLES: Final = 5
# touch_written settles a database once this many collections wait to be re-measured: a batch of about a
# millisecond, where the cron's settle after a tick of writes to new collections measured 48 ms.
SETTLE_BATCH: Final = 1024


def bytes_cost(b: bytes) -> int:
    """What a bytes object occupies: header plus length, rounded up to pymalloc's 8 bytes."""
    return (len(b) + BYTES_HEADER + 7) & ~7


def key_cost(key: bytes) -> int:
    """A key's own cost, besides its value: the key object and its dict slot."""
    return ((len(key) + BYTES_HEADER + 7) & ~7) + DICT_ENTRY_BYTES


def value_cost(value: object) -> int:
    """The accounted cost of a value: exact for strings, sampled for collections (``accounted_size`` when
    a type defines it, else ``memory_usage``), plus its entry in ``Database.costs``."""
    cls = type(value)
    if cls is bytes:
        return (len(value) + BYTES_HEADER + 7) & ~7  # type: ignore[arg-type]
    if cls is bytearray:
        return sys.getsizeof(value) + 16 + COSTS_ENTRY_BYTES
    accounted = getattr(value, "accounted_size", None)
    if accounted is not None:
        return int(accounted()) + COSTS_ENTRY_BYTES
    measure = getattr(value, "memory_usage", None)
    if measure is not None:
        return int(measure(MEASURE_SAMPLES)) + COSTS_ENTRY_BYTES
    return sys.getsizeof(value) + COSTS_ENTRY_BYTES


def value_type(value: object) -> bytes:
    """The name TYPE reports for a stored value."""
    cls = type(value)
    if cls is bytes or cls is bytearray:
        return b"string"
    return getattr(value, "TYPE_NAME", b"none")


class KeyspaceStats:
    """Plain-int counters for INFO stats; reset by CONFIG RESETSTAT.

    Hits and misses live on each Database (see Database.lookup_read).
    """

    __slots__ = ("expired_keys", "expired_stale_perc", "expire_cycle_time_used_ms")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.expired_keys = 0
        self.expired_stale_perc = 0.0
        self.expire_cycle_time_used_ms = 0


class Database:
    """One numbered database.  Callers pass keys as bytes."""

    __slots__ = (
        "index",
        "data",
        "expires",
        "hits",
        "misses",
        "_ks",
        "_random_pool",
        "_expire_walk",
        "field_expiry",
        "_field_heap",
        "used",
        "costs",
        "access",
        "dirty",
    )

    def __init__(self, index: int, keyspace: "Keyspace") -> None:
        self.index = index
        self.data: dict[bytes, object] = {}
        self.expires: dict[bytes, int] = {}
        self._ks = keyspace
        # keyspace_hits/misses, per database so the read path touches one object; summed by Keyspace.
        self.hits = 0
        self.misses = 0
        self._random_pool: tuple[bytes, ...] = ()  # a tuple, untracked by the GC (store/eviction.py says why)
        self._expire_walk: Iterator[bytes] | None = None
        # Hashes with field TTLs: key -> when to visit it, plus a heap of (time, key) whose
        # entries are live only while they match field_expiry (older ones are skipped).
        self.field_expiry: dict[bytes, int] = {}
        self._field_heap: list[tuple[int, bytes]] = []
        self.used = 0
        self.costs: dict[bytes, int] = {}
        self.dirty: set[bytes] = set()  # keys whose collections changed in place since the last settle()
        self.access: AccessStamps | None = None

    def __len__(self) -> int:
        return len(self.data)

    # -- reads ---------------------------------------------------------------

    def lookup(self, key: bytes) -> object | None:
        """The live value of ``key`` or None, expiring it lazily; no statistics."""
        value = self.data.get(key)
        if value is not None and self.expires:
            at = self.expires.get(key)
            if at is not None and at <= self._ks.clock.now_ms():
                self._expire(key)
                return None
        return value

    def lookup_read(self, key: bytes) -> object | None:
        """Like lookup, counting a keyspace hit or miss as Redis's read lookups do."""
        value = self.lookup_read_notouch(key)
        self.note_access(key, value is not None)
        return value

    def lookup_read_notouch(self, key: bytes) -> object | None:
        """A read lookup that leaves access data alone (Redis's LOOKUP_NOTOUCH: TYPE, TTL, EXISTS, OBJECT)."""
        value = self.data.get(key)
        if value is not None and self.expires:
            at = self.expires.get(key)
            if at is not None and at <= self._ks.clock.now_ms():
                self._expire(key)
                value = None
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def note_access(self, key: bytes, hit: bool) -> None:
        """Record an access for the eviction policy, or on the idle clock."""
        ks = self._ks
        if ks.no_touch:
            return
        tracking = ks.tracking
        if tracking == TRACK_NONE:
            if hit:
                ks.idle_clock.touch(key)
            return
        access = self.access
        if tracking == TRACK_LRU:
            if hit and access is not None:
                access.put(key, ks.lru_clock)
        elif tracking == TRACK_LFU:
            if hit and access is not None:
                ks.evictor.lfu_touch(access, key)
        elif tracking == TRACK_TINYLFU:
            tiny = ks.evictor.tinylfu
            if tiny is not None:
                tiny.record_access(key, hit)
            if hit:
                ks.idle_clock.touch(key)

    def _created(self, key: bytes) -> None:
        """A new key, for the eviction policy's bookkeeping."""
        self._stamp(key)
        ks = self._ks
        if ks.tracking == TRACK_TINYLFU:
            tiny = ks.evictor.tinylfu
            if tiny is not None:
                tiny.on_insert(key)

    def _stamp(self, key: bytes) -> None:
        """Give ``key`` the access data of a key accessed now."""
        ks = self._ks
        tracking = ks.tracking
        if uses_idle_clock(tracking) and ks.idle_clock.created(key):
            ks.idle_clock.fit(ks.key_count())
        access = self.access
        if access is None:
            return
        if tracking == TRACK_LRU:
            access.put(key, ks.lru_clock)
        elif tracking == TRACK_LFU:
            ks.evictor.lfu_new(access, key)
        else:
            access.put(key, 0)  # TinyLFU: no stamp, the key is there to be sampled

    def touch_written(self, key: bytes) -> None:
        """A command changed ``key``: a collection's cost is re-measured at the next ``settle``; it counts as accessed.

        Deferring the measure keeps a pipeline of writes to one big collection
        at one measurement, instead of one per command.  Writes to many
        collections settle every ``SETTLE_BATCH`` of them, so no settle (the
        cron's, INFO's) has an unbounded batch to measure.  Called once the
        command is complete (from the effect stream), so what is measured is final.
        """
        value = self.data.get(key)
        if value is None:
            return
        if type(value) is not bytes:
            dirty = self.dirty
            dirty.add(key)
            if len(dirty) >= SETTLE_BATCH:
                self.settle()
            self.note_access(key, True)

    def settle(self) -> None:
        """Re-measure the collections changed in place since the last call, so ``used`` is current."""
        dirty = self.dirty
        self.dirty = set()
        data = self.data
        costs = self.costs
        for key in dirty:
            value = data.get(key)
            if value is None or type(value) is bytes:
                continue
            cost = value_cost(value)
            self.used += cost - costs.get(key, 0)
            costs[key] = cost

    def _gone(self, key: bytes, value: object, had_ttl: bool) -> None:
        """Account for ``key`` (holding ``value``) having left the database."""
        if type(value) is bytes:
            self.used -= key_cost(key) + bytes_cost(value)  # type: ignore[arg-type]
        else:
            self.used -= key_cost(key) + self.costs.pop(key, 0)
        if had_ttl:
            self.used -= TTL_BYTES
        if self._ks.tracking:
            if self.access is not None:
                self.access.discard(key)
            tiny = self._ks.evictor.tinylfu
            if tiny is not None:
                tiny.on_delete(key)

    def exists(self, key: bytes) -> bool:
        return self.lookup(key) is not None

    def expire_time(self, key: bytes) -> int | None:
        """Absolute expiry in ms of a live key, or None when it has none (or is missing)."""
        return self.expires.get(key)

    # -- writes --------------------------------------------------------------

    def set(self, key: bytes, value: object, expire_at: int | None = None) -> None:
        """Store ``value``, replacing any TTL with ``expire_at`` (None: persistent)."""
        self.set_keep_ttl(key, value)
        expires = self.expires
        if expire_at is None:
            if expires and expires.pop(key, None) is not None:
                self.used -= TTL_BYTES
        else:
            if key not in expires:
                self.used += TTL_BYTES
            expires[key] = expire_at

    def set_keep_ttl(self, key: bytes, value: object) -> None:
        data = self.data
        old = data.get(key)
        data[key] = value
        if old is None:
            self.used += key_cost(key)
            self._created(key)
        else:
            if type(old) is bytes:
                self.used -= bytes_cost(old)  # type: ignore[arg-type]
            else:
                self.used -= self.costs.pop(key, 0)
            self.note_access(key, True)
        if type(value) is bytes:
            self.used += bytes_cost(value)  # type: ignore[arg-type]
        else:
            cost = value_cost(value)
            self.costs[key] = cost
            self.used += cost

    def delete(self, key: bytes) -> bool:
        """Remove a live key; True when something was removed."""
        value = self.lookup(key)
        if value is None:
            return False
        self.remove(key, value)
        return True

    def remove(self, key: bytes, value: object) -> None:
        """Remove ``key``, known to be live and to hold ``value``."""
        del self.data[key]
        expires = self.expires
        self._gone(key, value, bool(expires) and expires.pop(key, None) is not None)

    def delete_if_empty(self, key: bytes, value: Sized) -> bool:
        """Delete ``key`` when ``value``, the collection a command just shrank there, is empty; True if so.

        The one place that keeps "a database never holds an empty collection".
        The key was looked up by the same command, so it is live: no expiry check.
        """
        if len(value):
            return False
        self.remove(key, value)
        return True

    def pop(self, key: bytes) -> object | None:
        """Remove and return a live key's value."""
        value = self.lookup(key)
        if value is not None:
            self.remove(key, value)
        return value

    def set_expire(self, key: bytes, at_ms: int) -> None:
        if key not in self.expires:
            self.used += TTL_BYTES
        self.expires[key] = at_ms

    def persist(self, key: bytes) -> bool:
        if self.expires.pop(key, None) is None:
            return False
        self.used -= TTL_BYTES
        return True

    def recount(self) -> None:
        """Account for the whole database from scratch (after a dataset was put in place wholesale)."""
        costs: dict[bytes, int] = {}
        used = TTL_BYTES * len(self.expires)
        for key, value in self.data.items():
            used += key_cost(key)
            if type(value) is bytes:
                used += bytes_cost(value)  # type: ignore[arg-type]
            else:
                cost = value_cost(value)
                costs[key] = cost
                used += cost
        self.used = used
        self.costs = costs
        self.dirty = set()
        # Every key counts as accessed now, as when a policy starts tracking: sampling for
        # eviction draws from ``access``, so a key missing there could never be evicted.
        # Stamped only: TinyLFU learns the count of keys put in wholesale at its next eviction.
        if self.access is not None:
            self.access = AccessStamps()
        for key in self.data:
            self._stamp(key)

    def clear(self) -> None:
        removed = len(self.data)
        self.data = {}
        self.expires = {}
        self.used = 0
        self.costs = {}
        self.dirty = set()
        if self.access is not None:
            self.access = AccessStamps()
        self._random_pool = ()
        self._expire_walk = None
        self.field_expiry = {}
        self._field_heap = []
        if removed:
            self._ks.evictor.forget_database(self.index, removed)

    # -- expiry --------------------------------------------------------------

    def _expire(self, key: bytes) -> None:
        self._gone(key, self.data.pop(key), True)
        del self.expires[key]
        self._ks.stats.expired_keys += 1
        listener = self._ks.on_expired
        if listener is not None:
            listener(self.index, key)

    def expire_step(self, sample: int) -> tuple[int, int]:
        """Check up to ``sample`` keys with a TTL; return (checked, expired).

        Walks a snapshot of the volatile keys in order, so repeated steps visit
        every volatile key; a new snapshot is taken when the walk ends.
        """
        if not self.expires:
            self._expire_walk = None
            return 0, 0
        if self._expire_walk is None:
            self._expire_walk = iter(list(self.expires))
        now = self._ks.clock.now_ms()
        checked = expired = 0
        expires = self.expires
        for key in self._expire_walk:
            at = expires.get(key)
            if at is None:
                continue
            checked += 1
            if at <= now:
                self._expire(key)
                expired += 1
            if checked >= sample:
                return checked, expired
        self._expire_walk = None
        return checked, expired

    def place(self, key: bytes, value: object, expire_at: int | None) -> None:
        """Store a whole value that comes from elsewhere (RENAME, MOVE, COPY, later RESTORE).

        Unlike ``set`` (the hot path of SET), it keeps the active cycle's
        schedule for a hash whose fields carry TTLs under its new key.
        """
        self.set(key, value, expire_at)
        at: int | None = getattr(value, "next_expiry", None)
        if at is not None and at < 1 << 63:
            self.schedule_field_expiry(key, at)

    def schedule_field_expiry(self, key: bytes, at: int) -> None:
        """Have the active cycle visit ``key`` once ``at`` (its hash's earliest field TTL) has passed."""
        current = self.field_expiry.get(key)
        if current is not None and current <= at:
            return  # an earlier visit is already due; it reschedules
        self.field_expiry[key] = at
        heap = self._field_heap
        heapq.heappush(heap, (at, key))
        if len(heap) > 2 * len(self.field_expiry) + 64:
            self._field_heap = [(t, k) for k, t in self.field_expiry.items()]
            heapq.heapify(self._field_heap)

    def expire_fields_step(self, limit: int) -> int:
        """Reclaim expired hash fields of the hashes that are due, about ``limit`` at most; how many.

        A scheduled value provides ``reclaim_expired(now) -> list[bytes]`` (the
        fields it removed) and ``next_expiry`` (its earliest remaining field
        TTL, 1 << 63 for none).  A field is expired once its time is strictly
        past, as Redis's hash field expiry.  A key that has gone, or holds
        another value by now, is simply forgotten.
        """
        heap = self._field_heap
        if not heap:
            return 0
        now = self._ks.clock.now_ms()
        scheduled = self.field_expiry
        reclaimed = 0
        while heap and heap[0][0] < now and reclaimed < limit:
            at, key = heapq.heappop(heap)
            if scheduled.get(key) != at:
                continue  # superseded by an earlier schedule
            del scheduled[key]
            value = self.data.get(key)
            reclaim = getattr(value, "reclaim_expired", None)
            if reclaim is None:
                continue
            key_at = self.expires.get(key)
            if key_at is not None and key_at <= now:
                self._expire(key)
                continue
            fields = reclaim(now)
            if fields:
                reclaimed += len(fields)
                listener = self._ks.on_fields_expired
                if listener is not None:
                    listener(self.index, key, fields)
                if not len(value):  # type: ignore[arg-type]
                    self.remove(key, value)
                    continue
            next_at: int = getattr(value, "next_expiry", 1 << 63)
            if next_at < 1 << 63:
                self.schedule_field_expiry(key, next_at)
        return reclaimed

    # -- sampling and iteration ---------------------------------------------

    def random_key(self, rng: random.Random) -> bytes | None:
        """A random live key.

        Python dicts have no random access, so a snapshot of the keys serves as
        the pool; it is refreshed when picks keep missing or the key count has
        drifted, keeping the cost amortised O(1).
        """
        data = self.data
        while data:
            pool = self._random_pool
            if not pool or len(pool) > 2 * len(data) or len(data) > 2 * len(pool):
                pool = self._random_pool = tuple(data)
            for _ in range(16):
                key = pool[rng.randrange(len(pool))]
                if key in data and self.lookup(key) is not None:
                    return key
            self._random_pool = ()
            if len(data) <= 16:
                live = [k for k in list(data) if self.lookup(k) is not None]
                return rng.choice(live) if live else None
        return None

    def live_keys(self) -> list[bytes]:
        """All keys whose TTL has not passed (without deleting the expired ones)."""
        if not self.expires:
            return list(self.data)
        now = self._ks.clock.now_ms()
        expires = self.expires
        return [k for k in self.data if expires.get(k, now + 1) > now]


class Keyspace:
    """All databases plus the shared clock, statistics and expiry listener."""

    __slots__ = (
        "dbs",
        "clock",
        "stats",
        "on_expired",
        "on_fields_expired",
        "rng",
        "_scans",
        "_next_scan_id",
        "tracking",
        "no_touch",
        "lru_clock",
        "idle_clock",
        "evictor",
    )

    def __init__(self, databases: int, clock: Clock, seed: int | None = None) -> None:
        self.clock = clock
        self.stats = KeyspaceStats()
        self.on_expired: Callable[[int, bytes], None] | None = None
        # (db index, key, fields) for hash fields reclaimed by the active cycle.
        self.on_fields_expired: Callable[[int, bytes, list[bytes]], None] | None = None
        self.rng = random.Random(seed)
        self.dbs = [Database(i, self) for i in range(databases)]
        self._scans: OrderedDict[int, list[bytes]] = OrderedDict()
        self._next_scan_id = 1
        # Which per-access bookkeeping the eviction policy needs (store/eviction.py TRACK_*).
        self.tracking = TRACK_NONE
        # Set while a CLIENT NO-TOUCH client's command runs (but TOUCH): its accesses are not recorded.
        self.no_touch = False
        # Seconds, refreshed by the server's cron (refresh_lru_clock): one shared int per second,
        # so LRU tracking costs a dict slot per key and no int object.
        self.lru_clock = clock.now_ms() // 1000
        self.idle_clock = IdleClock(self.lru_clock)
        self.evictor = Evictor(self)

    def refresh_lru_clock(self) -> None:
        now = self.clock.now_ms() // 1000
        if now != self.lru_clock:
            self.lru_clock = now
            self.idle_clock.tick(now)

    def key_count(self) -> int:
        return sum([len(db.data) for db in self.dbs])

    def set_tracking(self, tracking: int) -> None:
        """Start (or stop) per-key access data; keys present now count as accessed now.

        Except between the idle clock and LRU stamps, which hold the same
        thing: a switch between them carries each key's last access over.
        """
        before = self.tracking
        self.tracking = tracking
        self.refresh_lru_clock()
        clock = self.idle_clock
        if uses_idle_clock(tracking):
            clock.fit(self.key_count())
        for db in self.dbs:
            stamps = db.access
            if tracking == TRACK_NONE:
                db.access = None
            else:
                db.access = AccessStamps()
            for key in db.data:
                db._created(key)
            if tracking == TRACK_LRU and uses_idle_clock(before) and db.access is not None:
                for key in db.data:
                    db.access.put(key, clock.stamp(key))
            elif before == TRACK_LRU and stamps is not None and uses_idle_clock(tracking):
                for key, stamp in stamps.to_dict().items():
                    clock.set_stamp(key, stamp)

    def used_memory(self) -> int:
        """The estimated bytes of the whole dataset (every database's ``used``)."""
        total = 0
        for db in self.dbs:
            if db.dirty:
                db.settle()
            total += db.used
        return total

    @property
    def hits(self) -> int:
        return sum(db.hits for db in self.dbs)

    @property
    def misses(self) -> int:
        return sum(db.misses for db in self.dbs)

    def reset_stats(self) -> None:
        self.stats.reset()
        for db in self.dbs:
            db.hits = db.misses = 0

    def swap(self, a: int, b: int) -> None:
        da, db = self.dbs[a], self.dbs[b]
        da.data, db.data = db.data, da.data
        da.expires, db.expires = db.expires, da.expires
        da._random_pool = db._random_pool = ()
        da._expire_walk = db._expire_walk = None
        da.field_expiry, db.field_expiry = db.field_expiry, da.field_expiry
        da._field_heap, db._field_heap = db._field_heap, da._field_heap
        da.used, db.used = db.used, da.used
        da.costs, db.costs = db.costs, da.costs
        da.dirty, db.dirty = db.dirty, da.dirty
        da.access, db.access = db.access, da.access

    def scan(
        self,
        db: Database,
        cursor: int,
        count: int,
        pattern: bytes | None,
        type_name: bytes | None,
    ) -> tuple[int, list[bytes]]:
        """One SCAN step: (next cursor, keys).

        Cursor 0 takes a snapshot of the key list; later cursors name the
        snapshot and a position in it.  Every key present for the whole
        iteration is in the snapshot, so it is returned; keys deleted meanwhile
        are skipped.  Only SCAN_SNAPSHOTS iterations are remembered: a cursor
        whose snapshot was forgotten (or never existed) ends the iteration.
        """
        if cursor == 0:
            keys = list(db.data)
            if len(keys) <= count:
                return 0, self._filter(db, keys, pattern, type_name)
            scan_id = self._next_scan_id
            self._next_scan_id = scan_id + 1 if scan_id < 2**31 - 1 else 1
            self._scans[scan_id] = keys
            while len(self._scans) > SCAN_SNAPSHOTS:
                self._scans.popitem(last=False)
            position = 0
        else:
            scan_id = cursor >> _SCAN_POSITION_BITS
            position = cursor & ((1 << _SCAN_POSITION_BITS) - 1)
            found = self._scans.get(scan_id)
            if found is None:
                return 0, []
            keys = found
            self._scans.move_to_end(scan_id)
        batch = keys[position : position + count]
        position += len(batch)
        if position >= len(keys):
            self._scans.pop(scan_id, None)
            next_cursor = 0
        else:
            next_cursor = (scan_id << _SCAN_POSITION_BITS) | position
        return next_cursor, self._filter(db, batch, pattern, type_name)

    @staticmethod
    def _filter(db: Database, keys: list[bytes], pattern: bytes | None, type_name: bytes | None) -> list[bytes]:
        matcher = compile_glob(pattern) if pattern is not None and pattern != b"*" else None
        result = []
        # Redis's SCAN TYPE reads each candidate with a read lookup, counting a hit or miss.
        lookup = db.lookup if type_name is None else db.lookup_read
        data = db.data
        for key in keys:
            if matcher is not None and not matcher(key):
                continue
            present = key in data
            value = lookup(key)
            if value is None:
                # Redis's type check expires a key whose TTL has passed and then names its type
                # "none": SCAN ... TYPE none returns the keys that expired on the way.
                if present and type_name == b"none":
                    result.append(key)
                continue
            if type_name is not None and value_type(value) != type_name:
                continue
            result.append(key)
        return result
