"""ListValue (store/lists.py) against a plain Python list, in both representations."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cacheflow.store.lists import SMALL_MAX_BYTES, SMALL_MAX_ITEMS, ListValue, decode, encode


def elements(value: ListValue) -> list[bytes]:
    return list(value.values())


def test_encode_decode_round_trip() -> None:
    for raw in (b"", b"a", b"x" * 1023, b"y" * 1024, b"\r\n$3\r\nabc", bytes(range(256))):
        piece = encode(raw)
        assert piece == b"$%d\r\n%b\r\n" % (len(raw), raw)
        assert decode(piece) == raw


def test_push_pop_both_ends_and_lengths() -> None:
    v = ListValue()
    assert v.push([encode(b"a"), encode(b"b")], left=True) == 2  # LPUSH a b -> b a
    assert v.push([encode(b"c")], left=False) == 3
    assert elements(v) == [b"b", b"a", b"c"]
    assert v.pop(left=True) == encode(b"b")
    assert v.pop(left=False) == encode(b"c")
    assert len(v) == 1
    assert v.pop(left=False) == encode(b"a")
    assert len(v) == 0


def test_small_switches_to_big_past_the_thresholds_and_never_back() -> None:
    v = ListValue.from_values([b"%d" % i for i in range(SMALL_MAX_ITEMS)])
    assert v.items is None
    v.push([encode(b"one more")], left=False)
    assert v.items is not None
    while len(v) > 1:
        v.pop(left=True)
    assert v.items is not None
    assert v.encoding() == b"quicklist"

    big_piece = ListValue.from_values([b"x" * 300])
    assert big_piece.items is not None
    by_bytes = ListValue.from_values([b"y" * 200] * (SMALL_MAX_BYTES // 200 + 1))
    assert by_bytes.items is not None


def test_lset_with_a_long_element_converts() -> None:
    v = ListValue.from_values([b"a", b"b"])
    assert v.set(-1, encode(b"z" * 1000))
    assert v.items is not None
    assert elements(v) == [b"a", b"z" * 1000]
    assert not v.set(2, encode(b"q"))
    assert not v.set(-3, encode(b"q"))


def test_range_follows_redis_index_rules() -> None:
    for n in (5, 300):
        data = [b"%d" % i for i in range(n)]
        v = ListValue.from_values(data)
        for start, stop in [(0, -1), (1, 2), (-2, -1), (-100, 2), (3, 1), (n, n + 5), (n - 1, 10**9), (0, 0)]:
            count, body = v.range(start, stop)
            s, e = start + n if start < 0 else start, stop + n if stop < 0 else stop
            s = max(s, 0)
            expected = data[s : e + 1] if s <= e and s < n else []
            assert count == len(expected)
            assert body == b"".join(map(encode, expected))


def test_positions_rank_count_maxlen() -> None:
    data = [b"a", b"b", b"a", b"c", b"a"]
    for v in (ListValue.from_values(data), ListValue.from_values(data * 60)):
        a = encode(b"a")
        n = len(v)
        assert v.positions(a, 1, 1, 0) == [0]
        assert v.positions(a, 2, 1, 0) == [2]
        assert v.positions(a, -1, 1, 0) == [n - 1]
        assert v.positions(a, -2, 2, 0) == [n - 3, n - 5]
        assert v.positions(a, 1, 0, 3) == [0, 2]
        assert v.positions(a, -1, 0, 2) == [n - 1]
        assert v.positions(encode(b"zz"), 1, 0, 0) == []
        assert v.positions(a, 10**6, 0, 0) == []


@pytest.mark.parametrize("size", [6, 400])
def test_insert_remove_trim(size: int) -> None:
    data = [b"k%d" % (i % 3) for i in range(size)]
    v = ListValue.from_values(data)
    assert v.insert(encode(b"nope"), encode(b"x"), after=True) == -1
    assert v.insert(encode(b"k1"), encode(b"x"), after=False) == size + 1
    data.insert(1, b"x")
    assert elements(v) == data
    assert v.remove(encode(b"k0"), 1) == 1
    data.remove(b"k0")
    assert elements(v) == data
    assert v.remove(encode(b"k2"), -2) == 2
    for _ in range(2):
        i = len(data) - 1 - data[::-1].index(b"k2")
        del data[i]
    assert elements(v) == data
    assert v.remove(encode(b"k1"), 0) == data.count(b"k1")
    data = [d for d in data if d != b"k1"]
    assert elements(v) == data
    removed = v.trim(1, -2)
    assert removed == 2
    assert elements(v) == data[1:-1]
    assert v.trim(5, 2) == len(data) - 2
    assert len(v) == 0


def test_copy_is_independent() -> None:
    for n in (3, 300):
        v = ListValue.from_values([b"%d" % i for i in range(n)])
        c = v.copy()
        c.push([encode(b"new")], left=True)
        c.set(1, encode(b"changed"))
        assert len(v) == n and elements(v)[:2] == [b"0", b"1"]


def test_memory_usage_grows_with_contents() -> None:
    small = ListValue.from_values([b"a"] * 10)
    bigger = ListValue.from_values([b"a" * 100] * 10)
    assert 0 < small.memory_usage(0) < bigger.memory_usage(0)
    large = ListValue.from_values([b"x" * 10] * 1000)
    assert large.memory_usage(5) == pytest.approx(large.memory_usage(0), rel=0.2)


def test_pop_many_orders_and_limits() -> None:
    for n in (6, 300):
        data = [b"%d" % i for i in range(n)]
        v = ListValue.from_values(data)
        count, body = v.pop_many(3, left=False)
        assert (count, body) == (3, b"".join(map(encode, data[::-1][:3])))
        count, body = v.pop_many(2, left=True)
        assert (count, body) == (2, b"".join(map(encode, data[:2])))
        count, body = v.pop_many(10**6, left=True)
        assert count == n - 5 and len(v) == 0


OPS = st.lists(
    st.tuples(
        st.sampled_from(["lpush", "rpush", "lpop", "rpop", "set", "insert", "remove", "trim", "popn"]),
        st.integers(-8, 8),
        st.sampled_from([b"a", b"b", b"", b"c" * 40, b"d" * 300, b"\r\n"]),
        st.integers(1, 60),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(OPS)
def test_behaves_like_a_python_list(ops: list[tuple[str, int, bytes, int]]) -> None:
    v = ListValue()
    model: list[bytes] = []
    for op, i, elem, n in ops:
        if op in ("lpush", "rpush"):
            batch = [elem + b"%d" % k for k in range(n)]
            v.push([encode(x) for x in batch], left=op == "lpush")
            model = batch[::-1] + model if op == "lpush" else model + batch
        elif op in ("lpop", "rpop") and model:
            assert decode(v.pop(left=op == "lpop")) == (model.pop(0) if op == "lpop" else model.pop())
        elif op == "popn" and model:
            k = min(n, len(model))
            count, body = v.pop_many(n, left=i >= 0)
            taken = model[:k] if i >= 0 else model[::-1][:k]
            model = model[k:] if i >= 0 else model[: len(model) - k]
            assert (count, body) == (k, b"".join(map(encode, taken)))
        elif op == "set":
            ok = -len(model) <= i < len(model)
            assert v.set(i, encode(elem)) == ok
            if ok:
                model[i] = elem
        elif op == "insert":
            pivot = model[i % len(model)] if model else b"zz"
            got = v.insert(encode(pivot), encode(elem), after=i % 2 == 0)
            if pivot in model:
                at = model.index(pivot)
                model.insert(at + 1 if i % 2 == 0 else at, elem)
                assert got == len(model)
            else:
                assert got == -1
        elif op == "remove" and model:
            target = model[abs(i) % len(model)]
            removed = v.remove(encode(target), i)
            seq = model[::-1] if i < 0 else list(model)
            kept, gone = [], 0
            for x in seq:
                if x == target and (i == 0 or gone < abs(i)):
                    gone += 1
                else:
                    kept.append(x)
            model = kept[::-1] if i < 0 else kept
            assert removed == gone
        elif op == "trim":
            v.trim(i, i + n - 10)
            count, body = ListValue.from_values(model).range(i, i + n - 10)
            model = [decode(p) for p in _pieces(body)]
        assert len(v) == len(model)
        assert elements(v) == model
        if model:
            k = i % len(model)
            assert v.index(k) == encode(model[k])
            assert v.index(-1) == encode(model[-1])
        assert v.index(len(model)) is None


def _pieces(body: bytes) -> list[bytes]:
    out = []
    pos = 0
    while pos < len(body):
        nl = body.index(b"\r\n", pos)
        end = nl + 2 + int(body[pos + 1 : nl]) + 2
        out.append(body[pos:end])
        pos = end
    return out


def test_random_ranges_match_slices() -> None:
    rng = random.Random(7)
    for n in (1, 7, 128, 129, 500):
        data = [b"%d" % rng.randrange(1000) for _ in range(n)]
        v = ListValue.from_values(data)
        for _ in range(50):
            a, b = rng.randint(-n - 3, n + 3), rng.randint(-n - 3, n + 3)
            count, body = v.range(a, b)
            ref = ListValue()
            ref.push([encode(x) for x in data], left=False)
            assert (count, body) == ref.range(a, b)
            assert [decode(p) for p in _pieces(body)] == _redis_slice(data, a, b)


def _redis_slice(data: list[bytes], start: int, stop: int) -> list[bytes]:
    n = len(data)
    if start < 0:
        start += n
    if stop < 0:
        stop += n
    start = max(start, 0)
    if start > stop or start >= n:
        return []
    return data[start : min(stop, n - 1) + 1]
