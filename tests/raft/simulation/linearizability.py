"""A linearizability checker for key-value histories (Wing & Gong's search with Lowe's memoization).

A history is a list of operations, each with a logical invoke time, a complete time
(``None`` = pending: the client never learned the outcome, so the operation may or
may not have taken effect) and, for completed ones, the observed output.  The
history is linearizable iff the operations can be put in one sequential order that
(a) respects real time -- if A completed before B was invoked, A comes first --
and (b) is a legal run of the sequential model, every completed operation
returning what was observed.

How the search works (the shape Porcupine uses):

* Single-key operations (get, put, compare-and-set) commute across keys, so the
  history is split into one partition per key and each is checked on its own
  (Herlihy & Wing's locality: the whole is linearizable iff every key is).
* Call and return events of a partition are sorted by time into a doubly linked
  list.  Walking from the head, a call event is a candidate to linearize next; the
  first return event reached marks an operation that must already be linearized,
  so reaching it means backtrack.  Linearizing an operation unlinks its two events
  ("lifts" it); backtracking relinks them, dancing-links style.
* Lowe's memoization: the pair (set of linearized operations as a bitmask, model
  state) fully determines the rest of the search, so a pair seen before is pruned.
* A pending operation has no return event: it may be linearized anywhere after its
  invocation, and once every completed operation is placed the rest can be put at
  the end where nobody observes them ("never took effect").  So the search succeeds
  as soon as all completed operations are linearized.  A pending get carries no
  information and is dropped up front.
* Ties: a call at the same time as a return is treated as concurrent with it
  (calls sort first), which can only make the checker more permissive.
* The search is exponential in the worst case; a deadline (checked every few
  hundred steps) turns "too hard" into the verdict UNKNOWN instead of a hang.

On ILLEGAL the result names the key and explains the failure with the longest
linearizable prefix the search found and the operations that could not follow it.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

OpKind = Literal["get", "put", "cas"]


class Verdict(Enum):
    OK = "ok"
    ILLEGAL = "illegal"
    UNKNOWN = "unknown"  # ran out of time


@dataclass(frozen=True, slots=True)
class Op:
    """One client operation on one key.

    ``value`` is what put writes / what cas writes on success; ``expected`` is cas's
    comparand (``None`` = the key is absent).  ``output`` is what the client saw:
    the value (or ``None``) for get, True/False for cas, ignored for put and for any
    pending op (``complete is None``).
    """

    client: int
    kind: OpKind
    key: str
    invoke: int
    complete: int | None
    value: Hashable = None
    expected: Hashable = None
    output: Hashable = None

    @property
    def pending(self) -> bool:
        return self.complete is None

    def describe(self) -> str:
        if self.kind == "get":
            call = f"get({self.key!r})"
        elif self.kind == "put":
            call = f"put({self.key!r}, {self.value!r})"
        else:
            call = f"cas({self.key!r}, {self.expected!r} -> {self.value!r})"
        if self.pending:
            return f"[{self.invoke}..pending] client {self.client} {call} -> ?"
        out = "ok" if self.kind == "put" else repr(self.output)
        return f"[{self.invoke}..{self.complete}] client {self.client} {call} -> {out}"


def get(client: int, key: str, output: Hashable, invoke: int, complete: int | None) -> Op:
    return Op(client, "get", key, invoke, complete, output=output)


def put(client: int, key: str, value: Hashable, invoke: int, complete: int | None) -> Op:
    return Op(client, "put", key, invoke, complete, value=value)


def cas(client: int, key: str, expected: Hashable, value: Hashable, ok: bool, invoke: int, complete: int | None) -> Op:
    return Op(client, "cas", key, invoke, complete, value=value, expected=expected, output=ok)


def kv_step(state: Hashable, op: Op) -> tuple[bool, Hashable]:
    """The sequential model of one key: its value (``None`` = absent).

    Returns (is this op's observed output legal from ``state``, the state after it).
    A pending op's output is unknown, so any output is legal; the model is
    deterministic, which is what lets memoization treat (set, state) as the whole
    configuration.
    """
    if op.kind == "put":
        return True, op.value
    if op.kind == "get":
        return (op.pending or op.output == state), state
    # cas
    succeeds = state == op.expected
    if not op.pending and bool(op.output) != succeeds:
        return False, state
    return True, (op.value if succeeds else state)


@dataclass(slots=True)
class PartitionResult:
    key: str
    verdict: Verdict
    ops: int
    explanation: str = ""
    steps: int = 0


@dataclass(slots=True)
class CheckResult:
    verdict: Verdict
    partitions: list[PartitionResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.OK

    @property
    def steps(self) -> int:
        return sum(p.steps for p in self.partitions)

    def explain(self) -> str:
        bad = [p for p in self.partitions if p.verdict is not Verdict.OK]
        if not bad:
            return f"linearizable ({len(self.partitions)} keys, {sum(p.ops for p in self.partitions)} ops)"
        return "\n".join(p.explanation for p in bad)


_DEADLINE_EVERY = 256


def check_history(
    history: Iterable[Op],
    timeout: float = 10.0,
    step: Callable[[Hashable, Op], tuple[bool, Hashable]] = kv_step,
    initial: Hashable = None,
) -> CheckResult:
    """Check a whole history, key by key, within ``timeout`` seconds in total."""
    deadline = time.monotonic() + timeout
    by_key: dict[str, list[Op]] = defaultdict(list)
    for op in history:
        if op.complete is not None and op.complete < op.invoke:
            raise ValueError(f"operation completes before it is invoked: {op.describe()}")
        if op.pending and op.kind == "get":
            continue
        by_key[op.key].append(op)
    results: list[PartitionResult] = []
    verdict = Verdict.OK
    for key in sorted(by_key):
        res = check_partition(key, by_key[key], deadline, step, initial)
        results.append(res)
        if res.verdict is Verdict.ILLEGAL:
            verdict = Verdict.ILLEGAL
            break  # one bad key is enough; the report names it
        if res.verdict is Verdict.UNKNOWN:
            verdict = Verdict.UNKNOWN
    return CheckResult(verdict, results)


def check_partition(
    key: str,
    ops: Sequence[Op],
    deadline: float,
    step: Callable[[Hashable, Op], tuple[bool, Hashable]] = kv_step,
    initial: Hashable = None,
) -> PartitionResult:
    """The search for one key (see the module docstring)."""
    n = len(ops)
    # Event nodes: call of op i is node 2i+1, its return 2i+2; node 0 is the head, 2n+1 the tail.
    events: list[tuple[int, int, int]] = []  # (time, 0 = call / 1 = return, node)
    for i, op in enumerate(ops):
        events.append((op.invoke, 0, 2 * i + 1))
        if op.complete is not None:
            events.append((op.complete, 1, 2 * i + 2))
    events.sort()
    size = 2 * n + 2
    tail = size - 1
    nxt = [tail] * size
    prv = [0] * size
    prev_node = 0
    for _, _, node in events:
        nxt[prev_node] = node
        prv[node] = prev_node
        prev_node = node
    nxt[prev_node] = tail
    prv[tail] = prev_node

    completed = [op.complete is not None for op in ops]
    total_completed = remaining = sum(completed)

    def lift(i: int) -> None:
        call = 2 * i + 1
        nxt[prv[call]] = nxt[call]
        prv[nxt[call]] = prv[call]
        if completed[i]:
            ret = call + 1
            nxt[prv[ret]] = nxt[ret]
            prv[nxt[ret]] = prv[ret]

    def unlift(i: int) -> None:
        call = 2 * i + 1
        if completed[i]:
            ret = call + 1
            prv[nxt[ret]] = ret
            nxt[prv[ret]] = ret
        prv[nxt[call]] = call
        nxt[prv[call]] = call

    seen: set[tuple[int, Hashable]] = set()
    stack: list[tuple[int, Hashable]] = []  # (op index, state before it)
    state = initial
    linearized = 0
    best: list[int] = []
    best_completed = -1
    steps = 0
    entry = nxt[0]
    while remaining:
        steps += 1
        if steps % _DEADLINE_EVERY == 0 and time.monotonic() > deadline:
            return PartitionResult(
                key, Verdict.UNKNOWN, n, f"key {key!r}: gave up after {steps} steps ({n} ops)", steps
            )
        if entry & 1:  # a call: try to linearize it here
            i = (entry - 1) >> 1
            legal, new_state = step(state, ops[i])
            if legal:
                new_set = linearized | (1 << i)
                memo = (new_set, new_state)
                if memo not in seen:
                    seen.add(memo)
                    stack.append((i, state))
                    state = new_state
                    linearized = new_set
                    lift(i)
                    if completed[i]:
                        remaining -= 1
                        done = total_completed - remaining
                        if done > best_completed:
                            best_completed = done
                            best = [j for j, _ in stack]
                    entry = nxt[0]
                    continue
            entry = nxt[entry]
        else:  # a return: its op should have been linearized by now -> backtrack
            if not stack:
                return PartitionResult(key, Verdict.ILLEGAL, n, _explain(key, ops, best, step, initial), steps)
            i, state = stack.pop()
            linearized &= ~(1 << i)
            unlift(i)
            if completed[i]:
                remaining += 1
            entry = nxt[2 * i + 1]
    return PartitionResult(key, Verdict.OK, n, "", steps)


def _explain(
    key: str,
    ops: Sequence[Op],
    best: list[int],
    step: Callable[[Hashable, Op], tuple[bool, Hashable]],
    initial: Hashable,
) -> str:
    """Replay the longest linearizable prefix and say what could not follow it."""
    lines = [f"key {key!r} is not linearizable ({len(ops)} ops)."]
    total_completed = sum(1 for op in ops if not op.pending)
    placed = sum(1 for i in best if not ops[i].pending)
    lines.append(f"longest linearizable prefix ({placed} of {total_completed} completed ops):")
    state = initial
    shown = 25  # the end of a long prefix is what explains the failure
    if len(best) > shown:
        lines.append(f"  ... ({len(best) - shown} earlier ops elided)")
    for n, i in enumerate(best, 1):
        _, state = step(state, ops[i])
        if n > len(best) - shown:
            lines.append(f"  {n:3}. {ops[i].describe():70}  => {state!r}")
    placed_set = set(best)
    rest = [i for i in range(len(ops)) if i not in placed_set]
    must = min((c for i in rest if (c := ops[i].complete) is not None), default=None)
    if must is not None:
        candidates = [i for i in rest if ops[i].invoke <= must]
        lines.append(f"from state {state!r}, none of the ops that could go next leads to a full linearization:")
        for i in sorted(candidates, key=lambda j: (ops[j].invoke, j)):
            legal, _ = step(state, ops[i])
            note = "legal here but a dead end later" if legal else "contradicts this state"
            lines.append(f"       {ops[i].describe():70}  ({note})")
    return "\n".join(lines)
