"""The replicated key-value state machine the simulation drives through the Raft log.

Commands are JSON objects in NORMAL entries: ``{"id": op id, "op": "put"|"get"|"cas",
"key", "value", "expected"}``.  The machine remembers every op id it has applied
with its result, so a command that reaches the log twice (a duplicated forwarded
proposal) takes effect once -- the client-session rule of the Raft dissertation
(section 6.3); without it at-least-once delivery would break linearizability.

Snapshots are the JSON of the whole machine (never pickle).  Everything here is
deterministic: the same entries in the same order give byte-identical snapshots.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

Result = str | bool | None


def encode_command(op_id: int, op: str, key: str, value: str | None = None, expected: str | None = None) -> bytes:
    return json.dumps(
        {"id": op_id, "op": op, "key": key, "value": value, "expected": expected}, sort_keys=True
    ).encode()


@dataclass(slots=True)
class KVStateMachine:
    data: dict[str, str] = field(default_factory=dict)
    results: dict[int, Result] = field(default_factory=dict)  # op id -> its result, for dedup

    def apply(self, command: bytes) -> tuple[int, Result]:
        """Apply one command; returns (op id, result).  A repeated op id returns the first result."""
        cmd: dict[str, Any] = json.loads(command)
        op_id: int = cmd["id"]
        if op_id in self.results:
            return op_id, self.results[op_id]
        key: str = cmd["key"]
        result: Result
        if cmd["op"] == "put":
            self.data[key] = cmd["value"]
            result = None
        elif cmd["op"] == "get":
            result = self.data.get(key)
        elif cmd["op"] == "cas":
            result = self.data.get(key) == cmd["expected"]
            if result:
                self.data[key] = cmd["value"]
        else:
            raise ValueError(f"unknown command {cmd!r}")
        self.results[op_id] = result
        return op_id, result

    def state(self) -> tuple[tuple[str, str], ...]:
        """The observable state (for comparing replicas)."""
        return tuple(sorted(self.data.items()))

    def snapshot(self) -> bytes:
        return json.dumps(
            {"data": self.data, "results": {str(k): v for k, v in self.results.items()}}, sort_keys=True
        ).encode()

    @classmethod
    def restore(cls, blob: bytes) -> KVStateMachine:
        if not blob:
            return cls()
        obj = json.loads(blob)
        return cls(dict(obj["data"]), {int(k): v for k, v in obj["results"].items()})
