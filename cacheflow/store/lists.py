"""The list type: a sequence of byte strings with O(1) push and pop at both ends.

Elements are kept *already encoded* as RESP bulk strings (``$3\\r\\nfoo\\r\\n``),
called pieces here.  A bulk string has the same wire form in RESP2 and RESP3,
so LPOP, LINDEX and LRANGE answer by returning or joining stored pieces instead
of formatting every element on every read, which is what makes LRANGE_100 cheap
in Python.  Two pieces are equal exactly when their elements are, so searches
(LPOS, LREM, LINSERT) compare pieces with the encoded probe.

Two representations, chosen for memory and switched one way, small to big:

- small (``items is None``): every piece concatenated into one ``bytes``
  (``_blob``) plus one byte per piece holding its length (``_lens``).  Two
  objects per list whatever its length, which keeps 100,000 ten-element lists
  near Redis's listpack footprint; offsets are C-speed sums over ``_lens``, so
  push, pop, index and range never loop in Python.  It holds at most
  ``SMALL_MAX_ITEMS`` pieces of at most 255 bytes and ``SMALL_MAX_BYTES`` in all.
- big: a ``deque`` of pieces (``items``), O(1) at both ends, C-speed indexing
  and search.  ``items`` is public so that the hottest commands (LPUSH, LPOP
  of one element) can act on the deque without a method call; it is None in
  small mode, and nothing outside this module may replace it.

OBJECT ENCODING reports ``quicklist`` for every list, as Redis 7.0 does (the
``listpack`` list encoding arrived in 7.2), so the switch is invisible.

Invariants: a stored list is never empty (the command that removes the last
element deletes the key); in small mode ``len(_lens)`` is the length and
``sum(_lens) == len(_blob)``; in big mode ``_blob`` and ``_lens`` are empty.
"""

import sys
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import ClassVar, Final

SMALL_MAX_ITEMS: Final = 128
SMALL_MAX_BYTES: Final = 8192
_MAX_SMALL_PIECE: Final = 255


# Bulk headers for short elements: concatenating one is 2-3x faster than %-formatting.
HEADERS: Final = [b"$%d\r\n" % n for n in range(1024)]


def encode(value: bytes | bytearray) -> bytes:
    """An element as the piece stored for it: its RESP bulk-string form."""
    n = len(value)
    return (HEADERS[n] if n < 1024 else b"$%d\r\n" % n) + value + b"\r\n"


def decode(piece: bytes) -> bytes:
    """The element a stored piece holds."""
    return piece[piece.index(b"\n") + 1 : -2]


def _split(blob: bytes, lens: bytes) -> list[bytes]:
    out = []
    pos = 0
    for n in lens:
        end = pos + n
        out.append(blob[pos:end])
        pos = end
    return out


def _clamp_range(start: int, stop: int, length: int) -> tuple[int, int] | None:
    """Redis's LRANGE/LTRIM index rules: (first, last) inclusive, or None when empty."""
    if start < 0:
        start += length
    if stop < 0:
        stop += length
    if start < 0:
        start = 0
    if start > stop or start >= length:
        return None
    if stop >= length:
        stop = length - 1
    return start, stop


def _allocated(element: bytes) -> int:
    """An element's size as allocated: pymalloc rounds every object up to 8 bytes (bench/memory_estimate.py
    found a big list of 17-byte elements 22% under its resident size without this)."""
    return (sys.getsizeof(element) + 7) & ~7


class ListValue:
    TYPE_NAME: ClassVar[bytes] = b"list"
    __slots__ = ("_blob", "_lens", "items")

    def __init__(self) -> None:
        self._blob = b""
        self._lens = b""
        self.items: deque[bytes] | None = None

    @classmethod
    def from_values(cls, values: Iterable[bytes | bytearray]) -> "ListValue":
        """A list of these elements in order (for SORT ... STORE, RESTORE and tests)."""
        value = cls()
        value.push([encode(v) for v in values], left=False)
        return value

    # -- Collection contract -----------------------------------------------------

    def __len__(self) -> int:
        items = self.items
        return len(self._lens) if items is None else len(items)

    def encoding(self) -> bytes:
        return b"quicklist"

    def memory_usage(self, samples: int) -> int:
        own = sys.getsizeof(self)
        items = self.items
        if items is None:
            return own + sys.getsizeof(self._blob) + sys.getsizeof(self._lens)
        total = own + sys.getsizeof(items)
        n = len(items)
        if not samples or samples >= n:
            return total + sum(map(_allocated, items))
        sampled = sum(map(_allocated, islice(items, samples)))
        return total + sampled * n // samples

    def copy(self) -> "ListValue":
        other = ListValue()
        items = self.items
        if items is None:
            other._blob = self._blob  # immutable bytes: sharing is copying
            other._lens = self._lens
        else:
            other.items = deque(items)
        return other

    # -- reading -----------------------------------------------------------------

    def pieces(self) -> list[bytes]:
        """Every piece, head to tail."""
        items = self.items
        return _split(self._blob, self._lens) if items is None else list(items)

    def values(self) -> Iterator[bytes]:
        """Every element (decoded), head to tail."""
        return map(decode, self.pieces())

    def index(self, index: int) -> bytes | None:
        """The piece at ``index`` (negative counts from the tail), or None when out of range."""
        items = self.items
        if items is None:
            lens = self._lens
            n = len(lens)
            if index < 0:
                index += n
            if not 0 <= index < n:
                return None
            off = sum(lens[:index])
            return self._blob[off : off + lens[index]]
        n = len(items)
        if index < 0:
            index += n
        if not 0 <= index < n:
            return None
        return items[index]

    def range(self, start: int, stop: int) -> tuple[int, bytes]:
        """LRANGE: (number of elements, their pieces joined), Redis's index rules."""
        span = _clamp_range(start, stop, len(self))
        if span is None:
            return 0, b""
        first, last = span
        count = last - first + 1
        items = self.items
        if items is None:
            lens = self._lens
            if count == len(lens):
                return count, self._blob
            off = sum(lens[:first])
            return count, self._blob[off : off + sum(lens[first : last + 1])]
        n = len(items)
        if first > n - 1 - last:  # nearer the tail: walk from there
            parts = list(islice(reversed(items), n - 1 - last, n - first))
            parts.reverse()
            return count, b"".join(parts)
        return count, b"".join(islice(items, first, last + 1))

    def positions(self, piece: bytes, rank: int, count: int, maxlen: int) -> list[int]:
        """LPOS: indexes of matches, skipping ``|rank| - 1`` of them first.

        ``rank`` is non-zero, negative to scan from the tail; ``count`` 0 means
        every match; ``maxlen`` 0 means no limit on the elements compared.
        """
        items = self.items
        seq: list[bytes] | deque[bytes] = _split(self._blob, self._lens) if items is None else items
        n = len(seq)
        limit = n if maxlen == 0 else min(n, maxlen)
        out: list[int] = []
        matches = 0
        if rank > 0:
            pos = 0
            while pos < limit:
                try:
                    i = seq.index(piece, pos, limit)
                except ValueError:
                    break
                matches += 1
                if matches >= rank:
                    out.append(i)
                    if count and len(out) >= count:
                        break
                pos = i + 1
            return out
        rank = -rank
        for j, x in enumerate(reversed(seq)):
            if j >= limit:
                break
            if x == piece:
                matches += 1
                if matches >= rank:
                    out.append(n - 1 - j)
                    if count and len(out) >= count:
                        break
        return out

    # -- writing -----------------------------------------------------------------

    def _grow(self) -> deque[bytes]:
        """Switch to the big representation (one way, as Redis's conversions)."""
        items = self.items
        if items is None:
            items = self.items = deque(_split(self._blob, self._lens))
            self._blob = self._lens = b""
        return items

    def _store_small(self, blob: bytes, lens: bytes) -> None:
        if len(lens) > SMALL_MAX_ITEMS or len(blob) > SMALL_MAX_BYTES:
            self.items = deque(_split(blob, lens))
            self._blob = self._lens = b""
        else:
            self._blob = blob
            self._lens = lens

    def push(self, pieces: list[bytes], left: bool) -> int:
        """LPUSH/RPUSH the pieces one after the other; returns the new length."""
        items = self.items
        if items is None:
            try:
                lens = bytes(map(len, pieces))
            except ValueError:  # a piece longer than 255 bytes
                items = self._grow()
            else:
                if left:
                    self._store_small(b"".join(reversed(pieces)) + self._blob, lens[::-1] + self._lens)
                else:
                    self._store_small(self._blob + b"".join(pieces), self._lens + lens)
                items = self.items
                if items is None:
                    return len(self._lens)
                return len(items)
        if left:
            items.extendleft(pieces)
        else:
            items.extend(pieces)
        return len(items)

    def pop(self, left: bool) -> bytes:
        """Remove and return the piece at one end (the list must not be empty)."""
        items = self.items
        if items is not None:
            return items.popleft() if left else items.pop()
        lens = self._lens
        blob = self._blob
        if left:
            n = lens[0]
            self._blob = blob[n:]
            self._lens = lens[1:]
            return blob[:n]
        n = lens[-1]
        self._blob = blob[:-n]
        self._lens = lens[:-1]
        return blob[-n:]

    def pop_many(self, count: int, left: bool) -> tuple[int, bytes]:
        """Pop up to ``count`` pieces from one end: (how many, joined in pop order)."""
        items = self.items
        if items is None:
            lens = self._lens
            blob = self._blob
            k = min(count, len(lens))
            if left:
                off = sum(lens[:k])
                self._blob = blob[off:]
                self._lens = lens[k:]
                return k, blob[:off]
            off = len(blob) - sum(lens[len(lens) - k :])
            taken = _split(blob[off:], lens[len(lens) - k :])
            taken.reverse()
            self._blob = blob[:off]
            self._lens = lens[: len(lens) - k]
            return k, b"".join(taken)
        k = min(count, len(items))
        take = items.popleft if left else items.pop
        return k, b"".join([take() for _ in range(k)])

    def set(self, index: int, piece: bytes) -> bool:
        """LSET; False when ``index`` is out of range."""
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            return False
        items = self.items
        if items is None and len(piece) > _MAX_SMALL_PIECE:
            items = self._grow()
        if items is not None:
            items[index] = piece
            return True
        lens = self._lens
        off = sum(lens[:index])
        blob = self._blob
        self._store_small(
            blob[:off] + piece + blob[off + lens[index] :],
            lens[:index] + bytes((len(piece),)) + lens[index + 1 :],
        )
        return True

    def insert(self, pivot: bytes, piece: bytes, after: bool) -> int:
        """LINSERT: the new length, or -1 when ``pivot`` is not in the list."""
        items = self.items
        if items is None:
            pieces = _split(self._blob, self._lens)
            try:
                i = pieces.index(pivot)
            except ValueError:
                return -1
            pieces.insert(i + 1 if after else i, piece)
            self._rebuild_small(pieces)
            return len(pieces)
        try:
            i = items.index(pivot)
        except ValueError:
            return -1
        items.insert(i + 1 if after else i, piece)
        return len(items)

    def _rebuild_small(self, pieces: list[bytes]) -> None:
        try:
            lens = bytes(map(len, pieces))
        except ValueError:
            self.items = deque(pieces)
            self._blob = self._lens = b""
            return
        self._store_small(b"".join(pieces), lens)

    def remove(self, piece: bytes, count: int) -> int:
        """LREM: remove up to |count| matches (from the tail when negative, all when 0)."""
        items = self.items
        seq = _split(self._blob, self._lens) if items is None else list(items)
        if count < 0:
            seq.reverse()
        limit = abs(count) or len(seq)
        kept = []
        removed = 0
        for x in seq:
            if removed < limit and x == piece:
                removed += 1
            else:
                kept.append(x)
        if not removed:
            return 0
        if count < 0:
            kept.reverse()
        if items is None:
            self._rebuild_small(kept)
        else:
            self.items = deque(kept)
        return removed

    def trim(self, start: int, stop: int) -> int:
        """LTRIM with Redis's index rules; returns how many elements were removed."""
        n = len(self)
        span = _clamp_range(start, stop, n)
        if span is None:
            first, last = n, n - 1  # remove everything
        else:
            first, last = span
        left, right = first, n - 1 - last
        if not left and not right:
            return 0
        items = self.items
        if items is None:
            lens = self._lens
            if left + right >= n:
                self._blob = self._lens = b""
                return n
            start_off = sum(lens[:left])
            end_off = len(self._blob) - sum(lens[n - right :])
            self._blob = self._blob[start_off:end_off]
            self._lens = lens[left : n - right]
            return left + right
        if left + right >= n:
            items.clear()
        elif left + right <= n - left - right:
            for _ in range(left):
                items.popleft()
            for _ in range(right):
                items.pop()
        else:
            self.items = deque(islice(items, left, n - right))
        return left + right
