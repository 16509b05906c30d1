"""cacheflow-cli's reply formatting and its other pure parts, with no sockets.

Every expected byte string in CASES is what Debian's redis-cli 7.0.15 printed
for the same wire reply (captured against a server that answers canned
bytes), in its three output forms: on a terminal, ``--raw`` and ``--csv``.
``tests/integration/test_cli.py`` repeats the comparison live.
"""

from pathlib import Path

import pytest

from cacheflow.cli.docs import CommandHelp, hint_for, parse_command_docs, render_arguments
from cacheflow.cli.format import format_csv, format_raw, format_reply, format_tty, quote
from cacheflow.cli.history import LineHistory, is_sensitive
from cacheflow.cli.options import Options, OutputMode, UsageError, atof, atoi, parse_args
from cacheflow.client import (
    NOT_READY,
    BigNumber,
    Double,
    ErrorReply,
    HiredisReader,
    NotReady,
    Push,
    Reply,
    ReplyProtocolError,
    RespMap,
    RespSet,
    SimpleString,
    TypedReader,
    Verbatim,
)

# (name, wire reply, terminal output, --raw output, --csv output)
CASES = [
    ("status", b"+OK\r\n", b"OK\n", b"OK\n", b'"OK"\n'),
    ("status_with_quote", b'+OK\\"x\r\n', b'OK\\"x\n', b'OK\\"x\n', b'"OK\\\\\\"x"\n'),
    (
        "error",
        b"-ERR unknown command 'foo'\r\n",
        b"(error) ERR unknown command 'foo'\n",
        b"ERR unknown command 'foo'\n\n",
        b"ERROR,\"ERR unknown command 'foo'\"\n",
    ),
    ("error_with_quote", b'-ERR a"b\r\n', b'(error) ERR a"b\n', b'ERR a"b\n\n', b'ERROR,"ERR a\\"b"\n'),
    ("integer", b":42\r\n", b"(integer) 42\n", b"42\n", b"42\n"),
    (
        "negative_integer",
        b":-9223372036854775808\r\n",
        b"(integer) -9223372036854775808\n",
        b"-9223372036854775808\n",
        b"-9223372036854775808\n",
    ),
    ("bulk", b"$5\r\nhello\r\n", b'"hello"\n', b"hello\n", b'"hello"\n'),
    ("empty_bulk", b"$0\r\n\r\n", b'""\n', b"\n", b'""\n'),
    (
        "binary_bulk",
        b'$11\r\n\x01\xff\\"\n\r\t\x07\x08\x0b\x7f\r\n',
        b'"\\x01\\xff\\\\\\"\\n\\r\\t\\a\\b\\x0b\\x7f"\n',
        b'\x01\xff\\"\n\r\t\x07\x08\x0b\x7f\n',
        b'"\\x01\\xff\\\\\\"\\n\\r\\t\\a\\b\\x0b\\x7f"\n',
    ),
    ("utf8_bulk", b"$3\r\n\xc3\xa4x\r\n", b'"\\xc3\\xa4x"\n', b"\xc3\xa4x\n", b'"\\xc3\\xa4x"\n'),
    ("bulk_with_spaces", b"$4\r\n a b\r\n", b'" a b"\n', b" a b\n", b'" a b"\n'),
    ("nil_bulk", b"$-1\r\n", b"(nil)\n", b"\n", b"NULL\n"),
    ("nil_array", b"*-1\r\n", b"(nil)\n", b"\n", b"NULL\n"),
    ("empty_array", b"*0\r\n", b"(empty array)\n", b"\n", b"\n"),
    (
        "nested_array",
        b"*3\r\n*2\r\n:1\r\n*2\r\n+a\r\n$1\r\nb\r\n*0\r\n$-1\r\n",
        b'1) 1) (integer) 1\n   2) 1) a\n      2) "b"\n2) (empty array)\n3) (nil)\n',
        b"1\na\nb\n\n\n",
        b'1,"a","b",,NULL\n',
    ),
    (
        "wide_array",
        b"*11\r\n:1\r\n:2\r\n:3\r\n:4\r\n:5\r\n:6\r\n:7\r\n:8\r\n:9\r\n:10\r\n*2\r\n:1\r\n*1\r\n:2\r\n",
        b" 1) (integer) 1\n 2) (integer) 2\n 3) (integer) 3\n 4) (integer) 4\n 5) (integer) 5\n 6) (integer) 6\n 7) (integer) 7\n 8) (integer) 8\n 9) (integer) 9\n10) (integer) 10\n11) 1) (integer) 1\n    2) 1) (integer) 2\n",
        b"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n1\n2\n",
        b"1,2,3,4,5,6,7,8,9,10,1,2\n",
    ),
    (
        "array_with_error_and_nil",
        b"*2\r\n-ERR bad\r\n_\r\n",
        b"1) (error) ERR bad\n2) (nil)\n",
        b"ERR bad\n\n\n",
        b'ERROR,"ERR bad",NULL\n',
    ),
    (
        "array_of_empties",
        b"*3\r\n*0\r\n~0\r\n%0\r\n",
        b"1) (empty array)\n2) (empty set)\n3) (empty hash)\n",
        b"\n\n\n",
        b",,\n",
    ),
    ("array_of_empty_strings", b"*2\r\n$0\r\n\r\n+\r\n", b'1) ""\n2) \n', b"\n\n", b'"",""\n'),
    (
        "map",
        b"%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n,2.5\r\n",
        b'1# "a" => (integer) 1\n2# "b" => (double) 2.5\n',
        b"a 1\nb 2.5\n",
        b'"a",1,"b",2.5\n',
    ),
    ("empty_map", b"%0\r\n", b"(empty hash)\n", b"\n", b"\n"),
    (
        "map_with_aggregate_keys",
        b"%2\r\n*1\r\n:1\r\n%1\r\n+k\r\n+v\r\n$1\r\nx\r\n~1\r\n,1.5\r\n",
        b'1# 1) (integer) 1 => 1# k => v\n2# "x" => 1~ (double) 1.5\n',
        b"1 k v\nx 1.5\n",
        b'1,"k","v","x",1.5\n',
    ),
    (
        "map_value_array_on_own_lines",
        b"%1\r\n$1\r\na\r\n*2\r\n:1\r\n:2\r\n",
        b'1# "a" => \n   1) (integer) 1\n   2) (integer) 2\n',
        b"a 1\n2\n",
        b'"a",1,2\n',
    ),
    (
        "map_value_single_item_inline",
        b"%1\r\n$1\r\na\r\n*1\r\n:1\r\n",
        b'1# "a" => 1) (integer) 1\n',
        b"a 1\n",
        b'"a",1\n',
    ),
    ("map_value_empty_inline", b"%1\r\n$1\r\na\r\n*0\r\n", b'1# "a" => (empty array)\n', b"a \n", b'"a",\n'),
    (
        "map_value_nested_single_items",
        b"%1\r\n:0\r\n*1\r\n*1\r\n*2\r\n:1\r\n:2\r\n",
        b"1# (integer) 0 => \n   1) 1) 1) (integer) 1\n         2) (integer) 2\n",
        b"0 1\n2\n",
        b"0,1,2\n",
    ),
    (
        "map_value_map_with_multiline_key_inline",
        b"%1\r\n:0\r\n%1\r\n*2\r\n:1\r\n:2\r\n:3\r\n",
        b"1# (integer) 0 => 1# 1) (integer) 1\n      2) (integer) 2 => (integer) 3\n",
        b"0 1\n2 3\n",
        b"0,1,2,3\n",
    ),
    (
        "map_in_array",
        b"*2\r\n:5\r\n%2\r\n$1\r\na\r\n*2\r\n:1\r\n*1\r\n:2\r\n$1\r\nb\r\n%1\r\n:1\r\n:2\r\n",
        b'1) (integer) 5\n2) 1# "a" => \n      1) (integer) 1\n      2) 1) (integer) 2\n   2# "b" => 1# (integer) 1 => (integer) 2\n',
        b"5\na 1\n2\nb 1 2\n",
        b'5,"a",1,2,"b",1,2\n',
    ),
    (
        "wide_map",
        b"%10\r\n:1\r\n:2\r\n:1\r\n:2\r\n:1\r\n:2\r\n:1\r\n:2\r\n:1\r\n:2\r\n:1\r\n:2\r\n:1\r\n:2\r\n:1\r\n:2\r\n:1\r\n:2\r\n:1\r\n*2\r\n:1\r\n:2\r\n",
        b" 1# (integer) 1 => (integer) 2\n 2# (integer) 1 => (integer) 2\n 3# (integer) 1 => (integer) 2\n 4# (integer) 1 => (integer) 2\n 5# (integer) 1 => (integer) 2\n 6# (integer) 1 => (integer) 2\n 7# (integer) 1 => (integer) 2\n 8# (integer) 1 => (integer) 2\n 9# (integer) 1 => (integer) 2\n10# (integer) 1 => \n    1) (integer) 1\n    2) (integer) 2\n",
        b"1 2\n1 2\n1 2\n1 2\n1 2\n1 2\n1 2\n1 2\n1 2\n1 1\n2\n",
        b"1,2,1,2,1,2,1,2,1,2,1,2,1,2,1,2,1,2,1,1,2\n",
    ),
    ("set", b"~2\r\n$1\r\na\r\n$1\r\nb\r\n", b'1~ "a"\n2~ "b"\n', b"a\nb\n", b'"a","b"\n'),
    ("empty_set", b"~0\r\n", b"(empty set)\n", b"\n", b"\n"),
    (
        "nested_set",
        b"~2\r\n~1\r\n:1\r\n%1\r\n:1\r\n:2\r\n",
        b"1~ 1~ (integer) 1\n2~ 1# (integer) 1 => (integer) 2\n",
        b"1\n1 2\n",
        b"1,1,2\n",
    ),
    ("double", b",3.141\r\n", b"(double) 3.141\n", b"3.141\n", b"3.141\n"),
    ("double_exponent", b",1e+20\r\n", b"(double) 1e+20\n", b"1e+20\n", b"1e+20\n"),
    ("double_inf", b",inf\r\n", b"(double) inf\n", b"inf\n", b"inf\n"),
    ("double_negative_inf", b",-inf\r\n", b"(double) -inf\n", b"-inf\n", b"-inf\n"),
    (
        "double_17_digits",
        b",0.10000000000000001\r\n",
        b"(double) 0.10000000000000001\n",
        b"0.10000000000000001\n",
        b"0.10000000000000001\n",
    ),
    ("true", b"#t\r\n", b"(true)\n", b"(true)\n", b"true\n"),
    ("false", b"#f\r\n", b"(false)\n", b"(false)\n", b"false\n"),
    (
        "booleans_in_array",
        b"*3\r\n:-1\r\n,-0.5\r\n#f\r\n",
        b"1) (integer) -1\n2) (double) -0.5\n3) (false)\n",
        b"-1\n-0.5\n(false)\n",
        b"-1,-0.5,false\n",
    ),
    ("null", b"_\r\n", b"(nil)\n", b"\n", b"NULL\n"),
    (
        "verbatim",
        b"=22\r\ntxt:This is\na verbatim\r\n",
        b"This is\na verbatim\n",
        b"This is\na verbatim\n",
        b'"This is\\na verbatim"\n',
    ),
    ("verbatim_in_array", b"*1\r\n=7\r\ntxt:a\nb\r\n", b"1) a\nb\n", b"a\nb\n", b'"a\\nb"\n'),
]


def read_one(wire: bytes) -> Reply:
    reader = TypedReader()
    reader.feed(wire)
    reply = reader.gets()
    assert not isinstance(reply, NotReady)
    assert reader.gets() is NOT_READY
    return reply


@pytest.mark.parametrize(("name", "wire", "tty", "raw", "csv"), CASES, ids=[c[0] for c in CASES])
def test_formats_match_redis_cli(name: str, wire: bytes, tty: bytes, raw: bytes, csv: bytes) -> None:
    reply = read_one(wire)
    assert format_reply(reply, OutputMode.STANDARD) == tty
    assert format_reply(reply, OutputMode.RAW) == raw
    assert format_reply(reply, OutputMode.CSV) == csv


@pytest.mark.parametrize(("name", "wire", "tty", "raw", "csv"), CASES, ids=[c[0] for c in CASES])
def test_replies_split_at_every_byte_read_the_same(name: str, wire: bytes, tty: bytes, raw: bytes, csv: bytes) -> None:
    reader = TypedReader()
    for i in range(len(wire) - 1):
        reader.feed(wire[i : i + 1])
        assert reader.gets() is NOT_READY, f"complete after {i + 1} bytes"
    reader.feed(wire[-1:])
    reply = reader.gets()
    assert not isinstance(reply, NotReady)
    assert format_tty(reply) == tty


def test_many_replies_in_one_packet_come_out_in_order() -> None:
    reader = TypedReader()
    reader.feed(b"".join(c[1] for c in CASES))
    replies = []
    while not isinstance(reply := reader.gets(), NotReady):
        replies.append(reply)
    assert [format_tty(r) for r in replies] == [c[2] for c in CASES]


def test_typed_reader_keeps_every_resp_type_apart() -> None:
    assert type(read_one(b"+OK\r\n")) is SimpleString
    assert type(read_one(b"$2\r\nOK\r\n")) is bytes
    assert type(read_one(b"-ERR x\r\n")) is ErrorReply
    assert read_one(b"!5\r\nERR x\r\n") == ErrorReply(b"ERR x")
    assert type(read_one(b"~1\r\n:1\r\n")) is RespSet
    assert type(read_one(b"*1\r\n:1\r\n")) is list
    assert type(read_one(b">1\r\n+x\r\n")) is Push
    assert read_one(b"(12345678901234567890123\r\n") == BigNumber(12345678901234567890123)
    double = read_one(b",0.10000000000000001\r\n")
    assert isinstance(double, Double) and double.text == b"0.10000000000000001" and double == 0.1
    verbatim = read_one(b"=8\r\nmkd:**x*\r\n")
    assert isinstance(verbatim, Verbatim) and verbatim == b"**x*" and verbatim.format == b"mkd"
    assert read_one(b"#t\r\n") is True
    assert read_one(b"_\r\n") is None
    error = read_one(b"-WRONGTYPE Operation against a key\r\n")
    assert isinstance(error, ErrorReply) and error.prefix == "WRONGTYPE"


def test_map_keys_may_be_unhashable() -> None:
    reply = read_one(b"%1\r\n*1\r\n:1\r\n:2\r\n")
    assert isinstance(reply, RespMap)
    assert list(reply) == [([1], 2)]


def test_attributes_are_dropped_wherever_they_appear() -> None:
    assert read_one(b"|1\r\n+key-popularity\r\n:5\r\n$5\r\nreply\r\n") == b"reply"
    assert read_one(b"*2\r\n|1\r\n+a\r\n+b\r\n:5\r\n:6\r\n") == [5, 6]


@pytest.mark.parametrize("wire", [b"?x\r\n", b"#x\r\n", b",abc\r\n", b"$x\r\n", b"*?\r\n"])
def test_malformed_replies_raise(wire: bytes) -> None:
    reader = TypedReader()
    reader.feed(wire)
    with pytest.raises(ReplyProtocolError):
        reader.gets()


def test_hiredis_reader_returns_errors_as_values() -> None:
    reader = HiredisReader()
    reader.feed(b"*2\r\n-ERR x\r\n+OK\r\n")
    reply = reader.gets()
    assert reply == [b"ERR x", b"OK"]
    assert isinstance(reply, list) and isinstance(reply[0], ErrorReply)
    assert reader.gets() is NOT_READY


def test_hiredis_maps_format_like_typed_maps() -> None:
    reader = HiredisReader()
    reader.feed(b"%1\r\n$1\r\na\r\n:1\r\n")
    reply = reader.gets()
    assert isinstance(reply, dict)
    assert format_tty(reply) == b'1# "a" => (integer) 1\n'


# -- formatting details --------------------------------------------------------


def test_big_numbers_print_as_redis_cli_7_2_does() -> None:
    # redis-cli 7.0 aborts on big numbers ("Unknown reply type: 13"); 7.2 prints them like this.
    reply = read_one(b"(123\r\n")
    assert format_tty(reply) == b"(big number) 123\n"
    assert format_raw(reply) == b"123"


def test_doubles_read_by_hiredis_use_redis_7_0_spelling() -> None:
    assert format_tty(0.1) == b"(double) 0.10000000000000001\n"
    assert format_raw(float("inf")) == b"inf"
    assert format_csv(float("-inf")) == b"-inf"


def test_quote_escapes_like_sdscatrepr() -> None:
    assert quote(bytes(range(256))) == (
        b'"\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\a\\b\\t\\n\\x0b\\x0c\\r'
        + b"".join(b"\\x%02x" % c for c in range(14, 32))
        + b" !\\\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
        + b"".join(b"\\x%02x" % c for c in range(127, 256))
        + b'"'
    )


def test_raw_delimiters_are_configurable() -> None:
    reply = read_one(b"*2\r\n$1\r\na\r\n*2\r\n:1\r\n:2\r\n")
    assert format_reply(reply, OutputMode.RAW, mb_delim=b",", cmd_delim=b";") == b"a,1,2;"


def test_forced_raw_output_adds_no_delimiter() -> None:
    # INFO, CLIENT LIST and friends are printed raw even on a terminal, with nothing appended.
    reply = read_one(b"$10\r\n# Server\r\n\r\n")
    assert format_reply(reply, OutputMode.STANDARD, force_raw=True) == b"# Server\r\n"


# -- options -------------------------------------------------------------------


def test_options_stop_at_the_first_word() -> None:
    opts = parse_args(["-p", "6380", "-n", "2", "set", "k", "-1", "--raw"])
    assert (opts.port, opts.db) == (6380, 2)
    assert opts.command == [b"set", b"k", b"-1", b"--raw"]
    assert opts.output is None


def test_options_read_numbers_like_atoi() -> None:
    assert parse_args(["-p", "abc"]).port == 0
    assert parse_args(["-p", "12x"]).port == 12
    assert parse_args(["-i", "0.25"]).interval == 0.25
    assert (atoi("  -7z"), atof("1e-3s"), atof("x")) == (-7, 0.001, 0.0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bogus"], "Unrecognized option or bad number of args for: '--bogus'"),
        (["-p"], "Unrecognized option or bad number of args for: '-p'"),
        (["-u", "http://x"], "Invalid URI scheme"),
    ],
)
def test_bad_options_are_refused_with_redis_cli_words(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_args(argv)


def test_output_and_protocol_flags() -> None:
    assert parse_args(["--raw"]).output is OutputMode.RAW
    assert parse_args(["--raw", "--no-raw"]).output is OutputMode.STANDARD
    assert parse_args(["--csv"]).output is OutputMode.CSV
    assert parse_args(["-3"]).protocol == 3
    assert parse_args(["--resp3"]).protocol == 3
    assert parse_args(["-3", "-2"]).protocol == 2


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("redis://h:7000/3", ("h", 7000, 3, None, None)),
        ("redis://pw@h", ("h", 6379, 0, None, "pw")),
        ("redis://u:p%40ss@h:1/2", ("h", 1, 2, "u", "p@ss")),
        ("redis://:pw@h", ("h", 6379, 0, "", "pw")),  # an empty user name, as redis-cli sends it
        ("REDIS://h", ("h", 6379, 0, None, None)),
        ("redis://", ("127.0.0.1", 6379, 0, None, None)),
        ("redis:///5", ("127.0.0.1", 6379, 5, None, None)),
    ],
)
def test_uris(uri: str, expected: tuple[str, int, int, str | None, str | None]) -> None:
    opts = parse_args(["-u", uri])
    assert (opts.host, opts.port, opts.db, opts.user, opts.password) == expected


def test_password_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDISCLI_AUTH", "from-env")
    assert parse_args([]).password == "from-env"
    assert not parse_args([]).password_on_command_line
    assert parse_args(["-a", "x"]).password == "x"
    assert parse_args(["-a", "x"]).password_on_command_line
    monkeypatch.delenv("REDISCLI_AUTH")
    assert parse_args([]) == Options()


# -- help, hints and history ---------------------------------------------------


def _arg(**fields: object) -> RespMap:
    pairs: list[tuple[Reply, Reply]] = []
    for key, value in fields.items():
        if isinstance(value, str):
            pairs.append((key.encode(), value.encode()))
        elif isinstance(value, list) and value and isinstance(value[0], str):
            pairs.append((key.encode(), RespSet(SimpleString(v.encode()) for v in value)))
        else:
            pairs.append((key.encode(), value))  # type: ignore[arg-type]
    return RespMap(pairs)


SET_ARGUMENTS: list[Reply] = [
    _arg(name="key", type="key"),
    _arg(name="value", type="string"),
    _arg(
        name="condition",
        type="oneof",
        flags=["optional"],
        arguments=[_arg(name="nx", type="pure-token", token="NX"), _arg(name="xx", type="pure-token", token="XX")],
    ),
    _arg(name="get", type="pure-token", token="GET", flags=["optional"]),
    _arg(
        name="expiration",
        type="oneof",
        flags=["optional"],
        arguments=[
            _arg(name="seconds", type="integer", token="EX"),
            _arg(name="milliseconds", type="integer", token="PX"),
            _arg(name="keepttl", type="pure-token", token="KEEPTTL"),
        ],
    ),
]


def test_arguments_render_like_redis_cli_7_0_help() -> None:
    assert render_arguments(SET_ARGUMENTS) == "key value [NX|XX] [GET] [EX seconds|PX milliseconds|KEEPTTL]"
    sort_get = _arg(name="pattern", type="pattern", token="GET", flags=["optional", "multiple", "multiple_token"])
    assert render_arguments([sort_get]) == "[GET pattern [GET pattern ...]]"
    fields = _arg(
        name="data",
        type="block",
        flags=["multiple"],
        arguments=[_arg(name="field", type="string"), _arg(name="value", type="string")],
    )
    assert render_arguments([fields]) == "field value [field value ...]"
    assert render_arguments([_arg(name="empty_string", type="pure-token", token="")]) == '""'


def test_command_docs_in_resp2_and_resp3_give_the_same_entries() -> None:
    doc3 = RespMap(
        [
            (b"summary", b"Set the string value of a key"),
            (b"since", b"1.0.0"),
            (b"group", b"string"),
            (b"arguments", SET_ARGUMENTS),
        ]
    )
    client_doc = RespMap(
        [
            (b"summary", b"A container"),
            (b"subcommands", RespMap([(b"client|id", RespMap([(b"summary", b"Returns the client ID")]))])),
        ]
    )
    resp3 = RespMap([(b"set", doc3), (b"client", client_doc)])

    def flat(reply: Reply) -> Reply:
        if isinstance(reply, RespMap):
            return [flat(x) for pair in reply for x in pair]
        if isinstance(reply, list):
            return [flat(x) for x in reply]
        return reply

    entries = parse_command_docs(resp3)
    assert entries == parse_command_docs(flat(resp3))
    assert [e.name for e in entries] == ["CLIENT", "CLIENT ID", "SET"]
    assert entries[2].params.startswith("key value [NX|XX]")
    assert (entries[2].summary, entries[2].since, entries[2].group) == (
        "Set the string value of a key",
        "1.0.0",
        "string",
    )


HELP = [
    CommandHelp("SET", "key value [NX|XX] [GET]"),
    CommandHelp("CLIENT", ""),
    CommandHelp("CLIENT KILL", "ip:port|[ID client-id]"),
    CommandHelp("PING", "[message]"),
]


@pytest.mark.parametrize(
    ("line", "hint"),
    [
        ("set", " key value [NX|XX] [GET]"),
        ("SET ", "key value [NX|XX] [GET]"),
        ("set k", " value [NX|XX] [GET]"),
        ("set k ", "value [NX|XX] [GET]"),
        ("set k v", " [NX|XX] [GET]"),
        ("set k v NX", " [NX|XX] [GET]"),
        ("client kill", " ip:port|[ID client-id]"),
        ("client", " "),
        ("ping", " [message]"),
        ("nosuch", None),
        ("", None),
        ("   ", None),
    ],
)
def test_hints_follow_redis_cli_7_0(line: str, hint: str | None) -> None:
    assert hint_for(line, HELP) == hint


@pytest.mark.parametrize(
    ("line", "sensitive"),
    [
        ("auth secret", True),
        ("AUTH user secret", True),
        ("3 auth secret", True),
        ("acl setuser bob on >pw", True),
        ("hello 3 AUTH default pw", True),
        ("config set requirepass pw", True),
        ("set auth x", False),
        ("acl list", False),
        ("hello 3", False),
        ('"unbalanced', False),
    ],
)
def test_lines_with_passwords_are_sensitive(line: str, sensitive: bool) -> None:
    assert is_sensitive(line) is sensitive


def test_history_file_is_plain_private_bounded_and_skips_passwords(tmp_path: Path) -> None:
    path = tmp_path / "hist"
    path.write_text("old 1\nold 2\n")
    history = LineHistory(str(path), max_len=3)
    assert list(history.load_history_strings()) == ["old 2", "old 1"]
    for line in ["get a", "get a", "auth pw", "set b 1"]:
        history.append_string(line)
    assert path.read_text() == "old 2\nget a\nset b 1\n"
    assert path.stat().st_mode & 0o777 == 0o600
    assert list(LineHistory(str(path)).load_history_strings()) == ["set b 1", "get a", "old 2"]
