"""The AOF writer's turn: frames written once per event-loop turn, replies held behind their writes.

Real files and a real event loop; connections are stand-ins that record what
the writer sends them (the writer only reads ``ctx.close_after_reply`` and
``transport``).
"""

import asyncio
from pathlib import Path
from typing import Any

from cacheflow.persistence import frames
from cacheflow.persistence.aof import ALWAYS, EVERYSEC, AofWriter


class _Transport:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    def is_closing(self) -> bool:
        return False


class _Ctx:
    close_after_reply = False


class _Conn:
    def __init__(self) -> None:
        self.ctx = _Ctx()
        self.transport = _Transport()


def _run_one_turn(loop: asyncio.AbstractEventLoop) -> None:
    loop.call_soon(loop.stop)
    loop.run_forever()


def test_always_writes_of_one_turn_share_one_fsync_and_replies_wait_for_it(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    gates: list[Any] = []
    w = AofWriter(loop, ALWAYS, gates.append)
    w.open(str(tmp_path / "x.incr.aof"))
    try:
        conns = [_Conn() for _ in range(5)]
        for i, conn in enumerate(conns):
            w.feed(0, [[b"SET", b"k%d" % i, b"v"]])
            assert w.gate(conn, b"+OK\r\n")  # held: its write is not in the file yet
        assert all(not c.transport.sent for c in conns)
        assert w.fsyncs == 0
        _run_one_turn(loop)
        assert w.fsyncs == 1  # one fsync for the whole group
        assert w.synced == w.written == (tmp_path / "x.incr.aof").stat().st_size
        assert [c.transport.sent for c in conns] == [[b"+OK\r\n"]] * 5
        data = (tmp_path / "x.incr.aof").read_bytes()
        assert data == frames.encode_frame([b"SELECT", b"0"]) + b"".join(
            frames.encode_frame([b"SET", b"k%d" % i, b"v"]) for i in range(5)
        )
        # Nothing waits any more: the gate is lifted and the next reply is not held.
        assert gates[-1] is None
        assert not w.gate(conns[0], b"$1\r\nv\r\n")
    finally:
        w.close()
        loop.close()


def test_a_reply_after_an_unwritten_write_waits_even_if_it_wrote_nothing(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    w = AofWriter(loop, EVERYSEC, lambda gate: None)
    w.open(str(tmp_path / "x.incr.aof"))
    try:
        writer_conn, reader_conn = _Conn(), _Conn()
        w.feed(0, [[b"SET", b"k", b"v"]])
        assert w.gate(writer_conn, b"+OK\r\n")
        assert w.gate(reader_conn, b"$1\r\nv\r\n")  # a GET must not show what a crash could still lose
        _run_one_turn(loop)
        assert writer_conn.transport.sent == [b"+OK\r\n"] and reader_conn.transport.sent == [b"$1\r\nv\r\n"]
        assert w.fsyncs == 0  # everysec fsyncs in its thread, not on the loop
    finally:
        w.close()
        loop.close()


def test_a_transaction_over_several_databases_is_one_multi_exec(tmp_path: Path) -> None:
    """As Redis writes it: SELECT, MULTI, the first database's effects, SELECT inside, ..., one EXEC."""
    loop = asyncio.new_event_loop()
    w = AofWriter(loop, EVERYSEC, lambda gate: None)
    path = tmp_path / "x.incr.aof"
    w.open(str(path))
    try:
        w.feed(0, [[b"SET", b"a", b"1"]], True)
        w.feed(1, [[b"SET", b"b", b"2"], [b"DEL", b"c"]], True)
        w.feed(0, [[b"SET", b"d", b"4"]], False)
        w.feed(0, [[b"SET", b"e", b"5"]])  # the next command stands alone again
        w.flush(force=True)
        frame = frames.encode_frame
        assert path.read_bytes() == b"".join(
            frame(argv)
            for argv in (
                [b"SELECT", b"0"],
                [b"MULTI"],
                [b"SET", b"a", b"1"],
                [b"SELECT", b"1"],
                [b"SET", b"b", b"2"],
                [b"DEL", b"c"],
                [b"SELECT", b"0"],
                [b"SET", b"d", b"4"],
                [b"EXEC"],
                [b"SET", b"e", b"5"],
            )
        )
    finally:
        w.close()
        loop.close()
