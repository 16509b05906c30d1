"""Eviction policies on small crafted keyspaces with a manual clock (store/eviction.py), and the
running memory estimate (Database.used) kept by the write primitives."""

import random
from collections import Counter

import pytest
from engine_harness import Harness

from cacheflow.store.clock import ManualClock
from cacheflow.store.eviction import (
    ACCESS_SHARDS,
    LFU_INIT_VAL,
    SHARDED_SAMPLING_MIN,
    TRACK_LFU,
    TRACK_LRU,
    TRACK_NONE,
    AccessStamps,
    eviction_time_limit_us,
    lfu_decayed,
    lfu_log_incr,
)
from cacheflow.store.hashes import Hash
from cacheflow.store.keyspace import SETTLE_BATCH, Keyspace


def keyspace(policy: str, samples: int = 10) -> tuple[Keyspace, ManualClock]:
    clock = ManualClock()
    ks = Keyspace(4, clock, seed=7)
    ks.evictor.configure(policy, samples, 10, 1, 10)
    return ks, clock


def evict_order(ks: Keyspace, n: int) -> list[bytes]:
    out = []
    for _ in range(n):
        found = ks.evictor.victim()
        assert found is not None
        db, key = found
        db.remove(key, db.data[key])
        out.append(key)
    return out


def test_allkeys_lru_evicts_the_least_recently_used_first() -> None:
    ks, clock = keyspace("allkeys-lru")
    db = ks.dbs[0]
    for i in range(6):
        db.set(b"k%d" % i, b"v")
        clock.advance(10_000)
        ks.refresh_lru_clock()
    db.lookup_read(b"k0")  # k0 becomes the most recent
    assert evict_order(ks, 5) == [b"k1", b"k2", b"k3", b"k4", b"k5"]
    assert list(db.data) == [b"k0"]


def test_lru_idle_time_and_notouch_lookups() -> None:
    ks, clock = keyspace("allkeys-lru")
    db = ks.dbs[0]
    db.set(b"a", b"1")
    clock.advance(5_000)
    ks.refresh_lru_clock()
    db.lookup_read_notouch(b"a")  # TYPE, TTL, OBJECT: no touch
    assert ks.evictor.idle_seconds(db, b"a") == 5
    db.lookup_read(b"a")
    assert ks.evictor.idle_seconds(db, b"a") == 0


def test_volatile_policies_never_evict_keys_without_ttl() -> None:
    for policy in ("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"):
        ks, clock = keyspace(policy)
        db = ks.dbs[0]
        for i in range(5):
            db.set(b"plain%d" % i, b"v")
        db.set(b"t1", b"v", clock.ms + 50_000)
        db.set(b"t2", b"v", clock.ms + 10_000)
        evicted = evict_order(ks, 2)
        assert sorted(evicted) == [b"t1", b"t2"], policy
        assert ks.evictor.victim() is None, policy  # nothing volatile is left
        assert len(db) == 5


def test_volatile_ttl_evicts_the_soonest_expiring_first() -> None:
    ks, clock = keyspace("volatile-ttl")
    db = ks.dbs[1]
    for i, ttl in enumerate([30, 10, 50, 20, 40]):
        db.set(b"k%d" % i, b"v", clock.ms + ttl * 1000)
    assert evict_order(ks, 5) == [b"k1", b"k3", b"k0", b"k4", b"k2"]


def test_allkeys_lfu_evicts_the_least_frequently_used() -> None:
    ks, _clock = keyspace("allkeys-lfu")
    db = ks.dbs[0]
    for i in range(4):
        db.set(b"k%d" % i, b"v")
    for i in range(4):
        for _ in range(200 * i):  # k3 most often, k0 never read
            db.lookup_read(b"k%d" % i)
    freqs = [ks.evictor.frequency(db, b"k%d" % i) for i in range(4)]
    assert freqs[0] == LFU_INIT_VAL and freqs == sorted(freqs) and freqs[3] > freqs[1]
    assert evict_order(ks, 3) == [b"k0", b"k1", b"k2"]


def test_lfu_counter_math_matches_redis() -> None:
    assert lfu_log_incr(255, 10, 0.0) == 255
    assert lfu_log_incr(3, 10, 0.99) == 4  # below LFU_INIT_VAL it always grows
    assert lfu_log_incr(15, 10, 0.5) == 15  # p = 1/101
    assert lfu_log_incr(15, 10, 0.005) == 16
    packed = (100 << 8) | 20
    assert lfu_decayed(packed, 100, 1) == 20
    assert lfu_decayed(packed, 105, 1) == 15
    assert lfu_decayed(packed, 105, 2) == 18
    assert lfu_decayed(packed, 200, 1) == 0
    assert lfu_decayed(packed, 105, 0) == 20
    assert lfu_decayed((65530 << 8) | 20, 4, 1) == 11  # the 16-bit minute clock wrapped


def test_lfu_counters_decay_with_time() -> None:
    ks, clock = keyspace("allkeys-lfu")
    db = ks.dbs[0]
    db.set(b"k", b"v")
    for _ in range(100):
        db.lookup_read(b"k")
    before = ks.evictor.frequency(db, b"k")
    clock.advance(3 * 60_000)
    ks.refresh_lru_clock()
    assert ks.evictor.frequency(db, b"k") == max(0, before - 3)


def test_random_and_noeviction() -> None:
    ks, _ = keyspace("noeviction")
    ks.dbs[0].set(b"k", b"v")
    assert ks.evictor.victim() is None
    ks, _ = keyspace("allkeys-random")
    for i in range(20):
        ks.dbs[i % 2].set(b"k%d" % i, b"v")
    seen = set(evict_order(ks, 20))
    assert len(seen) == 20 and not ks.dbs[0].data and not ks.dbs[1].data


def test_access_data_exists_only_under_lru_lfu_and_tinylfu() -> None:
    ks, _ = keyspace("allkeys-lru")
    ks.dbs[0].set(b"k", b"v")
    assert (
        ks.tracking == TRACK_LRU and ks.dbs[0].access is not None and ks.dbs[0].access.to_dict() == {b"k": ks.lru_clock}
    )
    ks.evictor.configure("allkeys-lfu", 5, 10, 1, 10)
    assert ks.tracking == TRACK_LFU and ks.dbs[0].access is not None and ks.dbs[0].access.get(b"k") is not None
    ks.evictor.configure("allkeys-tinylfu", 5, 10, 1, 10)  # keys only, to sample: frequencies are in the sketch
    assert ks.dbs[0].access is not None and ks.dbs[0].access.to_dict() == {b"k": 0}
    ks.dbs[0].set(b"new", b"v")
    assert ks.dbs[0].access.to_dict() == {b"k": 0, b"new": 0}
    ks.evictor.configure("allkeys-random", 5, 10, 1, 10)
    assert ks.tracking == TRACK_NONE and ks.dbs[0].access is None


def test_access_stamps_spread_keys_over_shards_and_forget_them() -> None:
    stamps = AccessStamps()
    for i in range(2000):
        stamps.put(b"k%d" % i, i)
    assert len(stamps) == 2000 and stamps.get(b"k7") == 7 and stamps.get(b"nope") is None
    # No shard holds much more than its share: a resize of one is a small stop.
    assert max(len(shard) for shard in stamps.shards) < 3 * 2000 // ACCESS_SHARDS
    for i in range(0, 2000, 2):
        stamps.discard(b"k%d" % i)
    stamps.discard(b"never-there")
    assert stamps.to_dict() == {b"k%d" % i: i for i in range(1, 2000, 2)}


def test_access_stamps_sample_every_key_alike_and_never_a_deleted_one() -> None:
    stamps = AccessStamps()
    rng = random.Random(3)
    n = 2 * SHARDED_SAMPLING_MIN
    for i in range(n):
        stamps.put(b"k%d" % i, 0)
    for _ in range(2000):  # snapshots of the shards get taken
        assert len(stamps.sample(5, rng)) == 5
    for i in range(n // 2, n):
        stamps.discard(b"k%d" % i)
    drawn: Counter[bytes] = Counter()
    rounds = 40 * n
    for _ in range(rounds):
        drawn.update(stamps.sample(5, rng))
    # Deleted keys are never handed out.  A shard is picked alike, then a key of it: a key's
    # share is 1 / (ACCESS_SHARDS * its shard's size), which hashing keeps near 1 / keys.
    assert set(drawn) == {b"k%d" % i for i in range(n // 2)}
    for shard in stamps.shards:
        for key in shard:
            expected = rounds * 5 / ACCESS_SHARDS / len(shard)
            assert 0.6 * expected < drawn[key] < 1.5 * expected, (key, drawn[key], expected)


def test_keys_loaded_wholesale_are_tracked_and_evictable() -> None:
    """A dataset put in place by RDB load (Database.recount) counts as accessed now, as Redis's
    freshly loaded keys do; were they missing from the access data, allkeys-lru could not sample them."""
    ks, _ = keyspace("allkeys-lru", samples=3)
    db = ks.dbs[0]
    n = 2 * SHARDED_SAMPLING_MIN
    db.data = {b"k%d" % i: b"v" for i in range(n)}
    db.recount()
    assert db.access is not None and db.access.to_dict() == dict.fromkeys(db.data, ks.lru_clock)
    assert sorted(evict_order(ks, n)) == sorted(b"k%d" % i for i in range(n))
    assert not db.data and not db.access.to_dict()


def test_a_flush_leaves_nothing_behind_in_the_policy() -> None:
    """Found by bench-cache: FLUSHALL left TinyLFU counting the old keys, so refilling grew its
    sketch for twice the keys (2 MB, not 1, at 100,000 keys) and the cache held 11% fewer."""
    ks, _ = keyspace("allkeys-tinylfu")
    tiny = ks.evictor.tinylfu
    assert tiny is not None
    for round_ in range(3):
        for i in range(5000):
            ks.dbs[i % 2].set(b"r%d:%d" % (round_, i), b"v")
        ks.evictor.victim()
        for db in ks.dbs:
            db.clear()
    for i in range(5000):
        ks.dbs[0].set(b"k%d" % i, b"v")
    assert tiny.sketch.capacity < 2 * 5000
    ks.dbs[1].set(b"other", b"v")
    ks.dbs[0].clear()  # one database of two: the sampler's snapshot of it goes, the key count drops
    assert ks.evictor.victim() == (ks.dbs[1], b"other")


def test_eviction_time_limit_follows_tenacity() -> None:
    assert eviction_time_limit_us(0) == 0
    assert eviction_time_limit_us(10) == 500
    assert eviction_time_limit_us(11) == 575
    assert eviction_time_limit_us(100) > 10**15


def recount_of(ks: Keyspace, index: int) -> int:
    db = ks.dbs[index]
    kept = db.used
    db.recount()
    fresh = db.used
    db.used = kept
    return fresh


@pytest.mark.parametrize("policy", ["noeviction", "allkeys-lru"])
def test_running_estimate_equals_a_recount_after_every_kind_of_write(policy: str) -> None:
    ks, clock = keyspace(policy)
    db = ks.dbs[0]
    assert db.used == 0
    db.set(b"a", b"x" * 100)
    db.set(b"a", b"y" * 10)  # replaced
    db.set(b"b", b"v", clock.ms + 1000)  # with a TTL
    db.set_expire(b"a", clock.ms + 5000)
    db.persist(b"a")
    db.set_keep_ttl(b"b", b"longer value")
    h = Hash()
    db.set(b"h", h)
    h.set(b"f", b"v" * 50, 128, 64)  # in place: the engine re-measures after the command
    db.touch_written(b"h")
    db.settle()
    assert db.used == recount_of(ks, 0)
    db.delete(b"a")
    db.pop(b"h")
    clock.advance(2000)
    assert db.lookup(b"b") is None  # expired lazily
    assert db.used == 0
    db.set(b"x", b"1")
    ks.swap(0, 1)
    assert ks.dbs[0].used == 0 and ks.dbs[1].used == recount_of(ks, 1)
    ks.dbs[1].clear()
    assert ks.used_memory() == 0


def test_engine_keeps_the_estimate_true_through_every_kind_of_command() -> None:
    """The engine re-measures in-place changes by effect name; whole-value writes are skipped
    by name too, so mixed spellings and strings replacing collections must still add up."""
    h = Harness()
    db = h.keyspace.dbs[0]
    script: list[tuple[str, ...]] = [
        ("HSET", "h", "f", "v"),
        ("hSeT", "h", "g", "w" * 300),  # an unusual spelling of an in-place write
        ("RPUSH", "l", *["x" * 40] * 20),
        ("sadd", "s", "a", "b", "c"),
        ("ZADD", "z", "1", "m", "2", "n"),
        ("SET", "str", "v"),
        ("APPEND", "str", "y" * 500),  # may edit a string in place
        ("SETRANGE", "str", "1000", "z"),
        ("SETBIT", "bits", "10000", "1"),
        ("PFADD", "hll", "a", "b"),
        ("Set", "h", "a string replacing a hash"),
        ("mSeT", "l", "another", "s", "and another"),
        ("INCR", "n"),
        ("INCRBYFLOAT", "n", "1.5"),
        ("HSET", "h2", "f", "v"),
        ("HINCRBY", "h2", "f2", "7"),
        ("LPUSH", "l2", "a"),
        ("LMOVE", "l2", "l3", "LEFT", "RIGHT"),
        ("COPY", "z", "z2"),
        ("ZINCRBY", "z2", "5", "q" * 100),
        ("RENAME", "z2", "z3"),
        ("SUNIONSTORE", "s2", "s", "s"),
        ("GETDEL", "str"),
        ("DEL", "h2"),
        ("EXPIRE", "z3", "100"),
    ]
    for argv in script:
        h(*argv)
        db.settle()
        settled = db.used
        db.recount()
        assert settled == db.used, argv


def test_writes_to_many_collections_settle_in_bounded_batches() -> None:
    """A stream of writes to new collections never leaves more than SETTLE_BATCH of them unmeasured (the
    cron's settle measured 48 ms of them in one tick), and the running estimate stays exact."""
    h = Harness()
    db = h.keyspace.dbs[0]
    most = 0
    for i in range(3 * SETTLE_BATCH + 7):
        h("HSET", f"h:{i}", "f", "v" * (i % 50))
        most = max(most, len(db.dirty))
    assert most == SETTLE_BATCH - 1
    # One pipeline of writes to one collection still waits for a single measure.
    for i in range(100):
        h("RPUSH", "list", f"element {i}")
    assert b"list" in db.dirty
    db.settle()
    settled = db.used
    db.recount()
    assert settled == db.used
