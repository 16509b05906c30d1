"""The set type: an unordered collection of distinct byte strings.

Two representations, mirroring Redis 7.0's two set encodings and switched one
way, intset to hashtable, at the same moments Redis converts:

- intset (``table is None``): every member is a 64-bit integer in canonical
  decimal form (what Redis's string2ll accepts), held sorted in one packed
  ``bytes`` blob whose first byte is the array type code (``h``, ``i`` or
  ``q``) and the rest the native machine integers, as narrow as the values
  allow.  Two objects per set whatever its size keeps 100,000 ten-member sets
  near Redis's footprint.  Iteration is in ascending numeric order, as Redis's
  intset iterates, so replies that Redis orders deterministically (SMEMBERS,
  SUNION, SRANDMEMBER of the whole set...) come out in the same order.
- hashtable (``table`` is a ``_Table``): a dict mapping each member to its
  index in ``table.order``, the list of members.  Removal moves the last
  member into the freed slot, so every operation is O(1) and a random member
  is one ``randrange`` away.  The list's order depends only on the operations
  applied, never on string hashes, so a seeded random generator makes SPOP
  and SRANDMEMBER reproducible across processes.

Conversion happens when a member that is not a canonical integer is added, or
when an addition leaves more than ``max_intset`` members (capped at 2**30, as
Redis caps set-max-intset-entries); it never goes back, even when the set
shrinks.  Building a set from scratch (SADD on a new key, SMOVE into a new key,
the *STORE commands) follows the same rule from an empty intset.

Invariants: in hashtable mode ``_ints`` is empty, ``len(table.order) ==
len(table)`` and ``table.order[table[m]] == m`` for every member.  A stored
set is never empty: the commands delete the key when the last member goes.
``table`` is public so that hot command paths can test membership without a
Python-level call; only this module changes it.
"""

import sys
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from random import Random
from typing import ClassVar, Final, Literal

_INTSET_HARD_LIMIT: Final = 1 << 30
_LL_MIN: Final = -(2**63)
_LL_MAX: Final = 2**63 - 1
_I16: Final = (-(2**15), 2**15 - 1)
_I32: Final = (-(2**31), 2**31 - 1)
# The blob's first byte names its array type code.
_CODE_OF_BYTE: Final[dict[int, Literal["h", "i", "q"]]] = {ord("h"): "h", ord("i"): "i", ord("q"): "q"}
_WIDTH_OF_BYTE: Final = {ord("h"): 2, ord("i"): 4, ord("q"): 8}
_EMPTY_INTS: Final = b"h"
_INT_START: Final = frozenset(b"-0123456789")
_DIGITS: Final = frozenset(b"0123456789")
# SPOP with a count rebuilds the set when at most a fifth as many members stay (Redis's SPOP_MOVE_STRATEGY_MUL).
_SPOP_REBUILD_RATIO: Final = 5


def int_member(member: bytes) -> int | None:
    """The integer a member spells in canonical form (string2ll), or None.

    A cheap look at the first and last byte rejects most non-numbers before
    int() gets the chance to raise; the round trip through ``%d`` rejects what
    int() tolerates but Redis does not (``+1``, ``01``, ``-0``, ``1_0``, blanks).
    """
    if 0 < len(member) <= 20 and member[0] in _INT_START and member[-1] in _DIGITS:
        try:
            value = int(member)
        except ValueError:
            return None
        if _LL_MIN <= value <= _LL_MAX and b"%d" % value == member:
            return value
    return None


def _pack(values: list[int]) -> bytes:
    """The blob for ascending ``values``, in the narrowest type that holds them."""
    if not values:
        return _EMPTY_INTS
    lo, hi = values[0], values[-1]
    code: Literal["h", "i", "q"]
    if lo >= _I16[0] and hi <= _I16[1]:
        code = "h"
    elif lo >= _I32[0] and hi <= _I32[1]:
        code = "i"
    else:
        code = "q"
    return code.encode() + array(code, values).tobytes()


def _fits(value: int, code: str) -> bool:
    """Whether ``value`` fits the blob's current integer width."""
    if code == "h":
        return _I16[0] <= value <= _I16[1]
    return code == "q" or _I32[0] <= value <= _I32[1]


def _view(blob: bytes) -> "memoryview[int]":
    """The blob's integers as a sequence (bisect and indexing work on it without copying)."""
    return memoryview(blob)[1:].cast(_CODE_OF_BYTE[blob[0]])


def _cap(max_intset: int) -> int:
    return max_intset if max_intset < _INTSET_HARD_LIMIT else _INTSET_HARD_LIMIT


_INT_BYTES: Final = 32  # an int object under pymalloc
_CACHED_INTS: Final = 257


class _Table(dict[bytes, int]):
    """A hashtable set's members mapped to their index in ``order``; one object, so a set needs two slots."""

    __slots__ = ("order",)

    def __init__(self, items: list[bytes]) -> None:
        super().__init__(zip(items, range(len(items))))
        self.order = items


class SetValue:
    TYPE_NAME: ClassVar[bytes] = b"set"
    __slots__ = ("_ints", "table")

    def __init__(self) -> None:
        """An empty intset; callers add members before storing it."""
        self._ints = _EMPTY_INTS
        # The hashtable, or None for an intset; read-only outside this module.
        self.table: _Table | None = None

    @classmethod
    def from_members(cls, members: Iterable[bytes], max_intset: int, distinct: bool = False) -> "SetValue":
        """A set holding ``members``, encoded as Redis encodes a set built by adding them one by one.

        ``distinct`` says the caller knows there are no duplicates, which saves a pass; a list
        passed that way becomes the set's own and must not be used by the caller afterwards.
        """
        unique = members if distinct and isinstance(members, list) else list(dict.fromkeys(members))
        value = cls()
        if len(unique) <= _cap(max_intset):
            ints = []
            for m in unique:
                v = int_member(m)
                if v is None:
                    break
                ints.append(v)
            else:
                ints.sort()
                value._ints = _pack(ints)
                return value
        value._ints = b""
        value.table = _Table(unique)
        return value

    # -- the Collection contract ------------------------------------------------

    def __len__(self) -> int:
        table = self.table
        if table is None:
            blob = self._ints
            return (len(blob) - 1) // _WIDTH_OF_BYTE[blob[0]]
        return len(table)

    def encoding(self) -> bytes:
        return b"intset" if self.table is None else b"hashtable"

    def memory_usage(self, samples: int) -> int:
        """Object sizes as CPython counts them; hashtable members are sampled as Redis samples them."""
        total = sys.getsizeof(self)
        table = self.table
        if table is None:
            return total + sys.getsizeof(self._ints)
        items = table.order
        total += sys.getsizeof(table) + sys.getsizeof(items)
        # The table's own attribute dict (compiled builds give a dict subclass one despite
        # __slots__), and the index ints it maps members to (CPython caches those below 257).
        attrs = getattr(table, "__dict__", None)
        if attrs is not None:
            total += sys.getsizeof(attrs)
        n = len(items)
        total += _INT_BYTES * max(0, n - _CACHED_INTS)
        if n:
            k = n if samples <= 0 or samples >= n else samples
            sampled = sum(sys.getsizeof(items[i]) for i in range(k))
            total += sampled * n // k
        return total

    def copy(self) -> "SetValue":
        clone = SetValue()
        clone._ints = self._ints  # immutable
        if self.table is not None:
            clone.table = _Table(list(self.table.order))
        return clone

    # -- reading ------------------------------------------------------------------

    def __contains__(self, member: bytes) -> bool:
        table = self.table
        if table is not None:
            return member in table
        v = int_member(member)
        if v is None:
            return False
        view = _view(self._ints)
        i = bisect_left(view, v)
        return i < len(view) and view[i] == v

    def members(self) -> list[bytes]:
        """Every member, in iteration order (ascending for an intset); a new list."""
        table = self.table
        if table is None:
            return [b"%d" % v for v in _view(self._ints).tolist()]
        return list(table.order)

    def membership(self) -> Callable[[bytes], bool]:
        """A membership test to call many times (a hashtable's is the dict's own, C-speed, one)."""
        table = self.table
        if table is None:
            return self.__contains__
        return table.__contains__

    def __iter__(self) -> Iterator[bytes]:
        """Members in iteration order; the set must not change while iterating."""
        table = self.table
        if table is None:
            return iter(self.members())
        return iter(table.order)

    def random_member(self, rng: Random) -> bytes:
        table = self.table
        if table is None:
            view = _view(self._ints)
            return b"%d" % view[rng.randrange(len(view))]
        items = table.order
        return items[rng.randrange(len(items))]

    def random_sample(self, rng: Random, count: int) -> list[bytes]:
        """``count`` distinct members in random order; ``count`` must be below the size."""
        indexes = rng.sample(range(len(self)), count)
        table = self.table
        if table is None:
            view = _view(self._ints)
            return [b"%d" % view[i] for i in indexes]
        items = table.order
        return [items[i] for i in indexes]

    def random_choices(self, rng: Random, count: int) -> list[bytes]:
        """``count`` members drawn independently (repeats allowed), for a negative SRANDMEMBER count."""
        table = self.table
        population = self.members() if table is None else table.order
        return rng.choices(population, k=count)

    def scan(self, cursor: int, count: int) -> tuple[int, list[bytes]]:
        """One SSCAN step: (next cursor, members).

        An intset answers everything at once with cursor 0, as Redis does.  A
        hashtable is walked from the end of its member list towards the start,
        and the cursor is the number of slots not yet visited: removal only
        moves the last member (already visited) downwards and additions land
        past the end, so a member present for the whole iteration is always
        returned, as Redis guarantees, though one moved into the unvisited
        part may come back twice (Redis allows that too).  Compacting the
        list while keeping the members' relative order (a big SPOP) only moves
        members towards the start, which keeps the same guarantee.
        """
        table = self.table
        if table is None:
            return 0, self.members()
        items = table.order
        n = len(items)
        top = n if cursor == 0 or cursor > n else cursor
        bottom = top - count if top > count else 0
        return bottom, items[bottom:top]

    # -- writing --------------------------------------------------------------------

    def add_one(self, member: bytes, max_intset: int) -> bool:
        """Add one member; whether it was new.  SADD's common case, kept to a dict probe for a hashtable."""
        table = self.table
        if table is not None:
            if member in table:
                return False
            order = table.order
            table[member] = len(order)
            order.append(member)
            return True
        v = int_member(member)
        if v is None:
            return self._add_to_intset([member], max_intset) > 0
        blob = self._ints
        view = _view(blob)
        i = bisect_left(view, v)
        n = len(view)
        if i < n and view[i] == v:
            return False
        code = _CODE_OF_BYTE[blob[0]]
        if n + 1 > _cap(max_intset) or not _fits(v, code):
            return self._add_to_intset([member], max_intset) > 0
        at = 1 + i * view.itemsize
        self._ints = blob[:at] + array(code, (v,)).tobytes() + blob[at:]
        return True

    def add(self, members: Iterable[bytes], max_intset: int) -> int:
        """Add members; returns how many were new."""
        table = self.table
        if table is not None:
            items = table.order
            before = len(items)
            for m in members:
                if m not in table:
                    table[m] = len(items)
                    items.append(m)
            return len(items) - before
        return self._add_to_intset(list(members), max_intset)

    def _add_to_intset(self, members: list[bytes], max_intset: int) -> int:
        new: list[int] = []
        for m in members:
            v = int_member(m)
            if v is None:
                self._to_hashtable()
                return self.add(members, max_intset)
            new.append(v)
        current = _view(self._ints).tolist()
        merged = set(current)
        merged.update(new)
        added = len(merged) - len(current)
        if not added:
            return 0
        if len(merged) > _cap(max_intset):
            self._to_hashtable()
            self.add(members, max_intset)
        else:
            self._ints = _pack(sorted(merged))
        return added

    def _to_hashtable(self) -> None:
        self.table = _Table(self.members())
        self._ints = b""

    def remove(self, members: Iterable[bytes]) -> int:
        """Remove members; returns how many were present."""
        table = self.table
        if table is None:
            return self._remove_from_intset(members)
        removed = 0
        for m in members:
            i = table.pop(m, None)
            if i is not None:
                _unlink(table, i)
                removed += 1
        return removed

    def _remove_from_intset(self, members: Iterable[bytes]) -> int:
        gone = {v for v in map(int_member, members) if v is not None}
        if not gone:
            return 0
        current = _view(self._ints).tolist()
        kept = [v for v in current if v not in gone]
        removed = len(current) - len(kept)
        if removed:
            self._ints = _pack(kept)
        return removed

    def pop_random(self, rng: Random) -> tuple[bytes, int]:
        """Remove a random member; (that member, how many are left).  The set must not be empty."""
        table = self.table
        if table is None:
            current = _view(self._ints).tolist()
            v = current.pop(rng.randrange(len(current)))
            self._ints = _pack(current)
            return b"%d" % v, len(current)
        items = table.order
        i = rng.randrange(len(items))
        member = items[i]
        del table[member]
        last = items.pop()
        if i < len(items):
            items[i] = last
            table[last] = i
        return member, len(items)

    def pop_many(self, rng: Random, count: int, max_intset: int) -> list[bytes]:
        """Remove and return ``count`` distinct random members; ``count`` must be below the size."""
        table = self.table
        if table is None:
            current = _view(self._ints).tolist()
            indexes = rng.sample(range(len(current)), count)
            taken = set(indexes)
            popped = [b"%d" % current[i] for i in indexes]
            self._ints = _pack([v for i, v in enumerate(current) if i not in taken])
            return popped
        items = table.order
        n = len(items)
        if count * 4 > n:
            # Many members: draw them all at once and compact the rest, keeping their relative
            # order; members only move towards the start, which SSCAN's walk allows (see scan).
            if count * 2 > n:
                # Drawing the members that stay is the shorter job; the rest go in list order.
                kept = set(rng.sample(range(n), n - count))
                popped = [m for i, m in enumerate(items) if i not in kept]
                staying = [m for i, m in enumerate(items) if i in kept]
                if (n - count) * _SPOP_REBUILD_RATIO <= count:
                    # Redis builds a new set from the members that stay here (SPOP's third
                    # strategy), so the set becomes an intset again if they are all integers.
                    rebuilt = SetValue.from_members(staying, max_intset, distinct=True)
                    self._ints, self.table = rebuilt._ints, rebuilt.table
                else:
                    self.table = _Table(staying)
                return popped
            indexes = rng.sample(range(n), count)
            taken = set(indexes)
            popped = [items[i] for i in indexes]
            self.table = _Table([m for i, m in enumerate(items) if i not in taken])
            return popped
        randrange = rng.randrange
        popped = []
        for _ in range(count):
            i = randrange(len(items))
            member = items[i]
            del table[member]
            _unlink(table, i)
            popped.append(member)
        return popped


def _unlink(table: _Table, index: int) -> None:
    """Close the gap at ``index`` (already gone from ``table``) by moving the last member into it."""
    items = table.order
    last = items.pop()
    if index < len(items):
        items[index] = last
        table[last] = index
