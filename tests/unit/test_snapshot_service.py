"""persistence/snapshots.py without a server: real keyspace and engine, real files and a real fork.

SAVE's temp-then-rename, the BGSAVE child and its reaping, save points and
their retry delay, BGSAVE's replies when another child runs or inside EXEC,
the -MISCONF condition, SHUTDOWN's save decision, DEBUG RELOAD, and the
FLUSHALL save.
"""

import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from engine_harness import Harness
from servers import wait_until

from cacheflow.commands.debug import dataset_digest
from cacheflow.persistence import snapshots as snap
from cacheflow.persistence.snapshots import ALREADY, ANOTHER_CHILD, SnapshotError, Snapshots
from cacheflow.rdb.snapshot import load_snapshot
from cacheflow.store.keyspace import Keyspace


class Child:
    """Whether "another child" (the AOF rewrite) runs, as the server would answer."""

    def __init__(self) -> None:
        self.active = False

    def __call__(self) -> bool:
        return self.active


def setup(tmp_path: Path) -> tuple[Harness, Snapshots, Child]:
    h = Harness()
    h.config.dir = str(tmp_path)
    other = Child()
    s = Snapshots(h.config, h.keyspace, h.engine, other)
    h("SET", "a", "1")
    h("HSET", "h", "f", "v")
    h("RPUSH", "l", "x", "y")
    h("SELECT", "4")
    h("SADD", "s", "m")
    h("SELECT", "0")
    return h, s, other


def loaded(h: Harness, path: Path) -> Keyspace:
    ks = Keyspace(16, h.clock)
    load_snapshot(path.read_bytes(), ks, h.config, h.clock.now_ms())
    return ks


def reap(s: Snapshots) -> None:
    def done() -> bool:
        s.cron()
        return not s.child_pid

    wait_until(done, 30, message="the snapshot child")


def test_save_writes_the_file_by_rename_and_resets_the_change_count(tmp_path: Path) -> None:
    h, s, _ = setup(tmp_path)
    assert h.engine.effects.dirty == 4
    s.save_command()
    assert sorted(os.listdir(tmp_path)) == ["dump.rdb"]  # no temp-<pid>.rdb left behind
    assert dataset_digest(loaded(h, tmp_path / "dump.rdb").dbs) == dataset_digest(h.keyspace.dbs)
    assert h.engine.effects.dirty == 0 and s.saves == 1
    assert s.last_save >= int(time.time()) - 1


def test_save_failure_keeps_the_old_file_and_reports_err(tmp_path: Path) -> None:
    h, s, _ = setup(tmp_path)
    s.save()
    before = (tmp_path / "dump.rdb").read_bytes()
    h.config.dbfilename = "dump.rdb"
    h.config.dir = str(tmp_path / "missing")
    h("SET", "a", "2")
    with pytest.raises(SnapshotError, match=r"^ERR$"):
        s.save_command()
    assert h.engine.effects.dirty == 1 and s.saves == 1
    assert (tmp_path / "dump.rdb").read_bytes() == before


def test_bgsave_forks_writes_and_is_reaped_by_cron(tmp_path: Path) -> None:
    h, s, _ = setup(tmp_path)
    assert s.bgsave_command(False, False) == "Background saving started"
    assert s.child_pid and s.total_forks == 1
    with pytest.raises(SnapshotError, match=ALREADY):
        s.bgsave_command(True, False)
    with pytest.raises(SnapshotError, match=ALREADY):
        s.save_command()
    h("SET", "later", "x")  # after the fork: not in the file, still counted as unsaved
    reap(s)
    assert s.last_bgsave_ok and s.last_bgsave_secs >= 0 and s.last_cow_size > 0
    assert h.engine.effects.dirty == 1
    ks = loaded(h, tmp_path / "dump.rdb")
    assert ks.dbs[0].data.get(b"later") is None and ks.dbs[4].data.keys() == {b"s"}


def test_bgsave_when_another_child_runs_or_inside_exec_is_scheduled(tmp_path: Path) -> None:
    _, s, other = setup(tmp_path)
    other.active = True
    with pytest.raises(SnapshotError) as e:
        s.bgsave_command(False, False)
    assert str(e.value) == ANOTHER_CHILD
    assert s.bgsave_command(True, False) == "Background saving scheduled"
    s.cron()
    assert not s.child_pid  # still waiting for the other child
    other.active = False
    s.cron()
    assert s.child_pid and not s.scheduled
    reap(s)
    assert s.bgsave_command(False, True) == "Background saving scheduled"  # in EXEC
    assert not s.child_pid and s.scheduled


def test_save_points_fire_on_changes_and_time_and_wait_after_a_failure(tmp_path: Path) -> None:
    h, s, _ = setup(tmp_path)
    h.config.save = [(60, 100), (10, 4)]
    s.last_save = int(time.time()) - 5
    s.cron()
    assert not s.child_pid  # 4 changes but only 5 s
    s.last_save = int(time.time()) - 11
    s.cron()
    assert s.child_pid
    reap(s)
    assert h.engine.effects.dirty == 0
    # A failed BGSAVE is retried by a save point only after 5 seconds.
    h("SET", "x", "1")
    h.config.save = [(0, 1)]
    s.last_save = int(time.time()) - 10
    s.last_bgsave_ok = False
    s.last_bgsave_try = int(time.time())
    s.cron()
    assert not s.child_pid
    s.last_bgsave_try = int(time.time()) - 6
    s.cron()
    assert s.child_pid
    reap(s)
    assert s.last_bgsave_ok


def test_misconf_condition(tmp_path: Path) -> None:
    h, s, _ = setup(tmp_path)
    s.last_bgsave_ok = False
    assert not s.writes_denied()  # no save points
    h.config.save = [(3600, 1)]
    assert s.writes_denied()
    h.config.stop_writes_on_bgsave_error = False
    assert not s.writes_denied()
    h.config.stop_writes_on_bgsave_error = True
    s.save()
    assert not s.writes_denied()


def test_child_killed_is_an_error_unless_stopped_on_purpose(tmp_path: Path) -> None:
    h, s, _ = setup(tmp_path)
    h.config.rdb_key_save_delay = 5_000_000  # the child sleeps before writing
    s.start_bgsave()
    pid = s.child_pid
    wait_until(lambda: (tmp_path / f"temp-{pid}.rdb").exists(), 10, message="the temporary file")
    s.kill_child()  # SHUTDOWN / FLUSHALL: SIGUSR1, temp removed, no error
    assert not s.child_pid and s.last_bgsave_ok
    assert not (tmp_path / f"temp-{pid}.rdb").exists()
    s.start_bgsave()
    pid = s.child_pid
    wait_until(lambda: (tmp_path / f"temp-{pid}.rdb").exists(), 10, message="the temporary file")
    os.kill(pid, 9)
    reap(s)
    assert not s.last_bgsave_ok
    assert not (tmp_path / f"temp-{pid}.rdb").exists()
    assert not (tmp_path / "dump.rdb").exists()


def test_shutdown_decides_whether_to_save(tmp_path: Path) -> None:
    h, s, _ = setup(tmp_path)
    assert s.prepare_shutdown(None, False, False) and not (tmp_path / "dump.rdb").exists()
    assert s.prepare_shutdown(True, False, True) and not (tmp_path / "dump.rdb").exists()  # loading
    h.config.save = [(3600, 1)]
    assert s.prepare_shutdown(None, False, False) and (tmp_path / "dump.rdb").exists()
    os.unlink(tmp_path / "dump.rdb")
    assert s.prepare_shutdown(False, False, False) and not (tmp_path / "dump.rdb").exists()
    h.config.dir = str(tmp_path / "missing")
    assert not s.prepare_shutdown(True, False, False)
    assert s.prepare_shutdown(True, True, False)  # FORCE


def test_debug_reload_round_trips_and_noflush_keeps_extra_keys(tmp_path: Path) -> None:
    h, s, _ = setup(tmp_path)
    digest = dataset_digest(h.keyspace.dbs)
    assert s.reload(True, True) is None
    assert dataset_digest(h.keyspace.dbs) == digest
    assert s.last_load_keys_loaded == 4
    h("SET", "extra", "1")
    assert s.reload(False, False) is None  # NOSAVE NOFLUSH: the file's keys added
    assert h("GET", "extra") == b"1"
    os.unlink(tmp_path / "dump.rdb")
    assert s.reload(False, True) == "ERR Error trying to load the RDB dump, check server logs."
    assert h("GET", "extra") == b"1"  # nothing flushed when the file cannot be read


def test_flushall_with_save_points_saves_at_once(tmp_path: Path) -> None:
    h, s, _ = setup(tmp_path)
    h("FLUSHALL")
    assert not (tmp_path / "dump.rdb").exists()  # no save points
    h.config.save = [(3600, 1)]
    s.cron()  # follows FLUSHALL from now on
    h("SET", "k", "v")
    h("FLUSHALL")
    assert (tmp_path / "dump.rdb").exists() and h.engine.effects.dirty == 0
    assert loaded(h, tmp_path / "dump.rdb").dbs[0].data == {}


def test_private_dirty_reads_proc() -> None:
    assert snap.private_dirty() > 0
    assert snap.private_dirty(999_999_999) == 0
