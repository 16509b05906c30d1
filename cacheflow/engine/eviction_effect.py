"""The write effect of an eviction, told apart from a client's ``DEL`` by its type.

It replays as a ``DEL`` everywhere (AOF, replicas); a consumer that cares
(keyspace notifications' ``evicted``) checks ``isinstance``.  This module stays
interpreted: compiled (mypyc) classes cannot subclass ``list``.
"""


class EvictionEffect(list[bytes]):
    """``[b"DEL", key]`` for a key the eviction policy removed."""

    __slots__ = ()
