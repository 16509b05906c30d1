"""What every non-string value type in the store provides.

Strings are stored as ``bytes`` (or ``bytearray`` once edited in place).  Each
other type (hash, list, set, sorted set) is a class in its own module of this
package that satisfies ``Collection``, so that generic commands (TYPE, OBJECT
ENCODING, MEMORY USAGE, COPY, SCAN's TYPE filter, SORT, and later the
snapshot writer) handle every type without a list of types of their own.

Invariants every type keeps:
- a database never holds an empty collection: the command that removes the
  last element deletes the key, as Redis does;
- ``encoding()`` reports Redis's encoding name for the same contents and
  configuration (listpack, quicklist, intset, hashtable, skiplist), switching
  at the same size thresholds, one way only, as Redis converts;
- ``copy()`` shares nothing mutable with the original.
"""

from typing import ClassVar, Protocol, Self


class Collection(Protocol):
    TYPE_NAME: ClassVar[bytes]  # what TYPE reports: b"hash", b"list", b"set", b"zset"

    def __len__(self) -> int: ...

    def encoding(self) -> bytes:
        """Redis's encoding name for this value, as OBJECT ENCODING reports it."""
        ...

    def memory_usage(self, samples: int) -> int:
        """Estimated bytes held by the value; ``samples`` bounds sampling of elements (0: all)."""
        ...

    def copy(self) -> Self:
        """An independent deep copy, for COPY."""
        ...
