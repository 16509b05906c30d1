"""The hash value type: field -> value maps with optional per-field expiry (Redis 7.4).

Redis keeps small hashes in a ``listpack`` and converts them, one way only, to
a ``hashtable`` once a field count passes ``hash-max-listpack-entries`` or a
field or value is longer than ``hash-max-listpack-value``.  Here the same
contents report the same encoding, with three representations in ``_d``:

- ``bytes``, a packed listpack.  A CPython ``bytes`` object costs ~33 bytes of
  header and a dict ~200+, so 100,000 hashes of 10 fields held as dicts of
  bytes would cost about six times Redis's memory; one blob per hash keeps it
  within ~1.5x.  Layout, in field order::

      \\x00\\x01 <field> \\x00\\x02 <value>   \\x00\\x01 <field> \\x00\\x02 <value> ...

  where a NUL byte inside a field or value is written as ``\\x00\\x03``.  Every
  NUL in the blob therefore starts a two-byte code, so ``\\x00\\x01 field
  \\x00\\x02`` (the field escaped) occurs in the blob exactly where that field
  is stored: a lookup is one ``bytes.find`` in C instead of a Python walk.
- ``Unpacked``, a dict subclass: a listpack that is in active use.  Even a
  C-level find costs several times a dict lookup, so a packed hash that is
  accessed ``_HOT_AFTER`` times is unpacked, and at most ``HOT_LIMIT`` hashes
  stay unpacked at once: unpacking one more packs the oldest back.  A dict
  keeps insertion order, which is exactly a listpack's field order, so
  nothing observable changes.
- ``dict``, the hashtable encoding.

Per-field TTLs live beside the data in ``ttls`` (field -> absolute ms).  A hash
that was ever given field TTLs while small reports Redis 7.4's ``listpackex``
encoding, stays packed, and keeps Redis's field order for it: fields with a
TTL first, by ascending expiry (a field whose TTL is set goes before any field
with the same or a later expiry), then the fields without one in insertion
order.  A field is expired once its time is strictly in the past
(``at < now``), as Redis's ``hashTypeIsExpired``; setting a time that is not
in the future (``at <= now``) deletes the field instead, as
``checkAlreadyExpired``.

Invariants:
- ``next_expiry`` is the smallest value in ``ttls`` (``NEVER`` when there is
  none), so "is anything due?" is one comparison;
- every field in ``ttls`` is in the hash; an ``Unpacked`` hash has ``ttls`` None;
- the store never reads the clock: callers pass ``now``.
"""

import sys
from collections import OrderedDict
from typing import ClassVar, Final, Self

NEVER: Final = 1 << 63

_F: Final = b"\x00\x01"  # starts a field
_V: Final = b"\x00\x02"  # starts a value
_NUL: Final = b"\x00"
_ESCAPED_NUL: Final = b"\x00\x03"

# Accesses after which a packed listpack is unpacked, and how many may stay unpacked.
_HOT_AFTER: Final = 8
HOT_LIMIT: Final = 1024

# Conditions of HEXPIRE and friends.
COND_NONE: Final = 0
COND_NX: Final = 1
COND_XX: Final = 2
COND_GT: Final = 3
COND_LT: Final = 4

# Per-field results of HEXPIRE and friends, as Redis replies them.
NO_FIELD: Final = -2
CONDITION_NOT_MET: Final = 0
EXPIRE_SET: Final = 1
DELETED: Final = 2


class Unpacked(dict[bytes, bytes]):
    """A listpack-encoded hash held as a dict while it is hot (see the module docstring).

    HSET's hot path in the command layer sets a field of an unpacked hash
    directly, within the same thresholds as ``Hash.set``.
    """

    __slots__ = ()


def _split(blob: bytes) -> list[bytes]:
    """A packed blob as [field, value, field, value, ...], unescaped."""
    if not blob:
        return []
    parts = blob[2:].replace(_V, _F).split(_F)
    if _ESCAPED_NUL in blob:
        parts = [p.replace(_ESCAPED_NUL, _NUL) for p in parts]
    return parts


def _pack(d: dict[bytes, bytes]) -> bytes:
    parts: list[bytes] = []
    for f, v in d.items():
        parts += (_F, f.replace(_NUL, _ESCAPED_NUL), _V, v.replace(_NUL, _ESCAPED_NUL))
    return b"".join(parts)


def _needle(field: bytes) -> bytes:
    """What precedes a field's value in a packed blob."""
    return _F + (field.replace(_NUL, _ESCAPED_NUL) if _NUL in field else field) + _V


class _HotRing:
    """The hashes currently unpacked, oldest first; unpacking one more packs the oldest."""

    __slots__ = ("slots", "pos")

    def __init__(self) -> None:
        self.slots: list[Hash | None] = [None] * HOT_LIMIT
        self.pos = 0

    def add(self, h: "Hash") -> None:
        pos = self.pos
        old = self.slots[pos]
        if old is not None and old is not h:
            old._repack()
        self.slots[pos] = h
        self.pos = (pos + 1) % HOT_LIMIT


_HOT: Final = _HotRing()


class Hash:
    """One hash value; see the module docstring for ``_d``."""

    TYPE_NAME: ClassVar[bytes] = b"hash"

    __slots__ = ("_d", "_n", "_hits", "ttls", "next_expiry")

    def __init__(self) -> None:
        self._d: bytes | dict[bytes, bytes] = b""
        self._n = 0  # number of fields while packed
        self._hits = 0  # accesses while packed
        self.ttls: dict[bytes, int] | None = None  # None until a field TTL command touched the hash
        self.next_expiry = NEVER

    @classmethod
    def from_pairs(cls, d: dict[bytes, bytes], listpack: bool) -> Self:
        """A hash holding ``d`` (distinct fields, in order), as a listpack or as a hashtable.

        The caller decides the encoding (RDB loading keeps the one the file
        says, within the thresholds), so this applies no threshold itself.
        ``d`` is taken over, not copied, when it becomes a hashtable.
        """
        h = cls()
        if listpack:
            h._d = _pack(d)
            h._n = len(d)
        else:
            h._d = d
        return h

    # -- representation ----------------------------------------------------------------

    def _packed(self) -> bytes | None:
        """The blob when the hash is (still) packed: counts the access and unpacks a hot hash."""
        d = self._d
        if type(d) is not bytes:
            return None
        hits = self._hits + 1
        if hits < _HOT_AFTER or self.ttls is not None:
            self._hits = hits
            return d  # type: ignore[return-value]
        flat = _split(d)  # type: ignore[arg-type]
        self._d = Unpacked(zip(flat[0::2], flat[1::2]))
        _HOT.add(self)
        return None

    def _repack(self) -> None:
        d = self._d
        if type(d) is Unpacked:
            self._d = _pack(d)  # type: ignore[arg-type]
            self._n = len(d)
            self._hits = 0

    def _blob(self) -> bytes:
        """The packed blob of a listpack, packing it first if it is unpacked (for TTL ordering)."""
        self._repack()
        assert isinstance(self._d, bytes)
        return self._d

    def _to_hashtable(self) -> None:
        d = self._d
        if isinstance(d, bytes):
            flat = _split(d)
            self._d = dict(zip(flat[0::2], flat[1::2]))
        elif type(d) is Unpacked:
            self._d = dict(d)
        self._n = 0

    # -- Collection ------------------------------------------------------------------

    def __len__(self) -> int:
        d = self._d
        return self._n if type(d) is bytes else len(d)

    def encoding(self) -> bytes:
        if type(self._d) is dict:
            return b"hashtable"
        return b"listpack" if self.ttls is None else b"listpackex"

    @property
    def is_listpack(self) -> bool:
        return type(self._d) is not dict

    def accounted_size(self) -> int:
        """What used_memory counts: a hot small hash as the blob it is packed back into.

        At most HOT_LIMIT hashes are unpacked at a time, and one is repacked
        whenever another is unpacked, without any command touching its key: a
        cost measured while it happened to be unpacked would never be given
        back.  Measured in bench/memory_estimate.py (10-field hashes were
        counted at 2.4x their resident size before this).
        """
        d = self._d
        if type(d) is Unpacked:
            blob = sys.getsizeof(b"") + len(d) * (len(_F) + len(_V))
            for f, v in d.items():
                blob += len(f) + len(v)
            total = sys.getsizeof(self) + ((blob + 7) & ~7)
            if self.ttls is not None:
                total += sys.getsizeof(self.ttls) + 32 * len(self.ttls)
            return total
        return self.memory_usage(5)

    def memory_usage(self, samples: int) -> int:
        d = self._d
        total = sys.getsizeof(self)
        if isinstance(d, bytes):
            return total + sys.getsizeof(d)
        total += sys.getsizeof(d)
        n = len(d)
        if n:
            taken = 0
            inner = 0
            for k, v in d.items():
                inner += sys.getsizeof(k) + sys.getsizeof(v)
                taken += 1
                if samples and taken >= samples:
                    break
            total += inner * n // taken
        if self.ttls is not None:
            total += sys.getsizeof(self.ttls) + 32 * len(self.ttls)
        return total

    def copy(self) -> Self:
        other = self.__class__()
        d = self._d
        if isinstance(d, bytes):
            other._d = d  # immutable: shared
            other._n = self._n
        elif type(d) is Unpacked:
            other._d = _pack(d)
            other._n = len(d)
        else:
            other._d = dict(d)
        other.ttls = None if self.ttls is None else dict(self.ttls)
        other.next_expiry = self.next_expiry
        return other

    # -- reads -----------------------------------------------------------------------

    def get(self, field: bytes) -> bytes | None:
        blob = self._packed()
        if blob is None:
            return self._d.get(field)  # type: ignore[union-attr]
        needle = _needle(field)
        i = blob.find(needle)
        if i < 0:
            return None
        start = i + len(needle)
        end = blob.find(_F, start)
        value = blob[start:end] if end >= 0 else blob[start:]
        return value.replace(_ESCAPED_NUL, _NUL) if _NUL in value else value

    def __contains__(self, field: bytes) -> bool:
        blob = self._packed()
        if blob is None:
            return field in self._d
        return _needle(field) in blob

    def flat(self) -> list[bytes]:
        """[field, value, field, value, ...] in the representation's order."""
        d = self._d
        if isinstance(d, bytes):
            return _split(d)
        return [x for pair in d.items() for x in pair]

    def fields(self) -> list[bytes]:
        d = self._d
        if isinstance(d, bytes):
            return _split(d)[0::2]
        return list(d)

    def values(self) -> list[bytes]:
        d = self._d
        if isinstance(d, bytes):
            return _split(d)[1::2]
        return list(d.values())

    def items(self) -> list[tuple[bytes, bytes]]:
        d = self._d
        if isinstance(d, bytes):
            flat = _split(d)
            return list(zip(flat[0::2], flat[1::2]))
        return list(d.items())

    # -- writes ----------------------------------------------------------------------

    def set(self, field: bytes, value: bytes, max_entries: int, max_value: int) -> bool:
        """Set ``field`` (dropping any TTL it had, as HSET does); True when the field is new.

        A field or value longer than ``max_value`` converts a listpack first and
        a field count above ``max_entries`` converts it after, as Redis 7.0's
        hashTypeSet does.
        """
        d = self._d
        cls = type(d)
        if cls is dict:
            if self.ttls:
                self._forget_ttl(field)
            n = len(d)
            d[field] = value  # type: ignore[index]
            return len(d) != n
        if len(field) > max_value or len(value) > max_value:
            self._to_hashtable()
            return self.set(field, value, max_entries, max_value)
        if cls is Unpacked or self._packed() is None:
            d = self._d
            n = len(d)
            d[field] = value  # type: ignore[index]
            if len(d) == n:
                return False
            if n >= max_entries:
                self._to_hashtable()
            return True
        blob: bytes = d  # type: ignore[assignment]
        needle = _needle(field)
        ev = value.replace(_NUL, _ESCAPED_NUL) if _NUL in value else value
        i = blob.find(needle)
        if i < 0:
            self._d = blob + needle + ev
            self._n += 1
            if self._n > max_entries:
                self._to_hashtable()
            return True
        start = i + len(needle)
        end = blob.find(_F, start)
        if end < 0:
            end = len(blob)
        ttls = self.ttls
        if ttls and field in ttls:
            # listpackex: a field that loses its TTL moves to the end (listpackExPersist).
            self._forget_ttl(field)
            self._d = blob[:i] + blob[end:] + needle + ev
        elif end - start != len(ev) or not blob.startswith(ev, start):
            self._d = blob[:start] + ev + blob[end:]
        return False

    def replace_value(self, field: bytes, value: bytes, max_entries: int, max_value: int) -> bool:
        """Like set, but an existing field keeps its TTL and place (HINCRBY, HINCRBYFLOAT)."""
        ttls = self.ttls
        at = ttls.get(field) if ttls else None
        if at is None:
            return self.set(field, value, max_entries, max_value)
        d = self._d
        if isinstance(d, dict):
            d[field] = value
            return False
        if len(field) > max_value or len(value) > max_value:
            self._to_hashtable()
            return self.replace_value(field, value, max_entries, max_value)
        needle = _needle(field)
        i = d.find(needle)
        start = i + len(needle)
        end = d.find(_F, start)
        ev = value.replace(_NUL, _ESCAPED_NUL)
        self._d = d[:start] + ev + (d[end:] if end >= 0 else b"")
        return False

    def delete(self, field: bytes) -> bool:
        blob = self._packed()
        if blob is None:
            d = self._d
            if d.pop(field, None) is None:  # type: ignore[union-attr]
                return False
            if self.ttls:
                self._forget_ttl(field)
            return True
        needle = _needle(field)
        i = blob.find(needle)
        if i < 0:
            return False
        end = blob.find(_F, i + len(needle))
        self._d = blob[:i] + blob[end:] if end >= 0 else blob[:i]
        self._n -= 1
        if self.ttls:
            self._forget_ttl(field)
        return True

    # -- field TTLs ------------------------------------------------------------------

    def ttl_of(self, field: bytes) -> int | None:
        """The absolute expiry (ms) of a field, None when it has none."""
        ttls = self.ttls
        return ttls.get(field) if ttls else None

    def enable_ttls(self) -> None:
        """Mark the hash as one with field TTLs (Redis converts a listpack to listpackex here)."""
        if self.ttls is None:
            self._repack()
            self.ttls = {}

    def expire_field(self, field: bytes, at: int, cond: int, now: int) -> int:
        """HPEXPIREAT for one field: NO_FIELD, CONDITION_NOT_MET, EXPIRE_SET or DELETED.

        A field without a TTL counts as one that never expires: GT never sets
        one on it and LT always does (Redis 7.4's documented semantics).
        """
        self.enable_ttls()
        if field not in self:
            return NO_FIELD
        prev = self.ttl_of(field)
        if prev is None:
            if cond == COND_XX or cond == COND_GT:
                return CONDITION_NOT_MET
        elif cond == COND_NX or (cond == COND_GT and prev >= at) or (cond == COND_LT and prev <= at):
            return CONDITION_NOT_MET
        if at <= now:
            self.delete(field)
            return DELETED
        self._set_ttl(field, at)
        return EXPIRE_SET

    def persist(self, field: bytes) -> bool:
        """Drop a field's TTL; False when it had none.  In a listpack the field moves to the end."""
        if not self.ttls or field not in self.ttls:
            return False
        self._forget_ttl(field)
        d = self._d
        if isinstance(d, bytes):
            needle = _needle(field)
            i = d.find(needle)
            end = d.find(_F, i + len(needle))
            if end >= 0:
                self._d = d[:i] + d[end:] + d[i:end]
        return True

    def _set_ttl(self, field: bytes, at: int) -> None:
        ttls = self.ttls
        assert ttls is not None
        self._forget_ttl(field)
        d = self._d
        if isinstance(d, bytes):
            # Move the entry before the first field with no TTL or a TTL >= at (listpackExUpdateExpiry).
            needle = _needle(field)
            i = d.find(needle)
            end = d.find(_F, i + len(needle))
            entry = d[i:end] if end >= 0 else d[i:]
            rest = d[:i] + d[end:] if end >= 0 else d[:i]
            earlier = sum(1 for other_at in ttls.values() if other_at < at)
            pos = 0
            for _ in range(earlier):
                pos = rest.find(_F, pos + 2)
                if pos < 0:
                    pos = len(rest)
                    break
            self._d = rest[:pos] + entry + rest[pos:]
        ttls[field] = at
        if at < self.next_expiry:
            self.next_expiry = at

    def _forget_ttl(self, field: bytes) -> None:
        ttls = self.ttls
        assert ttls is not None
        at = ttls.pop(field, None)
        if at is not None and at == self.next_expiry:
            self.next_expiry = min(ttls.values()) if ttls else NEVER

    def reclaim_expired(self, now: int) -> list[bytes]:
        """Delete the fields whose TTL is past (``at < now``); they are returned in expiry order."""
        ttls = self.ttls
        if not ttls or self.next_expiry >= now:
            return []
        due = sorted((f for f, at in ttls.items() if at < now), key=ttls.__getitem__)
        for field in due:
            self.delete(field)
        return due


SCAN_SNAPSHOTS: Final = 64
_SCAN_POSITION_BITS: Final = 32


class FieldScans:
    """HSCAN over hashtable-encoded hashes, through snapshots of their field lists.

    A dict has no stable bucket cursor in Python, so cursor 0 takes a snapshot
    of the fields and later cursors name the snapshot and a position in it.
    Every field present for the whole iteration is in the snapshot, so it is
    returned (the guarantee HSCAN documents); fields deleted meanwhile are
    skipped.  Only ``SCAN_SNAPSHOTS`` iterations are remembered: a cursor whose
    snapshot was forgotten, or never handed out, ends the iteration.
    """

    __slots__ = ("_snapshots", "_next_id")

    def __init__(self) -> None:
        self._snapshots: OrderedDict[int, list[bytes]] = OrderedDict()
        self._next_id = 1

    def step(self, h: Hash, cursor: int, count: int) -> tuple[int, list[bytes]]:
        """(next cursor, fields still in ``h``) for one HSCAN call."""
        snapshots = self._snapshots
        if cursor == 0:
            fields = h.fields()
            if len(fields) <= count:
                return 0, fields
            scan_id = self._next_id
            self._next_id = scan_id + 1 if scan_id < 2**31 - 1 else 1
            snapshots[scan_id] = fields
            while len(snapshots) > SCAN_SNAPSHOTS:
                snapshots.popitem(last=False)
            position = 0
        else:
            scan_id = cursor >> _SCAN_POSITION_BITS
            position = cursor & ((1 << _SCAN_POSITION_BITS) - 1)
            found = snapshots.get(scan_id)
            if found is None:
                return 0, []
            fields = found
            snapshots.move_to_end(scan_id)
        batch = fields[position : position + count]
        position += len(batch)
        if position >= len(fields):
            snapshots.pop(scan_id, None)
            next_cursor = 0
        else:
            next_cursor = (scan_id << _SCAN_POSITION_BITS) | position
        return next_cursor, [f for f in batch if f in h]
