"""Key and database commands, differentially: the same sequences on CacheFlow and on redis-server.

Replies are compared exactly, error texts included.  SCAN is compared by the
set of keys a whole iteration returns, since the order and batching of its
replies are implementation details in both servers.  TTLs are compared
through absolute expiry times, so no comparison depends on how fast the two
servers answer.
"""

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from servers import ServerProcess, wait_until

Command = tuple[Any, ...]


def replies(client: redis.Redis, commands: list[Command]) -> list[Any]:
    out: list[Any] = []
    for command in commands:
        try:
            out.append(client.execute_command(*command))
        except redis.ResponseError as e:
            out.append(("error", str(e)))
    return out


def assert_same(r: redis.Redis, rr: redis.Redis, commands: list[Command]) -> None:
    ours = replies(r, commands)
    theirs = replies(rr, commands)
    for command, mine, real in zip(commands, ours, theirs):
        assert mine == real, f"{command}: CacheFlow {mine!r}, Redis {real!r}"


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair(
    request: pytest.FixtureRequest, cacheflow: ServerProcess, real_redis: ServerProcess
) -> Iterator[tuple[redis.Redis, redis.Redis]]:
    """Clients on both servers, flushed, speaking the same protocol version."""
    ours = cacheflow.client(protocol=request.param)
    theirs = real_redis.client(protocol=request.param)
    ours.flushall()
    theirs.flushall()
    yield ours, theirs
    ours.close()
    theirs.close()


FAR = int(time.time()) + 10 * 365 * 86400  # an absolute time both servers see as the future


def cmds(text: str) -> list[Command]:
    return [tuple(line.split()) for line in text.strip().splitlines()]


def test_del_unlink_exists_touch_type(pair: tuple[redis.Redis, redis.Redis]) -> None:
    assert_same(
        *pair,
        cmds(
            """
            SET a 1
            SET b 2
            SET c 3
            EXISTS a a nokey b
            TOUCH a nokey a
            TYPE a
            TYPE nokey
            DEL a nokey a
            UNLINK b b c
            DEL a
            EXISTS a b c
            DEL
            TYPE
            """
        ),
    )


def test_expire_family_and_its_errors(pair: tuple[redis.Redis, redis.Redis]) -> None:
    assert_same(
        *pair,
        cmds(
            f"""
            SET k v
            EXPIRE k 10 NX XX
            EXPIRE k 10 GT LT
            EXPIRE k 10 nx gt
            EXPIRE k 10 lt nx
            EXPIRE k 10 XX GT LT
            EXPIRE k 10 foo
            EXPIRE k abc NX foo
            EXPIRE k abc
            EXPIRE k 9223372036854775807
            EXPIRE k 9223372036854775
            EXPIRE k -9223372036854775808
            PEXPIRE k 9223372036854775807
            EXPIREAT k 9223372036854775807
            EXPIREAT k -9223372036854776
            EXPIRE nokey 10
            EXPIRE nokey abc
            EXPIRE nokey 10 foo
            EXPIRE
            EXPIRE k
            TTL k
            PTTL k
            EXPIRETIME k
            PEXPIRETIME k
            EXPIREAT k {FAR} XX
            EXPIREAT k {FAR} GT
            EXPIREAT k {FAR} NX
            EXPIRETIME k
            PEXPIRETIME k
            EXPIREAT k {FAR + 100} NX
            EXPIREAT k {FAR - 100} GT
            EXPIREAT k {FAR} GT
            EXPIREAT k {FAR + 100} GT
            EXPIRETIME k
            EXPIREAT k {FAR + 200} LT
            EXPIREAT k {FAR + 50} LT
            EXPIRETIME k
            PEXPIREAT k {FAR * 1000 + 123} xx
            PEXPIRETIME k
            EXPIRETIME k
            PERSIST k
            PERSIST k
            PERSIST nokey
            TTL k
            EXPIREAT k {FAR} LT
            EXPIRETIME k
            PEXPIREAT k 9223372036854775807
            PEXPIRETIME k
            EXPIRETIME k
            EXPIRE k 9223372036854
            TTL nokey
            PTTL nokey
            EXPIRETIME nokey
            PEXPIRETIME nokey
            """
        ),
    )


@pytest.mark.parametrize(
    "expire",
    [
        ["EXPIRE", "k", "-1"],
        ["EXPIRE", "k", "0"],
        ["PEXPIRE", "k", "-9223372036854775808"],
        ["EXPIREAT", "k", "1"],
        ["EXPIREAT", "k", "-9223372036854775"],
        ["PEXPIREAT", "k", "1"],
        ["EXPIRE", "k", "-5", "LT"],
        ["EXPIRE", "k", "-5", "GT"],
        ["EXPIRE", "k", "-5", "NX"],
    ],
)
def test_expiry_in_the_past_deletes(pair: tuple[redis.Redis, redis.Redis], expire: list[str]) -> None:
    assert_same(
        *pair,
        [
            ("SET", "k", "v"),
            tuple(expire),
            ("EXISTS", "k"),
            ("SET", "k", "v", "EX", "100"),
            tuple(expire),
            ("EXISTS", "k"),
        ],
    )


def test_rename_and_renamenx(pair: tuple[redis.Redis, redis.Redis]) -> None:
    assert_same(
        *pair,
        cmds(
            f"""
            RENAME nokey x
            RENAME nokey nokey
            RENAMENX nokey x
            SET a 1
            RENAME a a
            RENAMENX a a
            SET b 2
            RENAMENX a b
            EXPIREAT a {FAR}
            RENAME a b
            GET b
            EXISTS a
            EXPIRETIME b
            SET c 3
            RENAME c b
            EXPIRETIME b
            RENAMENX b d
            GET d
            RENAME d
            """
        ),
    )


def test_move(pair: tuple[redis.Redis, redis.Redis]) -> None:
    assert_same(
        *pair,
        cmds(
            f"""
            SET k v
            EXPIREAT k {FAR}
            MOVE k 0
            MOVE nokey 0
            MOVE k 16
            MOVE k -1
            MOVE k abc
            MOVE k 4294967296
            MOVE k 99999999999999999999
            MOVE nokey 16
            MOVE k 3
            EXISTS k
            SELECT 3
            GET k
            EXPIRETIME k
            SET other x
            SELECT 0
            SET other y
            MOVE other 3
            MOVE nokey 3
            GET other
            """
        ),
    )


def test_copy(pair: tuple[redis.Redis, redis.Redis]) -> None:
    assert_same(
        *pair,
        cmds(
            f"""
            SET b 2
            EXPIREAT b {FAR}
            COPY b b
            COPY b b DB 0
            COPY nokey nokey
            COPY b c DB 16
            COPY b c DB -1
            COPY b c DB abc
            COPY b c DB 4294967296
            COPY b c foo
            COPY b c DB
            COPY nokey x foo
            COPY b b DB 16 foo
            COPY nokey x
            COPY b c
            EXPIRETIME c
            COPY b c
            SET b 22
            COPY b c replace REPLACE
            GET c
            EXPIRETIME c
            COPY b b DB 1
            COPY b c DB 1 DB 0
            COPY b c DB 0 DB 1
            SELECT 1
            GET b
            GET c
            SELECT 0
            """
        ),
    )


def test_object(pair: tuple[redis.Redis, redis.Redis]) -> None:
    commands: list[Command] = []
    for value in [
        "5",
        "0",
        "9999",
        "10000",
        "-1",
        "9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "01",
        "+1",
        "-0",
        "",
        "x" * 44,
        "x" * 45,
        "hello",
    ]:
        commands += [("SET", "k", value), ("OBJECT", "ENCODING", "k"), ("OBJECT", "REFCOUNT", "k")]
    commands += cmds(
        """
        SET s hello
        APPEND s world
        OBJECT ENCODING s
        OBJECT FREQ k
        OBJECT FREQ nokey
        OBJECT IDLETIME nokey
        OBJECT REFCOUNT nokey
        OBJECT ENCODING nokey
        OBJECT HELP
        OBJECT
        OBJECT foo
        OBJECT ENCODING
        OBJECT ENCODING k extra
        OBJECT HELP extra
        """
    )
    assert_same(*pair, commands)


def test_object_idletime_under_the_default_policy(pair: tuple[redis.Redis, redis.Redis]) -> None:
    """RESTORE ... IDLETIME makes a key old without sleeping; reads that do not touch leave it old.

    An idle time may be one second more than expected on either server (the
    coarse LRU clock can tick between two commands), so each server's answers
    are checked against the same expectations rather than compared byte for byte.
    """
    pair[1].set("scratch", "v")
    payload = pair[1].dump("scratch")
    steps: list[tuple[Command, Any]] = [
        (("SET", "k", "v"), None),
        (("OBJECT", "IDLETIME", "k"), 0),
        (("RESTORE", "k", "0", payload, "REPLACE", "IDLETIME", "100"), None),
        (("OBJECT", "IDLETIME", "k"), 100),
        (("TTL", "k"), -1),
        (("TYPE", "k"), b"string"),
        (("EXISTS", "k"), 1),
        (("OBJECT", "ENCODING", "k"), b"embstr"),
        (("OBJECT", "IDLETIME", "k"), 100),
        (("GET", "k"), b"v"),
        (("OBJECT", "IDLETIME", "k"), 0),
        (("RESTORE", "k", "0", payload, "REPLACE", "IDLETIME", "50"), None),
        (("TOUCH", "k"), 1),
        (("OBJECT", "IDLETIME", "k"), 0),
        (("RESTORE", "k", "0", payload, "REPLACE", "IDLETIME", "50"), None),
        (("APPEND", "k", "w"), 2),
        (("OBJECT", "IDLETIME", "k"), 0),
    ]
    for client in pair:
        answers = replies(client, [command for command, _ in steps])
        for (command, want), answer in zip(steps, answers, strict=True):
            if command[:2] == ("OBJECT", "IDLETIME"):
                assert answer in (want, want + 1), (command, answer)
            elif want is not None:
                assert answer == want, (command, answer)


def test_databases(pair: tuple[redis.Redis, redis.Redis]) -> None:
    assert_same(
        *pair,
        cmds(
            """
            DBSIZE
            SET a 1
            SET b 2
            DBSIZE
            DBSIZE x
            SWAPDB 0 16
            SWAPDB a 0
            SWAPDB 0 a
            SWAPDB -1 0
            SWAPDB 4294967296 1
            SWAPDB 1 4294967296
            SWAPDB 0
            SWAPDB 0 0
            DBSIZE
            SWAPDB 0 2
            DBSIZE
            SELECT 2
            DBSIZE
            GET a
            FLUSHDB foo
            FLUSHDB ASYNC SYNC
            FLUSHDB async
            DBSIZE
            SELECT 0
            SET c 3
            SELECT 5
            SET d 4
            FLUSHALL foo
            FLUSHALL SYNC
            DBSIZE
            SELECT 0
            DBSIZE
            FLUSHALL async
            FLUSHDB sync
            FLUSHDB
            """
        ),
    )


def test_randomkey(pair: tuple[redis.Redis, redis.Redis]) -> None:
    assert_same(*pair, cmds("RANDOMKEY\nSET only 1\nRANDOMKEY\nRANDOMKEY\nDEL only\nRANDOMKEY"))
    r, rr = pair
    for client in (r, rr):
        for i in range(20):
            client.set(f"k{i}", i)
        assert {client.randomkey() for _ in range(200)} <= {f"k{i}".encode() for i in range(20)}


KEY_NAMES = [
    "a",
    "b",
    "c",
    "ab",
    "abc",
    "a*",
    "a?",
    "*",
    "?",
    "[",
    "]",
    "\\",
    "-",
    "^",
    "hello",
    "hallo",
    "hxllo",
    "heeeello",
    "hllo",
    "a[b",
    "x]",
    "!",
    "A",
    "aB",
    "a-c",
    "user:1",
    "user:22",
    "item:1",
]
PATTERNS = [
    "*",
    "?",
    "a*",
    "*c",
    "h?llo",
    "h*llo",
    "h[ae]llo",
    "h[^e]llo",
    "h[a-b]llo",
    "[c-a]",
    "[^a-c]",
    "\\*",
    "a\\*",
    "\\?",
    "[",
    "[a",
    "[^",
    "[]",
    "[^]",
    "[]]",
    "[\\]]",
    "[a-]",
    "[-a]",
    "[a\\-c]",
    "\\",
    "\\\\",
    "[\\\\]",
    "**",
    "*?*",
    "?*?",
    "[!a]",
    "[a-c",
    "\\a",
    "*[",
    "a[b",
    "[*]",
    "[?]",
    "*\\",
    "user:?",
    "user:*",
    "*:1",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_keys_and_scan_match_agree_on_glob_patterns(pair: tuple[redis.Redis, redis.Redis], pattern: str) -> None:
    r, rr = pair
    for client in (r, rr):
        client.mset({k: "1" for k in KEY_NAMES})
    assert sorted(r.keys(pattern)) == sorted(rr.keys(pattern))
    assert sorted(scan_keys(r, "MATCH", pattern, "COUNT", "3")) == sorted(scan_keys(rr, "MATCH", pattern, "COUNT", "3"))


def scan_keys(client: redis.Redis, *options: str) -> list[bytes]:
    found: list[bytes] = []
    cursor: int | bytes = 0
    for _ in range(100_000):
        cursor, batch = client.execute_command("SCAN", cursor, *options)
        found += batch
        if int(cursor) == 0:
            return found
    raise AssertionError("SCAN did not terminate")


@pytest.mark.parametrize(
    "options",
    [
        (),
        ("COUNT", "1"),
        ("COUNT", "7"),
        ("COUNT", "100000"),
        ("TYPE", "string"),
        ("TYPE", "STRING"),
        ("TYPE", "hash"),
        ("MATCH", "k1*", "COUNT", "5"),
    ],
)
def test_scan_whole_iteration_matches(pair: tuple[redis.Redis, redis.Redis], options: tuple[str, ...]) -> None:
    r, rr = pair
    for client in (r, rr):
        client.mset({f"k{i}": i for i in range(300)})
    ours = scan_keys(r, *options)
    theirs = scan_keys(rr, *options)
    assert sorted(set(ours)) == sorted(set(theirs))
    assert len(ours) == len(set(ours))  # CacheFlow never repeats a key in a stable keyspace


def test_scan_errors(pair: tuple[redis.Redis, redis.Redis]) -> None:
    assert_same(
        *pair,
        cmds(
            """
            SET a 1
            SCAN abc
            SCAN abc COUNT 0
            SCAN 18446744073709551616
            SCAN 0 COUNT 0
            SCAN 0 COUNT -1
            SCAN 0 COUNT abc
            SCAN 0 COUNT 0x
            SCAN 0 MATCH
            SCAN 0 foo bar
            SCAN 0 COUNT 1 MATCH a COUNT 0
            SCAN 0
            SCAN +0
            """
        ),
    )


def test_the_empty_key_matches_only_star_and_the_empty_pattern(pair: tuple[redis.Redis, redis.Redis]) -> None:
    """Redis's matcher never runs its loop on an empty key: ``**`` and ``*?`` miss it, ``*`` is a shortcut."""
    for client in pair:
        client.mset({b"": 1, b"a": 2})
    for pattern in (b"*", b"**", b"***", b"", b"?", b"*a*", b"[^b]", b"a*"):
        keys = [sorted(c.keys(pattern)) for c in pair]
        scans = [sorted(c.execute_command("SCAN", 0, "MATCH", pattern, "COUNT", 100)[1]) for c in pair]
        assert keys[0] == keys[1] and scans[0] == scans[1], (pattern, keys, scans)


def test_a_nul_byte_ends_the_scan_cursor(pair: tuple[redis.Redis, redis.Redis]) -> None:
    """Redis reads the cursor as a C string: ``0\\0x`` is cursor 0."""
    for client in pair:
        client.set("a", 1)
    for raw in (b"0\x00x", b"\x00", b"-0\x00"):
        assert [c.execute_command("SCAN", raw) for c in pair] == [(0, [b"a"])] * 2


def test_scan_returns_keys_present_throughout_while_others_come_and_go(pair: tuple[redis.Redis, redis.Redis]) -> None:
    for client in pair:
        client.mset({f"stable{i}": i for i in range(200)})
        client.mset({f"doomed{i}": i for i in range(100)})
        found: set[bytes] = set()
        cursor = 0
        step = 0
        while True:
            cursor, batch = client.scan(cursor, count=10)
            found |= set(batch)
            client.set(f"new{step}", step)
            client.delete(f"doomed{step}")
            step += 1
            if cursor == 0:
                break
        stable = {f"stable{i}".encode() for i in range(200)}
        ever = stable | {f"doomed{i}".encode() for i in range(100)} | {f"new{i}".encode() for i in range(step)}
        assert stable <= found <= ever


def test_keys_hides_expired_keys(r: redis.Redis) -> None:
    r.set("live", 1)
    r.set("dying", 1, px=1)
    wait_until(lambda: r.keys("*") == [b"live"], message="KEYS to stop listing an expired key")
    assert r.exists("dying") == 0


# -- WATCH against cross-database writes ---------------------------------------------------------------


def watch_outcome(
    server: ServerProcess, setup: list[Command], watch: tuple[int, str], write: tuple[int, Command]
) -> Any:
    """Watch a key, let another client write, and return what EXEC answered (None: aborted)."""
    admin = server.client()
    admin.flushall()
    for command in setup:
        admin.execute_command(*command)
    watch_db, key = watch
    watcher = server.client(db=watch_db)
    writer = server.client(db=write[0])
    with watcher.pipeline(transaction=True) as pipe:
        pipe.watch(key)
        replies(writer, [write[1]])
        pipe.multi()
        pipe.ping()
        try:
            result: Any = pipe.execute()
        except redis.WatchError:
            result = None
    admin.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")  # the stale-key cases turn it off
    for client in (admin, watcher, writer):
        client.close()
    return result


SETUP_K_IN_0: list[Command] = [("SET", "k", "v")]
SETUP_K_IN_1: list[Command] = [("SELECT", "1"), ("SET", "k", "v"), ("SELECT", "0")]
# Keys past their TTL but not reclaimed: the active cycle is off and nobody reads them.
_STALE = [("DEBUG", "SET-ACTIVE-EXPIRE", "0")]
_LET_IT_PASS = ("DEBUG", "SLEEP", "0.01")
STALE_K_IN_1: list[Command] = [*_STALE, ("SELECT", "1"), ("SET", "k", "v", "PX", "1"), ("SELECT", "0"), _LET_IT_PASS]
STALE_K_IN_BOTH: list[Command] = [*_STALE, ("SET", "k", "a", "PX", "1"), *STALE_K_IN_1[1:]]
STALE_K_IN_0_LIVE_IN_1: list[Command] = [*_STALE, ("SET", "k", "a", "PX", "1"), *SETUP_K_IN_1, _LET_IT_PASS]

WATCH_CASES: list[tuple[str, list[Command], tuple[int, str], tuple[int, Command]]] = [
    ("flushall-existing", SETUP_K_IN_0, (0, "k"), (3, ("FLUSHALL",))),
    ("flushall-missing", SETUP_K_IN_1, (0, "k"), (3, ("FLUSHALL",))),
    ("flushall-empty", [], (0, "k"), (0, ("FLUSHALL",))),
    ("flushdb-same-db", SETUP_K_IN_0, (0, "k"), (0, ("FLUSHDB",))),
    ("flushdb-other-db", SETUP_K_IN_0, (0, "k"), (1, ("FLUSHDB",))),
    ("flushdb-missing", [("SET", "other", "v")], (0, "k"), (0, ("FLUSHDB",))),
    ("swapdb-exists-here", SETUP_K_IN_0, (0, "k"), (5, ("SWAPDB", "0", "1"))),
    ("swapdb-exists-there", SETUP_K_IN_1, (0, "k"), (5, ("SWAPDB", "0", "1"))),
    ("swapdb-nowhere", [("SET", "other", "v")], (0, "k"), (5, ("SWAPDB", "0", "1"))),
    ("swapdb-unrelated", SETUP_K_IN_0, (0, "k"), (5, ("SWAPDB", "2", "3"))),
    ("swapdb-self", SETUP_K_IN_0, (0, "k"), (0, ("SWAPDB", "0", "0"))),
    ("swapdb-brings-a-stale-key", STALE_K_IN_1, (0, "k"), (5, ("SWAPDB", "0", "1"))),
    ("swapdb-stale-for-stale", STALE_K_IN_BOTH, (0, "k"), (5, ("SWAPDB", "0", "1"))),
    ("swapdb-live-for-stale", STALE_K_IN_0_LIVE_IN_1, (0, "k"), (5, ("SWAPDB", "0", "1"))),
    ("swapdb-stale-for-live", STALE_K_IN_0_LIVE_IN_1, (1, "k"), (5, ("SWAPDB", "0", "1"))),
    ("flushall-stale", STALE_K_IN_1, (1, "k"), (3, ("FLUSHALL",))),
    ("move-source", SETUP_K_IN_0, (0, "k"), (0, ("MOVE", "k", "2"))),
    ("move-target", SETUP_K_IN_0, (2, "k"), (0, ("MOVE", "k", "2"))),
    ("move-refused", SETUP_K_IN_0, (0, "k"), (0, ("MOVE", "k", "0"))),
    ("copy-target-db", SETUP_K_IN_0, (4, "k"), (0, ("COPY", "k", "k", "DB", "4"))),
    ("copy-source", SETUP_K_IN_0, (0, "k"), (0, ("COPY", "k", "k2"))),
    ("copy-target", SETUP_K_IN_0, (0, "k2"), (0, ("COPY", "k", "k2"))),
    ("rename-target", SETUP_K_IN_0, (0, "n"), (0, ("RENAME", "k", "n"))),
    ("rename-self", SETUP_K_IN_0, (0, "k"), (0, ("RENAME", "k", "k"))),
    ("expire", SETUP_K_IN_0, (0, "k"), (0, ("EXPIRE", "k", "100"))),
    ("expire-missing", [], (0, "k"), (0, ("EXPIRE", "k", "100"))),
    ("expire-refused", SETUP_K_IN_0, (0, "k"), (0, ("EXPIRE", "k", "100", "XX"))),
    ("persist-nothing", SETUP_K_IN_0, (0, "k"), (0, ("PERSIST", "k"))),
    ("del-missing", [], (0, "k"), (0, ("DEL", "k"))),
    ("del", SETUP_K_IN_0, (0, "k"), (0, ("DEL", "k"))),
]


@pytest.mark.parametrize(("setup", "watch", "write"), [c[1:] for c in WATCH_CASES], ids=[c[0] for c in WATCH_CASES])
def test_watch_breaks_as_in_redis(
    cacheflow: ServerProcess,
    real_redis: ServerProcess,
    setup: list[Command],
    watch: tuple[int, str],
    write: tuple[int, Command],
) -> None:
    ours = watch_outcome(cacheflow, setup, watch, write)
    theirs = watch_outcome(real_redis, setup, watch, write)
    assert ours == theirs


def test_keyspace_hits_and_misses_agree(pair: tuple[redis.Redis, redis.Redis]) -> None:
    commands = cmds(
        """
        SET a 1
        EXISTS a b
        TYPE a
        TYPE b
        TTL a
        PTTL b
        EXPIRETIME a
        OBJECT ENCODING a
        OBJECT ENCODING b
        TOUCH a b
        COPY a c
        COPY b d
        SCAN 0 TYPE string
        SCAN 0
        KEYS *
        RANDOMKEY
        RENAME a e
        PERSIST e
        MOVE e 1
        EXPIRE c 10
        DEL c
        DBSIZE
        """
    )
    deltas: list[tuple[int, int]] = []
    for client in pair:
        before = keyspace_stats(client)
        replies(client, commands)
        after = keyspace_stats(client)
        deltas.append((after[0] - before[0], after[1] - before[1]))
    assert deltas[0] == deltas[1]


def keyspace_stats(client: redis.Redis) -> tuple[int, int]:
    try:
        data = client.info("stats")
    except redis.ResponseError as e:
        pytest.skip(f"INFO is not available yet: {e}")
    return int(data["keyspace_hits"]), int(data["keyspace_misses"])
