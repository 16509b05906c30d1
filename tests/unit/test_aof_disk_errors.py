"""The AOF writer's disk-trouble paths with real files: no-appendfsync-on-rewrite, and write errors (-MISCONF).

A write error is a real one: ``/dev/full`` answers every write with ENOSPC,
as a full disk does.
"""

import asyncio
import os
from pathlib import Path

import pytest
from engine_harness import Harness

from cacheflow.config.schema import Config
from cacheflow.persistence.aof import ALWAYS, EVERYSEC, NO, AofWriter
from cacheflow.persistence.service import ON, Durability


def _writer(tmp_path: Path, policy: str, paused: list[bool]) -> tuple[asyncio.AbstractEventLoop, AofWriter]:
    loop = asyncio.new_event_loop()
    w = AofWriter(loop, policy, lambda gate: None)
    w.fsync_paused = lambda: paused[0]
    w.open(str(tmp_path / "x.incr.aof"))
    return loop, w


def test_no_appendfsync_on_rewrite_skips_the_everysec_fsync_while_paused(tmp_path: Path) -> None:
    paused = [True]
    loop, w = _writer(tmp_path, EVERYSEC, paused)
    try:
        w.feed(0, [[b"SET", b"a", b"1"]])
        w.flush()
        assert w.written > 0
        assert os.path.getsize(tmp_path / "x.incr.aof") == w.written  # written, as always
        assert w.syncer is not None
        # No fsync while paused: the thread waits (it re-checks once a second).
        with w.syncer.cond:
            w.syncer.cond.wait_for(lambda: not w.syncer.pending, 5)  # type: ignore[union-attr]
        assert w.syncer.done == 0
        paused[0] = False
        w.syncer.kick()
        with w.syncer.cond:
            assert w.syncer.cond.wait_for(lambda: w.syncer.done == w.written, 5)  # type: ignore[union-attr]
    finally:
        w.close()
        loop.close()


def test_no_appendfsync_on_rewrite_answers_always_writes_unsynced_while_paused(tmp_path: Path) -> None:
    paused = [True]
    loop, w = _writer(tmp_path, ALWAYS, paused)
    try:
        w.feed(0, [[b"SET", b"a", b"1"]])
        w.flush()
        assert os.path.getsize(tmp_path / "x.incr.aof") == w.written > 0
        assert w.synced == w.written  # counted as synced: its reply is not held
        assert w.fsyncs == 0
        paused[0] = False
        w.feed(0, [[b"SET", b"a", b"2"]])
        w.flush()
        assert w.fsyncs == 1 and w.synced == w.written  # the next write's fsync covers both
    finally:
        w.close()
        loop.close()


def test_write_error_refuses_writes_with_redis_misconf_text_until_it_is_solved(tmp_path: Path) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    h = Harness()
    durability = Durability(Config(), h.keyspace, h.engine, h.client, lambda gate: None)
    changes: list[str | None] = []
    durability.on_disk_status_change = lambda: changes.append(durability.disk_error())
    loop = asyncio.new_event_loop()
    try:
        durability.loop = loop
        w = durability._new_writer()
        w.set_policy(NO)
        w.open("/dev/full")
        durability.state = ON
        assert durability.disk_error() is None
        w.feed(0, [[b"SET", b"a", b"1"]])
        w.flush()
        expected = "MISCONF Errors writing to the AOF file: No space left on device"
        assert durability.disk_error() == expected
        assert changes == [expected]
        assert durability.info_fields()["aof"]["aof_last_write_status"] == "err"
        assert w.buf and w.written == 0  # the frames wait for the retry, nothing is lost
        # The disk has room again: the retry writes the kept frames and writes are allowed again.
        good = os.open(tmp_path / "x.incr.aof", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.close(w.fd)
        w.fd = good
        w.flush()
        assert durability.disk_error() is None and changes == [expected, None]
        assert (tmp_path / "x.incr.aof").read_bytes().count(b"SET") == 1
        assert durability.info_fields()["aof"]["aof_last_write_status"] == "ok"
    finally:
        if durability.writer is not None:
            durability.writer.close()
        loop.close()


def test_failed_background_fsync_also_refuses_writes(tmp_path: Path) -> None:
    """Redis 7.0 also refuses writes after a failed background fsync (aof_bio_fsync_status), until one succeeds."""
    h = Harness()
    durability = Durability(Config(), h.keyspace, h.engine, h.client, lambda gate: None)
    loop = asyncio.new_event_loop()
    try:
        durability.loop = loop
        w = durability._new_writer()
        w.set_policy(NO)
        w.open(str(tmp_path / "x.incr.aof"))
        durability.state = ON
        w.synced_to(0, OSError(5, "Input/output error"))
        assert durability.disk_error() == "MISCONF Errors writing to the AOF file: Input/output error"
        assert durability.info_fields()["aof"]["aof_last_write_status"] == "err"
        w.synced_to(0, None)
        assert durability.disk_error() is None
        # With the AOF off nothing is refused, whatever happened before.
        w.synced_to(0, OSError(5, "Input/output error"))
        durability.state = "off"
        assert durability.disk_error() is None
    finally:
        w.close()
        loop.close()
