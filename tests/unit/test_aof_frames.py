"""The AOF frame format, the manifest, rebuild commands and the recovery scan: pure, no sockets."""

import random

import pytest

from cacheflow.persistence import frames
from cacheflow.persistence import manifest as mf
from cacheflow.persistence.check import run as check_run
from cacheflow.persistence.recovery import scan
from cacheflow.rdb.checksum import crc64


def _file(commands: list[list[bytes]]) -> bytes:
    return b"".join(frames.encode_frame(c) for c in commands)


CMDS = [[b"SELECT", b"0"], [b"SET", b"k", b"v\r\n@CF 3\r\n"], [b"RPUSH", b"l", b"", b"x" * 300], [b"DEL", b"k"]]


def test_frame_is_readable_and_checksummed() -> None:
    f = frames.encode_frame([b"SET", b"a", b"1"])
    payload = b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert f == b"@CF %d\r\n" % len(payload) + payload + b"#%016x!\r\n" % crc64(payload)
    assert frames.decode_frame(f, 0) == ([b"SET", b"a", b"1"], len(f))


def test_crc64_is_redis_jones() -> None:
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA


def test_every_truncation_is_torn_never_wrong() -> None:
    data = _file(CMDS)
    full, report = scan(data, "f")
    assert report.problem is None and [a for _, a in full] == CMDS
    for cut in range(len(data)):
        entries, report = scan(data[:cut], "f")
        got = [a for _, a in entries]
        assert got == CMDS[: len(got)]
        if report.problem is not None:
            assert report.torn, (cut, report.problem)
            assert report.valid_up_to <= cut


def test_bit_flips_are_refused_or_a_correct_prefix() -> None:
    rng = random.Random(7)
    data = _file(CMDS)
    for _ in range(400):
        pos = rng.randrange(len(data))
        bad = bytearray(data)
        bad[pos] ^= 1 << rng.randrange(8)
        entries, report = scan(bytes(bad), "f")
        got = [a for _, a in entries]
        assert got == CMDS[: len(got)], pos
        assert report.problem is not None
        if not report.torn:
            assert report.bad_offset <= pos
            assert report.bad_offset == report.valid_up_to


def test_damaged_length_before_valid_frames_is_corruption() -> None:
    data = bytearray(_file(CMDS))
    data[4:6] = b"99"  # the first frame now claims 99.. bytes and swallows the rest
    _, report = scan(bytes(data), "f")
    assert not report.torn and report.bad_offset == 0


def test_open_multi_at_the_end_is_dropped_as_a_whole() -> None:
    data = _file([[b"SET", b"a", b"1"], [b"MULTI"], [b"SET", b"b", b"2"]])
    entries, report = scan(data, "f")
    assert report.torn and [a for _, a in entries] == [[b"SET", b"a", b"1"]]
    assert report.valid_up_to == len(frames.encode_frame([b"SET", b"a", b"1"]))


def _redis_file(commands: list[list[bytes]]) -> bytes:
    """Commands as Redis writes them to its own AOF: bare RESP arrays."""
    return b"".join(frames.encode_command(c) for c in commands)


def test_commands_as_redis_writes_them_load_and_mix_with_frames() -> None:
    data = _redis_file(CMDS[:2]) + _file(CMDS[2:3]) + _redis_file(CMDS[3:])
    entries, report = scan(data, "f")
    assert report.problem is None and [a for _, a in entries] == CMDS


def test_every_truncation_of_a_redis_file_is_torn_never_wrong() -> None:
    data = _redis_file(CMDS) + _file(CMDS)
    for cut in range(len(data)):
        entries, report = scan(data[:cut], "f")
        got = [a for _, a in entries]
        assert got == (CMDS + CMDS)[: len(got)]
        if report.problem is not None:
            assert report.torn, (cut, report.problem)
            assert report.valid_up_to == report.bad_offset <= cut


def test_bit_flips_in_a_redis_file_never_crash_and_keep_a_correct_prefix() -> None:
    rng = random.Random(11)
    data = _redis_file(CMDS)
    for _ in range(1000):
        pos = rng.randrange(len(data))
        bad = bytearray(data)
        bad[pos] ^= 1 << rng.randrange(8)
        entries, _ = scan(bytes(bad), "f")
        # No checksum here (as in Redis's format): a flip inside a value loads the changed value, and a
        # flip in a length can move where the damage shows; but every command that ends before the
        # flipped byte loads exactly, in order.
        before = [argv for offset, argv in entries if offset + len(frames.encode_command(argv)) <= pos]
        assert before == CMDS[: len(before)]


@pytest.mark.parametrize(
    "data",
    [b"*x\r\n", b"*0\r\n", b"*-1\r\n", b"*1\r\n:3\r\n", b"*1\r\n$-1\r\n", b"*1\r\n$1\r\nab\r\n", b"*" + b"9" * 40],
)
def test_malformed_redis_commands_are_corruption(data: bytes) -> None:
    _, report = scan(data, "f")
    assert report.problem is not None and not report.torn and report.bad_offset == 0


@pytest.mark.parametrize(
    "payload", [b"", b"*0\r\n", b"*1\r\n$3\r\nabc", b"*1\r\n$3\r\nabc\r\nx", b"*1\r\n$03\r\nabc\r\n"]
)
def test_bad_payloads(payload: bytes) -> None:
    assert frames.parse_command(payload) is None


def test_manifest_round_trip_and_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    m = mf.Manifest(mf.AofFile("a b.1.base.aof", 1, "b"), [mf.AofFile("x.1.incr.aof", 1, "i")], [])
    text = m.render()
    assert text == b'file "a b.1.base.aof" seq 1 type b\nfile x.1.incr.aof seq 1 type i\n'
    assert mf.parse(text) == m
    assert mf.parse(b"# comment\ntype i seq 2 file y\n").incrs[0].name == "y"
    for bad in (b"", b"file a seq 1\n", b"file a/b seq 1 type i\n", b"file a seq 2 type i\nfile b seq 1 type i\n"):
        with pytest.raises(mf.ManifestError):
            mf.parse(bad)
    mf.persist(str(tmp_path), "appendonly.aof", m)
    assert mf.load(str(tmp_path), "appendonly.aof") == m
    assert mf.load(str(tmp_path), "other") is None


def test_check_aof_reports_and_fixes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x.aof"
    good = _file(CMDS)
    path.write_bytes(good + frames.encode_frame([b"SET", b"z", b"1"])[:-5])
    code, out = check_run([str(path)])
    assert code == 1 and any(f"byte offset {len(good)}" in line for line in out)
    code, out = check_run(["--fix", str(path)])
    assert code == 0 and any("dropping" in line and "1 entry" in line for line in out)
    assert path.read_bytes() == good
    assert check_run([str(path)])[0] == 0
