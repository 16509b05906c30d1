"""Durability: the append-only file (framed, checksummed), snapshots, rewrite and recovery.

Above the engine: it consumes the write-effect stream and replays effects through
the engine when loading.  File I/O lives here and in `server/`, never below.
"""
