"""The idle clock (store/idle_clock.py): stamps survive growth, and idle times are never overstated."""

from hypothesis import given
from hypothesis import strategies as st

from cacheflow.store.clock import ManualClock
from cacheflow.store.idle_clock import MIN_SLOTS, IdleClock
from cacheflow.store.keyspace import Keyspace

keys = st.binary(min_size=0, max_size=8)


@given(st.lists(st.tuples(keys, st.integers(0, 3)), min_size=1, max_size=200), st.integers(0, 4 * MIN_SLOTS))
def test_a_key_never_looks_idler_than_it_is_across_growth(accesses: list[tuple[bytes, int]], grow_to: int) -> None:
    """Time only moves forward, so a slot's stamp is at least that of the last access of any key in it."""
    clock = IdleClock(1000)
    last: dict[bytes, int] = {}
    now = 1000
    for i, (key, step) in enumerate(accesses):
        now += step
        clock.tick(now)
        clock.touch(key)
        last[key] = now
        if i == len(accesses) // 2:
            clock.fit(grow_to)
    for key, at in last.items():
        assert clock.stamp(key) >= at


def test_keys_in_distinct_slots_keep_exact_stamps_through_growth() -> None:
    clock = IdleClock(0)
    mask = MIN_SLOTS - 1
    spread: dict[int, bytes] = {}
    for i in range(5000):
        key = b"key:%d" % i
        spread.setdefault(hash(key) & mask, key)
    for n, key in enumerate(spread.values()):
        clock.set_stamp(key, n)
    clock.fit(10 * MIN_SLOTS)
    assert len(clock.stamps) == 16 * MIN_SLOTS
    assert [clock.stamp(key) for key in spread.values()] == list(range(len(spread)))


def test_fit_keeps_more_slots_than_keys_and_never_shrinks() -> None:
    clock = IdleClock(0)
    clock.fit(MIN_SLOTS)
    assert len(clock.stamps) == 2 * MIN_SLOTS and clock.mask == 2 * MIN_SLOTS - 1
    clock.fit(3)
    assert len(clock.stamps) == 2 * MIN_SLOTS


def test_the_keyspace_grows_the_table_as_keys_are_created() -> None:
    ks = Keyspace(2, ManualClock())
    for i in range(MIN_SLOTS + 10):
        ks.dbs[i % 2].set(b"k%d" % i, b"v")
    assert len(ks.idle_clock.stamps) > ks.key_count()


def test_stamps_share_one_int_per_clock_tick() -> None:
    """Growth or many keys must not cost an int object per slot: slots hold the tick's object."""
    clock = IdleClock(0)
    clock.tick(12345678)
    for i in range(100):
        clock.touch(b"k%d" % i)
    assert len({id(clock.stamps[hash(b"k%d" % i) & clock.mask]) for i in range(100)}) == 1
