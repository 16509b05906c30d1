"""The skiplist sorted set's ordered index: RESP bulk strings kept in (score, member) order.

It is a sortedcontainers SortedKeyList told each value's key rather than
computing it; see ``Order``.  This module stays interpreted on purpose:
scripts/build_native.py compiles store/sorted_sets.py, and a class compiled by
mypyc cannot subclass an interpreted class such as SortedKeyList (constructing
one crashed), so the subclass lives here and the compiled code calls it.
"""

from bisect import bisect_left, bisect_right

from sortedcontainers import SortedKeyList


def _no_key(value: object) -> object:
    raise AssertionError("Order is always given its keys")


class Order(SortedKeyList):  # type: ignore[misc]
    """A SortedKeyList that is told each value's key instead of computing it.

    Values are the members' RESP bulk strings (``$3\\r\\nabc\\r\\n``), keys are
    ``score_prefix(score) + member``: a ZRANGE reply is then one ``join`` of
    a slice of values, with no per-member work in Python.  The methods here
    work on sortedcontainers 2.4.0's (pinned) internal lists ``_lists``,
    ``_keys`` and ``_maxes``, and reuse its ``_expand``, ``_delete`` and
    ``_pos`` for splitting, merging and positional lookups; the inherited
    methods that would call the key function are never used.
    """

    def __init__(self) -> None:
        super().__init__(key=_no_key)

    def load(self, keys: list[bytes], values: list[bytes]) -> None:
        """Fill an empty list from keys already in order."""
        load = self._load
        for start in range(0, len(keys), load):
            self._keys.append(keys[start : start + load])
            self._lists.append(values[start : start + load])
            self._maxes.append(self._keys[-1][-1])
        self._len = len(keys)
        del self._index[:]

    def insert(self, key: bytes, value: bytes) -> None:
        maxes = self._maxes
        if not maxes:
            self._keys.append([key])
            self._lists.append([value])
            maxes.append(key)
        else:
            pos = bisect_right(maxes, key)
            if pos == len(maxes):
                pos -= 1
                maxes[pos] = key
                idx = len(self._keys[pos])
            else:
                idx = bisect_right(self._keys[pos], key)
            keys = self._keys[pos]
            keys.insert(idx, key)
            self._lists[pos].insert(idx, value)
            if self._index or len(keys) > self._load << 1:
                self._expand(pos)  # split a long sublist, or keep the positional index up to date
        self._len += 1

    def delete_key(self, key: bytes) -> None:
        maxes = self._maxes
        pos = bisect_left(maxes, key)
        idx = bisect_left(self._keys[pos], key)
        self._delete(pos, idx)

    def delete_at(self, index: int) -> None:
        self._delete(*self._pos(index))

    def key_at(self, index: int) -> bytes:
        pos, idx = self._pos(index)
        return self._keys[pos][idx]  # type: ignore[no-any-return]

    def _run(self, parts: list[list[bytes]], lo: int, hi: int) -> list[bytes]:
        hi = min(hi, self._len)
        if lo >= hi:
            return []
        pos, idx = self._pos(lo)
        out: list[bytes] = []
        need = hi - lo
        while need > 0:
            chunk = parts[pos][idx : idx + need]
            out += chunk
            need -= len(chunk)
            pos += 1
            idx = 0
        return out

    def keys_between(self, lo: int, hi: int) -> list[bytes]:
        return self._run(self._keys, lo, hi)

    def values_between(self, lo: int, hi: int) -> list[bytes]:
        return self._run(self._lists, lo, hi)
