"""Pause probe: how long a client waits while a server forks for BGSAVE or BGREWRITEAOF, and RDB load time.

Issue 4 asks that with 1,000,000 keys the longest pause seen by a client
sending PING every millisecond during BGSAVE or BGREWRITEAOF stay under
50 ms, that the snapshot's memory overhead be reported, and that loading a
1,000,000-key RDB take at most 3x Redis's time.  For each server (CacheFlow
and a real redis-server, each freshly started) this script:

1. puts the same dump.rdb in its directory (written once by a real Redis
   with DEBUG POPULATE, so both load identical data) and measures the load
   (the server's own "DB loaded from disk" log line, and the time until the
   first +PONG);
2. runs a probe thread that sends PING every millisecond on its own
   connection and records each round trip;
3. issues BGSAVE (then BGREWRITEAOF) and keeps probing until the child is
   reaped; reports the longest and 99th-percentile round trip during each
   window (a quiet baseline window first), the fork time (INFO stats
   latest_fork_usec) and the child's copy-on-write (rdb_last_cow_size /
   aof_last_cow_size).

Nothing is asserted: it prints figures and ratios and writes JSON under
bench/results/ when asked.

    .venv/bin/python bench/pause_probe.py                     # 1,000,000 keys, both servers
    .venv/bin/python bench/pause_probe.py --keys 100000 --only cacheflow
"""

import argparse
import json
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import servers

PING = b"*1\r\n$4\r\nPING\r\n"
PONG = b"+PONG\r\n"
RESULTS = Path(__file__).resolve().parent / "results"


class Probe:
    """PING every ``period`` seconds on one connection; records (send time, round trip) pairs."""

    def __init__(self, port: int, period: float = 0.001) -> None:
        self.port = port
        self.period = period
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ping-probe", daemon=True)
        self.error: str | None = None

    def start(self) -> "Probe":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            clock = time.perf_counter
            nxt = clock()
            while not self._stop.is_set():
                t0 = clock()
                sock.sendall(PING)
                got = b""
                while len(got) < len(PONG):
                    chunk = sock.recv(64)
                    if not chunk:
                        raise ConnectionError("server closed the probe connection")
                    got += chunk
                if got != PONG:
                    raise RuntimeError(f"unexpected reply {got!r}")
                t1 = clock()
                self.samples.append((t0, t1 - t0))
                nxt += self.period
                delay = nxt - clock()
                if delay > 0:
                    time.sleep(delay)
                else:
                    nxt = clock()
            sock.close()
        except Exception as e:  # reported by the caller
            self.error = repr(e)

    def window(self, start: float, end: float) -> dict[str, float]:
        """Round-trip statistics (ms) of the pings sent in [start, end]."""
        rtts = sorted(rtt for t, rtt in self.samples if start <= t <= end)
        if not rtts:
            return {"pings": 0, "max_ms": 0.0, "p99_ms": 0.0, "p50_ms": 0.0}
        return {
            "pings": len(rtts),
            "max_ms": round(rtts[-1] * 1000, 2),
            "p99_ms": round(rtts[min(len(rtts) - 1, int(len(rtts) * 0.99))] * 1000, 2),
            "p50_ms": round(rtts[len(rtts) // 2] * 1000, 2),
        }


def info(port: int, section: str) -> dict[str, str]:
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"*2\r\n$4\r\nINFO\r\n$%d\r\n%s\r\n" % (len(section), section.encode()))
        data = b""
        while True:
            data += s.recv(65536)
            head, _, rest = data.partition(b"\r\n")
            if head.startswith(b"$") and len(rest) >= int(head[1:]) + 2:
                body = rest[: int(head[1:])].decode()
                break
    out = {}
    for line in body.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v
    return out


def command(port: int, *args: str, timeout: float = 600) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in args))
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def make_dump(keys: int) -> Path:
    """A dump.rdb of ``keys`` string keys (DEBUG POPULATE), written by a real redis-server."""
    srv = servers.redis(None)
    srv.argv += ["--enable-debug-command", "yes"]
    srv.start()
    try:
        command(srv.port, "DEBUG", "POPULATE", str(keys))
        assert command(srv.port, "SAVE") == b"+OK\r\n"
        out = Path(tempfile.mkdtemp(prefix="pause-probe-")) / "dump.rdb"
        shutil.copy(Path(srv.workdir) / "dump.rdb", out)
        return out
    finally:
        srv.stop()


def wait_child_done(port: int, field: str, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while info(port, "persistence").get(field) != "0":
        if time.monotonic() > deadline:
            raise TimeoutError(f"{field} still 1 after {timeout}s")
        time.sleep(0.05)


def measure(name: str, dump: Path, keys: int) -> dict[str, Any]:
    srv = servers.cacheflow(None) if name == "cacheflow" else servers.redis(None)
    shutil.copy(dump, Path(srv.workdir) / "dump.rdb")
    t0 = time.monotonic()
    srv.start(timeout=900)
    ready = time.monotonic() - t0
    result: dict[str, Any] = {"server": name, "keys": keys, "start_until_pong_s": round(ready, 2)}
    try:
        m = re.search(r"DB loaded from disk: ([0-9.]+) seconds", srv.log())
        result["load_s"] = float(m.group(1)) if m else None
        result["dbsize"] = int(command(srv.port, "DBSIZE")[1:-2])
        result["rss_mb"] = round(servers_rss(srv.pid) / 1e6, 1)
        probe = Probe(srv.port).start()
        time.sleep(1.0)
        base_end = time.perf_counter()
        result["baseline"] = probe.window(base_end - 1.0, base_end)
        for label, cmd, field, cow in (
            ("bgsave", "BGSAVE", "rdb_bgsave_in_progress", "rdb_last_cow_size"),
            ("bgrewriteaof", "BGREWRITEAOF", "aof_rewrite_in_progress", "aof_last_cow_size"),
        ):
            start = time.perf_counter()
            t_cmd = time.monotonic()
            reply = command(srv.port, cmd)
            wait_child_done(srv.port, field)
            duration = time.monotonic() - t_cmd
            time.sleep(0.2)
            end = time.perf_counter()
            persistence = info(srv.port, "persistence")
            stats = info(srv.port, "stats")
            result[label] = {
                "reply": reply.decode().strip(),
                "child_s": round(duration, 2),
                "latest_fork_usec": int(stats.get("latest_fork_usec", "0")),
                "cow_mb": round(int(persistence.get(cow, "0")) / 1e6, 1),
                "status": persistence.get(
                    "rdb_last_bgsave_status" if label == "bgsave" else "aof_last_bgrewrite_status"
                ),
                **probe.window(start, end),
            }
        probe.stop()
        if probe.error:
            result["probe_error"] = probe.error
    finally:
        srv.stop()
    return result


def servers_rss(pid: int) -> int:
    from harness.procfs import rss_bytes

    return rss_bytes(pid)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("cacheflow", "redis"))
    parser.add_argument("--json", action="store_true", help="also write bench/results/pause-probe-<time>.json")
    args = parser.parse_args()
    print(f"writing a {args.keys}-key dump.rdb with redis-server (DEBUG POPULATE)...", flush=True)
    dump = make_dump(args.keys)
    results = []
    try:
        for name in ("redis", "cacheflow"):
            if args.only and name != args.only:
                continue
            print(f"measuring {name}...", flush=True)
            r = measure(name, dump, args.keys)
            results.append(r)
            print(json.dumps(r, indent=2), flush=True)
    finally:
        shutil.rmtree(dump.parent, ignore_errors=True)
    by = {r["server"]: r for r in results}
    if "redis" in by and "cacheflow" in by:
        c, r = by["cacheflow"], by["redis"]
        if c.get("load_s") and r.get("load_s"):
            print(
                f"load time: CacheFlow {c['load_s']} s, Redis {r['load_s']} s, ratio {c['load_s'] / r['load_s']:.2f}x"
            )
        for label in ("bgsave", "bgrewriteaof"):
            print(
                f"{label}: longest ping pause CacheFlow {c[label]['max_ms']} ms (p99 {c[label]['p99_ms']}), "
                f"Redis {r[label]['max_ms']} ms (p99 {r[label]['p99_ms']}); fork "
                f"{c[label]['latest_fork_usec'] / 1000:.1f} ms vs {r[label]['latest_fork_usec'] / 1000:.1f} ms; "
                f"CoW {c[label]['cow_mb']} MB vs {r[label]['cow_mb']} MB"
            )
    if args.json:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / time.strftime("pause-probe-%Y%m%d-%H%M%S.json")
        path.write_text(json.dumps(results, indent=2))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
