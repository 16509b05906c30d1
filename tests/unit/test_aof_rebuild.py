"""A rewrite's base replays to the same keyspace (values, TTLs, encodings), through the real engine."""

import io
import random

from engine_harness import NOW, Harness

from cacheflow.persistence.recovery import Replayer, scan
from cacheflow.persistence.rewrite import write_frames


def _snapshot(h: Harness) -> dict[tuple[int, bytes], tuple[object, ...]]:
    out: dict[tuple[int, bytes], tuple[object, ...]] = {}
    for db in h.keyspace.dbs:
        h("SELECT", str(db.index))
        for key in db.live_keys():
            kind = h("TYPE", key)
            value: object
            if kind == b"string":
                value = h("GET", key)
            elif kind == b"list":
                value = h("LRANGE", key, "0", "-1")
            elif kind == b"set":
                value = sorted(h("SMEMBERS", key))
            elif kind == b"zset":
                value = h("ZRANGE", key, "0", "-1", "WITHSCORES")
            else:
                assert kind == b"hash", kind  # TYPE is a status reply: bytes
                value = sorted(h("HGETALL", key))
            out[(db.index, key)] = (kind, value, h("PEXPIRETIME", key), h("OBJECT", "ENCODING", key))
    h("SELECT", "0")
    return out


def _populate(h: Harness, rng: random.Random) -> None:
    for _ in range(300):
        h("SELECT", str(rng.randrange(3)))
        k = f"k{rng.randrange(60)}"
        n = rng.randrange(1, 150)
        op = rng.randrange(7)
        if op == 0:
            h("SET", k, rng.randbytes(rng.randrange(20)))
        elif op == 1:
            h("RPUSH", k, *[str(rng.randrange(1000)) for _ in range(n)])
        elif op == 2:
            h("SADD", k, *[str(rng.randrange(1000) if rng.random() < 0.5 else rng.random()) for _ in range(n)])
        elif op == 3:
            args = []
            for _ in range(n):
                args += [
                    repr(rng.choice([rng.random() * 1e20, -rng.random(), float(rng.randrange(9)), float("inf")])),
                    f"m{rng.randrange(200)}",
                ]
            h("ZADD", k, *args)
        elif op == 4:
            args = []
            for _ in range(n):
                args += [f"f{rng.randrange(200)}", "v" * rng.randrange(80)]
            h("HSET", k, *args)
        elif op == 5:
            h("PEXPIREAT", k, str(NOW + rng.randrange(1, 10**7)))
        else:
            h("DEL", k)


def test_rebuilt_keyspace_is_identical() -> None:
    rng = random.Random(3)
    h1 = Harness()
    _populate(h1, rng)
    buf = io.BytesIO()
    write_frames(h1.keyspace, buf, NOW)
    entries, report = scan(buf.getvalue(), "base")
    assert report.problem is None
    h2 = Harness(clock=h1.clock)
    replay = Replayer(h2.engine, h2.client())
    for _, argv in entries:
        replay.apply(argv)
    assert replay.failed == 0
    assert _snapshot(h1) == _snapshot(h2)
