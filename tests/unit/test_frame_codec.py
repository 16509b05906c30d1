"""frame_codec.c, the AOF's frame encoder in C, against the Python definition in persistence/frames.py.

The C module must produce the very bytes ``encode_frame_in_python`` does, and
its CRC-64 must be anycrc's CRC64-REDIS (the library the readers use), for
any arguments: empty, binary, long enough to exercise every length of the
8-byte slicing and its byte-wise tail.  `make test` builds the extension
first, so it is imported unconditionally: a missing build fails here.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cacheflow.persistence import frame_codec, frames
from cacheflow.rdb.checksum import crc64 as anycrc64

ARGV = st.lists(st.binary(max_size=300), min_size=0, max_size=12)


def test_the_writer_uses_the_c_encoder() -> None:
    assert frames.encode_frame is frame_codec.encode_frame


@given(ARGV)
def test_c_frames_are_the_python_frames(argv: list[bytes]) -> None:
    c = frame_codec.encode_frame(argv)
    assert c == frames.encode_frame_in_python(argv)
    if argv:
        assert frames.decode_frame(c, 0) == (argv, len(c))


@given(st.binary(max_size=2000), st.integers(min_value=0, max_value=2**64 - 1))
def test_c_crc64_is_anycrc_crc64_redis(data: bytes, start: int) -> None:
    assert frame_codec.crc64(data) == anycrc64(data)
    assert frame_codec.crc64(data, start) == anycrc64(data, start)


def test_crc64_check_value_and_every_tail_length() -> None:
    assert frame_codec.crc64(b"123456789") == 0xE9C6D914C4B8D9CA
    data = bytes(range(256)) * 3
    for n in range(0, 40):
        assert frame_codec.crc64(data[:n]) == anycrc64(data[:n])
        assert frame_codec.crc64(data[n : n + 100]) == anycrc64(data[n : n + 100])


def test_bytes_like_arguments_are_copied_and_encoded_alike() -> None:
    argv = [b"SET", bytearray(b"k"), memoryview(b"v\r\n")]
    assert frame_codec.encode_frame(argv) == frames.encode_frame_in_python([b"SET", b"k", b"v\r\n"])  # type: ignore[list-item]


@pytest.mark.parametrize("bad", [(b"SET",), [b"SET", 1], [b"SET", "text"], None])
def test_anything_else_is_a_type_error_not_a_crash(bad: object) -> None:
    with pytest.raises(TypeError):
        frame_codec.encode_frame(bad)  # type: ignore[arg-type]
