"""Run simulation seeds from the command line (``make soak SEEDS=n`` calls this).

    .venv/bin/python -m tests.raft.simulation --seed 1234 --nodes 5 -v     # replay one seed, tracing events
    .venv/bin/python -m tests.raft.simulation --seeds 1000 [--start 0] [--nodes 3|5]

Without ``--nodes``, ``--seeds`` alternates 3- and 5-node worlds (even seeds 3, odd 5).
Exit status 1 if any seed failed; each failure prints the command that replays it.
"""

from __future__ import annotations

import argparse
import sys
import time

from .harness import INJECTIONS, SCENARIOS, SimulationFailure, Stats, run_seed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tests.raft.simulation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--seed", type=int, help="run this one seed")
    which.add_argument("--seeds", type=int, help="run this many seeds, from --start")
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--nodes", type=int, choices=(3, 5))
    p.add_argument("--scenario", choices=sorted(SCENARIOS), default="random")
    p.add_argument("--steps", type=int, help="world steps before the quiet period (default: the scenario's)")
    p.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="-v: trace events; -vv: and client ops; -vvv: and every delivered message",
    )
    p.add_argument("--inject", choices=INJECTIONS, default="", help="break the driver on purpose (checks the checks)")
    p.add_argument("--stop", action="store_true", help="stop at the first failing seed")
    args = p.parse_args(argv)

    seeds = [args.seed] if args.seed is not None else list(range(args.start, args.start + args.seeds))
    total = Stats()
    failures: list[str] = []
    t0 = time.perf_counter()
    for seed in seeds:
        nodes = args.nodes if args.nodes is not None else (3 if seed % 2 == 0 else 5)
        try:
            world = run_seed(seed, nodes, args.scenario, args.steps, verbose=args.verbose, inject=args.inject)
        except SimulationFailure as e:
            failures.append(str(e).rsplit("reproduce: ", 1)[-1])
            print(f"seed {seed} ({nodes} nodes) FAILED: {e}", flush=True)
            if args.stop:
                break
            continue
        total.add(world.stats)
        if args.verbose:
            print(
                f"seed {seed}: ok; {len(world.history)} ops, history {world.linearizability.explain() if world.linearizability else ''}"
            )
    elapsed = time.perf_counter() - t0
    ok = len(seeds) - len(failures)
    print(
        f"seeds run: {len(seeds)} ({ok} passed, {len(failures)} failed) in {elapsed:.1f} s\n"
        f"simulated: {total.steps} world steps, {total.client_ops} client ops "
        f"({total.client_completed} completed, {total.client_pending} pending, {total.client_refused} refused), "
        f"{total.delivered} messages stepped, {total.ticks} ticks, {total.readies} Readies, "
        f"{total.committed} entries committed ({total.entries_applied} applies)\n"
        f"faults: {sum(total.crashes.values())} crashes {dict(total.crashes)}, {total.partitions} partitions, "
        f"{total.dropped} messages lost, {total.duplicated} duplicated, {total.snapshots_sent} snapshots sent "
        f"({total.snapshots_applied} installed, {total.compactions} compactions), {total.leaders} leaders elected, "
        f"{total.transfers} transfers, conf changes committed {dict(total.conf_changes)}\n"
        f"invariant checks: {total.checks} ({total.checks / elapsed:,.0f}/s), "
        f"entry-level comparisons: {total.comparisons} ({total.comparisons / elapsed:,.0f}/s), "
        f"linearizability search steps: {total.linearizability_steps}"
    )
    for cmd in failures:
        print(f"FAILED: {cmd}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
