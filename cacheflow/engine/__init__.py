"""Runs commands for client sessions: synchronous, no I/O."""
