"""Pause probe under eviction: does evicting at full write speed stall the server's loop?

bench/pause_probe.py's ``Probe`` sends PING every millisecond on its own
connection and records each round trip.  While it runs, a writer sends
pipelined ``SET`` of new keys (never seen before, 100-byte values) as fast as
it can, well past maxmemory, so that the server evicts on nearly every write.
The longest round trip while the server is evicting is the figure the issue
bounds (25 ms for CacheFlow).

The writer is a separate process (this module run with ``--writer``): in the
harness's own process its Python work would hold the GIL and delay the probe's
thread, and the probe would measure the client.  It is pinned to the client
core like the harness, and reports (time, keys written) after each batch on
``time.perf_counter``, which on Linux is CLOCK_MONOTONIC and so comparable with
the probe's timestamps in the other process; the window "evicting" starts once
it has written more keys than the server holds under its maxmemory.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.cache.client import Conn
from bench.cache.replay import VALUE, VALUE_BYTES
from bench.cache.traces import key_name

ROOT = Path(__file__).resolve().parents[2]

_SET_HEAD = b"*3\r\n$3\r\nSET\r\n$16\r\n"
_VALUE_ARG = b"\r\n$%d\r\n%s\r\n" % (VALUE_BYTES, VALUE)


def writer(port: int, first_id: int, max_keys: int, evict_from: int, seconds: float, batch: int) -> dict[str, Any]:
    """SET new keys from ``first_id`` on, ``batch`` per round trip, until ``seconds`` after key ``evict_from``.

    The clock starts once ``evict_from`` keys are written (past maxmemory), so
    that a slow server still gets ``seconds`` of eviction; ``max_keys`` and a
    hard limit of ten times that (plus a minute) bound the run.
    """
    marks: list[tuple[float, int]] = []
    written = 0
    error: str | None = None
    with Conn(port, timeout=60) as conn:
        started = time.perf_counter()
        hard_deadline = started + 10 * seconds + 60
        deadline = hard_deadline
        marks.append((started, 0))
        while written < max_keys:
            now = time.perf_counter()
            if now > deadline:
                break
            if written >= evict_from and deadline == hard_deadline:
                deadline = min(hard_deadline, now + seconds)
            n = min(batch, max_keys - written)
            base = first_id + written
            conn.send(b"".join([_SET_HEAD + key_name(base + j) + _VALUE_ARG for j in range(n)]))
            replies = conn.read(n)
            if replies.count(b"OK") != n:
                error = f"SET failed: {next(r for r in replies if r != b'OK')!r}"
                break
            written += n
            marks.append((time.perf_counter(), written))
    return {"marks": marks, "written": written, "error": error}


def _window(samples: list[tuple[float, float]], start: float, end: float) -> dict[str, Any]:
    """Round-trip statistics (ms) of the pings sent in [start, end] (as pause_probe.Probe.window, plus p99.9)."""
    rtts = sorted(rtt for t, rtt in samples if start <= t <= end)
    if not rtts:
        return {"pings": 0, "max_ms": None, "p99_ms": None, "p50_ms": None}

    def at(q: float) -> float:
        return round(rtts[min(len(rtts) - 1, int(len(rtts) * q))] * 1000, 2)

    return {
        "pings": len(rtts),
        "seconds": round(end - start, 2),
        "max_ms": round(rtts[-1] * 1000, 2),
        "p999_ms": at(0.999),
        "p99_ms": at(0.99),
        "p50_ms": at(0.5),
    }


def _foreign_load(
    before: dict[int, Any], after: dict[int, Any], cores: tuple[int | None, int | None], ours: tuple[float, float]
) -> dict[str, float]:
    """CPU seconds used by neither the server nor the harness + writer, per watched core ("all" when unpinned)."""
    from harness.procfs import CLOCK_TICKS_PER_SECOND

    def work(core: int) -> float:
        return float(after[core].work - before[core].work) / CLOCK_TICKS_PER_SECOND

    server_s, client_s = ours
    server_core, client_core = cores
    if server_core is not None and client_core is not None and server_core in after and client_core in after:
        return {
            f"cpu{server_core}": max(0.0, work(server_core) - server_s),
            f"cpu{client_core}": max(0.0, work(client_core) - client_s),
        }
    return {"all": max(0.0, sum(work(c) for c in after if c in before) - server_s - client_s)}


def measure(
    port: int,
    server_pid: int,
    cores: tuple[int | None, int | None],
    first_id: int,
    capacity: int,
    max_keys: int,
    seconds: float,
    batch: int = 256,
) -> dict[str, Any]:
    """Probe a server (already configured: maxmemory, policy, empty) while the writer fills it past maxmemory.

    ``capacity`` is how many keys the server holds under this maxmemory and
    policy; the "evicting" window starts once 5% more have been written, and
    lasts ``seconds``; ``cores`` (server core, harness core) pins the writer to the
    harness's core.  Other load on either core during the run (CPU used by
    neither the server nor this harness and its writer, from /proc/stat) is
    reported as ``foreign_share``: on a shared machine it, not the server, can
    be the cause of a long pause.
    """
    import pause_probe  # bench/pause_probe.py (bench/ is on sys.path, as in bench/run.py): issue 4's probe
    from harness.procfs import core_times, cpu_sample
    from harness.servers import pin_prefix

    with Conn(port) as conn:
        evicted_before = int(conn.info("stats").get("evicted_keys", "0"))
    evict_from = round(capacity * 1.05)
    result: dict[str, Any] = {"writer_batch": batch, "evicting_seconds": seconds, "evict_from_key": evict_from}
    argv = [
        sys.executable,
        "-m",
        "bench.cache.evict_pause",
        "--writer",
        "--port",
        str(port),
        "--first-id",
        str(first_id),
        "--max-keys",
        str(max_keys),
        "--evict-from",
        str(evict_from),
        "--seconds",
        str(seconds),
        "--batch",
        str(batch),
    ]
    probe = pause_probe.Probe(port).start()
    try:
        time.sleep(0.6)
        quiet_end = time.perf_counter()
        cores_before, server_before = core_times(), cpu_sample(server_pid)
        own_before, children_before = time.process_time(), _children_cpu_s()
        wall_before = time.perf_counter()
        done = subprocess.run(
            pin_prefix(cores[1]) + argv, capture_output=True, text=True, timeout=10 * seconds + 180, cwd=ROOT
        )
        wall = time.perf_counter() - wall_before
        server_s = cpu_sample(server_pid).sched_seconds_since(server_before)
        client_s = time.process_time() - own_before + _children_cpu_s() - children_before
        foreign = _foreign_load(cores_before, core_times(), cores, (server_s, client_s))
        time.sleep(0.2)
    finally:
        probe.stop()
    if done.returncode != 0:
        raise RuntimeError(f"eviction writer failed ({done.returncode}): {done.stderr[-2000:]}")
    out = json.loads(done.stdout)
    marks: list[tuple[float, int]] = [(float(t), int(n)) for t, n in out["marks"]]
    samples = list(probe.samples)
    w_start, w_end = marks[0][0], marks[-1][0]
    full = next((t for t, n in marks if n >= evict_from), None)
    result.update(
        written=out["written"],
        writer_error=out["error"],
        write_rate=round(out["written"] / (w_end - w_start)) if w_end > w_start else None,
        probe_error=probe.error,
        quiet=_window(samples, quiet_end - 0.5, quiet_end),
        whole_write=_window(samples, w_start, w_end),
        filling=_window(samples, w_start, full if full is not None else w_end),
        evicting=_window(samples, full, w_end) if full is not None else _window(samples, 0, -1),
        foreign_cpu_s={k: round(v, 3) for k, v in foreign.items()},
        foreign_share=round(max(foreign.values()) / wall, 3) if wall > 0 else None,
    )
    with Conn(port) as conn:
        stats, memory = conn.info("stats"), conn.info("memory")
        result.update(
            evicted_keys=int(stats.get("evicted_keys", "0")) - evicted_before,
            dbsize=int(conn.check("DBSIZE")),
            used_memory=int(memory["used_memory"]),
            maxmemory=int(memory.get("maxmemory", "0")),
        )
    return result


def _children_cpu_s() -> float:
    """CPU seconds of this process's reaped children (the writer, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _writer_main() -> int:
    p = argparse.ArgumentParser(description="the eviction pause probe's writer (run by bench/cache)")
    p.add_argument("--writer", action="store_true", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--first-id", type=int, required=True)
    p.add_argument("--max-keys", type=int, required=True)
    p.add_argument("--evict-from", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--batch", type=int, default=256)
    a = p.parse_args()
    json.dump(writer(a.port, a.first_id, a.max_keys, a.evict_from, a.seconds, a.batch), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(_writer_main())
