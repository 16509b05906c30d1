"""Replay a trace against a server as a cache-aside client would: GET the key; on a miss, SET it.

Hits and misses are counted here, on the client, from the GET replies -- the same
way for both servers, whatever their INFO counters say.

Pipelining, and what it preserves: requests go out in batches of ``batch`` GETs.
The SETs for one batch's misses are sent in front of the next batch's GETs, in
the same write, so every GET sees every earlier batch's SETs: the GET -> SET
dependency holds across batches, and one round trip serves both.  Inside a batch
the GETs are answered before that batch's misses are written, so a key requested
twice in one batch and missing misses twice (it is SET once); ``repeat_misses``
counts such second misses so a reader can see how few there are.

Hit ratio = hits / GETs over the counted window: the requests after the warm-up
(the first ``warmup`` share of the trace, rounded up to a whole batch), which
fill the empty cache.  The counted window is also cut in ``windows`` equal slices,
whose hit ratios show whether the cache had reached a steady state.
"""

from __future__ import annotations

import time
from array import array
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.cache.client import Conn, is_error
from bench.cache.traces import key_name

VALUE_BYTES = 100
VALUE = b"v" * VALUE_BYTES
_GET_HEAD = b"*2\r\n$3\r\nGET\r\n"
_SET_HEAD = b"*3\r\n$3\r\nSET\r\n"
_VALUE_ARG = b"$%d\r\n%s\r\n" % (VALUE_BYTES, VALUE)


@dataclass
class ReplayResult:
    """What one replay of one trace measured."""

    requests: int
    counted_from: int
    gets: int = 0
    hits: int = 0
    sets: int = 0
    repeat_misses: int = 0
    seconds: float = 0.0
    window_hit_ratios: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def hit_ratio(self) -> float | None:
        return self.hits / self.gets if self.gets else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["hit_ratio"] = self.hit_ratio
        data["requests_per_second"] = self.requests / self.seconds if self.seconds else None
        return data


class Frames:
    """Pre-encoded ``GET key`` frames for every key id: encoding in the hot loop would dominate the client."""

    def __init__(self, keys: int) -> None:
        self.keys = keys
        self.gets = [_GET_HEAD + b"$16\r\n" + key_name(i) + b"\r\n" for i in range(keys)]

    def set_frame(self, i: int) -> bytes:
        """``SET key value``: the GET frame's key argument (after its 13-byte head) is reused as is."""
        return _SET_HEAD + self.gets[i][13:] + _VALUE_ARG


def replay(
    conn: Conn, trace: array[int], frames: Frames, batch: int = 512, warmup: float = 0.2, windows: int = 8
) -> ReplayResult:
    """Run ``trace`` on ``conn``'s server (which should start empty) and count hits after the warm-up."""
    n = len(trace)
    counted_from = min(n, -(-int(n * warmup) // batch) * batch)
    result = ReplayResult(requests=n, counted_from=counted_from)
    window_size = max(1, -(-(n - counted_from) // windows))
    window_hits = [0] * windows
    window_gets = [0] * windows
    gets = frames.gets
    set_frame = frames.set_frame
    pending = b""
    pending_count = 0
    started = time.perf_counter()
    for start in range(0, n, batch):
        ids = trace[start : start + batch]
        conn.send(pending + b"".join([gets[i] for i in ids]))
        replies = conn.read(pending_count + len(ids))
        if pending_count:
            sets = replies[:pending_count]
            if sets.count(b"OK") != pending_count:
                result.error = f"SET failed: {next(r for r in sets if r != b'OK')!r}"
                break
            replies = replies[pending_count:]
        missed = [i for i, r in zip(ids, replies) if r is None]
        if len(missed) + sum(1 for r in replies if isinstance(r, bytes)) != len(ids):
            bad = next(r for r in replies if r is not None and not isinstance(r, bytes))
            result.error = f"GET failed: {bad!r}" if is_error(bad) else f"unexpected GET reply {bad!r}"
            break
        unique = list(dict.fromkeys(missed))
        if start >= counted_from:
            hits = len(ids) - len(missed)
            result.gets += len(ids)
            result.hits += hits
            result.repeat_misses += len(missed) - len(unique)
            w = min(windows - 1, (start - counted_from) // window_size)
            window_hits[w] += hits
            window_gets[w] += len(ids)
        pending = b"".join([set_frame(i) for i in unique])
        pending_count = len(unique)
        result.sets += pending_count
    if pending_count and result.error is None:
        conn.send(pending)
        sets = conn.read(pending_count)
        if sets.count(b"OK") != pending_count:
            result.error = f"SET failed: {next(r for r in sets if r != b'OK')!r}"
    result.seconds = time.perf_counter() - started
    result.window_hit_ratios = [h / g if g else 0.0 for h, g in zip(window_hits, window_gets)]
    return result
