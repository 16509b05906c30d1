"""A seeded, deterministic world of RawNodes, an unreliable network, faults and KV clients.

One ``random.Random(seed)`` decides everything (fault times, message fates, client
ops, and the seeds of each node's own election-timeout generator); there is no
wall clock and no threads, so a seed replays exactly.  Time is the world step
counter; nodes advance their logical clocks only through ``tick()``.

What one world step does, in order:

1. faults: crash a node (its volatile state -- RawNode, state machine, pending
   reads -- is lost; its MemoryStorage is what it had persisted, i.e. its durable
   state), restart crashed nodes from that storage, start or heal a partition,
   propose a membership change (add a learner on a fresh id, promote it, remove a
   voter -- possibly the leader), ask for a leader transfer, compact logs behind a
   snapshot of the state machine (so lagging nodes are sent snapshots);
2. clients start ops (put / cas / get through the log / get through ReadIndex) on
   the node they stick to (picked as the leader, or any node: followers forward; a
   client keeps it -- even a deposed, partitioned leader -- until an op there fails)
   or give up on ops that took too long or whose node died: those are recorded as
   pending;
3. live nodes tick (with some probability, so leadership is not too calm; now and
   then one node misses a tick: drift);
4. the network delivers due messages in random order: each message is lost,
   duplicated, delayed by 1..max_delay steps (hence reordered; a few are held back
   much longer, so messages from a previous term or incarnation show up late) or cut by a
   partition, each by its own die roll; snapshot delivery is reported back
   (``report_snapshot``), and cut messages are sometimes ``report_unreachable``;
5. every node with a Ready handles it by the contract: persist (snapshot,
   entries, hard state) -> send -> apply committed entries in order and serve
   read states whose index is applied -> ``advance``.  A Ready sometimes crashes
   its node before persisting, or between persisting and sending;
6. the invariants (``_check_step`` and the checks hooked into persist/apply).

Invariants (an ``InvariantViolation`` names the step and the seed's command):

* election safety: at most one leader per term, over the whole run (looked at after every
  message a node steps and every tick, through the read-only ``RawNode.raft``, and at each Ready);
* log matching: every (index, term) ever persisted anywhere carries the same
  entry and the same previous term (with the check that each storage holds exactly
  what was appended, this gives identical prefixes by induction); terms never
  decrease along a log; plus a full pairwise comparison of all logs every
  ``full_check_every`` steps and at the end;
* leader completeness: every entry known committed in term t is in the log of
  every leader of a term > t -- checked when a leader is elected (against what is
  known committed) and when an entry is first seen committed (against the logs
  the later leaders had when elected).  "Committed in term t" uses the smallest
  term any node had when applying it, which is >= the true commit term, so the
  check never blames a leader it should not;
* state machine safety: no two nodes apply different entries at one index, each
  node applies contiguously, and each replica's state after index i equals a
  reference machine's state after i (snapshots included);
* durability: a node's persisted term never decreases, its vote never changes
  within a term, and no committed entry is overwritten in any storage.

At the end a quiet period (partitions healed, crashed nodes restarted, no new
faults) must bring every member to the same applied state, and the recorded
client history must pass the linearizability checker.

Pre-vote, check-quorum, paging of committed entries and the uncommitted-size cap
are drawn per seed; ``SCENARIOS`` shift the fault mix; ``inject`` breaks the
driver on purpose so the tests can show the checks catch it.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace

from cacheflow.raft.codec import decode_conf_change, decode_message, encode_message
from cacheflow.raft.core import (
    CompactedError,
    ConfChange,
    ConfChangeType,
    ConfState,
    Entry,
    EntryType,
    HardState,
    MemoryStorage,
    Message,
    MessageType,
    ProposalDroppedError,
    RaftConfig,
    RawNode,
    ReadOnlyOption,
    ReadState,
    Ready,
    Role,
)

from .kv import KVStateMachine, Result, encode_command
from .linearizability import CheckResult, Op, Verdict, check_history


class SimulationFailure(AssertionError):
    """A seed broke something; the message holds the one command that replays it."""


class InvariantViolation(SimulationFailure):
    pass


@dataclass(frozen=True, slots=True)
class SimConfig:
    nodes: int = 3
    steps: int = 500
    quiet_steps: int = 1000  # ends as soon as the cluster has converged (usually within 50 steps)
    clients: int = 5
    keys: int = 3
    client_rate: float = 0.25  # chance per step that an idle client starts an op
    client_timeout: int = 40  # steps before a client gives up (op recorded as pending)
    client_switch: float = 0.15  # chance per op that a client picks a node afresh
    tick_p: float = 0.5  # chance per step that live nodes tick
    skew: float = 0.1  # chance that one node misses a tick the others take (clock drift)
    drop: float = 0.05
    duplicate: float = 0.03
    max_delay: int = 3
    long_delay: float = 0.01  # chance that a message is held back long_delay_range steps
    long_delay_range: tuple[int, int] = (5, 60)
    crash: float = 0.004  # chance per step of crashing a live node between steps
    crash_in_ready: float = 0.004  # chance per Ready of crashing before persist / between persist and send
    restart_after: tuple[int, int] = (5, 60)
    partition: float = 0.006
    partition_len: tuple[int, int] = (15, 120)
    membership: float = 0.004
    transfer: float = 0.003
    compact_after: int = 12  # entries applied past the snapshot before a compaction may happen
    max_msg_bytes: int = 600  # small, so appends are split across messages
    max_inflight: int = 4  # small, so flow control pauses followers
    pre_vote: bool | None = None  # None: decided per seed (half the seeds)
    check_quorum: bool | None = None  # None: decided per seed (3 seeds in 4)
    wire: bool = False  # round-trip every message through the binary codec
    lease_reads: bool = False  # ReadOnlyOption.LEASE_BASED instead of SAFE (needs check_quorum)
    full_check_every: int = 25
    # A deliberately broken *driver*, to show the checks catch real bugs (tests only):
    # "forget-vote" persists hard states without the vote; "local-read" serves reads from the
    # contacted node's state machine at once, skipping ReadIndex; "lose-unsynced" "fsyncs" only every
    # 8th Ready, so a crash between steps loses writes whose messages already went out;
    # "send-before-persist" sends a Ready's messages first, so a crash "before persist" loses state
    # that other nodes already acted on.
    inject: str = ""


SCENARIOS: dict[str, dict[str, object]] = {
    "random": {},
    # mostly a Ready that crashes its node after persisting and before sending
    "crash-persist": {"crash": 0.0, "crash_in_ready": 0.03, "partition": 0.0, "membership": 0.0},
    "partition": {
        "crash": 0.0,
        "crash_in_ready": 0.0,
        "partition": 0.03,
        "partition_len": (20, 150),
        "membership": 0.0,
    },
    "membership": {"membership": 0.03, "crash": 0.002, "partition": 0.003},
    "calm": {
        "drop": 0.0,
        "duplicate": 0.0,
        "crash": 0.0,
        "crash_in_ready": 0.0,
        "partition": 0.0,
        "membership": 0.0,
        "transfer": 0.0,
    },
    "wire": {"wire": True},
    # everything at once, and a lot of it
    "chaos": {
        "drop": 0.15,
        "duplicate": 0.1,
        "long_delay": 0.05,
        "crash": 0.01,
        "crash_in_ready": 0.01,
        "partition": 0.03,
        "membership": 0.02,
        "transfer": 0.01,
        "skew": 0.3,
    },
    # lease reads are only safe without clock drift, and need check-quorum
    "lease": {"lease_reads": True, "check_quorum": True, "skew": 0.0},
}


INJECTIONS = ("forget-vote", "local-read", "lose-unsynced", "send-before-persist")


def make_config(scenario: str = "random", nodes: int = 3, steps: int | None = None, inject: str = "") -> SimConfig:
    overrides = dict(SCENARIOS[scenario])
    overrides["nodes"] = nodes
    if steps is not None:
        overrides["steps"] = steps
    if inject:
        assert inject in INJECTIONS, inject
        overrides["inject"] = inject
    known = {f.name for f in fields(SimConfig)}
    assert set(overrides) <= known, set(overrides) - known
    return replace(SimConfig(), **overrides)  # type: ignore[arg-type]


def reproduce_command(seed: int, nodes: int, scenario: str, steps: int | None, inject: str = "") -> str:
    cmd = f".venv/bin/python -m tests.raft.simulation --seed {seed} --nodes {nodes}"
    if scenario != "random":
        cmd += f" --scenario {scenario}"
    if steps is not None:
        cmd += f" --steps {steps}"
    if inject:
        cmd += f" --inject {inject}"
    return cmd + " -v"


@dataclass(slots=True)
class Stats:
    steps: int = 0
    ticks: int = 0
    delivered: int = 0
    dropped: int = 0
    duplicated: int = 0
    readies: int = 0
    entries_applied: int = 0
    committed: int = 0
    client_ops: int = 0
    client_completed: int = 0
    client_pending: int = 0
    client_refused: int = 0
    checks: int = 0  # invariant evaluations: 4 per step + full log comparisons
    comparisons: int = 0  # entry-level comparisons those evaluations made
    leaders: int = 0
    snapshots_sent: int = 0
    snapshots_applied: int = 0
    compactions: int = 0
    partitions: int = 0
    transfers: int = 0
    crashes: Counter[str] = field(default_factory=Counter)
    conf_changes: Counter[str] = field(default_factory=Counter)  # committed, by type
    linearizability_steps: int = 0

    def add(self, other: Stats) -> None:
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if isinstance(mine, Counter):
                mine.update(theirs)
            else:
                setattr(self, f.name, mine + theirs)


@dataclass(slots=True)
class SimNode:
    id: int
    storage: MemoryStorage
    raw: RawNode | None = None
    sm: KVStateMachine = field(default_factory=KVStateMachine)
    applied: int = 0
    conf_state: ConfState = field(default_factory=ConfState)
    role: Role = Role.FOLLOWER
    term: int = 0
    lead: int = 0
    reads: list[ReadState] = field(default_factory=list)
    removed: bool = False
    restart_at: int | None = None
    synced: MemoryStorage | None = None  # inject="lose-unsynced": the storage as of the last "fsync"
    persists: int = 0

    @property
    def alive(self) -> bool:
        return self.raw is not None


@dataclass(slots=True)
class ClientOp:
    op_id: int
    client: int
    kind: str  # put | cas | get (through the log) | read (ReadIndex)
    key: str
    node: int
    invoke: int
    deadline: int
    value: str | None = None
    expected: str | None = None


class World:
    def __init__(
        self,
        seed: int,
        cfg: SimConfig,
        *,
        scenario: str = "random",
        steps_arg: int | None = None,
        verbose: int = 0,
        printer: Callable[[str], None] = print,
    ) -> None:
        self.seed = seed
        self.cfg = cfg
        self.command = reproduce_command(seed, cfg.nodes, scenario, steps_arg, cfg.inject)
        self.rng = random.Random(seed)
        self.verbose = verbose
        self.printer = printer
        self.trace: deque[str] = deque(maxlen=40)
        self.now = 0
        self.stats = Stats()
        self.nodes: dict[int, SimNode] = {}
        self.next_node_id = cfg.nodes + 1
        self.quiet = False
        # network
        self.in_flight: list[tuple[int, int, Message]] = []  # (deliver at, seq, message)
        self.msg_seq = 0
        self.groups: dict[int, int] | None = None  # partition: node id -> side
        self.heal_at = 0
        self.reports: list[tuple[int, str, int, bool]] = []  # (node, "snap"|"unreach", peer, ok)
        self.shutdown_at: dict[int, int] = {}
        # clients and history
        self.clock = 0  # history time: one tick per invoke/complete event
        self.next_op_id = 1
        self.outstanding: dict[int, ClientOp] = {}  # op id -> op
        self.busy: dict[int, int] = {}  # client -> op id
        self.history: list[Op] = []
        self.last_written: dict[str, str] = {}
        self.client_counter: Counter[int] = Counter()
        self.guess: dict[int, int] = {}  # client -> the node it sticks to until that fails
        # invariant state
        self.leader_of_term: dict[int, int] = {}
        self.leader_logs: dict[int, tuple[int, int, list[int]]] = {}  # term -> (leader, snapshot index, terms after)
        self.registry: dict[tuple[int, int], tuple[EntryType, bytes, int]] = {}
        self.committed: dict[int, Entry] = {}
        self.commit_term: dict[int, int] = {}
        self.reference = KVStateMachine()
        self.reference_applied = 1
        self.reference_states: dict[int, tuple[tuple[str, str], ...]] = {1: ()}
        self.durable_hs: dict[int, HardState] = {}
        self.linearizability: CheckResult | None = None

        self.pre_vote = cfg.pre_vote if cfg.pre_vote is not None else self.rng.random() < 0.5
        self.check_quorum = cfg.check_quorum if cfg.check_quorum is not None else self.rng.random() < 0.75
        # sometimes page committed entries across Readies, sometimes cap the uncommitted tail
        self.committed_per_ready = self.rng.choice([0, 0, 400])
        self.uncommitted_cap = self.rng.choice([0, 0, 1500])
        voters = tuple(range(1, cfg.nodes + 1))
        for nid in voters:
            node = SimNode(nid, MemoryStorage.bootstrap(ConfState(voters=voters)))
            self.nodes[nid] = node
            self._start(node)

    # ------------------------------------------------------------------ driving

    def run(self) -> Stats:
        try:
            for _ in range(self.cfg.steps):
                self.step()
            self._quiet_period()
            self._final_checks()
        except SimulationFailure as e:
            raise type(e)(f"{e}\n{self._trace_text()}\nreproduce: {self.command}") from None
        except Exception as e:
            raise SimulationFailure(
                f"step {self.now}: {type(e).__name__}: {e}\n{self._trace_text()}\nreproduce: {self.command}"
            ) from e
        return self.stats

    def step(self) -> None:
        self.now += 1
        self.stats.steps += 1
        if not self.quiet:
            self._faults()
        self._restarts_and_shutdowns()
        self._clients()
        self._tick()
        self._deliver()
        self._readies()
        self._check_step()

    def _start(self, node: SimNode) -> None:
        snap = node.storage.snapshot()
        hs, _ = node.storage.initial_state()
        node.sm = KVStateMachine.restore(snap.data)
        node.applied = snap.metadata.index
        node.conf_state = snap.metadata.conf_state
        node.role, node.term, node.lead, node.reads = Role.FOLLOWER, hs.term, 0, []
        node.restart_at = None
        node.raw = RawNode(
            RaftConfig(
                id=node.id,
                storage=node.storage,
                rng=random.Random(self.rng.getrandbits(64)),
                election_tick=10,
                heartbeat_tick=1,
                check_quorum=self.check_quorum,
                pre_vote=self.pre_vote,
                read_only_option=ReadOnlyOption.LEASE_BASED if self.cfg.lease_reads else ReadOnlyOption.SAFE,
                max_size_per_msg=self.cfg.max_msg_bytes,
                max_inflight_msgs=self.cfg.max_inflight,
                applied=node.applied,
                max_committed_size_per_ready=self.committed_per_ready,
                max_uncommitted_entries_size=self.uncommitted_cap,
            )
        )

    def _crash(self, node: SimNode, why: str) -> None:
        node.raw = None
        node.reads = []
        node.role = Role.FOLLOWER
        if node.synced is not None and why == "between steps":
            node.storage, node.synced = node.synced, None
        node.restart_at = self.now + self.rng.randint(*self.cfg.restart_after)
        self.stats.crashes[why] += 1
        self._event(f"crash n{node.id} ({why}); restart at {node.restart_at}")

    def alive(self) -> list[SimNode]:
        return [n for n in self.nodes.values() if n.raw is not None]

    def leader(self) -> SimNode | None:
        best: SimNode | None = None
        for n in self.alive():
            if n.role == Role.LEADER and (best is None or n.term > best.term):
                best = n
        return best

    # ------------------------------------------------------------------ faults

    def _faults(self) -> None:
        cfg, rng = self.cfg, self.rng
        if cfg.crash and rng.random() < cfg.crash:
            live = self.alive()
            if live:
                lead = self.leader()
                victim = lead if lead is not None and rng.random() < 0.4 else rng.choice(live)
                self._crash(victim, "between steps")
        if cfg.partition:
            if self.groups is None and rng.random() < cfg.partition:
                self._partition()
            elif self.groups is not None and self.now >= self.heal_at:
                self._heal()
        if cfg.membership and rng.random() < cfg.membership:
            self._membership_change()
        if cfg.transfer and rng.random() < cfg.transfer:
            lead = self.leader()
            if lead is not None and lead.raw is not None:
                others = [v for v in lead.conf_state.voters if v != lead.id]
                if others:
                    target = rng.choice(others)
                    lead.raw.transfer_leader(target)
                    self.stats.transfers += 1
                    self._event(f"n{lead.id} asked to transfer leadership to n{target}")
        for node in self.alive():
            if node.applied - node.storage.first_index() + 1 > cfg.compact_after and rng.random() < 0.1:
                self._compact(node)

    def _partition(self) -> None:
        ids = sorted(self.nodes)
        lead = self.leader()
        if self.rng.random() < 0.5:
            lonely = lead.id if lead is not None and self.rng.random() < 0.6 else self.rng.choice(ids)
            self.groups = {i: int(i == lonely) for i in ids}
        else:
            self.groups = {i: self.rng.randrange(2) for i in ids}
        self.heal_at = self.now + self.rng.randint(*self.cfg.partition_len)
        self.stats.partitions += 1
        sides = [sorted(i for i, g in self.groups.items() if g == s) for s in (0, 1)]
        self._event(f"partition {sides[0]} | {sides[1]} until {self.heal_at}")

    def _heal(self) -> None:
        self.groups = None
        self._event("partition healed")

    def _connected(self, a: int, b: int) -> bool:
        return self.groups is None or self.groups.get(a, 0) == self.groups.get(b, 0)

    def _membership_change(self) -> None:
        lead = self.leader()
        if lead is None or lead.raw is None:
            return
        cs = lead.conf_state
        min_voters = 3 if self.cfg.nodes >= 5 else 2
        new_node = False
        if cs.learners:
            cc = ConfChange(ConfChangeType.ADD_NODE, self.rng.choice(cs.learners))
        elif len(cs.voters) > min_voters and self.rng.random() < 0.5:
            cc = ConfChange(ConfChangeType.REMOVE_NODE, self.rng.choice(cs.voters))
        elif len(self.nodes) < self.cfg.nodes + 6:
            cc = ConfChange(ConfChangeType.ADD_LEARNER, self.next_node_id)
            new_node = True
        else:
            return
        try:
            lead.raw.propose_conf_change(cc)
        except ProposalDroppedError:
            return
        self._event(f"n{lead.id} proposed {cc.type.name} n{cc.node_id}")
        if new_node:  # a fresh, empty node that waits to be contacted
            node = SimNode(self.next_node_id, MemoryStorage())
            self.next_node_id += 1
            self.nodes[node.id] = node
            if self.groups is not None:
                self.groups[node.id] = self.groups.get(lead.id, 0)
            self._start(node)

    def _compact(self, node: SimNode) -> None:
        index = node.applied
        node.storage.create_snapshot(index, node.conf_state, node.sm.snapshot())
        node.storage.compact(index)
        self.stats.compactions += 1
        self._trace(f"n{node.id} compacted through {index}")

    def _restarts_and_shutdowns(self) -> None:
        for node in list(self.nodes.values()):
            if node.raw is None and not node.removed and node.restart_at is not None and node.restart_at <= self.now:
                self._start(node)
                self._event(f"restart n{node.id} (term {node.term}, applied {node.applied})")
        for nid, at in list(self.shutdown_at.items()):
            if at <= self.now:
                del self.shutdown_at[nid]
                node = self.nodes[nid]
                node.raw = None
                node.removed = True
                self._event(f"n{nid} shut down (removed from the cluster)")

    # ------------------------------------------------------------------ clients

    def _clients(self) -> None:
        for op in list(self.outstanding.values()):
            node = self.nodes[op.node]
            if self.now >= op.deadline or node.raw is None:
                self._give_up(op)
        if self.quiet:
            return
        for client in range(1, self.cfg.clients + 1):
            if client not in self.busy and self.rng.random() < self.cfg.client_rate:
                self._start_op(client)

    def _start_op(self, client: int) -> None:
        rng = self.rng
        live = [n for n in self.alive() if not n.removed]
        if not live:
            return
        # A client sticks to the node that last served it (so it keeps talking to a deposed,
        # partitioned leader for a while, as real clients do) until an op there fails.
        node = self.nodes.get(self.guess.get(client, 0))
        if node is None or node.raw is None or node.removed or rng.random() < self.cfg.client_switch:
            lead = self.leader()
            node = lead if lead is not None and rng.random() < 0.7 else rng.choice(live)
            self.guess[client] = node.id
        assert node.raw is not None
        kind = rng.choices(["put", "cas", "get", "read"], weights=[4, 2, 2, 3])[0]
        key = f"k{rng.randrange(self.cfg.keys)}"
        self.client_counter[client] += 1
        op = ClientOp(self.next_op_id, client, kind, key, node.id, 0, self.now + self.cfg.client_timeout)
        if kind in ("put", "cas"):
            op.value = f"c{client}.{self.client_counter[client]}"
        if kind == "cas":
            op.expected = self.last_written.get(key) if rng.random() < 0.8 else None
        try:
            if kind == "read" and self.cfg.inject == "local-read":
                pass
            elif kind == "read":
                node.raw.read_index(str(op.op_id).encode())
            else:
                node.raw.propose(encode_command(op.op_id, kind, key, op.value, op.expected))
        except ProposalDroppedError:
            self.stats.client_refused += 1  # certainly not in any log: nothing to record
            self.guess.pop(client, None)
            return
        self.next_op_id += 1
        self.clock += 1
        op.invoke = self.clock
        self.outstanding[op.op_id] = op
        self.busy[client] = op.op_id
        self.stats.client_ops += 1
        if kind in ("put", "cas"):
            self.last_written[key] = op.value  # type: ignore[assignment]
        if kind == "read" and self.cfg.inject == "local-read":
            self._complete(op, node.sm.data.get(key))
        if self.verbose >= 2:
            self._trace(f"client {client} -> n{node.id}: op {op.op_id} {kind} {key} {op.value or ''}")

    def _record(self, op: ClientOp, complete: int | None, output: Result) -> None:
        kind = "get" if op.kind == "read" else op.kind
        self.history.append(Op(op.client, kind, op.key, op.invoke, complete, op.value, op.expected, output))  # type: ignore[arg-type]
        del self.outstanding[op.op_id]
        del self.busy[op.client]

    def _complete(self, op: ClientOp, output: Result) -> None:
        self.clock += 1
        self._record(op, self.clock, output)
        self.stats.client_completed += 1
        if self.verbose >= 2:
            self._trace(f"client {op.client} <- n{op.node}: op {op.op_id} {op.kind} {op.key} = {output!r}")

    def _give_up(self, op: ClientOp) -> None:
        self._record(op, None, None)
        self.guess.pop(op.client, None)
        self.stats.client_pending += 1

    # ------------------------------------------------------------------ network

    def _tick(self) -> None:
        if self.rng.random() < self.cfg.tick_p:
            live = self.alive()
            if live and self.rng.random() < self.cfg.skew:
                live.remove(self.rng.choice(live))
            for node in live:
                node.raw.tick()  # type: ignore[union-attr]
                self.stats.ticks += 1
                self._leader_now(node)

    def _send(self, m: Message) -> None:
        rng = self.rng
        if m.type == MessageType.SNAP:
            self.stats.snapshots_sent += 1
        if not self.quiet and rng.random() < self.cfg.drop:
            self.stats.dropped += 1
            if m.type == MessageType.SNAP:
                self.reports.append((m.from_, "snap", m.to, False))
            return
        if self.cfg.wire:
            m = decode_message(encode_message(m))
        copies = 2 if not self.quiet and rng.random() < self.cfg.duplicate else 1
        self.stats.duplicated += copies - 1
        for _ in range(copies):
            self.msg_seq += 1
            if not self.quiet and rng.random() < self.cfg.long_delay:
                delay = rng.randint(*self.cfg.long_delay_range)
            else:
                delay = rng.randint(1, self.cfg.max_delay)
            self.in_flight.append((self.now + delay, self.msg_seq, m))

    def _deliver(self) -> None:
        for nid, what, peer, ok in self.reports:
            sender = self.nodes[nid]
            if sender.raw is not None:
                if what == "snap":
                    sender.raw.report_snapshot(peer, ok)
                else:
                    sender.raw.report_unreachable(peer)
        self.reports.clear()
        due = [x for x in self.in_flight if x[0] <= self.now]
        if not due:
            return
        self.in_flight = [x for x in self.in_flight if x[0] > self.now]
        self.rng.shuffle(due)
        for _, _, m in due:
            node = self.nodes.get(m.to)
            if node is None or node.raw is None or not self._connected(m.from_, m.to):
                self.stats.dropped += 1
                if m.type == MessageType.SNAP:
                    self.reports.append((m.from_, "snap", m.to, False))
                elif self.rng.random() < 0.3:
                    self.reports.append((m.from_, "unreach", m.to, False))
                continue
            if self.verbose >= 3:
                self._trace(f"deliver {m.type.name} n{m.from_}->n{m.to} t{m.term} i{m.index} n={len(m.entries)}")
            node.raw.step(m)
            self.stats.delivered += 1
            self._leader_now(node)
            if m.type == MessageType.SNAP:
                self.reports.append((m.from_, "snap", m.to, True))

    # ------------------------------------------------------------------ the Ready contract

    def _readies(self) -> None:
        nodes = self.alive()
        self.rng.shuffle(nodes)
        for node in nodes:
            if node.raw is not None and node.raw.has_ready():
                self._handle_ready(node)

    def _handle_ready(self, node: SimNode) -> None:
        raw = node.raw
        assert raw is not None
        rd = raw.ready()
        self.stats.readies += 1
        crash = None
        if (
            not self.quiet
            and (rd.entries or rd.hard_state or rd.messages)
            and self.rng.random() < self.cfg.crash_in_ready
        ):
            crash = self.rng.choice(["before persist", "after persist, before send"])
        self._observe(node, rd)
        # A leader's Ready may send first (the contract's may_send_first), which half the
        # time it does here, so a crash "before persist" also hits a leader whose appends
        # are out; the injected bug sends first whatever the Ready.
        if self.cfg.inject == "send-before-persist" or (rd.may_send_first and self.rng.random() < 0.5):
            self._send_all(node, rd.messages)
            if crash == "before persist" and rd.messages:
                crash = "before persist, messages sent"
            rd = replace(rd, messages=())
        if crash is not None and crash.startswith("before persist"):
            self._crash(node, crash)
            return
        self._persist(node, rd)
        if node.role == Role.LEADER and rd.soft_state is not None:
            self._leader_elected(node)
        if crash is not None:
            self._crash(node, crash)
            return
        self._send_all(node, rd.messages)
        self._apply(node, rd)
        raw.advance(rd)

    def _send_all(self, node: SimNode, messages: tuple[Message, ...]) -> None:
        for m in messages:
            if m.to == node.id:
                raise InvariantViolation(f"n{node.id} sent a message to itself: {m}")
            self._send(m)

    def _observe(self, node: SimNode, rd: Ready) -> None:
        if rd.hard_state is not None:
            if rd.hard_state.term < node.term:
                raise InvariantViolation(f"n{node.id} term went back from {node.term} to {rd.hard_state.term}")
            node.term = rd.hard_state.term
        if rd.soft_state is not None:
            was = node.role
            node.role, node.lead = rd.soft_state.role, rd.soft_state.leader
            if node.role == Role.LEADER:
                self._election_safety(node)
                if was != Role.LEADER:
                    self.stats.leaders += 1
                    self._event(f"n{node.id} leads term {node.term}")

    def _persist(self, node: SimNode, rd: Ready) -> None:
        st = node.storage
        if self.cfg.inject == "lose-unsynced":
            node.persists += 1
            if node.persists % 8 == 1:  # "fsync" only every 8th Ready
                node.synced = st.copy()
        if not rd.snapshot.is_empty():
            meta = rd.snapshot.metadata
            known = self.committed.get(meta.index)
            if known is not None and known.term != meta.term:
                raise InvariantViolation(
                    f"n{node.id} got a snapshot at ({meta.index}, term {meta.term}) but entry {meta.index} "
                    f"was committed with term {known.term}"
                )
            st.apply_snapshot(rd.snapshot)
        if rd.entries:
            self._check_append(node, rd.entries)
            st.append(rd.entries)
            last = rd.entries[-1]
            if st.last_index() != last.index or st.term(last.index) != last.term:
                raise InvariantViolation(f"n{node.id}'s storage does not end with the entries just appended")
        if rd.hard_state is not None:
            self._check_hard_state(node, rd.hard_state)
            st.set_hard_state(replace(rd.hard_state, vote=0) if self.cfg.inject == "forget-vote" else rd.hard_state)

    # ------------------------------------------------------------------ applying

    def _apply(self, node: SimNode, rd: Ready) -> None:
        raw = node.raw
        assert raw is not None
        if not rd.snapshot.is_empty():
            meta = rd.snapshot.metadata
            if meta.index <= node.applied:
                raise InvariantViolation(
                    f"n{node.id} told to restore snapshot {meta.index} behind applied {node.applied}"
                )
            node.sm = KVStateMachine.restore(rd.snapshot.data)
            node.applied = meta.index
            node.conf_state = meta.conf_state
            self.stats.snapshots_applied += 1
            self._check_reference(node, meta.index)
            self._trace(f"n{node.id} restored snapshot {meta.index} (term {meta.term})")
        for e in rd.committed_entries:
            if e.index != node.applied + 1:
                raise InvariantViolation(f"n{node.id} applies entry {e.index} after {node.applied}")
            self._committed_seen(node, e)
            if e.type == EntryType.CONF_CHANGE:
                cc = decode_conf_change(e.data)
                node.conf_state = raw.apply_conf_change(cc)
                if cc.type == ConfChangeType.REMOVE_NODE and cc.node_id not in self.shutdown_at:
                    target = self.nodes.get(cc.node_id)
                    if target is not None and not target.removed:
                        self.shutdown_at[cc.node_id] = self.now + 20
            elif e.data:
                op_id, result = node.sm.apply(e.data)
                op = self.outstanding.get(op_id)
                if op is not None and op.node == node.id and op.kind != "read":
                    self._complete(op, result)
            node.applied = e.index
            self.stats.entries_applied += 1
            self._check_reference(node, e.index, e)
        if rd.read_states:
            node.reads.extend(rd.read_states)
        if node.reads:
            self._serve_reads(node)

    def _serve_reads(self, node: SimNode) -> None:
        waiting: list[ReadState] = []
        for rs in node.reads:
            if rs.index > node.applied:
                waiting.append(rs)
                continue
            op = self.outstanding.get(int(rs.request_ctx))
            if op is not None and op.node == node.id and op.kind == "read":
                self._complete(op, node.sm.data.get(op.key))
        node.reads = waiting

    # ------------------------------------------------------------------ invariants

    def _check_step(self) -> None:
        """After every step: election safety over live nodes (the rest is hooked into persist/apply
        and is up to date now), and the full pairwise log comparison every few steps."""
        self.stats.checks += 4
        for node in self.nodes.values():
            if node.raw is not None:
                self._leader_now(node)
                if node.role == Role.LEADER:
                    self._election_safety(node)
        if self.now % self.cfg.full_check_every == 0:
            self._check_logs_full()

    def _leader_now(self, node: SimNode) -> None:
        """Election safety at the finest grain: the protocol's own role right after each input
        (a node may win and lose leadership between two Readies)."""
        r = node.raw.raft  # type: ignore[union-attr]
        if r.role == Role.LEADER:
            self.stats.comparisons += 1
            other = self.leader_of_term.setdefault(r.term, node.id)
            if other != node.id:
                raise InvariantViolation(f"election safety: n{other} and n{node.id} both lead term {r.term}")

    def _election_safety(self, node: SimNode) -> None:
        self.stats.comparisons += 1
        other = self.leader_of_term.setdefault(node.term, node.id)
        if other != node.id:
            raise InvariantViolation(f"election safety: n{other} and n{node.id} both lead term {node.term}")

    def _check_hard_state(self, node: SimNode, hs: HardState) -> None:
        old = self.durable_hs.get(node.id)
        if old is not None:
            if hs.term < old.term:
                raise InvariantViolation(f"n{node.id} persisted term {hs.term} after term {old.term}")
            if hs.term == old.term and old.vote and hs.vote != old.vote:
                raise InvariantViolation(f"n{node.id} changed its vote in term {hs.term}: n{old.vote} -> n{hs.vote}")
        self.durable_hs[node.id] = hs

    def _check_append(self, node: SimNode, entries: tuple[Entry, ...]) -> None:
        """Log matching, incrementally: every (index, term) carries one entry and one previous term."""
        st = node.storage
        first = entries[0]
        if first.index > st.last_index() + 1:
            raise InvariantViolation(f"n{node.id} appends {first.index} after a gap (last {st.last_index()})")
        try:
            prev_term = st.term(first.index - 1)
        except CompactedError:
            raise InvariantViolation(
                f"n{node.id} appends {first.index} behind its snapshot (first index {st.first_index()})"
            ) from None
        for e in entries:
            self.stats.comparisons += 1
            if e.term < prev_term:
                raise InvariantViolation(f"n{node.id}: log term decreases at {e.index} ({prev_term} -> {e.term})")
            record = (e.type, e.data, prev_term)
            seen = self.registry.setdefault((e.index, e.term), record)
            if seen != record:
                raise InvariantViolation(
                    f"log matching: n{node.id} persisted ({e.index}, term {e.term}) = {record!r}, "
                    f"but another log has {seen!r} there"
                )
            prev_term = e.term
        # Durability of commits: truncating a conflicting suffix must never remove a committed entry.
        # (A lagging node may well *append* a stale entry at a committed index it never had; that
        # one is uncommitted in its log and gets replaced later.)
        if first.index <= st.last_index():
            commit = self.durable_hs.get(node.id, HardState()).commit
            for e in entries:
                if e.index > st.last_index():
                    break
                old_term = st.term(e.index)
                if old_term == e.term:
                    continue
                known = self.committed.get(e.index)
                if e.index <= commit or (known is not None and known.term == old_term):
                    raise InvariantViolation(
                        f"n{node.id} truncates its log at {e.index} (term {old_term} -> {e.term}), "
                        f"which is committed (its commit index {commit})"
                    )
                break  # everything after the first conflict goes

    def _log_terms(self, node: SimNode) -> tuple[int, list[int]]:
        st = node.storage
        first, last = st.first_index(), st.last_index()
        return first - 1, [e.term for e in st.entries(first, last + 1)] if last >= first else []

    def _leader_elected(self, node: SimNode) -> None:
        """Leader completeness, forward: the new leader's log holds everything known committed in
        an earlier term."""
        snap_index, terms = self._log_terms(node)
        self.leader_logs[node.term] = (node.id, snap_index, terms)
        for index in range(snap_index + 1, max(self.committed, default=0) + 1):
            if self.commit_term.get(index, node.term) < node.term:
                self._leader_has(node.term, index)

    def _leader_has(self, term: int, index: int) -> None:
        self.stats.comparisons += 1
        leader, snap_index, terms = self.leader_logs[term]
        if index <= snap_index:
            return
        want = self.committed[index].term
        have = terms[index - snap_index - 1] if index - snap_index <= len(terms) else None
        if have != want:
            raise InvariantViolation(
                f"leader completeness: entry {index} (term {want}) was committed by term "
                f"{self.commit_term[index]}, but n{leader}, leader of term {term}, had "
                f"{'no entry' if have is None else f'term {have}'} there when elected"
            )

    def _committed_seen(self, node: SimNode, e: Entry) -> None:
        """State machine safety (one entry per index, everywhere) and leader completeness, backward."""
        self.stats.comparisons += 1
        known = self.committed.get(e.index)
        if known is None:
            self.committed[e.index] = e
            self.commit_term[e.index] = node.term
            self.stats.committed += 1
            if e.type == EntryType.CONF_CHANGE:
                cc = decode_conf_change(e.data)
                self.stats.conf_changes[cc.type.name] += 1
                self._event(f"committed {cc.type.name} n{cc.node_id} at {e.index}")
            for term in self.leader_logs:
                if term > node.term:
                    self._leader_has(term, e.index)
            return
        if known != e:
            raise InvariantViolation(f"state machine safety: n{node.id} applies {e} at {e.index}, another node {known}")
        if node.term < self.commit_term[e.index]:
            old = self.commit_term[e.index]
            self.commit_term[e.index] = node.term
            for term in self.leader_logs:
                if node.term < term <= old:
                    self._leader_has(term, e.index)

    def _check_reference(self, node: SimNode, index: int, entry: Entry | None = None) -> None:
        """Each replica's state after ``index`` equals the reference machine's (which applies each
        committed entry once, in index order)."""
        if entry is not None and index == self.reference_applied + 1:
            if entry.type == EntryType.NORMAL and entry.data:
                self.reference.apply(entry.data)
            self.reference_applied = index
            self.reference_states[index] = self.reference.state()
        want = self.reference_states.get(index)
        if want is None:
            raise InvariantViolation(f"n{node.id} reached index {index} before any replica applied up to it")
        self.stats.comparisons += 1
        if node.sm.state() != want:
            raise InvariantViolation(
                f"state machine safety: n{node.id}'s state after {index} is {node.sm.state()}, expected {want}"
            )

    def _check_logs_full(self) -> None:
        """Log matching, directly: any two logs that agree on (index, term) agree on every entry up to it."""
        self.stats.checks += 1
        logs: list[tuple[int, int, dict[int, Entry]]] = []
        for node in self.nodes.values():
            if node.removed:
                continue
            st = node.storage
            first, last = st.first_index(), st.last_index()
            ents = st.entries(first, last + 1) if last >= first else []
            logs.append((node.id, first, {e.index: e for e in ents}))
        for i, (a, first_a, log_a) in enumerate(logs):
            for b, first_b, log_b in logs[i + 1 :]:
                lo = max(first_a, first_b)
                hi = min(max(log_a, default=0), max(log_b, default=0))
                top = next((k for k in range(hi, lo - 1, -1) if log_a[k].term == log_b[k].term), None)
                if top is None:
                    continue
                for k in range(lo, top + 1):
                    self.stats.comparisons += 1
                    if log_a[k] != log_b[k]:
                        raise InvariantViolation(
                            f"log matching: n{a} and n{b} agree at ({top}, term {log_a[top].term}) "
                            f"but differ at {k}: {log_a[k]} vs {log_b[k]}"
                        )

    # ------------------------------------------------------------------ the end

    def _quiet_period(self) -> None:
        self.quiet = True
        self.groups = None
        self._event("quiet period: faults stop, partitions heal, crashed nodes restart")
        for node in self.nodes.values():
            if node.raw is None and not node.removed and node.id not in self.shutdown_at:
                node.restart_at = self.now
        for _ in range(self.cfg.quiet_steps):
            self.step()
            if self.now % 10 == 0 and self._converged():
                return
        raise SimulationFailure(
            f"liveness: no convergence {self.cfg.quiet_steps} steps into the quiet period; {self._describe_nodes()}"
        )

    def _members(self) -> list[SimNode]:
        lead = self.leader()
        if lead is None:
            return []
        cs = lead.conf_state
        return [self.nodes[i] for i in (*cs.voters, *cs.learners) if i in self.nodes]

    def _converged(self) -> bool:
        lead = self.leader()
        if lead is None or lead.raw is None or self.outstanding or self.shutdown_at:
            return False
        status = lead.raw.status()
        if status.commit < status.last_index:
            return False
        return all(m.raw is not None and m.applied == status.commit for m in self._members())

    def _describe_nodes(self) -> str:
        parts = []
        for n in sorted(self.nodes.values(), key=lambda n: n.id):
            state = "removed" if n.removed else ("down" if n.raw is None else n.role.name.lower())
            parts.append(f"n{n.id}:{state} term={n.term} applied={n.applied} last={n.storage.last_index()}")
        return "; ".join(parts) + f"; outstanding ops={len(self.outstanding)}"

    def _final_checks(self) -> None:
        self._check_logs_full()
        members = self._members()
        states = {m.id: m.sm.state() for m in members}
        if len(set(states.values())) > 1:
            raise InvariantViolation(f"members ended in different states: {states}")
        for op in list(self.outstanding.values()):
            self._give_up(op)
        result = check_history(self.history, timeout=20.0)
        self.linearizability = result
        self.stats.linearizability_steps += result.steps
        if result.verdict is Verdict.ILLEGAL:
            raise InvariantViolation(f"the client history is not linearizable:\n{result.explain()}")
        if result.verdict is Verdict.UNKNOWN:
            raise SimulationFailure(f"linearizability check timed out: {result.explain()}")

    # ------------------------------------------------------------------ tracing

    def _event(self, text: str) -> None:
        self._trace(text)

    def _trace(self, text: str) -> None:
        line = f"[{self.now:5}] {text}"
        self.trace.append(line)
        if self.verbose:
            self.printer(line)

    def _trace_text(self) -> str:
        return "last events:\n  " + "\n  ".join(self.trace)


def run_seed(
    seed: int,
    nodes: int = 3,
    scenario: str = "random",
    steps: int | None = None,
    verbose: int = 0,
    printer: Callable[[str], None] = print,
    inject: str = "",
) -> World:
    """Run one seed to the end; raises SimulationFailure (with the replay command) on any violation."""
    cfg = make_config(scenario, nodes, steps, inject)
    world = World(seed, cfg, scenario=scenario, steps_arg=steps, verbose=verbose, printer=printer)
    world.run()
    return world
