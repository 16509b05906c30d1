"""The sorted set value type on its own: doubles, ranges, both encodings and their switch, ZSCAN snapshots."""

import math
import random
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cacheflow.store.sorted_sets import (
    GT,
    INCR,
    LT,
    NX,
    XX,
    SortedSet,
    ZaddResult,
    format_score,
    listpack_score_text,
    parse_double,
    parse_lex_range,
    parse_range_double,
    parse_score_range,
    score_prefix,
)

BIG = 10**9  # thresholds that never convert
SMALL_LIMITS = (128, 64)


def build(pairs: list[tuple[float, str]], big: bool = False) -> SortedSet:
    zset = SortedSet()
    result = ZaddResult()
    limits = (0, 0) if big else (BIG, BIG)
    zset.add_many([(s, m.encode()) for s, m in pairs], 0, *limits, result)
    assert zset.encoding() == (b"skiplist" if big else b"listpack")
    return zset


def members(pairs: list[tuple[float, bytes]]) -> list[bytes]:
    return [m for _, m in pairs]


# -- doubles -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"0", 0.0),
        (b"-0", -0.0),
        (b"1.5", 1.5),
        (b".5", 0.5),
        (b"5.", 5.0),
        (b"+3", 3.0),
        (b"1e20", 1e20),
        (b"inf", math.inf),
        (b"-Infinity", -math.inf),
        (b"+INF", math.inf),
        (b"0x10", 16.0),
        (b"0x1.8p1", 3.0),
        (b"-0X.8", -0.5),
        (b"4.9e-324", 5e-324),
        (b"3e-324", 5e-324),  # rounds to the smallest subnormal: accepted, as strtod's ERANGE with a non-zero value
        (b"1e-400", None),  # underflows to zero
        (b"0e-400", 0.0),
        (b"1e400", None),  # overflows
        (b"1.7976931348623159e308", None),
        (b"nan", None),
        (b"NaN", None),
        (b"", None),
        (b" 1", None),
        (b"1 ", None),
        (b"1_0", None),
        (b"1\x00", None),
        (b"0x", None),
        (b"1e", None),
        (b"infinit", None),
        (b"abc", None),
        (b"9" * 400, None),
        (b"9" * 299, float("9" * 299)),
    ],
)
def test_parse_double_follows_string2d(raw: bytes, expected: float | None) -> None:
    got = parse_double(raw)
    if expected is None:
        assert got is None
    else:
        assert got == expected and math.copysign(1, got) == math.copysign(1, expected)  # type: ignore[arg-type]


@given(st.text(alphabet="0123456789", min_size=1, max_size=20), st.sampled_from(["", "x", ".5", "e3", " "]))
def test_parse_double_reads_integers_as_strtod_does(digits: str, tail: str) -> None:
    """Up to 15 digits take a digit-by-digit path, longer ones float(); both must agree with strtod."""
    raw = (digits + tail).encode()
    expected = None if tail in ("x", " ") else float(raw)
    assert parse_double(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", 0.0),
        (b" 1", 1.0),
        (b"\t-2", -2.0),
        (b"1\x00junk", 1.0),
        (b"1e400", math.inf),
        (b"1e-400", 0.0),
        (b"0x10", 16.0),
        (b"1 ", None),
        (b" ", None),
        (b"nan", None),
        (b"abc", None),
        (b"1_0", None),
    ],
)
def test_parse_range_double_follows_strtod(raw: bytes, expected: float | None) -> None:
    assert parse_range_double(raw) == expected


def test_format_score_is_percent_17g() -> None:
    assert format_score(0.1) == b"0.10000000000000001"
    assert format_score(1e20) == b"1e+20"
    assert format_score(math.inf) == b"inf"
    assert format_score(-math.inf) == b"-inf"
    assert format_score(-0.0) == b"-0"
    assert format_score(3.0) == b"3"
    assert format_score(123456789012345678.0) == b"1.2345678901234568e+17"


def test_listpack_text_stores_integral_scores_as_integers() -> None:
    assert listpack_score_text(123456789012345678.0) == b"123456789012345680"
    assert listpack_score_text(float(2**62)) == b"4611686018427387904"
    assert listpack_score_text(float(2**63)) == b"9.2233720368547758e+18"
    assert listpack_score_text(-0.0) == b"0"
    assert listpack_score_text(0.5) == b"0.5"
    assert listpack_score_text(math.inf) == b"inf"


@settings(max_examples=300)
@given(st.lists(st.floats(allow_nan=False), min_size=2, max_size=20))
def test_score_prefix_orders_bytes_as_numbers(values: list[float]) -> None:
    by_number = sorted(values)
    by_prefix = sorted(values, key=score_prefix)
    assert [score_prefix(v) for v in by_number] == [score_prefix(v) for v in by_prefix]
    assert score_prefix(-0.0) == score_prefix(0.0)


def test_score_range_parsing_and_bounds() -> None:
    spec = parse_score_range(b"(1", b"+inf")
    assert spec is not None and spec.minex and not spec.maxex and spec.max == math.inf
    assert parse_score_range(b"x", b"1") is None
    assert parse_score_range(b"1", b"(nan") is None
    empty = parse_score_range(b"(1", b"1")
    assert empty is not None and empty.is_empty()


def test_lex_range_parsing() -> None:
    assert parse_lex_range(b"-", b"+") is not None
    assert parse_lex_range(b"+\x00x", b"-") is not None  # Redis reads the C string "+"
    assert parse_lex_range(b"+x", b"-") is None
    assert parse_lex_range(b"a", b"+") is None
    assert parse_lex_range(b"", b"+") is None
    spec = parse_lex_range(b"[a", b"(c")
    assert spec is not None and spec.gte_min(b"a") and not spec.lte_max(b"c") and spec.lte_max(b"bzz")
    same = parse_lex_range(b"(a", b"[a")
    assert same is not None and same.is_empty()
    backwards = parse_lex_range(b"+", b"-")
    assert backwards is not None and backwards.is_empty()


# -- the value type ------------------------------------------------------------------------------


@pytest.mark.parametrize("big", [False, True])
def test_order_rank_and_scores(big: bool) -> None:
    zset = build([(2, "b"), (1, "a"), (2, "a2"), (-math.inf, "low"), (math.inf, "high")], big)
    assert len(zset) == 5
    assert members(zset.pairs()) == [b"low", b"a", b"a2", b"b", b"high"]
    assert zset.rank(b"b") == (3, 2.0)
    assert zset.rank(b"nosuch") is None
    assert zset.score(b"a2") == 2.0
    assert zset.score(b"nosuch") is None
    assert zset.score_map()[b"high"] == math.inf
    assert zset.slice(1, 3) == [(1.0, b"a"), (2.0, b"a2")]
    assert zset.members_slice(3, 10) == [b"b", b"high"]
    assert zset.at(0) == (-math.inf, b"low")


@pytest.mark.parametrize("big", [False, True])
def test_zadd_flags(big: bool) -> None:
    zset = build([(1, "a"), (2, "b")], big)
    limits = (0, 0) if big else (BIG, BIG)

    def run(flags: int, *items: tuple[float, str]) -> tuple[int, int, int, float]:
        result = ZaddResult()
        zset.add_many([(s, m.encode()) for s, m in items], flags, *limits, result)
        return result.added, result.updated, result.processed, result.score

    assert run(NX, (5, "a"), (3, "c")) == (1, 0, 1, 3.0)
    assert run(XX, (5, "a"), (4, "d")) == (0, 1, 1, 5.0)
    assert run(GT, (4, "a")) == (0, 0, 0, 0.0)
    assert run(LT, (4, "a")) == (0, 1, 1, 4.0)
    assert run(INCR, (1.5, "a")) == (0, 1, 1, 5.5)
    assert run(INCR, (0, "a")) == (0, 0, 1, 5.5)
    assert run(INCR | GT, (-1, "a")) == (0, 0, 0, 0.0)
    result = ZaddResult()
    zset.add_many([(math.inf, b"i")], 0, *limits, result)
    result = ZaddResult()
    zset.add_many([(-math.inf, b"i")], INCR, *limits, result)
    assert result.nan and zset.score(b"i") == math.inf


def test_minus_zero_becomes_zero_in_a_listpack_only() -> None:
    small = build([(-0.0, "z")])
    assert math.copysign(1, small.score(b"z")) == 1  # type: ignore[arg-type]
    big = build([(-0.0, "z")], big=True)
    assert math.copysign(1, big.score(b"z")) == -1  # type: ignore[arg-type]
    assert big.add(0.0, b"z", 0, 0) == 0  # -0 == 0: no change, the sign stays


def test_conversion_thresholds() -> None:
    zset = SortedSet()
    for i in range(128):
        zset.add(float(i), b"m%d" % i, *SMALL_LIMITS)
    assert zset.encoding() == b"listpack"
    zset.add(5.0, b"m0", *SMALL_LIMITS)  # an update never converts
    assert zset.encoding() == b"listpack"
    zset.add(5.0, b"new", *SMALL_LIMITS)
    assert zset.encoding() == b"skiplist"
    zset.remove([b"m%d" % i for i in range(100)])
    assert zset.encoding() == b"skiplist"  # for good
    long_member = SortedSet()
    long_member.add(1.0, b"x" * 64, *SMALL_LIMITS)
    assert long_member.encoding() == b"listpack"
    long_member.add(1.0, b"y" * 65, *SMALL_LIMITS)
    assert long_member.encoding() == b"skiplist"
    assert members(long_member.pairs()) == [b"x" * 64, b"y" * 65]


def test_conversion_in_the_middle_of_one_zadd() -> None:
    zset = SortedSet()
    result = ZaddResult()
    zset.add_many([(1.0, b"a"), (2.0, b"b" * 70), (3.0, b"c"), (0.5, b"a")], 0, *SMALL_LIMITS, result)
    assert (result.added, result.updated) == (3, 1)
    assert zset.encoding() == b"skiplist"
    assert zset.pairs() == [(0.5, b"a"), (2.0, b"b" * 70), (3.0, b"c")]


def test_store_results_choose_their_encoding() -> None:
    pairs = [(float(i), b"m%03d" % i) for i in range(10)]
    assert SortedSet.from_pairs(pairs, 10, 64).encoding() == b"listpack"
    assert SortedSet.from_pairs(pairs, 9, 64).encoding() == b"skiplist"
    assert SortedSet.from_pairs(pairs, 10, 3).encoding() == b"skiplist"
    negative_zero = [(-0.0, b"a"), (-0.0, b"b"), (-0.0, b"c")]
    # ZRANGESTORE adds one by one into a listpack: the members added before it converts lose the sign.
    built = SortedSet.from_insertions(negative_zero, 2, 64)
    assert built.encoding() == b"skiplist"
    assert [math.copysign(1, s) for s, _ in built.pairs()] == [1, 1, -1]


@pytest.mark.parametrize("big", [False, True])
def test_copy_is_independent(big: bool) -> None:
    zset = build([(1, "a"), (2, "b")], big)
    twin = zset.copy()
    twin.add(3.0, b"c", BIG, BIG)
    twin.remove([b"a"])
    assert zset.pairs() == [(1.0, b"a"), (2.0, b"b")]
    assert twin.encoding() == zset.encoding()
    assert zset.memory_usage(5) > 0 and twin.memory_usage(0) > 0


@pytest.mark.parametrize("big", [False, True])
def test_score_ranges_with_offset_and_limit(big: bool) -> None:
    zset = build([(float(i), "m%d" % i) for i in range(10)], big)
    spec = parse_score_range(b"(2", b"7")
    assert spec is not None
    assert members(zset.range_by_score(spec, False, 0, -1)) == [b"m3", b"m4", b"m5", b"m6", b"m7"]
    assert members(zset.range_by_score(spec, True, 1, 2)) == [b"m6", b"m5"]
    assert zset.range_by_score(spec, False, -1, 5) == []
    assert zset.range_by_score(spec, False, 10, 5) == []
    assert zset.range_by_score(spec, False, 0, 0) == []
    assert zset.count_by_score(spec) == 5
    assert zset.remove_range_by_score(spec) == 5
    assert len(zset) == 5


@pytest.mark.parametrize("big", [False, True])
def test_lex_ranges_on_one_score(big: bool) -> None:
    zset = build([(0.0, m) for m in ["a", "b", "c", "d", "e"]], big)
    spec = parse_lex_range(b"(a", b"[d")
    assert spec is not None
    assert members(zset.range_by_lex(spec, False, 0, -1)) == [b"b", b"c", b"d"]
    assert members(zset.range_by_lex(spec, True, 0, 2)) == [b"d", b"c"]
    assert members(zset.range_by_lex(spec, False, 2, 5)) == [b"d"]
    assert zset.count_by_lex(spec) == 3
    assert zset.remove_range_by_lex(spec) == 3
    assert members(zset.pairs()) == [b"a", b"e"]


def test_lex_ranges_on_mixed_scores_walk_like_a_listpack() -> None:
    zset = build([(1, "d"), (2, "a"), (3, "c"), (4, "b"), (5, "e")])
    spec = parse_lex_range(b"[b", b"+")
    assert spec is not None
    # The walk starts at the first member >= "b" ("d") and goes on while members are <= max.
    assert members(zset.range_by_lex(spec, False, 0, -1)) == [b"d", b"a", b"c", b"b", b"e"]
    narrow = parse_lex_range(b"[c", b"[d")
    assert narrow is not None
    assert members(zset.range_by_lex(narrow, False, 0, -1)) == [b"d", b"a", b"c", b"b"]
    assert zset.count_by_lex(narrow) == 4


@pytest.mark.parametrize("big", [False, True])
def test_pops(big: bool) -> None:
    zset = build([(float(i), "m%d" % i) for i in range(5)], big)
    assert zset.pop(2, False) == [(0.0, b"m0"), (1.0, b"m1")]
    assert zset.pop(2, True) == [(4.0, b"m4"), (3.0, b"m3")]
    assert zset.pop(10, False) == [(2.0, b"m2")]
    assert len(zset) == 0


@pytest.mark.parametrize("big", [False, True])
def test_random_picks(big: bool) -> None:
    zset = build([(float(i), "m%d" % i) for i in range(20)], big)
    rng = random.Random(7)
    picks = zset.random_pairs(rng, 50)
    assert len(picks) == 50 and all(zset.score(m) == s for s, m in picks)
    distinct = zset.random_distinct(rng, 8)
    assert len({m for _, m in distinct}) == 8
    assert distinct == sorted(distinct)


def test_scan_snapshots_return_every_member_present_throughout() -> None:
    zset = build([(float(i), "m%03d" % i) for i in range(100)], big=True)
    cursor, found = zset.scan(0, 10)
    seen = {m for _, m in found}
    zset.remove([b"m%03d" % i for i in range(0, 100, 2)])
    zset.add(1.0, b"late", BIG, BIG)
    while cursor:
        cursor, found = zset.scan(cursor, 10)
        seen.update(m for _, m in found)
    assert {b"m%03d" % i for i in range(1, 100, 2)} <= seen
    assert zset.scan(12345 << 32, 10) == (0, [])  # a cursor never handed out ends the iteration
    small_enough = build([(1.0, "a")], big=True)
    assert small_enough.scan(0, 10) == (0, [(1.0, b"a")])


# -- against a model -----------------------------------------------------------------------------

MEMBER = st.sampled_from([b"a", b"b", b"c", b"d", b"", b"zz", b"\x00", b"m" * 70])
SCORE = st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.5, math.inf, -math.inf, 1e300])


@settings(max_examples=200, deadline=None)
@given(
    ops=st.lists(
        st.tuples(st.sampled_from(["add", "remove", "pop", "remrank"]), SCORE, MEMBER, st.integers(0, 4)),
        max_size=40,
    ),
    max_entries=st.sampled_from([0, 2, 5, 128]),
)
def test_matches_a_model(ops: list[tuple[str, float, bytes, int]], max_entries: int) -> None:
    zset = SortedSet()
    model: dict[bytes, float] = {}
    for op, score, member, n in ops:
        if op == "add":
            zset.add(score, member, max_entries, 64)
            if member not in model or model[member] != score:
                model[member] = score
        elif op == "remove":
            assert zset.remove([member]) == (1 if model.pop(member, None) is not None else 0)
        elif op == "pop":
            expected = sorted((s, m) for m, s in model.items())[:n]
            assert zset.pop(n, False) == expected
            for _, m in expected:
                del model[m]
        else:
            ordered = sorted((s, m) for m, s in model.items())
            assert zset.remove_slice(0, n) == min(n, len(ordered))
            for _, m in ordered[:n]:
                del model[m]
        ordered = sorted((s, m) for m, s in model.items())
        assert members(zset.pairs()) == [m for _, m in ordered]
        assert len(zset) == len(model)
        for m, s in model.items():
            got = zset.score(m)
            assert got == s
            if zset.encoding() == b"skiplist" and s == 0:
                continue  # the sign of zero depends on the path a member took (listpack or not)
            assert struct.pack(">d", got) == struct.pack(">d", s) or s == 0  # type: ignore[arg-type]
        if len(model) > max_entries or any(len(m) > 64 for m in model):
            assert zset.encoding() == b"skiplist"


def test_big_sets_across_many_sublists() -> None:
    """Thousands of members: positions, slices and walks cross the sorted list's internal sublists."""
    rng = random.Random(3)
    model = {b"m%05d" % i: float(rng.randrange(500)) for i in range(6000)}
    zset = SortedSet()
    for m, s in model.items():
        zset.add(s, m, 128, 64)
    ordered = sorted((s, m) for m, s in model.items())
    assert zset.pairs() == ordered
    for lo, hi in ((0, 10), (995, 2010), (5990, 7000), (1234, 1234)):
        assert zset.slice(lo, hi) == ordered[lo:hi]
        assert zset.members_slice(lo, hi) == [m for _, m in ordered[lo:hi]]
        assert zset.bulks_slice(lo, hi) == [b"$%d\r\n%b\r\n" % (len(m), m) for _, m in ordered[lo:hi]]
    assert zset.rank(ordered[4321][1]) == (4321, ordered[4321][0])
    spec = parse_score_range(b"(100", b"300")
    assert spec is not None
    expected = [p for p in ordered if 100 < p[0] <= 300]
    assert zset.range_by_score(spec, False, 0, -1) == expected
    assert zset.range_by_score(spec, True, 7, 600) == list(reversed(expected))[7:607]
    assert zset.remove_slice(500, 2600) == 2100
    del ordered[500:2600]
    assert zset.pairs() == ordered
    one = SortedSet()
    for i in range(3000):
        one.add(0.0, b"w%05d" % i, 128, 64)
    lex = parse_lex_range(b"[w00500", b"(w02900")
    assert lex is not None
    assert [m for _, m in one.range_by_lex(lex, True, 3, -1)] == [b"w%05d" % i for i in range(2896, 499, -1)]
    assert one.count_by_lex(lex) == 2400
    assert one.remove_range_by_lex(lex) == 2400
    assert len(one) == 600
