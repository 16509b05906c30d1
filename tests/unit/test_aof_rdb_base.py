"""The AOF's RDB base (``aof-use-rdb-preamble yes``): written by write_base, loaded by recovery, checked by check-aof.

Real files, the real engine and the real RDB codec; no sockets.  The same
keyspace written as an RDB base or as an AOF-format base, followed by the
same incremental file, must load to the same keyspace.
"""

import random
from pathlib import Path

import pytest
from engine_harness import NOW, Harness

from cacheflow.config.schema import Config
from cacheflow.persistence import check, frames
from cacheflow.persistence import manifest as mf
from cacheflow.persistence.recovery import LoadError, LoadState, Replayer, load, rdb_base_loader
from cacheflow.persistence.rewrite import write_base
from cacheflow.rdb.errors import RdbError
from cacheflow.rdb.snapshot import parse_snapshot

PREFIX = "appendonly.aof"


def _populate(h: Harness, rng: random.Random, rounds: int = 400) -> None:
    """Every type, both encodings of each, key TTLs and hash field TTLs, in databases 0-2."""
    for _ in range(rounds):
        h("SELECT", str(rng.randrange(3)))
        k = f"k{rng.randrange(50)}"
        n = rng.randrange(1, 150)
        op = rng.randrange(9)
        if op == 0:
            h("SET", k, rng.choice([rng.randbytes(rng.randrange(20)), str(rng.randrange(-(10**12), 10**12))]))
        elif op == 1:
            h("RPUSH", k, *[rng.choice(["x" * rng.randrange(70), str(rng.randrange(1000))]) for _ in range(n)])
        elif op == 2:
            h("SADD", k, *[str(rng.randrange(1000) if rng.random() < 0.7 else rng.random()) for _ in range(n)])
        elif op == 3:
            args: list[str] = []
            for _ in range(n):
                args += [
                    repr(rng.choice([rng.random() * 1e20, -rng.random(), 3.0, float("-inf")])),
                    f"m{rng.randrange(200)}",
                ]
            h("ZADD", k, *args)
        elif op == 4:
            args = []
            for _ in range(n):
                args += [f"f{rng.randrange(200)}", "v" * rng.randrange(80)]
            h("HSET", k, *args)
        elif op == 5:
            h("PEXPIREAT", k, str(NOW + rng.randrange(1, 10**7)))
        elif op == 6:
            h("HPEXPIREAT", k, str(NOW + rng.randrange(1, 10**7)), "FIELDS", "2", f"f{rng.randrange(200)}", "f1")
        elif op == 7:
            h("SPOP", k)
        else:
            h("DEL", k)


def _state(h: Harness) -> dict[tuple[int, bytes], tuple[object, ...]]:
    """Type, contents, key TTL, field TTLs and DEBUG DIGEST-VALUE of every key, plus DEBUG DIGEST."""
    h.config.enable_debug_command = "yes"
    out: dict[tuple[int, bytes], tuple[object, ...]] = {}
    for db in h.keyspace.dbs:
        h("SELECT", str(db.index))
        for key in db.live_keys():
            kind = h("TYPE", key)
            value: object
            ttls: object = None
            if kind == b"string":
                value = h("GET", key)
            elif kind == b"list":
                value = h("LRANGE", key, "0", "-1")
            elif kind == b"set":
                value = sorted(h("SMEMBERS", key))
            elif kind == b"zset":
                value = h("ZRANGE", key, "0", "-1", "WITHSCORES")
            else:
                assert kind == b"hash", kind
                value = sorted(h("HGETALL", key))
                fields = h("HKEYS", key)
                ttls = sorted(zip(fields, h("HPEXPIRETIME", key, "FIELDS", str(len(fields)), *fields)))
            out[(db.index, key)] = (kind, value, h("PEXPIRETIME", key), ttls, h("DEBUG", "DIGEST-VALUE", key))
    h("SELECT", "0")
    out[(-1, b"")] = (h("DEBUG", "DIGEST"),)
    return out


def _incr_commands(rng: random.Random) -> list[list[bytes]]:
    """What an incremental file written after the rewrite might hold (effects, as the AOF writes them)."""
    out: list[list[bytes]] = []
    for i in range(60):
        out.append([b"SELECT", b"%d" % rng.randrange(3)])
        k = b"k%d" % rng.randrange(50)
        out.append(
            rng.choice(
                [
                    [b"SET", b"new%d" % i, b"v%d" % i],
                    [b"DEL", k],
                    [b"PEXPIREAT", k, b"%d" % (NOW + 5_000_000)],
                    [b"PERSIST", k],
                    [b"SET", k, b"overwritten"],
                ]
            )
        )
    return out


def _write_aof(tmp_path: Path, h: Harness, rdb: bool, incr: list[list[bytes]]) -> mf.Manifest:
    name = mf.base_name(PREFIX, 1, rdb=rdb)
    write_base(h.keyspace, str(tmp_path / name), NOW, h.config, rdb)
    (tmp_path / mf.incr_name(PREFIX, 1)).write_bytes(b"".join(frames.encode_frame(a) for a in incr))
    m = mf.Manifest(mf.AofFile(name, 1, mf.BASE), [mf.AofFile(mf.incr_name(PREFIX, 1), 1, mf.INCR)])
    mf.persist(str(tmp_path), PREFIX, m)
    return m


def _load(tmp_path: Path, m: mf.Manifest, h: Harness) -> None:
    loader = rdb_base_loader(h.keyspace, h.config)
    for _ in load(str(tmp_path), m, Replayer(h.engine, h.client()), True, LoadState(), loader):
        pass


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rdb_and_aof_bases_load_to_the_same_keyspace(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    h = Harness()
    _populate(h, rng)
    incr = _incr_commands(rng)
    loaded = []
    for rdb in (True, False):
        d = tmp_path / ("rdb" if rdb else "aof")
        d.mkdir()
        m = _write_aof(d, h, rdb, incr)
        assert m.base is not None
        head = (d / m.base.name).read_bytes()
        assert head.startswith(b"REDIS") == rdb
        if rdb:
            report, _ = parse_snapshot(head, Config(), NOW, 16)
            assert report.aux[b"aof-base"] == b"1"
        fresh = Harness(clock=h.clock)
        _load(d, m, fresh)
        loaded.append(_state(fresh))
    # The reference: the incremental commands replayed on the original keyspace.
    replay = Replayer(h.engine, h.client())
    for argv in incr:
        replay.apply(argv)
    assert loaded[0] == _state(h)
    assert loaded[1] == loaded[0]


def test_rdb_base_keeps_keys_that_expired_since_it_was_written(tmp_path: Path) -> None:
    """As Redis loads an AOF's RDB preamble: every key as it is, the incrementals rely on it."""
    h = Harness()
    h("SET", "gone", "1", "PXAT", str(NOW + 10))
    h("SET", "kept", "2")
    m = _write_aof(tmp_path, h, True, [[b"SELECT", b"0"], [b"SET", b"after", b"3"]])
    later = Harness()
    later.clock.advance(1_000)
    _load(tmp_path, m, later)
    assert later.keyspace.dbs[0].expires == {b"gone": NOW + 10}
    assert b"gone" in later.keyspace.dbs[0].data
    assert later("GET", "gone") is None  # and then it expires as usual, on access
    assert later("MGET", "kept", "after") == [b"2", b"3"]


def _rdb_aof(tmp_path: Path) -> tuple[mf.Manifest, Path]:
    h = Harness()
    _populate(h, random.Random(9), rounds=200)
    m = _write_aof(tmp_path, h, True, [[b"SELECT", b"0"], [b"SET", b"a", b"1"]])
    assert m.base is not None
    return m, tmp_path / m.base.name


@pytest.mark.parametrize("damage", ["flip", "truncate", "checksum"])
def test_damaged_rdb_base_is_a_load_error_with_file_and_offset(tmp_path: Path, damage: str) -> None:
    m, base = _rdb_aof(tmp_path)
    data = bytearray(base.read_bytes())
    if damage == "flip":
        data[len(data) // 3] ^= 0xFF
    elif damage == "truncate":
        del data[len(data) // 2 :]
    else:
        data[-1] ^= 0x01
    base.write_bytes(bytes(data))
    with pytest.raises(RdbError) as expected:
        parse_snapshot(bytes(data), Config(), NOW, 16, skip_expired=False)
    h = Harness()
    with pytest.raises(LoadError) as e:
        _load(tmp_path, m, h)
    assert e.value.path == str(base)
    assert e.value.offset == expected.value.offset
    assert f"RDB base file {base.name} at offset {expected.value.offset}: {expected.value.message}" in str(e.value)
    assert all(not db.data for db in h.keyspace.dbs), "a corrupt base loads nothing"
    assert base.read_bytes() == bytes(data)  # never truncated, even with aof-load-truncated


def test_check_aof_with_an_rdb_base(tmp_path: Path) -> None:
    _, base = _rdb_aof(tmp_path)
    manifest = str(tmp_path / mf.manifest_name(PREFIX))
    code, out = check.run([manifest])
    assert code == 0, out
    assert f"Start to check BASE AOF {base.name} (RDB format)" in out
    assert "RDB preamble is OK, proceeding with AOF tail..." in out
    assert out[-1] == "All AOF files and manifest are valid"
    # The base alone, given as a file.
    code, out = check.run([str(base)])
    assert code == 0 and out[-1] == f"AOF {base.name} is valid"

    data = bytearray(base.read_bytes())
    data[len(data) // 2] ^= 0xFF
    base.write_bytes(bytes(data))
    with pytest.raises(RdbError) as expected:
        parse_snapshot(bytes(data), Config(), NOW, 16, skip_expired=False)
    for argv in ([manifest], ["--fix", manifest], ["--fix", str(base)]):
        code, out = check.run(argv)
        assert code == 1
        assert f"First bad entry in {base.name}: {expected.value.message} (byte offset {expected.value.offset})" in out
        assert out[-1] == f"RDB preamble of AOF file {base.name} is not sane, aborting."
        assert base.read_bytes() == bytes(data)  # --fix never cuts an RDB
