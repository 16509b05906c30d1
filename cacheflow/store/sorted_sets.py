"""The sorted set type: distinct byte-string members, each with a double score.

Members are ordered by (score, member), members compared bytewise, as Redis
orders them; equal scores (``0`` and ``-0`` included) fall back to the member.
Two representations mirror Redis 7.0's two encodings and switch one way,
listpack to skiplist, at the moments Redis converts:

- listpack (``_big is None``): the whole set is one ``bytes`` blob, the
  ``marshal`` form of the flat list ``[score0, member0, score1, member1, ...]``
  in order.  One object per set is what keeps 100,000 ten-member sets within
  reach of Redis's footprint (a Python ``bytes`` per member would cost more
  than the whole listpack does in Redis), and ``marshal`` is the cheapest
  pack/unpack Python offers.  Every operation unpacks, works on a short list
  and packs again: linear, as a listpack is, and bounded by
  zset-max-listpack-entries.  A listpack stores an integral score as an
  integer, so ``-0`` reads back as ``0`` there; the blob keeps that quirk.
- skiplist (``_big`` set): a dict member -> score plus a sorted list
  (sortedcontainers) keyed by ``score_prefix(score) + member`` byte strings,
  whose bytewise order is the (score, member) order, holding each member's
  RESP bulk string: O(log n) insertion, deletion, rank and range lookup, and
  a ZRANGE reply that is one ``join``.  ``-0`` survives here, as in Redis's
  skiplist.

A set converts when a new member would make it longer than
zset-max-listpack-entries or a new member is longer than
zset-max-listpack-value; only sets built from scratch by the *STORE commands
may start small again (``from_pairs``).  A database never holds an empty
sorted set: the commands delete the key when the last member goes.

Score parsing and formatting helpers live here too (``parse_double``,
``parse_range_double``, ``format_score``), so SORT and others reuse the exact
rules Redis applies to doubles.
"""

import marshal
import re
import struct
import sys
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from math import inf, nextafter
from operator import itemgetter
from random import Random
from typing import Any, ClassVar, Final, Protocol

from cacheflow.store.sorted_order import Order

Pair = tuple[float, bytes]  # (score, member), the order both representations sort by

_MARSHAL_VERSION: Final = 2  # no back-references: plain and fastest for a flat list
_EMPTY_BLOB: Final = marshal.dumps([], _MARSHAL_VERSION)
_LL_HALF: Final = float(2**62)  # Redis's double2ll range: integral scores within it are stored as integers

# ZADD flags.
NX: Final = 1
XX: Final = 2
GT: Final = 4
LT: Final = 8
INCR: Final = 16

# -- doubles, as Redis parses and prints them ----------------------------------------------------

_C_SPACE: Final = b" \t\n\v\f\r"
_HEX_DOUBLE: Final = re.compile(rb"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?")
_INFINITY_WORDS: Final = (b"inf", b"infinity")


def _hex_value(text: bytes) -> float | None:
    """A hexadecimal strtod form (``0x1.8p3``), rounded as strtod does; None if it is not one."""
    if _HEX_DOUBLE.fullmatch(text) is None:
        return None
    try:
        return float.fromhex(text.decode())
    except OverflowError:
        return -inf if text[:1] == b"-" else inf


def _mantissa_is_zero(text: bytes) -> bool:
    """Whether a decimal or hex number's digits (before its exponent) are all zero."""
    low = text.lower()
    if b"x" in low:
        digits = low.partition(b"x")[2].partition(b"p")[0]
    else:
        digits = low.partition(b"e")[0]
    return not digits.strip(b"+-.0")


def _digits_only(raw: bytes) -> bool:
    """``raw.isdigit()`` for bytes, as a loop: compiled, it is a few instructions per byte rather
    than a generic method call."""
    for c in raw:
        if c < 48 or c > 57:
            return False
    return True


def parse_double(raw: bytes) -> float | None:
    """A double as Redis's string2d reads arguments (ZADD scores, weights): None if invalid.

    The whole argument must be a number strtod accepts (decimal, hexadecimal,
    ``inf``/``infinity``), with no blanks around it; NaN, a finite number
    that overflows to infinity and a non-zero number that underflows to zero
    are refused, as Redis refuses them.  A subnormal result is accepted.
    """
    size = len(raw)
    if 0 < size <= 15:
        # The commonest score, a short integer, read digit by digit: below 2**53, so exact, and
        # about a tenth of the cost of float() on bytes once compiled.
        whole = 0
        for c in raw:
            if c < 48 or c > 57:
                break
            whole = whole * 10 + (c - 48)
        else:
            return float(whole)
    elif 15 < size < 300 and _digits_only(raw):
        return float(raw)  # nothing to overflow, underflow or misread
    try:
        value = float(raw)
    except ValueError:
        hexed = _hex_value(raw) if raw else None
        if hexed is None:
            return None
        value = hexed
    else:
        if b"_" in raw or raw[:1].isspace() or raw[-1:].isspace() or value != value:
            return None
    if value == inf or value == -inf:
        if raw.lstrip(b"+-").lower() not in _INFINITY_WORDS:
            return None  # a finite literal that overflowed
    elif value == 0.0 and not _mantissa_is_zero(raw):
        return None  # underflow to zero
    return value


def parse_range_double(raw: bytes) -> float | None:
    """A score-range bound's number as Redis reads it (plain strtod): None if invalid.

    Unlike ``parse_double`` this accepts leading blanks, overflow to
    infinity, underflow to zero, and stops at an embedded NUL as C strings
    do; the empty string reads as 0.  NaN is refused.
    """
    text = raw.split(b"\0", 1)[0] if b"\0" in raw else raw
    if not text:
        return 0.0
    body = text.lstrip(_C_SPACE)
    if not body or body[-1:].isspace() or b"_" in body:
        return None
    try:
        value = float(body)
    except ValueError:
        hexed = _hex_value(body)
        if hexed is None:
            return None
        value = hexed
    if value != value:
        return None
    return value


# format_score's memo: formatting a double costs about as much as the rest of a ZRANGE member's
# reply, and sets tend to reuse scores (ranks, counters, timestamps).  Bounded; zero is left out
# because 0.0 and -0.0 are one dict key but print differently.
_SCORE_TEXTS: Final[dict[float, bytes]] = {}
_SCORE_TEXTS_MAX: Final = 16384


def format_score(value: float) -> bytes:
    """A score as Redis 7.0 replies it: ``%.17g``, with ``inf`` and ``-inf``."""
    text = _SCORE_TEXTS.get(value)
    if text is None:
        text = b"%.17g" % value
        if value and len(_SCORE_TEXTS) < _SCORE_TEXTS_MAX:
            _SCORE_TEXTS[value] = text
    return text


def listpack_score_text(value: float) -> bytes:
    """A score as a listpack stores it, which ZSCAN shows for small sets: integers plainly."""
    if -_LL_HALF <= value <= _LL_HALF and value == int(value):
        return b"%d" % int(value)
    return b"%.17g" % value


# -- ranges ------------------------------------------------------------------------------------


class ScoreRange:
    """``min``/``max`` with their exclusivity, as ZRANGEBYSCORE and friends give them."""

    __slots__ = ("min", "minex", "max", "maxex")

    def __init__(self, low: float, low_ex: bool, high: float, high_ex: bool) -> None:
        self.min = low
        self.minex = low_ex
        self.max = high
        self.maxex = high_ex

    def is_empty(self) -> bool:
        return self.min > self.max or (self.min == self.max and (self.minex or self.maxex))

    def gte_min(self, score: float) -> bool:
        return score > self.min if self.minex else score >= self.min

    def lte_max(self, score: float) -> bool:
        return score < self.max if self.maxex else score <= self.max


def parse_score_range(low: bytes, high: bytes) -> ScoreRange | None:
    """Redis's zslParseRange: ``(`` makes a bound exclusive; None when either is not a float."""
    low_ex = low[:1] == b"("
    high_ex = high[:1] == b"("
    lo = parse_range_double(low[1:] if low_ex else low)
    hi = parse_range_double(high[1:] if high_ex else high)
    if lo is None or hi is None:
        return None
    return ScoreRange(lo, low_ex, hi, high_ex)


# Lexicographic bound kinds: Redis's shared minstring ("-") and maxstring ("+") sort before and
# after every member.
LEX_MIN: Final = -1
LEX_VALUE: Final = 0
LEX_MAX: Final = 1


class LexRange:
    """A lexicographic range: each bound is ``-``, ``+`` or a member, inclusive (``[``) or not (``(``)."""

    __slots__ = ("min_kind", "min", "minex", "max_kind", "max", "maxex")

    def __init__(self, min_kind: int, low: bytes, low_ex: bool, max_kind: int, high: bytes, high_ex: bool) -> None:
        self.min_kind = min_kind
        self.min = low
        self.minex = low_ex
        self.max_kind = max_kind
        self.max = high
        self.maxex = high_ex

    def is_empty(self) -> bool:
        """Redis's sdscmplex(min, max) > 0, or equal with an exclusive end."""
        a, b = self.min_kind, self.max_kind
        if a == b and a != LEX_VALUE:
            cmp = 0  # the same shared string
        elif a == LEX_MIN or b == LEX_MAX:
            cmp = -1
        elif a == LEX_MAX or b == LEX_MIN:
            cmp = 1
        else:
            cmp = (self.min > self.max) - (self.min < self.max)
        return cmp > 0 or (cmp == 0 and (self.minex or self.maxex))

    def gte_min(self, member: bytes) -> bool:
        kind = self.min_kind
        if kind != LEX_VALUE:
            return kind == LEX_MIN
        return member > self.min if self.minex else member >= self.min

    def lte_max(self, member: bytes) -> bool:
        kind = self.max_kind
        if kind != LEX_VALUE:
            return kind == LEX_MAX
        return member < self.max if self.maxex else member <= self.max


def _lex_item(raw: bytes) -> tuple[int, bytes, bool] | None:
    head = raw[:1]
    if head == b"+" or head == b"-":
        if len(raw) > 1 and raw[1] != 0:  # Redis looks at the C string: "+\0..." is "+"
            return None
        return (LEX_MAX if head == b"+" else LEX_MIN), b"", True
    if head == b"(":
        return LEX_VALUE, raw[1:], True
    if head == b"[":
        return LEX_VALUE, raw[1:], False
    return None


def parse_lex_range(low: bytes, high: bytes) -> LexRange | None:
    """Redis's zslParseLexRange; None when a bound is not ``-``, ``+``, ``[x`` or ``(x``."""
    lo = _lex_item(low)
    hi = _lex_item(high)
    if lo is None or hi is None:
        return None
    return LexRange(lo[0], lo[1], lo[2], hi[0], hi[1], hi[2])


# -- the two orderings -----------------------------------------------------------------------------

_PACK_DOUBLE: Final = struct.Struct(">d").pack
_ALL_FLIP: Final = bytes(255 - i for i in range(256))
_MEMBER: Final = itemgetter(slice(8, None))  # a key's member: everything after the score prefix


def score_prefix(score: float) -> bytes:
    """8 bytes whose bytewise order is the numeric order of scores (``-0`` and ``0`` alike).

    The big representation sorts ``prefix + member`` byte strings: one
    memcmp per comparison, several times cheaper than comparing tuples.
    """
    if score >= 0:
        # Big-endian IEEE bytes order non-negative doubles; setting the sign bit (as -score, with
        # both zeros folded to -0.0) lifts them above every negative, whose bits are inverted.
        return _PACK_DOUBLE(-(score + 0.0))
    return _PACK_DOUBLE(score).translate(_ALL_FLIP)


class _Ordered(Protocol):
    """What the range algorithms need of either representation, positions counted from the lowest."""

    def __len__(self) -> int: ...

    def pair(self, index: int) -> Pair: ...

    def slice(self, lo: int, hi: int) -> list[Pair]: ...

    def score_left(self, score: float) -> int:
        """The first position whose score is >= ``score``."""
        ...

    def pair_left(self, score: float, member: bytes) -> int: ...

    def pair_right(self, score: float, member: bytes) -> int: ...

    def walk(self, start: int, reverse: bool) -> Iterator[Pair]:
        """Pairs from ``start`` towards the high end (or the low end)."""
        ...


class _Small:
    """A listpack set's pairs, unpacked for one command."""

    __slots__ = ("pairs",)

    def __init__(self, pairs: list[Pair]) -> None:
        self.pairs = pairs

    def __len__(self) -> int:
        return len(self.pairs)

    def pair(self, index: int) -> Pair:
        return self.pairs[index]

    def slice(self, lo: int, hi: int) -> list[Pair]:
        return self.pairs[lo:hi]

    def score_left(self, score: float) -> int:
        return bisect_left(self.pairs, (score,))

    def pair_left(self, score: float, member: bytes) -> int:
        return bisect_left(self.pairs, (score, member))

    def pair_right(self, score: float, member: bytes) -> int:
        return bisect_right(self.pairs, (score, member))

    def walk(self, start: int, reverse: bool) -> Iterator[Pair]:
        if reverse:
            return reversed(self.pairs[: start + 1])
        return islice(self.pairs, start, None)


def bulk_string(member: bytes) -> bytes:
    return b"$%d\r\n%b\r\n" % (len(member), member)


class _Big:
    """The skiplist representation: member -> score, plus the members in order (see store/sorted_order.py)."""

    __slots__ = ("scores", "order", "scans", "next_scan")

    def __init__(self, pairs: Iterable[Pair]) -> None:
        self.scores: dict[bytes, float] = {m: s for s, m in pairs}
        keyed = sorted([(score_prefix(s) + m, m) for m, s in self.scores.items()])
        self.order = Order()
        self.order.load([k for k, _ in keyed], [bulk_string(m) for _, m in keyed])
        # ZSCAN iterations in flight: id -> snapshot of the members (see SortedSet.scan).
        self.scans: dict[int, list[bytes]] | None = None
        self.next_scan = 1

    def __len__(self) -> int:
        return len(self.scores)

    def pair(self, index: int) -> Pair:
        member = self.order.key_at(index)[8:]
        return self.scores[member], member

    def slice(self, lo: int, hi: int) -> list[Pair]:
        members = self.members(lo, hi)
        return list(zip(map(self.scores.__getitem__, members), members))

    def members(self, lo: int, hi: int) -> list[bytes]:
        return list(map(_MEMBER, self.order.keys_between(lo, hi)))

    def bulks(self, lo: int, hi: int) -> list[bytes]:
        """The members at [lo, hi) already encoded as RESP bulk strings."""
        return self.order.values_between(lo, hi)

    def score_left(self, score: float) -> int:
        return self.order.bisect_key_left(score_prefix(score))  # type: ignore[no-any-return]

    def pair_left(self, score: float, member: bytes) -> int:
        return self.order.bisect_key_left(score_prefix(score) + member)  # type: ignore[no-any-return]

    def pair_right(self, score: float, member: bytes) -> int:
        return self.order.bisect_key_right(score_prefix(score) + member)  # type: ignore[no-any-return]

    def walk(self, start: int, reverse: bool) -> Iterator[Pair]:
        scores = self.scores
        order = self.order
        step = 256
        if reverse:
            hi = start + 1
            while hi > 0:
                lo = max(0, hi - step)
                for key in reversed(order.keys_between(lo, hi)):
                    member = key[8:]
                    yield scores[member], member
                hi = lo
        else:
            lo = start
            n = len(scores)
            while lo < n:
                for key in order.keys_between(lo, lo + step):
                    member = key[8:]
                    yield scores[member], member
                lo += step

    def insert(self, score: float, member: bytes) -> None:
        self.scores[member] = score
        self.order.insert(score_prefix(score) + member, b"$%d\r\n%b\r\n" % (len(member), member))

    def move(self, member: bytes, old: float, new: float) -> None:
        order = self.order
        order.delete_key(score_prefix(old) + member)
        order.insert(score_prefix(new) + member, b"$%d\r\n%b\r\n" % (len(member), member))
        self.scores[member] = new

    def remove(self, member: bytes) -> bool:
        score = self.scores.pop(member, None)
        if score is None:
            return False
        self.order.delete_key(score_prefix(score) + member)
        return True

    def remove_slice(self, lo: int, hi: int) -> int:
        hi = min(hi, len(self.scores))
        if lo >= hi:
            return 0
        order = self.order
        scores = self.scores
        for key in order.keys_between(lo, hi):
            del scores[key[8:]]
        for index in range(hi - 1, lo - 1, -1):
            order.delete_at(index)
        return hi - lo


def _score_bounds(seq: _Ordered, spec: ScoreRange) -> tuple[int, int]:
    """[lo, hi): the positions of the members whose score is in ``spec``, by bisection."""
    n = len(seq)
    if spec.is_empty() or not n:
        return 0, 0
    low = spec.min
    if spec.minex:
        lo = n if low == inf else seq.score_left(nextafter(low, inf))
    else:
        lo = seq.score_left(low)
    high = spec.max
    if spec.maxex:
        hi = seq.score_left(high)
    else:
        hi = n if high == inf else seq.score_left(nextafter(high, inf))
    return lo, max(lo, hi)


def _one_score(seq: _Ordered) -> bool:
    """Whether every member has the same score: then the order is the members' bytewise order."""
    n = len(seq)
    return n > 0 and seq.pair(0)[0] == seq.pair(n - 1)[0]


def _lex_start(seq: _Ordered, spec: LexRange, reverse: bool) -> int | None:
    """Where Redis starts a lex walk: the first member >= min (or the last <= max when reversed).

    Redis checks both ends of the set first, then scans a listpack linearly
    for the start; with members not sorted by name (mixed scores) the answer
    depends on that walk, which is reproduced here.  With a single score the
    set is sorted by member, so bisection finds the same place.
    """
    n = len(seq)
    if not n or spec.is_empty():
        return None
    if not spec.gte_min(seq.pair(n - 1)[1]) or not spec.lte_max(seq.pair(0)[1]):
        return None
    if isinstance(seq, _Big) and _one_score(seq):
        score = seq.pair(0)[0]
        if not reverse:
            if spec.min_kind == LEX_MIN:
                i = 0
            elif spec.min_kind == LEX_MAX:
                i = n
            else:
                i = seq.pair_right(score, spec.min) if spec.minex else seq.pair_left(score, spec.min)
            return i if i < n and spec.lte_max(seq.pair(i)[1]) else None
        if spec.max_kind == LEX_MAX:
            j = n
        elif spec.max_kind == LEX_MIN:
            j = 0
        else:
            j = seq.pair_left(score, spec.max) if spec.maxex else seq.pair_right(score, spec.max)
        return j - 1 if j > 0 and spec.gte_min(seq.pair(j - 1)[1]) else None
    members = [m for _, m in seq.slice(0, n)]
    if not reverse:
        for i, member in enumerate(members):
            if spec.gte_min(member):
                return i if spec.lte_max(member) else None
        return None
    for i in range(n - 1, -1, -1):
        member = members[i]
        if spec.lte_max(member):
            return i if spec.gte_min(member) else None
    return None


def _lex_run(seq: _Ordered, spec: LexRange) -> tuple[int, int]:
    """[lo, hi): the first member in range and the run after it that stays <= max."""
    start = _lex_start(seq, spec, False)
    if start is None:
        return 0, 0
    n = len(seq)
    if isinstance(seq, _Big) and _one_score(seq):
        if spec.max_kind == LEX_MAX:
            return start, n
        score = seq.pair(0)[0]
        hi = seq.pair_left(score, spec.max) if spec.maxex else seq.pair_right(score, spec.max)
        return start, max(start, hi)
    hi = start
    for _, member in seq.walk(start, False):
        if not spec.lte_max(member):
            break
        hi += 1
    return start, hi


_ZSCAN_SNAPSHOTS: Final = 16  # iterations remembered per big sorted set
_SCAN_POSITION_BITS: Final = 32


class ZaddResult:
    """What ZADD did: counts for the reply and whether anything changed."""

    __slots__ = ("added", "updated", "processed", "score", "nan")

    def __init__(self) -> None:
        self.added = 0
        self.updated = 0
        self.processed = 0
        self.score = 0.0  # the last member's resulting score (the INCR reply)
        self.nan = False  # an increment produced NaN: the command fails at that member


class SortedSet:
    """A Redis sorted set (see the module docstring for the two representations)."""

    TYPE_NAME: ClassVar[bytes] = b"zset"
    __slots__ = ("_blob", "_big")

    def __init__(self) -> None:
        self._blob: bytes = _EMPTY_BLOB
        self._big: _Big | None = None

    @classmethod
    def from_pairs(cls, pairs: list[Pair], max_entries: int, max_value: int) -> "SortedSet":
        """A new set of sorted, distinct ``pairs``, small when a new key of these members would be.

        This is how Redis builds ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE and
        ZRANGESTORE results: small when there are at most ``max_entries``
        members, none longer than ``max_value``.
        """
        zset = cls()
        if len(pairs) > max_entries or any(len(m) > max_value for _, m in pairs):
            zset._big = _Big(pairs)
        else:
            zset._blob = _pack([(s + 0.0, m) for s, m in pairs])
        return zset

    @classmethod
    def from_insertions(cls, pairs: list[Pair], max_entries: int, max_value: int) -> "SortedSet":
        """A new set holding ``pairs`` (distinct members, any order), added one by one as ZRANGESTORE does.

        Redis adds them to a listpack that converts at the first member over
        the limits; the ones added before that went through the listpack and
        lost a ``-0`` sign on the way, the later ones keep it.
        """
        small = len(pairs)
        for k, (_, member) in enumerate(pairs):
            if k + 1 > max_entries or len(member) > max_value:
                small = k
                break
        if small == len(pairs):
            return cls.from_pairs(sorted(pairs), max_entries, max_value)
        zset = cls()
        zset._big = _Big([(s + 0.0, m) for s, m in pairs[:small]] + pairs[small:])
        return zset

    # -- Collection ----------------------------------------------------------------------

    def __len__(self) -> int:
        big = self._big
        if big is None:
            return int.from_bytes(self._blob[1:5], "little") >> 1
        return len(big.scores)

    def encoding(self) -> bytes:
        return b"listpack" if self._big is None else b"skiplist"

    def is_small(self) -> bool:
        return self._big is None

    def memory_usage(self, samples: int) -> int:
        size = sys.getsizeof(self)
        big = self._big
        if big is None:
            return size + sys.getsizeof(self._blob)
        n = len(big.scores)
        size += sys.getsizeof(big) + sys.getsizeof(big.scores) + sys.getsizeof(big.order)
        # The order's sublists (keys and values alike): a list header each plus a pointer per member,
        # estimated rather than summed so that measuring stays O(1) on every write (memory accounting).
        size += 2 * (len(big.order._lists) * sys.getsizeof([]) + 8 * n)
        sample = big.order.keys_between(0, samples if samples > 0 else n)
        if sample:
            # Each member: its key in the order, its bulk string, its own bytes (the dict key), its score.
            per = sum(3 * sys.getsizeof(k) - 8 + sys.getsizeof(1.0) for k in sample)
            size += per * n // len(sample)
        return size

    def copy(self) -> "SortedSet":
        twin = SortedSet()
        if self._big is None:
            twin._blob = self._blob
        else:
            twin._big = _Big((s, m) for m, s in self._big.scores.items())
        return twin

    # -- reading -------------------------------------------------------------------------

    def pairs(self) -> list[Pair]:
        """Every (score, member) in order."""
        big = self._big
        return _unpack(self._blob) if big is None else big.slice(0, len(big))

    def __iter__(self) -> Iterator[Pair]:
        big = self._big
        return iter(_unpack(self._blob)) if big is None else big.walk(0, False)

    def score(self, member: bytes) -> float | None:
        big = self._big
        if big is not None:
            return big.scores.get(member)
        flat = marshal.loads(self._blob)
        try:
            i = flat.index(member, 1)
        except ValueError:
            return None
        score: float = flat[i - 1]
        return score

    def score_map(self) -> dict[bytes, float]:
        """member -> score; the big representation's own dict, so callers must not modify it."""
        big = self._big
        if big is not None:
            return big.scores
        flat = marshal.loads(self._blob)
        return dict(zip(flat[1::2], flat[0::2]))

    def rank(self, member: bytes) -> tuple[int, float] | None:
        """(0-based rank from the lowest, score) of ``member``, or None."""
        big = self._big
        if big is not None:
            score = big.scores.get(member)
            if score is None:
                return None
            return big.order.bisect_key_left(score_prefix(score) + member), score
        flat = marshal.loads(self._blob)
        try:
            i = flat.index(member, 1)
        except ValueError:
            return None
        return i >> 1, flat[i - 1]

    def slice(self, start: int, stop: int) -> list[Pair]:
        """The pairs at positions [start, stop) from the lowest."""
        big = self._big
        if big is None:
            return _unpack(self._blob)[start:stop]
        return big.slice(start, stop)

    def members_slice(self, start: int, stop: int) -> list[bytes]:
        """The members at positions [start, stop), without building pairs for small sets."""
        big = self._big
        if big is None:
            return marshal.loads(self._blob)[2 * start + 1 : 2 * stop : 2]  # type: ignore[no-any-return]
        return big.members(start, stop)

    def bulks_slice(self, start: int, stop: int) -> list[bytes]:
        """The members at positions [start, stop) as RESP bulk strings (the ZRANGE fast path)."""
        big = self._big
        if big is None:
            return list(map(bulk_string, marshal.loads(self._blob)[2 * start + 1 : 2 * stop : 2]))
        return big.bulks(start, stop)

    def at(self, index: int) -> Pair:
        big = self._big
        if big is None:
            flat = marshal.loads(self._blob)
            return flat[2 * index], flat[2 * index + 1]
        return big.pair(index)

    def _view(self) -> _Ordered:
        big = self._big
        return _Small(_unpack(self._blob)) if big is None else big

    def score_bounds(self, spec: ScoreRange) -> tuple[int, int]:
        """[lo, hi): positions of the members whose score lies in ``spec``."""
        return _score_bounds(self._view(), spec)

    def range_by_score(self, spec: ScoreRange, reverse: bool, offset: int, limit: int) -> list[Pair]:
        """ZRANGEBYSCORE's walk: skip ``offset`` from the first (or last) match, then take ``limit``.

        A negative offset walks off the end (nothing), a negative limit means
        no limit, as in Redis's loops.
        """
        seq = self._view()
        if offset > 0 and offset >= len(seq):
            return []
        lo, hi = _score_bounds(seq, spec)
        if lo >= hi or offset < 0:
            return []
        if not reverse:
            start = lo + offset
            end = hi if limit < 0 else min(hi, start + limit)
            return seq.slice(start, end) if start < end else []
        last = hi - 1 - offset
        first = lo if limit < 0 else max(lo, last - limit + 1)
        if last < first:
            return []
        found = seq.slice(first, last + 1)
        found.reverse()
        return found

    def count_by_score(self, spec: ScoreRange) -> int:
        lo, hi = self.score_bounds(spec)
        return hi - lo

    def range_by_lex(self, spec: LexRange, reverse: bool, offset: int, limit: int) -> list[Pair]:
        """ZRANGEBYLEX's walk, step by step as Redis takes it (see _lex_start)."""
        seq = self._view()
        start = _lex_start(seq, spec, reverse)
        if start is None or offset < 0:
            return []
        i = start - offset if reverse else start + offset
        if not 0 <= i < len(seq):
            return []
        found: list[Pair] = []
        in_range = spec.gte_min if reverse else spec.lte_max
        for pair in seq.walk(i, reverse):
            if limit == 0 or not in_range(pair[1]):
                break
            found.append(pair)
            limit -= 1
        return found

    def count_by_lex(self, spec: LexRange) -> int:
        lo, hi = _lex_run(self._view(), spec)
        return hi - lo

    # -- writing -------------------------------------------------------------------------

    def add(self, score: float, member: bytes, max_entries: int, max_value: int) -> int:
        """Plain ZADD of one member: 1 if added, 2 if its score changed, 0 if nothing changed."""
        big = self._big
        if big is not None:
            scores = big.scores
            old = scores.get(member)
            if old is None:
                # big.insert, inlined: this is the ZADD hot path.
                scores[member] = score
                prefix = _PACK_DOUBLE(-(score + 0.0)) if score >= 0 else _PACK_DOUBLE(score).translate(_ALL_FLIP)
                big.order.insert(prefix + member, b"$%d\r\n%b\r\n" % (len(member), member))
                return 1
            if old == score:
                return 0
            big.move(member, old, score)
            return 2
        # The listpack form, worked on as the flat [score, member, ...] list it unpacks to.
        flat: list[Any] = marshal.loads(self._blob)
        try:
            at = flat.index(member)  # a member never equals a score, so this finds the member
        except ValueError:
            at = -1
        if at >= 0:
            old_score = flat[at - 1]
            if old_score == score:
                return 0
            del flat[at - 1 : at + 1]
        elif len(flat) >= max_entries << 1 or len(member) > max_value:
            result = ZaddResult()
            self.add_many([(score, member)], 0, max_entries, max_value, result)  # converts the set
            return 1
        score += 0.0
        lo = 0
        hi = len(flat) >> 1
        while lo < hi:  # bisect_left by (score, member) over the flat list
            mid = (lo + hi) >> 1
            other = flat[mid << 1]
            if other < score or (other == score and flat[(mid << 1) + 1] < member):
                lo = mid + 1
            else:
                hi = mid
        flat[lo << 1 : lo << 1] = (score, member)
        self._blob = marshal.dumps(flat, _MARSHAL_VERSION)
        return 2 if at >= 0 else 1

    def add_many(
        self,
        items: list[Pair],
        flags: int,
        max_entries: int,
        max_value: int,
        result: ZaddResult,
    ) -> None:
        """ZADD/ZINCRBY: apply ``items`` in order with the NX/XX/GT/LT/INCR ``flags`` (zsetAdd).

        Stops at an increment that yields NaN (``result.nan``); what was
        applied before it stays, as in Redis.
        """
        if self._big is None:
            self._add_small(items, flags, max_entries, max_value, result)
        else:
            self._add_big(items, flags, result, 0)

    def _add_small(self, items: list[Pair], flags: int, max_entries: int, max_value: int, result: ZaddResult) -> None:
        flat = marshal.loads(self._blob)
        pairs: list[Pair] = list(zip(flat[0::2], flat[1::2]))
        members: list[bytes] = flat[1::2]
        changed = False
        for k, (score, member) in enumerate(items):
            try:
                i = members.index(member)
            except ValueError:
                i = -1
            if i >= 0:
                if flags & NX:
                    continue
                current = pairs[i][0]
                if flags & INCR:
                    score += current
                    if score != score:
                        result.nan = True
                        break
                if (flags & LT and score >= current) or (flags & GT and score <= current):
                    continue
                result.processed += 1
                result.score = score
                if score != current:
                    del pairs[i]
                    del members[i]
                    j = bisect_left(pairs, (score + 0.0, member))
                    pairs.insert(j, (score + 0.0, member))
                    members.insert(j, member)
                    result.updated += 1
                    changed = True
            elif not flags & XX:
                if len(pairs) + 1 > max_entries or len(member) > max_value:
                    # Convert, then carry on with this member and the rest as a big set.
                    self._big = _Big(pairs)
                    self._blob = _EMPTY_BLOB
                    self._add_big(items, flags, result, k)
                    return
                j = bisect_left(pairs, (score + 0.0, member))
                pairs.insert(j, (score + 0.0, member))
                members.insert(j, member)
                result.added += 1
                result.processed += 1
                result.score = score
                changed = True
        if changed:
            self._blob = _pack(pairs)

    def _add_big(self, items: list[Pair], flags: int, result: ZaddResult, start: int) -> None:
        big = self._big
        assert big is not None
        scores = big.scores
        for k in range(start, len(items)):
            score, member = items[k]
            current = scores.get(member)
            if current is not None:
                if flags & NX:
                    continue
                if flags & INCR:
                    score += current
                    if score != score:
                        result.nan = True
                        return
                if (flags & LT and score >= current) or (flags & GT and score <= current):
                    continue
                result.processed += 1
                result.score = score
                if score != current:
                    big.move(member, current, score)
                    result.updated += 1
            elif not flags & XX:
                big.insert(score, member)
                result.added += 1
                result.processed += 1
                result.score = score

    def remove(self, members: Iterable[bytes]) -> int:
        """Remove ``members``; how many were there."""
        big = self._big
        if big is not None:
            return sum(1 for m in members if big.remove(m))
        flat = marshal.loads(self._blob)
        removed = 0
        for member in members:
            try:
                i = flat.index(member, 1)
            except ValueError:
                continue
            del flat[i - 1 : i + 1]
            removed += 1
        if removed:
            self._blob = marshal.dumps(flat, _MARSHAL_VERSION)
        return removed

    def remove_slice(self, lo: int, hi: int) -> int:
        """Remove the members at positions [lo, hi); how many went."""
        if lo >= hi:
            return 0
        big = self._big
        if big is not None:
            return big.remove_slice(lo, hi)
        flat = marshal.loads(self._blob)
        before = len(flat)
        del flat[2 * lo : 2 * hi]
        self._blob = marshal.dumps(flat, _MARSHAL_VERSION)
        return (before - len(flat)) >> 1

    def remove_range_by_score(self, spec: ScoreRange) -> int:
        lo, hi = self.score_bounds(spec)
        return self.remove_slice(lo, hi)

    def remove_range_by_lex(self, spec: LexRange) -> int:
        lo, hi = _lex_run(self._view(), spec)
        return self.remove_slice(lo, hi)

    def pop(self, count: int, highest: bool) -> list[Pair]:
        """Remove and return up to ``count`` members from the low end (or the high end, highest first)."""
        n = len(self)
        count = min(count, n)
        if highest:
            taken = self.slice(n - count, n)
            taken.reverse()
            self.remove_slice(n - count, n)
        else:
            taken = self.slice(0, count)
            self.remove_slice(0, count)
        return taken

    # -- randomness ----------------------------------------------------------------------

    def random_pairs(self, rng: Random, count: int) -> list[Pair]:
        """``count`` independent picks (repeats allowed), in the order drawn."""
        n = len(self)
        big = self._big
        if big is None:
            pairs = _unpack(self._blob)
            return [pairs[rng.randrange(n)] for _ in range(count)]
        return [big.pair(rng.randrange(n)) for _ in range(count)]

    def random_distinct(self, rng: Random, count: int) -> list[Pair]:
        """``count`` distinct members (``count`` < size), in set order as Redis's listpack sampling gives them."""
        positions = sorted(rng.sample(range(len(self)), count))
        big = self._big
        if big is None:
            pairs = _unpack(self._blob)
            return [pairs[i] for i in positions]
        return [big.pair(i) for i in positions]

    # -- ZSCAN ---------------------------------------------------------------------------

    def scan(self, cursor: int, count: int) -> tuple[int, list[Pair]]:
        """One ZSCAN step over a big set: (next cursor, pairs).

        Cursor 0 snapshots the member list; later cursors name the snapshot
        and a position in it, so every member present for the whole
        iteration is returned exactly once, whatever changes meanwhile.
        Members deleted since the snapshot are skipped; current scores are
        reported.  Only the latest few iterations per set are remembered: a
        forgotten (or foreign) cursor ends the iteration.  Small sets are
        answered whole by the caller, as Redis answers a listpack.
        """
        big = self._big
        assert big is not None
        scores = big.scores
        if cursor == 0:
            snapshot = list(scores)
            if len(snapshot) <= count:
                return 0, [(scores[m], m) for m in snapshot]
            if big.scans is None:
                big.scans = {}
            scan_id = big.next_scan
            big.next_scan = scan_id + 1 if scan_id < 2**31 - 1 else 1
            big.scans[scan_id] = snapshot
            while len(big.scans) > _ZSCAN_SNAPSHOTS:
                del big.scans[next(iter(big.scans))]
            position = 0
        else:
            scan_id = cursor >> _SCAN_POSITION_BITS
            position = cursor & ((1 << _SCAN_POSITION_BITS) - 1)
            found = big.scans.get(scan_id) if big.scans is not None else None
            if found is None:
                return 0, []
            snapshot = found
        batch = snapshot[position : position + count]
        position += len(batch)
        out = [(scores[m], m) for m in batch if m in scores]
        if position >= len(snapshot):
            if big.scans is not None:
                big.scans.pop(scan_id, None)
            return 0, out
        return (scan_id << _SCAN_POSITION_BITS) | position, out


def _pack(pairs: list[Pair]) -> bytes:
    return marshal.dumps(list(chain.from_iterable(pairs)), _MARSHAL_VERSION)


def _unpack(blob: bytes) -> list[Pair]:
    flat = marshal.loads(blob)
    return list(zip(flat[0::2], flat[1::2]))
