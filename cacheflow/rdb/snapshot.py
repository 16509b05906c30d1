"""Whole RDB files: writing a keyspace out, loading one in.

``write_snapshot`` streams the file in chunks of about 64 KB through a
``write`` callable, keeping a running CRC-64, so a caller can send it to a
file (or a socket) without the whole file ever being in memory.  It writes
what Redis 7.0's rdbSave writes: the ``REDIS0010`` header, AUX fields
(redis-ver, redis-bits, ctime, used-mem, aof-base, plus any the caller adds),
then per non-empty database SELECTDB, RESIZEDB and the keys (an
EXPIRETIME_MS record before a key with a TTL), then EOF and the checksum
(zeros when rdbchecksum is off).  The keyspace must not change while the
generator runs.

A hash whose fields carry TTLs (Redis 7.4's feature) is written as 7.4's
HASH_METADATA record, and then the file says version 12: Redis 7.0 refuses
such a file instead of silently dropping the TTLs.  Without such hashes the
file is version 10, loadable by Redis 7.0 and later.

``load_snapshot`` reads a whole file (versions 1 to 12) into a keyspace.
Keys are staged per database and installed only once the whole file has
been read and its checksum verified, so a corrupt file loads nothing.  As
on a Redis master, keys whose TTL has passed are skipped (unless
``skip_expired`` is off, as for a replica), and empty collections are
skipped.  IDLE and FREQ records are read and ignored: every loaded key counts
as accessed at load time (Redis applies them; not done here yet); Redis Functions libraries (FUNCTION2) are not loaded but
reported in ``LoadReport.functions`` for the caller to log; module data and
streams are refused.

The per-key path for strings is inlined (a key and a value of up to 63
bytes are a byte test and a slice each): loading a million small strings is
dominated by it.
"""

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from cacheflow.config.schema import Config
from cacheflow.rdb.checksum import crc64
from cacheflow.rdb.errors import EmptyValueError, RdbError
from cacheflow.rdb.format import (
    FIELD_TTL_VERSION,
    MAGIC,
    MAX_READ_VERSION,
    OP_AUX,
    OP_EOF,
    OP_EXPIRETIME,
    OP_EXPIRETIME_MS,
    OP_FREQ,
    OP_FUNCTION2,
    OP_FUNCTION_PRE_GA,
    OP_IDLE,
    OP_MODULE_AUX,
    OP_RESIZEDB,
    OP_SELECTDB,
    RDB_VERSION,
    TYPE_STRING,
    Reader,
    encode_length,
    encode_string,
    u64_bytes,
)
from cacheflow.rdb.values import VALUE_TYPES, dump_value, load_value, needs_field_ttl_version, unsupported_type
from cacheflow.store.keyspace import Keyspace

__all__ = ["LoadReport", "RdbError", "iter_snapshot", "load_snapshot", "write_snapshot"]

REDIS_VER = b"7.0.15"  # the Redis whose file format we write
CHUNK = 64 * 1024

_I64 = struct.Struct("<q")
_I32 = struct.Struct("<i")
_STRING_BYTE = bytes((TYPE_STRING,))
_EXPIRE_MS_BYTE = bytes((OP_EXPIRETIME_MS,))


@dataclass
class LoadReport:
    """What a load found: counts Redis logs at startup, and the AUX fields."""

    version: int = 0
    keys_loaded: int = 0
    expired_skipped: int = 0
    empty_skipped: int = 0
    keys_with_ttl: int = 0
    keys_per_db: dict[int, int] = field(default_factory=dict)
    aux: dict[bytes, bytes] = field(default_factory=dict)
    # Redis Functions libraries (their code) found and not loaded: CacheFlow has no functions.
    functions: list[bytes] = field(default_factory=list)
    checksum: int = 0  # the file's CRC-64, 0 when the writer had rdbchecksum off
    # Where the RDB ends (after its checksum): an AOF with an RDB preamble goes on with commands there.
    end: int = 0


# -- writing ------------------------------------------------------------------------------------


def _aux(name: bytes, value: bytes) -> bytes:
    return bytes((OP_AUX,)) + encode_string(name, False) + encode_string(value, False)


def iter_snapshot(
    keyspace: Keyspace,
    config: Config,
    now_ms: int,
    *,
    aux: dict[bytes, bytes] | None = None,
    counter: list[int] | None = None,
) -> Iterator[bytes]:
    """The file in chunks, checksum included; ``counter[0]`` counts the keys written."""
    compress: bool = config.rdbcompression
    fields = {
        b"redis-ver": REDIS_VER,
        b"redis-bits": b"64",
        b"ctime": b"%d" % (now_ms // 1000),
        b"used-mem": b"0",
    }
    fields.update(aux or {})
    fields.setdefault(b"aof-base", b"0")
    version = RDB_VERSION
    if any(needs_field_ttl_version(v) for db in keyspace.dbs if db.field_expiry for v in db.data.values()):
        version = FIELD_TTL_VERSION
    head = [MAGIC + b"%04d" % version]
    head += [_aux(k, v) for k, v in fields.items()]
    parts: list[bytes] = head
    size = 0
    crc = 0
    keys = 0
    use_crc: bool = config.rdbchecksum
    for db in keyspace.dbs:
        data = db.data
        if not data:
            continue
        expires = db.expires
        parts.append(bytes((OP_SELECTDB,)) + encode_length(db.index))
        parts.append(bytes((OP_RESIZEDB,)) + encode_length(len(data)) + encode_length(len(expires)))
        for key, value in data.items():
            if expires:
                at = expires.get(key)
                if at is not None:
                    parts.append(_EXPIRE_MS_BYTE + _I64.pack(at))
            if value.__class__ is bytes:
                record = _STRING_BYTE + encode_string(key, compress) + encode_string(value, compress)  # type: ignore[arg-type]
            else:
                body = dump_value(value, config)
                record = body[:1] + encode_string(key, compress) + body[1:]
            parts.append(record)
            size += len(record)
            keys += 1
            if size >= CHUNK:
                chunk = b"".join(parts)
                if use_crc:
                    crc = crc64(chunk, crc)
                yield chunk
                parts = []
                size = 0
    parts.append(bytes((OP_EOF,)))
    chunk = b"".join(parts)
    if use_crc:
        crc = crc64(chunk, crc)
    if counter is not None:
        counter[0] = keys
    yield chunk + u64_bytes(crc)


def write_snapshot(
    keyspace: Keyspace,
    write: Callable[[bytes], None],
    config: Config,
    now_ms: int,
    *,
    aux: dict[bytes, bytes] | None = None,
) -> int:
    """Write the whole file through ``write`` (chunk by chunk); returns how many keys were written."""
    counter = [0]
    for chunk in iter_snapshot(keyspace, config, now_ms, aux=aux, counter=counter):
        write(chunk)
    return counter[0]


# -- loading ------------------------------------------------------------------------------------


def read_header(data: bytes) -> int:
    """The file's RDB version, after checking the signature."""
    if len(data) < 9 or data[:5] != MAGIC:
        raise RdbError(0, "wrong signature: not an RDB file")
    digits = data[5:9]
    if not digits.isdigit():
        raise RdbError(5, f"bad RDB version {digits!r}")
    version = int(digits)
    if not 1 <= version <= MAX_READ_VERSION:
        raise RdbError(5, f"can't handle RDB format version {version}")
    return version


def load_snapshot(
    data: bytes | memoryview,
    keyspace: Keyspace,
    config: Config,
    now_ms: int,
    *,
    skip_expired: bool = True,
) -> LoadReport:
    """Load a whole RDB file into ``keyspace`` (meant to be empty; a key already there is replaced).

    Raises ``RdbError`` (with the offset) for anything malformed or
    unsupported, in which case nothing was loaded.
    """
    report, staged = parse_snapshot(data, config, now_ms, len(keyspace.dbs), skip_expired=skip_expired)
    install_snapshot(keyspace, staged, report)
    return report


def install_snapshot(keyspace: Keyspace, staged: "Staged", report: LoadReport) -> None:
    """Put databases parsed by ``parse_snapshot`` in place (a key already there is replaced).

    Separate from parsing so a server can parse off its event loop and install on it.
    """
    for index, (values, expires) in staged.items():
        db = keyspace.dbs[index]
        if not db.data:
            db.data = values
            db.expires = expires
        else:
            for key in values:
                db.expires.pop(key, None)
            db.data.update(values)
            db.expires.update(expires)
        for key, value in values.items():
            at = getattr(value, "next_expiry", None)
            if at is not None and at < 1 << 63:
                db.schedule_field_expiry(key, at)
        db.recount()
        report.keys_per_db[index] = len(values)


Staged = dict[int, tuple[dict[bytes, object], dict[bytes, int]]]


def parse_snapshot(
    data: bytes | memoryview, config: Config, now_ms: int, databases: int, *, skip_expired: bool = True
) -> tuple[LoadReport, Staged]:
    """Read a whole file: the report, and per database index its (values, expiry times).

    Any unexpected exception becomes an RdbError at the record's start.
    """
    buf = data if isinstance(data, bytes) else bytes(data)
    report = LoadReport(version=read_header(buf))
    staged: Staged = {}
    _parse(buf, config, now_ms, databases, skip_expired, report, staged)
    return report, staged


def _parse(
    data: bytes,
    config: Config,
    now_ms: int,
    databases: int,
    skip_expired: bool,
    report: LoadReport,
    staged: Staged,
) -> None:
    """The record loop (see parse_snapshot)."""
    reader = Reader(data)
    end = len(data)
    pos = 9
    start = pos
    key = b""
    values, expires = staged.setdefault(0, ({}, {}))
    expire = -1
    loaded = expired = empty = with_ttl = 0
    value: object
    try:
        while True:
            start = pos
            t = data[pos]
            pos += 1
            if t == TYPE_STRING:
                b = data[pos]
                if b < 64:
                    pos += 1 + b
                    key = data[pos - b : pos]
                else:
                    reader.pos = pos
                    key = reader.string("a key")
                    pos = reader.pos
                b = data[pos]
                if b < 64:
                    pos += 1 + b
                    value = data[pos - b : pos]
                else:
                    reader.pos = pos
                    value = reader.string("a string value")
                    pos = reader.pos
                if pos > end:
                    raise IndexError("record runs past the end")
            elif t in VALUE_TYPES:
                reader.pos = pos
                key = reader.string("a key")
                try:
                    value = load_value(t, reader, config)
                except EmptyValueError:
                    pos = reader.pos
                    empty += 1
                    expire = -1
                    continue
                except RdbError as exc:
                    raise RdbError(exc.offset, f"{exc.message}, in the value of key {key[:64]!r}") from None
                pos = reader.pos
            elif t == OP_EXPIRETIME_MS:
                if pos + 8 > end:
                    raise IndexError("expire time runs past the end")
                expire = _I64.unpack_from(data, pos)[0]
                pos += 8
                continue
            elif t == OP_EXPIRETIME:
                if pos + 4 > end:
                    raise IndexError("expire time runs past the end")
                expire = _I32.unpack_from(data, pos)[0] * 1000
                pos += 4
                continue
            elif t == OP_SELECTDB:
                reader.pos = pos
                index = reader.length("the database number")
                pos = reader.pos
                if index >= databases:
                    raise RdbError(
                        start,
                        f"the file has database {index}, this server is configured with {databases} databases",
                    )
                values, expires = staged.setdefault(index, ({}, {}))
                continue
            elif t == OP_RESIZEDB:
                reader.pos = pos
                reader.length("the database size")
                reader.length("the expires size")
                pos = reader.pos
                continue
            elif t == OP_AUX:
                reader.pos = pos
                name = reader.string("an AUX field name")
                report.aux[name] = reader.string("an AUX field value")
                pos = reader.pos
                continue
            elif t == OP_IDLE:
                reader.pos = pos
                reader.length("an LRU idle time")
                pos = reader.pos
                continue
            elif t == OP_FREQ:
                if pos >= end:
                    raise IndexError("LFU frequency runs past the end")
                pos += 1
                continue
            elif t == OP_FUNCTION2:
                reader.pos = pos
                report.functions.append(reader.string("a function library"))
                pos = reader.pos
                continue
            elif t == OP_FUNCTION_PRE_GA:
                raise RdbError(start, "pre-release function format not supported")
            elif t == OP_MODULE_AUX:
                raise RdbError(start, "module auxiliary data is not supported")
            elif t == OP_EOF:
                if report.version >= 5:
                    if pos + 8 > end:
                        raise RdbError(pos, "unexpected end of file reading the checksum")
                    stored = int.from_bytes(data[pos : pos + 8], "little")
                    if stored:
                        computed = crc64(memoryview(data)[:pos])
                        if computed != stored:
                            raise RdbError(
                                pos, f"wrong RDB checksum: file has {stored:016x}, contents give {computed:016x}"
                            )
                    report.checksum = stored
                    pos += 8
                report.end = pos
                break
            elif t < 64:
                raise RdbError(start, unsupported_type(t))
            else:
                raise RdbError(start, f"unknown record type {t}")
            # A key and its value have been read.
            if expire != -1:
                if skip_expired and expire < now_ms:
                    expired += 1
                    expire = -1
                    continue
                if key in values:
                    raise RdbError(start, f"duplicated key {key[:64]!r}")
                expires[key] = expire
                expire = -1
                with_ttl += 1
            elif key in values:
                raise RdbError(start, f"duplicated key {key[:64]!r}")
            values[key] = value
            loaded += 1
    except RdbError:
        raise
    except IndexError:
        raise RdbError(start, "unexpected end of file inside this record") from None
    except (ValueError, OverflowError, MemoryError, struct.error) as exc:
        raise RdbError(start, f"malformed record: {exc}") from None
    report.keys_loaded = loaded
    report.expired_skipped = expired
    report.empty_skipped = empty
    report.keys_with_ttl = with_ttl
