"""RDB interop with the real redis-server 7.0, both ways.

(a) A real server is filled with every type in every encoding (small and
big, LZF-compressed nodes, TTLs, several databases), SAVEs, and its
dump.rdb is loaded with load_snapshot: contents, encodings and TTLs must be
what the server reports.  (b) A keyspace built through our engine is
written with write_snapshot; redis-check-rdb must call it OK, and a real
redis-server started on it must report the same contents, encodings, TTLs
and DEBUG DIGEST.  Files with legacy encodings (ziplist, zipmap, old
quicklist, text scores) built by tests/unit/rdb_craft.py are loaded by both
and compared the same way.
"""

import math
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from servers import ServerProcess, real_redis_server, wait_until

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from engine_harness import Harness
from rdb_craft import build_ziplist, build_zipmap, rdb_file, record, string

from cacheflow.commands.debug import dataset_digest
from cacheflow.commands.keys import object_encoding
from cacheflow.config.schema import Config
from cacheflow.rdb import intset, listpack
from cacheflow.rdb.format import encode_binary_double, encode_length
from cacheflow.rdb.snapshot import load_snapshot, write_snapshot
from cacheflow.store.clock import ManualClock
from cacheflow.store.keyspace import Keyspace, value_type

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")

FAR = int(time.time() * 1000) + 10 * 365 * 86400 * 1000


def _score(x: float) -> tuple[float, float]:
    return (x, math.copysign(1.0, x))


def ours(ks: Keyspace) -> dict[tuple[int, bytes], Any]:
    out = {}
    for db in ks.dbs:
        for key, v in db.data.items():
            kind = value_type(v)
            c: Any
            if kind == b"string":
                c = bytes(v)  # type: ignore[call-overload]
            elif kind == b"list":
                c = list(v.values())  # type: ignore[attr-defined]
            elif kind == b"set":
                c = sorted(v.members())  # type: ignore[attr-defined]
            elif kind == b"hash":
                c = sorted(v.items())  # type: ignore[attr-defined]
            else:
                c = [(m, _score(s)) for s, m in v.pairs()]  # type: ignore[attr-defined]
            out[(db.index, key)] = (kind, object_encoding(v), c, db.expires.get(key))
    return out


def theirs(r: redis.Redis) -> dict[tuple[int, bytes], Any]:
    out = {}
    for i in range(16):
        r.execute_command("SELECT", i)
        for key in r.keys("*"):
            kind = r.type(key)
            c: Any
            if kind == b"string":
                c = r.get(key)
            elif kind == b"list":
                c = r.lrange(key, 0, -1)
            elif kind == b"set":
                c = sorted(r.smembers(key))
            elif kind == b"hash":
                c = sorted(r.hgetall(key).items())
            else:
                c = [(m, _score(s)) for m, s in r.zrange(key, 0, -1, withscores=True)]
            at = r.execute_command("PEXPIRETIME", key)
            out[(i, key)] = (kind, r.object("encoding", key), c, None if at < 0 else at)
    r.execute_command("SELECT", 0)
    return out


def assert_same(mine: dict[tuple[int, bytes], Any], real: dict[tuple[int, bytes], Any]) -> None:
    assert sorted(mine) == sorted(real)
    for key in real:
        assert mine[key] == real[key], key


FILL = [
    ["SET", "int", "12345"],
    ["SET", "bigint", "-9223372036854775808"],
    ["SET", "embstr", "hello"],
    ["SET", "raw", "x" * 100],
    ["SET", "compressible", "abc" * 1000],
    ["SET", "binary", b"\x00\xff\r\n" * 10],
    ["SET", "hll_like", "HYLL" + "\x00" * 30],
    ["SET", "ttl", "v", "PXAT", str(FAR)],
    ["RPUSH", "list_small", "a", "1", "-5", "300", "70000", "x" * 70],
    ["RPUSH", "list_big", *[f"element-{i}" for i in range(3000)]],
    ["RPUSH", "list_huge_elements", "y" * 10000, "z" * 20000, "a"],
    ["SADD", "intset", "1", "-7", "70000", "9223372036854775807"],
    ["SADD", "set_strings", "a", "b", "1"],
    ["SADD", "set_many_ints", *[str(i) for i in range(600)]],
    ["ZADD", "zset_small", "1", "a", "2.5", "b", "-0", "c", "inf", "d", "-1e300", "e", "0.1", "f"],
    ["ZADD", "zset_long_member", "2", "m" * 65, "-0", "z"],
    ["ZADD", "zset_big", *[x for i in range(200) for x in (str(i / 3), f"m{i}")]],
    ["HSET", "hash_small", "f", "v", "n", "12", "e", "", "neg", "-4097"],
    ["HSET", "hash_long_value", "f", "v" * 65],
    ["HSET", "hash_big", *[x for i in range(600) for x in (f"f{i}", f"v{i}")]],
    ["PEXPIREAT", "hash_small", str(FAR)],
    ["PEXPIREAT", "zset_big", str(FAR + 1)],
    ["SELECT", "5"],
    ["SET", "in5", "five"],
    ["SADD", "in5set", "x"],
    ["SELECT", "15"],
    ["LPUSH", "in15", "x"],
    ["SET", "in15ttl", "y", "PXAT", str(FAR)],
    ["SELECT", "0"],
]


def test_redis_dump_loads_into_cacheflow(rr: redis.Redis, real_redis: ServerProcess) -> None:
    old_depth = rr.config_get("list-compress-depth")["list-compress-depth"]
    rr.config_set("list-compress-depth", 1)  # interior quicklist nodes are saved LZF-compressed
    try:
        for cmd in FILL:
            rr.execute_command(*cmd)
        rr.execute_command("RPUSH", "list_compressed", *[f"e{i}" * 20 for i in range(2000)])
        rr.save()
        data = (Path(real_redis.workdir) / "dump.rdb").read_bytes()
        now = int(time.time() * 1000)
        ks = Keyspace(16, ManualClock(now))
        report = load_snapshot(data, ks, Config(), now)
        assert report.aux[b"redis-ver"] == b"7.0.15"
        assert_same(ours(ks), theirs(rr))
        assert report.keys_with_ttl == 4
    finally:
        rr.config_set("list-compress-depth", old_depth)
        rr.flushall()


def _start_on(path: Path) -> Any:
    return real_redis_server("--dir", str(path.parent), "--dbfilename", path.name, "--enable-debug-command", "yes")


def test_cacheflow_snapshot_loads_into_redis(tmp_path: Path) -> None:
    h = Harness()
    for cmd in FILL:
        h(*cmd)
    path = tmp_path / "ours.rdb"
    with open(path, "wb") as f:
        assert write_snapshot(h.keyspace, f.write, h.config, h.clock.now_ms()) == len(ours(h.keyspace))
    check = subprocess.run(["redis-check-rdb", str(path)], capture_output=True, text=True)
    assert "RDB looks OK" in check.stdout, check.stdout
    with _start_on(path) as server:
        r = server.client()
        wait_until(lambda: r.ping(), message="redis ready")
        assert_same(ours(h.keyspace), theirs(r))
        assert r.execute_command("DEBUG", "DIGEST") == dataset_digest(h.keyspace.dbs).hex().encode()
        r.close()


def test_uncompressed_unchecksummed_snapshot_loads_into_redis(tmp_path: Path) -> None:
    h = Harness()
    h.config.rdbcompression = False
    h.config.rdbchecksum = False
    for cmd in FILL:
        h(*cmd)
    path = tmp_path / "plain.rdb"
    with open(path, "wb") as f:
        write_snapshot(h.keyspace, f.write, h.config, h.clock.now_ms())
    with _start_on(path) as server:
        r = server.client()
        assert_same(ours(h.keyspace), theirs(r))
        r.close()


def test_legacy_encodings_load_alike(tmp_path: Path) -> None:
    long = b"x" * 100
    lp = listpack.build
    records = [
        record(16, b"h_lp_longval", string(lp([b"f", long, b"g", b"1"]))),
        record(16, b"h_lp_600", string(lp([x for i in range(600) for x in (b"f%d" % i, b"v")]))),
        record(13, b"h_zl_longval", string(build_ziplist([b"f", long, b"g", b"1"]))),
        record(13, b"h_zl_600", string(build_ziplist([x for i in range(600) for x in (b"f%d" % i, b"v")]))),
        record(9, b"h_zm_longval", string(build_zipmap([(b"f", long), (b"g", b"1")], free=2))),
        record(9, b"h_zm_small", string(build_zipmap([(b"f", b"v"), (b"g", b"1")]))),
        record(17, b"z_lp_longmember", string(lp([long, b"1", b"b", b"2.5"]))),
        record(12, b"z_zl_longmember", string(build_ziplist([long, b"1", b"b", b"2.5"]))),
        record(12, b"z_zl_200", string(build_ziplist([x for i in range(200) for x in (b"m%d" % i, b"%d" % i)]))),
        record(11, b"s_is_600", string(intset.build(list(range(600))))),
        record(4, b"h_plain", encode_length(2) + string(b"a") + string(b"1") + string(b"b") + string(b"2")),
        record(
            5,
            b"z2_small",
            encode_length(2) + string(b"a") + encode_binary_double(1.5) + string(b"b") + encode_binary_double(-0.0),
        ),
        record(
            3, b"z_text", encode_length(3) + string(b"a") + b"\x031.5" + string(b"b") + b"\xfe" + string(b"c") + b"\xff"
        ),
        record(2, b"s_plain", encode_length(3) + string(b"3") + string(b"1") + string(b"2")),
        record(1, b"l_plain", encode_length(3) + string(b"a") + string(b"12") + string(long)),
        record(10, b"l_zl", string(build_ziplist([b"a", b"12", b"-70000", long, b"9223372036854775807"]))),
        record(14, b"l_ql", encode_length(2) + string(build_ziplist([b"a", b"b"])) + string(build_ziplist([b"5"]))),
        record(0, b"ttl", string(b"v"), expire_ms=FAR),
    ]
    path = tmp_path / "legacy.rdb"
    data = rdb_file(records)
    path.write_bytes(data)
    now = int(time.time() * 1000)
    ks = Keyspace(16, ManualClock(now))
    load_snapshot(data, ks, Config(), now)
    with _start_on(path) as server:
        r = server.client()
        assert_same(ours(ks), theirs(r))
        r.close()
