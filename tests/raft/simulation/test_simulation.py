"""Seeded simulations of 3- and 5-node clusters under faults; every seed checks all invariants.

A failure message ends with the one command that replays the failing seed.  The
fault-coverage assertions make sure each targeted scenario really produced the
faults it is about, and the injected driver bugs show that the checks catch them.
"""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import pytest

from .__main__ import main
from .harness import SimulationFailure, Stats, run_seed
from .linearizability import Verdict

BATCH = 10


def run_batch(seeds: range, nodes: int, scenario: str = "random", steps: int | None = None) -> Stats:
    total = Stats()
    failures: list[str] = []
    for seed in seeds:
        try:
            world = run_seed(seed, nodes, scenario, steps)
        except SimulationFailure as e:
            failures.append(str(e))
            continue
        assert world.linearizability is not None and world.linearizability.verdict is Verdict.OK
        total.add(world.stats)
    if failures:
        pytest.fail(f"{len(failures)} seed(s) failed; first:\n{failures[0]}", pytrace=False)
    return total


@pytest.mark.parametrize("start", range(0, 140, BATCH))
def test_random_faults_3_nodes(start: int) -> None:
    stats = run_batch(range(start, start + BATCH), 3, steps=300)
    assert stats.client_completed > 0 and stats.committed > 0


@pytest.mark.parametrize("start", range(10_000, 10_070, BATCH))
def test_random_faults_5_nodes(start: int) -> None:
    stats = run_batch(range(start, start + BATCH), 5, steps=300)
    assert stats.client_completed > 0 and stats.committed > 0


@pytest.mark.parametrize("nodes", [3, 5])
def test_crash_between_persist_and_send(nodes: int) -> None:
    stats = run_batch(range(20_000, 20_012), nodes, "crash-persist", steps=300)
    assert stats.crashes["after persist, before send"] >= 12
    assert stats.crashes["before persist"] >= 12
    # Leaders that sent their appends first (Ready.may_send_first) and crashed before persisting.
    assert stats.crashes["before persist, messages sent"] >= 3, stats.crashes
    assert stats.leaders > 24  # crashes of candidates and leaders force many elections


@pytest.mark.parametrize("nodes", [3, 5])
def test_partitions_that_heal(nodes: int) -> None:
    stats = run_batch(range(30_000, 30_012), nodes, "partition", steps=300)
    assert stats.partitions >= 24
    assert stats.snapshots_applied > 0  # a follower cut off long enough is caught up by snapshot


@pytest.mark.parametrize("nodes", [3, 5])
def test_membership_changes(nodes: int) -> None:
    stats = run_batch(range(40_000, 40_012), nodes, "membership", steps=300)
    for kind in ("ADD_LEARNER", "ADD_NODE", "REMOVE_NODE"):
        assert stats.conf_changes[kind] >= 5, stats.conf_changes
    assert stats.snapshots_applied > 0  # new learners start empty and behind a compacted log


def test_chaos() -> None:
    stats = run_batch(range(70_000, 70_006), 5, "chaos", steps=300)
    assert sum(stats.crashes.values()) > 12 and stats.partitions > 12


def test_messages_round_trip_through_the_codec() -> None:
    stats = run_batch(range(50_000, 50_006), 3, "wire", steps=300)
    assert stats.delivered > 0


def test_a_seed_replays_exactly() -> None:
    a = run_seed(7, 5, "random", 250)
    b = run_seed(7, 5, "random", 250)
    assert a.history == b.history
    assert a.stats == b.stats
    assert a.trace == b.trace


@pytest.mark.parametrize(
    ("inject", "caught_by"),
    [
        ("forget-vote", "vote"),  # a vote not persisted: the node votes twice in one term
        ("local-read", "not linearizable"),  # reads served locally, skipping ReadIndex
        ("lose-unsynced", ""),  # acknowledged entries lost in a crash
        ("send-before-persist", ""),  # the contract broken: a crash loses what peers already acted on
    ],
)
def test_injected_driver_bugs_are_caught(inject: str, caught_by: str) -> None:
    for seed in range(20):
        try:
            run_seed(seed, 3 + 2 * (seed % 2), inject=inject)
        except SimulationFailure as e:
            text = str(e)
            assert caught_by in text
            assert f"reproduce: .venv/bin/python -m tests.raft.simulation --seed {seed} --nodes" in text
            assert f"--inject {inject} -v" in text
            return
    pytest.fail(f"20 seeds with the injected bug {inject!r} all passed")


def test_command_line_runs_seeds_and_reports_numbers() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(["--seeds", "2", "--start", "5", "--steps", "60"])
    text = out.getvalue()
    assert status == 0, text
    assert "seeds run: 2 (2 passed, 0 failed)" in text
    assert "client ops" in text and "invariant checks" in text and "/s" in text


def test_command_line_reports_a_failing_seed_with_its_command() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(["--seed", "0", "--nodes", "3", "--inject", "local-read"])
    assert status == 1
    assert (
        "FAILED: .venv/bin/python -m tests.raft.simulation --seed 0 --nodes 3 --inject local-read -v" in out.getvalue()
    )


def test_lease_reads() -> None:
    # The lease scenario turns clock drift off (leases assume bounded drift).
    stats = run_batch(range(60_000, 60_006), 3, "lease", steps=300)
    assert stats.client_completed > 0


def test_a_lease_does_not_survive_a_leader_transfer() -> None:
    """Regression: this seed read stale data from an old leader whose transferee had been elected
    over the followers' leases (CAMPAIGN_TRANSFER); the core now stops lease reads once it sent
    TIMEOUT_NOW in a term (Raft._send_timeout_now)."""
    stats = run_batch(range(2_000_112, 2_000_113), 3, "lease")
    assert stats.client_completed > 0
