"""The syntax-string parser behind COMMAND DOCS ``arguments``.

Expected trees are written in Redis's own vocabulary (name, type, token,
flags, nested arguments); the shapes follow what Redis 7.0 returns for the
same commands, except for the names of blocks and one-ofs, which Redis picks by
hand and the parser derives by joining the children's names.
"""

import pytest

from cacheflow.commands import TABLE
from cacheflow.commands.docs_syntax import Arg, SyntaxSpecError, display_syntax, number_key_args, parse_syntax


def tree(syntax: str) -> list[dict[str, object]]:
    return [a.as_dict() for a in parse_syntax(syntax)]


def test_empty_syntax_has_no_arguments() -> None:
    assert tree("") == []
    assert tree("   ") == []


def test_plain_arguments_get_types_from_their_names() -> None:
    assert tree("key value") == [{"name": "key", "type": "key"}, {"name": "value", "type": "string"}]
    assert tree("pattern") == [{"name": "pattern", "type": "pattern"}]
    assert tree("count") == [{"name": "count", "type": "integer"}]
    assert tree("unix-time-seconds") == [{"name": "unix-time-seconds", "type": "unix-time"}]
    assert tree("index1 index2") == [{"name": "index1", "type": "integer"}, {"name": "index2", "type": "integer"}]


def test_a_type_annotation_overrides_the_inferred_type() -> None:
    assert tree("key increment:double") == [
        {"name": "key", "type": "key"},
        {"name": "increment", "type": "double"},
    ]


def test_a_colon_that_is_not_a_type_stays_in_the_name() -> None:
    assert tree("ip:port") == [{"name": "ip:port", "type": "string"}]


def test_set_matches_redis_shape() -> None:
    syntax = (
        "key value [NX|XX] [GET] "
        "[EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]"
    )
    assert tree(syntax) == [
        {"name": "key", "type": "key"},
        {"name": "value", "type": "string"},
        {
            "name": "nx_xx",
            "type": "oneof",
            "flags": ["optional"],
            "arguments": [
                {"name": "nx", "type": "pure-token", "token": "NX"},
                {"name": "xx", "type": "pure-token", "token": "XX"},
            ],
        },
        {"name": "get", "type": "pure-token", "token": "GET", "flags": ["optional"]},
        {
            "name": "seconds_milliseconds_unix-time-seconds_unix-time-milliseconds_keepttl",
            "type": "oneof",
            "flags": ["optional"],
            "arguments": [
                {"name": "seconds", "type": "integer", "token": "EX"},
                {"name": "milliseconds", "type": "integer", "token": "PX"},
                {"name": "unix-time-seconds", "type": "unix-time", "token": "EXAT"},
                {"name": "unix-time-milliseconds", "type": "unix-time", "token": "PXAT"},
                {"name": "keepttl", "type": "pure-token", "token": "KEEPTTL"},
            ],
        },
    ]


def test_top_level_alternatives_are_a_required_oneof() -> None:
    assert tree("ON|OFF|SKIP") == [
        {
            "name": "on_off_skip",
            "type": "oneof",
            "arguments": [
                {"name": "on", "type": "pure-token", "token": "ON"},
                {"name": "off", "type": "pure-token", "token": "OFF"},
                {"name": "skip", "type": "pure-token", "token": "SKIP"},
            ],
        }
    ]


def test_angle_brackets_group_alternatives_after_a_token() -> None:
    assert tree("[TYPE <NORMAL|PUBSUB>]") == [
        {
            "name": "normal_pubsub",
            "type": "oneof",
            "token": "TYPE",
            "flags": ["optional"],
            "arguments": [
                {"name": "normal", "type": "pure-token", "token": "NORMAL"},
                {"name": "pubsub", "type": "pure-token", "token": "PUBSUB"},
            ],
        }
    ]
    assert tree("(A|B)") == tree("<A|B>")


def test_repetition_marks_the_repeated_argument_multiple() -> None:
    assert tree("key [key ...]") == [{"name": "key", "type": "key", "flags": ["multiple"]}]
    assert tree("[command-name [command-name ...]]") == [
        {"name": "command-name", "type": "string", "flags": ["optional", "multiple"]}
    ]
    assert tree("[member ...]") == [{"name": "member", "type": "string", "flags": ["optional", "multiple"]}]


def test_repeating_several_arguments_makes_a_multiple_block() -> None:
    assert tree("key value [key value ...]") == [
        {
            "name": "key_value",
            "type": "block",
            "flags": ["multiple"],
            "arguments": [{"name": "key", "type": "key"}, {"name": "value", "type": "string"}],
        }
    ]


def test_a_repeated_token_sets_multiple_token() -> None:
    assert tree("[PREFIX prefix [PREFIX prefix ...]]") == [
        {"name": "prefix", "type": "string", "token": "PREFIX", "flags": ["optional", "multiple", "multiple_token"]}
    ]


def test_a_token_with_one_repeated_argument_keeps_the_token_once() -> None:
    assert tree("[ID client-id [client-id ...]]") == [
        {"name": "client-id", "type": "integer", "token": "ID", "flags": ["optional", "multiple"]}
    ]


def test_a_token_heading_several_arguments_is_a_block() -> None:
    assert tree("[protover [AUTH username password] [SETNAME clientname]]") == [
        {
            "name": "protover_username_password_clientname",
            "type": "block",
            "flags": ["optional"],
            "arguments": [
                {"name": "protover", "type": "integer"},
                {
                    "name": "username_password",
                    "type": "block",
                    "token": "AUTH",
                    "flags": ["optional"],
                    "arguments": [{"name": "username", "type": "string"}, {"name": "password", "type": "string"}],
                },
                {"name": "clientname", "type": "string", "token": "SETNAME", "flags": ["optional"]},
            ],
        }
    ]


def test_token_then_argument_inside_alternatives() -> None:
    assert tree("[FILTERBY <MODULE module-name|ACLCAT category|PATTERN pattern>]") == [
        {
            "name": "module-name_category_pattern",
            "type": "oneof",
            "token": "FILTERBY",
            "flags": ["optional"],
            "arguments": [
                {"name": "module-name", "type": "string", "token": "MODULE"},
                {"name": "category", "type": "string", "token": "ACLCAT"},
                {"name": "pattern", "type": "pattern", "token": "PATTERN"},
            ],
        }
    ]


def test_symbols_are_tokens() -> None:
    assert tree("[=|~]") == [
        {
            "name": "=_~",
            "type": "oneof",
            "flags": ["optional"],
            "arguments": [
                {"name": "=", "type": "pure-token", "token": "="},
                {"name": "~", "type": "pure-token", "token": "~"},
            ],
        }
    ]


@pytest.mark.parametrize("bad", ["[key", "key]", "<A|B", "key ...", "[]"])
def test_malformed_syntax_is_reported(bad: str) -> None:
    with pytest.raises(SyntaxSpecError):
        parse_syntax(bad)


def test_display_syntax_drops_type_annotations_only() -> None:
    assert display_syntax("key [increment:double] ip:port <a:integer|b>") == "key [increment] ip:port <a|b>"


def test_display_syntax_drops_key_spec_marks_and_token_names() -> None:
    assert display_syntax("key [BY pattern@1] [CH=change] [==equal|~] x:integer@2") == "key [BY pattern] [CH] [=|~] x"


def test_a_named_token_keeps_its_text_and_takes_the_name() -> None:
    assert tree("key [CH=change] [INCR=increment] [ALPHA=sorting]") == [
        {"name": "key", "type": "key"},
        {"name": "change", "type": "pure-token", "token": "CH", "flags": ["optional"]},
        {"name": "increment", "type": "pure-token", "token": "INCR", "flags": ["optional"]},
        {"name": "sorting", "type": "pure-token", "token": "ALPHA", "flags": ["optional"]},
    ]
    assert tree("[==equal|~=approximately]")[0]["arguments"] == [
        {"name": "equal", "type": "pure-token", "token": "="},
        {"name": "approximately", "type": "pure-token", "token": "~"},
    ]


def key_specs_of(syntax: str, spec_count: int) -> list[tuple[str, int | None]]:
    out: list[tuple[str, int | None]] = []

    def walk(args: list[Arg]) -> None:
        for a in args:
            if a.key_spec is not None:
                out.append((a.name, a.key_spec))
            walk(a.args)

    walk(number_key_args(parse_syntax(syntax), spec_count))
    return out


def test_key_arguments_take_the_key_specs_in_order() -> None:
    assert key_specs_of("key newkey", 2) == [("key", 0), ("newkey", 1)]
    assert key_specs_of("source destination <LEFT|RIGHT> <LEFT|RIGHT>", 2) == [("source", 0), ("destination", 1)]
    assert key_specs_of("destination numkeys key [key ...] [WEIGHTS weight [weight ...]]", 2) == [
        ("destination", 0),
        ("key", 1),
    ]
    assert key_specs_of("operation destkey key [key ...]", 2) == [("destkey", 0), ("key", 1)]
    assert key_specs_of("key [key ...]", 1) == [("key", 0)]


def test_extra_key_arguments_share_the_last_spec() -> None:
    assert key_specs_of("key1:key key2:key [LEN] [IDX]", 1) == [("key1", 0), ("key2", 0)]


def test_a_marked_argument_points_at_its_spec_and_the_count_resumes_after_it() -> None:
    syntax = "key [BY pattern@1] [GET pattern@1 [GET pattern@1 ...]] [ALPHA=sorting] [STORE destination]"
    assert key_specs_of(syntax, 3) == [("key", 0), ("pattern", 1), ("pattern", 1), ("destination", 2)]
    assert tree("[BY pattern@1]") == [
        {"name": "pattern", "type": "pattern", "key_spec_index": 1, "token": "BY", "flags": ["optional"]}
    ]


def test_every_key_argument_points_at_a_declared_spec() -> None:
    """COMMAND DOCS must never name a key spec COMMAND INFO does not list, nor leave specs without arguments."""
    for cmd in TABLE.all_with_subcommands():
        indexes = [i for _, i in key_specs_of(cmd.syntax, len(cmd.key_specs))]
        if cmd.key_specs:
            assert indexes, cmd.name
        assert all(i is not None and 0 <= i < len(cmd.key_specs) for i in indexes), cmd.name


def test_every_declared_command_syntax_parses() -> None:
    """A declaration with a syntax the parser cannot read would break COMMAND DOCS: catch it here."""
    for cmd in TABLE.all_with_subcommands():
        try:
            parse_syntax(cmd.syntax)
        except SyntaxSpecError as e:  # pragma: no cover - the message is the point
            pytest.fail(f"{cmd.name}: {e}")


def test_key_arguments_exist_only_for_commands_with_keys() -> None:
    """Commands that declare keys mention a key-typed argument, so COMMAND DOCS links it to a key spec."""

    def has_key(args: list[dict[str, object]]) -> bool:
        return any(a["type"] == "key" or has_key(a.get("arguments", [])) for a in args)  # type: ignore[arg-type]

    for name in ("get", "set", "memory|usage"):
        parent, _, sub = name.partition("|")
        cmd = TABLE.get(parent)
        assert cmd is not None
        if sub:
            cmd = cmd.subcommands[sub]
        assert has_key(tree(cmd.syntax)), name
