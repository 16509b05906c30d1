"""W-TinyLFU for a store that evicts by sampling: a frequency sketch, an admission window, and the duel.

The policy is the one of Einziger, Friedman and Manes, "TinyLFU: A Highly
Efficient Cache Admission Policy" (ACM ToS 2017), in its W-TinyLFU form as
Caffeine runs it: a new key first lives in a small *window*; when it leaves the
window it must out-score, by estimated frequency, the victim the main region
would give up, or it is the one evicted.  Frequencies are kept for every key
requested (hits and misses alike, cached or not) in a count-min sketch that is
aged by halving, so the history outlives the keys themselves -- that is what
lets a returning popular key back in and keeps one-hit wonders and scans out.

Adapted to sampled eviction (the store has no global LRU lists, it samples
random keys like Redis): the main region's victim is the least frequent of the
sampled keys that are not in the window, instead of the head of Caffeine's
probation queue.  The window is an ``OrderedDict`` in LRU order (~1% of keys).

The sketch (``FrequencySketch``) packs 4-bit saturating counters sixteen to a
64-bit word (``array('Q')``).  A key hashes to one word and uses four of its
counters, one from each group of four, so an increment reads and writes one
word and saturates all four counters at once with bit arithmetic: a "blocked"
count-min sketch of depth 4 (another key of the same word shares all four
counters with probability 1/256).  One word per expected key (8 bytes, the
table a power of two).  Every ``sample_size`` (10 x capacity) counted
increments every counter is halved, by ``bytes.translate`` over 256 KB chunks
spread over the following increments (a whole pass would stall the event loop
for over 10 ms at a million keys).  A doorkeeper (the paper's: one bit per slot, cleared at
each halving) absorbs each key's first request, so keys seen once do not
pollute the counters; it measurably helped in bench/cache/simulate.py.

Aging also adapts to a moving workload.  Caffeine answers one with a hill
climber that resizes the window; here a larger window barely helped (the main
region stayed full of yesterday's keys, whose high counts win every duel until
the next halving).  What does tell a move apart is where the hits land: in a
steady workload almost all hits find their key in the main region, and when the
hot set moves they land in the window instead, while a scan, being all misses,
changes neither share.  So the policy measures, over each period of a tenth of
the key count in accesses, the share of hits that found their key outside the
window, and when that share falls by ``SHARE_DROP`` below its running average it
starts a halving at once (``FrequencySketch.age_soon``).  The average follows
the new level, so a workload that keeps its hot keys in the window does not
keep halving.

When the window is over its share at eviction time, its oldest key is the
candidate; keys that overflowed while nothing was evicted (the cache was
filling) join the main region unopposed, as in Caffeine before it is full.

Invariants:
- ``frequency(key)`` is never below the number of ``increment(key)`` calls since
  the last halving, capped at 15 (count-min only overestimates; the
  doorkeeper's bit can add 1); a halving halves every counter, rounding down.
- Growing the sketch (``ensure_capacity``) doubles the table by copying it, so
  no estimate drops.
- An early halving only starts when none is in progress, and at most one
  starts per measuring period.
- The window holds only keys reported by ``on_insert`` and not since by
  ``on_delete``; ``choose_victim`` returns a sampled key or a window key.
- Pure: no I/O, no clock; randomness only from the ``random.Random`` seeded
  from the constructor's seed.  The sketch uses Python's ``hash`` of the key
  bytes, randomized per process: estimates are reproducible within a process
  only, which is all an in-memory frequency history needs.
"""

import random
import sys
from array import array
from collections import OrderedDict
from typing import Final

MAX_COUNT: Final = 15
# A counter's four bits: increments saturate at 15.
_WORD_BYTES: Final = 8
# Which counters a key uses in its word: the top byte of the hash, above any word-index bits.
_PICK_SHIFT: Final = 56
# Each halving divides every counter by two: one table for bytes.translate (two counters per byte).
_HALVE: Final = bytes(((b >> 5) << 4) | ((b & 15) >> 1) for b in range(256))
# A halving works through the table this many bytes at a time, one step every _HALVE_EVERY counted increments.
_HALVE_CHUNK: Final = 1 << 18
_HALVE_EVERY: Final = 64


def _picks() -> tuple[tuple[int, ...], tuple[tuple[int, int, int, int], ...]]:
    """For the 256 choices of 8 hash bits: the word with a 1 in each chosen counter, and their shifts."""
    increments = []
    shifts = []
    for choice in range(256):
        chosen = tuple((group * 4 + ((choice >> (2 * group)) & 3)) * 4 for group in range(4))
        shifts.append((chosen[0], chosen[1], chosen[2], chosen[3]))
        increments.append(sum(1 << s for s in chosen))
    return tuple(increments), tuple(shifts)


_INCREMENTS, _SHIFTS = _picks()


def _words_for(capacity: int, words_per_key: float) -> int:
    """The table size: a power of two of at least ``words_per_key`` words per expected key."""
    want = max(16, int(capacity * words_per_key))
    return 1 << (want - 1).bit_length()


class FrequencySketch:
    """Estimated request counts of keys, with aging: a 4-bit count-min sketch of depth 4.

    ``doorkeeper`` puts a one-bit-per-slot filter in front (the paper's
    doorkeeper): a key's first request since the last halving only sets its
    bit, so keys seen once do not consume counters; an estimate adds the bit.
    """

    __slots__ = (
        "_table",
        "_mask",
        "_salt",
        "_size",
        "_sample_size",
        "_next_check",
        "_halving_at",
        "_capacity",
        "_words_per_key",
        "_sample_factor",
        "_door",
        "_door_mask",
        "resets",
    )

    def __init__(
        self,
        capacity: int,
        seed: int,
        *,
        words_per_key: float = 1.0,
        doorkeeper: bool = True,
        sample_factor: int = 10,
    ) -> None:
        capacity = max(1, capacity)
        self._words_per_key = words_per_key
        self._capacity = capacity
        words = _words_for(capacity, words_per_key)
        self._table = array("Q", bytes(_WORD_BYTES * words))
        self._mask = words - 1
        # Mixed into the hash so that two sketches (two seeds) do not share their collisions.
        self._salt = random.Random(seed).getrandbits(63)
        self._size = 0
        self._sample_factor = sample_factor
        self._sample_size = sample_factor * capacity
        # The counted increment at which aging next does work, and how far a halving in progress has got.
        self._next_check = self._sample_size
        self._halving_at = -1
        self._door: bytearray | None = bytearray(words) if doorkeeper else None
        self._door_mask = 8 * words - 1
        self.resets = 0

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def sample_size(self) -> int:
        """Increments between two halvings."""
        return self._sample_size

    def increment(self, key: bytes) -> None:
        h = hash(key) ^ self._salt
        door = self._door
        if door is not None:
            bit = (h >> 24) & self._door_mask
            byte = door[bit >> 3]
            if not byte & (1 << (bit & 7)):
                door[bit >> 3] = byte | (1 << (bit & 7))
                return
        table = self._table
        index = h & self._mask
        word = table[index]
        # A 1 at the low bit of every counter that is at 15: those must not be incremented.
        full = word & (word >> 1) & (word >> 2) & (word >> 3)
        add = _INCREMENTS[(h >> _PICK_SHIFT) & 255] & ~full
        if add:
            table[index] = word + add
            self._size += 1
            if self._size >= self._next_check:
                self._age_step()

    def frequency(self, key: bytes) -> int:
        h = hash(key) ^ self._salt
        word = self._table[h & self._mask]
        s0, s1, s2, s3 = _SHIFTS[(h >> _PICK_SHIFT) & 255]
        f = (word >> s0) & 15
        v = (word >> s1) & 15
        if v < f:
            f = v
        v = (word >> s2) & 15
        if v < f:
            f = v
        v = (word >> s3) & 15
        if v < f:
            f = v
        door = self._door
        if door is not None:
            bit = (h >> 24) & self._door_mask
            if door[bit >> 3] & (1 << (bit & 7)):
                f += 1
        return f

    def ensure_capacity(self, capacity: int) -> None:
        """Grow for ``capacity`` keys.  The table doubles by copying itself: a key's new word is a copy of
        its old one (the index gains one high bit), so every estimate is kept."""
        if capacity <= self._capacity:
            return
        while self._halving_at >= 0:  # the copy below must not hold a half-halved table
            self._age_step()
        self._capacity = capacity
        self._sample_size = self._sample_factor * capacity
        if self._halving_at < 0:
            self._next_check = self._sample_size
        words = _words_for(capacity, self._words_per_key)
        table = self._table
        while len(table) < words:
            table = table + table
        self._table = table
        self._mask = len(table) - 1
        door = self._door
        if door is not None:
            while len(door) < len(table):
                door = door + door
            self._door = door
            self._door_mask = 8 * len(door) - 1

    def age_soon(self) -> None:
        """Start a halving at the next counted increment (unless one is under way), in the usual steps."""
        if self._halving_at < 0:
            self._next_check = 0

    def halve(self) -> None:
        """Age the history now: every counter halves, the doorkeeper is cleared."""
        self._halving_at = -1
        self._age_step()
        while self._halving_at >= 0:
            self._age_step()

    def _age_step(self) -> None:
        """One step of aging.  A halving of a large table would stall the event loop (tens of ms for a
        million keys), so it proceeds ``_HALVE_CHUNK`` bytes at a time, one chunk every
        ``_HALVE_EVERY`` counted increments; until it completes, part of the table is halved and part
        not, which only makes some estimates briefly higher."""
        at = self._halving_at
        if at < 0:
            at = 0
            self._size //= 2
            if self._door is not None:
                self._door = bytearray(len(self._door))
            self.resets += 1
        raw = memoryview(self._table).cast("B")
        stop = min(len(raw), at + _HALVE_CHUNK)
        raw[at:stop] = raw[at:stop].tobytes().translate(_HALVE)
        done = stop >= len(raw)
        raw.release()
        if done:
            self._halving_at = -1
            self._next_check = self._sample_size
        else:
            self._halving_at = stop
            self._next_check = self._size + _HALVE_EVERY

    def clear(self) -> None:
        self._table = array("Q", bytes(_WORD_BYTES * len(self._table)))
        if self._door is not None:
            self._door = bytearray(len(self._door))
        self._size = 0
        self._halving_at = -1
        self._next_check = self._sample_size

    def memory_usage(self) -> int:
        door = self._door
        return sys.getsizeof(self._table) + (sys.getsizeof(door) if door is not None else 0)


# A candidate at least this frequent that loses its duel is still admitted, rarely (Caffeine's
# answer to an attacker who keeps a warm victim's estimate high to lock a popular key out).
ADMIT_WARM_THRESHOLD: Final = 6
ADMIT_WARM_ODDS: Final = 128
# Adaptive aging: the hit share of the main region is measured over periods of this fraction of the key
# count in accesses (at least _MIN_PERIOD), and a period lasts until it has seen _MIN_PERIOD_HITS hits (a
# share of a few hits is noise; after a move, hits can become rare).
# A share SHARE_DROP below the running average (which moves SHARE_SMOOTHING of the way to each new share)
# starts a halving.  Chosen with bench/cache/simulate.py: shorter periods reacted sooner and gained on
# the shift trace down to 10% of the keys; the stationary and scan traces never triggered one.
SHARE_PERIOD: Final = 0.1
SHARE_DROP: Final = 0.1
SHARE_SMOOTHING: Final = 0.25
_MIN_PERIOD: Final = 1024
_MIN_PERIOD_HITS: Final = 256
# An OrderedDict node, on top of the dict slot sys.getsizeof already counts.
_WINDOW_NODE_BYTES: Final = 56


class TinyLfu:
    """W-TinyLFU admission over a sampled keyspace (the module docstring says how it is adapted).

    The caller reports every request (``record_access``), every new key
    (``on_insert``) and every departure (``on_delete``), and asks
    ``choose_victim`` for a key to evict when memory is over the limit.
    """

    __slots__ = (
        "sketch",
        "window_fraction",
        "_window",
        "_rng",
        "_keys",
        "_period_left",
        "_hits",
        "_main_hits",
        "_main_share",
        "early_agings",
    )

    def __init__(
        self,
        seed: int,
        window_fraction: float = 0.01,
        *,
        initial_capacity: int = 1024,
        words_per_key: float = 1.0,
        doorkeeper: bool = True,
        sample_factor: int = 10,
    ) -> None:
        self.window_fraction = window_fraction
        self.sketch = FrequencySketch(
            initial_capacity, seed, words_per_key=words_per_key, doorkeeper=doorkeeper, sample_factor=sample_factor
        )
        # Keys that have not yet faced admission, least recently used first.
        self._window: OrderedDict[bytes, None] = OrderedDict()
        self._rng = random.Random(seed)
        # Live keys as counted by on_insert/on_delete (resynchronised by choose_victim's key_count).
        self._keys = 0
        # The current measuring period: accesses still to come, hits, and hits outside the window.
        self._period_left = _MIN_PERIOD
        self._hits = 0
        self._main_hits = 0
        # The running average of the main region's share of hits; negative until a period was judged.
        self._main_share = -1.0
        # Periods whose fall in share called for a halving (one already under way is not restarted).
        self.early_agings = 0

    def window_limit(self, key_count: int) -> int:
        return max(1, int(self.window_fraction * key_count))

    def in_window(self, key: bytes) -> bool:
        return key in self._window

    def window_keys(self) -> list[bytes]:
        """The window, oldest first (for tests and introspection)."""
        return list(self._window)

    def record_access(self, key: bytes, hit: bool = False) -> None:
        """A request of ``key``; ``hit`` when the key was present (a miss's SET then comes as ``on_insert``)."""
        self.sketch.increment(key)
        window = self._window
        if key in window:
            window.move_to_end(key)
        elif hit:
            self._main_hits += 1
        if hit:
            self._hits += 1
        self._period_left -= 1
        if self._period_left <= 0 and self._hits >= _MIN_PERIOD_HITS:
            self._judge_period()

    def _judge_period(self) -> None:
        """End a measuring period: age early if the main region's share of hits fell well below its average."""
        share = self._main_hits / self._hits
        average = self._main_share
        if average < 0:
            self._main_share = share
        else:
            if share < average - SHARE_DROP:
                self.sketch.age_soon()
                self.early_agings += 1
            self._main_share = average + SHARE_SMOOTHING * (share - average)
        self._hits = self._main_hits = 0
        self._period_left = max(_MIN_PERIOD, int(SHARE_PERIOD * self._keys))

    def on_insert(self, key: bytes) -> None:
        window = self._window
        window[key] = None
        window.move_to_end(key)
        keys = self._keys = self._keys + 1
        sketch = self.sketch
        if keys > sketch.capacity:
            sketch.ensure_capacity(keys + keys // 4)
        # While nothing is evicted the window would keep every new key: past twice its share the
        # oldest moves to the main region unopposed, as in Caffeine before the cache is full.
        if len(window) > 2 * self.window_limit(self._keys) + 1:
            window.popitem(last=False)

    def forget_keys(self, count: int) -> None:
        """``count`` keys left together (a flushed database); window keys among them go at their next duel."""
        self._keys = max(0, self._keys - count)

    def on_delete(self, key: bytes) -> None:
        self._window.pop(key, 0)
        if self._keys:
            self._keys -= 1

    def choose_victim(self, sampled: list[bytes], key_count: int) -> bytes | None:
        """The key to evict, from the window's oldest key and the ``sampled`` live keys; None if there is none."""
        self._keys = key_count
        sketch = self.sketch
        if key_count > sketch.capacity:
            sketch.ensure_capacity(key_count)
        window = self._window
        frequency = sketch.frequency
        victim: bytes | None = None
        victim_freq = MAX_COUNT + 2
        in_window: bytes | None = None
        in_window_freq = MAX_COUNT + 2
        for key in sampled:
            f = frequency(key)
            if key in window:
                if f < in_window_freq:
                    in_window, in_window_freq = key, f
            elif f < victim_freq:
                victim, victim_freq = key, f
        limit = self.window_limit(key_count)
        # Keys that overflowed the window while nothing was evicted were admitted unopposed (there was
        # room then); only the latest overflow, the key pushed out by the last insert, faces the duel.
        while len(window) > limit + 1:
            window.popitem(last=False)
        if len(window) > limit:
            candidate = next(iter(window))
            if victim is None:
                return candidate
            candidate_freq = frequency(candidate)
            if candidate_freq > victim_freq or (
                candidate_freq >= ADMIT_WARM_THRESHOLD and self._rng.randrange(ADMIT_WARM_ODDS) == 0
            ):
                # Admitted: the candidate joins the main region and the victim goes.
                del window[candidate]
                return victim
            return candidate
        return victim if victim is not None else in_window

    def clear(self) -> None:
        self._window.clear()
        self.sketch.clear()
        self._keys = 0
        self._period_left = _MIN_PERIOD
        self._hits = self._main_hits = 0
        self._main_share = -1.0

    def memory_usage(self) -> int:
        window = self._window
        return self.sketch.memory_usage() + sys.getsizeof(window) + _WINDOW_NODE_BYTES * len(window)
