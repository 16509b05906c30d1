"""Raft core benchmark: a 3-node cluster in one process, committed entries per second.

Issue 6 asks for >= 100,000 committed entries/s in process (in-memory storage)
and >= 20,000 committed and fsynced entries/s on this machine's disk with 50
concurrent proposers.  Two modes, each on the real ``RawNode`` driven exactly
as the Ready contract says (persist, then send, then apply, then advance):

- ``memory``: ``MemoryStorage``, an in-memory network (messages handed over as
  objects, or through ``codec.encode_message/decode_message`` with ``--wire``).
  The leader gets ``--batch`` 100-byte proposals per round, each its own
  ``propose()`` call (and, a second run, all in one ``propose_batch`` call), pipelined: a round proposes, then every node handles its
  Ready and the messages queued so far are delivered once (one network hop), so
  proposals of later rounds travel while earlier ones are still being committed.
- ``file``: ``FileStorage`` per node in a temporary directory, and 50 concurrent
  proposers: 50 proposals outstanding at any moment, each completing when the
  leader applies it (committed means a majority persisted it, each with an
  fdatasync before acknowledging: the Ready contract), whereupon its proposer
  proposes the next.  Each node writes its Ready and the fdatasyncs of all nodes
  with something to sync run in parallel threads (``--serial-fsync``: one after
  the other), as three machines would.  The leader's Ready may send first
  (``Ready.may_send_first``): its appends reach the followers before its own
  fsync, so the round's fsyncs overlap (``--strict-order`` adds a run without).  The fdatasync wait is timed, so the
  report says how much of the wall time went to the disk and how much to CPU.

Reported: committed entries/s (wall clock), CPU per entry (``time.process_time``,
the whole process: all three nodes and the driver), and for the file mode the
fsyncs per node and entries per fsync.  ``--profile`` adds a short cProfile run of
the file mode (top functions by own time); ``--shm`` a file-mode run on tmpfs, where
fdatasync costs nothing, which tells the code's own ceiling from the disk's.  Results go to
bench/results/raft_core.json.

    .venv/bin/python bench/raft_core.py                       # both modes, the issue's parameters
    .venv/bin/python bench/raft_core.py --mode memory --entries 300000 --wire
    .venv/bin/python bench/raft_core.py --mode file --profile --shm --serial-fsync
"""

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cacheflow.raft import codec
from cacheflow.raft.core import (
    ConfState,
    Entry,
    EntryType,
    MemoryStorage,
    Message,
    RaftConfig,
    RawNode,
    ReadOnlyOption,
    Ready,
    Role,
)
from cacheflow.raft.storage import FileStorage

RESULTS = Path(__file__).resolve().parent / "results"
IDS = (1, 2, 3)
PAYLOAD_SIZE = 100


class Node:
    """One member: its RawNode and its storage, persisted and applied by the Ready contract."""

    def __init__(self, node_id: int, storage: MemoryStorage | FileStorage, seed: int) -> None:
        self.id = node_id
        self.storage = storage
        self.file = storage if isinstance(storage, FileStorage) else None
        self.raw = RawNode(
            RaftConfig(
                id=node_id,
                storage=storage,
                rng=random.Random(seed * 31 + node_id),
                election_tick=10,
                heartbeat_tick=1,
                check_quorum=True,
                pre_vote=True,
                read_only_option=ReadOnlyOption.SAFE,
                max_size_per_msg=1 << 20,
                max_inflight_msgs=256,
            )
        )
        self.applied = 0  # NORMAL entries with data applied (the leader's count is "committed")
        self.on_apply: Callable[[int], None] | None = None

    def persist(self, rd: Ready) -> None:
        """Step 1 of the contract, without the fsync (the cluster runs those, maybe in parallel)."""
        if self.file is not None:
            snap = rd.snapshot if not rd.snapshot.is_empty() else None
            self.file.save(rd.hard_state, rd.entries, snap, sync=False)
            return
        ms = self.storage
        assert isinstance(ms, MemoryStorage)
        if not rd.snapshot.is_empty():
            ms.apply_snapshot(rd.snapshot)
        if rd.hard_state is not None:
            ms.set_hard_state(rd.hard_state)
        if rd.entries:
            ms.append(rd.entries)

    def apply(self, committed: Sequence[Entry]) -> None:
        normal = EntryType.NORMAL
        n = 0
        for e in committed:  # the state machine: count the proposals (skip no-ops and conf changes)
            if e.data and e.type is normal:
                n += 1
        self.applied += n
        if n and self.on_apply is not None:
            self.on_apply(n)


class Cluster:
    def __init__(
        self, nodes: list[Node], *, wire: bool, pool: ThreadPoolExecutor | None, strict_order: bool = False
    ) -> None:
        self.nodes = {n.id: n for n in nodes}
        self.strict_order = strict_order  # persist before sending even where a Ready may send first
        self.order = nodes
        self.inbox: list[Message] = []
        self.wire = wire
        self.pool = pool
        self.fsync_wait = 0.0  # wall seconds spent waiting for fdatasyncs
        self.fsync_rounds = 0
        self.messages = 0

    def handle_readies(self) -> None:
        """Every node with a Ready: persist all, fsync (in parallel if a pool), then send, apply, advance.

        A Ready that ``may_send_first`` (the leader's, unless ``strict_order``) sends at
        once, and the followers' Readies those messages cause join the same round, so
        the leader's fsync and its followers' run together (thesis §10.2.1) instead of
        one after the other.  Repeats while a node has another Ready (an apply may
        have proposed), so a completion and the proposal it triggers share the round."""
        for _ in range(8):
            rds: list[tuple[Node, Ready]] = []
            taking = [n for n in self.order if n.raw.has_ready()]
            if not taking:
                return
            while taking:
                sent_first = False
                for n in taking:
                    rd = n.raw.ready()
                    n.persist(rd)
                    if rd.may_send_first and rd.messages and not self.strict_order:
                        self.send(rd.messages)
                        rd = replace(rd, messages=())
                        sent_first = True
                    rds.append((n, rd))
                if not sent_first:
                    break
                self.deliver()
                taking = [n for n in self.order if n.raw.has_ready()]
            syncing = [n.file for n, rd in rds if rd.must_sync and n.file is not None]
            if syncing:
                t = time.perf_counter()
                if self.pool is not None and len(syncing) > 1:
                    # All but one in the pool, that one here: one thread hand-off fewer per round.
                    futures = [self.pool.submit(f.sync) for f in syncing[1:]]
                    syncing[0].sync()
                    for fut in futures:
                        fut.result()
                else:
                    for f in syncing:
                        f.sync()
                self.fsync_wait += time.perf_counter() - t
                self.fsync_rounds += 1
            for n, rd in rds:
                if rd.messages:
                    self.send(rd.messages)
                if rd.committed_entries:
                    n.apply(rd.committed_entries)
                n.raw.advance(rd)

    def send(self, messages: Sequence[Message]) -> None:
        self.messages += len(messages)
        if self.wire:
            self.inbox.extend(codec.decode_message(codec.encode_message(m)) for m in messages)
        else:
            self.inbox.extend(messages)

    def deliver(self) -> None:
        msgs, self.inbox = self.inbox, []
        nodes = self.nodes
        for m in msgs:
            nodes[m.to].raw.step(m)

    def round(self) -> None:
        self.handle_readies()
        self.deliver()

    def elect(self, leader_id: int) -> Node:
        self.nodes[leader_id].raw.campaign()
        for _ in range(50):
            self.round()
        leader = self.nodes[leader_id]
        assert leader.raw.status().role == Role.LEADER, "no leader after the election rounds"
        return leader


def payloads(n: int) -> list[bytes]:
    filler = bytes(random.Random(1).randrange(256) for _ in range(PAYLOAD_SIZE))
    return [b"%010d" % i + filler[10:] for i in range(n)]


def make_cluster(
    mode: str, directory: str | None, *, wire: bool, pool: ThreadPoolExecutor | None, strict_order: bool = False
) -> Cluster:
    cs = ConfState(voters=IDS)
    nodes = []
    for i in IDS:
        storage: MemoryStorage | FileStorage
        if mode == "file":
            assert directory is not None
            storage = FileStorage.bootstrap(os.path.join(directory, f"node{i}"), cs)
        else:
            storage = MemoryStorage.bootstrap(cs)
        nodes.append(Node(i, storage, seed=7))
    return Cluster(nodes, wire=wire, pool=pool, strict_order=strict_order)


def close(cluster: Cluster) -> None:
    for n in cluster.order:
        if n.file is not None:
            n.file.close()


def run_memory(entries: int, batch: int, wire: bool, propose_batch: bool) -> dict[str, Any]:
    cluster = make_cluster("memory", None, wire=wire, pool=None)
    leader = cluster.elect(1)
    data = payloads(entries)
    window = 4 * batch  # outstanding proposals at most: pipelined, but bounded
    proposed = 0
    propose = leader.raw.propose
    base = leader.applied
    cluster.messages = 0
    w0, c0 = time.perf_counter(), time.process_time()
    while leader.applied - base < entries:
        outstanding = proposed - (leader.applied - base)
        k = min(batch, window - outstanding, entries - proposed)
        if propose_batch:
            if k > 0:
                leader.raw.propose_batch(data[proposed : proposed + k])
        else:
            for i in range(proposed, proposed + k):
                propose(data[i])
        proposed += k
        cluster.round()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    committed = leader.applied - base
    followers_applied = min(n.applied for n in cluster.order if n is not leader)
    return {
        "mode": "memory",
        "wire_codec": wire,
        "proposals": "one propose_batch call per round" if propose_batch else "one propose() call each",
        "entries": committed,
        "batch_per_round": batch,
        "payload_bytes": PAYLOAD_SIZE,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "entries_per_s": round(committed / wall),
        "cpu_us_per_entry": round(cpu / committed * 1e6, 2),
        "entries_per_cpu_s": round(committed / cpu),
        "messages": cluster.messages,
        "entries_per_message_round": round(committed / max(1, cluster.messages) * 4, 1),
        "followers_applied": followers_applied,
    }


def run_file(
    entries: int, proposers: int, directory: str, serial_fsync: bool, strict_order: bool = False
) -> dict[str, Any]:
    workdir = tempfile.mkdtemp(prefix="raft-bench-", dir=directory)
    pool = None if serial_fsync else ThreadPoolExecutor(max_workers=len(IDS))
    try:
        cluster = make_cluster("file", workdir, wire=False, pool=pool, strict_order=strict_order)
        leader = cluster.elect(1)
        data = payloads(entries)
        state = {"proposed": 0, "outstanding": 0}
        propose = leader.raw.propose

        def top_up() -> None:
            p = state["proposed"]
            k = min(proposers - state["outstanding"], entries - p)
            for i in range(p, p + k):
                propose(data[i])
            state["proposed"] = p + k
            state["outstanding"] += k

        def on_apply(n: int) -> None:  # n proposals complete: their proposers propose again
            state["outstanding"] -= n
            top_up()

        leader.on_apply = on_apply
        base = leader.applied
        fsyncs0 = {n.id: n.file.fsyncs for n in cluster.order if n.file is not None}
        cluster.fsync_wait = 0.0
        cluster.fsync_rounds = 0
        w0, c0 = time.perf_counter(), time.process_time()
        top_up()
        while leader.applied - base < entries:
            cluster.round()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        committed = leader.applied - base
        fsyncs = {n.id: n.file.fsyncs - fsyncs0[n.id] for n in cluster.order if n.file is not None}
        close(cluster)
        return {
            "mode": "file",
            "entries": committed,
            "proposers": proposers,
            "payload_bytes": PAYLOAD_SIZE,
            "fsync": "serial" if serial_fsync else "parallel (one thread per node)",
            "leader_sends": "after its fsync" if strict_order else "while it fsyncs (may_send_first)",
            "directory_fs": directory or tempfile.gettempdir(),
            "wall_s": round(wall, 3),
            "cpu_s": round(cpu, 3),
            "entries_per_s": round(committed / wall),
            "cpu_us_per_entry": round(cpu / committed * 1e6, 2),
            "entries_per_cpu_s": round(committed / cpu),
            "fsyncs_per_node": fsyncs,
            "entries_per_leader_fsync": round(committed / max(1, fsyncs[1]), 1),
            "fsync_wait_s": round(cluster.fsync_wait, 3),
            "fsync_wait_share_of_wall": round(cluster.fsync_wait / wall, 3),
            "fsync_wait_ms_per_round": round(cluster.fsync_wait / max(1, cluster.fsync_rounds) * 1000, 3),
        }
    finally:
        if pool is not None:
            pool.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)


def probe_fdatasync(directory: str | None, n: int = 50) -> float:
    """Milliseconds per (6 KB append + fdatasync) in ``directory``: the disk's latency right now."""
    workdir = tempfile.mkdtemp(prefix="raft-bench-probe-", dir=directory)
    try:
        fd = os.open(os.path.join(workdir, "probe"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            buf = bytes(6000)
            t = time.perf_counter()
            for _ in range(n):
                os.write(fd, buf)
                os.fdatasync(fd)
            return round((time.perf_counter() - t) / n * 1000, 3)
        finally:
            os.close(fd)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def profile_file(entries: int, proposers: int, directory: str, top: int) -> list[dict[str, Any]]:
    prof = cProfile.Profile()
    prof.enable()
    run_file(entries, proposers, directory, serial_fsync=False)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    print(out.getvalue())
    rows = []
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in sorted(
        stats.stats.items(),  # type: ignore[attr-defined]
        key=lambda kv: kv[1][2],
        reverse=True,
    )[:top]:
        rows.append(
            {
                "function": f"{Path(filename).name}:{line}({func})",
                "calls": nc,
                "own_s": round(tt, 3),
                "cumulative_s": round(ct, 3),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--mode", choices=["memory", "file", "both"], default="both")
    parser.add_argument("--entries", type=int, default=200_000, help="committed entries per memory run")
    parser.add_argument("--file-entries", type=int, default=60_000, help="committed entries per file run")
    parser.add_argument("--batch", type=int, default=1000, help="memory mode: proposals per round")
    parser.add_argument("--proposers", type=int, default=50, help="file mode: proposals outstanding")
    parser.add_argument("--dir", default=None, help="file mode: where the temporary node directories go")
    parser.add_argument("--wire", action="store_true", help="memory mode: also a run through the message codec")
    parser.add_argument("--serial-fsync", action="store_true", help="file mode: also a run fsyncing one node at a time")
    parser.add_argument(
        "--strict-order", action="store_true", help="file mode: also a run where the leader sends only after its fsync"
    )
    parser.add_argument(
        "--shm",
        action="store_true",
        help="file mode: also a run on /dev/shm (tmpfs: fdatasync costs nothing), to separate CPU from disk latency",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration; the median is reported")
    parser.add_argument("--profile", action="store_true", help="file mode: a short cProfile run, top functions")
    parser.add_argument("--no-json", action="store_true", help="do not write bench/results/raft_core.json")
    args = parser.parse_args()

    def median(runs: list[dict[str, Any]]) -> dict[str, Any]:
        runs = sorted(runs, key=lambda r: r["entries_per_s"])
        best = dict(runs[len(runs) // 2])
        best["runs_entries_per_s"] = [r["entries_per_s"] for r in runs]
        return best

    load_at_start = os.getloadavg()
    results: list[dict[str, Any]] = []
    configs: list[tuple[str, Callable[[], dict[str, Any]]]] = []
    if args.mode in ("memory", "both"):
        configs.append(("memory", lambda: run_memory(args.entries, args.batch, wire=False, propose_batch=False)))
        configs.append(
            ("memory propose_batch", lambda: run_memory(args.entries, args.batch, wire=False, propose_batch=True))
        )
        if args.wire:
            configs.append(
                ("memory+wire", lambda: run_memory(args.entries, args.batch, wire=True, propose_batch=False))
            )
    if args.mode in ("file", "both"):
        configs.append(("file", lambda: run_file(args.file_entries, args.proposers, args.dir, serial_fsync=False)))
        if args.shm and os.path.isdir("/dev/shm"):
            configs.append(
                (
                    "file on tmpfs",
                    lambda: run_file(args.file_entries, args.proposers, "/dev/shm", serial_fsync=False),
                )
            )
        if args.strict_order:
            configs.append(
                (
                    "file strict order",
                    lambda: run_file(
                        args.file_entries, args.proposers, args.dir, serial_fsync=False, strict_order=True
                    ),
                )
            )
        if args.serial_fsync:
            configs.append(
                ("file serial fsync", lambda: run_file(args.file_entries, args.proposers, args.dir, serial_fsync=True))
            )
    for name, fn in configs:
        r = median([fn() for _ in range(args.repeat)])
        r["name"] = name
        if r["mode"] == "file":
            r["raw_fdatasync_ms_after"] = probe_fdatasync(r["directory_fs"])
        results.append(r)
        target = 100_000 if r["mode"] == "memory" else 20_000
        verdict = "meets" if r["entries_per_s"] >= target else "MISSES"
        line = (
            f"{name:20} {r['entries_per_s']:>9,} entries/s  {r['cpu_us_per_entry']:>7.2f} us CPU/entry "
            f"({r['entries_per_cpu_s']:,} entries per CPU second; runs {r['runs_entries_per_s']}; "
            f"{verdict} the {target:,}/s target)"
        )
        if r["mode"] == "file":
            line += f"\n{'':20} raw fdatasync latency just after: {r['raw_fdatasync_ms_after']} ms"
            line += (
                f"\n{'':20} {r['entries_per_leader_fsync']} entries per leader fsync, fsync wait "
                f"{r['fsync_wait_share_of_wall']:.0%} of wall ({r['fsync_wait_ms_per_round']} ms per fsync round)"
            )
        print(line, flush=True)

    report: dict[str, Any] = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": load_at_start,
        "loadavg_at_end": os.getloadavg(),
        "results": results,
    }
    if args.profile:
        report["file_profile_top"] = profile_file(min(args.file_entries, 20_000), args.proposers, args.dir, 20)
    if not args.no_json:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / "raft_core.json"
        path.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
