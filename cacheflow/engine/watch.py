"""WATCH: optimistic locking, fed by the write-effect stream.

A session's watch breaks when an effect touches one of its keys.  Which keys an
effect touches comes from the command table (key positions, or the command's
declared ``touches`` for cross-database commands such as MOVE, FLUSHALL and
SWAPDB).  A whole-database effect breaks only watches on keys that existed when
watched, as Redis's flush only dirties watched keys present in the database;
a key that changed in between has already broken the watch.  Expiry of a
watched key also breaks it: as a DEL effect when the key is reclaimed, and at
EXEC time for a key whose TTL passed but which nobody has touched yet.

The registry subscribes to the effect stream only while some key is watched,
so writes pay nothing for WATCH when nobody uses it.
"""

from typing import TYPE_CHECKING

from cacheflow.commands.context import Context
from cacheflow.commands.table import ALL_DATABASES, CommandTable
from cacheflow.engine.effects import EffectStream

if TYPE_CHECKING:
    from cacheflow.store.keyspace import Keyspace


class WatchRegistry:
    __slots__ = ("_table", "_keyspace", "_by_key", "_stream")

    def __init__(self, table: CommandTable, keyspace: "Keyspace", stream: EffectStream) -> None:
        self._table = table
        self._keyspace = keyspace
        self._stream = stream
        self._by_key: dict[tuple[int, bytes], set[Context]] = {}

    def watch(self, ctx: Context, key: bytes) -> None:
        slot = (ctx.db.index, key)
        if slot in ctx.watched:
            return
        ctx.watched[slot] = ctx.db.lookup(key) is not None
        if not self._by_key:
            self._stream.subscribe(self.on_effects)
        self._by_key.setdefault(slot, set()).add(ctx)

    def unwatch_all(self, ctx: Context) -> None:
        for slot in ctx.watched:
            watchers = self._by_key.get(slot)
            if watchers is not None:
                watchers.discard(ctx)
                if not watchers:
                    del self._by_key[slot]
                    if not self._by_key:
                        self._stream.unsubscribe(self.on_effects)
        ctx.watched.clear()
        ctx.watch_dirty = False

    def expired_since_watch(self, ctx: Context) -> bool:
        """True when a watched key that existed when watched has since passed its TTL."""
        now = self._keyspace.clock.now_ms()
        dbs = self._keyspace.dbs
        for (index, key), existed in ctx.watched.items():
            if existed:
                at = dbs[index].expires.get(key)
                if at is not None and at <= now:
                    return True
        return False

    def on_effects(self, db_index: int, effects: list[list[bytes]], more: bool) -> None:
        if not self._by_key:
            return
        for argv in effects:
            cmd = self._table.get(argv[0].decode().lower())
            if cmd is None:
                continue
            if cmd.touches is not None:
                for index, key in cmd.touches(db_index, argv):
                    indexes = range(len(self._keyspace.dbs)) if index == ALL_DATABASES else (index,)
                    for i in indexes:
                        if key is None:
                            self._touch_db(i)
                        else:
                            self._touch(i, key)
            else:
                for key in cmd.keys(argv):
                    self._touch(db_index, key)

    def _touch(self, index: int, key: bytes) -> None:
        watchers = self._by_key.get((index, key))
        if watchers:
            for ctx in watchers:
                ctx.watch_dirty = True

    def _touch_db(self, index: int) -> None:
        """A flush or swap of a whole database, seen after it happened.

        A watch breaks when its key existed when watched (it is gone or
        replaced now) or is live in what the database holds now (SWAPDB brought
        it).  A key that arrives already past its TTL changes nothing, as in
        Redis's touchAllWatchedKeysInDb; it is only checked, not reclaimed here,
        since reclaiming would itself be an effect that breaks the watch.
        """
        db = self._keyspace.dbs[index]
        now = self._keyspace.clock.now_ms()
        for (i, key), watchers in self._by_key.items():
            if i != index:
                continue
            at = db.expires.get(key)
            arrived_live = key in db.data and (at is None or at > now)
            for ctx in watchers:
                if ctx.watched.get((i, key)) or arrived_live:
                    ctx.watch_dirty = True
