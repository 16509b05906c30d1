"""The one stream of write effects.

Every successful write produces normalized, deterministic argv lists (relative
TTLs made absolute, expiries as DEL, ...).  Consumers (WATCH invalidation now;
the AOF, replication, Raft and keyspace notifications later) subscribe here and
are called in subscription order for each batch.  A new consumer is a new
subscriber, never a hook inside handlers.
"""

from collections.abc import Callable

# (db index the effects apply to, the effects in order)
Subscriber = Callable[[int, list[list[bytes]]], None]


class EffectStream:
    __slots__ = ("subscribers", "dirty")

    def __init__(self) -> None:
        self.subscribers: list[Subscriber] = []
        self.dirty = 0  # effects since the last save (rdb_changes_since_last_save)

    def subscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.remove(subscriber)

    def publish(self, db_index: int, effects: list[list[bytes]]) -> None:
        self.dirty += len(effects)
        for subscriber in self.subscribers:
            subscriber(db_index, effects)
