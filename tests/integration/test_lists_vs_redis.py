"""Lists, byte for byte against the real redis-server (RESP2 and RESP3)."""

import random

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test
from pair import Pair, assert_watch_breaks_alike, open_pair
from servers import ServerProcess


def test_push_pop_range(pair: Pair) -> None:
    pair.script(
        """
        RPUSH l a b c
        LPUSH l x y
        LPUSHX nokey a
        RPUSHX nokey a
        LPUSHX l z
        RPUSHX l w
        LRANGE l 0 -1
        LRANGE l -3 -1
        LRANGE l -100 1
        LRANGE l 2 1
        LRANGE l 10 20
        LRANGE l 0 9223372036854775807
        LRANGE l -9223372036854775808 0
        LRANGE l x 1
        LRANGE l 0 1.5
        LRANGE nokey 0 -1
        LRANGE nokey x 1
        LLEN l
        LLEN nokey
        LPOP l
        RPOP l
        LPOP l 0
        LPOP l 2
        RPOP l 2
        RPOP l 100
        EXISTS l
        LPOP l
        LPOP l 0
        LPOP l 1
        RPOP l -1
        RPOP l x
        LPOP l 1 2
        LPUSH l
        LLEN
        TYPE l
        """
    )


def test_index_set_insert_rem_trim(pair: Pair) -> None:
    pair.script(
        """
        RPUSH l a b c a b c a
        LINDEX l 0
        LINDEX l -1
        LINDEX l 7
        LINDEX l -8
        LINDEX l x
        LINDEX nokey x
        LSET l 0 A
        LSET l -1 Z
        LSET l 7 Q
        LSET l x Q
        LSET nokey 0 Q
        LSET nokey x Q
        LINSERT l BEFORE b B1
        LINSERT l after c C1
        LINSERT l BEFORE nope x
        LINSERT l MIDDLE b x
        LINSERT nokey BEFORE b x
        LINSERT nokey MIDDLE b x
        LRANGE l 0 -1
        LREM l 1 c
        LREM l -1 b
        LREM l 0 a
        LREM l 0 nope
        LREM l x a
        LREM nokey 0 a
        LREM nokey x a
        LRANGE l 0 -1
        LTRIM l 1 -2
        LRANGE l 0 -1
        LTRIM l -100 100
        LTRIM l 0 0
        LRANGE l 0 -1
        LTRIM l 1 0
        EXISTS l
        LTRIM nokey 0 1
        LTRIM nokey x 1
        LTRIM l 0 x
        """
    )


def test_lpos(pair: Pair) -> None:
    pair.script(
        """
        RPUSH l a b c a b c a
        LPOS l a
        LPOS l c
        LPOS l nope
        LPOS l a RANK 2
        LPOS l a RANK -1
        LPOS l a RANK -3
        LPOS l a RANK 4
        LPOS l a RANK 0
        LPOS l a RANK x
        LPOS l a RANK 9223372036854775807
        LPOS l a RANK -9223372036854775808
        LPOS l a RANK -9223372036854775807
        LPOS l a RANK -9223372036854775808 COUNT 1
        LPOS l a RANK -9223372036854775808 COUNT 0
        LPOS l a RANK -9223372036854775808 MAXLEN 2
        LPOS l a COUNT 0
        LPOS l a COUNT 2
        LPOS l a COUNT 2 RANK -1
        LPOS l a COUNT 0 RANK 2 MAXLEN 5
        LPOS l a COUNT -1
        LPOS l a COUNT x
        LPOS l a MAXLEN -1
        LPOS l a MAXLEN x
        LPOS l a MAXLEN 1
        LPOS l b MAXLEN 1
        LPOS l a MAXLEN 1 RANK -1
        LPOS l a count 1 rank 1 maxlen 0
        LPOS l a RANK
        LPOS l a FOO 1
        LPOS nokey a
        LPOS nokey a COUNT 0
        LPOS nokey a RANK 0
        LPOS l nope COUNT 0
        """
    )


def test_lmove_rpoplpush(pair: Pair) -> None:
    pair.script(
        """
        RPUSH src a b c d
        LMOVE src dst LEFT RIGHT
        LMOVE src dst RIGHT LEFT
        LMOVE src dst left left
        LMOVE src src LEFT RIGHT
        LRANGE src 0 -1
        LRANGE dst 0 -1
        RPOPLPUSH src dst
        EXISTS src
        RPOPLPUSH src dst
        LMOVE src dst LEFT RIGHT
        LMOVE src dst UP RIGHT
        LMOVE src dst LEFT DOWN
        SET str x
        RPOPLPUSH dst str
        LMOVE dst str LEFT LEFT
        RPOPLPUSH str dst
        RPOPLPUSH nokey str
        LRANGE dst 0 -1
        RPUSH one x
        RPOPLPUSH one one
        LRANGE one 0 -1
        """
    )


def test_lmpop(pair: Pair) -> None:
    pair.script(
        """
        RPUSH b 1 2 3 4 5
        LMPOP 2 a b LEFT
        LMPOP 2 a b RIGHT COUNT 2
        LMPOP 2 a b left count 100
        LMPOP 2 a b LEFT
        LMPOP 0 a LEFT
        LMPOP -1 a LEFT
        LMPOP x a LEFT
        LMPOP 3 a b LEFT
        LMPOP 1 a MIDDLE
        LMPOP 1 a LEFT COUNT 0
        LMPOP 1 a LEFT COUNT -1
        LMPOP 1 a LEFT COUNT x
        LMPOP 1 a LEFT COUNT 1 COUNT 1
        LMPOP 1 a LEFT FOO
        LMPOP 1 a LEFT COUNT
        SET s x
        LMPOP 2 a s LEFT
        RPUSH a 1
        LMPOP 2 a s LEFT
        """
    )


def test_blocking_commands_that_do_not_block(pair: Pair) -> None:
    pair.script(
        """
        RPUSH b 1 2 3
        RPUSH c x
        BLPOP a b 0
        BRPOP a b 1.5
        BLMOVE b c LEFT LEFT 0
        BRPOPLPUSH c d 0
        BLMPOP 0 2 a c RIGHT COUNT 5
        BLMPOP 0 1 d LEFT
        LRANGE b 0 -1
        BLPOP k -1
        BLPOP k abc
        BLPOP k inf
        BLPOP k nan
        BLPOP k 1e300
        BLPOP k -0.002
        BLPOP k 0x
        BLMOVE k d LEFT UP 0
        BLMOVE k d LEFT LEFT -1
        BRPOPLPUSH k d x
        BLMPOP x 0 k LEFT
        BLMPOP x 1 k LEFT
        BLMPOP 0 1 k LEFT COUNT 0
        BLMPOP 0 2 k LEFT
        SET s x
        BLPOP k s 0
        BLMPOP 0 2 k s LEFT
        BLMOVE s d LEFT LEFT 0
        RPUSH k 1
        BLMOVE k s LEFT LEFT 0
        BLPOP s k 0
        BLPOP
        BLMPOP 0 1 k
        """
    )


def test_blocking_commands_inside_a_transaction(pair: Pair) -> None:
    pair.script(
        """
        MULTI
        BLPOP q 0
        BRPOP q 0
        BLMOVE q d LEFT LEFT 0
        BRPOPLPUSH q d 0
        BLMPOP 0 1 q LEFT
        BLPOP q abc
        RPUSH q 1 2
        BLPOP q 0
        BLMOVE q d LEFT LEFT 0
        EXEC
        LRANGE d 0 -1
        """
    )


def test_wrong_type(pair: Pair) -> None:
    pair.same("SET", "s", "x")
    for command in [
        ("LPUSH", "s", "a"),
        ("RPUSH", "s", "a"),
        ("LPUSHX", "s", "a"),
        ("RPUSHX", "s", "a"),
        ("LPOP", "s"),
        ("RPOP", "s", "0"),
        ("LPOP", "s", "-1"),
        ("LLEN", "s"),
        ("LRANGE", "s", "0", "1"),
        ("LRANGE", "s", "x", "1"),
        ("LINDEX", "s", "x"),
        ("LSET", "s", "x", "a"),
        ("LINSERT", "s", "BEFORE", "a", "b"),
        ("LINSERT", "s", "MIDDLE", "a", "b"),
        ("LREM", "s", "x", "a"),
        ("LREM", "s", "0", "a"),
        ("LTRIM", "s", "0", "1"),
        ("LPOS", "s", "a"),
        ("LPOS", "s", "a", "RANK", "0"),
        ("LMOVE", "s", "d", "LEFT", "LEFT"),
        ("RPOPLPUSH", "s", "d"),
        ("LMPOP", "1", "s", "LEFT"),
    ]:
        pair.same(*command)


def test_object_encoding_and_type(pair: Pair) -> None:
    pair.same("RPUSH", "small", "a", "b")
    pair.same("RPUSH", "big", *["x" * 100 for _ in range(200)])
    pair.same("RPUSH", "long", "y" * 10000)
    for key in ("small", "big", "long"):
        pair.same("OBJECT", "ENCODING", key)
        pair.same("TYPE", key)
    pair.same("CONFIG", "SET", "list-max-listpack-size", "4")
    pair.same("RPUSH", "after", "1", "2", "3", "4", "5")
    pair.same("OBJECT", "ENCODING", "after")
    pair.same("CONFIG", "SET", "list-max-listpack-size", "-2")


def test_large_lists_and_binary_elements(pair2: Pair) -> None:
    rng = random.Random(3)
    elements = [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 400))) for _ in range(300)]
    elements += [b"\r\n", b"$3\r\nabc\r\n", b"", b"*1\r\n"]
    for i in range(0, len(elements), 50):
        pair2.same("RPUSH", "bin", *elements[i : i + 50])
    pair2.same("LRANGE", "bin", "0", "-1")
    pair2.same("LRANGE", "bin", "250", "280")
    pair2.same("LRANGE", "bin", "-10", "-5")
    for probe in (elements[5], elements[-2], b"$3\r\nabc", b"\r\n"):
        pair2.same("LPOS", "bin", probe, "COUNT", "0")
        pair2.same("LREM", "bin", "1", probe)
    pair2.same("LINSERT", "bin", "AFTER", elements[10], b"new\r\n")
    pair2.same("LSET", "bin", "-3", b"x" * 5000)
    pair2.same("LTRIM", "bin", "3", "-4")
    pair2.same("LRANGE", "bin", "0", "-1")
    pair2.same("LPOP", "bin", "7")
    pair2.same("RPOP", "bin", "7")
    pair2.same("LMPOP", "1", "bin", "RIGHT", "COUNT", "3")
    pair2.same("LLEN", "bin")


def test_list_growing_past_the_compact_form(pair2: Pair) -> None:
    for i in range(200):
        pair2.same("LPUSH" if i % 2 else "RPUSH", "l", f"e{i % 7}")
        if i % 37 == 0:
            pair2.same("LRANGE", "l", "0", "-1")
            pair2.same("LINDEX", "l", str(i // 2))
    pair2.same("LPOS", "l", "e3", "RANK", "-2", "COUNT", "5")
    pair2.same("LREM", "l", "-3", "e1")
    pair2.same("LRANGE", "l", "-150", "-100")
    pair2.same("LTRIM", "l", "10", "-10")
    pair2.same("LRANGE", "l", "0", "-1")


def test_list_commands_with_expiry(pair2: Pair) -> None:
    pair2.script(
        """
        RPUSH l a b
        PEXPIRE l 100000
        RPUSH l c
        LPOP l
        LSET l 0 x
        LTRIM l 0 5
        TTL l
        LMOVE l m LEFT LEFT
        TTL m
        """
    )


KEYS = ["a", "b", "s"]
ELEMENTS = st.sampled_from(["x", "y", "z", "", "long" * 20])
INDEXES = st.sampled_from(["0", "1", "-1", "-2", "3", "-5", "100", "x"])


def test_random_list_command_sequences(cacheflow: ServerProcess, real_redis: ServerProcess) -> None:
    """Hypothesis drives both servers through the same list commands and compares every reply."""

    class Sequences(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.pair = open_pair(cacheflow, real_redis, 2)

        def teardown(self) -> None:
            self.pair.ours.close()
            self.pair.theirs.close()

        @initialize()
        def start(self) -> None:
            self.pair.same("FLUSHALL")
            self.pair.same("SET", "s", "string")

        @rule(
            name=st.sampled_from(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]),
            key=st.sampled_from(KEYS),
            values=st.lists(ELEMENTS, min_size=1, max_size=40),
        )
        def push(self, name: str, key: str, values: list[str]) -> None:
            self.pair.same(name, key, *values)

        @rule(
            name=st.sampled_from(["LPOP", "RPOP"]),
            key=st.sampled_from(KEYS),
            count=st.sampled_from([(), ("0",), ("1",), ("3",), ("100",), ("-1",)]),
        )
        def pop(self, name: str, key: str, count: tuple[str, ...]) -> None:
            self.pair.same(name, key, *count)

        @rule(key=st.sampled_from(KEYS), start=INDEXES, stop=INDEXES)
        def read(self, key: str, start: str, stop: str) -> None:
            self.pair.same("LRANGE", key, start, stop)
            self.pair.same("LINDEX", key, start)
            self.pair.same("LLEN", key)

        @rule(key=st.sampled_from(KEYS), index=INDEXES, value=ELEMENTS)
        def lset(self, key: str, index: str, value: str) -> None:
            self.pair.same("LSET", key, index, value)

        @rule(key=st.sampled_from(KEYS), where=st.sampled_from(["BEFORE", "AFTER"]), pivot=ELEMENTS, value=ELEMENTS)
        def linsert(self, key: str, where: str, pivot: str, value: str) -> None:
            self.pair.same("LINSERT", key, where, pivot, value)

        @rule(key=st.sampled_from(KEYS), count=st.sampled_from(["0", "1", "-1", "2", "-3"]), value=ELEMENTS)
        def lrem(self, key: str, count: str, value: str) -> None:
            self.pair.same("LREM", key, count, value)

        @rule(key=st.sampled_from(KEYS), start=INDEXES, stop=INDEXES)
        def ltrim(self, key: str, start: str, stop: str) -> None:
            self.pair.same("LTRIM", key, start, stop)

        @rule(
            key=st.sampled_from(KEYS),
            value=ELEMENTS,
            opts=st.lists(
                st.sampled_from([("RANK", "1"), ("RANK", "-2"), ("COUNT", "0"), ("COUNT", "2"), ("MAXLEN", "3")]),
                max_size=3,
            ),
        )
        def lpos(self, key: str, value: str, opts: list[tuple[str, str]]) -> None:
            self.pair.same("LPOS", key, value, *[x for o in opts for x in o])

        @rule(
            src=st.sampled_from(KEYS),
            dst=st.sampled_from(KEYS),
            sides=st.sampled_from([("LEFT", "RIGHT"), ("RIGHT", "LEFT"), ("LEFT", "LEFT"), ("RIGHT", "RIGHT")]),
            blocking=st.booleans(),
        )
        def move(self, src: str, dst: str, sides: tuple[str, str], blocking: bool) -> None:
            if blocking:  # only where it cannot block: the source exists (a list, or another type)
                if self.pair.same("EXISTS", src) == b":1\r\n":
                    self.pair.same("BLMOVE", src, dst, *sides, "0")
            else:
                self.pair.same("LMOVE", src, dst, *sides)
                self.pair.same("RPOPLPUSH", src, dst)

        @rule(
            keys=st.lists(st.sampled_from(KEYS), min_size=1, max_size=3),
            side=st.sampled_from(["LEFT", "RIGHT"]),
            count=st.sampled_from([(), ("COUNT", "2"), ("COUNT", "50")]),
        )
        def lmpop(self, keys: list[str], side: str, count: tuple[str, ...]) -> None:
            self.pair.same("LMPOP", str(len(keys)), *keys, side, *count)

        @rule(keys=st.lists(st.sampled_from(KEYS), min_size=1, max_size=3), left=st.booleans())
        def blocking_pop(self, keys: list[str], left: bool) -> None:
            lengths = [self.pair.same("EXISTS", k) for k in keys]
            if b":1\r\n" in lengths:  # something to take (or a wrong type): it answers at once
                self.pair.same("BLPOP" if left else "BRPOP", *keys, "0")

        @rule(key=st.sampled_from(KEYS))
        def delete(self, key: str) -> None:
            self.pair.same("DEL", key)

        @rule()
        def state(self) -> None:
            for key in KEYS:
                self.pair.same("TYPE", key)
                self.pair.same("LRANGE", key, "0", "-1")

    run_state_machine_as_test(
        Sequences,
        settings=settings(max_examples=40, stateful_step_count=30, deadline=None, database=None),
    )


def test_resp3_replies(cacheflow: ServerProcess, real_redis: ServerProcess) -> None:
    pair = open_pair(cacheflow, real_redis, 3)
    try:
        pair.script(
            """
            LPOP nokey
            LPOP nokey 2
            LINDEX nokey 0
            LPOS nokey a
            LMPOP 1 nokey LEFT
            RPUSH l a b
            LPOS l z
            LINDEX l 5
            LMOVE nokey l LEFT LEFT
            BLPOP l 0
            LMPOP 1 l LEFT
            MULTI
            BLPOP q 0
            BLMOVE q l LEFT LEFT 0
            EXEC
            """
        )
    finally:
        pair.ours.close()
        pair.theirs.close()


# A WATCH on ``k`` and one command from another client: no-ops included, since Redis
# signals some of them anyway (LTRIM always does) and skips others (LREM of nothing).
WATCH_CASES: list[tuple[list[tuple[str, ...]], tuple[str, ...]]] = [
    ([("RPUSH", "k", "a", "b", "c")], ("LTRIM", "k", "0", "-1")),
    ([("RPUSH", "k", "a", "b", "c")], ("LTRIM", "k", "-100", "100")),
    ([("RPUSH", "k", "a", "b", "c")], ("LTRIM", "k", "1", "0")),
    ([("RPUSH", "k", "a", "b", "c")], ("LTRIM", "k", "0", "0")),
    ([], ("LTRIM", "k", "0", "1")),
    ([("RPUSH", "k", "a")], ("LREM", "k", "0", "zz")),
    ([("RPUSH", "k", "a")], ("LREM", "k", "0", "a")),
    ([("RPUSH", "k", "a")], ("LSET", "k", "0", "a")),
    ([("RPUSH", "k", "a")], ("LINSERT", "k", "BEFORE", "zz", "b")),
    ([("RPUSH", "k", "a")], ("LINSERT", "k", "BEFORE", "a", "b")),
    ([], ("LPUSHX", "k", "a")),
    ([("RPUSH", "k", "a")], ("RPUSHX", "k", "b")),
    ([("RPUSH", "k", "a")], ("LPOP", "k", "0")),
    ([("RPUSH", "k", "a", "b")], ("RPOP", "k")),
    ([("RPUSH", "k", "a", "b")], ("LMOVE", "k", "k", "LEFT", "RIGHT")),
    ([("RPUSH", "o", "a")], ("LMOVE", "o", "k", "LEFT", "LEFT")),
    ([("RPUSH", "k", "a")], ("LMPOP", "1", "k", "LEFT", "COUNT", "5")),
    ([("RPUSH", "k", "a")], ("LPOS", "k", "a")),
]


@pytest.mark.parametrize(("setup", "command"), WATCH_CASES, ids=lambda c: " ".join(map(str, c)) if c else "-")
def test_which_commands_break_a_watch(
    cacheflow: ServerProcess, real_redis: ServerProcess, setup: list[tuple[str, ...]], command: tuple[str, ...]
) -> None:
    assert_watch_breaks_alike(cacheflow, real_redis, setup, command)
