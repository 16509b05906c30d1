"""Whole RDB files: write/load round trips, expiry handling, checksums, corrupt input, the checker."""

import random
import struct
import sys
from pathlib import Path

import pytest
from rdb_craft import rdb_file, record, string

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from engine_harness import NOW, Harness

from cacheflow.commands.debug import dataset_digest
from cacheflow.config.schema import Config
from cacheflow.rdb import check
from cacheflow.rdb.checksum import crc64
from cacheflow.rdb.errors import RdbError
from cacheflow.rdb.snapshot import load_snapshot, write_snapshot
from cacheflow.store.clock import ManualClock
from cacheflow.store.keyspace import Keyspace


def filled() -> Harness:
    h = Harness()
    h("SET", "s", "hello")
    h("SET", "n", "-42")
    h("SET", "big", "z" * 5000)
    h("SET", "ttl", "v", "PX", "100000")
    h("RPUSH", "l", "a", "b", "12")
    h("SADD", "si", "1", "2")
    h("SADD", "ss", "a", "b")
    h("ZADD", "z", "1", "a", "2.5", "b")
    h("ZADD", "zb", *[x for i in range(200) for x in (str(i), f"m{i}")])
    h("HSET", "h", "f", "v")
    h("HSET", "hb", "f", "v" * 100)
    h("EXPIRE", "h", "1000")
    h("SELECT", "3")
    h("SET", "in3", "x")
    h("SELECT", "15")
    h("LPUSH", "in15", "x")
    h("SELECT", "0")
    return h


def write(ks: Keyspace, config: Config | None = None, **kwargs: object) -> bytes:
    out: list[bytes] = []
    write_snapshot(ks, out.append, config or Config(), NOW, **kwargs)  # type: ignore[arg-type]
    return b"".join(out)


def fresh() -> Keyspace:
    return Keyspace(16, ManualClock(NOW))


def test_round_trip_of_a_keyspace() -> None:
    h = filled()
    data = write(h.keyspace)
    assert data.startswith(b"REDIS0010\xfa\x09redis-ver\x067.0.15")
    assert crc64(data[:-8]).to_bytes(8, "little") == data[-8:]
    ks = fresh()
    report = load_snapshot(data, ks, Config(), NOW)
    assert report.keys_loaded == 13
    assert report.keys_per_db == {0: 11, 3: 1, 15: 1}
    assert report.keys_with_ttl == 2
    assert report.aux[b"redis-bits"] == b"64"
    assert dataset_digest(ks.dbs) == dataset_digest(h.keyspace.dbs)
    assert ks.dbs[0].expires == h.keyspace.dbs[0].expires
    # A memoryview loads the same.
    ks2 = fresh()
    load_snapshot(memoryview(data), ks2, Config(), NOW)
    assert dataset_digest(ks2.dbs) == dataset_digest(h.keyspace.dbs)


def test_streams_in_chunks() -> None:
    h = Harness()
    for i in range(20000):
        h.db.data[b"key:%d" % i] = b"value:%d" % i
    chunks: list[bytes] = []
    assert write_snapshot(h.keyspace, chunks.append, Config(), NOW) == 20000
    assert len(chunks) > 3
    assert max(map(len, chunks)) < 80_000
    ks = fresh()
    assert load_snapshot(b"".join(chunks), ks, Config(), NOW).keys_loaded == 20000


def test_expired_keys_skipped_like_a_master() -> None:
    h = filled()
    data = write(h.keyspace)
    later = NOW + 200_000  # "ttl" (100 s) has passed, "h" (1000 s) has not
    ks = fresh()
    report = load_snapshot(data, ks, Config(), later)
    assert report.expired_skipped == 1
    assert b"ttl" not in ks.dbs[0].data and b"h" in ks.dbs[0].data
    ks = fresh()
    assert load_snapshot(data, ks, Config(), later, skip_expired=False).expired_skipped == 0
    assert b"ttl" in ks.dbs[0].data


def test_no_checksum_and_no_compression() -> None:
    h = filled()
    config = Config()
    config.rdbchecksum = False
    config.rdbcompression = False
    data = write(h.keyspace, config)
    assert data.endswith(bytes(8))
    assert b"z" * 5000 in data
    ks = fresh()
    assert load_snapshot(data, ks, Config(), NOW).checksum == 0
    assert dataset_digest(ks.dbs) == dataset_digest(h.keyspace.dbs)


def test_aux_fields_from_the_caller() -> None:
    data = write(fresh(), aux={b"aof-base": b"1", b"repl-id": b"abc"})
    report = load_snapshot(data, fresh(), Config(), NOW)
    assert report.aux[b"aof-base"] == b"1" and report.aux[b"repl-id"] == b"abc"
    assert report.keys_loaded == 0


def test_records_redis_writes_or_old_versions_write() -> None:
    records = [
        b"\xfb\x02\x01",  # RESIZEDB
        b"\xf8\x05" + record(0, b"idle", string(b"v")),  # IDLE
        b"\xf9\x07" + record(0, b"freq", string(b"v")),  # FREQ
        b"\xfd" + struct.pack("<i", NOW // 1000 + 100) + record(0, b"sec", string(b"v")),  # EXPIRETIME (s)
        record(0, b"ms", string(b"v"), expire_ms=NOW + 5),
        b"\xf5" + string(b"#!lua name=mylib\nredis.register_function('f', function() return 1 end)"),
        record(1, b"empty", b"\x00"),  # an empty list: skipped, as Redis does
    ]
    ks = fresh()
    report = load_snapshot(rdb_file(records), ks, Config(), NOW)
    assert sorted(ks.dbs[0].data) == [b"freq", b"idle", b"ms", b"sec"]
    assert ks.dbs[0].expires == {b"sec": (NOW // 1000 + 100) * 1000, b"ms": NOW + 5}
    assert report.empty_skipped == 1
    assert len(report.functions) == 1
    # An old version without a checksum ends at EOF.
    old = b"REDIS0004\xfe\x00" + record(0, b"k", string(b"v")) + b"\xff"
    ks = fresh()
    load_snapshot(old, ks, Config(), NOW)
    assert ks.dbs[0].data == {b"k": b"v"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"RDIS0010", "signature"),
        (b"REDIS0013\xff" + bytes(8), "version 13"),
        (b"REDISabcd", "bad RDB version"),
        (rdb_file([record(0, b"k", string(b"v")), record(0, b"k", string(b"w"))]), "duplicated key"),
        (rdb_file([], db=16), "16 databases"),
        (rdb_file([b"\xf7\x01"]), "module auxiliary"),
        (rdb_file([b"\xf6\x00"]), "pre-release function"),
        (rdb_file([b"\x08"]), "unknown"),
        (rdb_file([record(7, b"m", b"")]), "module values"),
        (rdb_file([record(0, b"k", string(b"v"))])[:-1] + b"\x00", "checksum"),
    ],
)
def test_refused_files(data: bytes, message: str) -> None:
    ks = fresh()
    with pytest.raises(RdbError, match=message):
        load_snapshot(data, ks, Config(), NOW)
    assert not any(db.data for db in ks.dbs)


def test_truncation_at_every_offset_is_an_rdb_error() -> None:
    h = filled()
    h("SET", "big", "q" * 300)  # keep the file small
    data = write(h.keyspace)
    assert len(data) < 4000
    for cut in range(len(data)):
        ks = fresh()
        with pytest.raises(RdbError):
            load_snapshot(data[:cut], ks, Config(), NOW)
        assert not any(db.data for db in ks.dbs)


def test_random_corruption_is_detected() -> None:
    h = filled()
    h("SET", "big", "q" * 300)
    data = write(h.keyspace)
    no_crc = Config()
    no_crc.rdbchecksum = False
    unchecked = write(h.keyspace, no_crc)
    rng = random.Random(7)
    for sample in (data, unchecked):
        for _ in range(1500):
            corrupt = bytearray(sample)
            for _ in range(rng.randint(1, 3)):
                corrupt[rng.randrange(len(corrupt))] ^= 1 << rng.randrange(8)
            try:
                load_snapshot(bytes(corrupt), fresh(), Config(), NOW)
            except RdbError:
                continue
            # Only a file without a checksum may load, and only if it still parses as a whole.
            assert sample is unchecked


def test_checker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    h = filled()
    good = tmp_path / "good.rdb"
    good.write_bytes(write(h.keyspace))
    assert check.main([str(good)]) == 0
    out = capsys.readouterr().out
    assert "RDB looks OK" in out and "[info] 13 keys read" in out and "[info] 2 expires" in out
    bad = tmp_path / "bad.rdb"
    bad.write_bytes(good.read_bytes()[:200])
    assert check.main([str(bad)]) == 1
    out = capsys.readouterr().out
    assert "RDB ERROR DETECTED" in out and "[offset " in out
    assert check.main([str(tmp_path / "missing.rdb")]) == 1
    assert check.main([]) == 1
