"""Configuration parameters, config-file parsing and CONFIG REWRITE, without a server.

Expected texts and error messages are the ones redis-server 7.0.15 produces
for the same input (checked by hand against the Debian package).
"""

import os
from pathlib import Path

import pytest

from cacheflow.config.file import ConfigFileError, parse_directives, rewrite
from cacheflow.config.schema import (
    DEFAULT_OUTPUT_LIMITS,
    PARAMS,
    PARAMS_BY_NAME,
    Config,
    ConfigError,
    format_memory,
    parse_integer,
    parse_keyspace_events,
    parse_memory,
    quote,
)
from cacheflow.server.main import load_config

ALIASES = {p.alias: p.name for p in PARAMS if p.alias}
PREFIX = "CONFIG SET failed (possibly related to argument"


def set_error(config: Config, *pairs: tuple[str, str]) -> str:
    with pytest.raises(ConfigError) as e:
        config.set_many([(n.encode(), v.encode()) for n, v in pairs])
    return str(e.value)


# -- values --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [("0", 0), ("512", 512), ("1k", 1000), ("1kb", 1024), ("10M", 10**7), ("10mB", 10 * 1024**2), ("2gb", 2 * 1024**3)],
)
def test_memory_values_accept_redis_units(raw: str, value: int) -> None:
    assert parse_memory(raw.encode()) == value


@pytest.mark.parametrize("raw", ["abc", "1.5gb", "-1", "10 mb", "1tb", "99999999999999999999gb"])
def test_bad_memory_values_are_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match="argument must be a memory value"):
        parse_memory(raw.encode())


@pytest.mark.parametrize("raw", ["1.5", "10k", "+1", "01", " 1", "", "9223372036854775808"])
def test_integers_are_parsed_strictly(raw: str) -> None:
    with pytest.raises(ConfigError, match="couldn't be parsed into an integer"):
        parse_integer(raw.encode())


def test_memory_is_rewritten_in_the_largest_exact_unit() -> None:
    assert [format_memory(n) for n in (0, 100, 1024, 64 * 1024**2, 3 * 1024**3, 1536)] == [
        "0",
        "100",
        "1kb",
        "64mb",
        "3gb",
        "1536",
    ]


def test_quote_escapes_like_sdscatrepr() -> None:
    assert quote("/tmp/x") == '"/tmp/x"'
    assert quote('a b"c\\') == '"a b\\"c\\\\"'
    assert quote("\n\t\x01") == '"\\n\\t\\x01"'


def test_keyspace_events_are_canonicalised_as_redis_prints_them() -> None:
    assert parse_keyspace_events(b"KEA") == "AKE"
    assert parse_keyspace_events(b"Kx") == "xK"
    assert parse_keyspace_events(b"") == ""
    with pytest.raises(ConfigError, match="Invalid event class character"):
        parse_keyspace_events(b"foo")


# -- CONFIG GET ------------------------------------------------------------------


def test_config_get_formats_match_redis() -> None:
    c = Config()
    assert c.matching(b"client-output-buffer-limit") == [
        ("client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60")
    ]
    assert c.matching(b"save") == [("save", "")]
    assert c.matching(b"maxmemory") == [("maxmemory", "0")]
    assert c.matching(b"protected-mode") == [("protected-mode", "yes")]


def test_exact_lookup_echoes_the_spelling_asked_for() -> None:
    c = Config()
    assert c.matching(b"PORT") == [("PORT", "6379")]
    assert c.matching(b"slave-read-only") == [("slave-read-only", "yes")]
    assert c.matching(b"nosuch") == []


def test_glob_matches_names_and_aliases_case_insensitively() -> None:
    names = [n for n, _ in Config().matching(b"*READ-ONLY")]
    assert names == ["replica-read-only", "slave-read-only"]
    every = dict(Config().matching(b"*"))
    assert len(every) == len([p for p in PARAMS if not p.hidden]) + len(ALIASES)  # hidden: Redis's test-only knobs


# -- CONFIG SET ------------------------------------------------------------------


def test_set_many_validates_everything_before_returning() -> None:
    c = Config()
    parsed = c.set_many([(b"maxmemory", b"10mb"), (b"HZ", b"20")])
    assert parsed == {"maxmemory": 10 * 1024**2, "hz": 20}
    assert c.maxmemory == 0  # nothing stored until apply()
    previous = c.apply(parsed)
    assert (c.maxmemory, c.hz) == (10 * 1024**2, 20)
    c.apply(previous)
    assert (c.maxmemory, c.hz) == (0, 10)


def test_set_errors_use_redis_wording_and_order() -> None:
    c = Config()
    assert set_error(c, ("FOO", "bar")) == "Unknown option or number of arguments for CONFIG SET - 'FOO'"
    assert set_error(c, ("foo", "bar"), ("daemonize", "yes")).startswith("Unknown option")
    assert set_error(c, ("daemonize", "yes"), ("foo", "bar")) == f"{PREFIX} 'daemonize') - can't set immutable config"
    assert set_error(c, ("hz", "abc"), ("HZ", "5")) == f"{PREFIX} 'HZ') - duplicate parameter"
    assert set_error(c, ("MAXMEMORY", "abc")) == f"{PREFIX} 'maxmemory') - argument must be a memory value"
    assert set_error(c, ("dir", "/tmp")) == f"{PREFIX} 'dir') - can't set protected config"
    assert set_error(c, ("port", "99999")) == f"{PREFIX} 'port') - argument must be between 0 and 65535 inclusive"
    assert set_error(c, ("loglevel", "nothing")) == (
        f"{PREFIX} 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning"
    )
    assert set_error(c, ("appendonly", "maybe")) == f"{PREFIX} 'appendonly') - argument must be 'yes' or 'no'"
    assert set_error(c, ("save", "10")) == f"{PREFIX} 'save') - Invalid save parameters"
    assert set_error(c, ("slave-read-only", "x")) == f"{PREFIX} 'slave-read-only') - argument must be 'yes' or 'no'"


def test_protected_configs_follow_enable_protected_configs() -> None:
    c = Config()
    c.enable_protected_configs = "local"
    assert set_error(c, ("dir", "/tmp")).endswith("can't set protected config")
    assert c.set_many([(b"dir", b"/tmp")], local_client=True) == {"dir": "/tmp"}


def test_hz_is_capped_at_500_as_redis_does() -> None:
    assert Config().set_many([(b"hz", b"1000000")]) == {"hz": 500}


def test_output_buffer_limits_change_only_the_named_classes() -> None:
    c = Config()
    parsed = c.set_many([(b"client-output-buffer-limit", b"normal 1mb 2mb 3 slave 1 2 3")])
    limits = parsed["client-output-buffer-limit"]
    assert limits["normal"] == (1024**2, 2 * 1024**2, 3)
    assert limits["replica"] == (1, 2, 3)
    assert limits["pubsub"] == DEFAULT_OUTPUT_LIMITS["pubsub"]
    assert set_error(c, ("client-output-buffer-limit", "foo 1 2 3")).endswith(
        "Invalid client class specified in buffer limit configuration."
    )
    assert set_error(c, ("client-output-buffer-limit", "normal 1 2")).endswith(
        "Wrong number of arguments in buffer limit configuration."
    )


def test_alias_sets_the_canonical_parameter() -> None:
    c = Config()
    c.apply(c.set_many([(b"slave-read-only", b"no")]))
    assert c.replica_read_only is False
    assert c.formatted("slave-read-only") == "no"


# -- config files ------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "redis.conf"
    path.write_text(text)
    return str(path)


def test_directives_keep_arguments_and_line_numbers() -> None:
    ds = parse_directives('# c\n\nport 7000\nsave 900 1\nrequirepass "a b"\n')
    assert [(d.name, d.args, d.lineno) for d in ds] == [
        ("port", [b"7000"], 3),
        ("save", [b"900", b"1"], 4),
        ("requirepass", [b"a b"], 5),
    ]


def test_unbalanced_quotes_are_fatal() -> None:
    with pytest.raises(ConfigFileError) as e:
        parse_directives('port "abc\n')
    assert (e.value.lineno, e.value.reason) == (1, "Unbalanced quotes in configuration line")


@pytest.mark.parametrize(
    ("text", "lineno", "reason"),
    [
        ("port 7390\nmaxmemory abc\n", 2, "argument must be a memory value"),
        ("foo bar\n", 1, "Bad directive or wrong number of arguments"),
        ("port 1 2\n", 1, "wrong number of arguments"),
        ("port\n", 1, "wrong number of arguments"),
        ("save 10\n", 1, "Invalid save parameters"),
        ("loglevel nothing\n", 1, "argument(s) must be one of the following: debug, verbose, notice, warning"),
    ],
)
def test_bad_files_give_redis_reasons(tmp_path: Path, text: str, lineno: int, reason: str) -> None:
    with pytest.raises(ConfigFileError) as e:
        load_config([write(tmp_path, text)])
    assert (e.value.lineno, e.value.reason) == (lineno, reason)


def test_command_line_overrides_follow_the_file_and_are_quoted(tmp_path: Path) -> None:
    path = write(tmp_path, "port 7000\nmaxmemory 1mb\n")
    config = load_config([path, "--port", "7001", "--save", "", "--requirepass", "a b"])
    assert (config.port, config.maxmemory, config.save, config.requirepass) == (7001, 1024**2, [], "a b")
    assert config.config_file == os.path.abspath(path)
    with pytest.raises(ConfigFileError) as e:
        load_config(["--port", "7390", "--maxmemory", "abc"])
    assert (e.value.lineno, e.value.line) == (3, 'maxmemory "abc"')


def test_save_lines_accumulate_and_replace_the_defaults(tmp_path: Path) -> None:
    config = load_config([write(tmp_path, "save 900 1\nsave 300 10\n")])
    assert config.save == [(900, 1), (300, 10)]
    config = load_config([write(tmp_path, 'save 900 1\nsave ""\n')])
    assert config.save == []


# -- CONFIG REWRITE -------------------------------------------------------------------


ORIGINAL = """# my comment
port 7381
save 900 1
save 300 10
maxmemory 100mb
client-output-buffer-limit pubsub 32mb 8mb 60
bind 127.0.0.1
daemonize yes
pidfile /tmp/rw/r.pid
logfile /tmp/rw/r.log
"""

# What redis-server 7.0.15 wrote for the same file and changes (less its ACL and
# latency-tracking lines, which CacheFlow does not have).  Redis appends new lines
# in its hash table's order, so only the set of appended lines is compared.
REWRITTEN_IN_PLACE = """# my comment
port 7381
save ""

maxmemory 200mb
client-output-buffer-limit normal 1mb 2mb 3
bind 127.0.0.1
daemonize yes
pidfile "/tmp/rw/r.pid"
logfile "/tmp/rw/r.log"

# Generated by CONFIG REWRITE
"""


def test_rewrite_follows_redis(tmp_path: Path) -> None:
    config = load_config([write(tmp_path, ORIGINAL)])
    config.apply(
        config.set_many(
            [
                (b"maxmemory", b"200mb"),
                (b"client-output-buffer-limit", b"normal 1mb 2mb 3 replica 300mb 100mb 10"),
                (b"save", b""),
                (b"loglevel", b"verbose"),
                (b"hz", b"20"),
            ]
        )
    )
    config.apply(config.set_many([(b"hz", b"10")]))  # back to its default: not written
    out = rewrite(ORIGINAL, config.rewrite_lines(), ALIASES)
    assert out.startswith(REWRITTEN_IN_PLACE)
    appended = out[len(REWRITTEN_IN_PLACE) :].splitlines()
    # Like Redis, the working directory is always written.
    assert sorted(appended) == sorted(
        ["loglevel verbose", "client-output-buffer-limit replica 300mb 100mb 10", f"dir {quote(os.getcwd())}"]
    )


def test_rewrite_keeps_unknown_lines_as_comments_and_maps_aliases() -> None:
    text = "include /etc/other.conf\nslave-read-only no\nweird-option 1\nrename-command FLUSHALL ''\n"
    config = Config()
    config.replica_read_only = False
    out = rewrite(text, config.rewrite_lines(), ALIASES)
    assert out.splitlines()[:4] == [
        "include /etc/other.conf",
        "replica-read-only no",
        "# ??? weird-option 1",
        "rename-command FLUSHALL ''",
    ]


def test_rewrite_of_a_rewritten_file_is_stable(tmp_path: Path) -> None:
    config = load_config([write(tmp_path, ORIGINAL)])
    config.apply(config.set_many([(b"maxmemory", b"1gb"), (b"requirepass", b'p"w')]))
    once = rewrite(ORIGINAL, config.rewrite_lines(), ALIASES)
    assert rewrite(once, config.rewrite_lines(), ALIASES) == once
    reloaded = load_config([write(tmp_path, once)])
    for p in PARAMS:
        if p.name != "dir":
            assert getattr(reloaded, p.attr) == getattr(config, p.attr), p.name


def test_every_parameter_round_trips_through_its_rewrite_lines(tmp_path: Path) -> None:
    """Whatever CONFIG REWRITE writes for a default value parses back to the same value."""
    config = Config()
    lines = [text for p in PARAMS for text, _ in p.rewrite_lines(p.default)]
    reloaded = load_config([write(tmp_path, "\n".join(lines) + "\n")])
    for p in PARAMS:
        if p.name != "dir":
            assert getattr(reloaded, p.attr) == getattr(config, p.attr), p.name
    assert PARAMS_BY_NAME["save"].rewrite_lines([]) == [('save ""', True)]
