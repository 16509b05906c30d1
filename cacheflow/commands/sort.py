"""SORT and SORT_RO: sort a list, set or sorted set, optionally by and with other keys' values.

The semantics are Redis 7.0.15's sort.c, observable detail by observable detail:

- Options are parsed left to right and the first bad one answers its error
  before the key is even looked up (so a syntax error beats WRONGTYPE).
- Numeric sorting reads every score as C's ``strtod`` does (leading blanks,
  hex floats, ``inf``; the text must end there or at a NUL byte, and an empty
  string is 0); NaN and out-of-range values (``errno == ERANGE``: overflow, or
  an underflow that loses precision) fail the whole command.  Equal scores fall
  back to comparing the elements bytewise, so the order is total.
- ALPHA compares with ``strcoll``, which in the C locale Redis runs in is byte
  order up to the first NUL byte (STORE compares the whole strings instead, as
  Redis's ``compareStringObjects``).  Elements that compare equal keep the
  order they were read in, as glibc's merge-sort ``qsort`` keeps them.
- ``BY`` with a pattern that has no ``*`` (before any NUL byte) means "do not
  sort": lists and sorted sets keep their order (DESC reverses it, LIMIT
  slices after that), sets their iteration order (DESC ignored) -- except that
  a set sorted with STORE is sorted ALPHA, so that the stored list does not
  depend on hash order.
- A pattern is ``prefix*postfix`` or ``prefix*postfix->field``; ``#`` is the
  element itself.  Missing keys, keys of the wrong type and missing fields are
  null (an empty string in a stored list; score 0 or "lowest" when sorting).
- Sorting a sorted set converts it to the skiplist encoding, as Redis does
  (OBJECT ENCODING shows it afterwards, even after SORT_RO).

SORT ... STORE replaces the destination with a list (dropping its TTL), or
deletes it when the result is empty.  Its write effect is normalized to
``DEL dst`` (when something was there) plus ``RPUSH dst <elements>`` in
batches, which replays to the same list whatever the other keys hold later.

With BY and a LIMIT that narrows the result, Redis sorts with its own partial
quicksort (pqsort.c: Bentley-McIlroy, skipping partitions outside the window),
which orders ties otherwise than a stable sort; ties can only happen with
ALPHA BY (equal or missing values), so that case runs the same algorithm here
(``_partial_quicksort``), comparison for comparison.  Redis also reads a
stale ``errno`` (an ERANGE from an earlier command can fail a later numeric
SORT until some command resets it); CacheFlow judges each SORT on its own.
"""

import re
from collections.abc import Callable
from fractions import Fraction

from cacheflow.commands import errors
from cacheflow.commands.context import Context
from cacheflow.commands.table import Flag, command, index_range, unknown_keys
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError
from cacheflow.store.hashes import Hash
from cacheflow.store.keyspace import Database
from cacheflow.store.lists import ListValue
from cacheflow.store.sets import SetValue
from cacheflow.store.sorted_sets import SortedSet

_NOT_DOUBLE = "ERR One or more scores can't be converted into double"
_SORT_CATEGORIES = ("set", "sortedset", "list", "dangerous")
_SORT_COMPLEXITY = (
    "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned "
    "elements. When the elements are not sorted, complexity is O(N)."
)
_BY_GET_NOTE = (
    "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of "
    "the key we sort"
)
_STORE_NOTE = (
    "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the "
    "argument array"
)
_SYNTAX = "key [BY pattern@1] [LIMIT offset count] [GET pattern@1 [GET pattern@1 ...]] [ASC|DESC] [ALPHA=sorting]"
_BY_IN_CLUSTER = "ERR BY option of SORT denied in Cluster mode."
_GET_IN_CLUSTER = "ERR GET option of SORT denied in Cluster mode."
_RPUSH = b"RPUSH"
_DEL = b"DEL"
# Elements per RPUSH effect of a stored result: keeps each replayed command a reasonable size.
_STORE_BATCH = 1024
_DBL_MIN = 2.2250738585072014e-308

# C's strtod grammar (C locale): blanks, a sign, then hex, decimal, inf[inity] or nan[(chars)].
_STRTOD = re.compile(
    rb"[ \t\n\v\f\r]*([+-]?)(?:"
    rb"0[xX]([0-9a-fA-F]+(?:\.[0-9a-fA-F]*)?|\.[0-9a-fA-F]+)(?:[pP]([+-]?[0-9]+))?"
    rb"|((?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    rb"|([iI][nN][fF](?:[iI][nN][iI][tT][yY])?)"
    rb"|([nN][aA][nN](?:\([0-9A-Za-z_]*\))?)"
    rb")"
)
# Plain decimals that float() reads exactly as strtod does, with no risk of overflow or underflow.
_PLAIN_DECIMAL = re.compile(rb"-?[0-9]{1,15}(?:\.[0-9]{1,15})?")


def strtod_score(raw: bytes | bytearray) -> float | None:
    """The double SORT reads from ``raw``, or None when Redis would refuse it.

    Redis calls ``strtod`` on the C string and accepts the result when the
    parse stopped at the terminating NUL (the end, or an embedded NUL byte),
    the value is not NaN, and ``errno`` is not ERANGE.
    """
    if _PLAIN_DECIMAL.fullmatch(raw):
        return float(raw)
    m = _STRTOD.match(raw)
    if m is None:
        # No conversion: strtod points back at the start, so only "" (or a leading NUL) passes, as 0.
        return 0.0 if not raw or raw[0] == 0 else None
    rest = raw[m.end() :]
    if rest and rest[0] != 0:
        return None
    sign, hex_body, hex_exp, decimal, infinity, nan = m.groups()
    negative = sign == b"-"
    if nan is not None:
        return None
    if infinity is not None:
        return float("-inf") if negative else float("inf")
    exact: Callable[[], Fraction]
    if hex_body is not None:
        text = (b"0x" + hex_body + b"p" + (hex_exp or b"0")).decode()
        try:
            value = float.fromhex(text)
        except OverflowError:
            return None
        digits = hex_body.replace(b".", b"")
        zero_mantissa = not int(digits, 16)

        def exact() -> Fraction:
            point = hex_body.find(b".")
            frac_digits = len(hex_body) - point - 1 if point >= 0 else 0
            return Fraction(int(digits, 16)) * Fraction(2) ** (int(hex_exp or b"0") - 4 * frac_digits)

    else:
        text = decimal.decode()
        value = float(text)
        if value == float("inf"):
            return None  # overflow
        mantissa = decimal.split(b"e")[0].split(b"E")[0]
        zero_mantissa = not mantissa.strip(b"0.")

        def exact() -> Fraction:
            return Fraction(text)

    if value < _DBL_MIN and not zero_mantissa:
        # Underflow: glibc sets ERANGE when the result is zero or subnormal and not exact.
        if value == 0.0 or exact() != Fraction(value):
            return None
    return -value if negative else value


# -- patterns -------------------------------------------------------------------------------


class _Pattern:
    """A BY or GET pattern, split once: ``prefix*postfix`` with an optional ``->field``.

    ``kind`` is 0 for ``#`` (the element itself), 1 for a pattern without a
    ``*`` (it never finds anything), 2 for a key pattern.  Redis scans for
    ``*`` and ``->`` with C string functions, so only the text before the
    first NUL byte counts for them; the substituted key and the field name
    still use the whole pattern.
    """

    __slots__ = ("kind", "prefix", "postfix", "field")

    def __init__(self, pattern: bytes) -> None:
        self.prefix = self.postfix = b""
        self.field: bytes | None = None
        if pattern[:1] == b"#" and (len(pattern) == 1 or pattern[1] == 0):
            self.kind = 0
            return
        text = pattern.partition(b"\0")[0]
        star = text.find(b"*")
        if star < 0:
            self.kind = 1
            return
        self.kind = 2
        arrow = text.find(b"->", star + 1)
        self.prefix = pattern[:star]
        if arrow >= 0 and arrow + 2 < len(text):
            self.postfix = pattern[star + 1 : arrow]
            self.field = pattern[arrow + 2 :]
        else:
            self.postfix = pattern[star + 1 :]

    def lookup(self, ctx: Context, element: bytes) -> bytes | bytearray | None:
        """The string this pattern finds for ``element`` (Redis's lookupKeyByPattern), or None."""
        kind = self.kind
        if kind == 0:
            return element
        if kind == 1:
            return None
        value = ctx.db.lookup_read(self.prefix + element + self.postfix)
        if value is None:
            return None
        field = self.field
        cls = value.__class__
        if field is None:
            return value if cls is bytes or cls is bytearray else None  # type: ignore[return-value]
        if cls is not Hash:
            return None
        h: Hash = value  # type: ignore[assignment]
        found = h.get(field)
        if found is not None and h.ttls:
            at = h.ttl_of(field)
            if at is not None and at < ctx.keyspace.clock.now_ms():
                return None  # expired, not reclaimed yet: a read never sees it
        return found


def _has_star(pattern: bytes) -> bool:
    """Whether BY names a real pattern (Redis looks for ``*`` with strchr, so up to a NUL byte)."""
    return b"*" in pattern.partition(b"\0")[0]


# -- options ----------------------------------------------------------------------------------


class _Options:
    __slots__ = ("desc", "alpha", "offset", "count", "by", "dontsort", "gets", "store")

    def __init__(self) -> None:
        self.desc = False
        self.alpha = False
        self.offset = 0
        self.count = -1
        self.by: _Pattern | None = None
        self.dontsort = False
        self.gets: list[_Pattern] = []
        self.store: bytes | None = None


def _parse(argv: list[bytes], readonly: bool, cluster: bool) -> _Options:
    """SORT's options, left to right; the first bad one raises its error (as Redis answers it).

    In cluster mode BY (with a real pattern) and GET are refused: the keys
    they would read may live on other nodes.
    """
    opts = _Options()
    n = len(argv)
    j = 2
    while j < n:
        left = n - j - 1
        opt = argv[j].lower()
        if opt == b"asc":
            opts.desc = False
        elif opt == b"desc":
            opts.desc = True
        elif opt == b"alpha":
            opts.alpha = True
        elif opt == b"limit" and left >= 2:
            opts.offset = errors.parse_int(argv[j + 1])
            opts.count = errors.parse_int(argv[j + 2])
            j += 2
        elif opt == b"store" and not readonly and left >= 1:
            opts.store = argv[j + 1]
            j += 1
        elif opt == b"by" and left >= 1:
            pattern = argv[j + 1]
            # The last BY is the one used, but a constant one anywhere turns sorting off for good.
            if not _has_star(pattern):
                opts.dontsort = True
            elif cluster:
                raise CommandError(_BY_IN_CLUSTER)
            opts.by = _Pattern(pattern)
            j += 1
        elif opt == b"get" and left >= 1:
            if cluster:
                raise CommandError(_GET_IN_CLUSTER)
            opts.gets.append(_Pattern(argv[j + 1]))
            j += 1
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    return opts


# -- sorting ----------------------------------------------------------------------------------


def _elements(ctx: Context, key: bytes, value: object) -> tuple[list[bytes], bool]:
    """The elements of the value to sort in its natural order, and whether it is a set."""
    cls = value.__class__
    if cls is ListValue:
        return list(value.values()), False  # type: ignore[attr-defined]
    if cls is SetValue:
        return list(value), True  # type: ignore[call-overload]
    if cls is SortedSet:
        zset: SortedSet = value  # type: ignore[assignment]
        pairs = zset.pairs()
        if zset.is_small():
            # Redis converts a sorted set to a skiplist before sorting it ("destructively", says sort.c).
            ctx.db.set_keep_ttl(key, SortedSet.from_pairs(pairs, 0, 0))
        return [member for _, member in pairs], False
    raise CommandError(errors.WRONGTYPE)


def _partial_quicksort(v: list[int], cmp: Callable[[int, int], int], lo: int, hi: int) -> None:
    """Sort ``v`` in place as Redis's pqsort does, at least over positions ``lo``..``hi``.

    The exact sequence of comparisons and swaps matters, not just the result:
    it decides where elements that compare equal end up.  Insertion sort below
    7 elements, median-of-three pivots (ninther above 40), three-way
    partitioning with equal keys parked at both ends, and no recursion into a
    partition entirely outside the window.  (7.0's copy has no switch to
    insertion sort after a pass without swaps; later Redis versions added one.)
    """

    def insertion(base: int, n: int) -> None:
        for m in range(base + 1, base + n):
            p = m
            while p > base and cmp(v[p - 1], v[p]) > 0:
                v[p - 1], v[p] = v[p], v[p - 1]
                p -= 1

    def med3(a: int, b: int, c: int) -> int:
        if cmp(v[a], v[b]) < 0:
            return b if cmp(v[b], v[c]) < 0 else (c if cmp(v[a], v[c]) < 0 else a)
        return b if cmp(v[b], v[c]) > 0 else (a if cmp(v[a], v[c]) < 0 else c)

    def outside(base: int, n: int) -> bool:
        last = base + n - 1
        return (lo < base and hi < base) or (lo > last and hi > last)

    def vecswap(a: int, b: int, n: int) -> None:
        for i in range(n):
            v[a + i], v[b + i] = v[b + i], v[a + i]

    def sort(base: int, n: int) -> None:
        while True:
            if n < 7:
                insertion(base, n)
                return
            pm = base + n // 2
            if n > 7:
                pl, pn = base, base + n - 1
                if n > 40:
                    d = n // 8
                    pl = med3(pl, pl + d, pl + 2 * d)
                    pm = med3(pm - d, pm, pm + d)
                    pn = med3(pn - 2 * d, pn - d, pn)
                pm = med3(pl, pm, pn)
            v[base], v[pm] = v[pm], v[base]
            pivot = v[base]
            pa = pb = base + 1
            pc = pd = base + n - 1
            while True:
                while pb <= pc:
                    c = cmp(v[pb], pivot)
                    if c > 0:
                        break
                    if c == 0:
                        v[pa], v[pb] = v[pb], v[pa]
                        pa += 1
                    pb += 1
                while pb <= pc:
                    c = cmp(v[pc], pivot)
                    if c < 0:
                        break
                    if c == 0:
                        v[pc], v[pd] = v[pd], v[pc]
                        pd -= 1
                    pc -= 1
                if pb > pc:
                    break
                v[pb], v[pc] = v[pc], v[pb]
                pb += 1
                pc -= 1
            pn = base + n
            vecswap(base, pb - min(pa - base, pb - pa), min(pa - base, pb - pa))
            r = min(pd - pc, pn - pd - 1)
            vecswap(pb, pn - r, r)
            r = pb - pa
            if r > 1 and not outside(base, r):
                sort(base, r)
            r = pd - pc
            if r <= 1 or outside(pn - r, r):
                return
            base, n = pn - r, r

    sort(0, len(v))


def _sorted(ctx: Context, elements: list[bytes], opts: _Options, start: int, end: int) -> list[bytes]:
    """``elements`` in SORT's order (positions ``start``..``end`` are the reply); raises on a bad score."""
    by = opts.by
    if opts.alpha:
        binary = opts.store is not None  # STORE compares whole strings, the reply path uses strcoll
        if by is None:
            if binary:
                return sorted(elements, reverse=opts.desc)
            return sorted(elements, key=lambda e: e.partition(b"\0")[0], reverse=opts.desc)
        keys: list[tuple[int, bytes]] = []
        for element in elements:
            found = by.lookup(ctx, element)
            if found is None:
                keys.append((0, b""))  # a missing BY value sorts before any other
            else:
                found = bytes(found)
                keys.append((1, found if binary else found.partition(b"\0")[0]))
    else:
        failed = False
        scored: list[tuple[float, bytes]] = []
        for element in elements:
            if by is None:
                score = strtod_score(element)
            else:
                found = by.lookup(ctx, element)
                score = 0.0 if found is None else strtod_score(found)
            if score is None:
                failed = True  # Redis reads every score (and looks up every BY key) before failing
                score = 0.0
            scored.append((score, element))
        if failed:
            raise CommandError(_NOT_DOUBLE)
        # (score, element) is a total order up to equal elements, which are interchangeable.
        scored.sort(reverse=opts.desc)
        return [element for _, element in scored]
    if start == 0 and end == len(elements) - 1:
        # glibc's qsort (a merge sort at these sizes) keeps ties in order, as a stable sort does.
        order = sorted(range(len(elements)), key=keys.__getitem__, reverse=opts.desc)
    else:
        sign = -1 if opts.desc else 1

        def compare(i: int, j: int) -> int:
            a, b = keys[i], keys[j]
            return sign * ((a > b) - (a < b))

        order = list(range(len(elements)))
        _partial_quicksort(order, compare, start, end)
    return [elements[i] for i in order]


def _sort(ctx: Context, argv: list[bytes], readonly: bool) -> bytes:
    opts = _parse(argv, readonly, ctx.config.cluster_enabled)
    key = argv[1]
    value = ctx.db.lookup_read(key)
    elements: list[bytes]
    if value is None:
        elements, is_set = [], False
    else:
        elements, is_set = _elements(ctx, key, value)
    if opts.dontsort and is_set and opts.store is not None:
        # A stored result must not depend on the set's hash order: Redis sorts it ALPHA instead.
        opts.dontsort = False
        opts.alpha = True
        opts.by = None

    n = len(elements)
    start = max(opts.offset, 0)
    end = n - 1 if opts.count < 0 else start + opts.count - 1
    if start >= n:
        start, end = n - 1, n - 2
    end = min(end, n - 1)

    if opts.dontsort:
        if opts.desc and not is_set:
            elements.reverse()
    else:
        elements = _sorted(ctx, elements, opts, start, end)
    chosen = elements[start : end + 1] if end >= start else []

    gets = opts.gets
    if gets:
        out: list[bytes | bytearray | None] = [get.lookup(ctx, e) for e in chosen for get in gets]
    else:
        out = chosen  # type: ignore[assignment]
    dst = opts.store
    if dst is None:
        return encoder.bulk_array(out, ctx.proto)
    return _store(ctx, dst, out)


def _store(ctx: Context, dst: bytes, out: list[bytes | bytearray | None]) -> bytes:
    db: Database = ctx.db
    if not out:
        if db.delete(dst):
            ctx.effects.append([_DEL, dst])
        return encoder.ZERO
    values = [b"" if v is None else bytes(v) for v in out]
    if db.lookup(dst) is not None:
        ctx.effects.append([_DEL, dst])
    db.set(dst, ListValue.from_values(values))
    for i in range(0, len(values), _STORE_BATCH):
        ctx.effects.append([_RPUSH, dst, *values[i : i + _STORE_BATCH]])
    return encoder.integer(len(values))


# -- key positions ----------------------------------------------------------------------------

# Options followed by arguments that are never the STORE key: (name, how many to skip).
_SKIPPED = {b"limit": 2, b"get": 1, b"by": 1}


def sort_keys(argv: list[bytes]) -> list[int]:
    """The sorted key and the last STORE destination, found the way Redis's sortGetKeys finds them.

    Like Redis, it scans without validating: an unknown word is skipped alone,
    and the word after STORE is examined as an option too.
    """
    positions = [1]
    store = 0
    n = len(argv)
    i = 2
    while i < n:
        word = argv[i].lower()
        skip = _SKIPPED.get(word)
        if skip is not None:
            i += skip
        elif word == b"store" and i + 1 < n:
            store = i + 1
        i += 1
    if store:
        positions.append(store)
    return positions


def _sort_key_flags(argv: list[bytes], position: int) -> tuple[str, ...]:
    return ("RO", "access") if position == 1 else ("OW", "update")


def _sort_ro_keys(argv: list[bytes]) -> list[int]:
    return [1]


@command(
    "sort",
    -2,
    Flag.WRITE | Flag.DENYOOM,
    keys=(1, 1, 1),
    keys_fn=sort_keys,
    key_specs=(
        index_range(1, "RO", "access"),
        unknown_keys("RO", "access", notes=_BY_GET_NOTE),
        unknown_keys("OW", "update", notes=_STORE_NOTE),
    ),
    key_flags_fn=_sort_key_flags,
    categories=_SORT_CATEGORIES,
    summary="Sort the elements in a list, set or sorted set",
    complexity=_SORT_COMPLEXITY,
    syntax=_SYNTAX + " [STORE destination]",
)
def sort(ctx: Context, argv: list[bytes]) -> bytes:
    return _sort(ctx, argv, readonly=False)


@command(
    "sort_ro",
    -2,
    Flag.READONLY,
    keys=(1, 1, 1),
    keys_fn=_sort_ro_keys,
    key_specs=(
        index_range(1, "RO", "access"),
        unknown_keys("RO", "access", notes=_BY_GET_NOTE),
    ),
    key_flags_fn=_sort_key_flags,
    categories=_SORT_CATEGORIES,
    summary="Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
    since="7.0.0",
    complexity=_SORT_COMPLEXITY,
    syntax=_SYNTAX,
)
def sort_ro(ctx: Context, argv: list[bytes]) -> bytes:
    return _sort(ctx, argv, readonly=True)
