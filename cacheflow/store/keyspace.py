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
- Hashes with per-field TTLs are scheduled in ``field_expiry`` (key -> the
  time its hash's earliest field TTL passes); the active cycle's
  ``expire_fields_step`` reclaims their expired fields and reports them to
  ``Keyspace.on_fields_expired`` (an ``HDEL`` write effect).
"""

import heapq
import random
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sized
from typing import Final

from cacheflow.store.clock import Clock
from cacheflow.store.glob import compile_glob

# How many SCAN iterations may be in flight at once before the oldest is forgotten.
SCAN_SNAPSHOTS: Final = 64
_SCAN_POSITION_BITS: Final = 32


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
    )

    def __init__(self, index: int, keyspace: "Keyspace") -> None:
        self.index = index
        self.data: dict[bytes, object] = {}
        self.expires: dict[bytes, int] = {}
        self._ks = keyspace
        # keyspace_hits/misses, per database so the read path touches one object; summed by Keyspace.
        self.hits = 0
        self.misses = 0
        self._random_pool: list[bytes] = []
        self._expire_walk: Iterator[bytes] | None = None
        # Hashes with field TTLs: key -> when to visit it, plus a heap of (time, key) whose
        # entries are live only while they match field_expiry (older ones are skipped).
        self.field_expiry: dict[bytes, int] = {}
        self._field_heap: list[tuple[int, bytes]] = []

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

    def exists(self, key: bytes) -> bool:
        return self.lookup(key) is not None

    def expire_time(self, key: bytes) -> int | None:
        """Absolute expiry in ms of a live key, or None when it has none (or is missing)."""
        return self.expires.get(key)

    # -- writes --------------------------------------------------------------

    def set(self, key: bytes, value: object, expire_at: int | None = None) -> None:
        """Store ``value``, replacing any TTL with ``expire_at`` (None: persistent)."""
        self.data[key] = value
        if expire_at is None:
            if self.expires:
                self.expires.pop(key, None)
        else:
            self.expires[key] = expire_at

    def set_keep_ttl(self, key: bytes, value: object) -> None:
        self.data[key] = value

    def delete(self, key: bytes) -> bool:
        """Remove a live key; True when something was removed."""
        if self.lookup(key) is None:
            return False
        del self.data[key]
        if self.expires:
            self.expires.pop(key, None)
        return True

    def delete_if_empty(self, key: bytes, value: Sized) -> bool:
        """Delete ``key`` when ``value``, the collection a command just shrank there, is empty; True if so.

        The one place that keeps "a database never holds an empty collection".
        The key was looked up by the same command, so it is live: no expiry check.
        """
        if len(value):
            return False
        del self.data[key]
        if self.expires:
            self.expires.pop(key, None)
        return True

    def pop(self, key: bytes) -> object | None:
        """Remove and return a live key's value."""
        value = self.lookup(key)
        if value is not None:
            del self.data[key]
            if self.expires:
                self.expires.pop(key, None)
        return value

    def set_expire(self, key: bytes, at_ms: int) -> None:
        self.expires[key] = at_ms

    def persist(self, key: bytes) -> bool:
        return self.expires.pop(key, None) is not None

    def clear(self) -> int:
        removed = len(self.data)
        self.data = {}
        self.expires = {}
        self._random_pool = []
        self._expire_walk = None
        self.field_expiry = {}
        self._field_heap = []
        return removed

    # -- expiry --------------------------------------------------------------

    def _expire(self, key: bytes) -> None:
        del self.data[key]
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
                    del self.data[key]
                    if key_at is not None:
                        del self.expires[key]
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
                pool = self._random_pool = list(data)
            for _ in range(16):
                key = pool[rng.randrange(len(pool))]
                if key in data and self.lookup(key) is not None:
                    return key
            self._random_pool = []
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

    __slots__ = ("dbs", "clock", "stats", "on_expired", "on_fields_expired", "rng", "_scans", "_next_scan_id")

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
        da._random_pool = db._random_pool = []
        da._expire_walk = db._expire_walk = None
        da.field_expiry, db.field_expiry = db.field_expiry, da.field_expiry
        da._field_heap, db._field_heap = db._field_heap, da._field_heap

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
