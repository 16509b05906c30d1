"""RawNode: the driver contract, configuration checks, batching and flow control.

Scenario scripts (tests/raft/scenarios) cover protocol behaviour message by message;
these tests pin the API edges and a few properties over many random runs.
"""

import random

import pytest

from cacheflow.raft import codec
from cacheflow.raft.core import (
    ConfChange,
    ConfChangeType,
    ConfigError,
    ConfState,
    Entry,
    EntryType,
    MemoryStorage,
    Message,
    MessageType,
    ProposalDroppedError,
    RaftConfig,
    RaftError,
    RawNode,
    ReadOnlyOption,
    Ready,
    Role,
)


def new_node(nid: int, storage: MemoryStorage, **kw: object) -> RawNode:
    return RawNode(RaftConfig(id=nid, storage=storage, rng=random.Random(nid), **kw))  # type: ignore[arg-type]


def persist(storage: MemoryStorage, rd: Ready) -> None:
    if rd.hard_state is not None:
        storage.set_hard_state(rd.hard_state)
    if not rd.snapshot.is_empty():
        storage.apply_snapshot(rd.snapshot)
    storage.append(rd.entries)


class Cluster:
    """A minimal faithful driver: persist, send, apply, advance."""

    def __init__(self, n: int, **kw: object) -> None:
        voters = tuple(range(1, n + 1))
        self.storage = {i: MemoryStorage.bootstrap(ConfState(voters=voters)) for i in voters}
        self.nodes = {i: new_node(i, self.storage[i], **kw) for i in voters}
        self.applied: dict[int, list[Entry]] = {i: [] for i in voters}
        self.queue: list[Message] = []
        self.readies: dict[int, list[Ready]] = {i: [] for i in voters}

    def process(self, nid: int) -> bool:
        node = self.nodes[nid]
        if not node.has_ready():
            return False
        rd = node.ready()
        self.readies[nid].append(rd)
        persist(self.storage[nid], rd)
        self.queue.extend(rd.messages)
        for e in rd.committed_entries:
            if e.type == EntryType.CONF_CHANGE:
                node.apply_conf_change(codec.decode_conf_change(e.data))
            self.applied[nid].append(e)
        node.advance(rd)
        return True

    def stabilize(self) -> None:
        for _ in range(10_000):
            moved = False
            for nid in self.nodes:
                moved |= self.process(nid)
            msgs, self.queue = self.queue, []
            for m in msgs:
                if m.to in self.nodes:
                    self.nodes[m.to].step(m)
            if not moved and not msgs:
                return
        raise AssertionError("did not stabilize")


def test_single_node_commits_in_the_ready_that_persists() -> None:
    ms = MemoryStorage.bootstrap(ConfState(voters=(1,)))
    node = new_node(1, ms)
    node.campaign()
    assert node.status().role == Role.LEADER
    rd = node.ready()
    assert [e.data for e in rd.entries] == [b""]
    assert rd.committed_entries == rd.entries  # persisted first by the driver, so safe
    assert rd.must_sync
    persist(ms, rd)
    node.advance(rd)
    node.propose(b"x")
    rd = node.ready()
    assert [e.data for e in rd.committed_entries] == [b"x"]
    persist(ms, rd)
    node.advance(rd)
    assert not node.has_ready()
    assert node.status().applied == 3


def test_ready_and_advance_must_alternate() -> None:
    node = new_node(1, MemoryStorage.bootstrap(ConfState(voters=(1,))))
    with pytest.raises(RaftError):
        node.advance(Ready())
    node.campaign()
    rd = node.ready()
    assert not node.has_ready()
    with pytest.raises(RaftError):
        node.ready()
    node.advance(rd)


def test_config_is_validated() -> None:
    ms = MemoryStorage.bootstrap(ConfState(voters=(1,)))
    with pytest.raises(ConfigError):
        new_node(1, ms, read_only_option=ReadOnlyOption.LEASE_BASED)
    with pytest.raises(ConfigError):
        new_node(1, ms, election_tick=2, heartbeat_tick=2)
    with pytest.raises(ConfigError):
        new_node(0, ms)
    with pytest.raises(ConfigError):
        new_node(1, ms, applied=5)  # beyond the commit index
    new_node(1, ms, read_only_option=ReadOnlyOption.LEASE_BASED, check_quorum=True)


def test_step_rejects_local_and_misaddressed_messages() -> None:
    node = new_node(1, MemoryStorage.bootstrap(ConfState(voters=(1, 2))))
    with pytest.raises(RaftError):
        node.step(Message(MessageType.HUP, to=1))
    with pytest.raises(RaftError):
        node.step(Message(MessageType.HEARTBEAT, to=2, from_=1, term=5))
    with pytest.raises(RaftError):
        node.read_index(b"")


def test_requests_without_a_leader_are_dropped() -> None:
    node = new_node(1, MemoryStorage.bootstrap(ConfState(voters=(1, 2, 3))))
    with pytest.raises(ProposalDroppedError):
        node.propose(b"x")
    with pytest.raises(ProposalDroppedError):
        node.read_index(b"ctx")
    with pytest.raises(ProposalDroppedError):
        node.propose_conf_change(ConfChange(ConfChangeType.ADD_NODE, 4))


def test_commit_alone_does_not_need_fsync() -> None:
    c = Cluster(3)
    c.nodes[1].campaign()
    c.stabilize()
    c.nodes[1].propose(b"a")
    c.stabilize()
    follower_readies = c.readies[2]
    commit_only = [rd for rd in follower_readies if rd.hard_state and not rd.entries and rd.committed_entries]
    assert commit_only and not any(rd.must_sync for rd in commit_only)
    assert all(rd.must_sync for rd in follower_readies if rd.entries)


def test_only_a_leaders_ready_with_durable_term_and_vote_may_send_first() -> None:
    """may_send_first: a leader's appends and heartbeats may overlap its fsync; votes and acks may not."""
    c = Cluster(3)
    c.nodes[1].campaign()
    c.stabilize()
    c.nodes[1].propose(b"a")
    c.stabilize()
    for nid, readies in c.readies.items():
        for rd in readies:
            if rd.may_send_first:
                assert nid == 1
                assert all(m.type in (MessageType.APP, MessageType.HEARTBEAT) for m in rd.messages), rd.messages
    leader = c.readies[1]
    campaign = leader[0]
    assert campaign.must_sync and campaign.hard_state is not None and not campaign.may_send_first  # its votes
    appends = [rd for rd in leader if rd.entries and rd.messages]
    assert appends and all(rd.may_send_first for rd in appends)
    for nid in (2, 3):  # followers: acknowledgements and votes promise durable state
        assert c.readies[nid] and not any(rd.may_send_first for rd in c.readies[nid])
    single = Cluster(1)
    single.nodes[1].campaign()
    single.stabilize()
    single.nodes[1].propose(b"x")
    single.stabilize()
    first, *later = single.readies[1]
    assert single.nodes[1].status().role == Role.LEADER
    assert first.hard_state is not None and not first.may_send_first  # leader in the Ready of its new term
    # A single voter commits on its own append: no message may announce that commit early.
    own = [rd for rd in later if rd.entries]
    assert own and all(rd.hard_state and rd.hard_state.commit >= rd.entries[0].index for rd in own)
    assert not any(rd.may_send_first for rd in own)


def test_pipelined_proposals_are_batched_into_one_app_per_follower() -> None:
    c = Cluster(3)
    c.nodes[1].campaign()
    c.stabilize()
    for i in range(500):
        c.nodes[1].propose(b"%03d" % i)
    rd = c.nodes[1].ready()
    apps = [m for m in rd.messages if m.type == MessageType.APP]
    assert [(m.to, len(m.entries)) for m in apps] == [(2, 500), (3, 500)]
    c.nodes[1].advance(rd)


def test_message_size_and_inflight_window_bound_what_is_sent() -> None:
    c = Cluster(3, max_size_per_msg=1, max_inflight_msgs=2)
    c.nodes[1].campaign()
    c.stabilize()
    c.nodes[1].propose_batch([b"aa", b"bb", b"cc", b"dd", b"ee"])
    rd = c.nodes[1].ready()
    apps = [m for m in rd.messages if m.type == MessageType.APP and m.to == 2]
    # One entry per message (each is bigger than max_size), two messages in flight.
    assert [len(m.entries) for m in apps] == [1, 1]
    c.nodes[1].advance(rd)
    persist(c.storage[1], rd)
    c.queue.extend(rd.messages)
    c.stabilize()
    assert [e.data for e in c.applied[3] if e.data] == [b"aa", b"bb", b"cc", b"dd", b"ee"]


def test_uncommitted_size_limit_drops_proposals() -> None:
    c = Cluster(3, max_uncommitted_entries_size=10)
    c.nodes[1].campaign()
    c.stabilize()
    c.nodes[1].propose(b"x" * 8)
    with pytest.raises(ProposalDroppedError):
        c.nodes[1].propose(b"y" * 8)
    c.stabilize()
    c.nodes[1].propose(b"y" * 8)  # committed and applied: room again


def test_one_pending_conf_change_at_a_time() -> None:
    c = Cluster(3)
    c.nodes[1].campaign()
    c.stabilize()
    c.nodes[1].propose_conf_change(ConfChange(ConfChangeType.ADD_LEARNER, 4))
    with pytest.raises(ProposalDroppedError):
        c.nodes[1].propose_conf_change(ConfChange(ConfChangeType.REMOVE_NODE, 3))
    c.stabilize()
    assert c.nodes[2].status().conf_state == ConfState(voters=(1, 2, 3), learners=(4,))
    c.nodes[1].propose_conf_change(ConfChange(ConfChangeType.REMOVE_NODE, 3))
    c.stabilize()
    assert c.nodes[1].status().conf_state == ConfState(voters=(1, 2), learners=(4,))


def test_restart_hands_out_committed_entries_after_applied() -> None:
    c = Cluster(3)
    c.nodes[1].campaign()
    c.stabilize()
    for d in (b"a", b"b", b"c"):
        c.nodes[1].propose(d)
    c.stabilize()
    st = c.storage[2]
    restarted = new_node(2, st, applied=3)  # 1 bootstrap, 2 no-op, 3 "a"
    rd = restarted.ready()
    assert [e.data for e in rd.committed_entries] == [b"b", b"c"]
    assert rd.hard_state is None and not rd.entries
    assert restarted.status().term == c.nodes[1].status().term


@pytest.mark.parametrize("seed", range(30))
def test_random_runs_keep_raft_safety(seed: int) -> None:
    """Random ticks, proposals, drops, duplicates and reorders on 3 or 5 nodes; after every
    step: at most one leader per term, and every node's applied entries are a prefix of
    one common sequence (state machine safety)."""
    rng = random.Random(seed)
    n = 3 if seed % 2 else 5
    c = Cluster(n, pre_vote=bool(seed % 3), check_quorum=bool(seed % 4 == 1), election_tick=10)
    leaders: dict[int, int] = {}
    for step in range(1500):
        nid = rng.randrange(1, n + 1)
        action = rng.random()
        if action < 0.08:
            c.nodes[nid].tick()
        elif action < 0.15:
            try:
                c.nodes[nid].propose(b"%d-%d" % (seed, step))
            except ProposalDroppedError:
                pass
        elif action < 0.45:
            c.process(nid)
        elif c.queue:
            # Mostly the oldest messages (a network with some delay), sometimes any.
            i = rng.randrange(min(len(c.queue), 4 if rng.random() < 0.9 else len(c.queue)))
            m = c.queue[i]
            r = rng.random()
            if r < 0.05:
                del c.queue[i]  # lost
            elif r < 0.08:
                c.nodes[m.to].step(m)  # duplicated: stays queued too
            else:
                del c.queue[i]
                c.nodes[m.to].step(m)
        for node in c.nodes.values():
            st = node.status()
            if st.role == Role.LEADER:
                assert leaders.setdefault(st.term, st.id) == st.id, f"two leaders in term {st.term}"
        longest = max(c.applied.values(), key=len)
        for applied in c.applied.values():
            assert applied == longest[: len(applied)]
    assert leaders, "no leader was ever elected"
    assert sum(1 for e in max(c.applied.values(), key=len) if e.data) > 0, "nothing was ever committed"


def test_a_follower_with_a_known_leader_does_not_vote_in_that_term() -> None:
    node = new_node(2, MemoryStorage.bootstrap(ConfState(voters=(1, 2, 3))))
    # It learns of leader 1 in term 5 from a heartbeat (it never voted in term 5).
    node.step(Message(MessageType.HEARTBEAT, to=2, from_=1, term=5, commit=1))
    node.advance(node.ready())
    assert node.status().vote == 0 and node.status().leader == 1
    # Node 3 asks for a vote in the same term: there is a leader, so no.
    node.step(Message(MessageType.VOTE, to=2, from_=3, term=5, log_term=5, index=99))
    rd = node.ready()
    assert [(m.type, m.reject) for m in rd.messages] == [(MessageType.VOTE_RESP, True)]
    assert rd.hard_state is None  # no vote recorded
