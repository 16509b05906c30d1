"""RDB snapshots with real files, real server processes, a real redis-server and real kill -9.

- Restart equivalence: SAVE, BGSAVE, SHUTDOWN and SIGTERM, then a restart from
  dump.rdb alone gives the same keyspace (every type and encoding, TTLs,
  several databases), compared key by key with DEBUG DIGEST-VALUE, TYPE,
  OBJECT ENCODING and PEXPIRETIME.
- Interchange: a dump.rdb written by redis-server 7.0 loads at CacheFlow's
  start, and CacheFlow's dump.rdb loads into redis-server.
- BGSAVE: the file holds the keyspace at the fork while writes go on; the
  replies while a save runs match Redis's byte for byte; save points fire.
- Faults: garbage or truncated dump.rdb refuses start-up with the offset;
  kill -9 during BGSAVE leaves the previous file intact; a failed BGSAVE
  refuses writes with Redis's -MISCONF until a save succeeds.
- LASTSAVE, INFO persistence, -LOADING while the file loads, DEBUG RELOAD,
  FLUSHALL with save points, dbfilename / rdbchecksum / rdbcompression.
"""

import os
import random
import shutil
import signal
import socket
from pathlib import Path
from typing import Any

import pytest
import redis
from servers import ServerProcess, cacheflow_argv, free_port, real_redis_server, wait_until
from wire import Wire, encode_command

from cacheflow.persistence.snapshots import MISCONF

DEBUG = ("--enable-debug-command", "yes")
FAR_MS = 4102444800000  # 2100-01-01: a TTL that never expires during the test


def server(workdir: Path, *extra: str) -> ServerProcess:
    port = free_port()
    argv = cacheflow_argv(port, "--dir", str(workdir), *DEBUG, *extra)
    return ServerProcess(argv, port, str(workdir), str(workdir / "server.log"))


def client(srv: ServerProcess) -> redis.Redis:
    """A client once the server has loaded its dataset (start() returns at the first -LOADING too)."""
    c = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=20, single_connection_client=True)
    wait_loaded(c)
    return c


def shutdown(srv: ServerProcess, *args: str) -> bytes:
    """SHUTDOWN on a raw connection: what comes back before the server closes it (b"" on success)."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=20) as s:
        s.sendall(encode_command("SHUTDOWN", *args))
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk or chunk.endswith(b"\r\n"):
                return data + chunk
            data += chunk


def wait_loaded(c: redis.Redis) -> None:
    def loaded() -> bool:
        try:
            return c.ping() is True
        except redis.exceptions.BusyLoadingError:
            return False

    wait_until(loaded, 60, message="loading to finish")


def wait_bgsave_done(c: redis.Redis) -> dict[str, Any]:
    wait_until(lambda: c.info("persistence")["rdb_bgsave_in_progress"] == 0, 60, message="BGSAVE to finish")
    info: dict[str, Any] = c.info("persistence")
    return info


def populate(c: redis.Redis, field_ttls: bool = False) -> None:
    """Every type in each of its encodings, TTLs, binary data and several databases."""
    c.select(0)
    c.set("str", "hello")
    c.set("int", 12345)
    c.set("neg", -42)
    c.set("empty", "")
    c.set(b"bin\x00key", b"\x00\xff\x01binary\x00")
    c.set("long", "x" * 100_000)  # compressible: LZF when rdbcompression is on
    c.set("utf8", "héllo wörld ✓")
    c.set("ttl", "v", pxat=FAR_MS)
    c.set("bits", "")
    c.setbit("bits", 1000, 1)
    c.pfadd("hll-sparse", *[f"e{i}" for i in range(50)])
    c.pfadd("hll-dense", *[f"e{i}" for i in range(5000)])
    c.hset("hash-small", mapping={f"f{i}": f"v{i}" for i in range(10)})
    c.hset("hash-big", mapping={f"f{i}": f"v{i}" for i in range(300)})
    c.hset("hash-longval", mapping={"f": "v" * 100})
    c.hset("hash-ttl", mapping={"a": "1"})
    c.pexpireat("hash-ttl", FAR_MS)
    c.rpush("list-small", *range(10))
    c.rpush("list-big", *[f"element-{i}" for i in range(3000)])
    c.rpush("list-longval", "y" * 10_000, "z")
    c.sadd("set-int", *range(20))
    c.sadd("set-bigint", *range(1000))
    c.sadd("set-str", *[f"m{i}" for i in range(20)])
    c.zadd("zset-small", {f"m{i}": i * 1.5 for i in range(10)})
    c.zadd("zset-big", {f"m{i}": i / 7 for i in range(500)})
    c.zadd("zset-special", {"inf": float("inf"), "ninf": float("-inf"), "zero": 0})
    c.select(1)
    c.set("db1-key", "one")
    c.rpush("db1-list", "a", "b")
    c.select(5)
    c.hset("db5-hash", "k", "v")
    c.pexpireat("db5-hash", FAR_MS)
    c.select(15)
    c.set("db15", "last")
    if field_ttls:
        c.select(2)
        c.hset("fttl", mapping={"a": "1", "b": "2", "c": "3"})
        c.execute_command("HPEXPIREAT", "fttl", FAR_MS, "FIELDS", 1, "b")
    c.select(0)


def keyspace_of(c: redis.Redis) -> dict[int, dict[bytes, tuple[Any, ...]]]:
    """The whole keyspace, key by key: type, digest of the value, encoding and absolute expiry.

    A short string that was modified in place (APPEND, SETRANGE, PFADD) is
    ``raw`` and becomes ``embstr`` once loaded, in Redis as here, so the two
    count as one.
    """
    out: dict[int, dict[bytes, tuple[Any, ...]]] = {}
    for db in range(16):
        c.select(db)
        entries = {}
        for key in sorted(c.scan_iter(count=1000)):
            kind = c.type(key)
            encoding = c.object("encoding", key)
            if kind == b"string" and encoding == b"raw" and c.strlen(key) <= 44:
                encoding = b"embstr"
            entries[key] = (
                kind,
                c.execute_command("DEBUG", "DIGEST-VALUE", key)[0],
                encoding,
                c.execute_command("PEXPIRETIME", key),
            )
        if entries:
            out[db] = entries
    c.select(0)
    return out


def test_save_then_restart_loads_the_same_keyspace(workdir: Path) -> None:
    srv = server(workdir).start()
    try:
        c = client(srv)
        populate(c, field_ttls=True)
        before = keyspace_of(c)
        digest = c.execute_command("DEBUG", "DIGEST")
        assert c.save() is True
        srv.stop(signal.SIGKILL)
        srv.start()
        c = client(srv)
        assert keyspace_of(c) == before
        assert c.execute_command("DEBUG", "DIGEST") == digest
        info = c.info("persistence")
        assert info["rdb_last_load_keys_loaded"] == sum(len(v) for v in before.values())
        assert "Done loading RDB, keys loaded:" in srv.log()
        assert "DB loaded from disk:" in srv.log()
    finally:
        srv.stop()


def random_workload(c: redis.Redis, seed: int, n: int = 3000) -> None:
    """Random writes over every type, a few keys each, with TTLs and several databases."""
    rng = random.Random(seed)
    pipe = c.pipeline(transaction=False)
    for _ in range(n):
        db = rng.choice((0, 0, 0, 1, 7))
        pipe.execute_command("SELECT", db)
        k = f"{rng.choice('shlzxb')}{rng.randrange(40)}"
        m = f"m{rng.randrange(200)}"
        v = rng.choice((str(rng.randrange(-1000, 1000)), "v" * rng.randrange(0, 90), m))
        op = rng.randrange(14)
        if op == 0:
            pipe.set(k, v)
        elif op == 1:
            pipe.hset(k, m, v)
        elif op == 2:
            pipe.rpush(k, v)
        elif op == 3:
            pipe.lpop(k)
        elif op == 4:
            pipe.sadd(k, rng.choice((m, str(rng.randrange(600)))))
        elif op == 5:
            pipe.srem(k, m)
        elif op == 6:
            pipe.zadd(k, {m: rng.uniform(-10, 10)})
        elif op == 7:
            pipe.zrem(k, m)
        elif op == 8:
            pipe.pexpireat(k, FAR_MS - rng.randrange(10**9))
        elif op == 9:
            pipe.persist(k)
        elif op == 10:
            pipe.delete(k)
        elif op == 11:
            pipe.hdel(k, m)
        elif op == 12:
            pipe.incrby(f"n{rng.randrange(10)}", rng.randrange(100))
        else:
            pipe.pfadd(f"p{rng.randrange(5)}", m)
    pipe.execute_command("SELECT", 0)
    pipe.execute(raise_on_error=False)  # wrong-type errors are part of the workload


THRESHOLDS = ("--hash-max-listpack-entries", "16", "--zset-max-listpack-entries", "16")


@pytest.mark.parametrize("seed", [1, 2])
def test_random_workload_restarts_from_the_rdb_alone(workdir: Path, seed: int) -> None:
    srv = server(workdir, *THRESHOLDS).start()
    try:
        c = client(srv)
        random_workload(c, seed)
        before = keyspace_of(c)
        assert before
        if seed % 2:
            assert c.save() is True
        else:
            c.bgsave()
            assert wait_bgsave_done(c)["rdb_last_bgsave_status"] == "ok"
        srv.stop(signal.SIGKILL)
        srv.start()
        assert keyspace_of(client(srv)) == before
    finally:
        srv.stop()
    # The same file in a real redis-server (same encoding thresholds) holds the same keyspace.
    with real_redis_server(*DEBUG, *THRESHOLDS) as real:
        real.stop()
        shutil.copy(workdir / "dump.rdb", Path(real.workdir) / "dump.rdb")
        real.start()
        assert keyspace_of(redis.Redis(host="127.0.0.1", port=real.port, single_connection_client=True)) == before


def test_bgsave_then_restart_and_debug_reload(workdir: Path) -> None:
    srv = server(workdir).start()
    try:
        c = client(srv)
        populate(c)
        before = keyspace_of(c)
        assert c.bgsave() is True
        info = wait_bgsave_done(c)
        assert info["rdb_last_bgsave_status"] == "ok"
        assert info["rdb_last_cow_size"] > 0  # measured in the child
        assert "Fork CoW for RDB: current" in srv.log()
        assert c.execute_command("DEBUG", "RELOAD") == b"OK"
        assert keyspace_of(c) == before
        srv.stop(signal.SIGKILL)
        srv.start()
        assert keyspace_of(client(srv)) == before
    finally:
        srv.stop()


def test_redis_dump_loads_into_cacheflow_and_back(workdir: Path) -> None:
    with real_redis_server(*DEBUG) as real:
        rc = redis.Redis(host="127.0.0.1", port=real.port, single_connection_client=True)
        populate(rc)
        theirs = keyspace_of(rc)
        assert rc.save() is True
        shutil.copy(Path(real.workdir) / "dump.rdb", workdir / "dump.rdb")
    srv = server(workdir).start()
    try:
        c = client(srv)
        assert keyspace_of(c) == theirs
        assert "Loading RDB produced by version 7.0.15" in srv.log()
        c.set("added-by-cacheflow", "1")
        theirs_plus = keyspace_of(c)
        assert c.save() is True
    finally:
        srv.stop()
    with real_redis_server(*DEBUG) as real:
        real.stop()
        shutil.copy(workdir / "dump.rdb", Path(real.workdir) / "dump.rdb")
        real.start()
        rc = redis.Redis(host="127.0.0.1", port=real.port, single_connection_client=True)
        assert keyspace_of(rc) == theirs_plus


def test_rdbchecksum_and_rdbcompression_off_still_load_into_redis(workdir: Path) -> None:
    srv = server(workdir, "--rdbchecksum", "no", "--rdbcompression", "no").start()
    try:
        c = client(srv)
        populate(c)
        ours = keyspace_of(c)
        assert c.save() is True
        data = (workdir / "dump.rdb").read_bytes()
        assert data.endswith(b"\x00" * 8)  # no checksum
        assert b"x" * 100_000 in data  # not compressed
    finally:
        srv.stop()
    with real_redis_server(*DEBUG) as real:
        real.stop()
        shutil.copy(workdir / "dump.rdb", Path(real.workdir) / "dump.rdb")
        real.start()
        assert keyspace_of(redis.Redis(host="127.0.0.1", port=real.port, single_connection_client=True)) == ours


def test_bgsave_holds_the_keyspace_at_fork_time(workdir: Path) -> None:
    srv = server(workdir).start()
    try:
        c = client(srv)
        for i in range(200):
            c.set(f"k{i}", f"v{i}")
        c.rpush("list", *range(100))
        before = keyspace_of(c)
        c.config_set("rdb-key-save-delay", 2000)  # 201 keys: the child waits ~0.4 s before writing
        assert c.bgsave() is True
        assert c.info("persistence")["rdb_bgsave_in_progress"] == 1
        for i in range(0, 200, 2):
            c.set(f"k{i}", "changed")  # the writes go on while the child saves
        c.delete("list")
        c.set("new", "key")
        assert c.info("persistence")["rdb_changes_since_last_save"] >= 102
        info = wait_bgsave_done(c)
        assert info["rdb_last_bgsave_status"] == "ok"
        # The changes made after the fork are still unsaved.
        assert info["rdb_changes_since_last_save"] == 102
        after = keyspace_of(c)
        srv.stop(signal.SIGKILL)
        srv.start()
        c = client(srv)
        assert keyspace_of(c) == before != after
    finally:
        srv.stop()


def _bgsave_replies(port: int) -> list[bytes]:
    w = Wire(port, 2)
    w.call("FLUSHALL")
    w.call("SET", "k", "v")
    w.call("CONFIG", "SET", "rdb-key-save-delay", "1000000")  # 1 s per key: still saving below
    out = [
        w.call("BGSAVE", "foo"),
        w.call("BGSAVE", "SCHEDULE", "x"),
        w.call("BGSAVE"),
        w.call("BGSAVE"),
        w.call("BGSAVE", "SCHEDULE"),
        w.call("SAVE"),
        w.call("MULTI"),
        w.call("BGSAVE"),
        w.call("EXEC"),
        w.call("MULTI"),
        w.call("SAVE"),
        w.call("EXEC"),
        w.call("BGREWRITEAOF"),
    ]
    info = w.call("INFO", "persistence")
    out.append(b"rdb_bgsave_in_progress:1" if b"rdb_bgsave_in_progress:1" in info else info)
    out.append(b"aof_rewrite_scheduled:1" if b"aof_rewrite_scheduled:1" in info else info)
    w.call("CONFIG", "SET", "rdb-key-save-delay", "0")
    return out


def test_bgsave_replies_match_redis_while_a_save_runs(workdir: Path) -> None:
    srv = server(workdir).start()
    try:
        ours = _bgsave_replies(srv.port)
    finally:
        srv.stop(signal.SIGKILL)
        for child in workdir.glob("temp-*.rdb"):  # the orphaned child: its pid is in the name
            try:
                os.kill(int(child.stem.split("-")[1]), signal.SIGKILL)
            except (OSError, ValueError):
                pass
    with real_redis_server(*DEBUG) as real:
        theirs = _bgsave_replies(real.port)
        real.stop(signal.SIGKILL)
    assert ours == theirs
    assert ours[2] == b"+Background saving started\r\n"
    assert ours[3] == b"-ERR Background save already in progress\r\n"


def test_save_points_start_a_bgsave(workdir: Path) -> None:
    srv = server(workdir, "--save", "1 2 3600 1000").start()
    try:
        c = client(srv)
        first = c.lastsave()
        c.set("a", 1)
        c.set("b", 2)
        wait_until(lambda: c.info("persistence")["rdb_saves"] >= 1, 15, message="the save point to fire")
        info = wait_bgsave_done(c)
        assert info["rdb_last_bgsave_status"] == "ok"
        assert info["rdb_changes_since_last_save"] == 0
        assert c.lastsave() >= first
        assert "2 changes in 1 seconds. Saving..." in srv.log()
        assert (workdir / "dump.rdb").exists()
    finally:
        srv.stop()


def test_lastsave_and_info_fields(workdir: Path) -> None:
    srv = server(workdir).start()
    try:
        c = client(srv)
        info = c.info("persistence")
        assert info["rdb_saves"] == 0 and info["rdb_last_bgsave_time_sec"] == -1
        assert info["rdb_current_bgsave_time_sec"] == -1
        assert info["rdb_last_save_time"] == int(c.lastsave().timestamp())
        c.set("a", 1)
        c.set("b", 1)
        assert c.info("persistence")["rdb_changes_since_last_save"] == 2
        assert c.save() is True
        info = c.info("persistence")
        assert info["rdb_changes_since_last_save"] == 0 and info["rdb_saves"] == 1
        assert info["rdb_last_save_time"] == int(c.lastsave().timestamp())
        c.bgsave()
        info = wait_bgsave_done(c)
        assert info["rdb_saves"] == 2 and info["rdb_last_bgsave_time_sec"] >= 0
        assert c.info("stats")["total_forks"] == 1
    finally:
        srv.stop()


def test_info_persistence_has_redis_fields_in_redis_order(workdir: Path) -> None:
    srv = server(workdir).start()
    try:
        ours = Wire(srv.port, 2).call("INFO", "persistence")
    finally:
        srv.stop()
    with real_redis_server() as real:
        theirs = Wire(real.port, 2).call("INFO", "persistence")

    def names(raw: bytes) -> list[bytes]:
        return [line.split(b":")[0] for line in raw.split(b"\r\n") if b":" in line]

    assert names(ours) == names(theirs)


def test_shutdown_save_nosave_and_sigterm(workdir: Path) -> None:
    srv = server(workdir, "--save", "3600 1").start()
    try:
        c = client(srv)
        c.set("k", "v1")
        assert shutdown(srv, "NOSAVE") == b""
        assert srv.proc is not None and srv.proc.wait(30) == 0
        assert not (workdir / "dump.rdb").exists()
        srv.start()
        c = client(srv)
        assert c.dbsize() == 0
        c.set("k", "v2")
        assert shutdown(srv) == b""  # save points are set: it saves
        assert srv.proc is not None and srv.proc.wait(30) == 0
        assert "Saving the final RDB snapshot before exiting." in srv.log()
        srv.start()
        c = client(srv)
        assert c.get("k") == b"v2"
        c.set("k", "v3")
        assert srv.stop(signal.SIGTERM) == 0  # SIGTERM saves too
        srv.start()
        assert client(srv).get("k") == b"v3"
    finally:
        srv.stop()
    srv = server(workdir).start()  # no save points: SHUTDOWN alone does not save, SHUTDOWN SAVE does
    try:
        c = client(srv)
        c.set("k", "v4")
        assert srv.stop(signal.SIGTERM) == 0
        srv.start()
        c = client(srv)
        assert c.get("k") == b"v3"
        c.set("k", "v5")
        assert shutdown(srv, "SAVE") == b""
        assert srv.proc is not None and srv.proc.wait(30) == 0
        srv.start()
        assert client(srv).get("k") == b"v5"
    finally:
        srv.stop()


def test_shutdown_that_cannot_save_fails_unless_forced(workdir: Path) -> None:
    sub = workdir / "sub"
    sub.mkdir()
    srv = server(workdir, "--save", "3600 1", "--enable-protected-configs", "yes").start()
    try:
        c = client(srv)
        c.config_set("dir", str(sub))
        sub.rmdir()  # every save now fails to open its temporary file
        assert shutdown(srv) == b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
        assert Wire(srv.port, 2).call("SAVE") == b"-ERR\r\n"
        assert c.ping() is True
        assert "Failed opening the temp RDB file temp-" in srv.log()
        assert "Error trying to save the DB, can't exit." in srv.log()
        assert shutdown(srv, "FORCE") == b""
        assert srv.proc is not None and srv.proc.wait(30) == 0
        assert "Error trying to save the DB. Exit anyway." in srv.log()
    finally:
        srv.stop()


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda d: d[: len(d) // 2], id="truncated"),
        pytest.param(lambda d: d[:-3] + bytes([d[-3] ^ 0xFF]) + d[-2:], id="bad-checksum"),
        pytest.param(lambda d: d[:40] + b"\xee" * 20 + d[60:], id="garbage-record"),
        pytest.param(lambda d: b"NOTREDIS" + d[8:], id="bad-signature"),
    ],
)
def test_damaged_dump_refuses_to_start_with_the_offset(workdir: Path, mutate: Any) -> None:
    srv = server(workdir).start()
    try:
        c = client(srv)
        for i in range(50):
            c.set(f"key{i}", f"value{i}")
        c.save()
    finally:
        srv.stop(signal.SIGKILL)
    path = workdir / "dump.rdb"
    path.write_bytes(mutate(path.read_bytes()))
    try:
        srv.start()  # may answer -LOADING before it gives up: then it exits just after
    except RuntimeError:
        pass
    assert srv.proc is not None and srv.proc.wait(30) == 1
    log = srv.log()
    assert "offset" in log and "Traceback" not in log
    assert "Fatal error loading the DB" in log


def _kill_child(workdir: Path) -> int:
    temps = wait_until(lambda: list(workdir.glob("temp-*.rdb")), 10, message="the child's temporary file")
    pid = int(temps[0].stem.split("-")[1])
    os.kill(pid, signal.SIGKILL)
    return pid


def test_kill_9_during_bgsave_keeps_the_previous_dump(workdir: Path) -> None:
    srv = server(workdir).start()
    try:
        c = client(srv)
        for i in range(100):
            c.set(f"k{i}", "old")
        c.save()
        saved = (workdir / "dump.rdb").read_bytes()
        before = keyspace_of(c)
        c.set("k1", "new")
        c.config_set("rdb-key-save-delay", 100_000)  # 10 s: the child is still saving when killed
        c.bgsave()
        wait_until(lambda: list(workdir.glob("temp-*.rdb")), 10, message="the temporary file")
        srv.stop(signal.SIGKILL)  # the whole machine goes: server and child
        _kill_child(workdir)
        assert (workdir / "dump.rdb").read_bytes() == saved
        srv.start()
        assert keyspace_of(client(srv)) == before
    finally:
        srv.stop()


def test_failed_bgsave_refuses_writes_with_misconf_until_a_save_succeeds(workdir: Path) -> None:
    srv = server(workdir, "--save", "3600 1").start()
    try:
        c = client(srv)
        c.set("k", "v")
        c.config_set("rdb-key-save-delay", 100_000)
        c.bgsave()
        pid = _kill_child(workdir)
        info = wait_bgsave_done(c)
        assert info["rdb_last_bgsave_status"] == "err"
        assert not (workdir / f"temp-{pid}.rdb").exists()
        assert "Background saving terminated by signal 9" in srv.log()
        w = Wire(srv.port, 2)
        misconf = b"-" + MISCONF.encode() + b"\r\n"
        assert w.call("SET", "k", "x") == misconf
        assert w.call("PING") == misconf
        assert w.call("GET", "k") == b"$1\r\nv\r\n"
        assert w.call("SET", "k") == b"-ERR wrong number of arguments for 'set' command\r\n"
        assert w.call("MULTI") == b"+OK\r\n"
        assert w.call("SET", "k", "x") == misconf
        assert w.call("EXEC") == b"-EXECABORT Transaction discarded because of previous errors.\r\n"
        other = Wire(srv.port, 2)
        c.config_set("stop-writes-on-bgsave-error", "no")
        assert other.call("MULTI") == b"+OK\r\n" and other.call("SET", "q", "1") == b"+QUEUED\r\n"
        c.config_set("stop-writes-on-bgsave-error", "yes")
        assert other.call("EXEC") == b"-EXECABORT Transaction discarded because of: " + misconf[1:]
        assert c.info("errorstats")["errorstat_MISCONF"]["count"] == 3
        c.config_set("rdb-key-save-delay", 0)
        assert c.save() is True
        assert w.call("SET", "k", "x") == b"+OK\r\n"
    finally:
        srv.stop()


def test_clients_get_loading_while_the_dump_loads(workdir: Path) -> None:
    srv = server(workdir).start()
    try:
        c = client(srv)
        pipe = c.pipeline(transaction=False)
        for i in range(2000):
            pipe.set(f"k{i}", i)
        pipe.execute()
        c.save()
    finally:
        srv.stop(signal.SIGKILL)
    srv = server(workdir, "--key-load-delay", "1000").start()  # 2000 keys: about 2 s of loading
    try:
        w = Wire(srv.port, 2)
        assert w.call("GET", "k1") == b"-LOADING Redis is loading the dataset in memory\r\n"
        info = w.call("INFO", "persistence")
        assert b"loading:1\r\n" in info and b"loading_total_bytes:" in info
        c = client(srv)
        wait_loaded(c)
        assert c.dbsize() == 2000
        assert c.info("persistence")["loading"] == 0
    finally:
        srv.stop()


def test_expired_keys_are_not_loaded(workdir: Path) -> None:
    srv = server(workdir).start()
    try:
        c = client(srv)
        c.set("gone", "x", px=300)
        c.set("stays", "y")
        c.save()
        wait_until(lambda: c.pttl("gone") == -2, 5, message="the key to expire")
        srv.stop(signal.SIGKILL)
        srv.start()
        c = client(srv)
        assert c.keys("*") == [b"stays"]
        info = c.info("persistence")
        assert info["rdb_last_load_keys_expired"] == 1 and info["rdb_last_load_keys_loaded"] == 1
    finally:
        srv.stop()


def test_flushall_with_save_points_saves_the_empty_dataset(workdir: Path) -> None:
    srv = server(workdir, "--save", "3600 1").start()
    try:
        c = client(srv)
        c.set("k", "v")
        c.save()
        c.set("k2", "v")
        c.flushall()
        assert c.info("persistence")["rdb_changes_since_last_save"] == 0
        srv.stop(signal.SIGKILL)
        srv.start()
        assert client(srv).dbsize() == 0
    finally:
        srv.stop()


def test_flushall_with_save_points_saves_even_an_empty_dataset(workdir: Path) -> None:
    """As redis-server 7.0: FLUSHALL saves whenever save points are set, keys or not."""
    srv = server(workdir, "--save", "3600 1").start()
    try:
        c = client(srv)
        assert c.dbsize() == 0 and not (workdir / "dump.rdb").exists()
        c.flushall()
        assert (workdir / "dump.rdb").exists()
        assert c.info("persistence")["rdb_changes_since_last_save"] == 0
    finally:
        srv.stop()


def test_dbfilename_and_dir(workdir: Path) -> None:
    srv = server(workdir, "--dbfilename", "other.rdb", "--enable-protected-configs", "yes").start()
    try:
        c = client(srv)
        c.set("k", "v")
        c.save()
        assert (workdir / "other.rdb").exists() and not (workdir / "dump.rdb").exists()
        with pytest.raises(redis.ResponseError, match="dbfilename can't be a path, just a filename"):
            c.config_set("dbfilename", "a/b.rdb")
        c.config_set("dbfilename", "third.rdb")
        c.save()
        assert (workdir / "third.rdb").exists()
    finally:
        srv.stop()
    # Loaded at start from dir + dbfilename.
    srv = server(workdir, "--dbfilename", "third.rdb").start()
    try:
        assert client(srv).get("k") == b"v"
    finally:
        srv.stop()
