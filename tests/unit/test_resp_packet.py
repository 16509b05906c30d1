"""Unit tests for the hot path's whole-packet parser (resp/packet.py).

The scan may refuse anything, since the exact parser then decides; what it
must never do is accept a packet and return something other than what the
exact parser (and so Redis) would make of it.  Hence the central property:
whatever bytes it accepts, the exact parser reads the same requests from them
with no error and nothing left over.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cacheflow.resp.packet import parse_whole_packet
from cacheflow.resp.parser import Limits, RequestParser

MAX_BULK = 512 * 1024 * 1024

args_st = st.lists(
    st.binary(max_size=40) | st.sampled_from([b"", b"\r\n", b"*1\r\n", b"$3\r\n"]), min_size=1, max_size=12
)
requests_st = st.lists(args_st, min_size=1, max_size=5)


def encode(requests: list[list[bytes]]) -> bytes:
    out = []
    for args in requests:
        out.append(b"*%d\r\n" % len(args))
        out.extend(b"$%d\r\n%b\r\n" % (len(a), a) for a in args)
    return b"".join(out)


def exact_parse(data: bytes, max_bulk_len: int = MAX_BULK) -> tuple[list[list[bytes]], bool]:
    """What the exact parser reads from ``data``, and whether it consumed it all."""
    parser = RequestParser(Limits(max_bulk_len=max_bulk_len))
    parser.feed(data)
    requests = []
    while (req := parser.get()) is not None:
        requests.append(req)
    return requests, parser.is_idle()


@given(requests_st)
def test_canonical_packets_parse_to_their_requests(requests: list[list[bytes]]) -> None:
    assert parse_whole_packet(encode(requests), MAX_BULK) == requests


@given(requests_st, st.data())
def test_a_request_cut_short_is_refused(requests: list[list[bytes]], data: st.DataObject) -> None:
    packet = encode(requests)
    cut = data.draw(st.integers(1, len(packet) - 1))
    whole = [k for k in range(1, len(requests)) if len(encode(requests[:k])) == cut]
    expected = requests[: whole[0]] if whole else None  # a cut between requests leaves whole ones
    assert parse_whole_packet(packet[:cut], MAX_BULK) == expected


mutation_st = st.tuples(st.sampled_from(["replace", "insert", "delete"]), st.integers(0, 10_000), st.binary(max_size=3))


@settings(max_examples=400)
@given(requests_st, st.lists(mutation_st, min_size=1, max_size=3), st.sampled_from([MAX_BULK, 4, 0]))
def test_whatever_it_accepts_the_exact_parser_reads_the_same(
    requests: list[list[bytes]], mutations: list[tuple[str, int, bytes]], max_bulk_len: int
) -> None:
    packet = bytearray(encode(requests))
    for kind, where, blob in mutations:
        at = where % (len(packet) + 1)
        if kind == "replace":
            packet[at : at + len(blob)] = blob
        elif kind == "insert":
            packet[at:at] = blob
        else:
            del packet[at : at + 1 + len(blob)]
    data = bytes(packet)
    parsed = parse_whole_packet(data, max_bulk_len)
    if parsed is not None:
        assert exact_parse(data, max_bulk_len) == (parsed, True)


@pytest.mark.parametrize(
    "packet",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"PING\r\n", id="inline"),
        pytest.param(b"*1\r\n$4\r\nPING\r\nPING\r\n", id="inline after a request"),
        pytest.param(b"*0\r\n", id="empty array (Redis skips it)"),
        pytest.param(b"*-1\r\n", id="null array"),
        pytest.param(b"*01\r\n$4\r\nPING\r\n", id="leading zero in a count"),
        pytest.param(b"*1\r\n$04\r\nPING\r\n", id="leading zero in a length"),
        pytest.param(b"*+1\r\n$4\r\nPING\r\n", id="sign"),
        pytest.param(b"* 1\r\n$4\r\nPING\r\n", id="space"),
        pytest.param(b"*1\n$4\r\nPING\r\n", id="bare LF"),
        pytest.param(b"*1\r\n$-1\r\n", id="null bulk"),
        pytest.param(b"*1\r\n+PING\r\n", id="simple string for a bulk"),
        pytest.param(b"*1\r\n$4\r\nPINGxx", id="payload not followed by CRLF"),
        pytest.param(b"*1\r\n$4\r\nPING\r\n\r\n", id="trailing bytes"),
        pytest.param(b"*1000000\r\n$4\r\nPING\r\n", id="a million arguments declared"),
        pytest.param(b"*1\r\n$12345678901\r\nPING\r\n", id="eleven-digit length"),
        pytest.param(b"*3000000000\r\n", id="huge count, nothing allocated"),
    ],
)
def test_refused_packets(packet: bytes) -> None:
    assert parse_whole_packet(packet, MAX_BULK) is None


def test_a_bulk_over_the_limit_is_left_to_the_exact_parser() -> None:
    packet = b"*2\r\n$3\r\nGET\r\n$5\r\nabcde\r\n"
    assert parse_whole_packet(packet, 5) == [[b"GET", b"abcde"]]
    assert parse_whole_packet(packet, 4) is None


def test_an_empty_argument_is_accepted() -> None:
    assert parse_whole_packet(b"*2\r\n$3\r\nGET\r\n$0\r\n\r\n", MAX_BULK) == [[b"GET", b""]]
