"""The one stream of write effects.

Every successful write produces normalized, deterministic argv lists (relative
TTLs made absolute, expiries as DEL, ...).  Consumers (WATCH invalidation now;
the AOF, replication, Raft and keyspace notifications later) subscribe here and
are called in subscription order for each batch.  A new consumer is a new
subscriber, never a hook inside handlers.

A batch is the effects of one command, or of one transaction on one database.
A transaction that wrote to several databases arrives as several batches whose
``more`` flag says that the next batch belongs to the same atomic unit, so a
consumer that must keep it whole (the AOF's MULTI/EXEC, later replication and
Raft) can; consumers that only look at keys ignore the flag.
"""

from collections.abc import Callable

# (db index the effects apply to, the effects in order, whether the next batch continues the same unit)
Subscriber = Callable[[int, list[list[bytes]], bool], None]


class EffectStream:
    """Invariant: subscribers see a transaction's effects together, once per database, after
    its last command (``hold``/``release`` around EXEC), so a consumer that groups a batch
    (the AOF wraps one in MULTI/EXEC) keeps the transaction whole."""

    __slots__ = ("subscribers", "dirty", "_held")

    def __init__(self) -> None:
        self.subscribers: list[Subscriber] = []
        self.dirty = 0  # effects since the last save (rdb_changes_since_last_save)
        self._held: list[tuple[int, list[list[bytes]]]] | None = None  # a transaction's batches until release

    def subscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.remove(subscriber)

    def publish(self, db_index: int, effects: list[list[bytes]]) -> None:
        self.dirty += len(effects)
        held = self._held
        if held is not None:
            if held and held[-1][0] == db_index:
                held[-1][1].extend(effects)
            else:
                held.append((db_index, list(effects)))
            return
        for subscriber in self.subscribers:
            subscriber(db_index, effects, False)

    def hold(self) -> None:
        """Collect what is published until ``release`` (EXEC runs its queued commands in between)."""
        self._held = []

    def release(self) -> None:
        """Deliver what was held: one batch per run of effects on the same database, in order, all but
        the last flagged ``more``."""
        held = self._held
        self._held = None
        if held:
            last = len(held) - 1
            for i, (db_index, effects) in enumerate(held):
                more = i < last
                for subscriber in self.subscribers:
                    subscriber(db_index, effects, more)
