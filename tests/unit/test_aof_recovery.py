"""Recovery from real files through the real engine: truncation at every offset, corruption, multi-part order."""

import os
import random

import pytest
from engine_harness import Harness

from cacheflow.persistence import frames
from cacheflow.persistence import manifest as mf
from cacheflow.persistence.recovery import LoadError, LoadState, Replayer, load

CMDS = [[b"SELECT", b"0"], [b"SET", b"a", b"1"], [b"MULTI"], [b"RPUSH", b"l", b"x"], [b"INCR", b"a"], [b"EXEC"]]
CMDS += [[b"SELECT", b"2"], [b"SADD", b"s", b"m"], [b"SET", b"b", b"2"]]


def _write(tmp_path, incr: bytes, base: bytes = b"") -> mf.Manifest:  # type: ignore[no-untyped-def]
    (tmp_path / "a.1.base.aof").write_bytes(base)
    (tmp_path / "a.1.incr.aof").write_bytes(incr)
    m = mf.Manifest(mf.AofFile("a.1.base.aof", 1, "b"), [mf.AofFile("a.1.incr.aof", 1, "i")])
    mf.persist(str(tmp_path), "a", m)
    return m


def _load(tmp_path, m: mf.Manifest, truncate_ok: bool = True) -> Harness:  # type: ignore[no-untyped-def]
    h = Harness()
    for _ in load(str(tmp_path), m, Replayer(h.engine, h.client()), truncate_ok, LoadState()):
        pass
    return h


def _state(h: Harness) -> tuple[object, ...]:
    out = []
    for db in (0, 2):
        h("SELECT", str(db))
        out.append((h("GET", "a"), h("LRANGE", "l", "0", "-1"), h("SMEMBERS", "s"), h("GET", "b")))
    return tuple(out)


def _expected(prefix: list[list[bytes]]) -> tuple[object, ...]:
    h = Harness()
    replay = Replayer(h.engine, h.client())
    pending: list[list[bytes]] | None = None
    for argv in prefix:
        if argv == [b"MULTI"]:
            pending = []
        elif argv == [b"EXEC"]:
            for queued in pending or []:
                replay.apply(queued)
            pending = None
        elif pending is not None:
            pending.append(argv)
        else:
            replay.apply(argv)
    return _state(h)


def test_truncated_at_every_offset_loads_a_prefix_and_truncates_the_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = b"".join(frames.encode_frame(c) for c in CMDS)
    ends = []
    pos = 0
    for c in CMDS:
        pos += len(frames.encode_frame(c))
        ends.append(pos)
    for cut in range(len(data) + 1):
        m = _write(tmp_path, data[:cut])
        h = _load(tmp_path, m)
        complete = [c for c, e in zip(CMDS, ends) if e <= cut]
        if complete.count([b"MULTI"]) > complete.count([b"EXEC"]):
            complete = complete[: complete.index([b"MULTI"])]
        assert _state(h) == _expected(complete), cut
        size = os.path.getsize(tmp_path / "a.1.incr.aof")
        assert size <= cut and size in [0, *ends]


def test_truncated_file_refused_without_aof_load_truncated(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = b"".join(frames.encode_frame(c) for c in CMDS)
    m = _write(tmp_path, data[:-3])
    with pytest.raises(LoadError) as e:
        _load(tmp_path, m, truncate_ok=False)
    assert e.value.path.endswith("a.1.incr.aof")
    assert e.value.offset == len(data) - len(frames.encode_frame(CMDS[-1]))
    assert os.path.getsize(tmp_path / "a.1.incr.aof") == len(data) - 3  # untouched


def test_corruption_refused_with_file_and_offset(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(5)
    data = b"".join(frames.encode_frame(c) for c in CMDS)
    starts = [0]
    for c in CMDS:
        starts.append(starts[-1] + len(frames.encode_frame(c)))
    for _ in range(60):
        pos = rng.randrange(len(data) - 40)  # not in the last frame: the damage cannot look like a torn tail
        bad = bytearray(data)
        bad[pos] ^= 1 << rng.randrange(8)
        m = _write(tmp_path, bytes(bad))
        try:
            _load(tmp_path, m)
        except LoadError as e:
            assert e.path.endswith("a.1.incr.aof")
            frame_start = max(s for s in starts if s <= pos)
            assert e.offset in (frame_start, max(s for s in starts if s <= frame_start - 1) if frame_start else 0)
            assert os.path.getsize(tmp_path / "a.1.incr.aof") == len(data)  # nothing cut
        else:
            raise AssertionError(f"flip at {pos} was accepted")


def test_torn_base_is_an_error_even_with_truncation_allowed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    base = frames.encode_frame([b"SET", b"a", b"1"])
    m = _write(tmp_path, frames.encode_frame([b"SET", b"b", b"1"]), base[:-2])
    with pytest.raises(LoadError) as e:
        _load(tmp_path, m)
    assert e.value.path.endswith("a.1.base.aof") and e.value.offset == 0


def test_base_then_incrementals_in_order(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.3.base.aof").write_bytes(frames.encode_frame([b"SET", b"a", b"base"]))
    (tmp_path / "a.4.incr.aof").write_bytes(frames.encode_frame([b"APPEND", b"a", b"-4"]))
    (tmp_path / "a.5.incr.aof").write_bytes(frames.encode_frame([b"APPEND", b"a", b"-5"]))
    m = mf.Manifest(
        mf.AofFile("a.3.base.aof", 3, "b"), [mf.AofFile("a.4.incr.aof", 4, "i"), mf.AofFile("a.5.incr.aof", 5, "i")]
    )
    h = _load(tmp_path, m)
    assert h("GET", "a") == b"base-4-5"
