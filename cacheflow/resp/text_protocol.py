"""The original CacheFlow text protocol, as a dialect of inline commands.

CacheFlow's first protocol was four line commands typed over TCP:
``SET key value [ttl]``, ``GET key``, ``DELETE key``, ``EXISTS key``.  They share
a port with RESP: a line that does not start with ``*`` is an inline command,
and only inline commands pass through this translation, so RESP clients always
get Redis's exact behaviour.  ``GET`` and ``EXISTS`` already mean the same in
Redis.  Two forms differ:

- ``SET key value <integer>``: a bare trailing integer is a TTL in seconds
  (Redis would answer a syntax error), so it becomes ``SET key value EX <integer>``.
- ``DELETE key [key ...]``: Redis has no DELETE, so it becomes ``DEL``.

Replies are RESP, exactly as Redis answers inline commands.
"""


def translate(args: list[bytes]) -> list[bytes]:
    if len(args) == 4 and args[0].upper() == b"SET" and _is_integer(args[3]):
        return [args[0], args[1], args[2], b"EX", args[3]]
    if len(args) >= 2 and args[0].upper() == b"DELETE":
        return [b"DEL", *args[1:]]
    return args


def _is_integer(raw: bytes) -> bool:
    body = raw[1:] if raw[:1] == b"-" else raw
    return body.isdigit()
