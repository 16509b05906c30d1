"""The linearizability checker: accepts linearizable histories, rejects known-bad ones, never hangs.

Times are logical ints.  ``None`` as a complete time = pending (outcome unknown).
A brute-force checker (all real-time-respecting orders, each pending op either
placed or dropped) is the oracle for small random histories.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .linearizability import (
    Op,
    Verdict,
    cas,
    check_history,
    get,
    kv_step,
    put,
)


def verdict(history: Sequence[Op]) -> Verdict:
    return check_history(history, timeout=30.0).verdict


# ---------------------------------------------------------------- linearizable histories

GOOD: dict[str, list[Op]] = {
    "empty": [],
    "read of absent key": [get(1, "x", None, 0, 1)],
    "sequential write then read": [put(1, "x", "a", 0, 1), get(2, "x", "a", 2, 3)],
    "concurrent read sees old value": [put(1, "x", "a", 0, 10), get(2, "x", None, 1, 2)],
    "concurrent read sees new value": [put(1, "x", "a", 0, 10), get(2, "x", "a", 1, 2)],
    "read order fixes write order": [
        put(1, "x", "a", 0, 10),
        put(2, "x", "b", 0, 10),
        get(3, "x", "a", 11, 12),
        get(3, "x", "a", 13, 14),
    ],
    "reads flip between concurrent writes once": [
        put(1, "x", "a", 0, 20),
        put(2, "x", "b", 0, 20),
        get(3, "x", "b", 1, 2),
        get(3, "x", "a", 3, 4),
    ],
    "pending write never seen": [put(1, "x", "a", 0, None), get(2, "x", None, 5, 6)],
    "pending write seen later": [put(1, "x", "a", 0, None), get(2, "x", None, 5, 6), get(2, "x", "a", 7, 8)],
    "pending write seen long after its client gave up": [
        put(1, "x", "a", 0, None),
        put(2, "x", "b", 1, 2),
        get(3, "x", "b", 3, 4),
        get(3, "x", "a", 100, 101),
    ],
    "pending cas took effect": [
        put(1, "x", "a", 0, 1),
        cas(2, "x", "a", "b", False, 2, None),  # output of a pending op is ignored
        get(3, "x", "b", 5, 6),
    ],
    "pending cas did not take effect": [
        put(1, "x", "a", 0, 1),
        cas(2, "x", "a", "b", True, 2, None),
        get(3, "x", "a", 5, 6),
    ],
    "cas success then failure": [
        put(1, "x", "0", 0, 1),
        cas(2, "x", "0", "1", True, 2, 5),
        cas(3, "x", "0", "2", False, 3, 6),
        get(1, "x", "1", 7, 8),
    ],
    "cas on absent key": [cas(1, "x", None, "a", True, 0, 1), get(1, "x", "a", 2, 3)],
    "failed cas on absent key": [cas(1, "x", "a", "b", False, 0, 1), get(1, "x", None, 2, 3)],
    "two concurrent cas, one wins": [
        cas(1, "x", None, "a", True, 0, 5),
        cas(2, "x", None, "b", False, 0, 5),
        get(3, "x", "a", 6, 7),
    ],
    "equal timestamps are concurrent": [put(1, "x", "a", 0, 5), get(2, "x", None, 5, 6)],
    "independent keys": [
        put(1, "x", "a", 0, 1),
        put(1, "y", "b", 2, 3),
        get(2, "x", "a", 4, 5),
        get(2, "y", "b", 4, 5),
    ],
    "pending get is ignored": [get(1, "x", "never", 0, None), put(2, "x", "a", 1, 2)],
    "same value written twice": [put(1, "x", "a", 0, 1), put(2, "x", "a", 2, 3), get(3, "x", "a", 4, 5)],
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_linearizable_histories_are_accepted(name: str) -> None:
    result = check_history(GOOD[name])
    assert result.verdict is Verdict.OK, result.explain()


# ---------------------------------------------------------------- known-bad histories

BAD: dict[str, list[Op]] = {
    "stale read after a completed write": [
        put(1, "x", "a", 0, 1),
        put(1, "x", "b", 2, 3),
        get(2, "x", "a", 4, 5),
    ],
    "lost write": [put(1, "x", "a", 0, 1), get(2, "x", None, 2, 3)],
    "lost write among others": [
        put(1, "x", "a", 0, 1),
        put(2, "y", "b", 0, 1),
        get(3, "y", "b", 2, 3),
        get(3, "x", None, 2, 3),
    ],
    "cas succeeding twice": [
        put(1, "x", "0", 0, 1),
        cas(2, "x", "0", "1", True, 2, 5),
        cas(3, "x", "0", "2", True, 3, 6),
    ],
    "cas succeeding twice, later read of either": [
        cas(1, "x", None, "a", True, 0, 5),
        cas(2, "x", None, "b", True, 0, 5),
        get(3, "x", "b", 6, 7),
    ],
    "cas failing although it must match": [put(1, "x", "a", 0, 1), cas(2, "x", "a", "b", False, 2, 3)],
    "read of a value never written": [put(1, "x", "a", 0, 1), get(2, "x", "zzz", 2, 3)],
    "read of a value never written, pending writes around": [
        put(1, "x", "a", 0, None),
        put(2, "x", "b", 0, None),
        get(3, "x", "c", 1, 2),
    ],
    "write visible then un-visible": [
        put(1, "x", "a", 0, 100),
        get(2, "x", "a", 1, 2),
        get(2, "x", None, 3, 4),
    ],
    "pending write visible then un-visible": [
        put(1, "x", "a", 0, None),
        get(2, "x", "a", 1, 2),
        get(3, "x", None, 3, 4),
    ],
    "reads disagree on the order of two writes": [
        put(1, "x", "a", 0, 20),
        put(2, "x", "b", 0, 20),
        get(3, "x", "a", 1, 2),
        get(3, "x", "b", 3, 4),
        get(3, "x", "a", 5, 6),
    ],
    "read before the write was invoked": [get(1, "x", "a", 0, 1), put(2, "x", "a", 2, 3)],
    "value seen after a completed cas replaced it": [
        put(1, "x", "a", 0, 1),
        cas(2, "x", "a", "b", True, 2, 3),
        get(3, "x", "a", 4, 5),
    ],
    "bad key hidden among many good ops": [
        *(put(c, f"k{c}", c, 2 * c, 2 * c + 1) for c in range(10)),
        *(get(c, f"k{c}", c, 100, 101) for c in range(10)),
        put(11, "x", "a", 200, 201),
        get(12, "x", "b", 202, 203),
    ],
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_known_bad_histories_are_rejected(name: str) -> None:
    result = check_history(BAD[name])
    assert result.verdict is Verdict.ILLEGAL
    assert "not linearizable" in result.explain()


def test_explanation_names_key_and_longest_prefix() -> None:
    history = [
        put(1, "k", "a", 0, 1),
        put(1, "k", "b", 2, 3),
        get(2, "k", "b", 4, 5),
        get(2, "k", "a", 6, 7),  # stale: "b" was already read
        put(1, "other", "z", 0, 1),
    ]
    result = check_history(history)
    assert result.verdict is Verdict.ILLEGAL
    text = result.explain()
    assert "key 'k' is not linearizable" in text
    assert "3 of 4 completed ops" in text
    assert "get('k') -> 'a'" in text and "contradicts this state" in text
    assert "'other'" not in text


def test_time_limit_reports_unknown_instead_of_hanging() -> None:
    # 22 fully concurrent writes of distinct values and a read of a value nobody wrote: the search
    # must try every subset before saying ILLEGAL, far more than a zero time budget allows.
    history = [put(c, "x", c, 0, 100) for c in range(22)] + [get(99, "x", "nobody", 0, 100)]
    result = check_history(history, timeout=0.0)
    assert result.verdict is Verdict.UNKNOWN
    assert "gave up" in result.explain()


def test_complete_before_invoke_is_a_caller_error() -> None:
    with pytest.raises(ValueError):
        check_history([put(1, "x", "a", 5, 4)])


# ---------------------------------------------------------------- property tests

values = st.sampled_from(["a", "b", "c"])
keys = st.sampled_from(["x", "y"])


@st.composite
def sequential_runs(draw: st.DrawFn) -> list[Op]:
    """Run random ops on a real dict in order, give op i a linearization point at time 10*i, then
    widen each op's [invoke, complete] interval randomly around that point (so intervals overlap);
    some ops become pending, and some pending ones never took effect at all."""
    n = draw(st.integers(0, 14))
    store: dict[str, Hashable] = {}
    history: list[Op] = []
    for i in range(n):
        point = 10 * i
        invoke = point - draw(st.integers(0, 35))
        complete: int | None = point + draw(st.integers(0, 35))
        fate = draw(st.sampled_from(["done", "done", "done", "pending", "lost"]))
        if fate != "done":
            complete = None
        key = draw(keys)
        kind = draw(st.sampled_from(["get", "put", "cas"]))
        client = i  # one op per client keeps clients sequential trivially
        if fate == "lost":  # a pending op that never reached the store
            if kind == "put":
                history.append(put(client, key, draw(values), invoke, None))
            elif kind == "cas":
                history.append(cas(client, key, draw(st.none() | values), draw(values), True, invoke, None))
            continue
        if kind == "get":
            history.append(get(client, key, store.get(key), invoke, complete))
        elif kind == "put":
            value = draw(values)
            store[key] = value
            history.append(put(client, key, value, invoke, complete))
        else:
            expected = draw(st.none() | values)
            value = draw(values)
            ok = store.get(key) == expected
            if ok:
                store[key] = value
            history.append(cas(client, key, expected, value, ok, invoke, complete))
    order = draw(st.permutations(range(len(history))))
    return [history[i] for i in order]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequential_runs())
def test_histories_from_a_real_sequential_execution_are_linearizable(history: list[Op]) -> None:
    result = check_history(history, timeout=30.0)
    assert result.verdict is Verdict.OK, result.explain()


@st.composite
def sequential_histories_with_one_wrong_read(draw: st.DrawFn) -> list[Op]:
    """Non-overlapping, all completed: the order is forced, so corrupting any read must be caught."""
    n = draw(st.integers(1, 12))
    store: dict[str, Hashable] = {}
    history: list[Op] = []
    for i in range(n):
        key = draw(keys)
        if draw(st.booleans()):
            value = draw(values)
            store[key] = value
            history.append(put(0, key, value, 2 * i, 2 * i + 1))
        else:
            history.append(get(0, key, store.get(key), 2 * i, 2 * i + 1))
    key = draw(keys)
    actual = store.get(key)
    wrong = draw(st.sampled_from([v for v in (None, "a", "b", "c", "d") if v != actual]))
    history.append(get(1, key, wrong, 2 * n, 2 * n + 1))
    return history


@settings(max_examples=150, deadline=None)
@given(sequential_histories_with_one_wrong_read())
def test_a_wrong_read_in_a_sequential_history_is_caught(history: list[Op]) -> None:
    assert verdict(history) is Verdict.ILLEGAL


def brute_force(history: Sequence[Op]) -> bool:
    """Oracle: some real-time-respecting order of all completed ops plus a subset of the pending
    ones is a legal sequential run (pending gets are dropped: they constrain nothing)."""
    done = [op for op in history if not op.pending]
    pending = [op for op in history if op.pending and op.kind != "get"]
    for r in range(len(pending) + 1):
        for chosen in itertools.combinations(pending, r):
            ops = done + list(chosen)
            for order in itertools.permutations(ops):
                if _respects_real_time(order) and _legal(order):
                    return True
    return False


def _respects_real_time(order: Sequence[Op]) -> bool:
    for i, a in enumerate(order):
        for b in order[i + 1 :]:
            if b.complete is not None and b.complete < a.invoke:
                return False  # b finished before a began, yet a is ordered first
    return True


def _legal(order: Sequence[Op]) -> bool:
    state: dict[str, Hashable] = {}
    for op in order:
        ok, new = kv_step(state.get(op.key), op)
        if not ok:
            return False
        state[op.key] = new
    return True


@st.composite
def random_histories(draw: st.DrawFn) -> list[Op]:
    """Arbitrary (mostly non-linearizable) small histories on one or two keys."""
    n = draw(st.integers(0, 6))
    history: list[Op] = []
    for i in range(n):
        invoke = draw(st.integers(0, 12))
        complete = None if draw(st.integers(0, 5)) == 0 else invoke + draw(st.integers(0, 8))
        key = draw(keys)
        kind = draw(st.sampled_from(["get", "put", "cas"]))
        if kind == "get":
            history.append(get(i, key, draw(st.none() | values), invoke, complete))
        elif kind == "put":
            history.append(put(i, key, draw(values), invoke, complete))
        else:
            history.append(cas(i, key, draw(st.none() | values), draw(values), draw(st.booleans()), invoke, complete))
    return history


@settings(max_examples=400, deadline=None)
@given(random_histories())
def test_checker_agrees_with_brute_force(history: list[Op]) -> None:
    expected = Verdict.OK if brute_force(history) else Verdict.ILLEGAL
    assert verdict(history) is expected
