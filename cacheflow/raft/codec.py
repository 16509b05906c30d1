"""The binary encoding of Raft's values: messages on the wire, entries and hard state in the WAL.

Every top-level encoding starts with one format version byte (``VERSION``); a
reader refuses any other version with ``CodecError`` instead of guessing, so a
later format can change anything after that byte.  After it, fields are
fixed-width little-endian (``struct``), in this order (v1):

- ``Entry``: term u64, index u64, type u8, data length u32, data.
- ``HardState``: term u64, vote u64, commit u64.
- ``ConfState``: voter count u32, voters u64 each, learner count u32, learners u64 each.
- ``SnapshotMetadata``: index u64, term u64, ConfState.
- ``Snapshot``: SnapshotMetadata, data length u64, data.
- ``ConfChange``: type u8, node id u64, context length u32, context.
- ``Message``: type u8, flags u8 (bit 0 reject, bit 1 a snapshot follows), to, from,
  term, log_term, index, commit, reject_hint (u64 each), context length u32, context,
  entry count u32, the entries (without version bytes), then the snapshot if flagged.

Fixed-width fields rather than varints: encoding is one ``struct.pack`` per
record, and a 100-byte entry costs 21 bytes of header, which the WAL and the wire
can afford.

Invariants: decoding never trusts a length or a count before checking that the
input still holds at least that many bytes, so a lying length fails fast with
``CodecError`` and never allocates more than the input's size; every decode
consumes its input exactly (trailing bytes are an error); unknown enum values
and flag bits are errors.  Encoding a value that does not fit its field (a
negative index, a node id >= 2**64) raises ``CodecError`` too.  Pure: bytes in,
values out, nothing else.
"""

import struct
from collections.abc import Callable, Iterable, Sequence
from typing import Final, TypeVar

from cacheflow.raft.core.types import (
    ConfChange,
    ConfChangeType,
    ConfState,
    Entry,
    EntryType,
    HardState,
    Message,
    MessageType,
    Snapshot,
    SnapshotMetadata,
)

VERSION: Final = 1

_FLAG_REJECT: Final = 0x01
_FLAG_SNAPSHOT: Final = 0x02
_KNOWN_FLAGS: Final = _FLAG_REJECT | _FLAG_SNAPSHOT

_VERSION_BYTE: Final = bytes([VERSION])
_U32: Final = struct.Struct("<I")
_U64: Final = struct.Struct("<Q")
_ENTRY_HEAD: Final = struct.Struct("<QQBI")  # term, index, type, data length
_HARD_STATE: Final = struct.Struct("<QQQ")
_SNAP_HEAD: Final = struct.Struct("<QQ")  # index, term
_CONF_CHANGE_HEAD: Final = struct.Struct("<BQI")  # type, node id, context length
_MSG_HEAD: Final = struct.Struct("<BB7QI")  # type, flags, 7 numbers, context length

_MESSAGE_TYPES: Final = {int(t): t for t in MessageType}
_ENTRY_TYPES: Final = {int(t): t for t in EntryType}
_CONF_CHANGE_TYPES: Final = {int(t): t for t in ConfChangeType}
_NORMAL: Final = EntryType.NORMAL
_T = TypeVar("_T")


class CodecError(ValueError):
    """Bytes that are not a valid encoding (or a value that cannot be encoded)."""


# ---------------------------------------------------------------------------
# Encoding: each _put_* appends the parts of one value to ``out``.


def _put_entry(out: list[bytes], e: Entry) -> None:
    data = e.data
    out.append(_ENTRY_HEAD.pack(e.term, e.index, e.type, len(data)))
    if data:
        out.append(data)


def _put_ids(out: list[bytes], ids: Sequence[int]) -> None:
    out.append(_U32.pack(len(ids)))
    if ids:
        out.append(struct.pack("<%dQ" % len(ids), *ids))


def _put_conf_state(out: list[bytes], cs: ConfState) -> None:
    _put_ids(out, cs.voters)
    _put_ids(out, cs.learners)


def _put_snapshot_metadata(out: list[bytes], md: SnapshotMetadata) -> None:
    out.append(_SNAP_HEAD.pack(md.index, md.term))
    _put_conf_state(out, md.conf_state)


def _put_snapshot(out: list[bytes], snap: Snapshot) -> None:
    _put_snapshot_metadata(out, snap.metadata)
    out.append(_U64.pack(len(snap.data)))
    out.append(snap.data)


def _put_message(out: list[bytes], m: Message) -> None:
    flags = (_FLAG_REJECT if m.reject else 0) | (_FLAG_SNAPSHOT if m.snapshot is not None else 0)
    out.append(
        _MSG_HEAD.pack(
            m.type,
            flags,
            m.to,
            m.from_,
            m.term,
            m.log_term,
            m.index,
            m.commit,
            m.reject_hint,
            len(m.context),
        )
    )
    out.append(m.context)
    out.append(_U32.pack(len(m.entries)))
    for e in m.entries:
        _put_entry(out, e)
    if m.snapshot is not None:
        _put_snapshot(out, m.snapshot)


def _encode(put: Callable[[list[bytes], _T], None], value: _T) -> bytes:
    out = [_VERSION_BYTE]
    try:
        put(out, value)
    except struct.error as exc:  # a field out of range: negative, or too wide
        raise CodecError(f"cannot encode {type(value).__name__}: {exc}") from None
    return b"".join(out)


def encode_entry(e: Entry) -> bytes:
    return _encode(_put_entry, e)


def encode_entries(entries: Iterable[Entry]) -> bytes:
    """A batch of entries: the count, then each entry (what one WAL record carries)."""
    items = entries if isinstance(entries, (list, tuple)) else list(entries)
    out = [_VERSION_BYTE, _U32.pack(len(items))]
    pack = _ENTRY_HEAD.pack
    normal = _NORMAL
    try:
        for e in items:
            data = e.data
            # (an IntEnum costs struct a call to __index__: the common type is spelled as a plain 0)
            out.append(pack(e.term, e.index, 0 if e.type is normal else e.type, len(data)))
            out.append(data)
    except struct.error as exc:
        raise CodecError(f"cannot encode Entry: {exc}") from None
    return b"".join(out)


def encode_hard_state(hs: HardState) -> bytes:
    try:
        return _VERSION_BYTE + _HARD_STATE.pack(hs.term, hs.vote, hs.commit)
    except struct.error as exc:
        raise CodecError(f"cannot encode HardState: {exc}") from None


def encode_conf_state(cs: ConfState) -> bytes:
    return _encode(_put_conf_state, cs)


def encode_snapshot_metadata(md: SnapshotMetadata) -> bytes:
    return _encode(_put_snapshot_metadata, md)


def encode_snapshot(snap: Snapshot) -> bytes:
    return _encode(_put_snapshot, snap)


def encode_conf_change(cc: ConfChange) -> bytes:
    try:
        return _VERSION_BYTE + _CONF_CHANGE_HEAD.pack(cc.type, cc.node_id, len(cc.context)) + cc.context
    except struct.error as exc:
        raise CodecError(f"cannot encode ConfChange: {exc}") from None


def encode_message(m: Message) -> bytes:
    return _encode(_put_message, m)


# ---------------------------------------------------------------------------
# Decoding: a cursor over the input; every read checks the bytes are there first.


class _Reader:
    __slots__ = ("buf", "end", "pos")

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self.buf = bytes(data) if not isinstance(data, bytes) else data
        self.pos = 0
        self.end = len(self.buf)

    def need(self, n: int, what: str) -> None:
        if n > self.end - self.pos:
            raise CodecError(f"truncated {what}: needs {n} bytes at offset {self.pos}, {self.end - self.pos} left")

    def unpack(self, s: struct.Struct, what: str) -> tuple[int, ...]:
        self.need(s.size, what)
        values: tuple[int, ...] = s.unpack_from(self.buf, self.pos)
        self.pos += s.size
        return values

    def take(self, n: int, what: str) -> bytes:
        self.need(n, what)
        start = self.pos
        self.pos = start + n
        return self.buf[start : self.pos]

    def version(self, what: str) -> None:
        if self.end == 0:
            raise CodecError(f"empty input: no {what}")
        v = self.buf[0]
        if v != VERSION:
            raise CodecError(f"unsupported {what} format version {v} (this build reads version {VERSION})")
        self.pos = 1

    def done(self, what: str) -> None:
        if self.pos != self.end:
            raise CodecError(f"{self.end - self.pos} trailing bytes after {what} at offset {self.pos}")


def _get_entries(r: _Reader, count: int) -> tuple[Entry, ...]:
    # Every entry takes at least its header: a count the input cannot hold is a lie.
    size = _ENTRY_HEAD.size
    r.need(count * size, f"{count} entries")
    buf = r.buf
    pos = r.pos
    end = r.end
    unpack_from = _ENTRY_HEAD.unpack_from
    types = _ENTRY_TYPES
    out = []
    for _ in range(count):
        if end - pos < size:
            r.pos = pos
            r.need(size, "entry header")
        term, index, t, n = unpack_from(buf, pos)
        pos += size
        if n > end - pos:
            r.pos = pos
            r.need(n, "entry data")
        et = types.get(t)
        if et is None:
            raise CodecError(f"unknown entry type {t} at offset {pos - size}")
        out.append(Entry(term, index, et, buf[pos : pos + n]))
        pos += n
    r.pos = pos
    return tuple(out)


def _get_ids(r: _Reader, what: str) -> tuple[int, ...]:
    (n,) = r.unpack(_U32, f"{what} count")
    r.need(n * 8, f"{n} {what}")
    ids: tuple[int, ...] = struct.unpack_from("<%dQ" % n, r.buf, r.pos)
    r.pos += n * 8
    return ids


def _get_conf_state(r: _Reader) -> ConfState:
    voters = _get_ids(r, "voters")
    learners = _get_ids(r, "learners")
    return ConfState(voters=voters, learners=learners)


def _get_snapshot_metadata(r: _Reader) -> SnapshotMetadata:
    index, term = r.unpack(_SNAP_HEAD, "snapshot metadata")
    return SnapshotMetadata(index=index, term=term, conf_state=_get_conf_state(r))


def _get_snapshot(r: _Reader) -> Snapshot:
    md = _get_snapshot_metadata(r)
    (n,) = r.unpack(_U64, "snapshot data length")
    return Snapshot(metadata=md, data=r.take(n, "snapshot data"))


def _get_message(r: _Reader) -> Message:
    t, flags, to, from_, term, log_term, index, commit, reject_hint, ctx_len = r.unpack(_MSG_HEAD, "message header")
    mt = _MESSAGE_TYPES.get(t)
    if mt is None:
        raise CodecError(f"unknown message type {t}")
    if flags & ~_KNOWN_FLAGS:
        raise CodecError(f"unknown message flags {flags:#04x}")
    context = r.take(ctx_len, "message context")
    (count,) = r.unpack(_U32, "entry count")
    entries = _get_entries(r, count) if count else ()
    snapshot = _get_snapshot(r) if flags & _FLAG_SNAPSHOT else None
    return Message(
        type=mt,
        to=to,
        from_=from_,
        term=term,
        log_term=log_term,
        index=index,
        entries=entries,
        commit=commit,
        snapshot=snapshot,
        reject=bool(flags & _FLAG_REJECT),
        reject_hint=reject_hint,
        context=context,
    )


def decode_entry(data: bytes | bytearray | memoryview) -> Entry:
    r = _Reader(data)
    r.version("entry")
    (entry,) = _get_entries(r, 1)
    r.done("entry")
    return entry


def decode_entries(data: bytes | bytearray | memoryview) -> tuple[Entry, ...]:
    r = _Reader(data)
    r.version("entry batch")
    (count,) = r.unpack(_U32, "entry count")
    entries = _get_entries(r, count)
    r.done("entry batch")
    return entries


def decode_hard_state(data: bytes | bytearray | memoryview) -> HardState:
    r = _Reader(data)
    r.version("hard state")
    term, vote, commit = r.unpack(_HARD_STATE, "hard state")
    r.done("hard state")
    return HardState(term=term, vote=vote, commit=commit)


def decode_conf_state(data: bytes | bytearray | memoryview) -> ConfState:
    r = _Reader(data)
    r.version("conf state")
    cs = _get_conf_state(r)
    r.done("conf state")
    return cs


def decode_snapshot_metadata(data: bytes | bytearray | memoryview) -> SnapshotMetadata:
    r = _Reader(data)
    r.version("snapshot metadata")
    md = _get_snapshot_metadata(r)
    r.done("snapshot metadata")
    return md


def decode_snapshot(data: bytes | bytearray | memoryview) -> Snapshot:
    r = _Reader(data)
    r.version("snapshot")
    snap = _get_snapshot(r)
    r.done("snapshot")
    return snap


def decode_conf_change(data: bytes | bytearray | memoryview) -> ConfChange:
    r = _Reader(data)
    r.version("conf change")
    t, node_id, n = r.unpack(_CONF_CHANGE_HEAD, "conf change")
    ct = _CONF_CHANGE_TYPES.get(t)
    if ct is None:
        raise CodecError(f"unknown conf change type {t}")
    context = r.take(n, "conf change context")
    r.done("conf change")
    return ConfChange(type=ct, node_id=node_id, context=context)


def decode_message(data: bytes | bytearray | memoryview) -> Message:
    r = _Reader(data)
    r.version("message")
    m = _get_message(r)
    r.done("message")
    return m
