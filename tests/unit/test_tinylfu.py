"""W-TinyLFU (cacheflow/store/tinylfu.py): the frequency sketch's guarantees and the admission decisions.

The sketch hashes with Python's per-process randomized ``hash``, so exact
estimates vary between runs; the tests assert what holds for every hash: a
count-min sketch never undercounts, saturates at 15 and halves exactly, and
admission decisions whose frequencies are far apart.
"""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cacheflow.store.tinylfu import ADMIT_WARM_ODDS, MAX_COUNT, FrequencySketch, TinyLfu


def key(i: int) -> bytes:
    return b"key:%d" % i


def all_estimates(sketch: FrequencySketch, keys: list[bytes]) -> list[int]:
    return [sketch.frequency(k) for k in keys]


# -- the sketch ----------------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=2000), st.booleans())
def test_sketch_never_undercounts(requests: list[int], doorkeeper: bool) -> None:
    # 2000 increments stay below the sample size (10 x 1000): no halving happens.
    sketch = FrequencySketch(1000, seed=7, doorkeeper=doorkeeper)
    counts: dict[int, int] = {}
    for i in requests:
        sketch.increment(key(i))
        counts[i] = counts.get(i, 0) + 1
    assert sketch.resets == 0
    for i, n in counts.items():
        assert min(n, MAX_COUNT) <= sketch.frequency(key(i)) <= MAX_COUNT + doorkeeper


@pytest.mark.parametrize("doorkeeper", [False, True])
def test_sketch_counts_exactly_when_alone(doorkeeper: bool) -> None:
    sketch = FrequencySketch(100, seed=1, doorkeeper=doorkeeper)
    assert sketch.frequency(b"k") == 0
    for n in range(1, 16):
        sketch.increment(b"k")
        assert sketch.frequency(b"k") == n


def test_sketch_saturates_at_15() -> None:
    sketch = FrequencySketch(100, seed=1, doorkeeper=False)
    for _ in range(100):
        sketch.increment(b"hot")
    assert sketch.frequency(b"hot") == 15
    # Increments of a saturated key do not advance the aging clock.
    for _ in range(5000):
        sketch.increment(b"hot")
    assert sketch.resets == 0


def test_halving_halves_every_estimate() -> None:
    sketch = FrequencySketch(1000, seed=3, doorkeeper=False)
    rng = random.Random(3)
    keys = [key(i) for i in range(500)]
    for _ in range(3000):
        sketch.increment(keys[min(499, int(rng.paretovariate(1.0))) - 1])
    before = all_estimates(sketch, keys)
    assert max(before) == 15
    sketch.halve()
    # Every counter halves (rounding down), so does the minimum of four.
    assert all_estimates(sketch, keys) == [f // 2 for f in before]
    assert sketch.resets == 1


def test_halving_runs_every_sample_size_increments() -> None:
    sketch = FrequencySketch(50, seed=5, doorkeeper=False)
    assert sketch.sample_size == 500
    for _ in range(15):
        sketch.increment(b"hot")
    n = 0
    while sketch.resets == 0:
        sketch.increment(key(n))
        n += 1
        assert n <= sketch.sample_size
    # Increments that change a counter are counted: the 15 of the hot key and the distinct keys' up to
    # sample_size.  A distinct key whose four counters are all the hot key's saturated ones changes
    # nothing and is not counted, so n can exceed 485 by such rare keys (expected 0.03 of them: its word
    # is the hot key's with odds 1/64, its four picks the same with odds 1/256; Python's hash of bytes,
    # and so which keys collide, changes from process to process).
    assert sketch.sample_size - 15 <= n <= sketch.sample_size - 15 + 3
    assert sketch.frequency(b"hot") <= 7


def test_doorkeeper_absorbs_the_first_request() -> None:
    sketch = FrequencySketch(1000, seed=1, doorkeeper=True)
    sketch.increment(b"once")
    assert sketch.frequency(b"once") >= 1
    for _ in range(20):
        sketch.increment(b"often")
    assert sketch.frequency(b"often") == 16  # 15 in the counters plus the doorkeeper's bit
    sketch.halve()
    assert sketch.frequency(b"often") == 7  # doorkeeper cleared


def test_growing_keeps_every_estimate() -> None:
    sketch = FrequencySketch(200, seed=2)  # 1,200 increments: below the sample size of 2,000
    keys = [key(i) for i in range(300)]
    for i, k in enumerate(keys):
        for _ in range(i % 9):
            sketch.increment(k)
    before = all_estimates(sketch, keys)
    small = sketch.memory_usage()
    sketch.ensure_capacity(5000)
    assert sketch.capacity == 5000 and sketch.sample_size == 50_000
    after = all_estimates(sketch, keys)
    # No estimate drops, and each key keeps at least its true count.
    assert all(a >= b for a, b in zip(after, before))
    assert all(after[i] >= i % 9 for i in range(300))
    assert sketch.memory_usage() > 8 * small
    sketch.ensure_capacity(10)  # never shrinks
    assert sketch.capacity == 5000


def test_sketch_costs_a_few_bytes_per_key() -> None:
    assert FrequencySketch(100_000, seed=1).memory_usage() <= 16 * 100_000
    assert FrequencySketch(100_000, seed=1, doorkeeper=True).memory_usage() <= 24 * 100_000


def test_clear_forgets_everything() -> None:
    sketch = FrequencySketch(100, seed=1, doorkeeper=True)
    for i in range(50):
        sketch.increment(key(i))
        sketch.increment(key(i))
    sketch.clear()
    assert all_estimates(sketch, [key(i) for i in range(50)]) == [0] * 50


# -- admission ------------------------------------------------------------------------------------------


def tiny_with_main(main: list[bytes], window: list[bytes], requests: dict[bytes, int]) -> TinyLfu:
    """A TinyLfu whose main region holds ``main``, whose window holds ``window`` (oldest first), and whose
    keys were each requested ``requests[key]`` times.

    The requests come first (a request moves a window key to the window's young
    end).  With a handful of keys the window's share is 1 key, and new keys push
    the oldest into the main region past three: fillers do that, then leave.
    """
    tiny = TinyLfu(seed=1)
    for k, times in requests.items():
        for _ in range(times):
            tiny.record_access(k)
    fillers = [b"filler:%d" % i for i in range(3)]
    for k in [*main, *fillers]:
        tiny.on_insert(k)
    for f in fillers:
        tiny.on_delete(f)
    for k in window:
        tiny.on_insert(k)
    assert not any(tiny.in_window(k) for k in main)
    assert tiny.window_keys() == window
    return tiny


def touch(tiny: TinyLfu, k: bytes, times: int) -> None:
    for _ in range(times):
        tiny.record_access(k)


def test_frequent_candidate_beats_rare_victim() -> None:
    tiny = tiny_with_main([b"rare", b"warm"], [b"cand", b"new"], {b"rare": 1, b"warm": 4, b"cand": 5})
    # Over the window's share (1 of 4 keys): the oldest window key duels the sample's least frequent.
    assert tiny.choose_victim([b"warm", b"rare"], key_count=4) == b"rare"
    assert not tiny.in_window(b"cand")  # admitted to the main region
    assert tiny.window_keys() == [b"new"]


def test_one_hit_wonder_loses_its_duel() -> None:
    tiny = tiny_with_main([b"a", b"b"], [b"once", b"new"], {b"a": 3, b"b": 8, b"once": 1})
    assert tiny.choose_victim([b"a", b"b"], key_count=4) == b"once"


def test_a_tie_evicts_the_candidate() -> None:
    tiny = tiny_with_main([b"a"], [b"cand", b"new"], {b"a": 3, b"cand": 3})
    assert tiny.choose_victim([b"a"], key_count=3) == b"cand"


def test_a_warm_candidate_that_ties_is_still_admitted_rarely() -> None:
    """Caffeine's defence against an attacker who keeps a victim's estimate as high as a hot candidate's."""
    admitted = 0
    trials = 40 * ADMIT_WARM_ODDS
    tiny = TinyLfu(seed=11)
    for i in range(trials):
        main, cand = b"main:%d" % i, b"cand:%d" % i
        for k in (main, cand):
            touch(tiny, k, 15)
        sketch = tiny.sketch
        if sketch.frequency(main) != sketch.frequency(cand):
            continue
        tiny.on_insert(cand)
        tiny.on_insert(b"new:%d" % i)
        if tiny.choose_victim([main], key_count=2) == main:
            admitted += 1
            tiny.on_delete(main)
        tiny.on_delete(cand)
        tiny.on_delete(b"new:%d" % i)
    assert 10 <= admitted <= 90


def test_under_its_share_the_least_frequent_sampled_main_key_goes() -> None:
    tiny = tiny_with_main([b"a", b"b", b"c"], [b"young"], {b"a": 5, b"b": 2, b"c": 9})
    # The window (1 key) is within its share of 4 keys: no duel, the window key is spared.
    assert tiny.choose_victim([b"young", b"a", b"b", b"c"], key_count=4) == b"b"
    assert tiny.window_keys() == [b"young"]
    # Only window keys sampled: the least frequent of them.
    assert tiny.choose_victim([b"young"], key_count=4) == b"young"


def test_nothing_to_evict() -> None:
    tiny = TinyLfu(seed=1)
    assert tiny.choose_victim([], key_count=0) is None


def test_on_delete_removes_from_the_window() -> None:
    tiny = TinyLfu(seed=1)
    for k in (b"x", b"y", b"z"):
        tiny.on_insert(k)
    tiny.on_delete(b"y")
    tiny.on_delete(b"not-there")
    assert tiny.window_keys() == [b"x", b"z"]
    # Over its share of 2 keys, the window offers its oldest key; never a deleted one.
    assert tiny.choose_victim([], key_count=2) == b"x"
    tiny.on_delete(b"x")
    assert tiny.window_keys() == [b"z"]


def test_window_is_lru() -> None:
    tiny = TinyLfu(seed=1)
    for k in (b"x", b"y", b"z"):
        tiny.on_insert(k)
    tiny.record_access(b"x")
    assert tiny.window_keys() == [b"y", b"z", b"x"]


class Cache:
    """A fixed-capacity cache driven like the server drives TinyLfu: GET, SET on a miss after evicting."""

    def __init__(self, capacity: int, seed: int = 1, window_fraction: float = 0.01) -> None:
        self.tiny = TinyLfu(seed, window_fraction)
        self.capacity = capacity
        self.keys: list[bytes] = []
        self.position: dict[bytes, int] = {}
        self.rng = random.Random(seed)
        self.victims: list[bytes] = []

    def __contains__(self, k: bytes) -> bool:
        return k in self.position

    def request(self, k: bytes) -> bool:
        tiny = self.tiny
        if k in self.position:
            tiny.record_access(k, hit=True)
            return True
        tiny.record_access(k, hit=False)
        keys = self.keys
        while len(keys) >= self.capacity:
            sampled = [keys[self.rng.randrange(len(keys))] for _ in range(5)]
            victim = tiny.choose_victim(sampled, len(keys))
            assert victim is not None and victim in self.position
            i = self.position.pop(victim)
            last = keys.pop()
            if last != victim:
                keys[i] = last
                self.position[last] = i
            tiny.on_delete(victim)
            self.victims.append(victim)
            assert len(tiny.window_keys()) <= tiny.window_limit(len(keys) + 1) + 1
        self.position[k] = len(keys)
        keys.append(k)
        tiny.on_insert(k)
        return False


def test_scan_keys_are_rejected() -> None:
    cache = Cache(200)
    hot = [b"hot:%d" % i for i in range(150)]
    for _ in range(8):
        for k in hot:
            cache.request(k)
    assert all(k in cache for k in hot)
    # A scan of new keys interleaved with the hot set: 300 distinct keys between two requests of a hot
    # key, more than the cache holds, so LRU would miss every time.  Scan keys pass through the window
    # and out again.
    hits = 0
    for i in range(6000):
        cache.request(b"scan:%d" % i)
        hits += cache.request(hot[i % len(hot)])
    assert hits >= 0.99 * 6000
    # A hot key can still lose now and then: to a scan key whose estimate collides upwards, or, back in
    # the window after that, in a tie with a sample of hot keys only.
    assert sum(k in cache for k in hot) >= 145
    assert sum(k.startswith(b"scan:") for k in cache.keys) <= 55
    # A scan is all misses: it leaves the main region's share of hits alone, and the history stays.
    assert cache.tiny.early_agings == 0


def test_one_hit_wonders_do_not_displace_the_working_set() -> None:
    cache = Cache(100)
    rng = random.Random(5)
    hot = [b"hot:%d" % i for i in range(80)]
    hits = 0
    for i in range(20_000):
        if i % 2:
            hits += cache.request(hot[rng.randrange(len(hot))])
        else:
            cache.request(b"once:%d" % i)
    # The hot set fits: past its first requests nearly every hot request hits.
    assert hits >= 0.97 * 10_000
    assert all(k in cache for k in hot)


def test_window_stays_near_its_share_while_filling() -> None:
    tiny = TinyLfu(seed=1, window_fraction=0.01)
    for i in range(10_000):
        tiny.on_insert(key(i))
        assert len(tiny.window_keys()) <= 2 * tiny.window_limit(i + 1) + 1
    assert len(tiny.window_keys()) >= tiny.window_limit(10_000)
    # The sketch grew with the keys.
    assert tiny.sketch.capacity >= 10_000


# -- adaptive aging -------------------------------------------------------------------------------------


def tiny_with_regions(main_keys: int) -> tuple[TinyLfu, list[bytes], list[bytes]]:
    """A TinyLfu that saw ``main_keys`` new keys: the oldest have left the window for the main region."""
    tiny = TinyLfu(seed=1)
    keys = [key(i) for i in range(main_keys)]
    for k in keys:
        tiny.on_insert(k)
    window = tiny.window_keys()
    main = [k for k in keys if not tiny.in_window(k)]
    assert len(window) >= 10 and len(main) > 0.9 * main_keys
    return tiny, main, window


def test_hits_moving_to_the_window_age_the_sketch_early() -> None:
    """The hot set moved: the main region holds yesterday's keys and hits land in the window."""
    tiny, main, window = tiny_with_regions(2000)
    rng = random.Random(3)
    for _ in range(10_000):
        tiny.record_access(main[rng.randrange(len(main))], hit=True)
    for i in range(10_000):  # misses only, as in a scan: no hit, no judgement
        tiny.record_access(b"scan:%d" % i, hit=False)
    assert tiny.early_agings == 0
    assert tiny.sketch.resets == 0  # the regular halving is far off (10 x keys increments)
    for _ in range(3_000):
        tiny.record_access(window[rng.randrange(len(window))], hit=True)
    assert tiny.early_agings >= 1
    assert tiny.sketch.resets >= 1


def test_a_steady_share_of_window_hits_does_not_keep_aging() -> None:
    """A workload whose hot keys live in the window: the running average settles there, and aging stops."""
    tiny, main, window = tiny_with_regions(2000)
    rng = random.Random(4)

    def requests(count: int, window_share: float) -> None:
        for _ in range(count):
            region = window if rng.random() < window_share else main
            tiny.record_access(region[rng.randrange(len(region))], hit=True)

    requests(10_000, 0.0)
    # The move: the average comes down from 1.0 by a quarter of the gap a period, so it takes about seven
    # periods to get within SHARE_DROP of 0.5, each of them aging.
    requests(10_000, 0.5)
    settled = tiny.early_agings
    assert 1 <= settled <= 8
    requests(50_000, 0.5)  # about fifty periods at the new level
    assert tiny.early_agings == settled


def test_victims_are_deterministic_for_a_seed() -> None:
    def run(seed: int) -> list[bytes]:
        cache = Cache(50, seed=seed)
        rng = random.Random(99)
        for _ in range(3000):
            cache.request(key(min(999, int(rng.paretovariate(0.8)))))
            cache.request(key(rng.randrange(1000)))
        return cache.victims

    first = run(4)
    assert len(first) > 2000
    assert run(4) == first


def test_clear_empties_window_and_sketch() -> None:
    tiny = TinyLfu(seed=1)
    baseline = tiny.memory_usage()
    for i in range(500):
        tiny.on_insert(key(i))
        touch(tiny, key(i), 3)
    assert tiny.memory_usage() > baseline
    tiny.clear()
    assert tiny.window_keys() == []
    assert all(tiny.sketch.frequency(key(i)) == 0 for i in range(500))
    assert tiny.choose_victim([], key_count=0) is None


def test_memory_usage_counts_sketch_and_window() -> None:
    tiny = TinyLfu(seed=1)
    before = tiny.memory_usage()
    for i in range(10):
        tiny.on_insert(key(i))
    assert tiny.memory_usage() > before
