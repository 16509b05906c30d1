"""The commands that recreate a key: what an AOF rewrite writes per key.

As Redis's rewrite does, a value becomes the fewest commands that rebuild it
(SET; RPUSH, SADD, ZADD, HSET in batches of at most 64 elements), followed by
PEXPIREAT for a key TTL and HPEXPIREAT for hash field TTLs.  Replaying them
through the engine yields the same contents, and therefore the same encodings,
since encodings follow from contents and the live thresholds.

Pure: values in, argv lists out.  A type this module does not know raises
TypeError, so a rewrite fails loudly instead of dropping a key.
"""

from collections.abc import Iterator

from cacheflow.store.hashes import Hash
from cacheflow.store.lists import ListValue
from cacheflow.store.sets import SetValue
from cacheflow.store.sorted_sets import SortedSet

ITEMS_PER_COMMAND = 64  # Redis's AOF_REWRITE_ITEMS_PER_CMD


def format_score(score: float) -> bytes:
    """A score that parses back to exactly the same double."""
    if score == float("inf"):
        return b"inf"
    if score == float("-inf"):
        return b"-inf"
    return repr(score).encode()


def _batches(items: list[bytes], width: int) -> Iterator[list[bytes]]:
    step = ITEMS_PER_COMMAND * width
    for i in range(0, len(items), step):
        yield items[i : i + step]


def rebuild_commands(key: bytes, value: object, expire_at: int | None) -> list[list[bytes]]:
    """The commands that recreate ``key`` holding ``value`` with TTL ``expire_at`` (ms, absolute)."""
    out: list[list[bytes]] = []
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        out.append([b"SET", key, bytes(value)])  # type: ignore[call-overload]
    elif isinstance(value, ListValue):
        for chunk in _batches(list(value.values()), 1):
            out.append([b"RPUSH", key, *chunk])
    elif isinstance(value, SetValue):
        for chunk in _batches(value.members(), 1):
            out.append([b"SADD", key, *chunk])
    elif isinstance(value, SortedSet):
        flat: list[bytes] = []
        for score, member in value.pairs():
            flat.append(format_score(score))
            flat.append(member)
        for chunk in _batches(flat, 2):
            out.append([b"ZADD", key, *chunk])
    elif isinstance(value, Hash):
        flat = []
        for f, v in value.items():
            flat.append(f)
            flat.append(v)
        for chunk in _batches(flat, 2):
            out.append([b"HSET", key, *chunk])
        if value.ttls:
            by_time: dict[int, list[bytes]] = {}
            for f, at in value.ttls.items():
                by_time.setdefault(at, []).append(f)
            for at, fields in sorted(by_time.items()):
                for chunk in _batches(fields, 1):
                    out.append([b"HPEXPIREAT", key, b"%d" % at, b"FIELDS", b"%d" % len(chunk), *chunk])
    else:
        raise TypeError(f"no rebuild commands for values of type {cls.__name__}")
    if expire_at is not None:
        out.append([b"PEXPIREAT", key, b"%d" % expire_at])
    return out
