"""The AOF's RDB base (``aof-use-rdb-preamble``) and the automatic rewrite, with real files and processes.

- A corrupt RDB base refuses start-up, naming the file and the byte offset
  the RDB decoder stopped at; ``cacheflow-check-aof`` says the same and
  ``--fix`` leaves the base alone.
- ``CONFIG SET aof-use-rdb-preamble`` takes effect at the next rewrite, and
  each kind of base loads after a kill -9.
- ``auto-aof-rewrite-percentage`` / ``auto-aof-rewrite-min-size`` start a
  rewrite by themselves: the manifest moves to a new base, and the data
  survives a kill -9.

Restart equivalence for both kinds of base is in test_aof_durability.py.
"""

import os
import signal
import subprocess
from pathlib import Path

import pytest
import redis
from aof_servers import aof_server, wait_loaded
from servers import ROOT, ServerProcess, free_port, wait_until

from cacheflow.config.schema import Config
from cacheflow.persistence import manifest as mf
from cacheflow.rdb.errors import RdbError
from cacheflow.rdb.snapshot import parse_snapshot

CHECK_AOF = str(ROOT / ".venv/bin/cacheflow-check-aof")


def _kill(srv: ServerProcess) -> None:
    assert srv.proc is not None
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(10)


def _manifest(workdir: Path) -> mf.Manifest:
    m = mf.load(str(workdir / "appendonlydir"), "appendonly.aof")
    assert m is not None
    return m


def _rewrite(c: redis.Redis) -> None:
    before = c.info("persistence")["aof_rewrites"]
    assert c.bgrewriteaof() is True
    wait_until(
        lambda: (
            c.info("persistence")["aof_rewrites"] > before and c.info("persistence")["aof_rewrite_in_progress"] == 0
        ),
        30,
        message="the rewrite",
    )


def _fill(c: redis.Redis) -> None:
    p = c.pipeline(transaction=False)
    for i in range(200):
        p.set(f"s{i}", f"value-{i}" * (i % 5 + 1))
        p.rpush(f"l{i % 7}", i)
        p.sadd(f"set{i % 5}", i, f"m{i}")
        p.zadd(f"z{i % 3}", {f"m{i}": i / 7})
        p.hset(f"h{i % 4}", f"f{i}", "x" * (i % 90))
    p.pexpire("s1", 900_000)
    p.execute()


def test_corrupt_rdb_base_refuses_to_start_naming_file_and_offset(workdir: Path) -> None:
    srv = aof_server(workdir).start()
    c = srv.client()
    _fill(c)
    _rewrite(c)
    c.set("after-rewrite", "1")
    srv.stop()
    m = _manifest(workdir)
    assert m.base is not None and m.base.name == "appendonly.aof.2.base.rdb"
    base = workdir / "appendonlydir" / m.base.name
    data = bytearray(base.read_bytes())
    assert data.startswith(b"REDIS")
    data[len(data) // 2] ^= 0x40  # in the middle of the keys
    base.write_bytes(bytes(data))
    with pytest.raises(RdbError) as expected:
        parse_snapshot(bytes(data), Config(), 0, 16, skip_expired=False)
    offset = expected.value.offset

    again = aof_server(workdir)
    with open(again.log_path, "ab") as log:
        proc = subprocess.run(again.argv, cwd=again.workdir, stdout=log, stderr=subprocess.STDOUT, timeout=60)
    assert proc.returncode == 1
    text = again.log()
    assert f"Error reading the RDB base file appendonly.aof.2.base.rdb at offset {offset}" in text
    assert f"(file {base}, offset {offset})" in text
    assert base.read_bytes() == bytes(data)  # nothing was cut or rewritten

    manifest = str(workdir / "appendonlydir" / "appendonly.aof.manifest")
    for args in ([manifest], ["--fix", manifest]):
        out = subprocess.run([CHECK_AOF, *args], capture_output=True, text=True, timeout=60)
        assert out.returncode == 1
        assert "Start to check BASE AOF appendonly.aof.2.base.rdb (RDB format)" in out.stdout
        assert f"First bad entry in appendonly.aof.2.base.rdb: {expected.value.message} (byte offset {offset})" in (
            out.stdout
        )
        assert base.read_bytes() == bytes(data)


def test_check_aof_reads_a_manifest_with_an_rdb_base(workdir: Path) -> None:
    srv = aof_server(workdir).start()
    c = srv.client()
    _fill(c)
    _rewrite(c)
    c.set("after-rewrite", "1")
    srv.stop()
    manifest = str(workdir / "appendonlydir" / "appendonly.aof.manifest")
    out = subprocess.run([CHECK_AOF, manifest], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout
    lines = out.stdout.splitlines()
    assert lines[0] == "Start checking Multi Part AOF (2 files)"
    assert "Start to check BASE AOF appendonly.aof.2.base.rdb (RDB format)" in lines
    assert "RDB preamble is OK, proceeding with AOF tail..." in lines
    assert "AOF appendonly.aof.2.incr.aof is valid" in lines
    assert lines[-1] == "All AOF files and manifest are valid"
    # The real redis-check-aof reads our RDB base too (our incremental frames are not its format).
    base = str(workdir / "appendonlydir" / "appendonly.aof.2.base.rdb")
    real = subprocess.run(["redis-check-rdb", base], capture_output=True, text=True, timeout=60)
    assert real.returncode == 0 and "RDB looks OK" in real.stdout and "aof-base = '1'" in real.stdout


def test_config_set_preamble_applies_at_the_next_rewrite(workdir: Path) -> None:
    port = free_port()
    srv = aof_server(workdir, "--aof-use-rdb-preamble", "no", port=port).start()
    c = srv.client()
    assert _manifest(workdir).base.name == "appendonly.aof.1.base.aof"  # type: ignore[union-attr]
    _fill(c)
    _rewrite(c)
    assert _manifest(workdir).base.name == "appendonly.aof.2.base.aof"  # type: ignore[union-attr]
    assert c.config_set("aof-use-rdb-preamble", "yes")
    assert c.config_get("aof-use-rdb-preamble") == {"aof-use-rdb-preamble": "yes"}
    c.set("k", "v1")
    _rewrite(c)
    assert _manifest(workdir).base.name == "appendonly.aof.3.base.rdb"  # type: ignore[union-attr]
    assert sorted(os.listdir(workdir / "appendonlydir")) == [
        "appendonly.aof.3.base.rdb",
        "appendonly.aof.3.incr.aof",
        "appendonly.aof.manifest",
    ]
    c.append("k", "-more")
    expected = {k: c.dump(k) for k in c.keys("*")}
    _kill(srv)
    # Started without the option (default yes), then with "no": the base's kind comes from its magic, not the setting.
    for preamble in ("yes", "no"):
        srv = aof_server(workdir, "--aof-use-rdb-preamble", preamble, port=port).start()
        c = srv.client()
        wait_loaded(c)
        assert {k: c.dump(k) for k in c.keys("*")} == expected
        assert c.get("k") == b"v1-more"
        _kill(srv)


def test_automatic_rewrite_moves_to_a_new_base_and_data_survives(workdir: Path) -> None:
    port = free_port()
    opts = ("--auto-aof-rewrite-percentage", "100", "--auto-aof-rewrite-min-size", "64kb")
    srv = aof_server(workdir, "--appendfsync", "no", *opts, port=port).start()
    c = srv.client()
    assert c.config_get("auto-aof-rewrite-min-size") == {"auto-aof-rewrite-min-size": "65536"}
    assert _manifest(workdir).base.seq == 1  # type: ignore[union-attr]
    # The same 50 keys overwritten again and again: the AOF grows, the keyspace does not.
    value = "v" * 200
    batch = 0

    def past_threshold() -> bool:
        info = c.info("persistence")
        size, base = info["aof_current_size"], info["aof_base_size"]
        return info["aof_rewrites"] > 0 or (size > 64 * 1024 and size >= 2 * max(base, 1))

    while not past_threshold():
        p = c.pipeline(transaction=False)
        for i in range(50):
            p.set(f"key:{i}", f"{batch}:{value}")
        p.execute()
        batch += 1
    # The server's cron notices the growth by itself.
    wait_until(lambda: c.info("persistence")["aof_rewrites"] >= 1, 30, message="an automatic rewrite")
    wait_until(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0, 30, message="the rewrite to finish")
    info = c.info("persistence")
    assert info["aof_rewrites"] >= 1 and info["aof_last_bgrewrite_status"] == "ok"
    assert "Starting automatic rewriting of AOF on" in srv.log()
    m = _manifest(workdir)
    assert m.base is not None and m.base.seq >= 2 and m.base.name.endswith(".base.rdb")
    assert not m.history
    names = set(os.listdir(workdir / "appendonlydir"))
    assert names == {m.base.name, *(f.name for f in m.incrs), "appendonly.aof.manifest"}
    # The base is the keyspace (50 keys), far smaller than the history it replaced.
    assert (workdir / "appendonlydir" / m.base.name).stat().st_size < 64 * 1024
    c.set("after", "1")
    expected = {k: c.get(k) for k in c.keys("*")}
    assert len(expected) == 51
    _kill(srv)
    srv = aof_server(workdir, *opts, port=port).start()
    c = srv.client()
    wait_loaded(c)
    assert {k: c.get(k) for k in c.keys("*")} == expected
    srv.stop()


def test_rewrite_reports_its_childs_copy_on_write_in_info(workdir: Path) -> None:
    srv = aof_server(workdir).start()
    try:
        c = srv.client()
        _fill(c)
        assert c.info("persistence")["aof_last_cow_size"] == 0  # no rewrite yet
        keys = c.dbsize()
        c.config_set("rdb-key-save-delay", 1_500_000 // keys)  # the child waits ~1.5 s before writing
        assert c.bgrewriteaof() is True
        # While it runs, the parent changes pages the child still shares: they are copied.
        for i in range(20):
            c.set(f"s{i}", "changed" * 200)
        wait_until(lambda: c.info("persistence")["current_cow_size"] > 0, 10, message="a CoW sample of the child")
        info = c.info("persistence")
        assert info["aof_rewrite_in_progress"] == 1
        assert info["current_cow_peak"] >= info["current_cow_size"] > 0
        c.config_set("rdb-key-save-delay", 0)
        wait_until(lambda: c.info("persistence")["aof_rewrite_in_progress"] == 0, 30, message="the rewrite")
        info = c.info("persistence")
        assert info["aof_last_bgrewrite_status"] == "ok"
        assert info["aof_last_cow_size"] > 0
        assert info["current_cow_size"] == 0  # no child any more
    finally:
        srv.stop()
