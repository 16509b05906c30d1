"""Deterministic simulation of the Raft core, its invariants, and a linearizability checker.

``python -m tests.raft.simulation --seeds N`` runs many seeds; ``--seed S -v`` replays one.
"""
