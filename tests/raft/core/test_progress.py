"""Flow control per follower: the inflight window and the PROBE / REPLICATE / SNAPSHOT states."""

from cacheflow.raft.core.inflights import Inflights
from cacheflow.raft.core.progress import Progress, ProgressState


def test_inflights_fill_and_free_cumulatively() -> None:
    inf = Inflights(3)
    for i in (5, 7, 9):
        inf.add(i)
    assert inf.full() and inf.count() == 3
    inf.free_le(6)
    assert inf.count() == 2 and not inf.full()
    inf.free_le(4)  # an old ack frees nothing
    assert inf.count() == 2
    inf.free_le(100)
    assert inf.count() == 0
    inf.add(10)
    inf.reset()
    assert inf.count() == 0


def test_probe_sends_one_message_then_waits() -> None:
    pr = Progress(next_index=5, max_inflight=4)
    assert pr.state == ProgressState.PROBE and not pr.is_paused()
    pr.sent_entries(2, 6)
    assert pr.is_paused()
    assert pr.next == 5  # probing does not advance next optimistically


def test_probe_rejection_backs_off_using_the_hint() -> None:
    pr = Progress(next_index=10, max_inflight=4)
    pr.sent_entries(1, 10)
    # A rejection of a different probe (prev index 5) is stale.
    assert not pr.maybe_decr_to(5, 2)
    # The answer to our probe (prev index 9): the follower's log may match up to 3.
    assert pr.maybe_decr_to(9, 3)
    assert pr.next == 4 and not pr.is_paused()


def test_probe_back_off_never_goes_below_match() -> None:
    pr = Progress(next_index=10, max_inflight=4, match=6)
    assert pr.maybe_decr_to(9, 0)
    assert pr.next == 7


def test_replicate_streams_until_the_window_is_full() -> None:
    pr = Progress(next_index=1, max_inflight=2)
    pr.maybe_update(3)
    pr.become_replicate()
    assert pr.next == 4
    pr.sent_entries(2, 5)
    assert pr.next == 6 and not pr.is_paused()
    pr.sent_entries(1, 6)
    assert pr.next == 7 and pr.is_paused()
    assert pr.maybe_update(5)
    pr.free_acked(5)
    assert not pr.is_paused() and pr.inflights.count() == 1


def test_replicate_rejection_restarts_after_match() -> None:
    pr = Progress(next_index=1, max_inflight=8)
    pr.maybe_update(3)
    pr.become_replicate()
    pr.sent_entries(3, 6)
    assert not pr.maybe_decr_to(2, 0)  # stale: index 2 is already known to match
    assert pr.maybe_decr_to(5, 4)
    assert pr.next == 4


def test_snapshot_state_pauses_and_probe_resumes_after_it() -> None:
    pr = Progress(next_index=3, max_inflight=8, match=2)
    pr.become_snapshot(20)
    assert pr.is_paused() and pr.pending_snapshot == 20
    pr.become_probe()
    assert pr.state == ProgressState.PROBE
    assert pr.next == 21 and pr.pending_snapshot == 0


def test_maybe_update_moves_match_and_next_forward_only() -> None:
    pr = Progress(next_index=5, max_inflight=8, match=4)
    assert not pr.maybe_update(3)
    assert pr.match == 4 and pr.next == 5
    assert pr.maybe_update(9)
    assert pr.match == 9 and pr.next == 10
