"""HyperLogLog commands, differentially: the same sequences on CacheFlow and on redis-server.

Beyond comparing replies as raw bytes (RESP2 and RESP3), these tests compare
the HyperLogLog values themselves with GET after every write: both servers
must produce the same bytes, sparse opcodes included.  Values also travel
between the servers with GET then SET, in both directions, and must keep
counting the same and stay byte-identical under further additions.
"""

import random

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test
from pair import Command, Pair, assert_watch_breaks_alike, open_pair
from servers import ServerProcess
from wire import Arg


def supports(pair: Pair, *command: Arg) -> bool:
    return not pair.ours.call(*command).startswith(b"-ERR unknown command")


def same_value(pair: Pair, key: str) -> bytes:
    return pair.same("GET", key)


def elements(rng: random.Random, n: int) -> list[bytes]:
    return [rng.randbytes(rng.choice([0, 1, 3, 7, 8, 9, 16, 23, 40])) for _ in range(n)]


def bulk_value(reply: bytes) -> bytes:
    assert reply.startswith(b"$"), reply[:40]
    header, _, rest = reply.partition(b"\r\n")
    return rest[: int(header[1:])]


# -- PFADD / PFCOUNT -------------------------------------------------------------------------


def test_pfadd_pfcount_basics(pair: Pair) -> None:
    pair.script(
        """
        PFADD h
        GET h
        PFADD h
        PFADD h a b c
        GET h
        PFADD h a
        PFCOUNT h
        GET h
        PFCOUNT h
        PFADD h d
        PFCOUNT h
        PFCOUNT nokey
        PFADD h2 x y z a
        PFCOUNT h h2
        PFCOUNT h h2 nokey
        PFCOUNT nokey nokey2
        GET h
        OBJECT ENCODING h
        STRLEN h
        TYPE h
        """
    )
    pair.same("PFADD", "bin", b"", b"\x00", b"\xff" * 100)
    same_value(pair, "bin")


def test_values_are_identical_through_sparse_and_dense(pair2: Pair) -> None:
    rng = random.Random(42)
    for round_ in range(60):
        batch = elements(rng, rng.choice([1, 3, 10, 50, 200]))
        pair2.same("PFADD", "h", *batch)
        same_value(pair2, "h")
        if round_ % 7 == 0:
            pair2.same("PFCOUNT", "h")
            same_value(pair2, "h")
    pair2.same("PFDEBUG", "ENCODING", "h")


def test_adding_one_by_one_in_different_orders(pair2: Pair) -> None:
    """The sparse layout depends on the order of updates (adjacent VAL runs merge only nearby)."""
    rng = random.Random(5)
    words = [b"w%d" % i for i in range(400)]
    for key in ("up", "down", "shuffled"):
        order = list(words)
        if key == "down":
            order.reverse()
        elif key == "shuffled":
            rng.shuffle(order)
        for word in order:
            pair2.same("PFADD", key, word)
        same_value(pair2, key)
        pair2.same("PFCOUNT", key)


def test_large_sets_count_within_the_standard_error(pair2: Pair) -> None:
    """Seeded data: the estimate is deterministic, equal on both servers, and close to the truth."""
    rng = random.Random(2024)
    for total in (1_000, 20_000, 150_000):
        key = "big%d" % total
        distinct = {rng.randbytes(12) for _ in range(total)}
        batch: list[bytes] = []
        for element in distinct:
            batch.append(element)
            if len(batch) == 5_000:
                pair2.same("PFADD", key, *batch)
                batch = []
        if batch:
            pair2.same("PFADD", key, *batch)
        same_value(pair2, key)
        reply = pair2.same("PFCOUNT", key)
        estimate = int(reply[1:])
        # 0.81% standard error: 5% is over six standard deviations, and the data is fixed.
        assert abs(estimate - len(distinct)) <= 0.05 * len(distinct), (estimate, len(distinct))
    pair2.same("PFCOUNT", "big1000", "big20000", "big150000")
    pair2.same("PFMERGE", "all", "big1000", "big20000", "big150000")
    same_value(pair2, "all")
    pair2.same("PFCOUNT", "all")


# -- interoperability ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 30, 400, 2000, 30000])
def test_values_made_by_redis_work_here_and_back(pair2: Pair, size: int) -> None:
    rng = random.Random(size)
    real, ours = pair2.theirs, pair2.ours
    batch = elements(rng, size)
    for i in range(0, len(batch), 5000):
        real.call("PFADD", "h", *batch[i : i + 5000])
    value = bulk_value(real.call("GET", "h"))
    # Redis -> CacheFlow, with the cache still invalid, then valid.
    assert ours.call("SET", "h", value) == b"+OK\r\n"
    pair2.same("PFCOUNT", "h")
    same_value(pair2, "h")
    more = elements(rng, 300)
    pair2.same("PFADD", "h", *more)
    same_value(pair2, "h")
    pair2.same("PFCOUNT", "h")
    # CacheFlow -> Redis.
    pair2.same("PFADD", "h", *elements(rng, 50))
    value = bulk_value(ours.call("GET", "h"))
    assert real.call("SET", "copy", value) == b"+OK\r\n"
    assert ours.call("SET", "copy", value) == b"+OK\r\n"
    pair2.same("PFCOUNT", "copy")
    pair2.same("PFADD", "copy", *elements(rng, 100))
    same_value(pair2, "copy")
    pair2.same("PFCOUNT", "copy", "h")


def test_a_value_built_only_by_cacheflow_counts_the_same_in_redis(pair2: Pair) -> None:
    rng = random.Random(9)
    for size in (10, 1500, 9000):
        key = "c%d" % size
        pair2.ours.call("PFADD", key, *elements(rng, size))
        value = bulk_value(pair2.ours.call("GET", key))
        pair2.theirs.call("SET", key, value)
        pair2.same("PFCOUNT", key)
        pair2.same("PFDEBUG", "ENCODING", key)
        pair2.same("PFDEBUG", "GETREG", key)


# -- PFMERGE --------------------------------------------------------------------------------------


def test_pfmerge(pair: Pair) -> None:
    rng = random.Random(77)
    pair.same("PFADD", "s1", *elements(rng, 20))
    pair.same("PFADD", "s2", *elements(rng, 300))
    pair.same("PFADD", "d1", *elements(rng, 5000))
    pair.same("PFADD", "d2", *elements(rng, 8000))
    for dest, sources in [
        ("m1", ["s1"]),
        ("m2", ["s1", "s2"]),
        ("m3", ["s1", "d1"]),
        ("m4", ["d1", "d2"]),
        ("s1", ["s2"]),
        ("s2", ["d1"]),
        ("m5", ["nokey"]),
        ("m6", []),
        ("m2", ["m2"]),
        ("m7", ["s1", "nokey", "d2"]),
    ]:
        pair.same("PFMERGE", dest, *sources)
        same_value(pair, dest)
        pair.same("PFCOUNT", dest)
        same_value(pair, dest)
    pair.same("PFCOUNT", "s1", "s2", "d1", "d2", "nokey")
    pair.script(
        """
        SET ttl x
        DEL ttl
        PFADD ttl a
        EXPIRE ttl 100
        PFMERGE ttl s1
        TTL ttl
        """
    )


def test_pfmerge_into_sparse_replays_redis_updates(pair2: Pair) -> None:
    """Merging into a sparse destination applies register updates in index order, promoting like Redis."""
    rng = random.Random(12)
    for n in (5, 100, 700, 1500, 2500):
        pair2.same("DEL", "src", "dst")
        pair2.same("PFADD", "src", *elements(rng, n))
        pair2.same("PFADD", "dst", *elements(rng, n // 2 + 1))
        pair2.same("PFMERGE", "dst", "src")
        same_value(pair2, "dst")
        pair2.same("PFDEBUG", "ENCODING", "dst")


# -- errors and corrupt values ----------------------------------------------------------------


def test_values_that_are_not_hyperloglogs(pair: Pair) -> None:
    header_sparse = b"HYLL\x01\x00\x00\x00" + bytes(7) + b"\x80"
    header_dense = b"HYLL\x00\x00\x00\x00" + bytes(7) + b"\x80"
    bad = {
        "plain": b"foo",
        "int": b"12345678901234567",
        "short": b"HYLL\x01\x00\x00",
        "magic": b"HYLX" + header_sparse[4:] + b"\x7f\xff",
        "encoding": b"HYLL\x02" + header_sparse[5:] + b"\x7f\xff",
        "dense_short": header_dense + bytes(100),
        "dense_long": header_dense + bytes(12289),
        "empty": b"",
    }
    for key, value in bad.items():
        pair.same("SET", key, value)
        pair.same("PFADD", key, "a")
        pair.same("PFCOUNT", key)
        pair.same("PFCOUNT", "nokey", key)
        pair.same("PFMERGE", "dest", key)
        pair.same("PFMERGE", key, "nokey")
        pair.same("PFDEBUG", "ENCODING", key)
        same_value(pair, key)
    pair.same("EXISTS", "dest")
    if supports(pair, "LPUSH", "l", "x"):
        pair.theirs.call("LPUSH", "l", "x")
        pair.script(
            """
            PFADD l a
            PFCOUNT l
            PFCOUNT h l
            PFMERGE l
            PFMERGE d l
            PFDEBUG ENCODING l
            """
        )


def test_corrupt_sparse_values(pair: Pair) -> None:
    header = b"HYLL\x01\x00\x00\x00" + bytes(7) + b"\x80"
    cached = b"HYLL\x01\x00\x00\x00" + (7).to_bytes(8, "little")
    cases = {
        "no_ops": header,
        "too_few": header + b"\x7f\xfe",  # 16383 registers
        "too_many": header + b"\x7f\xff\x00",
        "val_past_end": header + b"\x7f\xfd\x83",  # 16382 zeros then a run of 4
        "val_then_short": header + b"\x83\x7f\xf0",
        "truncated_xzero": header + b"\x7f",
        "cached_but_short": cached + b"\x7f\xfe",
        "zeros_only": header + b"\x3f" * 256,
        "vals_only": header + b"\xfb" * 4096,
        "dense_regs_high": b"HYLL\x00\x00\x00\x00" + bytes(7) + b"\x80" + b"\xff" * 12288,
    }
    for key, value in cases.items():
        pair.same("SET", key, value)
        pair.same("PFCOUNT", key)
        same_value(pair, key)
        pair.same("PFCOUNT", key, "nokey")
        pair.same("PFMERGE", "m_" + key, key)
        pair.same("PFDEBUG", "DECODE", key)
        for element in ("a", "b", "hello", "x" * 30):
            pair.same("PFADD", key, element)
            same_value(pair, key)
        pair.same("PFDEBUG", "TODENSE", key)
        same_value(pair, key)


def test_hll_sparse_max_bytes_is_live(pair2: Pair) -> None:
    if not supports(pair2, "CONFIG", "GET", "hll-sparse-max-bytes"):
        pytest.skip("CacheFlow has no CONFIG yet")
    originals = [conn.call("CONFIG", "GET", "hll-sparse-max-bytes") for conn in (pair2.ours, pair2.theirs)]
    rng = random.Random(1)
    try:
        for limit in ("0", "40", "300", "10000"):
            pair2.same("CONFIG", "SET", "hll-sparse-max-bytes", limit)
            pair2.same("DEL", "h", "m")
            for _ in range(15):
                pair2.same("PFADD", "h", *elements(rng, 40))
                same_value(pair2, "h")
            pair2.same("PFADD", "m", "a")
            pair2.same("PFMERGE", "m", "h")
            same_value(pair2, "m")
    finally:
        for conn, original in zip((pair2.ours, pair2.theirs), originals):
            conn.call("CONFIG", "SET", "hll-sparse-max-bytes", original.split(b"\r\n")[-2])


# -- PFDEBUG / PFSELFTEST ---------------------------------------------------------------------------


def test_pfdebug(pair: Pair) -> None:
    pair.script(
        """
        PFDEBUG ENCODING nokey
        PFDEBUG FOO nokey
        PFADD h a b c d e f g
        PFDEBUG ENCODING h
        PFDEBUG DECODE h
        PFDEBUG decode h
        PFDEBUG FOO h
        PFDEBUG GETREG h
        PFDEBUG ENCODING h
        PFDEBUG DECODE h
        GET h
        PFADD h2 a
        PFDEBUG TODENSE h2
        PFDEBUG TODENSE h2
        GET h2
        PFDEBUG ENCODING
        PFDEBUG ENCODING h h2
        SET s foo
        PFDEBUG ENCODING s
        """
    )


def test_pfselftest(pair2: Pair) -> None:
    pair2.same("PFSELFTEST")
    pair2.same("PFSELFTEST", "x")


# -- effects as other clients see them --------------------------------------------------------------

WATCH_CASES: list[tuple[list[Command], Command]] = [
    ([("PFADD", "k", "a")], ("PFADD", "k", "a")),
    ([("PFADD", "k", "a")], ("PFADD", "k", "b")),
    ([("PFADD", "k", "a")], ("PFADD", "k")),
    ([], ("PFADD", "k")),
    ([("PFADD", "k", "a")], ("PFCOUNT", "k")),
    ([("PFADD", "k", "a"), ("PFCOUNT", "k")], ("PFCOUNT", "k")),
    ([("PFADD", "k", "a")], ("PFCOUNT", "k", "x")),
    ([("PFADD", "k", "a")], ("PFMERGE", "k")),
    ([("PFADD", "k", "a")], ("PFMERGE", "d", "k")),
    ([("PFADD", "x", "a")], ("PFMERGE", "k", "x")),
    ([("PFADD", "k", "a")], ("PFDEBUG", "TODENSE", "k")),
    ([("PFADD", "k", "a")], ("PFDEBUG", "ENCODING", "k")),
    ([("SET", "k", "foo")], ("PFADD", "k", "a")),
]


@pytest.mark.parametrize(("setup", "command"), WATCH_CASES, ids=lambda c: " ".join(map(str, c)) if c else "-")
def test_which_commands_break_a_watch(
    cacheflow: ServerProcess, real_redis: ServerProcess, setup: list[Command], command: Command
) -> None:
    assert_watch_breaks_alike(cacheflow, real_redis, setup, command)


def test_transactions_with_hyperloglog_commands(pair: Pair) -> None:
    pair.script(
        """
        MULTI
        PFADD h a b c
        PFCOUNT h
        PFMERGE h2 h
        PFCOUNT h h2
        SET s foo
        PFADD s x
        PFCOUNT h2
        EXEC
        GET h2
        """
    )


# -- random sequences ----------------------------------------------------------------------------

KEYS = ["a", "b", "c"]
ELEMENTS = st.lists(st.sampled_from(["x", "y", "z", "", "hello", "w" * 9, "1", "2", "3"]), max_size=4)


def test_random_command_sequences(cacheflow: ServerProcess, real_redis: ServerProcess) -> None:
    """Hypothesis drives both servers through PF* commands, string overwrites and byte-level damage."""

    class Sequences(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.pair = open_pair(cacheflow, real_redis, 2)
            self.rng = random.Random(0)

        def teardown(self) -> None:
            self.pair.ours.close()
            self.pair.theirs.close()

        @initialize()
        def start_empty(self) -> None:
            self.pair.same("FLUSHALL")

        @rule(key=st.sampled_from(KEYS), items=ELEMENTS, many=st.integers(0, 300))
        def pfadd(self, key: str, items: list[str], many: int) -> None:
            extra = [b"e%d" % self.rng.randrange(100000) for _ in range(many)]
            self.pair.same("PFADD", key, *items, *extra)
            self.pair.same("GET", key)

        @rule(keys=st.lists(st.sampled_from([*KEYS, "nokey"]), min_size=1, max_size=3))
        def pfcount(self, keys: list[str]) -> None:
            self.pair.same("PFCOUNT", *keys)
            for key in keys:
                self.pair.same("GET", key)

        @rule(dest=st.sampled_from(KEYS), sources=st.lists(st.sampled_from([*KEYS, "nokey"]), max_size=3))
        def pfmerge(self, dest: str, sources: list[str]) -> None:
            self.pair.same("PFMERGE", dest, *sources)
            self.pair.same("GET", dest)

        @rule(key=st.sampled_from(KEYS), value=st.sampled_from(["", "foo", "HYLL", "HYLL\x01\x00\x00\x00"]))
        def set(self, key: str, value: str) -> None:
            self.pair.same("SET", key, value)

        @rule(
            key=st.sampled_from(KEYS),
            offset=st.sampled_from([3, 4, 5, 8, 15, 16, 17, 18, 19]),
            byte=st.sampled_from([b"\x00", b"\x01", b"\x02", b"\x7f", b"\x80", b"\xff", b"\x3f", b"\x4f"]),
        )
        def damage(self, key: str, offset: int, byte: bytes) -> None:
            self.pair.same("SETRANGE", key, offset, byte)
            self.pair.same("GET", key)

        @rule(key=st.sampled_from(KEYS), sub=st.sampled_from(["ENCODING", "DECODE", "TODENSE", "GETREG"]))
        def pfdebug(self, key: str, sub: str) -> None:
            self.pair.same("PFDEBUG", sub, key)
            self.pair.same("GET", key)

    run_state_machine_as_test(
        Sequences,
        settings=settings(max_examples=40, stateful_step_count=30, deadline=None, database=None),
    )
