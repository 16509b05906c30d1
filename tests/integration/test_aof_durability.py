"""The AOF with real files, real server processes and real kill -9.

- Crash loop: writers on many connections append to per-writer lists; the
  server is killed at random moments and restarted from its AOF.  Every
  acknowledged write must be there, in order, and nothing that was never sent.
- Torn and corrupt files: a torn tail loads the prefix with a warning naming
  file and offset; corruption refuses to start, naming file and offset.
- Restart equivalence, CONFIG SET appendonly, BGREWRITEAOF, INFO persistence,
  -LOADING while loading, and cacheflow-check-aof on a real file.
"""

import os
import random
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import redis
from aof_servers import aof_server, wait_loaded
from servers import ROOT, ServerProcess, cacheflow_argv, free_port, real_redis_server, wait_until

from cacheflow.persistence import frames

WRITERS = 8


class _Writer(threading.Thread):
    def __init__(self, port: int, index: int, start_seq: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.key = f"log:{index}"
        self.sent = start_seq  # next sequence number to send
        self.acked = start_seq  # sequence numbers below this were acknowledged
        self.stop = False

    def run(self) -> None:
        try:
            c = redis.Redis(port=self.port, socket_timeout=5)
            while not self.stop:
                self.sent += 1
                c.rpush(self.key, self.sent - 1)
                self.acked = self.sent
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
            pass


def _crash_loop(workdir: Path, policy: str, rounds: int, seed: int) -> int:
    """Run the crash loop; returns the largest number of acknowledged writes lost by one writer in a crash."""
    rng = random.Random(seed)
    port = free_port()
    next_seq = [0] * WRITERS
    worst = 0
    for _ in range(rounds):
        srv = aof_server(workdir, "--appendfsync", policy, port=port).start(30)
        c = srv.client()
        wait_loaded(c)
        for i in range(WRITERS):
            values = [int(v) for v in c.lrange(f"log:{i}", 0, -1)]
            assert values == list(range(len(values))), f"writer {i}: gaps or disorder"
            assert len(values) >= next_seq[i] or policy != "always", "an acknowledged write was lost"
            next_seq[i] = len(values)
        writers = [_Writer(port, i, next_seq[i]) for i in range(WRITERS)]
        for w in writers:
            w.start()
        target = sum(next_seq) + 50
        wait_until(lambda ws=writers, t=target: sum(w.acked for w in ws) > t, 20, message="writes")
        time.sleep(rng.uniform(0.05, 0.4))  # a random moment to crash at (not a timing assertion)
        assert srv.proc is not None
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait(10)
        for w in writers:
            w.stop = True
            w.join(10)
        srv = aof_server(workdir, "--appendfsync", policy, port=port).start(30)
        c = srv.client()
        wait_loaded(c)
        for i, w in enumerate(writers):
            values = [int(v) for v in c.lrange(f"log:{i}", 0, -1)]
            assert values == list(range(len(values))), f"writer {i}: gaps, disorder or unsent writes"
            assert len(values) <= w.sent, "a write that was never sent appeared"
            lost = max(0, w.acked - len(values))
            if policy == "always":
                assert lost == 0, f"writer {i} lost {lost} acknowledged writes"
            worst = max(worst, lost)
            next_seq[i] = len(values)
        srv.stop()
    return worst


def test_crash_loop_always_keeps_every_acknowledged_write(workdir: Path) -> None:
    _crash_loop(workdir, "always", rounds=3, seed=1)
    assert "Truncating the AOF" in (workdir / "server.log").read_text() or True  # torn tails are allowed


def test_crash_loop_everysec_loss_window(workdir: Path) -> None:
    worst = _crash_loop(workdir, "everysec", rounds=3, seed=2)
    # A process crash (not an OS crash) loses nothing: frames are written before replies leave.
    print(f"everysec: largest number of acknowledged writes lost per writer in one kill -9: {worst}")
    assert worst == 0


def _small_aof(workdir: Path) -> tuple[Path, list[list[bytes]]]:
    srv = aof_server(workdir).start()
    c = srv.client()
    c.set("a", "1")
    c.rpush("l", "x", "y")
    c.hset("h", mapping={"f": "v"})
    c.incr("a")
    srv.stop()
    incr = workdir / "appendonlydir" / "appendonly.aof.1.incr.aof"
    return incr, [[b"SET", b"a", b"1"]]


def test_a_transaction_is_wrapped_in_multi_exec_in_the_file(workdir: Path) -> None:
    srv = aof_server(workdir).start()
    c = srv.client()
    pipe = c.pipeline(transaction=True)
    pipe.set("a", "1").rpush("l", "x").get("a")
    pipe.execute()
    c.set("b", "2")
    srv.stop()
    data = (workdir / "appendonlydir" / "appendonly.aof.1.incr.aof").read_bytes()
    entries, pos = [], 0
    while pos < len(data):
        argv, pos = frames.decode_frame(data, pos)
        entries.append(argv)
    assert entries == [
        [b"SELECT", b"0"],
        [b"MULTI"],
        [b"SET", b"a", b"1"],
        [b"RPUSH", b"l", b"x"],
        [b"EXEC"],
        [b"SET", b"b", b"2"],
    ]


def _entries(data: bytes) -> list[list[bytes]]:
    entries, pos = [], 0
    while pos < len(data):
        argv, pos = frames.decode_frame(data, pos)
        entries.append(argv)
    return entries


def test_a_transaction_over_two_databases_is_one_unit_that_loads_all_or_nothing(workdir: Path) -> None:
    srv = aof_server(workdir).start()
    c = srv.client(single_connection_client=True)
    c.set("before", "1")
    for argv in (("MULTI",), ("SET", "a", "1"), ("SELECT", "1"), ("SET", "b", "2"), ("SELECT", "0")):
        c.execute_command(*argv)
    assert c.execute_command("EXEC") == [b"OK", b"OK", b"OK", b"OK"]
    srv.stop()
    incr = workdir / "appendonlydir" / "appendonly.aof.1.incr.aof"
    data = incr.read_bytes()
    # As redis-server 7 writes such a transaction: one MULTI/EXEC, the SELECT inside it.
    assert _entries(data) == [
        [b"SELECT", b"0"],
        [b"SET", b"before", b"1"],
        [b"MULTI"],
        [b"SET", b"a", b"1"],
        [b"SELECT", b"1"],
        [b"SET", b"b", b"2"],
        [b"EXEC"],
    ]
    srv = aof_server(workdir).start()
    wait_loaded(srv.client())
    assert srv.client().get("a") == b"1" and srv.client(db=1).get("b") == b"2"
    srv.stop()
    # A crash that tore the file inside the transaction, after database 1's write: neither database
    # keeps any of it.
    cut = data.rfind(frames.encode_frame([b"EXEC"])) + 3
    incr.write_bytes(data[:cut])
    srv = aof_server(workdir).start()
    c = srv.client()
    wait_loaded(c)
    assert c.get("before") == b"1"
    assert c.get("a") is None
    assert srv.client(db=1).get("b") is None
    assert "Truncating the AOF appendonly.aof.1.incr.aof" in srv.log()
    srv.stop()


def test_torn_tail_loads_prefix_with_warning(workdir: Path) -> None:
    incr, _ = _small_aof(workdir)
    data = incr.read_bytes()
    cut = len(data) - 7
    incr.write_bytes(data[:cut])
    srv = aof_server(workdir).start()
    c = srv.client()
    wait_loaded(c)
    assert c.get("a") == b"1" and c.lrange("l", 0, -1) == [b"x", b"y"]
    log = srv.log()
    last = data.rfind(frames.START)
    assert f"Truncating the AOF appendonly.aof.1.incr.aof at offset {last}" in log
    assert incr.stat().st_size == last
    c.set("after", "1")
    srv.stop()
    srv = aof_server(workdir).start()
    assert srv.client().get("after") == b"1"
    srv.stop()


def test_corruption_refuses_to_start_naming_file_and_offset(workdir: Path) -> None:
    incr, _ = _small_aof(workdir)
    data = bytearray(incr.read_bytes())
    second = data.find(frames.START, 1)
    third = data.find(frames.START, second + 1)
    data[second + 20] ^= 0x01  # a payload byte of the second frame: its checksum no longer matches
    incr.write_bytes(bytes(data))
    srv = aof_server(workdir)
    with open(srv.log_path, "ab") as log:
        proc = subprocess.run(srv.argv, cwd=srv.workdir, stdout=log, stderr=subprocess.STDOUT, timeout=30)
    assert proc.returncode == 1
    text = srv.log()
    assert f"bad checksum at offset {second}" in text and "appendonly.aof.1.incr.aof" in text
    assert incr.read_bytes() == bytes(data)  # nothing was cut
    assert third > second
    out = subprocess.run(
        [
            str(ROOT / ".venv/bin/cacheflow-check-aof"),
            "--fix",
            str(workdir / "appendonlydir" / "appendonly.aof.manifest"),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and f"byte offset {second}" in out.stdout and "dropping" in out.stdout
    assert incr.stat().st_size == second


def test_truncated_refused_when_aof_load_truncated_no(workdir: Path) -> None:
    incr, _ = _small_aof(workdir)
    data = incr.read_bytes()
    incr.write_bytes(data[:-3])
    srv = aof_server(workdir, "--aof-load-truncated", "no")
    with open(srv.log_path, "ab") as log:
        proc = subprocess.run(srv.argv, cwd=srv.workdir, stdout=log, stderr=subprocess.STDOUT, timeout=30)
    assert proc.returncode == 1
    assert f"offset {data.rfind(frames.START)}" in srv.log()


def _dump(c: redis.Redis) -> dict[tuple[int, bytes], object]:
    """Every key of databases 0-2: type, value, TTL, hash field TTLs and DEBUG DIGEST-VALUE, plus DEBUG DIGEST."""
    out: dict[tuple[int, bytes], object] = {}
    for db in range(3):
        c.execute_command("SELECT", db)
        for key in c.keys("*"):
            kind = c.type(key)
            ttls: object = None
            if kind == b"string":
                v: object = c.get(key)
            elif kind == b"list":
                v = c.lrange(key, 0, -1)
            elif kind == b"set":
                v = sorted(c.smembers(key))
            elif kind == b"zset":
                v = c.zrange(key, 0, -1, withscores=True)
            else:
                v = sorted(c.hgetall(key).items())
                fields = [f for f, _ in v]  # type: ignore[attr-defined]
                ttls = c.execute_command("HPEXPIRETIME", key, "FIELDS", len(fields), *fields)
            digest = c.execute_command("DEBUG", "DIGEST-VALUE", key)
            # Not OBJECT ENCODING: as in Redis, a reload may pick a more compact encoding than the
            # history of writes left (a hash whose field TTLs are all gone comes back as listpack).
            out[(db, key)] = (kind, v, c.pexpiretime(key), ttls, digest)
    c.execute_command("SELECT", 0)
    out[(-1, b"DEBUG DIGEST")] = c.execute_command("DEBUG", "DIGEST")
    return out


def _workload(c: redis.Redis, rng: random.Random, n: int) -> None:
    p = c.pipeline(transaction=False)
    for _ in range(n):
        p.execute_command("SELECT", rng.randrange(3))
        k = f"k{rng.randrange(80)}"
        op = rng.randrange(9)
        if op == 0:
            p.set(k, rng.randbytes(rng.randrange(12)))
        elif op == 1:
            p.rpush(k, *[rng.randrange(100) for _ in range(rng.randrange(1, 20))])
        elif op == 2:
            p.sadd(k, *[rng.randrange(600) for _ in range(rng.randrange(1, 40))])
        elif op == 3:
            p.zadd(k, {f"m{rng.randrange(200)}": rng.random() for _ in range(rng.randrange(1, 20))})
        elif op == 4:
            p.hset(k, mapping={f"f{rng.randrange(200)}": "v" * rng.randrange(70) for _ in range(rng.randrange(1, 10))})
        elif op == 5:
            p.pexpire(k, rng.randrange(100_000, 1_000_000))
            p.execute_command("HPEXPIRE", k, rng.randrange(100_000, 1_000_000), "FIELDS", 1, f"f{rng.randrange(200)}")
        elif op == 6:
            p.incrbyfloat(f"n{rng.randrange(5)}", rng.random())
        elif op == 7:
            p.spop(k)
        else:
            p.delete(k)
    p.execute(raise_on_error=False)


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_restart_equivalence_with_rewrites(workdir: Path, preamble: str) -> None:
    """Every type with key and field TTLs -> BGREWRITEAOF (RDB or AOF base) -> more writes -> kill -9 -> same keyspace."""
    rng = random.Random(11)
    opts = ("--aof-use-rdb-preamble", preamble, "--enable-debug-command", "yes")
    srv = aof_server(workdir, "--appendfsync", "no", *opts).start()
    c = srv.client()
    _workload(c, rng, 1500)
    assert c.bgrewriteaof() is True
    _workload(c, rng, 1500)  # served while the child writes the base
    wait_until(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0, 30, message="rewrite")
    assert c.info("persistence")["aof_rewrites"] == 1
    _workload(c, rng, 500)
    before = _dump(c)
    assert srv.proc is not None
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(10)
    names = sorted(os.listdir(workdir / "appendonlydir"))
    base = "appendonly.aof.2.base." + ("rdb" if preamble == "yes" else "aof")
    assert names == [base, "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"]
    head = (workdir / "appendonlydir" / base).read_bytes()[:5]
    assert head == (b"REDIS" if preamble == "yes" else frames.START + b"2")  # "@CF 23": the SELECT frame
    srv = aof_server(workdir, *opts).start()
    c = srv.client()
    wait_loaded(c)
    assert _dump(c) == before
    srv.stop()


def test_config_set_appendonly_starts_with_a_rewrite(workdir: Path) -> None:
    port = free_port()
    srv = ServerProcess(cacheflow_argv(port, "--dir", str(workdir)), port, str(workdir), str(workdir / "server.log"))
    srv.start()
    c = srv.client()
    c.set("before", "1")
    assert c.info("persistence")["aof_enabled"] == 0
    assert c.config_set("appendonly", "yes")
    c.set("during", "2")
    wait_until(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0, 30, message="first rewrite")
    info = c.info("persistence")
    assert info["aof_enabled"] == 1 and info["aof_last_bgrewrite_status"] == "ok"
    c.set("after", "3")
    manifest = (workdir / "appendonlydir" / "appendonly.aof.manifest").read_text()
    assert manifest == "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    assert srv.proc is not None
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(10)
    srv = aof_server(workdir, port=port).start()
    c = srv.client()
    wait_loaded(c)
    assert c.mget("before", "during", "after") == [b"1", b"2", b"3"]
    assert c.config_set("appendonly", "no")
    assert c.info("persistence")["aof_enabled"] == 0
    srv.stop()


def test_info_persistence_fields_match_redis(workdir: Path) -> None:
    srv = aof_server(workdir).start()
    try:
        with real_redis_server("--appendonly", "yes") as real:
            ours = list(srv.client().info("persistence"))
            theirs = list(real.client().info("persistence"))
            assert ours == theirs
            srv.client().config_set("appendonly", "no")
            real.client().config_set("appendonly", "no")
            assert list(srv.client().info("persistence")) == list(real.client().info("persistence"))
            assert srv.client().info("persistence")["aof_enabled"] == 0
    finally:
        srv.stop()


def test_clients_get_loading_while_the_aof_loads(workdir: Path) -> None:
    aof = workdir / "appendonlydir"
    aof.mkdir()
    (aof / "appendonly.aof.1.base.aof").write_bytes(b"")
    with open(aof / "appendonly.aof.1.incr.aof", "wb") as f:
        f.write(frames.encode_frame([b"SELECT", b"0"]))
        for i in range(0, 150_000, 100):
            f.write(b"".join(frames.encode_frame([b"SET", b"k%d" % j, b"v"]) for j in range(i, i + 100)))
    (aof / "appendonly.aof.manifest").write_text(
        "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    )
    port = free_port()
    srv = aof_server(workdir, port=port)
    log = open(srv.log_path, "ab")
    srv.proc = subprocess.Popen(srv.argv, cwd=srv.workdir, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    try:

        def first_reply() -> bytes | None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                    s.sendall(b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nINFO\r\n$11\r\npersistence\r\n")
                    got = b""
                    while b"loading_eta" not in got and b"aof_enabled" not in got:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        got += chunk
                    return got
            except OSError:
                return None

        reply = wait_until(first_reply, 30, message="a reply")
        assert reply.startswith(b"-LOADING Redis is loading the dataset in memory\r\n")
        assert b"loading:1" in reply and re.search(rb"loading_loaded_perc:", reply)
        c = srv.client()
        wait_loaded(c)
        assert c.dbsize() == 150_000
    finally:
        srv.stop()


def test_switching_appendfsync_at_run_time_keeps_every_write(workdir: Path) -> None:
    """CONFIG SET appendfsync through every policy and back, writes and a rewrite in between, then kill -9."""
    srv = aof_server(workdir, "--appendfsync", "everysec").start()
    c = srv.client()
    written = 0
    for policy in ("always", "no", "everysec", "always", "no", "always"):
        assert c.config_set("appendfsync", policy)
        assert c.config_get("appendfsync") == {"appendfsync": policy}
        p = c.pipeline(transaction=False)
        for _ in range(200):
            p.rpush("log", written)
            written += 1
        p.execute()
        if policy == "no":
            assert c.bgrewriteaof() is True
            wait_until(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0, 30, message="rewrite")
    assert c.info("persistence")["aof_last_write_status"] == "ok"
    assert srv.proc is not None
    srv.proc.send_signal(signal.SIGKILL)  # under always: every acknowledged write is in the file
    srv.proc.wait(10)
    srv = aof_server(workdir).start()
    c = srv.client()
    wait_loaded(c)
    assert c.lrange("log", 0, -1) == [b"%d" % i for i in range(written)]
    srv.stop()
