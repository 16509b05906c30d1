"""Majority arithmetic over a set of voters: the committed index and election outcomes.

A single (non-joint) majority configuration.  An empty voter set commits nothing and
wins nothing; the core never runs with one (removing the last voter is refused).
"""

from collections.abc import Collection, Mapping
from enum import IntEnum


class VoteResult(IntEnum):
    PENDING = 0
    LOST = 1
    WON = 2


def majority(n: int) -> int:
    return n // 2 + 1


def committed_index(voters: Collection[int], match: Mapping[int, int]) -> int:
    """The largest index acknowledged by a majority of ``voters`` (missing voters count as 0)."""
    n = len(voters)
    if n == 0:
        return 0
    acked = sorted([match.get(v, 0) for v in voters])
    # With the acks sorted ascending, the majority(n) largest are all >= this one.
    return acked[n - majority(n)]


def vote_result(voters: Collection[int], votes: Mapping[int, bool]) -> VoteResult:
    """WON once a majority granted, LOST once a majority can no longer be reached."""
    n = len(voters)
    if n == 0:
        return VoteResult.LOST
    granted = rejected = 0
    for v in voters:
        vote = votes.get(v)
        if vote is None:
            continue
        if vote:
            granted += 1
        else:
            rejected += 1
    q = majority(n)
    if granted >= q:
        return VoteResult.WON
    if n - rejected >= q:
        return VoteResult.PENDING
    return VoteResult.LOST
