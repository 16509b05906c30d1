"""Read a server's CPU time and resident memory from /proc, the same way for CacheFlow and Redis.

Both servers are measured from the outside so that neither gets a friendlier
accounting than the other: no INFO field, no allocator statistic, just what the
kernel charges to the process.
"""

import os
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuSample:
    """One reading of a process's CPU time.

    ``ticks`` is utime+stime from /proc/<pid>/stat (all threads, the figure the
    report uses); ``sched_ns`` sums /proc/<pid>/task/*/schedstat, a nanosecond
    cross-check because 10 ms ticks are coarse for a run that lasts a fraction of
    a second.
    """

    ticks: int
    sched_ns: int

    def seconds_since(self, earlier: "CpuSample") -> float:
        """CPU seconds spent between two samples, from the tick counters."""
        return (self.ticks - earlier.ticks) / CLOCK_TICKS_PER_SECOND

    def sched_seconds_since(self, earlier: "CpuSample") -> float:
        """CPU seconds spent between two samples, from schedstat (nanosecond resolution)."""
        return (self.sched_ns - earlier.sched_ns) / 1e9


def cpu_ticks(pid: int) -> int:
    """utime+stime of a process in clock ticks.

    The command name (field 2) may contain spaces or parentheses, so the fields
    are counted from the last ')' rather than split naively.
    """
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return int(fields[11]) + int(fields[12])


def sched_ns(pid: int) -> int:
    """Nanoseconds on CPU summed over the process's live threads (0 when schedstat is unavailable)."""
    total = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tids:
        try:
            total += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total


def cpu_sample(pid: int) -> CpuSample:
    """Both CPU counters of a process, read back to back."""
    return CpuSample(ticks=cpu_ticks(pid), sched_ns=sched_ns(pid))


def rss_bytes(pid: int) -> int:
    """VmRSS of a process in bytes, from /proc/<pid>/status (reported there in kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS line for pid {pid}")


@dataclass(frozen=True)
class CoreTimes:
    """One core's counters from /proc/stat, in clock ticks.

    ``work`` is user+nice+system, the time some task ran there; interrupt and
    softirq time are left out because loopback networking for the benchmark
    itself lands there.  ``steal`` is time the hypervisor gave to another guest.
    """

    work: int
    steal: int


def core_times() -> dict[int, CoreTimes]:
    """Counters of every core, read in one go so that cores are sampled at the same moment."""
    out: dict[int, CoreTimes] = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if not name.startswith("cpu") or name == "cpu":
            continue
        numbers = [int(v) for v in values] + [0] * 8
        user, nice, system, steal = numbers[0], numbers[1], numbers[2], numbers[7]
        out[int(name[3:])] = CoreTimes(work=user + nice + system, steal=steal)
    return out
