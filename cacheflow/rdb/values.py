"""One value in RDB form: what follows a key in a snapshot, and the body of a DUMP payload.

``dump_value`` writes what Redis 7.0 writes for the same contents, so a real
redis-server loads it into the same encoding: small hashes and sorted sets as
listpacks, lists as QUICKLIST_2 of listpack nodes (split as Redis's quicklist
splits them), small integer sets as intsets, and the big encodings as plain
HASH, SET and ZSET_2 (binary scores, highest first, as Redis saves them).

``load_value`` reads every value type Redis 7.0 reads (and 7.2's
SET_LISTPACK) and builds our store values, choosing the encoding Redis would
report after loading the same record: a listpack blob stays a listpack unless
it has more entries than the threshold allows; a plain HASH, SET or ZSET
becomes compact when it is within the thresholds.  It never trusts the
input: every blob is fully checked, duplicates are refused (our values cannot
hold them), and any problem is an ``RdbError`` with the offset.  A collection
with no elements raises ``EmptyValueError``.

``dump_payload`` / ``load_payload`` frame a value as DUMP does: the value, the
RDB version (2 bytes LE) and the CRC-64 of both (8 bytes LE).
"""

from collections.abc import Callable
from typing import Final

from cacheflow.config.schema import Config
from cacheflow.rdb import intset, listpack
from cacheflow.rdb.checksum import crc64
from cacheflow.rdb.errors import BlobError, EmptyValueError, RdbError
from cacheflow.rdb.format import (
    FIELD_TTL_TYPES,
    FIELD_TTL_VERSION,
    QUICKLIST_NODE_PACKED,
    QUICKLIST_NODE_PLAIN,
    RDB_VERSION,
    TYPE_HASH,
    TYPE_HASH_LISTPACK,
    TYPE_HASH_LISTPACK_EX,
    TYPE_HASH_METADATA,
    TYPE_HASH_ZIPLIST,
    TYPE_HASH_ZIPMAP,
    TYPE_LIST,
    TYPE_LIST_QUICKLIST,
    TYPE_LIST_QUICKLIST_2,
    TYPE_LIST_ZIPLIST,
    TYPE_MODULE_2,
    TYPE_MODULE_PRE_GA,
    TYPE_NAMES,
    TYPE_SET,
    TYPE_SET_INTSET,
    TYPE_SET_LISTPACK,
    TYPE_STREAM_LISTPACKS,
    TYPE_STREAM_LISTPACKS_2,
    TYPE_STREAM_LISTPACKS_3,
    TYPE_STRING,
    TYPE_ZSET,
    TYPE_ZSET_2,
    TYPE_ZSET_LISTPACK,
    TYPE_ZSET_ZIPLIST,
    Reader,
    encode_binary_double,
    encode_length,
    encode_string,
    u64_bytes,
)
from cacheflow.rdb.ziplist import parse_ziplist, parse_zipmap
from cacheflow.store import hashes as _hashes
from cacheflow.store.hashes import Hash
from cacheflow.store.lists import ListValue
from cacheflow.store.sets import SetValue
from cacheflow.store.sorted_sets import SortedSet, listpack_score_text

# Redis 7.0's quicklist: node size limits for a negative list-max-listpack-size (-1 .. -5), the most a
# node may hold when the limit is a count, and the element size from which an element gets a node of
# its own (a PLAIN node; packed_threshold, 1 GB by default, up to just under 4 GB).
_QUICKLIST_LEVELS = (4096, 8192, 16384, 32768, 65536)
_QUICKLIST_SAFETY_LIMIT = 8192
PACKED_THRESHOLD_DEFAULT: Final = 1 << 30
_PACKED_THRESHOLD_MAX: Final = (1 << 32) - (1 << 20)
_packed_threshold = PACKED_THRESHOLD_DEFAULT

_STRING_BYTE = bytes((TYPE_STRING,))
_LIST_BYTE = bytes((TYPE_LIST_QUICKLIST_2,))
_SET_BYTE = bytes((TYPE_SET,))
_INTSET_BYTE = bytes((TYPE_SET_INTSET,))
_ZSET_LISTPACK_BYTE = bytes((TYPE_ZSET_LISTPACK,))
_ZSET_2_BYTE = bytes((TYPE_ZSET_2,))
_HASH_LISTPACK_BYTE = bytes((TYPE_HASH_LISTPACK,))
_HASH_BYTE = bytes((TYPE_HASH,))
_HASH_METADATA_BYTE = bytes((TYPE_HASH_METADATA,))
_VERSION_FOOTER = RDB_VERSION.to_bytes(2, "little")
_FIELD_TTL_FOOTER = FIELD_TTL_VERSION.to_bytes(2, "little")

PAYLOAD_WRONG = "DUMP payload version or checksum are wrong"


class PayloadError(RdbError):
    """A DUMP payload whose version is too new or whose checksum does not match (RESTORE's first check)."""


# -- writing ------------------------------------------------------------------------------------


def dump_value(value: object, config: Config) -> bytes:
    """The value's type byte and RDB body, as Redis 7.0's rdbSaveObjectType + rdbSaveObject."""
    compress: bool = config.rdbcompression
    cls = value.__class__
    if cls is bytes:
        return _STRING_BYTE + encode_string(value, compress)  # type: ignore[arg-type]
    if cls is bytearray:
        return _STRING_BYTE + encode_string(bytes(value), compress)  # type: ignore[call-overload]
    if isinstance(value, Hash):
        return _dump_hash(value, compress)
    if isinstance(value, ListValue):
        return _dump_list(value, config.list_max_listpack_size, compress)
    if isinstance(value, SetValue):
        return _dump_set(value, compress)
    if isinstance(value, SortedSet):
        return _dump_zset(value, compress)
    raise TypeError(f"no RDB form for a {cls.__name__} value")


def _dump_hash(value: Hash, compress: bool) -> bytes:
    ttls = value.ttls
    if ttls:
        return _dump_hash_metadata(value, ttls, compress)
    if value.is_listpack:
        return _HASH_LISTPACK_BYTE + encode_string(listpack.build(value.flat()), compress)
    items = value.items()
    parts = [_HASH_BYTE, encode_length(len(items))]
    for f, v in items:
        parts.append(encode_string(f, compress))
        parts.append(encode_string(v, compress))
    return b"".join(parts)


def _dump_hash_metadata(value: Hash, ttls: dict[bytes, int], compress: bool) -> bytes:
    """Redis 7.4's HASH_METADATA: the earliest field TTL, then (TTL, field, value) per field.

    A TTL is written relative to the earliest one, plus one, so that 0 means
    "no TTL".  Redis 7.0 has no field TTLs: a file or payload holding this
    type is version 12, which 7.0 refuses rather than dropping the TTLs.
    """
    items = value.items()
    base = min(ttls.values())
    parts = [_HASH_METADATA_BYTE, u64_bytes(base), encode_length(len(items))]
    for f, v in items:
        at = ttls.get(f)
        parts.append(encode_length(0 if at is None else at - base + 1))
        parts.append(encode_string(f, compress))
        parts.append(encode_string(v, compress))
    return b"".join(parts)


def needs_field_ttl_version(value: object) -> bool:
    """Whether a value's RDB form needs version 12 (a hash with field TTLs)."""
    return bool(getattr(value, "ttls", None))


def _node_accepts(node_bytes: int, count: int, element_len: int, fill: int) -> bool:
    """Whether Redis 7.0's quicklist adds an element of this length to the tail node."""
    overhead = (1 if element_len < 254 else 5) + (1 if element_len < 64 else 2 if element_len < 16384 else 5)
    estimate = node_bytes + element_len + overhead
    if fill < 0:
        level = -fill - 1
        return level < len(_QUICKLIST_LEVELS) and estimate <= _QUICKLIST_LEVELS[level]
    return estimate <= _QUICKLIST_SAFETY_LIMIT and count < fill


def set_packed_threshold(size: int) -> bool:
    """DEBUG QUICKLIST-PACKED-THRESHOLD: from what size an element gets a PLAIN node (0: back to 1 GB).

    Process-wide, as the setting is in Redis's quicklist; False, and nothing
    changed, for a size Redis refuses (about 4 GB and more).
    """
    global _packed_threshold
    if size > _PACKED_THRESHOLD_MAX:
        return False
    _packed_threshold = size or PACKED_THRESHOLD_DEFAULT
    return True


def quicklist_node_size(node: list[bytes] | bytes) -> int:
    """A node's bytes before compression: its listpack, or a PLAIN node's element."""
    if isinstance(node, bytes):
        return len(node)
    return listpack.EMPTY_SIZE + sum(map(listpack.entry_size, node))


def quicklist_nodes(elements: list[bytes], fill: int) -> list[list[bytes] | bytes]:
    """The list split into nodes as Redis 7.0's quicklist does when the elements are pushed at the tail.

    A node is a list of elements (a listpack), or a single ``bytes`` for an
    element big enough to get a PLAIN node.
    """
    nodes: list[list[bytes] | bytes] = []
    current: list[bytes] | None = None
    node_bytes = 0
    for e in elements:
        if len(e) >= _packed_threshold:
            nodes.append(e)
            current = None
            continue
        if current is None or not _node_accepts(node_bytes, len(current), len(e), fill):
            current = []
            nodes.append(current)
            node_bytes = listpack.EMPTY_SIZE
        current.append(e)
        node_bytes += listpack.entry_size(e)
    return nodes


def _dump_list(value: ListValue, fill: int, compress: bool) -> bytes:
    nodes = quicklist_nodes(list(value.values()), fill)
    parts = [_LIST_BYTE, encode_length(len(nodes))]
    for node in nodes:
        if isinstance(node, bytes):
            parts.append(b"\x01")
            parts.append(encode_string(node, compress))
        else:
            parts.append(b"\x02")
            parts.append(encode_string(listpack.build(node), compress))
    return b"".join(parts)


def _dump_set(value: SetValue, compress: bool) -> bytes:
    members = value.members()
    if value.encoding() == b"intset":
        return _INTSET_BYTE + encode_string(intset.build([int(m) for m in members]), compress)
    parts = [_SET_BYTE, encode_length(len(members))]
    parts += [encode_string(m, compress) for m in members]
    return b"".join(parts)


def _dump_zset(value: SortedSet, compress: bool) -> bytes:
    pairs = value.pairs()
    if value.is_small():
        flat: list[bytes] = []
        for score, member in pairs:
            flat.append(member)
            flat.append(listpack_score_text(score))
        return _ZSET_LISTPACK_BYTE + encode_string(listpack.build(flat), compress)
    parts = [_ZSET_2_BYTE, encode_length(len(pairs))]
    for score, member in reversed(pairs):
        parts.append(encode_string(member, compress))
        parts.append(encode_binary_double(score))
    return b"".join(parts)


def dump_payload(value: object, config: Config) -> bytes:
    """DUMP's serialization: the value, RDB version 10 (LE), CRC-64 of both (LE).

    A hash with field TTLs is framed as version 12 (Redis 7.4's), see ``_dump_hash_metadata``.
    """
    footer = _FIELD_TTL_FOOTER if needs_field_ttl_version(value) else _VERSION_FOOTER
    body = dump_value(value, config) + footer
    return body + crc64(body).to_bytes(8, "little")


# -- reading ------------------------------------------------------------------------------------


def load_payload(payload: bytes, config: Config) -> object:
    """The value a DUMP payload holds.

    Raises ``PayloadError`` when the version is newer than 10 or the checksum
    is wrong (RESTORE's "DUMP payload version or checksum are wrong"), and
    another ``RdbError`` when the body is malformed ("Bad data format").
    Bytes after the value and before the footer are ignored, as Redis does.
    """
    n = len(payload)
    if n < 10:
        raise PayloadError(0, PAYLOAD_WRONG)
    version = payload[n - 10] | (payload[n - 9] << 8)
    # Newer than Redis 7.0's version only for what 7.0 cannot hold: our own field-TTL hashes.
    if version > RDB_VERSION and not (version <= FIELD_TTL_VERSION and payload[0] in FIELD_TTL_TYPES):
        raise PayloadError(n - 10, PAYLOAD_WRONG)
    if crc64(memoryview(payload)[: n - 8]).to_bytes(8, "little") != payload[n - 8 :]:
        raise PayloadError(n - 8, PAYLOAD_WRONG)
    reader = Reader(bytes(payload), 0, n - 10)
    return load_value(reader.byte("the value type"), reader, config)


def load_value(type_byte: int, reader: Reader, config: Config) -> object:
    """Read one value of RDB type ``type_byte`` at the reader's position (just after the key)."""
    start = reader.pos
    loader = _LOADERS.get(type_byte)
    if loader is None:
        raise RdbError(start - 1, unsupported_type(type_byte))
    try:
        return loader(reader, config)
    except RdbError:
        raise
    except (IndexError, ValueError, OverflowError, MemoryError) as exc:  # defensive: report, never crash
        raise RdbError(reader.pos, f"malformed {TYPE_NAMES.get(type_byte, 'value')} value: {exc}") from None


def unsupported_type(type_byte: int) -> str:
    if type_byte in (TYPE_MODULE_PRE_GA, TYPE_MODULE_2):
        return "module values are not supported"
    if type_byte in (TYPE_STREAM_LISTPACKS, TYPE_STREAM_LISTPACKS_2, TYPE_STREAM_LISTPACKS_3):
        return "stream values are not supported"
    return f"unknown value type {type_byte}"


def _blob(reader: Reader, what: str, parse: Callable[[bytes], list[bytes]]) -> list[bytes]:
    start = reader.pos
    blob = reader.string(what)
    try:
        return parse(blob)
    except BlobError as exc:
        raise RdbError(start, f"bad {what}: {exc}") from None


def _load_string(reader: Reader, config: Config) -> object:
    return reader.string("a string value")


# lists


def _list_of(elements: list[bytes], start: int) -> ListValue:
    if not elements:
        raise EmptyValueError(start, "empty list")
    return ListValue.from_values(elements)


def _load_list(reader: Reader, config: Config) -> object:
    start = reader.pos
    n = reader.length("the list length")
    return _list_of([reader.string("a list element") for _ in range(n)], start)


def _load_list_ziplist(reader: Reader, config: Config) -> object:
    start = reader.pos
    return _list_of(_blob(reader, "list ziplist", parse_ziplist), start)


def _load_quicklist(reader: Reader, config: Config) -> object:
    start = reader.pos
    nodes = reader.length("the quicklist node count")
    elements: list[bytes] = []
    for _ in range(nodes):
        elements += _blob(reader, "quicklist ziplist node", parse_ziplist)
    return _list_of(elements, start)


def _load_quicklist_2(reader: Reader, config: Config) -> object:
    start = reader.pos
    nodes = reader.length("the quicklist node count")
    elements: list[bytes] = []
    for _ in range(nodes):
        at = reader.pos
        container = reader.length("a quicklist node container")
        if container == QUICKLIST_NODE_PLAIN:
            elements.append(reader.string("a plain quicklist node"))
        elif container == QUICKLIST_NODE_PACKED:
            elements += _blob(reader, "quicklist listpack node", listpack.parse)
        else:
            raise RdbError(at, f"unknown quicklist node container {container}")
    return _list_of(elements, start)


# sets


def _set_of(members: list[bytes], start: int, config: Config) -> SetValue:
    if not members:
        raise EmptyValueError(start, "empty set")
    unique = list(dict.fromkeys(members))
    if len(unique) != len(members):
        raise RdbError(start, "duplicate set members")
    return SetValue.from_members(unique, config.set_max_intset_entries, distinct=True)


def _load_set(reader: Reader, config: Config) -> object:
    start = reader.pos
    n = reader.length("the set size")
    return _set_of([reader.string("a set member") for _ in range(n)], start, config)


def _load_intset(reader: Reader, config: Config) -> object:
    start = reader.pos
    blob = reader.string("intset")
    try:
        values = intset.parse(blob)
    except BlobError as exc:
        raise RdbError(start, f"bad intset: {exc}") from None
    return _set_of([b"%d" % v for v in values], start, config)


def _load_set_listpack(reader: Reader, config: Config) -> object:
    start = reader.pos
    return _set_of(_blob(reader, "set listpack", listpack.parse), start, config)


# sorted sets


def _parse_score(text: bytes, start: int) -> float:
    try:
        score = float(text)
    except ValueError:
        raise RdbError(start, f"sorted set score {text[:40]!r} is not a number") from None
    if score != score:
        raise RdbError(start, "sorted set score is NaN")
    return score


def _zset_of(pairs: list[tuple[float, bytes]], start: int, config: Config, from_blob: bool) -> SortedSet:
    """A sorted set as Redis 7.0 has it after loading.

    From a plain ZSET record Redis builds a skiplist and converts it to a
    listpack when it is within both thresholds; from a ziplist or listpack
    it keeps the listpack unless it has too many entries.
    """
    if not pairs:
        raise EmptyValueError(start, "empty sorted set")
    if len({m for _, m in pairs}) != len(pairs):
        raise RdbError(start, "duplicate sorted set members")
    pairs.sort()
    max_entries: int = config.zset_max_listpack_entries
    max_value: int = config.zset_max_listpack_value
    if from_blob and len(pairs) <= max_entries:
        max_value = max(max_value, max(len(m) for _, m in pairs))
    return SortedSet.from_pairs(pairs, max_entries, max_value)


def _load_zset(reader: Reader, config: Config, binary: bool) -> object:
    start = reader.pos
    n = reader.length("the sorted set size")
    pairs: list[tuple[float, bytes]] = []
    for _ in range(n):
        member = reader.string("a sorted set member")
        at = reader.pos
        score = reader.binary_double("a score") if binary else reader.text_double("a score")
        if score != score:
            raise RdbError(at, "sorted set score is NaN")
        pairs.append((score, member))
    return _zset_of(pairs, start, config, from_blob=False)


def _load_zset_blob(reader: Reader, config: Config, parse: Callable[[bytes], list[bytes]], what: str) -> object:
    start = reader.pos
    flat = _blob(reader, what, parse)
    if len(flat) % 2:
        raise RdbError(start, f"{what} holds an odd number of entries")
    pairs = [(_parse_score(flat[i + 1], start), flat[i]) for i in range(0, len(flat), 2)]
    return _zset_of(pairs, start, config, from_blob=True)


# hashes


def _hash_of(flat: list[bytes], start: int, config: Config, from_blob: bool) -> Hash:
    """A hash as Redis 7.0 has it after loading (see ``_zset_of`` for the rule).

    The encoding is decided here and built by ``Hash.from_pairs``.
    """
    if not flat:
        raise EmptyValueError(start, "empty hash")
    if len(flat) % 2:
        raise RdbError(start, "hash with a field and no value")
    fields = flat[0::2]
    d = dict(zip(fields, flat[1::2]))
    if len(d) != len(fields):
        raise RdbError(start, "duplicate hash fields")
    max_value: int = config.hash_max_listpack_value
    hashtable = len(d) > config.hash_max_listpack_entries or (not from_blob and max(map(len, flat)) > max_value)
    return Hash.from_pairs(d, listpack=not hashtable)


def _load_hash(reader: Reader, config: Config) -> object:
    start = reader.pos
    n = reader.length("the hash size")
    flat: list[bytes] = []
    for _ in range(n):
        flat.append(reader.string("a hash field"))
        flat.append(reader.string("a hash value"))
    return _hash_of(flat, start, config, from_blob=False)


def _load_hash_blob(
    reader: Reader, config: Config, parse: Callable[[bytes], list[bytes]], what: str, from_blob: bool = True
) -> object:
    start = reader.pos
    return _hash_of(_blob(reader, what, parse), start, config, from_blob)


def _load_hash_metadata(reader: Reader, config: Config) -> object:
    start = reader.pos
    base = reader.u64("the earliest field TTL")
    n = reader.length("the hash size")
    flat: list[bytes] = []
    ttls: dict[bytes, int] = {}
    for _ in range(n):
        ttl = reader.length("a field TTL")
        field = reader.string("a hash field")
        flat.append(field)
        flat.append(reader.string("a hash value"))
        if ttl:
            ttls[field] = base + ttl - 1
    return _hash_with_ttls(flat, ttls, start, config)


def _load_hash_listpack_ex(reader: Reader, config: Config) -> object:
    start = reader.pos
    reader.u64("the earliest field TTL")
    triplets = _blob(reader, "hash listpack with TTLs", listpack.parse)
    if len(triplets) % 3:
        raise RdbError(start, "hash listpack with TTLs does not hold (field, value, TTL) triplets")
    flat: list[bytes] = []
    ttls: dict[bytes, int] = {}
    for i in range(0, len(triplets), 3):
        field, value, raw = triplets[i : i + 3]
        if not raw.isdigit():
            raise RdbError(start, f"hash field TTL {raw[:40]!r} is not a time")
        flat.append(field)
        flat.append(value)
        if int(raw):
            ttls[field] = int(raw)
    return _hash_with_ttls(flat, ttls, start, config)


def _hash_with_ttls(flat: list[bytes], ttls: dict[bytes, int], start: int, config: Config) -> Hash:
    """A hash whose fields may carry TTLs, built field by field as Redis 7.4 loads one."""
    h = _hash_of(flat, start, config, from_blob=False)
    if not ttls:
        return h
    if h.is_listpack:
        # Field by field through the public API, so that the listpackex field order is Hash's own.
        h = Hash()
        h.enable_ttls()
        for i in range(0, len(flat), 2):
            h.set(flat[i], flat[i + 1], len(flat), 1 << 62)
    else:
        h.enable_ttls()
    for field, at in ttls.items():
        h.expire_field(field, at, _hashes.COND_NONE, 0)
    return h


_LOADERS: dict[int, Callable[[Reader, Config], object]] = {
    TYPE_STRING: _load_string,
    TYPE_LIST: _load_list,
    TYPE_LIST_ZIPLIST: _load_list_ziplist,
    TYPE_LIST_QUICKLIST: _load_quicklist,
    TYPE_LIST_QUICKLIST_2: _load_quicklist_2,
    TYPE_SET: _load_set,
    TYPE_SET_INTSET: _load_intset,
    TYPE_SET_LISTPACK: _load_set_listpack,
    TYPE_ZSET: lambda r, c: _load_zset(r, c, binary=False),
    TYPE_ZSET_2: lambda r, c: _load_zset(r, c, binary=True),
    TYPE_ZSET_ZIPLIST: lambda r, c: _load_zset_blob(r, c, parse_ziplist, "sorted set ziplist"),
    TYPE_ZSET_LISTPACK: lambda r, c: _load_zset_blob(r, c, listpack.parse, "sorted set listpack"),
    TYPE_HASH: _load_hash,
    # Redis converts a zipmap field by field, so a long one makes a hashtable (unlike a ziplist).
    TYPE_HASH_ZIPMAP: lambda r, c: _load_hash_blob(r, c, parse_zipmap, "hash zipmap", from_blob=False),
    TYPE_HASH_ZIPLIST: lambda r, c: _load_hash_blob(r, c, parse_ziplist, "hash ziplist"),
    TYPE_HASH_LISTPACK: lambda r, c: _load_hash_blob(r, c, listpack.parse, "hash listpack"),
    TYPE_HASH_METADATA: _load_hash_metadata,
    TYPE_HASH_LISTPACK_EX: _load_hash_listpack_ex,
}

VALUE_TYPES = frozenset(_LOADERS)
