"""The hash value type (store/hashes.py), with no engine and no sockets.

A model dict is the oracle for contents; Redis's rules give the encoding
(listpack until hash-max-listpack-entries / -value are crossed, then
hashtable for good) and, for hashes with field TTLs, listpackex's field order.
"""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cacheflow.store import hashes
from cacheflow.store.hashes import NEVER, FieldScans, Hash

ENTRIES = 512
VALUE = 64


def make(*pairs: tuple[bytes, bytes], entries: int = ENTRIES, value: int = VALUE) -> Hash:
    h = Hash()
    for f, v in pairs:
        h.set(f, v, entries, value)
    return h


def test_set_get_delete_and_order() -> None:
    h = Hash()
    assert h.set(b"a", b"1", ENTRIES, VALUE) is True
    assert h.set(b"b", b"2", ENTRIES, VALUE) is True
    assert h.set(b"a", b"3", ENTRIES, VALUE) is False
    assert h.get(b"a") == b"3"
    assert h.get(b"zz") is None
    assert len(h) == 2
    assert h.items() == [(b"a", b"3"), (b"b", b"2")]
    assert h.delete(b"a") is True
    assert h.delete(b"a") is False
    assert h.fields() == [b"b"]
    assert h.values() == [b"2"]
    assert h.flat() == [b"b", b"2"]
    assert h.encoding() == b"listpack"


def test_bytes_that_look_like_separators_round_trip() -> None:
    tricky = [b"", b"\x00", b"\x00\x01", b"\x00\x02", b"\x00\x03", b"a\x00", b"\x01\x00\x02", b"\x00\x00\x01"]
    h = Hash()
    for i, f in enumerate(tricky):
        h.set(f, tricky[-1 - i], ENTRIES, VALUE)
    for i, f in enumerate(tricky):
        assert h.get(f) == tricky[-1 - i]
        assert f in h
    assert h.fields() == tricky
    assert b"\x00\x04" not in h
    for f in tricky[::2]:
        assert h.delete(f)
    assert h.fields() == tricky[1::2]


def test_value_length_threshold_converts_for_good() -> None:
    h = make((b"a", b"x" * VALUE))
    assert h.encoding() == b"listpack"
    h.set(b"b", b"x" * (VALUE + 1), ENTRIES, VALUE)
    assert h.encoding() == b"hashtable"
    h.delete(b"b")
    assert h.encoding() == b"hashtable"
    assert make((b"f" * (VALUE + 1), b"v")).encoding() == b"hashtable"


def test_entry_threshold_converts_after_the_insert() -> None:
    h = make(*[(b"f%d" % i, b"v") for i in range(3)], entries=3)
    assert h.encoding() == b"listpack"
    h.set(b"f0", b"new", 3, VALUE)
    assert h.encoding() == b"listpack"
    h.set(b"f3", b"v", 3, VALUE)
    assert h.encoding() == b"hashtable"
    assert len(h) == 4
    assert make((b"a", b"1"), entries=0).encoding() == b"hashtable"


def test_a_hot_hash_is_unpacked_without_changing_what_it_reports() -> None:
    h = make((b"a", b"1"), (b"b", b"2"))
    for _ in range(20):
        assert h.get(b"a") == b"1"
    assert h._d.__class__ is hashes.Unpacked
    assert h.encoding() == b"listpack"
    h.set(b"c", b"3", ENTRIES, VALUE)
    h.set(b"a", b"9", ENTRIES, VALUE)
    assert h.flat() == [b"a", b"9", b"b", b"2", b"c", b"3"]
    other = h.copy()
    assert isinstance(other._d, bytes)
    assert other.flat() == h.flat()
    h._repack()
    assert isinstance(h._d, bytes)
    assert h.flat() == [b"a", b"9", b"b", b"2", b"c", b"3"]
    assert len(h) == 3


def test_unpacked_hashes_are_bounded() -> None:
    many = [make((b"a", b"1")) for _ in range(hashes.HOT_LIMIT + 10)]
    for h in many:
        for _ in range(10):
            h.get(b"a")
    unpacked = sum(1 for h in many if h._d.__class__ is hashes.Unpacked)
    assert unpacked <= hashes.HOT_LIMIT
    assert all(h.get(b"a") == b"1" for h in many)


def test_unpacked_hash_crosses_the_entry_threshold() -> None:
    h = make((b"a", b"1"), entries=2)
    for _ in range(10):
        h.get(b"a")
    h.set(b"b", b"2", 2, VALUE)
    assert h.encoding() == b"listpack"
    h.set(b"c", b"3", 2, VALUE)
    assert h.encoding() == b"hashtable"
    assert h.items() == [(b"a", b"1"), (b"b", b"2"), (b"c", b"3")]


def test_copy_shares_nothing_mutable() -> None:
    for h in (make((b"a", b"1")), make((b"a", b"x" * 100))):
        h.enable_ttls()
        h.expire_field(b"a", 10_000, hashes.COND_NONE, 0)
        c = h.copy()
        c.set(b"b", b"2", ENTRIES, VALUE)
        c.persist(b"a")
        assert b"b" not in h
        assert h.ttl_of(b"a") == 10_000
        assert c.encoding() == h.encoding()


# -- field TTLs ----------------------------------------------------------------------


def test_expire_field_codes_and_conditions() -> None:
    h = make((b"a", b"1"), (b"b", b"2"))
    now = 1000
    assert h.expire_field(b"nope", 5000, hashes.COND_NONE, now) == hashes.NO_FIELD
    assert h.encoding() == b"listpackex"  # converted even though nothing was set
    assert h.expire_field(b"a", 5000, hashes.COND_XX, now) == hashes.CONDITION_NOT_MET
    assert h.expire_field(b"a", 5000, hashes.COND_GT, now) == hashes.CONDITION_NOT_MET
    assert h.expire_field(b"a", 5000, hashes.COND_LT, now) == hashes.EXPIRE_SET  # no TTL = infinite
    assert h.expire_field(b"a", 6000, hashes.COND_NX, now) == hashes.CONDITION_NOT_MET
    assert h.expire_field(b"a", 5000, hashes.COND_GT, now) == hashes.CONDITION_NOT_MET
    assert h.expire_field(b"a", 6000, hashes.COND_GT, now) == hashes.EXPIRE_SET
    assert h.expire_field(b"a", 6000, hashes.COND_LT, now) == hashes.CONDITION_NOT_MET
    assert h.expire_field(b"a", 4000, hashes.COND_LT, now) == hashes.EXPIRE_SET
    assert h.expire_field(b"a", 4500, hashes.COND_XX, now) == hashes.EXPIRE_SET
    assert h.ttl_of(b"a") == 4500
    assert h.next_expiry == 4500
    assert h.expire_field(b"b", 1000, hashes.COND_NONE, now) == hashes.DELETED  # not in the future
    assert b"b" not in h
    assert h.expire_field(b"b", 9000, hashes.COND_NONE, now) == hashes.NO_FIELD


def test_listpackex_orders_fields_by_expiry() -> None:
    h = make(*[(f, b"v") for f in (b"a", b"b", b"c", b"d")])
    h.expire_field(b"c", 300, hashes.COND_NONE, 0)
    assert h.fields() == [b"c", b"a", b"b", b"d"]
    h.expire_field(b"a", 100, hashes.COND_NONE, 0)
    assert h.fields() == [b"a", b"c", b"b", b"d"]
    h.expire_field(b"d", 300, hashes.COND_NONE, 0)  # ties: the newer one goes first
    assert h.fields() == [b"a", b"d", b"c", b"b"]
    h.persist(b"a")  # a field losing its TTL moves to the end
    assert h.fields() == [b"d", b"c", b"b", b"a"]
    h.set(b"c", b"new", ENTRIES, VALUE)  # so does one overwritten by HSET
    assert h.fields() == [b"d", b"b", b"a", b"c"]
    assert h.ttl_of(b"c") is None
    h.replace_value(b"d", b"9", ENTRIES, VALUE)  # HINCRBY keeps TTL and place
    assert h.fields() == [b"d", b"b", b"a", b"c"]
    assert h.ttl_of(b"d") == 300
    h.set(b"e", b"v", ENTRIES, VALUE)
    assert h.fields()[-1] == b"e"


def test_reclaim_expired_is_strictly_after_the_time() -> None:
    h = make((b"a", b"1"), (b"b", b"2"), (b"c", b"3"))
    h.expire_field(b"b", 200, hashes.COND_NONE, 0)
    h.expire_field(b"a", 100, hashes.COND_NONE, 0)
    assert h.reclaim_expired(100) == []
    assert h.reclaim_expired(201) == [b"a", b"b"]
    assert h.items() == [(b"c", b"3")]
    assert h.next_expiry == NEVER
    assert h.reclaim_expired(10**12) == []


def test_ttls_survive_conversion_to_hashtable() -> None:
    h = make((b"a", b"1"), (b"b", b"2"))
    h.expire_field(b"a", 100, hashes.COND_NONE, 0)
    h.set(b"c", b"x" * 100, ENTRIES, VALUE)
    assert h.encoding() == b"hashtable"
    assert h.ttl_of(b"a") == 100
    assert h.reclaim_expired(101) == [b"a"]
    assert sorted(h.fields()) == [b"b", b"c"]


def test_deleting_a_field_forgets_its_ttl() -> None:
    h = make((b"a", b"1"), (b"b", b"2"))
    h.expire_field(b"a", 100, hashes.COND_NONE, 0)
    h.expire_field(b"b", 200, hashes.COND_NONE, 0)
    h.delete(b"a")
    assert h.next_expiry == 200
    h.set(b"a", b"again", ENTRIES, VALUE)
    assert h.ttl_of(b"a") is None


# -- HSCAN snapshots -------------------------------------------------------------------


def test_field_scans_return_every_field_present_throughout() -> None:
    h = make(*[(b"f%d" % i, b"v") for i in range(100)], entries=10)
    scans = FieldScans()
    seen: list[bytes] = []
    cursor, batch = scans.step(h, 0, 7)
    seen += batch
    h.delete(b"f99")
    h.set(b"new", b"v", 10, VALUE)
    while cursor:
        cursor, batch = scans.step(h, cursor, 7)
        seen += batch
    assert len(seen) == len(set(seen))
    assert set(seen) == {b"f%d" % i for i in range(99)}
    assert scans.step(h, 12345 << 32, 7) == (0, [])


# -- random operations against a model ---------------------------------------------------

OPS = st.lists(
    st.tuples(
        st.sampled_from(["set", "delete", "replace", "expire", "persist", "reclaim", "get"]),
        st.sampled_from([b"a", b"b", b"c", b"\x00", b"d" * 5, b"e" * 9]),
        st.sampled_from([b"1", b"", b"\x00\x02", b"x" * 5, b"y" * 9]),
        st.integers(0, 50),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(ops=OPS, entries=st.sampled_from([0, 2, 4, 512]), value=st.sampled_from([0, 4, 8, 64]))
def test_random_operations_match_a_model(ops: list[tuple[str, bytes, bytes, int]], entries: int, value: int) -> None:
    h = Hash()
    model: dict[bytes, bytes] = {}
    ttl: dict[bytes, int] = {}
    now = 10
    converted = False
    for op, field, val, t in ops:
        if op == "set":
            assert h.set(field, val, entries, value) == (field not in model)
            model[field] = val
            ttl.pop(field, None)
            converted |= len(field) > value or len(val) > value or len(model) > entries
        elif op == "replace":
            h.replace_value(field, val, entries, value)
            model[field] = val
            converted |= len(field) > value or len(val) > value or len(model) > entries
        elif op == "delete":
            assert h.delete(field) == (field in model)
            model.pop(field, None)
            ttl.pop(field, None)
        elif op == "expire":
            code = h.expire_field(field, t, hashes.COND_NONE, now)
            if field not in model:
                assert code == hashes.NO_FIELD
            elif t <= now:
                assert code == hashes.DELETED
                del model[field]
                ttl.pop(field, None)
            else:
                assert code == hashes.EXPIRE_SET
                ttl[field] = t
        elif op == "persist":
            assert h.persist(field) == (field in ttl)
            ttl.pop(field, None)
        elif op == "reclaim":
            now += t
            gone = h.reclaim_expired(now)
            expected = sorted((f for f, at in ttl.items() if at < now), key=ttl.__getitem__)
            assert gone == expected
            for f in gone:
                del model[f]
                del ttl[f]
        else:
            assert h.get(field) == model.get(field)
        assert len(h) == len(model)
        assert dict(h.items()) == model
        assert {f: h.ttl_of(f) for f in ttl} == ttl
        assert h.next_expiry == (min(ttl.values()) if ttl else NEVER)
        assert (h.encoding() == b"hashtable") == converted
        if h.encoding() == b"listpackex":
            fields = h.fields()
            timed = [f for f in fields if f in ttl]
            assert fields[: len(timed)] == timed
            assert [ttl[f] for f in timed] == sorted(ttl[f] for f in timed)


def test_memory_usage_grows_with_contents() -> None:
    small = make((b"a", b"1"))
    big = make(*[(b"f%d" % i, b"v" * 50) for i in range(100)])
    assert 0 < small.memory_usage(5) < big.memory_usage(5)
    table = make(*[(b"f%d" % i, b"v" * 100) for i in range(100)])
    assert table.encoding() == b"hashtable"
    assert table.memory_usage(0) > 100 * 100


@pytest.mark.parametrize("seed", range(3))
def test_fields_of_many_random_sizes(seed: int) -> None:
    rng = random.Random(seed)
    model = {bytes(rng.randrange(256) for _ in range(rng.randrange(10))): b"v%d" % i for i in range(50)}
    h = make(*model.items())
    assert dict(h.items()) == model
    for f, v in model.items():
        assert h.get(f) == v
