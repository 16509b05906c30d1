"""bench/cache/traces.py: the hit-ratio benchmark's request traces are deterministic and have the shape they claim.

A hit-ratio comparison is only as good as its traces: the same seed must give the
same requests to every server, the Zipf law must really have skew 0.99, the scan
trace must put its designed share of requests into runs over cold keys, and the
shift trace's hot set must really move.  Small key counts keep this to a second or two.
"""

import math
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.cache import traces

KEYS = 10_000
REQUESTS = 200_000


@pytest.fixture(scope="module")
def generated() -> dict[str, list[int]]:
    return {name: list(traces.generate(name, KEYS, REQUESTS, seed=7)) for name in traces.TRACES}


def _ranks_of(keys: int, seed: int, phase: int = 0) -> dict[int, int]:
    """key id -> popularity rank, from the trace's own permutation."""
    return {key: rank for rank, key in enumerate(traces.permutation(keys, seed, phase))}


def _slope(counts: Counter[int], order: list[int], first: int, last: int) -> float:
    """Least-squares slope of log(count) against log(rank + 1) over ranks [first, last)."""
    xs = [math.log(r + 1) for r in range(first, last)]
    ys = [math.log(max(1, counts[order[r]])) for r in range(first, last)]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


@pytest.mark.parametrize("name", sorted(traces.TRACES))
def test_same_seed_same_trace_other_seed_other_trace(name: str) -> None:
    short = REQUESTS // 10
    once = list(traces.generate(name, KEYS, short, seed=7))
    again = list(traces.generate(name, KEYS, short, seed=7))
    other = list(traces.generate(name, KEYS, short, seed=8))
    assert again == once
    assert other != once


@pytest.mark.parametrize("name", ["zipf", "scan"])
def test_a_shorter_trace_is_a_prefix(name: str, generated: dict[str, list[int]]) -> None:
    short = REQUESTS // 10
    assert list(traces.generate(name, KEYS, short, seed=7)) == generated[name][:short]


@pytest.mark.parametrize("name", sorted(traces.TRACES))
def test_length_and_range(name: str, generated: dict[str, list[int]]) -> None:
    trace = generated[name]
    assert len(trace) == REQUESTS
    assert min(trace) >= 0
    assert max(trace) < KEYS


def test_zipf_skew_is_about_0_99(generated: dict[str, list[int]]) -> None:
    counts = Counter(generated["zipf"])
    order = list(traces.permutation(KEYS, 7))
    # Ranks 1-200 each get 100+ requests here, so their counts are precise enough for a slope.
    assert -1.07 < _slope(counts, order, 0, 200) < -0.91
    # The most popular key's share is 1 / H(KEYS, 0.99), about 10.0% for 10,000 keys.
    harmonic = sum(1 / (r**traces.ZIPF_SKEW) for r in range(1, KEYS + 1))
    assert counts[order[0]] / REQUESTS == pytest.approx(1 / harmonic, rel=0.05)


def test_zipf_hot_keys_are_scattered_over_the_id_space() -> None:
    hot = list(traces.permutation(KEYS, 7))[:100]
    assert hot != sorted(hot)
    assert max(hot) - min(hot) > KEYS // 2


def test_scan_share_and_runs_are_as_designed(generated: dict[str, list[int]]) -> None:
    scan, zipf = generated["scan"], generated["zipf"]
    rank = _ranks_of(KEYS, 7)
    _, run = traces.scan_layout(KEYS)
    assert run == KEYS * traces.SCAN_RUN_FRACTION
    is_scan = [traces.is_scan_position(i, KEYS) for i in range(REQUESTS)]
    positions = [i for i in range(REQUESTS) if is_scan[i]]
    assert len(positions) / REQUESTS == pytest.approx(traces.SCAN_SHARE, abs=0.01)
    # Outside the scans the trace is exactly the zipf trace of the same seed.
    assert all(scan[i] == zipf[i] for i in range(REQUESTS) if not is_scan[i])
    cold_from = int(KEYS * traces.SCAN_COLD_FROM)
    scanned_ranks = [rank[scan[i]] for i in positions]
    assert min(scanned_ranks) >= cold_from
    # Each run walks consecutive cold ranks (wrapping inside the cold half): sequential, no repeats.
    first_run = scanned_ranks[:run]
    assert first_run == list(range(cold_from, cold_from + run))
    assert len(set(first_run)) == run
    second_run = scanned_ranks[run : 2 * run]
    assert second_run[0] == cold_from + run
    # Zipf alone rarely asks for those keys: the scanned keys are cold outside the scans.
    scanned = set(scan[i] for i in positions)
    outside = sum(1 for i in range(REQUESTS) if not is_scan[i] and scan[i] in scanned)
    assert outside / (REQUESTS - len(positions)) < 0.08


def test_shift_moves_the_hot_set_halfway(generated: dict[str, list[int]]) -> None:
    trace = generated["shift"]
    half = REQUESTS // 2
    first, second = trace[:half], trace[half:]
    assert first == generated["zipf"][:half]
    hot_before = set(list(traces.permutation(KEYS, 7, 0))[:100])
    hot_after = set(list(traces.permutation(KEYS, 7, 1))[:100])
    assert len(hot_before & hot_after) < 10

    def share(requests: list[int], hot: set[int]) -> float:
        return sum(1 for k in requests if k in hot) / len(requests)

    # The top 1% of keys takes about half the requests while it is hot, next to nothing afterwards.
    assert share(first, hot_before) > 0.4
    assert share(second, hot_before) < 0.05
    assert share(second, hot_after) > 0.4
    # The second half is a Zipf law of its own over the new permutation.
    assert -1.07 < _slope(Counter(second), list(traces.permutation(KEYS, 7, 1)), 0, 100) < -0.91


def test_unknown_trace_and_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown trace"):
        traces.generate("loop", KEYS, 10)
    with pytest.raises(ValueError):
        traces.generate("zipf", 1, 10)


def test_key_names_are_16_bytes_and_distinct() -> None:
    assert traces.key_name(42) == b"key:000000000042"
    assert len({traces.key_name(i) for i in range(1000)}) == 1000
    assert {len(traces.key_name(i)) for i in (0, KEYS - 1, 999_999)} == {16}
