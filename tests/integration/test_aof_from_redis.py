"""AOF files written by the real redis-server 7.0 load into CacheFlow: the migration path for AOF users.

A real Redis with ``appendonly yes`` is filled with every type (small and big
encodings, TTLs, two databases, a transaction), rewritten once so its
directory holds a base and an incremental file, written to again, and
stopped.  CacheFlow started on a copy of that directory must hold the same
data (Redis's DEBUG DIGEST, which covers values and expiry times, equals
ours), then keep appending its own frames to Redis's incremental file and
load the mixed file after a kill -9.  The same data as one pre-7
``appendonly.aof`` in ``dir`` (Redis's base and incremental files joined, as
Redis 6 wrote them) is moved into the AOF directory, as Redis 7 does, and
loads alike.  Both kinds of base: RDB preamble, and plain commands.
"""

import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import redis
from aof_servers import aof_server, wait_loaded
from servers import ROOT, ServerProcess, real_redis_server, wait_until

from cacheflow.persistence import manifest as mf

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")

CHECK_AOF = str(ROOT / ".venv/bin/cacheflow-check-aof")


def _fill(r: redis.Redis, part: int) -> None:
    p = r.pipeline(transaction=False)
    for i in range(150):
        p.set(f"s{part}:{i}", f"v{i}" * (i % 7 + 1))
        p.rpush(f"list{i % 3}", f"{part}-{i}")
        p.sadd(f"ints{i % 2}", i + 1000 * part)
        p.sadd("strs", f"m{part}-{i}")
        p.zadd(f"z{i % 2}", {f"m{part}-{i}": i / 3})
        p.hset(f"h{i % 4}", f"f{part}-{i}", "x" * (i % 80))
    p.set("big", "B" * 5000)
    p.rpush("biglist", *[f"e{i}" * 20 for i in range(300)])
    p.zadd("bigz", {f"m{i}": i for i in range(200)})
    p.hset("bighash", mapping={f"f{i}": i for i in range(200)})
    p.set(f"ttl{part}", "t", px=3_600_000)
    p.expire("list0", 7200)
    p.incrby("counter", 7 * part + 1)
    p.delete(f"s{part}:3")
    p.execute_command("SELECT", 1)
    p.set(f"db1:{part}", "one")
    p.execute_command("SELECT", 0)
    p.execute()
    t = r.pipeline(transaction=True)  # MULTI/EXEC in Redis's incremental file
    t.lpush("tx", part).incr("tx-count").hset("tx-hash", str(part), "yes")
    t.execute()


def _redis_aof_dir(preamble: str) -> tuple[Path, bytes]:
    """Fill a real Redis, rewrite, fill again; returns a copy of its AOF directory and its digest."""
    copy = Path(f"/tmp/cacheflow-tests/redis-aof-{preamble}")
    shutil.rmtree(copy, ignore_errors=True)
    with real_redis_server(
        "--appendonly", "yes", "--aof-use-rdb-preamble", preamble, "--enable-debug-command", "yes"
    ) as real:
        r = real.client()
        r.execute_command("SELECT", 0)
        _fill(r, 1)
        before = r.info("persistence")["aof_rewrites"]
        assert r.bgrewriteaof()
        wait_until(
            lambda: (
                r.info("persistence")["aof_rewrites"] > before and r.info("persistence")["aof_rewrite_in_progress"] == 0
            ),
            30,
            message="Redis's rewrite",
        )
        _fill(r, 2)
        digest = r.execute_command("DEBUG", "DIGEST")
        real.stop()
        shutil.copytree(Path(real.workdir) / "appendonlydir", copy)
    return copy, digest


@pytest.fixture(scope="module", params=["yes", "no"], ids=["rdb-preamble", "command-base"])
def redis_aof(request: pytest.FixtureRequest) -> tuple[Path, bytes, str]:
    directory, digest = _redis_aof_dir(request.param)
    yield directory, digest, request.param
    shutil.rmtree(directory, ignore_errors=True)


def _start(workdir: Path) -> tuple[ServerProcess, redis.Redis]:
    srv = aof_server(workdir, "--enable-debug-command", "yes").start()
    c = srv.client()
    wait_loaded(c)
    return srv, c


def _copy_redis_dir(source: Path, workdir: Path) -> mf.Manifest:
    """Redis's AOF directory as ours, with its manifest (a base and one incremental file)."""
    shutil.copytree(source, workdir / "appendonlydir")
    m = mf.load(str(workdir / "appendonlydir"), "appendonly.aof")
    assert m is not None and m.base is not None and len(m.incrs) == 1
    return m


def test_a_redis_7_aof_directory_loads_and_takes_our_frames_after_its_own(
    workdir: Path, redis_aof: tuple[Path, bytes, str]
) -> None:
    source, digest, preamble = redis_aof
    m = _copy_redis_dir(source, workdir)
    assert m.base is not None and m.base.name.endswith(".rdb" if preamble == "yes" else ".aof")
    incr = workdir / "appendonlydir" / m.incrs[0].name
    assert incr.read_bytes().startswith(b"*")  # Redis's own format: bare commands
    srv, c = _start(workdir)
    try:
        assert c.execute_command("DEBUG", "DIGEST") == digest
        c.set("ours", "after migration")
        c.rpush("list1", "ours")
        ours = c.execute_command("DEBUG", "DIGEST")
        srv.stop(signal.SIGKILL)
        assert b"@CF " in incr.read_bytes()  # our frames follow Redis's commands in the same file
        srv, c = _start(workdir)
        assert c.execute_command("DEBUG", "DIGEST") == ours
    finally:
        srv.stop()
    manifest = str(workdir / "appendonlydir" / "appendonly.aof.manifest")
    out = subprocess.run([CHECK_AOF, manifest], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout
    assert out.stdout.splitlines()[-1] == "All AOF files and manifest are valid"


def test_a_pre_7_single_appendonly_aof_is_moved_into_the_directory_and_loads(
    workdir: Path, redis_aof: tuple[Path, bytes, str]
) -> None:
    source, digest, _ = redis_aof
    m = mf.load(str(source), "appendonly.aof")
    assert m is not None and m.base is not None
    # What Redis 6 kept in one file: the base (RDB preamble or commands), then the commands after it.
    single = (source / m.base.name).read_bytes() + b"".join((source / f.name).read_bytes() for f in m.incrs)
    (workdir / "appendonly.aof").write_bytes(single)
    srv, c = _start(workdir)
    try:
        assert c.execute_command("DEBUG", "DIGEST") == digest
        assert "Successfully migrated an old-style AOF into the AOF directory" in srv.log()
        assert not (workdir / "appendonly.aof").exists()
        moved = mf.load(str(workdir / "appendonlydir"), "appendonly.aof")
        assert moved is not None and moved.base == mf.AofFile("appendonly.aof", 1, mf.BASE)
        assert (workdir / "appendonlydir" / "appendonly.aof").read_bytes() == single
        assert len(moved.incrs) == 1  # our writes go to a new incremental file, not into Redis's
        c.set("ours", "1")
        ours = c.execute_command("DEBUG", "DIGEST")
        srv.stop(signal.SIGKILL)
        srv, c = _start(workdir)
        assert c.execute_command("DEBUG", "DIGEST") == ours
    finally:
        srv.stop()


def test_a_torn_command_at_the_end_of_redis_s_file_is_truncated_with_a_warning(
    workdir: Path, redis_aof: tuple[Path, bytes, str]
) -> None:
    m = _copy_redis_dir(redis_aof[0], workdir)
    incr = workdir / "appendonlydir" / m.incrs[0].name
    data = incr.read_bytes()
    multi = data.rindex(b"*1\r\n$5\r\nMULTI\r\n")
    incr.write_bytes(data[: data.index(b"tx-hash", multi)])  # the file ends inside the last transaction
    srv, c = _start(workdir)
    try:
        assert f"Truncating the AOF {incr.name} at offset {multi}" in srv.log()
        assert incr.stat().st_size == multi  # the open transaction goes whole, as in Redis
        assert c.get("tx-count") == b"1"  # part 1's transaction is there, part 2's is not
    finally:
        srv.stop()
