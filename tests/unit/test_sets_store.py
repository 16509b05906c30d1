"""The set value type on its own: encodings and their switch, members, random picks, scanning."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cacheflow.store.sets import SetValue, int_member


def build(*members: bytes | str, max_intset: int = 512) -> SetValue:
    value = SetValue()
    value.add([m if isinstance(m, bytes) else m.encode() for m in members], max_intset)
    return value


# -- integers in canonical form --------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"0", 0),
        (b"-1", -1),
        (b"17", 17),
        (b"9223372036854775807", 2**63 - 1),
        (b"-9223372036854775808", -(2**63)),
        (b"9223372036854775808", None),
        (b"-9223372036854775809", None),
        (b"01", None),
        (b"-0", None),
        (b"+1", None),
        (b" 1", None),
        (b"1 ", None),
        (b"1_0", None),
        (b"", None),
        (b"-", None),
        (b"1.0", None),
        (b"abc", None),
        (b"0x10", None),
        (b"\xd9\xa1", None),
        (b"123456789012345678901", None),
    ],
)
def test_int_member_accepts_only_string2ll_forms(raw: bytes, expected: int | None) -> None:
    assert int_member(raw) == expected


# -- encodings ------------------------------------------------------------------------------


def test_integers_make_an_intset_iterated_in_ascending_order() -> None:
    value = build("5", "-3", "100000", "2")
    assert value.encoding() == b"intset"
    assert value.members() == [b"-3", b"2", b"5", b"100000"]
    assert list(value) == value.members()
    assert len(value) == 4


@pytest.mark.parametrize("extreme", [b"32767", b"-32769", b"2147483648", b"-9223372036854775808"])
def test_intset_widens_for_large_values_and_keeps_all_members(extreme: bytes) -> None:
    value = build("1", "2", "3")
    value.add([extreme], 512)
    assert value.encoding() == b"intset"
    assert len(value) == 4
    assert extreme in value
    assert value.members() == sorted([b"1", b"2", b"3", extreme], key=int)
    value.remove([extreme])
    assert value.members() == [b"1", b"2", b"3"]


def test_a_non_integer_member_converts_for_good() -> None:
    value = build("1", "2")
    assert value.add([b"3", b"x"], 512) == 2
    assert value.encoding() == b"hashtable"
    value.remove([b"x"])
    assert value.encoding() == b"hashtable"
    assert sorted(value.members()) == [b"1", b"2", b"3"]


@pytest.mark.parametrize("member", [b"01", b"-0", b"+5", b"9223372036854775808", b" 1"])
def test_non_canonical_numbers_are_strings(member: bytes) -> None:
    value = build(member)
    assert value.encoding() == b"hashtable"
    assert member in value
    assert value.members() == [member]


def test_more_members_than_the_threshold_convert() -> None:
    value = build("1", "2", max_intset=2)
    assert value.encoding() == b"intset"
    assert value.add([b"2"], 2) == 0  # nothing new: no conversion check
    assert value.encoding() == b"intset"
    assert value.add([b"3"], 2) == 1
    assert value.encoding() == b"hashtable"


def test_a_lowered_threshold_converts_only_on_the_next_real_addition() -> None:
    value = build("1", "2", "3")
    assert value.add([b"3"], 0) == 0
    assert value.encoding() == b"intset"
    assert value.add([b"4"], 0) == 1
    assert value.encoding() == b"hashtable"


def test_threshold_zero_makes_every_set_a_hashtable() -> None:
    assert build("5", max_intset=0).encoding() == b"hashtable"


def test_the_threshold_is_capped_at_2_to_the_30() -> None:
    value = build("1", max_intset=2**62)
    assert value.encoding() == b"intset"


@pytest.mark.parametrize(
    ("members", "max_intset", "encoding"),
    [
        ([b"3", b"1", b"3"], 512, b"intset"),
        ([b"1", b"a"], 512, b"hashtable"),
        ([b"1", b"2", b"3"], 2, b"hashtable"),
        ([b"1", b"2", b"2"], 2, b"intset"),
    ],
)
def test_from_members_encodes_as_a_set_built_by_adding(members: list[bytes], max_intset: int, encoding: bytes) -> None:
    built = SetValue.from_members(members, max_intset)
    added = SetValue()
    added.add(members, max_intset)
    assert built.encoding() == added.encoding() == encoding
    assert sorted(built.members()) == sorted(added.members()) == sorted(set(members))


# -- membership, removal ---------------------------------------------------------------------


def test_membership_and_removal_in_both_encodings() -> None:
    for value, rest in ((build("1", "2", "3"), 2), (build("1", "2", "3", "x"), 3)):
        assert b"2" in value
        assert b"02" not in value
        assert b"nope" not in value
        assert value.remove([b"2", b"2", b"nope", b"9"]) == 1
        assert b"2" not in value
        assert value.remove([b"1", b"3", b"x"]) == rest
        assert len(value) == 0
    value = build("a", "b", "c")
    assert value.remove([b"a", b"b", b"c"]) == 3
    assert len(value) == 0


def test_hashtable_positions_stay_consistent_after_removals() -> None:
    value = build(*[b"m%d" % i for i in range(50)])
    value.remove([b"m%d" % i for i in range(0, 50, 3)])
    remaining = [b"m%d" % i for i in range(50) if i % 3]
    assert sorted(value.members()) == sorted(remaining)
    assert all(m in value for m in remaining)
    assert value.add([b"m0", b"m1"], 512) == 1


def test_copy_shares_nothing_mutable() -> None:
    for original in (build("1", "2"), build("a", "b")):
        clone = original.copy()
        clone.add([b"zz"], 512)
        clone.remove([b"1", b"a"])
        assert b"zz" not in original
        assert len(original) == 2
        assert clone.encoding() == b"hashtable"


def test_memory_usage_grows_with_members() -> None:
    small = build(*[str(i) for i in range(10)])
    big = build(*[str(i) for i in range(400)])
    assert 0 < small.memory_usage(5) < big.memory_usage(5)
    table = build(*[b"member:%d" % i for i in range(100)])
    assert table.memory_usage(0) == table.memory_usage(1000)
    assert table.memory_usage(5) > 100 * 40


# -- random picks ------------------------------------------------------------------------------


def both_encodings() -> list[SetValue]:
    return [build(*[str(i) for i in range(20)]), build(*[b"m%d" % i for i in range(20)])]


def test_random_picks_come_from_the_set() -> None:
    rng = random.Random(3)
    for value in both_encodings():
        members = set(value.members())
        assert value.random_member(rng) in members
        sample = value.random_sample(rng, 7)
        assert len(sample) == len(set(sample)) == 7
        assert set(sample) <= members
        choices = value.random_choices(rng, 100)
        assert len(choices) == 100
        assert set(choices) <= members
        assert len(set(choices)) > 1


def test_pops_remove_what_they_return() -> None:
    rng = random.Random(4)
    for value in both_encodings():
        before = set(value.members())
        one, _ = value.pop_random(rng)
        many = value.pop_many(rng, 12, 512)
        assert len(set(many)) == 12
        assert one not in many
        assert set(value.members()) == before - {one} - set(many)
        assert len(value) == 7


def test_random_picks_depend_only_on_the_seed_and_the_operations() -> None:
    def run() -> list[bytes]:
        rng = random.Random(99)
        value = build(*[b"k%d" % i for i in range(100)])
        value.remove([b"k%d" % i for i in range(0, 100, 7)])
        out = [value.pop_random(rng)[0], *value.pop_many(rng, 5, 512), *value.random_sample(rng, 5)]
        return out + value.random_choices(rng, 5) + value.members()

    assert run() == run()


def test_every_member_can_be_drawn() -> None:
    rng = random.Random(5)
    for value in both_encodings():
        seen = {value.random_member(rng) for _ in range(2000)}
        assert seen == set(value.members())


# -- scanning ----------------------------------------------------------------------------------


def test_intset_scan_answers_everything_at_once() -> None:
    value = build(*[str(i) for i in range(100)])
    assert value.scan(0, 10) == (0, value.members())
    assert value.scan(12345, 10) == (0, value.members())


def full_scan(value: SetValue, count: int) -> list[bytes]:
    cursor, seen = value.scan(0, count)
    while cursor:
        cursor, batch = value.scan(cursor, count)
        seen += batch
    return seen


def test_hashtable_scan_visits_each_member_once_when_nothing_changes() -> None:
    value = build(*[b"m%d" % i for i in range(95)])
    seen = full_scan(value, 10)
    assert sorted(seen) == sorted(value.members())
    assert value.scan(0, 1000) == (0, value.members())


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(1, 60),
    count=st.integers(1, 12),
    changes=st.lists(st.tuples(st.sampled_from(["add", "remove", "pop"]), st.integers(0, 90)), max_size=80),
)
def test_scan_returns_every_member_present_for_the_whole_iteration(
    size: int, count: int, changes: list[tuple[str, int]]
) -> None:
    rng = random.Random(size)
    value = build(*[b"m%d" % i for i in range(size)], b"x")
    start = set(value.members())
    removed: set[bytes] = set()
    seen: set[bytes] = set()
    pending = iter(changes)
    cursor, batch = value.scan(0, count)
    seen.update(batch)
    while cursor:
        op, n = next(pending, ("none", 0))
        member = b"m%d" % n
        if op == "add":
            value.add([member], 512)
        elif op == "remove" and value.remove([member]):
            removed.add(member)
        elif op == "pop" and len(value) > 1:
            removed.update(value.pop_many(rng, 1 + n % (len(value) - 1), 512))
        cursor, batch = value.scan(cursor, count)
        assert all(m in value for m in batch)
        seen.update(batch)
    assert start - removed <= seen


@pytest.mark.parametrize("count", [1, 10, 30, 60, 99])
def test_pop_many_at_every_size_keeps_the_table_consistent(count: int) -> None:
    value = build(*[b"m%d" % i for i in range(100)])
    popped = value.pop_many(random.Random(count), count, 512)
    assert len(popped) == len(set(popped)) == count
    rest = value.members()
    assert len(rest) == len(value) == 100 - count
    assert set(rest) | set(popped) == {b"m%d" % i for i in range(100)}
    assert all(m in value for m in rest) and not any(m in value for m in popped)
    assert value.add([popped[0]], 512) == 1
    assert value.remove([rest[0]]) == 1
    assert len(value) == 100 - count


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.integers(-50, 50),
            st.integers(-40_000, 40_000),
            st.integers(-(2**40), 2**40),
            st.sampled_from([2**63 - 1, -(2**63), 2**31, -(2**31) - 1]),
        ),
        min_size=1,
        max_size=80,
    ),
    max_intset=st.integers(0, 70),
)
def test_adding_integers_one_by_one_matches_a_model(values: list[int], max_intset: int) -> None:
    value = SetValue()
    model: set[int] = set()
    converted = False
    for v in values:
        new = v not in model
        assert value.add_one(b"%d" % v, max_intset) == new
        model.add(v)
        converted = converted or (new and len(model) > max_intset)
        assert value.encoding() == (b"hashtable" if converted else b"intset")
    assert len(value) == len(model)
    expected = [b"%d" % v for v in sorted(model)]
    assert (value.members() if not converted else sorted(value.members(), key=int)) == expected
    for v in model:
        assert b"%d" % v in value
