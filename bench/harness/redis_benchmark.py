"""Run one ``redis-benchmark`` test against one server and read the server's CPU time around it.

Each test runs as its own redis-benchmark invocation, for two reasons: the CPU
time read from /proc before and after belongs to exactly one test, and a command
the server does not implement yet (redis-benchmark aborts on the first error
reply) fails only that test instead of the whole run.
"""

import csv
import io
import resource
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.procfs import CLOCK_TICKS_PER_SECOND, CoreTimes, core_times, cpu_sample
from harness.servers import BenchServer, pin_prefix

# A run counts as disturbed when something other than the server and redis-benchmark
# used more than this share of the wall time on the watched cores (plus two ticks of
# slack, since /proc/stat counts in 10 ms ticks), or the hypervisor stole that much.
DISTURBED_SHARE = 0.05
_SLACK_S = 2 / CLOCK_TICKS_PER_SECOND


@dataclass
class Interference:
    """What else used the cores during one run: the harness's evidence for "this number is noise".

    ``foreign_s`` maps a core (or "all" when nothing is pinned) to CPU seconds
    used there by neither the server nor redis-benchmark; ``steal_s`` is the
    hypervisor's steal time on the same cores.
    """

    foreign_s: dict[str, float]
    steal_s: dict[str, float]
    load_generator_cpu_s: float

    def disturbed(self, wall_s: float) -> bool:
        """Whether the run should be discarded and repeated."""
        limit = DISTURBED_SHARE * wall_s + _SLACK_S
        return any(v > limit for v in self.foreign_s.values()) or any(v > limit for v in self.steal_s.values())

    def worst_share(self, wall_s: float) -> float:
        """The largest foreign or stolen share of the wall time, to pick the least disturbed attempt."""
        values = [*self.foreign_s.values(), *self.steal_s.values(), 0.0]
        return max(values) / wall_s if wall_s > 0 else 0.0


def _children_cpu_s() -> float:
    """CPU seconds of this process's reaped children: redis-benchmark's own cost, once it has exited."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _interference(
    before: dict[int, CoreTimes],
    after: dict[int, CoreTimes],
    cores: tuple[int, int] | None,
    server_cpu_s: float,
    generator_cpu_s: float,
) -> Interference:
    """Foreign CPU and steal on the server's and the load generator's cores during one run."""

    def work(core: int) -> float:
        return (after[core].work - before[core].work) / CLOCK_TICKS_PER_SECOND

    def steal(core: int) -> float:
        return (after[core].steal - before[core].steal) / CLOCK_TICKS_PER_SECOND

    if cores is not None and all(c in before and c in after for c in cores):
        server_core, load_core = cores
        foreign = {
            f"cpu{server_core}": max(0.0, work(server_core) - server_cpu_s),
            f"cpu{load_core}": max(0.0, work(load_core) - generator_cpu_s),
        }
        stolen = {f"cpu{c}": steal(c) for c in cores}
    else:
        watched = sorted(set(before) & set(after))
        foreign = {"all": max(0.0, sum(work(c) for c in watched) - server_cpu_s - generator_cpu_s)}
        stolen = {"all": sum(steal(c) for c in watched)}
    return Interference(foreign_s=foreign, steal_s=stolen, load_generator_cpu_s=generator_cpu_s)


@dataclass
class Row:
    """One CSV line of redis-benchmark: its title (``"MSET (10 keys)"``) and the numbers we keep."""

    title: str
    rps: float
    latency_ms: dict[str, float] = field(default_factory=dict)


@dataclass
class Run:
    """One invocation: what redis-benchmark reported, and what the server's process was charged for it."""

    server: str
    test: str
    pipeline: int
    requests: int
    clients: int
    repetition: int
    ok: bool
    error: str | None
    rows: list[Row]
    wall_s: float
    cpu_s: float
    cpu_sched_s: float
    interference: Interference
    attempt: int = 0
    counted: bool = True

    @property
    def disturbed(self) -> bool:
        """Something else ran on our cores (or the hypervisor stole them) during this run."""
        return self.interference.disturbed(self.wall_s)

    @property
    def rps(self) -> float | None:
        """Requests per second; for a test with several rows (``ping``) their mean."""
        if not self.ok or not self.rows:
            return None
        return sum(r.rps for r in self.rows) / len(self.rows)

    @property
    def total_requests(self) -> int:
        """Requests actually sent: ``-n`` per CSV row (``ping`` runs two tests of ``-n`` each)."""
        return self.requests * max(1, len(self.rows))

    @property
    def cpu_us_per_request(self) -> float | None:
        """Server CPU (utime+stime) per request in µs."""
        if not self.ok:
            return None
        return self.cpu_s * 1e6 / self.total_requests

    @property
    def cpu_sched_us_per_request(self) -> float | None:
        """The same from schedstat, for judging whether 10 ms ticks were too coarse."""
        if not self.ok:
            return None
        return self.cpu_sched_s * 1e6 / self.total_requests

    @property
    def server_busy(self) -> float | None:
        """Fraction of the wall time the server was on CPU: well under 1 means the load generator was the limit."""
        if not self.ok or self.wall_s <= 0:
            return None
        return self.cpu_sched_s / self.wall_s

    def to_json(self) -> dict[str, Any]:
        """Every raw number, plus the derived ones, for the results file."""
        data = asdict(self)
        data["server_busy"] = self.server_busy
        data["disturbed"] = self.disturbed
        data["rps"] = self.rps
        data["total_requests"] = self.total_requests
        data["cpu_us_per_request"] = self.cpu_us_per_request
        data["cpu_sched_us_per_request"] = self.cpu_sched_us_per_request
        return data


def parse_csv(text: str) -> list[Row]:
    """Rows of redis-benchmark's ``--csv`` output.

    Tolerant on purpose: it skips anything before the header (warnings such as
    "Could not fetch server CONFIG" may be interleaved), finds columns by header
    name rather than position, and ignores lines that do not parse.
    """
    rows: list[Row] = []
    header: list[str] | None = None
    for record in csv.reader(io.StringIO(text)):
        cells = [c.strip() for c in record]
        if not cells or not any(cells):
            continue
        if header is None:
            lowered = [c.lower() for c in cells]
            if "test" in lowered and "rps" in lowered:
                header = lowered
            continue
        if len(cells) != len(header):
            continue
        values = dict(zip(header, cells))
        try:
            rps = float(values["rps"])
        except ValueError:
            continue
        latency: dict[str, float] = {}
        for name, value in values.items():
            if name.endswith("_latency_ms"):
                try:
                    latency[name.removesuffix("_latency_ms")] = float(value)
                except ValueError:
                    pass
        rows.append(Row(title=values["test"], rps=rps, latency_ms=latency))
    return rows


def _error_line(stdout: str, stderr: str, returncode: int) -> str:
    """The most telling line of a failed run (the server's error reply, when there is one)."""
    lines = [line.strip() for line in (stderr + "\n" + stdout).splitlines() if line.strip()]
    chosen = next(
        (x for x in lines if "error" in x.lower() and "could not fetch server config" not in x.lower()),
        lines[-1] if lines else f"redis-benchmark exited with status {returncode}",
    )
    return chosen if len(chosen) <= 120 else chosen[:117] + "..."


# Tests redis-benchmark has no ``-t`` name for: (a command run once before, the command benchmarked).
# ZRANGE reads the whole of a 100-member sorted set, as LRANGE_100 does for a list.
CUSTOM_TESTS: dict[str, tuple[list[str], list[str]]] = {
    "zrange_100": (
        ["ZADD", "bench:zset", *[part for i in range(100) for part in (str(i), f"member:{i:03d}")]],
        ["ZRANGE", "bench:zset", "0", "99", "WITHSCORES"],
    ),
}


def _prepare(server: BenchServer, test: str) -> list[str]:
    """The tail of redis-benchmark's argv for ``test``, after running its set-up command if it has one."""
    custom = CUSTOM_TESTS.get(test)
    if custom is None:
        return ["-t", test]
    setup, command = custom
    cli = shutil.which("redis-cli")
    if cli is None:
        raise RuntimeError("redis-cli is not installed; `make redis-deps` installs it")
    subprocess.run([cli, "-h", "127.0.0.1", "-p", str(server.port), *setup], check=True, capture_output=True)
    return command


def run_test(
    server: BenchServer,
    test: str,
    *,
    pipeline: int,
    requests: int,
    clients: int,
    repetition: int,
    cores: tuple[int, int] | None,
    timeout: float,
) -> Run:
    """Run ``redis-benchmark -t <test>`` against ``server`` and charge the server's CPU time to it."""
    binary = shutil.which("redis-benchmark")
    if binary is None:
        raise RuntimeError("redis-benchmark is not installed; `make redis-deps` installs it")
    argv = [
        *pin_prefix(cores[1] if cores else None),
        binary,
        "-h", "127.0.0.1",
        "-p", str(server.port),
        "-c", str(clients),
        "-n", str(requests),
        "-P", str(pipeline),
        "--csv",
        *_prepare(server, test),
    ]  # fmt: skip
    children_before = _children_cpu_s()
    cores_before = core_times()
    before = cpu_sample(server.pid)
    started = time.perf_counter()
    error: str | None = None
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        stdout, stderr, returncode = done.stdout, done.stderr, done.returncode
    except subprocess.TimeoutExpired as e:
        stdout = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        stderr, returncode = "", -1
        error = f"redis-benchmark timed out after {timeout:.0f}s"
    wall = time.perf_counter() - started
    if not server.alive():
        raise RuntimeError(f"{server.name} died during `{test}` -P {pipeline}:\n{server.log()}")
    after = cpu_sample(server.pid)
    cores_after = core_times()
    interference = _interference(
        cores_before, cores_after, cores, after.seconds_since(before), _children_cpu_s() - children_before
    )
    rows = parse_csv(stdout)
    if error is None and (returncode != 0 or not rows):
        error = _error_line(stdout, stderr, returncode)
    return Run(
        server=server.name,
        test=test,
        pipeline=pipeline,
        requests=requests,
        clients=clients,
        repetition=repetition,
        ok=error is None,
        error=error,
        rows=rows,
        wall_s=wall,
        cpu_s=after.seconds_since(before),
        cpu_sched_s=after.sched_seconds_since(before),
        interference=interference,
    )
