"""The wire/WAL codec: every value round-trips, and no input, however broken, gets past CodecError."""

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cacheflow.raft import codec
from cacheflow.raft.codec import CodecError
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

u64 = st.integers(min_value=0, max_value=2**64 - 1)
small_bytes = st.binary(max_size=64)
ids = st.lists(u64, max_size=6).map(tuple)

entries = st.builds(Entry, term=u64, index=u64, type=st.sampled_from(EntryType), data=small_bytes)
conf_states = st.builds(ConfState, voters=ids, learners=ids)
metadata = st.builds(SnapshotMetadata, index=u64, term=u64, conf_state=conf_states)
snapshots = st.builds(Snapshot, metadata=metadata, data=small_bytes)
hard_states = st.builds(HardState, term=u64, vote=u64, commit=u64)
conf_changes = st.builds(ConfChange, type=st.sampled_from(ConfChangeType), node_id=u64, context=small_bytes)
messages = st.builds(
    Message,
    type=st.sampled_from(MessageType),
    to=u64,
    from_=u64,
    term=u64,
    log_term=u64,
    index=u64,
    entries=st.lists(entries, max_size=5).map(tuple),
    commit=u64,
    snapshot=st.none() | snapshots,
    reject=st.booleans(),
    reject_hint=u64,
    context=small_bytes,
)

PAIRS = [
    (codec.encode_entry, codec.decode_entry, entries),
    (codec.encode_entries, codec.decode_entries, st.lists(entries, max_size=5).map(tuple)),
    (codec.encode_hard_state, codec.decode_hard_state, hard_states),
    (codec.encode_conf_state, codec.decode_conf_state, conf_states),
    (codec.encode_snapshot_metadata, codec.decode_snapshot_metadata, metadata),
    (codec.encode_snapshot, codec.decode_snapshot, snapshots),
    (codec.encode_conf_change, codec.decode_conf_change, conf_changes),
    (codec.encode_message, codec.decode_message, messages),
]
DECODERS = [p[1] for p in PAIRS]
value_and_pair = st.sampled_from(PAIRS).flatmap(lambda p: st.tuples(st.just(p), p[2]))


@settings(max_examples=400)
@given(value_and_pair)
def test_every_value_round_trips(case: tuple[tuple, object]) -> None:  # type: ignore[type-arg]
    (encode, decode, _), value = case
    data = encode(value)
    assert data[0] == codec.VERSION
    decoded = decode(data)
    assert decoded == value
    assert decode(bytearray(data)) == value
    assert decode(memoryview(data)) == value


@settings(max_examples=200)
@given(value_and_pair)
def test_every_proper_prefix_and_any_extension_is_rejected(case: tuple[tuple, object]) -> None:  # type: ignore[type-arg]
    (encode, decode, _), value = case
    data = encode(value)
    for cut in range(len(data)):
        with pytest.raises(CodecError):
            decode(data[:cut])
    with pytest.raises(CodecError, match="trailing"):
        decode(data + b"\x00")


@settings(max_examples=500)
@given(st.sampled_from(DECODERS), st.binary(max_size=200))
def test_garbage_raises_codec_error_or_decodes(decode, data: bytes) -> None:  # type: ignore[no-untyped-def]
    try:
        decode(data)
    except CodecError:
        pass


@settings(max_examples=300)
@given(messages, st.data())
def test_bit_flips_never_escape_as_another_exception(m: Message, data: st.DataObject) -> None:
    raw = bytearray(codec.encode_message(m))
    pos = data.draw(st.integers(0, len(raw) - 1))
    raw[pos] ^= 1 << data.draw(st.integers(0, 7))
    try:
        codec.decode_message(bytes(raw))
    except CodecError:
        pass


def test_wrong_version_is_named() -> None:
    data = bytearray(codec.encode_hard_state(HardState(1, 2, 3)))
    data[0] = 2
    with pytest.raises(CodecError, match="version 2"):
        codec.decode_hard_state(bytes(data))
    with pytest.raises(CodecError, match="empty"):
        codec.decode_message(b"")


def test_a_lying_entry_count_fails_before_allocating() -> None:
    # 2**32-1 entries announced, none present: must fail on the size check, not loop or allocate.
    head = struct.pack("<BB7QI", MessageType.APP, 0, 2, 1, 1, 1, 1, 1, 0, 0)
    data = bytes([codec.VERSION]) + head + struct.pack("<I", 2**32 - 1)
    with pytest.raises(CodecError, match="4294967295 entries"):
        codec.decode_message(data)


def test_a_lying_data_length_fails() -> None:
    good = codec.encode_snapshot(Snapshot(SnapshotMetadata(5, 2, ConfState((1, 2, 3))), b"state"))
    # the data length is the 8 bytes before the 5 data bytes
    lying = good[:-13] + struct.pack("<Q", 2**63) + b"state"
    with pytest.raises(CodecError, match="snapshot data"):
        codec.decode_snapshot(lying)
    lying_voters = bytes([codec.VERSION]) + struct.pack("<I", 2**31)
    with pytest.raises(CodecError, match="voters"):
        codec.decode_conf_state(lying_voters)


def test_unknown_enum_values_and_flags_are_rejected() -> None:
    msg = bytearray(codec.encode_message(Message(MessageType.HEARTBEAT, to=2, from_=1)))
    msg[1] = 200
    with pytest.raises(CodecError, match="message type 200"):
        codec.decode_message(bytes(msg))
    msg[1] = MessageType.HEARTBEAT
    msg[2] = 0x80
    with pytest.raises(CodecError, match="flags"):
        codec.decode_message(bytes(msg))
    entry = bytearray(codec.encode_entry(Entry(1, 1)))
    entry[17] = 9
    with pytest.raises(CodecError, match="entry type 9"):
        codec.decode_entry(bytes(entry))
    cc = bytearray(codec.encode_conf_change(ConfChange(ConfChangeType.ADD_NODE, 4)))
    cc[1] = 3
    with pytest.raises(CodecError, match="conf change type 3"):
        codec.decode_conf_change(bytes(cc))


@pytest.mark.parametrize(
    "encode, value",
    [
        (codec.encode_entry, Entry(term=-1, index=1)),
        (codec.encode_entries, [Entry(term=1, index=2**64)]),
        (codec.encode_hard_state, HardState(term=1, vote=-3)),
        (codec.encode_conf_change, ConfChange(ConfChangeType.ADD_NODE, node_id=2**64)),
        (codec.encode_message, Message(MessageType.APP, index=-1)),
        (codec.encode_conf_state, ConfState(voters=(1, -2))),
    ],
)
def test_values_that_do_not_fit_are_refused_when_encoding(encode, value) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CodecError):
        encode(value)


def test_layout_is_stable() -> None:
    # The v1 bytes of one entry and one hard state, spelled out: a change here is a format change.
    assert codec.encode_entry(Entry(term=2, index=3, type=EntryType.CONF_CHANGE, data=b"ab")) == (
        b"\x01" + (2).to_bytes(8, "little") + (3).to_bytes(8, "little") + b"\x01" + (2).to_bytes(4, "little") + b"ab"
    )
    assert codec.encode_hard_state(HardState(term=7, vote=2, commit=5)) == b"\x01" + struct.pack("<QQQ", 7, 2, 5)
    assert (
        codec.encode_conf_change(ConfChange(ConfChangeType.REMOVE_NODE, 3, b"x"))
        == b"\x01\x01" + struct.pack("<QI", 3, 1) + b"x"
    )
