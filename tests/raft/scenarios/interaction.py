"""A text-script driver for the Raft core, in the style of etcd/raft's interaction tests.

A script is a sequence of blocks::

    # comments (kept verbatim)
    command arg key=value key=(1,2,3)
    ----
    output lines (never blank)
    <blank line>

``run_script(text)`` executes every command against an in-process cluster and returns
the script with each block's output replaced by what actually happened; a test compares
that with the file (and ``RAFT_REGEN=1`` writes it back).  The driver is a faithful
Raft driver: it persists a Ready to the node's ``MemoryStorage`` before putting its
messages on the network, applies committed entries in order, then advances.  Messages
wait in a per-recipient queue until ``deliver-msgs`` / ``stabilize`` delivers (or drops)
them, which lets a script stage any interleaving by hand.

Commands (ids are node ids):

- ``add-nodes N [voters=(..)] [learners=(..)] [index=I] [pre-vote=true] [check-quorum=true]
  [read-only=lease] [max-size=B] [max-inflight=K] [election=T] [heartbeat=T]``: N new nodes.
  With ``voters`` each starts from a bootstrap snapshot at ``index`` (default 1, term 1);
  without, from an empty log (a server about to be added).
- ``set-log ID terms=(..) [term=T]``: a fresh node's log gets entries of these terms after
  its snapshot, and its hard state term T (default: the last of them).
- ``campaign ID``, ``propose ID DATA``, ``propose-conf-change ID add=N|remove=N|learner=N``,
  ``read-index ID CTX``, ``transfer-leader FROM TO``.
- ``process-ready ID...`` (all nodes with a Ready if none given), ``deliver-msgs [ID...]
  [drop=(..)]`` (deliver the queued messages to the given nodes, all if none; ``drop``
  discards the messages queued for those nodes instead), ``stabilize [ID...]``.
- ``tick ID [COUNT]``, ``tick-election ID``, ``tick-heartbeat ID`` (election / heartbeat
  timeout worth of ticks), ``set-randomized-election-timeout ID T``.
- ``partition (1,2) (3)``, ``isolate ID``, ``heal``: messages crossing a cut are dropped
  when delivered.
- ``compact ID INDEX`` (snapshot the state machine at INDEX, then drop the log up to it),
  ``restart ID`` (a crash: a new RawNode from the node's storage; the state machine
  restarts from the storage's snapshot), ``status ID``, ``raft-log ID``, ``state-machine ID``.

Election timeouts are not randomized here (the rng always draws 0, so the timeout is
exactly ``election`` ticks): the goldens stay independent of Python's random module.
The simulation covers randomized timeouts.
"""

import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cacheflow.raft import codec
from cacheflow.raft.core import (
    NONE,
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
    Ready,
    Role,
    Snapshot,
)

MT = MessageType


class _ZeroRandom(random.Random):
    """Draws 0 from every range: election timeouts are exactly ``election_tick``."""

    def randrange(self, *args: object, **kwargs: object) -> int:
        return 0


class ScriptError(Exception):
    pass


# ---------------------------------------------------------------------------------------
# formatting


def fmt_data(data: bytes) -> str:
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return data.hex()
    if text.isprintable() and '"' not in text:
        return f'"{text}"'
    return data.hex()


def fmt_conf_change(cc: ConfChange) -> str:
    kind = {ConfChangeType.ADD_NODE: "add", ConfChangeType.REMOVE_NODE: "remove", ConfChangeType.ADD_LEARNER: "learner"}
    return f"{kind[cc.type]}={cc.node_id}"


def fmt_entry(e: Entry) -> str:
    head = f"{e.term}/{e.index}"
    if e.type == EntryType.CONF_CHANGE:
        return f"{head} conf({fmt_conf_change(codec.decode_conf_change(e.data))})"
    if not e.data:
        return f"{head} noop"
    return f"{head} {fmt_data(e.data)}"


def fmt_ids(ids: Iterable[int]) -> str:
    return "(" + " ".join(str(i) for i in ids) + ")"


def fmt_conf_state(cs: ConfState) -> str:
    s = f"voters={fmt_ids(cs.voters)}"
    if cs.learners:
        s += f" learners={fmt_ids(cs.learners)}"
    return s


def fmt_snapshot(snap: Snapshot) -> str:
    md = snap.metadata
    return f"snap={md.term}/{md.index} {fmt_conf_state(md.conf_state)}"


def fmt_msg(m: Message) -> str:
    t = m.type
    s = f"{m.from_}->{m.to} {t.name} term={m.term}"
    if t in (MT.APP, MT.VOTE, MT.PRE_VOTE):
        s += f" log={m.log_term}/{m.index}"
    if t == MT.APP or t == MT.HEARTBEAT:
        s += f" commit={m.commit}"
    if t == MT.APP_RESP or t == MT.READ_INDEX_RESP:
        s += f" index={m.index}"
    if m.reject:
        s += " reject"
        if t == MT.APP_RESP:
            s += f" hint={m.log_term}/{m.reject_hint}"
    if m.snapshot is not None:
        s += " " + fmt_snapshot(m.snapshot)
    if m.context:
        s += f" ctx={fmt_data(m.context)}"
    if m.entries:
        s += " [" + ", ".join(fmt_entry(e) for e in m.entries) + "]"
    return s


# ---------------------------------------------------------------------------------------
# the cluster


@dataclass
class Node:
    id: int
    storage: MemoryStorage
    config: dict[str, object]
    raw: RawNode
    # The state machine: the data of every applied NORMAL entry, in order.
    applied: list[bytes] = field(default_factory=list)
    # The membership in force after each applied index where it changed (for snapshots).
    conf_history: list[tuple[int, ConfState]] = field(default_factory=list)
    applied_index: int = 0


def _parse_ids(v: str) -> tuple[int, ...]:
    v = v.strip("()")
    return tuple(int(x) for x in re.split(r"[,\s]+", v) if x)


def _encode_state_machine(applied: list[bytes]) -> bytes:
    return b"\x00".join(applied)


def _decode_state_machine(data: bytes) -> list[bytes]:
    return data.split(b"\x00") if data else []


class Env:
    def __init__(self) -> None:
        self.nodes: dict[int, Node] = {}
        self.inbox: dict[int, list[Message]] = {}
        self.groups: list[set[int]] | None = None
        self.out: list[str] = []

    # -- helpers -----------------------------------------------------------------------

    def emit(self, line: str) -> None:
        self.out.append(line)

    def node(self, arg: str) -> Node:
        nid = int(arg)
        if nid not in self.nodes:
            raise ScriptError(f"no node {nid}")
        return self.nodes[nid]

    def connected(self, a: int, b: int) -> bool:
        if self.groups is None:
            return True
        for g in self.groups:
            if a in g:
                return b in g
        return False

    def _new_raw(self, n: Node, applied: int) -> RawNode:
        c = n.config
        cfg = RaftConfig(
            id=n.id,
            storage=n.storage,
            rng=_ZeroRandom(),
            election_tick=int(str(c.get("election", 10))),
            heartbeat_tick=int(str(c.get("heartbeat", 1))),
            check_quorum=c.get("check-quorum") == "true",
            pre_vote=c.get("pre-vote") == "true",
            read_only_option=ReadOnlyOption.LEASE_BASED if c.get("read-only") == "lease" else ReadOnlyOption.SAFE,
            max_size_per_msg=int(str(c.get("max-size", 1 << 20))),
            max_inflight_msgs=int(str(c.get("max-inflight", 256))),
            applied=applied,
        )
        return RawNode(cfg)

    def _state_line(self, n: Node) -> str:
        st = n.raw.status()
        return f"{n.id}: {st.role.name} term={st.term} vote={st.vote} lead={st.leader} commit={st.commit}"

    def _step_with_report(self, n: Node, m: Message) -> None:
        before = self._key(n)
        n.raw.step(m)
        after = self._key(n)
        if before != after:
            self.emit(f"  {self._state_line(n)}")

    @staticmethod
    def _key(n: Node) -> tuple[int, Role, int, int]:
        r = n.raw.raft
        return r.term, r.role, r.lead, r.vote

    def _local(self, n: Node, what: str, fn: Callable[[], None]) -> None:
        before = self._key(n)
        try:
            fn()
        except ProposalDroppedError as exc:
            self.emit(f"{what}: dropped ({exc})")
        after = self._key(n)
        if before != after:
            self.emit(self._state_line(n))

    # -- commands ----------------------------------------------------------------------

    def cmd_add_nodes(self, pos: list[str], kw: dict[str, str]) -> None:
        count = int(pos[0])
        voters = _parse_ids(kw["voters"]) if "voters" in kw else ()
        learners = _parse_ids(kw["learners"]) if "learners" in kw else ()
        index = int(kw.get("index", "1"))
        first = max(self.nodes, default=0) + 1
        for nid in range(first, first + count):
            storage = MemoryStorage()
            if voters:
                cs = ConfState(voters=voters, learners=learners)
                storage = MemoryStorage.bootstrap(cs, index=index, term=1)
            n = Node(nid, storage, dict(kw), raw=None)  # type: ignore[arg-type]
            snap = storage.snapshot()
            n.applied_index = snap.metadata.index
            n.conf_history = [(snap.metadata.index, snap.metadata.conf_state)]
            n.raw = self._new_raw(n, 0)
            self.nodes[nid] = n
            self.inbox[nid] = []
            cs_now = n.raw.status().conf_state
            self.emit(f"{nid}: {fmt_conf_state(cs_now)} first={storage.first_index()} last={storage.last_index()}")

    def cmd_set_log(self, pos: list[str], kw: dict[str, str]) -> None:
        """Give a fresh node a log: entries after its snapshot with the given terms."""
        n = self.node(pos[0])
        terms = _parse_ids(kw["terms"])
        first = n.storage.last_index() + 1
        n.storage.append([Entry(t, first + i, EntryType.NORMAL, f"e{first + i}".encode()) for i, t in enumerate(terms)])
        hs = n.storage.hard_state
        n.storage.set_hard_state(
            HardState(term=int(kw.get("term", str(max(terms, default=hs.term)))), commit=hs.commit)
        )
        n.raw = self._new_raw(n, 0)
        self.emit(f"{self._state_line(n)} last={n.storage.last_index()}")

    def cmd_campaign(self, pos: list[str], kw: dict[str, str]) -> None:
        n = self.node(pos[0])
        self._local(n, "campaign", n.raw.campaign)

    def cmd_propose(self, pos: list[str], kw: dict[str, str]) -> None:
        n = self.node(pos[0])
        data = pos[1].encode()
        self._local(n, "propose", lambda: n.raw.propose(data))

    def cmd_propose_conf_change(self, pos: list[str], kw: dict[str, str]) -> None:
        n = self.node(pos[0])
        kinds = {
            "add": ConfChangeType.ADD_NODE,
            "remove": ConfChangeType.REMOVE_NODE,
            "learner": ConfChangeType.ADD_LEARNER,
        }
        ((k, v),) = kw.items()
        cc = ConfChange(kinds[k], int(v))
        self._local(n, "propose-conf-change", lambda: n.raw.propose_conf_change(cc))

    def cmd_read_index(self, pos: list[str], kw: dict[str, str]) -> None:
        n = self.node(pos[0])
        ctx = pos[1].encode()
        self._local(n, "read-index", lambda: n.raw.read_index(ctx))

    def cmd_transfer_leader(self, pos: list[str], kw: dict[str, str]) -> None:
        n = self.node(pos[0])
        to = int(pos[1])
        self._local(n, "transfer-leader", lambda: n.raw.transfer_leader(to))

    def _tick(self, n: Node, count: int) -> None:
        before = self._key(n)
        for _ in range(count):
            n.raw.tick()
        if self._key(n) != before:
            self.emit(self._state_line(n))

    def cmd_tick(self, pos: list[str], kw: dict[str, str]) -> None:
        self._tick(self.node(pos[0]), int(pos[1]) if len(pos) > 1 else 1)

    def cmd_tick_election(self, pos: list[str], kw: dict[str, str]) -> None:
        n = self.node(pos[0])
        self._tick(n, n.raw.raft.election_timeout)

    def cmd_tick_heartbeat(self, pos: list[str], kw: dict[str, str]) -> None:
        n = self.node(pos[0])
        self._tick(n, n.raw.raft.heartbeat_timeout)

    def cmd_set_randomized_election_timeout(self, pos: list[str], kw: dict[str, str]) -> None:
        self.node(pos[0]).raw.raft.randomized_election_timeout = int(pos[1])

    def cmd_partition(self, pos: list[str], kw: dict[str, str]) -> None:
        groups = [set(_parse_ids(p)) for p in pos]
        rest = set(self.nodes) - set().union(*groups)
        if rest:
            groups.append(rest)
        self.groups = groups
        self.emit("partition " + " ".join(fmt_ids(sorted(g)) for g in groups))

    def cmd_isolate(self, pos: list[str], kw: dict[str, str]) -> None:
        self.cmd_partition([f"({pos[0]})"], {})

    def cmd_heal(self, pos: list[str], kw: dict[str, str]) -> None:
        self.groups = None

    def process_ready(self, n: Node) -> bool:
        if not n.raw.has_ready():
            return False
        rd = n.raw.ready()
        self.emit(f"> {n.id} handling Ready")
        self._print_ready(rd)
        # 1. persist
        if rd.hard_state is not None:
            n.storage.set_hard_state(rd.hard_state)
        if not rd.snapshot.is_empty():
            n.storage.apply_snapshot(rd.snapshot)
        n.storage.append(rd.entries)
        # 2. send
        for m in rd.messages:
            if m.to in self.inbox:
                self.inbox[m.to].append(m)
        # 3. apply
        if not rd.snapshot.is_empty():
            md = rd.snapshot.metadata
            n.applied = _decode_state_machine(rd.snapshot.data)
            n.applied_index = md.index
            n.conf_history = [(md.index, md.conf_state)]
        for e in rd.committed_entries:
            if e.type == EntryType.CONF_CHANGE:
                cc = codec.decode_conf_change(e.data)
                cs = n.raw.apply_conf_change(cc)
                n.conf_history.append((e.index, cs))
                self.emit(f"  applied {fmt_conf_change(cc)}: {fmt_conf_state(cs)}")
            elif e.data:
                n.applied.append(e.data)
            n.applied_index = e.index
        # 4. advance
        n.raw.advance(rd)
        return True

    def _print_ready(self, rd: Ready) -> None:
        self.emit(f"  Ready must_sync={str(rd.must_sync).lower()}:")
        if rd.soft_state is not None:
            self.emit(f"  lead={rd.soft_state.leader} role={rd.soft_state.role.name}")
        if rd.hard_state is not None:
            hs = rd.hard_state
            self.emit(f"  HardState term={hs.term} vote={hs.vote} commit={hs.commit}")
        if rd.entries:
            self.emit("  Entries:")
            self.out.extend(f"  {fmt_entry(e)}" for e in rd.entries)
        if not rd.snapshot.is_empty():
            self.emit(f"  Snapshot {fmt_snapshot(rd.snapshot)}")
        if rd.committed_entries:
            self.emit("  Committed:")
            self.out.extend(f"  {fmt_entry(e)}" for e in rd.committed_entries)
        if rd.messages:
            self.emit("  Messages:")
            self.out.extend(f"  {fmt_msg(m)}" for m in rd.messages)
        if rd.read_states:
            self.emit("  ReadStates:")
            self.out.extend(f"  index={rs.index} ctx={fmt_data(rs.request_ctx)}" for rs in rd.read_states)

    def deliver(self, nid: int, drop: bool = False) -> bool:
        msgs = self.inbox[nid]
        if not msgs:
            return False
        self.inbox[nid] = []
        n = self.nodes[nid]
        self.emit(f"> {nid} receiving messages")
        for m in msgs:
            if drop or not self.connected(m.from_, m.to):
                self.emit(f"  {fmt_msg(m)} DROPPED")
                self._report_snapshot(m, ok=False)
                continue
            self.emit(f"  {fmt_msg(m)}")
            self._step_with_report(n, m)
            self._report_snapshot(m, ok=True)
        return True

    def _report_snapshot(self, m: Message, ok: bool) -> None:
        if m.type == MT.SNAP and m.from_ in self.nodes:
            sender = self.nodes[m.from_]
            sender.raw.report_snapshot(m.to, ok)

    def cmd_process_ready(self, pos: list[str], kw: dict[str, str]) -> None:
        for nid in [int(p) for p in pos] or sorted(self.nodes):
            self.process_ready(self.nodes[nid])

    def cmd_deliver_msgs(self, pos: list[str], kw: dict[str, str]) -> None:
        if "drop" in kw:
            for nid in _parse_ids(kw["drop"]):
                self.deliver(nid, drop=True)
            return
        for nid in [int(p) for p in pos] or sorted(self.nodes):
            self.deliver(nid)

    def cmd_stabilize(self, pos: list[str], kw: dict[str, str]) -> None:
        ids = [int(p) for p in pos] or sorted(self.nodes)
        for _ in range(1000):
            moved = False
            for nid in ids:
                moved |= self.process_ready(self.nodes[nid])
            for nid in ids:
                moved |= self.deliver(nid)
            if not moved:
                return
        raise ScriptError("stabilize did not converge")

    def cmd_compact(self, pos: list[str], kw: dict[str, str]) -> None:
        n = self.node(pos[0])
        index = int(pos[1])
        if index > n.applied_index:
            raise ScriptError(f"cannot snapshot {index}: node {n.id} applied only {n.applied_index}")
        # The state machine at `index`: replay is not needed because only NORMAL data
        # entries are in it; count those up to index.
        snap_data = self._state_machine_at(n, index)
        cs = [c for i, c in n.conf_history if i <= index][-1]
        n.storage.create_snapshot(index, cs, _encode_state_machine(snap_data))
        n.storage.compact(index)
        self.emit(f"{n.id}: snapshot at {index} ({fmt_conf_state(cs)}), log now {n.storage.first_index()}..")

    def _state_machine_at(self, n: Node, index: int) -> list[bytes]:
        # Entries (snapshot index, applied_index] are in the log: subtract the data ones after `index`.
        later = 0
        if index < n.applied_index:
            for e in n.storage.entries(index + 1, n.applied_index + 1):
                if e.type == EntryType.NORMAL and e.data:
                    later += 1
        return n.applied[: len(n.applied) - later]

    def cmd_restart(self, pos: list[str], kw: dict[str, str]) -> None:
        n = self.node(pos[0])
        snap = n.storage.snapshot()
        n.applied = _decode_state_machine(snap.data)
        n.applied_index = snap.metadata.index
        n.conf_history = [(snap.metadata.index, snap.metadata.conf_state)]
        n.raw = self._new_raw(n, snap.metadata.index)
        self.emit(self._state_line(n))

    def cmd_status(self, pos: list[str], kw: dict[str, str]) -> None:
        n = self.node(pos[0])
        st = n.raw.status()
        self.emit(
            f"{self._state_line(n)} applied={st.applied} last={st.last_index} {fmt_conf_state(st.conf_state)}"
            + (f" transferee={st.lead_transferee}" if st.lead_transferee != NONE else "")
        )
        for nid, p in st.progress.items():
            line = f"  {nid}: {p.state.name} match={p.match} next={p.next}"
            if p.is_learner:
                line += " learner"
            if p.paused:
                line += " paused"
            if p.pending_snapshot:
                line += f" pending_snap={p.pending_snapshot}"
            if p.inflight:
                line += f" inflight={p.inflight}"
            self.emit(line)

    def cmd_raft_log(self, pos: list[str], kw: dict[str, str]) -> None:
        n = self.node(pos[0])
        log = n.raw.raft.raft_log
        ents = log.all_entries()
        if not ents:
            self.emit(f"log is empty: first index={log.first_index()}, last index={log.last_index()}")
        self.out.extend(fmt_entry(e) for e in ents)

    def cmd_state_machine(self, pos: list[str], kw: dict[str, str]) -> None:
        n = self.node(pos[0])
        self.emit(f"applied={n.applied_index} [" + ", ".join(fmt_data(d) for d in n.applied) + "]")

    # -- dispatch ----------------------------------------------------------------------

    def run(self, command: str) -> list[str]:
        self.out = []
        tokens = re.findall(r"[\w-]+=\([^)]*\)|\([^)]*\)|\S+", command)
        if not tokens:
            raise ScriptError("empty command")
        name, args = tokens[0], tokens[1:]
        pos = [a for a in args if "=" not in a]
        kw = dict(a.split("=", 1) for a in args if "=" in a)
        fn = getattr(self, "cmd_" + name.replace("-", "_"), None)
        if fn is None:
            raise ScriptError(f"unknown command {name!r}")
        fn(pos, kw)
        return self.out


# ---------------------------------------------------------------------------------------
# scripts


@dataclass
class Block:
    comments: list[str]
    command: str
    expected: list[str]


def parse_script(text: str) -> tuple[list[Block], list[str]]:
    """The blocks, and any trailing comment lines."""
    blocks: list[Block] = []
    comments: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#") or not line.strip():
            comments.append(line)
            i += 1
            continue
        command = line
        i += 1
        if i >= len(lines) or lines[i] != "----":
            raise ScriptError(f"line {i}: expected ---- after {command!r}")
        i += 1
        expected: list[str] = []
        while i < len(lines) and lines[i].strip():
            expected.append(lines[i])
            i += 1
        blocks.append(Block(comments, command, expected))
        comments = []
    return blocks, comments


def render(blocks: list[Block], trailing: list[str], outputs: list[list[str]]) -> str:
    parts: list[str] = []
    for b, out in zip(blocks, outputs, strict=True):
        parts.extend(b.comments)
        parts.append(b.command)
        parts.append("----")
        parts.extend(out)
    parts.extend(trailing)
    return "\n".join(parts)


def run_script(text: str) -> str:
    """Execute a script; return it with every block's output replaced by the actual one."""
    blocks, trailing = parse_script(text)
    env = Env()
    outputs = [env.run(b.command) for b in blocks]
    return render(blocks, trailing, outputs)
