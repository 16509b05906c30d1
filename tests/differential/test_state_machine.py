"""Differential testing: random command sequences against real redis-server and CacheFlow.

A Hypothesis state machine sends each generated string, key, TTL and
transaction command to both servers and compares the replies exactly, with the
raw reader and the comparison rules of ``machine.py`` (shared with the
data-type machines in ``test_types_state_machine.py``).

Determinism despite two independent clocks:
- TTLs are long (100 s or more), so nothing expires during a run; expiry is
  exercised only with non-positive EXPIRE/PEXPIRE, which deletes at once.
- Every valid TTL is ``base + tick`` with ``tick`` increasing, so two TTLs in
  a run always differ by at least 500 ms.  EXPIRE ... GT/LT decisions then
  never depend on how many milliseconds passed between two commands.
- TTL and PTTL replies are compared with a tolerance (-1 and -2 exactly).

Each example starts with fresh connections and FLUSHALL on both servers.
On failure Hypothesis prints the shrunk sequence of rule calls (one command
each) and the assertion shows the command and both replies.
"""

from collections.abc import Iterator

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import rule, run_state_machine_as_test
from machine import DIFFERENTIAL, SHRINK_TIMEOUT, DifferentialMachine
from servers import cacheflow_server, real_redis_server

# --------------------------------------------------------------------------
# The state machine
# --------------------------------------------------------------------------

KEYS = [b"a", b"b", b"c"]
VALUES = [
    b"",
    b"0",
    b"1",
    b"-1",
    b"10",
    b"abc",
    b"3.5",
    b"1e3",
    b" 1",
    b"007",
    b"9223372036854775807",
    b"-9223372036854775808",
    b"\x00\xff\r\n",
]
TTL_BASES = [100, 10_000, 1_000_000]  # seconds; far apart so GT/LT outcomes are decided by the base
RAW_TTLS = [b"0", b"-1", b"abc", b"", b"1.5", b"9223372036854775807", b"-9223372036854775808"]
INTEGERS = [b"1", b"-1", b"0", b"10", b"9223372036854775807", b"-9223372036854775808", b"abc", b"1.5", b""]
FLOATS = [b"0.1", b"1.5", b"-2", b"3e2", b"10.50", b"abc", b"inf", b"-inf", b"1e308", b"", b"0x10"]
OFFSETS = [b"0", b"1", b"3", b"10", b"-1", b"-100", b"100", b"9223372036854775807", b"x"]
SETRANGE_OFFSETS = [b"0", b"1", b"3", b"10", b"-1", b"536870912", b"x"]
DBS = [b"0", b"1", b"1", b"16", b"-1", b"x"]

keys = st.sampled_from(KEYS)
values = st.sampled_from(VALUES)
# ("valid", base index) is turned into a fresh long TTL; ("raw", bytes) is sent as is.
ttls = st.one_of(
    st.tuples(st.just("valid"), st.integers(0, len(TTL_BASES) - 1)),
    st.tuples(st.just("raw"), st.sampled_from(RAW_TTLS)),
)


class StringsKeysTransactions(DifferentialMachine):
    """String, key, TTL and transaction commands on a tiny keyspace, compared reply by reply."""

    def __init__(self) -> None:
        super().__init__()
        self.tick = 0

    # -- helpers ----------------------------------------------------------

    def ttl_arg(self, spec: tuple[str, object], ms: bool) -> bytes:
        kind, value = spec
        if kind == "raw":
            assert isinstance(value, bytes)
            return value
        assert isinstance(value, int)
        self.tick += 1
        seconds = TTL_BASES[value] + self.tick
        return b"%d" % (seconds * 1000 + 500 if ms else seconds)

    # -- strings ----------------------------------------------------------

    @rule(
        key=keys,
        value=values,
        opts=st.lists(st.sampled_from(["NX", "XX", "GET", "KEEPTTL", "EX", "PX", "ex"]), max_size=3),
        specs=st.lists(ttls, min_size=3, max_size=3),
    )
    def set(self, key: bytes, value: bytes, opts: list[str], specs: list[tuple[str, object]]) -> None:
        args = [b"SET", key, value]
        for opt, spec in zip(opts, specs):
            args.append(opt.encode())
            if opt.upper() in ("EX", "PX"):
                args.append(self.ttl_arg(spec, ms=opt.upper() == "PX"))
        self.send(*args)

    @rule(key=keys)
    def get(self, key: bytes) -> None:
        self.send(b"GET", key)

    @rule(key=keys)
    def getdel(self, key: bytes) -> None:
        self.send(b"GETDEL", key)

    @rule(key=keys, opt=st.sampled_from(["", "EX", "PX", "PERSIST", "EX-missing", "EX+PERSIST"]), spec=ttls)
    def getex(self, key: bytes, opt: str, spec: tuple[str, object]) -> None:
        args = [b"GETEX", key]
        if opt in ("EX", "PX"):
            args += [opt.encode(), self.ttl_arg(spec, ms=opt == "PX")]
        elif opt == "PERSIST":
            args.append(b"PERSIST")
        elif opt == "EX-missing":
            args.append(b"EX")
        elif opt == "EX+PERSIST":
            args += [b"EX", self.ttl_arg(spec, ms=False), b"PERSIST"]
        self.send(*args)

    @rule(key=keys, value=values)
    def getset(self, key: bytes, value: bytes) -> None:
        self.send(b"GETSET", key, value)

    @rule(names=st.lists(keys, min_size=1, max_size=4))
    def mget(self, names: list[bytes]) -> None:
        self.send(b"MGET", *names)

    @rule(pairs=st.lists(st.tuples(keys, values), min_size=1, max_size=3), odd=st.booleans(), nx=st.booleans())
    def mset(self, pairs: list[tuple[bytes, bytes]], odd: bool, nx: bool) -> None:
        flat = [x for pair in pairs for x in pair]
        if odd:
            flat.pop()
        self.send(b"MSETNX" if nx else b"MSET", *flat)

    @rule(key=keys, value=values)
    def setnx(self, key: bytes, value: bytes) -> None:
        self.send(b"SETNX", key, value)

    @rule(key=keys, spec=ttls, value=values)
    def setex(self, key: bytes, spec: tuple[str, object], value: bytes) -> None:
        self.send(b"SETEX", key, self.ttl_arg(spec, ms=False), value)

    @rule(key=keys, value=values)
    def append(self, key: bytes, value: bytes) -> None:
        self.send(b"APPEND", key, value)

    @rule(key=keys)
    def strlen(self, key: bytes) -> None:
        self.send(b"STRLEN", key)

    @rule(key=keys, start=st.sampled_from(OFFSETS), end=st.sampled_from(OFFSETS))
    def getrange(self, key: bytes, start: bytes, end: bytes) -> None:
        self.send(b"GETRANGE", key, start, end)

    @rule(key=keys, offset=st.sampled_from(SETRANGE_OFFSETS), value=values)
    def setrange(self, key: bytes, offset: bytes, value: bytes) -> None:
        self.send(b"SETRANGE", key, offset, value)

    @rule(key=keys, command=st.sampled_from([b"INCR", b"DECR"]))
    def incr_decr(self, key: bytes, command: bytes) -> None:
        self.send(command, key)

    @rule(key=keys, command=st.sampled_from([b"INCRBY", b"DECRBY"]), amount=st.sampled_from(INTEGERS))
    def incrby_decrby(self, key: bytes, command: bytes, amount: bytes) -> None:
        self.send(command, key, amount)

    @rule(key=keys, amount=st.sampled_from(FLOATS))
    def incrbyfloat(self, key: bytes, amount: bytes) -> None:
        self.send(b"INCRBYFLOAT", key, amount)

    # -- keys -------------------------------------------------------------

    @rule(names=st.lists(keys, min_size=1, max_size=4))
    def delete(self, names: list[bytes]) -> None:
        self.send(b"DEL", *names)

    @rule(names=st.lists(keys, min_size=1, max_size=4))
    def exists(self, names: list[bytes]) -> None:
        self.send(b"EXISTS", *names)

    @rule(key=keys)
    def type_(self, key: bytes) -> None:
        self.send(b"TYPE", key)

    @rule(src=keys, dst=keys, nx=st.booleans())
    def rename(self, src: bytes, dst: bytes, nx: bool) -> None:
        self.send(b"RENAMENX" if nx else b"RENAME", src, dst)

    @rule(
        src=keys,
        dst=keys,
        db=st.sampled_from([None, b"0", b"1", b"16", b"x"]),
        replace=st.booleans(),
    )
    def copy(self, src: bytes, dst: bytes, db: bytes | None, replace: bool) -> None:
        args = [b"COPY", src, dst]
        if db is not None:
            args += [b"DB", db]
        if replace:
            args.append(b"REPLACE")
        self.send(*args)

    @rule(
        key=keys,
        command=st.sampled_from([b"EXPIRE", b"PEXPIRE"]),
        spec=ttls,
        flags=st.lists(st.sampled_from([b"NX", b"XX", b"GT", b"LT", b"nx", b"ZZ"]), max_size=2),
    )
    def expire(self, key: bytes, command: bytes, spec: tuple[str, object], flags: list[bytes]) -> None:
        self.send(command, key, self.ttl_arg(spec, ms=command == b"PEXPIRE"), *flags)

    @rule(key=keys, command=st.sampled_from([b"TTL", b"PTTL"]))
    def ttl(self, key: bytes, command: bytes) -> None:
        self.send(command, key)

    @rule(key=keys)
    def persist(self, key: bytes) -> None:
        self.send(b"PERSIST", key)

    @rule()
    def dbsize(self) -> None:
        self.send(b"DBSIZE")

    @rule(pattern=st.sampled_from([b"*", b"*", b"?", b"[ab]", b"nomatch"]))
    def keys_(self, pattern: bytes) -> None:
        self.send(b"KEYS", pattern)

    @rule(db=st.sampled_from(DBS))
    def select(self, db: bytes) -> None:
        self.send(b"SELECT", db)

    # -- transactions -----------------------------------------------------

    @rule()
    def multi(self) -> None:
        self.send(b"MULTI")

    @rule()
    def exec_(self) -> None:
        self.send(b"EXEC")

    @rule()
    def discard(self) -> None:
        self.send(b"DISCARD")

    @rule(names=st.lists(keys, min_size=1, max_size=3))
    def watch(self, names: list[bytes]) -> None:
        self.send(b"WATCH", *names)

    @rule()
    def unwatch(self) -> None:
        self.send(b"UNWATCH")

    @rule(key=keys, value=values, delete=st.booleans())
    def other_client_writes(self, key: bytes, value: bytes, delete: bool) -> None:
        """A second connection (db 0) touches a key the first may be WATCHing."""
        if delete:
            self.send(b"DEL", key, other=True)
        else:
            self.send(b"SET", key, value, other=True)

    @rule(key=keys)
    def arity_error_in_transaction(self, key: bytes) -> None:
        """A wrong-arity command: refused at once, and inside MULTI it makes EXEC fail with EXECABORT."""
        self.send(b"GET", key, key)


@pytest.fixture(scope="module")
def ports() -> Iterator[tuple[int, int]]:
    """A dedicated pair, so other suites' configuration changes cannot skew the comparison."""
    with real_redis_server() as redis_srv, cacheflow_server() as cf_srv:
        yield redis_srv.port, cf_srv.port


@pytest.mark.timeout(SHRINK_TIMEOUT)
def test_strings_keys_and_transactions_match_redis(ports: tuple[int, int]) -> None:
    StringsKeysTransactions.redis_port, StringsKeysTransactions.cacheflow_port = ports
    run_state_machine_as_test(StringsKeysTransactions, settings=DIFFERENTIAL)
