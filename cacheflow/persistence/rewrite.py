"""Writing a base file: the keyspace as an RDB file, or as the commands that rebuild it in AOF frames.

``write_base`` is what both the synchronous start-up rewrite and the forked
BGREWRITEAOF child run.  With ``aof-use-rdb-preamble yes`` (Redis's default)
the base is an RDB file (``appendonly.aof.N.base.rdb``) written by
``cacheflow.rdb.snapshot.write_snapshot`` with the AUX field ``aof-base`` set
to 1, as Redis marks it; with ``no`` it is AOF frames (``.base.aof``).
Recovery tells the two apart by the ``REDIS`` magic, not by the name.

In the AOF format, keys whose TTL has passed are skipped, as Redis's rewrite
skips them; the RDB format keeps every key as it is, as Redis's rdbSave does,
and recovery loads an RDB base without dropping expired keys (Redis's
RDBFLAGS_AOF_PREAMBLE), so the incremental files replay on exactly the
keyspace they were written against.
"""

import os
from typing import BinaryIO

from cacheflow.config.schema import Config
from cacheflow.persistence.frames import encode_frame
from cacheflow.persistence.rebuild import rebuild_commands
from cacheflow.rdb.snapshot import write_snapshot
from cacheflow.store.keyspace import Keyspace

_BUFFER = 1024 * 1024
_AOF_BASE_AUX = {b"aof-base": b"1"}


def write_frames(keyspace: Keyspace, out: BinaryIO, now_ms: int) -> int:
    """Write the rebuild commands of every live key; returns how many keys were written."""
    keys = 0
    for db in keyspace.dbs:
        if not db.data:
            continue
        out.write(encode_frame([b"SELECT", b"%d" % db.index]))
        expires = db.expires
        for key, value in db.data.items():
            at = expires.get(key) if expires else None
            if at is not None and at <= now_ms:
                continue
            for argv in rebuild_commands(key, value, at):
                out.write(encode_frame(argv))
            keys += 1
    return keys


def write_base(keyspace: Keyspace, path: str, now_ms: int, config: Config, rdb: bool) -> int:
    """Write a complete base file at ``path`` (fsynced), RDB or AOF frames; returns the number of keys."""
    with open(path, "wb", buffering=_BUFFER) as out:
        if rdb:

            def write(chunk: bytes) -> None:
                out.write(chunk)

            keys = write_snapshot(keyspace, write, config, now_ms, aux=_AOF_BASE_AUX)
        else:
            keys = write_frames(keyspace, out, now_ms)
        out.flush()
        os.fsync(out.fileno())
    return keys
