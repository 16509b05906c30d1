"""``make bench-cache``: hit ratio per eviction policy, CacheFlow against a real redis-server, on the same traces.

Why it is built this way (issue 5; bench/README.md has the reader's version):
- The same traces (bench/cache/traces.py, fixed seed) go to every server and
  policy, replayed by one client (bench/cache/replay.py) that counts hits itself,
  so the only thing that differs between two hit ratios is the server's policy.
- Each server gets a maxmemory calibrated on itself to hold 10% of the keys
  (bench/cache/calibrate.py): equal capacity in keys, whatever each one's
  memory accounting.  The keys held are checked with DBSIZE, before and after.
- One server process per kind, pinned to one core with the harness on the other
  (as ``make bench``); between runs FLUSHALL + CONFIG SET maxmemory-policy +
  CONFIG RESETSTAT.  A policy a server refuses is reported as "unsupported".
- Hit ratios are deterministic up to the servers' own random sampling, so one
  run per (server, policy, trace) is enough; they do not depend on machine
  noise, except that Redis's LRU clock ticks once a second, so its LRU (not its
  LFU) ranks keys more coarsely the faster the replay goes.
- Then the eviction pause probe (bench/cache/evict_pause.py) for every policy.
Every server it starts is stopped on the way out: on success, error, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import signal
import sys
import time
from array import array
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench.cache, when run as a script
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/harness, bench/run.py, bench/pause_probe.py

from harness import report, servers
from harness.procfs import cpu_sample, rss_bytes

from bench.cache import evict_pause, traces
from bench.cache.calibrate import Calibration, calibrate
from bench.cache.client import Conn, is_error
from bench.cache.replay import VALUE_BYTES, Frames, replay

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
POLICIES = {
    report.REDIS: ["allkeys-lru", "allkeys-lfu", "allkeys-random"],
    report.CACHEFLOW: ["allkeys-lru", "allkeys-lfu", "allkeys-random", "allkeys-tinylfu"],
}
COMPARED = ("allkeys-lru", "allkeys-lfu")  # CacheFlow within 1 pp of Redis's same policy, or better
TINYLFU = "allkeys-tinylfu"
SHARE = 0.1  # maxmemory holds this share of the distinct keys
LRU_LFU_MARGIN_PP = 1.0
KEYS_PER_GIB_RATIO = 1 / 1.5
PAUSE_LIMIT_MS = 25.0
PAUSE_ATTEMPTS = 2
DISTURBED_SHARE = 0.05  # as bench/harness/redis_benchmark.py: other load above this share of the wall time
UNSUPPORTED = "unsupported"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.cache", description="Hit ratio per eviction policy: CacheFlow vs redis-server (issue 5)."
    )
    p.add_argument("--quick", action="store_true", help="smoke run: 100,000 keys, 300,000 requests per trace")
    p.add_argument("--keys", type=int, help="distinct keys (default 1,000,000; --quick 100,000)")
    p.add_argument(
        "--requests", type=int, help=f"requests per trace (default {traces.DEFAULT_REQUESTS:,}; --quick 300,000)"
    )
    p.add_argument("--traces", default=",".join(traces.TRACES), help="comma-separated (default zipf,scan,shift)")
    p.add_argument("--servers", default="redis,cacheflow", help="comma-separated: redis, cacheflow")
    p.add_argument("--batch", type=int, default=512, help="GETs per pipelined batch (default 512)")
    p.add_argument("--warmup", type=float, default=0.2, help="share of each trace not counted (default 0.2)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-correct", action="store_true", help="keep the scaled maxmemory even if DBSIZE is off")
    p.add_argument("--no-pause", action="store_true", help="skip the eviction pause probe")
    p.add_argument("--pause-seconds", type=float, help="seconds of eviction per pause probe (default 5; --quick 3)")
    p.add_argument("--no-pin", action="store_true", help="do not pin the servers and the harness to cores")
    p.add_argument("--check", action="store_true", help="exit with status 2 when a measured target is not met")
    args = p.parse_args(argv)
    args.keys = args.keys or (100_000 if args.quick else traces.DEFAULT_KEYS)
    args.requests = args.requests or (300_000 if args.quick else traces.DEFAULT_REQUESTS)
    args.pause_seconds = args.pause_seconds or (3.0 if args.quick else 5.0)
    args.trace_list = [t.strip() for t in args.traces.split(",") if t.strip()]
    args.server_list = [s.strip().lower() for s in args.servers.split(",") if s.strip()]
    if any(t not in traces.TRACES for t in args.trace_list) or not args.trace_list:
        p.error(f"--traces takes names among {','.join(traces.TRACES)}")
    if any(s not in ("redis", "cacheflow") for s in args.server_list) or not args.server_list:
        p.error("--servers takes redis and/or cacheflow")
    if args.keys < 100 or args.requests < 1 or args.batch < 1 or not 0 <= args.warmup < 1:
        p.error("--keys >= 100, --requests >= 1, --batch >= 1, 0 <= --warmup < 1")
    return args


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def set_policy(conn: Conn, policy: str) -> str | None:
    """CONFIG SET maxmemory-policy; the server's refusal text when it refuses, else None."""
    reply = conn.call("CONFIG", "SET", "maxmemory-policy", policy)
    return str(reply) if is_error(reply) else None


def run_one(
    server: servers.BenchServer, cal: Calibration, trace: array[int], frames: Frames, args: argparse.Namespace
) -> dict[str, Any]:
    """One replay on an emptied server whose policy is already set."""
    with Conn(server.port, timeout=600) as conn:
        conn.check("FLUSHALL")
        conn.check("CONFIG", "RESETSTAT")
        empty_used = conn.used_memory()
        # Differences, not the counters: a server whose RESETSTAT misses a counter must not skew them.
        stats0 = conn.info("stats")
        before = cpu_sample(server.pid)
        result = replay(conn, trace, frames, batch=args.batch, warmup=args.warmup)
        cpu_s = cpu_sample(server.pid).sched_seconds_since(before)
    out = result.to_json()
    if not server.alive():
        out["error"] = f"{server.name} exited during the replay:\n{server.log()[-1000:]}"
        return out
    with Conn(server.port) as conn:
        stats, memory = conn.info("stats"), conn.info("memory")
        held = int(conn.check("DBSIZE"))
    out.update(
        server_cpu_s=cpu_s,
        server_cpu_us_per_request=cpu_s * 1e6 / (result.requests + result.sets) if result.requests else None,
        dbsize_after=held,
        target_keys=cal.target_keys,
        evicted_keys=_delta(stats, stats0, "evicted_keys"),
        server_keyspace_hits=_delta(stats, stats0, "keyspace_hits"),
        server_keyspace_misses=_delta(stats, stats0, "keyspace_misses"),
        used_memory_empty=empty_used,
        used_memory_after=int(memory["used_memory"]),
        maxmemory=int(memory.get("maxmemory", "0")),
    )
    # Not an eviction benchmark if the server kept (nearly) everything it was sent.
    out["evicting"] = out["evicted_keys"] > 0 and held <= cal.target_keys * 1.5
    return out


def _delta(after: dict[str, str], before: dict[str, str], field: str) -> int:
    return int(after.get(field, "0")) - int(before.get(field, "0"))


def bench_server(
    kind: str,
    args: argparse.Namespace,
    cores: tuple[int | None, int | None],
    loaded: dict[str, array[int]],
    frames: Frames,
    state: dict[str, Any],
) -> None:
    """Calibrate one server, replay every trace under every policy it has, then probe its pauses."""
    make = servers.redis if kind == "redis" else servers.cacheflow
    server = make(cores[0])
    try:
        server.start()
        name = server.name
        print(f"{name}: pid {server.pid}, port {server.port}; calibrating with {args.keys:,} keys...", flush=True)
        cal = calibrate(
            name, server.port, server.pid, frames, rss_bytes, share=SHARE, batch=args.batch, correct=not args.no_correct
        )
        state["calibration"][name] = cal
        print(f"  {calibration_line(cal)}", flush=True)
        runs: dict[str, dict[str, Any]] = {}
        state["runs"][name] = runs
        for policy in POLICIES[name]:
            with Conn(server.port) as conn:
                refused = set_policy(conn, policy)
            if refused is not None:
                runs[policy] = {UNSUPPORTED: refused}
                print(f"  {policy:<16} {UNSUPPORTED}: {refused}", flush=True)
                continue
            runs[policy] = {}
            for trace_name in args.trace_list:
                r = run_one(server, cal, loaded[trace_name], frames, args)
                runs[policy][trace_name] = r
                print(f"  {policy:<16} {trace_name:<6} {run_line(r)}", flush=True)
                if not server.alive():
                    raise RuntimeError(f"{name} exited: {server.log()[-1000:]}")
        if not args.no_pause:
            pauses: dict[str, Any] = {}
            state["pause"][name] = pauses
            for policy in POLICIES[name]:
                if UNSUPPORTED in runs.get(policy, {}):
                    pauses[policy] = {UNSUPPORTED: runs[policy][UNSUPPORTED]}
                    continue
                with Conn(server.port) as conn:
                    refused = set_policy(conn, policy)
                if refused is not None:
                    pauses[policy] = {UNSUPPORTED: refused}
                    continue
                held = [c["dbsize_after"] for c in runs[policy].values() if "dbsize_after" in c]
                capacity = min(held) if held else (cal.held or cal.target_keys)
                r = pause_with_retries(server, cores, capacity, args)
                pauses[policy] = r
                print(f"  pause probe {policy:<16} {pause_line(r)}", flush=True)
    finally:
        server.stop()


def pause_with_retries(
    server: servers.BenchServer, cores: tuple[int | None, int | None], capacity: int, args: argparse.Namespace
) -> dict[str, Any]:
    """The pause probe, run again (up to ``PAUSE_ATTEMPTS``) while other load disturbed it; the least disturbed counts."""
    attempts = []
    for _ in range(PAUSE_ATTEMPTS):
        with Conn(server.port) as conn:
            conn.check("FLUSHALL")
        r = evict_pause.measure(
            server.port,
            server.pid,
            cores,
            first_id=args.keys,
            capacity=capacity,
            max_keys=2 * args.keys,
            seconds=args.pause_seconds,
        )
        attempts.append(r)
        if (r.get("foreign_share") or 0) <= DISTURBED_SHARE:
            break
    best = min(attempts, key=lambda a: a.get("foreign_share") or 0)
    best["attempts"] = len(attempts)
    best["disturbed"] = (best.get("foreign_share") or 0) > DISTURBED_SHARE
    return best


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def calibration_line(cal: Calibration) -> str:
    corr = f", corrected to {cal.maxmemory:,} B -> {cal.held:,} keys" if cal.corrected else ""
    kpg_used = cal.keys_per_gib_used
    kpg_rss = cal.keys_per_gib_rss
    return (
        f"{cal.bytes_per_key_used:.1f} B/key by used_memory ({kpg_used or 0:,.0f} keys/GiB), "
        f"{cal.bytes_per_key_rss:.1f} B/key by RSS ({kpg_rss or 0:,.0f} keys/GiB); baseline used_memory "
        f"{cal.baseline_used:,} B; maxmemory {cal.maxmemory_scaled:,} B for {cal.target_keys:,} keys -> DBSIZE "
        f"{cal.held_scaled if cal.held_scaled is not None else '?':,} after a fill{corr}"
        + (f" [{'; '.join(cal.notes)}]" if cal.notes else "")
    )


def run_line(r: dict[str, Any]) -> str:
    if r.get("error"):
        return f"FAILED: {r['error']}"
    flag = "" if r.get("evicting") else "  [did not evict: meaningless]"
    rate = r.get("requests_per_second") or 0
    return (
        f"hit ratio {_pct(r.get('hit_ratio'))}  ({r['dbsize_after']:,} keys held, {r['evicted_keys']:,} evicted, "
        f"{r['seconds']:.1f} s, {rate:,.0f} req/s){flag}"
    )


def pause_line(r: dict[str, Any]) -> str:
    ev, quiet = r["evicting"], r["quiet"]
    other = r.get("foreign_share")
    disturbed = f"; DISTURBED: other load {other:.0%} of a core" if r.get("disturbed") else ""
    return (
        f"longest {ev.get('max_ms')} ms while evicting (p99 {ev.get('p99_ms')} ms, {ev.get('pings')} pings over "
        f"{ev.get('seconds', 0)} s; quiet before: longest {quiet.get('max_ms')} ms); {r['written']:,} SETs at "
        f"{r.get('write_rate') or 0:,}/s, {r['evicted_keys']:,} evicted, DBSIZE {r['dbsize']:,}, used_memory "
        f"{r['used_memory']:,} / maxmemory {r['maxmemory']:,}"
        + (f"; writer: {r['writer_error']}" if r.get("writer_error") else "")
        + disturbed
    )


def _cell(runs: dict[str, Any], policy: str, trace: str) -> dict[str, Any] | None:
    by_policy = runs.get(policy)
    if by_policy is None or UNSUPPORTED in by_policy:
        return None
    cell: dict[str, Any] | None = by_policy.get(trace)
    return cell


def _ratio_of(cell: dict[str, Any] | None) -> float | None:
    if cell is None or cell.get("error") or not cell.get("evicting"):
        return None
    ratio: float | None = cell.get("hit_ratio")
    return ratio


def _shown(runs: dict[str, Any] | None, policy: str, trace: str) -> str:
    if runs is None:
        return "not run"
    by_policy = runs.get(policy)
    if by_policy is None:
        return "-"
    if UNSUPPORTED in by_policy:
        return UNSUPPORTED
    cell = by_policy.get(trace)
    if cell is None:
        return "not run"
    if cell.get("error"):
        return "FAILED"
    return _pct(cell.get("hit_ratio")) + ("" if cell.get("evicting") else " !")


def table(state: dict[str, Any], trace_list: list[str]) -> str:
    """Hit ratio per trace and policy, the two servers side by side, with the difference in points."""
    rd, cf = state["runs"].get(report.REDIS), state["runs"].get(report.CACHEFLOW)
    header = ["trace", "policy", "Redis", "CacheFlow", "CacheFlow - Redis", "keys held R / CF"]
    body = []
    policies = POLICIES[report.CACHEFLOW]
    for trace in trace_list:
        for policy in policies:
            r = _ratio_of(_cell(rd or {}, policy, trace))
            c = _ratio_of(_cell(cf or {}, policy, trace))
            diff = f"{100 * (c - r):+.2f} pp" if r is not None and c is not None else ""
            if policy == TINYLFU and c is not None:
                best = best_redis(rd or {}, trace)
                if best is not None:
                    diff = f"{100 * (c - best[1]):+.2f} pp vs Redis {best[0]}"
            held = []
            for runs in (rd, cf):
                cell = _cell(runs or {}, policy, trace)
                held.append(f"{cell['dbsize_after']:,}" if cell and "dbsize_after" in cell else "-")
            body.append([trace, policy, _shown(rd, policy, trace), _shown(cf, policy, trace), diff, " / ".join(held)])
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

    return "\n".join([fmt(header), "  ".join("-" * w for w in widths), *(fmt(row) for row in body)])


def best_redis(rd: dict[str, Any], trace: str) -> tuple[str, float] | None:
    """Redis's best measured policy on a trace, and its hit ratio."""
    measured = [(p, _ratio_of(_cell(rd, p, trace))) for p in POLICIES[report.REDIS]]
    found = [(p, r) for p, r in measured if r is not None]
    return max(found, key=lambda x: x[1]) if found else None


def memory_lines(state: dict[str, Any]) -> list[str]:
    cals: dict[str, Calibration] = state["calibration"]
    out = []
    for name in (report.REDIS, report.CACHEFLOW):
        cal = cals.get(name)
        if cal is not None:
            out.append(f"{name:<9} {calibration_line(cal)}")
    rd, cf = cals.get(report.REDIS), cals.get(report.CACHEFLOW)
    if rd and cf:
        for label, a, b in (
            ("used_memory", cf.keys_per_gib_used, rd.keys_per_gib_used),
            ("RSS", cf.keys_per_gib_rss, rd.keys_per_gib_rss),
        ):
            if a and b:
                out.append(f"keys per GiB by {label}: CacheFlow {a:,.0f}, Redis {b:,.0f}, ratio {a / b:.2f}x")
    return out


def steady_state_lines(state: dict[str, Any]) -> list[str]:
    """Evidence that the counted window is past the warm-up: the counted windows' hit ratios, first half vs second."""
    out = []
    for name, runs in state["runs"].items():
        for policy, by_trace in runs.items():
            if UNSUPPORTED in by_trace:
                continue
            for trace in ("zipf",):  # the stationary trace; scan's windows do not align with its scan period
                cell = by_trace.get(trace)
                if not cell or cell.get("error") or not cell.get("window_hit_ratios"):
                    continue
                w = cell["window_hit_ratios"]
                half = len(w) // 2
                first, second = sum(w[:half]) / half, sum(w[half:]) / (len(w) - half)
                out.append(
                    f"{name:<9} {policy:<16} {trace:<5} counted windows {' '.join(f'{100 * x:.1f}' for x in w)}; "
                    f"second half - first half {100 * (second - first):+.2f} pp"
                )
    return out


def targets(state: dict[str, Any], args: argparse.Namespace) -> list[report.Target]:
    rd, cf = state["runs"].get(report.REDIS, {}), state["runs"].get(report.CACHEFLOW, {})
    scale = "" if args.keys == 1_000_000 else f"indicative only: {args.keys:,} keys, the issue asks for 1,000,000"
    out: list[report.Target] = []
    for trace in args.trace_list:
        for policy in COMPARED:
            r, c = _ratio_of(_cell(rd, policy, trace)), _ratio_of(_cell(cf, policy, trace))
            note = scale if r is not None and c is not None else _why_missing(rd, cf, policy, trace)
            out.append(
                report.Target(
                    f"{policy} on {trace}: CacheFlow - Redis",
                    None if r is None or c is None else 100 * (c - r),
                    -LRU_LFU_MARGIN_PP,
                    True,
                    note,
                    unit="pp",
                )
            )
    for trace in args.trace_list:
        best, c = best_redis(rd, trace), _ratio_of(_cell(cf, TINYLFU, trace))
        note = (
            f"Redis's best: {best[0]}" + (f"; {scale}" if scale else "")
            if best and c is not None
            else _why_missing(rd, cf, TINYLFU, trace)
        )
        out.append(
            report.Target(
                f"{TINYLFU} on {trace}: CacheFlow - Redis's best",
                None if best is None or c is None else 100 * (c - best[1]),
                0.0,
                True,
                note,
                unit="pp",
                strict=True,
            )
        )
    cals: dict[str, Calibration] = state["calibration"]
    rc, cc = cals.get(report.REDIS), cals.get(report.CACHEFLOW)
    ratio = None
    if rc and cc and rc.keys_per_gib_rss and cc.keys_per_gib_rss:
        ratio = cc.keys_per_gib_rss / rc.keys_per_gib_rss
    out.append(report.Target("keys per GiB of RSS, CacheFlow / Redis", ratio, KEYS_PER_GIB_RATIO, True, scale))
    worst: float | None = None
    note = "CacheFlow's pause probe did not run"
    cf_pause = state["pause"].get(report.CACHEFLOW, {})
    measured = [
        (p, r) for p, r in cf_pause.items() if UNSUPPORTED not in r and r.get("evicted_keys") and r["evicting"]["pings"]
    ]
    if measured:
        policy, r = max(measured, key=lambda x: float(x[1]["evicting"]["max_ms"]))
        worst, note = float(r["evicting"]["max_ms"]), f"worst policy {policy}"
        if r.get("disturbed"):
            note += f"; other load took {r['foreign_share']:.0%} of a core during it"
    elif cf_pause:
        note = "CacheFlow did not evict during the probe"
    out.append(
        report.Target("longest PING pause while evicting, CacheFlow", worst, PAUSE_LIMIT_MS, False, note, "ms", True)
    )
    return out


def _why_missing(rd: dict[str, Any], cf: dict[str, Any], policy: str, trace: str) -> str:
    reasons = []
    for name, runs in ((report.REDIS, rd), (report.CACHEFLOW, cf)):
        if policy == TINYLFU and name == report.REDIS:
            continue
        by_policy = runs.get(policy)
        if by_policy is None:
            reasons.append(f"{name} not run")
        elif UNSUPPORTED in by_policy:
            reasons.append(f"{name}: {UNSUPPORTED}")
        else:
            cell = by_policy.get(trace)
            if cell is None:
                reasons.append(f"{name} not run")
            elif cell.get("error"):
                reasons.append(f"{name} failed")
            elif not cell.get("evicting"):
                reasons.append(f"{name} did not evict")
    return "; ".join(reasons)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_interrupt)
    if "redis" in args.server_list and shutil.which("redis-server") is None:
        print("redis-server is not installed; run `make redis-deps`", file=sys.stderr)
        return 1
    import run  # bench/run.py: core planning and machine information, as ``make bench`` does them

    cores: tuple[int | None, int | None] = run.plan_cores(args.no_pin)
    if cores[1] is not None:
        os.sched_setaffinity(0, {cores[1]})
    started_at = datetime.datetime.now(datetime.UTC)
    info = run.machine_info()
    pinning = f"servers on core {cores[0]}, harness on core {cores[1]}" if cores[0] is not None else "no pinning"
    print(
        f"bench-cache: {args.keys:,} keys, {args.requests:,} requests per trace ({','.join(args.trace_list)}), "
        f"{VALUE_BYTES}-byte values, maxmemory for {SHARE:.0%} of the keys, batches of {args.batch} GETs, "
        f"first {args.warmup:.0%} of each trace not counted; {pinning}; commit {(info['git_commit'] or '?')[:10]}"
        f"{' (dirty tree)' if info['git_dirty'] else ''}",
        flush=True,
    )
    state: dict[str, Any] = {"calibration": {}, "runs": {}, "pause": {}, "trace_seconds": {}}
    status, error = "complete", None
    try:
        loaded: dict[str, array[int]] = {}
        for name in args.trace_list:
            t0 = time.perf_counter()
            loaded[name] = traces.generate(name, args.keys, args.requests, args.seed)
            state["trace_seconds"][name] = time.perf_counter() - t0
        frames = Frames(args.keys)
        print(
            "traces generated: " + ", ".join(f"{n} {s:.1f} s" for n, s in state["trace_seconds"].items()),
            flush=True,
        )
        for kind in args.server_list:
            bench_server(kind, args, cores, loaded, frames, state)
    except KeyboardInterrupt:
        status, error = "interrupted", "interrupted"
        print("\ninterrupted: servers stopped; reporting what was measured", file=sys.stderr)
    except Exception as e:  # report, still print and save what was measured
        status, error = "failed", f"{type(e).__name__}: {e}"
        print(f"\nbench-cache failed: {error}", file=sys.stderr)

    print()
    print(
        f"hit ratio (GET hits / GETs after the first {args.warmup:.0%} of {args.requests:,} requests), "
        f"{args.keys:,} keys, maxmemory calibrated per server for {SHARE:.0%} of them "
        "(! = the server did not evict: meaningless):"
    )
    print(table(state, args.trace_list))
    print()
    for line in memory_lines(state):
        print(line)
    if state["pause"]:
        print()
        for name, pauses in state["pause"].items():
            for policy, r in pauses.items():
                text = f"{UNSUPPORTED}" if UNSUPPORTED in r else pause_line(r)
                print(f"pause probe {name:<9} {policy:<16} {text}")
    steady = steady_state_lines(state)
    if steady:
        print()
        print("steady state (hit ratio % per counted window, in order):")
        for line in steady:
            print(f"  {line}")
    goals = targets(state, args)
    print()
    print("targets:")
    print(report.targets_text(goals))

    info["loadavg_end"] = run._loadavg()
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"cache-{stamp}.json"
    report.write_json(
        path,
        {
            "timestamp": started_at.isoformat(),
            "duration_s": (datetime.datetime.now(datetime.UTC) - started_at).total_seconds(),
            "status": status,
            "error": error,
            "argv": sys.argv,
            "settings": {
                "keys": args.keys,
                "requests": args.requests,
                "traces": args.trace_list,
                "trace_descriptions": {n: traces.DESCRIPTIONS[n] for n in args.trace_list},
                "seed": args.seed,
                "value_bytes": VALUE_BYTES,
                "key_bytes": len(traces.key_name(0)),
                "batch": args.batch,
                "warmup_share": args.warmup,
                "maxmemory_share": SHARE,
                "quick": args.quick,
                "calibration_correction": not args.no_correct,
                "pause_seconds": args.pause_seconds,
                "server_core": cores[0],
                "harness_core": cores[1],
                "policies": POLICIES,
            },
            "machine": info,
            "trace_generation_s": state["trace_seconds"],
            "calibration": {n: c.to_json() for n, c in state["calibration"].items()},
            "runs": state["runs"],
            "pause": state["pause"],
            "targets": [t.to_json() for t in goals],
        },
    )
    print(f"\nresults: {path.relative_to(ROOT)} ({status})")
    if status != "complete":
        return 130 if status == "interrupted" else 1
    if args.check and any(t.verdict == "NOT MET" for t in goals):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
