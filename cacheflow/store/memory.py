"""Memory estimates for stored values (MEMORY USAGE) and their Redis-style encodings.

The model counts what one key costs *this* process, in CPython's terms:

    usage = sizeof(key object) + sizeof(value object) + DICT_ENTRY_BYTES
            [+ DICT_ENTRY_BYTES + sizeof(expiry int)   when the key has a TTL]

- ``sys.getsizeof`` gives the object sizes: a ``bytes`` value is its header
  (33 bytes) plus its length; a ``bytearray`` also counts the spare capacity it
  keeps for in-place growth.
- ``DICT_ENTRY_BYTES`` is one slot of a database dict: 24 bytes for the entry
  (hash, key pointer, value pointer) plus the index table, at the load a dict
  runs at between resizes.  42 is the measured average per entry of large
  CPython dicts across a resize cycle.
- A TTL adds an entry in the ``expires`` dict (which shares the key object) and
  the int holding the expiry time.

The running ``used_memory`` total (store/keyspace.py: ``key_cost``, ``value_cost``)
applies the same model per write, with pymalloc's 8-byte rounding added.

It is an estimate, as Redis's is: allocator rounding and shared objects are not
modelled.  Values of other types may define ``memory_usage(samples)``, which is
then used for the value part; anything else falls back to ``sys.getsizeof``.
"""

import sys

from cacheflow.store.keyspace import DICT_ENTRY_BYTES

# Redis stores strings of up to 44 bytes inline in their object header ("embstr").
EMBSTR_LIMIT = 44
_LONG_MAX_DIGITS = 20


def value_size(value: object, samples: int) -> int:
    """Bytes held by a value object; ``samples`` bounds sampling of aggregate values (0: all)."""
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        return sys.getsizeof(value)
    measure = getattr(value, "memory_usage", None)
    if callable(measure):
        return int(measure(samples))
    return sys.getsizeof(value)


def key_usage(key: bytes, value: object, expire_at: int | None, samples: int = 5) -> int:
    """The estimated bytes one key costs, by the model in the module docstring."""
    total = sys.getsizeof(key) + value_size(value, samples) + DICT_ENTRY_BYTES
    if expire_at is not None:
        total += DICT_ENTRY_BYTES + sys.getsizeof(expire_at)
    return total


def string_encoding(value: bytes | bytearray) -> bytes:
    """The encoding Redis would report for this string: int, embstr or raw.

    ``bytearray`` values were modified in place (APPEND, SETRANGE), which in
    Redis leaves a ``raw`` string.
    """
    if value.__class__ is bytearray:
        return b"raw"
    if len(value) <= _LONG_MAX_DIGITS and is_canonical_long(value):
        return b"int"
    return b"embstr" if len(value) <= EMBSTR_LIMIT else b"raw"


def is_canonical_long(value: bytes | bytearray) -> bool:
    """Whether the string is a 64-bit integer in canonical decimal form (what Redis stores as an int)."""
    if not value:
        return False
    digits = value[1:] if value[:1] == b"-" else value
    if not digits.isdigit() or (digits[:1] == b"0" and (len(digits) > 1 or value[:1] == b"-")):
        return False
    return -(2**63) <= int(value) < 2**63
