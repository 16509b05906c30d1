"""Unit tests for the exact request parser, inline splitting and the CacheFlow text protocol.

The parser decides every protocol error and every limit on the server's
fallback path (DESIGN.md, "Hot path"), so these tests pin Redis 7.0's exact
behaviour: the same requests come out whatever the packet boundaries, the same
``Protocol error: ...`` wording comes out for the same bad input, and declared
lengths are checked on their header, before any payload is buffered.

The inline splitter is compared against a line-by-line Python port of Redis's
``sdssplitargs`` (src/sds.c), so a divergence shows up with a concrete line.
"""

import tracemalloc
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cacheflow.resp import text_protocol
from cacheflow.resp.errors import ProtocolError
from cacheflow.resp.inline import split_inline_args
from cacheflow.resp.parser import (
    INLINE_MAX_SIZE,
    Limits,
    RequestParser,
    parse_length,
)

# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def encode_multibulk(args: list[bytes]) -> bytes:
    """RESP multibulk encoding of one request, as every client sends it."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%b\r\n" % (len(a), a))
    return b"".join(out)


@dataclass
class Parsed:
    """What came out of a parser fed some chunks."""

    requests: list[list[bytes]]
    inline_flags: list[bool]
    error: str | None


def feed_chunks(chunks: list[bytes], parser: RequestParser | None = None) -> Parsed:
    """Feed chunks one at a time, draining complete requests after each, like the server does."""
    parser = parser or RequestParser()
    requests: list[list[bytes]] = []
    flags: list[bool] = []
    for chunk in chunks:
        parser.feed(chunk)
        while True:
            try:
                req = parser.get()
            except ProtocolError as e:
                return Parsed(requests, flags, str(e))
            if req is None:
                break
            requests.append(req)
            flags.append(parser.last_was_inline)
    return Parsed(requests, flags, None)


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c for c in cuts if 0 < c < len(data)})
    chunks = []
    prev = 0
    for p in [*points, len(data)]:
        chunks.append(data[prev:p])
        prev = p
    return [c for c in chunks if c] or [b""]


def protocol_error(data: bytes, parser: RequestParser | None = None) -> str | None:
    """The protocol error raised for ``data`` fed in one piece, or None."""
    return feed_chunks([data], parser).error


# --------------------------------------------------------------------------
# A reference implementation of Redis's sdssplitargs (src/sds.c, Redis 7.0).
# It works on a C string: a NUL byte ends the line.
# --------------------------------------------------------------------------

_C_ISSPACE = frozenset(b" \t\n\v\f\r")
_HEXDIGITS = frozenset(b"0123456789abcdefABCDEF")
_C_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}


def sdssplitargs(line: bytes) -> list[bytes] | None:
    """Direct port of sdssplitargs: same loops, same tests, same order."""
    s = line.split(b"\x00", 1)[0] + b"\x00"  # C string semantics
    p = 0
    vector: list[bytes] = []

    def at(i: int) -> int:
        return s[i] if i < len(s) else 0

    while True:
        while at(p) and at(p) in _C_ISSPACE:
            p += 1
        if not at(p):
            return vector
        inq = insq = done = False
        current = bytearray()
        while not done:
            c = at(p)
            if inq:
                if c == ord("\\") and at(p + 1) == ord("x") and at(p + 2) in _HEXDIGITS and at(p + 3) in _HEXDIGITS:
                    current.append(int(bytes([at(p + 2), at(p + 3)]), 16))
                    p += 3
                elif c == ord("\\") and at(p + 1):
                    p += 1
                    current.append(_C_ESCAPES.get(at(p), at(p)))
                elif c == ord('"'):
                    if at(p + 1) and at(p + 1) not in _C_ISSPACE:
                        return None
                    done = True
                elif not c:
                    return None
                else:
                    current.append(c)
            elif insq:
                if c == ord("\\") and at(p + 1) == ord("'"):
                    p += 1
                    current.append(ord("'"))
                elif c == ord("'"):
                    if at(p + 1) and at(p + 1) not in _C_ISSPACE:
                        return None
                    done = True
                elif not c:
                    return None
                else:
                    current.append(c)
            else:
                if c in (ord(" "), ord("\n"), ord("\r"), ord("\t"), 0):
                    done = True
                elif c == ord('"'):
                    inq = True
                elif c == ord("'"):
                    insq = True
                else:
                    current.append(c)
            if at(p):
                p += 1
        vector.append(bytes(current))


# --------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------

_BARE_SAFE = bytes(b for b in range(1, 256) if b not in b" \t\r\n\v\f\"'")


@st.composite
def inline_token(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """(encoded token, expected argument) using one of Redis's three token forms."""
    value = draw(st.binary(max_size=12))
    forms = ["double"]
    if value and all(b in _BARE_SAFE for b in value):
        forms.append("bare")
    if b"\n" not in value and b"\x00" not in value and b"\\" not in value:
        forms.append("single")
    form = draw(st.sampled_from(forms))
    if form == "bare":
        return value, value
    if form == "single":
        return b"'" + value.replace(b"'", b"\\'") + b"'", value
    out = bytearray(b'"')
    for b in value:
        if b == ord('"'):
            out += b'\\"'
        elif b == ord("\\"):
            out += b"\\\\"
        elif b in (10, 13, 9, 8, 7) and draw(st.booleans()):
            out += b"\\" + {10: b"n", 13: b"r", 9: b"t", 8: b"b", 7: b"a"}[b]
        elif 32 < b < 127 and draw(st.booleans()):
            out.append(b)
        else:
            hexa = b"%02x" % b
            out += b"\\x" + (hexa.upper() if draw(st.booleans()) else hexa)
    out += b'"'
    return bytes(out), value


@st.composite
def inline_request(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    """One inline line (not starting with '*') and the arguments it must yield."""
    tokens = draw(st.lists(inline_token(), min_size=1, max_size=5))
    seps = draw(st.lists(st.sampled_from([b" ", b"\t", b"  ", b" \t"]), min_size=len(tokens), max_size=len(tokens)))
    lead = draw(st.sampled_from([b"", b"", b" ", b"\t"]))
    line = bytearray(lead)
    for i, (enc, _) in enumerate(tokens):
        if i:
            line += seps[i]
        line += enc
    if draw(st.booleans()):
        line += seps[0]  # trailing blanks are ignored
    if line[:1] == b"*":
        line[0:0] = b" "
    end = draw(st.sampled_from([b"\r\n", b"\n"]))
    return bytes(line) + end, [value for _, value in tokens]


@st.composite
def request_stream(draw: st.DrawFn) -> tuple[bytes, list[list[bytes]], list[bool]]:
    """Concatenated requests (multibulk, inline, and no-op lines) with the expected output."""
    parts: list[bytes] = []
    expected: list[list[bytes]] = []
    inline: list[bool] = []
    for kind in draw(st.lists(st.sampled_from(["bulk", "bulk", "inline", "noop"]), min_size=1, max_size=8)):
        if kind == "bulk":
            args = draw(st.lists(st.binary(max_size=40), min_size=1, max_size=6))
            parts.append(encode_multibulk(args))
            expected.append(args)
            inline.append(False)
        elif kind == "inline":
            line, args = draw(inline_request())
            parts.append(line)
            expected.append(args)
            inline.append(True)
        else:
            parts.append(draw(st.sampled_from([b"*0\r\n", b"*-1\r\n", b"\r\n", b"\n", b"   \r\n", b"\t\n"])))
    return b"".join(parts), expected, inline


# --------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=request_stream(), data=st.data())
def test_requests_survive_any_chunking(
    stream: tuple[bytes, list[list[bytes]], list[bool]], data: st.DataObject
) -> None:
    """Requests come out identical whatever the packet boundaries: TCP guarantees none."""
    payload, expected, inline = stream
    cuts = data.draw(st.lists(st.integers(0, len(payload)), max_size=12), label="cuts")
    parser = RequestParser()
    result = feed_chunks(split_at(payload, cuts), parser)
    assert result.error is None
    assert result.requests == expected
    # The text protocol translates inline requests only; RESP clients must never be affected.
    assert result.inline_flags == inline
    assert parser.is_idle()
    assert parser.pending() == 0


@settings(max_examples=100, deadline=None)
@given(stream=request_stream())
def test_byte_at_a_time(stream: tuple[bytes, list[list[bytes]], list[bool]]) -> None:
    """The slowest possible client (one byte per packet) parses like a single packet."""
    payload, expected, _ = stream
    result = feed_chunks([payload[i : i + 1] for i in range(len(payload))])
    assert result.error is None
    assert result.requests == expected


@given(args=st.lists(st.binary(min_size=1, max_size=3000), min_size=1, max_size=3))
@settings(max_examples=50, deadline=None)
def test_binary_safe_bulks(args: list[bytes]) -> None:
    """Bulk payloads may contain CR, LF, NUL and '*': only the declared length counts."""
    noisy = [a + b"\r\n*1\r\n$\x00" for a in args]
    assert feed_chunks([encode_multibulk(noisy)]).requests == [noisy]


def test_trailing_two_bytes_after_a_bulk_are_not_checked() -> None:
    """Redis skips the two bytes after a bulk (and after a length's CR) without checking them."""
    assert feed_chunks([b"*1\r\n$4\r\nPINGxx*1\rX$4\rXPINGab"]).requests == [[b"PING"], [b"PING"]]


def test_inline_then_multibulk_in_one_packet() -> None:
    result = feed_chunks([b'PING\r\n*2\r\n$4\r\nECHO\r\n$1\r\na\r\nECHO "b c"\n'])
    assert result.requests == [[b"PING"], [b"ECHO", b"a"], [b"ECHO", b"b c"]]
    assert result.inline_flags == [True, False, True]


def test_empty_requests_are_skipped() -> None:
    """``*0``, ``*-1``, negative counts and blank lines produce no request and no reply, as in Redis."""
    result = feed_chunks([b"*0\r\n*-1\r\n*-5\r\n*-9223372036854775808\r\n\r\n\n \t \r\n*1\r\n$4\r\nPING\r\n"])
    assert result.error is None
    assert result.requests == [[b"PING"]]


def test_inline_line_keeps_inner_carriage_returns_as_separators() -> None:
    """Only the CR right before LF ends the line; other CRs separate arguments like spaces."""
    assert feed_chunks([b"ECHO a\rb\r\n"]).requests == [[b"ECHO", b"a", b"b"]]
    assert feed_chunks([b"ECHO\r\r\n"]).requests == [[b"ECHO"]]


# --------------------------------------------------------------------------
# Protocol errors: Redis's exact wording
# --------------------------------------------------------------------------

MULTIBULK = "invalid multibulk length"
BULK = "invalid bulk length"
UNBALANCED = "unbalanced quotes in request"

ERROR_CASES: list[tuple[bytes, str]] = [
    (b"*x\r\n", MULTIBULK),
    (b"*\r\n", MULTIBULK),
    (b"*01\r\n", MULTIBULK),
    (b"*+1\r\n", MULTIBULK),
    (b"* 1\r\n", MULTIBULK),
    (b"*1 \r\n", MULTIBULK),
    (b"*1.0\r\n", MULTIBULK),
    (b"*2147483648\r\n", MULTIBULK),
    (b"*3000000000\r\n", MULTIBULK),
    (b"*4294967296\r\n", MULTIBULK),
    (b"*9223372036854775807\r\n", MULTIBULK),
    (b"*9223372036854775808\r\n", MULTIBULK),
    (b"*-9223372036854775809\r\n", MULTIBULK),
    (b"*-01\r\n", MULTIBULK),
    (b"*1\r\nx\r\n", "expected '$', got 'x'"),
    (b"*1\r\n:1\r\n", "expected '$', got ':'"),
    (b"*1\r\n+PING\r\n", "expected '$', got '+'"),
    (b"*1\r\n-ERR\r\n", "expected '$', got '-'"),
    (b"*1\r\n*1\r\n", "expected '$', got '*'"),
    (b"*2\r\n$4\r\nECHO\r\n_\r\n", "expected '$', got '_'"),
    (b"*1\r\n$-1\r\n", BULK),
    (b"*1\r\n$-0\r\n", BULK),
    (b"*1\r\n$04\r\n", BULK),
    (b"*1\r\n$\r\n", BULK),
    (b"*1\r\n$4 \r\n", BULK),
    (b"*1\r\n$+4\r\n", BULK),
    (b"*1\r\n$536870913\r\n", BULK),
    (b"*1\r\n$2147483648\r\n", BULK),
    (b"*1\r\n$9223372036854775808\r\n", BULK),
    (b'SET "a b\r\n', UNBALANCED),
    (b"SET 'a b\r\n", UNBALANCED),
    (b'ECHO "a"b\r\n', UNBALANCED),
    (b"ECHO 'a'b\r\n", UNBALANCED),
    (b"ECHO 'it''s'\r\n", UNBALANCED),
    (b'ECHO "a\\"\n', UNBALANCED),
    (b"a" * (INLINE_MAX_SIZE + 1), "too big inline request"),
    (b"*" + b"1" * INLINE_MAX_SIZE, "too big mbulk count string"),
    (b"*1\r\n$" + b"1" * INLINE_MAX_SIZE, "too big bulk count string"),
]


@pytest.mark.parametrize(("data", "message"), ERROR_CASES, ids=[repr(d[:24]) for d, _ in ERROR_CASES])
def test_protocol_error_wording(data: bytes, message: str) -> None:
    assert protocol_error(data) == message


@pytest.mark.parametrize(("data", "message"), ERROR_CASES, ids=[repr(d[:24]) for d, _ in ERROR_CASES])
def test_protocol_error_after_valid_requests(data: bytes, message: str) -> None:
    """Requests before the bad one are still returned (Redis answers them before the error)."""
    good = encode_multibulk([b"SET", b"k", b"v"]) + b"PING\r\n"
    result = feed_chunks([good + data])
    assert result.requests == [[b"SET", b"k", b"v"], [b"PING"]]
    assert result.error == message


def test_error_messages_cover_redis_protocol_errors() -> None:
    """The parser produces exactly the protocol-error messages Redis 7.0's networking.c has."""
    seen = {message for _, message in ERROR_CASES if not message.startswith("expected '$'")}
    unauthenticated = RequestParser()
    unauthenticated.authenticated = False
    seen.add(protocol_error(b"*11\r\n", unauthenticated) or "")
    unauthenticated = RequestParser()
    unauthenticated.authenticated = False
    seen.add(protocol_error(b"*1\r\n$16385\r\n", unauthenticated) or "")
    assert seen == {
        "invalid multibulk length",
        "invalid bulk length",
        "too big inline request",
        "too big mbulk count string",
        "too big bulk count string",
        "unbalanced quotes in request",
        "unauthenticated multibulk length",
        "unauthenticated bulk length",
    }


HEADER_ERRORS = [(d, m) for d, m in ERROR_CASES if len(d) < 100]


@pytest.mark.parametrize(("data", "message"), HEADER_ERRORS, ids=[repr(d[:24]) for d, _ in HEADER_ERRORS])
def test_error_is_raised_when_the_bad_line_completes(data: bytes, message: str) -> None:
    """Fed byte by byte: nothing while the bad line (always the last one here) is incomplete, the error on its last byte.

    A length line counts as complete once the byte after its CR has arrived
    (Redis only checks that the buffer holds one more byte), so an error never
    waits for a payload.
    """
    parser = RequestParser()
    for i in range(len(data) - 1):
        parser.feed(data[i : i + 1])
        assert parser.get() is None, f"error raised early, at byte {i}"
    parser.feed(data[-1:])
    with pytest.raises(ProtocolError) as info:
        parser.get()
    assert str(info.value) == message


def test_unauthenticated_limits() -> None:
    """Before AUTH, Redis allows at most 10 arguments and 16 KiB per bulk."""
    parser = RequestParser()
    parser.authenticated = False
    assert feed_chunks([encode_multibulk([b"x"] * 10)], parser).requests == [[b"x"] * 10]
    parser = RequestParser()
    parser.authenticated = False
    assert protocol_error(b"*11\r\n", parser) == "unauthenticated multibulk length"
    parser = RequestParser()
    parser.authenticated = False
    assert feed_chunks([encode_multibulk([b"y" * 16384])], parser).requests == [[b"y" * 16384]]
    parser = RequestParser()
    parser.authenticated = False
    assert protocol_error(b"*1\r\n$16385\r\n", parser) == "unauthenticated bulk length"
    # Once authenticated the ordinary limits apply.
    parser = RequestParser()
    assert feed_chunks([encode_multibulk([b"x"] * 11)], parser).requests == [[b"x"] * 11]


# --------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------


def test_bulk_length_limit_is_configurable() -> None:
    """proto-max-bulk-len: a length equal to the limit is fine, one more is refused."""
    limits = Limits(max_bulk_len=1024 * 1024)
    parser = RequestParser(limits)
    parser.feed(b"*1\r\n$1048576\r\n")
    assert parser.get() is None
    parser = RequestParser(limits)
    assert protocol_error(b"*1\r\n$1048577\r\n", parser) == BULK
    # Changes to the shared Limits (CONFIG SET) apply to live parsers.
    parser = RequestParser(limits)
    limits.max_bulk_len = 2 * 1024 * 1024
    parser.feed(b"*1\r\n$1048577\r\n")
    assert parser.get() is None


def test_over_limit_lengths_are_refused_before_payload_is_buffered() -> None:
    """The error comes from the header alone: the payload is never waited for."""
    parser = RequestParser(Limits(max_bulk_len=1024 * 1024))
    parser.feed(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n")
    with pytest.raises(ProtocolError, match="invalid bulk length"):
        parser.get()


@pytest.mark.parametrize(
    "header",
    [b"*1\r\n$500000000\r\n", b"*2147483647\r\n", b"*2147483647\r\n$500000000\r\n"],
)
def test_declared_lengths_reserve_no_memory(header: bytes) -> None:
    """A declared length within the limits must not make the parser allocate for it up front.

    Otherwise a client declaring 2**31-1 arguments or 500 MB, and sending
    nothing more, costs the server that memory (Redis caps its argv
    preallocation at 1024 entries and reads big bulks as they arrive).
    """
    parser = RequestParser()
    tracemalloc.start()
    try:
        parser.feed(header)
        assert parser.get() is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024


def test_inline_size_limit_boundary() -> None:
    """Redis refuses an unterminated inline request once more than 64 KiB are buffered."""
    parser = RequestParser()
    parser.feed(b"a" * INLINE_MAX_SIZE)
    assert parser.get() is None
    parser.feed(b"a")
    with pytest.raises(ProtocolError, match="too big inline request"):
        parser.get()


def test_inline_request_over_limit_can_still_complete_in_one_read() -> None:
    """The 64 KiB check applies only while no newline has arrived (as in Redis)."""
    line = b"ECHO " + b"a" * (INLINE_MAX_SIZE + 10) + b"\r\n"
    assert feed_chunks([line]).requests == [[b"ECHO", b"a" * (INLINE_MAX_SIZE + 10)]]


def test_count_string_limit_boundaries() -> None:
    parser = RequestParser()
    parser.feed(b"*" + b"1" * (INLINE_MAX_SIZE - 1))
    assert parser.get() is None
    parser.feed(b"1")
    with pytest.raises(ProtocolError, match="too big mbulk count string"):
        parser.get()
    parser = RequestParser()
    parser.feed(b"*1\r\n$" + b"1" * (INLINE_MAX_SIZE - 1))
    assert parser.get() is None
    parser.feed(b"1")
    with pytest.raises(ProtocolError, match="too big bulk count string"):
        parser.get()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"*1\x00\r\n$4\r\nPING\r\n", "too big mbulk count string"),
        (b"*1\r\n$4\x00\r\nPING\r\n", "too big bulk count string"),
        (b"PING\x00\r\nPING\r\n", "too big inline request"),
    ],
)
def test_nul_hides_the_line_end_as_in_redis(data: bytes, message: str) -> None:
    """Redis looks for CR (multibulk) or LF (inline) with strchr(), which stops at a NUL byte.

    So a NUL inside a protocol line means the line never ends: no request,
    no error, until 64 KiB are buffered and the line is refused as too big.
    (Bulk payloads are length-delimited and may hold NULs freely.)
    """
    parser = RequestParser()
    parser.feed(data)
    assert parser.get() is None
    parser.feed(b"x" * INLINE_MAX_SIZE)
    with pytest.raises(ProtocolError) as info:
        parser.get()
    assert str(info.value) == message


def test_pending_counts_only_unparsed_bytes() -> None:
    """The connection enforces client-query-buffer-limit with ``pending()``; it must track the buffer."""
    parser = RequestParser()
    parser.feed(b"*2\r\n$4\r\nECHO\r\n$100\r\n" + b"x" * 50)
    assert parser.get() is None
    assert not parser.is_idle()
    assert 50 <= parser.pending() <= 50 + len(b"*2\r\n$4\r\nECHO\r\n$100\r\n")
    parser.feed(b"x" * 50 + b"\r\n")
    assert parser.get() == [b"ECHO", b"x" * 100]
    assert parser.is_idle()


# --------------------------------------------------------------------------
# Fuzz: the parser never fails except with a ProtocolError
# --------------------------------------------------------------------------

_FRAGMENTS = [b"*", b"$", b"1", b"2", b"0", b"-1", b"-", b"\r\n", b"\r", b"\n", b" ", b'"', b"'", b"\\", b"x4", b"PING"]


@settings(max_examples=400, deadline=None)
@given(
    pieces=st.lists(st.sampled_from(_FRAGMENTS) | st.binary(min_size=1, max_size=4), max_size=30),
    data=st.data(),
)
def test_garbage_only_ever_raises_protocol_error(pieces: list[bytes], data: st.DataObject) -> None:
    """Random input yields requests of bytes, waits for more, or raises ProtocolError; and it is chunking-independent."""
    payload = b"".join(pieces)
    whole = feed_chunks([payload])
    cuts = data.draw(st.lists(st.integers(0, len(payload)), max_size=8))
    chunked = feed_chunks(split_at(payload, cuts))
    assert chunked == whole
    for req in whole.requests:
        assert req and all(isinstance(a, bytes) for a in req)


# --------------------------------------------------------------------------
# parse_length (Redis's string2ll)
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"0", 0),
        (b"1", 1),
        (b"-1", -1),
        (b"9223372036854775807", 2**63 - 1),
        (b"-9223372036854775808", -(2**63)),
        (b"", None),
        (b"-", None),
        (b"-0", None),
        (b"00", None),
        (b"01", None),
        (b"+1", None),
        (b" 1", None),
        (b"1 ", None),
        (b"1a", None),
        (b"9223372036854775808", None),
        (b"-9223372036854775809", None),
        (b"1" * 21, None),
    ],
)
def test_parse_length_matches_string2ll(raw: bytes, value: int | None) -> None:
    assert parse_length(raw) == value


@given(st.integers(-(2**63), 2**63 - 1))
def test_parse_length_round_trips_every_long_long(n: int) -> None:
    assert parse_length(str(n).encode()) == n


# --------------------------------------------------------------------------
# inline.py: sdssplitargs
# --------------------------------------------------------------------------

INLINE_CASES: list[tuple[bytes, list[bytes] | None]] = [
    (b"", []),
    (b"   \t ", []),
    (b"set a b", [b"set", b"a", b"b"]),
    (b"  set   a\tb  ", [b"set", b"a", b"b"]),
    (b'set "a b" c', [b"set", b"a b", b"c"]),
    (b'"\\x41\\x4a\\x4A"', [b"AJJ"]),
    (b'"\\x4"', [b"x4"]),
    (b'"\\xZZ"', [b"xZZ"]),
    (b'"\\n\\r\\t\\b\\a\\q\\"\\\\"', [b'\n\r\t\b\aq"\\']),
    (b'""', [b""]),
    (b"''", [b""]),
    (b"'a\\'b'", [b"a'b"]),
    (b"'a\\nb'", [b"a\\nb"]),
    (b"'a\"b'", [b'a"b']),
    (b'"a\'b"', [b"a'b"]),
    (b'a"b c"d', None),
    (b'a"b c" d', [b"ab c", b"d"]),
    (b"a'b c' d", [b"ab c", b"d"]),
    (b'"a"b', None),
    (b"'a'b", None),
    (b'"a', None),
    (b"'a", None),
    (b'"a\\"', None),
    (b'"a\\', None),
    (b'"a"\t', [b"a"]),
    (b'"a"\x0b', [b"a"]),
    (b"'a'\x0c", [b"a"]),
    (b"a\\x41", [b"a\\x41"]),
    (b"a\x0bb", [b"a\x0bb"]),
    (b"a\x0cb", [b"a\x0cb"]),
    (b"\x0bECHO\x0bb", [b"ECHO\x0bb"]),
    (b"a\rb", [b"a", b"b"]),
    (b"\xff\xfe \x80", [b"\xff\xfe", b"\x80"]),
]


@pytest.mark.parametrize(("line", "expected"), INLINE_CASES, ids=[repr(c[0]) for c in INLINE_CASES])
def test_split_inline_args(line: bytes, expected: list[bytes] | None) -> None:
    assert sdssplitargs(line) == expected, "the reference port disagrees with the table"
    assert split_inline_args(line) == expected


_LINE_ALPHABET = st.sampled_from(
    [b" ", b"\t", b"\r", b"\x0b", b"\x0c", b'"', b"'", b"\\", b"x", b"4", b"1", b"a", b"F", b"n", b"\xff"]
) | st.binary(min_size=1, max_size=1).filter(lambda b: b not in (b"\n", b"\x00"))


@settings(max_examples=1000, deadline=None)
@given(st.lists(_LINE_ALPHABET, max_size=24).map(b"".join))
@example(b'"\\x4g"')
@example(b"a\x0bb")
def test_split_inline_args_matches_sdssplitargs(line: bytes) -> None:
    """Any line Redis can see (no LF; a NUL never reaches sdssplitargs) splits as sdssplitargs does."""
    assert split_inline_args(line) == sdssplitargs(line)


@given(inline_request())
def test_split_inline_args_inverts_quoting(req: tuple[bytes, list[bytes]]) -> None:
    line, args = req
    assert split_inline_args(line.rstrip(b"\r\n")) == args


# --------------------------------------------------------------------------
# text_protocol.py: the original CacheFlow line protocol
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([b"SET", b"k", b"v", b"100"], [b"SET", b"k", b"v", b"EX", b"100"]),
        ([b"set", b"k", b"v", b"100"], [b"set", b"k", b"v", b"EX", b"100"]),
        ([b"SeT", b"k", b"v w", b"0"], [b"SeT", b"k", b"v w", b"EX", b"0"]),
        ([b"SET", b"k", b"v", b"-5"], [b"SET", b"k", b"v", b"EX", b"-5"]),
        ([b"DELETE", b"k"], [b"DEL", b"k"]),
        ([b"delete", b"a", b"b", b"c"], [b"DEL", b"a", b"b", b"c"]),
    ],
)
def test_text_protocol_translates(args: list[bytes], expected: list[bytes]) -> None:
    original = list(args)
    assert text_protocol.translate(args) == expected
    assert args == original, "translate must not mutate the parsed request"


@pytest.mark.parametrize(
    "args",
    [
        [b"SET", b"k", b"v"],
        [b"SET", b"k", b"v", b"NX"],
        [b"SET", b"k", b"v", b"XX"],
        [b"SET", b"k", b"v", b"GET"],
        [b"SET", b"k", b"v", b"KEEPTTL"],
        [b"SET", b"k", b"v", b"EX", b"10"],
        [b"SET", b"k", b"v", b"100", b"NX"],
        [b"SET", b"k", b"v", b"1.5"],
        [b"SET", b"k", b"v", b"+5"],
        [b"SET", b"k", b"v", b""],
        [b"SET", b"k", b"v", b"-"],
        [b"SET", b"k", b"v", b"1e3"],
        [b"SET", b"k", b"v", "\u0661".encode()],
        [b"GET", b"k"],
        [b"EXISTS", b"k"],
        [b"DELETE"],
        [b"DEL", b"k"],
        [b"SETEX", b"k", b"10", b"v"],
        [b"PING"],
    ],
)
def test_text_protocol_leaves_redis_commands_alone(args: list[bytes]) -> None:
    """Anything that is not ``SET k v <integer>`` or ``DELETE k...`` keeps Redis's meaning."""
    assert text_protocol.translate(args) == args
