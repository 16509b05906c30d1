"""Key specs: how keys are found from them, the legacy triple and flags derived from them.

The expected positions are the ones redis-server 7.0.15 answers to COMMAND GETKEYS
for the same arguments (the integration suite compares the two servers directly;
these pin the rules, including the odd corners of Redis's C code: a keyword search
that never looks at the last argument, a count cast to a C int, atoi in the fallback).
"""

import pytest

from cacheflow.commands import TABLE
from cacheflow.commands.introspection import flag_names
from cacheflow.commands.table import (
    KEY_SPEC_FLAGS,
    KeySpec,
    find_keys,
    index_keynum,
    index_range,
    keyword_range,
    legacy_range,
    numkeys_fallback,
    unknown_keys,
)


def argv(text: str) -> list[bytes]:
    return [w.encode() for w in text.split()]


def positions(specs: tuple[KeySpec, ...], text: str) -> list[int] | None:
    found = find_keys(specs, argv(text))
    return None if found is None else [i for i, _ in found]


def test_flags_are_kept_in_redis_order_and_checked() -> None:
    assert index_range(1, "update", "access", "RW").flags == ("RW", "access", "update")
    assert index_range(1, "variable_flags", "RW").flags == ("RW", "variable_flags")
    with pytest.raises(ValueError):
        index_range(1, "rw")
    with pytest.raises(ValueError):
        index_range(1, "RO", "RO")
    with pytest.raises(ValueError):
        index_range(0, "RO")
    with pytest.raises(ValueError):
        index_range(1, "RO", last=2, limit=2)


def test_index_ranges() -> None:
    rename = (index_range(1, "RW", "access", "delete"), index_range(2, "OW", "update"))
    assert positions(rename, "RENAME a b") == [1, 2]
    mset = (index_range(1, "OW", "update", last=-1, step=2),)
    assert positions(mset, "MSET a 1 b 2") == [1, 3]
    assert positions(mset, "MSET a 1 b") == [1, 3]
    bitop = (index_range(2, "OW", "update"), index_range(3, "RO", "access", last=-1))
    assert positions(bitop, "BITOP AND d a b c") == [2, 3, 4, 5]
    lmpop_like = (index_range(1, "RW", last=-2),)
    assert positions(lmpop_like, "BLPOP a b 0") == [1, 2]


def test_a_range_with_a_limit_takes_its_share_of_the_arguments() -> None:
    # XREAD-style: keys then as many IDs; limit 2 takes the first half.
    specs = (keyword_range("STREAMS", 1, "RO", "access", last=-1, limit=2),)
    assert positions(specs, "XREAD COUNT 2 STREAMS a b 0 0") == [4, 5]


def test_keynum_specs() -> None:
    zunionstore = (index_range(1, "OW", "update"), index_keynum(2, "RO", "access"))
    assert positions(zunionstore, "ZUNIONSTORE d 2 a b WEIGHTS 1 2") == [1, 3, 4]
    sintercard = (index_keynum(1, "RO", "access"),)
    assert positions(sintercard, "SINTERCARD 2 a b LIMIT 1") == [2, 3]
    for bad in ("SINTERCARD 3 a b", "SINTERCARD 0 a", "SINTERCARD -1 a", "SINTERCARD x a", "SINTERCARD 01 a"):
        assert positions(sintercard, bad) is None, bad
    # Redis counts keys in a C int: 2**32 + 1 keys is one key.
    assert positions(sintercard, "SINTERCARD 4294967297 a") == [2]
    eval_like = (index_keynum(2, "RW", "access", "update"),)
    assert positions(eval_like, "EVAL script 2 a b x y") == [3, 4]


def test_keyword_specs() -> None:
    store = (index_range(1, "RO", "access"), keyword_range("STORE", 6, "OW", "update"))
    assert positions(store, "GEORADIUS k 1 2 3 m STORE d") == [1, 7]
    assert positions(store, "GEORADIUS k 1 2 3 m store d") == [1, 7]
    assert positions(store, "GEORADIUS k 1 2 3 m") == [1]  # no keyword: that spec finds nothing
    # Searching backwards from the end, as MIGRATE's KEYS (minus its "incomplete" flag).
    keys = (index_range(3, "RW"), keyword_range("KEYS", -2, "RW", last=-1))
    assert positions(keys, "MIGRATE h p x 0 5 KEYS a b") == [3, 7, 8]
    assert positions(keys, "MIGRATE h p x 0 5 COPY KEYS a") == [3, 8]
    # A forward search never examines the last argument (nothing could follow the keyword).
    assert positions(store, "GEORADIUS k 1 2 3 m STORE") == [1]


def test_unknown_and_incomplete_specs_fail_the_search() -> None:
    sort = (index_range(1, "RO", "access"), unknown_keys("RO", "access"), unknown_keys("OW", "update"))
    assert positions(sort, "SORT k STORE d") is None
    migrate = (index_range(3, "RW"), keyword_range("KEYS", -2, "RW", "incomplete", last=-1))
    assert positions(migrate, "MIGRATE h p x 0 5 KEYS a b") is None
    assert positions(migrate, "MIGRATE h p x 0 5") == [3]  # an absent keyword skips its spec, flags and all


def test_not_key_specs_are_skipped() -> None:
    specs = (index_range(1, "RO"), index_range(2, "RO", "not_key"))
    assert positions(specs, "CMD a b") == [1]


def test_numkeys_fallback_reads_the_count_with_atoi() -> None:
    zunionstore = (index_range(1, "OW", "update"), index_keynum(2, "RO", "access"))
    assert numkeys_fallback(zunionstore, argv("ZUNIONSTORE d 2x a b")) == [3, 4, 1]  # keys, then the destination
    sintercard = (index_keynum(1, "RO", "access"),)
    for count in ("01", "1abc", "+1", "-4294967295"):
        assert numkeys_fallback(sintercard, [b"SINTERCARD", count.encode(), b"a"]) == [2], count
    assert numkeys_fallback(sintercard, [b"SINTERCARD", b" 1", b"a"]) == [2]
    for count in ("0", "x", "2", "-1"):
        assert numkeys_fallback(sintercard, [b"SINTERCARD", count.encode(), b"a"]) == [], count


def test_legacy_range_follows_redis() -> None:
    assert legacy_range(()) == (0, 0, 0)
    assert legacy_range((index_range(1, "RO", last=-1, step=2),)) == (1, -1, 2)
    assert legacy_range((index_range(1, "RW"), index_range(2, "OW"))) == (1, 2, 1)
    assert legacy_range((index_range(2, "OW"), index_range(3, "RO", last=-1))) == (2, -1, 1)
    assert legacy_range((index_range(1, "OW"), index_keynum(2, "RO"))) == (1, 1, 1)
    assert legacy_range((index_keynum(1, "RO"),)) == (0, 0, 0)
    assert legacy_range((index_range(1, "RO"), unknown_keys("RO"), unknown_keys("OW"))) == (1, 1, 1)
    assert legacy_range((index_range(3, "RW"), keyword_range("KEYS", -2, "RW", "incomplete", last=-1))) == (3, 3, 1)


def test_every_declared_triple_is_the_one_redis_derives_from_the_specs() -> None:
    for cmd in TABLE.all_with_subcommands():
        assert (cmd.first_key, cmd.last_key, cmd.step) == legacy_range(cmd.key_specs), cmd.name
        for spec in cmd.key_specs:
            assert list(spec.flags) == sorted(spec.flags, key=KEY_SPEC_FLAGS.index), cmd.name


def command(name: str) -> object:
    parent, _, sub = name.partition("|")
    cmd = TABLE.get(parent)
    assert cmd is not None
    return cmd.subcommands[sub] if sub else cmd


def test_table_commands_find_their_keys() -> None:
    cases = {
        "RENAME a b": [b"a", b"b"],
        "SMOVE a b m": [b"a", b"b"],
        "SINTERCARD 2 a b LIMIT 3": [b"a", b"b"],
        "SINTERCARD 3 a b": [],
        "SINTERSTORE d a b": [b"d", b"a", b"b"],
        "BITOP AND d a b": [b"d", b"a", b"b"],
        "PFMERGE d a": [b"d", b"a"],
        "MSET a 1 b 2": [b"a", b"b"],
        "OBJECT ENCODING k": [b"k"],
    }
    for text, keys in cases.items():
        args = argv(text)
        name = args[0].decode().lower()
        cmd = TABLE.get(name)
        assert cmd is not None
        if cmd.subcommands:
            cmd = cmd.subcommands[args[1].decode().lower()]
        assert cmd.keys(args) == keys, text


def test_access_flags_per_key() -> None:
    cmd = TABLE.get("rename")
    assert cmd is not None
    args = argv("RENAME a b")
    assert [cmd.key_access_flags(args, i, s) for i, s in cmd.keys_with_specs(args)] == [
        ("RW", "access", "delete"),
        ("OW", "update"),
    ]
    set_ = TABLE.get("set")
    assert set_ is not None
    for text, flags in (("SET k v", ("OW", "update")), ("SET k v EX 1 get", ("RW", "access", "update"))):
        args = argv(text)
        assert [set_.key_access_flags(args, i, s) for i, s in set_.keys_with_specs(args)] == [flags]
    bitfield = TABLE.get("bitfield")
    assert bitfield is not None
    for text, flags in (
        ("BITFIELD k GET u8 0 OVERFLOW SAT GET i4 1", ("RO", "access")),
        ("BITFIELD k GET u8 0 INCRBY u8 0 1", ("RW", "access", "update")),
        ("BITFIELD k GET u8", ("RW", "access", "update")),
        ("BITFIELD k", ("RO", "access")),
    ):
        args = argv(text)
        assert [bitfield.key_access_flags(args, i, s) for i, s in bitfield.keys_with_specs(args)] == [flags], text


def test_movablekeys_comes_from_the_specs() -> None:
    def movable(name: str) -> bool:
        cmd = TABLE.get(name)
        assert cmd is not None
        return b"movablekeys" in flag_names(cmd)

    assert movable("sintercard")
    assert not movable("rename") and not movable("set") and not movable("bitfield") and not movable("bitop")
