"""DEBUG: SLEEP, ERROR, OBJECT, SET-ACTIVE-EXPIRE, DIGEST, DIGEST-VALUE, HELP.

DEBUG is refused unless ``enable-debug-command`` is ``yes`` (or ``local`` and
the client is on loopback), with Redis's message.  DIGEST and DIGEST-VALUE
compute Redis's own digest (SHA-1 mixing of keys, values and expiry marks), so
the same dataset gives the same hex string on CacheFlow and on Redis; the
differential tests compare datasets that way.
"""

import hashlib
import logging
import re
import struct
from collections.abc import Iterable
from typing import Any

from cacheflow.commands.configuration import is_local_client
from cacheflow.commands.context import Context
from cacheflow.commands.introspection import help_reply
from cacheflow.commands.keys import object_encoding
from cacheflow.commands.table import Flag, command
from cacheflow.config.schema import Config, ConfigError, parse_memory
from cacheflow.rdb.values import dump_value, quicklist_node_size, quicklist_nodes, set_packed_threshold
from cacheflow.resp import encoder
from cacheflow.resp.errors import CommandError
from cacheflow.store.keyspace import Database, value_type
from cacheflow.store.lists import ListValue
from cacheflow.store.memory import string_encoding

log = logging.getLogger("cacheflow")

NOT_ALLOWED = (
    'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", '
    "you can run it from a local connection, otherwise you need to set this option in the "
    "configuration file, and then restart the server."
)
_ZERO_DIGEST = bytes(20)
# Redis's object type codes, mixed into every value's digest.
_TYPE_CODES = {b"string": 0, b"list": 1, b"set": 2, b"zset": 3, b"hash": 4, b"stream": 6}
_SHARED_INTEGERS = 10000
_LRU_CLOCK_MAX = (1 << 24) - 1  # the LRU clock field of a Redis object header
_NUMBER_PREFIX = re.compile(rb"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_INT_PREFIX = re.compile(rb"\s*[-+]?\d+")


def debug_allowed(ctx: Context) -> bool:
    mode = ctx.config.enable_debug_command
    return bool(mode == "yes" or (mode == "local" and is_local_client(ctx)))


# -- digests ------------------------------------------------------------------------


def _xor(digest: bytes, data: bytes) -> bytes:
    h = hashlib.sha1(data).digest()
    return bytes(a ^ b for a, b in zip(digest, h))


def _mix(digest: bytes, data: bytes) -> bytes:
    return hashlib.sha1(_xor(digest, data)).digest()


def _elements_xor(digest: bytes, elements: Iterable[bytes]) -> bytes:
    for e in elements:
        digest = _xor(digest, e)
    return digest


def value_digest(value: object, has_ttl: bool, digest: bytes = _ZERO_DIGEST) -> bytes:
    """Mix one value into ``digest`` as Redis's xorObjectDigest does: type code, content, TTL mark.

    Strings are checked against Redis in the tests.  Aggregates follow Redis's
    rules (lists in order; sets, hashes and sorted sets order-independent;
    scores as ``%.17g``) through duck typing, since their value classes are not
    written yet; a value whose content cannot be read digests as its type only.
    """
    kind = value_type(value)
    digest = _mix(digest, struct.pack(">I", _TYPE_CODES.get(kind, 5)))
    try:
        digest = _content_digest(digest, kind, value)
    except (TypeError, AttributeError, ValueError):
        log.warning("DEBUG DIGEST cannot read the content of a %s value; only its type is digested", kind)
    if has_ttl:
        digest = _xor(digest, b"!!expire!!")
    return digest


def _content_digest(digest: bytes, kind: bytes, value: Any) -> bytes:
    if kind == b"string":
        digest = _mix(digest, bytes(value))
    elif kind == b"list":
        for element in value.values():
            digest = _mix(digest, bytes(element))
    elif kind == b"set":
        digest = _elements_xor(digest, (bytes(e) for e in value))
    elif kind == b"hash":
        for field, val in value.items():
            digest = _xor(digest, _mix(_mix(_ZERO_DIGEST, bytes(field)), bytes(val)))
    elif kind == b"zset":
        for score, member in value:
            digest = _xor(digest, _mix(_mix(_ZERO_DIGEST, bytes(member)), b"%.17g" % score))
    return digest


def dataset_digest(dbs: Iterable[Database]) -> bytes:
    """DEBUG DIGEST: per database its index, then every key's digest folded in order-independently."""
    final = _ZERO_DIGEST
    for db in dbs:
        if not db.data:
            continue
        final = _mix(final, struct.pack(">I", db.index))
        for key, value in list(db.data.items()):
            final = _xor(final, value_digest(value, key in db.expires, _mix(_ZERO_DIGEST, key)))
    return final


# -- DEBUG OBJECT ---------------------------------------------------------------------


def object_line(value: object, config: Config, lru: int = 0, idle: int = 0) -> str:
    """DEBUG OBJECT's line; ``lru`` and ``idle`` are the key's last access (24-bit LRU clock, as
    Redis's object header holds it) and idle seconds.

    ``serializedlength`` is what the value takes in an RDB file, measured by
    writing it with the RDB writer (LZF included when ``rdbcompression`` is on),
    as Redis's rdbSavedObjectLen does.  A list's ``ql_*`` fields describe the
    quicklist nodes the RDB writer splits it into: Redis reports the nodes the
    list was built with, the same for a list built by pushes at the tail.
    """
    serial = len(dump_value(value, config)) - 1  # without the type byte
    extra = ""
    if isinstance(value, ListValue):
        fill = config.list_max_listpack_size
        nodes = quicklist_nodes(list(value.values()), fill)
        sizes = [quicklist_node_size(node) for node in nodes]
        extra = (
            f" ql_nodes:{len(nodes)} ql_avg_node:{len(value) / len(nodes):.2f} ql_listpack_max:{fill}"
            f" ql_compressed:{int(config.list_compress_depth != 0)} ql_uncompressed_size:{sum(sizes)}"
        )
    if value.__class__ is bytes or value.__class__ is bytearray:
        enc = string_encoding(value)  # type: ignore[arg-type]
        shared = enc == b"int" and 0 <= int(value) < _SHARED_INTEGERS  # type: ignore[call-overload]
    else:
        enc = object_encoding(value)
        shared = False
    refcount = 2147483647 if shared else 1
    return (
        f"Value at:{hex(id(value))} refcount:{refcount} encoding:{enc.decode()} "
        f"serializedlength:{serial} lru:{lru} lru_seconds_idle:{idle}{extra}"
    )


# -- the command ---------------------------------------------------------------------

_HELP = (
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
)


def _strtod(raw: bytes) -> float:
    """C's strtod: the longest numeric prefix, 0 when there is none."""
    m = _NUMBER_PREFIX.match(raw)
    return float(m.group()) if m else 0.0


def _atoi(raw: bytes) -> int:
    m = _INT_PREFIX.match(raw)
    return int(m.group()) if m else 0


@command(
    "debug",
    -2,
    Flag.ADMIN | Flag.NOSCRIPT | Flag.LOADING | Flag.STALE,
    group="server",
    summary="A container for debugging commands",
    complexity="Depends on subcommand.",
    syntax="subcommand [arg [arg ...]]",
)
def debug(ctx: Context, argv: list[bytes]) -> bytes:
    if not debug_allowed(ctx):
        raise CommandError(NOT_ALLOWED)
    sub = argv[1].lower()
    argc = len(argv)
    if sub == b"help" and argc == 2:
        return help_reply(argv[0], _HELP)
    if sub == b"sleep" and argc == 3:
        seconds = _strtod(argv[2])
        if seconds > 0:
            ctx.server.blocking_sleep(seconds)
        return encoder.OK
    if sub == b"error" and argc == 3:
        # Redis writes this reply as raw protocol: it counts in neither errorstats nor failed_calls.
        return encoder.error(argv[2].decode("utf-8", "surrogateescape"))
    if sub == b"object" and argc == 3:
        # Redis finds the key in the dictionary directly: an expired key not yet reclaimed still answers.
        value = ctx.db.data.get(argv[2])
        if value is None:
            raise CommandError("ERR no such key")
        evictor = ctx.keyspace.evictor
        lru = evictor.last_access(ctx.db, argv[2]) & _LRU_CLOCK_MAX
        idle = evictor.idle_seconds(ctx.db, argv[2])
        return encoder.simple(object_line(value, ctx.config, lru, idle))
    if sub == b"quicklist-packed-threshold" and argc == 3:
        try:
            size = parse_memory(argv[2])
        except ConfigError:
            size = -1
        if size < 0 or not set_packed_threshold(size):
            raise CommandError("ERR argument must be a memory value bigger than 1 and smaller than 4gb")
        return encoder.OK
    if sub == b"reload":
        save = flush = True
        for raw in argv[2:]:
            opt = raw.lower()
            if opt == b"merge":
                pass  # a key in the file replaces the one in memory either way
            elif opt == b"noflush":
                flush = False
            elif opt == b"nosave":
                save = False
            else:
                raise CommandError("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
        ctx.server.debug_reload(save, flush)
        return encoder.OK
    if sub == b"set-active-expire" and argc == 3:
        ctx.server.set_active_expire(_atoi(argv[2]) != 0)
        return encoder.OK
    if sub == b"digest" and argc == 2:
        return encoder.simple(dataset_digest(ctx.keyspace.dbs).hex())
    if sub == b"digest-value" and argc >= 2:
        out = []
        for key in argv[2:]:
            value = ctx.db.lookup(key)
            digest = _ZERO_DIGEST if value is None else value_digest(value, ctx.db.expire_time(key) is not None)
            out.append(encoder.simple(digest.hex()))
        return encoder.array(out)
    raise CommandError(
        f"ERR unknown subcommand or wrong number of arguments for '{argv[1][:128].decode('utf-8', 'replace')}'. "
        f"Try {argv[0].decode('utf-8', 'replace').upper()} HELP."
    )
