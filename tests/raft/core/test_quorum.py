"""Majority arithmetic, against a brute-force definition."""

from hypothesis import given
from hypothesis import strategies as st

from cacheflow.raft.core.quorum import VoteResult, committed_index, vote_result


def test_committed_index_examples() -> None:
    assert committed_index([1], {1: 7}) == 7
    assert committed_index([1, 2, 3], {1: 5, 2: 3, 3: 9}) == 5
    assert committed_index([1, 2, 3, 4], {1: 5, 2: 3, 3: 9, 4: 1}) == 3
    assert committed_index([1, 2, 3], {1: 5}) == 0  # unknown voters count as 0
    assert committed_index([], {}) == 0


@given(st.dictionaries(st.integers(1, 9), st.integers(0, 50), min_size=1))
def test_committed_index_is_the_largest_index_a_majority_has(match: dict[int, int]) -> None:
    voters = list(match)
    need = len(voters) // 2 + 1
    brute = max(i for i in range(0, 51) if sum(1 for v in voters if match[v] >= i) >= need)
    assert committed_index(voters, match) == brute


def test_vote_result() -> None:
    voters = [1, 2, 3, 4, 5]
    assert vote_result(voters, {1: True, 2: True}) == VoteResult.PENDING
    assert vote_result(voters, {1: True, 2: True, 3: True}) == VoteResult.WON
    assert vote_result(voters, {1: False, 2: False, 3: False}) == VoteResult.LOST
    assert vote_result(voters, {1: True, 2: False, 3: False, 4: False}) == VoteResult.LOST
    # Votes from non-voters (learners) do not count.
    assert vote_result([1, 2, 3], {1: True, 7: True, 8: True}) == VoteResult.PENDING
    assert vote_result([], {}) == VoteResult.LOST


@given(st.lists(st.sampled_from([None, True, False]), min_size=1, max_size=9))
def test_vote_result_is_monotone(votes: list[bool | None]) -> None:
    voters = list(range(1, len(votes) + 1))
    cast = {v: b for v, b in zip(voters, votes) if b is not None}
    q = len(voters) // 2 + 1
    granted = sum(1 for b in cast.values() if b)
    rejected = sum(1 for b in cast.values() if not b)
    res = vote_result(voters, cast)
    if granted >= q:
        assert res == VoteResult.WON
    elif len(voters) - rejected < q:
        assert res == VoteResult.LOST
    else:
        assert res == VoteResult.PENDING
