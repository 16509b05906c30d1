"""INFO, CONFIG, COMMAND, CLIENT, DEBUG, MEMORY, TIME and SHUTDOWN, against real processes.

Wherever Redis's behaviour is observable the same way, the test runs the same
thing on redis-server 7.0.15 and compares: section and field lists, error
texts, COMMAND INFO/DOCS structures, raw reply bytes, fatal config errors.
Tests that change configuration or stop a server start their own.  Nothing
sleeps to wait and nothing asserts how long something took.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hiredis
import pytest
import redis
from servers import ROOT, ServerProcess, cacheflow_server, free_port, real_redis_server, wait_until
from wire import Wire

from cacheflow import REDIS_COMPAT_VERSION
from cacheflow.commands.table import KeySpec, legacy_range

MY_FAMILIES = {"info", "config", "command", "client", "time", "lastsave", "shutdown", "memory", "debug"}
LOG_LINE = re.compile(r"^\d+:[MCSX] \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} [.\-*#] .+$")


@pytest.fixture
def wire(cacheflow: ServerProcess) -> Iterator[Wire]:
    w = Wire(cacheflow.port)
    yield w
    w.close()


def parsed(port: int, *args: str, proto: int = 3) -> Any:
    """A reply parsed by hiredis (maps as dicts, sets as lists, errors as ReplyError), bypassing
    redis-py's per-command reply callbacks, which do not understand every Redis 7 reply."""
    reader = hiredis.Reader()
    reader.feed(Wire(port, proto).call(*args))
    return reader.gets()


def parsed_or_error(port: int, *args: str, proto: int = 3) -> Any:
    reply = parsed(port, *args, proto=proto)
    return f"error: {reply}" if isinstance(reply, hiredis.ReplyError) else reply


def payload(reply: bytes) -> bytes:
    """The content of a bulk or verbatim string reply."""
    header, _, rest = reply.partition(b"\r\n")
    assert header[:1] in (b"$", b"="), reply[:40]
    body = rest[: int(header[1:])]
    return body[4:] if header[:1] == b"=" else body


def headers(text: bytes) -> list[str]:
    return [line[2:] for line in text.decode().split("\r\n") if line.startswith("# ")]


def fields(text: bytes, section: str) -> list[str]:
    """Field names of one INFO section, in order."""
    out: list[str] = []
    current = None
    for line in text.decode().split("\r\n"):
        if line.startswith("# "):
            current = line[2:]
        elif line and current == section:
            out.append(line.split(":", 1)[0])
    return out


def outcome(client: redis.Redis, *args: Any) -> Any:
    """The reply, or the error's text: for comparing commands that may fail."""
    try:
        return client.execute_command(*args)
    except redis.ResponseError as e:
        return ("error", str(e))


def error_of(client: redis.Redis, *args: Any) -> str:
    with pytest.raises(redis.ResponseError) as e:
        client.execute_command(*args)
    return str(e.value)


# -- INFO --------------------------------------------------------------------------------

INFO_ARGS = [
    (),
    ("default",),
    ("all",),
    ("everything",),
    ("server", "clients"),
    ("CPU", "Cluster"),
    ("keyspace", "cluster", "modules"),
    ("default", "commandstats"),
    ("cluster", "cluster"),
    ("nosuch",),
]


@pytest.mark.parametrize("args", INFO_ARGS, ids=lambda a: "-".join(a) or "none")
def test_info_prints_redis_sections_in_redis_order(
    cacheflow: ServerProcess, real_redis: ServerProcess, args: tuple[str, ...]
) -> None:
    ours = Wire(cacheflow.port).call("INFO", *args)
    theirs = Wire(real_redis.port).call("INFO", *args)
    # Latency percentiles are not tracked by CacheFlow, so it has no Latencystats section.
    assert headers(payload(ours)) == [h for h in headers(payload(theirs)) if h != "Latencystats"]


@pytest.mark.parametrize("port_of", ["cacheflow", "real_redis"])
def test_info_layout_is_crlf_lines_and_blank_line_between_sections(
    request: pytest.FixtureRequest, port_of: str
) -> None:
    server: ServerProcess = request.getfixturevalue(port_of)
    text = payload(Wire(server.port).call("INFO", "everything"))
    assert text.endswith(b"\r\n") and not text.endswith(b"\r\n\r\n")
    assert b"\n" not in text.replace(b"\r\n", b"")
    for block in text[:-2].split(b"\r\n\r\n"):
        first, *lines = block.split(b"\r\n")
        assert re.fullmatch(rb"# [A-Z][A-Za-z]+", first), first
        for line in lines:
            assert re.fullmatch(rb"[A-Za-z0-9_|-]+:[^\r\n]*", line), line


@pytest.mark.parametrize("section", ["Clients", "Persistence", "Replication", "CPU", "Cluster"])
def test_info_section_fields_are_redis_fields_in_redis_order(
    cacheflow: ServerProcess, real_redis: ServerProcess, section: str
) -> None:
    ours = payload(Wire(cacheflow.port).call("INFO", section))
    theirs = payload(Wire(real_redis.port).call("INFO", section))
    assert fields(ours, section) == fields(theirs, section)


def test_info_server_section(r: redis.Redis, cacheflow: ServerProcess) -> None:
    server = r.info("server")
    assert server["redis_version"] == REDIS_COMPAT_VERSION == "7.0.15"
    assert server["cacheflow_version"]
    assert server["redis_mode"] == "standalone"
    assert server["arch_bits"] == 64
    assert cacheflow.proc is not None and server["process_id"] == cacheflow.proc.pid
    assert server["tcp_port"] == cacheflow.port
    assert server["uptime_in_seconds"] >= 0
    assert len(server["run_id"]) == 40


def test_info_other_sections_carry_the_expected_values(r: redis.Redis) -> None:
    assert r.info("replication")["role"] == "master"
    assert r.info("replication")["connected_slaves"] == 0
    assert len(r.info("replication")["master_replid"]) == 40
    persistence = r.info("persistence")
    assert (persistence["loading"], persistence["aof_enabled"]) == (0, 0)
    assert r.info("cluster") == {"cluster_enabled": 0}
    cpu = r.info("cpu")
    assert cpu["used_cpu_user"] >= 0 and cpu["used_cpu_sys"] >= 0
    clients = r.info("clients")
    assert clients["connected_clients"] >= 1 and clients["maxclients"] == 10000


def test_info_is_a_verbatim_string_in_resp3(cacheflow: ServerProcess) -> None:
    reply = Wire(cacheflow.port, proto=3).call("INFO", "cluster")
    assert reply == b"=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n"


def test_rdb_changes_count_writes(r: redis.Redis) -> None:
    before = r.info("persistence")["rdb_changes_since_last_save"]
    r.set("a", "1")
    r.set("b", "2")
    r.delete("a")
    assert r.info("persistence")["rdb_changes_since_last_save"] == before + 3


def test_keyspace_section(r: redis.Redis) -> None:
    assert r.info("keyspace") == {}
    r.set("plain", "x")
    r.set("volatile", "y", ex=100)
    r.execute_command("SELECT", 3)
    r.set("other", "z")
    r.execute_command("SELECT", 0)
    info = r.info("keyspace")
    assert info["db0"]["keys"] == 2 and info["db0"]["expires"] == 1
    assert 0 < info["db0"]["avg_ttl"] <= 100_000
    assert info["db3"] == {"keys": 1, "expires": 0, "avg_ttl": 0}
    r.execute_command("SELECT", 3)
    r.flushdb()
    r.execute_command("SELECT", 0)


def test_commandstats_and_errorstats(r: redis.Redis, cacheflow: ServerProcess) -> None:
    r.config_resetstat()
    r.config_get("maxmemory")
    r.config_get("maxmemory")
    error_of(r, "CONFIG", "SET", "maxmemory", "abc")
    error_of(r, "GET")  # wrong arity: rejected, not failed
    error_of(r, "NOSUCHCOMMAND")
    text = payload(Wire(cacheflow.port).call("INFO", "commandstats", "errorstats")).decode()
    stats = dict(re.findall(r"^cmdstat_(\S+?):(.*?)\r$", text, re.M))
    assert re.fullmatch(
        r"calls=2,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0", stats["config|get"]
    )
    assert re.fullmatch(
        r"calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=1", stats["config|set"]
    )
    assert re.fullmatch(r"calls=0,usec=0,usec_per_call=0\.00,rejected_calls=1,failed_calls=0", stats["get"])
    assert "errorstat_ERR:count=3" in text.split("\r\n")
    r.config_resetstat()
    text = payload(Wire(cacheflow.port).call("INFO", "commandstats", "errorstats")).decode()
    assert "cmdstat_config|get" not in text and "errorstat_" not in text


def test_commandstats_lines_look_like_redis(
    r: redis.Redis, rr: redis.Redis, cacheflow: ServerProcess, real_redis: ServerProcess
) -> None:
    for client in (r, rr):
        client.config_resetstat()
        client.config_get("port")
        client.set("k", "v")
    for server in (cacheflow, real_redis):
        text = payload(Wire(server.port).call("INFO", "commandstats")).decode()
        lines = [line for line in text.split("\r\n")[1:] if line]
        names = {line.split(":", 1)[0] for line in lines}
        assert {"cmdstat_config|get", "cmdstat_set"} <= names
        for line in lines:
            assert re.fullmatch(
                r"cmdstat_[a-z|-]+:calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=\d+,failed_calls=\d+", line
            ), line


# -- CONFIG --------------------------------------------------------------------------------


def test_config_get_several_patterns_and_resp3_map(cacheflow: ServerProcess) -> None:
    w = Wire(cacheflow.port, proto=3)
    assert w.call("CONFIG", "GET", "maxmemory", "MAXMEMORY", "maxmemory-polic?") == (
        b"%2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n"
    )
    assert w.call("CONFIG", "GET", "nosuch") == b"%0\r\n"
    assert Wire(cacheflow.port).call("CONFIG", "GET", "PORT") == b"*2\r\n$4\r\nPORT\r\n$%d\r\n%d\r\n" % (
        len(str(cacheflow.port)),
        cacheflow.port,
    )


def test_config_get_matches_redis_names(r: redis.Redis, rr: redis.Redis) -> None:
    """Every parameter CacheFlow knows answers under Redis's name, with a value of Redis's shape."""
    ours = r.config_get("*")
    theirs = rr.config_get("*")
    assert set(ours) - set(theirs) == {"cacheflow-text-protocol"}
    for name in ("maxmemory", "hz", "databases", "appendonly", "slave-read-only", "maxmemory-policy", "timeout"):
        assert ours[name] == theirs[name], name


SAME_VALUE_SETS = [
    ("save", "900 1 300 10", ""),
    ("client-output-buffer-limit", "normal 1mb 2mb 3 replica 300mb 100mb 10", "normal 0 0 0 replica 256mb 64mb 60"),
    ("maxmemory", "10mb", "0"),
    ("hz", "1000", "10"),
    ("hz", "0", "10"),
    ("notify-keyspace-events", "KEA", ""),
    ("loglevel", "VERBOSE", "notice"),
]


@pytest.mark.parametrize(("name", "value", "restore"), SAME_VALUE_SETS, ids=[s[0] for s in SAME_VALUE_SETS])
def test_config_set_then_get_reads_back_like_redis(
    r: redis.Redis, rr: redis.Redis, name: str, value: str, restore: str
) -> None:
    try:
        assert r.config_set(name, value) is True
        assert rr.config_set(name, value) is True
        assert r.config_get(name) == rr.config_get(name)
    finally:
        r.config_set(name, restore)
        rr.config_set(name, restore)


CONFIG_ERRORS = [
    ("CONFIG", "SET", "FOO", "bar"),
    ("CONFIG", "SET", "foo", "bar", "daemonize", "yes"),
    ("CONFIG", "SET", "daemonize", "yes", "foo", "bar"),
    ("CONFIG", "SET", "maxmemory", "abc", "foo", "bar"),
    ("CONFIG", "SET", "MAXMEMORY", "abc"),
    ("CONFIG", "SET", "hz", "5", "HZ", "6"),
    ("CONFIG", "SET", "hz", "abc", "hz", "5"),
    ("CONFIG", "SET", "maxmemory", "1", "hz"),
    ("CONFIG", "SET", "dir", "/tmp"),
    ("CONFIG", "SET", "dbfilename", "x.rdb"),
    ("CONFIG", "SET", "port", "99999"),
    ("CONFIG", "SET", "timeout", "1.5"),
    ("CONFIG", "SET", "maxmemory-samples", "0"),
    ("CONFIG", "SET", "loglevel", "foo"),
    ("CONFIG", "SET", "appendonly", "maybe"),
    ("CONFIG", "SET", "save", "10"),
    ("CONFIG", "SET", "save", "0 1"),
    ("CONFIG", "SET", "client-output-buffer-limit", "normal 1 2"),
    ("CONFIG", "SET", "client-output-buffer-limit", "foo 1 2 3"),
    ("CONFIG", "SET", "notify-keyspace-events", "foo"),
    ("CONFIG", "SET", "slave-read-only", "maybe"),
    ("CONFIG", "SET", "maxclients", "0"),
    ("CONFIG", "SET", "enable-debug-command", "no"),
    ("CONFIG", "SET", "port"),
    ("CONFIG", "GET"),
    ("CONFIG", "RESETSTAT", "x"),
    ("CONFIG", "HELP", "x"),
    ("CONFIG", "FOO"),
    ("CONFIG",),
]


@pytest.mark.parametrize("args", CONFIG_ERRORS, ids=" ".join)
def test_config_errors_match_redis(r: redis.Redis, rr: redis.Redis, args: tuple[str, ...]) -> None:
    assert error_of(r, *args) == error_of(rr, *args)


def test_config_help_matches_redis(r: redis.Redis, rr: redis.Redis) -> None:
    assert r.execute_command("CONFIG", "HELP") == rr.execute_command("CONFIG", "HELP")


def test_config_set_is_all_or_nothing(r: redis.Redis) -> None:
    error_of(r, "CONFIG", "SET", "maxmemory", "10mb", "hz", "abc")
    assert r.config_get("maxmemory") == {"maxmemory": "0"}
    try:
        assert r.execute_command("CONFIG", "SET", "maxmemory", "10mb", "hz", "20") == b"OK"
        assert r.config_get("maxmemory", "hz") == {"maxmemory": "10485760", "hz": "20"}
    finally:
        r.config_set("maxmemory", "0")
        r.config_set("hz", "10")


def test_config_set_port_moves_the_listener_and_rolls_back_when_busy() -> None:
    with cacheflow_server() as server:
        client = server.client()
        busy = socket.socket()
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        try:
            message = error_of(client, "CONFIG", "SET", "port", busy.getsockname()[1])
            assert message == (
                "CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs."
            )
        finally:
            busy.close()
        assert client.config_get("port") == {"port": str(server.port)}
        assert wait_until(lambda: redis.Redis(port=server.port).ping(), message="old port restored")
        new_port = free_port()
        assert client.config_set("port", new_port) is True
        assert wait_until(lambda: redis.Redis(port=new_port, socket_timeout=5).ping(), message="new port")
        assert "Failed applying new configuration" in server.log()
        unreachable = "127.0.0.1 192.0.2.1"  # TEST-NET-1: not an address of this machine
        assert error_of(client, "CONFIG", "SET", "bind", unreachable) == (
            "CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses."
        )
        assert client.config_get("bind") == {"bind": "127.0.0.1"}
        assert wait_until(lambda: redis.Redis(port=new_port, socket_timeout=5).ping(), message="old bind restored")


def test_config_rewrite_without_file_is_refused_like_redis(r: redis.Redis, rr: redis.Redis) -> None:
    assert error_of(r, "CONFIG", "REWRITE") == error_of(rr, "CONFIG", "REWRITE")
    assert error_of(r, "CONFIG", "REWRITE") == "The server is running without a config file"


def test_config_rewrite_persists_across_a_restart(tmp_path: Path) -> None:
    conf = tmp_path / "cacheflow.conf"
    conf.write_text(f"# kept comment\nmaxmemory 100mb\nsave 900 1\nsave 300 10\ntimeout 0\ndir {tmp_path}\n")
    port = free_port()
    with cacheflow_server(config_file=str(conf), port=port) as server:
        client = server.client()
        assert client.info("server")["config_file"] == str(conf)
        client.config_set("maxmemory", "200mb")
        client.config_set("timeout", "7")
        client.config_set("client-output-buffer-limit", "pubsub 64mb 16mb 90")
        client.config_set("requirepass", 'a "quoted" pass')
        assert client.config_rewrite()
    text = conf.read_text()
    assert text.startswith(f'# kept comment\nmaxmemory 200mb\nsave 900 1\nsave 300 10\ntimeout 7\ndir "{tmp_path}"\n')
    assert "client-output-buffer-limit pubsub 64mb 16mb 90\n" in text
    assert 'requirepass "a \\"quoted\\" pass"\n' in text
    assert "# Generated by CONFIG REWRITE\n" in text
    with cacheflow_server(config_file=str(conf), port=port) as server:
        client = server.client(password='a "quoted" pass')
        got = client.config_get("maxmemory", "timeout", "save", "client-output-buffer-limit")
        assert got == {
            "maxmemory": str(200 * 1024**2),
            "timeout": "7",
            "save": "900 1 300 10",
            "client-output-buffer-limit": "normal 0 0 0 slave 268435456 67108864 60 pubsub 67108864 16777216 90",
        }


def test_config_file_and_command_line_overrides(tmp_path: Path) -> None:
    conf = tmp_path / "cacheflow.conf"
    conf.write_text("maxmemory 1mb\nhz 20\n")
    with cacheflow_server("--hz", "30", "--save", "60", "5", config_file=str(conf)) as server:
        got = server.client().config_get("maxmemory", "hz", "save")
        assert got == {"maxmemory": "1048576", "hz": "30", "save": "60 5"}


BAD_FILES = [
    "port 7390\nmaxmemory abc\n",
    "foo bar\n",
    "port 1 2\n",
    'port "abc\n',
    "save 10\n",
    "loglevel nothing\n",
    "client-output-buffer-limit normal 1 2\n",
]


@pytest.mark.parametrize("text", BAD_FILES, ids=lambda t: t.splitlines()[-1])
def test_bad_config_file_is_fatal_exactly_like_redis(tmp_path: Path, text: str) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text(text)
    ours = subprocess.run(
        [sys.executable, "-m", "cacheflow.server.main", str(conf)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    theirs = subprocess.run(["redis-server", str(conf)], capture_output=True, text=True, timeout=60)
    assert ours.returncode == theirs.returncode == 1
    assert "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***" in ours.stderr
    assert ours.stderr == theirs.stderr


def test_bad_command_line_option_is_fatal_like_redis() -> None:
    args = ["--port", str(free_port()), "--maxmemory", "abc"]
    ours = subprocess.run(
        [sys.executable, "-m", "cacheflow.server.main", *args], capture_output=True, text=True, timeout=60
    )
    theirs = subprocess.run(["redis-server", *args], capture_output=True, text=True, timeout=60)
    assert ours.returncode == theirs.returncode == 1
    assert ours.stderr == theirs.stderr


def test_missing_config_file_is_fatal() -> None:
    ours = subprocess.run(
        [sys.executable, "-m", "cacheflow.server.main", "/nonexistent/cacheflow.conf"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ours.returncode == 1
    line = ours.stdout.strip()
    assert LOG_LINE.match(line), line
    assert line.endswith("Fatal error, can't open config file '/nonexistent/cacheflow.conf': No such file or directory")


# -- COMMAND -------------------------------------------------------------------------------


def command_entries(port: int) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}

    def walk(entry: list[Any]) -> None:
        out[entry[0].decode()] = entry
        for sub in entry[9]:
            walk(sub)

    for entry in parsed(port, "COMMAND"):
        walk(entry)
    return out


@pytest.fixture(scope="module")
def infos(cacheflow: ServerProcess, real_redis: ServerProcess) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    return command_entries(cacheflow.port), command_entries(real_redis.port)


# Commands whose real key specs are not the single default one and whose family has not
# declared them yet (skipped by the key-spec comparisons until it does; lists and sorted
# sets were the last, and have).
AWAITING_KEY_SPECS: set[str] = set()


# Arities of Redis 7.2, whose extra options CacheFlow implements (ZRANK/ZREVRANK ... WITHSCORE).
NEWER_ARITY = {"zrank", "zrevrank"}


def key_specs(entry: list[Any]) -> list[dict[str, Any]]:
    """The key specs of a parsed COMMAND INFO entry, flags as a sorted list (they form a set)."""
    return [{k.decode(): sorted(v) if k == b"flags" else v for k, v in spec.items()} for spec in entry[8]]


def test_command_count_and_list_agree_with_the_table(cacheflow: ServerProcess) -> None:
    entries = parsed(cacheflow.port, "COMMAND")
    assert parsed(cacheflow.port, "COMMAND", "COUNT") == len(entries)
    assert parsed(cacheflow.port, "COMMAND", "INFO") == entries
    names = {n.decode() for n in parsed(cacheflow.port, "COMMAND", "LIST")}
    assert names == set(command_entries(cacheflow.port))
    assert len(names) > len(entries)  # subcommands are listed too


def test_command_info_matches_redis_for_every_shared_command(
    infos: tuple[dict[str, list[Any]], dict[str, list[Any]]],
) -> None:
    ours, theirs = infos
    shared = sorted(set(ours) & set(theirs))
    assert len(shared) > 60
    for name in shared:
        o, t = ours[name], theirs[name]
        assert o[1] == t[1] or name in NEWER_ARITY, (name, "arity")
        assert set(o[2]) == set(t[2]), (name, "flags")
        assert o[3:6] == t[3:6], (name, "first/last/step")
        assert set(o[6]) == set(t[6]), (name, "ACL categories")
        assert {s[0] for s in o[9]} <= {s[0] for s in t[9]} | {b"client|setinfo", b"client|no-touch"}, name
        assert o[7] == t[7], (name, "tips")  # in Redis's declaration order
        if name not in AWAITING_KEY_SPECS:
            assert key_specs(o) == key_specs(t), (name, "key specs")


def test_awaiting_key_specs_only_names_commands_that_still_differ(
    infos: tuple[dict[str, list[Any]], dict[str, list[Any]]],
) -> None:
    """Once a family declares its specs, its names must leave AWAITING_KEY_SPECS so they are compared."""
    ours, theirs = infos
    settled = {name for name in AWAITING_KEY_SPECS if name in ours and key_specs(ours[name]) == key_specs(theirs[name])}
    assert not settled


def test_key_spec_comparison_covers_multi_spec_keynum_and_notes(
    infos: tuple[dict[str, list[Any]], dict[str, list[Any]]],
) -> None:
    ours, theirs = infos
    compared = set(ours) & set(theirs) - AWAITING_KEY_SPECS
    assert {"rename", "renamenx", "copy", "smove", "sinterstore", "bitop", "pfmerge"} <= {
        n for n in compared if len(theirs[n][8]) > 1
    }
    assert key_specs(ours["sintercard"])[0]["find_keys"][b"type"] == b"keynum"
    assert {"set", "getex", "pfcount", "bitfield"} <= {n for n in compared if b"notes" in (theirs[n][8] or [{}])[0]}
    assert [n for n in compared if b"movablekeys" in ours[n][2]] == [
        n for n in compared if b"movablekeys" in theirs[n][2]
    ]


def to_key_spec(raw: dict[bytes, Any]) -> KeySpec:
    """A key spec of the real server's COMMAND INFO as a declaration."""
    begin, find = raw[b"begin_search"], raw[b"find_keys"]
    b_spec, f_spec = begin[b"spec"], find[b"spec"]
    fields: dict[str, Any] = {
        "flags": tuple(f.decode() for f in raw[b"flags"]),
        "notes": raw.get(b"notes", b"").decode(),
        "begin": begin[b"type"].decode(),
        "find": find[b"type"].decode(),
    }
    if fields["begin"] == "index":
        fields["index"] = b_spec[b"index"]
    elif fields["begin"] == "keyword":
        fields.update(keyword=b_spec[b"keyword"].decode(), startfrom=b_spec[b"startfrom"])
    if fields["find"] == "range":
        fields.update(lastkey=f_spec[b"lastkey"], keystep=f_spec[b"keystep"], limit=f_spec[b"limit"])
    elif fields["find"] == "keynum":
        fields.update(keynumidx=f_spec[b"keynumidx"], firstkey=f_spec[b"firstkey"], keystep=f_spec[b"keystep"])
    return KeySpec(**fields)


def test_legacy_key_range_is_derived_from_key_specs_as_redis_does(
    infos: tuple[dict[str, list[Any]], dict[str, list[Any]]],
) -> None:
    """Every real command's (first, last, step) follows from its specs by ``legacy_range``; so do ours."""
    ours, theirs = infos
    for entries in (theirs, ours):
        for name, entry in entries.items():
            if name in AWAITING_KEY_SPECS and entries is ours:
                continue
            specs = tuple(to_key_spec(s) for s in entry[8])
            assert list(legacy_range(specs)) == entry[3:6], name


def test_command_info_wire_format_matches_redis(cacheflow: ServerProcess, real_redis: ServerProcess) -> None:
    names = (
        "memory|usage",
        "lastsave",
        "config|set",
        "info",
        "nosuch",
        "rename",
        "set",
        "sintercard",
        "bitop",
        "pfcount",
    )
    for proto in (2, 3):
        for name in names:
            ours = Wire(cacheflow.port, proto).call("COMMAND", "INFO", name)
            theirs = Wire(real_redis.port, proto).call("COMMAND", "INFO", name)
            assert ours == theirs, (proto, name)


def normalized(args: list[dict[bytes, Any]]) -> list[dict[str, Any]]:
    """COMMAND DOCS arguments in a form where Redis's hand-picked names and one-child blocks don't matter."""
    out: list[dict[str, Any]] = []
    for raw in args:
        a = {k.decode(): v for k, v in raw.items()}
        kind = a["type"].decode()
        flags = frozenset(f.decode() for f in a.get("flags", []))
        kids = normalized(a.get("arguments", []))
        token = a.get("token")
        if kind == "block" and len(kids) == 1 and (kids[0]["token"] is None or token is None):
            kid = kids[0]
            out.append(dict(kid, token=kid["token"] or token, flags=kid["flags"] | flags))
            continue
        name = None if kind in ("block", "oneof") else a["name"].decode()
        out.append({"name": name, "type": kind, "token": token, "flags": flags, "args": kids})
    return out


def all_docs(port: int) -> dict[str, dict[bytes, Any]]:
    out: dict[str, dict[bytes, Any]] = {}
    for name, doc in parsed(port, "COMMAND", "DOCS").items():
        out[name.decode()] = doc
        for sub, sub_doc in doc.get(b"subcommands", {}).items():
            out[sub.decode()] = sub_doc
    return out


# Differences on purpose: CacheFlow documents CLIENT KILL's MAXAGE (Redis 7.4), ZRANK's and
# ZREVRANK's WITHSCORE (Redis 7.2) and, like Redis 7.2, the arguments of COMMAND
# GETKEYS/GETKEYSANDFLAGS and DEBUG.
DOCS_ARGUMENTS_DIFFER = {"client|kill", "command|getkeys", "command|getkeysandflags", "debug", "zrank", "zrevrank"}


def test_command_docs_match_redis(cacheflow: ServerProcess, real_redis: ServerProcess) -> None:
    ours = all_docs(cacheflow.port)
    theirs = all_docs(real_redis.port)
    shared = sorted(set(ours) & set(theirs))
    for name in shared:
        o, t = ours[name], theirs[name]
        assert (o[b"group"], o[b"since"]) == (t[b"group"], t[b"since"]), name
        if name not in DOCS_ARGUMENTS_DIFFER:  # every command's syntax string must describe Redis's arguments
            assert normalized(o.get(b"arguments", [])) == normalized(t.get(b"arguments", [])), name
        if name.split("|")[0] not in MY_FAMILIES:
            continue
        assert (o[b"summary"], o[b"complexity"]) == (t[b"summary"], t[b"complexity"]), name
        assert set(o.get(b"subcommands", {})) <= set(t.get(b"subcommands", {})) | {
            b"client|setinfo",
            b"client|no-touch",
        }


def key_spec_indexes(args: list[dict[bytes, Any]]) -> list[tuple[str, int]]:
    """(name, key_spec_index) of every argument that has one, depth first."""
    out: list[tuple[str, int]] = []
    for arg in args:
        if b"key_spec_index" in arg:
            out.append((arg[b"type"].decode(), arg[b"key_spec_index"]))
        out += key_spec_indexes(arg.get(b"arguments", []))
    return out


def test_command_docs_key_spec_indexes_match_redis(cacheflow: ServerProcess, real_redis: ServerProcess) -> None:
    ours = all_docs(cacheflow.port)
    theirs = all_docs(real_redis.port)
    shared = sorted(set(ours) & set(theirs) - AWAITING_KEY_SPECS - DOCS_ARGUMENTS_DIFFER)
    multi = set()
    for name in shared:
        o = key_spec_indexes(ours[name].get(b"arguments", []))
        t = key_spec_indexes(theirs[name].get(b"arguments", []))
        assert o == t, name
        if len({i for _, i in t}) > 1:
            multi.add(name)
    assert {"rename", "smove", "copy", "bitop", "sinterstore", "pfmerge"} <= multi
    assert key_spec_indexes(ours["lcs"][b"arguments"]) == [("key", 0), ("key", 0)]


def test_command_docs_wire_format_matches_redis(cacheflow: ServerProcess, real_redis: ServerProcess) -> None:
    """Byte for byte, once the names Redis picks by hand for one-ofs and per-argument ``since`` are masked."""

    def masked(reply: bytes, names: bytes) -> bytes:
        reply = re.sub(rb"\$5\r\nsince\r\n\$\d+\r\n[0-9.]+\r\n(?=\$5\r\nflags)", b"", reply)
        return re.sub(rb"\$\d+\r\n(?:" + names + rb")\r\n", b"$1\r\nX\r\n", reply)

    for proto in (2, 3):
        for name in ("memory|usage", "command|list", "command|count", "nosuch", "rename", "sintercard"):
            ours = Wire(cacheflow.port, proto).call("COMMAND", "DOCS", name)
            theirs = Wire(real_redis.port, proto).call("COMMAND", "DOCS", name)
            assert masked(ours, rb"module-name_category_pattern") == masked(theirs, rb"filterby"), (proto, name)


GETKEYS = [
    ("get", "a"),
    ("set", "a", "b"),
    ("set", "a", "b", "GET"),
    ("set", "a", "b", "ex", "10", "get"),
    ("mset", "a", "b", "c", "d"),
    ("mset", "a", "b", "c"),
    ("msetnx", "a", "b"),
    ("memory", "usage", "k"),
    ("object", "encoding", "k"),
    ("set", "a"),
    ("nosuch", "a"),
    ("config", "get", "x"),
    ("client", "nosuch"),
    ("config|get", "x"),
    ("get",),
    ("rename", "a", "b"),
    ("renamenx", "a", "b"),
    ("copy", "a", "b", "DB", "1"),
    ("smove", "a", "b", "m"),
    ("del", "a", "b", "c"),
    ("unlink", "a"),
    ("exists", "a", "b"),
    ("sinterstore", "d", "a", "b"),
    ("sunionstore", "d", "a"),
    ("sintercard", "2", "a", "b", "LIMIT", "1"),
    ("sintercard", "3", "a", "b"),
    ("sintercard", "0", "a"),
    ("sintercard", "-1", "a"),
    ("sintercard", "x", "a"),
    ("sintercard", "01", "a"),
    ("bitop", "and", "d", "a", "b"),
    ("bitop", "not", "d", "a"),
    ("bitfield", "k", "get", "u8", "0"),
    ("bitfield", "k", "get", "u8", "0", "overflow", "sat", "get", "i4", "1"),
    ("bitfield", "k", "get", "u8", "0", "set", "u8", "0", "1"),
    ("bitfield", "k", "get", "u8"),
    ("bitfield", "k"),
    ("bitfield_ro", "k", "get", "u8", "0"),
    ("pfcount", "a", "b"),
    ("pfmerge", "d", "a", "b"),
    ("pfmerge", "d"),
    ("getex", "k", "persist"),
    ("hset", "h", "f", "v"),
    ("watch", "a", "b"),
    ("lcs", "a", "b"),
]


@pytest.mark.parametrize("args", GETKEYS, ids=" ".join)
def test_command_getkeys_matches_redis(
    cacheflow: ServerProcess, real_redis: ServerProcess, args: tuple[str, ...]
) -> None:
    for sub in ("GETKEYS", "GETKEYSANDFLAGS"):
        ours = parsed_or_error(cacheflow.port, "COMMAND", sub, *args)
        theirs = parsed_or_error(real_redis.port, "COMMAND", sub, *args)
        assert ours == theirs  # GETKEYSANDFLAGS: flags in Redis's order, as the wire carries them


def test_command_list_filters(cacheflow: ServerProcess, real_redis: ServerProcess) -> None:
    def names(port: int, *args: str) -> set[str]:
        return {n.decode() for n in parsed(port, "COMMAND", "LIST", *args)}

    ours_config = names(cacheflow.port, "FILTERBY", "PATTERN", "CONFIG*")
    assert ours_config == names(real_redis.port, "FILTERBY", "PATTERN", "CONFIG*")
    assert ours_config == {"config", "config|get", "config|set", "config|resetstat", "config|rewrite", "config|help"}
    connection = names(cacheflow.port, "FILTERBY", "ACLCAT", "CONNECTION")
    assert {"ping", "client|list", "command"} <= connection and "get" not in connection
    assert names(cacheflow.port, "FILTERBY", "ACLCAT", "nosuch") == set()
    assert names(cacheflow.port, "FILTERBY", "MODULE", "foo") == set()
    for bad in (("FILTERBY", "foo", "bar"), ("foo",), ("FILTERBY",)):
        args = ("COMMAND", "LIST", *bad)
        assert parsed_or_error(cacheflow.port, *args) == parsed_or_error(real_redis.port, *args)


def test_command_help_and_errors_match_redis(cacheflow: ServerProcess, real_redis: ServerProcess) -> None:
    for args in (("COMMAND", "HELP"), ("COMMAND", "FOO"), ("COMMAND", "COUNT", "x"), ("COMMAND", "GETKEYS", "get")):
        assert parsed_or_error(cacheflow.port, *args) == parsed_or_error(real_redis.port, *args)


# -- CLIENT --------------------------------------------------------------------------------

REDIS_70_CLIENT_FIELDS = (
    "id addr laddr fd name age idle flags db sub psub ssub multi qbuf qbuf-free argv-mem multi-mem "
    "rbs rbp obl oll omem tot-mem events cmd user redir resp"
).split()


def line_fields(line: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in line.split(" "))


def test_client_list_fields_are_redis_70_fields_in_order(wire: Wire, real_redis: ServerProcess) -> None:
    ours = payload(wire.call("CLIENT", "LIST")).decode()
    theirs = payload(Wire(real_redis.port).call("CLIENT", "LIST")).decode()
    assert ours.endswith("\n") and theirs.endswith("\n")
    for line in ours.splitlines():
        names = [part.split("=", 1)[0] for part in line.split(" ")]
        assert names[: len(REDIS_70_CLIENT_FIELDS)] == REDIS_70_CLIENT_FIELDS
        assert names[len(REDIS_70_CLIENT_FIELDS) :] == ["lib-name", "lib-ver"]  # Redis 7.2's additions
    for line in theirs.splitlines():
        assert [part.split("=", 1)[0] for part in line.split(" ")] == REDIS_70_CLIENT_FIELDS


def test_client_info_describes_the_caller(cacheflow: ServerProcess) -> None:
    w = Wire(cacheflow.port)
    assert w.call("CLIENT", "SETNAME", "probe") == b"+OK\r\n"
    my_id = int(w.call("CLIENT", "ID")[1:-2])
    w.call("SELECT", "2")
    info = line_fields(payload(w.call("CLIENT", "INFO")).decode().rstrip("\n"))
    assert info["id"] == str(my_id)
    assert info["name"] == "probe"
    assert info["db"] == "2"
    assert info["cmd"] == "client|info"
    assert info["flags"] == "N"
    assert info["resp"] == "2"
    assert info["multi"] == "-1"
    assert info["laddr"] == f"127.0.0.1:{cacheflow.port}"
    w.call("MULTI")
    w.call("PING")
    w.call("CLIENT", "NO-EVICT", "on")
    w.call("EXEC")
    assert line_fields(payload(w.call("CLIENT", "INFO")).decode().rstrip("\n"))["flags"] == "e"
    resp3 = Wire(cacheflow.port, proto=3).call("CLIENT", "INFO")
    assert resp3.startswith(b"=") and b"\r\ntxt:id=" in resp3 and b" resp=3 " in resp3


def test_client_list_filters(cacheflow: ServerProcess) -> None:
    a, b = Wire(cacheflow.port), Wire(cacheflow.port)
    a_id = int(a.call("CLIENT", "ID")[1:-2])
    b_id = int(b.call("CLIENT", "ID")[1:-2])
    listed = payload(a.call("CLIENT", "LIST", "ID", str(b_id), "999999", str(a_id))).decode().splitlines()
    assert [line_fields(x)["id"] for x in listed] == [str(b_id), str(a_id)]
    normal = payload(a.call("CLIENT", "LIST", "TYPE", "normal")).decode().splitlines()
    assert {str(a_id), str(b_id)} <= {line_fields(x)["id"] for x in normal}
    assert payload(a.call("CLIENT", "LIST", "TYPE", "pubsub")) == b""
    assert line_fields(payload(a.call("CLIENT", "LIST", "ID", str(b_id))).decode().strip())["cmd"] == "client|id"
    b.call("MULTI")
    b.call("SET", "k", "v")
    queued = line_fields(payload(a.call("CLIENT", "LIST", "ID", str(b_id))).decode().strip())
    assert (queued["cmd"], queued["flags"], queued["multi"]) == ("set", "x", "1")  # as Redis: the queued command


CLIENT_ERRORS = [
    ("CLIENT", "SETNAME", "a b"),
    ("CLIENT", "NO-EVICT", "maybe"),
    ("CLIENT", "REPLY", "foo"),
    ("CLIENT", "PAUSE", "abc"),
    ("CLIENT", "PAUSE", "-1"),
    ("CLIENT", "PAUSE", "10", "foo"),
    ("CLIENT", "PAUSE", "10", "write", "x"),
    ("CLIENT", "KILL", "1.2.3.4:5"),
    ("CLIENT", "KILL", "ID", "abc"),
    ("CLIENT", "KILL", "foo", "bar"),
    ("CLIENT", "KILL", "TYPE", "foo"),
    ("CLIENT", "KILL", "SKIPME", "maybe"),
    ("CLIENT", "KILL", "ADDR", "1.1.1.1:1", "ID"),
    ("CLIENT", "KILL", "USER", "nobody"),
    ("CLIENT", "KILL"),
    ("CLIENT", "LIST", "TYPE", "foo"),
    ("CLIENT", "LIST", "ID", "1", "abc"),
    ("CLIENT", "LIST", "ID"),
    ("CLIENT", "LIST", "foo"),
    ("CLIENT", "LIST", "TYPE", "normal", "x"),
    ("CLIENT", "ID", "x"),
    ("CLIENT", "FOO"),
]


@pytest.mark.parametrize("args", CLIENT_ERRORS, ids=" ".join)
def test_client_errors_match_redis(r: redis.Redis, rr: redis.Redis, args: tuple[str, ...]) -> None:
    assert error_of(r, *args) == error_of(rr, *args)


def test_client_kill_filters_and_counts(cacheflow: ServerProcess) -> None:
    killer, victim = Wire(cacheflow.port), Wire(cacheflow.port)
    victim_id = victim.call("CLIENT", "ID")[1:-2].decode()
    assert killer.call("CLIENT", "KILL", "ID", "999999") == b":0\r\n"
    assert killer.call("CLIENT", "KILL", "ID", victim_id, "SKIPME", "yes") == b":1\r\n"
    assert victim.closed_by_peer()
    assert killer.call("PING") == b"+PONG\r\n"


def test_client_kill_old_form_by_address(cacheflow: ServerProcess) -> None:
    killer, victim = Wire(cacheflow.port), Wire(cacheflow.port)
    addr = line_fields(payload(victim.call("CLIENT", "INFO")).decode().strip())["addr"]
    assert killer.call("CLIENT", "KILL", addr) == b"+OK\r\n"
    assert victim.closed_by_peer()


def test_client_kill_of_oneself_replies_then_closes(cacheflow: ServerProcess) -> None:
    w = Wire(cacheflow.port)
    my_id = w.call("CLIENT", "ID")[1:-2].decode()
    assert w.call("CLIENT", "KILL", "ID", my_id) == b":0\r\n"  # SKIPME defaults to yes
    assert w.call("CLIENT", "KILL", "ID", my_id, "SKIPME", "no") == b":1\r\n"
    assert w.closed_by_peer()


def test_client_reply_modes_send_the_same_bytes_as_redis(cacheflow: ServerProcess, real_redis: ServerProcess) -> None:
    script = [
        ("CLIENT", "REPLY", "SKIP"),
        ("SET", "reply-k", "1"),
        ("PING", "after-skip"),
        ("CLIENT", "REPLY", "OFF"),
        ("SET", "reply-k", "2"),
        ("GET", "reply-k"),
        ("CLIENT", "REPLY", "ON"),
        ("GET", "reply-k"),
    ]

    def run(port: int) -> bytes:
        w = Wire(port)
        for args in script:
            w.send(*args)
        w.send("PING", "end")
        out = b""
        while not out.endswith(b"$3\r\nend\r\n"):
            chunk = w.sock.recv(1 << 16)
            assert chunk
            out += chunk
        return out

    ours = run(cacheflow.port)
    assert ours == run(real_redis.port)
    assert ours == b"$10\r\nafter-skip\r\n+OK\r\n$1\r\n2\r\n$3\r\nend\r\n"


def test_client_pause_write_holds_writes_but_not_reads(cacheflow: ServerProcess) -> None:
    admin, writer = Wire(cacheflow.port), Wire(cacheflow.port)
    admin.call("DEL", "paused-k")
    assert admin.call("CLIENT", "PAUSE", "100000", "WRITE") == b"+OK\r\n"
    try:
        writer.send("SET", "paused-k", "v")
        assert admin.call("GET", "paused-k") == b"$-1\r\n"  # reads run during a WRITE pause
        assert admin.call("PING") == b"+PONG\r\n"
        assert admin.call("GET", "paused-k") == b"$-1\r\n"  # the write is still held
    finally:
        assert admin.call("CLIENT", "UNPAUSE") == b"+OK\r\n"
    assert writer.read_reply() == b"+OK\r\n"
    assert admin.call("GET", "paused-k") == b"$1\r\nv\r\n"


def test_client_pause_all_holds_everyone_until_it_ends(cacheflow: ServerProcess) -> None:
    admin, other = Wire(cacheflow.port), Wire(cacheflow.port)
    assert admin.call("CLIENT", "PAUSE", "300", "ALL") == b"+OK\r\n"
    other.send("PING")
    assert other.read_reply() == b"+PONG\r\n"  # answered once the pause has ended on its own


def test_client_setinfo_names_the_library(cacheflow: ServerProcess) -> None:
    w = Wire(cacheflow.port)
    assert w.call("CLIENT", "SETINFO", "LIB-NAME", "mylib") == b"+OK\r\n"
    assert w.call("CLIENT", "SETINFO", "lib-ver", "1.2") == b"+OK\r\n"
    info = line_fields(payload(w.call("CLIENT", "INFO")).decode().strip())
    assert (info["lib-name"], info["lib-ver"]) == ("mylib", "1.2")
    assert w.call("CLIENT", "SETINFO", "foo", "x") == b"-ERR Unrecognized option 'foo'\r\n"
    assert w.call("CLIENT", "SETINFO", "LIB-NAME", "a b") == (
        b"-ERR LIB-NAME cannot contain spaces, newlines or special characters.\r\n"
    )


def test_client_getname_setname_and_no_touch(r: redis.Redis) -> None:
    assert r.client_getname() is None
    assert r.client_setname("worker-1") is True
    assert r.client_getname() in ("worker-1", b"worker-1")
    assert r.client_setname("") is True
    assert r.client_getname() is None
    assert r.execute_command("CLIENT", "NO-TOUCH", "on") == b"OK"
    assert "T" in r.client_info()["flags"]
    assert r.execute_command("CLIENT", "NO-TOUCH", "off") == b"OK"


def test_client_help_lists_subcommands(r: redis.Redis) -> None:
    lines = [x.decode() if isinstance(x, bytes) else x for x in r.execute_command("CLIENT", "HELP")]
    assert lines[0] == "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert lines[-2:] == ["HELP", "    Prints this help."]
    for sub in ("ID", "LIST [options ...]", "PAUSE <timeout> [WRITE|ALL]", "REPLY (ON|OFF|SKIP)"):
        assert sub in lines


# -- DEBUG, MEMORY, TIME, LASTSAVE -------------------------------------------------------------


def test_debug_is_refused_unless_enabled_with_redis_message() -> None:
    with cacheflow_server() as ours, real_redis_server() as theirs:
        for args in (("DEBUG", "SLEEP", "0"), ("DEBUG", "HELP")):
            assert error_of(ours.client(), *args) == error_of(theirs.client(), *args)
        assert "enable-debug-command" in error_of(ours.client(), "DEBUG", "SLEEP", "0")


def test_debug_local_allows_loopback_clients() -> None:
    with cacheflow_server("--enable-debug-command", "local") as server:
        assert server.client().execute_command("DEBUG", "SLEEP", "0") == b"OK"


DEBUG_SAME = [
    ("DEBUG", "ERROR", "FOO bar"),
    ("DEBUG", "ERROR", "plain"),
    ("DEBUG", "OBJECT", "nosuch"),
    ("DEBUG", "Sleep"),
    ("DEBUG", "nosuch"),
    ("DEBUG", "SET-ACTIVE-EXPIRE"),
    ("DEBUG",),
]


@pytest.mark.parametrize("args", DEBUG_SAME, ids=" ".join)
def test_debug_errors_match_redis(r: redis.Redis, rr: redis.Redis, args: tuple[str, ...]) -> None:
    assert error_of(r, *args) == error_of(rr, *args)


def test_debug_error_is_not_counted_as_an_error(r: redis.Redis, rr: redis.Redis) -> None:
    """Redis writes DEBUG ERROR's reply as raw protocol, past its error accounting."""
    for client in (r, rr):
        client.config_resetstat()
        error_of(client, "DEBUG", "ERROR", "WEIRD thing")
    assert r.info("errorstats") == rr.info("errorstats") == {}
    assert (
        r.info("commandstats")["cmdstat_debug"]["failed_calls"]
        == rr.info("commandstats")["cmdstat_debug"]["failed_calls"]
        == 0
    )


def test_memory_doctor_on_an_empty_instance_matches_redis(wire: Wire, real_redis: ServerProcess) -> None:
    theirs = Wire(real_redis.port)
    try:
        for command in (("FLUSHALL",), ("MEMORY", "DOCTOR")):
            assert wire.call(*command) == theirs.call(*command)
    finally:
        theirs.close()


def test_debug_digest_matches_redis(r: redis.Redis, rr: redis.Redis) -> None:
    for client in (r, rr):
        assert client.execute_command("DEBUG", "DIGEST") == b"0" * 40
        client.set("s", "hello")
        client.set("n", "12345")
        client.set("t", "with ttl", ex=1000)
        client.execute_command("SELECT", 5)
        client.set("s", "other db")
        client.execute_command("SELECT", 0)
    assert r.execute_command("DEBUG", "DIGEST") == rr.execute_command("DEBUG", "DIGEST")
    args = ("DEBUG", "DIGEST-VALUE", "s", "n", "t", "nosuch")
    assert r.execute_command(*args) == rr.execute_command(*args)
    for client in (r, rr):
        client.execute_command("SELECT", 5)
        client.flushdb()
        client.execute_command("SELECT", 0)


def test_debug_object_reports_redis_encodings(r: redis.Redis, rr: redis.Redis) -> None:
    values = {"int": "12345", "small": "100", "short": "hello", "long": "y" * 45, "neg": "-7", "zero-led": "007"}
    for client in (r, rr):
        for k, v in values.items():
            client.set(k, v)
    for k in values:
        ours = dict(p.split(":", 1) for p in r.execute_command("DEBUG", "OBJECT", k).decode().split(" ")[2:])
        theirs = dict(p.split(":", 1) for p in rr.execute_command("DEBUG", "OBJECT", k).decode().split(" ")[2:])
        assert ours["encoding"] == theirs["encoding"], k
        assert ours["refcount"] == theirs["refcount"], k
        assert ours["serializedlength"] == theirs["serializedlength"], k  # "long" is LZF-compressed on both


def test_debug_quicklist_packed_threshold_matches_redis(r: redis.Redis, rr: redis.Redis) -> None:
    """Elements at or above the threshold get PLAIN quicklist nodes: DEBUG OBJECT's node count and
    serialized length show it.  The setting is process-wide, so it is put back on both servers."""
    try:
        for size in ("abc", "-1", "5gb", "4gb", "1k", "0", "100b"):
            assert outcome(r, "DEBUG", "QUICKLIST-PACKED-THRESHOLD", size) == outcome(
                rr, "DEBUG", "QUICKLIST-PACKED-THRESHOLD", size
            ), size
        for client in (r, rr):
            client.rpush("l", "a", "b" * 150, "c", "d" * 99, "e" * 100)
        ours, theirs = (
            dict(p.split(":", 1) for p in c.execute_command("DEBUG", "OBJECT", "l").decode().split(" ")[2:])
            for c in (r, rr)
        )
        for field in ("encoding", "serializedlength", "ql_nodes", "ql_uncompressed_size"):
            assert ours[field] == theirs[field], field
        assert int(ours["ql_nodes"]) == 4  # a, b*150 alone, c d*99, e*100 alone
        assert r.lrange("l", 0, -1) == rr.lrange("l", 0, -1)
    finally:
        for client in (r, rr):
            client.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0")


def test_debug_set_active_expire_stops_and_restarts_the_expire_cycle(r: redis.Redis) -> None:
    assert r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0") == b"OK"
    try:
        r.set("short-lived", "x", px=1)
        # Let at least a full second of server crons (10 per second) run after the key expired.
        start = r.info("server")["uptime_in_seconds"]
        wait_until(lambda: r.info("server")["uptime_in_seconds"] >= start + 2, interval=0.05, message="crons")
        assert r.info("keyspace")["db0"]["keys"] == 1  # expired but not collected: nobody touched it
    finally:
        assert r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1") == b"OK"
    wait_until(lambda: "db0" not in r.info("keyspace"), message="the active expire cycle")


def test_debug_sleep_and_help(r: redis.Redis) -> None:
    assert r.execute_command("DEBUG", "SLEEP", "0") == b"OK"
    assert r.execute_command("DEBUG", "SLEEP", "abc") == b"OK"  # strtod: no number means 0, as in Redis
    lines = [x.decode() if isinstance(x, bytes) else x for x in r.execute_command("DEBUG", "HELP")]
    assert lines[0] == "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert "DIGEST-VALUE <key> [<key> ...]" in lines


def test_memory_usage(r: redis.Redis, rr: redis.Redis) -> None:
    r.set("small", "x")
    r.set("big", "x" * 10_000)
    r.set("volatile", "x", ex=100)
    small = r.memory_usage("small")
    assert small is not None and small > len("small") + 1
    assert r.memory_usage("big") >= small + 9_990
    assert r.memory_usage("volatile") > r.memory_usage("small")
    assert r.memory_usage("nosuch") is None
    assert r.execute_command("MEMORY", "USAGE", "big", "SAMPLES", "0") == r.memory_usage("big")
    for args in (("MEMORY", "USAGE", "small", "SAMPLES", "x"), ("MEMORY", "USAGE", "small", "foo"), ("MEMORY", "FOO")):
        rr.set("small", "x")
        assert error_of(r, *args) == error_of(rr, *args)
    assert r.execute_command("MEMORY", "HELP") == rr.execute_command("MEMORY", "HELP")


def test_memory_purge_and_malloc_stats(r: redis.Redis, rr: redis.Redis) -> None:
    """PURGE answers as Redis's; MALLOC-STATS is Redis's text for an allocator without a report."""
    r.set("big", "x" * 10_000_000)
    r.delete("big")
    for client in (r, rr):
        assert client.execute_command("MEMORY", "PURGE") == b"OK"
        for args in (("MEMORY", "PURGE", "extra"), ("MEMORY", "MALLOC-STATS", "extra")):
            assert error_of(client, *args) == "wrong number of arguments for 'memory|" + args[1].lower() + "' command"
    assert rr.execute_command("MEMORY", "MALLOC-STATS")  # jemalloc's report there
    assert r.execute_command("MEMORY", "MALLOC-STATS") == b"Stats not supported for the current allocator"
    assert r.ping()


def test_time_and_lastsave(cacheflow: ServerProcess) -> None:
    reply = Wire(cacheflow.port).call("TIME")
    m = re.fullmatch(rb"\*2\r\n\$\d+\r\n(\d+)\r\n\$\d+\r\n(\d+)\r\n", reply)
    assert m is not None and int(m.group(2)) < 1_000_000
    assert abs(int(m.group(1)) - time.time()) < 3600  # the same clock, not a timing check
    lastsave = Wire(cacheflow.port).call("LASTSAVE")
    assert re.fullmatch(rb":\d+\r\n", lastsave)


# -- SHUTDOWN, signals, logs -------------------------------------------------------------------


def assert_log_format(server: ServerProcess) -> list[str]:
    lines = [line for line in server.log().splitlines() if line.strip()]
    assert lines
    for line in lines:
        assert LOG_LINE.match(line), line
    return lines


def test_shutdown_nosave_stops_the_server() -> None:
    with cacheflow_server() as server:
        client = server.client()
        client.shutdown(nosave=True)  # redis-py treats the closed connection as success
        assert server.proc is not None
        assert server.proc.wait(30) == 0
        lines = assert_log_format(server)
        assert any(line.endswith("# User requested shutdown...") for line in lines)
        assert any(line.endswith("Redis is now ready to exit, bye bye...") for line in lines)


def test_shutdown_is_refused_inside_multi(r: redis.Redis, rr: redis.Redis) -> None:
    for client in (r, rr):
        pipe = client.pipeline(transaction=True)
        pipe.execute_command("SHUTDOWN", "NOSAVE")
        with pytest.raises(redis.ResponseError) as e:
            pipe.execute()
        assert "EXECABORT" in str(e.value) or "not allowed" in str(e.value)
    assert r.ping() and rr.ping()


def test_sigterm_stops_cleanly_with_redis_log_lines() -> None:
    with cacheflow_server() as server:
        assert server.client().ping()
        assert server.stop(signal.SIGTERM) == 0
        lines = assert_log_format(server)
        assert any(line.endswith("# Received SIGTERM scheduling shutdown...") for line in lines)
        assert any(line.endswith("* Ready to accept connections tcp (port %d)" % server.port) for line in lines)


def test_startup_log_names_the_config_file_state(tmp_path: Path) -> None:
    conf = tmp_path / "c.conf"
    conf.write_text("loglevel verbose\n")
    with cacheflow_server(config_file=str(conf)) as server:
        assert server.client().config_get("loglevel") == {"loglevel": "verbose"}
        lines = assert_log_format(server)
        assert not any("no config file specified" in line for line in lines)
    assert os.path.exists(conf)


def test_pidfile_is_written_and_removed(tmp_path: Path) -> None:
    pidfile = tmp_path / "cacheflow.pid"
    with cacheflow_server("--pidfile", str(pidfile)) as server:
        assert server.proc is not None
        wait_until(pidfile.exists, message="the pid file")
        assert pidfile.read_text() == f"{server.proc.pid}\n"
        assert server.stop(signal.SIGTERM) == 0
        assert not pidfile.exists()
        assert any(line.endswith("* Removing the pid file.") for line in assert_log_format(server))


def test_daemonize_detaches_and_writes_the_pidfile(tmp_path: Path) -> None:
    pidfile, logfile = tmp_path / "d.pid", tmp_path / "d.log"
    port = free_port()
    argv = [sys.executable, "-m", "cacheflow.server.main", "--port", str(port), "--bind", "127.0.0.1"]
    argv += ["--daemonize", "yes", "--pidfile", str(pidfile), "--logfile", str(logfile)]
    launcher = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert launcher.returncode == 0
    wait_until(pidfile.exists, message="the daemon's pid file")
    pid = int(pidfile.read_text())
    try:
        assert pid != os.getpid()
        client = redis.Redis(port=port, socket_timeout=10)
        assert wait_until(lambda: _pings(client), message="the daemon")
        client.shutdown(nosave=True)
        wait_until(lambda: not pidfile.exists(), message="the daemon to exit")
    finally:
        if pidfile.exists():
            os.kill(pid, signal.SIGKILL)
    assert "Redis is now ready to exit, bye bye..." in logfile.read_text()


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def test_parameters_without_effect_are_announced(tmp_path: Path) -> None:
    with cacheflow_server("--aof-rewrite-incremental-fsync", "no") as server:
        assert (
            "'aof-rewrite-incremental-fsync' is accepted for compatibility but has no effect in CacheFlow yet."
            in server.log()
        )
        client = server.client()
        assert client.config_get("aof-rewrite-incremental-fsync") == {"aof-rewrite-incremental-fsync": "no"}
        client.config_set("slowlog-max-len", "10")
        assert "CONFIG SET slowlog-max-len: accepted for compatibility" in server.log()
