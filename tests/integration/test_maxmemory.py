"""maxmemory against a real CacheFlow process: OOM under noeviction, eviction under every policy,
the running used_memory estimate, OBJECT FREQ/IDLETIME, MEMORY STATS/DOCTOR.  Where Redis's
behaviour is exact (error texts, which commands are refused) the same sequence runs on redis-server."""

import random
import socket
import time
from collections.abc import Iterator

import pytest
import redis
from servers import ServerProcess, cacheflow_server, real_redis_server, wait_until

OOM = "command not allowed when used memory > 'maxmemory'."


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with cacheflow_server("--enable-debug-command", "yes") as s:
        yield s


@pytest.fixture
def c(server: ServerProcess) -> Iterator[redis.Redis]:
    client = server.client()
    client.config_set("maxmemory", 0)
    client.config_set("maxmemory-policy", "noeviction")
    client.flushall()
    yield client
    client.config_set("maxmemory", 0)
    client.config_set("maxmemory-policy", "noeviction")
    client.close()


def used(c: redis.Redis) -> int:
    return int(c.info("memory")["used_memory"])


def fill(c: redis.Redis, n: int, prefix: str = "k", size: int = 100, ttl: int | None = None) -> None:
    pipe = c.pipeline(transaction=False)
    for i in range(n):
        pipe.set(f"{prefix}{i}", "x" * size, ex=ttl)
    for reply in pipe.execute(raise_on_error=False):
        if isinstance(reply, Exception):
            raise reply


def test_used_memory_grows_with_data_and_returns_to_baseline_after_flushall(c: redis.Redis) -> None:
    base = used(c)
    fill(c, 2000)
    grown = used(c) - base
    assert 2000 * 100 < grown < 2000 * 400  # 100-byte values plus key and slot overheads
    c.hset("h", mapping={f"f{i}": "v" * 20 for i in range(500)})
    assert used(c) - base > grown + 500 * 20
    c.flushall()
    assert used(c) == base


def test_noeviction_refuses_denyoom_commands_but_serves_reads_and_deletes(c: redis.Redis) -> None:
    fill(c, 1000)
    c.config_set("maxmemory", used(c) // 2)
    with pytest.raises(redis.exceptions.OutOfMemoryError, match="maxmemory"):
        c.set("new", "v")
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        c.lpush("list", "a")
    assert c.get("k1") == b"x" * 100
    assert c.dbsize() == 1000
    assert c.delete("k1", "k2") == 2
    assert c.expire("k3", 100)  # not denyoom
    assert int(c.info("stats")["evicted_keys"]) == 0


def test_oom_inside_multi_aborts_exec(c: redis.Redis) -> None:
    fill(c, 500)
    c.config_set("maxmemory", used(c) // 2)
    pipe = c.pipeline(transaction=True)
    pipe.get("k1")
    pipe.set("new", "v")
    # redis-py reports the queued command's OOM (the EXEC itself answered EXECABORT).
    with pytest.raises((redis.exceptions.ExecAbortError, redis.exceptions.OutOfMemoryError)):
        pipe.execute()
    assert c.get("new") is None


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu", "allkeys-random", "allkeys-tinylfu"])
def test_allkeys_policies_keep_used_memory_under_maxmemory(c: redis.Redis, policy: str) -> None:
    c.config_set("maxmemory-policy", policy)
    fill(c, 500)
    limit = used(c)
    c.config_set("maxmemory", limit)
    rng = random.Random(1)
    for i in range(3000):
        c.set(f"n{i}", "y" * rng.randrange(50, 150))
        if i % 97 == 0:
            assert used(c) <= limit + 1024  # at most one command's allocation over
    assert used(c) <= limit + 1024
    assert int(c.info("stats")["evicted_keys"]) > 2000
    assert c.dbsize() < 3500


def test_volatile_lru_evicts_only_keys_with_a_ttl_then_refuses(c: redis.Redis) -> None:
    c.config_set("maxmemory-policy", "volatile-lru")
    fill(c, 300, prefix="plain")
    fill(c, 300, prefix="vol", ttl=1000)
    c.config_set("maxmemory", used(c))
    fill(c, 200, prefix="more")
    assert c.exists(*[f"plain{i}" for i in range(300)]) == 300
    assert c.exists(*[f"vol{i}" for i in range(300)]) < 300
    for i in range(400):
        try:
            c.set(f"later{i}", "z" * 100)
        except redis.exceptions.OutOfMemoryError:
            break
    else:
        pytest.fail("volatile-lru with no volatile keys left must refuse writes")
    assert c.exists(*[f"plain{i}" for i in range(300)]) == 300


def test_lru_prefers_recently_read_keys(c: redis.Redis) -> None:
    c.config_set("maxmemory-policy", "allkeys-lru")
    c.config_set("maxmemory-samples", 10)
    fill(c, 400, prefix="old")
    # The LRU clock has a one-second resolution, as Redis's, and the server's cron moves it.
    c.execute_command("DEBUG", "SLEEP", "1.1")
    wait_until(lambda: c.object("idletime", "old0") >= 1)
    hot = [f"old{i}" for i in range(0, 400, 4)]
    for key in hot:
        c.get(key)
    c.config_set("maxmemory", used(c))
    fill(c, 200, prefix="new")
    assert c.exists(*hot) >= 90  # the recently read quarter survives
    assert c.exists(*[f"old{i}" for i in range(400) if i % 4]) < 300


def test_evictions_are_del_effects(c: redis.Redis, server: ServerProcess) -> None:
    """An evicted key breaks a WATCH on it, as any write effect does."""
    c.config_set("maxmemory-policy", "allkeys-random")
    fill(c, 50)
    watcher = server.client()
    pipe = watcher.pipeline(transaction=True)
    pipe.watch(*[f"k{i}" for i in range(50)])
    c.config_set("maxmemory", used(c) // 3)
    c.set("trigger", "v")
    pipe.multi()
    pipe.set("k0", "mine")
    with pytest.raises(redis.exceptions.WatchError):
        pipe.execute()
    watcher.close()


def test_object_freq_and_idletime_follow_the_policy(c: redis.Redis) -> None:
    c.set("k", "v")
    with pytest.raises(redis.exceptions.ResponseError, match="An LFU maxmemory policy is not selected"):
        c.object("freq", "k")
    c.config_set("maxmemory-policy", "allkeys-lfu")
    with pytest.raises(redis.exceptions.ResponseError, match="An LFU maxmemory policy is selected"):
        c.object("idletime", "k")
    for _ in range(50):
        c.get("k")
    assert 5 < c.object("freq", "k") < 255
    c.config_set("maxmemory-policy", "allkeys-lru")
    assert c.object("idletime", "k") == 0
    c.execute_command("DEBUG", "SLEEP", "1.1")
    wait_until(lambda: c.object("idletime", "k") >= 1)
    assert c.type("k") == b"string" and c.ttl("k") == -1 and c.exists("k")  # no touch
    assert c.object("idletime", "k") >= 1
    c.get("k")
    assert c.object("idletime", "k") == 0
    assert c.object("freq", "missing") is None


def test_memory_stats_and_doctor(c: redis.Redis) -> None:
    fill(c, 100)
    raw = c.execute_command("MEMORY", "STATS")
    stats = dict(zip(raw[::2], raw[1::2], strict=True)) if isinstance(raw, list) else raw
    assert stats[b"keys.count"] == 100
    assert stats[b"dataset.bytes"] > 100 * 100
    assert b"db.0" in stats
    assert c.execute_command("MEMORY", "DOCTOR").startswith(b"Hi Sam")
    assert c.memory_usage("k1") > 100


def test_maxmemory_config_accepts_units_and_policies_as_redis(c: redis.Redis, real_redis: ServerProcess) -> None:
    rr = real_redis.client()
    try:
        for value in ("100mb", "1gb", "0"):
            c.config_set("maxmemory", value)
            rr.config_set("maxmemory", value)
            assert c.config_get("maxmemory") == rr.config_get("maxmemory")
        for bad in ("allkeys-xyz", ""):
            with pytest.raises(redis.exceptions.ResponseError) as ours:
                c.config_set("maxmemory-policy", bad)
            with pytest.raises(redis.exceptions.ResponseError) as theirs:
                rr.config_set("maxmemory-policy", bad)
            assert str(ours.value).split(" - ")[0] == str(theirs.value).split(" - ")[0]
    finally:
        rr.close()


def test_oom_error_text_matches_redis(c: redis.Redis) -> None:
    with real_redis_server() as real:
        rr = real.client()
        for client in (c, rr):
            client.set("a", "x" * 10000)
            client.config_set("maxmemory", 1)
        replies = []
        for client in (c, rr):
            try:
                client.set("b", "v")
            except redis.exceptions.ResponseError as e:
                replies.append(str(e))
            client.config_set("maxmemory", 0)
        rr.close()
    assert replies[0] == replies[1] == OOM


def test_maxmemory_clients_config_matches_redis(c: redis.Redis, real_redis: ServerProcess) -> None:
    rr = real_redis.client()
    try:
        for value in ("10%", "1mb", "0", "100%", "0%", "5gb", "101%", "-1", "abc", "x%", "-5%"):
            replies = []
            for client in (c, rr):
                try:
                    client.config_set("maxmemory-clients", value)
                    replies.append(("ok", client.config_get("maxmemory-clients")))
                except redis.exceptions.ResponseError as e:
                    replies.append(("error", {"text": str(e)}))
            assert replies[0] == replies[1], value
    finally:
        c.config_set("maxmemory-clients", "0")
        rr.config_set("maxmemory-clients", "0")
        rr.close()


def _flood_without_reading(port: int, no_evict: bool) -> socket.socket:
    """A client that asks for 4 MB of replies and never reads them: its output buffer stays full."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting, or the window is already large
    s.connect(("127.0.0.1", port))
    if no_evict:
        s.sendall(b"CLIENT NO-EVICT on\r\n")
        assert s.recv(100) == b"+OK\r\n"
    s.sendall(b"GET big\r\n" * 8)
    return s


def _closed_by_server(s: socket.socket) -> bool:
    """Drain what the server sent; True once it closed the connection (EOF or reset)."""
    s.setblocking(False)
    try:
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                return True
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def test_maxmemory_clients_evicts_the_biggest_client_but_not_a_no_evict_one(
    server: ServerProcess, c: redis.Redis
) -> None:
    c.set("big", "x" * 512 * 1024)
    evicted_before = int(c.info("stats")["evicted_clients"])
    c.config_set("maxmemory-clients", "1mb")
    opened: list[socket.socket] = []
    try:
        protected = _flood_without_reading(server.port, no_evict=True)
        opened.append(protected)
        time.sleep(0.5)  # five cron periods: the protected client alone is over the limit, and stays
        assert int(c.info("stats")["evicted_clients"]) == evicted_before
        flooder = _flood_without_reading(server.port, no_evict=False)
        opened.append(flooder)
        wait_until(lambda: int(c.info("stats")["evicted_clients"]) == evicted_before + 1, 5, message="an eviction")
        assert wait_until(lambda: _closed_by_server(flooder), 5, message="the flooder closed")
        assert not _closed_by_server(protected)
        assert c.ping()  # a small client (under 32 KB) is never a candidate
        assert "Evicting client: id=" in server.log()
    finally:
        c.config_set("maxmemory-clients", "0")
        for s in opened:
            s.close()
